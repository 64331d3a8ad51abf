/* tests/integration/it_http.c - deskd's HTTP side against a real deskd:
 * /healthz, /metrics, the query API over the command table (equal to the
 * same query over ZeroMQ), errors with their codes, the SSE live feed with
 * resume (nothing missed, nothing repeated) and a stalled feed that must
 * neither hold up acknowledgements nor stay connected. The HTTP client is a
 * plain socket speaking HTTP/1.1 (chunked replies decoded here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define IO_TIMEOUT_MS 10000 /* wait for bytes from deskd */
#define WAIT_MS 10000       /* wait for something deskd does async */
#define STALL_EVENTS 600    /* events sent past a stalled feed */
#define LAG_MAX 100         /* sse_lag_max of this test's deskd */
#define NOTE_BYTES 1000     /* note per stall event: fills buffers fast */

static struct h_server srv;
static struct h_client cli;
static int next_id;

/* ---- commands over ZeroMQ ---- */

__attribute__((format(printf, 4, 5))) static void cmd(struct h_reply *r,
                                                      const char *actor,
                                                      const char *name,
                                                      const char *fmt, ...)
{
    static char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    assert_int_equal(h_callf(&cli, r,
                             "{\"id\":\"h%d\",\"cmd\":\"%s\",\"actor\":\"%s\","
                             "\"body\":%s}",
                             ++next_id, name, actor, body),
                     0);
}

#define OK(r, actor, name, ...)                                                \
    do {                                                                       \
        cmd(r, actor, name, __VA_ARGS__);                                      \
        if (!(r)->ok)                                                          \
            fail_msg("%s refused: %s", name, h_reply_text(r));                 \
    } while (0)

static int64_t command_seq(const char *actor, const char *name,
                           const char *body)
{
    struct h_reply r;
    int64_t seq;
    OK(&r, actor, name, "%s", body);
    seq = r.seq;
    h_reply_release(&r);
    return seq;
}

/* ---- a plain HTTP/1.1 client ---- */

static int http_connect(int rcvbuf)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64];
    int port, fd;

    assert_int_equal(sscanf(srv.http_ep, "%63[^:]:%d", host, &port), 2);
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t k = write(fd, s + off, n - off);
        assert_true(k > 0);
        off += (size_t)k;
    }
}

/* Appends what arrives within IO_TIMEOUT_MS; 0 at EOF, -1 on timeout. */
static ssize_t read_some(int fd, char **buf, size_t *len, size_t *cap)
{
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t k;
    if (poll(&p, 1, IO_TIMEOUT_MS) <= 0)
        return -1;
    if (*cap - *len < 65536) {
        *cap = (*cap + 65536) * 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    k = read(fd, *buf + *len, *cap - *len - 1);
    if (k > 0) {
        *len += (size_t)k;
        (*buf)[*len] = '\0';
    }
    return k;
}

struct http_res {
    int status;
    char *raw;        /* whole response */
    const char *body; /* into raw */
    json_t *json;     /* body as JSON, if it is */
};

/* GET path with extra header lines ("" for none); the reply is read until
 * deskd closes (Connection: close). */
static void http_get(const char *path, const char *headers,
                     struct http_res *res)
{
    char req[1024];
    size_t len = 0, cap = 0;
    int fd = http_connect(0);
    const char *end;

    memset(res, 0, sizeof(*res));
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: deskd\r\nConnection: close\r\n%s\r\n",
             path, headers);
    send_all(fd, req);
    while (read_some(fd, &res->raw, &len, &cap) > 0)
        ;
    close(fd);
    assert_non_null(res->raw);
    assert_int_equal(sscanf(res->raw, "HTTP/1.1 %d", &res->status), 1);
    end = strstr(res->raw, "\r\n\r\n");
    assert_non_null(end);
    res->body = end + 4;
    res->json = json_loads(res->body, 0, NULL);
}

