/* handlers/renovation_queries.c - what the desk reads about renovations:
 * the register's current state judged on a day (default today): active
 * renovations with their end dates and which are overdue, deposits held,
 * refunds due, violations past their rectification deadline (R-REN-02,
 * R-REN-03, R-REN-05); and one renovation with its passes and
 * violations. */
#include <stdio.h>
#include <string.h>

#include "../projections/renovation.h"
#include "handlers.h"

#define REN_ROWS_MAX 500 /* rows in one list of a reply; counts have all */

struct list_ctx {
    struct hctx *h;
    int32_t day;
    const char *prefix; /* units starting with it; "" for all */
    uint32_t n;
    int64_t total;
    size_t at;
    bool explain; /* explain=true: a why beside each deadline */
};

static bool in_scope(const struct list_ctx *c, const struct ren_rec *r)
{
    return !strncmp(r->unit, c->prefix, strlen(c->prefix));
}

static bool active(const struct ren_rec *r)
{
    return r->refunded_on == DATE_NONE && strcmp(r->completion, "passed");
}

/* why.end of an active renovation: the filing or extension that set
 * the end (R-REN-02), the day it passes, whether that makes it overdue. */
static int why_term_end(struct list_ctx *c, const struct ren_rec *r)
{
    struct cw *w = c->h->result;
    char stream[REN_ID_MAX + 16], end[DATE_STR_MAX], day[DATE_STR_MAX];
    struct why y;
    int rc;

    snprintf(stream, sizeof(stream), "renovation:%s", r->id);
    date_format(r->end, end);
    date_format(c->day, day);
    cw_str(w, "why");
    cw_map(w, 1);
    why_begin(&y, c->h, "end");
    rc = why_set_by(&y, stream, EV_UNKNOWN, "end_due", NULL, r->end_due,
                    "R-REN-02", "sets the term's end: %s", end);
    if (r->end_due)
        why_day_due(&y, "R-REN-02", r->end, r->end_due);
    why_fact(&y, "rule", "R-REN-02",
             "a term is at most 3 months, extended at most 3 months at a "
             "time; on %s it is %s (the end %s %s)",
             day, r->end < c->day ? "overdue" : "not overdue", end,
             r->end < c->day ? "is past" : "is not past");
    if (r->passes_out > 0)
        why_fact(&y, "rule", "R-REN-04",
                 "%d worker pass(es) still out: all are due back by the same "
                 "end (renovation.passes_overdue when they are not)",
                 (int)r->passes_out);
    why_end(&y);
    return rc;
}

static int row_active(void *ctx, const struct ren_rec *r)
{
    struct list_ctx *c = ctx;
    struct cw *w = c->h->result;
    if (!in_scope(c, r) || !active(r))
        return 0;
    c->total += r->end < c->day;
    if (c->n++ >= REN_ROWS_MAX)
        return 0;
    cw_map(w, 8 + (c->explain ? 1 : 0));
    cw_kstr(w, "renovation", r->id);
    cw_kstr(w, "unit", r->unit);
    cw_kstr(w, "owner", r->owner);
    cw_kstr(w, "contractor", r->contractor);
    cw_kdate(w, "start", r->start);
    cw_kdate(w, "end", r->end);
    cw_kbool(w, "overdue", r->end < c->day);
    cw_kint(w, "passes_out", r->passes_out);
    return c->explain ? why_term_end(c, r) : 0;
}

static int row_held(void *ctx, const struct ren_rec *r)
{
    struct list_ctx *c = ctx;
    struct cw *w = c->h->result;
    int64_t held = r->owner_paid + r->contractor_paid - r->refunded;
    if (!in_scope(c, r) || held <= 0)
        return 0;
    c->total += held;
    if (c->n++ >= REN_ROWS_MAX)
        return 0;
    cw_map(w, 4);
    cw_kstr(w, "renovation", r->id);
    cw_kstr(w, "unit", r->unit);
    cw_kint(w, "owner", r->owner_paid);
    cw_kint(w, "contractor", r->contractor_paid);
    return 0;
}

/* Passed the completion inspection, not yet refunded: from when, and
 * whether anything still stands in the way (R-REN-04, R-REN-05). */
static int row_refund(void *ctx, const struct ren_rec *r)
{
    struct list_ctx *c = ctx;
    struct cw *w = c->h->result;
    const char *block = c->day < r->refund_from  ? "waiting"
                        : r->passes_out > 0      ? "passes_out"
                        : r->open_violations > 0 ? "open_violations"
                                                 : "";
    if (!in_scope(c, r) || strcmp(r->completion, "passed") ||
        r->refunded_on != DATE_NONE)
        return 0;
    if (c->n++ >= REN_ROWS_MAX)
        return 0;
    cw_map(w, 7);
    cw_kstr(w, "renovation", r->id);
    cw_kstr(w, "unit", r->unit);
    cw_kint(w, "amount", r->owner_paid + r->contractor_paid - r->refunded);
    cw_kdate(w, "from", r->refund_from);
    cw_kbool(w, "provisional", r->refund_provisional); /* R-GEN-05 */
    cw_kbool(w, "due", !block[0]);
    cw_kstr(w, "blocked_by", block);
    return 0;
}

struct viol_ctx {
    struct list_ctx *c;
    const struct ren_rec *r;
};

/* why.deadline of a violation past its deadline: the inspection that
 * found it and set the deadline (R-REN-05), the day it passed. */
