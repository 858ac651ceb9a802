/* seed/seed.h — `tilesrv seed` and `tilesrv truncate`: fill or empty a tileset's persistent
 * cache for a bbox and a zoom range.
 *
 * Seeding walks each zoom's metatiles in Hilbert order (neighbours on the curve are
 * neighbours on the map, so feature lookups stay warm), streaming: an iterator over the
 * curve pruned to the bbox, never a list of tiles. Each metatile whose tiles are all fresh
 * in the cache is skipped; the others are rendered through the same pipeline as served
 * tiles, on the pipeline's render threads, and only their missing or stale tiles are
 * written. Memory stays flat: a bounded number of metatiles is in flight.
 *
 * Resume: a progress file, written atomically (temporary file + rename) every few seconds
 * and at the end, records the zoom and the Hilbert index below which every metatile of the
 * run is done, plus the counts so far. `--resume` continues from there; metatiles that
 * were in flight when a run was killed are looked at again (their tiles already written
 * are then skipped as fresh, not rendered twice).
 *
 * Shards: metatile d (its Hilbert index at its zoom) belongs to shard (d / 16) % n: runs of
 * 16 consecutive indexes are aligned 4 x 4 blocks of metatiles, so each machine renders
 * compact areas and all machines get a share of every zoom.
 *
 * Areas: --bbox MINX,MINY,MAXX,MAXY[,CRS] in lon/lat (EPSG:4326, the default) or any CRS
 * PROJ knows; a bbox in another CRS than the grid's becomes the envelope of its outline in
 * the grid's CRS, the outline densified to 32 points per edge (as MapProxy does: a bbox
 * seeds a rectangle of the grid, not a rotated shape). Lon/lat on a Web Mercator grid is
 * clipped to +-85.0511 degrees first. --coverage FILE[:LAYER] is the polygons of an OGR
 * layer (read by the source module, the only one that sees GDAL/PROJ), transformed into
 * the grid's CRS; only the tiles that meet them are seeded, counted or removed. A tile
 * meets a coverage when a ring edge crosses or touches the tile's rectangle (a vertex
 * inside counts), or when the tile's centre lies inside a polygon (even-odd over the
 * polygon's rings, polygons united); touching only along an edge or at a corner (within
 * 1e-9 of a tile) does not count. Invalid rings (self-intersections, bow-ties) are tested
 * as they are, never repaired. Both given: the tiles meeting the coverage cut to the bbox.
 * The walk prunes the Hilbert descent by the coverage (whole squares of metatiles outside
 * it are never visited) and tests single tiles only inside metatiles the coverage's
 * boundary crosses. The coverage's rings enter the --resume fingerprint.
 *
 * Exit codes of the commands (ts_seed_exit_code): 0 done; 1 could not start (config,
 * sources, cache); 2 usage (bad options, unknown tileset, progress file of another seed);
 * 3 finished but some metatiles failed to render; 4 stopped because the cache cannot be
 * written (disk full, I/O error): progress saved; 5 interrupted by SIGINT/SIGTERM:
 * progress saved, continue with --resume. */
#ifndef TS_SEED_SEED_H
#define TS_SEED_SEED_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "config/config.h"
#include "grid/grid.h"
#include "pipeline/pipeline.h"
#include "util/status.h"

enum {
    TS_SEED_EXIT_OK = 0,
    TS_SEED_EXIT_SETUP = 1,
    TS_SEED_EXIT_USAGE = 2,
    TS_SEED_EXIT_FAILED_TILES = 3,
    TS_SEED_EXIT_STORAGE = 4,
    TS_SEED_EXIT_INTERRUPTED = 5,
};

/* ---- areas ------------------------------------------------------------------------------ */

/* A bbox and a coverage as given on the command line. */
typedef struct ts_seed_area {
    int has_bbox;              /* 0: the tileset's data extent (seed) / everything (truncate),
                                * or the coverage's extent when there is one */
    double bbox[4];            /* minx, miny, maxx, maxy in crs */
    char crs[32];              /* "EPSG:4326" (default), or any CRS PROJ knows */
    const char *coverage;      /* FILE[:LAYER] of polygons (ts_seed_coverage_load), or NULL */
} ts_seed_area;

