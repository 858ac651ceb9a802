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
 * 1); cases is a subset of "123" (default all); "-" reads the commit with git.
 *
 * Replay: bench_raster --replay CALLS [--tiles LIST] [--runs N] [--hashes OUT]
 * draws a recording of the raster calls a renderer made (format below: the calls of
 * bench_tiles over bench/tiles.txt, say), tile by tile on one canvas, and prints the best
 * run's CPU ms per tile by zoom (zooms from LIST, the tile list the recording was made
 * from, one tile per canvas clear) and a hash of every tile's pixels (all of them to OUT
 * with --hashes): the real workload without loading the data, and a bit-exact check of a
 * rasteriser change in seconds. To make a recording, compile this file with
 * -DBENCH_RASTER_RECORDER (it then holds only the recording wrappers, no main) and link
 * it into bench_tiles with the five functions wrapped, e.g. from a build directory:
 *   cc -O2 -DBENCH_RASTER_RECORDER -I../tilesrv -c ../bench/bench_raster.c -o rec.o
 *   cc -O2 -Wl,--wrap=ts_canvas_clear,--wrap=ts_raster_fill,--wrap=ts_raster_stroke \
 *      -Wl,--wrap=ts_raster_fill_stroke,--wrap=ts_raster_marker \
 *      bench/CMakeFiles/bench_tiles.dir/bench_tiles.c.o rec.o -o bench_record <the libraries
 *      of bench/CMakeFiles/bench_tiles.dir/link.txt>
 *   TS_RECORD=calls.bin ./bench_record -c ../bench/cadastre.yaml --tileset bench \
 *      --tiles ../bench/tiles.txt */
#ifdef BENCH_RASTER_RECORDER
#include <stdio.h>
#include <stdlib.h>

#include "raster/raster.h"

static FILE *rec_out;

static void
rec_write(const void *p, size_t n)
{
    if (rec_out == NULL) {
        const char *path = getenv("TS_RECORD");
        rec_out = fopen(path != NULL ? path : "calls.bin", "wb");
        if (rec_out == NULL) {
            perror("TS_RECORD");
            exit(1);
        }
    }
    fwrite(p, 1, n, rec_out);
}

static void
rec_parts(const ts_parts *p)
{
    size_t tot = 0;
    for (uint32_t k = 0; k < p->nparts; k++)
        tot += p->counts[k];
    rec_write(&p->nparts, 4);
    rec_write(p->counts, 4 * (size_t)p->nparts);
    rec_write(p->xy, 16 * tot);
}

static void
rec_stroke(const ts_stroke *s)
{
    int32_t has = s != NULL;
    rec_write(&has, 4);
    if (s != NULL)
        rec_write(s, sizeof *s);
}

void __real_ts_canvas_clear(ts_canvas *c, ts_rgba color);
ts_status __real_ts_raster_fill(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                const ts_parts *rings, ts_fill_rule rule, ts_rgba color,
                                double opacity);
ts_status __real_ts_raster_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                  const ts_parts *lines, int closed, const ts_stroke *s,
                                  ts_rgba color, double opacity);
ts_status __real_ts_raster_fill_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                       const ts_parts *rings, ts_fill_rule rule, ts_rgba fill,
                                       double fill_opacity, const ts_stroke *s,
                                       ts_rgba stroke_color, double stroke_opacity);
ts_status __real_ts_raster_marker(ts_raster *r, ts_canvas *c, double x, double y,
                                  ts_mark_shape shape, double size, double rotation_deg,
                                  ts_rgba fill, const ts_stroke *stroke, ts_rgba stroke_color,
                                  double opacity);
void __wrap_ts_canvas_clear(ts_canvas *c, ts_rgba color);
ts_status __wrap_ts_raster_fill(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                const ts_parts *rings, ts_fill_rule rule, ts_rgba color,
                                double opacity);
ts_status __wrap_ts_raster_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                  const ts_parts *lines, int closed, const ts_stroke *s,
                                  ts_rgba color, double opacity);
ts_status __wrap_ts_raster_fill_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                       const ts_parts *rings, ts_fill_rule rule, ts_rgba fill,
                                       double fill_opacity, const ts_stroke *s,
                                       ts_rgba stroke_color, double stroke_opacity);
ts_status __wrap_ts_raster_marker(ts_raster *r, ts_canvas *c, double x, double y,
                                  ts_mark_shape shape, double size, double rotation_deg,
                                  ts_rgba fill, const ts_stroke *stroke, ts_rgba stroke_color,
                                  double opacity);

void
__wrap_ts_canvas_clear(ts_canvas *c, ts_rgba color)
{
    int32_t v[4] = {c->w, c->h, c->row0, c->full_h};
    rec_write("C", 1);
    rec_write(v, sizeof v);
    rec_write(&color, 4);
    __real_ts_canvas_clear(c, color);
}

