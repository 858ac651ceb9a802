/* cache/tile.c — refcounted encoded tiles. */
#include "cache/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_int.h"
#include "util/hash.h"

static uint64_t
content_hash_seeded(const uint8_t *p, size_t n, uint64_t seed)
{
    /* Four independent lanes of 8 bytes, so the multiplies of one 32-byte step overlap
     * (one lane chained the whole tile: ~5x slower); stable across runs and platforms of
     * one byte order. */
    uint64_t h[4] = {seed ^ n, seed ^ 0x243f6a8885a308d3ull, seed ^ 0x13198a2e03707344ull,
                     seed ^ 0xa4093822299f31d0ull};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t v;
            memcpy(&v, p + i + 8 * k, 8);
            h[k] = ts_hash_mix(h[k] ^ v);
        }
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        h[0] = ts_hash_mix(h[0] ^ v);
    }
    uint64_t v = 0;
    memcpy(&v, p + i, n - i);
    uint64_t r = ts_hash_mix(h[0] ^ v ^ 0x9e3779b97f4a7c15ull);
    for (int k = 1; k < 4; k++)
        r = ts_hash_mix(r ^ h[k]);
    return r;
}

static uint64_t
content_hash(const uint8_t *p, size_t n)
{
    return content_hash_seeded(p, n, TS_HASH_SEED);
}

ts_tile *
ts_tile_new(const uint8_t *data, size_t len, int64_t mtime)
{
    ts_tile *t = malloc(sizeof *t + len);
    if (t == NULL)
        return NULL;
    atomic_init(&t->refs, 1);
    memcpy(t->own, data, len);
    t->data = t->own;
    t->len = len;
    t->shared = 0;
    t->mtime = mtime;
    t->etag = content_hash(data, len);
    return t;
}

ts_tile *
ts_cache__tile_alloc(size_t len, int64_t mtime)
{
    ts_tile *t = malloc(sizeof *t + (len ? len : 1));
    if (t == NULL)
        return NULL;
    atomic_init(&t->refs, 1);
    t->data = t->own;
    t->len = len;
    t->shared = 0;
    t->mtime = mtime;
    t->etag = 0;
    return t;
}

void
ts_cache__tile_seal(ts_tile *t)
{
    t->etag = content_hash(t->data, t->len);
}

ts_tile *
ts_tile_new_shared(const uint8_t *data, size_t len, int64_t mtime)
{
    ts_tile *t = malloc(sizeof *t);
    if (t == NULL)
        return NULL;
    atomic_init(&t->refs, 1);
    t->data = data;
    t->len = len;
    t->shared = 1;
    t->mtime = mtime;
    t->etag = content_hash(data, len);
    return t;
}

ts_tile *
ts_tile_ref(ts_tile *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void
ts_tile_unref(ts_tile *t)
{
    if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        free(t);
}

void
ts_tile_etag_str(const ts_tile *t, char *buf, size_t size)
{
    if (size < 19) { /* too small: cut as snprintf would */
        char full[19];
        ts_tile_etag_str(t, full, sizeof full);
        if (size > 0) {
            memcpy(buf, full, size - 1);
            buf[size - 1] = '\0';
        }
        return;
    }
    static const char hex[] = "0123456789abcdef"; /* without printf: one per response */
    buf[0] = '"';
    for (int i = 0; i < 16; i++)
        buf[1 + i] = hex[(t->etag >> (60 - 4 * i)) & 15];
    buf[17] = '"';
    buf[18] = '\0';
}

void
ts_tile_content_id(const ts_tile *t, char *id, size_t size)
{
    /* A second, independently seeded hash next to the ETag: 128 bits, so distinct tiles
     * sharing an id (and one being served for the other) is out of reach. */
    uint64_t h2 = content_hash_seeded(t->data, t->len, 0x6a09e667f3bcc908ull);
    snprintf(id, size, "%016llx%016llx", (unsigned long long)t->etag, (unsigned long long)h2);
}