/* Parse "MINX,MINY,MAXX,MAXY[,EPSG:CODE]" into *a. TS_EINVAL with a message otherwise. */
ts_status ts_seed_parse_bbox(const char *s, ts_seed_area *a, ts_err *err);
/* Parse "A-B" or "A" into *minz, *maxz (0..31, A <= B). */
ts_status ts_seed_parse_zooms(const char *s, int *minz, int *maxz, ts_err *err);
/* Parse "I/N" (0 <= I < N). */
ts_status ts_seed_parse_shard(const char *s, int *i, int *n, ts_err *err);
/* Parse an age: seconds, or a number with s, m, h, d or w. */
ts_status ts_seed_parse_age(const char *s, int64_t *seconds, ts_err *err);

/* The bbox of a in grid g's CRS: as it is in the grid's CRS; lon/lat on an EPSG:3857 grid
 * clipped to the Web Mercator world; else transformed by PROJ (envelope of the densified
 * outline). TS_EINVAL naming the CRS when PROJ does not know it or cannot transform it. */
ts_status ts_seed_area_to_grid(const ts_seed_area *a, const ts_grid *g, ts_bbox *out, ts_err *err);

/* The tiles of level z covering b (grid CRS): x0..x1, y0..y1 inclusive, y from the top.
 * 0 when b misses the matrix. */
int ts_seed_tile_range(const ts_grid *g, int z, const ts_bbox *b, uint32_t r[4]);

/* ---- coverages -------------------------------------------------------------------------- */

/* Polygons in a grid's CRS, kept as flat rings with a bbox per ring, per polygon and per run
 * of 32 edges, for testing rectangles against them. Immutable once built; any number of
 * threads may test at once. */
typedef struct ts_seed_coverage ts_seed_coverage;

/* How a rectangle meets a coverage. */
enum { TS_SEED_OUT = 0, TS_SEED_PART = 1, TS_SEED_IN = 2 };

/* Read "FILE[:LAYER]" (the layer's polygons and multipolygons; default: the first layer)
 * into grid g's CRS (see ts_source_read_rings). FILE:LAYER is split at the last ':' only
 * when FILE exists and the whole argument does not. NULL with *err naming the file:
 * TS_ENOENT (no such file, cannot be opened, no such layer), TS_EINVAL (no polygon in the
 * layer, unknown CRS, points that cannot be transformed). */
ts_seed_coverage *ts_seed_coverage_load(const char *spec, const ts_grid *g, ts_err *err);
/* A coverage from nrings rings already in the grid's CRS: ring r has counts[r] points in
 * xy (interleaved, back to back; a closing point may be repeated) and belongs to polygon
 * poly[r] (rings of one polygon consecutive; poly NULL: every ring a polygon of its own).
 * The arrays are copied. Rings of fewer than 3 distinct points are left out. NULL with
 * *err: TS_EINVAL for no usable ring or non-finite coordinates, TS_ENOMEM. */
ts_seed_coverage *ts_seed_coverage_new(const double *xy, const uint32_t *counts,
                                       const uint32_t *poly, uint32_t nrings, ts_err *err);
/* NULL is accepted. */
void ts_seed_coverage_free(ts_seed_coverage *c);
/* The bbox of all rings. */
ts_bbox ts_seed_coverage_bbox(const ts_seed_coverage *c);
/* A hash of the rings (for the --resume fingerprint). */
uint64_t ts_seed_coverage_id(const ts_seed_coverage *c);
/* Rings, points and polygons kept. */
void ts_seed_coverage_size(const ts_seed_coverage *c, uint32_t *nrings, size_t *npoints,
                           uint32_t *npolys);

/* How the closed rectangle r meets c: TS_SEED_OUT (no common point), TS_SEED_PART (an edge
 * of a ring meets r), TS_SEED_IN (r lies inside, no edge meets it). */
int ts_seed_coverage_test(const ts_seed_coverage *c, const ts_bbox *r);
/* How the block of tiles x0..x1, y0..y1 (r, y from the top) of level z of grid g meets c,
 * every tile first cut to clip (NULL: not cut) and shrunk by 1e-9 of a tile, so that a
 * coverage touching a tile only along its edge does not take it in: TS_SEED_OUT: no tile
 * of the block meets c; TS_SEED_IN: every tile does; TS_SEED_PART: look at smaller blocks.
 * On a single tile, PART and IN both mean the tile meets c. */
