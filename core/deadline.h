/* core/deadline.h - deadline rules as the config states them:
 * "same_day", "workday_end", "workdays:N", "hours:N", "days:N", "0" (at
 * once). Applied to a start time with the working calendar. Used by the
 * complaint rules (R-CMP-04, R-CMP-06..09); settings, not constants. */
#ifndef DESKD_DEADLINE_H
#define DESKD_DEADLINE_H

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
int64_t deadline_apply(const struct deadline *d, const struct calendar *c,
                       int64_t from);

#endif
