/* projections/release.h - goods-release passes (物资放行, R-REL-01..04):
 * every pass with its state (pending -> issued -> used), the passes of each
 * day, and the pending set waiting for the owner's (or a substitute's)
 * confirmation. */
#ifndef DESKD_PROJ_RELEASE_H
#define DESKD_PROJ_RELEASE_H

#include "projections.h"

#define PASS_ID_MAX 24 /* "R" + seq */

int proj_release_apply(MDB_txn *txn, const struct views *v,
                       const struct event *ev);

/* The pass record: the release.requested data with "state" kept current,
 * plus "confirmation" and "use" (the data of those events) once they
 * happened. 0 and doc filled (release it), MDB_NOTFOUND, or an error. */
int release_get(MDB_txn *txn, const struct views *v, const char *pass,
                struct codec_doc *doc);

/* Passes dated day, in id order; fn gets each pass record. */
int release_each_of_day(MDB_txn *txn, const struct views *v, int32_t day,
                        proj_each_fn fn, void *ctx);
/* Passes waiting for confirmation (R-REL-03), in id order. */
int release_each_pending(MDB_txn *txn, const struct views *v, proj_each_fn fn,
                         void *ctx);

#endif
