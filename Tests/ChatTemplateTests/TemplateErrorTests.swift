import ChatTemplate
import Testing

/// Syntax errors name their line; raise_exception's message is carried verbatim.
@Suite struct TemplateErrorTests {
    func syntaxError(_ source: String) -> TemplateError? {
        do {
            _ = try ChatTemplate(source: source)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("a\nb\n{% frobnicate %}", 3),
        ("line1\n{% for x in items %}{{ x }}", 2),
        ("{% if true %}\n\n{{ 1 + }}\n{% endif %}", 3),
        ("{# a\nb\nc #}\n{{ 'unclosed }}", 4),
        ("{{ x }}\n{% set = 1 %}", 2),
        ("{% raw %}\n\n{% endraw %}\n{{ ) }}", 4),
        ("\r\n\r\n{{ 1 ! 2 }}", 3),
        ("{{ a }}\n{{ a|nosuchfilter }}", 2),
    ])
    func syntaxErrorsNameTheirLine(_ source: String, _ line: Int) {
        let error = syntaxError(source)
        #expect(error?.kind == .syntax)
        #expect(error?.line == line, "\(error.map(String.init(describing:)) ?? "no error")")
    }

    @Test func runtimeErrorsNameTheStatementLine() {
        let template = try? ChatTemplate(source: "{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}")
        #expect(throws: TemplateError.self) { try template?.render(["messages": [["content": "x"]]]) }
        do {
            _ = try template?.render(["messages": [["content": "x"]]])
        } catch {
            #expect(error.kind == .runtime)
            #expect(error.line == 2)
        }
    }

    @Test func raiseExceptionCarriesItsMessage() throws {
        let template = try ChatTemplate(source: "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported — 日本') }}{% endif %}")
        do {
            _ = try template.render(["messages": [["role": "system", "content": "x"]]])
            Issue.record("no error")
        } catch {
            #expect(error.kind == .raised)
            #expect(error.message == "System role not supported — 日本")
            #expect(error.description == "System role not supported — 日本")
        }
        #expect(try template.render(["messages": [["role": "user", "content": "x"]]]) == "")
    }

    @Test func undefinedUseIsAnErrorWithJinjaWording() throws {
        do {
            _ = try ChatTemplate(source: "{{ message.tool_calls[0].function }}").render(["message": ["role": "user"]])
            Issue.record("no error")
        } catch {
            #expect(error.kind == .runtime)
            #expect(error.message == "'dict object' has no attribute 'tool_calls'")
        }
    }
}
