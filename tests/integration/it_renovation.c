/* tests/integration/it_renovation.c - renovation (DOMAIN.md R-REN-01..05)
 * against a real deskd with a manual clock that starts on 2026-03-02.
 * Every refusal is checked to write nothing; the tests run in clock order
 * because the clock only moves forward; the last one replays the log and
 * compares every projection table with the live one. */
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
static char owner_a[24], tenant_a[24], boss[24], owner_b[24], owner_c[24];
static char ren_a[24], ren_b[24], ren_c[24];
/* The events that set ren_a's end (its filing) and ren_b's (its
 * extension), for explain=true. */
static int64_t ren_a_filed, ren_b_extended;

#define DOCS                                                                   \
    "\"documents\":[\"licence\",\"qualification\",\"drawings\","               \
    "\"worker_list\"]"

/* R-REN-01: the documents checklist, consent, pledge, contractor. */
static void test_ren_01_filing(void **state)
{
    struct h_reply r;
    (void)state;
    desk_estate("RA", "residence", DESK_ID_NO, owner_a);
    desk_person("Tenant", "tenant", DESK_ID_NO, tenant_a);
    desk_person("Foreman", "staff", DESK_ID_NO, boss);
    refused("rule", "R-REN-01", "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"contractor\":\"HD\","
            "\"in_charge\":\"%s\",\"items\":[\"floor\"],\"documents\":"
            "[\"licence\",\"qualification\",\"worker_list\"],\"start\":"
            "\"2026-03-10\",\"end\":\"2026-05-31\"}",
            owner_a, boss);
    refused("rule", "R-REN-01", "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"contractor\":\"HD\","
            "\"in_charge\":\"%s\",\"items\":[\"floor\"]," DOCS
            ",\"start\":\"2026-03-10\",\"end\":\"2026-05-31\"}",
            tenant_a, boss);
    refused("rule", "R-REN-01", "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"contractor\":\"HD\","
            "\"in_charge\":\"%s\",\"items\":[\"bathroom\"]," DOCS
            ",\"waterproof\":true,\"start\":\"2026-03-10\",\"end\":"
            "\"2026-05-31\"}",
            owner_a, boss);
    refused("invalid", NULL, "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":"
            "[\"floor\"]," DOCS ",\"start\":\"2026-03-10\",\"end\":"
            "\"2026-05-31\"}",
            owner_a);
    refused("not_found", NULL, "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-999\",\"applicant\":\"%s\",\"contractor\":\"HD\","
            "\"in_charge\":\"%s\",\"items\":[\"floor\"]," DOCS
            ",\"start\":\"2026-03-10\",\"end\":\"2026-05-31\"}",
            owner_a, boss);
    refused("not_found", NULL, "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"contractor\":\"HD\","
            "\"in_charge\":\"P99999\",\"items\":[\"floor\"]," DOCS
            ",\"start\":\"2026-03-10\",\"end\":\"2026-05-31\"}",
            owner_a);
    /* a tenant files with the owner's consent and pledge */
    OK(&r, "clerk1", "renovation.file",
       "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"contractor\":\"HD\","
       "\"in_charge\":\"%s\",\"items\":[\"floor\",\"bathroom\"]," DOCS
       ",\"consent\":\"WS-01\",\"waterproof\":true,\"pledge\":\"CN-01\","
       "\"start\":\"2026-03-10\",\"end\":\"2026-05-31\"}",
       tenant_a, boss);
    snprintf(ren_a, sizeof(ren_a), "%s",
             h_reply_str(&r, "events.0.data.renovation"));
    ren_a_filed = h_reply_int(&r, "events.0.seq", 0);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "renovation.filed");
    assert_string_equal(h_reply_str(&r, "events.0.data.owner"), owner_a);
    assert_int_equal(h_reply_int(&r, "events.0.data.deposit_due", 0), 200000);
    done(&r);
    refused("conflict", NULL, "clerk1", "renovation.file",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"self\":true,"
            "\"items\":[\"floor\"],\"documents\":[\"drawings\","
            "\"worker_list\"],\"start\":\"2026-03-10\",\"end\":"
            "\"2026-05-31\"}",
            owner_a);
}

