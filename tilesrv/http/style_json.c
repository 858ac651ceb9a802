/* http/style_json.c — /styles/{name}.json: a MapLibre GL style (spec version 8) for the vector
 * tiles of one or more tilesets, derived from the SLD styles the PNG tiles are drawn with, so
 * client-side maps show the same colours.
 *
 * {name} is a tileset, or several joined by commas (drawn in that order, the first at the
 * bottom): /styles/cadastre.json, /styles/cadastre,parking,air.json. Each tileset is one
 * vector source whose url is this server's TileJSON (?format=pbf; absolute, from
 * server.public_url or the request's Host). The first tileset's background colour, when not
 * transparent, becomes a background layer. Every SLD rule becomes one MapLibre layer per
 * symbolizer, in the SLD's drawing order (FeatureTypeStyles, then rules, then symbolizers):
 *
 *   PolygonSymbolizer  -> fill (fill colour, opacity) + line for its stroke
 *   LineSymbolizer     -> line (colour, width, opacity, dashes, join, cap, offset)
 *   PointSymbolizer    -> circle for a circle Mark (fill, size / 2 as radius, stroke, values
 *                         of the feature as data-driven paint); any other graphic (marks
 *                         of other shapes, shape:// and font marks, ExternalGraphic images)
 *                         -> symbol with its icon in the style's sprite sheet
 *                         (/styles/{name}/sprite[@2x].json|png, pipeline/sprite.c), drawn
 *                         by the renderer as in the PNG
 *   GraphicFill        -> fill with fill-pattern from the sprite sheet (line hatches of
 *                         shape:// marks are left out)
 *   GraphicStroke      -> line with line-pattern: one step (graphic and Gap) of the sheet
 *   TextSymbolizer     -> symbol (text-field from the Label, the font the PNG uses by its
 *                         name at /fonts, size, colour, halo, point anchor and
 *                         displacement or line placement, repeat, overlap, priority)
 * The style's "glyphs" URL is this server's /fonts/{fontstack}/{range}.pbf (glyphs.c).
 *
 * Filters become MapLibre expressions (comparisons, BETWEEN, IS NULL, AND/OR/NOT,
 * arithmetic); an ElseFilter becomes "none of the sibling rules' filters"; scale
 * denominators become minzoom/maxzoom (MapLibre zoom z shows scale 559082264.03 / 2^(z+1):
 * 512-pixel tiles). Rules whose filter cannot be written (PropertyIsLike, BBOX) are left
 * out and listed in metadata["tilesrv:skipped"], as are labels whose Label cannot be written
 * and, on a machine without fonts, every label. Where MapLibre places labels is its own
 * (collision, repeat); only what is drawn follows the SLD. */
#include "http/http_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache/cache.h"
#include "style/style.h"
#include "text/text.h"

#define STYLE_MAX_TILESETS 16
#define SCALE_Z0_512 559082264.028718 /* scale denominator of MapLibre zoom -1 (256-px z0) */

typedef struct sctx {
    ts_buf *b;
    const ts_style *style;
    int nlayers;     /* MapLibre layers written so far */
    ts_buf *skipped; /* JSON strings of what was left out, comma-separated */
    const ts_font_catalog *fonts; /* NULL: no text layers */
    int icons;                    /* layers drawing icons of the sprite sheet */
    const ts_render_layer *rl;    /* the layer being written (its images' sizes) */
    const char *source_layer;     /* layer_head's source-layer instead of the layer's name */
    /* An ElseFilter rule is written once per window of scales [win_lo, win_hi) in which its
     * siblings in scale stay the same (else_windows); win_hi 0: no window. win_id is added
     * to the layers' ids. */
    double win_lo, win_hi;
    char win_id[16];
} sctx;

/* The name a style property has in the vector tiles: the store field it is bound to (a
 * name differing in case only is that field: ts_render_layer_new), else as written. */
static const char *
prop_name(const sctx *x, int prop)
{
    const ts_render_layer *rl = x->rl;
    if (rl != NULL && rl->style == x->style && rl->prop_field[prop] >= 0)
        return ts_store_field_name(rl->store, rl->prop_field[prop]);
    return x->style->props[prop];
}

static ts_status
jstr(ts_buf *b, const char *s)
{
    TS_TRY(ts_buf_add(b, "\"", 1));
    TS_TRY(ts_ows_json_escape(b, s ? s : ""));
    return ts_buf_add(b, "\"", 1);
}

static ts_status
colour(ts_buf *b, ts_rgba c)
{
    return ts_buf_printf(b, "\"#%02x%02x%02x\"", c.r, c.g, c.b);
}

static ts_status
number(ts_buf *b, double v)
{
    if (!isfinite(v))
        v = 0;
    if (v == floor(v) && fabs(v) < 1e15)
        return ts_buf_printf(b, "%.0f", v);
    return ts_buf_printf(b, "%.10g", v);
}

static int is_numeric_literal(const ts_expr *e);

static double
lit_num(const ts_expr *e)
{
    return e->lit.type == TS_VAL_INT ? (double)e->lit.u.i : e->lit.u.d;
}

/* 1 if e can be written as an expression. */
static int
expr_ok(const ts_expr *e)
{
    if (e == NULL)
        return 0;
    switch (e->op) {
    case TS_EXPR_LITERAL:
    case TS_EXPR_PROPERTY:
        return 1;
    case TS_EXPR_FUNC:
        /* Recode (match needs a fallback of the paint's type) and Categorize "preceding" /
         * cosine Interpolate (no MapLibre equivalent) are not written */
        if (e->fn == TS_FN_RECODE ||
            (e->fn == TS_FN_CATEGORIZE && (e->fn_flags & TS_FN_PRECEDING)) ||
            (e->fn == TS_FN_INTERPOLATE && (e->fn_flags & TS_FN_COSINE)))
            return 0;
        for (int i = 0; i < e->nargs; i++) {
            if (!expr_ok(e->args[i]))
                return 0;
            /* step / interpolate stops are number literals, ascending */
            int stop = e->fn == TS_FN_CATEGORIZE ? i >= 2 && i % 2 == 0
                       : e->fn == TS_FN_INTERPOLATE ? i >= 1 && i % 2 == 1
                                                    : 0;
            if (stop && (!is_numeric_literal(e->args[i]) ||
                         (i > 2 && is_numeric_literal(e->args[i - 2]) &&
                          lit_num(e->args[i]) <= lit_num(e->args[i - 2]))))
                return 0;
        }
        return e->nargs > 0;
    default:
        return expr_ok(e->a) && expr_ok(e->b);
    }
}

static int
is_numeric_literal(const ts_expr *e)
{
    return e && e->op == TS_EXPR_LITERAL &&
           (e->lit.type == TS_VAL_INT || e->lit.type == TS_VAL_REAL);
}

