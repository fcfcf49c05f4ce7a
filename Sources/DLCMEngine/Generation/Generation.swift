import DLCMRuntime
import StructuredOutput
import Tokenization

/// Why a generation ended (OpenAI's `finish_reason`, plus the server's own).
public enum FinishReason: String, Sendable {
    /// A stop token or stop string.
    case stop
    /// max_tokens, or the model's context length.
    case length
    /// The client went away or cancelled.
    case cancelled
    /// The request's deadline passed.
    case timeout
}

/// What a request asks of generation, beyond sampling.
public struct GenerationParameters: Sendable {
    public var sampling = SamplingParameters()
    public var maxTokens = 16
    public var stop: [String] = []
    /// Token ids that end generation (the end-of-text token unless `ignoreEOS`).
    public var stopTokenIDs: Set<Int32> = []
    public var ignoreEOS = false
    /// Top-n log-probabilities per generated token (nil = none).
    public var logprobs: Int?
    /// A grammar the output must follow (a JSON schema, tool calls): only tokens it allows are
    /// sampled, and the end-of-text token only where the document is complete. Shared between
    /// the requests that ask for the same grammar (it caches masks per grammar state).
    public var constraint: TokenConstraint?

    public init() {}
}

/// One generated token as the client sees it.
public struct GeneratedToken: Sendable {
    public let token: Int32
    /// Text that became final with this token (may be empty: held-back UTF-8 or stop prefix).
    public let text: String
    public let logprobs: TokenLogprobs?
    /// Set on the last token of the generation.
    public let finish: FinishReason?
}

/// The text-level state of one request: sampling, streaming detokenization, stop strings and
/// limits. The engine (or the CLI) feeds it each step's logits.
public struct Generation: Sendable {
    public let parameters: GenerationParameters
    public private(set) var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    private var stopMatcher: StopMatcher
    public private(set) var generated: [Int32] = []
    public private(set) var finish: FinishReason?
    /// Where the output is in the constraint's grammar (nil before the first token, or unconstrained).
    private var constraintState: ConstraintState?

    public init(tokenizer: Tokenizer, prompt: [Int32], parameters: GenerationParameters, eotTokenID: Int32) {
        var p = parameters
        if !p.ignoreEOS { p.stopTokenIDs.insert(eotTokenID) }
        self.parameters = p
        sampler = Sampler(p.sampling, prompt: prompt)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecial: true)
        stopMatcher = StopMatcher(p.stop)
    }

    /// Picks the next token from the logits after the last consumed token. `contextLeft` is how
    /// many more tokens the model can take; when the returned token has `finish` set, the caller
    /// does not feed it to the model.
    public mutating func next(logits: [Float], contextLeft: Int) -> GeneratedToken {
        precondition(finish == nil, "generation already finished")
        let token: Int32
        if let constraint = parameters.constraint {
            token = constrainedToken(constraint, logits: logits, budget: min(parameters.maxTokens - generated.count, contextLeft + 1))
        } else {
            token = sampler.sample(logits)
        }
        sampler.accept(token)
        generated.append(token)
        let lp = parameters.logprobs.map { TokenLogprobs(logits: logits, token: token, top: $0) }
        if parameters.stopTokenIDs.contains(token) {
            finish = .stop
            return GeneratedToken(token: token, text: stopMatcher.feed(detokenizer.finish()) + stopMatcher.flush(), logprobs: lp, finish: .stop)
        }
        var text = stopMatcher.feed(detokenizer.append(token))
        if stopMatcher.matched != nil {
            finish = .stop
        } else if generated.count >= parameters.maxTokens || contextLeft <= 0 || constraintState?.mustEnd == true {
            // A constrained document that is complete and admits nothing more has ended by itself:
            // it stops here rather than spend a pass of the model on the only token left, the end
            // of text.
            finish = constraintState?.mustEnd == true ? .stop : .length
            text += stopMatcher.feed(detokenizer.finish())
            text += stopMatcher.flush()
            if stopMatcher.matched != nil { finish = .stop }
        }
        return GeneratedToken(token: token, text: text, logprobs: lp, finish: finish)
    }

    /// A token the constraint allows, chosen so that the document can still be finished inside
    /// `budget` (the tokens this generation may still emit, this one included). While the budget
    /// is large, the grammar's mask is all that limits the choice; a sampled token whose state
    /// would need more than what is left afterwards is struck out and another drawn (one byte can
    /// open an object with many required keys). Once the budget is down to what the shortest
    /// completion needs (at worst a token per byte, then the end-of-text), only tokens along a
    /// shortest completion remain. A document that fits the budget is so finished inside it
    /// rather than cut off.
    private mutating func constrainedToken(_ constraint: TokenConstraint, logits: [Float], budget: Int) -> Int32 {
        let state = constraintState ?? constraint.start()
        // A state that could end here needs no closing: free text (tool_choice auto) or a finished
        // number may simply run to the limit.
        let closing = state.remainingBytes > 0 && budget <= state.remainingBytes + 1
        let mask = closing ? constraint.closing(state) : constraint.allowed(state)
        // A dead state (no token fits) cannot arise from a grammar the compiler accepted; should it,
        // the end-of-text token ends the output rather than sampling from nothing.
        guard mask.count > 0 else { return constraint.vocabulary.endOfText }
        var words = mask.words
        var left = mask.count
        for _ in 0..<(closing ? 1 : 8) {
            let token = sampler.sample(logits, allowed: words)
            var next = state
            _ = constraint.advance(&next, token: token)
            if closing || token == constraint.vocabulary.endOfText || next.canEnd || next.remainingBytes + 1 <= budget - 1 {
                constraintState = next
                return token
            }
            words[Int(token) >> 6] &= ~(UInt64(1) << UInt64(Int(token) & 63))
            left -= 1
            if left == 0 { break }
        }
        // Repeated misses: walk the shortest completion from here.
        let token = sampler.sample(logits, allowed: constraint.closing(state).words)
        var next = state
        _ = constraint.advance(&next, token: token)
        constraintState = next
        return token
    }

    /// Ends the generation early (cancel, deadline); returns any text still held back.
    public mutating func end(_ reason: FinishReason) -> String {
        guard finish == nil else { return "" }
        finish = reason
        return stopMatcher.feed(detokenizer.finish()) + stopMatcher.flush()
    }
}
