/* raster/path.c — the rasteriser object, paints, and the fill path: map coordinates to
 * pixel space, clipping in double to the whole image, conversion to 24.8 fixed point.
 *
 * Clipping follows AGG's scanline clipper: a part of an edge above or below the image is
 * dropped (it covers no row we draw), a part left of the image is moved onto x = 0 and a
 * part right of it onto x = w, keeping its height, so the cover it carries into the
 * image rows is exact. It runs in double before anything becomes an integer, so huge
 * coordinates cannot overflow. Paths inside the image skip it. The clip is always to the
 * whole image, never to a canvas's window of rows: a clip vertex is rounded to 24.8 and
 * would bend the rest of its edge, so a band would differ from the whole drawing. */
#include "raster/raster.h"
#include "raster/raster_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int
ts_raster__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap * 2 > need ? *cap * 2 : need;
    if (n < 64)
        n = 64;
    if (n > SIZE_MAX / elem)
        return -1;
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

ts_raster *
ts_raster_new(void)
{
    ts_raster *r = calloc(1, sizeof(ts_raster));
    if (r == NULL)
        return NULL;
#if defined(__x86_64__) && defined(__GNUC__)
    /* TS_RASTER_NO_AVX2 (any value) keeps the SSE2 code, e.g. to test it on a CPU with
     * AVX2; both give the same pixels */
    r->avx2 = __builtin_cpu_supports("avx2") && getenv("TS_RASTER_NO_AVX2") == NULL;
#endif
    return r;
}

void
ts_raster_free(ts_raster *r)
{
    if (r == NULL)
        return;
    free(r->cells);
    free(r->rmin);
    free(r->rmax);
    free(r->bits);
    free(r->pts);
    free(r->cnt);
    free(r->fix);
    free(r->fcnt);
    free(r->seg);
    free(r->ol);
    free(r->olc);
    free(r->cur);
    free(r->hold);
    free(r->side);
    free(r);
}

/* --- clipping ------------------------------------------------------------------------- */

typedef struct clipper {
    int32_t *out; /* 24.8 points */
    size_t n;     /* points written */
    double w, h;  /* canvas size in pixels */
    int32_t ymin, ymax;
} clipper;

static inline double
clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Append a point, clamped onto the canvas (the callers only clamp what AGG's clipper
 * would move onto the border anyway; this also keeps the conversion defined). */
static inline void
emit(clipper *k, double x, double y)
{
    int32_t fx = (int32_t)(clampd(x, 0, k->w) * TS_SUB_ONE + 0.5);
    int32_t fy = (int32_t)(clampd(y, 0, k->h) * TS_SUB_ONE + 0.5);
    k->out[2 * k->n] = fx;
    k->out[2 * k->n + 1] = fy;
    k->n++;
    if (fy < k->ymin)
        k->ymin = fy;
    if (fy > k->ymax)
        k->ymax = fy;
}

/* a -> b with both y inside [0, h]: split where it crosses x = 0 and x = w (so the parts
 * outside become vertical runs on the border), emit the crossings and b. */
static void
clip_x(clipper *k, double ax, double ay, double bx, double by)
{
    double w = k->w;
    double t0 = -1, t1 = -1; /* crossing parameters of x = 0 and x = w, -1 when none */
    if ((ax < 0) != (bx < 0))
        t0 = (0 - ax) / (bx - ax);
    if ((ax > w) != (bx > w))
        t1 = (w - ax) / (bx - ax);
    if (t0 >= 0 && t1 >= 0 && t1 < t0) {
        emit(k, w, ay + t1 * (by - ay));
        emit(k, 0, ay + t0 * (by - ay));
    } else {
        if (t0 >= 0)
            emit(k, 0, ay + t0 * (by - ay));
        if (t1 >= 0)
            emit(k, w, ay + t1 * (by - ay));
    }
    emit(k, bx, by);
}

