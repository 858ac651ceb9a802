/* pipeline/pipeline.h — get-or-render, shared by the HTTP server, `render` and `seed`.
 *
 * A ts_service is one loaded configuration: feature stores, compiled styles, bound render
 * layers and tilesets. It is immutable and refcounted; a reload builds a new one and
 * swaps it in (ts_pipeline_set_service) while requests in flight finish on the old one.
 *
 * A ts_pipeline owns the render pool (one ts_render_worker per thread), the memory cache
 * and the table of metatiles being rendered: concurrent requests for tiles of the same
 * metatile share one render; the first request queues the job, later ones wait on it.
 *
 * Persistent caches: a tileset whose config has `cache: {type: disk|mbtiles}` gets that
 * level under the memory LRU. A request that misses memory reads it (on the caller's
 * thread), promotes a fresh tile to memory, and renders on a miss; a rendered metatile's
 * tiles go to memory at once and to the persistent level after the waiters are answered.
 * A tile of another data version or older than `expire` is stale: it is answered at once
 * and its metatile re-rendered in the background (stale-while-revalidate; skipped, not
 * failed, when the queue is full). The data version of a tileset hashes its config entry
 * (with its layers and sources), its style files' contents and its source files' identity
 * (path, size, mtime; a SQLite database's write-ahead log with frames, a Shapefile's .dbf,
 * .shx, .prj, .cpg). While those files differ on disk from what the configuration loaded,
 * the persistent level is neither written nor re-rendered (tc_outdated). A full disk or another write failure is counted and logged; the
 * tile is still served (from memory) — see ts_pipeline_stats. */
#ifndef TS_PIPELINE_PIPELINE_H
#define TS_PIPELINE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "config/config.h"
#include "encode/encode.h"
#include "grid/grid.h"
#include "render/render.h"
#include "util/buf.h"
#include "util/hist.h"
#include "util/status.h"

/* ---- service ---------------------------------------------------------------------------- */

typedef struct ts_tileset {
    const ts_cfg_tileset *cfg;     /* borrowed from the service's config */
    const char *name;
    const ts_grid *grid; /* the grid of this entry: a tileset with several grids has
                          * one entry per grid (ts_service_tileset_grid) */
    const ts_render_layer **layers;
    int nlayers;
    ts_png_mode mode;
    ts_rgba background;
    ts_bbox bounds;                /* union of the layers' extents in the grid CRS */
    int minzoom, maxzoom; /* the levels of this grid it serves: the configured range (levels
                           * of the first grid) on the first grid; on another grid the levels
                           * whose scale lies in that range's (minzoom > maxzoom: none) */
    const ts_font_catalog *fonts;  /* the service's fonts for labels, or NULL */
} ts_tileset;

typedef struct ts_service ts_service;

/* Load everything the config names: sources (through OGR, reprojected to each grid's CRS),
 * styles, layers, tilesets. Takes a reference on cfg. Any failure gives NULL with *err
 * naming the file (and line for config/style faults). Progress is logged. */
ts_service *ts_service_load(ts_config *cfg, ts_err *err);
/* As ts_service_load with the tileset named only (and what it draws) alone: for commands
 * that work on one tileset (seed, truncate, render), which need not read the data of the
 * others. An unknown name gives a service without tilesets. */
ts_service *ts_service_load_tileset(ts_config *cfg, const char *only, ts_err *err);
ts_service *ts_service_ref(ts_service *s);
/* Frees at zero. NULL is accepted. */
void ts_service_unref(ts_service *s);

const ts_config *ts_service_config(const ts_service *s);
int ts_service_ntilesets(const ts_service *s);
const ts_tileset *ts_service_tileset_at(const ts_service *s, int i);
/* A tileset by name, or NULL. */
const ts_tileset *ts_service_tileset(const ts_service *s, const char *name);
/* The fonts of labels (scanned once per process: it outlives every service), or NULL
 * when the machine has none. */
const ts_font_catalog *ts_service_fonts(const ts_service *s);
/* Monotonic generation number of this service (reloads count up). */
uint64_t ts_service_generation(const ts_service *s);