/* as_number: a property read where a number is compared (["to-number", ["get", p]]) */
static ts_status
expr(sctx *x, const ts_expr *e, int as_number)
{
    ts_buf *b = x->b;
    switch (e->op) {
    case TS_EXPR_LITERAL:
        if (e->lit.type == TS_VAL_INT)
            return ts_buf_printf(b, "%lld", (long long)e->lit.u.i);
        if (e->lit.type == TS_VAL_REAL)
            return number(b, e->lit.u.d);
        if (e->lit.type == TS_VAL_BOOL)
            return ts_buf_printf(b, "%s", e->lit.u.i ? "true" : "false");
        if (e->lit.type == TS_VAL_NULL)
            return ts_buf_printf(b, "null");
        return jstr(b, e->text ? e->text : e->lit.u.s);
    case TS_EXPR_PROPERTY:
        if (as_number)
            TS_TRY(ts_buf_printf(b, "[\"to-number\","));
        TS_TRY(ts_buf_printf(b, "[\"get\","));
        TS_TRY(jstr(b, prop_name(x, e->prop)));
        return ts_buf_printf(b, as_number ? "]]" : "]");
    case TS_EXPR_FUNC:
        if (e->fn == TS_FN_IN) { /* ["any", ["==", x, v1], ...] */
            TS_TRY(ts_buf_printf(b, "[\"any\""));
            for (int i = 1; i < e->nargs; i++) {
                int num = is_numeric_literal(e->args[i]);
                TS_TRY(ts_buf_printf(b, ",[\"==\","));
                TS_TRY(expr(x, e->args[0], num));
                TS_TRY(ts_buf_add(b, ",", 1));
                TS_TRY(expr(x, e->args[i], num));
                TS_TRY(ts_buf_add(b, "]", 1));
            }
            return ts_buf_add(b, "]", 1);
        }
        if (e->fn == TS_FN_CATEGORIZE || e->fn == TS_FN_INTERPOLATE) {
            /* ["step", input, v0, t1, v1, ...] / ["interpolate", ["linear"], input, d1, v1,
             * ...]; colours as colours */
            int colour = e->fn == TS_FN_INTERPOLATE && (e->fn_flags & TS_FN_COLOUR);
            TS_TRY(ts_buf_printf(b, e->fn == TS_FN_CATEGORIZE
                                        ? "[\"step\",[\"to-number\","
                                        : "[\"interpolate\",[\"linear\"],[\"to-number\","));
            TS_TRY(expr(x, e->args[0], 0));
            TS_TRY(ts_buf_printf(b, ",0]"));
            for (int i = 1; i < e->nargs; i++) {
                int is_value = e->fn == TS_FN_CATEGORIZE ? i % 2 == 1 : i % 2 == 0;
                TS_TRY(ts_buf_add(b, ",", 1));
                if (is_value && colour)
                    TS_TRY(ts_buf_printf(b, "[\"to-color\","));
                TS_TRY(expr(x, e->args[i], !is_value));
                if (is_value && colour)
                    TS_TRY(ts_buf_add(b, "]", 1));
            }
            return ts_buf_add(b, "]", 1);
        }
        TS_TRY(ts_buf_printf(b, "[\"%s\",[\"to-string\",", e->fn == TS_FN_UPPER   ? "upcase"
                                                          : e->fn == TS_FN_LOWER ? "downcase"
                                                                                 : "length"));
        TS_TRY(expr(x, e->args[0], 0));
        return ts_buf_printf(b, "]]");
    default: {
        const char *op = e->op == TS_EXPR_ADD   ? "+"
                         : e->op == TS_EXPR_SUB ? "-"
                         : e->op == TS_EXPR_MUL ? "*"
                         : e->op == TS_EXPR_DIV ? "/"
                                                : "concat";
        int num = e->op != TS_EXPR_CONCAT;
        TS_TRY(ts_buf_printf(b, "[\"%s\",", op));
        if (!num)
            TS_TRY(ts_buf_printf(b, "[\"to-string\","));
        TS_TRY(expr(x, e->a, num));
        TS_TRY(ts_buf_printf(b, num ? "," : "],[\"to-string\","));
        TS_TRY(expr(x, e->b, num));
        return ts_buf_printf(b, num ? "]" : "]]");
    }
    }
}

enum { LIKE_NO = 0, LIKE_EXACT, LIKE_PREFIX, LIKE_ANY };

/* The form of a PropertyIsLike that MapLibre can test exactly, with the comparisons QGIS's
 * converter reads too: the text itself (no wildcard: into lo), a prefix ('abc%': lo, and in
 * hi the least text above every text starting with it: its last character plus one), or
 * '%' (any value). Case-insensitive patterns of ASCII only (MapLibre's downcase folds more
 * than the SLD's ASCII / Latin-1 folding). LIKE_NO for anything else ('_', '%' inside). */
static int
like_form(const ts_filter *f, char *lo, size_t cap, char *hi)
{
    if (f->a == NULL || f->a->op != TS_EXPR_PROPERTY || f->like_pattern == NULL)
        return LIKE_NO;
    const char *p = f->like_pattern;
    size_t n = 0;
    int prefix = 0;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' && p[1] == '\0') {
            prefix = 1;
            break;
        }
        if (c == '%' || c == '_')
            return LIKE_NO;
        if (c == '\\' && p[1] != '\0')
            c = (unsigned char)*++p;
        /* beyond U+D7FF JavaScript's UTF-16 order differs from the byte order */
        if (c >= 0xed || (!f->match_case && c >= 0x80) || n + 1 >= cap)
            return LIKE_NO;
        lo[n++] = (char)(f->match_case ? c : (c >= 'A' && c <= 'Z' ? c + 32 : c));
    }
    lo[n] = '\0';
    if (!prefix)
        return LIKE_EXACT;
    if (n == 0)
        return LIKE_ANY;
    /* hi: lo with its last character (a UTF-8 sequence) one code point higher */
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)lo[k] & 0xc0) == 0x80)
        k--;
    unsigned char l0 = (unsigned char)lo[k];
    uint32_t cp = l0 < 0x80 ? l0 : l0 < 0xe0 ? l0 & 0x1f : l0 < 0xf0 ? l0 & 0x0f : l0 & 0x07;
    for (size_t i = k + 1; i < n; i++)
        cp = cp << 6 | ((unsigned char)lo[i] & 0x3f);
    cp++;
    if (cp >= 0xd800)
        return LIKE_NO;
    memcpy(hi, lo, k);
    if (cp < 0x80) {
        hi[k++] = (char)cp;
    } else if (cp < 0x800) {
        hi[k++] = (char)(0xc0 | cp >> 6);
        hi[k++] = (char)(0x80 | (cp & 0x3f));
    } else {
        hi[k++] = (char)(0xe0 | cp >> 12);
        hi[k++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        hi[k++] = (char)(0x80 | (cp & 0x3f));
    }
    hi[k] = '\0';
    return LIKE_PREFIX;
}

/* 1 if f can be written as a MapLibre filter expression. */
static int
filter_ok(const ts_filter *f)
{
    char lo[256], hi[260];
    switch (f->op) {
    case TS_FILTER_LIKE:
        return like_form(f, lo, sizeof lo, hi) != LIKE_NO;
    case TS_FILTER_BBOX:
        return 0;
    case TS_FILTER_AND:
    case TS_FILTER_OR:
    case TS_FILTER_NOT:
        for (int i = 0; i < f->nkids; i++)
            if (!filter_ok(f->kids[i]))
                return 0;
        return f->nkids > 0;
    case TS_FILTER_ISNULL:
        return expr_ok(f->a);
    case TS_FILTER_BETWEEN:
        return expr_ok(f->a) && expr_ok(f->b) && expr_ok(f->c);
    default:
        return expr_ok(f->a) && expr_ok(f->b);
    }
}

static ts_status filter_neg(sctx *x, const ts_filter *f, int neg);

/* The properties operand e reads directly or through arithmetic (at most max, into props;
 * each once): a null or missing one makes an SLD comparison false. */
static int
cmp_props(const ts_expr *e, int *props, int n, int max)
{
    if (e == NULL)
        return n;
    if (e->op == TS_EXPR_PROPERTY) {
        for (int i = 0; i < n; i++)
            if (props[i] == e->prop)
                return n;
        if (n < max)
            props[n++] = e->prop;
        return n;
    }
    if (e->op == TS_EXPR_ADD || e->op == TS_EXPR_SUB || e->op == TS_EXPR_MUL ||
        e->op == TS_EXPR_DIV)
        n = cmp_props(e->b, props, cmp_props(e->a, props, n, max), max);
    return n;
}

/* Open the null guard of a comparison of the operands a, b, c (NULL: none): as the PNG
 * evaluates it, a comparison with a null or missing property is false, and its negation
 * true; MapLibre's to-number makes null 0 and would compare it. So the test is written
 * ["all", ["has", p], ..., test] and its negation ["any", ["!", ["has", p]], ...,
 * complement] (a vector tile leaves null values out; QGIS 3.22's converter reads "has" as
 * IS NOT NULL, but a null literal not at all). Returns whether a guard was opened (close it
 * with "]"). */
