/* raster/cells.c — the exact-area cell accumulator and the span compositor.
 *
 * Lines arrive in 24.8 fixed point, already clipped to the whole image [0, w] x [0, fh]
 * (AGG-style: parts left of it are clamped to x = 0 so they still carry their cover). Each
 * line is cut at pixel rows and columns, and each cell piece adds its signed exact area to
 * the dense accumulator row (see raster_int.h). Crossings are computed from the line's own
 * endpoints with one double slope per line, so no division happens per cell and a line
 * cut by a band boundary (of the scratch, or a canvas's window of rows) is cut at exactly
 * the same place as at any other row boundary: every row gets the same cells. Covers
 * telescope, so every row's covers sum exactly to the line's height: interiors are
 * exactly TS_CELL_FULL and come out as 255.
 *
 * Two drivers:
 *  - tiny paths (inside the whole image, less than TS_TINY_SPAN - 1 pixels each way: the
 *    parcels and buildings that make up most paths of a tile) accumulate into a compact
 *    block of cells the size of their box, convert to 24.8 on the fly, rasterise most
 *    lines (one row and one column crossing at most) in straight-line code and the others
 *    by walking from cell to cell, and resolve the whole box without tests (the rows of
 *    it in the canvas's window: a tiny path across a band border is drawn by this kernel
 *    in both bands, as it is in the whole image);
 *  - all other paths use canvas-wide cell rows in bands of rows. Each band row records
 *    its touched x range and a 64-bit map of touched chunks (64 cells or more each), so
 *    resolving a row visits its touched cells only: a short range directly, a long one
 *    chunk by chunk with the untouched chunks between composited as spans of constant
 *    coverage (a street crossing a row twice, 1500 px apart, costs two chunks, not 1500
 *    cells).
 * Resolving zeroes the cells, ranges and maps, so the scratch is clean for the next path. */
#include "raster/raster.h"
#include "raster/raster_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Cells per band at most (4 MiB of accumulators): a 2304-wide metatile gets ~450 rows. */
#define BAND_CELLS ((size_t)1 << 20)

typedef struct acc {
    uint32_t *cells; /* band row 0 */
    size_t stride;   /* cells per row */
    int32_t *rmin, *rmax;
    uint64_t *bits;  /* per row: bit k = chunk k (cells k << cshift ...) touched */
    int cshift;      /* log2 of the cells per chunk: 64 chunks span the row */
    int32_t row0;       /* image row of band row 0 */
    int32_t crow0;      /* canvas row of band row 0 (row0 less the window's first row) */
    int32_t ytop, ybot; /* band rows in 24.8: [ytop, ybot) */
    int avx2;           /* resolve short ranges with resolve_cells_avx2 */
} acc;

/* A piece of signed height cover whose entry and exit x fractions sum to fxsum (0..512). */
static inline __attribute__((always_inline)) void
cell_add(uint32_t *row, int32_t ex, int32_t cover, int32_t fxsum)
{
    int32_t a = cover * fxsum;
    row[ex] += (uint32_t)(cover * (2 * TS_SUB_ONE) - a);
    row[ex + 1] += (uint32_t)a;
}

/* Record that cells [lo, hi] of band row r were touched. */
static inline __attribute__((always_inline)) void
touch(acc *A, int32_t r, int32_t lo, int32_t hi)
{
    if (lo < A->rmin[r])
        A->rmin[r] = lo;
    if (hi > A->rmax[r])
        A->rmax[r] = hi;
    A->bits[r] |= (~(uint64_t)0 >> (63 - (hi >> A->cshift))) & (~(uint64_t)0 << (lo >> A->cshift));
}

static inline __attribute__((always_inline)) int32_t
clampi(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The part of a line inside band row r, from (xa, fya) to (xb, fyb), fya < fyb in 0..256
 * relative to the row. The line's y at x = X is yrow + X * dydx (relative to the row,
 * +0.5 for rounding); dydx is only read when the piece crosses a column. dir is +1 for
 * downward lines, -1 for upward ones. track: record the touched cells (band rows; the
 * tiny kernel resolves its whole block and needs no record). */
static inline __attribute__((always_inline)) void
piece(acc *A, int32_t r, int32_t xa, int32_t fya, int32_t xb, int32_t fyb, int32_t dir,
      double yrow, double dydx, const int track)
{
    uint32_t *row = A->cells + (size_t)r * A->stride;
    int32_t exa = xa >> TS_SUB_SHIFT, exb = xb >> TS_SUB_SHIFT;
    int32_t fxa = xa & (TS_SUB_ONE - 1), fxb = xb & (TS_SUB_ONE - 1);
    if (exa == exb) {
        cell_add(row, exa, (fyb - fya) * dir, fxa + fxb);
        if (track)
            touch(A, r, exa, exa + 1);
        return;
    }
    /* as cell_add per cell, but what a cell passes to its right neighbour is held in a
     * register until that cell is written (one store per cell, no store-to-load chain):
     * a piece of height c crossing a whole cell adds c * 256 to it and to the next */
    int32_t y = fya, yn;
    const int32_t two = 2 * TS_SUB_ONE;
    if (xb > xa) {
        if (track)
            touch(A, r, exa, exb + 1);
        double X = (double)((exa + 1) << TS_SUB_SHIFT);
        yn = clampi((int32_t)(yrow + X * dydx), y, fyb);
        int32_t c = (yn - y) * dir;
        row[exa] += (uint32_t)(c * (two - (fxa + TS_SUB_ONE)));
        uint32_t carry = (uint32_t)(c * (fxa + TS_SUB_ONE)); /* for the cell on the right */
        y = yn;
        for (int32_t ex = exa + 1; ex < exb; ex++) {
            X += TS_SUB_ONE;
            yn = clampi((int32_t)(yrow + X * dydx), y, fyb);
            uint32_t v = (uint32_t)((yn - y) * dir * TS_SUB_ONE);
            row[ex] += carry + v;
            carry = v;
            y = yn;
        }
        c = (fyb - y) * dir;
        row[exb] += carry + (uint32_t)(c * (two - fxb));
        row[exb + 1] += (uint32_t)(c * fxb);
    } else {
        if (track)
            touch(A, r, exb, exa + 1);
        double X = (double)(exa << TS_SUB_SHIFT);
        yn = clampi((int32_t)(yrow + X * dydx), y, fyb);
        int32_t c = (yn - y) * dir;
        row[exa + 1] += (uint32_t)(c * fxa);
        uint32_t own = (uint32_t)(c * (two - fxa)); /* for this cell, written with the
                                                      * next one's share */
        y = yn;
        for (int32_t ex = exa - 1; ex > exb; ex--) {
            X -= TS_SUB_ONE;
            yn = clampi((int32_t)(yrow + X * dydx), y, fyb);
            uint32_t v = (uint32_t)((yn - y) * dir * TS_SUB_ONE);
            row[ex + 1] += own + v;
            own = v;
            y = yn;
        }
        c = (fyb - y) * dir;
        row[exb + 1] += own + (uint32_t)(c * (TS_SUB_ONE + fxb));
        row[exb] += (uint32_t)(c * (TS_SUB_ONE - fxb));
    }
}

/* The line (x0, y0) -> (x1, y1) in 24.8: cut at pixel rows, each row's piece cut at
 * columns. band = 1: only the part in band rows [ytop, ybot), touched cells recorded;
 * band = 0 (the tiny kernel): the whole line, block rows from 0, nothing recorded. */
