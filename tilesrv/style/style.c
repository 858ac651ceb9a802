/* style/style.c — lifetime of a compiled style (arena, refcount, property table), reading
 * a style file, and the decimal number scanner shared by parser and evaluator. */
#include "style/style.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "style/style_int.h"

/* ---- arena ----------------------------------------------------------------------------- */

#define CHUNK_MIN 4096u
#define CHUNK_MAX 65536u

void *
ts_style__alloc(ts_style__impl *st, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    ts_style__chunk *c = st->chunks;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = c ? c->cap * 2 : CHUNK_MIN;
        if (cap > CHUNK_MAX)
            cap = CHUNK_MAX;
        if (cap < size)
            cap = size;
        ts_style__chunk *n = malloc(sizeof *n + cap);
        if (n == NULL)
            return NULL;
        n->used = 0;
        n->cap = cap;
        if (c != NULL && c->cap - c->used >= CHUNK_MIN) {
            /* a big block while the current one still has room: keep bumping the current */
            n->next = c->next;
            c->next = n;
            n->used = size;
            memset(n->data, 0, size);
            return n->data;
        }
        n->next = c;
        st->chunks = c = n;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *
ts_style__strndup(ts_style__impl *st, const char *s, size_t n)
{
    char *d = ts_style__alloc(st, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

int
ts_style__prop_add(ts_style__impl *st, const char *name, long line)
{
    ts_style *s = &st->pub;
    for (int i = 0; i < s->nprops; i++)
        if (strcmp(s->props[i], name) == 0)
            return i;
    if (s->nprops >= TS_STYLE__MAX_PROPS) /* the lookup above is linear */
        return -2;
    if (s->nprops == st->props_cap) {
        int cap = st->props_cap ? st->props_cap * 2 : 8;
        char **np = realloc(s->props, (size_t)cap * sizeof *np);
        if (np == NULL)
            return -1;
        s->props = np;
        long *nl = realloc(s->prop_lines, (size_t)cap * sizeof *nl);
        if (nl == NULL)
            return -1;
        s->prop_lines = nl;
        st->props_cap = cap;
    }
    char *copy = ts_style__strndup(st, name, strlen(name));
    if (copy == NULL)
        return -1;
    s->props[s->nprops] = copy;
    s->prop_lines[s->nprops] = line;
    return s->nprops++;
}

void
ts_style__free(ts_style__impl *st)
{
    if (st == NULL)
        return;
    ts_style__chunk *c = st->chunks;
    while (c != NULL) {
        ts_style__chunk *next = c->next;
        free(c);
        c = next;
    }
    free(st->pub.props);
    free(st->pub.prop_lines);
    for (int i = 0; i < st->pub.nimages; i++)
        ts_svg_free(st->pub.images[i].svg);
    free(st->pub.images);
    free(st);
}

/* ---- public lifetime ------------------------------------------------------------------- */

ts_style *
ts_style_ref(ts_style *s)
{
    if (s != NULL)
        __atomic_fetch_add(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void
ts_style_unref(ts_style *s)
{
    if (s == NULL)
        return;
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        ts_style__free((ts_style__impl *)s);
}

int
ts_rule_counts_for_else(const ts_rule *r)
{
    if (r->is_else)
        return 0;
    if (r->filter != NULL)
        return 1;
    for (int k = 0; k < r->nsyms; k++)
        if (r->syms[k].kind != TS_SYM_TEXT)
            return 1;
    return 0; /* labels of every feature */
}

static int
matches(const ts_rule *r, const ts_feature_ref *feat)
{
    return ts_rule_counts_for_else(r) && (r->filter == NULL || ts_filter_eval(r->filter, feat));
}

int
ts_rules_else_applies(const ts_rule *const *rules, int n, const ts_feature_ref *feat)
{
    for (int i = 0; i < n; i++)
        if (matches(rules[i], feat))
            return 0;
    return 1;
}

void
ts_rules_apply(const ts_rule *const *rules, int n, const ts_feature_ref *feat,
               unsigned char *applies)
{
    int matched = 0, has_else = 0;
    for (int i = 0; i < n; i++) {
        const ts_rule *r = rules[i];
        has_else |= r->is_else;
        applies[i] = !r->is_else && (r->filter == NULL || ts_filter_eval(r->filter, feat));
        matched |= applies[i] && ts_rule_counts_for_else(r);
    }
    for (int i = 0; has_else && !matched && i < n; i++)
        applies[i] |= rules[i]->is_else;
}

int
ts_fts_else_applies(const ts_fts *fts, double scale_denom, const ts_feature_ref *feat)
{
    for (int i = 0; i < fts->nrules; i++)
        if (ts_rule_in_scale(&fts->rules[i], scale_denom) && matches(&fts->rules[i], feat))
            return 0;
    return 1;
}

int
ts_style_prop_index(const ts_style *s, const char *name)
{
    if (s == NULL || name == NULL)
        return -1;
    for (int i = 0; i < s->nprops; i++)
        if (strcmp(s->props[i], name) == 0)
            return i;
    return -1;
}

/* ---- files ----------------------------------------------------------------------------- */

static char *
read_file(const char *path, size_t *len, ts_err *err)
{
    char eb[128];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        if (strerror_r(e, eb, sizeof eb) != 0)
            snprintf(eb, sizeof eb, "errno %d", e);
        TS_FAIL_AT(err, e == ENOENT ? TS_ENOENT : TS_EIO, path, 0, 0, "cannot open style: %s",
                   eb);
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        TS_FAIL_AT(err, TS_EIO, path, 0, 0, "not a regular file");
        return NULL;
    }
    if ((unsigned long long)sb.st_size > TS_STYLE__MAX_BYTES) {
        fclose(f);
        TS_FAIL_AT(err, TS_ELIMIT, path, 0, 0, "style file of %lld bytes exceeds the %u-byte limit",
                   (long long)sb.st_size, TS_STYLE__MAX_BYTES);
        return NULL;
    }
    size_t cap = (size_t)sb.st_size;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        fclose(f);
        TS_FAIL_AT(err, TS_ENOMEM, path, 0, 0, "out of memory reading style");
        return NULL;
    }
    size_t n = fread(buf, 1, cap, f);
    int bad = ferror(f);
    /* a file that grew since fstat is cut at the size seen; one byte more tells */
    int grew = n == cap && fgetc(f) != EOF;
    fclose(f);
    if (bad || grew) {
        free(buf);
        TS_FAIL_AT(err, TS_EIO, path, 0, 0, bad ? "read error" : "file changed while reading");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

ts_style *
ts_style_load_layer(const char *path, const char *layer, ts_err *err)
{
    size_t len = 0;
    char *xml = read_file(path, &len, err);
    if (xml == NULL)
        return NULL;
    ts_style *s = ts_style_parse_layer(xml, len, path, layer, err);
    free(xml);
    return s;
}

ts_style *
ts_style_load(const char *path, ts_err *err)
{
    return ts_style_load_layer(path, NULL, err);
}

ts_style *
ts_style_load_prefer(const char *path, const char *layer, ts_err *err)
{
    size_t len = 0;
    char *xml = read_file(path, &len, err);
    if (xml == NULL)
        return NULL;
    ts_style *s = ts_style_parse_prefer(xml, len, path, layer, err);
    free(xml);
    return s;
}

/* ---- numbers --------------------------------------------------------------------------- */

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
ts_style__scan_number(const char *s, size_t n, double *d, int64_t *i, int *is_int)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t p = 0;
    while (p < n && is_space(s[p]))
        p++;
    while (n > p && is_space(s[n - 1]))
        n--;
    if (p == n)
        return 0;
    size_t start = p;
    int neg = 0;
    if (s[p] == '+' || s[p] == '-')
        neg = s[p++] == '-';
    uint64_t mant = 0;
    int nsig = 0, digits = 0, trunc = 0, integral = 1;
    long exp10 = 0;
    for (; p < n && s[p] >= '0' && s[p] <= '9'; p++) {
        digits++;
        if (mant == 0 && s[p] == '0')
            continue;
        if (nsig < 19) {
            mant = mant * 10 + (uint64_t)(s[p] - '0');
            nsig++;
        } else {
            exp10++;
            trunc = 1;
        }
    }
    if (p < n && s[p] == '.') {
        integral = 0;
        for (p++; p < n && s[p] >= '0' && s[p] <= '9'; p++) {
            digits++;
            if (mant == 0 && s[p] == '0') {
                exp10--;
                continue;
            }
            if (nsig < 19) {
                mant = mant * 10 + (uint64_t)(s[p] - '0');
                nsig++;
                exp10--;
            } else {
                trunc = 1;
            }
        }
    }
    if (digits == 0)
        return 0;
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        integral = 0;
        p++;
        int eneg = 0;
        if (p < n && (s[p] == '+' || s[p] == '-'))
            eneg = s[p++] == '-';
        if (p == n || s[p] < '0' || s[p] > '9')
            return 0;
        long e = 0;
        for (; p < n && s[p] >= '0' && s[p] <= '9'; p++)
            if (e < 100000)
                e = e * 10 + (s[p] - '0');
        exp10 += eneg ? -e : e;
    }
    if (p != n)
        return 0;

    *is_int = 0;
    if (integral && !trunc && (mant <= (uint64_t)INT64_MAX || (neg && mant == (uint64_t)INT64_MAX + 1))) {
        *is_int = 1;
        *i = neg ? (int64_t)(0 - mant) : (int64_t)mant;
    }
    double v;
    if (mant == 0) {
        v = 0.0;
    } else if (!trunc && nsig <= 15 && exp10 >= -22 && exp10 <= 22) {
        /* exact: both the mantissa and the power of ten are representable */
        v = exp10 >= 0 ? (double)mant * p10[exp10] : (double)mant / p10[-exp10];
    } else {
        char buf[512];
        size_t m = n - start;
        if (m < sizeof buf) {
            memcpy(buf, s + start, m);
            buf[m] = '\0';
            v = strtod(buf, NULL);
            *d = v;
            return 1;
        }
        v = (double)mant * pow(10.0, (double)exp10);
    }
    *d = neg ? -v : v;
    return 1;
}
