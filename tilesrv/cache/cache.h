/* cache/cache.h — encoded tiles, the in-memory LRU that holds them, and the cache
 * back-ends (memory, disk, MBTiles) behind one interface that stack into levels.
 *
 * A ts_tile is immutable once published and refcounted: readers hold a reference while
 * they send it, the cache holds one while it keeps it. The memory cache is a hash table
 * split into shards (one mutex each) with an LRU list per shard and a byte budget.
 * Keys are short strings ("cadastre/WebMercatorQuad/16/34001/21873@1x.png").
 * Nothing here knows about rendering, HTTP or configuration files. */
#ifndef TS_CACHE_CACHE_H
#define TS_CACHE_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "grid/grid.h"
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
/* The same, not counted as a hit or miss: a look again at a key whose lookup was counted
 * already (the request path's re-checks). Any thread. */
ts_tile *ts_mem_cache_recheck(ts_mem_cache *c, const char *key);
/* 1 if a tile is cached under key, else 0; neither counted as a hit or miss nor moved in
 * the LRU (for invalidation probes). Any thread. */
int ts_mem_cache_contains(ts_mem_cache *c, const char *key);
/* Store t under key (the cache takes its own reference; an older tile under the key is
 * replaced), evicting least recently used tiles of the shard over budget. Tiles larger
 * than the shard budget are not kept. Any thread. */
void ts_mem_cache_put(ts_mem_cache *c, const char *key, ts_tile *t);
/* Drop every key starting with prefix. Returns the number dropped. */
size_t ts_mem_cache_drop_prefix(ts_mem_cache *c, const char *prefix);
void ts_mem_cache_stats_get(ts_mem_cache *c, ts_cache_stats *out);

/* ---- back-ends ---------------------------------------------------------------------------
 *
 * A ts_cache holds the tiles of one tileset on one grid at one scale, addressed by
 * (z, x, y) with row y counted from the top. Kinds: a view on the shared memory LRU, a
 * directory of files (disk), an MBTiles file, and a tiered stack of those. Every call is
 * safe from any thread. Failures are ts_status values with *err saying what and where;
 * a miss is TS_ENOENT and changes nothing. A damaged entry (a PNG cut short, garbage in
 * an MBTiles blob) is found on read, deleted, counted as corrupt and reported as a miss,
 * so the caller re-renders it; it is never returned. */

typedef struct ts_cache ts_cache;

/* What a back-end is told about the tiles it keeps. Strings and the grid are copied. */
typedef struct ts_cache_desc {
    const char *name;          /* tileset name (MBTiles `name`) */
    const char *description;   /* NULL = name (MBTiles `description`) */
    const char *attribution;   /* NULL = none */
    const char *format;        /* file format / extension: "png" (also for paletted PNG) */
    const char *type;          /* MBTiles `type`: "baselayer" or "overlay" */
    const ts_grid *grid;       /* the tileset's grid (rows are flipped with it for TMS) */
    int scale;                 /* 1, or 2 for 512 px tiles (disk: "<grid>@2x" directory) */
    int minzoom, maxzoom;
    double bounds[4];          /* west, south, east, north in degrees; all 0 = the world */
    uint64_t version;          /* data version of the tiles written now; 0 = do not record
                                * a version (truncate and tools: the stored one is kept) */
    int64_t expire_s;          /* tiles older than this are stale; 0 = never */
    const char *json;          /* MBTiles `json` (vector tiles: {"vector_layers": [...]});
                                * NULL = none */
} ts_cache_desc;

/* What a lookup learns about an entry besides its bytes. */
typedef struct ts_cache_info {
    int64_t mtime;             /* wall-clock seconds when the tile was stored */
    int stale;                 /* 1: another data version, or older than expire_s */
} ts_cache_info;

/* One tile of a batch written together (a metatile). */
typedef struct ts_cache_item {
    uint32_t x, y;
    ts_tile *tile;             /* borrowed */
} ts_cache_item;

