/* encode/encode.h — canvas regions to PNG bytes (libpng).
 *
 * Pixels are un-premultiplied here and nowhere else. Modes: truecolour (RGBA, or RGB when
 * every pixel of the region is opaque) and paletted (png8: at most 256 colours chosen by
 * a quantiser that keeps anti-aliased edges smooth, with a tRNS chunk for alpha).
 * A region whose pixels are all equal is answered from a shared, pre-encoded tile.
 * All functions are safe to call from any thread. */
#ifndef TS_ENCODE_ENCODE_H
#define TS_ENCODE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "raster/raster.h"
#include "util/buf.h"
#include "util/status.h"

typedef enum { TS_PNG_TRUECOLOR = 0, TS_PNG_PALETTE } ts_png_mode;

typedef struct ts_png_opts {
    ts_png_mode mode;
    int zlevel;     /* zlib level 0..9; -1 = the encoder's tuned default */
    int colors;     /* palette mode: maximum colours 2..256 (0 = 256) */
} ts_png_opts;

/* Encode the w x h region at (x0, y0) of c (which must lie inside c) and append the PNG
 * bytes to out. TS_OK, or TS_ENOMEM / TS_ELIMIT (out's limit) with *err set; out is then
 * emptied. TS_EINVAL (out emptied too) for a region outside c or options out of range.
 * o == NULL means {TS_PNG_TRUECOLOR, -1, 0}. zlevel -1 is zlib level 1 without row
 * filters (Z_RLE for palette images), measured fastest on map tiles and smaller than
 * level 6 with adaptive filters (see encode/png_write.c); an explicit level keeps the
 * filterless rows. A uniform region gets the shared bytes of ts_png_uniform (encoded at
 * level 9 whatever zlevel says). Uses per-thread scratch that stays allocated for the
 * thread's lifetime (up to a few MiB). */
ts_status ts_png_encode(const ts_canvas *c, int x0, int y0, int w, int h, const ts_png_opts *o,
                        ts_buf *out, ts_err *err);

/* 1 and *px = the pixel value if every pixel of the region equals the first, else 0 (also
 * for a region not inside c). px may be NULL. */
int ts_region_uniform(const ts_canvas *c, int x0, int y0, int w, int h, uint32_t *px);

/* A shared PNG of a w x h image filled with one premultiplied pixel value in the given
 * mode, encoded once per process and kept for its lifetime (do not free). *len gets its
 * size (len may be NULL). NULL on out-of-memory, for sizes over 4096 x 4096 px, or when
 * the process-wide table (256 entries) is full: then encode the region normally. */
const uint8_t *ts_png_uniform(uint32_t px, int w, int h, ts_png_mode mode, size_t *len);

/* Decode a PNG into a new canvas (premultiplied), for tests, ExternalGraphic symbols and
 * golden-image comparison. Exact: no gamma handling, 16-bit samples rounded to 8 bits,
 * premultiplied as ts_rgba_premul, so a truecolour PNG from ts_png_encode decodes to the
 * very pixels it was encoded from (any valid premultiplied pixel: channels <= alpha).
 * NULL with *err set: TS_EINVAL for malformed or truncated input (bad CRC, bad zlib
 * data, ...), TS_ELIMIT beyond 16384 px a side or 64 Mpixel, TS_ENOMEM. Free the canvas
 * with ts_canvas_free. */
ts_canvas *ts_png_decode(const uint8_t *data, size_t len, ts_err *err);

/* Encode the w x h region at (x0, y0) of c as a baseline JPEG of quality 1..100 (other
 * values: 85) and append it to out. JPEG has no alpha: pixels are composited over the
 * opaque colour bg (its alpha is ignored). TS_OK; TS_EINVAL for a region outside c;
 * TS_ELIMIT when out's limit is reached (out keeps what it held before); TS_ENOMEM. */
ts_status ts_jpeg_encode(const ts_canvas *c, int x0, int y0, int w, int h, int quality, ts_rgba bg,
                         ts_buf *out, ts_err *err);

#endif
