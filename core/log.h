/* core/log.h - the event log. One LMDB environment holds the log and every
 * projection; this module opens it, appends events (gapless seq from 1, hash
 * chain, stream versions, command ids) inside a batch's write transaction and
 * reads them back. Only the server loop begins write transactions, through
 * log_batch_begin().
 *
 * Record layout in sub-db "events": key = seq as 8 bytes big-endian, value =
 * 32-byte BLAKE2b hash of the body, then the body: a msgpack map
 * {seq, type, stream, version, recorded_at, occurred_at?, actor, desk?,
 *  cmd_id, data, prev} where prev is the previous event's hash (32 zero bytes
 * before seq 1). The body is exactly what PUB and log.read send.
 *
 * Sub-db "stream_events" indexes the log by stream: key = stream bytes, a
 * 0 byte, version as 8 bytes big-endian; value = seq (8 bytes big-endian).
 * Written in the same txn as the event; not a projection (rebuild compares
 * projections only). A writer opening a log whose index is empty builds it
 * from the events once. */
#ifndef DESKD_LOG_H
#define DESKD_LOG_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "err.h"

#define LOG_HASH_LEN 32     /* BLAKE2b-256 */
#define LOG_DBS_MAX 128     /* named sub-dbs: the log's and projections' */
#define LOG_STREAM_MAX 128  /* bytes in a stream name */
#define LOG_CMD_ID_MAX 64   /* bytes in a command id (wire contract) */
#define LOG_READERS_MAX 126 /* concurrent read txns (LMDB default) */

struct log {
    MDB_env *env;
    MDB_dbi events, streams, cmd_ids;
    MDB_dbi stream_idx;  /* "stream_events": stream \0 version -> seq */
    bool has_stream_idx; /* false on a read-only open of an older log */
    uint64_t last_seq;   /* committed */
    unsigned char last_hash[LOG_HASH_LEN];
    int64_t last_recorded_at; /* ms, of the last committed event */
    size_t map_size;          /* bytes, current */
    bool readonly;
    uint64_t grows; /* map resizes since open */
    /* Held shared by snapshots (log_snapshot_begin) of other threads and
     * exclusively by log_grow: LMDB may not remap under an open txn. */
    pthread_rwlock_t grow_lock;
};

/* Opens (creating if needed, unless readonly) the environment in dir.
 * map_size is the initial map in bytes; an existing larger map is kept.
 * Writers open with MDB_NOMETASYNC: a commit flushes the data pages and
 * writes the meta page without a flush; the next commit's flush, or
 * log_sync(), makes that meta page durable. A commit is acknowledged only
 * after one of those (see core/server.c). */
int log_open(struct log *l, const char *dir, size_t map_size, bool readonly,
             struct err *e);
void log_close(struct log *l);

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

/* A write transaction and what it appended so far. */
struct log_batch {
    struct log *log;
    MDB_txn *txn;
    uint64_t next_seq;
    unsigned char hash[LOG_HASH_LEN];
    int64_t last_recorded_at;
    struct cw bodies;  /* encoded bodies of the events appended */
    size_t *off;       /* body i at bodies[off[i]] */
    const char **type; /* type i (static strings from the event table) */
    size_t nevents, cap;
    int offset_min; /* local offset for recorded_at strings */
};

void log_batch_init(struct log_batch *b, struct log *l, int offset_min);
void log_batch_release(struct log_batch *b);
/* Begins the write txn; forgets previously appended bodies. */
int log_batch_begin(struct log_batch *b, struct err *e);
/* Commits (one flush: data pages; see log_open). On success the log's
 * last_seq/last_hash advance. On failure the txn is gone, nothing was
 * written, and the raw MDB_* or errno code is returned (MDB_MAP_FULL can
 * come from the commit itself: grow and run the batch again). */
int log_batch_commit(struct log_batch *b, struct err *e);
void log_batch_abort(struct log_batch *b);

/* Appends one event. body and body_len point into b->bodies (valid until the
 * next append or log_batch_begin). Returns 0, an MDB_* error (MDB_MAP_FULL
 * means: abort, log_grow(), retry the batch) or ERR_INVALID. */
int log_append(struct log_batch *b, const struct log_event_in *in,
               uint64_t *seq, const char **body, size_t *body_len);
/* Body and type of the i-th event appended in this batch. */
void log_batch_body(const struct log_batch *b, size_t i, const char **body,
                    size_t *len);
const char *log_batch_type(const struct log_batch *b, size_t i);

/* Current version of a stream (0 if it has no events). */
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

/* Reads the record of seq: hash and body point into the txn's pages (valid
 * until the txn ends; don't free). MDB_NOTFOUND if absent; ERR_UNAVAILABLE
 * if the record is too short to be one. */
int log_get(MDB_txn *txn, const struct log *l, uint64_t seq,
            const unsigned char **hash, const char **body, size_t *len);

/* Makes everything committed durable (flushes the last meta page). */
int log_sync(struct log *l, struct err *e);
/* Doubles the map (no txn may be open in this process). */
int log_grow(struct log *l, struct err *e);
/* Begins a read txn, adopting a map grown by another process. */
int log_read_begin(struct log *l, MDB_txn **txn, struct err *e);

/* Every event of one stream in version order: fn(ctx, seq, body, len) for
 * each; fn returns nonzero to stop (that value is returned). Uses the
 * stream index; on a log without one it scans every event and sets
 * *scanned. */
typedef int (*log_event_fn)(void *ctx, uint64_t seq, const char *body,
                            size_t len);
int log_stream_events(MDB_txn *txn, const struct log *l, const char *stream,
                      size_t len, log_event_fn fn, void *ctx, bool *scanned);

/* Copies: one stored record (hash + body) as seq, with its stream version
 * and index entry, into a log being rebuilt (seq must be past the last). */
int log_put_record(MDB_txn *txn, const struct log *l, uint64_t seq,
                   const void *rec, size_t len, const char *stream, size_t slen,
                   uint64_t version);
/* Copies the command-id records of commands whose events are all <= until
 * from one log's snapshot into another's write txn. */
int log_copy_cmd_ids(MDB_txn *from, const struct log *lf, MDB_txn *to,
                     const struct log *lt, uint64_t until);

/* A read txn for a thread other than the writer, in the writer's process
 * (HTTP): holds off log_grow() until log_snapshot_end(), which aborts the
 * txn. Never blocks the writer except while it grows the map. */
int log_snapshot_begin(struct log *l, MDB_txn **txn, struct err *e);
void log_snapshot_end(struct log *l, MDB_txn *txn);
/* The seq of the last event visible in txn (0 when the log is empty). */
int log_last_seq(MDB_txn *txn, const struct log *l, uint64_t *seq);

/* BLAKE2b-256 of a buffer, and of several parts (fingerprints). */
void log_hash(const void *p, size_t n, unsigned char out[LOG_HASH_LEN]);

/* Walks the chain from seq 1: checks continuity, each hash and each prev
 * link, and that every body decodes with the mandatory keys. On failure
 * returns ERR_INVALID with the first bad seq in *bad_seq and a message. */
int log_verify(struct log *l, uint64_t *count, uint64_t *bad_seq,
               struct err *e);

#endif
