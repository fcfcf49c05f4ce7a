/// Python's `str` methods, on code points (Python's unit), never on Swift `Character`s: Swift
/// compares and searches strings by canonical equivalence, Python by code points.
enum StringOps {
    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    /// The byte offset of the first `needle` in `haystack` at or after byte `from`, or nil. On
    /// valid UTF-8 a byte match is a code-point match (a match cannot start inside a character).
    static func findBytes(_ h: [UInt8], _ n: [UInt8], from: Int = 0) -> Int? {
        guard from >= 0, from <= h.count else { return nil }
        guard let first = n.first else { return from }
        guard n.count <= h.count - from else { return nil }
        let last = h.count - n.count
        var i = from
        while i <= last {
            if h[i] == first {
                var k = 1
                while k < n.count && h[i + k] == n[k] { k += 1 }
                if k == n.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// Python's `sub in s`.
    static func contains(_ s: String, _ sub: String) -> Bool {
        sub.isEmpty || findBytes(Array(s.utf8), Array(sub.utf8)) != nil
    }

    /// Code points in the first `bytes` bytes of UTF-8 text.
    static func codePoints(_ utf8: [UInt8], upTo bytes: Int) -> Int {
        var n = 0
        for b in utf8[..<bytes] where b & 0xC0 != 0x80 { n += 1 }
        return n
    }

    static func find(_ h: [Unicode.Scalar], _ n: [Unicode.Scalar], from: Int = 0) -> Int? {
        guard from >= 0, from <= h.count else { return nil }
        if n.isEmpty { return from }
        guard n.count <= h.count - from else { return nil }
        var i = from
        while i + n.count <= h.count {
            if h[i] == n[0] {
                var k = 1
                while k < n.count && h[i + k] == n[k] { k += 1 }
                if k == n.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func rfind(_ h: [Unicode.Scalar], _ n: [Unicode.Scalar]) -> Int? {
        guard n.count <= h.count else { return nil }
        var i = h.count - n.count
        while i >= 0 {
            if h[i..<(i + n.count)].elementsEqual(n) { return i }
            i -= 1
        }
        return nil
    }

    static func count(_ s: String, _ sub: String) -> Int {
        if sub.isEmpty { return s.unicodeScalars.count + 1 }
        let h = Array(s.utf8)
        let n = Array(sub.utf8)
        var total = 0
        var i = 0
        while let j = findBytes(h, n, from: i) { total += 1; i = j + n.count }
        return total
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        var replaced = 0
        if old.isEmpty {
            // Python inserts `new` before every character and at the end.
            var out = ""
            for c in s.unicodeScalars {
                if count < 0 || replaced < count { out += new; replaced += 1 }
                out.unicodeScalars.append(c)
            }
            if count < 0 || replaced < count { out += new }
            return out
        }
        let h = Array(s.utf8)
        let o = Array(old.utf8)
        let n = Array(new.utf8)
        guard findBytes(h, o) != nil else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(h.count)
        var i = 0
        while count < 0 || replaced < count, let j = findBytes(h, o, from: i) {
            out += h[i..<j]
            out += n
            i = j + o.count
            replaced += 1
        }
        out += h[i...]
        return String(decoding: out, as: UTF8.self)
    }

    /// `strip` / `lstrip` / `rstrip` with Python's whitespace, or with the characters of `chars`.
    static func strip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
        let h = scalars(s)
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? isPythonSpace(c) }
        var lo = 0
        var hi = h.count
        if left { while lo < hi && strippable(h[lo]) { lo += 1 } }
        if right { while hi > lo && strippable(h[hi - 1]) { hi -= 1 } }
        if lo == 0 && hi == h.count { return s }
        return string(h[lo..<hi])
    }

    /// `str.split(sep, maxsplit)`; with no separator, runs of whitespace split and ends are trimmed.
    static func split(_ s: String, sep: String?, maxSplit: Int = -1) throws(TemplateError) -> [String] {
        var parts: [String] = []
        if let sep {
            let bytes = Array(s.utf8)
            let n = Array(sep.utf8)
            guard !n.isEmpty else { throw .runtime("empty separator") }
            var i = 0
            while maxSplit < 0 || parts.count < maxSplit, let j = findBytes(bytes, n, from: i) {
                parts.append(String(decoding: bytes[i..<j], as: UTF8.self))
                i = j + n.count
            }
            parts.append(String(decoding: bytes[i...], as: UTF8.self))
            return parts
        }
        let h = scalars(s)
        var i = 0
        while i < h.count {
            while i < h.count && isPythonSpace(h[i]) { i += 1 }
            if i == h.count { break }
            if maxSplit >= 0 && parts.count == maxSplit {
                parts.append(string(h[i...]))   // Python keeps the rest as is, trailing whitespace included
                return parts
            }
            let start = i
            while i < h.count && !isPythonSpace(h[i]) { i += 1 }
            parts.append(string(h[start..<i]))
        }
        return parts
    }

    static func rsplit(_ s: String, sep: String?, maxSplit: Int) throws(TemplateError) -> [String] {
        if maxSplit < 0 { return try split(s, sep: sep) }
        let h = scalars(s)
        var parts: [String] = []
        if let sep {
            let n = scalars(sep)
            guard !n.isEmpty else { throw .runtime("empty separator") }
            var end = h.count
            while parts.count < maxSplit, let j = rfind(Array(h[0..<end]), n) {
                parts.append(string(h[(j + n.count)..<end]))
                end = j
            }
            parts.append(string(h[0..<end]))
            return parts.reversed()
        }
        var end = h.count
        while true {
            while end > 0 && isPythonSpace(h[end - 1]) { end -= 1 }
            if end == 0 { break }
            if parts.count == maxSplit {
                parts.append(string(h[0..<end]))   // leading whitespace of the rest is kept
                break
            }
            var start = end
            while start > 0 && !isPythonSpace(h[start - 1]) { start -= 1 }
            parts.append(string(h[start..<end]))
            end = start
        }
        return parts.reversed()
    }

    /// `str.splitlines()` (Python's line boundaries; `\r\n` is one).
    static func splitLines(_ s: String, keepEnds: Bool = false) -> [String] {
        let h = scalars(s)
        var lines: [String] = []
        var start = 0
        var i = 0
        while i < h.count {
            switch h[i].value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                var end = i + 1
                if h[i] == "\r" && end < h.count && h[end] == "\n" { end += 1 }
                lines.append(string(h[start..<(keepEnds ? end : i)]))
                start = end
                i = end
            default:
                i += 1
            }
        }
        if start < h.count { lines.append(string(h[start...])) }
        return lines
    }

    static func upper(_ s: String) -> String { s.uppercased() }
    static func lower(_ s: String) -> String { s.lowercased() }

    private static func titleCase(_ c: Unicode.Scalar) -> String { c.properties.titlecaseMapping }

    /// `str.capitalize()`: the first character in title case, the rest lower case.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return titleCase(first) + string(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// `str.title()`: title case after any uncased character, lower case after a cased one.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            if previousCased { out += c.properties.lowercaseMapping } else { out += c.properties.titlecaseMapping }
            previousCased = c.properties.isCased
        }
        return out
    }

    /// jinja2's `title` filter: words start after `-`, whitespace and opening brackets.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        var word: [Unicode.Scalar] = []
        func flush() {
            if let first = word.first {
                out += String(first).uppercased() + string(word.dropFirst()).lowercased()
            }
            word = []
        }
        for c in s.unicodeScalars {
            let separator = c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || isPythonSpace(c)
            if separator {
                flush()
                out.unicodeScalars.append(c)
                atWordStart = true
            } else {
                word.append(c)
                atWordStart = false
            }
        }
        _ = atWordStart
        flush()
        return out
    }

