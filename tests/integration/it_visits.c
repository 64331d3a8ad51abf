/* tests/integration/it_visits.c - customer visits (DOMAIN.md
 * R-VIS-01..04, R-CMP-08) against a real deskd with a manual clock that starts
 * on 2026-03-02. Each test uses its own estate; the tests run in clock order
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
/* Unit VA/<b>-<room> in state, owned by a new person (id to owner) from
 * effective. */
static void unit(const char *b, const char *room, const char *state,
                 const char *effective, char owner[24])
{
    struct h_reply r;
    OK(&r, "clerk1", "unit.register",
       "{\"estate\":\"VA\",\"building\":\"%s\",\"room\":\"%s\","
       "\"area\":\"90.00\",\"type\":\"residence\",\"state\":\"%s\"}",
       b, room, state);
    done(&r);
    desk_person("Owner", "owner", "", owner);
    OK(&r, "lead1", "unit.transfer",
       "{\"unit\":\"VA/%s-%s\",\"to\":\"%s\",\"effective\":\"%s\"}", b, room,
       owner, effective);
    done(&r);
}

static char own_a[24], own_b[24], own_c[24], own_d[24], own_e[24], fam[24];

#define VISIT_TAIL                                                             \
    "\"needs\":\"门禁\",\"actions\":\"已登记\",\"completion\":\"done\","  \
    "\"satisfaction\":\"satisfied\""

/* A visit that must be accepted; r keeps the reply. */
static void visit(struct h_reply *r, const char *actor, const char *unit_key,
                  const char *who, const char *kind)
{
    OK(r, actor, "visit.record",
       "{\"unit\":\"%s\",\"person\":\"%s\",\"kind\":\"%s\"," VISIT_TAIL "}",
       unit_key, who, kind);
}

/* Finds the entry of list (a JSON array) whose "unit" is unit_key. */
static json_t *entry(json_t *list, const char *unit_key)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        json_t *u = json_object_get(v, "unit");
        if (u && !strcmp(json_string_value(u), unit_key))
            return v;
    }
    return NULL;
}

static const char *field_of(json_t *o, const char *k)
{
    json_t *v = o ? json_object_get(o, k) : NULL;
    return v && json_is_string(v) ? json_string_value(v) : "(none)";
}

static void setup_estate(void)
{
    struct h_reply r;
    OK(&r, "lead1", "estate.register", "{\"code\":\"VA\",\"name\":\"VA\"}");
    done(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"VA\",\"building\":\"1\"}");
    done(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"VA\",\"building\":\"2\"}");
    done(&r);
    unit("1", "101", "occupied", "2026-02-10", own_a);
    unit("1", "102", "occupied", "2026-02-20", own_b);
    unit("1", "103", "vacant", "2024-01-01", own_c);
    unit("2", "201", "occupied", "2025-01-01", own_d);
    unit("1", "104", "occupied", "2025-11-20", own_e);
    desk_person("Family", "family", "", fam);
    OK(&r, "clerk1", "unit.link",
       "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"role\":\"family\","
       "\"from\":\"2026-02-10\"}",
       fam);
    done(&r);
    /* R-CMP-08: B asked not to be visited */
    OK(&r, "clerk1", "person.no_visit",
       "{\"person\":\"%s\",\"reason\":\"不希望回访\"}", own_b);
    done(&r);
}

/* R-VIS-01: new owners due within a month of the ownership's start,
 * overdue up to three months, then missed; R-CMP-08: people who asked not
 * to be visited never appear as due. */
static void test_vis_01_new_owner_due(void **state)
{
    struct h_reply r;
    json_t *l, *a;
    (void)state;

    setup_estate();
    OK(&r, "clerk1", "query.visits_due", "{\"estate\":\"VA\"}");
    l = h_reply_get(&r, "result.new_owner");
    a = entry(l, "VA/1-101");
    assert_non_null(a);
    assert_string_equal(field_of(a, "state"), "due");
    assert_string_equal(field_of(a, "moved_in"), "2026-02-10");
    assert_string_equal(field_of(a, "due"), "2026-03-10");
    assert_string_equal(field_of(a, "limit"), "2026-05-10");
    assert_string_equal(field_of(entry(l, "VA/1-104"), "state"), "missed");
    assert_null(entry(l, "VA/1-102")); /* no_visit */
    assert_null(entry(l, "VA/2-201")); /* owner for over a year */
    done(&r);
    OK(&r, "clerk1", "query.visits_due",
       "{\"estate\":\"VA\",\"as_of\":\"2026-03-15\"}");
    assert_string_equal(
        field_of(entry(h_reply_get(&r, "result.new_owner"), "VA/1-101"),
                 "state"),
        "overdue");
    done(&r);
}

