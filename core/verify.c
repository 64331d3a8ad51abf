/* core/verify.c - walks the log and checks what log.c promises: seq 1..N
 * without gaps, each body's BLAKE2b hash, each prev link, and every body's
 * schema (keys, their types, a known event type). Read-only; runs beside a
 * live deskd. */
#include <endian.h>
#include <string.h>

#include "log.h"

#include "cmd.h"
#include "date.h"

/* The body schema: every key, its msgpack type, whether it must be there. */
enum vtype { V_UINT, V_STR, V_TS, V_MAP, V_HASH };
static const struct {
    const char *key;
    enum vtype type;
    bool required;
} schema[] = {
    {"seq", V_UINT, true},       {"type", V_STR, true},
    {"stream", V_STR, true},     {"version", V_UINT, true},
    {"recorded_at", V_TS, true}, {"occurred_at", V_TS, false},
    {"actor", V_STR, true},      {"desk", V_STR, false},
    {"cmd_id", V_STR, true},     {"data", V_MAP, true},
    {"prev", V_HASH, true},
};
static const char *const vtype_names[] = {[V_UINT] = "a positive integer",
                                          [V_STR] = "a non-empty string",
                                          [V_TS] = "an ISO 8601 timestamp",
                                          [V_MAP] = "a map",
                                          [V_HASH] = "a 32-byte bin"};

static bool type_ok(const msgpack_object *o, enum vtype t)
{
    int64_t ts;
    switch (t) {
    case V_UINT:
        return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > 0;
    case V_STR:
        return o->type == MSGPACK_OBJECT_STR && o->via.str.size > 0;
    case V_TS:
        return o->type == MSGPACK_OBJECT_STR &&
               ts_parse(o->via.str.ptr, o->via.str.size, 0, &ts) == 0;
    case V_MAP:
        return o->type == MSGPACK_OBJECT_MAP;
    case V_HASH:
        return o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == LOG_HASH_LEN;
    }
    return false;
}

/* Keys and types of the schema; the type is one deskd knows; no stray key. */
static int check_schema(const msgpack_object *m, uint64_t seq, struct err *e)
{
    const size_t nkeys = sizeof(schema) / sizeof(*schema);
    const msgpack_object *o;

    for (size_t i = 0; i < nkeys; i++) {
        o = codec_get(m, schema[i].key);
        if (!o && schema[i].required)
            return err_set(e, ERR_INVALID, schema[i].key,
                           "seq %llu: missing key '%s'",
                           (unsigned long long)seq, schema[i].key);
        if (o && !type_ok(o, schema[i].type))
            return err_set(e, ERR_INVALID, schema[i].key,
                           "seq %llu: '%s' is not %s", (unsigned long long)seq,
                           schema[i].key, vtype_names[schema[i].type]);
    }
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        bool known = false;
        for (size_t j = 0; j < nkeys && !known; j++)
            known = codec_obj_is_str(k, schema[j].key);
        if (!known)
            return err_set(
                e, ERR_INVALID, NULL, "seq %llu: unexpected key '%.*s'",
                (unsigned long long)seq,
                k->type == MSGPACK_OBJECT_STR ? (int)k->via.str.size : 1,
                k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?");
    }
    o = codec_get(m, "type");
    if (!cmd_event_type_known(o->via.str.ptr, o->via.str.size))
        return err_set(e, ERR_INVALID, "type", "seq %llu: unknown type '%.*s'",
                       (unsigned long long)seq, (int)o->via.str.size,
                       o->via.str.ptr);
    o = codec_get(m, "stream");
    if (o->via.str.size > LOG_STREAM_MAX)
        return err_set(e, ERR_INVALID, "stream",
                       "seq %llu: stream longer than %d bytes",
                       (unsigned long long)seq, LOG_STREAM_MAX);
    o = codec_get(m, "cmd_id");
    if (o->via.str.size > LOG_CMD_ID_MAX)
        return err_set(e, ERR_INVALID, "cmd_id",
                       "seq %llu: cmd_id longer than %d bytes",
                       (unsigned long long)seq, LOG_CMD_ID_MAX);
    return 0;
}

