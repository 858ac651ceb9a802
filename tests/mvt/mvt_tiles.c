/* tests/mvt/mvt_tiles.c — write WebMercatorQuad vector tiles of the demo GeoPackage for the
 * decoder cross-checks (test_mvt_decoders.py): every layer named on the command line loaded
 * through ts_source into EPSG:3857 at full detail, every feature whose bbox meets the tile
 * plus buffer added with all its attributes and its GeoPackage FID as id
 * (ts_mvt_add_feature), each tile checked with ts_mvt_validate and written as
 * OUT/z/x/y.mvt. Prints one line per tile: z/x/y bytes features empty dropped.
 *
 *   mvt_tiles --data FILE.gpkg --out DIR [--extent N] [--buffer N] [--max-bytes N]
 *             --layers a,b,c z/x/y...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mvt/mvt.h"
#include "source/source.h"

#define MAXL 16

int
main(int argc, char **argv)
{
    const char *data = NULL, *outdir = NULL;
    char layers_arg[512] = "";
    ts_mvt_opts mo = {0};
    int first_tile = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && strcmp(a, "--data") == 0)
            data = argv[++i];
        else if (v && strcmp(a, "--out") == 0)
            outdir = argv[++i];
        else if (v && strcmp(a, "--extent") == 0)
            mo.extent = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--buffer") == 0)
            mo.buffer = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--max-bytes") == 0)
            mo.max_bytes = (size_t)strtoull(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--layers") == 0)
            snprintf(layers_arg, sizeof layers_arg, "%s", argv[++i]);
        else {
            first_tile = i;
            break;
        }
    }
    if (data == NULL || outdir == NULL || layers_arg[0] == '\0' || first_tile >= argc) {
        fprintf(stderr, "usage: mvt_tiles --data F --out DIR --layers a,b [opts] z/x/y...\n");
        return 2;
    }
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    if (sc == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *names[MAXL];
    ts_store *st[MAXL];
    int nl = 0;
    char *save = NULL;
    for (char *tok = strtok_r(layers_arg, ",", &save); tok && nl < MAXL;
         tok = strtok_r(NULL, ",", &save)) {
        ts_store_def def = {.name = tok, .path = data, .layer = tok, .dst_crs = "EPSG:3857"};
        if (ts_store_load(sc, &def, &st[nl], &err) != TS_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        names[nl++] = tok;
    }
    ts_mvt_builder *b = ts_mvt_builder_new(&mo, &err);
    if (b == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const ts_mvt_opts *o = ts_mvt_builder_opts(b);
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_idvec ids = {0};
    int rc = 0;
    for (int ti = first_tile; ti < argc; ti++) {
        int z;
        uint32_t x, y;
        if (sscanf(argv[ti], "%d/%u/%u", &z, &x, &y) != 3 || !ts_grid_tile_valid(g, z, x, y)) {
            fprintf(stderr, "bad tile %s\n", argv[ti]);
            return 2;
        }
        ts_bbox tb = ts_grid_tile_bbox(g, z, x, y);
        ts_mvt_transform tr = ts_mvt_transform_for(&tb, o->extent);
        ts_bbox qb = ts_mvt_query_bbox(&tb, o->extent, o->buffer);
        ts_mvt_builder_reset(b);
        for (int li = 0; li < nl; li++) {
            int lidx = ts_mvt_layer_add(b, names[li], &err);
            int nf = ts_store_nfields(st[li]);
            const char *keys[64];
            ts_value vals[64];
            if (nf > 64)
                nf = 64;
            for (int f = 0; f < nf; f++)
                keys[f] = ts_store_field_name(st[li], f);
            ts_store_query(st[li], &qb, &ids);
            for (size_t k = 0; k < ids.n; k++) {
                ts_geom gm;
                ts_store_geom(st[li], 0, ids.ids[k], &gm);
                for (int f = 0; f < nf; f++)
                    vals[f] = *ts_store_value(st[li], ids.ids[k], f);
                int64_t oid = ts_store_origin_id(st[li], ids.ids[k]);
                if (ts_mvt_add_feature(b, lidx, (ts_mvt_geom_type)gm.kind, gm.xy, gm.counts,
                                       gm.nparts, &tr, oid >= 0, (uint64_t)oid, keys, vals, nf,
                                       NULL, &err) != TS_OK) {
                    fprintf(stderr, "%s: feature %lld: %s\n", argv[ti], (long long)oid, err.msg);
                    rc = 1;
                }
            }
        }
        ts_buf out;
        ts_buf_init(&out, 64u << 20);
        ts_mvt_report rep;
        if (ts_mvt_finish(b, &out, &rep, &err) != TS_OK ||
            ts_mvt_validate(out.data, out.len, o->buffer, NULL, &err) != TS_OK) {
            fprintf(stderr, "%s: %s\n", argv[ti], err.msg);
            return 1;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%d", outdir, z);
        mkdir(outdir, 0777);
        mkdir(path, 0777);
        snprintf(path, sizeof path, "%s/%d/%u", outdir, z, x);
        mkdir(path, 0777);
        snprintf(path, sizeof path, "%s/%d/%u/%u.mvt", outdir, z, x, y);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
        printf("%d/%u/%u bytes=%zu features=%u empty=%u dropped=%u\n", z, x, y, out.len,
               rep.features, rep.empty, rep.dropped);
        ts_buf_fini(&out);
    }
    ts_idvec_fini(&ids);
    ts_mvt_builder_free(b);
    for (int i = 0; i < nl; i++)
        ts_store_unref(st[i]);
    ts_source_ctx_free(sc);
    return rc;
}
