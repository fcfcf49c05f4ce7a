/// transformers' `tojson` filter: Python's `json.dumps(x, ensure_ascii=False, indent=indent,
/// separators=separators, sort_keys=sort_keys)`, byte for byte (float repr, escapes, indents).
enum JSONDump {
    static func dumps(_ v: Value, ensureASCII: Bool, indent: Value?, separators: Value?, sortKeys: Bool) throws(TemplateError) -> String {
        var indentUnit: String? = nil
        switch indent {
        case nil, .none?: indentUnit = nil
        case .int(let n)?: indentUnit = String(repeating: " ", count: max(0, min(n, 1 << 16)))
        case .bool(let b)?: indentUnit = b ? " " : ""
        case .string(let s)?: indentUnit = s
        case let other?: throw .runtime("indent must be an int or a string, not \(other.typeName)")
        }
        var itemSeparator = indentUnit == nil ? ", " : ","
        var keySeparator = ": "
        switch separators {
        case nil, .none?: break
        case .list(let pair)?, .tuple(let pair)?:
            guard pair.count == 2, case .string(let a) = pair[0], case .string(let b) = pair[1] else {
                throw .runtime("separators must be a pair of strings")
            }
            itemSeparator = a
            keySeparator = b
        case let other?: throw .runtime("separators must be a pair of strings, not \(other.typeName)")
        }
        var w = Writer(ensureASCII: ensureASCII, indent: indentUnit, itemSeparator: itemSeparator,
                       keySeparator: keySeparator, sortKeys: sortKeys)
        try w.write(v, level: 0)
        return w.out
    }

    private struct Writer {
        let ensureASCII: Bool
        let indent: String?
        let itemSeparator: String
        let keySeparator: String
        let sortKeys: Bool
        var out = ""

        init(ensureASCII: Bool, indent: String?, itemSeparator: String, keySeparator: String, sortKeys: Bool) {
            self.ensureASCII = ensureASCII
            self.indent = indent
            self.itemSeparator = itemSeparator
            self.keySeparator = keySeparator
            self.sortKeys = sortKeys
        }

        mutating func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n"
            for _ in 0..<level { out += indent }
        }

        mutating func write(_ v: Value, level: Int) throws(TemplateError) {
            guard level < PythonText.maxDepth else { throw .runtime("value nested too deeply for tojson") }
            switch v {
            case .none: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .double(let d): out += JSONDump.float(d)
            case .string(let s): writeString(s)
            case .list(let items), .tuple(let items):
                if items.isEmpty { out += "[]"; return }
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += itemSeparator }
                    newline(level + 1)
                    try write(item, level: level + 1)
                }
                newline(level)
                out += "]"
            case .dict(let d):
                if d.isEmpty { out += "{}"; return }
                var pairs = Array(d.pairs)
                if sortKeys {
                    pairs = try Renderer.stableSort(pairs) { (a, b) throws(TemplateError) in try Operators.less(a.0, b.0) }
                }
                out += "{"
                for (i, (k, value)) in pairs.enumerated() {
                    if i > 0 { out += itemSeparator }
                    newline(level + 1)
                    writeString(try key(k))
                    out += keySeparator
                    try write(value, level: level + 1)
                }
                newline(level)
                out += "}"
            default:
                throw .runtime("Object of type \(v.typeName) is not JSON serializable")
            }
        }

        private func key(_ k: Value) throws(TemplateError) -> String {
            switch k {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return JSONDump.float(d)
            case .bool(let b): return b ? "true" : "false"
            case .none: return "null"
            default: throw .runtime("keys must be str, int, float, bool or None, not \(k.typeName)")
            }
        }

        private mutating func writeString(_ s: String) {
            out += "\""
            for c in s.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if c.value < 0x20 || (ensureASCII && c.value > 0x7E) {
                        if c.value > 0xFFFF {
                            let v = c.value - 0x10000
                            out += "\\u" + PythonText.hex(0xD800 + (v >> 10), width: 4)
                            out += "\\u" + PythonText.hex(0xDC00 + (v & 0x3FF), width: 4)
                        } else {
                            out += "\\u" + PythonText.hex(c.value, width: 4)
                        }
                    } else {
                        out.unicodeScalars.append(c)
                    }
                }
            }
            out += "\""
        }
    }

    /// `float.__repr__`, with JSON's spellings of the non-finite values (as Python writes them).
    static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return PythonText.float(d)
    }
}

extension Renderer {
    /// A stable merge sort with a comparison that can throw.
    static func stableSort<T>(_ items: [T], by less: (T, T) throws(TemplateError) -> Bool) throws(TemplateError) -> [T] {
        if items.count <= 1 { return items }
        let mid = items.count / 2
        let left = try stableSort(Array(items[..<mid]), by: less)
        let right = try stableSort(Array(items[mid...]), by: less)
        var out: [T] = []
        out.reserveCapacity(items.count)
        var i = 0
        var j = 0
        while i < left.count && j < right.count {
            if try less(right[j], left[i]) { out.append(right[j]); j += 1 } else { out.append(left[i]); i += 1 }
        }
        out += left[i...]
        out += right[j...]
        return out
    }
}
