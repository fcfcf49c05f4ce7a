import DLCMRuntime
import HTTPServer

/// Server-sent events over a chunked response: `data: {json}\n\n` events, `: keep-alive`
/// comments while nothing else goes out, `data: [DONE]` at the end. The head is sent with the
/// first event, so an error known before then still gets its own status. Used from the engine
/// thread only.
final class SSEWriter {
    private let exchange: Exchange
    private let keepAliveNanos: UInt64
    private var lastWrite = monotonicNanoseconds()
    private(set) var started = false
    private var done = false

    static let headers: HTTPHeaders = [
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    ]

    init(exchange: Exchange, keepAliveSeconds: Double) {
        self.exchange = exchange
        keepAliveNanos = UInt64(max(keepAliveSeconds, 0.001) * 1e9)
    }

    func event(_ json: JSON) {
        var bytes = Array("data: ".utf8)
        json.write(to: &bytes)
        bytes += "\n\n".utf8
        send(bytes)
    }

    /// Called whenever the engine reports progress without output.
    func keepAliveIfDue() {
        if monotonicNanoseconds() - lastWrite >= keepAliveNanos { send(Array(": keep-alive\n\n".utf8)) }
    }

    /// An error: its own response if nothing was sent yet, else an error event; then the end.
    func fail(_ error: APIError) {
        exchange.note { $0.error = error.message }
        guard started else {
            done = true
            exchange.respond(error)
            return
        }
        event(error.object)
        finish()
    }

    func finish() {
        guard !done else { return }
        send(Array("data: [DONE]\n\n".utf8))
        done = true
        exchange.finishStream()
    }

    /// One event, already rendered (`data: ...\n\n`).
    func send(_ bytes: [UInt8]) {
        guard !done else { return }
        if !started {
            started = true
            exchange.startStream(headers: Self.headers)
        }
        exchange.write(bytes)
        lastWrite = monotonicNanoseconds()
    }
}
