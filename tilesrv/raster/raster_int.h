/* raster/raster_int.h — private to the raster module: the layout of the per-thread scratch
 * and the stages the module's files share.
 *
 * A path goes through these stages:
 *   map coordinates --affine--> pixel space (double)        path.c / stroke.c / marker.c
 *   [strokes: dash, cull to the image + margin, outline]    stroke.c
 *   clip to the whole image in double, convert to 24.8      path.c   (ts_raster__fill_px)
 *   accumulate exact signed area per cell, per band of rows cells.c  (ts_raster__render)
 *   resolve with the fill rule, composite source-over       cells.c
 * Everything up to the accumulation works on the whole image (ts_canvas: a canvas may be
 * a window of its rows), so no clip point, rounding or kernel choice depends on the
 * window; the accumulation and the compositing keep to the window's rows.
 *
 * Cells: one uint32 accumulator per pixel of a band row (font-rs / Blend2D style). A line
 * piece inside cell x with signed height dy (subpixels) and entry/exit x fractions fa, fb
 * adds dy * (512 - (fa + fb)) to cell x and dy * (fa + fb) to cell x + 1; the prefix sum
 * along the row is then the doubled covered area, TS_CELL_FULL for a fully covered pixel
 * (AGG's cover/area pair folded into one array). Each band row keeps the touched x range
 * [rmin, rmax] and chunks, so resolving costs the touched cells only; resolving zeroes the cells, so
 * the scratch is all zeroes again between paths and needs no memset. */
#ifndef TS_RASTER_RASTER_INT_H
#define TS_RASTER_RASTER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "raster/raster.h"

#define TS_SUB_SHIFT 8                 /* 24.8 fixed point subpixels, as AGG */
#define TS_SUB_ONE (1 << TS_SUB_SHIFT) /* subpixels per pixel */
#define TS_CELL_FULL (2 * TS_SUB_ONE * TS_SUB_ONE) /* accumulated value of a covered pixel */

/* Paths inside the whole image whose box spans less than TS_TINY_SPAN - 1 pixels each way take
 * the tiny-path kernel (cells.c), which needs TS_TINY_CELLS cells: TS_TINY_SPAN rows of
 * TS_TINY_SPAN + 2 cells rounded up to a multiple of 4. */
#define TS_TINY_SPAN 32
#define TS_TINY_CELLS (TS_TINY_SPAN * ((TS_TINY_SPAN + 2 + 3) & ~3))

/* Limit of |coordinate| in pixel space; larger finite values are clamped to it, so the
 * clipper's arithmetic never overflows. NaN points are dropped. */
#define TS_COORD_LIMIT 1e30

/* The rows a canvas shows: [y0, y1) of a whole image of fh rows (see ts_canvas; a canvas
 * built by hand with row0 = full_h = 0 is a whole image). Paths are clipped to the whole
 * image and choose their kernel by it; only the window's rows are accumulated and
 * resolved, so a window's pixels do not depend on where the window lies. */
typedef struct ts_raster__win {
    int32_t y0, y1, fh;
} ts_raster__win;

static inline ts_raster__win
ts_raster__window(const ts_canvas *c)
{
    /* no clamps (every path computes this): rows are only drawn inside both [0, fh) and
     * [y0, y1), so a negative row0 or h cannot draw outside the canvas */
    ts_raster__win v;
    v.y0 = c->row0;
    v.y1 = c->row0 + c->h;
    v.fh = c->full_h > v.y1 ? c->full_h : v.y1;
    return v;
}

/* A paint: premultiplied pixel value, and whether it is opaque (then a fully covered pixel
 * is stored, not blended). */
typedef struct ts_raster__paint {
    uint32_t px;
    int opaque;
} ts_raster__paint;

/* Axis-aligned box in pixel space: x0 <= x1, y0 <= y1 once anything was added. */
typedef struct ts_raster__box {
    double x0, y0, x1, y1;
} ts_raster__box;

struct ts_raster {
    uint32_t *cells; /* band rows x (canvas w + 2) accumulators, all zero between calls */
    size_t ncells;
    int32_t *rmin; /* per band row: first touched cell, INT32_MAX when untouched */
    int32_t *rmax; /* per band row: last touched cell, -1 when untouched */
    size_t nrows;
    uint64_t *bits; /* per band row: bitmap of touched chunks, all zero between calls */
    size_t nbits;   /* capacity in words (one per band row) */

    double *pts; /* pixel-space points of the current path (x, y pairs) */
    size_t npts; /* capacity in points */
    uint32_t *cnt; /* points per part of pts */
    size_t ncnt;

    int32_t *fix; /* the clipped path in 24.8 (x, y pairs) */
    size_t nfix;
    uint32_t *fcnt; /* points per part of fix */
    size_t nfcnt;

