/* Unit tests for raster: exact coverage properties, compositing, robustness, and a corpus
 * of shapes rendered both by tilesrv and by Cairo (a test-only dependency), comparing the
 * per-pixel alpha coverage of an opaque colour on a transparent canvas.
 *
 * Two Cairo references per shape: plain Cairo (CAIRO_ANTIALIAS_DEFAULT, same fill rule,
 * joins, caps, miter limit, dashes), and Cairo at 8x scale box-filtered down, a
 * near-exact reference. Plain Cairo fills with its "tor" scan converter
 * (cairo-tor-scan-converter.c: GRID_X 256, GRID_Y 15): on pixel rows no edge starts or
 * ends in it computes exact area as we do; on rows holding a vertex, or an edge that
 * starts and ends inside the row (near-horizontal edges), it samples 15 sub-scanlines, so
 * its coverage there is quantised to 1/15 vertically, up to 8.5/255 off the exact area.
 * The 8x reference removes that: against it our straight-edged fills differ by a mean of
 * 0.02-0.2/255 and at most 2/255 (24.8 rounding and 8-bit rounding of both sides).
 *
 * Where we differ by design, and the bounds per class say so (see the bounds table):
 * an area-summing rasteriser (AGG, hence Mapnik and MapServer; ours) resolves the fill
 * rule on the summed signed area of a pixel, so a pixel that holds regions of different
 * winding at once (a stroke overlapping itself at a crossing or a very sharp turn, a
 * self-intersecting polygon's crossing, coincident edges) is off, where Cairo resolves
 * winding per span. And arcs are polygonised differently. Failing comparisons write
 * ours, Cairo's and a difference image as PNGs into ts_test_tmpdir(); TS_RASTER_PNG=1
 * writes them for every shape. */
#include "test.h"

#include "raster/raster.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------------------ */
/* helpers                                                                               */

static uint32_t
alpha_at(const ts_canvas *c, int x, int y)
{
    return c->px[(size_t)y * (size_t)c->stride + (size_t)x] >> 24;
}

static double
alpha_sum(const ts_canvas *c)
{
    double s = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++)
            s += alpha_at(c, x, y);
    return s;
}

static const ts_affine ident = {1, 1, 0, 0};
static const ts_rgba black = {0, 0, 0, 255};

/* A geometry under construction, in pixel coordinates; stored as map coordinates of the
 * affine below so that every test also exercises the transform. */
#define G_MAXPTS 65536
#define G_MAXPARTS 4096
typedef struct geom {
    double *xy; /* map coordinates */
    uint32_t *counts;
    uint32_t nparts;
    size_t n;
    ts_affine t;
} geom;

static geom *
g_new(void)
{
    geom *g = calloc(1, sizeof *g);
    g->xy = malloc(2 * G_MAXPTS * sizeof *g->xy);
    g->counts = calloc(G_MAXPARTS, sizeof *g->counts);
    /* 4 map units per pixel, y up (north-up like a map) */
    g->t.sx = 0.25;
    g->t.sy = -0.25;
    g->t.tx = 3.0;
    g->t.ty = 500.0;
    return g;
}

static void
g_free(geom *g)
{
    if (g == NULL)
        return;
    free(g->xy);
    free(g->counts);
    free(g);
}

static void
g_part(geom *g)
{
    if (g->nparts < G_MAXPARTS)
        g->nparts++;
}

static void
g_pt(geom *g, double px, double py)
{
    if (g->n >= G_MAXPTS || g->nparts == 0)
        return;
    g->xy[2 * g->n] = (px - g->t.tx) / g->t.sx;
    g->xy[2 * g->n + 1] = (py - g->t.ty) / g->t.sy;
    g->n++;
    g->counts[g->nparts - 1]++;
}

static ts_parts
g_parts(const geom *g)
{
    ts_parts p = {g->xy, g->counts, g->nparts};
    return p;
}

static void
g_regular(geom *g, double cx, double cy, double r, int n, double rot, int dir)
{
    g_part(g);
    for (int i = 0; i < n; i++) {
        double a = rot + dir * 2 * M_PI * i / n;
        g_pt(g, cx + r * cos(a), cy + r * sin(a));
    }
}

/* Deterministic random numbers (xorshift), so the corpus is the same every run; each test
 * that uses them seeds first, so running a subset of tests gives the same shapes. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static void
rnd_seed(uint64_t seed)
{
    rng_state = 0x9E3779B97F4A7C15ull ^ (seed * 0xD1B54A32D192ED03ull);
}

static double
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------------------------------ */
/* cairo references                                                                      */

typedef struct job {
    const char *name;
    int w, h;
    int fill; /* 1 fill, 0 stroke */
    ts_fill_rule rule;
    int closed;
    int per_part; /* draw each part as its own path (as render draws features) */
    ts_stroke s;
    const geom *g;
} job;

typedef void (*draw_fn)(cairo_t *cr, const void *ctx);

static void
cairo_geom(cairo_t *cr, const geom *g, int close)
{
    const double *xy = g->xy;
    for (uint32_t k = 0; k < g->nparts; k++) {
        for (uint32_t i = 0; i < g->counts[k]; i++) {
            double x = g->t.sx * xy[2 * i] + g->t.tx, y = g->t.sy * xy[2 * i + 1] + g->t.ty;
            if (i == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
        }
        if (g->counts[k] == 1) /* a one-point line: a zero-length segment for Cairo */
            cairo_rel_line_to(cr, 0, 0);
        if (close)
            cairo_close_path(cr);
        xy += 2 * g->counts[k];
    }
}

static void
draw_job(cairo_t *cr, const void *ctx)
{
    const job *jb = ctx;
    if (jb->fill) {
        cairo_geom(cr, jb->g, 1);
        cairo_set_fill_rule(cr, jb->rule == TS_FILL_EVENODD ? CAIRO_FILL_RULE_EVEN_ODD
                                                            : CAIRO_FILL_RULE_WINDING);
        cairo_fill(cr);
        return;
    }
    cairo_geom(cr, jb->g, jb->closed);
    cairo_set_line_width(cr, jb->s.width);
    cairo_set_line_join(cr, jb->s.join == TS_JOIN_ROUND   ? CAIRO_LINE_JOIN_ROUND
                            : jb->s.join == TS_JOIN_BEVEL ? CAIRO_LINE_JOIN_BEVEL
                                                          : CAIRO_LINE_JOIN_MITER);
    cairo_set_line_cap(cr, jb->s.cap == TS_CAP_ROUND    ? CAIRO_LINE_CAP_ROUND
                           : jb->s.cap == TS_CAP_SQUARE ? CAIRO_LINE_CAP_SQUARE
                                                        : CAIRO_LINE_CAP_BUTT);
    cairo_set_miter_limit(cr, jb->s.miter_limit == 0 ? 4 : jb->s.miter_limit);
    if (jb->s.ndash > 0)
        cairo_set_dash(cr, jb->s.dash, jb->s.ndash, jb->s.dash_offset);
    cairo_stroke(cr);
}

/* Alpha coverage (w x h bytes) of what draw() paints in opaque black, rendered by Cairo
 * at scale x scale device pixels per pixel and box-filtered down. Scale 1 is plain Cairo
 * (CAIRO_ANTIALIAS_DEFAULT); scale 8 is a near-exact reference: Cairo's error per
 * device pixel shrinks 64-fold when averaged. Tolerance 0.02 device px. */
static uint8_t *
cairo_alpha(int w, int h, int scale, draw_fn draw, const void *ctx)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w * scale, h * scale);
    cairo_t *cr = cairo_create(s);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
    cairo_set_tolerance(cr, 0.02);
    cairo_scale(cr, scale, scale);
    cairo_set_source_rgba(cr, 0, 0, 0, 1);
    draw(cr, ctx);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    const uint8_t *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    uint8_t *a = malloc((size_t)w * (size_t)h);
    int n = scale * scale;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int sum = 0;
            for (int j = 0; j < scale; j++) {
                const uint32_t *row = (const uint32_t *)(d + (size_t)(y * scale + j) * (size_t)stride);
                for (int i = 0; i < scale; i++)
                    sum += (int)(row[x * scale + i] >> 24);
            }
            a[(size_t)y * (size_t)w + (size_t)x] = (uint8_t)((sum + n / 2) / n);
        }
    }
    cairo_surface_destroy(s);
    return a;
}

static uint8_t *
canvas_alpha(const ts_canvas *c)
{
    uint8_t *a = malloc((size_t)c->w * (size_t)c->h);
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++)
            a[(size_t)y * (size_t)c->w + (size_t)x] = (uint8_t)alpha_at(c, x, y);
    return a;
}

static void
write_alpha_png(const uint8_t *a, int w, int h, const char *path)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_surface_flush(s);
    uint8_t *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(d + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++)
            row[x] = (uint32_t)a[(size_t)y * (size_t)w + (size_t)x] << 24;
    }
    cairo_surface_mark_dirty(s);
    cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
}

/* Ours, Cairo's, and the difference (grey = equal, red = we cover more, blue = Cairo
 * covers more; the darker the tint the larger the difference) into ts_test_tmpdir(). */
static void
write_pngs(const char *name, const uint8_t *ours, const uint8_t *ref, int w, int h)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s_tilesrv.png", ts_test_tmpdir(), name);
    write_alpha_png(ours, w, h, path);
    snprintf(path, sizeof path, "%s/%s_cairo.png", ts_test_tmpdir(), name);
    write_alpha_png(ref, w, h, path);
    cairo_surface_t *d = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_surface_flush(d);
    uint8_t *dd = cairo_image_surface_get_data(d);
    int stride = cairo_image_surface_get_stride(d);
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(dd + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            int diff = (int)ours[i] - (int)ref[i];
            uint32_t base = 128 + (ours[i] >> 2);
            uint32_t r = base, gg = base, b = base;
            uint32_t k = (uint32_t)(abs(diff) * 4 > 127 ? 127 : abs(diff) * 4);
            if (diff > 0) {
                r = 255;
                gg = b = 128 - k;
            } else if (diff < 0) {
                b = 255;
                r = gg = 128 - k;
            }
            row[x] = (r << 16) | (gg << 8) | b;
        }
    }
    cairo_surface_mark_dirty(d);
    snprintf(path, sizeof path, "%s/%s_diff.png", ts_test_tmpdir(), name);
    cairo_surface_write_to_png(d, path);
    cairo_surface_destroy(d);
    fprintf(stderr, "      images: %s/%s_{tilesrv,cairo,diff}.png\n", ts_test_tmpdir(), name);
}

typedef struct stats {
    double mean;  /* mean |diff| / 255 over pixels either side touches */
    double over;  /* share of those pixels with |diff| > 16 */
    int max;      /* max |diff| */
    int maxx, maxy; /* where */
    int maxa, maxb; /* ours and the reference there */
    long touched; /* pixels either side touches */
    double area_ours, area_ref; /* coverage sums in px^2 */
} stats;

static stats
compare(const uint8_t *ours, const uint8_t *ref, int w, int h)
{
    stats st;
    memset(&st, 0, sizeof st);
    double sum = 0;
    long over = 0;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        int a = ours[i], b = ref[i];
        st.area_ours += a / 255.0;
        st.area_ref += b / 255.0;
        if (a == 0 && b == 0)
            continue;
        int d = abs(a - b);
        st.touched++;
        sum += d;
        over += d > 16;
        if (d > st.max) {
            st.max = d;
            st.maxa = a;
            st.maxb = b;
            st.maxx = (int)(i % (size_t)w);
            st.maxy = (int)(i / (size_t)w);
        }
    }
    if (st.touched > 0) {
        st.mean = sum / (double)st.touched / 255.0;
        st.over = (double)over / (double)st.touched;
    }
    return st;
}

/* Bounds for one shape class: mean |diff| (fraction of 255) and share of pixels off by
 * more than 16/255, against Cairo at 1x and against the 8x reference. */
typedef struct bounds {
    double mean1, over1, mean8, over8;
} bounds;

static void
report(const char *name, const char *ref, const stats *s)
{
    fprintf(stderr,
            "    %-24s vs %-8s px %6ld  mean %5.2f/255  >16/255 %6.3f%%  max %3d (%3d/%3d at %3d,%3d)"
            "  area %8.1f / %8.1f\n",
            name, ref, s->touched, s->mean * 255, s->over * 100, s->max, s->maxa, s->maxb,
            s->maxx, s->maxy, s->area_ours, s->area_ref);
}

