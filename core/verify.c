/* core/verify.c - walks the log and checks what log.c promises: seq 1..N
 * without gaps, each body's BLAKE2b hash, each prev link, and the mandatory
 * keys of every body. Read-only; runs beside a live deskd. */
#include <endian.h>
#include <string.h>

#include "log.h"

static const char *const required_keys[] = {
    "seq",   "type",   "stream", "version", "recorded_at",
    "actor", "cmd_id", "data",   "prev",
};

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
    for (size_t i = 0; i < sizeof(required_keys) / sizeof(*required_keys);
         i++) {
        if (!codec_get(d.obj, required_keys[i])) {
            rc = err_set(e, ERR_INVALID, required_keys[i],
                         "seq %llu: missing key '%s'", (unsigned long long)seq,
                         required_keys[i]);
            goto out;
        }
    }
    if (codec_get_int(d.obj, "seq", &s) || (uint64_t)s != seq) {
        rc = err_set(e, ERR_INVALID, "seq", "seq %llu: body says seq %lld",
                     (unsigned long long)seq, (long long)s);
        goto out;
    }
    o = codec_get(d.obj, "prev");
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != LOG_HASH_LEN ||
        memcmp(o->via.bin.ptr, prev, LOG_HASH_LEN) != 0)
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
    uint64_t want = 1;
    int rc = log_read_begin(l, &txn, e);

    *count = 0;
    *bad_seq = 0;
    if (rc)
        return rc;
    mdb_cursor_open(txn, l->events, &cur);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), want++) {
        if (check_record(&k, &v, want, prev, e)) {
            *bad_seq = want;
            break;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    *count = want - 1;
    if (*bad_seq)
        return ERR_INVALID;
    if (rc != MDB_NOTFOUND)
        return err_set(e, ERR_UNAVAILABLE, NULL, "read log: %s",
                       mdb_strerror(rc));
    return 0;
}
