/* tests/integration/it_explain.c - "why" for a figure (issue 16, item 3):
 * explain=true on query.overdue (R-FEE-02, R-FEE-03, R-FEE-04, R-FEE-06,
 * R-FEE-07, R-FEE-08), on the complaint queries (R-CMP-04, R-CMP-07) and
 * on the work-order queries (R-WO-01) against a real deskd with a manual
 * clock. The expected explanations are
 * worked out by hand below; every seq they name is checked against the
 * event log.read serves at that seq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk.h"
#include "harness.h"

static struct h_server srv;
static struct h_client cli;
static char late_bill[24]; /* the late fee the first fee test assesses */

static int stop(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

/* ---- fees ---- */

static int start_fees(void **state)
{
    struct h_opts o = {
        .extra_ini =
            "[fees]\nlate_fee.property_fee = grace=30 daily_bp=5 cap_bp=1000\n"};
    (void)state;
    return desk_start(&srv, &cli, &o);
}

/* query.overdue for estate EX, as of a day (NULL: today), explained. */
static void overdue(struct h_reply *r, const char *as_of, bool explain)
{
    char extra[64] = "";

    if (as_of)
        snprintf(extra, sizeof(extra), ",\"as_of\":\"%s\"", as_of);
    OK(r, "clerk1", "query.overdue", "{\"estate\":\"EX\"%s%s}", extra,
       explain ? ",\"explain\":true" : "");
}

/* A bill of 22,500 fen (90 m² x 250 fen, R-FEE-01/02) due 03-15; 10,000
 * paid on 03-20 (R-FEE-03); 1,000 paid on 03-25 and voided (R-FEE-04);
 * the late-fee run of 04-24 (40 days past due, 30 days' grace): 12,500 x
 * 5 bp x 10 days / 10000 = 62.5 -> 62 fen (R-FEE-08). On 04-25 the unit
 * owes 12,500 + 62 = 12,562, and the explanation of that amount lists
 * exactly those five events, whose fen sum to it. */
static void test_explain_overdue_amount(void **state)
{
    struct h_reply r, plain;
    char owner[24], pay2[24];
    int64_t bill, paid, paid2, voided, late, sum = 0;
    json_t *l, *row;
    (void)state;

    desk_estate("EX", "residence", "", owner);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"EX\",\"period\":\"2026-03\"}");
    assert_int_equal(r.nevents, 1);
    bill = h_reply_int(&r, "events.0.seq", 0);
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 22500);
    done(&r);
    clock_to("2026-03-20T10:00:00+08:00");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"EX/1-101\",\"amount\":10000,\"method\":\"cash\","
       "\"book\":\"EX1\"}");
    paid = h_reply_int(&r, "events.0.seq", 0);
    done(&r);
    clock_to("2026-03-25T10:00:00+08:00");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"EX/1-101\",\"amount\":1000,\"method\":\"cash\","
       "\"book\":\"EX1\"}");
    paid2 = h_reply_int(&r, "events.0.seq", 0);
    snprintf(pay2, sizeof(pay2), "%s",
             h_reply_str(&r, "events.0.data.payment"));
    done(&r);
    OK(&r, "lead1", "fee.void_payment",
       "{\"payment\":\"%s\",\"reason\":\"wrong unit\"}", pay2);
    voided = h_reply_int(&r, "events.0.seq", 0);
    done(&r);
    clock_to("2026-04-24T09:00:00+08:00");
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"EX\"}");
    late = h_reply_int(&r, "events.0.seq", 0);
    snprintf(late_bill, sizeof(late_bill), "%s",
             h_reply_str(&r, "events.0.data.bill"));
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 62);
    done(&r);
    clock_to("2026-04-25T09:00:00+08:00");

    overdue(&r, NULL, true);
    assert_int_equal(h_reply_int(&r, "result.units.0.amount", 0), 12562);
    l = h_reply_get(&r, "result.units.0.why.amount");
    assert_int_equal(json_array_size(l), 8);
    expect_entry(l, 0, bill, "fee.billed", "R-FEE-02", 22500);
    assert_non_null(strstr(what_of(l, 0), "250 fen per m2_month"));
    expect_entry(l, 1, paid, "fee.paid", "R-FEE-03", -10000);
    expect_entry(l, 2, paid2, "fee.paid", "R-FEE-03", -1000);
    expect_entry(l, 3, voided, "fee.payment_voided", "R-FEE-04", 1000);
    expect_entry(l, 4, 0, "rule", "R-FEE-06", WHY_NONE);
    assert_non_null(strstr(what_of(l, 4), "41 days on 2026-04-25 (31-60)"));
    expect_entry(l, 5, late, "fee.late_fee_assessed", "R-FEE-08", 62);
    assert_non_null(strstr(what_of(l, 5), "12500 fen unpaid x 5 bp a day x 10 "
                                          "days past 30 days' grace"));
    expect_entry(l, 6, 0, "config", "R-FEE-08", WHY_NONE);
    assert_non_null(strstr(what_of(l, 6), "late_fee.property_fee = grace=30 "
                                          "daily_bp=5 cap_bp=1000"));
    expect_entry(l, 7, 0, "rule", "R-FEE-06", WHY_NONE);
    for (size_t i = 0; i < json_array_size(l); i++)
        sum += json_integer_value(json_object_get(json_array_get(l, i), "fen"));
    assert_int_equal(sum, 12562);
    /* the stage: 41 days after the oldest due date */
    assert_string_equal(h_reply_str(&r, "result.units.0.stage"),
                        "first_notice");
    l = h_reply_get(&r, "result.units.0.why.stage");
    assert_int_equal(json_array_size(l), 1);
    expect_entry(l, 0, 0, "rule", "R-FEE-06", WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "41 days overdue on 2026-04-25"));

    /* without explain: the same reply without "why" */
    overdue(&plain, NULL, false);
    row = h_reply_get(&r, "result.units.0");
    json_object_del(row, "why");
    assert_null(h_reply_get(&plain, "result.units.0.why"));
    assert_true(
        json_equal(h_reply_get(&r, "result"), h_reply_get(&plain, "result")));
    done(&plain);
    done(&r);
}