static void http_res_release(struct http_res *res)
{
    free(res->raw);
    json_decref(res->json);
}

static const char *jstr(json_t *j, const char *path)
{
    return json_string_value(h_json_path(j, path));
}

/* ---- an SSE reader ---- */

struct sse {
    int fd;
    char *raw; /* bytes as received (chunked) */
    size_t rlen, rcap, rpos;
    char *text; /* de-chunked stream */
    size_t tlen, tcap, tpos;
    bool eof;
};

struct sse_ev {
    uint64_t id;
    char type[64];
    json_t *data;
};

static void text_add(struct sse *s, const char *p, size_t n)
{
    if (s->tlen + n + 1 > s->tcap) {
        s->tcap = (s->tlen + n + 1) * 2;
        s->text = realloc(s->text, s->tcap);
        assert_non_null(s->text);
    }
    memcpy(s->text + s->tlen, p, n);
    s->tlen += n;
    s->text[s->tlen] = '\0';
}

/* Moves complete chunks from raw to text. */
static void dechunk(struct sse *s)
{
    for (;;) {
        char *line = s->raw + s->rpos, *crlf;
        unsigned long size;
        if (s->rpos >= s->rlen || !(crlf = strstr(line, "\r\n")))
            return;
        size = strtoul(line, NULL, 16);
        if (size == 0) {
            s->eof = true;
            return;
        }
        if ((size_t)(crlf + 2 - s->raw) + size + 2 > s->rlen)
            return;
        text_add(s, crlf + 2, size);
        s->rpos = (size_t)(crlf + 2 - s->raw) + size + 2;
    }
}

/* Opens /api/events with extra header lines; asserts 200 and reads the
 * greeting, so the feed is registered when this returns. */
static void sse_open(struct sse *s, const char *path, const char *headers,
                     int rcvbuf, bool read_hello)
{
    char req[1024];
    char *end;

    memset(s, 0, sizeof(*s));
    s->fd = http_connect(rcvbuf);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: deskd\r\n%s\r\n", path,
             headers);
    send_all(s->fd, req);
    if (!read_hello)
        return;
    while (!(s->raw && (end = strstr(s->raw, "\r\n\r\n"))))
        assert_true(read_some(s->fd, &s->raw, &s->rlen, &s->rcap) > 0);
    assert_non_null(strstr(s->raw, "200 OK"));
    assert_non_null(strstr(s->raw, "text/event-stream"));
    assert_non_null(strstr(s->raw, "chunked"));
    s->rpos = (size_t)(end + 4 - s->raw);
    while (!strstr(s->text ? s->text : "", "\n\n")) {
        dechunk(s);
        if (s->text && strstr(s->text, "\n\n"))
            break;
        assert_true(read_some(s->fd, &s->raw, &s->rlen, &s->rcap) > 0);
    }
}

/* Parses one block "id:..\nevent:..\ndata:..\n\n"; comments are skipped.
 * 0 and ev filled, -1 on timeout or end of stream. */
static int sse_next(struct sse *s, struct sse_ev *ev)
{
    for (;;) {
        char *blk = s->text ? s->text + s->tpos : NULL, *end;
        dechunk(s);
        blk = s->text ? s->text + s->tpos : NULL;
        if (blk && (end = strstr(blk, "\n\n"))) {
            char *line = blk;
            bool any = false;
            memset(ev, 0, sizeof(*ev));
            *end = '\0';
            s->tpos = (size_t)(end + 2 - s->text);
            for (char *nl; line; line = nl) {
                nl = strchr(line, '\n');
                if (nl)
                    *nl++ = '\0';
                if (!strncmp(line, "id: ", 4))
                    ev->id = strtoull(line + 4, NULL, 10), any = true;
                else if (!strncmp(line, "event: ", 7))
                    snprintf(ev->type, sizeof(ev->type), "%s", line + 7);
                else if (!strncmp(line, "data: ", 6))
                    ev->data = json_loads(line + 6, 0, NULL);
            }
            if (any)
                return 0;
            continue;
        }
        if (s->eof || read_some(s->fd, &s->raw, &s->rlen, &s->rcap) <= 0)
            return -1;
    }
}

