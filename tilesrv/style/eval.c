/* style/eval.c — evaluating compiled filters against one feature.
 *
 * Runs per feature per rule, so it allocates nothing and parses no literal (numbers were
 * converted when the style was compiled). Comparison follows GeoServer: numeric when both
 * sides are numbers or strings that read as numbers, otherwise a string comparison (case
 * folded for ASCII when matchCase is false); null (a missing value too) makes every
 * comparison, Like and Between false, and only PropertyIsNull true. Arithmetic on a
 * non-numeric or null operand is null; division follows IEEE (x/0 is infinite, 0/0 NaN,
 * and NaN compares false). */
#include "style/style.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "style/style_int.h"

enum { V_NULL = 0, V_NUM, V_STR };

/* One evaluated operand. Strings keep their text and learn lazily whether they read as a
 * number; numbers may carry the text they were written as (literals, booleans). */
typedef struct opnd {
    int kind;
    int is_int;       /* V_NUM, or V_STR with numchk == 1: i is exact */
    int numchk;       /* V_STR: 0 not yet scanned, 1 numeric (i/d set), -1 not numeric */
    int64_t i;
    double d;
    const char *s;    /* V_STR text; V_NUM text or NULL */
    int xcase;        /* V_STR: 0 as is, XC_UPPER / XC_LOWER: s as that case function has it
                       * (the transform keeps every byte's place, so it is applied while
                       * comparing, and nothing is copied) */
    char own[8];      /* text computed here (an interpolated "#rrggbb"): s points into it,
                       * so an opnd is never copied, only filled in place */
} opnd;

enum { XC_NONE = 0, XC_UPPER, XC_LOWER };

static void eval_expr(const ts_expr *e, const ts_feature_ref *f, opnd *o);
static void from_value(const ts_value *v, opnd *o);

static int
to_num(opnd *o)
{
    if (o->kind == V_NUM)
        return 1;
    if (o->kind != V_STR)
        return 0;
    if (o->numchk == 0) {
        int is_int = 0;
        if (ts_style__scan_number(o->s, strlen(o->s), &o->d, &o->i, &is_int) && isfinite(o->d)) {
            o->numchk = 1;
            o->is_int = is_int;
        } else {
            o->numchk = -1;
        }
    }
    return o->numchk > 0;
}

static void
set_num(opnd *o, double d)
{
    o->kind = V_NUM;
    o->is_int = 0;
    o->d = d;
    o->s = NULL;
}

static void
set_int(opnd *o, int64_t i)
{
    o->kind = V_NUM;
    o->is_int = 1;
    o->i = i;
    o->d = (double)i;
    o->s = NULL;
}

static void
eval_arith(const ts_expr *e, const ts_feature_ref *f, opnd *o)
{
    opnd a, b;
    eval_expr(e->a, f, &a);
    eval_expr(e->b, f, &b);
    o->kind = V_NULL;
    if (!to_num(&a) || !to_num(&b))
        return;
    if (a.is_int && b.is_int && e->op != TS_EXPR_DIV) {
        int64_t r;
        int ovf = e->op == TS_EXPR_ADD   ? __builtin_add_overflow(a.i, b.i, &r)
                  : e->op == TS_EXPR_SUB ? __builtin_sub_overflow(a.i, b.i, &r)
                                         : __builtin_mul_overflow(a.i, b.i, &r);
        if (!ovf) {
            set_int(o, r);
            return;
        }
    }
    double x = a.is_int ? (double)a.i : a.d, y = b.is_int ? (double)b.i : b.d;
    switch (e->op) {
    case TS_EXPR_ADD:
        set_num(o, x + y);
        break;
    case TS_EXPR_SUB:
        set_num(o, x - y);
        break;
    case TS_EXPR_MUL:
        set_num(o, x * y);
        break;
    default:
        set_num(o, x / y);
        break;
    }
}

static void eval_func(const ts_expr *e, const ts_feature_ref *f, opnd *o);

