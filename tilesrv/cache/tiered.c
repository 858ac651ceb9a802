/* cache/tiered.c — cache levels stacked fastest first (memory -> disk or MBTiles -> ...):
 * read-through with promotion of fresh hits, write-through to every level. */
#include "cache/cache.h"

#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"

#define MAX_LEVELS 4

typedef struct tiered {
    ts_cache base;
    ts_cache *levels[MAX_LEVELS];
    int n;
} tiered;

static ts_status
tiered_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out, ts_cache_entry *e,
           ts_err *err)
{
    tiered *t = (tiered *)c;
    ts_status first_err = TS_OK;
    for (int i = 0; i < t->n; i++) {
        ts_cache_info info;
        ts_tile *tile = NULL;
        ts_err lerr;
        ts_err_clear(&lerr);
        ts_status st = ts_cache_get(t->levels[i], z, x, y, &tile, &info, &lerr);
        if (st == TS_ENOENT)
            continue;
        if (st != TS_OK) {
            /* A level that cannot be read is skipped: the next one may have the tile. */
            if (first_err == TS_OK && err)
                *err = lerr;
            first_err = st;
            continue;
        }
        /* Promote a fresh hit into the faster levels; a stale one stays where it is so
         * that every request for it sees it stale until it has been re-rendered. */
        if (!info.stale && i > 0) {
            ts_cache_item item = {x, y, tile};
            for (int k = 0; k < i; k++) {
                ts_err perr;
                ts_err_clear(&perr);
                (void)ts_cache_put(t->levels[k], z, &item, 1, &perr);
            }
        }
        e->mtime_ns = info.mtime * 1000000000;
        e->version_ok = 1;
        e->stale = info.stale;
        *out = tile;
        return TS_OK;
    }
    if (first_err != TS_OK)
        return first_err;
    return TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u is not cached", z, x, y);
}

static ts_status
tiered_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_entry *e, ts_err *err)
{
    tiered *t = (tiered *)c;
    for (int i = 0; i < t->n; i++) {
        ts_cache_info info;
        if (ts_cache_stat(t->levels[i], z, x, y, &info, NULL) == TS_OK) {
            e->mtime_ns = info.mtime * 1000000000;
            e->version_ok = 1;
            e->stale = info.stale;
            return TS_OK;
        }
    }
    return TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u is not cached", z, x, y);
}

static ts_status
tiered_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err)
{
    tiered *t = (tiered *)c;
    ts_status first = TS_OK;
    for (int i = 0; i < t->n; i++) {
        ts_err lerr;
        ts_err_clear(&lerr);
        ts_status st = ts_cache_put(t->levels[i], z, items, n, &lerr);
        if (st != TS_OK && first == TS_OK) {
            first = st;
            if (err)
                *err = lerr;
        }
    }
    return first;
}

static ts_status
tiered_del(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    tiered *t = (tiered *)c;
    ts_status first = TS_OK;
    for (int i = 0; i < t->n; i++) {
        ts_status st = ts_cache_delete(t->levels[i], z, x, y, first == TS_OK ? err : NULL);
        if (first == TS_OK)
            first = st;
    }
    return first;
}

static ts_status
tiered_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
                int64_t older_than, uint64_t *removed, ts_err *err)
{
    tiered *t = (tiered *)c;
    ts_status first = TS_OK;
    uint64_t most = 0;
    for (int i = 0; i < t->n; i++) {
        uint64_t n = 0;
        ts_status st = ts_cache_truncate(t->levels[i], z, x0, y0, x1, y1, older_than, &n,
                                         first == TS_OK ? err : NULL);
        if (first == TS_OK)
            first = st;
        if (n > most)
            most = n;
    }
    *removed = most; /* the slowest level holds the most; faster ones hold copies */
    return first;
}

static ts_status
tiered_sync(ts_cache *c, ts_err *err)
{
    tiered *t = (tiered *)c;
    ts_status first = TS_OK;
    for (int i = 0; i < t->n; i++) {
        ts_status st = ts_cache_sync(t->levels[i], first == TS_OK ? err : NULL);
        if (first == TS_OK)
            first = st;
    }
    return first;
}

static void
tiered_stats(ts_cache *c, ts_cache_io_stats *o)
{
    tiered *t = (tiered *)c;
    for (int i = 0; i < t->n; i++) {
        ts_cache_io_stats s;
        ts_cache_io_stats_get(t->levels[i], &s);
        ts_cache_io_stats_add(o, &s, 1);
    }
}

static void
tiered_close(ts_cache *c)
{
    tiered *t = (tiered *)c;
    for (int i = 0; i < t->n; i++)
        ts_cache_unref(t->levels[i]);
    free(t);
}

static const ts_cache_ops tiered_ops = {
    .kind = "tiered",
    .get = tiered_get,
    .stat = tiered_stat,
    .put = tiered_put,
    .del = tiered_del,
    .truncate = tiered_truncate,
    .sync = tiered_sync,
    .close = tiered_close,
    .stats = tiered_stats,
    .judges_freshness = 1,
};

ts_cache *
ts_cache_tiered_open(ts_cache *const *levels, int n)
{
    if (n < 1 || n > MAX_LEVELS)
        return NULL;
    tiered *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    ts_cache__init(&t->base, &tiered_ops, NULL);
    for (int i = 0; i < n; i++) {
        t->levels[i] = ts_cache_ref(levels[i]);
        if (levels[i]->grid.nlevels > 0 && t->base.grid.nlevels == 0) {
            /* Addressed like its persistent levels. */
            t->base.grid = levels[i]->grid;
            memcpy(t->base.name, levels[i]->name, sizeof t->base.name);
            t->base.scale = levels[i]->scale;
        }
    }
    t->n = n;
    return &t->base;
}