/* Compare our alpha with Cairo's at 1x and 8x for what draw() paints; bounds checked. */
static void
check_alpha(const char *name, const uint8_t *ours, int w, int h, draw_fn draw, const void *ctx,
            bounds b)
{
    uint8_t *r1 = cairo_alpha(w, h, 1, draw, ctx);
    uint8_t *r8 = cairo_alpha(w, h, 8, draw, ctx);
    stats s1 = compare(ours, r1, w, h), s8 = compare(ours, r8, w, h);
    report(name, "cairo", &s1);
    report(name, "cairo8x", &s8);
    int bad1 = !(s1.mean <= b.mean1 && s1.over <= b.over1) || s1.touched == 0;
    int bad8 = !(s8.mean <= b.mean8 && s8.over <= b.over8);
    if (bad1)
        ts_test_fail(__FILE__, __LINE__, "%s vs cairo: mean %.2f/255 (limit %.2f), >16: %.3f%% (limit %.3f%%)",
                     name, s1.mean * 255, b.mean1 * 255, s1.over * 100, b.over1 * 100);
    if (bad8)
        ts_test_fail(__FILE__, __LINE__, "%s vs cairo8x: mean %.2f/255 (limit %.2f), >16: %.3f%% (limit %.3f%%)",
                     name, s8.mean * 255, b.mean8 * 255, s8.over * 100, b.over8 * 100);
    if (bad1 || bad8 || getenv("TS_RASTER_PNG") != NULL) {
        char n8[256];
        write_pngs(name, ours, r1, w, h);
        snprintf(n8, sizeof n8, "%s_8x", name);
        write_pngs(n8, ours, r8, w, h);
    }
    free(r1);
    free(r8);
}

/* Render job jb with tilesrv and check it against Cairo. */
static void
check_vs_cairo(const job *jb, bounds b)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(jb->w, jb->h, &err);
    ts_raster *r = ts_raster_new();
    if (c == NULL || r == NULL) {
        ts_test_fail(__FILE__, __LINE__, "%s: out of memory", jb->name);
        ts_canvas_free(c);
        ts_raster_free(r);
        return;
    }
    ts_parts all = g_parts(jb->g);
    const double *xy = all.xy;
    for (uint32_t k = 0; k < (jb->per_part ? all.nparts : 1); k++) {
        ts_parts p = all;
        if (jb->per_part) {
            p.xy = xy;
            p.counts = all.counts + k;
            p.nparts = 1;
            xy += 2 * (size_t)all.counts[k];
        }
        ts_status st;
        if (jb->fill)
            st = ts_raster_fill(r, c, &jb->g->t, &p, jb->rule, black, 1.0);
        else
            st = ts_raster_stroke(r, c, &jb->g->t, &p, jb->closed, &jb->s, black, 1.0);
        TS_CHECK_INT(st, TS_OK);
    }
    uint8_t *ours = canvas_alpha(c);
    check_alpha(jb->name, ours, jb->w, jb->h, draw_job, jb, b);
    free(ours);
    ts_canvas_free(c);
    ts_raster_free(r);
}

static job
fill_job(const char *name, const geom *g, int w, int h, ts_fill_rule rule)
{
    job j;
    memset(&j, 0, sizeof j);
    j.name = name;
    j.g = g;
    j.w = w;
    j.h = h;
    j.fill = 1;
    j.rule = rule;
    return j;
}

static job
stroke_job(const char *name, const geom *g, int w, int h, double width, ts_line_join jn,
           ts_line_cap cp, int closed)
{
    job j;
    memset(&j, 0, sizeof j);
    j.name = name;
    j.g = g;
    j.w = w;
    j.h = h;
    j.closed = closed;
    j.s.width = width;
    j.s.join = jn;
    j.s.cap = cp;
    j.s.miter_limit = 4;
    return j;
}

/* Bounds per shape class: {mean |diff| vs Cairo 1x, share of pixels > 16/255 vs Cairo 1x,
 * the same two vs the 8x reference}. Each is about twice the worst value measured when
 * the bound was set (the test prints all of them), with the reason for its size:
 *
 * Straight-edged fills: exact area on both sides except Cairo's 1/15 sub-scanline rows
 * (vertex rows); against the 8x reference we measure a mean of 0.04-0.2/255, max 2. */
static const bounds B_FILL = {1.0 / 255, 0.001, 0.5 / 255, 0.0005};
/* Near-horizontal edges stay inside one pixel row for long runs, which Cairo samples with
 * 15 sub-scanlines: its coverage there is quantised, off by up to 8.5/255 on every pixel
 * of the run (mean 2.2/255 here). Against the 8x reference we stay at 0.4/255. */
static const bounds B_NEAR_H = {4.0 / 255, 0.002, 1.0 / 255, 0.0005};
/* Thin lines and hairlines (0.1-1.5 px), thin polylines without self-overlap: every
 * pixel is an edge pixel, so Cairo's sub-scanline rows weigh more (mean ~1.8/255); vs
 * 8x 0.3-0.4/255, max 5. */
static const bounds B_THIN = {3.5 / 255, 0.002, 1.0 / 255, 0.001};
/* Wide strokes with straight joins and caps, rings, butt/square dashes. The zigzag has
 * turns of 165 and 170 degrees: there the stroke overlaps itself near the vertex over a
 * length of w / (2 tan(5..7.5 deg)), and edge pixels of that overlap hold winding 2 and 0
 * at once. An area-summing rasteriser (AGG, so Mapnik and MapServer; ours) clamps the sum
 * of both layers, Cairo takes the union: those few pixels differ by up to ~100/255. */
static const bounds B_WIDE = {2.0 / 255, 0.012, 1.0 / 255, 0.012};
/* Round joins and caps, circles: as B_WIDE, plus different polygonisations of arcs
 * (ours: chords within 0.05 px, points pushed out to halve the error; Cairo's pen). */
static const bounds B_CURVE = {2.0 / 255, 0.012, 2.0 / 255, 0.012};
/* Thick outlines of tiny shapes (0.5 px outlines of sub-pixel to 3 px polygons, 1.5 px
 * outlines of 3 px markers): the stroke overlaps itself across the whole shape, the same
 * summing effect as in B_WIDE on more of the pixels (measured 0.7% over 16/255). */
static const bounds B_OVERLAP = {2.5 / 255, 0.015, 1.5 / 255, 0.015};
/* Self-intersecting fills: a pixel holding an edge crossing gets the fill rule applied to
 * the summed signed area (a bow-tie's lobes have winding +1 and -1 and cancel in the
 * crossing pixel), Cairo evaluates it per sub-scanline span; ~0.5% of pixels. */
static const bounds B_CROSS = {1.5 / 255, 0.012, 1.2 / 255, 0.012};

/* ------------------------------------------------------------------------------------ */
/* the Cairo corpus                                                                      */

TS_TEST(raster_cairo_fills)
{
    geom *g = g_new();
    /* a rotated rectangle, a triangle, an arrow, a thin sliver */
    g_part(g);
    g_pt(g, 20.3, 30.7);
    g_pt(g, 90.1, 10.2);
    g_pt(g, 110.6, 80.9);
    g_pt(g, 40.8, 101.4);
    g_part(g);
    g_pt(g, 130.5, 20.25);
    g_pt(g, 240.75, 60.5);
    g_pt(g, 150.1, 110.9);
    g_part(g);
    g_pt(g, 20, 150);
    g_pt(g, 80, 150);
    g_pt(g, 80, 130);
    g_pt(g, 120, 170);
    g_pt(g, 80, 210);
    g_pt(g, 80, 190);
    g_pt(g, 20, 190);
    g_part(g);
    g_pt(g, 140.2, 140.1);
    g_pt(g, 245.3, 200.6);
    g_pt(g, 244.9, 201.9);
    job j = fill_job("fill_polygons", g, 256, 256, TS_FILL_NONZERO);
    check_vs_cairo(&j, B_FILL);
    g_free(g);

    /* near-horizontal and near-vertical wedges: slopes 1/40 .. 1/400 */
    g = g_new();
    for (int i = 0; i < 8; i++) {
        double y = 8 + i * 30, sl = 1.0 / (40 + 50 * i);
        g_part(g);
        g_pt(g, 5, y);
        g_pt(g, 250, y + 245 * sl);
        g_pt(g, 250, y + 245 * sl + 6.3);
        g_pt(g, 5, y + 3.1);
    }
    j = fill_job("fill_near_horizontal", g, 256, 256, TS_FILL_NONZERO);
    check_vs_cairo(&j, B_NEAR_H);
    g_free(g);
    g = g_new();
    for (int i = 0; i < 8; i++) {
        double x = 8 + i * 30, sl = 1.0 / (40 + 50 * i);
        g_part(g);
        g_pt(g, x, 5);
        g_pt(g, x + 3.1, 5);
        g_pt(g, x + 245 * sl + 6.3, 250);
        g_pt(g, x + 245 * sl, 250);
    }
    j = fill_job("fill_near_vertical", g, 256, 256, TS_FILL_NONZERO);
    check_vs_cairo(&j, B_FILL);
    g_free(g);
}

TS_TEST(raster_cairo_self_intersecting_and_holes)
{
    rnd_seed(1);
    for (int eo = 0; eo < 2; eo++) {
        ts_fill_rule rule = eo ? TS_FILL_EVENODD : TS_FILL_NONZERO;
        geom *g = g_new();
        /* pentagram, bow-tie */
        g_part(g);
        for (int i = 0; i < 5; i++) {
            double a = -M_PI / 2 + i * 4 * M_PI / 5;
            g_pt(g, 70 + 60 * cos(a), 70 + 60 * sin(a));
        }
        g_part(g);
        g_pt(g, 140.5, 20.2);
        g_pt(g, 240.3, 120.7);
        g_pt(g, 240.1, 20.9);
        g_pt(g, 140.7, 120.4);
        job j = fill_job(eo ? "selfintersect_evenodd" : "selfintersect_nonzero", g, 256, 256, rule);
        check_vs_cairo(&j, B_CROSS);
        g_free(g);

        /* polygon with two holes: wound opposite (nonzero), the same way (even-odd) */
        g = g_new();
        g_regular(g, 128, 128, 110, 7, 0.1, 1);
        g_regular(g, 100, 110, 35, 5, 0.2, eo ? 1 : -1);
        g_regular(g, 165, 150, 30.5, 40, 0, eo ? 1 : -1);
        j = fill_job(eo ? "holes_evenodd" : "holes_nonzero", g, 256, 256, rule);
        check_vs_cairo(&j, B_FILL);
        g_free(g);

        /* random self-intersecting polygons */
        g = g_new();
        for (int k = 0; k < 12; k++) {
            double cx = 40 + (k % 4) * 60, cy = 40 + (k / 4) * 80;
            g_part(g);
            for (int i = 0; i < 9; i++)
                g_pt(g, cx + (rnd() - 0.5) * 60, cy + (rnd() - 0.5) * 70);
        }
        j = fill_job(eo ? "random_polys_evenodd" : "random_polys_nonzero", g, 256, 256, rule);
        check_vs_cairo(&j, B_CROSS);
        g_free(g);
    }
}

TS_TEST(raster_cairo_coincident_edges)
{
    /* A ring wound twice. Its edges coincide pairwise, so an edge pixel half covered holds
     * winding 2 on half its area: summing rasterisers (AGG, font-rs, stb, ours) give it
     * min(1, 2 * 0.5) = full coverage under nonzero (and 2 * 0.5 folded = full under
     * even-odd) where the exact coverage is 0.5. Cairo resolves the winding per span and
     * is exact there. Interiors agree; only the one-pixel border differs. */
    geom *g = g_new();
    g_part(g);
    for (int i = 0; i < 8; i++) {
        double a = i * M_PI / 2;
        g_pt(g, 128 + 90 * cos(a + 0.3), 128 + 90 * sin(a + 0.3));
    }
    static const bounds b = {4.0 / 255, 0.05, 4.0 / 255, 0.05};
    job j = fill_job("coincident_nonzero", g, 256, 256, TS_FILL_NONZERO);
    check_vs_cairo(&j, b);
    g_free(g);
}

TS_TEST(raster_cairo_tiny_polygons)
{
    rnd_seed(2);
    /* sub-pixel and 1-3 px polygons, one per 6x6 cell so that they do not overlap */
    geom *g = g_new();
    for (int cy = 0; cy < 20; cy++) {
        for (int cx = 0; cx < 20; cx++) {
            double r = 0.15 + rnd() * 1.4;
            double x = 3 + cx * 6 + rnd(), y = 3 + cy * 6 + rnd();
            int n = 3 + (int)(rnd() * 3);
            g_regular(g, x, y, r, n, rnd() * 6.28, 1);
        }
    }
    /* each drawn as its own path, as render draws features: the tiny-path kernel */
    job j = fill_job("tiny_polygons", g, 124, 124, TS_FILL_NONZERO);
    j.per_part = 1;
    check_vs_cairo(&j, B_FILL);
    /* their 0.5 px outlines */
    job s = stroke_job("tiny_outlines", g, 124, 124, 0.5, TS_JOIN_MITER, TS_CAP_BUTT, 1);
    s.per_part = 1;
    check_vs_cairo(&s, B_OVERLAP);
    /* and all of them as one path: the general path */
    j.name = "tiny_polygons_one_path";
    j.per_part = 0;
    check_vs_cairo(&j, B_FILL);
    g_free(g);
}