    static func isCased(_ s: String) -> (hasCased: Bool, allLower: Bool, allUpper: Bool) {
        var hasCased = false
        var allLower = true
        var allUpper = true
        for c in s.unicodeScalars where c.properties.isCased {
            hasCased = true
            if !c.properties.isLowercase { allLower = false }
            if !c.properties.isUppercase { allUpper = false }
        }
        return (hasCased, allLower, allUpper)
    }

    static func center(_ s: String, width: Int, fill: Unicode.Scalar = " ") -> String {
        let n = s.unicodeScalars.count
        guard width > n else { return s }
        let marg = width - n
        // CPython: left = marg / 2 + (marg & width & 1)
        let left = marg / 2 + (marg & width & 1)
        let right = marg - left
        return String(repeating: String(Character(fill)), count: left) + s + String(repeating: String(Character(fill)), count: right)
    }

    /// printf-style `%` formatting: `%s`, `%r`, `%d`/`%i`, `%f`, `%%` (what templates use).
    static func percentFormat(_ format: String, _ args: [Value], _ whole: Value) throws(TemplateError) -> String {
        var out = ""
        var it = format.unicodeScalars.makeIterator()
        var next = 0
        func take() throws(TemplateError) -> Value {
            guard next < args.count else { throw .runtime("not enough arguments for format string") }
            defer { next += 1 }
            return args[next]
        }
        while let c = it.next() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            guard let spec = it.next() else { throw .runtime("incomplete format") }
            switch spec {
            case "%": out += "%"
            case "s": out += try PythonText.str(try take())
            case "r":
                var r = ""
                try PythonText.repr(try take(), into: &r, depth: 0)
                out += r
            case "d", "i":
                let v = try take()
                switch v {
                case .int(let i): out += String(i)
                case .bool(let b): out += b ? "1" : "0"
                case .double(let d) where d.isFinite && abs(d) < 9.2e18: out += String(Int(d.rounded(.towardZero)))
                default: throw .runtime("%d format: a real number is required, not \(v.typeName)")
                }
            default:
                throw .runtime("unsupported format character '\(Character(spec))'")
            }
        }
        if next < args.count {
            if case .dict = whole {} else { throw .runtime("not all arguments converted during string formatting") }
        }
        return out
    }
}
