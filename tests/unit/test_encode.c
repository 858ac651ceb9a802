/* Unit tests for encode: PNG round trips (RGBA, RGB, palette), views and sub-regions,
 * shared uniform tiles, the quantiser's error bounds, decoding every PNG flavour, and
 * malformed input. PNGs of other kinds are written here with libpng directly. */
#include "test.h"

#include <png.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "encode/encode.h"
#include "encode/encode_int.h"

/* ---- helpers ----------------------------------------------------------------------- */

static uint32_t
rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

static uint32_t
px_of(int r, int g, int b, int a)
{
    ts_rgba c = {(uint8_t)r, (uint8_t)g, (uint8_t)b, (uint8_t)a};
    return ts_rgba_premul(c);
}

static uint32_t *
pixel(const ts_canvas *c, int x, int y)
{
    return c->px + (size_t)y * (size_t)c->stride + (size_t)x;
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Offset of the first chunk of the given type, or -1. *clen gets its data length. */
static long
find_chunk(const uint8_t *d, size_t n, const char *type, uint32_t *clen)
{
    size_t p = 8;
    while (p + 12 <= n) {
        uint32_t len = be32(d + p);
        if (memcmp(d + p + 4, type, 4) == 0) {
            if (clen)
                *clen = len;
            return (long)p;
        }
        if (len > n - p - 12)
            break;
        p += 12 + (size_t)len;
    }
    return -1;
}

static int
png_ctype(const ts_buf *b)
{
    return b->len > 25 ? b->data[25] : -1;
}

static int
png_depth(const ts_buf *b)
{
    return b->len > 24 ? b->data[24] : -1;
}

static int
encode(const ts_canvas *c, int x0, int y0, int w, int h, ts_png_mode mode, int colors, ts_buf *out)
{
    ts_png_opts o = {mode, -1, colors};
    ts_err err;
    ts_err_clear(&err);
    ts_buf_init(out, 64u << 20);
    ts_status st = ts_png_encode(c, x0, y0, w, h, &o, out, &err);
    if (st != TS_OK)
        fprintf(stderr, "  encode: %s\n", err.msg);
    return st == TS_OK;
}

static ts_canvas *
decode(const ts_buf *b)
{
    ts_err err;
    ts_err_clear(&err);
    ts_canvas *d = ts_png_decode(b->data, b->len, &err);
    if (d == NULL)
        fprintf(stderr, "  decode: %s\n", err.msg);
    return d;
}

/* Number of pixels of the region of a that differ from d. */
static long
count_diff(const ts_canvas *a, int x0, int y0, const ts_canvas *d)
{
    long n = 0;
    for (int y = 0; y < d->h; y++)
        for (int x = 0; x < d->w; x++)
            n += *pixel(a, x0 + x, y0 + y) != *pixel(d, x, y);
    return n;
}

/* A canvas of random straight colours premultiplied, about a third of them semi-
 * transparent and a tenth fully transparent (opaque = 1: all opaque). */
static ts_canvas *
random_canvas(int w, int h, uint64_t seed, int opaque)
{
    ts_canvas *c = ts_canvas_new(w, h, NULL);
    if (c == NULL)
        return NULL;
    uint64_t s = seed;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint32_t v = rng_next(&s), k = rng_next(&s) % 10;
            int a = opaque || k >= 4 ? 255 : k == 0 ? 0 : (int)(rng_next(&s) % 255);
            *pixel(c, x, y) = px_of(v & 255, (v >> 8) & 255, (v >> 16) & 255, a);
        }
    }
    return c;
}

/* ---- truecolour -------------------------------------------------------------------- */

/* Opaque regions as RGB rows at every width up to 40 and at tile widths (the row packer
 * takes 8 pixels per step with AVX2, 4 without; the rest one by one), from an offset in a
 * larger canvas: decoded equal; one pixel not opaque anywhere in the region (last of the
 * last row, first of the first, inside a step) makes it RGBA, still exact. */
TS_TEST(encode_rgb_rows_of_every_width_roundtrip)
{
    int widths[44], nw = 0;
    for (int w = 1; w <= 40; w++)
        widths[nw++] = w;
    widths[nw++] = 255;
    widths[nw++] = 256;
    widths[nw++] = 257;
    widths[nw++] = 512;
    long bad = 0;
    int wrong_type = 0;
    for (int k = 0; k < nw; k++) {
        int w = widths[k], h = 5;
        ts_canvas *c = random_canvas(w + 9, h + 2, (uint64_t)w * 7 + 1, 1);
        TS_REQUIRE(c != NULL);
        for (int variant = 0; variant < 4; variant++) {
            if (variant == 1)
                *pixel(c, 3 + w - 1, 1 + h - 1) = px_of(10, 20, 30, 200);
            if (variant == 2)
                *pixel(c, 3, 1) = 0;
            if (variant == 3 && w > 5)
                *pixel(c, 3 + 5, 1 + h / 2) = px_of(0, 0, 0, 128);
            ts_buf b;
            TS_REQUIRE(encode(c, 3, 1, w, h, TS_PNG_TRUECOLOR, 0, &b));
            wrong_type += png_ctype(&b) != (variant == 0 ? 2 : 6);
            ts_canvas *d = decode(&b);
            TS_REQUIRE(d != NULL);
            bad += count_diff(c, 3, 1, d);
            ts_canvas_free(d);
            ts_buf_fini(&b);
            if (variant == 0 || variant == 3) { /* back to opaque for the next variant */
                ts_canvas_free(c);
                c = random_canvas(w + 9, h + 2, (uint64_t)w * 7 + 1, 1);
                TS_REQUIRE(c != NULL);
            }
        }
        ts_canvas_free(c);
    }
    TS_CHECK_INT(bad, 0);
    TS_CHECK_INT(wrong_type, 0);
}

TS_TEST(encode_rgba_roundtrip_is_exact)
{
    ts_canvas *c = random_canvas(67, 45, 42, 0);
    TS_REQUIRE(c != NULL);
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, c->w, c->h, TS_PNG_TRUECOLOR, 0, &b));
    TS_CHECK_INT(png_ctype(&b), 6); /* RGBA */
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(d->w, 67);
    TS_CHECK_INT(d->h, 45);
    /* premul(round(p * 255 / a)) == p for every valid premultiplied p, so the decoded
     * canvas must equal the original bit for bit */
    TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
    ts_canvas_free(d);

    /* The straight values in the file, read by libpng's own simplified reader: each is
     * within rounding of the original straight colour (premul loses log2(255/a) bits, so
     * |s - orig| <= 255 / (2a) + 1/2) and re-premultiplies to the canvas value. */
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    TS_REQUIRE(png_image_begin_read_from_memory(&img, b.data, b.len));
    img.format = PNG_FORMAT_RGBA;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    TS_REQUIRE(buf != NULL);
    TS_REQUIRE(png_image_finish_read(&img, NULL, buf, 0, NULL));
    uint64_t s = 42;
    int bad = 0;
    for (int y = 0; y < 45; y++) {
        for (int x = 0; x < 67; x++) {
            uint32_t v = rng_next(&s), k = rng_next(&s) % 10;
            int a = k >= 4 ? 255 : k == 0 ? 0 : (int)(rng_next(&s) % 255);
            const uint8_t *q = buf + ((size_t)y * 67 + (size_t)x) * 4;
            TS_CHECK_INT(q[3], a);
            if (a == 0) {
                bad += q[0] || q[1] || q[2];
                continue;
            }
            double tol = 255.0 / (2.0 * a) + 0.5;
            int orig[3] = {(int)(v & 255), (int)((v >> 8) & 255), (int)((v >> 16) & 255)};
            for (int ch = 0; ch < 3; ch++)
                bad += fabs((double)q[ch] - orig[ch]) > tol;
            bad += px_of(q[0], q[1], q[2], q[3]) != *pixel(c, x, y);
        }
    }
    TS_CHECK_INT(bad, 0);
    free(buf);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

TS_TEST(encode_opaque_region_is_rgb)
{
    ts_canvas *c = random_canvas(40, 30, 7, 1);
    TS_REQUIRE(c != NULL);
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 40, 30, TS_PNG_TRUECOLOR, 0, &b));
    TS_CHECK_INT(png_ctype(&b), 2); /* RGB */
    TS_CHECK_INT(png_depth(&b), 8);
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
    ts_canvas_free(d);
    ts_buf_fini(&b);

    /* one pixel with alpha 254 switches the whole region to RGBA */
    *pixel(c, 39, 29) = px_of(10, 20, 30, 254);
    TS_REQUIRE(encode(c, 0, 0, 40, 30, TS_PNG_TRUECOLOR, 0, &b));
    TS_CHECK_INT(png_ctype(&b), 6);
    d = decode(&b);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

