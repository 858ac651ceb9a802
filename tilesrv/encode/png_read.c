/* encode/png_read.c — any PNG libpng reads -> a premultiplied canvas. Exact: no gamma or
 * colour management is applied (gAMA, sRGB, iCCP are ignored), 16-bit samples are scaled
 * with rounding (v * 255 / 65535), and the premultiplication is the one
 * ts_rgba_premul uses, so a PNG written by this module decodes to the very pixels it was
 * encoded from. Hostile input: sizes are checked before anything is allocated, every
 * libpng error unwinds (longjmp) only through libpng's frames into read_run, and the
 * caller frees whatever was built. */
#include "encode/encode.h"
#include "encode/encode_int.h"

#include <inttypes.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIM 16384
#define MAX_PIXELS (64u * 1024u * 1024u)
#define MAX_CHUNK (8u << 20) /* largest ancillary chunk libpng may buffer */
#define MAX_LIBPNG_ALLOC (MAX_CHUNK + (1u << 20)) /* largest block libpng may allocate */

typedef struct rctx {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t len, pos;
    ts_status st;   /* failure kind (EINVAL unless a callback knew better) */
    char msg[160];  /* libpng's error */
    char warn[160]; /* its last warning, which often says why the error came */
    char why[96];   /* our own message for png_error */
    ts_canvas *c;   /* result, freed by the caller on failure */
    png_bytep *rows;
} rctx;

static void
on_error(png_structp png, png_const_charp msg)
{
    rctx *r = png_get_error_ptr(png);
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void
on_warning(png_structp png, png_const_charp msg)
{
    rctx *r = png_get_error_ptr(png);
    snprintf(r->warn, sizeof r->warn, "%s", msg);
}

static png_voidp
on_malloc(png_structp png, png_alloc_size_t n)
{
    rctx *r = png_get_mem_ptr(png);
    /* libpng sizes some chunk buffers from the length in the file before reading the data
     * (fuzz_png: a 46-byte file with an sPLT length of 0x23000000 asked for 587 MB). No
     * image within our limits needs more than a chunk we accept plus slack: refused, libpng
     * then fails or skips the chunk. */
    if (n > MAX_LIBPNG_ALLOC) {
        r->st = TS_ELIMIT;
        snprintf(r->warn, sizeof r->warn, "libpng asked for %zu bytes, more than the %u allowed",
                 (size_t)n, MAX_LIBPNG_ALLOC);
        return NULL;
    }
    void *p = malloc(n);
    if (p == NULL)
        r->st = TS_ENOMEM;
    return p;
}

static void
on_free(png_structp png, png_voidp p)
{
    (void)png;
    free(p);
}

static void
on_read(png_structp png, png_bytep out, size_t n)
{
    rctx *r = png_get_io_ptr(png);
    if (n > r->len - r->pos) {
        snprintf(r->why, sizeof r->why, "truncated PNG data: %zu bytes wanted at byte %zu", n,
                 r->pos);
        png_error(png, r->why);
    }
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

/* All libpng work of one decode. 0, or -1 after a libpng error. */
static int
read_run(rctx *r)
{
    if (setjmp(png_jmpbuf(r->png)))
        return -1;
    png_structp png = r->png;
    png_infop info = r->info;
    png_set_read_fn(png, r, on_read);
    png_set_user_limits(png, MAX_DIM, MAX_DIM);
    png_set_chunk_malloc_max(png, MAX_CHUNK);
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if ((uint64_t)w * h > MAX_PIXELS) {
        r->st = TS_ELIMIT;
        png_error(png, "image has more than 64 Mpixel");
    }
    int trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (trns)
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_scale_16(png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    if (!(ctype & PNG_COLOR_MASK_ALPHA) && !trns)
        png_set_filler(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 4 || png_get_bit_depth(png, info) != 8)
        png_error(png, "unexpected row layout after transforms");

    ts_err e;
    r->c = ts_canvas_new((int)w, (int)h, &e);
    r->rows = malloc((size_t)h * sizeof *r->rows);
    if (r->c == NULL || r->rows == NULL) {
        r->st = TS_ENOMEM;
        png_error(png, "out of memory for the canvas");
    }
    for (png_uint_32 j = 0; j < h; j++)
        r->rows[j] = (png_bytep)(r->c->px + (size_t)j * (size_t)r->c->stride);
    png_read_image(png, r->rows);
    png_read_end(png, NULL);
    return 0;
}

/* Straight RGBA -> premultiplied, in place, as ts_rgba_premul. */
static void
premultiply(ts_canvas *c)
{
    for (int j = 0; j < c->h; j++) {
        uint32_t *row = c->px + (size_t)j * (size_t)c->stride;
        for (int i = 0; i < c->w; i++) {
            uint32_t p = row[i], a = p >> 24;
            if (a == 255)
                continue;
            if (a == 0) {
                row[i] = 0;
                continue;
            }
            uint32_t rr = ((p & 255) * a + 127) / 255;
            uint32_t gg = (((p >> 8) & 255) * a + 127) / 255;
            uint32_t bb = (((p >> 16) & 255) * a + 127) / 255;
            row[i] = rr | gg << 8 | bb << 16 | a << 24;
        }
    }
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

ts_canvas *
ts_png_decode(const uint8_t *data, size_t len, ts_err *err)
{
    if (data == NULL || len < 8 || png_sig_cmp(data, 0, 8) != 0) {
        TS_FAIL(err, TS_EINVAL, "not a PNG (%zu bytes, no PNG signature)", len);
        return NULL;
    }
    /* Refuse oversized images before libpng allocates anything for them. */
    if (len >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint32_t w = be32(data + 16), h = be32(data + 20);
        if (w > MAX_DIM || h > MAX_DIM || (uint64_t)w * h > MAX_PIXELS) {
            TS_FAIL(err, TS_ELIMIT,
                    "PNG of %" PRIu32 "x%" PRIu32 " px exceeds the limit "
                    "(%dx%d, 64 Mpixel)",
                    w, h, MAX_DIM, MAX_DIM);
            return NULL;
        }
    }
    rctx r;
    memset(&r, 0, sizeof r);
    r.data = data;
    r.len = len;
    r.st = TS_OK;
    r.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning, &r, on_malloc,
                                     on_free);
    if (r.png == NULL) {
        TS_FAIL(err, TS_ENOMEM, "png_create_read_struct");
        return NULL;
    }
    r.info = png_create_info_struct(r.png);
    if (r.info == NULL) {
        png_destroy_read_struct(&r.png, NULL, NULL);
        TS_FAIL(err, TS_ENOMEM, "png_create_info_struct");
        return NULL;
    }
    int rc = read_run(&r);
    png_destroy_read_struct(&r.png, &r.info, NULL);
    free(r.rows);
    if (rc != 0) {
        ts_canvas_free(r.c);
        ts_status st = r.st == TS_OK ? TS_EINVAL : r.st;
        if (r.warn[0])
            TS_FAIL(err, st, "bad PNG (%zu bytes, read %zu): %s (%s)", len, r.pos, r.msg, r.warn);
        else
            TS_FAIL(err, st, "bad PNG (%zu bytes, read %zu): %s", len, r.pos, r.msg);
        return NULL;
    }
    premultiply(r.c);
    return r.c;
}
