// Y (+)= X · Wᵀ for any number of rows of X against q8_0 / q4_0 weights with int8 dot products
// (AVX512-VNNI `vpdpbusd`), the way llama.cpp's q8_0 x q8_0 dot works: X is quantized once per
// call to int8 in blocks of 32 (one f32 scale each), each W block's codes are multiplied with X's
// in integers (exact), and only the per-block sums are scaled: by d_w * d_x, in f32.
//
// vpdpbusd multiplies unsigned bytes by signed ones, so W's codes go in as unsigned with an
// offset (q8_0: q + 128, one xor; q4_0: the stored nibble, q + 8) and X's as signed; the offset
// times X's block sum is subtracted once per block, folded into one correction per row:
//   y = sum_b d_w[b] d_x[b] (sum_i u_i x_i) - sum_b d_w[b] (off d_x[b] sum_i x_i).
//
// One step covers a pair of blocks (64 weights) of 4 rows of W: 16 int32 lanes, each the dot of
// 4 bytes. q8_0: lanes 0-7 are block 2j, 8-15 block 2j+1. q4_0: the 32 bytes of a pair are loaded
// into both halves of a zmm and the upper half shifted right by 4, so bytes 0-31 are the low
// nibbles (elements 0-15 of both blocks) and 32-63 the high ones (elements 16-31): lanes 0-3 and
// 8-11 are block 2j, 4-7 and 12-15 block 2j+1. X is stored in the same order, so the kernel never
// shuffles codes; the per-lane scale is gathered from the row's f16 scales with one vpermw.
//
// Without AVX512-VNNI/BW/VL at compile time, `dlcm_qdot_available` is 0 and Swift keeps its own
// (exact, f32) quantized kernels.

#include "CKernelSupport.h"
#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__F16C__)
#include <immintrin.h>
#define DLCM_QDOT 1
#else
#define DLCM_QDOT 0
#endif

int dlcm_qdot_available(void) { return DLCM_QDOT; }

// Layout of one prepared X row (`dlcm_qdot_row_bytes`), all parts 64-byte aligned:
//   codes: k int8 (q4_0: pair order, above)
//   dexp:  k / 4 f32, 16 per pair: d_x of the block each lane belongs to
//   corr:  blocks rounded up to 16, f32: off * d_x[b] * sum_i x_i (0 past the end)
static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }
static size_t corrCount(int k) { return (size_t)((k / 32 + 15) / 16 * 16); }
static size_t codesBytes(int k) { return align64((size_t)k); }
static size_t dexpBytes(int k) { return align64((size_t)k / 4 * sizeof(float)); }

size_t dlcm_qdot_row_bytes(int k) {
    return codesBytes(k) + dexpBytes(k) + align64(corrCount(k) * sizeof(float));
}

int dlcm_qdot_supports(int k) { return DLCM_QDOT && k > 0 && k % 64 == 0; }

void dlcm_qdot_prepare(const float *x, int m, int k, int type, void *scratch) {
    const size_t rowBytes = dlcm_qdot_row_bytes(k);
    const int blocks = k / 32;
    const float off = type == DLCM_QDOT_Q8_0 ? 128.0f : 8.0f;
    for (int r = 0; r < m; r++) {
        const float *xr = x + (size_t)r * k;
        uint8_t *base = (uint8_t *)scratch + r * rowBytes;
        int8_t *codes = (int8_t *)base;
        float *dexp = (float *)(base + codesBytes(k));
        float *corr = (float *)(base + codesBytes(k) + dexpBytes(k));
        memset(corr, 0, corrCount(k) * sizeof(float));
        for (int b = 0; b < blocks; b++) {
            const float *v = xr + 32 * b;
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
            const float d = amax / 127.0f;
            const float inv = amax > 0 ? 127.0f / amax : 0.0f;
            int8_t q[32];
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                // |v * inv| <= 127 up to rounding of inv; the clamp keeps the code in range.
                const float t = fminf(fmaxf(nearbyintf(v[i] * inv), -127.0f), 127.0f);
                q[i] = (int8_t)t;
                sum += q[i];
            }
            const int pair = b / 2, second = b % 2;
            int8_t *dst = codes + 64 * pair;
            if (type == DLCM_QDOT_Q8_0) {
                memcpy(dst + 32 * second, q, 32);
            } else {
                memcpy(dst + 16 * second, q, 16);
                memcpy(dst + 32 + 16 * second, q + 16, 16);
            }
            for (int lane = 0; lane < 16; lane++) {
                const int laneBlock = type == DLCM_QDOT_Q8_0 ? lane / 8 : (lane / 4) % 2;
                if (laneBlock == second) dexp[16 * pair + lane] = d;
            }
            corr[b] = off * d * (float)sum;
        }
    }
}