TS_TEST(encode_invalid_premultiplied_pixels_are_clamped)
{
    /* colour > alpha cannot come out of premultiplication; the encoder clamps such
     * channels to 255 and writes alpha 0 pixels as 0,0,0,0 */
    ts_canvas *c = ts_canvas_new(3, 1, NULL);
    TS_REQUIRE(c != NULL);
    c->px[0] = 0x00ffffffu;         /* a = 0 with colour */
    c->px[1] = 0x80ff0000u | 0x10u; /* a = 128, b = 255 > a, r = 16 */
    c->px[2] = px_of(1, 2, 3, 255);
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 3, 1, TS_PNG_TRUECOLOR, 0, &b));
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(d->px[0], 0);
    TS_CHECK_INT(d->px[1] >> 24, 128);
    TS_CHECK_INT((d->px[1] >> 16) & 255, 128); /* 255 straight at a = 128 */
    TS_CHECK_INT(d->px[1] & 255, 16);
    TS_CHECK_INT(d->px[2], px_of(1, 2, 3, 255));
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

TS_TEST(encode_view_and_subregion)
{
    /* a canvas whose rows are longer than its width (stride != w) */
    int w = 50, h = 33, stride = 63;
    uint32_t *mem = calloc((size_t)stride * (size_t)h, sizeof *mem);
    TS_REQUIRE(mem != NULL);
    ts_canvas c = {.w = w, .h = h, .stride = stride, .px = mem, .owns = 0};
    uint64_t s = 99;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < stride; x++) {
            uint32_t v = rng_next(&s);
            /* the bytes right of the width must never leak into the image */
            mem[(size_t)y * stride + x] =
                x < w ? px_of(v & 255, (v >> 8) & 255, 77, x % 3 ? 255 : (int)(v >> 24))
                      : 0xdeadbeefu;
        }
    }
    for (int mode = 0; mode < 2; mode++) {
        ts_buf b;
        TS_REQUIRE(encode(&c, 0, 0, w, h, (ts_png_mode)mode, 0, &b));
        ts_canvas *d = decode(&b);
        TS_REQUIRE(d != NULL);
        TS_CHECK_INT(d->w, w);
        if (mode == TS_PNG_TRUECOLOR)
            TS_CHECK_INT(count_diff(&c, 0, 0, d), 0);
        ts_canvas_free(d);
        ts_buf_fini(&b);

        /* sub-region at an offset, in a row view */
        ts_canvas v = ts_canvas_view(&c, 4, 20);
        TS_CHECK_INT(v.stride, stride);
        TS_REQUIRE(encode(&v, 7, 3, 30, 15, (ts_png_mode)mode, 0, &b));
        d = decode(&b);
        TS_REQUIRE(d != NULL);
        TS_CHECK_INT(d->w, 30);
        TS_CHECK_INT(d->h, 15);
        if (mode == TS_PNG_TRUECOLOR) {
            TS_CHECK_INT(count_diff(&c, 7, 7, d), 0);
        } else { /* 450 pixels <= 256 colours? not necessarily; just bounded error */
            int maxe = 0;
            for (int y = 0; y < 15; y++)
                for (int x = 0; x < 30; x++)
                    for (int ch = 0; ch < 32; ch += 8) {
                        int e = abs((int)((*pixel(&c, 7 + x, 7 + y) >> ch) & 255) -
                                    (int)((*pixel(d, x, y) >> ch) & 255));
                        maxe = e > maxe ? e : maxe;
                    }
            TS_CHECK(maxe <= 64); /* random noise: 256 entries for 450 colours */
        }
        ts_canvas_free(d);
        ts_buf_fini(&b);
    }
    free(mem);
}

TS_TEST(encode_rejects_bad_arguments_and_respects_limit)
{
    ts_canvas *c = random_canvas(64, 64, 5, 0);
    TS_REQUIRE(c != NULL);
    ts_err err;
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    ts_png_opts o = {TS_PNG_TRUECOLOR, -1, 0};
    TS_CHECK_INT(ts_png_encode(c, 1, 0, 64, 64, &o, &b, &err), TS_EINVAL);
    TS_CHECK_INT(ts_png_encode(c, 0, 0, 0, 64, &o, &b, &err), TS_EINVAL);
    o.zlevel = 10;
    TS_CHECK_INT(ts_png_encode(c, 0, 0, 64, 64, &o, &b, &err), TS_EINVAL);
    o.zlevel = -1;
    o.mode = TS_PNG_PALETTE;
    o.colors = 1;
    TS_CHECK_INT(ts_png_encode(c, 0, 0, 64, 64, &o, &b, &err), TS_EINVAL);
    TS_CHECK(strstr(err.msg, "palette") != NULL);
    ts_buf_fini(&b);

    /* random pixels do not compress: 16 KiB of RGBA cannot fit in 1000 bytes */
    for (int mode = 0; mode < 2; mode++) {
        ts_buf_init(&b, 1000);
        ts_buf_add(&b, "xyz", 3);
        o.mode = (ts_png_mode)mode;
        o.colors = 0;
        ts_err_clear(&err);
        TS_CHECK_INT(ts_png_encode(c, 0, 0, 64, 64, &o, &b, &err), TS_ELIMIT);
        TS_CHECK_INT(b.len, 0); /* emptied */
        TS_CHECK(b.data == NULL);
        TS_CHECK(err.msg[0] != '\0');
        ts_buf_fini(&b);
    }
    /* explicit levels work and level 9 is not larger than level 1 */
    size_t len[2];
    for (int k = 0; k < 2; k++) {
        ts_buf_init(&b, 1 << 20);
        o.mode = TS_PNG_TRUECOLOR;
        o.zlevel = k ? 9 : 1;
        TS_CHECK_INT(ts_png_encode(c, 0, 0, 64, 64, &o, &b, &err), TS_OK);
        len[k] = b.len;
        ts_canvas *d = decode(&b);
        TS_REQUIRE(d != NULL);
        TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
        ts_canvas_free(d);
        ts_buf_fini(&b);
    }
    TS_CHECK(len[1] <= len[0]);
    ts_canvas_free(c);
}

TS_TEST(encode_appends_to_existing_bytes)
{
    ts_canvas *c = random_canvas(16, 16, 3, 0);
    TS_REQUIRE(c != NULL);
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_buf_add(&b, "HEAD", 4) == TS_OK);
    ts_png_opts o = {TS_PNG_TRUECOLOR, -1, 0};
    TS_REQUIRE(ts_png_encode(c, 0, 0, 16, 16, &o, &b, NULL) == TS_OK);
    TS_CHECK(memcmp(b.data, "HEAD\x89PNG", 8) == 0);
    ts_canvas *d = ts_png_decode(b.data + 4, b.len - 4, NULL);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

/* ---- uniform tiles ----------------------------------------------------------------- */

