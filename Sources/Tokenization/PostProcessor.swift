/// Adds special tokens around an encoded sequence when `addSpecialTokens` is requested.
protocol PostProcessor: Sendable {
    func process(_ ids: [Int32]) -> [Int32]
}

enum PostProcessors {
    static func make(_ json: JSONObject) throws -> PostProcessor {
        let type = try json.type()
        switch type {
        // ByteLevel only trims offsets, which this implementation does not return.
        case "ByteLevel": return IdentityPostProcessor()
        case "TemplateProcessing": return try TemplatePostProcessor(json)
        case "Sequence":
            return SequencePostProcessor(stages: try json.array("processors").enumerated().map { index, element in
                try make(JSONObject(element, path: "\(json.path).processors[\(index)]"))
            })
        default:
            throw TokenizerError.unsupported(stage: "post_processor", type: type)
        }
    }
}

struct IdentityPostProcessor: PostProcessor {
    func process(_ ids: [Int32]) -> [Int32] { ids }
}

struct SequencePostProcessor: PostProcessor {
    let stages: [PostProcessor]

    func process(_ ids: [Int32]) -> [Int32] {
        stages.reduce(ids) { $1.process($0) }
    }
}

/// `TemplateProcessing` for a single sequence: the `single` template, e.g. `<s> $A </s>`.
struct TemplatePostProcessor: PostProcessor {
    /// nil stands for the sequence itself; otherwise the ids of a special token.
    let items: [[Int32]?]

    init(_ json: JSONObject) throws {
        let specials = try json.object("special_tokens")
        var items = [[Int32]?]()
        for (index, element) in try json.array("single").enumerated() {
            let item = try JSONObject(element, path: "\(json.path).single[\(index)]")
            if item.has("Sequence") {
                items.append(nil)
            } else if item.has("SpecialToken") {
                let name = try item.object("SpecialToken").string("id")
                let entry = try specials.object(name)
                items.append(try entry.array("ids").map { value -> Int32 in
                    guard let id = value as? Int else { throw TokenizerError.invalidJSON("\(entry.path).ids") }
                    return Int32(id)
                })
            } else {
                throw TokenizerError.invalidJSON("\(item.path) is neither Sequence nor SpecialToken")
            }
        }
        self.items = items
    }

    func process(_ ids: [Int32]) -> [Int32] {
        items.flatMap { $0 ?? ids }
    }
}
