import ChatTemplate
import Foundation
import StrictJSON

/// One rendering by jinja2 (Resources/make_fixtures.py): a template, its context, and what jinja2
/// printed or how it failed.
struct Fixture: Sendable, CustomStringConvertible {
    enum Outcome: Sendable {
        case text(String)
        /// jinja2 failed: "raised" (raise_exception, with its message), "syntax" (with a line) or "runtime".
        case error(kind: String, message: String, line: Int?)
    }

    let name: String
    let template: String
    let context: [String: TemplateValue]
    let outcome: Outcome

    var description: String { name }

    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")

    /// Every fixture of Resources/fixtures.json, in file order (the parser keeps object key order,
    /// which `tojson` and `items()` show).
    static let all: [Fixture] = {
        do {
            return try load()
        } catch {
            fatalError("Resources/fixtures.json: \(error)")
        }
    }()

    static func load() throws -> [Fixture] {
        let bytes = try [UInt8](Data(contentsOf: resources.appendingPathComponent("fixtures.json")))
        let root = try JSONParser.parse(bytes)
        guard case .object(let base)? = root["base_context"], case .array(let items)? = root["fixtures"] else {
            throw FixtureError("fixtures.json has no base_context or fixtures")
        }
        return try items.map { item in
            guard case .string(let name)? = item["name"], case .object(let own)? = item["context"] else {
                throw FixtureError("a fixture without a name or context")
            }
            let template: String
            if case .string(let file)? = item["template_file"] {
                template = String(decoding: try Data(contentsOf: resources.appendingPathComponent(file)), as: UTF8.self)
            } else if case .string(let text)? = item["template"] {
                template = text
            } else {
                throw FixtureError("\(name): no template")
            }
            var context: [String: TemplateValue] = [:]
            if item["base_context"] == .bool(true) { for (k, v) in base { context[k] = TemplateValue(v) } }
            for (k, v) in own { context[k] = TemplateValue(v) }
            let outcome: Outcome
            if case .string(let expected)? = item["expected"] {
                outcome = .text(expected)
            } else if case .object? = item["error"], case .string(let kind)? = item["error"]?["kind"] {
                var line: Int? = nil
                if case .int(let l)? = item["error"]?["line"] { line = l }
                var message = ""
                if case .string(let m)? = item["error"]?["message"] { message = m }
                outcome = .error(kind: kind, message: message, line: line)
            } else {
                throw FixtureError("\(name): neither expected nor error")
            }
            return Fixture(name: name, template: template, context: context, outcome: outcome)
        }
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

/// Where two renderings first differ, for a readable failure.
func firstDifference(_ a: String, _ b: String) -> String {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    let i = (0..<min(x.count, y.count)).first { x[$0] != y[$0] } ?? min(x.count, y.count)
    func around(_ bytes: [UInt8]) -> String {
        String(decoding: bytes[max(0, i - 40)..<min(bytes.count, i + 40)], as: UTF8.self).debugDescription
    }
    return "first difference at byte \(i) of \(x.count) vs \(y.count):\n  got      \(around(x))\n  expected \(around(y))"
}