TS_TEST(encode_uniform_tiles_are_shared)
{
    ts_canvas *c = ts_canvas_new(512, 256, NULL);
    TS_REQUIRE(c != NULL);
    uint32_t px = 1;
    TS_CHECK(ts_region_uniform(c, 0, 0, 512, 256, &px));
    TS_CHECK_INT(px, 0);

    size_t l1 = 0, l2 = 0;
    const uint8_t *u1 = ts_png_uniform(0, 256, 256, TS_PNG_TRUECOLOR, &l1);
    const uint8_t *u2 = ts_png_uniform(0, 256, 256, TS_PNG_TRUECOLOR, &l2);
    TS_REQUIRE(u1 != NULL);
    TS_CHECK(u1 == u2);
    TS_CHECK_INT(l1, l2);
    /* 256 rows of 1025 zero bytes; deflate's best ratio is ~1030:1 (258-byte matches),
     * so ~300 bytes is as small as an RGBA PNG of this size gets */
    TS_CHECK(l1 < 400);
    const uint8_t *u3 = ts_png_uniform(0, 256, 256, TS_PNG_PALETTE, &l2);
    TS_REQUIRE(u3 != NULL);
    TS_CHECK(u3 != u1);
    TS_CHECK(ts_png_uniform(0, 256, 255, TS_PNG_TRUECOLOR, &l2) != u1);

    /* ts_png_encode on a uniform region returns the shared bytes */
    for (int mode = 0; mode < 2; mode++) {
        ts_buf b;
        TS_REQUIRE(encode(c, 256, 0, 256, 256, (ts_png_mode)mode, 0, &b));
        size_t lu;
        const uint8_t *u = ts_png_uniform(0, 256, 256, (ts_png_mode)mode, &lu);
        TS_CHECK(b.len == lu && memcmp(b.data, u, lu) == 0);
        ts_canvas *d = decode(&b);
        TS_REQUIRE(d != NULL);
        TS_CHECK_INT(count_diff(c, 256, 0, d), 0);
        ts_canvas_free(d);
        ts_buf_fini(&b);
    }

    /* a single opaque colour, both modes: decodes to that colour; RGB / 1-bit palette */
    ts_rgba col = {200, 120, 40, 255};
    ts_canvas_clear(c, col);
    TS_CHECK(ts_region_uniform(c, 10, 20, 300, 200, &px));
    TS_CHECK_INT(px, ts_rgba_premul(col));
    for (int mode = 0; mode < 2; mode++) {
        size_t len;
        const uint8_t *u = ts_png_uniform(px, 256, 256, (ts_png_mode)mode, &len);
        TS_REQUIRE(u != NULL);
        TS_CHECK(u == ts_png_uniform(px, 256, 256, (ts_png_mode)mode, NULL));
        TS_CHECK_INT(u[25], mode == TS_PNG_TRUECOLOR ? 2 : 3);
        if (mode == TS_PNG_PALETTE)
            TS_CHECK_INT(u[24], 1);
        ts_canvas *d = ts_png_decode(u, len, NULL);
        TS_REQUIRE(d != NULL);
        TS_CHECK_INT(d->w, 256);
        TS_CHECK(ts_region_uniform(d, 0, 0, 256, 256, &px));
        TS_CHECK_INT(px, ts_rgba_premul(col));
        ts_canvas_free(d);
    }
    /* semi-transparent colour: RGBA / palette with tRNS */
    ts_rgba half = {0, 0, 255, 128};
    uint32_t hp = ts_rgba_premul(half);
    for (int mode = 0; mode < 2; mode++) {
        size_t len;
        const uint8_t *u = ts_png_uniform(hp, 100, 30, (ts_png_mode)mode, &len);
        TS_REQUIRE(u != NULL);
        TS_CHECK_INT(u[25], mode == TS_PNG_TRUECOLOR ? 6 : 3);
        ts_canvas *d = ts_png_decode(u, len, NULL);
        TS_REQUIRE(d != NULL);
        TS_CHECK(ts_region_uniform(d, 0, 0, 100, 30, &px));
        TS_CHECK_INT(px, hp);
        ts_canvas_free(d);
    }
    /* one differing pixel anywhere breaks uniformity; outside the region it does not */
    *pixel(c, 511, 255) ^= 1;
    TS_CHECK(!ts_region_uniform(c, 0, 0, 512, 256, NULL));
    TS_CHECK(ts_region_uniform(c, 0, 0, 511, 256, NULL));
    TS_CHECK(ts_region_uniform(c, 0, 0, 512, 255, NULL));
    TS_CHECK(!ts_region_uniform(c, 0, 0, 513, 256, NULL)); /* outside the canvas */
    TS_CHECK(ts_png_uniform(0, 0, 256, TS_PNG_TRUECOLOR, NULL) == NULL);
    ts_canvas_free(c);
}

typedef struct uthread {
    const uint8_t *got[64];
} uthread;

static void *
uniform_worker(void *arg)
{
    uthread *t = arg;
    for (int k = 0; k < 64; k++)
        t->got[k] = ts_png_uniform(0xff000000u | (uint32_t)(k % 16) * 0x010203u, 64 + k / 16, 64,
                                   (ts_png_mode)(k % 2), NULL);
    return NULL;
}

TS_TEST(encode_uniform_table_is_thread_safe)
{
    enum { N = 4 };
    pthread_t th[N];
    uthread res[N];
    for (int i = 0; i < N; i++)
        TS_REQUIRE(pthread_create(&th[i], NULL, uniform_worker, &res[i]) == 0);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int k = 0; k < 64; k++) {
        TS_CHECK(res[0].got[k] != NULL);
        for (int i = 1; i < N; i++)
            TS_CHECK(res[i].got[k] == res[0].got[k]);
    }
}

/* ---- palette ----------------------------------------------------------------------- */

TS_TEST(encode_palette_exact_up_to_256_colours)
{
    static const int ncols[] = {2, 3, 16, 17, 200, 256};
    for (size_t t = 0; t < sizeof ncols / sizeof ncols[0]; t++) {
        int n = ncols[t];
        uint32_t pal[256];
        uint64_t s = 1234 + (uint64_t)n;
        for (int k = 0; k < n; k++) {
            int fresh;
            do { /* distinct, valid premultiplied colours */
                uint32_t v = rng_next(&s);
                int a = k == 1 ? 0 : k % 5 == 0 ? 1 + (int)(v >> 24) % 254 : 255;
                pal[k] = px_of(v & 255, (v >> 8) & 255, (v >> 16) & 255, a);
                fresh = 1;
                for (int j = 0; j < k; j++)
                    fresh &= pal[j] != pal[k];
            } while (!fresh);
        }
        ts_canvas *c = ts_canvas_new(97, 61, NULL);
        TS_REQUIRE(c != NULL);
        for (int y = 0; y < 61; y++)
            for (int x = 0; x < 97; x++)
                *pixel(c, x, y) = pal[(x / 3 + y * 7) % n];
        ts_buf b;
        TS_REQUIRE(encode(c, 0, 0, 97, 61, TS_PNG_PALETTE, 0, &b));
        TS_CHECK_INT(png_ctype(&b), 3);
        TS_CHECK_INT(png_depth(&b), n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8);
        uint32_t plen = 0, tlen = 0;
        TS_CHECK(find_chunk(b.data, b.len, "PLTE", &plen) > 0);
        TS_CHECK_INT(plen, 3 * n);
        /* tRNS holds only the leading non-opaque entries */
        int nonopaque = 0;
        for (int k = 0; k < n; k++)
            nonopaque += (pal[k] >> 24) != 255;
        TS_CHECK(find_chunk(b.data, b.len, "tRNS", &tlen) > 0);
        TS_CHECK_INT(tlen, nonopaque);
        ts_canvas *d = decode(&b);
        TS_REQUIRE(d != NULL);
        TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
        ts_canvas_free(d);
        ts_buf_fini(&b);

        /* with a smaller palette the same image is quantised, still decodes */
        if (n > 16) {
            TS_REQUIRE(encode(c, 0, 0, 97, 61, TS_PNG_PALETTE, 16, &b));
            TS_CHECK_INT(png_depth(&b), 4);
            TS_CHECK(find_chunk(b.data, b.len, "PLTE", &plen) > 0);
            TS_CHECK(plen <= 3 * 16);
            d = decode(&b);
            TS_REQUIRE(d != NULL);
            ts_canvas_free(d);
            ts_buf_fini(&b);
        }
        ts_canvas_free(c);
    }
}

TS_TEST(encode_palette_opaque_has_no_trns)
{
    ts_canvas *c = ts_canvas_new(32, 32, NULL);
    TS_REQUIRE(c != NULL);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
            *pixel(c, x, y) = px_of(x * 8, y * 8, 0, 255); /* 1024 colours, quantised */
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 32, 32, TS_PNG_PALETTE, 0, &b));
    TS_CHECK(find_chunk(b.data, b.len, "tRNS", NULL) < 0);
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    /* a 32 x 32 grid of colours in 256 entries: cells of about 2 x 2 colours, whose
     * mean is at most one 8-step from any member on each axis */
    int maxe = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
            for (int ch = 0; ch < 32; ch += 8) {
                int e = abs((int)((*pixel(c, x, y) >> ch) & 255) -
                            (int)((*pixel(d, x, y) >> ch) & 255));
                maxe = e > maxe ? e : maxe;
            }
    TS_CHECK(maxe <= 8);
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

/* Coverage of pixel (x, y) by a disc: a one-pixel linear ramp across the edge, as an
 * area-coverage rasteriser gives for edges at any angle (continuous values). */
