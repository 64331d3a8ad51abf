/* tests/integration/it_units.c - the wire contract and the estate register
 * over real sockets: register -> query (R-GEN-01..03), idempotent ids,
 * optimistic concurrency, every error code, and a table of malformed
 * commands, each refused with its own code and writing nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk.h"
#include "harness.h"

static struct h_server srv;
static struct h_client cli;

static void call(struct h_reply *r, const char *json)
{
    assert_int_equal(h_call(&cli, json, r), 0);
}

static void must_ok(const char *json)
{
    struct h_reply r;
    call(&r, json);
    if (!r.ok)
        fail_msg("refused: %s -> %s", json, h_reply_text(&r));
    h_reply_release(&r);
}

/* R-GEN-01 estate -> building -> unit with area, type, state;
 * R-GEN-02 people, masked; R-GEN-03 ownership as of a date. */
static void test_gen01_03_register_and_query(void **state)
{
    struct h_reply r;
    (void)state;
    must_ok("{\"id\":\"u1\",\"cmd\":\"estate.register\",\"actor\":\"lead1\","
            "\"body\":{\"code\":\"HY\",\"name\":\"华苑小区\"}}");
    must_ok("{\"id\":\"u2\",\"cmd\":\"building.register\",\"actor\":\"lead1\","
            "\"body\":{\"estate\":\"HY\",\"building\":\"3\"}}");
    call(&r, "{\"id\":\"u3\",\"cmd\":\"unit.register\",\"actor\":\"clerk1\","
             "\"body\":{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1201\","
             "\"area\":120.5,\"type\":\"residence\"}}");
    assert_true(r.ok);
    assert_string_equal(h_reply_str(&r, "events.0.data.area"), "120.50");
    assert_string_equal(h_reply_str(&r, "events.0.data.state"), "unsold");
    assert_string_equal(h_reply_str(&r, "events.0.stream"), "unit:HY/3-1201");
    h_reply_release(&r);
    call(&r, "{\"id\":\"u4\",\"cmd\":\"person.register\",\"actor\":\"clerk1\","
             "\"body\":{\"name\":\"王芳\",\"kind\":\"owner\",\"id_no\":"
             "\"440301199001011234\",\"phones\":[\"13812345678\"]}}");
    assert_true(r.ok);
    assert_string_equal(h_reply_str(&r, "events.0.data.person"), "P4");
    h_reply_release(&r);
    must_ok("{\"id\":\"u5\",\"cmd\":\"unit.transfer\",\"actor\":\"lead1\","
            "\"body\":{\"unit\":\"HY/3-1201\",\"to\":\"P4\",\"effective\":"
            "\"2026-04-15\"}}");
    call(&r, "{\"id\":\"q1\",\"cmd\":\"query.unit\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1201\",\"as_of\":\"2026-04-14\"}}");
    assert_true(json_is_null(h_reply_get(&r, "result.owner")));
    h_reply_release(&r);
    call(&r, "{\"id\":\"q2\",\"cmd\":\"query.unit\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1201\",\"as_of\":\"2026-04-15\"}}");
    assert_string_equal(h_reply_str(&r, "result.owner.person"), "P4");
    assert_string_equal(h_reply_str(&r, "result.owner.name"), "王芳");
    h_reply_release(&r);
    call(&r, "{\"id\":\"q3\",\"cmd\":\"query.person\",\"actor\":\"clerk1\","
             "\"body\":{\"person\":\"P4\"}}");
    assert_string_equal(h_reply_str(&r, "result.id_no"), "4403**********1234");
    assert_string_equal(h_reply_str(&r, "result.phones.0"), "138****5678");
    h_reply_release(&r);
    /* R-GEN-02: the full record for a lead, and the view is recorded */
    call(&r, "{\"id\":\"q4\",\"cmd\":\"person.view_full\",\"actor\":\"lead1\","
             "\"body\":{\"person\":\"P4\",\"reason\":\"verify\"}}");
    assert_string_equal(h_reply_str(&r, "result.id_no"), "440301199001011234");
    assert_string_equal(h_reply_str(&r, "events.0.type"), "person.data_viewed");
    assert_string_equal(h_reply_str(&r, "events.0.data.viewer"), "lead1");
    h_reply_release(&r);
}

/* R-GEN-02: a tenant needs a lease end and an owner as landlord; links
 * show on the unit card only while they last. */