static void sse_close(struct sse *s)
{
    close(s->fd);
    free(s->raw);
    free(s->text);
}

/* ---- metrics ---- */

/* The value of one sample line ("name{labels} value"); -1 if absent. */
static double metric(const char *text, const char *sample)
{
    size_t n = strlen(sample);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (!strncmp(p, sample, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static double metric_now(const char *sample)
{
    struct http_res r;
    double v;
    http_get("/metrics", "", &r);
    assert_int_equal(r.status, 200);
    v = metric(r.body, sample);
    http_res_release(&r);
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- tests ---- */

static void test_http_healthz(void **state)
{
    struct http_res r;
    (void)state;
    command_seq("lead1", "estate.register",
                "{\"code\":\"HZ\",\"name\":\"HZ\"}");
    http_get("/healthz", "", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    assert_true(json_is_true(json_object_get(r.json, "ok")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "last_seq")),
                     h_log_count(&cli));
    http_res_release(&r);
}

/* An estate with n residences, billed for March 2026; overdue from
 * 2026-03-16 on. */
static void billed_estate(const char *e, int n)
{
    struct h_reply r;
    OK(&r, "lead1", "estate.register", "{\"code\":\"%s\",\"name\":\"%s\"}", e,
       e);
    h_reply_release(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"%s\",\"building\":\"1\"}", e);
    h_reply_release(&r);
    for (int i = 0; i < n; i++) {
        char person[24];
        OK(&r, "clerk1", "unit.register",
           "{\"estate\":\"%s\",\"building\":\"1\",\"room\":\"10%d\","
           "\"area\":\"%d.50\",\"type\":\"residence\"}",
           e, i, 80 + i);
        h_reply_release(&r);
        OK(&r, "clerk1", "person.register",
           "{\"name\":\"业主%d\",\"kind\":\"owner\",\"phones\":"
           "[\"1381234567%d\"]}",
           i, i);
        snprintf(person, sizeof(person), "%s",
                 h_reply_str(&r, "events.0.data.person"));
        h_reply_release(&r);
        OK(&r, "lead1", "unit.transfer",
           "{\"unit\":\"%s/1-10%d\",\"to\":\"%s\",\"effective\":"
           "\"2025-12-01\"}",
           e, i, person);
        h_reply_release(&r);
    }
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"%s\",\"period\":\"2026-03\"}", e);
    h_reply_release(&r);
}

static void test_http_query_overdue_equals_zmq(void **state)
{
    struct h_reply r;
    struct http_res hr;
    json_t *zr;
    (void)state;

    billed_estate("OV", 3);
    OK(&r, "admin", "clock.set", "{\"to\":\"2026-05-02T10:00:00+08:00\"}");
    h_reply_release(&r);
    OK(&r, "clerk1", "query.overdue", "{\"estate\":\"OV\"}");
    zr = h_reply_get(&r, "result");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 3);
    http_get("/api/query/overdue?estate=OV", "", &hr);
    assert_int_equal(hr.status, 200);
    assert_non_null(hr.json);
    assert_true(json_is_true(json_object_get(hr.json, "ok")));
    if (!json_equal(zr, json_object_get(hr.json, "result")))
        fail_msg("HTTP %s != ZeroMQ %s", hr.body, h_reply_text(&r));
    assert_int_equal(json_integer_value(json_object_get(hr.json, "seq")),
                     h_log_count(&cli));
    http_res_release(&hr);
    /* as of a date: the same validation and the same answer */
    http_get("/api/query/overdue?estate=OV&as_of=2026-03-20", "", &hr);
    h_reply_release(&r);
    OK(&r, "clerk1", "query.overdue",
       "{\"estate\":\"OV\",\"as_of\":\"2026-03-20\"}");
    assert_true(json_equal(h_reply_get(&r, "result"),
                           json_object_get(hr.json, "result")));
    http_res_release(&hr);
    h_reply_release(&r);
}

static void expect_error(const char *path, const char *headers, int status,
                         const char *code, const char *field)
{
    struct http_res r;
    http_get(path, headers, &r);
    if (r.status != status || !r.json ||
        strcmp(jstr(r.json, "error.code") ? jstr(r.json, "error.code") : "",
               code) ||
        json_is_true(json_object_get(r.json, "ok")))
        fail_msg("%s: expected %d %s, got %d %s", path, status, code, r.status,
                 r.body);
    if (field)
        assert_string_equal(jstr(r.json, "error.field"), field);
    http_res_release(&r);
}

static void test_http_errors_carry_codes(void **state)
{
    int64_t before = h_log_count(&cli);
    (void)state;
    expect_error("/api/query/no_such_thing", "", 404, "unknown_command", "cmd");
    expect_error("/api/nothing", "", 404, "unknown_command", NULL);
    /* the table's validation */
    expect_error("/api/query/overdue?as_of=2026-02-30", "", 400, "invalid",
                 "as_of");
    expect_error("/api/query/statement", "", 400, "invalid", "unit");
    expect_error("/api/query/overdue?colour=red", "", 400, "invalid", NULL);
    expect_error("/api/query/statement?unit=NO/1-1", "", 404, "not_found",
                 "unit");
    /* the table's roles, through the one authentication hook */
    expect_error("/api/query/overdue", "X-Deskd-Actor: stranger\r\n", 403,
                 "forbidden", "actor");
    /* not a query: commands are never run over HTTP */
    expect_error("/api/query/../fee.bill_run", "", 404, "unknown_command",
                 NULL);
    expect_error("/no-such-page.html", "", 404, "not_found", NULL);
    assert_int_equal(h_log_count(&cli), before);
}

/* R-GEN-02: the query lists mask phones, and so does the event feed. */
static void test_http_masks_personal_data_gen_02(void **state)
{
    struct sse s;
    struct sse_ev ev;
    struct h_reply r;
    char path[64];
    (void)state;
    OK(&r, "clerk1", "person.register",
       "{\"name\":\"王芳\",\"kind\":\"owner\",\"id_no\":"
       "\"440301199001011234\",\"phones\":[\"13812345678\"],"
       "\"emergency_phone\":\"13900001111\"}");
    snprintf(path, sizeof(path), "/api/events?from=%lld", (long long)r.seq);
    h_reply_release(&r);
    sse_open(&s, path, "", 0, true);
    assert_int_equal(sse_next(&s, &ev), 0);
    assert_string_equal(ev.type, "person.registered");
    assert_string_equal(jstr(ev.data, "data.id_no"), "4403**********1234");
    assert_string_equal(jstr(ev.data, "data.phones.0"), "138****5678");
    assert_string_equal(jstr(ev.data, "data.emergency_phone"), "139****1111");
    assert_null(strstr(s.text, "13812345678"));
    json_decref(ev.data);
    sse_close(&s);
}

static void test_http_metrics_move(void **state)
{
    static const char *const series[] = {
        "deskd_events_total",
        "deskd_commands_total{result=\"ok\"}",
        "deskd_commands_total{result=\"failed\"}",
        "deskd_batch_size_count",
        "deskd_batch_size_bucket{le=\"+Inf\"}",
        "deskd_commit_seconds_count",
        "deskd_commit_seconds_sum",
        "deskd_sse_clients",
        "deskd_timers_fired_total",
        "deskd_last_seq"};
    struct http_res r;
    double ev, ok, failed, batches, commits;
    struct h_reply rep;
    (void)state;

    http_get("/metrics", "", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "text/plain; version=0.0.4"));
    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
        if (metric(r.body, series[i]) < 0)
            fail_msg("no series %s in:\n%s", series[i], r.body);
    assert_non_null(strstr(r.body, "# TYPE deskd_commit_seconds histogram"));
    ev = metric(r.body, "deskd_events_total");
    ok = metric(r.body, "deskd_commands_total{result=\"ok\"}");
    failed = metric(r.body, "deskd_commands_total{result=\"failed\"}");
    batches = metric(r.body, "deskd_batch_size_count");
    commits = metric(r.body, "deskd_commit_seconds_count");
    http_res_release(&r);

    command_seq("lead1", "estate.register",
                "{\"code\":\"MX\",\"name\":\"MX\"}");
    cmd(&rep, "clerk1", "estate.register", "{\"code\":\"MY\",\"name\":\"MY\"}");
    assert_false(rep.ok); /* forbidden: counted as failed */
    h_reply_release(&rep);

    /* counters are published before the replies leave */
    assert_true(metric_now("deskd_events_total") == ev + 1);
    /* R-GEN-05: the shipped calendar's end, 2026-12-31T23:59:59+08:00 */
    assert_true(metric_now("deskd_calendar_covered_until") == 1798732799.0);
    assert_true(metric_now("deskd_calendar_covered_from") == 1704038400.0);
    assert_true(metric_now("deskd_commands_total{result=\"ok\"}") >= ok + 1);
    assert_true(metric_now("deskd_commands_total{result=\"failed\"}") >=
                failed + 1);
    assert_true(metric_now("deskd_batch_size_count") >= batches + 2);
    assert_true(metric_now("deskd_commit_seconds_count") >= commits + 1);
    assert_true(metric_now("deskd_last_seq") == (double)h_log_count(&cli));
}

static void test_http_sse_live(void **state)
{
    struct sse s;
    struct sse_ev ev;
    int64_t seq;
    (void)state;

    sse_open(&s, "/api/events", "", 0, true);
    seq = command_seq("lead1", "estate.register",
                      "{\"code\":\"LV\",\"name\":\"直播\"}");
    assert_int_equal(sse_next(&s, &ev), 0);
    assert_int_equal(ev.id, seq); /* live: nothing older, nothing skipped */
    assert_string_equal(ev.type, "estate.registered");
    assert_int_equal(json_integer_value(json_object_get(ev.data, "seq")), seq);
    assert_string_equal(jstr(ev.data, "data.name"), "直播");
    json_decref(ev.data);
    assert_true(metric_now("deskd_sse_clients") >= 1);
    sse_close(&s);
}

/* Reads ids first..last from s, each exactly once, in order. */
static void expect_ids(struct sse *s, uint64_t first, uint64_t last)
{
    struct sse_ev ev;
    for (uint64_t want = first; want <= last; want++) {
        if (sse_next(s, &ev))
            fail_msg("feed ended before id %llu", (unsigned long long)want);
        if (ev.id != want)
            fail_msg("expected id %llu, got %llu", (unsigned long long)want,
                     (unsigned long long)ev.id);
        assert_non_null(ev.data);
        assert_int_equal(json_integer_value(json_object_get(ev.data, "seq")),
                         want);
        json_decref(ev.data);
    }
}

static void test_http_sse_resume_last_event_id(void **state)
{
    struct sse s;
    char hdr[64], path[64];
    uint64_t n, mid, seen;
    (void)state;

    n = (uint64_t)h_log_count(&cli);
    mid = n / 2;
    /* from the middle of the log: catch-up, then live, no gap, no repeat */
    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu\r\n",
             (unsigned long long)mid);
    sse_open(&s, "/api/events", hdr, 0, true);
    expect_ids(&s, mid + 1, n);
    n = (uint64_t)command_seq("lead1", "estate.register",
                              "{\"code\":\"R1\",\"name\":\"R1\"}");
    expect_ids(&s, n, n);
    seen = n;
    sse_close(&s);

    /* the browser is gone while three more happen; it comes back with
     * the last id it saw and gets exactly those three */
    command_seq("lead1", "estate.register", "{\"code\":\"R2\",\"name\":\"R\"}");
    command_seq("lead1", "estate.register", "{\"code\":\"R3\",\"name\":\"R\"}");
    n = (uint64_t)command_seq("lead1", "estate.register",
                              "{\"code\":\"R4\",\"name\":\"R\"}");
    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu\r\n",
             (unsigned long long)seen);
    sse_open(&s, "/api/events", hdr, 0, true);
    expect_ids(&s, seen + 1, n);
    sse_close(&s);

    /* ?from= names the first id wanted (EventSource cannot send headers
     * on its first connection) */
    snprintf(path, sizeof(path), "/api/events?from=%llu",
             (unsigned long long)(seen + 2));
    sse_open(&s, path, "", 0, true);
    expect_ids(&s, seen + 2, n);
    sse_close(&s);
}

