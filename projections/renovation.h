/* projections/renovation.h - the renovation register (R-REN-01..05): each
 * filing with its term, the deposits taken and refunded, the worker
 * passes issued and returned, the violations found and rectified, and the
 * completion inspection. Counters (passes out, open violations, deposit
 * held) live in the record so the desk's checks read one key. */
#ifndef DESKD_PROJ_RENOVATION_H
#define DESKD_PROJ_RENOVATION_H

#include "projections.h"

#define REN_ID_MAX 24 /* "RN" + seq, NUL included */

int proj_renovation_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev);

/* A renovation as the register holds it now. completion: "", "passed" or
 * "failed" (the latest completion inspection). */
struct ren_rec {
    char id[REN_ID_MAX];
    char unit[64];
    char owner[24], applicant[24], in_charge[24];
    char contractor[64];
    bool self; /* the owner renovates himself: one deposit */
    bool waterproof;
    int32_t filed, start, end;
    int64_t deposit_due; /* fen, all parties */
    int64_t owner_paid;  /* fen taken from the owner */
    int64_t contractor_paid;
    int64_t refunded; /* fen handed back */
    int64_t passes_out, passes_issued;
    int64_t open_violations, violations;
    char completion[8];
    int32_t completed_on;    /* day the completion inspection passed */
    int32_t refund_from;     /* first day the deposit may come back */
    bool refund_provisional; /* refund_from counted past the working
                                calendar's coverage (R-GEN-05) */
    int32_t refunded_on;
    /* When the term counts as over (the desk's opening on the working day
     * after end, written by the filing or extension) and whether it was
     * counted past the calendar; the deadline each timer last fired for
     * (0: none), so an extension arms them again. */
    int64_t end_due;
    bool end_provisional;
    int64_t term_fired, passes_fired;
};

/* The register's timers: the term ending before the completion inspection
 * passed (R-REN-02), worker passes out when it ends (R-REN-04). */
enum ren_timer { REN_T_TERM, REN_T_PASSES };
/* When timer t is due for r, 0 when it is not armed. */
int64_t ren_timer_due(const struct ren_rec *r, enum ren_timer t);
/* A violation record's rectification deadline as a time, 0 once it is
 * rectified or reported overdue (or recorded without one); whether it
 * was counted past the calendar (R-GEN-05). */
int64_t ren_violation_due(const msgpack_object *viol);
bool ren_violation_provisional(const msgpack_object *viol);

/* 0 and r filled, MDB_NOTFOUND, or an error. */
int ren_get(MDB_txn *txn, const struct views *v, const char *id,
            struct ren_rec *r);
/* Every renovation in id order. fn returns >0 to stop, <0 on error. */
typedef int (*ren_fn)(void *ctx, const struct ren_rec *r);
int ren_each(MDB_txn *txn, const struct views *v, ren_fn fn, void *ctx);

/* A renovation's passes {pass, worker, issued, returned|nil} and
 * violations {violation, kind, notice, deadline, note, deadline_due,
 * provisional, found, rectified|nil, overdue|nil}, in key order. */
int ren_each_pass(MDB_txn *txn, const struct views *v, const char *id,
                  proj_each_fn fn, void *ctx);
int ren_each_violation(MDB_txn *txn, const struct views *v, const char *id,
                       proj_each_fn fn, void *ctx);
/* One pass or violation: 0 and doc filled (release it), MDB_NOTFOUND. */
int ren_get_pass(MDB_txn *txn, const struct views *v, const char *id,
                 const char *pass, struct codec_doc *doc);
int ren_get_violation(MDB_txn *txn, const struct views *v, const char *id,
                      const char *viol, struct codec_doc *doc);

#endif
