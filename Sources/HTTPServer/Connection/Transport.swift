/// The byte transport under a connection: the socket itself, or TLS over it.
///
/// The event loop reads, writes and shuts down only through these, so that TLS is one branch
/// here rather than one at every call site. The plain path costs a nil check.
extension Connection {
    /// Bytes from the client (decrypted under TLS); `.done(0)` at EOF.
    @inline(__always)
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> IOResult<Int> {
        if let tls { return try tls.read(into: buffer) }
        return try Socket.read(fd, into: buffer)
    }

    /// Bytes to the client (encrypted under TLS); how many of `bytes` were taken.
    @inline(__always)
    func transmit(_ bytes: UnsafeRawBufferPointer) throws -> IOResult<Int> {
        if let tls { return try tls.write(bytes) }
        return try Socket.send(fd, bytes)
    }

    /// Ends the server's side of the stream (close_notify first under TLS).
    func shutdownWrite() {
        tls?.sendCloseNotify()
        Socket.shutdownWrite(fd)
    }

    /// Before the descriptor is closed: a last close_notify (when the session is healthy) and
    /// the SSL object freed here, on the loop thread, not whenever the last reference goes.
    func releaseTransport() {
        guard let tls else { return }
        tls.sendCloseNotify()
        tls.free()
    }
}
