/* core/rates.h - the fee schedule (R-FEE-01): rates per fee item and unit
 * type with effective dates, loaded from a TSV file in config/, plus the fee
 * settings of [fees] in deskd.conf. A rate applies from its effective date
 * on; bills store the amount they were made with, so a rate change never
 * rewrites an earlier bill. */
#ifndef DESKD_RATES_H
#define DESKD_RATES_H

#include <stdint.h>

#include "err.h"

#define RATES_MAX 512    /* rate lines in the schedule */
#define RATE_ITEM_MAX 24 /* bytes in an item name, NUL included */
#define RATE_TYPE_MAX 16 /* bytes in a unit type, NUL included */
#define LATE_POLICIES_MAX 16

/* How an item is charged. */
#define RATE_BASES(X)                                                          \
    X(M2_MONTH, "m2_month") /* fen per m² per month, billed monthly */        \
    X(MONTH, "month")       /* fen per month, billed monthly */                \
    X(EACH, "each")         /* fen per piece (card, sheet, page) */            \
    X(QUOTE, "quote")       /* amount given at the desk (housekeeping) */

enum rate_basis {
#define X(n, s) RB_##n,
    RATE_BASES(X)
#undef X
};

struct rate {
    char item[RATE_ITEM_MAX];
    char unit_type[RATE_TYPE_MAX]; /* "*" = any */
    int32_t effective;             /* day */
    int64_t amount;                /* fen (per basis) */
    enum rate_basis basis;
};

/* Optional late-fee policy for one item (R-FEE-08, default off). */
struct late_policy {
    char item[RATE_ITEM_MAX];
    int grace_days; /* days after the due date with no late fee */
    int daily_bp;   /* basis points of the unpaid principal per day */
    int cap_bp;     /* cap, basis points of the principal */
};

/* [fees] due_day = last: bills fall due on the last day of their month
 * (28th to 31st); 1..28 are the same day every month. */
#define FEES_DUE_LAST 0

/* The day a bill of the month (y, m) falls due under due_day. */
int fees_due_in(int due_day, int y, int m);

struct fee_settings {
    int due_day;       /* day of month bills fall due (15: 托收), 1..28, or
                          FEES_DUE_LAST: the month's last day */
    int prepay_months; /* move-in prepayment (R-FEE-05): 3 */
    int64_t large_debtor_fen; /* owed at least this: manager visits */
    int nlate;
    struct late_policy late[LATE_POLICIES_MAX];
    int nrates;
    struct rate rates[RATES_MAX]; /* sorted by item, type, effective */
};

void rates_init(struct fee_settings *f);
/* "item<TAB>unit_type<TAB>YYYY-MM-DD<TAB>amount_fen<TAB>basis" lines. */
int rates_parse(struct fee_settings *f, const char *buf, size_t len,
                const char *name, struct err *e);
int rates_load(struct fee_settings *f, const char *path, struct err *e);
/* "grace=30 daily_bp=5 cap_bp=1000" for item. */
int rates_parse_late(struct fee_settings *f, const char *item,
                     const char *spec);

/* The rate for item and unit type in force on day (a line for the exact
 * type wins over "*"), or NULL. */
const struct rate *rates_find(const struct fee_settings *f, const char *item,
                              const char *unit_type, int32_t day);
const struct late_policy *rates_late(const struct fee_settings *f,
                                     const char *item);
const char *rate_basis_name(enum rate_basis b);

#endif
