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

/* The last seq to replay: until_seq, or before the first event recorded
 * after until_ms (INT64_MAX: no time limit). */
static int replay_end(MDB_txn *rtxn, const struct log *live, uint64_t until_seq,
                      int64_t until_ms, uint64_t *end, struct progress *p,
                      struct err *e)
{
    *end = until_seq;
    if (until_ms == INT64_MAX)
        return 0;
    progress_begin(p, "finding the last event", "events", until_seq);
    for (uint64_t seq = 1; seq <= until_seq; seq++) {
        const unsigned char *hash;
        const char *body;
        size_t len;
        struct codec_doc doc;
        struct event ev;
        int rc = log_get(rtxn, live, seq, &hash, &body, &len);
        if (!rc)
            rc = event_parse(&ev, &doc, body, len, e);
        if (rc) {
            progress_abort(p);
            return err_set(e, ERR_UNAVAILABLE, NULL,
                           "replay: seq %llu is unreadable",
                           (unsigned long long)seq);
        }
        codec_doc_release(&doc);
        if (ev.recorded_at > until_ms) {
            *end = seq - 1;
            break;
        }
        progress_update(p, seq);
    }
    progress_end(p);
    return 0;
}

/* Copies the log up to end into the empty data dir out (in txns of
 * REPLAY_TXN_EVENTS), then derives its state the way deskd catches up at
 * start (log_catch_up), so replay and start-up are one piece of code. */
static int replay_into(struct log *live, MDB_txn *rtxn, const char *out,
                       uint64_t end, struct progress *p, struct err *e)
{
    struct log fresh;
    MDB_txn *w;
    int rc = log_open(&fresh, out, live->map_size * 2 + (64 << 20), false, e);

    if (rc)
        return rc;
    progress_begin(p, "copying the log", "events", end);
    for (uint64_t first = 1; first <= end && !rc; first += REPLAY_TXN_EVENTS) {
        uint64_t last = first + REPLAY_TXN_EVENTS - 1;
        if ((rc = mdb_txn_begin(fresh.env, NULL, 0, &w)))
            break;
        rc = log_copy(rtxn, live, w, &fresh, first, last < end ? last : end,
                      end);
        if (rc)
            mdb_txn_abort(w);
        else
            rc = mdb_txn_commit(w);
        progress_update_now(p, last < end ? last : end);
    }
    log_close(&fresh);
    if (rc) {
        progress_abort(p);
        return err_set(e, ERR_UNAVAILABLE, NULL, "replay: copy failed: %s",
                       mdb_strerror(rc));
    }
    progress_end(p);
    return rebuild_derived(out, live->map_size * 2 + (64 << 20), p, e);
}

int rebuild_derived(const char *dir, size_t map_size, struct progress *p,
                    struct err *e)
{
    struct log l;
    struct views v;
    MDB_txn *w;
    int rc = log_open(&l, dir, map_size, false, e);

    if (rc)
        return rc;
    l.progress = p;
    if ((rc = mdb_txn_begin(l.denv, NULL, 0, &w)))
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "derive: %s", mdb_strerror(rc));
    else if ((rc = views_open(w, &v, true, e)))
        mdb_txn_abort(w);
    else if ((rc = mdb_txn_commit(w)))
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "derive: %s", mdb_strerror(rc));
    if (!rc)
        rc = log_catch_up(&l, proj_derive, &v, e);
    if (!rc)
        rc = log_sync(&l, e);
    log_close(&l); /* flushes derived state and marks it clean */
    return rc;
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

/* Every projection table of two derived snapshots, in order. */
static int compare_views(MDB_txn *ta, MDB_txn *tb, struct rebuild_report *r,
                         struct progress *p, struct err *e)
{
    struct views va, vb;
    int rc;
    if ((rc = views_open(ta, &va, false, e)) ||
        (rc = views_open(tb, &vb, false, e)))
        return rc;
    r->identical = true;
    progress_begin(p, "comparing", "tables", DB_COUNT);
    for (int i = 0; i < DB_COUNT && r->identical; i++) {
        r->identical = same_db(ta, va.dbi[i], tb, vb.dbi[i], proj_db_names[i],
                               r->first_diff, sizeof(r->first_diff));
        progress_update_now(p, (uint64_t)i + 1);
    }
    progress_end(p);
    return 0;
}

/* Opens a data dir read-only with one snapshot of its derived state
 * (and of its log when ltxn is given). */
static int open_snap(struct log *l, const char *dir, MDB_txn **dtxn,
                     MDB_txn **ltxn, struct err *e)
{
    int rc = log_open(l, dir, 0, true, e);
    if (rc)
        return rc;
    if (ltxn && (rc = log_read_begin(l, ltxn, e)))
        goto out_close;
    if ((rc = log_derived_begin(l, dtxn, e)))
        goto out_ltxn;
    return 0;
out_ltxn:
    if (ltxn)
        mdb_txn_abort(*ltxn);
out_close:
    log_close(l);
    return rc;
}

