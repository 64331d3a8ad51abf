/* projections/cards.c - read model of the card register (R-CARD-01..05).
 * Owns sub-dbs cards, card_log, card_periods, unit_cards and holder_cards.
 * Reads only the event and its own tables, so a replay reproduces them. */
#include "cards.h"

#include <string.h>

#include "../core/date.h"

#define CKEY_MAX 160 /* bytes in any key of these tables */

static int put_nil(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl)
{
    static const unsigned char nil = 0xc0;
    MDB_val key = {kl, (void *)k}, val = {1, (void *)&nil};
    return mdb_put(txn, dbi, &key, &val, 0);
}

static int32_t day_of(const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    int32_t d;
    if (codec_get_str(m, key, &s, &n) || date_parse(s, n, &d))
        return DATE_NONE;
    return d;
}

/* a \0 b */
static size_t pair_key(unsigned char *k, const char *a, const char *b)
{
    size_t na = strlen(a) + 1, nb = strlen(b);
    memcpy(k, a, na);
    memcpy(k + na, b, nb);
    return na + nb;
}

/* card \0 seq */
static size_t log_key(unsigned char *k, const char *card, uint64_t seq)
{
    size_t n = strlen(card) + 1;
    memcpy(k, card, n);
    proj_key_u64(k + n, seq);
    return n + 8;
}

/* until card \0 seq */
static size_t period_key(unsigned char *k, int32_t until, const char *card,
                         uint64_t seq)
{
    proj_key_day(k, until);
    return 4 + log_key(k + 4, card, seq);
}

static int parse_rec(const msgpack_object *m, struct card_rec *r)
{
    int64_t i = 0;
    memset(r, 0, sizeof(*r));
    codec_copy_str(m, "card", r->card, sizeof(r->card));
    codec_copy_str(m, "kind", r->kind, sizeof(r->kind));
    codec_copy_str(m, "unit", r->unit, sizeof(r->unit));
    codec_copy_str(m, "holder", r->holder, sizeof(r->holder));
    codec_copy_str(m, "holder_type", r->holder_type, sizeof(r->holder_type));
    codec_copy_str(m, "status", r->status, sizeof(r->status));
    codec_copy_str(m, "free", r->free, sizeof(r->free));
    codec_copy_str(m, "replaces", r->replaces, sizeof(r->replaces));
    r->issued = day_of(m, "issued");
    r->from = day_of(m, "from");
    r->until = day_of(m, "until");
    r->anchor = day_of(m, "anchor");
    codec_get_int(m, "months", &r->months);
    codec_get_int(m, "fees", &r->fees);
    codec_get_int(m, "pseq", &i);
    r->pseq = (uint64_t)i;
    return r->until == DATE_NONE ? ERR_UNAVAILABLE : 0;
}

static int write_rec(MDB_txn *txn, const struct views *v,
                     const struct card_rec *r)
{
    struct cw w;
    int rc;
    cw_init(&w);
    cw_map(&w, 15);
    cw_kstr(&w, "card", r->card);
    cw_kstr(&w, "kind", r->kind);
    cw_kstr(&w, "unit", r->unit);
    cw_kstr(&w, "holder", r->holder);
    cw_kstr(&w, "holder_type", r->holder_type);
    cw_kstr(&w, "status", r->status);
    cw_kstr(&w, "free", r->free);
    cw_kstr(&w, "replaces", r->replaces);
    cw_kdate(&w, "issued", r->issued);
    cw_kdate(&w, "from", r->from);
    cw_kdate(&w, "until", r->until);
    cw_kdate(&w, "anchor", r->anchor);
    cw_kint(&w, "months", r->months);
    cw_kint(&w, "fees", r->fees);
    cw_kint(&w, "pseq", (int64_t)r->pseq);
    rc = proj_put(txn, v->dbi[DB_CARDS], r->card, strlen(r->card), &w);
    cw_release(&w);
    return rc;
}

int cards_get(MDB_txn *txn, const struct views *v, const char *card,
              struct card_rec *r)
{
    struct codec_doc d;
    int rc = proj_get(txn, v->dbi[DB_CARDS], card, strlen(card), &d);
    if (rc)
        return rc;
    rc = parse_rec(d.obj, r);
    codec_doc_release(&d);
    return rc;
}

