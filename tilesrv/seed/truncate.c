/* seed/truncate.c — `tilesrv truncate`: remove a tileset's cached tiles by zoom range,
 * bbox, coverage and age, without loading the service. */
#include "seed/seed.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "seed/seed_int.h"
#include "util/log.h"

typedef struct trunc_ctx {
    ts_cache *c;
    int z;
    int64_t before;
    uint64_t removed;
    ts_status st;
    ts_err *err;
} trunc_ctx;

/* One block of tiles that all meet the coverage: remove it. */
static int
trunc_block(void *ud, const uint32_t b[4])
{
    trunc_ctx *k = ud;
    uint64_t n = 0;
    k->st = ts_cache_truncate(k->c, k->z, b[0], b[1], b[2], b[3], k->before, &n, k->err);
    k->removed += n;
    return k->st != TS_OK;
}

ts_status
ts_seed_truncate(const ts_config *cfg, const ts_truncate_opts *o, uint64_t *removed, ts_err *err)
{
    *removed = 0;
    if (o->tileset == NULL)
        return TS_FAIL(err, TS_EINVAL, "truncate needs --tileset NAME");
    const ts_cfg_tileset *t = ts_config_tileset(cfg, o->tileset);
    if (t == NULL)
        return TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", o->tileset);
    const char *gname = t->ngrids > 0 ? t->grids[0] : "WebMercatorQuad";
    if (o->grid != NULL) {
        int has = t->ngrids == 0 && strcmp(o->grid, "WebMercatorQuad") == 0;
        for (int i = 0; i < t->ngrids && !has; i++)
            has = strcmp(t->grids[i], o->grid) == 0;
        if (!has)
            return TS_FAIL(err, TS_EINVAL, "tileset %s has no grid '%s'", o->tileset, o->grid);
        gname = o->grid;
    }
    const ts_grid *g = ts_config_grid(cfg, gname);
    if (g == NULL)
        return TS_FAIL(err, TS_ECONFIG, "tileset %s: unknown grid", o->tileset);
    int minz = o->minz >= 0 ? o->minz : t->minzoom;
    int maxz = o->maxz >= 0 ? o->maxz : (t->maxzoom > 0 ? t->maxzoom : g->nlevels - 1);
    if (minz < 0 || maxz >= g->nlevels || minz > maxz)
        return TS_FAIL(err, TS_EINVAL, "--zoom %d-%d is outside the levels 0-%d of grid %s", minz,
                       maxz, g->nlevels - 1, g->name);
    ts_seed__region rgn;
    TS_TRY(ts_seed__region_open(&o->area, g, &rgn, err));

    ts_cache *c;
    if (o->to) {
        /* truncating a cache that is not there would create an empty one */
        char path[4096];
        size_t tl = strlen(o->to);
        if (o->scale == 2 && tl > 8 && strcasecmp(o->to + tl - 8, ".mbtiles") == 0)
            snprintf(path, sizeof path, "%.*s@2x.mbtiles", (int)(tl - 8), o->to);
        else
            snprintf(path, sizeof path, "%s", o->to);
        if (access(path, F_OK) != 0) {
            ts_seed__region_close(&rgn);
            return TS_FAIL(err, TS_EINVAL, "--to %s: no such cache, nothing to truncate", path);
        }
        ts_cfg_tileset copy = *t;
        ts_status st = ts_seed__to_cache(o->to, o->to_layout, &copy.cache, err);
        if (st != TS_OK) {
            ts_seed__region_close(&rgn);
            return st;
        }
        c = ts_pipeline_open_config_cache(cfg, &copy, o->scale, err);
    } else {
        c = ts_pipeline_open_config_cache(cfg, t, o->scale, err);
        if (c == NULL && err && err->code == TS_ENOENT) {
            ts_seed__region_close(&rgn);
            return TS_FAIL(err, TS_EINVAL,
                           "tileset %s has no persistent cache: nothing to truncate (give --to "
                           "FILE.mbtiles or --to DIR for another cache)",
                           o->tileset);
        }
    }
    if (c == NULL) {
        ts_seed__region_close(&rgn);
        return err && err->code != TS_OK ? err->code : TS_EIO;
    }
    int64_t before = o->older_than_s > 0 ? (int64_t)time(NULL) - o->older_than_s : 0;
    ts_status st = TS_OK;
    for (int z = minz; z <= maxz && st == TS_OK; z++) {
        uint32_t r[4] = {0, 0, UINT32_MAX, UINT32_MAX};
        if (rgn.has_b && !ts_seed_tile_range(g, z, &rgn.b, r))
            continue;
        uint64_t n = 0;
        if (rgn.cov == NULL) {
            st = ts_cache_truncate(c, z, r[0], r[1], r[2], r[3], before, &n, err);
        } else {
            /* whole blocks where the coverage holds them, single tiles along its boundary */
            trunc_ctx k = {c, z, before, 0, TS_OK, err};
            ts_seed_cover_blocks(rgn.cov, g, z, r, rgn.has_clip ? &rgn.clip : NULL, trunc_block,
                                 &k);
            st = k.st;
            n = k.removed;
        }
        *removed += n;
        if (n > 0)
            ts_info("truncate %s: level %d: %llu tiles removed", o->tileset, z,
                    (unsigned long long)n);
    }
    ts_cache_unref(c);
    ts_seed__region_close(&rgn);
    return st;
}
