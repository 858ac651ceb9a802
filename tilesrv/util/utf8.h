/* util/utf8.h — UTF-8 validity and the Windows-1252 fallback for legacy text. */
#ifndef TS_UTIL_UTF8_H
#define TS_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 if s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), else 0. */
int ts_utf8_valid(const uint8_t *s, size_t n);

/* The code point of the well-formed UTF-8 sequence at s (n bytes readable) and its length
 * in *len; -1 with *len 1 when s starts none (a stray byte, an overlong form, a surrogate,
 * a cut sequence) or n is 0. */
int32_t ts_utf8_next(const uint8_t *s, size_t n, size_t *len);

/* Write s[0..n), taken as Windows-1252 text, to out as UTF-8 and return the length written
 * (at most 3 * n; no terminator). The five bytes Windows-1252 leaves undefined are taken as
 * their Latin-1 (C1 control) code points, so nothing is lost. */
size_t ts_utf8_from_cp1252(const uint8_t *s, size_t n, uint8_t *out);

/* Write Unicode scalar value cp (not a surrogate, at most U+10FFFF) as UTF-8 into out;
 * returns its length, 1 to 4. */
size_t ts_utf8_put(uint32_t cp, uint8_t out[4]);

#endif