static inline __attribute__((always_inline)) void
line_cells(acc *A, int32_t x0, int32_t y0, int32_t x1, int32_t y1, const int band)
{
    int32_t dir = 1;
    if (y0 == y1)
        return;
    if (y0 > y1) {
        int32_t t = x0;
        x0 = x1;
        x1 = t;
        t = y0;
        y0 = y1;
        y1 = t;
        dir = -1;
    }
    int32_t ya = y0, yb = y1, row0 = 0;
    if (band) {
        if (y1 <= A->ytop || y0 >= A->ybot)
            return;
        ya = y0 > A->ytop ? y0 : A->ytop;
        yb = y1 < A->ybot ? y1 : A->ybot;
        row0 = A->row0;
    }
    int32_t dx = x1 - x0, dy = y1 - y0;
    double lx0 = x0, ly0 = y0;
    int32_t ey = ya >> TS_SUB_SHIFT, eyl = (yb - 1) >> TS_SUB_SHIFT;
    /* dxdy for row crossings, dydx for column crossings (only when the line crosses a
     * column): one division gives both */
    double dydx = 0, dxdy, ybase = 0;
    if ((x0 >> TS_SUB_SHIFT) != (x1 >> TS_SUB_SHIFT)) {
        double inv = 1.0 / ((double)dx * (double)dy);
        dydx = (double)dy * (double)dy * inv;
        dxdy = (double)dx * (double)dx * inv;
        ybase = ly0 - lx0 * dydx + 0.5; /* y at x = X: ybase + X * dydx */
    } else {
        dxdy = (double)dx / (double)dy;
    }
    if (ey == eyl && ya == y0 && yb == y1) {
        int32_t top = ey << TS_SUB_SHIFT;
        piece(A, ey - row0, x0, ya - top, x1, yb - top, dir, ybase - top, dydx, band);
        return;
    }
    /* x of the line at y = Y: xbase + Y * dxdy (absolute, >= 0, so +0.5 and truncation
     * round to nearest) */
    double xbase = lx0 - ly0 * dxdy + 0.5;
    int32_t xa = ya == y0 ? x0 : (int32_t)(xbase + (double)ya * dxdy);
    int32_t xe = yb == y1 ? x1 : (int32_t)(xbase + (double)yb * dxdy);
    int32_t top = ey << TS_SUB_SHIFT;
    if (ey == eyl) {
        piece(A, ey - row0, xa, ya - top, xe, yb - top, dir, ybase - top, dydx, band);
        return;
    }
    if (dx == 0) { /* vertical: one cell per row */
        int32_t ex = x0 >> TS_SUB_SHIFT, fx2 = (x0 & (TS_SUB_ONE - 1)) * 2;
        for (; ey <= eyl; ey++, top += TS_SUB_ONE) {
            int32_t fa = ya > top ? ya - top : 0;
            int32_t fb = yb < top + TS_SUB_ONE ? yb - top : TS_SUB_ONE;
            int32_t r = ey - row0;
            cell_add(A->cells + (size_t)r * A->stride, ex, (fb - fa) * dir, fx2);
            if (band)
                touch(A, r, ex, ex + 1);
        }
        return;
    }
    int32_t Y = top + TS_SUB_ONE;
    int32_t xn = (int32_t)(xbase + (double)Y * dxdy);
    piece(A, ey - row0, xa, ya - top, xn, TS_SUB_ONE, dir, ybase - top, dydx, band);
    for (ey++; ey < eyl; ey++) {
        xa = xn;
        xn = (int32_t)(xbase + (double)(Y + TS_SUB_ONE) * dxdy);
        piece(A, ey - row0, xa, 0, xn, TS_SUB_ONE, dir, ybase - Y, dydx, band);
        Y += TS_SUB_ONE;
    }
    piece(A, eyl - row0, xn, 0, xe, yb - Y, dir, ybase - Y, dydx, band);
}

/* The line (x0, y0) -> (x1, y1) in 24.8, restricted to the band rows [ytop, ybot). */
static void
band_line(acc *A, int32_t x0, int32_t y0, int32_t x1, int32_t y1)
{
    line_cells(A, x0, y0, x1, y1, 1);
}

/* Coverage 0..255 of an accumulated value under the fill rule. */
static inline __attribute__((always_inline)) uint32_t
coverage(uint32_t accv, const int evenodd)
{
    uint32_t a = (accv & 0x80000000u) ? 0u - accv : accv;
    if (evenodd) {
        a &= 2u * TS_CELL_FULL - 1u;
        if (a > TS_CELL_FULL)
            a = 2u * TS_CELL_FULL - a;
    } else if (a > TS_CELL_FULL) {
        a = TS_CELL_FULL;
    }
    return (a * 255u + TS_CELL_FULL / 2) >> 17;
}

/* One pixel d under paint px at coverage cov (1..255). An opaque paint is interpolated in
 * one rounding step (d + (px - d) * cov / 255); a translucent one is scaled by the
 * coverage, then composited source-over. */