static void test_gen02_links_with_dates(void **state)
{
    struct h_reply r;
    char p[24], json[512];
    (void)state;
    call(&r, "{\"id\":\"l1\",\"cmd\":\"person.register\",\"actor\":\"clerk1\","
             "\"body\":{\"name\":\"Tenant\",\"kind\":\"tenant\"}}");
    snprintf(p, sizeof(p), "%s", h_reply_str(&r, "events.0.data.person"));
    h_reply_release(&r);
    snprintf(json, sizeof(json),
             "{\"id\":\"l2\",\"cmd\":\"unit.link\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1201\",\"person\":\"%s\",\"role\":"
             "\"tenant\",\"from\":\"2026-05-01\"}}",
             p);
    call(&r, json);
    assert_string_equal(r.code, "rule");
    h_reply_release(&r);
    snprintf(json, sizeof(json),
             "{\"id\":\"l3\",\"cmd\":\"unit.link\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1201\",\"person\":\"%s\",\"role\":"
             "\"tenant\",\"from\":\"2026-05-01\",\"to\":\"2027-04-30\"}}",
             p);
    call(&r, json);
    assert_true(r.ok);
    assert_string_equal(h_reply_str(&r, "events.0.data.landlord"), "P4");
    h_reply_release(&r);
    call(&r, "{\"id\":\"l4\",\"cmd\":\"query.unit\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1201\",\"as_of\":\"2026-06-01\"}}");
    assert_string_equal(h_reply_str(&r, "result.occupants.0.person"), p);
    h_reply_release(&r);
    call(&r, "{\"id\":\"l5\",\"cmd\":\"query.unit\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1201\",\"as_of\":\"2027-05-01\"}}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.occupants")), 0);
    h_reply_release(&r);
}

/* The same id returns the first reply and writes nothing; the same id
 * with another command is a conflict. */
static void test_duplicate_ids(void **state)
{
    struct h_reply a, b;
    int64_t n;
    (void)state;
    call(&a, "{\"id\":\"dup\",\"cmd\":\"unit.register\",\"actor\":\"clerk1\","
             "\"body\":{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1301\","
             "\"area\":\"90\",\"type\":\"residence\"}}");
    assert_true(a.ok);
    n = h_log_count(&cli);
    call(&b, "{\"id\":\"dup\",\"cmd\":\"unit.register\",\"actor\":\"clerk1\","
             "\"body\":{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1301\","
             "\"area\":\"90\",\"type\":\"residence\"}}");
    assert_true(b.ok);
    assert_int_equal(b.seq, a.seq);
    assert_true(json_is_true(h_reply_get(&b, "duplicate")));
    assert_int_equal(h_log_count(&cli), n);
    h_reply_release(&b);
    call(&b, "{\"id\":\"dup\",\"cmd\":\"unit.register\",\"actor\":\"clerk1\","
             "\"body\":{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1302\","
             "\"area\":\"90\",\"type\":\"residence\"}}");
    assert_string_equal(b.code, "conflict");
    assert_string_equal(b.field, "id");
    assert_int_equal(h_log_count(&cli), n);
    h_reply_release(&a);
    h_reply_release(&b);
}

static void test_expect_versions(void **state)
{
    struct h_reply r;
    int64_t v;
    (void)state;
    call(&r, "{\"id\":\"e0\",\"cmd\":\"unit.set_state\",\"actor\":\"clerk1\","
             "\"body\":{\"unit\":\"HY/3-1301\",\"state\":\"handed_over\"}}");
    assert_true(r.ok);
    v = h_reply_int(&r, "events.0.version", -1);
    h_reply_release(&r);
    call(&r, "{\"id\":\"e1\",\"cmd\":\"unit.set_state\",\"actor\":\"clerk1\","
             "\"expect\":{\"unit:HY/3-1301\":1},"
             "\"body\":{\"unit\":\"HY/3-1301\",\"state\":\"occupied\"}}");
    assert_string_equal(r.code, "conflict");
    assert_string_equal(r.field, "expect");
    h_reply_release(&r);
    assert_int_equal(v, 2);
    must_ok("{\"id\":\"e2\",\"cmd\":\"unit.set_state\",\"actor\":\"clerk1\","
            "\"expect\":{\"unit:HY/3-1301\":2},"
            "\"body\":{\"unit\":\"HY/3-1301\",\"state\":\"occupied\"}}");
}

struct bad {
    const char *name;
    const char *json; /* an envelope, or NULL for raw */
    const char *raw;
    size_t rawlen;
    const char *code;
    const char *field;
};

