/* bench/bench_raster.c — speed of the rasteriser on the workloads that matter for tiles:
 *   1. tiny polygons (1-3 px: parcels and buildings at z12-z14), fill and 0.5 px outline,
 *      on a 256x256 canvas;
 *   2. long thin lines (width 1-6 px, round caps and joins: streets) across a 2048x2048
 *      metatile;
 *   3. large polygons (landuse, water) on the 2048x2048 canvas.
 * Geometry is generated up front in Web Mercator metres at the zoom of the canvas and
 * drawn through the map-to-pixel affine, as render does. Each case runs several times;
 * the best run's thread CPU time is reported (the machine is shared).
 *
 * usage: bench_raster [commit|-] [scale] [cases]   scale multiplies the path counts (default
 * 1); cases is a subset of "123" (default all); "-" reads the commit with git. */
#include "raster/raster.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

/* CPU time of this thread: the machine is shared, wall time would count the others. */
static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* A batch of paths: flat points, counts per part, parts per path. */
typedef struct batch {
    double *xy;
    uint32_t *counts;
    uint32_t *parts; /* parts of path k */
    size_t npaths, npts, ncounts;
} batch;

static void
batch_init(batch *b, size_t maxpaths, size_t maxpts, size_t maxparts)
{
    b->xy = malloc(2 * maxpts * sizeof *b->xy);
    b->counts = malloc(maxparts * sizeof *b->counts);
    b->parts = malloc(maxpaths * sizeof *b->parts);
    b->npaths = b->npts = b->ncounts = 0;
    if (b->xy == NULL || b->counts == NULL || b->parts == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
}

static void
batch_free(batch *b)
{
    free(b->xy);
    free(b->counts);
    free(b->parts);
}

/* Web Mercator: metres per pixel at zoom z, and the affine of a canvas whose top-left
 * corner is at (x0, y0) metres. */
static ts_affine
affine_at(int z, double x0, double y0)
{
    double res = 2 * 20037508.342789244 / (256.0 * (double)(1u << z));
    ts_affine t = {1 / res, -1 / res, -x0 / res, y0 / res};
    return t;
}

static void
pt(batch *b, const ts_affine *t, double px, double py)
{
    b->xy[2 * b->npts] = (px - t->tx) / t->sx;
    b->xy[2 * b->npts + 1] = (py - t->ty) / t->sy;
    b->npts++;
    b->counts[b->ncounts - 1]++;
}

static void
part(batch *b)
{
    b->counts[b->ncounts++] = 0;
    b->parts[b->npaths - 1]++;
}

static void
path(batch *b)
{
    b->parts[b->npaths++] = 0;
}

/* qsort order of centres (x, y pairs): 16-pixel bands of y, then x */
static int
by_band(const void *a, const void *b)
{
    const double *p = a, *q = b;
    int bp = (int)(p[1] / 16), bq = (int)(q[1] / 16);
    if (bp != bq)
        return bp < bq ? -1 : 1;
    return p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0;
}

typedef struct result {
    double best_s;
    size_t paths;
} result;

typedef enum { OP_FILL, OP_STROKE_CLOSED, OP_STROKE_OPEN } op_kind;

static result
run(const batch *b, ts_canvas *c, const ts_affine *t, op_kind op, const ts_stroke *s,
    ts_rgba col, int runs)
{
    ts_raster *r = ts_raster_new();
    result res = {1e30, b->npaths};
    for (int k = 0; k < runs; k++) {
        ts_canvas_clear(c, (ts_rgba){255, 255, 255, 255});
        double t0 = now_s();
        const double *xy = b->xy;
        const uint32_t *cnt = b->counts;
        for (size_t i = 0; i < b->npaths; i++) {
            ts_parts p = {xy, cnt, b->parts[i]};
            size_t n = 0;
            for (uint32_t j = 0; j < b->parts[i]; j++)
                n += cnt[j];
            ts_status st;
            if (op == OP_FILL)
                st = ts_raster_fill(r, c, t, &p, TS_FILL_NONZERO, col, 1.0);
            else
                st = ts_raster_stroke(r, c, t, &p, op == OP_STROKE_CLOSED, s, col, 1.0);
            if (st != TS_OK) {
                fprintf(stderr, "draw failed: %d\n", (int)st);
                exit(1);
            }
            xy += 2 * n;
            cnt += b->parts[i];
        }
        double dt = now_s() - t0;
        if (dt < res.best_s)
            res.best_s = dt;
    }
    ts_raster_free(r);
    return res;
}

static void
print_result(const char *name, result r)
{
    printf("  %-44s %8zu paths  %9.2f ms  %12.0f paths/s  %8.1f ns/path\n", name, r.paths,
           r.best_s * 1e3, (double)r.paths / r.best_s, r.best_s * 1e9 / (double)r.paths);
}

static void
print_env(const char *commit_arg)
{
    char commit[64] = "unknown";
    if (commit_arg != NULL) {
        snprintf(commit, sizeof commit, "%s", commit_arg);
    } else {
#ifdef TS_SOURCE_DIR
        FILE *f = popen("git -C " TS_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
        if (f != NULL) {
            if (fgets(commit, sizeof commit, f) == NULL)
                snprintf(commit, sizeof commit, "unknown");
            commit[strcspn(commit, "\n")] = '\0';
            pclose(f);
        }
#endif
    }
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v != NULL) {
                    snprintf(cpu, sizeof cpu, "%s", v + 2);
                    cpu[strcspn(cpu, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
#ifdef __OPTIMIZE__
    const char *opt = "optimised";
#else
    const char *opt = "NOT optimised";
#endif
    printf("bench_raster  commit %s  compiler %s (%s)  cpu %s  threads 1\n", commit,
           __VERSION__, opt, cpu);
    /* how fast this (possibly shared, virtual) CPU runs right now: a chain of dependent
     * integer adds takes one cycle each on any current x86 core */
    uint64_t acc = 1;
    double t0 = now_s();
    for (uint64_t i = 0; i < 300000000u; i++) {
        acc += i;
        __asm__ volatile("" : "+r"(acc));
    }
    double dt = now_s() - t0;
    printf("reference: dependent adds run at %.2f G/s on this CPU now (~ the effective clock)\n",
           3e8 / dt / 1e9 + (double)(acc & 0) * 0);
}

int
main(int argc, char **argv)
{
    print_env(argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL);
    const char *cases = argc > 3 ? argv[3] : "123";
    double scale = argc > 2 ? strtod(argv[2], NULL) : 1.0;
    if (!(scale > 0))
        scale = 1;
    ts_err err;
    ts_rgba fillc = {200, 180, 150, 255}, linec = {90, 90, 90, 255};
    ts_rgba translucent = {30, 90, 200, 160};

    /* 1. tiny polygons: z12 tile over Duesseldorf, 1-3 px parcels and buildings */
    for (int sorted = 0; sorted < 2 && strchr(cases, '1') != NULL; sorted++) {
        size_t n = (size_t)(100000 * scale);
        ts_affine t = affine_at(12, 748290.0, 6672157.0);
        batch b;
        batch_init(&b, n, n * 6, n);
        /* centres in random order, or sorted into 16-pixel bands (as features come out
         * of the store's spatial index, neighbours after each other) */
        double *ctr = malloc(2 * n * sizeof *ctr);
        for (size_t i = 0; i < n; i++) {
            ctr[2 * i] = rnd() * 256;
            ctr[2 * i + 1] = rnd() * 256;
        }
        if (sorted)
            qsort(ctr, n, 2 * sizeof *ctr, by_band);
        for (size_t i = 0; i < n; i++) {
            double cx = ctr[2 * i], cy = ctr[2 * i + 1], r = 0.5 + rnd(), a = rnd() * 6.283;
            int nv = 4 + (int)(rnd() * 3);
            path(&b);
            part(&b);
            for (int k = 0; k < nv; k++) {
                double ang = a + 6.283 * k / nv, rr = r * (0.7 + 0.3 * rnd());
                pt(&b, &t, cx + rr * cos(ang), cy + rr * sin(ang));
            }
        }
        free(ctr);
        ts_canvas *c = ts_canvas_new(256, 256, &err);
        ts_stroke s;
        memset(&s, 0, sizeof s);
        s.width = 0.5;
        s.join = TS_JOIN_MITER;
        printf("1%s. tiny polygons, 4-6 vertices, 1-3 px, 256x256 canvas, %s order\n",
               sorted ? "b" : "a", sorted ? "spatial" : "random");
        result rf = run(&b, c, &t, OP_FILL, NULL, fillc, RUNS);
        print_result("fill (opaque)", rf);
        print_result("fill (translucent)", run(&b, c, &t, OP_FILL, NULL, translucent, RUNS));
        result ro = run(&b, c, &t, OP_STROKE_CLOSED, &s, linec, RUNS);
        print_result("outline 0.5 px, miter joins", ro);
        result both = {rf.best_s + ro.best_s, rf.paths + ro.paths};
        print_result("fill + outline (per path drawn)", both);
        printf("  => a z12 tile of 30k parcels + 25k buildings (fill + outline): %.2f ms\n",
               (rf.best_s + ro.best_s) / (double)n * 55000 * 1e3);
        ts_canvas_free(c);
        batch_free(&b);
    }

    /* 2. long thin lines across a metatile */
    if (strchr(cases, '2') != NULL) {
        size_t n = (size_t)(2000 * scale);
        ts_affine t = affine_at(15, 748290.0, 6672157.0);
        batch b;
        batch_init(&b, n, n * 40, n);
        for (size_t i = 0; i < n; i++) {
            path(&b);
            part(&b);
            /* a street: 20-40 vertices wandering across the canvas */
            double x = rnd() * 2048, y = rnd() * 2048, dir = rnd() * 6.283;
            int nv = 20 + (int)(rnd() * 20);
            for (int k = 0; k < nv; k++) {
                pt(&b, &t, x, y);
                double step = 20 + rnd() * 80;
                dir += (rnd() - 0.5) * 1.2;
                x += step * cos(dir);
                y += step * sin(dir);
            }
        }
        ts_canvas *c = ts_canvas_new(2048, 2048, &err);
        ts_stroke s;
        memset(&s, 0, sizeof s);
        s.join = TS_JOIN_ROUND;
        s.cap = TS_CAP_ROUND;
        printf("2. long lines, 20-40 vertices, ~1500 px long, 2048x2048 canvas\n");
        /* widths vary per path: run by width class so each call has its own stroke */
        static const double wclass[] = {1, 2.5, 6};
        for (int wc = 0; wc < 3; wc++) {
            s.width = wclass[wc];
            char name[64];
            snprintf(name, sizeof name, "stroke %.1f px, round caps/joins", wclass[wc]);
            print_result(name, run(&b, c, &t, OP_STROKE_OPEN, &s, linec, 3));
        }
        s.width = 2;
        s.ndash = 2;
        s.dash[0] = 6;
        s.dash[1] = 4;
        s.join = TS_JOIN_MITER;
        s.cap = TS_CAP_BUTT;
        print_result("stroke 2 px dashed 6/4, butt", run(&b, c, &t, OP_STROKE_OPEN, &s, linec, 3));
        ts_canvas_free(c);
        batch_free(&b);
    }

    /* 3. large polygons on the metatile */
    if (strchr(cases, '3') != NULL) {
        size_t n = (size_t)(200 * scale);
        ts_affine t = affine_at(15, 748290.0, 6672157.0);
        batch b;
        batch_init(&b, n, n * 400, n * 2);
        for (size_t i = 0; i < n; i++) {
            double cx = rnd() * 2048, cy = rnd() * 2048, r = 200 + rnd() * 600;
            int nv = 50 + (int)(rnd() * 300);
            path(&b);
            part(&b);
            for (int k = 0; k < nv; k++) {
                double ang = 6.283 * k / nv, rr = r * (0.8 + 0.2 * rnd());
                pt(&b, &t, cx + rr * cos(ang), cy + rr * sin(ang));
            }
            /* a hole, wound the other way */
            part(&b);
            for (int k = 0; k < 20; k++) {
                double ang = -6.283 * k / 20;
                pt(&b, &t, cx + 0.3 * r * cos(ang), cy + 0.3 * r * sin(ang));
            }
        }
        ts_canvas *c = ts_canvas_new(2048, 2048, &err);
        printf("3. large polygons, 50-350 vertices + hole, radius 200-800 px, 2048x2048\n");
        result rf = run(&b, c, &t, OP_FILL, NULL, fillc, 3);
        print_result("fill (opaque)", rf);
        print_result("fill (translucent)", run(&b, c, &t, OP_FILL, NULL, translucent, 3));
        ts_canvas_free(c);
        batch_free(&b);
    }
    return 0;
}
