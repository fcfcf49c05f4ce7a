#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <stddef.h>
#include <string.h>
#include <zlib.h>

// deflateInit2 is a macro (Swift does not import it): one-shot gzip lives here in C.
// Compresses `in` into `out` as a single gzip member (RFC 1952). Returns the compressed size,
// or 0 when zlib fails or `capacity` is too small (callers size it with czlib_gzip_bound).
static inline size_t czlib_gzip(const unsigned char *in, size_t count, int level,
                                unsigned char *out, size_t capacity) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // windowBits 15 + 16: the gzip wrapper rather than zlib's; memLevel 8 is zlib's default.
    if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    stream.next_in = (Bytef *)in;
    stream.avail_in = (uInt)count;
    stream.next_out = out;
    stream.avail_out = (uInt)capacity;
    int rc = deflate(&stream, Z_FINISH);
    size_t produced = stream.total_out;
    deflateEnd(&stream);
    return rc == Z_STREAM_END ? produced : 0;
}

// Room enough for any input: zlib's bound plus the gzip header and trailer (18 bytes; the
// bound already counts a 6-byte zlib wrapper).
static inline size_t czlib_gzip_bound(size_t count) {
    return (size_t)compressBound((uLong)count) + 18;
}

#endif
