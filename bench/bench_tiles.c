/* bench/bench_tiles.c — render a fixed tile list the way the peers' harnesses do (one
 * 256 px tile at a time, no cache, no metatiles), single- or multi-threaded, and print
 * tiles/s, peak RSS and the time split query / rasterise / encode. With --meta N the same
 * list goes through the serving pipeline instead (N x N metatiles, memory cache on).
 * Labels (TextSymbolizers) are drawn with the service's fonts (the catalogue of the
 * default font directories, made once per process), as the server draws them; --no-labels
 * renders the same styles without them (the unlabelled baseline of bench/run_labels.sh;
 * the --meta path always draws them, as the server does).
 *
 *   bench_tiles -c bench/cadastre.yaml --tileset bench --tiles bench/tiles.txt
 *               [--threads N] [--warmup W] [--runs R] [--save DIR] [--meta N]
 *               [--format png|png8] [--no-labels]
 *
 * --warmup W renders the list W times untimed first; then R timed passes, a line each.
 *
 * Output lines match ../shared/peers (name tiles= wall_s= tiles_per_s= ...); label_s is
 * the label engine's share (placement and drawing), labels the labels drawn, label_cands
 * the candidates it weighed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/pipeline.h"
#include "util/clock.h"
#include "util/log.h"

typedef struct tile {
    int z;
    uint32_t x, y;
} tile;

typedef struct bench {
    const ts_tileset *ts;
    tile *tiles;
    int ntiles;
    atomic_int next;
    const char *save;
    ts_png_mode mode;
    const ts_font_catalog *fonts; /* NULL: no labels */
    /* totals */
    pthread_mutex_t mu;
    uint64_t query_ns, draw_ns, encode_ns, bytes, label_ns, labels, label_cands;
    double zoom_ms[32];
    double zoom_enc_ms[32];
    int zoom_n[32];
    int png_rgb, png_rgba, png_pal;
    int failed;
} bench;

static int
read_tiles(const char *path, tile **out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = 0, cap = 512;
    tile *t = malloc(sizeof *t * (size_t)cap);
    char line[128];
    while (t && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        tile v;
        if (sscanf(line, "%d/%u/%u", &v.z, &v.x, &v.y) != 3)
            continue;
        if (n == cap) {
            cap *= 2;
            tile *nt = realloc(t, sizeof *t * (size_t)cap);
            if (nt == NULL)
                break;
            t = nt;
        }
        t[n++] = v;
    }
    fclose(f);
    *out = t;
    return n;
}

static void *
bench_thread(void *arg)
{
    bench *b = arg;
    ts_render_worker *w = ts_render_worker_new(NULL);
    ts_canvas *c = ts_canvas_new(256, 256, NULL);
    ts_buf png;
    ts_buf_init(&png, 16u << 20);
    const ts_tileset *ts = b->ts;
    const ts_grid *g = ts->grid;
    uint64_t enc = 0, bytes = 0;
    double zms[32] = {0}, zenc[32] = {0};
    int zn[32] = {0};
    int rgb = 0, rgba = 0, pal = 0, failed = 0;
    int i;
    while ((i = atomic_fetch_add(&b->next, 1)) < b->ntiles) {
        tile t = b->tiles[i];
        uint64_t t0 = ts_mono_ns();
        ts_render_req rq = {
            .layers = ts->layers,
            .nlayers = ts->nlayers,
            .bbox = ts_grid_tile_bbox(g, t.z, t.x, t.y),
            .width = 256,
            .height = 256,
            .scale_factor = 1,
            .scale_denom = ts_render_scale_denom(g->levels[t.z].res, g->meters_per_unit),
            .background = ts->background,
            .fonts = b->fonts,
        };
        ts_err err;
        if (ts_render_draw(w, &rq, c, &err) != TS_OK) {
            failed++;
            continue;
        }
        uint64_t t1 = ts_mono_ns();
        png.len = 0;
        ts_png_opts po = {b->mode, -1, 0};
        if (ts_png_encode(c, 0, 0, 256, 256, &po, &png, &err) != TS_OK) {
            failed++;
            continue;
        }
        uint64_t t2 = ts_mono_ns();
        enc += t2 - t1;
        bytes += png.len;
        zms[t.z] += (t2 - t0) / 1e6;
        zenc[t.z] += (t2 - t1) / 1e6;
        zn[t.z]++;
        if (png.len > 25) {
            if (png.data[25] == 2)
                rgb++;
            else if (png.data[25] == 6)
                rgba++;
            else if (png.data[25] == 3)
                pal++;
        }
        if (b->save) {
            char path[512];
            snprintf(path, sizeof path, "%s/%d_%u_%u.png", b->save, t.z, t.x, t.y);
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(png.data, 1, png.len, f);
                fclose(f);
            }
        }
    }
    ts_render_stats *rs = ts_render_worker_stats(w);
    pthread_mutex_lock(&b->mu);
    b->query_ns += rs->query_ns;
    b->draw_ns += rs->draw_ns;
    b->label_ns += rs->label_ns;
    b->labels += rs->labels;
    b->label_cands += rs->label_candidates;
    b->encode_ns += enc;
    b->bytes += bytes;
    for (int z = 0; z < 32; z++) {
        b->zoom_ms[z] += zms[z];
        b->zoom_enc_ms[z] += zenc[z];
        b->zoom_n[z] += zn[z];
    }
    b->png_rgb += rgb;
    b->png_rgba += rgba;
    b->png_pal += pal;
    b->failed += failed;
    pthread_mutex_unlock(&b->mu);
    ts_buf_fini(&png);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    return NULL;
}

