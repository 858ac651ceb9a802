/* style/sym.c — symbolizers of SLD 1.0 / SE 1.1 into compiled form: Fill and Stroke
 * (with GraphicFill / GraphicStroke), Graphics (well-known and shape:// marks, local PNG
 * ExternalGraphics), PointSymbolizer, LineSymbolizer, PolygonSymbolizer and
 * TextSymbolizer (label, font, halo, placement, priority, GeoServer vendor options).
 *
 * Values are pixels at scale factor 1. Anything we cannot draw is warned about with
 * file:line and skipped (an element, a parameter, or the whole symbolizer when what is
 * left would misdraw); malformed values are errors. ExternalGraphic hrefs must name a
 * local file inside the style file's directory tree; the path is resolved here, the
 * pixels are read by whoever binds the style to a renderer (style reads no images). */
#include "style/style.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "style/style_int.h"
#include "util/fmt.h"

#define UOM_PIXEL "http://www.opengeospatial.org/se/units/pixel"
#define UOM_METRE "http://www.opengeospatial.org/se/units/metre"
#define UOM_FOOT "http://www.opengeospatial.org/se/units/foot"
#define FOR_ELEMS(c, parent) TS_STYLE__FOR_ELEMS(c, parent)

/* ---- values ------------------------------------------------------------------------------ */

/* A value that may be a number or an expression of the feature (a PropertyName, arithmetic,
 * strConcat...): 1 = a number in *out (*expr untouched), 2 = an expression in *expr,
 * 0 = an expression we cannot evaluate (p->unsupported set; the caller warns and skips),
 * -1 = error. Literal numbers are checked against [lo, hi]. */
/* The name of the function p->unsupported points at (for messages), or "a function". */
static const char *
unsupported_fn(const ts_style__pctx *p, char *buf, size_t n)
{
    const char *name = p->unsupported ? ts_style__attr(p->unsupported, "name") : NULL;
    if (name == NULL)
        return "a function";
    snprintf(buf, n, "the function %.60s", name);
    return buf;
}

static int param_is_expr(const xmlNode *n);

static int
param_number_or_expr(ts_style__pctx *p, const xmlNode *n, const char *what, double lo,
                     double hi, double *out, ts_expr **expr)
{
    if (!param_is_expr(n))
        return ts_style__param_number(p, n, what, lo, hi, out) ? 1 : -1;
    const xmlNode *el = n->children;
    while (el->type != XML_ELEMENT_NODE)
        el = el->next;
    ts_expr *e = ts_style__parse_expr(p, el, 1);
    if (e == NULL)
        return p->failed ? -1 : 0;
    *expr = e;
    return 2;
}

/* 1 if parameter element n holds one expression element (no Literal) and no text: a value
 * of the feature. */
static int
param_is_expr(const xmlNode *n)
{
    const xmlNode *el = NULL;
    int nel = 0, text = 0;
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            nel++;
            el = c;
        } else if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            for (const char *t = (const char *)c->content; *t; t++)
                text |= !ts_style__is_space(*t);
        }
    }
    return nel == 1 && !text && !ts_style__is(el, "Literal");
}

/* The expression in parameter n (param_is_expr) into *x: 0, or -1 with the error recorded
 * (where values of the feature are not taken, and for a function we cannot evaluate: a
 * colour or width we cannot compute would misdraw the map). */
static int
param_expr(ts_style__pctx *p, const xmlNode *n, const char *what, ts_expr **x)
{
    if (x == NULL || !p->dyn_ok) {
        ts_style__error(p, n, TS_ESTYLE,
                        "%s: a value of the feature is not supported here (only in the Fill "
                        "and Stroke of a Polygon/LineSymbolizer and in a PointSymbolizer's "
                        "Graphic)",
                        what);
        return -1;
    }
    const xmlNode *el = ts_style__first_elem(n);
    ts_expr *e = ts_style__parse_expr(p, el, 1);
    if (e == NULL) {
        if (!p->failed)
        {
            char fb[96];
            ts_style__error(p, p->unsupported ? p->unsupported : n, TS_ESTYLE,
                            "%s uses %s, which is not supported", what,
                            unsupported_fn(p, fb, sizeof fb));
        }
        p->unsupported = NULL;
        return -1;
    }
    *x = e;
    return 0;
}

/* "true"/"false" and the spellings GeoServer accepts; -1 with the error recorded. */
static int
param_bool(ts_style__pctx *p, const xmlNode *n, const char *what)
{
    const char *v = ts_style__param_text(p, n);
    if (v == NULL)
        return -1;
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
        return 0;
    ts_style__error(p, n, TS_ESTYLE, "%s: '%s' is not true or false", what, v);
    return -1;
}

/* <AnchorPoint> (AnchorPointX/Y) into *x, *y. SE allows 0..1; GeoServer users write a
 * little beyond to push symbols off their point, so [-10, 10] is accepted. */
static int
parse_anchor(ts_style__pctx *p, const xmlNode *n, double *x, double *y)
{
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "AnchorPointX")) {
            if (!ts_style__param_number(p, c, "AnchorPointX", -10, 10, x))
                return -1;
        } else if (ts_style__is(c, "AnchorPointY")) {
            if (!ts_style__param_number(p, c, "AnchorPointY", -10, 10, y))
                return -1;
        } else {
            ts_style__warn(p, c, "<%s> in <AnchorPoint> not supported, ignored",
                           (const char *)c->name);
        }
    }
    return 0;
}

/* <Displacement> (DisplacementX/Y, pixels) into *x, *y. */
static int
parse_displacement(ts_style__pctx *p, const xmlNode *n, double *x, double *y)
{
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "DisplacementX")) {
            if (!ts_style__param_number(p, c, "DisplacementX", -TS_STYLE__MAX_PX, TS_STYLE__MAX_PX, x))
                return -1;
        } else if (ts_style__is(c, "DisplacementY")) {
            if (!ts_style__param_number(p, c, "DisplacementY", -TS_STYLE__MAX_PX, TS_STYLE__MAX_PX, y))
                return -1;
        } else {
            ts_style__warn(p, c, "<%s> in <Displacement> not supported, ignored",
                           (const char *)c->name);
        }
    }
    return 0;
}

/* ---- Fill, Stroke ------------------------------------------------------------------------ */

static int parse_graphic_holder(ts_style__pctx *p, const xmlNode *n, int stroke,
                                const ts_graphic **out);

/* <Fill>: colour and opacity (default colour dflt), or a GraphicFill when graphic is not
 * NULL (elsewhere a GraphicFill is warned about). *has: the colour is painted — not when a
 * GraphicFill is drawn instead (GeoTools ignores the colour then), and a GraphicFill we
 * cannot draw is not replaced by the default colour. */
static int
parse_fill(ts_style__pctx *p, const xmlNode *n, ts_rgba dflt, int *has, ts_rgba *fill,
           double *opacity, const ts_graphic **graphic, ts_expr **fill_x, ts_expr **opacity_x)
{
    int skipped = 0, colour = 0;
    *fill = dflt;
    *opacity = 1.0;
    FOR_ELEMS(c, n) {
        const char *name = ts_style__is_param(c) ? ts_style__attr(c, "name") : NULL;
        if (ts_style__is_param(c) && name == NULL) {
            ts_style__error(p, c, TS_ESTYLE, "<%s> without a name", (const char *)c->name);
            return -1;
        } else if (name != NULL && strcmp(name, "fill") == 0) {
            if (param_is_expr(c) ? param_expr(p, c, "fill", fill_x) != 0
                                 : !ts_style__param_colour(p, c, "fill", fill))
                return -1;
            colour = 1;
        } else if (name != NULL && strcmp(name, "fill-opacity") == 0) {
            if (param_is_expr(c) ? param_expr(p, c, "fill-opacity", opacity_x) != 0
                                 : !ts_style__param_number(p, c, "fill-opacity", 0.0, 1.0,
                                                           opacity))
                return -1;
        } else if (name != NULL) {
            ts_style__warn(p, c, "fill parameter '%s' not supported, ignored", name);
        } else if (ts_style__is(c, "GraphicFill")) {
            if (graphic == NULL) {
                ts_style__warn(p, c, "GraphicFill not supported here, skipped");
                skipped = 1;
                continue;
            }
            int rc = parse_graphic_holder(p, c, 0, graphic);
            if (rc < 0)
                return -1;
            skipped |= rc == 0;
        } else {
            ts_style__warn(p, c, "<%s> in <Fill> not supported, skipped", (const char *)c->name);
        }
    }
    if (graphic != NULL && *graphic != NULL)
        *has = 0;
    else
        *has = !skipped || colour;
    return 0;
}

