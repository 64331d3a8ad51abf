/* projections/projections.c - the projection table, sub-db opening and the
 * event decoder shared by the live path and replay. */
#include "projections.h"

#include <string.h>

#include "../core/date.h"
#include "../core/log.h"
#include "units.h"

const char *const proj_db_names[DB_COUNT] = {
#define X(n, s) [DB_##n] = s,
    PROJ_DBS(X)
#undef X
};

static const struct projection projections[] = {
    {"units", proj_units_apply},
};

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

int event_parse(struct event *ev, struct codec_doc *doc, const char *body,
                size_t len, struct err *e)
{
    const char *s;
    size_t n;
    int64_t i;
    int rc = codec_doc_parse_trusted(doc, body, len, e);

    if (rc)
        return rc;
    memset(ev, 0, sizeof(*ev));
    if (codec_get_int(doc->obj, "seq", &i) || i < 1)
        goto bad;
    ev->seq = (uint64_t)i;
    if (codec_get_str(doc->obj, "type", &s, &n))
        goto bad;
    ev->type = ev_type_parse(s, n);
    if (codec_get_str(doc->obj, "stream", &ev->stream, &ev->stream_len) ||
        codec_get_int(doc->obj, "version", &i) ||
        codec_get_str(doc->obj, "actor", &ev->actor, &ev->actor_len) ||
        codec_get_str(doc->obj, "recorded_at", &s, &n) ||
        ts_parse(s, n, 0, &ev->recorded_at))
        goto bad;
    ev->version = (uint64_t)i;
    ev->occurred_at = ev->recorded_at;
    if (!codec_get_str(doc->obj, "occurred_at", &s, &n) &&
        ts_parse(s, n, 0, &ev->occurred_at))
        goto bad;
    ev->data = codec_get(doc->obj, "data");
    if (!ev->data || ev->data->type != MSGPACK_OBJECT_MAP)
        goto bad;
    return 0;
bad:
    codec_doc_release(doc);
    return err_set(e, ERR_UNAVAILABLE, NULL, "event body is missing keys");
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
    if (rc)
        return rc;
    return codec_doc_parse_trusted(doc, v.mv_data, v.mv_size, NULL);
}
