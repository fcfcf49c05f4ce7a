#if canImport(Glibc)
import Glibc
#endif
import CEpoll

/// Reading, parsing and dispatching requests.
extension EventLoop {
    func handleEvent(_ connection: Connection, _ flags: UInt32) {
        if flags & (CEPOLL_ERR | CEPOLL_HUP) != 0 {
            if connection.state == .handshaking { counters.increment(counters.tlsHandshakeFailures) }
            close(connection)
            return
        }
        var flags = flags
        if let tls = connection.tls {
            if connection.state == .handshaking {
                guard advanceHandshake(connection, tls, peerClosed: flags & CEPOLL_RDHUP != 0) else { return }
                flags |= CEPOLL_IN  // the first request may have come with the client's Finished
            }
            flags = tls.resumes(flags)
        }
        if flags & CEPOLL_OUT != 0 {
            flush(connection)
        }
        if flags & CEPOLL_IN != 0, connection.state != .closed {
            handleReadable(connection)
        }
        if flags & CEPOLL_RDHUP != 0, connection.state != .closed {
            peerEndedInput(connection)
        }
        if connection.state != .closed { updateInterest(connection) }
    }

    /// The peer shut down its sending side: it closed the socket, or half-closed it and still
    /// reads. A request already received is answered either way; see `probeHalfClosed` for how
    /// a request whose client is gone for good is found and cancelled. RDHUP is watched no
    /// more (level-triggered, it would be reported on every wait).
    func peerEndedInput(_ connection: Connection) {
        switch connection.state {
        case .inFlight:
            guard !connection.inputEnded else { return }
            connection.inputEnded = true
            if !connection.responseStarted { connection.timer.enter(.halfClosed, now: now) }
        case .reading, .closingAfterWrite:
            // Reading: what is left in the socket is read until a read returns 0 (closing then,
            // unless it completed a request). An error response still goes out.
            connection.inputEnded = true
        case .handshaking, .lingering, .closed:
            close(connection)
        }
    }

    func handleReadable(_ connection: Connection) {
        switch connection.state {
        case .closed, .handshaking:
            return
        case .inFlight where connection.pendingInput >= inputCap:
            // Enough pipelined input is waiting; read more once this response is done.
            connection.readPaused = true
            return
        case .reading, .inFlight, .closingAfterWrite, .lingering:
            break
        }
        let result: IOResult<Int>
        do {
            result = try connection.receive(into: readBuffer)
        } catch {
            close(connection)
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .done(0):
            // End of input. Between requests (or inside one) nothing is left to answer.
            switch connection.state {
            case .inFlight, .closingAfterWrite: peerEndedInput(connection)
            default: close(connection)
            }
        case .done(let n):
            // After an error response nothing more is parsed; input is read only to be dropped.
            if connection.state == .closingAfterWrite || connection.state == .lingering { return }
            connection.input.append(contentsOf: UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
            if connection.state == .reading { processInput(connection) }
        }
    }

    /// Parses buffered input while the connection is free to take a request. Stops after each
    /// complete request: the next is parsed only once this one's response is done.
    func processInput(_ connection: Connection) {
        while connection.state == .reading && connection.pendingInput > 0 {
            var head: HTTPRequestHead?
            var ended = false
            let consumed: Int
            do {
                consumed = try connection.input.withUnsafeBufferPointer { buffer in
                    try connection.parser.parse(UnsafeBufferPointer(rebasing: buffer[connection.inputStart...])) { event in
                        switch event {
                        case .head(let h): head = h
                        case .body(let bytes): connection.body.append(contentsOf: bytes)
                        case .end: ended = true
                        }
                    }
                }
            } catch let error as HTTPParseError {
                connection.input = []
                connection.inputStart = 0
                sendErrorAndClose(connection, status: error.status, message: error.reason)
                return
            } catch {
                close(connection)
                return
            }
            connection.inputStart += consumed
            let current = now
            if let head {
                connection.head = head
                // 100 Continue only now that the head passed every check (a 413 or 400 above
                // never invites the body), and only if the body has not started arriving.
                if head.expectsContinue && !ended && connection.body.isEmpty && connection.parser.phase == .body {
                    connection.output.append(contentsOf: ResponseWriter.continueResponse)
                    flush(connection)
                    if connection.state != .reading { return }
                }
            }
            if ended {
                dispatch(connection)
                break
            }
            switch connection.parser.phase {
            case .head: connection.timer.enter(.head, now: current)
            case .body: connection.timer.enter(.body, now: current)  // also refreshes on progress
            case .idle, .complete, .failed: break
            }
        }
        connection.compactInput()
    }

    func dispatch(_ connection: Connection) {
        guard let head = connection.head else { return }
        if connection.body.isEmpty, let quick {
            quickAnswer.clear()
            if quick(head, &quickAnswer) {
                answerAtOnce(connection, head: head, quickAnswer)
                return
            }
        }
        connection.sequence += 1
        connection.state = .inFlight
        connection.responseEnd = nil
        connection.responseStarted = false
        connection.interimAllowed = head.version.major == 1 && head.version.minor >= 1
        connection.timer.enter(connection.inputEnded ? .halfClosed : .handler, now: now)
        counters.increment(counters.requests)
        let responder = HTTPResponder(
            connection: ConnectionRef(connection: connection), sequence: connection.sequence,
            mailbox: mailbox, head: head, compression: compression)
        connection.responder = responder
        let request = HTTPRequest(head: head, body: connection.body)
        connection.head = nil
        connection.body = []
        handler(request, responder)
    }

    /// A quick answer: written into the output and sent now, as a responder's complete response
    /// would be (the same bytes, keep-alive and drain rules), without the responder.
    func answerAtOnce(_ connection: Connection, head: HTTPRequestHead, _ answer: QuickAnswer) {
        connection.sequence += 1
        connection.state = .inFlight
        connection.responseStarted = true
        connection.timer.enter(connection.inputEnded ? .halfClosed : .handler, now: now)   // as `dispatch` does
        counters.increment(counters.requests)
        let keepAlive = head.keepAlive && !draining
        connection.responseEnd = keepAlive ? .keepAlive : .close
        connection.head = nil
        let second = time(nil)
        if second != dateSecond {
            dateSecond = second
            dateLine = Array("Date: ".utf8) + HTTPDate.format(second) + Array("\r\n".utf8)
        }
        ResponseWriter.appendQuick(answer, dateLine: dateLine, isHead: head.method == "HEAD", keepAlive: keepAlive,
                                   requestVersion: head.version, to: &connection.output)
        flush(connection)   // done writing: back to reading (or closing), as after any response
    }

    /// Keeps epoll's interest set in line with what the connection can do now.
    func updateInterest(_ connection: Connection) {
        guard connection.state != .closed else { return }
        if connection.readPaused && (connection.state != .inFlight || connection.pendingInput < inputCap) {
            connection.readPaused = false
        }
        var wanted: UInt32 = connection.inputEnded ? 0 : CEPOLL_RDHUP
        // At end of input the socket stays readable: watch it only where a read of 0 closes.
        let inputDone = connection.inputEnded && (connection.state == .inFlight || connection.state == .closingAfterWrite)
        if !connection.readPaused && !inputDone { wanted |= CEPOLL_IN }
        if connection.pendingOutput > 0 { wanted |= CEPOLL_OUT }
        if let tls = connection.tls { wanted = tls.interest(wanted) }
        guard wanted != connection.registeredEvents else { return }
        do {
            try control(EPOLL_CTL_MOD, fd: connection.fd, events: wanted, token: connection.id)
            connection.registeredEvents = wanted
        } catch {
            close(connection)
        }
    }
}
