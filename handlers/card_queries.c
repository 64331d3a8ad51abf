/* handlers/card_queries.c - what the desk reads about cards: the reader's
 * check (a query: records nothing), the expiry schedule as of any date with
 * the holder's contact masked (R-CARD-05, R-GEN-02), cards per unit or
 * holder with their history, the quarterly reconciliation, and tenant
 * cards that outlive their lease. */
#include <string.h>

#include "../projections/card_quarters.h"
#include "../projections/cards.h"
#include "../projections/units.h"
#include "handlers.h"

#define EXPIRY_ROWS_MAX 500 /* rows in one expiry reply; count has all */
#define CARD_ROWS_MAX 200   /* cards in one per-unit/holder/lease reply */

int hdl_query_card_check(struct hctx *h, const struct args *a, struct err *e)
{
    char card[CARD_ID_MAX], unit[UNIT_KEY_MAX], buf[96];
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    struct card_rec r;
    bool known;
    const char *why;
    struct cw *w = h->result;

    (void)e;
    arg_copy(a, "card", card, sizeof(card));
    arg_copy(a, "unit", unit, sizeof(unit));
    known = cards_get(h->txn, h->v, card, &r) == 0;
    why = card_verdict(known ? &r : NULL, unit, day, buf, sizeof(buf));
    cw_map(w, known ? 8 : 5);
    cw_kstr(w, "card", card);
    cw_kstr(w, "unit", unit);
    cw_kdate(w, "date", day);
    cw_kbool(w, "valid", why == NULL);
    cw_kstr(w, "reason", why ? why : "");
    if (known) {
        cw_kstr(w, "kind", r.kind);
        cw_kstr(w, "status", r.status);
        cw_kdate(w, "until", r.until);
    }
    h->has_result = true;
    return 0;
}

/* Writes the holder's name and contact masked (R-GEN-02). */
static void write_holder(struct hctx *h, struct cw *w, const char *holder)
{
    char buf[64];
    const msgpack_object *ph;
    const char *s;
    size_t n;
    struct codec_doc d;
    bool found = units_get_person(h->txn, h->v, holder, &d) == 0;

    cw_kstr(w, "holder", holder);
    cw_str(w, "name");
    found &&codec_get(d.obj, "name") ? cw_obj(w, codec_get(d.obj, "name"))
                                     : cw_nil(w);
    ph = found ? codec_get(d.obj, "phones") : NULL;
    buf[0] = '\0';
    if (ph && ph->type == MSGPACK_OBJECT_ARRAY && ph->via.array.size &&
        ph->via.array.ptr[0].type == MSGPACK_OBJECT_STR)
        mask_phone(ph->via.array.ptr[0].via.str.ptr,
                   ph->via.array.ptr[0].via.str.size, buf, sizeof(buf));
    cw_kstr(w, "phone", buf);
    buf[0] = '\0';
    if (found && !codec_get_str(d.obj, "id_no", &s, &n))
        mask_id(s, n, buf, sizeof(buf));
    cw_kstr(w, "id_no", buf);
    if (found)
        codec_doc_release(&d);
}

struct expiry_ctx {
    struct hctx *h;
    int32_t asof;
    char prefix[UNIT_KEY_MAX + 2];
    bool exact; /* prefix is a whole unit */
    char holder[PERSON_ID_MAX];
    uint32_t n, total;
    bool explain; /* explain=true: why.until on each row */
};

/* why.until of a card ending on until: the issue or renewal that set it
 * (R-CARD-01: months by holder type, a parking card's months paid), the
 * month rule from its anchor (R-CARD-03) and, when the run was cut
 * short, the lease end (R-CARD-01). */
