import Locking
import DLCMEngine
import DLCMRuntime
import Foundation
import MonotonicTime
import StrictJSON

/// One generation request (/v1/completions or /v1/chat/completions) across its choices: what the
/// engine reports, collected or streamed. How the answer looks is its renderer's business (one per
/// response shape); this holds the lifecycle both share. Engine events arrive on the engine thread
/// only; the HTTP loop only calls `cancel`. Answers once all choices have finished, or streams.
final class GenerationJob: @unchecked Sendable {
    struct Choice {
        var text = ""
        var tokens: [Int32] = []
        var logprobs: [TokenLogprobs?] = []
        var conceptStarts: [Bool?] = []
        var prompt: PromptResult?
        var stats: GenerationStats?
        var finish: FinishReason?
        var error: String?
    }

    let server: APIServer
    let exchange: Exchange
    let fields: GenerationFields
    let renderer: any ResponseRenderer
    /// Prompt tokens per prompt (without BOS): choice i reads prompt i / n.
    let promptTokens: [Int]
    private(set) var choices: [Choice]
    private var remaining: Int
    private let sse: SSEWriter?
    private var sawToken = false
    /// A token event has been written (the first is never held; see SSEWriter).
    private var shownToken = false
    /// The engine requests, kept for cancelling; emptied at the end (they point back at the job).
    private let requests = Locked<[EngineRequest]>([])

    /// - Parameter prompts: each prompt's text (for the log when prompts are logged) and tokens.
    init(server: APIServer, exchange: Exchange, fields: GenerationFields, renderer: any ResponseRenderer,
         prompts: [(text: String, tokens: [Int32])]) {
        self.server = server
        self.exchange = exchange
        self.fields = fields
        self.renderer = renderer
        promptTokens = prompts.map(\.tokens.count)
        choices = Array(repeating: Choice(), count: prompts.count * fields.n)
        remaining = choices.count
        sse = fields.stream ? SSEWriter(exchange: exchange, keepAliveSeconds: server.configuration.keepAliveInterval,
                                         clock: server.streamClock) : nil
        let logPrompts = server.configuration.logPrompts
        exchange.note { log in
            log.promptTokens = prompts.reduce(0) { $0 + $1.tokens.count }
            if logPrompts { log.prompts = prompts.map(\.text) }
        }
    }

    /// Hands every (prompt, choice) sequence to the engine: prompts are model documents (BOS
    /// first). Throws the API error for a full queue or a draining engine. `cacheAnswer`: keep the
    /// answer for a next turn whose prompt repeats it (`EngineRequest.cacheAnswer`; one prompt,
    /// n 1).
    func submit(documents: [[Int32]], promptLogprobs: Int?, cacheAnswer: Bool = false) throws {
        let timeout = min(server.configuration.requestTimeout, fields.timeout ?? .infinity)
        let deadline = monotonicNanoseconds() + UInt64(timeout * 1e9)
        let scope = fields.cacheScope(authorization: exchange.request.headers["Authorization"], server: server)
        var engineRequests: [EngineRequest] = []
        for (p, document) in documents.enumerated() {
            for c in 0..<fields.n {
                var parameters = fields.generation
                // The n choices of one prompt are independent samples: seed, seed+1, ...
                if let seed = parameters.sampling.seed { parameters.sampling.seed = seed &+ UInt64(c) }
                let index = p * fields.n + c
                engineRequests.append(EngineRequest(
                    prompt: document, parameters: parameters, promptLogprobs: promptLogprobs,
                    reportConcepts: fields.concepts, deadline: deadline, cacheScope: scope,
                    cacheAnswer: cacheAnswer && fields.n == 1) { [self] event in handle(event, choice: index) })
            }
        }
        setRequests(engineRequests)
        do {
            try server.engine.submit(engineRequests)
        } catch EngineError.queueFull {
            setRequests([])
            throw APIError.queueFull
        } catch EngineError.stopped {
            setRequests([])
            throw APIError.draining
        } catch {
            setRequests([])
            throw APIError.internalError("\(error)")
        }
        exchange.onCancel { [self] in cancel() }
    }

