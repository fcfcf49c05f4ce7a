import Testing
@testable import HTTPServer
import TestSupport

/// What the parser made of an input: complete messages, a partial one, and the error if any.
struct ParseOutcome: Equatable, CustomStringConvertible {
    struct Message: Equatable {
        var head: HTTPRequestHead
        var body: [UInt8]
    }
    var messages: [Message] = []
    var partialHead: HTTPRequestHead?
    var partialBody: [UInt8] = []
    var error: HTTPParseError?

    var description: String {
        "messages: \(messages.map { "\($0.head.method) \($0.head.target) body=\($0.body.count)" }), partial: \(partialHead?.target ?? "-"), error: \(error.map { "\($0)" } ?? "none")"
    }
}

/// Feeds `pieces` to a parser the way a connection does: unconsumed bytes stay buffered, and
/// after each complete message the parser is reset and the rest parsed.
func feed(_ pieces: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    var buffer: [UInt8] = []
    for piece in pieces {
        buffer += piece
        while !buffer.isEmpty {
            var ended = false
            do {
                let consumed = try buffer.withUnsafeBufferPointer { input in
                    try parser.parse(input) { event in
                        switch event {
                        case .head(let head): outcome.partialHead = head
                        case .body(let bytes): outcome.partialBody += Array(bytes)
                        case .end: ended = true
                        }
                    }
                }
                buffer.removeFirst(consumed)
            } catch {
                outcome.error = error as? HTTPParseError
                return outcome
            }
            guard ended else { break }
            outcome.messages.append(.init(head: outcome.partialHead!, body: outcome.partialBody))
            outcome.partialHead = nil
            outcome.partialBody = []
            parser.reset()
        }
    }
    return outcome
}

func randomSplit(_ bytes: [UInt8], using rng: inout SeededGenerator) -> [[UInt8]] {
    var pieces: [[UInt8]] = []
    var i = 0
    while i < bytes.count {
        let n = Int.random(in: 1...max(1, min(17, bytes.count - i)), using: &rng)
        pieces.append(Array(bytes[i..<(i + n)]))
        i += n
    }
    return pieces
}

/// Parses `input` whole, byte by byte and at 50 seeded random splits; all must agree.
/// Returns the outcome of the whole feed; a disagreement is recorded as a test failure.
func parseEverySplit(_ input: String, limits: HTTPLimits = HTTPLimits()) -> ParseOutcome {
    parseEverySplit(Array(input.utf8), limits: limits)
}

func parseEverySplit(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> ParseOutcome {
    let whole = feed([bytes], limits: limits)
    let byteByByte = feed(bytes.map { [$0] }, limits: limits)
    #expect(whole == byteByByte, "byte-by-byte differs from whole")
    var rng = SeededGenerator(seed: UInt64(bytes.count) &* 7919)
    for _ in 0..<50 {
        let split = feed(randomSplit(bytes, using: &rng), limits: limits)
        #expect(whole == split, "random split differs from whole")
    }
    return whole
}