    double *seg; /* stroker: ux, uy, length per segment of the current polyline */
    size_t nseg;
    double *ol; /* stroke outline: pixel-space points */
    size_t nol; /* capacity in points */
    size_t olen; /* points used */
    uint32_t *olc; /* points per outline contour */
    size_t nolc;
    size_t olclen; /* contours used */
    double arc_hw;   /* stroker: half width the next two were computed for (0: none) */
    double arc_cosd; /* cos of the largest arc step */
    int arc_mpi;     /* halvings of a half turn */
    double arc_hc, arc_hs, arc_hk; /* a half turn's arc step: cos, sin, radius factor */
    double *cur; /* dash walker: the dash being built */
    size_t ncur;
    double *hold; /* dash walker: the first dash of a closed ring, joined at the end */
    size_t nhold;
    double *side; /* stroker: the right side of a closed ring, before it is reversed */
    size_t nside;
    int avx2; /* resolve tiny blocks with AVX2 (x86-64 CPUs that have it; see cells.c) */
    /* the last two paints computed (slot 0: fills, 1: outlines): a map draws feature after
     * feature with the same few colours (measured: -28 M of 2240 M instructions over the
     * z12-z14 tiles of bench/tiles.txt) */
    uint32_t pk_col[2];
    double pk_op[2];
    ts_raster__paint pk_val[2];
    int pk_ok[2]; /* ts_raster__paint_init's result; 0 also before the first use */
    int pk_set[2];
};

/* Make *p hold at least need elements of elem bytes (grows geometrically; contents kept).
 * Returns 0, or -1 when out of memory (then *p is unchanged). */
int ts_raster__grow(void **p, size_t *cap, size_t need, size_t elem);

/* Paint for colour * opacity. Returns 0 when nothing would be drawn (alpha 0). Inline:
 * every path computes its paint, and the premultiplication is a few multiplications. */
static inline int
ts_raster__paint_init(ts_raster__paint *p, ts_rgba color, double opacity)
{
    if (!(opacity > 0))
        return 0; /* also NaN */
    if (opacity > 1)
        opacity = 1;
    uint32_t a = (uint32_t)(color.a * opacity + 0.5);
    if (a == 0)
        return 0;
    /* as ts_rgba_premul */
    uint32_t r = (color.r * a + 127) / 255, g = (color.g * a + 127) / 255;
    uint32_t b = (color.b * a + 127) / 255;
    p->px = r | (g << 8) | (b << 16) | (a << 24);
    p->opaque = a == 255;
    return 1;
}

/* ts_raster__paint_init through slot k of the raster's two-entry cache (the same result). */
static inline int
ts_raster__paint_cached(ts_raster *r, int k, ts_raster__paint *p, ts_rgba color, double opacity)
{
    uint32_t col;
    memcpy(&col, &color, sizeof col);
    if (!(r->pk_set[k] && r->pk_col[k] == col && r->pk_op[k] == opacity)) {
        r->pk_ok[k] = ts_raster__paint_init(&r->pk_val[k], color, opacity);
        r->pk_col[k] = col;
        r->pk_op[k] = opacity;
        r->pk_set[k] = 1;
    }
    *p = r->pk_val[k];
    return r->pk_ok[k];
}

/* Fill pixel-space rings xy / counts / nparts (whole-image pixels), whose points all lie
 * in box bb (computed by the caller), with the rule and paint. Clips to the whole image in
 * double, converts to 24.8 and renders the canvas's rows. TS_ENOMEM leaves the canvas
 * unchanged. xy must not be r->fix. */
ts_status ts_raster__fill_px(ts_raster *r, ts_canvas *c, const double *xy, const uint32_t *counts,
                             uint32_t nparts, const ts_raster__box *bb, ts_fill_rule rule,
                             const ts_raster__paint *p);

/* Render the 24.8 rings r->fix / r->fcnt (nparts), all points inside the whole image
 * [0, w] x [0, fh] in pixels and with y in [fymin, fymax], onto c: the rows of its window
 * only, each row's cells getting the contributions they get in the whole image.
 * TS_ENOMEM leaves the canvas unchanged. */
ts_status ts_raster__render(ts_raster *r, ts_canvas *c, uint32_t nparts, int32_t fymin,
                            int32_t fymax, ts_fill_rule rule, const ts_raster__paint *p);

/* 1 when a path with box bb lies inside the whole image (win of c) and is small enough
 * for the tiny-path kernel (which draws the rows of it that lie in the canvas's window).
 * The whole image, not the window: the kernel must not depend on where a band lies. */
static inline int
ts_raster__tiny_fits(const ts_canvas *c, const ts_raster__win *win, const ts_raster__box *bb)
{
    return bb->x0 >= 0 && bb->y0 >= 0 && bb->x1 <= c->w && bb->y1 <= win->fh &&
           bb->x1 - bb->x0 < TS_TINY_SPAN - 1 && bb->y1 - bb->y0 < TS_TINY_SPAN - 1;
}

