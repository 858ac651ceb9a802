/* mvt/geom.c — geometry of the open feature: clipping to the tile plus buffer (points
 * filtered, Liang–Barsky for lines, Sutherland–Hodgman for rings), rounding to integer tile
 * units, dropping duplicate and collinear vertices and degenerate parts, ring orientation,
 * and the MoveTo/LineTo/ClosePath command stream with zigzag deltas. */
#include "mvt/mvt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mvt/mvt_int.h"

#define COORD_MAX 1e15
#define CMD_MOVE 1u
#define CMD_LINE 2u
#define CMD_CLOSE 7u
#define CMD_COUNT_MAX ((1u << 29) - 1)

typedef struct clip_box {
    double lo, hi; /* the same on both axes: -buffer .. extent + buffer */
} clip_box;

static clip_box
box_of(const ts_mvt_builder *b)
{
    clip_box c = {-(double)b->o.buffer, (double)b->o.extent + (double)b->o.buffer};
    return c;
}

static int32_t
quant(double v)
{
    return (int32_t)floor(v + 0.5);
}

/* All coordinates finite and within COORD_MAX; the bbox of the points in *bb. */
static ts_status
check_coords(const double *xy, size_t n, double bb[4], ts_err *err)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (!(fabs(x) <= COORD_MAX) || !(fabs(y) <= COORD_MAX))
            return TS_FAIL(err, TS_EINVAL, "vertex %zu (%g, %g): not finite or beyond 1e15", i, x,
                           y);
        x0 = x < x0 ? x : x0;
        x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    bb[0] = x0;
    bb[1] = y0;
    bb[2] = x1;
    bb[3] = y1;
    return TS_OK;
}

static ts_status
grow_pts(ts_mvt_builder *b, size_t more, ts_err *err)
{
    mvt_open *f = &b->f;
    ts_status st =
        ts_mvt__grow(&b->mem, (void **)&f->pts, &f->pts_cap, 2 * (f->npts + more), sizeof *f->pts);
    if (st != TS_OK)
        return TS_FAIL(err, st, "feature vertices: %zu", f->npts + more);
    return TS_OK;
}

static ts_status
push_part(ts_mvt_builder *b, size_t off, size_t n, uint8_t role, ts_err *err)
{
    mvt_open *f = &b->f;
    ts_status st =
        ts_mvt__grow(&b->mem, (void **)&f->parts, &f->parts_cap, f->nparts + 1, sizeof *f->parts);
    if (st != TS_OK)
        return TS_FAIL(err, st, "feature parts: %zu", f->nparts + 1);
    if (n > CMD_COUNT_MAX)
        return TS_FAIL(err, TS_ELIMIT, "part of %zu vertices: more than a command can count", n);
    f->parts[f->nparts].off = off;
    f->parts[f->nparts].n = (uint32_t)n;
    f->parts[f->nparts].role = role;
    f->parts[f->nparts].dead = 0;
    f->nparts++;
    return TS_OK;
}

static int64_t
cross(const int32_t *a, const int32_t *p, const int32_t *c)
{
    int64_t ux = (int64_t)p[0] - a[0], uy = (int64_t)p[1] - a[1];
    int64_t vx = (int64_t)c[0] - p[0], vy = (int64_t)c[1] - p[1];
    return ux * vy - uy * vx;
}

static int64_t
dot(const int32_t *a, const int32_t *p, const int32_t *c)
{
    int64_t ux = (int64_t)p[0] - a[0], uy = (int64_t)p[1] - a[1];
    int64_t vx = (int64_t)c[0] - p[0], vy = (int64_t)c[1] - p[1];
    return ux * vx + uy * vy;
}

static int
same(const int32_t *a, const int32_t *c)
{
    return a[0] == c[0] && a[1] == c[1];
}

/* Round n points onto the end of the feature's pts, skipping consecutive duplicates and
 * dropping collinear middle vertices (for lines only those that continue in the same
 * direction; for rings any, spikes included). Returns the points kept. */
static size_t
quantise_run(mvt_open *f, const double *xy, size_t n, int ring)
{
    int32_t *o = f->pts + 2 * f->npts;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t p[2] = {quant(xy[2 * i]), quant(xy[2 * i + 1])};
        for (;;) {
            if (k >= 1 && same(o + 2 * (k - 1), p))
                break;
            if (k >= 2 && cross(o + 2 * (k - 2), o + 2 * (k - 1), p) == 0 &&
                (ring || dot(o + 2 * (k - 2), o + 2 * (k - 1), p) > 0)) {
                k--;
                continue;
            }
            o[2 * k] = p[0];
            o[2 * k + 1] = p[1];
            k++;
            break;
        }
    }
    if (!ring)
        return k;
    /* the ring closes from o[k-1] back to o[0]: the same rules across the seam */
    for (;;) {
        if (k >= 2 && same(o + 2 * (k - 1), o)) {
            k--;
            continue;
        }
        if (k >= 3 && cross(o + 2 * (k - 2), o + 2 * (k - 1), o) == 0) {
            k--;
            continue;
        }
        if (k >= 3 && cross(o + 2 * (k - 1), o, o + 2) == 0) {
            memmove(o, o + 2, sizeof *o * 2 * (k - 1));
            k--;
            continue;
        }
        break;
    }
    return k;
}

