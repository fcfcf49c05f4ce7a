import DLCMRuntime
import Synchronization
import MonotonicTime

/// One sequence to run: a tokenized prompt (BOS included) and what to do with it. `n > 1` in the
/// API is n of these, submitted together: the engine reads their prompt once and forks it. The
/// engine reports through `onEvent`, always on the engine thread, so the
/// callback must be cheap and must not block (writing to an HTTP responder is fine).
public final class EngineRequest: Sendable {
    /// Model tokens, the BOS prefix included.
    public let prompt: [Int32]
    /// maxTokens 0 = score the prompt only (segment, echo without completion).
    public let parameters: GenerationParameters
    /// Top-n log-probabilities for every prompt token after the first (nil = none); costs a
    /// vocab-wide logits row per prompt token.
    public let promptLogprobs: Int?
    /// Report, for every emitted token, whether it started a concept. The router decides that only
    /// when the token is fed back, so each token is held back one step.
    public let reportConcepts: Bool
    /// Monotonic nanoseconds after which generation ends with `timeout` (nil = none).
    public let deadline: UInt64?
    /// Prefix-cache scope: requests of the same scope may resume from prompt states another one
    /// left (PrefixCache.swift); different scopes never share. nil: this request neither reuses
    /// nor adds any (`cache_prompt: false`).
    public let cacheScope: String?
    /// When it ends, read its prompt and what it generated into the prefix cache as a prompt, so
    /// that a conversation's next turn resumes after this answer (`Engine.queueAnswerFill`).
    public let cacheAnswer: Bool
    /// Queued by the engine itself (an answer fill): nobody waits for it, and it is left out of
    /// the request metrics.
    let isInternal: Bool
    let onEvent: @Sendable (EngineEvent) -> Void
    let submitted = monotonicNanoseconds()
    private let cancelled = Atomic<Bool>(false)

    public convenience init(prompt: [Int32], parameters: GenerationParameters, promptLogprobs: Int? = nil,
                reportConcepts: Bool = false, deadline: UInt64? = nil, cacheScope: String? = nil, cacheAnswer: Bool = false,
                onEvent: @escaping @Sendable (EngineEvent) -> Void) {
        self.init(prompt: prompt, parameters: parameters, promptLogprobs: promptLogprobs, reportConcepts: reportConcepts,
                  deadline: deadline, cacheScope: cacheScope, cacheAnswer: cacheAnswer, isInternal: false, onEvent: onEvent)
    }

    init(prompt: [Int32], parameters: GenerationParameters, promptLogprobs: Int?, reportConcepts: Bool, deadline: UInt64?,
         cacheScope: String?, cacheAnswer: Bool, isInternal: Bool, onEvent: @escaping @Sendable (EngineEvent) -> Void) {
        self.prompt = prompt
        self.parameters = parameters
        self.promptLogprobs = promptLogprobs
        self.reportConcepts = reportConcepts
        self.deadline = deadline
        self.cacheScope = cacheScope
        self.cacheAnswer = cacheAnswer
        self.isInternal = isInternal
        self.onEvent = onEvent
    }

    /// Asks the engine to drop this sequence; it frees its caches at the start of the next step
    /// and reports `finished(.cancelled)`. Safe from any thread, any number of times.
    public func cancel() { cancelled.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
}

/// What the engine tells a request, in this order: any number of `waiting`, one `prompt`, any
/// number of `token`, then exactly one `finished` or `failed`.
public enum EngineEvent: Sendable {
    /// Still queued or prefilling (sent once per step; lets a stream send keep-alives).
    case waiting
    /// The prompt has been read.
    case prompt(PromptResult)
    case token(EmittedToken)
    /// `text` is what was still held back (stop-string prefix, half a character).
    case finished(FinishReason, text: String, GenerationStats)
    case failed(String)
}

/// The router's reading of the prompt (BOS included at index 0).
public struct PromptResult: Sendable {
    public let boundaryProbs: [Float]
    public let boundaries: [Bool]
    /// Per prompt token: its log-probability given the tokens before it (nil for index 0, and for
    /// all when not requested).
    public let logprobs: [TokenLogprobs?]
}

public struct EmittedToken: Sendable {
    public let token: GeneratedToken
    /// Whether it started a new concept (only with `reportConcepts`; nil for a final token the
    /// model never read).
    public let startedConcept: Bool?
    public let boundaryProbability: Float?
}

public struct GenerationStats: Sendable {
    public let promptTokens: Int
    public let completionTokens: Int
    /// Concepts the prompt opened (boundaries among its tokens, BOS included).
    public let promptConcepts: Int
    /// Concepts opened by generated tokens the model read.
    public let completionConcepts: Int
    /// Prompt tokens resumed from the prefix cache instead of read.
    public let cachedTokens: Int

    public init(promptTokens: Int, completionTokens: Int, promptConcepts: Int, completionConcepts: Int, cachedTokens: Int = 0) {
        self.promptTokens = promptTokens; self.completionTokens = completionTokens
        self.promptConcepts = promptConcepts; self.completionConcepts = completionConcepts; self.cachedTokens = cachedTokens
    }
}

public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// Waiting + running would pass the configured bound.
    case queueFull
    /// The engine is stopping or stopped.
    case stopped
    case promptTooLong(tokens: Int, limit: Int)
    case emptyPrompt

    public var description: String {
        switch self {
        case .queueFull: "the server is at capacity; retry later"
        case .stopped: "the engine is shutting down"
        case .promptTooLong(let t, let l): "the prompt is \(t) tokens; this model takes at most \(l)"
        case .emptyPrompt: "the prompt has no tokens"
        }
    }
}
