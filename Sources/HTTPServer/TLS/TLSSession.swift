#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CEpoll

/// A TLS failure on one connection (bad handshake, corrupt record). The connection closes.
struct TLSConnectionError: Error, CustomStringConvertible {
    let description: String
}

/// One connection's SSL object over its non-blocking socket. Owned by the event loop thread.
///
/// OpenSSL on a non-blocking socket answers "not now" with WANT_READ or WANT_WRITE, and the
/// two directions are not independent: a read may need to write (a TLS 1.3 key update is
/// answered), a write may need to read. The session records which way each operation is
/// blocked, and the loop folds that into the connection's epoll interest (`interest`) and into
/// which operation an event resumes (`resumes`).
final class TLSSession {
    enum HandshakeStep: Equatable {
        case done
        case blocked
        case failed(String)
    }

    private var ssl: OpaquePointer?
    private(set) var established = false
    private var handshakeNeedsWritable = false
    private var readNeedsWritable = false
    private var writeNeedsReadable = false
    /// After a fatal error OpenSSL forbids SSL_shutdown; the connection is just closed.
    private var failed = false
    private var shutdownSent = false

    init(context: TLSContext, fd: Int32) throws(TLSConnectionError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw TLSConnectionError(description: "SSL_new: \(drainOpenSSLErrors().joined(separator: "; "))")
        }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            throw TLSConnectionError(description: "SSL_set_fd: \(drainOpenSSLErrors().joined(separator: "; "))")
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
    }

    deinit { free() }

    /// Advances the handshake as far as the socket allows.
    func handshake() -> HandshakeStep {
        guard let ssl, !failed else { return .failed("closed") }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        handshakeNeedsWritable = false
        if rc == 1 {
            established = true
            return .done
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            return .blocked
        case SSL_ERROR_WANT_WRITE:
            handshakeNeedsWritable = true
            return .blocked
        case let code:
            failed = true
            return .failed(reason(code))
        }
    }

    /// Decrypted bytes into `buffer`: `.done(0)` at the client's EOF (close_notify or not).
    ///
    /// OpenSSL reads one record at a time from the socket (read-ahead is off), so whatever it
    /// has not yet read is still in the kernel, where level-triggered epoll sees it. Each call
    /// therefore takes whole records only, while the buffer has room for a full one (16 KiB):
    /// no plaintext is ever left waiting inside OpenSSL where no event would announce it.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSConnectionError) -> IOResult<Int> {
        guard let ssl, !failed else { throw TLSConnectionError(description: "closed") }
        readNeedsWritable = false
        var total = 0
        while buffer.count - total >= Int(COPENSSL_MAX_RECORD_PLAINTEXT) || (total < buffer.count && SSL_pending(ssl) > 0) {
            ERR_clear_error()
            var n = 0
            if SSL_read_ex(ssl, buffer.baseAddress! + total, buffer.count - total, &n) == 1 {
                total += n
                continue
            }
            switch SSL_get_error(ssl, 0) {
            case SSL_ERROR_WANT_READ:
                return total > 0 ? .done(total) : .wouldBlock
            case SSL_ERROR_WANT_WRITE:
                readNeedsWritable = true
                return total > 0 ? .done(total) : .wouldBlock
            case SSL_ERROR_ZERO_RETURN:
                // The peer's close_notify (or, with IGNORE_UNEXPECTED_EOF, a bare EOF).
                return .done(total)
            case let code:
                if total > 0 { return .done(total) }  // hand over what arrived; the error repeats
                failed = true
                throw TLSConnectionError(description: reason(code))
            }
        }
        return .done(total)
    }

    /// Encrypts and sends from `bytes`; returns how many plaintext bytes went out. A write
    /// that returned `.wouldBlock` must be retried with the same leading bytes (the output
    /// buffer only ever grows at its end until they are sent, which is what OpenSSL needs).
    func write(_ bytes: UnsafeRawBufferPointer) throws(TLSConnectionError) -> IOResult<Int> {
        guard let ssl, !failed else { throw TLSConnectionError(description: "closed") }
        writeNeedsReadable = false
        ERR_clear_error()
        var n = 0
        if SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &n) == 1 { return .done(n) }
        switch SSL_get_error(ssl, 0) {
        case SSL_ERROR_WANT_WRITE:
            return .wouldBlock
        case SSL_ERROR_WANT_READ:
            writeNeedsReadable = true
            return .wouldBlock
        case let code:
            failed = true
            throw TLSConnectionError(description: reason(code))
        }
    }

    /// Sends close_notify once, without waiting for the client's: one non-blocking attempt.
    /// Clients take a missing close_notify in stride; a truncation attack needs the framing
    /// to lie, and HTTP/1.1 framing (Content-Length, chunked) is explicit.
    func sendCloseNotify() {
        guard let ssl, established, !failed, !shutdownSent else { return }
        shutdownSent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    func free() {
        guard let ssl else { return }
        SSL_free(ssl)
        self.ssl = nil
    }

    /// The epoll interest the session needs on top of (or, mid-handshake, instead of) what
    /// the HTTP side wants.
    func interest(_ wanted: UInt32) -> UInt32 {
        if !established {
            return CEPOLL_RDHUP | (handshakeNeedsWritable ? CEPOLL_OUT : CEPOLL_IN)
        }
        var events = wanted
        if readNeedsWritable { events |= CEPOLL_OUT }
        if writeNeedsReadable { events |= CEPOLL_IN }
        return events
    }

    /// Which operations an event resumes: writability resumes a read blocked on writing, and
    /// readability a write blocked on reading.
    func resumes(_ flags: UInt32) -> UInt32 {
        var out = flags
        if readNeedsWritable && flags & CEPOLL_OUT != 0 { out |= CEPOLL_IN }
        if writeNeedsReadable && flags & CEPOLL_IN != 0 { out |= CEPOLL_OUT }
        return out
    }

    private func reason(_ code: Int32) -> String {
        let queued = drainOpenSSLErrors()
        if !queued.isEmpty { return queued.joined(separator: "; ") }
        if code == SSL_ERROR_SYSCALL {
            let e = errno
            return e == 0 ? "connection closed mid-handshake" : String(cString: strerror(e))
        }
        return "SSL error \(code)"
    }
}
