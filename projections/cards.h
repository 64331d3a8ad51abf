/* projections/cards.h - the card register (R-CARD-01..05): every IC and
 * parking card with its current state, its full history, who holds which
 * card per unit and per holder, and the validity periods behind the expiry
 * schedule. A period is kept with the time it was recorded and the time it
 * was superseded (renewal, loss, return), so the schedule "as of
 * 2026-05-01" is a seek over the periods ending in the window, never a
 * replay. */
#ifndef DESKD_PROJ_CARDS_H
#define DESKD_PROJ_CARDS_H

#include "projections.h"

#define CARD_ID_MAX 32 /* bytes in a card number, NUL included */

int proj_cards_apply(MDB_txn *txn, const struct views *v,
                     const struct event *ev);

/* A card as the register holds it now. status: active, lost, damaged,
 * returned, formatted. free: why it cost nothing ("move_in", "staff",
 * "replacement") or "" when paid. */
struct card_rec {
    char card[CARD_ID_MAX];
    char kind[16]; /* access, parking */
    char unit[64];
    char holder[24];
    char holder_type[16]; /* owner, family, tenant, merchant, staff */
    char status[16];
    char free[16];
    char replaces[CARD_ID_MAX];
    int32_t issued; /* day the current holder got it */
    int32_t from, until;
    int32_t anchor; /* parking: the day its months count from */
    int64_t months; /* parking: months paid from anchor */
    int64_t fees;   /* fen taken for this card so far */
    uint64_t pseq;  /* seq of the event that opened the current period */
};

/* 0 and r filled, MDB_NOTFOUND, or an error. */
int cards_get(MDB_txn *txn, const struct views *v, const char *card,
              struct card_rec *r);

/* Cards of a unit / a holder (ever), in card-number order. fn returns >0
 * to stop, <0 on error. */
typedef int (*cards_fn)(void *ctx, const struct card_rec *r);
int cards_each_of_unit(MDB_txn *txn, const struct views *v, const char *unit,
                       cards_fn fn, void *ctx);
int cards_each_of_holder(MDB_txn *txn, const struct views *v,
                         const char *holder, cards_fn fn, void *ctx);
/* Every card in the register. */
int cards_each(MDB_txn *txn, const struct views *v, cards_fn fn, void *ctx);

/* History of a card in order: {type, rec (ms), day, data} maps. */
int cards_each_log(MDB_txn *txn, const struct views *v, const char *card,
                   proj_each_fn fn, void *ctx);

/* Validity periods ending on days first..last (in until order) that were
 * in force at asof_end (ms, recorded time): recorded by then and not yet
 * superseded. Each is {card, kind, unit, holder, holder_type, from, until,
 * rec_from, rec_to}. */
int cards_each_expiring(MDB_txn *txn, const struct views *v, int32_t first,
                        int32_t last, int64_t asof_end, proj_each_fn fn,
                        void *ctx);

#endif