/* R-VIS-01..04, R-CMP-08: what a visit record must satisfy; each refusal
 * writes nothing. */
static void test_vis_refusals(void **state)
{
    (void)state;
    refused(
        "rule", "R-CMP-08", "clerk1", "visit.record",
        "{\"unit\":\"VA/1-102\",\"person\":\"%s\",\"kind\":\"routine\"," VISIT_TAIL
        "}",
        own_b);
    /* R-VIS-02: needs and satisfaction recorded */
    refused("rule", "R-VIS-02", "clerk1", "visit.record",
            "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"routine\","
            "\"actions\":\"x\",\"completion\":\"done\","
            "\"satisfaction\":\"satisfied\"}",
            own_a);
    refused("rule", "R-VIS-02", "clerk1", "visit.record",
            "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"routine\","
            "\"needs\":\"x\",\"actions\":\"x\",\"completion\":\"done\"}",
            own_a);
    /* R-VIS-02: a manager visit is the manager's */
    refused(
        "rule", "R-VIS-02", "clerk1", "visit.record",
        "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"manager\"," VISIT_TAIL
        "}",
        own_a);
    /* R-VIS-03: an important visit needs an important customer */
    refused(
        "rule", "R-VIS-03", "clerk1", "visit.record",
        "{\"unit\":\"VA/2-201\",\"person\":\"%s\",\"kind\":\"important\"," VISIT_TAIL
        "}",
        own_d);
    /* R-VIS-04: only vacant units get the vacant inspection */
    refused("rule", "R-VIS-04", "clerk1", "visit.record",
            "{\"unit\":\"VA/1-101\",\"kind\":\"vacant_inspection\","
            "\"actions\":\"x\",\"completion\":\"done\"}");
    /* R-VIS-01: the first visit is the owner's; the second follows it */
    refused(
        "rule", "R-VIS-01", "clerk1", "visit.record",
        "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"new_owner\"," VISIT_TAIL
        "}",
        fam);
    refused(
        "rule", "R-VIS-01", "clerk1", "visit.record",
        "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"second\"," VISIT_TAIL
        "}",
        own_a);
    refused(
        "invalid", NULL, "clerk1", "visit.record",
        "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"routine\"," VISIT_TAIL
        "}",
        own_d); /* not related to that unit */
    refused("invalid", NULL, "clerk1", "visit.record",
            "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"routine\","
            "\"date\":\"2026-03-03\"," VISIT_TAIL "}",
            own_a);
    refused("not_found", NULL, "clerk1", "visit.record",
            "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"routine\","
            "\"visitor\":\"nobody\"," VISIT_TAIL "}",
            own_a);
    refused(
        "not_found", NULL, "clerk1", "visit.record",
        "{\"unit\":\"VA/9-999\",\"person\":\"%s\",\"kind\":\"routine\"," VISIT_TAIL
        "}",
        own_a);
    refused("forbidden", NULL, "clerk1", "person.set_important",
            "{\"person\":\"%s\",\"tag\":\"school\"}", own_d);
}

/* R-VIS-01: after the first visit the owner leaves the new-owner list and
 * the second visit is listed around a month later. */
