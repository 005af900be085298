#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// The number of malloc, calloc and realloc calls made by this process so far, or -1 when the
/// count is not kept (not Linux, or a sanitizer owns the allocator).
long long allocation_count(void);

#endif
