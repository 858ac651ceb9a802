/* bench/bench_png.c — PNG encoding speed and size on representative 256 px tiles, per
 * mode, for the module's fast deflate ("fast", the default) and per libdeflate level,
 * plus the png8 quantiser's error.
 *
 *   bench_png [--peers DIR] [--tiles DIR] [--rounds N] [--quick]
 *
 * Tile sets:
 *   peers   MapServer and Mapnik tiles of the peers' cadastral map (z12..z18, opaque),
 *           cut out of DIR/compare_base.png and DIR/compare_labels.png (the side-by-side
 *           sheets of /tmp/peers/samples; skipped when absent);
 *   opaque  synthetic base maps: background, parcels with thin AA outlines, buildings,
 *           roads with casings, at three densities;
 *   alpha   synthetic overlays on transparent ground: markers with halos, lines, and
 *           translucent zones;
 *   tiles   every *.png of DIR (e.g. the 300 benchmark tiles saved with
 *           `bench_tiles --save DIR`), decoded; only with --tiles.
 * Times are the minimum over rounds of the per-tile mean of the thread's CPU time (the
 * machine is shared), one thread. Sizes are PNG bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "encode/encode.h"
#include "encode/encode_int.h"
#include "util/clock.h"

#define TILE 256
#define MAX_TILES 320

typedef struct tileset {
    const char *name;
    ts_canvas *t[MAX_TILES];
    char label[MAX_TILES][32]; /* per tile, for the per-tile table */
    int n;
} tileset;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static double
frand(double lo, double hi)
{
    return lo + (hi - lo) * (rnd() % 100000) / 100000.0;
}

/* ---- drawing (supersampled only near edges; enough for realistic AA statistics) ---- */

