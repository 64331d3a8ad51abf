/* tests/integration/it_deadlines.c - timers for the desk's deadlines
 * beyond complaints: the renovation register's (R-REN-02 term, R-REN-04 worker
 * passes, R-REN-05 rectification) against a real deskd with a manual clock that
 * starts on 2026-03-02. Each deadline fires its event once, at the desk's
 * opening on the first working day after the deadline day (never a moment
 * before), not again after a restart, and a replay of the log gives the same
 * tables and timers. The same for an unused goods-release pass (R-REL-04) and a
 * move-in inspection's failed items (R-MOV-02). The tests run in clock
 * order: the clock only moves forward. */
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
static char owner[24], ren[24], viol[24], viol_late[24], owner2[24], ren2[24];
static char owner3[24];

/* Events of one type in the log: their count, and "key=value;" of the
 * last one's data for the keys asked. */
struct seen {
    const char *type;
    int n;
    char occurred[40];
    json_t *last;
};

static int seen_add(json_t *ev, void *arg)
{
    struct seen *s = arg;
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *at = json_string_value(json_object_get(ev, "occurred_at"));

    if (!at) /* absent when it equals recorded_at */
        at = json_string_value(json_object_get(ev, "recorded_at"));
    if (!type || strcmp(type, s->type))
        return 0;
    s->n++;
    snprintf(s->occurred, sizeof(s->occurred), "%s", at ? at : "");
    if (s->last)
        json_decref(s->last);
    s->last = json_deep_copy(json_object_get(ev, "data"));
    return 0;
}

/* How many events of type the log holds; fills s. Release s->last. */
static int count(const char *type, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    s->type = type;
    assert_true(h_log_all(&cli, seen_add, s) >= 0);
    return s->n;
}

static int count_only(const char *type)
{
    struct seen s;
    int n = count(type, &s);
    if (s.last)
        json_decref(s.last);
    return n;
}

static const char *str_of(const struct seen *s, const char *key)
{
    return json_string_value(json_object_get(s->last, key));
}

static void restart(void)
{
    assert_int_equal(h_server_restart(&srv), 0);
    h_client_close(&cli);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
}

/* A self renovation of unit <estate>/1-101 from start to end, its
 * deposit paid. */
static void filed(const char *estate, char own[24], const char *start,
                  const char *end, char id[24])
{
    struct h_reply r;

    desk_estate(estate, "residence", DESK_ID_NO, own);
    OK(&r, "clerk1", "renovation.file",
       "{\"unit\":\"%s/1-101\",\"applicant\":\"%s\",\"self\":true,"
       "\"items\":[\"walls\"],\"documents\":[\"drawings\",\"worker_list\"],"
       "\"start\":\"%s\",\"end\":\"%s\"}",
       estate, own, start, end);
    snprintf(id, 24, "%s", h_reply_str(&r, "events.0.data.renovation"));
    done(&r);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"%s1\","
       "\"method\":\"cash\"}",
       id, estate);
    done(&r);
}

/* R-REN-02, R-REN-04, R-REN-05: the deadlines are written into the events
 * as times on the working calendar: 2026-04-03 (Fri) before the
 * Tomb-sweeping holiday is missed at the opening on Tue 04-07, 08:30;
 * the term ending Thu 04-30 before the Labour Day holiday at the opening
 * on Wed 05-06. A deadline in 2027 lies past the calendar's coverage:
 * provisional (R-GEN-05). */
static void test_deadlines_recorded(void **state)
{
    struct h_reply r;
    (void)state;
    filed("TA", owner, "2026-03-10", "2026-04-30", ren);
    OK(&r, "clerk1", "renovation.pass_issue",
       "{\"renovation\":\"%s\",\"pass\":\"W1\",\"worker\":\"Zhang\"}", ren);
    done(&r);
    OK(&r, "clerk1", "renovation.pass_issue",
       "{\"renovation\":\"%s\",\"pass\":\"W2\",\"worker\":\"Li\"}", ren);
    done(&r);
    OK(&r, "clerk1", "renovation.inspect",
       "{\"renovation\":\"%s\",\"violation\":\"facade\",\"notice\":"
       "\"ZG-01\",\"deadline\":\"2026-04-03\"}",
       ren);
    assert_string_equal(h_reply_str(&r, "events.1.type"),
                        "renovation.violation_found");
    snprintf(viol, sizeof(viol), "%s",
             h_reply_str(&r, "events.1.data.violation"));
    assert_null(h_reply_str(&r, "events.1.data.provisional.0"));
    done(&r);
    OK(&r, "clerk1", "renovation.inspect",
       "{\"renovation\":\"%s\",\"violation\":\"drains\",\"notice\":"
       "\"ZG-02\",\"deadline\":\"2027-01-15\"}",
       ren);
    snprintf(viol_late, sizeof(viol_late), "%s",
             h_reply_str(&r, "events.1.data.violation"));
    assert_string_equal(h_reply_str(&r, "events.1.data.provisional.0"),
                        "deadline_due");
    done(&r);
    /* a desk cannot fire them */
    refused("forbidden", NULL, "clerk1", "renovation.expire_term",
            "{\"renovation\":\"%s\",\"due\":1}", ren);
    refused("forbidden", NULL, "clerk1", "renovation.violation_overdue",
            "{\"renovation\":\"%s\",\"violation\":\"%s\",\"due\":1}", ren,
            viol);
}

