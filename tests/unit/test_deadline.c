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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp04_rules_on_2026_dates),
        cmocka_unit_test(test_parse_refuses_bad_rules),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
