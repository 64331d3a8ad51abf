/* tests/integration/it_movein.c - move-in checklists and ownership
 * transfer (DOMAIN.md R-MOV-01..03, with R-FEE-05 and R-FEE-10) against a
 * real deskd with a manual clock that starts on 2026-03-02. Every refusal
 * is checked to write nothing; the last test replays the log and compares
 * every projection table with the live one. */
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
static char owner_a[24], agent_a[24], owner_b[24];

#define HOUSEHOLD                                                              \
    "\"documents\":[\"handover_notice\",\"owner_id\",\"family_ids\","          \
    "\"info_card\",\"photos\",\"bank_card\"]"

/* R-MOV-01: documents by applicant type; household and company apply as
 * the owner, an agent with the power of attorney. */
static void test_mov_01_documents_by_type(void **state)
{
    struct h_reply r;
    (void)state;
    desk_estate("MA", "residence", DESK_ID_NO, owner_a);
    desk_estate("MB", "residence", DESK_ID_NO, owner_b);
    desk_person("Agent", "family", DESK_ID_NO, agent_a);
    refused("not_found", NULL, "clerk1", "movein.sign",
            "{\"unit\":\"MA/1-101\",\"agreements\":[\"covenant\"]}");
    refused("rule", "R-MOV-01", "clerk1", "movein.start",
            "{\"unit\":\"MA/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
            "\"household\",\"documents\":[\"handover_notice\",\"owner_id\","
            "\"family_ids\",\"info_card\",\"photos\"]}",
            owner_a);
    refused("rule", "R-MOV-01", "clerk1", "movein.start",
            "{\"unit\":\"MA/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
            "\"household\"," HOUSEHOLD "}",
            agent_a);
    refused("rule", "rep_id_authorisation", "clerk1", "movein.start",
            "{\"unit\":\"MA/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
            "\"company\"," HOUSEHOLD "}",
            owner_a);
    refused("not_found", NULL, "clerk1", "movein.start",
            "{\"unit\":\"MA/1-999\",\"applicant\":\"%s\",\"applicant_type\":"
            "\"household\"," HOUSEHOLD "}",
            owner_a);
    OK(&r, "clerk1", "movein.start",
       "{\"unit\":\"MA/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
       "\"household\"," HOUSEHOLD "}",
       owner_a);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "movein.started");
    done(&r);
    refused("conflict", NULL, "clerk1", "movein.start",
            "{\"unit\":\"MA/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
            "\"household\"," HOUSEHOLD "}",
            owner_a);
    refused("rule", "power_of_attorney", "clerk1", "movein.start",
            "{\"unit\":\"MB/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
            "\"agent\",\"documents\":[\"agent_id\",\"handover_notice\","
            "\"owner_id\",\"info_card\"]}",
            agent_a);
    OK(&r, "clerk1", "movein.start",
       "{\"unit\":\"MB/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
       "\"agent\",\"documents\":[\"power_of_attorney\",\"agent_id\","
       "\"handover_notice\",\"owner_id\",\"info_card\"]}",
       agent_a);
    assert_string_equal(h_reply_str(&r, "events.0.data.owner"), owner_b);
    done(&r);
}

/* R-MOV-02: the steps; keys only after the inspection passes; fees and
 * cards are the fee and card commands (R-FEE-05, R-CARD-02). */
