/* tests/integration/it_privacy.c - personal data (R-GEN-02) and the HTTP
 * API's bearer tokens: ID numbers, phones and emergency contacts are
 * masked in the read models, the live feed and the audit exports; the full
 * record goes only to the roles the table allows, and every full view is
 * an event (who saw whose data, when, why). With [http_tokens], every /api/
 * path needs a token (401 otherwise) and the token names the operator; /healthz
 * stays open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/audit.h"
#include "../../projections/export.h"
#include "harness.h"

#define IO_TIMEOUT_MS 10000
#define ID_FULL "440301199001011234"
#define ID_MASKED "4403**********1234"
#define PHONE_FULL "13812345678"
#define PHONE_MASKED "138****5678"
#define EM_PHONE_FULL "13900001111"
#define TOKEN_CLERK "clerk-token-0123456789abcdef"
#define TOKEN_LEAD "lead-token-0123456789abcdef"

/* The command must succeed. */
#define OK_CMD(actor, name, ...)                                               \
    do {                                                                       \
        struct h_reply ok_;                                                    \
        assert_int_equal(h_cmdf(&cli, &ok_, actor, name, __VA_ARGS__), 0);     \
        if (!ok_.ok)                                                           \
            fail_msg("%s: %s", name, h_reply_text(&ok_));                      \
        h_reply_release(&ok_);                                                 \
    } while (0)

static struct h_server srv;
static struct h_client cli;
static char person[24];

static int setup(void **state)
{
    struct h_reply r;
    (void)state;
    if (h_server_start(&srv, "[http_tokens]\n" TOKEN_CLERK
                             " = clerk1\n" TOKEN_LEAD " = lead1\n") ||
        h_client_open(&cli, srv.cmd_ep))
        return -1;
    if (h_cmdf(&cli, &r, "clerk1", "person.register",
               "{\"name\":\"王芳\",\"kind\":\"owner\",\"id_no\":\"" ID_FULL
               "\",\"phones\":[\"" PHONE_FULL "\"],\"emergency_name\":"
               "\"李四\",\"emergency_phone\":\"" EM_PHONE_FULL "\"}") ||
        !r.ok) {
        fprintf(stderr, "setup: %s\n", h_reply_text(&r));
        h_reply_release(&r);
        return -1;
    }
    snprintf(person, sizeof(person), "%s",
             h_reply_str(&r, "events.0.data.person"));
    h_reply_release(&r);
    return 0;
}

static int teardown(void **state)
{
    int rc;
    (void)state;
    h_client_close(&cli);
    rc = h_server_stop(&srv); /* a clean exit: no sanitizer report */
    h_server_cleanup(&srv);
    return rc;
}

/* R-GEN-02: a clerk sees the record masked, emergency contact included. */
static void test_gen_02_clerk_sees_masked(void **state)
{
    struct h_reply r;
    (void)state;
    assert_int_equal(h_cmdf(&cli, &r, "clerk1", "query.person",
                            "{\"person\":\"%s\"}", person),
                     0);
    assert_true(r.ok);
    assert_string_equal(h_reply_str(&r, "result.id_no"), ID_MASKED);
    assert_string_equal(h_reply_str(&r, "result.phones.0"), PHONE_MASKED);
    assert_string_equal(h_reply_str(&r, "result.emergency_phone"),
                        "139****1111");
    assert_string_equal(h_reply_str(&r, "result.emergency_name"), "李*");
    assert_string_equal(h_reply_str(&r, "result.name"), "王芳");
    h_reply_release(&r);
}

static int find_view(json_t *ev, void *arg)
{
    json_t **found = arg;
    if (!strcmp(json_string_value(json_object_get(ev, "type")),
                "person.data_viewed")) {
        json_decref(*found);
        *found = json_incref(ev);
    }
    return 0;
}

/* R-GEN-02: the full record only for the roles allowed (a clerk is
 * refused and nothing is written); a lead's full view is an event naming
 * the viewer, the person, the reason, and when. */
