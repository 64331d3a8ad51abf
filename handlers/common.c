/* handlers/common.c - helpers shared by handlers: today's date and list
 * arguments. (Masking of personal data is core/mask.c.) */
#include <string.h>

#include "../projections/timeline.h"
#include "handlers.h"

int32_t hdl_today(const struct hctx *h)
{
    return date_of_ts(h->now, h->cfg->cal.offset_min);
}

int64_t hdl_due(const struct hctx *h, const struct deadline *d, int64_t from,
                struct hdl_prov *p, const char *key)
{
    int64_t due = deadline_apply(d, &h->cfg->cal, from);

    if (p && p->n < HDL_PROV_MAX &&
        deadline_provisional(d, &h->cfg->cal, from, due))
        p->key[p->n++] = key;
    return due;
}

int64_t hdl_day_due(const struct hctx *h, int32_t day, struct hdl_prov *p,
                    const char *key)
{
    const struct calendar *c = &h->cfg->cal;
    int32_t next = cal_add_workdays(c, day, 1);

    if (p && p->n < HDL_PROV_MAX &&
        (!cal_covers(c, day) || !cal_covers(c, next)))
        p->key[p->n++] = key;
    return ts_of_date(next, cal_hours_of(c, next).open, c->offset_min);
}

uint32_t hdl_kprov(struct cw *w, const struct hdl_prov *p)
{
    if (!p->n)
        return 0;
    cw_str(w, "provisional");
    cw_array(w, (uint32_t)p->n);
    for (int i = 0; i < p->n; i++)
        cw_str(w, p->key[i]);
    return 1;
}

void hdl_kpercent(struct cw *w, const char *key, uint64_t num, uint64_t den)
{
    if (!den)
        cw_knil(w, key);
    else
        cw_kint(w, key, (int64_t)((num * 200 + den) / (den * 2)));
}

bool arg_strs_has(const struct args *a, const char *field, const char *s)
{
    const msgpack_object *l = arg(a, field)->o;
    for (uint32_t i = 0; arg_has(a, field) && i < l->via.array.size; i++)
        if (codec_obj_is_str(&l->via.array.ptr[i], s))
            return true;
    return false;
}

const char *arg_strs_missing(const struct args *a, const char *field,
                             const char *const *need)
{
    for (int i = 0; need[i]; i++)
        if (!arg_strs_has(a, field, need[i]))
            return need[i];
    return NULL;
}

/* ---- a case's timeline as a desk reads it ---- */

struct tl_ctx {
    struct cw *w;
    int off;
    uint32_t n;
};

static int timeline_entry(void *ctx, const msgpack_object *m)
{
    struct tl_ctx *t = ctx;
    int64_t rec = 0, occ = 0;
    const msgpack_object *o;

    codec_get_int(m, "recorded", &rec);
    codec_get_int(m, "occurred", &occ);
    cw_map(t->w, 6);
    cw_kobj(t->w, "seq", codec_get(m, "seq"));
    cw_kobj(t->w, "type", codec_get(m, "type"));
    o = codec_get(m, "actor");
    cw_kobj(t->w, "actor", o);
    cw_kts(t->w, "recorded_at", rec, t->off);
    cw_kts(t->w, "occurred_at", occ, t->off);
    cw_str(t->w, "data"); /* R-GEN-02: contacts and phones masked */
    mask_msgpack(t->w, codec_get(m, "data"));
    t->n++;
    return 0;
}

int hdl_timeline(struct hctx *h, const char *id)
{
    struct tl_ctx t = {h->result, h->cfg->cal.offset_min, 0};
    size_t at = cw_array_open(h->result);
    int rc = timeline_each(h->txn, h->v, id, timeline_entry, &t);

    cw_array_close(h->result, at, t.n);
    return rc;
}
