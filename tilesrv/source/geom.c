/* source/geom.c — the flat geometry scratch (ts_flat) and what can be done to it without
 * a library: cleaning, ring orientation, hole roles and a cheap validity test that lets
 * most small polygons skip GEOSisValid. */
#include "source/source.h"
#include "source/source_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
ts_source__flat_reset(ts_flat *f, ts_geom_kind kind)
{
    f->kind = kind;
    f->npts = 0;
    f->nparts = 0;
}

void
ts_source__flat_fini(ts_flat *f)
{
    free(f->xy);
    free(f->counts);
    free(f->hole);
    memset(f, 0, sizeof *f);
}

int
ts_source__flat_reserve(ts_flat *f, size_t pts, size_t parts)
{
    if (f->npts + pts > f->cap_pts) {
        size_t cap = f->cap_pts ? f->cap_pts : 256;
        while (cap < f->npts + pts)
            cap *= 2;
        double *xy = realloc(f->xy, cap * 2 * sizeof *xy);
        if (xy == NULL)
            return -1;
        f->xy = xy;
        f->cap_pts = cap;
    }
    if (f->nparts + parts > f->cap_parts) {
        size_t cap = f->cap_parts ? f->cap_parts : 16;
        while (cap < f->nparts + parts)
            cap *= 2;
        uint32_t *c = realloc(f->counts, cap * sizeof *c);
        if (c == NULL)
            return -1;
        f->counts = c;
        uint8_t *h = realloc(f->hole, cap);
        if (h == NULL)
            return -1;
        f->hole = h;
        f->cap_parts = cap;
    }
    return 0;
}

int
ts_source__flat_add_part(ts_flat *f, const double *xy, uint32_t n, int hole)
{
    if (ts_source__flat_reserve(f, n, 1) != 0)
        return -1;
    if (n > 0)
        memcpy(f->xy + 2 * f->npts, xy, (size_t)n * 2 * sizeof *xy);
    f->npts += n;
    f->counts[f->nparts] = n;
    f->hole[f->nparts] = (uint8_t)(hole != 0);
    f->nparts++;
    return 0;
}

int
ts_source__flat_sane(const ts_flat *f)
{
    for (size_t i = 0; i < 2 * f->npts; i++) {
        double v = f->xy[i];
        /* written so that NaN fails too */
        if (!(v >= -TS_SOURCE_COORD_LIMIT && v <= TS_SOURCE_COORD_LIMIT))
            return 0;
    }
    return 1;
}

double
ts_geom_ring_area2(const double *xy, uint32_t n)
{
    if (n < 3)
        return 0;
    /* relative to the first point, for precision with large coordinates */
    double x0 = xy[0], y0 = xy[1], a = 0;
    for (uint32_t i = 1; i + 1 < n; i++) {
        double ax = xy[2 * i] - x0, ay = xy[2 * i + 1] - y0;
        double bx = xy[2 * i + 2] - x0, by = xy[2 * i + 3] - y0;
        a += ax * by - bx * ay;
    }
    return a;
}

static void
ring_reverse(double *xy, uint32_t n)
{
    for (uint32_t i = 0, j = n - 1; i < j; i++, j--) {
        double tx = xy[2 * i], ty = xy[2 * i + 1];
        xy[2 * i] = xy[2 * j];
        xy[2 * i + 1] = xy[2 * j + 1];
        xy[2 * j] = tx;
        xy[2 * j + 1] = ty;
    }
}

/* 1 inside, 0 outside, -1 on the boundary of the ring (n points, closing edge implied). */
static int
point_in_ring(double px, double py, const double *xy, uint32_t n)
{
    int in = 0;
    for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
        double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        double cross = (xj - xi) * (py - yi) - (yj - yi) * (px - xi);
        if (cross == 0 && px >= fmin(xi, xj) && px <= fmax(xi, xj) && py >= fmin(yi, yj) &&
            py <= fmax(yi, yj))
            return -1;
        if ((yi > py) != (yj > py)) {
            double x = xi + (py - yi) * (xj - xi) / (yj - yi);
            if (px < x)
                in = !in;
        }
    }
    return in;
}

