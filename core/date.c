/* core/date.c - civil-date arithmetic (Howard Hinnant's days-from-civil
 * method) and strict ISO 8601 parsing/formatting for dates and timestamps. */
#include "date.h"

#include <stdio.h>
#include <string.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int32_t date_from_ymd(int y, int m, int d)
{
    int64_t yy = y - (m <= 2);
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void date_to_ymd(int32_t day, int *y, int *m, int *d)
{
    int64_t z = (int64_t)day + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

int date_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t r = ((int64_t)day + 3) % 7;
    return (int)(r < 0 ? r + 7 : r);
}

bool date_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && date_is_leap(y))
        return 29;
    return dim[m - 1];
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' ||
        digits(s + 8, 2, d))
        return -1;
    if (*y < 1900 || *y > 2199 || *m < 1 || *m > 12 || *d < 1 ||
        *d > date_days_in_month(*y, *m))
        return -1;
    return 0;
}

int date_parse(const char *s, size_t len, int32_t *out)
{
    int y, m, d;
    if (len != 10 || parse_ymd(s, &y, &m, &d))
        return -1;
    *out = date_from_ymd(y, m, d);
    return 0;
}

/* Writes v as exactly n decimal digits (v is in range by construction). */
static char *put_digits(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

static char *put_ymd(char *p, int32_t day)
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    p = put_digits(p, ((y % 10000) + 10000) % 10000, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    return put_digits(p, d, 2);
}

void date_format(int32_t day, char buf[DATE_STR_MAX])
{
    *put_ymd(buf, day) = '\0';
}

/* Parses the zone suffix at s[0..n): "Z", "+hh:mm" or "-hh:mm". */
static int parse_zone(const char *s, size_t n, int *offset_min)
{
    int hh, mm;
    if (n == 1 && s[0] == 'Z') {
        *offset_min = 0;
        return 0;
    }
    if (n != 6 || (s[0] != '+' && s[0] != '-') || digits(s + 1, 2, &hh) ||
        s[3] != ':' || digits(s + 4, 2, &mm) || hh > 14 || mm > 59)
        return -1;
    *offset_min = (s[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    return 0;
}

int ts_parse(const char *s, size_t len, int offset_min, int64_t *out)
{
    int y, m, d, hh, mi, ss = 0, ms = 0;
    size_t i = 16;

    if (len < 16 || len > TS_STR_MAX || parse_ymd(s, &y, &m, &d) ||
        s[10] != 'T' || digits(s + 11, 2, &hh) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || hh > 23 || mi > 59)
        return -1;
    if (i < len && s[i] == ':') {
        if (len < i + 3 || digits(s + i + 1, 2, &ss) || ss > 59)
            return -1;
        i += 3;
        if (i < len && s[i] == '.') {
            if (len < i + 4 || digits(s + i + 1, 3, &ms))
                return -1;
            i += 4;
        }
    }
    if (i < len && parse_zone(s + i, len - i, &offset_min))
        return -1;
    *out = (int64_t)date_from_ymd(y, m, d) * MS_PER_DAY +
           ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + ms -
           (int64_t)offset_min * MS_PER_MIN;
    return 0;
}

void ts_format(int64_t ts, int offset_min, char buf[TS_STR_MAX])
{
    int64_t local = ts + (int64_t)offset_min * MS_PER_MIN;
    int32_t day = (int32_t)floor_div(local, MS_PER_DAY);
    int64_t rem = local - (int64_t)day * MS_PER_DAY;
    int off = offset_min < 0 ? -offset_min : offset_min;
    int secs = (int)(rem / 1000), msec = (int)(rem % 1000);
    char *p = put_ymd(buf, day);

    *p++ = 'T';
    p = put_digits(p, secs / 3600, 2);
    *p++ = ':';
    p = put_digits(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, secs % 60, 2);
    if (msec) {
        *p++ = '.';
        p = put_digits(p, msec, 3);
    }
    *p++ = offset_min < 0 ? '-' : '+';
    p = put_digits(p, off / 60 % 100, 2);
    *p++ = ':';
    p = put_digits(p, off % 60, 2);
    *p = '\0';
}

int32_t date_of_ts(int64_t ts, int offset_min)
{
    return (int32_t)floor_div(ts + (int64_t)offset_min * MS_PER_MIN,
                              MS_PER_DAY);
}

int64_t ts_of_date(int32_t day, int minute_of_day, int offset_min)
{
    return (int64_t)day * MS_PER_DAY +
           (int64_t)(minute_of_day - offset_min) * MS_PER_MIN;
}

int ts_minute_of_day(int64_t ts, int offset_min)
{
    int64_t local = ts + (int64_t)offset_min * MS_PER_MIN;
    int64_t rem = local - floor_div(local, MS_PER_DAY) * MS_PER_DAY;
    return (int)(rem / MS_PER_MIN);
}

int32_t date_add_months(int32_t day, int months)
{
    int y, m, d, idx, dim;
    date_to_ymd(day, &y, &m, &d);
    idx = y * 12 + (m - 1) + months;
    y = idx / 12;
    m = idx % 12 + 1;
    dim = date_days_in_month(y, m);
    return date_from_ymd(y, m, d > dim ? dim : d);
}

int32_t date_period_end(int32_t anchor, int months)
{
    int y, m, d, idx;
    date_to_ymd(anchor, &y, &m, &d);
    idx = y * 12 + (m - 1) + months;
    y = idx / 12;
    m = idx % 12 + 1;
    if (d > date_days_in_month(y, m)) /* no such date: to the month's end */
        return date_from_ymd(y, m, date_days_in_month(y, m));
    return date_from_ymd(y, m, d) - 1;
}