static int check_body(const char *body, size_t len, uint64_t seq,
                      const unsigned char prev[LOG_HASH_LEN], struct err *e)
{
    struct codec_doc d;
    const msgpack_object *o;
    int64_t s;
    int rc = codec_doc_parse(&d, body, len, e);

    if (rc)
        return err_set(e, ERR_INVALID, NULL, "seq %llu: body does not decode",
                       (unsigned long long)seq);
    if (d.obj->type != MSGPACK_OBJECT_MAP) {
        rc = err_set(e, ERR_INVALID, NULL, "seq %llu: body is not a map",
                     (unsigned long long)seq);
        goto out;
    }
    if ((rc = check_schema(d.obj, seq, e)))
        goto out;
    if (codec_get_int(d.obj, "seq", &s) || (uint64_t)s != seq) {
        rc = err_set(e, ERR_INVALID, "seq", "seq %llu: body says seq %lld",
                     (unsigned long long)seq, (long long)s);
        goto out;
    }
    o = codec_get(d.obj, "prev");
    if (memcmp(o->via.bin.ptr, prev, LOG_HASH_LEN) != 0)
        rc = err_set(e, ERR_INVALID, "prev",
                     "seq %llu: prev does not match the hash of seq %llu",
                     (unsigned long long)seq, (unsigned long long)seq - 1);
out:
    codec_doc_release(&d);
    return rc;
}

static int check_record(const MDB_val *k, const MDB_val *v, uint64_t want,
                        unsigned char prev[LOG_HASH_LEN], struct err *e)
{
    unsigned char h[LOG_HASH_LEN];
    uint64_t seq;
    const char *body;
    size_t len;
    int rc;

    if (k->mv_size != 8)
        return err_set(e, ERR_INVALID, NULL, "after seq %llu: bad key size",
                       (unsigned long long)want - 1);
    memcpy(&seq, k->mv_data, 8);
    seq = be64toh(seq);
    if (seq != want)
        return err_set(e, ERR_INVALID, NULL, "seq %llu missing (next is %llu)",
                       (unsigned long long)want, (unsigned long long)seq);
    if (v->mv_size <= LOG_HASH_LEN)
        return err_set(e, ERR_INVALID, NULL, "seq %llu: record too short",
                       (unsigned long long)seq);
    body = (const char *)v->mv_data + LOG_HASH_LEN;
    len = v->mv_size - LOG_HASH_LEN;
    log_hash(body, len, h);
    if (memcmp(h, v->mv_data, LOG_HASH_LEN) != 0)
        return err_set(e, ERR_INVALID, NULL,
                       "seq %llu: hash does not match its body (altered)",
                       (unsigned long long)seq);
    rc = check_body(body, len, seq, prev, e);
    if (rc)
        return rc;
    memcpy(prev, h, LOG_HASH_LEN);
    return 0;
}

int log_verify(struct log *l, uint64_t *count, uint64_t *bad_seq, struct err *e)
{
    unsigned char prev[LOG_HASH_LEN] = {0};
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_stat st;
    uint64_t want = 1;
    int rc = log_read_begin(l, &txn, e);

    *count = 0;
    *bad_seq = 0;
    if (rc)
        return rc;
    mdb_stat(txn, l->events, &st);
    progress_begin(l->progress, "verifying", "events", st.ms_entries);
    mdb_cursor_open(txn, l->events, &cur);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), want++) {
        if (check_record(&k, &v, want, prev, e)) {
            *bad_seq = want;
            break;
        }
        progress_update(l->progress, want);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    *count = want - 1;
    if (*bad_seq || rc != MDB_NOTFOUND)
        progress_abort(l->progress);
    else
        progress_end(l->progress);
    if (*bad_seq)
        return ERR_INVALID;
    if (rc != MDB_NOTFOUND)
        return err_set(e, ERR_UNAVAILABLE, NULL, "read log: %s",
                       mdb_strerror(rc));
    return 0;
}
