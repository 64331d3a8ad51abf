/* projections/rebuild.c - replay and byte-for-byte comparison of every
 * projection sub-db (the check behind "rebuilding a projection = replaying
 * the log into empty tables"), replay as of a seq or a time into a new
 * data directory, fingerprints and comparisons of projection tables. */
#include "rebuild.h"

#include <endian.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/audit.h"
#include "../core/log.h"
#include "projections.h"

#define REPLAY_TXN_EVENTS 10000 /* events per write txn in the copy */
/* The rebuild's scratch data dir, in $TMPDIR (mkdtemp template). */
#define REBUILD_TMP_NAME "deskd-rebuild.XXXXXX"

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* What to replay: events [1..until_seq] whose recorded_at <= until_ms
 * (stopping at the first later one); copy = also write the log records,
 * stream versions and stream index into fresh. */
struct replay_opts {
    uint64_t until_seq;
    int64_t until_ms; /* INT64_MAX: no time limit */
    bool copy;
};

static int replay(struct log *live, MDB_txn *rtxn, struct log *fresh,
                  struct views *fv, const struct replay_opts *o, uint64_t *n,
                  struct err *e)
{
    MDB_txn *w = NULL;
    int rc = 0;

    for (uint64_t seq = 1; seq <= o->until_seq; seq++) {
        const unsigned char *hash;
        const char *body;
        size_t len;
        struct codec_doc doc;
        struct event ev;
        if (!w && (rc = mdb_txn_begin(fresh->env, NULL, 0, &w)))
            break;
        if ((rc = log_get(rtxn, live, seq, &hash, &body, &len)) ||
            (rc = event_parse(&ev, &doc, body, len, e)))
            break;
        if (ev.recorded_at > o->until_ms) {
            codec_doc_release(&doc);
            break;
        }
        rc = proj_apply(w, fv, &ev);
        if (!rc && o->copy)
            rc = log_put_record(w, fresh, seq, hash, LOG_HASH_LEN + len,
                                ev.stream, ev.stream_len, ev.version);
        codec_doc_release(&doc);
        if (rc)
            break;
        (*n)++;
        if (seq % REPLAY_TXN_EVENTS == 0) {
            rc = mdb_txn_commit(w);
            w = NULL;
            if (rc)
                break;
        }
    }
    if (!rc && o->copy && !w)
        rc = mdb_txn_begin(fresh->env, NULL, 0, &w);
    if (!rc && o->copy)
        rc = log_copy_cmd_ids(rtxn, live, w, fresh, *n);
    if (w && !rc)
        rc = mdb_txn_commit(w);
    else if (w)
        mdb_txn_abort(w);
    if (rc == MDB_NOTFOUND && e && !e->code)
        err_set(e, ERR_UNAVAILABLE, NULL, "replay: seq %llu is missing",
                (unsigned long long)*n + 1);
    if (rc && !(e && e->code))
        err_set(e, ERR_UNAVAILABLE, NULL, "replay failed: %s",
                mdb_strerror(rc));
    return rc ? ERR_UNAVAILABLE : 0;
}

/* The last seq in a snapshot (may be newer than what log_open saw). */
static uint64_t snapshot_last(MDB_txn *rtxn, const struct log *l)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t s = 0;
    if (mdb_cursor_open(rtxn, l->events, &cur))
        return 0;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8) {
        memcpy(&s, k.mv_data, 8);
        s = be64toh(s);
    }
    mdb_cursor_close(cur);
    return s;
}