static void test_mov_02_checklist(void **state)
{
    struct h_reply r;
    int64_t prepay;
    (void)state;
    refused("rule", "R-MOV-02", "clerk1", "movein.sign",
            "{\"unit\":\"MA/1-101\",\"agreements\":[\"service_agreement\"]}");
    OK(&r, "clerk1", "movein.sign",
       "{\"unit\":\"MA/1-101\",\"agreements\":[\"service_agreement\","
       "\"covenant\"]}");
    done(&r);
    OK(&r, "clerk1", "movein.meters",
       "{\"unit\":\"MA/1-101\",\"water\":\"12.5\",\"electricity\":230}");
    assert_string_equal(h_reply_str(&r, "events.0.data.water"), "12.50");
    done(&r);
    refused("rule", "R-MOV-02", "clerk1", "movein.keys",
            "{\"unit\":\"MA/1-101\",\"keys\":3}");
    refused("invalid", NULL, "clerk1", "movein.inspect",
            "{\"unit\":\"MA/1-101\",\"result\":\"failed\",\"items\":"
            "[\"window seal\"]}");
    OK(&r, "clerk1", "movein.inspect",
       "{\"unit\":\"MA/1-101\",\"result\":\"failed\",\"items\":"
       "[\"window seal\"],\"deadline\":\"2026-03-09\"}");
    done(&r);
    OK(&r, "clerk1", "query.movein", "{\"unit\":\"MA/1-101\"}");
    assert_string_equal(h_reply_str(&r, "result.checklist.fix_by"),
                        "2026-03-09");
    assert_true(h_reply_get(&r, "result.steps.inspection") == json_false());
    done(&r);
    refused("rule", "R-MOV-02", "clerk1", "movein.keys",
            "{\"unit\":\"MA/1-101\",\"keys\":3}");
    clock_to("2026-03-06T10:00:00+08:00");
    OK(&r, "clerk1", "movein.inspect",
       "{\"unit\":\"MA/1-101\",\"result\":\"passed\"}");
    done(&r);
    refused("conflict", NULL, "clerk1", "movein.inspect",
            "{\"unit\":\"MA/1-101\",\"result\":\"passed\"}");
    OK(&r, "clerk1", "movein.keys", "{\"unit\":\"MA/1-101\",\"keys\":3}");
    done(&r);
    refused("conflict", NULL, "clerk1", "movein.keys",
            "{\"unit\":\"MA/1-101\",\"keys\":1}");
    OK(&r, "clerk1", "query.movein", "{\"unit\":\"MA/1-101\"}");
    assert_int_equal(h_reply_int(&r, "result.done", 0), 5);
    assert_true(h_reply_get(&r, "result.complete") == json_false());
    done(&r);
    /* fees: the existing fee.move_in and fee.pay (R-FEE-05) */
    OK(&r, "clerk1", "fee.move_in",
       "{\"unit\":\"MA/1-101\",\"date\":\"2026-03-06\"}");
    prepay = h_reply_int(&r, "events.0.data.prepay_due", 0);
    assert_true(prepay > 0);
    done(&r);
    OK(&r, "clerk1", "query.movein", "{\"unit\":\"MA/1-101\"}");
    assert_true(h_reply_get(&r, "result.steps.fees") == json_false());
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"MA/1-101\",\"amount\":%lld,\"method\":\"cash\","
       "\"book\":\"MA1\",\"prepay_excess\":true}",
       (long long)prepay);
    done(&r);
    /* cards: card.issue at move-in (R-CARD-02) */
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"MA-1\",\"kind\":\"access\",\"unit\":\"MA/1-101\","
       "\"holder\":\"%s\",\"move_in\":true}",
       owner_a);
    done(&r);
    OK(&r, "clerk1", "query.movein", "{\"unit\":\"MA/1-101\"}");
    assert_int_equal(h_reply_int(&r, "result.checklist.prepaid", 0), prepay);
    assert_int_equal(h_reply_int(&r, "result.checklist.cards", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.done", 0), 7);
    assert_true(h_reply_get(&r, "result.complete") == json_true());
    done(&r);
    /* per day: what was done on 2026-03-06; per unit: both checklists */
    OK(&r, "clerk1", "query.moveins", "{\"date\":\"2026-03-06\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.steps")), 5);
    assert_string_equal(h_reply_str(&r, "result.steps.0.step"), "inspection");
    assert_string_equal(h_reply_str(&r, "result.steps.4.step"), "cards");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.units")), 2);
    assert_true(h_reply_get(&r, "result.units.1.complete") == json_false());
    done(&r);
    OK(&r, "clerk1", "query.moveins",
       "{\"date\":\"2026-03-02\",\"unit\":\"MA/\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.steps")), 4);
    assert_int_equal(json_array_size(h_reply_get(&r, "result.units")), 1);
    done(&r);
}

/* R-MOV-03 (with R-FEE-10): old owner's fees settled, the new owner's
 * title document, finance and the control room told on the event feed. */
