#ifndef DLCM_CKERNELSUPPORT_H
#define DLCM_CKERNELSUPPORT_H

/// Hint to the CPU that we are in a spin-wait loop (x86 `pause`).
static inline void dlcm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
/// Asks for the cache line at `p` to be fetched for reading (a hint; never faults).
static inline void dlcm_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
}

/// Asks for the cache line at `p` to be fetched for reading (a hint; never faults).
static inline void dlcm_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// Writes the CPUs this process may run on to `out` (at most `max`); returns how many, or -1
/// where the platform cannot say (not Linux).
int dlcm_available_cpus(int *out, int max);

/// Restricts `thread` (a pthread_t) to the CPUs in `cpus`; 0 on success, else an errno value
/// (ENOSYS where the platform has no thread affinity).
int dlcm_pin_thread(unsigned long thread, const int *cpus, int n);

/// Lets the C heap keep up to `bytes` of freed memory mapped instead of handing it back to the
/// kernel, and serves blocks up to half of it from the heap (glibc's M_TRIM_THRESHOLD and
/// M_MMAP_THRESHOLD); 0 on success, else an errno value (ENOSYS without glibc).
int dlcm_keep_freed_heap(unsigned long bytes);
/// Returns free heap memory of every arena to the kernel (glibc's malloc_trim(0)); 1 if any was.
int dlcm_release_freed_heap(void);

/// Sets the name of `thread` (a pthread_t; at most 15 bytes, as /proc/<pid>/task/<tid>/comm shows
/// it); 0 on success, else an errno value.
int dlcm_name_thread(unsigned long thread, const char *name);


#include <stddef.h>

// Int8 dot products for q8_0 / q4_0 weights (QuantizedDot.c).
#define DLCM_QDOT_Q8_0 0
#define DLCM_QDOT_Q4_0 1

/// 1 where this build has the AVX512-VNNI kernels (compiled for a CPU with AVX512 BW, VL, VNNI).
int dlcm_qdot_available(void);

/// Whether rows of width `k` can take the kernels (a whole number of 64-weight pairs of blocks).
int dlcm_qdot_supports(int k);

/// Bytes of scratch one X row takes once prepared.
size_t dlcm_qdot_row_bytes(int k);

/// Quantizes `m` rows of X (m, k) f32 to int8 per block of 32, in the order the `type`
/// (DLCM_QDOT_Q8_0 / _Q4_0) kernel reads: scratch holds m * dlcm_qdot_row_bytes(k) bytes.
void dlcm_qdot_prepare(const float *x, int m, int k, int type, void *scratch);

/// Y (+)= X · Wᵀ for rows 4g ..< 4g + 4 of W (the last group may be partial), g in
/// [groupBegin, groupEnd), any m >= 1: y (m, n) f32; xs from dlcm_qdot_prepare; W's codes and f16 scales
/// row by row, `rowStride` / `scaleRowStride` bytes apart.
void dlcm_qdot_matvec(float *y, int n, const void *xs, int m, int k, int type,
                      const void *codes, size_t rowStride, const void *scales, size_t scaleRowStride,
                      int groupBegin, int groupEnd, int accumulate);

#endif