static int
parse_dasharray(ts_style__pctx *p, const xmlNode *n, ts_stroke *st)
{
    const char *s = ts_style__param_text(p, n);
    if (s == NULL)
        return -1;
    double v[TS_MAX_DASH];
    int nv = 0;
    double sum = 0;
    const char *q = s;
    while (*q) {
        while (*q == ',' || ts_style__is_space(*q))
            q++;
        if (*q == '\0')
            break;
        const char *e = q;
        while (*e && *e != ',' && !ts_style__is_space(*e))
            e++;
        double d;
        int64_t i;
        int is_int;
        if (!ts_style__scan_number(q, (size_t)(e - q), &d, &i, &is_int) || !isfinite(d) ||
            d < 0 || d > TS_STYLE__MAX_PX) {
            ts_style__error(p, n, TS_ESTYLE, "stroke-dasharray: invalid length in '%s'", s);
            return -1;
        }
        if (nv == TS_MAX_DASH) {
            ts_style__error(p, n, TS_ESTYLE, "stroke-dasharray: more than %d lengths in '%s'",
                            TS_MAX_DASH, s);
            return -1;
        }
        v[nv++] = d;
        sum += d;
        q = e;
    }
    st->ndash = 0;
    if (nv == 0 || sum == 0.0) /* SVG: empty or all-zero means solid */
        return 0;
    /* SVG: an odd list is repeated to make it even */
    int total = nv % 2 ? nv * 2 : nv;
    if (total > TS_MAX_DASH) {
        ts_style__error(p, n, TS_ESTYLE,
                        "stroke-dasharray: '%s' (odd count, doubled) exceeds %d lengths", s,
                        TS_MAX_DASH);
        return -1;
    }
    for (int k = 0; k < total; k++)
        st->dash[k] = v[k % nv];
    st->ndash = total;
    return 0;
}

/* <Stroke> into *st and colour / opacity; a GraphicStroke when graphic is not NULL.
 * *has: the solid line is drawn — not when a GraphicStroke is drawn instead (as GeoTools),
 * and a graphic stroke we cannot draw is not replaced by the default black line. */
static int
parse_stroke(ts_style__pctx *p, const xmlNode *n, int *has, ts_stroke *st, ts_rgba *colour_out,
             double *opacity, const ts_graphic **graphic, ts_expr **colour_x, ts_expr **width_x,
             ts_expr **opacity_x)
{
    int skipped = 0, colour = 0;
    *colour_out = (ts_rgba){0, 0, 0, 255};
    *opacity = 1.0;
    *st = (ts_stroke){.width = 1.0, .join = TS_JOIN_MITER, .cap = TS_CAP_BUTT};
    FOR_ELEMS(c, n) {
        const char *name = ts_style__is_param(c) ? ts_style__attr(c, "name") : NULL;
        if (ts_style__is_param(c) && name == NULL) {
            ts_style__error(p, c, TS_ESTYLE, "<%s> without a name", (const char *)c->name);
            return -1;
        } else if (name == NULL) {
            if (ts_style__is(c, "GraphicStroke") && graphic != NULL) {
                int rc = parse_graphic_holder(p, c, 1, graphic);
                if (rc < 0)
                    return -1;
                skipped |= rc == 0;
            } else if (ts_style__is(c, "GraphicFill") || ts_style__is(c, "GraphicStroke")) {
                ts_style__warn(p, c, "%s in <Stroke> not supported here, skipped",
                               (const char *)c->name);
                skipped = 1;
            } else {
                ts_style__warn(p, c, "<%s> in <Stroke> not supported, skipped",
                               (const char *)c->name);
            }
        } else if (strcmp(name, "stroke") == 0) {
            if (param_is_expr(c) ? param_expr(p, c, "stroke", colour_x) != 0
                                 : !ts_style__param_colour(p, c, "stroke", colour_out))
                return -1;
            colour = 1;
        } else if (strcmp(name, "stroke-width") == 0) {
            if (param_is_expr(c) ? param_expr(p, c, "stroke-width", width_x) != 0
                                 : !ts_style__param_number(p, c, "stroke-width", 0.0,
                                                           TS_STYLE__MAX_PX, &st->width))
                return -1;
        } else if (strcmp(name, "stroke-opacity") == 0) {
            if (param_is_expr(c) ? param_expr(p, c, "stroke-opacity", opacity_x) != 0
                                 : !ts_style__param_number(p, c, "stroke-opacity", 0.0, 1.0,
                                                           opacity))
                return -1;
        } else if (strcmp(name, "stroke-linejoin") == 0) {
            const char *v = ts_style__param_text(p, c);
            if (v == NULL)
                return -1;
            if (strcasecmp(v, "mitre") == 0 || strcasecmp(v, "miter") == 0)
                st->join = TS_JOIN_MITER;
            else if (strcasecmp(v, "round") == 0)
                st->join = TS_JOIN_ROUND;
            else if (strcasecmp(v, "bevel") == 0)
                st->join = TS_JOIN_BEVEL;
            else {
                ts_style__error(p, c, TS_ESTYLE,
                                "stroke-linejoin: '%s' is not mitre, miter, round or bevel", v);
                return -1;
            }
        } else if (strcmp(name, "stroke-linecap") == 0) {
            const char *v = ts_style__param_text(p, c);
            if (v == NULL)
                return -1;
            if (strcasecmp(v, "butt") == 0)
                st->cap = TS_CAP_BUTT;
            else if (strcasecmp(v, "round") == 0)
                st->cap = TS_CAP_ROUND;
            else if (strcasecmp(v, "square") == 0)
                st->cap = TS_CAP_SQUARE;
            else {
                ts_style__error(p, c, TS_ESTYLE,
                                "stroke-linecap: '%s' is not butt, round or square", v);
                return -1;
            }
        } else if (strcmp(name, "stroke-dasharray") == 0) {
            if (parse_dasharray(p, c, st) != 0)
                return -1;
        } else if (strcmp(name, "stroke-dashoffset") == 0) {
            if (!ts_style__param_number(p, c, "stroke-dashoffset", -TS_STYLE__MAX_PX, TS_STYLE__MAX_PX,
                              &st->dash_offset))
                return -1;
        } else if (strcmp(name, "stroke-miterlimit") == 0) {
            if (!ts_style__param_number(p, c, "stroke-miterlimit", 1.0, 1000.0, &st->miter_limit))
                return -1;
        } else {
            ts_style__warn(p, c, "stroke parameter '%s' not supported, ignored", name);
        }
    }
    if (graphic != NULL && *graphic != NULL) {
        *has = 0;
        /* GeoServer spaces the graphics of a GraphicStroke with the dash array (a dash as
         * long as the graphic, then the gap); SE 1.1 says <Gap>, which wins if given */
        ts_graphic *g = (ts_graphic *)*graphic; /* ours: allocated by parse_graphic_holder */
        double period = 0;
        for (int k = 0; k < st->ndash; k++)
            period += st->dash[k];
        if (st->ndash > 0 && g->gap == 0 && period / (st->ndash / 2) > g->size)
            g->gap = period / (st->ndash / 2) - g->size;
    } else {
        *has = !skipped || colour;
    }
    return 0;
}

/* ---- graphics ---------------------------------------------------------------------------- */

#define GREY ((ts_rgba){128, 128, 128, 255})
#define BLACK ((ts_rgba){0, 0, 0, 255})
#define WHITE ((ts_rgba){255, 255, 255, 255})

static void
graphic_init(ts_graphic *g)
{
    memset(g, 0, sizeof *g);
    g->image = -1;
    g->shape = TS_SHAPE_NONE;
    g->mark = TS_MARK_SQUARE;
    g->fill = GREY;
    g->fill_opacity = 1.0;
    g->stroke = (ts_stroke){.width = 1.0, .join = TS_JOIN_MITER, .cap = TS_CAP_BUTT};
    g->stroke_color = BLACK;
    g->stroke_opacity = 1.0;
    g->size = -1; /* not given yet */
    g->opacity = 1.0;
    g->anchor_x = g->anchor_y = 0.5;
}

