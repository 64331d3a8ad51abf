/* projections/card_quarters.c - the quarterly card reconciliation
 * (IC卡季度整理表, R-CARD-05). Owns sub-db card_quarters: estate \0
 * "YYYYQn" -> counts. The quarter is that of the recording day. */
#include "card_quarters.h"

#include <string.h>

#include "../core/date.h"

#define QKEY_MAX 80
#define QUARTER_STR 8 /* "2026Q2" + NUL */

/* The counters, in the order they are stored. */
static const char *const fields[] = {"issued",  "renewed",  "lost",
                                     "damaged", "returned", "formatted",
                                     "free",    "paid",     "fees"};
enum {
    F_ISSUED,
    F_RENEWED,
    F_LOST,
    F_DAMAGED,
    F_RETURNED,
    F_FORMATTED,
    F_FREE,
    F_PAID,
    F_FEES,
    F_COUNT
};

static size_t quarter_key(unsigned char *k, const char *unit, int32_t day)
{
    const char *slash = strchr(unit, '/');
    size_t n = slash ? (size_t)(slash - unit) : strlen(unit);
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    if (n > QKEY_MAX - QUARTER_STR - 1)
        n = QKEY_MAX - QUARTER_STR - 1;
    memcpy(k, unit, n);
    k[n] = '\0';
    return n + 1 +
           (size_t)snprintf((char *)k + n + 1, QUARTER_STR, "%04dQ%d",
                            y % 10000, (m - 1) / 3 + 1);
}

static int bump(MDB_txn *txn, const struct views *v, const struct event *ev,
                int what, int64_t fee)
{
    unsigned char k[QKEY_MAX];
    char unit[64];
    int64_t c[F_COUNT] = {0};
    struct codec_doc d;
    struct cw w;
    size_t kl;
    int rc;

    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    kl = quarter_key(k, unit, ev->recorded_day);
    if (proj_get(txn, v->dbi[DB_CARD_QUARTERS], k, kl, &d) == 0) {
        for (int i = 0; i < F_COUNT; i++)
            codec_get_int(d.obj, fields[i], &c[i]);
        codec_doc_release(&d);
    }
    c[what]++;
    if (what == F_ISSUED || what == F_RENEWED) {
        c[fee > 0 ? F_PAID : F_FREE]++;
        c[F_FEES] += fee;
    }
    cw_init(&w);
    cw_map(&w, F_COUNT + 1);
    cw_kstr(&w, "quarter", (const char *)k + strlen((const char *)k) + 1);
    for (int i = 0; i < F_COUNT; i++)
        cw_kint(&w, fields[i], c[i]);
    rc = proj_put(txn, v->dbi[DB_CARD_QUARTERS], k, kl, &w);
    cw_release(&w);
    return rc;
}

int proj_card_quarters_apply(MDB_txn *txn, const struct views *v,
                             const struct event *ev)
{
    int64_t fee = 0;
    codec_get_int(ev->data, "fee", &fee);
    switch (ev->type) {
    case EV_CARD_ISSUED:
        return bump(txn, v, ev, F_ISSUED, fee);
    case EV_CARD_RENEWED:
        return bump(txn, v, ev, F_RENEWED, fee);
    case EV_CARD_LOST:
        return bump(txn, v, ev, F_LOST, 0);
    case EV_CARD_DAMAGED:
        return bump(txn, v, ev, F_DAMAGED, 0);
    case EV_CARD_RETURNED:
        return bump(txn, v, ev, F_RETURNED, 0);
    case EV_CARD_FORMATTED:
        return bump(txn, v, ev, F_FORMATTED, 0);
    default:
        return 0;
    }
}

int card_quarters_each(MDB_txn *txn, const struct views *v, const char *estate,
                       int year, proj_each_fn fn, void *ctx)
{
    unsigned char k[QKEY_MAX];
    size_t n = strlen(estate) + 1;
    if (n + QUARTER_STR > sizeof(k))
        return 0;
    memcpy(k, estate, n);
    if (year)
        n += (size_t)snprintf((char *)k + n, QUARTER_STR, "%04d", year % 10000);
    return proj_each(txn, v->dbi[DB_CARD_QUARTERS], k, n, fn, ctx);
}
