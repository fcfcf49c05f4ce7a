@testable import DLCMServer
import Foundation
import Testing
import StrictJSON

/// The request-body parser: strict RFC 8259, and read the same way as Foundation's decoder
/// (fuzz/json checks that on random inputs; these are the edges named one by one).
@Suite struct JSONParserTests {
    static func parse(_ s: String) -> JSON? { try? JSONParser.parse(Array(s.utf8)) }

    @Test func valuesAndKeyOrder() {
        #expect(Self.parse(#" {"z":1,"a":[true,false,null,-0,1.5e2,"x"],"m":{}} "#)
                == .object([("z", .int(1)), ("a", .array([.bool(true), .bool(false), .null, .int(0), .double(150), .string("x")])),
                            ("m", .object([]))]))
        #expect(Self.parse("[]") == .array([]))
        #expect(Self.parse("\u{FEFF}{}") == .object([]))  // a UTF-8 byte order mark is skipped
    }

    @Test func numbers() {
        #expect(Self.parse("9223372036854775807") == .int(.max))
        #expect(Self.parse("-9223372036854775808") == .int(.min))
        #expect(Self.parse("9223372036854775808") == .double(9223372036854775808))
        #expect(Self.parse("1e308") == .double(1e308))
        #expect(Self.parse("2.0") == .double(2))
        for bad in ["1e999", "-1e999", "01", "1.", ".5", "+1", "1e", "-", "0x10", "NaN", "Infinity", "1_000"] {
            #expect(Self.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func strings() {
        #expect(Self.parse(#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#) == .string("a\"\\/\u{08}\u{0C}\n\r\té😀"))
        #expect(Self.parse(#""\u0000""#) == .string("\u{0}"))
        for bad in [#""\ud83d""#, #""\ude00""#, #""\ud83dx""#, #""\x""#, #""\u12""#, "\"a\nb\"", #""abc"#] {
            #expect(Self.parse(bad) == nil, "\(bad)")
        }
        #expect((try? JSONParser.parse([0x22, 0xC3, 0x28, 0x22])) == nil)   // invalid UTF-8
        #expect((try? JSONParser.parse([0x22, 0xC0, 0xAF, 0x22])) == nil)   // overlong encoding
    }

    @Test func structureErrors() {
        for bad in ["", " ", "{", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, "{1:2}", "[1] 2", "{}{}", "tru", "nul", "[1 2]"] {
            #expect(Self.parse(bad) == nil, "\(bad)")
        }
        let deep = String(repeating: "[", count: JSONParser.defaultMaxDepth) + String(repeating: "]", count: JSONParser.defaultMaxDepth)
        #expect(Self.parse(deep) != nil)
        #expect(Self.parse("[" + deep + "]") == nil)
    }

    @Test func repeatedKeyIsRefused() {
        #expect(Self.parse(#"{"a":1,"b":2,"a":3}"#) == nil)
        #expect(Self.parse(#"{"a":1,"\u0061":3}"#) == nil)   // the same key, escaped
        #expect(Self.parse(#"{"a":{"a":1},"b":[{"a":2}]}"#) != nil)  // same name in other objects
    }

    @Test func errorSaysWhereWithoutEchoingTheBody() {
        do {
            _ = try JSON.parse(Array(#"{"secret": tru}"#.utf8))
            Issue.record("parsed")
        } catch let error as APIError {
            #expect(error.message.contains("at byte 11"))
            #expect(!error.message.contains("secret"))
        } catch {
            Issue.record("\(error)")
        }
    }
}