TS_TEST(raster_cairo_thin_lines)
{
    rnd_seed(3);
    static const double widths[] = {0.1, 0.25, 0.5, 1.0, 1.5};
    static const char *names[] = {"hairline_0.1", "hairline_0.25", "thin_line_0.5",
                                  "thin_line_1", "thin_line_1.5"};
    for (int wi = 0; wi < 5; wi++) {
        geom *g = g_new();
        /* a burst of lines at 7.5 degree steps, plus near-horizontal/vertical ones */
        for (int i = 0; i < 48; i++) {
            double a = i * M_PI / 24 + 0.013;
            g_part(g);
            g_pt(g, 128.3 + 12 * cos(a), 128.6 + 12 * sin(a));
            g_pt(g, 128.3 + 120 * cos(a), 128.6 + 120 * sin(a));
        }
        g_part(g);
        g_pt(g, 3.2, 4.4);
        g_pt(g, 252.7, 6.1);
        g_part(g);
        g_pt(g, 4.4, 250.2);
        g_pt(g, 6.3, 9.5);
        job j = stroke_job(names[wi], g, 256, 256, widths[wi], TS_JOIN_MITER, TS_CAP_BUTT, 0);
        check_vs_cairo(&j, B_THIN);
        g_free(g);
    }
    /* thin polylines with joins that do not cross themselves (streets): x only grows,
     * turns up to ~150 degrees, one polyline per 20 px band */
    geom *g = g_new();
    for (int k = 0; k < 12; k++) {
        g_part(g);
        double x = 3 + rnd() * 5, y = 10 + k * 20;
        while (x < 250) {
            g_pt(g, x, y + rnd() * 12);
            x += 1.5 + rnd() * 12;
        }
    }
    job j = stroke_job("thin_polyline_1_round", g, 256, 256, 1, TS_JOIN_ROUND, TS_CAP_ROUND, 0);
    check_vs_cairo(&j, B_THIN);
    j = stroke_job("thin_polyline_0.5_miter", g, 256, 256, 0.5, TS_JOIN_MITER, TS_CAP_BUTT, 0);
    check_vs_cairo(&j, B_THIN);
    g_free(g);
}

TS_TEST(raster_cairo_thin_self_crossing)
{
    rnd_seed(4);
    /* Random walks: thin strokes crossing and running back over themselves. Filled as one
     * nonzero path, nothing is painted twice (compositing happens once per pixel), but
     * an edge pixel holding both winding 2 (the overlap) and winding 0 gets the clamped
     * sum of the two strokes' areas from an area-summing rasteriser (AGG, as used by
     * Mapnik and MapServer, and ours), where Cairo resolves winding per span and gets
     * the union. So crossing pixels come out darker than Cairo's: up to the coverage of
     * the second stroke (~120/255 for a 1 px line), on the few percent of pixels that
     * hold a crossing. The bound on that share is what is checked here. */
    geom *g = g_new();
    for (int k = 0; k < 12; k++) {
        g_part(g);
        double x = 10 + rnd() * 230, y = 10 + rnd() * 230;
        for (int i = 0; i < 12; i++) {
            g_pt(g, x, y);
            x += (rnd() - 0.5) * 60;
            y += (rnd() - 0.5) * 60;
        }
    }
    static const bounds b = {6.0 / 255, 0.08, 5.0 / 255, 0.08};
    job j = stroke_job("crossing_polyline_1", g, 256, 256, 1, TS_JOIN_ROUND, TS_CAP_ROUND, 0);
    check_vs_cairo(&j, b);
    j = stroke_job("crossing_polyline_0.5", g, 256, 256, 0.5, TS_JOIN_MITER, TS_CAP_BUTT, 0);
    check_vs_cairo(&j, b);
    g_free(g);
}

/* A zigzag with turns from 30 to 170 degrees, and a spiral-ish polyline. */
static geom *
zigzag(void)
{
    geom *g = g_new();
    g_part(g);
    double x = 20, y = 40;
    g_pt(g, x, y);
    static const double turns[] = {30, 60, 90, 120, 150, 165, 170};
    double a = 0;
    for (int i = 0; i < 7; i++) {
        x += 30 * cos(a);
        y += 30 * sin(a);
        g_pt(g, x, y);
        a += (i & 1 ? -1 : 1) * turns[i] * M_PI / 180;
    }
    x += 30 * cos(a);
    y += 30 * sin(a);
    g_pt(g, x, y);
    g_part(g);
    for (int i = 0; i < 14; i++) {
        double r = 15 + i * 6, b = i * 0.9;
        g_pt(g, 150 + r * cos(b), 170 + r * sin(b) * 0.8);
    }
    return g;
}

TS_TEST(raster_cairo_joins_and_caps)
{
    static const ts_line_join joins[] = {TS_JOIN_MITER, TS_JOIN_ROUND, TS_JOIN_BEVEL};
    static const char *jn[] = {"join_miter", "join_round", "join_bevel"};
    for (int i = 0; i < 3; i++) {
        geom *g = zigzag();
        job j = stroke_job(jn[i], g, 300, 300, 12, joins[i], TS_CAP_BUTT, 0);
        check_vs_cairo(&j, i == 1 ? B_CURVE : B_WIDE);
        g_free(g);
    }
    {
        /* miter limit 10 keeps sharper miters */
        geom *g = zigzag();
        job j = stroke_job("join_miter_limit10", g, 300, 300, 7, TS_JOIN_MITER, TS_CAP_BUTT, 0);
        j.s.miter_limit = 10;
        check_vs_cairo(&j, B_WIDE);
        g_free(g);
    }
    static const ts_line_cap caps[] = {TS_CAP_BUTT, TS_CAP_ROUND, TS_CAP_SQUARE};
    static const char *cn[] = {"cap_butt", "cap_round", "cap_square"};
    for (int i = 0; i < 3; i++) {
        geom *g = g_new();
        for (int k = 0; k < 9; k++) {
            double a = k * 0.37, cx = 50 + (k % 3) * 80, cy = 50 + (k / 3) * 80;
            g_part(g);
            g_pt(g, cx - 25 * cos(a), cy - 25 * sin(a));
            g_pt(g, cx + 25 * cos(a), cy + 25 * sin(a));
        }
        job j = stroke_job(cn[i], g, 256, 256, 16, TS_JOIN_MITER, caps[i], 0);
        check_vs_cairo(&j, i == 1 ? B_CURVE : B_WIDE);
        g_free(g);
    }
    /* a wide closed ring with an acute vertex and short edges */
    for (int i = 0; i < 3; i++) {
        geom *g = g_new();
        g_part(g);
        g_pt(g, 40, 40);
        g_pt(g, 200, 60);
        g_pt(g, 60, 80);
        g_pt(g, 70, 200);
        g_pt(g, 64, 204);
        g_pt(g, 30, 150);
        static const char *rn[] = {"ring_miter", "ring_round", "ring_bevel"};
        job j = stroke_job(rn[i], g, 256, 256, 9, joins[i], TS_CAP_BUTT, 1);
        check_vs_cairo(&j, i == 1 ? B_CURVE : B_WIDE);
        g_free(g);
    }
}

TS_TEST(raster_cairo_self_overlapping_stroke)
{
    /* a polyline crossing itself: painted once (the alpha would show double painting) */
    geom *g = g_new();
    g_part(g);
    g_pt(g, 30, 30);
    g_pt(g, 220, 200);
    g_pt(g, 220, 40);
    g_pt(g, 30, 210);
    g_pt(g, 128, 20);
    job j = stroke_job("stroke_self_overlap", g, 256, 256, 14, TS_JOIN_ROUND, TS_CAP_ROUND, 0);
    check_vs_cairo(&j, B_CURVE);
    g_free(g);
}

TS_TEST(raster_cairo_dashes)
{
    geom *g = zigzag();
    job j = stroke_job("dash_butt", g, 300, 300, 3, TS_JOIN_MITER, TS_CAP_BUTT, 0);
    j.s.ndash = 4;
    j.s.dash[0] = 10;
    j.s.dash[1] = 5;
    j.s.dash[2] = 2;
    j.s.dash[3] = 5;
    j.s.dash_offset = 3;
    check_vs_cairo(&j, B_WIDE);
    j.name = "dash_round";
    j.s.cap = TS_CAP_ROUND;
    j.s.join = TS_JOIN_ROUND;
    j.s.width = 5;
    j.s.dash_offset = -7.5;
    check_vs_cairo(&j, B_CURVE);
    g_free(g);

    /* dots: zero-length dashes with round caps, the first one on the line's first point
     * (it was skipped) */
    g = zigzag();
    j = stroke_job("dash_dots", g, 300, 300, 6, TS_JOIN_ROUND, TS_CAP_ROUND, 0);
    j.s.ndash = 2;
    j.s.dash[0] = 0;
    j.s.dash[1] = 11.3; /* 12 puts dots exactly on the 30 px zigzag's vertices, where
                         * rounding decides between two right answers */
    check_vs_cairo(&j, B_CURVE);
    g_free(g);
    {
        /* the first dot sits on the first point: half of it (right of x = 20) is drawn */
        ts_raster *r = ts_raster_new();
        ts_err err;
        ts_canvas *c = ts_canvas_new(100, 100, &err);
        TS_REQUIRE(r != NULL && c != NULL);
        double ln[] = {20, 50.5, 90, 50.5};
        uint32_t c2[] = {2};
        ts_parts pl = {ln, c2, 1};
        ts_stroke s;
        memset(&s, 0, sizeof s);
        s.width = 6;
        s.cap = TS_CAP_ROUND;
        s.ndash = 2;
        s.dash[0] = 0;
        s.dash[1] = 12;
        TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &pl, 0, &s, black, 1), TS_OK);
        TS_CHECK(alpha_at(c, 20, 50) > 200 && alpha_at(c, 21, 50) > 200);
        TS_CHECK(alpha_at(c, 32, 50) > 200); /* the second dot, 12 px on */
        TS_CHECK(alpha_at(c, 26, 50) == 0);  /* a gap between them */
        ts_canvas_free(c);
        ts_raster_free(r);
    }

    /* dashes on closed rings (the last dash joins the first at the start vertex) */
    g = g_new();
    g_regular(g, 70, 70, 50, 6, 0.3, 1);
    g_regular(g, 180, 180, 60, 5, 0.1, -1);
    g_part(g);
    g_pt(g, 150.5, 30.5);
    g_pt(g, 240.5, 30.5);
    g_pt(g, 240.5, 100.5);
    g_pt(g, 150.5, 100.5);
    j = stroke_job("dash_rings", g, 256, 256, 4, TS_JOIN_MITER, TS_CAP_SQUARE, 1);
    j.s.ndash = 2;
    j.s.dash[0] = 17;
    j.s.dash[1] = 6;
    j.s.dash_offset = 11.3; /* 11 would end a gap exactly on a vertex: either side is right */
    check_vs_cairo(&j, B_WIDE);
    g_free(g);
}

/* Markers of every shape and a few sizes; Cairo draws the same shapes (circle with
 * cairo_arc, the others as the polygons documented in marker.c). */
static const ts_mark_shape mk_shapes[] = {
    TS_MARK_CIRCLE, TS_MARK_SQUARE,   TS_MARK_TRIANGLE, TS_MARK_STAR,    TS_MARK_CROSS,  TS_MARK_X,
    TS_MARK_DIAMOND, TS_MARK_PENTAGON, TS_MARK_HEXAGON, TS_MARK_OCTAGON, TS_MARK_DECAGON};
#define MK_NSHAPES ((int)(sizeof mk_shapes / sizeof mk_shapes[0]))
#define MK_H 480 /* canvas height for all the rows */
static const double mk_sizes[] = {3, 7.5, 18, 30};

/* far enough apart not to overlap (Cairo at 8x would resolve an overlap exactly, where
 * two separate paths composite as independent coverages, in Cairo at 1x as in ours) */
static void
mk_place(int si, int zi, double *x, double *y, double *rot)
{
    *x = 20 + zi * 60 + 0.3 * si;
    *y = 24 + si * 42 + 0.17 * zi;
    *rot = 17.0 * si;
}

