/* seed/vector.c — `tilesrv seed --format pbf`: a tileset's vector tiles (MVT 2.1, gzip'd, as
 * ts_pipeline_mvt builds them for /tiles/.../{y}.pbf) written into an MBTiles file (metadata
 * format=pbf and json={"vector_layers": [...]}, as TileJSON lists them) or a directory of
 * {z}/{x}/{y}.pbf files. Tiles are built on the calling thread in row order, a batch of rows
 * written per transaction; tiles without features are not stored (a missing tile is an
 * empty one in MBTiles). No progress file: an interrupted run is simply run again. */
#include "seed/seed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/progress.h"

#define BATCH 256

static ts_status
json_escaped(ts_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        ts_status st = *p == '"' || *p == '\\' ? ts_buf_printf(b, "\\%c", *p)
                       : *p < 0x20             ? ts_buf_printf(b, "\\u%04x", *p)
                                               : ts_buf_add(b, p, 1);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

/* {"vector_layers":[{"id":...,"minzoom":..,"maxzoom":..,"fields":{name:type}}]} */
static ts_status
vector_layers_json(const ts_service *svc, const ts_tileset *ts, int minz, int maxz, ts_buf *b)
{
    enum { PER = 256 };
    char(*names)[TS_MVT_FIELD_MAX] = malloc(PER * sizeof *names);
    ts_cfg_attr_type *types = malloc(PER * sizeof *types);
    ts_status st = names && types ? ts_buf_printf(b, "{\"vector_layers\":[") : TS_ENOMEM;
    /* each layer, and after it its "<layer>_label" points when the tiles carry them */
    int written = 0;
    for (int j = 0; st == TS_OK && j < 2 * ts->nlayers; j++) {
        int i = j / 2, label = j % 2, lz0, lz1;
        if (label && !ts_pipeline_label_layer(ts->layers[i]))
            continue;
        /* the levels of the seed that carry it (its last one overzoomed by clients);
         * one carried at none of them is not listed */
        if (!ts_service_mvt_layer_levels(svc, ts, i, label, maxz, &lz0, &lz1) || lz1 < minz ||
            lz0 > maxz)
            continue;
        lz0 = lz0 > minz ? lz0 : minz;
        lz1 = lz1 < maxz ? lz1 : maxz;
        int n = ts_service_mvt_fields(svc, ts, i, names, types, PER);
        st = ts_buf_printf(b, "%s{\"id\":\"", written++ ? "," : "");
        if (st == TS_OK)
            st = json_escaped(b, ts->cfg->layers[i]);
        if (st == TS_OK && label)
            st = ts_buf_printf(b, "_label");
        if (st == TS_OK)
            st = ts_buf_printf(b, "\",\"minzoom\":%d,\"maxzoom\":%d,\"fields\":{", lz0, lz1);
        for (int k = 0; st == TS_OK && k < n; k++) {
            const char *t = types[k] == TS_CFG_ATTR_BOOL ? "Boolean"
                            : types[k] == TS_CFG_ATTR_INT || types[k] == TS_CFG_ATTR_DOUBLE
                                ? "Number"
                                : "String";
            st = ts_buf_printf(b, "%s\"", k ? "," : "");
            if (st == TS_OK)
                st = json_escaped(b, names[k]);
            if (st == TS_OK)
                st = ts_buf_printf(b, "\":\"%s\"", t);
        }
        if (st == TS_OK)
            st = ts_buf_printf(b, "}}");
    }
    if (st == TS_OK)
        st = ts_buf_add(b, "]}", 3); /* with the NUL */
    free(names);
    free(types);
    return st;
}

static ts_cache *
open_vector_dest(ts_pipeline *p, const ts_seed_opts *o, const ts_tileset *ts, const ts_bbox *b,
                 const char *json, ts_err *err)
{
    ts_cfg_cache cc;
    memset(&cc, 0, sizeof cc);
    if (ts_seed__to_cache(o->to, o->to_layout, &cc, err) != TS_OK)
        return NULL;
    uint64_t v = ts_pipeline_tileset_version(p, o->tileset) ^ 0x6d76742e706266ull; /* "mvt.pbf" */
    ts_cache_desc d = {
        .name = ts->name,
        .description = ts->cfg->title,
        .attribution = ts->cfg->attribution,
        .format = "pbf",
        .type = "overlay",
        .grid = ts->grid,
        .scale = 1,
        .minzoom = o->minz,
        .maxzoom = o->maxz,
        .version = v ? v : 1,
        .json = json,
    };
    if (ts->grid->epsg == 3857) {
        ts_grid_mercator_to_lonlat(b->minx, b->miny, &d.bounds[0], &d.bounds[1]);
        ts_grid_mercator_to_lonlat(b->maxx, b->maxy, &d.bounds[2], &d.bounds[3]);
    }
    if (strcmp(cc.type, "mbtiles") == 0) {
        if (ts->grid->epsg != 3857) {
            TS_FAIL(err, TS_EINVAL,
                    "MBTiles holds Web Mercator tiles only; tileset %s's first grid is %s: "
                    "give --to DIR",
                    ts->name, ts->grid->name);
            return NULL;
        }
        return ts_cache_mbtiles_open(cc.path, &d, err);
    }
    int layout = ts_cache_layout_parse(cc.layout ? cc.layout : "xyz");
    return ts_cache_disk_open(cc.path, (ts_cache_layout)(layout < 0 ? 0 : layout), 0, &d, err);
}

static void
put_batch(ts_cache *dest, int z, ts_cache_item *items, int *n, int *storage_failed,
          char *storage_error, size_t esize)
{
    if (*n == 0)
        return;
    ts_err perr;
    ts_err_clear(&perr);
    if (!*storage_failed && ts_cache_put(dest, z, items, *n, &perr) != TS_OK) {
        *storage_failed = 1;
        snprintf(storage_error, esize, "%s", perr.msg);
    }
    for (int i = 0; i < *n; i++)
        ts_tile_unref(items[i].tile);
    *n = 0;
}

ts_status
ts_seed__run_mvt(ts_pipeline *p, const ts_seed_opts *o, const ts_tileset *ts,
                 const ts_seed__region *rgn, ts_seed_summary *out, ts_err *err)
{
    const ts_bbox *b = &rgn->b;
    const ts_bbox *clip = rgn->has_clip ? &rgn->clip : NULL;
    if (o->to == NULL)
        return TS_FAIL(err, TS_EINVAL,
                       "--format pbf writes vector tiles into --to FILE.mbtiles or --to DIR "
                       "(the configured cache holds the PNG tiles)");
    if (o->resume || o->shard_n > 1 || o->scale != 1)
        return TS_FAIL(err, TS_EINVAL,
                       "--format pbf takes no --resume, --shard or --hidpi (run it again instead)");
    ts_service *svc = ts_pipeline_service(p);
    ts_buf json;
    ts_buf_init(&json, 1 << 20);
    ts_status st = vector_layers_json(svc, ts, o->minz, o->maxz, &json);
    ts_service_unref(svc);
    if (st != TS_OK) {
        ts_buf_fini(&json);
        return TS_FAIL(err, st, "seed: vector_layers");
    }
    ts_cache *dest = open_vector_dest(p, o, ts, b, (const char *)json.data, err);
    ts_buf_fini(&json);
    if (dest == NULL)
        return err && err->code != TS_OK ? err->code : TS_EIO;
    ts_cache_item *items = calloc(BATCH, sizeof *items);
    if (items == NULL) {
        ts_cache_unref(dest);
        return TS_FAIL(err, TS_ENOMEM, "seed");
    }
    ts_progress prog;
    char what[128];
    snprintf(what, sizeof what, "seed %s z%d-%d (pbf)", o->tileset, o->minz, o->maxz);
    if (o->show_progress)
        ts_progress_begin(&prog, what, "tiles", out->tiles_total);
    ts_info("%s: %llu tiles into %s (%s)", what, (unsigned long long)out->tiles_total, o->to,
            ts_cache_kind(dest));
    uint64_t t0 = ts_mono_ns();
    int storage_failed = 0, stopped = 0, n = 0;
    for (int z = o->minz; z <= o->maxz && !storage_failed && !stopped; z++) {
        uint32_t rg[4];
        if (!ts_seed_tile_range(ts->grid, z, b, rg))
            continue;
        for (uint32_t y = rg[1]; y <= rg[3] && !storage_failed && !stopped; y++) {
            int row = TS_SEED_IN;
            if (rgn->cov != NULL) {
                uint32_t blk[4] = {rg[0], y, rg[2], y};
                row = ts_seed_coverage_tiles(rgn->cov, ts->grid, z, blk, clip);
                if (row == TS_SEED_OUT)
                    continue;
            }
            for (uint32_t x = rg[0]; x <= rg[2]; x++) {
                if (row != TS_SEED_IN) {
                    uint32_t t[4] = {x, y, x, y};
                    if (ts_seed_coverage_tiles(rgn->cov, ts->grid, z, t, clip) == TS_SEED_OUT)
                        continue;
                }
                ts_tile_req tr = {o->tileset, z, x, y, 1};
                ts_tile *t = NULL;
                ts_err terr;
                ts_err_clear(&terr);
                if (ts_pipeline_mvt_upto(p, &tr, o->grid, o->maxz, 1, &t, &terr) != TS_OK) {
                    out->failed++;
                    ts_warn("seed: tile %d/%u/%u: %s", z, x, y, terr.msg);
                    continue;
                }
                if (t->len == 0) { /* no features: not stored */
                    ts_tile_unref(t);
                    out->skipped++;
                    continue;
                }
                out->rendered++;
                out->bytes += t->len;
                items[n++] = (ts_cache_item){x, y, t};
                if (n == BATCH)
                    put_batch(dest, z, items, &n, &storage_failed, out->error, sizeof out->error);
            }
            if (o->stop && *o->stop)
                stopped = 1;
            if (o->show_progress)
                ts_progress_update(&prog, out->rendered + out->skipped + out->failed);
        }
        put_batch(dest, z, items, &n, &storage_failed, out->error, sizeof out->error);
    }
    ts_err serr;
    ts_err_clear(&serr);
    if (ts_cache_sync(dest, &serr) != TS_OK)
        ts_warn("seed: %s", serr.msg);
    if (o->show_progress) {
        prog.done = out->rendered + out->skipped + out->failed;
        ts_progress_end(&prog);
    }
    out->seconds = (ts_mono_ns() - t0) / 1e9;
    out->result = storage_failed ? TS_SEED_STORAGE
                  : stopped      ? TS_SEED_INTERRUPTED
                  : out->failed  ? TS_SEED_FAILED_TILES
                                 : TS_SEED_DONE;
    free(items);
    ts_cache_unref(dest);
    return TS_OK;
}
