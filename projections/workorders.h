/* projections/workorders.h - the work-order read model (R-WO-01..04,
 * R-GEN-06): every message, repair and housekeeping request the desk logs
 * (工作信息记录本), its dispatch, completion, return visit and escalations.
 * Built like the complaints: the record is a pure fold of its events
 * (wo_fold), the open set and the timers follow from the record, and the
 * timeline (projections/timeline.h) gives any past state. */
#ifndef DESKD_PROJ_WORKORDERS_H
#define DESKD_PROJ_WORKORDERS_H

#include "../core/config.h"
#include "projections.h"
#include "timeline.h"

#define WO_ID_MAX 24

enum wo_state { WS_LOGGED, WS_DISPATCHED, WS_COMPLETED, WS_CLOSED };
extern const char *const wo_state_names[];

struct workorder {
    char id[WO_ID_MAX];
    char kind[16]; /* repair housekeeping message enquiry suggestion other */
    char from[16]; /* resident staff other */
    char unit[64];
    char person[24];
    char receiver[32]; /* first receiver owns it (R-GEN-06) */
    char assignee[64];
    char issue[96];
    char category[12]; /* safety leak other: the return-visit clock */
    char payer[12];    /* common owner (R-WO-04) */
    char bill[24];
    char visit_result[16];
    enum wo_state state;
    bool emergency, same_day;
    int reopen_count, level, escalations;
    unsigned fired; /* bit per enum wo_rule */
    unsigned prov;  /* bit per enum wo_rule: its deadline was computed past
                       the working calendar (R-GEN-05) */
    int64_t amount; /* fen billed to the owner */
    int64_t received, recorded, updated, visit_at, stale_due, completed,
        visit_due, visited, notice_due, notice_sent, closed;
};

/* Repairs and housekeeping are dispatched with a visit time and get a
 * return visit; the other kinds are passed on and closed. */
bool wo_needs_visit(const struct workorder *w);

void wo_fold(struct workorder *w, enum ev_type t, const msgpack_object *data,
             int64_t at);
int64_t wo_timer_due(const struct workorder *w, enum wo_rule r);

int proj_workorders_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev);
int workorders_get(MDB_txn *txn, const struct views *v, const char *id,
                   struct workorder *w);

/* fn gets a const struct workorder *. */
typedef case_fn workorders_fn;
/* Open work orders in id order. */
int workorders_each_open(MDB_txn *txn, const struct views *v, workorders_fn fn,
                         void *ctx);
/* Every work order logged by cutoff, as it stood at cutoff. */
int workorders_each_as_of(MDB_txn *txn, const struct views *v, int64_t cutoff,
                          workorders_fn fn, void *ctx);
/* Every work order as it stood once the event at seq had been applied
 * (the log up to seq, case_each_seq). */
int workorders_each_at_seq(MDB_txn *txn, const struct views *v, uint64_t seq,
                           workorders_fn fn, void *ctx);

#endif
