/* core/calendar.c - the working calendar (R-GEN-05): special days from the
 * holiday file, desk hours, and deadline arithmetic. Lookups are binary
 * searches over the sorted special days. Reads a file only in cal_load(),
 * never reads the clock, never allocates after cal_load() returns.
 *
 * The file must list its dates in ascending order (the published tables
 * do, and an out-of-order line is how a mistyped year shows up), so the
 * table is sorted as it is read and a duplicate is the line whose date
 * equals the one before it. */
#include "calendar.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

/* Deadline loops walk day by day and stop after this many days (ten
 * years). A valid table cannot hold a rest period that long (at most
 * CAL_DAYS_MAX holidays plus the weekends between them, under four
 * years), so for the few working days the rules ask for the cap is never
 * reached; it bounds the time an absurd n or day can cost. */
#define CAL_SCAN_DAYS 3660
#define CAL_FILE_MAX (1024 * 1024) /* bytes; the real file is about 4 KB */
#define CAL_LINE_MAX 256           /* bytes in one line, without CR LF */
#define CAL_SHOW_MAX 24 /* bytes of a bad token quoted in a message */
#define CAL_DAY_MIN                                                            \
    (24 * 60) /* minutes in a day; "24:00" is the latest close */

void cal_init(struct calendar *c)
{
    memset(c, 0, sizeof(*c));
    c->offset_min = 8 * 60;
    c->work = (struct cal_hours){8 * 60 + 30, 18 * 60};
    c->rest = (struct cal_hours){9 * 60, 17 * 60};
    c->first = c->last = DATE_NONE;
}

/* "HH:MM" at s, 00:00..24:00. Stops at the first bad byte, so a short
 * string is never read past its NUL. */
static int parse_hhmm(const char *s, int *out)
{
    int hh, mm;

    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' ||
        s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    hh = (s[0] - '0') * 10 + (s[1] - '0');
    mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (hh * 60 + mm > CAL_DAY_MIN)
        return -1;
    *out = hh * 60 + mm;
    return 0;
}

int cal_parse_hours(const char *s, struct cal_hours *h)
{
    struct cal_hours t;

    if (!s || parse_hhmm(s, &t.open) || s[5] != '-' ||
        parse_hhmm(s + 6, &t.close) || s[11] != '\0' || t.open >= t.close)
        return -1;
    *h = t;
    return 0;
}

/* Index of day in the special days, or -1. */
static int cal_find(const struct calendar *c, int32_t day)
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

/* Copies at most CAL_SHOW_MAX bytes of s[0..n) into out for a message,
 * with every byte that is not printable ASCII shown as '?': the message
 * may end up in a JSON reply, which must stay valid UTF-8. */
static const char *cal_show(char out[CAL_SHOW_MAX + 4], const char *s, size_t n)
{
    size_t i, k = n > CAL_SHOW_MAX ? CAL_SHOW_MAX : n;

    for (i = 0; i < k; i++) {
        unsigned char b = (unsigned char)s[i];
        out[i] = (b >= 0x20 && b < 0x7f) ? (char)b : '?';
    }
    if (k < n) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

/* One line being parsed: its bytes (no line end), number and file name. */
struct cal_line {
    const char *s;
    size_t n;
    int no;
    const char *name;
};

static int cal_kind_of(const char *s, size_t n)
{
    if (n == 7 && !memcmp(s, "holiday", 7))
        return CAL_HOLIDAY;
    if (n == 7 && !memcmp(s, "workday", 7))
        return CAL_WORKDAY;
    return CAL_NORMAL;
}

/* The festival name is not kept; when present it must be one field of
 * text: no tab, no control byte (UTF-8 such as 春节 is fine). */
static int cal_check_name(const struct cal_line *l, const char *s, size_t n,
                          struct err *e)
{
    if (n == 0)
        return err_set(e, ERR_INVALID, NULL, "%s:%d: empty festival name",
                       l->name, l->no);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20 || b == 0x7f)
            return err_set(e, ERR_INVALID, NULL,
                           "%s:%d: control byte 0x%02x in festival name",
                           l->name, l->no, b);
    }
    return 0;
}

/* Adds day after the last one kept: the order, uniqueness and count
 * checks of the file. */
