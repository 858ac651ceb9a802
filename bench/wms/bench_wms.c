/* bench/wms/bench_wms.c — WMS GetMap through tilesrv's pipeline, in process (as the MapServer
 * peer answers through mapscript's OWSDispatch): each request of a list is rendered and
 * PNG-encoded (ts_pipeline_map_get: the render pool, bands over idle workers, labels inside
 * the image), one request at a time, and the time per CRS printed.
 *
 *   bench_wms -c bench/wms/wms.yaml --layers bench --requests bench/wms/requests.txt
 *             [--threads N] [--size 1024] [--save DIR]
 *
 * --threads 1 draws every map on one thread; with N > 1 a map's bands are spread over the
 * N render workers. requests.txt lines: "CRS minx miny maxx maxy" (x = easting). Output per
 * CRS: "tilesrv_wms crs=EPSG:25832 threads=1 maps=24 wall_s=... maps_per_s=... ms_per_map=...
 * cpu_s=... peak_rss_mb=... avg_kb=...". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "pipeline/pipeline.h"
#include "util/clock.h"
#include "util/log.h"

typedef struct wreq {
    char crs[32];
    ts_bbox b;
} wreq;

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

static int
read_requests(const char *path, wreq **out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = 0, cap = 64;
    wreq *r = malloc(sizeof *r * (size_t)cap);
    char line[256];
    while (r != NULL && fgets(line, sizeof line, f)) {
        wreq q;
        if (sscanf(line, "%31s %lf %lf %lf %lf", q.crs, &q.b.minx, &q.b.miny, &q.b.maxx,
                   &q.b.maxy) != 5)
            continue;
        if (n == cap) {
            cap *= 2;
            wreq *nr = realloc(r, sizeof *r * (size_t)cap);
            if (nr == NULL)
                break;
            r = nr;
        }
        r[n++] = q;
    }
    fclose(f);
    *out = r;
    return n;
}

int
main(int argc, char **argv)
{
    const char *cfgpath = "bench/wms/wms.yaml", *reqpath = "bench/wms/requests.txt";
    const char *layers = "bench", *save = NULL;
    int threads = 1, size = 1024;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            cfgpath = argv[++i];
        else if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            reqpath = argv[++i];
        else if (strcmp(argv[i], "--layers") == 0 && i + 1 < argc)
            layers = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc)
            save = argv[++i];
        else {
            fprintf(stderr, "usage: bench_wms -c CONFIG --requests FILE [--layers NAMES] "
                            "[--threads N] [--size PX] [--save DIR]\n");
            return 2;
        }
    }
    ts_log_set_level(TS_LOG_WARN);
    wreq *rq = NULL;
    int n = read_requests(reqpath, &rq);
    if (n <= 0) {
        fprintf(stderr, "bench_wms: no requests in %s\n", reqpath);
        return 1;
    }
    ts_err err;
    double t0 = ts_mono_ns() / 1e9;
    ts_config *cfg = ts_config_load(cfgpath, &err);
    ts_service *svc = cfg ? ts_service_load(cfg, &err) : NULL;
    if (svc == NULL) {
        char buf[700];
        fprintf(stderr, "bench_wms: %s\n", ts_err_format(&err, buf, sizeof buf));
        return 1;
    }
    ts_pipeline_opts po = {threads, 64, 16u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    if (p == NULL) {
        fprintf(stderr, "bench_wms: %s\n", err.msg);
        return 1;
    }
    double load_s = ts_mono_ns() / 1e9 - t0;
    if (save)
        mkdir(save, 0755);
    /* one warm-up map, then every request; times per CRS */
    const char *names[1] = {layers};
    static const char *const crss[] = {"EPSG:25832", "EPSG:3857"};
    for (int pass = -1; pass < 2; pass++) {
        double wall = 0, c0 = cpu_s();
        size_t bytes = 0;
        int maps = 0;
        for (int i = 0; i < n; i++) {
            if (pass >= 0 && strcmp(rq[i].crs, crss[pass]) != 0)
                continue;
            if (pass < 0 && i > 0)
                break;
            ts_map_req mr = {
                .layers = names,
                .nlayers = 1,
                .crs = ts_grid_crs_find(rq[i].crs),
                .bbox = rq[i].b,
                .width = size,
                .height = size,
                .background = {255, 255, 255, 255},
                .format = TS_MAP_PNG,
            };
            ts_tile *t = NULL;
            uint64_t a = ts_mono_ns();
            ts_status st = ts_pipeline_map_get(p, &mr, &t, &err);
            wall += (ts_mono_ns() - a) / 1e9;
            if (st != TS_OK) {
                fprintf(stderr, "bench_wms: request %d failed: %s\n", i, err.msg);
                return 1;
            }
            bytes += t->len;
            maps++;
            if (save && pass >= 0) {
                char path[1024];
                snprintf(path, sizeof path, "%s/%02d_%s.png", save, i, pass == 0 ? "25832" : "3857");
                FILE *f = fopen(path, "wb");
                if (f) {
                    fwrite(t->data, 1, t->len, f);
                    fclose(f);
                }
            }
            ts_tile_unref(t);
        }
        if (pass < 0 || maps == 0)
            continue;
        printf("tilesrv_wms crs=%s threads=%d maps=%d size=%d wall_s=%.3f maps_per_s=%.2f "
               "ms_per_map=%.1f cpu_s=%.2f peak_rss_mb=%.1f load_s=%.2f avg_kb=%.1f\n",
               crss[pass], threads, maps, size, wall, maps / wall, 1000 * wall / maps,
               cpu_s() - c0, peak_rss_mb(), load_s, bytes / 1024.0 / maps);
        fflush(stdout);
    }
    ts_pipeline_free(p);
    ts_service_unref(svc);
    ts_config_unref(cfg);
    free(rq);
    return 0;
}
