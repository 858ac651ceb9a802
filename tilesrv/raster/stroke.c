/* raster/stroke.c — strokes: dashing, culling to the canvas, and the outline polygon.
 *
 * The outline of a polyline is one contour: the left offset forwards, the end cap, the
 * left offset of the reversed line (the right side) and the start cap; a closed ring gives
 * two contours, one per side. Outer joins get the miter point, a bevel or an arc; inner
 * joins go through the vertex itself (p + n0, p, p + n1), or through the intersection of
 * the two offset lines when that point lies well inside both segments. Going through the
 * vertex makes the contour's winding number the sum of the windings of the pieces (one
 * rectangle per segment, one wedge per join, the caps), all positively wound, so filling
 * the outline nonzero paints exactly their union, once — also where the stroke overlaps
 * itself. All contours of one ts_raster_stroke call are filled as one path.
 *
 * Round joins and caps rotate a vector by a fixed step: the number of steps is a power of
 * two found by halving the angle (cos(a/2) = sqrt((1 + cos a) / 2)) until the step's
 * sagitta is below ARC_TOL pixels; no trigonometric call per join.
 *
 * Before stroking, parts are culled to the whole image (never to a canvas's window of
 * rows, see ts_canvas) grown by a margin wider than anything a join or cap can reach:
 * segments outside are dropped (the dash phase still advances across them), segments
 * crossing the margin are cut at it. So a street of a million pixels, or with coordinates
 * of 1e20, costs only its visible part. */
#include "raster/raster.h"
#include "raster/raster_int.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ARC_TOL 0.05 /* max distance of an arc's chord from the true circle, pixels */
#define ARC_MAX_HALVINGS 12
#define DASH_MIN_PERIOD 0.1 /* finer patterns are drawn solid */

typedef struct stroker {
    ts_raster *r;
    double hw; /* half width */
    ts_line_join join;
    ts_line_cap cap;
    double ml2;   /* miter limit squared */
    double cosd;  /* cos of the largest arc step */
    int mpi;      /* halvings that bring a half turn below the step (>= 1) */
    double hc, hs, hk; /* a half turn's arc: cos and sin of its step, radius factor */
    size_t jmax;  /* most points one join emits */
    ts_raster__box bb;
    size_t start; /* first point of the contour being built */
    int err;
} stroker;

/* --- output --------------------------------------------------------------------------- */

/* Room for n more points and 2 more contours. */
static int
reserve(stroker *st, size_t n)
{
    ts_raster *r = st->r;
    if (r->olen + n <= r->nol && r->olclen + 2 <= r->nolc)
        return 0;
    if (ts_raster__grow((void **)&r->ol, &r->nol, r->olen + n, 2 * sizeof *r->ol) != 0 ||
        ts_raster__grow((void **)&r->olc, &r->nolc, r->olclen + 2, sizeof *r->olc) != 0) {
        st->err = 1;
        return -1;
    }
    return 0;
}

static inline void
put(stroker *st, double x, double y)
{
    ts_raster *r = st->r;
    double *o = r->ol + 2 * r->olen++;
    o[0] = x;
    o[1] = y;
    /* conditional moves: the points go round the path, branches would be guesses */
    st->bb.x0 = x < st->bb.x0 ? x : st->bb.x0;
    st->bb.x1 = x > st->bb.x1 ? x : st->bb.x1;
    st->bb.y0 = y < st->bb.y0 ? y : st->bb.y0;
    st->bb.y1 = y > st->bb.y1 ? y : st->bb.y1;
}

static inline void
contour_begin(stroker *st)
{
    st->start = st->r->olen;
}

static inline void
contour_end(stroker *st)
{
    ts_raster *r = st->r;
    size_t n = r->olen - st->start;
    if (n >= 3)
        r->olc[r->olclen++] = (uint32_t)n;
    else
        r->olen = st->start;
}

/* --- joins and caps ------------------------------------------------------------------- */

/* Points strictly between p + v and p + v rotated clockwise-in-math-sense (towards -x
 * from +y) by the angle whose cosine is cth; at least 2^mmin - 1 of them. */
static void
arc(stroker *st, double px, double py, double vx, double vy, double cth, int mmin)
{
    double c = cth < -1 ? -1 : cth > 1 ? 1 : cth, s, k;
    int m = 0;
    if (c == -1 && mmin <= st->mpi) {
        /* a half turn (every round cap): the halvings below always end at mpi, with the
         * values the stroker's setup computed once for this width */
        m = st->mpi;
        c = st->hc;
        s = st->hs;
        k = st->hk;
    } else {
        while ((c < st->cosd || m < mmin) && m < st->mpi) {
            c = sqrt(0.5 * (1 + c));
            m++;
        }
        if (m == 0)
            return;
        s = sqrt(1 - c * c > 0 ? 1 - c * c : 0);
        /* intermediate points at radius k * hw, k = 2 / (1 + cos(step / 2)): the chords
         * then stray as far outside the circle at the points as inside at their middles,
         * which halves the worst error and nearly cancels the area an inscribed polygon
         * loses */
        k = 2 / (1 + sqrt(0.5 * (1 + c)));
    }
    int n = 1 << m;
    for (int i = 1; i < n; i++) {
        double nx = vx * c + vy * s;
        vy = vy * c - vx * s;
        vx = nx;
        put(st, px + vx * k, py + vy * k);
    }
}

/* The left side (normal n = (-uy, ux) * hw) of a vertex p between an incoming and an
 * outgoing segment: n0, n1 their scaled left normals, cross and dot of their directions,
 * kk = 1 / (1 + dot) (0 when dot is -1), len0 and len1 their lengths. */
