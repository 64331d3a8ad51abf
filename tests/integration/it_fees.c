/* tests/integration/it_fees.c - fees, payments, receipts and arrears
 * (DOMAIN.md R-FEE-01..10) against a real deskd with a manual clock. Each
 * test uses its own estate so the tests do not see each other's bills. */
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
/* The fee tests name no rule in their refusals. */
static void refused_fee(const char *code, const char *actor, const char *name,
                        const char *body)
{
    refused(code, NULL, actor, name, "%s", body);
}

/* An estate with one building and n residences of the given areas, each
 * owned by a new person from 2026-01-01. Unit i is "<e>/1-10<i>". */
static void estate(const char *e, int n, const char *const *areas)
{
    struct h_reply r;
    OK(&r, "lead1", "estate.register", "{\"code\":\"%s\",\"name\":\"%s\"}", e,
       e);
    done(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"%s\",\"building\":\"1\"}", e);
    done(&r);
    for (int i = 0; i < n; i++) {
        char person[24];
        OK(&r, "clerk1", "unit.register",
           "{\"estate\":\"%s\",\"building\":\"1\",\"room\":\"10%d\","
           "\"area\":\"%s\",\"type\":\"residence\"}",
           e, i, areas[i]);
        done(&r);
        OK(&r, "clerk1", "person.register",
           "{\"name\":\"Owner %s %d\",\"kind\":\"owner\"}", e, i);
        snprintf(person, sizeof(person), "%s",
                 h_reply_str(&r, "events.0.data.person"));
        done(&r);
        OK(&r, "lead1", "unit.transfer",
           "{\"unit\":\"%s/1-10%d\",\"to\":\"%s\",\"effective\":"
           "\"2025-12-01\"}",
           e, i, person);
        done(&r);
    }
}

static int64_t overdue_total(const char *e, const char *as_of)
{
    struct h_reply r;
    int64_t t;
    if (as_of)
        OK(&r, "clerk1", "query.overdue",
           "{\"estate\":\"%s\",\"as_of\":\"%s\"}", e, as_of);
    else
        OK(&r, "clerk1", "query.overdue", "{\"estate\":\"%s\"}", e);
    t = h_reply_int(&r, "result.total", -1);
    done(&r);
    return t;
}

static const char *const two_units[] = {"120.50", "88.00"};
static const char *const hundred[] = {"100.00", "100.00"};

/* R-FEE-02 billing run; R-FEE-03 partial payments, excess, bad amounts;
 * R-FEE-04 receipt numbers per book, dates never back, voids. */
