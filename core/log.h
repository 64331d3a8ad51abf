/* core/log.h - the event log and the state derived from it, in two LMDB
 * environments (ARCHITECTURE.md principles 3 and 4):
 *
 *   data_dir/          the log: sub-dbs "events" and "commands", written
 *                      with MDB_APPEND, committed durably (NOMETASYNC: each
 *                      commit flushes, the next flush or log_sync() makes
 *                      its meta page durable). The truth. With a journal
 *                      (data_dir/journal, core/journal.h) its records are
 *                      durable there first; a writer's log_open writes
 *                      what the journal holds beyond the log into it.
 *   data_dir/derived/  everything a replay of the log reproduces: the
 *                      stream index ("stream_events": each stream's
 *                      versions in order, the last one its version),
 *                      command ids ("cmd_ids"), every
 *                      projection and timer, and the last applied seq
 *                      ("derived_meta"), all in one txn. Committed after the
 *                      log and never flushed on the reply path (MDB_NOSYNC);
 *                      never ahead of the log.
 *
 * Record layout in "events": key = seq as 8 bytes big-endian, value =
 * 32-byte BLAKE2b hash of the body, then the body: a msgpack map
 * {seq, type, stream, version, recorded_at, occurred_at?, actor, desk?,
 *  cmd_id, data, prev} where prev is the previous event's hash (32 zero bytes
 * before seq 1). The body is exactly what log.read sends (masked).
 *
 * "commands": key = the first seq a command wrote (8 bytes big-endian),
 * value = its fingerprint (32), event count (4, big-endian), then its id.
 * It lets command ids be rebuilt from the log after derived state is lost.
 *
 * Derived state after a crash (log_open, writer): derived/state says
 * "clean" after a clean close, or "dirty <boot id>" while a writer has it
 * open. Dirty with this boot's id is a process crash: the OS kept every
 * write, and start-up replays the log past applied_seq (log_catch_up).
 * Dirty with another boot's id (an OS crash or power cut: an unflushed
 * LMDB file may be torn), a derived env that does not open, or one ahead
 * of the log is discarded. Then its checkpoint (log_checkpoint:
 * data_dir/derived.ckpt, a flushed copy of one committed state with the
 * seq and log hash it holds) is copied in when it belongs to this log
 * (that seq is in the log, with that hash) and the log is replayed past
 * it; otherwise derived state is rebuilt from the whole log. */
#ifndef DESKD_LOG_H
#define DESKD_LOG_H

#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "err.h"
#include "progress.h"

#define LOG_HASH_LEN 32     /* BLAKE2b-256 */
#define LOG_DBS_MAX 128     /* named sub-dbs in one environment */
#define LOG_STREAM_MAX 128  /* bytes in a stream name */
#define LOG_CMD_ID_MAX 64   /* bytes in a command id (wire contract) */
#define LOG_READERS_MAX 126 /* concurrent read txns (LMDB default) */

struct log_batch;

struct log {
    MDB_env *env;  /* the log */
    MDB_env *denv; /* derived state; NULL on a read-only open of a data
                      directory that has none */
    MDB_dbi events, commands;
    bool has_commands; /* false on a read-only open of an older log */
    MDB_dbi cmd_ids, meta;
    MDB_dbi stream_idx;   /* "stream_events": stream \0 version -> seq */
    bool has_stream_idx;  /* a derived env is open */
    uint64_t last_seq;    /* committed */
    uint64_t applied_seq; /* derived state's, committed */
    /* A derived commit failed after its log commit: derived state lags
     * the log and must catch up before the next command is decided. */
    bool derived_behind;
    bool rebuilt;          /* log_open discarded derived state (see above) */
    uint64_t restored_seq; /* and restored its checkpoint of this seq (0:
                              none; the whole log is replayed) */
    bool ckpt_tried;       /* log_open looked for a checkpoint */
    uint64_t journal_replayed; /* events log_open wrote from the journal */
    char ddir[PATH_MAX];       /* the derived env's directory */
    unsigned char last_hash[LOG_HASH_LEN];
    int64_t last_recorded_at; /* ms, of the last committed event */
    size_t map_size;          /* bytes, current, of the log's map */
    size_t dmap_size;         /* and of derived state's */
    bool dwritemap;    /* derived state is written through its map, its file
                          reserved as large as the map (reserve_blocks) */
    size_t lreserved;  /* bytes of the log's file reserved (log_reserve) */
    bool lreserve_off; /* its file system cannot reserve */
    bool readonly;
    uint64_t grows; /* map resizes since open (atomic: log_write's thread
                       adds to it too) */
    /* Long walks of this log (log_catch_up, log_verify) report here;
     * NULL (the default) is silent. Not owned. */
    struct progress *progress;
    /* Held shared by snapshots (log_snapshot_begin) of other threads and
     * exclusively by log_grow: LMDB may not remap under an open txn. */
    pthread_rwlock_t grow_lock;
    /* The writer's batch, whose view of the log (its ltxn) log_get
     * completes with the records not yet committed. */
    const struct log_batch *writer;
};