static double
disc_cover(double cx, double cy, double r, int x, int y)
{
    double d = hypot(x + 0.5 - cx, y + 0.5 - cy);
    double cov = r - d + 0.5;
    return cov < 0 ? 0 : cov > 1 ? 1 : cov;
}

/* Coverage by a line of width lw from (x1, y1) to (x2, y2). */
static double
line_cover(double x1, double y1, double x2, double y2, double lw, int x, int y)
{
    double px = x + 0.5, py = y + 0.5, dx = x2 - x1, dy = y2 - y1;
    double t = ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double d = hypot(px - (x1 + t * dx), py - (y1 + t * dy));
    double cov = lw / 2 - d + 0.5;
    return cov < 0 ? 0 : cov > 1 ? 1 : cov;
}

/* Source-over of straight colour col at coverage cov onto premultiplied *dst. */
static void
blend(uint32_t *dst, ts_rgba col, double cov)
{
    double a = cov * col.a / 255.0;
    uint32_t d = *dst, out = 0;
    double src[4] = {col.r * a, col.g * a, col.b * a, 255.0 * a};
    for (int ch = 0; ch < 4; ch++) {
        double v = src[ch] + ((d >> (8 * ch)) & 255) * (1 - a);
        out |= (uint32_t)(v + 0.5) << (8 * ch);
    }
    *dst = out;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A map-like tile: flat background, filled AA discs in 6 colours (some translucent),
 * AA lines in 3 colours crossing everything. Returns the number of distinct colours. */
static int
draw_map_tile(ts_canvas *c, uint64_t seed, int transparent_bg, uint8_t *flat_mask)
{
    static const ts_rgba fills[] = {{242, 239, 233, 255}, {200, 190, 180, 255},
                                    {170, 211, 223, 255}, {205, 235, 176, 255},
                                    {220, 60, 40, 160},   {40, 40, 200, 90}};
    static const ts_rgba lines[] = {{255, 255, 255, 255}, {80, 80, 80, 255}, {250, 180, 70, 255}};
    ts_canvas_clear(c, transparent_bg ? (ts_rgba){0, 0, 0, 0} : (ts_rgba){248, 244, 236, 255});
    uint64_t s = seed;
    for (int k = 0; k < 14; k++) {
        double cx = rng_next(&s) % 256, cy = rng_next(&s) % 256, r = 8 + rng_next(&s) % 40;
        cx += (rng_next(&s) % 1000) / 1000.0;
        ts_rgba col = fills[k % 6];
        for (int y = 0; y < c->h; y++)
            for (int x = 0; x < c->w; x++) {
                double cov = disc_cover(cx, cy, r, x, y);
                if (cov > 0)
                    blend(pixel(c, x, y), col, cov);
            }
    }
    for (int k = 0; k < 10; k++) {
        double x1 = rng_next(&s) % 256, y1 = rng_next(&s) % 256;
        double x2 = rng_next(&s) % 256 + 0.37, y2 = rng_next(&s) % 256 + 0.61;
        double lw = 0.6 + (rng_next(&s) % 30) / 10.0;
        ts_rgba col = lines[k % 3];
        for (int y = 0; y < c->h; y++)
            for (int x = 0; x < c->w; x++) {
                double cov = line_cover(x1, y1, x2, y2, lw, x, y);
                if (cov > 0)
                    blend(pixel(c, x, y), col, cov);
            }
    }
    /* flat pixels: equal to all 4 neighbours (interior of a fill) */
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            uint32_t p = *pixel(c, x, y);
            int flat = x > 0 && y > 0 && x < c->w - 1 && y < c->h - 1 && *pixel(c, x - 1, y) == p &&
                       *pixel(c, x + 1, y) == p && *pixel(c, x, y - 1) == p &&
                       *pixel(c, x, y + 1) == p;
            flat_mask[y * c->w + x] = (uint8_t)flat;
        }
    /* distinct colours */
    size_t n = (size_t)c->w * (size_t)c->h;
    uint32_t *tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL)
        return -1;
    for (int y = 0; y < c->h; y++)
        memcpy(tmp + (size_t)y * c->w, pixel(c, 0, y), (size_t)c->w * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_u32);
    int distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || tmp[i] != tmp[i - 1];
    free(tmp);
    return distinct;
}

TS_TEST(encode_palette_quantiser_keeps_aa_ramps)
{
    ts_canvas *c = ts_canvas_new(256, 256, NULL);
    uint8_t *flat = malloc(256 * 256);
    TS_REQUIRE(c != NULL && flat != NULL);
    for (int variant = 0; variant < 2; variant++) {
        int distinct = draw_map_tile(c, 77 + (uint64_t)variant, variant, flat);
        TS_CHECK(distinct > 1000); /* far more than 256: the quantiser must work */
        ts_buf b;
        TS_REQUIRE(encode(c, 0, 0, 256, 256, TS_PNG_PALETTE, 0, &b));
        TS_CHECK_INT(png_ctype(&b), 3);
        ts_canvas *d = decode(&b);
        TS_REQUIRE(d != NULL);
        int maxe = 0, flat_err = 0;
        double sum = 0;
        long nedge = 0;
        for (int y = 0; y < 256; y++)
            for (int x = 0; x < 256; x++) {
                uint32_t p = *pixel(c, x, y), q = *pixel(d, x, y);
                if (flat[y * 256 + x]) {
                    flat_err += p != q;
                    continue;
                }
                nedge++;
                for (int ch = 0; ch < 32; ch += 8) {
                    int e = abs((int)((p >> ch) & 255) - (int)((q >> ch) & 255));
                    maxe = e > maxe ? e : maxe;
                    sum += e;
                }
            }
        double mean = sum / (4.0 * (double)nedge);
        fprintf(stderr, "  variant %d: %d colours, %ld AA pixels, max error %d, mean %.2f\n",
                variant, distinct, nedge, maxe, mean);
        /* Flat interiors keep their exact colour (their entries are isolated boxes).
         * 10 paint colours, translucent fills over each other and lines over fills
         * make ~30 flat colours and up to ~80 ramps between pairs of them (plus
         * blends of three where a line crosses an edge). With ~225 entries left
         * after the flat colours, every ramp can get 2-3 intermediate levels, so
         * even a full-range (255) ramp stays within 255 / (2 * (3 + 1)) ~ 32; the
         * greedy split gives long and busy ramps more. Snapping a ramp to its ends
         * would leave errors up to half the ramp, ~127. Over all AA pixels the mean
         * error is small: most of them sit on or next to an entry (< 2.5). */
        TS_CHECK_INT(flat_err, 0);
        TS_CHECK(maxe <= 32);
        TS_CHECK(mean <= 2.5);
        ts_canvas_free(d);
        ts_buf_fini(&b);
    }
    free(flat);
    ts_canvas_free(c);
}

TS_TEST(encode_palette_grey_ramp_is_not_banded)
{
    /* one anti-aliased edge between black and white at every sub-pixel offset gives all
     * 256 greys, plus noise colours elsewhere that push the count over 256: each grey
     * must map to an entry within a few levels (banding = runs of greys snapped to a
     * few values; snapping to the ends = errors near 127) */
    ts_canvas *c = ts_canvas_new(256, 64, NULL);
    TS_REQUIRE(c != NULL);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 256; x++)
            *pixel(c, x, y) = px_of(x, x, x, 255);
    uint64_t s = 5;
    for (int y = 32; y < 64; y++)
        for (int x = 0; x < 256; x++) {
            uint32_t v = rng_next(&s);
            *pixel(c, x, y) = px_of(v & 255, (v >> 8) & 255, (v >> 16) & 255, 255);
        }
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 256, 64, TS_PNG_PALETTE, 0, &b));
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    int maxe = 0, levels = 0, prev = -1;
    for (int x = 0; x < 256; x++) {
        int g = (int)(*pixel(d, x, 0) & 255);
        int e = abs(g - x);
        maxe = e > maxe ? e : maxe;
        levels += g != prev;
        prev = g;
        TS_CHECK(g >= prev || x == 0); /* monotone */
    }
    fprintf(stderr, "  grey ramp: %d levels, max error %d\n", levels, maxe);
    /* The 256 greys hold 8192 pixels, the 8192 noise colours one each. Even if the
     * entries went in proportion to pixels, the ramp would get half: >= 64 levels and
     * error <= 2. Leave room for a worse split: >= 24 levels, error <= 8. */
    TS_CHECK(levels >= 24);
    TS_CHECK(maxe <= 8);
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