/* R-REN-02: at most 3 months, extensions at most 3 months at a time. */
static void test_ren_02_term_and_extension(void **state)
{
    struct h_reply r;
    (void)state;
    desk_estate("RB", "residence", DESK_ID_NO, owner_b);
    refused("rule", "R-REN-02", "clerk1", "renovation.file",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"self\":true,"
            "\"items\":[\"walls\"],\"documents\":[\"drawings\","
            "\"worker_list\"],\"start\":\"2026-03-10\",\"end\":"
            "\"2026-06-10\"}",
            owner_b);
    refused("invalid", NULL, "clerk1", "renovation.file",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"self\":true,"
            "\"items\":[\"walls\"],\"documents\":[\"drawings\","
            "\"worker_list\"],\"start\":\"2026-03-10\",\"end\":"
            "\"2026-03-09\"}",
            owner_b);
    OK(&r, "clerk1", "renovation.file",
       "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"self\":true,"
       "\"items\":[\"walls\"],\"documents\":[\"drawings\",\"worker_list\"],"
       "\"start\":\"2026-03-10\",\"end\":\"2026-06-09\"}",
       owner_b);
    snprintf(ren_b, sizeof(ren_b), "%s",
             h_reply_str(&r, "events.0.data.renovation"));
    assert_int_equal(h_reply_int(&r, "events.0.data.deposit_due", 0), 200000);
    done(&r);
    refused("rule", "R-REN-02", "clerk1", "renovation.extend",
            "{\"renovation\":\"%s\",\"end\":\"2026-09-10\"}", ren_b);
    refused("invalid", NULL, "clerk1", "renovation.extend",
            "{\"renovation\":\"%s\",\"end\":\"2026-06-01\"}", ren_b);
    refused("not_found", NULL, "clerk1", "renovation.extend",
            "{\"renovation\":\"RN0\",\"end\":\"2026-07-01\"}");
    OK(&r, "clerk1", "renovation.extend",
       "{\"renovation\":\"%s\",\"end\":\"2026-09-09\",\"reason\":\"tiles\"}",
       ren_b);
    assert_string_equal(h_reply_str(&r, "events.0.data.end"), "2026-09-09");
    ren_b_extended = h_reply_int(&r, "events.0.seq", 0);
    done(&r);
    OK(&r, "clerk1", "query.renovation", "{\"renovation\":\"%s\"}", ren_b);
    assert_string_equal(h_reply_str(&r, "result.renovation.end"), "2026-09-09");
    done(&r);
}