static double
cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double
peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Serve the list through the pipeline (metatiles, memory cache), as the server would: one
 * line per pass, each pass with a new pipeline (an empty memory cache, so every pass
 * renders); the first `warmup` passes are not printed. */
static int
run_pipeline(ts_service *svc, const char *tileset, tile *tiles, int n, int threads, int warmup,
             int runs)
{
    for (int pass = 0; pass < warmup + runs; pass++) {
        ts_pipeline_opts po = {threads, 4096, 512u << 20, 0, 0};
        ts_err err;
        ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
        if (p == NULL)
            return 1;
        double c0 = cpu_s();
        uint64_t t0 = ts_mono_ns();
        for (int i = 0; i < n; i++) {
            ts_tile_req r = {tileset, tiles[i].z, tiles[i].x, tiles[i].y, 1};
            ts_tile *t;
            if (ts_pipeline_get(p, &r, &t, &err) == TS_OK)
                ts_tile_unref(t);
        }
        double wall = (ts_mono_ns() - t0) / 1e9, cpu = cpu_s() - c0;
        ts_pipeline_stats ps;
        ts_pipeline_stats_get(p, &ps);
        if (pass >= warmup)
            printf("tilesrv_meta tiles=%d wall_s=%.3f tiles_per_s=%.2f cpu_s=%.2f "
                   "peak_rss_mb=%.1f metatiles=%llu tiles_encoded=%llu tiles_uniform=%llu "
                   "threads=%d\n",
                   n, wall, n / wall, cpu, peak_rss_mb(),
                   (unsigned long long)ps.metatiles_rendered,
                   (unsigned long long)ps.tiles_encoded, (unsigned long long)ps.tiles_uniform,
                   threads);
        ts_pipeline_free(p);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    const char *cfgpath = "bench/cadastre.yaml", *tset = "bench", *tiles_path = "bench/tiles.txt";
    const char *save = NULL, *name = "tilesrv", *format = NULL;
    int threads = 1, runs = 1, meta = 0, labels = 1, warmup = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "-c") == 0)
            cfgpath = v, i++;
        else if (strcmp(argv[i], "--tileset") == 0)
            tset = v, i++;
        else if (strcmp(argv[i], "--tiles") == 0)
            tiles_path = v, i++;
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (int)strtol(v, NULL, 10), i++;
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = (int)strtol(v, NULL, 10), i++;
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)strtol(v, NULL, 10), i++;
        else if (strcmp(argv[i], "--save") == 0)
            save = v, i++;
        else if (strcmp(argv[i], "--name") == 0)
            name = v, i++;
        else if (strcmp(argv[i], "--meta") == 0)
            meta = (int)strtol(v, NULL, 10), i++;
        else if (strcmp(argv[i], "--format") == 0)
            format = v, i++;
        else if (strcmp(argv[i], "--no-labels") == 0)
            labels = 0;
        else {
            fprintf(stderr, "bench_tiles: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1)
        threads = 1;
    ts_log_set_level(TS_LOG_WARN);
    tile *tiles;
    int n = read_tiles(tiles_path, &tiles);
    if (n <= 0) {
        fprintf(stderr, "bench_tiles: cannot read %s\n", tiles_path);
        return 1;
    }
    ts_err err;
    ts_err_clear(&err);
    double l0 = ts_mono_ns() / 1e9;
    ts_config *cfg = ts_config_load(cfgpath, &err);
    ts_service *svc = cfg ? ts_service_load(cfg, &err) : NULL;
    double load_s = ts_mono_ns() / 1e9 - l0;
    if (svc == NULL) {
        char buf[1024];
        fprintf(stderr, "bench_tiles: %s\n", ts_err_format(&err, buf, sizeof buf));
        return 1;
    }
    const ts_tileset *ts = ts_service_tileset(svc, tset);
    if (ts == NULL) {
        fprintf(stderr, "bench_tiles: no tileset %s\n", tset);
        return 1;
    }
    if (meta > 0)
        return run_pipeline(svc, tset, tiles, n, threads, warmup, runs);
    if (save)
        mkdir(save, 0755);
    /* the first `warmup` passes are not timed (scratch buffers grow, caches fill) */
    for (int r = 0; r < warmup + runs; r++) {
        bench b;
        memset(&b, 0, sizeof b);
        b.ts = ts;
        b.tiles = tiles;
        b.ntiles = n;
        b.save = r >= warmup ? save : NULL;
        b.fonts = labels ? ts->fonts : NULL;
        b.mode = format ? (strcmp(format, "png8") == 0 ? TS_PNG_PALETTE : TS_PNG_TRUECOLOR)
                        : ts->mode;
        pthread_mutex_init(&b.mu, NULL);
        atomic_init(&b.next, 0);
        double c0 = cpu_s();
        uint64_t t0 = ts_mono_ns();
        pthread_t th[256];
        int nt = threads > 256 ? 256 : threads;
        for (int i = 0; i < nt; i++)
            pthread_create(&th[i], NULL, bench_thread, &b);
        for (int i = 0; i < nt; i++)
            pthread_join(th[i], NULL);
        double wall = (ts_mono_ns() - t0) / 1e9;
        double cpu = cpu_s() - c0;
        if (r < warmup) {
            pthread_mutex_destroy(&b.mu);
            continue;
        }
        const char *kind = b.png_pal ? "paletted8" : b.png_rgba ? "RGBA8" : "RGB8";
        char zl[1024];
        int zp = 0;
        for (int z = 0; z < 32; z++)
            if (b.zoom_n[z])
                zp += snprintf(zl + zp, sizeof zl - (size_t)zp, "z%d_ms=%.2f(enc %.2f) ", z,
                               b.zoom_ms[z] / b.zoom_n[z], b.zoom_enc_ms[z] / b.zoom_n[z]);
        fprintf(stderr, "%s\n", zl);
        printf("%s tiles=%d wall_s=%.3f tiles_per_s=%.2f cpu_s=%.2f peak_rss_mb=%.1f "
               "load_s=%.3f encode_s=%.3f query_s=%.3f raster_s=%.3f avg_png_kb=%.1f png=%s "
               "threads=%d failed=%d label_s=%.3f labels=%llu label_cands=%llu\n",
               name, n, wall, n / wall, cpu, peak_rss_mb(), load_s, b.encode_ns / 1e9 / nt,
               b.query_ns / 1e9 / nt, b.draw_ns / 1e9 / nt, b.bytes / (double)n / 1024, kind, nt,
               b.failed, b.label_ns / 1e9 / nt, (unsigned long long)b.labels,
               (unsigned long long)b.label_cands);
        fflush(stdout);
        pthread_mutex_destroy(&b.mu);
    }
    ts_service_unref(svc);
    ts_config_unref(cfg);
    free(tiles);
    return 0;
}
