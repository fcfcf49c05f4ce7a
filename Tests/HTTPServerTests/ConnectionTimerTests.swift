import Testing
@testable import HTTPServer

@Suite("Connection timer with a fake clock")
struct ConnectionTimerTests {
    static let ms: UInt64 = 1_000_000
    let timeouts = HTTPTimeouts(
        header: .milliseconds(100), body: .milliseconds(200), idle: .milliseconds(300),
        writeStall: .milliseconds(400), linger: .milliseconds(50))

    @Test func headerDeadlineIsTotal() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        #expect(timer.expired(now: 99 * Self.ms) == nil)
        // Bytes of the head keep arriving: the deadline does not move.
        timer.enter(.head, now: 50 * Self.ms)
        timer.enter(.head, now: 90 * Self.ms)
        #expect(timer.expired(now: 100 * Self.ms) == .head)
    }

    @Test func handshakeDeadlineIsTotalAndTheHeadsStartsAfterIt() {
        var tls = timeouts
        tls.tlsHandshake = .milliseconds(500)
        var timer = ConnectionTimer(timeouts: tls, now: 0, phase: .handshake)
        #expect(timer.nextDeadline == 500 * Self.ms)
        timer.enter(.handshake, now: 400 * Self.ms)  // handshake records arriving: no extension
        #expect(timer.expired(now: 499 * Self.ms) == nil)
        #expect(timer.expired(now: 500 * Self.ms) == .handshake)
        // Done at 450 ms: the head gets its full 100 ms from there, not from accept.
        timer.enter(.head, now: 450 * Self.ms)
        #expect(timer.expired(now: 549 * Self.ms) == nil)
        #expect(timer.expired(now: 550 * Self.ms) == .head)
    }

    @Test func bodyDeadlineMovesWithProgress() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        timer.enter(.body, now: 10 * Self.ms)
        timer.bodyProgress(now: 150 * Self.ms)
        #expect(timer.expired(now: 300 * Self.ms) == nil)
        #expect(timer.expired(now: 350 * Self.ms) == .body)
    }

    @Test func handlerPhaseHasNoReadDeadline() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        timer.enter(.handler, now: 10 * Self.ms)
        #expect(timer.nextDeadline == nil)
        #expect(timer.expired(now: 1_000_000 * Self.ms) == nil)
    }

    @Test func idleAfterResponse() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        timer.enter(.handler, now: 10 * Self.ms)
        timer.enter(.idle, now: 20 * Self.ms)
        #expect(timer.expired(now: 319 * Self.ms) == nil)
        #expect(timer.expired(now: 320 * Self.ms) == .idle)
        // The next request's first byte switches to a fresh header deadline.
        timer.enter(.head, now: 310 * Self.ms)
        #expect(timer.expired(now: 320 * Self.ms) == nil)
        #expect(timer.expired(now: 410 * Self.ms) == .head)
    }

    @Test func stalledWriterAndProgress() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        timer.enter(.handler, now: 0)
        timer.outputPending(now: 100 * Self.ms)
        timer.outputPending(now: 300 * Self.ms)  // more queued: not progress
        #expect(timer.expired(now: 499 * Self.ms) == nil)
        #expect(timer.expired(now: 500 * Self.ms) == .writeStall)
        timer.outputProgress(now: 450 * Self.ms)
        #expect(timer.expired(now: 800 * Self.ms) == nil)
        #expect(timer.expired(now: 850 * Self.ms) == .writeStall)
        timer.outputDrained()
        #expect(timer.expired(now: 10_000 * Self.ms) == nil)
    }

    @Test func writeStallReportedBeforeReadDeadline() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        timer.outputPending(now: 0)
        #expect(timer.expired(now: 500 * Self.ms) == .writeStall)
        #expect(timer.nextDeadline == 100 * Self.ms)
    }

    @Test func lingerDeadline() {
        var timer = ConnectionTimer(timeouts: timeouts, now: 0)
        timer.enter(.linger, now: 1_000 * Self.ms)
        #expect(timer.expired(now: 1_049 * Self.ms) == nil)
        #expect(timer.expired(now: 1_050 * Self.ms) == .linger)
    }
}
