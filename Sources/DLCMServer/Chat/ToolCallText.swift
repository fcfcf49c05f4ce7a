import Foundation
import StrictJSON
import StructuredOutput

/// One call the model made: the tool's name and its arguments as JSON text (OpenAI's shape).
struct ToolCall: Equatable {
    let id: String
    let name: String
    let arguments: String
}

/// Splits an answer into content and tool calls as its text arrives: text before the first
/// `<tool_call>` is content; each `<tool_call>{"name": ..., "arguments": ...}</tool_call>` becomes
/// a call once its closing tag is read; the newlines between calls are dropped. Text that might
/// be the start of an opening tag is held back until it is known not to be one. Whatever is
/// left when the answer ends (a call cut off by max_tokens) comes back as content.
struct ToolCallText {
    private static let open = Array(Grammar.toolCallOpen.utf8)
    private static let close = Array(Grammar.toolCallClose.utf8)

    /// Bytes not yet given out: a possible opening tag's start, or the call being read.
    private var pending: [UInt8] = []
    private var inCall = false
    /// Calls so far (to number them and give each an id).
    private(set) var calls: [ToolCall] = []

    /// Content that became final and calls that completed with `text`.
    mutating func feed(_ text: String) -> (content: String, calls: [ToolCall]) {
        pending += text.utf8
        var content: [UInt8] = []
        var done: [ToolCall] = []
        while true {
            if inCall {
                guard let end = Self.find(Self.close, in: pending) else { break }
                let body = Array(pending[..<end])
                pending.removeFirst(end + Self.close.count)
                inCall = false
                if let call = Self.call(body, index: calls.count) {
                    calls.append(call)
                    done.append(call)
                } else {
                    content += Self.open + body + Self.close
                }
            } else if let start = Self.find(Self.open, in: pending) {
                let before = pending[..<start]
                // Between and after calls only newlines separate them; before the first, it is the answer.
                if calls.isEmpty || !before.allSatisfy({ $0 == 0x0A || $0 == 0x20 }) { content += before }
                pending.removeFirst(start + Self.open.count)
                inCall = true
            } else {
                // Keep the longest tail that could still grow into the opening tag.
                let keep = (1..<Self.open.count).reversed().first { n in
                    n <= pending.count && pending.suffix(n).elementsEqual(Self.open.prefix(n))
                } ?? 0
                let out = pending[..<(pending.count - keep)]
                if !calls.isEmpty && out.allSatisfy({ $0 == 0x0A || $0 == 0x20 }) {
                    // Separators after a call: wait to see whether another call follows.
                    break
                }
                content += out
                pending.removeFirst(pending.count - keep)
                break
            }
        }
        return (String(decoding: content, as: UTF8.self), done)
    }

    /// The end of the answer: what is still held back, as content (an opening tag never closed
    /// included, so nothing the model wrote is lost).
    mutating func finish() -> String {
        var rest = inCall ? Self.open + pending : pending
        if !calls.isEmpty && rest.allSatisfy({ $0 == 0x0A || $0 == 0x20 }) { rest = [] }
        pending = []
        inCall = false
        return String(decoding: rest, as: UTF8.self)
    }

    /// The whole answer at once: its content (nil when it is only calls) and its calls.
    static func split(_ text: String) -> (content: String?, calls: [ToolCall]) {
        var t = ToolCallText()
        let (content, calls) = t.feed(text)
        let all = content + t.finish()
        return (calls.isEmpty || !all.isEmpty ? all : nil, calls)
    }

    /// `{"name": ..., "arguments": {...}}`, nil when the text is not one.
    private static func call(_ body: [UInt8], index: Int) -> ToolCall? {
        guard let json = try? JSONParser.parse(body, maxDepth: 128), case .string(let name)? = json["name"] else { return nil }
        let arguments = json["arguments"] ?? .object([])
        return ToolCall(id: "call_" + RequestID.hex(.random(in: .min ... .max)), name: name, arguments: arguments.text)
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}
