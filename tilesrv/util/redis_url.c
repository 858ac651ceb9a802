/* util/redis_url.c — redis:// URLs (see redis_url.h). */
#include "util/redis_url.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/fmt.h"

/* s[0..n) percent-decoded into buf. 0, or -1 when it does not fit or is malformed. */
static int
pct_decode(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1;
            int h = ts_hexval((unsigned char)s[i + 1]);
            int l = ts_hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            ch = h * 16 + l;
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        buf[o++] = (char)ch;
    }
    buf[o] = '\0';
    return 0;
}

int
ts_redis_url_parse(const char *url, char *host, size_t hsize, int *port, int *db,
                         char *user, size_t usize, char *password, size_t psize)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0)
        return -1;
    p += 8;
    *port = 6379;
    *db = 0;
    user[0] = password[0] = '\0';
    const char *end = p + strcspn(p, "/");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return -1; /* redis://user@host has no password to send */
        if (pct_decode(p, (size_t)(colon - p), user, usize) != 0 ||
            pct_decode(colon + 1, (size_t)(at - colon - 1), password, psize) != 0)
            return -1;
        p = at + 1;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *hend = colon ? colon : end;
    if (hend == p || (size_t)(hend - p) >= hsize)
        return -1;
    memcpy(host, p, (size_t)(hend - p));
    host[hend - p] = '\0';
    if (colon) {
        char *e;
        errno = 0;
        long v = strtol(colon + 1, &e, 10);
        if (e == colon + 1 || e != end || errno != 0 || v < 1 || v > 65535)
            return -1;
        *port = (int)v;
    }
    if (*end == '/' && end[1] != '\0') {
        char *e;
        errno = 0;
        long v = strtol(end + 1, &e, 10);
        if (e == end + 1 || *e != '\0' || errno != 0 || v < 0 || v > 1000000)
            return -1;
        *db = (int)v;
    }
    return 0;
}