static void describe(char *out, size_t cap, const char *db, const MDB_val *k,
                     const char *what)
{
    char key[64];
    size_t n = k->mv_size < sizeof(key) - 1 ? k->mv_size : sizeof(key) - 1;
    for (size_t i = 0; i < n; i++) {
        char c = ((const char *)k->mv_data)[i];
        key[i] = (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    key[n] = '\0';
    snprintf(out, cap, "%s: key '%s' %s", db, key, what);
}

/* Walks both sub-dbs in key order; false at the first difference. */
static bool same_db(MDB_txn *a, MDB_dbi da, MDB_txn *b, MDB_dbi db,
                    const char *name, char *diff, size_t cap)
{
    MDB_cursor *ca, *cb;
    MDB_val ka, va, kb, vb;
    int ra, rb;
    bool same = true;

    mdb_cursor_open(a, da, &ca);
    mdb_cursor_open(b, db, &cb);
    ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
    rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
    while (same && ra == 0 && rb == 0) {
        if (ka.mv_size != kb.mv_size ||
            memcmp(ka.mv_data, kb.mv_data, ka.mv_size)) {
            describe(diff, cap, name, &ka, "is only in one of them");
            same = false;
        } else if (va.mv_size != vb.mv_size ||
                   memcmp(va.mv_data, vb.mv_data, va.mv_size)) {
            describe(diff, cap, name, &ka, "has a different value");
            same = false;
        }
        ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
        rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
    }
    if (same && (ra == 0) != (rb == 0)) {
        describe(diff, cap, name, ra == 0 ? &ka : &kb,
                 ra == 0 ? "is only in the live tables"
                         : "is only in the rebuilt tables");
        same = false;
    }
    mdb_cursor_close(ca);
    mdb_cursor_close(cb);
    return same;
}

static int compare(struct log *live, MDB_txn *rtxn, struct log *fresh,
                   const struct views *fv, struct rebuild_report *r,
                   struct err *e)
{
    struct views lv;
    MDB_txn *ftxn;
    int rc = views_open(rtxn, &lv, false, e);

    if (rc)
        return rc;
    if ((rc = mdb_txn_begin(fresh->env, NULL, MDB_RDONLY, &ftxn)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "begin: %s", mdb_strerror(rc));
    r->identical = true;
    for (int i = 0; i < DB_COUNT && r->identical; i++)
        r->identical =
            same_db(rtxn, lv.dbi[i], ftxn, fv->dbi[i], proj_db_names[i],
                    r->first_diff, sizeof(r->first_diff));
    mdb_txn_abort(ftxn);
    (void)live;
    return 0;
}

static int open_fresh(struct log *fresh, struct views *fv, const char *dir,
                      size_t map, struct err *e)
{
    MDB_txn *txn;
    int rc = log_open(fresh, dir, map, false, e);
    if (rc)
        return rc;
    if ((rc = mdb_txn_begin(fresh->env, NULL, 0, &txn)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "begin: %s", mdb_strerror(rc));
    if ((rc = views_open(txn, fv, true, e))) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn) ? ERR_UNAVAILABLE : 0;
}

int rebuild_compare(const char *data_dir, struct rebuild_report *r,
                    struct err *e)
{
    const char *base = getenv("TMPDIR");
    char tmp[PATH_MAX];
    struct log live, fresh;
    struct views fv;
    MDB_txn *rtxn;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = log_open(&live, data_dir, 0, true, e)))
        return rc;
    if ((rc = log_read_begin(&live, &rtxn, e)))
        goto out_live;
    /* the scratch tables can be as large as the live ones: $TMPDIR says
     * where there is room for them (/tmp when unset) */
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/" REBUILD_TMP_NAME,
                         base && *base ? base : "/tmp") >= sizeof(tmp) ||
        !mkdtemp(tmp)) {
        rc = err_set(e, ERR_UNAVAILABLE, NULL,
                     "cannot make a scratch directory in '%s': %s",
                     base && *base ? base : "/tmp", strerror(errno));
        goto out_rtxn;
    }
    live.last_seq = snapshot_last(rtxn, &live);
    if ((rc = open_fresh(&fresh, &fv, tmp, live.map_size * 2 + (64 << 20), e)))
        goto out_tmp;
    {
        struct replay_opts ro = {live.last_seq, INT64_MAX, false};
        rc = replay(&live, rtxn, &fresh, &fv, &ro, &r->events, e);
    }
    if (!rc)
        rc = compare(&live, rtxn, &fresh, &fv, r, e);
    log_close(&fresh);
out_tmp:
    nftw(tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
out_rtxn:
    mdb_txn_abort(rtxn);
out_live:
    log_close(&live);
    return rc;
}

int audit_verify_report(const char *data_dir)
{
    struct log l;
    struct err e = {0};
    uint64_t n, bad;
    int rc = log_open(&l, data_dir, 0, true, &e);
    if (rc) {
        fprintf(stderr, "cannot open log: %s\n", e.msg);
        return 2;
    }
    rc = log_verify(&l, &n, &bad, &e);
    log_close(&l);
    if (rc) {
        printf("BROKEN at seq %llu: %s\n", (unsigned long long)bad, e.msg);
        return 1;
    }
    printf("OK %llu events, hash chain intact\n", (unsigned long long)n);
    return 0;
}

int audit_rebuild_report(const char *data_dir)
{
    struct rebuild_report r;
    struct err e = {0};
    if (rebuild_compare(data_dir, &r, &e)) {
        fprintf(stderr, "rebuild failed: %s\n", e.msg);
        return 2;
    }
    if (!r.identical) {
        printf("DIFFERENT after %llu events: %s\n",
               (unsigned long long)r.events, r.first_diff);
        return 1;
    }
    printf("IDENTICAL: %llu events replayed, every projection matches\n",
           (unsigned long long)r.events);
    return 0;
}