/* A tileset on one of its grids (grid NULL = its first grid, as ts_service_tileset), or
 * NULL when there is no such tileset or it is not offered on that grid. Each (tileset,
 * grid) has its own stores (in the grid's CRS), render layers and cache levels. */
const ts_tileset *ts_service_tileset_grid(const ts_service *s, const char *name, const char *grid);
/* Every (tileset, grid) pair: the tilesets on their first grids (the ts_service_tileset_at
 * order) come first, then the other grids. */
int ts_service_ntileset_grids(const ts_service *s);
const ts_tileset *ts_service_tileset_grid_at(const ts_service *s, int i);

/* ---- live (feed) layers -----------------------------------------------------------------
 * A layer with `feed: NAME` starts with an empty store (fields = the style's properties)
 * in every grid CRS it is drawn in; whoever runs the feed sets new stores as the sensors
 * change. Tile renders, WMS maps and feature info take the stores current when they start
 * (feature info answers with the attributes the store keeps). */

/* Swap store (a new reference is taken) into feed layer `layer` in crs (a grid CRS as the
 * service loaded it, "EPSG:3857"): a new render layer binds it to the layer's style;
 * renders in flight keep the old one. Any thread. TS_ENOENT (no such layer in crs),
 * TS_EINVAL (not a feed layer), TS_ENOMEM. */
ts_status ts_service_layer_set_store(ts_service *s, const char *layer, const char *crs,
                                     ts_store *store, ts_err *err);
/* 1 if the tileset entry draws a feed layer. */
int ts_service_tileset_live(const ts_service *s, const ts_tileset *ts);
/* 1 if the tileset draws a per-request (PostGIS) layer: its renders wait on a database. */
int ts_service_tileset_uses_db(const ts_service *s, const ts_tileset *ts);

/* ---- WMS layer tree --------------------------------------------------------------------
 * What WMS offers, built once when the service loads: a root group (named "city" unless a
 * tileset or layer has that name) holding one group per tileset (named as the tileset),
 * each holding the configured layers it draws (a layer drawn by several tilesets is listed
 * under the first). Requesting a group draws its layers in order. Bounding boxes are
 * computed with PROJ from the stores' extents (edges densified) for every CRS of
 * server.wms.crs. Immutable, lives as the service. */

typedef struct ts_wms_entry {
    const char *name; /* requestable name, NULL = not requestable */
    const char *title;
    const char *abstract_text;   /* may be NULL */
    const char *const *keywords; /* may be NULL (nkeywords 0) */
    int nkeywords;
    const char *metadata_url;    /* may be NULL */
    const char *attribution;     /* a tileset group: its HTML attribution, or NULL */
    int depth;                   /* 0 root, 1 tileset group, 2 layer */
    int queryable;               /* GetFeatureInfo answers for it (any layer queryable) */
    const ts_cfg_layer *cfg;     /* a layer: its configuration; groups NULL */
    const ts_style *style;       /* a layer: its style; groups NULL */
    double min_scale, max_scale; /* scale denominators where some rule draws; 0 = unbounded */
    int has_extent;
    ts_bbox lonlat;              /* extent in longitude/latitude */
    const ts_bbox *crs_boxes;    /* extent per CRS of ts_service_wms_crs (same order),
                                  * tilesrv axis order */
    const unsigned char *crs_ok; /* 1 where that box could be computed */
    const int *kids;             /* indices of the entries inside */
    int nkids;
    const ts_cfg_layer *const *draws; /* configured layers drawn, bottom first */
    int ndraws;
} ts_wms_entry;

/* Number of entries (0 = the root), and entry i; NULL past the end. */
int ts_service_wms_count(const ts_service *s);
const ts_wms_entry *ts_service_wms_at(const ts_service *s, int i);
/* The entry named name (case-sensitive), or NULL. */
const ts_wms_entry *ts_service_wms_find(const ts_service *s, const char *name);
/* The CRSs WMS offers (server.wms.crs, else every registry CRS), in order. */
int ts_service_wms_ncrs(const ts_service *s);
const ts_crs *ts_service_wms_crs_at(const ts_service *s, int i);

