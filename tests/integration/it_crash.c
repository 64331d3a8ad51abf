/* tests/integration/it_crash.c - durability under kill -9: 16 desks write
 * concurrently, deskd is killed at a random moment, restarted, and:
 *   - every acknowledged command is in the log exactly once,
 *   - no command is in the log twice (retries with the same id dedupe),
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
#include <zmq.h>

#include "harness.h"

#define DESKS 16
#define IDS_MAX 400000 /* commands over all rounds */
#define ID_LEN 48

struct ledger {
    char (*id)[ID_LEN]; /* every id sent */
    unsigned char *acked;
    size_t n;
};

static struct h_server srv;
static struct ledger led;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Command i is always the same unit in the same building, so a resend
 * with the same id is byte-for-byte the same command. */
static void send_unit(void *sock, long i)
{
    struct cw w;
    char building[16], room[24], id[ID_LEN];

    snprintf(building, sizeof(building), "C%ld", i % DESKS);
    snprintf(room, sizeof(room), "x%ld", i);
    snprintf(id, sizeof(id), "k%ld", i);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "unit.register");
    cw_kstr(&w, "actor", "bench");
    cw_str(&w, "body");
    cw_map(&w, 5);
    cw_kstr(&w, "estate", "CR");
    cw_kstr(&w, "building", building);
    cw_kstr(&w, "room", room);
    cw_kstr(&w, "area", "88.50");
    cw_kstr(&w, "type", "residence");
    zmq_send(sock, cw_data(&w), cw_len(&w), ZMQ_DONTWAIT);
    cw_release(&w);
}

/* The ledger index encoded in an id "k<index>". */
static long id_index(const char *s, size_t n)
{
    char buf[ID_LEN];
    if (n < 2 || n >= sizeof(buf) || s[0] != 'k')
        return -1;
    memcpy(buf, s + 1, n - 1);
    buf[n - 1] = '\0';
    return strtol(buf, NULL, 10);
}

static void on_reply(const char *frame, size_t len)
{
    struct codec_doc d;
    const char *id;
    size_t n;
    bool ok = false;
    long i;
    if (codec_doc_parse(&d, frame, len, NULL))
        return;
    if (!codec_get_str(d.obj, "id", &id, &n) &&
        !codec_get_bool(d.obj, "ok", &ok) && ok && (i = id_index(id, n)) >= 0 &&
        (size_t)i < led.n)
        led.acked[i] = 1;
    codec_doc_release(&d);
}

static long next_command(void)
{
    long i = (long)led.n++;
    assert_true(led.n < IDS_MAX);
    snprintf(led.id[i], ID_LEN, "k%ld", i);
    return i;
}

/* Writes from DESKS sockets, one in flight each, until kill_at, then
 * kill -9. Each desk first resends the command it had in flight at the
 * last kill (same id): it may or may not be in the log, and must end up
 * there exactly once. */
static void write_then_kill(int64_t run_ms)
{
    static long carry[DESKS] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                -1, -1, -1, -1, -1, -1, -1, -1};
    void *ctx = zmq_ctx_new();
    void *s[DESKS];
    long pending[DESKS];
    zmq_pollitem_t it[DESKS];
    int64_t kill_at = now_ms() + run_ms;
    char buf[1 << 16];

    for (int d = 0; d < DESKS; d++) {
        int linger = 0;
        s[d] = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(s[d], ZMQ_LINGER, &linger, sizeof(linger));
        zmq_connect(s[d], srv.cmd_ep);
        it[d] = (zmq_pollitem_t){s[d], 0, ZMQ_POLLIN, 0};
        pending[d] = -1;
    }
    for (int d = 0; d < DESKS; d++) {
        pending[d] =
            carry[d] >= 0 && !led.acked[carry[d]] ? carry[d] : next_command();
        send_unit(s[d], pending[d]);
    }
    while (now_ms() < kill_at) {
        if (zmq_poll(it, DESKS, 5) <= 0)
            continue;
        for (int d = 0; d < DESKS; d++) {
            int n;
            if (!(it[d].revents & ZMQ_POLLIN))
                continue;
            n = zmq_recv(s[d], buf, sizeof(buf), ZMQ_DONTWAIT);
            if (n <= 0 || n > (int)sizeof(buf))
                continue;
            on_reply(buf, (size_t)n);
            pending[d] = next_command();
            send_unit(s[d], pending[d]);
        }
    }
    assert_int_equal(h_server_kill9(&srv), 128 + 9);
    memcpy(carry, pending, sizeof(carry));
    for (int d = 0; d < DESKS; d++)
        zmq_close(s[d]);
    zmq_ctx_term(ctx);
}

struct count_ctx {
    unsigned short *seen;
    long dup;
    long foreign;
};

static int count_event(json_t *ev, void *arg)
{
    struct count_ctx *c = arg;
    const char *id = json_string_value(json_object_get(ev, "cmd_id"));
    long i = id ? id_index(id, strlen(id)) : -1;
    if (i < 0 || (size_t)i >= led.n) {
        c->foreign++;
        return 0;
    }
    if (c->seen[i]++)
        c->dup++;
    return 0;
}

