/* style/svg.c — SVG images of ExternalGraphics (image/svg+xml) read into outlines that the
 * renderer fills and strokes with its own rasteriser, as QGIS and GeoServer draw their SVG
 * markers.
 *
 * What is read: <svg> (viewBox, width, height), <g>, <a>, <path> (every command of the path
 * grammar, absolute and relative, elliptical arcs included), <rect> (rounded corners),
 * <circle>, <ellipse>, <line>, <polyline>, <polygon>; presentation attributes and the
 * style attribute: fill, fill-opacity, fill-rule, stroke, stroke-width, stroke-opacity,
 * stroke-linejoin, stroke-linecap, stroke-miterlimit, opacity (multiplied into both),
 * display:none, visibility:hidden; transform (matrix, translate, scale, rotate, skewX,
 * skewY) on any element. Colours: #rgb, #rrggbb, rgb(), the basic named colours, none,
 * currentColor (black); QGIS's parameters "param(fill) #ff0000" take the default after
 * them (without one: a black fill; a black stroke only on elements filling nothing), or
 * the value the graphic's href gives it, as GeoServer reads them ("pin.svg?fill=%23ff0000&
 * outline=%23000000&outline-width=2"). Gradients and patterns (url(#...)) paint grey; <text>, <image>, <use>, <defs> and
 * CSS <style> sheets are not drawn. Curves are flattened to 1/1024 of the drawing's
 * larger side. Documents are read as styles are (no network, no entities, limits). */
#include "style/style.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "style/style_int.h"

#define SVG_MAX_BYTES (4u << 20)
#define SVG_MAX_POINTS (1u << 20) /* flattened points in one image */
#define SVG_MAX_DEPTH 64

typedef struct mat {
    double a, b, c, d, e, f; /* x' = a x + c y + e, y' = b x + d y + f */
} mat;

static mat
mat_mul(mat m, mat n) /* m then n applied after: n * m */
{
    mat r = {n.a * m.a + n.c * m.b, n.b * m.a + n.d * m.b, n.a * m.c + n.c * m.d,
             n.b * m.c + n.d * m.d, n.a * m.e + n.c * m.f + n.e, n.b * m.e + n.d * m.f + n.f};
    return r;
}

/* The paint state inherited down the tree. */
typedef struct paint {
    int fill_none, stroke_none;
    int stroke_param; /* stroke from a QGIS parameter without a default: none, but black
                       * where nothing is filled (an outline-only marker) */
    ts_rgba fill, stroke;
    double fill_opacity, stroke_opacity, opacity;
    int evenodd;
    ts_stroke sk;
    int hidden;
    mat m;
    const char *params; /* GeoServer's SVG parameters: "fill=%23ff0000&outline=..." */
} paint;

typedef struct builder {
    ts_svg *svg;
    /* the item being built */
    double *xy;
    uint32_t *counts;
    uint8_t *closed;
    size_t npts, cap_pts, nparts, cap_parts;
    size_t total;
    int overflow;
    double tol; /* flattening tolerance in user units after the transform */
    mat m;
    /* the current subpath */
    size_t part_start;
    int in_part;
    double cx, cy, sx, sy; /* current and start point, untransformed */
} builder;

/* ---- numbers and lists ------------------------------------------------------------------- */

static const char *
skip_ws(const char *s)
{
    while (*s && (isspace((unsigned char)*s) || *s == ','))
        s++;
    return s;
}

/* The next number of a list; 0 when there is none. */
static int
next_num(const char **s, double *v)
{
    const char *p = skip_ws(*s);
    char *end;
    double x = strtod(p, &end);
    if (end == p || !isfinite(x))
        return 0;
    *v = x;
    *s = end;
    return 1;
}

/* An arc flag: a single 0 or 1, possibly not followed by a separator ("a1 1 0 00 1 1"). */
static int
next_flag(const char **s, int *f)
{
    const char *p = skip_ws(*s);
    if (*p != '0' && *p != '1')
        return 0;
    *f = *p == '1';
    *s = p + 1;
    return 1;
}

/* A length ("12", "12px", "1e1"); percentages and other units are read as their number. */
static int
length_attr(const char *s, double *v)
{
    if (s == NULL)
        return 0;
    const char *p = s;
    return next_num(&p, v);
}