/* R-REN-05: the violation still open fires once at 04-07 08:30, not at
 * 08:29:59, not on the holiday; not again after a restart. */
static void test_ren_05_violation_overdue_once(void **state)
{
    struct seen s;
    struct h_reply r;
    (void)state;
    clock_to("2026-04-04T09:00:00+08:00"); /* the day after: a holiday */
    assert_int_equal(count_only("renovation.violation_overdue"), 0);
    clock_to("2026-04-07T08:29:59+08:00");
    assert_int_equal(count_only("renovation.violation_overdue"), 0);
    clock_to("2026-04-07T08:30:00+08:00");
    assert_int_equal(count("renovation.violation_overdue", &s), 1);
    assert_string_equal(str_of(&s, "violation"), viol);
    assert_string_equal(str_of(&s, "deadline"), "2026-04-03");
    assert_false(json_is_true(json_object_get(s.last, "provisional")));
    assert_string_equal(s.occurred, "2026-04-07T08:30:00+08:00");
    json_decref(s.last);
    OK(&r, "clerk1", "query.renovation", "{\"renovation\":\"%s\"}", ren);
    assert_string_equal(h_reply_str(&r, "result.violations.0.violation"), viol);
    assert_true(h_reply_int(&r, "result.violations.0.overdue", 0) > 0);
    done(&r);
    restart();
    clock_to("2026-04-08T10:00:00+08:00");
    assert_int_equal(count_only("renovation.violation_overdue"), 1);
    /* rectified late: still once */
    OK(&r, "clerk1", "renovation.rectify",
       "{\"renovation\":\"%s\",\"violation\":\"%s\"}", ren, viol);
    done(&r);
    assert_int_equal(count_only("renovation.violation_overdue"), 1);
}

/* R-REN-02 and R-REN-04: the term ending 04-30 with a pass out fires both
 * at the opening on 05-06 (the Labour Day holiday 05-01..05 skipped), not
 * a moment before; the passes event names the pass still out; once only,
 * also after a restart. */
static void test_ren_02_04_term_and_passes_once(void **state)
{
    struct seen s;
    struct h_reply r;
    (void)state;
    OK(&r, "clerk1", "renovation.pass_return",
       "{\"renovation\":\"%s\",\"pass\":\"W1\"}", ren);
    done(&r);
    clock_to("2026-05-01T09:00:00+08:00");
    assert_int_equal(count_only("renovation.term_expired"), 0);
    clock_to("2026-05-06T08:29:59+08:00");
    assert_int_equal(count_only("renovation.term_expired"), 0);
    assert_int_equal(count_only("renovation.passes_overdue"), 0);
    clock_to("2026-05-06T08:30:00+08:00");
    assert_int_equal(count("renovation.term_expired", &s), 1);
    assert_string_equal(str_of(&s, "renovation"), ren);
    assert_string_equal(str_of(&s, "end"), "2026-04-30");
    assert_string_equal(s.occurred, "2026-05-06T08:30:00+08:00");
    json_decref(s.last);
    assert_int_equal(count("renovation.passes_overdue", &s), 1);
    assert_int_equal(json_array_size(json_object_get(s.last, "passes")), 1);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(s.last, "passes"), 0)),
        "W2");
    json_decref(s.last);
    refused("forbidden", NULL, "clerk1", "renovation.passes_overdue",
            "{\"renovation\":\"%s\",\"due\":1}", ren);
    restart();
    clock_to("2026-05-07T10:00:00+08:00");
    assert_int_equal(count_only("renovation.term_expired"), 1);
    assert_int_equal(count_only("renovation.passes_overdue"), 1);
}

