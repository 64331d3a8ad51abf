/* core/deadline.c - deadline rules from the config, applied with the
 * working calendar. */
#include "deadline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

#define DEADLINE_N_MAX 3660 /* days/hours/working days in one rule */

int deadline_parse(const char *s, struct deadline *d)
{
    static const struct {
        const char *prefix;
        enum deadline_kind kind;
    } counted[] = {
        {"workdays:", DL_WORKDAYS}, {"hours:", DL_HOURS}, {"days:", DL_DAYS}};
    if (!strcmp(s, "0"))
        return *d = (struct deadline){DL_NOW, 0}, 0;
    if (!strcmp(s, "same_day"))
        return *d = (struct deadline){DL_SAME_DAY, 0}, 0;
    if (!strcmp(s, "workday_end"))
        return *d = (struct deadline){DL_WORKDAY_END, 0}, 0;
    for (size_t i = 0; i < sizeof(counted) / sizeof(*counted); i++) {
        size_t pl = strlen(counted[i].prefix);
        char *end;
        long n;
        if (strncmp(s, counted[i].prefix, pl))
            continue;
        n = strtol(s + pl, &end, 10);
        if (*end || end == s + pl || n < 1 || n > DEADLINE_N_MAX)
            return -1;
        *d = (struct deadline){counted[i].kind, (int)n};
        return 0;
    }
    return -1;
}

void deadline_format(const struct deadline *d, char buf[DEADLINE_STR_MAX])
{
    static const char *const names[] = {[DL_NOW] = "0",
                                        [DL_SAME_DAY] = "same_day",
                                        [DL_WORKDAY_END] = "workday_end",
                                        [DL_WORKDAYS] = "workdays",
                                        [DL_HOURS] = "hours",
                                        [DL_DAYS] = "days"};

    if (d->kind == DL_WORKDAYS || d->kind == DL_HOURS || d->kind == DL_DAYS)
        snprintf(buf, DEADLINE_STR_MAX, "%s:%d", names[d->kind], d->n);
    else
        snprintf(buf, DEADLINE_STR_MAX, "%s", names[d->kind]);
}

int64_t deadline_apply(const struct deadline *d, const struct calendar *c,
                       int64_t from)
{
    switch (d->kind) {
    case DL_NOW:
        return from;
    case DL_SAME_DAY:
        return cal_end_of_day(c, from);
    case DL_WORKDAY_END:
        return cal_end_of_workday(c, from);
    case DL_WORKDAYS:
        return cal_workdays_deadline(c, from, d->n);
    case DL_HOURS:
        return from + (int64_t)d->n * 3600 * 1000;
    case DL_DAYS:
        return from + (int64_t)d->n * MS_PER_DAY;
    }
    return from;
}

bool deadline_provisional(const struct deadline *d, const struct calendar *c,
                          int64_t from, int64_t due)
{
    switch (d->kind) {
    case DL_SAME_DAY:
    case DL_WORKDAY_END:
    case DL_WORKDAYS:
        return !cal_span_covered(c, from, due);
    default:
        return false;
    }
}