/* R-REN-03 deposits with receipts; R-REN-04 passes need them. */
static void test_ren_03_04_deposits_and_passes(void **state)
{
    struct h_reply r;
    (void)state;
    refused("rule", "R-REN-03", "clerk1", "renovation.pass_issue",
            "{\"renovation\":\"%s\",\"pass\":\"W1\",\"worker\":\"Zhang\"}",
            ren_a);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"RA1\","
       "\"method\":\"cash\"}",
       ren_a);
    assert_int_equal(r.nevents, 4);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "fee.billed");
    assert_string_equal(h_reply_str(&r, "events.0.data.item"),
                        "renovation_deposit");
    assert_string_equal(h_reply_str(&r, "events.0.data.payer"), owner_a);
    assert_string_equal(h_reply_str(&r, "events.2.type"), "receipt.issued");
    assert_string_equal(h_reply_str(&r, "events.2.data.renovation"), ren_a);
    assert_int_equal(h_reply_int(&r, "events.2.data.number", 0), 1);
    assert_string_equal(h_reply_str(&r, "events.3.type"),
                        "renovation.deposit_taken");
    assert_int_equal(h_reply_int(&r, "events.3.data.amount", 0), 100000);
    done(&r);
    refused("conflict", NULL, "clerk1", "renovation.pay_deposit",
            "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"RA1\","
            "\"method\":\"cash\"}",
            ren_a);
    /* still only half: no passes yet */
    refused("rule", "R-REN-03", "clerk1", "renovation.pass_issue",
            "{\"renovation\":\"%s\",\"pass\":\"W1\",\"worker\":\"Zhang\"}",
            ren_a);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"contractor\",\"book\":\"RA1\","
       "\"method\":\"pos\"}",
       ren_a);
    assert_string_equal(h_reply_str(&r, "events.0.data.payer"), boss);
    assert_int_equal(h_reply_int(&r, "events.2.data.number", 0), 2);
    done(&r);
    /* the owner renovating himself pays one deposit of 2,000 yuan */
    refused("invalid", NULL, "clerk1", "renovation.pay_deposit",
            "{\"renovation\":\"%s\",\"party\":\"contractor\",\"book\":\"RB1\","
            "\"method\":\"cash\"}",
            ren_b);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"RB1\","
       "\"method\":\"cash\"}",
       ren_b);
    assert_int_equal(h_reply_int(&r, "events.3.data.amount", 0), 200000);
    done(&r);
    OK(&r, "clerk1", "renovation.pass_issue",
       "{\"renovation\":\"%s\",\"pass\":\"W1\",\"worker\":\"Zhang\"}", ren_a);
    done(&r);
    OK(&r, "clerk1", "renovation.pass_issue",
       "{\"renovation\":\"%s\",\"pass\":\"W2\",\"worker\":\"Li\"}", ren_a);
    done(&r);
    refused("conflict", NULL, "clerk1", "renovation.pass_issue",
            "{\"renovation\":\"%s\",\"pass\":\"W1\",\"worker\":\"Wang\"}",
            ren_a);
    refused("not_found", NULL, "clerk1", "renovation.pass_return",
            "{\"renovation\":\"%s\",\"pass\":\"W9\"}", ren_a);
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"R\"}");
    assert_int_equal(h_reply_int(&r, "result.deposits_held", 0), 400000);
    assert_int_equal(h_reply_int(&r, "result.active_count", 0), 2);
    assert_int_equal(h_reply_int(&r, "result.overdue_count", -1), 0);
    done(&r);
    OK(&r, "clerk1", "query.renovation", "{\"renovation\":\"%s\"}", ren_a);
    assert_int_equal(h_reply_int(&r, "result.renovation.passes_out", 0), 2);
    assert_string_equal(h_reply_str(&r, "result.passes.1.worker"), "Li");
    done(&r);
}

/* R-REN-05: violations with notice and deadline, completion inspection,
 * refund 7 working days later (Dragon Boat 2026-06-19 is not one), all
 * passes back (R-REN-04), nothing open. */