/* deskd --verify / --rebuild on the data dir, beside the running server. */
static int audit(const char *flag)
{
    char cmd[3 * H_PATH_MAX];
    const char *bin = getenv("DESKD_BIN") ? getenv("DESKD_BIN") : "build/deskd";
    snprintf(cmd, sizeof(cmd), "%s -c %s %s > /dev/null", bin, srv.config,
             flag);
    return system(cmd);
}

static void check_log(int round)
{
    struct h_client c;
    struct count_ctx cc = {calloc(led.n + 1, sizeof(unsigned short)), 0, 0};
    long lost = 0;
    int64_t n;

    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    n = h_log_all(&c, count_event, &cc);
    h_client_close(&c);
    assert_true(n > 0);
    for (size_t i = 0; i < led.n; i++)
        if (led.acked[i] && !cc.seen[i])
            lost++;
    if (lost || cc.dup)
        fprintf(stderr, "round %d: %ld acknowledged lost, %ld twice\n", round,
                lost, cc.dup);
    assert_int_equal(lost, 0);
    assert_int_equal(cc.dup, 0);
    free(cc.seen);
    assert_int_equal(audit("--verify"), 0);
    assert_int_equal(audit("--rebuild"), 0);
}

static void setup_estate(void)
{
    struct h_client c;
    struct h_reply r;
    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    assert_int_equal(h_call(&c,
                            "{\"id\":\"e\",\"cmd\":\"estate.register\","
                            "\"actor\":\"admin\",\"body\":{\"code\":"
                            "\"CR\",\"name\":\"Crash\"}}",
                            &r),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
    for (int d = 0; d < DESKS; d++) {
        assert_int_equal(
            h_callf(&c, &r,
                    "{\"id\":\"b%d\",\"cmd\":\"building.register\",\"actor\":"
                    "\"admin\",\"body\":{\"estate\":\"CR\",\"building\":"
                    "\"C%d\"}}",
                    d, d),
            0);
        assert_true(r.ok);
        h_reply_release(&r);
    }
    h_client_close(&c);
}

static void test_kill9_loses_nothing_acknowledged(void **state)
{
    const char *env = getenv("CRASH_ROUNDS");
    int rounds = env ? atoi(env) : 20;
    size_t acked = 0;
    (void)state;

    srand((unsigned)time(NULL));
    setup_estate();
    for (int round = 0; round < rounds; round++) {
        write_then_kill(20 + rand() % 300);
        assert_int_equal(h_server_restart(&srv), 0);
        check_log(round);
    }
    for (size_t i = 0; i < led.n; i++)
        acked += led.acked[i];
    fprintf(stderr,
            "%d kills, %zu commands sent, %zu acknowledged, all "
            "present once\n",
            rounds, led.n, acked);
    assert_true(acked > 0);
}

/* What an OS crash can leave of a file that was never flushed: nothing,
 * a prefix, or pages with garbage in them. */
static void damage_derived(int how)
{
    char path[2 * H_PATH_MAX];
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
    } else {
        static char junk[4096];
        memset(junk, 0xa5, sizeof(junk));
        /* the meta pages (0, 1) and one page in the middle */
        for (off_t at = 0; at < 3 * 4096 && at < st.st_size; at += 4096)
            assert_int_equal(
                pwrite(fd, junk, sizeof(junk),
                       at == 2 * 4096 ? st.st_size / 2 & ~4095 : at),
                (ssize_t)sizeof(junk));
    }
    close(fd);
}

/* Every acknowledged id (a sample of up to 64) sent again is a
 * duplicate. */
static void acked_ids_dedupe(void)
{
    struct h_client c;
    int checked = 0;
    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    for (size_t i = led.n; i-- > 0 && checked < 64;) {
        struct h_reply r;
        if (!led.acked[i])
            continue;
        send_unit(c.sock, (long)i);
        assert_int_equal(h_recv(&c, &r), 0);
        if (!r.ok || !json_is_true(h_reply_get(&r, "duplicate")))
            fail_msg("acknowledged id %s sent again: %s", led.id[i],
                     h_reply_text(&r));
        h_reply_release(&r);
        checked++;
    }
    h_client_close(&c);
    assert_true(checked > 0);
}

static void test_os_crash_rebuilds_derived_state(void **state)
{
    const char *env = getenv("CRASH_ROUNDS");
    int rounds = env ? atoi(env) / 4 + 3 : 8;
    char boot[32];
    (void)state;

    for (int round = 0; round < rounds; round++) {
        write_then_kill(20 + rand() % 300);
        damage_derived(round % 3);
        snprintf(boot, sizeof(boot), "simulated-boot-%d", round);
        setenv("DESKD_BOOT_ID", boot, 1);
        assert_int_equal(h_server_restart(&srv), 0);
        check_log(round);
        acked_ids_dedupe();
    }
    unsetenv("DESKD_BOOT_ID");
    fprintf(stderr,
            "%d simulated OS crashes: derived state rebuilt, "
            "nothing lost, ids dedupe\n",
            rounds);
}

static int setup(void **state)
{
    struct h_opts o = {.real_clock = true, .map_size_mb = 1};
    (void)state;
    led.id = calloc(IDS_MAX, ID_LEN);
    led.acked = calloc(IDS_MAX, 1);
    return h_server_start_opts(&srv, &o);
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    free(led.id);
    free(led.acked);
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
