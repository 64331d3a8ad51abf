/* projections/rebuild.h - replays the log into empty tables and compares
 * them with the live ones. Read-only with respect to the live data: it
 * reads one LMDB snapshot (events and live tables of the same instant), so
 * it runs beside a serving deskd. */
#ifndef DESKD_REBUILD_H
#define DESKD_REBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/err.h"

struct rebuild_report {
    uint64_t events; /* replayed */
    bool identical;
    char first_diff[256]; /* "units: key 'HY/3-1201' differs" */
};

/* Replays every event of the log in data_dir (up to the snapshot's last seq)
 * into a fresh environment under a temporary directory, compares every
 * projection sub-db, removes the temporary copy. */
int rebuild_compare(const char *data_dir, struct rebuild_report *r,
                    struct err *e);

/* The command-line reports used by `deskd --verify/--rebuild` and
 * deskaudit: print one line, return the exit code (0 good, 1 bad, 2 could
 * not check). */
int audit_verify_report(const char *data_dir);
int audit_rebuild_report(const char *data_dir);

#endif
