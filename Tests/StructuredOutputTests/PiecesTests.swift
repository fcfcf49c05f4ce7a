import StrictJSON
import Testing
@testable import StructuredOutput

/// The JSON pieces: whitespace, strings, numbers, integer ranges, formats, literals.
@Suite struct PiecesTests {
    let anyValue = try! Support.grammar("{}")

    @Test func whitespaceIsBounded() throws {
        let g = try Support.grammar(#"{"type":"object","properties":{"a":{"type":"array"},"b":{"type":"integer"}}}"#)
        let twenty = String(repeating: " ", count: 20)
        for ok in [#"{"a":[1,2],"b":3}"#, #"{"a": [1, 2], "b": 3}"#, "{\n\(twenty)\"a\": [\n1,\n\(twenty)2\n],\n \"b\":3\n}", "{\n}", "[\n]".isEmpty ? "" : #"{"a":[]}"#] {
            #expect(Support.accepts(g, ok), "\(ok)")
        }
        for bad in ["{\n\(twenty) \"a\":[]}", #"{"a" :[]}"#, #"{"a":  []}"#, #"{"a":[1 ,2]}"#, #"{"a":[1,  2]}"#, "{\t\"a\":[]}",
                    "{\r\n\"a\":[]}", #" {"a":[]}"#, "{\"a\":[]}\n", #"{ "a":[]}"#, "{\"a\":\n[]}"] {
            #expect(!Support.accepts(g, bad), "\(bad)")
        }
    }

    @Test func strings() {
        for ok in [#""""#, #""a b""#, #""\"\\\/\b\f\n\r\t""#, #""\u00e9\u00E9\uD83D\uDE00\ud7ff\ue000""#, "\"é中😀\u{7f}\"", #""\u0000""#] {
            #expect(Support.accepts(anyValue, ok), "\(ok)")
        }
        for bad in ["\"\u{1}\"", "\"\n\"", #""\x""#, #""\u12""#, #""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""abc"#, "\"\u{7f}"] {
            #expect(!Support.accepts(anyValue, bad), "\(bad)")
        }
        // Invalid UTF-8: overlong, surrogate, beyond U+10FFFF, stray continuation, truncated.
        for bytes: [UInt8] in [[0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xE2, 0x82]] {
            #expect(!Support.accepts(anyValue, [0x22] + bytes + [0x22]), "\(bytes)")
        }
    }

    @Test func utf8SequencesMatchEveryScalarOnce() {
        let sequences = UTF8Ranges.sequences(0x80, 0x10FFFF)
        func matches(_ bytes: [UInt8]) -> Int {
            sequences.filter { s in s.count == bytes.count && zip(s, bytes).allSatisfy { $0.contains($1) } }.count
        }
        var scalars = Array(stride(from: UInt32(0x80), to: 0x10000, by: 7)) + [0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF]
        scalars += stride(from: UInt32(0x10000), to: 0x110000, by: 997).map { $0 }
        for c in scalars where !(0xD800...0xDFFF).contains(c) {
            #expect(matches(UTF8Ranges.encode(c)) == 1, "U+\(String(c, radix: 16))")
        }
        // Excluding scalars (property names) still covers the rest exactly once.
        let split = UTF8Ranges.sequences(0x80, 0xE8) + UTF8Ranges.sequences(0xEA, 0x10FFFF)
        #expect(split.filter { s in s.count == 2 && s[0].contains(0xC3) && s[1].contains(0xA9) }.isEmpty)
    }

    @Test func stringLengthsCountScalars() throws {
        let g = try Support.grammar(#"{"type":"string","minLength":2,"maxLength":3}"#)
        for ok in [#""ab""#, #""abc""#, #""é😀""#, #""\n\u0041""#, #""\ud83d\ude00\ud83d\ude00""#] { #expect(Support.accepts(g, ok), "\(ok)") }
        for bad in [#""a""#, #""abcd""#, #""😀""#, #""\ud83d\ude00""#, #""é""#] { #expect(!Support.accepts(g, bad), "\(bad)") }
    }

    @Test func numbers() throws {
        let g = try Support.grammar(#"{"type":"number"}"#)
        for ok in ["0", "-0", "1", "-1.5", "3.14159", "1e5", "1E+05", "2.5e-300", "-0.0e0", "1234567890123456789", "0.1234567890123456789", "9e99"] {
            #expect(Support.accepts(g, ok), "\(ok)")
            #expect((try? JSONParser.parse(Array(ok.utf8))) != nil)
        }
        for bad in ["01", "+1", ".5", "1.", "1e", "1e+", "--1", "1e100", "1e+100", "12345678901234567890", "0.12345678901234567890", "1e-1000", "NaN", "Infinity", "0x10"] {
            #expect(!Support.accepts(g, bad), "\(bad)")
        }
        let integer = try Support.grammar(#"{"type":"integer"}"#)
        for ok in ["0", "-0", "7", "-1234567890123456789"] { #expect(Support.accepts(integer, ok), "\(ok)") }
        for bad in ["1.0", "1e2", "01", "12345678901234567890"] { #expect(!Support.accepts(integer, bad), "\(bad)") }
    }

    @Test(arguments: [(Int64?(-50), Int64?(50)), (0, 0), (1, nil), (nil, -1), (-1000, -9), (100, 999), (7, 1234), (-123, 45), (nil, 123), (95, 105), (999, 1001)])
    func integerRangesAreExact(_ lo: Int64?, _ hi: Int64?) throws {
        var keys: [String] = []
        if let lo { keys.append(#""minimum":\#(lo)"#) }
        if let hi { keys.append(#""maximum":\#(hi)"#) }
        let g = try Support.grammar(#"{"type":"integer",\#(keys.joined(separator: ","))}"#)
        let from = (lo ?? hi! - 2000) - 1100, to = (hi ?? lo! + 2000) + 1100
        for v in from...to {
            let inside = (lo.map { v >= $0 } ?? true) && (hi.map { v <= $0 } ?? true)
            #expect(Support.accepts(g, String(v)) == inside, "\(v) in \(String(describing: lo))...\(String(describing: hi))")
        }
        for text in ["-0", "00", "+1", "1.0"] { #expect(!Support.accepts(g, text), "\(text)") }
    }

    @Test func integerRangeExtremes() throws {
        let g = try Support.grammar(#"{"type":"integer","minimum":-9223372036854775808,"maximum":9223372036854775807}"#)
        for ok in ["-9223372036854775808", "9223372036854775807", "0", "-1"] { #expect(Support.accepts(g, ok), "\(ok)") }
        for bad in ["-9223372036854775809", "9223372036854775808", "9999999999999999999"] { #expect(!Support.accepts(g, bad), "\(bad)") }
        let exclusive = try Support.grammar(#"{"type":"integer","exclusiveMinimum":-0.5,"exclusiveMaximum":2.5}"#)
        #expect(["0", "1", "2"].allSatisfy { Support.accepts(exclusive, $0) })
        #expect(!["-1", "3"].contains { Support.accepts(exclusive, $0) })
    }

    /// Bounds with up to 3 decimals against every number of the grid -30.000 ... 30.000 in steps
    /// of 0.125 (and 0.1, 0.2, ...), written with 0 to 4 decimals.
    @Test(arguments: [
        ("0", false, "1", false), ("0", true, "1", true), ("-2.5", false, "2.5", true), ("0.125", false, nil, false),
        (nil, false, "-0.5", false), ("-10", true, "-9.9", false), ("1.1", false, "1.25", false), (nil, false, "0", true),
        ("-3", false, nil, false), ("0.29", true, "0.3", false), ("0.3", false, "0.3", false), ("-0.05", false, "0.05", false),
    ] as [(String?, Bool, String?, Bool)])
    func numberRangesAreExact(_ low: String?, _ lowExclusive: Bool, _ high: String?, _ highExclusive: Bool) throws {
        var keys: [String] = []
        if let low { keys.append("\"\(lowExclusive ? "exclusiveMinimum" : "minimum")\":\(low)") }
        if let high { keys.append("\"\(highExclusive ? "exclusiveMaximum" : "maximum")\":\(high)") }
        let g = try Support.grammar("{\"type\":\"number\",\(keys.joined(separator: ","))}")
        // Values in ten-thousandths, exactly.
        func scaled(_ text: String) -> Int {
            let negative = text.hasPrefix("-")
            let parts = text.drop(while: { $0 == "-" }).split(separator: ".", omittingEmptySubsequences: false)
            let frac = parts.count > 1 ? String(parts[1]) : ""
            let v = Int(parts[0])! * 10_000 + Int((frac + "0000").prefix(4))!
            return negative ? -v : v
        }
        let lo = low.map(scaled), hi = high.map(scaled)
        var values = Set(stride(from: -240, through: 240, by: 1).map { $0 * 1250 })
        values.formUnion(stride(from: -300, through: 300, by: 1).map { $0 * 1000 })
        for v in values {
            let inside = (lo.map { lowExclusive ? v > $0 : v >= $0 } ?? true) && (hi.map { highExclusive ? v < $0 : v <= $0 } ?? true)
            let int = abs(v) / 10_000, frac = abs(v) % 10_000
            var spellings: [String] = []
            let sign = v < 0 ? "-" : ""
            if frac == 0 { spellings += ["\(sign)\(int)", "\(sign)\(int).0", "\(sign)\(int).00"] }
            let digits = String(String(frac + 10_000).dropFirst())
            var trimmed = digits
            while trimmed.hasSuffix("0") { trimmed.removeLast() }
            if !trimmed.isEmpty { spellings += ["\(sign)\(int).\(trimmed)", "\(sign)\(int).\(digits)"] }
            for text in spellings {
                #expect(Support.accepts(g, text) == inside, "\(text) in \(String(describing: low))...\(String(describing: high))")
            }
        }
        // No exponent, no "-0" (zero is written "0"), no leading zeros.
        for text in ["-0", "-0.0", "1e0", "01", ".5", "+1"] { #expect(!Support.accepts(g, text), "\(text)") }
    }

    @Test func numberRangeBoundsFromDoubles() throws {
        let g = try Support.grammar(#"{"type":["number","null"],"minimum":1e-05,"exclusiveMaximum":1.5e3}"#)
        for ok in ["0.00001", "0.0000100", "1", "1499.999999", "null"] { #expect(Support.accepts(g, ok), "\(ok)") }
        for bad in ["0.000009999", "0", "1500", "1500.0", "1e3"] { #expect(!Support.accepts(g, bad), "\(bad)") }
        // Huge bounds: beyond the 19 digits numbers are written with.
        let huge = try Support.grammar(#"{"type":"number","maximum":1e300,"minimum":-1e300}"#)
        #expect(Support.accepts(huge, "-1234567890123456789.5") && Support.accepts(huge, "0.5"))
        #expect(throws: SchemaError.invalid(path: "#", reason: "no finite document satisfies it")) {
            try Support.grammar(#"{"type":"number","minimum":1e300}"#)
        }
    }

    @Test func formats() throws {
        let date = try Support.grammar(#"{"type":"string","format":"date"}"#)
        #expect(Support.accepts(date, #""2024-02-29""#))
        #expect(!Support.accepts(date, #""2024-13-01""#) && !Support.accepts(date, #""2024-1-01""#) && !Support.accepts(date, #""2024-01-32""#))
        let time = try Support.grammar(#"{"type":"string","format":"time"}"#)
        #expect(Support.accepts(time, #""23:59:60Z""#) && Support.accepts(time, #""08:30:00.123+05:30""#))
        #expect(!Support.accepts(time, #""24:00:00Z""#) && !Support.accepts(time, #""08:30:00""#))
        let dateTime = try Support.grammar(#"{"type":"string","format":"date-time"}"#)
        #expect(Support.accepts(dateTime, #""2024-05-01T12:00:00-07:00""#) && Support.accepts(dateTime, #""2024-05-01t12:00:00z""#))
        #expect(!Support.accepts(dateTime, #""2024-05-01 12:00:00Z""#))
        let uuid = try Support.grammar(#"{"type":"string","format":"uuid"}"#)
        #expect(Support.accepts(uuid, #""123e4567-e89b-12d3-A456-426614174000""#))
        #expect(!Support.accepts(uuid, #""123e4567e89b12d3a456426614174000""#))
    }

    @Test func literals() throws {
        let g = try Support.grammar(#"{"enum":["a","b",1,null,[1,{"x":true}],{}],"type":["string","array","object"]}"#)
        for ok in [#""a""#, #""b""#, #"[1,{"x":true}]"#, #"[1, {"x": true}]"#, "[\n  1,\n  {\n    \"x\": true\n  }\n]", "{}"] {
            #expect(Support.accepts(g, ok), "\(ok)")
        }
        for bad in ["1", "null", #""c""#, #"[1,{"x":false}]"#, #"{"x":1}"#, #""\u0061""#] { #expect(!Support.accepts(g, bad), "\(bad)") }
        // const and enum together: the intersection; bounds filter enum values.
        let both = try Support.grammar(#"{"enum":[1,2,3],"const":2}"#)
        #expect(Support.accepts(both, "2") && !Support.accepts(both, "1"))
        let bounded = try Support.grammar(#"{"enum":["ab","abcd",5,50],"maxLength":3,"maximum":10}"#)
        #expect(Support.accepts(bounded, #""ab""#) && Support.accepts(bounded, "5"))
        #expect(!Support.accepts(bounded, #""abcd""#) && !Support.accepts(bounded, "50"))
    }

    @Test func propertiesInSchemaOrderAndExtras() throws {
        let g = try Support.grammar(#"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":{"type":"string"}}"#)
        for ok in [#"{"a":1,"b":2}"#, #"{"b":2}"#, #"{"a":1,"c":"x"}"#, #"{"c":"x","ab":"y"}"#, #"{"":"e"}"#, #"{"a\n":"x"}"#] {
            #expect(Support.accepts(g, ok), "\(ok)")
        }
        for bad in [#"{"b":2,"a":1}"#, #"{"c":"x","a":1}"#, #"{"a":"x"}"#, #"{"a":1,"c":2}"#, #"{"a":1,"b":2,"b":"x"}"#, #"{"\u0061":"x"}"#] {
            #expect(!Support.accepts(g, bad), "\(bad)")
        }
        // Names beside the declared ones must be spelled canonically where they could still be one
        // ("ab" is a valid name, but written "a\u0062" it is not offered).
        #expect(!Support.accepts(g, #"{"a\u0062":"x"}"#))
        #expect(Support.accepts(g, #"{"x\u0062":"x"}"#))
        // {"type": "object"} is any object.
        let any = try Support.grammar(#"{"type":"object"}"#)
        #expect(Support.accepts(any, #"{"x":[1,{"y":null}]}"#))
    }

    @Test func manyOptionalPropertiesUseTheChain() throws {
        // Above SchemaCompiler.maxKeyTrieEntries the candidates after each property are chained.
        let names = (0..<120).map { "p\($0)" }
        let properties = names.map { #""\#($0)":{"type":"integer"}"# }.joined(separator: ",")
        let g = try Support.grammar(#"{"type":"object","properties":{\#(properties)},"required":["p60"]}"#)
        #expect(Support.accepts(g, #"{"p0":1,"p59":2,"p60":3,"p119":4}"#))
        #expect(Support.accepts(g, #"{"p60":3}"#))
        #expect(!Support.accepts(g, #"{"p0":1}"#))
        #expect(!Support.accepts(g, #"{"p61":1,"p60":3}"#))
    }

    @Test func nestingStopsBeforeTheParserLimit() {
        // Stacks deeper than Scratch.maxFrames die: arrays nest ~500 deep at most, below the
        // parser's 512, and what is accepted parses.
        let c = TokenConstraint(grammar: anyValue, vocabulary: Support.byteVocabulary, cacheCapacity: 0)
        var s = c.start()
        var depth = 0
        while depth < 600, c.advance(&s, bytes: [UInt8(ascii: "[")]) { depth += 1 }
        #expect(depth > 400 && depth < JSONParser.defaultMaxDepth)
        #expect(c.allowed(s).contains(Int32(UInt8(ascii: "]"))) && !c.allowed(s).contains(Int32(UInt8(ascii: "["))))
        let text = [UInt8](repeating: UInt8(ascii: "["), count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth)
        #expect(Support.accepts(anyValue, text))
        #expect((try? JSONParser.parse(text)) != nil)
    }

    @Test func remainingBytesAndEnds() throws {
        let g = try Support.grammar(#"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]}"#)
        let c = TokenConstraint(grammar: g, vocabulary: Support.byteVocabulary)
        var s = c.start()
        #expect(s.remainingBytes == #"{"a":0}"#.utf8.count && !s.canEnd && !s.mustEnd)
        #expect(c.advance(&s, bytes: Array(#"{"a":12"#.utf8)))
        #expect(s.remainingBytes == 1)
        #expect(c.advance(&s, bytes: Array("}".utf8)))
        #expect(s.canEnd && s.mustEnd && s.remainingBytes == 0)
        #expect(c.allowed(s).count == 1 && c.allowed(s).contains(256))
        var dead = s
        #expect(!c.advance(&dead, bytes: [0x20]) && dead == s)
        // Free text can end anywhere but continue too.
        let text = try Grammar.toolCalls([ToolSpec(name: "f", parameters: nil)], mode: .auto, parallel: false)
        let t = TokenConstraint(grammar: text, vocabulary: Support.byteVocabulary)
        let start = t.start()
        #expect(start.canEnd && !start.mustEnd)
    }
}
