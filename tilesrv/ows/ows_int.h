/* ows/ows_int.h — private to the ows module: fault setting, number parsing, format names,
 * update-sequence comparison and small XML/JSON writing helpers shared by the parsers and
 * writers. Nothing here is seen outside tilesrv/ows/. */
#ifndef TS_OWS_OWS_INT_H
#define TS_OWS_OWS_INT_H

#include "ows/ows.h"

/* Fill *f (code, locator) and its ts_err, and return st: `return OWS_FAIL(...)`. */
#define OWS_FAIL(f, ows_code, loc, st, ...)                                                        \
    (ts_ows__set_fault((f), (ows_code), (loc)), TS_FAIL(&(f)->err, (st), __VA_ARGS__))

void ts_ows__set_fault(ts_ows_fault *f, ts_ows_code code, const char *locator);
/* Reset a fault to "no fault". */
void ts_ows__clear_fault(ts_ows_fault *f);

/* A plain decimal integer (optional leading '+', no other characters, surrounding blanks
 * allowed) in [min, max]. Returns 0 and *out, or -1. */
int ts_ows__parse_long(const char *s, long min, long max, long *out);
/* A finite number (strtod syntax without hex, inf, nan; surrounding blanks allowed) of the
 * whole string. Returns 0 and *out, or -1. */
int ts_ows__parse_double(const char *s, double *out);
/* Copy at most n bytes of s into a trimmed, NUL-terminated field of size cap; -1 when it
 * does not fit. */
int ts_ows__copy(char *dst, size_t cap, const char *s, size_t n);

/* MIME type (case-insensitive, parameters such as "; mode=8bit" understood) -> format. */
ts_image_format ts_ows__image_format(const char *mime);
ts_info_format ts_ows__info_format(const char *mime);

/* Compare two update sequences: both all digits -> numerically; one all digits, the other
 * not -> the other is the older; else as byte strings. Returns <0, 0, >0 like strcmp. */
int ts_ows__compare_seq(const char *a, const char *b);

/* Write s escaped between <tag> and </tag>. */
ts_status ts_ows__xml_elem(ts_buf *b, const char *indent, const char *tag, const char *s);
/* Write a number with up to 15 significant digits, no exponent for ordinary magnitudes. */
ts_status ts_ows__num(ts_buf *b, double v);
/* "key":"escaped value" (JSON). */
ts_status ts_ows__json_str(ts_buf *b, const char *key, const char *val);

#endif
