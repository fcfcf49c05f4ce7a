import StrictJSON

/// The tool-call grammar (`Grammar.toolCalls`).
enum ToolCallGrammar {
    static func make(_ tools: [ToolSpec], mode: ToolCallMode, parallel: Bool) throws(SchemaError) -> Grammar {
        guard !tools.isEmpty else { throw .invalid(path: "tools", reason: "no tools") }
        var seen = Set<String>()
        for (i, tool) in tools.enumerated() where !seen.insert(tool.name).inserted {
            throw .invalid(path: "tools[\(i)]", reason: "duplicate tool name \"\(tool.name)\"")
        }
        if case .named(let name) = mode, !seen.contains(name) {
            throw .invalid(path: "tool_choice", reason: "no tool named \"\(name)\"")
        }
        var b = GrammarBuilder()
        let wsnl = try b.wsNewline(), wsc = try b.wsComma(), wscolon = try b.wsColon()

        // {"name": "<name>", "arguments": <arguments>}, one trie of names.
        var entries: [(bytes: [UInt8], tail: [Element])] = []
        for (i, tool) in tools.enumerated() {
            if case .named(let name) = mode, tool.name != name { continue }
            let arguments: Int
            if let schema = tool.parameters {
                var compiler = SchemaCompiler(root: schema, pathPrefix: "tools[\(i)].parameters", builder: b)
                arguments = try compiler.compile(schema, path: "#")
                b = compiler.builder
            } else {
                arguments = try b.anyObject()
            }
            entries.append((GrammarBuilder.canonicalQuoted(tool.name),
                            GrammarBuilder.literal(",") + [.rule(wsc)] + GrammarBuilder.literal("\"arguments\":")
                                + [.rule(wscolon), .rule(arguments), .rule(wsnl)] + GrammarBuilder.literal("}")))
        }
        let names = try b.rule("tool name", try b.trie("tool name", entries))
        let call = try b.rule("tool call", sequence: GrammarBuilder.literal("{") + [.rule(wsnl)] + GrammarBuilder.literal("\"name\":")
                                  + [.rule(wscolon), .rule(names)])
        let newline = try b.rule("newline?", [[], GrammarBuilder.literal("\n")])
        // After "<tool_call>": the call, "</tool_call>", then (parallel) more calls.
        let rest = try b.declare("after <tool_call>")
        var more: [[Element]] = [[]]
        if parallel { more.append(GrammarBuilder.literal("\n" + Grammar.toolCallOpen) + [.rule(rest)]) }
        let moreRule = try b.rule("more calls", more)
        b.define(rest, [[.rule(newline), .rule(call), .rule(newline)] + GrammarBuilder.literal(Grammar.toolCallClose) + [.rule(moreRule)]])

        let root: Int
        switch mode {
        case .required, .named:
            root = try b.rule("tool calls", [GrammarBuilder.literal(Grammar.toolCallOpen) + [.rule(rest)]])
        case .auto:
            root = try freeText(&b, then: rest)
        }
        return try Grammar(b, root: root, context: "tools")
    }

    /// Free text (valid UTF-8) without "<tool_call>", then optionally "<tool_call>" and `then`:
    /// the KMP automaton of the trigger, a rule per matched length, bytes grouped by next length.
    static func freeText(_ b: inout GrammarBuilder, then rest: Int) throws(SchemaError) -> Int {
        let trigger = Array(Grammar.toolCallOpen.utf8)
        let m = trigger.count
        // Prefix function, then the transition function on ASCII bytes.
        var pi = [Int](repeating: 0, count: m)
        var k = 0
        for i in 1..<m {
            while k > 0 && trigger[i] != trigger[k] { k = pi[k - 1] }
            if trigger[i] == trigger[k] { k += 1 }
            pi[i] = k
        }
        func delta(_ state: Int, _ byte: UInt8) -> Int {
            var s = state
            while true {
                if trigger[s] == byte { return s + 1 }
                if s == 0 { return 0 }
                s = pi[s - 1]
            }
        }
        var states: [Int] = []
        for s in 0..<m { states.append(try b.declare("text\(s)")) }
        let continuation = UTF8Ranges.sequences(0x80, 0x10FFFF)
        for s in 0..<m {
            var alternatives: [[Element]] = [[]]
            var groups: [Int: ByteSet] = [:]
            for byte in UInt8(0)...0x7F {
                let next = delta(s, byte)
                groups[next, default: ByteSet()].insert(byte)
            }
            for next in groups.keys.sorted() {
                let set = groups[next]!
                alternatives.append([.bytes(set), .rule(next == m ? rest : states[next])])
            }
            for seq in continuation { alternatives.append(seq.map { .bytes(ByteSet($0)) } + [.rule(states[0])]) }
            b.define(states[s], alternatives)
        }
        return states[0]
    }
}
