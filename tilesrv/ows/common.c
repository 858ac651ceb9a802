/* ows/common.c — what every OGC protocol shares: exception codes and their names, MIME
 * types, query-string decoding (KVP), number parsing, update sequences and XML escaping. */
#include "ows/ows.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ows/ows_int.h"

#include "util/fmt.h"

static const struct {
    const char *s130, *s111;
    int http;
} codes[] = {
#define X(name, s130, s111, http) {s130, s111, http},
    TS_OWS_CODE_MAP(X)
#undef X
};

#define NCODES ((int)(sizeof codes / sizeof codes[0]))

const char *
ts_ows_code_name(ts_ows_code code, int wms111)
{
    if ((int)code < 0 || (int)code >= NCODES)
        code = TS_OWS_NO_APPLICABLE_CODE;
    return wms111 ? codes[code].s111 : codes[code].s130;
}

int
ts_ows_code_http(ts_ows_code code)
{
    if ((int)code < 0 || (int)code >= NCODES)
        return 500;
    return codes[code].http;
}

void
ts_ows__set_fault(ts_ows_fault *f, ts_ows_code code, const char *locator)
{
    f->code = code;
    snprintf(f->locator, sizeof f->locator, "%s", locator ? locator : "");
}

void
ts_ows__clear_fault(ts_ows_fault *f)
{
    f->code = TS_OWS_NONE;
    f->locator[0] = '\0';
    ts_err_clear(&f->err);
}

const char *
ts_ows_image_mime(ts_image_format f)
{
    switch (f) {
    case TS_IMG_PNG:
        return "image/png";
    case TS_IMG_PNG8:
        return "image/png; mode=8bit";
    case TS_IMG_JPEG:
        return "image/jpeg";
    case TS_IMG_MVT:
        return "application/vnd.mapbox-vector-tile";
    case TS_IMG_NONE:
        break;
    }
    return "application/octet-stream";
}

const char *
ts_ows_info_mime(ts_info_format f)
{
    switch (f) {
    case TS_INFO_TEXT:
        return "text/plain";
    case TS_INFO_HTML:
        return "text/html";
    case TS_INFO_JSON:
        return "application/json";
    case TS_INFO_GML:
        return "application/vnd.ogc.gml";
    case TS_INFO_XML:
        return "text/xml";
    case TS_INFO_NONE:
        break;
    }
    return "text/plain";
}

/* Compare the MIME type part of s (up to ';' or the end, blanks trimmed) with type. */
static int
mime_is(const char *s, const char *type)
{
    while (*s == ' ')
        s++;
    size_t n = strcspn(s, ";");
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return strlen(type) == n && strncasecmp(s, type, n) == 0;
}

/* 1 if the parameters after ';' include mode=8bit (blanks allowed). */
static int
mime_8bit(const char *s)
{
    const char *p = strchr(s, ';');
    while (p != NULL) {
        p++;
        while (*p == ' ')
            p++;
        if (strncasecmp(p, "mode=8bit", 9) == 0 && (p[9] == '\0' || p[9] == ';' || p[9] == ' '))
            return 1;
        p = strchr(p, ';');
    }
    return 0;
}

ts_image_format
ts_ows__image_format(const char *mime)
{
    if (mime == NULL)
        return TS_IMG_NONE;
    if (mime_is(mime, "image/png"))
        return mime_8bit(mime) ? TS_IMG_PNG8 : TS_IMG_PNG;
    if (mime_is(mime, "image/png8"))
        return TS_IMG_PNG8;
    if (mime_is(mime, "image/jpeg") || mime_is(mime, "image/jpg"))
        return TS_IMG_JPEG;
    if (mime_is(mime, "application/vnd.mapbox-vector-tile") ||
        mime_is(mime, "application/x-protobuf"))
        return TS_IMG_MVT;
    return TS_IMG_NONE;
}

ts_info_format
ts_ows__info_format(const char *mime)
{
    if (mime == NULL)
        return TS_INFO_NONE;
    if (mime_is(mime, "text/plain"))
        return TS_INFO_TEXT;
    if (mime_is(mime, "text/html"))
        return TS_INFO_HTML;
    if (mime_is(mime, "application/json") || mime_is(mime, "application/geo+json") ||
        mime_is(mime, "application/geojson"))
        return TS_INFO_JSON;
    if (mime_is(mime, "application/vnd.ogc.gml") || mime_is(mime, "application/gml+xml"))
        return TS_INFO_GML;
    if (mime_is(mime, "text/xml") || mime_is(mime, "application/xml"))
        return TS_INFO_XML;
    return TS_INFO_NONE;
}

/* ---- numbers ------------------------------------------------------------------------- */