/* A character code as font marks write it: 0xF054, U+F054, #F054 or decimal; 1 with *cp
 * set to a Unicode scalar value, else 0. */
static int
parse_code_point(const char *s, uint32_t *cp)
{
    while (ts_style__is_space(*s))
        s++;
    int base = 10;
    if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) || (s[0] == 'U' && s[1] == '+') ||
        (s[0] == 'u' && s[1] == '+')) {
        s += 2;
        base = 16;
    } else if (s[0] == '#') {
        s++;
        base = 16;
    }
    if (*s == '\0')
        return 0;
    char *end;
    unsigned long v = strtoul(s, &end, base);
    while (ts_style__is_space(*end))
        end++;
    if (*end != '\0' || *s == '-' || *s == '+' || v == 0 || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = (uint32_t)v;
    return 1;
}

/* WellKnownName: 1 with g->mark / g->shape set, 0 for a mark we do not draw (warned: the
 * Graphic's next alternative is tried), -1 error. */
static int
well_known_name(ts_style__pctx *p, const xmlNode *n, ts_graphic *g)
{
    static const struct {
        const char *name;
        ts_mark_shape mark;
    } marks[] = {{"circle", TS_MARK_CIRCLE}, {"square", TS_MARK_SQUARE},
                 {"triangle", TS_MARK_TRIANGLE}, {"star", TS_MARK_STAR},
                 {"cross", TS_MARK_CROSS}, {"x", TS_MARK_X},
                 /* names QGIS writes for its simple markers */
                 {"diamond", TS_MARK_DIAMOND}, {"pentagon", TS_MARK_PENTAGON},
                 {"hexagon", TS_MARK_HEXAGON}, {"octagon", TS_MARK_OCTAGON},
                 {"decagon", TS_MARK_DECAGON}, {"equilateral_triangle", TS_MARK_TRIANGLE},
                 {"cross_fill", TS_MARK_CROSS}, {"rounded_square", TS_MARK_SQUARE}};
    static const struct {
        const char *name;
        ts_shape_mark shape;
    } shapes[] = {{"shape://horline", TS_SHAPE_HORLINE},     {"shape://vertline", TS_SHAPE_VERTLINE},
                  {"shape://slash", TS_SHAPE_SLASH},         {"shape://backslash", TS_SHAPE_BACKSLASH},
                  {"shape://dot", TS_SHAPE_DOT},             {"shape://plus", TS_SHAPE_PLUS},
                  {"shape://times", TS_SHAPE_TIMES},         {"shape://oarrow", TS_SHAPE_OARROW},
                  {"shape://carrow", TS_SHAPE_CARROW}};
    static const char *families[] = {"extshape://", "qgis://", "wkt://", "symbol://",
                                     "chart://", "windbarbs://"};
    const char *v = ts_style__param_text(p, n);
    if (v == NULL)
        return -1;
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++)
        if (strcasecmp(v, marks[k].name) == 0) {
            g->mark = marks[k].mark;
            g->shape = TS_SHAPE_NONE;
            return 1;
        }
    if (strcasecmp(v, "cross2") == 0) { /* QGIS's x of two strokes (its "cross" is filled) */
        g->shape = TS_SHAPE_TIMES;
        return 1;
    }
    /* shape://name; QGIS writes the bare names of its line pattern fills ("horline") */
    const char *bare = strncasecmp(v, "shape://", 8) == 0 ? v + 8 : v;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        if (strcasecmp(bare, shapes[k].name + 8) == 0) {
            g->shape = shapes[k].shape;
            return 1;
        }
    if (strncasecmp(v, "ttf://", 6) == 0) { /* GeoServer: ttf://Family#code */
        const char *hash = strrchr(v + 6, '#');
        uint32_t cp = 0;
        /* GeoServer also takes the code as an embedded CQL literal: #${'U+002F'} */
        char code[64] = "";
        if (hash != NULL) {
            snprintf(code, sizeof code, "%s", hash + 1);
            size_t cl = strlen(code);
            if (cl >= 5 && code[0] == '$' && code[1] == '{' && code[cl - 1] == '}' &&
                (code[2] == '\'' || code[2] == '"') && code[cl - 2] == code[2]) {
                memmove(code, code + 3, cl - 5);
                code[cl - 5] = '\0';
            }
        }
        if (hash != NULL && hash > v + 6 && parse_code_point(code, &cp)) {
            g->glyph_font = ts_style__strndup(p->st, v + 6, (size_t)(hash - (v + 6)));
            if (g->glyph_font == NULL)
                return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
            g->glyph = cp;
            g->glyph_em = 0;
            g->shape = TS_SHAPE_NONE;
            return 1;
        }
        ts_style__warn(p, n, "WellKnownName '%s': want ttf://Family#code (code 0xF054, U+F054 "
                             "or decimal), skipped", v);
        return 0;
    }
    const char *fam = NULL;
    for (size_t k = 0; k < sizeof families / sizeof families[0] && fam == NULL; k++)
        if (strncasecmp(v, families[k], strlen(families[k])) == 0)
            fam = families[k];
    if (fam != NULL)
        ts_style__warn(p, n, "WellKnownName '%s': %s marks not supported, skipped", v, fam);
    else
        ts_style__warn(p, n,
                       "WellKnownName '%s' not supported (circle, square, triangle, star, "
                       "cross, x, diamond, pentagon, hexagon, octagon, decagon, "
                       "equilateral_triangle, cross_fill, cross2, rounded_square, "
                       "shape://horline, vertline, slash, backslash, dot, plus, times, "
                       "oarrow, carrow, ttf://Family#code), skipped",
                       v);
    return 0;
}

static const char *xlink_href(const xmlNode *n);

/* <Mark>: 1 drawable, 0 skipped (warned), -1 error. */
static int
parse_mark(ts_style__pctx *p, const xmlNode *n, ts_graphic *g)
{
    g->mark = TS_MARK_SQUARE; /* SLD default */
    g->shape = TS_SHAPE_NONE;
    g->has_fill = g->has_stroke = 0;
    g->fill = GREY;
    g->fill_opacity = 1.0;
    g->stroke_color = BLACK;
    g->stroke_opacity = 1.0;
    g->stroke = (ts_stroke){.width = 1.0, .join = TS_JOIN_MITER, .cap = TS_CAP_BUTT};
    int drawable = 1;
    const xmlNode *wkn = NULL, *font = NULL, *index = NULL;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "WellKnownName")) {
            wkn = c;
            int rc = well_known_name(p, c, g);
            if (rc < 0)
                return -1;
            drawable &= rc;
        } else if (ts_style__is(c, "OnlineResource")) { /* SE 1.1 font mark (QGIS) */
            font = c;
        } else if (ts_style__is(c, "MarkIndex")) {
            index = c;
        } else if (ts_style__is(c, "Format")) {
            /* "ttf": the only kind of mark file read */
        } else if (ts_style__is(c, "Fill")) {
            if (parse_fill(p, c, GREY, &g->has_fill, &g->fill, &g->fill_opacity, NULL,
                           &g->fill_expr, &g->fill_opacity_expr) != 0)
                return -1;
        } else if (ts_style__is(c, "Stroke")) {
            if (parse_stroke(p, c, &g->has_stroke, &g->stroke, &g->stroke_color,
                             &g->stroke_opacity, NULL, &g->stroke_expr, &g->stroke_width_expr,
                             &g->stroke_opacity_expr) != 0)
                return -1;
        } else {
            ts_style__warn(p, c, "<%s> in <Mark> not supported, skipped", (const char *)c->name);
        }
    }
    if (font != NULL || index != NULL) {
        const char *href = font ? xlink_href(font) : NULL;
        const char *idx = index ? ts_style__param_text(p, index) : NULL;
        uint32_t cp = 0;
        if (index != NULL && idx == NULL)
            return -1;
        if (href == NULL || strncasecmp(href, "ttf://", 6) != 0 || href[6] == '\0' ||
            idx == NULL || !parse_code_point(idx, &cp)) {
            ts_style__warn(p, font ? font : index,
                           "font mark: want <OnlineResource xlink:href=\"ttf://Family\"/> and "
                           "<MarkIndex> (a character code), skipped");
            return 0;
        }
        if ((g->glyph_font = ts_style__strndup(p->st, href + 6, strlen(href + 6))) == NULL)
            return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
        g->glyph = cp;
        g->glyph_em = 1;
        g->shape = TS_SHAPE_NONE;
        drawable = 1;
    }
    if (drawable && g->shape != TS_SHAPE_NONE && g->shape != TS_SHAPE_CARROW && !g->has_stroke)
        ts_style__warn(p, wkn ? wkn : n, "shape:// line mark without a <Stroke> draws nothing");
    return drawable;
}