static void
join(stroker *st, double px, double py, double n0x, double n0y, double n1x, double n1y,
     double cross, double dot, double kk, double len0, double len1)
{
    /* where the two offset lines meet */
    double mx = px + (n0x + n1x) * kk, my = py + (n0y + n1y) * kk;
    if (dot > 0 && fabs(cross) <= 1e-9) { /* straight on */
        put(st, mx, my);
        return;
    }
    if (cross > 0) { /* turning left: this side is the inner one */
        /* the offset lines meet at m, hw tan(turn / 2) along both segments from p. Using
         * m instead of going through p removes the loop (m, p + n0, p, p + n1), which is
         * right when that loop lies inside both segments' rectangles: m and the corners
         * p + n0, p + n1 (hw sin(turn) along the other segment) within both segments.
         * Then no region of winding 2 reaches the stroke's border there, so the area
         * accumulator does not over-count edge pixels. */
        double t = st->hw * cross, lim = len0 < len1 ? len0 : len1;
        if (t <= lim && t <= lim * (1 + dot)) {
            put(st, mx, my);
        } else {
            put(st, px + n0x, py + n0y);
            put(st, px, py);
            put(st, px + n1x, py + n1y);
        }
        return;
    }
    /* outer side. A miter needs only its point: p + n0 and p + n1 lie on the offset lines
     * between the neighbouring points and m (every point emitted next to a join lies on
     * the same offset line, no further along it than its end). Miter length / width is
     * 1 / cos(turn / 2); over the limit the miter becomes a bevel. */
    if (st->join == TS_JOIN_MITER && kk > 0 && st->ml2 * (1 + dot) >= 2) {
        put(st, mx, my);
        return;
    }
    /* a round join turning less than one arc step (no point of the arc needed): its miter
     * point, which strays outside the arc as far as the chord p + n0, p + n1 would stray
     * inside it (within the arc tolerance), one point instead of two (a finely flattened
     * curve turns a little at every vertex: a glyph's halo, a curved street) */
    if (st->join == TS_JOIN_ROUND && dot >= st->cosd && kk > 0) {
        put(st, mx, my);
        return;
    }
    put(st, px + n0x, py + n0y);
    if (st->join == TS_JOIN_ROUND)
        arc(st, px, py, n0x, n0y, dot, 0);
    put(st, px + n1x, py + n1y);
}

/* The points of the cap at end p of a line going in direction u, between p + n and p - n. */
static void
cap(stroker *st, double px, double py, double ux, double uy)
{
    double hw = st->hw, nx = -uy * hw, ny = ux * hw;
    switch (st->cap) {
    case TS_CAP_BUTT:
        break;
    case TS_CAP_SQUARE:
        put(st, px + nx + ux * hw, py + ny + uy * hw);
        put(st, px - nx + ux * hw, py - ny + uy * hw);
        break;
    case TS_CAP_ROUND:
        arc(st, px, py, nx, ny, -1, 1);
        break;
    }
}

/* A zero-length line at p (direction u): a disc for round caps, a square along u for
 * square caps, nothing for butt caps. */
static void
dot(stroker *st, double px, double py, double ux, double uy)
{
    if (st->cap == TS_CAP_BUTT || reserve(st, 4 + 2 * ((size_t)1 << st->mpi)) != 0)
        return;
    double hw = st->hw, nx = -uy * hw, ny = ux * hw;
    contour_begin(st);
    if (st->cap == TS_CAP_ROUND) {
        put(st, px + nx, py + ny);
        arc(st, px, py, nx, ny, -1, 1);
        put(st, px - nx, py - ny);
        arc(st, px, py, -nx, -ny, -1, 1);
    } else {
        double ex = ux * hw, ey = uy * hw;
        put(st, px - ex + nx, py - ey + ny);
        put(st, px - ex - nx, py - ey - ny);
        put(st, px + ex - nx, py + ey - ny);
        put(st, px + ex + nx, py + ey + ny);
    }
    contour_end(st);
}

/* --- polylines ------------------------------------------------------------------------ */

/* Per segment k of p (n points, consecutive points distinct; closed adds the segment back
 * to p[0]) into r->seg, SEGW doubles each: unit direction, length; and for vertex k (where
 * segment k - 1 ends and segment k begins) cross and dot of the two directions and
 * 1 / (1 + dot) (0 for a full turn back). */
#define SEGW 6

static int
segments(stroker *st, const double *p, uint32_t n, int closed)
{
    ts_raster *r = st->r;
    uint32_t ns = closed ? n : n - 1;
    if (SEGW * (size_t)ns > r->nseg &&
        ts_raster__grow((void **)&r->seg, &r->nseg, SEGW * (size_t)ns, sizeof *r->seg) != 0) {
        st->err = 1;
        return -1;
    }
    double *sg = r->seg;
    for (uint32_t k = 0; k < ns; k++) {
        uint32_t j = k + 1 < n ? k + 1 : 0;
        double dx = p[2 * j] - p[2 * k], dy = p[2 * j + 1] - p[2 * k + 1];
        double len = sqrt(dx * dx + dy * dy);
        double inv = len > 0 ? 1 / len : 0;
        double *g = sg + SEGW * k;
        g[0] = dx * inv;
        g[1] = dy * inv;
        g[2] = len;
    }
    for (uint32_t k = closed ? 0 : 1; k < ns; k++) {
        const double *a = sg + SEGW * (k ? k - 1 : ns - 1);
        double *g = sg + SEGW * k;
        double cross = a[0] * g[1] - a[1] * g[0], dot = a[0] * g[0] + a[1] * g[1];
        g[3] = cross;
        g[4] = dot;
        g[5] = 1 + dot > 1e-12 ? 1 / (1 + dot) : 0;
    }
    return 0;
}

/* Vertex k seen going forwards (left side) or backwards (the right side). */
static inline void
join_fwd(stroker *st, const double *p, uint32_t k, const double *a, const double *g)
{
    double hw = st->hw;
    join(st, p[2 * k], p[2 * k + 1], -a[1] * hw, a[0] * hw, -g[1] * hw, g[0] * hw, g[3], g[4],
         g[5], a[2], g[2]);
}

static inline void
join_back(stroker *st, const double *p, uint32_t k, const double *a, const double *g)
{
    double hw = st->hw;
    join(st, p[2 * k], p[2 * k + 1], g[1] * hw, -g[0] * hw, a[1] * hw, -a[0] * hw, -g[3], g[4],
         g[5], g[2], a[2]);
}

static void
stroke_open(stroker *st, const double *p, uint32_t n)
{
    if (segments(st, p, n, 0) != 0 || reserve(st, 2 * (size_t)n * st->jmax + 2 * st->jmax) != 0)
        return;
    const double *sg = st->r->seg;
    double hw = st->hw;
    contour_begin(st);
    put(st, p[0] - sg[1] * hw, p[1] + sg[0] * hw);
    for (uint32_t k = 1; k + 1 < n; k++)
        join_fwd(st, p, k, sg + SEGW * (k - 1), sg + SEGW * k);
    const double *e = sg + SEGW * (n - 2);
    double qx = p[2 * (n - 1)], qy = p[2 * (n - 1) + 1];
    put(st, qx - e[1] * hw, qy + e[0] * hw);
    cap(st, qx, qy, e[0], e[1]);
    put(st, qx + e[1] * hw, qy - e[0] * hw);
    for (uint32_t k = n - 2; k >= 1; k--)
        join_back(st, p, k, sg + SEGW * (k - 1), sg + SEGW * k);
    put(st, p[0] + sg[1] * hw, p[1] - sg[0] * hw);
    cap(st, p[0], p[1], -sg[0], -sg[1]);
    contour_end(st);
}