/* A feed that never reads: every command is still acknowledged, and the
 * feed is dropped once it is more than sse_lag_max events behind. What it
 * did receive is in order from its start, without gaps. */
static void test_http_sse_stalled_client(void **state)
{
    char note[NOTE_BYTES + 1], body[NOTE_BYTES + 128], path[64];
    double dropped = metric_now("deskd_sse_dropped_total");
    uint64_t first = (uint64_t)h_log_count(&cli) + 1;
    struct sse s;
    struct sse_ev ev;
    uint64_t want;
    int waited = 0;
    (void)state;

    memset(note, 'x', NOTE_BYTES);
    note[NOTE_BYTES] = '\0';
    snprintf(path, sizeof(path), "/api/events?from=%llu",
             (unsigned long long)first);
    sse_open(&s, path, "", 2048, false); /* tiny window, never read */
    for (int i = 0; i < STALL_EVENTS; i++) {
        struct h_reply r;
        snprintf(body, sizeof(body),
                 "{\"name\":\"S%d\",\"kind\":\"staff\",\"note\":\"%s\"}", i,
                 note);
        cmd(&r, "clerk1", "person.register", "%s", body);
        if (!r.ok)
            fail_msg("command %d not acknowledged: %s", i, h_reply_text(&r));
        h_reply_release(&r);
    }
    while (metric_now("deskd_sse_dropped_total") < dropped + 1 &&
           waited < WAIT_MS) {
        sleep_ms(50);
        waited += 50;
    }
    assert_true(metric_now("deskd_sse_dropped_total") >= dropped + 1);
    /* the feed is closed (FIN or reset, not a timeout); whatever it got
     * before is in order from its start, without gaps */
    for (;;) {
        struct pollfd p = {s.fd, POLLIN, 0};
        ssize_t k;
        assert_int_equal(poll(&p, 1, IO_TIMEOUT_MS), 1);
        k = read_some(s.fd, &s.raw, &s.rlen, &s.rcap);
        if (k <= 0)
            break;
    }
    if (s.raw && strstr(s.raw, "\r\n\r\n")) {
        s.rpos = (size_t)(strstr(s.raw, "\r\n\r\n") + 4 - s.raw);
        s.eof = true; /* parse what is there, read no more */
        for (want = first; sse_next(&s, &ev) == 0; want++) {
            assert_int_equal(ev.id, want);
            json_decref(ev.data);
        }
        assert_true(want <= first + STALL_EVENTS);
    }
    sse_close(&s);
}

