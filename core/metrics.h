/* core/metrics.h - counters the server loop publishes for /metrics and
 * /healthz. The writer thread is the only one that changes them (plus the
 * HTTP thread for its own SSE counters); other threads read them with atomic
 * loads. Every update is a relaxed atomic store or add: no lock, nothing the
 * writer can block on. */
#ifndef DESKD_METRICS_H
#define DESKD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Histogram buckets (upper bounds, in core/metrics.c; one more for +Inf):
 * batch sizes 1..1024 commands, commit latency 250 us..1 s. */
#define METRICS_BATCH_N 11
#define METRICS_COMMIT_N 11

struct metrics_hist {
    _Atomic uint64_t bucket[METRICS_COMMIT_N + 1]; /* not cumulative */
    _Atomic uint64_t count, sum;
};

struct metrics {
    /* snapshot of srv.stats / srv.pipe.stats, stored after every batch */
    _Atomic uint64_t events, cmd_ok, cmd_failed, cmd_duplicate;
    _Atomic uint64_t batches, commits, syncs, frames, map_grows;
    _Atomic uint64_t timers_fired, timers_failed;
    _Atomic uint64_t durable_seq; /* last seq on disk and in the LMDB log:
                                     published, readable by other threads */
    _Atomic uint64_t acked_seq;   /* last seq on disk (its replies may have
                                     gone out): >= durable_seq */
    /* start-up catch-up: 1 while it runs; events replayed of total */
    _Atomic uint64_t catching_up, catch_up_done, catch_up_total;
    struct metrics_hist batch;  /* commands per batch */
    struct metrics_hist commit; /* durable writes replies wait for (journal
                                   frames; log commits without one), us */
    /* the HTTP thread's own */
    _Atomic uint64_t sse_clients, sse_dropped, http_requests;
    /* queries that waited for a derived commit (core/fresh.h), and those
     * answered after QUERY_WAIT_MS without it */
    _Atomic uint64_t query_waits, query_stale;
};

extern const uint64_t metrics_batch_bounds[METRICS_BATCH_N];
extern const uint64_t metrics_commit_bounds[METRICS_COMMIT_N];

void metrics_init(struct metrics *m);
/* Adds one observation v to h with the given bounds (n of them). */
void metrics_observe(struct metrics_hist *h, const uint64_t *bounds, size_t n,
                     uint64_t v);
/* Raise durable_seq / acked_seq to seq (never lower them). */
void metrics_durable(struct metrics *m, uint64_t seq);
void metrics_acked(struct metrics *m, uint64_t seq);
/* Relaxed store / load shorthands. */
void metrics_set(_Atomic uint64_t *c, uint64_t v);
uint64_t metrics_get(const _Atomic uint64_t *c);
/* Monotonic microseconds, for latencies. */
uint64_t metrics_now_us(void);

#endif