#define RAW(n, bytes, code)                                                    \
    {                                                                          \
        n, NULL, bytes, sizeof(bytes) - 1, code, NULL                          \
    }
#define CMD(cmd, actor, body)                                                  \
    "{\"id\":\"m\",\"cmd\":\"" cmd "\",\"actor\":\"" actor "\",\"body\":" body \
    "}"
#define UNIT(fields)                                                           \
    CMD("unit.register", "clerk1",                                             \
        "{\"estate\":\"HY\",\"building\":\"3\"," fields "}")

static const struct bad bads[] = {
    RAW("not msgpack", "\xc1", "bad_request"),
    RAW("truncated map", "\x83\xa2id", "bad_request"),
    RAW("trailing bytes", "\x80\x80", "bad_request"),
    RAW("array32 of 4G items", "\xdd\xff\xff\xff\xff", "bad_request"),
    RAW("map32 of 4G pairs", "\xdf\xff\xff\xff\xff", "bad_request"),
    RAW("str32 of 4 GiB", "\xdb\xff\xff\xff\xff", "bad_request"),
    RAW("bin32 of 4 GiB", "\xc6\xff\xff\xff\xff", "bad_request"),
    RAW("ext type", "\xd4\x00\x00", "bad_request"),
    RAW("top-level array", "\x91\xa1x", "bad_request"),
    RAW("int map key", "\x81\x01\x02", "bad_request"),
    {"no id", "{\"cmd\":\"log.read\",\"actor\":\"clerk1\"}", NULL, 0,
     "bad_request", "id"},
    /* regression: a desk taking a timer's id first blocked it for good */
    {"deskd's own id",
     "{\"id\":\"deskd:t:C1:missed_reply:1795514400000\","
     "\"cmd\":\"estate.register\",\"actor\":\"lead1\","
     "\"body\":{\"code\":\"ZZ\",\"name\":\"x\"}}",
     NULL, 0, "bad_request", "id"},
    {"id not a string", "{\"id\":5,\"cmd\":\"log.read\",\"actor\":\"clerk1\"}",
     NULL, 0, "bad_request", "id"},
    {"empty id", "{\"id\":\"\",\"cmd\":\"log.read\",\"actor\":\"clerk1\"}",
     NULL, 0, "bad_request", "id"},
    {"65-byte id",
     "{\"id\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxx\",\"cmd\":\"log.read\",\"actor\":\"clerk1\"}",
     NULL, 0, "bad_request", "id"},
    {"no cmd", "{\"id\":\"m\",\"actor\":\"clerk1\"}", NULL, 0, "bad_request",
     "cmd"},
    {"no actor", "{\"id\":\"m\",\"cmd\":\"log.read\"}", NULL, 0, "bad_request",
     "actor"},
    {"body not a map", CMD("log.read", "clerk1", "[1]"), NULL, 0, "bad_request",
     "body"},
    {"unknown envelope key",
     "{\"id\":\"m\",\"cmd\":\"log.read\",\"actor\":\"clerk1\",\"x\":1}", NULL,
     0, "bad_request", NULL},
    {"expect negative",
     "{\"id\":\"m\",\"cmd\":\"log.read\",\"actor\":\"clerk1\",\"expect\":"
     "{\"s\":-1},\"body\":{\"from\":1}}",
     NULL, 0, "bad_request", "expect"},
    {"unknown command", CMD("unit.demolish", "clerk1", "{}"), NULL, 0,
     "unknown_command", "cmd"},
    {"unknown actor", CMD("log.read", "mallory", "{\"from\":1}"), NULL, 0,
     "forbidden", "actor"},
    {"actor system from a desk", CMD("log.read", "system", "{\"from\":1}"),
     NULL, 0, "forbidden", "actor"},
    {"role too low",
     CMD("estate.register", "clerk1", "{\"code\":\"ZZ\",\"name\":\"Z\"}"), NULL,
     0, "forbidden", NULL},
    {"clock.set on a real clock? no: manual, backwards",
     CMD("clock.set", "admin", "{\"to\":\"2020-01-01T00:00:00+08:00\"}"), NULL,
     0, "invalid", "to"},
    {"unknown body field",
     UNIT("\"room\":\"1\",\"area\":1,\"type\":\"shop\",\"colour\":\"red\""),
     NULL, 0, "invalid", NULL},
    {"missing required", UNIT("\"room\":\"1\",\"area\":1"), NULL, 0, "invalid",
     "type"},
    {"area is a bool", UNIT("\"room\":\"1\",\"area\":true,\"type\":\"shop\""),
     NULL, 0, "invalid", "area"},
    {"room is an int", UNIT("\"room\":1,\"area\":1,\"type\":\"shop\""), NULL, 0,
     "invalid", "room"},
    {"negative area", UNIT("\"room\":\"1\",\"area\":-5,\"type\":\"shop\""),
     NULL, 0, "invalid", "area"},
    {"zero area", UNIT("\"room\":\"1\",\"area\":0,\"type\":\"shop\""), NULL, 0,
     "invalid", "area"},
    {"three decimals",
     UNIT("\"room\":\"1\",\"area\":\"1.005\",\"type\":\"shop\""), NULL, 0,
     "invalid", "area"},
    {"area not a number",
     UNIT("\"room\":\"1\",\"area\":\"12a\",\"type\":\"shop\""), NULL, 0,
     "invalid", "area"},
    {"bad enum", UNIT("\"room\":\"1\",\"area\":1,\"type\":\"castle\""), NULL, 0,
     "invalid", "type"},
    {"room with a slash", UNIT("\"room\":\"1/2\",\"area\":1,\"type\":\"shop\""),
     NULL, 0, "invalid", "room"},
    {"room too long",
     UNIT("\"room\":\"12345678901234567\",\"area\":1,\"type\":\"shop\""), NULL,
     0, "invalid", "room"},
    {"date 02-30",
     CMD("query.unit", "clerk1",
         "{\"unit\":\"HY/3-1201\",\"as_of\":\"2026-02-30\"}"),
     NULL, 0, "invalid", "as_of"},
    {"month 13",
     CMD("query.unit", "clerk1",
         "{\"unit\":\"HY/3-1201\",\"as_of\":\"2026-13-01\"}"),
     NULL, 0, "invalid", "as_of"},
    {"compact date",
     CMD("query.unit", "clerk1",
         "{\"unit\":\"HY/3-1201\",\"as_of\":\"20260101\"}"),
     NULL, 0, "invalid", "as_of"},
    {"date as int",
     CMD("query.unit", "clerk1", "{\"unit\":\"HY/3-1201\",\"as_of\":20260101}"),
     NULL, 0, "invalid", "as_of"},
    {"control char in name",
     CMD("person.register", "clerk1",
         "{\"name\":\"a\\u0001b\",\"kind\":\"owner\"}"),
     NULL, 0, "invalid", "name"},
    {"too many phones",
     CMD("person.register", "clerk1",
         "{\"name\":\"a\",\"kind\":\"owner\",\"phones\":[\"1\",\"2\",\"3\","
         "\"4\",\"5\"]}"),
     NULL, 0, "invalid", "phones"},
    {"merchant without licence",
     CMD("person.register", "clerk1", "{\"name\":\"a\",\"kind\":\"merchant\"}"),
     NULL, 0, "rule", "licence_verified"},
    {"agent without authorisation",
     CMD("person.register", "clerk1", "{\"name\":\"a\",\"kind\":\"agent\"}"),
     NULL, 0, "rule", "authorisation"},
    {"unknown unit", CMD("query.unit", "clerk1", "{\"unit\":\"HY/9-9\"}"), NULL,
     0, "not_found", "unit"},
    {"unknown building",
     CMD("unit.register", "clerk1",
         "{\"estate\":\"HY\",\"building\":\"9\",\"room\":\"1\",\"area\":1,"
         "\"type\":\"shop\"}"),
     NULL, 0, "not_found", "building"},
    {"unknown person",
     CMD("unit.transfer", "lead1",
         "{\"unit\":\"HY/3-1201\",\"to\":\"P999\",\"effective\":"
         "\"2026-05-01\"}"),
     NULL, 0, "not_found", "to"},
    {"unit exists", UNIT("\"room\":\"1201\",\"area\":1,\"type\":\"shop\""),
     NULL, 0, "conflict", "room"},
    {"transfer out of order",
     CMD("unit.transfer", "lead1",
         "{\"unit\":\"HY/3-1201\",\"to\":\"P4\",\"effective\":"
         "\"2026-01-01\"}"),
     NULL, 0, "rule", "effective"},
    {"log.read limit too big",
     CMD("log.read", "clerk1", "{\"from\":1,\"limit\":5000}"), NULL, 0,
     "invalid", "limit"},
};