TS_TEST(encode_palette_large_region_buckets_colours)
{
    /* more than 65,536 distinct colours: the histogram falls back to buckets; the
     * result must still be a valid, sensible palette image */
    ts_canvas *c = ts_canvas_new(400, 300, NULL);
    TS_REQUIRE(c != NULL);
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 400; x++)
            *pixel(c, x, y) = px_of(x * 255 / 399, y * 255 / 299, (x ^ y) & 255, 255);
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 400, 300, TS_PNG_PALETTE, 0, &b));
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    double sum = 0;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 400; x++)
            for (int ch = 0; ch < 24; ch += 8)
                sum += abs((int)((*pixel(c, x, y) >> ch) & 255) -
                           (int)((*pixel(d, x, y) >> ch) & 255));
    double mean = sum / (3.0 * 400 * 300);
    fprintf(stderr, "  3-D gradient: mean error %.2f\n", mean);
    /* 256 entries over a 256^3 cube slice: ~6.3 per axis, cells ~40 wide, mean |e|
     * about a quarter of that in each channel; 16 flags a broken mapping */
    TS_CHECK(mean < 16);
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

/* ---- decoding other PNGs ----------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *d;
    size_t n, cap;
} wbuf;

static void
wb_write(png_structp png, png_bytep data, size_t n)
{
    wbuf *b = png_get_io_ptr(png);
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2;
        uint8_t *d = realloc(b->d, cap);
        if (d == NULL)
            png_error(png, "oom");
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, data, n);
    b->n += n;
}

static void
wb_flush(png_structp png)
{
    (void)png;
}

typedef struct pngspec {
    int w, h, depth, ctype, interlace;
    const png_color *plte;
    int nplte;
    const png_byte *trns;
    int ntrns;
    const png_color_16 *trns_col;
} pngspec;

/* Write a PNG with libpng from packed rows (rowbytes each, as the PNG stores them). */
static int
write_png(const pngspec *sp, const uint8_t *rows, size_t rowbytes, wbuf *out)
{
    memset(out, 0, sizeof *out);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_write_fn(png, out, wb_write, wb_flush);
    png_set_IHDR(png, info, (png_uint_32)sp->w, (png_uint_32)sp->h, sp->depth, sp->ctype,
                 sp->interlace, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (sp->plte)
        png_set_PLTE(png, info, sp->plte, sp->nplte);
    if (sp->trns || sp->trns_col)
        png_set_tRNS(png, info, sp->trns, sp->ntrns, sp->trns_col);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < sp->h; y++)
            png_write_row(png, rows + (size_t)y * rowbytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 1;
}

TS_TEST(decode_grey_palette_16bit_interlaced_trns)
{
    enum { W = 13, H = 9 };
    uint8_t rows[H * W * 8];
    wbuf wb;
    ts_canvas *d;

    /* 1. grey, 1 bit */
    memset(rows, 0, sizeof rows);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if ((x + y) % 2)
                rows[y * 2 + x / 8] |= (uint8_t)(0x80 >> (x % 8));
    pngspec g1 = {W, H, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, NULL};
    TS_REQUIRE(write_png(&g1, rows, 2, &wb));
    d = ts_png_decode(wb.d, wb.n, NULL);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(*pixel(d, 0, 0), 0xff000000u);
    TS_CHECK_INT(*pixel(d, 1, 0), 0xffffffffu);
    ts_canvas_free(d);
    free(wb.d);

    /* 2. grey 8 bit with a tRNS grey value, interlaced */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            rows[y * W + x] = (uint8_t)(x * 20);
    png_color_16 tg = {0, 0, 0, 0, 40};
    pngspec g8 = {W, H, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_ADAM7, NULL, 0, NULL, 0, &tg};
    TS_REQUIRE(write_png(&g8, rows, W, &wb));
    d = ts_png_decode(wb.d, wb.n, NULL);
    TS_REQUIRE(d != NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            TS_CHECK_INT(*pixel(d, x, y), x == 2 ? 0u : px_of(x * 20, x * 20, x * 20, 255));
    ts_canvas_free(d);
    free(wb.d);

    /* 3. grey + alpha, 16 bit: scaled with rounding, then premultiplied */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint16_t gv = (uint16_t)(x * 5000 + 1), av = (uint16_t)(y * 8000 + 7);
            uint8_t *q = rows + (y * W + x) * 4;
            q[0] = (uint8_t)(gv >> 8);
            q[1] = (uint8_t)gv;
            q[2] = (uint8_t)(av >> 8);
            q[3] = (uint8_t)av;
        }
    pngspec ga = {W, H, 16, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, NULL};
    TS_REQUIRE(write_png(&ga, rows, W * 4, &wb));
    d = ts_png_decode(wb.d, wb.n, NULL);
    TS_REQUIRE(d != NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int gv = (int)(((x * 5000 + 1) * 255L + 32767) / 65535);
            int av = (int)(((y * 8000 + 7) * 255L + 32767) / 65535);
            TS_CHECK_INT(*pixel(d, x, y), px_of(gv, gv, gv, av));
        }
    ts_canvas_free(d);
    free(wb.d);

    /* 4. RGB 16 bit, interlaced */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < 3; ch++) {
                uint16_t v = (uint16_t)(x * 4000 + y * 300 + ch * 11);
                rows[(y * W + x) * 6 + ch * 2] = (uint8_t)(v >> 8);
                rows[(y * W + x) * 6 + ch * 2 + 1] = (uint8_t)v;
            }
    pngspec r16 = {W, H, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, NULL, 0, NULL, 0, NULL};
    TS_REQUIRE(write_png(&r16, rows, W * 6, &wb));
    d = ts_png_decode(wb.d, wb.n, NULL);
    TS_REQUIRE(d != NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v[3];
            for (int ch = 0; ch < 3; ch++)
                v[ch] = (int)(((x * 4000 + y * 300 + ch * 11) * 255L + 32767) / 65535);
            TS_CHECK_INT(*pixel(d, x, y), px_of(v[0], v[1], v[2], 255));
        }
    ts_canvas_free(d);
    free(wb.d);

    /* 5. palette, 4 bit, with a short tRNS */
    png_color plte[5] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 8, 7}, {100, 150, 200}};
    png_byte trns[2] = {0, 77};
    memset(rows, 0, sizeof rows);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            rows[y * 7 + x / 2] |= (uint8_t)(((x + y) % 5) << (x % 2 ? 0 : 4));
    pngspec p4 = {W, H, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, plte, 5, trns, 2, NULL};
    TS_REQUIRE(write_png(&p4, rows, 7, &wb));
    d = ts_png_decode(wb.d, wb.n, NULL);
    TS_REQUIRE(d != NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int k = (x + y) % 5, a = k < 2 ? trns[k] : 255;
            TS_CHECK_INT(*pixel(d, x, y), px_of(plte[k].red, plte[k].green, plte[k].blue, a));
        }
    ts_canvas_free(d);
    free(wb.d);
}

/* ---- malformed input --------------------------------------------------------------- */

static void
fix_crc(uint8_t *d, long chunk)
{
    uint32_t len = be32(d + chunk);
    uint32_t crc = (uint32_t)crc32(0, d + chunk + 4, len + 4);
    put_be32(d + chunk + 8 + len, crc);
}

/* fuzz_png found it: a 46-byte PNG whose sPLT chunk claims 0x23000300 bytes made libpng
 * allocate 587 MB before reading the (missing) data. Refused by the allocator now. */
TS_TEST(decode_refuses_huge_chunk_allocation)
{
    static const uint8_t png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x09, 0x08, 0x03, 0x00, 0x00,
        0x00, 0xe3, 0x36, 0x37, 0x3e, 0x23, 0x00, 0x03, 0x00, 0x73, 0x50, 0x4c, 0x54, 0x45,
        0x01, 0x00, 0x02, 0x82};
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(png, sizeof png, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ELIMIT);
    TS_CHECK(strstr(err.msg, "libpng asked for") != NULL);
}