static void
eval_expr(const ts_expr *e, const ts_feature_ref *f, opnd *o)
{
    o->numchk = 0;
    o->xcase = XC_NONE;
    switch (e->op) {
    case TS_EXPR_LITERAL:
        if (e->lit.type == TS_VAL_INT) {
            set_int(o, e->lit.u.i);
            o->s = e->text;
        } else if (e->lit.type == TS_VAL_REAL) {
            set_num(o, e->lit.u.d);
            o->s = e->text;
        } else if (e->lit.type == TS_VAL_STR) {
            o->kind = V_STR;
            o->s = e->lit.u.s;
            o->numchk = -1; /* known when compiled */
        } else if (e->lit.type == TS_VAL_BOOL) {
            set_int(o, e->lit.u.i != 0);
            o->s = e->lit.u.i ? "true" : "false";
        } else {
            o->kind = V_NULL;
        }
        return;
    case TS_EXPR_PROPERTY:
        from_value(e->prop >= 0 && f != NULL ? f->get(f->ctx, e->prop) : NULL, o);
        return;
    case TS_EXPR_CONCAT:
        /* text values need storage: only ts_label_eval / ts_expr_eval_number build them;
         * the filter compiler never lets a concatenation into a filter */
        o->kind = V_NULL;
        return;
    case TS_EXPR_FUNC:
        eval_func(e, f, o);
        return;
    default:
        eval_arith(e, f, o);
        return;
    }
}

static void
from_value(const ts_value *v, opnd *o)
{
    o->numchk = 0;
    o->xcase = XC_NONE;
    if (v == NULL) {
        o->kind = V_NULL;
        return;
    }
    switch (v->type) {
    case TS_VAL_INT:
        set_int(o, v->u.i);
        return;
    case TS_VAL_REAL:
        set_num(o, v->u.d);
        return;
    case TS_VAL_BOOL:
        set_int(o, v->u.i != 0);
        o->s = v->u.i ? "true" : "false";
        return;
    case TS_VAL_STR:
        if (v->u.s != NULL) {
            o->kind = V_STR;
            o->s = v->u.s;
            return;
        }
        o->kind = V_NULL;
        return;
    default:
        o->kind = V_NULL;
        return;
    }
}