    func setRequests(_ r: [EngineRequest]) { requests.withLock { $0 = r } }
    func cancel() { for r in requests.withLock({ $0 }) { r.cancel() } }

    func handle(_ event: EngineEvent, choice i: Int) {
        switch event {
        case .waiting:
            sse?.keepAliveIfDue()
        case .prompt(let p):
            choices[i].prompt = p
            if let sse { for e in renderer.promptEvents(choice: i, result: p) { sse.event(e) } }
        case .token(let t):
            if !sawToken {
                sawToken = true
                let now = monotonicNanoseconds()
                exchange.note { $0.firstTokenNanos = now }
            }
            choices[i].tokens.append(t.token.token)
            guard let sse else {
                // The whole answer is built at the end; a stream sends each token as it comes.
                choices[i].text += t.token.text
                choices[i].logprobs.append(t.token.logprobs)
                choices[i].conceptStarts.append(t.startedConcept)
                return
            }
            guard let bytes = renderer.tokenEvent(choice: i, token: t) else {
                // Nothing to show yet (half a character, a possible stop string): still alive.
                sse.keepAliveIfDue()
                return
            }
            sse.send(bytes)
            if !shownToken {
                // The first token leaves at once even when an event went before it (echo, role).
                shownToken = true
                sse.flushHeld()
            }
        case .finished(let reason, let text, let stats):
            choices[i].text += text
            choices[i].finish = reason
            choices[i].stats = stats
            sse?.event(renderer.finishEvent(choice: i, text: text, reason: reason, stats: stats))
            choiceDone()
        case .failed(let message):
            choices[i].error = message
            choiceDone()
        }
    }

    /// OpenAI's usage object: prompt tokens counted once per prompt, completion tokens per choice,
    /// and of the prompt tokens those resumed from the prefix cache.
    var usage: JSON {
        let prompt = promptTokens.reduce(0, +)
        let completion = choices.reduce(0) { $0 + ($1.stats?.completionTokens ?? $1.tokens.count) }
        return .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)), ("total_tokens", .int(prompt + completion)),
                        ("prompt_tokens_details", .object([("cached_tokens", .int(cachedTokens))]))])
    }

    /// Prompt tokens resumed from the prefix cache, once per prompt (its first choice reads it
    /// for all n). The engine's count includes the BOS the model reads first, which
    /// `prompt_tokens` leaves out.
    var cachedTokens: Int {
        stride(from: 0, to: choices.count, by: fields.n).reduce(0) { $0 + max(0, (choices[$1].stats?.cachedTokens ?? 0) - 1) }
    }

    private func choiceDone() {
        remaining -= 1
        guard remaining == 0 else { return }
        setRequests([])
        noteOutcome()
        if let failure = choices.compactMap(\.error).first {
            let error = APIError.internalError("generation failed: \(failure)")
            if let sse { sse.fail(error) } else { exchange.respond(error) }
            return
        }
        if let sse {
            if fields.includeUsage { sse.event(renderer.usageEvent(usage)) }
            sse.finish()
        } else {
            exchange.respond(renderer.response(choices, usage: usage))
        }
    }

    /// Tokens generated and why the choices ended ("stop", or "length,stop" when they differ).
    private func noteOutcome() {
        let completion = choices.reduce(0) { $0 + ($1.stats?.completionTokens ?? $1.tokens.count) }
        var reasons: [String] = []
        for c in choices { if let r = c.finish?.rawValue, !reasons.contains(r) { reasons.append(r) } }
        let cached = cachedTokens
        exchange.note { log in
            log.completionTokens = completion
            log.cachedTokens = cached
            log.finishReason = reasons.isEmpty ? nil : reasons.sorted().joined(separator: ",")
        }
    }
}