static void test_http_dashboard_files(void **state)
{
    struct http_res r;
    (void)state;
    http_get("/", "", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "text/html"));
    assert_non_null(strstr(r.body, "<html"));
    http_res_release(&r);
    http_get("/app.js", "", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "text/javascript"));
    http_res_release(&r);
    expect_error("/../config/deskd.conf", "", 404, "not_found", NULL);
    http_get("/api/meta", "", &r);
    assert_int_equal(r.status, 200);
    assert_true(json_array_size(json_object_get(r.json, "queries")) > 0);
    assert_true(json_array_size(json_object_get(r.json, "events")) > 0);
    http_res_release(&r);
}

static char fees_path[H_PATH_MAX], dash_path[H_PATH_MAX];

/* Regression: a batch that writes nothing (here a query) commits without a
 * flush in LMDB, so it must not release the held batch's replies as if it
 * had made them durable. A write W is held (sync_wait_us keeps the loop
 * waiting for more work instead of flushing), a query arrives 20 ms later;
 * when W's reply reaches the desk, a flush must already have happened.
 * Before the fix W's reply left with no flush at all. */
static void test_reply_after_flush_when_next_batch_is_empty(void **state)
{
    struct h_server saved = srv;
    struct h_opts o = {
        .extra_ini = "[deskd]\nhttp = 127.0.0.1:0\nsync_wait_us = 100000\n"
                     "journal_mb = 0\n"}; /* the LMDB log's own protocol */
    struct h_client a, b;
    struct h_reply r;
    struct cw w;
    (void)state;

    assert_int_equal(h_server_start_opts(&srv, &o), 0);
    assert_int_equal(h_client_open(&a, srv.cmd_ep), 0);
    assert_int_equal(h_client_open(&b, srv.cmd_ep), 0);
    assert_true(metric_now("deskd_syncs_total") == 0);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", "durable-w");
    cw_kstr(&w, "cmd", "estate.register");
    cw_kstr(&w, "actor", "lead1");
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kstr(&w, "code", "DW");
    cw_kstr(&w, "name", "DW");
    assert_int_equal(h_send_raw(&a, cw_data(&w), cw_len(&w)), 0);
    usleep(20 * 1000);
    cw_reset(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", "durable-q");
    cw_kstr(&w, "cmd", "log.read");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 1);
    cw_kint(&w, "from", 1);
    assert_int_equal(h_send_raw(&b, cw_data(&w), cw_len(&w)), 0);
    cw_release(&w);
    assert_int_equal(h_recv(&a, &r), 0);
    assert_true(r.ok);
    h_reply_release(&r);
    if (metric_now("deskd_syncs_total") < 1)
        fail_msg("the write was acknowledged before any flush");
    assert_int_equal(h_recv(&b, &r), 0);
    assert_true(r.ok);
    h_reply_release(&r);
    h_client_close(&a);
    h_client_close(&b);
    h_server_cleanup(&srv);
    srv = saved;
}

