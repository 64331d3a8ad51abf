/* core/checkpoint.c - writes checkpoints of derived state off the writer's
 * thread (see checkpoint.h). */
#include "checkpoint.h"

#include "clock.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Test-only: while the file named by this variable exists, a checkpoint
 * waits before it copies, holding what the copy holds (a derived read txn
 * and the grow lock), so a test sees commands answered meanwhile without
 * depending on how long a copy takes. */
#define HOLD_ENV "DESKD_TEST_CHECKPOINT_HOLD"
#define HOLD_US 20000 /* between looks at the file */
#define CKPT_FRESH_WAIT_MS 2000

static void hold(struct log *l)
{
    const char *path = getenv(HOLD_ENV);
    MDB_txn *dtxn;
    struct err e = {0};
    if (!path || !*path || access(path, F_OK))
        return;
    if (log_snapshot_begin(l, &dtxn, NULL, &e)) {
        diag_warn("%s", e.msg);
        return;
    }
    diag_info("derived state: checkpoint held (%s)", path);
    while (access(path, F_OK) == 0)
        usleep(HOLD_US);
    log_snapshot_end(l, dtxn, NULL);
}

static void *run(void *arg)
{
    struct checkpointer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        struct err e = {0};
        uint64_t seq = 0;
        int64_t t0;
        int rc;
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->want = false;
        c->busy = true;
        pthread_mutex_unlock(&c->mu);
        hold(c->log);
        /* a copy of what is durable, not of what derived state had
         * committed some milliseconds ago */
        fresh_wait(c->fresh, __atomic_load_n(c->durable, __ATOMIC_RELAXED),
                   CKPT_FRESH_WAIT_MS);
        t0 = clock_mono_ms();
        rc = log_checkpoint(c->log, &seq, &e);
        if (rc)
            diag_warn("%s; the previous checkpoint stays", e.msg);
        else if (seq)
            diag_info("derived state: checkpoint of seq %llu written (%lld "
                      "ms)",
                      (unsigned long long)seq,
                      (long long)(clock_mono_ms() - t0));
        pthread_mutex_lock(&c->mu);
        if (!rc && seq) {
            c->seq = seq;
            c->taken++;
        }
        c->busy = false;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int checkpoint_start(struct checkpointer *c, struct log *l, struct fresh *fresh,
                     const _Atomic uint64_t *durable, struct err *e)
{
    char why[256];
    uint64_t seq;
    memset(c, 0, sizeof(*c));
    c->log = l;
    c->fresh = fresh;
    c->durable = durable;
    if (!log_checkpoint_check(l, &seq, why, sizeof(why)))
        c->seq = seq;
    c->at_ms = clock_mono_ms();
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, run, c))
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "cannot start the checkpoint thread");
    c->started = true;
    return 0;
}

void checkpoint_stop(struct checkpointer *c)
{
    if (!c->started)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->started = false;
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

bool checkpoint_due(struct checkpointer *c, uint64_t applied_seq,
                    uint64_t events_min, int64_t interval_s)
{
    int64_t now = clock_mono_ms();
    bool due;
    if (!c->started || (!events_min && !interval_s))
        return false;
    pthread_mutex_lock(&c->mu);
    due = !c->busy && !c->want && applied_seq > c->seq &&
          ((events_min && applied_seq - c->seq >= events_min) ||
           (interval_s && now - c->at_ms >= interval_s * 1000));
    pthread_mutex_unlock(&c->mu);
    return due;
}

void checkpoint_request(struct checkpointer *c)
{
    if (!c->started)
        return;
    pthread_mutex_lock(&c->mu);
    if (!c->busy && !c->want) {
        c->want = true;
        c->at_ms = clock_mono_ms();
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

void checkpoint_state(struct checkpointer *c, uint64_t *seq, uint64_t *taken)
{
    *seq = *taken = 0;
    if (!c->started)
        return;
    pthread_mutex_lock(&c->mu);
    *seq = c->seq;
    *taken = c->taken;
    pthread_mutex_unlock(&c->mu);
}