/* R-FEE-07: as of a past day only what was recorded and dated by then
 * explains the amount: on 03-31 the bill and the first payment (the
 * voided one nets to nothing: both lines are listed); on 03-18 the bill
 * alone. */
static void test_explain_overdue_as_of(void **state)
{
    struct h_reply r;
    json_t *l;
    (void)state;

    overdue(&r, "2026-03-31", true);
    assert_int_equal(h_reply_int(&r, "result.units.0.amount", 0), 12500);
    l = h_reply_get(&r, "result.units.0.why.amount");
    assert_int_equal(json_array_size(l), 5);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(l, 1), "fen")),
        -10000);
    assert_non_null(strstr(what_of(l, 4), "16 days on 2026-03-31 (1-30)"));
    done(&r);
    overdue(&r, "2026-03-18", true);
    assert_int_equal(h_reply_int(&r, "result.units.0.amount", 0), 22500);
    l = h_reply_get(&r, "result.units.0.why.amount");
    assert_int_equal(json_array_size(l), 2);
    expect_entry(l, 0, h_reply_int(&r, "result.units.0.why.amount.0.seq", 0),
                 "fee.billed", "R-FEE-02", 22500);
    done(&r);
}

/* A waiver in the explanation names its approver and reason (R-FEE-08);
 * the reason is free text, masked on the way out like every result
 * (R-GEN-02): the phone number typed into it shows as 138****5678. */
static void test_explain_waiver_masked(void **state)
{
    struct h_reply r;
    int64_t waived, sum = 0;
    json_t *l;
    size_t i;
    (void)state;

    OK(&r, "mgr1", "fee.waive",
       "{\"bill\":\"%s\",\"amount\":20,\"reason\":\"业主来电13812345678说明\"}",
       late_bill);
    waived = h_reply_int(&r, "events.0.seq", 0);
    done(&r);
    overdue(&r, NULL, true);
    assert_int_equal(h_reply_int(&r, "result.units.0.amount", 0), 12542);
    l = h_reply_get(&r, "result.units.0.why.amount");
    assert_int_equal(json_array_size(l), 9);
    expect_entry(l, 7, waived, "fee.waived", "R-FEE-08", -20);
    assert_non_null(strstr(what_of(l, 7), "approved by mgr1"));
    assert_non_null(strstr(what_of(l, 7), "业主来电138****5678说明"));
    assert_null(strstr(h_reply_text(&r), "13812345678"));
    for (i = 0; i < json_array_size(l); i++)
        sum += json_integer_value(json_object_get(json_array_get(l, i), "fen"));
    assert_int_equal(sum, 12542);
    done(&r);
}

/* explain must be a boolean: anything else is refused by the table's
 * checks and writes nothing. */
static void test_explain_ill_typed(void **state)
{
    (void)state;
    refused("invalid", "explain", "clerk1", "query.overdue",
            "{\"estate\":\"EX\",\"explain\":\"yes\"}");
    refused("invalid", "explain", "clerk1", "query.complaint",
            "{\"complaint\":\"C1\",\"explain\":1}");
}