static void
blend(ts_canvas *c, int x, int y, ts_rgba col, double cov)
{
    if (cov <= 0 || x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint32_t *d = c->px + (size_t)y * (size_t)c->stride + (size_t)x;
    double a = cov * col.a / 255.0;
    double src[4] = {col.r * a, col.g * a, col.b * a, 255.0 * a};
    uint32_t out = 0;
    for (int ch = 0; ch < 4; ch++) {
        double v = src[ch] + ((*d >> (8 * ch)) & 255) * (1 - a);
        out |= (uint32_t)(v + 0.5) << (8 * ch);
    }
    *d = out;
}

static double
seg_dist(double px, double py, double x1, double y1, double x2, double y2)
{
    double dx = x2 - x1, dy = y2 - y1, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - x1) * dx + (py - y1) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

static int
inside(const double *xy, int n, double px, double py)
{
    int in = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

static void
fill_poly(ts_canvas *c, const double *xy, int n, ts_rgba col)
{
    double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
    for (int i = 0; i < n; i++) {
        x0 = fmin(x0, xy[2 * i]);
        x1 = fmax(x1, xy[2 * i]);
        y0 = fmin(y0, xy[2 * i + 1]);
        y1 = fmax(y1, xy[2 * i + 1]);
    }
    for (int y = (int)floor(y0); y <= (int)ceil(y1); y++) {
        for (int x = (int)floor(x0); x <= (int)ceil(x1); x++) {
            if (x < 0 || y < 0 || x >= c->w || y >= c->h)
                continue;
            double md = 1e9;
            for (int i = 0, j = n - 1; i < n; j = i++)
                md = fmin(md, seg_dist(x + 0.5, y + 0.5, xy[2 * j], xy[2 * j + 1], xy[2 * i],
                                       xy[2 * i + 1]));
            double cov;
            if (md > 0.75) {
                cov = inside(xy, n, x + 0.5, y + 0.5);
            } else {
                int k = 0;
                for (int sy = 0; sy < 16; sy++)
                    for (int sx = 0; sx < 16; sx++)
                        k += inside(xy, n, x + (sx + 0.5) / 16, y + (sy + 0.5) / 16);
                cov = k / 256.0;
            }
            blend(c, x, y, col, cov);
        }
    }
}

/* A line of width lw px with round ends (coverage from the distance to the axis). */
static void
line(ts_canvas *c, double xa, double ya, double xb, double yb, double lw, ts_rgba col)
{
    int x0 = (int)floor(fmin(xa, xb) - lw), x1 = (int)ceil(fmax(xa, xb) + lw);
    int y0 = (int)floor(fmin(ya, yb) - lw), y1 = (int)ceil(fmax(ya, yb) + lw);
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < c->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < c->w; x++) {
            double d = seg_dist(x + 0.5, y + 0.5, xa, ya, xb, yb);
            double cov = lw < 1 ? lw * (1 - d) : lw / 2 - d + 0.5; /* hairline: tent */
            blend(c, x, y, col, cov < 0 ? 0 : cov > 1 ? 1 : cov);
        }
}

static void
disc(ts_canvas *c, double cx, double cy, double r, ts_rgba col)
{
    for (int y = (int)(cy - r - 2); y <= (int)(cy + r + 2); y++)
        for (int x = (int)(cx - r - 2); x <= (int)(cx + r + 2); x++) {
            double cov = r - hypot(x + 0.5 - cx, y + 0.5 - cy) + 0.5;
            blend(c, x, y, col, cov < 0 ? 0 : cov > 1 ? 1 : cov);
        }
}

/* Base map: parcels on a jittered grid of pitch px, buildings in some, roads. */
static ts_canvas *
synth_base(double pitch, int nroads)
{
    ts_canvas *c = ts_canvas_new(TILE, TILE, NULL);
    if (c == NULL)
        return NULL;
    ts_canvas_clear(c, (ts_rgba){250, 246, 235, 255});
    enum { G = 64 };
    static double gx[G][G], gy[G][G];
    int n = (int)(TILE / pitch) + 3;
    if (n > G)
        n = G;
    double ox = frand(-pitch, 0), oy = frand(-pitch, 0);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            gx[j][i] = ox + i * pitch + frand(-0.2, 0.2) * pitch;
            gy[j][i] = oy + j * pitch * 0.7 + frand(-0.15, 0.15) * pitch;
        }
    static const ts_rgba bld[] = {{190, 180, 175, 255}, {175, 170, 165, 255}, {200, 160, 150, 255}};
    for (int j = 0; j + 1 < n; j++)
        for (int i = 0; i + 1 < n; i++) {
            if (rnd() % 10 < 6) { /* a building inset in the parcel */
                double cx = (gx[j][i] + gx[j + 1][i + 1]) / 2,
                       cy = (gy[j][i] + gy[j + 1][i + 1]) / 2;
                double hw = pitch * frand(0.15, 0.3), hh = pitch * 0.7 * frand(0.15, 0.3);
                double a = frand(-0.3, 0.3), ca = cos(a), sa = sin(a);
                double xy[8] = {-hw, -hh, hw, -hh, hw, hh, -hw, hh};
                for (int k = 0; k < 4; k++) {
                    double x = xy[2 * k], y = xy[2 * k + 1];
                    xy[2 * k] = cx + x * ca - y * sa;
                    xy[2 * k + 1] = cy + x * sa + y * ca;
                }
                fill_poly(c, xy, 4, bld[rnd() % 3]);
            }
        }
    ts_rgba outline = {120, 120, 120, 255};
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            if (i + 1 < n)
                line(c, gx[j][i], gy[j][i], gx[j][i + 1], gy[j][i + 1], 0.8, outline);
            if (j + 1 < n)
                line(c, gx[j][i], gy[j][i], gx[j + 1][i], gy[j + 1][i], 0.8, outline);
        }
    static const ts_rgba fillc[] = {
        {252, 214, 164, 255}, {247, 250, 191, 255}, {255, 255, 255, 255}};
    for (int r = 0; r < nroads; r++) {
        double xa = frand(-20, TILE + 20), ya = -10, xb = frand(-20, TILE + 20), yb = TILE + 10;
        if (r % 2) {
            ya = frand(-20, TILE + 20);
            xa = -10;
            yb = frand(-20, TILE + 20);
            xb = TILE + 10;
        }
        double lw = frand(4, 12);
        line(c, xa, ya, xb, yb, lw + 2, (ts_rgba){180, 150, 110, 255});
        line(c, xa, ya, xb, yb, lw, fillc[r % 3]);
    }
    return c;
}

