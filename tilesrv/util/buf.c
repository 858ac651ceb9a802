/* util/buf.c — bounded growable buffer. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ts_buf_init(ts_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void
ts_buf_fini(ts_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static ts_status
reserve(ts_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        ts_buf_fini(b);
        return TS_ELIMIT;
    }
    size_t need = b->len + extra + 1; /* room for a NUL */
    if (need <= b->cap)
        return TS_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    uint8_t *d = realloc(b->data, cap);
    if (d == NULL) {
        ts_buf_fini(b);
        return TS_ENOMEM;
    }
    b->data = d;
    b->cap = cap;
    return TS_OK;
}

ts_status
ts_buf_reserve(ts_buf *b, size_t extra)
{
    return reserve(b, extra);
}

ts_status
ts_buf_add(ts_buf *b, const void *p, size_t n)
{
    ts_status st = reserve(b, n);
    if (st != TS_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return TS_OK;
}

ts_status
ts_buf_printf(ts_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TS_EINVAL;
    ts_status st = reserve(b, (size_t)n);
    if (st != TS_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TS_OK;
}

uint8_t *
ts_buf_steal(ts_buf *b, size_t *len)
{
    uint8_t *d = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
