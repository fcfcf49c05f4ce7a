/// Turns tokens back into bytes. The result is made text by lossy UTF-8 decoding at the very end
/// (invalid sequences become U+FFFD), so a streaming decoder can cut the bytes anywhere safe.
protocol Decoder: Sendable {
    func bytes(of token: String) -> [UInt8]
}

enum Decoders {
    static func make(_ json: JSONObject) throws -> Decoder {
        let type = try json.type()
        switch type {
        case "ByteLevel": return ByteLevelDecoder()
        default: throw TokenizerError.unsupported(stage: "decoder", type: type)
        }
    }
}

/// `ByteLevel`: each character of the alphabet stands for one byte; a token with any other
/// character (an added token such as "<é>") contributes its own UTF-8 bytes instead.
struct ByteLevelDecoder: Decoder {
    func bytes(of token: String) -> [UInt8] {
        ByteLevelAlphabet.decode(token) ?? Array(token.utf8)
    }
}
