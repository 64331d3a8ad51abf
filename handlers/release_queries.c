/* handlers/release_queries.c - what the desk and the gate read about
 * goods-release passes: one pass, the passes of a day with their state,
 * and the passes waiting for the owner's confirmation (R-REL-03/04). */
#include <stdio.h>
#include <string.h>

#include "../projections/release.h"
#include "handlers.h"

struct pass_list {
    struct hctx *h;
    const char *prefix; /* unit prefix ("HY/", "HY/3-") or "" */
    uint32_t n;
};

static int write_pass(void *ctx, const msgpack_object *p)
{
    struct pass_list *c = ctx;
    char unit[64];
    codec_copy_str(p, "unit", unit, sizeof(unit));
    if (strncmp(unit, c->prefix, strlen(c->prefix)))
        return 0;
    cw_obj(c->h->result, p);
    c->n++;
    return 0;
}

/* why.expires_due of pass id (record p): the request that set it
 * (R-REL-04: valid once, on its date) and the day it passes. */
static int pass_why(struct hctx *h, const char *id, const msgpack_object *p)
{
    char stream[PASS_ID_MAX + 8], day[DATE_STR_MAX] = "", when[TS_STR_MAX];
    int64_t due = 0;
    int32_t d;
    const char *s;
    size_t n;
    struct why y;
    int rc;

    snprintf(stream, sizeof(stream), "pass:%s", id);
    codec_get_int(p, "expires_due", &due);
    codec_copy_str(p, "date", day, sizeof(day));
    ts_format(due, h->cfg->cal.offset_min, when);
    cw_str(h->result, "why");
    cw_map(h->result, 1);
    why_begin(&y, h, "expires_due");
    rc = why_set_by(&y, stream, EV_PASS_REQUESTED, "expires_due", NULL, due,
                    "R-REL-04",
                    "requests the pass for %s: used once, on that day; "
                    "expired unused at %s",
                    day, when);
    if (due && !codec_get_str(p, "date", &s, &n) && !date_parse(s, n, &d))
        why_day_due(&y, "R-REL-04", d, due);
    why_end(&y);
    return rc;
}

int hdl_query_pass(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PASS_ID_MAX];
    struct codec_doc d;
    const msgpack_object *m;
    int rc = 0;

    arg_copy(a, "pass", id, sizeof(id));
    if (release_get(h->txn, h->v, id, &d))
        return err_set(e, ERR_NOT_FOUND, "pass", "pass '%s' does not exist",
                       id);
    m = d.obj;
    if (!hdl_explain(a) || m->type != MSGPACK_OBJECT_MAP) {
        cw_obj(h->result, m);
    } else { /* the record and its why */
        cw_map(h->result, m->via.map.size + 1);
        for (uint32_t i = 0; i < m->via.map.size; i++) {
            cw_obj(h->result, &m->via.map.ptr[i].key);
            cw_obj(h->result, &m->via.map.ptr[i].val);
        }
        rc = pass_why(h, id, m);
    }
    codec_doc_release(&d);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "pass lookup failed");
    h->has_result = true;
    return 0;
}

/* Passes of a day, each with its state (pending, issued, used). */
int hdl_query_passes(struct hctx *h, const struct args *a, struct err *e)
{
    char prefix[64] = "";
    struct pass_list c = {h, prefix, 0};
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    size_t at;

    if (arg_has(a, "unit_prefix"))
        arg_copy(a, "unit_prefix", prefix, sizeof(prefix));
    cw_map(h->result, 2);
    cw_kdate(h->result, "date", day);
    cw_str(h->result, "passes");
    at = cw_array_open(h->result);
    if (release_each_of_day(h->txn, h->v, day, write_pass, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "pass lookup failed");
    cw_array_close(h->result, at, c.n);
    h->has_result = true;
    return 0;
}

/* R-REL-03: tenants' passes waiting for a confirmation. */
int hdl_query_pass_pending(struct hctx *h, const struct args *a, struct err *e)
{
    char prefix[64] = "";
    struct pass_list c = {h, prefix, 0};
    size_t at;

    if (arg_has(a, "unit_prefix"))
        arg_copy(a, "unit_prefix", prefix, sizeof(prefix));
    cw_map(h->result, 1);
    cw_str(h->result, "pending");
    at = cw_array_open(h->result);
    if (release_each_pending(h->txn, h->v, write_pass, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "pass lookup failed");
    cw_array_close(h->result, at, c.n);
    h->has_result = true;
    return 0;
}
