import HTTPServer

/// What the parser made of an input: complete messages, a partial one, and the error if any.
struct Outcome: Equatable, CustomStringConvertible {
    struct Message: Equatable {
        var head: HTTPRequestHead
        var body: [UInt8]
    }
    var messages: [Message] = []
    var partialHead: HTTPRequestHead?
    var partialBody: [UInt8] = []
    var error: HTTPParseError?
    /// Bytes left unconsumed at the end (a partial line is consumed into the parser's buffer).
    var leftover = 0

    var description: String {
        "messages: \(messages.map { "\($0.head.method) \($0.head.target) body=\($0.body.count)" }), partial: \(partialHead?.target ?? "-") body=\(partialBody.count), error: \(error.map { "\($0)" } ?? "none"), leftover: \(leftover)"
    }
}

/// Feeds `pieces` the way a connection does: unconsumed bytes stay buffered, and after each
/// complete message the parser is reset and the rest parsed.
func feed(_ pieces: [[UInt8]], limits: HTTPLimits) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    var buffer: [UInt8] = []
    for piece in pieces {
        buffer += piece
        while !buffer.isEmpty {
            var ended = false
            do {
                let count = buffer.count
                let consumed = try buffer.withUnsafeBufferPointer { input in
                    try parser.parse(input) { event in
                        switch event {
                        case .head(let head):
                            if outcome.partialHead != nil { fatalError("two heads in one message") }
                            outcome.partialHead = head
                        case .body(let bytes):
                            if outcome.partialHead == nil { fatalError("body before head") }
                            outcome.partialBody += Array(bytes)
                        case .end:
                            if outcome.partialHead == nil || ended { fatalError("end without head, or twice") }
                            ended = true
                        }
                    }
                }
                guard consumed >= 0, consumed <= count else { fatalError("consumed \(consumed) of \(count)") }
                if !ended, consumed != count { fatalError("stopped early (\(consumed) of \(count)) without ending a message") }
                buffer.removeFirst(consumed)
            } catch {
                guard let error = error as? HTTPParseError else { fatalError("parse threw \(error)") }
                outcome.error = error
                if parser.phase != .failed { fatalError("error thrown but phase is \(parser.phase)") }
                return outcome
            }
            guard ended else { break }
            if parser.phase != .complete { fatalError("message ended but phase is \(parser.phase)") }
            outcome.messages.append(.init(head: outcome.partialHead!, body: outcome.partialBody))
            outcome.partialHead = nil
            outcome.partialBody = []
            parser.reset()
            if parser.phase != .idle { fatalError("reset parser is not idle") }
        }
    }
    outcome.leftover = buffer.count
    return outcome
}

/// SplitMix64: a tiny deterministic generator for split points.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
