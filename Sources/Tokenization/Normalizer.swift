import Foundation

/// Rewrites input text before pre-tokenization. Byte-level BPE files usually have none.
protocol Normalizer: Sendable {
    func normalize(_ text: String) -> String
}

enum Normalizers {
    static func make(_ json: JSONObject) throws -> Normalizer {
        let type = try json.type()
        switch type {
        case "NFC": return UnicodeNormalizer(form: .nfc)
        case "NFKC": return UnicodeNormalizer(form: .nfkc)
        case "NFD": return UnicodeNormalizer(form: .nfd)
        case "NFKD": return UnicodeNormalizer(form: .nfkd)
        case "Sequence":
            return SequenceNormalizer(stages: try json.array("normalizers").enumerated().map { index, element in
                try make(JSONObject(element, path: "\(json.path).normalizers[\(index)]"))
            })
        default:
            throw TokenizerError.unsupported(stage: "normalizer", type: type)
        }
    }
}

struct UnicodeNormalizer: Normalizer {
    enum Form { case nfc, nfkc, nfd, nfkd }
    let form: Form

    func normalize(_ text: String) -> String {
        switch form {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        }
    }
}

struct SequenceNormalizer: Normalizer {
    let stages: [Normalizer]

    func normalize(_ text: String) -> String {
        stages.reduce(text) { $1.normalize($0) }
    }
}