/* Registers unit RW/1-<room> (estate and building first when room is
 * 100); returns the seq of its event. */
static int64_t rw_unit(int room)
{
    struct h_reply r;
    int64_t seq;
    if (room == 100) {
        OK(&r, "lead1", "estate.register", "{\"code\":\"RW\",\"name\":\"RW\"}");
        h_reply_release(&r);
        OK(&r, "lead1", "building.register",
           "{\"estate\":\"RW\",\"building\":\"1\"}");
        h_reply_release(&r);
    }
    OK(&r, "clerk1", "unit.register",
       "{\"estate\":\"RW\",\"building\":\"1\",\"room\":\"%d\","
       "\"area\":\"80.00\",\"type\":\"residence\"}",
       room);
    seq = r.seq;
    h_reply_release(&r);
    return seq;
}

/* Starts this test's own deskd in place of the shared one. */
static void rw_start(struct h_server *saved, struct h_client *saved_cli,
                     int commit_ms)
{
    char ini[256];
    struct h_opts o = {.extra_ini = ini};
    snprintf(ini, sizeof(ini),
             "[deskd]\nhttp = 127.0.0.1:0\nhttp_actor = clerk1\n"
             "derived_commit_ms = %d\n",
             commit_ms);
    *saved = srv;
    *saved_cli = cli;
    assert_int_equal(h_server_start_opts(&srv, &o), 0);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
}

