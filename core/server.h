/* core/server.h - the one deskd process: configuration, log, projections,
 * the bus and the event loop. `struct server srv` is the only mutable
 * global in deskd. */
#ifndef DESKD_SERVER_H
#define DESKD_SERVER_H

#include <event2/event.h>

#include "bus.h"
#include "checkpoint.h"
#include "clock.h"
#include "config.h"
#include "flusher.h"
#include "fresh.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"

/* Replies and events of one decided segment, waiting until the log holds
 * it durably (see the top of server.c). */
struct outbox {
    struct bus_msg *msg;
    size_t *reply_off;
    size_t n, cap;
    struct cw replies;
    struct cw bodies;
    size_t *ev_off;
    const char **ev_type;
    size_t nev, ev_cap;
    uint64_t last_seq;   /* of the events held here */
    uint64_t need;       /* answered once the log is durable through it */
    struct outbox *next; /* queued, or on the free list */
};

struct server_stats {
    uint64_t batches, commits, empty_commits, syncs, frames, map_grows,
        max_batch, timers_fired, timers_failed;
};

#define EXIT_SYNC_FAILED                                                       \
    75                    /* a flush failed: stopped unanswered (see           \
                             settle_held in server.c) */
#define TIMER_SKIP_MAX 64 /* timers whose command failed, not retried */

struct server {
    struct config cfg;
    struct clock clk;
    struct log log;
    struct views *views; /* derived_ops.open_views */
    struct pipeline pipe;
    struct bus bus;
    struct event_base *base;
    struct event *sig_int, *sig_term, *sig_hup, *kick, *tick;
    struct flusher fl;        /* commits the log (core/flusher.c) */
    struct checkpointer ckpt; /* checkpoints derived state */
    struct event *flushed_ev;
    struct fresh fresh; /* HTTP queries wait here for derived commits */
    struct event *fresh_ev, *dcommit_ev; /* a query asks; the time is up */
    int64_t dtxn_since; /* monotonic ms: derived state's txn first seen
                           open by settle (0: none open) */
    struct outbox *q_first, *q_last; /* decided, not yet published */
    struct outbox *q_reply;          /* the first of them not yet answered */
    struct outbox *free_box;
    unsigned nfree_box;
    bool deferred; /* derived state's txn is full: serve() waits for the
                      flusher (on_flushed) before deciding more */
    struct server_stats stats;
    char timer_skip[TIMER_SKIP_MAX][96];
    int64_t timer_skip_due[TIMER_SKIP_MAX];
    int ntimer_skip;
    int32_t cal_watched; /* coverage end calendar_watch() last handled
                            (0, 1970-01-01, before the first) */
    volatile int stopping;
    struct metrics metrics; /* what other threads may read */
    struct http *http;      /* NULL when http = off */
    char http_ep[CFG_EP_MAX];
    /* start-up catch-up (server.c): served while it runs */
    bool catching_up, catch_up_failed;
    uint64_t catch_up_from; /* applied_seq at start */
    struct progress catch_up_progress;
    struct event *catch_up_ev;
};

extern struct server srv; /* Server global state */

/* Runs one command deskd gives itself (actor system) as a batch of its
 * own, published like any other. own_id: the command id to use
 * (PIPE_SYSTEM_ID first), so that a second run is a duplicate that writes
 * nothing and is no failure; NULL: one made from the command, the time and
 * the next seq. */
int server_system_command(const char *cmd, const char *own_id,
                          const struct cw *body, struct err *e);

/* core/server_calendar.c (R-GEN-05): records calendar.coverage_ending
 * once per coverage end when it is due (from the timer turn), and reloads
 * the calendar file (SIGHUP), recording calendar.reloaded. */
void calendar_watch(void);
void calendar_reload(void);
/* The startup lines about the calendar: its coverage, days left, and a
 * warning when the end is within calendar_warn_days. */
void calendar_banner(void);

/* Opens everything per cfg (already loaded into srv.cfg). */
int server_open(struct err *e);
/* Runs until SIGINT/SIGTERM; returns the exit code. */
int server_run(void);
void server_close(void);

#endif