/* ---- pipeline --------------------------------------------------------------------------- */

typedef struct ts_pipeline_opts {
    int render_threads;     /* >= 1 */
    int queue_max;          /* metatile jobs waiting before TS_EBUSY */
    size_t cache_bytes;     /* memory cache budget */
    int memory_only;        /* 1: no persistent cache level is opened, read or written
                             * (tilesrv render: a fresh drawing, the caches untouched) */
    int db_threads;         /* > 0: renders that query a database (per-request PostGIS
                             * layers) run on at most this many threads at once, so a
                             * slow or hung database leaves the others to the tilesets
                             * drawn from files; 0: no limit (a seed) */
} ts_pipeline_opts;

typedef struct ts_pipeline ts_pipeline;

/* Start the render pool; takes a reference on svc. NULL with *err on failure. */
ts_pipeline *ts_pipeline_new(ts_service *svc, const ts_pipeline_opts *o, ts_err *err);
/* Finish queued jobs, stop the threads, free. NULL is accepted. */
void ts_pipeline_free(ts_pipeline *p);

/* Swap in a new service (takes a reference); tiles cached for the old one are dropped. */
void ts_pipeline_set_service(ts_pipeline *p, ts_service *svc);
/* The current service with a new reference (caller unrefs). */
ts_service *ts_pipeline_service(ts_pipeline *p);

typedef struct ts_tile_req {
    const char *tileset;
    int z;
    uint32_t x, y;          /* row y counted from the top */
    int scale;              /* 1 or 2 (@2x: 512 px tiles) */
} ts_tile_req;

/* Validate a request against the current service: TS_ENOENT (no such tileset: message
 * says so), TS_EINVAL (zoom or x/y outside the grid / the tileset's zoom range, bad
 * scale), else TS_OK. */
ts_status ts_pipeline_check(ts_pipeline *p, const ts_tile_req *r, ts_err *err);

/* The cached tile with a new reference, or NULL on a miss (or invalid request). */
ts_tile *ts_pipeline_lookup(ts_pipeline *p, const ts_tile_req *r);

/* Called exactly once per accepted request, from a render thread (or from the caller's
 * thread when the tile is already cached). On success tile is a new reference the callee
 * must unref; on failure tile is NULL and err says why. */
typedef void (*ts_tile_done)(void *ud, ts_status st, ts_tile *tile, const ts_err *err);

/* Get the tile, rendering its metatile if needed (joining a render in flight). TS_OK means
 * done() will be (or has been) called; any other status means it will not be (TS_EBUSY:
 * queue full; TS_ENOENT/TS_EINVAL: bad request) and *err says why. */
ts_status ts_pipeline_request(ts_pipeline *p, const ts_tile_req *r, ts_tile_done done, void *ud,
                              ts_err *err);

/* The same on a given grid of the tileset (TileMatrixSet name; NULL = its first grid):
 * WMTS and OGC API tiles in any of a tileset's grids share the render path and the cache
 * with XYZ tiles of that grid. ts_pipeline_check_grid also gives TS_ENOENT when the tileset
 * is not offered on grid. */
ts_status ts_pipeline_check_grid(ts_pipeline *p, const ts_tile_req *r, const char *grid,
                                 ts_err *err);
ts_tile *ts_pipeline_lookup_grid(ts_pipeline *p, const ts_tile_req *r, const char *grid);
ts_status ts_pipeline_request_grid(ts_pipeline *p, const ts_tile_req *r, const char *grid,
                                   ts_tile_done done, void *ud, ts_err *err);
/* The same, and *stale (when not NULL) set to 1 before done() is called with a stale tile
 * (another data version or past `expire`, answered while it renders again), else left as
 * it is: HTTP gives such an answer no lifetime in the client's cache. */
ts_status ts_pipeline_request_grid_stale(ts_pipeline *p, const ts_tile_req *r, const char *grid,
                                         ts_tile_done done, void *ud, int *stale, ts_err *err);

/* Composites: one tile of several tilesets drawn over each other, base first
 * (composite.c). */
#define TS_COMPOSITE_MAX 8          /* tilesets in one composite */
#define TS_COMPOSITE_NAME_MAX 128   /* bytes of a tileset name, its NUL included */

