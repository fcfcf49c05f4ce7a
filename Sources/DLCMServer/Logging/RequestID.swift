import Foundation
import Synchronization

/// The id that ties a request's log line to its response (`X-Request-Id`). A client's own id is
/// kept when it is sane (1...128 visible ASCII characters, so it cannot break a log line or a
/// header); otherwise the server makes one.
enum RequestID {
    static let maxLength = 128

    static func resolve(_ incoming: String?) -> String {
        if let incoming, isSane(incoming) { return incoming }
        return make()
    }

    static func isSane(_ id: String) -> Bool {
        (1...maxLength).contains(id.utf8.count) && id.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// `req_` + 64 random bits drawn once per process + a 64-bit counter, in hex: unique across
    /// restarts and replicas without a getrandom(2) call per request on the event loop.
    /// Written into one buffer (on every request, on the event loop: building it from three
    /// strings was 4% of a `/health` request's CPU).
    static func make() -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeNew(to: out)
            return 36
        }
    }

    /// The id of `resolve(incoming)` appended to `bytes`, with no String made for it (probes).
    static func append(resolving incoming: String?, to bytes: inout [UInt8]) {
        if let incoming, isSane(incoming) {
            bytes.append(contentsOf: incoming.utf8)
            return
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 36))
        bytes.withUnsafeMutableBufferPointer { writeNew(to: UnsafeMutableBufferPointer(rebasing: $0[start...])) }
    }

    /// A new id into the first 36 bytes of `out`.
    private static func writeNew(to out: UnsafeMutableBufferPointer<UInt8>) {
        let counter = counter.add(1, ordering: .relaxed).newValue
        out[0] = UInt8(ascii: "r"); out[1] = UInt8(ascii: "e"); out[2] = UInt8(ascii: "q"); out[3] = UInt8(ascii: "_")
        writeHex(processPrefix, to: out, at: 4)
        writeHex(counter, to: out, at: 20)
    }

    private static let processPrefix = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)

    private static func writeHex(_ value: UInt64, to out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        for k in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * UInt64(k))) & 0xF
            out[start + k] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble   // 0-9, a-f
        }
    }

    /// 16 hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            writeHex(value, to: out, at: 0)
            return 16
        }
    }
}