/* Opens (creating if needed, unless readonly) the log in dir and its
 * derived state in dir/derived (see the top of this file for what a
 * writer does with derived state left by a crash). map_size is the
 * initial map of each in bytes; an existing larger map is kept. A writer
 * must call log_catch_up() before it decides on derived state. */
int log_open(struct log *l, const char *dir, size_t map_size, bool readonly,
             struct err *e);
/* DESKD_TEST_UNSAFE_NOSYNC=1 (tests only): nothing is flushed. */
bool log_unsafe_nosync(void);
/* A writer's clean close flushes derived state and marks it clean. */
void log_close(struct log *l);

/* Applies one stored event (its body decoded) to derived state beyond
 * what core keeps itself (projections, timers): called in seq order. */
typedef int (*log_derive_fn)(void *ctx, MDB_txn *dtxn, uint64_t seq,
                             const msgpack_object *body);
#define CATCH_UP_TXN 10000 /* events per derived txn while catching up */
/* Brings derived state up to the log: every event past applied_seq gets
 * its stream version, index entry and command id, and fn. Writer only, no
 * txn open; grows the maps when they are full; logs how many events it
 * replays, and reports them to l->progress (their pace and the time it
 * took). */
int log_catch_up(struct log *l, log_derive_fn fn, void *ctx, struct err *e);
/* The same in steps, for a caller that must do other work between them
 * (deskd's loop): log_catch_up_begin logs and returns how many events are
 * to replay and begins l->progress's phase; each log_catch_up_step
 * replays at most max of them in one derived txn (a failed step leaves
 * applied_seq where it was: grow the map and step again). Caught up when
 * applied_seq == last_seq; then end the phase with progress_end. */
uint64_t log_catch_up_begin(struct log *l);
int log_catch_up_step(struct log *l, log_derive_fn fn, void *ctx, uint64_t max,
                      struct err *e);

/* Writes a checkpoint of derived state to data_dir/derived.ckpt: a copy
 * taken in one read txn (mdb_env_copy2, compacted) into
 * derived.ckpt.tmp, its record (the applied_seq it holds, the log's hash
 * of that event), both flushed, then renamed into place (the previous
 * checkpoint goes). Any thread but while it copies log_grow waits (the
 * map may not move under the copy's read txn); the writer's loop goes
 * on. *seq is what the copy holds (0: nothing applied yet, nothing
 * kept). */
int log_checkpoint(struct log *l, uint64_t *seq, struct err *e);
/* Whether at most half of derived state's map is in use: room for what
 * the writer commits while a checkpoint copies (its read txn pins the
 * pages those commits free, and the map cannot grow under it). */
bool log_derived_roomy(const struct log *l);
/* Whether the checkpoint in data_dir/derived.ckpt belongs to this log:
 * 0 and *seq, or ERR_NOT_FOUND (none) or ERR_INVALID, with why. */
int log_checkpoint_check(struct log *l, uint64_t *seq, char *why, size_t cap);

/* Opens (creating, in a write txn) a named sub-db. */
int log_dbi(MDB_txn *txn, const char *name, bool create, MDB_dbi *out,
            struct err *e);

/* An event being appended. */
struct log_event_in {
    const char *type;
    const char *stream;
    size_t stream_len;
    int64_t recorded_at; /* ms */
    int64_t occurred_at; /* ms, 0 when it equals recorded_at */
    const char *actor;
    const char *desk; /* NULL or "" when unknown */
    const char *cmd_id;
    size_t cmd_id_len;
    const char *data; /* msgpack map */
    size_t data_len;
};

/* What one segment appended to the log, in the order the log stores it,
 * handed to whoever commits the log (log_write: the flusher thread in
 * deskd, the caller itself in log_batch_commit). */
struct log_job {
    struct log_job *next;  /* on the batch's list of jobs in flight */
    struct log_job *qnext; /* on a committer's queue */
    struct cw recs;        /* records: see rec_add in log.c */
    uint64_t first_seq, last_seq;
    unsigned char hash[LOG_HASH_LEN]; /* of last_seq */
    int64_t last_recorded_at;
};

/* The writer's batch. Derived state is one write txn (txn) that lives
 * across segments: each segment (a group of commands, a timer turn)
 * appends events, whose log records are sealed into a job and committed
 * to the log by another thread while the next segment runs. txn is
 * committed (unflushed) only when every job sealed from it is in the log
 * (log_batch_commit_derived), so derived state is never ahead of the
 * log; it is aborted, and derived state caught up from the log, when a
 * job fails. log_batch_begin / log_batch_commit keep the simple form: one
 * segment, its log commit and the derived commit, in the caller's thread. */
