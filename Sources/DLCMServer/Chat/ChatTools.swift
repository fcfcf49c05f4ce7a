import DLCMEngine
import StrictJSON
import StructuredOutput

/// A chat request's `tools`, `tool_choice` and `parallel_tool_calls`. The model writes a call as
/// `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; a grammar built from the tools'
/// parameter schemas holds it to that shape, so every call names a tool and its arguments
/// validate. `required` and a named function are enforced by the same grammar: the answer can
/// then only be calls.
struct ChatTools {
    enum Choice: Equatable {
        /// No calls: tools are left out of the prompt and the output is free text.
        case none
        /// Free text, optionally ending in calls.
        case auto
        /// One call or more, nothing else.
        case required
        /// Calls of this function only.
        case named(String)
    }

    /// The tools as templates read them: `{"type": "function", "function": {name, description, parameters}}`.
    var tools: [JSON]
    var specs: [ToolSpec]
    var choice: Choice
    var parallel: Bool

    /// nil when the request has no tools (an empty list is none).
    init?(_ body: RequestBody) throws {
        let list: [JSON]
        switch body.value("tools") {
        case nil, .null?: list = []
        case .array(let items)?: list = items
        default: throw APIError.invalid("tools", "must be an array of tools")
        }
        guard !list.isEmpty else {
            if let choice = body.value("tool_choice"), choice != .null, choice != .string("none") {
                throw APIError.invalid("tool_choice", "is only allowed when 'tools' are given")
            }
            return nil
        }
        guard list.count <= 128 else { throw APIError.invalid("tools", "takes at most 128 tools") }
        tools = []
        specs = []
        for (k, item) in list.enumerated() {
            let at = "tools[\(k)]"
            let t = RequestBody(json: item, path: at + ".")
            guard case .object = item, try t.string("type") == "function", let function = try t.object("function") else {
                throw APIError.invalid(at, "must be {\"type\": \"function\", \"function\": {\"name\", \"description\", \"parameters\"}}")
            }
            guard let name = try function.string("name") else { throw APIError.invalid(at + ".function.name", "is required") }
            guard Self.isName(name) else { throw APIError.invalid(at + ".function.name", "must be 1-64 letters, digits, underscores or dashes") }
            guard !specs.contains(where: { $0.name == name }) else { throw APIError.invalid(at + ".function.name", "'\(name)' is given twice") }
            let description = try function.string("description")
            _ = try function.bool("strict")
            let schema: JSON?
            switch function.value("parameters") {
            case nil, .null?: schema = nil
            case .object(let pairs)?: schema = .object(pairs)
            default: throw APIError.invalid(at + ".function.parameters", "must be a JSON Schema object")
            }
            specs.append(ToolSpec(name: name, parameters: schema))
            var f: [(String, JSON)] = [("name", .string(name))]
            if let description { f.append(("description", .string(description))) }
            if let schema { f.append(("parameters", schema)) }
            tools.append(.object([("type", .string("function")), ("function", .object(f))]))
        }
        switch body.value("tool_choice") {
        case nil, .null?, .string("auto")?: choice = .auto
        case .string("none")?: choice = .none
        case .string("required")?: choice = .required
        case .object?:
            let c = try body.object("tool_choice")!
            guard try c.string("type") == "function", let name = try c.object("function")?.string("name") else {
                throw APIError.invalid("tool_choice", "must be 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}")
            }
            guard specs.contains(where: { $0.name == name }) else {
                throw APIError.invalid("tool_choice", "names '\(name)', which is not among 'tools'")
            }
            choice = .named(name)
        default:
            throw APIError.invalid("tool_choice", "must be 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}")
        }
        parallel = try body.bool("parallel_tool_calls") ?? true
    }

    /// The grammar of the answer, nil for `none`.
    func constraint(_ constraints: OutputConstraints) throws -> TokenConstraint? {
        let mode: ToolCallMode
        switch choice {
        case .none: return nil
        case .auto: mode = .auto
        case .required: mode = .required
        case .named(let name): mode = .named(name)
        }
        // The tools' names and schemas, the mode and parallel name the grammar exactly.
        let key = "tools:\(mode):\(parallel):" + JSON.array(specs.map { .array([.string($0.name), $0.parameters ?? .null]) }).text
        do {
            return try constraints.constraint(key: key) { () throws(SchemaError) in
                try Grammar.toolCalls(specs, mode: mode, parallel: parallel)
            }
        } catch {
            throw APIError.schema(error, param: "tools")
        }
    }

    static func isName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
    }
}
