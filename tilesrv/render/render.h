/* render/render.h — one render job: layers x rules x features -> draw calls into a canvas.
 *
 * Drawn here: PolygonSymbolizer (fill, outline, GraphicFill patterns anchored to the map's
 * pixel grid so tiles and bands join), LineSymbolizer (stroke, PerpendicularOffset,
 * GraphicStroke), PointSymbolizer (well-known and shape:// marks, ExternalGraphic images
 * with anchor, displacement, rotation). TextSymbolizers are not drawn here: the label
 * engine places and draws labels after all layers (see the label hook in render.c).
 *
 * A ts_render_layer binds a loaded feature store to a compiled style (property indices of
 * the style resolved to store columns once). It is immutable and shared by all workers.
 * A ts_render_worker is one thread's state (rasteriser scratch, query buffers, timers);
 * never share one between threads. Large images are split into horizontal bands that
 * several workers render in parallel (ts_render_draw_bands). */
#ifndef TS_RENDER_RENDER_H
#define TS_RENDER_RENDER_H

#include <math.h>
#include <stdint.h>

#include "grid/grid.h"
#include "raster/raster.h"
#include "source/source.h"
#include "style/style.h"
#include "text/text.h"
#include "util/pool.h"
#include "util/status.h"

typedef struct ts_render_layer {
    char *name;
    ts_store *store;        /* holds a reference */
    ts_style *style;        /* holds a reference */
    int *prop_field;        /* style property index -> store field index, -1 = absent */
    double max_symbol_px;   /* largest half-extent of a symbolizer in pixels (query margin) */
    double max_symbol_m;    /* and of one in ground units (uom metre, foot), metres; 0 =
                             * none: see ts_render_layer_reach_px */
    int needs_bbox;         /* some rule's filter has a BBOX test (reads feature boxes) */
    ts_canvas **images;     /* the style's ExternalGraphics decoded (index = style->images
                             * index; premultiplied copies owned by the layer); NULL entry
                             * or array: that image is not drawn */
    int nimages;
    uint64_t id;            /* unique in the process: keys the workers' caches of scaled
                             * graphics and pattern tiles */
} ts_render_layer;

/* Bind a style to a store (takes a reference on both). Properties the store lacks are
 * bound to -1 (they evaluate as null) and reported in *missing (a count) if non-NULL.
 * NULL with *err on out-of-memory. ExternalGraphics of the style are not drawn (see
 * ts_render_layer_new_images). */
ts_render_layer *ts_render_layer_new(const char *name, ts_store *store, ts_style *style,
                                     int *missing, ts_err *err);

/* As ts_render_layer_new, with the style's ExternalGraphic images decoded by the caller
 * (render reads no files): images[i] (premultiplied RGBA, e.g. from ts_png_decode) is
 * style->images[i]; the layer copies the pixels, so the caller keeps and frees its
 * canvases. i >= nimages or a NULL entry: graphics using that image draw nothing. The
 * images' sizes enter max_symbol_px. NULL with *err on out-of-memory. */
ts_render_layer *ts_render_layer_new_images(const char *name, ts_store *store, ts_style *style,
                                            const ts_canvas *const *images, int nimages,
                                            int *missing, ts_err *err);
/* NULL is accepted. */
void ts_render_layer_free(ts_render_layer *l);

/* How far (pixels at scale factor 1) l's symbols can reach from their features at scale
 * denominator scale_denom: max_symbol_px, or its ground-unit symbols' reach at that scale
 * (and 2 px for rounding) when larger. Multiply by the scale factor and the resolution for
 * a query margin. */
double ts_render_layer_reach_px(const ts_render_layer *l, double scale_denom);

/* What l's style draws at some scale denominator in [sd_lo, sd_hi]: TS_DRAWS_SHAPE when a
 * rule in scale there has a symbolizer other than a point-placed label (the geometry is
 * drawn, or labelled along), TS_DRAWS_POINT_LABEL when one has a point-placed label
 * (TextSymbolizer with PointPlacement). fid < 0: for any feature (the rules' scale ranges
 * alone); else for feature fid of l's store (the rules' filters and ElseFilters too, at
 * every scale where the rules in scale change). 0: nothing. */
enum { TS_DRAWS_SHAPE = 1, TS_DRAWS_POINT_LABEL = 2 };
int ts_render_layer_draws(const ts_render_layer *l, int64_t fid, double sd_lo, double sd_hi);

