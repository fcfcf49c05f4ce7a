/// `a.b`, `a[b]` and `a[i:j:k]` as jinja2's sandbox resolves them: `.name` tries the attribute
/// (methods such as `items`) and then the key; `[key]` tries the key and then the attribute.
/// Whatever is not found is undefined; only looking into an undefined value is an error.
enum Access {
    /// Methods of each type that chat templates may call. The sandbox forbids methods that
    /// change a list or dict: those are looked up, and fail when called.
    static let stringMethods: Set<String> = [
        "capitalize", "center", "count", "endswith", "find", "format", "index", "isalnum", "isalpha", "isdigit",
        "islower", "isnumeric", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "removeprefix",
        "removesuffix", "replace", "rfind", "rindex", "rjust", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "swapcase", "title", "upper", "zfill",
    ]
    static let dictMethods: Set<String> = ["copy", "get", "items", "keys", "values"]
    static let unsafeDictMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update", "fromkeys"]
    static let listMethods: Set<String> = ["copy", "count", "index"]
    static let unsafeListMethods: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]
    static let loopAttributes: Set<String> = [
        "index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem", "depth", "depth0",
    ]

    static func attribute(_ v: Value, _ name: String) throws(TemplateError) -> Value {
        if let found = try pythonAttribute(v, name) { return found }
        switch v {
        case .dict(let d): if let found = d[name] { return found }
        case .undefined(let hint): throw .runtime(hint)
        default: break
        }
        return .undefined(hint: "'\(describe(v))' has no attribute '\(name)'")
    }

    static func item(_ v: Value, _ key: Value) throws(TemplateError) -> Value {
        switch (v, key) {
        case (.undefined(let hint), _): throw .runtime(hint)
        case let (.dict(d), _):
            if let found = d[key] { return found }
        case let (.list(a), _), let (.tuple(a), _):
            if let i = index(key), let j = normalized(i, a.count) { return a[j] }
        case let (.string(s), _):
            if let i = index(key) {
                let scalars = s.unicodeScalars
                if let j = normalized(i, scalars.count) {
                    return .string(String(scalars[scalars.index(scalars.startIndex, offsetBy: j)]))
                }
            }
        default: break
        }
        if case .string(let name) = key, let found = try pythonAttribute(v, name) { return found }
        let keyText = (try? PythonText.str(key)) ?? "?"
        return .undefined(hint: "'\(describe(v))' has no attribute '\(keyText)'")
    }

    private static func index(_ key: Value) -> Int? {
        switch key {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    private static func normalized(_ i: Int, _ count: Int) -> Int? {
        let j = i < 0 ? i + count : i
        return j >= 0 && j < count ? j : nil
    }

    /// jinja2's wording for the owner of a missing attribute.
    static func describe(_ v: Value) -> String {
        switch v {
        case .none: "None"
        default: "\(v.typeName) object"
        }
    }

    /// What Python's `getattr` finds (methods, loop and namespace attributes), or nil.
    private static func pythonAttribute(_ v: Value, _ name: String) throws(TemplateError) -> Value? {
        switch v {
        case .string:
            if stringMethods.contains(name) { return .callable(.method(receiver: v, name: name)) }
        case .dict:
            if dictMethods.contains(name) { return .callable(.method(receiver: v, name: name)) }
            if unsafeDictMethods.contains(name) { return .callable(.unsafe(receiver: "dict", name: name)) }
        case .list, .tuple:
            if listMethods.contains(name) && !(name == "copy" && v.typeName == "tuple") { return .callable(.method(receiver: v, name: name)) }
            if unsafeListMethods.contains(name), case .list = v { return .callable(.unsafe(receiver: "list", name: name)) }
        case .namespace(let ns):
            return ns.attributes[name]
        case .loop(let l):
            return loopAttribute(l, name)
        case .undefined(let hint):
            throw .runtime(hint)
        default:
            break
        }
        return nil
    }

    private static func loopAttribute(_ l: LoopState, _ name: String) -> Value? {
        switch name {
        case "index": .int(l.index0 + 1)
        case "index0": .int(l.index0)
        case "revindex": .int(l.length - l.index0)
        case "revindex0": .int(l.length - l.index0 - 1)
        case "first": .bool(l.index0 == 0)
        case "last": .bool(l.index0 == l.length - 1)
        case "length": .int(l.length)
        case "depth": .int(1)
        case "depth0": .int(0)
        case "previtem": l.index0 > 0 ? l.items[l.index0 - 1] : .undefined(hint: "there is no previous item")
        case "nextitem": l.index0 + 1 < l.length ? l.items[l.index0 + 1] : .undefined(hint: "there is no next item")
        case "cycle": .callable(.method(receiver: .loop(l), name: "cycle"))
        default: nil
        }
    }

    /// Python's slice of a list, tuple or string.
    static func slice(_ v: Value, start: Value?, stop: Value?, step: Value?) throws(TemplateError) -> Value {
        func bound(_ b: Value?) throws(TemplateError) -> Int? {
            guard let b else { return nil }
            switch b {
            case .none: return nil
            case .int(let i): return i
            case .bool(let x): return x ? 1 : 0
            default: throw .runtime("slice indices must be integers or None")
            }
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw .runtime("slice step cannot be zero") }
        let startValue = try bound(start)
        let stopValue = try bound(stop)
        func indices(_ count: Int) -> [Int] {
            // CPython's PySlice_AdjustIndices.
            var lo: Int, hi: Int
            if stepValue > 0 {
                lo = startValue.map { $0 < 0 ? max(0, $0 + count) : min($0, count) } ?? 0
                hi = stopValue.map { $0 < 0 ? max(0, $0 + count) : min($0, count) } ?? count
                return lo < hi ? Array(stride(from: lo, to: hi, by: stepValue)) : []
            }
            lo = startValue.map { $0 < 0 ? max(-1, $0 + count) : min($0, count - 1) } ?? count - 1
            hi = stopValue.map { $0 < 0 ? max(-1, $0 + count) : min($0, count - 1) } ?? -1
            return lo > hi ? Array(stride(from: lo, to: hi, by: stepValue)) : []
        }
        switch v {
        case .list(let a): return .list(indices(a.count).map { a[$0] })
        case .tuple(let a): return .tuple(indices(a.count).map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        default:
            return .undefined(hint: "'\(v.typeName)' object is not subscriptable")
        }
    }
}
