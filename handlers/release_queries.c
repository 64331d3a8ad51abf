/* handlers/release_queries.c - what the desk and the gate read about
 * goods-release passes: one pass, the passes of a day with their state,
 * and the passes waiting for the owner's confirmation (R-REL-03/04). */
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

int hdl_query_pass(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PASS_ID_MAX];
    struct codec_doc d;

    arg_copy(a, "pass", id, sizeof(id));
    if (release_get(h->txn, h->v, id, &d))
        return err_set(e, ERR_NOT_FOUND, "pass", "pass '%s' does not exist",
                       id);
    cw_obj(h->result, d.obj);
    codec_doc_release(&d);
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
