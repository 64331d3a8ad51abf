/* core/log.c - the event log: appends batches to LMDB, assigns seq, keeps the
 * hash chain, stream versions and command ids. Owns sub-dbs "events",
 * "streams", "cmd_ids", "stream_events". The only file that begins a write
 * txn. */
#include "log.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "date.h"

#define CMD_REC_LEN (LOG_HASH_LEN + 8 + 4)

static int mdb_fail(struct err *e, int rc, const char *what)
{
    return err_set(e, ERR_UNAVAILABLE, NULL, "%s: %s", what, mdb_strerror(rc));
}

static void put_be64(unsigned char *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

void log_hash(const void *p, size_t n, unsigned char out[LOG_HASH_LEN])
{
    crypto_generichash(out, LOG_HASH_LEN, p, n, NULL, 0);
}

int log_dbi(MDB_txn *txn, const char *name, bool create, MDB_dbi *out,
            struct err *e)
{
    int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, out);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "open sub-db '%s': %s", name,
                       mdb_strerror(rc));
    return 0;
}

/* Reads seq, hash and recorded_at of the last event to resume the chain. */
static int load_tail(struct log *l, MDB_txn *txn, struct err *e)
{
    MDB_cursor *cur;
    MDB_val k, v;
    struct codec_doc d;
    const char *s;
    size_t n;
    int rc = mdb_cursor_open(txn, l->events, &cur);

    if (rc)
        return mdb_fail(e, rc, "open cursor");
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return mdb_fail(e, rc, "read last event");
    if (k.mv_size != 8 || v.mv_size <= LOG_HASH_LEN)
        return err_set(e, ERR_UNAVAILABLE, NULL, "last event is corrupt");
    l->last_seq = get_be64(k.mv_data);
    memcpy(l->last_hash, v.mv_data, LOG_HASH_LEN);
    rc = codec_doc_parse_trusted(&d, (const char *)v.mv_data + LOG_HASH_LEN,
                                 v.mv_size - LOG_HASH_LEN, e);
    if (rc)
        return rc;
    if (!codec_get_str(d.obj, "recorded_at", &s, &n))
        ts_parse(s, n, 0, &l->last_recorded_at);
    codec_doc_release(&d);
    return 0;
}

#define IDX_KEY_MAX (LOG_STREAM_MAX + 1 + 8)

static size_t idx_key(unsigned char *k, const char *stream, size_t slen,
                      uint64_t version)
{
    memcpy(k, stream, slen);
    k[slen] = 0;
    put_be64(k + slen + 1, version);
    return slen + 9;
}

static int idx_put(MDB_txn *txn, const struct log *l, const char *stream,
                   size_t slen, uint64_t version, uint64_t seq)
{
    unsigned char kb[IDX_KEY_MAX], vb[8];
    MDB_val k = {idx_key(kb, stream, slen, version), kb}, v = {8, vb};
    put_be64(vb, seq);
    return mdb_put(txn, l->stream_idx, &k, &v, 0);
}

/* Indexes every event of a log written before the index existed. */
static int build_index(struct log *l, MDB_txn *txn, struct err *e)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if (l->last_seq == 0 || mdb_stat(txn, l->stream_idx, &st) ||
        st.ms_entries > 0)
        return 0;
    if ((rc = mdb_cursor_open(txn, l->events, &cur)))
        return mdb_fail(e, rc, "open cursor");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct codec_doc d;
        const char *s;
        size_t n;
        int64_t ver;
        if (k.mv_size != 8 || v.mv_size <= LOG_HASH_LEN ||
            codec_doc_parse_trusted(&d, (const char *)v.mv_data + LOG_HASH_LEN,
                                    v.mv_size - LOG_HASH_LEN, NULL))
            continue;
        if (!codec_get_str(d.obj, "stream", &s, &n) && n <= LOG_STREAM_MAX &&
            !codec_get_int(d.obj, "version", &ver))
            rc = idx_put(txn, l, s, n, (uint64_t)ver, get_be64(k.mv_data));
        codec_doc_release(&d);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return mdb_fail(e, rc, "build stream index");
    diag_info("stream index built for %llu events",
              (unsigned long long)l->last_seq);
    return 0;
}

