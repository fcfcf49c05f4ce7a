import DLCMRuntime
import HTTPServer
import MonotonicTime
import StrictJSON

/// Server-sent events over a chunked response: `data: {json}\n\n` events, `: keep-alive`
/// comments while nothing else goes out, `data: [DONE]` at the end. The head is sent with the
/// first event, so an error known before then still gets its own status. Used from the engine
/// thread only.
///
/// With a `StreamClock`, events after the first are held until the clock enters a new tick
/// (checked at each event and each engine report, so at most one engine step late); the end and
/// errors flush at once. Each write costs a hand-off to the event loop and a loopback send (about
/// 8 us of CPU on each side on a 2-vCPU AMD EPYC (Zen 4), mostly waking threads): when tokens
/// come faster than the ticks, a stream makes one write per tick instead of one per token. The
/// ticks are the same for every stream, so all streams of a batch flush in the same engine step:
/// the loop and the client wake once for all of them. Tokens slower than the ticks (any model
/// that needs more than a few ms a step) leave one by one.
final class SSEWriter {
    private let exchange: Exchange
    private let keepAliveNanos: UInt64
    private let clock: StreamClock?
    private var lastWrite = monotonicNanoseconds()
    /// Events rendered and not written yet (only with a flush interval).
    private var held: [UInt8] = []
    private(set) var started = false
    private var done = false

    static let headers: HTTPHeaders = [
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    ]

    /// - Parameters:
    ///   - keepAliveSeconds: silence before a `: keep-alive` comment.
    ///   - clock: the ticks held events leave on (nil: every event is written at once); the
    ///     stream counts as open on it until it ends.
    init(exchange: Exchange, keepAliveSeconds: Double, clock: StreamClock? = nil) {
        self.exchange = exchange
        keepAliveNanos = UInt64(max(keepAliveSeconds, 0.001) * 1e9)
        self.clock = clock
        clock?.streamOpened()
    }

    deinit { close() }

    /// No more writes; the stream stops counting on the clock (once).
    private func close() {
        guard !done else { return }
        done = true
        clock?.streamClosed()
    }

    func event(_ json: JSON) { send(sseEvent(json)) }

    /// Called whenever the engine reports progress without output: writes held events that are
    /// due, or a keep-alive comment after a long silence.
    func keepAliveIfDue() {
        let now = monotonicNanoseconds()
        if !held.isEmpty {
            if flushDue(now) { flush(now: now) }
        } else if now - lastWrite >= keepAliveNanos {
            send(Array(": keep-alive\n\n".utf8))
        }
    }

    /// An error: its own response if nothing was sent yet, else an error event; then the end.
    func fail(_ error: APIError) {
        exchange.note { $0.error = error.message }
        guard started else {
            close()
            exchange.respond(error)
            return
        }
        event(error.object)
        finish()
    }

    func finish() {
        guard !done else { return }
        held += "data: [DONE]\n\n".utf8
        flush(now: monotonicNanoseconds())
        close()
        exchange.finishStream()
    }

    /// One event, already rendered (`data: ...\n\n`).
    func send(_ bytes: [UInt8]) {
        guard !done else { return }
        let now = monotonicNanoseconds()
        if !started {
            started = true
            exchange.startStream(headers: Self.headers)
        } else if !flushDue(now) {
            held += bytes
            return
        }
        if held.isEmpty {
            exchange.write(bytes)
            lastWrite = now
        } else {
            held += bytes
            flush(now: now)
        }
    }

    /// Writes held events now (the first token of a stream whose echo went first).
    func flushHeld() { flush(now: monotonicNanoseconds()) }

    /// True once the clock has left the tick of the last write (always without a clock).
    private func flushDue(_ now: UInt64) -> Bool {
        clock?.isNewTick(now, since: lastWrite) ?? true
    }

    private func flush(now: UInt64) {
        guard !held.isEmpty else { return }
        exchange.write(held)
        held.removeAll(keepingCapacity: true)
        lastWrite = now
    }
}