ts_status
__wrap_ts_raster_fill(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *rings,
                      ts_fill_rule rule, ts_rgba color, double opacity)
{
    int32_t ru = (int32_t)rule;
    rec_write("F", 1);
    rec_write(t, sizeof *t);
    rec_parts(rings);
    rec_write(&ru, 4);
    rec_write(&color, 4);
    rec_write(&opacity, 8);
    return __real_ts_raster_fill(r, c, t, rings, rule, color, opacity);
}

ts_status
__wrap_ts_raster_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *lines,
                        int closed, const ts_stroke *s, ts_rgba color, double opacity)
{
    int32_t cl = closed;
    rec_write("S", 1);
    rec_write(t, sizeof *t);
    rec_parts(lines);
    rec_write(&cl, 4);
    rec_write(s, sizeof *s);
    rec_write(&color, 4);
    rec_write(&opacity, 8);
    return __real_ts_raster_stroke(r, c, t, lines, closed, s, color, opacity);
}

ts_status
__wrap_ts_raster_fill_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t,
                             const ts_parts *rings, ts_fill_rule rule, ts_rgba fill,
                             double fill_opacity, const ts_stroke *s, ts_rgba stroke_color,
                             double stroke_opacity)
{
    int32_t ru = (int32_t)rule;
    rec_write("B", 1);
    rec_write(t, sizeof *t);
    rec_parts(rings);
    rec_write(&ru, 4);
    rec_write(&fill, 4);
    rec_write(&fill_opacity, 8);
    rec_stroke(s);
    rec_write(&stroke_color, 4);
    rec_write(&stroke_opacity, 8);
    return __real_ts_raster_fill_stroke(r, c, t, rings, rule, fill, fill_opacity, s, stroke_color,
                                        stroke_opacity);
}

ts_status
__wrap_ts_raster_marker(ts_raster *r, ts_canvas *c, double x, double y, ts_mark_shape shape,
                        double size, double rotation_deg, ts_rgba fill, const ts_stroke *stroke,
                        ts_rgba stroke_color, double opacity)
{
    int32_t sh = (int32_t)shape;
    rec_write("M", 1);
    rec_write(&x, 8);
    rec_write(&y, 8);
    rec_write(&sh, 4);
    rec_write(&size, 8);
    rec_write(&rotation_deg, 8);
    rec_write(&fill, 4);
    rec_stroke(stroke);
    rec_write(&stroke_color, 4);
    rec_write(&opacity, 8);
    return __real_ts_raster_marker(r, c, x, y, shape, size, rotation_deg, fill, stroke,
                                   stroke_color, opacity);
}
#else /* the benchmark */
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

/* --- replay of recorded calls ---------------------------------------------------------
 * A recording is a sequence of records, native byte order, each one byte of kind then:
 *   'C' int32 w, h, row0, full_h; ts_rgba background       ts_canvas_clear: the next tile
 *   'F' ts_affine; parts; int32 rule; ts_rgba; double opacity       ts_raster_fill
 *   'S' ts_affine; parts; int32 closed; ts_stroke; ts_rgba; double  ts_raster_stroke
 *   'B' ts_affine; parts; int32 rule; ts_rgba fill; double fill opacity; int32 has_stroke;
 *       [ts_stroke]; ts_rgba stroke colour; double stroke opacity  ts_raster_fill_stroke
 *   'M' double x, y; int32 shape; double size, rotation; ts_rgba fill; int32 has_stroke;
 *       [ts_stroke]; ts_rgba stroke colour; double opacity          ts_raster_marker
 * parts: uint32 nparts, uint32 counts[nparts], double xy[2 * sum of counts]. It is made
 * by linking a renderer with -Wl,--wrap for these five functions and writing each call's
 * arguments before passing it on. */

typedef struct rdr {
    const unsigned char *p, *end;
} rdr;

static const void *
take(rdr *d, size_t n)
{
    if ((size_t)(d->end - d->p) < n) {
        fprintf(stderr, "replay: truncated recording\n");
        exit(1);
    }
    const void *v = d->p;
    d->p += n;
    return v;
}

#define TAKE(d, T) (*(const T *)memcpy(&(T){0}, take(d, sizeof(T)), sizeof(T)))