static void test_fee_02_03_04_bill_pay_receipt_void(void **state)
{
    struct h_reply r;
    char pay1[24];
    (void)state;

    estate("FA", 2, two_units);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FA\",\"period\":\"2026-01\"}");
    assert_int_equal(r.nevents, 2);
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 30125);
    assert_string_equal(h_reply_str(&r, "events.0.data.due"), "2026-01-15");
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FA\",\"period\":\"2026-02\"}");
    done(&r);
    refused_fee("conflict", "lead1", "fee.bill_run",
                "{\"estate\":\"FA\",\"period\":\"2026-02\"}");
    refused_fee("forbidden", "clerk1", "fee.bill_run",
                "{\"estate\":\"FA\",\"period\":\"2026-03\"}");
    assert_int_equal(overdue_total("FA", NULL), 2 * 30125 + 2 * 22000);

    /* R-FEE-03: one payment across two bills, oldest first */
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FA/1-100\",\"amount\":40000,\"method\":\"cash\","
       "\"book\":\"FA1\"}");
    assert_int_equal(h_reply_int(&r, "events.0.data.alloc.0.1", 0), 30125);
    assert_int_equal(h_reply_int(&r, "events.0.data.alloc.1.1", 0), 9875);
    assert_int_equal(h_reply_int(&r, "events.1.data.number", 0), 1);
    snprintf(pay1, sizeof(pay1), "%s",
             h_reply_str(&r, "events.0.data.payment"));
    done(&r);
    assert_int_equal(overdue_total("FA", NULL), 20250 + 2 * 22000);
    refused_fee("rule", "clerk1", "fee.pay",
                "{\"unit\":\"FA/1-100\",\"amount\":30000,\"method\":\"cash\","
                "\"book\":\"FA1\"}");
    refused_fee("invalid", "clerk1", "fee.pay",
                "{\"unit\":\"FA/1-100\",\"amount\":0,\"method\":\"cash\","
                "\"book\":\"FA1\"}");
    refused_fee("invalid", "clerk1", "fee.pay",
                "{\"unit\":\"FA/1-100\",\"amount\":-5,\"method\":\"cash\","
                "\"book\":\"FA1\"}");
    refused_fee("invalid", "clerk1", "fee.pay",
                "{\"unit\":\"FA/1-100\",\"amount\":100.5,\"method\":\"cash\","
                "\"book\":\"FA1\"}");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FA/1-100\",\"amount\":30000,\"method\":\"pos\","
       "\"book\":\"FA1\",\"prepay_excess\":true}");
    assert_int_equal(h_reply_int(&r, "events.0.data.prepaid", 0), 9750);
    assert_int_equal(h_reply_int(&r, "events.1.data.number", 0), 2);
    done(&r);

    /* R-FEE-04: numbers per book; a receipt date never goes back */
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FA/1-101\",\"amount\":1000,\"method\":\"cash\","
       "\"book\":\"FA2\"}");
    assert_int_equal(h_reply_int(&r, "events.1.data.number", 0), 1);
    done(&r);
    refused_fee("rule", "clerk1", "fee.pay",
                "{\"unit\":\"FA/1-101\",\"amount\":1000,\"method\":\"cash\","
                "\"book\":\"FA2\",\"date\":\"2026-03-01\"}");
    /* another book may take that date, but not for bills issued on 03-02
     * (R-FEE-03: a payment cannot predate the bill it settles) */
    refused("rule", "R-FEE-03", "clerk1", "fee.pay",
            "{\"unit\":\"FA/1-101\",\"amount\":1000,\"method\":\"debit\","
            "\"book\":\"FA3\",\"date\":\"2026-03-01\"}");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FA/1-101\",\"amount\":1000,\"method\":\"debit\","
       "\"book\":\"FA3\",\"date\":\"2026-03-02\"}");
    done(&r);

    /* R-FEE-04: a wrong payment is voided, not edited; bills reopen */
    refused_fee("forbidden", "clerk1", "fee.void_payment",
                "{\"payment\":\"Y1\",\"reason\":\"x\"}");
    OK(&r, "lead1", "fee.void_payment",
       "{\"payment\":\"%s\",\"reason\":\"wrong unit\"}", pay1);
    done(&r);
    /* unit 100 owes its 40,000 again; unit 101 paid 2,000 of 44,000 */
    assert_int_equal(overdue_total("FA", NULL), 40000 + 42000);
    {
        char body[128];
        snprintf(body, sizeof(body),
                 "{\"payment\":\"%s\",\"reason\":\"again\"}", pay1);
        refused_fee("conflict", "lead1", "fee.void_payment", body);
    }
    OK(&r, "clerk1", "query.receipts", "{\"book\":\"FA1\"}");
    assert_int_equal(h_reply_int(&r, "result.receipts.0.number", 0), 1);
    assert_true(json_is_true(h_reply_get(&r, "result.receipts.0.voided")));
    assert_int_equal(h_reply_int(&r, "result.receipts.1.number", 0), 2);
    assert_true(json_is_false(h_reply_get(&r, "result.receipts.1.voided")));
    done(&r);
    OK(&r, "clerk1", "query.statement", "{\"unit\":\"FA/1-100\"}");
    assert_string_equal(h_reply_str(&r, "result.lines.2.kind"), "payment");
    assert_int_equal(h_reply_int(&r, "result.lines.2.receipt_no", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.balance", -1), 40000 - 9750);
    assert_int_equal(h_reply_int(&r, "result.prepaid_now", -1), 9750);
    done(&r);
}

/* R-FEE-05: fee start from the move-in date, prepayment applied by the
 * billing run. */
static void test_fee_05_move_in_start_and_prepayment(void **state)
{
    struct h_reply r;
    (void)state;

    estate("FB", 2, hundred);
    OK(&r, "clerk1", "fee.move_in",
       "{\"unit\":\"FB/1-100\",\"date\":\"2026-03-10\"}");
    assert_string_equal(h_reply_str(&r, "events.0.data.start"), "2026-03-15");
    assert_int_equal(h_reply_int(&r, "events.0.data.prepay_due", 0), 3 * 25000);
    done(&r);
    OK(&r, "clerk1", "fee.move_in",
       "{\"unit\":\"FB/1-101\",\"date\":\"2026-03-20\"}");
    assert_string_equal(h_reply_str(&r, "events.0.data.start"), "2026-04-01");
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FB/1-100\",\"amount\":75000,\"method\":\"cash\","
       "\"book\":\"FB1\",\"prepay_excess\":true}");
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FB\",\"period\":\"2026-03\"}");
    /* only 100 is billed: 17 of March's 31 days of 25,000, then settled
     * from the prepayment; 101 starts in April */
    assert_int_equal(r.nevents, 2);
    assert_string_equal(h_reply_str(&r, "events.0.data.unit"), "FB/1-100");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 13710);
    assert_string_equal(h_reply_str(&r, "events.1.type"),
                        "fee.prepayment_applied");
    done(&r);
    OK(&r, "clerk1", "query.statement", "{\"unit\":\"FB/1-100\"}");
    assert_int_equal(h_reply_int(&r, "result.prepaid_now", -1), 75000 - 13710);
    assert_int_equal(h_reply_int(&r, "result.balance", 1), 13710 - 75000);
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FB\",\"period\":\"2026-04\"}");
    assert_int_equal(h_reply_int(&r, "event_count", 0), 3); /* 2 bills + 1 */
    done(&r);
}

