/* projections/timeline.h - the timeline of a case (a complaint, a work
 * order): every event about it, in log order, with who and when, in the
 * sub-db case_log keyed by case id \0 seq. Used for the audit view of one
 * case (R-GEN-07) and to fold a case's state as it stood at any time. */
#ifndef DESKD_PROJ_TIMELINE_H
#define DESKD_PROJ_TIMELINE_H

#include "projections.h"

/* Appends ev to the timeline of case id. */
int timeline_put(MDB_txn *txn, const struct views *v, const char *id,
                 const struct event *ev);
/* Entries {seq, type, actor, desk, recorded, occurred, data} of case id. */
int timeline_each(MDB_txn *txn, const struct views *v, const char *id,
                  proj_each_fn fn, void *ctx);

/* Folds the entries of case id whose business time is at most cutoff into
 * state with fold(state, type, data, occurred). *seen tells whether any
 * entry was folded. */
typedef void (*timeline_fold_fn)(void *state, enum ev_type t,
                                 const msgpack_object *data, int64_t at);
int timeline_fold(MDB_txn *txn, const struct views *v, const char *id,
                  int64_t cutoff, timeline_fold_fn fold, void *state,
                  bool *seen);

#endif
