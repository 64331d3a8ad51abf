/* tests/integration/it_complaints.c - complaints (DOMAIN.md R-CMP-01..11,
 * R-GEN-06) against a real deskd with a manual clock. Each test starts its
 * own deskd at the time it needs, so clocks and escalations never mix. The
 * dates are real 2026 ones: National Day 10-01..10-07 with the make-up
 * working day 10-10 (a Saturday), ordinary weekends in November. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desk.h"
#include "harness.h"

static struct h_server srv;
static struct h_client cli;

static void start(const char *at)
{
    struct h_opts o = {.manual_start = at,
                       .operators = "clerk2 = clerk, Lin Xiao\n"};
    assert_int_equal(h_server_start_opts(&srv, &o), 0);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
    desk = &cli;
}

static int teardown(void **state)
{
    (void)state;
    h_client_close(&cli);
    h_server_cleanup(&srv);
    return 0;
}

/* Takes a complaint; returns its id in id[24]. */
__attribute__((format(printf, 3, 4))) static void
receive(char id[24], const char *actor, const char *fmt, ...)
{
    char body[2048];
    struct h_reply r;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    OK(&r, actor, "complaint.receive", "%s", body);
    snprintf(id, 24, "%s", h_reply_str(&r, "events.0.data.complaint"));
    h_reply_release(&r);
}

static void simple(const char *actor, const char *name, const char *id,
                   const char *extra)
{
    struct h_reply r;
    OK(&r, actor, name, "{\"complaint\":\"%s\"%s%s}", id, extra ? "," : "",
       extra ? extra : "");
    h_reply_release(&r);
}

/* "rule@occurred_at;" for every escalation (and auto-close) in the log. */
struct trail {
    char text[8192];
    const char *only; /* complaint id, or NULL for all */
};

static int trail_add(json_t *ev, void *arg)
{
    struct trail *t = arg;
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *data = json_object_get(ev, "data");
    const char *cmp = json_string_value(json_object_get(data, "complaint"));
    const char *rule = json_string_value(json_object_get(data, "rule"));
    const char *at = json_string_value(json_object_get(ev, "occurred_at"));
    if (!at) /* business time is the recording time */
        at = json_string_value(json_object_get(ev, "recorded_at"));
    size_t n = strlen(t->text);

    if (!type || (t->only && (!cmp || strcmp(cmp, t->only))))
        return 0;
    if (!strcmp(type, "complaint.escalated"))
        snprintf(t->text + n, sizeof(t->text) - n, "%s@%s;", rule,
                 at ? at : "-");
    else if (!strcmp(type, "complaint.closed") &&
             json_is_true(json_object_get(data, "auto")))
        snprintf(t->text + n, sizeof(t->text) - n, "auto_close@%s;",
                 at ? at : "-");
    return 0;
}

static const char *trail_of(struct trail *t, const char *only)
{
    t->text[0] = '\0';
    t->only = only;
    assert_true(h_log_all(&cli, trail_add, t) >= 0);
    return t->text;
}

/* R-CMP-01: intake with channel, complainant (anonymous allowed), unit;
 * the receiver becomes the owner (R-GEN-06); bad intake writes nothing. */