int ts_seed_coverage_tiles(const ts_seed_coverage *c, const ts_grid *g, int z,
                           const uint32_t r[4], const ts_bbox *clip);
/* The tiles of block r of level z that meet c cut to clip (c NULL: all of r). Quad-tree
 * descent: cost grows with the tiles along the coverage's boundary, not the block's area. */
uint64_t ts_seed_count_tiles(const ts_seed_coverage *c, const ts_grid *g, int z,
                             const uint32_t r[4], const ts_bbox *clip);
/* Call fn(ud, r) for blocks of tiles of r that all meet c cut to clip, together the tiles
 * of r meeting it, each once (large blocks where the coverage holds them wholly, single
 * tiles along its boundary). fn returns non-zero to stop; the walk then returns that. */
int ts_seed_cover_blocks(const ts_seed_coverage *c, const ts_grid *g, int z, const uint32_t r[4],
                         const ts_bbox *clip, int (*fn)(void *ud, const uint32_t blk[4]),
                         void *ud);

/* ---- Hilbert walk ----------------------------------------------------------------------- */

/* Cells of an order x order square (order a power of two, <= 2^31) inside the rectangle
 * x0..x1, y0..y1, in the order of ts_grid_hilbert, from index `from` on. Pruned descent:
 * cost grows with the cells visited and the rectangle's edge, not the square's area. */
typedef struct ts_seed_iter {
    uint32_t order;
    uint32_t x0, y0, x1, y1;
    uint64_t from;
    int sp;
    struct {
        uint64_t d;            /* first index of the square */
        uint32_t size;         /* side */
    } stack[100];
    /* optional pruning (ts_seed_iter_filter): 0 = no cell of the square x0..x1, y0..y1 is
     * wanted, skip it */
    int (*keep)(void *ud, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1);
    void *keep_ud;
} ts_seed_iter;

void ts_seed_iter_init(ts_seed_iter *it, uint32_t order, uint32_t x0, uint32_t y0, uint32_t x1,
                       uint32_t y1, uint64_t from);
/* Prune the walk: keep(ud, ...) is asked about each square (cut to the rectangle) before
 * it is entered, and about each cell; squares and cells it answers 0 for are skipped. Call
 * after ts_seed_iter_init. */
void ts_seed_iter_filter(ts_seed_iter *it,
                         int (*keep)(void *ud, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1),
                         void *ud);
/* The next cell: 1 with *x, *y, *d set, or 0 when done. */
int ts_seed_iter_next(ts_seed_iter *it, uint32_t *x, uint32_t *y, uint64_t *d);
/* (x, y) of index d on the curve of side order (inverse of ts_grid_hilbert). */
void ts_seed_hilbert_xy(uint32_t order, uint64_t d, uint32_t *x, uint32_t *y);
/* The shard of metatile index d among n. */
int ts_seed_shard_of(uint64_t d, int n);

/* ---- seed ------------------------------------------------------------------------------- */

typedef struct ts_seed_opts {
    const char *tileset;
    const char *grid;          /* one of the tileset's grids; NULL = its first */
    int minz, maxz;
    ts_seed_area area;
    int scale;                 /* 1, or 2 for 512 px tiles */
    int inflight;              /* metatiles rendering at once (>= 1); e.g. 2 x threads */
    int writers;               /* threads storing rendered tiles (0: 1); e.g. the render
                                * threads' count: a cache of files spends most of a write in
                                * the kernel, an MBTiles has one writer whatever the count */
    int shard_i, shard_n;      /* this run renders shard i of n (n >= 1) */
    int resume;                /* continue from progress_path */
    int force;                 /* render tiles even when fresh */
    const char *progress_path; /* NULL: .tilesrv-seed-<tileset>[@2x][-<i>of<n>].progress in
                                * progress_dir */
    const char *progress_dir;  /* NULL: the working directory */
    const char *to;            /* NULL: the tileset's configured cache; FILE.mbtiles: that
                                * MBTiles; anything else: a disk cache directory */
    const char *to_layout;     /* for a directory given in `to`: xyz (default), tc, tms */
    int save_every_ms;         /* progress file period; 0 = 2000 */
    int show_progress;         /* bar / log lines through util/progress */
    volatile sig_atomic_t *stop; /* set to non-zero (by a signal handler) to stop cleanly */
    const char *format;        /* NULL or "png": the tileset's raster tiles; "pbf" (or "mvt"):
                                * its vector tiles, gzip'd, into `to` (required: MBTiles with
                                * metadata format=pbf and json={"vector_layers": [...]}, or a
                                * directory of .pbf files); tiles without features are not
                                * stored and count as skipped; no resume, shards or scale 2 */
} ts_seed_opts;

