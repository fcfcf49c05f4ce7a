/// Finds stop strings in streamed text, across token boundaries. Text that might be the start of a
/// stop string is held back until it is known not to be; the stop string itself is never emitted.
public struct StopMatcher: Sendable {
    private let stops: [[UInt8]]
    /// Text received but not yet released (a possible stop-string prefix).
    private var held: [UInt8] = []
    public private(set) var matched: String?

    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    /// Feeds a text delta; returns the text that is now safe to emit. After a match, returns the
    /// text before the stop string and `matched` is set; further input is ignored.
    public mutating func feed(_ text: String) -> String {
        guard matched == nil else { return "" }
        if stops.isEmpty { return text }
        held += Array(text.utf8)
        // A complete stop string anywhere: emit what precedes the earliest one.
        var earliest: (at: Int, stop: [UInt8])?
        for stop in stops {
            if let at = find(stop, in: held), at < (earliest?.at ?? Int.max) { earliest = (at, stop) }
        }
        if let e = earliest {
            matched = String(decoding: e.stop, as: UTF8.self)
            let out = String(decoding: held[..<e.at], as: UTF8.self)
            held.removeAll()
            return out
        }
        // Hold back the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            for k in stride(from: min(stop.count - 1, held.count), to: keep, by: -1) where held.suffix(k).elementsEqual(stop.prefix(k)) {
                keep = k
                break
            }
        }
        let cut = held.count - keep
        let out = String(decoding: held[..<cut], as: UTF8.self)
        held.removeFirst(cut)
        return out
    }

    /// Releases held text at the end of a generation that did not stop on a string.
    public mutating func flush() -> String {
        defer { held.removeAll() }
        return matched == nil ? String(decoding: held, as: UTF8.self) : ""
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        outer: for i in 0...(hay.count - needle.count) {
            for j in 0..<needle.count where hay[i + j] != needle[j] { continue outer }
            return i
        }
        return nil
    }
}