static inline __attribute__((always_inline)) uint32_t
blend1(uint32_t d, uint32_t px, uint32_t cov, const int opaque)
{
    if (opaque) {
        uint32_t ic = 255u - cov;
        uint32_t rb = (px & 0x00ff00ffu) * cov + (d & 0x00ff00ffu) * ic + 0x00800080u;
        uint32_t ag = ((px >> 8) & 0x00ff00ffu) * cov + ((d >> 8) & 0x00ff00ffu) * ic + 0x00800080u;
        rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
        ag = ((ag + ((ag >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
        return rb | (ag << 8);
    }
    return ts_raster__over(d, cov == 255 ? px : ts_raster__scale(px, cov));
}

/* Four pixels stored at once (GCC/Clang vector extension; unaligned). */
typedef uint32_t px4 __attribute__((vector_size(16), aligned(4)));

/* Composite n pixels of constant coverage cov (1..255). Interior runs of large shapes
 * land here: solid fills store 4 pixels at a time, blends work on 2 pixels per 64-bit
 * word (four 16-bit lanes: 255 * 255 + 255 fits). */
static inline __attribute__((always_inline)) void
span(uint32_t *dst, int32_t n, uint32_t cov, const int opaque, uint32_t px)
{
    int32_t i = 0;
    if (cov == 255 && opaque) {
        px4 v = {px, px, px, px};
        for (; i + 4 <= n; i += 4)
            *(px4 *)(dst + i) = v;
        for (; i < n; i++)
            dst[i] = px;
        return;
    }
    uint32_t s = cov == 255 ? px : ts_raster__scale(px, cov);
    uint64_t ia = 255u - (s >> 24);
    uint64_t s2 = s | (uint64_t)s << 32;
    const uint64_t m = 0x00ff00ff00ff00ffull, h = 0x0080008000800080ull;
    for (; i + 2 <= n; i += 2) {
        uint64_t d;
        memcpy(&d, dst + i, 8);
        uint64_t rb = (d & m) * ia + h, ag = ((d >> 8) & m) * ia + h;
        rb = ((rb + ((rb >> 8) & m)) >> 8) & m;
        ag = ((ag + ((ag >> 8) & m)) >> 8) & m;
        d = s2 + (rb | (ag << 8));
        memcpy(dst + i, &d, 8);
    }
    if (i < n)
        dst[i] = s + ts_raster__scale(dst[i], (uint32_t)ia);
}

/* --- four pixels at a time -------------------------------------------------------------
 * GCC/Clang vector extensions (SSE2 on x86-64, NEON on arm64). The arithmetic is exactly
 * coverage() and blend1() lane by lane, so both resolvers give the same pixels. Colours
 * use the same trick as ts_raster__scale: the R,B and the G,A bytes of each pixel sit in
 * 16-bit lanes, where x * y + 0x80 (x, y <= 255) cannot overflow. */

typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) u32x4
load4(const uint32_t *p)
{
    u32x4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void
store4(uint32_t *p, u32x4 v)
{
    memcpy(p, &v, sizeof v);
}

/* Running sum along 4 accumulators, continuing *carry (all lanes = the sum so far). */
static inline __attribute__((always_inline)) u32x4
prefix4(u32x4 v, u32x4 *carry)
{
    const u32x4 z = {0, 0, 0, 0};
    /* __builtin_shufflevector: GCC (12+) and clang alike (the fuzz builds are clang) */
    v += __builtin_shufflevector(v, z, 4, 0, 1, 2);
    v += __builtin_shufflevector(v, z, 4, 5, 0, 1);
    v += *carry;
    *carry = __builtin_shufflevector(v, v, 3, 3, 3, 3);
    return v;
}

/* coverage() of 4 accumulated values. */
static inline __attribute__((always_inline)) u32x4
coverage4(u32x4 a, const int evenodd)
{
    const u32x4 full = {TS_CELL_FULL, TS_CELL_FULL, TS_CELL_FULL, TS_CELL_FULL};
    u32x4 s = (u32x4)((i32x4)a >> 31);
    a = (a ^ s) - s;
    if (evenodd) {
        a &= 2u * TS_CELL_FULL - 1u;
        u32x4 m = (u32x4)(a > full);
        a = (a & ~m) | ((2u * full - a) & m);
    } else {
        u32x4 m = (u32x4)(a > full);
        a = (a & ~m) | (full & m);
    }
    return ((a << 8) - a + TS_CELL_FULL / 2) >> 17; /* a * 255 without a 32-bit multiply */
}

/* (x + 0x80) / 255 per 16-bit lane, rounded to nearest, for x <= 255 * 255; <= 255. */
static inline __attribute__((always_inline)) u16x8
div255(u16x8 r)
{
    r += 0x80;
    return (r + (r >> 8)) >> 8;
}

/* A paint split into its R,B and G,A lanes, 4 pixels wide. */
typedef struct paint4 {
    u16x8 rb, ag;
} paint4;

static inline __attribute__((always_inline)) paint4
paint4_of(uint32_t px)
{
    const u32x4 m = {0x00ff00ffu, 0x00ff00ffu, 0x00ff00ffu, 0x00ff00ffu};
    u32x4 p = {px, px, px, px};
    return (paint4){(u16x8)(p & m), (u16x8)((p >> 8) & m)};
}

/* blend1() of 4 pixels d at coverages cov (0..255). */
static inline __attribute__((always_inline)) u32x4
blend4(u32x4 d, u32x4 cov, const paint4 *p, const int opaque)
{
    const u32x4 m = {0x00ff00ffu, 0x00ff00ffu, 0x00ff00ffu, 0x00ff00ffu};
    u16x8 c = (u16x8)(cov | cov << 16);
    u16x8 drb = (u16x8)(d & m), dag = (u16x8)((d >> 8) & m);
    if (opaque) {
        u16x8 ic = 255 - c;
        u32x4 rb = (u32x4)div255(p->rb * c + drb * ic);
        u32x4 ag = (u32x4)div255(p->ag * c + dag * ic);
        return rb | ag << 8;
    }
    u32x4 s = (u32x4)div255(p->rb * c) | (u32x4)div255(p->ag * c) << 8;
    u32x4 ia = 255 - (s >> 24);
    u16x8 ia16 = (u16x8)(ia | ia << 16);
    return s + ((u32x4)div255(drb * ia16) | (u32x4)div255(dag * ia16) << 8);
}

/* Resolve cells [x0, x1] of a row onto dst (x1 inside the canvas), zeroing them, carrying
 * the accumulated value in *accv; every cell is blended, without tests (coverage 0 leaves
 * a pixel exactly as it was). For short ranges. Four at a time, the last four reaching
 * past x1 as long as they stay within the canvas (pixels up to xq): the cells after a
 * row's last touched one are zero and its cells sum to zero (every line crossing the row
 * is part of a closed contour), so those pixels get coverage 0 and stay as they were, and
 * a range of 2 or 3 cells (a thin line's row) costs one quad instead of 2 or 3 pixels
 * (measured: -3 % of the rasteriser's instructions at z15-z18). */
static inline __attribute__((always_inline)) void
resolve_cells(uint32_t *d, uint32_t *dst, int32_t x0, int32_t x1, int32_t xq, uint32_t *accv,
              const int evenodd, const int opaque, uint32_t px)
{
    uint32_t a = *accv;
    int32_t x = x0;
    if (x0 + 3 <= xq) {
        const u32x4 z = {0, 0, 0, 0};
        paint4 p = paint4_of(px);
        u32x4 carry = {a, a, a, a};
        for (; x <= x1 && x + 3 <= xq; x += 4) {
            u32x4 v = prefix4(load4(d + x), &carry);
            store4(d + x, z);
            store4(dst + x, blend4(load4(dst + x), coverage4(v, evenodd), &p, opaque));
        }
        a = carry[0];
    }
    for (; x <= x1; x++) {
        a += d[x];
        d[x] = 0;
        dst[x] = blend1(dst[x], px, coverage(a, evenodd), opaque);
    }
    *accv = a;
}

/* As resolve_cells for a long range (a chunk): runs of zero cells keep the coverage and
 * become one span each, skipped when the coverage is 0. */
static inline __attribute__((always_inline)) void
resolve_runs(uint32_t *d, uint32_t *dst, int32_t x0, int32_t x1, uint32_t *accv,
             const int evenodd, const int opaque, uint32_t px)
{
    uint32_t a = *accv;
    int32_t x = x0;
    while (x <= x1) {
        a += d[x];
        d[x] = 0;
        int32_t xe = x + 1;
        while (xe + 7 <= x1) { /* the run of zero cells after x: eight cells per test, */
            uint64_t q[4];
            memcpy(q, d + xe, sizeof q);
            if ((q[0] | q[1] | q[2] | q[3]) != 0)
                break;
            xe += 8;
        }
        for (;;) { /* then two */
            uint64_t two;
            if (xe + 1 > x1)
                break;
            memcpy(&two, d + xe, 8);
            if (two != 0)
                break;
            xe += 2;
        }
        if (xe <= x1 && d[xe] == 0)
            xe++;
        uint32_t cov = coverage(a, evenodd);
        if (cov != 0)
            span(dst + x, xe - x, cov, opaque, px);
        x = xe;
    }
    *accv = a;
}

#if defined(__x86_64__) && defined(__GNUC__)
static void resolve_cells_avx2(uint32_t *d, uint32_t *dst, int32_t x0, int32_t x1, int32_t xq,
                               int evenodd, int opaque, uint32_t px);
#endif

/* Resolve one band row: its touched range directly when short (a thin line crossing the
 * row), else chunk by chunk through its bitmap, untouched chunks between as spans. */
static inline __attribute__((always_inline)) void
resolve_row(acc *A, int32_t r, uint32_t *dst, int32_t wlast, const int evenodd,
            const int opaque, uint32_t px)
{
    int32_t x0 = A->rmin[r], x1 = A->rmax[r];
    A->rmin[r] = INT32_MAX;
    A->rmax[r] = -1;
    uint32_t *d = A->cells + (size_t)r * A->stride;
    uint64_t word = A->bits[r];
    A->bits[r] = 0;
    uint32_t accv = 0;
    int32_t xe1 = x1 < wlast ? x1 : wlast; /* last cell on the canvas */
    if (x1 - x0 < 32) {
        if (x0 <= xe1) {
#if defined(__x86_64__) && defined(__GNUC__)
            if (A->avx2) {
                resolve_cells_avx2(d, dst, x0, xe1, wlast, evenodd, opaque, px);
            } else {
                resolve_cells(d, dst, x0, xe1, wlast, &accv, evenodd, opaque, px);
            }
#else
            resolve_cells(d, dst, x0, xe1, wlast, &accv, evenodd, opaque, px);
#endif
        }
        for (int32_t i = xe1 + 1 > x0 ? xe1 + 1 : x0; i <= x1; i++)
            d[i] = 0;
        return;
    }
    int32_t x = x0; /* first cell not yet resolved */
    while (word != 0) {
        int32_t k = __builtin_ctzll(word);
        word &= word - 1;
        int32_t cs = k << A->cshift, ce = ((k + 1) << A->cshift) - 1;
        if (cs < x)
            cs = x;
        if (ce > x1)
            ce = x1;
        if (cs > ce)
            continue;
        if (cs > x && x <= wlast) { /* untouched chunks between: constant coverage */
            uint32_t cov = coverage(accv, evenodd);
            int32_t e = cs - 1 < wlast ? cs - 1 : wlast;
            if (cov != 0)
                span(dst + x, e - x + 1, cov, opaque, px);
        }
        if (cs <= wlast)
            resolve_runs(d, dst, cs, ce < wlast ? ce : wlast, &accv, evenodd, opaque, px);
        for (int32_t i = wlast + 1 > cs ? wlast + 1 : cs; i <= ce; i++)
            d[i] = 0;
        x = ce + 1;
    }
}

#define PREFETCH_ROWS 32

/* Ask for the canvas pixels at both ends of band row r's touched range. */
static inline void
prefetch_row(const acc *A, const ts_canvas *c, int32_t r, int32_t wlast)
{
    int32_t x0 = A->rmin[r], x1 = A->rmax[r];
    if (x1 < 0 || x0 > wlast)
        return;
    const uint32_t *row = c->px + (size_t)(A->crow0 + r) * (size_t)c->stride;
    __builtin_prefetch(row + x0, 1);
    __builtin_prefetch(row + (x1 < wlast ? x1 : wlast), 1);
}

static void
resolve_band(acc *A, ts_canvas *c, int32_t nrows, int evenodd, const ts_raster__paint *p)
{
    int32_t wlast = c->w - 1;
    /* a line down a large canvas touches a new cache line of the canvas in every row:
     * ask for the rows a few ahead so their misses overlap */
    for (int32_t r = 0; r < PREFETCH_ROWS && r < nrows; r++)
        prefetch_row(A, c, r, wlast);
    for (int32_t r = 0; r < nrows; r++) {
        if (r + PREFETCH_ROWS < nrows)
            prefetch_row(A, c, r + PREFETCH_ROWS, wlast);
        if (A->rmax[r] < 0)
            continue;
        uint32_t *dst = c->px + (size_t)(A->crow0 + r) * (size_t)c->stride;
        if (evenodd) {
            if (p->opaque)
                resolve_row(A, r, dst, wlast, 1, 1, p->px);
            else
                resolve_row(A, r, dst, wlast, 1, 0, p->px);
        } else {
            if (p->opaque)
                resolve_row(A, r, dst, wlast, 0, 1, p->px);
            else
                resolve_row(A, r, dst, wlast, 0, 0, p->px);
        }
    }
}

/* The per-band-row state: nrows rows of cells (all zero), ranges and bitmaps (empty). */
static int
reserve_cells(ts_raster *r, size_t ncells, size_t nrows, size_t nbits)
{
    if (r->ncells < ncells) {
        /* the old cells are all zero: no need to keep them */
        size_t n = r->ncells * 2 > ncells ? r->ncells * 2 : ncells;
        uint32_t *cells = calloc(n, sizeof *cells);
        if (cells == NULL)
            return -1;
        free(r->cells);
        r->cells = cells;
        r->ncells = n;
    }
    if (r->nbits < nbits) {
        size_t n = r->nbits * 2 > nbits ? r->nbits * 2 : nbits;
        uint64_t *bits = calloc(n, sizeof *bits);
        if (bits == NULL)
            return -1;
        free(r->bits);
        r->bits = bits;
        r->nbits = n;
    }
    if (r->nrows < nrows) {
        size_t n = r->nrows * 2 > nrows ? r->nrows * 2 : nrows;
        int32_t *rmin = malloc(n * sizeof *rmin);
        int32_t *rmax = malloc(n * sizeof *rmax);
        if (rmin == NULL || rmax == NULL) {
            free(rmin);
            free(rmax);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            rmin[i] = INT32_MAX;
            rmax[i] = -1;
        }
        free(r->rmin);
        free(r->rmax);
        r->rmin = rmin;
        r->rmax = rmax;
        r->nrows = n;
    }
    return 0;
}

static void
band_lines(acc *A, const int32_t *xy, const uint32_t *counts, uint32_t nparts)
{
    for (uint32_t k = 0; k < nparts; k++) {
        uint32_t n = counts[k];
        if (n >= 2) {
            int32_t px0 = xy[2 * (n - 1)], py0 = xy[2 * (n - 1) + 1];
            for (uint32_t i = 0; i < n; i++) {
                int32_t px1 = xy[2 * i], py1 = xy[2 * i + 1];
                band_line(A, px0, py0, px1, py1);
                px0 = px1;
                py0 = py1;
            }
        }
        xy += 2 * (size_t)n;
    }
}

ts_status
ts_raster__render(ts_raster *r, ts_canvas *c, uint32_t nparts, int32_t fymin, int32_t fymax,
                  ts_fill_rule rule, const ts_raster__paint *p)
{
    ts_raster__win win = ts_raster__window(c);
    if (fymax <= fymin || c->w <= 0 || win.y1 <= win.y0)
        return TS_OK;
    /* the path's rows inside the window: band_line cuts a line at a band's first and last
     * row boundary with the formula it uses for every row boundary, so these rows get the
     * cells they get when the whole image is drawn */
    int32_t row_lo = fymin >> TS_SUB_SHIFT, row_hi = (fymax - 1) >> TS_SUB_SHIFT;
    if (row_lo < win.y0)
        row_lo = win.y0;
    if (row_hi > win.y1 - 1)
        row_hi = win.y1 - 1;
    if (row_hi < row_lo)
        return TS_OK;
    size_t stride = (size_t)c->w + 2;
    int cshift = 6; /* chunks of 64 cells or more, 64 chunks per row at most */
    while ((stride - 1) >> cshift >= 64)
        cshift++;
    int32_t nrows = row_hi - row_lo + 1;
    int32_t band = nrows;
    if ((size_t)band * stride > BAND_CELLS) {
        band = (int32_t)(BAND_CELLS / stride);
        if (band < 1)
            band = 1;
    }
    if (reserve_cells(r, (size_t)band * stride, (size_t)band, (size_t)band) != 0)
        return TS_ENOMEM;

    acc A;
    A.cells = r->cells;
    A.stride = stride;
    A.rmin = r->rmin;
    A.rmax = r->rmax;
    A.bits = r->bits;
    A.cshift = cshift;
    A.avx2 = r->avx2;
    int evenodd = rule == TS_FILL_EVENODD;
    for (int32_t b0 = row_lo; b0 <= row_hi; b0 += band) {
        int32_t b1 = b0 + band - 1 < row_hi ? b0 + band - 1 : row_hi;
        A.row0 = b0;
        A.crow0 = b0 - win.y0;
        A.ytop = b0 << TS_SUB_SHIFT;
        A.ybot = (b1 + 1) << TS_SUB_SHIFT;
        band_lines(&A, r->fix, r->fcnt, nparts);
        resolve_band(&A, c, b1 - b0 + 1, evenodd, p);
    }
    return TS_OK;
}

/* --- tiny paths ----------------------------------------------------------------------- */

/* The part of a tiny-kernel line inside column ex, from (xs, ys) to (xe, ye), ys <= ye:
 * one cell per row, the x at each row boundary from the line's x = xbase + Y * dxdy
 * (clamped to the column). dir is the line's original direction. */
static inline __attribute__((always_inline)) void
column_run(acc *A, int32_t ex, int32_t xs, int32_t ys, int32_t xe, int32_t ye, int32_t dir,
           double xbase, double dxdy)
{
    if (ys >= ye)
        return;
    int32_t base = ex << TS_SUB_SHIFT;
    size_t stride = A->stride;
    uint32_t *row = A->cells + (size_t)(ys >> TS_SUB_SHIFT) * stride;
    int32_t x = xs, y = ys;
    for (int32_t Y = ((ys >> TS_SUB_SHIFT) + 1) << TS_SUB_SHIFT; Y < ye;
         Y += TS_SUB_ONE, row += stride) {
        int32_t xn = clampi((int32_t)(xbase + (double)Y * dxdy), base, base + TS_SUB_ONE);
        cell_add(row, ex, (Y - y) * dir, (x - base) + (xn - base));
        x = xn;
        y = Y;
    }
    cell_add(row, ex, (ye - y) * dir, (x - base) + (xe - base));
}

/* A tiny-kernel line crossing more than one row or more than one column boundary, given
 * downwards (y0 < y1; dir its original direction) with its first and last columns exa,
 * exb and the number of row and column boundaries it crosses. One division gives the
 * slopes; then: within one column, one cell per row; within one or two rows, one piece
 * per row cut at columns; across one column boundary, a column run on each side of it;
 * otherwise the band rows' cutter. Not inlined: one copy with few live registers. */
static __attribute__((noinline)) void
tiny_line(acc *A, int32_t x0, int32_t y0, int32_t x1, int32_t y1, int32_t dir, int32_t exa,
          int32_t exb, int32_t nrow, int32_t ncol)
{
    int32_t dx = x1 - x0, dy = y1 - y0;
    if (ncol == 0) { /* x at y = Y: xbase + Y * dxdy (>= 0: +0.5 and truncation round) */
        double dxdy = (double)dx / (double)dy;
        column_run(A, exa, x0, y0, x1, y1, dir, (double)x0 - (double)y0 * dxdy + 0.5, dxdy);
        return;
    }
    double inv = 1.0 / ((double)dx * (double)dy);
    double dxdy = (double)dx * (double)dx * inv, dydx = (double)dy * (double)dy * inv;
    double xbase = (double)x0 - (double)y0 * dxdy + 0.5;
    double ybase = (double)y0 - (double)x0 * dydx + 0.5; /* y at x = X: ybase + X * dydx */
    int32_t ey0 = y0 >> TS_SUB_SHIFT, top = ey0 << TS_SUB_SHIFT;
    if (nrow == 0) {
        piece(A, ey0, x0, y0 - top, x1, y1 - top, dir, ybase - top, dydx, 0);
        return;
    }
    if (nrow == 1) {
        int32_t yr = top + TS_SUB_ONE;
        int32_t xr = (int32_t)(xbase + (double)yr * dxdy);
        xr = dx > 0 ? clampi(xr, x0, x1) : clampi(xr, x1, x0);
        piece(A, ey0, x0, y0 - top, xr, TS_SUB_ONE, dir, ybase - top, dydx, 0);
        piece(A, ey0 + 1, xr, 0, x1, y1 - yr, dir, ybase - yr, dydx, 0);
        return;
    }
    if (ncol == 1) {
        int32_t xc = (dx > 0 ? exb : exa) << TS_SUB_SHIFT;
        int32_t yc = clampi((int32_t)(ybase + (double)xc * dydx), y0, y1);
        column_run(A, exa, x0, y0, xc, yc, dir, xbase, dxdy);
        column_run(A, exb, xc, yc, x1, y1, dir, xbase, dxdy);
        return;
    }
    if (dir > 0) /* line_cells orients the line itself */
        line_cells(A, x0, y0, x1, y1, 0);
    else
        line_cells(A, x1, y1, x0, y0, 0);
}

/* A tiny-kernel line within one column ex, down (y0 < y1) across two or more row
 * boundaries (the long sides of tall shapes); row points at its first row. tiny_line's
 * column case with its arithmetic: x at y = Y is xbase + Y * dxdy (>= 0, so +0.5 and
 * truncation round), clamped to the column. Whole rows have the cover 256 * dir, so
 * cell_add's two products share a constant, and (double)Y is stepped (exactly: integers).
 * Measured: 160 -> 148 M instructions over the z12-z14 tiles, -1.5 % CPU time. */
static __attribute__((noinline)) void
tiny_column(uint32_t *row, size_t stride, int32_t ex, int32_t x0, int32_t y0, int32_t x1,
            int32_t y1, int32_t dir)
{
    double dxdy = (double)(x1 - x0) / (double)(y1 - y0);
    double xbase = (double)x0 - (double)y0 * dxdy + 0.5;
    int32_t base = ex << TS_SUB_SHIFT, base2 = 2 * base;
    /* the first piece, down to the first row boundary Y */
    int32_t Y = ((y0 >> TS_SUB_SHIFT) + 1) << TS_SUB_SHIFT;
    double Yd = (double)Y; /* (double)Y, stepped exactly */
    int32_t x = clampi((int32_t)(xbase + Yd * dxdy), base, base + TS_SUB_ONE);
    cell_add(row, ex, (Y - y0) * dir, x0 + x - base2);
    /* whole rows: cover 256 * dir, so cell_add's products share a constant */
    const int32_t c = TS_SUB_ONE * dir;
    const uint32_t k = (uint32_t)(c * (2 * TS_SUB_ONE));
    for (Y += TS_SUB_ONE, Yd += TS_SUB_ONE, row += stride; Y < y1;
         Y += TS_SUB_ONE, Yd += TS_SUB_ONE, row += stride) {
        int32_t xn = clampi((int32_t)(xbase + Yd * dxdy), base, base + TS_SUB_ONE);
        uint32_t a = (uint32_t)(c * (x + xn - base2));
        row[ex] += k - a;
        row[ex + 1] += a;
        x = xn;
    }
    cell_add(row, ex, (y1 - (Y - TS_SUB_ONE)) * dir, x + x1 - base2);
}

/* The common tiny line: at most one row boundary and one column boundary crossed, so at
 * most three cell pieces, in straight-line code (the crossings are ordered by their y,
 * which grows along the line). Others go to tiny_line. */
static inline __attribute__((always_inline)) void
tiny_line_short(acc *A, int32_t x0, int32_t y0, int32_t x1, int32_t y1)
{
    int32_t dir = 1;
    if (y0 > y1) {
        int32_t t = x0;
        x0 = x1;
        x1 = t;
        t = y0;
        y0 = y1;
        y1 = t;
        dir = -1;
    }
    int32_t dx = x1 - x0, dy = y1 - y0;
    int32_t ey0 = y0 >> TS_SUB_SHIFT, nrow = ((y1 - 1) >> TS_SUB_SHIFT) - ey0;
    /* first and last cell: going left from a cell's left edge starts in the cell to the
     * left; ending on a cell's left edge going right ends in the cell to the left */
    int32_t exa = dx >= 0 ? x0 >> TS_SUB_SHIFT : (x0 - 1) >> TS_SUB_SHIFT;
    int32_t exb = dx > 0 ? (x1 - 1) >> TS_SUB_SHIFT : dx < 0 ? x1 >> TS_SUB_SHIFT : exa;
    int32_t ncol = dx >= 0 ? exb - exa : exa - exb;
    if ((nrow | ncol) > 1) {
        if (ncol == 0) {
            tiny_column(A->cells + (size_t)ey0 * A->stride, A->stride, exa, x0, y0, x1, y1, dir);
            return;
        }
        tiny_line(A, x0, y0, x1, y1, dir, exa, exb, nrow, ncol);
        return;
    }
    size_t stride = A->stride;
    uint32_t *row = A->cells + (size_t)ey0 * stride;
    int32_t ba = exa << TS_SUB_SHIFT, bb = exb << TS_SUB_SHIFT;
    if (nrow == 0 && ncol == 0) {
        cell_add(row, exa, dy * dir, (x0 - ba) + (x1 - ba));
        return;
    }
    int32_t Yr = (ey0 + 1) << TS_SUB_SHIFT; /* the row boundary */
    if (ncol == 0) {
        int32_t xr = (int32_t)((double)x0 + (double)(Yr - y0) * dx / dy + 0.5);
        xr = clampi(xr, ba, ba + TS_SUB_ONE);
        cell_add(row, exa, (Yr - y0) * dir, (x0 - ba) + (xr - ba));
        cell_add(row + stride, exa, (y1 - Yr) * dir, (xr - ba) + (x1 - ba));
        return;
    }
    int32_t Xc = dx > 0 ? bb : ba; /* the column boundary */
    int32_t yc = (int32_t)((double)y0 + (double)(Xc - x0) * dy / dx + 0.5);
    yc = clampi(yc, y0, y1);
    if (nrow == 0) {
        cell_add(row, exa, (yc - y0) * dir, (x0 - ba) + (Xc - ba));
        cell_add(row, exb, (y1 - yc) * dir, (Xc - bb) + (x1 - bb));
        return;
    }
    int32_t xr = (int32_t)((double)x0 + (double)(Yr - y0) * dx / dy + 0.5);
    if (yc < Yr) { /* the column first, then the row */
        xr = clampi(xr, bb, bb + TS_SUB_ONE);
        cell_add(row, exa, (yc - y0) * dir, (x0 - ba) + (Xc - ba));
        cell_add(row, exb, (Yr - yc) * dir, (Xc - bb) + (xr - bb));
        cell_add(row + stride, exb, (y1 - Yr) * dir, (xr - bb) + (x1 - bb));
    } else { /* the row first, then the column */
        xr = clampi(xr, ba, ba + TS_SUB_ONE);
        yc = yc > Yr ? yc : Yr;
        cell_add(row, exa, (Yr - y0) * dir, (x0 - ba) + (xr - ba));
        cell_add(row + stride, exa, (yc - Yr) * dir, (xr - ba) + (Xc - ba));
        cell_add(row + stride, exb, (y1 - yc) * dir, (Xc - bb) + (x1 - bb));
    }
}

typedef double f64x2 __attribute__((vector_size(16)));
typedef int32_t i32x2 __attribute__((vector_size(8)));

/* Accumulate the rings into the block of cells whose pixel (0, 0) is canvas pixel
 * (ox, oy) (every point at or right of / below it). The points are converted to 24.8
 * first, two coordinates per instruction, into fix (room for all of them). */
static void
tiny_accumulate(acc *A, int32_t *fix, const double *xy, const uint32_t *counts,
                uint32_t nparts, size_t total, int32_t ox, int32_t oy)
{
    const f64x2 o = {(double)ox, (double)oy};
    for (size_t i = 0; i < total; i++) {
        f64x2 v;
        memcpy(&v, xy + 2 * i, sizeof v);
        i32x2 q = __builtin_convertvector((v - o) * TS_SUB_ONE + 0.5, i32x2);
        memcpy(fix + 2 * i, &q, sizeof q);
    }
    const int32_t *p = fix;
    for (uint32_t k = 0; k < nparts; k++) {
        uint32_t n = counts[k];
        if (n >= 3) {
            int32_t px0 = p[2 * (n - 1)], py0 = p[2 * (n - 1) + 1];
            for (uint32_t i = 0; i < n; i++) {
                int32_t px1 = p[2 * i], py1 = p[2 * i + 1];
                if (((px0 ^ px1) | (py0 ^ py1)) < TS_SUB_ONE) {
                    /* both ends in one cell, the most common line of tiny shapes: one
                     * piece, whose signed height is the cover (no orientation needed) */
                    cell_add(A->cells + (size_t)(py0 >> TS_SUB_SHIFT) * A->stride,
                             px0 >> TS_SUB_SHIFT, py1 - py0,
                             (px0 & (TS_SUB_ONE - 1)) + (px1 & (TS_SUB_ONE - 1)));
                } else if (py1 != py0) {
                    tiny_line_short(A, px0, py0, px1, py1);
                }
                px0 = px1;
                py0 = py1;
            }
        }
        p += 2 * (size_t)n;
    }
}

/* A block of cells (rows stride cells apart) lands on the canvas with block pixel (i, j)
 * on canvas pixel (ox + i, cy + j) (cy < 0: the block starts above the canvas's window).
 * Its rows [jlo, jhi) lie in the window and are composited; the others (above or below
 * the window, or the row just past the image's last one) are only cleared. */

/* Clear the block rows outside [jlo, jhi) of bh. */
static inline __attribute__((always_inline)) void
tiny_clear_outside(uint32_t *cells, size_t stride, int32_t jlo, int32_t jhi, int32_t bh)
{
    for (int32_t j = 0; j < jlo; j++)
        memset(cells + (size_t)j * stride, 0, stride * sizeof *cells);
    for (int32_t j = jhi; j < bh; j++)
        memset(cells + (size_t)j * stride, 0, stride * sizeof *cells);
}

/* Resolve the block, one pixel at a time: its rows in the window, bw pixels each (cw of
 * them on the canvas). For blocks that end on the canvas's right edge. */
static void
tiny_resolve(uint32_t *cells, size_t stride, ts_canvas *c, int32_t ox, int32_t cy, int32_t bw,
             int32_t bh, int32_t jlo, int32_t jhi, const int evenodd, const int opaque,
             uint32_t px)
{
    /* a box ending exactly on the canvas's right edge (x1 = w) includes a column just
     * outside the canvas: it holds no coverage, and is never composited */
    int32_t cw = c->w - ox < bw ? c->w - ox : bw;
    tiny_clear_outside(cells, stride, jlo, jhi, bh);
    for (int32_t j = jlo; j < jhi; j++) {
        uint32_t *d = cells + (size_t)j * stride;
        uint32_t *dst = c->px + (size_t)(cy + j) * (size_t)c->stride + ox;
        uint32_t a = 0;
        for (int32_t i = 0; i < cw; i++) {
            a += d[i];
            d[i] = 0;
            /* no test: blending at coverage 0 leaves the pixel exactly as it was, and for
             * random tiny shapes a test here is a coin flip for the branch predictor */
            dst[i] = blend1(dst[i], px, coverage(a, evenodd), opaque);
        }
        for (int32_t i = cw; i < bw + 2; i++)
            d[i] = 0;
    }
}

/* Round n up to a multiple of 4. */
static inline int32_t
up4(int32_t n)
{
    return (n + 3) & ~3;
}

/* The block's rows: stride cells, a multiple of 4 with room for the two cells past the box
 * that the accumulator may touch. */
static inline size_t
tiny_stride(int32_t bw)
{
    return (size_t)up4(bw + 2);
}

/* As tiny_resolve, four pixels at a time. The canvas must have up4(bw) pixels from ox on
 * (the pixels past the box get coverage 0 and are left as they were: every row of cells of
 * a closed path sums to 0). */
static inline __attribute__((always_inline)) void
tiny_resolve4(uint32_t *cells, size_t stride, ts_canvas *c, int32_t ox, int32_t cy, int32_t bw,
              int32_t bh, int32_t jlo, int32_t jhi, const int evenodd, const int opaque,
              uint32_t px)
{
    tiny_clear_outside(cells, stride, jlo, jhi, bh);
    paint4 p = paint4_of(px);
    const u32x4 z = {0, 0, 0, 0};
    int32_t n = up4(bw);
    size_t cs = (size_t)c->stride;
    uint32_t *d = cells + (size_t)jlo * stride;
    for (int32_t j = jlo; j < jhi; j++, d += stride) {
        uint32_t *dst = c->px + (size_t)(cy + j) * cs + ox;
        u32x4 carry = z;
        for (int32_t i = 0; i < n; i += 4) {
            u32x4 a = prefix4(load4(d + i), &carry);
            store4(d + i, z);
            store4(dst + i, blend4(load4(dst + i), coverage4(a, evenodd), &p, opaque));
        }
        if (n < bw + 2) /* the cells past the box */
            store4(d + n, z);
    }
}

/* Two blocks resolved in one sweep, a (rule evenodd_a, paint pa) then b (nonzero, paint
 * pb) composited per pixel: the pixels of tiny_resolve4(a) followed by tiny_resolve4(b),
 * with one pass over the canvas. */
static inline __attribute__((always_inline)) void
tiny_resolve4x2(uint32_t *ca, uint32_t *cb, size_t stride, ts_canvas *c, int32_t ox, int32_t cy,
                int32_t bw, int32_t bh, int32_t jlo, int32_t jhi, int evenodd_a,
                const int opaque_a, uint32_t pxa, const int opaque_b, uint32_t pxb)
{
    tiny_clear_outside(ca, stride, jlo, jhi, bh);
    tiny_clear_outside(cb, stride, jlo, jhi, bh);
    paint4 pa = paint4_of(pxa), pb = paint4_of(pxb);
    const u32x4 z = {0, 0, 0, 0};
    int32_t n = up4(bw);
    size_t cs = (size_t)c->stride;
    uint32_t *da = ca + (size_t)jlo * stride, *db = cb + (size_t)jlo * stride;
    for (int32_t j = jlo; j < jhi; j++, da += stride, db += stride) {
        uint32_t *dst = c->px + (size_t)(cy + j) * cs + ox;
        u32x4 carry_a = z, carry_b = z;
        for (int32_t i = 0; i < n; i += 4) {
            u32x4 a = prefix4(load4(da + i), &carry_a);
            u32x4 b = prefix4(load4(db + i), &carry_b);
            store4(da + i, z);
            store4(db + i, z);
            u32x4 d = blend4(load4(dst + i), coverage4(a, evenodd_a), &pa, opaque_a);
            store4(dst + i, blend4(d, coverage4(b, 0), &pb, opaque_b));
        }
        if (n < bw + 2) {
            store4(da + n, z);
            store4(db + n, z);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define TS_RASTER_AVX2 1
#include <immintrin.h>

/* --- the tiny blocks' resolve with AVX2 ---------------------------------------------------
 * The arithmetic of prefix4 / coverage4 / blend4, eight lanes at a time, chosen at run time
 * (ts_raster_new) on CPUs with AVX2. Most tiny blocks are at most 4 pixels wide (one
 * quad per row): then two rows share a 256-bit register, one per 128-bit half, whose
 * in-lane byte shifts make each half's running sum its own row's; wider blocks take 8
 * pixels of a row at a time. abs and min of 32-bit lanes are single instructions here
 * (pabsd, pminud), where SSE2 needs five for coverage's clamp. Integer arithmetic lane by
 * lane as coverage() and blend1(): the same pixels bit for bit (TS_RASTER_NO_AVX2 in the
 * environment selects the SSE2 code, to compare). Measured over the 69 z12-z14 tiles of
 * bench/tiles.txt (bench_raster --replay): 2409 -> 2267 M instructions in all, -4.5 %
 * CPU time. */

#define AVX2_FN static inline __attribute__((always_inline, target("avx2")))

/* Two 4-cell rows as one register (a low, b high). */
AVX2_FN __m256i
ld4x2(const uint32_t *a, const uint32_t *b)
{
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)a);
    __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)b);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

AVX2_FN void
st4x2(uint32_t *a, uint32_t *b, __m256i v)
{
    _mm_storeu_si128((__m128i *)(void *)a, _mm256_castsi256_si128(v));
    _mm_storeu_si128((__m128i *)(void *)b, _mm256_extracti128_si256(v, 1));
}

/* Running sum within each 128-bit half (each half one row's 4 cells). */
AVX2_FN __m256i
prefix_halves(__m256i v)
{
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
    return _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
}

/* Running sum along 8 cells continuing *carry (all lanes = the sum so far). */
AVX2_FN __m256i
prefix8(__m256i v, __m256i *carry)
{
    v = prefix_halves(v);
    /* the low half's total into every lane of the high half */
    __m256i t = _mm256_shuffle_epi32(v, 0xff);
    v = _mm256_add_epi32(v, _mm256_permute2x128_si256(t, t, 0x08));
    v = _mm256_add_epi32(v, *carry);
    *carry = _mm256_permutevar8x32_epi32(v, _mm256_set1_epi32(7));
    return v;
}

/* coverage() of 8 accumulated values. */
AVX2_FN __m256i
coverage8(__m256i a, int evenodd)
{
    const __m256i full = _mm256_set1_epi32(TS_CELL_FULL);
    if (evenodd) {
        a = _mm256_and_si256(a, _mm256_set1_epi32(2 * TS_CELL_FULL - 1));
        a = _mm256_min_epu32(a, _mm256_sub_epi32(_mm256_add_epi32(full, full), a));
    } else {
        a = _mm256_min_epu32(_mm256_abs_epi32(a), full);
    }
    a = _mm256_sub_epi32(_mm256_slli_epi32(a, 8), a);
    return _mm256_srli_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(TS_CELL_FULL / 2)), 17);
}

/* div255() per 16-bit lane. */
AVX2_FN __m256i
div255x16(__m256i r)
{
    r = _mm256_add_epi16(r, _mm256_set1_epi16(0x80));
    return _mm256_srli_epi16(_mm256_add_epi16(r, _mm256_srli_epi16(r, 8)), 8);
}

/* blend1() of 8 pixels d at coverages cov (0..255), paint split into rb and ag lanes. */
AVX2_FN __m256i
blend8(__m256i d, __m256i cov, __m256i prb, __m256i pag, const int opaque)
{
    const __m256i m = _mm256_set1_epi32(0x00ff00ff);
    __m256i c = _mm256_or_si256(cov, _mm256_slli_epi32(cov, 16));
    __m256i drb = _mm256_and_si256(d, m), dag = _mm256_and_si256(_mm256_srli_epi32(d, 8), m);
    if (opaque) {
        __m256i ic = _mm256_sub_epi16(_mm256_set1_epi16(255), c);
        __m256i rb = div255x16(_mm256_add_epi16(_mm256_mullo_epi16(prb, c),
                                                _mm256_mullo_epi16(drb, ic)));
        __m256i ag = div255x16(_mm256_add_epi16(_mm256_mullo_epi16(pag, c),
                                                _mm256_mullo_epi16(dag, ic)));
        return _mm256_or_si256(rb, _mm256_slli_epi32(ag, 8));
    }
    __m256i sv = _mm256_or_si256(div255x16(_mm256_mullo_epi16(prb, c)),
                                 _mm256_slli_epi32(div255x16(_mm256_mullo_epi16(pag, c)), 8));
    __m256i ia = _mm256_sub_epi32(_mm256_set1_epi32(255), _mm256_srli_epi32(sv, 24));
    __m256i ia16 = _mm256_or_si256(ia, _mm256_slli_epi32(ia, 16));
    __m256i rb = div255x16(_mm256_mullo_epi16(drb, ia16));
    __m256i ag = div255x16(_mm256_mullo_epi16(dag, ia16));
    return _mm256_add_epi32(sv, _mm256_or_si256(rb, _mm256_slli_epi32(ag, 8)));
}

/* tiny_resolve4 (cb NULL) or tiny_resolve4x2 (a then b per pixel; b nonzero) of the block
 * rows [jlo, jhi), the rows outside already cleared. */
AVX2_FN void
avx2_blocks(uint32_t *ca, uint32_t *cb, size_t stride, ts_canvas *c, int32_t ox, int32_t cy,
            int32_t bw, int32_t jlo, int32_t jhi, int evenodd_a, const int opaque_a, uint32_t pxa,
            const int opaque_b, uint32_t pxb)
{
    const __m256i m = _mm256_set1_epi32(0x00ff00ff), z = _mm256_setzero_si256();
    __m256i va = _mm256_set1_epi32((int)pxa), vb = _mm256_set1_epi32((int)pxb);
    __m256i arb = _mm256_and_si256(va, m), aag = _mm256_and_si256(_mm256_srli_epi32(va, 8), m);
    __m256i brb = _mm256_and_si256(vb, m), bag = _mm256_and_si256(_mm256_srli_epi32(vb, 8), m);
    int32_t n = up4(bw);
    size_t cs = (size_t)c->stride;
    const __m128i z4 = _mm_setzero_si128();
    int32_t j = jlo;
    if (n == 4) { /* two rows at a time */
        for (; j + 1 < jhi; j += 2) {
            uint32_t *da = ca + (size_t)j * stride, *db = cb ? cb + (size_t)j * stride : NULL;
            uint32_t *d0 = c->px + (size_t)(cy + j) * cs + ox, *d1 = d0 + cs;
            __m256i a = prefix_halves(ld4x2(da, da + stride));
            st4x2(da, da + stride, z);
            __m256i d = blend8(ld4x2(d0, d1), coverage8(a, evenodd_a), arb, aag, opaque_a);
            if (cb) {
                __m256i b = prefix_halves(ld4x2(db, db + stride));
                st4x2(db, db + stride, z);
                d = blend8(d, coverage8(b, 0), brb, bag, opaque_b);
            }
            st4x2(d0, d1, d);
            if (stride > 4) { /* the cells past the box */
                _mm_storeu_si128((__m128i *)(void *)(da + 4), z4);
                _mm_storeu_si128((__m128i *)(void *)(da + stride + 4), z4);
                if (cb) {
                    _mm_storeu_si128((__m128i *)(void *)(db + 4), z4);
                    _mm_storeu_si128((__m128i *)(void *)(db + stride + 4), z4);
                }
            }
        }
        if (j < jhi) { /* the last row: both halves the same row, the low one stored */
            uint32_t *da = ca + (size_t)j * stride, *db = cb ? cb + (size_t)j * stride : NULL;
            uint32_t *d0 = c->px + (size_t)(cy + j) * cs + ox;
            __m256i a = prefix_halves(ld4x2(da, da));
            _mm_storeu_si128((__m128i *)(void *)da, z4);
            __m256i d = blend8(ld4x2(d0, d0), coverage8(a, evenodd_a), arb, aag, opaque_a);
            if (cb) {
                __m256i b = prefix_halves(ld4x2(db, db));
                _mm_storeu_si128((__m128i *)(void *)db, z4);
                d = blend8(d, coverage8(b, 0), brb, bag, opaque_b);
            }
            _mm_storeu_si128((__m128i *)(void *)d0, _mm256_castsi256_si128(d));
            if (stride > 4) {
                _mm_storeu_si128((__m128i *)(void *)(da + 4), z4);
                if (cb)
                    _mm_storeu_si128((__m128i *)(void *)(db + 4), z4);
            }
        }
        return;
    }
    for (; j < jhi; j++) {
        uint32_t *da = ca + (size_t)j * stride, *db = cb ? cb + (size_t)j * stride : NULL;
        uint32_t *dst = c->px + (size_t)(cy + j) * cs + ox;
        __m256i ka = z, kb = z;
        int32_t i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256i a = prefix8(_mm256_loadu_si256((const __m256i *)(const void *)(da + i)), &ka);
            _mm256_storeu_si256((__m256i *)(void *)(da + i), z);
            __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)(dst + i));
            d = blend8(d, coverage8(a, evenodd_a), arb, aag, opaque_a);
            if (cb) {
                __m256i b =
                    prefix8(_mm256_loadu_si256((const __m256i *)(const void *)(db + i)), &kb);
                _mm256_storeu_si256((__m256i *)(void *)(db + i), z);
                d = blend8(d, coverage8(b, 0), brb, bag, opaque_b);
            }
            _mm256_storeu_si256((__m256i *)(void *)(dst + i), d);
        }
        if (i < n) { /* four more: the high half of a pair is a copy, not stored */
            __m256i a = _mm256_add_epi32(prefix_halves(ld4x2(da + i, da + i)), ka);
            _mm_storeu_si128((__m128i *)(void *)(da + i), z4);
            __m256i d = blend8(ld4x2(dst + i, dst + i), coverage8(a, evenodd_a), arb, aag, opaque_a);
            if (cb) {
                __m256i b = _mm256_add_epi32(prefix_halves(ld4x2(db + i, db + i)), kb);
                _mm_storeu_si128((__m128i *)(void *)(db + i), z4);
                d = blend8(d, coverage8(b, 0), brb, bag, opaque_b);
            }
            _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm256_castsi256_si128(d));
        }
        if (n < bw + 2) { /* the cells past the box */
            _mm_storeu_si128((__m128i *)(void *)(da + n), z4);
            if (cb)
                _mm_storeu_si128((__m128i *)(void *)(db + n), z4);
        }
    }
}

