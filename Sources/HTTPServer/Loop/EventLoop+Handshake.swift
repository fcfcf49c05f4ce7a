/// The TLS handshake, driven by the same epoll loop as everything else: each readiness event
/// advances it as far as the socket allows, and `TLSSession.interest` points epoll at what it
/// waits for. A slow or broken handshake therefore blocks no one; the sweep ends it at
/// `HTTPTimeouts.tlsHandshake`.
extension EventLoop {
    /// Returns true when the handshake finished and the connection now reads HTTP; false when
    /// it is still under way (interest updated) or failed (closed).
    func advanceHandshake(_ connection: Connection, _ tls: TLSSession, peerClosed: Bool) -> Bool {
        switch tls.handshake() {
        case .done:
            counters.increment(counters.tlsHandshakes)
            connection.state = .reading
            connection.timer.enter(.head, now: now)
            return true
        case .blocked where !peerClosed:
            updateInterest(connection)
            return false
        case .blocked, .failed:
            // Not TLS at all, no shared protocol or cipher, or the client hung up half-way.
            counters.increment(counters.tlsHandshakeFailures)
            close(connection)
            return false
        }
    }
}
