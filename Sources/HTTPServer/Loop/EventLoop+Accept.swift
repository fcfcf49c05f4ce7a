#if canImport(Glibc)
import Glibc
#endif
import CEpoll

extension EventLoop {
    /// Accepts what is waiting (at most 64 per wake, so accepting cannot starve other events).
    func acceptConnections() {
        for _ in 0..<64 {
            guard listenFD >= 0 else { return }
            let fd: Int32
            do {
                guard let accepted = try Socket.accept(listenFD) else { return }
                fd = accepted
            } catch where error.errno == EMFILE || error.errno == ENFILE {
                // Out of descriptors: the listener would stay readable and spin the loop.
                // Stop watching it until a connection closes.
                try? control(EPOLL_CTL_DEL, fd: listenFD, events: 0, token: Self.listenerToken)
                listenerPaused = true
                return
            } catch {
                continue  // ECONNABORTED and the like concern only that one connection
            }
            if connections.count >= configuration.maxConnections && !draining, let idle = longestIdle() {
                // A connection between requests costs nothing to drop (clients reopen closed
                // keep-alive connections), while refusing the new one may be refusing a probe.
                counters.increment(counters.evicted)
                close(idle)
            }
            if connections.count >= configuration.maxConnections || draining {
                reject(fd)
                continue
            }
            var tls: TLSSession?
            if let tlsContext {
                do {
                    tls = try TLSSession(context: tlsContext, fd: fd)
                } catch {
                    closeDescriptor(fd)  // out of memory in OpenSSL: nothing to tell the client
                    continue
                }
            }
            let id = nextID
            nextID += 1
            do {
                try control(EPOLL_CTL_ADD, fd: fd, events: Self.baseEvents, token: id)
            } catch {
                tls?.free()
                closeDescriptor(fd)
                continue
            }
            // A TLS connection's first deadline is the handshake's; the head's starts after it.
            let connection = Connection(
                id: id, fd: fd, tls: tls, limits: configuration.limits,
                timer: ConnectionTimer(timeouts: configuration.timeouts, now: now, phase: tls == nil ? .head : .handshake),
                events: Self.baseEvents)
            connections[id] = connection
            counters.increment(counters.open)
            counters.increment(counters.accepted)
        }
    }

    /// The keep-alive connection that has waited longest for its next request (nothing read,
    /// nothing to write), or nil. A linear scan: it runs only at the connection limit.
    private func longestIdle() -> Connection? {
        var oldest: Connection?
        for connection in connections.values
        where connection.state == .reading && connection.timer.phase == .idle
            && connection.pendingInput == 0 && connection.pendingOutput == 0 {
            // Every idle deadline is its start plus the same timeout: the earliest started first.
            if let o = oldest, let a = o.timer.readDeadline, let b = connection.timer.readDeadline, a <= b { continue }
            oldest = connection
        }
        return oldest
    }

    /// Over the connection limit: a best-effort 503 (one non-blocking send) and close. Under
    /// TLS just the close: plaintext would be garbage to a client expecting a ServerHello, and
    /// a handshake is the very cost being refused.
    private func reject(_ fd: Int32) {
        counters.increment(counters.rejected)
        if tlsContext != nil {
            closeDescriptor(fd)
            return
        }
        let response = ResponseWriter.error(.serviceUnavailable, message: "Server is at its connection limit", retryAfter: 1)
        _ = response.withUnsafeBytes { try? Socket.send(fd, $0) }
        closeDescriptor(fd)
    }

    func resumeListenerIfPaused() {
        guard listenerPaused, listenFD >= 0 else { return }
        if (try? control(EPOLL_CTL_ADD, fd: listenFD, events: CEPOLL_IN, token: Self.listenerToken)) != nil {
            listenerPaused = false
        }
    }
}
