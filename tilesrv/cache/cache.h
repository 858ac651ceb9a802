/* cache/cache.h — encoded tiles and the in-memory LRU that holds them.
 *
 * A ts_tile is immutable once published and refcounted: readers hold a reference while
 * they send it, the cache holds one while it keeps it. The memory cache is a hash table
 * split into shards (one mutex each) with an LRU list per shard and a byte budget.
 * Keys are short strings ("cadastre/WebMercatorQuad/16/34001/21873@1x.png").
 * Nothing here knows about rendering or HTTP. */
#ifndef TS_CACHE_CACHE_H
#define TS_CACHE_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

typedef struct ts_tile {
    atomic_int refs;
    uint64_t etag;          /* content hash; the HTTP ETag is its hex form */
    int64_t mtime;          /* wall-clock seconds when it was rendered */
    size_t len;
    const uint8_t *data;    /* the bytes; points into the tile itself or at shared bytes */
    int shared;             /* 1: data is a process-lifetime shared buffer (uniform tile) */
    uint8_t own[];          /* the bytes when not shared */
} ts_tile;

/* A new tile (refs = 1) holding a copy of len bytes. NULL on out-of-memory. */
ts_tile *ts_tile_new(const uint8_t *data, size_t len, int64_t mtime);
/* A new tile (refs = 1) pointing at bytes that outlive every tile (never freed). */
ts_tile *ts_tile_new_shared(const uint8_t *data, size_t len, int64_t mtime);
ts_tile *ts_tile_ref(ts_tile *t);
/* Frees at zero. NULL is accepted. Any thread. */
void ts_tile_unref(ts_tile *t);
/* Write the quoted strong ETag ("\"0123456789abcdef\"") into buf (at least 19 bytes). */
void ts_tile_etag_str(const ts_tile *t, char *buf, size_t size);

typedef struct ts_mem_cache ts_mem_cache;

typedef struct ts_cache_stats {
    uint64_t hits, misses, puts, evictions;
    uint64_t bytes, entries;
} ts_cache_stats;

/* A cache holding at most max_bytes of tile data (plus bookkeeping). NULL on OOM. */
ts_mem_cache *ts_mem_cache_new(size_t max_bytes);
/* Releases every tile reference it holds. NULL is accepted. */
void ts_mem_cache_free(ts_mem_cache *c);

/* The tile under key with a new reference (caller unrefs), or NULL. Any thread. */
ts_tile *ts_mem_cache_get(ts_mem_cache *c, const char *key);
/* Store t under key (the cache takes its own reference; an older tile under the key is
 * replaced), evicting least recently used tiles of the shard over budget. Tiles larger
 * than the shard budget are not kept. Any thread. */
void ts_mem_cache_put(ts_mem_cache *c, const char *key, ts_tile *t);
/* Drop every key starting with prefix. Returns the number dropped. */
size_t ts_mem_cache_drop_prefix(ts_mem_cache *c, const char *prefix);
void ts_mem_cache_stats_get(ts_mem_cache *c, ts_cache_stats *out);

#endif