TS_TEST(decode_rejects_malformed_png)
{
    ts_canvas *c = random_canvas(20, 10, 11, 0);
    TS_REQUIRE(c != NULL);
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 20, 10, TS_PNG_TRUECOLOR, 0, &b));
    ts_err err;

    /* not a PNG, empty, NULL */
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode((const uint8_t *)"GIF89a....", 10, &err) == NULL);
    TS_CHECK(strstr(err.msg, "not a PNG") != NULL);
    TS_CHECK(ts_png_decode(b.data, 0, &err) == NULL);
    TS_CHECK(ts_png_decode(NULL, 100, &err) == NULL);

    /* every truncation fails cleanly */
    int ok = 0;
    for (size_t n = 0; n < b.len; n++) {
        ts_err_clear(&err);
        ts_canvas *d = ts_png_decode(b.data, n, &err);
        ok += d == NULL && err.code != TS_OK && err.msg[0] != '\0';
        ts_canvas_free(d);
    }
    TS_CHECK_INT(ok, (long)b.len);
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(b.data, b.len - 20, &err) == NULL);
    TS_CHECK(strstr(err.msg, "truncated") != NULL);

    /* bad CRC of IDAT (data intact), then corrupt data (caught by zlib's check or the
     * CRC, whichever comes first) */
    uint8_t *m = malloc(b.len);
    TS_REQUIRE(m != NULL);
    uint32_t clen;
    long idat = find_chunk(b.data, b.len, "IDAT", &clen);
    TS_REQUIRE(idat > 0);
    memcpy(m, b.data, b.len);
    m[idat + 8 + clen + 1] ^= 0x40;
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
    TS_CHECK(strstr(err.msg, "CRC") != NULL);
    memcpy(m, b.data, b.len);
    m[idat + 8 + clen / 2] ^= 0x40;
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
    TS_CHECK(err.msg[0] != '\0');
    /* bad CRC of IHDR */
    memcpy(m, b.data, b.len);
    m[29] ^= 1;
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
    TS_CHECK(strstr(err.msg, "CRC") != NULL);

    /* corrupt zlib data with a valid CRC */
    memcpy(m, b.data, b.len);
    for (uint32_t k = 2; k < clen; k += 3)
        m[idat + 8 + k] ^= 0x5a;
    fix_crc(m, idat);
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
    TS_CHECK(err.msg[0] != '\0');

    /* huge dimensions in IHDR (CRC fixed so only the size is wrong) */
    static const uint32_t dims[][2] = {
        {100000, 10}, {16384, 16384}, {0x7fffffff, 1}, {0, 10}, {20, 0x80000000u}};
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        memcpy(m, b.data, b.len);
        put_be32(m + 16, dims[k][0]);
        put_be32(m + 20, dims[k][1]);
        fix_crc(m, 8);
        ts_err_clear(&err);
        TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
        TS_CHECK(err.msg[0] != '\0');
        if (k < 3) {
            TS_CHECK_INT(err.code, TS_ELIMIT);
            TS_CHECK(strstr(err.msg, "limit") != NULL);
        }
    }
    /* 8192 x 8193 is under the side limit and over 64 Mpixel */
    memcpy(m, b.data, b.len);
    put_be32(m + 16, 8192);
    put_be32(m + 20, 8193);
    fix_crc(m, 8);
    TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ELIMIT);
    /* height 1 larger than the data: the decoder runs out of image data */
    memcpy(m, b.data, b.len);
    put_be32(m + 20, 11);
    fix_crc(m, 8);
    ts_err_clear(&err);
    TS_CHECK(ts_png_decode(m, b.len, &err) == NULL);
    TS_CHECK(err.msg[0] != '\0');

    /* random byte flips: never a crash (ASan/UBSan watch), always NULL + message or a
     * canvas of the right size (a flip in an ancillary chunk or in unused bits) */
    uint64_t s = 2024;
    int rejected = 0;
    for (int t = 0; t < 400; t++) {
        memcpy(m, b.data, b.len);
        int flips = 1 + (int)(rng_next(&s) % 4);
        for (int f = 0; f < flips; f++)
            m[8 + rng_next(&s) % (b.len - 8)] ^= (uint8_t)(1 + rng_next(&s) % 255);
        ts_err_clear(&err);
        ts_canvas *d = ts_png_decode(m, b.len, &err);
        if (d == NULL) {
            rejected++;
            TS_CHECK(err.msg[0] != '\0');
        } else {
            TS_CHECK(d->w >= 1 && d->h >= 1);
        }
        ts_canvas_free(d);
    }
    TS_CHECK(rejected > 300); /* CRCs catch nearly all of them */
    free(m);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

/* Runs last (tests run in file order): it fills the process-wide uniform table. */
TS_TEST(encode_uniform_table_full_falls_back)
{
    /* fill the table with many distinct keys; once full, ts_png_uniform says NULL and
     * ts_png_encode still produces a correct PNG */
    int nulls = 0;
    for (uint32_t k = 0; k < 300; k++)
        nulls += ts_png_uniform(0xff000000u | k, 8, 8, TS_PNG_TRUECOLOR, NULL) == NULL;
    TS_CHECK(nulls > 0);
    TS_CHECK(nulls < 300);
    ts_canvas *c = ts_canvas_new(8, 8, NULL);
    TS_REQUIRE(c != NULL);
    ts_canvas_clear(c, (ts_rgba){1, 2, 3, 255});
    ts_buf b;
    TS_REQUIRE(encode(c, 0, 0, 8, 8, TS_PNG_TRUECOLOR, 0, &b));
    ts_canvas *d = decode(&b);
    TS_REQUIRE(d != NULL);
    TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
    ts_canvas_free(d);
    ts_buf_fini(&b);
    ts_canvas_free(c);
}

/* ---- the fast deflate (zlevel -1) ---------------------------------------------------- */

/* Row bytes (filter byte excluded) of a PNG from its IHDR. */
static size_t
png_rowbytes(const ts_buf *b)
{
    int ctype = png_ctype(b), depth = png_depth(b);
    size_t w = be32(b->data + 16);
    int ch = ctype == 2 ? 3 : ctype == 6 ? 4 : 1;
    return (w * (size_t)ch * (size_t)depth + 7) / 8;
}

/* The scanlines of a PNG: its IDAT payloads, concatenated and inflated by zlib's
 * uncompress(). NULL if that fails or the size is not h * (1 + rowbytes). */
static uint8_t *
idat_inflate(const ts_buf *b, size_t *len)
{
    size_t want = (size_t)be32(b->data + 20) * (1 + png_rowbytes(b));
    uint8_t *z = malloc(b->len), *raw = malloc(want + 1);
    size_t zn = 0, p = 8;
    if (z == NULL || raw == NULL)
        goto fail;
    while (p + 12 <= b->len) {
        uint32_t n = be32(b->data + p);
        if (n > b->len - p - 12)
            goto fail;
        if (memcmp(b->data + p + 4, "IDAT", 4) == 0) {
            memcpy(z + zn, b->data + p + 8, n);
            zn += n;
        }
        p += 12 + (size_t)n;
    }
    uLongf rl = (uLongf)want + 1;
    if (uncompress(raw, &rl, z, (uLong)zn) != Z_OK || rl != want)
        goto fail;
    free(z);
    *len = want;
    return raw;
fail:
    free(z);
    free(raw);
    return NULL;
}

static int
encode_level(const ts_canvas *c, int x0, int y0, int w, int h, ts_png_mode mode, int colors,
             int zlevel, ts_buf *out)
{
    ts_png_opts o = {mode, zlevel, colors};
    ts_err err;
    ts_err_clear(&err);
    ts_buf_init(out, 256u << 20);
    ts_status st = ts_png_encode(c, x0, y0, w, h, &o, out, &err);
    if (st != TS_OK)
        fprintf(stderr, "  encode (zlevel %d): %s\n", zlevel, err.msg);
    return st == TS_OK;
}

/* Encode the region with the fast deflate and with libdeflate (zlevel 6): the chunks
 * before IDAT must be the same bytes, the IDAT streams must inflate (zlib) to the same
 * scanlines, and both PNGs must decode (libpng) to the same pixels, which for truecolour
 * are the region's. Returns the number of failed checks (also reported). */