/* The edge (x1, y1) -> (x2, y2); the clipped path's current point is already where this
 * edge's visible part starts, or on the same horizontal border (a horizontal connection
 * along y = 0 or y = h covers no row, so it needs no points). */
static void
clip_edge(clipper *k, double x1, double y1, double x2, double y2)
{
    double h = k->h;
    int f1 = y1 < 0 ? 1 : y1 > h ? 2 : 0;
    int f2 = y2 < 0 ? 1 : y2 > h ? 2 : 0;
    if (f1 & f2)
        return; /* wholly above or wholly below */
    double ax = x1, ay = y1, bx = x2, by = y2;
    if (f1) {
        ay = f1 == 1 ? 0 : h;
        ax = x1 + (ay - y1) * ((x2 - x1) / (y2 - y1));
        emit(k, ax, ay);
    }
    if (f2) {
        by = f2 == 1 ? 0 : h;
        bx = x1 + (by - y1) * ((x2 - x1) / (y2 - y1));
    }
    clip_x(k, ax, ay, bx, by);
}

ts_status
ts_raster__fill_px(ts_raster *r, ts_canvas *c, const double *xy, const uint32_t *counts,
                   uint32_t nparts, const ts_raster__box *bb, ts_fill_rule rule,
                   const ts_raster__paint *p)
{
    ts_raster__win win = ts_raster__window(c);
    double w = c->w, h = win.fh;
    /* nothing in the canvas's rows (also an empty box, whose x1 < x0): a path whose y all
     * lie at or above the window's top (or at or below its bottom) stays there in 24.8 */
    if (!(bb->x1 > 0 && bb->x0 < w && bb->y1 > win.y0 && bb->y0 < win.y1))
        return TS_OK;
    if (ts_raster__tiny_fits(c, &win, bb))
        return ts_raster__render_tiny(r, c, xy, counts, nparts, bb, rule, p);
    size_t total = 0;
    for (uint32_t k = 0; k < nparts; k++)
        total += counts[k];
    if (ts_raster__grow((void **)&r->fcnt, &r->nfcnt, nparts, sizeof *r->fcnt) != 0)
        return TS_ENOMEM;

    int inside = bb->x0 >= 0 && bb->x1 <= w && bb->y0 >= 0 && bb->y1 <= h;
    if (inside) {
        if (ts_raster__grow((void **)&r->fix, &r->nfix, total, 2 * sizeof *r->fix) != 0)
            return TS_ENOMEM;
        int32_t *out = r->fix;
        for (size_t i = 0; i < 2 * total; i++)
            out[i] = (int32_t)(xy[i] * TS_SUB_ONE + 0.5);
        memcpy(r->fcnt, counts, nparts * sizeof *counts);
        int32_t fymin = (int32_t)(bb->y0 * TS_SUB_ONE + 0.5);
        int32_t fymax = (int32_t)(bb->y1 * TS_SUB_ONE + 0.5);
        return ts_raster__render(r, c, nparts, fymin, fymax, rule, p);
    }

    /* each edge emits at most 4 points (entry, two border crossings, end), plus a start */
    if (ts_raster__grow((void **)&r->fix, &r->nfix, 4 * total + nparts,
                        2 * sizeof *r->fix) != 0)
        return TS_ENOMEM;
    clipper k;
    k.out = r->fix;
    k.n = 0;
    k.w = w;
    k.h = h;
    k.ymin = INT32_MAX;
    k.ymax = INT32_MIN;
    for (uint32_t part = 0; part < nparts; part++) {
        uint32_t n = counts[part];
        size_t start = k.n;
        if (n >= 3) {
            if (xy[1] >= 0 && xy[1] <= h)
                emit(&k, xy[0], xy[1]);
            double x0 = xy[0], y0 = xy[1];
            for (uint32_t i = 1; i <= n; i++) {
                uint32_t j = i < n ? i : 0;
                double x1 = xy[2 * j], y1 = xy[2 * j + 1];
                clip_edge(&k, x0, y0, x1, y1);
                x0 = x1;
                y0 = y1;
            }
        }
        r->fcnt[part] = (uint32_t)(k.n - start);
        xy += 2 * (size_t)n;
    }
    return ts_raster__render(r, c, nparts, k.ymin, k.ymax, rule, p);
}