static int
null_guard_open(sctx *x, const ts_expr *a, const ts_expr *b, const ts_expr *c, int neg,
                ts_status *st)
{
    int props[8];
    int n = cmp_props(c, props, cmp_props(b, props, cmp_props(a, props, 0, 8), 8), 8);
    if (n == 0)
        return 0;
    *st = ts_buf_printf(x->b, "[\"%s\"", neg ? "any" : "all");
    for (int i = 0; i < n && *st == TS_OK; i++) {
        *st = ts_buf_printf(x->b, neg ? ",[\"!\",[\"has\"," : ",[\"has\",");
        if (*st == TS_OK)
            *st = jstr(x->b, prop_name(x, props[i]));
        if (*st == TS_OK)
            *st = ts_buf_printf(x->b, neg ? "]]" : "]");
    }
    if (*st == TS_OK)
        *st = ts_buf_add(x->b, ",", 1);
    return 1;
}

/* A comparison, or its negation (neg) as the complementary comparison: == and !=, < and
 * >=, <= and >, guarded for null properties (null_guard_open). Exact in MapLibre: operands
 * compared as numbers go through to-number and a comparison that fails to evaluate fails
 * either way. */
static ts_status
filter_cmp(sctx *x, const ts_filter *f, int neg)
{
    ts_buf *b = x->b;
    static const char *const cmp[] = {"==", "!=", "<", "<=", ">", ">="};
    /* in(...) = true / false (GeoServer's way of writing IN): the test itself, unguarded
     * (null is no member: false) */
    const ts_expr *fin = f->a->op == TS_EXPR_FUNC && f->a->fn == TS_FN_IN   ? f->a
                         : f->b->op == TS_EXPR_FUNC && f->b->fn == TS_FN_IN ? f->b
                                                                            : NULL;
    const ts_expr *other = fin == f->a ? f->b : f->a;
    if (fin != NULL && (f->op == TS_FILTER_EQ || f->op == TS_FILTER_NE) &&
        other->op == TS_EXPR_LITERAL && other->text != NULL &&
        (strcasecmp(other->text, "true") == 0 || strcasecmp(other->text, "false") == 0)) {
        int negate = (f->op == TS_FILTER_NE) != (strcasecmp(other->text, "false") == 0);
        negate ^= neg;
        if (negate)
            TS_TRY(ts_buf_printf(b, "[\"!\","));
        TS_TRY(expr(x, fin, 0));
        return negate ? ts_buf_add(b, "]", 1) : TS_OK;
    }
    /* a number on either side: compare numbers (SLD compares "12" = 12 as equal) */
    int num = is_numeric_literal(f->a) || is_numeric_literal(f->b);
    int ci = !f->match_case && !num;
    /* unguarded where MapLibre gives the PNG's answer for null already: a case-sensitive
     * text == (null == "x" is false, its complement null != "x" true), so categorized
     * styles keep their plain filters */
    ts_status st = TS_OK;
    int guard = f->op == TS_FILTER_EQ && !num && !ci
                    ? 0
                    : null_guard_open(x, f->a, f->b, NULL, neg, &st);
    TS_TRY(st);
    static const int complement[] = {TS_FILTER_NE, TS_FILTER_EQ, TS_FILTER_GE,
                                     TS_FILTER_GT, TS_FILTER_LE, TS_FILTER_LT};
    int op = neg ? complement[f->op] : (int)f->op;
    TS_TRY(ts_buf_printf(b, "[\"%s\",", cmp[op]));
    if (ci)
        TS_TRY(ts_buf_printf(b, "[\"downcase\",[\"to-string\","));
    TS_TRY(expr(x, f->a, num));
    TS_TRY(ts_buf_printf(b, ci ? "]],[\"downcase\",[\"to-string\"," : ","));
    TS_TRY(expr(x, f->b, num));
    TS_TRY(ts_buf_printf(b, ci ? "]]]" : "]"));
    return guard ? ts_buf_add(b, "]", 1) : TS_OK;
}

/* BETWEEN compared as numbers, null-guarded as comparisons are: inside the range
 * ["all", [">=", a, lower], ["<=", a, upper]], or its negation (neg) below or above it. */
static ts_status
range_test(sctx *x, const ts_filter *f, int neg)
{
    ts_buf *b = x->b;
    ts_status st = TS_OK;
    int guard = null_guard_open(x, f->a, f->b, f->c, neg, &st);
    TS_TRY(st);
    TS_TRY(ts_buf_printf(b, "[\"%s\",[\"%s\",", neg ? "any" : "all", neg ? "<" : ">="));
    TS_TRY(expr(x, f->a, 1));
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(expr(x, f->b, 1));
    TS_TRY(ts_buf_printf(b, "],[\"%s\",", neg ? ">" : "<="));
    TS_TRY(expr(x, f->a, 1));
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(expr(x, f->c, 1));
    TS_TRY(ts_buf_printf(b, "]]"));
    return guard ? ts_buf_add(b, "]", 1) : TS_OK;
}

/* A PropertyIsLike of a form like_form takes, null-guarded as comparisons are: the text
 * compared as text (["to-string", ...], downcased when the match ignores case): equal, or
 * from lo up to below hi; or (neg) its negation. */
static ts_status
like_test(sctx *x, const ts_filter *f, int neg)
{
    ts_buf *b = x->b;
    char lo[256], hi[260];
    int form = like_form(f, lo, sizeof lo, hi);
    ts_status st = TS_OK;
    int guard = null_guard_open(x, f->a, NULL, NULL, neg, &st);
    TS_TRY(st);
    const char *vo = f->match_case ? "[\"to-string\"," : "[\"downcase\",[\"to-string\",";
    const char *vc = f->match_case ? "]" : "]]";
    if (form == LIKE_ANY) {
        TS_TRY(ts_buf_printf(b, neg ? "false" : "true"));
    } else if (form == LIKE_EXACT) {
        TS_TRY(ts_buf_printf(b, "[\"%s\",%s", neg ? "!=" : "==", vo));
        TS_TRY(expr(x, f->a, 0));
        TS_TRY(ts_buf_printf(b, "%s,", vc));
        TS_TRY(jstr(b, lo));
        TS_TRY(ts_buf_add(b, "]", 1));
    } else {
        TS_TRY(ts_buf_printf(b, "[\"%s\",%s", neg ? "<" : ">=", vo));
        TS_TRY(expr(x, f->a, 0));
        TS_TRY(ts_buf_printf(b, "%s,", vc));
        TS_TRY(jstr(b, lo));
        TS_TRY(ts_buf_printf(b, "],[\"%s\",%s", neg ? ">=" : "<", vo));
        TS_TRY(expr(x, f->a, 0));
        TS_TRY(ts_buf_printf(b, "%s,", vc));
        TS_TRY(jstr(b, hi));
        TS_TRY(ts_buf_add(b, "]", 1));
    }
    return guard ? ts_buf_add(b, "]", 1) : TS_OK;
}

/* [join, each child of f (negated when neg)]. */
static ts_status
kids(sctx *x, const ts_filter *f, const char *join, int neg)
{
    TS_TRY(ts_buf_printf(x->b, "[\"%s\"", join));
    for (int i = 0; i < f->nkids; i++) {
        TS_TRY(ts_buf_add(x->b, ",", 1));
        TS_TRY(filter_neg(x, f->kids[i], neg));
    }
    return ts_buf_add(x->b, "]", 1);
}

/* f as a MapLibre filter, or (neg) its negation, pushed inwards where that is exact (De
 * Morgan; comparisons by their complements; BETWEEN as below or above; IS NULL as != null),
 * else ["!", f]. QGIS's MapLibre converter (3.22) reads "!" of an expression as no filter
 * at all, so an ElseFilter written as ["!", ["any", ...]] drew its colour over every
 * feature there; written as ["all", ["!=", ...], ...] it reads it. */