/* Split "a,b,c" into names[] (at most max); the count, or -1 for an empty or too long
 * name or more than max of them. */
int ts_pipeline_composite_split(const char *spec, char names[][TS_COMPOSITE_NAME_MAX], int max);

/* The z/x/y tile (scale 1 or 2) of the tilesets named in spec ("a,b,c": base first), each
 * from the pipeline as if asked for alone, composited source-over and encoded as PNG in the
 * first contributing tileset's mode. A tileset whose zoom range or bounds leave out the
 * tile contributes nothing; TS_ENOENT (unknown tileset) and, when no tileset has the tile,
 * its TS_EINVAL are returned at once with *err. TS_OK: done() will be called exactly once
 * (from a render thread, or from the caller's thread when every part was cached) with the
 * composite or the first part's failure. *max_age (may be NULL) gets the smallest
 * Cache-Control max-age of the contributing tilesets (0 when one is live). */
ts_status ts_pipeline_request_composite(ts_pipeline *p, const char *spec, int z, uint32_t x,
                                        uint32_t y, int scale, ts_tile_done done, void *ud,
                                        int *max_age, ts_err *err);

/* ts_service_layer_set_store on the current service. */
ts_status ts_pipeline_layer_set_store(ts_pipeline *p, const char *layer, const char *crs,
                                      ts_store *store, ts_err *err);

/* Drop exactly the memory-cache tiles (both scales) of tileset on grid (NULL = its first
 * grid) that intersect lonlat (west, south, east, north in degrees) grown by buffer_px
 * pixels of each zoom, at every zoom of the tileset; metatile renders in flight over that
 * area are detached (their waiters are still answered, their tiles not cached, and the
 * next request renders afresh). Persistent cache levels are not touched. Returns the
 * number of tiles dropped, or -1 (unknown tileset/grid, untransformable box). */
long ts_pipeline_invalidate(ts_pipeline *p, const char *tileset, const char *grid,
                            ts_bbox lonlat, double buffer_px);

/* While a persistent write has failed and a tileset's persistent level is Redis: see
 * whether Redis answers again (one cheap read, at most every 5 s, through the cache's own
 * back-off), and end the failure when it does, so that /health of a node without cache
 * misses returns to ok. A disk or MBTiles failure (a full disk) is ended only by a write
 * that works. */
void ts_pipeline_probe_shared(ts_pipeline *p);

/* Blocking form of ts_pipeline_request: *out receives a new reference. */
ts_status ts_pipeline_get(ts_pipeline *p, const ts_tile_req *r, ts_tile **out, ts_err *err);

typedef struct ts_pipeline_stats {
    uint64_t metatiles_rendered;
    uint64_t tiles_encoded;
    uint64_t tiles_uniform;        /* answered by a shared pre-encoded tile */
    uint64_t joined;               /* requests that waited on a render in flight */
    uint64_t busy;                 /* requests refused with TS_EBUSY */
    uint64_t render_ns, encode_ns, query_ns;
    int queued;                    /* jobs waiting now */
    ts_cache_stats cache;
    /* persistent levels (disk, MBTiles), summed over the tilesets */
    ts_cache_io_stats persist;
    uint64_t stale_served;         /* stale tiles answered while their metatile re-renders */
    uint64_t revalidations;        /* stale tiles whose re-render was queued or already running */
    uint64_t shared_waits;         /* metatiles whose render lock another node held (Redis) */
    uint64_t shared_hits;          /* metatiles taken from the shared level instead of rendered */
    uint64_t mvt_unconverted;      /* vector tile attribute values left out: not convertible
                                    * to the type the config declares */
    uint64_t mvt_dropped;          /* vector tile features left out to meet mvt.max_bytes */
    uint64_t mvt_dropped_tiles;    /* vector tiles that left some out */
    uint64_t pg_queries, pg_errors; /* per-request (PostGIS) fetches that worked / failed */
    int pg_failing;                /* 1: the latest PostGIS fetch failed (message below) */
    char pg_error[256];
    int persist_failing;           /* 1: the last persistent write failed (e.g. disk full),
                                    * or a tileset's cache could not be opened */
    char persist_error[256];       /* that failure's message (an unopened cache first), or "" */
    int persist_suspended;         /* tilesets whose files changed on disk since the running
                                    * configuration loaded (no reload since, or it was
                                    * refused): their persistent cache is not written */
    char suspended_tileset[64];    /* the first of them, or "" */
} ts_pipeline_stats;
void ts_pipeline_stats_get(ts_pipeline *p, ts_pipeline_stats *out);

