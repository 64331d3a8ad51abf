/* tests/integration/it_checkpoint.c - checkpoints of derived state (issue
 * 14): deskd copies derived state to data_dir/derived.ckpt on a thread of
 * its own; after an OS crash it restores that copy and replays only the
 * log's tail past it.
 *   - a checkpoint taken, more events, kill -9 and a simulated reboot:
 *     deskd restores the checkpoint, replays exactly the events after it,
 *     derived state equals a rebuild from the log and every command id
 *     still dedupes;
 *   - a checkpoint ahead of the log (the log lost a tail) or from another
 *     history (its event's hash is not the log's) is refused: the whole
 *     log is replayed;
 *   - commands are answered while a checkpoint holds its read txn.
 * Every wait polls for a file or a log line; nothing is timed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../projections/rebuild.h"
#include "harness.h"

#define CKPT_EVERY 300    /* checkpoint_events of the test deskd */
#define FIRST 400         /* commands before the kill: one checkpoint */
#define TAIL 120          /* commands after it */
#define POLL_US 20000     /* between looks at a file */
#define POLL_MAX 30000    /* looks before giving up (a hung deskd) */
#define LOG_MAX (1 << 20) /* bytes of deskd.log read */
/* Commands answered while a checkpoint holds its read txn: each commit
 * meanwhile takes fresh pages (the txn pins the freed ones), so the map
 * of that test is large enough for them. */
#define DURING_HOLD 100
#define HOLD_MAP_MB 64

static const char ini[] = "[deskd]\ncheckpoint_events = 300\n"
                          "checkpoint_interval_s = 0\n";

/* Registers one person with command id <prefix>-<i>; its seq. */
static int64_t person(struct h_client *c, const char *prefix, int i)
{
    struct h_reply r;
    int64_t seq;
    assert_int_equal(h_callf(c, &r,
                             "{\"id\":\"%s-%d\",\"cmd\":\"person.register\","
                             "\"actor\":\"clerk1\",\"body\":{\"name\":"
                             "\"P %s %d\",\"kind\":\"owner\"}}",
                             prefix, i, prefix, i),
                     0);
    if (!r.ok)
        fail_msg("%s-%d: %s", prefix, i, h_reply_text(&r));
    seq = r.seq;
    h_reply_release(&r);
    return seq;
}

/* Sends <prefix>-<i> again: answered duplicate. */
static void dedupes(struct h_client *c, const char *prefix, int i)
{
    struct h_reply r;
    assert_int_equal(h_callf(c, &r,
                             "{\"id\":\"%s-%d\",\"cmd\":\"person.register\","
                             "\"actor\":\"clerk1\",\"body\":{\"name\":"
                             "\"P %s %d\",\"kind\":\"owner\"}}",
                             prefix, i, prefix, i),
                     0);
    if (!r.ok || !json_is_true(h_reply_get(&r, "duplicate")))
        fail_msg("%s-%d resent: %s", prefix, i, h_reply_text(&r));
    h_reply_release(&r);
}

/* The seq data_dir's checkpoint holds (its record), 0 when there is none;
 * waits for one of at least min when min > 0. */
static uint64_t ckpt_seq(const char *data_dir, uint64_t min)
{
    char path[H_PATH_MAX + 32], line[128];
    for (int i = 0; i < POLL_MAX; i++) {
        unsigned long long seq = 0;
        FILE *f;
        snprintf(path, sizeof(path), "%s/derived.ckpt/checkpoint", data_dir);
        if ((f = fopen(path, "r"))) {
            while (fgets(line, sizeof(line), f))
                if (sscanf(line, "seq %llu", &seq) == 1)
                    break;
            fclose(f);
        }
        if (seq >= min)
            return seq;
        usleep(POLL_US);
    }
    fail_msg("no checkpoint of seq >= %llu in '%s'", (unsigned long long)min,
             data_dir);
    return 0;
}

