/* feed/jscan.c — a strict JSON reader for the hot feed paths: one validating pass over the
 * bytes (RFC 8259, refusing what json_loadb with JSON_REJECT_DUPLICATES refuses) into a
 * flat token array in a caller's buffer, then lookups that read values straight from the
 * text. No allocation for documents that fit the caller's buffer and have no object of
 * more than SMALL_OBJECT members. */
#include "feed/feed_int.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fmt.h"

#define SMALL_OBJECT 24 /* duplicate keys: pairwise up to this many members, sorted above */

typedef const unsigned char *cptr;

/* ---- numbers in the C locale --------------------------------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod of the n bytes at s (a number that passed the grammar) with '.' as the decimal
 * point whatever the process locale is. 0 and *out, or -1 when out of memory. */
static int
text_to_double(const char *s, size_t n, double *out)
{
    char small[64], *buf = small;
    if (n >= sizeof small && (buf = malloc(n + 1)) == NULL)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    pthread_once(&c_locale_once, c_locale_init);
    locale_t old = c_locale != (locale_t)0 ? uselocale(c_locale) : (locale_t)0;
    *out = strtod(buf, NULL);
    if (old != (locale_t)0)
        uselocale(old);
    if (buf != small)
        free(buf);
    return 0;
}

/* ---- scanning ------------------------------------------------------------------------- */

typedef struct scan {
    ts_jscan *js;
    cptr s, end;
    cptr at;          /* where the error is */
    const char *why;  /* error text, NULL while fine */
    int code;         /* -1 grammar, -2 limit */
} scan;

static int
fail(scan *st, cptr at, const char *why, int code)
{
    st->at = at;
    st->why = why;
    st->code = code;
    return code;
}

static cptr
skip_ws(cptr p, cptr end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}


/* The 4 hex digits at p (p + 4 <= end checked by the caller) as a number, or -1. */
static int32_t
hex4(cptr p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = ts_hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of the well-formed UTF-8 sequence of 2 to 4 bytes at p (Unicode table 3-7: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_seq(cptr p, cptr end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* 1 for the bytes a string may hold as they are: printable ASCII other than '"' and '\\' */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* The string whose opening quote is at *pp: validated, *pp past the closing quote,
 * *esc set when it has escapes. 0 or the error code. */
static int
scan_string(scan *st, cptr *pp, int *esc)
{
    cptr p = *pp + 1, end = st->end;
    *esc = 0;
    for (;;) {
        while (p < end && plain[*p])
            p++;
        if (p == end)
            return fail(st, p, "premature end of input in a string", -1);
        unsigned c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(st, p, "control character in a string", -1);
        if (c == '\\') {
            *esc = 1;
            if (end - p < 2)
                return fail(st, p, "premature end of input in a string", -1);
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                continue;
            case 'u':
                break;
            default:
                return fail(st, p, "invalid escape", -1);
            }
            int32_t cp = end - p >= 6 ? hex4(p + 2) : -1;
            if (cp < 0)
                return fail(st, p, "invalid \\u escape", -1);
            if (cp == 0)
                return fail(st, p, "\\u0000 is not allowed", -1);
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(st, p, "invalid Unicode: lone low surrogate", -1);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int32_t lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(st, p, "invalid Unicode: high surrogate without a low one", -1);
                p += 6;
            }
            p += 6;
            continue;
        }
        size_t n = utf8_seq(p, end);
        if (n == 0)
            return fail(st, p, "invalid UTF-8 in a string", -1);
        p += n;
    }
    *pp = p + 1;
    return 0;
}

/* The number starting at *pp: grammar, integers within int64, reals that do not overflow
 * a double (as jansson: underflow to zero is fine). *pp past it, *is_int set. */
static int
scan_number(scan *st, cptr *pp, int *is_int)
{
    cptr p = *pp, end = st->end, start = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    cptr ip = p;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return fail(st, start, "invalid number", -1);
    size_t nint = (size_t)(p - ip);
    cptr fp = NULL;
    size_t nfrac = 0;
    *is_int = 1;
    if (p < end && *p == '.') {
        fp = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        nfrac = (size_t)(p - fp);
        if (nfrac == 0)
            return fail(st, start, "invalid number", -1);
        *is_int = 0;
    }
    int64_t exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        cptr ep = p;
        while (p < end && *p >= '0' && *p <= '9') {
            if (exp < 1000000000)
                exp = exp * 10 + (*p - '0');
            p++;
        }
        if (p == ep)
            return fail(st, start, "invalid number", -1);
        if (eneg)
            exp = -exp;
        *is_int = 0;
    }
    *pp = p;
    if (*is_int) {
        static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
        if (nint > 19 || (nint == 19 && memcmp(ip, neg ? min : max, 19) > 0))
            return fail(st, start, neg ? "too big negative integer" : "too big integer", -1);
        return 0;
    }
    /* decimal exponent of the leading non-zero digit: below 308 the value is finite, above
     * it overflows, at 308 strtod decides */
    int64_t lead;
    size_t i = 0;
    while (i < nint && ip[i] == '0')
        i++;
    if (i < nint) {
        lead = (int64_t)(nint - 1 - i);
    } else {
        size_t j = 0;
        while (j < nfrac && fp[j] == '0')
            j++;
        if (j == nfrac)
            return 0; /* zero */
        lead = -(int64_t)j - 1;
    }
    int64_t e10 = lead + exp;
    if (e10 < 308)
        return 0;
    double v = 0;
    if (e10 == 308 && text_to_double((const char *)start, (size_t)(p - start), &v) != 0)
        return fail(st, start, "out of memory", -2);
    if (e10 > 308 || isinf(v))
        return fail(st, start, "real number overflow", -1);
    return 0;
}