static void test_ren_05_violation_completion_refund(void **state)
{
    struct h_reply r;
    char viol[24];
    int64_t found;
    json_t *l;
    (void)state;
    refused("invalid", "R-REN-05", "clerk1", "renovation.inspect",
            "{\"renovation\":\"%s\",\"violation\":\"facade\"}", ren_a);
    refused("invalid", NULL, "clerk1", "renovation.inspect",
            "{\"renovation\":\"%s\",\"violation\":\"drains\",\"notice\":"
            "\"ZG-1\",\"deadline\":\"2026-03-01\"}",
            ren_a);
    OK(&r, "clerk1", "renovation.inspect",
       "{\"renovation\":\"%s\",\"violation\":\"facade\",\"notice\":\"ZG-1\","
       "\"deadline\":\"2026-04-10\",\"note\":\"AC unit on the facade\"}",
       ren_a);
    assert_int_equal(r.nevents, 2);
    assert_string_equal(h_reply_str(&r, "events.1.type"),
                        "renovation.violation_found");
    snprintf(viol, sizeof(viol), "%s",
             h_reply_str(&r, "events.1.data.violation"));
    found = h_reply_int(&r, "events.1.seq", 0);
    done(&r);
    refused("rule", "R-REN-05", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    clock_to("2026-04-15T10:00:00+08:00");
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"RA/\"}");
    assert_string_equal(
        h_reply_str(&r, "result.violations_overdue.0.violation"), viol);
    assert_string_equal(h_reply_str(&r, "result.violations_overdue.0.kind"),
                        "facade");
    assert_null(h_reply_get(&r, "result.violations_overdue.0.why"));
    done(&r);
    /* explain=true (issue 16): the deadline was set by the finding
     * (R-REN-05); a day's deadline passes at the next working day's
     * opening: Friday 04-10, so Monday 04-13 08:30, the weekend between */
    OK(&r, "clerk1", "query.renovations",
       "{\"unit\":\"RA/\",\"explain\":true}");
    l = h_reply_get(&r, "result.violations_overdue.0.why.deadline");
    assert_int_equal(json_array_size(l), 2);
    expect_entry(l, 0, found, "renovation.violation_found", "R-REN-05",
                 WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "ZG-1"));
    assert_non_null(strstr(what_of(l, 0), "2026-04-10"));
    expect_entry(l, 1, 0, "calendar", "R-REN-05", WHY_NONE);
    assert_non_null(strstr(what_of(l, 1), "2026-04-13 at 08:30"));
    assert_non_null(strstr(what_of(l, 1), "2026-04-11..2026-04-12"));
    done(&r);
    refused("rule", "R-REN-05", "clerk1", "renovation.complete",
            "{\"renovation\":\"%s\",\"result\":\"passed\"}", ren_a);
    OK(&r, "clerk1", "renovation.rectify",
       "{\"renovation\":\"%s\",\"violation\":\"%s\"}", ren_a, viol);
    done(&r);
    refused("conflict", NULL, "clerk1", "renovation.rectify",
            "{\"renovation\":\"%s\",\"violation\":\"%s\"}", ren_a, viol);
    refused("invalid", NULL, "clerk1", "renovation.complete",
            "{\"renovation\":\"%s\",\"result\":\"failed\"}", ren_a);
    OK(&r, "clerk1", "renovation.complete",
       "{\"renovation\":\"%s\",\"result\":\"failed\",\"items\":[\"grout\"]}",
       ren_a);
    done(&r);
    refused("rule", "has not passed", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    /* past the end (2026-05-31) and not accepted: overdue */
    clock_to("2026-06-15T10:00:00+08:00");
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"RA/\"}");
    assert_true(h_reply_get(&r, "result.active.0.overdue") == json_true());
    assert_int_equal(h_reply_int(&r, "result.overdue_count", 0), 1);
    done(&r);
    /* explain=true: the end 05-31 (a Sunday) set by the filing (R-REN-02),
     * passing at Monday 06-01 08:30; overdue on 06-15; the two worker
     * passes still out were due back by then (R-REN-04) */
    OK(&r, "clerk1", "query.renovations",
       "{\"unit\":\"RA/\",\"explain\":true}");
    l = h_reply_get(&r, "result.active.0.why.end");
    assert_int_equal(json_array_size(l), 4);
    expect_entry(l, 0, ren_a_filed, "renovation.filed", "R-REN-02", WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "2026-05-31"));
    expect_entry(l, 1, 0, "calendar", "R-REN-02", WHY_NONE);
    assert_non_null(strstr(what_of(l, 1), "2026-06-01 at 08:30"));
    expect_entry(l, 2, 0, "rule", "R-REN-02", WHY_NONE);
    assert_non_null(strstr(what_of(l, 2), "on 2026-06-15 it is overdue"));
    expect_entry(l, 3, 0, "rule", "R-REN-04", WHY_NONE);
    assert_non_null(strstr(what_of(l, 3), "2 worker pass(es) still out"));
    done(&r);
    refused("rule", "R-REN-02", "clerk1", "renovation.pass_issue",
            "{\"renovation\":\"%s\",\"pass\":\"W3\",\"worker\":\"Zhao\"}",
            ren_a);
    OK(&r, "clerk1", "renovation.complete",
       "{\"renovation\":\"%s\",\"result\":\"passed\"}", ren_a);
    assert_string_equal(h_reply_str(&r, "events.0.data.refund_from"),
                        "2026-06-25");
    done(&r);
    refused("conflict", NULL, "clerk1", "renovation.complete",
            "{\"renovation\":\"%s\",\"result\":\"passed\"}", ren_a);
    refused("rule", "2026-06-25", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"RA/\"}");
    assert_string_equal(h_reply_str(&r, "result.refunds.0.blocked_by"),
                        "waiting");
    assert_int_equal(h_reply_int(&r, "result.active_count", -1), 0);
    done(&r);
    clock_to("2026-06-25T10:00:00+08:00");
    refused("rule", "R-REN-04", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    refused("forbidden", NULL, "clerk1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    OK(&r, "clerk1", "renovation.pass_return",
       "{\"renovation\":\"%s\",\"pass\":\"W1\"}", ren_a);
    done(&r);
    refused("conflict", NULL, "clerk1", "renovation.pass_return",
            "{\"renovation\":\"%s\",\"pass\":\"W1\"}", ren_a);
    refused("rule", "1 worker pass", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    OK(&r, "clerk1", "renovation.pass_return",
       "{\"renovation\":\"%s\",\"pass\":\"W2\"}", ren_a);
    done(&r);
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"RA/\"}");
    assert_true(h_reply_get(&r, "result.refunds.0.due") == json_true());
    done(&r);
    OK(&r, "lead1", "renovation.refund", "{\"renovation\":\"%s\"}", ren_a);
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 200000);
    assert_int_equal(h_reply_int(&r, "events.0.data.contractor_amount", 0),
                     100000);
    done(&r);
    refused("conflict", NULL, "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_a);
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"R\"}");
    assert_int_equal(h_reply_int(&r, "result.deposits_held", 0), 200000);
    assert_int_equal(json_array_size(h_reply_get(&r, "result.refunds")), 0);
    done(&r);
}

