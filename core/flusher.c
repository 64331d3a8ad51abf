/* core/flusher.c - commits the log off the writer's thread (see
 * flusher.h). Every job waiting when the thread looks goes into one txn,
 * so jobs sealed during a flush share the next one. */
#include "flusher.h"

#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* mu held: the loop's event and anyone in flusher_wait */
static void wake_writer(struct flusher *f)
{
    uint64_t one = 1;
    ssize_t n = write(f->efd, &one, sizeof(one));
    (void)n; /* a full counter still reads readable */
    pthread_cond_broadcast(&f->done);
}

/* Waits (mu held) for a job rather than flushing the last meta page on its
 * own: up to wait_us, and while the writer is deciding a segment (its job
 * comes next, and that job's commit flushes the meta page too) up to
 * DECIDING_WAIT_US. */
#define DECIDING_WAIT_US 2000
static void wait_for_job(struct flusher *f)
{
    struct timespec until;
    int us = f->wait_us > DECIDING_WAIT_US || !f->deciding ? f->wait_us
                                                           : DECIDING_WAIT_US;
    clock_deadline(&until, us);
    while (!f->queue && !f->stop && (f->deciding || f->wait_us > 0) &&
           pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
        ;
}

void flusher_deciding(struct flusher *f, bool deciding)
{
    pthread_mutex_lock(&f->mu);
    f->deciding = deciding;
    if (!deciding)
        pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* With a journal: writes what is journaled to the LMDB log (NOMETASYNC:
 * one flush) and, when sync, flushes its meta page too; then nothing is
 * pending. Flusher's thread, mu not held. */
static int commit_pending(struct flusher *f, bool sync, struct err *e)
{
    int rc = log_write(f->log, f->pend, e);
    if (rc)
        return rc;
    if (sync && (rc = log_sync(f->log, e)))
        return rc;
    f->pend = f->pend_last = NULL;
    f->pend_bytes = 0;
    return 0;
}

/* The last of the jobs j, qnext... */
static const struct log_job *last_job(const struct log_job *j)
{
    while (j->qnext)
        j = j->qnext;
    return j;
}

/* The outcome of journaling jobs (mu held again). */
enum put {
    PUT_JOURNALED, /* durable in the journal; pend holds them */
    PUT_LOGGED,    /* the journal was full: everything is durable in LMDB */
    PUT_REFUSED,   /* no room for them: nothing of them was written, and
                      what was journaled before them is in LMDB */
    PUT_UNKNOWN    /* an I/O error: the state on disk is unknown */
};

/* Refuses jobs (mu not held): nothing of them is written; what was
 * journaled before them goes into the LMDB log first, so the writer may
 * drop everything decided from them on. */
static enum put refuse(struct flusher *f, int rc, int *code, struct err *e)
{
    struct err e2 = {0};
    if (f->pend && commit_pending(f, false, &e2)) {
        *e = e2;
        return PUT_UNKNOWN;
    }
    *code = rc;
    return PUT_REFUSED;
}

/* Journals jobs (mu not held): room in the log's file first, then one
 * frame. *code is a refusal's reason (an errno or MDB_* code). */
static enum put put_jobs(struct flusher *f, struct log_job *jobs, int *code,
                         struct err *e)
{
    size_t bytes = 0;
    uint64_t t0;
    int rc;

    for (const struct log_job *j = jobs; j; j = j->qnext)
        bytes += cw_len(&j->recs);
    if ((rc = log_reserve(f->log, f->pend_bytes + bytes, e)))
        return refuse(f, rc, code, e);
    t0 = metrics_now_us();
    rc = journal_append(&f->jr, jobs, e);
    if (rc == JOURNAL_NOMEM)
        return refuse(f, ENOMEM, code, e);
    if (rc > 0)
        return PUT_UNKNOWN;
    if (rc == 0 && f->commit_us) /* what the replies waited for */
        metrics_observe(f->commit_us, metrics_commit_bounds, METRICS_COMMIT_N,
                        metrics_now_us() - t0);
    if (f->pend)
        f->pend_last->qnext = jobs;
    else {
        f->pend = jobs;
        f->pend_since = clock_mono_ms();
    }
    f->pend_last = jobs;
    while (f->pend_last->qnext)
        f->pend_last = f->pend_last->qnext;
    f->pend_bytes += bytes;
    f->put_at_us = metrics_now_us();
    if (rc == 0)
        return PUT_JOURNALED;
    /* JOURNAL_FULL: everything into LMDB, durably; the journal restarts */
    if (commit_pending(f, true, e))
        return PUT_UNKNOWN;
    journal_rewind(&f->jr, last_job(jobs)->hash);
    return PUT_LOGGED;
}

/* With a journal, mu held: whether what is journaled is to be committed
 * to the LMDB log now: when the writer asks, when it is commit_ms old, or
 * when the journal has been idle IDLE_COMMIT_US (a quiet desk's events
 * are readable from the log about as soon as they were answered; a busy
 * one's wait for commit_ms, in one commit). */
#define IDLE_COMMIT_US 1000
/* and at most this much goes into one LMDB txn (its dirty page limit) */
#define PEND_BYTES_MAX ((size_t)64 << 20)
static bool pend_due(const struct flusher *f)
{
    return f->pend &&
           (f->urgent || f->stop || f->pend_bytes >= PEND_BYTES_MAX ||
            clock_mono_ms() - f->pend_since >= f->commit_ms ||
            (!f->queue && !f->deciding &&
             metrics_now_us() - f->put_at_us >= IDLE_COMMIT_US));
}

/* With a journal, mu held: one step of the loop, or false when there is
 * nothing to do. */
static bool journal_step(struct flusher *f)
{
    struct err e = {0};
    struct log_job *jobs;
    uint64_t first, last;
    enum put put;
    int code = 0;

    if (pend_due(f)) {
        last = f->pend_last->last_seq;
        f->urgent = false;
        f->busy = true;
        pthread_mutex_unlock(&f->mu);
        int rc = commit_pending(f, false, &e);
        pthread_mutex_lock(&f->mu);
        f->busy = false;
        if (rc) { /* acknowledged from the journal: a restart replays it */
            f->sync_failed = true;
            err_set(&f->sync_err, ERR_UNAVAILABLE, NULL,
                    "the LMDB log cannot take events the journal holds "
                    "(%s%s); the next start writes them from the journal",
                    e.msg, log_why(f->log, rc));
        } else {
            f->committed = last;
            f->commits++;
        }
        wake_writer(f);
        return true;
    }
    if (!f->queue) {
        if (!f->pend)
            f->urgent = false;
        return false;
    }
    jobs = f->queue;
    f->queue = f->queue_last = NULL;
    f->busy = true;
    pthread_mutex_unlock(&f->mu);
    first = jobs->first_seq;
    last = last_job(jobs)->last_seq;
    put = put_jobs(f, jobs, &code, &e);
    pthread_mutex_lock(&f->mu);
    f->busy = false;
    switch (put) {
    case PUT_JOURNALED:
        f->durable = last;
        f->frames++;
        break;
    case PUT_LOGGED:
        f->durable = f->committed = last;
        f->commits++;
        f->syncs++;
        break;
    case PUT_REFUSED:
        f->committed = first - 1;
        f->failed = code;
        f->failed_first = first;
        f->failed_err = e;
        break;
    case PUT_UNKNOWN:
        f->sync_failed = true;
        f->sync_err = e;
        break;
    }
    wake_writer(f);
    return true;
}

/* With a journal: until stopped with nothing pending. */
static void run_journal(struct flusher *f)
{
    struct timespec until;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        if (f->queue && (f->failed || f->sync_failed)) {
            f->queue = f->queue_last = NULL; /* after a failed job: dropped */
            wake_writer(f);
            continue;
        }
        if (f->sync_failed) { /* nothing more is written */
            if (f->stop)
                break;
            pthread_cond_wait(&f->cv, &f->mu);
            continue;
        }
        if (journal_step(f))
            continue;
        if (f->stop && !f->pend)
            break;
        if (f->pend) {
            long due = (long)(f->pend_since + f->commit_ms - clock_mono_ms()) *
                       1000,
                 idle = (long)(f->put_at_us + IDLE_COMMIT_US) -
                        (long)metrics_now_us();
            if (due < 0)
                due = 0;
            if (idle < 0)
                idle = 0;
            clock_deadline(&until, f->deciding || idle > due ? due : idle);
            pthread_cond_timedwait(&f->cv, &f->mu, &until);
        } else {
            pthread_cond_wait(&f->cv, &f->mu);
        }
    }
    pthread_mutex_unlock(&f->mu);
}

static void *run(void *arg)
{
    struct flusher *f = arg;
    if (f->journaled) {
        run_journal(f);
        return NULL;
    }
    pthread_mutex_lock(&f->mu);
    for (;;) {
        bool need_sync = f->committed > f->durable && !f->sync_failed;
        struct log_job *jobs;
        struct err e = {0};
        uint64_t before, last, t0;
        int rc;

        if (f->queue && (f->failed || f->sync_failed)) {
            /* they follow a failed job (or flush): dropped */
            f->queue = f->queue_last = NULL;
            wake_writer(f);
            continue;
        }
        if (!f->queue && need_sync && (f->wait_us > 0 || f->deciding))
            wait_for_job(f);
        if (f->queue) {
            jobs = f->queue;
            f->queue = f->queue_last = NULL;
            f->busy = true;
            before = f->committed;
            pthread_mutex_unlock(&f->mu);
            last = last_job(jobs)->last_seq;
            t0 = metrics_now_us();
            rc = log_write(f->log, jobs, &e);
            if (rc == 0 && f->commit_us)
                metrics_observe(f->commit_us, metrics_commit_bounds,
                                METRICS_COMMIT_N, metrics_now_us() - t0);
            pthread_mutex_lock(&f->mu);
            f->busy = false;
            if (rc == 0) {
                /* this commit's flush covered the previous meta page */
                f->durable = before;
                f->committed = last;
                f->commits++;
            } else if (log_write_unknown(f->log, rc)) {
                /* an I/O error not explained by a full disk may come from
                 * the commit's own flush: after it the page cache is no
                 * witness of what is on disk, and a later flush that
                 * succeeds proves nothing. Stop, as for a failed sync. */
                f->sync_failed = true;
                f->sync_err = e;
            } else {
                f->failed = rc;
                f->failed_first = jobs->first_seq;
                f->failed_err = e;
            }
            wake_writer(f);
            continue;
        }
        if (need_sync) { /* after a failed write too: what was committed
                            before it */
            uint64_t upto = f->committed;
            f->busy = true;
            pthread_mutex_unlock(&f->mu);
            rc = log_sync(f->log, &e);
            pthread_mutex_lock(&f->mu);
            f->busy = false;
            f->syncs++;
            if (rc) { /* no retry: the writer stops (see server.c) */
                f->sync_failed = true;
                f->sync_err = e;
                wake_writer(f);
                continue;
            }
            f->durable = upto;
            wake_writer(f);
            continue;
        }
        if (f->stop)
            break;
        pthread_cond_wait(&f->cv, &f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int flusher_start(struct flusher *f, struct log *l,
                  const struct flusher_opts *o, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->log = l;
    f->commit_us = o->commit_us;
    f->wait_us = o->wait_us;
    f->commit_ms = o->commit_ms;
    f->committed = f->durable = l->last_seq;
    snprintf(f->dir, sizeof(f->dir), "%s", o->dir ? o->dir : "");
    if (o->journal_bytes) {
        if (journal_open(&f->jr, f->dir, o->journal_bytes, l->last_hash, e))
            return ERR_UNAVAILABLE;
        f->jr.nosync = log_unsafe_nosync();
        f->journaled = true;
    }
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->efd < 0) {
        if (f->journaled)
            journal_close(&f->jr);
        return err_set(e, ERR_UNAVAILABLE, NULL, "eventfd: %s",
                       strerror(errno));
    }
    pthread_mutex_init(&f->mu, NULL);
    clock_cond_init(&f->cv);
    pthread_cond_init(&f->done, NULL);
    if (pthread_create(&f->thread, NULL, run, f)) {
        close(f->efd);
        f->efd = -1;
        if (f->journaled)
            journal_close(&f->jr);
        return err_set(e, ERR_UNAVAILABLE, NULL, "flusher thread failed");
    }
    f->started = true;
    return 0;
}

void flusher_stop(struct flusher *f)
{
    if (!f->started)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    f->started = false;
    if (f->journaled) {
        struct err e = {0};
        /* everything is in the LMDB log: flushed, then the journal is
         * cleared so the next start reads nothing of it */
        if (!f->sync_failed && !log_sync(f->log, &e))
            journal_clear(f->dir, &e);
        journal_close(&f->jr);
        f->journaled = false;
    }
    pthread_cond_destroy(&f->cv);
    pthread_cond_destroy(&f->done);
    pthread_mutex_destroy(&f->mu);
    close(f->efd);
    f->efd = -1;
}

void flusher_push(struct flusher *f, struct log_job *j)
{
    j->qnext = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->queue_last)
        f->queue_last->qnext = j;
    else
        f->queue = j;
    f->queue_last = j;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* mu held */
static void fill(const struct flusher *f, struct flusher_state *s)
{
    s->committed = f->committed;
    s->durable = f->durable;
    s->failed = f->failed;
    s->failed_first = f->failed_first;
    s->err = f->sync_failed ? f->sync_err : f->failed_err;
    s->sync_failed = f->sync_failed;
    s->idle = !f->queue && !f->busy;
    s->commits = f->commits;
    s->syncs = f->syncs;
    s->frames = f->frames;
}

void flusher_state(struct flusher *f, struct flusher_state *s)
{
    uint64_t n;
    while (read(f->efd, &n, sizeof(n)) > 0)
        ;
    pthread_mutex_lock(&f->mu);
    fill(f, s);
    pthread_mutex_unlock(&f->mu);
}

void flusher_wait(struct flusher *f, struct flusher_state *s)
{
    uint64_t n;
    pthread_mutex_lock(&f->mu);
    if (f->journaled) { /* what is journaled: into LMDB now */
        f->urgent = true;
        pthread_cond_signal(&f->cv);
    }
    while (f->queue || f->busy ||
           (!f->sync_failed && f->committed != f->durable))
        pthread_cond_wait(&f->done, &f->mu);
    fill(f, s);
    pthread_mutex_unlock(&f->mu);
    while (read(f->efd, &n, sizeof(n)) > 0)
        ;
}

void flusher_urge(struct flusher *f)
{
    pthread_mutex_lock(&f->mu);
    if (f->journaled && !f->urgent &&
        (f->committed < f->durable || f->queue || f->busy)) {
        f->urgent = true;
        pthread_cond_signal(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
}

void flusher_clear(struct flusher *f)
{
    pthread_mutex_lock(&f->mu);
    f->failed = 0;
    f->failed_first = 0;
    memset(&f->failed_err, 0, sizeof(f->failed_err));
    pthread_mutex_unlock(&f->mu);
}