/* The parts of a record, copied to aligned scratch (the recording packs them unaligned). */
static ts_parts
take_parts(rdr *d)
{
    static uint32_t *cnt;
    static double *xy;
    static size_t ncnt, nxy;
    ts_parts p;
    p.nparts = TAKE(d, uint32_t);
    if (p.nparts > ncnt) {
        ncnt = 2 * (size_t)p.nparts;
        cnt = realloc(cnt, ncnt * sizeof *cnt);
    }
    if (cnt == NULL) {
        fprintf(stderr, "replay: out of memory\n");
        exit(1);
    }
    memcpy(cnt, take(d, 4 * (size_t)p.nparts), 4 * (size_t)p.nparts);
    size_t tot = 0;
    for (uint32_t k = 0; k < p.nparts; k++)
        tot += cnt[k];
    if (2 * tot > nxy) {
        nxy = 4 * tot;
        xy = realloc(xy, nxy * sizeof *xy);
    }
    if (xy == NULL && tot > 0) {
        fprintf(stderr, "replay: out of memory\n");
        exit(1);
    }
    if (tot > 0)
        memcpy(xy, take(d, 16 * tot), 16 * tot);
    p.counts = cnt;
    p.xy = xy;
    return p;
}

static uint64_t
canvas_hash(const ts_canvas *c)
{
    uint64_t h = 1469598103934665603ull;
    for (int j = 0; j < c->h; j++) {
        const uint32_t *row = c->px + (size_t)j * (size_t)c->stride;
        for (int i = 0; i < c->w; i++) {
            h ^= row[i];
            h *= 1099511628211ull;
        }
    }
    return h;
}

/* Draw one tile's records from d (up to the next 'C' or the end) onto c. Not inlined:
 * profilers can count the drawing alone (valgrind --toggle-collect=replay_tile). */
static __attribute__((noinline)) void
replay_tile(rdr *d, ts_raster *r, ts_canvas *c)
{
    while (d->p < d->end && *d->p != 'C') {
        int kind = *(const unsigned char *)take(d, 1);
        ts_status st = TS_OK;
        if (kind == 'F') {
            ts_affine t = TAKE(d, ts_affine);
            ts_parts p = take_parts(d);
            int32_t rule = TAKE(d, int32_t);
            ts_rgba col = TAKE(d, ts_rgba);
            double o = TAKE(d, double);
            st = ts_raster_fill(r, c, &t, &p, (ts_fill_rule)rule, col, o);
        } else if (kind == 'S') {
            ts_affine t = TAKE(d, ts_affine);
            ts_parts p = take_parts(d);
            int32_t closed = TAKE(d, int32_t);
            ts_stroke s = TAKE(d, ts_stroke);
            ts_rgba col = TAKE(d, ts_rgba);
            double o = TAKE(d, double);
            st = ts_raster_stroke(r, c, &t, &p, closed, &s, col, o);
        } else if (kind == 'B') {
            ts_affine t = TAKE(d, ts_affine);
            ts_parts p = take_parts(d);
            int32_t rule = TAKE(d, int32_t);
            ts_rgba fill = TAKE(d, ts_rgba);
            double fo = TAKE(d, double);
            int32_t has = TAKE(d, int32_t);
            ts_stroke s = has ? TAKE(d, ts_stroke) : (ts_stroke){0};
            ts_rgba sc = TAKE(d, ts_rgba);
            double so = TAKE(d, double);
            st = ts_raster_fill_stroke(r, c, &t, &p, (ts_fill_rule)rule, fill, fo,
                                       has ? &s : NULL, sc, so);
        } else if (kind == 'M') {
            double x = TAKE(d, double), y = TAKE(d, double);
            int32_t shape = TAKE(d, int32_t);
            double size = TAKE(d, double), rot = TAKE(d, double);
            ts_rgba fill = TAKE(d, ts_rgba);
            int32_t has = TAKE(d, int32_t);
            ts_stroke s = has ? TAKE(d, ts_stroke) : (ts_stroke){0};
            ts_rgba sc = TAKE(d, ts_rgba);
            double o = TAKE(d, double);
            st = ts_raster_marker(r, c, x, y, (ts_mark_shape)shape, size, rot, fill,
                                  has ? &s : NULL, sc, o);
        } else {
            fprintf(stderr, "replay: unknown record '%c'\n", kind);
            exit(1);
        }
        if (st != TS_OK) {
            fprintf(stderr, "replay: draw failed: %d\n", (int)st);
            exit(1);
        }
    }
}

