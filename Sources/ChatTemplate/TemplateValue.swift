import StrictJSON

/// A value of the render context: what `messages`, `tools`, `add_generation_prompt`, `bos_token`
/// and the caller's extra keys hold. Objects keep their keys in insertion order, as Python dicts
/// do, so `tojson` and `items()` see them in the order the request had them.
public enum TemplateValue: Sendable, Equatable {
    /// A value that is not there (jinja2's `Undefined`): same as leaving the key out.
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object([(String, TemplateValue)])

    public static func == (a: TemplateValue, b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.double(x), .double(y)): x == y
        case let (.string(x), .string(y)): x.utf8.elementsEqual(y.utf8)
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && $0.1 == $1.1 }
        default: false
        }
    }

    /// A JSON value as the template sees it (`null` is `none`). Raw JSON text is parsed; text that
    /// does not parse becomes a string.
    public init(_ json: JSON) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(TemplateValue.init))
        case .object(let pairs): self = .object(pairs.map { ($0.0, TemplateValue($0.1)) })
        case .raw(let bytes):
            if let parsed = try? JSONParser.parse(bytes) { self = TemplateValue(parsed) }
            else { self = .string(String(decoding: bytes, as: UTF8.self)) }
        }
    }

    public subscript(key: String) -> TemplateValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0.utf8.elementsEqual(key.utf8) }?.1 }
        return nil
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .none }
}