/* The whole of deskd.log (restarts append to it). */
static char *read_log(const struct h_server *s)
{
    static char buf[LOG_MAX];
    FILE *f = fopen(s->log_path, "r");
    size_t n;
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Whether deskd.log says text (after the last occurrence of since). */
static bool log_says(const struct h_server *s, const char *since,
                     const char *text)
{
    char *from = read_log(s), *at;
    while (since && (at = strstr(from, since)))
        from = at + 1;
    return strstr(from, text) != NULL;
}

static void wait_log(const struct h_server *s, const char *text)
{
    for (int i = 0; i < POLL_MAX; i++) {
        if (log_says(s, NULL, text))
            return;
        usleep(POLL_US);
    }
    fail_msg("deskd never logged '%s'", text);
}

static void assert_rebuild_equal(const char *data_dir)
{
    struct rebuild_report rr;
    struct err e = {0};
    if (rebuild_compare(data_dir, &rr, NULL, &e))
        fail_msg("rebuild_compare: %s", e.msg);
    if (!rr.identical)
        fail_msg("derived state differs from a rebuild: %s", rr.first_diff);
}

/* Restarts s as after a reboot (kill -9, another boot id). */
static void os_crash_restart(struct h_server *s, const char *boot)
{
    assert_int_equal(h_server_kill9(s), 128 + 9);
    setenv("DESKD_BOOT_ID", boot, 1);
    assert_int_equal(h_server_restart(s), 0);
    unsetenv("DESKD_BOOT_ID");
}

static void test_os_crash_restores_checkpoint(void **state)
{
    struct h_opts o = {.extra_ini = ini, .map_size_mb = 8};
    struct h_server s;
    struct h_client c;
    char want[H_PATH_MAX + 200];
    uint64_t ck;
    int64_t last = 0;
    (void)state;

    assert_int_equal(h_server_start_opts(&s, &o), 0);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 0; i < FIRST; i++)
        last = person(&c, "a", i);
    ck = ckpt_seq(s.data_dir, CKPT_EVERY);
    assert_true(ck <= (uint64_t)last);
    /* fewer than CKPT_EVERY more: this checkpoint stays the last one */
    for (int i = 0; i < TAIL; i++)
        last = person(&c, "b", i);
    h_client_close(&c);
    assert_int_equal(ckpt_seq(s.data_dir, 0), ck);

    os_crash_restart(&s, "ckpt-boot-1");
    snprintf(want, sizeof(want),
             "restored the checkpoint of seq %llu from '%s/derived.ckpt'",
             (unsigned long long)ck, s.data_dir);
    if (!log_says(&s, "is discarded: the machine stopped", want))
        fail_msg("no '%s' in %s", want, s.log_path);
    snprintf(want, sizeof(want), "replaying %llu events (%llu..%lld)",
             (unsigned long long)((uint64_t)last - ck),
             (unsigned long long)ck + 1, (long long)last);
    if (!log_says(&s, "restored the checkpoint", want))
        fail_msg("no '%s' in %s", want, s.log_path);
    assert_rebuild_equal(s.data_dir);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 0; i < FIRST; i++)
        dedupes(&c, "a", i);
    for (int i = 0; i < TAIL; i++)
        dedupes(&c, "b", i);
    /* and it goes on from there */
    assert_int_equal(person(&c, "c", 0), last + 1);
    h_client_close(&c);

    /* the same with the derived file gone entirely */
    assert_int_equal(h_server_kill9(&s), 128 + 9);
    {
        char path[H_PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/derived/data.mdb", s.data_dir);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(h_server_restart(&s), 0);
    snprintf(want, sizeof(want), "replaying %llu events",
             (unsigned long long)((uint64_t)last + 1 - ck));
    if (!log_says(&s, "restored the checkpoint of seq", want))
        fail_msg("no '%s' after a restore in %s", want, s.log_path);
    assert_rebuild_equal(s.data_dir);
    assert_int_equal(h_server_stop(&s), 0);
    h_server_cleanup(&s);
}

/* cp -r of data_dir/derived.ckpt into another data dir. */
static void copy_ckpt(const char *from, const char *to)
{
    char cmd[3 * H_PATH_MAX];
    snprintf(cmd, sizeof(cmd), "cp -r '%s/derived.ckpt' '%s/'", from, to);
    assert_int_equal(system(cmd), 0);
}

static void test_foreign_checkpoint_refused(void **state)
{
    struct h_opts o = {.extra_ini = ini, .map_size_mb = 8};
    struct h_server s, t;
    struct h_client c;
    struct replay_report rep;
    struct err e = {0};
    char out[H_PATH_MAX], path[H_PATH_MAX + 32], want[H_PATH_MAX + 200];
    uint64_t ck, cut;
    int64_t last = 0;
    (void)state;

    /* a log with a checkpoint */
    assert_int_equal(h_server_start_opts(&s, &o), 0);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 0; i < FIRST; i++)
        person(&c, "a", i);
    h_client_close(&c);
    ck = ckpt_seq(s.data_dir, CKPT_EVERY);
    assert_int_equal(h_server_stop(&s), 0);

    /* the same log cut short before the checkpoint's seq (what a power cut
     * leaves of an unflushed tail), with that checkpoint beside it and no
     * derived state */
    cut = ck - 50;
    assert_int_equal(rebuild_scratch_dir(out, sizeof(out), &e), 0);
    if (rebuild_as_of(s.data_dir, out, cut, 0, &rep, NULL, &e))
        fail_msg("rebuild_as_of: %s", e.msg);
    assert_int_equal(rep.events, cut);
    copy_ckpt(s.data_dir, out);
    snprintf(path, sizeof(path), "%s/derived/data.mdb", out);
    assert_int_equal(unlink(path), 0);

    o.data_dir = out;
    assert_int_equal(h_server_start_opts(&t, &o), 0);
    snprintf(want, sizeof(want),
             "it holds events up to seq %llu and the log ends at %llu",
             (unsigned long long)ck, (unsigned long long)cut);
    if (!log_says(&t, NULL, want))
        fail_msg("no '%s' in %s", want, t.log_path);
    snprintf(want, sizeof(want), "replaying %llu events (1..%llu)",
             (unsigned long long)cut, (unsigned long long)cut);
    if (!log_says(&t, NULL, want))
        fail_msg("no full rebuild ('%s') in %s", want, t.log_path);
    assert_false(log_says(&t, NULL, "restored the checkpoint"));
    assert_rebuild_equal(out);

    /* the log grows past the checkpoint's seq with other events: its hash
     * is not the log's */
    assert_int_equal(h_client_open(&c, t.cmd_ep), 0);
    for (int i = 0; i < TAIL; i++)
        last = person(&c, "x", i);
    h_client_close(&c);
    assert_true((uint64_t)last > ck);
    assert_int_equal(ckpt_seq(out, 0), ck); /* still the foreign one */
    os_crash_restart(&t, "ckpt-boot-2");
    snprintf(want, sizeof(want), "its event %llu is not the log's",
             (unsigned long long)ck);
    if (!log_says(&t, "is discarded: the machine stopped", want))
        fail_msg("no '%s' in %s", want, t.log_path);
    snprintf(want, sizeof(want), "replaying %lld events (1..%lld)",
             (long long)last, (long long)last);
    if (!log_says(&t, "is discarded: the machine stopped", want))
        fail_msg("no full rebuild ('%s') in %s", want, t.log_path);
    assert_rebuild_equal(out);
    assert_int_equal(h_client_open(&c, t.cmd_ep), 0);
    for (int i = 0; i < TAIL; i++)
        dedupes(&c, "x", i);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&t), 0);
    h_server_cleanup(&t);
    rebuild_scratch_remove(out);
    h_server_cleanup(&s);
}