/* Text of an operand; numbers without text are formatted into buf (32 bytes). */
static const char *
str_of(const opnd *o, char *buf)
{
    if (o->s != NULL)
        return o->s;
    if (o->is_int) {
        char tmp[24];
        int n = 0;
        uint64_t u = o->i < 0 ? 0 - (uint64_t)o->i : (uint64_t)o->i;
        do {
            tmp[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        int k = 0;
        if (o->i < 0)
            buf[k++] = '-';
        while (n)
            buf[k++] = tmp[--n];
        buf[k] = '\0';
        return buf;
    }
    snprintf(buf, 32, "%.15g", o->d);
    return buf;
}

static int
fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Byte i of s as case function xcase has it: ASCII letters, and the Latin-1 letters
 * (UTF-8 C3 80..9E <-> C3 A0..BE, but for the multiplication and division signs), whose
 * two cases have the same length. */
static int
xbyte(const unsigned char *s, size_t i, int xcase)
{
    int c = s[i];
    if (xcase == XC_NONE)
        return c;
    if (i > 0 && s[i - 1] == 0xC3) {
        if (xcase == XC_UPPER && c >= 0xA0 && c <= 0xBE && c != 0xB7)
            return c - 0x20;
        if (xcase == XC_LOWER && c >= 0x80 && c <= 0x9E && c != 0x97)
            return c + 0x20;
        return c;
    }
    if (xcase == XC_UPPER)
        return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
    return fold(c);
}

static int
str_cmp_x(const char *a, int xa, const char *b, int xb, int match_case)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (size_t i = 0;; i++) {
        int ca = xbyte(x, i, xa), cb = xbyte(y, i, xb);
        if (!match_case) {
            ca = fold(ca);
            cb = fold(cb);
        }
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

static int
str_cmp(const char *a, const char *b, int match_case)
{
    if (match_case)
        return strcmp(a, b);
    return str_cmp_x(a, XC_NONE, b, XC_NONE, 0);
}

/* Compare two operands: 0 when unordered (a null or NaN), else 1 with *r < 0, 0 or > 0. */
static int
compare(opnd *a, opnd *b, int match_case, int *r)
{
    if (a->kind == V_NULL || b->kind == V_NULL)
        return 0;
    int known_str = (a->kind == V_STR && a->numchk < 0) || (b->kind == V_STR && b->numchk < 0);
    if (!known_str && to_num(a) && to_num(b)) {
        if (a->is_int && b->is_int) {
            *r = (a->i > b->i) - (a->i < b->i);
            return 1;
        }
        double x = a->is_int ? (double)a->i : a->d, y = b->is_int ? (double)b->i : b->d;
        if (isnan(x) || isnan(y))
            return 0;
        *r = (x > y) - (x < y);
        return 1;
    }
    char ba[32], bb[32];
    *r = str_cmp_x(str_of(a, ba), a->kind == V_STR ? a->xcase : XC_NONE, str_of(b, bb),
                   b->kind == V_STR ? b->xcase : XC_NONE, match_case);
    return 1;
}

/* Bytes in the UTF-8 sequence starting at s (1 for invalid bytes); never past a NUL. */
static int
u8len(const unsigned char *s)
{
    int n = *s < 0x80 ? 1 : *s >= 0xF0 ? 4 : *s >= 0xE0 ? 3 : *s >= 0xC0 ? 2 : 1;
    for (int k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* SQL LIKE on a normalised pattern ('%', '_', '\\' escapes), '_' = one UTF-8 character;
 * str as case function xcase has it. */
static int
like_match(const char *pattern, const char *str, int xcase, int match_case)
{
    const unsigned char *p = (const unsigned char *)pattern, *s = (const unsigned char *)str;
    const unsigned char *s0 = s;
    const unsigned char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '%') {
            star_p = ++p;
            star_s = s;
            continue;
        }
        if (*p == '_') {
            p++;
            s += u8len(s);
            continue;
        }
        if (*p != '\0') {
            int lit = *p, plen = 1;
            if (lit == '\\' && p[1] != '\0') {
                lit = p[1];
                plen = 2;
            }
            int c = xbyte(s0, (size_t)(s - s0), xcase);
            if (match_case ? lit == c : fold(lit) == fold(c)) {
                p += plen;
                s++;
                continue;
            }
        }
        if (star_p == NULL)
            return 0;
        star_s += u8len(star_s);
        p = star_p;
        s = star_s;
    }
    while (*p == '%')
        p++;
    return *p == '\0';
}

/* Characters (UTF-8 sequences; an invalid byte counts as one) of s. */
static int64_t
u8count(const char *s)
{
    int64_t n = 0;
    for (const unsigned char *q = (const unsigned char *)s; *q; q += u8len(q))
        n++;
    return n;
}

/* The number an operand reads as (after to_num). */
static double
num_of(const opnd *o)
{
    return o->is_int ? (double)o->i : o->d;
}

/* Interpolate: v1 up to d1, vn from dn on, in between by the fraction of the way (cosine
 * eased when asked), of numbers or of RGB colours (a "#rrggbb" made in o->own). Null when
 * the input or a value it needs is not a number / colour. */
static void
eval_interpolate(const ts_expr *e, const ts_feature_ref *f, opnd *o)
{
    opnd x, d0, d1;
    o->kind = V_NULL;
    eval_expr(e->args[0], f, &x);
    if (!to_num(&x))
        return;
    double v = num_of(&x);
    int n = (e->nargs - 1) / 2, lo = 0;
    /* the last stop at or below v (the first when v is below them all) */
    for (int j = 0; j < n; j++) {
        eval_expr(e->args[1 + 2 * j], f, &d0);
        if (!to_num(&d0))
            return;
        if (num_of(&d0) <= v)
            lo = j;
        else
            break;
    }
    eval_expr(e->args[1 + 2 * lo], f, &d0);
    to_num(&d0);
    double t = 0;
    int hi = lo;
    if (lo + 1 < n && num_of(&d0) <= v) {
        eval_expr(e->args[1 + 2 * (lo + 1)], f, &d1);
        if (!to_num(&d1))
            return;
        double span = num_of(&d1) - num_of(&d0);
        if (span > 0) {
            hi = lo + 1;
            t = (v - num_of(&d0)) / span;
            if (e->fn_flags & TS_FN_COSINE)
                t = (1 - cos(t * M_PI)) / 2;
        }
    }
    opnd a, b;
    eval_expr(e->args[2 + 2 * lo], f, &a);
    eval_expr(e->args[2 + 2 * hi], f, &b);
    if (!(e->fn_flags & TS_FN_COLOUR)) {
        if (!to_num(&a) || !to_num(&b))
            return;
        set_num(o, num_of(&a) + (num_of(&b) - num_of(&a)) * t);
        return;
    }
    char ba[32], bb[32];
    ts_rgba ca, cb;
    if (a.kind == V_NULL || b.kind == V_NULL || !ts_style_colour(str_of(&a, ba), &ca) ||
        !ts_style_colour(str_of(&b, bb), &cb))
        return;
    int r = (int)lround(ca.r + (cb.r - ca.r) * t), g = (int)lround(ca.g + (cb.g - ca.g) * t),
        bl = (int)lround(ca.b + (cb.b - ca.b) * t);
    snprintf(o->own, sizeof o->own, "#%02x%02x%02x", r & 255, g & 255, bl & 255);
    o->kind = V_STR;
    o->s = o->own;
    o->numchk = -1;
    o->xcase = XC_NONE;
}

static void
eval_func(const ts_expr *e, const ts_feature_ref *f, opnd *o)
{
    switch (e->fn) {
    case TS_FN_UPPER:
    case TS_FN_LOWER:
        eval_expr(e->args[0], f, o);
        if (o->kind == V_STR)
            o->xcase = e->fn == TS_FN_UPPER ? XC_UPPER : XC_LOWER;
        return; /* a number's text has no letters to change; null stays null */
    case TS_FN_STRLEN: {
        eval_expr(e->args[0], f, o);
        if (o->kind == V_NULL)
            return;
        char buf[32];
        set_int(o, u8count(str_of(o, buf)));
        return;
    }
    case TS_FN_RECODE: {
        opnd x, y;
        int r;
        eval_expr(e->args[0], f, &x);
        for (int k = 1; k + 1 < e->nargs && x.kind != V_NULL; k += 2) {
            eval_expr(e->args[k], f, &y);
            if (compare(&x, &y, 1, &r) && r == 0) {
                eval_expr(e->args[k + 1], f, o);
                return;
            }
        }
        break;
    }
    case TS_FN_CATEGORIZE: {
        opnd x, t;
        int r, pick = 1;
        eval_expr(e->args[0], f, &x);
        if (x.kind == V_NULL)
            break;
        for (int k = 2; k + 1 < e->nargs; k += 2) {
            eval_expr(e->args[k], f, &t);
            if (!compare(&x, &t, 1, &r))
                break;
            if (e->fn_flags & TS_FN_PRECEDING ? r > 0 : r >= 0)
                pick = k + 1;
            else
                break;
        }
        eval_expr(e->args[pick], f, o);
        return;
    }
    case TS_FN_INTERPOLATE:
        eval_interpolate(e, f, o);
        return;
    case TS_FN_IN: {
        opnd x, y;
        int hit = 0, r;
        eval_expr(e->args[0], f, &x);
        for (int k = 1; k < e->nargs && !hit && x.kind != V_NULL; k++) {
            eval_expr(e->args[k], f, &y);
            hit = compare(&x, &y, 1, &r) && r == 0;
        }
        set_int(o, hit);
        o->s = hit ? "true" : "false";
        return;
    }
    }
    o->kind = V_NULL;
}

int
ts_filter_eval(const ts_filter *f, const ts_feature_ref *feat)
{
    if (f == NULL)
        return 1;
    opnd a, b, c;
    int r;
    switch (f->op) {
    case TS_FILTER_AND:
        for (int k = 0; k < f->nkids; k++)
            if (!ts_filter_eval(f->kids[k], feat))
                return 0;
        return 1;
    case TS_FILTER_OR:
        for (int k = 0; k < f->nkids; k++)
            if (ts_filter_eval(f->kids[k], feat))
                return 1;
        return 0;
    case TS_FILTER_NOT:
        return f->nkids > 0 ? !ts_filter_eval(f->kids[0], feat) : 0;
    case TS_FILTER_ISNULL:
        eval_expr(f->a, feat, &a);
        return a.kind == V_NULL;
    case TS_FILTER_LIKE: {
        eval_expr(f->a, feat, &a);
        if (a.kind == V_NULL)
            return 0;
        char buf[32];
        return like_match(f->like_pattern, str_of(&a, buf), a.kind == V_STR ? a.xcase : XC_NONE,
                          f->match_case);
    }
    case TS_FILTER_BETWEEN:
        eval_expr(f->a, feat, &a);
        if (a.kind == V_NULL)
            return 0;
        eval_expr(f->b, feat, &b);
        if (!compare(&a, &b, f->match_case, &r) || r < 0)
            return 0;
        eval_expr(f->c, feat, &c);
        return compare(&a, &c, f->match_case, &r) && r <= 0;
    case TS_FILTER_BBOX:
        return feat->bbox.minx <= f->bbox.maxx && feat->bbox.maxx >= f->bbox.minx &&
               feat->bbox.miny <= f->bbox.maxy && feat->bbox.maxy >= f->bbox.miny;
    default:
        break;
    }
    if (f->a->op == TS_EXPR_PROPERTY && f->b->op == TS_EXPR_LITERAL) {
        /* the common shape, property against literal, without building operands */
        const ts_value *v = f->a->prop >= 0 ? feat->get(feat->ctx, f->a->prop) : NULL;
        const ts_value *l = &f->b->lit;
        if (v == NULL || v->type == TS_VAL_NULL)
            return 0;
        if (v->type == TS_VAL_STR && l->type == TS_VAL_STR && v->u.s != NULL) {
            r = str_cmp(v->u.s, l->u.s, f->match_case);
        } else if (v->type == TS_VAL_INT && l->type == TS_VAL_INT) {
            r = (v->u.i > l->u.i) - (v->u.i < l->u.i);
        } else if ((v->type == TS_VAL_REAL || v->type == TS_VAL_INT) &&
                   (l->type == TS_VAL_REAL || l->type == TS_VAL_INT)) {
            double x = v->type == TS_VAL_INT ? (double)v->u.i : v->u.d;
            double y = l->type == TS_VAL_INT ? (double)l->u.i : l->u.d;
            if (isnan(x))
                return 0;
            r = (x > y) - (x < y);
        } else {
            from_value(v, &a);
            if (a.kind == V_NULL)
                return 0;
            eval_expr(f->b, feat, &b);
            if (!compare(&a, &b, f->match_case, &r))
                return 0;
        }
    } else {
        eval_expr(f->a, feat, &a);
        if (a.kind == V_NULL)
            return 0;
        eval_expr(f->b, feat, &b);
        if (!compare(&a, &b, f->match_case, &r))
            return 0;
    }
    switch (f->op) {
    case TS_FILTER_EQ:
        return r == 0;
    case TS_FILTER_NE:
        return r != 0;
    case TS_FILTER_LT:
        return r < 0;
    case TS_FILTER_LE:
        return r <= 0;
    case TS_FILTER_GT:
        return r > 0;
    case TS_FILTER_GE:
        return r >= 0;
    default:
        return 0;
    }
}

/* ---- labels ------------------------------------------------------------------------------ */

/* Text of a number, shortest: integers plainly, reals integral below 1e15 without a
 * fraction, otherwise the fewest significant digits that read back to the same double. */
static void
format_number(const opnd *o, char *buf, size_t cap)
{
    if (o->is_int) {
        char tmp[32];
        str_of(o, tmp);
        snprintf(buf, cap, "%s", tmp);
        return;
    }
    double d = o->d;
    if (isnan(d)) {
        snprintf(buf, cap, "NaN");
    } else if (isinf(d)) {
        snprintf(buf, cap, d > 0 ? "Infinity" : "-Infinity");
    } else if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(buf, cap, "%.0f", d == 0 ? 0.0 : d); /* no "-0" */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, cap, "%.*g", prec, d);
            double back;
            int64_t i;
            int is_int;
            if (ts_style__scan_number(buf, strlen(buf), &back, &i, &is_int) && back == d)
                return;
        }
    }
}