/* xlink:href of an OnlineResource (the unqualified spelling is accepted too). */
static const char *
xlink_href(const xmlNode *n)
{
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
        if (strcmp((const char *)a->name, "href") != 0)
            continue;
        if (a->ns != NULL && (a->ns->href == NULL ||
                              strcmp((const char *)a->ns->href, "http://www.w3.org/1999/xlink") != 0))
            continue;
        if (a->children == NULL)
            return "";
        if (a->children->type == XML_TEXT_NODE && a->children->next == NULL)
            return (const char *)a->children->content;
    }
    return NULL;
}

/* Decode %XX escapes of a file: URL path in place; 0 if malformed or it decodes a NUL. */
static int
percent_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        int hi = ts_hexval(s[1]), lo = hi < 0 ? -1 : ts_hexval(s[2]);
        if (lo < 0 || (hi == 0 && lo == 0))
            return 0;
        *o++ = (char)(hi * 16 + lo);
        s += 2;
    }
    *o = '\0';
    return 1;
}

/* The local path an ExternalGraphic href names, into path (cap bytes): a relative path or
 * a file: URL. 1 ok, 0 skipped (warned: inline data), -1 error (network and other URL
 * schemes are refused here, before anything else is looked at). */
static int
href_path(ts_style__pctx *p, const xmlNode *n, const char *href, char *path, size_t cap)
{
    size_t hl = strlen(href);
    if (hl == 0 || hl >= cap)
        return ts_style__error(p, n, TS_ESTYLE, "ExternalGraphic: %s href",
                               hl ? "overlong" : "empty"),
               -1;
    /* a scheme is letters (then letters, digits, + - .) and ':' before any '/' */
    size_t k = 0;
    while (k < hl && (((href[k] | 32) >= 'a' && (href[k] | 32) <= 'z') ||
                      (k > 0 && ((href[k] >= '0' && href[k] <= '9') || href[k] == '+' ||
                                 href[k] == '-' || href[k] == '.'))))
        k++;
    const char *rest = href;
    if (k >= 2 && href[k] == ':') {
        if (strncasecmp(href, "file:", 5) == 0) {
            rest = href + 5;
            if (rest[0] == '/' && rest[1] == '/') { /* file://host/path */
                const char *slash = strchr(rest + 2, '/');
                size_t hostlen = slash ? (size_t)(slash - rest - 2) : strlen(rest + 2);
                if (slash == NULL ||
                    (hostlen != 0 && !(hostlen == 9 && strncasecmp(rest + 2, "localhost", 9) == 0)))
                    return ts_style__error(p, n, TS_ESTYLE,
                                           "ExternalGraphic '%s': file URL of another host",
                                           href),
                           -1;
                rest = slash;
            }
        } else if (strncasecmp(href, "data:", 5) == 0 || strncasecmp(href, "base64:", 7) == 0) {
            ts_style__warn(p, n, "ExternalGraphic with inline data not supported, skipped");
            return 0;
        } else {
            /* never fetched: drawn as GeoServer would not be, so said, and the rest of the
             * style is drawn */
            ts_style__warn(p, n,
                           "ExternalGraphic '%s': only local files (a relative path or a "
                           "file: URL) are read, never the network: not drawn (copy it next "
                           "to the style)",
                           href);
            return 0;
        }
    }
    snprintf(path, cap, "%s", rest);
    if (rest != href && !percent_decode(path))
        return ts_style__error(p, n, TS_ESTYLE, "ExternalGraphic '%s': malformed file URL",
                               href),
               -1;
    if (path[0] == '\0')
        return ts_style__error(p, n, TS_ESTYLE, "ExternalGraphic '%s': empty path", href), -1;
    return 1;
}

/* Enter the file at path (from href) with an SVG's parameters (NULL: none) in the style's
 * image table, checked: it exists, is a regular file and lies inside the directory tree of
 * the style file once symlinks are followed. 1 with *index set, -1 error. */
static int
register_image(ts_style__pctx *p, const xmlNode *n, const char *href, const char *path,
               const char *params, int *index)
{
    char dir[4096], cand[8200];
    const char *slash = strrchr(p->where, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == p->where)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - p->where), p->where);
    if (path[0] == '/')
        snprintf(cand, sizeof cand, "%s", path);
    else
        snprintf(cand, sizeof cand, "%s/%s", dir, path);
    char *rdir = realpath(dir, NULL);
    char *rfile = realpath(cand, NULL);
    int rc = -1;
    struct stat sb;
    if (rdir == NULL) {
        ts_style__error(p, n, TS_ESTYLE, "ExternalGraphic '%s': style directory %s not found",
                        href, dir);
    } else if (rfile == NULL || stat(rfile, &sb) != 0) {
        ts_style__error(p, n, TS_ENOENT, "ExternalGraphic '%s': %s not found", href, cand);
    } else if (!S_ISREG(sb.st_mode)) {
        ts_style__error(p, n, TS_ESTYLE, "ExternalGraphic '%s': %s is not a regular file", href,
                        rfile);
    } else {
        size_t dl = strlen(rdir);
        if (strcmp(rdir, "/") != 0 && !(strncmp(rfile, rdir, dl) == 0 && rfile[dl] == '/'))
            ts_style__error(p, n, TS_ESTYLE,
                            "ExternalGraphic '%s' lies outside the style's directory %s", href,
                            rdir);
        else
            rc = 1;
    }
    ts_style *s = &p->st->pub;
    int i = 0;
    if (rc == 1) {
        while (i < s->nimages &&
               (strcmp(s->images[i].path, rfile) != 0 ||
                (params == NULL) != (s->images[i].params == NULL) ||
                (params != NULL && strcmp(params, s->images[i].params) != 0)))
            i++;
        if (i == s->nimages && s->nimages == TS_STYLE__MAX_IMAGES) {
            ts_style__error(p, n, TS_ELIMIT, "more than %d ExternalGraphic files",
                            TS_STYLE__MAX_IMAGES);
            rc = -1;
        } else if (i == s->nimages && s->nimages == p->st->images_cap) {
            int cap = p->st->images_cap ? 2 * p->st->images_cap : 4;
            ts_style_image *ni = realloc(s->images, (size_t)cap * sizeof *ni);
            if (ni == NULL) {
                ts_style__error(p, n, TS_ENOMEM, "out of memory");
                rc = -1;
            } else {
                s->images = ni;
                p->st->images_cap = cap;
            }
        }
    }
    if (rc == 1 && i == s->nimages) {
        ts_style_image *im = &s->images[i];
        memset(im, 0, sizeof *im);
        im->path = ts_style__strndup(p->st, rfile, strlen(rfile));
        im->href = ts_style__strndup(p->st, href, strlen(href));
        im->params = params ? ts_style__strndup(p->st, params, strlen(params)) : NULL;
        im->line = (int)ts_style__line(n);
        if (im->path == NULL || im->href == NULL || (params != NULL && im->params == NULL)) {
            ts_style__error(p, n, TS_ENOMEM, "out of memory");
            rc = -1;
        } else {
            s->nimages++;
        }
    }
    *index = i;
    free(rdir);
    free(rfile);
    return rc;
}

