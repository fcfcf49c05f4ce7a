import StrictJSON

/// The JSON pieces every grammar is made of, built once per grammar (memoised by name).
///
/// What they accept is a subset of RFC 8259 chosen so that a model cannot stall in whitespace and
/// so that whatever they accept parses with `JSONParser`:
///
/// - Whitespace: none before or after the document. After `{` and `[`, and before `}` and `]`:
///   nothing, or a newline followed by at most 20 spaces. After `,`: nothing, one space, or a
///   newline followed by at most 20 spaces. After `:`: nothing or one space. None before `:` or
///   `,`, no tabs or carriage returns. (Python's `json.dumps` with and without `indent` up to
///   depth 10 at indent 2, `JSON.text` and compact writers all fit.)
/// - Strings: valid UTF-8 only (no overlongs, no surrogates, nothing past U+10FFFF), no raw bytes
///   below 0x20, escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (hex digits in either case) where a
///   `\u` escape of a surrogate must be a high one followed by a `\u` low one.
/// - Numbers: `-? (0 | [1-9][0-9]{0,18}) (. [0-9]{1,19})? ([eE] (-[0-9]{1,3} | +?[0-9]{1,2}))?`:
///   at most 19 digits before and after the point and a two-digit positive exponent, so every
///   number is finite as a Double (`1e999` is valid JSON but not accepted).
/// - Integers: `-? (0 | [1-9][0-9]{0,18})`. With bounds, exactly the integers in range, without "-0".
/// - Numbers with bounds: `-? (0 | [1-9][0-9]{0,18}) (. [0-9]{1,19})?` (no exponent, no "-0"),
///   compared with the bounds as decimal text.
/// - Free object keys (json_object, any value): repeated keys can't be excluded by a grammar, so a
///   generated document may repeat a key; keys beside declared properties (additionalProperties)
///   never equal a declared name.
extension GrammarBuilder {
    static let maxIndent = 20
    static let maxIntegerDigits = 19

    private mutating func memoised(_ key: String) -> Int? { memo[key] }

    /// S_k: up to k spaces (a chain, so that k spaces are matched one way only).
    mutating func spaces(_ k: Int) throws(SchemaError) -> Int {
        if let r = memo["sp\(k)"] { return r }
        let r: Int
        if k == 0 {
            r = try rule("spaces0", [[]])
        } else {
            let next = try spaces(k - 1)
            r = try rule("spaces\(k)", [[], GrammarBuilder.literal(" ") + [.rule(next)]])
        }
        memo["sp\(k)"] = r
        return r
    }

    /// After `{`, `[`, before `}`, `]`: nothing or a newline and up to 20 spaces.
    mutating func wsNewline() throws(SchemaError) -> Int {
        if let r = memo["wsnl"] { return r }
        let s = try spaces(GrammarBuilder.maxIndent)
        let r = try rule("ws", [[], GrammarBuilder.literal("\n") + [.rule(s)]])
        memo["wsnl"] = r
        return r
    }

    /// After `,`: nothing, one space, or a newline and up to 20 spaces.
    mutating func wsComma() throws(SchemaError) -> Int {
        if let r = memo["wscomma"] { return r }
        let s = try spaces(GrammarBuilder.maxIndent)
        let r = try rule("ws,", [[], GrammarBuilder.literal(" "), GrammarBuilder.literal("\n") + [.rule(s)]])
        memo["wscomma"] = r
        return r
    }

    /// After `:`: nothing or one space.
    mutating func wsColon() throws(SchemaError) -> Int {
        if let r = memo["wscolon"] { return r }
        let r = try rule("ws:", [[], GrammarBuilder.literal(" ")])
        memo["wscolon"] = r
        return r
    }