/* The resolve of one block (cb NULL) or two, by paint opacities. */
static __attribute__((noinline, target("avx2"))) void
tiny_resolve_avx2(uint32_t *ca, uint32_t *cb, size_t stride, ts_canvas *c, int32_t ox,
                  int32_t cy, int32_t bw, int32_t bh, int32_t jlo, int32_t jhi, int evenodd_a,
                  int opaque_a, uint32_t pxa, int opaque_b, uint32_t pxb)
{
    tiny_clear_outside(ca, stride, jlo, jhi, bh);
    if (cb)
        tiny_clear_outside(cb, stride, jlo, jhi, bh);
    if (opaque_a && (cb == NULL || opaque_b))
        avx2_blocks(ca, cb, stride, c, ox, cy, bw, jlo, jhi, evenodd_a, 1, pxa, 1, pxb);
    else if (opaque_a)
        avx2_blocks(ca, cb, stride, c, ox, cy, bw, jlo, jhi, evenodd_a, 1, pxa, 0, pxb);
    else if (cb == NULL || opaque_b)
        avx2_blocks(ca, cb, stride, c, ox, cy, bw, jlo, jhi, evenodd_a, 0, pxa, 1, pxb);
    else
        avx2_blocks(ca, cb, stride, c, ox, cy, bw, jlo, jhi, evenodd_a, 0, pxa, 0, pxb);
}