/* Unit direction and length of the segment a -> b, computed as segments() does. */
static inline __attribute__((always_inline)) void
seg_unit(const double *a, const double *b, double *ux, double *uy, double *len)
{
    double dx = b[0] - a[0], dy = b[1] - a[1];
    double l = sqrt(dx * dx + dy * dy);
    double inv = l > 0 ? 1 / l : 0;
    *ux = dx * inv;
    *uy = dy * inv;
    *len = l;
}

/* A closed ring with miter or bevel joins, both sides in one walk over the vertices. The
 * left side goes to the outline as stroke_closed's forward walk puts it. The right side's
 * points are gathered walking forwards, each join's points in mirror order, and appended
 * reversed: exactly the points of stroke_closed's backward walk (join() with the normals
 * negated and swapped), bit for bit.
 *
 * Every polygon outline of a tile comes here (the 0.5 px outlines of tens of thousands of
 * parcels and buildings at z12-z14), so the ring is done in three passes: the segments'
 * unit directions and lengths two at a time (sqrtpd, divpd), then per vertex, two at a
 * time, the offset lines' meeting point and join()'s tests, then the output, where the
 * common vertex (both sides take the meeting point) writes its two points without put():
 * the cursor and the box stay in registers, and the right side is written back to front
 * so it is copied in one go. Vector lanes do IEEE double arithmetic operation for operation
 * as the scalar code, so the points are the same bits. Measured over the 69 z12-z14 tiles
 * of bench/tiles.txt: stroke_ring 269 -> 237 M instructions. */