static void test_gen_02_full_view_by_role_is_recorded(void **state)
{
    struct h_reply r;
    json_t *view = NULL;
    int64_t before = h_log_count(&cli);
    (void)state;

    assert_int_equal(h_cmdf(&cli, &r, "clerk1", "person.view_full",
                            "{\"person\":\"%s\",\"reason\":\"curious\"}",
                            person),
                     0);
    assert_false(r.ok);
    assert_string_equal(r.code, "forbidden");
    h_reply_release(&r);
    assert_int_equal(h_log_count(&cli), before);

    assert_int_equal(h_cmdf(&cli, &r, "lead1", "person.view_full",
                            "{\"person\":\"%s\",\"reason\":\"owner asked to "
                            "verify ID\"}",
                            person),
                     0);
    if (!r.ok)
        fail_msg("view_full: %s", h_reply_text(&r));
    assert_string_equal(h_reply_str(&r, "result.id_no"), ID_FULL);
    assert_string_equal(h_reply_str(&r, "result.phones.0"), PHONE_FULL);
    assert_string_equal(h_reply_str(&r, "result.emergency_name"), "李四");
    h_reply_release(&r);
    assert_int_equal(h_log_count(&cli), before + 1);
    assert_true(h_log_all(&cli, find_view, &view) > 0);
    assert_non_null(view);
    assert_string_equal(json_string_value(json_object_get(view, "actor")),
                        "lead1");
    assert_string_equal(json_string_value(h_json_path(view, "data.viewer")),
                        "lead1");
    assert_string_equal(json_string_value(h_json_path(view, "data.person")),
                        person);
    assert_string_equal(json_string_value(h_json_path(view, "data.reason")),
                        "owner asked to verify ID");
    assert_non_null(json_string_value(json_object_get(view, "recorded_at")));
    json_decref(view);
}

/* Runs an export into memory and returns it (caller frees). */
static char *export_text(int what, enum audit_fmt fmt)
{
    char *buf = NULL;
    size_t len = 0;
    uint64_t n = 0;
    struct err e = {0};
    FILE *f = open_memstream(&buf, &len);
    int rc;

    assert_non_null(f);
    assert_int_equal(h_derived_settled(&srv), 0); /* committed lazily */
    if (what == 0)
        rc = proj_export_table(srv.data_dir, "people", fmt, f, &n, NULL, &e);
    else
        rc = audit_export_events(srv.data_dir, fmt, f, &n, NULL, &e);
    fclose(f);
    if (rc)
        fail_msg("export: %s", e.msg);
    assert_true(n > 0);
    return buf;
}

/* R-GEN-02: the audit exports (a table, the whole log; JSON lines and
 * CSV) mask too; nothing in them shows the full ID or phones. */
static void test_gen_02_exports_are_masked(void **state)
{
    (void)state;
    for (int what = 0; what < 2; what++)
        for (int fmt = 0; fmt < 2; fmt++) {
            char *t = export_text(what, fmt ? AUDIT_CSV : AUDIT_JSONL);
            if (strstr(t, ID_FULL) || strstr(t, PHONE_FULL) ||
                strstr(t, EM_PHONE_FULL) || strstr(t, "李四"))
                fail_msg("export %d/%d shows personal data:\n%s", what, fmt, t);
            assert_non_null(strstr(t, ID_MASKED));
            assert_non_null(strstr(t, PHONE_MASKED));
            free(t);
        }
}

static int find_registered(json_t *ev, void *arg)
{
    json_t **found = arg;
    if (!strcmp(json_string_value(json_object_get(ev, "type")),
                "person.registered") &&
        !*found)
        *found = json_incref(ev);
    return 0;
}

/* The first person.registered event as op reads it with log.read. */
static json_t *registered_as(const char *op, bool *masked)
{
    struct h_reply r;
    json_t *ev = NULL;
    assert_int_equal(
        h_cmdf(&cli, &r, op, "log.read", "{\"from\":1,\"limit\":100}"), 0);
    if (!r.ok)
        fail_msg("log.read as %s: %s", op, h_reply_text(&r));
    *masked = json_is_true(h_reply_get(&r, "result.masked"));
    find_registered(h_reply_get(&r, "result.events.0"), &ev);
    h_reply_release(&r);
    assert_non_null(ev);
    return ev;
}

/* R-GEN-02: log.read masks for every role, a lead's too (every full view
 * is recorded, and only person.view_full records one); the event stream
 * (PUB), which any desk may follow, carries it masked. */
