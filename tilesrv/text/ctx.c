/* text/ctx.c — the per-thread text context: FreeType library, faces opened on first use
 * with their HarfBuzz fonts, and the glyph outline cache (outlines loaded unscaled and
 * unhinted, flattened in pixel space). */
#include "text/text.h"
#include "text/text_int.h"

#include "util/hash.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include FT_OUTLINE_H

#define GLYPH_CACHE_BYTES (8u << 20)
#define RUN_CACHE_BYTES (8u << 20)

int
ts_text__grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * sz);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static void
free_outline(void *v)
{
    free(v);
}

static void
free_run(void *v)
{
    ts_text_run_release(v);
}

/* HarfBuzz initialises process-wide defaults lazily on first use (the default language
 * from the locale, the Unicode functions, the shaper list), published with its own atomics.
 * Done once here, before any context exists, so render threads only ever read them (and
 * ThreadSanitizer, which cannot see HarfBuzz's atomics, sees the ordering too). */
static void
hb_defaults_init(void)
{
    (void)hb_language_get_default();
    (void)hb_unicode_funcs_get_default();
    (void)hb_shape_list_shapers();
}

ts_text_ctx *
ts_text_ctx_new(const ts_font_catalog *cat, ts_err *err)
{
    static pthread_once_t hb_once = PTHREAD_ONCE_INIT;
    if (cat == NULL || cat->nfaces <= 0) {
        TS_FAIL(err, TS_EINVAL, "text context without a font catalogue");
        return NULL;
    }
    pthread_once(&hb_once, hb_defaults_init);
    ts_text_ctx *t = calloc(1, sizeof *t);
    if (t == NULL)
        goto nomem;
    t->cat = cat;
    ts_text__lru_init(&t->glyphs, GLYPH_CACHE_BYTES, free_outline);
    ts_text__lru_init(&t->runs, RUN_CACHE_BYTES, free_run);
    t->faces = calloc((size_t)cat->nfaces, sizeof *t->faces);
    if (t->faces == NULL)
        goto nomem;
    if (FT_Init_FreeType(&t->ft) != 0) {
        t->ft = NULL;
        goto nomem;
    }
    t->buf = hb_buffer_create();
    if (!hb_buffer_allocation_successful(t->buf))
        goto nomem;
    return t;

nomem:
    TS_FAIL(err, TS_ENOMEM, "out of memory creating a text context");
    ts_text_ctx_free(t);
    return NULL;
}

void
ts_text_ctx_free(ts_text_ctx *t)
{
    if (t == NULL)
        return;
    ts_text__lru_fini(&t->glyphs);
    ts_text__lru_fini(&t->runs);
    free(t->spare);
    if (t->faces) {
        for (int i = 0; i < t->cat->nfaces; i++) {
            if (t->faces[i].hb)
                hb_font_destroy(t->faces[i].hb);
            if (t->faces[i].ft)
                FT_Done_Face(t->faces[i].ft);
        }
        free(t->faces);
    }
    if (t->buf)
        hb_buffer_destroy(t->buf);
    if (t->ft)
        FT_Done_FreeType(t->ft);
    free(t->xy);
    free(t->str);
    free(t->key);
    free(t->gl);
    free(t);
}

void
ts_text_ctx_set_cache_limits(ts_text_ctx *t, size_t glyph_bytes, size_t run_bytes)
{
    if (glyph_bytes)
        t->glyphs.max_bytes = glyph_bytes;
    if (run_bytes)
        t->runs.max_bytes = run_bytes;
    ts_text__lru_trim(&t->glyphs);
    ts_text__lru_trim(&t->runs);
}

void
ts_text_ctx_stats(const ts_text_ctx *t, ts_text_stats *out)
{
    memset(out, 0, sizeof *out);
    out->glyph_bytes = t->glyphs.bytes;
    out->glyph_entries = t->glyphs.count;
    out->run_bytes = t->runs.bytes;
    out->run_entries = t->runs.count;
    out->glyph_hits = t->glyphs.hits;
    out->glyph_misses = t->glyphs.misses;
    out->run_hits = t->runs.hits;
    out->run_misses = t->runs.misses;
}