static int why_until(struct expiry_ctx *c, const char *card, int32_t until)
{
    char stream[CARD_ID_MAX + 8], u[DATE_STR_MAX],
        a[DATE_STR_MAX] = "", from[DATE_STR_MAX] = "", e[DATE_STR_MAX];
    struct codec_doc d;
    struct event ev;
    struct why y;
    uint64_t seq;
    int64_t months = 0;
    int32_t anchor, end;
    int rc;

    snprintf(stream, sizeof(stream), "card:%s", card);
    date_format(until, u);
    cw_str(c->h->result, "why");
    cw_map(c->h->result, 1);
    why_begin(&y, c->h, "until");
    rc = why_find_set(c->h, stream, EV_UNKNOWN, "until", u, 0, &seq);
    if (!rc && !seq)
        why_fact(&y, "rule", "R-CARD-03", "no event of %s sets it", stream);
    if (rc || !seq || (rc = hdl_event_get(c->h, seq, &d, &ev))) {
        why_end(&y);
        return rc;
    }
    codec_copy_str(ev.data, "anchor", a, sizeof(a));
    codec_copy_str(ev.data, "from", from, sizeof(from));
    codec_get_int(ev.data, "months", &months);
    why_entry(&y, seq, ev_type_name(ev.type), ev.occurred_at, "R-CARD-01",
              WHY_NO_FEN,
              "valid from %s for %lld months counted from %s: "
              "until %s",
              from, (long long)months, a, u);
    codec_doc_release(&d);
    if (!date_parse(a, strlen(a), &anchor) && months > 0 && months < 1200) {
        end = date_period_end(anchor, (int)months);
        date_format(end, e);
        why_fact(&y, "rule", "R-CARD-03",
                 "%lld months from %s end the day before the same date "
                 "%lld months later, or on that month's last day when it "
                 "has no such date: %s",
                 (long long)months, a, (long long)months, e);
        if (end != until)
            why_fact(&y, "rule", "R-CARD-01",
                     "a tenant's card ends at the lease end when that is "
                     "earlier: %s, not %s",
                     u, e);
    }
    why_end(&y);
    return 0;
}

static int expiry_row(void *ctx, const msgpack_object *p)
{
    struct expiry_ctx *c = ctx;
    struct cw *w = c->h->result;
    char unit[UNIT_KEY_MAX], holder[PERSON_ID_MAX];
    const char *s;
    size_t n, pl = strlen(c->prefix);
    int32_t until;

    codec_copy_str(p, "unit", unit, sizeof(unit));
    codec_copy_str(p, "holder", holder, sizeof(holder));
    if ((c->exact ? strcmp(unit, c->prefix) != 0
                  : strncmp(unit, c->prefix, pl) != 0) ||
        (c->holder[0] && strcmp(holder, c->holder)))
        return 0;
    if (c->total++ >= EXPIRY_ROWS_MAX)
        return 0;
    if (codec_get_str(p, "until", &s, &n) || date_parse(s, n, &until))
        return 0;
    cw_map(w, 10 + (c->explain ? 1 : 0));
    cw_kobj(w, "card", codec_get(p, "card"));
    cw_kobj(w, "kind", codec_get(p, "kind"));
    cw_kstr(w, "unit", unit);
    cw_kobj(w, "holder_type", codec_get(p, "holder_type"));
    write_holder(c->h, w, holder);
    cw_kobj(w, "until", codec_get(p, "until"));
    cw_kint(w, "days_left", until - c->asof);
    c->n++;
    if (c->explain) {
        char card[CARD_ID_MAX];
        codec_copy_str(p, "card", card, sizeof(card));
        return why_until(c, card, until);
    }
    return 0;
}

/* The unit filter: a unit, a building ("E/B-") or an estate ("E/"). */
static int expiry_filter(const struct args *a, struct expiry_ctx *c,
                         struct err *e)
{
    char est[UNIT_KEY_MAX] = "", bld[UNIT_KEY_MAX] = "";
    if (arg_has(a, "unit")) {
        arg_copy(a, "unit", c->prefix, sizeof(c->prefix));
        c->exact = true;
        return 0;
    }
    if (arg_has(a, "estate"))
        arg_copy(a, "estate", est, sizeof(est));
    if (arg_has(a, "building") && !est[0])
        return err_set(e, ERR_INVALID, "building", "'building' needs 'estate'");
    if (arg_has(a, "building"))
        arg_copy(a, "building", bld, sizeof(bld));
    if (est[0])
        snprintf(c->prefix, sizeof(c->prefix), bld[0] ? "%.40s/%.20s-" : "%s/",
                 est, bld);
    return 0;
}

