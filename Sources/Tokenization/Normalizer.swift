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

    // Foundation on Linux misorders combining marks that a decomposition places before others
    // ("\u{1FCF}\u{08F0}" gives ccc 230, 27, 230), so decompose, put the marks in canonical order
    // ourselves, and only then let Foundation compose the already ordered text.
    func normalize(_ text: String) -> String {
        switch form {
        case .nfc: return Self.canonicallyOrdered(text.decomposedStringWithCanonicalMapping).precomposedStringWithCanonicalMapping
        case .nfkc: return Self.canonicallyOrdered(text.decomposedStringWithCompatibilityMapping).precomposedStringWithCanonicalMapping
        case .nfd: return Self.canonicallyOrdered(text.decomposedStringWithCanonicalMapping)
        case .nfkd: return Self.canonicallyOrdered(text.decomposedStringWithCompatibilityMapping)
        }
    }

    /// Stable-sorts every run of non-starters by canonical combining class (Unicode's canonical ordering).
    static func canonicallyOrdered(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            guard scalars[i].properties.canonicalCombiningClass.rawValue != 0 else {
                i += 1
                continue
            }
            var j = i
            while j < scalars.count && scalars[j].properties.canonicalCombiningClass.rawValue != 0 { j += 1 }
            if j - i > 1 {
                let run = scalars[i..<j].enumerated().sorted {
                    let (a, b) = ($0.element.properties.canonicalCombiningClass.rawValue, $1.element.properties.canonicalCombiningClass.rawValue)
                    return a != b ? a < b : $0.offset < $1.offset
                }
                scalars.replaceSubrange(i..<j, with: run.map(\.element))
            }
            i = j
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

struct SequenceNormalizer: Normalizer {
    let stages: [Normalizer]

    func normalize(_ text: String) -> String {
        stages.reduce(text) { $1.normalize($0) }
    }
}
