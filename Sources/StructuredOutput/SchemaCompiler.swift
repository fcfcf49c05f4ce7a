import StrictJSON

/// JSON Schema → grammar rules (what is supported: `Grammar.jsonSchema`). Each schema becomes a
/// rule matching one value, without surrounding whitespace; each `$ref` target becomes one rule,
/// compiled once (declared before its body, so recursive references close the loop).
struct SchemaCompiler {
    let root: JSON
    /// Put before every error path ("tools[0].parameters"); "" for response formats.
    let pathPrefix: String
    var builder: GrammarBuilder
    private var refRules: [String: Int] = [:]

    init(root: JSON, pathPrefix: String, builder: GrammarBuilder) {
        self.root = root
        self.pathPrefix = pathPrefix
        self.builder = builder
    }

    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "strict", "deprecated",
        "readOnly", "writeOnly", "discriminator",
    ]
    static let supported: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "prefixItems", "minItems", "maxItems",
        "enum", "const", "anyOf", "oneOf", "allOf", "minLength", "maxLength", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "$defs", "definitions", "$ref", "format",
    ]
    static let typeNames: [String] = ["null", "boolean", "object", "array", "number", "integer", "string"]
    static let objectKeywords: Set<String> = ["properties", "required", "additionalProperties"]
    static let arrayKeywords: Set<String> = ["items", "prefixItems", "minItems", "maxItems"]
    static let stringKeywords: Set<String> = ["minLength", "maxLength", "format"]
    static let numberKeywords: Set<String> = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]

    /// The keywords of one schema object, in document order, annotations dropped.
    struct Keywords {
        var pairs: [(String, JSON)]
        subscript(_ key: String) -> JSON? { pairs.first { $0.0 == key }?.1 }
        func has(_ key: String) -> Bool { pairs.contains { $0.0 == key } }
    }

    private func fullPath(_ path: String) -> String { pathPrefix + path }

    private func invalid(_ path: String, _ reason: String) -> SchemaError { .invalid(path: fullPath(path), reason: reason) }

    private func unsupported(_ path: String, _ keyword: String) -> SchemaError {
        .unsupportedKeyword(path: fullPath(path), keyword: keyword)
    }

    static func escape(_ token: String) -> String {
        token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// A rule matching the values valid against `schema` (at JSON pointer `path`).
    mutating func compile(_ schema: JSON, path: String) throws(SchemaError) -> Int {
        let pairs: [(String, JSON)]
        switch schema {
        case .bool(true): return try builder.anyValue()
        case .bool(false): return try builder.rule("false", [])
        case .object(let p): pairs = p
        default: throw invalid(path, "a schema must be an object or a boolean, not \(schema.kind)")
        }
        var k = Keywords(pairs: [])
        for (key, value) in pairs {
            if SchemaCompiler.annotations.contains(key) { continue }
            guard SchemaCompiler.supported.contains(key) else { throw unsupported(path, key) }
            if key == "$defs" || key == "definitions" {
                guard case .object = value else { throw invalid(path, "\(key) must be an object") }
                continue
            }
            k.pairs.append((key, value))
        }

        if k.pairs.isEmpty { return try builder.anyValue() }
        if let ref = k["$ref"] {
            try only(k, ["$ref"], path)
            return try compileRef(ref, path: path)
        }
        for key in ["anyOf", "oneOf"] where k.has(key) {
            try only(k, [key], path)
            guard case .array(let items)? = k[key], !items.isEmpty else { throw invalid(path, "\(key) must be a non-empty array") }
            var alternatives: [[Element]] = []
            for (i, item) in items.enumerated() {
                alternatives.append([.rule(try compile(item, path: "\(path)/\(key)/\(i)"))])
            }
            return try builder.rule(path, alternatives)
        }
        if k.has("allOf") {
            try only(k, ["allOf"], path)
            guard case .array(let items)? = k["allOf"], !items.isEmpty else { throw invalid(path, "allOf must be a non-empty array") }
            guard items.count == 1 else { throw unsupported(path, "allOf") }
            return try compile(items[0], path: "\(path)/allOf/0")
        }
        if k.has("enum") || k.has("const") { return try compileLiterals(k, path: path) }

        let types = try self.types(k, path: path)
        var alternatives: [[Element]] = []
        for t in types {
            let r: Int
            switch t {
            case "null": r = try builder.null()
            case "boolean": r = try builder.boolean()
            case "integer" where !types.contains("number"): r = try integer(k, path: path)
            case "integer": continue
            case "number": r = try number(k, path: path)
            case "string": r = try string(k, path: path)
            case "array": r = try array(k, path: path)
            default: r = try object(k, path: path)
            }
            alternatives.append([.rule(r)])
        }
        if alternatives.count == 1, case .rule(let r) = alternatives[0][0] { return r }
        return try builder.rule(path, alternatives)
    }

    /// Throws if a keyword other than `allowed` is present (beside $ref, anyOf, ... only annotations).
    private func only(_ k: Keywords, _ allowed: Set<String>, _ path: String) throws(SchemaError) {
        if let other = k.pairs.first(where: { !allowed.contains($0.0) }) { throw unsupported(path, other.0) }
    }

    /// The types the schema allows, in a fixed order; without `type`, those its keywords apply to.
    private func types(_ k: Keywords, path: String) throws(SchemaError) -> [String] {
        var names: [String] = []
        switch k["type"] {
        case .string(let t)?: names = [t]
        case .array(let items)?:
            for item in items {
                guard case .string(let t) = item else { throw invalid(path, "type must be a string or an array of strings") }
                names.append(t)
            }
            guard !names.isEmpty else { throw invalid(path, "type must not be empty") }
        case nil:
            let keys = Set(k.pairs.map(\.0))
            if !keys.isDisjoint(with: SchemaCompiler.objectKeywords) { names.append("object") }
            if !keys.isDisjoint(with: SchemaCompiler.arrayKeywords) { names.append("array") }
            if !keys.isDisjoint(with: SchemaCompiler.stringKeywords) { names.append("string") }
            if !keys.isDisjoint(with: SchemaCompiler.numberKeywords) { names.append("number") }
            if names.isEmpty { names = SchemaCompiler.typeNames }
        default: throw invalid(path, "type must be a string or an array of strings")
        }
        for t in names where !SchemaCompiler.typeNames.contains(t) { throw invalid(path, "unknown type \"\(t)\"") }
        return SchemaCompiler.typeNames.filter { names.contains($0) }
    }

    // MARK: $ref

    private mutating func compileRef(_ ref: JSON, path: String) throws(SchemaError) -> Int {
        guard case .string(let pointer) = ref else { throw invalid(path, "$ref must be a string") }
        guard pointer.hasPrefix("#") else { throw unsupported(path, "$ref") }
        if let r = refRules[pointer] { return r }
        guard let target = resolve(pointer) else { throw invalid(path, "$ref \"\(pointer)\" does not resolve") }
        let r = try builder.declare(pointer)
        refRules[pointer] = r
        let inner = try compile(target, path: pointer)
        builder.define(r, [[.rule(inner)]])
        return r
    }

    /// A local JSON pointer ("#", "#/$defs/Name") into the root schema.
    private func resolve(_ pointer: String) -> JSON? {
        var rest = pointer.dropFirst()
        guard let decoded = String(rest).removingPercentEncodingIfAny() else { return nil }
        rest = Substring(decoded)
        if rest.isEmpty { return root }
        guard rest.hasPrefix("/") else { return nil }
        var node = root
        for raw in rest.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = raw.replacing("~1", with: "/").replacing("~0", with: "~")
            switch node {
            case .object(let pairs):
                guard let next = pairs.first(where: { $0.0 == token })?.1 else { return nil }
                node = next
            case .array(let items):
                guard let i = Int(token), items.indices.contains(i) else { return nil }
                node = items[i]
            default: return nil
            }
        }
        return node
    }

    // MARK: Scalars

    private func count(_ k: Keywords, _ key: String, path: String) throws(SchemaError) -> Int? {
        guard let v = k[key] else { return nil }
        switch v {
        case .int(let i) where i >= 0: return i
        case .double(let d) where d >= 0 && d == d.rounded() && d < 1e15: return Int(d)
        default: throw invalid(path, "\(key) must be a non-negative integer")
        }
    }

    private mutating func string(_ k: Keywords, path: String) throws(SchemaError) -> Int {
        let minLength = try count(k, "minLength", path: path) ?? 0
        let maxLength = try count(k, "maxLength", path: path)
        if let format = k["format"] {
            guard case .string(let name) = format else { throw invalid(path, "format must be a string") }
            guard minLength == 0 && maxLength == nil else { throw unsupported(path, k.has("minLength") ? "minLength" : "maxLength") }
            guard let r = try builder.format(name) else { throw unsupported(path, "format") }
            return r
        }
        return try builder.string(min: minLength, max: maxLength)
    }

    /// The integer bounds as an inclusive range (nil: unbounded), or nil when no integer fits.
    /// Integer bounds are exact; fractional ones are rounded inwards.
    private func integerBounds(_ k: Keywords, path: String) throws(SchemaError) -> (lo: Int64?, hi: Int64?)? {
        var lo: Int64? = nil, hi: Int64? = nil
        let limit = 9.2e18
        for (key, isLower, exclusive) in [("minimum", true, false), ("exclusiveMinimum", true, true),
                                          ("maximum", false, false), ("exclusiveMaximum", false, true)] {
            guard let v = k[key] else { continue }
            var bound: Int64
            switch v {
            case .int(let i):
                if exclusive && i == (isLower ? Int.max : Int.min) { return nil }
                bound = Int64(exclusive ? (isLower ? i + 1 : i - 1) : i)
            case .double(let d) where d.isFinite:
                let x = isLower ? (exclusive ? d.rounded(.down) + 1 : d.rounded(.up)) : (exclusive ? d.rounded(.up) - 1 : d.rounded(.down))
                if isLower ? x > limit : x < -limit { return nil }
                if isLower ? x < -limit : x > limit { continue }
                bound = Int64(x)
            default: throw invalid(path, "\(key) must be a number")
            }
            if isLower { lo = max(lo ?? bound, bound) } else { hi = min(hi ?? bound, bound) }
        }
        if let l = lo, let h = hi, l > h { return nil }
        return (lo, hi)
    }

    /// Numbers; with bounds, written without an exponent and compared digit by digit.
    private mutating func number(_ k: Keywords, path: String) throws(SchemaError) -> Int {
        var lower: GrammarBuilder.NumberBound? = nil, upper: GrammarBuilder.NumberBound? = nil
        var bounded = false
        for (key, isLower, exclusive) in [("minimum", true, false), ("exclusiveMinimum", true, true),
                                          ("maximum", false, false), ("exclusiveMaximum", false, true)] {
            guard let v = k[key] else { continue }
            bounded = true
            guard let (digits, huge) = DecimalDigits.from(v) else { throw invalid(path, "\(key) must be a number") }
            guard let digits else {
                // Beyond 19 integer digits: no written number reaches it (a huge lower bound, a huge
                // negative upper one), or it bounds nothing.
                let negative = (v.doubleValue ?? 0) < 0
                if huge && isLower != negative { return try builder.rule("number (no value fits)", []) }
                continue
            }
            let bound = GrammarBuilder.NumberBound(value: digits, exclusive: exclusive)
            if isLower {
                if lower.map({ SchemaCompiler.compare(bound, $0, lower: true) > 0 }) ?? true { lower = bound }
            } else {
                if upper.map({ SchemaCompiler.compare(bound, $0, lower: false) < 0 }) ?? true { upper = bound }
            }
        }
        if !bounded { return try builder.number() }
        return try builder.numberRange(lower: lower, upper: upper)
    }

    /// Orders bounds by value, an exclusive one past an inclusive one of the same value (inwards).
    static func compare(_ a: GrammarBuilder.NumberBound, _ b: GrammarBuilder.NumberBound, lower: Bool) -> Int {
        func sign(_ d: DecimalDigits) -> Int { d.isZero ? 0 : (d.negative ? -1 : 1) }
        var c = 0
        if sign(a.value) != sign(b.value) {
            c = sign(a.value) < sign(b.value) ? -1 : 1
        } else {
            var m = 0
            if a.value.int != b.value.int {
                m = a.value.int < b.value.int ? -1 : 1
            } else {
                let n = max(a.value.frac.count, b.value.frac.count)
                let x = a.value.frac + [UInt8](repeating: 0, count: n - a.value.frac.count)
                let y = b.value.frac + [UInt8](repeating: 0, count: n - b.value.frac.count)
                m = x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
            }
            c = sign(a.value) < 0 ? -m : m
        }
        if c != 0 || a.exclusive == b.exclusive { return c }
        // Same value: the exclusive bound is the tighter one.
        return (a.exclusive == lower) ? 1 : -1
    }

    private mutating func integer(_ k: Keywords, path: String) throws(SchemaError) -> Int {
        guard let (lo, hi) = try integerBounds(k, path: path) else { return try builder.rule("integer (no value fits)", []) }
        if lo == nil && hi == nil { return try builder.integer() }
        return try builder.integerRange(lo: lo, hi: hi)
    }

    // MARK: Arrays

    private mutating func array(_ k: Keywords, path: String) throws(SchemaError) -> Int {
        var prefix: [Int] = []
        if let p = k["prefixItems"] {
            guard case .array(let items) = p else { throw invalid(path, "prefixItems must be an array") }
            for (i, item) in items.enumerated() { prefix.append(try compile(item, path: "\(path)/prefixItems/\(i)")) }
        }
        var item: Int? = try builder.anyValue()
        switch k["items"] {
        case nil: break
        case .bool(false)?: item = nil
        case .array?: throw invalid(path, "items must be a schema (tuples: prefixItems)")
        case let schema?: item = try compile(schema, path: "\(path)/items")
        }
        let minItems = try count(k, "minItems", path: path) ?? 0
        var maxItems = try count(k, "maxItems", path: path)
        if item == nil { maxItems = min(maxItems ?? prefix.count, prefix.count) }
        if let maxItems, minItems > maxItems { return try builder.rule("array (no length fits)", []) }

        let wsnl = try builder.wsNewline(), wsc = try builder.wsComma()
        let close: [Element] = [.rule(wsnl)] + GrammarBuilder.literal("]")
        func element(_ t: Int) -> Int { t < prefix.count ? prefix[t] : item! }
        // rest[c]: after c elements. Unbounded: from max(prefix, minItems, 1) on, one rule loops.
        let top = maxItems ?? max(prefix.count, minItems, 1)
        guard top < Grammar.maxRules else { throw .tooComplex("array length bound \(top) at \(fullPath(path)) exceeds \(Grammar.maxRules)") }
        var rest: [Int] = [-1]
        if top >= 1 { for c in 1...top { rest.append(try builder.declare("\(path)[\(c)]")) } }
        if top >= 1 {
            for c in 1...top {
                var alternatives: [[Element]] = []
                if maxItems == nil && c == top {
                    alternatives.append(GrammarBuilder.literal(",") + [.rule(wsc), .rule(element(c)), .rule(rest[c])])
                } else if c < top {
                    alternatives.append(GrammarBuilder.literal(",") + [.rule(wsc), .rule(element(c)), .rule(rest[c + 1])])
                }
                if c >= minItems { alternatives.append(close) }
                builder.define(rest[c], alternatives)
            }
        }
        var body: [[Element]] = []
        if minItems == 0 { body.append(GrammarBuilder.literal("]")) }
        if top >= 1 && (maxItems ?? 1) >= 1 { body.append([.rule(element(0)), .rule(rest[1])]) }
        let bodyRule = try builder.rule("\(path)[", body)
        return try builder.rule(path, [GrammarBuilder.literal("[") + [.rule(wsnl), .rule(bodyRule)]])
    }

    // MARK: Objects

    /// Above this many trie entries over all positions, optional properties are chained instead
    /// (a stack per candidate key while a key is matched, instead of one).
    static let maxKeyTrieEntries = 4_000

    private mutating func object(_ k: Keywords, path: String) throws(SchemaError) -> Int {
        var names: [String] = []
        var schemas: [JSON] = []
        if let p = k["properties"] {
            guard case .object(let pairs) = p else { throw invalid(path, "properties must be an object") }
            for (name, schema) in pairs { names.append(name); schemas.append(schema) }
        }
        var required = Set<String>()
        if let r = k["required"] {
            guard case .array(let items) = r else { throw invalid(path, "required must be an array of strings") }
            for item in items {
                guard case .string(let name) = item else { throw invalid(path, "required must be an array of strings") }
                guard names.contains(name) else { throw invalid(path, "required property \"\(name)\" is not in properties") }
                required.insert(name)
            }
        }
        // Absent additionalProperties is taken as false beside `properties` (strict outputs), and as
        // true without them ({"type": "object"} is any object).
        var extraValue: Int? = nil
        switch k["additionalProperties"] {
        case nil where !k.has("properties"): extraValue = try builder.anyValue()
        case nil, .bool(false)?: break
        case .bool(true)?: extraValue = try builder.anyValue()
        case let schema?: extraValue = try compile(schema, path: "\(path)/additionalProperties")
        }
        var values: [Int] = []
        for (name, schema) in zip(names, schemas) {
            values.append(try compile(schema, path: "\(path)/properties/\(SchemaCompiler.escape(name))"))
        }

        let n = names.count
        let isRequired = names.map { required.contains($0) }
        // firstRequired[i]: the first required property at or after i (n if none).
        var firstRequired = [Int](repeating: n, count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) { firstRequired[i] = isRequired[i] ? i : firstRequired[i + 1] }

        let wsnl = try builder.wsNewline(), wsc = try builder.wsComma(), wscolon = try builder.wsColon()
        let close: [Element] = [.rule(wsnl)] + GrammarBuilder.literal("}")
        let comma: [Element] = GrammarBuilder.literal(",") + [.rule(wsc)]

        var extraMember: Int? = nil, extraRest: Int? = nil
        if let extraValue {
            let key = try builder.stringBodyExcluding(names)
            extraMember = try builder.rule("\(path) extra", sequence: GrammarBuilder.literal("\"") + [.rule(key)] + GrammarBuilder.literal(":") + [.rule(wscolon), .rule(extraValue)])
            let r = try builder.declare("\(path) extra,")
            builder.define(r, [comma + [.rule(extraMember!), .rule(r)], close])
            extraRest = r
        }

        // rest[i]: after property i.
        var rest: [Int] = []
        for i in 0..<n { rest.append(try builder.declare("\(path) after \(names[i])")) }
        func member(_ j: Int) -> (bytes: [UInt8], tail: [Element]) {
            (GrammarBuilder.canonicalQuoted(names[j]) + Array(":".utf8), [.rule(wscolon), .rule(values[j]), .rule(rest[j])])
        }
        let extras: [[Element]] = extraMember.map { [[.rule($0), .rule(extraRest!)]] } ?? []
        // Candidates for the next property after i (or at the start, i = -1): up to the first required one.
        var trieEntries = 0
        for i in -1..<n { trieEntries += min(firstRequired[i + 1], n - 1) - i }
        let useTrie = trieEntries <= SchemaCompiler.maxKeyTrieEntries
        var chain: [Int] = []
        if !useTrie {
            // chain[j]: property j or (if optional) any candidate after it; chain[n]: the extras.
            for j in 0...n { chain.append(try builder.declare("\(path) from \(j)")) }
            for j in 0...n {
                if j == n { builder.define(chain[j], extras); continue }
                let (bytes, tail) = member(j)
                var alternatives = [GrammarBuilder.literal(bytes) + tail]
                if !isRequired[j] { alternatives.append([.rule(chain[j + 1])]) }
                builder.define(chain[j], alternatives)
            }
        }
        func candidates(after i: Int) throws(SchemaError) -> [[Element]] {
            if !useTrie { return i + 1 <= n ? [[.rule(chain[i + 1])]] : [] }
            var entries: [(bytes: [UInt8], tail: [Element])] = []
            var j = i + 1
            while j < n {
                entries.append(member(j))
                if isRequired[j] { break }
                j += 1
            }
            var alternatives = try builder.trie("\(path) keys", entries)
            if firstRequired[i + 1] == n { alternatives += extras }
            return alternatives
        }
        for i in 0..<n {
            var alternatives: [[Element]] = []
            let next = try candidates(after: i)
            if !next.isEmpty { alternatives.append(comma + [.rule(try builder.rule("\(path) next", next))]) }
            if firstRequired[i + 1] == n { alternatives.append(close) }
            builder.define(rest[i], alternatives)
        }
        var body = try candidates(after: -1)
        if firstRequired[0] == n { body.append(GrammarBuilder.literal("}")) }
        let bodyRule = try builder.rule("\(path){", body)
        return try builder.rule(path, sequence: GrammarBuilder.literal("{") + [.rule(wsnl), .rule(bodyRule)])
    }

    // MARK: enum, const

    static let literalSiblings: Set<String> = ["enum", "const", "type", "minLength", "maxLength", "minimum", "maximum",
                                               "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems"]

    private mutating func compileLiterals(_ k: Keywords, path: String) throws(SchemaError) -> Int {
        try only(k, SchemaCompiler.literalSiblings, path)
        var values: [JSON]
        if let e = k["enum"] {
            guard case .array(let items) = e else { throw invalid(path, "enum must be an array") }
            values = items
            if let c = k["const"] { values = values.filter { SchemaCompiler.equal($0, c) } }
        } else {
            values = [k["const"]!]
        }
        let types = k.has("type") ? try self.types(k, path: path) : SchemaCompiler.typeNames
        let minLength = try count(k, "minLength", path: path), maxLength = try count(k, "maxLength", path: path)
        let minItems = try count(k, "minItems", path: path), maxItems = try count(k, "maxItems", path: path)
        let bounds = try integerBoundsForLiterals(k, path: path)
        values = values.filter { v in
            switch v {
            case .null: return types.contains("null")
            case .bool: return types.contains("boolean")
            case .int(let i):
                guard types.contains("integer") || types.contains("number") else { return false }
                return bounds(Double(i))
            case .double(let d):
                guard types.contains("number") || (types.contains("integer") && d == d.rounded()) else { return false }
                return bounds(d)
            case .string(let s):
                guard types.contains("string") else { return false }
                let n = s.unicodeScalars.count
                return n >= (minLength ?? 0) && n <= (maxLength ?? Int.max)
            case .array(let items):
                guard types.contains("array") else { return false }
                return items.count >= (minItems ?? 0) && items.count <= (maxItems ?? Int.max)
            case .object: return types.contains("object")
            case .raw: return false
            }
        }
        var entries: [(bytes: [UInt8], tail: [Element])] = []
        var alternatives: [[Element]] = []
        for v in values {
            if let bytes = GrammarBuilder.canonicalScalar(v) {
                entries.append((bytes, []))
            } else {
                alternatives.append(try structuralLiteral(v))
            }
        }
        alternatives = try builder.trie("\(path) literal", entries) + alternatives
        return try builder.rule(path, alternatives)
    }

    /// The numeric bounds as a predicate (for enum values).
    private func integerBoundsForLiterals(_ k: Keywords, path: String) throws(SchemaError) -> (Double) -> Bool {
        var checks: [(Double) -> Bool] = []
        for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
            guard let v = k[key] else { continue }
            let b: Double
            switch v {
            case .int(let i): b = Double(i)
            case .double(let d) where d.isFinite: b = d
            default: throw invalid(path, "\(key) must be a number")
            }
            switch key {
            case "minimum": checks.append { $0 >= b }
            case "maximum": checks.append { $0 <= b }
            case "exclusiveMinimum": checks.append { $0 > b }
            default: checks.append { $0 < b }
            }
        }
        return { x in checks.allSatisfy { $0(x) } }
    }

    /// An array or object value, with the whitespace of the JSON pieces between its tokens.
    private mutating func structuralLiteral(_ v: JSON) throws(SchemaError) -> [Element] {
        if let bytes = GrammarBuilder.canonicalScalar(v) { return GrammarBuilder.literal(bytes) }
        let wsnl = try builder.wsNewline(), wsc = try builder.wsComma(), wscolon = try builder.wsColon()
        switch v {
        case .array(let items):
            if items.isEmpty { return GrammarBuilder.literal("[") + [.rule(wsnl)] + GrammarBuilder.literal("]") }
            var out = GrammarBuilder.literal("[") + [.rule(wsnl)]
            for (i, item) in items.enumerated() {
                if i > 0 { out += GrammarBuilder.literal(",") + [.rule(wsc)] }
                out += try structuralLiteral(item)
            }
            return out + [.rule(wsnl)] + GrammarBuilder.literal("]")
        case .object(let pairs):
            if pairs.isEmpty { return GrammarBuilder.literal("{") + [.rule(wsnl)] + GrammarBuilder.literal("}") }
            var out = GrammarBuilder.literal("{") + [.rule(wsnl)]
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += GrammarBuilder.literal(",") + [.rule(wsc)] }
                out += GrammarBuilder.literal(GrammarBuilder.canonicalQuoted(key) + Array(":".utf8)) + [.rule(wscolon)]
                out += try structuralLiteral(value)
            }
            return out + [.rule(wsnl)] + GrammarBuilder.literal("}")
        default:
            return [.bytes(ByteSet())]   // a non-finite double: matches nothing
        }
    }

    /// JSON Schema equality: numbers by value (1 == 1.0), objects regardless of key order.
    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.allSatisfy { pair in y.contains { $0.0 == pair.0 && equal($0.1, pair.1) } }
        default: return a == b
        }
    }
}

extension JSON {
    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}

extension String {
    /// Percent-decoding of a URI fragment ("#/$defs/A%20B"); nil when malformed.
    func removingPercentEncodingIfAny() -> String? {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