static void test_gen_02_log_read_and_events_by_role(void **state)
{
    struct h_sub sub;
    struct h_reply r;
    struct timespec pause = {0, 200 * 1000000L};
    char topic[64];
    json_t *ev;
    bool masked;
    (void)state;

    ev = registered_as("clerk1", &masked);
    assert_true(masked);
    assert_string_equal(json_string_value(h_json_path(ev, "data.id_no")),
                        ID_MASKED);
    assert_string_equal(json_string_value(h_json_path(ev, "data.phones.0")),
                        PHONE_MASKED);
    assert_string_equal(
        json_string_value(h_json_path(ev, "data.emergency_name")), "李*");
    json_decref(ev);
    ev = registered_as("lead1", &masked);
    assert_true(masked);
    assert_string_equal(json_string_value(h_json_path(ev, "data.id_no")),
                        ID_MASKED);
    json_decref(ev);

    assert_int_equal(h_sub_open(&sub, srv.pub_ep, "person.registered"), 0);
    nanosleep(&pause, NULL);
    assert_int_equal(h_cmdf(&cli, &r, "clerk1", "person.register",
                            "{\"name\":\"赵六\",\"kind\":\"owner\","
                            "\"id_no\":\"" ID_FULL "\"}"),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
    assert_int_equal(h_sub_recv(&sub, topic, sizeof(topic), &ev, 5000), 0);
    assert_string_equal(json_string_value(h_json_path(ev, "data.id_no")),
                        ID_MASKED);
    assert_string_equal(json_string_value(h_json_path(ev, "data.name")),
                        "赵六");
    json_decref(ev);
    h_sub_close(&sub);
}

/* ---- HTTP ---- */

struct http_res {
    int status;
    char *raw;
    const char *body;
};

static void http_get(const char *path, const char *headers,
                     struct http_res *res)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64], req[1024];
    size_t len = 0, cap = 1 << 16;
    int port, fd;

    memset(res, 0, sizeof(*res));
    assert_int_equal(sscanf(srv.http_ep, "%63[^:]:%d", host, &port), 2);
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: deskd\r\nConnection: close\r\n%s\r\n",
             path, headers);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    res->raw = malloc(cap);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t k;
        assert_true(poll(&p, 1, IO_TIMEOUT_MS) > 0);
        if (len + 1 >= cap)
            assert_non_null(res->raw = realloc(res->raw, cap *= 2));
        k = read(fd, res->raw + len, cap - len - 1);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    res->raw[len] = '\0';
    close(fd);
    assert_int_equal(sscanf(res->raw, "HTTP/1.1 %d", &res->status), 1);
    res->body = strstr(res->raw, "\r\n\r\n");
    res->body = res->body ? res->body + 4 : "";
}

static int status_of(const char *path, const char *headers)
{
    struct http_res res;
    int s;
    http_get(path, headers, &res);
    s = res.status;
    free(res.raw);
    return s;
}

#define FREE_TEXT                                                              \
    "业主13812345678来电：车牌粤B12345的车堵住消防通道，身份证" ID_FULL        \
    "，座机0755-12345678"

/* Numbers in s that must never leave unmasked. */
static void no_raw_numbers(const char *what, const char *s)
{
    static const char *const raw[] = {PHONE_FULL, "粤B12345", ID_FULL,
                                      "12345678", NULL};
    for (int i = 0; raw[i]; i++)
        if (strstr(s, raw[i]))
            fail_msg("%s shows '%s': %s", what, raw[i], s);
    if (!strstr(s, PHONE_MASKED) || !strstr(s, "粤B***45") ||
        !strstr(s, ID_MASKED))
        fail_msg("%s lost the masked numbers: %s", what, s);
}

static int find_complaint(json_t *ev, void *arg)
{
    json_t **found = arg;
    if (!strcmp(json_string_value(json_object_get(ev, "type")),
                "complaint.received")) {
        json_decref(*found);
        *found = json_incref(ev);
    }
    return 0;
}

/* R-GEN-02 in free text (issue 16): phone, ID, plate and landline numbers
 * a clerk typed into a complaint's description are masked in the query
 * (command socket and HTTP), log.read and the event stream, among the
 * Chinese text around them; the log keeps what was typed. */