/* <ExternalGraphic>: 1 drawable (a local PNG), 0 skipped (warned), -1 error. */
static int
parse_external(ts_style__pctx *p, const xmlNode *n, ts_graphic *g)
{
    const xmlNode *res = NULL, *fmt_node = NULL;
    const char *href = NULL, *format = NULL;
    int inline_data = 0;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "OnlineResource")) {
            res = c;
            if ((href = xlink_href(c)) == NULL)
                return ts_style__error(p, c, TS_ESTYLE, "<OnlineResource> without xlink:href"),
                       -1;
        } else if (ts_style__is(c, "Format")) {
            fmt_node = c;
            if ((format = ts_style__param_text(p, c)) == NULL)
                return -1;
        } else if (ts_style__is(c, "InlineContent")) {
            inline_data = 1;
        } else {
            ts_style__warn(p, c, "<%s> in <ExternalGraphic> not supported, skipped",
                           (const char *)c->name);
        }
    }
    if (res == NULL) {
        ts_style__warn(p, n, inline_data ? "ExternalGraphic with <InlineContent> not supported, "
                                           "skipped"
                                         : "ExternalGraphic without <OnlineResource>, skipped");
        return 0;
    }
    /* network references are refused whatever the format says; a format we do not read
     * is skipped before its file is looked for */
    if (format != NULL && format[0] == '\0')
        format = NULL; /* an empty Format: read it from the name */
    /* an SVG's href may carry its parameters as a query (GeoServer's
     * "pin.svg?fill=%23ff0000"): the file is the part before it */
    char base[4096];
    const char *query = strchr(href, '?');
    snprintf(base, sizeof base, "%.*s", query ? (int)(query - href) : (int)strlen(href), href);
    size_t hl = strlen(base);
    int svg = format != NULL ? strcasecmp(format, "image/svg+xml") == 0 ||
                                   strcasecmp(format, "image/svg") == 0
                             : hl >= 4 && strcasecmp(base + hl - 4, ".svg") == 0;
    if (!svg)
        query = NULL, snprintf(base, sizeof base, "%s", href), hl = strlen(base);
    char path[4096];
    int rc = href_path(p, res, base, path, sizeof path);
    if (rc <= 0)
        return rc;
    int png = format != NULL ? strcasecmp(format, "image/png") == 0
                             : hl >= 4 && strcasecmp(base + hl - 4, ".png") == 0;
    if (!png && !svg) {
        ts_style__warn(p, fmt_node ? fmt_node : res,
                       "ExternalGraphic format '%s' not supported (image/png and "
                       "image/svg+xml), skipped",
                       format ? format : href);
        return 0;
    }
    int idx = -1;
    if (register_image(p, res, href, path, query ? query + 1 : NULL, &idx) < 0)
        return -1;
    ts_style_image *im = &p->st->pub.images[idx];
    if (svg && !im->is_svg) { /* read once per file and parameters: drawn, not decoded */
        im->is_svg = 1;
        ts_err se;
        ts_err_clear(&se);
        im->svg = ts_svg_read(im->path, im->params, &se);
        if (im->svg == NULL)
            ts_style__warn(p, res, "ExternalGraphic %s: %s", href, se.msg);
    }
    if (svg && im->svg == NULL) {
        ts_style__warn(p, res, "ExternalGraphic %s cannot be read: skipped", href);
        return 0;
    }
    g->image = idx;
    g->shape = TS_SHAPE_NONE;
    g->has_fill = g->has_stroke = 0;
    return 1;
}

/* The size of a graphic without a <Size>: 6 for marks, an SVG's height (its natural size
 * in px), 0 for a PNG (its own pixels). */
static double
graphic_default_size(const ts_style__pctx *p, const ts_graphic *g)
{
    if (g->image < 0)
        return 6;
    const ts_style_image *im = &p->st->pub.images[g->image];
    return im->svg != NULL ? im->svg->height : 0;
}

/* <Graphic>: 1 drawable, 0 skipped (warned), -1 error. what names the context. */
static int
parse_graphic(ts_style__pctx *p, const xmlNode *n, ts_graphic *g, const char *what)
{
    int nalt = 0;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Mark") || ts_style__is(c, "ExternalGraphic")) {
            nalt++;
        } else if (ts_style__is(c, "Opacity")) {
            if (!ts_style__param_number(p, c, "Opacity", 0.0, 1.0, &g->opacity))
                return -1;
        } else if (ts_style__is(c, "Size")) {
            if (param_is_expr(c) ? param_expr(p, c, "Size", &g->size_expr) != 0
                                 : !ts_style__param_number(p, c, "Size", 0.0, TS_STYLE__MAX_PX,
                                                           &g->size))
                return -1;
        } else if (ts_style__is(c, "Rotation")) {
            int rc = param_number_or_expr(p, c, "Rotation", -1e6, 1e6, &g->rotation,
                                          &g->rotation_expr);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                char fb[96];
                ts_style__warn(p, p->unsupported ? p->unsupported : c,
                               "<Rotation> uses %s, which is not supported: %s skipped",
                               unsupported_fn(p, fb, sizeof fb), what);
                p->unsupported = NULL;
                return 0;
            }
        } else if (ts_style__is(c, "AnchorPoint")) {
            if (parse_anchor(p, c, &g->anchor_x, &g->anchor_y) != 0)
                return -1;
        } else if (ts_style__is(c, "Displacement")) {
            if (parse_displacement(p, c, &g->disp_x, &g->disp_y) != 0)
                return -1;
        } else {
            ts_style__warn(p, c, "<%s> in <Graphic> not supported yet, skipped",
                           (const char *)c->name);
        }
    }
    int drawable = 0;
    if (nalt == 0) {
        /* SLD: no Mark and no ExternalGraphic: a grey square with a black outline */
        g->mark = TS_MARK_SQUARE;
        g->has_fill = g->has_stroke = 1;
        drawable = 1;
    } else {
        /* alternatives, in document order: the first one we can draw wins; after a font
         * mark (whose font may be missing where the map is drawn) the next one too */
        const xmlNode *next = NULL;
        FOR_ELEMS(c, n) {
            int rc = ts_style__is(c, "Mark")              ? parse_mark(p, c, g)
                     : ts_style__is(c, "ExternalGraphic") ? parse_external(p, c, g)
                                                          : 0;
            if (rc < 0)
                return -1;
            if (rc > 0) {
                drawable = 1;
                next = ts_style__next_elem(c);
                break;
            }
        }
        if (drawable && g->glyph_font != NULL && next != NULL) {
            ts_graphic *fb = ts_style__alloc(p->st, sizeof *fb);
            if (fb == NULL)
                return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
            for (const xmlNode *c = next; c != NULL; c = ts_style__next_elem(c)) {
                *fb = *g; /* the Graphic's size, rotation, anchor...; the mark's own reset */
                fb->glyph_font = NULL;
                fb->image = -1;
                fb->shape = TS_SHAPE_NONE;
                fb->fill_expr = fb->fill_opacity_expr = fb->stroke_expr = NULL;
                fb->stroke_width_expr = fb->stroke_opacity_expr = NULL;
                int rc = ts_style__is(c, "Mark")              ? parse_mark(p, c, fb)
                         : ts_style__is(c, "ExternalGraphic") ? parse_external(p, c, fb)
                                                              : 0;
                if (rc < 0)
                    return -1;
                if (rc > 0 && fb->glyph_font == NULL) {
                    g->fallback = fb;
                    break;
                }
            }
        }
        if (!drawable) {
            ts_style__warn(p, n, "no Mark or ExternalGraphic of this <Graphic> can be drawn: "
                                 "%s skipped",
                           what);
            return 0;
        }
    }
    if (g->fallback != NULL && g->fallback->size < 0)
        ((ts_graphic *)g->fallback)->size = graphic_default_size(p, g->fallback);
    if (g->size < 0)
        g->size = graphic_default_size(p, g); /* images: their own size */
    return 1;
}

/* <GraphicFill> / <GraphicStroke> (stroke = 1: with SE InitialGap and Gap): 1 with *out
 * set, 0 skipped (warned), -1 error. */