void
ts_source__flat_infer_holes(ts_flat *f)
{
    size_t ext_off = 0, off = 0;
    uint32_t ext_n = 0;
    for (size_t k = 0; k < f->nparts; k++) {
        uint32_t n = f->counts[k];
        int hole = 0;
        if (k > 0 && ext_n >= 3) {
            for (uint32_t i = 0; i < n; i++) {
                int r = point_in_ring(f->xy[2 * (off + i)], f->xy[2 * (off + i) + 1],
                                      f->xy + 2 * ext_off, ext_n);
                if (r >= 0) {
                    hole = r;
                    break;
                }
            }
        }
        f->hole[k] = (uint8_t)hole;
        if (!hole) {
            ext_off = off;
            ext_n = n;
        }
        off += n;
    }
}

/* 1 when the m points lie on one line, within a millionth of the ring's extent (ext2: the
 * squared diagonal of its box): a collapsed ring or a sliver, nothing to draw. */
static int
ring_flat(const double *p, uint32_t m, double ext2)
{
    uint32_t far = 0;
    double best = -1;
    for (uint32_t i = 1; i < m; i++) {
        double dx = p[2 * i] - p[0], dy = p[2 * i + 1] - p[1], d2 = dx * dx + dy * dy;
        if (d2 > best) {
            best = d2;
            far = i;
        }
    }
    if (!(best > 0))
        return 1;
    double ux = p[2 * far] - p[0], uy = p[2 * far + 1] - p[1];
    for (uint32_t i = 1; i < m; i++) {
        double cross = (p[2 * i] - p[0]) * uy - (p[2 * i + 1] - p[1]) * ux;
        if (fabs(cross) > 1e-6 * ext2)
            return 0;
    }
    return 1;
}

size_t
ts_source__flat_clean(ts_flat *f, int *dropped)
{
    size_t src = 0, dst = 0, outp = 0;
    int skip_holes = 0;
    *dropped = 0;
    for (size_t k = 0; k < f->nparts; k++) {
        uint32_t n = f->counts[k];
        int hole = f->kind == TS_GEOM_POLYGON && f->hole[k];
        const double *in = f->xy + 2 * src;
        double *out = f->xy + 2 * dst;
        src += n;
        if (hole && skip_holes) {
            *dropped = 1;
            continue;
        }
        if (f->kind == TS_GEOM_POINT) {
            /* one part per point */
            for (uint32_t i = 0; i < n; i++) {
                f->xy[2 * dst] = in[2 * i];
                f->xy[2 * dst + 1] = in[2 * i + 1];
                dst++;
            }
            continue;
        }
        uint32_t m = 0;
        for (uint32_t i = 0; i < n; i++) {
            double x = in[2 * i], y = in[2 * i + 1];
            if (m > 0 && out[2 * (m - 1)] == x && out[2 * (m - 1) + 1] == y)
                continue;
            out[2 * m] = x;
            out[2 * m + 1] = y;
            m++;
        }
        int degenerate;
        if (f->kind == TS_GEOM_POLYGON) {
            if (m > 1 && out[0] == out[2 * (m - 1)] && out[1] == out[2 * (m - 1) + 1])
                m--;
            double a = ts_geom_ring_area2(out, m);
            /* zero area, or an area that is rounding noise for the ring's size (slivers
             * GEOS leaves behind) */
            double x0 = out[0], x1 = out[0], y0 = out[1], y1 = out[1];
            for (uint32_t i = 1; i < m; i++) {
                x0 = fmin(x0, out[2 * i]);
                x1 = fmax(x1, out[2 * i]);
                y0 = fmin(y0, out[2 * i + 1]);
                y1 = fmax(y1, out[2 * i + 1]);
            }
            double ext2 = (x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0);
            /* a ring whose lobes cancel (a bow-tie: zero net area, its points far from one
             * line) is not degenerate but self-intersecting: kept for the repair */
            degenerate = m < 3 || (!(fabs(a) > 1e-10 * ext2) && ring_flat(out, m, ext2));
            if (!degenerate && (hole ? a > 0 : a < 0))
                ring_reverse(out, m);
        } else {
            degenerate = m < 2;
        }
        if (degenerate) {
            *dropped = 1;
            if (f->kind == TS_GEOM_POLYGON && !hole)
                skip_holes = 1;
            continue;
        }
        if (f->kind == TS_GEOM_POLYGON && !hole)
            skip_holes = 0;
        f->counts[outp] = m;
        f->hole[outp] = (uint8_t)hole;
        outp++;
        dst += m;
    }
    if (f->kind == TS_GEOM_POINT) {
        /* a point per part, counts all 1 */
        if (ts_source__flat_reserve(f, 0, dst > f->nparts ? dst - f->nparts : 0) != 0) {
            /* cannot split into single-point parts: keep none rather than lie */
            *dropped = 1;
            dst = 0;
        }
        for (size_t i = 0; i < dst; i++) {
            f->counts[i] = 1;
            f->hole[i] = 0;
        }
        outp = dst;
    }
    f->npts = dst;
    f->nparts = outp;
    return outp;
}

