/* core/progress.h - progress of long work (walking the log, copying it,
 * exporting a table) for the people waiting on it. Library code takes a
 * struct progress * that may be NULL (silent) and calls progress_update()
 * per item; only a tool or the server decides where the lines go:
 *
 *   a terminal   one line on the stream, redrawn in place (\r): items done
 *                of total, percent, items/s, time left;
 *   elsewhere    a plain line every interval_ms (a pipe, cron, systemd);
 *   a callback   the same plain lines handed to fn (deskd's log).
 *
 * Each phase ends with a line of its totals and the time it took. Never
 * writes to stdout unless given it. Debian packages no C library for this
 * (pv is a program), hence this module. */
#ifndef DESKD_PROGRESS_H
#define DESKD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_INTERVAL_MS 5000 /* between plain lines, by default */
#define PROGRESS_TTY_MS 250       /* between redraws on a terminal */
#define PROGRESS_EVERY 1024       /* updates between looks at the clock */
#define PROGRESS_LABEL_MAX 64     /* bytes of a phase's label */
#define PROGRESS_LINE_MAX 192     /* bytes of one line */

/* Receives one finished line (no line break). */
typedef void (*progress_line_fn)(void *ctx, const char *line);

struct progress {
    FILE *out;           /* NULL when lines go to fn */
    progress_line_fn fn; /* deskd's log */
    void *ctx;
    bool tty;            /* out is a terminal: redraw in place */
    int64_t interval_ms; /* between plain lines */
    /* the current phase */
    char label[PROGRESS_LABEL_MAX];
    const char *unit; /* "events"; a static string */
    uint64_t total;   /* 0 when unknown */
    uint64_t done;
    int64_t t0_us, shown_us; /* monotonic: the phase's start, the last line */
    unsigned calls;
    size_t drawn; /* bytes of the line on screen (terminal), 0 if none */
};

/* Lines to out (stderr for tools): in place when out is a terminal. */
void progress_init(struct progress *p, FILE *out);
/* Plain lines handed to fn(ctx, line). */
void progress_init_fn(struct progress *p, progress_line_fn fn, void *ctx);

/* Starts a phase: label ("replaying"), what is counted ("events"), how
 * many there are (0: unknown). p may be NULL. */
void progress_begin(struct progress *p, const char *label, const char *unit,
                    uint64_t total);

void progress__tick(struct progress *p);
/* done items of the phase so far. Cheap: looks at the clock only every
 * PROGRESS_EVERY calls. p may be NULL. */
static inline void progress_update(struct progress *p, uint64_t done)
{
    if (!p)
        return;
    p->done = done;
    if (++p->calls >= PROGRESS_EVERY) {
        p->calls = 0;
        progress__tick(p);
    }
}

/* The same, looking at the clock now: for work in few large steps (a file
 * copied in MiB). */
void progress_update_now(struct progress *p, uint64_t done);

/* A line of its own between phases ("replaying 3002 events from ..."):
 * on a terminal it does not overwrite the line in place. */
void progress_note(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Ends the phase with its totals and the time it took. p may be NULL. */
void progress_end(struct progress *p);
/* Ends the phase without totals (it failed): only finishes the line on a
 * terminal, so an error message starts on a line of its own. */
void progress_abort(struct progress *p);

#endif