/* Fill pixel-space rings (box bb, which ts_raster__tiny_fits accepted) with the tiny-path
 * kernel: 24.8 conversion on the fly, a compact block of cells, no clipping. */
ts_status ts_raster__render_tiny(ts_raster *r, ts_canvas *c, const double *xy,
                                 const uint32_t *counts, uint32_t nparts, const ts_raster__box *bb,
                                 ts_fill_rule rule, const ts_raster__paint *p);

/* Fill rings a (rule_a, paint pa), then rings b (nonzero, paint pb), both in box bb, which
 * ts_raster__tiny_fits accepted: the pixels of two ts_raster__render_tiny calls, with the
 * two blocks of cells resolved in one sweep over the canvas. Needs 2 * TS_TINY_CELLS
 * cells. */
ts_status ts_raster__render_tiny2(ts_raster *r, ts_canvas *c, const ts_raster__box *bb,
                                  const double *xya, const uint32_t *counts_a, uint32_t nparts_a,
                                  ts_fill_rule rule_a, const ts_raster__paint *pa,
                                  const double *xyb, const uint32_t *counts_b, uint32_t nparts_b,
                                  const ts_raster__paint *pb);

/* The stroke outline of the pixel-space parts r->pts / r->cnt (nparts, consecutive
 * duplicates already removed), whose points lie in box bb, into r->ol / r->olc
 * (r->olclen contours; none when the width is not positive), its box into *ob.
 * TS_ENOMEM when the scratch cannot grow. */
ts_status ts_raster__outline(ts_raster *r, const ts_canvas *c, uint32_t nparts,
                             const ts_raster__box *bb, int closed, const ts_stroke *s,
                             ts_raster__box *ob);

/* ts_raster__outline, then fill the outline nonzero with paint p. */
ts_status ts_raster__stroke_px(ts_raster *r, ts_canvas *c, uint32_t nparts, const ts_raster__box *bb,
                               int closed, const ts_stroke *s, const ts_raster__paint *p);

/* Two doubles per operation (GCC/Clang vector extensions: SSE2 on x86-64, NEON on arm64).
 * Lane by lane the arithmetic is IEEE double as in scalar code, so a point computed as a
 * pair has the bits of its coordinates computed one by one. */
typedef double ts_raster__f64x2 __attribute__((vector_size(16)));
typedef int64_t ts_raster__i64x2 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) ts_raster__f64x2
ts_raster__ld2(const double *p)
{
    ts_raster__f64x2 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void
ts_raster__st2(double *p, ts_raster__f64x2 v)
{
    memcpy(p, &v, sizeof v);
}

/* x < m ? x : m and x > m ? x : m lane by lane (minpd / maxpd): the scalar boxes'
 * comparisons. */
static inline __attribute__((always_inline)) ts_raster__f64x2
ts_raster__min2(ts_raster__f64x2 x, ts_raster__f64x2 m)
{
    ts_raster__i64x2 lt = (ts_raster__i64x2)(x < m);
    return (ts_raster__f64x2)(((ts_raster__i64x2)x & lt) | ((ts_raster__i64x2)m & ~lt));
}

static inline __attribute__((always_inline)) ts_raster__f64x2
ts_raster__max2(ts_raster__f64x2 x, ts_raster__f64x2 m)
{
    ts_raster__i64x2 gt = (ts_raster__i64x2)(x > m);
    return (ts_raster__f64x2)(((ts_raster__i64x2)x & gt) | ((ts_raster__i64x2)m & ~gt));
}

/* fabs lane by lane. */
static inline __attribute__((always_inline)) ts_raster__f64x2
ts_raster__abs2(ts_raster__f64x2 x)
{
    return (ts_raster__f64x2)((ts_raster__i64x2)x & (ts_raster__i64x2){INT64_MAX, INT64_MAX});
}

/* Each of the four bytes of v times f / 255, rounded to nearest (f in 0..255). */
static inline uint32_t
ts_raster__scale(uint32_t v, uint32_t f)
{
    uint32_t rb = (v & 0x00ff00ffu) * f + 0x00800080u;
    uint32_t ag = ((v >> 8) & 0x00ff00ffu) * f + 0x00800080u;
    rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    ag = ((ag + ((ag >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    return rb | (ag << 8);
}

/* Premultiplied source-over: s + d * (1 - alpha(s)). Never overflows a byte, and an opaque
 * s gives s exactly. */
static inline uint32_t
ts_raster__over(uint32_t d, uint32_t s)
{
    return s + ts_raster__scale(d, 255u - (s >> 24));
}

#endif
