/* bench/check_labels.c — do single tiles draw the labels their metatiles draw? For each
 * tile of a list: the tile drawn alone (256 px: the single-tile label path, which lays out
 * only the candidates its labels depend on) against its part of the 8x8 metatile drawn as
 * one 2048 px image (the block path, which resolves every candidate of its blocks).
 * Rounding moves edges by a few levels; a label drawn by one and not the other differs by
 * 100+ on its glyphs. Prints per zoom the tiles compared, the largest difference, and the
 * tiles with pixels more than 24 apart; exit 1 if there are any.
 *
 *   check_labels -c bench/labels/cadastre_labels.yaml --tileset labels
 *                --tiles bench/labels/tiles.txt [--limit N]
 *
 * tests/cases (labels_single_tiles) checks the same on the demo map in CI; this runs it on
 * the bench's denser generated cadastre. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "util/log.h"

int
main(int argc, char **argv)
{
    const char *cfgpath = NULL, *tset = NULL, *tiles_path = NULL;
    long limit = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-c") == 0)
            cfgpath = argv[i + 1];
        else if (strcmp(argv[i], "--tileset") == 0)
            tset = argv[i + 1];
        else if (strcmp(argv[i], "--tiles") == 0)
            tiles_path = argv[i + 1];
        else if (strcmp(argv[i], "--limit") == 0)
            limit = strtol(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "check_labels: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (cfgpath == NULL || tset == NULL || tiles_path == NULL) {
        fprintf(stderr, "usage: check_labels -c CONFIG --tileset NAME --tiles LIST [--limit N]\n");
        return 2;
    }
    ts_log_set_level(TS_LOG_WARN);
    ts_err err;
    ts_err_clear(&err);
    ts_config *cfg = ts_config_load(cfgpath, &err);
    ts_service *svc = cfg ? ts_service_load(cfg, &err) : NULL;
    const ts_tileset *ts = svc ? ts_service_tileset(svc, tset) : NULL;
    FILE *f = fopen(tiles_path, "r");
    if (ts == NULL || f == NULL || ts->fonts == NULL) {
        char buf[1024];
        fprintf(stderr, "check_labels: %s\n",
                svc == NULL ? ts_err_format(&err, buf, sizeof buf)
                : ts == NULL ? "no such tileset" : f == NULL ? "cannot read the tile list"
                             : "the tileset has no fonts");
        return 1;
    }
    enum { M = 8, T = 256 };
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *meta = ts_canvas_new(M * T, M * T, &err), *tile = ts_canvas_new(T, T, &err);
    if (w == NULL || meta == NULL || tile == NULL)
        return 1;
    long ntiles[32] = {0}, nbad[32] = {0};
    int maxd[32] = {0};
    int last_z = -1;
    unsigned last_mx = 0, last_my = 0;
    char line[128];
    long done = 0;
    while (fgets(line, sizeof line, f) && (limit < 0 || done < limit)) {
        int z;
        unsigned x, y;
        if (line[0] == '#' || sscanf(line, "%d/%u/%u", &z, &x, &y) != 3 || z < 0 || z > 30)
            continue;
        ts_render_req rq = {
            .layers = ts->layers,
            .nlayers = ts->nlayers,
            .scale_factor = 1,
            .scale_denom = ts_render_scale_denom(ts->grid->levels[z].res,
                                                 ts->grid->meters_per_unit),
            .background = ts->background,
            .fonts = ts->fonts,
        };
        unsigned mx = x / M * M, my = y / M * M;
        if (z != last_z || mx != last_mx || my != last_my) {
            ts_bbox a = ts_grid_tile_bbox(ts->grid, z, mx, my);
            ts_bbox b = ts_grid_tile_bbox(ts->grid, z, mx + M - 1, my + M - 1);
            rq.bbox = (ts_bbox){a.minx, b.miny, b.maxx, a.maxy};
            rq.width = rq.height = M * T;
            if (ts_render_draw(w, &rq, meta, &err) != TS_OK)
                return 1;
            last_z = z;
            last_mx = mx;
            last_my = my;
        }
        rq.bbox = ts_grid_tile_bbox(ts->grid, z, x, y);
        rq.width = rq.height = T;
        if (ts_render_draw(w, &rq, tile, &err) != TS_OK)
            return 1;
        long bad = 0;
        for (int j = 0; j < T; j++)
            for (int i = 0; i < T; i++) {
                const uint8_t *u = (const uint8_t *)&tile->px[(size_t)j * tile->stride + i];
                const uint8_t *v = (const uint8_t *)&meta->px[(size_t)((y - my) * T + j) *
                                                                 meta->stride +
                                                             (x - mx) * T + i];
                int d = 0;
                for (int ch = 0; ch < 4; ch++)
                    d = abs(u[ch] - v[ch]) > d ? abs(u[ch] - v[ch]) : d;
                bad += d > 24;
                maxd[z] = d > maxd[z] ? d : maxd[z];
            }
        if (bad > 0)
            printf("  %d/%u/%u: %ld px more than 24 apart\n", z, x, y, bad);
        ntiles[z]++;
        nbad[z] += bad > 0;
        done++;
    }
    fclose(f);
    long total_bad = 0;
    for (int z = 0; z < 32; z++)
        if (ntiles[z] > 0) {
            printf("z%d: %ld tiles, max diff %d, %ld tiles with labels apart\n", z, ntiles[z],
                   maxd[z], nbad[z]);
            total_bad += nbad[z];
        }
    ts_canvas_free(meta);
    ts_canvas_free(tile);
    ts_render_worker_free(w);
    ts_service_unref(svc);
    return total_bad > 0;
}
