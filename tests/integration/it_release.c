/* tests/integration/it_release.c - goods-release passes (DOMAIN.md
 * R-REL-01..04) against a real deskd with a manual clock that starts on
 * 2026-03-02. Each test uses its own estate; the tests run in clock order
 * because the clock only moves forward. Every refusal is checked to write
 * nothing, and the last test rebuilds the tables from the log. */
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
static void link_to(const char *unit, const char *p, const char *role,
                    const char *from, const char *to)
{
    struct h_reply r;
    OK(&r, "clerk1", "unit.link",
       "{\"unit\":\"%s\",\"person\":\"%s\",\"role\":\"%s\",\"from\":\"%s\","
       "\"to\":\"%s\"}",
       unit, p, role, from, to);
    done(&r);
}

#define ITEMS "{\"sofa\":1,\"boxes\":12}"

/* Requests a pass (extra: more JSON members) that must be accepted; the
 * pass id goes to id, the event stays in r for the caller to inspect. */
static void request(struct h_reply *r, const char *unit, const char *who,
                    const char *extra, char id[24])
{
    OK(r, "clerk1", "release.request",
       "{\"unit\":\"%s\",\"applicant\":\"%s\",\"items\":" ITEMS "%s}", unit,
       who, extra);
    snprintf(id, 24, "%s", h_reply_str(r, "events.0.data.pass"));
}

/* R-REL-01, R-REL-02: the owner's pass lists items and is issued at once;
 * empty or bad item lists, past dates, strangers and unknown parties are
 * refused and write nothing. */
static void test_rel_01_02_owner_pass_and_refusals(void **state)
{
    char owner[24], stranger[24], id[24];
    struct h_reply r;
    (void)state;

    desk_estate("RA", "residence", "", owner);
    desk_person("Stranger", "owner", "", stranger);
    request(&r, "RA/1-101", owner, ",\"vehicle\":\"粤B12345\"", id);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "release.requested");
    assert_string_equal(h_reply_str(&r, "events.0.data.relation"), "owner");
    assert_string_equal(h_reply_str(&r, "events.0.data.state"), "issued");
    assert_string_equal(h_reply_str(&r, "events.0.data.date"), "2026-03-02");
    assert_int_equal(h_reply_int(&r, "events.0.data.items.boxes", 0), 12);
    assert_int_equal(h_reply_int(&r, "events.0.data.arrears", -1), 0);
    assert_null(h_reply_get(&r, "events.0.data.reminder"));
    done(&r);

    /* R-REL-01: at least one category, each with a sane quantity */
    refused("rule", "R-REL-01", "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":{}}", owner);
    refused("invalid", NULL, "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":"
            "{\"sofa\":0}}",
            owner);
    refused("invalid", NULL, "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":"
            "{\"sofa\":\"one\"}}",
            owner);
    refused("invalid", NULL, "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":[\"sofa\"]}",
            owner);
    /* today or later */
    refused("invalid", NULL, "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS
            ",\"date\":\"2026-03-01\"}",
            owner);
    refused("not_found", NULL, "clerk1", "release.request",
            "{\"unit\":\"RA/1-999\",\"applicant\":\"%s\",\"items\":" ITEMS "}",
            owner);
    refused("not_found", NULL, "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"P999999\",\"items\":" ITEMS
            "}");
    /* R-REL-02: not related to the unit */
    refused("rule", "R-REL-02", "clerk1", "release.request",
            "{\"unit\":\"RA/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS "}",
            stranger);
}

/* R-REL-02: family need the owner checked (record or phone, and which);
 * agents need the owner's written authorisation on record and a phone
 * check; a link that has ended does not count. */
