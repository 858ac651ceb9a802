/* cache/cache_int.h — private to the cache module: the back-end ops table and the common
 * part of every back-end (reference count, description, counters). backend.c dispatches
 * through the table, checks PNGs and turns (mtime, version) into freshness; memory.c,
 * disk.c, mbtiles.c and tiered.c implement it. */
#ifndef TS_CACHE_CACHE_INT_H
#define TS_CACHE_CACHE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "cache/cache.h"

/* What a back-end reports about one stored entry; backend.c derives ts_cache_info. */
typedef struct ts_cache_entry {
    int64_t mtime_ns;          /* wall-clock nanoseconds when stored */
    int version_ok;            /* 1: stored for the current data version */
    int stale;                 /* tiered: the level's verdict (others leave 0) */
} ts_cache_entry;

typedef struct ts_cache_ops {
    const char *kind;
    /* The bytes of (z, x, y) as a new tile in *out, not yet checked; TS_ENOENT on a miss. */
    ts_status (*get)(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out,
                     ts_cache_entry *e, ts_err *err);
    ts_status (*stat)(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_entry *e,
                      ts_err *err);
    ts_status (*put)(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err);
    ts_status (*del)(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err);
    ts_status (*truncate)(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
                          int64_t older_than, uint64_t *removed, ts_err *err);
    ts_status (*sync)(ts_cache *c, ts_err *err);  /* NULL: nothing to do */
    void (*close)(ts_cache *c);                  /* frees the back-end's own part */
    void (*stats)(ts_cache *c, ts_cache_io_stats *out); /* NULL: the common counters */
    /* Cross-node render lock (shared back-ends: Redis); NULL elsewhere. */
    ts_status (*lock)(ts_cache *c, const char *name, char *token, size_t size, ts_err *err);
    ts_status (*unlock)(ts_cache *c, const char *name, const char *token, ts_err *err);
    /* 1 when the storage at the cache's path is no longer what was opened (the file was
     * deleted or replaced); NULL: never. Cheap (a stat). */
    int (*replaced)(ts_cache *c);
    int checks_png;            /* 1: bytes come from storage and are checked on read */
    int judges_freshness;      /* 1: get/stat set ts_cache_entry.stale themselves (tiered) */
} ts_cache_ops;

/* The first member of every back-end's struct. */
struct ts_cache {
    const ts_cache_ops *ops;
    atomic_int refs;
    char name[64];
    char format[16];
    int scale;
    ts_grid grid;
    int minzoom, maxzoom;
    double bounds[4];
    uint64_t version;
    int64_t expire_s;
    int lock_ms;               /* expiry of the render lock; 0 = the back-end has none */
    /* counters, updated with relaxed atomics */
    atomic_ullong gets, hits, misses, stale, corrupt, puts, put_errors, bytes_written,
        read_errors;
};

/* The header of a Redis value: "TSR1", 4 reserved zero bytes, mtime (ns), data version,
 * length and CRC-32 of the tile bytes that follow, little-endian. */
#define TS_CACHE_REDIS_HDR 32

/* Write the header of a value holding the len bytes at data into hdr[TS_CACHE_REDIS_HDR]. */
void ts_cache__redis_value_encode(uint8_t *hdr, const uint8_t *data, size_t len,
                                  int64_t mtime_ns, uint64_t version);
/* Check the value v of n bytes: magic, and with check_data the length and CRC of the bytes
 * after the header (without it, v may be the header alone). 0 with *mtime_ns and *version,
 * or -1 when it is damaged. */
int ts_cache__redis_value_decode(const uint8_t *v, size_t n, int check_data, int64_t *mtime_ns,
                                 uint64_t *version);

/* Fill the common part from d (d may be NULL for views and stacks). */
void ts_cache__init(ts_cache *c, const ts_cache_ops *ops, const ts_cache_desc *d);

/* The row of tile y at level z counted from the bottom (TMS, MBTiles). */
static inline uint32_t
ts_cache__flip_y(const ts_cache *c, int z, uint32_t y)
{
    return c->grid.levels[z].matrix_h - 1 - y;
}

/* A tile of len bytes to be filled in place at t->own (refs = 1, ETag not yet computed);
 * ts_cache__tile_seal computes the ETag once the bytes are in. NULL on out-of-memory. */
ts_tile *ts_cache__tile_alloc(size_t len, int64_t mtime);
void ts_cache__tile_seal(ts_tile *t);

/* mkdir -p: path and every directory above it. 0, or -1 with errno. */
int ts_cache__make_dirs(const char *path);

/* Wall-clock nanoseconds. */
int64_t ts_cache__now_ns(void);

/* "message: <errno text>" into *err as TS_EIO; ENOSPC, EDQUOT and EFBIG say that the
 * storage is full. Returns TS_EIO. Use through TS_CACHE_ERRNO. */
ts_status ts_cache__errno_at(ts_err *err, const char *func, int line, int e, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define TS_CACHE_ERRNO(err, e, ...) ts_cache__errno_at((err), __func__, __LINE__, (e), __VA_ARGS__)

#endif
