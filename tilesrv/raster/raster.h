/* raster/raster.h — the anti-aliased rasterisation core.
 *
 * A ts_canvas holds premultiplied RGBA8 pixels. A ts_raster is one thread's scratch
 * (the accumulation rows of the exact-area scanline rasteriser); it is reused path after
 * path and must never be shared between threads. Geometry is given in map coordinates
 * with an affine transform to pixels (of the whole image, see ts_canvas); the core
 * transforms, clips to the whole image in double, converts to 24.8 fixed point,
 * accumulates exact signed area per cell for the canvas's rows, resolves coverage with
 * the fill rule, and composites source-over with the paint's opacity.
 *
 * Pixel (i, j) covers [i, i+1) x [j, j+1) in pixel space; j grows downwards.
 * Nothing here knows about GDAL, styles or HTTP. */
#ifndef TS_RASTER_RASTER_H
#define TS_RASTER_RASTER_H

#include <stdint.h>

#include "util/status.h"

/* A straight (not premultiplied) sRGB colour with alpha. */
typedef struct ts_rgba {
    uint8_t r, g, b, a;
} ts_rgba;

/* Premultiplied RGBA8 pixels, stored as bytes R, G, B, A in memory. A canvas may be a
 * view into another canvas's rows (see ts_canvas_view); then it does not own px.
 *
 * A canvas is a window of rows [row0, row0 + h) of a whole image of w x full_h pixels.
 * Every drawing call takes pixel coordinates of the whole image and writes only the rows
 * of the window; the pixels it writes are exactly (bit for bit) those that drawing into
 * the whole image would give those rows. So an image drawn band by band through views
 * equals the image drawn whole. A canvas built by hand with row0 = full_h = 0 is a whole
 * image of h rows (full_h below row0 + h counts as row0 + h). */
typedef struct ts_canvas {
    int w, h;
    int stride;          /* pixels (uint32_t) per row */
    uint32_t *px;        /* row j starts at px + j * stride; it is row row0 + j of the image */
    int owns;            /* 1 if ts_canvas_free releases px */
    int row0;            /* first row of this canvas in the whole image (>= 0) */
    int full_h;          /* rows of the whole image; 0: row0 + h */
} ts_canvas;

/* New w x h canvas, fully transparent. NULL with *err set on failure or bad size
 * (w, h in 1..32768). Free with ts_canvas_free. */
ts_canvas *ts_canvas_new(int w, int h, ts_err *err);
/* NULL is accepted. */
void ts_canvas_free(ts_canvas *c);
/* Fill every pixel with the (straight-alpha) colour. */
void ts_canvas_clear(ts_canvas *c, ts_rgba color);
/* A view of rows [y0, y0 + h) of c (clamped to c), sharing c's pixels (for band
 * rendering): its row0 is c's row0 + y0 and its whole image is c's, so drawing into the
 * view with the whole image's coordinates gives the pixels of drawing into c. */
ts_canvas ts_canvas_view(const ts_canvas *c, int y0, int h);
/* Pack a straight colour into a premultiplied pixel value as stored in px. */
uint32_t ts_rgba_premul(ts_rgba c);

/* Map -> pixel: px = sx * x + tx, py = sy * y + ty (sy is negative for north-up maps). */
typedef struct ts_affine {
    double sx, sy, tx, ty;
} ts_affine;

/* A set of parts (rings or polylines) as flat x,y pairs: part k has counts[k] points,
 * starting where part k-1 ended. Rings need not repeat the first point. */
typedef struct ts_parts {
    const double *xy;
    const uint32_t *counts;
    uint32_t nparts;
} ts_parts;

typedef enum { TS_FILL_NONZERO = 0, TS_FILL_EVENODD } ts_fill_rule;
typedef enum { TS_JOIN_MITER = 0, TS_JOIN_ROUND, TS_JOIN_BEVEL } ts_line_join;
typedef enum { TS_CAP_BUTT = 0, TS_CAP_ROUND, TS_CAP_SQUARE } ts_line_cap;

#define TS_MAX_DASH 16

/* How to stroke a line. width in pixels. dash: on/off lengths in pixels (ndash even,
 * 0 = solid), starting dash_offset pixels into the pattern. */
typedef struct ts_stroke {
    double width;
    ts_line_join join;
    ts_line_cap cap;
    double miter_limit;  /* ratio, as SVG stroke-miterlimit; 4 when 0 */
    int ndash;
    double dash[TS_MAX_DASH];
    double dash_offset;
} ts_stroke;