/* Append s[0..n) to buf at *at, cutting at a UTF-8 character boundary once it no longer
 * fits; *at counts every byte as if it fit. */
typedef struct sbuf {
    char *buf;
    size_t cap;     /* bytes of buf */
    size_t at;      /* length of the whole text so far */
    size_t kept;    /* bytes actually in buf (< cap) */
    int full;       /* a character was cut: nothing more goes in */
    int ink;        /* some character of the whole text is not white space */
} sbuf;

static void
sb_put(sbuf *b, const char *s, size_t n)
{
    b->at += n;
    for (size_t k = 0; k < n && !b->ink; k++)
        b->ink = s[k] != ' ' && s[k] != '\t' && s[k] != '\n' && s[k] != '\r';
    if (b->full || b->cap == 0)
        return;
    size_t room = b->cap - 1 - b->kept;
    if (n > room) {
        n = room;
        /* back off to the start of the character that does not fit */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        b->full = 1;
    }
    memcpy(b->buf + b->kept, s, n);
    b->kept += n;
}

static void
label_part(const ts_expr *e, const ts_feature_ref *f, sbuf *b, int depth)
{
    if (e == NULL || depth > 2 * TS_STYLE__MAX_DEPTH)
        return;
    if (e->op == TS_EXPR_CONCAT) {
        label_part(e->a, f, b, depth + 1);
        label_part(e->b, f, b, depth + 1);
        return;
    }
    if (e->op == TS_EXPR_LITERAL && e->text != NULL) {
        sb_put(b, e->text, strlen(e->text)); /* as written: "007" stays "007" */
        return;
    }
    if (e->op == TS_EXPR_FUNC && (e->fn == TS_FN_UPPER || e->fn == TS_FN_LOWER)) {
        /* the argument's text, then its case changed where it landed */
        size_t from = b->kept;
        label_part(e->args[0], f, b, depth + 1);
        int xc = e->fn == TS_FN_UPPER ? XC_UPPER : XC_LOWER;
        unsigned char *q = (unsigned char *)b->buf;
        for (size_t i = from; i < b->kept; i++)
            q[i] = (unsigned char)xbyte(q, i, xc);
        return;
    }
    opnd o;
    eval_expr(e, f, &o);
    if (o.kind == V_NULL)
        return;
    if (o.kind == V_STR) {
        sb_put(b, o.s, strlen(o.s));
        return;
    }
    if (o.s != NULL) { /* booleans */
        sb_put(b, o.s, strlen(o.s));
        return;
    }
    char num[40];
    format_number(&o, num, sizeof num);
    sb_put(b, num, strlen(num));
}

