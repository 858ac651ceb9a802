/* seed/seed_int.h — private to the seed module: the progress file (state.c) and the
 * cache a --to argument names. */
#ifndef TS_SEED_SEED_INT_H
#define TS_SEED_SEED_INT_H

#include <stdint.h>

#include "seed/seed.h"

/* What a progress file holds. Every metatile of the run before level z, Hilbert index d
 * is done; the counts are those of that work, earlier runs included. */
typedef struct ts_seed_state {
    uint64_t fingerprint;      /* identity of the run's options (resume refuses others) */
    char tileset[64];
    int minz, maxz;
    int z;
    uint64_t d;
    uint64_t rendered, skipped, failed, bytes;
    char status[16];           /* running, done, interrupted, storage, failed */
    uint64_t total;            /* tiles of the run (0 in files of older versions) */
    int force;                 /* the run re-renders fresh tiles too (--force) */
} ts_seed_state;

/* Write st to path through a temporary file in the same directory, fsync'ed, renamed. */
ts_status ts_seed__state_save(const char *path, const ts_seed_state *st, ts_err *err);
/* Read path. TS_ENOENT when it does not exist; TS_EINVAL when it is not a progress file. */
ts_status ts_seed__state_load(const char *path, ts_seed_state *st, ts_err *err);

/* The cache config a --to argument means: FILE.mbtiles -> mbtiles, else a disk directory in
 * layout (NULL = xyz). Strings in *cc point into the arguments. */
ts_status ts_seed__to_cache(const char *to, const char *layout, ts_cfg_cache *cc, ts_err *err);

/* What an area (bbox and coverage) means on a grid. */
typedef struct ts_seed__region {
    int has_b;                 /* 0: no bbox and no coverage given */
    ts_bbox b;                 /* the bbox, cut to the coverage's bbox, in the grid's CRS */
    int has_clip;              /* both given: tiles are cut to clip (the bbox) first */
    ts_bbox clip;
    ts_seed_coverage *cov;     /* owned; NULL: every tile of b */
} ts_seed__region;

/* Resolve a on g: the bbox transformed, the coverage loaded. Errors as
 * ts_seed_area_to_grid and ts_seed_coverage_load; TS_EINVAL when bbox and coverage do not
 * overlap. */
ts_status ts_seed__region_open(const ts_seed_area *a, const ts_grid *g, ts_seed__region *r,
                               ts_err *err);
void ts_seed__region_close(ts_seed__region *r);
/* The tiles of level z in r (r->has_b must be set). */
uint64_t ts_seed__region_count(const ts_seed__region *r, const ts_grid *g, int z);

/* The vector-tile seed (vector.c), called by ts_seed_run with the run's region (b set) and
 * out->tiles_total set. Fills *out; errors before any tile as ts_seed_run's. */
ts_status ts_seed__run_mvt(ts_pipeline *p, const ts_seed_opts *o, const ts_tileset *ts,
                           const ts_seed__region *rg, ts_seed_summary *out, ts_err *err);

#endif
