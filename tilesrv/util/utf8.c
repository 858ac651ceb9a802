/* util/utf8.c — see utf8.h. */
#include "util/utf8.h"

int32_t
ts_utf8_next(const uint8_t *s, size_t n, size_t *len)
{
    *len = 1;
    if (n == 0)
        return -1;
    uint8_t c = s[0];
    if (c < 0x80)
        return c;
    size_t l;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        l = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        l = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        l = 4;
        cp = c & 0x07;
    } else {
        return -1;
    }
    if (n < l)
        return -1;
    for (size_t k = 1; k < l; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((l == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (l == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return -1;
    *len = l;
    return (int32_t)cp;
}

int
ts_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0, len;
    while (i < n) {
        if (ts_utf8_next(s + i, n - i, &len) < 0)
            return 0;
        i += len;
    }
    return 1;
}

/* Windows-1252 0x80..0x9f; 0 = undefined there (kept as the Latin-1 C1 control). */
static const uint16_t cp1252_80[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

size_t
ts_utf8_from_cp1252(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = s[i];
        if (cp >= 0x80 && cp <= 0x9f && cp1252_80[cp - 0x80] != 0)
            cp = cp1252_80[cp - 0x80];
        if (cp < 0x80) {
            out[k++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            out[k++] = (uint8_t)(0xc0 | (cp >> 6));
            out[k++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            out[k++] = (uint8_t)(0xe0 | (cp >> 12));
            out[k++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            out[k++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    return k;
}

size_t
ts_utf8_put(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}
