/* core/clock.h - the server's clock. Real time by default; with
 * `clock = manual` time stands still until clock_set() moves it forward
 * (tests and drills). Everything that needs "now" asks this module. */
#ifndef DESKD_CLOCK_H
#define DESKD_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* The writer thread moves the clock; other threads (HTTP) only read it
 * with clock_peek(), hence the atomics. */
struct clock {
    bool manual;
    _Atomic int64_t manual_now; /* ms since epoch, when manual */
    _Atomic int64_t last;       /* never hand out a time earlier than this */
};

/* manual: start at start_ms (0 = the real time now). */
void clock_init(struct clock *c, bool manual, int64_t start_ms);
/* Milliseconds since the epoch; never goes backwards. */
int64_t clock_now(struct clock *c);
/* The same time as clock_now() without advancing anything: safe from any
 * thread while the writer uses the clock. */
int64_t clock_peek(const struct clock *c);
/* Manual clocks only, forward only: ERR_FORBIDDEN on a real clock,
 * ERR_INVALID when t is earlier than now. */
int clock_set(struct clock *c, int64_t t, struct err *e);
/* Called at startup with the last recorded_at in the log, so a restarted
 * manual clock resumes where it stopped and a real clock never runs
 * backwards against the log. */
void clock_observe(struct clock *c, int64_t t);
/* Milliseconds of the system's monotonic clock, for intervals (never the
 * manual clock: they measure the machine's time, not the desk's). */
int64_t clock_mono_ms(void);
/* A condition variable whose timed waits count on the monotonic clock,
 * and such a wait's deadline: us microseconds from now. */
void clock_cond_init(pthread_cond_t *cv);
void clock_deadline(struct timespec *t, long us);

#endif