static void
draw_markers(cairo_t *cr, const void *ctx)
{
    const ts_stroke *s = ctx; /* NULL: fill */
    for (int si = 0; si < MK_NSHAPES; si++) {
        for (int zi = 0; zi < 4; zi++) {
            double x, y, rot, rad = mk_sizes[zi] / 2;
            mk_place(si, zi, &x, &y, &rot);
            cairo_save(cr);
            cairo_translate(cr, x, y);
            cairo_rotate(cr, rot * M_PI / 180);
            if (mk_shapes[si] == TS_MARK_CIRCLE) {
                cairo_arc(cr, 0, 0, rad, 0, 2 * M_PI);
            } else if (mk_shapes[si] == TS_MARK_SQUARE) {
                cairo_rectangle(cr, -rad, -rad, 2 * rad, 2 * rad);
            } else if (mk_shapes[si] == TS_MARK_TRIANGLE) {
                cairo_move_to(cr, 0, -rad);
                cairo_line_to(cr, rad * sqrt(3) / 2, rad / 2);
                cairo_line_to(cr, -rad * sqrt(3) / 2, rad / 2);
            } else if (mk_shapes[si] >= TS_MARK_DIAMOND) {
                /* regular polygons: a corner up, the octagon a side up */
                ts_mark_shape m = mk_shapes[si];
                int n = m == TS_MARK_DIAMOND    ? 4
                        : m == TS_MARK_PENTAGON ? 5
                        : m == TS_MARK_HEXAGON  ? 6
                        : m == TS_MARK_OCTAGON  ? 8
                                                : 10;
                double a0 = m == TS_MARK_OCTAGON ? M_PI / 8 : 0;
                for (int i = 0; i < n; i++) {
                    double a = a0 + 2 * M_PI * i / n;
                    if (i == 0)
                        cairo_move_to(cr, rad * sin(a), -rad * cos(a));
                    else
                        cairo_line_to(cr, rad * sin(a), -rad * cos(a));
                }
            } else if (mk_shapes[si] == TS_MARK_STAR) {
                double inner = sin(M_PI / 10) / sin(3 * M_PI / 10);
                for (int i = 0; i < 10; i++) {
                    double a = i * M_PI / 5, rr = (i & 1) ? inner * rad : rad;
                    if (i == 0)
                        cairo_move_to(cr, rr * sin(a), -rr * cos(a));
                    else
                        cairo_line_to(cr, rr * sin(a), -rr * cos(a));
                }
            } else {
                double t = 0.25 * rad;
                if (mk_shapes[si] == TS_MARK_X)
                    cairo_rotate(cr, M_PI / 4);
                double px[12] = {t, t, rad, rad, t, t, -t, -t, -rad, -rad, -t, -t};
                double py[12] = {-rad, -t, -t, t, t, rad, rad, t, t, -t, -t, -rad};
                for (int i = 0; i < 12; i++) {
                    if (i == 0)
                        cairo_move_to(cr, px[i], py[i]);
                    else
                        cairo_line_to(cr, px[i], py[i]);
                }
            }
            cairo_close_path(cr);
            cairo_restore(cr);
            if (s != NULL) {
                cairo_set_line_width(cr, s->width);
                cairo_set_miter_limit(cr, s->miter_limit);
                cairo_stroke(cr);
            } else {
                cairo_fill(cr);
            }
        }
    }
}

TS_TEST(raster_cairo_markers)
{
    for (int outline = 0; outline < 2; outline++) {
        ts_err err;
        ts_canvas *c = ts_canvas_new(256, MK_H, &err);
        ts_raster *r = ts_raster_new();
        TS_REQUIRE(c != NULL && r != NULL);
        ts_stroke s;
        memset(&s, 0, sizeof s);
        s.width = 1.5;
        s.join = TS_JOIN_MITER;
        s.miter_limit = 10;
        for (int si = 0; si < MK_NSHAPES; si++) {
            for (int zi = 0; zi < 4; zi++) {
                double x, y, rot;
                mk_place(si, zi, &x, &y, &rot);
                ts_rgba fill = outline ? (ts_rgba){0, 0, 0, 0} : black;
                TS_CHECK_INT(ts_raster_marker(r, c, x, y, mk_shapes[si], mk_sizes[zi], rot, fill,
                                              outline ? &s : NULL, black, 1.0),
                             TS_OK);
            }
        }
        uint8_t *ours = canvas_alpha(c);
        check_alpha(outline ? "markers_outline" : "markers_fill", ours, 256, MK_H, draw_markers,
                    outline ? &s : NULL, outline ? B_OVERLAP : B_CURVE);
        free(ours);
        ts_canvas_free(c);
        ts_raster_free(r);
    }
}

TS_TEST(raster_cairo_off_canvas)
{
    /* a large polygon off the canvas on every side, and one with vertices 1e4 px away
     * (Cairo goes wrong from ~4e5 device px on, 5e4 px at 8x: its 24.8 coordinates end at
     * 8.4M px and its edge arithmetic overflows earlier; raster_huge_coordinates checks
     * ours far beyond that against exact answers) */
    geom *g = g_new();
    g_part(g);
    g_pt(g, -300.5, 60.3);
    g_pt(g, 128.2, -400.7);
    g_pt(g, 500.1, 140.6);
    g_pt(g, 100.4, 700.9);
    g_part(g);
    g_pt(g, -1e4, -0.75e4);
    g_pt(g, 1e4 + 0.5, 0.5e4);
    g_pt(g, 200.5, 230.25);
    job j = fill_job("offcanvas_fill", g, 256, 256, TS_FILL_EVENODD);
    check_vs_cairo(&j, B_FILL);
    g_free(g);

    /* strokes leaving the canvas, a long dashed line across it from far away */
    g = g_new();
    g_part(g);
    g_pt(g, -100, 20);
    g_pt(g, 128, 128);
    g_pt(g, 400, 30);
    g_pt(g, 300, 300);
    g_pt(g, 100, 500);
    g_part(g);
    g_pt(g, -5000.3, 240.6);
    g_pt(g, 9000.2, 170.1);
    j = stroke_job("offcanvas_stroke", g, 256, 256, 9, TS_JOIN_ROUND, TS_CAP_ROUND, 0);
    check_vs_cairo(&j, B_CURVE);
    j.name = "offcanvas_dash";
    j.s.width = 3;
    j.s.ndash = 2;
    j.s.dash[0] = 9;
    j.s.dash[1] = 4;
    j.s.dash_offset = 1.5;
    check_vs_cairo(&j, B_CURVE);
    g_free(g);

    /* a closed ring that leaves the canvas, its start vertex on the canvas */
    g = g_new();
    g_part(g);
    g_pt(g, 100.5, 120.5);
    g_pt(g, 600, 100);
    g_pt(g, 500, 900);
    g_pt(g, 60.5, 200.5);
    j = stroke_job("offcanvas_ring", g, 256, 256, 6, TS_JOIN_MITER, TS_CAP_BUTT, 1);
    check_vs_cairo(&j, B_WIDE);
    g_free(g);
}