/* ---- complaints ---- */

/* The seqs of the escalation events (type) of case id (data key), as
 * log.read serves them. */
struct escalations {
    const char *type, *key, *id;
    int64_t seq[8];
    int n;
};

static int collect_escalation(json_t *ev, void *arg)
{
    struct escalations *x = arg;
    json_t *d = json_object_get(ev, "data");

    if (!strcmp(json_string_value(json_object_get(ev, "type")), x->type) &&
        json_is_string(json_object_get(d, x->key)) &&
        !strcmp(json_string_value(json_object_get(d, x->key)), x->id) &&
        x->n < 8)
        x->seq[x->n++] = json_integer_value(json_object_get(ev, "seq"));
    return 0;
}

static int start_complaints(void **state)
{
    /* no 3-day update escalations within the test, so the two escalations
     * below are all there are */
    struct h_opts o = {.manual_start = "2026-09-30T10:00:00+08:00",
                       .extra_ini = "[complaints]\n"
                                    "escalate.update_due = days:30, cs_lead\n"};
    (void)state;
    return desk_start(&srv, &cli, &o);
}

/* A letter received Wednesday 2026-09-30 10:00 (R-CMP-04: 2 working days,
 * after the National Day break 10-01..10-07: 2026-10-09 18:00) is never
 * answered: missed_reply escalates at 10-09 18:00 (tier 1, cs_lead), and
 * open_10d just after 10-10 10:00 (tier 2, manager; R-CMP-07). Its level,
 * 2, is explained by exactly those two escalations; its reply deadline by
 * the receiving event, the channel's setting and the calendar; its next
 * deadline (open_15d, 10-15 10:00) by the receiving event and a rule in
 * clock time. */
static void test_explain_complaint_level_and_deadlines(void **state)
{
    struct h_reply r;
    struct escalations x = {"complaint.escalated", "complaint", NULL, {0}, 0};
    int64_t received;
    char id[24];
    json_t *l;
    (void)state;

    OK(&r, "clerk1", "complaint.receive",
       "{\"channel\":\"letter\",\"what\":\"外墙渗水 13812345678\"}");
    received = h_reply_int(&r, "events.0.seq", 0);
    snprintf(id, sizeof(id), "%s", h_reply_str(&r, "events.0.data.complaint"));
    done(&r);
    clock_to("2026-10-10T10:00:01+08:00");
    x.id = id; /* from the log itself: exactly two */
    assert_true(h_log_all(&cli, collect_escalation, &x) > 0);
    assert_int_equal(x.n, 2);

    OK(&r, "clerk1", "query.complaint",
       "{\"complaint\":\"%s\",\"explain\":true}", id);
    assert_int_equal(h_reply_int(&r, "result.complaint.level", 0), 2);
    l = h_reply_get(&r, "result.complaint.why.level");
    assert_int_equal(json_array_size(l), 3);
    expect_entry(l, 0, x.seq[0], "complaint.escalated", "R-CMP-07", WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "missed_reply: tier 1 (cs_lead)"));
    expect_entry(l, 1, x.seq[1], "complaint.escalated", "R-CMP-07", WHY_NONE);
    assert_non_null(strstr(what_of(l, 1), "open_10d: tier 2 (manager)"));
    expect_entry(l, 2, 0, "rule", "R-CMP-07", WHY_NONE);
    assert_non_null(strstr(what_of(l, 2), "highest tier escalated: 2"));

    assert_string_equal(h_reply_str(&r, "result.complaint.reply_due"),
                        "2026-10-09T18:00:00+08:00");
    l = h_reply_get(&r, "result.complaint.why.reply_due");
    assert_int_equal(json_array_size(l), 4);
    expect_entry(l, 0, received, "complaint.received", "R-CMP-04", WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "channel letter"));
    expect_entry(l, 1, 0, "config", "R-CMP-04", WHY_NONE);
    assert_string_equal(what_of(l, 1),
                        "[complaints] reply.letter = workdays:2");
    expect_entry(l, 2, 0, "calendar", "R-CMP-04", WHY_NONE);
    assert_non_null(strstr(what_of(l, 2), "08:30-18:00 on working days"));
    expect_entry(l, 3, 0, "calendar", "R-CMP-04", WHY_NONE);
    assert_non_null(strstr(what_of(l, 3),
                           "working days 2026-09-30, 2026-10-08..2026-10-09; "
                           "not working (weekend or holiday) "
                           "2026-10-01..2026-10-07"));

    assert_string_equal(h_reply_str(&r, "result.complaint.next_rule"),
                        "open_15d");
    l = h_reply_get(&r, "result.complaint.why.next_deadline");
    assert_int_equal(json_array_size(l), 3);
    expect_entry(l, 0, received, "complaint.received", "R-CMP-07", WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "open_15d deadline "
                                          "2026-10-15T10:00:00+08:00"));
    expect_entry(l, 1, 0, "config", "R-CMP-07", WHY_NONE);
    assert_string_equal(what_of(l, 1),
                        "[complaints] escalate.open_15d = days:15, branch_gm");
    expect_entry(l, 2, 0, "calendar", "R-CMP-07", WHY_NONE);
    done(&r);

    /* the open list explains its rows the same way; without explain it
     * has no "why" */
    OK(&r, "clerk1", "query.complaints_open", "{\"explain\":true}");
    assert_int_equal(
        json_array_size(h_reply_get(&r, "result.items.0.why.level")), 3);
    done(&r);
    OK(&r, "clerk1", "query.complaints_open", "{}");
    assert_null(h_reply_get(&r, "result.items.0.why"));
    done(&r);
}

