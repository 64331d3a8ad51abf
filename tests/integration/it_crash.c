/* tests/integration/it_crash.c - durability under kill -9: 16 desks write
 * concurrently, deskd is killed at a random moment, restarted, and:
 *   - every acknowledged command is in the log exactly once,
 *   - no command is in the log twice (retries with the same id dedupe),
 *   - an acknowledged id sent again is answered `duplicate`, same seq,
 *   - the hash chain verifies (deskd --verify),
 *   - replaying the log gives tables identical to the live ones
 *     (deskd --rebuild).
 * CRASH_ROUNDS (default 20) sets the number of kills; `make torture` runs
 * many more.
 *
 * The same with a simulated OS crash (issue 14): after each kill the
 * derived state (data_dir/derived, never flushed) is removed, cut short or
 * overwritten in the middle, and deskd restarts as after a reboot (another
 * DESKD_BOOT_ID). It must rebuild derived state from the log by itself,
 * and every acknowledged id sent again must come back as a duplicate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashload.h"
#include "harness.h"

#define IDS_MAX 400000 /* commands over all rounds, at first */

static struct h_server srv;

static void kill9(void *arg)
{
    (void)arg;
    assert_int_equal(h_server_kill9(&srv), 128 + 9);
}

static void test_kill9_loses_nothing_acknowledged(void **state)
{
    const char *env = getenv("CRASH_ROUNDS");
    int rounds = env ? atoi(env) : 20;
    long resent, bad;
    (void)state;

    srand((unsigned)time(NULL));
    assert_int_equal(cl_setup_estate(&srv), 0);
    for (int round = 0; round < rounds; round++) {
        struct cl_result r;
        assert_int_equal(cl_write_then(&srv, 20 + rand() % 300, kill9, NULL),
                         0);
        assert_int_equal(h_server_restart(&srv), 0);
        if (cl_check(&srv, &r))
            fail_msg("round %d: %lld events, %ld acknowledged lost, %ld "
                     "twice, %ld of %ld resends not duplicate, verify %d, "
                     "rebuild %d",
                     round, (long long)r.events, r.lost, r.dup, r.resend_bad,
                     r.resent, r.verify, r.rebuild);
    }
    resent = cl_resend_all(&srv, &bad);
    fprintf(stderr,
            "%d kills, %zu commands sent, %zu acknowledged, all "
            "present once; %ld resent, %ld not answered duplicate\n",
            rounds, cl_sent(), cl_acked(), resent, bad);
    assert_int_equal(resent, (long)cl_acked());
    assert_int_equal(bad, 0);
    assert_true(cl_acked() > 0);
}

/* What an OS crash can leave of a file that was never flushed: nothing,
 * a prefix, or pages with garbage in them. */
static void damage_derived(int how)
{
    char path[2 * H_PATH_MAX];
    static char junk[4096];
    struct stat st;
    int fd;

    snprintf(path, sizeof(path), "%s/derived/data.mdb", srv.data_dir);
    assert_int_equal(stat(path, &st), 0);
    if (how == 0) {
        assert_int_equal(unlink(path), 0);
        return;
    }
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    if (how == 1) {
        assert_int_equal(ftruncate(fd, st.st_size / 2), 0);
    } else { /* the meta pages (0, 1) and one page in the middle */
        memset(junk, 0xa5, sizeof(junk));
        for (off_t at = 0; at < 3 * 4096 && at < st.st_size; at += 4096)
            assert_int_equal(
                pwrite(fd, junk, sizeof(junk),
                       at == 2 * 4096 ? st.st_size / 2 & ~4095 : at),
                (ssize_t)sizeof(junk));
    }
    close(fd);
}

static void test_os_crash_rebuilds_derived_state(void **state)
{
    const char *env = getenv("CRASH_ROUNDS");
    int rounds = env ? atoi(env) / 4 + 3 : 8;
    char boot[32];
    long resent, bad;
    (void)state;

    for (int round = 0; round < rounds; round++) {
        struct cl_result r;
        assert_int_equal(cl_write_then(&srv, 20 + rand() % 300, kill9, NULL),
                         0);
        damage_derived(round % 3);
        snprintf(boot, sizeof(boot), "simulated-boot-%d", round);
        setenv("DESKD_BOOT_ID", boot, 1);
        assert_int_equal(h_server_restart(&srv), 0);
        if (cl_check(&srv, &r))
            fail_msg("OS crash %d: %lld events, %ld acknowledged lost, %ld "
                     "twice, %ld of %ld resends not duplicate, verify %d, "
                     "rebuild %d",
                     round, (long long)r.events, r.lost, r.dup, r.resend_bad,
                     r.resent, r.verify, r.rebuild);
    }
    unsetenv("DESKD_BOOT_ID");
    resent = cl_resend_all(&srv, &bad);
    fprintf(stderr,
            "%d simulated OS crashes: derived state rebuilt each time, "
            "%ld acknowledged ids resent, %ld not answered duplicate\n",
            rounds, resent, bad);
    assert_int_equal(bad, 0);
}

static int setup(void **state)
{
    struct h_opts o = {.real_clock = true, .map_size_mb = 1};
    (void)state;
    if (cl_init(IDS_MAX))
        return -1;
    return h_server_start_opts(&srv, &o);
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    cl_free();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_loses_nothing_acknowledged),
        cmocka_unit_test(test_os_crash_rebuilds_derived_state),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
