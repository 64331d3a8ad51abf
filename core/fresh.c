/* core/fresh.c - readers wait for derived state to hold a seq (fresh.h). */
#include "fresh.h"

#include "clock.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

int fresh_init(struct fresh *f, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->efd < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "eventfd: %s",
                       strerror(errno));
    pthread_mutex_init(&f->mu, NULL);
    clock_cond_init(&f->cv);
    f->open = true;
    return 0;
}

void fresh_close(struct fresh *f)
{
    if (!f->open)
        return;
    close(f->efd);
    f->efd = -1;
    f->open = false;
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
}

void fresh_have(struct fresh *f, uint64_t seq)
{
    pthread_mutex_lock(&f->mu);
    if (seq != f->have) {
        f->have = seq;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
}

void fresh_stop(struct fresh *f)
{
    if (!f->open)
        return;
    pthread_mutex_lock(&f->mu);
    f->stopped = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

bool fresh_pending(const struct fresh *f, uint64_t applied)
{
    return __atomic_load_n(&f->asked, __ATOMIC_ACQUIRE) > applied;
}

void fresh_drain(struct fresh *f)
{
    uint64_t n;
    while (read(f->efd, &n, sizeof(n)) > 0)
        ;
}

int fresh_wait(struct fresh *f, uint64_t seq, int timeout_ms)
{
    struct timespec until;
    uint64_t one = 1, asked;
    int rc = 0;
    bool waited = false;

    clock_deadline(&until, (long)timeout_ms * 1000);
    pthread_mutex_lock(&f->mu);
    if (f->have < seq && !f->stopped) {
        waited = true;
        asked = __atomic_load_n(&f->asked, __ATOMIC_RELAXED);
        if (asked < seq)
            __atomic_store_n(&f->asked, seq, __ATOMIC_RELEASE);
        /* a full counter (never, at 2^64-2) only means the writer is
         * already awake */
        (void)!write(f->efd, &one, sizeof(one));
        while (f->have < seq && !f->stopped && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
    }
    rc = f->have < seq ? -1 : waited ? 1 : 0;
    pthread_mutex_unlock(&f->mu);
    return rc;
}
