/* projections/movein.h - move-in checklists (R-MOV-01, R-MOV-02): one per
 * unit, its steps filled in by the move-in commands and by the fee and
 * card events that belong to the move-in (fee.move_in's start and
 * prepayment due, prepayment taken, move-in cards), plus a day index of
 * every step done, for the desk's daily progress. */
#ifndef DESKD_PROJ_MOVEIN_H
#define DESKD_PROJ_MOVEIN_H

#include "projections.h"

int proj_movein_apply(MDB_txn *txn, const struct views *v,
                      const struct event *ev);

/* The unit's checklist map (see docs/RENOVATION.md): 0 and doc filled
 * (release it), MDB_NOTFOUND, or an error. */
int movein_get(MDB_txn *txn, const struct views *v, const char *unit,
               struct codec_doc *doc);
/* Every checklist in unit order. */
int movein_each(MDB_txn *txn, const struct views *v, proj_each_fn fn,
                void *ctx);
/* Steps done on day, in order: {unit, step, seq}. */
int movein_each_step(MDB_txn *txn, const struct views *v, int32_t day,
                     proj_each_fn fn, void *ctx);

#endif
