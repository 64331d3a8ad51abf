/* projections/rebuild.h - replays the log into empty tables and compares
 * them with the live ones. Read-only with respect to the live data: it
 * reads one LMDB snapshot (events and live tables of the same instant), so
 * it runs beside a serving deskd. */
#ifndef DESKD_REBUILD_H
#define DESKD_REBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/err.h"
#include "../core/progress.h"

struct rebuild_report {
    uint64_t events; /* replayed */
    bool identical;
    char first_diff[256]; /* "units: key 'HY/3-1201' differs" */
};

/* Replays every event of the log in data_dir (up to the snapshot's last seq)
 * into a fresh environment under a temporary directory, compares every
 * projection sub-db, removes the temporary copy. p (NULL: silent) counts
 * the events copied and replayed (progress.h; the same below). */
int rebuild_compare(const char *data_dir, struct rebuild_report *r,
                    struct progress *p, struct err *e);

/* Replays the log of data_dir, as of one snapshot, into out_dir (absent or
 * empty): events with seq <= until_seq (0: no limit) and recorded_at <=
 * until_ms (0: no limit; replay stops at the first later event). out_dir
 * becomes a complete data directory as the live one was at that point:
 * the log prefix, the stream index, the command ids of the
 * commands it holds, every projection. Read-only on data_dir. */
struct replay_report {
    uint64_t events;        /* replayed = last seq in out_dir */
    uint64_t live_last_seq; /* last seq of the snapshot read */
};
int rebuild_as_of(const char *data_dir, const char *out_dir, uint64_t until_seq,
                  int64_t until_ms, struct replay_report *r, struct progress *p,
                  struct err *e);

/* Builds the derived state of the data dir dir from its log (what deskd
 * does at start), flushes it and marks it clean: after a backup or a
 * restore copied the log, the directory is complete. map_size: 0 keeps
 * the log's. */
int rebuild_derived(const char *dir, size_t map_size, struct progress *p,
                    struct err *e);

/* A new scratch directory in $TMPDIR (/tmp when unset), its path in tmp;
 * rebuild_scratch_remove deletes it with everything in it. */
int rebuild_scratch_dir(char *tmp, size_t cap, struct err *e);
void rebuild_scratch_remove(const char *dir);

/* A digest of every projection table of one snapshot: BLAKE2b-256 over
 * (table name, then every key and value with their lengths) in key order.
 * Equal fingerprints = byte-identical read models. */
struct fingerprint {
    uint64_t last_seq;
    uint64_t records;
    unsigned char hash[32];
};
int proj_fingerprint(const char *dir, struct fingerprint *fp, struct err *e);

/* Compares every projection table of two data directories (one snapshot
 * each); r->events is b's last seq. */
int rebuild_compare_dirs(const char *a, const char *b, struct rebuild_report *r,
                         struct err *e);

/* The command-line reports used by `deskd --verify/--rebuild` and
 * deskaudit: print one line, return the exit code (0 good, 1 bad, 2 could
 * not check); the events are counted in p (NULL: silent). */
int audit_verify_print(const char *data_dir, struct progress *p);
int audit_rebuild_print(const char *data_dir, struct progress *p);

#endif
