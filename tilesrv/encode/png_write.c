/* encode/png_write.c — canvas region -> PNG bytes through libpng, written straight into
 * a ts_buf. Truecolour rows go to libpng as the canvas rows themselves whenever no
 * pixel needs un-premultiplying (opaque or fully transparent rows); only rows with
 * partial alpha are converted, into one per-thread row buffer. All libpng calls run in
 * one small function that owns the setjmp; its state lives in the caller's frame, so a
 * libpng error (out of memory, output limit) unwinds only libpng frames and every path
 * frees the png structs. */
#include "encode/encode.h"
#include "encode/encode_int.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

_Static_assert(TS_ENCODE__F_NONE == PNG_FILTER_NONE && TS_ENCODE__F_SUB == PNG_FILTER_SUB &&
                   TS_ENCODE__F_UP == PNG_FILTER_UP && TS_ENCODE__F_AVG == PNG_FILTER_AVG &&
                   TS_ENCODE__F_PAETH == PNG_FILTER_PAETH && TS_ENCODE__F_ALL == PNG_ALL_FILTERS,
               "filter masks match libpng");
_Static_assert(TS_ENCODE__Z_DEFAULT == Z_DEFAULT_STRATEGY && TS_ENCODE__Z_FILTERED == Z_FILTERED &&
                   TS_ENCODE__Z_HUFFMAN == Z_HUFFMAN_ONLY && TS_ENCODE__Z_RLE == Z_RLE,
               "strategies match zlib");

/* Default settings (zlevel = -1), chosen with bench_png (thread CPU time, best of 5
 * interleaved rounds; AMD EPYC 2.45 GHz (Zen 3, KVM, shared), gcc 12 -O2, libpng 1.6.39,
 * zlib 1.2.13). Tile sets: "peers" = 18 MapServer/Mapnik tiles of the peers' cadastral
 * map, z12..z18, opaque; "opaque" = 10 synthetic base maps; "alpha" = 8 synthetic
 * overlays on transparent ground. Size is relative to zlib level 6 with libpng's
 * adaptive filters (the usual default); ms per 256 px tile:
 *
 *   truecolour           peers             opaque            alpha
 *   6 default adaptive   8.35 ms  62.0 KB  4.52 ms  31.0 KB  5.81 ms  13.6 KB  (ref)
 *   1 default none       1.94     x0.90    1.17     x1.02    0.96     x0.90    <- default
 *   2 default none       2.11     x0.89    1.22     x1.00    1.14     x0.89
 *   3 default none       2.64     x0.87    1.47     x0.98    1.22     x0.88
 *   6 default none       5.57     x0.89    2.90     x0.98    3.01     x0.78
 *   9 default none      24.6      x0.87   17.2      x0.95   10.9      x0.73
 *   1 default sub        2.54     x1.11    1.50     x1.20    1.35     x1.19
 *   1 default up         2.57     x1.15    1.43     x1.25    1.17     x1.19
 *   1 default paeth      2.84     x1.04    1.71     x1.11    1.88     x1.23
 *   1 default adaptive   3.85     x1.03    2.51     x1.09    2.50     x1.12
 *   1 rle none           2.52     x1.81    2.36     x2.85    1.26     x2.09
 *   1 rle sub            1.88     x1.30    1.28     x1.40    0.98     x1.00
 *   1 rle up             1.91     x1.32    1.21     x1.52    0.95     x1.01
 *   1 rle paeth          2.30     x1.09    1.51     x1.24    1.78     x1.04
 *   1 rle adaptive       3.26     x1.09    2.32     x1.22    3.25     x0.92
 *   Z_FILTERED: same size and speed as Z_DEFAULT_STRATEGY at levels 1-3 (deflate_fast
 *   ignores it), larger at 4-9.
 *
 * Filter NONE wins on map tiles: flat colours and repeated rows are exact repeats of
 * the raw bytes (matches at distance 3 or 4, or one row up), which filters turn into
 * differences that repeat less well around AA edges, and NONE costs no filter pass.
 * Level 1 (deflate_fast) is 4x faster than the reference and 10 % smaller on the peers'
 * tiles. Z_RLE with SUB/UP is as fast but 1.3-1.5x larger on opaque tiles. Time grows
 * with the output, ~30 KB per ms: z18 peers' tiles take 0.7 ms (15 KB), z13 3.4 ms
 * (110 KB), all of it in zlib (87 % of the samples in perf).
 *
 *   png8 (the quantiser, 0.9-1.7 ms on these sets, is part of every line)
 *   6 default none       4.42 ms  25.9 KB  2.65 ms  14.8 KB  1.68 ms  5.33 KB  (ref)
 *   1 rle none           2.84     x1.09    1.43     x1.11    1.12     x1.00    <- default
 *   1 default none       3.19     x1.07    1.63     x1.12    1.18     x1.13
 *   2 default none       2.56     x1.05    1.61     x1.09    1.20     x1.12
 *   1 rle sub            2.28     x1.24    1.47     x1.30    1.18     x1.22
 *   1 default adaptive   4.10     x1.24    2.17     x1.35    1.63     x1.40
 *   Levels 1-2 and Z_RLE are within the noise of each other in time (the quantiser
 *   dominates); Z_RLE + NONE is never more than 1.11x the reference and the smallest on
 *   the transparent overlays, whose long runs of one index are what it codes.
 *
 * An explicit zlevel keeps filter NONE and the default strategy (NONE was the smallest
 * at every level). */