static void test_gen_02_free_text_masked(void **state)
{
    struct h_reply r;
    struct http_res res;
    struct h_sub sub;
    char id[32], path[128], topic[64];
    json_t *ev = NULL;
    char *txt;
    (void)state;

    assert_int_equal(h_sub_open(&sub, srv.pub_ep, "complaint."), 0);
    OK_CMD("lead1", "estate.register", "{\"code\":\"FT\",\"name\":\"FT\"}");
    OK_CMD("lead1", "building.register",
           "{\"estate\":\"FT\",\"building\":\"1\"}");
    OK_CMD("clerk1", "unit.register",
           "{\"estate\":\"FT\",\"building\":\"1\",\"room\":\"101\","
           "\"area\":\"80\",\"type\":\"residence\"}");
    assert_int_equal(h_cmdf(&cli, &r, "clerk1", "complaint.receive",
                            "{\"channel\":\"phone\",\"unit\":\"FT/1-101\","
                            "\"name\":\"王\",\"what\":\"%s\"}",
                            FREE_TEXT),
                     0);
    if (!r.ok)
        fail_msg("complaint.receive: %s", h_reply_text(&r));
    /* the sender's own reply echoes what it sent */
    snprintf(id, sizeof(id), "%s", h_reply_str(&r, "events.0.data.complaint"));
    h_reply_release(&r);

    assert_int_equal(h_cmdf(&cli, &r, "clerk1", "query.complaint",
                            "{\"complaint\":\"%s\"}", id),
                     0);
    assert_true(r.ok);
    no_raw_numbers("query.complaint", h_reply_text(&r));
    h_reply_release(&r);

    snprintf(path, sizeof(path), "/api/query/complaint?complaint=%s", id);
    http_get(path, "Authorization: Bearer " TOKEN_CLERK "\r\n", &res);
    assert_int_equal(res.status, 200);
    no_raw_numbers("GET /api/query/complaint", res.body);
    free(res.raw);

    h_log_all(&cli, find_complaint, &ev);
    assert_non_null(ev);
    txt = json_dumps(ev, 0);
    no_raw_numbers("log.read", txt);
    free(txt);
    json_decref(ev);
    ev = NULL;
    while (!ev) {
        assert_int_equal(h_sub_recv(&sub, topic, sizeof(topic), &ev, 5000), 0);
        if (strcmp(topic, "complaint.received")) {
            json_decref(ev);
            ev = NULL;
        }
    }
    txt = json_dumps(ev, 0);
    no_raw_numbers("PUB", txt);
    free(txt);
    json_decref(ev);
    h_sub_close(&sub);
}

/* /healthz needs no token; every /api/ path does (401 with a challenge);
 * an unknown token is 401 too. */
static void test_http_api_needs_a_token(void **state)
{
    struct http_res res;
    char path[128];
    (void)state;

    snprintf(path, sizeof(path), "/api/query/person?person=%s", person);
    assert_int_equal(status_of("/healthz", ""), 200);
    http_get(path, "", &res);
    assert_int_equal(res.status, 401);
    assert_non_null(strstr(res.raw, "WWW-Authenticate: Bearer"));
    assert_null(strstr(res.raw, ID_MASKED));
    free(res.raw);
    assert_int_equal(status_of(path, "Authorization: Bearer wrong-token-"
                                     "0123456789\r\n"),
                     401);
    assert_int_equal(status_of("/api/meta", ""), 401);
    assert_int_equal(status_of("/api/events", ""), 401);
    assert_int_equal(status_of(path, "X-Deskd-Actor: lead1\r\n"), 401);
}

/* The token names the operator: its data comes masked for a clerk; an
 * X-Deskd-Actor naming someone else is forbidden. */
static void test_http_token_is_the_operator(void **state)
{
    struct http_res res;
    char path[128];
    (void)state;

    snprintf(path, sizeof(path), "/api/query/person?person=%s", person);
    http_get(path, "Authorization: Bearer " TOKEN_CLERK "\r\n", &res);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, ID_MASKED));
    assert_null(strstr(res.body, ID_FULL));
    free(res.raw);
    assert_int_equal(status_of(path, "Authorization: Bearer " TOKEN_CLERK
                                     "\r\nX-Deskd-Actor: lead1\r\n"),
                     403);
    assert_int_equal(status_of(path, "Authorization: Bearer " TOKEN_LEAD
                                     "\r\nX-Deskd-Actor: lead1\r\n"),
                     200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_02_clerk_sees_masked),
        cmocka_unit_test(test_gen_02_full_view_by_role_is_recorded),
        cmocka_unit_test(test_gen_02_exports_are_masked),
        cmocka_unit_test(test_gen_02_log_read_and_events_by_role),
        cmocka_unit_test(test_gen_02_free_text_masked),
        cmocka_unit_test(test_http_api_needs_a_token),
        cmocka_unit_test(test_http_token_is_the_operator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
