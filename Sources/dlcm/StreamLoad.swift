import DLCMRuntime
import Foundation
import MonotonicTime
#if canImport(Glibc)
import Glibc
#endif

/// A load generator for streamed completions: `streams` keep-alive connections, each sending
/// `requests` streamed requests one after the other, all multiplexed by poll(2) on the calling
/// thread. It shares the machine with the server it measures, so it does the least it can per
/// token: one recv per readable socket into a reused buffer, a search for the first token and the
/// end of the response, and the usage chunk's completion_tokens read from the last bytes only.
struct StreamLoad {
    struct Result {
        var completionTokens = 0
        var seconds = 0.0
        /// Submission to first `"text"` byte, one entry per request.
        var timesToFirstToken: [Double] = []
        /// Client CPU (user + system) over the run.
        var cpuSeconds = 0.0
        var tokensPerSecond: Double { Double(completionTokens) / seconds }
        var medianTTFT: Double { timesToFirstToken.sorted()[timesToFirstToken.count / 2] }
    }

    let host: String
    let port: UInt16
    let prompt: String
    let maxTokens: Int
    /// Sleep between polls (0 = block in poll). A client blocked in poll is woken by every write
    /// the server makes, and on this kind of VM each wake-up costs several microseconds; sleeping
    /// a fixed interval instead reads whatever arrived meanwhile in one go. Measured against
    /// `dlcm serve`'s default 5 ms stream interval, blocking is cheaper (one wake-up per write,
    /// and writes are few); times are known to within this interval.
    let pollIntervalMicros: Int
    /// The request body up to its seed, the last field (rendered once: JSONSerialization per
    /// request cost the client tens of microseconds between a response's end and the next request).
    private let bodyBeforeSeed: [UInt8]

    init(host: String, port: UInt16, prompt: String, maxTokens: Int, pollIntervalMicros: Int) {
        self.host = host
        self.port = port
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.pollIntervalMicros = pollIntervalMicros
        // The prompt as a JSON string: the one element of a rendered array.
        let quoted = (try? JSONSerialization.data(withJSONObject: [prompt])).map { Array($0.dropFirst().dropLast()) } ?? Array("\"\"".utf8)
        bodyBeforeSeed = Array("{\"prompt\":".utf8) + quoted
            + Array(",\"max_tokens\":\(maxTokens),\"temperature\":0.8,\"ignore_eos\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true},\"seed\":".utf8)
    }