static void
stroke_ring(stroker *st, const double *p, uint32_t n)
{
    ts_raster *r = st->r;
    if (reserve(st, 6 * (size_t)n) != 0)
        return;
    if (3 * (size_t)n > r->nside &&
        ts_raster__grow((void **)&r->side, &r->nside, 3 * (size_t)n, 2 * sizeof *r->side) != 0) {
        st->err = 1;
        return;
    }
    size_t w2 = (size_t)n + 2; /* room per array */
    if (6 * w2 > r->nseg &&
        ts_raster__grow((void **)&r->seg, &r->nseg, 6 * w2, sizeof *r->seg) != 0) {
        st->err = 1;
        return;
    }
    /* Per vertex k the segment into it is a = k - 1 and the one out of it g = k: segment j
     * (point j to point j + 1, the last back to point 0) is stored at j + 1 in unit
     * direction U, V and length L, and U[0] is the last segment again (U[n + 1] the first,
     * for the pairs below). First the segments, two per vector operation, as seg_unit. */
    double *U = r->seg, *V = U + w2, *L = V + w2, *SX = L + w2, *SY = SX + w2;
    int64_t *F = (int64_t *)(void *)(SY + w2); /* all ones: the vertex's common case */
    uint32_t j0 = 0;
#ifdef __SSE2__
    for (; j0 + 1 < n; j0 += 2) {
        const double *q = p + 2 * (size_t)j0;
        ts_raster__f64x2 q0 = ts_raster__ld2(q), q1 = ts_raster__ld2(q + 2);
        ts_raster__f64x2 q2 = ts_raster__ld2(j0 + 2 < n ? q + 4 : p);
        ts_raster__f64x2 d0 = q1 - q0, d1 = q2 - q1;
        ts_raster__f64x2 dx = {d0[0], d1[0]}, dy = {d0[1], d1[1]};
        ts_raster__f64x2 l = (ts_raster__f64x2)_mm_sqrt_pd((__m128d)(dx * dx + dy * dy));
        ts_raster__f64x2 inv = 1 / l;
        inv = (ts_raster__f64x2)((ts_raster__i64x2)inv & (ts_raster__i64x2)(l > 0));
        ts_raster__st2(U + j0 + 1, dx * inv);
        ts_raster__st2(V + j0 + 1, dy * inv);
        ts_raster__st2(L + j0 + 1, l);
    }
#endif
    for (; j0 < n; j0++)
        seg_unit(p + 2 * (size_t)j0, j0 + 1 < n ? p + 2 * (size_t)j0 + 2 : p, U + j0 + 1,
                 V + j0 + 1, L + j0 + 1);
    U[0] = U[n];
    V[0] = V[n];
    L[0] = L[n];
    U[n + 1] = U[1];
    V[n + 1] = V[1];
    L[n + 1] = L[1];
    double hw = st->hw, ml2 = st->ml2;
    int miter = st->join == TS_JOIN_MITER;
    /* then per vertex, two at a time: the offset lines' meeting point s and whether both
     * sides take it (join()'s tests, lane by lane as in scalar code) */
    {
        const ts_raster__f64x2 hw2 = {hw, hw}, one = {1, 1}, zero = {0, 0};
        const ts_raster__i64x2 miter2 = {-(int64_t)miter, -(int64_t)miter};
        for (uint32_t k = 0; k < n; k += 2) {
            ts_raster__f64x2 au = ts_raster__ld2(U + k), av = ts_raster__ld2(V + k);
            ts_raster__f64x2 gu = ts_raster__ld2(U + k + 1), gv = ts_raster__ld2(V + k + 1);
            ts_raster__f64x2 al = ts_raster__ld2(L + k), gl = ts_raster__ld2(L + k + 1);
            ts_raster__f64x2 cross = au * gv - av * gu, dot = au * gu + av * gv;
            ts_raster__f64x2 opd = one + dot;
            ts_raster__f64x2 kk = one / opd;
            kk = (ts_raster__f64x2)((ts_raster__i64x2)kk & (ts_raster__i64x2)(opd > 1e-12));
            ts_raster__f64x2 sx = (-av * hw2 + -gv * hw2) * kk, sy = (au * hw2 + gu * hw2) * kk;
            ts_raster__f64x2 acr = ts_raster__abs2(cross);
            ts_raster__f64x2 t = hw2 * acr, lim = ts_raster__min2(al, gl);
            ts_raster__i64x2 inner_ok = (t <= lim) & (t <= lim * opd);
            ts_raster__i64x2 miter_ok = miter2 & (kk > zero) & (ml2 * opd >= 2);
            ts_raster__i64x2 fast = ((dot > zero) & (acr <= 1e-9)) | (inner_ok & miter_ok);
            ts_raster__st2(SX + k, sx);
            ts_raster__st2(SY + k, sy);
            memcpy(F + k, &fast, sizeof fast);
        }
    }
    /* the right side, filled from the end backwards: rs[nr..3n) in output order */
    double *rs = r->side;
    size_t nr = 3 * (size_t)n;
    ts_raster__f64x2 bmin = {st->bb.x0, st->bb.y0}, bmax = {st->bb.x1, st->bb.y1};
    contour_begin(st);
    double *o = r->ol + 2 * r->olen; /* the left side's cursor */
    for (uint32_t k = 0; k < n; k++) {
        const double *q = p + 2 * (size_t)k;
        ts_raster__f64x2 s = {SX[k], SY[k]};
        ts_raster__f64x2 pv = ts_raster__ld2(q);
        if (__builtin_expect(F[k] != 0, 1)) {
            ts_raster__f64x2 l = pv + s, rt = pv - s;
            ts_raster__st2(o, l);
            o += 2;
            nr--;
            ts_raster__st2(rs + 2 * nr, rt);
            /* as put() */
            bmin = ts_raster__min2(l, bmin);
            bmax = ts_raster__max2(l, bmax);
            bmin = ts_raster__min2(rt, bmin);
            bmax = ts_raster__max2(rt, bmax);
        } else {
            /* the general join through put(): hand it the cursor and the box (the
             * scalars again, as above) */
            double a0 = U[k], a1 = V[k], g0 = U[k + 1], g1 = V[k + 1], al = L[k], gl = L[k + 1];
            double cross = a0 * g1 - a1 * g0, dot = a0 * g0 + a1 * g1;
            double kk = 1 + dot > 1e-12 ? 1 / (1 + dot) : 0;
            double n0x = -a1 * hw, n0y = a0 * hw, n1x = -g1 * hw, n1y = g0 * hw;
            double t = hw * fabs(cross), lim = al < gl ? al : gl;
            int inner_ok = t <= lim && t <= lim * (1 + dot);
            int miter_ok = miter && kk > 0 && ml2 * (1 + dot) >= 2;
            r->olen = (size_t)(o - r->ol) / 2;
            st->bb = (ts_raster__box){bmin[0], bmin[1], bmax[0], bmax[1]};
            join(st, pv[0], pv[1], n0x, n0y, n1x, n1y, cross, dot, kk, al, gl);
            o = r->ol + 2 * r->olen;
            bmin = (ts_raster__f64x2){st->bb.x0, st->bb.y0};
            bmax = (ts_raster__f64x2){st->bb.x1, st->bb.y1};
            double px = pv[0], py = pv[1];
            double v[6];
            size_t m;
            if (cross < 0 ? inner_ok : miter_ok) { /* the right side is inner when cross < 0 */
                v[0] = px - s[0];
                v[1] = py - s[1];
                m = 1;
            } else if (cross < 0) { /* through the vertex */
                double w[6] = {px - n1x, py - n1y, px, py, px - n0x, py - n0y};
                memcpy(v, w, sizeof w);
                m = 3;
            } else { /* bevel */
                double w[4] = {px - n1x, py - n1y, px - n0x, py - n0y};
                memcpy(v, w, sizeof w);
                m = 2;
            }
            nr -= m;
            for (size_t i = 0; i < m; i++) {
                ts_raster__f64x2 u = ts_raster__ld2(v + 2 * i);
                ts_raster__st2(rs + 2 * (nr + i), u);
                bmin = ts_raster__min2(u, bmin);
                bmax = ts_raster__max2(u, bmax);
            }
        }
    }
    r->olen = (size_t)(o - r->ol) / 2;
    contour_end(st);
    contour_begin(st);
    size_t m = 3 * (size_t)n - nr;
    memcpy(r->ol + 2 * r->olen, rs + 2 * nr, 2 * m * sizeof *rs);
    r->olen += m;
    contour_end(st);
    st->bb = (ts_raster__box){bmin[0], bmin[1], bmax[0], bmax[1]};
}

static void
stroke_closed(stroker *st, const double *p, uint32_t n)
{
    if (st->join != TS_JOIN_ROUND) {
        stroke_ring(st, p, n);
        return;
    }
    if (segments(st, p, n, 1) != 0 || reserve(st, 2 * (size_t)n * st->jmax) != 0)
        return;
    const double *sg = st->r->seg;
    contour_begin(st);
    for (uint32_t k = 0; k < n; k++)
        join_fwd(st, p, k, sg + SEGW * (k ? k - 1 : n - 1), sg + SEGW * k);
    contour_end(st);
    contour_begin(st);
    for (uint32_t k = n; k-- > 0;)
        join_back(st, p, k, sg + SEGW * (k ? k - 1 : n - 1), sg + SEGW * k);
    contour_end(st);
}

/* --- dashing and culling -------------------------------------------------------------- */

typedef struct walker {
    stroker *st;
    double rx0, ry0, rx1, ry1; /* keep box: canvas grown by the margin */
    int dashed;
    double dash[2 * TS_MAX_DASH];
    int nd;
    double period, offset;
    int di;     /* current pattern entry */
    double rem; /* length left in it */
    int on;
    size_t ncur;       /* points in r->cur */
    double cux, cuy;   /* direction where the current dash began */
    int holding;       /* closed ring whose first dash began at its first point */
    int held;          /* that first dash has ended and sits in r->hold */
    size_t nhold;
    int broken;        /* a dash ended or the ring was cut */
} walker;

static inline void
dash_next(walker *w)
{
    w->di = w->di + 1 < w->nd ? w->di + 1 : 0;
    w->rem = w->dash[w->di];
    w->on = !(w->di & 1);
}