/* Twice the signed area by the surveyor's formula (positive = clockwise with y down). */
static __int128
area2(const int32_t *p, size_t n)
{
    __int128 a = 0;
    int64_t x0 = p[0], y0 = p[1];
    for (size_t i = 1; i + 1 < n; i++) {
        int64_t ax = p[2 * i] - x0, ay = p[2 * i + 1] - y0;
        int64_t bx = p[2 * i + 2] - x0, by = p[2 * i + 3] - y0;
        a += (__int128)ax * by - (__int128)bx * ay;
    }
    return a;
}

static void
reverse_ring(int32_t *p, size_t n)
{
    /* keep the first vertex first: reverse p[1..n) */
    for (size_t i = 1, j = n - 1; i < j; i++, j--) {
        int32_t tx = p[2 * i], ty = p[2 * i + 1];
        p[2 * i] = p[2 * j];
        p[2 * i + 1] = p[2 * j + 1];
        p[2 * j] = tx;
        p[2 * j + 1] = ty;
    }
}

/* ---- points ---- */

ts_status
ts_mvt__add_points(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err)
{
    mvt_open *f = &b->f;
    double bb[4];
    ts_status st = check_coords(xy, n, bb, err);
    if (st != TS_OK)
        return st;
    clip_box c = box_of(b);
    if (n == 0 || bb[2] < c.lo || bb[0] > c.hi || bb[3] < c.lo || bb[1] > c.hi)
        return TS_OK;
    if ((st = grow_pts(b, n, err)) != TS_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (x < c.lo || x > c.hi || y < c.lo || y > c.hi)
            continue;
        int32_t p[2] = {quant(x), quant(y)};
        if (f->npts > 0 && same(f->pts + 2 * (f->npts - 1), p))
            continue;
        if (f->npts >= CMD_COUNT_MAX)
            return TS_FAIL(err, TS_ELIMIT, "more than %u points in one feature", CMD_COUNT_MAX);
        f->pts[2 * f->npts] = p[0];
        f->pts[2 * f->npts + 1] = p[1];
        f->npts++;
    }
    return TS_OK;
}

/* ---- lines ---- */

static ts_status
emit_line(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err)
{
    mvt_open *f = &b->f;
    if (n < 2)
        return TS_OK;
    ts_status st = grow_pts(b, n, err);
    if (st != TS_OK)
        return st;
    size_t k = quantise_run(f, xy, n, 0);
    if (k < 2)
        return TS_OK;
    if ((st = push_part(b, f->npts, k, 0, err)) != TS_OK)
        return st;
    f->npts += k;
    return TS_OK;
}

/* Liang–Barsky: clip segment a→b to the box; 0 when nothing is left, else the parameters
 * of the visible piece in *t0 <= *t1. */
static int
clip_segment(const double *a, const double *p, clip_box c, double *t0, double *t1)
{
    double dx = p[0] - a[0], dy = p[1] - a[1];
    double pp[4] = {-dx, dx, -dy, dy};
    double qq[4] = {a[0] - c.lo, c.hi - a[0], a[1] - c.lo, c.hi - a[1]};
    double u0 = 0, u1 = 1;
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0)
                return 0;
            continue;
        }
        double r = qq[i] / pp[i];
        if (pp[i] < 0) {
            if (r > u1)
                return 0;
            if (r > u0)
                u0 = r;
        } else {
            if (r < u0)
                return 0;
            if (r < u1)
                u1 = r;
        }
    }
    *t0 = u0;
    *t1 = u1;
    return 1;
}

static double
clamp(double v, clip_box c)
{
    return v < c.lo ? c.lo : v > c.hi ? c.hi : v;
}