static int open_index(struct log *l, MDB_txn *txn, struct err *e)
{
    int rc = mdb_dbi_open(txn, "stream_events", l->readonly ? 0 : MDB_CREATE,
                          &l->stream_idx);
    if (rc == MDB_NOTFOUND && l->readonly)
        return 0;
    if (rc)
        return mdb_fail(e, rc, "open sub-db 'stream_events'");
    l->has_stream_idx = true;
    return l->readonly ? 0 : build_index(l, txn, e);
}

static int open_dbs(struct log *l, struct err *e)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, l->readonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return mdb_fail(e, rc, "begin txn");
    if ((rc = log_dbi(txn, "events", !l->readonly, &l->events, e)) ||
        (rc = log_dbi(txn, "streams", !l->readonly, &l->streams, e)) ||
        (rc = log_dbi(txn, "cmd_ids", !l->readonly, &l->cmd_ids, e)) ||
        (rc = load_tail(l, txn, e)) || (rc = open_index(l, txn, e))) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    return rc ? mdb_fail(e, rc, "commit") : 0;
}

/* FOR TESTS ONLY (`make torture-power-unsafe`): DESKD_TEST_UNSAFE_NOSYNC=1
 * opens the log MDB_NOSYNC and makes log_sync() a no-op, so replies go out
 * before the events are on disk and a power cut loses acknowledged events.
 * It shows that the power-loss test (tests/integration/it_power.c) catches
 * that. Never set it on a real deskd. */
static bool unsafe_nosync(void)
{
    const char *v = getenv("DESKD_TEST_UNSAFE_NOSYNC");
    return v && !strcmp(v, "1");
}

int log_open(struct log *l, const char *dir, size_t map_size, bool readonly,
             struct err *e)
{
    MDB_envinfo info;
    unsigned flags = readonly ? MDB_RDONLY : MDB_NOMETASYNC;
    int rc;

    memset(l, 0, sizeof(*l));
    l->readonly = readonly;
    if (!readonly && unsafe_nosync()) {
        diag_warn(
            "DESKD_TEST_UNSAFE_NOSYNC=1: the log is never flushed; "
            "acknowledged events WILL be lost at a power cut (tests only)");
        flags |= MDB_NOSYNC;
    }
    pthread_rwlock_init(&l->grow_lock, NULL);
    if (sodium_init() < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "libsodium init failed");
    if (!readonly && mkdir(dir, 0750) && errno != EEXIST)
        return err_set(e, ERR_UNAVAILABLE, NULL, "mkdir '%s': %s", dir,
                       strerror(errno));
    if ((rc = mdb_env_create(&l->env)))
        return mdb_fail(e, rc, "mdb_env_create");
    mdb_env_set_maxdbs(l->env, LOG_DBS_MAX);
    mdb_env_set_maxreaders(l->env, LOG_READERS_MAX);
    mdb_env_set_mapsize(l->env, map_size);
    rc = mdb_env_open(l->env, dir, flags, 0640);
    if (rc) {
        mdb_env_close(l->env);
        l->env = NULL;
        return err_set(e, ERR_UNAVAILABLE, NULL, "open log '%s': %s", dir,
                       mdb_strerror(rc));
    }
    mdb_env_info(l->env, &info);
    l->map_size = info.me_mapsize;
    rc = open_dbs(l, e);
    if (rc)
        log_close(l);
    return rc;
}

void log_close(struct log *l)
{
    if (l->env)
        mdb_env_close(l->env);
    l->env = NULL;
    pthread_rwlock_destroy(&l->grow_lock);
}

void log_batch_init(struct log_batch *b, struct log *l, int offset_min)
{
    memset(b, 0, sizeof(*b));
    b->log = l;
    b->offset_min = offset_min;
    cw_init(&b->bodies);
}

void log_batch_release(struct log_batch *b)
{
    if (b->txn)
        log_batch_abort(b);
    cw_release(&b->bodies);
    free(b->off);
    free(b->type);
    b->off = NULL;
    b->type = NULL;
}

int log_batch_begin(struct log_batch *b, struct err *e)
{
    int rc = mdb_txn_begin(b->log->env, NULL, 0, &b->txn);
    if (rc) {
        b->txn = NULL;
        return mdb_fail(e, rc, "begin write txn");
    }
    b->next_seq = b->log->last_seq + 1;
    memcpy(b->hash, b->log->last_hash, LOG_HASH_LEN);
    b->last_recorded_at = b->log->last_recorded_at;
    cw_reset(&b->bodies);
    b->nevents = 0;
    return 0;
}

