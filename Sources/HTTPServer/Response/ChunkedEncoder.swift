/// Frames response body pieces in the chunked transfer coding.
public enum ChunkedEncoder {
    /// The last-chunk with no trailers: ends a chunked body.
    public static let terminator: [UInt8] = Array("0\r\n\r\n".utf8)

    /// `size-in-hex CRLF data CRLF`. An empty piece yields nothing: a zero-size chunk would
    /// end the body early.
    public static func encode(_ piece: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard piece.count > 0 else { return }
        appendHex(piece.count, to: &out)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
        out.append(contentsOf: piece)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }

    public static func encode(_ piece: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(piece.count + 12)
        piece.withUnsafeBytes { encode($0, into: &out) }
        return out
    }

    static func appendHex(_ value: Int, to out: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        if value == 0 { shift = 0 }
        while shift >= 0 {
            out.append(digits[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}