int
ts_ows__parse_long(const char *s, long min, long max, long *out)
{
    if (s == NULL)
        return -1;
    while (*s == ' ')
        s++;
    if (*s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    long v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (LONG_MAX - 9) / 10)
            return -1; /* stop before overflow; the range check below refuses it anyway */
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ')
        s++;
    if (*s != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
ts_ows__parse_double(const char *s, double *out)
{
    if (s == NULL)
        return -1;
    while (*s == ' ')
        s++;
    /* strtod syntax restricted to decimal: digits, one '.', sign, exponent */
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
        return -1;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return -1;
    while (*end == ' ')
        end++;
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

int
ts_ows__copy(char *dst, size_t cap, const char *s, size_t n)
{
    while (n > 0 && *s == ' ') {
        s++;
        n--;
    }
    while (n > 0 && s[n - 1] == ' ')
        n--;
    if (n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

int
ts_ows__compare_seq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int na = la > 0 && strspn(a, "0123456789") == la, nb = lb > 0 && strspn(b, "0123456789") == lb;
    if (na != nb)
        return na ? 1 : -1; /* a number and a word do not compare: the word counts as older */
    if (na && nb) {
        while (la > 1 && *a == '0') {
            a++;
            la--;
        }
        while (lb > 1 && *b == '0') {
            b++;
            lb--;
        }
        if (la != lb)
            return la < lb ? -1 : 1;
    }
    return strcmp(a, b);
}

/* ---- KVP ----------------------------------------------------------------------------- */


/* Decode s[0..n) into dst ('+' = space, %XX); dst has room for n + 1 bytes. Returns the
 * decoded length, or -1 for a malformed or NUL escape. */
static long
url_decode(char *dst, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h, l;
            if (i + 2 >= n)
                return -1;
            h = ts_hexval(s[i + 1]);
            l = ts_hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long)o;
}

ts_status
ts_ows_kvp_parse(const char *query, ts_kvp *kv, ts_err *err)
{
    memset(kv, 0, sizeof *kv);
    if (query == NULL)
        query = "";
    size_t len = strlen(query);
    if (len > TS_KVP_MAX_BYTES)
        return TS_FAIL(err, TS_ELIMIT, "query string longer than %u bytes", TS_KVP_MAX_BYTES);
    /* each pair adds at most two NULs to its bytes (a name without '=' gains an empty value),
     * and at most TS_KVP_MAX pairs are stored */
    kv->buf = malloc(len + 2 * (size_t)TS_KVP_MAX + 2);
    if (kv->buf == NULL)
        return TS_FAIL(err, TS_ENOMEM, "query string: out of memory");
    char *o = kv->buf;
    const char *p = query;
    while (*p) {
        size_t n = strcspn(p, "&");
        if (n > 0) {
            if (kv->n == TS_KVP_MAX)
                return TS_FAIL(err, TS_EINVAL, "more than %d query parameters", TS_KVP_MAX);
            const char *eq = memchr(p, '=', n);
            size_t nl = eq ? (size_t)(eq - p) : n;
            long dn = url_decode(o, p, nl);
            if (dn < 0)
                return TS_FAIL(err, TS_EINVAL, "malformed %%-escape in parameter name '%.*s'",
                               (int)(nl > 40 ? 40 : nl), p);
            kv->name[kv->n] = o;
            o += dn + 1;
            const char *v = eq ? eq + 1 : p + n;
            size_t nv = eq ? n - nl - 1 : 0;
            long dv = url_decode(o, v, nv);
            if (dv < 0)
                return TS_FAIL(err, TS_EINVAL, "malformed %%-escape in the value of '%.40s'",
                               kv->name[kv->n]);
            kv->value[kv->n++] = o;
            o += dv + 1;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return TS_OK;
}

const char *
ts_ows_kvp_get(const ts_kvp *kv, const char *name)
{
    for (int i = 0; i < kv->n; i++)
        if (strcasecmp(kv->name[i], name) == 0)
            return kv->value[i];
    return NULL;
}

void
ts_ows_kvp_free(ts_kvp *kv)
{
    if (kv == NULL)
        return;
    free(kv->buf);
    memset(kv, 0, sizeof *kv);
}

/* ---- XML / JSON writing ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when p does not start one. */
static int
utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    int n;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return n;
}

ts_status
ts_ows_xml_escape(ts_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        const unsigned char *run = p;
        while (*p && *p != '&' && *p != '<' && *p != '>' && *p != '"' && *p != '\'' && *p >= 0x20 &&
               *p < 0x80)
            p++;
        if (p > run)
            TS_TRY(ts_buf_add(out, run, (size_t)(p - run)));
        if (*p == '\0')
            break;
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\t':
        case '\n':
        case '\r':
            TS_TRY(ts_buf_add(out, p, 1));
            p++;
            continue;
        default:
            break;
        }
        if (rep) {
            TS_TRY(ts_buf_add(out, rep, strlen(rep)));
            p++;
            continue;
        }
        int n = *p >= 0x80 ? utf8_len(p) : 0;
        if (n > 0) {
            TS_TRY(ts_buf_add(out, p, (size_t)n));
            p += n;
        } else {
            TS_TRY(ts_buf_add(out, "?", 1));
            p++;
        }
    }
    return TS_OK;
}

ts_status
ts_ows__xml_elem(ts_buf *b, const char *indent, const char *tag, const char *s)
{
    TS_TRY(ts_buf_printf(b, "%s<%s>", indent, tag));
    TS_TRY(ts_ows_xml_escape(b, s));
    return ts_buf_printf(b, "</%s>\n", tag);
}

ts_status
ts_ows__num(ts_buf *b, double v)
{
    if (v == 0)
        v = 0; /* no "-0" */
    return ts_buf_printf(b, "%.15g", v);
}

ts_status
ts_ows__json_str(ts_buf *b, const char *key, const char *val)
{
    TS_TRY(ts_buf_add(b, "\"", 1));
    TS_TRY(ts_ows_json_escape(b, key));
    TS_TRY(ts_buf_add(b, "\":\"", 3));
    TS_TRY(ts_ows_json_escape(b, val ? val : ""));
    return ts_buf_add(b, "\"", 1);
}