ts_status
ts_mvt__add_line(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err)
{
    double bb[4];
    ts_status st = check_coords(xy, n, bb, err);
    if (st != TS_OK)
        return st;
    clip_box c = box_of(b);
    if (n < 2 || bb[2] < c.lo || bb[0] > c.hi || bb[3] < c.lo || bb[1] > c.hi)
        return TS_OK;
    if (bb[0] >= c.lo && bb[2] <= c.hi && bb[1] >= c.lo && bb[3] <= c.hi)
        return emit_line(b, xy, n, err);
    /* cut into the parts inside the box, collected in d0 */
    st = ts_mvt__grow(&b->mem, (void **)&b->d0, &b->d0_cap, 2 * n, sizeof *b->d0);
    if (st != TS_OK)
        return TS_FAIL(err, st, "clip scratch for %zu vertices", n);
    double *d = b->d0;
    size_t k = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const double *a = xy + 2 * i, *p = xy + 2 * i + 2;
        double t0, t1;
        if (!clip_segment(a, p, c, &t0, &t1)) {
            if ((st = emit_line(b, d, k, err)) != TS_OK)
                return st;
            k = 0;
            continue;
        }
        double dx = p[0] - a[0], dy = p[1] - a[1];
        if (k == 0) {
            d[0] = t0 == 0 ? a[0] : clamp(a[0] + t0 * dx, c);
            d[1] = t0 == 0 ? a[1] : clamp(a[1] + t0 * dy, c);
            k = 1;
        }
        d[2 * k] = t1 == 1 ? p[0] : clamp(a[0] + t1 * dx, c);
        d[2 * k + 1] = t1 == 1 ? p[1] : clamp(a[1] + t1 * dy, c);
        k++;
        if (t1 < 1) {
            if ((st = emit_line(b, d, k, err)) != TS_OK)
                return st;
            k = 0;
        }
    }
    return emit_line(b, d, k, err);
}

/* ---- rings ---- */

/* One Sutherland–Hodgman pass: keep the side of axis (0 = x, 1 = y) where
 * v >= lim (ge = 1) or v <= lim (ge = 0). out has room for 2n points. */
static size_t
clip_pass(const double *in, size_t n, double *out, int axis, double lim, int ge)
{
    size_t k = 0;
    const double *prev = in + 2 * (n - 1);
    int pin = ge ? prev[axis] >= lim : prev[axis] <= lim;
    for (size_t i = 0; i < n; i++) {
        const double *cur = in + 2 * i;
        int cin = ge ? cur[axis] >= lim : cur[axis] <= lim;
        if (cin != pin) {
            double t = (lim - prev[axis]) / (cur[axis] - prev[axis]);
            out[2 * k + axis] = lim;
            out[2 * k + (axis ^ 1)] = prev[axis ^ 1] + t * (cur[axis ^ 1] - prev[axis ^ 1]);
            k++;
        }
        if (cin) {
            out[2 * k] = cur[0];
            out[2 * k + 1] = cur[1];
            k++;
        }
        prev = cur;
        pin = cin;
    }
    return k;
}

static ts_status
clip_ring(ts_mvt_builder *b, const double *xy, size_t n, const double **res, size_t *rn,
          ts_err *err)
{
    clip_box c = box_of(b);
    const double *in = xy;
    for (int pass = 0; pass < 4 && n > 0; pass++) {
        double **dst = pass & 1 ? &b->d1 : &b->d0;
        size_t *cap = pass & 1 ? &b->d1_cap : &b->d0_cap;
        ts_status st = ts_mvt__grow(&b->mem, (void **)dst, cap, 4 * n, sizeof **dst);
        if (st != TS_OK)
            return TS_FAIL(err, st, "clip scratch for %zu vertices", n);
        n = clip_pass(in, n, *dst, pass >> 1, pass & 1 ? c.hi : c.lo, !(pass & 1));
        in = *dst;
    }
    *res = in;
    *rn = n;
    return TS_OK;
}

ts_status
ts_mvt__add_ring(ts_mvt_builder *b, const double *xy, size_t n, int exterior, ts_err *err)
{
    mvt_open *f = &b->f;
    double bb[4];
    ts_status st = check_coords(xy, n, bb, err);
    if (st != TS_OK)
        return st;
    if (!exterior && !f->have_ext)
        return TS_FAIL(err, TS_EINVAL, "a hole before any exterior ring");
    if (exterior) {
        f->have_ext = 1;
        f->ext_alive = 0;
    } else if (!f->ext_alive) {
        return TS_OK; /* its exterior vanished */
    }
    if (n >= 2 && xy[0] == xy[2 * n - 2] && xy[1] == xy[2 * n - 1])
        n--; /* the closing point */
    clip_box c = box_of(b);
    if (n < 3 || bb[2] < c.lo || bb[0] > c.hi || bb[3] < c.lo || bb[1] > c.hi)
        return TS_OK;
    const double *in = xy;
    if (!(bb[0] >= c.lo && bb[2] <= c.hi && bb[1] >= c.lo && bb[3] <= c.hi)) {
        if ((st = clip_ring(b, xy, n, &in, &n, err)) != TS_OK)
            return st;
        if (n < 3)
            return TS_OK;
    }
    if ((st = grow_pts(b, n, err)) != TS_OK)
        return st;
    size_t k = quantise_run(f, in, n, 1);
    if (k < 3)
        return TS_OK;
    int32_t *p = f->pts + 2 * f->npts;
    __int128 a = area2(p, k);
    if (a == 0)
        return TS_OK;
    if ((exterior && a < 0) || (!exterior && a > 0))
        reverse_ring(p, k);
    if ((st = push_part(b, f->npts, k, exterior ? 1 : 2, err)) != TS_OK)
        return st;
    f->npts += k;
    if (exterior) {
        f->ext_alive = 1;
        f->ext_part = f->nparts - 1;
    }
    return TS_OK;
}