static int cal_append(struct calendar *c, const struct cal_line *l, int32_t day,
                      int kind, struct err *e)
{
    char d[DATE_STR_MAX], prev[DATE_STR_MAX];

    date_format(day, d);
    if (c->nspecial > 0 && day <= c->special_day[c->nspecial - 1]) {
        if (day == c->special_day[c->nspecial - 1])
            return err_set(
                e, ERR_INVALID, NULL,
                "%s:%d: duplicate date %s (dates must be ascending and unique)",
                l->name, l->no, d);
        date_format(c->special_day[c->nspecial - 1], prev);
        return err_set(
            e, ERR_INVALID, NULL,
            "%s:%d: date %s out of order after %s (dates must be ascending)",
            l->name, l->no, d, prev);
    }
    if (c->nspecial >= CAL_DAYS_MAX)
        return err_set(e, ERR_INVALID, NULL, "%s:%d: more than %d special days",
                       l->name, l->no, CAL_DAYS_MAX);
    c->special_day[c->nspecial] = day;
    c->special_kind[c->nspecial] = (uint8_t)kind;
    c->nspecial++;
    return 0;
}

/* "YYYY-MM-DD<TAB>holiday|workday<TAB>name". */
static int cal_parse_line(struct calendar *c, const struct cal_line *l,
                          struct err *e)
{
    const char *s = l->s, *end = l->s + l->n, *kind, *tab2;
    char show[CAL_SHOW_MAX + 4];
    size_t kn;
    int32_t day;
    int k, rc;

    if (l->n > CAL_LINE_MAX)
        return err_set(e, ERR_INVALID, NULL, "%s:%d: line over %d bytes",
                       l->name, l->no, CAL_LINE_MAX);
    kind = memchr(s, '\t', l->n);
    if (!kind)
        return err_set(
            e, ERR_INVALID, NULL,
            "%s:%d: expected 'YYYY-MM-DD<TAB>kind<TAB>name', got '%s'", l->name,
            l->no, cal_show(show, s, l->n));
    if (date_parse(s, (size_t)(kind - s), &day))
        return err_set(e, ERR_INVALID, NULL, "%s:%d: bad date '%s'", l->name,
                       l->no, cal_show(show, s, (size_t)(kind - s)));
    kind++;
    tab2 = memchr(kind, '\t', (size_t)(end - kind));
    kn = (size_t)((tab2 ? tab2 : end) - kind);
    k = cal_kind_of(kind, kn);
    if (k == CAL_NORMAL)
        return err_set(e, ERR_INVALID, NULL,
                       "%s:%d: unknown kind '%s' (holiday or workday)", l->name,
                       l->no, cal_show(show, kind, kn));
    if (tab2) { /* the festival name is optional, but must be clean */
        rc = cal_check_name(l, tab2 + 1, (size_t)(end - tab2 - 1), e);
        if (rc)
            return rc;
    }
    return cal_append(c, l, day, k, e);
}

/* Lines holding only spaces and tabs count as blank. */
static bool cal_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

static void cal_set_range(struct calendar *c)
{
    int y0, y1, m, d;

    if (c->nspecial == 0) {
        c->first = c->last = DATE_NONE;
        return;
    }
    date_to_ymd(c->special_day[0], &y0, &m, &d);
    date_to_ymd(c->special_day[c->nspecial - 1], &y1, &m, &d);
    c->first = date_from_ymd(y0, 1, 1);
    c->last = date_from_ymd(y1, 12, 31);
}

/* BLAKE2b-256 of the bytes as read (BOM and comments included): what an
 * operator compares with `b2sum -l 256` of the file. */
static void cal_hash(struct calendar *c, const char *buf, size_t len)
{
    unsigned char h[CAL_HASH_HEX / 2];

    if (sodium_init() < 0) { /* cannot happen after the log opened */
        c->hash[0] = '\0';
        return;
    }
    crypto_generichash(h, sizeof(h), (const unsigned char *)buf, len, NULL, 0);
    sodium_bin2hex(c->hash, sizeof(c->hash), h, sizeof(h));
}

/* Parses into a copy and keeps it only when the whole buffer is good, so
 * a failed call leaves c as it was. Offset and hours are not touched (the
 * config sets them before it loads the file). */
int cal_parse(struct calendar *c, const char *buf, size_t len, const char *name,
              struct err *e)
{
    struct calendar t = *c;
    struct cal_line l = {.name = name ? name : "calendar"};
    size_t at = 0;
    int rc;

