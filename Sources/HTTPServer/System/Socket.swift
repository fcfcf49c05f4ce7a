#if canImport(Glibc)
import Glibc
#endif
import CEpoll

/// Socket operations used by the event loop; each goes through `syscall`.
enum Socket {
    /// Binds a non-blocking listening socket and returns it with the port actually bound
    /// (the kernel picks one when `port` is 0).
    static func listen(host: String, port: Int, backlog: Int32) throws -> (fd: Int32, port: Int) {
        let isV6 = host.contains(":")
        let family = isV6 ? AF_INET6 : AF_INET
        let fd = try syscallOrThrow("socket") {
            Glibc.socket(family, CEPOLL_SOCK_STREAM | CEPOLL_SOCK_NONBLOCK | CEPOLL_SOCK_CLOEXEC, 0)
        }
        do {
            var one: Int32 = 1
            _ = try syscallOrThrow("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if isV6 {
                var addr = sockaddr_in6()
                addr.sin6_family = sa_family_t(AF_INET6)
                addr.sin6_port = in_port_t(UInt16(port).bigEndian)
                guard inet_pton(AF_INET6, host, &addr.sin6_addr) == 1 else {
                    throw SyscallError(function: "inet_pton(\(host))", errno: EINVAL)
                }
                _ = try withUnsafePointer(to: &addr) { ptr throws(SyscallError) in
                    try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SyscallError) in
                        try syscallOrThrow("bind") { bind(fd, sa, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                    }
                }
            } else {
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = in_port_t(UInt16(port).bigEndian)
                let literal = host == "localhost" ? "127.0.0.1" : host
                guard inet_pton(AF_INET, literal, &addr.sin_addr) == 1 else {
                    throw SyscallError(function: "inet_pton(\(host))", errno: EINVAL)
                }
                _ = try withUnsafePointer(to: &addr) { ptr throws(SyscallError) in
                    try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SyscallError) in
                        try syscallOrThrow("bind") { bind(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
            }
            _ = try syscallOrThrow("listen") { Glibc.listen(fd, backlog) }
            return (fd, try boundPort(fd))
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    static func boundPort(_ fd: Int32) throws(SyscallError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { ptr throws(SyscallError) in
            try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SyscallError) in
                try syscallOrThrow("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// Accepts one pending connection as a non-blocking socket; nil when none is waiting.
    static func accept(_ listener: Int32) throws(SyscallError) -> Int32? {
        switch try syscall("accept4", { accept4(listener, nil, nil, CEPOLL_SOCK_NONBLOCK | CEPOLL_SOCK_CLOEXEC) }) {
        case .done(let fd):
            // Responses are written whole or in stream pieces the caller already sized;
            // Nagle would only add latency to each streamed token.
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return fd
        case .wouldBlock:
            return nil
        }
    }

    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SyscallError) -> IOResult<Int> {
        try syscall("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// MSG_NOSIGNAL: a peer that has gone away yields EPIPE here rather than killing the process.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SyscallError) -> IOResult<Int> {
        try syscall("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, CEPOLL_MSG_NOSIGNAL) }
    }

    static func shutdownWrite(_ fd: Int32) {
        _ = try? syscall("shutdown") { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }
}
