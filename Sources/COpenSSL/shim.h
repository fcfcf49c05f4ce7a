#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>

// SSL_CTX_set_mode, SSL_CTX_set_min_proto_version and friends are function-like macros, which
// Swift does not import: the server's context settings are applied here, in C, in one place.
//
// - PARTIAL_WRITE: SSL_write returns after each record sent, so a large response is written
//   as far as the socket takes it, like write(2).
// - ACCEPT_MOVING_WRITE_BUFFER: a write retried after WANT_WRITE may pass another address
//   (the connection's output array grows, and moves, while a write is pending).
// - RELEASE_BUFFERS: idle keep-alive connections do not hold 2 x 16 KiB of record buffers.
// - IGNORE_UNEXPECTED_EOF: a client that closes without close_notify (most do) is an
//   ordinary EOF, not an error.
// - NO_RENEGOTIATION: renegotiation is a DoS lever and HTTP/1.1 servers have no use for it.
static inline int copenssl_configure_server_context(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                          | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE);
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 ? 0 : -1;
}

// The largest plaintext one TLS record carries (2^14). Reads offer at least this much room so
// that a record is never left half-consumed inside OpenSSL, where epoll cannot see it.
static const int COPENSSL_MAX_RECORD_PLAINTEXT = SSL3_RT_MAX_PLAIN_LENGTH;

// ALPN: the server speaks HTTP/1.1 only; saying so stops clients from trying h2 over TLS.
static inline int copenssl_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                       const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char http11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, http11, sizeof http11, in, inlen)
            != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;  // no ALPN in the reply: the client falls back to HTTP/1.1
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static inline void copenssl_use_http11_alpn(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, copenssl_alpn_select, NULL);
}

#endif
