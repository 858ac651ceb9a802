/* pipeline/vector.c — vector tiles (Mapbox Vector Tile 2.1) of a tileset.
 *
 * One MVT layer per tileset layer, named as the layer, with every attribute its store
 * holds (the properties the layer's style reads), the feature id of the data source, and
 * the geometry at the detail level of the zoom, clipped to the tile plus a buffer and
 * quantised to the extent (4096) by the mvt module. A tile is built on the calling thread
 * (encoding is a few milliseconds, no rasterising) and kept in the memory cache under the
 * PNG tile's key + ".mvt" (its gzip form under + ".mvt.gz", for clients that accept it);
 * tiles of live tilesets are not kept (their stores change). */
#include "pipeline/pipeline_int.h"

#include <stdio.h>
#include <string.h>

#include "mvt/mvt.h"
#include "util/clock.h"

static ts_status
add_layer(ts_mvt_builder *b, const ts_render_layer *rl, const ts_bbox *tb, double res,
          ts_idvec *ids, ts_err *err)
{
    const ts_store *st = rl->store;
    int nf = ts_store_nfields(st);
    if (nf > 64)
        nf = 64;
    const char *names[64];
    ts_value vals[64];
    for (int i = 0; i < nf; i++)
        names[i] = ts_store_field_name(st, i);
    int layer = ts_mvt_layer_add(b, rl->name, err);
    if (layer < 0)
        return err ? err->code : TS_EINVAL;
    const ts_mvt_opts *o = ts_mvt_builder_opts(b);
    ts_mvt_transform t = ts_mvt_transform_for(tb, o->extent);
    ts_bbox q = ts_mvt_query_bbox(tb, o->extent, o->no_buffer ? 0 : o->buffer);
    if (ts_store_query(st, &q, ids) != TS_OK)
        return TS_FAIL(err, TS_ENOMEM, "vector tile: query layer %s", rl->name);
    int level = ts_store_level_for_res(st, res);
    for (size_t k = 0; k < ids->n; k++) {
        uint32_t fid = ids->ids[k];
        ts_geom g;
        ts_store_geom(st, level, fid, &g);
        if (g.kind == TS_GEOM_NONE || g.nparts == 0)
            continue;
        for (int i = 0; i < nf; i++) {
            const ts_value *v = ts_store_value(st, fid, i);
            vals[i] = v ? *v : (ts_value){.type = TS_VAL_NULL};
        }
        int64_t oid = ts_store_origin_id(st, fid);
        int kept;
        TS_TRY(ts_mvt_add_feature(b, layer, (ts_mvt_geom_type)g.kind, g.xy, g.counts, g.nparts,
                                  &t, 1, oid >= 0 ? (uint64_t)oid : (uint64_t)fid, names, vals,
                                  nf, &kept, err));
    }
    return TS_OK;
}

/* The gzip form of a plain tile, cached under key + ".gz" (unless live). */
static ts_status
gzipped(ts_mem_cache *mc, const char *key, int live, ts_tile *plain, ts_tile **out, ts_err *err)
{
    char gkey[200];
    snprintf(gkey, sizeof gkey, "%s.gz", key);
    if (!live && (*out = ts_mem_cache_get(mc, gkey)) != NULL)
        return TS_OK;
    ts_buf z;
    ts_buf_init(&z, (size_t)64 << 20);
    ts_status st = ts_mvt_gzip(plain->data, plain->len, 6, &z, err);
    if (st == TS_OK) {
        *out = ts_tile_new(z.data, z.len, plain->mtime);
        if (*out == NULL)
            st = TS_FAIL(err, TS_ENOMEM, "vector tile");
        else if (!live)
            ts_mem_cache_put(mc, gkey, *out);
    }
    ts_buf_fini(&z);
    return st;
}

static ts_status
plain_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, ts_tile **out, int *live_out,
          char *key_out, ts_err *err);

ts_status
ts_pipeline_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, int gzip, ts_tile **out,
                ts_err *err)
{
    char key[192];
    int live = 0;
    ts_tile *plain = NULL;
    *out = NULL;
    TS_TRY(plain_mvt(p, r, grid, &plain, &live, key, err));
    if (!gzip || plain->len == 0) {
        *out = plain;
        return TS_OK;
    }
    ts_status st = gzipped(ts_pipeline__mem_cache(p), key, live, plain, out, err);
    ts_tile_unref(plain);
    return st;
}

/* The plain (uncompressed) tile, and its cache key (192 bytes) and liveness. */
static ts_status
plain_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, ts_tile **out, int *live_out,
          char *key_out, ts_err *err)
{
    *out = NULL;
    TS_TRY(ts_pipeline_check_grid(p, r, grid, err));
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts = ts_service_tileset_grid(svc, r->tileset, grid);
    if (ts == NULL) {
        ts_service_unref(svc);
        return TS_FAIL(err, TS_ENOENT, "unknown tileset '%s'", r->tileset);
    }
    int live = ts_service_tileset_live(svc, ts);
    *live_out = live;
    char *key = key_out;
    ts_pipeline_tile_key(ts, r->z, r->x, r->y, 1, key, 192 - 8); /* room for ".mvt" */
    size_t kl = strlen(key);
    memcpy(key + kl, ".mvt", 5);
    ts_mem_cache *mc = ts_pipeline__mem_cache(p);
    if (!live && (*out = ts_mem_cache_get(mc, key)) != NULL) {
        ts_service_unref(svc);
        return TS_OK;
    }
    ts_bbox tb = ts_grid_tile_bbox(ts->grid, r->z, r->x, r->y);
    double res = ts->grid->levels[r->z].res;
    ts_status st = TS_OK;
    ts_mvt_builder *b = ts_mvt_builder_new(NULL, err);
    ts_pipeline__hold *hold = NULL;
    const ts_render_layer *const *layers = ts_pipeline__tileset_layers(svc, ts, &hold);
    ts_idvec ids = {0};
    ts_buf buf;
    ts_buf_init(&buf, (size_t)64 << 20);
    if (b == NULL || layers == NULL)
        st = b == NULL && err ? err->code : TS_ENOMEM;
    for (int i = 0; i < ts->nlayers && st == TS_OK; i++)
        st = add_layer(b, layers[i], &tb, res, &ids, err);
    ts_mvt_report rep;
    if (st == TS_OK)
        st = ts_mvt_finish(b, &buf, &rep, err);
    if (st == TS_OK) {
        *out = ts_tile_new(buf.data, buf.len, (int64_t)ts_wall_s());
        if (*out == NULL)
            st = TS_FAIL(err, TS_ENOMEM, "vector tile");
        else if (!live)
            ts_mem_cache_put(mc, key, *out);
    }
    ts_buf_fini(&buf);
    ts_idvec_fini(&ids);
    ts_pipeline__hold_release(hold);
    ts_mvt_builder_free(b);
    ts_service_unref(svc);
    return st;
}
