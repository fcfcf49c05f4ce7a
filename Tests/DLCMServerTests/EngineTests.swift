@testable import DLCMEngine
import DLCMRuntime
import Foundation
import Testing

/// The engine without HTTP.
@Suite struct EngineTests {
    /// Out of work, the engine thread polls for new requests for `idleSpinSeconds`, then sleeps:
    /// an idle engine costs no CPU, with or without the spin.
    @Test(arguments: [0.0, 0.002])
    func idleEngineSleeps(spin: Double) throws {
        let bundle = try ModelBundle(directory: fixtureDirectory, threads: 1)
        let engine = Engine(bundle: bundle, configuration: .init(idleSpinSeconds: spin))
        try engine.start()
        defer { engine.stop() }
        // One request, so that the engine has run and gone idle since.
        let done = EngineTestBox()
        var p = GenerationParameters()
        p.maxTokens = 3
        try engine.submit([EngineRequest(prompt: [0, 1, 2], parameters: p) { if case .finished = $0 { done.done() } }])
        #expect(engineWait { done.finishedCount >= 1 })
        let thread = try #require(engine.computeThreads.first)
        func cpuSeconds() -> Double {
            var clock = clockid_t()
            pthread_getcpuclockid(thread, &clock)
            var t = timespec()
            clock_gettime(clock, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        usleep(20_000)
        let before = cpuSeconds()
        usleep(300_000)
        // Asleep: a 100 ms heartbeat wake-up or three cost well under 50 ms (about 1 ms each
        // under a loaded test run; only the turn after a step spins for work).
        #expect(cpuSeconds() - before < 0.05)
        // And a request after the idle time is still served.
        try engine.submit([EngineRequest(prompt: [0, 1, 2], parameters: p) { if case .finished = $0 { done.done() } }])
        let deadline = Date().addingTimeInterval(10)
        while done.finishedCount < 2 && Date() < deadline { usleep(1000) }
        #expect(done.finishedCount == 2)
    }

    /// Sampled (T = 0.8) sequences submitted at once, so that prefills and decodes share steps,
    /// produce the tokens each produces alone. (The schedule is deterministic here, unlike over
    /// sockets, where arrival order changes batch shapes; see BatchInvarianceTests.)
    @Test func sampledSequencesTogetherMatchSoloRuns() throws {
        let bundle = try ModelBundle(directory: fixtureDirectory, threads: 1)
        let engine = Engine(bundle: bundle)
        try engine.start()
        defer { engine.stop() }
        let texts = ["Hello", "The engine", "One, two, three", "def greet(name):", "café", "It was a bright"]
        func run(_ idx: [Int], temp: Float) throws -> [Int: [Int32]] {
            let out = EngineTestBox()
            var reqs: [EngineRequest] = []
            for i in idx {
                var p = GenerationParameters()
                p.maxTokens = 40; p.ignoreEOS = true; p.sampling.temperature = temp; p.sampling.seed = UInt64(100 + i)
                reqs.append(EngineRequest(prompt: [0] + bundle.tokenizer.encode(texts[i], parseSpecial: false), parameters: p) { e in
                    if case .token(let t) = e { out.add(i, t.token.token) }
                    if case .finished = e { out.done() }
                })
            }
            try engine.submit(reqs)
            #expect(engineWait(seconds: 60) { out.finishedCount >= idx.count })
            return out.snapshot
        }
        var solo: [Int: [Int32]] = [:]
        for i in 0..<6 { solo[i] = try run([i], temp: 0.8)[i] }
        let together = try run(Array(0..<6), temp: 0.8)
        for i in 0..<6 {
            #expect(solo[i]?.count == 40)
            #expect(together[i] == solo[i], "sequence \(i)")
        }
        #expect(engine.metrics.snapshot.batchSize.counts.dropFirst(3).reduce(0, +) > 0)   // batches of 5+ happened
    }

    /// With two compute threads and 16 sequences the batch is split into parts and each step's
    /// token events are handed out while the next pass runs (`Engine.deferEvent`): every
    /// sequence still hears all its tokens, in order, and its end last, whether it ran to
    /// max_tokens or was cancelled with tokens still held.
    @Test func heldTokenEventsAllArriveBeforeTheEnd() throws {
        let bundle = try ModelBundle(directory: fixtureDirectory, threads: 2)
        let engine = Engine(bundle: bundle)
        try engine.start()
        defer { engine.stop() }
        let log = EventLog()
        var requests: [EngineRequest] = []
        for i in 0..<17 {
            var p = GenerationParameters()
            p.maxTokens = i == 16 ? 1000 : 24 + i; p.ignoreEOS = true; p.sampling.temperature = 0
            requests.append(EngineRequest(prompt: [0] + bundle.tokenizer.encode("Sequence \(i) says", parseSpecial: false), parameters: p) { e in
                switch e {
                case .token: log.add(i, "t")
                case .finished(let reason, _, _): log.add(i, reason == .cancelled ? "cancelled" : "finished")
                case .failed: log.add(i, "failed")
                default: break
                }
            })
        }
        try engine.submit(requests)
        // The long one is cancelled once the others are under way.
        let deadline = Date().addingTimeInterval(60)
        while (log.snapshot[16] ?? []).count < 10 && Date() < deadline { usleep(1000) }
        requests[16].cancel()
        while log.snapshot.values.filter({ ["finished", "cancelled"].contains($0.last) }).count < 17 && Date() < deadline { usleep(1000) }
        let seen = log.snapshot
        for i in 0..<16 {
            #expect(seen[i] == Array(repeating: "t", count: 24 + i) + ["finished"], "sequence \(i): \(seen[i] ?? [])")
        }
        let long = seen[16] ?? []
        #expect(long.last == "cancelled" && long.dropLast().allSatisfy { $0 == "t" } && long.count > 10, "\(long)")
        #expect(engine.metrics.snapshot.batchSize.counts.dropFirst(4).reduce(0, +) > 0)   // batches of 9+ happened
    }

    /// Prompts waiting together are read in the same step, up to prefillChunk tokens in all, each
    /// in whole cells of the prefill grid; and each gets the tokens it gets when read alone.
    @Test func waitingPromptsShareAStepUpToTheBudget() throws {
        let bundle = try ModelBundle(directory: fixtureDirectory, threads: 1)
        let texts = ["Hello", "The engine", "One, two, three", "def greet(name):", "café", "It was a bright"]
        let prompts = texts.map { [0] + bundle.tokenizer.encode($0, parseSpecial: false) }
        let total = prompts.reduce(0) { $0 + $1.count }
        func run(chunk: Int, _ idx: [Int]) throws -> (steps: UInt64, tokens: [Int: [Int32]]) {
            let engine = Engine(bundle: bundle, configuration: EngineConfiguration(prefillChunk: chunk))
            let out = EngineTestBox()
            var reqs: [EngineRequest] = []
            for i in idx {
                var p = GenerationParameters()
                p.maxTokens = 1; p.sampling.temperature = 0.8; p.sampling.seed = UInt64(7 + i)
                reqs.append(EngineRequest(prompt: prompts[i], parameters: p) { e in
                    if case .token(let t) = e { out.add(i, t.token.token) }
                    if case .finished = e { out.done() }
                })
            }
            // Queued before the engine starts: its first step sees them all waiting.
            for r in reqs { try engine.submit([r]) }
            try engine.start()
            defer { engine.stop() }
            #expect(engineWait(seconds: 60) { out.finishedCount >= idx.count })
            return (engine.metrics.snapshot.steps, out.snapshot)
        }
        let all = Array(0..<texts.count)
        let together = try run(chunk: 128, all)
        #expect(together.steps == 1)
        let budgeted = try run(chunk: 8, all)
        // Read in whole cells of 8, as many as fit each step's budget of 8: at least total / 8
        // steps, at most one per cell.
        let cells = prompts.reduce(0) { $0 + ($1.count + 7) / 8 }
        #expect(budgeted.steps >= UInt64((total + 7) / 8) && budgeted.steps <= UInt64(cells))
        for i in all {
            let solo = try run(chunk: 128, [i]).tokens[i]
            #expect(solo?.count == 1)
            #expect(together.tokens[i] == solo, "prompt \(i)")
            #expect(budgeted.tokens[i] == solo, "prompt \(i), read in pieces")
        }
    }
}

/// Admission with a model (the rules alone: `StepPlanTests` in DLCMEngineTests).
@Suite struct AdmissionTests {
    /// n = 4 groups submitted together never run more sequences than maxRunning, before or
    /// after their prompts fork (every token event, on the engine thread, counts the batch).
    @Test func forkedGroupsStayWithinMaxRunning() throws {
        let bundle = try ModelBundle(directory: fixtureDirectory, threads: 1)
        // Prompts read 4 tokens a step, so that later groups arrive while earlier leaders still read.
        let engine = Engine(bundle: bundle, configuration: .init(maxRunning: 8, prefillChunk: 4))
        let box = EngineTestBox()
        let peak = NSLock()
        nonisolated(unsafe) var most = 0
        var p = GenerationParameters()
        p.maxTokens = 40   // long enough that a group still decodes when the next one forks
        p.ignoreEOS = true
        for g in 0..<5 {
            let prompt = [Int32(0)] + bundle.tokenizer.encode("Group \(g) has a prompt of a few words", parseSpecial: false)
            try engine.submit((0..<4).map { _ in
                EngineRequest(prompt: prompt, parameters: p) { e in
                    switch e {
                    case .token: peak.withLock { most = max(most, engine.running.count) }   // on the engine thread
                    case .finished: box.done()
                    default: break
                    }
                }
            })
        }
        // All five wait before the first step.
        try engine.start()
        defer { engine.stop() }
        let deadline = Date().addingTimeInterval(20)
        while box.finishedCount < 20 && Date() < deadline { usleep(1000) }
        #expect(box.finishedCount == 20)
        #expect(peak.withLock { most } > 0)
        #expect(peak.withLock { most } <= 8, "peak \(peak.withLock { most })")
    }
}

/// Polls `condition` every millisecond until it holds or `seconds` pass; whether it held (no wait
/// in the tests goes without a deadline).
@discardableResult
func engineWait(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        usleep(1000)
    }
    return true
}

/// Events per sequence, as names, from the engine thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [Int: [String]] = [:]
    func add(_ i: Int, _ name: String) { lock.withLock { events[i, default: []].append(name) } }
    var snapshot: [Int: [String]] { lock.withLock { events } }
}

final class EngineTestBox: @unchecked Sendable {
    let lock = NSLock()
    var tokens: [Int: [Int32]] = [:]
    var finished = 0
    func add(_ i: Int, _ t: Int32) { lock.lock(); tokens[i, default: []].append(t); lock.unlock() }
    func done() { lock.lock(); finished += 1; lock.unlock() }
    var finishedCount: Int { lock.withLock { finished } }
    var snapshot: [Int: [Int32]] { lock.withLock { tokens } }
}