/* Overlay on transparent ground: translucent zones, lines, markers with white halos. */
static ts_canvas *
synth_overlay(int nmarkers, int nzones)
{
    ts_canvas *c = ts_canvas_new(TILE, TILE, NULL);
    if (c == NULL)
        return NULL;
    static const ts_rgba zone[] = {{0, 160, 80, 90}, {230, 200, 0, 90}, {220, 40, 30, 90}};
    for (int z = 0; z < nzones; z++) {
        double cx = frand(0, TILE), cy = frand(0, TILE), r = frand(30, 90);
        double xy[16];
        for (int k = 0; k < 8; k++) {
            double a = k * 3.14159265 / 4, rr = r * frand(0.7, 1.0);
            xy[2 * k] = cx + rr * cos(a);
            xy[2 * k + 1] = cy + rr * sin(a);
        }
        fill_poly(c, xy, 8, zone[z % 3]);
    }
    for (int l = 0; l < nzones; l++)
        line(c, frand(0, TILE), frand(0, TILE), frand(0, TILE), frand(0, TILE), 2.5,
             (ts_rgba){60, 60, 200, 200});
    static const ts_rgba mk[] = {{40, 180, 60, 255}, {220, 40, 40, 255}, {240, 160, 40, 255}};
    for (int m = 0; m < nmarkers; m++) {
        double cx = frand(0, TILE), cy = frand(0, TILE), r = frand(3, 7);
        disc(c, cx, cy, r + 1.5, (ts_rgba){255, 255, 255, 255});
        disc(c, cx, cy, r, mk[m % 3]);
    }
    return c;
}

static int
load_peers(const char *dir, tileset *ts)
{
    static const char *sheets[] = {"compare_base.png", "compare_labels.png"};
    for (int s = 0; s < 2; s++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, sheets[s]);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *d = malloc((size_t)len);
        if (d == NULL || fread(d, 1, (size_t)len, f) != (size_t)len) {
            free(d);
            fclose(f);
            continue;
        }
        fclose(f);
        ts_err err;
        ts_canvas *sheet = ts_png_decode(d, (size_t)len, &err);
        free(d);
        if (sheet == NULL) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            continue;
        }
        /* bench/compare.py: row r at y = r * 272 + 14, columns at x = 0 and 266 */
        for (int r = 0; (r + 1) * 272 <= sheet->h + 2 && ts->n + 2 <= MAX_TILES; r++) {
            for (int col = 0; col < 2; col++) {
                ts_canvas *t = ts_canvas_new(TILE, TILE, NULL);
                if (t == NULL)
                    break;
                for (int y = 0; y < TILE; y++)
                    memcpy(t->px + (size_t)y * TILE,
                           sheet->px + (size_t)(r * 272 + 14 + y) * (size_t)sheet->stride +
                               (size_t)(col * 266),
                           TILE * sizeof(uint32_t));
                /* sheet rows: z12..z18 (base) or the label variant; A = MapServer */
                snprintf(ts->label[ts->n], sizeof ts->label[0], "%s z%d %s", s ? "labels" : "base",
                         s ? 17 + r : 12 + r, col ? "mapnik" : "mapserver");
                ts->t[ts->n++] = t;
            }
        }
        ts_canvas_free(sheet);
    }
    return ts->n;
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.png of dir (in name order), decoded, that is TILE x TILE. */
static int
load_dir(const char *dir, tileset *ts)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char *names[MAX_TILES];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nn < MAX_TILES) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".png") == 0)
            names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_name);
    for (int i = 0; i < nn; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        long len = 0;
        if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
            fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)len)) != NULL &&
            fread(data, 1, (size_t)len, f) == (size_t)len) {
            ts_err err;
            ts_canvas *c = ts_png_decode(data, (size_t)len, &err);
            if (c != NULL && c->w == TILE && c->h == TILE) {
                snprintf(ts->label[ts->n], sizeof ts->label[0], "%.31s", names[i]);
                ts->t[ts->n++] = c;
            } else {
                ts_canvas_free(c);
            }
        }
        free(data);
        if (f != NULL)
            fclose(f);
        free(names[i]);
    }
    return ts->n;
}

