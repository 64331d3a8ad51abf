/* tests/integration/it_protocol.c - the wire contract exactly as
 * docs/PROTOCOL.md states it (issue 19), over real sockets:
 *   - a retry is recognised by meaning: key order, explicit nil, number or
 *     string forms, envelope key order and another offset for the same
 *     instant come back duplicate with the first seq, across a restart too;
 *     a changed value is a conflict;
 *   - every message on the command socket is answered exactly once,
 *     whatever its frames, and a broken one writes nothing;
 *   - ids need a visible character, envelope keys may not repeat, an
 *     unknown body field is named in `field`;
 *   - PUB and log.read carry each event's stored hash beside prev, and the
 *     links hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "desk.h"
#include "harness.h"

static struct h_server srv;
static struct h_client cli;
static char owner[24];

static void call(struct h_reply *r, const char *json)
{
    if (h_call(&cli, json, r))
        fail_msg("no reply to %s", json);
}

/* The first and the retry must be one command: duplicate, same seq,
 * nothing written. */
static void same_command(const char *first, const char *again)
{
    struct h_reply a, b;
    int64_t n;
    call(&a, first);
    if (!a.ok)
        fail_msg("refused: %s", h_reply_text(&a));
    n = h_log_count(&cli);
    call(&b, again);
    if (!b.ok || !json_is_true(h_reply_get(&b, "duplicate")))
        fail_msg("retry %s not a duplicate: %s", again, h_reply_text(&b));
    assert_int_equal(b.seq, a.seq);
    assert_int_equal(h_log_count(&cli), n);
    h_reply_release(&a);
    h_reply_release(&b);
}

static void test_retry_by_meaning_key_order(void **state)
{
    (void)state;
    same_command("{\"id\":\"k1\",\"cmd\":\"person.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"name\":\"ord\",\"kind\":\"owner\"}}",
                 "{\"id\":\"k1\",\"cmd\":\"person.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"kind\":\"owner\",\"name\":\"ord\"}}");
    /* the envelope's keys in another order */
    same_command("{\"id\":\"k2\",\"cmd\":\"person.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"name\":\"env\",\"kind\":\"owner\"}}",
                 "{\"body\":{\"name\":\"env\",\"kind\":\"owner\"},\"actor\":"
                 "\"clerk1\",\"cmd\":\"person.register\",\"id\":\"k2\"}");
}

static void test_retry_by_meaning_nil_and_forms(void **state)
{
    (void)state;
    /* an explicit nil is the same as absent */
    same_command("{\"id\":\"n1\",\"cmd\":\"person.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"name\":\"nil\",\"kind\":\"owner\"}}",
                 "{\"id\":\"n1\",\"cmd\":\"person.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"name\":\"nil\",\"kind\":\"owner\","
                 "\"phones\":null}}");
    /* 120.5 and "120.50" are one area */
    same_command("{\"id\":\"a1\",\"cmd\":\"unit.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"estate\":\"PR\",\"building\":\"1\","
                 "\"room\":\"201\",\"area\":\"120.50\",\"type\":"
                 "\"residence\"}}",
                 "{\"id\":\"a1\",\"cmd\":\"unit.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"type\":\"residence\",\"area\":120.5,"
                 "\"room\":\"201\",\"building\":\"1\",\"estate\":\"PR\"}}");
}

/* One instant written with two offsets, a nested value's forms: one
 * command. */
static void test_retry_by_meaning_time_offset(void **state)
{
    (void)state;
    same_command("{\"id\":\"t1\",\"cmd\":\"complaint.receive\",\"actor\":"
                 "\"clerk1\",\"body\":{\"channel\":\"letter\",\"unit\":"
                 "\"PR/1-101\",\"name\":\"王\",\"what\":\"漏水\","
                 "\"received_at\":\"2026-03-01T09:30:00+08:00\"}}",
                 "{\"id\":\"t1\",\"cmd\":\"complaint.receive\",\"actor\":"
                 "\"clerk1\",\"body\":{\"received_at\":"
                 "\"2026-03-01T01:30:00Z\",\"what\":\"漏水\",\"name\":\"王\","
                 "\"unit\":\"PR/1-101\",\"channel\":\"letter\"}}");
}

