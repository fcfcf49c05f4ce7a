/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode characters, so that
/// every byte string can be spelled as a vocabulary string (space 0x20 becomes "Ġ" U+0120).
enum ByteLevelAlphabet {
    /// byteToScalar[b] is the character that stands for byte b.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse map, keyed by scalar value (all are below U+0144).
    static let scalarToByte: [UInt32: UInt8] = {
        var map = [UInt32: UInt8]()
        for (b, scalar) in byteToScalar.enumerated() { map[scalar.value] = UInt8(b) }
        return map
    }()

    /// The vocabulary spelling of a byte string.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(byteToScalar[Int(b)]) }
        return String(scalars)
    }

    /// The bytes a vocabulary string spells, or nil if it contains a character outside the alphabet
    /// (the library then uses the token's own UTF-8 bytes).
    static func decode(_ token: String) -> [UInt8]? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let b = scalarToByte[scalar.value] else { return nil }
            bytes.append(b)
        }
        return bytes
    }
}
