/* core/flusher.h - the thread that owns the log's write txns: it commits
 * the jobs the writer seals (log_write: one flush of their data pages,
 * their meta page written unflushed) and, when no job is waiting, flushes
 * the last meta page (log_sync). The writer keeps deciding the next
 * commands on derived state meanwhile; it learns through an eventfd what
 * is committed and what is durable, and answers only what is durable.
 *
 * With a journal (journal_mb > 0, core/journal.h) a job is durable once
 * its frame is written and flushed: one flush, and its replies go out.
 * The jobs reach the LMDB log later, in one commit every log_commit_ms
 * (sooner when the writer asks: flusher_urge), so durable runs ahead of
 * committed; the journal starts again from its first byte once the LMDB
 * log holds all of it durably. Before a job is journaled the log's file
 * gets room for it (log_reserve): a full disk refuses the job then, and
 * the jobs journaled before it are committed first.
 *
 * Without a journal, durability is LMDB's own protocol (ARCHITECTURE.md
 * principle 4): a commit's flush covers the meta page of the commit
 * before it, so after commit N durable = committed N-1; after a sync,
 * durable = committed. */
#ifndef DESKD_FLUSHER_H
#define DESKD_FLUSHER_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"

struct flusher {
    struct log *log;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* the thread waits here for work */
    pthread_cond_t done; /* flusher_wait waits here */
    int efd;             /* eventfd: readable when something below changed */
    struct metrics_hist *commit_us; /* each durable write's time (a journal
                                       frame, or without a journal a log
                                       commit), or NULL */
    int wait_us;       /* after a commit, wait this long for a job before a
                          sync of its own (config sync_wait_us) */
    bool journaled;    /* jr is in use */
    struct journal jr; /* the flusher's thread only */
    int commit_ms;     /* with a journal: the LMDB commit is due this long
                          after its first job was journaled */
    char dir[PATH_MAX];
    /* the flusher's thread only: jobs journaled, not yet in LMDB (on
     * qnext), their bytes, and when the first was journaled (ms) */
    struct log_job *pend, *pend_last;
    size_t pend_bytes;
    int64_t pend_since;
    uint64_t put_at_us; /* when the last frame was written */
    /* under mu */
    struct log_job *queue, *queue_last; /* handed, not yet taken */
    bool busy;                          /* a write or sync is under way */
    uint64_t committed;    /* last seq in the log's committed txns */
    uint64_t durable;      /* last seq durable: its frame in the journal
                              flushed, or its meta page flushed */
    int failed;            /* the code of a failed log write; jobs handed
                              after it are dropped until flusher_clear */
    uint64_t failed_first; /* first seq that was not written */
    struct err failed_err;
    bool sync_failed; /* a flush failed: nothing's state is known */
    struct err sync_err;
    bool stop;
    bool deciding; /* the writer is deciding a segment (flusher_deciding) */
    bool urgent;   /* commit what is journaled now (flusher_urge) */
    uint64_t commits, syncs, frames;
};

/* Starts the thread; committed and durable begin at the log's last_seq.
 * commit_us (or NULL) gets the time of each write replies wait for. With
 * journal_bytes
 * > 0, jobs are journaled in dir (made that large if it is smaller) and
 * committed to the log every commit_ms. */
struct flusher_opts {
    int wait_us;
    size_t journal_bytes;
    int commit_ms;
    const char *dir;
    struct metrics_hist *commit_us;
};
int flusher_start(struct flusher *f, struct log *l,
                  const struct flusher_opts *o, struct err *e);
/* Stops the thread once every handed job is committed and durable (and
 * clears the journal). */
void flusher_stop(struct flusher *f);
/* Hands a sealed job over (the writer keeps it on its batch's in-flight
 * list; the flusher only reads it). */
void flusher_push(struct flusher *f, struct log_job *j);

struct flusher_state {
    uint64_t committed, durable;
    int failed; /* 0, or the code; failed_first and err then tell */
    uint64_t failed_first;
    struct err err;
    bool sync_failed;
    bool idle; /* nothing queued or under way */
    uint64_t commits, syncs, frames;
};
/* The current state (and consumes the eventfd's count). */
void flusher_state(struct flusher *f, struct flusher_state *s);
/* Waits until nothing is queued or under way, and (unless a write failed)
 * everything committed is durable and everything durable committed; then
 * as flusher_state. */
void flusher_wait(struct flusher *f, struct flusher_state *s);
/* The writer is deciding a segment of commands (true) or done with it
 * (false): while it is, the flusher waits a little for its job instead of
 * a flush of its own, since that job's commit flushes the last meta page
 * as well. */
void flusher_deciding(struct flusher *f, bool deciding);
/* The writer wants every job it handed in the LMDB log now (to commit
 * derived state): what is journaled is committed without waiting for
 * commit_ms. */
void flusher_urge(struct flusher *f);
/* After the writer handled a failed write: new jobs are taken again,
 * starting at seq next (the log's last_seq + 1). */
void flusher_clear(struct flusher *f);

#endif