TS_TEST(raster_huge_coordinates)
{
    /* beyond Cairo's range: a triangle with vertices 1e9 .. 1e20 px away whose visible
     * part is exactly the rows y >= 50.5; and a line from -1e15 to 1e15 at y = 100.5 */
    ts_err err;
    ts_canvas *c = ts_canvas_new(256, 256, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    static const double far[] = {1e9, 1e12, 1e15, 1e20};
    for (int k = 0; k < 4; k++) {
        ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
        double f = far[k];
        double xy[] = {-f, 50.5, f, 50.5, 0, f};
        uint32_t cnt[] = {3};
        ts_parts p = {xy, cnt, 1};
        TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, black, 1), TS_OK);
        int bad = 0;
        for (int y = 0; y < 256; y++)
            for (int x = 0; x < 256; x++)
                bad += alpha_at(c, x, y) != (y < 50 ? 0u : y == 50 ? 128u : 255u);
        TS_CHECK_INT(bad, 0);
        ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
        double ln[] = {-f, 100, f, 100};
        uint32_t c2[] = {2};
        ts_parts pl = {ln, c2, 1};
        ts_stroke s;
        memset(&s, 0, sizeof s);
        s.width = 2;
        s.ndash = k & 1 ? 2 : 0;
        s.dash[0] = 5;
        s.dash[1] = 3;
        TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &pl, 0, &s, black, 1), TS_OK);
        if (s.ndash == 0)
            TS_CHECK_NEAR(alpha_sum(c) / 255, 2 * 256, 1e-9);
        else /* 5 on, 3 off: 160 of 256 columns, give or take the cut dashes at the ends */
            TS_CHECK_NEAR(alpha_sum(c) / 255, 2 * 256 * 5 / 8, 2 * 5 + 1e-9);
    }
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_stroke_outline_moved_and_turned_is_the_stroke)
{
    /* a wavy closed ring with a hole, stroked with round joins: its outline computed once
     * around the origin, then moved and turned and filled nonzero, gives the pixels of
     * stroking the moved and turned ring (the cached halo of a glyph relies on it) */
    ts_err err;
    ts_canvas *a = ts_canvas_new(160, 160, &err), *b = ts_canvas_new(160, 160, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(a != NULL && b != NULL && r != NULL);
    enum { N = 60 };
    double ring[2 * (N + 4)];
    for (int i = 0; i < N; i++) {
        double t = 2 * M_PI * i / N, rad = 20 + 4 * sin(5 * t);
        ring[2 * i] = rad * cos(t);
        ring[2 * i + 1] = rad * sin(t);
    }
    double hole[] = {-5, -5, -5, 5, 5, 5, 5, -5}; /* wound the other way */
    memcpy(ring + 2 * N, hole, sizeof hole);
    uint32_t counts[] = {N, 4};
    ts_parts local = {ring, counts, 2};
    ts_stroke s;
    memset(&s, 0, sizeof s);
    s.width = 3;
    s.join = TS_JOIN_ROUND;
    s.cap = TS_CAP_ROUND;
    const double *oxy;
    const uint32_t *oc;
    uint32_t nc;
    TS_REQUIRE(ts_raster_stroke_outline(r, &local, 1, &s, &oxy, &oc, &nc) == TS_OK);
    TS_REQUIRE(nc >= 2);
    size_t n = 0;
    for (uint32_t k = 0; k < nc; k++)
        n += oc[k];
    double *outline = malloc(n * 2 * sizeof *outline), *moved = malloc(n * 2 * sizeof *moved);
    uint32_t *ocounts = malloc(nc * sizeof *ocounts);
    TS_REQUIRE(outline && moved && ocounts);
    memcpy(outline, oxy, n * 2 * sizeof *outline);
    memcpy(ocounts, oc, nc * sizeof *ocounts);
    double placed[2 * (N + 4)];
    static const double angles[] = {0, 0.3, 1.9, -2.7};
    for (size_t k = 0; k < sizeof angles / sizeof angles[0]; k++) {
        double cs = cos(angles[k]), sn = sin(angles[k]), dx = 80.37, dy = 79.81;
        for (int i = 0; i < N + 4; i++) {
            placed[2 * i] = dx + cs * ring[2 * i] - sn * ring[2 * i + 1];
            placed[2 * i + 1] = dy + sn * ring[2 * i] + cs * ring[2 * i + 1];
        }
        for (size_t i = 0; i < n; i++) {
            moved[2 * i] = dx + cs * outline[2 * i] - sn * outline[2 * i + 1];
            moved[2 * i + 1] = dy + sn * outline[2 * i] + cs * outline[2 * i + 1];
        }
        ts_canvas_clear(a, (ts_rgba){0, 0, 0, 0});
        ts_canvas_clear(b, (ts_rgba){0, 0, 0, 0});
        ts_parts pp = {placed, counts, 2}, mp = {moved, ocounts, nc};
        TS_CHECK_INT(ts_raster_stroke(r, a, &ident, &pp, 1, &s, black, 1), TS_OK);
        TS_CHECK_INT(ts_raster_fill(r, b, &ident, &mp, TS_FILL_NONZERO, black, 1), TS_OK);
        int maxd = 0;
        for (int y = 0; y < 160; y++)
            for (int x = 0; x < 160; x++) {
                int d = abs((int)alpha_at(a, x, y) - (int)alpha_at(b, x, y));
                maxd = d > maxd ? d : maxd;
            }
        if (maxd > 1)
            printf("  angle %.1f: max diff %d\n", angles[k], maxd);
        TS_CHECK(maxd <= 1);
        TS_CHECK(alpha_sum(a) > 255.0 * 2 * M_PI * 20 * 3 * 0.9);
    }
    /* nothing to stroke: no contours */
    s.width = 0;
    TS_CHECK_INT(ts_raster_stroke_outline(r, &local, 1, &s, &oxy, &oc, &nc), TS_OK);
    TS_CHECK_INT(nc, 0);
    TS_CHECK_INT(ts_raster_stroke_outline(NULL, &local, 1, &s, &oxy, &oc, &nc), TS_EINVAL);
    free(outline);
    free(moved);
    free(ocounts);
    ts_canvas_free(a);
    ts_canvas_free(b);
    ts_raster_free(r);
}

/* ------------------------------------------------------------------------------------ */
/* exact properties                                                                      */

TS_TEST(raster_aligned_rectangle_is_exact)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(64, 48, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    /* map rectangle x 100..600, y 200..500 with 20 map units per pixel, y up */
    ts_affine t = {0.05, -0.05, 2, 40};
    double xy[] = {100, 200, 600, 200, 600, 500, 100, 500};
    uint32_t cnt[] = {4};
    ts_parts p = {xy, cnt, 1};
    ts_rgba col = {200, 100, 50, 255};
    TS_CHECK_INT(ts_raster_fill(r, c, &t, &p, TS_FILL_NONZERO, col, 1.0), TS_OK);
    /* pixels x 7..31, y 15..29 */
    int bad = 0;
    for (int y = 0; y < c->h; y++) {
        for (int x = 0; x < c->w; x++) {
            int in = x >= 7 && x < 32 && y >= 15 && y < 30;
            uint32_t v = c->px[y * c->stride + x];
            if (v != (in ? ts_rgba_premul(col) : 0u))
                bad++;
        }
    }
    TS_CHECK_INT(bad, 0);
    /* the same colour again over itself: no drift */
    TS_CHECK_INT(ts_raster_fill(r, c, &t, &p, TS_FILL_NONZERO, col, 1.0), TS_OK);
    TS_CHECK_INT(c->px[20 * c->stride + 20], ts_rgba_premul(col));
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_coverage_sums_to_area)
{
    rnd_seed(5);
    ts_err err;
    ts_canvas *c = ts_canvas_new(200, 200, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    /* random simple polygons (star-shaped around a centre, so non-self-intersecting) */
    for (int k = 0; k < 20; k++) {
        ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
        double xy[64];
        int n = 3 + (int)(rnd() * 29);
        double cx = 100 + (rnd() - 0.5) * 20, cy = 100 + (rnd() - 0.5) * 20;
        double area = 0;
        for (int i = 0; i < n; i++) {
            double a = 2 * M_PI * i / n + rnd() * 0.1, rr = 10 + rnd() * 80;
            xy[2 * i] = cx + rr * cos(a);
            xy[2 * i + 1] = cy + rr * sin(a);
        }
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            area += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
        }
        area = fabs(area) / 2;
        uint32_t cnt[] = {(uint32_t)n};
        ts_parts p = {xy, cnt, 1};
        TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, black, 1.0), TS_OK);
        double got = alpha_sum(c) / 255;
        TS_CHECK(fabs(got - area) <= 0.005 * area);
    }
    /* tiny ones: 0.3 .. 3 px, absolute error of rounding 24.8 and 8-bit output */
    for (int k = 0; k < 200; k++) {
        ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
        double x = 10 + rnd() * 100, y = 10 + rnd() * 100, s = 0.3 + rnd() * 2.7;
        double xy[] = {x, y, x + s, y + 0.1 * s, x + 0.7 * s, y + s};
        double area = fabs((s) * (s) - (0.1 * s) * (0.7 * s)) / 2;
        uint32_t cnt[] = {3};
        ts_parts p = {xy, cnt, 1};
        TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, black, 1.0), TS_OK);
        /* each touched pixel rounds to 1/255: at most 9 pixels * 0.5/255 */
        TS_CHECK(fabs(alpha_sum(c) / 255 - area) <= 0.02 + 0.005 * area);
    }
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_opacity_and_compositing)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(16, 16, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    double xy[] = {2, 2, 14, 2, 14, 14, 2, 14};
    uint32_t cnt[] = {4};
    ts_parts p = {xy, cnt, 1};
    ts_rgba red = {255, 0, 0, 255};
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, red, 0.5), TS_OK);
    /* alpha round(255 * 0.5) = 128, premultiplied red 128 */
    TS_CHECK_INT(c->px[5 * 16 + 5], 128u | (128u << 24));
    TS_CHECK_INT(c->px[0], 0);
    /* blue at 50% over it: each byte = src + dst * (255 - 128) / 255, rounded */
    ts_rgba blue = {0, 0, 255, 255};
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, blue, 0.5), TS_OK);
    uint32_t v = c->px[5 * 16 + 5];
    TS_CHECK_INT(v & 255, 64);           /* 128 * 127 / 255 = 63.75 */
    TS_CHECK_INT((v >> 16) & 255, 128);  /* 128 */
    TS_CHECK_INT(v >> 24, 192);          /* 128 + 63.75 */
    /* opaque over anything gives the colour exactly */
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, red, 1.0), TS_OK);
    TS_CHECK_INT(c->px[5 * 16 + 5], ts_rgba_premul(red));
    /* translucent colour alpha and opacity multiply */
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    ts_rgba half = {0, 255, 0, 128};
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, half, 0.5), TS_OK);
    TS_CHECK_INT(c->px[5 * 16 + 5] >> 24, 64);
    /* opacity 0, NaN: nothing */
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, red, 0.0), TS_OK);
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, red, NAN), TS_OK);
    TS_CHECK(alpha_sum(c) == 0);
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_evenodd_vs_nonzero_star)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(100, 100, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    double xy[10];
    for (int i = 0; i < 5; i++) {
        double a = -M_PI / 2 + i * 4 * M_PI / 5;
        xy[2 * i] = 50 + 45 * cos(a);
        xy[2 * i + 1] = 50 + 45 * sin(a);
    }
    uint32_t cnt[] = {5};
    ts_parts p = {xy, cnt, 1};
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, black, 1.0), TS_OK);
    TS_CHECK_INT(alpha_at(c, 50, 50), 255);
    double nz = alpha_sum(c);
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_EVENODD, black, 1.0), TS_OK);
    TS_CHECK_INT(alpha_at(c, 50, 50), 0);
    TS_CHECK_INT(alpha_at(c, 50, 12), 255); /* a point of the star */
    double eo = alpha_sum(c);
    /* the pentagon in the middle: radius 45 * sin 18 / sin 54 of the star's */
    double ri = 45 * sin(M_PI / 10) / sin(3 * M_PI / 10);
    double pent = 2.5 * ri * ri * sin(2 * M_PI / 5);
    TS_CHECK(fabs((nz - eo) / 255 - pent) < 0.005 * pent);
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_holes)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(64, 64, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    /* outer clockwise, hole counter-clockwise (on screen) */
    double xy[] = {4, 4, 60, 4, 60, 60, 4, 60, 20, 20, 20, 44, 44, 44, 44, 20};
    uint32_t cnt[] = {4, 4};
    ts_parts p = {xy, cnt, 2};
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, TS_FILL_NONZERO, black, 1.0), TS_OK);
    TS_CHECK_INT(alpha_at(c, 32, 32), 0);
    TS_CHECK_INT(alpha_at(c, 10, 32), 255);
    TS_CHECK_NEAR(alpha_sum(c) / 255, 56 * 56 - 24 * 24, 1e-9);
    /* even-odd with the hole wound the same way */
    double xy2[] = {4, 4, 60, 4, 60, 60, 4, 60, 20, 20, 44, 20, 44, 44, 20, 44};
    ts_parts p2 = {xy2, cnt, 2};
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p2, TS_FILL_EVENODD, black, 1.0), TS_OK);
    TS_CHECK_INT(alpha_at(c, 32, 32), 0);
    TS_CHECK_NEAR(alpha_sum(c) / 255, 56 * 56 - 24 * 24, 1e-9);
    /* ... and nonzero fills that hole */
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p2, TS_FILL_NONZERO, black, 1.0), TS_OK);
    TS_CHECK_INT(alpha_at(c, 32, 32), 255);
    ts_canvas_free(c);
    ts_raster_free(r);
}

/* Draw with fill or stroke at an offset; shared by the clipping and band tests. */
static ts_status
draw_shape(ts_raster *r, ts_canvas *c, int stroke, double dx, double dy)
{
    static const double base[] = {-37.3, 20.6, 90.2, -41.7, 170.9, 60.3, 120.5, 150.8,
                                  30.1,  95.4, 80.7, 60.2,  -20.6, 140.1};
    double xy[14];
    for (int i = 0; i < 7; i++) {
        xy[2 * i] = base[2 * i] + dx;
        xy[2 * i + 1] = base[2 * i + 1] + dy;
    }
    uint32_t cnt[] = {7};
    ts_parts p = {xy, cnt, 1};
    ts_affine t = {1, 1, 0, 0};
    if (stroke) {
        ts_stroke s;
        memset(&s, 0, sizeof s);
        s.width = 7;
        s.join = TS_JOIN_ROUND;
        s.cap = TS_CAP_SQUARE;
        return ts_raster_stroke(r, c, &t, &p, 0, &s, black, 1.0);
    }
    return ts_raster_fill(r, c, &t, &p, TS_FILL_NONZERO, black, 1.0);
}