/* Opens the period the card's record now describes. */
static int open_period(MDB_txn *txn, const struct views *v,
                       const struct card_rec *r, int64_t rec_from)
{
    unsigned char k[CKEY_MAX];
    struct cw w;
    int rc;
    cw_init(&w);
    cw_map(&w, 9);
    cw_kstr(&w, "card", r->card);
    cw_kstr(&w, "kind", r->kind);
    cw_kstr(&w, "unit", r->unit);
    cw_kstr(&w, "holder", r->holder);
    cw_kstr(&w, "holder_type", r->holder_type);
    cw_kdate(&w, "from", r->from);
    cw_kdate(&w, "until", r->until);
    cw_kint(&w, "rec_from", rec_from);
    cw_kint(&w, "rec_to", 0);
    rc = proj_put(txn, v->dbi[DB_CARD_PERIODS], k,
                  period_key(k, r->until, r->card, r->pseq), &w);
    cw_release(&w);
    return rc;
}

/* Marks the card's current period superseded at rec_to. */
static int close_period(MDB_txn *txn, const struct views *v,
                        const struct card_rec *r, int64_t rec_to)
{
    unsigned char k[CKEY_MAX];
    msgpack_object t = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER,
                        .via.u64 = (uint64_t)rec_to};
    int rc;
    if (strcmp(r->status, "active"))
        return 0;
    rc = proj_update_field(txn, v->dbi[DB_CARD_PERIODS], k,
                           period_key(k, r->until, r->card, r->pseq), "rec_to",
                           &t);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int add_log(MDB_txn *txn, const struct views *v, const char *card,
                   const struct event *ev)
{
    unsigned char k[CKEY_MAX];
    struct cw w;
    int rc;
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "type", ev_type_name(ev->type));
    cw_kint(&w, "rec", ev->recorded_at);
    cw_kdate(&w, "day", ev->recorded_day);
    cw_kobj(&w, "data", ev->data);
    rc = proj_put(txn, v->dbi[DB_CARD_LOG], k, log_key(k, card, ev->seq), &w);
    cw_release(&w);
    return rc;
}

static int apply_issued(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    unsigned char k[CKEY_MAX];
    struct card_rec r, old;
    int64_t fee = 0;
    int rc;

    memset(&r, 0, sizeof(r));
    codec_copy_str(ev->data, "card", r.card, sizeof(r.card));
    if (cards_get(txn, v, r.card, &old) == 0) {
        if ((rc = close_period(txn, v, &old, ev->recorded_at)))
            return rc;
        r.fees = old.fees;
    }
    codec_copy_str(ev->data, "kind", r.kind, sizeof(r.kind));
    codec_copy_str(ev->data, "unit", r.unit, sizeof(r.unit));
    codec_copy_str(ev->data, "holder", r.holder, sizeof(r.holder));
    codec_copy_str(ev->data, "holder_type", r.holder_type,
                   sizeof(r.holder_type));
    codec_copy_str(ev->data, "free", r.free, sizeof(r.free));
    codec_copy_str(ev->data, "replaces", r.replaces, sizeof(r.replaces));
    snprintf(r.status, sizeof(r.status), "active");
    r.issued = r.from = day_of(ev->data, "from");
    r.until = day_of(ev->data, "until");
    r.anchor = day_of(ev->data, "anchor");
    codec_get_int(ev->data, "months", &r.months);
    codec_get_int(ev->data, "fee", &fee);
    r.fees += fee;
    r.pseq = ev->seq;
    if (r.until == DATE_NONE || r.from == DATE_NONE)
        return ERR_UNAVAILABLE;
    if ((rc = write_rec(txn, v, &r)) ||
        (rc = open_period(txn, v, &r, ev->recorded_at)) ||
        (rc = put_nil(txn, v->dbi[DB_UNIT_CARDS], k,
                      pair_key(k, r.unit, r.card))) ||
        (rc = put_nil(txn, v->dbi[DB_HOLDER_CARDS], k,
                      pair_key(k, r.holder, r.card))))
        return rc;
    return add_log(txn, v, r.card, ev);
}

static int apply_renewed(MDB_txn *txn, const struct views *v,
                         const struct event *ev)
{
    char card[CARD_ID_MAX];
    struct card_rec r;
    int64_t fee = 0;
    int rc;

    codec_copy_str(ev->data, "card", card, sizeof(card));
    if ((rc = cards_get(txn, v, card, &r)) ||
        (rc = close_period(txn, v, &r, ev->recorded_at)))
        return rc;
    r.from = day_of(ev->data, "from");
    r.until = day_of(ev->data, "until");
    r.anchor = day_of(ev->data, "anchor");
    codec_get_int(ev->data, "months", &r.months);
    codec_get_int(ev->data, "fee", &fee);
    r.fees += fee;
    r.pseq = ev->seq;
    if (r.until == DATE_NONE)
        return ERR_UNAVAILABLE;
    if ((rc = write_rec(txn, v, &r)) ||
        (rc = open_period(txn, v, &r, ev->recorded_at)))
        return rc;
    return add_log(txn, v, card, ev);
}

