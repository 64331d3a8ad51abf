/* projections/timers.c - persisted timers (sub-dbs timers, timer_keys).
 * Written only by projections while they apply events; read by the server
 * to fire due ones. Keys sort by due time, then by timer key, so timers
 * fire in time order and ties in a fixed order. */
#include <stdio.h>
#include <string.h>

#include "projections.h"

#define TIMER_KEY_MAX 96

static size_t due_key(unsigned char *k, int64_t due, const char *key)
{
    size_t n = strlen(key);
    proj_key_u64(k, (uint64_t)due ^ 0x8000000000000000ull);
    memcpy(k + 8, key, n);
    return 8 + n;
}

int timer_clear(MDB_txn *txn, const struct views *v, const char *key)
{
    unsigned char k[8 + TIMER_KEY_MAX];
    MDB_val tk = {strlen(key), (void *)key}, tv, dk;
    int rc = mdb_get(txn, v->dbi[DB_TIMER_KEYS], &tk, &tv);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || tv.mv_size != 8)
        return rc ? rc : ERR_UNAVAILABLE;
    dk = (MDB_val){
        due_key(k,
                (int64_t)(proj_key_get_u64(tv.mv_data) ^ 0x8000000000000000ull),
                key),
        k};
    rc = mdb_del(txn, v->dbi[DB_TIMERS], &dk, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    return mdb_del(txn, v->dbi[DB_TIMER_KEYS], &tk, NULL);
}

int timer_set(MDB_txn *txn, const struct views *v, int64_t due, const char *key,
              const char *cmd, const struct cw *body)
{
    unsigned char k[8 + TIMER_KEY_MAX], d[8];
    MDB_val tk = {strlen(key), (void *)key}, tv = {8, d};
    struct cw w;
    int rc;

    if (tk.mv_size >= TIMER_KEY_MAX)
        return ERR_INVALID;
    if ((rc = timer_clear(txn, v, key)))
        return rc;
    proj_key_u64(d, (uint64_t)due ^ 0x8000000000000000ull);
    if ((rc = mdb_put(txn, v->dbi[DB_TIMER_KEYS], &tk, &tv, 0)))
        return rc;
    cw_init(&w);
    cw_map(&w, 3);
    cw_kstr(&w, "key", key);
    cw_kstr(&w, "cmd", cmd);
    cw_str(&w, "body");
    cw_raw(&w, cw_data(body), cw_len(body));
    rc = proj_put(txn, v->dbi[DB_TIMERS], k, due_key(k, due, key), &w);
    cw_release(&w);
    return rc;
}

int timer_clear_prefix(MDB_txn *txn, const struct views *v, const char *prefix)
{
    size_t pl = strlen(prefix);
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, val;
    char keys[64][TIMER_KEY_MAX];
    int n = 0, rc = mdb_cursor_open(txn, v->dbi[DB_TIMER_KEYS], &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0 && n < 64;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) ||
            k.mv_size >= TIMER_KEY_MAX)
            break;
        memcpy(keys[n], k.mv_data, k.mv_size);
        keys[n++][k.mv_size] = '\0';
    }
    mdb_cursor_close(cur);
    for (int i = 0; i < n; i++)
        if ((rc = timer_clear(txn, v, keys[i])))
            return rc;
    return 0;
}

int timer_first_after(MDB_txn *txn, const struct views *v, int64_t after_due,
                      const char *after_key, struct timer *t)
{
    unsigned char k[8 + TIMER_KEY_MAX];
    MDB_cursor *cur;
    MDB_val key, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_TIMERS], &cur);

    if (rc)
        return rc;
    if (after_key) {
        key = (MDB_val){due_key(k, after_due, after_key), k};
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc == 0 && key.mv_size == due_key(k, after_due, after_key) &&
            !memcmp(key.mv_data, k, key.mv_size))
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    } else {
        rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    }
    if (rc == 0) {
        t->due =
            (int64_t)(proj_key_get_u64(key.mv_data) ^ 0x8000000000000000ull);
        rc = codec_doc_parse_trusted(&t->doc, val.mv_data, val.mv_size, NULL);
    }
    if (rc == 0) {
        codec_copy_str(t->doc.obj, "key", t->key, sizeof(t->key));
        codec_copy_str(t->doc.obj, "cmd", t->cmd, sizeof(t->cmd));
        t->body = codec_get(t->doc.obj, "body");
    }
    mdb_cursor_close(cur);
    return rc;
}

int timer_move(MDB_txn *txn, const struct views *v, const char *id_key,
               const char *id, const char *rule, const char *cmd, int64_t due)
{
    char key[TIMER_KEY_MAX];
    struct cw body;
    int rc;

    if ((size_t)snprintf(key, sizeof(key), "%s:%s", id, rule) >= sizeof(key))
        return ERR_INVALID;
    if (!due)
        return timer_clear(txn, v, key);
    cw_init(&body);
    cw_map(&body, 3);
    cw_kstr(&body, id_key, id);
    cw_kstr(&body, "rule", rule);
    cw_kint(&body, "due", due);
    rc = timer_set(txn, v, due, key, cmd, &body);
    cw_release(&body);
    return rc;
}

int timer_arm(MDB_txn *txn, const struct views *v, const char *key,
              const char *cmd, const char *const *ids, int64_t due)
{
    struct cw body;
    uint32_t n = 0;
    int rc;

    if (!due)
        return timer_clear(txn, v, key);
    while (ids[n * 2])
        n++;
    cw_init(&body);
    cw_map(&body, n + 1);
    for (uint32_t i = 0; i < n; i++)
        cw_kstr(&body, ids[i * 2], ids[i * 2 + 1]);
    cw_kint(&body, "due", due);
    rc = timer_set(txn, v, due, key, cmd, &body);
    cw_release(&body);
    return rc;
}
