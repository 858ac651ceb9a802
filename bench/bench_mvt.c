/* bench/bench_mvt.c — encode the benchmark cadastre as Mapbox Vector Tiles over the fixed tile
 * list: the five layers of bench/data/cadastre.gpkg loaded into EPSG:3857 stores (with the
 * generalised levels a WebMercatorQuad tileset uses), then per tile: query each store with the
 * tile plus buffer, add every feature with all its attributes (ts_mvt_add_feature, the
 * recipe the pipeline uses), finish, and gzip. Prints tiles/s and the mean tile size, and
 * the time split query / encode / gzip; single-threaded, one builder reused tile to tile.
 *
 *   bench_mvt [--data bench/data/cadastre.gpkg] [--tiles bench/tiles.txt] [--runs R]
 *             [--extent 4096] [--buffer 256] [--max-bytes N] [--save DIR] [--name NAME]
 *
 * Output line as the other benches: name tiles= wall_s= tiles_per_s= ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mvt/mvt.h"
#include "source/source.h"
#include "util/clock.h"

#define NLAYERS 5

typedef struct tile {
    int z;
    uint32_t x, y;
} tile;

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
        tile v;
        if (line[0] == '#' || sscanf(line, "%d/%u/%u", &v.z, &v.x, &v.y) != 3)
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

static void
print_env(void)
{
    char commit[64] = "unknown", cpu[256] = "unknown";
    FILE *f = popen("git -C " TS_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
    if (f != NULL) {
        if (fgets(commit, sizeof commit, f) == NULL)
            snprintf(commit, sizeof commit, "unknown");
        commit[strcspn(commit, "\n")] = '\0';
        pclose(f);
    }
    f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v != NULL)
                    snprintf(cpu, sizeof cpu, "%s", v + 2);
                cpu[strcspn(cpu, "\n")] = '\0';
                break;
            }
        fclose(f);
    }
#ifdef __OPTIMIZE__
    const char *opt = "optimised";
#else
    const char *opt = "NOT optimised";
#endif
    printf("# bench_mvt  commit %s  compiler %s (%s)  cpu %s  threads 1\n", commit, __VERSION__,
           opt, cpu);
}

typedef struct layer {
    const char *name;
    ts_store *st;
    int nf;
    const char **keys;
    ts_value *vals;
} layer;

int
main(int argc, char **argv)
{
    const char *data = TS_SOURCE_DIR "/bench/data/cadastre.gpkg";
    const char *tiles_path = TS_SOURCE_DIR "/bench/tiles.txt";
    const char *save = NULL, *name = "tilesrv_mvt";
    int runs = 3;
    ts_mvt_opts mo = {.extent = 4096, .buffer = 256};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && strcmp(a, "--data") == 0)
            data = argv[++i];
        else if (v && strcmp(a, "--tiles") == 0)
            tiles_path = argv[++i];
        else if (v && strcmp(a, "--runs") == 0)
            runs = (int)strtol(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--extent") == 0)
            mo.extent = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--buffer") == 0)
            mo.buffer = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--max-bytes") == 0)
            mo.max_bytes = (size_t)strtoull(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--save") == 0)
            save = argv[++i];
        else if (v && strcmp(a, "--name") == 0)
            name = argv[++i];
        else {
            fprintf(stderr, "bench_mvt: unknown option %s\n", a);
            return 2;
        }
    }
    print_env();
    tile *tiles = NULL;
    int ntiles = read_tiles(tiles_path, &tiles);
    if (ntiles <= 0) {
        fprintf(stderr, "bench_mvt: cannot read %s\n", tiles_path);
        return 1;
    }
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    if (sc == NULL) {
        fprintf(stderr, "bench_mvt: %s\n", err.msg);
        return 1;
    }
    /* the generalised levels of a WebMercatorQuad tileset: half a pixel at z15 .. z10 */
    double tol[6];
    for (int i = 0; i < 6; i++)
        tol[i] = 156543.03392804097 / (double)(1u << (15 - i)) / 2;
    static const char *names[NLAYERS] = {"parcels", "buildings", "streets", "parking_bays",
                                         "air_stations"};
    layer L[NLAYERS];
    memset(L, 0, sizeof L);
    for (int i = 0; i < NLAYERS; i++)
        L[i].name = names[i];
    uint64_t t_load = ts_mono_ns();
    for (int i = 0; i < NLAYERS; i++) {
        ts_store_def def = {.name = L[i].name,
                            .path = data,
                            .layer = L[i].name,
                            .dst_crs = "EPSG:3857",
                            .tolerances = tol,
                            .ntolerances = 6};
        if (ts_store_load(sc, &def, &L[i].st, &err) != TS_OK) {
            fprintf(stderr, "bench_mvt: %s (bench/make_data.sh makes the data)\n", err.msg);
            return 1;
        }
        L[i].nf = ts_store_nfields(L[i].st);
        L[i].keys = calloc((size_t)L[i].nf + 1, sizeof *L[i].keys);
        L[i].vals = calloc((size_t)L[i].nf + 1, sizeof *L[i].vals);
        for (int f = 0; f < L[i].nf; f++)
            L[i].keys[f] = ts_store_field_name(L[i].st, f);
    }
    printf("# loaded %d layers in %.2f s; %d tiles from %s\n", NLAYERS,
           (double)(ts_mono_ns() - t_load) / 1e9, ntiles, tiles_path);

    ts_mvt_builder *b = ts_mvt_builder_new(&mo, &err);
    if (b == NULL) {
        fprintf(stderr, "bench_mvt: %s\n", err.msg);
        return 1;
    }
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_idvec ids = {0};
    ts_buf out, gz;
    ts_buf_init(&out, 64u << 20);
    ts_buf_init(&gz, 64u << 20);
    double best_wall = 1e30, best_cpu = 0;
    uint64_t best_q = 0, best_e = 0, best_z = 0;
    uint64_t bytes = 0, gzbytes = 0, feats = 0, dropped = 0, maxbytes = 0;
    int failed = 0;
    for (int run = 0; run < runs; run++) {
        uint64_t q_ns = 0, e_ns = 0, z_ns = 0;
        bytes = gzbytes = feats = dropped = maxbytes = 0;
        failed = 0;
        uint64_t t0 = ts_mono_ns(), cpu0 = ts_thread_cpu_ns();
        for (int ti = 0; ti < ntiles; ti++) {
            const tile *t = &tiles[ti];
            ts_bbox tb = ts_grid_tile_bbox(g, t->z, t->x, t->y);
            ts_mvt_transform tr = ts_mvt_transform_for(&tb, ts_mvt_builder_opts(b)->extent);
            ts_bbox qb = ts_mvt_query_bbox(&tb, ts_mvt_builder_opts(b)->extent,
                                           ts_mvt_builder_opts(b)->buffer);
            double res = g->levels[t->z].res; /* per pixel of a 256 px tile */
            ts_mvt_builder_reset(b);
            for (int li = 0; li < NLAYERS; li++) {
                layer *ly = &L[li];
                uint64_t a = ts_mono_ns();
                ts_store_query(ly->st, &qb, &ids);
                uint64_t c = ts_mono_ns();
                q_ns += c - a;
                int lidx = ts_mvt_layer_add(b, ly->name, &err);
                int level = ts_store_level_for_res(ly->st, res);
                for (size_t k = 0; k < ids.n; k++) {
                    uint32_t fid = ids.ids[k];
                    ts_geom gm;
                    ts_store_geom(ly->st, level, fid, &gm);
                    for (int f = 0; f < ly->nf; f++)
                        ly->vals[f] = *ts_store_value(ly->st, fid, f);
                    int64_t oid = ts_store_origin_id(ly->st, fid);
                    int kept;
                    if (ts_mvt_add_feature(b, lidx, (ts_mvt_geom_type)gm.kind, gm.xy, gm.counts,
                                           gm.nparts, &tr, 1, oid >= 0 ? (uint64_t)oid : fid,
                                           ly->keys, ly->vals, ly->nf, &kept, &err) != TS_OK) {
                        failed++;
                        continue;
                    }
                }
                e_ns += ts_mono_ns() - c;
            }
            uint64_t a = ts_mono_ns();
            ts_mvt_report rep;
            out.len = 0;
            if (ts_mvt_finish(b, &out, &rep, &err) != TS_OK) {
                failed++;
                ts_buf_init(&out, 64u << 20);
                continue;
            }
            uint64_t c = ts_mono_ns();
            gz.len = 0;
            if (ts_mvt_gzip(out.data, out.len, 6, &gz, &err) != TS_OK) {
                failed++;
                ts_buf_init(&gz, 64u << 20);
            }
            z_ns += ts_mono_ns() - c;
            e_ns += c - a;
            bytes += out.len;
            gzbytes += gz.len;
            feats += rep.features;
            dropped += rep.dropped;
            maxbytes = out.len > maxbytes ? out.len : maxbytes;
            if (save != NULL && run == 0) {
                char path[1024];
                snprintf(path, sizeof path, "%s/%d", save, t->z);
                mkdir(save, 0777);
                mkdir(path, 0777);
                snprintf(path, sizeof path, "%s/%d/%u", save, t->z, t->x);
                mkdir(path, 0777);
                snprintf(path, sizeof path, "%s/%d/%u/%u.mvt", save, t->z, t->x, t->y);
                FILE *f = fopen(path, "wb");
                if (f != NULL) {
                    fwrite(out.data, 1, out.len, f);
                    fclose(f);
                }
            }
        }
        double wall = (double)(ts_mono_ns() - t0) / 1e9;
        if (wall < best_wall) {
            best_wall = wall;
            best_cpu = (double)(ts_thread_cpu_ns() - cpu0) / 1e9;
            best_q = q_ns;
            best_e = e_ns;
            best_z = z_ns;
        }
    }
    /* the encode rate without gzip: what a client accepting identity costs */
    double enc_s = (double)(best_q + best_e) / 1e9;
    printf("%s tiles=%d wall_s=%.3f cpu_s=%.3f tiles_per_s=%.1f tiles_per_s_no_gzip=%.1f "
           "query_s=%.3f encode_s=%.3f gzip_s=%.3f mean_bytes=%.0f mean_gzip_bytes=%.0f "
           "max_bytes=%llu features_per_tile=%.0f dropped=%llu failed=%d runs=%d\n",
           name, ntiles, best_wall, best_cpu, ntiles / best_wall, ntiles / enc_s, (double)best_q / 1e9,
           (double)best_e / 1e9, (double)best_z / 1e9, (double)bytes / ntiles,
           (double)gzbytes / ntiles, (unsigned long long)maxbytes, (double)feats / ntiles,
           (unsigned long long)dropped, failed, runs);
    ts_buf_fini(&out);
    ts_buf_fini(&gz);
    ts_idvec_fini(&ids);
    ts_mvt_builder_free(b);
    for (int i = 0; i < NLAYERS; i++) {
        ts_store_unref(L[i].st);
        free(L[i].keys);
        free(L[i].vals);
    }
    ts_source_ctx_free(sc);
    free(tiles);
    return failed ? 1 : 0;
}