static int
check_fast(const ts_canvas *c, int x0, int y0, int w, int h, ts_png_mode mode, int colors,
           const char *what)
{
    ts_buf f, r;
    int bad = 0;
    if (!encode_level(c, x0, y0, w, h, mode, colors, -1, &f) ||
        !encode_level(c, x0, y0, w, h, mode, colors, 6, &r)) {
        fprintf(stderr, "  %s: encode failed\n", what);
        return 1;
    }
    long fi = find_chunk(f.data, f.len, "IDAT", NULL), ri = find_chunk(r.data, r.len, "IDAT", NULL);
    if (fi < 0 || fi != ri || memcmp(f.data, r.data, (size_t)fi) != 0) {
        fprintf(stderr, "  %s: headers differ\n", what);
        bad++;
    }
    size_t fl = 0, rl = 0;
    uint8_t *fraw = idat_inflate(&f, &fl), *rraw = idat_inflate(&r, &rl);
    if (fraw == NULL || rraw == NULL || fl != rl || memcmp(fraw, rraw, fl) != 0) {
        fprintf(stderr, "  %s: scanlines differ (%s)\n", what,
                fraw == NULL ? "fast IDAT does not inflate" : "inflated bytes");
        bad++;
    }
    free(fraw);
    free(rraw);
    ts_canvas *fd = ts_png_decode(f.data, f.len, NULL), *rd = ts_png_decode(r.data, r.len, NULL);
    if (fd == NULL || rd == NULL || fd->w != w || fd->h != h) {
        fprintf(stderr, "  %s: decode failed\n", what);
        bad++;
    } else {
        long d = count_diff(rd, 0, 0, fd);
        if (mode == TS_PNG_TRUECOLOR)
            d += count_diff(c, x0, y0, fd);
        if (d) {
            fprintf(stderr, "  %s: %ld pixels differ\n", what, d);
            bad++;
        }
    }
    ts_canvas_free(fd);
    ts_canvas_free(rd);
    ts_buf_fini(&f);
    ts_buf_fini(&r);
    return bad;
}

/* The stream of ts_encode__deflate for src (with its slack) inflates to src. */
static int
deflate_roundtrip(const uint8_t *src, size_t n, size_t bpp, size_t stride, size_t *zlen)
{
    uint8_t *in = malloc(n + TS_ENCODE__DEFLATE_SLACK);
    uint8_t *z = malloc(ts_encode__deflate_bound(n)), *back = malloc(n + 1);
    int ok = 0;
    if (in == NULL || z == NULL || back == NULL)
        goto done;
    memcpy(in, src, n);
    memset(in + n, 0xa5, TS_ENCODE__DEFLATE_SLACK); /* never part of the output */
    size_t m = ts_encode__deflate(in, n, bpp, stride, z);
    uLongf bl = (uLongf)n + 1;
    ok = m > 0 && m + 8 <= ts_encode__deflate_bound(n) &&
         uncompress(back, &bl, z, (uLong)m) == Z_OK && bl == n && memcmp(back, src, n) == 0;
    if (!ok)
        fprintf(stderr, "  deflate n=%zu bpp=%zu stride=%zu: %zu bytes, round trip failed\n", n,
                bpp, stride, m);
    if (zlen)
        *zlen = m;
done:
    free(in);
    free(z);
    free(back);
    return ok;
}

TS_TEST(fast_deflate_raw_inputs_round_trip)
{
    enum { N = 3 << 20 };
    uint8_t *buf = malloc(N);
    TS_REQUIRE(buf != NULL);
    uint64_t s = 99;
    size_t zlen;

    /* tiny inputs: every length below the 8-byte fast path, all zero or all distinct */
    for (size_t n = 0; n <= 20; n++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)i;
        TS_CHECK(deflate_roundtrip(buf, n, 3, 4, NULL));
        memset(buf, 0, n);
        TS_CHECK(deflate_roundtrip(buf, n, 1, 0, NULL));
    }
    /* bpp 1..4 and strides: none, short, equal to bpp (ignored), beyond the window */
    for (size_t n = 0; n < 5000; n++)
        buf[n] = (uint8_t)((n % 7 == 0 ? rng_next(&s) : n / 13) & 0xff);
    static const size_t strides[] = {0, 1, 5, 64, 101, 4097, 32768, 32769, 40000};
    for (size_t bpp = 1; bpp <= 4; bpp++)
        for (size_t k = 0; k < sizeof strides / sizeof strides[0]; k++)
            TS_CHECK(deflate_roundtrip(buf, 5000, bpp, strides[k], NULL));

    /* incompressible: stored blocks (3 MiB: more than one block and one 64 KiB piece),
     * and the output may exceed the input only by the stored overhead */
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)rng_next(&s);
    TS_CHECK(deflate_roundtrip(buf, N, 3, 769, &zlen));
    TS_CHECK(zlen <= N + N / 65535 * 5 + 64);

    /* four symbols at random: short matches everywhere, so many sequences that the
     * dynamic blocks split (more than 16 Ki sequences) */
    for (size_t i = 0; i < N / 4; i++)
        buf[i] = (uint8_t)(rng_next(&s) & 3) * 60;
    TS_CHECK(deflate_roundtrip(buf, N / 4, 4, 1025, &zlen));
    TS_CHECK(zlen < N / 4 / 2);

    /* all zero: matches of 258 at the run distance, > 16 Ki of them in 5 MiB is not
     * needed: 3 MiB of zeros compresses to a few KiB */
    memset(buf, 0, N);
    TS_CHECK(deflate_roundtrip(buf, N, 3, 769, &zlen));
    TS_CHECK(zlen < 16384);

    /* a byte sequence repeated at a distance that is neither bpp nor the row: found by
     * the hash table, also across the 32 KiB window's edge */
    for (size_t i = 0; i < 100000; i++)
        buf[i] = i < 30000 ? (uint8_t)rng_next(&s) : buf[i - 30000];
    /* bpp 1: every byte is looked up (with bpp 3 the lookups run at one phase per
     * segment, and random bytes repeated at an arbitrary distance are rarely met in
     * phase; tiles' edge colours are, see fast_deflate_is_default_and_compresses_map_tiles) */
    TS_CHECK(deflate_roundtrip(buf, 100000, 1, 769, &zlen));
    TS_CHECK(zlen < 40000);
    TS_CHECK(deflate_roundtrip(buf, 100000, 3, 769, NULL));
    for (size_t i = 0; i < 100000; i++)
        buf[i] = i < 32769 ? (uint8_t)rng_next(&s) : buf[i - 32769]; /* just out of reach */
    TS_CHECK(deflate_roundtrip(buf, 100000, 3, 769, NULL));

    /* same input, same bytes (the hash table is cleared per call) */
    uint8_t *z1 = malloc(ts_encode__deflate_bound(5000)), *z2 = malloc(ts_encode__deflate_bound(5000));
    TS_REQUIRE(z1 != NULL && z2 != NULL);
    for (size_t i = 0; i < 5000 + TS_ENCODE__DEFLATE_SLACK; i++)
        buf[i] = (uint8_t)(i / 50);
    size_t m1 = ts_encode__deflate(buf, 5000, 3, 100, z1);
    for (size_t i = 0; i < 5000; i++)
        buf[N - 5000 - 8 + i] = (uint8_t)rng_next(&s); /* something else in between */
    TS_CHECK(ts_encode__deflate(buf + N - 5000 - 8, 5000, 3, 100, z2) > 0);
    size_t m2 = ts_encode__deflate(buf, 5000, 3, 100, z2);
    TS_CHECK(m1 == m2 && memcmp(z1, z2, m1) == 0);
    free(z1);
    free(z2);
    free(buf);
}