static int
replay_main(int argc, char **argv)
{
    const char *calls = NULL, *list = NULL, *hashes = NULL;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--replay") == 0)
            calls = argv[i + 1];
        else if (strcmp(argv[i], "--tiles") == 0)
            list = argv[i + 1];
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--hashes") == 0)
            hashes = argv[i + 1];
    }
    FILE *f = calls ? fopen(calls, "rb") : NULL;
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", calls ? calls : "(none)");
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "replay: cannot read %s\n", calls);
        return 1;
    }
    fclose(f);
    /* tile starts and zooms */
    size_t ntiles = 0, cap = 0;
    size_t *start = NULL;
    int *zoom = NULL;
    rdr d = {buf, buf + len};
    while (d.p < d.end) {
        if (*d.p != 'C') {
            fprintf(stderr, "replay: a recording starts with a canvas clear\n");
            return 1;
        }
        if (ntiles == cap) {
            cap = cap ? 2 * cap : 512;
            start = realloc(start, cap * sizeof *start);
            zoom = realloc(zoom, cap * sizeof *zoom);
            if (start == NULL || zoom == NULL)
                return 1;
        }
        start[ntiles] = (size_t)(d.p - buf);
        zoom[ntiles] = 0;
        ntiles++;
        take(&d, 1 + 16 + 4);
        /* skip to the next clear by parsing (records carry no length) */
        while (d.p < d.end && *d.p != 'C') {
            int kind = *(const unsigned char *)take(&d, 1);
            if (kind == 'F') {
                take(&d, sizeof(ts_affine));
                take_parts(&d);
                take(&d, 4 + 4 + 8);
            } else if (kind == 'S') {
                take(&d, sizeof(ts_affine));
                take_parts(&d);
                take(&d, 4 + sizeof(ts_stroke) + 4 + 8);
            } else if (kind == 'B') {
                take(&d, sizeof(ts_affine));
                take_parts(&d);
                take(&d, 4 + 4 + 8);
                if (TAKE(&d, int32_t))
                    take(&d, sizeof(ts_stroke));
                take(&d, 4 + 8);
            } else if (kind == 'M') {
                take(&d, 8 + 8 + 4 + 8 + 8 + 4);
                if (TAKE(&d, int32_t))
                    take(&d, sizeof(ts_stroke));
                take(&d, 4 + 8);
            } else {
                fprintf(stderr, "replay: unknown record '%c'\n", kind);
                return 1;
            }
        }
    }
    if (list != NULL) {
        FILE *lf = fopen(list, "r");
        char line[128];
        size_t k = 0;
        while (lf != NULL && k < ntiles && fgets(line, sizeof line, lf) != NULL) {
            int z;
            unsigned x, y;
            if (line[0] != '#' && sscanf(line, "%d/%u/%u", &z, &x, &y) == 3)
                zoom[k++] = z >= 0 && z < 32 ? z : 0;
        }
        if (lf != NULL)
            fclose(lf);
    }
    double *best = malloc(ntiles * sizeof *best);
    uint64_t *hash = malloc(ntiles * sizeof *hash);
    if (best == NULL || hash == NULL)
        return 1;
    for (size_t k = 0; k < ntiles; k++)
        best[k] = 1e30;
    ts_raster *r = ts_raster_new();
    ts_canvas *c = NULL;
    for (int run_i = 0; run_i < runs; run_i++) {
        for (size_t k = 0; k < ntiles; k++) {
            rdr t = {buf + start[k], buf + len};
            take(&t, 1);
            int32_t dim[4];
            memcpy(dim, take(&t, 16), 16);
            ts_rgba bg = TAKE(&t, ts_rgba);
            if (c == NULL || c->w != dim[0] || c->h != dim[1]) {
                ts_canvas_free(c);
                ts_err err;
                c = ts_canvas_new(dim[0], dim[1], &err);
                if (c == NULL)
                    return 1;
            }
            c->row0 = dim[2];
            c->full_h = dim[3];
            double t0 = now_s();
            ts_canvas_clear(c, bg);
            replay_tile(&t, r, c);
            double dt = now_s() - t0;
            if (dt < best[k])
                best[k] = dt;
            uint64_t h = canvas_hash(c);
            if (run_i > 0 && h != hash[k]) {
                fprintf(stderr, "replay: tile %zu drew differently in run %d\n", k, run_i);
                return 1;
            }
            hash[k] = h;
        }
    }
    double zsum[32] = {0}, total = 0;
    int zn[32] = {0};
    uint64_t all = 1469598103934665603ull;
    for (size_t k = 0; k < ntiles; k++) {
        zsum[zoom[k]] += best[k];
        zn[zoom[k]]++;
        total += best[k];
        all = (all ^ hash[k]) * 1099511628211ull;
    }
    printf("replay %s: %zu tiles, best of %d runs per tile, total %.2f ms\n", calls, ntiles, runs,
           total * 1e3);
    for (int z = 0; z < 32; z++)
        if (zn[z])
            printf("z%d_ms=%.3f ", z, zsum[z] / zn[z] * 1e3);
    printf("\nhash %016llx\n", (unsigned long long)all);
    if (hashes != NULL) {
        FILE *hf = fopen(hashes, "w");
        for (size_t k = 0; hf != NULL && k < ntiles; k++)
            fprintf(hf, "%zu z%d %016llx\n", k, zoom[k], (unsigned long long)hash[k]);
        if (hf != NULL)
            fclose(hf);
    }
    ts_canvas_free(c);
    ts_raster_free(r);
    free(best);
    free(hash);
    free(start);
    free(zoom);
    free(buf);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--replay") == 0)
        return replay_main(argc, argv);
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
#endif /* BENCH_RASTER_RECORDER */