/* ---- colours ------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t rgb;
} named[] = {
    {"black", 0x000000},  {"white", 0xffffff},   {"red", 0xff0000},    {"green", 0x008000},
    {"blue", 0x0000ff},   {"yellow", 0xffff00},  {"gray", 0x808080},   {"grey", 0x808080},
    {"silver", 0xc0c0c0}, {"maroon", 0x800000},  {"purple", 0x800080}, {"fuchsia", 0xff00ff},
    {"magenta", 0xff00ff}, {"lime", 0x00ff00},   {"olive", 0x808000},  {"navy", 0x000080},
    {"teal", 0x008080},   {"aqua", 0x00ffff},    {"cyan", 0x00ffff},   {"orange", 0xffa500},
    {"brown", 0xa52a2a},  {"darkgray", 0xa9a9a9}, {"darkgrey", 0xa9a9a9},
    {"lightgray", 0xd3d3d3}, {"lightgrey", 0xd3d3d3}, {"darkgreen", 0x006400},
    {"darkblue", 0x00008b}, {"darkred", 0x8b0000}, {"pink", 0xffc0cb}, {"gold", 0xffd700},
};

/* A paint value: 1 colour (*c), 0 none, -1 not understood (left as inherited). A QGIS
 * parameter ("param(fill) #ff0000") is its default after it; without one, black for a
 * fill, and for a stroke (stroke 1) 2: black where the element fills nothing, else none. */