/* ---- measuring --------------------------------------------------------------------- */

typedef struct result {
    double ms; /* per tile, best round */
    double kb; /* per tile */
} result;

static int rounds = 5;

/* One pass over the tiles: ms per tile (thread CPU time); *kb gets KB per tile. */
static double
run_once(const tileset *ts, ts_png_mode mode, const ts_encode__tuning *t, ts_buf *b, double *kb)
{
    size_t bytes = 0;
    uint64_t t0 = ts_thread_cpu_ns();
    for (int i = 0; i < ts->n; i++) {
        b->len = 0;
        ts_err err;
        if (ts_encode__png(ts->t[i], 0, 0, TILE, TILE, mode, 256, t, b, &err) != TS_OK) {
            fprintf(stderr, "encode failed: %s\n", err.msg);
            exit(1);
        }
        bytes += b->len;
    }
    *kb = (double)bytes / 1024.0 / ts->n;
    return (double)(ts_thread_cpu_ns() - t0) / 1e6 / ts->n;
}

/* Time every setting; rounds are interleaved (round 1 of all settings, then round 2...)
 * so that load changes on the shared machine hit all settings alike. */
static void
run_all(const tileset *ts, ts_png_mode mode, const ts_encode__tuning *t, int n, result *r)
{
    ts_buf b;
    ts_buf_init(&b, 64u << 20);
    for (int k = 0; k < n; k++)
        r[k].ms = 1e30;
    for (int round = 0; round < rounds; round++)
        for (int k = 0; k < n; k++) {
            double ms = run_once(ts, mode, &t[k], &b, &r[k].kb);
            if (ms < r[k].ms)
                r[k].ms = ms;
        }
    ts_buf_fini(&b);
}

static void
sweep(const tileset *ts, ts_png_mode mode, int quick)
{
    static const int levels[] = {TS_ENCODE__FAST, 0, 1, 2, 3, 4, 6, 9, 12};
    enum { MAXC = 16 };
    ts_encode__tuning t[MAXC];
    result r[MAXC];
    int n = 0, l1 = -1;
    t[n++] = (ts_encode__tuning){6};
    t[n++] = ts_encode__default_tuning(mode);
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        if (quick && levels[l] > 6)
            continue;
        if (levels[l] == 1)
            l1 = n;
        t[n++] = (ts_encode__tuning){levels[l]};
    }
    run_all(ts, mode, t, n, r);
    printf("\n[%s, %s, %d tiles] reference libdeflate level 6: %.3f ms/tile, %.2f KB/tile\n",
           ts->name, mode == TS_PNG_PALETTE ? "png8" : "png", ts->n, r[0].ms, r[0].kb);
    char dname[16];
    if (t[1].level == TS_ENCODE__FAST)
        snprintf(dname, sizeof dname, "fast");
    else
        snprintf(dname, sizeof dname, "libdeflate %d", t[1].level);
    printf("  DEFAULT (zlevel=-1: %s): %.3f ms/tile, %.2f KB/tile, size x%.3f", dname, r[1].ms,
           r[1].kb, r[1].kb / r[0].kb);
    if (l1 >= 0)
        printf("; vs libdeflate 1: %.2fx faster, size x%.3f", r[l1].ms / r[1].ms,
               r[1].kb / r[l1].kb);
    printf("\n  %-5s %9s %9s %7s\n", "level", "ms/tile", "KB/tile", "size");
    for (int k = 2; k < n; k++) {
        char name[16];
        if (t[k].level == TS_ENCODE__FAST)
            snprintf(name, sizeof name, "fast");
        else
            snprintf(name, sizeof name, "%d", t[k].level);
        printf("  %-5s %9.3f %9.2f %7.3f\n", name, r[k].ms, r[k].kb, r[k].kb / r[0].kb);
    }
}