static void test_mov_03_transfer(void **state)
{
    struct h_reply r;
    struct h_sub sub;
    char buyer[24], topic[64];
    json_t *ev = NULL;
    (void)state;
    desk_person("Buyer", "owner", DESK_ID_NO, buyer);
    OK(&r, "clerk1", "fee.charge",
       "{\"unit\":\"MB/1-101\",\"item\":\"copy_a4\",\"quantity\":2}");
    done(&r);
    refused("rule", "R-FEE-10", "lead1", "unit.transfer",
            "{\"unit\":\"MB/1-101\",\"to\":\"%s\",\"effective\":"
            "\"2026-04-01\",\"title_doc\":\"T-1\"}",
            buyer);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"MB/1-101\",\"amount\":100,\"method\":\"cash\","
       "\"book\":\"MB1\",\"prepay_excess\":true}");
    done(&r);
    refused("rule", "R-MOV-03", "lead1", "unit.transfer",
            "{\"unit\":\"MB/1-101\",\"to\":\"%s\",\"effective\":"
            "\"2026-04-01\"}",
            buyer);
    assert_int_equal(h_sub_open(&sub, srv.pub_ep, "unit.finance_notified"), 0);
    usleep(200 * 1000); /* let the subscription reach deskd */
    OK(&r, "lead1", "unit.transfer",
       "{\"unit\":\"MB/1-101\",\"to\":\"%s\",\"effective\":\"2026-04-01\","
       "\"title_doc\":\"T-2026-0401\"}",
       buyer);
    assert_int_equal(r.nevents, 2);
    assert_string_equal(h_reply_str(&r, "events.1.type"),
                        "unit.finance_notified");
    assert_string_equal(h_reply_str(&r, "events.1.data.from"), owner_b);
    assert_string_equal(h_reply_str(&r, "events.1.data.notified.0"), "finance");
    assert_string_equal(h_reply_str(&r, "events.1.data.notified.1"),
                        "control_room");
    done(&r);
    assert_int_equal(h_sub_recv(&sub, topic, sizeof(topic), &ev, 5000), 0);
    assert_string_equal(topic, "unit.finance_notified");
    assert_string_equal(json_string_value(h_json_path(ev, "data.title_doc")),
                        "T-2026-0401");
    json_decref(ev);
    h_sub_close(&sub);
}

/* R-MOV-04: move-out, the reverse of move-in. Arrears block it unless a
 * cs_lead or manager waives them (recorded in the event); active cards and
 * keys not handed back block it; on success the final meters are recorded,
 * the mover's link ends on the day and the unit becomes vacant, so the
 * unit card as of a date answers who lived there then. */
static void test_mov_04_move_out(void **state)
{
    struct h_reply r;
    char kid[24];
    (void)state;
    desk_person("Kid", "family", DESK_ID_NO, kid);
    OK(&r, "clerk1", "unit.link",
       "{\"unit\":\"MA/1-101\",\"person\":\"%s\",\"role\":\"family\","
       "\"from\":\"2026-03-02\"}",
       kid);
    done(&r);
    clock_to("2026-03-09T10:00:00+08:00");
    OK(&r, "clerk1", "fee.charge",
       "{\"unit\":\"MA/1-101\",\"item\":\"copy_a4\",\"quantity\":2}");
    done(&r);
#define MOVE_OUT                                                               \
    "{\"unit\":\"MA/1-101\",\"person\":\"%s\",\"role\":\"family\","            \
    "\"water\":\"31.25\",\"electricity\":\"512\",\"keys_returned\":%d%s}"
    refused("not_found", NULL, "clerk1", "unit.move_out",
            "{\"unit\":\"MA/1-999\",\"water\":1,\"electricity\":1,"
            "\"keys_returned\":0}");
    refused("invalid", NULL, "clerk1", "unit.move_out",
            "{\"unit\":\"MA/1-101\",\"person\":\"%s\",\"water\":1,"
            "\"electricity\":1,\"keys_returned\":3}",
            kid);
    refused("not_found", NULL, "clerk1", "unit.move_out", MOVE_OUT, owner_a, 3,
            "");
    refused("rule", "R-MOV-04: '", "clerk1", "unit.move_out", MOVE_OUT, kid, 3,
            "");
    refused("forbidden", "R-MOV-04", "clerk1", "unit.move_out", MOVE_OUT, kid,
            3, ",\"waive_reason\":\"hardship\"");
    refused("rule", "R-MOV-04: 1 card(s)", "lead1", "unit.move_out", MOVE_OUT,
            kid, 3, ",\"waive_reason\":\"hardship\"");
    OK(&r, "clerk1", "card.return",
       "{\"card\":\"MA-1\",\"reason\":\"moved out\"}");
    done(&r);
    refused("rule", "R-MOV-04: 3 key(s)", "lead1", "unit.move_out", MOVE_OUT,
            kid, 2, ",\"waive_reason\":\"hardship\"");
    OK(&r, "lead1", "unit.move_out", MOVE_OUT, kid, 3,
       ",\"waive_reason\":\"hardship\"");
    assert_int_equal(r.nevents, 3);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "unit.moved_out");
    assert_string_equal(h_reply_str(&r, "events.0.data.water"), "31.25");
    assert_string_equal(h_reply_str(&r, "events.0.data.electricity"), "512.00");
    assert_string_equal(h_reply_str(&r, "events.0.data.payer"), owner_a);
    assert_true(h_reply_int(&r, "events.0.data.arrears_waived", 0) > 0);
    assert_string_equal(h_reply_str(&r, "events.0.data.waived_by"), "lead1");
    assert_string_equal(h_reply_str(&r, "events.0.data.waive_reason"),
                        "hardship");
    assert_string_equal(h_reply_str(&r, "events.1.type"),
                        "unit.person_unlinked");
    assert_string_equal(h_reply_str(&r, "events.1.data.to"), "2026-03-09");
    assert_string_equal(h_reply_str(&r, "events.2.data.to"), "vacant");
    done(&r);
    refused("conflict", "vacant", "lead1", "unit.move_out", MOVE_OUT, kid, 3,
            "");
