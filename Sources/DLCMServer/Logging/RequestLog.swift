import DLCMRuntime
import Logging

/// What one request's log line reports beyond method, route and status: filled in by the route
/// as the answer takes shape, written once when the exchange is recorded.
struct RequestLog {
    var promptTokens: Int?
    var completionTokens: Int?
    /// Prompt tokens resumed from the prefix cache.
    var cachedTokens: Int?
    /// When the first generated token came out of the engine (monotonic ns), streamed or not.
    var firstTokenNanos: UInt64?
    var finishReason: String?
    /// Prompt texts, only kept with `--log-prompts`.
    var prompts: [String]?
    /// The message of a 5xx answer.
    var error: String?

    func metadata(id: String, method: String, route: String, status: Int, started: UInt64, now: UInt64) -> Logger.Metadata {
        var m: Logger.Metadata = [
            "id": .string(id), "method": .string(method), "route": .string(route), "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(Self.milliseconds(now > started ? now - started : 0)),
        ]
        if let promptTokens { m["prompt_tokens"] = .stringConvertible(promptTokens) }
        if let completionTokens { m["completion_tokens"] = .stringConvertible(completionTokens) }
        if let cachedTokens { m["cached_tokens"] = .stringConvertible(cachedTokens) }
        if let firstTokenNanos { m["ttft_ms"] = .stringConvertible(Self.milliseconds(firstTokenNanos > started ? firstTokenNanos - started : 0)) }
        if let finishReason { m["finish_reason"] = .string(finishReason) }
        if let prompts { m["prompt"] = prompts.count == 1 ? .string(prompts[0]) : .array(prompts.map { .string($0) }) }
        if let error { m["error"] = .string(error) }
        return m
    }

    /// Milliseconds with one decimal: enough to tell a 0.3 ms answer from a 3 ms one.
    static func milliseconds(_ nanos: UInt64) -> Double {
        (Double(nanos) / 1e5).rounded() / 10
    }
}