static void test_rel_02_family_and_agent(void **state)
{
    char owner[24], fam[24], old[24], agent[24], noauth[24], id[24];
    struct h_reply r;
    (void)state;

    desk_estate("RB", "residence", "", owner);
    desk_person("Family", "family", "", fam);
    desk_person("Old", "family", "", old);
    desk_person("Agent", "agent", ",\"authorisation\":\"WT-2026-001\"", agent);
    desk_person("NoAuth", "family", "", noauth);
    link_to("RB/1-101", fam, "family", "2025-12-01", "2030-12-31");
    link_to("RB/1-101", old, "family", "2025-12-01", "2026-02-28");
    link_to("RB/1-101", agent, "agent", "2026-01-01", "2026-12-31");
    link_to("RB/1-101", noauth, "agent", "2026-01-01", "2026-12-31");

    refused("rule", "R-REL-02", "clerk1", "release.request",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS "}",
            fam);
    request(&r, "RB/1-101", fam, ",\"verified_by\":\"owner_record\"", id);
    assert_string_equal(h_reply_str(&r, "events.0.data.relation"), "family");
    assert_string_equal(h_reply_str(&r, "events.0.data.verified_by"),
                        "owner_record");
    assert_string_equal(h_reply_str(&r, "events.0.data.state"), "issued");
    done(&r);
    /* the link ended on 2026-02-28 */
    refused("rule", "R-REL-02", "clerk1", "release.request",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS
            ",\"verified_by\":\"owner_phoned\"}",
            old);

    refused("rule", "R-REL-02", "clerk1", "release.request",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS "}",
            agent);
    refused("rule", "R-REL-02", "clerk1", "release.request",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS
            ",\"verified_by\":\"owner_record\"}",
            agent);
    refused("rule", "R-REL-02", "clerk1", "release.request",
            "{\"unit\":\"RB/1-101\",\"applicant\":\"%s\",\"items\":" ITEMS
            ",\"verified_by\":\"owner_phoned\"}",
            noauth);
    request(&r, "RB/1-101", agent, ",\"verified_by\":\"owner_phoned\"", id);
    assert_string_equal(h_reply_str(&r, "events.0.data.relation"), "agent");
    assert_string_equal(h_reply_str(&r, "events.0.data.authorisation"),
                        "WT-2026-001");
    assert_string_equal(h_reply_str(&r, "events.0.data.state"), "issued");
    done(&r);
}

/* R-REL-03: a tenant's pass records the unit's arrears and waits for the
 * owner; the emergency contact or a police-witnessed record stand in; an
 * owner in arrears is reminded, not refused. */
static void test_rel_03_tenant_confirmation_and_arrears(void **state)
{
    char owner[24], tenant[24], id[24], id2[24], id3[24];
    struct h_reply r;
    (void)state;

    desk_estate("RC", "residence", "", owner);
    desk_person("Tenant", "tenant", "", tenant);
    link_to("RC/1-101", tenant, "tenant", "2026-01-01", "2026-12-31");
    OK(&r, "clerk1", "fee.charge",
       "{\"unit\":\"RC/1-101\",\"item\":\"housekeeping\",\"amount\":12000,"
       "\"date\":\"2026-02-20\"}");
    done(&r);

    request(&r, "RC/1-101", tenant, "", id);
    assert_string_equal(h_reply_str(&r, "events.0.data.relation"), "tenant");
    assert_string_equal(h_reply_str(&r, "events.0.data.state"), "pending");
    assert_int_equal(h_reply_int(&r, "events.0.data.arrears", -1), 12000);
    assert_string_equal(h_reply_str(&r, "events.0.data.owner"), owner);
    done(&r);
    OK(&r, "clerk1", "query.pass_pending", "{\"unit_prefix\":\"RC/\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.pending")), 1);
    assert_string_equal(h_reply_str(&r, "result.pending.0.pass"), id);
    done(&r);

    /* not issued yet: the gate refuses it */
    refused("rule", "R-REL-03", "clerk1", "release.gate_check",
            "{\"pass\":\"%s\"}", id);
    /* the owner has no emergency contact on record */
    refused("rule", "R-REL-03", "clerk1", "release.confirm",
            "{\"pass\":\"%s\",\"by\":\"emergency_contact\"}", id);
    /* a police-witnessed record needs its reference */
    refused("rule", "R-REL-03", "clerk1", "release.confirm",
            "{\"pass\":\"%s\",\"by\":\"police\"}", id);
    refused("not_found", NULL, "clerk1", "release.confirm",
            "{\"pass\":\"R999999\",\"by\":\"owner\"}");
    OK(&r, "clerk1", "release.confirm", "{\"pass\":\"%s\",\"by\":\"owner\"}",
       id);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "release.confirmed");
    done(&r);
    refused("conflict", NULL, "clerk1", "release.confirm",
            "{\"pass\":\"%s\",\"by\":\"owner\"}", id);
    OK(&r, "clerk1", "query.pass", "{\"pass\":\"%s\"}", id);
    assert_string_equal(h_reply_str(&r, "result.state"), "issued");
    assert_string_equal(h_reply_str(&r, "result.confirmation.by"), "owner");
    done(&r);
    OK(&r, "clerk1", "query.pass_pending", "{\"unit_prefix\":\"RC/\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.pending")), 0);
    done(&r);

    /* a second pass confirmed by a police-witnessed record */
    request(&r, "RC/1-101", tenant, "", id2);
    done(&r);
    OK(&r, "clerk1", "release.confirm",
       "{\"pass\":\"%s\",\"by\":\"police\",\"police_ref\":\"JW-0302-7\"}", id2);
    assert_string_equal(h_reply_str(&r, "events.0.data.police_ref"),
                        "JW-0302-7");
    done(&r);

    /* the owner is in arrears: reminded, the pass still issued */
    request(&r, "RC/1-101", owner, "", id3);
    assert_string_equal(h_reply_str(&r, "events.0.data.state"), "issued");
    assert_int_equal(h_reply_int(&r, "events.0.data.arrears", -1), 12000);
    assert_non_null(
        strstr(h_reply_str(&r, "events.0.data.reminder"), "R-REL-03"));
    done(&r);
}

