/* raster/marker.c — point markers: a shape polygon in pixel space, filled nonzero and
 * outlined with the stroker as a closed ring. Shapes have radius size / 2 (the circle's
 * diameter and the square's side are size; the other shapes fit the circle of diameter
 * size). Rotation is clockwise on screen (pixel y grows downwards). */
#include "raster/raster.h"
#include "raster/raster_int.h"

#include <math.h>

#define MARK_TOL 0.05 /* max chord error of a circle marker, pixels */
#define MARK_MAX_VERTS 1024

/* Arms of the cross and the x: half thickness in radius units (1/8 of the size, the
 * proportion GeoServer's well-known "cross" uses). */
#define CROSS_HALF 0.25

static const double cross_pts[24] = {
    CROSS_HALF,  -1,          CROSS_HALF,  -CROSS_HALF, 1,           -CROSS_HALF,
    1,           CROSS_HALF,  CROSS_HALF,  CROSS_HALF,  CROSS_HALF,  1,
    -CROSS_HALF, 1,           -CROSS_HALF, CROSS_HALF,  -1,          CROSS_HALF,
    -1,          -CROSS_HALF, -CROSS_HALF, -CROSS_HALF, -CROSS_HALF, -1,
};

/* Unit shape (radius 1, up is -y) into out; returns the number of points. */
static uint32_t
shape_unit(ts_mark_shape shape, double radius_px, double *out)
{
    switch (shape) {
    case TS_MARK_SQUARE: {
        static const double sq[8] = {-1, -1, 1, -1, 1, 1, -1, 1};
        for (int i = 0; i < 8; i++)
            out[i] = sq[i];
        return 4;
    }
    case TS_MARK_TRIANGLE: {
        double s = sqrt(3.0) / 2;
        double tri[6] = {0, -1, s, 0.5, -s, 0.5};
        for (int i = 0; i < 6; i++)
            out[i] = tri[i];
        return 3;
    }
    case TS_MARK_STAR: {
        /* regular pentagram: inner radius sin 18 / sin 54 of the outer */
        double inner = sin(M_PI / 10) / sin(3 * M_PI / 10);
        for (int i = 0; i < 10; i++) {
            double a = i * M_PI / 5, rr = (i & 1) ? inner : 1;
            out[2 * i] = rr * sin(a);
            out[2 * i + 1] = -rr * cos(a);
        }
        return 10;
    }
    case TS_MARK_DIAMOND:
    case TS_MARK_PENTAGON:
    case TS_MARK_HEXAGON:
    case TS_MARK_DECAGON:
    case TS_MARK_OCTAGON: {
        uint32_t n = shape == TS_MARK_DIAMOND    ? 4
                     : shape == TS_MARK_PENTAGON ? 5
                     : shape == TS_MARK_HEXAGON  ? 6
                     : shape == TS_MARK_OCTAGON  ? 8
                                                 : 10;
        double a0 = shape == TS_MARK_OCTAGON ? M_PI / 8 : 0;
        for (uint32_t i = 0; i < n; i++) {
            double a = a0 + 2 * M_PI * i / n;
            out[2 * i] = sin(a);
            out[2 * i + 1] = -cos(a);
        }
        return n;
    }
    case TS_MARK_CROSS:
    case TS_MARK_X: {
        double k = shape == TS_MARK_X ? sqrt(0.5) : 1, s = shape == TS_MARK_X ? sqrt(0.5) : 0;
        for (int i = 0; i < 12; i++) {
            double x = cross_pts[2 * i], y = cross_pts[2 * i + 1];
            out[2 * i] = x * k - y * s;
            out[2 * i + 1] = x * s + y * k;
        }
        return 12;
    }
    case TS_MARK_CIRCLE:
    default: {
        /* n sides so that the chord error stays under MARK_TOL */
        double q = 1 - MARK_TOL / radius_px;
        uint32_t n = q > 0 ? (uint32_t)ceil(M_PI / acos(q)) : 8;
        if (n < 8)
            n = 8;
        if (n > MARK_MAX_VERTS)
            n = MARK_MAX_VERTS;
        /* vertices just outside the circle (see arc() in stroke.c): radius 2 / (1 + cos(pi/n)) */
        double k = 2 / (1 + cos(M_PI / n));
        double c = cos(2 * M_PI / n), s = sin(2 * M_PI / n), x = 0, y = -k;
        for (uint32_t i = 0; i < n; i++) {
            out[2 * i] = x;
            out[2 * i + 1] = y;
            double nx = x * c - y * s;
            y = x * s + y * c;
            x = nx;
        }
        return n;
    }
    }
}

ts_status
ts_raster_marker(ts_raster *r, ts_canvas *c, double x, double y, ts_mark_shape shape,
                 double size, double rotation_deg, ts_rgba fill, const ts_stroke *stroke,
                 ts_rgba stroke_color, double opacity)
{
    if (r == NULL || c == NULL)
        return TS_EINVAL;
    if (!(size > 0) || !isfinite(size) || !(fabs(x) <= TS_COORD_LIMIT) ||
        !(fabs(y) <= TS_COORD_LIMIT))
        return TS_OK;
    if (size > 1e6)
        size = 1e6;
    double rad = size * 0.5;
    if (ts_raster__grow((void **)&r->pts, &r->npts, MARK_MAX_VERTS, 2 * sizeof *r->pts) != 0 ||
        ts_raster__grow((void **)&r->cnt, &r->ncnt, 1, sizeof *r->cnt) != 0)
        return TS_ENOMEM;
    uint32_t n = shape_unit(shape, rad, r->pts);
    double a = isfinite(rotation_deg) ? fmod(rotation_deg, 360.0) * (M_PI / 180) : 0;
    double cs = cos(a) * rad, sn = sin(a) * rad;
    ts_raster__box bb = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = 0; i < n; i++) {
        double ux = r->pts[2 * i], uy = r->pts[2 * i + 1];
        double px = x + ux * cs - uy * sn, py = y + ux * sn + uy * cs;
        r->pts[2 * i] = px;
        r->pts[2 * i + 1] = py;
        bb.x0 = px < bb.x0 ? px : bb.x0;
        bb.x1 = px > bb.x1 ? px : bb.x1;
        bb.y0 = py < bb.y0 ? py : bb.y0;
        bb.y1 = py > bb.y1 ? py : bb.y1;
    }
    r->cnt[0] = n;
    ts_raster__paint p;
    if (fill.a > 0 && ts_raster__paint_init(&p, fill, opacity)) {
        ts_status st = ts_raster__fill_px(r, c, r->pts, r->cnt, 1, &bb, TS_FILL_NONZERO, &p);
        if (st != TS_OK)
            return st;
    }
    if (stroke != NULL && ts_raster__paint_init(&p, stroke_color, opacity))
        return ts_raster__stroke_px(r, c, 1, &bb, 1, stroke, &p);
    return TS_OK;
}