/* png8 quality and the quantiser's share of the time. */
static void
palette_quality(const tileset *ts)
{
    double sum = 0, maxe = 0;
    long npx = 0, exact_px = 0;
    int exact_tiles = 0;
    uint64_t qns = 0;
    for (int i = 0; i < ts->n; i++) {
        ts_encode__palette pal;
        uint64_t t0 = ts_thread_cpu_ns();
        ts_encode__quantise(ts->t[i], 0, 0, TILE, TILE, 256, &pal, NULL);
        qns += ts_thread_cpu_ns() - t0;
        exact_tiles += pal.exact;
        ts_buf b;
        ts_buf_init(&b, 64u << 20);
        ts_png_opts o = {TS_PNG_PALETTE, -1, 0};
        if (ts_png_encode(ts->t[i], 0, 0, TILE, TILE, &o, &b, NULL) != TS_OK)
            exit(1);
        ts_canvas *d = ts_png_decode(b.data, b.len, NULL);
        ts_buf_fini(&b);
        if (d == NULL)
            exit(1);
        for (int p = 0; p < TILE * TILE; p++) {
            uint32_t a = ts->t[i]->px[p], q = d->px[p];
            exact_px += a == q;
            for (int ch = 0; ch < 32; ch += 8) {
                double e = fabs((double)((a >> ch) & 255) - (double)((q >> ch) & 255));
                sum += e;
                maxe = e > maxe ? e : maxe;
            }
        }
        npx += TILE * TILE;
        ts_canvas_free(d);
    }
    printf("  png8 quality: %d/%d tiles exact (<= 256 colours), quantiser %.3f ms/tile, "
           "mean |error| %.3f /255 per channel, max %.0f, pixels exact %.2f%%\n",
           exact_tiles, ts->n, (double)qns / 1e6 / ts->n, sum / (4.0 * (double)npx), maxe,
           100.0 * (double)exact_px / (double)npx);
}

/* The default settings tile by tile (the "typical tile" question). */
static void
per_tile(const tileset *ts)
{
    printf("\n[%s, per tile, zlevel=-1] %-24s %8s %8s %8s %8s\n", ts->name, "tile", "png ms",
           "png KB", "png8 ms", "png8 KB");
    ts_buf b;
    ts_buf_init(&b, 64u << 20);
    for (int i = 0; i < ts->n; i++) {
        double ms[2], kb[2];
        for (int m = 0; m < 2; m++) {
            ts_encode__tuning t = ts_encode__default_tuning((ts_png_mode)m);
            tileset one = {.name = ts->name, .n = 1};
            one.t[0] = ts->t[i];
            ms[m] = 1e30;
            for (int r = 0; r < rounds; r++) {
                double v = run_once(&one, (ts_png_mode)m, &t, &b, &kb[m]);
                ms[m] = v < ms[m] ? v : ms[m];
            }
        }
        printf("  %-24s %8.3f %8.2f %8.3f %8.2f\n", ts->label[i], ms[0], kb[0], ms[1], kb[1]);
    }
    ts_buf_fini(&b);
}

