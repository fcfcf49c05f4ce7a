#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// jinja2's builtin filters (transformers' `tojson` in place of jinja2's). Filters that return a
/// generator in jinja2 (`map`, `select`, `items`, ...) return a one-pass iterator here too, so
/// `x|select(...)|length` fails and `x|select(...)|list|length` works, as in jinja2.
extension Renderer {
    static let unsupportedFilters: Set<String> = [
        "filesizeformat", "groupby", "pprint", "random", "slice", "striptags", "urlencode", "urlize", "wordwrap", "xmlattr",
    ]

    func applyFilter(_ name: String, _ v: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Value {
        func bind(_ names: [String], required: Int = 0) throws(TemplateError) -> CallArguments {
            try CallArguments(name, args, kwargs, names, required: required)
        }
        switch name {
        case "string":
            _ = try bind([])
            return .string(try PythonText.str(v))
        case "safe":
            _ = try bind([])
            return .string(try PythonText.str(v))
        case "trim":
            let b = try bind(["chars"])
            return .string(StringOps.strip(try PythonText.str(v), chars: try b.string(0), left: true, right: true))
        case "upper", "lower", "capitalize", "title":
            _ = try bind([])
            let s = try PythonText.str(v)
            switch name {
            case "upper": return .string(StringOps.upper(s))
            case "lower": return .string(StringOps.lower(s))
            case "capitalize": return .string(StringOps.capitalize(s))
            default: return .string(StringOps.jinjaTitle(s))
            }
        case "replace":
            let b = try bind(["old", "new", "count"], required: 2)
            let count: Int
            if let c = b[2], !c.isNone { count = try b.int(2, default: -1) } else { count = -1 }
            return .string(StringOps.replace(try PythonText.str(v), try PythonText.str(b[0] ?? .none),
                                             try PythonText.str(b[1] ?? .none), count: count))
        case "center":
            let b = try bind(["width"])
            return .string(StringOps.center(try PythonText.str(v), width: try b.int(0, default: 80)))
        case "e", "escape", "forceescape":
            _ = try bind([])
            var out = ""
            for c in try PythonText.str(v).unicodeScalars {
                switch c {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.unicodeScalars.append(c)
                }
            }
            return .string(out)
        case "indent":
            let b = try bind(["width", "first", "blank"])
            return .string(try indent(try PythonText.str(v), width: b[0], first: b.bool(1, default: false), blank: b.bool(2, default: false)))
        case "truncate":
            let b = try bind(["length", "killwords", "end", "leeway"])
            return .string(try truncate(try PythonText.str(v), length: try b.int(0, default: 255), killWords: b.bool(1, default: false),
                                        end: try b.string(2) ?? "...", leeway: try b.int(3, default: 5)))
        case "wordcount":
            _ = try bind([])
            var count = 0
            var inWord = false
            for c in try PythonText.str(v).unicodeScalars {
                let word = c == "_" || Methods.isWordCharacter(c)
                if word && !inWord { count += 1 }
                inWord = word
            }
            return .int(count)
        case "format":
            guard args.isEmpty || kwargs.isEmpty else { throw .runtime("can't handle positional and keyword arguments at the same time") }
            let s = try PythonText.str(v)
            if !kwargs.isEmpty {
                var d = Dict()
                for (k, x) in kwargs { d[.string(k)] = x }
                return .string(try StringOps.percentFormat(s, [], .dict(d)))
            }
            return .string(try StringOps.percentFormat(s, args, .tuple(args)))
        case "tojson":
            let b = try bind(["ensure_ascii", "indent", "separators", "sort_keys"])
            return .string(try JSONDump.dumps(v, ensureASCII: b.bool(0, default: false), indent: b[1], separators: b[2],
                                              sortKeys: b.bool(3, default: false)))
        case "length", "count":
            _ = try bind([])
            return .int(try length(v))
        case "default", "d":
            let b = try bind(["default_value", "boolean"])
            if v.isUndefined || (b.bool(1, default: false) && !v.truthy) { return b[0] ?? .string("") }
            return v
        case "int":
            let b = try bind(["default", "base"])
            return try toInt(v, default: b[0] ?? .int(0), base: try b.int(1, default: 10))
        case "float":
            let b = try bind(["default"])
            return toFloat(v).map(Value.double) ?? (b[0] ?? .double(0))
        case "abs":
            _ = try bind([])
            switch v {
            case .int(let i):
                guard i != .min else { throw .runtime("integer overflow") }
                return .int(abs(i))
            case .bool(let x): return .int(x ? 1 : 0)
            case .double(let d): return .double(abs(d))
            default: throw .runtime("bad operand type for abs(): '\(v.typeName)'")
            }
        case "round":
            let b = try bind(["precision", "method"])
            return try round(v, precision: try b.int(0, default: 0), method: try b.string(1) ?? "common")
        case "attr":
            let b = try bind(["name"], required: 1)
            guard case .string(let attribute)? = b[0] else { throw .runtime("attribute name must be a string") }
            if case .dict = v {
                // getattr on a dict finds its methods, never its keys.
                if Access.dictMethods.contains(attribute) { return try Access.attribute(v, attribute) }
                return .undefined(hint: "'dict object' has no attribute '\(attribute)'")
            }
            return try Access.attribute(v, attribute)
        default:
            return try sequenceFilter(name, v, args, kwargs)
        }
    }

    func length(_ v: Value) throws(TemplateError) -> Int {
        switch v {
        case .string(let s): return s.unicodeScalars.count
        case .list(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        case .undefined: return 0
        case .loop(let l): return l.length
        default: throw .runtime("object of type '\(v.typeName)' has no len()")
        }
    }

    private func indent(_ text: String, width: Value?, first: Bool, blank: Bool) throws(TemplateError) -> String {
        let indention: String
        switch width {
        case nil: indention = "    "
        case .string(let s)?: indention = s
        case .int(let n)?: indention = String(repeating: " ", count: max(0, min(n, limits.maxOutputBytes)))
        case .bool(let b)?: indention = b ? " " : ""
        case let w?: throw .runtime("indent width must be an integer or a string, not \(w.typeName)")
        }
        var lines = StringOps.splitLines(text + "\n")
        var out: String
        if blank {
            out = lines.joined(separator: "\n" + indention)
        } else {
            out = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                out += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        if first { out = indention + out }
        return out
    }

    private func truncate(_ s: String, length: Int, killWords: Bool, end: String, leeway: Int) throws(TemplateError) -> String {
        let h = StringOps.scalars(s)
        let endCount = end.unicodeScalars.count
        guard length >= endCount else { throw .runtime("expected length >= \(endCount), got \(length)") }
        guard leeway >= 0 else { throw .runtime("expected leeway >= 0, got \(leeway)") }
        if h.count <= length + leeway { return s }
        let cut = Array(h.prefix(max(0, length - endCount)))
        if killWords { return StringOps.string(cut) + end }
        var result = cut
        if let space = cut.lastIndex(of: " ") { result = Array(cut[..<space]) }
        return StringOps.string(result) + end
    }

    /// jinja2's `int` filter: `int(value)`, else `int(float(value))`, else the default.
    private func toInt(_ v: Value, default d: Value, base: Int) throws(TemplateError) -> Value {
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let x):
            guard x.isFinite else {
                if x.isNaN { return d }
                throw .runtime("cannot convert float infinity to integer")
            }
            guard let i = Int(exactly: x.rounded(.towardZero)) else { throw .runtime("integer too large") }
            return .int(i)
        case .string(let s):
            if let i = parseInt(s, base: base) { return .int(i) }
            if let x = toFloat(v) {
                if x.isNaN { return d }
                guard x.isFinite else { throw .runtime("cannot convert float infinity to integer") }
                return Int(exactly: x.rounded(.towardZero)).map(Value.int) ?? d
            }
            return d
        default:
            return d
        }
    }

    /// Python's `int(str, base)`: surrounding whitespace, a sign, single underscores between digits.
    private func parseInt(_ s: String, base: Int) -> Int? {
        var text = Substring(StringOps.strip(s, chars: nil, left: true, right: true))
        var negative = false
        if let c = text.first, c == "+" || c == "-" { negative = c == "-"; text = text.dropFirst() }
        var radix = base
        let lower = text.lowercased()
        if (base == 16 && lower.hasPrefix("0x")) || (base == 8 && lower.hasPrefix("0o")) || (base == 2 && lower.hasPrefix("0b")) {
            text = text.dropFirst(2)
        } else if base == 0 {
            if lower.hasPrefix("0x") { radix = 16; text = text.dropFirst(2) }
            else if lower.hasPrefix("0o") { radix = 8; text = text.dropFirst(2) }
            else if lower.hasPrefix("0b") { radix = 2; text = text.dropFirst(2) }
            else { radix = 10 }
        }
        guard (2...36).contains(radix), !text.isEmpty, !text.hasPrefix("_"), !text.hasSuffix("_"),
              text.allSatisfy({ $0.isASCII }) else { return nil }
        let chars = Array(text)
        for i in chars.indices.dropFirst() where chars[i] == "_" && chars[i - 1] == "_" { return nil }
        guard let magnitude = Int(String(chars.filter { $0 != "_" }), radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// Python's `float(value)` for the types the filter meets; nil where Python raises.
    func toFloat(_ v: Value) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .bool(let b): return b ? 1 : 0
        case .double(let d): return d
        case .string(let s):
            var body = Substring(StringOps.strip(s, chars: nil, left: true, right: true))
            var negative = false
            if let c = body.first, c == "+" || c == "-" { negative = c == "-"; body = body.dropFirst() }
            let lower = body.lowercased()
            if lower == "inf" || lower == "infinity" { return negative ? -.infinity : .infinity }
            if lower == "nan" { return .nan }
            let chars = Array(body)
            var cleaned = ""
            for (i, c) in chars.enumerated() {
                if c == "_" {
                    // Underscores only between digits.
                    guard i > 0, i + 1 < chars.count, chars[i - 1].isASCII, chars[i - 1].isNumber,
                          chars[i + 1].isASCII, chars[i + 1].isNumber else { return nil }
                    continue
                }
                guard c.isASCII, c.isNumber || c == "." || c == "e" || c == "E" || c == "+" || c == "-" else { return nil }
                cleaned.append(c)
            }
            guard let first = cleaned.first, first.isNumber || first == ".", let d = Double(cleaned) else { return nil }
            return negative ? -d : d
        default: return nil
        }
    }

    private func round(_ v: Value, precision: Int, method: String) throws(TemplateError) -> Value {
        guard ["common", "ceil", "floor"].contains(method) else { throw .runtime("method must be common, ceil or floor") }
        let x: Double
        switch v {
        case .int(let i) where method == "common":
            return .int(i)   // round(int, n) with n >= 0 is the int itself
        case .int(let i): x = Double(i)
        case .bool(let b): if method == "common" { return .int(b ? 1 : 0) }; x = b ? 1 : 0
        case .double(let d): x = d
        default: throw .runtime("type \(v.typeName) doesn't define __round__ method")
        }
        guard x.isFinite else { return .double(x) }
        let scale = pow(10.0, Double(precision))
        switch method {
        case "ceil": return .double((x * scale).rounded(.up) / scale)
        case "floor": return .double((x * scale).rounded(.down) / scale)
        default:
            if precision == 0 { return .double(x.rounded(.toNearestOrEven)) }
            // Python rounds the exact binary value, half to even: what printf's %.Nf does.
            return .double(Double(Renderer.formatFixed(x, digits: max(0, precision))) ?? (x * scale).rounded(.toNearestOrEven) / scale)
        }
    }

    static func formatFixed(_ x: Double, digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = withVaList([x]) { vsnprintf(&buffer, buffer.count, "%.\(min(digits, 300))f", $0) }
        guard n > 0 && n < buffer.count else { return "" }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
