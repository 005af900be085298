// Counts heap allocations for the benchmark's "allocations per request" figure.
//
// On Linux with glibc, an executable that defines malloc, calloc and realloc takes those calls
// from every library it loads (the Swift runtime's included); each definition counts the call and
// hands it to glibc's own allocator. free needs no wrapper: the memory is glibc's. Under a
// sanitizer, which brings its own allocator, nothing is defined and the count is -1.
#include "AllocationCounter.h"
#include <stdlib.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ALLOCATION_COUNTER_OFF 1
#endif
#endif

#if defined(__linux__) && defined(__GLIBC__) && !defined(ALLOCATION_COUNTER_OFF)
#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);

static _Atomic long long allocations;

void *malloc(size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_realloc(pointer, size);
}

long long allocation_count(void) {
    return atomic_load_explicit(&allocations, memory_order_relaxed);
}
#else
long long allocation_count(void) { return -1; }
#endif
