/* projections/visits.h - customer visits (走访, R-VIS-01..04): every visit
 * record, each unit's visits by date, the first and last visit of each
 * kind per (unit, person) that the due lists need, visits per visitor per
 * month (the manager's minimum) and the important-customer tags. */
#ifndef DESKD_PROJ_VISITS_H
#define DESKD_PROJ_VISITS_H

#include "projections.h"

#define VISIT_ID_MAX 24   /* "V" + seq */
#define VISIT_KIND_ANY "" /* mark kind for "any household visit" */

int proj_visits_apply(MDB_txn *txn, const struct views *v,
                      const struct event *ev);

/* The first and last visit of kind (VISIT_KIND_ANY: any kind but a vacant
 * inspection) by anyone to person at unit (person "" for the unit itself,
 * vacant inspections). 0 and the out-params filled, or MDB_NOTFOUND. */
struct visit_mark {
    int32_t first, last;
    int64_t count;
};
int visits_mark(MDB_txn *txn, const struct views *v, const char *unit,
                const char *person, const char *kind, struct visit_mark *m);

/* Household visits (vacant inspections not counted) of unit dated
 * first..last. */
int visits_count_unit(MDB_txn *txn, const struct views *v, const char *unit,
                      int32_t first, int32_t last, int64_t *n);

/* Visits of unit in date order: fn gets each visit record. */
int visits_each_of_unit(MDB_txn *txn, const struct views *v, const char *unit,
                        proj_each_fn fn, void *ctx);

/* Every visitor's totals in the month starting month_first: fn gets
 * {operator, visits, households}. */
int visits_each_visitor_month(MDB_txn *txn, const struct views *v,
                              int32_t month_first, proj_each_fn fn, void *ctx);
/* One visitor's household visits in that month (0 when none). */
int visits_visitor_month(MDB_txn *txn, const struct views *v,
                         int32_t month_first, const char *op,
                         int64_t *households);

/* The person's important-customer tag into tag ("" when none). */
int visits_important(MDB_txn *txn, const struct views *v, const char *person,
                     char *tag, size_t cap);

#endif