int log_batch_commit(struct log_batch *b, struct err *e)
{
    int rc = mdb_txn_commit(b->txn);
    b->txn = NULL;
    if (rc) {
        mdb_fail(e, rc, "commit");
        return rc; /* MDB_MAP_FULL here too: the caller grows and retries */
    }
    b->log->last_seq = b->next_seq - 1;
    memcpy(b->log->last_hash, b->hash, LOG_HASH_LEN);
    b->log->last_recorded_at = b->last_recorded_at;
    return 0;
}

void log_batch_abort(struct log_batch *b)
{
    if (b->txn)
        mdb_txn_abort(b->txn);
    b->txn = NULL;
    cw_reset(&b->bodies);
    b->nevents = 0;
}

void log_batch_body(const struct log_batch *b, size_t i, const char **body,
                    size_t *len)
{
    size_t end = i + 1 < b->nevents ? b->off[i + 1] : cw_len(&b->bodies);
    DESK_ASSERT(i < b->nevents);
    *body = cw_data(&b->bodies) + b->off[i];
    *len = end - b->off[i];
}

int log_stream_version(MDB_txn *txn, const struct log *l, const char *stream,
                       size_t len, uint64_t *version)
{
    MDB_val k = {len, (void *)stream}, v;
    int rc = mdb_get(txn, l->streams, &k, &v);
    *version = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return ERR_UNAVAILABLE;
    *version = get_be64(v.mv_data);
    return 0;
}

static void encode_body(struct log_batch *b, const struct log_event_in *in,
                        uint64_t version)
{
    struct cw *w = &b->bodies;
    bool occ = in->occurred_at && in->occurred_at != in->recorded_at;
    bool desk = in->desk && in->desk[0];

    cw_map(w, 9 + (occ ? 1 : 0) + (desk ? 1 : 0));
    cw_str(w, "seq");
    cw_uint(w, b->next_seq);
    cw_kstr(w, "type", in->type);
    cw_kstrn(w, "stream", in->stream, in->stream_len);
    cw_str(w, "version");
    cw_uint(w, version);
    cw_kts(w, "recorded_at", in->recorded_at, b->offset_min);
    if (occ)
        cw_kts(w, "occurred_at", in->occurred_at, b->offset_min);
    cw_kstr(w, "actor", in->actor);
    if (desk)
        cw_kstr(w, "desk", in->desk);
    cw_kstrn(w, "cmd_id", in->cmd_id, in->cmd_id_len);
    cw_str(w, "data");
    cw_raw(w, in->data, in->data_len);
    cw_str(w, "prev");
    cw_bin(w, b->hash, LOG_HASH_LEN);
}

static int remember(struct log_batch *b, size_t at, const char *type)
{
    if (b->nevents == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        size_t *p = realloc(b->off, cap * sizeof(*p));
        const char **t;
        if (!p)
            return ERR_UNAVAILABLE;
        b->off = p;
        t = realloc(b->type, cap * sizeof(*t));
        if (!t)
            return ERR_UNAVAILABLE;
        b->type = t;
        b->cap = cap;
    }
    b->off[b->nevents] = at;
    b->type[b->nevents++] = type;
    return 0;
}

const char *log_batch_type(const struct log_batch *b, size_t i)
{
    DESK_ASSERT(i < b->nevents);
    return b->type[i];
}