static void run_bad(const struct bad *b)
{
    struct h_reply r;
    int64_t before = h_log_count(&cli);
    if (b->json)
        assert_int_equal(h_call(&cli, b->json, &r), 0);
    else
        assert_int_equal(h_call_raw(&cli, b->raw, b->rawlen, &r), 0);
    if (r.ok || strcmp(r.code, b->code) ||
        (b->field && strcmp(r.field, b->field)))
        fail_msg("%s: expected %s/%s, got %s", b->name, b->code,
                 b->field ? b->field : "-", h_reply_text(&r));
    assert_true(r.message[0] != '\0');
    h_reply_release(&r);
    assert_int_equal(h_log_count(&cli), before);
}

static void test_malformed_table(void **state)
{
    (void)state;
    assert_true(sizeof(bads) / sizeof(*bads) >= 30);
    for (size_t i = 0; i < sizeof(bads) / sizeof(*bads); i++)
        run_bad(&bads[i]);
}

/* Invalid UTF-8, deep nesting and an oversized frame, built as bytes. */
static void test_malformed_bytes(void **state)
{
    struct h_reply r;
    struct cw w;
    char deep[120];
    char *big;
    size_t n = 70000;
    (void)state;

    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", "m");
    cw_kstr(&w, "cmd", "person.register");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kstr(&w, "name", "\xff\xfe");
    cw_kstr(&w, "kind", "owner");
    assert_int_equal(h_call_raw(&cli, cw_data(&w), cw_len(&w), &r), 0);
    assert_string_equal(r.code, "invalid");
    assert_string_equal(r.field, "name");
    h_reply_release(&r);
    memset(deep, 0x91, 100);
    deep[100] = (char)0xc0;
    assert_int_equal(h_call_raw(&cli, deep, 101, &r), 0);
    assert_string_equal(r.code, "bad_request");
    h_reply_release(&r);
    big = malloc(n);
    memset(big, 'a', n);
    cw_reset(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", "m");
    cw_kstr(&w, "cmd", "person.register");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 1);
    cw_str(&w, "note");
    cw_strn(&w, big, n);
    assert_int_equal(h_call_raw(&cli, cw_data(&w), cw_len(&w), &r), 0);
    assert_string_equal(r.code, "bad_request");
    h_reply_release(&r);
    free(big);
    cw_release(&w);
    /* still serving */
    must_ok("{\"id\":\"alive\",\"cmd\":\"log.read\",\"actor\":\"clerk1\","
            "\"body\":{\"from\":1,\"limit\":1}}");
}