#if DLCM_QDOT

__attribute__((always_inline)) static inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// Rows 4g ..< 4g + 4 of Y for g in [g0, g1), for `m` (1...4, a constant after inlining) X rows.
__attribute__((always_inline)) static inline void qdotGroups(
    float *y, int n, const uint8_t *xs, int m, int k, int type,
    const uint8_t *codes, size_t rowStride, const uint8_t *scales, size_t scaleRowStride,
    int g0, int g1, int accumulate, int prefetch)
{
    const size_t xRowBytes = dlcm_qdot_row_bytes(k);
    const int blocks = k / 32;
    const int isQ8 = type == DLCM_QDOT_Q8_0;
    const size_t pairBytes = isQ8 ? 64 : 32;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    // vpermw index of the scale of each lane, for pair 0 (blocks 0, 1); pair j adds 2j.
    const __m256i idx0 = isQ8
        ? _mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
        : _mm256_setr_epi16(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
    const __m256i two = _mm256_set1_epi16(2);
    const int8_t *xc[4];
    const float *xd[4], *xcorr[4];
    for (int r = 0; r < 4; r++) {
        const uint8_t *base = xs + (size_t)(r < m ? r : 0) * xRowBytes;
        xc[r] = (const int8_t *)base;
        xd[r] = (const float *)(base + codesBytes(k));
        xcorr[r] = (const float *)(base + codesBytes(k) + dexpBytes(k));
    }
    for (int g = g0; g < g1; g++) {
        const int n0 = 4 * g;
        const int valid = n - n0 < 4 ? n - n0 : 4;
        const uint8_t *w[4], *s[4];
        for (int j = 0; j < 4; j++) {
            const int row = n0 + (j < valid ? j : valid - 1);
            w[j] = codes + (size_t)row * rowStride;
            s[j] = scales + (size_t)row * scaleRowStride;
        }
        // acc[x row][w row]: 16 partial sums whose total is the output (lanes carry no meaning
        // once summed, so the per-block offset corrections go into the same registers).
        __m512 acc[4][4];
        for (int a = 0; a < 4; a++) for (int b = 0; b < 4; b++) acc[a][b] = _mm512_setzero_ps();
        const uint8_t *nextGroup = w[0] + 4 * rowStride;
        for (int c = 0; c < blocks; c += 16) {
            // Up to 16 blocks (8 pairs) of scales per row, one load each.
            const int nb = blocks - c < 16 ? blocks - c : 16;
            const __mmask16 smask = (__mmask16)((1u << nb) - 1);
            __m256i sv[4];
            for (int j = 0; j < 4; j++) {
                sv[j] = _mm256_maskz_loadu_epi16(smask, s[j] + 2 * c);
                const __m512 sf = _mm512_cvtph_ps(sv[j]);
                for (int r = 0; r < m; r++)
                    acc[r][j] = _mm512_fnmadd_ps(sf, _mm512_loadu_ps(xcorr[r] + c), acc[r][j]);
            }
            __m256i idx = idx0;
            const int p0 = c / 2, p1 = (c + nb) / 2;
            for (int p = p0; p < p1; p++) {
                if (prefetch) {
                    const uint8_t *ahead = nextGroup + (size_t)p * 4 * pairBytes;
                    for (size_t line = 0; line < 4 * pairBytes; line += 64) _mm_prefetch((const char *)(ahead + line), _MM_HINT_T0);
                }
                __m512i xq[4];
                __m512 xdx[4];
                for (int r = 0; r < m; r++) {
                    xq[r] = _mm512_loadu_si512(xc[r] + 64 * (size_t)p);
                    xdx[r] = _mm512_loadu_ps(xd[r] + 16 * (size_t)p);
                }
                for (int j = 0; j < 4; j++) {
                    __m512i u;
                    if (isQ8) {
                        u = _mm512_xor_si512(_mm512_loadu_si512(w[j] + 64 * (size_t)p), flip);
                    } else {
                        const __m512i both = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w[j] + 32 * (size_t)p)));
                        u = _mm512_and_si512(_mm512_mask_srli_epi16(both, (__mmask32)0xFFFF0000u, both, 4), low4);
                    }
                    const __m512 ws = _mm512_cvtph_ps(_mm256_permutexvar_epi16(idx, sv[j]));
                    for (int r = 0; r < m; r++) {
                        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, xq[r]);
                        acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws, xdx[r]), acc[r][j]);
                    }
                }
                idx = _mm256_add_epi16(idx, two);
            }
        }
        for (int r = 0; r < m; r++) {
            float *out = y + (size_t)r * n + n0;
            for (int j = 0; j < valid; j++) {
                const float v = hsum(acc[r][j]);
                out[j] = accumulate ? out[j] + v : v;
            }
        }
    }
}