static ts_status
filter_neg(sctx *x, const ts_filter *f, int neg)
{
    ts_buf *b = x->b;
    switch (f->op) {
    case TS_FILTER_EQ:
    case TS_FILTER_NE:
    case TS_FILTER_LT:
    case TS_FILTER_LE:
    case TS_FILTER_GT:
    case TS_FILTER_GE:
        return filter_cmp(x, f, neg);
    case TS_FILTER_ISNULL:
        TS_TRY(ts_buf_printf(b, "[\"%s\",", neg ? "!=" : "=="));
        TS_TRY(expr(x, f->a, 0));
        return ts_buf_printf(b, ",null]");
    case TS_FILTER_BETWEEN:
        return range_test(x, f, neg);
    case TS_FILTER_AND:
    case TS_FILTER_OR:
        return kids(x, f, (f->op == TS_FILTER_AND) != neg ? "all" : "any", neg);
    case TS_FILTER_NOT: /* of its child (of all its children) */
        if (f->nkids == 1)
            return filter_neg(x, f->kids[0], !neg);
        return kids(x, f, neg ? "all" : "any", !neg);
    case TS_FILTER_LIKE:
        return like_test(x, f, neg);
    case TS_FILTER_BBOX:
        break;
    }
    return ts_buf_printf(b, neg ? "[\"!\",true]" : "true");
}

static ts_status
filter(sctx *x, const ts_filter *f)
{
    return filter_neg(x, f, 0);
}

static ts_status
filter_not(sctx *x, const ts_filter *f)
{
    return filter_neg(x, f, 1);
}

/* Is sibling o of an ElseFilter rule in scale in x's window (all of it: the windows are
 * cut where a sibling's range begins or ends)? Without a window: yes. */
static int
in_window(const sctx *x, const ts_rule *o)
{
    return !(x->win_hi > 0) || (o->min_scale <= x->win_lo && o->max_scale > x->win_lo);
}

/* The rule's filter as written into a layer (",\"filter\":..." or nothing). */
static ts_status
rule_filter(sctx *x, const ts_fts *fts, const ts_rule *r)
{
    if (!r->is_else) {
        if (r->filter == NULL)
            return TS_OK;
        TS_TRY(ts_buf_printf(x->b, ",\"filter\":"));
        return filter(x, r->filter);
    }
    /* ElseFilter: none of the filters of the rules that count (ts_rule_counts_for_else; a
     * sibling without a filter that draws matches every feature: the else rule then draws
     * nothing), of those in scale in the window written */
    TS_TRY(ts_buf_printf(x->b, ",\"filter\":[\"all\""));
    for (int i = 0; i < fts->nrules; i++) {
        const ts_rule *o = &fts->rules[i];
        if (!ts_rule_counts_for_else(o) || !in_window(x, o))
            continue;
        TS_TRY(ts_buf_add(x->b, ",", 1));
        if (o->filter == NULL)
            TS_TRY(ts_buf_printf(x->b, "false"));
        else
            TS_TRY(filter_not(x, o->filter));
    }
    return ts_buf_printf(x->b, "]");
}

static int
rule_writable(const ts_fts *fts, const ts_rule *r)
{
    if (!r->is_else)
        return r->filter == NULL || filter_ok(r->filter);
    for (int i = 0; i < fts->nrules; i++)
        if (ts_rule_counts_for_else(&fts->rules[i]) && fts->rules[i].filter &&
            !filter_ok(fts->rules[i].filter))
            return 0;
    return 1;
}

static ts_status
skip_note(sctx *x, const char *what, const char *layer, const ts_rule *r)
{
    char msg[300];
    snprintf(msg, sizeof msg, "%s: rule '%s': %s", layer, r->name ? r->name : "", what);
    if (x->skipped->len > 0)
        TS_TRY(ts_buf_add(x->skipped, ",", 1));
    return jstr(x->skipped, msg);
}

/* minzoom/maxzoom of a rule's scale range (MapLibre zooms, 512-px tiles), within x's
 * window when it has one. */
static ts_status
rule_zooms(const sctx *x, ts_buf *b, const ts_rule *rule)
{
    ts_rule w = *rule;
    const ts_rule *r = &w;
    if (x->win_hi > 0) {
        w.min_scale = fmax(w.min_scale, x->win_lo);
        w.max_scale = fmin(w.max_scale, x->win_hi);
    }
    if (isfinite(r->max_scale) && r->max_scale > 0) {
        double z = log2(SCALE_Z0_512 / r->max_scale) - 1;
        TS_TRY(ts_buf_printf(b, ",\"minzoom\":"));
        TS_TRY(number(b, z < 0 ? 0 : z > 24 ? 24 : round(z * 1000) / 1000));
    }
    if (r->min_scale > 0) {
        double z = log2(SCALE_Z0_512 / r->min_scale) - 1;
        TS_TRY(ts_buf_printf(b, ",\"maxzoom\":"));
        TS_TRY(number(b, z < 0 ? 0 : z > 24 ? 24 : round(z * 1000) / 1000));
    }
    return TS_OK;
}

static ts_status
dasharray(ts_buf *b, const ts_stroke *s)
{
    if (s->ndash < 2)
        return TS_OK;
    double w = s->width > 0 ? s->width : 1;
    TS_TRY(ts_buf_printf(b, ",\"line-dasharray\":["));
    for (int i = 0; i < s->ndash; i++) {
        TS_TRY(ts_buf_printf(b, "%s", i ? "," : ""));
        TS_TRY(number(b, round(s->dash[i] / w * 1000) / 1000)); /* in line widths */
    }
    return ts_buf_add(b, "]", 1);
}

/* The property whose null makes expression e null in SLD (its first input: a Categorize's
 * value, an arithmetic's first operand...), or NULL. MapLibre reads a null as 0 or "", so a
 * paint value tests it first. */
static const ts_expr *
null_subject(const ts_expr *e)
{
    while (e != NULL && e->op != TS_EXPR_PROPERTY) {
        if (e->op == TS_EXPR_FUNC)
            e = e->nargs > 0 ? e->args[0] : NULL;
        else if (e->op == TS_EXPR_LITERAL)
            return NULL;
        else
            e = e->a;
    }
    return e;
}

/* ["case", ["==", ["get", p], null], (the fixed value, written by the caller next)... */
static ts_status
null_case_open(sctx *x, const ts_expr *subject)
{
    TS_TRY(ts_buf_printf(x->b, "[\"case\",[\"==\",[\"get\","));
    TS_TRY(jstr(x->b, prop_name(x, subject->prop)));
    return ts_buf_printf(x->b, "],null],");
}

/* A paint colour: from the feature when the style takes it from there (MapLibre's
 * to-color of the expression, the fixed colour when that gives none or its input is null,
 * as the PNG has it), else fixed. */
static ts_status
paint_colour(sctx *x, const ts_expr *e, ts_rgba fixed)
{
    if (e == NULL || !expr_ok(e))
        return colour(x->b, fixed);
    const ts_expr *ns = null_subject(e);
    if (ns != NULL) {
        TS_TRY(null_case_open(x, ns));
        TS_TRY(colour(x->b, fixed));
        TS_TRY(ts_buf_add(x->b, ",", 1));
    }
    TS_TRY(ts_buf_printf(x->b, "[\"to-color\",[\"to-string\","));
    TS_TRY(expr(x, e, 0));
    TS_TRY(ts_buf_printf(x->b, "],"));
    TS_TRY(colour(x->b, fixed));
    TS_TRY(ts_buf_add(x->b, "]", 1));
    return ns != NULL ? ts_buf_add(x->b, "]", 1) : TS_OK;
}

/* A paint number times k, from the feature likewise (to-number, the fixed value when the
 * feature's is none). */