/// How one endpoint's answer looks: its stream chunks and its final object. Called on the engine
/// thread, in the order of the job's events.
protocol ResponseRenderer: AnyObject {
    /// Stream events once choice `i`'s prompt has been read (an echo, a role chunk); may be none.
    func promptEvents(choice i: Int, result: PromptResult) -> [JSON]
    /// A streamed token's `data: ...\n\n` event; nil when it has nothing to show (no text yet
    /// and no per-token fields asked for).
    func tokenEvent(choice i: Int, token: EmittedToken) -> [UInt8]?
    /// The last stream event of choice `i`: text still held back and why it ended.
    func finishEvent(choice i: Int, text: String, reason: FinishReason, stats: GenerationStats) -> JSON
    /// The stream's usage chunk (stream_options.include_usage).
    func usageEvent(_ usage: JSON) -> JSON
    /// The whole answer, when not streamed.
    func response(_ choices: [GenerationJob.Choice], usage: JSON) -> JSON
}

/// What every object and stream chunk of one response starts with: its id (the prefix and 128
/// random bits, as OpenAI's look; from getrandom(2), where Foundation's UUID opened /dev/urandom
/// on every request), object type, creation time and model.
struct ResponseEnvelope {
    let id: String
    /// The stream chunks' object type.
    let chunkObject: String
    let created = Int(Date().timeIntervalSince1970)
    let model: String
    /// Chunks carry `"usage": null` until the last (stream_options.include_usage).
    let includeUsage: Bool

    init(idPrefix: String, chunkObject: String, model: String, includeUsage: Bool) {
        id = idPrefix + RequestID.hex(.random(in: .min ... .max)) + RequestID.hex(.random(in: .min ... .max))
        self.chunkObject = chunkObject
        self.model = model
        self.includeUsage = includeUsage
    }

    func fields(_ choices: [JSON], object: String? = nil) -> [(String, JSON)] {
        [("id", .string(id)), ("object", .string(object ?? chunkObject)), ("created", .int(created)),
         ("model", .string(model)), ("choices", .array(choices))]
    }

    func chunk(_ choices: [JSON]) -> JSON {
        var c = fields(choices)
        if includeUsage { c.append(("usage", .null)) }
        return .object(c)
    }

    /// The last chunk of a stream that asked for usage: no choices.
    func usageChunk(_ usage: JSON) -> JSON { .object(fields([]) + [("usage", usage)]) }

    /// A whole answer.
    func response(_ choices: [JSON], object: String, usage: JSON) -> JSON { .object(fields(choices, object: object) + [("usage", usage)]) }
}

/// `data: {json}\n\n`.
func sseEvent(_ json: JSON) -> [UInt8] {
    var bytes = Array("data: ".utf8)
    json.write(to: &bytes)
    bytes += "\n\n".utf8
    return bytes
}

/// The common token event of a stream (no logprobs, no concept fields), made by splicing the
/// token's text into bytes rendered once per choice: a fifth of the cost of rendering the chunk's
/// JSON tree, paid on the engine thread for every streamed token. The template is the choice's
/// chunk with `"key":""` as the last such string (only constant fields may follow it).
struct SplicedTokenEvents {
    let key: String
    /// Per choice, the event's bytes before and after the string's JSON text.
    private var parts: [Int: (head: [UInt8], tail: [UInt8])] = [:]

    init(key: String) { self.key = key }

    mutating func event(choice i: Int, text: String, template: () -> [UInt8]) -> [UInt8] {
        let p: (head: [UInt8], tail: [UInt8])
        if let cached = parts[i] {
            p = cached
        } else {
            let whole = template()
            let marker = Array("\"\(key)\":\"\"".utf8)
            let at = (0...(whole.count - marker.count)).last { whole[$0..<($0 + marker.count)].elementsEqual(marker) }!
            p = (Array(whole[..<(at + marker.count - 2)]), Array(whole[(at + marker.count)...]))
            parts[i] = p
        }
        var bytes = p.head
        bytes.reserveCapacity(p.head.count + text.utf8.count + 8 + p.tail.count)
        JSON.writeString(text, to: &bytes)
        bytes += p.tail
        return bytes
    }
}