/* Move the pattern on by len pixels. */
static void
advance(walker *w, double len)
{
    /* moving by nothing changes nothing: a zero-length dash at the start ("0 12", dots with
     * round caps) is drawn, not skipped */
    if (!w->dashed || !(len > 0))
        return;
    if (len < w->rem) {
        w->rem -= len;
        return;
    }
    len -= w->rem;
    dash_next(w);
    if (len >= w->period)
        len = fmod(len, w->period);
    for (int guard = 0; len >= w->rem && guard < 4 * w->nd; guard++) {
        len -= w->rem;
        dash_next(w);
    }
    w->rem -= len;
    if (w->rem < 0)
        w->rem = 0;
}

static void
dash_reset(walker *w)
{
    w->di = 0;
    w->rem = w->dash[0];
    w->on = 1;
    advance(w, w->offset);
}

static void
cur_add(walker *w, double x, double y)
{
    ts_raster *r = w->st->r;
    if (w->ncur > 0 && r->cur[2 * w->ncur - 2] == x && r->cur[2 * w->ncur - 1] == y)
        return;
    if (ts_raster__grow((void **)&r->cur, &r->ncur, w->ncur + 1, 2 * sizeof *r->cur) != 0) {
        w->st->err = 1;
        return;
    }
    r->cur[2 * w->ncur] = x;
    r->cur[2 * w->ncur + 1] = y;
    w->ncur++;
}

static void
cur_start(walker *w, double x, double y, double ux, double uy)
{
    w->ncur = 0;
    w->cux = ux;
    w->cuy = uy;
    cur_add(w, x, y);
}

static void
stroke_poly(stroker *st, const double *p, size_t n, double ux, double uy)
{
    if (n == 1)
        dot(st, p[0], p[1], ux, uy);
    else if (n >= 2)
        stroke_open(st, p, (uint32_t)n);
}

/* The current dash is complete: stroke it, or keep it when it is the first dash of a
 * closed ring that began at the ring's start (the last dash will be joined to it). */
static void
finish(walker *w)
{
    ts_raster *r = w->st->r;
    if (w->ncur == 0)
        return;
    w->broken = 1;
    if (w->holding && !w->held) {
        if (ts_raster__grow((void **)&r->hold, &r->nhold, w->ncur, 2 * sizeof *r->hold) != 0) {
            w->st->err = 1;
            return;
        }
        memcpy(r->hold, r->cur, 2 * w->ncur * sizeof *r->cur);
        w->nhold = w->ncur;
        w->held = 1;
    } else {
        stroke_poly(w->st, r->cur, w->ncur, w->cux, w->cuy);
    }
    w->ncur = 0;
}

/* The part of segment a -> b (direction d = b - a) inside the keep box: parameters
 * [*ta, *tb] and end points e[0..3]. The end points are computed on the box border
 * itself, not as a + t * d, which would lose every digit near the canvas when a is
 * 1e20 pixels away. Returns 0 when nothing is inside. */
static int
visible(const walker *w, double ax, double ay, double bx, double by, double *ta, double *tb,
        double e[4])
{
    double dx = bx - ax, dy = by - ay;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {ax - w->rx0, w->rx1 - ax, ay - w->ry0, w->ry1 - ay};
    double border[4] = {w->rx0, w->rx1, w->ry0, w->ry1};
    double t0 = 0, t1 = 1;
    int i0 = -1, i1 = -1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0;
        } else {
            double t = q[i] / p[i];
            if (p[i] < 0) {
                if (t > t0) {
                    t0 = t;
                    i0 = i;
                }
            } else if (t < t1) {
                t1 = t;
                i1 = i;
            }
        }
    }
    if (t0 > t1)
        return 0;
    *ta = t0;
    *tb = t1;
    for (int k = 0; k < 2; k++) {
        int i = k ? i1 : i0;
        double *o = e + 2 * k;
        if (i < 0) {
            o[0] = k ? bx : ax;
            o[1] = k ? by : ay;
        } else if (i < 2) {
            o[0] = border[i];
            o[1] = ay + (border[i] - ax) * (dy / dx);
        } else {
            o[1] = border[i];
            o[0] = ax + (border[i] - ay) * (dx / dy);
        }
        o[0] = o[0] < w->rx0 ? w->rx0 : o[0] > w->rx1 ? w->rx1 : o[0];
        o[1] = o[1] < w->ry0 ? w->ry0 : o[1] > w->ry1 ? w->ry1 : o[1];
    }
    return 1;
}

/* Dash and cull one part (n >= 2 distinct consecutive points). */
static void
walk(walker *w, const double *p, uint32_t n, int closed)
{
    ts_raster *r = w->st->r;
    w->ncur = 0;
    w->holding = w->held = w->broken = 0;
    w->nhold = 0;
    if (w->dashed)
        dash_reset(w);
    else
        w->on = 1;
    uint32_t ns = closed ? n : n - 1;
    for (uint32_t k = 0; k < ns && !w->st->err; k++) {
        uint32_t j = k + 1 < n ? k + 1 : 0;
        double ax = p[2 * k], ay = p[2 * k + 1], bx = p[2 * j], by = p[2 * j + 1];
        double dx = bx - ax, dy = by - ay;
        double len = sqrt(dx * dx + dy * dy);
        if (!(len > 0))
            continue;
        double ux = dx / len, uy = dy / len, ta, tb, e[4];
        if (!visible(w, ax, ay, bx, by, &ta, &tb, e)) {
            finish(w);
            advance(w, len);
            continue;
        }
        if (ta > 0) {
            finish(w);
            advance(w, ta * len);
        }
        /* walk the visible part from its first point e[0..1], positions local to it */
        double ex = e[0], ey = e[1];
        double vlen = sqrt((e[2] - ex) * (e[2] - ex) + (e[3] - ey) * (e[3] - ey));
        double pos = 0;
        if (w->on && w->ncur == 0) {
            cur_start(w, ex, ey, ux, uy);
            if (closed && k == 0 && ta == 0)
                w->holding = 1;
        }
        if (w->dashed) {
            while (vlen - pos > w->rem) {
                pos += w->rem;
                double x = ex + ux * pos, y = ey + uy * pos;
                if (w->on) {
                    cur_add(w, x, y);
                    finish(w);
                } else {
                    cur_start(w, x, y, ux, uy);
                }
                dash_next(w);
            }
            w->rem -= vlen - pos;
        }
        if (w->on)
            cur_add(w, e[2], e[3]);
        if (tb < 1) {
            finish(w);
            advance(w, (1 - tb) * len);
        }
    }
    if (w->st->err)
        return;
    if (closed && w->holding) {
        if (!w->broken && w->ncur > 0) { /* one dash all around, never cut */
            w->ncur = 0;
            stroke_closed(w->st, p, n);
            return;
        }
        if (w->ncur > 0 && w->held) { /* the last dash runs into the first: join them */
            if (ts_raster__grow((void **)&r->cur, &r->ncur, w->ncur + w->nhold,
                                2 * sizeof *r->cur) != 0) {
                w->st->err = 1;
                return;
            }
            for (size_t i = 1; i < w->nhold; i++)
                cur_add(w, r->hold[2 * i], r->hold[2 * i + 1]);
            w->held = 0;
            w->holding = 0;
            finish(w);
            return;
        }
        finish(w);
        if (w->held)
            stroke_poly(w->st, r->hold, w->nhold, 0, 0);
        return;
    }
    finish(w);
}

