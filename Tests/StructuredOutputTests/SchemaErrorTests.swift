import StrictJSON
import Testing
@testable import StructuredOutput

/// Schemas the compiler refuses: the error names the keyword and where it is.
@Suite struct SchemaErrorTests {
    func error(_ schema: String) -> SchemaError? {
        do {
            _ = try Support.grammar(schema)
            return nil
        } catch {
            return error as? SchemaError
        }
    }

    @Test(arguments: [
        (##"{"type":"object","properties":{"a":{"patternProperties":{}}}}"##, "#/properties/a", "patternProperties"),
        (##"{"type":"string","pattern":"^a+$"}"##, "#", "pattern"),
        (##"{"type":"string","format":"email"}"##, "#", "format"),
        (##"{"type":"number","multipleOf":0.5}"##, "#", "multipleOf"),
        (##"{"type":"object","properties":{"x":{"type":"string","contentEncoding":"base64"}}}"##, "#/properties/x", "contentEncoding"),
        (##"{"type":"integer","multipleOf":2}"##, "#", "multipleOf"),
        (##"{"type":"array","uniqueItems":true}"##, "#", "uniqueItems"),
        (##"{"allOf":[{"type":"string"},{"maxLength":3}]}"##, "#", "allOf"),
        (##"{"$ref":"https://example.com/schema.json"}"##, "#", "$ref"),
        (##"{"anyOf":[{"type":"string"}],"type":"string"}"##, "#", "type"),
        (##"{"$ref":"#/$defs/A","maxLength":2,"$defs":{"A":{"type":"string"}}}"##, "#", "maxLength"),
        (##"{"not":{"type":"string"}}"##, "#", "not"),
        (##"{"if":{"type":"string"},"then":{}}"##, "#", "if"),
        (##"{"type":"object","minProperties":1}"##, "#", "minProperties"),
        (##"{"enum":[1,2],"properties":{}}"##, "#", "properties"),
        (##"{"$defs":{"A":{"type":"object","properties":{"b":{"contains":{}}}}},"$ref":"#/$defs/A"}"##, "#/$defs/A/properties/b", "contains"),
        (##"{"type":"array","items":{"type":"array","prefixItems":[{"dependentRequired":{}}]}}"##, "#/items/prefixItems/0", "dependentRequired"),
        (##"{"type":"object","properties":{"a/b~c":{"unevaluatedProperties":false}}}"##, "#/properties/a~1b~0c", "unevaluatedProperties"),
    ])
    func unsupportedKeywords(_ schema: String, _ path: String, _ keyword: String) {
        #expect(error(schema) == .unsupportedKeyword(path: path, keyword: keyword))
    }

    @Test(arguments: [
        (##"{"type":"strin"}"##, "#"),
        (##"5"##, "#"),
        (##"{"type":"object","properties":[]}"##, "#"),
        (##"{"type":"object","properties":{"a":{}},"required":"a"}"##, "#"),
        (##"{"type":"object","properties":{"a":{}},"required":["b"]}"##, "#"),
        (##"{"type":"string","minLength":-1}"##, "#"),
        (##"{"type":"string","maxLength":1.5}"##, "#"),
        (##"{"type":"integer","minimum":"0"}"##, "#"),
        (##"{"$ref":"#/$defs/Missing"}"##, "#"),
        (##"{"anyOf":[]}"##, "#"),
        (##"{"type":"array","items":[{"type":"string"}]}"##, "#"),
        (##"{"type":"object","properties":{"a":{"type":7}}}"##, "#/properties/a"),
        (##"{"$defs":[],"type":"string"}"##, "#"),
    ])
    func invalidSchemas(_ schema: String, _ path: String) {
        guard case .invalid(let p, _)? = error(schema) else {
            Issue.record("\(schema): \(String(describing: error(schema)))")
            return
        }
        #expect(p == path)
    }

    @Test func leftRecursionIsRejected() {
        // A reference to itself and nothing else matches nothing at all.
        if case .invalid(_, let reason)? = error(##"{"$ref":"#"}"##) { #expect(reason.contains("no finite document")) } else { Issue.record("$ref #") }
        for schema in [##"{"$defs":{"A":{"$ref":"#/$defs/B"},"B":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"null"}]}},"$ref":"#/$defs/A"}"##,
                       ##"{"anyOf":[{"type":"null"},{"allOf":[{"$ref":"#"}]}]}"##] {
            guard case .invalid(_, let reason)? = error(schema) else {
                Issue.record("\(schema) not rejected")
                continue
            }
            #expect(reason.contains("left recursion"), "\(reason)")
        }
    }

    @Test func schemasNoDocumentSatisfiesAreInvalid() {
        for schema in [
            ##"{"type":"object","properties":{"next":{"$ref":"#"}},"required":["next"],"additionalProperties":false}"##,
            ##"{"type":"object","properties":{"a":false},"required":["a"]}"##,
            ##"false"##,
            ##"{"type":"string","minLength":3,"maxLength":2}"##,
            ##"{"type":"integer","minimum":5,"maximum":4}"##,
            ##"{"enum":["a"],"type":"integer"}"##,
            ##"{"type":"array","prefixItems":[{}],"items":false,"minItems":2}"##,
        ] {
            guard case .invalid(let path, let reason)? = error(schema) else {
                Issue.record("\(schema): \(String(describing: error(schema)))")
                continue
            }
            #expect(path == "#" && reason.contains("no finite document"), "\(reason)")
        }
    }

    @Test func optionalUnsatisfiablePartsArePrunedNotFatal() throws {
        // An optional property that can never be written is simply never offered.
        let g = try Support.grammar(##"{"type":"object","properties":{"a":false,"b":{"type":"integer"}}}"##)
        #expect(Support.accepts(g, ##"{"b":1}"##))
        #expect(!Support.accepts(g, ##"{"a":1}"##))
    }

    @Test func sizeLimits() {
        guard case .tooComplex? = error(##"{"type":"string","maxLength":1000000}"##) else { Issue.record("maxLength"); return }
        guard case .tooComplex? = error(##"{"type":"array","maxItems":50000}"##) else { Issue.record("maxItems"); return }
        // Many distinct length bounds: each unrolls into its own chain of rules.
        let properties = (0..<300).map { #""p\#($0)":{"type":"string","maxLength":\#(100 + $0)}"# }.joined(separator: ",")
        guard case .tooComplex? = error(#"{"type":"object","properties":{\#(properties)}}"#) else { Issue.record("many bounds"); return }
    }

    @Test func annotationsAreIgnored() throws {
        let g = try Support.grammar(##"""
        {"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"x","$comment":"c","title":"T","description":"d",
         "type":"object","strict":true,"deprecated":false,"examples":[{}],"default":{},
         "properties":{"a":{"type":"integer","readOnly":true,"writeOnly":false,"title":"A","default":1}},"required":["a"]}
        """##)
        #expect(Support.accepts(g, ##"{"a":1}"##))
    }

    @Test func errorDescriptionsNameKeywordAndPath() {
        #expect(SchemaError.unsupportedKeyword(path: "#/properties/a", keyword: "pattern").description
            == ##"unsupported JSON Schema keyword "pattern" at #/properties/a"##)
        #expect(SchemaError.invalid(path: "#", reason: "x").description == "invalid schema at #: x")
    }
}