/* A view of l drawing store instead of l's store (a store with the same fields in the same
 * order, e.g. the features of one area fetched for one render): *out is a shallow copy
 * sharing l's name, style, property binding and images (l must outlive it), holding no
 * reference on store, with an id of its own (labels placed from one store are never reused
 * for another). Never pass out to ts_render_layer_free: drop it with the store. */
void ts_render_layer_view(const ts_render_layer *l, ts_store *store, ts_render_layer *out);

/* What to draw. bbox is the canvas extent (outer pixel edges) in the stores' CRS. */
typedef struct ts_render_req {
    const ts_render_layer *const *layers;  /* drawn in order, first at the bottom */
    int nlayers;
    ts_bbox bbox;
    int width, height;      /* pixels of the canvas */
    double scale_factor;    /* 1, or 2 for @2x: symbol sizes are multiplied by it */
    double scale_denom;     /* for rule Min/MaxScaleDenominator (at scale factor 1) */
    ts_rgba background;     /* straight colour; a == 0: transparent */
    /* Labels (TextSymbolizers): the fonts, shared by all workers; NULL = no labels. */
    const ts_font_catalog *fonts;
    /* 1: a label must lie wholly inside the image unless its symbolizer allows partials
     * (a WMS GetMap: nothing continues it outside); 0: labels may cross the image's
     * edges (tiles and metatiles, whose neighbours draw the rest of them). */
    int labels_inside;
    /* 0 and labels_inside 0: place labels in the map's pixel grid at this resolution, in
     * blocks shared with every other image of it (a WMS map: its neighbours, the tiles),
     * whatever its size (small tiles otherwise lay out their own window). Pixels may be
     * non-square by a little (QGIS's print pieces: 0.02 %): placed with the x resolution,
     * each label is moved to where its anchor falls in this image. */
    int labels_world;
    /* Reprojection on the fly (a WMS map in a CRS no store is kept in). NULL: every store
     * holds coordinates in the CRS of bbox. Otherwise bbox is in image_crs, and layer i's
     * store in layer_crs[i] (a NULL array or entry: already in image_crs). Each worker
     * transforms query boxes (edges densified) and the points of every feature it draws or
     * labels with its own PROJ context (ts_source_xform); BBOX filters still see feature
     * boxes in the store's CRS. A CRS PROJ cannot transform fails the draw (TS_EINVAL). */
    const char *image_crs;
    const char *const *layer_crs;
    /* ts_mono_ns() past which the draw stops with TS_ELIMIT (a WMS map past the server's
     * render time limit, already answered with an exception); 0 = none */
    uint64_t deadline_ns;
} ts_render_req;

typedef struct ts_render_stats {
    uint64_t query_ns;      /* spatial queries */
    uint64_t draw_ns;       /* per feature: rule selection, filters, rasterisation */
    uint64_t features;      /* features drawn */
    uint64_t paths;         /* raster calls */
    uint64_t label_ns;      /* label placement and drawing (included in no other figure) */
    uint64_t label_candidates; /* label positions proposed */
    uint64_t labels;        /* labels drawn */
} ts_render_stats;

typedef struct ts_render_worker ts_render_worker;

/* One per thread. NULL with *err on out-of-memory. */
ts_render_worker *ts_render_worker_new(ts_err *err);
/* NULL is accepted. */
void ts_render_worker_free(ts_render_worker *w);
/* Accumulated statistics of this worker (reset by the caller when wanted). */
ts_render_stats *ts_render_worker_stats(ts_render_worker *w);

/* Draw req into c (c->w == req->width, c->h == req->height), after clearing it to the
 * background. A canvas of more than 2 MiB (a metatile) is drawn in bands of about 1 MiB
 * of rows one after another, for the cache; the pixels are the same. TS_OK, or TS_ENOMEM
 * with *err set (the canvas content is then undefined). */
ts_status ts_render_draw(ts_render_worker *w, const ts_render_req *req, ts_canvas *c,
                         ts_err *err);

/* Draw rows [rows->row0, rows->row0 + rows->h) of the image req describes into `rows`, a
 * canvas that holds only those rows (rows->w == req->width, rows->full_h == req->height;
 * e.g. one strip of a metatile, drawn and encoded before the next so the strip stays in
 * the cache), after clearing them to the background: the pixels ts_render_draw gives
 * those rows of the whole image. TS_OK, TS_EINVAL when the sizes disagree, or TS_ENOMEM
 * with *err set. */
ts_status ts_render_draw_rows(ts_render_worker *w, const ts_render_req *req, ts_canvas *rows,
                              ts_err *err);

/* As ts_render_draw_rows, the rows split into up to nworkers bands drawn in parallel, as
 * ts_render_draw_bands does (band i by workers[i] on pool; band 0 on the caller). Output
 * equals ts_render_draw_rows'. */
