/* text/sdf.c — glyph ranges as MapLibre GL reads them: signed distance fields of 256
 * code points in the glyphs protobuf that a style's "glyphs" URL serves
 * ({fontstack}/{start}-{end}.pbf), so vector-tile clients draw labels in the fonts the PNG
 * tiles use.
 *
 * The format is the one MapLibre and Mapbox GL expect of every glyph server (fontnik's):
 * glyphs are 24 px em boxes, unhinted; each bitmap is the glyph's whole-pixel box (its
 * outline's extent rounded) with a 3 px border, one byte per pixel, rows top first; a byte
 * is 255 - clamp(32 d + 64) for the signed distance d in pixels from the pixel's centre to
 * the outline (negative inside), so the outline is at 191, and the field reaches 2 px in
 * and 6 px out. Metrics are whole pixels: left = the box's left edge from the origin, top =
 * its top edge above the baseline less the face's ascender, advance = the advance width.
 *
 * Distances are exact to the outline flattened to 1/16 px; inside is by the nonzero
 * winding rule (TrueType's and CFF's). Nothing is cached here: see the caller. */
#include "text/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H

#include "text/text_int.h"

enum {
    SDF_EM_PX = 24,     /* em size of the glyphs */
    SDF_BORDER = 3,     /* border around each glyph box */
    SDF_MAX_BOX = 256,  /* glyph boxes larger than this (in either direction) are left out */
    SDF_MAX_SEGS = 1 << 16,
};

/* ---- outlines as line segments -------------------------------------------------------- */

typedef struct segs {
    double *v; /* x0 y0 x1 y1 per segment, px, y up */
    size_t n, cap;
    double cx, cy; /* current point */
    double sx, sy; /* first point of the contour */
    int open;
    int overflow;
} segs;

static void
seg_add(segs *s, double x0, double y0, double x1, double y1)
{
    if (x0 == x1 && y0 == y1)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *v;
        if (cap > SDF_MAX_SEGS || (v = realloc(s->v, cap * 4 * sizeof *v)) == NULL) {
            s->overflow = 1;
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    double *p = s->v + 4 * s->n++;
    p[0] = x0;
    p[1] = y0;
    p[2] = x1;
    p[3] = y1;
}

static void
seg_close(segs *s)
{
    if (s->open)
        seg_add(s, s->cx, s->cy, s->sx, s->sy);
    s->open = 0;
}

static int
on_move(const FT_Vector *to, void *ud)
{
    segs *s = ud;
    seg_close(s);
    s->sx = s->cx = to->x / 64.0;
    s->sy = s->cy = to->y / 64.0;
    s->open = 1;
    return 0;
}

static int
on_line(const FT_Vector *to, void *ud)
{
    segs *s = ud;
    double x = to->x / 64.0, y = to->y / 64.0;
    seg_add(s, s->cx, s->cy, x, y);
    s->cx = x;
    s->cy = y;
    return 0;
}

/* Pieces for a curve whose control polygon is len px long: within 1/16 px. */
static int
pieces(double len)
{
    int n = (int)ceil(sqrt(len * 4.0));
    return n < 1 ? 1 : n > 64 ? 64 : n;
}

static int
on_conic(const FT_Vector *c, const FT_Vector *to, void *ud)
{
    segs *s = ud;
    double x0 = s->cx, y0 = s->cy, x1 = c->x / 64.0, y1 = c->y / 64.0;
    double x2 = to->x / 64.0, y2 = to->y / 64.0;
    int n = pieces(hypot(x1 - x0, y1 - y0) + hypot(x2 - x1, y2 - y1));
    double px = x0, py = y0;
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        double x = u * u * x0 + 2 * u * t * x1 + t * t * x2;
        double y = u * u * y0 + 2 * u * t * y1 + t * t * y2;
        seg_add(s, px, py, x, y);
        px = x;
        py = y;
    }
    s->cx = x2;
    s->cy = y2;
    return 0;
}

static int
on_cubic(const FT_Vector *c1, const FT_Vector *c2, const FT_Vector *to, void *ud)
{
    segs *s = ud;
    double x0 = s->cx, y0 = s->cy, x1 = c1->x / 64.0, y1 = c1->y / 64.0;
    double x2 = c2->x / 64.0, y2 = c2->y / 64.0, x3 = to->x / 64.0, y3 = to->y / 64.0;
    int n = pieces(hypot(x1 - x0, y1 - y0) + hypot(x2 - x1, y2 - y1) + hypot(x3 - x2, y3 - y2));
    double px = x0, py = y0;
    for (int i = 1; i <= n; i++) {
        double t = (double)i / n, u = 1 - t;
        double x = u * u * u * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3;
        double y = u * u * u * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3;
        seg_add(s, px, py, x, y);
        px = x;
        py = y;
    }
    s->cx = x3;
    s->cy = y3;
    return 0;
}