/* R-CARD-05: cards expiring within N days of as_of, as the register stood
 * at the end of that day. */
int hdl_query_card_expiry(struct hctx *h, const struct args *a, struct err *e)
{
    struct expiry_ctx c = {.h = h, .explain = hdl_explain(a)};
    int64_t days =
        arg_has(a, "days") ? arg_int(a, "days") : h->cfg->cards.expiry_days;
    int64_t asof_end;
    struct cw *w = h->result;
    size_t at;
    int rc;

    c.asof = arg_has(a, "as_of") ? (int32_t)arg_int(a, "as_of") : hdl_today(h);
    if ((rc = expiry_filter(a, &c, e)))
        return rc;
    if (arg_has(a, "holder"))
        arg_copy(a, "holder", c.holder, sizeof(c.holder));
    asof_end = ts_of_date(c.asof + 1, 0, h->cfg->cal.offset_min) - 1;
    cw_map(w, 5);
    cw_kdate(w, "as_of", c.asof);
    cw_kint(w, "days", days);
    cw_str(w, "cards");
    at = cw_array_open(w);
    if (cards_each_expiring(h->txn, h->v, c.asof, c.asof + (int32_t)days,
                            asof_end, expiry_row, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "expiry lookup failed");
    cw_array_close(w, at, c.n);
    cw_kint(w, "count", c.total);
    cw_kbool(w, "truncated", c.total > c.n);
    h->has_result = true;
    return 0;
}

struct list_ctx {
    struct hctx *h;
    uint32_t n;
};

static int write_log_entry(void *ctx, const msgpack_object *l)
{
    struct cw *w = ((struct list_ctx *)ctx)->h->result;
    const msgpack_object *d = codec_get(l, "data");
    cw_map(w, 3);
    cw_kobj(w, "type", codec_get(l, "type"));
    cw_kobj(w, "day", codec_get(l, "day"));
    cw_kobj(w, "data", d);
    ((struct list_ctx *)ctx)->n++;
    return 0;
}

static int write_card(void *ctx, const struct card_rec *r)
{
    struct list_ctx *c = ctx, hist = {c->h, 0};
    struct cw *w = c->h->result;
    size_t at;

    if (c->n >= CARD_ROWS_MAX)
        return 1;
    cw_map(w, 11);
    cw_kstr(w, "card", r->card);
    cw_kstr(w, "kind", r->kind);
    cw_kstr(w, "unit", r->unit);
    cw_kstr(w, "holder", r->holder);
    cw_kstr(w, "holder_type", r->holder_type);
    cw_kstr(w, "status", r->status);
    cw_kdate(w, "from", r->from);
    cw_kdate(w, "until", r->until);
    cw_kint(w, "fees", r->fees);
    cw_kstr(w, "replaces", r->replaces);
    cw_str(w, "history");
    at = cw_array_open(w);
    cards_each_log(c->h->txn, c->h->v, r->card, write_log_entry, &hist);
    cw_array_close(w, at, hist.n);
    c->n++;
    return 0;
}

/* Cards of a unit or of a holder, each with its full history. */
int hdl_query_cards(struct hctx *h, const struct args *a, struct err *e)
{
    char key[UNIT_KEY_MAX];
    struct list_ctx c = {h, 0};
    bool by_unit = arg_has(a, "unit");
    size_t at;
    int rc;

    if (by_unit == arg_has(a, "holder"))
        return err_set(e, ERR_INVALID, by_unit ? "holder" : "unit",
                       "give exactly one of 'unit' and 'holder'");
    arg_copy(a, by_unit ? "unit" : "holder", key, sizeof(key));
    cw_map(h->result, 1);
    cw_str(h->result, "cards");
    at = cw_array_open(h->result);
    rc = by_unit ? cards_each_of_unit(h->txn, h->v, key, write_card, &c)
                 : cards_each_of_holder(h->txn, h->v, key, write_card, &c);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "card lookup failed");
    cw_array_close(h->result, at, c.n);
    h->has_result = true;
    return 0;
}

