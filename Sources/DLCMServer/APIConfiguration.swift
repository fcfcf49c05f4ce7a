import Logging

/// Limits and behaviour of the API layer (HTTP limits such as the body size live in
/// `ServerConfiguration`, engine limits in `EngineConfiguration`).
public struct APIConfiguration: Sendable {
    /// The id `/v1/models` lists and requests may name (default: the checkpoint folder's name).
    public var modelName: String?
    /// Largest `max_tokens` a request may ask for (also bounded by the context length).
    public var maxTokensLimit = 4096
    /// Largest `n`; also bounds n times the number of prompts in one request.
    public var maxChoices = 8
    /// Longest a completion may run before it ends with finish_reason "timeout" (seconds).
    public var requestTimeout: Double = 600
    /// A stream with nothing to send for this long (queued, long prefill) sends `: keep-alive`.
    public var keepAliveInterval: Double = 5
    /// A stream's events after the first are held until the next tick of a clock shared by all
    /// streams (seconds; the end at once): one write per tick instead of one per token when tokens
    /// come faster. This is the clock's period with up to 2 streams open; 0 = each event is
    /// written as it comes. See `SSEWriter` and `StreamClock`.
    public var streamInterval: Double = 0.005
    /// The longest the clock's period grows to with more streams open (`streamInterval` times
    /// the streams over 2, at most this; seconds). Set it to `streamInterval` to keep the period fixed.
    public var streamIntervalMax: Double = 0.05
    /// /health fails when the engine loop has not gone round for this long (seconds).
    public var stallSeconds: Double = 30

    /// Keys a request must present as `Authorization: Bearer <key>`; empty = no authentication.
    public var apiKeys = APIKeys()
    /// With API keys: whether requests made with different keys may resume from each other's
    /// cached prompts (off: a shared cache would let one tenant time another's prompts).
    public var prefixCacheShared = false
    /// Paths answered without a key (probes and scrapers).
    public var openEndpoints: Set<String> = APIConfiguration.defaultOpenEndpoints
    public static let defaultOpenEndpoints: Set<String> = ["/health", "/ready", "/metrics"]
    /// Which browser origins may call the API.
    public var cors = CORSPolicy.off
    /// Where request lines go (one per request, at info; 5xx at error).
    public var logger = Logger(label: "dlcm.server")
    /// Puts prompt texts in request log lines. Off by default: prompts may hold private data.
    public var logPrompts = false

    public init() {}
}
