import ChatTemplate
import Foundation
import Testing

/// Every fixture rendered here must match jinja2 byte for byte, or fail where jinja2 failed.
@Suite struct JinjaParityTests {
    @Test("jinja2's rendering, byte for byte", arguments: Fixture.all)
    func matchesJinja2(_ fixture: Fixture) {
        let result: Result<String, TemplateError> = Result { () throws(TemplateError) -> String in
            try ChatTemplate(source: fixture.template).render(fixture.context)
        }
        switch (fixture.outcome, result) {
        case let (.text(expected), .success(got)):
            #expect(Array(got.utf8) == Array(expected.utf8), "\(fixture.name): \(firstDifference(got, expected))")
        case let (.text, .failure(error)):
            Issue.record("\(fixture.name): jinja2 renders it, this fails: \(error)")
        case let (.error(kind, message, _), .success(got)):
            Issue.record("\(fixture.name): jinja2 fails (\(kind): \(message)), this renders \(got.debugDescription)")
        case let (.error(kind, message, line), .failure(error)):
            switch kind {
            case "raised":
                #expect(error.kind == .raised, "\(fixture.name): \(error)")
                #expect(error.message == message, "\(fixture.name)")
            case "syntax":
                #expect(error.kind == .syntax, "\(fixture.name): \(error)")
                #expect(error.line == line, "\(fixture.name): \(error) (jinja2: line \(line.map(String.init) ?? "?"))")
            default:
                // jinja2 fails while rendering; this may already refuse the template (`break` outside a loop).
                #expect(error.kind != .raised, "\(fixture.name): \(error)")
            }
        }
    }

    @Test func fixturesCoverEveryFamilyAndTheCorpus() throws {
        let names = Fixture.all.map(\.name)
        let families = ["chatml", "llama3", "llama3.1", "mistral-v0.1", "mistral-v0.3", "gemma", "qwen2.5", "qwen3",
                        "phi3", "phi4", "deepseek-r1", "granite"]
        for family in families {
            #expect(names.filter { $0.hasPrefix(family + "/") }.count >= 10, "\(family)")
        }
        // Every template in Resources/templates is one of those families, and says it was written for these tests.
        let folder = Fixture.resources.appendingPathComponent("templates")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jinja") }
        #expect(Set(files) == Set(families.map { $0 + ".jinja" }))
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(text.hasPrefix("{#- Written for these tests in the layout of "), "\(file)")
        }
        #expect(Set(names).count == names.count)
        #expect(names.filter { !$0.contains("+") && $0.split(separator: "/").count == 2 }.count >= 150)
    }
}