/* R-REL-03: the emergency contact confirms when the owner on record has
 * one. */
static void test_rel_03_emergency_contact(void **state)
{
    char owner[24], tenant[24], id[24];
    struct h_reply r;
    (void)state;

    desk_estate(
        "RD", "residence",
        ",\"emergency_name\":\"李四\",\"emergency_phone\":\"13900000000\"",
        owner);
    desk_person("Tenant", "tenant", "", tenant);
    link_to("RD/1-101", tenant, "tenant", "2026-01-01", "2026-12-31");
    request(&r, "RD/1-101", tenant, "", id);
    assert_int_equal(h_reply_int(&r, "events.0.data.arrears", -1), 0);
    done(&r);
    OK(&r, "clerk1", "release.confirm",
       "{\"pass\":\"%s\",\"by\":\"emergency_contact\"}", id);
    assert_string_equal(h_reply_str(&r, "events.0.data.contact"), "李四");
    done(&r);
}

/* R-REL-04: the gate collects a pass once, on its date; a second use or
 * another day is refused with the reason, and nothing is written. */
static void test_rel_04_gate_once_on_its_date(void **state)
{
    char owner[24], id[24], today[24];
    struct h_reply r;
    (void)state;

    desk_estate("RE", "residence", "", owner);
    request(&r, "RE/1-101", owner, ",\"date\":\"2026-03-03\"", id);
    done(&r);
    request(&r, "RE/1-101", owner, "", today);
    done(&r);
    refused("rule", "valid only on 2026-03-03", "clerk1", "release.gate_check",
            "{\"pass\":\"%s\"}", id);
    refused("not_found", NULL, "clerk1", "release.gate_check",
            "{\"pass\":\"R999999\"}");

    clock_to("2026-03-03T08:00:00+08:00");
    OK(&r, "clerk1", "release.gate_check",
       "{\"pass\":\"%s\",\"gate\":\"north\"}", id);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "release.used");
    assert_string_equal(h_reply_str(&r, "events.0.data.on"), "2026-03-03");
    done(&r);
    refused("rule", "already used on 2026-03-03", "clerk1",
            "release.gate_check", "{\"pass\":\"%s\"}", id);
    /* yesterday's pass, never used, is no good today */
    refused("rule", "valid only on 2026-03-02", "clerk1", "release.gate_check",
            "{\"pass\":\"%s\"}", today);

    OK(&r, "clerk1", "query.passes",
       "{\"date\":\"2026-03-03\",\"unit_prefix\":\"RE/\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.passes")), 1);
    assert_string_equal(h_reply_str(&r, "result.passes.0.state"), "used");
    assert_string_equal(h_reply_str(&r, "result.passes.0.use.gate"), "north");
    done(&r);
    OK(&r, "clerk1", "query.passes",
       "{\"date\":\"2026-03-02\",\"unit_prefix\":\"RE/\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.passes")), 1);
    assert_string_equal(h_reply_str(&r, "result.passes.0.state"), "issued");
    done(&r);
}

/* Replaying the log gives pass tables identical to the live ones. */
static void test_rel_rebuild_equals_live(void **state)
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
        cmocka_unit_test(test_rel_01_02_owner_pass_and_refusals),
        cmocka_unit_test(test_rel_02_family_and_agent),
        cmocka_unit_test(test_rel_03_tenant_confirmation_and_arrears),
        cmocka_unit_test(test_rel_03_emergency_contact),
        cmocka_unit_test(test_rel_04_gate_once_on_its_date),
        cmocka_unit_test(test_rel_rebuild_equals_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