/* A changed value with the same id is still a conflict, and writes
 * nothing. */
static void test_changed_value_is_conflict(void **state)
{
    struct h_reply r;
    int64_t n;
    (void)state;
    call(&r, "{\"id\":\"c1\",\"cmd\":\"person.register\",\"actor\":\"clerk1\","
             "\"body\":{\"name\":\"one\",\"kind\":\"owner\"}}");
    assert_true(r.ok);
    h_reply_release(&r);
    n = h_log_count(&cli);
    call(&r, "{\"id\":\"c1\",\"cmd\":\"person.register\",\"actor\":\"clerk1\","
             "\"body\":{\"kind\":\"owner\",\"name\":\"two\"}}");
    assert_string_equal(r.code, "conflict");
    assert_string_equal(r.field, "id");
    h_reply_release(&r);
    call(&r, "{\"id\":\"c1\",\"cmd\":\"person.register\",\"actor\":\"lead1\","
             "\"body\":{\"name\":\"one\",\"kind\":\"owner\"}}");
    assert_string_equal(r.code, "conflict");
    h_reply_release(&r);
    assert_int_equal(h_log_count(&cli), n);
}

/* Ids remembered across a restart behave the same. */
static void test_retry_by_meaning_after_restart(void **state)
{
    struct h_reply a, b;
    (void)state;
    call(&a, "{\"id\":\"rs\",\"cmd\":\"person.register\",\"actor\":\"clerk1\","
             "\"body\":{\"name\":\"restart\",\"kind\":\"tenant\"}}");
    assert_true(a.ok);
    h_client_close(&cli);
    assert_int_equal(h_server_restart(&srv), 0);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
    call(&b, "{\"id\":\"rs\",\"cmd\":\"person.register\",\"actor\":\"clerk1\","
             "\"body\":{\"kind\":\"tenant\",\"name\":\"restart\","
             "\"phones\":null}}");
    assert_true(b.ok);
    assert_true(json_is_true(h_reply_get(&b, "duplicate")));
    assert_int_equal(b.seq, a.seq);
    h_reply_release(&a);
    h_reply_release(&b);
}

/* Sends frames as one message and returns the reply's frames: exactly
 * one message must come back. */
