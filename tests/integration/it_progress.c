/* tests/integration/it_progress.c - long work shows its progress (issue
 * 21), on a data directory of a few thousand events:
 *   - deskaudit on a pseudo-terminal redraws one line in place (\r, a
 *     percent) and ends with the totals;
 *   - piped, deskaudit's stdout is byte-identical to a --quiet run, and
 *     the progress is on stderr only;
 *   - deskd started on a log whose derived state was removed serves while
 *     it catches up: /healthz says catching_up with the progress, desks
 *     get unavailable (queries too), then it is ready and says how long
 *     it took. The test holds the catch-up with DESKD_TEST_CATCH_UP_HOLD
 *     (a file: while it exists deskd waits before each step), so nothing
 *     depends on how fast the machine is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"

#define UNITS 3000     /* unit.register commands, one event each */
#define WINDOW 200     /* commands in flight while filling */
#define READY_MAX 6000 /* polls of /healthz (50 ms apart) before giving up */

static struct h_server srv;
static int64_t events; /* in the log after setup */

static const char *tools(void)
{
    return getenv("DESKD_TOOLS") ? getenv("DESKD_TOOLS") : "build";
}

static void send_unit(void *sock, int i)
{
    struct cw w;
    char room[24], id[32];
    snprintf(room, sizeof(room), "r%d", i);
    snprintf(id, sizeof(id), "u%d", i);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "unit.register");
    cw_kstr(&w, "actor", "bench");
    cw_str(&w, "body");
    cw_map(&w, 5);
    cw_kstr(&w, "estate", "PG");
    cw_kstr(&w, "building", "B1");
    cw_kstr(&w, "room", room);
    cw_kstr(&w, "area", "88.50");
    cw_kstr(&w, "type", "residence");
    assert_int_equal(zmq_send(sock, cw_data(&w), cw_len(&w), 0),
                     (int)cw_len(&w));
    cw_release(&w);
}

