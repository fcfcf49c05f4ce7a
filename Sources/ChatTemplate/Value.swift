/// A value while rendering: Python's types as jinja2 meets them in chat templates.
enum Value {
    /// jinja2's default `Undefined`: prints as "", iterates as empty, is false; using it as an
    /// object (attribute, item, call, arithmetic) fails with `hint` as the message.
    case undefined(hint: String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(Dict)
    /// A one-pass generator (what `select`, `map`, `items`, `reverse` ... return in jinja2): always
    /// true, no length, empty once iterated.
    case iterator(IteratorBox)
    case namespace(Namespace)
    indirect case callable(Callable)
    case loop(LoopState)

    static var missing: Value { .undefined(hint: "undefined value") }
    static func undefinedName(_ name: String) -> Value { .undefined(hint: "'\(name)' is undefined") }

    var isUndefined: Bool { if case .undefined = self { true } else { false } }
    var isNone: Bool { if case .none = self { true } else { false } }

    /// The name Python gives the type, for error messages ("'dict object' has no attribute ...").
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .iterator: "generator"
        case .namespace: "Namespace"
        case .callable: "function"
        case .loop: "LoopContext"
        }
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let a), .tuple(let a): !a.isEmpty
        case .dict(let d): !d.isEmpty
        case .iterator, .namespace, .callable, .loop: true
        }
    }

    init(_ v: TemplateValue) {
        switch v {
        case .undefined: self = .missing
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(Value.init))
        case .object(let pairs):
            var d = Dict()
            for (k, v) in pairs { d[.string(k)] = Value(v) }
            self = .dict(d)
        }
    }
}

/// Python's dict: insertion-ordered, keys compared as Python compares them (1 == 1.0 == True,
/// strings by code points, not by Unicode canonical equivalence as Swift's `==` does).
struct Dict {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []
    /// Built once a dict has more than `indexThreshold` keys; small dicts (messages) are scanned.
    private var index: [HashKey: Int]? = nil
    private static let indexThreshold = 12

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }
    var pairs: Zip2Sequence<[Value], [Value]> { zip(keys, values) }

    func position(of key: Value) -> Int? {
        if let index { return HashKey(key).flatMap { index[$0] } }
        return keys.firstIndex { pyEqual($0, key) }
    }

    subscript(key: Value) -> Value? {
        get { position(of: key).map { values[$0] } }
        set {
            guard let newValue else { return }   // removal is never needed (templates cannot mutate dicts)
            if let i = position(of: key) { values[i] = newValue; return }
            keys.append(key)
            values.append(newValue)
            if index != nil, let h = HashKey(key) { index?[h] = keys.count - 1 }
            else if keys.count > Dict.indexThreshold { buildIndex() }
        }
    }

    subscript(name: String) -> Value? { self[.string(name)] }

    private mutating func buildIndex() {
        var built: [HashKey: Int] = [:]
        for (i, k) in keys.enumerated() {
            guard let h = HashKey(k) else { return }
            if built[h] == nil { built[h] = i }
        }
        index = built
    }
}

/// A hashable key as Python hashes it: numbers by value across int/float/bool, strings by code points.
enum HashKey: Hashable {
    case none
    case int(Int)
    case double(Double)
    case string(ScalarString)
    indirect case tuple([HashKey])

    init?(_ v: Value) {
        switch v {
        case .none: self = .none
        case .bool(let b): self = .int(b ? 1 : 0)
        case .int(let i): self = .int(i)
        case .double(let d):
            if let i = Int(exactly: d) { self = .int(i) } else { self = .double(d) }
        case .string(let s): self = .string(ScalarString(s))
        case .tuple(let items):
            var keys: [HashKey] = []
            for item in items {
                guard let k = HashKey(item) else { return nil }
                keys.append(k)
            }
            self = .tuple(keys)
        default: return nil
        }
    }
}

/// A string hashed and compared by its UTF-8 bytes (Python's equality), not canonical equivalence.
struct ScalarString: Hashable {
    let s: String
    init(_ s: String) { self.s = s }
    static func == (a: ScalarString, b: ScalarString) -> Bool { a.s.utf8.elementsEqual(b.s.utf8) }
    func hash(into hasher: inout Hasher) {
        hasher.combine(s.utf8.count)
        for b in s.utf8 { hasher.combine(b) }
    }
}

/// A generator's items, handed out once.
final class IteratorBox {
    private var items: [Value]?
    init(_ items: [Value]) { self.items = items }
    /// The remaining items; the generator is exhausted afterwards.
    func drain() -> [Value] {
        defer { items = [] }
        return items ?? []
    }
}

/// `namespace(...)`: the one mutable object a template can make (`{% set ns.x = ... %}`).
final class Namespace {
    var attributes = Dict()
}

/// Something a template can call.
enum Callable {
    case macro(MacroValue)
    case global(String)
    /// A method looked up on a value: `'a,b'.split`, `message.items`.
    indirect case method(receiver: Value, name: String)
    /// A method the sandbox forbids (`list.append`, `dict.update`): an error when called.
    case unsafe(receiver: String, name: String)
}

/// A macro with the scope it was defined in (it reads that scope's variables when called).
struct MacroValue {
    let definition: MacroDefinition
    let scope: Scope
}

/// The `loop` variable of one iteration.
struct LoopState {
    let items: [Value]
    let index0: Int
    var length: Int { items.count }
}

/// Variables of one frame: the template's top level, one loop iteration, one macro call.
final class Scope {
    var variables: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.variables[name] { return v }
            scope = s.parent
        }
        return nil
    }
}