/* forbidden for clock.set on a real clock; a REQ-style client works too
 * (deskd handles the empty delimiter). */
static void test_real_clock_refuses_clock_set(void **state)
{
    struct h_server real;
    struct h_opts o = {.real_clock = true};
    struct h_client c;
    struct h_reply r;
    (void)state;
    assert_int_equal(h_server_start_opts(&real, &o), 0);
    assert_int_equal(h_client_open(&c, real.cmd_ep), 0);
    assert_int_equal(h_call(&c,
                            "{\"id\":\"c\",\"cmd\":\"clock.set\",\"actor\":"
                            "\"admin\",\"body\":{\"to\":"
                            "\"2030-01-01T00:00:00+08:00\"}}",
                            &r),
                     0);
    assert_string_equal(r.code, "forbidden");
    h_reply_release(&r);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&real), 0);
    h_server_cleanup(&real);
}

/* PUB carries every event, in seq order, without gaps; deskctl tail
 * catches up with log.read and prints the same events. */
static void test_pub_is_gapless_and_tail_catches_up(void **state)
{
    struct h_sub sub;
    struct h_reply r;
    char topic[64], cmdline[2 * H_PATH_MAX], line[4096];
    const char *tools = getenv("DESKD_TOOLS") ? getenv("DESKD_TOOLS") : "build";
    json_t *ev;
    int64_t first = -1, last = -1;
    FILE *p;
    int lines = 0, n_ok = 0;
    (void)state;

    assert_int_equal(h_sub_open(&sub, srv.pub_ep, ""), 0);
    for (int tries = 0; tries < 50; tries++) { /* until the SUB is joined */
        char id[32], json[256];
        snprintf(id, sizeof(id), "pub%d", tries);
        snprintf(json, sizeof(json),
                 "{\"id\":\"%s\",\"cmd\":\"unit.set_state\",\"actor\":"
                 "\"clerk1\",\"body\":{\"unit\":\"HY/3-1301\",\"state\":"
                 "\"%s\"}}",
                 id, tries % 2 ? "vacant" : "rented");
        call(&r, json);
        h_reply_release(&r);
        if (h_sub_recv(&sub, topic, sizeof(topic), &ev, 100) == 0) {
            first = json_integer_value(json_object_get(ev, "seq"));
            json_decref(ev);
            break;
        }
    }
    assert_true(first > 0);
    last = first;
    for (int i = 0; i < 20; i++) {
        char json[256];
        snprintf(json, sizeof(json),
                 "{\"id\":\"pubx%d\",\"cmd\":\"unit.set_state\",\"actor\":"
                 "\"clerk1\",\"body\":{\"unit\":\"HY/3-1301\",\"state\":"
                 "\"%s\"}}",
                 i, i % 2 ? "vacant" : "rented");
        call(&r, json);
        n_ok += r.ok; /* "already rented" writes nothing */
        h_reply_release(&r);
    }
    while (h_sub_recv(&sub, topic, sizeof(topic), &ev, 500) == 0) {
        int64_t seq = json_integer_value(json_object_get(ev, "seq"));
        assert_int_equal(seq, last + 1);
        assert_string_equal(topic,
                            json_string_value(json_object_get(ev, "type")));
        last = seq;
        json_decref(ev);
    }
    assert_true(n_ok >= 19);
    assert_int_equal(last, first + n_ok);
    h_sub_close(&sub);

    snprintf(cmdline, sizeof(cmdline),
             "%s/deskctl -e %s --events %s -a clerk1 tail --from 1 --count 10",
             tools, srv.cmd_ep, srv.pub_ep);
    p = popen(cmdline, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "seq")),
                         ++lines);
        json_decref(j);
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(lines, 10);
}