static void rw_stop(struct h_server *saved, struct h_client *saved_cli)
{
    h_client_close(&cli);
    assert_int_equal(h_server_stop(&srv), 0);
    h_server_cleanup(&srv);
    srv = *saved;
    cli = *saved_cli;
}

/* Derived state is committed lazily (derived_commit_ms), yet a query over
 * HTTP shows every write acknowledged before it arrived: it asks for a
 * commit and waits for it (core/fresh.h). With 10 s between commits (a
 * query waits at most 2 s), each unit registered over ZeroMQ is in the
 * next HTTP query only if the asking works; the queries waited (so they
 * ran while derived state lagged the log) and none was answered stale. A
 * write nobody asks for is committed by the timer: with 200 ms, a query
 * 600 ms later finds it without waiting. */
static void test_http_query_sees_acknowledged_writes(void **state)
{
    struct h_server saved;
    struct h_client saved_cli;
    struct http_res hr;
    char path[128];
    double waits;
    (void)state;

    rw_start(&saved, &saved_cli, 10000);
    for (int room = 100; room < 120; room++) {
        int64_t seq = rw_unit(room);
        snprintf(path, sizeof(path), "/api/query/unit?unit=RW/1-%d", room);
        http_get(path, "", &hr);
        if (hr.status != 200)
            fail_msg("unit %d, acknowledged at seq %lld, not in %s: %d %s",
                     room, (long long)seq, path, hr.status, hr.body);
        assert_true(json_integer_value(json_object_get(hr.json, "seq")) >= seq);
        http_res_release(&hr);
    }
    if (metric_now("deskd_query_waits_total") < 1)
        fail_msg("no query waited: derived state was not committed lazily");
    assert_true(metric_now("deskd_query_stale_total") == 0);
    rw_stop(&saved, &saved_cli);

    rw_start(&saved, &saved_cli, 200);
    rw_unit(100);
    waits = metric_now("deskd_query_waits_total");
    sleep_ms(600);
    http_get("/api/query/unit?unit=RW/1-100", "", &hr);
    assert_int_equal(hr.status, 200);
    http_res_release(&hr);
    if (metric_now("deskd_query_waits_total") != waits)
        fail_msg("the query waited: the timer did not commit derived state");
    rw_stop(&saved, &saved_cli);
}

