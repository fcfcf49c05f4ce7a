/// Methods of Python values that chat templates call: `content.strip()`, `message.get('x')`,
/// `name.split('.')`, `loop.cycle(...)`.
enum Methods {
    static func call(_ receiver: Value, _ name: String, _ args: [Value], _ kwargs: [(String, Value)],
                     _ renderer: Renderer) throws(TemplateError) -> Value {
        switch receiver {
        case .string(let s): return try stringMethod(s, name, args, kwargs)
        case .dict(let d): return try dictMethod(d, name, args, kwargs)
        case .list(let a), .tuple(let a):
            switch name {
            case "copy": return receiver
            case "count":
                let b = try CallArguments("count", args, kwargs, ["value"], required: 1)
                return .int(a.filter { pyEqual($0, b[0] ?? .none) }.count)
            case "index":
                let b = try CallArguments("index", args, kwargs, ["value"], required: 1)
                guard let i = a.firstIndex(where: { pyEqual($0, b[0] ?? .none) }) else { throw .runtime("value is not in list") }
                return .int(i)
            default: break
            }
        case .loop(let l) where name == "cycle":
            guard !args.isEmpty else { throw .runtime("no items for cycling given") }
            return args[l.index0 % args.count]
        default: break
        }
        throw .runtime("'\(receiver.typeName)' object has no method '\(name)'")
    }