/* ---- command encoding ---- */

static double
part_length(const int32_t *p, size_t n)
{
    double s = 0;
    for (size_t i = 1; i < n; i++)
        s += hypot((double)p[2 * i] - p[2 * i - 2], (double)p[2 * i + 1] - p[2 * i - 1]);
    return s;
}

/* Polygons whose holes cover their exterior have nothing left: mark them dead. */
static void
kill_covered(mvt_open *f)
{
    for (size_t i = 0; i < f->nparts;) {
        size_t j = i + 1;
        double ext = (double)area2(f->pts + 2 * f->parts[i].off, f->parts[i].n), holes = 0;
        for (; j < f->nparts && f->parts[j].role == 2; j++)
            holes -= (double)area2(f->pts + 2 * f->parts[j].off, f->parts[j].n);
        if (holes >= ext)
            for (size_t k = i; k < j; k++)
                f->parts[k].dead = 1;
        i = j;
    }
}

ts_status
ts_mvt__encode_geom(ts_mvt_builder *b, mvt_layer *l, uint32_t *len, double *footprint, ts_err *err)
{
    mvt_open *f = &b->f;
    double px = (double)b->o.extent / 256.0;
    *len = 0;
    *footprint = 0;
    size_t nint = 0; /* command and parameter integers */
    if (f->type == TS_MVT_POINT) {
        if (f->npts == 0)
            return TS_OK;
        nint = 1 + 2 * f->npts;
        *footprint = (double)f->npts * px * px;
    } else {
        if (f->type == TS_MVT_POLYGON)
            kill_covered(f);
        for (size_t i = 0; i < f->nparts; i++) {
            const mvt_part *pt = &f->parts[i];
            if (pt->dead)
                continue;
            nint += 4 + 2 * (size_t)(pt->n - 1) + (f->type == TS_MVT_POLYGON);
            const int32_t *p = f->pts + 2 * pt->off;
            if (f->type == TS_MVT_LINE)
                *footprint += part_length(p, pt->n) * px;
            else
                *footprint += (double)area2(p, pt->n) / 2; /* holes are negative */
        }
        if (nint == 0)
            return TS_OK;
    }
    if (nint * 5 > UINT32_MAX)
        return TS_FAIL(err, TS_ELIMIT, "geometry of %zu integers", nint);
    ts_status st = ts_mvt__grow(&b->mem, (void **)&l->geom, &l->geom_cap, l->ngeom + 5 * nint, 1);
    if (st != TS_OK)
        return TS_FAIL(err, st, "geometry of %zu integers", nint);
    uint8_t *o = l->geom + l->ngeom, *start = o;
    int32_t cx = 0, cy = 0;
    if (f->type == TS_MVT_POINT) {
        o = ts_mvt__varint_put(o, CMD_MOVE | ((uint32_t)f->npts << 3));
        for (size_t i = 0; i < f->npts; i++) {
            int32_t x = f->pts[2 * i], y = f->pts[2 * i + 1];
            o = ts_mvt__varint_put(o, ts_mvt__zigzag32(x - cx));
            o = ts_mvt__varint_put(o, ts_mvt__zigzag32(y - cy));
            cx = x;
            cy = y;
        }
    } else {
        for (size_t i = 0; i < f->nparts; i++) {
            const mvt_part *pt = &f->parts[i];
            if (pt->dead)
                continue;
            const int32_t *p = f->pts + 2 * pt->off;
            for (uint32_t j = 0; j < pt->n; j++) {
                if (j <= 1)
                    o = ts_mvt__varint_put(o, j == 0 ? CMD_MOVE | (1u << 3)
                                                     : CMD_LINE | ((pt->n - 1) << 3));
                o = ts_mvt__varint_put(o, ts_mvt__zigzag32(p[2 * j] - cx));
                o = ts_mvt__varint_put(o, ts_mvt__zigzag32(p[2 * j + 1] - cy));
                cx = p[2 * j];
                cy = p[2 * j + 1];
            }
            if (f->type == TS_MVT_POLYGON)
                o = ts_mvt__varint_put(o, CMD_CLOSE | (1u << 3));
        }
    }
    *len = (uint32_t)(o - start);
    return TS_OK;
}
