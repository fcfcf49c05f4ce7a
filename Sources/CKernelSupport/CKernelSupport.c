// Thread affinity (glibc's CPU_* macros and pthread_setaffinity_np need _GNU_SOURCE, so they
// live here rather than in the header-only part).
#define _GNU_SOURCE
#include "CKernelSupport.h"
#include <errno.h>
#include <stddef.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int dlcm_keep_freed_heap(unsigned long bytes) {
#if defined(__GLIBC__)
    // Also fixes the mmap threshold, so blocks up to it come from the heap and stay mapped.
    unsigned long mmapBytes = bytes / 2;
    return mallopt(M_TRIM_THRESHOLD, (int)bytes) == 1 && mallopt(M_MMAP_THRESHOLD, (int)mmapBytes) == 1 ? 0 : EINVAL;
#else
    (void)bytes;
    return ENOSYS;
#endif
}

int dlcm_release_freed_heap(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>

int dlcm_available_cpus(int *out, int max) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++) {
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    }
    return n;
}

int dlcm_pin_thread(unsigned long thread, const int *cpus, int n) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < n; i++) {
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    }
    return pthread_setaffinity_np((pthread_t)thread, sizeof set, &set);
}

int dlcm_name_thread(unsigned long thread, const char *name) {
    return pthread_setname_np((pthread_t)thread, name);
}
#else
int dlcm_name_thread(unsigned long thread, const char *name) { (void)thread; (void)name; return ENOSYS; }
int dlcm_available_cpus(int *out, int max) { (void)out; (void)max; return -1; }
int dlcm_pin_thread(unsigned long thread, const int *cpus, int n) { (void)thread; (void)cpus; (void)n; return ENOSYS; }
#endif
