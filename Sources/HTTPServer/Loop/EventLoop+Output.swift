#if canImport(Glibc)
import Glibc
#endif
import CEpoll

/// Queuing and writing responses, finishing them, and closing connections.
extension EventLoop {
    /// Queues a response's bytes; the caller writes them (`flush`) once it has queued all it has.
    /// Returns false when they were dropped (or the connection closed over them).
    func appendOutput(_ connection: Connection, sequence: UInt64, bytes: [UInt8], end: ResponseEnd?, streamed: Bool) -> Bool {
        // Output for a closed connection or an earlier request: the client is gone; drop it.
        guard connection.state == .inFlight, connection.sequence == sequence else { return false }
        connection.output.append(contentsOf: bytes)
        connection.responseStarted = true
        if let end { connection.responseEnd = end }
        if streamed && end == nil && connection.pendingOutput > configuration.maxOutputBufferBytes {
            // The client reads slower than the stream is produced: stop it here rather than
            // buffer without bound. Closing cancels the request.
            close(connection)
            return false
        }
        return true
    }

    /// Writes queued output until the socket would block, then waits for EPOLLOUT.
    func flush(_ connection: Connection) {
        while connection.pendingOutput > 0 {
            let result: IOResult<Int>
            do {
                result = try connection.output.withUnsafeBytes { bytes in
                    try connection.transmit(UnsafeRawBufferPointer(rebasing: bytes[connection.outputStart...]))
                }
            } catch {
                close(connection)  // EPIPE / ECONNRESET: the client is gone
                return
            }
            switch result {
            case .done(let n):
                connection.outputStart += n
                connection.timer.outputProgress(now: now)
            case .wouldBlock:
                connection.timer.outputPending(now: now)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 1 << 20)
        connection.outputStart = 0
        connection.timer.outputDrained()
        switch connection.state {
        case .closingAfterWrite:
            startLinger(connection)
        case .inFlight where connection.responseEnd != nil:
            responseComplete(connection)
        default:
            break
        }
    }

    /// The whole response has left: close, or go back to reading (pipelined input first).
    func responseComplete(_ connection: Connection) {
        let end = connection.responseEnd
        connection.responder = nil
        connection.responseEnd = nil
        if end == .close || draining {
            startLinger(connection)
            return
        }
        connection.state = .reading
        connection.parser.reset()
        connection.timer.enter(.idle, now: now)
        // Pipelined input waits to be parsed; without any, the caller's updateInterest is all.
        if connection.pendingInput > 0 || connection.readPaused { ready.append(connection) }
    }

    /// Answers with the server's own JSON error, then closes (after the bytes leave).
    func sendErrorAndClose(_ connection: Connection, status: HTTPStatus, message: String) {
        counters.recordError(status: status.code)
        connection.state = .closingAfterWrite
        connection.timer.enter(.handler, now: now)  // only the write-stall deadline applies now
        connection.output.append(contentsOf: ResponseWriter.error(status, message: message))
        flush(connection)
        updateInterest(connection)
    }

    /// Half-closes and drains input for a moment before closing. Closing a socket with unread
    /// input makes the kernel send RST, which can destroy a response the client has not read.
    func startLinger(_ connection: Connection) {
        connection.state = .lingering
        connection.input = []
        connection.inputStart = 0
        connection.readPaused = false
        connection.shutdownWrite()
        connection.timer.enter(.linger, now: now)
        updateInterest(connection)
    }

    /// Closes on every path: the descriptor, the table entry, and an unfinished response's
    /// cancellation (the callback runs here, on the loop thread).
    func close(_ connection: Connection) {
        guard connection.state != .closed else { return }
        connection.state = .closed
        connection.releaseTransport()
        closeDescriptor(connection.fd)  // also removes it from the epoll set
        connections[connection.id] = nil
        counters.increment(counters.open, by: -1)
        connection.input = []
        connection.output = []
        connection.body = []
        if let responder = connection.responder {
            connection.responder = nil
            responder.connectionLost()
        }
        resumeListenerIfPaused()
    }
}
