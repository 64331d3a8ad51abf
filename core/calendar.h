/* core/calendar.h - the working calendar: which days are working days
 * (工作日, national holidays and make-up working days 调休 from a data file),
 * the desk's opening hours, and deadline arithmetic ("end of N working days
 * after t"). Pure functions of the loaded tables; no clock, no I/O after
 * cal_load(). */
#ifndef DESKD_CALENDAR_H
#define DESKD_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define CAL_DAYS_MAX 1024 /* special days in the file; ~40 a year */

enum cal_kind { CAL_NORMAL = 0, CAL_HOLIDAY = 1, CAL_WORKDAY = 2 };

/* Desk hours as minutes of the local day, [open, close). */
struct cal_hours {
    int open;
    int close;
};

struct calendar {
    int offset_min;        /* local time = UTC + offset (Asia/Shanghai 480) */
    struct cal_hours work; /* hours on a working day (default 08:30-18:00) */
    struct cal_hours rest; /* hours on a rest day (default 09:00-17:00) */
    int32_t first, last;   /* days the file covers (its first..last year) */
    int nspecial;
    int32_t special_day[CAL_DAYS_MAX]; /* sorted ascending */
    uint8_t special_kind[CAL_DAYS_MAX];
};

/* Sets defaults: offset +08:00, hours 08:30-18:00 / 09:00-17:00, no special
 * days (so weekends are rest days, every Mon-Fri a working day). */
void cal_init(struct calendar *c);

/* Loads "YYYY-MM-DD<TAB>holiday|workday<TAB>name" lines ('#' comments and
 * blank lines skipped). Errors name the file and line. */
int cal_load(struct calendar *c, const char *path, struct err *e);
/* Same, from a buffer (used by cal_load, tests and the fuzzer). */
int cal_parse(struct calendar *c, const char *buf, size_t len, const char *name,
              struct err *e);

/* Parses "HH:MM-HH:MM" into h. Returns 0 or -1. */
int cal_parse_hours(const char *s, struct cal_hours *h);

bool cal_is_workday(const struct calendar *c, int32_t day);
/* The day's opening hours (working-day or rest-day hours). */
struct cal_hours cal_hours_of(const struct calendar *c, int32_t day);

/* The n-th working day strictly after day (n >= 1); n = 0 returns day if it
 * is a working day, else the next working day. */
int32_t cal_add_workdays(const struct calendar *c, int32_t day, int n);

/* End of the working day t falls in: the close of t's day when that day is a
 * working day and t is before its close; otherwise the close of the next
 * working day ("received outside working hours -> after work resumes"). */
int64_t cal_end_of_workday(const struct calendar *c, int64_t t);

/* Close of the n-th working day after t's local day (R-CMP-04 "within 2
 * working days"). */
int64_t cal_workdays_deadline(const struct calendar *c, int64_t t, int n);

/* Close of the desk on t's own local day (the "same day" for walk-ins and
 * phone calls, whatever kind of day it is); if t is already past that close,
 * the close of the next day the desk opens. */
int64_t cal_end_of_day(const struct calendar *c, int64_t t);

#endif
