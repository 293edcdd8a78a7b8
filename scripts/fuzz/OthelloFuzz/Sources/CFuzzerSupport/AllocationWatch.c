#include "FuzzerSupport.h"
#include <sanitizer/allocator_interface.h>
#include <stdatomic.h>

static atomic_llong live;       // bytes allocated minus bytes freed since the hooks were installed
static atomic_llong peak;       // the highest `live` since the last start
static atomic_llong baseline;   // `live` at the last start

static void on_malloc(const volatile void *pointer, size_t size) {
    (void)pointer;
    long long now = atomic_fetch_add(&live, (long long)size) + (long long)size;
    long long seen = atomic_load(&peak);
    while (now > seen && !atomic_compare_exchange_weak(&peak, &seen, now)) {}
}

static void on_free(const volatile void *pointer) {
    if (pointer && __sanitizer_get_ownership((const void *)pointer)) {
        atomic_fetch_sub(&live, (long long)__sanitizer_get_allocated_size((const void *)pointer));
    }
}

void allocation_watch_start(void) {
    static atomic_int installed;
    if (!atomic_exchange(&installed, 1)) __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
    long long now = atomic_load(&live);
    atomic_store(&baseline, now);
    atomic_store(&peak, now);
}

long long allocation_watch_peak(void) {
    return atomic_load(&peak) - atomic_load(&baseline);
}
