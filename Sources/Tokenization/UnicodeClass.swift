/// The character classes the GPT-2 style split patterns distinguish, with the regex engine's
/// meaning: `\p{L}` letters, `\p{N}` numbers, `\s` White_Space, and everything else.
enum CharClass: UInt8 {
    case letter, number, whitespace, other

    @inline(__always)
    static func of(_ value: UInt32) -> CharClass {
        value < 0x10000 ? bmpTable[Int(value)] : compute(Unicode.Scalar(value).unsafelyUnwrapped)
    }

    /// Classes of U+0000...U+FFFF, computed once (64 KiB) because property lookups are slow.
    /// Surrogate code points never occur in valid UTF-8 and are left as `.other`.
    private static let bmpTable: [CharClass] = (0..<0x10000).map { value -> CharClass in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return .other }
        return compute(scalar)
    }

    static func compute(_ scalar: Unicode.Scalar) -> CharClass {
        if scalar.value < 0x80 { return asciiTable[Int(scalar.value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        let cls: CharClass
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            cls = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            cls = .number
        default:
            return .other
        }
        let value = scalar.value
        for range in newerThanLibrary where range.first <= value && value <= range.last { return range.cls }
        return cls
    }

    /// ASCII classes by arithmetic: no table, so no lazy-global check on the hottest path.
    @inline(__always)
    static func ascii(_ b: UInt8) -> CharClass {
        if (b | 0x20) &- 0x61 < 26 { return .letter }  // A-Z, a-z
        if b &- 0x30 < 10 { return .number }
        if b == 0x20 || b &- 0x09 < 5 { return .whitespace }  // space, \t \n \v \f \r
        return .other
    }

    private static let asciiTable: [CharClass] = (0..<128).map { value -> CharClass in
        switch value {
        case 0x09...0x0D, 0x20: return .whitespace
        case 0x30...0x39: return .number
        case 0x41...0x5A, 0x61...0x7A: return .letter
        default: return .other
        }
    }
}

/// Decodes one scalar from valid UTF-8 at `i`; returns the scalar value and its byte length.
@inline(__always)
func decodeUTF8(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
    let b0 = UInt32(buf[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(buf[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 {
        return ((b0 & 0x0F) << 12 | UInt32(buf[i + 1] & 0x3F) << 6 | UInt32(buf[i + 2] & 0x3F), 3)
    }
    return ((b0 & 0x07) << 18 | UInt32(buf[i + 1] & 0x3F) << 12 | UInt32(buf[i + 2] & 0x3F) << 6
        | UInt32(buf[i + 3] & 0x3F), 4)
}

/// Class and byte length of the scalar at `i` (ASCII without decoding).
@inline(__always)
func classAt(_ buf: UnsafeBufferPointer<UInt8>, _ i: Int) -> (CharClass, Int) {
    let b = buf[i]
    if b < 0x80 { return (CharClass.ascii(b), 1) }
    let (value, length) = decodeUTF8(buf, i)
    return (CharClass.of(value), length)
}