/* Lost, damaged, returned, formatted: the card stops being valid now. */
static int apply_ended(MDB_txn *txn, const struct views *v,
                       const struct event *ev, const char *status)
{
    char card[CARD_ID_MAX];
    struct card_rec r;
    int rc;

    codec_copy_str(ev->data, "card", card, sizeof(card));
    if ((rc = cards_get(txn, v, card, &r)) ||
        (rc = close_period(txn, v, &r, ev->recorded_at)))
        return rc;
    snprintf(r.status, sizeof(r.status), "%s", status);
    if ((rc = write_rec(txn, v, &r)))
        return rc;
    return add_log(txn, v, card, ev);
}

int proj_cards_apply(MDB_txn *txn, const struct views *v,
                     const struct event *ev)
{
    char card[CARD_ID_MAX];

    switch (ev->type) {
    case EV_CARD_ISSUED:
        return apply_issued(txn, v, ev);
    case EV_CARD_RENEWED:
        return apply_renewed(txn, v, ev);
    case EV_CARD_LOST:
        return apply_ended(txn, v, ev, "lost");
    case EV_CARD_DAMAGED:
        return apply_ended(txn, v, ev, "damaged");
    case EV_CARD_RETURNED:
        return apply_ended(txn, v, ev, "returned");
    case EV_CARD_FORMATTED:
        return apply_ended(txn, v, ev, "formatted");
    case EV_CARD_SWIPED:
        codec_copy_str(ev->data, "card", card, sizeof(card));
        return add_log(txn, v, card, ev);
    default:
        return 0;
    }
}

/* ---- reads ---- */

/* Walks an index "prefix \0 card" and calls fn with each card's record. */
static int walk_index(MDB_txn *txn, const struct views *v, MDB_dbi dbi,
                      const char *prefix, cards_fn fn, void *ctx)
{
    size_t pl = strlen(prefix) + 1;
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, val;
    int rc = mdb_cursor_open(txn, dbi, &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        char card[CARD_ID_MAX];
        struct card_rec r;
        size_t n = k.mv_size - pl;
        if (k.mv_size <= pl || memcmp(k.mv_data, prefix, pl))
            break;
        if (n >= sizeof(card))
            continue;
        memcpy(card, (const char *)k.mv_data + pl, n);
        card[n] = '\0';
        if (cards_get(txn, v, card, &r))
            continue;
        if ((rc = fn(ctx, &r))) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cards_each_of_unit(MDB_txn *txn, const struct views *v, const char *unit,
                       cards_fn fn, void *ctx)
{
    return walk_index(txn, v, v->dbi[DB_UNIT_CARDS], unit, fn, ctx);
}

int cards_each_of_holder(MDB_txn *txn, const struct views *v,
                         const char *holder, cards_fn fn, void *ctx)
{
    return walk_index(txn, v, v->dbi[DB_HOLDER_CARDS], holder, fn, ctx);
}

struct all_ctx {
    cards_fn fn;
    void *ctx;
};

static int each_rec(void *ctx, const msgpack_object *m)
{
    struct all_ctx *c = ctx;
    struct card_rec r;
    if (parse_rec(m, &r))
        return 0;
    return c->fn(c->ctx, &r);
}

int cards_each(MDB_txn *txn, const struct views *v, cards_fn fn, void *ctx)
{
    struct all_ctx c = {fn, ctx};
    return proj_each(txn, v->dbi[DB_CARDS], "", 0, each_rec, &c);
}

int cards_each_log(MDB_txn *txn, const struct views *v, const char *card,
                   proj_each_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_CARD_LOG], card, strlen(card) + 1, fn, ctx);
}

int cards_each_expiring(MDB_txn *txn, const struct views *v, int32_t first,
                        int32_t last, int64_t asof_end, proj_each_fn fn,
                        void *ctx)
{
    unsigned char start[4];
    MDB_cursor *cur;
    MDB_val k = {4, start}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_CARD_PERIODS], &cur);

    if (rc)
        return rc;
    proj_key_day(start, first);
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct codec_doc d;
        int64_t from = 0, to = 0;
        if (k.mv_size < 4 || proj_key_get_day(k.mv_data) > last)
            break;
        if (codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        codec_get_int(d.obj, "rec_from", &from);
        codec_get_int(d.obj, "rec_to", &to);
        rc = (from <= asof_end && (to == 0 || to > asof_end)) ? fn(ctx, d.obj)
                                                              : 0;
        codec_doc_release(&d);
        if (rc) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
