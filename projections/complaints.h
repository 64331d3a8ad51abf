/* projections/complaints.h - the complaint read models (R-CMP-01..11,
 * R-GEN-06): one record per complaint with its state, people, deadlines and
 * escalations; the open set; a per-complaint timeline; the "do not visit"
 * wishes. Deadlines arrive in the events (the handler computed them with
 * the calendar), so replay never depends on today's config. */
#ifndef DESKD_PROJ_COMPLAINTS_H
#define DESKD_PROJ_COMPLAINTS_H

#include "projections.h"

#define CMP_ID_MAX 24

struct complaint {
    char id[CMP_ID_MAX];
    char channel[16];
    char unit[64];
    char name[64];       /* complainant; "" when anonymous */
    bool anonymous;
    char receiver[32];   /* first receiver, owns it to the end (R-GEN-06) */
    char handler[32];
    char state[16];      /* received dispatched replied handled closed */
    int category;        /* 1..8 (R-CMP-02), 0 until classified */
    char validity[16];
    char visit_result[16];
    char issue[64];      /* what happened, first 60 bytes */
    bool emergency, major, hot, no_visit;
    int people, times, reopen_count, level, escalations;
    int64_t claim_fen;
    int64_t received, first_reply, reply_due, re_reply_due, update_due,
        handled, visit_due, auto_close_at, closed;
};

int proj_complaints_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev);
/* 0 and c filled, or MDB_NOTFOUND. */
int complaints_get(MDB_txn *txn, const struct views *v, const char *id,
                   struct complaint *c);
typedef int (*complaints_fn)(void *ctx, const struct complaint *c);
/* Open complaints in id order. */
int complaints_each_open(MDB_txn *txn, const struct views *v,
                         complaints_fn fn, void *ctx);
/* Timeline entries of one complaint, in log order. */
int complaints_each_entry(MDB_txn *txn, const struct views *v,
                          const char *id, proj_each_fn fn, void *ctx);
bool complaints_no_visit(MDB_txn *txn, const struct views *v,
                         const char *person);

#endif