/* R-FEE-01: a new rate applies from its date; earlier bills keep theirs. */
static void test_fee_01_rate_change_mid_year(void **state)
{
    struct h_reply r;
    (void)state;

    estate("FC", 1, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FC\",\"period\":\"2026-06\"}");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 25000);
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FC\",\"period\":\"2026-07\"}");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 30000);
    assert_int_equal(h_reply_int(&r, "events.0.data.rate", 0), 300);
    done(&r);
    OK(&r, "clerk1", "query.statement", "{\"unit\":\"FC/1-100\"}");
    assert_int_equal(h_reply_int(&r, "result.lines.0.debit", 0), 25000);
    assert_int_equal(h_reply_int(&r, "result.lines.1.debit", 0), 30000);
    done(&r);
    /* one-off items: each x quantity, quoted amounts, monthly items refused */
    OK(&r, "clerk1", "fee.charge",
       "{\"unit\":\"FC/1-100\",\"item\":\"copy_a4\",\"quantity\":10}");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 500);
    done(&r);
    refused_fee("invalid", "clerk1", "fee.charge",
                "{\"unit\":\"FC/1-100\",\"item\":\"housekeeping\"}");
    refused_fee("invalid", "clerk1", "fee.charge",
                "{\"unit\":\"FC/1-100\",\"item\":\"property_fee\"}");
    refused_fee("invalid", "clerk1", "fee.charge",
                "{\"unit\":\"FC/1-100\",\"item\":\"caviar\",\"amount\":5}");
}

static const char *unit_field(struct h_reply *r, int i, const char *f)
{
    char path[64];
    snprintf(path, sizeof(path), "result.units.%d.%s", i, f);
    return h_reply_str(r, path);
}

/* R-FEE-06: aging buckets at their edges, the derived chase stage, notices,
 * hardship extensions, the large-debtor list; a payment dated on the due
 * date is not overdue. */
static void test_fee_06_aging_stages_extension(void **state)
{
    static const struct {
        const char *as_of, *bucket, *stage;
        int days;
    } edges[] = {
        {"2026-03-16", "1-30", "reminder", 1},
        {"2026-04-14", "1-30", "reminder", 30},
        {"2026-04-15", "31-60", "first_notice", 31},
        {"2026-05-14", "31-60", "first_notice", 60},
        {"2026-05-15", "61-90", "second_notice", 61},
        {"2026-06-13", "61-90", "second_notice", 90},
        {"2026-06-14", ">90", "legal", 91},
    };
    struct h_reply r;
    (void)state;

    estate("FD", 2, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FD\",\"period\":\"2026-03\"}");
    done(&r);
    clock_to("2026-03-15T17:00:00+08:00");
    assert_int_equal(overdue_total("FD", NULL), 0); /* due today: in time */
    clock_to("2026-03-16T09:00:00+08:00");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FD/1-101\",\"amount\":25000,\"method\":\"debit\","
       "\"book\":\"FD1\",\"date\":\"2026-03-15\"}");
    done(&r);
    assert_int_equal(overdue_total("FD", "2026-03-15"), 0);
    for (size_t i = 0; i < sizeof(edges) / sizeof(*edges); i++) {
        OK(&r, "clerk1", "query.overdue",
           "{\"estate\":\"FD\",\"as_of\":\"%s\"}", edges[i].as_of);
        assert_int_equal(h_reply_int(&r, "result.count", 0), 1);
        assert_string_equal(unit_field(&r, 0, "unit"), "FD/1-100");
        assert_string_equal(unit_field(&r, 0, "bucket"), edges[i].bucket);
        assert_string_equal(unit_field(&r, 0, "stage"), edges[i].stage);
        assert_int_equal(h_reply_int(&r, "result.units.0.days_overdue", 0),
                         edges[i].days);
        done(&r);
    }
    refused_fee("rule", "clerk1", "fee.notice",
                "{\"unit\":\"FD/1-100\",\"stage\":\"second\"}");
    OK(&r, "clerk1", "fee.notice",
       "{\"unit\":\"FD/1-100\",\"stage\":\"first\"}");
    done(&r);
    refused_fee("forbidden", "clerk1", "fee.extension",
                "{\"unit\":\"FD/1-100\",\"until\":\"2026-06-30\","
                "\"reason\":\"ill\"}");
    OK(&r, "mgr1", "fee.extension",
       "{\"unit\":\"FD/1-100\",\"until\":\"2026-06-30\",\"reason\":\"ill\"}");
    done(&r);
    OK(&r, "clerk1", "query.overdue",
       "{\"estate\":\"FD\",\"as_of\":\"2026-06-14\"}");
    assert_string_equal(unit_field(&r, 0, "stage"), "extension");
    assert_string_equal(unit_field(&r, 0, "notice"), "first");
    assert_string_equal(unit_field(&r, 0, "extension_until"), "2026-06-30");
    done(&r);

    /* large debtors: 25,000 is under the 300,000 threshold; a big quoted
     * charge (a collection) puts the unit on the list once overdue */
    OK(&r, "clerk1", "query.large_debtors",
       "{\"estate\":\"FD\",\"as_of\":\"2026-04-01\"}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 0);
    done(&r);
    OK(&r, "clerk1", "fee.charge",
       "{\"unit\":\"FD/1-100\",\"item\":\"collection\",\"amount\":400000}");
    done(&r);
    OK(&r, "clerk1", "query.large_debtors",
       "{\"estate\":\"FD\",\"as_of\":\"2026-04-01\"}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.units.0.amount", 0), 425000);
    done(&r);
}