size_t
ts_label_eval(const ts_expr *label, const ts_feature_ref *feat, char *buf, size_t cap)
{
    sbuf b = {buf, cap, 0, 0, 0, 0};
    label_part(label, feat, &b, 0);
    if (cap > 0)
        buf[b.ink ? b.kept : 0] = '\0';
    return b.ink ? b.at : 0; /* blank: nothing to draw */
}

int
ts_expr_eval_number(const ts_expr *e, const ts_feature_ref *feat, double *out)
{
    if (e == NULL)
        return 0;
    opnd o;
    if (e->op == TS_EXPR_CONCAT) {
        char tmp[64];
        size_t n = ts_label_eval(e, feat, tmp, sizeof tmp);
        if (n == 0 || n >= sizeof tmp)
            return 0;
        o.kind = V_STR;
        o.s = tmp;
        o.numchk = 0;
        if (!to_num(&o))
            return 0;
        *out = o.is_int ? (double)o.i : o.d;
        return 1;
    }
    eval_expr(e, feat, &o);
    if (!to_num(&o))
        return 0;
    *out = o.is_int ? (double)o.i : o.d;
    return 1;
}

/* ---- values of the feature in symbolizers ------------------------------------------------ */

static void
dyn_colour(const ts_expr *x, const ts_feature_ref *f, ts_rgba *out)
{
    if (x == NULL)
        return;
    char buf[64];
    size_t n = ts_label_eval(x, f, buf, sizeof buf);
    ts_rgba c;
    if (n > 0 && n < sizeof buf && ts_style_colour(buf, &c))
        *out = c;
}