static int
parse_graphic_holder(ts_style__pctx *p, const xmlNode *n, int stroke, const ts_graphic **out)
{
    ts_graphic *g = ts_style__alloc(p->st, sizeof *g);
    if (g == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
    graphic_init(g);
    const xmlNode *gn = NULL;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Graphic") && gn == NULL) {
            gn = c;
        } else if (stroke && ts_style__is(c, "InitialGap")) {
            if (!ts_style__param_number(p, c, "InitialGap", 0, TS_STYLE__MAX_PX, &g->initial_gap))
                return -1;
        } else if (stroke && ts_style__is(c, "Gap")) {
            if (!ts_style__param_number(p, c, "Gap", 0, TS_STYLE__MAX_PX, &g->gap))
                return -1;
        } else {
            ts_style__warn(p, c, "<%s> in <%s> not supported, skipped", (const char *)c->name,
                           (const char *)n->name);
        }
    }
    if (gn == NULL) {
        ts_style__warn(p, n, "<%s> without a <Graphic>, skipped", (const char *)n->name);
        return 0;
    }
    int dyn_ok = p->dyn_ok;
    p->dyn_ok = 0; /* a pattern is drawn once and cached: no values of the feature */
    int rc = parse_graphic(p, gn, g, stroke ? "GraphicStroke" : "GraphicFill");
    p->dyn_ok = dyn_ok;
    if (rc < 0)
        return -1;
    if (rc == 1 && !(g->size > 0) && g->image < 0) {
        ts_style__warn(p, gn, "%s of size 0 draws nothing, skipped",
                       stroke ? "GraphicStroke" : "GraphicFill");
        rc = 0;
    }
    int hatch = g->shape == TS_SHAPE_HORLINE || g->shape == TS_SHAPE_VERTLINE ||
                g->shape == TS_SHAPE_SLASH || g->shape == TS_SHAPE_BACKSLASH ||
                g->shape == TS_SHAPE_PLUS || g->shape == TS_SHAPE_TIMES;
    if (rc == 1 && !stroke && hatch && g->has_stroke && g->stroke.ndash > 0)
        ts_style__warn(p, gn, "dashes of hatch lines are not drawn (solid lines instead)");
    if (rc == 1)
        *out = g;
    return rc;
}

/* ---- text -------------------------------------------------------------------------------- */

static void
text_init(ts_text *t)
{
    memset(t, 0, sizeof *t);
    t->font_size = 10;
    t->halo_radius = 1;
    t->halo_fill = WHITE;
    t->halo_opacity = 1;
    t->anchor_x = 0;
    t->anchor_y = 0.5;
    t->is_aligned = 1;
    t->max_angle_delta = 22.5;
    t->conflict_resolution = 1;
}

/* Add the families of one font-family value: a CSS list "A, 'B C', \"D\"". */
static int
add_font_families(ts_style__pctx *p, const xmlNode *n, ts_text *t, const char *v)
{
    const char *q = v;
    while (*q) {
        while (*q == ',' || ts_style__is_space(*q))
            q++;
        if (*q == '\0')
            break;
        const char *b = q, *e;
        if (*q == '\'' || *q == '"') {
            char quote = *q;
            b = ++q;
            while (*q && *q != quote)
                q++;
            e = q;
            if (*q)
                q++;
        } else {
            while (*q && *q != ',')
                q++;
            e = q;
            while (e > b && ts_style__is_space(e[-1]))
                e--;
        }
        if (e == b)
            continue;
        if (t->nfont_family == TS_MAX_FONT_FAMILIES) {
            ts_style__warn(p, n, "more than %d font families, '%.*s' ignored",
                           TS_MAX_FONT_FAMILIES, (int)(e - b), b);
            continue;
        }
        char *f = ts_style__strndup(p->st, b, (size_t)(e - b));
        if (f == NULL)
            return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
        t->font_family[t->nfont_family++] = f;
    }
    return 0;
}

static int
parse_font(ts_style__pctx *p, const xmlNode *n, ts_text *t)
{
    FOR_ELEMS(c, n) {
        const char *name = ts_style__is_param(c) ? ts_style__attr(c, "name") : NULL;
        if (!ts_style__is_param(c)) {
            ts_style__warn(p, c, "<%s> in <Font> not supported, skipped", (const char *)c->name);
            continue;
        }
        if (name == NULL)
            return ts_style__error(p, c, TS_ESTYLE, "<%s> without a name",
                                   (const char *)c->name),
                   -1;
        if (strcmp(name, "font-size") == 0) {
            /* 0.5 to 2048 px: what the text engine draws (a size-0 label drew nothing and
             * failed its whole tile) */
            if (!ts_style__param_number(p, c, "font-size", 0.5, 2048.0, &t->font_size))
                return -1;
            continue;
        }
        const char *v = ts_style__param_text(p, c);
        if (v == NULL)
            return -1;
        if (strcmp(name, "font-family") == 0) {
            if (add_font_families(p, c, t, v) != 0)
                return -1;
        } else if (strcmp(name, "font-style") == 0) {
            if (strcasecmp(v, "normal") == 0)
                t->font_style = TS_FONT_NORMAL;
            else if (strcasecmp(v, "italic") == 0)
                t->font_style = TS_FONT_ITALIC;
            else if (strcasecmp(v, "oblique") == 0)
                t->font_style = TS_FONT_OBLIQUE;
            else /* GeoServer draws such a style upright too */
                ts_style__warn(p, c, "font-style: '%s' is not normal, italic or oblique: drawn "
                               "normal%s", v,
                               strcasecmp(v, "bold") == 0 ? " (bold is a font-weight)" : "");
        } else if (strcmp(name, "font-weight") == 0) {
            double w;
            int64_t i;
            int is_int;
            if (strcasecmp(v, "normal") == 0)
                t->font_bold = 0;
            else if (strcasecmp(v, "bold") == 0)
                t->font_bold = 1;
            else if (ts_style__scan_number(v, strlen(v), &w, &i, &is_int) && is_int && i >= 1 &&
                     i <= 1000)
                t->font_bold = i >= 600;
            else
                return ts_style__error(p, c, TS_ESTYLE,
                                       "font-weight: '%s' is not normal, bold or 1..1000", v),
                       -1;
        } else {
            ts_style__warn(p, c, "font parameter '%s' not supported, ignored", name);
        }
    }
    return 0;
}

static int
parse_halo(ts_style__pctx *p, const xmlNode *n, ts_text *t)
{
    t->has_halo = 1;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Radius")) {
            if (!ts_style__param_number(p, c, "Halo Radius", 0.0, TS_STYLE__MAX_PX, &t->halo_radius))
                return -1;
        } else if (ts_style__is(c, "Fill")) {
            int has;
            if (parse_fill(p, c, WHITE, &has, &t->halo_fill, &t->halo_opacity, NULL, NULL,
                           NULL) != 0)
                return -1;
            if (!has)
                t->halo_opacity = 0;
        } else {
            ts_style__warn(p, c, "<%s> in <Halo> not supported, skipped", (const char *)c->name);
        }
    }
    return 0;
}

/* 1 ok, 0 unsupported (warned: skip the symbolizer), -1 error. */
static int
parse_label_placement(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s, ts_text *t)
{
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "PointPlacement")) {
            t->placement = TS_PLACE_POINT;
            FOR_ELEMS(d, c) {
                if (ts_style__is(d, "AnchorPoint")) {
                    if (parse_anchor(p, d, &t->anchor_x, &t->anchor_y) != 0)
                        return -1;
                } else if (ts_style__is(d, "Displacement")) {
                    if (parse_displacement(p, d, &t->disp_x, &t->disp_y) != 0)
                        return -1;
                } else if (ts_style__is(d, "Rotation")) {
                    int rc = param_number_or_expr(p, d, "Rotation", -1e6, 1e6, &t->rotation,
                                                  &t->rotation_expr);
                    if (rc < 0)
                        return -1;
                    if (rc == 0) {
                        char fb[96];
                        ts_style__warn(p, p->unsupported ? p->unsupported : d,
                                       "<Rotation> uses %s, which is not supported: "
                                       "TextSymbolizer skipped",
                                       unsupported_fn(p, fb, sizeof fb));
                        p->unsupported = NULL;
                        return 0;
                    }
                } else {
                    ts_style__warn(p, d, "<%s> in <PointPlacement> not supported, skipped",
                                   (const char *)d->name);
                }
            }
        } else if (ts_style__is(c, "LinePlacement")) {
            t->placement = TS_PLACE_LINE;
            FOR_ELEMS(d, c) {
                int b;
                if (ts_style__is(d, "PerpendicularOffset")) {
                    if (!ts_style__param_number(p, d, "PerpendicularOffset", -TS_STYLE__MAX_PX,
                                      TS_STYLE__MAX_PX, &s->perpendicular_offset))
                        return -1;
                } else if (ts_style__is(d, "InitialGap")) {
                    if (!ts_style__param_number(p, d, "InitialGap", 0, TS_STYLE__MAX_PX, &t->initial_gap))
                        return -1;
                } else if (ts_style__is(d, "Gap")) {
                    if (!ts_style__param_number(p, d, "Gap", 0, TS_STYLE__MAX_PX, &t->gap))
                        return -1;
                } else if (ts_style__is(d, "IsRepeated")) {
                    if ((b = param_bool(p, d, "IsRepeated")) < 0)
                        return -1;
                    t->is_repeated = b;
                } else if (ts_style__is(d, "IsAligned")) {
                    if ((b = param_bool(p, d, "IsAligned")) < 0)
                        return -1;
                    t->is_aligned = b;
                } else if (ts_style__is(d, "GeneralizeLine")) {
                    if ((b = param_bool(p, d, "GeneralizeLine")) < 0)
                        return -1;
                    t->generalize_line = b;
                } else {
                    ts_style__warn(p, d, "<%s> in <LinePlacement> not supported, skipped",
                                   (const char *)d->name);
                }
            }
        } else {
            ts_style__warn(p, c, "<%s> in <LabelPlacement> not supported, skipped",
                           (const char *)c->name);
        }
    }
    return 1;
}

