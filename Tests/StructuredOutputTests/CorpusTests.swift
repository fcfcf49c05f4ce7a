import Foundation
import StrictJSON
import Testing
@testable import StructuredOutput

/// The grammar of each schema in Resources/corpus.json (make_corpus.py) accepts exactly the
/// documents jsonschema labelled valid.
@Suite struct CorpusTests {
    struct Entry: Sendable, CustomStringConvertible {
        let name: String
        let schema: JSON
        let documents: [(text: String, valid: Bool)]
        var description: String { name }
    }

    static let entries: [Entry] = {
        let bytes = try! [UInt8](Data(contentsOf: Support.resources.appendingPathComponent("corpus.json")))
        guard case .array(let schemas)? = try! JSONParser.parse(bytes)["schemas"] else { fatalError("corpus.json: no schemas") }
        return schemas.map { item in
            guard case .string(let name)? = item["name"], let schema = item["schema"], case .array(let docs)? = item["documents"] else {
                fatalError("corpus.json: malformed entry")
            }
            return Entry(name: name, schema: schema, documents: docs.map { doc in
                guard case .string(let text)? = doc["text"], case .bool(let valid)? = doc["valid"] else { fatalError("corpus.json: malformed document") }
                return (text, valid)
            })
        }
    }()

    @Test func corpusHasEnoughCases() {
        #expect(CorpusTests.entries.count >= 30)
        let documents = CorpusTests.entries.flatMap(\.documents)
        #expect(documents.filter(\.valid).count >= 500)
        #expect(documents.filter { !$0.valid }.count >= 500)
    }

    @Test(arguments: CorpusTests.entries)
    func grammarAcceptsExactlyTheValidDocuments(_ entry: Entry) throws {
        let grammar = try Grammar.jsonSchema(entry.schema)
        let constraint = TokenConstraint(grammar: grammar, vocabulary: Support.byteVocabulary, cacheCapacity: 0)
        for (text, valid) in entry.documents {
            var state = constraint.start()
            let accepted = constraint.advance(&state, bytes: Array(text.utf8)) && state.canEnd
            #expect(accepted == valid, "\(entry.name): \(valid ? "valid" : "invalid") document \(accepted ? "accepted" : "rejected"): \(text)")
            // Whatever the grammar accepts parses (repeated keys aside, which no document here has).
            if accepted { #expect((try? JSONParser.parse(Array(text.utf8))) != nil, "\(text)") }
        }
    }
}
