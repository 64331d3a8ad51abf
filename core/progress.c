/* core/progress.c - progress lines of long work (see progress.h). Formats
 * and paces the lines; what is counted belongs to the caller. */
#include "progress.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Microseconds: a short phase still gets a rate. */
static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void progress_init(struct progress *p, FILE *out)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->tty = isatty(fileno(out)) == 1;
    p->interval_ms = PROGRESS_INTERVAL_MS;
    p->unit = "items";
}

void progress_init_fn(struct progress *p, progress_line_fn fn, void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->fn = fn;
    p->ctx = ctx;
    p->interval_ms = PROGRESS_INTERVAL_MS;
    p->unit = "items";
}

/* "42 s", "3 min 05 s", "2 h 07 min" */
static void fmt_duration(char *out, size_t cap, double s)
{
    long long t = (long long)(s + 0.5);
    if (t < 60)
        snprintf(out, cap, "%lld s", t);
    else if (t < 3600)
        snprintf(out, cap, "%lld min %02lld s", t / 60, t % 60);
    else
        snprintf(out, cap, "%lld h %02lld min", t / 3600, t % 3600 / 60);
}

static double rate(const struct progress *p, int64_t us)
{
    return us > 0 ? (double)p->done * 1e6 / (double)us : 0.0;
}

/* The line of a phase under way. */
static void fmt_running(const struct progress *p, char *line, size_t cap,
                        int64_t us)
{
    double r = rate(p, us);
    char left[32] = "?";
    if (!p->total) {
        snprintf(line, cap, "%s: %llu %s, %.0f %s/s", p->label,
                 (unsigned long long)p->done, p->unit, r, p->unit);
        return;
    }
    if (r > 0 && p->done <= p->total)
        fmt_duration(left, sizeof(left), (double)(p->total - p->done) / r);
    snprintf(line, cap, "%s: %llu of %llu %s (%.1f%%), %.0f %s/s, %s left",
             p->label, (unsigned long long)p->done,
             (unsigned long long)p->total, p->unit,
             100.0 * (double)p->done / (double)p->total, r, p->unit, left);
}

/* Writes line: redrawn in place on a terminal (the rest of a longer
 * previous line blanked), else as a line of its own. */
static void emit(struct progress *p, const char *line, bool final)
{
    size_t n = strlen(line);
    if (p->fn) {
        p->fn(p->ctx, line);
        return;
    }
    if (!p->tty) {
        fprintf(p->out, "%s\n", line);
    } else {
        fprintf(p->out, "\r%s%*s%s", line,
                p->drawn > n ? (int)(p->drawn - n) : 0, "", final ? "\n" : "");
        p->drawn = final ? 0 : n;
    }
    fflush(p->out);
}

void progress_begin(struct progress *p, const char *label, const char *unit,
                    uint64_t total)
{
    char line[PROGRESS_LINE_MAX];
    if (!p)
        return;
    snprintf(p->label, sizeof(p->label), "%s", label);
    p->unit = unit;
    p->total = total;
    p->done = 0;
    p->calls = 0;
    p->t0_us = p->shown_us = now_us();
    if (p->tty) { /* at once: the operator sees what is being done */
        fmt_running(p, line, sizeof(line), 0);
        emit(p, line, false);
    }
}

void progress__tick(struct progress *p)
{
    char line[PROGRESS_LINE_MAX];
    int64_t t = now_us();
    if (t - p->shown_us < (p->tty ? PROGRESS_TTY_MS : p->interval_ms) * 1000)
        return;
    p->shown_us = t;
    fmt_running(p, line, sizeof(line), t - p->t0_us);
    emit(p, line, false);
}

void progress_update_now(struct progress *p, uint64_t done)
{
    if (!p)
        return;
    p->done = done;
    progress__tick(p);
}

void progress_note(struct progress *p, const char *fmt, ...)
{
    char line[PROGRESS_LINE_MAX];
    va_list ap;
    if (!p)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    progress_abort(p); /* a line drawn in place stays as it is */
    emit(p, line, true);
}

void progress_end(struct progress *p)
{
    char line[PROGRESS_LINE_MAX];
    int64_t us;
    if (!p)
        return;
    us = now_us() - p->t0_us;
    snprintf(line, sizeof(line), "%s: %llu %s in %.1f s (%.0f %s/s)", p->label,
             (unsigned long long)p->done, p->unit, (double)us / 1e6,
             rate(p, us), p->unit);
    emit(p, line, true);
}

void progress_abort(struct progress *p)
{
    if (p && p->tty && p->drawn) {
        fputc('\n', p->out);
        fflush(p->out);
        p->drawn = 0;
    }
}