static int
grow(ts_jscan *js)
{
    if (js->cap >= TS_JSCAN_MAX_TOKENS)
        return -1;
    uint32_t cap = js->cap < 64 ? 64 : js->cap * 2;
    if (cap > TS_JSCAN_MAX_TOKENS)
        cap = TS_JSCAN_MAX_TOKENS;
    ts_jtok *t;
    if (js->heap) {
        t = realloc(js->tok, (size_t)cap * sizeof *t);
    } else {
        t = malloc((size_t)cap * sizeof *t);
        if (t != NULL && js->n > 0)
            memcpy(t, js->tok, (size_t)js->n * sizeof *t);
    }
    if (t == NULL)
        return -1;
    js->tok = t;
    js->cap = cap;
    js->heap = 1;
    return 0;
}

/* Append a token; its index, or TS_JSCAN_NONE over the limit / out of memory. */
static uint32_t
emit(ts_jscan *js, int type, int flags, size_t start, size_t len)
{
    if (js->n == js->cap && grow(js) != 0)
        return TS_JSCAN_NONE;
    uint32_t i = js->n++;
    js->tok[i] = (ts_jtok){.start = (uint32_t)start,
                           .len = (uint32_t)len,
                           .next = i + 1,
                           .count = 0,
                           .type = (uint8_t)type,
                           .flags = (uint8_t)flags};
    return i;
}

/* ---- string bodies: code points and unescaping ------------------------------------------ */

/* The next code point of a validated string body [*pp, end), *pp advanced; -1 at the end. */
static int32_t
next_cp(cptr *pp, cptr end)
{
    cptr p = *pp;
    if (p == end)
        return -1;
    unsigned c = p[0];
    if (c == '\\') {
        int32_t cp;
        switch (p[1]) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            cp = hex4(p + 2);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p + 8) - 0xDC00);
                p += 6;
            }
            *pp = p + 6;
            return cp;
        default: cp = p[1]; break; /* " \ / */
        }
        *pp = p + 2;
        return cp;
    }
    if (c < 0x80) {
        *pp = p + 1;
        return (int32_t)c;
    }
    if (c < 0xE0) {
        *pp = p + 2;
        return (int32_t)((c & 0x1F) << 6 | (p[1] & 0x3Fu));
    }
    if (c < 0xF0) {
        *pp = p + 3;
        return (int32_t)((c & 0x0F) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu));
    }
    *pp = p + 4;
    return (int32_t)((c & 0x07) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 |
                     (p[3] & 0x3Fu));
}

