/* core/journal.h - the log's journal (data_dir/journal): where a batch of
 * log records becomes durable with one write and one flush, so that its
 * replies need not wait for the LMDB commit's two (ARCHITECTURE.md
 * principle 4; docs/PERFORMANCE.md, "the journal").
 *
 * The file has a fixed size, written with zeros when it is made, so a
 * frame's flush carries its own blocks and no file-system metadata. The
 * flusher (core/flusher.c) appends one frame per flush, from offset 0;
 * the same records reach the LMDB log later, in commits of their own,
 * and the journal starts again at offset 0 only once the LMDB log holds
 * everything in it durably (journal_rewind). A writer's log_open replays
 * the frames the LMDB log does not yet hold (journal_scan) before anything
 * else reads the log.
 *
 * A frame: a header of JOURNAL_HEAD bytes, then the records of one or more
 * jobs exactly as log_write takes them (rec_add in log.c).
 *   magic "DJ01" (4), payload length (4, big-endian), first seq (8),
 *   last seq (8), hash of the event before the first (32), hash of the
 *   last event (32), BLAKE2b-256 of everything before it and the payload
 *   (32).
 * A scan stops at the first frame that is not whole (a torn write) or
 * does not follow the one before it (seq and hash): what lies past the
 * last frame written is a previous round's, whose seqs are lower. */
#ifndef DESKD_JOURNAL_H
#define DESKD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "log.h"

#define JOURNAL_FILE "journal"
#define JOURNAL_HEAD (4 + 4 + 8 + 8 + 3 * LOG_HASH_LEN)
#define JOURNAL_FULL (-1)  /* journal_append: no room before the end */
#define JOURNAL_NOMEM (-2) /* journal_append: no memory for the frame */

struct journal {
    int fd;
    bool nosync; /* DESKD_TEST_UNSAFE_NOSYNC: never flushed */
    size_t cap;  /* bytes in the file */
    size_t pos;  /* where the next frame goes */
    unsigned char last_hash[LOG_HASH_LEN]; /* of the last seq handed */
    char *buf;                             /* the frame being written */
    size_t buf_cap;
};

/* Opens dir's journal for appending (making it, or making it longer, with
 * cap bytes of zeros, flushed), the next frame at offset 0, following the
 * event whose hash is last_hash. Only once the LMDB log holds durably
 * every frame in it: after log_open. */
int journal_open(struct journal *j, const char *dir, size_t cap,
                 const unsigned char last_hash[LOG_HASH_LEN], struct err *e);
void journal_close(struct journal *j);

/* Writes the records of the jobs first, qnext... as one frame and flushes
 * it. 0; JOURNAL_FULL when it does not fit before the end of the file
 * (nothing written: make the LMDB log durable, journal_rewind, append
 * again; a frame larger than the file never fits); JOURNAL_NOMEM (nothing
 * written); or an errno with e (the outcome on disk is unknown). */
int journal_append(struct journal *j, const struct log_job *first,
                   struct err *e);
/* The LMDB log holds durably every frame written: the next goes to offset
 * 0, following the event whose hash is last_hash. */
void journal_rewind(struct journal *j,
                    const unsigned char last_hash[LOG_HASH_LEN]);

/* One frame read back. recs/len point into the scan's buffer (valid in
 * the callback only). */
struct journal_frame {
    uint64_t first_seq, last_seq;
    const unsigned char *prev_hash, *last_hash;
    const char *recs;
    size_t len;
};
typedef int (*journal_frame_fn)(void *ctx, const struct journal_frame *fr);
/* Reads dir's journal from its start: fn for each whole frame that
 * follows the one before it, until one does not. 0 (also without a
 * journal), fn's nonzero return, or an errno with e. */
int journal_scan(const char *dir, journal_frame_fn fn, void *ctx,
                 struct err *e);
/* Clears the first frame (flushed), so the next scan finds none: after
 * everything in the journal is durable in the LMDB log. 0 also without a
 * journal. */
int journal_clear(const char *dir, struct err *e);

#endif
