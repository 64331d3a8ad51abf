/* tests/integration/it_workorders.c - work orders and information passing
 * (DOMAIN.md R-WO-01..04, R-GEN-06, R-FEE-09) against a real deskd with a
 * manual clock; escalations by the engine the complaints use. */
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
    struct h_opts o = {.manual_start = at};
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

__attribute__((format(printf, 2, 3))) static void logged(char id[24],
                                                         const char *fmt, ...)
{
    char body[1024];
    struct h_reply r;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    OK(&r, "clerk1", "workorder.log", "%s", body);
    snprintf(id, 24, "%s", h_reply_str(&r, "events.0.data.order"));
    h_reply_release(&r);
}

__attribute__((format(printf, 3, 4))) static void
step(const char *name, const char *id, const char *fmt, ...)
{
    char extra[1024];
    struct h_reply r;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(extra, sizeof(extra), fmt, ap);
    va_end(ap);
    OK(&r, "clerk1", name, "{\"order\":\"%s\"%s%s}", id, extra[0] ? "," : "",
       extra);
    h_reply_release(&r);
}

/* "rule@occurred;" of the order's escalations. */
static int esc_add(json_t *ev, void *arg)
{
    char *out = arg;
    json_t *data = json_object_get(ev, "data");
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *at = json_string_value(json_object_get(ev, "occurred_at"));
    size_t n = strlen(out);

    if (!at)
        at = json_string_value(json_object_get(ev, "recorded_at"));
    if (type && !strcmp(type, "workorder.escalated"))
        snprintf(out + n, 2048 - n, "%s@%s;",
                 json_string_value(json_object_get(data, "rule")), at);
    return 0;
}

static const char *escalations(char out[2048])
{
    out[0] = '\0';
    assert_true(h_log_all(&cli, esc_add, out) >= 0);
    return out;
}

static void expect_field(const char *id, const char *path, const char *want)
{
    struct h_reply r;
    OK(&r, "clerk1", "query.work_order", "{\"order\":\"%s\"}", id);
    if (!h_reply_str(&r, path) || strcmp(h_reply_str(&r, path), want))
        fail_msg("%s: %s is not %s in %s", id, path, want, h_reply_text(&r));
    h_reply_release(&r);
}

/* R-WO-01, R-GEN-06: every message is logged with who took it (the owner);
 * one reaching the desk a day late is marked so in the stock-take. */
static void test_wo01_log_and_stocktake(void **state)
{
    struct h_reply r;
    char a[24], b[24];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    logged(a, "{\"kind\":\"message\",\"from\":\"staff\",\"text\":\"保安转告：5"
              "栋楼道灯坏\",\"contact\":\"13812345678\"}");
    expect_field(a, "result.order.owner", "clerk1");
    /* R-GEN-02: the timeline shows the contact masked */
    expect_field(a, "result.timeline.0.data.contact", "138****5678");
    expect_field(a, "result.order.state", "logged");
    logged(b, "{\"kind\":\"enquiry\",\"text\":\"问停车费\",\"received_at\":"
              "\"2026-11-22T16:00:00+08:00\"}");
    refused("invalid", "future", "clerk1", "workorder.log",
            "{\"kind\":\"message\",\"text\":\"x\",\"received_at\":"
            "\"2026-11-24T10:00:00+08:00\"}");
    refused("invalid", NULL, "clerk1", "workorder.log",
            "{\"kind\":\"gossip\","
            "\"text\":\"x\"}");
    refused("not_found", "NO/1-1", "clerk1", "workorder.log",
            "{\"kind\":\"repair\",\"text\":\"x\",\"unit\":\"NO/1-1\"}");
    step("workorder.close", b, "%s", "");
    OK(&r, "clerk1", "query.stocktake", "{}");
    assert_int_equal(h_reply_int(&r, "result.work_orders.received", -1), 2);
    assert_int_equal(h_reply_int(&r, "result.work_orders.logged_late", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.work_orders.closed", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.work_orders.open", -1), 1);
    h_reply_release(&r);
    /* as it stood on the 22nd: nothing had been logged yet */
    OK(&r, "clerk1", "query.stocktake", "{\"date\":\"2026-11-22\"}");
    assert_int_equal(h_reply_int(&r, "result.work_orders.received", -1), 0);
    assert_int_equal(h_reply_int(&r, "result.work_orders.open", -1), 0);
    h_reply_release(&r);
}

/* R-WO-02: a repair goes out only with the visit time told to the
 * resident; an emergency goes at once and the lead is told. */