static int put_event(struct log_batch *b, size_t at)
{
    const char *body = cw_data(&b->bodies) + at;
    size_t len = cw_len(&b->bodies) - at;
    unsigned char key[8];
    MDB_val k = {8, key}, v = {LOG_HASH_LEN + len, NULL};
    int rc;

    put_be64(key, b->next_seq);
    rc = mdb_put(b->txn, b->log->events, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (rc)
        return rc;
    log_hash(body, len, b->hash);
    memcpy(v.mv_data, b->hash, LOG_HASH_LEN);
    memcpy((char *)v.mv_data + LOG_HASH_LEN, body, len);
    return 0;
}

int log_append(struct log_batch *b, const struct log_event_in *in,
               uint64_t *seq, const char **body, size_t *body_len)
{
    unsigned char vbuf[8];
    MDB_val sk = {in->stream_len, (void *)in->stream}, sv = {8, vbuf};
    uint64_t version;
    size_t at = cw_len(&b->bodies);
    int rc;

    DESK_ASSERT(b->txn);
    if (in->stream_len == 0 || in->stream_len > LOG_STREAM_MAX)
        return ERR_INVALID;
    rc = log_stream_version(b->txn, b->log, in->stream, in->stream_len,
                            &version);
    if (rc)
        return rc;
    version++;
    encode_body(b, in, version);
    if ((rc = put_event(b, at)))
        return rc;
    put_be64(vbuf, version);
    if ((rc = mdb_put(b->txn, b->log->streams, &sk, &sv, 0)))
        return rc;
    if ((rc = idx_put(b->txn, b->log, in->stream, in->stream_len, version,
                      b->next_seq)))
        return rc;
    if ((rc = remember(b, at, in->type)))
        return rc;
    *seq = b->next_seq++;
    if (in->recorded_at > b->last_recorded_at)
        b->last_recorded_at = in->recorded_at;
    *body = cw_data(&b->bodies) + at;
    *body_len = cw_len(&b->bodies) - at;
    return 0;
}

int log_cmd_get(MDB_txn *txn, const struct log *l, const char *id, size_t len,
                struct log_cmd_rec *rec)
{
    MDB_val k = {len, (void *)id}, v;
    int rc = mdb_get(txn, l->cmd_ids, &k, &v);
    if (rc)
        return rc;
    if (v.mv_size != CMD_REC_LEN)
        return ERR_UNAVAILABLE;
    memcpy(rec->fp, v.mv_data, LOG_HASH_LEN);
    rec->first_seq = get_be64((const unsigned char *)v.mv_data + LOG_HASH_LEN);
    memcpy(&rec->nevents, (const char *)v.mv_data + LOG_HASH_LEN + 8, 4);
    rec->nevents = be32toh(rec->nevents);
    return 0;
}

int log_cmd_put(MDB_txn *txn, const struct log *l, const char *id, size_t len,
                const struct log_cmd_rec *rec)
{
    unsigned char buf[CMD_REC_LEN];
    uint32_t n = htobe32(rec->nevents);
    MDB_val k = {len, (void *)id}, v = {sizeof(buf), buf};

    memcpy(buf, rec->fp, LOG_HASH_LEN);
    put_be64(buf + LOG_HASH_LEN, rec->first_seq);
    memcpy(buf + LOG_HASH_LEN + 8, &n, 4);
    return mdb_put(txn, l->cmd_ids, &k, &v, 0);
}

int log_get(MDB_txn *txn, const struct log *l, uint64_t seq,
            const unsigned char **hash, const char **body, size_t *len)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int rc;

    put_be64(key, seq);
    rc = mdb_get(txn, l->events, &k, &v);
    if (rc)
        return rc;
    if (v.mv_size <= LOG_HASH_LEN)
        return ERR_UNAVAILABLE;
    *hash = v.mv_data;
    *body = (const char *)v.mv_data + LOG_HASH_LEN;
    *len = v.mv_size - LOG_HASH_LEN;
    return 0;
}

int log_sync(struct log *l, struct err *e)
{
    int rc = unsafe_nosync() ? 0 : mdb_env_sync(l->env, 1);
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "sync: %s", mdb_strerror(rc))
              : 0;
}

int log_grow(struct log *l, struct err *e)
{
    size_t want = l->map_size * 2;
    int rc;
    pthread_rwlock_wrlock(&l->grow_lock);
    rc = mdb_env_set_mapsize(l->env, want);
    pthread_rwlock_unlock(&l->grow_lock);
    if (rc)
        return mdb_fail(e, rc, "grow map");
    l->map_size = want;
    l->grows++;
    diag_info("map grown to %zu MiB", want >> 20);
    return 0;
}

int log_read_begin(struct log *l, MDB_txn **txn, struct err *e)
{
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        MDB_envinfo info;
        mdb_env_set_mapsize(l->env, 0);
        mdb_env_info(l->env, &info);
        l->map_size = info.me_mapsize;
        rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn);
    }
    return rc ? mdb_fail(e, rc, "begin read txn") : 0;
}

