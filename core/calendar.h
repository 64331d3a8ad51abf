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
#define CAL_HASH_HEX 64   /* BLAKE2b-256 of the file, in hex */

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
    /* The coverage: January 1 of the file's first year .. December 31 of
     * its last (DATE_NONE when the file lists no day). Outside it the
     * calendar still answers (Mon-Fri working), but that answer is a
     * guess: deadlines computed there are provisional (R-GEN-05). */
    int32_t first, last;
    char hash[CAL_HASH_HEX + 1]; /* of the bytes parsed; "" before */
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

/* Whether day lies in the coverage (first..last). */
bool cal_covers(const struct calendar *c, int32_t day);
/* Whether the local days of both from and to lie in the coverage, so that
 * every day between them does: a deadline from..to worked out with the
 * calendar rests on published dates only. */
bool cal_span_covered(const struct calendar *c, int64_t from, int64_t to);
/* Days still covered after today (last - today; negative once past, and
 * INT32_MIN when nothing is covered). */
int32_t cal_days_left(const struct calendar *c, int32_t today);
/* Whether today is within warn_days of the coverage's end (days left <=
 * warn_days) or past it, or nothing is covered; warn_days 0: never. */
bool cal_warn_due(const struct calendar *c, int warn_days, int32_t today);

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
