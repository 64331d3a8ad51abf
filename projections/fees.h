/* projections/fees.h - the money read models (R-FEE-01..10): bills and
 * what settled them (with the business date and the recording time of every
 * settlement, so any past date can be answered), payments, receipts per
 * book, prepayment balances, the unit statement ledger, daily takings and
 * the chase history (fee start, extensions, notices). */
#ifndef DESKD_PROJ_FEES_H
#define DESKD_PROJ_FEES_H

#include "projections.h"

#define BILL_ID_MAX 24 /* "B" + seq */

int proj_fees_apply(MDB_txn *txn, const struct views *v,
                    const struct event *ev);

/* A bill as the read model holds it. */
struct bill {
    char id[BILL_ID_MAX];
    char unit[64];
    char payer[24];
    char item[24];
    char period[16];
    int64_t amount;  /* fen */
    int64_t settled; /* fen paid, prepaid-applied or waived (live) */
    int32_t due;     /* day */
    int64_t created; /* ms recorded */
};

int fees_get_bill(MDB_txn *txn, const struct views *v, const char *id,
                  struct bill *b);

/* One settlement line of a bill: what event seq added to what settled it
 * (negative: a void puts it back), of which kind ("payment",
 * "prepayment", "waiver", "void"), the payment or bill it names (ref),
 * its business day (occ) and its recording time (rec, ms). */
struct settlement {
    uint64_t seq;
    int64_t amount;
    int32_t occ;
    int64_t rec;
    char kind[16];
    char ref[BILL_ID_MAX];
};
/* Calls fn with each settlement line of bill recorded by asof_end (ms)
 * with a business day on or before asof, in log order: the lines
 * fees_settled_as_of sums. fn returns >0 to stop, <0 on error. */
typedef int (*fees_settlement_fn)(void *ctx, const struct settlement *s);
int fees_each_settlement(MDB_txn *txn, const struct views *v, const char *bill,
                         int32_t asof, int64_t asof_end, fees_settlement_fn fn,
                         void *ctx);

/* What was settled on bill as known at the end of day asof_end (ms,
 * recorded time) with a business date on or before asof (day). */
int fees_settled_as_of(MDB_txn *txn, const struct views *v, const char *bill,
                       int32_t asof, int64_t asof_end, int64_t *settled);

/* R-FEE-06 aging buckets by days overdue: 1-30, 31-60, 61-90, >90. */
#define FEES_BUCKETS 4
extern const char *const fees_bucket_names[FEES_BUCKETS];
int fees_bucket(int64_t days);

/* What bill b still owed at the end of day asof, as known at asof_end
 * (recorded time): 0 when it was not overdue that day (due on or after
 * it, or not billed yet). The one rule of query.overdue's as_of and of
 * deskaudit whatif's aging. */
int fees_overdue_as_of(MDB_txn *txn, const struct views *v,
                       const struct bill *b, int32_t asof, int64_t asof_end,
                       int64_t *open);

/* Calls fn for each bill of unit in due order; open_only walks only bills
 * with something outstanding now. fn returns >0 to stop, <0 on error. */
typedef int (*fees_bill_fn)(void *ctx, const struct bill *b);
int fees_each_unit_bill(MDB_txn *txn, const struct views *v, const char *unit,
                        bool open_only, fees_bill_fn fn, void *ctx);
/* The unit's bills falling due on one day (a billing period's). */
int fees_each_unit_bill_due(MDB_txn *txn, const struct views *v,
                            const char *unit, int32_t due, fees_bill_fn fn,
                            void *ctx);
/* Every open bill of every unit (unit order), or every bill ever. */
int fees_each_bill(MDB_txn *txn, const struct views *v, bool open_only,
                   fees_bill_fn fn, void *ctx);

/* Prepayment balance of a unit (fen). */
int fees_prepaid(MDB_txn *txn, const struct views *v, const char *unit,
                 int64_t *balance);

/* Last receipt number and date in a book (0 / DATE_NONE when empty). */
int fees_last_receipt(MDB_txn *txn, const struct views *v, const char *book,
                      int64_t *number, int32_t *date);

/* A payment record (the fee.paid data plus "voided"). Release doc. */
int fees_get_payment(MDB_txn *txn, const struct views *v, const char *id,
                     struct codec_doc *doc);

/* Chase state of a unit as known at asof_end for day asof: fee start day,
 * extension end (DATE_NONE if none), last notice stage delivered ("" if
 * none). */
struct chase {
    int32_t start;
    int32_t extension_until;
    char notice[16];
    int32_t notice_day;
    int32_t notice_deadline; /* set by a second notice (R-FEE-06), else
                                DATE_NONE */
};
int fees_chase(MDB_txn *txn, const struct views *v, const char *unit,
               int64_t asof_end, struct chase *c);
/* The chase entries of a unit recorded by asof_end, in log order: fn gets
 * the seq of the event and the entry {kind ("start", "extension",
 * "notice"), rec, data (the event's)}. fn returns >0 to stop, <0 on
 * error. fees_chase folds these. */
typedef int (*fees_chase_fn)(void *ctx, uint64_t seq, const msgpack_object *e);
int fees_each_chase(MDB_txn *txn, const struct views *v, const char *unit,
                    int64_t asof_end, fees_chase_fn fn, void *ctx);

/* Statement lines of a unit in order: calls fn with each stored line. */
typedef int (*fees_line_fn)(void *ctx, const msgpack_object *line);
int fees_each_line(MDB_txn *txn, const struct views *v, const char *unit,
                   fees_line_fn fn, void *ctx);
/* Receipts of a book in number order (issued data plus "voided"). */
int fees_each_receipt(MDB_txn *txn, const struct views *v, const char *book,
                      fees_line_fn fn, void *ctx);
/* Takings lines of a day: {desk, method, count, amount} maps. */
int fees_each_taking(MDB_txn *txn, const struct views *v, int32_t day,
                     fees_line_fn fn, void *ctx);

#endif