/* ---- the distance field ---------------------------------------------------------------- */

/* Squared distance from (px, py) to the segment p. */
static double
dist2(const double *p, double px, double py)
{
    double dx = p[2] - p[0], dy = p[3] - p[1];
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - p[0]) * dx + (py - p[1]) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = p[0] + t * dx - px, ey = p[1] + t * dy - py;
    return ex * ex + ey * ey;
}

typedef struct crossing {
    double x;
    int dir;
} crossing;

/* Fill g's bitmap (w x h with the border) from the segments, shifted so that the box's
 * lower left corner (xmin, ymin) is at (SDF_BORDER, SDF_BORDER). Row by row: the segments
 * within reach of the row, and the row's crossings sorted by x for the winding numbers
 * (nonzero: a pixel is inside when the directions of the crossings right of it do not sum
 * to 0). -1 on out-of-memory. */
static int
field(const segs *s, double xmin, double ymin, uint32_t bw, uint32_t bh, uint8_t *out)
{
    const double reach = 6.5; /* beyond it, outside pixels are 0 and inside ones 255 */
    size_t *near = malloc((s->n ? s->n : 1) * sizeof *near);
    crossing *cr = malloc((s->n ? s->n : 1) * sizeof *cr);
    if (near == NULL || cr == NULL) {
        free(near);
        free(cr);
        return -1;
    }
    for (uint32_t row = 0; row < bh; row++) {
        double py = ymin - SDF_BORDER + (double)(bh - 1 - row) + 0.5;
        size_t nn = 0, nc = 0;
        int total = 0;
        for (size_t i = 0; i < s->n; i++) {
            const double *p = s->v + 4 * i;
            double lo = p[1] < p[3] ? p[1] : p[3], hi = p[1] < p[3] ? p[3] : p[1];
            if (py >= lo - reach && py <= hi + reach)
                near[nn++] = i;
            if ((p[1] <= py) != (p[3] <= py)) {
                double x = p[0] + (py - p[1]) * (p[2] - p[0]) / (p[3] - p[1]);
                int dir = p[3] > p[1] ? 1 : -1;
                size_t k = nc++; /* insertion: few crossings per row */
                while (k > 0 && cr[k - 1].x > x) {
                    cr[k] = cr[k - 1];
                    k--;
                }
                cr[k] = (crossing){x, dir};
                total += dir;
            }
        }
        size_t next = 0; /* crossings at or left of px are behind next */
        int left = 0;
        for (uint32_t col = 0; col < bw; col++) {
            double px = xmin - SDF_BORDER + (double)col + 0.5;
            while (next < nc && cr[next].x <= px)
                left += cr[next++].dir;
            int wind = total - left; /* the crossings right of the pixel */
            double best = reach * reach;
            for (size_t j = 0; j < nn; j++) {
                const double *p = s->v + 4 * near[j];
                double lo = p[0] < p[2] ? p[0] : p[2], hi = p[0] < p[2] ? p[2] : p[0];
                if (px < lo - reach || px > hi + reach)
                    continue;
                double d2 = dist2(p, px, py);
                if (d2 < best)
                    best = d2;
            }
            double d = sqrt(best) * (256.0 / 8.0);
            if (wind != 0)
                d = -d;
            d += 0.25 * 256.0;
            int v = d > 255 ? 255 : d < 0 ? 0 : (int)d;
            out[row * bw + col] = (uint8_t)(255 - v);
        }
    }
    free(near);
    free(cr);
    return 0;
}

/* ---- protobuf ------------------------------------------------------------------------------ */

static ts_status
pb_varint(ts_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    return ts_buf_add(b, tmp, (size_t)n);
}

static ts_status
pb_uint(ts_buf *b, int field, uint64_t v)
{
    TS_TRY(pb_varint(b, (uint64_t)field << 3));
    return pb_varint(b, v);
}