static int send_frames(const char *const *f, const size_t *len, int n,
                       struct h_reply *r, bool *delimited)
{
    zmq_msg_t m;
    int more = 1, got = 0;
    size_t sz = sizeof(more);
    for (int i = 0; i < n; i++)
        if (zmq_send(cli.sock, f[i], len[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    *delimited = false;
    while (more) {
        zmq_msg_init(&m);
        zmq_pollitem_t p = {cli.sock, 0, ZMQ_POLLIN, 0};
        if (!got && zmq_poll(&p, 1, 5000) <= 0) {
            zmq_msg_close(&m);
            return -1;
        }
        if (zmq_msg_recv(&m, cli.sock, 0) < 0) {
            zmq_msg_close(&m);
            return -1;
        }
        zmq_getsockopt(cli.sock, ZMQ_RCVMORE, &more, &sz);
        if (zmq_msg_size(&m) == 0 && more && !got)
            *delimited = true;
        else
            h_reply_from(r, zmq_msg_data(&m), zmq_msg_size(&m));
        got++;
        zmq_msg_close(&m);
    }
    return 0;
}

/* One row of the frame table: one reply, bad_request, nothing written. */
static void frames_refused(const char *what, const char *const *f,
                           const size_t *len, int n, bool want_delim)
{
    struct h_reply r;
    bool delimited;
    int64_t before = h_log_count(&cli);
    memset(&r, 0, sizeof(r));
    if (send_frames(f, len, n, &r, &delimited))
        fail_msg("%s: no reply", what);
    if (r.ok || strcmp(r.code, "bad_request") ||
        !strstr(r.message, "one frame per request"))
        fail_msg("%s: %s", what, h_reply_text(&r));
    assert_int_equal(delimited, want_delim);
    h_reply_release(&r);
    assert_int_equal(h_log_count(&cli), before);
    /* and the socket still works */
    assert_int_equal(h_log_count(&cli), before);
}

static void test_every_message_answered_once(void **state)
{
    char a[256], b[256];
    size_t al, bl;
    struct cw w;
    (void)state;

    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", "fr1");
    cw_kstr(&w, "cmd", "person.register");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kstr(&w, "name", "frames");
    cw_kstr(&w, "kind", "owner");
    al = cw_len(&w);
    memcpy(a, cw_data(&w), al);
    cw_reset(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", "fr2");
    cw_kstr(&w, "cmd", "person.register");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kstr(&w, "name", "frames2");
    cw_kstr(&w, "kind", "owner");
    bl = cw_len(&w);
    memcpy(b, cw_data(&w), bl);
    cw_release(&w);
    {
        const char *f[] = {a, b};
        size_t l[] = {al, bl};
        frames_refused("two commands in one message", f, l, 2, false);
    }
    {
        const char *f[] = {a, "junk"};
        size_t l[] = {al, 4};
        frames_refused("a command and a junk frame", f, l, 2, false);
    }
    {
        const char *f[] = {"", "", ""};
        size_t l[] = {0, 0, 0};
        frames_refused("[\"\", \"\", \"\"]", f, l, 3, true);
    }
    {
        const char *f[] = {"", a, "x"};
        size_t l[] = {0, al, 1};
        frames_refused("[\"\", command, \"x\"]", f, l, 3, true);
    }
    {
        /* a REQ-shaped message is fine: answered with the delimiter */
        const char *f[] = {"", a};
        size_t l[] = {0, al};
        struct h_reply r;
        bool delimited;
        memset(&r, 0, sizeof(r));
        assert_int_equal(send_frames(f, l, 2, &r, &delimited), 0);
        if (!r.ok)
            fail_msg("REQ shape refused: %s", h_reply_text(&r));
        assert_true(delimited);
        h_reply_release(&r);
    }
}

static void test_id_needs_a_visible_character(void **state)
{
    (void)state;
    {
        struct h_reply r;
        int64_t n = h_log_count(&cli);
        /* ASCII spaces, then a full-width space (U+3000) */
        call(&r, "{\"id\":\" \",\"cmd\":\"person.register\",\"actor\":"
                 "\"clerk1\",\"body\":{\"name\":\"x\",\"kind\":\"owner\"}}");
        assert_string_equal(r.code, "bad_request");
        assert_string_equal(r.field, "id");
        h_reply_release(&r);
        call(&r, "{\"id\":\"\xe3\x80\x80 \",\"cmd\":\"person.register\","
                 "\"actor\":\"clerk1\",\"body\":{\"name\":\"x\",\"kind\":"
                 "\"owner\"}}");
        assert_string_equal(r.code, "bad_request");
        h_reply_release(&r);
        assert_int_equal(h_log_count(&cli), n);
    }
}

/* An envelope with one key twice: refused, field names it. */
static void twice(const char *key)
{
    struct h_reply r;
    struct cw w;
    int64_t n = h_log_count(&cli);
    bool body = !strcmp(key, "body");
    cw_init(&w);
    cw_map(&w, 5);
    cw_kstr(&w, "id", "tw-1");
    if (!strcmp(key, "id"))
        cw_kstr(&w, "id", "tw-2");
    cw_kstr(&w, "cmd", "person.register");
    cw_kstr(&w, "actor", "admin");
    if (!strcmp(key, "actor"))
        cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kstr(&w, "name", "twice");
    cw_kstr(&w, "kind", "owner");
    if (body) {
        cw_str(&w, "body");
        cw_map(&w, 2);
        cw_kstr(&w, "name", "other");
        cw_kstr(&w, "kind", "owner");
    }
    assert_int_equal(h_call_raw(&cli, cw_data(&w), cw_len(&w), &r), 0);
    cw_release(&w);
    if (r.ok || strcmp(r.code, "bad_request") || strcmp(r.field, key))
        fail_msg("envelope with '%s' twice: %s", key, h_reply_text(&r));
    h_reply_release(&r);
    assert_int_equal(h_log_count(&cli), n);
}

static void test_envelope_keys_may_not_repeat(void **state)
{
    (void)state;
    twice("actor");
    twice("id");
    twice("body");
}

static void test_unknown_body_field_is_named(void **state)
{
    struct h_reply r;
    (void)state;
    cmd(&r, "clerk1", "person.register",
        "{\"name\":\"x\",\"kind\":\"owner\",\"nmae\":\"typo\"}");
    assert_string_equal(r.code, "invalid");
    assert_string_equal(r.field, "nmae");
    done(&r);
}

struct links {
    char prev_hash[65];
    int64_t checked;
    bool broken;
};

static int link_ok(json_t *ev, void *arg)
{
    struct links *l = arg;
    const char *prev = json_string_value(json_object_get(ev, "prev"));
    const char *hash = json_string_value(json_object_get(ev, "hash"));
    if (!prev || !hash || strlen(hash) != 64) {
        l->broken = true;
        return 0;
    }
    if (l->checked && strcmp(prev, l->prev_hash))
        l->broken = true;
    snprintf(l->prev_hash, sizeof(l->prev_hash), "%s", hash);
    l->checked++;
    return 0;
}

/* log.read gives every event its stored hash, and each prev is the hash
 * of the event before; PUB carries the same hash. */
static void test_events_carry_their_hash(void **state)
{
    struct links l = {"", 0, false};
    struct h_sub sub;
    struct h_reply r;
    char topic[64];
    json_t *ev = NULL;
    int64_t n;
    (void)state;

    n = h_log_all(&cli, link_ok, &l);
    assert_int_equal(n, l.checked);
    assert_false(l.broken);
    assert_true(l.checked > 3);
    assert_int_equal(h_sub_open(&sub, srv.pub_ep, "person."), 0);
    /* a new subscription takes a moment to reach PUB: send until one
     * event arrives */
    for (int i = 0; i < 50 && !ev; i++) {
        OK(&r, "clerk1", "person.register",
           "{\"name\":\"pub%d\",\"kind\":\"owner\"}", i);
        done(&r);
        if (h_sub_recv(&sub, topic, sizeof(topic), &ev, 200))
            ev = NULL;
    }
    assert_non_null(ev);
    {
        int64_t seq = json_integer_value(json_object_get(ev, "seq"));
        json_t *evs;
        cmd(&r, "admin", "log.read", "{\"from\":%lld,\"limit\":2}",
            (long long)seq - 1);
        evs = h_reply_get(&r, "result.events");
        assert_int_equal(json_array_size(evs), 2);
        assert_string_equal(
            json_string_value(json_object_get(ev, "prev")),
            json_string_value(json_object_get(json_array_get(evs, 0), "hash")));
        assert_string_equal(
            json_string_value(json_object_get(ev, "hash")),
            json_string_value(json_object_get(json_array_get(evs, 1), "hash")));
        done(&r);
    }
    json_decref(ev);
    h_sub_close(&sub);
}

static int setup(void **state)
{
    (void)state;
    if (desk_start(&srv, &cli, NULL))
        return -1;
    desk_estate("PR", "residence", "", owner);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_by_meaning_key_order),
        cmocka_unit_test(test_retry_by_meaning_nil_and_forms),
        cmocka_unit_test(test_retry_by_meaning_time_offset),
        cmocka_unit_test(test_changed_value_is_conflict),
        cmocka_unit_test(test_retry_by_meaning_after_restart),
        cmocka_unit_test(test_every_message_answered_once),
        cmocka_unit_test(test_id_needs_a_visible_character),
        cmocka_unit_test(test_envelope_keys_may_not_repeat),
        cmocka_unit_test(test_unknown_body_field_is_named),
        cmocka_unit_test(test_events_carry_their_hash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
