/* tests/unit/test_journal.c - the log's journal without sockets: frames
 * read back in order, a torn frame ends the scan, a new round stops at
 * the previous round's frames, a full journal writes nothing, and a
 * writer's log_open replays what the LMDB log lacks (and refuses a
 * journal of another log). */
#include <setjmp.h>
#include <stdarg.h>
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
    struct log l;
    struct log_batch b;
    struct journal j;
    struct err e = {0};
    struct log_job *a, *c;
    unsigned char zero[LOG_HASH_LEN] = {0};
    struct seen s;
    (void)state;

    fresh(&l);
    log_batch_init(&b, &l, 480);
    assert_int_equal(journal_open(&j, dir, CAP, l.last_hash, &e), 0);
    a = segment(&b, 0, 3);
    assert_int_equal(journal_append(&j, a, &e), 0);
    c = segment(&b, 3, 2);
    assert_int_equal(journal_append(&j, c, &e), 0);

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

    journal_close(&j);
    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);
    cleanup();
}

/* A power cut in the middle of a frame's write: its sum no longer
 * matches and the scan ends before it (it was never acknowledged). */
static void test_torn_frame_ends_the_scan(void **state)
{
    struct log l;
    struct log_batch b;
    struct journal j;
    struct err e = {0};
    struct log_job *a;
    char path[128];
    unsigned char x;
    off_t at;
    int fd;
    (void)state;

    fresh(&l);
    log_batch_init(&b, &l, 480);
    assert_int_equal(journal_open(&j, dir, CAP, l.last_hash, &e), 0);
    a = segment(&b, 0, 3);
    assert_int_equal(journal_append(&j, a, &e), 0);
    at = (off_t)j.pos;
    assert_int_equal(journal_append(&j, segment(&b, 3, 2), &e), 0);
    journal_close(&j);
    assert_int_equal(scan().n, 2);

    snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    at += JOURNAL_HEAD + 7; /* a byte of the second frame's records */
    assert_int_equal(pread(fd, &x, 1, at), 1);
    x ^= 0x40;
    assert_int_equal(pwrite(fd, &x, 1, at), 1);
    close(fd);
    assert_int_equal(scan().n, 1);

    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);
    cleanup();
}

/* After a rewind the next frame goes to offset 0; the previous round's
 * frames after it are whole but do not follow it (lower seqs). */
static void test_new_round_stops_at_the_old_one(void **state)
{
    struct log l;
    struct log_batch b;
    struct journal j;
    struct err e = {0};
    struct log_job *k;
    struct seen s;
    size_t first_len;
    (void)state;

    fresh(&l);
    log_batch_init(&b, &l, 480);
    assert_int_equal(journal_open(&j, dir, CAP, l.last_hash, &e), 0);
    assert_int_equal(journal_append(&j, segment(&b, 10, 3), &e), 0);
    first_len = j.pos;
    assert_int_equal(journal_append(&j, segment(&b, 20, 2), &e), 0);
    k = segment(&b, 30, 3); /* as long as the first frame */
    journal_rewind(&j, j.last_hash);
    assert_int_equal(journal_append(&j, k, &e), 0);
    assert_int_equal(j.pos, first_len); /* the old second frame is next */

    s = scan();
    assert_int_equal(s.n, 1);
    assert_int_equal(s.first[0], 6);
    assert_int_equal(s.last[0], 8);

    journal_close(&j);
    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);
    cleanup();
}

static void test_full_journal_writes_nothing(void **state)
{
    struct log l;
    struct log_batch b;
    struct journal j;
    struct err e = {0};
    struct log_job *a;
    (void)state;

    fresh(&l);
    log_batch_init(&b, &l, 480);
    a = segment(&b, 0, 3);
    assert_int_equal(journal_open(&j, dir, JOURNAL_HEAD + cw_len(&a->recs) - 1,
                                  l.last_hash, &e),
                     0);
    assert_int_equal(journal_append(&j, a, &e), JOURNAL_FULL);
    assert_int_equal(j.pos, 0);
    assert_int_equal(scan().n, 0);

    journal_close(&j);
    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);
    cleanup();
}

/* Events acknowledged from the journal but never committed to the LMDB
 * log (a kill -9 or a power cut between the two) are in the log after a
 * writer's log_open; the journal is cleared, and the chain verifies. */
static void test_log_open_replays_the_journal(void **state)
{
    struct log l;
    struct log_batch b;
    struct journal j;
    struct err e = {0};
    struct log_job *a;
    unsigned char want[LOG_HASH_LEN];
    uint64_t count = 0, bad = 0;
    (void)state;

    fresh(&l);
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 0);
    logfix_append(&b, "s", 1);
    assert_int_equal(log_batch_commit(&b, &e), 0); /* 1..2 in LMDB */
    assert_int_equal(journal_open(&j, dir, CAP, l.last_hash, &e), 0);
    a = segment(&b, 2, 3); /* 3..5 journaled only */
    memcpy(want, a->hash, LOG_HASH_LEN);
    assert_int_equal(journal_append(&j, a, &e), 0);
    journal_close(&j);
    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);

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
    struct log l;
    struct log_batch b;
    struct journal j;
    struct err e = {0};
    char other[64], cmd[256];
    (void)state;

    fresh(&l); /* log A: 1 event, then 2..3 journaled */
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 0);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    assert_int_equal(journal_open(&j, dir, CAP, l.last_hash, &e), 0);
    assert_int_equal(journal_append(&j, segment(&b, 1, 2), &e), 0);
    journal_close(&j);
    log_batch_abort(&b);
    log_batch_release(&b);
    log_close(&l);
    snprintf(other, sizeof(other), "%s", dir);

    fresh(&l); /* log B: 1 other event */
    log_batch_init(&b, &l, 480);
    assert_int_equal(log_batch_begin(&b, &e), 0);
    logfix_append(&b, "s", 7);
    assert_int_equal(log_batch_commit(&b, &e), 0);
    log_batch_release(&b);
    log_close(&l);

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