/* resolve_cells with a zero carry in, eight cells at a time while the eight stay within
 * the canvas (pixels up to xq; past x1 the coverage is 0, see resolve_cells), then as
 * resolve_cells. For the short ranges of band rows (thin lines, outlines at z15-z18):
 * measured -2.9 % of the rasteriser's instructions at z15-z18, ~-3 % CPU time. */
AVX2_FN void
avx2_cells(uint32_t *d, uint32_t *dst, int32_t x0, int32_t x1, int32_t xq, int evenodd,
           const int opaque, uint32_t px)
{
    const __m256i m = _mm256_set1_epi32(0x00ff00ff), z = _mm256_setzero_si256();
    __m256i v = _mm256_set1_epi32((int)px);
    __m256i prb = _mm256_and_si256(v, m), pag = _mm256_and_si256(_mm256_srli_epi32(v, 8), m);
    __m256i carry = z;
    int32_t x = x0;
    for (; x <= x1 && x + 7 <= xq; x += 8) {
        __m256i a = prefix8(_mm256_loadu_si256((const __m256i *)(const void *)(d + x)), &carry);
        _mm256_storeu_si256((__m256i *)(void *)(d + x), z);
        __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(dst + x));
        _mm256_storeu_si256((__m256i *)(void *)(dst + x),
                            blend8(o, coverage8(a, evenodd), prb, pag, opaque));
    }
    uint32_t acc0 = (uint32_t)_mm256_extract_epi32(carry, 0);
    resolve_cells(d, dst, x, x1, xq, &acc0, evenodd, opaque, px);
}