static void test_cmp01_intake(void **state)
{
    struct h_reply r;
    char id[24];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    OK(&r, "lead1", "estate.register", "{\"code\":\"HY\",\"name\":\"H\"}");
    h_reply_release(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"HY\",\"building\":"
       "\"3\"}");
    h_reply_release(&r);
    OK(&r, "clerk1", "unit.register",
       "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1201\",\"area\":"
       "\"98.50\",\"type\":\"residence\"}");
    h_reply_release(&r);
    receive(id, "clerk1",
            "{\"channel\":\"walk_in\",\"unit\":\"HY/3-1201\",\"name\":\"王\","
            "\"contact\":\"13812345678\",\"what\":\"楼上装修噪音\","
            "\"wants\":\"限制施工时间\"}");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", id);
    assert_string_equal(h_reply_str(&r, "result.complaint.owner"), "clerk1");
    /* R-GEN-02: the complainant's contact is masked in the timeline */
    assert_string_equal(h_reply_str(&r, "result.timeline.0.data.contact"),
                        "138****5678");
    assert_string_equal(h_reply_str(&r, "result.complaint.state"), "received");
    assert_string_equal(h_reply_str(&r, "result.complaint.unit"), "HY/3-1201");
    h_reply_release(&r);
    /* anonymous: allowed, and then it carries no name */
    receive(id, "clerk1",
            "{\"channel\":\"hotline\",\"anonymous\":true,\"what\":\"邻居养犬扰"
            "民\"}");
    refused("invalid", "anonymous", "clerk1", "complaint.receive",
            "{\"channel\":\"phone\",\"anonymous\":true,\"name\":\"李\","
            "\"what\":\"x\"}");
    refused("invalid", "future", "clerk1", "complaint.receive",
            "{\"channel\":\"phone\",\"what\":\"x\",\"received_at\":"
            "\"2026-11-24T10:00:00+08:00\"}");
    refused("invalid", NULL, "clerk1", "complaint.receive",
            "{\"channel\":\"pigeon\",\"what\":\"x\"}");
    refused("invalid", NULL, "clerk1", "complaint.receive",
            "{\"channel\":\"phone\"}");
    refused("not_found", "HY/3-9999", "clerk1", "complaint.receive",
            "{\"channel\":\"phone\",\"what\":\"x\",\"unit\":\"HY/3-9999\"}");
    refused("not_found", "C999", "clerk1", "complaint.reply",
            "{\"complaint\":\"C999\",\"text\":\"x\"}");
    refused("forbidden", NULL, "clerk1", "complaint.escalate",
            "{\"complaint\":\"C1\",\"rule\":\"open_10d\",\"due\":1}");
}

static void expect_reply_due(const char *id, const char *iso)
{
    struct h_reply r;
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", id);
    assert_string_equal(h_reply_str(&r, "result.complaint.reply_due"), iso);
    h_reply_release(&r);
}

/* R-CMP-04 with the real calendar: a letter on 2026-09-30 is answered by
 * the close of the 2nd working day after the National Day break; walk-ins
 * the same day (rest-day hours at weekends); online the same working day,
 * or after work resumes. The agreed re-reply is at most 3 working days. */
static void test_cmp04_reply_deadlines(void **state)
{
    char a[24], b[24], c[24], d[24];
    struct h_reply r;
    (void)state;
    start("2026-09-30T10:00:00+08:00");
    receive(a, "clerk1", "{\"channel\":\"letter\",\"what\":\"信件投诉\"}");
    expect_reply_due(a, "2026-10-09T18:00:00+08:00");
    receive(b, "clerk1", "{\"channel\":\"email\",\"what\":\"邮件投诉\"}");
    expect_reply_due(b, "2026-10-09T18:00:00+08:00");
    clock_to("2026-10-10T09:30:00+08:00"); /* make-up working Saturday */
    receive(c, "clerk1", "{\"channel\":\"online\",\"what\":\"论坛投诉\"}");
    expect_reply_due(c, "2026-10-10T18:00:00+08:00");
    clock_to("2026-11-21T11:00:00+08:00"); /* an ordinary Saturday */
    receive(d, "clerk1", "{\"channel\":\"walk_in\",\"what\":\"当面投诉\"}");
    expect_reply_due(d, "2026-11-21T17:00:00+08:00");
    receive(d, "clerk1", "{\"channel\":\"online\",\"what\":\"周末网上投诉\"}");
    expect_reply_due(d, "2026-11-23T18:00:00+08:00");
    /* re-reply: Saturday + 3 working days = Wednesday 11-25 */
    refused("rule", "R-CMP-04", "clerk1", "complaint.reply",
            "{\"complaint\":\"C1\",\"text\":\"x\",\"re_reply_by\":"
            "\"2026-11-26T10:00:00+08:00\"}");
    refused("rule", "R-CMP-04", "clerk1", "complaint.reply",
            "{\"complaint\":\"C1\",\"text\":\"x\",\"re_reply_by\":"
            "\"2026-11-21T10:00:00+08:00\"}");
    OK(&r, "clerk1", "complaint.reply",
       "{\"complaint\":\"%s\",\"text\":\"已联系\",\"re_reply_by\":"
       "\"2026-11-25T17:00:00+08:00\"}",
       d);
    h_reply_release(&r);
}