TS_TEST(raster_clipping_does_not_change_the_visible_part)
{
    ts_err err;
    /* the shape spans x -41..171, y -42..151: draw it on a 100x80 canvas whose origin is
     * at (0, 0), and unclipped on a 400x400 canvas shifted by (100, 100) */
    ts_canvas *small = ts_canvas_new(100, 80, &err);
    ts_canvas *big = ts_canvas_new(400, 400, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(small != NULL && big != NULL && r != NULL);
    for (int stroke = 0; stroke < 2; stroke++) {
        ts_canvas_clear(small, (ts_rgba){0, 0, 0, 0});
        ts_canvas_clear(big, (ts_rgba){0, 0, 0, 0});
        TS_CHECK_INT(draw_shape(r, small, stroke, 0, 0), TS_OK);
        TS_CHECK_INT(draw_shape(r, big, stroke, 100, 100), TS_OK);
        int maxd = 0;
        for (int y = 0; y < small->h; y++)
            for (int x = 0; x < small->w; x++) {
                int d = abs((int)alpha_at(small, x, y) - (int)alpha_at(big, x + 100, y + 100));
                maxd = d > maxd ? d : maxd;
            }
        /* the clipped edges are cut in double and rounded to 1/256 px again: at most a
         * rounding step of one pixel's coverage */
        TS_CHECK(maxd <= 1);
        TS_CHECK(alpha_sum(small) > 1000);
    }
    ts_canvas_free(small);
    ts_canvas_free(big);
    ts_raster_free(r);
}

TS_TEST(raster_bands_match_single_pass)
{
    /* a canvas so wide that the cell budget (1M cells) allows ~127 rows per band; the same
     * shape on a narrow canvas is rendered in one band */
    ts_err err;
    ts_canvas *wide = ts_canvas_new(8192, 400, &err);
    ts_canvas *narrow = ts_canvas_new(400, 400, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(wide != NULL && narrow != NULL && r != NULL);
    for (int stroke = 0; stroke < 2; stroke++) {
        ts_canvas_clear(wide, (ts_rgba){0, 0, 0, 0});
        ts_canvas_clear(narrow, (ts_rgba){0, 0, 0, 0});
        /* the shape scaled to span ~350 rows */
        TS_CHECK_INT(draw_shape(r, wide, stroke, 7000.25, 100.5), TS_OK);
        TS_CHECK_INT(draw_shape(r, narrow, stroke, 100.25, 100.5), TS_OK);
        long diff = 0;
        for (int y = 0; y < 400; y++)
            for (int x = 0; x < 400; x++)
                diff += alpha_at(wide, x + 6900, y) != alpha_at(narrow, x, y);
        TS_CHECK_INT(diff, 0);
        TS_CHECK(alpha_sum(narrow) > 1000);
    }
    ts_canvas_free(wide);
    ts_canvas_free(narrow);
    ts_raster_free(r);
}

TS_TEST(raster_tiny_kernel_matches_general_path)
{
    rnd_seed(6);
    /* Small paths take the tiny-path kernel. The same path plus a zero-area ring across
     * the canvas (drawing nothing) takes the general one. Both must agree, for both rules
     * and opaque and translucent paint, on random small (self-intersecting) polygons. */
    ts_err err;
    ts_canvas *a = ts_canvas_new(64, 64, &err);
    ts_canvas *b = ts_canvas_new(64, 64, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(a != NULL && b != NULL && r != NULL);
    ts_rgba cols[2] = {{200, 30, 90, 255}, {20, 180, 220, 140}};
    int maxd = 0;
    long drawn = 0;
    for (int k = 0; k < 400; k++) {
        double xy[2 * 10];
        uint32_t n = 3 + (uint32_t)(rnd() * 5);
        double cx = 8 + rnd() * 48, cy = 8 + rnd() * 48, size = 0.3 + rnd() * (k < 300 ? 4 : 13);
        for (uint32_t i = 0; i < n; i++) {
            xy[2 * i] = cx + (rnd() - 0.5) * size;
            xy[2 * i + 1] = cy + (rnd() - 0.5) * size;
        }
        xy[2 * n] = 0.5;
        xy[2 * n + 1] = 0.5;
        xy[2 * n + 2] = 63.5;
        xy[2 * n + 3] = 60.25;
        xy[2 * n + 4] = 0.5;
        xy[2 * n + 5] = 0.5;
        uint32_t c1[] = {n}, c2[] = {n, 3};
        ts_parts tiny = {xy, c1, 1}, general = {xy, c2, 2};
        ts_fill_rule rule = (k & 1) ? TS_FILL_EVENODD : TS_FILL_NONZERO;
        ts_rgba col = cols[(k >> 1) & 1];
        ts_canvas_clear(a, (ts_rgba){90, 90, 90, 255});
        ts_canvas_clear(b, (ts_rgba){90, 90, 90, 255});
        TS_CHECK_INT(ts_raster_fill(r, a, &ident, &tiny, rule, col, 0.8), TS_OK);
        TS_CHECK_INT(ts_raster_fill(r, b, &ident, &general, rule, col, 0.8), TS_OK);
        for (int i = 0; i < 64 * 64; i++) {
            for (int ch = 0; ch < 32; ch += 8) {
                int d = abs((int)((a->px[i] >> ch) & 255) - (int)((b->px[i] >> ch) & 255));
                maxd = d > maxd ? d : maxd;
            }
            drawn += a->px[i] != 0xff5a5a5au;
        }
    }
    /* the two paths round 24.8 coordinates relative to different origins and walk lines
     * differently: at most a rounding step of one pixel's coverage */
    TS_CHECK(maxd <= 2);
    TS_CHECK(drawn > 1000);
    ts_canvas_free(a);
    ts_canvas_free(b);
    ts_raster_free(r);
}

TS_TEST(raster_shapes_ending_on_the_canvas_edge)
{
    /* boxes ending exactly on x = w and y = h (tiny and general paths, fills and strokes),
     * and on the last row of a view; under ASan this also checks nothing is read or
     * written past the canvas or outside a view's rows */
    ts_err err;
    ts_canvas *full = ts_canvas_new(40, 30, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(full != NULL && r != NULL);
    for (int big = 0; big < 2; big++) {
        ts_canvas_clear(full, (ts_rgba){0, 0, 0, 0});
        /* a view of rows 5..24 (image coordinates, as for the whole image) whose rows end
         * before the parent's stride: the shape ends on its right edge and its last row */
        ts_canvas v = ts_canvas_view(full, 5, 20);
        v.w = 30;
        double s = big ? 18 : 4;
        double xy[] = {30 - s, 25 - s, 30, 25 - s, 30, 25, 30 - s, 25};
        uint32_t cnt[] = {4};
        ts_parts p = {xy, cnt, 1};
        TS_CHECK_INT(ts_raster_fill(r, &v, &ident, &p, TS_FILL_NONZERO, black, 1), TS_OK);
        TS_CHECK_NEAR(alpha_sum(full) / 255, s * s, 1e-9);
        TS_CHECK_INT(alpha_at(full, 29, 24), 255);
        TS_CHECK_INT(alpha_at(full, 30, 24), 0);
        TS_CHECK_INT(alpha_at(full, 29, 25), 0);
        ts_stroke st;
        memset(&st, 0, sizeof st);
        st.width = 1.5;
        TS_CHECK_INT(ts_raster_stroke(r, &v, &ident, &p, 1, &st, black, 1), TS_OK);
        TS_CHECK_INT(alpha_at(full, 30, 24), 0);
        TS_CHECK_INT(alpha_at(full, 29, 25), 0); /* the stroke goes on below the view */
        TS_CHECK_INT(alpha_at(full, 29, 24), 255);
        /* the canvas itself: its last row is the end of its pixels */
        ts_canvas_clear(full, (ts_rgba){0, 0, 0, 0});
        double xy2[] = {40 - s, 30 - s, 40, 30 - s, 40, 30, 40 - s, 30};
        ts_parts p2 = {xy2, cnt, 1};
        TS_CHECK_INT(ts_raster_fill(r, full, &ident, &p2, TS_FILL_EVENODD, black, 1), TS_OK);
        TS_CHECK_INT(ts_raster_stroke(r, full, &ident, &p2, 1, &st, black, 0.5), TS_OK);
        TS_CHECK_INT(alpha_at(full, 39, 29), 255);
        /* a view holding the image's last rows, the shape starting above the view */
        ts_canvas_clear(full, (ts_rgba){0, 0, 0, 0});
        ts_canvas v2 = ts_canvas_view(full, 20, 10);
        TS_CHECK_INT(ts_raster_fill(r, &v2, &ident, &p2, TS_FILL_NONZERO, black, 1), TS_OK);
        TS_CHECK_INT(ts_raster_stroke(r, &v2, &ident, &p2, 1, &st, black, 0.5), TS_OK);
        TS_CHECK_INT(alpha_at(full, 39, 29), 255);
        TS_CHECK_INT(alpha_at(full, 39, 20), big ? 255 : 0);
        TS_CHECK_INT(alpha_at(full, 39, 19), 0);
    }
    ts_canvas_free(full);
    ts_raster_free(r);
}

TS_TEST(raster_view_honours_stride)
{
    ts_err err;
    ts_canvas *full = ts_canvas_new(120, 90, &err);
    ts_canvas *ref = ts_canvas_new(120, 90, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(full != NULL && ref != NULL && r != NULL);
    /* render in three bands of rows through views, as render does: the views take the
     * whole image's coordinates and give its pixels exactly */
    for (int band = 0; band < 3; band++) {
        ts_canvas v = ts_canvas_view(full, band * 30, 30);
        TS_CHECK_INT(v.row0, band * 30);
        TS_CHECK_INT(v.full_h, 90);
        for (int stroke = 0; stroke < 2; stroke++)
            TS_CHECK_INT(draw_shape(r, &v, stroke, 0, 0), TS_OK);
    }
    for (int stroke = 0; stroke < 2; stroke++)
        TS_CHECK_INT(draw_shape(r, ref, stroke, 0, 0), TS_OK);
    TS_CHECK(memcmp(full->px, ref->px, 120 * 90 * sizeof *full->px) == 0);
    TS_CHECK(alpha_sum(ref) > 1000);
    /* a view of a view: rows 40..49 of the image */
    ts_canvas v1 = ts_canvas_view(full, 30, 40);
    ts_canvas v2 = ts_canvas_view(&v1, 10, 10);
    TS_CHECK_INT(v2.row0, 40);
    TS_CHECK_INT(v2.full_h, 90);
    TS_CHECK(v2.px == full->px + 40 * 120);
    /* a view narrower than its stride: nothing lands outside it */
    ts_canvas sub = ts_canvas_view(full, 10, 20);
    sub.w = 50;
    ts_canvas_clear(full, (ts_rgba){0, 0, 0, 0});
    double xy[] = {-10, -10, 200, -10, 200, 200, -10, 200};
    uint32_t cnt[] = {4};
    ts_parts p = {xy, cnt, 1};
    TS_CHECK_INT(ts_raster_fill(r, &sub, &ident, &p, TS_FILL_NONZERO, black, 1.0), TS_OK);
    TS_CHECK_NEAR(alpha_sum(full) / 255, 50 * 20, 1e-9);
    TS_CHECK_INT(alpha_at(full, 49, 10), 255);
    TS_CHECK_INT(alpha_at(full, 50, 10), 0);
    /* a canvas built by hand (row0 = full_h = 0) is a whole image */
    ts_canvas_clear(full, (ts_rgba){0, 0, 0, 0});
    ts_canvas_clear(ref, (ts_rgba){0, 0, 0, 0});
    ts_canvas hand = {.w = 120, .h = 90, .stride = 120, .px = full->px, .owns = 0};
    for (int stroke = 0; stroke < 2; stroke++) {
        TS_CHECK_INT(draw_shape(r, &hand, stroke, 3.5, -7.25), TS_OK);
        TS_CHECK_INT(draw_shape(r, ref, stroke, 3.5, -7.25), TS_OK);
    }
    TS_CHECK(memcmp(full->px, ref->px, 120 * 90 * sizeof *full->px) == 0);
    ts_canvas_free(full);
    ts_canvas_free(ref);
    ts_raster_free(r);
}

/* Largest channel difference between two canvases of the same size. */
static int
max_channel_diff(const ts_canvas *a, const ts_canvas *b)
{
    int maxd = 0;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            uint32_t pa = a->px[(size_t)y * (size_t)a->stride + (size_t)x];
            uint32_t pb = b->px[(size_t)y * (size_t)b->stride + (size_t)x];
            for (int ch = 0; ch < 32; ch += 8) {
                int d = abs((int)((pa >> ch) & 255) - (int)((pb >> ch) & 255));
                maxd = d > maxd ? d : maxd;
            }
        }
    return maxd;
}

/* --- bands: views of rows give the whole drawing's pixels exactly ------------------- */

enum { OP_FILL, OP_STROKE, OP_FILL_STROKE, OP_MARKER, OP_MASK, OP_IMAGE };

/* One drawing call, replayed onto the whole image and onto band views. */
typedef struct band_op {
    int kind;
    geom *g;
    ts_fill_rule rule;
    int closed;
    ts_stroke s;
    int has_stroke;
    ts_rgba fill, line;
    double opacity;
    double mx, my, size, rot; /* marker */
    ts_mark_shape shape;
    int ix, iy, iw, ih; /* mask, image */
    uint8_t *mask;
    uint32_t *img;
} band_op;

static ts_status
band_op_draw(ts_raster *r, ts_canvas *c, const band_op *op)
{
    ts_parts p = op->g ? g_parts(op->g) : (ts_parts){NULL, NULL, 0};
    switch (op->kind) {
    case OP_FILL:
        return ts_raster_fill(r, c, &op->g->t, &p, op->rule, op->fill, op->opacity);
    case OP_STROKE:
        return ts_raster_stroke(r, c, &op->g->t, &p, op->closed, &op->s, op->line, op->opacity);
    case OP_FILL_STROKE:
        return ts_raster_fill_stroke(r, c, &op->g->t, &p, op->rule, op->fill, op->opacity,
                                     op->has_stroke ? &op->s : NULL, op->line, 1.0);
    case OP_MARKER:
        return ts_raster_marker(r, c, op->mx, op->my, op->shape, op->size, op->rot, op->fill,
                                op->has_stroke ? &op->s : NULL, op->line, op->opacity);
    case OP_MASK:
        ts_raster_blend_mask(c, op->ix, op->iy, op->mask, op->iw, op->ih, op->iw, op->fill,
                             op->opacity);
        return TS_OK;
    case OP_IMAGE:
        ts_raster_blend_image(c, op->ix, op->iy, op->img, op->iw, op->ih, op->iw, op->opacity);
        return TS_OK;
    }
    return TS_EINVAL;
}

/* A ring of n points at random angles around (cx, cy), radii rad * 0.3..1, wound dir. */
static void
band_ring(geom *g, double cx, double cy, double rad, int n, int dir)
{
    double a[16];
    for (int i = 0; i < n; i++)
        a[i] = rnd() * 2 * M_PI;
    for (int i = 1; i < n; i++) /* sort the angles: a star-shaped ring */
        for (int j = i; j > 0 && a[j] < a[j - 1]; j--) {
            double t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
    g_part(g);
    for (int i = 0; i < n; i++) {
        double ang = dir > 0 ? a[i] : a[n - 1 - i], rr = rad * (0.3 + 0.7 * rnd());
        g_pt(g, cx + rr * cos(ang), cy + rr * sin(ang));
    }
}

/* A random drawing call on a w x h image: shapes from a tenth of a pixel to larger than the
 * image, many centred on the borders of 2, 3 or 7 bands, some partly or wholly off the
 * image, some with huge coordinates; every kind of call, opaque and translucent. Counts
 * the small shapes straddling a band border into *straddle. */
static void
band_op_random(band_op *op, int w, int h, int *straddle)
{
    static const ts_line_join joins[3] = {TS_JOIN_MITER, TS_JOIN_ROUND, TS_JOIN_BEVEL};
    static const ts_line_cap caps[3] = {TS_CAP_BUTT, TS_CAP_ROUND, TS_CAP_SQUARE};
    static const int nbs[3] = {2, 3, 7};
    memset(op, 0, sizeof *op);
    double u = rnd();
    op->kind = u < 0.3 ? OP_FILL : u < 0.55 ? OP_STROKE : u < 0.75 ? OP_FILL_STROKE
               : u < 0.9 ? OP_MARKER : u < 0.95 ? OP_MASK : OP_IMAGE;
    double cx = -0.2 * w + rnd() * 1.4 * w, cy = -0.2 * h + rnd() * 1.4 * h;
    int border = -1;
    if (rnd() < 0.45) { /* on a band border, as render splits the rows */
        int nb = nbs[(int)(rnd() * 3)];
        int i = 1 + (int)(rnd() * (nb - 1));
        border = (int)((int64_t)h * i / nb);
        cy = border + (rnd() - 0.5) * 8;
    } else if (rnd() < 0.1) { /* on the image's bottom or top edge */
        cy = rnd() < 0.5 ? h - rnd() * 2 : rnd() * 2;
    }
    double v = rnd(), size = v < 0.4 ? 0.1 + rnd() * 6 : v < 0.75 ? 6 + rnd() * 40
                            : v < 0.93 ? 40 + rnd() * 1.5 * (w > h ? w : h) : 1e6 * rnd();
    if (size < 28 && border >= 0 && cy - size / 2 < border && cy + size / 2 > border)
        (*straddle)++;
    ts_rgba cols[4] = {{40, 40, 40, 255}, {251, 247, 236, 255}, {20, 180, 220, 140},
                       {200, 30, 90, 60}};
    op->fill = cols[(int)(rnd() * 4)];
    op->line = cols[(int)(rnd() * 4)];
    op->opacity = rnd() < 0.7 ? 1.0 : 0.2 + 0.7 * rnd();
    op->rule = rnd() < 0.5 ? TS_FILL_NONZERO : TS_FILL_EVENODD;
    op->s.width = rnd() < 0.6 ? 0.2 + rnd() * 2 : 2 + rnd() * 14;
    op->s.join = joins[(int)(rnd() * 3)];
    op->s.cap = caps[(int)(rnd() * 3)];
    op->s.miter_limit = rnd() < 0.3 ? 1 + rnd() * 20 : 0;
    if (rnd() < 0.25) {
        op->s.ndash = 2 + 2 * (int)(rnd() * 2);
        for (int i = 0; i < op->s.ndash; i++)
            op->s.dash[i] = 0.5 + rnd() * 12;
        op->s.dash_offset = rnd() * 10;
    }
    op->has_stroke = rnd() < 0.7;
    switch (op->kind) {
    case OP_FILL:
    case OP_FILL_STROKE: {
        op->g = g_new();
        int parts = 1 + (rnd() < 0.3) + (rnd() < 0.1);
        band_ring(op->g, cx, cy, size / 2, 3 + (int)(rnd() * 10), 1);
        for (int k = 1; k < parts; k++) /* holes: wound the other way, inside the outer */
            band_ring(op->g, cx + (rnd() - 0.5) * size * 0.2, cy + (rnd() - 0.5) * size * 0.2,
                      size * 0.15, 3 + (int)(rnd() * 6), -1);
        break;
    }
    case OP_STROKE: {
        op->g = g_new();
        op->closed = rnd() < 0.4;
        int parts = 1 + (rnd() < 0.2);
        for (int k = 0; k < parts; k++) {
            g_part(op->g);
            int n = 2 + (int)(rnd() * 8);
            double x = cx, y = cy;
            for (int i = 0; i < n; i++) {
                g_pt(op->g, x, y);
                x += (rnd() - 0.5) * size;
                y += (rnd() - 0.5) * size;
            }
        }
        break;
    }
    case OP_MARKER:
        op->mx = cx;
        op->my = cy;
        op->size = size < 60 ? size : 1 + rnd() * 60;
        op->rot = rnd() * 360;
        op->shape = (ts_mark_shape)(int)(rnd() * 6);
        break;
    case OP_MASK:
    case OP_IMAGE:
        op->ix = (int)floor(cx);
        op->iy = (int)floor(cy);
        op->iw = 1 + (int)(rnd() * 40);
        op->ih = 1 + (int)(rnd() * 40);
        op->mask = malloc((size_t)op->iw * (size_t)op->ih);
        op->img = malloc((size_t)op->iw * (size_t)op->ih * sizeof *op->img);
        for (int i = 0; i < op->iw * op->ih; i++) {
            op->mask[i] = (uint8_t)(rnd() * 256);
            uint32_t a = (uint32_t)(rnd() * 256), c = (uint32_t)(rnd() * (a + 1));
            op->img[i] = c | (c << 8) | (c << 16) | (a << 24);
        }
        break;
    }
}

/* Draw ops onto the whole image and onto nb band views of another canvas split as render
 * splits it (one rasteriser for all), comparing all pixels after each op, so a difference
 * cannot be painted over by a later op. Returns the number of ops after which the two
 * differ; the first is described. */
static int
bands_differ(ts_raster *r, const band_op *ops, int nops, ts_canvas *whole, ts_canvas *banded,
             int nb)
{
    ts_rgba bg = {222, 218, 210, 255};
    ts_canvas_clear(whole, bg);
    ts_canvas_clear(banded, bg);
    int h = banded->h, bad = 0;
    size_t npx = (size_t)whole->w * (size_t)h;
    for (int k = 0; k < nops; k++) {
        TS_CHECK_INT(band_op_draw(r, whole, &ops[k]), TS_OK);
        for (int i = 0; i < nb; i++) {
            int y0 = (int)((int64_t)h * i / nb), y1 = (int)((int64_t)h * (i + 1) / nb);
            ts_canvas v = ts_canvas_view(banded, y0, y1 - y0);
            TS_CHECK_INT(band_op_draw(r, &v, &ops[k]), TS_OK);
        }
        if (memcmp(whole->px, banded->px, npx * sizeof *whole->px) == 0)
            continue;
        if (bad++ == 0) {
            long n = 0;
            for (size_t i = 0; i < npx; i++)
                n += whole->px[i] != banded->px[i];
            printf("  %dx%d in %d bands: op %d (kind %d): %ld pixels differ (max channel "
                   "diff %d)\n",
                   whole->w, h, nb, k, ops[k].kind, n, max_channel_diff(whole, banded));
        }
        memcpy(banded->px, whole->px, npx * sizeof *whole->px); /* go on from equal */
    }
    return bad;
}

TS_TEST(raster_band_views_equal_the_whole_drawing)
{
    rnd_seed(21);
    /* ts_canvas promises that a window of rows gets exactly the pixels the whole drawing
     * gives it (render's band rendering, and tile ETags, depend on it). Random shapes
     * (tiny and large fills with holes, strokes with every join, cap and dashes, fills with
     * outlines, markers, masks and images, many across band borders, some off the image
     * or with huge coordinates) drawn whole and in 2, 3 and 7 bands. The second image is
     * wide enough that the rasteriser also splits its rows into bands of its own. */
    static const int sizes[2][3] = {{157, 203, 3000}, {2100, 700, 150}}; /* w, h, shapes */
    ts_err err;
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(r != NULL);
    for (int t = 0; t < 2; t++) {
        int w = sizes[t][0], h = sizes[t][1], nops = sizes[t][2];
        ts_canvas *whole = ts_canvas_new(w, h, &err);
        ts_canvas *banded = ts_canvas_new(w, h, &err);
        band_op *ops = calloc((size_t)nops, sizeof *ops);
        TS_REQUIRE(whole != NULL && banded != NULL && ops != NULL);
        int straddle = 0;
        for (int k = 0; k < nops; k++)
            band_op_random(&ops[k], w, h, &straddle);
        TS_CHECK(straddle > nops / 20);
        static const int nbs[3] = {2, 3, 7};
        for (int b = 0; b < 3; b++)
            TS_CHECK_INT(bands_differ(r, ops, nops, whole, banded, nbs[b]), 0);
        /* the drawing is not trivial: most pixels were drawn over */
        long drawn = 0;
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
            drawn += whole->px[i] != ts_rgba_premul((ts_rgba){222, 218, 210, 255});
        TS_CHECK(drawn > (long)w * h / 4);
        for (int k = 0; k < nops; k++) {
            g_free(ops[k].g);
            free(ops[k].mask);
            free(ops[k].img);
        }
        free(ops);
        ts_canvas_free(whole);
        ts_canvas_free(banded);
    }
    ts_raster_free(r);
}

TS_TEST(raster_scratch_is_clean_between_paths)
{
    /* a path whose cells reach past the canvas edge, then another path on a different
     * canvas: must equal what a fresh rasteriser draws */
    ts_err err;
    ts_canvas *a = ts_canvas_new(50, 50, &err);
    ts_canvas *b = ts_canvas_new(70, 30, &err);
    ts_canvas *b2 = ts_canvas_new(70, 30, &err);
    ts_raster *r = ts_raster_new();
    ts_raster *fresh = ts_raster_new();
    TS_REQUIRE(a && b && b2 && r && fresh);
    for (int i = 0; i < 30; i++)
        TS_CHECK_INT(draw_shape(r, a, i & 1, i * 3.7 - 60, i * 2.1 - 40), TS_OK);
    TS_CHECK_INT(draw_shape(r, b, 0, -30, -50), TS_OK);
    TS_CHECK_INT(draw_shape(fresh, b2, 0, -30, -50), TS_OK);
    TS_CHECK(memcmp(b->px, b2->px, 70 * 30 * 4) == 0);
    ts_canvas_free(a);
    ts_canvas_free(b);
    ts_canvas_free(b2);
    ts_raster_free(r);
    ts_raster_free(fresh);
}

TS_TEST(raster_degenerate_input_does_not_crash)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(64, 64, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    ts_stroke s;
    memset(&s, 0, sizeof s);
    s.width = 4;
    s.cap = TS_CAP_ROUND;
    s.join = TS_JOIN_ROUND;
    double bad[] = {NAN, 3, 10, INFINITY, -INFINITY, 5, 1e300, -1e300, 20, 20, 20, 20,
                    20, 20, 1e-300, 5e307, -5e307, 1e308, 30, 30};
    uint32_t cnts[][4] = {{10, 0, 0, 0}, {0, 3, 0, 7}, {1, 1, 1, 7}, {2, 2, 2, 4}};
    for (int k = 0; k < 4; k++) {
        ts_parts p = {bad, cnts[k], 4};
        for (int rule = 0; rule < 2; rule++)
            TS_CHECK_INT(ts_raster_fill(r, c, &ident, &p, (ts_fill_rule)rule, black, 1), TS_OK);
        for (int closed = 0; closed < 2; closed++) {
            for (int j = 0; j < 3; j++) {
                s.join = (ts_line_join)j;
                s.cap = (ts_line_cap)j;
                s.ndash = closed ? 2 : 0;
                s.dash[0] = 3;
                s.dash[1] = 1e-9;
                TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p, closed, &s, black, 1), TS_OK);
            }
        }
    }
    /* transforms that blow up, and nonsense styles */
    ts_affine huge = {1e300, -1e300, 1e308, 1e308};
    ts_parts p = {bad, cnts[0], 1};
    TS_CHECK_INT(ts_raster_fill(r, c, &huge, &p, TS_FILL_NONZERO, black, 1), TS_OK);
    s.ndash = 2;
    s.dash[0] = -1;
    s.width = INFINITY;
    TS_CHECK_INT(ts_raster_stroke(r, c, &huge, &p, 0, &s, black, 1), TS_OK);
    s.width = 1e12;
    s.dash[0] = 1e-12;
    s.miter_limit = 1e30;
    s.join = TS_JOIN_MITER;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p, 1, &s, black, 1), TS_OK);
    s.width = 2;
    s.ndash = 2;
    s.dash[0] = 1e-3; /* a pattern too fine to draw: solid */
    s.dash[1] = 1e-3;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p, 1, &s, black, 1), TS_OK);
    TS_CHECK_INT(ts_raster_marker(r, c, NAN, 5, TS_MARK_STAR, 10, 0, black, &s, black, 1), TS_OK);
    TS_CHECK_INT(ts_raster_marker(r, c, 5, 5, TS_MARK_STAR, 1e300, NAN, black, &s, black, 1),
                 TS_OK);
    TS_CHECK_INT(ts_raster_marker(r, c, 5, 5, TS_MARK_CIRCLE, -3, 0, black, NULL, black, 1), TS_OK);
    ts_parts empty = {NULL, NULL, 0};
    TS_CHECK_INT(ts_raster_fill(r, c, &ident, &empty, TS_FILL_NONZERO, black, 1), TS_OK);
    TS_CHECK_INT(ts_raster_fill(NULL, c, &ident, &empty, TS_FILL_NONZERO, black, 1), TS_EINVAL);
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_zero_length_lines)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(40, 40, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    ts_stroke s;
    memset(&s, 0, sizeof s);
    s.width = 10;
    double one[] = {20.5, 20.5};
    double same[] = {20.5, 20.5, 20.5, 20.5, 20.5, 20.5};
    uint32_t c1[] = {1}, c3[] = {3};
    ts_parts p1 = {one, c1, 1}, p3 = {same, c3, 1};
    /* butt: nothing */
    s.cap = TS_CAP_BUTT;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p1, 0, &s, black, 1), TS_OK);
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p3, 0, &s, black, 1), TS_OK);
    TS_CHECK(alpha_sum(c) == 0);
    /* round: a dot of diameter 10 */
    s.cap = TS_CAP_ROUND;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p1, 0, &s, black, 1), TS_OK);
    TS_CHECK(fabs(alpha_sum(c) / 255 - M_PI * 25) < 0.01 * M_PI * 25);
    TS_CHECK_INT(alpha_at(c, 20, 20), 255);
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p3, 0, &s, black, 1), TS_OK);
    TS_CHECK(fabs(alpha_sum(c) / 255 - M_PI * 25) < 0.01 * M_PI * 25);
    /* square: a 10x10 square */
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    s.cap = TS_CAP_SQUARE;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p1, 0, &s, black, 1), TS_OK);
    /* edges on pixel middles: 40 pixels of coverage 127.5/255 round to 128 */
    TS_CHECK_NEAR(alpha_sum(c) / 255, 100, 40 * 0.5 / 255 + 1e-9);
    /* zero width: nothing */
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    s.width = 0;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p1, 0, &s, black, 1), TS_OK);
    TS_CHECK(alpha_sum(c) == 0);
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_stroke_area)
{
    /* a long straight butt-capped line has area length * width; a closed square ring of
     * side a and width w has area 4 a w (miter joins) */
    ts_err err;
    ts_canvas *c = ts_canvas_new(200, 200, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    ts_stroke s;
    memset(&s, 0, sizeof s);
    s.width = 3.3;
    double xy[] = {20.3, 30.1, 170.9, 150.7};
    uint32_t cnt[] = {2};
    ts_parts p = {xy, cnt, 1};
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &p, 0, &s, black, 1), TS_OK);
    double len = hypot(150.6, 120.6);
    TS_CHECK(fabs(alpha_sum(c) / 255 - len * 3.3) < 0.005 * len * 3.3);
    ts_canvas_clear(c, (ts_rgba){0, 0, 0, 0});
    double sq[] = {50, 50, 150, 50, 150, 150, 50, 150};
    uint32_t c4[] = {4};
    ts_parts ps = {sq, c4, 1};
    s.width = 4;
    TS_CHECK_INT(ts_raster_stroke(r, c, &ident, &ps, 1, &s, black, 1), TS_OK);
    TS_CHECK_NEAR(alpha_sum(c) / 255, 4 * 100 * 4, 1e-9);
    TS_CHECK_INT(alpha_at(c, 100, 100), 0);
    TS_CHECK_INT(alpha_at(c, 48, 48), 255); /* the miter corner */
    ts_canvas_free(c);
    ts_raster_free(r);
}