static __attribute__((noinline, target("avx2"))) void
resolve_cells_avx2(uint32_t *d, uint32_t *dst, int32_t x0, int32_t x1, int32_t xq, int evenodd,
                   int opaque, uint32_t px)
{
    if (opaque)
        avx2_cells(d, dst, x0, x1, xq, evenodd, 1, px);
    else
        avx2_cells(d, dst, x0, x1, xq, evenodd, 0, px);
}
#endif

/* The points of the parts into *total; make r->fix hold them. 0, or -1 when out of
 * memory. */
static inline int
fix_room(ts_raster *r, const uint32_t *counts, uint32_t nparts, size_t *total)
{
    size_t n = 0;
    for (uint32_t k = 0; k < nparts; k++)
        n += counts[k];
    *total = n;
    return n > r->nfix && ts_raster__grow((void **)&r->fix, &r->nfix, n, 2 * sizeof *r->fix) != 0
               ? -1
               : 0;
}

/* Ask for the canvas rows [jlo, jhi) of the block now: the misses overlap with the
 * accumulation instead of stalling the compositor (paths arrive in no particular order). */
static inline void
tiny_prefetch(const ts_canvas *c, int32_t ox, int32_t cy, int32_t bw, int32_t jlo, int32_t jhi)
{
    int32_t pe = ox + bw - 1 < c->w - 1 ? bw - 1 : c->w - 1 - ox;
    for (int32_t j = jlo; j < jhi; j++) {
        const uint32_t *row = c->px + (size_t)(cy + j) * (size_t)c->stride + ox;
        __builtin_prefetch(row, 1);
        __builtin_prefetch(row + pe, 1);
    }
}