/* Whether the complaint's trail holds an escalation by rule. */
static bool escalated(const char *id, const char *rule)
{
    struct trail t;
    char key[64];

    snprintf(key, sizeof(key), "%s@", rule);
    return strstr(trail_of(&t, id), key) != NULL;
}

/* R-CMP-07 "open more than 10 days" (超过10天, seed 004) and R-CMP-06 "at
 * least every 3 days": exactly 10 (3) days after receipt is not yet a
 * breach, a second later is; "open 15 days" (15天仍未处理) is reached at
 * exactly 15 days. Both sides of each boundary. */
static void test_cmp07_more_than_thresholds(void **state)
{
    char id[24];
    (void)state;
    start("2026-09-30T10:00:00+08:00");
    receive(id, "clerk1", "{\"channel\":\"letter\",\"what\":\"外墙渗水\"}");
    clock_to("2026-10-03T10:00:00+08:00"); /* exactly 3 days, no contact */
    assert_false(escalated(id, "update_due"));
    clock_to("2026-10-03T10:00:01+08:00");
    assert_true(escalated(id, "update_due"));
    clock_to("2026-10-10T10:00:00+08:00"); /* exactly 10 days open */
    assert_false(escalated(id, "open_10d"));
    clock_to("2026-10-10T10:00:01+08:00");
    assert_true(escalated(id, "open_10d"));
    clock_to("2026-10-15T09:59:59+08:00");
    assert_false(escalated(id, "open_15d"));
    clock_to("2026-10-15T10:00:00+08:00"); /* 15 days: reached */
    assert_true(escalated(id, "open_15d"));
    rebuild_equals_live(&srv);
}

/* R-CMP-06/07: moving the clock past many deadlines fires exactly the due
 * escalations, in time order, each naming its rule and who is told; once
 * fired they never fire again, not even after a restart. */
