/* util/buf.h — a growable byte buffer with a mandatory maximum size (curl dynbuf):
 * appends past the maximum fail and free the contents, so a runaway writer cannot
 * grow memory without bound. */
#ifndef TS_UTIL_BUF_H
#define TS_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

typedef struct ts_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;        /* hard limit on len */
} ts_buf;

/* Initialise an empty buffer that may hold at most max bytes. No allocation yet. */
void ts_buf_init(ts_buf *b, size_t max);
/* Free the contents; b may be reused after ts_buf_init. */
void ts_buf_fini(ts_buf *b);
/* Append n bytes. TS_OK, TS_ELIMIT (contents freed) or TS_ENOMEM (contents freed). */
ts_status ts_buf_add(ts_buf *b, const void *p, size_t n);
/* Make room for extra more bytes after len (plus a NUL) without changing len, so a
 * writer can fill b->data + b->len directly and then advance len. TS_OK, TS_ELIMIT or
 * TS_ENOMEM (contents freed). */
ts_status ts_buf_reserve(ts_buf *b, size_t extra);
/* Append a formatted string (no terminating NUL counted in len; one is kept after it). */
ts_status ts_buf_printf(ts_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (free() them) and leave b empty. *len receives the length. */
uint8_t *ts_buf_steal(ts_buf *b, size_t *len);

#endif
