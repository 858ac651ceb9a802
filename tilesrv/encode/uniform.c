/* encode/uniform.c — regions whose pixels are all equal (empty overlay tiles, open water,
 * background-only tiles) are answered from PNGs encoded once per process. The table is
 * a fixed array of slots filled by compare-and-swap and never emptied: readers take no
 * lock, an entry is immutable once published, and two threads racing on the same key
 * both encode but only one copy is kept. */
#include "encode/encode.h"
#include "encode/encode_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define USLOTS 256                /* entries the process keeps, power of two */
#define UMAX_PIXELS (4096 * 4096) /* larger uniform images are encoded per call */

typedef struct uentry {
    uint32_t px;
    int w, h;
    ts_png_mode mode;
    size_t len;
    uint8_t data[];
} uentry;

static _Atomic(uentry *) table[USLOTS];

int
ts_region_uniform(const ts_canvas *c, int x0, int y0, int w, int h, uint32_t *px)
{
    if (c == NULL || c->px == NULL || w < 1 || h < 1 || x0 < 0 || y0 < 0 || x0 > c->w - w ||
        y0 > c->h - h)
        return 0;
    const uint32_t *r0 = c->px + (size_t)y0 * (size_t)c->stride + (size_t)x0;
    uint32_t v = r0[0];
    for (int j = 0; j < h; j++)
        if (!ts_encode__row_equal(r0 + (size_t)j * (size_t)c->stride, w, v))
            return 0;
    if (px)
        *px = v;
    return 1;
}

static int
same(const uentry *e, uint32_t px, int w, int h, ts_png_mode mode)
{
    return e->px == px && e->w == w && e->h == h && e->mode == mode;
}

/* Encode the uniform image once, at the highest zlib level: it is served many times. */
static uentry *
make_entry(uint32_t px, int w, int h, ts_png_mode mode)
{
    uint32_t *row = malloc((size_t)w * sizeof *row);
    if (row == NULL)
        return NULL;
    for (int i = 0; i < w; i++)
        row[i] = px;
    ts_canvas c = {.w = w, .h = h, .stride = 0, .px = row, .owns = 0}; /* every row = row */
    ts_encode__tuning t = {12};
    ts_buf b;
    ts_buf_init(&b, (size_t)64 << 20);
    ts_status st = ts_encode__png(&c, 0, 0, w, h, mode, 256, &t, &b, NULL);
    free(row);
    if (st != TS_OK)
        return NULL;
    uentry *e = malloc(sizeof *e + b.len);
    if (e != NULL) {
        e->px = px;
        e->w = w;
        e->h = h;
        e->mode = mode;
        e->len = b.len;
        memcpy(e->data, b.data, b.len);
    }
    ts_buf_fini(&b);
    return e;
}

const uint8_t *
ts_png_uniform(uint32_t px, int w, int h, ts_png_mode mode, size_t *len)
{
    if (w < 1 || h < 1 || w > 32768 || h > 32768 || (int64_t)w * h > UMAX_PIXELS ||
        (mode != TS_PNG_TRUECOLOR && mode != TS_PNG_PALETTE))
        return NULL;
    uint64_t key = ((uint64_t)px << 32) ^ ((uint64_t)(uint32_t)w << 16) ^ (uint64_t)(uint32_t)h ^
                   ((uint64_t)mode << 63);
    size_t start = (size_t)(ts_hash_mix(key) & (USLOTS - 1));
    uentry *mine = NULL;
    for (size_t k = 0; k < USLOTS; k++) {
        _Atomic(uentry *) *slot = &table[(start + k) & (USLOTS - 1)];
        uentry *e = atomic_load_explicit(slot, memory_order_acquire);
        if (e == NULL) {
            if (mine == NULL) {
                mine = make_entry(px, w, h, mode);
                if (mine == NULL)
                    return NULL;
            }
            uentry *expect = NULL;
            if (atomic_compare_exchange_strong_explicit(slot, &expect, mine, memory_order_acq_rel,
                                                        memory_order_acquire)) {
                if (len)
                    *len = mine->len;
                return mine->data;
            }
            e = expect; /* another thread filled this slot first */
        }
        if (same(e, px, w, h, mode)) {
            free(mine);
            if (len)
                *len = e->len;
            return e->data;
        }
    }
    free(mine); /* table full */
    return NULL;
}