static char *units_json(struct h_reply *r)
{
    return json_dumps(h_reply_get(r, "result.units"),
                      JSON_COMPACT | JSON_SORT_KEYS);
}

/* R-FEE-07: the list as of a past day, computed after later (and
 * backdated) payments were recorded, equals the list that was live then. */
static void test_fee_07_as_of_equals_live(void **state)
{
    struct h_reply r;
    char *live, *later, *stmt_live, *stmt_later;
    (void)state;

    estate("FE", 2, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FE\",\"period\":\"2026-03\"}");
    done(&r);
    clock_to("2026-03-31T20:00:00+08:00");
    OK(&r, "clerk1", "query.overdue", "{\"estate\":\"FE\"}");
    live = units_json(&r);
    assert_int_equal(h_reply_int(&r, "result.count", 0), 2);
    done(&r);
    OK(&r, "clerk1", "query.statement", "{\"unit\":\"FE/1-100\"}");
    stmt_live = json_dumps(h_reply_get(&r, "result.lines"), JSON_COMPACT);
    done(&r);

    clock_to("2026-04-02T10:00:00+08:00");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FE/1-100\",\"amount\":25000,\"method\":\"cash\","
       "\"book\":\"FE1\"}");
    done(&r);
    OK(&r, "clerk1", "fee.pay", /* a debit that settled on 03-31 */
       "{\"unit\":\"FE/1-101\",\"amount\":25000,\"method\":\"debit\","
       "\"book\":\"FE2\",\"date\":\"2026-03-31\"}");
    done(&r);
    assert_int_equal(overdue_total("FE", NULL), 0);
    OK(&r, "clerk1", "query.overdue",
       "{\"estate\":\"FE\",\"as_of\":\"2026-03-31\"}");
    later = units_json(&r);
    done(&r);
    assert_string_equal(later, live);
    OK(&r, "clerk1", "query.statement",
       "{\"unit\":\"FE/1-100\",\"as_of\":\"2026-03-31\"}");
    stmt_later = json_dumps(h_reply_get(&r, "result.lines"), JSON_COMPACT);
    done(&r);
    assert_string_equal(stmt_later, stmt_live);
    free(live);
    free(later);
    free(stmt_live);
    free(stmt_later);
}

/* R-FEE-08: late fees only where a policy is configured, each assessment
 * its own bill with its inputs, capped; waivers by a manager. */
static void test_fee_08_late_fees_and_waivers(void **state)
{
    struct h_reply r;
    char late[24];
    (void)state;

    estate("FF", 1, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FF\",\"period\":\"2026-03\"}");
    done(&r);
    /* nothing due yet: the run is recorded all the same, charging
     * nothing (what-if runs it again under another policy) */
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    assert_int_equal(r.nevents, 1);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "fee.late_fee_run");
    assert_string_equal(h_reply_str(&r, "events.0.stream"), "estate:FF");
    assert_int_equal(h_reply_int(&r, "events.0.data.bills", -1), 0);
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", -1), 0);
    done(&r);
    refused_fee("not_found", "lead1", "fee.assess_late",
                "{\"estate\":\"NOPE\"}");
    clock_to("2026-04-24T09:00:00+08:00"); /* 40 days after the due date */
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    assert_string_equal(h_reply_str(&r, "events.0.type"),
                        "fee.late_fee_assessed");
    /* the run, last: one bill, its amount in fen (R-GEN-04) */
    assert_int_equal(r.nevents, 2);
    assert_string_equal(h_reply_str(&r, "events.1.type"), "fee.late_fee_run");
    assert_int_equal(h_reply_int(&r, "events.1.data.bills", -1), 1);
    assert_int_equal(h_reply_int(&r, "events.1.data.amount", -1), 125);
    /* 10 days past the 30-day grace x 5 bp x 25,000 fen */
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 125);
    assert_int_equal(h_reply_int(&r, "events.0.data.days", 0), 10);
    assert_int_equal(h_reply_int(&r, "events.0.data.principal", 0), 25000);
    snprintf(late, sizeof(late), "%s", h_reply_str(&r, "events.0.data.bill"));
    done(&r);
    /* the same day again: nothing more is due, nothing charged twice */
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    assert_int_equal(r.nevents, 1);
    assert_int_equal(h_reply_int(&r, "events.0.data.bills", -1), 0);
    done(&r);
    clock_to("2026-05-04T09:00:00+08:00");
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 125);
    assert_int_equal(h_reply_int(&r, "events.0.data.previously", 0), 125);
    done(&r);
    clock_to("2026-12-31T09:00:00+08:00"); /* capped at 10% */
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 2500 - 250);
    done(&r);
    {
        char body[128];
        snprintf(body, sizeof(body), "{\"bill\":\"%s\",\"reason\":\"x\"}",
                 late);
        refused_fee("forbidden", "clerk1", "fee.waive", body);
    }
    OK(&r, "mgr1", "fee.waive",
       "{\"bill\":\"%s\",\"reason\":\"first time late\"}", late);
    assert_string_equal(h_reply_str(&r, "events.0.data.approver"), "mgr1");
    done(&r);
    /* the bill, plus the second late fee; the first is waived and the
     * third falls due today, so it is not overdue yet */
    assert_int_equal(overdue_total("FF", NULL), 25000 + 125);
    OK(&r, "clerk1", "query.statement", "{\"unit\":\"FF/1-100\"}");
    assert_int_equal(h_reply_int(&r, "result.balance", 0), 25000 + 2500 - 125);
    done(&r);
}