static ts_status
paint_number(sctx *x, const ts_expr *e, double fixed, double k)
{
    if (e == NULL || !expr_ok(e))
        return number(x->b, fixed * k);
    const ts_expr *ns = null_subject(e);
    if (ns != NULL) {
        TS_TRY(null_case_open(x, ns));
        TS_TRY(number(x->b, fixed * k));
        TS_TRY(ts_buf_add(x->b, ",", 1));
    }
    if (k != 1)
        TS_TRY(ts_buf_printf(x->b, "[\"*\","));
    TS_TRY(ts_buf_printf(x->b, "[\"to-number\","));
    TS_TRY(expr(x, e, 1));
    TS_TRY(ts_buf_add(x->b, ",", 1));
    TS_TRY(number(x->b, fixed));
    TS_TRY(ts_buf_add(x->b, "]", 1));
    if (k != 1) {
        TS_TRY(ts_buf_add(x->b, ",", 1));
        TS_TRY(number(x->b, k));
        TS_TRY(ts_buf_add(x->b, "]", 1));
    }
    return ns != NULL ? ts_buf_add(x->b, "]", 1) : TS_OK;
}

/* Pixels per unit of s's lengths at MapLibre zoom z (ts_symbolizer_px_per_unit). */
static double
zoom_px_per_unit(const ts_symbolizer *s, int z)
{
    return ts_symbolizer_px_per_unit(s, SCALE_Z0_512 / ldexp(1, z + 1));
}

/* A length of symbolizer s times k, from the feature likewise (paint_number). In ground
 * units (uom metre, foot) it grows with the zoom: an exponential interpolation of base 2
 * from zoom 0 to 24 of its pixels at those zooms, exact at every zoom between. */
static ts_status
paint_length(sctx *x, const ts_symbolizer *s, const ts_expr *e, double fixed, double k)
{
    if (!(s->uom_m > 0))
        return paint_number(x, e, fixed, k);
    TS_TRY(ts_buf_printf(x->b, "[\"interpolate\",[\"exponential\",2],[\"zoom\"],0,"));
    TS_TRY(paint_number(x, e, fixed, k * zoom_px_per_unit(s, 0)));
    TS_TRY(ts_buf_printf(x->b, ",24,"));
    TS_TRY(paint_number(x, e, fixed, k * zoom_px_per_unit(s, 24)));
    return ts_buf_add(x->b, "]", 1);
}

/* The head of one MapLibre layer up to "paint":{ (x->source_layer, when set, instead of
 * the layer's own name as its source-layer) */
static ts_status
layer_head(sctx *x, const char *tileset, const char *layer, int fts_i, int rule_i, int sym_i,
           const char *part, const char *type, const ts_fts *fts, const ts_rule *r)
{
    ts_buf *b = x->b;
    char id[300];
    snprintf(id, sizeof id, "%s/%s/%d/%d/%d%s%s", tileset, layer, fts_i, rule_i, sym_i, part,
             x->win_id);
    TS_TRY(ts_buf_printf(b, "%s{\"id\":", x->nlayers++ ? "," : ""));
    TS_TRY(jstr(b, id));
    TS_TRY(ts_buf_printf(b, ",\"type\":\"%s\",\"source\":", type));
    TS_TRY(jstr(b, tileset));
    TS_TRY(ts_buf_printf(b, ",\"source-layer\":"));
    TS_TRY(jstr(b, x->source_layer ? x->source_layer : layer));
    if (r->title || r->name) {
        TS_TRY(ts_buf_printf(b, ",\"metadata\":{\"tilesrv:rule\":"));
        TS_TRY(jstr(b, r->title ? r->title : r->name));
        TS_TRY(ts_buf_add(b, "}", 1));
    }
    TS_TRY(rule_zooms(x, b, r));
    TS_TRY(rule_filter(x, fts, r));
    return ts_buf_printf(b, ",\"paint\":{");
}

static ts_status
line_paint(sctx *x, const ts_symbolizer *sym, double offset)
{
    ts_buf *b = x->b;
    const ts_stroke *s = &sym->stroke;
    TS_TRY(ts_buf_printf(b, "\"line-color\":"));
    TS_TRY(paint_colour(x, sym->stroke_expr, sym->stroke_color));
    TS_TRY(ts_buf_printf(b, ",\"line-width\":"));
    TS_TRY(paint_length(x, sym, sym->stroke_width_expr, s->width > 0 ? s->width : 1, 1));
    TS_TRY(ts_buf_printf(b, ",\"line-opacity\":"));
    TS_TRY(paint_number(x, sym->stroke_opacity_expr, sym->stroke_opacity, 1));
    if (offset != 0) {
        TS_TRY(ts_buf_printf(b, ",\"line-offset\":"));
        /* SLD: positive = left; MapLibre: positive = right */
        TS_TRY(paint_length(x, sym, NULL, -offset, 1));
    }
    TS_TRY(dasharray(b, s));
    static const char *const joins[] = {"miter", "round", "bevel"};
    static const char *const caps[] = {"butt", "round", "square"};
    return ts_buf_printf(b, "},\"layout\":{\"line-join\":\"%s\",\"line-cap\":\"%s\"}}",
                         joins[s->join <= TS_JOIN_BEVEL ? s->join : 0],
                         caps[s->cap <= TS_CAP_SQUARE ? s->cap : 0]);
}

/* A colour with its opacity as "rgba(r,g,b,a)". */
static ts_status
colour_alpha(ts_buf *b, ts_rgba c, double opacity)
{
    TS_TRY(ts_buf_printf(b, "\"rgba(%u,%u,%u,", c.r, c.g, c.b));
    TS_TRY(number(b, opacity < 0 ? 0 : opacity > 1 ? 1 : opacity));
    return ts_buf_printf(b, ")\"");
}

/* The parts of a label's concatenation tree, in order, each a JSON value of concat. */
static ts_status
label_parts(sctx *x, const ts_expr *e, int *n)
{
    if (e->op == TS_EXPR_CONCAT) {
        TS_TRY(label_parts(x, e->a, n));
        return label_parts(x, e->b, n);
    }
    if ((*n)++)
        TS_TRY(ts_buf_add(x->b, ",", 1));
    return expr(x, e, 0);
}

/* "text-field": a property as ["to-string", ["get", p]], a concatenation as one flat
 * ["concat", ...] of its parts (concat converts each as to-string does). */
static ts_status
label_field(sctx *x, const ts_expr *e)
{
    TS_TRY(ts_buf_printf(x->b, "\"text-field\":"));
    if (e->op == TS_EXPR_CONCAT) {
        int n = 0;
        TS_TRY(ts_buf_printf(x->b, "[\"concat\","));
        TS_TRY(label_parts(x, e, &n));
        return ts_buf_add(x->b, "]", 1);
    }
    TS_TRY(ts_buf_printf(x->b, "[\"to-string\","));
    TS_TRY(expr(x, e, 0));
    return ts_buf_add(x->b, "]", 1);
}

/* "text-font":["Family Style"]: the face the PNG renderer picks for these families. */
static ts_status
text_font(sctx *x, const ts_text *t)
{
    char list[1024];
    size_t n = 0;
    list[0] = '\0';
    for (int i = 0; i < t->nfont_family && n + 1 < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "", t->font_family[i]);
    int face = ts_font_catalog_find(x->fonts, list, t->font_bold,
                                    t->font_style != TS_FONT_NORMAL, NULL);
    char name[512];
    ts_text_glyph_font_name(x->fonts, face, name, sizeof name);
    TS_TRY(ts_buf_printf(x->b, "\"text-font\":["));
    TS_TRY(jstr(x->b, name));
    return ts_buf_add(x->b, "]", 1);
}

/* The text-anchor of an SLD AnchorPoint ((0,0) bottom left .. (1,1) top right). */
static const char *
text_anchor(double ax, double ay)
{
    static const char *const names[3][3] = {
        {"bottom-left", "bottom", "bottom-right"},
        {"left", "center", "right"},
        {"top-left", "top", "top-right"},
    };
    int col = ax < 0.25 ? 0 : ax > 0.75 ? 2 : 1;
    int row = ay < 0.25 ? 0 : ay > 0.75 ? 2 : 1;
    return names[row][col];
}

