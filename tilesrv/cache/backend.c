/* cache/backend.c — the calls every back-end shares: dispatch through the ops table,
 * counters, freshness (data version and expiry), and the PNG check that keeps a damaged
 * entry from ever being served. */
#include "cache/cache.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "cache/cache_int.h"
#include "util/log.h"

#define INC(field) atomic_fetch_add_explicit(&(field), 1, memory_order_relaxed)

void
ts_cache__init(ts_cache *c, const ts_cache_ops *ops, const ts_cache_desc *d)
{
    c->ops = ops;
    atomic_init(&c->refs, 1);
    atomic_init(&c->gets, 0);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->stale, 0);
    atomic_init(&c->corrupt, 0);
    atomic_init(&c->puts, 0);
    atomic_init(&c->put_errors, 0);
    atomic_init(&c->bytes_written, 0);
    atomic_init(&c->read_errors, 0);
    c->lock_ms = 0;
    c->scale = 1;
    snprintf(c->format, sizeof c->format, "png");
    if (d == NULL)
        return;
    snprintf(c->name, sizeof c->name, "%s", d->name ? d->name : "tiles");
    if (d->format)
        snprintf(c->format, sizeof c->format, "%s", d->format);
    c->scale = d->scale == 2 ? 2 : 1;
    if (d->grid)
        c->grid = *d->grid;
    c->minzoom = d->minzoom;
    c->maxzoom = d->maxzoom;
    memcpy(c->bounds, d->bounds, sizeof c->bounds);
    c->version = d->version;
    c->expire_s = d->expire_s;
}

int64_t
ts_cache__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ts_status
ts_cache__errno_at(ts_err *err, const char *func, int line, int e, const char *fmt, ...)
{
    char what[384], etext[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (strerror_r(e, etext, sizeof etext) != 0)
        snprintf(etext, sizeof etext, "error %d", e);
    int full = e == ENOSPC || e == EFBIG
#ifdef EDQUOT
               || e == EDQUOT
#endif
        ;
    return ts_err_set(err, TS_EIO, func, line, "%s: %s%s", what, etext,
                      full ? " (the cache storage is full)" : "");
}

int
ts_cache_layout_parse(const char *s)
{
    if (s == NULL || strcmp(s, "xyz") == 0)
        return TS_CACHE_LAYOUT_XYZ;
    if (strcmp(s, "tc") == 0)
        return TS_CACHE_LAYOUT_TC;
    if (strcmp(s, "tms") == 0)
        return TS_CACHE_LAYOUT_TMS;
    return -1;
}

ts_cache *
ts_cache_ref(ts_cache *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void
ts_cache_unref(ts_cache *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        c->ops->close(c);
}

const char *
ts_cache_kind(const ts_cache *c)
{
    return c->ops->kind;
}

/* Tile coordinates the cache can address: inside its grid (when it has one). */
static ts_status
check_coords(const ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    if (c->grid.nlevels > 0 && !ts_grid_tile_valid(&c->grid, z, x, y))
        return TS_FAIL(err, TS_EINVAL, "tile %d/%u/%u is outside grid %s", z, x, y,
                       c->grid.name);
    return TS_OK;
}

void
ts_cache_set_expire(ts_cache *c, int64_t expire_s)
{
    c->expire_s = expire_s > 0 ? expire_s : 0;
}

static int
is_stale(const ts_cache *c, const ts_cache_entry *e)
{
    if (c->ops->judges_freshness)
        return e->stale;
    if (!e->version_ok)
        return 1;
    if (c->expire_s <= 0 || c->expire_s > INT64_MAX / 1000000000)
        return 0;
    /* compared this way round: a stored mtime (from a file, any value) cannot overflow */
    return e->mtime_ns < ts_cache__now_ns() - c->expire_s * 1000000000;
}

static void
fill_info(const ts_cache *c, const ts_cache_entry *e, ts_cache_info *info)
{
    if (info) {
        info->mtime = e->mtime_ns / 1000000000;
        info->stale = is_stale(c, e);
    }
}

ts_status
ts_cache_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out, ts_cache_info *info,
             ts_err *err)
{
    *out = NULL;
    TS_TRY(check_coords(c, z, x, y, err));
    INC(c->gets);
    ts_cache_entry e = {0, 1, 0};
    ts_tile *t = NULL;
    ts_status st = c->ops->get(c, z, x, y, &t, &e, err);
    if (st == TS_ENOENT) {
        INC(c->misses);
        return st;
    }
    if (st != TS_OK) {
        INC(c->read_errors);
        return st;
    }
    if (c->ops->checks_png && strcmp(c->format, "png") == 0 && !ts_cache_png_ok(t->data, t->len)) {
        ts_tile_unref(t);
        INC(c->corrupt);
        INC(c->misses);
        ts_err derr;
        ts_err_clear(&derr);
        if (c->ops->del(c, z, x, y, &derr) != TS_OK)
            ts_warn("cache %s (%s): corrupt tile %d/%u/%u could not be deleted: %s", c->name,
                    c->ops->kind, z, x, y, derr.msg);
        else
            ts_warn("cache %s (%s): tile %d/%u/%u was damaged (not a whole PNG); deleted",
                    c->name, c->ops->kind, z, x, y);
        return TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u was damaged and has been deleted", z, x, y);
    }
    INC(c->hits);
    if (is_stale(c, &e))
        INC(c->stale);
    fill_info(c, &e, info);
    *out = t;
    return TS_OK;
}

ts_status
ts_cache_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_info *info, ts_err *err)
{
    TS_TRY(check_coords(c, z, x, y, err));
    ts_cache_entry e = {0, 1, 0};
    ts_status st = c->ops->stat(c, z, x, y, &e, err);
    if (st == TS_OK)
        fill_info(c, &e, info);
    return st;
}