static void test_vis_01_first_then_second(void **state)
{
    struct h_reply r;
    json_t *s;
    (void)state;

    visit(&r, "clerk1", "VA/1-101", own_a, "new_owner");
    assert_string_equal(h_reply_str(&r, "events.0.type"), "visit.recorded");
    assert_string_equal(h_reply_str(&r, "events.0.data.visitor"), "clerk1");
    assert_string_equal(h_reply_str(&r, "events.0.data.relation"), "owner");
    done(&r);
    refused(
        "conflict", NULL, "clerk1", "visit.record",
        "{\"unit\":\"VA/1-101\",\"person\":\"%s\",\"kind\":\"new_owner\"," VISIT_TAIL
        "}",
        own_a);
    OK(&r, "clerk1", "query.visits_due",
       "{\"estate\":\"VA\",\"as_of\":\"2026-03-25\"}");
    assert_null(entry(h_reply_get(&r, "result.new_owner"), "VA/1-101"));
    assert_null(entry(h_reply_get(&r, "result.second"), "VA/1-101"));
    done(&r);
    OK(&r, "clerk1", "query.visits_due",
       "{\"estate\":\"VA\",\"as_of\":\"2026-03-27\"}");
    s = entry(h_reply_get(&r, "result.second"), "VA/1-101");
    assert_string_equal(field_of(s, "state"), "due");
    assert_string_equal(field_of(s, "due"), "2026-04-02");
    assert_string_equal(field_of(s, "first_visit"), "2026-03-02");
    done(&r);
    OK(&r, "clerk1", "query.visits_due",
       "{\"estate\":\"VA\",\"as_of\":\"2026-04-10\"}");
    assert_string_equal(
        field_of(entry(h_reply_get(&r, "result.second"), "VA/1-101"), "state"),
        "overdue");
    done(&r);

    clock_to("2026-04-03T10:00:00+08:00");
    visit(&r, "clerk1", "VA/1-101", own_a, "second");
    done(&r);
    OK(&r, "clerk1", "query.visits_due", "{\"estate\":\"VA\"}");
    assert_null(entry(h_reply_get(&r, "result.second"), "VA/1-101"));
    done(&r);
    OK(&r, "clerk1", "query.visits", "{\"unit\":\"VA/1-101\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.visits")), 2);
    assert_string_equal(h_reply_str(&r, "result.visits.1.kind"), "second");
    done(&r);
}

/* R-VIS-02, R-VIS-03: important customers get their own visits; the
 * manager's monthly minimum is reported with who is short. */
static void test_vis_02_03_manager_minimum_and_important(void **state)
{
    struct h_reply r;
    (void)state;

    OK(&r, "lead1", "person.set_important",
       "{\"person\":\"%s\",\"tag\":\"owners_committee\"}", own_d);
    done(&r);
    refused("invalid", NULL, "lead1", "person.set_important",
            "{\"person\":\"%s\",\"tag\":\"owners_committee\"}", own_d);
    visit(&r, "clerk1", "VA/2-201", own_d, "important");
    assert_string_equal(h_reply_str(&r, "events.0.data.important"),
                        "owners_committee");
    done(&r);

    visit(&r, "mgr1", "VA/2-201", own_d, "manager");
    done(&r);
    OK(&r, "clerk1", "query.visit_managers", "{\"month\":\"2026-04\"}");
    assert_int_equal(h_reply_int(&r, "result.minimum", -1), 2);
    assert_string_equal(h_reply_str(&r, "result.managers.0.operator"), "mgr1");
    assert_int_equal(h_reply_int(&r, "result.managers.0.households", -1), 1);
    assert_true(json_is_true(h_reply_get(&r, "result.managers.0.short")));
    done(&r);
    OK(&r, "clerk1", "visit.record",
       "{\"unit\":\"VA/1-104\",\"person\":\"%s\",\"kind\":\"manager\","
       "\"visitor\":\"mgr1\"," VISIT_TAIL "}",
       own_e);
    done(&r);
    OK(&r, "clerk1", "query.visit_managers", "{\"month\":\"2026-04\"}");
    assert_int_equal(h_reply_int(&r, "result.managers.0.households", -1), 2);
    assert_true(json_is_false(h_reply_get(&r, "result.managers.0.short")));
    /* every visitor's totals: clerk1 (second, important), mgr1 (2) */
    assert_int_equal(json_array_size(h_reply_get(&r, "result.visitors")), 2);
    done(&r);
    OK(&r, "clerk1", "query.visit_managers", "{\"month\":\"2026-03\"}");
    assert_int_equal(h_reply_int(&r, "result.managers.0.households", -1), 0);
    assert_true(json_is_true(h_reply_get(&r, "result.managers.0.short")));
    done(&r);

    /* R-VIS-03: tenure groups as of 2026-04-03, B (no_visit) left out */
    OK(&r, "clerk1", "query.visit_plan", "{\"estate\":\"VA\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.owners")), 4);
    assert_int_equal(h_reply_int(&r, "result.groups.lt6", -1), 2);
    assert_int_equal(h_reply_int(&r, "result.groups.6_12", -1), 0);
    assert_int_equal(h_reply_int(&r, "result.groups.12_24", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.groups.gt24", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.important", -1), 1);
    assert_string_equal(
        field_of(entry(h_reply_get(&r, "result.owners"), "VA/2-201"),
                 "important"),
        "owners_committee");
    assert_string_equal(
        field_of(entry(h_reply_get(&r, "result.owners"), "VA/2-201"),
                 "last_visit"),
        "2026-04-03");
    done(&r);

    /* coverage in April: building 1 has 101 and 104 visited of 3 occupied
     * (101, 102, 104), building 2 its one unit */
    OK(&r, "clerk1", "query.visit_coverage",
       "{\"estate\":\"VA\",\"month\":\"2026-04\"}");
    assert_string_equal(h_reply_str(&r, "result.buildings.0.building"), "1");
    assert_int_equal(h_reply_int(&r, "result.buildings.0.visited", -1), 2);
    assert_int_equal(h_reply_int(&r, "result.buildings.0.occupied", -1), 3);
    /* 2 of 3, rounded half up (R-CMP-11 rate rule, docs/COMPLAINTS.md) */
    assert_int_equal(h_reply_int(&r, "result.buildings.0.percent", -1), 67);
    assert_int_equal(h_reply_int(&r, "result.buildings.1.visited", -1), 1);
    assert_int_equal(h_reply_int(&r, "result.buildings.1.percent", -1), 100);
    done(&r);
}