ts_status
ts_text__face_open(ts_text_ctx *t, int i, ts_err *err)
{
    ts_text__face *f = &t->faces[i];
    if (f->ft != NULL)
        return TS_OK;
    const ts_font_info *fi = &t->cat->faces[i];
    if (f->failed)
        return TS_FAIL(err, TS_EIO, "font %s (face %d) cannot be opened", fi->path, fi->index);
    FT_Face face = NULL;
    hb_blob_t *blob = NULL;
    hb_face_t *hface = NULL;
    hb_font_t *font = NULL;
    if (FT_New_Face(t->ft, fi->path, fi->index, &face) != 0 || face->units_per_EM == 0)
        goto fail;
    blob = hb_blob_create_from_file_or_fail(fi->path);
    if (blob == NULL)
        goto fail;
    hface = hb_face_create(blob, (unsigned)fi->index);
    hb_blob_destroy(blob);
    font = hb_font_create(hface); /* scale = units per em: positions in font units */
    hb_face_destroy(hface);
    if (font == hb_font_get_empty())
        goto fail;
    f->ft = face;
    f->hb = font;
    f->upem = face->units_per_EM;
    return TS_OK;

fail:
    if (font != NULL)
        hb_font_destroy(font);
    if (face != NULL)
        FT_Done_Face(face);
    f->failed = 1;
    return TS_FAIL(err, TS_EIO, "font %s (face %d) cannot be opened", fi->path, fi->index);
}

/* ---- outlines --------------------------------------------------------------------- */

typedef struct builder {
    double *xy;
    size_t n, cap; /* points, capacity in points */
    uint32_t *counts;
    size_t nr, capr;
    size_t ring0;  /* first point of the open ring */
    double scale;  /* font units -> px */
    double tol;    /* px: the flattening's largest error */
    double cx, cy; /* current point, px */
    int oom;
} builder;

static void
add_pt(builder *b, double x, double y)
{
    if (b->n > b->ring0 && b->xy[2 * b->n - 2] == x && b->xy[2 * b->n - 1] == y)
        return; /* no zero-length segments */
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        double *xy = realloc(b->xy, cap * 2 * sizeof *xy);
        if (xy == NULL) {
            b->oom = 1;
            return;
        }
        b->xy = xy;
        b->cap = cap;
    }
    b->xy[2 * b->n] = x;
    b->xy[2 * b->n + 1] = y;
    b->n++;
}

static void
close_ring(builder *b)
{
    /* the contour's closing point repeats its first: rings do not repeat it */
    while (b->n > b->ring0 + 1 && b->xy[2 * b->n - 2] == b->xy[2 * b->ring0] &&
           b->xy[2 * b->n - 1] == b->xy[2 * b->ring0 + 1])
        b->n--;
    size_t k = b->n - b->ring0;
    if (k < 3) { /* no area */
        b->n = b->ring0;
        return;
    }
    if (b->nr == b->capr) {
        size_t cap = b->capr ? 2 * b->capr : 16;
        uint32_t *c = realloc(b->counts, cap * sizeof *c);
        if (c == NULL) {
            b->oom = 1;
            return;
        }
        b->counts = c;
        b->capr = cap;
    }
    b->counts[b->nr++] = (uint32_t)k;
    b->ring0 = b->n;
}

static int
cb_move(const FT_Vector *to, void *user)
{
    builder *b = user;
    if (b->n > b->ring0)
        close_ring(b);
    b->ring0 = b->n;
    b->cx = to->x * b->scale;
    b->cy = -to->y * b->scale;
    add_pt(b, b->cx, b->cy);
    return b->oom;
}

static int
cb_line(const FT_Vector *to, void *user)
{
    builder *b = user;
    b->cx = to->x * b->scale;
    b->cy = -to->y * b->scale;
    add_pt(b, b->cx, b->cy);
    return b->oom;
}

/* Segments for a curve whose second differences have length dd (px) and whose chord
 * error over a t-interval h is at most k * dd * h^2: the least n with error <= tol. */
static int
nsegs(double dd, double k, double tol)
{
    double n = ceil(sqrt(k * dd / tol));
    return n < 1 ? 1 : n > 100 ? 100 : (int)n;
}

