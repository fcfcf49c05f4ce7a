import HTTPServer

/// libFuzzer target for `HTTPRequestParser`. Besides "no crash, no sanitizer report", it checks
/// the parser's promise that framing does not depend on how bytes arrive: the same input fed
/// whole, in pseudo-random pieces, and one byte at a time must give the same messages, bodies
/// and error. It also checks that each message's body matches its declared framing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    // The first byte picks the limits: small ones reach every limit branch with short inputs.
    let limits = data[0] & 1 == 0 ? HTTPLimits() : HTTPLimits(
        maxRequestLineLength: 64, maxHeaderBytes: 256, maxHeaderCount: 4, maxBodyBytes: 512, maxChunkLineLength: 16)
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))

    let whole = feed([input], limits: limits)
    check(whole, limits: limits)
    // Split points drawn from the input itself, so a crash reproduces from the saved file alone.
    var rng = SplitMix64(seed: input.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })
    var pieces: [[UInt8]] = []
    var start = 0
    while start < input.count {
        let length = Int(rng.next() % 17) + 1
        let end = min(input.count, start + length)
        pieces.append(Array(input[start..<end]))
        start = end
    }
    let split = feed(pieces, limits: limits)
    guard split == whole else { fatalError("split feed differs:\n whole: \(whole)\n split: \(split)") }
    if input.count <= 256 {
        let bytewise = feed(input.map { [$0] }, limits: limits)
        guard bytewise == whole else { fatalError("byte-at-a-time feed differs:\n whole: \(whole)\n bytes: \(bytewise)") }
    }
    return 0
}

/// Invariants of one outcome, whatever the input.
func check(_ outcome: Outcome, limits: HTTPLimits) {
    for message in outcome.messages {
        let head = message.head
        guard !head.method.isEmpty, !head.target.isEmpty else { fatalError("empty method or target accepted") }
        guard message.body.count <= limits.maxBodyBytes else { fatalError("body over the limit accepted") }
        let lengths = head.headers.values(for: "Content-Length")
        let codings = head.headers.values(for: "Transfer-Encoding")
        guard lengths.isEmpty || codings.isEmpty else { fatalError("Content-Length with Transfer-Encoding accepted") }
        if let length = lengths.first, let n = Int(length.split(separator: ",")[0].trimmingCharacters(in: " \t")) {
            guard message.body.count == n else { fatalError("body of \(message.body.count) bytes for Content-Length \(n)") }
        }
        if lengths.isEmpty && codings.isEmpty && !message.body.isEmpty { fatalError("body without framing") }
        let hosts = head.headers.values(for: "Host").count
        guard head.version == .http1_1 ? hosts == 1 : hosts <= 1 else { fatalError("\(hosts) Host headers accepted") }
    }
    if let error = outcome.error {
        guard (400...505).contains(error.status.code) else { fatalError("parse error with status \(error.status.code)") }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> Substring {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return s
    }
}
extension Substring {
    func trimmingCharacters(in set: String) -> Substring { String(self).trimmingCharacters(in: set) }
}