// Groups [g0, g1) of W against 1...4 rows of X: `qdotGroups` specialised for m and prefetch.
static void qdotChunk(float *y, int n, const uint8_t *x, int m, int k, int type,
                      const uint8_t *c, size_t rowStride, const uint8_t *s, size_t scaleRowStride,
                      int g0, int g1, int accumulate, int prefetch) {
#define DLCM_QDOT_CASE(M, P) qdotGroups(y, n, x, M, k, type, c, rowStride, s, scaleRowStride, g0, g1, accumulate, P)
    if (prefetch) {
        switch (m) {
        case 1: DLCM_QDOT_CASE(1, 1); break;
        case 2: DLCM_QDOT_CASE(2, 1); break;
        case 3: DLCM_QDOT_CASE(3, 1); break;
        default: DLCM_QDOT_CASE(4, 1); break;
        }
    } else {
        switch (m) {
        case 1: DLCM_QDOT_CASE(1, 0); break;
        case 2: DLCM_QDOT_CASE(2, 0); break;
        case 3: DLCM_QDOT_CASE(3, 0); break;
        default: DLCM_QDOT_CASE(4, 0); break;
        }
    }
#undef DLCM_QDOT_CASE
}

void dlcm_qdot_matvec(float *y, int n, const void *xs, int m, int k, int type,
                      const void *codes, size_t rowStride, const void *scales, size_t scaleRowStride,
                      int groupBegin, int groupEnd, int accumulate) {
    const uint8_t *c = (const uint8_t *)codes, *s = (const uint8_t *)scales;
    const uint8_t *x = (const uint8_t *)xs;
    // Software prefetch of the next group for short rows, as the Swift kernels do (Matvec.swift).
    const int prefetch = rowStride <= 4096;
    if (m <= 4) {
        qdotChunk(y, n, x, m, k, type, c, rowStride, s, scaleRowStride, groupBegin, groupEnd, accumulate, prefetch);
        return;
    }
    // More rows: each group of W (4 rows, a few KiB) is read from memory once and stays in L1 while
    // every chunk of 4 X rows passes over it (X's prepared rows stream from L2). A row of Y gets the
    // same operations in the same order whatever chunk it falls in, so its values do not depend on
    // how many rows share the call. Only the first chunk prefetches the next group.
    const size_t xRowBytes = dlcm_qdot_row_bytes(k);
    for (int g = groupBegin; g < groupEnd; g++) {
        for (int r0 = 0; r0 < m; r0 += 4) {
            const int rows = m - r0 < 4 ? m - r0 : 4;
            qdotChunk(y + (size_t)r0 * n, n, x + (size_t)r0 * xRowBytes, rows, k, type, c, rowStride, s,
                      scaleRowStride, g, g + 1, accumulate, prefetch && r0 == 0);
        }
    }
}

#else

void dlcm_qdot_matvec(float *y, int n, const void *xs, int m, int k, int type,
                      const void *codes, size_t rowStride, const void *scales, size_t scaleRowStride,
                      int groupBegin, int groupEnd, int accumulate) {
    (void)y; (void)n; (void)xs; (void)m; (void)k; (void)type; (void)codes; (void)rowStride;
    (void)scales; (void)scaleRowStride; (void)groupBegin; (void)groupEnd; (void)accumulate;
}

#endif
