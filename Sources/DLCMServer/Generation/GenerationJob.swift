import Locking
import DLCMEngine
import DLCMRuntime
import Foundation
import MonotonicTime
import StrictJSON

/// One /v1/completions request across its choices. Engine events arrive on the engine thread
/// only; the HTTP loop only calls `cancel`. Answers once all choices have finished, or streams.
final class CompletionJob: @unchecked Sendable {
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
    let request: CompletionRequest
    /// 128 random bits, as OpenAI's ids look (from getrandom(2); Foundation's UUID opened
    /// /dev/urandom on every request).
    let id = "cmpl-" + RequestID.hex(.random(in: .min ... .max)) + RequestID.hex(.random(in: .min ... .max))
    let created = Int(Date().timeIntervalSince1970)
    private(set) var choices: [Choice]
    private var remaining: Int
    private let sse: SSEWriter?
    private var sawToken = false
    /// A token event has been written (the first is never held; see SSEWriter).
    private var shownToken = false
    /// Per choice, the bytes of a plain token event before and after its JSON text string
    /// (rendered once from the generic chunk, so both forms stay identical).
    private var plainEventParts: [Int: (head: [UInt8], tail: [UInt8])] = [:]
    /// The engine requests, kept for cancelling; emptied at the end (they point back at the job).
    private let requests = Locked<[EngineRequest]>([])

    init(server: APIServer, exchange: Exchange, request: CompletionRequest) {
        self.server = server
        self.exchange = exchange
        self.request = request
        choices = Array(repeating: Choice(), count: request.prompts.count * request.n)
        remaining = choices.count
        sse = request.stream ? SSEWriter(exchange: exchange, keepAliveSeconds: server.configuration.keepAliveInterval,
                                          clock: server.streamClock) : nil
        let logPrompts = server.configuration.logPrompts
        exchange.note { log in
            log.promptTokens = request.prompts.reduce(0) { $0 + $1.tokens.count }
            if logPrompts { log.prompts = request.prompts.map(\.text) }
        }
    }

    /// `data: {chunk}\n\n` of a token without logprobs or concept fields, built by splicing the
    /// text into bytes rendered once: a fifth of the cost of rendering the chunk's JSON tree,
    /// paid on the engine thread for every streamed token.
    private func plainTokenEvent(choice i: Int, text: String) -> [UInt8] {
        let parts: (head: [UInt8], tail: [UInt8])
        if let cached = plainEventParts[i] {
            parts = cached
        } else {
            var whole = Array("data: ".utf8)
            chunk([choiceJSON(i, text: "", logprobs: .null, finish: nil, extra: nil)]).write(to: &whole)
            whole += "\n\n".utf8
            // The choice's empty text is the last `"text":""`: only constant fields follow it.
            let marker = Array("\"text\":\"\"".utf8)
            let at = (0...(whole.count - marker.count)).last { whole[$0..<($0 + marker.count)].elementsEqual(marker) }!
            parts = (Array(whole[..<(at + 7)]), Array(whole[(at + marker.count)...]))
            plainEventParts[i] = parts
        }
        var bytes = parts.head
        bytes.reserveCapacity(parts.head.count + text.utf8.count + 8 + parts.tail.count)
        JSON.writeString(text, to: &bytes)
        bytes += parts.tail
        return bytes
    }

    func setRequests(_ r: [EngineRequest]) { requests.withLock { $0 = r } }
    func cancel() { for r in requests.withLock({ $0 }) { r.cancel() } }

    func handle(_ event: EngineEvent, choice i: Int) {
        switch event {
        case .waiting:
            sse?.keepAliveIfDue()
        case .prompt(let p):
            choices[i].prompt = p
            if let sse, request.echo {
                let prompt = request.prompts[i / request.n]
                let lp = request.logprobs != nil ? logprobsJSON(prompt.tokens, Array(p.logprobs.dropFirst())) : JSON.null
                sse.event(chunk([choiceJSON(i, text: prompt.text, logprobs: lp, finish: nil, extra: nil)]))
            }
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
            if t.token.text.isEmpty && request.logprobs == nil && !request.concepts {
                // Nothing to show yet (half a character, a possible stop string): still alive.
                sse.keepAliveIfDue()
                return
            }
            if request.logprobs == nil && !request.concepts {
                // The common chunk: only its text changes from token to token.
                sse.send(plainTokenEvent(choice: i, text: t.token.text))
            } else {
                let lp = request.logprobs != nil ? logprobsJSON([t.token.token], [t.token.logprobs]) : JSON.null
                let extra: JSON? = request.concepts ? .object([("concept_starts", .array([t.startedConcept.map(JSON.bool) ?? .null]))]) : nil
                sse.event(chunk([choiceJSON(i, text: t.token.text, logprobs: lp, finish: nil, extra: extra)]))
            }
            if !shownToken {
                // The first token leaves at once even when an event went before it (echo).
                shownToken = true
                sse.flushHeld()
            }
        case .finished(let reason, let text, let stats):
            choices[i].text += text
            choices[i].finish = reason
            choices[i].stats = stats
            if let sse {
                let extra: JSON? = request.concepts ? .object([
                    ("prompt_concepts", .int(stats.promptConcepts)), ("completion_concepts", .int(stats.completionConcepts)),
                ]) : nil
                sse.event(chunk([choiceJSON(i, text: text, logprobs: request.logprobs != nil ? logprobsJSON([], []) : .null,
                                            finish: reason.rawValue, extra: extra)]))
            }
            choiceDone()
        case .failed(let message):
            choices[i].error = message
            choiceDone()
        }
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
            if request.includeUsage {
                var c = chunkFields([])
                c.append(("usage", usage))
                sse.event(.object(c))
            }
            sse.finish()
        } else {
            exchange.respond(response)
        }
    }

    /// Tokens generated and why the choices ended ("stop", or "length,stop" when they differ).
    private func noteOutcome() {
        let completion = choices.reduce(0) { $0 + ($1.stats?.completionTokens ?? $1.tokens.count) }
        var reasons: [String] = []
        for c in choices { if let r = c.finish?.rawValue, !reasons.contains(r) { reasons.append(r) } }
        exchange.note { log in
            log.completionTokens = completion
            log.finishReason = reasons.isEmpty ? nil : reasons.sorted().joined(separator: ",")
        }
    }
}
