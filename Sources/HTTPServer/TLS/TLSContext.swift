#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// The server's SSL_CTX: certificate, key and protocol settings, shared by every connection.
///
/// Built once at `Server.start()`, so that a missing or mismatched certificate is an error
/// there, before the port is bound, and not a failure on each connection.
final class TLSContext: @unchecked Sendable {  // immutable after init; SSL_CTX is thread-safe to share
    let context: OpaquePointer

    init(_ configuration: TLSConfiguration) throws(TLSSetupError) {
        let cert = configuration.certificateChainPath
        let key = configuration.privateKeyPath
        // Checked first so that the usual mistakes read plainly rather than as OpenSSL codes.
        try Self.checkReadable(cert, what: "TLS certificate")
        try Self.checkReadable(key, what: "TLS private key")
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw .openSSL("cannot create a TLS context")
        }
        do {
            try Self.configure(context, cert: cert, key: key)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        // Assigned last: once every property is set, a throwing init would also run deinit.
        self.context = context
    }

    deinit { SSL_CTX_free(context) }

    private static func configure(_ context: OpaquePointer, cert: String, key: String) throws(TLSSetupError) {
        guard copenssl_configure_server_context(context) == 0 else {
            throw .openSSL("cannot configure the TLS context")
        }
        copenssl_use_http11_alpn(context)
        guard SSL_CTX_use_certificate_chain_file(context, cert) == 1 else {
            throw .openSSL("TLS certificate \(cert) is not a usable PEM certificate chain")
        }
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
            // OpenSSL checks the pair as it loads the key: say which of the two it was.
            if ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH {
                throw .openSSL("TLS private key \(key) does not match the certificate \(cert)")
            }
            throw .openSSL("TLS private key \(key) is not a usable PEM private key")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw .openSSL("TLS private key \(key) does not match the certificate \(cert)")
        }
    }

    private static func checkReadable(_ path: String, what: String) throws(TLSSetupError) {
        if path.isEmpty { throw TLSSetupError("\(what): no file given") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw TLSSetupError("\(what) \(path): \(String(cString: strerror(errno)))")
        }
        Glibc.close(fd)
    }
}

extension TLSConfiguration {
    /// Loads the certificate and key as `Server.start()` will, and throws the same error if
    /// they are unusable: lets a command line fail fast, before slower start-up work.
    public func validate() throws(TLSSetupError) {
        _ = try TLSContext(self)
    }
}