static int setup(void **state)
{
    char ini[3 * H_PATH_MAX];
    struct h_opts o = {0};
    (void)state;
    if (!realpath("config/fees.tsv", fees_path) ||
        !realpath("tools/dashboard", dash_path))
        return -1;
    snprintf(ini, sizeof(ini),
             "[fees]\nrates = %s\n[deskd]\nhttp_actor = clerk1\n"
             "sse_lag_max = %d\ndashboard_dir = %s\n",
             fees_path, LAG_MAX, dash_path);
    o.extra_ini = ini;
    if (h_server_start_opts(&srv, &o))
        return -1;
    if (!srv.http_ep[0])
        return -1;
    return h_client_open(&cli, srv.cmd_ep);
}

static int teardown(void **state)
{
    int rc;
    (void)state;
    h_client_close(&cli);
    rc = h_server_stop(&srv); /* a clean exit with feeds open */
    h_server_cleanup(&srv);
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_healthz),
        cmocka_unit_test(test_http_query_overdue_equals_zmq),
        cmocka_unit_test(test_http_errors_carry_codes),
        cmocka_unit_test(test_http_masks_personal_data_gen_02),
        cmocka_unit_test(test_http_metrics_move),
        cmocka_unit_test(test_reply_after_flush_when_next_batch_is_empty),
        cmocka_unit_test(test_http_sse_live),
        cmocka_unit_test(test_http_sse_resume_last_event_id),
        cmocka_unit_test(test_http_sse_stalled_client),
        cmocka_unit_test(test_http_dashboard_files),
        /* last: it swaps the shared server for one of its own */
        cmocka_unit_test(test_http_query_sees_acknowledged_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