/* --- fill ----------------------------------------------------------------------------- */

/* Transform the parts into r->pts, dropping NaN points and clamping huge ones; the box
 * of the result goes to *bb and its counts to *counts (the caller's, or r->cnt when
 * points were dropped). */
static ts_status
transform(ts_raster *r, const ts_affine *t, const ts_parts *parts, ts_raster__box *bb,
          const uint32_t **counts)
{
    size_t total = 0;
    for (uint32_t k = 0; k < parts->nparts; k++)
        total += parts->counts[k];
    if ((total > r->npts &&
         ts_raster__grow((void **)&r->pts, &r->npts, total, 2 * sizeof *r->pts) != 0) ||
        (parts->nparts > r->ncnt &&
         ts_raster__grow((void **)&r->cnt, &r->ncnt, parts->nparts, sizeof *r->cnt) != 0))
        return TS_ENOMEM;
    double sx = t->sx, sy = t->sy, tx = t->tx, ty = t->ty;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    const double *in = parts->xy;
    double *out = r->pts;
    /* the common case first: every point finite and not huge */
    int bad = 0;
    for (size_t i = 0; i < total; i++) {
        double x = sx * in[2 * i] + tx, y = sy * in[2 * i + 1] + ty;
        out[2 * i] = x;
        out[2 * i + 1] = y;
        bad |= !(fabs(x) <= TS_COORD_LIMIT) | !(fabs(y) <= TS_COORD_LIMIT);
        x0 = x < x0 ? x : x0;
        x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    if (!bad) {
        *counts = parts->counts;
        bb->x0 = x0;
        bb->y0 = y0;
        bb->x1 = x1;
        bb->y1 = y1;
        return TS_OK;
    }
    x0 = y0 = INFINITY;
    x1 = y1 = -INFINITY;
    for (uint32_t k = 0; k < parts->nparts; k++) {
        uint32_t n = parts->counts[k], m = 0;
        for (uint32_t i = 0; i < n; i++, in += 2) {
            double x = sx * in[0] + tx, y = sy * in[1] + ty;
            if (!(fabs(x) <= TS_COORD_LIMIT && fabs(y) <= TS_COORD_LIMIT)) {
                if (isnan(x) || isnan(y))
                    continue;
                x = clampd(x, -TS_COORD_LIMIT, TS_COORD_LIMIT);
                y = clampd(y, -TS_COORD_LIMIT, TS_COORD_LIMIT);
            }
            out[0] = x;
            out[1] = y;
            out += 2;
            m++;
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
        }
        r->cnt[k] = m;
    }
    *counts = r->cnt;
    bb->x0 = x0;
    bb->y0 = y0;
    bb->x1 = x1;
    bb->y1 = y1;
    return TS_OK;
}

ts_status
ts_raster_fill(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *rings,
               ts_fill_rule rule, ts_rgba color, double opacity)
{
    if (r == NULL || c == NULL || t == NULL || rings == NULL ||
        (rings->nparts > 0 && (rings->counts == NULL || rings->xy == NULL)))
        return TS_EINVAL;
    ts_raster__paint p;
    if (!ts_raster__paint_cached(r, 0, &p, color, opacity) || rings->nparts == 0)
        return TS_OK;
    ts_raster__box bb;
    const uint32_t *counts;
    ts_status st = transform(r, t, rings, &bb, &counts);
    if (st != TS_OK)
        return st;
    return ts_raster__fill_px(r, c, r->pts, counts, rings->nparts, &bb, rule, &p);
}