typedef enum {
    TS_SEED_DONE,              /* every tile rendered or fresh */
    TS_SEED_FAILED_TILES,      /* finished, some metatiles failed to render */
    TS_SEED_STORAGE,           /* stopped: the cache refused a write */
    TS_SEED_INTERRUPTED,       /* stopped by *stop */
} ts_seed_result;

typedef struct ts_seed_summary {
    ts_seed_result result;
    uint64_t tiles_total;      /* tiles of the area and zooms (divided by n for shards) */
    uint64_t metatiles;        /* metatiles rendered by this run */
    uint64_t rendered;         /* tiles written by this run */
    uint64_t skipped;          /* fresh tiles left alone by this run */
    uint64_t failed;           /* tiles whose metatile failed to render in this run */
    uint64_t bytes;            /* bytes written by this run */
    double seconds;            /* this run */
    int resumed;               /* 1: continued from a progress file */
    int resume_z;              /* where it continued */
    uint64_t resume_d;
    uint64_t prior_rendered, prior_skipped, prior_failed, prior_bytes; /* earlier runs */
    char progress_path[512];
    char error[512];           /* TS_SEED_STORAGE: the write error */
    int resumed_force;         /* resumed a --force seed without --force: forced all the same */
    int progress_unsaved;      /* the last save of the progress file failed: */
    char progress_error[512];  /* why (a --resume would start over) */
} ts_seed_summary;

/* Seed the tiles of o through pipeline p into the tileset's persistent cache (or o->to).
 * TS_OK when the run took place: the outcome is in out->result. Otherwise nothing was
 * rendered and *err says why: TS_EINVAL / TS_ENOENT for bad options (usage), others for
 * setup failures. Call from one thread; renders run on p's threads. */
ts_status ts_seed_run(ts_pipeline *p, const ts_seed_opts *o, ts_seed_summary *out, ts_err *err);

/* What a seed's progress file says, for monitoring (the server's /metrics). */
typedef struct ts_seed_progress {
    char tileset[64];
    char status[16];           /* running, done, interrupted, storage, failed */
    int z;                     /* the level reached (maxz when done) */
    uint64_t rendered, skipped, failed;
    uint64_t total;            /* tiles planned; 0 in files of older versions */
} ts_seed_progress;

/* Read the progress file at path (written by ts_seed_run). TS_ENOENT when it does not
 * exist, TS_EINVAL when it is not a progress file. */
ts_status ts_seed_progress_read(const char *path, ts_seed_progress *out, ts_err *err);

/* The exit code of a seed or truncate command: st from ts_seed_run/ts_seed_truncate, s the
 * summary (NULL for truncate). */
int ts_seed_exit_code(ts_status st, const ts_seed_summary *s);

/* ---- truncate --------------------------------------------------------------------------- */

typedef struct ts_truncate_opts {
    const char *tileset;
    const char *grid;          /* one of the tileset's grids; NULL = its first */
    int minz, maxz;            /* -1: the tileset's zoom range */
    ts_seed_area area;         /* has_bbox 0: the whole level */
    int scale;
    int64_t older_than_s;      /* remove only tiles older than this many seconds; 0 = all */
    const char *to;            /* as in ts_seed_opts: another cache than the configured one */
    const char *to_layout;
} ts_truncate_opts;

/* Remove the tiles of o from the tileset's persistent cache; the service is not loaded
 * (nor the data version touched). *removed counts them. TS_EINVAL / TS_ENOENT for bad
 * options; TS_EIO when the cache cannot be changed. */
ts_status ts_seed_truncate(const ts_config *cfg, const ts_truncate_opts *o, uint64_t *removed,
                           ts_err *err);

#endif
