import CZlib

/// One-shot gzip (RFC 1952) through zlib.
public enum Gzip {
    /// `bytes` as one gzip member; nil only if zlib fails (out of memory) or the input is over
    /// 4 GiB (zlib's single-call limit; bodies are capped far lower).
    public static func compress(_ bytes: [UInt8], level: Int = 6) -> [UInt8]? {
        guard bytes.count <= Int(UInt32.max) else { return nil }
        let capacity = czlib_gzip_bound(bytes.count)
        let clamped = Int32(min(max(level, 1), 9))
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = bytes.withUnsafeBufferPointer { input in
                czlib_gzip(input.baseAddress, input.count, clamped, buffer.baseAddress, capacity)
            }
            failed = count == 0
        }
        return failed ? nil : out
    }
}