TS_TEST(fast_deflate_png_shapes_and_modes)
{
    /* sizes: 1x1, rows and columns of one pixel, widths that are multiples of nothing,
     * and one larger image (several blocks); contents: noise, one colour, map-like */
    static const int sizes[][2] = {{1, 1},   {1, 37},  {37, 1},  {2, 2},   {3, 5},
                                   {7, 3},   {13, 17}, {31, 9},  {65, 33}, {127, 4},
                                   {256, 1}, {1, 300}, {257, 63}};
    int bad = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        for (int opaque = 0; opaque < 2; opaque++) {
            ts_canvas *c = random_canvas(w, h, 1000 + k, opaque);
            TS_REQUIRE(c != NULL);
            char what[64];
            snprintf(what, sizeof what, "noise %dx%d %s", w, h, opaque ? "rgb" : "rgba");
            bad += check_fast(c, 0, 0, w, h, TS_PNG_TRUECOLOR, 0, what);
            bad += check_fast(c, 0, 0, w, h, TS_PNG_PALETTE, 0, what);
            /* one colour with one different pixel (not uniform: encoded for real) */
            ts_canvas_clear(c, opaque ? (ts_rgba){10, 200, 30, 255} : (ts_rgba){10, 200, 30, 77});
            *pixel(c, w - 1, h - 1) = px_of(1, 2, 3, 255);
            snprintf(what, sizeof what, "flat %dx%d %s", w, h, opaque ? "rgb" : "rgba");
            bad += check_fast(c, 0, 0, w, h, TS_PNG_TRUECOLOR, 0, what);
            bad += check_fast(c, 0, 0, w, h, TS_PNG_PALETTE, 0, what);
            ts_canvas_free(c);
        }
    }
    /* map-like tiles, opaque and on transparent ground, whole and as sub-regions */
    ts_canvas *c = ts_canvas_new(256, 256, NULL);
    uint8_t *flat = malloc(256 * 256);
    TS_REQUIRE(c != NULL && flat != NULL);
    for (int variant = 0; variant < 2; variant++) {
        draw_map_tile(c, 500 + (uint64_t)variant, variant, flat);
        bad += check_fast(c, 0, 0, 256, 256, TS_PNG_TRUECOLOR, 0, "map tile");
        bad += check_fast(c, 0, 0, 256, 256, TS_PNG_PALETTE, 0, "map tile png8");
        bad += check_fast(c, 37, 5, 101, 250, TS_PNG_TRUECOLOR, 0, "map sub-region");
        bad += check_fast(c, 3, 200, 253, 1, TS_PNG_TRUECOLOR, 0, "map row");
    }
    free(flat);
    ts_canvas_free(c);
    /* larger than one block: 1100 x 1000 of few colours at random */
    c = ts_canvas_new(1100, 1000, NULL);
    TS_REQUIRE(c != NULL);
    uint64_t s = 4;
    static const uint32_t few[4] = {0xff102030u, 0xff405060u, 0xff708090u, 0xffa0b0c0u};
    for (int y = 0; y < 1000; y++)
        for (int x = 0; x < 1100; x++)
            *pixel(c, x, y) = few[rng_next(&s) & 3];
    bad += check_fast(c, 0, 0, 1100, 1000, TS_PNG_TRUECOLOR, 0, "few colours 1100x1000");
    ts_canvas_free(c);
    TS_CHECK_INT(bad, 0);
}

TS_TEST(fast_deflate_palette_every_depth)
{
    /* 2, 4, 16 and 256 entries: 1, 2, 4 and 8 bits per index, rows of any width (partial
     * last bytes); exact when the colours fit, so the decoded image is the original */
    static const int ncol[] = {2, 3, 4, 5, 16, 17, 200, 256};
    static const int depth[] = {1, 2, 2, 4, 4, 8, 8, 8};
    int bad = 0;
    for (size_t k = 0; k < sizeof ncol / sizeof ncol[0]; k++) {
        for (int w = 1; w <= 41; w += 8) {
            int h = 1 + (w * 7) % 23;
            ts_canvas *c = ts_canvas_new(w, h, NULL);
            TS_REQUIRE(c != NULL);
            uint64_t s = 77 + k;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    /* runs of one index, so that matches occur */
                    int i = (int)((x / 3 + y * 5 + (int)(rng_next(&s) % 2)) % ncol[k]);
                    if (w * h < ncol[k])
                        i = (x + y * w) % ncol[k];
                    *pixel(c, x, y) = px_of(i * 37 % 256, i * 91 % 256, i, i % 3 ? 255 : 128);
                }
            char what[64];
            snprintf(what, sizeof what, "palette %d colours %dx%d", ncol[k], w, h);
            bad += check_fast(c, 0, 0, w, h, TS_PNG_PALETTE, 0, what);
            ts_buf b;
            TS_REQUIRE(encode(c, 0, 0, w, h, TS_PNG_PALETTE, 0, &b));
            uint32_t seen[256];
            int nseen = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int j = 0;
                    while (j < nseen && seen[j] != *pixel(c, x, y))
                        j++;
                    if (j == nseen)
                        seen[nseen++] = *pixel(c, x, y);
                }
            int want = nseen <= 2 ? 1 : nseen <= 4 ? 2 : nseen <= 16 ? 4 : 8;
            TS_CHECK_INT(png_depth(&b), want);
            TS_CHECK(want <= depth[k]);
            ts_canvas *d = decode(&b);
            TS_REQUIRE(d != NULL);
            TS_CHECK_INT(count_diff(c, 0, 0, d), 0);
            ts_canvas_free(d);
            ts_buf_fini(&b);
            ts_canvas_free(c);
        }
    }
    TS_CHECK_INT(bad, 0);
}

TS_TEST(fast_deflate_fuzz_random_images)
{
    /* random sizes, contents and regions; each checked as in check_fast */
    uint64_t s = 20250101;
    int bad = 0;
    for (int it = 0; it < 150; it++) {
        int W = 1 + (int)(rng_next(&s) % 90), H = 1 + (int)(rng_next(&s) % 60);
        ts_canvas *c = ts_canvas_new(W, H, NULL);
        TS_REQUIRE(c != NULL);
        int kind = (int)(rng_next(&s) % 4), ncol = 1 + (int)(rng_next(&s) % 40);
        uint32_t pal[40];
        for (int i = 0; i < 40; i++) {
            uint32_t v = rng_next(&s);
            int a = kind == 3 ? (int)(v >> 24) : 255;
            pal[i] = px_of(v & 255, (v >> 8) & 255, (v >> 16) & 255, a);
        }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint32_t v = rng_next(&s);
                uint32_t p;
                if (kind == 0) /* noise */
                    p = px_of(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >> 24) % 3 ? 255 : (int)(v >> 24));
                else if (kind == 1 || x == 0) /* few colours, scattered */
                    p = pal[v % (uint32_t)ncol];
                else /* runs: mostly the left or the upper pixel */
                    p = v % 10 < 6 ? *pixel(c, x - 1, y)
                        : v % 10 < 9 && y > 0 ? *pixel(c, x, y - 1)
                                              : pal[v % (uint32_t)ncol];
                *pixel(c, x, y) = p;
            }
        int x0 = (int)(rng_next(&s) % (uint32_t)W), y0 = (int)(rng_next(&s) % (uint32_t)H);
        int w = 1 + (int)(rng_next(&s) % (uint32_t)(W - x0)), h = 1 + (int)(rng_next(&s) % (uint32_t)(H - y0));
        char what[80];
        snprintf(what, sizeof what, "fuzz %d: kind %d %dx%d at (%d,%d) of %dx%d", it, kind, w, h,
                 x0, y0, W, H);
        bad += check_fast(c, x0, y0, w, h, TS_PNG_TRUECOLOR, 0, what);
        if (it % 3 == 0)
            bad += check_fast(c, x0, y0, w, h, TS_PNG_PALETTE, 2 + it % 255, what);
        ts_canvas_free(c);
    }
    TS_CHECK_INT(bad, 0);
}

TS_TEST(fast_deflate_is_default_and_compresses_map_tiles)
{
    /* zlevel -1 uses the fast encoder (zlib header 78 01), explicit levels libdeflate;
     * on a map-like tile the fast stream is within 1.15x of libdeflate level 1 */
    ts_canvas *c = ts_canvas_new(256, 256, NULL);
    uint8_t *flat = malloc(256 * 256);
    TS_REQUIRE(c != NULL && flat != NULL);
    draw_map_tile(c, 31, 0, flat);
    ts_buf f, l1;
    TS_REQUIRE(encode_level(c, 0, 0, 256, 256, TS_PNG_TRUECOLOR, 0, -1, &f));
    TS_REQUIRE(encode_level(c, 0, 0, 256, 256, TS_PNG_TRUECOLOR, 0, 1, &l1));
    long fi = find_chunk(f.data, f.len, "IDAT", NULL);
    TS_REQUIRE(fi > 0);
    TS_CHECK_INT(f.data[fi + 8], 0x78);
    TS_CHECK_INT(f.data[fi + 9], 0x01);
    fprintf(stderr, "  map tile: fast %zu bytes, libdeflate 1 %zu bytes\n", f.len, l1.len);
    TS_CHECK(f.len <= l1.len * 115 / 100);
    TS_CHECK(f.len < 256 * 256 * 3 / 4); /* and it does compress */
    ts_buf_fini(&f);
    ts_buf_fini(&l1);
    free(flat);
    ts_canvas_free(c);
}
