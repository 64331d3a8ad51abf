/* core/checkpoint.h - the thread that writes checkpoints of derived state
 * (log_checkpoint in log.c: a consistent copy in data_dir/derived.ckpt
 * that recovery after an OS crash restores instead of replaying the whole
 * log). The writer's loop asks for one (checkpoint_request, from its
 * 1-second tick) and goes on; the copy runs here, in a read txn of its
 * own, so no command waits for it. */
#ifndef DESKD_CHECKPOINT_H
#define DESKD_CHECKPOINT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "fresh.h"
#include "log.h"

struct checkpointer {
    struct log *log;
    struct fresh *fresh; /* a copy first asks for derived state holding */
    const _Atomic uint64_t *durable; /* this (metrics.durable_seq) */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    bool want, busy, stop;
    uint64_t seq;   /* what the last checkpoint holds (0: none usable) */
    int64_t at_ms;  /* monotonic time it was asked for (or of the start) */
    uint64_t taken; /* checkpoints written since start */
};

/* Starts the thread; seq begins at the checkpoint already there when it
 * belongs to the log. Each copy first waits (briefly) for derived state to
 * hold everything durable (fresh_wait), since the writer commits derived
 * state lazily. */
int checkpoint_start(struct checkpointer *c, struct log *l, struct fresh *fresh,
                     const _Atomic uint64_t *durable, struct err *e);
/* Stops the thread, after the copy under way (if any) is done. */
void checkpoint_stop(struct checkpointer *c);
/* Whether a checkpoint is due for derived state at applied_seq: none
 * under way, and at least events_min events since the last one, or
 * interval_s seconds since the last one and at least one event (0 turns
 * either off). */
bool checkpoint_due(struct checkpointer *c, uint64_t applied_seq,
                    uint64_t events_min, int64_t interval_s);
/* Asks the thread for one (unless one is under way). Never waits. */
void checkpoint_request(struct checkpointer *c);
/* The seq of the last checkpoint and how many were written. */
void checkpoint_state(struct checkpointer *c, uint64_t *seq, uint64_t *taken);

#endif
