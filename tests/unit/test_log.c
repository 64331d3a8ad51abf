/* tests/unit/test_log.c - the event log without sockets: gapless seq over
 * batches, stream versions, the hash chain across a reopen, tamper
 * detection, command ids, abort, map growth, and derived state's map
 * reserved on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../../core/log.h"
#include "../common/logfix.h"

static char dir[64];

/* One batch of n events of stream "s" (bodies 0..n-1), committed. */
static void commit_events(struct log *l, int n)
{
    struct log_batch b;
    struct err e = {0};
    log_batch_init(&b, l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    for (int i = 0; i < n; i++)
        logfix_append(&b, "s", i);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
}

static void fresh(struct log *l, size_t map)
{
    struct err e = {0};
    snprintf(dir, sizeof(dir), "/tmp/deskd-test-log.XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(log_open(l, dir, map, false, &e), 0);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_seq_streams_chain_reopen(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    uint64_t n, bad, v;
    unsigned char last[LOG_HASH_LEN];
    (void)state;

    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    for (int batch = 0; batch < 3; batch++) {
        assert_int_equal(log_batch_begin(&b, &e), 0);
        for (int i = 0; i < 5; i++)
            logfix_append(&b, i % 2 ? "odd" : "even", batch * 5 + i);
        assert_int_equal(log_batch_commit(&b, &e), 0);
    }
    assert_int_equal(l.last_seq, 15);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    assert_int_equal(log_stream_version(b.txn, &l, "even", 4, &v), 0);
    assert_int_equal(v, 9);
    logfix_append(&b, "odd", 99);
    log_batch_abort(&b); /* nothing of it stays */
    log_batch_release(&b);
    assert_int_equal(l.last_seq, 15);
    memcpy(last, l.last_hash, LOG_HASH_LEN);
    assert_int_equal(log_verify(&l, &n, &bad, &e), 0);
    assert_int_equal(n, 15);
    log_close(&l);
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_int_equal(l.last_seq, 15);
    assert_memory_equal(l.last_hash, last, LOG_HASH_LEN);
    log_close(&l);
    cleanup();
}

/* verify names the first altered event */
static void test_tamper_detected(void **state)
{
    struct log l;
    struct err e = {0};
    uint64_t n, bad, seq = 3;
    MDB_txn *txn;
    MDB_val k, v;
    unsigned char key[8], *copy;
    (void)state;

    fresh(&l, 1 << 20);
    commit_events(&l, 6);
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)(seq >> (56 - 8 * i));
    k = (MDB_val){8, key};
    assert_int_equal(mdb_txn_begin(l.env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_get(txn, l.events, &k, &v), 0);
    copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[v.mv_size - 40] ^= 1; /* one bit inside the body */
    v.mv_data = copy;
    assert_int_equal(mdb_put(txn, l.events, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    free(copy);
    assert_int_equal(log_verify(&l, &n, &bad, &e), ERR_INVALID);
    assert_int_equal(bad, 3);
    assert_non_null(strstr(e.msg, "seq 3"));
    log_close(&l);
    cleanup();
}

static void test_cmd_ids(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    struct log_cmd_rec r = {{1, 2, 3}, 17, 2}, got;
    (void)state;
    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    assert_int_equal(log_cmd_get(b.txn, &l, "x", 1, &got), MDB_NOTFOUND);
    assert_int_equal(log_cmd_put(b.txn, &l, "x", 1, &r), 0);
    assert_int_equal(log_cmd_get(b.txn, &l, "x", 1, &got), 0);
    assert_memory_equal(got.fp, r.fp, LOG_HASH_LEN);
    assert_int_equal(got.first_seq, 17);
    assert_int_equal(got.nevents, 2);
    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);
    cleanup();
}

/* MDB_MAP_FULL: abort, grow, run the same batch again; nothing lost. */
static void test_map_grows(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    uint64_t n, bad;
    int i = 0, grows = 0;
    (void)state;
    fresh(&l, 32 * 4096);
    log_batch_init(&b, &l, 480);
    while (i < 20000) {
        int start = i, rc = log_batch_begin(&b, &e);
        assert_int_equal(rc, 0);
        for (; i < start + 500 && rc == 0; i++) {
            struct cw w;
            struct log_event_in in = {
                "clock.advanced", "s", 1, 1, 0, "a", NULL, "c", 1, NULL, 0};
            uint64_t seq;
            const char *body;
            size_t len;
            cw_init(&w);
            cw_map(&w, 1);
            cw_kint(&w, "i", i);
            in.data = cw_data(&w);
            in.data_len = cw_len(&w);
            rc = log_append(&b, &in, &seq, &body, &len);
            cw_release(&w);
        }
        if (rc == 0)
            rc = log_batch_commit(&b, &e);
        else
            log_batch_abort(&b);
        if (rc == MDB_MAP_FULL) {
            assert_int_equal(log_grow(&l, &e), 0);
            grows++;
            i = start;
            continue;
        }
        assert_int_equal(rc, 0);
    }
    log_batch_release(&b);
    /* the log's map grows in log_write itself, derived state's here */
    assert_true(l.grows >= 5);
    assert_int_equal(log_verify(&l, &n, &bad, &e), 0);
    assert_int_equal(n, 20000);
    log_close(&l);
    cleanup();
}

struct seen {
    uint64_t seq[32];
    int n;
};

static int note(void *ctx, uint64_t seq, const char *body, size_t len)
{
    struct seen *s = ctx;
    (void)body, (void)len;
    if (s->n < 32)
        s->seq[s->n++] = seq;
    return 0;
}

static int stream_seqs(struct log *l, const char *stream, struct seen *s,
                       bool *scanned)
{
    struct err e = {0};
    MDB_txn *txn, *dtxn = NULL;
    int rc;
    s->n = 0;
    assert_int_equal(log_read_begin(l, &txn, &e), 0);
    if (l->denv)
        assert_int_equal(log_derived_begin(l, &dtxn, &e), 0);
    rc = log_stream_events(dtxn, txn, l, stream, strlen(stream), note, s,
                           scanned);
    if (dtxn)
        mdb_txn_abort(dtxn);
    mdb_txn_abort(txn);
    return rc;
}

static uint64_t version_of(struct log *l, MDB_txn *txn, const char *stream)
{
    uint64_t v = 99;
    assert_int_equal(log_stream_version(txn, l, stream, strlen(stream), &v), 0);
    return v;
}

/* A stream's version is its last key in the stream index: streams whose
 * names share a beginning keep theirs apart, in the batch's own txn (not
 * committed yet) and after a reopen; derived state written with the old
 * table of stream versions loses that table. */
static void test_stream_versions_from_the_index(void **state)
{
    static const char *names[] = {"a", "ab", "abc", "ab", "a", "ab"};
    struct log l;
    struct log_batch b;
    struct err e = {0};
    MDB_txn *txn;
    MDB_dbi old;
    (void)state;

    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    for (int i = 0; i < 6; i++)
        logfix_append(&b, names[i], i);
    assert_int_equal(version_of(&l, b.txn, "a"), 2);
    assert_int_equal(version_of(&l, b.txn, "ab"), 3);
    assert_int_equal(version_of(&l, b.txn, "abc"), 1);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
    /* the old table, as derived state written before had it */
    assert_int_equal(mdb_txn_begin(l.denv, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "streams", MDB_CREATE, &old), 0);
    {
        unsigned char vb[8] = {0, 0, 0, 0, 0, 0, 0, 9};
        MDB_val k = {1, (void *)"a"}, v = {8, vb};
        assert_int_equal(mdb_put(txn, old, &k, &v, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    log_close(&l);

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_false(l.rebuilt);
    assert_int_equal(mdb_txn_begin(l.denv, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(version_of(&l, txn, "a"), 2);
    assert_int_equal(version_of(&l, txn, "ab"), 3);
    assert_int_equal(version_of(&l, txn, "abc"), 1);
    /* none: before every key, between two, after every key, too long */
    assert_int_equal(version_of(&l, txn, "0"), 0);
    assert_int_equal(version_of(&l, txn, "aa"), 0);
    assert_int_equal(version_of(&l, txn, "abcd"), 0);
    assert_int_equal(version_of(&l, txn, "abd"), 0); /* "abc" just before */
    assert_int_equal(version_of(&l, txn, "zz"), 0);
    {
        char big[LOG_STREAM_MAX + 2];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(version_of(&l, txn, big), 0);
    }
    /* emptied, and kept for an older deskd's read-only tools */
    {
        MDB_stat st;
        assert_int_equal(mdb_dbi_open(txn, "streams", 0, &old), 0);
        assert_int_equal(mdb_stat(txn, old, &st), 0);
        assert_int_equal(st.ms_entries, 0);
    }
    mdb_txn_abort(txn);
    log_close(&l);
    cleanup();
}

/* The first line of dir/rel. */
static void first_line(const char *rel, char *out, size_t cap)
{
    char path[128];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_non_null(f = fopen(path, "r"));
    if (!fgets(out, (int)cap, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static void put_line(const char *rel, const char *line)
{
    char path[128];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "%s\n", line);
    fclose(f);
}

/* Opens the log whose derived/state says line: rebuilt or kept. */
static void reopen_with_state(const char *line, bool rebuilt)
{
    struct log l;
    struct err e = {0};
    put_line("derived/state", line);
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    if (l.rebuilt != rebuilt)
        fail_msg("state '%s': rebuilt %d", line, (int)l.rebuilt);
    log_close(&l);
}

/* Derived state without a table of stream versions (layout 2) is marked so
 * that a deskd from before it rebuilds instead of reading versions from a
 * table nobody writes: that deskd trusts only a state line "clean" or
 * "dirty <boot id>" and a checkpoint record headed exactly "deskd
 * derived-state checkpoint", so none of those may be written now.
 * Derived state of layout 1 (those markers) holds the same stream index
 * and is read as it is. */
static void test_derived_layout_marked(void **state)
{
    struct log l;
    struct err e = {0};
    char line[160];
    uint64_t seq = 0;
    (void)state;

    setenv("DESKD_BOOT_ID", "layout-boot-1", 1);
    fresh(&l, 1 << 20);
    commit_events(&l, 1);
    first_line("derived/state", line, sizeof(line));
    assert_string_equal(line, "dirty2 layout-boot-1");
    assert_int_equal(log_checkpoint(&l, &seq, &e), 0);
    assert_int_equal(seq, 1);
    first_line("derived.ckpt/checkpoint", line, sizeof(line));
    assert_string_equal(line, "deskd derived-state checkpoint 2");
    log_close(&l);
    first_line("derived/state", line, sizeof(line));
    assert_string_equal(line, "clean 2");

    /* layout 1, closed cleanly, and after a process crash: kept */
    put_line("derived/state", "clean");
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_false(l.rebuilt);
    assert_int_equal(l.applied_seq, 1);
    first_line("derived/state", line, sizeof(line)); /* marked layout 2 */
    assert_string_equal(line, "dirty2 layout-boot-1");
    log_close(&l);
    reopen_with_state("dirty layout-boot-1", false);
    /* layout 2 after a process crash: kept */
    reopen_with_state("dirty2 layout-boot-1", false);
    /* either layout, left open by another boot: rebuilt */
    reopen_with_state("dirty layout-boot-0", true);
    reopen_with_state("dirty2 layout-boot-0", true);
    /* a checkpoint record of layout 1 is still one */
    {
        char path[128], buf[512];
        FILE *f;
        size_t n;
        snprintf(path, sizeof(path), "%s/derived.ckpt/checkpoint", dir);
        assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
        assert_int_equal(log_checkpoint(&l, &seq, &e), 0);
        assert_non_null(f = fopen(path, "r"));
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        assert_int_equal(strncmp(buf, "deskd derived-state checkpoint 2\n", 33),
                         0);
        assert_non_null(f = fopen(path, "w"));
        fprintf(f, "deskd derived-state checkpoint\n%s", buf + 33);
        fclose(f);
        assert_int_equal(log_checkpoint_check(&l, &seq, line, sizeof(line)), 0);
        assert_int_equal(seq, 1);
        log_close(&l);
    }
    unsetenv("DESKD_BOOT_ID");
    cleanup();
}

/* the stream index: derived state written with each event; a read-only
 * open of a data dir without derived state scans the log, and a writer
 * rebuilds it from the log */
static void test_stream_index(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    struct seen s = {{0}, 0};
    char path[160];
    bool scanned = true;
    (void)state;

    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    for (int i = 0; i < 9; i++)
        logfix_append(&b, i % 3 ? "other" : "unit:HY/3-1201", i);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
    assert_int_equal(stream_seqs(&l, "unit:HY/3-1201", &s, &scanned), 0);
    assert_false(scanned);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seq[0], 1);
    assert_int_equal(s.seq[1], 4);
    assert_int_equal(s.seq[2], 7);

    /* derived state lost */
    log_close(&l);
    snprintf(path, sizeof(path), "%s/derived/data.mdb", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(log_open(&l, dir, 1 << 20, true, &e), 0);
    assert_null(l.denv);
    assert_int_equal(stream_seqs(&l, "unit:HY/3-1201", &s, &scanned), 0);
    assert_true(scanned);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seq[2], 7);
    log_close(&l);
    /* a writer builds it */
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_true(l.rebuilt);
    assert_int_equal(log_catch_up(&l, NULL, NULL, &e), 0);
    assert_int_equal(stream_seqs(&l, "other", &s, &scanned), 0);
    assert_false(scanned);
    assert_int_equal(s.n, 6);
    assert_int_equal(s.seq[5], 9);
    log_close(&l);
    cleanup();
}

struct lines {
    int n;
    char last[PROGRESS_LINE_MAX];
};

static void keep_line(void *ctx, const char *line)
{
    struct lines *g = ctx;
    g->n++;
    snprintf(g->last, sizeof(g->last), "%s", line);
}

/* Catching up in steps (deskd's loop): each step replays at most max
 * events and the phase's count reaches the total; the last line says how
 * many and how long. Nothing to replay: no step, no line. */
static void test_catch_up_in_steps_reports_progress(void **state)
{
    struct log l;
    struct err e = {0};
    struct progress p;
    struct lines got = {0};
    char cmd[160];
    (void)state;

    fresh(&l, 1 << 20);
    commit_events(&l, 25);
    log_close(&l);
    snprintf(cmd, sizeof(cmd), "rm -rf %s/derived", dir);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    progress_init_fn(&p, keep_line, &got);
    l.progress = &p;
    assert_int_equal(log_catch_up_begin(&l), 25);
    assert_int_equal(log_catch_up_step(&l, NULL, NULL, 10, &e), 0);
    assert_int_equal(l.applied_seq, 10);
    assert_int_equal(p.done, 10);
    assert_int_equal(log_catch_up_step(&l, NULL, NULL, 10, &e), 0);
    assert_int_equal(log_catch_up_step(&l, NULL, NULL, 10, &e), 0);
    assert_int_equal(l.applied_seq, 25);
    assert_int_equal(p.done, 25);
    progress_end(&p);
    assert_int_equal(got.n, 2); /* the count to replay, the totals */
    assert_memory_equal(got.last, "derived state: replaying: 25 events in ",
                        39);
    log_close(&l);

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    l.progress = &p;
    assert_int_equal(log_catch_up(&l, NULL, NULL, &e), 0);
    assert_int_equal(got.n, 2); /* the count to replay, the totals */
    log_close(&l);
    cleanup();
}

/* Fills derived state fast: a 64 KiB value per event in its own sub-db. */
static int fat_derive(void *ctx, MDB_txn *dtxn, uint64_t seq,
                      const msgpack_object *body)
{
    static char big[64 * 1024];
    MDB_dbi dbi;
    MDB_val k = {sizeof(seq), &seq}, v = {sizeof(big), big};
    int rc = mdb_dbi_open(dtxn, "fat", MDB_CREATE, &dbi);
    (void)ctx, (void)body;
    return rc ? rc : mdb_put(dtxn, dbi, &k, &v, 0);
}

/* Bug: a derived txn that filled the map in the middle of a catch-up step
 * lost that error (the cursor moved on) and the step failed with
 * MDB_BAD_TXN on the next event, so deskd stopped at start instead of
 * growing the map. The catch-up grows the maps itself and completes. */
static void test_catch_up_map_full_is_reported(void **state)
{
    struct log l;
    struct err e = {0};
    char cmd[160];
    (void)state;

    fresh(&l, 1 << 20);
    commit_events(&l, 40); /* 40 x 64 KiB: more than the 1 MiB map */
    log_close(&l);
    snprintf(cmd, sizeof(cmd), "rm -rf %s/derived", dir);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    if (log_catch_up(&l, fat_derive, NULL, &e))
        fail_msg("catch-up failed: %s", e.msg);
    assert_true(l.grows > 0);
    assert_int_equal(l.applied_seq, 40);
    log_close(&l);
    cleanup();
}

/* Command ids survive the loss of derived state: they are recorded in the
 * log too, and a writer rebuilds them with the stream versions. */
static void test_cmd_ids_rebuilt_from_the_log(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    struct log_cmd_rec r = {{9, 8, 7}, 2, 2}, got;
    char path[160];
    uint64_t v;
    MDB_txn *txn;
    (void)state;

    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 1);
    logfix_append(&b, "s", 2);
    logfix_append(&b, "t", 3);
    assert_int_equal(log_batch_cmd(&b, "cmd-a", 5, &r), 0);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
    assert_int_equal(l.applied_seq, 3);
    log_close(&l);
    snprintf(path, sizeof(path), "%s/derived", dir);
    {
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_true(l.rebuilt);
    assert_int_equal(l.applied_seq, 0);
    assert_int_equal(log_catch_up(&l, NULL, NULL, &e), 0);
    assert_int_equal(l.applied_seq, 3);
    assert_int_equal(log_derived_begin(&l, &txn, &e), 0);
    assert_int_equal(log_cmd_get(txn, &l, "cmd-a", 5, &got), 0);
    assert_memory_equal(got.fp, r.fp, LOG_HASH_LEN);
    assert_int_equal(got.first_seq, 2);
    assert_int_equal(got.nevents, 2);
    assert_int_equal(log_stream_version(txn, &l, "s", 1, &v), 0);
    assert_int_equal(v, 2);
    mdb_txn_abort(txn);
    log_close(&l);
    cleanup();
}

/* Derived state that is ahead of the log (the log lost its last batch,
 * e.g. a failed flush before a restart) is discarded and rebuilt. */
static void test_derived_ahead_of_the_log_is_rebuilt(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    char cmd[400];
    (void)state;

    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 1);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_close(&l);
    /* keep the one-event log; let derived state run two events ahead */
    snprintf(cmd, sizeof(cmd), "cp %s/data.mdb %s/log1", dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 2);
    logfix_append(&b, "s", 3);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
    log_close(&l);
    snprintf(cmd, sizeof(cmd), "mv %s/log1 %s/data.mdb", dir, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_int_equal(l.last_seq, 1);
    assert_true(l.rebuilt);
    assert_int_equal(l.applied_seq, 0);
    assert_int_equal(log_catch_up(&l, NULL, NULL, &e), 0);
    assert_int_equal(l.applied_seq, 1);
    log_close(&l);
    cleanup();
}

/* A log written before the split (every sub-db in one environment) is
 * migrated: its command ids move into the log's "commands", its other
 * tables are dropped, derived state is rebuilt. */
static void test_legacy_log_is_migrated(void **state)
{
    struct log l;
    struct log_batch b;
    struct err e = {0};
    struct log_cmd_rec got;
    unsigned char old[LOG_HASH_LEN + 12] = {5};
    MDB_val k = {5, "cmd-z"}, v = {sizeof(old), old};
    MDB_dbi d;
    MDB_txn *txn;
    char cmd[200];
    (void)state;

    fresh(&l, 1 << 20);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 1);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
    /* make it look old: no commands; cmd_ids and a table beside events */
    assert_int_equal(mdb_txn_begin(l.env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_drop(txn, l.commands, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "cmd_ids", MDB_CREATE, &d), 0);
    old[LOG_HASH_LEN + 7] = 1;  /* first seq 1 */
    old[LOG_HASH_LEN + 11] = 1; /* 1 event */
    assert_int_equal(mdb_put(txn, d, &k, &v, 0), 0);
    assert_int_equal(mdb_dbi_open(txn, "units", MDB_CREATE, &d), 0);
    assert_int_equal(mdb_put(txn, d, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    log_close(&l);
    snprintf(cmd, sizeof(cmd), "rm -rf %s/derived", dir);
    assert_int_equal(system(cmd), 0);

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_int_equal(log_catch_up(&l, NULL, NULL, &e), 0);
    assert_int_equal(log_derived_begin(&l, &txn, &e), 0);
    assert_int_equal(log_cmd_get(txn, &l, "cmd-z", 5, &got), 0);
    assert_int_equal(got.fp[0], 5);
    assert_int_equal(got.first_seq, 1);
    assert_int_equal(got.nevents, 1);
    mdb_txn_abort(txn);
    assert_int_equal(mdb_txn_begin(l.env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "units", 0, &d), MDB_NOTFOUND);
    assert_int_equal(mdb_dbi_open(txn, "cmd_ids", 0, &d), MDB_NOTFOUND);
    mdb_txn_abort(txn);
    log_close(&l);
    cleanup();
}

/* The derived env's file. */
static struct stat derived_file(const struct log *l)
{
    char p[PATH_MAX + 16];
    struct stat st;
    snprintf(p, sizeof(p), "%s/data.mdb", l->ddir);
    assert_int_equal(stat(p, &st), 0);
    return st;
}

/* Bytes of disk the derived env's file holds. */
static size_t derived_reserved(const struct log *l)
{
    return (size_t)derived_file(l).st_blocks * 512;
}

/* Derived state is written through its map only over blocks reserved on
 * disk, and each growth reserves first: on a full disk the growth fails
 * with an error, the file keeps its size, and derived state goes on in the
 * map it has, where a store into an unreserved page would have been a
 * SIGBUS. Only ext4 counts as writing in place (tmpfs does not, unless a
 * test says so). */
static void test_derived_map_reserved(void **state)
{
    char mnt[] = "/tmp/deskd-test-resv-XXXXXX", junk[64];
    struct log l;
    struct err e = {0};
    struct statfs sf;
    size_t before;
    off_t fill;
    int fd;
    (void)state;
    unsetenv("DESKD_TEST_WRITEMAP");
    fresh(&l, 1 << 20);
    assert_int_equal(statfs(dir, &sf), 0);
    assert_int_equal(l.dwritemap, sf.f_type == EXT4_SUPER_MAGIC);
    log_close(&l);
    cleanup();

    setenv("DESKD_TEST_WRITEMAP", "1", 1);
    fresh(&l, 1 << 20);
    assert_true(l.dwritemap);
    assert_true(derived_reserved(&l) >= l.dmap_size);
    assert_int_equal(log_grow(&l, &e), 0);
    assert_int_equal(l.dmap_size, 2 << 20);
    assert_true(derived_reserved(&l) >= l.dmap_size);
    commit_events(&l, 5);
    log_close(&l);
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_true(l.dwritemap);
    assert_int_equal(l.applied_seq, 5);
    assert_true(derived_reserved(&l) >= l.dmap_size);
    log_close(&l);
    cleanup();

    assert_non_null(mkdtemp(mnt));
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m")) {
        fprintf(stderr, "test_log: SKIPPED full-disk growth: cannot mount a "
                        "tmpfs; run as root with CAP_SYS_ADMIN\n");
        rmdir(mnt);
        unsetenv("DESKD_TEST_WRITEMAP");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/data", mnt);
    unsetenv("DESKD_TEST_WRITEMAP");
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_false(l.dwritemap); /* tmpfs: the reserve would be memory */
    log_close(&l);
    setenv("DESKD_TEST_WRITEMAP", "1", 1);
    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_true(l.dwritemap);
    snprintf(junk, sizeof(junk), "%s/junk", mnt);
    fd = open(junk, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    for (fill = 0; fallocate(fd, 0, 0, fill + (64 << 10)) == 0;)
        fill += 64 << 10;
    /* the disk is full; 64 KiB again free for the log's pages */
    assert_int_equal(ftruncate(fd, fill - (64 << 10)), 0);
    close(fd);
    before = l.dmap_size;
    assert_int_not_equal(log_grow(&l, &e), 0);
    assert_non_null(strstr(e.msg, "disk is full"));
    assert_int_equal(l.dmap_size, before);
    /* no partial reserve kept */
    assert_int_equal(derived_file(&l).st_size, before);
    commit_events(&l, 5); /* within the map it has */
    assert_int_equal(l.applied_seq, 5);
    log_close(&l);
    unsetenv("DESKD_TEST_WRITEMAP");
    assert_int_equal(umount2(mnt, MNT_DETACH), 0);
    rmdir(mnt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_streams_chain_reopen),
        cmocka_unit_test(test_tamper_detected),
        cmocka_unit_test(test_cmd_ids),
        cmocka_unit_test(test_map_grows),
        cmocka_unit_test(test_derived_map_reserved),
        cmocka_unit_test(test_stream_index),
        cmocka_unit_test(test_stream_versions_from_the_index),
        cmocka_unit_test(test_derived_layout_marked),
        cmocka_unit_test(test_cmd_ids_rebuilt_from_the_log),
        cmocka_unit_test(test_catch_up_in_steps_reports_progress),
        cmocka_unit_test(test_catch_up_map_full_is_reported),
        cmocka_unit_test(test_derived_ahead_of_the_log_is_rebuilt),
        cmocka_unit_test(test_legacy_log_is_migrated),
    };
    diag_quiet = 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
