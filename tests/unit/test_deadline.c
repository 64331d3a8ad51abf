/* tests/unit/test_deadline.c - deadline rules from the config (core/
 * deadline.c) applied with the real 2026 calendar (R-CMP-04, R-GEN-05). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../core/calendar.h"
#include "../../core/date.h"
#include "../../core/deadline.h"

static struct calendar cal;

static int64_t ts(const char *s)
{
    int64_t t;
    assert_int_equal(ts_parse(s, strlen(s), 480, &t), 0);
    return t;
}

static void expect(const char *rule, const char *from, const char *want)
{
    struct deadline d;
    char buf[TS_STR_MAX];
    assert_int_equal(deadline_parse(rule, &d), 0);
    ts_format(deadline_apply(&d, &cal, ts(from)), 480, buf);
    if (strcmp(buf, want))
        fail_msg("%s from %s: got %s, want %s", rule, from, buf, want);
}

static int setup(void **state)
{
    struct err e = {0};
    (void)state;
    cal_init(&cal);
    return cal_load(&cal, "config/holidays.tsv", &e);
}

/* R-CMP-04: the channel rules on real dates around National Day 2026. */
static void test_cmp04_rules_on_2026_dates(void **state)
{
    (void)state;
    /* letter before the break: 10-08 and 10-09 are the 2 working days */
    expect("workdays:2", "2026-09-30T10:00:00+08:00",
           "2026-10-09T18:00:00+08:00");
    /* online at 20:00 on a working day: after work resumes next day */
    expect("workday_end", "2026-11-24T20:00:00+08:00",
           "2026-11-25T18:00:00+08:00");
    /* online on the make-up Saturday 10-10: a working day */
    expect("workday_end", "2026-10-10T09:00:00+08:00",
           "2026-10-10T18:00:00+08:00");
    /* walk-in on a holiday: rest-day hours, the same day */
    expect("same_day", "2026-10-03T11:00:00+08:00",
           "2026-10-03T17:00:00+08:00");
    expect("hours:24", "2026-10-03T11:00:00+08:00",
           "2026-10-04T11:00:00+08:00");
    expect("days:10", "2026-09-30T10:00:00+08:00", "2026-10-10T10:00:00+08:00");
    expect("0", "2026-09-30T10:00:00+08:00", "2026-09-30T10:00:00+08:00");
}

/* deadline_format gives back what deadline_parse read: the setting an
 * explanation names (explain=true, R-CMP-04). */
static void test_format_round_trips(void **state)
{
    static const char *const rules[] = {"0",          "same_day", "workday_end",
                                        "workdays:2", "hours:24", "days:10",
                                        NULL};
    (void)state;
    for (int i = 0; rules[i]; i++) {
        struct deadline d;
        char buf[DEADLINE_STR_MAX];
        assert_int_equal(deadline_parse(rules[i], &d), 0);
        deadline_format(&d, buf);
        assert_string_equal(buf, rules[i]);
    }
}

static void test_parse_refuses_bad_rules(void **state)
{
    static const char *const bad[] = {"",        "workdays:",   "workdays:0",
                                      "days:-1", "hours:x",     "days:3660000",
                                      "soon",    "workdays:2x", NULL};
    struct deadline d;
    (void)state;
    for (int i = 0; bad[i]; i++)
        if (deadline_parse(bad[i], &d) != -1)
            fail_msg("'%s' was accepted", bad[i]);
}

/* R-GEN-05: the shipped file covers 2024-01-01..2026-12-31; a rule that
 * counts with the calendar is provisional once its start or end leaves it,
 * a rule in hours or days never is. */
static void test_gen05_provisional_past_coverage(void **state)
{
    static const struct {
        const char *rule, *from;
        bool prov;
    } cases[] = {
        {"workdays:2", "2026-12-29T10:00:00+08:00", false}, /* -> 12-31 */
        {"workdays:2", "2026-12-30T10:00:00+08:00", true},  /* -> 2027 */
        {"same_day", "2026-12-31T10:00:00+08:00", false},
        {"same_day", "2027-01-01T10:00:00+08:00", true},
        {"workday_end", "2026-12-31T19:00:00+08:00", true}, /* next: 2027 */
        {"workdays:1", "2023-12-29T10:00:00+08:00", true},  /* from 2023 */
        {"days:10", "2026-12-30T10:00:00+08:00", false},
        {"hours:24", "2026-12-31T10:00:00+08:00", false},
        {"0", "2027-06-01T10:00:00+08:00", false},
    };
    (void)state;

    assert_true(cal_covers(&cal, cal.first) && cal_covers(&cal, cal.last));
    assert_false(cal_covers(&cal, cal.last + 1));
    assert_false(cal_covers(&cal, cal.first - 1));
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct deadline d;
        int64_t from = ts(cases[i].from);
        assert_int_equal(deadline_parse(cases[i].rule, &d), 0);
        if (deadline_provisional(&d, &cal, from,
                                 deadline_apply(&d, &cal, from)) !=
            cases[i].prov)
            fail_msg("%s from %s: provisional should be %d", cases[i].rule,
                     cases[i].from, cases[i].prov);
    }
    /* days left and the warning (60 days ahead, 0: never) */
    assert_int_equal(cal_days_left(&cal, cal.last - 28), 28);
    assert_true(cal_warn_due(&cal, 60, cal.last - 60));
    assert_false(cal_warn_due(&cal, 60, cal.last - 61));
    assert_false(cal_warn_due(&cal, 0, cal.last + 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp04_rules_on_2026_dates),
        cmocka_unit_test(test_gen05_provisional_past_coverage),
        cmocka_unit_test(test_parse_refuses_bad_rules),
        cmocka_unit_test(test_format_round_trips),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
