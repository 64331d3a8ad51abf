/* projections/timeline.c - owns sub-db case_log: the timelines of
 * complaints and work orders (their ids never collide: C…, W…). */
#include "timeline.h"

#include <stdio.h>
#include <string.h>

#define KEY_MAX 64

int timeline_put(MDB_txn *txn, const struct views *v, const char *id,
                 const struct event *ev)
{
    unsigned char k[KEY_MAX];
    size_t n = strlen(id) + 1;
    struct cw w;
    int rc;

    if (n + 8 > sizeof(k))
        return ERR_INVALID;
    memcpy(k, id, n);
    proj_key_u64(k + n, ev->seq);
    cw_init(&w);
    cw_map(&w, 7);
    cw_kint(&w, "seq", (int64_t)ev->seq);
    cw_kstr(&w, "type", ev_type_name(ev->type));
    cw_kstrn(&w, "actor", ev->actor, ev->actor_len);
    cw_kstrn(&w, "desk", ev->desk, ev->desk_len);
    cw_kint(&w, "recorded", ev->recorded_at);
    cw_kint(&w, "occurred", ev->occurred_at);
    cw_kobj(&w, "data", ev->data);
    rc = proj_put(txn, v->dbi[DB_CASE_LOG], k, n + 8, &w);
    cw_release(&w);
    return rc;
}

int timeline_each(MDB_txn *txn, const struct views *v, const char *id,
                  proj_each_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_CASE_LOG], id, strlen(id) + 1, fn, ctx);
}

/* Where a past state is cut: by business time (seq 0), or after the event
 * at seq whatever its business time (the log as it stood then). */
struct cut {
    int64_t at;
    uint64_t seq;
};

struct fold_ctx {
    timeline_fold_fn fold;
    void *state;
    struct cut cut;
    bool seen;
};

static int fold_entry(void *ctx, const msgpack_object *e)
{
    struct fold_ctx *f = ctx;
    const msgpack_object *data = codec_get(e, "data");
    const char *type;
    size_t tl;
    int64_t at = 0, seq = 0;

    codec_get_int(e, "occurred", &at);
    codec_get_int(e, "seq", &seq);
    if ((f->cut.seq ? (uint64_t)seq > f->cut.seq : at > f->cut.at) || !data ||
        codec_get_str(e, "type", &type, &tl))
        return 0;
    f->fold(f->state, ev_type_parse(type, tl), data, at);
    f->seen = true;
    return 0;
}

static int fold_cut(MDB_txn *txn, const struct views *v, const char *id,
                    struct cut cut, timeline_fold_fn fold, void *state,
                    bool *seen)
{
    struct fold_ctx f = {fold, state, cut, false};
    int rc = timeline_each(txn, v, id, fold_entry, &f);

    *seen = f.seen;
    return rc;
}

int timeline_fold(MDB_txn *txn, const struct views *v, const char *id,
                  int64_t cutoff, timeline_fold_fn fold, void *state,
                  bool *seen)
{
    return fold_cut(txn, v, id, (struct cut){cutoff, 0}, fold, state, seen);
}

static int64_t rec_time(const void *rec, size_t off)
{
    int64_t t;
    memcpy(&t, (const char *)rec + off, sizeof(t));
    return t;
}

int case_put(MDB_txn *txn, const struct views *v, const struct case_kind *k,
             const void *rec)
{
    const char *id = (const char *)rec + k->id_off;
    struct cw w;
    int rc;

    cw_init(&w);
    k->enc(&w, rec);
    rc = proj_put(txn, v->dbi[k->records], id, strlen(id), &w);
    cw_release(&w);
    return rc;
}

/* case_get and case_get_seq: a cut by seq always folds the timeline (the
 * record's times are business times and do not tell the seq). */
static int get_cut(MDB_txn *txn, const struct views *v,
                   const struct case_kind *k, const char *id, struct cut cut,
                   void *rec)
{
    char key[KEY_MAX];
    struct codec_doc d;
    bool seen;
    int rc;

    if (strlen(id) >= sizeof(key))
        return MDB_NOTFOUND;
    snprintf(key, sizeof(key), "%s", id); /* id may point into rec */
    rc = proj_get(txn, v->dbi[k->records], key, strlen(key), &d);
    if (rc)
        return rc;
    rc = k->dec(d.obj, rec);
    codec_doc_release(&d);
    if (rc ||
        (!cut.seq && (!cut.at || rec_time(rec, k->updated_off) <= cut.at)))
        return rc ? rc
               : cut.at && rec_time(rec, k->recorded_off) > cut.at
                   ? MDB_NOTFOUND
                   : 0;
    memset(rec, 0, k->size);
    if ((rc = fold_cut(txn, v, key, cut, k->fold, rec, &seen)))
        return rc;
    return seen && ((const char *)rec)[k->id_off] ? 0 : MDB_NOTFOUND;
}

int case_get(MDB_txn *txn, const struct views *v, const struct case_kind *k,
             const char *id, int64_t cutoff, void *rec)
{
    return get_cut(txn, v, k, id, (struct cut){cutoff, 0}, rec);
}

int case_get_seq(MDB_txn *txn, const struct views *v, const struct case_kind *k,
                 const char *id, uint64_t seq, void *rec)
{
    return seq ? get_cut(txn, v, k, id, (struct cut){0, seq}, rec)
               : MDB_NOTFOUND;
}

static int each_cut(MDB_txn *txn, const struct views *v,
                    const struct case_kind *k, MDB_dbi index, struct cut cut,
                    void *rec, case_fn fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val key, val;
    int rc = mdb_cursor_open(txn, index, &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        char id[KEY_MAX];
        if (key.mv_size >= sizeof(id))
            continue;
        memcpy(id, key.mv_data, key.mv_size);
        id[key.mv_size] = '\0';
        if (get_cut(txn, v, k, id, cut, rec))
            continue;
        if ((rc = fn(ctx, rec))) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int case_each(MDB_txn *txn, const struct views *v, const struct case_kind *k,
              MDB_dbi index, int64_t cutoff, void *rec, case_fn fn, void *ctx)
{
    return each_cut(txn, v, k, index, (struct cut){cutoff, 0}, rec, fn, ctx);
}

int case_each_seq(MDB_txn *txn, const struct views *v,
                  const struct case_kind *k, MDB_dbi index, uint64_t seq,
                  void *rec, case_fn fn, void *ctx)
{
    return seq ? each_cut(txn, v, k, index, (struct cut){0, seq}, rec, fn, ctx)
               : 0;
}
