/// A template that does not parse, or a render that fails. `raise_exception(msg)` in a template
/// gives `kind == .raised` and `message == msg` verbatim (a chat template's own explanation, such as
/// "Conversation roles must alternate user/assistant/user/assistant/...", fit to show to an API user).
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The template source does not parse (found by `ChatTemplate.init`).
        case syntax
        /// A rendering error: an undefined value used, a type mismatch, an unsupported feature.
        case runtime
        /// The template called `raise_exception(message)`.
        case raised
        /// A limit of `ChatTemplate.Limits` was reached (output size, loop iterations, call depth).
        case limit
    }

    public var kind: Kind
    public var message: String
    /// 1-based line in the template source, where known.
    public var line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String {
        switch kind {
        case .raised: message
        default: line.map { "\(message) (template line \($0))" } ?? message
        }
    }

    static func runtime(_ message: String) -> TemplateError { TemplateError(.runtime, message) }
}