struct log_batch {
    struct log *log;
    MDB_txn *txn;      /* derived: what handlers read and projections write */
    MDB_txn *ltxn;     /* the log, read-only: with log_get it also finds the
                          records of jobs in flight and of this segment */
    uint64_t next_seq; /* the head: past every event appended */
    unsigned char hash[LOG_HASH_LEN];
    int64_t last_recorded_at;
    uint64_t seg_first; /* first seq of this segment */
    struct cw recs;     /* this segment's log records */
    struct cw bodies;   /* encoded bodies of this segment's events */
    size_t *off;        /* body i at bodies[off[i]] */
    const char **type;  /* type i (static strings from the event table) */
    unsigned char (*hashes)[LOG_HASH_LEN]; /* hash i (stored with body i) */
    size_t nevents, cap;
    struct log_job *inflight, *inflight_last; /* sealed, not yet logged */
    struct log_job *spare;                    /* for reuse */
    unsigned nspare;
    /* A segment was dropped with its derived writes still in txn: txn
     * may only be aborted (log_batch_abort) */
    bool doomed;
    unsigned segments; /* sealed into txn since it began */
    uint64_t txn_events;
    int offset_min;   /* local offset for recorded_at strings */
    pthread_t thread; /* the writer's: the only one log_get completes */
};

void log_batch_init(struct log_batch *b, struct log *l, int offset_min);
void log_batch_release(struct log_batch *b);
/* Begins a segment: the derived txn unless one is open, and a read view
 * of the log; forgets the previous segment's bodies. */
int log_batch_begin(struct log_batch *b, struct err *e);
/* Commits the segment to the log in this thread (one flush: data pages;
 * see the top of this file), then derived state (no flush). No job may
 * be in flight. On success the log's last_seq/last_hash advance. When the
 * log commit fails the derived txn is aborted, nothing was written, and
 * the raw MDB_* or errno code is returned. When only the derived commit
 * fails the batch stands (it is in the log) and derived_behind is set. */
int log_batch_commit(struct log_batch *b, struct err *e);
/* Aborts the segment and the derived txn, and forgets every job in
 * flight (whoever commits the log must be done with them): the head
 * returns to the log's last committed event. */
void log_batch_abort(struct log_batch *b);
/* Ends the segment: its records become *job (NULL when it appended
 * nothing), on the list of jobs in flight, for log_write. The derived
 * txn stays open. */
void log_batch_seal(struct log_batch *b, struct log_job **job);
/* Ends the segment and forgets what it appended. Its derived writes stay
 * in the txn, which is doomed: log_batch_commit_derived refuses it; abort
 * it next (log_batch_abort), once no job is read any more. */
void log_batch_drop_segment(struct log_batch *b);
/* The jobs in flight through seq are in the log: last_seq, last_hash and
 * last_recorded_at advance, the jobs are forgotten. */
void log_batch_logged(struct log_batch *b, uint64_t seq);
/* Commits the derived txn with its applied_seq (no flush). Only when no
 * job is in flight (everything in it is in the log). A failed commit sets
 * derived_behind. */
int log_batch_commit_derived(struct log_batch *b, struct err *e);
/* Writes jobs (first, then qnext...) to the log in one txn and commits it
 * (NOMETASYNC: data pages flushed, meta page written). Touches only the
 * log environment: any thread, one at a time; grows the log's map when
 * it is full. 0, or the raw MDB_* / errno code with e set. */
int log_write(struct log *l, const struct log_job *first, struct err *e);

/* Reserves room in the log's file for bytes more of records (and what
 * LMDB adds around them), growing its map if need be: a log commit of
 * records a journal already acknowledged then never meets a full disk.
 * 0, or an errno (ENOSPC: no room; nothing changed) with e. Whoever
 * commits the log. */
int log_reserve(struct log *l, size_t bytes, struct err *e);

/* Appends one event. body and body_len point into b->bodies (valid until the
 * next append or log_batch_begin). Returns 0, an MDB_* error (MDB_MAP_FULL
 * means: abort, log_grow(), retry the batch) or ERR_INVALID. */
int log_append(struct log_batch *b, const struct log_event_in *in,
               uint64_t *seq, const char **body, size_t *body_len);
/* Body and type of the i-th event appended in this batch. */
void log_batch_body(const struct log_batch *b, size_t i, const char **body,
                    size_t *len);
const char *log_batch_type(const struct log_batch *b, size_t i);
const unsigned char *log_batch_hash(const struct log_batch *b, size_t i);

/* Current version of a stream (0 if it has no events), from the stream
 * index. */
int log_stream_version(MDB_txn *txn, const struct log *l, const char *stream,
                       size_t len, uint64_t *version);

