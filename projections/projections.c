/* projections/projections.c - the projection table, sub-db opening and the
 * event decoder shared by the live path and replay. */
#include "projections.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "../core/date.h"
#include "../core/log.h"
#include "card_quarters.h"
#include "cards.h"
#include "complaints.h"
#include "fees.h"
#include "movein.h"
#include "release.h"
#include "renovation.h"
#include "units.h"
#include "visits.h"
#include "workorders.h"

const char *const proj_db_names[DB_COUNT] = {
#define X(n, s) [DB_##n] = s,
    PROJ_DBS(X)
#undef X
};

static const struct projection projections[] = {
    {"units", proj_units_apply},
    {"fees", proj_fees_apply},
    {"complaints", proj_complaints_apply},
    {"cards", proj_cards_apply},
    {"card_quarters", proj_card_quarters_apply},
    {"workorders", proj_workorders_apply},
    {"release", proj_release_apply},
    {"visits", proj_visits_apply},
    {"renovation", proj_renovation_apply},
    {"movein", proj_movein_apply},
};

static int open_views(MDB_txn *dtxn, bool create, struct views **out,
                      struct err *e)
{
    struct views *v = malloc(sizeof(*v));
    int rc;
    if (!v)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    if ((rc = views_open(dtxn, v, create, e))) {
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

static void free_views(struct views *v)
{
    free(v);
}

const struct derived_ops derived_ops = {open_views, free_views, proj_derive,
                                        timer_first_after};

int views_open(MDB_txn *txn, struct views *v, bool create, struct err *e)
{
    for (int i = 0; i < DB_COUNT; i++) {
        int rc = log_dbi(txn, proj_db_names[i], create, &v->dbi[i], e);
        if (rc)
            return rc;
    }
    return 0;
}

int proj_apply(MDB_txn *txn, const struct views *v, const struct event *ev)
{
    for (size_t i = 0; i < sizeof(projections) / sizeof(*projections); i++) {
        int rc = projections[i].apply(txn, v, ev);
        if (rc) {
            diag_warn("projection '%s' failed on seq %llu: %d",
                      projections[i].name, (unsigned long long)ev->seq, rc);
            return rc;
        }
    }
    return 0;
}

int proj_derive(void *views, MDB_txn *dtxn, uint64_t seq,
                const msgpack_object *body)
{
    struct event ev;
    (void)seq;
    if (event_from(&ev, body, NULL))
        return MDB_CORRUPTED;
    return proj_apply(dtxn, views, &ev);
}

int event_from(struct event *ev, const msgpack_object *o, struct err *e)
{
    const char *s;
    size_t n;
    int64_t i;

    memset(ev, 0, sizeof(*ev));
    if (codec_get_int(o, "seq", &i) || i < 1)
        goto bad;
    ev->seq = (uint64_t)i;
    if (codec_get_str(o, "type", &s, &n))
        goto bad;
    ev->type = ev_type_parse(s, n);
    if (codec_get_str(o, "stream", &ev->stream, &ev->stream_len) ||
        codec_get_int(o, "version", &i) ||
        codec_get_str(o, "actor", &ev->actor, &ev->actor_len) ||
        codec_get_str(o, "recorded_at", &s, &n) ||
        ts_parse(s, n, 0, &ev->recorded_at) || n < 10 ||
        date_parse(s, 10, &ev->recorded_day))
        goto bad;
    ev->version = (uint64_t)i;
    if (codec_get_str(o, "desk", &ev->desk, &ev->desk_len)) {
        ev->desk = "";
        ev->desk_len = 0;
    }
    ev->occurred_at = ev->recorded_at;
    if (!codec_get_str(o, "occurred_at", &s, &n) &&
        ts_parse(s, n, 0, &ev->occurred_at))
        goto bad;
    ev->data = codec_get(o, "data");
    if (!ev->data || ev->data->type != MSGPACK_OBJECT_MAP)
        goto bad;
    return 0;
bad:
    return err_set(e, ERR_UNAVAILABLE, NULL, "event body is missing keys");
}

int event_parse(struct event *ev, struct codec_doc *doc, const char *body,
                size_t len, struct err *e)
{
    int rc = codec_doc_parse_trusted(doc, body, len, e);
    if (rc)
        return rc;
    if ((rc = event_from(ev, doc->obj, e)))
        codec_doc_release(doc);
    return rc;
}

int proj_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
             const struct cw *val)
{
    MDB_val k = {klen, (void *)key}, v = {cw_len(val), (void *)cw_data(val)};
    return mdb_put(txn, dbi, &k, &v, 0);
}

int proj_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
             struct codec_doc *doc)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc || !doc)
        return rc;
    return codec_doc_parse_trusted(doc, v.mv_data, v.mv_size, NULL);
}

int proj_update_field(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                      const char *field, const msgpack_object *val)
{
    struct codec_doc d;
    struct cw w;
    const msgpack_object *m;
    uint32_t n = 0;
    size_t at;
    int rc = proj_get(txn, dbi, key, klen, &d);

    if (rc)
        return rc;
    m = d.obj;
    cw_init(&w);
    at = cw_map_open(&w);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        if (codec_obj_is_str(&m->via.map.ptr[i].key, field))
            continue;
        cw_obj(&w, &m->via.map.ptr[i].key);
        cw_obj(&w, &m->via.map.ptr[i].val);
        n++;
    }
    cw_kobj(&w, field, val);
    cw_map_close(&w, at, n + 1);
    rc = proj_put(txn, dbi, key, klen, &w);
    cw_release(&w);
    codec_doc_release(&d);
    return rc;
}

void proj_key_day(unsigned char *p, int32_t day)
{
    uint32_t v = htobe32((uint32_t)day ^ 0x80000000u);
    memcpy(p, &v, 4);
}

int32_t proj_key_get_day(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return (int32_t)(be32toh(v) ^ 0x80000000u);
}

void proj_key_u64(unsigned char *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
}

uint64_t proj_key_get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

int proj_each(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t pl,
              proj_each_fn fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, val;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, pl ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct codec_doc d;
        if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl))
            break;
        if (codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        rc = fn(ctx, d.obj);
        codec_doc_release(&d);
        if (rc) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

bool proj_provisional(const msgpack_object *d, const char *key)
{
    const msgpack_object *l = codec_get(d, "provisional");

    for (uint32_t i = 0;
         l && l->type == MSGPACK_OBJECT_ARRAY && i < l->via.array.size; i++)
        if (codec_obj_is_str(&l->via.array.ptr[i], key))
            return true;
    return false;
}

void proj_prov_set(unsigned *mask, unsigned bit, const msgpack_object *d,
                   const char *key)
{
    if (proj_provisional(d, key))
        *mask |= 1u << bit;
    else
        *mask &= ~(1u << bit);
}
