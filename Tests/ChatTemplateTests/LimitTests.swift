import ChatTemplate
import Testing

/// Messages come from API users: a template over them must fail with a limit error, never crash,
/// hang or take the memory of a runaway loop.
@Suite struct LimitTests {
    /// Renders and returns the error, checking it came within `seconds` (debug build, shared CPU).
    func failure(_ source: String, _ context: [String: TemplateValue] = [:], limits: ChatTemplate.Limits = .init(),
                 within seconds: Double = 10) throws -> TemplateError? {
        let template = try ChatTemplate(source: source, limits: limits)
        let start = ContinuousClock.now
        defer { #expect(ContinuousClock.now - start < .seconds(seconds), "took \(ContinuousClock.now - start)") }
        do {
            _ = try template.render(context)
            return nil
        } catch {
            return error
        }
    }

    @Test func nestedHugeLoopsStopAtTheIterationLimit() throws {
        let error = try failure("{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}")
        #expect(error?.kind == .limit)
        #expect(error?.message.contains("loop iterations") == true)
    }

    @Test func loopOverUserMessagesCountsToo() throws {
        let messages = TemplateValue.array(Array(repeating: ["role": "user", "content": "x"], count: 2_000))
        let error = try failure("{% for a in messages %}{% for b in messages %}{{ '' }}{% endfor %}{% endfor %}",
                                ["messages": messages])
        #expect(error?.kind == .limit)
        // The same loop under a raised limit renders.
        let lenient = ChatTemplate.Limits(maxLoopIterations: 5_000_000)
        #expect(try failure("{% for a in messages[:100] %}{% for b in messages %}{% endfor %}{% endfor %}",
                            ["messages": messages], limits: lenient) == nil)
    }

    @Test func infiniteMacroRecursionStopsAtTheDepthLimit() throws {
        let error = try failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect(error?.kind == .limit)
        #expect(error?.message.contains("macro calls") == true)
        // Recursion over a deep user value (a nested JSON schema) hits the same limit.
        var deep: TemplateValue = "leaf"
        for _ in 0..<200 { deep = ["items": deep] }
        let schema = try failure("{% macro walk(v) %}{% if v is mapping %}{{ walk(v['items']) }}{% else %}{{ v }}{% endif %}{% endmacro %}{{ walk(s) }}",
                                 ["s": deep])
        #expect(schema?.kind == .limit)
    }

    @Test func outputSizeIsCapped() throws {
        let error = try failure("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}")
        #expect(error?.kind == .limit)
        #expect(error?.message.contains("bytes") == true)
        let small = ChatTemplate.Limits(maxOutputBytes: 1000)
        #expect(try failure("{{ content }}", ["content": .string(String(repeating: "é", count: 400))], limits: small) == nil)
        #expect(try failure("{{ content }}", ["content": .string(String(repeating: "é", count: 600))], limits: small)?.kind == .limit)
    }

    @Test func hugeValuesBuiltByTheTemplateAreCapped() throws {
        #expect(try failure("{{ 'x' * 1000000000 }}")?.kind == .limit)
        #expect(try failure("{% set s = 'x' * 1000000000 %}")?.kind == .limit)
        #expect(try failure("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")?.kind == .limit)
        #expect(try failure("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}")?.kind == .limit)
        #expect(try failure("{{ [0] * 100000000 }}")?.kind == .limit)
        #expect(try failure("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s|replace('a', 'aa') %}{% endfor %}")?.kind == .limit)
        #expect(try failure("{{ range(1000000)|list|length }}")?.kind == .limit)   // jinja2's sandbox: MAX_RANGE
    }

    @Test func arithmeticOverflowIsAnErrorNotACrash() throws {
        #expect(try failure("{{ 2 ** 200 }}")?.kind == .runtime)
        #expect(try failure("{{ big * big }}", ["big": .int(Int.max)])?.kind == .runtime)
        #expect(try failure("{{ -big }}", ["big": .int(Int.min)])?.kind == .runtime)
        #expect(try failure("{{ big // -1 }}", ["big": .int(Int.min)])?.kind == .runtime)
        #expect(try failure("{{ 1e308 * 10 }}") == nil)   // inf, as in Python
    }

    @Test func deeplyNestedUserValuesRenderWithoutOverflowingTheStack() throws {
        var deep: TemplateValue = ["type": "text", "text": "x"]
        for _ in 0..<500 { deep = [deep] }
        let template = try ChatTemplate(source: "{{ v|tojson|length }}|{{ (v|string)|length }}|{{ v == v }}")
        #expect(try template.render(["v": deep]) == "1029|1029|True")
    }

    @Test func pathologicalTemplateNestingIsASyntaxError() {
        let source = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        #expect(throws: TemplateError.self) { try ChatTemplate(source: source) }
        let nots = "{{ " + String(repeating: "not ", count: 5000) + "1 }}"
        #expect(throws: TemplateError.self) { try ChatTemplate(source: nots) }
    }
}
