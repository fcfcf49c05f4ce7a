/// The periodic sweep that enforces each connection's deadlines.
extension EventLoop {
    func sweep(now current: UInt64) {
        for connection in connections.values {
            guard let expiry = connection.timer.expired(now: current) else { continue }
            switch expiry {
            case .handshake:
                // Nothing HTTP has been said, so there is nothing to answer: just close.
                counters.increment(counters.tlsHandshakeFailures)
                close(connection)
            case .head, .body:
                // A request was under way: say why it is being dropped. A connection that never
                // sent a byte (pre-connect, probe) is closed silently.
                if connection.state == .reading && connection.parser.phase != .idle && connection.pendingOutput == 0 {
                    sendErrorAndClose(connection, status: .requestTimeout, message: "Timed out reading the request")
                } else {
                    close(connection)
                }
            case .halfCloseProbe:
                probeHalfClosed(connection)
            case .idle, .linger, .writeStall:
                close(connection)
            }
        }
    }

    /// A half-closed client still reads its answer; a closed socket resets when written to.
    /// Before the response starts, the only thing HTTP lets the server write is an interim
    /// response, which HTTP/1.1 clients must accept and skip (RFC 9110 15.2). HTTP/1.0 clients
    /// get none: their request is found gone when its response is written.
    func probeHalfClosed(_ connection: Connection) {
        connection.timer.enter(.handler, now: now)
        guard connection.state == .inFlight, !connection.responseStarted, connection.interimAllowed,
              connection.pendingOutput == 0 else { return }
        connection.output.append(contentsOf: ResponseWriter.continueResponse)
        flush(connection)
        updateInterest(connection)
    }
}