static void close_snap(struct log *l, MDB_txn *dtxn, MDB_txn *ltxn)
{
    if (dtxn)
        mdb_txn_abort(dtxn);
    if (ltxn)
        mdb_txn_abort(ltxn);
    log_close(l);
}

int rebuild_scratch_dir(char *tmp, size_t cap, struct err *e)
{
    const char *base = getenv("TMPDIR");
    /* the scratch tables can be as large as the live ones: $TMPDIR says
     * where there is room for them (/tmp when unset) */
    if ((size_t)snprintf(tmp, cap, "%s/" REBUILD_TMP_NAME,
                         base && *base ? base : "/tmp") >= cap ||
        !mkdtemp(tmp))
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "cannot make a scratch directory in '%s': %s",
                       base && *base ? base : "/tmp", strerror(errno));
    return 0;
}

void rebuild_scratch_remove(const char *dir)
{
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int rebuild_compare(const char *data_dir, struct rebuild_report *r,
                    struct progress *p, struct err *e)
{
    char tmp[PATH_MAX];
    struct log live, fresh;
    MDB_txn *dtxn, *ltxn, *ftxn;
    uint64_t applied;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = open_snap(&live, data_dir, &dtxn, &ltxn, e)))
        return rc;
    /* the live tables hold the log up to their applied seq: replay that */
    if ((rc = log_applied_seq(dtxn, &live, &applied)) ||
        (rc = rebuild_scratch_dir(tmp, sizeof(tmp), e)))
        goto out_snap;
    if ((rc = replay_into(&live, ltxn, tmp, applied, p, e)))
        goto out_tmp;
    r->events = applied;
    if (!(rc = open_snap(&fresh, tmp, &ftxn, NULL, e))) {
        rc = compare_views(dtxn, ftxn, r, p, e);
        close_snap(&fresh, ftxn, NULL);
    }
out_tmp:
    rebuild_scratch_remove(tmp);
out_snap:
    close_snap(&live, dtxn, ltxn);
    return rc;
}

int audit_verify_print(const char *data_dir, struct progress *p)
{
    struct log l;
    struct err e = {0};
    uint64_t n, bad;
    int rc = log_open(&l, data_dir, 0, true, &e);
    if (rc) {
        fprintf(stderr, "cannot open log: %s\n", e.msg);
        return 2;
    }
    l.progress = p;
    rc = log_verify(&l, &n, &bad, &e);
    log_close(&l);
    if (rc) {
        printf("BROKEN at seq %llu: %s\n", (unsigned long long)bad, e.msg);
        return 1;
    }
    printf("OK %llu events, hash chain intact\n", (unsigned long long)n);
    return 0;
}

int audit_rebuild_print(const char *data_dir, struct progress *p)
{
    struct rebuild_report r;
    struct err e = {0};
    if (rebuild_compare(data_dir, &r, p, &e)) {
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
                  int64_t until_ms, struct replay_report *r, struct progress *p,
                  struct err *e)
{
    struct log live;
    MDB_txn *rtxn;
    uint64_t end;
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
    rc = replay_end(rtxn, &live,
                    until_seq && until_seq < live.last_seq ? until_seq
                                                           : live.last_seq,
                    until_ms ? until_ms : INT64_MAX, &end, p, e);
    if (!rc)
        rc = replay_into(&live, rtxn, out_dir, end, p, e);
    if (!rc) {
        r->events = end;
        r->live_last_seq = live.last_seq;
    }
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
    if ((rc = open_snap(&l, dir, &txn, NULL, e)))
        return rc;
    if ((rc = views_open(txn, &v, false, e)) ||
        (rc = log_applied_seq(txn, &l, &fp->last_seq)))
        goto out_txn;
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
    close_snap(&l, txn, NULL);
    return rc;
}

int rebuild_compare_dirs(const char *a, const char *b, struct rebuild_report *r,
                         struct err *e)
{
    struct log la, lb;
    MDB_txn *ta, *tb;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = open_snap(&la, a, &ta, NULL, e)))
        return rc;
    if ((rc = open_snap(&lb, b, &tb, NULL, e))) {
        close_snap(&la, ta, NULL);
        return rc;
    }
    rc = log_applied_seq(tb, &lb, &r->events);
    if (!rc)
        rc = compare_views(ta, tb, r, NULL, e);
    close_snap(&lb, tb, NULL);
    close_snap(&la, ta, NULL);
    return rc;
}