/* Counters of one back-end (a tiered cache sums its levels). */
typedef struct ts_cache_io_stats {
    uint64_t gets, hits, misses, stale, corrupt;
    uint64_t puts, put_errors, bytes_written;
    uint64_t read_errors;
} ts_cache_io_stats;

typedef enum {
    TS_CACHE_LAYOUT_XYZ,       /* z/x/y.png */
    TS_CACHE_LAYOUT_TC,        /* zz/xxx/xxx/xxx/yyy/yyy/yyy.png, y from the bottom (MapProxy) */
    TS_CACHE_LAYOUT_TMS,       /* z/x/y.png, y from the bottom */
} ts_cache_layout;

/* "xyz" / "tc" / "tms" -> layout; -1 if unknown. */
int ts_cache_layout_parse(const char *s);

/* A view on the shared memory LRU m (borrowed: it must outlive the view): tile (z, x, y)
 * is kept under the key prefix + "z/x/y" + suffix. Never stale. NULL on out-of-memory. */
ts_cache *ts_cache_memory_open(ts_mem_cache *m, const char *prefix, const char *suffix);
/* From now on, tiles of c older than expire_s seconds are stale (0 = never): for a level
 * opened without a description, e.g. the memory view in front of a persistent level with
 * `expire`, so that a tile kept in memory expires as it does on disk. Call before c is
 * shared with other threads. */
void ts_cache_set_expire(ts_cache *c, int64_t expire_s);

/* A directory of tile files: dir/<grid>[@2x]/<layout path>, created when missing. Each tile
 * is written to a temporary file in its final directory and renamed into place, so no
 * reader sees a partial tile; with do_fsync the file is fsync'ed before the rename.
 * With d->version != 0 the version is compared with dir/<grid>/tilesrv-version and, when
 * it differs, recorded there with the current time: older files are then stale. NULL with
 * *err when the directory cannot be created or written. */
ts_cache *ts_cache_disk_open(const char *dir, ts_cache_layout layout, int do_fsync,
                             const ts_cache_desc *d, ts_err *err);

/* An MBTiles 1.3 file (SQLite, WAL): created when missing with the `map` + `images` schema
 * (identical tiles stored once) behind the standard `tiles` view, rows in TMS order, and
 * the metadata table filled from d (name, format, bounds, center, minzoom, maxzoom,
 * attribution, type, description; zooms and bounds widened to what the file already
 * holds). One writer connection behind a mutex; readers from a pool of connections. Only
 * WebMercatorQuad-like grids (EPSG:3857). NULL with *err on failure. */
ts_cache *ts_cache_mbtiles_open(const char *path, const ts_cache_desc *d, ts_err *err);

/* A Redis server shared by several tilesrv nodes. Tile (z, x, y) is the key
 * <prefix><name>/<grid>@<scale>x/<z>/<x>/<y>; its value a 32-byte header (mtime, data
 * version, length, CRC-32) and the tile's bytes, so a damaged value is found on read. The
 * tiles of one put are one MULTI/EXEC transaction. It has the cross-node render lock
 * (ts_cache_lock). Connections come from a pool; while Redis cannot be reached every call
 * fails with TS_EIO within the timeout (a new connect is tried at most once a second), and
 * it works again by itself once Redis answers. Opening does not need Redis to be up. */
typedef struct ts_cache_redis_opts {
    const char *url;           /* redis://[[user]:password@]host[:port][/db]; NULL =
                                * redis://127.0.0.1:6379/0 */
    const char *prefix;        /* start of every key; NULL = "tilesrv:" */
    int ttl_s;                 /* keys expire after this many seconds (SET EX); 0 = never */
    int lock_timeout_s;        /* render lock expiry and the longest wait for it; 0 = 30 */
    int timeout_ms;            /* connect and command timeout; 0 = 2000 */
} ts_cache_redis_opts;

/* NULL with *err (TS_ECONFIG) when the URL is malformed. */
ts_cache *ts_cache_redis_open(const ts_cache_redis_opts *o, const ts_cache_desc *d, ts_err *err);


