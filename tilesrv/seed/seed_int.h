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
} ts_seed_state;

/* Write st to path through a temporary file in the same directory, fsync'ed, renamed. */
ts_status ts_seed__state_save(const char *path, const ts_seed_state *st, ts_err *err);
/* Read path. TS_ENOENT when it does not exist; TS_EINVAL when it is not a progress file. */
ts_status ts_seed__state_load(const char *path, ts_seed_state *st, ts_err *err);

/* The cache config a --to argument means: FILE.mbtiles -> mbtiles, else a disk directory in
 * layout (NULL = xyz). Strings in *cc point into the arguments. */
ts_status ts_seed__to_cache(const char *to, const char *layout, ts_cfg_cache *cc, ts_err *err);

/* The vector-tile seed (vector.c), called by ts_seed_run with the run's bbox in the grid's
 * CRS and out->tiles_total set. Fills *out; errors before any tile as ts_seed_run's. */
ts_status ts_seed__run_mvt(ts_pipeline *p, const ts_seed_opts *o, const ts_tileset *ts,
                           const ts_bbox *b, ts_seed_summary *out, ts_err *err);

#endif
