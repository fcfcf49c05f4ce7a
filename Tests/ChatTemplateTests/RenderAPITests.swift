import ChatTemplate
import StrictJSON
import Testing

@Suite struct RenderAPITests {
    static let chatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

    @Test func parseOnceRenderMany() throws {
        let template = try ChatTemplate(source: Self.chatML)
        let a = try template.render(["messages": [["role": "user", "content": "hi"]], "add_generation_prompt": true])
        let b = try template.render(["messages": [["role": "user", "content": "bye"]], "add_generation_prompt": false])
        #expect(a == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        #expect(b == "<|im_start|>user\nbye<|im_end|>\n")
    }

    @Test func rendersConcurrentlyFromOneTemplate() async throws {
        let template = try ChatTemplate(source: Self.chatML)
        let outputs = await withTaskGroup(of: String.self) { group in
            for i in 0..<16 {
                group.addTask { (try? template.render(["messages": [["role": "user", "content": .string("n\(i)")]]])) ?? "" }
            }
            var all: [String] = []
            for await o in group { all.append(o) }
            return all
        }
        #expect(Set(outputs).count == 16)
    }

    @Test func contextFromJSONKeepsKeyOrder() throws {
        let json = try JSONParser.parse(Array(#"{"z": 1, "a": [true, null, 1.5, "é"], "m": {"y": 2, "b": 3}}"#.utf8))
        let value = TemplateValue(json)
        let out = try ChatTemplate(source: "{{ v|tojson }}|{% for k in v %}{{ k }}{% endfor %}|{{ v.m.items()|list }}").render(["v": value])
        #expect(out == #"{"z": 1, "a": [true, null, 1.5, "é"], "m": {"y": 2, "b": 3}}|zam|[('y', 2), ('b', 3)]"#)
    }

    @Test func undefinedAndMissingKeysAreTheSame() throws {
        let template = try ChatTemplate(source: "{{ tools is defined }}{{ tools|length }}")
        #expect(try template.render([:]) == "False0")
        #expect(try template.render(["tools": .undefined]) == "False0")
        #expect(throws: TemplateError.self) { try template.render(["tools": TemplateValue.none]) }   // len(None)
    }

    @Test func stringsCompareByCodePointsAsInPython() throws {
        // "é" precomposed and decomposed are equal Swift Strings but different Python strings.
        let template = try ChatTemplate(source: "{{ a == b }}|{{ a|length }}{{ b|length }}|{{ b in [a] }}|{{ {a: 1}[b] is defined }}")
        #expect(try template.render(["a": "\u{E9}", "b": "e\u{301}"]) == "False|12|False|False")
    }

    @Test func twentyMessagesOfLlama31RenderQuickly() throws {
        let source = try String(contentsOf: Fixture.resources.appendingPathComponent("templates/llama3.1.jinja"), encoding: .utf8)
        let template = try ChatTemplate(source: source)
        var messages: [TemplateValue] = [["role": "system", "content": "You are a helpful assistant."]]
        for i in 0..<10 {
            messages.append(["role": "user", "content": .string("Question \(i): what is \(i) + \(i)?")])
            messages.append(["role": "assistant", "content": .string("It is \(2 * i).")])
        }
        let context: [String: TemplateValue] = ["messages": .array(messages), "bos_token": "<|begin_of_text|>",
                                                "add_generation_prompt": true, "date_string": "26 Jul 2024"]
        let start = ContinuousClock.now
        for _ in 0..<100 { _ = try template.render(context) }
        let perRender = (ContinuousClock.now - start) / 100
        // Well under a millisecond in release; this debug-build bound only catches a pathology.
        #expect(perRender < .milliseconds(20), "\(perRender) per render")
    }
}
