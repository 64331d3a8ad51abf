/* tests/integration/it_handover.c - the shift handover (交接班,
 * docs/HANDOVER.md) against a real deskd with a manual clock that starts on
 * 2026-03-02 09:00: the sheet of a shift read from its events, per desk,
 * money in integer fen (R-GEN-04), and shift.handover recording the totals
 * and a cash difference as it is. The figures below are computed by hand
 * from the commands each test sends. */
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
static int next_id;

#define SHIFT                                                                  \
    "\"from\":\"2026-03-02T08:00:00+08:00\",\"to\":"                           \
    "\"2026-03-02T16:00:00+08:00\""

/* Sends name as actor at desk d (the envelope's desk); must succeed. */
static void at(struct h_reply *r, const char *d, const char *actor,
               const char *name, const char *body)
{
    assert_int_equal(h_callf(desk, r,
                             "{\"id\":\"ho-%d\",\"cmd\":\"%s\",\"actor\":"
                             "\"%s\",\"desk\":\"%s\",\"body\":%s}",
                             ++next_id, name, actor, d, body),
                     0);
    if (!r->ok)
        fail_msg("%s refused: %s", name, h_reply_text(r));
}

/* Charges quantity A4 copies (50 fen each) on unit at desk d and takes
 * their price by method; the payment id goes to pay. */
static void sale(const char *d, int quantity, const char *method, char pay[24])
{
    struct h_reply r;
    char body[256];

    snprintf(body, sizeof(body),
             "{\"unit\":\"HO/1-101\",\"item\":\"copy_a4\",\"quantity\":%d}",
             quantity);
    at(&r, d, "clerk1", "fee.charge", body);
    done(&r);
    snprintf(body, sizeof(body),
             "{\"unit\":\"HO/1-101\",\"amount\":%d,\"method\":\"%s\","
             "\"book\":\"HO1\"}",
             quantity * 50, method);
    at(&r, d, "clerk1", "fee.pay", body);
    snprintf(pay, 24, "%s", h_reply_str(&r, "events.0.data.payment"));
    done(&r);
}

static char sheet_before[8192];
static char complaint[24];

/* R-GEN-04: one shift at desk front-1, with another desk's sale and a
 * sale after the shift that must stay off its sheet. */