/* A symbol layer for a TextSymbolizer. */
static ts_status
text_layer(sctx *x, const char *tileset, const char *layer, int fi, int ri, int si,
           const ts_fts *fts, const ts_rule *r, const ts_symbolizer *s)
{
    const ts_text *t = s->text;
    if (x->fonts == NULL)
        return skip_note(x, "text (no fonts on this server)", layer, r);
    if (t == NULL || s->label == NULL)
        return TS_OK; /* no Label: nothing drawn in the PNG either */
    if (!expr_ok(s->label))
        return skip_note(x, "text whose Label cannot be written", layer, r);
    ts_buf *b = x->b;
    double size = t->font_size > 0 ? t->font_size : 10;
    /* point labels from the tiles' "<layer>_label" points: one per feature, not one per
     * piece of a polygon that tile edges cut (pipeline/vector.c) */
    char lname[300];
    snprintf(lname, sizeof lname, "%s_label", layer);
    x->source_layer = t->placement == TS_PLACE_POINT && ts_pipeline_label_layer(x->rl) ? lname
                                                                                       : NULL;
    ts_status hs = layer_head(x, tileset, layer, fi, ri, si, "", "symbol", fts, r);
    x->source_layer = NULL;
    TS_TRY(hs);
    if (s->has_fill) {
        TS_TRY(ts_buf_printf(b, "\"text-color\":"));
        TS_TRY(paint_colour(x, s->fill_expr, s->fill));
        TS_TRY(ts_buf_printf(b, ",\"text-opacity\":"));
        TS_TRY(paint_number(x, s->fill_opacity_expr, s->fill_opacity, 1));
    } else {
        TS_TRY(ts_buf_printf(b, "\"text-opacity\":0"));
    }
    if (t->has_halo && t->halo_radius > 0) {
        TS_TRY(ts_buf_printf(b, ",\"text-halo-color\":"));
        TS_TRY(colour_alpha(b, t->halo_fill, t->halo_opacity));
        TS_TRY(ts_buf_printf(b, ",\"text-halo-width\":"));
        TS_TRY(paint_length(x, s, NULL, t->halo_radius, 1));
    }

    TS_TRY(ts_buf_printf(b, "},\"layout\":{"));
    TS_TRY(label_field(x, s->label));
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(text_font(x, t));
    TS_TRY(ts_buf_printf(b, ",\"text-size\":"));
    TS_TRY(paint_length(x, s, NULL, size, 1)); /* offsets and widths below are in ems */
    if (t->placement == TS_PLACE_LINE) {
        if (t->repeat > 0) {
            TS_TRY(ts_buf_printf(b, ",\"symbol-placement\":\"line\",\"symbol-spacing\":"));
            TS_TRY(paint_length(x, s, NULL, t->repeat, 1));
        } else {
            TS_TRY(ts_buf_printf(b, ",\"symbol-placement\":\"line-center\""));
        }
        TS_TRY(ts_buf_printf(b, ",\"text-max-angle\":"));
        TS_TRY(number(b, t->max_angle_delta > 0 ? t->max_angle_delta : 22.5));
        if (s->perpendicular_offset != 0) { /* SLD: positive = left; MapLibre y: down */
            TS_TRY(ts_buf_printf(b, ",\"text-offset\":[0,"));
            TS_TRY(number(b, -s->perpendicular_offset / size));
            TS_TRY(ts_buf_add(b, "]", 1));
        }
    } else {
        TS_TRY(ts_buf_printf(b, ",\"symbol-placement\":\"point\",\"text-anchor\":\"%s\"",
                             text_anchor(t->anchor_x, t->anchor_y)));
        if (t->disp_x != 0 || t->disp_y != 0) { /* in ems, in the label's own frame (a
                                                   translate would turn with the map) */
            TS_TRY(ts_buf_printf(b, ",\"text-offset\":["));
            TS_TRY(number(b, t->disp_x / size));
            TS_TRY(ts_buf_add(b, ",", 1));
            TS_TRY(number(b, -t->disp_y / size)); /* SLD: y up; MapLibre: y down */
            TS_TRY(ts_buf_add(b, "]", 1));
        }
        if (t->rotation_expr != NULL && expr_ok(t->rotation_expr)) {
            TS_TRY(ts_buf_printf(b, ",\"text-rotate\":[\"to-number\","));
            TS_TRY(expr(x, t->rotation_expr, 0));
            TS_TRY(ts_buf_printf(b, ",0]"));
        } else if (t->rotation != 0) {
            TS_TRY(ts_buf_printf(b, ",\"text-rotate\":"));
            TS_TRY(number(b, t->rotation));
        }
    }
    /* SLD labels wrap only with autoWrap (MapLibre wraps at 10 em by default) */
    TS_TRY(ts_buf_printf(b, ",\"text-max-width\":"));
    TS_TRY(number(b, t->auto_wrap > 0 ? t->auto_wrap / size : 1000));
    TS_TRY(ts_buf_printf(b, ",\"text-padding\":"));
    TS_TRY(paint_length(x, s, NULL, t->space_around > 0 ? t->space_around : 0, 1));
    if (!t->conflict_resolution || t->space_around < 0)
        TS_TRY(ts_buf_printf(b, ",\"text-allow-overlap\":true,\"text-ignore-placement\":true"));
    if (t->priority != NULL && expr_ok(t->priority)) { /* higher SLD priority: placed first */
        TS_TRY(ts_buf_printf(b, ",\"symbol-sort-key\":[\"*\",-1,[\"to-number\","));
        TS_TRY(expr(x, t->priority, 0));
        TS_TRY(ts_buf_printf(b, ",1000]]"));
    }
    return ts_buf_printf(b, "}}");
}

/* A symbol layer drawing a PointSymbolizer's graphic as its icon in the sprite sheet (as the
 * PNG draws it, upright: the client turns it by the rotation). */
static ts_status
icon_layer(sctx *x, const char *tileset, const char *layer, int fi, int ri, int si,
           const ts_fts *fts, const ts_rule *r, const ts_graphic *g)
{
    ts_buf *b = x->b;
    char id[300];
    ts_sprite_name(id, sizeof id, tileset, layer, fi, ri, si);
    x->icons++;
    TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "", "symbol", fts, r));
    TS_TRY(ts_buf_printf(b, "\"icon-opacity\":1},\"layout\":{\"icon-image\":"));
    TS_TRY(jstr(b, id));
    TS_TRY(ts_buf_printf(b, ",\"icon-allow-overlap\":true,\"icon-ignore-placement\":true,"
                            "\"icon-anchor\":\"%s\"",
                         text_anchor(g->anchor_x, g->anchor_y)));
    if (g->disp_x != 0 || g->disp_y != 0) {
        TS_TRY(ts_buf_printf(b, ",\"icon-offset\":["));
        TS_TRY(number(b, g->disp_x));
        TS_TRY(ts_buf_add(b, ",", 1));
        TS_TRY(number(b, -g->disp_y)); /* SLD: y up */
        TS_TRY(ts_buf_add(b, "]", 1));
    }
    if (g->rotation_expr != NULL && expr_ok(g->rotation_expr)) {
        TS_TRY(ts_buf_printf(b, ",\"icon-rotate\":[\"to-number\","));
        TS_TRY(expr(x, g->rotation_expr, 0));
        TS_TRY(ts_buf_printf(b, ",0]"));
    } else if (g->rotation != 0) {
        TS_TRY(ts_buf_printf(b, ",\"icon-rotate\":"));
        TS_TRY(number(b, g->rotation));
    }
    return ts_buf_printf(b, "}}");
}