/* An estate, a building and UNITS units, WINDOW commands in flight. */
static void fill(void)
{
    struct h_client c;
    struct h_reply r;
    int sent = 0, got = 0;

    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    assert_int_equal(h_cmdf(&c, &r, "admin", "estate.register",
                            "{\"code\":\"PG\",\"name\":\"Progress\"}"),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
    assert_int_equal(h_cmdf(&c, &r, "admin", "building.register",
                            "{\"estate\":\"PG\",\"building\":\"B1\"}"),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
    while (got < UNITS) {
        while (sent < UNITS && sent - got < WINDOW)
            send_unit(c.sock, sent++);
        assert_int_equal(h_recv(&c, &r), 0);
        if (!r.ok)
            fail_msg("unit.register refused: %s", h_reply_text(&r));
        h_reply_release(&r);
        got++;
    }
    events = h_log_count(&c);
    assert_true(events >= UNITS);
    h_client_close(&c);
}

/* ---- deskaudit on a pseudo-terminal and through pipes ---- */

/* Runs deskaudit args... with stderr on a new pty (stdout to /dev/null)
 * and returns what the terminal received. */
static char *on_terminal(const char *cmd, const char *dir)
{
    char bin[H_PATH_MAX + 16];
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    int master = posix_openpt(O_RDWR | O_NOCTTY), st;
    pid_t pid;

    assert_non_null(buf);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    snprintf(bin, sizeof(bin), "%s/deskaudit", tools());
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int slave, null;
        setsid();
        slave = open(ptsname(master), O_RDWR);
        null = open("/dev/null", O_WRONLY);
        if (slave < 0 || null < 0)
            _exit(126);
        dup2(slave, 2);
        dup2(null, 1);
        execl(bin, bin, cmd, dir, (char *)NULL);
        _exit(127);
    }
    for (;;) { /* until the child's side closes (EIO) */
        ssize_t k;
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        k = read(master, buf + len, cap - len - 1);
        if (k > 0)
            len += (size_t)k;
        else if (k < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    buf[len] = '\0';
    close(master);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    return buf;
}

static void test_terminal_shows_one_line_in_place(void **state)
{
    char want[96];
    char *out;
    (void)state;

    /* rebuild compares with the live read models, as committed (lazily) */
    assert_int_equal(h_derived_settled(&srv), 0);
    out = on_terminal("verify", srv.data_dir);
    /* drawn at once, redrawn in place with \r, a percent */
    snprintf(want, sizeof(want), "\rverifying: 0 of %lld events (0.0%%)",
             (long long)events);
    if (!strstr(out, want))
        fail_msg("no in-place line '%s' in: %s", want + 1, out);
    /* ends with the final figures */
    snprintf(want, sizeof(want), "\rverifying: %lld events in ",
             (long long)events);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(strstr(out, want), " events/s)"));
    free(out);

    out = on_terminal("rebuild", srv.data_dir);
    assert_non_null(strstr(out, "\rcopying the log: 0 of "));
    assert_non_null(strstr(out, "\rderived state: replaying: 0 of "));
    snprintf(want, sizeof(want), "\rderived state: replaying: %lld events in ",
             (long long)events);
    assert_non_null(strstr(out, want));
    free(out);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* deskaudit args > name.out 2> name.err, in srv.dir; exit status. */
static int piped(const char *name, const char *args)
{
    char sh[4 * H_PATH_MAX];
    int st;
    snprintf(sh, sizeof(sh), "%s/deskaudit %s > '%s/%s.out' 2> '%s/%s.err'",
             tools(), args, srv.dir, name, srv.dir, name);
    st = system(sh);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void same_stdout(const char *a, const char *b)
{
    char pa[2 * H_PATH_MAX], pb[2 * H_PATH_MAX];
    size_t la, lb;
    char *ta, *tb;
    snprintf(pa, sizeof(pa), "%s/%s.out", srv.dir, a);
    snprintf(pb, sizeof(pb), "%s/%s.out", srv.dir, b);
    ta = slurp(pa, &la);
    tb = slurp(pb, &lb);
    assert_true(la > 0);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    assert_null(memchr(ta, '\r', la));
    free(ta);
    free(tb);
}

static char *err_of(const char *name)
{
    char p[2 * H_PATH_MAX];
    size_t n;
    snprintf(p, sizeof(p), "%s/%s.err", srv.dir, name);
    return slurp(p, &n);
}

static void test_piped_stdout_same_as_quiet(void **state)
{
    char args[2 * H_PATH_MAX], want[64];
    char *err;
    (void)state;

    /* progress lines as often as it can: stdout must not change */
    snprintf(args, sizeof(args),
             "export '%s' --format jsonl "
             "--progress-every 0.001",
             srv.data_dir);
    assert_int_equal(piped("export", args), 0);
    snprintf(args, sizeof(args), "export '%s' --format jsonl --quiet",
             srv.data_dir);
    assert_int_equal(piped("export-quiet", args), 0);
    same_stdout("export", "export-quiet");
    snprintf(want, sizeof(want), "exporting: %lld events in ",
             (long long)events);
    err = err_of("export");
    assert_non_null(strstr(err, want)); /* the totals, on stderr */
    assert_null(strchr(err, '\r'));     /* plain lines off a terminal */
    free(err);
    err = err_of("export-quiet");
    assert_null(strstr(err, "exporting:"));
    free(err);

    snprintf(args, sizeof(args), "verify '%s' --progress-every 0.001",
             srv.data_dir);
    assert_int_equal(piped("verify", args), 0);
    snprintf(args, sizeof(args), "--quiet verify '%s'", srv.data_dir);
    assert_int_equal(piped("verify-quiet", args), 0);
    same_stdout("verify", "verify-quiet");
}

/* ---- deskd's start-up catch-up ---- */

struct http_res {
    int status;
    char *raw;    /* the whole response */
    json_t *json; /* the body, when it is JSON */
};

static void http_get(const char *path, struct http_res *res)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64], req[256], *raw = NULL, *body;
    size_t len = 0, cap = 0;
    int port, fd;
    ssize_t k;

    assert_int_equal(sscanf(srv.http_ep, "%63[^:]:%d", host, &port), 2);
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: deskd\r\nConnection: close\r\n\r\n",
             path);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    do {
        if (cap - len < 4096) {
            cap = cap * 2 + 8192;
            raw = realloc(raw, cap);
            assert_non_null(raw);
        }
        k = read(fd, raw + len, cap - len - 1);
        if (k > 0)
            len += (size_t)k;
    } while (k > 0);
    close(fd);
    assert_non_null(raw);
    raw[len] = '\0';
    assert_int_equal(sscanf(raw, "HTTP/1.1 %d", &res->status), 1);
    body = strstr(raw, "\r\n\r\n");
    assert_non_null(body);
    res->json = json_loads(body + 4, 0, NULL);
    res->raw = raw;
}

static void http_res_release(struct http_res *res)
{
    json_decref(res->json);
    free(res->raw);
}

static int64_t jint(json_t *j, const char *key)
{
    return json_integer_value(json_object_get(j, key));
}

static void test_start_up_catch_up_is_visible(void **state)
{
    char hold[2 * H_PATH_MAX], sh[2 * H_PATH_MAX], want[96];
    struct http_res res;
    struct h_client c;
    struct h_reply r;
    size_t n;
    char *log;
    int polls = 0;
    (void)state;

    /* derived state lost, as after an OS crash */
    assert_int_equal(h_server_stop(&srv), 0);
    snprintf(sh, sizeof(sh), "rm -rf '%s/derived'", srv.data_dir);
    assert_int_equal(system(sh), 0);
    snprintf(hold, sizeof(hold), "%s/hold", srv.dir);
    fclose(fopen(hold, "w"));
    setenv("DESKD_TEST_CATCH_UP_HOLD", hold, 1);
    srv.early = true;
    assert_int_equal(h_server_restart(&srv), 0);
    /* a stop while catching up is a clean stop; the next start goes on */
    assert_int_equal(h_server_stop(&srv), 0);
    log = slurp(srv.log_path, &n);
    assert_non_null(strstr(log, "stopped while catching up: 0 of "));
    free(log);
    assert_int_equal(h_server_restart(&srv), 0);
    unsetenv("DESKD_TEST_CATCH_UP_HOLD");
    srv.early = false;

    http_get("/healthz", &res);
    assert_int_equal(res.status, 503);
    assert_string_equal(json_string_value(json_object_get(res.json, "status")),
                        "catching_up");
    assert_int_equal(jint(res.json, "to_replay"), events);
    assert_int_equal(jint(res.json, "replayed"), 0);
    assert_non_null(json_object_get(res.json, "percent"));
    http_res_release(&res);
    http_get("/metrics", &res);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.raw, "\ndeskd_catching_up 1\n"));
    snprintf(want, sizeof(want), "deskd_catch_up_events{of=\"total\"} %lld\n",
             (long long)events);
    assert_non_null(strstr(res.raw, want));
    http_res_release(&res);

    /* desks: unavailable with a clear message, queries too */
    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    assert_int_equal(h_cmdf(&c, &r, "bench", "unit.register",
                            "{\"estate\":\"PG\",\"building\":\"B1\","
                            "\"room\":\"late\",\"area\":\"60.00\","
                            "\"type\":\"residence\"}"),
                     0);
    assert_false(r.ok);
    assert_string_equal(r.code, "unavailable");
    assert_non_null(strstr(r.message, "catching up"));
    h_reply_release(&r);
    assert_int_equal(
        h_cmdf(&c, &r, "bench", "query.unit", "{\"unit\":\"PG/B1-r1\"}"), 0);
    assert_string_equal(r.code, "unavailable");
    h_reply_release(&r);
    http_get("/api/query/unit?unit=PG/B1-r1", &res);
    assert_int_equal(res.status, 503);
    http_res_release(&res);

    /* let it go: it becomes ready by itself */
    assert_int_equal(unlink(hold), 0);
    for (;;) {
        http_get("/healthz", &res);
        if (res.status == 200)
            break;
        assert_int_equal(res.status, 503);
        http_res_release(&res);
        assert_true(++polls < READY_MAX);
        usleep(50 * 1000);
    }
    assert_string_equal(json_string_value(json_object_get(res.json, "status")),
                        "ready");
    http_res_release(&res);
    http_get("/metrics", &res);
    assert_non_null(strstr(res.raw, "\ndeskd_catching_up 0\n"));
    http_res_release(&res);
    assert_int_equal(h_cmdf(&c, &r, "bench", "unit.register",
                            "{\"estate\":\"PG\",\"building\":\"B1\","
                            "\"room\":\"late\",\"area\":\"60.00\","
                            "\"type\":\"residence\"}"),
                     0);
    if (!r.ok)
        fail_msg("after the catch-up: %s", h_reply_text(&r));
    h_reply_release(&r);
    /* a command id of before the loss is known again */
    send_unit(c.sock, 7);
    assert_int_equal(h_recv(&c, &r), 0);
    assert_true(r.ok);
    assert_true(json_is_true(h_reply_get(&r, "duplicate")));
    h_reply_release(&r);
    h_client_close(&c);

    /* the operator's log: how many, and how long it took */
    log = slurp(srv.log_path, &n);
    snprintf(want, sizeof(want), "derived state: replaying %lld events",
             (long long)events);
    assert_non_null(strstr(log, want));
    snprintf(want, sizeof(want), "derived state: replaying: %lld events in ",
             (long long)events);
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, "ready: derived state holds the log"));
    free(log);
}

static int setup(void **state)
{
    struct h_opts o = {.extra_ini = "[deskd]\nhttp = 127.0.0.1:0\n"};
    (void)state;
    if (h_server_start_opts(&srv, &o))
        return -1;
    fill();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terminal_shows_one_line_in_place),
        cmocka_unit_test(test_piped_stdout_same_as_quiet),
        cmocka_unit_test(test_start_up_catch_up_is_visible),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