static int
parse_colour(const char *s, ts_rgba *c, int stroke)
{
    s = skip_ws(s);
    if (strncmp(s, "param(", 6) == 0) {
        const char *close = strchr(s, ')');
        if (close == NULL)
            return -1;
        s = skip_ws(close + 1);
        if (*s == '\0') {
            *c = (ts_rgba){0, 0, 0, 255};
            return stroke ? 2 : 1;
        }
    }
    if (strncasecmp(s, "none", 4) == 0 || strncasecmp(s, "transparent", 11) == 0)
        return 0;
    if (strncmp(s, "url(", 4) == 0) { /* a gradient or pattern: grey */
        *c = (ts_rgba){128, 128, 128, 255};
        return 1;
    }
    if (strncasecmp(s, "currentColor", 12) == 0) {
        *c = (ts_rgba){0, 0, 0, 255};
        return 1;
    }
    if (*s == '#') {
        unsigned v[6];
        size_t n = 0;
        while (n < 6 && isxdigit((unsigned char)s[1 + n])) {
            char h = (char)tolower((unsigned char)s[1 + n]);
            v[n] = (unsigned)(h <= '9' ? h - '0' : h - 'a' + 10);
            n++;
        }
        if (n == 3) {
            *c = (ts_rgba){(uint8_t)(v[0] * 17), (uint8_t)(v[1] * 17), (uint8_t)(v[2] * 17), 255};
            return 1;
        }
        if (n == 6) {
            *c = (ts_rgba){(uint8_t)(v[0] * 16 + v[1]), (uint8_t)(v[2] * 16 + v[3]),
                           (uint8_t)(v[4] * 16 + v[5]), 255};
            return 1;
        }
        return -1;
    }
    if (strncasecmp(s, "rgb(", 4) == 0) {
        const char *p = s + 4;
        double v[3];
        for (int i = 0; i < 3; i++) {
            if (!next_num(&p, &v[i]))
                return -1;
            p = skip_ws(p);
            if (*p == '%') {
                v[i] *= 2.55;
                p++;
            }
            v[i] = v[i] < 0 ? 0 : v[i] > 255 ? 255 : v[i];
        }
        *c = (ts_rgba){(uint8_t)lround(v[0]), (uint8_t)lround(v[1]), (uint8_t)lround(v[2]), 255};
        return 1;
    }
    size_t n = 0;
    while (isalpha((unsigned char)s[n]))
        n++;
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (strlen(named[i].name) == n && strncasecmp(s, named[i].name, n) == 0) {
            uint32_t v = named[i].rgb;
            *c = (ts_rgba){(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v, 255};
            return 1;
        }
    return -1;
}

static double
clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* ---- transforms ---------------------------------------------------------------------------- */

/* The transform attribute: a list of functions applied right to left. */
static mat
parse_transform(const char *s, mat m)
{
    mat t = {1, 0, 0, 1, 0, 0}; /* the attribute's own matrix */
    const char *p = s;
    while (*(p = skip_ws(p))) {
        const char *name = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t nl = (size_t)(p - name);
        p = skip_ws(p);
        if (*p != '(' || nl == 0)
            break;
        p++;
        double v[6];
        int n = 0;
        while (n < 6 && next_num(&p, &v[n]))
            n++;
        p = skip_ws(p);
        if (*p != ')')
            break;
        p++;
        mat f = {1, 0, 0, 1, 0, 0};
        if (nl == 6 && strncmp(name, "matrix", 6) == 0 && n == 6) {
            f = (mat){v[0], v[1], v[2], v[3], v[4], v[5]};
        } else if (nl == 9 && strncmp(name, "translate", 9) == 0 && n >= 1) {
            f.e = v[0];
            f.f = n > 1 ? v[1] : 0;
        } else if (nl == 5 && strncmp(name, "scale", 5) == 0 && n >= 1) {
            f.a = v[0];
            f.d = n > 1 ? v[1] : v[0];
        } else if (nl == 6 && strncmp(name, "rotate", 6) == 0 && n >= 1) {
            double a = v[0] * M_PI / 180, cs = cos(a), sn = sin(a);
            f = (mat){cs, sn, -sn, cs, 0, 0};
            if (n == 3) { /* about (cx, cy) */
                mat to = {1, 0, 0, 1, -v[1], -v[2]}, back = {1, 0, 0, 1, v[1], v[2]};
                f = mat_mul(mat_mul(to, f), back);
            }
        } else if (nl == 5 && strncmp(name, "skewX", 5) == 0 && n == 1) {
            f.c = tan(v[0] * M_PI / 180);
        } else if (nl == 5 && strncmp(name, "skewY", 5) == 0 && n == 1) {
            f.b = tan(v[0] * M_PI / 180);
        } else {
            break;
        }
        t = mat_mul(f, t); /* "a b" means a(b(x)): b first */
    }
    return mat_mul(t, m);
}

/* ---- paint attributes ---------------------------------------------------------------------- */

/* A value written as a parameter with a default ("param(outline-width) 1"): the default;
 * other values as they are. */
static const char *
param_default(const char *val)
{
    const char *v = skip_ws(val);
    if (strncmp(v, "param(", 6) != 0)
        return val;
    const char *close = strchr(v, ')');
    return close ? close + 1 : "";
}

/* The value of parameter name[nl] in params ("a=1&b=%23ff0000", percent-decoded) into
 * out; 0 when it is not given. */
static int
param_value(const char *params, const char *name, size_t nl, char *out, size_t cap)
{
    for (const char *p = params; p && *p;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq != NULL && (size_t)(eq - p) == nl && strncmp(p, name, nl) == 0) {
            size_t o = 0;
            for (const char *q = eq + 1; q < end && o + 1 < cap; q++) {
                if (*q == '%' && q + 2 < end + 0 && isxdigit((unsigned char)q[1]) &&
                    isxdigit((unsigned char)q[2])) {
                    char hex[3] = {q[1], q[2], 0};
                    out[o++] = (char)strtol(hex, NULL, 16);
                    q += 2;
                } else {
                    out[o++] = *q == '+' ? ' ' : *q;
                }
            }
            out[o] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void
apply_prop(paint *pt, const char *name, size_t nl, const char *val)
{
    /* "param(fill) #ff0000": the parameter's value when the graphic's href gives it */
    char given[128];
    const char *v0 = skip_ws(val);
    if (strncmp(v0, "param(", 6) == 0 && pt->params != NULL) {
        const char *close = strchr(v0, ')');
        if (close != NULL &&
            param_value(pt->params, v0 + 6, (size_t)(close - v0 - 6), given, sizeof given))
            val = given;
    }
#define IS(lit) (nl == sizeof(lit) - 1 && strncmp(name, lit, nl) == 0)
    double v;
    ts_rgba c;
    int r;
    if (IS("fill")) {
        if ((r = parse_colour(val, &c, 0)) >= 0) {
            pt->fill_none = r == 0;
            if (r)
                pt->fill = c;
        }
    } else if (IS("stroke")) {
        if ((r = parse_colour(val, &c, 1)) >= 0) {
            pt->stroke_none = r == 0 || r == 2;
            pt->stroke_param = r == 2;
            if (r)
                pt->stroke = c;
        }
    } else if (IS("fill-opacity") && length_attr(param_default(val), &v)) {
        pt->fill_opacity = clamp01(v);
    } else if (IS("stroke-opacity") && length_attr(param_default(val), &v)) {
        pt->stroke_opacity = clamp01(v);
    } else if (IS("opacity") && length_attr(param_default(val), &v)) {
        pt->opacity *= clamp01(v);
    } else if (IS("stroke-width") && length_attr(param_default(val), &v) && v >= 0 && v <= 1e6) {
        pt->sk.width = v;
    } else if (IS("stroke-miterlimit") && length_attr(param_default(val), &v) && v >= 1) {
        pt->sk.miter_limit = v;
    } else if (IS("fill-rule")) {
        pt->evenodd = strncmp(skip_ws(val), "evenodd", 7) == 0;
    } else if (IS("stroke-linejoin")) {
        const char *s = skip_ws(val);
        pt->sk.join = strncmp(s, "round", 5) == 0   ? TS_JOIN_ROUND
                      : strncmp(s, "bevel", 5) == 0 ? TS_JOIN_BEVEL
                                                    : TS_JOIN_MITER;
    } else if (IS("stroke-linecap")) {
        const char *s = skip_ws(val);
        pt->sk.cap = strncmp(s, "round", 5) == 0    ? TS_CAP_ROUND
                     : strncmp(s, "square", 6) == 0 ? TS_CAP_SQUARE
                                                    : TS_CAP_BUTT;
    } else if (IS("display")) {
        if (strncmp(skip_ws(val), "none", 4) == 0)
            pt->hidden = 1;
    } else if (IS("visibility")) {
        const char *s = skip_ws(val);
        pt->hidden = strncmp(s, "hidden", 6) == 0 || strncmp(s, "collapse", 8) == 0;
    }
#undef IS
}

static const char *
attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0 && a->children && a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

/* The element's presentation attributes, then its style attribute (which wins). */
static void
element_paint(const xmlNode *n, paint *pt)
{
    static const char *const props[] = {"fill", "stroke", "fill-opacity", "stroke-opacity",
                                        "opacity", "stroke-width", "stroke-miterlimit",
                                        "fill-rule", "stroke-linejoin", "stroke-linecap",
                                        "display", "visibility"};
    for (size_t i = 0; i < sizeof props / sizeof *props; i++) {
        const char *v = attr(n, props[i]);
        if (v != NULL)
            apply_prop(pt, props[i], strlen(props[i]), v);
    }
    const char *style = attr(n, "style");
    while (style && *style) {
        const char *semi = strchr(style, ';');
        const char *end = semi ? semi : style + strlen(style);
        const char *colon = memchr(style, ':', (size_t)(end - style));
        if (colon != NULL) {
            const char *k = skip_ws(style);
            size_t kl = (size_t)(colon - k);
            while (kl > 0 && isspace((unsigned char)k[kl - 1]))
                kl--;
            char val[256];
            size_t vl = (size_t)(end - colon - 1);
            if (vl >= sizeof val)
                vl = sizeof val - 1;
            memcpy(val, colon + 1, vl);
            val[vl] = '\0';
            apply_prop(pt, k, kl, val);
        }
        style = semi ? semi + 1 : NULL;
    }
    const char *tf = attr(n, "transform");
    if (tf != NULL)
        pt->m = parse_transform(tf, pt->m);
}

/* ---- building outlines --------------------------------------------------------------------- */

static void
add_point(builder *b, double x, double y)
{
    if (b->overflow)
        return;
    if (!b->in_part) {
        if (b->nparts == b->cap_parts) {
            size_t cap = b->cap_parts ? 2 * b->cap_parts : 8;
            uint32_t *nc = realloc(b->counts, cap * sizeof *nc);
            if (nc == NULL) {
                b->overflow = 1;
                return;
            }
            b->counts = nc;
            uint8_t *ncl = realloc(b->closed, cap);
            if (ncl == NULL) {
                b->overflow = 1;
                return;
            }
            b->closed = ncl;
            b->cap_parts = cap;
        }
        b->counts[b->nparts] = 0;
        b->closed[b->nparts] = 0;
        b->nparts++;
        b->in_part = 1;
    }
    if (b->npts == b->cap_pts) {
        size_t cap = b->cap_pts ? 2 * b->cap_pts : 64;
        double *nx;
        if (b->total + b->npts >= SVG_MAX_POINTS ||
            (nx = realloc(b->xy, 2 * cap * sizeof *nx)) == NULL) {
            b->overflow = 1;
            return;
        }
        b->xy = nx;
        b->cap_pts = cap;
    }
    const mat *m = &b->m;
    double tx = m->a * x + m->c * y + m->e, ty = m->b * x + m->d * y + m->f;
    if (!(fabs(tx) <= 1e9) || !(fabs(ty) <= 1e9)) { /* NaN or absurd: refused */
        b->overflow = 1;
        return;
    }
    b->xy[2 * b->npts] = tx;
    b->xy[2 * b->npts + 1] = ty;
    b->npts++;
    b->counts[b->nparts - 1]++;
}

static void
move_to(builder *b, double x, double y)
{
    b->in_part = 0;
    b->cx = b->sx = x;
    b->cy = b->sy = y;
    add_point(b, x, y);
}

static void
line_to(builder *b, double x, double y)
{
    if (!b->in_part)
        move_to(b, b->cx, b->cy);
    add_point(b, x, y);
    b->cx = x;
    b->cy = y;
}

static void
close_part(builder *b)
{
    if (b->in_part && b->nparts > 0)
        b->closed[b->nparts - 1] = 1;
    b->in_part = 0;
    b->cx = b->sx;
    b->cy = b->sy;
}

/* Pieces for a curve whose control polygon is len units long, within the tolerance. */
static int
curve_pieces(const builder *b, double len)
{
    double scale = sqrt(fabs(b->m.a * b->m.d - b->m.b * b->m.c));
    double n = ceil(sqrt(len * scale / b->tol) * 0.5);
    return !(n >= 2) ? 2 : n > 256 ? 256 : (int)n; /* NaN: 2 */
}

static void
cubic_to(builder *b, double x1, double y1, double x2, double y2, double x3, double y3)
{
    double x0 = b->cx, y0 = b->cy;
    int n = curve_pieces(b, hypot(x1 - x0, y1 - y0) + hypot(x2 - x1, y2 - y1) +
                                hypot(x3 - x2, y3 - y2));
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        line_to(b, u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3,
                u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3);
    }
}

static void
quad_to(builder *b, double x1, double y1, double x2, double y2)
{
    double x0 = b->cx, y0 = b->cy;
    int n = curve_pieces(b, hypot(x1 - x0, y1 - y0) + hypot(x2 - x1, y2 - y1));
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        line_to(b, u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2);
    }
}

/* An elliptical arc (SVG 1.1 F.6.5: endpoint to centre parameterisation). */
static void
arc_to(builder *b, double rx, double ry, double phi_deg, int large, int sweep, double x, double y)
{
    double x0 = b->cx, y0 = b->cy;
    rx = fabs(rx);
    ry = fabs(ry);
    if ((x0 == x && y0 == y))
        return;
    if (rx == 0 || ry == 0) {
        line_to(b, x, y);
        return;
    }
    double phi = phi_deg * M_PI / 180, cs = cos(phi), sn = sin(phi);
    double dx = (x0 - x) / 2, dy = (y0 - y) / 2;
    double x1p = cs * dx + sn * dy, y1p = -sn * dx + cs * dy;
    double lam = x1p * x1p / (rx * rx) + y1p * y1p / (ry * ry);
    if (lam > 1) {
        rx *= sqrt(lam);
        ry *= sqrt(lam);
    }
    double num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p;
    double den = rx * rx * y1p * y1p + ry * ry * x1p * x1p;
    double co = den > 0 && num > 0 ? sqrt(num / den) : 0;
    if (large == sweep)
        co = -co;
    double cxp = co * rx * y1p / ry, cyp = -co * ry * x1p / rx;
    double cx = cs * cxp - sn * cyp + (x0 + x) / 2, cy = sn * cxp + cs * cyp + (y0 + y) / 2;
    double ux = (x1p - cxp) / rx, uy = (y1p - cyp) / ry, vx = (-x1p - cxp) / rx,
           vy = (-y1p - cyp) / ry;
    double t1 = atan2(uy, ux), dt = atan2(ux * vy - uy * vx, ux * vx + uy * vy);
    if (!sweep && dt > 0)
        dt -= 2 * M_PI;
    else if (sweep && dt < 0)
        dt += 2 * M_PI;
    int n = curve_pieces(b, fabs(dt) * (rx > ry ? rx : ry));
    for (int i = 1; i <= n; i++) {
        double t = t1 + dt * i / n;
        double ex = rx * cos(t), ey = ry * sin(t);
        if (i == n)
            line_to(b, x, y);
        else
            line_to(b, cs * ex - sn * ey + cx, sn * ex + cs * ey + cy);
    }
}

/* The d attribute. Stops at the first error, keeping what came before (SVG's rule). */
static void
path_data(builder *b, const char *d)
{
    const char *p = d;
    char cmd = 0;
    double qx = 0, qy = 0; /* last control point, for S and T */
    char prev = 0;
    b->cx = b->cy = b->sx = b->sy = 0;
    b->in_part = 0;
    while (*(p = skip_ws(p)) && !b->overflow) {
        const char *before = p;
        if (isalpha((unsigned char)*p))
            cmd = *p++;
        else if (cmd == 0 || cmd == 'z' || cmd == 'Z')
            return; /* numbers with no command, or after a closepath: an error, stop */
        int rel = islower((unsigned char)cmd);
        double ox = rel ? b->cx : 0, oy = rel ? b->cy : 0;
        double v[7];
        int f1, f2;
        switch (toupper((unsigned char)cmd)) {
        case 'M':
            if (!next_num(&p, &v[0]) || !next_num(&p, &v[1]))
                return;
            move_to(b, ox + v[0], oy + v[1]);
            cmd = rel ? 'l' : 'L'; /* further pairs are lines */
            break;
        case 'L':
            if (!next_num(&p, &v[0]) || !next_num(&p, &v[1]))
                return;
            line_to(b, ox + v[0], oy + v[1]);
            break;
        case 'H':
            if (!next_num(&p, &v[0]))
                return;
            line_to(b, ox + v[0], b->cy);
            break;
        case 'V':
            if (!next_num(&p, &v[0]))
                return;
            line_to(b, b->cx, oy + v[0]);
            break;
        case 'C':
            for (int i = 0; i < 6; i++)
                if (!next_num(&p, &v[i]))
                    return;
            cubic_to(b, ox + v[0], oy + v[1], ox + v[2], oy + v[3], ox + v[4], oy + v[5]);
            qx = ox + v[2];
            qy = oy + v[3];
            break;
        case 'S': {
            for (int i = 0; i < 4; i++)
                if (!next_num(&p, &v[i]))
                    return;
            double c1x = b->cx, c1y = b->cy;
            if (prev == 'C' || prev == 'S') {
                c1x = 2 * b->cx - qx;
                c1y = 2 * b->cy - qy;
            }
            cubic_to(b, c1x, c1y, ox + v[0], oy + v[1], ox + v[2], oy + v[3]);
            qx = ox + v[0];
            qy = oy + v[1];
            break;
        }
        case 'Q':
            for (int i = 0; i < 4; i++)
                if (!next_num(&p, &v[i]))
                    return;
            quad_to(b, ox + v[0], oy + v[1], ox + v[2], oy + v[3]);
            qx = ox + v[0];
            qy = oy + v[1];
            break;
        case 'T': {
            if (!next_num(&p, &v[0]) || !next_num(&p, &v[1]))
                return;
            double c1x = b->cx, c1y = b->cy;
            if (prev == 'Q' || prev == 'T') {
                c1x = 2 * b->cx - qx;
                c1y = 2 * b->cy - qy;
            }
            quad_to(b, c1x, c1y, ox + v[0], oy + v[1]);
            qx = c1x;
            qy = c1y;
            break;
        }
        case 'A':
            if (!next_num(&p, &v[0]) || !next_num(&p, &v[1]) || !next_num(&p, &v[2]) ||
                !next_flag(&p, &f1) || !next_flag(&p, &f2) || !next_num(&p, &v[3]) ||
                !next_num(&p, &v[4]))
                return;
            arc_to(b, v[0], v[1], v[2], f1, f2, ox + v[3], oy + v[4]);
            break;
        case 'Z':
            close_part(b);
            break;
        default:
            return;
        }
        prev = (char)toupper((unsigned char)cmd);
        if (p == before)
            return; /* nothing read: never loop in place */
    }
}

static double
num_attr(const xmlNode *n, const char *name, double dflt)
{
    double v;
    return length_attr(attr(n, name), &v) ? v : dflt;
}

/* An ellipse (or circle) as four arcs. */
static void
ellipse(builder *b, double cx, double cy, double rx, double ry)
{
    if (!(rx > 0) || !(ry > 0))
        return;
    move_to(b, cx + rx, cy);
    arc_to(b, rx, ry, 0, 0, 1, cx, cy + ry);
    arc_to(b, rx, ry, 0, 0, 1, cx - rx, cy);
    arc_to(b, rx, ry, 0, 0, 1, cx, cy - ry);
    arc_to(b, rx, ry, 0, 0, 1, cx + rx, cy);
    close_part(b);
}

/* The outline of a shape element into b; 0 when the element is not a shape. */
static int
shape(builder *b, const xmlNode *n)
{
    const char *name = (const char *)n->name;
    if (strcmp(name, "path") == 0) {
        const char *d = attr(n, "d");
        if (d != NULL)
            path_data(b, d);
    } else if (strcmp(name, "rect") == 0) {
        double x = num_attr(n, "x", 0), y = num_attr(n, "y", 0);
        double w = num_attr(n, "width", 0), h = num_attr(n, "height", 0);
        double rx = num_attr(n, "rx", -1), ry = num_attr(n, "ry", -1);
        if (!(w > 0) || !(h > 0))
            return 1;
        if (rx < 0)
            rx = ry;
        if (ry < 0)
            ry = rx;
        rx = rx < 0 ? 0 : rx > w / 2 ? w / 2 : rx;
        ry = ry < 0 ? 0 : ry > h / 2 ? h / 2 : ry;
        if (rx > 0 && ry > 0) {
            move_to(b, x + rx, y);
            line_to(b, x + w - rx, y);
            arc_to(b, rx, ry, 0, 0, 1, x + w, y + ry);
            line_to(b, x + w, y + h - ry);
            arc_to(b, rx, ry, 0, 0, 1, x + w - rx, y + h);
            line_to(b, x + rx, y + h);
            arc_to(b, rx, ry, 0, 0, 1, x, y + h - ry);
            line_to(b, x, y + ry);
            arc_to(b, rx, ry, 0, 0, 1, x + rx, y);
        } else {
            move_to(b, x, y);
            line_to(b, x + w, y);
            line_to(b, x + w, y + h);
            line_to(b, x, y + h);
        }
        close_part(b);
    } else if (strcmp(name, "circle") == 0) {
        double r = num_attr(n, "r", 0);
        ellipse(b, num_attr(n, "cx", 0), num_attr(n, "cy", 0), r, r);
    } else if (strcmp(name, "ellipse") == 0) {
        ellipse(b, num_attr(n, "cx", 0), num_attr(n, "cy", 0), num_attr(n, "rx", 0),
                num_attr(n, "ry", 0));
    } else if (strcmp(name, "line") == 0) {
        move_to(b, num_attr(n, "x1", 0), num_attr(n, "y1", 0));
        line_to(b, num_attr(n, "x2", 0), num_attr(n, "y2", 0));
    } else if (strcmp(name, "polyline") == 0 || strcmp(name, "polygon") == 0) {
        const char *p = attr(n, "points");
        double x, y;
        int first = 1;
        while (p && next_num(&p, &x) && next_num(&p, &y)) {
            if (first)
                move_to(b, x, y);
            else
                line_to(b, x, y);
            first = 0;
        }
        if (!first && name[4] == 'g') /* polygon */
            close_part(b);
    } else {
        return 0;
    }
    return 1;
}

/* Keep the outline built in b as an item painted with pt. */
static int
finish_item(builder *b, const paint *ptin)
{
    paint outline_only = *ptin;
    const paint *pt = ptin;
    if (ptin->stroke_param && ptin->fill_none) {
        outline_only.stroke_none = 0;
        pt = &outline_only;
    }
    int keep = b->npts > 0 && !b->overflow && !pt->hidden &&
               (!pt->fill_none || (!pt->stroke_none && pt->sk.width > 0));
    if (keep) {
        ts_svg *s = b->svg;
        ts_svg_item *ni = realloc(s->items, (size_t)(s->nitems + 1) * sizeof *ni);
        if (ni == NULL) {
            b->overflow = 1;
            keep = 0;
        } else {
            s->items = ni;
            ts_svg_item *it = &s->items[s->nitems++];
            memset(it, 0, sizeof *it);
            it->xy = b->xy;
            it->counts = b->counts;
            it->closed = b->closed;
            it->nparts = (uint32_t)b->nparts;
            it->has_fill = !pt->fill_none;
            it->fill = pt->fill;
            it->fill_opacity = pt->fill_opacity * pt->opacity;
            it->evenodd = pt->evenodd;
            it->has_stroke = !pt->stroke_none && pt->sk.width > 0;
            it->stroke = pt->stroke;
            it->stroke_opacity = pt->stroke_opacity * pt->opacity;
            it->sk = pt->sk;
            /* the width in the item's coordinates: scaled by the transform */
            it->sk.width *= sqrt(fabs(pt->m.a * pt->m.d - pt->m.b * pt->m.c));
            if (!(it->sk.width <= 1e6)) /* NaN or absurd */
                it->has_stroke = 0, it->sk.width = 0;
            b->total += b->npts;
            b->xy = NULL;
            b->counts = NULL;
            b->closed = NULL;
        }
    }
    free(b->xy);
    free(b->counts);
    free(b->closed);
    b->xy = NULL;
    b->counts = NULL;
    b->closed = NULL;
    b->npts = b->cap_pts = b->nparts = b->cap_parts = 0;
    return b->overflow ? -1 : 0;
}

static int
walk(builder *b, const xmlNode *n, paint pt, int depth)
{
    if (depth > SVG_MAX_DEPTH)
        return 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "defs") == 0 || strcmp(name, "symbol") == 0 ||
            strcmp(name, "clipPath") == 0 || strcmp(name, "mask") == 0 ||
            strcmp(name, "style") == 0 || strcmp(name, "metadata") == 0 ||
            strcmp(name, "linearGradient") == 0 || strcmp(name, "radialGradient") == 0 ||
            strcmp(name, "pattern") == 0 || strcmp(name, "title") == 0 ||
            strcmp(name, "desc") == 0)
            continue;
        paint cp = pt;
        element_paint(c, &cp);
        if (cp.hidden && strcmp(name, "g") == 0)
            continue;
        if (strcmp(name, "g") == 0 || strcmp(name, "a") == 0 || strcmp(name, "switch") == 0) {
            if (walk(b, c, cp, depth + 1) < 0)
                return -1;
            continue;
        }
        b->m = cp.m;
        if (shape(b, c) && finish_item(b, &cp) < 0)
            return -1;
    }
    return 0;
}