/* Regression (R-FEE-08): a late-fee run for a past day charges what was
 * unpaid on that day, even when the bill has been paid since. */
static void test_fee_08_late_fee_for_a_past_day(void **state)
{
    struct h_reply r;
    int64_t amount;
    (void)state;

    clock_to("2026-12-31T09:00:00+08:00");
    estate("FL", 1, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FL\",\"period\":\"2026-09\"}");
    amount = h_reply_int(&r, "events.0.data.amount", 0);
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FL/1-100\",\"amount\":%lld,\"method\":\"cash\","
       "\"book\":\"FL1\"}",
       (long long)amount);
    done(&r);
    OK(&r, "lead1", "fee.assess_late",
       "{\"estate\":\"FL\",\"date\":\"2026-11-30\"}");
    assert_string_equal(h_reply_str(&r, "events.0.type"),
                        "fee.late_fee_assessed");
    assert_int_equal(h_reply_int(&r, "events.0.data.principal", 0), amount);
    /* due 09-15, 30 days' grace, so 46 days late on 11-30 */
    assert_int_equal(h_reply_int(&r, "events.0.data.days", 0), 46);
    done(&r);
}

/* R-FEE-08: with no policy in the config, late fees are off. */
static void test_fee_08_late_fees_off_by_default(void **state)
{
    struct h_server plain;
    struct h_client c;
    struct h_reply r;
    (void)state;

    assert_int_equal(h_server_start(&plain, NULL), 0);
    assert_int_equal(h_client_open(&c, plain.cmd_ep), 0);
    assert_int_equal(h_call(&c,
                            "{\"id\":\"x\",\"cmd\":\"fee.assess_late\","
                            "\"actor\":\"lead1\",\"body\":{\"estate\":"
                            "\"HY\"}}",
                            &r),
                     0);
    assert_false(r.ok);
    assert_string_equal(r.code, "rule");
    assert_non_null(strstr(r.message, "R-FEE-08"));
    h_reply_release(&r);
    h_client_close(&c);
    h_server_stop(&plain);
    h_server_cleanup(&plain);
}

/* R-FEE-10: no transfer while the old owner owes; old arrears stay his. */
static void test_fee_10_transfer_needs_settled_fees(void **state)
{
    struct h_reply r;
    char buyer[24];
    (void)state;

    estate("FG", 1, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FG\",\"period\":\"2026-03\"}");
    done(&r);
    OK(&r, "clerk1", "person.register",
       "{\"name\":\"Buyer\",\"kind\":\"owner\"}");
    snprintf(buyer, sizeof(buyer), "%s",
             h_reply_str(&r, "events.0.data.person"));
    done(&r);
    cmd(&r, "lead1", "unit.transfer",
        "{\"unit\":\"FG/1-100\",\"to\":\"%s\",\"effective\":\"2027-01-01\"}",
        buyer);
    assert_false(r.ok);
    assert_string_equal(r.code, "rule");
    assert_non_null(strstr(r.message, "R-FEE-10"));
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FG/1-100\",\"amount\":25000,\"method\":\"transfer\","
       "\"book\":\"FG1\"}");
    done(&r);
    OK(&r, "lead1", "unit.transfer",
       "{\"unit\":\"FG/1-100\",\"to\":\"%s\",\"effective\":\"2027-01-01\","
       "\"title_doc\":\"T-2027-001\"}",
       buyer);
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FG\",\"period\":\"2027-01\"}");
    assert_string_equal(h_reply_str(&r, "events.0.data.payer"), buyer);
    done(&r);
}