static void
dyn_number(const ts_expr *x, const ts_feature_ref *f, double lo, double hi, double *out)
{
    double v;
    if (x == NULL || !ts_expr_eval_number(x, f, &v) || !isfinite(v))
        return; /* null, not a number, or a division by zero: the fixed value */
    *out = v < lo ? lo : v > hi ? hi : v;
}

void
ts_style_dynamic(const ts_symbolizer *s, const ts_feature_ref *f, double max_px,
                 ts_symbolizer *out, ts_graphic *gout)
{
    *out = *s;
    dyn_colour(s->fill_expr, f, &out->fill);
    dyn_number(s->fill_opacity_expr, f, 0, 1, &out->fill_opacity);
    dyn_colour(s->stroke_expr, f, &out->stroke_color);
    dyn_number(s->stroke_width_expr, f, 0, max_px, &out->stroke.width);
    dyn_number(s->stroke_opacity_expr, f, 0, 1, &out->stroke_opacity);
    const ts_graphic *g = s->kind == TS_SYM_POINT ? s->graphic : NULL;
    if (g == NULL || !(g->size_expr || g->fill_expr || g->fill_opacity_expr || g->stroke_expr ||
                       g->stroke_width_expr || g->stroke_opacity_expr))
        return;
    *gout = *g;
    dyn_number(g->size_expr, f, 0, max_px, &gout->size);
    dyn_colour(g->fill_expr, f, &gout->fill);
    dyn_number(g->fill_opacity_expr, f, 0, 1, &gout->fill_opacity);
    dyn_colour(g->stroke_expr, f, &gout->stroke_color);
    dyn_number(g->stroke_width_expr, f, 0, max_px, &gout->stroke.width);
    dyn_number(g->stroke_opacity_expr, f, 0, 1, &gout->stroke_opacity);
    out->graphic = gout;
    out->size = gout->size;
}