/* Time spent drawing metatiles (the render, not the PNG encoding nor the wait in the
 * queue), by tileset name and zoom level: fn(ud, tileset, z, snapshot) once for every
 * (tileset, z) with at least one metatile drawn since the pipeline started, tilesets in
 * the order of their first render, zooms ascending. Names outlive reloads (a histogram is
 * never dropped); at most 64 names and zooms 0..30 are kept (others count only in
 * render_ns). Any thread; lock-free. */
typedef void (*ts_pipeline_hist_fn)(void *ud, const char *tileset, int z, const ts_hist_snap *s);
void ts_pipeline_render_hists(ts_pipeline *p, ts_pipeline_hist_fn fn, void *ud);

/* The cache key of a tile (for tests and cache tools). */
/* The tile as a Mapbox Vector Tile 2.1 (pipeline/vector.c): one layer per tileset layer,
 * named as it, with the attributes of `mvt: {attributes}` of the layer (converted to the
 * declared types; a value that does not convert is left out of its feature and counted in
 * ts_pipeline_stats.mvt_unconverted) or else every attribute its store holds, the
 * source's feature ids, and the tileset's `mvt` options (extent, buffer, max_bytes); built on
 * the calling thread, kept in the memory cache (not for live tilesets). grid NULL = the
 * tileset's first grid. gzip = 1: the gzip-compressed bytes (Content-Encoding: gzip; an
 * empty tile stays empty). *out holds one reference (release with ts_tile_unref); an
 * empty tile has no bytes. Errors as ts_pipeline_check_grid, TS_ENOMEM. */
ts_status ts_pipeline_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, int gzip,
                          ts_tile **out, ts_err *err);

/* As ts_pipeline_mvt for a file whose last level is last_z (tilesrv seed --format pbf: a
 * client overzooms it), so that level carries what the style draws at every larger scale
 * too (-1: the tileset's last level, as ts_pipeline_mvt). Such a tile is not cached. */
ts_status ts_pipeline_mvt_upto(ts_pipeline *p, const ts_tile_req *r, const char *grid, int last_z,
                               int gzip, ts_tile **out, ts_err *err);

/* The vector tile ts_pipeline_mvt would answer, if the memory cache holds it (one reference
 * taken), else NULL: nothing is built (a live tileset's tiles are never cached). For a
 * server thread that answers hits itself and hands the builds to ts_pipeline_run. Any
 * thread. */
ts_tile *ts_pipeline_mvt_cached(ts_pipeline *p, const ts_tile_req *r, const char *grid,
                                int gzip);

/* Run fn(worker_state, arg) once on a render thread (the pool the tiles render on), for
 * work a server thread should not be held by (a vector tile to build, a glyph range to
 * draw: tens of ms); worker_state is the pool's and not for the caller. TS_OK, or TS_EBUSY
 * when the render queue is full (fn is then not run). Any thread. */
ts_status ts_pipeline_run(ts_pipeline *p, void (*fn)(void *worker_state, void *arg), void *arg);
/* As ts_pipeline_run; db != 0: the work queries a database (ts_pipeline_opts.db_threads). */
ts_status ts_pipeline_run_db(ts_pipeline *p, void (*fn)(void *worker_state, void *arg), void *arg,
                             int db);

/* 1 when the vector tiles of render layer rl carry a companion layer "<name>_label": one
 * point per feature (a polygon's largest ring's centroid, a line's middle, the point) in
 * the one tile that holds it, with the layer's attributes, for the style's point-placed
 * TextSymbolizers (a client labelling the polygons themselves labels every piece that
 * tile edges cut). Any thread. */
