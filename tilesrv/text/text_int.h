/* text/text_int.h — shared between the files of the text module; the only place (with
 * the module's .c files) that sees FreeType and HarfBuzz. */
#ifndef TS_TEXT_TEXT_INT_H
#define TS_TEXT_TEXT_INT_H

#include "text/text.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb.h>

#define TS_TEXT_FLATTEN_TOL 0.1 /* max distance of a flattened curve from the true one, px */
#define TS_TEXT_HALO_FLATTEN_TOL 0.25 /* the same for the outline a halo is stroked around:
                                       * the halo's edge lies its radius out, rounded by
                                       * the stroke's joins, and a third as many points
                                       * make it a third cheaper to draw */
#define TS_TEXT_MAX_BYTES 16384 /* longest string ts_text_shape accepts */
#define TS_TEXT_MAX_LINES 1024
#define TS_TEXT_MAX_SIZE_PX 2048.0

struct ts_font_catalog {
    ts_font_info *faces;
    int nfaces;
};

/* ---- a bounded LRU map: byte keys -> owned values ---------------------------------- */

typedef struct ts_text__lru_entry {
    struct ts_text__lru_entry *hnext;       /* hash chain */
    struct ts_text__lru_entry *prev, *next; /* recency list, most recent after the head */
    uint64_t hash;
    size_t cost; /* bytes charged to the map */
    void *val;
    uint32_t klen;
    unsigned char key[];
} ts_text__lru_entry;

typedef struct ts_text__lru {
    ts_text__lru_entry **buckets;
    size_t nbuckets; /* power of two, or 0 before the first put */
    size_t count;
    size_t bytes, max_bytes;
    ts_text__lru_entry head; /* sentinel of the recency list */
    void (*free_val)(void *val);
    uint64_t hits, misses;
} ts_text__lru;

void ts_text__lru_init(ts_text__lru *m, size_t max_bytes, void (*free_val)(void *));
/* Frees every entry (and its value). */
void ts_text__lru_fini(ts_text__lru *m);
/* The value under the key (now most recent), or NULL. */
void *ts_text__lru_get(ts_text__lru *m, const void *key, uint32_t klen, uint64_t hash);
/* Insert (the key must not be present). cost = the value's bytes. Returns 1 when the map
 * took the value (it frees it on eviction), 0 when it did not (too large, or out of
 * memory): the caller still owns it. May evict other entries. */
int ts_text__lru_put(ts_text__lru *m, const void *key, uint32_t klen, uint64_t hash, void *val,
                     size_t cost);
/* Evict least recently used entries until bytes <= max_bytes. */
void ts_text__lru_trim(ts_text__lru *m);

/* ---- the context ---------------------------------------------------------------------- */

/* A flattened glyph outline in pixels, y down, origin at the glyph origin. One block. */
typedef struct ts_text__outline {
    uint32_t npts, nrings;
    double x0, y0, x1, y1; /* bounds of the points; 0 when there are none */
    double *xy;            /* npts pairs, right after the struct */
    uint32_t *counts;      /* nrings, after xy */
} ts_text__outline;

typedef struct ts_text__face {
    FT_Face ft; /* NULL until opened */
    hb_font_t *hb;
    double upem;
    int failed; /* opening failed once; not retried */
} ts_text__face;

struct ts_text_ctx {
    const ts_font_catalog *cat;
    FT_Library ft;
    ts_text__face *faces; /* cat->nfaces */
    hb_buffer_t *buf;
    ts_text__lru glyphs;     /* key: face, gid, size in 1/64 px, halo -> ts_text__outline */
    ts_text__lru runs;       /* key: spec fields + string -> run (one reference) */
    ts_text__outline *spare; /* an outline the cache did not take, freed on the next lookup */
    /* scratch */
    double *xy;
    size_t xy_cap; /* doubles */
    char *str;
    size_t str_cap;
    unsigned char *key;
    size_t key_cap;
    ts_text_glyph *gl;
    size_t gl_cap;
};

/* The run behind a public ts_text_run. */
typedef struct ts_text__run {
    atomic_int refs;
    ts_text_run pub;
    ts_text_glyph g[];
} ts_text__run;

/* Open face i of the catalogue in t if needed. TS_OK or TS_EIO / TS_ENOMEM with *err. */
ts_status ts_text__face_open(ts_text_ctx *t, int i, ts_err *err);
/* The flattened outline of glyph gid of face at size64 (1/64 px), from the cache or
 * loaded now; valid until the next call on t. halo: flattened to TS_TEXT_HALO_FLATTEN_TOL
 * (for stroking a halo around), else TS_TEXT_FLATTEN_TOL. NULL with *err set on failure.
 * A glyph without an outline gives an outline of 0 points. */
const ts_text__outline *ts_text__glyph(ts_text_ctx *t, int face, uint32_t gid, int32_t size64,
                                       int halo, ts_err *err);
/* The outline of glyph gid's halo of radius64 / 64 px (> 0): the stroke (round joins)
 * around its outline (the coarse one for 1 px or more), in glyph space, to fill nonzero; cached
 * with the glyphs, computed with r's scratch when missing. Valid until the next call on t.
 * NULL with *err set on failure. */
const ts_text__outline *ts_text__halo(ts_text_ctx *t, ts_raster *r, int face, uint32_t gid,
                                      int32_t size64, int32_t radius64, ts_err *err);
/* Grow a scratch array to hold n elements of size sz. 0 or -1 on out-of-memory. */
int ts_text__grow(void **p, size_t *cap, size_t n, size_t sz);

#endif