/* R-REN-02: an extension sets a new end; the term fires again for it,
 * once, at the opening on the working day after (Dragon Boat 06-19 a
 * holiday: the term ending Thu 06-18 is missed on Mon 06-22 08:30). The
 * pass returned before then: no second passes event (R-REN-04). */
static void test_ren_02_extension_rearms(void **state)
{
    struct h_reply r;
    (void)state;
    OK(&r, "clerk1", "renovation.extend",
       "{\"renovation\":\"%s\",\"end\":\"2026-06-18\"}", ren);
    done(&r);
    OK(&r, "clerk1", "renovation.pass_return",
       "{\"renovation\":\"%s\",\"pass\":\"W2\"}", ren);
    done(&r);
    clock_to("2026-06-22T08:29:59+08:00");
    assert_int_equal(count_only("renovation.term_expired"), 1);
    clock_to("2026-06-22T08:30:00+08:00");
    assert_int_equal(count_only("renovation.term_expired"), 2);
    assert_int_equal(count_only("renovation.passes_overdue"), 1);
}

/* R-REL-04: a pass is valid only on its date. One not used by then is
 * reported expired once, at the opening on the next working day (Fri
 * 06-26 -> Mon 06-29 08:30), not before, not again after a restart; a
 * used one never is. The gate still refuses the expired one. */
static void test_rel_04_unused_pass_expires_once(void **state)
{
    struct seen s;
    struct h_reply r;
    char used[24], unused[24];
    (void)state;
    OK(&r, "clerk1", "release.request",
       "{\"unit\":\"TA/1-101\",\"applicant\":\"%s\",\"items\":"
       "{\"sofa\":1},\"date\":\"2026-06-26\"}",
       owner);
    snprintf(unused, sizeof(unused), "%s",
             h_reply_str(&r, "events.0.data.pass"));
    assert_true(h_reply_int(&r, "events.0.data.expires_due", 0) > 0);
    done(&r);
    OK(&r, "clerk1", "release.request",
       "{\"unit\":\"TA/1-101\",\"applicant\":\"%s\",\"items\":"
       "{\"boxes\":3},\"date\":\"2026-06-26\"}",
       owner);
    snprintf(used, sizeof(used), "%s", h_reply_str(&r, "events.0.data.pass"));
    done(&r);
    clock_to("2026-06-26T10:00:00+08:00");
    OK(&r, "clerk1", "release.gate_check", "{\"pass\":\"%s\"}", used);
    done(&r);
    clock_to("2026-06-29T08:29:59+08:00");
    assert_int_equal(count_only("release.expired"), 0);
    clock_to("2026-06-29T08:30:00+08:00");
    assert_int_equal(count("release.expired", &s), 1);
    assert_string_equal(str_of(&s, "pass"), unused);
    assert_string_equal(str_of(&s, "was"), "issued");
    assert_string_equal(str_of(&s, "date"), "2026-06-26");
    assert_string_equal(s.occurred, "2026-06-29T08:30:00+08:00");
    json_decref(s.last);
    OK(&r, "clerk1", "query.pass", "{\"pass\":\"%s\"}", unused);
    assert_string_equal(h_reply_str(&r, "result.state"), "expired");
    done(&r);
    refused("rule", "R-REL-04", "clerk1", "release.gate_check",
            "{\"pass\":\"%s\"}", unused);
    refused("forbidden", NULL, "clerk1", "release.expire",
            "{\"pass\":\"%s\",\"due\":1}", unused);
    restart();
    clock_to("2026-06-30T10:00:00+08:00");
    assert_int_equal(count_only("release.expired"), 1);
}

/* R-MOV-02: failed items get a deadline; not fixed (no new inspection)
 * by Fri 07-03 they are reported once, at the opening on Mon 07-06, not
 * before, not again after a restart. A new failed inspection sets a new
 * deadline; passing before it means no report. */