int ts_pipeline_label_layer(const ts_render_layer *rl);

/* The levels of ts's grid at which its vector tiles carry its layer-th layer (label = 0)
 * or that layer's "<layer>_label" points (label = 1): with `mvt: {features: drawn}` (the
 * default) those where its style draws it at some scale a client shows the level at (see
 * vector.c), with `all` every level of the tileset; last_z: the last level clients
 * overzoom (-1: the tileset's; a seeded file's last otherwise). 0 with *minz > *maxz when
 * none. Any thread. */
int ts_service_mvt_layer_levels(const ts_service *svc, const ts_tileset *ts, int layer,
                                int label, int last_z, int *minz, int *maxz);

/* The attributes vector tiles of the tileset carry in its layer-th layer (0-based, in the
 * tileset's order): the configured `mvt: {attributes}` of the layer, or every field of its
 * store. Names are copied into names[i] (truncated to TS_MVT_FIELD_MAX - 1 bytes), types[i]
 * is the declared type or, for a kept type, the type of the store's values (KEEP when it
 * holds none). Returns the count written (at most max). Any thread. */
#define TS_MVT_FIELD_MAX 128
int ts_service_mvt_fields(const ts_service *svc, const ts_tileset *ts, int layer,
                          char (*names)[TS_MVT_FIELD_MAX], ts_cfg_attr_type *types, int max);

void ts_pipeline_tile_key(const ts_tileset *ts, int z, uint32_t x, uint32_t y, int scale,
                          char *buf, size_t size);

/* ---- persistent caches and batch rendering (seed) -------------------------------------- */

/* The data version of a tileset of the current service (never 0). */
uint64_t ts_pipeline_tileset_version(ts_pipeline *p, const char *tileset);

/* The persistent cache level of a tileset on grid (NULL: its first) at scale 1 or 2 with a
 * new reference (caller unrefs), or NULL when the tileset keeps tiles in memory only (or its
 * cache could not be opened: *err says why). */
ts_cache *ts_pipeline_tileset_cache(ts_pipeline *p, const char *tileset, const char *grid,
                                    int scale, ts_err *err);

/* Open a persistent cache described by cc for a tileset of the current service (as the
 * config would, e.g. `tilesrv seed --to out.mbtiles`): its metadata says zooms minz..maxz
 * and bounds (west, south, east, north in degrees; NULL = the tileset's data extent), on
 * grid (NULL: its first). NULL with *err on failure. */
ts_cache *ts_pipeline_open_cache(ts_pipeline *p, const char *tileset, const char *grid, int scale,
                                 const ts_cfg_cache *cc, int minz, int maxz,
                                 const double *bounds, ts_err *err);

/* Open the configured persistent cache of tileset t of cfg without loading the service
 * and without recording a data version (for `tilesrv truncate`): NULL with *err when the
 * tileset has none (TS_ENOENT) or it cannot be opened. */
ts_cache *ts_pipeline_open_config_cache(const ts_config *cfg, const ts_cfg_tileset *t, int scale,
                                        ts_err *err);

/* The tiles of one rendered metatile, row-major (tiles[(y - y0) * nx + (x - x0)]), borrowed
 * for the duration of the callback. */
typedef struct ts_meta_tiles {
    int z;
    uint32_t x0, y0, nx, ny;
    ts_tile *const *tiles;
    int scale;
} ts_meta_tiles;

/* Called once per accepted ts_pipeline_render_meta, on a render thread; m is NULL when
 * st != TS_OK. */
typedef void (*ts_meta_done)(void *ud, ts_status st, const ts_meta_tiles *m, const ts_err *err);

/* Render the metatile holding tile (z, x, y) of a tileset on grid (NULL: its first) and hand
 * its tiles to done(),
 * without storing them in any cache (the caller decides). TS_OK: done() will be called;
 * TS_EBUSY: the queue is full (try again once a job has finished); TS_ENOENT/TS_EINVAL:
 * bad request. Used by `tilesrv seed`. */
ts_status ts_pipeline_render_meta(ts_pipeline *p, const char *tileset, const char *grid, int z,
                                  uint32_t x, uint32_t y, int scale, ts_meta_done done, void *ud,
                                  ts_err *err);