typedef enum {
    TS_MARK_CIRCLE = 0,
    TS_MARK_SQUARE,
    TS_MARK_TRIANGLE,
    TS_MARK_STAR,
    TS_MARK_CROSS,
    TS_MARK_X,
    TS_MARK_DIAMOND,  /* QGIS's well-known names from here on: a square on its corner */
    TS_MARK_PENTAGON, /* regular polygons, a corner up ... */
    TS_MARK_HEXAGON,
    TS_MARK_DECAGON,
    TS_MARK_OCTAGON /* ... a side up */
} ts_mark_shape;

/* One thread's rasteriser scratch. NULL on out-of-memory. */
typedef struct ts_raster ts_raster;
ts_raster *ts_raster_new(void);
/* NULL is accepted. */
void ts_raster_free(ts_raster *r);

/* Fill the rings (holes are rings too; nonzero needs holes wound opposite to their
 * outer ring, even-odd does not care) with colour * opacity (0..1). Returns TS_OK, or
 * TS_ENOMEM when the scratch cannot grow (the canvas is then unchanged). */
ts_status ts_raster_fill(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *rings,
                         ts_fill_rule rule, ts_rgba color, double opacity);

/* Stroke the parts; closed = 1 treats each part as a ring (joined at its start, no caps).
 * The stroke outline is filled nonzero as one path, so self-overlaps are painted once. */
ts_status ts_raster_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t, const ts_parts *lines,
                           int closed, const ts_stroke *s, ts_rgba color, double opacity);

/* The outline ts_raster_stroke fills for the parts, in their own coordinates and cut
 * nowhere: *ncontours closed contours (*counts points each, *xy their pairs) to fill
 * nonzero. The arrays are r's scratch, valid until r's next call. A caller that strokes
 * one shape many times (a glyph's halo) keeps a copy and fills it where it is needed:
 * round joins and caps turn with the shape, so a moved and turned copy is the outline of
 * the moved and turned shape. TS_OK (no contours for a width <= 0 or no parts),
 * TS_EINVAL for NULL arguments, TS_ENOMEM. */
ts_status ts_raster_stroke_outline(ts_raster *r, const ts_parts *parts, int closed,
                                   const ts_stroke *s, const double **xy,
                                   const uint32_t **counts, uint32_t *ncontours);

/* Fill the rings, then stroke them as rings: a polygon and its outline. The pixels of
 * ts_raster_fill(rings, rule, fill, fill_opacity) followed by ts_raster_stroke(rings,
 * closed = 1, s, stroke_color, stroke_opacity), but the rings are transformed once and a
 * small polygon (both shapes inside the canvas and under 15 px) is composited in one
 * sweep. fill.a == 0 or fill_opacity 0 draws no fill; s == NULL or a width <= 0 draws
 * no outline. TS_OK, TS_EINVAL for NULL arguments, or TS_ENOMEM (the canvas may then
 * hold the fill without the outline). */
ts_status ts_raster_fill_stroke(ts_raster *r, ts_canvas *c, const ts_affine *t,
                                const ts_parts *rings, ts_fill_rule rule, ts_rgba fill,
                                double fill_opacity, const ts_stroke *s, ts_rgba stroke_color,
                                double stroke_opacity);

/* A marker of size px (diameter / side) centred at pixel (x, y), rotated clockwise by
 * rotation_deg. fill.a == 0 draws no fill; stroke == NULL draws no outline. */
ts_status ts_raster_marker(ts_raster *r, ts_canvas *c, double x, double y, ts_mark_shape shape,
                           double size, double rotation_deg, ts_rgba fill, const ts_stroke *stroke,
                           ts_rgba stroke_color, double opacity);

/* Composite an 8-bit coverage mask (w x h, row stride mstride bytes) at pixel (x, y) of the
 * whole image with colour * opacity; for glyphs and pre-rendered symbols. Clipped to the
 * canvas (its window of rows). */
void ts_raster_blend_mask(ts_canvas *c, int x, int y, const uint8_t *mask, int w, int h,
                          int mstride, ts_rgba color, double opacity);

/* Composite a premultiplied RGBA8 image (e.g. an ExternalGraphic) at pixel (x, y) of the
 * whole image, clipped to the canvas. */
void ts_raster_blend_image(ts_canvas *c, int x, int y, const uint32_t *img, int w, int h,
                           int stride, double opacity);

#endif