static void test_wo02_dispatch(void **state)
{
    struct h_reply r;
    char a[24], b[24], body[160];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    logged(a, "{\"kind\":\"repair\",\"text\":\"水龙头漏水\"}");
    snprintf(body, sizeof(body), "{\"order\":\"%s\",\"to\":\"张师傅\"}", a);
    refused("rule", "R-WO-02", "clerk1", "workorder.dispatch", "%s", body);
    snprintf(body, sizeof(body),
             "{\"order\":\"%s\",\"to\":\"张师傅\",\"visit_at\":"
             "\"2026-11-22T10:00:00+08:00\"}",
             a);
    refused("invalid", "past", "clerk1", "workorder.dispatch", "%s", body);
    step("workorder.dispatch", a,
         "\"to\":\"张师傅\",\"visit_at\":\"2026-11-23T15:00:00+08:00\"");
    expect_field(a, "result.order.state", "dispatched");
    logged(b, "{\"kind\":\"repair\",\"emergency\":true,\"text\":\"电梯困人\"}");
    OK(&r, "clerk1", "workorder.dispatch",
       "{\"order\":\"%s\",\"to\":\"电梯维保\"}", b);
    assert_string_equal(h_reply_str(&r, "events.0.data.notify"), "cs_lead");
    h_reply_release(&r);
    snprintf(body, sizeof(body), "{\"order\":\"%s\",\"summary\":\"x\"}", a);
    refused("invalid", "category", "clerk1", "workorder.complete", "%s", body);
}

/* R-WO-03: return visits by category (safety 2 days, leaks 3, others 7),
 * escalated when missed; a problem found needs a written notice within
 * 24 h; dissatisfied reopens; a repair closes after a satisfied visit. */
static void test_wo03_return_visits(void **state)
{
    char s[24], l[24], o[24], body[160], esc[2048];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    logged(s, "{\"kind\":\"repair\",\"text\":\"消防栓\"}");
    logged(l, "{\"kind\":\"repair\",\"text\":\"渗水\"}");
    logged(o, "{\"kind\":\"housekeeping\",\"text\":\"保洁\"}");
    step("workorder.dispatch", s, "\"to\":\"A\",\"emergency\":true");
    step("workorder.dispatch", l, "\"to\":\"B\",\"emergency\":true");
    step("workorder.dispatch", o, "\"to\":\"C\",\"emergency\":true");
    step("workorder.complete", s,
         "\"summary\":\"修好\",\"category\":"
         "\"safety\"");
    step("workorder.complete", l, "\"summary\":\"修好\",\"category\":\"leak\"");
    step("workorder.complete", o,
         "\"summary\":\"做好\",\"category\":"
         "\"other\"");
    expect_field(s, "result.order.visit_due", "2026-11-25T10:00:00+08:00");
    expect_field(l, "result.order.visit_due", "2026-11-26T10:00:00+08:00");
    expect_field(o, "result.order.visit_due", "2026-11-30T10:00:00+08:00");
    snprintf(body, sizeof(body), "{\"order\":\"%s\"}", l);
    refused("rule", "R-WO-03", "clerk1", "workorder.close", "%s", body);
    /* the leak's visit finds a problem; the resident is still satisfied */
    step("workorder.visit", l,
         "\"result\":\"satisfied\",\"problem\":\"墙面"
         "未补\"");
    clock_to("2026-11-26T12:00:00+08:00");
    assert_string_equal(escalations(esc),
                        "notice_due@2026-11-24T10:00:00+08:00;"
                        "visit_due@2026-11-25T10:00:00+08:00;");
    step("workorder.notice", l, "\"ref\":\"ZG-031\"");
    snprintf(body, sizeof(body), "{\"order\":\"%s\",\"ref\":\"x\"}", l);
    refused("conflict", "no notice", "clerk1", "workorder.notice", "%s", body);
    step("workorder.close", l, "%s", "");
    /* dissatisfied: back to the repairer, with a new 3-day clock */
    step("workorder.visit", s, "\"result\":\"dissatisfied\"");
    expect_field(s, "result.order.state", "dispatched");
    expect_field(s, "result.order.visit_result", "dissatisfied"); /* last */
    clock_to("2026-11-29T12:00:00+08:00");
    assert_non_null(
        strstr(escalations(esc), "stale@2026-11-29T12:00:00+08:00;"));
}

/* R-WO-04: common parts are not billed; the owner's own installation is
 * billed to the owner through the fees. R-FEE-09: arrears never hold back
 * an emergency repair. */
