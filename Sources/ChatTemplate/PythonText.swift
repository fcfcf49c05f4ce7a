/// Python's `str()` and `repr()` of values, which is what `{{ value }}` prints in jinja2.
enum PythonText {
    /// Nesting beyond this fails instead of recursing further (values from JSON are at most 512 deep).
    static let maxDepth = 600

    static func str(_ v: Value) throws(TemplateError) -> String {
        switch v {
        case .undefined: return ""
        case .string(let s): return s
        default:
            var out = ""
            try repr(v, into: &out, depth: 0)
            return out
        }
    }

    static func repr(_ v: Value, into out: inout String, depth: Int) throws(TemplateError) {
        guard depth < maxDepth else { throw .runtime("value nested too deeply to print") }
        switch v {
        case .undefined: out += ""
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += float(d)
        case .string(let s): stringRepr(s, into: &out)
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                try repr(item, into: &out, depth: depth + 1)
            }
            out += "]"
        case .tuple(let items):
            out += "("
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                try repr(item, into: &out, depth: depth + 1)
            }
            out += items.count == 1 ? ",)" : ")"
        case .dict(let d):
            try dictRepr(d, into: &out, depth: depth)
        case .namespace(let ns):
            out += "<Namespace "
            try dictRepr(ns.attributes, into: &out, depth: depth)
            out += ">"
        case .iterator: out += "<generator object>"
        case .callable(let c):
            switch c {
            case .macro(let m): out += "<Macro '\(m.definition.name)'>"
            case .global(let name): out += "<function \(name)>"
            case .method(let receiver, let name): out += "<built-in method \(name) of \(receiver.typeName) object>"
            case .unsafe: out += ""
            }
        case .loop(let l): out += "<LoopContext \(l.index0 + 1)/\(l.length)>"
        }
    }

    private static func dictRepr(_ d: Dict, into out: inout String, depth: Int) throws(TemplateError) {
        out += "{"
        for (i, (k, v)) in d.pairs.enumerated() {
            if i > 0 { out += ", " }
            try repr(k, into: &out, depth: depth + 1)
            out += ": "
            try repr(v, into: &out, depth: depth + 1)
        }
        out += "}"
    }

    /// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func stringRepr(_ s: String, into out: inout String) {
        let hasSingle = s.utf8.contains(UInt8(ascii: "'"))
        let hasDouble = s.utf8.contains(UInt8(ascii: "\""))
        let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        out.unicodeScalars.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\": out += "\\"; out.unicodeScalars.append(c)
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F { out += "\\x" + hex(c.value, width: 2) }
                else if c.value < 0x7F || isPrintable(c) { out.unicodeScalars.append(c) }
                else if c.value <= 0xFF { out += "\\x" + hex(c.value, width: 2) }
                else if c.value <= 0xFFFF { out += "\\u" + hex(c.value, width: 4) }
                else { out += "\\U" + hex(c.value, width: 8) }
            }
        }
        out.unicodeScalars.append(quote)
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Python's `str.isprintable()` for one character: not a control, format, surrogate,
    /// private-use, unassigned or separator character (the space excepted).
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: false
        case .spaceSeparator: c == " "
        default: true
        }
    }

    /// Python's `repr(float)`: the shortest digits that read back the same, in fixed notation when
    /// the decimal exponent is in [-4, 16), otherwise as `1e+16`, `1.5e-05`.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description is also the shortest round-trip form; take its digits and exponent.
        var text = Substring(d.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = ""
        var pointAt = text.count
        for (i, ch) in text.enumerated() {
            if ch == "." { pointAt = i } else { digits.append(ch) }
        }
        // value = 0.digits × 10^decpt
        var decpt = pointAt + exponent
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); decpt -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        if decpt <= -4 || decpt > 16 {
            var out = sign + String(digits.prefix(1))
            if digits.count > 1 { out += "." + digits.dropFirst() }
            let e = decpt - 1
            out += e < 0 ? "e-" : "e+"
            out += e.magnitude < 10 ? "0\(e.magnitude)" : "\(e.magnitude)"
            return out
        }
        if decpt <= 0 { return sign + "0." + String(repeating: "0", count: -decpt) + digits }
        if decpt >= digits.count { return sign + digits + String(repeating: "0", count: decpt - digits.count) + ".0" }
        let cut = digits.index(digits.startIndex, offsetBy: decpt)
        return sign + digits[..<cut] + "." + digits[cut...]
    }
}

/// Python's notion of whitespace (`str.isspace`, `str.strip()`, `str.split()`).
@inline(__always) func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
    default: false
    }
}