static ts_status
symbolizer(sctx *x, const char *tileset, const char *layer, int fi, int ri, int si,
           const ts_fts *fts, const ts_rule *r, const ts_symbolizer *s)
{
    ts_buf *b = x->b;
    switch (s->kind) {
    case TS_SYM_POLYGON:
        if (s->has_fill) {
            TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "", "fill", fts, r));
            TS_TRY(ts_buf_printf(b, "\"fill-color\":"));
            TS_TRY(paint_colour(x, s->fill_expr, s->fill));
            TS_TRY(ts_buf_printf(b, ",\"fill-opacity\":"));
            TS_TRY(paint_number(x, s->fill_opacity_expr, s->fill_opacity, 1));
            TS_TRY(ts_buf_printf(b, ",\"fill-antialias\":true}}"));
        } else if (s->fill_graphic && s->uom_m > 0) {
            TS_TRY(skip_note(x, "GraphicFill in ground units (uom metre or foot)", layer, r));
        } else if (s->fill_graphic && ts_sprite_icon(s) == TS_SPRITE_PATTERN) {
            char id[300];
            ts_sprite_name(id, sizeof id, tileset, layer, fi, ri, si);
            x->icons++;
            TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "", "fill", fts, r));
            TS_TRY(ts_buf_printf(b, "\"fill-pattern\":"));
            TS_TRY(jstr(b, id));
            TS_TRY(ts_buf_printf(b, "}}"));
        } else if (s->fill_graphic) {
            TS_TRY(skip_note(x, "GraphicFill line hatch (shape://)", layer, r));
        }
        if (s->has_stroke) {
            TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "/outline", "line", fts, r));
            TS_TRY(line_paint(x, s, 0));
        }
        return TS_OK;
    case TS_SYM_LINE:
        if (ts_sprite_icon(s) == TS_SPRITE_LINE) { /* the step repeated along the line */
            char id[300];
            ts_sprite_name(id, sizeof id, tileset, layer, fi, ri, si);
            x->icons++;
            TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "", "line", fts, r));
            TS_TRY(ts_buf_printf(b, "\"line-pattern\":"));
            TS_TRY(jstr(b, id));
            /* MapLibre scales the pattern's height to the line's width */
            TS_TRY(ts_buf_printf(b, ",\"line-width\":"));
            TS_TRY(paint_length(x, s, NULL,
                                ceil(2 * ts_render_graphic_reach(s->stroke_graphic, x->rl)), 1));
            return ts_buf_printf(b, "}}");
        }
        if (!s->has_stroke)
            return skip_note(x, "GraphicStroke with an offset or a solid stroke", layer, r);
        TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "", "line", fts, r));
        return line_paint(x, s, s->perpendicular_offset);
    case TS_SYM_POINT: {
        const ts_graphic *g = s->graphic;
        if (g != NULL && ts_sprite_icon(s) == TS_SPRITE_POINT)
            return s->uom_m > 0 ? skip_note(x, "point graphic in ground units (uom metre or "
                                               "foot) other than a circle", layer, r)
                                : icon_layer(x, tileset, layer, fi, ri, si, fts, r, g);
        if (g == NULL || (!g->has_fill && !g->has_stroke))
            return skip_note(x, "point graphic of values of the feature without a mark colour",
                             layer, r);
        TS_TRY(layer_head(x, tileset, layer, fi, ri, si, "", "circle", fts, r));
        TS_TRY(ts_buf_printf(b, "\"circle-radius\":"));
        TS_TRY(paint_length(x, s, g->size_expr, g->size > 0 ? g->size : 6, 0.5));
        TS_TRY(ts_buf_printf(b, ",\"circle-color\":"));
        TS_TRY(paint_colour(x, g->fill_expr, g->fill));
        TS_TRY(ts_buf_printf(b, ",\"circle-opacity\":"));
        if (g->has_fill)
            TS_TRY(paint_number(x, g->fill_opacity_expr, g->fill_opacity, g->opacity));
        else
            TS_TRY(number(b, 0));
        if (g->has_stroke) {
            TS_TRY(ts_buf_printf(b, ",\"circle-stroke-color\":"));
            TS_TRY(paint_colour(x, g->stroke_expr, g->stroke_color));
            TS_TRY(ts_buf_printf(b, ",\"circle-stroke-width\":"));
            TS_TRY(paint_length(x, s, g->stroke_width_expr,
                                g->stroke.width > 0 ? g->stroke.width : 1, 1));
            TS_TRY(ts_buf_printf(b, ",\"circle-stroke-opacity\":"));
            TS_TRY(paint_number(x, g->stroke_opacity_expr, g->stroke_opacity, g->opacity));
        }
        return ts_buf_printf(b, "}}");
    }
    case TS_SYM_TEXT:
        return text_layer(x, tileset, layer, fi, ri, si, fts, r, s);
    }
    return TS_OK;
}

/* The windows of scales of ElseFilter rule r of fts in which the siblings that count for it
 * (ts_rule_counts_for_else) in scale stay the same: its range cut where a sibling's range
 * begins or ends, into cuts[0] < cuts[1] < ... (n + 1 values, at most max windows, the last
 * merged). The number of windows n. MapLibre has one zoom range per layer: the else rule
 * becomes one layer per window, each excluding the siblings drawing there (the PNG's rule,
 * ts_fts_else_applies). */
static int
else_windows(const ts_fts *fts, const ts_rule *r, double *cuts, int max)
{
    int n = 0;
    cuts[n++] = r->min_scale;
    for (int i = 0; i < fts->nrules; i++) {
        const ts_rule *o = &fts->rules[i];
        if (!ts_rule_counts_for_else(o))
            continue;
        double b[2] = {o->min_scale, o->max_scale};
        for (int k = 0; k < 2; k++)
            if (b[k] > r->min_scale && b[k] < r->max_scale && n < max) {
                int j = n;
                while (j > 0 && cuts[j - 1] > b[k]) { /* insertion, sorted */
                    cuts[j] = cuts[j - 1];
                    j--;
                }
                if (cuts[j - 1] == b[k]) { /* already a cut: undo the shift */
                    memmove(&cuts[j], &cuts[j + 1], (size_t)(n - j) * sizeof *cuts);
                    continue;
                }
                cuts[j] = b[k];
                n++;
            }
    }
    cuts[n] = r->max_scale;
    return n;
}

/* The tileset's layers: every symbolizer but text in drawing order, then the text ones,
 * as the PNG draws labels over all the tileset's layers. */
static ts_status
tileset_layers(sctx *x, const ts_tileset *ts)
{
    for (int labels = 0; labels < 2; labels++) {
        for (int li = 0; li < ts->nlayers; li++) {
            const ts_render_layer *rl = ts->layers[li];
            const ts_style *st = rl->style;
            x->style = st;
            x->rl = rl;
            for (int fi = 0; fi < st->nfts; fi++) {
                const ts_fts *fts = &st->fts[fi];
                for (int ri = 0; ri < fts->nrules; ri++) {
                    const ts_rule *r = &fts->rules[ri];
                    if (!rule_writable(fts, r)) {
                        if (!labels)
                            TS_TRY(skip_note(x,
                                             r->is_else
                                                 ? "ElseFilter beside a rule whose filter "
                                                   "has BBOX or a PropertyIsLike with '_' or "
                                                   "an inner '%'"
                                                 : "filter with BBOX or a PropertyIsLike with "
                                                   "'_' or an inner '%'",
                                             rl->name, r));
                        continue;
                    }
                    double cuts[2 * 64 + 2];
                    int nwin = r->is_else ? else_windows(fts, r, cuts, 64) : 0;
                    for (int wi = 0; wi < (nwin > 0 ? nwin : 1); wi++) {
                        /* an else rule: its siblings in scale in each window (one window:
                         * its own range, the id as before) */
                        x->win_lo = nwin > 0 ? cuts[wi] : 0;
                        x->win_hi = nwin > 0 ? cuts[wi + 1] : 0;
                        snprintf(x->win_id, sizeof x->win_id, nwin > 1 ? "/s%d" : "", wi);
                        for (int si = 0; si < r->nsyms; si++)
                            if ((r->syms[si].kind == TS_SYM_TEXT) == labels)
                                TS_TRY(symbolizer(x, ts->name, rl->name, fi, ri, si, fts, r,
                                                  &r->syms[si]));
                    }
                    x->win_lo = x->win_hi = 0;
                    x->win_id[0] = '\0';
                }
            }
        }
    }
    return TS_OK;
}