static void test_mov_02_fix_overdue_once(void **state)
{
    struct seen s;
    struct h_reply r;
    (void)state;
    desk_estate("TC", "residence", DESK_ID_NO, owner3);
    OK(&r, "clerk1", "movein.start",
       "{\"unit\":\"TC/1-101\",\"applicant\":\"%s\",\"applicant_type\":"
       "\"household\",\"documents\":[\"handover_notice\",\"owner_id\","
       "\"family_ids\",\"info_card\",\"photos\",\"bank_card\"]}",
       owner3);
    done(&r);
    OK(&r, "clerk1", "movein.inspect",
       "{\"unit\":\"TC/1-101\",\"result\":\"failed\",\"items\":"
       "[\"window seal\"],\"deadline\":\"2026-07-03\"}");
    done(&r);
    clock_to("2026-07-06T08:29:59+08:00");
    assert_int_equal(count_only("movein.fix_overdue"), 0);
    clock_to("2026-07-06T08:30:00+08:00");
    assert_int_equal(count("movein.fix_overdue", &s), 1);
    assert_string_equal(str_of(&s, "unit"), "TC/1-101");
    assert_string_equal(str_of(&s, "fix_by"), "2026-07-03");
    assert_string_equal(s.occurred, "2026-07-06T08:30:00+08:00");
    json_decref(s.last);
    refused("forbidden", NULL, "clerk1", "movein.fix_overdue",
            "{\"unit\":\"TC/1-101\",\"due\":1}");
    restart();
    clock_to("2026-07-07T10:00:00+08:00");
    assert_int_equal(count_only("movein.fix_overdue"), 1);
    OK(&r, "clerk1", "movein.inspect",
       "{\"unit\":\"TC/1-101\",\"result\":\"failed\",\"items\":"
       "[\"door\"],\"deadline\":\"2026-07-10\"}");
    done(&r);
    clock_to("2026-07-09T10:00:00+08:00");
    OK(&r, "clerk1", "movein.inspect",
       "{\"unit\":\"TC/1-101\",\"result\":\"passed\"}");
    done(&r);
    clock_to("2026-07-20T10:00:00+08:00");
    assert_int_equal(count_only("movein.fix_overdue"), 1);
}

/* R-REN-02, R-REN-05: a renovation whose completion inspection passed
 * before its end never fires; a violation rectified before its deadline
 * never fires; one past the calendar's coverage fires marked provisional
 * (R-GEN-05). */
static void test_ren_closed_in_time_never_fires(void **state)
{
    struct seen s;
    struct h_reply r;
    int before = count_only("renovation.term_expired");
    (void)state;
    filed("TB", owner2, "2026-07-21", "2026-09-10", ren2);
    OK(&r, "clerk1", "renovation.inspect",
       "{\"renovation\":\"%s\",\"violation\":\"other\",\"notice\":"
       "\"ZG-03\",\"deadline\":\"2026-08-10\"}",
       ren2);
    snprintf(viol, sizeof(viol), "%s",
             h_reply_str(&r, "events.1.data.violation"));
    done(&r);
    OK(&r, "clerk1", "renovation.rectify",
       "{\"renovation\":\"%s\",\"violation\":\"%s\"}", ren2, viol);
    done(&r);
    OK(&r, "clerk1", "renovation.rectify",
       "{\"renovation\":\"%s\",\"violation\":\"%s\"}", ren, viol_late);
    done(&r);
    OK(&r, "clerk1", "renovation.complete",
       "{\"renovation\":\"%s\",\"result\":\"passed\"}", ren2);
    done(&r);
    /* found after acceptance, due past the calendar's coverage: it fires
     * on the guess (Mon 2027-01-04 -> Tue 01-05 08:30), marked
     * provisional (R-GEN-05) */
    OK(&r, "clerk1", "renovation.inspect",
       "{\"renovation\":\"%s\",\"violation\":\"facade\",\"notice\":"
       "\"ZG-04\",\"deadline\":\"2027-01-04\"}",
       ren2);
    snprintf(viol, sizeof(viol), "%s",
             h_reply_str(&r, "events.1.data.violation"));
    done(&r);
    clock_to("2027-01-05T08:29:59+08:00");
    assert_int_equal(count_only("renovation.violation_overdue"), 1);
    clock_to("2027-01-20T10:00:00+08:00");
    assert_int_equal(count_only("renovation.term_expired"), before);
    assert_int_equal(count("renovation.violation_overdue", &s), 2);
    assert_string_equal(str_of(&s, "violation"), viol);
    assert_true(json_is_true(json_object_get(s.last, "provisional")));
    assert_string_equal(s.occurred, "2027-01-05T08:30:00+08:00");
    json_decref(s.last);
}

static void test_deadlines_rebuild_equals_live(void **state)
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
        cmocka_unit_test(test_deadlines_recorded),
        cmocka_unit_test(test_ren_05_violation_overdue_once),
        cmocka_unit_test(test_ren_02_04_term_and_passes_once),
        cmocka_unit_test(test_ren_02_extension_rearms),
        cmocka_unit_test(test_rel_04_unused_pass_expires_once),
        cmocka_unit_test(test_mov_02_fix_overdue_once),
        cmocka_unit_test(test_ren_closed_in_time_never_fires),
        cmocka_unit_test(test_deadlines_rebuild_equals_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
