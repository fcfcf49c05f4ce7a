import StrictJSON

extension JSON {
    /// Parses a request body (`JSONParser`); the error message says what is wrong and where,
    /// without echoing the body.
    static func parse(_ bytes: [UInt8]) throws -> JSON {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error)")
        }
    }
}