#undef MOVE_OUT
    /* who lived there when: the link ends on the move-out day */
    OK(&r, "clerk1", "query.unit",
       "{\"unit\":\"MA/1-101\",\"as_of\":\"2026-03-05\"}");
    assert_string_equal(h_reply_str(&r, "result.occupants.0.person"), kid);
    done(&r);
    OK(&r, "clerk1", "query.unit",
       "{\"unit\":\"MA/1-101\",\"as_of\":\"2026-03-10\"}");
    assert_null(h_reply_get(&r, "result.occupants.0"));
    assert_string_equal(h_reply_str(&r, "result.unit.state"), "vacant");
    done(&r);
    /* the move-in checklist is closed: the next occupant starts afresh */
    refused("not_found", NULL, "clerk1", "query.movein",
            "{\"unit\":\"MA/1-101\"}");
    OK(&r, "clerk1", "query.moveins", "{\"date\":\"2026-03-09\"}");
    assert_string_equal(h_reply_str(&r, "result.steps.0.step"), "moved_out");
    done(&r);
    OK(&r, "clerk1", "movein.start",
       "{\"unit\":\"MA/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
       "\"household\"," HOUSEHOLD "}",
       owner_a);
    done(&r);
}

/* Replaying the log gives move-in tables identical to the live ones. */
/* Files a self-managed renovation of estate code's unit 1-101 (owner
 * owner) from 2026-03-10 to 2026-06-09 and takes its 2000-yuan deposit
 * (R-REN-03: 200000 fen, the owner doing it himself); its id goes to id.
 * passed: the completion inspection passes on 2026-03-10 (R-REN-05: the
 * refund is due 7 working days later, 2026-03-19). */
static void renovation_with_deposit(const char *code, const char *owner,
                                    bool passed, char id[24])
{
    struct h_reply r;

    OK(&r, "clerk1", "renovation.file",
       "{\"unit\":\"%s/1-101\",\"applicant\":\"%s\",\"self\":true,"
       "\"items\":[\"walls\"],\"documents\":[\"drawings\",\"worker_list\"],"
       "\"start\":\"2026-03-10\",\"end\":\"2026-06-09\"}",
       code, owner);
    snprintf(id, 24, "%s", h_reply_str(&r, "events.0.data.renovation"));
    done(&r);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"MR1\","
       "\"method\":\"cash\"}",
       id);
    done(&r);
    if (passed) {
        OK(&r, "clerk1", "renovation.complete",
           "{\"renovation\":\"%s\",\"result\":\"passed\"}", id);
        assert_string_equal(h_reply_str(&r, "events.0.data.refund_from"),
                            "2026-03-19");
        done(&r);
    }
}

#define MOVE_OUT_ANY                                                           \
    "{\"unit\":\"%s/1-101\",\"water\":\"1\",\"electricity\":\"1\","            \
    "\"keys_returned\":0}"

/* R-MOV-04 with R-REN-05: the only deposit the domain knows is the
 * renovation's (R-REN-03). A move-out settles the one still held for the
 * unit: refunded, by the same code as renovation.refund, when that
 * command would refund it and a lead moves the person out; else recorded
 * as withheld with the reason, the deposit staying held for a later
 * renovation.refund. Amounts in integer fen (R-GEN-04); a refused
 * move-out writes nothing, deposit events included. */
