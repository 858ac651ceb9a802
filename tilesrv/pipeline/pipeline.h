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
 * (path, size, mtime). A full disk or another write failure is counted and logged; the
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
#include "util/status.h"

/* ---- service ---------------------------------------------------------------------------- */

typedef struct ts_tileset {
    const ts_cfg_tileset *cfg;     /* borrowed from the service's config */
    const char *name;
    const ts_grid *grid;           /* the first grid (WebMercatorQuad for now) */
    const ts_render_layer **layers;
    int nlayers;
    ts_png_mode mode;
    ts_rgba background;
    ts_bbox bounds;                /* union of the layers' extents in the grid CRS */
    const ts_font_catalog *fonts;  /* the service's fonts for labels, or NULL */
} ts_tileset;

typedef struct ts_service ts_service;

/* Load everything the config names: sources (through OGR, reprojected to each grid's CRS),
 * styles, layers, tilesets. Takes a reference on cfg. Any failure gives NULL with *err
 * naming the file (and line for config/style faults). Progress is logged. */
ts_service *ts_service_load(ts_config *cfg, ts_err *err);
ts_service *ts_service_ref(ts_service *s);
/* Frees at zero. NULL is accepted. */
void ts_service_unref(ts_service *s);

const ts_config *ts_service_config(const ts_service *s);
int ts_service_ntilesets(const ts_service *s);
const ts_tileset *ts_service_tileset_at(const ts_service *s, int i);
/* A tileset by name, or NULL. */
const ts_tileset *ts_service_tileset(const ts_service *s, const char *name);
/* Monotonic generation number of this service (reloads count up). */
uint64_t ts_service_generation(const ts_service *s);

/* ---- pipeline --------------------------------------------------------------------------- */

typedef struct ts_pipeline_opts {
    int render_threads;     /* >= 1 */
    int queue_max;          /* metatile jobs waiting before TS_EBUSY */
    size_t cache_bytes;     /* memory cache budget */
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
    int persist_failing;           /* 1: the last persistent write failed (e.g. disk full) */
    char persist_error[256];       /* message of the last persistent write failure, or "" */
} ts_pipeline_stats;
void ts_pipeline_stats_get(ts_pipeline *p, ts_pipeline_stats *out);

/* The cache key of a tile (for tests and cache tools). */
void ts_pipeline_tile_key(const ts_tileset *ts, int z, uint32_t x, uint32_t y, int scale,
                          char *buf, size_t size);

/* ---- persistent caches and batch rendering (seed) -------------------------------------- */

/* The data version of a tileset of the current service (never 0). */
uint64_t ts_pipeline_tileset_version(ts_pipeline *p, const char *tileset);

/* The persistent cache level of a tileset at scale 1 or 2 with a new reference (caller
 * unrefs), or NULL when the tileset keeps tiles in memory only (or its cache could not be
 * opened: *err says why). */
ts_cache *ts_pipeline_tileset_cache(ts_pipeline *p, const char *tileset, int scale, ts_err *err);

/* Open a persistent cache described by cc for a tileset of the current service (as the
 * config would, e.g. `tilesrv seed --to out.mbtiles`): its metadata says zooms minz..maxz
 * and bounds (west, south, east, north in degrees; NULL = the tileset's data extent).
 * NULL with *err on failure. */
ts_cache *ts_pipeline_open_cache(ts_pipeline *p, const char *tileset, int scale,
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

/* Render the metatile holding tile (z, x, y) of a tileset and hand its tiles to done(),
 * without storing them in any cache (the caller decides). TS_OK: done() will be called;
 * TS_EBUSY: the queue is full (try again once a job has finished); TS_ENOENT/TS_EINVAL:
 * bad request. Used by `tilesrv seed`. */
ts_status ts_pipeline_render_meta(ts_pipeline *p, const char *tileset, int z, uint32_t x,
                                  uint32_t y, int scale, ts_meta_done done, void *ud, ts_err *err);

/* Tiles per metatile side for a tileset at a scale (what ts_pipeline_render_meta renders). */
int ts_pipeline_meta_size(const ts_tileset *ts, int scale);

#endif