/* Daily takings per desk and method, voids as negative lines. */
static void test_fee_takings_per_desk_and_method(void **state)
{
    struct h_reply r;
    (void)state;

    estate("FH", 1, hundred);
    assert_int_equal(
        h_call(&cli,
               "{\"id\":\"th1\",\"cmd\":\"fee.pay\",\"actor\":\"clerk1\","
               "\"desk\":\"A\",\"body\":{\"unit\":\"FH/1-100\",\"amount\":"
               "700,\"method\":\"cash\",\"book\":\"FH1\","
               "\"prepay_excess\":true}}",
               &r),
        0);
    assert_true(r.ok);
    done(&r);
    assert_int_equal(
        h_call(&cli,
               "{\"id\":\"th2\",\"cmd\":\"fee.pay\",\"actor\":\"clerk1\","
               "\"desk\":\"B\",\"body\":{\"unit\":\"FH/1-100\",\"amount\":"
               "300,\"method\":\"pos\",\"book\":\"FH2\","
               "\"prepay_excess\":true}}",
               &r),
        0);
    assert_true(r.ok);
    done(&r);
    OK(&r, "clerk1", "query.takings", "{\"desk\":\"A\"}");
    assert_int_equal(h_reply_int(&r, "result.total", 0), 700);
    assert_string_equal(h_reply_str(&r, "result.lines.0.method"), "cash");
    done(&r);
}

/* R-GEN-04: sums stay integer fen end to end: three payments of a third
 * of 100.00 yuan each (3333, 3333, 3334 fen) add up to exactly 10000 fen
 * in the takings, with no rounding anywhere, and a payment in fractional
 * or string form is refused and writes nothing. */
static void test_gen04_sums_are_exact_fen(void **state)
{
    static const int parts[] = {3333, 3333, 3334};
    struct h_reply r;
    (void)state;

    estate("GF", 1, hundred);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            h_callf(&cli, &r,
                    "{\"id\":\"g4-%d\",\"cmd\":\"fee.pay\",\"actor\":"
                    "\"clerk1\",\"desk\":\"G4\",\"body\":{\"unit\":"
                    "\"GF/1-100\",\"amount\":%d,\"method\":\"cash\","
                    "\"book\":\"GF1\",\"prepay_excess\":true}}",
                    i, parts[i]),
            0);
        if (!r.ok)
            fail_msg("fee.pay: %s", h_reply_text(&r));
        done(&r);
    }
    OK(&r, "clerk1", "query.takings", "{\"desk\":\"G4\"}");
    assert_int_equal(h_reply_int(&r, "result.total", 0), 10000);
    assert_int_equal(h_reply_int(&r, "result.lines.0.amount", 0), 10000);
    assert_int_equal(h_reply_int(&r, "result.lines.0.count", 0), 3);
    done(&r);
    refused("invalid", "whole number", "clerk1", "fee.pay",
            "{\"unit\":\"GF/1-100\",\"amount\":33.33,\"method\":"
            "\"cash\",\"book\":\"GF1\",\"prepay_excess\":true}");
    refused("invalid", NULL, "clerk1", "fee.pay",
            "{\"unit\":\"GF/1-100\",\"amount\":\"3333\",\"method\":"
            "\"cash\",\"book\":\"GF1\",\"prepay_excess\":true}");
}

/* R-FEE-03: a payment settles the bills it names, not the oldest; a bill
 * of another unit, or a settled one, cannot be named. */
static void test_fee_03_pays_named_bills(void **state)
{
    struct h_reply r;
    char jan[24], feb[24], other[24], body[256];
    (void)state;

    estate("FN", 2, two_units);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FN\",\"period\":\"2026-01\"}");
    snprintf(jan, sizeof(jan), "%s", h_reply_str(&r, "events.0.data.bill"));
    snprintf(other, sizeof(other), "%s", h_reply_str(&r, "events.1.data.bill"));
    assert_string_equal(h_reply_str(&r, "events.1.data.unit"), "FN/1-101");
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FN\",\"period\":\"2026-02\"}");
    snprintf(feb, sizeof(feb), "%s", h_reply_str(&r, "events.0.data.bill"));
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FN/1-100\",\"amount\":30125,\"method\":\"transfer\","
       "\"book\":\"FN1\",\"bills\":[\"%s\"]}",
       feb);
    assert_string_equal(h_reply_str(&r, "events.0.data.alloc.0.0"), feb);
    done(&r);
    /* January still owes all of it, February nothing */
    assert_int_equal(overdue_total("FN", NULL), 30125 + 2 * 22000);
    snprintf(body, sizeof(body),
             "{\"unit\":\"FN/1-100\",\"amount\":100,\"method\":\"cash\","
             "\"book\":\"FN1\",\"bills\":[\"%s\"]}",
             other);
    refused_fee("not_found", "clerk1", "fee.pay", body);
    snprintf(body, sizeof(body),
             "{\"unit\":\"FN/1-100\",\"amount\":100,\"method\":\"cash\","
             "\"book\":\"FN1\",\"bills\":[\"%s\"]}",
             feb);
    refused_fee("conflict", "clerk1", "fee.pay", body);
    snprintf(body, sizeof(body),
             "{\"unit\":\"FN/1-100\",\"amount\":100,\"method\":\"cash\","
             "\"book\":\"FN1\",\"bills\":[\"B999999\"]}");
    refused_fee("not_found", "clerk1", "fee.pay", body);
    /* and January can still be named and settled on its own */
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FN/1-100\",\"amount\":30125,\"method\":\"cash\","
       "\"book\":\"FN1\",\"bills\":[\"%s\"]}",
       jan);
    done(&r);
    assert_int_equal(overdue_total("FN", NULL), 2 * 22000);
}