static int scan_stream(MDB_txn *txn, const struct log *l, const char *stream,
                       size_t len, log_event_fn fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, l->events, &cur), stop = 0;

    if (rc)
        return ERR_UNAVAILABLE;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct codec_doc d;
        const char *body = (const char *)v.mv_data + LOG_HASH_LEN, *s;
        size_t n, blen = v.mv_size - LOG_HASH_LEN;
        if (k.mv_size != 8 || v.mv_size <= LOG_HASH_LEN ||
            codec_doc_parse_trusted(&d, body, blen, NULL))
            continue;
        if (!codec_get_str(d.obj, "stream", &s, &n) && n == len &&
            !memcmp(s, stream, len))
            stop = fn(ctx, get_be64(k.mv_data), body, blen);
        codec_doc_release(&d);
    }
    mdb_cursor_close(cur);
    return stop ? stop : (rc == MDB_NOTFOUND || rc == 0) ? 0 : ERR_UNAVAILABLE;
}

int log_stream_events(MDB_txn *txn, const struct log *l, const char *stream,
                      size_t len, log_event_fn fn, void *ctx, bool *scanned)
{
    unsigned char kb[IDX_KEY_MAX];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, stop = 0;

    *scanned = !l->has_stream_idx;
    if (len == 0 || len > LOG_STREAM_MAX)
        return 0;
    if (!l->has_stream_idx)
        return scan_stream(txn, l, stream, len, fn, ctx);
    if (mdb_cursor_open(txn, l->stream_idx, &cur))
        return ERR_UNAVAILABLE;
    k.mv_size = idx_key(kb, stream, len, 0);
    k.mv_data = kb;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *hash;
        const char *body;
        size_t blen;
        if (k.mv_size != len + 9 || memcmp(k.mv_data, kb, len + 1) ||
            v.mv_size != 8)
            break;
        if (log_get(txn, l, get_be64(v.mv_data), &hash, &body, &blen) == 0)
            stop = fn(ctx, get_be64(v.mv_data), body, blen);
    }
    mdb_cursor_close(cur);
    return stop;
}

int log_put_record(MDB_txn *txn, const struct log *l, uint64_t seq,
                   const void *rec, size_t len, const char *stream, size_t slen,
                   uint64_t version)
{
    unsigned char key[8], vbuf[8];
    MDB_val k = {8, key}, v = {len, (void *)rec};
    MDB_val sk = {slen, (void *)stream}, sv = {8, vbuf};
    int rc;

    if (slen == 0 || slen > LOG_STREAM_MAX)
        return ERR_INVALID;
    put_be64(key, seq);
    if ((rc = mdb_put(txn, l->events, &k, &v, MDB_APPEND)))
        return rc;
    put_be64(vbuf, version);
    if ((rc = mdb_put(txn, l->streams, &sk, &sv, 0)))
        return rc;
    return l->has_stream_idx ? idx_put(txn, l, stream, slen, version, seq) : 0;
}

int log_copy_cmd_ids(MDB_txn *from, const struct log *lf, MDB_txn *to,
                     const struct log *lt, uint64_t until)
{ /* records whose events all lie in 1..until */
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(from, lf->cmd_ids, &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *p = v.mv_data;
        uint32_t n;
        if (v.mv_size != CMD_REC_LEN)
            continue;
        memcpy(&n, p + LOG_HASH_LEN + 8, 4);
        /* its last event (first - 1 for a command that wrote none) */
        if (get_be64(p + LOG_HASH_LEN) + be32toh(n) > until + 1)
            continue;
        if ((rc = mdb_put(to, lt->cmd_ids, &k, &v, 0)))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int log_snapshot_begin(struct log *l, MDB_txn **txn, struct err *e)
{
    int rc;
    pthread_rwlock_rdlock(&l->grow_lock);
    rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, txn);
    if (rc) {
        pthread_rwlock_unlock(&l->grow_lock);
        return mdb_fail(e, rc, "begin read txn");
    }
    return 0;
}

void log_snapshot_end(struct log *l, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&l->grow_lock);
}

int log_last_seq(MDB_txn *txn, const struct log *l, uint64_t *seq)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, l->events, &cur);
    if (rc)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    *seq = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || k.mv_size != 8)
        return rc ? rc : MDB_CORRUPTED;
    *seq = get_be64(k.mv_data);
    return 0;
}
