/* projections/release.c - read model of goods-release passes (R-REL-01..04).
 * Owns sub-dbs passes (pass -> record), day_passes (day pass -> nil) and
 * pending_passes (pass -> nil while it waits for a confirmation). Reads
 * only the event and its own tables, so a replay reproduces them. */
#include "release.h"

#include <stdio.h>
#include <string.h>

#include "../core/date.h"

#define RKEY_MAX (4 + PASS_ID_MAX) /* day_passes key */

static int put_nil(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl)
{
    static const unsigned char nil = 0xc0;
    MDB_val key = {kl, (void *)k}, val = {1, (void *)&nil};
    return mdb_put(txn, dbi, &key, &val, 0);
}

static int del_key(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl)
{
    MDB_val key = {kl, (void *)k};
    int rc = mdb_del(txn, dbi, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int set_str(MDB_txn *txn, const struct views *v, const char *pass,
                   const char *field, const char *s)
{
    msgpack_object o = {.type = MSGPACK_OBJECT_STR};
    o.via.str.ptr = s;
    o.via.str.size = (uint32_t)strlen(s);
    return proj_update_field(txn, v->dbi[DB_PASSES], pass, strlen(pass), field,
                             &o);
}

/* The pass's expiry timer "<pass>:expiry", armed from the request's
 * expires_due (R-REL-04), cleared by use or expiry (data NULL). */
static int arm_expiry(MDB_txn *txn, const struct views *v, uint64_t seq,
                      const char *pass, const msgpack_object *data)
{
    const char *ids[] = {"pass", pass, NULL};
    char key[PASS_ID_MAX + 8];
    int64_t due = 0;

    if (data)
        codec_get_int(data, "expires_due", &due);
    snprintf(key, sizeof(key), "%s:expiry", pass);
    return timer_arm(txn, v, seq, key, "release.expire", ids, due);
}

static int apply_requested(MDB_txn *txn, const struct views *v,
                           const struct event *ev, const char *pass)
{
    unsigned char k[RKEY_MAX];
    char state[16];
    const char *s;
    size_t n, pl = strlen(pass);
    int32_t day;
    struct cw w;
    int rc;

    if (codec_get_str(ev->data, "date", &s, &n) || date_parse(s, n, &day))
        return ERR_UNAVAILABLE;
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_PASSES], pass, pl, &w);
    cw_release(&w);
    if (rc)
        return rc;
    proj_key_day(k, day);
    memcpy(k + 4, pass, pl);
    if ((rc = put_nil(txn, v->dbi[DB_DAY_PASSES], k, 4 + pl)))
        return rc;
    codec_copy_str(ev->data, "state", state, sizeof(state));
    if (!strcmp(state, "pending") &&
        (rc = put_nil(txn, v->dbi[DB_PENDING_PASSES], pass, pl)))
        return rc;
    return arm_expiry(txn, v, ev->seq, pass, ev->data);
}

int proj_release_apply(MDB_txn *txn, const struct views *v,
                       const struct event *ev)
{
    char pass[PASS_ID_MAX];
    int rc;

    if (ev->type != EV_PASS_REQUESTED && ev->type != EV_PASS_CONFIRMED &&
        ev->type != EV_PASS_USED && ev->type != EV_PASS_EXPIRED)
        return 0;
    if (!codec_copy_str(ev->data, "pass", pass, sizeof(pass)))
        return ERR_UNAVAILABLE;
    switch (ev->type) {
    case EV_PASS_REQUESTED:
        return apply_requested(txn, v, ev, pass);
    case EV_PASS_CONFIRMED:
        if ((rc = set_str(txn, v, pass, "state", "issued")) ||
            (rc = proj_update_field(txn, v->dbi[DB_PASSES], pass, strlen(pass),
                                    "confirmation", ev->data)))
            return rc;
        return del_key(txn, v->dbi[DB_PENDING_PASSES], pass, strlen(pass));
    case EV_PASS_EXPIRED: /* never used: off the pending list too */
        if ((rc = set_str(txn, v, pass, "state", "expired")) ||
            (rc = proj_update_field(txn, v->dbi[DB_PASSES], pass, strlen(pass),
                                    "expired", codec_get(ev->data, "due"))) ||
            (rc = del_key(txn, v->dbi[DB_PENDING_PASSES], pass, strlen(pass))))
            return rc;
        return arm_expiry(txn, v, ev->seq, pass, NULL);
    default: /* EV_PASS_USED */
        if ((rc = set_str(txn, v, pass, "state", "used")) ||
            (rc = proj_update_field(txn, v->dbi[DB_PASSES], pass, strlen(pass),
                                    "use", ev->data)))
            return rc;
        return arm_expiry(txn, v, ev->seq, pass, NULL);
    }
}

int release_get(MDB_txn *txn, const struct views *v, const char *pass,
                struct codec_doc *doc)
{
    return proj_get(txn, v->dbi[DB_PASSES], pass, strlen(pass), doc);
}

/* Walks an index whose keys are prefix + pass id and hands each pass
 * record to fn. */
static int walk_index(MDB_txn *txn, const struct views *v, MDB_dbi dbi,
                      const void *prefix, size_t pl, proj_each_fn fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, val;
    int rc = mdb_cursor_open(txn, dbi, &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, pl ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        char pass[PASS_ID_MAX];
        struct codec_doc d;
        size_t n = k.mv_size - pl;
        if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) ||
            n >= sizeof(pass))
            break;
        memcpy(pass, (const char *)k.mv_data + pl, n);
        pass[n] = '\0';
        if (release_get(txn, v, pass, &d))
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

int release_each_of_day(MDB_txn *txn, const struct views *v, int32_t day,
                        proj_each_fn fn, void *ctx)
{
    unsigned char k[4];
    proj_key_day(k, day);
    return walk_index(txn, v, v->dbi[DB_DAY_PASSES], k, 4, fn, ctx);
}

int release_each_pending(MDB_txn *txn, const struct views *v, proj_each_fn fn,
                         void *ctx)
{
    return walk_index(txn, v, v->dbi[DB_PENDING_PASSES], "", 0, fn, ctx);
}
