import DLCMRuntime
import Foundation
import Testing
@testable import DLCMEngine

/// The engine driven by a scripted model (`FakeModel`): what it feeds the model, step by step,
/// and what each request hears, without a checkpoint's numbers in the way.
@Suite struct FakeModelEngineTests {
    static let bundle = Result { try ModelBundle(directory: fixtureDirectory, threads: 1) }

    func start(_ model: FakeModel, _ configuration: EngineConfiguration = .init()) throws -> Engine {
        let engine = Engine(bundle: try Self.bundle.get(), model: model, configuration: configuration)
        try engine.start()
        return engine
    }

    func request(_ log: EventLog, _ i: Int, prompt: [Int32] = [0, 5, 6, 7], _ p: GenerationParameters,
                 reportConcepts: Bool = false) -> EngineRequest {
        EngineRequest(prompt: prompt, parameters: p, reportConcepts: reportConcepts) { log.add(i, $0) }
    }

    /// The prompt goes in as one chunk, then each chosen token once; the last token (max_tokens)
    /// is sent but never fed. Events come in order: waiting, prompt, tokens, finished.
    @Test func feedsThePromptThenEachChosenToken() throws {
        let model = FakeModel()
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit([request(log, 0, greedy(5))])
        #expect(waitFor { log.finished(0) })
        #expect(log.tokens(0) == [14, 15, 16, 17, 18])   // next(L) = 10 + L after a length L
        let id = try #require(model.passes.withLock { $0.first?.first?.sequence })
        #expect(model.fed(id) == [[0, 5, 6, 7], [14], [15], [16], [17]])
        let kinds = log[0].map { e -> String in
            switch e {
            case .waiting: "waiting"
            case .prompt: "prompt"
            case .token: "token"
            case .finished(let r, _, _): "finished \(r)"
            case .failed: "failed"
            }
        }.filter { $0 != "waiting" }
        #expect(kinds == ["prompt"] + Array(repeating: "token", count: 5) + ["finished length"])
    }

    /// A prompt longer than the chunk is read a chunk per step, and a sequence that is decoding
    /// keeps its token in every one of those steps.
    @Test func longPromptsAreReadInChunksBesideDecodes() throws {
        let model = FakeModel()
        let engine = try start(model, .init(prefillChunk: 4, minimumStepSeconds: 0.002))
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit([request(log, 0, greedy(40))])
        #expect(waitFor { log.tokens(0).count >= 2 })
        try engine.submit([request(log, 1, prompt: Array(0..<10), greedy(2))])
        #expect(waitFor { log.finished(0) && log.finished(1) })
        let passes = model.passes.withLock { $0 }
        let long = try #require(passes.flatMap { $0 }.first { $0.tokens == [0, 1, 2, 3] }).sequence
        #expect(Array(model.fed(long).prefix(3)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        // Every pass that read a chunk of it also fed the first sequence a token.
        let first = passes[0][0].sequence
        for pass in passes where pass.contains(where: { $0.sequence == long && $0.tokens.count > 1 }) {
            #expect(pass.contains { $0.sequence == first && $0.tokens.count == 1 })
        }
    }

    /// n sequences of one prompt: the prompt is read once, then each continues on its own copy.
    @Test func samplesOfOnePromptReadItOnce() throws {
        let model = FakeModel()
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit((0..<3).map { request(log, $0, greedy(4)) })
        #expect(waitFor { (0..<3).allSatisfy { log.finished($0) } })
        let passes = model.passes.withLock { $0 }
        #expect(passes.flatMap { $0 }.filter { $0.tokens == [0, 5, 6, 7] }.count == 1)
        #expect(Set(passes.flatMap { $0.map(\.sequence) }).count == 3)
        for i in 0..<3 { #expect(log.tokens(i) == [14, 15, 16, 17]) }
    }

    /// The end-of-text token ends a sequence with `stop`; it is sent, never fed.
    @Test func endOfTextStops() throws {
        let model = FakeModel(next: { $0 == 6 ? 0 : Int32(10 + $0) })
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit([request(log, 0, greedy(50))])
        #expect(waitFor { log.finished(0) })
        #expect(log.tokens(0) == [14, 15, 0])
        guard case .finished(let reason, _, let stats)? = log[0].last else { Issue.record("no end"); return }
        #expect(reason == .stop)
        #expect(stats.completionTokens == 3)
        #expect(model.passes.withLock { $0.count } == 3)   // the prompt, 14, 15
    }

    /// With `reportConcepts` each token is held until the pass that feeds it says whether it
    /// started a concept; the last one too.
    @Test func heldTokensCarryTheirBoundary() throws {
        let model = FakeModel(boundary: { $0 % 3 == 0 })
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit([request(log, 0, greedy(5), reportConcepts: true)])
        #expect(waitFor { log.finished(0) })
        let started = log[0].compactMap { e -> Bool?? in if case .token(let t) = e { return t.startedConcept }; return nil }
        // Token k is fed at position 4 + k.
        #expect(started == (0..<5).map { Optional((4 + $0) % 3 == 0) })
        guard case .finished(_, _, let stats)? = log[0].last else { Issue.record("no end"); return }
        #expect(stats.completionConcepts == (0..<5).filter { (4 + $0) % 3 == 0 }.count)
    }

    /// A pass that throws fails the sequences in it, with the error's text; the engine goes on.
    @Test func aFailedPassFailsItsSequencesOnly() throws {
        let model = FakeModel(failPass: 2)
        let engine = try start(model)
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit([request(log, 0, greedy(5))])
        #expect(waitFor { log.finished(0) })
        guard case .failed(let message)? = log[0].last else { Issue.record("not failed: \(log[0])"); return }
        #expect(message.contains("fake model failed"))
        try engine.submit([request(log, 1, greedy(3))])
        #expect(waitFor { log.finished(1) })
        #expect(log.tokens(1) == [14, 15, 16])
        #expect(engine.metrics.snapshot.running == 0)
    }

    /// A cancelled sequence ends with `cancelled` at the next step and is never fed again.
    @Test func cancelledSequencesLeaveTheBatch() throws {
        let model = FakeModel()
        let engine = try start(model, .init(minimumStepSeconds: 0.002))
        defer { engine.stop() }
        let log = EventLog()
        var p = greedy(400)
        p.ignoreEOS = true
        let r = request(log, 0, p)
        try engine.submit([r])
        #expect(waitFor { log.tokens(0).count >= 3 })
        r.cancel()
        #expect(waitFor { log.finished(0) })
        guard case .finished(let reason, _, _)? = log[0].last else { Issue.record("no end"); return }
        #expect(reason == .cancelled)
        let passes = model.passes.withLock { $0.count }
        usleep(20_000)
        #expect(model.passes.withLock { $0.count } == passes)   // nothing else runs
        #expect(log.tokens(0).count < 400)
    }

    /// At most maxRunning sequences in any pass; the ones behind wait and then run.
    @Test func theBatchNeverPassesMaxRunning() throws {
        let model = FakeModel()
        let engine = try start(model, .init(maxRunning: 2))
        defer { engine.stop() }
        let log = EventLog()
        try engine.submit((0..<5).map { request(log, $0, prompt: [0, Int32(20 + $0)], greedy(3)) })
        #expect(waitFor { (0..<5).allSatisfy { log.finished($0) } })
        #expect(model.passes.withLock { $0 }.allSatisfy { $0.count <= 2 })
        for i in 0..<5 { #expect(log.tokens(i) == [12, 13, 14]) }
    }
}
