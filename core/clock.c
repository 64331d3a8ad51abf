/* core/clock.c - real or manual time, monotonic with respect to the log. */
#include "clock.h"

#include <time.h>

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_now(void)
{
    return ms_of(CLOCK_REALTIME);
}

int64_t clock_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

void clock_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

void clock_deadline(struct timespec *t, long us)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += us / 1000000;
    t->tv_nsec += (us % 1000000) * 1000;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

void clock_init(struct clock *c, bool manual, int64_t start_ms)
{
    c->manual = manual;
    c->manual_now = start_ms ? start_ms : real_now();
    c->last = 0;
}

int64_t clock_now(struct clock *c)
{
    int64_t t = c->manual ? c->manual_now : real_now();
    if (t < c->last)
        t = c->last; /* the wall clock stepped back: hold still */
    c->last = t;
    return t;
}

int64_t clock_peek(const struct clock *c)
{
    int64_t t = c->manual ? c->manual_now : real_now();
    int64_t last = c->last;
    return t < last ? last : t;
}

int clock_set(struct clock *c, int64_t t, struct err *e)
{
    if (!c->manual)
        return err_set(e, ERR_FORBIDDEN, NULL,
                       "clock.set needs 'clock = manual' in the config");
    if (t < clock_now(c))
        return err_set(e, ERR_INVALID, "to", "the clock only moves forward");
    c->manual_now = t;
    c->last = t;
    return 0;
}

void clock_observe(struct clock *c, int64_t t)
{
    if (t > c->last)
        c->last = t;
    if (c->manual && c->manual_now < t)
        c->manual_now = t;
}