ts_status
ts_cache_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err)
{
    if (n <= 0)
        return TS_OK;
    for (int i = 0; i < n; i++)
        TS_TRY(check_coords(c, z, items[i].x, items[i].y, err));
    ts_status st = c->ops->put(c, z, items, n, err);
    if (st == TS_OK) {
        size_t bytes = 0;
        for (int i = 0; i < n; i++)
            bytes += items[i].tile->len;
        atomic_fetch_add_explicit(&c->puts, (unsigned long long)n, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->bytes_written, bytes, memory_order_relaxed);
    } else {
        INC(c->put_errors);
    }
    return st;
}

ts_status
ts_cache_delete(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    TS_TRY(check_coords(c, z, x, y, err));
    return c->ops->del(c, z, x, y, err);
}

ts_status
ts_cache_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
                  int64_t older_than, uint64_t *removed, ts_err *err)
{
    uint64_t n = 0;
    if (c->grid.nlevels > 0) {
        if (z < 0 || z >= c->grid.nlevels)
            return TS_FAIL(err, TS_EINVAL, "level %d is outside grid %s", z, c->grid.name);
        const ts_tile_matrix *m = &c->grid.levels[z];
        if (x1 >= m->matrix_w)
            x1 = m->matrix_w - 1;
        if (y1 >= m->matrix_h)
            y1 = m->matrix_h - 1;
    }
    ts_status st = TS_OK;
    if (x0 <= x1 && y0 <= y1)
        st = c->ops->truncate(c, z, x0, y0, x1, y1, older_than, &n, err);
    if (removed)
        *removed = n;
    return st;
}

ts_status
ts_cache_sync(ts_cache *c, ts_err *err)
{
    return c->ops->sync ? c->ops->sync(c, err) : TS_OK;
}

int
ts_cache_replaced(ts_cache *c)
{
    return c != NULL && c->ops->replaced != NULL && c->ops->replaced(c);
}

int
ts_cache_lock_ms(const ts_cache *c)
{
    return c->ops->lock ? c->lock_ms : 0;
}

ts_status
ts_cache_lock(ts_cache *c, const char *name, char *token, size_t size, ts_err *err)
{
    if (c->ops->lock == NULL)
        return TS_FAIL(err, TS_EINVAL, "cache %s (%s) has no render lock", c->name, c->ops->kind);
    return c->ops->lock(c, name, token, size, err);
}

ts_status
ts_cache_unlock(ts_cache *c, const char *name, const char *token, ts_err *err)
{
    if (c->ops->unlock == NULL)
        return TS_FAIL(err, TS_EINVAL, "cache %s (%s) has no render lock", c->name, c->ops->kind);
    return c->ops->unlock(c, name, token, err);
}

void
ts_cache_io_stats_add(ts_cache_io_stats *sum, const ts_cache_io_stats *s, int sign)
{
    uint64_t m = sign < 0 ? UINT64_MAX : 1; /* v * m: +v or -v (mod 2^64) */
    sum->gets += s->gets * m;
    sum->hits += s->hits * m;
    sum->misses += s->misses * m;
    sum->stale += s->stale * m;
    sum->corrupt += s->corrupt * m;
    sum->puts += s->puts * m;
    sum->put_errors += s->put_errors * m;
    sum->bytes_written += s->bytes_written * m;
    sum->read_errors += s->read_errors * m;
}

void
ts_cache_io_stats_get(ts_cache *c, ts_cache_io_stats *o)
{
    memset(o, 0, sizeof *o);
    if (c->ops->stats) {
        c->ops->stats(c, o);
        return;
    }
    o->gets = atomic_load(&c->gets);
    o->hits = atomic_load(&c->hits);
    o->misses = atomic_load(&c->misses);
    o->stale = atomic_load(&c->stale);
    o->corrupt = atomic_load(&c->corrupt);
    o->puts = atomic_load(&c->puts);
    o->put_errors = atomic_load(&c->put_errors);
    o->bytes_written = atomic_load(&c->bytes_written);
    o->read_errors = atomic_load(&c->read_errors);
}

/* mkdir -p of path (its every prefix). 0 or -1 with errno. */
int
ts_cache__make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    return 0;
}

/* ---- PNG check -------------------------------------------------------------------------- */

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
ts_cache_png_ok(const uint8_t *p, size_t n)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (p == NULL || n < 8 + 25 + 12 || memcmp(p, sig, 8) != 0)
        return 0;
    size_t off = 8;
    int first = 1;
    while (off + 12 <= n) {
        uint32_t len = be32(p + off);
        if (len > 0x7fffffffu || (size_t)len > n - off - 12)
            return 0;
        const uint8_t *type = p + off + 4;
        if (first && (memcmp(type, "IHDR", 4) != 0 || len != 13))
            return 0;
        first = 0;
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, type, (uInt)len + 4);
        if ((uint32_t)crc != be32(p + off + 8 + len))
            return 0;
        off += 12 + (size_t)len;
        if (memcmp(type, "IEND", 4) == 0)
            return off == n && len == 0;
    }
    return 0;
}
