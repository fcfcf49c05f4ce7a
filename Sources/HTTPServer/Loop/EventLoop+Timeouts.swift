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
            case .idle, .linger, .writeStall:
                close(connection)
            }
        }
    }
}