static int why_viol(struct viol_ctx *vc, const msgpack_object *m, int32_t dl)
{
    struct list_ctx *c = vc->c;
    struct cw *w = c->h->result;
    char stream[REN_ID_MAX + 16], viol[32] = "", notice[64] = "", kind[32] = "",
                                  d[DATE_STR_MAX];
    int64_t due = 0;
    struct why y;
    int rc;

    snprintf(stream, sizeof(stream), "renovation:%s", vc->r->id);
    codec_copy_str(m, "violation", viol, sizeof(viol));
    codec_copy_str(m, "notice", notice, sizeof(notice));
    codec_copy_str(m, "kind", kind, sizeof(kind));
    codec_get_int(m, "deadline_due", &due);
    date_format(dl, d);
    cw_str(w, "why");
    cw_map(w, 1);
    why_begin(&y, c->h, "deadline");
    rc = why_set_by(&y, stream, EV_REN_VIOLATION_FOUND, "violation", viol, 0,
                    "R-REN-05",
                    "violation %s (%s) found: rectification notice %s, "
                    "rectify by %s",
                    viol, kind, notice, d);
    if (due)
        why_day_due(&y, "R-REN-05", dl, due);
    why_end(&y);
    return rc;
}

static int row_viol(void *ctx, const msgpack_object *m)
{
    struct viol_ctx *vc = ctx;
    struct cw *w = vc->c->h->result;
    const msgpack_object *rect = codec_get(m, "rectified");
    const char *s;
    size_t n;
    int32_t dl;

    if ((rect && rect->type != MSGPACK_OBJECT_NIL) ||
        codec_get_str(m, "deadline", &s, &n) || date_parse(s, n, &dl) ||
        dl >= vc->c->day || vc->c->n++ >= REN_ROWS_MAX)
        return 0;
    cw_map(w, 6 + (vc->c->explain ? 1 : 0));
    cw_kstr(w, "renovation", vc->r->id);
    cw_kstr(w, "unit", vc->r->unit);
    cw_kobj(w, "violation", codec_get(m, "violation"));
    cw_kobj(w, "kind", codec_get(m, "kind"));
    cw_kobj(w, "notice", codec_get(m, "notice"));
    cw_kobj(w, "deadline", codec_get(m, "deadline"));
    return vc->c->explain ? why_viol(vc, m, dl) : 0;
}

static int rows_viol(void *ctx, const struct ren_rec *r)
{
    struct list_ctx *c = ctx;
    struct viol_ctx vc = {c, r};
    if (!in_scope(c, r) || r->open_violations <= 0)
        return 0;
    return ren_each_violation(c->h->txn, c->h->v, r->id, row_viol, &vc);
}

/* Writes key: [rows] and returns the row count (or total, when asked). */
static int section(struct list_ctx *c, const char *key, ren_fn fn)
{
    struct cw *w = c->h->result;
    int rc;
    c->n = 0;
    c->total = 0;
    cw_str(w, key);
    c->at = cw_array_open(w);
    rc = ren_each(c->h->txn, c->h->v, fn, c);
    cw_array_close(w, c->at, c->n < REN_ROWS_MAX ? c->n : REN_ROWS_MAX);
    return rc;
}

int hdl_query_renovations(struct hctx *h, const struct args *a, struct err *e)
{
    char prefix[64] = "";
    struct list_ctx c = {h, 0, prefix, 0, 0, 0, hdl_explain(a)};
    struct cw *w = h->result;

    c.day = arg_has(a, "as_of") ? (int32_t)arg_int(a, "as_of") : hdl_today(h);
    if (arg_has(a, "unit"))
        arg_copy(a, "unit", prefix, sizeof(prefix));
    cw_map(w, 8);
    cw_kdate(w, "as_of", c.day);
    if (section(&c, "active", row_active))
        goto fail;
    cw_kint(w, "active_count", c.n);
    cw_kint(w, "overdue_count", c.total);
    if (section(&c, "deposits", row_held))
        goto fail;
    cw_kint(w, "deposits_held", c.total);
    if (section(&c, "refunds", row_refund) ||
        section(&c, "violations_overdue", rows_viol))
        goto fail;
    h->has_result = true;
    return 0;
fail:
    return err_set(e, ERR_UNAVAILABLE, NULL, "renovation lookup failed");
}

static int write_doc(void *ctx, const msgpack_object *m)
{
    struct list_ctx *c = ctx;
    cw_obj(c->h->result, m);
    c->n++;
    return 0;
}

int hdl_query_renovation(struct hctx *h, const struct args *a, struct err *e)
{
    char id[REN_ID_MAX];
    struct list_ctx c = {h, 0, "", 0, 0, 0, false};
    struct codec_doc d;
    struct cw *w = h->result;
    int rc;

    arg_copy(a, "renovation", id, sizeof(id));
    if (proj_get(h->txn, h->v->dbi[DB_RENOS], id, strlen(id), &d))
        return err_set(e, ERR_NOT_FOUND, "renovation",
                       "renovation '%s' is not on file", id);
    cw_map(w, 3);
    cw_str(w, "renovation");
    cw_obj(w, d.obj);
    codec_doc_release(&d);
    cw_str(w, "passes");
    c.at = cw_array_open(w);
    rc = ren_each_pass(h->txn, h->v, id, write_doc, &c);
    cw_array_close(w, c.at, c.n);
    c.n = 0;
    cw_str(w, "violations");
    c.at = cw_array_open(w);
    rc = rc ? rc : ren_each_violation(h->txn, h->v, id, write_doc, &c);
    cw_array_close(w, c.at, c.n);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "renovation lookup failed");
    h->has_result = true;
    return 0;
}