    if (len > CAL_FILE_MAX)
        return err_set(e, ERR_INVALID, NULL, "%s: over %d bytes", l.name,
                       CAL_FILE_MAX);
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        at = 3; /* UTF-8 byte order mark, as Windows editors write it */
    t.nspecial = 0;
    while (at < len) {
        const char *nl = memchr(buf + at, '\n', len - at);
        l.s = buf + at;
        l.n = nl ? (size_t)(nl - l.s) : len - at;
        at += l.n + (nl ? 1 : 0);
        l.no++;
        if (l.n > 0 && l.s[l.n - 1] == '\r')
            l.n--;
        if (cal_blank(l.s, l.n) || l.s[0] == '#')
            continue;
        rc = cal_parse_line(&t, &l, e);
        if (rc)
            return rc;
    }
    cal_set_range(&t);
    cal_hash(&t, buf, len);
    *c = t;
    return 0;
}

int cal_load(struct calendar *c, const char *path, struct err *e)
{
    FILE *f;
    char *buf;
    size_t n;
    int rc;

    f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_INVALID, NULL, "cannot open calendar '%s': %s",
                       path, strerror(errno));
    buf = malloc(CAL_FILE_MAX + 1);
    if (!buf) {
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "out of memory loading '%s'",
                     path);
        goto out_close;
    }
    n = fread(buf, 1, CAL_FILE_MAX + 1, f);
    if (ferror(f))
        rc = err_set(e, ERR_INVALID, NULL, "cannot read calendar '%s'", path);
    else if (n > CAL_FILE_MAX)
        rc = err_set(e, ERR_INVALID, NULL, "calendar '%s' is over %d bytes",
                     path, CAL_FILE_MAX);
    else
        rc = cal_parse(c, buf, n, path, e);
    free(buf);
out_close:
    fclose(f);
    return rc;
}

bool cal_covers(const struct calendar *c, int32_t day)
{
    return c->first != DATE_NONE && day >= c->first && day <= c->last;
}

bool cal_span_covered(const struct calendar *c, int64_t from, int64_t to)
{
    return cal_covers(c, date_of_ts(from, c->offset_min)) &&
           cal_covers(c, date_of_ts(to, c->offset_min));
}

int32_t cal_days_left(const struct calendar *c, int32_t today)
{
    if (c->last == DATE_NONE)
        return INT32_MIN;
    return (int32_t)((int64_t)c->last - today);
}

bool cal_warn_due(const struct calendar *c, int warn_days, int32_t today)
{
    return warn_days > 0 && cal_days_left(c, today) <= warn_days;
}

bool cal_is_workday(const struct calendar *c, int32_t day)
{
    int i = cal_find(c, day);

    if (i >= 0)
        return c->special_kind[i] == CAL_WORKDAY;
    return date_weekday(day) < 5;
}

struct cal_hours cal_hours_of(const struct calendar *c, int32_t day)
{
    return cal_is_workday(c, day) ? c->work : c->rest;
}

/* n < 0 is taken as 0. The walk stops after CAL_SCAN_DAYS days or at the
 * last int32 day and returns the day reached: the arguments come from
 * requests and files, so running out is an answer, not a broken invariant
 * to assert on. */
int32_t cal_add_workdays(const struct calendar *c, int32_t day, int n)
{
    int32_t d = day;

    if (n <= 0) {
        if (cal_is_workday(c, d))
            return d;
        n = 1; /* the next working day is the first one after day */
    }
    for (int i = 0; i < CAL_SCAN_DAYS && d < INT32_MAX; i++) {
        d++;
        if (cal_is_workday(c, d) && --n == 0)
            break;
    }
    return d;
}

/* The desk's closing time on a local day, as a timestamp. */
static int64_t cal_close_of(const struct calendar *c, int32_t day)
{
    return ts_of_date(day, cal_hours_of(c, day).close, c->offset_min);
}

int64_t cal_end_of_workday(const struct calendar *c, int64_t t)
{
    int32_t day = date_of_ts(t, c->offset_min);

    /* on a working day the close is work.close; t < close is the same as
     * t's minute < work.close, to the millisecond */
    if (cal_is_workday(c, day) && t < cal_close_of(c, day))
        return cal_close_of(c, day);
    return cal_close_of(c, cal_add_workdays(c, day, 1));
}

int64_t cal_workdays_deadline(const struct calendar *c, int64_t t, int n)
{
    return cal_close_of(c,
                        cal_add_workdays(c, date_of_ts(t, c->offset_min), n));
}

/* The desk opens every day, so "the next day it opens" is the next
 * calendar day, whose close is later than any t on the day before. */
int64_t cal_end_of_day(const struct calendar *c, int64_t t)
{
    int32_t day = date_of_ts(t, c->offset_min);
    int64_t close = cal_close_of(c, day);

    if (t < close || day == INT32_MAX)
        return close;
    return cal_close_of(c, day + 1);
}