/* Counts estate.registered events whose code starts with "T" (the ones
 * the shutdown test wrote). */
static int count_term(json_t *ev, void *arg)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *code = json_string_value(
        json_object_get(json_object_get(ev, "data"), "estate"));
    if (type && !strcmp(type, "estate.registered") && code && code[0] == 'T')
        (*(int *)arg)++;
    return 0;
}

/* SIGTERM with commands queued: every command deskd took is committed and
 * answered before it exits, and exactly the answered ones are in the log
 * after a restart. Runs last: it stops the server. */
static void test_sigterm_answers_queued_commands(void **state)
{
    enum { N = 300 };
    struct h_client c;
    struct h_reply r;
    int answered = 0, in_log = 0;
    (void)state;

    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    for (int i = 0; i < N; i++) {
        char code[16];
        struct cw w;
        snprintf(code, sizeof(code), "T%d", i);
        cw_init(&w);
        cw_map(&w, 4);
        cw_kstr(&w, "id", code);
        cw_kstr(&w, "cmd", "estate.register");
        cw_kstr(&w, "actor", "lead1");
        cw_str(&w, "body");
        cw_map(&w, 2);
        cw_kstr(&w, "code", code);
        cw_kstr(&w, "name", "shutdown");
        assert_int_equal(h_send_raw(&c, cw_data(&w), cw_len(&w)), 0);
        cw_release(&w);
        if (i == N / 3) { /* deskd is busy with them: stop it now */
            assert_int_equal(h_recv(&c, &r), 0);
            assert_true(r.ok);
            h_reply_release(&r);
            answered++;
        }
        if (i == N / 2)
            assert_int_equal(kill(srv.pid, SIGTERM), 0);
    }
    while (answered < N && h_recv(&c, &r) == 0) {
        if (!r.ok)
            fail_msg("refused at shutdown: %s", h_reply_text(&r));
        answered++;
        h_reply_release(&r);
    }
    h_reply_release(&r);
    assert_int_equal(h_server_stop(&srv), 0); /* a clean exit */
    assert_true(answered > 0);
    h_client_close(&c);
    assert_int_equal(h_server_restart(&srv), 0);
    h_client_close(&cli);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
    assert_true(h_log_all(&cli, count_term, &in_log) >= 0);
    assert_int_equal(in_log, answered);
}

static int setup(void **state)
{
    (void)state;
    if (h_server_start(&srv, NULL))
        return -1;
    return h_client_open(&cli, srv.cmd_ep);
}

static int teardown(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen01_03_register_and_query),
        cmocka_unit_test(test_gen02_links_with_dates),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_expect_versions),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_malformed_bytes),
        cmocka_unit_test(test_real_clock_refuses_clock_set),
        cmocka_unit_test(test_pub_is_gapless_and_tail_catches_up),
        cmocka_unit_test(test_sigterm_answers_queued_commands),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
