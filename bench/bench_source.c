/* bench/bench_source.c — load the cadastre benchmark layers (GeoPackage, EPSG:25832) into
 * EPSG:3857 stores single-threaded and report time, memory and store figures; then time
 * index queries (tile-sized boxes at several zooms, and one big box of ~50k hits).
 *
 *   bench_source [path/to/cadastre.gpkg] [--levels] [--no-queries]
 *
 * --levels also builds the generalised levels a WebMercatorQuad tileset uses (z10..z15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include "source/source.h"
#include "util/clock.h"

static long
rss_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f != NULL && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0)
            v = strtol(line + kl, NULL, 10);
    if (f != NULL)
        fclose(f);
    return v;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double
urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void
bench_queries(const ts_store *s)
{
    ts_bbox e = ts_store_extent(s);
    ts_idvec v = {0};
    const double world = 40075016.68557849;
    for (int z = 12; z <= 18; z += 2) {
        double side = world / (double)(1u << z) * 8; /* an 8x8 metatile */
        int nq = 2000;
        uint64_t hits = 0, t0 = ts_mono_ns();
        for (int i = 0; i < nq; i++) {
            double x = e.minx + urand() * (e.maxx - e.minx - side);
            double y = e.miny + urand() * (e.maxy - e.miny - side);
            ts_bbox q = {x, y, x + side, y + side};
            ts_store_query(s, &q, &v);
            hits += v.n;
        }
        double us = (double)(ts_mono_ns() - t0) / 1e3 / nq;
        printf("  query z%-2d metatile: %8.1f us/query, %7.0f hits/query\n", z, us,
               (double)hits / nq);
    }
    /* a box centred on the extent sized for ~50k hits */
    double f = 0.55;
    for (int it = 0; it < 20; it++) {
        double cx = 0.5 * (e.minx + e.maxx), cy = 0.5 * (e.miny + e.maxy);
        double hw = 0.5 * f * (e.maxx - e.minx), hh = 0.5 * f * (e.maxy - e.miny);
        ts_bbox q = {cx - hw, cy - hh, cx + hw, cy + hh};
        ts_store_query(s, &q, &v);
        if (v.n > 48000 && v.n < 52000)
            break;
        f *= 50000.0 / (double)(v.n ? v.n : 1) > 1 ? 1.05 : 0.96;
    }
    {
        double cx = 0.5 * (e.minx + e.maxx), cy = 0.5 * (e.miny + e.maxy);
        double hw = 0.5 * f * (e.maxx - e.minx), hh = 0.5 * f * (e.maxy - e.miny);
        ts_bbox q = {cx - hw, cy - hh, cx + hw, cy + hh};
        int nq = 200;
        uint64_t t0 = ts_mono_ns();
        for (int i = 0; i < nq; i++)
            ts_store_query(s, &q, &v);
        printf("  query big box: %zu hits, %.3f ms/query\n", v.n,
               (double)(ts_mono_ns() - t0) / 1e6 / nq);
    }
    ts_idvec_fini(&v);
}

int
main(int argc, char **argv)
{
    const char *path = "/tmp/peers/data/cadastre.gpkg";
    int levels = 0, queries = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--levels") == 0)
            levels = 1;
        else if (strcmp(argv[i], "--no-queries") == 0)
            queries = 0;
        else
            path = argv[i];
    }
    struct utsname u;
    uname(&u);
    printf("bench_source: %s, %s %s, compiler %s, 1 thread\n", path, u.sysname, u.machine,
           __VERSION__);
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    if (sc == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* half a pixel at z15 .. z10 of WebMercatorQuad: ascending */
    double tol[6];
    for (int i = 0; i < 6; i++)
        tol[i] = 156543.03392804097 / (double)(1u << (15 - i)) / 2;
    const char *layers[] = {"parcels", "buildings", "streets"};
    ts_store *st[3] = {0};
    long rss0 = rss_kb("VmRSS:");
    uint64_t t_all = ts_mono_ns();
    for (int i = 0; i < 3; i++) {
        ts_store_def def = {.name = layers[i],
                            .path = path,
                            .layer = layers[i],
                            .dst_crs = "EPSG:3857",
                            .tolerances = levels ? tol : NULL,
                            .ntolerances = levels ? 6 : 0};
        uint64_t cpu0 = ts_thread_cpu_ns();
        if (ts_store_load(sc, &def, &st[i], &err) != TS_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double cpu_s = (double)(ts_thread_cpu_ns() - cpu0) / 1e9;
        const ts_store_stats *ss = ts_store_stats_get(st[i]);
        printf("%-10s read=%llu kept=%llu repaired=%llu skipped=%llu vertices=%llu "
               "store_mb=%.1f load_s=%.3f cpu_s=%.3f\n",
               layers[i], (unsigned long long)ss->read, (unsigned long long)ss->kept,
               (unsigned long long)ss->repaired, (unsigned long long)ss->skipped,
               (unsigned long long)ss->vertices, (double)ss->bytes / 1048576.0, ss->load_s, cpu_s);
    }
    double all_s = (double)(ts_mono_ns() - t_all) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("total load_s=%.3f cpu_s=%.3f rss_mb=%.1f (before %.1f) peak_rss_mb=%.1f levels=%d\n",
           all_s,
           (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6,
           rss_kb("VmRSS:") / 1024.0, rss0 / 1024.0, rss_kb("VmHWM:") / 1024.0, levels ? 7 : 1);
    for (int i = 0; i < 3; i++) {
        printf("%s:\n", layers[i]);
        if (levels) {
            for (int l = 0; l < ts_store_nlevels(st[i]); l++) {
                uint64_t pts = 0;
                for (uint32_t f = 0; f < ts_store_count(st[i]); f++) {
                    ts_geom g;
                    ts_store_geom(st[i], l, f, &g);
                    for (uint32_t k = 0; k < g.nparts; k++)
                        pts += g.counts[k];
                }
                printf("  level %d: %llu vertices\n", l, (unsigned long long)pts);
            }
        }
        if (queries)
            bench_queries(st[i]);
    }
    for (int i = 0; i < 3; i++)
        ts_store_unref(st[i]);
    ts_source_ctx_free(sc);
    return 0;
}