static size_t
put_utf8(int32_t cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static cptr
body(const ts_jscan *js, uint32_t i)
{
    return (cptr)js->text + js->tok[i].start;
}

/* Order of two string tokens by their unescaped text (bytewise = by code points). */
static int
key_cmp(const ts_jscan *js, uint32_t a, uint32_t b)
{
    const ts_jtok *ta = &js->tok[a], *tb = &js->tok[b];
    cptr pa = body(js, a), pb = body(js, b);
    if (!((ta->flags | tb->flags) & TS_JTOK_ESC)) {
        size_t n = ta->len < tb->len ? ta->len : tb->len;
        int c = memcmp(pa, pb, n);
        if (c != 0)
            return c;
        return ta->len < tb->len ? -1 : ta->len > tb->len;
    }
    cptr ea = pa + ta->len, eb = pb + tb->len;
    for (;;) {
        int32_t ca = next_cp(&pa, ea), cb = next_cp(&pb, eb);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca < 0)
            return 0;
    }
}

/* Does string token i unescape to the n bytes at key? */
static int
key_is(const ts_jscan *js, uint32_t i, const char *key, size_t n)
{
    const ts_jtok *t = &js->tok[i];
    cptr p = body(js, i);
    if (!(t->flags & TS_JTOK_ESC))
        return t->len == n && memcmp(p, key, n) == 0;
    cptr e = p + t->len, k = (cptr)key, ke = k + n;
    unsigned char u[4];
    for (int32_t cp; (cp = next_cp(&p, e)) >= 0;) {
        size_t m = put_utf8(cp, u);
        if ((size_t)(ke - k) < m || memcmp(k, u, m) != 0)
            return 0;
        k += m;
    }
    return k == ke;
}

/* Sift-down of a max-heap of key token indices ordered by key_cmp. */
static void
sift(const ts_jscan *js, uint32_t *h, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && key_cmp(js, h[c + 1], h[c]) > 0)
            c++;
        if (key_cmp(js, h[root], h[c]) >= 0)
            return;
        uint32_t t = h[root];
        h[root] = h[c];
        h[c] = t;
        root = c;
    }
}

/* Does object token obj have two keys with the same unescaped text? 1, 0, or -1 when out
 * of memory. Small objects pairwise; large ones heap-sorted (n log n comparisons whatever
 * the keys are), then neighbours compared. */
static int
has_duplicate_keys(const ts_jscan *js, uint32_t obj)
{
    uint32_t n = js->tok[obj].count;
    if (n < 2)
        return 0;
    if (n <= SMALL_OBJECT) {
        uint32_t keys[SMALL_OBJECT], k = obj + 1;
        for (uint32_t i = 0; i < n; i++) {
            keys[i] = k;
            for (uint32_t j = 0; j < i; j++) {
                const ts_jtok *a = &js->tok[k], *b = &js->tok[keys[j]];
                if (!((a->flags | b->flags) & TS_JTOK_ESC) && a->len != b->len)
                    continue;
                if (key_cmp(js, k, keys[j]) == 0)
                    return 1;
            }
            k = js->tok[k + 1].next;
        }
        return 0;
    }
    uint32_t *h = malloc((size_t)n * sizeof *h);
    if (h == NULL)
        return -1;
    uint32_t k = obj + 1;
    for (uint32_t i = 0; i < n; i++, k = js->tok[k + 1].next)
        h[i] = k;
    for (size_t i = n / 2; i-- > 0;)
        sift(js, h, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        uint32_t t = h[0];
        h[0] = h[end];
        h[end] = t;
        sift(js, h, 0, end);
    }
    int dup = 0;
    for (uint32_t i = 1; i < n && !dup; i++)
        dup = key_cmp(js, h[i - 1], h[i]) == 0;
    free(h);
    return dup;
}