    /// Bytes of one request; the seed differs per request as the in-process baseline's does.
    func request(seed: Int) -> [UInt8] {
        let body = bodyBeforeSeed + Array("\(seed)}".utf8)
        let head = "POST /v1/completions HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// `streams` concurrent streams of `requests` sequential requests each.
    func run(streams: Int, requests: Int) throws -> Result {
        var conns: [Stream] = []
        defer { for c in conns { close(c.fd) } }
        for _ in 0..<streams { conns.append(Stream(fd: try connectTCP())) }
        let cpu0 = cpuSeconds()
        let t0 = monotonicNanoseconds()
        var result = Result()
        var seed = 1000
        for c in conns {
            try c.send(request(seed: seed), now: t0)
            seed += 1
            c.left = requests - 1
        }
        var fds = conns.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var open = streams
        var lastProgress = t0
        while open > 0 {
            if pollIntervalMicros > 0 { usleep(UInt32(pollIntervalMicros)) }
            let n = poll(&fds, nfds_t(fds.count), pollIntervalMicros > 0 ? 0 : 30_000)
            if n < 0 { if errno == EINTR { continue }; throw LoadFailure( "poll: errno \(errno)") }
            if n == 0 {
                if monotonicNanoseconds() - lastProgress > 30_000_000_000 { throw LoadFailure( "no answer for 30 s") }
                continue
            }
            lastProgress = monotonicNanoseconds()
            for i in fds.indices where fds[i].revents != 0 {
                let c = conns[i]
                let got = buffer.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if got < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                if got <= 0 { throw LoadFailure( "the server closed a stream mid-response") }
                let now = monotonicNanoseconds()
                guard let tokens = try buffer.withUnsafeBufferPointer({ try c.take(UnsafeBufferPointer(rebasing: $0[..<got]), now: now) }) else { continue }
                // The response is complete.
                result.completionTokens += tokens
                result.timesToFirstToken.append(Double(c.firstToken - c.sent) / 1e9)
                if c.left > 0 {
                    c.left -= 1
                    try c.send(request(seed: seed), now: now)
                    seed += 1
                } else {
                    fds[i].events = 0
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        result.seconds = Double(monotonicNanoseconds() - t0) / 1e9
        result.cpuSeconds = cpuSeconds() - cpu0
        return result
    }

    /// The server's `dlcm_engine_steps_total` from /metrics (nil if it cannot be read: another
    /// server, or metrics behind a key).
    func engineSteps() -> UInt64? {
        guard let fd = try? connectTCP() else { return nil }
        defer { close(fd) }
        let ask = Array("GET /metrics HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard ask.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == ask.count else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            answer += buffer[..<n]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("dlcm_engine_steps_total ") }) else { return nil }
        return UInt64(line.split(separator: " ").last ?? "")
    }

    private func connectTCP() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw LoadFailure( "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoadFailure( "socket: errno \(errno)") }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            close(fd)
            throw LoadFailure( "cannot connect to \(host):\(port): errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    private func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}

/// A load run that could not finish (bench or load generator): says why.
struct LoadFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One connection's response in progress.
private final class Stream {
    let fd: Int32
    var left = 0
    var sent: UInt64 = 0
    var firstToken: UInt64 = 0
    /// The response's first bytes (for the status line) and its last ones (usage and end).
    var head: [UInt8] = []
    var tail: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    func send(_ bytes: [UInt8], now: UInt64) throws {
        sent = now
        firstToken = 0
        head.removeAll(keepingCapacity: true)
        tail.removeAll(keepingCapacity: true)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw LoadFailure( "send: errno \(errno)") }
            done += n
        }
    }

    private static let terminator = Array("\r\n0\r\n\r\n".utf8)
    private static let text = Array("\"text\"".utf8)
    private static let usage = Array("\"completion_tokens\":".utf8)

    /// Takes received bytes; returns the completion tokens once the response has ended.
    func take(_ bytes: UnsafeBufferPointer<UInt8>, now: UInt64) throws -> Int? {
        if head.count < 12 {
            head += bytes.prefix(12 - head.count)
            // An error answer has a Content-Length body and no chunked end: fail on its status line.
            if head.count == 12 && !head.elementsEqual("HTTP/1.1 200".utf8) {
                throw LoadFailure( "unexpected response: \(String(decoding: Array(bytes.prefix(400)), as: UTF8.self))")
            }
        }
        if firstToken == 0 && Self.find(Self.text, in: bytes) != nil { firstToken = now }
        // (Slices of the buffer pointer: Sequence.suffix on it copied byte by byte, 6% of the client.)
        tail.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[max(0, bytes.count - 1024)...]))
        if tail.count > 2048 { tail.removeFirst(tail.count - 1024) }
        let end = tail.count - Self.terminator.count
        guard end >= 0, tail.withUnsafeBufferPointer({ memcmp($0.baseAddress! + end, Self.terminator, Self.terminator.count) == 0 })
        else { return nil }
        guard let at = Self.lastIndex(Self.usage, in: tail) else {
            throw LoadFailure( "no usage chunk at the end of a stream")
        }
        var n = 0
        for b in tail[(at + Self.usage.count)...] {
            guard b >= 48 && b <= 57 else { break }
            n = n * 10 + Int(b - 48)
        }
        if firstToken == 0 { firstToken = now }
        return n
    }

    private static func find(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>) -> Int? {
        guard hay.count >= needle.count, let base = hay.baseAddress else { return nil }
        var i = 0
        let last = hay.count - needle.count
        while i <= last {
            // memchr for the first byte, then compare the rest.
            guard let p = memchr(base + i, Int32(needle[0]), last - i + 1) else { return nil }
            i = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + i, needle, needle.count) == 0 { return i }
            i += 1
        }
        return nil
    }

    private static func lastIndex(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in stride(from: hay.count - needle.count, through: 0, by: -1) where hay[i] == needle[0] {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }
}