    /// D_k: up to k digits.
    mutating func digits(_ k: Int) throws(SchemaError) -> Int {
        if let r = memo["d\(k)"] { return r }
        let r: Int
        if k == 0 {
            r = try rule("digits0", [[]])
        } else {
            let next = try digits(k - 1)
            r = try rule("digits\(k)", [[.bytes(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9"))), .rule(next)]] + [[]])
        }
        memo["d\(k)"] = r
        return r
    }

    static let digit = Element.bytes(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9")))
    static let hexDigit = Element.bytes(ByteSet(ascii: "0123456789abcdefABCDEF"))

    /// The escape after a backslash, in any spelling (a surrogate pair as two `\u` escapes).
    mutating func escape() throws(SchemaError) -> Int {
        if let r = memo["esc"] { return r }
        let h = GrammarBuilder.hexDigit
        // After "\uD": D000-D7FF, or a high surrogate and its low one.
        let afterD = try rule("\\uD", [
            [.bytes(ByteSet(ascii: "01234567")), h, h],
            [.bytes(ByteSet(ascii: "89abAB")), h, h] + GrammarBuilder.literal("\\u")
                + [.bytes(ByteSet(ascii: "dD")), .bytes(ByteSet(ascii: "cdefCDEF")), h, h],
        ])
        let hex = try rule("\\u", [
            [.bytes(ByteSet(ascii: "0123456789abcefABCEF")), h, h, h],
            [.bytes(ByteSet(ascii: "dD")), .rule(afterD)],
        ])
        let r = try rule("escape", [
            [.bytes(ByteSet(ascii: "\"\\/bfnrt"))],
            GrammarBuilder.literal("u") + [.rule(hex)],
        ])
        memo["esc"] = r
        return r
    }

    /// One character of a string in any spelling: printable ASCII, an escape, or a UTF-8 sequence.
    mutating func char() throws(SchemaError) -> Int {
        if let r = memo["char"] { return r }
        let esc = try escape()
        var alternatives: [[Element]] = [
            [.bytes(ByteSet(0x20...0x7F).subtracting(ByteSet(ascii: "\"\\")))],
            GrammarBuilder.literal("\\") + [.rule(esc)],
        ]
        for s in UTF8Ranges.sequences(0x80, 0x10FFFF) { alternatives.append(s.map { .bytes(ByteSet($0)) }) }
        let r = try rule("char", alternatives)
        memo["char"] = r
        return r
    }

    /// A string's characters and closing quote (after the opening quote), with `min...max`
    /// characters (code points; an escape is one, a surrogate pair one).
    mutating func stringBody(min: Int = 0, max: Int? = nil) throws(SchemaError) -> Int {
        let key = "str\(min),\(max.map(String.init) ?? "")"
        if let r = memo[key] { return r }
        let c = try char()
        let r: Int
        if let max, max < min {
            r = try rule("string (no length fits)", [])
        } else {
            let top = max ?? min
            guard top < Grammar.maxRules else { throw .tooComplex("string length bound \(top) exceeds \(Grammar.maxRules)") }
            var ids: [Int] = []
            for k in 0...top { ids.append(try declare(top == 0 ? "string" : "string[\(min),\(max.map(String.init) ?? "")]#\(k)")) }
            for k in 0...top {
                var alternatives: [[Element]] = []
                if k >= min { alternatives.append(GrammarBuilder.literal("\"")) }
                if k < top { alternatives.append([.rule(c), .rule(ids[k + 1])]) }
                else if max == nil { alternatives.append([.rule(c), .rule(ids[k])]) }
                define(ids[k], alternatives)
            }
            r = ids[0]
        }
        memo[key] = r
        return r
    }

    /// A whole string value, quotes included.
    mutating func string(min: Int = 0, max: Int? = nil) throws(SchemaError) -> Int {
        let key = "qstr\(min),\(max.map(String.init) ?? "")"
        if let r = memo[key] { return r }
        let body = try stringBody(min: min, max: max)
        let r = try rule("string", [GrammarBuilder.literal("\"") + [.rule(body)]])
        memo[key] = r
        return r
    }

    /// `0 | [1-9][0-9]{0,18}`.
    mutating func integerDigits() throws(SchemaError) -> Int {
        if let r = memo["intp"] { return r }
        let d = try digits(GrammarBuilder.maxIntegerDigits - 1)
        let r = try rule("int", [GrammarBuilder.literal("0"), [.bytes(ByteSet(UInt8(ascii: "1")...UInt8(ascii: "9"))), .rule(d)]])
        memo["intp"] = r
        return r
    }

    mutating func integer() throws(SchemaError) -> Int {
        if let r = memo["integer"] { return r }
        let p = try integerDigits()
        let r = try rule("integer", [GrammarBuilder.literal("-") + [.rule(p)], [.rule(p)]])
        memo["integer"] = r
        return r
    }

    mutating func number() throws(SchemaError) -> Int {
        if let r = memo["number"] { return r }
        let p = try integerDigits()
        let d19 = try digits(GrammarBuilder.maxIntegerDigits - 1), d2 = try digits(2), d1 = try digits(1)
        let digit = GrammarBuilder.digit
        let expBody = try rule("exponent", [
            GrammarBuilder.literal("-") + [digit, .rule(d2)],
            GrammarBuilder.literal("+") + [digit, .rule(d1)],
            [digit, .rule(d1)],
        ])
        let exponent = try rule("exponent?", [[], [.bytes(ByteSet(ascii: "eE")), .rule(expBody)]])
        let fraction = try rule("fraction?", [[.rule(exponent)], GrammarBuilder.literal(".") + [digit, .rule(d19), .rule(exponent)]])
        let r = try rule("number", [GrammarBuilder.literal("-") + [.rule(p), .rule(fraction)], [.rule(p), .rule(fraction)]])
        memo["number"] = r
        return r
    }

    mutating func boolean() throws(SchemaError) -> Int {
        if let r = memo["boolean"] { return r }
        let r = try rule("boolean", [GrammarBuilder.literal("true"), GrammarBuilder.literal("false")])
        memo["boolean"] = r
        return r
    }

    mutating func null() throws(SchemaError) -> Int {
        if let r = memo["null"] { return r }
        let r = try rule("null", [GrammarBuilder.literal("null")])
        memo["null"] = r
        return r
    }

    /// Any JSON value (the schema `{}` or `true`).
    mutating func anyValue() throws(SchemaError) -> Int {
        if let r = memo["value"] { return r }
        let value = try declare("value")
        memo["value"] = value
        let object = try anyObject()
        let wsnl = try wsNewline(), wsc = try wsComma()
        let array = try declare("array")
        let arrayRest = try declare("array,")
        define(arrayRest, [GrammarBuilder.literal(",") + [.rule(wsc), .rule(value), .rule(arrayRest)], [.rule(wsnl)] + GrammarBuilder.literal("]")])
        let arrayBody = try rule("array body", [GrammarBuilder.literal("]"), [.rule(value), .rule(arrayRest)]])
        define(array, [GrammarBuilder.literal("[") + [.rule(wsnl), .rule(arrayBody)]])
        let str = try stringBody()
        define(value, [
            [.rule(object)], [.rule(array)], GrammarBuilder.literal("\"") + [.rule(str)], [.rule(try number())],
            GrammarBuilder.literal("true"), GrammarBuilder.literal("false"), GrammarBuilder.literal("null"),
        ])
        return value
    }

    /// Any JSON object (response_format json_object).
    mutating func anyObject() throws(SchemaError) -> Int {
        if let r = memo["object"] { return r }
        let object = try declare("object")
        memo["object"] = object
        let value = try anyValue()
        let wsnl = try wsNewline(), wsc = try wsComma(), wscolon = try wsColon()
        let str = try stringBody()
        let member = try rule("member", sequence: GrammarBuilder.literal("\"") + [.rule(str)] + GrammarBuilder.literal(":") + [.rule(wscolon), .rule(value)])
        let rest = try declare("object,")
        define(rest, [GrammarBuilder.literal(",") + [.rule(wsc), .rule(member), .rule(rest)], [.rule(wsnl)] + GrammarBuilder.literal("}")])
        let body = try rule("object body", [GrammarBuilder.literal("}"), [.rule(member), .rule(rest)]])
        define(object, [GrammarBuilder.literal("{") + [.rule(wsnl), .rule(body)]])
        return object
    }

    // MARK: Canonical spellings (literals: enum and const values, property names)

    /// The canonical JSON spelling of a string's content: UTF-8 as is, `\"`, `\\`, the short
    /// escapes `\b \f \n \r \t`, `\u00xx` (lower case) for other bytes below 0x20. The spelling
    /// Python's `json.dumps(ensure_ascii=False)` writes.
    static func canonicalContent(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for u in s.unicodeScalars { out += canonicalChar(u) }
        return out
    }

    static func canonicalChar(_ u: Unicode.Scalar) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        switch u.value {
        case 0x22: return Array(#"\""#.utf8)
        case 0x5C: return Array(#"\\"#.utf8)
        case 0x08: return Array(#"\b"#.utf8)
        case 0x0C: return Array(#"\f"#.utf8)
        case 0x0A: return Array(#"\n"#.utf8)
        case 0x0D: return Array(#"\r"#.utf8)
        case 0x09: return Array(#"\t"#.utf8)
        case 0..<0x20: return Array(#"\u00"#.utf8) + [hex[Int(u.value >> 4)], hex[Int(u.value & 15)]]
        default: return Array(String(Character(u)).utf8)
        }
    }

    static func canonicalQuoted(_ s: String) -> [UInt8] { [0x22] + canonicalContent(s) + [0x22] }

    /// A scalar JSON value's canonical text (the text `JSON.write` gives; doubles as Swift prints them).
    static func canonicalScalar(_ v: JSON) -> [UInt8]? {
        switch v {
        case .null: Array("null".utf8)
        case .bool(let b): Array((b ? "true" : "false").utf8)
        case .int(let i): Array(String(i).utf8)
        case .double(let d): d.isFinite ? v.bytes : nil
        case .string(let s): canonicalQuoted(s)
        default: nil
        }
    }

    /// One character other than those in `excluded`, in canonical spelling.
    mutating func charExcept(_ excluded: Set<Unicode.Scalar>) throws(SchemaError) -> [[Element]] {
        var alternatives: [[Element]] = []
        var ascii = ByteSet(0x20...0x7F).subtracting(ByteSet(ascii: "\"\\"))
        for u in excluded where u.value < 0x80 { ascii.remove(UInt8(u.value)) }
        if !ascii.isEmpty { alternatives.append([.bytes(ascii)]) }
        // Escapes: the short ones, and \u00xx for the other control bytes.
        var short = ByteSet()
        let shortForms: [(UInt32, Character)] = [(0x22, "\""), (0x5C, "\\"), (0x08, "b"), (0x0C, "f"), (0x0A, "n"), (0x0D, "r"), (0x09, "t")]
        for (c, letter) in shortForms where !excluded.contains(Unicode.Scalar(c)!) { short.insert(letter.asciiValue!) }
        let plain = excluded.allSatisfy { $0.value >= 0x20 && $0.value != 0x22 && $0.value != 0x5C }
        if plain, let r = memo["escape canonical"] { return alternatives + [GrammarBuilder.literal("\\") + [.rule(r)]] + nonASCII(excluded) }
        var escapes: [[Element]] = short.isEmpty ? [] : [[.bytes(short)]]
        for high: UInt32 in 0...1 {
            var lows = ByteSet()
            for low: UInt32 in 0...15 {
                let c = high << 4 | low
                if [0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(c) || excluded.contains(Unicode.Scalar(c)!) { continue }
                lows.insert(Array("0123456789abcdef".utf8)[Int(low)])
            }
            if !lows.isEmpty { escapes.append(GrammarBuilder.literal("u00\(high)") + [.bytes(lows)]) }
        }
        if !escapes.isEmpty {
            let r = try rule("escape", escapes)
            if plain { memo["escape canonical"] = r }
            alternatives.append(GrammarBuilder.literal("\\") + [.rule(r)])
        }
        return alternatives + nonASCII(excluded)
    }

    /// Everything from U+0080 up, less the excluded scalars.
    private func nonASCII(_ excluded: Set<Unicode.Scalar>) -> [[Element]] {
        var alternatives: [[Element]] = []
        var start: UInt32 = 0x80
        for u in excluded.map(\.value).filter({ $0 >= 0x80 }).sorted() + [0x110000] {
            if start < u { for s in UTF8Ranges.sequences(start, u - 1) { alternatives.append(s.map { .bytes(ByteSet($0)) }) } }
            start = u + 1
        }
        return alternatives
    }

    /// A string body (after the opening quote, through the closing one) whose value is none of
    /// `names`: the names in canonical spelling as a trie of characters; leaving the trie by any
    /// other character (canonically spelled, so it really differs) frees the rest.
    mutating func stringBodyExcluding(_ names: [String]) throws(SchemaError) -> Int {
        let free = try stringBody()
        return try keyNode(names.map { Array($0.unicodeScalars) }, depth: 0, free: free)
    }

    private mutating func keyNode(_ names: [[Unicode.Scalar]], depth: Int, free: Int) throws(SchemaError) -> Int {
        var children: [Unicode.Scalar: [[Unicode.Scalar]]] = [:]
        var order: [Unicode.Scalar] = []
        var isName = false
        for n in names {
            if n.count == depth { isName = true; continue }
            if children[n[depth]] == nil { order.append(n[depth]) }
            children[n[depth], default: []].append(n)
        }
        let r = try declare("key")
        var alternatives: [[Element]] = []
        for c in order {
            alternatives.append(GrammarBuilder.literal(GrammarBuilder.canonicalChar(c)) + [.rule(try keyNode(children[c]!, depth: depth + 1, free: free))])
        }
        for a in try charExcept(Set(order)) { alternatives.append(a + [.rule(free)]) }
        if !isName { alternatives.append(GrammarBuilder.literal("\"")) }
        define(r, alternatives)
        return r
    }
}

// MARK: - Integer ranges, formats

extension GrammarBuilder {
    /// Integers in `lo...hi` (nil: unbounded up to 19 digits), in canonical spelling (no leading
    /// zeros, no "-0"): digit-range sequences, as range-to-regex tools build them.
    mutating func integerRange(lo: Int64?, hi: Int64?) throws(SchemaError) -> Int {
        let key = "int[\(lo.map(String.init) ?? ""),\(hi.map(String.init) ?? "")]"
        if let r = memo[key] { return r }
        var alternatives: [[Element]] = []
        if lo.map({ $0 < 0 }) ?? true {
            let nearest = min(hi ?? -1, -1)   // the negative closest to zero
            if lo.map({ $0 <= nearest }) ?? true {
                for s in try naturalRange(nearest.magnitude, lo?.magnitude) { alternatives.append(GrammarBuilder.literal("-") + s) }
            }
        }
        if hi.map({ $0 >= 0 }) ?? true {
            let a = UInt64(max(lo ?? 0, 0))
            if hi.map({ a <= UInt64($0) }) ?? true { alternatives += try naturalRange(a, hi.map { UInt64($0) }) }
        }
        let r = try rule("integer \(key)", alternatives)
        memo[key] = r
        return r
    }

    private static func pow10(_ n: Int) -> UInt64 { (0..<n).reduce(1) { x, _ in x * 10 } }

    private static func decimal(_ v: UInt64, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width)
        var v = v
        for i in stride(from: width - 1, through: 0, by: -1) { out[i] = UInt8(v % 10); v /= 10 }
        return out
    }

    /// Natural numbers in a...b (nil: up to 19 digits).
    mutating func naturalRange(_ a: UInt64, _ b: UInt64?) throws(SchemaError) -> [[Element]] {
        let maxDigits = GrammarBuilder.maxIntegerDigits
        let la = String(a).count
        let lb = b.map { String($0).count } ?? maxDigits
        var out: [[Element]] = []
        var length = la
        while length <= lb {
            if b == nil && length > la {
                // Every number of `length` to 19 digits.
                let more = try digits(maxDigits - length)
                out.append([.bytes(ByteSet(UInt8(ascii: "1")...UInt8(ascii: "9")))]
                           + Array(repeating: GrammarBuilder.digit, count: length - 1) + [.rule(more)])
                break
            }
            let lo = length == la ? a : GrammarBuilder.pow10(length - 1)
            let hi = (b != nil && length == lb) ? b! : GrammarBuilder.pow10(length) - 1
            for s in GrammarBuilder.sameLength(GrammarBuilder.decimal(lo, width: length)[...], GrammarBuilder.decimal(hi, width: length)[...]) {
                out.append(s.map { .bytes($0) })
            }
            length += 1
        }
        return out
    }

    /// Digit strings of one length from x to y.
    private static func sameLength(_ x: ArraySlice<UInt8>, _ y: ArraySlice<UInt8>) -> [[ByteSet]] {
        guard let x0 = x.first, let y0 = y.first else { return [[]] }
        let zero = UInt8(ascii: "0")
        let xr = x.dropFirst(), yr = y.dropFirst()
        if x0 == y0 { return sameLength(xr, yr).map { [ByteSet(zero + x0)] + $0 } }
        let anyRest = [ByteSet](repeating: ByteSet(zero...(zero + 9)), count: xr.count)
        let xZeros = xr.allSatisfy { $0 == 0 }, yNines = yr.allSatisfy { $0 == 9 }
        var out: [[ByteSet]] = []
        var low = x0, high = y0
        if !xZeros {
            out += sameLength(xr, ArraySlice(repeating: 9, count: xr.count)).map { [ByteSet(zero + x0)] + $0 }
            low = x0 + 1
        }
        if !yNines { high = y0 - 1 }
        if low <= high { out.append([ByteSet((zero + low)...(zero + high))] + anyRest) }
        if !yNines { out += sameLength(ArraySlice(repeating: 0, count: yr.count), yr).map { [ByteSet(zero + y0)] + $0 } }
        return out
    }

    /// A quoted string of a supported `format` ("date", "time", "date-time", "uuid" as RFC 3339 and
    /// RFC 4122 spell them; a day of 31 is allowed in every month), nil for others.
    mutating func format(_ name: String) throws(SchemaError) -> Int? {
        if let r = memo["format " + name] { return r }
        let d = GrammarBuilder.digit
        func set(_ s: String) -> Element { .bytes(ByteSet(ascii: s)) }
        func range(_ a: Character, _ b: Character) -> Element { .bytes(ByteSet(a.asciiValue!...b.asciiValue!)) }
        let q = GrammarBuilder.literal("\"")
        func date() throws(SchemaError) -> Int {
            let month = try rule("month", [GrammarBuilder.literal("0") + [range("1", "9")], GrammarBuilder.literal("1") + [range("0", "2")]])
            let day = try rule("day", [GrammarBuilder.literal("0") + [range("1", "9")], [set("12"), d], GrammarBuilder.literal("3") + [set("01")]])
            return try rule("date", [[d, d, d, d] + GrammarBuilder.literal("-") + [.rule(month)] + GrammarBuilder.literal("-") + [.rule(day)]])
        }
        func time() throws(SchemaError) -> Int {
            let hour = try rule("hour", [[set("01"), d], GrammarBuilder.literal("2") + [range("0", "3")]])
            let second = try rule("second", [[range("0", "5"), d], GrammarBuilder.literal("60")])
            let fraction = try rule("fraction", [[], GrammarBuilder.literal(".") + [d, .rule(try digits(8))]])
            let offset = try rule("offset", [[set("Zz")], [set("+-"), .rule(hour)] + GrammarBuilder.literal(":") + [range("0", "5"), d]])
            return try rule("time", [[.rule(hour)] + GrammarBuilder.literal(":") + [range("0", "5"), d] + GrammarBuilder.literal(":")
                                     + [.rule(second), .rule(fraction), .rule(offset)]])
        }
        let r: Int
        switch name {
        case "date": r = try rule("date", [q + [.rule(try date())] + q])
        case "time": r = try rule("time", [q + [.rule(try time())] + q])
        case "date-time": r = try rule("date-time", [q + [.rule(try date()), set("Tt"), .rule(try time())] + q])
        case "uuid":
            let h = GrammarBuilder.hexDigit
            func hex(_ n: Int) -> [Element] { Array(repeating: h, count: n) }
            let dash = GrammarBuilder.literal("-")
            r = try rule("uuid", [q + hex(8) + dash + hex(4) + dash + hex(4) + dash + hex(4) + dash + hex(12) + q])
        default: return nil
        }
        memo["format " + name] = r
        return r
    }
}

// MARK: - Number ranges

/// A decimal number as digits: `int`.`frac`, frac without trailing zeros.
struct DecimalDigits: Equatable {
    var negative: Bool
    var int: UInt64
    var frac: [UInt8]

    /// From a JSON number; nil when its integer part has more than 19 digits (beyond what the
    /// number grammar writes). `huge` tells that case apart.
    static func from(_ v: JSON) -> (digits: DecimalDigits?, huge: Bool)? {
        switch v {
        case .int(let i): return (DecimalDigits(negative: i < 0, int: UInt64(i.magnitude), frac: []), false)
        case .double(let d) where d.isFinite:
            // Swift's shortest round-trip spelling, exponent expanded.
            var text = "\(d.magnitude)"
            var exponent = 0
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                exponent = Int(text[text.index(after: e)...])!
                text = String(text[..<e])
            }
            var digits = Array(text.utf8.filter { $0 != UInt8(ascii: ".") }.map { $0 - UInt8(ascii: "0") })
            var point = text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? text.count
            point += exponent
            if point < 0 { digits = [UInt8](repeating: 0, count: -point) + digits; point = 0 }
            if point > digits.count { digits += [UInt8](repeating: 0, count: point - digits.count) }
            let intDigits = digits[..<point].drop(while: { $0 == 0 })
            guard intDigits.count <= GrammarBuilder.maxIntegerDigits else { return (nil, true) }
            var frac = Array(digits[point...])
            while frac.last == 0 { frac.removeLast() }
            let int = intDigits.reduce(UInt64(0)) { $0 * 10 + UInt64($1) }
            return (DecimalDigits(negative: d < 0 && (int != 0 || !frac.isEmpty), int: int, frac: frac), false)
        default: return nil
        }
    }

    var isZero: Bool { int == 0 && frac.isEmpty }
}

extension GrammarBuilder {
    struct NumberBound {
        var value: DecimalDigits
        var exclusive: Bool
    }

    /// Numbers within the bounds, written without an exponent (`-? int (. digits)?`, at most 19
    /// digits either side of the point, no "-0"). Bounds compare with the decimal text exactly.
    mutating func numberRange(lower: NumberBound?, upper: NumberBound?) throws(SchemaError) -> Int {
        var alternatives: [[Element]] = []
        let zero = DecimalDigits(negative: false, int: 0, frac: [])
        // x >= 0.
        if upper.map({ !$0.value.negative }) ?? true {
            let low = lower.flatMap { $0.value.negative ? nil : $0 } ?? NumberBound(value: zero, exclusive: false)
            alternatives += try magnitudes(low, upper)
        }
        // x < 0: -m with m within the mirrored bounds.
        if lower.map({ $0.value.negative }) ?? true {
            var low = NumberBound(value: zero, exclusive: true)
            if let upper, upper.value.negative { low = upper }
            var high = lower
            low.value.negative = false
            high?.value.negative = false
            for a in try magnitudes(low, high) { alternatives.append(GrammarBuilder.literal("-") + a) }
        }
        return try rule("number range", alternatives)
    }

    /// Unsigned numbers m with low <= m <= high (bounds exclusive where marked; high nil: any).
    private mutating func magnitudes(_ low: NumberBound, _ high: NumberBound?) throws(SchemaError) -> [[Element]] {
        let intLow = low.value.int
        func literal(_ v: UInt64) -> [Element] { GrammarBuilder.literal(String(v)) }
        var out: [[Element]] = []
        let anyFraction = try fraction(low: nil, high: nil)
        if let high {
            let intHigh = high.value.int
            if intLow == intHigh {
                out.append(literal(intLow) + [.rule(try fraction(low: low, high: high))])
            } else if intLow < intHigh {
                out.append(literal(intLow) + [.rule(try fraction(low: low, high: nil))])
                if intLow + 1 < intHigh {
                    for s in try naturalRange(intLow + 1, intHigh - 1) { out.append(s + [.rule(anyFraction)]) }
                }
                out.append(literal(intHigh) + [.rule(try fraction(low: nil, high: high))])
            }
        } else {
            out.append(literal(intLow) + [.rule(try fraction(low: low, high: nil))])
            if intLow < 9_999_999_999_999_999_999 {
                for s in try naturalRange(intLow + 1, nil) { out.append(s + [.rule(anyFraction)]) }
            }
        }
        return out
    }

    /// The optional fraction (nothing, or "." and 1 to 19 digits) of a number whose integer part
    /// equals that of `low` / `high` (nil: not bound on that side): a digit-by-digit comparison,
    /// a rule per (digits read, still equal to low's digits, still equal to high's digits).
    private mutating func fraction(low: NumberBound?, high: NumberBound?) throws(SchemaError) -> Int {
        let key = "frac \(low.map { "\($0.value.frac)\($0.exclusive)" } ?? "-") \(high.map { "\($0.value.frac)\($0.exclusive)" } ?? "-")"
        if let r = memo[key] { return r }
        let lf = low?.value.frac ?? [], hf = high?.value.frac ?? []
        let maxDigits = GrammarBuilder.maxIntegerDigits
        func canEnd(_ i: Int, _ tl: Bool, _ th: Bool) -> Bool {
            // Still equal to a bound: equal to it if its digits are used up, below it otherwise.
            if tl && lf.count <= i && low!.exclusive { return false }
            if tl && lf.count > i { return false }
            if th && hf.count <= i && high!.exclusive { return false }
            return true
        }
        var states: [String: Int] = [:]
        func state(_ i: Int, _ tl: Bool, _ th: Bool) throws(SchemaError) -> Int {
            let k = "\(i) \(tl) \(th)"
            if let r = states[k] { return r }
            if !tl && !th { return try digits(maxDigits - i) }
            var alternatives: [[Element]] = []
            if i >= 1 && canEnd(i, tl, th) { alternatives.append([]) }
            if i < maxDigits {
                let lo = tl && i < lf.count ? lf[i] : 0
                let hi: UInt8 = th ? (i < hf.count ? hf[i] : 0) : 9
                var groups: [(Bool, Bool, ByteSet)] = []
                for x in UInt8(0)...9 where (!tl || x >= lo) && (!th || x <= hi) {
                    let next = (tl && x == lo, th && x == hi)
                    if let g = groups.firstIndex(where: { $0.0 == next.0 && $0.1 == next.1 }) {
                        groups[g].2.insert(UInt8(ascii: "0") + x)
                    } else {
                        groups.append((next.0, next.1, ByteSet(UInt8(ascii: "0") + x)))
                    }
                }
                for (ntl, nth, set) in groups { alternatives.append([.bytes(set), .rule(try state(i + 1, ntl, nth))]) }
            }
            let r = try rule("fraction digits", alternatives)
            states[k] = r
            return r
        }
        var alternatives: [[Element]] = []
        if canEnd(0, low != nil, high != nil) { alternatives.append([]) }
        let first = try state(0, low != nil, high != nil)
        alternatives.append(GrammarBuilder.literal(".") + [.rule(first)])
        let r = try rule("fraction", alternatives)
        memo[key] = r
        return r
    }
}