/* The grammar as a loop over an explicit stack of open containers. 0 or an error code. */
static int
scan_doc(scan *st)
{
    ts_jscan *js = st->js;
    cptr s = st->s, end = st->end, p = skip_ws(s, end);
    uint32_t stack[TS_JSCAN_DEPTH];
    int depth = 0, esc, is_int;
    uint32_t top = 0;
    if (p == end || (*p != '{' && *p != '['))
        return fail(st, p, "'[' or '{' expected", -1);
value:
    if (p == end)
        return fail(st, p, "premature end of input", -1);
    switch (*p) {
    case '{':
    case '[': {
        if (depth == TS_JSCAN_DEPTH)
            return fail(st, p, "nesting too deep", -2);
        int obj = *p == '{';
        top = emit(js, obj ? TS_J_OBJECT : TS_J_ARRAY, 0, (size_t)(p - s), 0);
        if (top == TS_JSCAN_NONE)
            return fail(st, p, "too many tokens", -2);
        stack[depth++] = top;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (obj ? '}' : ']'))
            goto close;
        if (obj)
            goto key;
        goto value;
    }
    case '"': {
        cptr q = p;
        if (scan_string(st, &p, &esc) != 0)
            return st->code;
        if (emit(js, TS_J_STRING, esc ? TS_JTOK_ESC : 0, (size_t)(q + 1 - s),
                 (size_t)(p - q - 2)) == TS_JSCAN_NONE)
            return fail(st, q, "too many tokens", -2);
        goto after;
    }
    case 't':
    case 'f':
    case 'n': {
        static const char *const lit[] = {"true", "false", "null"};
        int k = *p == 't' ? 0 : *p == 'f' ? 1 : 2;
        size_t n = strlen(lit[k]);
        if ((size_t)(end - p) < n || memcmp(p, lit[k], n) != 0)
            return fail(st, p, "invalid token", -1);
        if (emit(js, TS_J_TRUE + k, 0, (size_t)(p - s), n) == TS_JSCAN_NONE)
            return fail(st, p, "too many tokens", -2);
        p += n;
        goto after;
    }
    default: {
        cptr q = p;
        if (*p != '-' && (*p < '0' || *p > '9'))
            return fail(st, p, "invalid token", -1);
        if (scan_number(st, &p, &is_int) != 0)
            return st->code;
        if (emit(js, TS_J_NUMBER, is_int ? TS_JTOK_INT : 0, (size_t)(q - s),
                 (size_t)(p - q)) == TS_JSCAN_NONE)
            return fail(st, q, "too many tokens", -2);
        goto after;
    }
    }
key:
    if (p == end || *p != '"')
        return fail(st, p, "string or '}' expected", -1);
    {
        cptr q = p;
        if (scan_string(st, &p, &esc) != 0)
            return st->code;
        if (emit(js, TS_J_STRING, esc ? TS_JTOK_ESC : 0, (size_t)(q + 1 - s),
                 (size_t)(p - q - 2)) == TS_JSCAN_NONE)
            return fail(st, q, "too many tokens", -2);
    }
    p = skip_ws(p, end);
    if (p == end || *p != ':')
        return fail(st, p, "':' expected", -1);
    p = skip_ws(p + 1, end);
    goto value;
after:
    p = skip_ws(p, end);
    if (depth == 0)
        return p == end ? 0 : fail(st, p, "end of file expected", -1);
    top = stack[depth - 1];
    js->tok[top].count++;
    if (p == end)
        return fail(st, p, "premature end of input", -1);
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (js->tok[top].type == TS_J_OBJECT)
            goto key;
        goto value;
    }
    if (*p != (js->tok[top].type == TS_J_OBJECT ? '}' : ']'))
        return fail(st, p,
                    js->tok[top].type == TS_J_OBJECT ? "',' or '}' expected"
                                                     : "',' or ']' expected",
                    -1);
close:
    top = stack[--depth];
    js->tok[top].len = (uint32_t)(p + 1 - s) - js->tok[top].start;
    js->tok[top].next = js->n;
    if (js->tok[top].type == TS_J_OBJECT) {
        int d = has_duplicate_keys(js, top);
        if (d != 0)
            return fail(st, p, d > 0 ? "duplicate object key" : "out of memory", d > 0 ? -1 : -2);
    }
    p++;
    goto after;
}

void
ts_jscan_init(ts_jscan *js, ts_jtok *buf, size_t cap)
{
    memset(js, 0, sizeof *js);
    js->tok = buf;
    js->cap = buf != NULL ? (uint32_t)(cap < TS_JSCAN_MAX_TOKENS ? cap : TS_JSCAN_MAX_TOKENS) : 0;
}

void
ts_jscan_fini(ts_jscan *js)
{
    if (js->heap)
        free(js->tok);
    memset(js, 0, sizeof *js);
}

