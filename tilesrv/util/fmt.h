/* util/fmt.h — decimal digits without printf, for strings written on hot paths (HTTP
 * dates and headers of every tile response, times of every sensor of every snapshot), and
 * hexadecimal digits read back (URL escapes, colours, JSON escapes, PostgreSQL bytea). */
#ifndef TS_UTIL_FMT_H
#define TS_UTIL_FMT_H

#include <stddef.h>

/* Exactly n decimal digits of v at p, zero-padded (higher digits are dropped); returns
 * the end. Writes no NUL. */
static inline char *
ts_fmt_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* The decimal form of v at p (no padding, at most 10 digits); returns the end. Writes
 * no NUL. */
static inline char *
ts_fmt_uint(char *p, unsigned v)
{
    int n = 1;
    for (unsigned t = v; t >= 10; t /= 10)
        n++;
    return ts_fmt_digits(p, v, n);
}

/* The value of the hexadecimal digit c ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other
 * character (a negative char included). */
static inline int
ts_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
