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

#endif