TS_TEST(raster_blend_mask_and_image)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(8, 8, &err);
    TS_REQUIRE(c != NULL);
    uint8_t mask[3 * 4] = {0, 255, 128, 0, 255, 255, 255, 0, 64, 0, 0, 0};
    ts_rgba red = {255, 0, 0, 255};
    ts_raster_blend_mask(c, -1, 6, mask, 3, 3, 4, red, 1.0); /* clipped left and bottom */
    TS_CHECK_INT(c->px[6 * 8 + 0], ts_rgba_premul(red));
    TS_CHECK_INT(c->px[6 * 8 + 1] >> 24, 128);
    TS_CHECK_INT(c->px[7 * 8 + 0], ts_rgba_premul(red));
    TS_CHECK_INT(c->px[7 * 8 + 1], ts_rgba_premul(red));
    TS_CHECK_INT(c->px[5 * 8 + 0], 0);
    ts_raster_blend_mask(c, 100, 100, mask, 3, 3, 4, red, 1.0); /* wholly outside */
    ts_raster_blend_mask(c, -2000000000, 0, mask, 3, 3, 4, red, 1.0);
    uint32_t img[4] = {0xff00ff00u, 0x80000080u, 0, 0x40404040u};
    ts_canvas_clear(c, (ts_rgba){0, 0, 255, 255});
    ts_raster_blend_image(c, 7, 7, img, 2, 2, 2, 1.0);
    TS_CHECK_INT(c->px[7 * 8 + 7], 0xff00ff00u);
    ts_raster_blend_image(c, 0, 0, img, 2, 2, 2, 1.0);
    TS_CHECK_INT(c->px[0], 0xff00ff00u);
    /* 0x80 red premultiplied at alpha 0x80 over opaque blue: red 128, blue 255*127/255 */
    TS_CHECK_INT(c->px[1], 0xff7f0080u);
    TS_CHECK_INT(c->px[8], 0xffff0000u);
    ts_raster_blend_image(c, 0, 0, img, 2, 2, 2, 0.5);
    TS_CHECK_INT(c->px[0] >> 24, 255);
    ts_canvas_free(c);
}