/* GeoServer's VendorOptions of a TextSymbolizer; unknown ones are warned about. */
static int
parse_text_vendor_option(ts_style__pctx *p, const xmlNode *n, ts_text *t)
{
    static const struct {
        const char *name;
        size_t off;
        int is_bool;
        double lo, hi;
    } opts[] = {
        {"repeat", offsetof(ts_text, repeat), 0, 0, 100 * TS_STYLE__MAX_PX},
        {"maxAngleDelta", offsetof(ts_text, max_angle_delta), 0, 0, 180},
        {"followLine", offsetof(ts_text, follow_line), 1, 0, 0},
        {"spaceAround", offsetof(ts_text, space_around), 0, -TS_STYLE__MAX_PX, TS_STYLE__MAX_PX},
        {"group", offsetof(ts_text, group), 1, 0, 0},
        {"maxDisplacement", offsetof(ts_text, max_displacement), 0, 0, 100 * TS_STYLE__MAX_PX},
        {"autoWrap", offsetof(ts_text, auto_wrap), 0, 0, 100 * TS_STYLE__MAX_PX},
        {"conflictResolution", offsetof(ts_text, conflict_resolution), 1, 0, 0},
        {"partials", offsetof(ts_text, partials), 1, 0, 0},
        {"fraction", offsetof(ts_text, fraction), 1, 0, 0}, /* tilesrv extension */
    };
    const char *name = ts_style__attr(n, "name");
    if (name == NULL)
        return ts_style__error(p, n, TS_ESTYLE, "<VendorOption> without a name"), -1;
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (strcmp(name, opts[k].name) != 0)
            continue;
        char *field = (char *)t + opts[k].off;
        if (opts[k].is_bool) {
            int b = param_bool(p, n, name);
            if (b < 0)
                return -1;
            memcpy(field, &b, sizeof b);
        } else {
            double d;
            if (!ts_style__param_number(p, n, name, opts[k].lo, opts[k].hi, &d))
                return -1;
            memcpy(field, &d, sizeof d);
        }
        return 0;
    }
    ts_style__warn(p, n, "VendorOption '%s' not supported, ignored", name);
    return 0;
}

/* <TextSymbolizer>: 1 added, 0 skipped (warned), -1 error. */
static int
parse_text(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s)
{
    ts_text *t = ts_style__alloc(p->st, sizeof *t);
    if (t == NULL)
        return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
    text_init(t);
    s->text = t;
    s->has_fill = 1;
    s->fill = BLACK; /* SLD: black text */
    s->has_stroke = 0;
    FOR_ELEMS(c, n) {
        if (ts_style__is(c, "Label")) {
            s->label = ts_style__parse_mixed(p, c);
            if (s->label == NULL && p->failed)
                return -1;
            if (s->label == NULL && p->unsupported) {
                char fb[96];
                ts_style__warn(p, p->unsupported,
                               "<Label> uses %s, which is not supported: TextSymbolizer "
                               "skipped", unsupported_fn(p, fb, sizeof fb));
                p->unsupported = NULL;
                return 0;
            }
        } else if (ts_style__is(c, "Font")) {
            if (parse_font(p, c, t) != 0)
                return -1;
        } else if (ts_style__is(c, "Fill")) {
            if (parse_fill(p, c, BLACK, &s->has_fill, &s->fill, &s->fill_opacity, NULL, NULL,
                           NULL) != 0)
                return -1;
        } else if (ts_style__is(c, "Halo")) {
            if (parse_halo(p, c, t) != 0)
                return -1;
        } else if (ts_style__is(c, "LabelPlacement")) {
            int rc = parse_label_placement(p, c, s, t);
            if (rc <= 0)
                return rc;
        } else if (ts_style__is(c, "Priority")) {
            double d = 0;
            ts_expr *e = NULL;
            int rc = param_number_or_expr(p, c, "Priority", -1e15, 1e15, &d, &e);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                char fb[96];
                ts_style__warn(p, p->unsupported ? p->unsupported : c,
                               "<Priority> uses %s, which is not supported: TextSymbolizer "
                               "skipped", unsupported_fn(p, fb, sizeof fb));
                p->unsupported = NULL;
                return 0;
            }
            if (rc == 1) {
                char num[40];
                snprintf(num, sizeof num, "%.17g", d);
                e = ts_style__literal(p, c, num, strlen(num));
                if (e == NULL)
                    return -1;
            }
            t->priority = e;
        } else if (ts_style__is(c, "VendorOption")) {
            if (parse_text_vendor_option(p, c, t) != 0)
                return -1;
        } else if (ts_style__is(c, "Name") || ts_style__is(c, "Description")) {
            /* SE 1.1 metadata of the symbolizer */
        } else if (ts_style__is(c, "Graphic")) {
            ts_style__warn(p, c, "<Graphic> behind labels (shields) not supported, ignored");
        } else {
            ts_style__warn(p, c, "<%s> in <TextSymbolizer> not supported, skipped",
                           (const char *)c->name);
        }
    }
    return 1;
}

/* ---- symbolizers ------------------------------------------------------------------------- */

static void
sym_init(ts_symbolizer *s, ts_sym_kind kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->fill = GREY;
    s->fill_opacity = 1.0;
    s->stroke_color = BLACK;
    s->stroke_opacity = 1.0;
    s->stroke = (ts_stroke){.width = 1.0, .join = TS_JOIN_MITER, .cap = TS_CAP_BUTT};
    s->mark = TS_MARK_SQUARE;
    s->size = 6.0;
    s->opacity = 1.0;
}

/* The symbolizer's uom (SE 1.1): pixel (or none), metre or foot, into s->uom_m. 0, or -1
 * with the error reported. */
static int
parse_uom(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s)
{
    const char *u = ts_style__attr(n, "uom");
    if (u == NULL || strcmp(u, UOM_PIXEL) == 0)
        return 0;
    double m = strcmp(u, UOM_METRE) == 0 ? 1.0 : strcmp(u, UOM_FOOT) == 0 ? 0.3048 : 0;
    if (m > 0) {
        s->uom_m = m;
        return 0;
    }
    ts_style__error(p, n, TS_ESTYLE, "unknown uom '%s' (%s, %s or %s)", u, UOM_PIXEL, UOM_METRE,
                    UOM_FOOT);
    return -1;
}

/* The space around the copies of a GraphicFill's mark: GeoServer's VendorOption
 * graphic-margin ("top,right,bottom,left" px, CSS-like with 1, 2 or 4 values) or QGIS's
 * distance ("dx,dy": px from one copy's centre to the next; the space is what the mark
 * leaves of it, shared on both sides). For a well-known mark, a glyph mark or shape://dot,
 * oarrow or carrow; g NULL (no GraphicFill), an image or a line hatch: warned and ignored.
 * 0, or -1 on a malformed value. */
