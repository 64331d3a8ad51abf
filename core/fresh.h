/* core/fresh.h - read-your-writes for readers on other threads (HTTP).
 *
 * The writer commits derived state's txn lazily: after derived_commit_ms,
 * when it is full, or when a reader asks (see settle in server.c), so a
 * page that later segments change again is written once. A query over
 * HTTP must still show everything a desk was told is done before the
 * query arrived: the HTTP thread waits here until derived state's
 * committed applied seq reaches the log's durable seq it saw on arrival,
 * and the wait itself tells the writer to commit now. */
#ifndef DESKD_FRESH_H
#define DESKD_FRESH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct fresh {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* readers wait here for have to grow */
    uint64_t have;     /* under mu: derived state's committed applied seq */
    _Atomic uint64_t asked; /* highest seq a reader waited for (only grows) */
    int efd;                /* eventfd: readable when a reader asks */
    bool open;              /* fresh_init succeeded */
    bool stopped;           /* under mu: fresh_stop was called */
};

int fresh_init(struct fresh *f, struct err *e);
void fresh_close(struct fresh *f);

/* Writer: derived state's committed applied seq is now seq; wakes the
 * readers it satisfies. Cheap when seq did not change. */
void fresh_have(struct fresh *f, uint64_t seq);
/* Writer, as it stops: waits end now, and later ones at once. */
void fresh_stop(struct fresh *f);
/* Writer: whether a reader waits for more than applied (the seq derived
 * state has committed). */
bool fresh_pending(const struct fresh *f, uint64_t applied);
/* Writer: empties the eventfd after it became readable. */
void fresh_drain(struct fresh *f);

/* Reader: waits until derived state's commits hold seq, at most
 * timeout_ms: 0 when they held it already, 1 when they do after a wait,
 * -1 when the time ran out. */
int fresh_wait(struct fresh *f, uint64_t seq, int timeout_ms);

#endif