/* R-REN-05: a violation found after acceptance blocks the refund too. */
static void test_ren_05_violation_after_acceptance(void **state)
{
    struct h_reply r;
    (void)state;
    desk_estate("RC", "residence", DESK_ID_NO, owner_c);
    OK(&r, "clerk1", "renovation.file",
       "{\"unit\":\"RC/1-101\",\"applicant\":\"%s\",\"self\":true,"
       "\"items\":[\"walls\"],\"documents\":[\"drawings\",\"worker_list\"],"
       "\"start\":\"2026-06-26\",\"end\":\"2026-07-31\"}",
       owner_c);
    snprintf(ren_c, sizeof(ren_c), "%s",
             h_reply_str(&r, "events.0.data.renovation"));
    done(&r);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"RC1\","
       "\"method\":\"cash\"}",
       ren_c);
    done(&r);
    OK(&r, "clerk1", "renovation.complete",
       "{\"renovation\":\"%s\",\"result\":\"passed\"}", ren_c);
    done(&r);
    OK(&r, "clerk1", "renovation.inspect",
       "{\"renovation\":\"%s\",\"violation\":\"structure\",\"notice\":"
       "\"ZG-2\",\"deadline\":\"2026-07-31\"}",
       ren_c);
    done(&r);
    clock_to("2026-07-10T10:00:00+08:00");
    refused("rule", "violation(s) still open", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_c);
}

/* explain=true (issue 16): an extended term's end is explained by the
 * extension that set it (R-REN-02), not by the filing. */
static void test_ren_explain_extended_end(void **state)
{
    struct h_reply r;
    json_t *l;
    (void)state;
    OK(&r, "clerk1", "query.renovations",
       "{\"unit\":\"RB/\",\"explain\":true}");
    assert_string_equal(h_reply_str(&r, "result.active.0.end"), "2026-09-09");
    l = h_reply_get(&r, "result.active.0.why.end");
    expect_entry(l, 0, ren_b_extended, "renovation.extended", "R-REN-02",
                 WHY_NONE);
    assert_non_null(strstr(what_of(l, 0), "2026-09-09"));
    done(&r);
}

/* Replaying the log gives renovation tables identical to the live ones. */
static void test_ren_rebuild_equals_live(void **state)
{
    (void)state;
    rebuild_equals_live(&srv);
}

static int setup(void **state)
{
    (void)state;
    return desk_start(&srv, &cli, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

int main(void)
{
    /* in clock order: the manual clock only moves forward */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ren_01_filing),
        cmocka_unit_test(test_ren_02_term_and_extension),
        cmocka_unit_test(test_ren_03_04_deposits_and_passes),
        cmocka_unit_test(test_ren_05_violation_completion_refund),
        cmocka_unit_test(test_ren_05_violation_after_acceptance),
        cmocka_unit_test(test_ren_explain_extended_end),
        cmocka_unit_test(test_ren_rebuild_equals_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