/* Where the block of box bb (which ts_raster__tiny_fits accepted) lies: origin o[0], o[1]
 * in image pixels (so its 24.8 arithmetic does not depend on the window), size o[2] x o[3],
 * canvas row o[4] of block row 0, and the block rows [o[5], o[6]) in the canvas's window
 * (none when the block misses it). */
static inline __attribute__((always_inline)) void
tiny_block(const ts_canvas *c, const ts_raster__box *bb, int32_t o[7])
{
    ts_raster__win win = ts_raster__window(c);
    int32_t ox = (int32_t)bb->x0, oy = (int32_t)bb->y0;
    int32_t bh = (int32_t)bb->y1 - oy + 1, cy = oy - win.y0;
    int32_t jlo = -cy > 0 ? -cy : 0, jhi = win.y1 - oy < bh ? win.y1 - oy : bh;
    jlo = jlo < bh ? jlo : bh; /* a block above the window: no rows, nothing to clear */
    o[0] = ox;
    o[1] = oy;
    o[2] = (int32_t)bb->x1 - ox + 1;
    o[3] = bh;
    o[4] = cy;
    o[5] = jlo;
    o[6] = jhi > jlo ? jhi : jlo;
}

ts_status
ts_raster__render_tiny(ts_raster *r, ts_canvas *c, const double *xy, const uint32_t *counts,
                       uint32_t nparts, const ts_raster__box *bb, ts_fill_rule rule,
                       const ts_raster__paint *p)
{
    size_t total;
    if ((r->ncells < TS_TINY_CELLS && reserve_cells(r, TS_TINY_CELLS, 1, 1) != 0) ||
        fix_room(r, counts, nparts, &total) != 0)
        return TS_ENOMEM;
    int32_t o[7];
    tiny_block(c, bb, o);
    int32_t ox = o[0], oy = o[1], bw = o[2], bh = o[3], cy = o[4], jlo = o[5], jhi = o[6];
    if (jlo >= jhi)
        return TS_OK; /* the block misses the window: nothing accumulated, nothing drawn */
    tiny_prefetch(c, ox, cy, bw, jlo, jhi);
    size_t stride = tiny_stride(bw);
    acc A = {.cells = r->cells, .stride = stride};
    tiny_accumulate(&A, r->fix, xy, counts, nparts, total, ox, oy);
    int eo = rule == TS_FILL_EVENODD;
    uint32_t *cl = r->cells;
    if (ox + up4(bw) > c->w)
        tiny_resolve(cl, stride, c, ox, cy, bw, bh, jlo, jhi, eo, p->opaque, p->px);
#ifdef TS_RASTER_AVX2
    else if (r->avx2)
        tiny_resolve_avx2(cl, NULL, stride, c, ox, cy, bw, bh, jlo, jhi, eo, p->opaque, p->px, 1,
                          0);
#endif
    else if (eo)
        tiny_resolve4(cl, stride, c, ox, cy, bw, bh, jlo, jhi, 1, p->opaque, p->px);
    else if (p->opaque)
        tiny_resolve4(cl, stride, c, ox, cy, bw, bh, jlo, jhi, 0, 1, p->px);
    else
        tiny_resolve4(cl, stride, c, ox, cy, bw, bh, jlo, jhi, 0, 0, p->px);
    return TS_OK;
}

