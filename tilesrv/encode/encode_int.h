/* encode/encode_int.h — shared between the files of the encode module (and the PNG
 * benchmark, which sweeps the zlib/filter settings); not a public interface.
 * No libpng or libdeflate header is needed to include this one. */
#ifndef TS_ENCODE_ENCODE_INT_H
#define TS_ENCODE_ENCODE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "encode/encode.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "encode assumes a little-endian host (pixel value r | g << 8 | b << 16 | a << 24)"
#endif

/* 1 if the w pixels at r all equal v. Whole rows are compared in 16-byte vectors
 * (GCC/Clang vector extension; -O2 does not vectorise the plain loop). */
static inline int
ts_encode__row_equal(const uint32_t *r, int w, uint32_t v)
{
    typedef uint32_t u32x4 __attribute__((vector_size(16)));
    u32x4 vv = {v, v, v, v}, acc = {0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= w; i += 8) {
        u32x4 a, b;
        memcpy(&a, r + i, sizeof a);
        memcpy(&b, r + i + 4, sizeof b);
        acc |= (a ^ vv) | (b ^ vv);
    }
    uint32_t d = acc[0] | acc[1] | acc[2] | acc[3];
    for (; i < w; i++)
        d |= r[i] ^ v;
    return d == 0;
}

typedef struct ts_encode__tuning {
    int level;    /* TS_ENCODE__FAST: this module's encoder (deflate.c); else libdeflate 0..12 */
} ts_encode__tuning;

#define TS_ENCODE__FAST (-1)

/* The settings used for zlevel = -1, per mode (see the measurements in png_write.c). */
ts_encode__tuning ts_encode__default_tuning(ts_png_mode mode);

/* ts_png_encode without the uniform short-circuit and with explicit settings (t == NULL:
 * the defaults). Same contract otherwise. */
ts_status ts_encode__png(const ts_canvas *c, int x0, int y0, int w, int h, ts_png_mode mode,
                         int colors, const ts_encode__tuning *t, ts_buf *out, ts_err *err);

/* Straight (un-premultiplied) value of channel v at alpha a: round(v * 255 / a), 255 at
 * most; 0 when a == 0. Table of 64 KiB built on first use (thread-safe). */
const uint8_t (*ts_encode__unpremul_table(void))[256];

/* A premultiplied pixel value as straight RGBA (same packing). */
uint32_t ts_encode__unpremul(uint32_t px);

/* Per-thread scratch buffers, reused call after call. Each grows on demand; buffers over
 * TS_ENCODE__KEEP_MAX bytes are released by ts_encode__scratch_trim. */
#define TS_ENCODE__KEEP_MAX (4u << 20)

enum {
    TS_ENCODE__S_RAW = 0, /* the filtered scanlines handed to deflate */
    TS_ENCODE__S_INDEX,   /* palette index image */
    TS_ENCODE__S_HASH,    /* colour hash table */
    TS_ENCODE__S_POINTS,  /* quantiser: distinct colours with counts */
    TS_ENCODE__S_SUMS,    /* quantiser: colour sums when colours are bucketed */
    TS_ENCODE__S_CUT,     /* quantiser: per-axis histograms for choosing a cut */
    TS_ENCODE__S_ZHASH,   /* deflate.c: hash table of 4-byte sequences */
    TS_ENCODE__S_TOKENS,  /* deflate.c: the sequences of one block */
    TS_ENCODE__S_MATCHER, /* deflate.c: the matcher's state and bit masks */
    TS_ENCODE__S_COUNT
};

/* Buffer slot (TS_ENCODE__S_*) of this thread with at least size bytes, contents
 * undefined. NULL on out-of-memory. */
void *ts_encode__scratch(int slot, size_t size);
/* Release this thread's oversized buffers (call at the end of each encode). */
void ts_encode__scratch_trim(void);

/* This thread's libdeflate compressor for level 0..12, made on first use and freed when
 * the thread exits. NULL on out-of-memory or a bad level. */
struct libdeflate_compressor;
struct libdeflate_compressor *ts_encode__compressor(int level);

/* Bytes ts_encode__deflate may need for n input bytes (its result is at most this
 * minus 8: it stores 8 bytes at a time). */
size_t ts_encode__deflate_bound(size_t n);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* 1 when the CPU has x86-64-v3's AVX2, BMI1/2 and POPCNT (asked once; any thread). */
int ts_encode__cpu_v3(void);
#endif

/* Bytes that must be readable past the end of ts_encode__deflate's input. */
#define TS_ENCODE__DEFLATE_SLACK 8

/* Compress src[0..n) into dst as a zlib stream (header, DEFLATE blocks, Adler-32) with
 * the fast encoder of deflate.c: matches at distance bpp (the pixel to the left, >= 1)
 * and stride (the row above, filter byte included; 0 = none) come first. src must have
 * TS_ENCODE__DEFLATE_SLACK initialised bytes past n (read, never used), dst
 * ts_encode__deflate_bound(n) bytes. Returns the stream's length, 0 on out-of-memory
 * (this thread's scratch). Same input, same bytes. */
size_t ts_encode__deflate(const uint8_t *src, size_t n, size_t bpp, size_t stride,
                          uint8_t *dst);

/* The palette chosen for a region and its index image. */
typedef struct ts_encode__palette {
    int n;             /* entries used, 1..256 */
    int exact;         /* 1: every pixel's colour is an entry (no quantisation) */
    uint32_t col[256]; /* premultiplied pixel values */
    uint8_t *index;    /* w * h indices, row-major, scratch of this thread */
} ts_encode__palette;

/* Choose at most maxcol (2..256) colours for the region and map every pixel to one.
 * Entries with alpha < 255 come first (so tRNS can stop at the last of them).
 * TS_OK or TS_ENOMEM (with *err set). */
ts_status ts_encode__quantise(const ts_canvas *c, int x0, int y0, int w, int h, int maxcol,
                              ts_encode__palette *pal, ts_err *err);

#endif
