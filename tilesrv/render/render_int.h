/* render/render_int.h — what render.c and labels.c share inside the module. */
#ifndef TS_RENDER_RENDER_INT_H
#define TS_RENDER_RENDER_INT_H

#include "render/render.h"

#include <stdlib.h>

/* Grow *p to hold need elements of size elem (capacity in *cap, doubling from 64); 0 ok,
 * -1 out of memory (*p unchanged). */
static inline int
ts_render__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* A feature of a layer, as filters and labels read its attributes. */
typedef struct ts_render__feat {
    const ts_render_layer *layer;
    uint32_t fid;
} ts_render__feat;

/* ts_feature_ref.get for a ts_render__feat context. */
static inline const ts_value *
ts_render__feat_get(const void *vctx, int prop)
{
    const ts_render__feat *fc = vctx;
    int field = fc->layer->prop_field[prop];
    return field < 0 ? NULL : ts_store_value(fc->layer->store, fc->fid, field);
}

/* Reprojection (ts_render_req.image_crs, render.c). The transformation from layer li's
 * store to the image's CRS, cached by w (NULL without error when none is needed); NULL with
 * *st != TS_OK and *err set when PROJ cannot make it. */
ts_source_xform *ts_render__layer_xform(ts_render_worker *w, const ts_render_req *req, int li,
                                        ts_status *st, ts_err *err);
/* A query box of the image's CRS as a box of the store's CRS (edges densified), and the
 * resolution res (image units per pixel) in store units; q unchanged without xf. */
ts_bbox ts_render__store_box(ts_source_xform *xf, const ts_bbox *q, double res, double *store_res);
/* g's points transformed into w's scratch (g->xy then points there, valid until the next
 * call). 0, or -1 when memory runs out or a point cannot be transformed (skip the feature). */
int ts_render__xform_geom(ts_render_worker *w, ts_source_xform *xf, ts_geom *g);

/* One worker's label engine: text context (for req->fonts), candidate set, scratch. */
typedef struct ts_render__labeler ts_render__labeler;

/* NULL on out-of-memory. */
ts_render__labeler *ts_render__labeler_new(void);
/* NULL is accepted. */
void ts_render__labeler_free(ts_render__labeler *lb);

/* Place and draw the labels (TextSymbolizers) of req's layers onto c (w: the worker, for
 * reprojection), a window of rows of
 * the whole image req describes, with t the map -> whole-image pixel transform and shown
 * the extent of c's rows. Every window (band, metatile) gathers the candidates within the
 * label module's margin of what it shows, so all agree on which labels are drawn (see
 * label/label.h). Does nothing when req->fonts is NULL. Statistics go to *stats.
 * TS_ENOMEM / TS_EIO with *err set (the canvas may then hold part of the labels). */
ts_status ts_render__labels(ts_render__labeler *lb, ts_render_worker *w, ts_raster *r,
                            const ts_render_req *req, ts_canvas *c, const ts_affine *t,
                            const ts_bbox *shown, ts_render_stats *stats, ts_err *err);

/* Warn (once per process, as drawing does) when font mark g's font is not installed in cat
 * or lacks its character; *text: a shaping context made on first need (the caller frees
 * it). Nothing for other graphics. */
void ts_render__check_font_mark(const ts_graphic *g, const ts_font_catalog *cat,
                                ts_text_ctx **text);

#endif