static void test_cmp07_escalations_in_order(void **state)
{
    struct trail t;
    struct h_reply r;
    char id[24];
    size_t fired;
    (void)state;
    start("2026-09-30T10:00:00+08:00");
    receive(id, "clerk1", "{\"channel\":\"letter\",\"what\":\"外墙渗水\"}");
    clock_to("2026-10-20T09:00:00+08:00");
    /* "more than" rules (update_due, open_10d) are breached 1 ms past
     * their boundary; the 3-day windows do not drift by it */
    assert_string_equal(trail_of(&t, id),
                        "update_due@2026-10-03T10:00:00.001+08:00;"
                        "update_due@2026-10-06T10:00:00.001+08:00;"
                        "update_due@2026-10-09T10:00:00.001+08:00;"
                        "missed_reply@2026-10-09T18:00:00+08:00;"
                        "open_10d@2026-10-10T10:00:00.001+08:00;"
                        "update_due@2026-10-12T10:00:00.001+08:00;"
                        "open_15d@2026-10-15T10:00:00+08:00;"
                        "update_due@2026-10-15T10:00:00.001+08:00;"
                        "update_due@2026-10-18T10:00:00.001+08:00;");
    OK(&r, "clerk1", "query.complaints_open", "{\"overdue\":true}");
    assert_int_equal(h_reply_int(&r, "result.count", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.items.0.level", 0), 3);
    assert_string_equal(h_reply_str(&r, "result.items.0.level_name"),
                        "branch_gm");
    assert_true(json_is_true(h_reply_get(&r, "result.items.0.reply_overdue")));
    h_reply_release(&r);
    /* who is told: the rule's party from [complaints] */
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", id);
    assert_string_equal(h_reply_str(&r, "result.timeline.5.data.notify"),
                        "manager");
    assert_string_equal(h_reply_str(&r, "result.timeline.5.actor"), "system");
    h_reply_release(&r);
    /* restart: nothing re-fires; an update restarts the 3-day clock */
    fired = strlen(trail_of(&t, id));
    assert_int_equal(h_server_restart(&srv), 0);
    h_client_close(&cli);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
    clock_to("2026-10-20T10:00:00+08:00");
    simple("clerk1", "complaint.update", id, "\"text\":\"已约施工队\"");
    clock_to("2026-10-23T09:59:00+08:00");
    assert_int_equal(strlen(trail_of(&t, id)), fired);
    clock_to("2026-10-23T10:00:00+08:00"); /* 3 days: not more than 3 */
    assert_int_equal(strlen(trail_of(&t, id)), fired);
    clock_to("2026-10-23T10:00:01+08:00");
    assert_non_null(
        strstr(trail_of(&t, id), "update_due@2026-10-23T10:00:00.001+08:00;"));
}

/* R-CMP-07: a claim of 1000 yuan or more is major (quality within 1
 * working day); three different complainants are hot (quality within a
 * week), whether they come as one collective complaint, are linked to one
 * complaint, or file separately on one topic within a month. */
static void test_cmp07_major_and_hot(void **state)
{
    char a[24], b[24], c[24], d[24], e[24];
    struct trail t;
    struct h_reply r;
    (void)state;
    start("2026-09-30T10:00:00+08:00");
    receive(a, "clerk1",
            "{\"channel\":\"phone\",\"what\":\"车辆被刮\","
            "\"claim_fen\":100000}");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", a);
    assert_string_equal(h_reply_str(&r, "result.timeline.1.data.rule"),
                        "major");
    assert_string_equal(h_reply_str(&r, "result.timeline.1.data.notify"),
                        "quality");
    assert_string_equal(h_reply_str(&r, "result.timeline.1.data.respond_by"),
                        "2026-10-08T18:00:00+08:00");
    assert_true(json_is_true(h_reply_get(&r, "result.complaint.major")));
    h_reply_release(&r);
    /* below the threshold: not major until the claim grows */
    receive(b, "clerk1",
            "{\"channel\":\"phone\",\"what\":\"衣物被污\","
            "\"claim_fen\":99999}");
    assert_string_equal(trail_of(&t, b), "");
    simple("clerk1", "complaint.claim", b, "\"claim_fen\":120000");
    assert_string_equal(trail_of(&t, b), "major@2026-09-30T10:00:00+08:00;");
    simple("clerk1", "complaint.claim", b, "\"claim_fen\":150000");
    assert_string_equal(trail_of(&t, b), "major@2026-09-30T10:00:00+08:00;");
    /* collective */
    receive(c, "clerk1",
            "{\"channel\":\"walk_in\",\"what\":\"集体投诉\","
            "\"people\":5}");
    assert_string_equal(trail_of(&t, c), "hot@2026-09-30T10:00:00+08:00;");
    /* linked: the third person makes it hot, once */
    receive(d, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"赵\","
            "\"what\":\"电梯异响\"}");
    simple("clerk1", "complaint.add_complainant", d, "\"name\":\"钱\"");
    assert_string_equal(trail_of(&t, d), "");
    simple("clerk1", "complaint.add_complainant", d, "\"name\":\"孙\"");
    simple("clerk1", "complaint.add_complainant", d, "\"name\":\"李\"");
    assert_string_equal(trail_of(&t, d), "hot@2026-09-30T10:00:00+08:00;");
    /* separate complaints on one topic: the same person twice counts
     * once; the third different person within the month makes it hot */
    receive(e, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"周\","
            "\"topic\":\"HY-gate-2\",\"what\":\"2号门禁坏\"}");
    clock_to("2026-10-12T10:00:00+08:00");
    receive(e, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"周\","
            "\"topic\":\"HY-gate-2\",\"what\":\"门禁还是坏\"}");
    receive(e, "clerk1",
            "{\"channel\":\"online\",\"name\":\"吴\","
            "\"topic\":\"HY-gate-2\",\"what\":\"门禁\"}");
    assert_string_equal(trail_of(&t, e), "");
    clock_to("2026-10-25T10:00:00+08:00");
    receive(e, "clerk1",
            "{\"channel\":\"letter\",\"name\":\"郑\","
            "\"topic\":\"HY-gate-2\",\"what\":\"门禁\"}");
    assert_string_equal(trail_of(&t, e), "hot@2026-10-25T10:00:00+08:00;");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", e);
    assert_int_equal(
        json_array_size(h_reply_get(&r, "result.timeline.1.data.related")), 4);
    h_reply_release(&r);
    /* a fourth person on the topic: already hot, not escalated again */
    receive(a, "clerk1",
            "{\"channel\":\"letter\",\"name\":\"冯\","
            "\"topic\":\"HY-gate-2\",\"what\":\"门禁\"}");
    assert_string_equal(trail_of(&t, a), "");
}

/* R-CMP-05 and R-GEN-06: dispatch tells the lead; the first receiver stays
 * the owner however the work is passed on. */
static void test_cmp05_dispatch_keeps_owner(void **state)
{
    struct h_reply r;
    char id[24];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    receive(id, "clerk2", "{\"channel\":\"phone\",\"what\":\"停水\"}");
    OK(&r, "lead1", "complaint.dispatch",
       "{\"complaint\":\"%s\",\"handler\":\"clerk1\",\"emergency\":true}", id);
    assert_string_equal(h_reply_str(&r, "events.0.data.notify"), "cs_lead");
    assert_string_equal(h_reply_str(&r, "events.0.data.owner"), "clerk2");
    h_reply_release(&r);
    OK(&r, "clerk1", "query.complaints_open", "{\"handler\":\"clerk1\"}");
    assert_int_equal(h_reply_int(&r, "result.count", 0), 1);
    assert_string_equal(h_reply_str(&r, "result.items.0.owner"), "clerk2");
    assert_string_equal(h_reply_str(&r, "result.items.0.state"), "dispatched");
    assert_true(json_is_true(h_reply_get(&r, "result.items.0.emergency")));
    h_reply_release(&r);
    refused("not_found", "nobody", "lead1", "complaint.dispatch",
            "{\"complaint\":\"C1\",\"handler\":\"nobody\"}");
}

/* R-CMP-08/09: the return visit is due 24 h after handling and escalates
 * when missed; closing needs a satisfied visit and a manager; a
 * dissatisfied visit reopens it with a count. */
static void test_cmp08_09_visit_close_reopen(void **state)
{
    struct trail t;
    struct h_reply r;
    char id[24], body[64];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    receive(id, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"王\","
            "\"what\":\"楼道灯不亮\"}");
    simple("clerk1", "complaint.reply", id, "\"text\":\"今天修\"");
    simple("clerk1", "complaint.handle", id, "\"summary\":\"已换灯\"");
    snprintf(body, sizeof(body), "{\"complaint\":\"%s\"}", id);
    refused("rule", "R-CMP-09", "mgr1", "complaint.close", "%s", body);
    clock_to("2026-11-24T10:00:00+08:00");
    assert_string_equal(trail_of(&t, id),
                        "visit_due@2026-11-24T10:00:00+08:00;");
    simple("clerk1", "complaint.visit", id,
           "\"method\":\"phone\",\"result\":\"dissatisfied\"");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", id);
    assert_int_equal(h_reply_int(&r, "result.complaint.reopen_count", 0), 1);
    assert_string_equal(h_reply_str(&r, "result.complaint.state"), "replied");
    h_reply_release(&r);
    simple("clerk1", "complaint.handle", id, "\"summary\":\"换了灯座\"");
    simple("clerk1", "complaint.visit", id,
           "\"method\":\"visit\",\"result\":\"satisfied\"");
    refused("forbidden", NULL, "clerk1", "complaint.close", "%s", body);
    simple("mgr1", "complaint.close", id, NULL);
    refused("conflict", "closed", "clerk1", "complaint.update",
            "{\"complaint\":\"C1\",\"text\":\"x\"}");
    OK(&r, "clerk1", "query.complaints_open", "{}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 0);
    h_reply_release(&r);
    /* a closed complaint can come back */
    simple("clerk1", "complaint.reopen", id, "\"reason\":\"又不亮了\"");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", id);
    assert_int_equal(h_reply_int(&r, "result.complaint.reopen_count", 0), 2);
    h_reply_release(&r);
}

/* R-CMP-08/09: no return visit for anonymous complaints or people who
 * asked not to be visited (a visit is refused); such a complaint closes by
 * itself 7 days after handling unless a repeat comes first. */
static void test_cmp08_09_no_visit_auto_close(void **state)
{
    struct trail t;
    struct h_reply r;
    char p[24], a[24], b[24], body[128];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    OK(&r, "clerk1", "person.register",
       "{\"name\":\"陈\",\"kind\":\"owner\",\"phones\":[\"13900001111\"]}");
    snprintf(p, sizeof(p), "%s", h_reply_str(&r, "events.0.data.person"));
    h_reply_release(&r);
    OK(&r, "clerk1", "person.no_visit",
       "{\"person\":\"%s\",\"reason\":\"不希望被打扰\"}", p);
    h_reply_release(&r);
    receive(a, "clerk1",
            "{\"channel\":\"phone\",\"person\":\"%s\",\"what\":\"垃圾未清\"}",
            p);
    simple("clerk1", "complaint.handle", a, "\"summary\":\"已清运\"");
    snprintf(body, sizeof(body),
             "{\"complaint\":\"%s\",\"method\":\"phone\",\"result\":"
             "\"satisfied\"}",
             a);
    refused("rule", "R-CMP-08", "clerk1", "complaint.visit", "%s", body);
    receive(b, "clerk1",
            "{\"channel\":\"hotline\",\"anonymous\":true,"
            "\"what\":\"夜间噪音\"}");
    simple("clerk1", "complaint.handle", b, "\"summary\":\"已提醒\"");
    clock_to("2026-11-26T10:00:00+08:00");
    simple("clerk1", "complaint.add_complainant", b, "\"repeat\":true");
    clock_to("2026-12-01T10:00:00+08:00");
    assert_string_equal(trail_of(&t, a),
                        "auto_close@2026-11-30T10:00:00+08:00;");
    /* reopened by the repeat: handled again later, not closed by itself */
    assert_null(strstr(trail_of(&t, b), "auto_close"));
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", a);
    assert_string_equal(h_reply_str(&r, "result.complaint.state"), "closed");
    assert_string_equal(h_reply_str(&r, "result.no_visit_reason"), "declined");
    h_reply_release(&r);
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", b);
    assert_int_equal(h_reply_int(&r, "result.complaint.reopen_count", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.times", 0), 2);
    h_reply_release(&r);
}

/* R-CMP-10: one complaint however many complain; people and times. */
static void test_cmp10_counting(void **state)
{
    struct h_reply r;
    char id[24];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    receive(id, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"王\","
            "\"what\":\"电梯困人\"}");
    simple("clerk1", "complaint.add_complainant", id, "\"name\":\"李\"");
    simple("clerk1", "complaint.add_complainant", id, "\"repeat\":true");
    refused("invalid", NULL, "clerk1", "complaint.add_complainant",
            "{\"complaint\":\"C1\"}");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", id);
    assert_int_equal(h_reply_int(&r, "result.complaint.people", 0), 2);
    assert_int_equal(h_reply_int(&r, "result.times", 0), 3);
    h_reply_release(&r);
}

/* R-CMP-02/03/06/11: categories by final cause with corrections kept, the
 * daily stock-take and the monthly report, both as they stood then. */
static void test_cmp02_03_06_11_stocktake_and_report(void **state)
{
    struct h_reply r, live;
    char a[24], b[24], c[24];
    (void)state;
    start("2026-10-26T10:00:00+08:00");
    receive(a, "clerk1", "{\"channel\":\"phone\",\"what\":\"电梯故障\"}");
    simple("clerk1", "complaint.classify", a,
           "\"category\":2,\"cause\":"
           "\"machine\"");
    simple("clerk1", "complaint.reply", a, "\"text\":\"已派人\"");
    receive(b, "clerk1", "{\"channel\":\"walk_in\",\"what\":\"物业费疑问\"}");
    simple("clerk1", "complaint.classify", b,
           "\"category\":5,\"validity\":"
           "\"invalid\"");
    clock_to("2026-10-31T16:00:00+08:00");
    receive(c, "clerk1", "{\"channel\":\"phone\",\"what\":\"绿化\"}");
    simple("clerk1", "complaint.handle", b,
           "\"summary\":\"已解释\","
           "\"no_visit_reason\":"
           "\"on_spot_satisfied\"");
    OK(&live, "clerk1", "query.stocktake", "{\"date\":\"2026-10-31\"}");
    assert_int_equal(h_reply_int(&live, "result.received", -1), 1);
    assert_int_equal(h_reply_int(&live, "result.handled", -1), 1);
    assert_int_equal(h_reply_int(&live, "result.open", -1), 3);
    assert_int_equal(h_reply_int(&live, "result.open_3d", -1), 2);
    /* November: a is reclassified, b closes by itself, c is handled */
    clock_to("2026-11-09T10:00:00+08:00");
    simple("clerk1", "complaint.classify", a,
           "\"category\":7,\"cause\":"
           "\"material\"");
    simple("clerk1", "complaint.handle", c, "\"summary\":\"已修剪\"");
    OK(&r, "clerk1", "query.stocktake", "{\"date\":\"2026-10-31\"}");
    if (!json_equal(h_reply_get(&r, "result"), h_reply_get(&live, "result")))
        fail_msg("as-of stock-take %s differs from the live one %s",
                 h_reply_text(&r), h_reply_text(&live));
    h_reply_release(&r);
    h_reply_release(&live);
    OK(&r, "clerk1", "query.stocktake", "{}");
    assert_int_equal(h_reply_int(&r, "result.handled", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.open", -1), 2);
    h_reply_release(&r);
    /* the October report as it stood at the month's end: a is category 2 */
    OK(&r, "clerk1", "query.complaint_report", "{\"month\":\"2026-10\"}");
    assert_int_equal(h_reply_int(&r, "result.received", -1), 3);
    assert_int_equal(h_reply_int(&r, "result.by_category.2.count", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.by_category.7.count", -1), 0);
    assert_int_equal(h_reply_int(&r, "result.by_category.0.count", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.by_cause.machine", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.by_validity.invalid", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.open", -1), 3);
    assert_string_equal(h_reply_str(&r, "result.trend.5.month"), "2026-10");
    assert_int_equal(h_reply_int(&r, "result.trend.5.received", -1), 3);
    assert_int_equal(h_reply_int(&r, "result.trend.4.received", -1), 0);
    /* replied in time: a only; b (walk-in, handled on the spot without a
     * recorded reply) and c (Saturday phone call, due at 17:00) missed */
    assert_int_equal(h_reply_int(&r, "result.kpi.replied_in_time.num", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.kpi.replied_in_time.den", -1), 3);
    /* R-CMP-11 rate rule: 1/3 rounds half up to 33; a KPI with nothing
     * to count (no return visit due in October) is null, not 100 % */
    assert_int_equal(h_reply_int(&r, "result.kpi.replied_in_time.percent", -1),
                     33);
    assert_int_equal(h_reply_int(&r, "result.kpi.visits_in_time.den", -1), 0);
    assert_true(
        json_is_null(h_reply_get(&r, "result.kpi.visits_in_time.percent")));
    h_reply_release(&r);
    /* and with what is known now: the final cause is category 7 */
    OK(&r, "clerk1", "query.complaint_report",
       "{\"month\":\"2026-10\",\"as_of\":\"2026-11-09T12:00:00+08:00\"}");
    assert_int_equal(h_reply_int(&r, "result.by_category.7.count", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.by_category.2.count", -1), 0);
    assert_int_equal(h_reply_int(&r, "result.open", -1), 2); /* b closed */
    h_reply_release(&r);
    /* the timeline keeps both classifications; R-CMP-03: no validity
     * given means valid */
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", a);
    assert_string_equal(h_reply_str(&r, "result.validity"), "valid");
    assert_int_equal(h_reply_int(&r, "result.timeline.1.data.category", 0), 2);
    assert_int_equal(h_reply_int(&r, "result.complaint.category", 0), 7);
    h_reply_release(&r);
}

/* Regressions found in review. R-CMP-07: "different complainants": the
 * same person added again is a repeat, not a new person, and never makes
 * a complaint hot. R-CMP-09: a return visit that cannot reach the
 * complainant after the 7 days closes it from the visit on, never with a
 * close dated before the visit (the as-of stock-take of a day in between
 * still shows it open). */
static void test_cmp07_09_same_person_and_late_unreachable(void **state)
{
    struct trail t;
    struct h_reply r;
    char a[24], b[24];
    (void)state;
    start("2026-03-02T10:00:00+08:00");
    receive(a, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"李\","
            "\"what\":\"噪音\"}");
    simple("clerk1", "complaint.add_complainant", a, "\"name\":\"李\"");
    simple("clerk1", "complaint.add_complainant", a, "\"name\":\"李\"");
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", a);
    assert_int_equal(h_reply_int(&r, "result.complaint.people", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.times", 0), 3);
    assert_false(json_is_true(h_reply_get(&r, "result.complaint.hot")));
    done(&r);
    assert_null(strstr(trail_of(&t, a), "hot@"));
    receive(b, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"王\","
            "\"what\":\"漏水\"}");
    simple("clerk1", "complaint.reply", b, "\"text\":\"已派人\"");
    simple("clerk1", "complaint.handle", b, "\"summary\":\"已修\"");
    clock_to("2026-03-12T10:00:00+08:00");
    simple("clerk1", "complaint.visit", b,
           "\"method\":\"phone\",\"result\":\"unreachable\"");
    clock_to("2026-03-12T10:01:00+08:00");
    assert_string_equal(trail_of(&t, b),
                        "visit_due@2026-03-03T10:00:00+08:00;"
                        "auto_close@2026-03-12T10:00:00+08:00;");
    OK(&r, "clerk1", "query.stocktake", "{\"date\":\"2026-03-10\"}");
    assert_int_equal(h_reply_int(&r, "result.open", -1), 2);
    done(&r);
    /* R-CMP-07 "within a month": a letter entered late counts only the
     * complaints within a month of its own receipt (03-12 .. 05-01 is
     * seven weeks: not hot) */
    receive(a, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"甲\","
            "\"topic\":\"T9\",\"what\":\"路灯\"}");
    clock_to("2026-05-01T10:00:00+08:00");
    receive(a, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"乙\","
            "\"topic\":\"T9\",\"what\":\"路灯\"}");
    receive(a, "clerk1",
            "{\"channel\":\"letter\",\"name\":\"丙\","
            "\"topic\":\"T9\",\"what\":\"路灯\","
            "\"received_at\":\"2026-04-10T10:00:00+08:00\"}");
    assert_null(strstr(trail_of(&t, a), "hot@"));
    /* a fourth, within a month of the letter and of 乙: now it is */
    receive(a, "clerk1",
            "{\"channel\":\"phone\",\"name\":\"丁\","
            "\"topic\":\"T9\",\"what\":\"路灯\"}");
    assert_non_null(strstr(trail_of(&t, a), "hot@"));
}

/* The same steps with and without a kill -9 between them give the same
 * escalations; replaying the log rebuilds identical tables (and fires
 * nothing: a rebuild only writes tables). */
static void scenario(bool crash, struct trail *t)
{
    static const char *const steps[] = {
        "2026-10-02T09:00:00+08:00", "2026-10-09T17:00:00+08:00",
        "2026-10-12T09:00:00+08:00", "2026-10-20T09:00:00+08:00"};
    char a[24], b[24];

    start("2026-09-30T10:00:00+08:00");
    receive(a, "clerk1", "{\"channel\":\"letter\",\"what\":\"信\"}");
    receive(b, "clerk1",
            "{\"channel\":\"phone\",\"what\":\"电话\","
            "\"claim_fen\":200000}");
    for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
        clock_to(steps[i]);
        if (i == 1)
            simple("clerk1", "complaint.update", b, "\"text\":\"处理中\"");
        if (crash) {
            assert_int_equal(h_server_kill9(&srv), 0 + 128 + 9);
            assert_int_equal(h_server_restart(&srv), 0);
            h_client_close(&cli);
            assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
        }
    }
    trail_of(t, NULL);
}

static void test_crash_gives_same_escalations(void **state)
{
    static struct trail plain, crashed;
    (void)state;
    scenario(false, &plain);
    teardown(NULL);
    scenario(true, &crashed);
    assert_true(strlen(plain.text) > 200);
    assert_string_equal(crashed.text, plain.text);
    rebuild_equals_live(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cmp01_intake, teardown),
        cmocka_unit_test_teardown(test_cmp04_reply_deadlines, teardown),
        cmocka_unit_test_teardown(test_cmp07_escalations_in_order, teardown),
        cmocka_unit_test_teardown(test_cmp07_more_than_thresholds, teardown),
        cmocka_unit_test_teardown(test_cmp07_major_and_hot, teardown),
        cmocka_unit_test_teardown(test_cmp05_dispatch_keeps_owner, teardown),
        cmocka_unit_test_teardown(test_cmp08_09_visit_close_reopen, teardown),
        cmocka_unit_test_teardown(test_cmp08_09_no_visit_auto_close, teardown),
        cmocka_unit_test_teardown(test_cmp10_counting, teardown),
        cmocka_unit_test_teardown(test_cmp02_03_06_11_stocktake_and_report,
                                  teardown),
        cmocka_unit_test_teardown(
            test_cmp07_09_same_person_and_late_unreachable, teardown),
        cmocka_unit_test_teardown(test_crash_gives_same_escalations, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