/* ---- work orders ---- */

static int start_workorders(void **state)
{
    struct h_opts o = {.manual_start = "2026-11-23T10:00:00+08:00"};
    (void)state;
    return desk_start(&srv, &cli, &o);
}

/* R-WO-01: a message the desk cannot solve is referred, which escalates at
 * once to the lead and the department head (unsolved, tier 2); 3 days on
 * it is stale (tier 1). Its level, 2, is explained by exactly those two
 * escalations, in log order. */
static void test_explain_work_order_level(void **state)
{
    struct escalations x = {"workorder.escalated", "order", NULL, {0}, 0};
    struct h_reply r;
    char id[24];
    json_t *l;
    (void)state;

    OK(&r, "clerk1", "workorder.log",
       "{\"kind\":\"message\",\"text\":\"要求开发商修外墙\"}");
    snprintf(id, sizeof(id), "%s", h_reply_str(&r, "events.0.data.order"));
    done(&r);
    OK(&r, "clerk1", "workorder.refer",
       "{\"order\":\"%s\",\"reason\":\"开发商责任\"}", id);
    done(&r);
    clock_to("2026-11-26T10:00:00+08:00");
    x.id = id;
    assert_true(h_log_all(&cli, collect_escalation, &x) > 0);
    assert_int_equal(x.n, 2);

    OK(&r, "clerk1", "query.work_order", "{\"order\":\"%s\",\"explain\":true}",
       id);
    assert_int_equal(h_reply_int(&r, "result.order.level", 0), 2);
    l = h_reply_get(&r, "result.order.why.level");
    assert_int_equal(json_array_size(l), 3);
    expect_entry(l, 0, x.seq[0], "workorder.escalated", "R-WO-01", WHY_NONE);
    assert_non_null(
        strstr(what_of(l, 0), "unsolved: tier 2 (cs_lead, dept_head)"));
    expect_entry(l, 1, x.seq[1], "workorder.escalated", "R-WO-01", WHY_NONE);
    assert_non_null(strstr(what_of(l, 1), "stale: tier 1 (cs_lead)"));
    expect_entry(l, 2, 0, "rule", "R-WO-01", WHY_NONE);
    assert_non_null(strstr(what_of(l, 2), "highest tier escalated: 2"));
    done(&r);
    OK(&r, "clerk1", "query.work_orders", "{\"explain\":true}");
    assert_int_equal(
        json_array_size(h_reply_get(&r, "result.items.0.why.level")), 3);
    done(&r);
    OK(&r, "clerk1", "query.work_orders", "{}");
    assert_null(h_reply_get(&r, "result.items.0.why"));
    done(&r);
}

int main(void)
{
    const struct CMUnitTest fees[] = {
        cmocka_unit_test(test_explain_overdue_amount),
        cmocka_unit_test(test_explain_overdue_as_of),
        cmocka_unit_test(test_explain_ill_typed),
        cmocka_unit_test(test_explain_waiver_masked),
    };
    const struct CMUnitTest complaints[] = {
        cmocka_unit_test(test_explain_complaint_level_and_deadlines),
    };
    const struct CMUnitTest workorders[] = {
        cmocka_unit_test(test_explain_work_order_level),
    };
    int failed = cmocka_run_group_tests(fees, start_fees, stop);
    failed += cmocka_run_group_tests(complaints, start_complaints, stop);
    return failed + cmocka_run_group_tests(workorders, start_workorders, stop);
}