ts_status
ts_raster__render_tiny2(ts_raster *r, ts_canvas *c, const ts_raster__box *bb,
                        const double *xya, const uint32_t *counts_a, uint32_t nparts_a,
                        ts_fill_rule rule_a, const ts_raster__paint *pa, const double *xyb,
                        const uint32_t *counts_b, uint32_t nparts_b, const ts_raster__paint *pb)
{
    size_t na, nb;
    if ((r->ncells < 2 * TS_TINY_CELLS && reserve_cells(r, 2 * TS_TINY_CELLS, 1, 1) != 0) ||
        fix_room(r, counts_a, nparts_a, &na) != 0 || fix_room(r, counts_b, nparts_b, &nb) != 0)
        return TS_ENOMEM;
    int32_t o[7];
    tiny_block(c, bb, o);
    int32_t ox = o[0], oy = o[1], bw = o[2], bh = o[3], cy = o[4], jlo = o[5], jhi = o[6];
    if (jlo >= jhi)
        return TS_OK; /* the block misses the window: nothing accumulated, nothing drawn */
    tiny_prefetch(c, ox, cy, bw, jlo, jhi);
    size_t stride = tiny_stride(bw);
    uint32_t *ca = r->cells, *cb = r->cells + TS_TINY_CELLS;
    acc A = {.cells = ca, .stride = stride}, B = {.cells = cb, .stride = stride};
    tiny_accumulate(&A, r->fix, xya, counts_a, nparts_a, na, ox, oy);
    tiny_accumulate(&B, r->fix, xyb, counts_b, nparts_b, nb, ox, oy);
    int eo = rule_a == TS_FILL_EVENODD;
    uint32_t pxa = pa->px, pxb = pb->px;
    if (ox + up4(bw) > c->w) { /* one block after the other: the same pixels */
        tiny_resolve(ca, stride, c, ox, cy, bw, bh, jlo, jhi, eo, pa->opaque, pxa);
        tiny_resolve(cb, stride, c, ox, cy, bw, bh, jlo, jhi, 0, pb->opaque, pxb);
#ifdef TS_RASTER_AVX2
    } else if (r->avx2) {
        tiny_resolve_avx2(ca, cb, stride, c, ox, cy, bw, bh, jlo, jhi, eo, pa->opaque, pxa,
                          pb->opaque, pxb);
#endif
    } else if (pa->opaque && pb->opaque) {
        tiny_resolve4x2(ca, cb, stride, c, ox, cy, bw, bh, jlo, jhi, eo, 1, pxa, 1, pxb);
    } else if (pa->opaque) {
        tiny_resolve4x2(ca, cb, stride, c, ox, cy, bw, bh, jlo, jhi, eo, 1, pxa, 0, pxb);
    } else if (pb->opaque) {
        tiny_resolve4x2(ca, cb, stride, c, ox, cy, bw, bh, jlo, jhi, eo, 0, pxa, 1, pxb);
    } else {
        tiny_resolve4x2(ca, cb, stride, c, ox, cy, bw, bh, jlo, jhi, eo, 0, pxa, 0, pxb);
    }
    return TS_OK;
}
