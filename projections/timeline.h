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

/* A kind of case (complaints, work orders): where its records are, how a
 * stored record decodes, and how its events fold into one. Records are
 * structs of `size` bytes with a NUL-terminated id at id_off and the
 * int64 times (ms) the first and the last event was folded at
 * recorded_off and updated_off. */
struct case_kind {
    enum proj_db records; /* id -> record */
    size_t size, id_off, recorded_off, updated_off;
    int (*dec)(const msgpack_object *m, void *rec);
    void (*enc)(struct cw *w, const void *rec);
    timeline_fold_fn fold;
};

/* Stores rec under its id. */
int case_put(MDB_txn *txn, const struct views *v, const struct case_kind *k,
             const void *rec);

/* Reads case id into rec as it stood at cutoff (ms; 0: as it is now): the
 * record when nothing happened to it since, else its timeline folded up
 * to the cutoff. MDB_NOTFOUND when it did not exist yet. */
int case_get(MDB_txn *txn, const struct views *v, const struct case_kind *k,
             const char *id, int64_t cutoff, void *rec);

/* The same as it stood once the event at seq had been applied, whatever
 * the business times of later events (a timer fired late records its
 * event after seq with an earlier occurred_at): a function of the log up
 * to seq. MDB_NOTFOUND when it did not exist then (always for seq 0). */
int case_get_seq(MDB_txn *txn, const struct views *v, const struct case_kind *k,
                 const char *id, uint64_t seq, void *rec);

/* Calls fn with every case whose id is a key of index (the records, or a
 * set such as the open ones), in key order, as it stood at cutoff (0:
 * now). rec is a buffer of k->size bytes. fn returns >0 to stop, <0 for an
 * error (returned). */
typedef int (*case_fn)(void *ctx, const void *rec);
int case_each(MDB_txn *txn, const struct views *v, const struct case_kind *k,
              MDB_dbi index, int64_t cutoff, void *rec, case_fn fn, void *ctx);
/* The same, each case as it stood once the event at seq had been applied
 * (case_get_seq); none for seq 0. */
int case_each_seq(MDB_txn *txn, const struct views *v,
                  const struct case_kind *k, MDB_dbi index, uint64_t seq,
                  void *rec, case_fn fn, void *ctx);

#endif
