/* tests/unit/test_date.c - civil dates and ISO 8601 timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../core/date.h"

static void test_round_trip_every_day(void **state)
{
    (void)state;
    for (int32_t d = date_from_ymd(1900, 1, 1);
         d <= date_from_ymd(2199, 12, 31); d++) {
        int y, m, dd;
        char buf[DATE_STR_MAX];
        int32_t back;
        date_to_ymd(d, &y, &m, &dd);
        assert_int_equal(date_from_ymd(y, m, dd), d);
        date_format(d, buf);
        assert_int_equal(date_parse(buf, strlen(buf), &back), 0);
        assert_int_equal(back, d);
    }
}

static void test_weekdays_and_leap_years(void **state)
{
    (void)state;
    assert_int_equal(date_weekday(date_from_ymd(2026, 11, 22)), 6); /* Sun */
    assert_int_equal(date_weekday(date_from_ymd(1970, 1, 1)), 3);   /* Thu */
    assert_int_equal(date_weekday(date_from_ymd(1969, 12, 29)), 0); /* Mon */
    assert_true(date_is_leap(2000));
    assert_false(date_is_leap(1900));
    assert_true(date_is_leap(2024));
    assert_int_equal(date_days_in_month(2028, 2), 29);
}

static void test_parse_refuses(void **state)
{
    static const char *const bad[] = {
        "2026-02-29", "2026-13-01", "2026-1-01", "2026-01-01x",
        "2026/01/01", "1899-12-31", ""};
    int32_t d;
    int64_t t;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(date_parse(bad[i], strlen(bad[i]), &d), -1);
    assert_int_equal(ts_parse("2026-03-01T25:00", 16, 480, &t), -1);
    assert_int_equal(ts_parse("2026-03-01 09:00", 16, 480, &t), -1);
    assert_int_equal(ts_parse("2026-03-01T09:00+8", 18, 480, &t), -1);
}

static void test_timestamps(void **state)
{
    int64_t a, b, c, d;
    char buf[TS_STR_MAX];
    (void)state;
    assert_int_equal(ts_parse("2026-03-01T09:30:00+08:00", 25, 0, &a), 0);
    assert_int_equal(ts_parse("2026-03-01T01:30:00Z", 20, 0, &b), 0);
    assert_int_equal(ts_parse("2026-03-01T09:30", 16, 480, &c), 0);
    assert_int_equal(ts_parse("2026-02-28T20:30:00-05:00", 25, 0, &d), 0);
    assert_true(a == b && b == c && c == d);
    ts_format(a, 480, buf);
    assert_string_equal(buf, "2026-03-01T09:30:00+08:00");
    assert_int_equal(ts_parse("2026-03-01T09:30:00.250+08:00", 29, 0, &a), 0);
    ts_format(a, 480, buf);
    assert_string_equal(buf, "2026-03-01T09:30:00.250+08:00");
    /* local midnight in Shanghai is 16:00 UTC the day before */
    assert_int_equal(ts_parse("2026-02-28T16:00:00Z", 20, 0, &a), 0);
    assert_int_equal(date_of_ts(a, 480), date_from_ymd(2026, 3, 1));
    assert_int_equal(date_of_ts(a - 1, 480), date_from_ymd(2026, 2, 28));
}

static void test_add_months_clamps(void **state)
{
    (void)state;
    assert_int_equal(date_add_months(date_from_ymd(2026, 1, 31), 1),
                     date_from_ymd(2026, 2, 28));
    assert_int_equal(date_add_months(date_from_ymd(2024, 1, 31), 1),
                     date_from_ymd(2024, 2, 29));
    assert_int_equal(date_add_months(date_from_ymd(2026, 6, 9), 1),
                     date_from_ymd(2026, 7, 9));
    assert_int_equal(date_add_months(date_from_ymd(2026, 12, 15), 1),
                     date_from_ymd(2027, 1, 15));
}

/* R-CARD-03: a paid month runs to the day before the same date next month;
 * a missing date ends the period on that month's last day (leap years
 * included); several months count from the anchor. */
static void test_card_period_end_month_ends(void **state)
{
    static const struct {
        int y, m, d, months, ey, em, ed;
    } cases[] = {
        {2026, 6, 9, 1, 2026, 7, 8},    {2026, 1, 31, 1, 2026, 2, 28},
        {2026, 1, 28, 1, 2026, 2, 27},  {2026, 1, 29, 1, 2026, 2, 28},
        {2024, 1, 30, 1, 2024, 2, 29},  {2028, 1, 31, 1, 2028, 2, 29},
        {2024, 1, 29, 1, 2024, 2, 28},  {2026, 1, 31, 2, 2026, 3, 30},
        {2026, 1, 31, 3, 2026, 4, 30},  {2026, 12, 15, 1, 2027, 1, 14},
        {2026, 3, 1, 1, 2026, 3, 31},   {2026, 3, 2, 24, 2028, 3, 1},
        {2024, 2, 29, 12, 2025, 2, 28}, {2026, 6, 9, 3, 2026, 9, 8},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        assert_int_equal(
            date_period_end(date_from_ymd(cases[i].y, cases[i].m, cases[i].d),
                            cases[i].months),
            date_from_ymd(cases[i].ey, cases[i].em, cases[i].ed));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_day),
        cmocka_unit_test(test_weekdays_and_leap_years),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_add_months_clamps),
        cmocka_unit_test(test_card_period_end_month_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
