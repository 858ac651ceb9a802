/* pipeline/pipeline_int.h — what the files of the pipeline module share:
 *   service.c       the loaded service: stores per (layer, grid CRS), tilesets per grid
 *   pipeline.c      get-or-render of tiles with metatiles, caches, the render pool
 *   wms_catalog.c   the WMS layer tree and per-CRS extents, store choice per request CRS
 *   map.c           WMS GetMap / GetFeatureInfo / GetLegendGraphic, encoders */
#ifndef TS_PIPELINE_PIPELINE_INT_H
#define TS_PIPELINE_PIPELINE_INT_H

#include "pipeline/pipeline.h"

#include "util/pool.h"

/* The WMS layer tree of a service (opaque outside wms_catalog.c). */
typedef struct ts_service_wms ts_service_wms;

/* One loaded store of a configured layer: its CRS (a grid CRS, "EPSG:3857") and the render
 * layer binding it to the layer's style. */
typedef struct ts_pipeline__loaded {
    const char *crs;
    const ts_render_layer *rl;
    uint64_t count; /* features of its data: the store's, or a PostGIS table's (whose store
                     * stays empty) */
    ts_bbox extent; /* and their extent in crs, when count > 0 */
} ts_pipeline__loaded;

/* The loaded stores of layer l (at most max), in load order. */
int ts_pipeline__service_layers(const ts_service *s, const ts_cfg_layer *l,
                                ts_pipeline__loaded *out, int max);
const ts_service_wms *ts_pipeline__service_wms(const ts_service *s);
/* The service's fonts for labels, or NULL. */
const ts_font_catalog *ts_pipeline__service_fonts(const ts_service *s);

/* Build the WMS tree of a service whose tilesets are loaded. */
ts_status ts_pipeline__wms_build(ts_service *s, ts_service_wms **out, ts_err *err);
void ts_pipeline__wms_free(ts_service_wms *w);

/* The render layer to draw configured layer l in crs: a store in crs itself (*store_crs =
 * NULL), or the nearest other store (*store_crs = its CRS: reproject on the fly). NULL when
 * the layer has no store. */
const ts_render_layer *ts_pipeline__layer_for_crs(const ts_service *s, const ts_cfg_layer *l,
                                                  const ts_crs *crs, const char **store_crs);
/* The PROJ name of a registry CRS ("EPSG:25832"; "OGC:CRS84" for CRS:84). */
const char *ts_pipeline__proj_name(const ts_crs *crs);

/* The render layers of tileset ts as of now, for one render: ts->layers itself (*hold =
 * NULL) unless the tileset draws a feed layer, then a copy holding references on the
 * feed layers' current stores (release with ts_pipeline__hold_release; NULL accepted).
 * Cheap: a mutex and one allocation for live tilesets, nothing for the others. */
typedef struct ts_pipeline__hold ts_pipeline__hold;
const ts_render_layer *const *ts_pipeline__tileset_layers(const ts_service *s,
                                                         const ts_tileset *ts,
                                                         ts_pipeline__hold **hold);
void ts_pipeline__hold_release(ts_pipeline__hold *h);

/* For WMS: the current render layer of the feed layer whose loaded (initial) render layer
 * is rl, with a reference in *ref (release with ts_pipeline__live_release, NULL accepted);
 * rl itself with *ref = NULL for other layers. */
const ts_render_layer *ts_pipeline__live_layer(const ts_service *s, const ts_render_layer *rl,
                                               void **ref);
void ts_pipeline__live_release(void *ref);

/* Per-request (PostGIS) layers: the render layers to draw layers[0..n) with, on a canvas of
 * bbox (width pixels wide, symbols scaled by sf, at scale denominator scale_denom: 0 for
 * none, when nothing is drawn): a layer bound to a per-request source is
 * replaced by a view of its features in bbox grown by its largest symbol, fetched on the
 * calling thread (its connection); the others are passed through. With image_crs and
 * layer_crs (as ts_render_req: NULL entries = image_crs) bbox is in image_crs and each
 * layer's box is transformed into its CRS. *out = layers and *held = NULL when no layer is
 * per-request (the common case: no allocation); else release *held after drawing. A
 * database failure: TS_ESOURCE with *err naming the layer, nothing held. */
typedef struct ts_pipeline__fetched ts_pipeline__fetched;
ts_status ts_pipeline__fetch_layers(const ts_service *s, const ts_render_layer *const *layers,
                                    int n, const ts_bbox *bbox, int width, double sf,
                                    double scale_denom, const char *image_crs, const char *const *layer_crs,
                                    const ts_render_layer *const **out,
                                    ts_pipeline__fetched **held, ts_err *err);
/* NULL is accepted. */
void ts_pipeline__fetched_release(ts_pipeline__fetched *f);
/* 1 if a layer of layers[0..n) is per-request (its renders wait on a database: the pool
 * runs them as limited tasks, see ts_pipeline_opts.db_threads). */
int ts_pipeline__layers_use_db(const ts_service *s, const ts_render_layer *const *layers, int n);

/* The pipeline's memory cache of encoded tiles (pipeline.c). */
ts_mem_cache *ts_pipeline__mem_cache(ts_pipeline *p);

/* Render resources lent to WMS maps by the pipeline (pipeline.c). */
ts_pool *ts_pipeline__pool(ts_pipeline *p);
ts_pool *ts_pipeline__band_pool(ts_pipeline *p);
int ts_pipeline__nthreads(ts_pipeline *p);
/* Borrow up to max spare render workers / give them back. */
int ts_pipeline__borrow_spares(ts_pipeline *p, ts_render_worker **out, int max);
void ts_pipeline__return_spares(ts_pipeline *p, ts_render_worker **w, int n);
/* The render worker of the pool thread running the current job (state of a pool job). */
ts_render_worker *ts_pipeline__job_worker(void *state);

/* ---- vector tiles (vector.c) ---- */
struct ts_mvt_opts;
/* The mvt builder options of a tileset's `mvt` settings. */
void ts_pipeline__mvt_opts(const ts_cfg_tileset *c, struct ts_mvt_opts *o);
/* v converted to the declared type t into *out (buf: 40 bytes for strings made from
 * numbers, referenced by *out). 0 when it does not convert (then *out is meaningless). */
int ts_pipeline__mvt_convert(const ts_value *v, ts_cfg_attr_type t, char *buf, ts_value *out);
/* Add n to the count of unconvertible attribute values (stats). */
void ts_pipeline__count_unconverted(ts_pipeline *p, uint64_t n);
/* The identity of a source's data files (path, sizes, times; its Shapefile siblings, its
 * GeoPackage's -wal, a folder's files): what the data version hashes. Any thread. */
uint64_t ts_pipeline__file_identity(const char *path);
/* 1 when source src_index's files are as they were when svc loaded them (their identity
 * then, ts_pipeline__file_identity); 0 when they have changed since (an import written
 * into them in place) or the index is out of range. */
int ts_service__source_unchanged(const ts_service *svc, int src_index);
/* Count a vector tile of ts that left out dropped features (kept others) to meet max_bytes,
 * and say so in the log, at most once a minute. Any thread. */
void ts_pipeline__count_mvt_dropped(ts_pipeline *p, const ts_tileset *ts, int z, uint32_t x,
                                    uint32_t y, uint32_t dropped, uint32_t kept,
                                    size_t max_bytes);

#endif