/* A valid dash pattern into w (odd lists repeat once, as SVG); 0 = draw solid. */
static int
dash_setup(walker *w, const ts_stroke *s)
{
    if (s->ndash <= 0 || s->ndash > TS_MAX_DASH)
        return 0;
    double sum = 0;
    for (int i = 0; i < s->ndash; i++) {
        double d = s->dash[i];
        if (!(d >= 0) || !isfinite(d))
            return 0;
        w->dash[i] = d;
        sum += d;
    }
    w->nd = s->ndash;
    if (w->nd & 1) {
        memcpy(w->dash + w->nd, w->dash, (size_t)w->nd * sizeof *w->dash);
        w->nd *= 2;
        sum *= 2;
    }
    if (!(sum >= DASH_MIN_PERIOD) || !isfinite(sum))
        return 0;
    w->period = sum;
    double off = isfinite(s->dash_offset) ? fmod(s->dash_offset, sum) : 0;
    if (off < 0)
        off += sum;
    w->offset = off;
    return 1;
}

/* --- entry points --------------------------------------------------------------------- */

static int
box_inside(const ts_raster__box *b, const walker *w)
{
    return b->x0 >= w->rx0 && b->x1 <= w->rx1 && b->y0 >= w->ry0 && b->y1 <= w->ry1;
}

ts_status
ts_raster__outline(ts_raster *r, const ts_canvas *c, uint32_t nparts, const ts_raster__box *bb,
                   int closed, const ts_stroke *s, ts_raster__box *ob)
{
    double hw = s->width * 0.5;
    r->olen = 0;
    r->olclen = 0;
    ob->x0 = ob->y0 = INFINITY;
    ob->x1 = ob->y1 = -INFINITY;
    if (!(hw > 0) || !isfinite(hw))
        return TS_OK;
    stroker st;
    ts_raster__win win = ts_raster__window(c);
    if (closed && nparts == 1 && s->ndash <= 0 && s->join != TS_JOIN_ROUND && bb->x0 >= 0 &&
        bb->y0 >= 0 && bb->x1 <= c->w && bb->y1 <= win.fh) {
        /* one solid ring with miter or bevel joins inside the image: the outline of a
         * parcel or a building, drawn tens of thousands of times per tile at z12-z14.
         * stroke_ring as the general path below calls it (inside the image is inside the
         * keep box), with only the setup stroke_ring and join() read: no arcs (no round
         * joins), no caps, no dots (two points or more). Measured: -29 M of 2212 M
         * instructions over the z12-z14 tiles of bench/tiles.txt. */
        uint32_t n = r->cnt[0];
        const double *p = r->pts;
        while (n > 1 && p[2 * (n - 1)] == p[0] && p[2 * (n - 1) + 1] == p[1])
            n--;
        if (n >= 2) {
            double ml = s->miter_limit == 0 ? 4 : s->miter_limit;
            if (!(ml >= 0))
                ml = 4;
            st.r = r;
            st.hw = hw;
            st.join = s->join <= TS_JOIN_BEVEL ? s->join : TS_JOIN_MITER;
            st.ml2 = ml * ml;
            st.bb.x0 = st.bb.y0 = INFINITY;
            st.bb.x1 = st.bb.y1 = -INFINITY;
            st.err = 0;
            stroke_ring(&st, p, n);
            if (st.err)
                return TS_ENOMEM;
            *ob = st.bb;
            return TS_OK;
        }
    }
    st.r = r;
    st.hw = hw;
    st.join = s->join <= TS_JOIN_BEVEL ? s->join : TS_JOIN_MITER;
    st.cap = s->cap <= TS_CAP_SQUARE ? s->cap : TS_CAP_BUTT;
    double ml = s->miter_limit == 0 ? 4 : s->miter_limit;
    if (!(ml >= 0))
        ml = 4;
    st.ml2 = ml * ml;
    if (hw != r->arc_hw) { /* consecutive strokes mostly share their width */
        /* step d with hw * (1 - cos(d / 2)) = ARC_TOL: cos d = 2 (1 - tol / hw)^2 - 1 */
        double k = 1 - ARC_TOL / hw;
        double cosd = k > 0 ? 2 * k * k - 1 : -1;
        double c0 = -1;
        int mpi = 0;
        while ((c0 < cosd || mpi < 1) && mpi < ARC_MAX_HALVINGS) {
            c0 = sqrt(0.5 * (1 + c0));
            mpi++;
        }
        r->arc_hw = hw;
        r->arc_cosd = cosd;
        r->arc_mpi = mpi;
        /* arc()'s values for a half turn, computed as arc() would */
        r->arc_hc = c0;
        r->arc_hs = sqrt(1 - c0 * c0 > 0 ? 1 - c0 * c0 : 0);
        r->arc_hk = 2 / (1 + sqrt(0.5 * (1 + c0)));
    }
    st.cosd = r->arc_cosd;
    st.mpi = r->arc_mpi;
    st.hc = r->arc_hc;
    st.hs = r->arc_hs;
    st.hk = r->arc_hk;
    st.jmax = ((size_t)1 << st.mpi) + 3;
    st.bb.x0 = st.bb.y0 = INFINITY;
    st.bb.x1 = st.bb.y1 = -INFINITY;
    st.err = 0;
    r->olen = 0;
    r->olclen = 0;

    /* keep box: nothing drawn from outside it can reach the image. It is the whole image's,
     * not the canvas's window: where a part is cut changes the outline's points, and so
     * the pixels (a band would differ from the whole drawing) */
    double ext = hw;
    if (st.join == TS_JOIN_MITER && ml > 1)
        ext = hw * ml;
    if (st.cap == TS_CAP_SQUARE && ext < hw * 1.5)
        ext = hw * 1.5;
    ext += 2;
    const ts_raster__box keep = {-ext, -ext, c->w + ext, win.fh + ext};
    if (closed && s->ndash <= 0 && st.join != TS_JOIN_ROUND && bb->x0 >= keep.x0 &&
        bb->x1 <= keep.x1 && bb->y0 >= keep.y0 && bb->y1 <= keep.y1) {
        /* the common polygon outline: solid, every ring near the canvas, one pass each */
        const double *q = r->pts;
        for (uint32_t k2 = 0; k2 < nparts && !st.err; k2++) {
            uint32_t n = r->cnt[k2];
            const double *p = q;
            q += 2 * (size_t)n;
            while (n > 1 && p[2 * (n - 1)] == p[0] && p[2 * (n - 1) + 1] == p[1])
                n--;
            if (n == 1)
                dot(&st, p[0], p[1], 1, 0);
            else if (n > 1)
                stroke_ring(&st, p, n);
        }
        if (st.err)
            return TS_ENOMEM;
        *ob = st.bb;
        return TS_OK;
    }
    walker w; /* the dash table is only filled (and read) for dashed strokes */
    w.ncur = w.nhold = 0;
    w.holding = w.held = w.broken = 0;
    w.di = 0;
    w.rem = 0;
    w.on = 1;
    w.st = &st;
    w.rx0 = -ext;
    w.ry0 = -ext;
    w.rx1 = c->w + ext;
    w.ry1 = win.fh + ext;
    w.dashed = dash_setup(&w, s);
    int all_inside = box_inside(bb, &w);

    const double *pt = r->pts;
    for (uint32_t k2 = 0; k2 < nparts && !st.err; k2++) {
        uint32_t n = r->cnt[k2];
        const double *q = pt;
        pt += 2 * (size_t)n;
        if (closed)
            while (n > 1 && q[2 * (n - 1)] == q[0] && q[2 * (n - 1) + 1] == q[1])
                n--;
        if (n == 0)
            continue;
        if (n == 1) {
            if (q[0] >= w.rx0 && q[0] <= w.rx1 && q[1] >= w.ry0 && q[1] <= w.ry1)
                dot(&st, q[0], q[1], 1, 0);
            continue;
        }
        int inside = all_inside;
        if (!inside) {
            ts_raster__box pb = {INFINITY, INFINITY, -INFINITY, -INFINITY};
            for (uint32_t i = 0; i < n; i++) {
                double x = q[2 * i], y = q[2 * i + 1];
                pb.x0 = x < pb.x0 ? x : pb.x0;
                pb.x1 = x > pb.x1 ? x : pb.x1;
                pb.y0 = y < pb.y0 ? y : pb.y0;
                pb.y1 = y > pb.y1 ? y : pb.y1;
            }
            inside = box_inside(&pb, &w);
        }
        if (!w.dashed && inside) {
            if (closed)
                stroke_closed(&st, q, n);
            else
                stroke_open(&st, q, n);
        } else {
            walk(&w, q, n, closed);
        }
    }
    if (st.err)
        return TS_ENOMEM;
    *ob = st.bb;
    return TS_OK;
}

