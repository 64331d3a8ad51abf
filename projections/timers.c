/* projections/timers.c - persisted timers (sub-dbs timers, timer_keys,
 * timer_log). Written only by projections while they apply events; read by
 * the server to fire due ones. Keys sort by due time, then by timer key, so
 * timers fire in time order and ties in a fixed order.
 *
 * timer_log keeps every timer ever armed with the seq of the event that
 * armed it and of the one that cleared it, so the timers that were live
 * after any seq can be read again (the shift handover's next deadlines,
 * docs/HANDOVER.md). Like the other tables it is a function of the log. */
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

/* timer_log's key: due, the seq that armed it, the timer key. */
static size_t log_key(unsigned char *k, int64_t due, uint64_t set,
                      const char *key)
{
    size_t n = strlen(key);
    proj_key_u64(k, (uint64_t)due ^ 0x8000000000000000ull);
    proj_key_u64(k + 8, set);
    memcpy(k + 16, key, n);
    return 16 + n;
}

/* Marks the timer_log entry (due, set, key) cleared at seq; an entry armed
 * and cleared by the same event was never live after any seq and goes. */
static int log_cleared(MDB_txn *txn, const struct views *v, int64_t due,
                       uint64_t set, const char *key, uint64_t seq)
{
    unsigned char k[16 + TIMER_KEY_MAX];
    size_t kn = log_key(k, due, set, key);
    msgpack_object o = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER};
    MDB_val lk = {kn, k};
    int rc;

    if (set == seq) {
        rc = mdb_del(txn, v->dbi[DB_TIMER_LOG], &lk, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    o.via.u64 = seq;
    rc = proj_update_field(txn, v->dbi[DB_TIMER_LOG], k, kn, "cleared", &o);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int timer_clear(MDB_txn *txn, const struct views *v, uint64_t seq,
                const char *key)
{
    unsigned char k[8 + TIMER_KEY_MAX];
    MDB_val tk = {strlen(key), (void *)key}, tv, dk;
    int64_t due;
    uint64_t set;
    int rc = mdb_get(txn, v->dbi[DB_TIMER_KEYS], &tk, &tv);

    if (rc == MDB_NOTFOUND)
        return 0;
    /* 8 bytes: armed before timer_log existed (no entry to close) */
    if (rc || (tv.mv_size != 8 && tv.mv_size != 16))
        return rc ? rc : ERR_UNAVAILABLE;
    due = (int64_t)(proj_key_get_u64(tv.mv_data) ^ 0x8000000000000000ull);
    set = tv.mv_size == 16
              ? proj_key_get_u64((const unsigned char *)tv.mv_data + 8)
              : 0;
    dk = (MDB_val){due_key(k, due, key), k};
    rc = mdb_del(txn, v->dbi[DB_TIMERS], &dk, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (set && (rc = log_cleared(txn, v, due, set, key, seq)))
        return rc;
    return mdb_del(txn, v->dbi[DB_TIMER_KEYS], &tk, NULL);
}

int timer_set(MDB_txn *txn, const struct views *v, uint64_t seq, int64_t due,
              const char *key, const char *cmd, const struct cw *body)
{
    unsigned char k[16 + TIMER_KEY_MAX], d[16];
    MDB_val tk = {strlen(key), (void *)key}, tv = {16, d};
    struct cw w;
    int rc;

    if (tk.mv_size >= TIMER_KEY_MAX)
        return ERR_INVALID;
    if ((rc = timer_clear(txn, v, seq, key)))
        return rc;
    proj_key_u64(d, (uint64_t)due ^ 0x8000000000000000ull);
    proj_key_u64(d + 8, seq);
    if ((rc = mdb_put(txn, v->dbi[DB_TIMER_KEYS], &tk, &tv, 0)))
        return rc;
    cw_init(&w);
    cw_map(&w, 3);
    cw_kstr(&w, "key", key);
    cw_kstr(&w, "cmd", cmd);
    cw_str(&w, "body");
    cw_raw(&w, cw_data(body), cw_len(body));
    rc = proj_put(txn, v->dbi[DB_TIMERS], k, due_key(k, due, key), &w);
    if (rc == 0) {
        cw_reset(&w);
        cw_map(&w, 4);
        cw_kstr(&w, "key", key);
        cw_kstr(&w, "cmd", cmd);
        cw_str(&w, "body");
        cw_raw(&w, cw_data(body), cw_len(body));
        cw_kint(&w, "cleared", 0);
        rc = proj_put(txn, v->dbi[DB_TIMER_LOG], k, log_key(k, due, seq, key),
                      &w);
    }
    cw_release(&w);
    return rc;
}

int timer_clear_prefix(MDB_txn *txn, const struct views *v, uint64_t seq,
                       const char *prefix)
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
        if ((rc = timer_clear(txn, v, seq, keys[i])))
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

int timer_move(MDB_txn *txn, const struct views *v, uint64_t seq,
               const char *id_key, const char *id, const char *rule,
               const char *cmd, int64_t due)
{
    char key[TIMER_KEY_MAX];
    struct cw body;
    int rc;

    if ((size_t)snprintf(key, sizeof(key), "%s:%s", id, rule) >= sizeof(key))
        return ERR_INVALID;
    if (!due)
        return timer_clear(txn, v, seq, key);
    cw_init(&body);
    cw_map(&body, 3);
    cw_kstr(&body, id_key, id);
    cw_kstr(&body, "rule", rule);
    cw_kint(&body, "due", due);
    rc = timer_set(txn, v, seq, due, key, cmd, &body);
    cw_release(&body);
    return rc;
}

int timer_arm(MDB_txn *txn, const struct views *v, uint64_t seq,
              const char *key, const char *cmd, const char *const *ids,
              int64_t due)
{
    struct cw body;
    uint32_t n = 0;
    int rc;

    if (!due)
        return timer_clear(txn, v, seq, key);
    while (ids[n * 2])
        n++;
    cw_init(&body);
    cw_map(&body, n + 1);
    for (uint32_t i = 0; i < n; i++)
        cw_kstr(&body, ids[i * 2], ids[i * 2 + 1]);
    cw_kint(&body, "due", due);
    rc = timer_set(txn, v, seq, due, key, cmd, &body);
    cw_release(&body);
    return rc;
}

int timer_each_live(MDB_txn *txn, const struct views *v, int64_t from,
                    int64_t to, uint64_t as_of, timer_live_fn fn, void *ctx)
{
    unsigned char k[16];
    MDB_cursor *cur;
    MDB_val key = {sizeof(k), k}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_TIMER_LOG], &cur);

    if (rc)
        return rc;
    proj_key_u64(k, (uint64_t)from ^ 0x8000000000000000ull);
    proj_key_u64(k + 8, 0);
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct codec_doc d;
        int64_t due, cleared = 0;
        uint64_t set;
        if (key.mv_size < 16)
            continue;
        due = (int64_t)(proj_key_get_u64(key.mv_data) ^ 0x8000000000000000ull);
        if (due >= to)
            break;
        set = proj_key_get_u64((const unsigned char *)key.mv_data + 8);
        if (set > as_of ||
            codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        codec_get_int(d.obj, "cleared", &cleared);
        if (cleared == 0 || (uint64_t)cleared > as_of)
            rc = fn(ctx, due, set, d.obj);
        codec_doc_release(&d);
        if (rc) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