static int
fill_spacing(ts_style__pctx *p, const xmlNode *n, ts_graphic *g)
{
    const char *name = ts_style__attr(n, "name");
    char *v = ts_style__param_text(p, n);
    if (v == NULL)
        return -1;
    double d[4];
    int k = 0;
    const char *q = v;
    while (*q != '\0' && k < 4) {
        char *end;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        d[k] = strtod(q, &end);
        if (end == q || !isfinite(d[k]) || d[k] < 0 || d[k] > TS_STYLE__MAX_PX)
            break;
        k++;
        q = end;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q == ',')
            q++;
        else if (*q != '\0' && !(*q >= '0' && *q <= '9') && *q != '.')
            break;
    }
    int distance = strcmp(name, "distance") == 0;
    int ok = *q == '\0' && (distance ? k == 2 : (k == 1 || k == 2 || k == 4));
    if (!ok)
        return ts_style__error(p, n, TS_ESTYLE,
                               distance ? "VendorOption distance: want 'dx,dy' (px), got '%s'"
                                        : "VendorOption graphic-margin: want 1, 2 or 4 "
                                          "non-negative numbers (px), got '%s'",
                               v),
               -1;
    if (g == NULL || g->image >= 0) {
        ts_style__warn(p, n, "VendorOption %s applies to a GraphicFill of a mark only, ignored",
                       name);
        return 0;
    }
    if (g->shape != TS_SHAPE_NONE && g->shape != TS_SHAPE_DOT && g->shape != TS_SHAPE_OARROW &&
        g->shape != TS_SHAPE_CARROW) {
        ts_style__warn(p, n,
                       "VendorOption %s: the line marks shape://horline, vertline, slash, "
                       "backslash, plus and times fill as continuous hatching, spaced by the "
                       "mark's Size; ignored",
                       name);
        return 0;
    }
    if (distance) {
        double size = g->size > 0 ? g->size : 6;
        double sx = d[0] > size ? (d[0] - size) / 2 : 0, sy = d[1] > size ? (d[1] - size) / 2 : 0;
        g->margin[0] = g->margin[2] = sy;
        g->margin[1] = g->margin[3] = sx;
    } else if (k == 1) {
        g->margin[0] = g->margin[1] = g->margin[2] = g->margin[3] = d[0];
    } else if (k == 2) {
        g->margin[0] = g->margin[2] = d[0];
        g->margin[1] = g->margin[3] = d[1];
    } else {
        memcpy(g->margin, d, sizeof g->margin);
    }
    return 0;
}

/* Elements every symbolizer may carry without effect here. */
static int
sym_common(ts_style__pctx *p, const xmlNode *c, const char *kind)
{
    if (ts_style__is(c, "Name") || ts_style__is(c, "Description"))
        return 1; /* SE 1.1 metadata */
    if (ts_style__is(c, "Geometry")) {
        ts_style__warn(p, c, "<Geometry> in <%s> not supported, the feature's geometry is used",
                       kind);
        return 1;
    }
    if (ts_style__is(c, "VendorOption")) {
        const char *name = ts_style__attr(c, "name");
        ts_style__warn(p, c, "VendorOption '%s' in <%s> not supported, ignored",
                       name ? name : "", kind);
        return 1;
    }
    return 0;
}

static int parse_symbolizer(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s);

int
ts_style__parse_symbolizer(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s)
{
    p->dyn_ok = ts_style__is(n, "PolygonSymbolizer") || ts_style__is(n, "LineSymbolizer") ||
                ts_style__is(n, "PointSymbolizer");
    int rc = parse_symbolizer(p, n, s);
    p->dyn_ok = 0;
    if (rc == 1) {
        const ts_graphic *g = s->kind == TS_SYM_POINT ? s->graphic : NULL;
        s->dynamic = s->fill_expr || s->fill_opacity_expr || s->stroke_expr ||
                     s->stroke_width_expr || s->stroke_opacity_expr ||
                     (g != NULL && (g->size_expr || g->fill_expr || g->fill_opacity_expr ||
                                    g->stroke_expr || g->stroke_width_expr ||
                                    g->stroke_opacity_expr));
    }
    return rc;
}

static int
parse_symbolizer(ts_style__pctx *p, const xmlNode *n, ts_symbolizer *s)
{
    if (ts_style__is(n, "PolygonSymbolizer")) {
        sym_init(s, TS_SYM_POLYGON);
        if (parse_uom(p, n, s) != 0)
            return -1;
        const xmlNode *spacing = NULL; /* VendorOption graphic-margin or distance */
        FOR_ELEMS(c, n) {
            if (ts_style__is(c, "Fill")) {
                if (parse_fill(p, c, GREY, &s->has_fill, &s->fill, &s->fill_opacity,
                               &s->fill_graphic, &s->fill_expr, &s->fill_opacity_expr) != 0)
                    return -1;
            } else if (ts_style__is(c, "Stroke")) {
                if (parse_stroke(p, c, &s->has_stroke, &s->stroke, &s->stroke_color,
                                 &s->stroke_opacity, &s->stroke_graphic, &s->stroke_expr,
                                 &s->stroke_width_expr, &s->stroke_opacity_expr) != 0)
                    return -1;
            } else if (ts_style__is(c, "VendorOption") && ts_style__attr(c, "name") != NULL &&
                       (strcmp(ts_style__attr(c, "name"), "graphic-margin") == 0 ||
                        strcmp(ts_style__attr(c, "name"), "distance") == 0)) {
                spacing = c;
            } else if (!sym_common(p, c, "PolygonSymbolizer")) {
                ts_style__warn(p, c, "<%s> in <PolygonSymbolizer> not supported yet, skipped",
                               (const char *)c->name);
            }
        }
        if (spacing != NULL && fill_spacing(p, spacing, (ts_graphic *)s->fill_graphic) != 0)
            return -1;
        return 1;
    }
    if (ts_style__is(n, "LineSymbolizer")) {
        sym_init(s, TS_SYM_LINE);
        if (parse_uom(p, n, s) != 0)
            return -1;
        FOR_ELEMS(c, n) {
            if (ts_style__is(c, "Stroke")) {
                if (parse_stroke(p, c, &s->has_stroke, &s->stroke, &s->stroke_color,
                                 &s->stroke_opacity, &s->stroke_graphic, &s->stroke_expr,
                                 &s->stroke_width_expr, &s->stroke_opacity_expr) != 0)
                    return -1;
            } else if (ts_style__is(c, "PerpendicularOffset")) {
                if (!ts_style__param_number(p, c, "PerpendicularOffset", -TS_STYLE__MAX_PX,
                                  TS_STYLE__MAX_PX, &s->perpendicular_offset))
                    return -1;
            } else if (!sym_common(p, c, "LineSymbolizer")) {
                ts_style__warn(p, c, "<%s> in <LineSymbolizer> not supported yet, skipped",
                               (const char *)c->name);
            }
        }
        return 1;
    }
    if (ts_style__is(n, "PointSymbolizer")) {
        sym_init(s, TS_SYM_POINT);
        if (parse_uom(p, n, s) != 0)
            return -1;
        ts_graphic *g = ts_style__alloc(p->st, sizeof *g);
        if (g == NULL)
            return ts_style__error(p, n, TS_ENOMEM, "out of memory"), -1;
        graphic_init(g);
        const xmlNode *gn = NULL;
        FOR_ELEMS(c, n) {
            if (ts_style__is(c, "Graphic") && gn == NULL)
                gn = c;
            else if (!sym_common(p, c, "PointSymbolizer"))
                ts_style__warn(p, c, "<%s> in <PointSymbolizer> not supported yet, skipped",
                               (const char *)c->name);
        }
        if (gn != NULL) {
            int rc = parse_graphic(p, gn, g, "PointSymbolizer");
            if (rc <= 0)
                return rc;
        } else {
            g->has_fill = g->has_stroke = 1; /* the SLD default square */
            g->size = 6;
        }
        s->graphic = g;
        s->mark = g->mark;
        s->size = g->size;
        s->rotation = g->rotation;
        s->opacity = g->opacity;
        s->has_fill = g->has_fill;
        s->fill = g->fill;
        s->fill_opacity = g->fill_opacity;
        s->has_stroke = g->has_stroke;
        s->stroke = g->stroke;
        s->stroke_color = g->stroke_color;
        s->stroke_opacity = g->stroke_opacity;
        return 1;
    }
    if (ts_style__is(n, "TextSymbolizer")) {
        sym_init(s, TS_SYM_TEXT);
        if (parse_uom(p, n, s) != 0)
            return -1;
        return parse_text(p, n, s);
    }
    ts_style__warn(p, n, "%s not supported yet, skipped", (const char *)n->name);
    return 0;
}