ts_status
ts_raster__stroke_px(ts_raster *r, ts_canvas *c, uint32_t nparts, const ts_raster__box *bb,
                     int closed, const ts_stroke *s, const ts_raster__paint *p)
{
    ts_raster__box ob;
    ts_status st = ts_raster__outline(r, c, nparts, bb, closed, s, &ob);
    if (st != TS_OK || r->olclen == 0)
        return st;
    return ts_raster__fill_px(r, c, r->ol, r->olc, (uint32_t)r->olclen, &ob, TS_FILL_NONZERO, p);
}

/* Transform into r->pts, dropping NaN points and consecutive duplicates (closer than
 * 1e-6 px: they have no direction). */
static ts_status
prepare(ts_raster *r, const ts_affine *t, const ts_parts *parts, ts_raster__box *bb)
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
    /* the common case first, a point per vector operation: every point finite and not huge
     * (the checks below then never fire), with the same arithmetic per coordinate.
     * Measured: 109 -> 93 M instructions over the z12-z14 tiles of bench/tiles.txt */
    {
        const ts_raster__f64x2 sv = {sx, sy}, tv = {tx, ty};
        const ts_raster__f64x2 lim = {TS_COORD_LIMIT, TS_COORD_LIMIT};
        ts_raster__f64x2 bmin = {INFINITY, INFINITY}, bmax = {-INFINITY, -INFINITY};
        ts_raster__i64x2 ok = {-1, -1};
        const double *in = parts->xy;
        double *out = r->pts;
        for (uint32_t k = 0; k < parts->nparts; k++) {
            uint32_t n = parts->counts[k], m = 0;
            ts_raster__f64x2 l = {0, 0};
            for (uint32_t i = 0; i < n; i++, in += 2) {
                ts_raster__f64x2 v = ts_raster__ld2(in) * sv + tv;
                ok &= (ts_raster__i64x2)(ts_raster__abs2(v) <= lim);
                ts_raster__f64x2 d = v - l;
                d *= d;
                if (m > 0 && d[0] + d[1] <= 1e-12)
                    continue;
                ts_raster__st2(out, v);
                out += 2;
                l = v;
                m++;
                bmin = ts_raster__min2(v, bmin);
                bmax = ts_raster__max2(v, bmax);
            }
            r->cnt[k] = m;
        }
        if ((ok[0] & ok[1]) != 0) {
            *bb = (ts_raster__box){bmin[0], bmin[1], bmax[0], bmax[1]};
            return TS_OK;
        }
    }
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    const double *in = parts->xy;
    double *out = r->pts;
    for (uint32_t k = 0; k < parts->nparts; k++) {
        uint32_t n = parts->counts[k], m = 0;
        double lx = 0, ly = 0;
        for (uint32_t i = 0; i < n; i++, in += 2) {
            double x = sx * in[0] + tx, y = sy * in[1] + ty;
            if (!(fabs(x) <= TS_COORD_LIMIT && fabs(y) <= TS_COORD_LIMIT)) {
                if (isnan(x) || isnan(y))
                    continue;
                x = x < -TS_COORD_LIMIT ? -TS_COORD_LIMIT : x > TS_COORD_LIMIT ? TS_COORD_LIMIT : x;
                y = y < -TS_COORD_LIMIT ? -TS_COORD_LIMIT : y > TS_COORD_LIMIT ? TS_COORD_LIMIT : y;
            }
            if (m > 0 && (x - lx) * (x - lx) + (y - ly) * (y - ly) <= 1e-12)
                continue;
            out[0] = lx = x;
            out[1] = ly = y;
            out += 2;
            m++;
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
        }
        r->cnt[k] = m;
    }
    bb->x0 = x0;
    bb->y0 = y0;
    bb->x1 = x1;
    bb->y1 = y1;
    return TS_OK;
}