    private static func dictMethod(_ d: Dict, _ name: String, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Value {
        switch name {
        case "items":
            _ = try CallArguments("items", args, kwargs, [])
            return .list(d.pairs.map { .tuple([$0.0, $0.1]) })
        case "keys":
            _ = try CallArguments("keys", args, kwargs, [])
            return .list(d.keys)
        case "values":
            _ = try CallArguments("values", args, kwargs, [])
            return .list(d.values)
        case "get":
            guard kwargs.isEmpty, (1...2).contains(args.count) else { throw .runtime("get() takes a key and an optional default") }
            guard HashKey(args[0]) != nil else { throw .runtime("unhashable type: '\(args[0].typeName)'") }
            return d[args[0]] ?? (args.count > 1 ? args[1] : .none)
        case "copy":
            return .dict(d)
        default:
            throw .runtime("'dict' object has no method '\(name)'")
        }
    }

    private static func stringMethod(_ s: String, _ name: String, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Value {
        func bind(_ names: [String], required: Int = 0) throws(TemplateError) -> CallArguments {
            try CallArguments(name, args, kwargs, names, required: required)
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            let b = try bind(["chars"])
            return .string(StringOps.strip(s, chars: try b.string(0), left: name != "rstrip", right: name != "lstrip"))
        case "split", "rsplit":
            let b = try bind(["sep", "maxsplit"])
            let sep = try b.string(0)
            let maxSplit = try b.int(1, default: -1)
            let parts = name == "split" ? try StringOps.split(s, sep: sep, maxSplit: maxSplit)
                                        : try StringOps.rsplit(s, sep: sep, maxSplit: maxSplit)
            return .list(parts.map(Value.string))
        case "splitlines":
            let b = try bind(["keepends"])
            return .list(StringOps.splitLines(s, keepEnds: b.bool(0, default: false)).map(Value.string))
        case "startswith", "endswith":
            let b = try bind(["prefix", "start", "end"], required: 1)
            var candidates: [Value]
            switch b[0] {
            case .tuple(let items)?: candidates = items
            case let v?: candidates = [v]
            case nil: candidates = []
            }
            let h = StringOps.scalars(s)
            for c in candidates {
                guard case .string(let x) = c else { throw .runtime("\(name) first arg must be str or a tuple of str, not \(c.typeName)") }
                let n = StringOps.scalars(x)
                if n.count <= h.count && (name == "startswith" ? Array(h.prefix(n.count)) == n : Array(h.suffix(n.count)) == n) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case "upper": _ = try bind([]); return .string(StringOps.upper(s))
        case "lower": _ = try bind([]); return .string(StringOps.lower(s))
        case "title": _ = try bind([]); return .string(StringOps.title(s))
        case "capitalize": _ = try bind([]); return .string(StringOps.capitalize(s))
        case "swapcase":
            _ = try bind([])
            var out = ""
            for c in s.unicodeScalars {
                out += c.properties.isUppercase ? c.properties.lowercaseMapping
                    : c.properties.isLowercase ? c.properties.uppercaseMapping : String(c)
            }
            return .string(out)
        case "replace":
            let b = try bind(["old", "new", "count"], required: 2)
            guard let old = try b.string(0), let new = try b.string(1) else { throw .runtime("replace() arguments must be str") }
            return .string(StringOps.replace(s, old, new, count: try b.int(2, default: -1)))
        case "find", "rfind", "index", "rindex":
            let b = try bind(["sub", "start", "end"], required: 1)
            guard let sub = try b.string(0) else { throw .runtime("\(name)() argument must be str") }
            let h = StringOps.scalars(s)
            let n = StringOps.scalars(sub)
            let start = try b.int(1, default: 0)
            let from = start < 0 ? max(0, start + h.count) : start
            let found = name.hasPrefix("r") ? StringOps.rfind(h, n) : StringOps.find(h, n, from: from)
            if found == nil && name.hasSuffix("index") { throw .runtime("substring not found") }
            return .int(found ?? -1)
        case "count":
            let b = try bind(["sub"], required: 1)
            guard let sub = try b.string(0) else { throw .runtime("count() argument must be str") }
            return .int(StringOps.count(s, sub))
        case "join":
            let b = try bind(["iterable"], required: 1)
            var parts: [String] = []
            switch b[0] {
            case .list(let a)?, .tuple(let a)?: for v in a {
                guard case .string(let x) = v else { throw .runtime("sequence item: expected str instance, \(v.typeName) found") }
                parts.append(x)
            }
            case .string(let x)?: parts = x.unicodeScalars.map { String($0) }
            default: throw .runtime("can only join an iterable")
            }
            return .string(parts.joined(separator: s))
        case "center", "ljust", "rjust":
            let b = try bind(["width", "fillchar"], required: 1)
            let width = try b.int(0, default: 0)
            let fill = try b.string(1).flatMap { $0.unicodeScalars.count == 1 ? $0.unicodeScalars.first : nil } ?? " "
            let n = s.unicodeScalars.count
            if width <= n { return .string(s) }
            let pad = String(repeating: String(Character(fill)), count: width - n)
            if name == "ljust" { return .string(s + pad) }
            if name == "rjust" { return .string(pad + s) }
            return .string(StringOps.center(s, width: width, fill: fill))
        case "zfill":
            let b = try bind(["width"], required: 1)
            let width = try b.int(0, default: 0)
            var h = StringOps.scalars(s)
            guard width > h.count else { return .string(s) }
            let zeros = Array(repeating: Unicode.Scalar("0"), count: width - h.count)
            if let first = h.first, first == "+" || first == "-" { h.insert(contentsOf: zeros, at: 1) } else { h.insert(contentsOf: zeros, at: 0) }
            return .string(StringOps.string(h))
        case "removeprefix", "removesuffix":
            let b = try bind(["fix"], required: 1)
            guard let fix = try b.string(0) else { throw .runtime("\(name)() argument must be str") }
            let h = StringOps.scalars(s)
            let n = StringOps.scalars(fix)
            if name == "removeprefix", h.starts(with: n) { return .string(StringOps.string(h.dropFirst(n.count))) }
            if name == "removesuffix", !n.isEmpty, Array(h.suffix(n.count)) == n { return .string(StringOps.string(h.dropLast(n.count))) }
            return .string(s)
        case "isalnum", "isalpha", "isdigit", "isnumeric", "isspace", "islower", "isupper", "istitle":
            _ = try bind([])
            return .bool(predicate(name, s))
        case "format":
            return .string(try format(s, args, kwargs))
        default:
            throw .runtime("'str' object has no method '\(name)'")
        }
    }

    private static func predicate(_ name: String, _ s: String) -> Bool {
        let scalars = s.unicodeScalars
        guard !scalars.isEmpty else { return false }
        func alpha(_ c: Unicode.Scalar) -> Bool {
            switch c.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
            default: false
            }
        }
        func digit(_ c: Unicode.Scalar) -> Bool { c.properties.numericType == .decimal || c.properties.numericType == .digit }
        func numeric(_ c: Unicode.Scalar) -> Bool { c.properties.numericType != nil }
        switch name {
        case "isalpha": return scalars.allSatisfy(alpha)
        case "isdigit": return scalars.allSatisfy(digit)
        case "isnumeric": return scalars.allSatisfy(numeric)
        case "isalnum": return scalars.allSatisfy { alpha($0) || numeric($0) }
        case "isspace": return scalars.allSatisfy(isPythonSpace)
        case "islower": let c = StringOps.isCased(s); return c.hasCased && c.allLower
        case "isupper": let c = StringOps.isCased(s); return c.hasCased && c.allUpper
        case "istitle": return StringOps.title(s).unicodeScalars.elementsEqual(scalars) && StringOps.isCased(s).hasCased
        default: return false
        }
    }

    /// `str.format` with `{}`, `{0}`, `{name}`, `!r`/`!s` and `{{`/`}}`; no format specs.
    static func format(_ s: String, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> String {
        var out = ""
        let h = StringOps.scalars(s)
        var i = 0
        var auto = 0
        while i < h.count {
            let c = h[i]
            if c == "{" {
                if i + 1 < h.count && h[i + 1] == "{" { out += "{"; i += 2; continue }
                guard let close = h[i...].firstIndex(of: "}") else { throw .runtime("Single '{' encountered in format string") }
                var field = StringOps.string(h[(i + 1)..<close])
                var conversion: Character? = nil
                if let bang = field.firstIndex(of: "!") {
                    conversion = field[field.index(after: bang)...].first
                    field = String(field[..<bang])
                }
                if field.contains(":") || field.contains(".") || field.contains("[") {
                    throw .runtime("format fields with specs or attributes are not supported")
                }
                let value: Value
                if field.isEmpty {
                    guard auto < args.count else { throw .runtime("Replacement index \(auto) out of range for positional args tuple") }
                    value = args[auto]
                    auto += 1
                } else if let n = Int(field) {
                    guard n >= 0 && n < args.count else { throw .runtime("Replacement index \(n) out of range for positional args tuple") }
                    value = args[n]
                } else {
                    guard let kw = kwargs.last(where: { $0.0 == field }) else { throw .runtime("KeyError: '\(field)'") }
                    value = kw.1
                }
                if conversion == "r" {
                    var r = ""
                    try PythonText.repr(value, into: &r, depth: 0)
                    out += r
                } else {
                    out += try PythonText.str(value)
                }
                i = close + 1
            } else if c == "}" {
                guard i + 1 < h.count && h[i + 1] == "}" else { throw .runtime("Single '}' encountered in format string") }
                out += "}"
                i += 2
            } else {
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return out
    }
}

extension Methods {
    /// A character of Python's regex `\w` (letters, digits and numbers, underscore).
    static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        if c == "_" { return true }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return c.properties.numericType != nil
        }
    }
}