/* Idempotency record: fingerprint of the command and the events it wrote. */
struct log_cmd_rec {
    unsigned char fp[LOG_HASH_LEN];
    uint64_t first_seq;
    uint32_t nevents;
};
/* 0 and *rec filled, or MDB_NOTFOUND. */
int log_cmd_get(MDB_txn *txn, const struct log *l, const char *id, size_t len,
                struct log_cmd_rec *rec);
int log_cmd_put(MDB_txn *txn, const struct log *l, const char *id, size_t len,
                const struct log_cmd_rec *rec);
/* Records a command of the batch: in the log ("commands") and in derived
 * state ("cmd_ids"). */
int log_batch_cmd(struct log_batch *b, const char *id, size_t len,
                  const struct log_cmd_rec *rec);

/* Reads the record of seq: hash and body point into the txn's pages (valid
 * until the txn ends; don't free). Through the writer's view (a batch's
 * ltxn) it also finds the events of jobs in flight and of the segment
 * being built (valid until the segment ends). MDB_NOTFOUND if absent;
 * ERR_UNAVAILABLE if the record is too short to be one. */
int log_get(MDB_txn *txn, const struct log *l, uint64_t seq,
            const unsigned char **hash, const char **body, size_t *len);

/* What a failed write's code rc says about the disk (": the disk is
 * full", or ""), to end an error message with. */
const char *log_why(const struct log *l, int rc);

/* Whether a failed log_write's code rc leaves the log's state unknown: an
 * I/O error (it may have come from the commit's flush) not explained by a
 * full disk. A full disk or a full map is a refusal: nothing was written
 * and the log before it stands. */
bool log_write_unknown(const struct log *l, int rc);

/* Makes everything committed to the log durable (flushes the last meta
 * page). */
int log_sync(struct log *l, struct err *e);
/* Doubles derived state's map (no derived txn may be open in this
 * process); the log's grows in log_write. */
int log_grow(struct log *l, struct err *e);
/* Begins a read txn on the log (events, commands), adopting a map grown by
 * another process. */
int log_read_begin(struct log *l, MDB_txn **txn, struct err *e);
/* The same on derived state (projections, streams, command ids);
 * ERR_NOT_FOUND when the directory has none. */
int log_derived_begin(struct log *l, MDB_txn **txn, struct err *e);
/* The last seq applied to derived state as of dtxn. */
int log_applied_seq(MDB_txn *dtxn, const struct log *l, uint64_t *seq);

/* Every event of one stream in version order: fn(ctx, seq, body, len) for
 * each; fn returns nonzero to stop (that value is returned). Uses the
 * stream index in dtxn; without one (dtxn NULL) it scans every event of
 * ltxn and sets *scanned. The index holds what dtxn holds: a reader of
 * committed derived state (which may lag the log) reads the rest with
 * log_stream_scan from log_applied_seq + 1. */
typedef int (*log_event_fn)(void *ctx, uint64_t seq, const char *body,
                            size_t len);
int log_stream_events(MDB_txn *dtxn, MDB_txn *ltxn, const struct log *l,
                      const char *stream, size_t len, log_event_fn fn,
                      void *ctx, bool *scanned);
/* The same by reading every event of ltxn from seq from on. */
int log_stream_scan(MDB_txn *ltxn, const struct log *l, const char *stream,
                    size_t len, uint64_t from, log_event_fn fn, void *ctx);

/* Copies the log records of one snapshot with seq in [first, last] (the
 * events, and the commands starting there whose events are all <= until)
 * into another log's write txn, after what it holds. */
int log_copy(MDB_txn *from, const struct log *lf, MDB_txn *to,
             const struct log *lt, uint64_t first, uint64_t last,
             uint64_t until);

/* Read txns for a thread other than the writer, in the writer's process
 * (HTTP): derived state in *dtxn and/or the log in *ltxn (either pointer
 * may be NULL). Holds off log_grow() until log_snapshot_end(), which
 * aborts them. Never blocks the writer except while it grows the map. */
int log_snapshot_begin(struct log *l, MDB_txn **dtxn, MDB_txn **ltxn,
                       struct err *e);
void log_snapshot_end(struct log *l, MDB_txn *dtxn, MDB_txn *ltxn);
/* The seq of the last event visible in ltxn (0 when the log is empty). */
int log_last_seq(MDB_txn *ltxn, const struct log *l, uint64_t *seq);

/* BLAKE2b-256 of a buffer, and of several parts (fingerprints). */
void log_hash(const void *p, size_t n, unsigned char out[LOG_HASH_LEN]);

/* Walks the chain from seq 1: checks continuity, each hash and each prev
 * link, and that every body decodes with the mandatory keys. On failure
 * returns ERR_INVALID with the first bad seq in *bad_seq and a message. */
int log_verify(struct log *l, uint64_t *count, uint64_t *bad_seq,
               struct err *e);

#endif
