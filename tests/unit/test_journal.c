/* tests/unit/test_journal.c - the log's journal without sockets: frames
 * read back in order, a torn frame ends the scan, a new round stops at
 * the previous round's frames, a full journal writes nothing, and a
 * writer's log_open replays what the LMDB log lacks (and refuses a
 * journal of another log). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/journal.h"
#include "../../core/log.h"
#include "../common/logfix.h"

#define CAP (256 * 1024)
#define FRAMES_MAX 8

static char dir[64];

/* A segment of n events (numbered from i) sealed into a job, not
 * written to the LMDB log. */
static struct log_job *segment(struct log_batch *b, int i, int n)
{
    struct log_job *j;
    struct err e = {0};
    assert_int_equal(log_batch_begin(b, &e), 0);
    for (int k = 0; k < n; k++)
        logfix_append(b, "s", i + k);
    log_batch_seal(b, &j);
    assert_non_null(j);
    return j;
}

static void fresh(struct log *l)
{
    struct err e = {0};
    snprintf(dir, sizeof(dir), "/tmp/deskd-test-journal.XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(log_open(l, dir, 1 << 20, false, &e), 0);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A writer's log in a fresh directory with n events (numbered from first)
 * committed to it, its batch, and with cap > 0 a journal. */
struct fx {
    struct log l;
    struct log_batch b;
    struct journal j;
    bool journal;
};

static void fx_open(struct fx *x, int first, int n, size_t cap)
{
    struct err e = {0};
    memset(x, 0, sizeof(*x));
    fresh(&x->l);
    log_batch_init(&x->b, &x->l, 480);
    if (n) {
        assert_int_equal(log_batch_begin(&x->b, &e), 0);
        for (int i = 0; i < n; i++)
            logfix_append(&x->b, "s", first + i);
        assert_int_equal(log_batch_commit(&x->b, &e), 0);
    }
    if (cap) {
        assert_int_equal(journal_open(&x->j, dir, cap, x->l.last_hash, &e), 0);
        x->journal = true;
    }
}

/* Closes everything as a killed deskd would leave it: what is journaled
 * stays out of the LMDB log. The directory stays (cleanup). */
static void fx_close(struct fx *x)
{
    if (x->journal)
        journal_close(&x->j);
    x->journal = false;
    log_batch_abort(&x->b);
    log_batch_release(&x->b);
    log_close(&x->l);
}

struct seen {
    int n;
    uint64_t first[FRAMES_MAX], last[FRAMES_MAX];
    unsigned char prev[FRAMES_MAX][LOG_HASH_LEN],
        hash[FRAMES_MAX][LOG_HASH_LEN];
    size_t len[FRAMES_MAX];
};

static int collect(void *ctx, const struct journal_frame *fr)
{
    struct seen *s = ctx;
    assert_true(s->n < FRAMES_MAX);
    s->first[s->n] = fr->first_seq;
    s->last[s->n] = fr->last_seq;
    memcpy(s->prev[s->n], fr->prev_hash, LOG_HASH_LEN);
    memcpy(s->hash[s->n], fr->last_hash, LOG_HASH_LEN);
    s->len[s->n] = fr->len;
    s->n++;
    return 0;
}

static struct seen scan(void)
{
    struct seen s = {0};
    struct err e = {0};
    assert_int_equal(journal_scan(dir, collect, &s, &e), 0);
    return s;
}

static void test_frames_read_back_in_order(void **state)
{
    struct fx x;
    struct err e = {0};
    struct log_job *a, *c;
    unsigned char zero[LOG_HASH_LEN] = {0};
    struct seen s;
    (void)state;

    fx_open(&x, 0, 0, CAP);
    a = segment(&x.b, 0, 3);
    assert_int_equal(journal_append(&x.j, a, &e), 0);
    c = segment(&x.b, 3, 2);
    assert_int_equal(journal_append(&x.j, c, &e), 0);

    s = scan();
    assert_int_equal(s.n, 2);
    assert_int_equal(s.first[0], 1);
    assert_int_equal(s.last[0], 3);
    assert_int_equal(s.first[1], 4);
    assert_int_equal(s.last[1], 5);
    assert_memory_equal(s.prev[0], zero, LOG_HASH_LEN); /* before seq 1 */
    assert_memory_equal(s.hash[0], a->hash, LOG_HASH_LEN);
    assert_memory_equal(s.prev[1], a->hash, LOG_HASH_LEN);
    assert_memory_equal(s.hash[1], c->hash, LOG_HASH_LEN);
    assert_int_equal(s.len[0], cw_len(&a->recs));
    assert_int_equal(s.len[1], cw_len(&c->recs));

    fx_close(&x);
    cleanup();
}

/* A power cut in the middle of a frame's write: its sum no longer
 * matches and the scan ends before it (it was never acknowledged). */
static void test_torn_frame_ends_the_scan(void **state)
{
    struct fx x;
    struct err e = {0};
    char path[128];
    unsigned char c;
    off_t at;
    int fd;
    (void)state;

    fx_open(&x, 0, 0, CAP);
    assert_int_equal(journal_append(&x.j, segment(&x.b, 0, 3), &e), 0);
    at = (off_t)x.j.pos;
    assert_int_equal(journal_append(&x.j, segment(&x.b, 3, 2), &e), 0);
    fx_close(&x);
    assert_int_equal(scan().n, 2);

    snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    at += JOURNAL_HEAD + 7; /* a byte of the second frame's records */
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    assert_int_equal(scan().n, 1);
    cleanup();
}

/* After a rewind the next frame goes to offset 0; the previous round's
 * frames after it are whole but do not follow it (lower seqs). */
static void test_new_round_stops_at_the_old_one(void **state)
{
    struct fx x;
    struct err e = {0};
    struct log_job *k;
    struct seen s;
    size_t first_len;
    (void)state;

    fx_open(&x, 0, 0, CAP);
    assert_int_equal(journal_append(&x.j, segment(&x.b, 10, 3), &e), 0);
    first_len = x.j.pos;
    assert_int_equal(journal_append(&x.j, segment(&x.b, 20, 2), &e), 0);
    k = segment(&x.b, 30, 3); /* as long as the first frame */
    journal_rewind(&x.j, x.j.last_hash);
    assert_int_equal(journal_append(&x.j, k, &e), 0);
    assert_int_equal(x.j.pos, first_len); /* the old second frame is next */

    s = scan();
    assert_int_equal(s.n, 1);
    assert_int_equal(s.first[0], 6);
    assert_int_equal(s.last[0], 8);

    fx_close(&x);
    cleanup();
}

static void test_full_journal_writes_nothing(void **state)
{
    struct fx x;
    struct err e = {0};
    struct log_job *a;
    (void)state;

    fx_open(&x, 0, 0, 0);
    a = segment(&x.b, 0, 3);
    assert_int_equal(journal_open(&x.j, dir,
                                  JOURNAL_HEAD + cw_len(&a->recs) - 1,
                                  x.l.last_hash, &e),
                     0);
    x.journal = true;
    assert_int_equal(journal_append(&x.j, a, &e), JOURNAL_FULL);
    assert_int_equal(x.j.pos, 0);
    assert_int_equal(scan().n, 0);

    fx_close(&x);
    cleanup();
}

/* Events acknowledged from the journal but never committed to the LMDB
 * log (a kill -9 or a power cut between the two) are in the log after a
 * writer's log_open; the journal is cleared, and the chain verifies. */
static void test_log_open_replays_the_journal(void **state)
{
    struct fx x;
    struct log l;
    struct err e = {0};
    struct log_job *a;
    unsigned char want[LOG_HASH_LEN];
    uint64_t count = 0, bad = 0;
    (void)state;

    fx_open(&x, 0, 2, CAP);  /* 1..2 in LMDB */
    a = segment(&x.b, 2, 3); /* 3..5 journaled only */
    memcpy(want, a->hash, LOG_HASH_LEN);
    assert_int_equal(journal_append(&x.j, a, &e), 0);
    fx_close(&x);

    assert_int_equal(log_open(&l, dir, 1 << 20, true, &e), 0);
    assert_int_equal(l.last_seq, 2); /* a reader does not replay */
    log_close(&l);

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_int_equal(l.journal_replayed, 3);
    assert_int_equal(l.last_seq, 5);
    assert_memory_equal(l.last_hash, want, LOG_HASH_LEN);
    assert_int_equal(log_verify(&l, &count, &bad, &e), 0);
    assert_int_equal(count, 5);
    log_close(&l);
    assert_int_equal(scan().n, 0); /* cleared */

    assert_int_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_int_equal(l.journal_replayed, 0);
    assert_int_equal(l.last_seq, 5);
    log_close(&l);
    cleanup();
}

/* A journal that does not follow the log (another log's, or one whose
 * log was replaced) is not replayed into it: log_open refuses to start. */
static void test_journal_of_another_log_is_refused(void **state)
{
    struct fx x;
    struct log l;
    struct err e = {0};
    char other[64], cmd[256];
    (void)state;

    fx_open(&x, 0, 1, CAP); /* log A: 1 event, then 2..3 journaled */
    assert_int_equal(journal_append(&x.j, segment(&x.b, 1, 2), &e), 0);
    fx_close(&x);
    snprintf(other, sizeof(other), "%s", dir);

    fx_open(&x, 7, 1, 0); /* log B: 1 other event */
    fx_close(&x);

    snprintf(cmd, sizeof(cmd), "cp %s/" JOURNAL_FILE " %s/", other, dir);
    assert_int_equal(system(cmd), 0);
    assert_int_not_equal(log_open(&l, dir, 1 << 20, false, &e), 0);
    assert_non_null(strstr(e.msg, "journal"));
    assert_int_equal(log_open(&l, dir, 1 << 20, true, &e), 0);
    assert_int_equal(l.last_seq, 1); /* nothing of A went in */
    log_close(&l);
    cleanup();
    snprintf(dir, sizeof(dir), "%s", other);
    cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_read_back_in_order),
        cmocka_unit_test(test_torn_frame_ends_the_scan),
        cmocka_unit_test(test_new_round_stops_at_the_old_one),
        cmocka_unit_test(test_full_journal_writes_nothing),
        cmocka_unit_test(test_log_open_replays_the_journal),
        cmocka_unit_test(test_journal_of_another_log_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