/* Regression: a payment planned over the oldest bills (at most 64) must
 * not send money to prepayment while newer bills stay open (R-FEE-03). */
static void test_fee_03_more_bills_than_a_plan(void **state)
{
    static const char *const one[] = {"50.00"};
    struct h_reply r;
    (void)state;

    estate("FM", 1, one);
    for (int m = 0; m < 65; m++) {
        OK(&r, "lead1", "fee.bill_run",
           "{\"estate\":\"FM\",\"period\":\"%04d-%02d\"}", 2026 + m / 12,
           m % 12 + 1);
        done(&r);
    }
    /* 50 m²: 12,500 fen a month, 15,000 from the rate change in July; the
     * oldest 64 bills owe 6 x 12,500 + 58 x 15,000 = 945,000 */
    refused("invalid", "64", "clerk1", "fee.pay",
            "{\"unit\":\"FM/1-100\",\"amount\":960000,\"method\":\"transfer\","
            "\"book\":\"FM1\",\"prepay_excess\":true}");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FM/1-100\",\"amount\":945000,\"method\":\"transfer\","
       "\"book\":\"FM1\"}");
    done(&r);
    assert_int_equal(overdue_total("FM", "2031-12-31"), 15000);
}

/* Replaying the log gives fee tables identical to the live ones. */
static void test_fee_rebuild_equals_live(void **state)
{
    (void)state;
    rebuild_equals_live(&srv);
}

static char fees_path[H_PATH_MAX];

/* The real schedule plus a rate change on 2026-07-01 and a late-fee
 * policy for the property fee. */
static int setup(void **state)
{
    char ini[2 * H_PATH_MAX], buf[4096];
    struct h_opts o = {0};
    FILE *in = fopen("config/fees.tsv", "r"), *out;
    size_t n;
    (void)state;

    snprintf(fees_path, sizeof(fees_path), "/tmp/deskd-fees-%d.tsv",
             (int)getpid());
    out = fopen(fees_path, "w");
    if (!in || !out)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fputs("property_fee\tresidence\t2026-07-01\t300\tm2_month\n", out);
    fclose(in);
    fclose(out);
    snprintf(ini, sizeof(ini),
             "[fees]\nrates = %s\n"
             "late_fee.property_fee = grace=30 daily_bp=5 cap_bp=1000\n",
             fees_path);
    o.extra_ini = ini;
    if (h_server_start_opts(&srv, &o))
        return -1;
    desk = &cli;
    return h_client_open(&cli, srv.cmd_ep);
}

static int teardown(void **state)
{
    (void)state;
    h_client_close(&cli);
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    remove(fees_path);
    return 0;
}

/* R-FEE-03: a payment cannot be dated before the bill it settles was
 * issued; on the day of issue it can. Refusals write nothing. */
static void test_fee_03_payment_not_before_bill(void **state)
{
    struct h_reply r;
    (void)state;

    clock_to("2027-02-01T09:00:00+08:00");
    estate("FP", 1, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FP\",\"period\":\"2027-01\"}");
    done(&r);
    refused("rule", "R-FEE-03", "clerk1", "fee.pay",
            "{\"unit\":\"FP/1-100\",\"amount\":100,\"method\":\"cash\","
            "\"book\":\"FP1\",\"date\":\"2027-01-31\"}");
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FP/1-100\",\"amount\":100,\"method\":\"cash\","
       "\"book\":\"FP1\",\"date\":\"2027-02-01\"}");
    done(&r);
}

/* What a billing run billed in all (its fee.billed events). */
static int64_t billed(struct h_reply *r)
{
    int64_t t = 0;
    json_t *ev = h_reply_get(r, "events");

    for (size_t i = 0; i < json_array_size(ev); i++)
        t += json_integer_value(
            h_json_path(json_array_get(ev, i), "data.amount"));
    return t;
}

/* R-FEE-06/07: the overdue list gives each unpaid bill on its own line
 * (period, item, what it still owes, its own days overdue and bucket)
 * beside the unit's total, as of any day; the deadline a second notice
 * set is shown with the stage. */
