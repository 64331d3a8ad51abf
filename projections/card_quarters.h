/* projections/card_quarters.h - the quarterly card reconciliation
 * (IC卡季度整理表, R-CARD-05): per estate and quarter of the recording day,
 * cards issued, renewed, lost, damaged, returned, formatted, how many were
 * free and paid, and the fees taken (fen). */
#ifndef DESKD_PROJ_CARD_QUARTERS_H
#define DESKD_PROJ_CARD_QUARTERS_H

#include "projections.h"

int proj_card_quarters_apply(MDB_txn *txn, const struct views *v,
                             const struct event *ev);

/* Rows of estate in quarter order, each {quarter, issued, renewed, lost,
 * damaged, returned, formatted, free, paid, fees}; year 0 = every year. */
int card_quarters_each(MDB_txn *txn, const struct views *v, const char *estate,
                       int year, proj_each_fn fn, void *ctx);

#endif