static void
print_header(void)
{
    char commit[64] = "unknown", cpu[600] = "unknown";
#ifdef TS_SOURCE_DIR
    FILE *g = popen("git -C " TS_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
    if (g != NULL) {
        if (fgets(commit, sizeof commit, g) != NULL)
            commit[strcspn(commit, "\n")] = '\0';
        pclose(g);
    }
#endif
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *p = strchr(line, ':');
                snprintf(cpu, sizeof cpu, "%s", p ? p + 2 : line);
                cpu[strcspn(cpu, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    printf(
        "bench_png: commit %s, compiler %s, CPU %s, 1 thread, thread CPU time, best of %d rounds\n",
        commit, __VERSION__, cpu, rounds);
}

int
main(int argc, char **argv)
{
    const char *peers = "/tmp/peers/samples", *tiles = NULL;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--peers") == 0 && i + 1 < argc)
            peers = argv[++i];
        else if (strcmp(argv[i], "--tiles") == 0 && i + 1 < argc)
            tiles = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else {
            fprintf(stderr, "usage: bench_png [--peers DIR] [--tiles DIR] [--rounds N] [--quick]\n");
            return 2;
        }
    }
    if (rounds < 1)
        rounds = 1;
    print_header();

    static tileset sets[4] = {
        {.name = "peers"}, {.name = "opaque"}, {.name = "alpha"}, {.name = "tiles"}};
    enum { NSETS = 4 };
    load_peers(peers, &sets[0]);
    if (tiles != NULL && load_dir(tiles, &sets[3]) == 0)
        fprintf(stderr, "no %d px PNG tiles in %s\n", TILE, tiles);
    static const double pitch[] = {14, 24, 40, 80, 140};
    for (int k = 0; k < 10; k++)
        sets[1].t[sets[1].n++] = synth_base(pitch[k % 5], 1 + k % 4);
    for (int k = 0; k < 8; k++)
        sets[2].t[sets[2].n++] = synth_overlay(5 + 10 * (k % 4), 1 + k % 3);
    for (int s = 0; s < NSETS; s++)
        for (int i = 0; i < sets[s].n; i++)
            if (sets[s].t[i] == NULL)
                return 1;

    for (int s = 0; s < NSETS; s++) {
        if (s == 3 && tiles == NULL)
            continue;
        if (sets[s].n == 0) {
            printf("\n[%s] no tiles (not found under %s)\n", sets[s].name, s == 3 ? tiles : peers);
            continue;
        }
        sweep(&sets[s], TS_PNG_TRUECOLOR, quick);
        sweep(&sets[s], TS_PNG_PALETTE, 1);
        palette_quality(&sets[s]);
    }
    if (sets[0].n > 0)
        per_tile(&sets[0]);

    /* uniform tiles: the shared bytes vs encoding */
    ts_canvas *empty = ts_canvas_new(TILE, TILE, NULL);
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    ts_png_opts o = {TS_PNG_TRUECOLOR, -1, 0};
    uint64_t t0 = ts_thread_cpu_ns();
    for (int k = 0; k < 1000; k++) {
        b.len = 0;
        ts_png_encode(empty, 0, 0, TILE, TILE, &o, &b, NULL);
    }
    double ms_u = (double)(ts_thread_cpu_ns() - t0) / 1e6 / 1000;
    size_t ulen = b.len;
    ts_encode__tuning t = ts_encode__default_tuning(TS_PNG_TRUECOLOR);
    t0 = ts_thread_cpu_ns();
    for (int k = 0; k < 100; k++) {
        b.len = 0;
        ts_encode__png(empty, 0, 0, TILE, TILE, TS_PNG_TRUECOLOR, 256, &t, &b, NULL);
    }
    double ms_e = (double)(ts_thread_cpu_ns() - t0) / 1e6 / 100;
    printf("\n[uniform] transparent 256 px tile: shared %.4f ms (%zu bytes) vs encoded %.3f ms "
           "(%zu bytes)\n",
           ms_u, ulen, ms_e, b.len);
    ts_buf_fini(&b);
    ts_canvas_free(empty);
    for (int s = 0; s < NSETS; s++)
        for (int i = 0; i < sets[s].n; i++)
            ts_canvas_free(sets[s].t[i]);
    return 0;
}
