/* feed/time.c — ISO 8601 date-times to and from ms since the epoch, by the civil-calendar
 * day count (proleptic Gregorian), without the C library's time zone machinery. */
#include "feed/feed.h"

#include <stdio.h>
#include <string.h>

#include "util/fmt.h"

/* Days from 1970-01-01 to y-m-d (m 1..12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Read exactly n digits. */
static int
digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* One date-time from s up to end (exclusive). */
static int
parse_one(const char *s, const char *end, int64_t *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (end - p < 10 || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (end - p < 5 || digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
        if (p < end && *p == ':') {
            p++;
            if (end - p < 2 || digits(&p, 2, &sec))
                return -1;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int nd = 0, scale = 100;
                while (p < end && *p >= '0' && *p <= '9') {
                    if (nd < 3) {
                        ms += (*p - '0') * scale;
                        scale /= 10;
                    }
                    nd++;
                    p++;
                }
                if (nd == 0 || nd > 12)
                    return -1;
            }
        }
        if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || ms)))
            return -1;
        if (sec == 60) { /* leap second: the last instant of the minute */
            sec = 59;
            ms = 999;
        }
    }
    int64_t off_min = 0;
    if (p < end) {
        if ((*p == 'Z' || *p == 'z') && p + 1 == end) {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (end - p < 2 || digits(&p, 2, &oh))
                return -1;
            if (p < end && *p == ':')
                p++;
            if (p < end && digits(&p, 2, &om))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        } else {
            return -1;
        }
    }
    if (p != end)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    int64_t t = ((days * 24 + h) * 60 + mi) * 60 + sec;
    *out = (t - off_min * 60) * 1000 + ms;
    return 0;
}

int
ts_feed_time_parse(const char *s, int64_t *out)
{
    if (s == NULL)
        return -1;
    size_t len = strnlen(s, 128);
    if (len == 0 || len >= 128)
        return -1;
    const char *slash = memchr(s, '/', len);
    if (slash != NULL) {
        int64_t a;
        if (parse_one(s, slash, &a) != 0 || parse_one(slash + 1, s + len, out) != 0 || *out < a)
            return -1;
        return 0;
    }
    return parse_one(s, s + len, out);
}

const char *
ts_feed_time_format(int64_t ms, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (ms == TS_FEED_TIME_NONE)
        return buf;
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), se = (int)(rem % 60);
    if (y >= 0 && y <= 9999) { /* the usual case, without printf: snapshots format a time
                                * per sensor every time they are turned into a store */
        char t[32], *p = t;
        p = ts_fmt_digits(p, (unsigned)y, 4);
        *p++ = '-';
        p = ts_fmt_digits(p, (unsigned)m, 2);
        *p++ = '-';
        p = ts_fmt_digits(p, (unsigned)d, 2);
        *p++ = 'T';
        p = ts_fmt_digits(p, (unsigned)h, 2);
        *p++ = ':';
        p = ts_fmt_digits(p, (unsigned)mi, 2);
        *p++ = ':';
        p = ts_fmt_digits(p, (unsigned)se, 2);
        if (frac != 0) {
            *p++ = '.';
            p = ts_fmt_digits(p, (unsigned)frac, 3);
        }
        *p++ = 'Z';
        size_t n = (size_t)(p - t);
        if (n >= size)
            n = size - 1; /* cut as snprintf would */
        memcpy(buf, t, n);
        buf[n] = '\0';
        return buf;
    }
    if (frac != 0)
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi, se,
                 frac);
    else
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, se);
    return buf;
}