static int
cb_conic(const FT_Vector *c, const FT_Vector *to, void *user)
{
    builder *b = user;
    double x0 = b->cx, y0 = b->cy;
    double x1 = c->x * b->scale, y1 = -c->y * b->scale;
    double x2 = to->x * b->scale, y2 = -to->y * b->scale;
    /* B'' = 2 (p0 - 2 p1 + p2); chord error <= |B''| h^2 / 8 = |d| h^2 / 4 */
    int n = nsegs(hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2), 0.25, b->tol);
    for (int i = 1; i < n; i++) {
        double s = (double)i / n, u = 1 - s;
        add_pt(b, u * u * x0 + 2 * u * s * x1 + s * s * x2,
               u * u * y0 + 2 * u * s * y1 + s * s * y2);
    }
    add_pt(b, x2, y2);
    b->cx = x2;
    b->cy = y2;
    return b->oom;
}

static int
cb_cubic(const FT_Vector *c1, const FT_Vector *c2, const FT_Vector *to, void *user)
{
    builder *b = user;
    double x0 = b->cx, y0 = b->cy;
    double x1 = c1->x * b->scale, y1 = -c1->y * b->scale;
    double x2 = c2->x * b->scale, y2 = -c2->y * b->scale;
    double x3 = to->x * b->scale, y3 = -to->y * b->scale;
    /* |B''| <= 6 max(|p0 - 2 p1 + p2|, |p1 - 2 p2 + p3|); chord error <= |B''| h^2 / 8 */
    double d1 = hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2);
    double d2 = hypot(x1 - 2 * x2 + x3, y1 - 2 * y2 + y3);
    int n = nsegs(d1 > d2 ? d1 : d2, 0.75, b->tol);
    for (int i = 1; i < n; i++) {
        double s = (double)i / n, u = 1 - s;
        double a = u * u * u, bb = 3 * u * u * s, cc = 3 * u * s * s, d = s * s * s;
        add_pt(b, a * x0 + bb * x1 + cc * x2 + d * x3, a * y0 + bb * y1 + cc * y2 + d * y3);
    }
    add_pt(b, x3, y3);
    b->cx = x3;
    b->cy = y3;
    return b->oom;
}

/* A new outline block holding n points (xy pairs) in nr rings (counts), with its bounds;
 * NULL on out-of-memory. */
static ts_text__outline *
outline_block(const double *xy, size_t n, const uint32_t *counts, size_t nr)
{
    ts_text__outline *o = malloc(sizeof *o + n * 2 * sizeof(double) + nr * sizeof(uint32_t));
    if (o == NULL)
        return NULL;
    o->npts = (uint32_t)n;
    o->nrings = (uint32_t)nr;
    o->xy = (double *)(o + 1);
    o->counts = (uint32_t *)(o->xy + 2 * n);
    if (n)
        memcpy(o->xy, xy, n * 2 * sizeof(double));
    if (nr)
        memcpy(o->counts, counts, nr * sizeof(uint32_t));
    o->x0 = o->y0 = o->x1 = o->y1 = 0;
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (i == 0 || x < o->x0)
            o->x0 = x;
        if (i == 0 || x > o->x1)
            o->x1 = x;
        if (i == 0 || y < o->y0)
            o->y0 = y;
        if (i == 0 || y > o->y1)
            o->y1 = y;
    }
    return o;
}

/* Load and flatten: a new outline block, or NULL (out of memory or a FreeType error). */
static ts_text__outline *
load_outline(ts_text_ctx *t, int face, uint32_t gid, int32_t size64, double tol, ts_status *st)
{
    ts_text__face *f = &t->faces[face];
    builder b = {0};
    b.scale = size64 / 64.0 / f->upem;
    b.tol = tol;
    *st = TS_OK;
    if (FT_Load_Glyph(f->ft, gid, FT_LOAD_NO_SCALE | FT_LOAD_NO_BITMAP) == 0 &&
        f->ft->glyph->format == FT_GLYPH_FORMAT_OUTLINE) {
        static const FT_Outline_Funcs funcs = {cb_move, cb_line, cb_conic, cb_cubic, 0, 0};
        if (FT_Outline_Decompose(&f->ft->glyph->outline, &funcs, &b) != 0 && !b.oom)
            b.n = b.nr = 0; /* a broken outline draws nothing */
        else if (b.n > b.ring0)
            close_ring(&b);
    }
    ts_text__outline *o = b.oom ? NULL : outline_block(b.xy, b.n, b.counts, b.nr);
    if (o == NULL)
        *st = TS_ENOMEM;
    free(b.xy);
    free(b.counts);
    return o;
}

