import ChatTemplate
import Foundation
import StrictJSON

/// How a conversation becomes one prompt: the checkpoint's chat template (`chat_template.jinja`,
/// or `chat_template` in its `tokenizer_config.json`, as Hugging Face checkpoints ship it), else
/// the built-in plain-text template, made for base models such as the shipped one.
public struct ChatFormat: Sendable {
    public enum Origin: String, Sendable {
        case checkpoint
        case builtIn = "built-in"
    }

    public let origin: Origin
    private let template: ChatTemplate
    /// Stop strings every chat request gets besides its own. The built-in template's turns are
    /// plain text and a base model does not end its turn by itself: it stops where it would
    /// start the user's next turn. A checkpoint's template ends turns with its own tokens.
    public let stops: [String]
    /// What the template sees as `bos_token` and `eos_token`. The BOS is empty because the server
    /// puts the model's BOS before every prompt itself (`ModelBundle.document`), and a template
    /// that wrote it too would make two.
    let bosToken = ""
    let eosToken: String

    /// Plain turns, `Role: text`, a blank line between them, and `Assistant:` to answer. With
    /// tools, a first turn lists them (one JSON object each) and says how to call one: the
    /// `<tool_call>` tags the server's tool-call grammar and parser use. An assistant turn's
    /// earlier calls are written back the same way; tool results are `Tool:` turns. Text that
    /// starts with a space (an answer the model began after `Assistant:`) follows the colon as it
    /// is, so a conversation sent back repeats exactly the tokens the model read and wrote (and
    /// the prefix cache resumes after them).
    static let builtInSource = """
        {%- if tools %}System: You can call these tools:
        {% for tool in tools %}{{ tool['function'] | tojson }}
        {% endfor %}To call one, answer with <tool_call>{"name": "<tool name>", "arguments": {<its arguments>}}</tool_call>.

        {% endif %}
        {%- for message in messages %}
        {%- set content = message['content'] or '' %}
        {{- message['role'] | capitalize }}:{{ '' if content.startswith(' ') else ' ' }}{{ content }}
        {%- for call in message['tool_calls'] or [] %}<tool_call>{{ {'name': call['function']['name'], 'arguments': call['function']['arguments']} | tojson }}</tool_call>{% endfor %}
        {{- '\n\n' }}
        {%- endfor %}
        {%- if add_generation_prompt %}Assistant:{% endif %}
        """
    static let builtInStops = ["\nUser:"]

    /// - Parameter eosToken: the model's end-of-text token as text.
    public init(source: String, origin: Origin, eosToken: String) throws {
        template = try ChatTemplate(source: source)
        self.origin = origin
        self.eosToken = eosToken
        stops = origin == .builtIn ? Self.builtInStops : []
    }

    /// The checkpoint's template when it has one, else the built-in one.
    static func load(directory: URL, eosToken: String) throws -> ChatFormat {
        // A file that is there but cannot be read is an error, not a reason to fall back.
        let fm = FileManager.default
        let jinja = directory.appendingPathComponent("chat_template.jinja")
        if fm.fileExists(atPath: jinja.path) {
            guard let text = try? String(contentsOf: jinja, encoding: .utf8) else {
                throw ChatFormatError("chat_template.jinja cannot be read as UTF-8 text")
            }
            return try ChatFormat(source: text, origin: .checkpoint, eosToken: eosToken)
        }
        let config = directory.appendingPathComponent("tokenizer_config.json")
        if fm.fileExists(atPath: config.path) {
            let json: JSON
            do { json = try JSONParser.parse(Array(Data(contentsOf: config)), maxDepth: 64) } catch {
                throw ChatFormatError("tokenizer_config.json: \(error)")
            }
            if let source = try templateSource(json["chat_template"]) {
                return try ChatFormat(source: source, origin: .checkpoint, eosToken: eosToken)
            }
        }
        return try ChatFormat(source: builtInSource, origin: .builtIn, eosToken: eosToken)
    }

    /// `chat_template`: a string, or a list of `{"name", "template"}` of which "default" is used.
    private static func templateSource(_ value: JSON?) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .array(let items)?:
            for item in items where item["name"] == .string("default") {
                if case .string(let s)? = item["template"] { return s }
            }
            throw ChatFormatError("tokenizer_config.json: chat_template lists no template named 'default'")
        default: throw ChatFormatError("tokenizer_config.json: chat_template must be a string or a list of named templates")
        }
    }

    /// The conversation as the model reads it, up to the assistant's turn. `messages` are JSON
    /// objects as the OpenAI API sends them (content already one string or null).
    /// `tools`: the request's tools as `{"type": "function", "function": {...}}` objects (the
    /// template sees `none` without them, as Hugging Face's `apply_chat_template` passes it).
    public func render(messages: [JSON], tools: [JSON]? = nil) throws -> String {
        try template.render([
            "messages": TemplateValue(.array(messages)),
            "tools": TemplateValue(tools.map(JSON.array) ?? .null),
            "add_generation_prompt": .bool(true),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ])
    }
}

public struct ChatFormatError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
