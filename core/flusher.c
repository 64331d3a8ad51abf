/* core/flusher.c - commits the log off the writer's thread (see
 * flusher.h). Every job waiting when the thread looks goes into one txn,
 * so jobs sealed during a flush share the next one. */
#include "flusher.h"

#include "clock.h"

#include <errno.h>
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

static void *run(void *arg)
{
    struct flusher *f = arg;
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
            last = jobs->last_seq;
            for (const struct log_job *j = jobs; j; j = j->qnext)
                last = j->last_seq;
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

int flusher_start(struct flusher *f, struct log *l, int wait_us,
                  struct metrics_hist *commit_us, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->log = l;
    f->commit_us = commit_us;
    f->wait_us = wait_us;
    f->committed = f->durable = l->last_seq;
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->efd < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "eventfd: %s",
                       strerror(errno));
    pthread_mutex_init(&f->mu, NULL);
    clock_cond_init(&f->cv);
    pthread_cond_init(&f->done, NULL);
    if (pthread_create(&f->thread, NULL, run, f)) {
        close(f->efd);
        f->efd = -1;
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
    while (f->queue || f->busy ||
           (!f->sync_failed && f->committed > f->durable))
        pthread_cond_wait(&f->done, &f->mu);
    fill(f, s);
    pthread_mutex_unlock(&f->mu);
    while (read(f->efd, &n, sizeof(n)) > 0)
        ;
}

void flusher_clear(struct flusher *f)
{
    pthread_mutex_lock(&f->mu);
    f->failed = 0;
    f->failed_first = 0;
    memset(&f->failed_err, 0, sizeof(f->failed_err));
    pthread_mutex_unlock(&f->mu);
}
