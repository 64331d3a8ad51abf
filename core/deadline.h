/* core/deadline.h - deadline rules as the config states them:
 * "same_day", "workday_end", "workdays:N", "hours:N", "days:N", "0" (at
 * once). Applied to a start time with the working calendar. Used by the
 * complaint rules (R-CMP-04, R-CMP-06..09); settings, not constants. */
#ifndef DESKD_DEADLINE_H
#define DESKD_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"

enum deadline_kind {
    DL_NOW,         /* "0": at once */
    DL_SAME_DAY,    /* the desk's close that day */
    DL_WORKDAY_END, /* end of this working day (or the next one) */
    DL_WORKDAYS,    /* close of the n-th working day after */
    DL_HOURS,
    DL_DAYS,
};

struct deadline {
    enum deadline_kind kind;
    int n;
};

/* Returns 0 or -1. */
int deadline_parse(const char *s, struct deadline *d);
/* The rule as the config states it ("workdays:2", "same_day"). */
#define DEADLINE_STR_MAX 24
void deadline_format(const struct deadline *d, char buf[DEADLINE_STR_MAX]);
int64_t deadline_apply(const struct deadline *d, const struct calendar *c,
                       int64_t from);
/* Whether due = deadline_apply(d, c, from) is provisional (R-GEN-05): the
 * rule counts with the calendar (same_day, workday_end, workdays:N) and
 * from or due falls outside the calendar's coverage, so the answer
 * assumed no holiday and no make-up working day there. hours:N, days:N
 * and 0 never are. */
bool deadline_provisional(const struct deadline *d, const struct calendar *c,
                          int64_t from, int64_t due);

#endif
