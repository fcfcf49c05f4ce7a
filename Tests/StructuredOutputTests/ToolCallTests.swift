import StrictJSON
import Testing
@testable import StructuredOutput

@Suite struct ToolCallTests {
    static let tools = [
        ToolSpec(name: "get_weather", parameters: Support.schema(#"""
            {"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},
             "required":["location"],"additionalProperties":false}
            """#)),
        ToolSpec(name: "get_time", parameters: Support.schema(#"{"type":"object","properties":{"zone":{"type":"string"}},"required":["zone"]}"#)),
        ToolSpec(name: "ping", parameters: nil),
    ]
    static let weather = #"<tool_call>{"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}</tool_call>"#
    static let time = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"UTC\"}}\n</tool_call>"
    static let ping = #"<tool_call>{"name":"ping","arguments":{"any":[1,2]}}</tool_call>"#

    func grammar(_ mode: ToolCallMode, parallel: Bool = false) throws -> Grammar {
        try Grammar.toolCalls(ToolCallTests.tools, mode: mode, parallel: parallel)
    }

    @Test func required() throws {
        let g = try grammar(.required)
        for ok in [Self.weather, Self.time, Self.ping, #"<tool_call>{"name":"get_weather","arguments":{"location":"x"}}</tool_call>"#] {
            #expect(Support.accepts(g, ok), "\(ok)")
        }
        for bad in ["", "hello", "hi " + Self.weather, Self.weather + "\n" + Self.time, Self.weather + "\n",
                    #"<tool_call>{"name": "get_weather", "arguments": {"unit": "celsius"}}</tool_call>"#,
                    #"<tool_call>{"name": "nope", "arguments": {}}</tool_call>"#,
                    #"<tool_call>{"arguments": {}, "name": "ping"}</tool_call>"#,
                    #"<tool_call>{"name":"ping","arguments":[]}</tool_call>"#,
                    #"<tool_call>{"name": "get_weather", "arguments": {"location": "Paris", "unit": "kelvin"}}</tool_call>"#] {
            #expect(!Support.accepts(g, bad), "\(bad)")
        }
    }

    @Test func parallel() throws {
        let g = try grammar(.required, parallel: true)
        #expect(Support.accepts(g, Self.weather))
        #expect(Support.accepts(g, Self.weather + "\n" + Self.time + "\n" + Self.ping))
        #expect(!Support.accepts(g, Self.weather + Self.time))
        #expect(!Support.accepts(g, Self.weather + "\n\n" + Self.time))
        #expect(!Support.accepts(g, Self.weather + "\n"))
    }

    @Test func named() throws {
        let g = try grammar(.named("get_time"))
        #expect(Support.accepts(g, Self.time))
        #expect(!Support.accepts(g, Self.weather) && !Support.accepts(g, Self.ping))
        let parallel = try grammar(.named("get_time"), parallel: true)
        #expect(Support.accepts(parallel, Self.time + "\n" + Self.time))
        #expect(!Support.accepts(parallel, Self.time + "\n" + Self.weather))
    }

    @Test func auto() throws {
        let g = try grammar(.auto)
        for ok in ["", "Hello!", "Sure, let me check.\n" + Self.weather, Self.ping, "a < b <tool_cal <tool_callx> é😀\n" + Self.time,
                   "x <tool_call", "<<tool_call" + Self.weather.dropFirst("<tool_call".count)] {
            #expect(Support.accepts(g, ok), "\(ok)")
        }
        for bad in ["text <tool_call>", "text " + Self.weather + " more text", Self.weather + "\n" + Self.time,
                    "<tool_call>nonsense</tool_call>"] {
            #expect(!Support.accepts(g, bad), "\(bad)")
        }
        #expect(!Support.accepts(g, [0x61, 0xFF, 0x62]))
        let parallel = try grammar(.auto, parallel: true)
        #expect(Support.accepts(parallel, "Two calls:\n" + Self.weather + "\n" + Self.ping))
        #expect(!Support.accepts(parallel, Self.weather + "\nthen text"))
    }

    @Test func errors() {
        func error(_ tools: [ToolSpec], _ mode: ToolCallMode) -> SchemaError? {
            do { _ = try Grammar.toolCalls(tools, mode: mode, parallel: false); return nil } catch { return error }
        }
        #expect(error([], .auto) == .invalid(path: "tools", reason: "no tools"))
        if case .invalid(let path, _)? = error(ToolCallTests.tools + [ToolSpec(name: "ping", parameters: nil)], .auto) {
            #expect(path == "tools[3]")
        } else { Issue.record("duplicate names") }
        if case .invalid(let path, _)? = error(ToolCallTests.tools, .named("nope")) { #expect(path == "tool_choice") } else { Issue.record("named") }
        let bad = [ToolSpec(name: "a", parameters: nil), ToolSpec(name: "b", parameters: Support.schema(#"{"type":"object","properties":{"x":{"pattern":"a"}}}"#))]
        #expect(error(bad, .auto) == .unsupportedKeyword(path: "tools[1].parameters#/properties/x", keyword: "pattern"))
    }

    @Test func toolNamesNeedNotBeIdentifiers() throws {
        let g = try Grammar.toolCalls([ToolSpec(name: "say \"hi\"", parameters: nil), ToolSpec(name: "say", parameters: nil)], mode: .required, parallel: false)
        #expect(Support.accepts(g, #"<tool_call>{"name":"say \"hi\"","arguments":{}}</tool_call>"#))
        #expect(Support.accepts(g, #"<tool_call>{"name":"say","arguments":{}}</tool_call>"#))
        #expect(!Support.accepts(g, #"<tool_call>{"name":"sa","arguments":{}}</tool_call>"#))
    }
}