/* Tiles per metatile side for a tileset at a scale (what ts_pipeline_render_meta renders). */
int ts_pipeline_meta_size(const ts_tileset *ts, int scale);

/* ---- WMS maps, feature info and legends (map.c) --------------------------------------- */

typedef enum { TS_MAP_PNG = 0, TS_MAP_PNG8, TS_MAP_JPEG } ts_map_format;

/* One GetMap. Names are WMS entries (groups expand to their layers). */
typedef struct ts_map_req {
    const char *const *layers;
    int nlayers;
    const ts_style *const *styles; /* per layer: a style to use instead of the layer's own
                                    * (SLD_BODY), or NULL; the array may be NULL */
    const ts_crs *crs;             /* a CRS of ts_service_wms_crs */
    ts_bbox bbox;                  /* in crs, tilesrv axis order (x = easting/longitude) */
    int width, height;
    double dpi;         /* 0 = the OGC 0.28 mm pixel (90.714 dpi) */
    ts_rgba background; /* straight; a == 0: transparent */
    ts_map_format format;
    int jpeg_quality; /* 1..100, 0 = 85 */
    uint64_t deadline_ns; /* ts_mono_ns() past which the render stops (its answer is an
                           * exception by then); 0 = none */
} ts_map_req;

/* Render a map on the render pool, its bands spread over idle workers, labels kept inside
 * the image, and encode it; done() is called once from a render thread with the encoded
 * image (a ts_tile: bytes, ETag) or an error. Layers in crs use their stores as they are;
 * other layers are drawn from the nearest store with geometries reprojected on the fly.
 * TS_OK: done() will be called; TS_EBUSY: queue full; TS_ENOENT: unknown layer; TS_EINVAL
 * (no done()). The request is copied: the caller may free it after the call. */
ts_status ts_pipeline_map(ts_pipeline *p, const ts_map_req *r, ts_tile_done done, void *ud,
                          ts_err *err);
/* Blocking form (tests, benchmarks): *out receives a new reference. */
ts_status ts_pipeline_map_get(ts_pipeline *p, const ts_map_req *r, ts_tile **out, ts_err *err);

/* Encode an RGBA canvas as format (png, png8 or jpeg; JPEG drops alpha over background)
 * into out. */
ts_status ts_pipeline_encode(const ts_canvas *c, ts_map_format format, int jpeg_quality,
                             ts_rgba background, ts_buf *out, ts_err *err);

/* One GetFeatureInfo: the map it is asked about, the pixel, and the layers to query. */
typedef struct ts_info_req {
    const char *const *layers; /* QUERY_LAYERS (groups expand) */
    int nlayers;
    const ts_crs *crs;
    ts_bbox bbox;
    int width, height;
    int i, j; /* pixel column and row */
    double dpi;
    int feature_count;   /* per layer, >= 1 */
    double tolerance_px; /* search radius around the pixel; 0 = 4 */
} ts_info_req;

typedef struct ts_info_feature {
    const char *layer; /* configured layer name */
    const char *layer_title;
    int64_t id; /* id in the data source (OGR FID), -1 = unknown */
    char fid[64]; /* the id as text, unique in its layer: the source's id, else a feed's
                   * `id`, else the feature's index in the layer's store */
    ts_geom_kind kind;
    ts_bbox bbox; /* in the request's CRS */
    /* The geometry at full detail in the request's CRS (x, y pairs, easting first), as
     * ts_geom lays it out: points one per part; lines a part each; polygons rings (first
     * point not repeated), each exterior followed by its holes (hole[k] = 1). xy NULL: none
     * (more than TS_INFO_MAX_POINTS points, or some not transformable). */
    double *xy;
    uint32_t *counts;
    uint8_t *hole;
    uint32_t nparts;
    int nattrs;
    char **names;     /* all attributes, read back from the source */
    ts_value *values; /* strings owned by the result */
} ts_info_feature;

#define TS_INFO_MAX_POINTS 200000 /* a feature with more is answered without geometry */