/* Orientation of c against the line a->b: 1 left, -1 right, 0 too close to call. The
 * error bound is far above double rounding, so a nonzero answer is certain. */
static int
orient(const double *a, const double *b, const double *c)
{
    double l = (b[0] - a[0]) * (c[1] - a[1]);
    double r = (b[1] - a[1]) * (c[0] - a[0]);
    double det = l - r, bound = 1e-12 * (fabs(l) + fabs(r));
    if (det > bound)
        return 1;
    if (det < -bound)
        return -1;
    return 0;
}

/* 1 if segments ab and cd certainly do not touch. */
static int
seg_disjoint(const double *a, const double *b, const double *c, const double *d)
{
    if (fmax(a[0], b[0]) < fmin(c[0], d[0]) || fmax(c[0], d[0]) < fmin(a[0], b[0]) ||
        fmax(a[1], b[1]) < fmin(c[1], d[1]) || fmax(c[1], d[1]) < fmin(a[1], b[1]))
        return 1;
    int o1 = orient(a, b, c), o2 = orient(a, b, d);
    if (o1 != 0 && o1 == o2)
        return 1;
    int o3 = orient(c, d, a), o4 = orient(c, d, b);
    return o3 != 0 && o3 == o4;
}

#define CHEAP_MAX_RING 64
#define CHEAP_MAX_PARTS 8

/* 1 if the closed ring (n >= 3 distinct points, no repeat) is certainly simple. */
static int
ring_simple(const double *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const double *a = p + 2 * i, *b = p + 2 * ((i + 1) % n), *c = p + 2 * ((i + 2) % n);
        /* adjacent edges share b; they must not fold back onto each other */
        if (orient(a, b, c) == 0 &&
            (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) <= 0)
            return 0;
        for (uint32_t j = i + 2; j < n; j++) {
            if (i == 0 && j == n - 1)
                continue; /* adjacent through the closing edge */
            if (!seg_disjoint(a, b, p + 2 * j, p + 2 * ((j + 1) % n)))
                return 0;
        }
    }
    return 1;
}

int
ts_source__flat_cheap_valid(const ts_flat *f)
{
    if (f->kind != TS_GEOM_POLYGON || f->nparts == 0 || f->nparts > CHEAP_MAX_PARTS)
        return 0;
    ts_bbox bb[CHEAP_MAX_PARTS];
    size_t off = 0;
    for (size_t k = 0; k < f->nparts; k++) {
        uint32_t n = f->counts[k];
        const double *p = f->xy + 2 * off;
        if (f->hole[k] || n < 3 || n > CHEAP_MAX_RING || !ring_simple(p, n))
            return 0;
        bb[k] = (ts_bbox){p[0], p[1], p[0], p[1]};
        for (uint32_t i = 1; i < n; i++) {
            bb[k].minx = fmin(bb[k].minx, p[2 * i]);
            bb[k].maxx = fmax(bb[k].maxx, p[2 * i]);
            bb[k].miny = fmin(bb[k].miny, p[2 * i + 1]);
            bb[k].maxy = fmax(bb[k].maxy, p[2 * i + 1]);
        }
        for (size_t j = 0; j < k; j++)
            if (!(bb[j].maxx < bb[k].minx || bb[k].maxx < bb[j].minx || bb[j].maxy < bb[k].miny ||
                  bb[k].maxy < bb[j].miny))
                return 0;
        off += n;
    }
    return 1;
}