/* Split "a,b,c" into names (at most STYLE_MAX_TILESETS); 0 for an empty part or name or
 * more names than that. */
static int
split_names(const char *name, char names[][TS_NAME_MAX])
{
    int n = 0;
    if (strlen(name) > (size_t)STYLE_MAX_TILESETS * TS_NAME_MAX)
        return 0;
    for (const char *p = name; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= TS_NAME_MAX || n == STYLE_MAX_TILESETS)
            return 0;
        memcpy(names[n], p, len);
        names[n++][len] = '\0';
        p = comma ? comma + 1 : p + len;
    }
    return n;
}

/* The tilesets a style or sprite URL names ("a,b,c"): their number, each known and named
 * once, into names and sets; 0 with the reason in why (for a 404). */
static int
style_tilesets(ts_service *svc, const char *name, char names[][TS_NAME_MAX],
               const ts_tileset **sets, char *why, size_t wsize)
{
    int n = split_names(name, names);
    if (n == 0) {
        snprintf(why, wsize, "no such style: give 1 to %d tileset names, comma-separated",
                 STYLE_MAX_TILESETS);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        sets[i] = ts_service_tileset(svc, names[i]);
        if (sets[i] == NULL) {
            snprintf(why, wsize, "no such style: no tileset named '%.100s'", names[i]);
            return 0;
        }
        for (int k = 0; k < i; k++)
            if (sets[k] == sets[i]) {
                snprintf(why, wsize, "no such style: tileset '%.100s' is named twice", names[i]);
                return 0;
            }
    }
    return n;
}

enum MHD_Result
ts_http__handle_sprite(ts_http *h, struct MHD_Connection *c, const char *name, int ratio,
                       int png, int head)
{
    char names[STYLE_MAX_TILESETS][TS_NAME_MAX], why[200];
    const ts_tileset *sets[STYLE_MAX_TILESETS];
    ts_service *svc = ts_pipeline_service(h->p);
    int n = style_tilesets(svc, name, names, sets, why, sizeof why);
    ts_service_unref(svc);
    if (n == 0)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, why);
    const char *list[STYLE_MAX_TILESETS];
    for (int i = 0; i < n; i++)
        list[i] = names[i];
    ts_buf json, img;
    ts_buf_init(&json, 4u << 20);
    ts_buf_init(&img, 64u << 20);
    ts_err err;
    ts_err_clear(&err);
    ts_status st = ts_pipeline_sprite(h->p, list, n, ratio, &json, &img, &err);
    enum MHD_Result r;
    if (st == TS_ENOENT) {
        r = ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no such style");
    } else if (st != TS_OK) {
        r = ts_http__send_status(h, c, st, &err);
    } else {
        const ts_buf *body = png ? &img : &json;
        ts_tile *t = ts_tile_new(body->data, body->len, (int64_t)time(NULL));
        r = t ? ts_http__send_tile(h, c, t, png ? "image/png" : "application/json", 0, head)
              : ts_http__send_status(h, c, TS_ENOMEM, NULL);
    }
    ts_buf_fini(&json);
    ts_buf_fini(&img);
    return r;
}

enum MHD_Result
ts_http__handle_style(ts_http *h, struct MHD_Connection *c, const char *name, int head)
{
    char names[STYLE_MAX_TILESETS][TS_NAME_MAX], why[200];
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_tileset *sets[STYLE_MAX_TILESETS];
    int n = style_tilesets(svc, name, names, sets, why, sizeof why);
    if (n == 0) {
        ts_service_unref(svc);
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, why);
    }
    char base[256];
    ts_http__base_url(h, c, base, sizeof base);
    ts_buf b, skipped;
    ts_buf_init(&b, 8u << 20);
    ts_buf_init(&skipped, 1u << 20);
    sctx x = {.b = &b, .skipped = &skipped, .fonts = ts_service_fonts(svc)};
    ts_status st = ts_buf_printf(&b, "{\"version\":8,\"name\":");
    if (st == TS_OK)
        st = jstr(&b, n == 1 ? (sets[0]->cfg->title ? sets[0]->cfg->title : sets[0]->name) : name);
    if (st == TS_OK && x.fonts != NULL) {
        st = ts_buf_printf(&b, ",\"glyphs\":\"");
        if (st == TS_OK)
            st = ts_ows_json_escape(&b, base);
        if (st == TS_OK)
            st = ts_buf_printf(&b, "/fonts/{fontstack}/{range}.pbf\"");
    }
    if (st == TS_OK)
        st = ts_buf_printf(&b, ",\"sources\":{");
    for (int i = 0; st == TS_OK && i < n; i++) {
        st = ts_buf_printf(&b, "%s", i ? "," : "");
        if (st == TS_OK)
            st = jstr(&b, sets[i]->name);
        if (st == TS_OK)
            st = ts_buf_printf(&b, ":{\"type\":\"vector\",\"url\":\"");
        if (st == TS_OK)
            st = ts_ows_json_escape(&b, base);
        if (st == TS_OK)
            st = ts_buf_printf(&b, "/tiles/");
        if (st == TS_OK)
            st = ts_ows_json_escape(&b, sets[i]->name);
        if (st == TS_OK)
            st = ts_buf_printf(&b, ".json?format=pbf\"}");
    }
    if (st == TS_OK)
        st = ts_buf_printf(&b, "},\"layers\":[");
    const uint8_t *bg = sets[0]->cfg->background;
    if (st == TS_OK && bg[3] > 0) {
        st = ts_buf_printf(&b,
                           "{\"id\":\"background\",\"type\":\"background\",\"paint\":{"
                           "\"background-color\":\"#%02x%02x%02x\",\"background-opacity\":",
                           bg[0], bg[1], bg[2]);
        if (st == TS_OK)
            st = number(&b, bg[3] / 255.0);
        if (st == TS_OK)
            st = ts_buf_printf(&b, "}}");
        x.nlayers = 1;
    }
    for (int i = 0; st == TS_OK && i < n; i++)
        st = tileset_layers(&x, sets[i]);
    if (st == TS_OK)
        st = ts_buf_add(&b, "]", 1);
    if (st == TS_OK && x.icons > 0) { /* the icons' sheet: /styles/{name}/sprite[@2x].png */
        st = ts_buf_printf(&b, ",\"sprite\":\"");
        if (st == TS_OK)
            st = ts_ows_json_escape(&b, base);
        if (st == TS_OK)
            st = ts_buf_printf(&b, "/styles/");
        if (st == TS_OK)
            st = ts_ows_json_escape(&b, name);
        if (st == TS_OK)
            st = ts_buf_printf(&b, "/sprite\"");
    }
    if (st == TS_OK)
        st = ts_buf_printf(&b, ",\"metadata\":{\"tilesrv:generated-from\":\"SLD\","
                               /* OpenLayers (ol-mapbox-style) draws text with CSS fonts:
                                * installed ones, not a CDN's (offline intranets) */
                               "\"ol:webfonts\":\"data:text/css,\","
                               "\"tilesrv:skipped\":[");
    if (st == TS_OK && skipped.len > 0)
        st = ts_buf_add(&b, skipped.data, skipped.len);
    if (st == TS_OK)
        st = ts_buf_printf(&b, "]}}");
    ts_service_unref(svc);
    enum MHD_Result r;
    ts_tile *t = st == TS_OK ? ts_tile_new(b.data, b.len, (int64_t)time(NULL)) : NULL;
    if (t != NULL) /* revalidated (ETag: the content's hash), it changes on reloads */
        r = ts_http__send_tile(h, c, t, "application/json", 0, head);
    else
        r = ts_http__send_status(h, c, st == TS_OK ? TS_ENOMEM : st, NULL);
    ts_buf_fini(&b);
    ts_buf_fini(&skipped);
    return r;
}
