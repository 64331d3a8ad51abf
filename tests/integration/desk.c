/* tests/integration/desk.c - the desk's side of the integration tests. */
#include "desk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_MAX 4096         /* bytes of one formatted command body */
#define SETTLE_US (50 * 1000) /* between looks at the log after clock.set */

struct h_client *desk;

static void vcmd(struct h_reply *r, const char *actor, const char *name,
                 const char *fmt, va_list ap, char *body)
{
    vsnprintf(body, BODY_MAX, fmt, ap);
    assert_non_null(desk);
    assert_int_equal(h_cmdf(desk, r, actor, name, "%s", body), 0);
}

void cmd(struct h_reply *r, const char *actor, const char *name,
         const char *fmt, ...)
{
    char body[BODY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vcmd(r, actor, name, fmt, ap, body);
    va_end(ap);
}

void done(struct h_reply *r)
{
    h_reply_release(r);
}

void refused(const char *code, const char *rule, const char *actor,
             const char *name, const char *fmt, ...)
{
    char body[BODY_MAX];
    struct h_reply r;
    int64_t before = h_log_count(desk);
    va_list ap;

    va_start(ap, fmt);
    vcmd(&r, actor, name, fmt, ap, body);
    va_end(ap);
    if (r.ok || strcmp(r.code, code) || (rule && !strstr(r.message, rule)))
        fail_msg("%s %s: expected %s %s, got %s", name, body, code,
                 rule ? rule : "", h_reply_text(&r));
    h_reply_release(&r);
    assert_int_equal(h_log_count(desk), before);
}

void clock_to(const char *iso)
{
    struct h_reply r;

    /* forward only: a test asking for a time an earlier test already
     * passed gets a refusal, which is fine */
    cmd(&r, "admin", "clock.set", "{\"to\":\"%s\"}", iso);
    done(&r);
    /* timers fire right after clock.set, in batches of their own */
    for (int64_t n = -1, m = h_log_count(desk); n != m;
         n = m, m = h_log_count(desk))
        usleep(SETTLE_US);
}

void desk_person(const char *name, const char *kind, const char *extra,
                 char out[24])
{
    struct h_reply r;

    OK(&r, "clerk1", "person.register",
       "{\"name\":\"%s\",\"kind\":\"%s\",\"phones\":[\"13812345678\"]%s}", name,
       kind, extra);
    snprintf(out, 24, "%s", h_reply_str(&r, "events.0.data.person"));
    done(&r);
}

void desk_estate(const char *code, const char *type, const char *owner_extra,
                 char owner[24])
{
    struct h_reply r;

    OK(&r, "lead1", "estate.register", "{\"code\":\"%s\",\"name\":\"%s\"}",
       code, code);
    done(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"%s\",\"building\":\"1\"}", code);
    done(&r);
    OK(&r, "clerk1", "unit.register",
       "{\"estate\":\"%s\",\"building\":\"1\",\"room\":\"101\","
       "\"area\":\"90.00\",\"type\":\"%s\"}",
       code, type);
    done(&r);
    desk_person("Owner", "owner", owner_extra, owner);
    OK(&r, "lead1", "unit.transfer",
       "{\"unit\":\"%s/1-101\",\"to\":\"%s\",\"effective\":\"2025-12-01\"}",
       code, owner);
    done(&r);
}

int desk_start(struct h_server *s, struct h_client *c, const struct h_opts *o)
{
    if (h_server_start_opts(s, o))
        return -1;
    desk = c;
    return h_client_open(c, s->cmd_ep);
}

int desk_stop(struct h_server *s, struct h_client *c)
{
    h_client_close(c);
    h_server_stop(s);
    h_server_cleanup(s);
    return 0;
}

void rebuild_equals_live(const struct h_server *s)
{
    char cmdline[3 * H_PATH_MAX];
    const char *bin = getenv("DESKD_BIN") ? getenv("DESKD_BIN") : "build/deskd";

    snprintf(cmdline, sizeof(cmdline),
             "%s -c %s --rebuild && %s -c %s --verify", bin, s->config, bin,
             s->config);
    assert_int_equal(system(cmdline), 0);
}

void desk_log_type(int64_t seq, char type[48])
{
    struct h_reply r;

    OK(&r, "admin", "log.read", "{\"from\":%lld,\"limit\":1}", (long long)seq);
    assert_int_equal(h_reply_int(&r, "result.events.0.seq", -1), seq);
    snprintf(type, 48, "%s", h_reply_str(&r, "result.events.0.type"));
    done(&r);
}

void expect_entry(json_t *l, size_t i, int64_t seq, const char *type,
                  const char *rule, int64_t fen)
{
    json_t *e = json_array_get(l, i), *f;
    char logged[48];

    assert_non_null(e);
    if (seq) {
        assert_int_equal(json_integer_value(json_object_get(e, "seq")), seq);
        desk_log_type(seq, logged);
        assert_string_equal(logged, type);
        assert_true(json_is_string(json_object_get(e, "at")));
    } else {
        assert_true(json_is_null(json_object_get(e, "seq")));
    }
    assert_string_equal(json_string_value(json_object_get(e, "type")), type);
    assert_string_equal(json_string_value(json_object_get(e, "rule")), rule);
    assert_true(json_is_string(json_object_get(e, "what")));
    f = json_object_get(e, "fen");
    if (fen == WHY_NONE)
        assert_null(f);
    else
        assert_int_equal(json_integer_value(f), fen);
}

const char *what_of(json_t *l, size_t i)
{
    return json_string_value(json_object_get(json_array_get(l, i), "what"));
}