/* R-VIS-04: vacant units are inspected monthly; the due list shows the
 * last inspection. */
static void test_vis_04_vacant_monthly(void **state)
{
    struct h_reply r;
    json_t *v;
    (void)state;

    OK(&r, "clerk1", "query.visits_due", "{\"estate\":\"VA\"}");
    v = entry(h_reply_get(&r, "result.vacant"), "VA/1-103");
    assert_non_null(v);
    assert_true(json_is_null(json_object_get(v, "last_done")));
    assert_int_equal(json_array_size(h_reply_get(&r, "result.vacant")), 1);
    done(&r);
    OK(&r, "clerk1", "visit.record",
       "{\"unit\":\"VA/1-103\",\"kind\":\"vacant_inspection\","
       "\"actions\":\"清洁、检查门窗水电\",\"completion\":\"done\"}");
    done(&r);
    OK(&r, "clerk1", "query.visits_due", "{\"estate\":\"VA\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.vacant")), 0);
    done(&r);
    OK(&r, "clerk1", "query.visits_due",
       "{\"estate\":\"VA\",\"as_of\":\"2026-05-02\"}");
    v = entry(h_reply_get(&r, "result.vacant"), "VA/1-103");
    assert_string_equal(field_of(v, "last_done"), "2026-04-03");
    assert_string_equal(field_of(v, "state"), "due");
    done(&r);
}

/* Replaying the log gives visit tables identical to the live ones. */
static void test_vis_rebuild_equals_live(void **state)
{
    (void)state;
    rebuild_equals_live(&srv);
}

static int setup(void **state)
{
    (void)state;
    if (h_server_start(&srv, NULL))
        return -1;
    desk = &cli;
    return h_client_open(&cli, srv.cmd_ep);
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
        cmocka_unit_test(test_vis_01_new_owner_due),
        cmocka_unit_test(test_vis_refusals),
        cmocka_unit_test(test_vis_01_first_then_second),
        cmocka_unit_test(test_vis_02_03_manager_minimum_and_important),
        cmocka_unit_test(test_vis_04_vacant_monthly),
        cmocka_unit_test(test_vis_rebuild_equals_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