static void test_mov_04_move_out_settles_deposit(void **state)
{
    char own_r[24], own_s[24], own_t[24], ren_r[24], ren_s[24], ren_t[24];
    struct h_reply r;
    (void)state;

    clock_to("2026-03-10T10:00:00+08:00");
    desk_estate("MR", "residence", DESK_ID_NO, own_r);
    desk_estate("MS", "residence", DESK_ID_NO, own_s);
    desk_estate("MT", "residence", DESK_ID_NO, own_t);
    renovation_with_deposit("MR", own_r, false, ren_r);
    renovation_with_deposit("MS", own_s, true, ren_s);
    renovation_with_deposit("MT", own_t, true, ren_t);

    /* in progress: withheld, the reason is the refund's own refusal */
    refused("invalid", NULL, "clerk1", "unit.move_out",
            "{\"unit\":\"MR/1-101\",\"person\":\"%s\",\"water\":\"1\","
            "\"electricity\":\"1\",\"keys_returned\":0}",
            own_r);
    OK(&r, "clerk1", "unit.move_out", MOVE_OUT_ANY, "MR");
    assert_int_equal(r.nevents, 3);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "unit.moved_out");
    assert_string_equal(h_reply_str(&r, "events.2.type"),
                        "renovation.deposit_withheld");
    assert_string_equal(h_reply_str(&r, "events.2.data.renovation"), ren_r);
    assert_int_equal(h_reply_int(&r, "events.2.data.amount", 0), 200000);
    assert_int_equal(h_reply_int(&r, "events.2.data.owner_amount", 0), 200000);
    assert_non_null(
        strstr(h_reply_str(&r, "events.2.data.reason"), "R-REN-05"));
    assert_non_null(
        strstr(h_reply_str(&r, "events.2.data.reason"), "has not passed"));
    done(&r);

    /* refund due (2026-03-19) but a clerk moves out: withheld for a lead */
    clock_to("2026-03-19T10:00:00+08:00");
    OK(&r, "clerk1", "unit.move_out", MOVE_OUT_ANY, "MS");
    assert_string_equal(h_reply_str(&r, "events.2.type"),
                        "renovation.deposit_withheld");
    assert_non_null(
        strstr(h_reply_str(&r, "events.2.data.reason"), "cs_lead or manager"));
    done(&r);
    /* still held: the lead's renovation.refund pays it later */
    OK(&r, "lead1", "renovation.refund", "{\"renovation\":\"%s\"}", ren_s);
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 200000);
    done(&r);

    /* a lead's move-out refunds it: the very event renovation.refund
     * writes, and the renovation is closed */
    OK(&r, "lead1", "unit.move_out", MOVE_OUT_ANY, "MT");
    assert_int_equal(r.nevents, 3);
    assert_string_equal(h_reply_str(&r, "events.2.type"),
                        "renovation.deposit_refunded");
    assert_string_equal(h_reply_str(&r, "events.2.data.renovation"), ren_t);
    assert_int_equal(h_reply_int(&r, "events.2.data.amount", 0), 200000);
    assert_int_equal(h_reply_int(&r, "events.2.data.owner_amount", 0), 200000);
    assert_int_equal(h_reply_int(&r, "events.2.data.contractor_amount", -1), 0);
    assert_string_equal(h_reply_str(&r, "events.2.data.owner"), own_t);
    done(&r);
    refused("conflict", "refunded", "lead1", "renovation.refund",
            "{\"renovation\":\"%s\"}", ren_t);

    /* MR's deposit is still held after its move-out; MT's is not */
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"MR/\"}");
    assert_int_equal(h_reply_int(&r, "result.deposits_held", 0), 200000);
    assert_string_equal(h_reply_str(&r, "result.deposits.0.renovation"), ren_r);
    done(&r);
    OK(&r, "clerk1", "query.renovations", "{\"unit\":\"MT/\"}");
    assert_int_equal(h_reply_int(&r, "result.deposits_held", -1), 0);
    done(&r);
}

static void test_mov_rebuild_equals_live(void **state)
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
        cmocka_unit_test(test_mov_01_documents_by_type),
        cmocka_unit_test(test_mov_02_checklist),
        cmocka_unit_test(test_mov_03_transfer),
        cmocka_unit_test(test_mov_04_move_out),
        cmocka_unit_test(test_mov_04_move_out_settles_deposit),
        cmocka_unit_test(test_mov_rebuild_equals_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
