/// A setting that cannot be used (a bad origin, an unreadable key file): the server refuses to
/// start, and the message names the setting and what would be accepted.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