int
ts_jscan_parse(ts_jscan *js, const void *text, size_t len, char *err, size_t errsize)
{
    js->text = text;
    js->len = len;
    js->n = 0;
    scan st = {.js = js, .s = text, .end = text != NULL ? (cptr)text + len : NULL};
    int rc;
    if (len > TS_JSCAN_MAX_LEN)
        rc = fail(&st, st.s, "document too large", -2);
    else if (text == NULL)
        rc = fail(&st, st.s, "'[' or '{' expected", -1);
    else
        rc = scan_doc(&st);
    if (rc != 0) {
        js->n = 0;
        if (err != NULL && errsize > 0) {
            int line = 1;
            size_t col = 1;
            for (cptr q = st.s; q != NULL && q < st.at; q++) {
                if (*q == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            snprintf(err, errsize, "line %d column %zu: %s", line, col, st.why);
        }
    }
    return rc;
}

/* ---- lookups ------------------------------------------------------------------------------ */

ts_jtype
ts_jscan_type(const ts_jscan *js, uint32_t i)
{
    return i < js->n ? (ts_jtype)js->tok[i].type : TS_J_NONE;
}

uint32_t
ts_jscan_member(const ts_jscan *js, uint32_t obj, const char *key, size_t n)
{
    if (ts_jscan_type(js, obj) != TS_J_OBJECT || key == NULL)
        return TS_JSCAN_NONE;
    uint32_t k = obj + 1;
    for (uint32_t i = 0; i < js->tok[obj].count; i++, k = js->tok[k + 1].next)
        if (key_is(js, k, key, n))
            return k + 1;
    return TS_JSCAN_NONE;
}

uint32_t
ts_jscan_path(const ts_jscan *js, uint32_t obj, const char *path)
{
    if (path == NULL || path[0] == '\0')
        return TS_JSCAN_NONE;
    uint32_t cur = obj;
    for (const char *p = path;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        cur = ts_jscan_member(js, cur, p, n);
        if (slash == NULL || cur == TS_JSCAN_NONE)
            return cur;
        p = slash + 1;
    }
}

long
ts_jscan_string(const ts_jscan *js, uint32_t i, char *buf, size_t size)
{
    if (ts_jscan_type(js, i) != TS_J_STRING)
        return -1;
    const ts_jtok *t = &js->tok[i];
    cptr p = body(js, i), e = p + t->len;
    if (!(t->flags & TS_JTOK_ESC)) {
        if (t->len < size) {
            memcpy(buf, p, t->len);
            buf[t->len] = '\0';
        }
        return (long)t->len;
    }
    size_t n = 0;
    unsigned char u[4];
    for (int32_t cp; (cp = next_cp(&p, e)) >= 0;) {
        size_t m = put_utf8(cp, u);
        if (n + m < size)
            memcpy(buf + n, u, m);
        n += m;
    }
    if (n < size)
        buf[n] = '\0';
    return (long)n;
}

int
ts_jscan_int(const ts_jscan *js, uint32_t i, int64_t *out)
{
    if (ts_jscan_type(js, i) != TS_J_NUMBER || !(js->tok[i].flags & TS_JTOK_INT))
        return -1;
    cptr p = body(js, i), e = p + js->tok[i].len;
    int neg = *p == '-';
    uint64_t v = 0;
    for (p += neg; p < e; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    /* the scan kept v within [0, 2^63] and 2^63 only when negative */
    *out = neg ? (v == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

int
ts_jscan_number(const ts_jscan *js, uint32_t i, double *out)
{
    if (ts_jscan_type(js, i) != TS_J_NUMBER)
        return -1;
    int64_t v;
    if (ts_jscan_int(js, i, &v) == 0) {
        *out = (double)v;
        return 0;
    }
    return text_to_double(js->text + js->tok[i].start, js->tok[i].len, out);
}

int
ts_jscan_bool(const ts_jscan *js, uint32_t i, int *out)
{
    ts_jtype t = ts_jscan_type(js, i);
    if (t != TS_J_TRUE && t != TS_J_FALSE)
        return -1;
    *out = t == TS_J_TRUE;
    return 0;
}

int
ts_jscan_idtext(const ts_jscan *js, uint32_t i, char *buf, size_t size)
{
    ts_jtype t = ts_jscan_type(js, i);
    if (t == TS_J_STRING) {
        long n = ts_jscan_string(js, i, buf, size);
        return n > 0 && (size_t)n < size && n < TS_FEED_ID_MAX ? 0 : -1;
    }
    if (t != TS_J_NUMBER)
        return -1;
    int n;
    int64_t v;
    double d;
    if (ts_jscan_int(js, i, &v) == 0)
        n = snprintf(buf, size, "%lld", (long long)v);
    else if (ts_jscan_number(js, i, &d) == 0 && isfinite(d))
        n = snprintf(buf, size, "%.17g", d);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}