static int write_quarter(void *ctx, const msgpack_object *q)
{
    struct list_ctx *c = ctx;
    cw_obj(c->h->result, q);
    c->n++;
    return 0;
}

/* R-CARD-05: IC卡季度整理表 of an estate. */
int hdl_query_card_quarters(struct hctx *h, const struct args *a, struct err *e)
{
    char estate[UNIT_KEY_MAX];
    struct list_ctx c = {h, 0};
    size_t at;

    arg_copy(a, "estate", estate, sizeof(estate));
    cw_map(h->result, 2);
    cw_kstr(h->result, "estate", estate);
    cw_str(h->result, "quarters");
    at = cw_array_open(h->result);
    if (card_quarters_each(h->txn, h->v, estate,
                           arg_has(a, "year") ? (int)arg_int(a, "year") : 0,
                           write_quarter, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "reconciliation failed");
    cw_array_close(h->result, at, c.n);
    h->has_result = true;
    return 0;
}

struct lease_ctx {
    struct hctx *h;
    char prefix[UNIT_KEY_MAX + 2];
    const char *holder;
    int32_t lease_end;
    uint32_t n;
};

static int latest_lease(void *ctx, const msgpack_object *l)
{
    struct lease_ctx *c = ctx;
    const char *s;
    size_t n;
    int32_t to;
    if (codec_obj_is_str(codec_get(l, "role"), "tenant") &&
        codec_obj_is_str(codec_get(l, "person"), c->holder) &&
        !codec_get_str(l, "to", &s, &n) && !date_parse(s, n, &to) &&
        to > c->lease_end)
        c->lease_end = to;
    return 0;
}

static int past_lease_row(void *ctx, const struct card_rec *r)
{
    struct lease_ctx *c = ctx;
    struct cw *w = c->h->result;
    char d[DATE_STR_MAX];

    if (strcmp(r->status, "active") || strcmp(r->holder_type, "tenant") ||
        strncmp(r->unit, c->prefix, strlen(c->prefix)))
        return 0;
    c->holder = r->holder;
    c->lease_end = DATE_NONE;
    units_each_link(c->h->txn, c->h->v, r->unit, latest_lease, c);
    if (c->lease_end != DATE_NONE && c->lease_end >= r->until)
        return 0;
    if (c->n >= CARD_ROWS_MAX)
        return 1;
    cw_map(w, 6);
    cw_kstr(w, "card", r->card);
    cw_kstr(w, "unit", r->unit);
    cw_kstr(w, "holder", r->holder);
    cw_kdate(w, "until", r->until);
    cw_str(w, "lease_end");
    if (c->lease_end == DATE_NONE) {
        cw_nil(w);
    } else {
        date_format(c->lease_end, d);
        cw_str(w, d);
    }
    cw_kint(w, "days_over",
            c->lease_end == DATE_NONE ? 0 : r->until - c->lease_end);
    c->n++;
    return 0;
}

/* R-CARD-01: active tenant cards valid past the lease end (a lease
 * shortened after the card was issued). */
int hdl_query_cards_past_lease(struct hctx *h, const struct args *a,
                               struct err *e)
{
    struct lease_ctx c = {.h = h};
    size_t at;

    if (arg_has(a, "estate")) {
        char est[UNIT_KEY_MAX];
        arg_copy(a, "estate", est, sizeof(est));
        snprintf(c.prefix, sizeof(c.prefix), "%s/", est);
    }
    cw_map(h->result, 1);
    cw_str(h->result, "cards");
    at = cw_array_open(h->result);
    if (cards_each(h->txn, h->v, past_lease_row, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "card lookup failed");
    cw_array_close(h->result, at, c.n);
    h->has_result = true;
    return 0;
}