TS_TEST(raster_fill_stroke_matches_fill_then_stroke)
{
    rnd_seed(11);
    /* ts_raster_fill_stroke promises the pixels of ts_raster_fill followed by
     * ts_raster_stroke(closed): small polygons (one block for both), polygons near the
     * canvas edges (the one-pixel-at-a-time resolver), larger and off-canvas ones (two
     * separate fills), both rules, opaque and translucent paints, miter/bevel/round. */
    ts_err err;
    ts_canvas *a = ts_canvas_new(61, 47, &err);
    ts_canvas *b = ts_canvas_new(61, 47, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(a != NULL && b != NULL && r != NULL);
    ts_rgba fills[2] = {{251, 247, 236, 255}, {20, 180, 220, 140}};
    ts_rgba strokes[2] = {{90, 90, 90, 255}, {200, 30, 90, 90}};
    ts_line_join joins[3] = {TS_JOIN_MITER, TS_JOIN_BEVEL, TS_JOIN_ROUND};
    long drawn = 0;
    int maxd = 0;
    for (int k = 0; k < 600; k++) {
        geom *g = g_new();
        int parts = 1 + (k % 5 == 0);
        double size = k < 400 ? 0.2 + rnd() * 4 : 1 + rnd() * 30;
        double cx = -4 + rnd() * 69, cy = -4 + rnd() * 55;
        for (int p = 0; p < parts; p++) {
            g_part(g);
            int n = 3 + (int)(rnd() * 5);
            for (int i = 0; i < n; i++)
                g_pt(g, cx + (rnd() - 0.5) * size, cy + (rnd() - 0.5) * size);
        }
        ts_parts pp = g_parts(g);
        ts_stroke s = {.width = 0.25 + rnd() * 2, .join = joins[k % 3], .cap = TS_CAP_BUTT};
        ts_fill_rule rule = (k & 1) ? TS_FILL_EVENODD : TS_FILL_NONZERO;
        ts_rgba fc = fills[(k >> 1) & 1], sc = strokes[(k >> 2) & 1];
        ts_canvas_clear(a, (ts_rgba){222, 218, 210, 255});
        ts_canvas_clear(b, (ts_rgba){222, 218, 210, 255});
        TS_CHECK_INT(ts_raster_fill(r, a, &g->t, &pp, rule, fc, 0.9), TS_OK);
        TS_CHECK_INT(ts_raster_stroke(r, a, &g->t, &pp, 1, &s, sc, 1.0), TS_OK);
        TS_CHECK_INT(ts_raster_fill_stroke(r, b, &g->t, &pp, rule, fc, 0.9, &s, sc, 1.0), TS_OK);
        int d = max_channel_diff(a, b);
        maxd = d > maxd ? d : maxd;
        for (int i = 0; i < a->w * a->h; i++)
            drawn += a->px[i] != b->px[0] || b->px[i] != b->px[0];
        g_free(g);
    }
    TS_CHECK_INT(maxd, 0);
    TS_CHECK(drawn > 5000);

    /* fill only, outline only, nothing */
    geom *g = g_new();
    g_regular(g, 20.3, 20.7, 2.2, 5, 0.3, 1);
    ts_parts pp = g_parts(g);
    ts_stroke s = {.width = 0.5};
    ts_rgba none = {10, 20, 30, 0};
    const ts_stroke *sv[2] = {NULL, &s};
    for (int v = 0; v < 2; v++) {
        ts_canvas_clear(a, (ts_rgba){0, 0, 0, 0});
        ts_canvas_clear(b, (ts_rgba){0, 0, 0, 0});
        TS_CHECK_INT(ts_raster_fill(r, a, &g->t, &pp, TS_FILL_NONZERO, fills[1], 1.0), TS_OK);
        TS_CHECK_INT(ts_raster_fill_stroke(r, b, &g->t, &pp, TS_FILL_NONZERO, fills[1], 1.0, sv[v],
                                           none, 1.0),
                     TS_OK);
        TS_CHECK_INT(max_channel_diff(a, b), 0);
    }
    ts_canvas_clear(a, (ts_rgba){0, 0, 0, 0});
    ts_canvas_clear(b, (ts_rgba){0, 0, 0, 0});
    TS_CHECK_INT(ts_raster_stroke(r, a, &g->t, &pp, 1, &s, strokes[0], 1.0), TS_OK);
    TS_CHECK_INT(ts_raster_fill_stroke(r, b, &g->t, &pp, TS_FILL_NONZERO, fills[0], 0.0, &s,
                                       strokes[0], 1.0),
                 TS_OK);
    TS_CHECK_INT(max_channel_diff(a, b), 0);
    TS_CHECK(alpha_sum(b) > 0);
    ts_parts empty = {NULL, NULL, 0};
    TS_CHECK_INT(ts_raster_fill_stroke(r, b, &g->t, &empty, TS_FILL_NONZERO, black, 1, &s, black, 1),
                 TS_OK);
    TS_CHECK_INT(ts_raster_fill_stroke(NULL, b, &g->t, &pp, TS_FILL_NONZERO, black, 1, &s, black, 1),
                 TS_EINVAL);
    TS_CHECK_INT(ts_raster_fill_stroke(r, b, &g->t, NULL, TS_FILL_NONZERO, black, 1, &s, black, 1),
                 TS_EINVAL);
    g_free(g);
    ts_canvas_free(a);
    ts_canvas_free(b);
    ts_raster_free(r);
}

TS_TEST(raster_tiny_resolvers_agree)
{
    rnd_seed(12);
    /* The tiny kernel resolves four pixels at a time, except for blocks within four
     * pixels of the canvas's right edge, which go one pixel at a time. The same shape
     * shifted by whole pixels (coordinates in 1/1024 px, so the shift is exact) must give
     * the same pixels through both, for both rules and opaque and translucent paints. */
    ts_err err;
    ts_canvas *c = ts_canvas_new(40, 24, &err);
    ts_raster *r = ts_raster_new();
    TS_REQUIRE(c != NULL && r != NULL);
    ts_rgba cols[2] = {{200, 30, 90, 255}, {20, 180, 220, 140}};
    int maxd = 0;
    long covered = 0;
    for (int k = 0; k < 300; k++) {
        double xy[2 * 8];
        uint32_t n = 3 + (uint32_t)(rnd() * 5);
        double size = 0.5 + rnd() * 6;
        for (uint32_t i = 0; i < n; i++) {
            xy[2 * i] = floor((1 + rnd() * size) * 1024) / 1024;
            xy[2 * i + 1] = floor((2 + rnd() * size) * 1024) / 1024;
        }
        double x1 = 0;
        for (uint32_t i = 0; i < n; i++)
            x1 = xy[2 * i] > x1 ? xy[2 * i] : x1;
        /* second copy: its box ends 1..3 pixels before the right edge */
        int shift = (int)(40 - ceil(x1)) - (int)(rnd() * 3);
        ts_rgba col = cols[(k >> 1) & 1];
        ts_fill_rule rule = (k & 1) ? TS_FILL_EVENODD : TS_FILL_NONZERO;
        uint32_t cnt[1] = {n};
        ts_parts p = {xy, cnt, 1};
        ts_affine t0 = {1, 1, 0, 0}, t1 = {1, 1, shift, 0};
        ts_canvas_clear(c, (ts_rgba){90, 90, 90, 255});
        TS_CHECK_INT(ts_raster_fill(r, c, &t0, &p, rule, col, 1.0), TS_OK);
        TS_CHECK_INT(ts_raster_fill(r, c, &t1, &p, rule, col, 1.0), TS_OK);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x + shift < 40; x++) {
                uint32_t pa = c->px[y * 40 + x], pb = c->px[y * 40 + x + shift];
                for (int ch = 0; ch < 32; ch += 8) {
                    int d = abs((int)((pa >> ch) & 255) - (int)((pb >> ch) & 255));
                    maxd = d > maxd ? d : maxd;
                }
                covered += pa != 0xff5a5a5au;
            }
    }
    TS_CHECK_INT(maxd, 0);
    TS_CHECK(covered > 1000);
    ts_canvas_free(c);
    ts_raster_free(r);
}