void
ts_svg_free(ts_svg *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nitems; i++) {
        free(s->items[i].xy);
        free(s->items[i].counts);
        free(s->items[i].closed);
    }
    free(s->items);
    free(s);
}

ts_svg *
ts_svg_parse(const char *xml, size_t len, const char *where, const char *params, ts_err *err)
{
    if (len > SVG_MAX_BYTES) {
        TS_FAIL_AT(err, TS_ELIMIT, where, 0, 0, "SVG of %zu bytes exceeds the %u-byte limit",
                   len, SVG_MAX_BYTES);
        return NULL;
    }
    xmlDoc *doc = ts_style__read_xml(xml, len, where, "SVG", err);
    if (doc == NULL)
        return NULL;
    const xmlNode *root = xmlDocGetRootElement(doc);
    ts_svg *s = NULL;
    if (root == NULL || strcmp((const char *)root->name, "svg") != 0) {
        TS_FAIL_AT(err, TS_ESTYLE, where, root ? (int)root->line : 0, 0,
                   "not an SVG document (root element <%s>)",
                   root ? (const char *)root->name : "");
        goto done;
    }
    if ((s = calloc(1, sizeof *s)) == NULL) {
        TS_FAIL(err, TS_ENOMEM, "SVG %s: out of memory", where);
        goto done;
    }
    /* the drawing's box: viewBox, else (0, 0, width, height) */
    double vb[4] = {0, 0, 0, 0};
    const char *vbs = attr(root, "viewBox");
    int have_vb = 0;
    if (vbs != NULL) {
        const char *p = vbs;
        have_vb = next_num(&p, &vb[0]) && next_num(&p, &vb[1]) && next_num(&p, &vb[2]) &&
                  next_num(&p, &vb[3]) && vb[2] > 0 && vb[3] > 0;
    }
    double w = 0, h = 0;
    const char *ws = attr(root, "width"), *hs = attr(root, "height");
    int wpct = ws && strchr(ws, '%'), hpct = hs && strchr(hs, '%');
    if (!wpct)
        length_attr(ws, &w);
    if (!hpct)
        length_attr(hs, &h);
    if (!have_vb) {
        if (!(w > 0) || !(h > 0)) {
            TS_FAIL_AT(err, TS_ESTYLE, where, (int)root->line, 0,
                       "SVG without a viewBox or a width and height: its size is unknown");
            ts_svg_free(s);
            s = NULL;
            goto done;
        }
        vb[2] = w;
        vb[3] = h;
    }
    if (!(w > 0) && !(h > 0)) {
        w = vb[2];
        h = vb[3];
    } else if (!(w > 0)) {
        w = h * vb[2] / vb[3];
    } else if (!(h > 0)) {
        h = w * vb[3] / vb[2];
    }
    if (!(w < 1e6) || !(h < 1e6) || !(vb[2] < 1e9) || !(vb[3] < 1e9) || !(fabs(vb[0]) < 1e9) ||
        !(fabs(vb[1]) < 1e9)) {
        TS_FAIL_AT(err, TS_ELIMIT, where, (int)root->line, 0, "SVG size out of range");
        ts_svg_free(s);
        s = NULL;
        goto done;
    }
    s->x = vb[0];
    s->y = vb[1];
    s->w = vb[2];
    s->h = vb[3];
    s->width = w;
    s->height = h;
    paint pt;
    memset(&pt, 0, sizeof pt);
    pt.fill = (ts_rgba){0, 0, 0, 255}; /* SVG's initial values */
    pt.stroke_none = 1;
    pt.fill_opacity = pt.stroke_opacity = pt.opacity = 1;
    pt.sk.width = 1;
    pt.sk.miter_limit = 4;
    pt.m = (mat){1, 0, 0, 1, 0, 0};
    pt.params = params;
    element_paint(root, &pt);
    builder b;
    memset(&b, 0, sizeof b);
    b.svg = s;
    b.tol = (vb[2] > vb[3] ? vb[2] : vb[3]) / 1024;
    if (walk(&b, root, pt, 0) < 0) {
        TS_FAIL_AT(err, TS_ELIMIT, where, 0, 0,
                   "SVG with more than %u points, coordinates beyond 1e9 (or out of memory)",
                   SVG_MAX_POINTS);
        ts_svg_free(s);
        s = NULL;
        goto done;
    }
    if (s->nitems == 0) {
        TS_FAIL_AT(err, TS_ESTYLE, where, (int)root->line, 0,
                   "SVG draws nothing that tilesrv reads (shapes and paths)");
        ts_svg_free(s);
        s = NULL;
    }
done:
    xmlFreeDoc(doc);
    return s;
}

ts_svg *
ts_svg_read(const char *path, const char *params, ts_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        TS_FAIL(err, TS_EIO, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(SVG_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, SVG_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (buf == NULL) {
        TS_FAIL(err, TS_ENOMEM, "SVG %s: out of memory", path);
        return NULL;
    }
    ts_svg *s = ts_svg_parse(buf, n, path, params, err);
    free(buf);
    return s;
}
