import DLCMEngine
import StrictJSON
import StructuredOutput

/// `response_format`, on /v1/completions and /v1/chat/completions: free text, any JSON object, or
/// a document valid against a JSON Schema. The JSON forms become a grammar that constrains
/// sampling (`TokenConstraint`); a schema the compiler cannot enforce is refused, never ignored.
enum ResponseFormat: Equatable {
    case text
    case jsonObject
    case jsonSchema(name: String, schema: JSON)

    /// The field as the body gives it (absent: text).
    init(_ body: RequestBody) throws {
        guard let format = try body.object("response_format") else {
            self = .text
            return
        }
        switch try format.string("type") {
        case "text"?:
            self = .text
        case "json_object"?:
            self = .jsonObject
        case "json_schema"?:
            guard let spec = try format.object("json_schema") else {
                throw APIError.invalid("response_format.json_schema", "is required for type 'json_schema'")
            }
            guard let name = try spec.string("name") else { throw APIError.invalid("response_format.json_schema.name", "is required") }
            guard ChatTools.isName(name) else {
                throw APIError.invalid("response_format.json_schema.name", "must be 1-64 letters, digits, underscores or dashes")
            }
            _ = try spec.bool("strict")
            _ = try spec.string("description")
            switch spec.value("schema") {
            case nil: self = .jsonObject
            case .object?, .bool(true)?: self = .jsonSchema(name: name, schema: spec.value("schema")!)
            default: throw APIError.invalid("response_format.json_schema.schema", "must be a JSON Schema object")
            }
        case let other:
            throw APIError.badRequest("'response_format.type' must be 'text', 'json_object' or 'json_schema', not \(other.map { "'\($0)'" } ?? "null")",
                                      param: "response_format", code: "invalid_parameter")
        }
    }

    /// The compiled constraint (shared by every request with the same schema), nil for text.
    func constraint(_ constraints: OutputConstraints) throws -> TokenConstraint? {
        do {
            switch self {
            case .text:
                return nil
            case .jsonObject:
                return try constraints.constraint(key: "json_object") { () throws(SchemaError) in Grammar.anyJSONObject() }
            case .jsonSchema(_, let schema):
                // The schema's own text is its key: objects keep their key order, and the order of
                // `properties` is the order the output writes them in.
                return try constraints.constraint(key: "schema:" + schema.text) { () throws(SchemaError) in try Grammar.jsonSchema(schema) }
            }
        } catch {
            throw APIError.schema(error, param: "response_format")
        }
    }
}

extension APIError {
    /// A 400 for a schema the grammar compiler refused: which keyword, where in the schema.
    static func schema(_ error: SchemaError, param: String) -> APIError {
        switch error {
        case .unsupportedKeyword(let path, let keyword):
            return .badRequest("'\(param)': the schema keyword '\(keyword)' (at \(path)) is not supported by this server's structured outputs",
                               param: param, code: "unsupported_schema")
        case .invalid(let path, let reason):
            return .badRequest("'\(param)': invalid schema at \(path): \(reason)", param: param, code: "invalid_schema")
        case .tooComplex(let reason):
            return .badRequest("'\(param)': the schema is too large to enforce: \(reason)", param: param, code: "invalid_schema")
        }
    }
}