ts_status ts_render_draw_rows_bands(ts_render_worker *const *workers, int nworkers,
                                    ts_pool *pool, const ts_render_req *req, ts_canvas *rows,
                                    ts_err *err);

/* As ts_render_draw, split into nworkers horizontal bands drawn in parallel, band i by
 * workers[i], on pool's threads with the caller taking part (pool may be NULL: all bands
 * on the caller). Output equals ts_render_draw's. */
ts_status ts_render_draw_bands(ts_render_worker *const *workers, int nworkers, ts_pool *pool,
                               const ts_render_req *req, ts_canvas *c, ts_err *err);

/* Say (once per process and family, as drawing does) which TextSymbolizers of style name
 * only font families cat lacks, and which face their labels use instead (layer names the
 * style's layer in the message), and which font marks lack their font or character. At
 * load, so `tilesrv check` tells. */
void ts_render_check_fonts(const ts_style *style, const ts_font_catalog *cat, const char *layer);

/* An icon of graphic g as layer l draws it (its decoded ExternalGraphic images), at symbol
 * scale sf (1 or 2, at most 4), in a new canvas: pattern 0, the graphic upright, without
 * displacement, centred in a canvas of its size plus its stroke (a MapLibre sprite for a
 * PointSymbolizer: the client rotates and offsets it); pattern 1, one tile of a
 * GraphicFill's pattern as the map repeats it (its margins included); pattern 2, one step
 * of a GraphicStroke (the graphic turned by its own rotation, centred at half its length,
 * and its Gap), x along the line, as tall as the graphic reaches. NULL with *st
 * TS_EINVAL when there is no such icon (a line hatch, a missing image, over 1024 px),
 * TS_ENOMEM, or TS_OK when the graphic draws nothing. Uses w's scratch and caches. */
ts_canvas *ts_render_icon(ts_render_worker *w, const ts_render_layer *l, const ts_graphic *g,
                          int pattern, double sf, const ts_font_catalog *fonts, ts_status *st);

/* Draw an SVG image (its outlines, style/svg.c) with the rasteriser into a new canvas
 * whose larger side is max_side px (1..4096), keeping its natural aspect: the pixels an
 * ExternalGraphic of it is scaled from. NULL with *err on bad input or out-of-memory. */
ts_canvas *ts_render_svg(const ts_svg *svg, int max_side, ts_err *err);

/* How far graphic g reaches from its centre at scale 1, any rotation (its box's half
 * diagonal, its outline, 2 px for rounding): half the height of ts_render_icon's
 * GraphicStroke step at scale 1. */
double ts_render_graphic_reach(const ts_graphic *g, const ts_render_layer *l);

/* Draw PointSymbolizer graphic g centred at pixel (x, y) of c as the map draws it (marks,
 * shape:// marks, font marks with their fallback), upright, at its fixed values (not those
 * of a feature), its size scaled by sf and at most max_px: a legend sample.
 * ExternalGraphic images need their layer's pixels and are not drawn here. */
ts_status ts_render_graphic_sample(ts_render_worker *w, ts_canvas *c, const ts_graphic *g,
                                   double x, double y, double max_px, double sf,
                                   const ts_font_catalog *fonts);

/* Fill the box (x, y, wd, ht) of c with the GraphicFill pattern of polygon symbolizer s as
 * the map draws it (hatching, a mark's pattern tile with its margins), at its fixed
 * rotation, sizes scaled by sf: a legend sample. TS_EINVAL when s has no GraphicFill or
 * it is an image (an image needs its layer's pixels: draw a flat sample instead). */
ts_status ts_render_fill_sample(ts_render_worker *w, ts_canvas *c, const ts_symbolizer *s,
                                double x, double y, double wd, double ht, double sf,
                                const ts_font_catalog *fonts);

/* sd to 9 significant digits: the pieces of one map (QGIS splits prints, tiled WMS) give
 * its resolution with different roundings (1:4999.99999999908 and 1:5000.00000000046), and
 * a rule whose MaxScaleDenominator is 5000 must be on or off in all of them. */
static inline double
ts_render_scale_round(double sd)
{
    if (!(sd > 0) || !isfinite(sd))
        return sd;
    double p = pow(10, 8 - floor(log10(sd)));
    return round(sd * p) / p;
}

/* The scale denominator of a resolution (units per pixel) per the OGC 0.28 mm pixel. */
static inline double
ts_render_scale_denom(double res, double meters_per_unit)
{
    return res * meters_per_unit / TS_STD_PIXEL_M;
}

#endif
