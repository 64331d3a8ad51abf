/* core/date.h - civil dates and timestamps. A day is days since 1970-01-01
 * (int32); a timestamp is milliseconds since the Unix epoch, UTC (int64).
 * Local time is UTC plus a fixed offset (Asia/Shanghai is +08:00 with no
 * daylight saving since 1991), passed in explicitly so the code never depends
 * on the process's TZ or on tzdata being installed. */
#ifndef DESKD_DATE_H
#define DESKD_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)
#define DATE_STR_MAX 11 /* "2026-03-01" + NUL */
#define TS_STR_MAX 32   /* "2026-03-01T09:30:00.123+08:00" + NUL */
#define DATE_NONE INT32_MIN

/* Days since 1970-01-01 for a proleptic Gregorian y-m-d (no range check). */
int32_t date_from_ymd(int y, int m, int d);
void date_to_ymd(int32_t day, int *y, int *m, int *d);
/* 0 = Monday ... 6 = Sunday. */
int date_weekday(int32_t day);
int date_days_in_month(int y, int m);
bool date_is_leap(int y);

/* Parses exactly "YYYY-MM-DD" (a real calendar date, years 1900..2199).
 * Returns 0 or -1. */
int date_parse(const char *s, size_t len, int32_t *out);
/* Writes "YYYY-MM-DD"; buf must hold DATE_STR_MAX bytes. */
void date_format(int32_t day, char buf[DATE_STR_MAX]);

/* Parses ISO 8601 "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or "+hh:mm"
 * / "-hh:mm"; without a zone the local offset (minutes) is assumed.
 * Returns 0 or -1. */
int ts_parse(const char *s, size_t len, int offset_min, int64_t *out);
/* Writes "YYYY-MM-DDTHH:MM:SS+hh:mm" in local time (milliseconds appended
 * only when not zero). */
void ts_format(int64_t ts, int offset_min, char buf[TS_STR_MAX]);

/* Local calendar day of a timestamp, and the timestamp of a local day's
 * minute-of-day. */
int32_t date_of_ts(int64_t ts, int offset_min);
int64_t ts_of_date(int32_t day, int minute_of_day, int offset_min);
/* Minute of the local day (0..1439) of a timestamp. */
int ts_minute_of_day(int64_t ts, int offset_min);

/* Adds months keeping the day, clamped to the month's end (01-31 + 1 month
 * = 02-28/29). */
int32_t date_add_months(int32_t day, int months);

/* The last day of a run of months counted from anchor (R-CARD-03): the day
 * before the same date `months` later (06-09 + 1 -> 07-08); when that month
 * has no such date, its last day (2024-01-30 + 1 -> 2024-02-29, 2026-01-31
 * + 1 -> 2026-02-28). Counting from the anchor, never from a clamped end,
 * keeps later months on the anchor's date (01-31 + 2 -> 03-30). */
int32_t date_period_end(int32_t anchor, int months);

#endif
