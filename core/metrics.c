/* core/metrics.c - lock-free counters shared between the writer thread and
 * the HTTP thread (see metrics.h). */
#include "metrics.h"

#include <string.h>
#include <time.h>

const uint64_t metrics_batch_bounds[METRICS_BATCH_N] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
/* microseconds */
const uint64_t metrics_commit_bounds[METRICS_COMMIT_N] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};

_Static_assert(METRICS_BATCH_N <= METRICS_COMMIT_N,
               "struct metrics_hist holds the larger bucket count");

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof(*m)); /* all-zero is a valid atomic zero on Linux */
}

void metrics_observe(struct metrics_hist *h, const uint64_t *bounds, size_t n,
                     uint64_t v)
{
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

static void raise_to(_Atomic uint64_t *c, uint64_t seq)
{
    uint64_t cur = atomic_load_explicit(c, memory_order_relaxed);
    /* only the writer raises it: a plain compare is enough */
    if (seq > cur)
        atomic_store_explicit(c, seq, memory_order_release);
}

void metrics_durable(struct metrics *m, uint64_t seq)
{
    raise_to(&m->durable_seq, seq);
}

void metrics_acked(struct metrics *m, uint64_t seq)
{
    raise_to(&m->acked_seq, seq);
}

void metrics_set(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

uint64_t metrics_get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_acquire);
}

uint64_t metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