/* The glyph cache's key of an outline: face, glyph, size in 1/64 px and kind (0: the glyph
 * flattened finely, 1: coarsely, 2 + r: its halo of radius r / 64 px); returns its hash. */
static uint64_t
outline_key(int32_t key[4], int face, uint32_t gid, int32_t size64, int32_t kind)
{
    key[0] = face;
    key[1] = (int32_t)gid;
    key[2] = size64;
    key[3] = kind;
    return ts_hash_mix(((uint64_t)(uint32_t)face << 48) ^ ((uint64_t)gid << 20) ^
                       (uint64_t)(uint32_t)size64 ^ (uint64_t)(uint32_t)kind << 40);
}

/* Hand outline o to the glyph cache under key (hash h); one the cache does not take is
 * kept as t->spare until the next lookup. */
static void
cache_outline(ts_text_ctx *t, const int32_t key[4], uint64_t h, ts_text__outline *o)
{
    size_t cost = sizeof *o + (size_t)o->npts * 2 * sizeof(double) + o->nrings * sizeof(uint32_t);
    if (!ts_text__lru_put(&t->glyphs, key, 4 * sizeof *key, h, o, cost))
        t->spare = o;
}

const ts_text__outline *
ts_text__glyph(ts_text_ctx *t, int face, uint32_t gid, int32_t size64, int halo, ts_err *err)
{
    free(t->spare);
    t->spare = NULL;
    int32_t key[4];
    uint64_t h = outline_key(key, face, gid, size64, halo != 0);
    ts_text__outline *o = ts_text__lru_get(&t->glyphs, key, sizeof key, h);
    if (o != NULL)
        return o;
    if (face < 0 || face >= t->cat->nfaces) {
        TS_FAIL(err, TS_EINVAL, "face %d not in the catalogue", face);
        return NULL;
    }
    if (ts_text__face_open(t, face, err) != TS_OK)
        return NULL;
    ts_status st;
    o = load_outline(t, face, gid, size64, halo ? TS_TEXT_HALO_FLATTEN_TOL : TS_TEXT_FLATTEN_TOL,
                     &st);
    if (o == NULL) {
        TS_FAIL(err, st, "out of memory loading glyph %u", (unsigned)gid);
        return NULL;
    }
    cache_outline(t, key, h, o);
    return o;
}

const ts_text__outline *
ts_text__halo(ts_text_ctx *t, ts_raster *r, int face, uint32_t gid, int32_t size64,
              int32_t radius64, ts_err *err)
{
    int32_t key[4];
    uint64_t h = outline_key(key, face, gid, size64, 2 + radius64);
    free(t->spare);
    t->spare = NULL;
    ts_text__outline *o = ts_text__lru_get(&t->glyphs, key, sizeof key, h);
    if (o != NULL)
        return o;
    /* the coarse outline strays up to 1/4 px from the glyph: a halo of 1 px or more still
     * meets the fill everywhere */
    const ts_text__outline *g = ts_text__glyph(t, face, gid, size64, radius64 >= 64, err);
    if (g == NULL)
        return NULL;
    ts_parts parts = {g->xy, g->counts, g->nrings};
    ts_stroke s = {0};
    s.width = 2 * (radius64 / 64.0);
    s.join = TS_JOIN_ROUND;
    s.cap = TS_CAP_ROUND;
    const double *xy = NULL;
    const uint32_t *counts = NULL;
    uint32_t nc = 0;
    ts_status st = ts_raster_stroke_outline(r, &parts, 1, &s, &xy, &counts, &nc);
    if (st != TS_OK) {
        TS_FAIL(err, st, "stroking the halo of glyph %u", (unsigned)gid);
        return NULL;
    }
    size_t n = 0;
    for (uint32_t k = 0; k < nc; k++)
        n += counts[k];
    o = outline_block(xy, n, counts, nc);
    if (o == NULL) {
        TS_FAIL(err, TS_ENOMEM, "out of memory stroking a halo");
        return NULL;
    }
    free(t->spare); /* ts_text__glyph may have left one: g is not used any more */
    t->spare = NULL;
    cache_outline(t, key, h, o);
    return o;
}