int rebuild_as_of(const char *data_dir, const char *out_dir, uint64_t until_seq,
                  int64_t until_ms, struct replay_report *r, struct err *e)
{
    struct log live, fresh;
    struct views fv;
    MDB_txn *rtxn;
    int rc;

    memset(r, 0, sizeof(*r));
    if (!audit_dir_empty(out_dir))
        return err_set(e, ERR_CONFLICT, NULL,
                       "'%s' is not empty: replay writes a new directory",
                       out_dir);
    if ((rc = log_open(&live, data_dir, 0, true, e)))
        return rc;
    if ((rc = log_read_begin(&live, &rtxn, e)))
        goto out_live;
    live.last_seq = snapshot_last(rtxn, &live);
    {
        struct replay_opts ro = {
            until_seq && until_seq < live.last_seq ? until_seq : live.last_seq,
            until_ms ? until_ms : INT64_MAX, true};
        if ((rc = open_fresh(&fresh, &fv, out_dir,
                             live.map_size * 2 + (64 << 20), e)))
            goto out_rtxn;
        rc = replay(&live, rtxn, &fresh, &fv, &ro, &r->events, e);
        if (!rc && (rc = log_sync(&fresh, e)) == 0)
            r->live_last_seq = live.last_seq;
        log_close(&fresh);
    }
out_rtxn:
    mdb_txn_abort(rtxn);
out_live:
    log_close(&live);
    return rc;
}

int proj_fingerprint(const char *dir, struct fingerprint *fp, struct err *e)
{
    crypto_generichash_state st;
    struct log l;
    struct views v;
    MDB_txn *txn;
    int rc;

    memset(fp, 0, sizeof(*fp));
    if ((rc = log_open(&l, dir, 0, true, e)))
        return rc;
    if ((rc = log_read_begin(&l, &txn, e)))
        goto out;
    if ((rc = views_open(txn, &v, false, e)))
        goto out_txn;
    fp->last_seq = snapshot_last(txn, &l);
    crypto_generichash_init(&st, NULL, 0, LOG_HASH_LEN);
    for (int i = 0; i < DB_COUNT; i++) {
        MDB_cursor *cur;
        MDB_val k, val;
        crypto_generichash_update(&st, (const unsigned char *)proj_db_names[i],
                                  strlen(proj_db_names[i]) + 1);
        if ((rc = mdb_cursor_open(txn, v.dbi[i], &cur)))
            break;
        for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
            uint32_t n[2] = {htobe32((uint32_t)k.mv_size),
                             htobe32((uint32_t)val.mv_size)};
            crypto_generichash_update(&st, (const unsigned char *)n, 8);
            crypto_generichash_update(&st, k.mv_data, k.mv_size);
            crypto_generichash_update(&st, val.mv_data, val.mv_size);
            fp->records++;
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
            break;
        rc = 0;
    }
    crypto_generichash_final(&st, fp->hash, LOG_HASH_LEN);
    if (rc)
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "fingerprint: %s",
                     mdb_strerror(rc));
out_txn:
    mdb_txn_abort(txn);
out:
    log_close(&l);
    return rc;
}

int rebuild_compare_dirs(const char *a, const char *b, struct rebuild_report *r,
                         struct err *e)
{
    struct log la, lb;
    struct views va, vb;
    MDB_txn *ta = NULL, *tb = NULL;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = log_open(&la, a, 0, true, e)))
        return rc;
    if ((rc = log_open(&lb, b, 0, true, e))) {
        log_close(&la);
        return rc;
    }
    if (!(rc = log_read_begin(&la, &ta, e)) &&
        !(rc = log_read_begin(&lb, &tb, e)) &&
        !(rc = views_open(ta, &va, false, e)) &&
        !(rc = views_open(tb, &vb, false, e))) {
        r->identical = true;
        r->events = snapshot_last(tb, &lb);
        for (int i = 0; i < DB_COUNT && r->identical; i++)
            r->identical =
                same_db(ta, va.dbi[i], tb, vb.dbi[i], proj_db_names[i],
                        r->first_diff, sizeof(r->first_diff));
    }
    if (tb)
        mdb_txn_abort(tb);
    if (ta)
        mdb_txn_abort(ta);
    log_close(&lb);
    log_close(&la);
    return rc;
}
