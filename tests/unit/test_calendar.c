/* tests/unit/test_calendar.c - the working calendar (R-GEN-05) against the
 * official 2026 dates in config/holidays.tsv, and the file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../core/calendar.h"
#include "../../core/date.h"

static struct calendar cal;

static int32_t day(const char *s)
{
    int32_t d;
    assert_int_equal(date_parse(s, strlen(s), &d), 0);
    return d;
}

static int64_t ts(const char *s)
{
    int64_t t;
    assert_int_equal(ts_parse(s, strlen(s), 480, &t), 0);
    return t;
}

static void assert_ts(int64_t got, const char *want)
{
    char buf[TS_STR_MAX];
    ts_format(got, 480, buf);
    assert_string_equal(buf, want);
}

/* R-GEN-05: holidays rest, make-up weekend days work. */
static void test_gen05_workdays_2026(void **state)
{
    (void)state;
    assert_true(cal_is_workday(&cal, day("2026-09-30")));  /* Wed */
    assert_false(cal_is_workday(&cal, day("2026-10-01"))); /* National Day */
    assert_false(cal_is_workday(&cal, day("2026-10-07")));
    assert_true(cal_is_workday(&cal, day("2026-10-08")));
    assert_true(cal_is_workday(&cal, day("2026-09-20")));  /* Sun, 调休 */
    assert_true(cal_is_workday(&cal, day("2026-10-10")));  /* Sat, 调休 */
    assert_false(cal_is_workday(&cal, day("2026-11-21"))); /* plain Sat */
    assert_true(cal_is_workday(&cal, day("2026-11-23")));  /* plain Mon */
    assert_false(cal_is_workday(&cal, day("2026-02-17"))); /* Spring Fest. */
}

/* R-GEN-05 / R-CMP-04: a letter on 2026-09-30 has 2 working days: the
 * National Day break pushes it to Friday 10-09, 18:00. */
static void test_gen05_letter_before_national_day(void **state)
{
    (void)state;
    assert_ts(cal_workdays_deadline(&cal, ts("2026-09-30T10:00+08:00"), 2),
              "2026-10-09T18:00:00+08:00");
    assert_ts(cal_workdays_deadline(&cal, ts("2026-09-30T10:00+08:00"), 3),
              "2026-10-10T18:00:00+08:00"); /* the make-up Saturday */
}

static void test_gen05_spring_festival(void **state)
{
    int32_t d = cal_add_workdays(&cal, day("2026-02-13"), 1);
    char buf[DATE_STR_MAX];
    (void)state;
    date_format(d, buf);
    /* 02-14 is a make-up Saturday in the 2026 table */
    assert_string_equal(buf, "2026-02-14");
    date_format(cal_add_workdays(&cal, day("2026-02-14"), 1), buf);
    assert_string_equal(buf, "2026-02-24");
    date_format(cal_add_workdays(&cal, day("2026-02-16"), 0), buf);
    assert_string_equal(buf, "2026-02-24");
}

/* "received outside working hours -> the same day after work resumes" */
static void test_gen05_end_of_workday(void **state)
{
    (void)state;
    assert_ts(cal_end_of_workday(&cal, ts("2026-11-23T10:00+08:00")),
              "2026-11-23T18:00:00+08:00");
    assert_ts(cal_end_of_workday(&cal, ts("2026-11-20T19:30+08:00")),
              "2026-11-23T18:00:00+08:00"); /* Fri evening -> Mon */
    assert_ts(cal_end_of_workday(&cal, ts("2026-11-21T11:00+08:00")),
              "2026-11-23T18:00:00+08:00"); /* Saturday */
    assert_ts(cal_end_of_workday(&cal, ts("2026-10-03T11:00+08:00")),
              "2026-10-08T18:00:00+08:00"); /* holiday */
    assert_ts(cal_end_of_workday(&cal, ts("2026-10-10T09:00+08:00")),
              "2026-10-10T18:00:00+08:00"); /* make-up Saturday */
    /* walk-ins: the desk's own closing time that day, weekends 17:00 */
    assert_ts(cal_end_of_day(&cal, ts("2026-11-21T11:00+08:00")),
              "2026-11-21T17:00:00+08:00");
    assert_ts(cal_end_of_day(&cal, ts("2026-11-21T17:30+08:00")),
              "2026-11-22T17:00:00+08:00");
}

static void expect_bad(const char *text, const char *needle)
{
    struct calendar c;
    struct err e = {0};
    cal_init(&c);
    assert_int_equal(cal_parse(&c, text, strlen(text), "t.tsv", &e),
                     ERR_INVALID);
    if (!strstr(e.msg, needle))
        fail_msg("message '%s' lacks '%s'", e.msg, needle);
    assert_int_equal(c.nspecial, 0);
}

static void test_gen05_parser_refuses_bad_lines(void **state)
{
    struct calendar c;
    struct err e = {0};
    struct cal_hours h;
    (void)state;
    expect_bad("2026-02-30\tholiday\tx\n", "t.tsv:1");
    expect_bad("# c\n2026-01-01\tholyday\tx\n", "t.tsv:2: unknown kind");
    expect_bad("2026-01-02\tholiday\n2026-01-01\tholiday\n", "ascending");
    expect_bad("2026-01-01\tholiday\n2026-01-01\tworkday\n", "ascending");
    expect_bad("garbage\n", "t.tsv:1");
    expect_bad("2026-01-01 holiday\n", "t.tsv:1");
    cal_init(&c);
    assert_int_equal(cal_parse(&c, "", 0, "t.tsv", &e), 0);
    {
        const char *t = "\r\n# x\n2026-01-01\tholiday\tNY\r\n";
        assert_int_equal(cal_parse(&c, t, strlen(t), "t.tsv", &e), 0);
    }
    assert_int_equal(c.nspecial, 1);
    assert_int_equal(cal_parse_hours("08:30-18:00", &h), 0);
    assert_int_equal(h.open, 510);
    assert_int_equal(cal_parse_hours("18:00-08:30", &h), -1);
    assert_int_equal(cal_parse_hours("8:30-18:00", &h), -1);
    assert_int_equal(cal_parse_hours("08:30-24:01", &h), -1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen05_workdays_2026),
        cmocka_unit_test(test_gen05_letter_before_national_day),
        cmocka_unit_test(test_gen05_spring_festival),
        cmocka_unit_test(test_gen05_end_of_workday),
        cmocka_unit_test(test_gen05_parser_refuses_bad_lines),
    };
    struct err e = {0};
    cal_init(&cal);
    if (cal_load(&cal, argc > 1 ? argv[1] : "config/holidays.tsv", &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