ts_status
ts_raster_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *lines,
                 int closed, const ts_stroke *s, ts_rgba color, double opacity)
{
    if (r == NULL || c == NULL || t == NULL || lines == NULL || s == NULL ||
        (lines->nparts > 0 && (lines->counts == NULL || lines->xy == NULL)))
        return TS_EINVAL;
    ts_raster__paint p;
    if (!ts_raster__paint_cached(r, 1, &p, color, opacity) || lines->nparts == 0 ||
        !(s->width > 0))
        return TS_OK;
    ts_raster__box bb;
    ts_status st = prepare(r, t, lines, &bb);
    if (st != TS_OK)
        return st;
    return ts_raster__stroke_px(r, c, lines->nparts, &bb, closed, s, &p);
}

ts_status
ts_raster_stroke_outline(ts_raster *r, const ts_parts *parts, int closed, const ts_stroke *s,
                         const double **xy, const uint32_t **counts, uint32_t *ncontours)
{
    if (r == NULL || parts == NULL || s == NULL || xy == NULL || counts == NULL ||
        ncontours == NULL || (parts->nparts > 0 && (parts->counts == NULL || parts->xy == NULL)))
        return TS_EINVAL;
    *xy = NULL;
    *counts = NULL;
    *ncontours = 0;
    if (parts->nparts == 0 || !(s->width > 0) || !isfinite(s->width))
        return TS_OK;
    static const ts_affine identity = {1, 1, 0, 0};
    ts_raster__box bb;
    ts_status st = prepare(r, &identity, parts, &bb);
    if (st != TS_OK || !(bb.x1 >= bb.x0))
        return st;
    /* ts_raster__outline cuts what lies beyond a canvas's keep box: shift the points into
     * one that holds them all (the box reaches the stroke's width and miters beyond the
     * canvas), stroke, shift the outline back */
    double ml = s->miter_limit == 0 ? 4 : s->miter_limit;
    double ext = s->width * (ml > 2 ? ml : 2) + 4;
    double dx = ext - bb.x0, dy = ext - bb.y0;
    double w = bb.x1 - bb.x0 + 2 * ext, h = bb.y1 - bb.y0 + 2 * ext;
    if (!(w < 1e9 && h < 1e9))
        return TS_EINVAL;
    size_t np = 0;
    for (uint32_t k = 0; k < parts->nparts; k++)
        np += r->cnt[k];
    for (size_t i = 0; i < np; i++) {
        r->pts[2 * i] += dx;
        r->pts[2 * i + 1] += dy;
    }
    ts_canvas box = {.w = (int)ceil(w), .h = (int)ceil(h)};
    ts_raster__box sb = {bb.x0 + dx, bb.y0 + dy, bb.x1 + dx, bb.y1 + dy}, ob;
    st = ts_raster__outline(r, &box, parts->nparts, &sb, closed, s, &ob);
    if (st != TS_OK)
        return st;
    for (size_t i = 0; i < r->olen; i++) {
        r->ol[2 * i] -= dx;
        r->ol[2 * i + 1] -= dy;
    }
    *xy = r->ol;
    *counts = r->olc;
    *ncontours = (uint32_t)r->olclen;
    return TS_OK;
}

ts_status
ts_raster_fill_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *rings,
                      ts_fill_rule rule, ts_rgba fill, double fill_opacity, const ts_stroke *s,
                      ts_rgba stroke_color, double stroke_opacity)
{
    if (r == NULL || c == NULL || t == NULL || rings == NULL ||
        (rings->nparts > 0 && (rings->counts == NULL || rings->xy == NULL)))
        return TS_EINVAL;
    ts_raster__paint pf, ps;
    int has_fill = ts_raster__paint_cached(r, 0, &pf, fill, fill_opacity);
    int has_stroke = s != NULL && s->width > 0 &&
                     ts_raster__paint_cached(r, 1, &ps, stroke_color, stroke_opacity);
    if (rings->nparts == 0 || !(has_fill || has_stroke))
        return TS_OK;
    /* one transform for both; dropping points within 1e-6 px of the previous one does not
     * change the fill */
    ts_raster__box bb;
    ts_status st = prepare(r, t, rings, &bb);
    if (st != TS_OK)
        return st;
    uint32_t n = rings->nparts;
    if (!has_stroke)
        return ts_raster__fill_px(r, c, r->pts, r->cnt, n, &bb, rule, &pf);
    ts_raster__box ob;
    st = ts_raster__outline(r, c, n, &bb, 1, s, &ob);
    if (st != TS_OK)
        return st;
    if (!has_fill)
        return r->olclen == 0 ? TS_OK
                              : ts_raster__fill_px(r, c, r->ol, r->olc, (uint32_t)r->olclen, &ob,
                                                   TS_FILL_NONZERO, &ps);
    /* the common small polygon: both inside the canvas and tiny, one block for both */
    ts_raster__box u = {bb.x0 < ob.x0 ? bb.x0 : ob.x0, bb.y0 < ob.y0 ? bb.y0 : ob.y0,
                        bb.x1 > ob.x1 ? bb.x1 : ob.x1, bb.y1 > ob.y1 ? bb.y1 : ob.y1};
    ts_raster__win win = ts_raster__window(c);
    if (r->olclen > 0 && ts_raster__tiny_fits(c, &win, &u))
        return ts_raster__render_tiny2(r, c, &u, r->pts, r->cnt, n, rule, &pf, r->ol, r->olc,
                                       (uint32_t)r->olclen, &ps);
    st = ts_raster__fill_px(r, c, r->pts, r->cnt, n, &bb, rule, &pf);
    if (st != TS_OK || r->olclen == 0)
        return st;
    return ts_raster__fill_px(r, c, r->ol, r->olc, (uint32_t)r->olclen, &ob, TS_FILL_NONZERO, &ps);
}