/* Levels stacked, fastest first: a get tries each level in turn and copies a fresh hit
 * into the levels above it; a put writes every level. Takes a reference on each level.
 * NULL on out-of-memory. */
ts_cache *ts_cache_tiered_open(ts_cache *const *levels, int n);

ts_cache *ts_cache_ref(ts_cache *c);
/* Drop a reference; the last one closes the back-end. NULL is accepted. */
void ts_cache_unref(ts_cache *c);
/* "memory", "disk", "mbtiles", "redis" or "tiered". */
const char *ts_cache_kind(const ts_cache *c);

/* The tile at (z, x, y) with a new reference (caller unrefs) in *out, and its info (info
 * may be NULL). TS_ENOENT on a miss or a corrupt entry (deleted), TS_EIO on a read error. */
ts_status ts_cache_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out,
                       ts_cache_info *info, ts_err *err);
/* Whether (z, x, y) is stored, without reading it: TS_OK with *info, or TS_ENOENT. */
ts_status ts_cache_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_info *info,
                        ts_err *err);
/* Store n tiles of level z (one transaction where the back-end has them). Each tile is
 * complete or absent afterwards. TS_EIO when the storage refuses (a full disk says
 * "no space left on device"); nothing partial is left behind. */
ts_status ts_cache_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err);
/* Remove (z, x, y); TS_OK also when it was absent. */
ts_status ts_cache_delete(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err);
/* Remove the tiles of level z with x0 <= x <= x1, y0 <= y <= y1 stored before older_than
 * (wall-clock seconds; 0 = whatever their age). *removed (may be NULL) counts them. */
ts_status ts_cache_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
                            int64_t older_than, uint64_t *removed, ts_err *err);
/* Make what was written durable (MBTiles: checkpoint the WAL). */
ts_status ts_cache_sync(ts_cache *c, ts_err *err);
void ts_cache_io_stats_get(ts_cache *c, ts_cache_io_stats *out);
/* *sum += *s counter by counter, or (sign < 0) -= (s an earlier reading of counters in
 * sum). */
void ts_cache_io_stats_add(ts_cache_io_stats *sum, const ts_cache_io_stats *s, int sign);

/* ---- cross-node render lock ----------------------------------------------------------------
 * For back-ends shared by several servers (Redis): before rendering a metatile whose tiles
 * miss, a node takes the lock named after the metatile; the others wait for its tiles. */

/* 1 when the file the cache opened was deleted or replaced since (an MBTiles file removed
 * to clear the cache while the server runs): its writes go nowhere any one can read, and
 * it should be opened anew. 0 for back-ends without such a file. A stat: call it seldom. */
int ts_cache_replaced(ts_cache *c);

/* How long a lock holds before it expires by itself (ms); 0 = the back-end has no lock. */
int ts_cache_lock_ms(const ts_cache *c);
/* Try to take the lock name: TS_OK (taken; token, at least 128 bytes, says by whom, for
 * ts_cache_unlock), TS_EBUSY (held by another), TS_EIO (the back-end cannot be reached),
 * TS_EINVAL (no lock in this back-end). Never waits for the lock. */
ts_status ts_cache_lock(ts_cache *c, const char *name, char *token, size_t size, ts_err *err);
/* Release the lock name if it is still held with token (an expired one taken by another
 * node meanwhile is left alone). */
ts_status ts_cache_unlock(ts_cache *c, const char *name, const char *token, ts_err *err);

/* 1 if the n bytes are a whole PNG: signature, IHDR first, chunk lengths that add up, every
 * chunk's CRC, IEND last and at the very end. 0 otherwise. */
int ts_cache_png_ok(const uint8_t *p, size_t n);

/* A 128-bit content identity of a tile (ETag plus a second hash) as 32 hex digits and a
 * NUL, written into id (at least 33 bytes): equal bytes give equal ids. */
void ts_tile_content_id(const ts_tile *t, char *id, size_t size);

#endif
