/* encode/jpeg_write.c — JPEG encoding of a canvas region with libjpeg(-turbo): the
 * premultiplied pixels are composited over an opaque background (JPEG has no alpha) row by
 * row into RGB scanlines. Output goes to a memory destination that appends to a ts_buf. */
#include "encode/encode.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#define CHUNK 65536

typedef struct jpeg_dest {
    struct jpeg_destination_mgr pub;
    ts_buf *out;
    size_t start; /* out->len when the image began */
    int failed;   /* out of room */
    JOCTET buf[CHUNK];
} jpeg_dest;

typedef struct jpeg_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_fail;

static void
dest_init(j_compress_ptr ci)
{
    jpeg_dest *d = (jpeg_dest *)ci->dest;
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = CHUNK;
}

static boolean
dest_empty(j_compress_ptr ci)
{
    jpeg_dest *d = (jpeg_dest *)ci->dest;
    if (ts_buf_add(d->out, d->buf, CHUNK) != TS_OK)
        d->failed = 1;
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = CHUNK;
    return TRUE;
}

static void
dest_term(j_compress_ptr ci)
{
    jpeg_dest *d = (jpeg_dest *)ci->dest;
    size_t n = CHUNK - d->pub.free_in_buffer;
    if (n > 0 && ts_buf_add(d->out, d->buf, n) != TS_OK)
        d->failed = 1;
}

static void
on_error(j_common_ptr ci)
{
    jpeg_fail *f = (jpeg_fail *)ci->err;
    ci->err->format_message(ci, f->msg);
    longjmp(f->jb, 1);
}

static void
on_message(j_common_ptr ci)
{
    (void)ci; /* warnings are not printed */
}

/* One encode: everything the compressor reads, behind one pointer (nothing changes after
 * setjmp, so nothing can be clobbered by the longjmp of an error). */
typedef struct jpeg_job {
    const ts_canvas *c;
    int x0, y0, w, h, quality;
    ts_rgba bg;
    unsigned char *row;
    jpeg_dest *d;
    jpeg_fail *f;
} jpeg_job;

/* 0, or -1 when libjpeg failed (message in j->f->msg). */
static int
compress(const jpeg_job *j)
{
    struct jpeg_compress_struct ci;
    memset(&ci, 0, sizeof ci);
    ci.err = jpeg_std_error(&j->f->pub);
    j->f->pub.error_exit = on_error;
    j->f->pub.output_message = on_message;
    if (setjmp(j->f->jb)) {
        jpeg_destroy_compress(&ci);
        return -1;
    }
    jpeg_create_compress(&ci);
    j->d->pub.init_destination = dest_init;
    j->d->pub.empty_output_buffer = dest_empty;
    j->d->pub.term_destination = dest_term;
    ci.dest = &j->d->pub;
    ci.image_width = (JDIMENSION)j->w;
    ci.image_height = (JDIMENSION)j->h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, j->quality, TRUE);
    jpeg_start_compress(&ci, TRUE);
    const ts_rgba bg = j->bg;
    for (int y = 0; y < j->h; y++) {
        const uint32_t *src = j->c->px + (size_t)(j->y0 + y) * (size_t)j->c->stride + j->x0;
        unsigned char *row = j->row;
        for (int i = 0; i < j->w; i++) {
            uint32_t p = src[i];
            uint32_t ia = 255 - (p >> 24);
            /* premultiplied over an opaque background */
            row[3 * i] = (unsigned char)((p & 0xff) + (bg.r * ia + 127) / 255);
            row[3 * i + 1] = (unsigned char)((p >> 8 & 0xff) + (bg.g * ia + 127) / 255);
            row[3 * i + 2] = (unsigned char)((p >> 16 & 0xff) + (bg.b * ia + 127) / 255);
        }
        JSAMPROW rp = row;
        jpeg_write_scanlines(&ci, &rp, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    return 0;
}

ts_status
ts_jpeg_encode(const ts_canvas *c, int x0, int y0, int w, int h, int quality, ts_rgba bg,
               ts_buf *out, ts_err *err)
{
    if (x0 < 0 || y0 < 0 || w < 1 || h < 1 || x0 + w > c->w || y0 + h > c->h)
        return TS_FAIL(err, TS_EINVAL, "JPEG region outside the canvas");
    jpeg_job j = {c,  x0,   y0,   w,   h, quality < 1 || quality > 100 ? 85 : quality,
                  bg, NULL, NULL, NULL};
    j.f = calloc(1, sizeof *j.f);
    j.d = calloc(1, sizeof *j.d);
    j.row = malloc((size_t)w * 3);
    ts_status st = TS_OK;
    if (j.f == NULL || j.d == NULL || j.row == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "JPEG encoder");
    } else {
        j.d->out = out;
        j.d->start = out->len;
        if (compress(&j) != 0) {
            out->len = j.d->start;
            st = TS_FAIL(err, TS_EINTERNAL, "JPEG: %s", j.f->msg);
        } else if (j.d->failed) {
            out->len = j.d->start;
            st = TS_FAIL(err, TS_ELIMIT, "JPEG larger than the output buffer");
        }
    }
    free(j.row);
    free(j.d);
    free(j.f);
    return st;
}
