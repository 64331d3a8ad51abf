/* core/calendar.c - the working calendar (R-GEN-05): special days from the
 * holiday file, desk hours, and deadline arithmetic. Lookups are binary
 * searches over the sorted special days; nothing here reads the clock. */
#include "calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

/* Deadline loops walk day by day; a calendar cannot hold this many rest
 * days in a row, so the cap only guards against a corrupt table. */
#define CAL_SCAN_DAYS 3660
#define CAL_FILE_MAX (1 << 20) /* bytes in a calendar file */

void cal_init(struct calendar *c)
{
    memset(c, 0, sizeof(*c));
    c->offset_min = 8 * 60;
    c->work = (struct cal_hours){8 * 60 + 30, 18 * 60};
    c->rest = (struct cal_hours){9 * 60, 17 * 60};
    c->first = c->last = DATE_NONE;
}

static int hhmm(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' ||
        s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    *out = ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 +
           (s[4] - '0');
    return *out > 24 * 60 ? -1 : 0;
}

int cal_parse_hours(const char *s, struct cal_hours *h)
{
    struct cal_hours t;
    if (strlen(s) != 11 || s[5] != '-' || hhmm(s, &t.open) ||
        hhmm(s + 6, &t.close) || t.open >= t.close)
        return -1;
    *h = t;
    return 0;
}

static int find(const struct calendar *c, int32_t day)
{
    int lo = 0, hi = c->nspecial - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (c->special_day[mid] == day)
            return mid;
        if (c->special_day[mid] < day)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* One "date<TAB>kind<TAB>name" line; special days must come in ascending
 * order (the published tables do), which also refuses duplicates. */
static int parse_line(struct calendar *c, const char *s, size_t n,
                      const char *name, int line, struct err *e)
{
    const char *tab = memchr(s, '\t', n), *kind, *end;
    int32_t day;
    uint8_t k;

    if (!tab || date_parse(s, (size_t)(tab - s), &day))
        return err_set(e, ERR_INVALID, NULL,
                       "%s:%d: expected a date "
                       "YYYY-MM-DD then a tab",
                       name, line);
    kind = tab + 1;
    end = memchr(kind, '\t', n - (size_t)(kind - s));
    if (!end)
        end = s + n;
    if ((size_t)(end - kind) == 7 && !memcmp(kind, "holiday", 7))
        k = CAL_HOLIDAY;
    else if ((size_t)(end - kind) == 7 && !memcmp(kind, "workday", 7))
        k = CAL_WORKDAY;
    else
        return err_set(e, ERR_INVALID, NULL, "%s:%d: unknown kind '%.*s'", name,
                       line, (int)(end - kind > 16 ? 16 : end - kind), kind);
    if (c->nspecial && day <= c->special_day[c->nspecial - 1])
        return err_set(e, ERR_INVALID, NULL,
                       "%s:%d: dates must be ascending and unique", name, line);
    if (c->nspecial >= CAL_DAYS_MAX)
        return err_set(e, ERR_INVALID, NULL, "%s:%d: more than %d days", name,
                       line, CAL_DAYS_MAX);
    c->special_day[c->nspecial] = day;
    c->special_kind[c->nspecial++] = k;
    return 0;
}

static void set_range(struct calendar *c)
{
    int y0, y1, m, d;
    if (!c->nspecial) {
        c->first = c->last = DATE_NONE;
        return;
    }
    date_to_ymd(c->special_day[0], &y0, &m, &d);
    date_to_ymd(c->special_day[c->nspecial - 1], &y1, &m, &d);
    c->first = date_from_ymd(y0, 1, 1);
    c->last = date_from_ymd(y1, 12, 31);
}

int cal_parse(struct calendar *c, const char *buf, size_t len, const char *name,
              struct err *e)
{
    size_t at = 0;
    int line = 0, rc;

    c->nspecial = 0;
    while (at < len) {
        const char *s = buf + at, *nl = memchr(s, '\n', len - at);
        size_t n = nl ? (size_t)(nl - s) : len - at;
        at += n + (nl ? 1 : 0);
        line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if ((rc = parse_line(c, s, n, name, line, e))) {
            c->nspecial = 0;
            set_range(c);
            return rc;
        }
    }
    set_range(c);
    return 0;
}

int cal_load(struct calendar *c, const char *path, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;

    if (!f)
        return err_set(e, ERR_INVALID, NULL, "cannot open calendar '%s': %s",
                       path, strerror(errno));
    buf = malloc(CAL_FILE_MAX);
    if (!buf) {
        fclose(f);
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    }
    n = fread(buf, 1, CAL_FILE_MAX, f);
    if (n == CAL_FILE_MAX && fgetc(f) != EOF)
        rc = err_set(e, ERR_INVALID, NULL, "calendar '%s' is over %d bytes",
                     path, CAL_FILE_MAX);
    else
        rc = cal_parse(c, buf, n, path, e);
    free(buf);
    fclose(f);
    return rc;
}

bool cal_is_workday(const struct calendar *c, int32_t day)
{
    int i = find(c, day);
    if (i >= 0)
        return c->special_kind[i] == CAL_WORKDAY;
    return date_weekday(day) < 5;
}

struct cal_hours cal_hours_of(const struct calendar *c, int32_t day)
{
    return cal_is_workday(c, day) ? c->work : c->rest;
}

int32_t cal_add_workdays(const struct calendar *c, int32_t day, int n)
{
    int32_t d = day;
    if (n <= 0) {
        for (int i = 0; i < CAL_SCAN_DAYS && !cal_is_workday(c, d); i++)
            d++;
        return d;
    }
    for (int i = 0; i < CAL_SCAN_DAYS && n > 0; i++) {
        d++;
        if (cal_is_workday(c, d))
            n--;
    }
    return d;
}

static int64_t close_of(const struct calendar *c, int32_t day)
{
    return ts_of_date(day, cal_hours_of(c, day).close, c->offset_min);
}

int64_t cal_end_of_workday(const struct calendar *c, int64_t t)
{
    int32_t day = date_of_ts(t, c->offset_min);
    if (cal_is_workday(c, day) && t < close_of(c, day))
        return close_of(c, day);
    return close_of(c, cal_add_workdays(c, day, 1));
}

int64_t cal_workdays_deadline(const struct calendar *c, int64_t t, int n)
{
    return close_of(c, cal_add_workdays(c, date_of_ts(t, c->offset_min), n));
}

int64_t cal_end_of_day(const struct calendar *c, int64_t t)
{
    int32_t day = date_of_ts(t, c->offset_min);
    if (t < close_of(c, day))
        return close_of(c, day);
    return close_of(c, day + 1);
}