typedef struct ts_info_result {
    ts_info_feature *features; /* topmost layer first; within a layer topmost first */
    int n;
    const ts_crs *crs;
} ts_info_result;

/* Hit-test the query layers at the pixel: points within the tolerance (plus their symbol's
 * size), lines within it (plus half their stroke), polygons containing the point; only
 * features a rule draws at the map's scale count. All attributes of each hit are read back
 * through OGR by feature id; its geometry comes from the store, in the request's CRS. Runs on the calling thread. TS_ENOENT (unknown layer),
 * TS_ESOURCE, TS_ENOMEM. Free with ts_info_result_free (also after a failure). */
ts_status ts_pipeline_feature_info(ts_pipeline *p, const ts_info_req *r, ts_info_result *out,
                                   ts_err *err);
void ts_info_result_free(ts_info_result *r);

/* One GetLegendGraphic: a sample of every rule's symbolizers (polygon square, line, point
 * mark) with the rule's title beside it, or of one rule only. */
typedef struct ts_legend_req {
    const char *layer;     /* WMS entry; a group draws the legends of its layers */
    const ts_style *style; /* instead of the layer's own style (SLD_BODY), or NULL */
    const char *rule;      /* rule name, NULL = every rule */
    double scale;          /* only rules live at this scale denominator; 0 = all */
    int icon_w, icon_h;    /* sample size, px; 0 = 20 */
    double dpi;            /* scales sizes; 0 = 90.714 */
    ts_rgba background;
    ts_map_format format;
    int max_width, max_height; /* the largest image (server.wms.max_width / max_height; 0 =
                                * 4096): rules that do not fit are left out */
} ts_legend_req;

/* Draw and encode a legend on the calling thread; *out receives a new reference.
 * TS_ENOENT: unknown layer or rule. */
ts_status ts_pipeline_legend(ts_pipeline *p, const ts_legend_req *r, ts_tile **out, ts_err *err);

/* Draw msg into an image of w x h (an OGC EXCEPTIONS=INIMAGE answer) and encode it. */
ts_status ts_pipeline_message_image(ts_pipeline *p, const char *msg, int w, int h,
                                    ts_rgba background, ts_map_format format, ts_tile **out,
                                    ts_err *err);

/* ---- sprites of MapLibre styles (sprite.c) ------------------------------------------------- */

/* What icon a symbolizer of a style gets in a MapLibre sprite: TS_SPRITE_POINT for a
 * PointSymbolizer whose graphic a circle layer cannot draw (another mark shape, a
 * shape:// or font mark, an ExternalGraphic) and that has no values of the feature in it;
 * TS_SPRITE_PATTERN for a PolygonSymbolizer's GraphicFill that is not a line hatch;
 * TS_SPRITE_LINE for a LineSymbolizer's GraphicStroke (without a solid stroke or an
 * offset): one step of it, repeated along the line by the client (line-pattern); else
 * TS_SPRITE_NONE. The style writer and the sheet both ask this, so they agree. */
enum { TS_SPRITE_NONE = 0, TS_SPRITE_POINT, TS_SPRITE_PATTERN, TS_SPRITE_LINE };
int ts_sprite_icon(const ts_symbolizer *s);
/* The icon's name in the sheet: "tileset/layer/fts/rule/symbolizer" (indices 0-based). */
void ts_sprite_name(char *buf, size_t cap, const char *tileset, const char *layer, int fts,
                    int rule, int sym);

/* The sprite sheet of the tilesets names[n] (in the current service) at pixel ratio 1 or 2:
 * the MapLibre index (a JSON object of name -> x, y, width, height, pixelRatio) appended
 * to json and the sheet as an RGBA PNG to png, every icon drawn by the renderer as the
 * PNG tiles draw it (upright: the client rotates). Icons whose graphic draws nothing are
 * left out. TS_OK; TS_ENOENT (unknown tileset), TS_EINVAL, TS_ENOMEM with *err set. On the
 * calling thread. */
ts_status ts_pipeline_sprite(ts_pipeline *p, const char *const *names, int n, int ratio,
                             ts_buf *json, ts_buf *png, ts_err *err);

#endif
