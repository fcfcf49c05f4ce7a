@testable import DLCMServer
import Testing
import StrictJSON
import HTTPServer

/// The hand-written JSON layer: what requests parse to and what responses look like.
@Suite struct JSONTests {
    @Test func parseKeepsBoolsIntsAndDoublesApart() throws {
        let j = try JSON.parse(Array(#"{"b":true,"i":3,"d":0.5,"n":null,"s":"x","a":[1,"y"]}"#.utf8))
        #expect(j["b"] == .bool(true))
        #expect(j["i"] == .int(3))
        #expect(j["d"] == .double(0.5))
        #expect(j["n"] == .null)
        #expect(j["a"] == .array([.int(1), .string("y")]))
        let body = RequestBody(json: j)
        #expect(try body.int("i") == 3)
        #expect(try body.int("n") == nil)            // null counts as absent
        #expect(throws: APIError.self) { try body.int("b") }
        #expect(throws: APIError.self) { try body.bool("i") }
        #expect(try body.float("i") == 3)
    }

    @Test func writeEscapesAndFormats() {
        let j = JSON.object([("s", .string("a\"b\\c\n\u{01}é")), ("f", JSON.number(Float(0.1))), ("i", .int(-2)),
                             ("whole", .double(2)), ("nan", JSON.number(.nan)), ("e", .array([]))])
        #expect(j.text == #"{"s":"a\"b\\c\n\u0001é","f":0.1,"i":-2,"whole":2.0,"nan":null,"e":[]}"#)
    }

    @Test func errorObjectNamesTheParameter() {
        let e = APIError.invalid("top_p", "must be in (0, 1]")
        #expect(e.object.text == #"{"error":{"message":"'top_p' must be in (0, 1]","type":"invalid_request_error","param":"top_p","code":"invalid_parameter"}}"#)
        #expect(e.status.code == 400)
    }

    @Test func prometheusEscapesLabels() {
        var p = PrometheusText()
        p.sample("m", ["route": "a\"b\\c\nd"], 1.5)
        #expect(p.text == "m{route=\"a\\\"b\\\\c\\nd\"} 1.5\n")
    }
}

/// One string writer for every JSON the server makes: the HTTP layer's error bodies, response
/// bodies and checkpoint headers escape each byte alike (DEL and control bytes as \u00XX).
@Suite struct JSONStringWriterTests {
    @Test func errorBodiesEscapeAsResponsesDo() throws {
        let all = String(decoding: (1...0x7F).map { UInt8($0) }, as: UTF8.self) + "é😀"
        var expected: [UInt8] = []
        JSON.writeString(all, to: &expected)
        let body = JSONError.body(message: all, type: "t", code: nil)
        let prefix = Array(#"{"error":{"message":"#.utf8)
        #expect(Array(body[prefix.count..<(prefix.count + expected.count)]) == expected)
        #expect(String(decoding: expected, as: UTF8.self).contains(#"\u007f"#))
        #expect(try JSONParser.parse(expected) == .string(all))
    }
}