static void test_handover_sheet(void **state)
{
    char owner[24], pay[24], voided[24], body[256], *dump;
    struct h_reply r;
    (void)state;

    desk_estate("HO", "residence", "", owner);
    sale("front-1", 10, "cash", pay);   /* 500 cash */
    sale("front-1", 4, "pos", pay);     /* 200 pos */
    sale("front-1", 6, "cash", voided); /* 300 cash, voided below */
    sale("front-2", 2, "cash", pay);    /* 100 cash, another desk */
    snprintf(body, sizeof(body), "{\"payment\":\"%s\",\"reason\":\"收错\"}",
             voided);
    at(&r, "front-1", "mgr1", "fee.void_payment", body);
    done(&r);
    at(&r, "front-1", "clerk1", "complaint.receive",
       "{\"channel\":\"phone\",\"unit\":\"HO/1-101\",\"name\":\"王\","
       "\"contact\":\"13812345678\",\"what\":\"电梯停运\",\"wants\":"
       "\"修复\"}");
    done(&r);
    snprintf(body, sizeof(body),
             "{\"card\":\"HO-1\",\"kind\":\"access\",\"unit\":\"HO/1-101\","
             "\"holder\":\"%s\",\"move_in\":true}",
             owner);
    at(&r, "front-1", "clerk1", "card.issue", body);
    done(&r);
    at(&r, "front-1", "clerk1", "card.report_lost", "{\"card\":\"HO-1\"}");
    done(&r);
    /* after the shift: not on its sheet */
    clock_to("2026-03-02T16:30:00+08:00");
    sale("front-1", 1, "cash", pay);

    at(&r, "front-1", "clerk1", "query.handover",
       "{\"desk\":\"front-1\"," SHIFT "}");
    assert_string_equal(h_reply_str(&r, "result.desk"), "front-1");
    /* cash 500 + 300 taken, 300 voided: 500 to hand over; pos 200 */
    assert_int_equal(h_reply_int(&r, "result.money.payments", -1), 3);
    assert_int_equal(h_reply_int(&r, "result.money.paid_fen", -1), 1000);
    assert_int_equal(h_reply_int(&r, "result.money.voids", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.money.voided_fen", -1), 300);
    assert_int_equal(h_reply_int(&r, "result.money.receipts", -1), 3);
    assert_int_equal(h_reply_int(&r, "result.money.paid_by_method.cash", -1),
                     800);
    assert_int_equal(h_reply_int(&r, "result.money.paid_by_method.pos", -1),
                     200);
    assert_int_equal(h_reply_int(&r, "result.money.net_by_method.cash", -1),
                     500);
    assert_int_equal(h_reply_int(&r, "result.money.cash_expected", -1), 500);
    assert_int_equal(h_reply_int(&r, "result.complaints_received", -1), 1);
    assert_string_equal(h_reply_str(&r, "result.complaints_open.0.state"),
                        "received");
    assert_non_null(h_reply_str(&r, "result.complaints_open.0.next_deadline"));
    snprintf(complaint, sizeof(complaint), "%s",
             h_reply_str(&r, "result.complaints_open.0.complaint"));
    assert_string_equal(h_reply_str(&r, "result.cards_issued.0"), "HO-1");
    assert_string_equal(h_reply_str(&r, "result.cards_lost.0"), "HO-1");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.escalations")), 0);
    dump = json_dumps(h_reply_get(&r, "result"), JSON_SORT_KEYS);
    assert_non_null(dump);
    snprintf(sheet_before, sizeof(sheet_before), "%s", dump);
    free(dump);
    done(&r);

    /* every desk: front-2's 100 cash too */
    at(&r, "front-1", "clerk1", "query.handover", "{" SHIFT "}");
    assert_int_equal(h_reply_int(&r, "result.money.payments", -1), 4);
    assert_int_equal(h_reply_int(&r, "result.money.cash_expected", -1), 600);
    done(&r);
}

/* R-GEN-04: the handover records the sheet's totals and the cash counted;
 * 50 fen short is recorded as -50, not corrected. Bad input writes
 * nothing. */
static void test_handover_command(void **state)
{
    struct h_reply r;
    int64_t seq;
    (void)state;

    refused("invalid", "after", "clerk1", "shift.handover",
            "{\"from\":\"2026-03-02T16:00:00+08:00\",\"to\":"
            "\"2026-03-02T08:00:00+08:00\",\"incoming\":\"lead1\","
            "\"cash_counted\":450,\"desk\":\"front-1\"}");
    refused("invalid", "someone else", "clerk1", "shift.handover",
            "{" SHIFT ",\"incoming\":\"clerk1\",\"cash_counted\":450}");
    refused("invalid", NULL, "clerk1", "shift.handover",
            "{" SHIFT ",\"incoming\":\"lead1\",\"cash_counted\":-1}");
    refused("invalid", NULL, "clerk1", "shift.handover",
            "{" SHIFT ",\"incoming\":\"lead1\",\"cash_counted\":\"4.50\"}");
    at(&r, "front-1", "clerk1", "shift.handover",
       "{" SHIFT ",\"incoming\":\"lead1\",\"cash_counted\":450,\"note\":"
       "\"抽屉少五毛\"}");
    assert_int_equal(r.nevents, 1);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "shift.handed_over");
    assert_string_equal(h_reply_str(&r, "events.0.stream"), "shift:front-1");
    assert_string_equal(h_reply_str(&r, "events.0.data.desk"), "front-1");
    assert_string_equal(h_reply_str(&r, "events.0.data.incoming"), "lead1");
    assert_int_equal(h_reply_int(&r, "events.0.data.money.cash_expected", -1),
                     500);
    assert_int_equal(h_reply_int(&r, "events.0.data.cash_counted", -1), 450);
    assert_int_equal(h_reply_int(&r, "events.0.data.cash_difference", 0), -50);
    assert_int_equal(h_reply_int(&r, "events.0.data.complaints_open", -1), 1);
    seq = h_reply_int(&r, "events.0.seq", 0);
    done(&r);

    /* only the incoming clerk, once; their own count beside the other */
    refused("rule", "incoming", "clerk1", "shift.handover_ack",
            "{\"handover\":%lld}", (long long)seq);
    refused("not_found", "handover", "lead1", "shift.handover_ack",
            "{\"handover\":1}");
    refused("not_found", "handover", "lead1", "shift.handover_ack",
            "{\"handover\":999999}");
    OK(&r, "lead1", "shift.handover_ack",
       "{\"handover\":%lld,\"cash_counted\":450}", (long long)seq);
    assert_string_equal(h_reply_str(&r, "events.0.type"),
                        "shift.handover_acknowledged");
    assert_string_equal(h_reply_str(&r, "events.0.stream"), "shift:front-1");
    assert_string_equal(h_reply_str(&r, "events.0.data.outgoing"), "clerk1");
    assert_int_equal(
        h_reply_int(&r, "events.0.data.difference_from_outgoing", -1), 0);
    done(&r);
    refused("rule", "already", "lead1", "shift.handover_ack",
            "{\"handover\":%lld}", (long long)seq);
}

/* The sheet of a past shift does not change with later events (the
 * complaint closed later still shows as it stood), and replaying the log
 * gives the same tables. */
static void test_handover_replay(void **state)
{
    struct h_reply r;
    char *now;
    (void)state;

    clock_to("2026-03-02T17:00:00+08:00");
    OK(&r, "clerk1", "complaint.reply",
       "{\"complaint\":\"%s\",\"text\":"
       "\"已派维修\"}",
       complaint);
    done(&r);
    OK(&r, "clerk1", "complaint.handle",
       "{\"complaint\":\"%s\","
       "\"summary\":\"已修复\"}",
       complaint);
    done(&r);
    OK(&r, "clerk1", "complaint.visit",
       "{\"complaint\":\"%s\","
       "\"method\":\"phone\",\"result\":\"satisfied\"}",
       complaint);
    done(&r);
    OK(&r, "mgr1", "complaint.close", "{\"complaint\":\"%s\"}", complaint);
    done(&r);
    OK(&r, "clerk1", "query.complaint", "{\"complaint\":\"%s\"}", complaint);
    assert_string_equal(h_reply_str(&r, "result.complaint.state"), "closed");
    done(&r);
    clock_to("2026-03-05T10:00:00+08:00");
    at(&r, "front-1", "clerk1", "query.handover",
       "{\"desk\":\"front-1\"," SHIFT "}");
    now = json_dumps(h_reply_get(&r, "result"), JSON_SORT_KEYS);
    assert_non_null(now);
    assert_string_equal(now, sheet_before);
    free(now);
    done(&r);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handover_sheet),
        cmocka_unit_test(test_handover_command),
        cmocka_unit_test(test_handover_replay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