ts_encode__tuning
ts_encode__default_tuning(ts_png_mode mode)
{
    ts_encode__tuning t;
    t.zlevel = 1;
    t.strategy = mode == TS_PNG_PALETTE ? TS_ENCODE__Z_RLE : TS_ENCODE__Z_DEFAULT;
    t.filters = TS_ENCODE__F_NONE;
    return t;
}

/* What one encode needs; lives in the frame of ts_encode__png, is written by the libpng
 * callbacks and read again after a longjmp. */
typedef struct wctx {
    png_structp png;
    png_infop info;
    ts_buf *out;
    ts_status st;  /* failure kind recorded by a callback */
    char msg[160]; /* libpng's error message */
    const ts_canvas *c;
    int x0, y0, w, h;
    ts_encode__tuning t;
    ts_png_mode mode;
    int opaque;    /* truecolour: every pixel has alpha 255 */
    uint32_t *row; /* truecolour: converted-row scratch (w pixels) */
    const ts_encode__palette *pal;
} wctx;

static void
on_error(png_structp png, png_const_charp msg)
{
    wctx *w = png_get_error_ptr(png);
    if (w->st == TS_OK)
        w->st = TS_EINTERNAL;
    snprintf(w->msg, sizeof w->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void
on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static png_voidp
on_malloc(png_structp png, png_alloc_size_t n)
{
    void *p = ts_encode__arena_alloc(n);
    if (p == NULL) {
        wctx *w = png_get_mem_ptr(png);
        w->st = TS_ENOMEM;
    }
    return p;
}

static void
on_free(png_structp png, png_voidp p)
{
    (void)png;
    ts_encode__arena_free(p);
}

static void
on_write(png_structp png, png_bytep data, size_t n)
{
    wctx *w = png_get_io_ptr(png);
    ts_status st = ts_buf_add(w->out, data, n);
    if (st != TS_OK) {
        w->st = st;
        png_error(png, st == TS_ELIMIT ? "output exceeds the buffer limit" : "output buffer");
    }
}

static void
on_flush(png_structp png)
{
    (void)png;
}

/* 1 if every pixel of the region has alpha 255. */
static int
region_opaque(const ts_canvas *c, int x0, int y0, int w, int h)
{
    for (int j = 0; j < h; j++)
        if ((ts_encode__row_and(c->px + (size_t)(y0 + j) * (size_t)c->stride + x0, w) >> 24) != 255)
            return 0;
    return 1;
}

/* The row as libpng must see it (straight RGBA): the canvas row itself when every pixel
 * is opaque or fully transparent (0 is 0,0,0,0 either way), else converted into buf. */
static const uint32_t *
straight_row(const uint32_t *src, int w, uint32_t *buf)
{
    int i = 0;
    while (i < w) {
        uint32_t a = src[i] >> 24;
        if (a != 255 && src[i] != 0)
            break;
        i++;
    }
    if (i == w)
        return src;
    const uint8_t(*t)[256] = ts_encode__unpremul_table();
    memcpy(buf, src, (size_t)i * sizeof *buf);
    for (; i < w; i++) {
        uint32_t p = src[i], a = p >> 24;
        if (a == 255) {
            buf[i] = p;
        } else {
            const uint8_t *ta = t[a]; /* row 0 is all zero */
            buf[i] = (uint32_t)ta[p & 255] | (uint32_t)ta[(p >> 8) & 255] << 8 |
                     (uint32_t)ta[(p >> 16) & 255] << 16 | a << 24;
        }
    }
    return buf;
}

static void
write_palette_header(wctx *w)
{
    const ts_encode__palette *pal = w->pal;
    png_color plte[256];
    png_byte trns[256];
    int ntrns = 0;
    for (int k = 0; k < pal->n; k++) {
        uint32_t s = ts_encode__unpremul(pal->col[k]);
        plte[k].red = (png_byte)(s & 255);
        plte[k].green = (png_byte)((s >> 8) & 255);
        plte[k].blue = (png_byte)((s >> 16) & 255);
        trns[k] = (png_byte)(s >> 24);
        if (trns[k] != 255)
            ntrns = k + 1;
    }
    int depth = pal->n <= 2 ? 1 : pal->n <= 4 ? 2 : pal->n <= 16 ? 4 : 8;
    png_set_IHDR(w->png, w->info, (png_uint_32)w->w, (png_uint_32)w->h, depth,
                 PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
                 PNG_FILTER_TYPE_BASE);
    png_set_PLTE(w->png, w->info, plte, pal->n);
    if (ntrns > 0)
        png_set_tRNS(w->png, w->info, trns, ntrns, NULL);
}

/* All libpng work of one encode. Returns 0, or -1 after a libpng error (w->st, w->msg
 * say why). Nothing here that is modified after setjmp is read after the longjmp. */
static int
write_run(wctx *w)
{
    if (setjmp(png_jmpbuf(w->png)))
        return -1;
    png_structp png = w->png;
    png_set_write_fn(png, w, on_write, on_flush);
    png_set_compression_level(png, w->t.zlevel);
    png_set_compression_strategy(png, w->t.strategy);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, w->t.filters);
    png_set_compression_buffer_size(png, 32768);

    if (w->mode == TS_PNG_PALETTE) {
        write_palette_header(w);
        png_write_info(png, w->info);
        if (w->pal->n <= 16)
            png_set_packing(png);
        for (int j = 0; j < w->h; j++)
            png_write_row(png, w->pal->index + (size_t)j * (size_t)w->w);
    } else {
        png_set_IHDR(png, w->info, (png_uint_32)w->w, (png_uint_32)w->h, 8,
                     w->opaque ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
        png_write_info(png, w->info);
        if (w->opaque)
            png_set_filler(png, 0, PNG_FILLER_AFTER); /* drop the A byte of each pixel */
        for (int j = 0; j < w->h; j++) {
            const uint32_t *src =
                w->c->px + (size_t)(w->y0 + j) * (size_t)w->c->stride + (size_t)w->x0;
            png_write_row(png,
                          (png_const_bytep)(w->opaque ? src : straight_row(src, w->w, w->row)));
        }
    }
    png_write_end(png, w->info);
    return 0;
}

ts_status
ts_encode__png(const ts_canvas *c, int x0, int y0, int w, int h, ts_png_mode mode, int colors,
               const ts_encode__tuning *t, ts_buf *out, ts_err *err)
{
    wctx x;
    memset(&x, 0, sizeof x);
    x.out = out;
    x.st = TS_OK;
    x.c = c;
    x.x0 = x0;
    x.y0 = y0;
    x.w = w;
    x.h = h;
    x.mode = mode;
    x.t = t ? *t : ts_encode__default_tuning(mode);

    ts_encode__palette pal;
    ts_status st;
    if (mode == TS_PNG_PALETTE) {
        st = ts_encode__quantise(c, x0, y0, w, h, colors, &pal, err);
        if (st != TS_OK)
            goto fail;
        x.pal = &pal;
    } else {
        x.opaque = region_opaque(c, x0, y0, w, h);
        if (!x.opaque) {
            x.row = ts_encode__scratch(TS_ENCODE__S_ROW, (size_t)w * sizeof(uint32_t));
            if (x.row == NULL) {
                st = TS_FAIL(err, TS_ENOMEM, "PNG row buffer (%d px)", w);
                goto fail;
            }
        }
    }

    int arena = ts_encode__arena_begin();
    x.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &x, on_error, on_warning, &x,
                                      on_malloc, on_free);
    if (x.png == NULL) {
        if (arena)
            ts_encode__arena_end();
        st = TS_FAIL(err, TS_ENOMEM, "png_create_write_struct");
        goto fail;
    }
    x.info = png_create_info_struct(x.png);
    if (x.info == NULL) {
        png_destroy_write_struct(&x.png, NULL);
        if (arena)
            ts_encode__arena_end();
        st = TS_FAIL(err, TS_ENOMEM, "png_create_info_struct");
        goto fail;
    }
    int rc = write_run(&x);
    png_destroy_write_struct(&x.png, &x.info);
    if (arena)
        ts_encode__arena_end();
    if (rc != 0) {
        st = x.st == TS_OK ? TS_EINTERNAL : x.st;
        if (st == TS_ELIMIT)
            TS_FAIL(err, st, "PNG %dx%d larger than the output limit (%zu bytes)", w, h, out->max);
        else
            TS_FAIL(err, st, "PNG %dx%d: libpng: %s", w, h, x.msg);
        goto fail;
    }
    ts_encode__scratch_trim();
    return TS_OK;

fail:
    ts_buf_fini(out);
    ts_encode__scratch_trim();
    return st;
}

ts_status
ts_png_encode(const ts_canvas *c, int x0, int y0, int w, int h, const ts_png_opts *o, ts_buf *out,
              ts_err *err)
{
    ts_png_opts def = {TS_PNG_TRUECOLOR, -1, 0};
    if (o == NULL)
        o = &def;
    ts_status st;
    if (c == NULL || c->px == NULL || w < 1 || h < 1 || x0 < 0 || y0 < 0 || x0 > c->w - w ||
        y0 > c->h - h) {
        st = TS_FAIL(err, TS_EINVAL, "region %dx%d at (%d,%d) is not inside the canvas", w, h, x0,
                     y0);
        goto fail;
    }
    if (o->mode != TS_PNG_TRUECOLOR && o->mode != TS_PNG_PALETTE) {
        st = TS_FAIL(err, TS_EINVAL, "PNG mode %d", (int)o->mode);
        goto fail;
    }
    if (o->zlevel < -1 || o->zlevel > 9) {
        st = TS_FAIL(err, TS_EINVAL, "zlib level %d (want -1..9)", o->zlevel);
        goto fail;
    }
    int colors = o->colors == 0 ? 256 : o->colors;
    if (o->mode == TS_PNG_PALETTE && (colors < 2 || colors > 256)) {
        st = TS_FAIL(err, TS_EINVAL, "palette size %d (want 2..256)", o->colors);
        goto fail;
    }

    uint32_t px;
    if (ts_region_uniform(c, x0, y0, w, h, &px)) {
        size_t len;
        const uint8_t *u = ts_png_uniform(px, w, h, o->mode, &len);
        if (u != NULL) {
            st = ts_buf_add(out, u, len);
            if (st != TS_OK)
                return TS_FAIL(err, st, "uniform PNG of %zu bytes", len);
            return TS_OK;
        }
        /* the shared table is full (or out of memory): encode this one normally */
    }

    ts_encode__tuning t = ts_encode__default_tuning(o->mode);
    if (o->zlevel >= 0) {
        t.zlevel = o->zlevel;
        t.strategy = TS_ENCODE__Z_DEFAULT;
        t.filters = TS_ENCODE__F_NONE;
    }
    return ts_encode__png(c, x0, y0, w, h, o->mode, colors, &t, out, err);

fail:
    ts_buf_fini(out);
    return st;
}
