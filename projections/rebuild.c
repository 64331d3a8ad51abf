/* projections/rebuild.c - replay and byte-for-byte comparison of every
 * projection sub-db (the check behind "rebuilding a projection = replaying
 * the log into empty tables"). */
#include "rebuild.h"

#include <endian.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/log.h"
#include "projections.h"

#define REPLAY_TXN_EVENTS 10000 /* events per write txn in the copy */

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* Replays events [1..last] read from live into fresh. */
static int replay(struct log *live, MDB_txn *rtxn, struct log *fresh,
                  struct views *fv, uint64_t *n, struct err *e)
{
    MDB_txn *w = NULL;
    int rc = 0;

    for (uint64_t seq = 1; seq <= live->last_seq; seq++) {
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
        rc = proj_apply(w, fv, &ev);
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
    if (w && !rc)
        rc = mdb_txn_commit(w);
    else if (w)
        mdb_txn_abort(w);
    if (rc && !(e && e->code))
        err_set(e, ERR_UNAVAILABLE, NULL, "replay failed: %s",
                mdb_strerror(rc));
    return rc ? ERR_UNAVAILABLE : 0;
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
    char tmp[] = "/tmp/deskd-rebuild.XXXXXX";
    struct log live, fresh;
    struct views fv;
    MDB_txn *rtxn;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = log_open(&live, data_dir, 0, true, e)))
        return rc;
    if ((rc = log_read_begin(&live, &rtxn, e)))
        goto out_live;
    if (!mkdtemp(tmp)) {
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "mkdtemp failed");
        goto out_rtxn;
    }
    /* The snapshot may be newer than what log_open saw: count from it. */
    {
        MDB_cursor *cur;
        MDB_val k, v;
        mdb_cursor_open(rtxn, live.events, &cur);
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8) {
            uint64_t s;
            memcpy(&s, k.mv_data, 8);
            live.last_seq = be64toh(s);
        }
        mdb_cursor_close(cur);
    }
    if ((rc = open_fresh(&fresh, &fv, tmp, live.map_size * 2 + (64 << 20), e)))
        goto out_tmp;
    rc = replay(&live, rtxn, &fresh, &fv, &r->events, e);
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