static void test_fee_06_overdue_bill_lines(void **state)
{
    struct h_reply r;
    json_t *bills;
    int64_t total = 0, sum = 0;
    (void)state;

    clock_to("2027-03-01T09:00:00+08:00");
    estate("FO", 1, hundred);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FO\",\"period\":\"2027-03\"}");
    total += billed(&r);
    done(&r);
    clock_to("2027-04-01T09:00:00+08:00");
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FO\",\"period\":\"2027-04\"}");
    total += billed(&r);
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"FO/1-100\",\"amount\":10000,\"method\":\"cash\","
       "\"book\":\"FO1\"}");
    done(&r);
    clock_to("2027-05-20T09:00:00+08:00");
    OK(&r, "clerk1", "fee.notice",
       "{\"unit\":\"FO/1-100\",\"stage\":\"second\","
       "\"deadline\":\"2027-06-10\"}");
    done(&r);

    OK(&r, "clerk1", "query.overdue", "{\"estate\":\"FO\"}");
    assert_int_equal(h_reply_int(&r, "result.count", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.units.0.amount", 0),
                     total - 10000);
    assert_int_equal(h_reply_int(&r, "result.units.0.unit_total", 0),
                     total - 10000);
    assert_string_equal(unit_field(&r, 0, "notice"), "second");
    assert_string_equal(unit_field(&r, 0, "notice_deadline"), "2027-06-10");
    bills = h_reply_get(&r, "result.units.0.bills");
    assert_true(json_array_size(bills) >= 2);
    for (size_t i = 0; i < json_array_size(bills); i++)
        sum += json_integer_value(
            json_object_get(json_array_get(bills, i), "owed"));
    assert_int_equal(sum, total - 10000);
    /* oldest first: March's bill, 66 days; April's last, 35 days */
    assert_string_equal(h_reply_str(&r, "result.units.0.bills.0.period"),
                        "2027-03");
    assert_string_equal(h_reply_str(&r, "result.units.0.bills.0.item"),
                        "property_fee");
    assert_string_equal(h_reply_str(&r, "result.units.0.bills.0.due"),
                        "2027-03-15");
    assert_int_equal(h_reply_int(&r, "result.units.0.bills.0.days_overdue", 0),
                     66);
    assert_string_equal(h_reply_str(&r, "result.units.0.bills.0.bucket"),
                        "61-90");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(bills, json_array_size(bills) - 1), "period")),
        "2027-04");
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(bills, json_array_size(bills) - 1), "days_overdue")),
        35);
    done(&r);

    /* as of 04-10: only March's bills, less the payment of 04-01, and no
     * notice yet */
    OK(&r, "clerk1", "query.overdue",
       "{\"estate\":\"FO\",\"as_of\":\"2027-04-10\"}");
    bills = h_reply_get(&r, "result.units.0.bills");
    sum = 0;
    for (size_t i = 0; i < json_array_size(bills); i++) {
        json_t *b = json_array_get(bills, i);
        assert_string_equal(json_string_value(json_object_get(b, "period")),
                            "2027-03");
        assert_int_equal(json_integer_value(json_object_get(b, "days_overdue")),
                         26);
        sum += json_integer_value(json_object_get(b, "owed"));
    }
    assert_int_equal(sum, h_reply_int(&r, "result.units.0.amount", -1));
    assert_true(
        json_is_null(h_reply_get(&r, "result.units.0.notice_deadline")));
    done(&r);
}

/* R-FEE-02: due_day = last bills each month on its last day (31, 28, 30),
 * on a deskd of its own. */
static void test_fee_02_due_at_month_end(void **state)
{
    static const struct {
        const char *period, *due;
    } months[] = {{"2026-01", "2026-01-31"},
                  {"2026-02", "2026-02-28"},
                  {"2026-04", "2026-04-30"}};
    struct h_server s2;
    struct h_client c2;
    struct h_opts o = {.manual_start = "2026-05-01T09:00:00+08:00",
                       .extra_ini = "[fees]\ndue_day = last"};
    struct h_reply r;
    (void)state;

    assert_int_equal(desk_start(&s2, &c2, &o), 0);
    estate("FM", 1, hundred);
    for (size_t i = 0; i < sizeof(months) / sizeof(*months); i++) {
        OK(&r, "lead1", "fee.bill_run", "{\"estate\":\"FM\",\"period\":\"%s\"}",
           months[i].period);
        assert_string_equal(h_reply_str(&r, "events.0.data.due"),
                            months[i].due);
        done(&r);
    }
    desk_stop(&s2, &c2);
    desk = &cli;
}

int main(void)
{
    /* in clock order: the manual clock only moves forward */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fee_02_03_04_bill_pay_receipt_void),
        cmocka_unit_test(test_fee_03_pays_named_bills),
        cmocka_unit_test(test_fee_03_more_bills_than_a_plan),
        cmocka_unit_test(test_fee_05_move_in_start_and_prepayment),
        cmocka_unit_test(test_fee_01_rate_change_mid_year),
        cmocka_unit_test(test_fee_takings_per_desk_and_method),
        cmocka_unit_test(test_gen04_sums_are_exact_fen),
        cmocka_unit_test(test_fee_06_aging_stages_extension),
        cmocka_unit_test(test_fee_07_as_of_equals_live),
        cmocka_unit_test(test_fee_08_late_fees_and_waivers),
        cmocka_unit_test(test_fee_08_late_fee_for_a_past_day),
        cmocka_unit_test(test_fee_08_late_fees_off_by_default),
        cmocka_unit_test(test_fee_10_transfer_needs_settled_fees),
        cmocka_unit_test(test_fee_rebuild_equals_live),
        cmocka_unit_test(test_fee_03_payment_not_before_bill),
        cmocka_unit_test(test_fee_06_overdue_bill_lines),
        cmocka_unit_test(test_fee_02_due_at_month_end),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