static void test_wo04_owner_pays_and_fee09(void **state)
{
    struct h_reply r;
    char p[24], a[24], b[24], body[200];
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
    OK(&r, "clerk1", "person.register", "{\"name\":\"王\",\"kind\":\"owner\"}");
    snprintf(p, sizeof(p), "%s", h_reply_str(&r, "events.0.data.person"));
    h_reply_release(&r);
    OK(&r, "lead1", "unit.transfer",
       "{\"unit\":\"HY/3-1201\",\"to\":\"%s\",\"effective\":\"2026-01-01\"}",
       p);
    h_reply_release(&r);
    logged(a, "{\"kind\":\"repair\",\"unit\":\"HY/3-1201\",\"text\":\"业主自"
              "装热水器漏水\"}");
    step("workorder.dispatch", a,
         "\"to\":\"B\",\"visit_at\":"
         "\"2026-11-23T14:00:00+08:00\"");
    snprintf(body, sizeof(body),
             "{\"order\":\"%s\",\"summary\":\"x\",\"category\":\"leak\","
             "\"amount\":5000}",
             a);
    refused("invalid", "owner-paid", "clerk1", "workorder.complete", "%s",
            body);
    OK(&r, "clerk1", "workorder.complete",
       "{\"order\":\"%s\",\"summary\":\"更换热水器阀门\",\"category\":"
       "\"leak\",\"payer\":\"owner\",\"amount\":5000}",
       a);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "fee.billed");
    assert_string_equal(h_reply_str(&r, "events.0.data.payer"), p);
    assert_string_equal(h_reply_str(&r, "events.0.data.work_order"), a);
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 5000);
    assert_string_equal(h_reply_str(&r, "events.1.data.payer"), "owner");
    h_reply_release(&r);
    /* a month later the bill is overdue; an emergency still goes out */
    clock_to("2026-12-28T10:00:00+08:00");
    OK(&r, "clerk1", "query.overdue", "{\"estate\":\"HY\"}");
    assert_int_equal(h_reply_int(&r, "result.total", 0), 5000);
    h_reply_release(&r);
    logged(b, "{\"kind\":\"repair\",\"unit\":\"HY/3-1201\",\"emergency\":"
              "true,\"text\":\"停电\"}");
    step("workorder.dispatch", b, "\"to\":\"电工\"");
    expect_field(b, "result.order.state", "dispatched");
}

/* R-WO-01: what the desk cannot solve goes to the lead and the department
 * head at once, once; the same engine fires "stale" after 3 days. */
static void test_wo01_refer_and_stale(void **state)
{
    struct h_reply r;
    char a[24], body[120], esc[2048];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    logged(a, "{\"kind\":\"message\",\"text\":\"要求开发商修外墙\"}");
    OK(&r, "clerk1", "workorder.refer",
       "{\"order\":\"%s\",\"reason\":\"开发商责任\"}", a);
    assert_string_equal(h_reply_str(&r, "events.0.data.notify"),
                        "cs_lead, dept_head");
    h_reply_release(&r);
    snprintf(body, sizeof(body), "{\"order\":\"%s\",\"reason\":\"x\"}", a);
    refused("conflict", "already", "clerk1", "workorder.refer", "%s", body);
    clock_to("2026-11-26T10:00:00+08:00");
    assert_string_equal(escalations(esc), "unsolved@2026-11-23T10:00:00+08:00;"
                                          "stale@2026-11-26T10:00:00+08:00;");
    OK(&r, "clerk1", "query.work_orders", "{\"overdue\":true}");
    assert_int_equal(h_reply_int(&r, "result.count", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.items.0.level", 0), 2);
    h_reply_release(&r);
    refused("forbidden", NULL, "clerk1", "workorder.escalate",
            "{\"order\":\"W1\",\"rule\":\"stale\",\"due\":1}");
}

/* Replaying the log gives the same work-order tables and timers. */
static void test_wo_rebuild_equals_live(void **state)
{
    char a[24];
    (void)state;
    start("2026-11-23T10:00:00+08:00");
    logged(a, "{\"kind\":\"repair\",\"text\":\"门锁\"}");
    step("workorder.dispatch", a, "\"to\":\"A\",\"emergency\":true");
    step("workorder.complete", a,
         "\"summary\":\"ok\",\"category\":"
         "\"safety\"");
    clock_to("2026-11-28T10:00:00+08:00");
    step("workorder.visit", a, "\"result\":\"dissatisfied\"");
    rebuild_equals_live(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_wo01_log_and_stocktake, teardown),
        cmocka_unit_test_teardown(test_wo02_dispatch, teardown),
        cmocka_unit_test_teardown(test_wo03_return_visits, teardown),
        cmocka_unit_test_teardown(test_wo04_owner_pays_and_fee09, teardown),
        cmocka_unit_test_teardown(test_wo01_refer_and_stale, teardown),
        cmocka_unit_test_teardown(test_wo_rebuild_equals_live, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