static ts_status
pb_sint(ts_buf *b, int field, int64_t v)
{
    return pb_uint(b, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static ts_status
pb_bytes(ts_buf *b, int field, const void *p, size_t n)
{
    TS_TRY(pb_varint(b, ((uint64_t)field << 3) | 2));
    TS_TRY(pb_varint(b, n));
    return n ? ts_buf_add(b, p, n) : TS_OK;
}

/* ---- one glyph ---------------------------------------------------------------------------- */

/* Append the glyph message (without its key and length) of code point cp of face f to g. */
static ts_status
glyph_message(FT_Face f, FT_UInt gid, uint32_t cp, segs *s, uint8_t **bitmap, size_t *bcap,
              ts_buf *g)
{
    int ascender = (int)(f->size->metrics.ascender / 64);
    int advance = 0, left = 0, top = 0;
    uint32_t w = 0, h = 0;
    size_t blen = 0;
    if (FT_Load_Glyph(f, gid, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) == 0) {
        advance = (int)(f->glyph->metrics.horiAdvance / 64);
        s->n = 0;
        s->open = 0;
        s->overflow = 0;
        static const FT_Outline_Funcs funcs = {on_move, on_line, on_conic, on_cubic, 0, 0};
        if (f->glyph->format == FT_GLYPH_FORMAT_OUTLINE &&
            FT_Outline_Decompose(&f->glyph->outline, &funcs, s) == 0) {
            seg_close(s);
            double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
            for (size_t i = 0; i < 2 * s->n; i++) {
                double x = s->v[2 * i], y = s->v[2 * i + 1];
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
            if (!s->overflow && s->n > 0) {
                x0 = round(x0), y0 = round(y0), x1 = round(x1), y1 = round(y1);
                if (x1 > x0 && y1 > y0 && x1 - x0 <= SDF_MAX_BOX && y1 - y0 <= SDF_MAX_BOX) {
                    w = (uint32_t)(x1 - x0);
                    h = (uint32_t)(y1 - y0);
                    left = (int)x0;
                    top = (int)y1;
                    uint32_t bw = w + 2 * SDF_BORDER, bh = h + 2 * SDF_BORDER;
                    blen = (size_t)bw * bh;
                    if (blen > *bcap) {
                        uint8_t *nb = realloc(*bitmap, blen);
                        if (nb == NULL)
                            return TS_ENOMEM;
                        *bitmap = nb;
                        *bcap = blen;
                    }
                    if (field(s, x0, y0, bw, bh, *bitmap) != 0)
                        return TS_ENOMEM;
                }
            }
        }
    }
    TS_TRY(pb_uint(g, 1, cp));
    if (blen > 0)
        TS_TRY(pb_bytes(g, 2, *bitmap, blen));
    TS_TRY(pb_uint(g, 3, w));
    TS_TRY(pb_uint(g, 4, h));
    TS_TRY(pb_sint(g, 5, left));
    TS_TRY(pb_sint(g, 6, top - ascender));
    return pb_uint(g, 7, advance > 0 ? (uint32_t)advance : 0);
}

/* ---- a range ------------------------------------------------------------------------------ */

ts_status
ts_text_glyph_range(const ts_font_catalog *cat, const int *faces, int nfaces, const char *name,
                    uint32_t start, ts_buf *out, ts_err *err)
{
    if (cat == NULL || nfaces < 1 || start % 256 != 0 || start > 65280)
        return TS_FAIL(err, TS_EINVAL, "glyph range: bad arguments");
    FT_Library lib = NULL;
    FT_Face ft[TS_MAX_GLYPH_STACK] = {0};
    if (nfaces > TS_MAX_GLYPH_STACK)
        nfaces = TS_MAX_GLYPH_STACK;
    if (FT_Init_FreeType(&lib) != 0)
        return TS_FAIL(err, TS_ENOMEM, "glyph range: FreeType cannot start");
    ts_status st = TS_OK;
    int opened = 0;
    for (int i = 0; i < nfaces; i++) {
        const ts_font_info *fi = ts_font_catalog_info(cat, faces[i]);
        if (fi == NULL || FT_New_Face(lib, fi->path, fi->index, &ft[i]) != 0) {
            ft[i] = NULL;
            continue;
        }
        if (FT_Set_Pixel_Sizes(ft[i], 0, SDF_EM_PX) != 0) {
            FT_Done_Face(ft[i]);
            ft[i] = NULL;
            continue;
        }
        opened++;
    }
    if (opened == 0) {
        st = TS_FAIL(err, TS_EIO, "glyph range: no font of the stack can be opened");
        goto done;
    }
    segs s = {0};
    uint8_t *bitmap = NULL;
    size_t bcap = 0;
    ts_buf stack, g;
    ts_buf_init(&stack, 64u << 20);
    ts_buf_init(&g, 1u << 20);
    char range[32];
    snprintf(range, sizeof range, "%u-%u", start, start + 255);
    st = pb_bytes(&stack, 1, name, strlen(name));
    if (st == TS_OK)
        st = pb_bytes(&stack, 2, range, strlen(range));
    for (uint32_t cp = start; st == TS_OK && cp <= start + 255; cp++) {
        for (int i = 0; i < nfaces; i++) {
            FT_UInt gid;
            if (ft[i] == NULL || (gid = FT_Get_Char_Index(ft[i], cp)) == 0)
                continue;
            g.len = 0;
            st = glyph_message(ft[i], gid, cp, &s, &bitmap, &bcap, &g);
            if (st == TS_OK)
                st = pb_bytes(&stack, 3, g.data, g.len);
            break;
        }
    }
    if (st == TS_OK)
        st = pb_bytes(out, 1, stack.data, stack.len);
    if (st != TS_OK)
        TS_FAIL(err, st, "glyph range %s: %s", range, ts_status_text(st));
    ts_buf_fini(&stack);
    ts_buf_fini(&g);
    free(bitmap);
    free(s.v);
done:
    for (int i = 0; i < nfaces; i++)
        if (ft[i] != NULL)
            FT_Done_Face(ft[i]);
    FT_Done_FreeType(lib);
    return st;
}

/* Whether style words (after the family) ask for bold / italic. */
static void
style_words(const char *w, size_t n, int *bold, int *italic)
{
    for (size_t i = 0; i < n;) {
        while (i < n && w[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && w[j] != ' ')
            j++;
        size_t len = j - i;
        const char *p = w + i;
        if ((len == 4 && strncasecmp(p, "bold", 4) == 0) ||
            (len == 5 && strncasecmp(p, "black", 5) == 0) ||
            (len == 5 && strncasecmp(p, "heavy", 5) == 0) ||
            (len == 8 && strncasecmp(p, "semibold", 8) == 0) ||
            (len == 9 && strncasecmp(p, "extrabold", 9) == 0))
            *bold = 1;
        if ((len == 6 && strncasecmp(p, "italic", 6) == 0) ||
            (len == 7 && strncasecmp(p, "oblique", 7) == 0))
            *italic = 1;
        i = j;
    }
}

int
ts_text_glyph_face(const ts_font_catalog *cat, const char *name, size_t len, int *exact)
{
    *exact = 0;
    while (len > 0 && *name == ' ')
        name++, len--;
    while (len > 0 && name[len - 1] == ' ')
        len--;
    if (cat == NULL || len == 0 || len > 200)
        return -1;
    /* "Family Style" of a face, exactly (either family name) */
    for (int i = 0; i < ts_font_catalog_count(cat); i++) {
        const ts_font_info *fi = ts_font_catalog_info(cat, i);
        const char *fams[2] = {fi->family, fi->family2};
        for (int k = 0; k < 2; k++) {
            if (fams[k] == NULL)
                continue;
            size_t fl = strlen(fams[k]), sl = fi->style ? strlen(fi->style) : 0;
            if (fl + 1 + sl == len && strncasecmp(name, fams[k], fl) == 0 && name[fl] == ' ' &&
                sl > 0 && strncasecmp(name + fl + 1, fi->style, sl) == 0) {
                *exact = 1;
                return i;
            }
        }
    }
    /* else a family followed by style words ("Open Sans Bold", "Arial Unicode MS
     * Regular"), or a family alone: the catalogue's choice for it */
    char fam[256];
    size_t fl = len;
    int bold = 0, italic = 0;
    for (;;) {
        const char *sp = NULL;
        for (size_t k = fl; k > 0 && sp == NULL; k--)
            if (name[k - 1] == ' ')
                sp = name + k - 1;
        if (sp == NULL)
            break;
        size_t wl = fl - (size_t)(sp - name) - 1;
        int b = 0, it = 0;
        style_words(sp + 1, wl, &b, &it);
        static const char *const plain[] = {"regular", "normal", "book", "roman", "medium",
                                            "light", "thin", "condensed"};
        int known = b || it;
        for (size_t k = 0; !known && k < sizeof plain / sizeof *plain; k++)
            known = strlen(plain[k]) == wl && strncasecmp(sp + 1, plain[k], wl) == 0;
        if (!known)
            break;
        bold |= b;
        italic |= it;
        fl = (size_t)(sp - name);
    }
    memcpy(fam, name, fl);
    fam[fl] = '\0';
    ts_font_match m;
    int i = ts_font_catalog_find(cat, fam, bold, italic, &m);
    *exact = m != TS_FONT_FALLBACK;
    return i;
}

void
ts_text_glyph_font_name(const ts_font_catalog *cat, int face, char *buf, size_t cap)
{
    const ts_font_info *fi = ts_font_catalog_info(cat, face);
    if (fi == NULL) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    if (fi->style && *fi->style)
        snprintf(buf, cap, "%s %s", fi->family, fi->style);
    else
        snprintf(buf, cap, "%s", fi->family);
}