static void test_commands_answered_during_checkpoint(void **state)
{
    struct h_opts o = {.extra_ini = ini, .map_size_mb = HOLD_MAP_MB};
    struct h_server s;
    struct h_client c;
    char hold[H_PATH_MAX + 32];
    int64_t last = 0;
    FILE *f;
    (void)state;

    snprintf(hold, sizeof(hold), "%s/ckpt-hold-%d", P_tmpdir, (int)getpid());
    assert_non_null(f = fopen(hold, "w"));
    fclose(f);
    setenv("DESKD_TEST_CHECKPOINT_HOLD", hold, 1);
    assert_int_equal(h_server_start_opts(&s, &o), 0);
    unsetenv("DESKD_TEST_CHECKPOINT_HOLD");
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 0; i < CKPT_EVERY + 10; i++)
        person(&c, "a", i);
    /* the checkpoint thread holds a read txn and the grow lock ... */
    wait_log(&s, "derived state: checkpoint held");
    /* ... and every command is answered meanwhile */
    for (int i = 0; i < DURING_HOLD; i++)
        last = person(&c, "b", i);
    h_client_close(&c);
    assert_int_equal(ckpt_seq(s.data_dir, 0), 0); /* none taken yet */
    assert_int_equal(unlink(hold), 0);
    /* released, it copies what derived state holds by then: all of it */
    assert_int_equal(ckpt_seq(s.data_dir, (uint64_t)last), last);
    assert_int_equal(h_server_stop(&s), 0);
    assert_rebuild_equal(s.data_dir);
    h_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_os_crash_restores_checkpoint),
        cmocka_unit_test(test_foreign_checkpoint_refused),
        cmocka_unit_test(test_commands_answered_during_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
