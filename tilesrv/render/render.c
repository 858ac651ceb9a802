/* render/render.c — draws features of bound layers with their compiled rules.
 *
 * Geometry goes to the rasteriser in map coordinates with the whole image's transform
 * (so bands equal the whole drawing bit for bit), except where render builds geometry in
 * pixel space itself: offset curves (PerpendicularOffset), shape:// marks and graphics
 * along lines; those are computed from the whole image's pixel coordinates, the same in
 * every band.
 *
 * GraphicFill: the pattern is anchored to the map's pixel grid — world pixel (X, Y) =
 * image pixel + the pixel of map (0, 0) — so a tile, its neighbour and every band compute
 * the same pattern value for the same world pixel, and adjacent tiles join. The polygon's
 * coverage is rasterised into a strip of rows (a window of the whole image, so exactly the
 * coverage a solid fill would have), multiplied by the pattern, and composited: line
 * hatches (shape://horline, vertline, slash, backslash, plus, times) by their exact
 * analytic coverage of each pixel, other marks and images by a tile of integer size
 * repeated over the grid. */
#include "render/render.h"

#include "render/render_int.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"

#define GCACHE 32          /* scaled images and pattern tiles a worker keeps */
#define STRIP 64           /* rows of a GraphicFill coverage strip */
#define OFFSET_MITER 2.0   /* offset curves: longest miter, in offsets (longer: bevel) */
#define MAX_IMAGE_PX (4096 * 4096) /* a scaled graphic larger than this is not drawn */
#define MAX_ALONG 1000000  /* graphics along one line part */
#define XF_CACHE 4         /* CRS transformations a worker keeps */
#define DYN_MAX_PX 256.0   /* widths and sizes taken from a feature are clamped to this (one
                            * outlier would otherwise cover the tiles around it) */
#define DYN_MIN_EXT 32.0   /* a layer with symbols sized by its features reaches at least
                            * this far (px) beyond them: a store fetched per request (PostGIS)
                            * is not known when the query margin is chosen */

/* A cached scaled graphic or pattern tile of one layer. */
typedef struct gcache_entry {
    uint64_t layer;         /* ts_render_layer.id; 0 = empty */
    const void *key;        /* the ts_graphic */
    int kind;               /* GC_IMAGE, GC_TILE */
    double a, b;            /* image: scale and rotation; tile: scale factor and rotation */
    ts_canvas *img;
} gcache_entry;

enum { GC_IMAGE = 1, GC_TILE };

struct ts_render_worker {
    ts_raster *raster;
    ts_render__labeler *labels; /* the label engine's state (labels.c) */
    ts_idvec ids;
    ts_render_stats stats;
    const ts_rule **active; /* the rules of one FeatureTypeStyle live at the current scale */
    unsigned char *applies; /* with an ElseFilter among them: which apply to a feature */
    int nactive;            /* capacity of both */
    double *pts;            /* pixel-space points of a geometry (x, y pairs) */
    size_t npts;            /* capacity in points */
    double *opts;           /* its offset curve */
    size_t nopts;
    uint32_t *ocnt;         /* part sizes of the offset curve */
    size_t nocnt;
    uint32_t *strip;        /* GraphicFill: coverage of STRIP rows of the whole width */
    size_t nstrip;
    uint32_t *pat;          /* GraphicFill: pattern x coverage of a strip (tiles) */
    size_t npat;
    uint8_t *mask;          /* GraphicFill: hatch x coverage of a strip (line hatches) */
    size_t nmask;
    double *hat[2];         /* GraphicFill: hatch coverage tables of the two families */
    size_t nhat[2];
    gcache_entry cache[GCACHE];
    int cache_next;
    ts_text_ctx *text;               /* font marks: shaping and glyph caches, made on first use */
    const ts_font_catalog *text_cat; /* the catalogue text was made for */
    /* reprojection on the fly (ts_render_req.image_crs) */
    struct {
        char src[96], dst[96];
        ts_source_xform *x;
    } xf[XF_CACHE];
    int xf_next;
    double *xpts; /* a feature's points in the image's CRS */
    size_t nxpts;
};

static const ts_affine identity = {1, 1, 0, 0};
static atomic_ullong layer_ids;


/* ---- layers ---------------------------------------------------------------------------- */

/* How far a stroke reaches from its line: half its width times the miter limit at a
 * miter, sqrt(2) at a square cap's corner, a little over 1 on a round join's polygon. */
static double
stroke_extent(const ts_stroke *s)
{
    double k = 1.5;
    if (s->join == TS_JOIN_MITER) {
        double ml = s->miter_limit == 0 ? 4 : s->miter_limit;
        if (ml > k)
            k = ml;
    }
    return s->width / 2 * k;
}

/* The drawn width and height of a graphic (px at scale 1): marks are size x size, images
 * size high (or their own pixels when no Size was given); 0 x 0 for a missing image. */
static void
graphic_dims(const ts_graphic *g, const ts_render_layer *l, double *w, double *h)
{
    if (g->image < 0) {
        *w = *h = g->size;
        return;
    }
    const ts_canvas *im = g->image < l->nimages ? l->images[g->image] : NULL;
    if (im == NULL) {
        *w = *h = 0;
    } else if (g->size > 0) {
        *h = g->size;
        *w = g->size * im->w / im->h;
    } else {
        *w = im->w;
        *h = im->h;
    }
}

/* How far a graphic drawn at a point reaches from it (px at scale 1), any rotation: the
 * farthest corner of its box from the anchor, its outline, its displacement, and 2 px for
 * the rounding of image positions and the resampler's edge. */
static double
graphic_extent(const ts_graphic *g, const ts_render_layer *l)
{
    double w, h;
    graphic_dims(g, l, &w, &h);
    double e = hypot((fabs(0.5 - g->anchor_x) + 0.5) * w, (fabs(0.5 - g->anchor_y) + 0.5) * h);
    if (g->image < 0 && g->has_stroke)
        e += stroke_extent(&g->stroke);
    return e + hypot(g->disp_x, g->disp_y) + 2;
}

/* How far (pixels at scale factor 1) a symbolizer can draw from its geometry: an upper
 * bound, since band rendering relies on it (a band queries only the features within this
 * margin of its rows; one it misses would be missing from its pixels). A GraphicFill stays
 * inside its polygon. An offset curve's vertices lie at most OFFSET_MITER offsets from
 * the line. Text is drawn by the label engine, which keeps its own margin. */
static double
symbolizer_extent_px(const ts_symbolizer *s, const ts_render_layer *l)
{
    if (s->kind == TS_SYM_TEXT)
        return 0;
    if (s->kind == TS_SYM_POINT) {
        if (s->graphic != NULL)
            return graphic_extent(s->graphic, l);
        return s->size / 2 * 1.5 + (s->has_stroke ? stroke_extent(&s->stroke) : 0);
    }
    double e = s->has_stroke ? stroke_extent(&s->stroke) : 0;
    if (s->stroke_graphic != NULL) {
        double ge = graphic_extent(s->stroke_graphic, l);
        if (ge > e)
            e = ge;
    }
    if (s->kind == TS_SYM_LINE)
        e += fabs(s->perpendicular_offset) * OFFSET_MITER;
    return e;
}

/* 1 if the filter (or one below it) is a BBOX test, which reads the feature's box. */
static int
filter_uses_bbox(const ts_filter *f)
{
    if (f == NULL)
        return 0;
    if (f->op == TS_FILTER_BBOX)
        return 1;
    for (int i = 0; i < f->nkids; i++)
        if (filter_uses_bbox(f->kids[i]))
            return 1;
    return 0;
}

static ts_canvas *
copy_canvas(const ts_canvas *src)
{
    ts_canvas *c = ts_canvas_new(src->w, src->h, NULL);
    if (c == NULL)
        return NULL;
    for (int j = 0; j < src->h; j++)
        memcpy(c->px + (size_t)j * (size_t)c->stride, src->px + (size_t)j * (size_t)src->stride,
               (size_t)src->w * sizeof *c->px);
    return c;
}

static void
layer_free_images(ts_render_layer *l)
{
    for (int i = 0; i < l->nimages; i++)
        ts_canvas_free(l->images[i]);
    free(l->images);
    l->images = NULL;
    l->nimages = 0;
}

static void dynamic_extent(ts_render_layer *l);

ts_render_layer *
ts_render_layer_new_images(const char *name, ts_store *store, ts_style *style,
                           const ts_canvas *const *images, int nimages, int *missing,
                           ts_err *err)
{
    ts_render_layer *l = calloc(1, sizeof *l);
    if (l == NULL)
        goto oom;
    l->name = strdup(name);
    l->prop_field = calloc((size_t)(style->nprops > 0 ? style->nprops : 1), sizeof(int));
    if (l->name == NULL || l->prop_field == NULL)
        goto oom;
    if (style->nimages > 0) {
        l->images = calloc((size_t)style->nimages, sizeof *l->images);
        if (l->images == NULL)
            goto oom;
        l->nimages = style->nimages;
        for (int i = 0; i < style->nimages && i < nimages; i++)
            if (images != NULL && images[i] != NULL && images[i]->w > 0 && images[i]->h > 0 &&
                (l->images[i] = copy_canvas(images[i])) == NULL)
                goto oom;
    }
    int nmissing = 0;
    for (int i = 0; i < style->nprops; i++) {
        l->prop_field[i] = ts_store_field_index(store, style->props[i]);
        /* else the field whose name differs in case only, as the sources match names (a
         * Shapefile's NAME, a GeoPackage column): the first such */
        for (int f = 0; l->prop_field[i] < 0 && f < ts_store_nfields(store); f++)
            if (strcasecmp(ts_store_field_name(store, f), style->props[i]) == 0)
                l->prop_field[i] = f;
        if (l->prop_field[i] < 0)
            nmissing++;
    }
    if (missing)
        *missing = nmissing;
    double ext = 1, ext_m = 0;
    for (int f = 0; f < style->nfts; f++)
        for (int r = 0; r < style->fts[f].nrules; r++) {
            l->needs_bbox |= filter_uses_bbox(style->fts[f].rules[r].filter);
            for (int k = 0; k < style->fts[f].rules[r].nsyms; k++) {
                const ts_symbolizer *sym = &style->fts[f].rules[r].syms[k];
                double e = symbolizer_extent_px(sym, l);
                if (sym->uom_m > 0)
                    ext_m = fmax(ext_m, e * sym->uom_m);
                else
                    ext = fmax(ext, e);
            }
        }
    l->max_symbol_px = ext;
    l->max_symbol_m = ext_m;
    l->id = atomic_fetch_add(&layer_ids, 1) + 1;
    l->store = ts_store_ref(store);
    l->style = ts_style_ref(style);
    dynamic_extent(l); /* raises max_symbol_px / max_symbol_m */
    return l;
oom:
    if (l) {
        layer_free_images(l);
        free(l->name);
        free(l->prop_field);
        free(l);
    }
    TS_FAIL(err, TS_ENOMEM, "render layer %s", name);
    return NULL;
}

ts_render_layer *
ts_render_layer_new(const char *name, ts_store *store, ts_style *style, int *missing,
                    ts_err *err)
{
    return ts_render_layer_new_images(name, store, style, NULL, 0, missing, err);
}

void
ts_render_layer_view(const ts_render_layer *l, ts_store *store, ts_render_layer *out)
{
    *out = *l;
    out->store = store;
    out->id = atomic_fetch_add(&layer_ids, 1) + 1;
}

void
ts_render_layer_free(ts_render_layer *l)
{
    if (l == NULL)
        return;
    ts_store_unref(l->store);
    ts_style_unref(l->style);
    layer_free_images(l);
    free(l->prop_field);
    free(l->name);
    free(l);
}

/* ---- workers --------------------------------------------------------------------------- */

ts_render_worker *
ts_render_worker_new(ts_err *err)
{
    ts_render_worker *w = calloc(1, sizeof *w);
    if (w == NULL || (w->raster = ts_raster_new()) == NULL ||
        (w->labels = ts_render__labeler_new()) == NULL) {
        if (w != NULL)
            ts_raster_free(w->raster);
        free(w);
        TS_FAIL(err, TS_ENOMEM, "render worker");
        return NULL;
    }
    return w;
}

void
ts_render_worker_free(ts_render_worker *w)
{
    if (w == NULL)
        return;
    ts_raster_free(w->raster);
    ts_render__labeler_free(w->labels);
    ts_idvec_fini(&w->ids);
    free(w->active);
    free(w->applies);
    free(w->pts);
    free(w->opts);
    free(w->ocnt);
    free(w->strip);
    free(w->pat);
    free(w->mask);
    free(w->hat[0]);
    free(w->hat[1]);
    for (int i = 0; i < GCACHE; i++)
        ts_canvas_free(w->cache[i].img);
    ts_text_ctx_free(w->text);
    for (int i = 0; i < XF_CACHE; i++)
        ts_source_xform_free(w->xf[i].x);
    free(w->xpts);
    free(w);
}

/* ---- reprojection ---------------------------------------------------------------------- */

ts_source_xform *
ts_render__layer_xform(ts_render_worker *w, const ts_render_req *req, int li, ts_status *st,
                       ts_err *err)
{
    *st = TS_OK;
    if (req->image_crs == NULL || req->layer_crs == NULL || req->layer_crs[li] == NULL ||
        strcmp(req->layer_crs[li], req->image_crs) == 0)
        return NULL;
    const char *src = req->layer_crs[li], *dst = req->image_crs;
    for (int i = 0; i < XF_CACHE; i++)
        if (w->xf[i].x != NULL && strcmp(w->xf[i].src, src) == 0 && strcmp(w->xf[i].dst, dst) == 0)
            return ts_source_xform_identity(w->xf[i].x) ? NULL : w->xf[i].x;
    if (strlen(src) >= sizeof w->xf[0].src || strlen(dst) >= sizeof w->xf[0].dst) {
        *st = TS_FAIL(err, TS_EINVAL, "CRS name too long");
        return NULL;
    }
    ts_source_xform *x = ts_source_xform_new(src, dst, err);
    if (x == NULL) {
        *st = err && err->code != TS_OK ? err->code : TS_EINVAL;
        return NULL;
    }
    int k = w->xf_next;
    w->xf_next = (k + 1) % XF_CACHE;
    ts_source_xform_free(w->xf[k].x);
    w->xf[k].x = x;
    snprintf(w->xf[k].src, sizeof w->xf[k].src, "%s", src);
    snprintf(w->xf[k].dst, sizeof w->xf[k].dst, "%s", dst);
    return ts_source_xform_identity(x) ? NULL : x;
}

ts_bbox
ts_render__store_box(ts_source_xform *xf, const ts_bbox *q, double res, double *store_res)
{
    *store_res = res;
    if (xf == NULL)
        return *q;
    ts_bbox b;
    if (!ts_source_xform_box(xf, 1, q, &b))
        return (ts_bbox){0, 0, 0, 0};
    double qw = q->maxx - q->minx, qh = q->maxy - q->miny;
    double bw = b.maxx - b.minx, bh = b.maxy - b.miny;
    if (qw > 0 && qh > 0)
        *store_res = res * sqrt((bw / qw) * (bh / qh));
    return b;
}

int
ts_render__xform_geom(ts_render_worker *w, ts_source_xform *xf, ts_geom *g)
{
    size_t n = 0;
    for (uint32_t p = 0; p < g->nparts; p++)
        n += g->counts[p];
    if (ts_render__grow((void **)&w->xpts, &w->nxpts, n, 2 * sizeof(double)) != 0)
        return -1;
    memcpy(w->xpts, g->xy, n * 2 * sizeof(double));
    if (ts_source_xform_points(xf, 0, w->xpts, n) > 0)
        return -1;
    g->xy = w->xpts;
    return 0;
}

ts_render_stats *
ts_render_worker_stats(ts_render_worker *w)
{
    return &w->stats;
}

/* The cached canvas for (layer, key, kind, a, b), or NULL. */
static const ts_canvas *
cache_get(ts_render_worker *w, uint64_t layer, const void *key, int kind, double a, double b)
{
    for (int i = 0; i < GCACHE; i++) {
        const gcache_entry *c = &w->cache[i];
        if (c->layer == layer && c->key == key && c->kind == kind && c->a == a && c->b == b)
            return c->img;
    }
    return NULL;
}

/* Keep img (taking it) in the cache, evicting round robin. Returns img. */
static const ts_canvas *
cache_put(ts_render_worker *w, uint64_t layer, const void *key, int kind, double a, double b,
          ts_canvas *img)
{
    gcache_entry *c = &w->cache[w->cache_next];
    w->cache_next = (w->cache_next + 1) % GCACHE;
    ts_canvas_free(c->img);
    *c = (gcache_entry){layer, key, kind, a, b, img};
    return img;
}

/* ---- images ---------------------------------------------------------------------------- */

/* Premultiplied pixel of src at integer (x, y) clamped into it, as floats. */
static void
texel(const ts_canvas *s, int x, int y, float out[4])
{
    x = x < 0 ? 0 : x >= s->w ? s->w - 1 : x;
    y = y < 0 ? 0 : y >= s->h ? s->h - 1 : y;
    uint32_t v = s->px[(size_t)y * (size_t)s->stride + (size_t)x];
    out[0] = (float)(v & 255);
    out[1] = (float)(v >> 8 & 255);
    out[2] = (float)(v >> 16 & 255);
    out[3] = (float)(v >> 24);
}

/* Bilinear sample of src at continuous pixel coordinates (u, v) (pixel centres at +0.5);
 * outside the image: edge pixels (clamp) or transparent. Adds into acc. */
static void
sample(const ts_canvas *s, double u, double v, int clamp, float acc[4])
{
    if (!clamp && (u < 0 || v < 0 || u > s->w || v > s->h))
        return;
    double x = u - 0.5, y = v - 0.5;
    int x0 = (int)floor(x), y0 = (int)floor(y);
    float fx = (float)(x - x0), fy = (float)(y - y0);
    float a[4], b[4], c[4], d[4];
    texel(s, x0, y0, a);
    texel(s, x0 + 1, y0, b);
    texel(s, x0, y0 + 1, c);
    texel(s, x0 + 1, y0 + 1, d);
    for (int k = 0; k < 4; k++)
        acc[k] += (a[k] * (1 - fx) + b[k] * fx) * (1 - fy) + (c[k] * (1 - fx) + d[k] * fx) * fy;
}

/* src scaled by k and rotated clockwise by rot degrees about its centre, in a new canvas
 * centred on the same point (unrotated: round(w k) x round(h k), filled exactly).
 * Bilinear, averaged over up to 8 x 8 samples per pixel when shrinking (ceil(1 / k) a
 * side) and at least 2 x 2 when rotating (anti-aliased edges). NULL on out-of-memory or
 * when the result would exceed MAX_IMAGE_PX (*too_big set). */
static ts_canvas *
resample(const ts_canvas *src, double k, double rot, int *too_big)
{
    double w = src->w * k, h = src->h * k;
    double a = fmod(rot, 360.0) * (M_PI / 180), cs = cos(a), sn = sin(a);
    int rotated = a != 0;
    double ow_d = rotated ? ceil(fabs(w * cs) + fabs(h * sn)) : floor(w + 0.5);
    double oh_d = rotated ? ceil(fabs(w * sn) + fabs(h * cs)) : floor(h + 0.5);
    if (ow_d < 1)
        ow_d = 1;
    if (oh_d < 1)
        oh_d = 1;
    *too_big = 0;
    if (!(ow_d * oh_d <= MAX_IMAGE_PX)) {
        *too_big = 1;
        return NULL;
    }
    int ow = (int)ow_d, oh = (int)oh_d;
    ts_canvas *o = ts_canvas_new(ow, oh, NULL);
    if (o == NULL)
        return NULL;
    /* unrotated, the output box maps exactly onto the source box */
    double kx = rotated ? k : ow / (double)src->w, ky = rotated ? k : oh / (double)src->h;
    int ss = 1;
    if (k < 1)
        ss = (int)ceil(1 / k);
    if (rotated && ss < 2)
        ss = 2;
    if (ss > 8)
        ss = 8;
    float norm = 1.0f / (float)(ss * ss);
    for (int j = 0; j < oh; j++) {
        for (int i = 0; i < ow; i++) {
            float acc[4] = {0, 0, 0, 0};
            for (int sy = 0; sy < ss; sy++) {
                for (int sx = 0; sx < ss; sx++) {
                    double qx = i + (sx + 0.5) / ss - ow / 2.0, qy = j + (sy + 0.5) / ss - oh / 2.0;
                    double ux = qx * cs + qy * sn, uy = -qx * sn + qy * cs; /* rotate back */
                    sample(src, ux / kx + src->w / 2.0, uy / ky + src->h / 2.0, !rotated, acc);
                }
            }
            uint32_t v = 0;
            float al = acc[3] * norm;
            for (int c = 0; c < 4; c++) {
                float f = acc[c] * norm;
                if (c < 3 && f > al) /* premultiplied: no channel above alpha */
                    f = al;
                uint32_t q = (uint32_t)(f + 0.5f);
                v |= (q > 255 ? 255 : q) << (8 * c);
            }
            o->px[(size_t)j * (size_t)o->stride + (size_t)i] = v;
        }
    }
    return o;
}

/* ---- drawing --------------------------------------------------------------------------- */

#define GEOM_AHEAD 8 /* features whose geometry is looked up before they are drawn */

typedef struct feat_ctx {
    const ts_render_layer *layer;
    uint32_t fid;
} feat_ctx;

static const ts_value *
feat_get(const void *vctx, int prop)
{
    const feat_ctx *fc = vctx;
    int field = fc->layer->prop_field[prop];
    return field < 0 ? NULL : ts_store_value(fc->layer->store, fc->fid, field);
}

/* ts_render_layer_draws at one scale denominator, for feature fr (NULL: any). */
static int
draws_at(const ts_style *st, const ts_feature_ref *fr, double scale_denom)
{
    int draws = 0;
    for (int f = 0; f < st->nfts; f++) {
        const ts_fts *fts = &st->fts[f];
        int else_on = fr != NULL && fts->has_else && ts_fts_else_applies(fts, scale_denom, fr);
        for (int r = 0; r < fts->nrules; r++) {
            const ts_rule *ru = &fts->rules[r];
            if (!ts_rule_in_scale(ru, scale_denom))
                continue;
            if (fr != NULL &&
                (ru->is_else ? !else_on : ru->filter != NULL && !ts_filter_eval(ru->filter, fr)))
                continue;
            for (int k = 0; k < ru->nsyms; k++) {
                const ts_symbolizer *s = &ru->syms[k];
                int point_label = s->kind == TS_SYM_TEXT && s->text != NULL &&
                                  s->text->placement == TS_PLACE_POINT;
                draws |= point_label ? TS_DRAWS_POINT_LABEL : TS_DRAWS_SHAPE;
            }
            if (draws == (TS_DRAWS_SHAPE | TS_DRAWS_POINT_LABEL))
                return draws;
        }
    }
    return draws;
}

int
ts_render_layer_draws(const ts_render_layer *l, int64_t fid, double sd_lo, double sd_hi)
{
    const ts_style *st = l->style;
    feat_ctx fc = {l, fid >= 0 ? (uint32_t)fid : 0};
    ts_feature_ref fr = {feat_get, &fc, {0, 0, 0, 0}};
    if (fid >= 0 && l->needs_bbox)
        fr.bbox = ts_store_feature_bbox(l->store, (uint32_t)fid);
    const ts_feature_ref *f = fid >= 0 ? &fr : NULL;
    /* the rules in scale are the same from each boundary up to the next (ranges are
     * [min, max)): sd_lo and every boundary inside the range stand for all of it */
    int draws = draws_at(st, f, sd_lo);
    for (int i = 0; i < st->nfts; i++)
        for (int r = 0; r < st->fts[i].nrules; r++) {
            const ts_rule *ru = &st->fts[i].rules[r];
            if (ru->min_scale > sd_lo && ru->min_scale <= sd_hi)
                draws |= draws_at(st, f, ru->min_scale);
            if (ru->max_scale > sd_lo && ru->max_scale <= sd_hi)
                draws |= draws_at(st, f, ru->max_scale);
        }
    return draws;
}

/* Say once per process and layer what its data give symbolizers that cannot be drawn as
 * given: sizes or widths over DYN_MAX_PX (capped), colours that are not colours (drawn in
 * the fixed colour). */
static void
warn_dynamic(const char *layer, const char *what, uint64_t count, const char *example)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t seen[64];
    static int nseen;
    uint64_t h = 1469598103934665603ull;
    for (const char *q = layer; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ull;
    h ^= (uint64_t)(what[0] | what[1] << 8);
    pthread_mutex_lock(&mu);
    int known = 0;
    for (int i = 0; i < nseen && !known; i++)
        known = seen[i] == h;
    if (!known && nseen < 64)
        seen[nseen++] = h;
    pthread_mutex_unlock(&mu);
    if (known)
        return;
    if (what[0] == 's')
        ts_warn("layer %s: %llu features give a size or width over %.0f px (e.g. %s): drawn at "
                "%.0f px",
                layer, (unsigned long long)count, DYN_MAX_PX, example, DYN_MAX_PX);
    else
        ts_warn("layer %s: %llu features give a colour that is not #rrggbb, #rgb or 0xrrggbb "
                "(e.g. '%s'): drawn in the style's fixed colour",
                layer, (unsigned long long)count, example);
}

/* Ground-unit symbols (uom metre, foot) reach this far at most, pixels at scale 1. */
#define GROUND_MAX_PX 4096.0

/* How far the symbols of l's symbolizers with values of the feature reach beyond their
 * features (units of the symbolizer at scale 1): the largest over the features of its
 * store (at least DYN_MIN_EXT), raising l's max_symbol_px (or max_symbol_m, for ground
 * units); and the data that cannot be drawn as given (warn_dynamic). One pass over the
 * store when the layer is made (a feed's update makes a new layer). */
static void
dynamic_extent(ts_render_layer *l)
{
    const ts_style *style = l->style;
    feat_ctx fc = {l, 0};
    ts_feature_ref fr = {feat_get, &fc, {0, 0, 0, 0}};
    uint32_t n = ts_store_count(l->store);
    uint64_t over = 0, bad = 0;
    char over_ex[32] = "", bad_ex[40] = "";
    for (int f = 0; f < style->nfts; f++)
        for (int r = 0; r < style->fts[f].nrules; r++)
            for (int k = 0; k < style->fts[f].rules[r].nsyms; k++) {
                const ts_symbolizer *sym = &style->fts[f].rules[r].syms[k];
                if (!sym->dynamic)
                    continue;
                const ts_graphic *g = sym->kind == TS_SYM_POINT ? sym->graphic : NULL;
                const ts_expr *sizes[] = {sym->stroke_width_expr, g ? g->size_expr : NULL,
                                          g ? g->stroke_width_expr : NULL};
                const ts_expr *colours[] = {sym->fill_expr, sym->stroke_expr,
                                            g ? g->fill_expr : NULL, g ? g->stroke_expr : NULL};
                int sized = sizes[0] || sizes[1] || sizes[2];
                double ext = sized ? DYN_MIN_EXT : 0;
                for (fc.fid = 0; fc.fid < n; fc.fid++) {
                    if (sized) {
                        ts_symbolizer ds;
                        ts_graphic dg;
                        ts_style_dynamic(sym, &fr, DYN_MAX_PX, &ds, &dg);
                        ext = fmax(ext, symbolizer_extent_px(&ds, l));
                    }
                    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
                        double v;
                        if (sizes[i] != NULL && ts_expr_eval_number(sizes[i], &fr, &v) &&
                            isfinite(v) && v > DYN_MAX_PX && over++ == 0)
                            snprintf(over_ex, sizeof over_ex, "%g", v);
                    }
                    for (size_t i = 0; i < sizeof colours / sizeof *colours; i++) {
                        char buf[40];
                        ts_rgba c;
                        size_t len = colours[i] != NULL
                                         ? ts_label_eval(colours[i], &fr, buf, sizeof buf)
                                         : 0;
                        if (len > 0 && (len >= sizeof buf || !ts_style_colour(buf, &c)) &&
                            bad++ == 0)
                            snprintf(bad_ex, sizeof bad_ex, "%s", buf);
                    }
                }
                if (sym->uom_m > 0)
                    l->max_symbol_m = fmax(l->max_symbol_m, ext * sym->uom_m);
                else
                    l->max_symbol_px = fmax(l->max_symbol_px, ext);
            }
    if (over > 0)
        warn_dynamic(l->name, "size", over, over_ex);
    if (bad > 0)
        warn_dynamic(l->name, "colour", bad, bad_ex);
}

double
ts_render_layer_reach_px(const ts_render_layer *l, double scale_denom)
{
    double px = l->max_symbol_px;
    if (l->max_symbol_m > 0 && scale_denom > 0)
        px = fmax(px, fmin(GROUND_MAX_PX, l->max_symbol_m / (scale_denom * 0.00028)) + 2);
    return px;
}

/* Everything one draw of one layer needs, fixed for the whole canvas. */
typedef struct draw_env {
    ts_render_worker *w;
    ts_canvas *c;           /* the whole image, or a band of its rows (a view) */
    ts_affine t;            /* map -> pixels of the whole image, for every band alike */
    double sf;              /* symbol scale factor */
    ts_bbox shown;          /* the extent of c's rows: queries cover it plus a margin */
    int y0, y1, full_h;     /* rows [y0, y1) of the whole image of full_h rows are in c */
    int64_t ox, oy;         /* world pixel of image pixel (0, 0): the pixel of map (0, 0)
                             * negated, rounded; patterns are anchored to it */
    const ts_render_layer *l;   /* the layer being drawn */
    ts_source_xform *xf;        /* its store's CRS -> the image's, or NULL */
    const ts_feature_ref *fr;   /* the feature being drawn (rotation expressions) */
    const ts_font_catalog *fonts; /* font marks' faces (NULL: none drawn) */
} draw_env;

static ts_stroke
scaled_stroke(const ts_stroke *s, double sf)
{
    ts_stroke o = *s;
    o.width *= sf;
    for (int i = 0; i < o.ndash; i++)
        o.dash[i] *= sf;
    o.dash_offset *= sf;
    return o;
}

/* colour with its alpha multiplied by opacity (0..1). */
static ts_rgba
with_alpha(ts_rgba c, double opacity)
{
    c.a = (uint8_t)lround(c.a * (opacity < 0 ? 0 : opacity > 1 ? 1 : opacity));
    return c;
}

/* A representative point of a geometry, for point symbolizers on lines and polygons (SLD
 * 1.0 11.3: "the centroid of the geometry"): a polygon's area centroid over all its parts
 * and holes (the store orients exterior rings one way and holes the other, so signed areas
 * add up), a line's middle by length along its longest part; a degenerate one, its first
 * point. Areas are summed relative to the first vertex (no cancellation far from 0). */
static void
anchor_point(const ts_geom *g, double *x, double *y)
{
    const double *p = g->xy;
    *x = p[0];
    *y = p[1];
    if (g->kind == TS_GEOM_POLYGON) {
        double x0 = p[0], y0 = p[1], a = 0, cx = 0, cy = 0;
        size_t off = 0;
        for (uint32_t k = 0; k < g->nparts; k++) {
            uint32_t n = g->counts[k];
            const double *r = p + 2 * off;
            for (uint32_t i = 0; n >= 3 && i < n; i++) {
                const double *q = r + 2 * ((i + 1) % n);
                double xi = r[2 * i] - x0, yi = r[2 * i + 1] - y0, xj = q[0] - x0, yj = q[1] - y0;
                double c = xi * yj - xj * yi;
                a += c;
                cx += (xi + xj) * c;
                cy += (yi + yj) * c;
            }
            off += n;
        }
        if (fabs(a) > 0) {
            *x = x0 + cx / (3 * a);
            *y = y0 + cy / (3 * a);
        }
        return;
    }
    if (g->kind != TS_GEOM_LINE)
        return;
    /* the longest part, then the point half its length along it */
    size_t off = 0, best_off = 0;
    uint32_t best_n = 0;
    double best_len = -1;
    for (uint32_t k = 0; k < g->nparts; k++) {
        uint32_t n = g->counts[k];
        double len = 0;
        for (uint32_t i = 0; i + 1 < n; i++)
            len += hypot(p[2 * (off + i + 1)] - p[2 * (off + i)],
                         p[2 * (off + i + 1) + 1] - p[2 * (off + i) + 1]);
        if (len > best_len) {
            best_len = len;
            best_off = off;
            best_n = n;
        }
        off += n;
    }
    const double *r = p + 2 * best_off;
    *x = r[0];
    *y = r[1];
    double half = best_len / 2;
    for (uint32_t i = 0; i + 1 < best_n && best_len > 0; i++) {
        double dx = r[2 * i + 2] - r[2 * i], dy = r[2 * i + 3] - r[2 * i + 1];
        double l = hypot(dx, dy);
        if (half <= l) {
            double t = l > 0 ? half / l : 0;
            *x = r[2 * i] + t * dx;
            *y = r[2 * i + 1] + t * dy;
            return;
        }
        half -= l;
    }
}

/* The rotation of a graphic for the current feature, degrees clockwise. */
static double
graphic_rotation(const draw_env *e, const ts_graphic *g)
{
    double r;
    if (g->rotation_expr != NULL)
        return e->fr != NULL && ts_expr_eval_number(g->rotation_expr, e->fr, &r) && isfinite(r)
                   ? r
                   : 0;
    return g->rotation;
}

/* Where a graphic of w x h px rotated by rot degrees has its centre when its anchor point
 * goes to (x, y) moved by its displacement (y up); the anchor turns with the graphic. */
static void
graphic_centre(const draw_env *e, const ts_graphic *g, double w, double h, double rot, double x,
               double y, double *cx, double *cy)
{
    *cx = x + g->disp_x * e->sf;
    *cy = y - g->disp_y * e->sf;
    if (g->anchor_x == 0.5 && g->anchor_y == 0.5)
        return; /* the usual case: centred, no trigonometry per point */
    double ax = (g->anchor_x - 0.5) * w, ay = (0.5 - g->anchor_y) * h; /* from the centre */
    double a = rot * (M_PI / 180), cs = cos(a), sn = sin(a);
    *cx -= ax * cs - ay * sn;
    *cy -= ax * sn + ay * cs;
}

/* A shape:// mark of size px centred at (cx, cy), rotated, into c. Lines are stroked with
 * the mark's stroke; dot is a disc as wide as the stroke; carrow is filled and outlined. */
static ts_status
draw_shape(draw_env *e, ts_canvas *c, const ts_graphic *g, double cx, double cy, double size,
           double rot, double opacity)
{
    /* unit coordinates, y up as GeoTools defines them: up to two parts of 3 points */
    static const double unit[][2][6] = {
        [TS_SHAPE_HORLINE] = {{-0.5, 0, 0.5, 0}},
        [TS_SHAPE_VERTLINE] = {{0, -0.5, 0, 0.5}},
        [TS_SHAPE_SLASH] = {{-0.5, -0.5, 0.5, 0.5}},
        [TS_SHAPE_BACKSLASH] = {{-0.5, 0.5, 0.5, -0.5}},
        [TS_SHAPE_PLUS] = {{-0.5, 0, 0.5, 0}, {0, -0.5, 0, 0.5}},
        [TS_SHAPE_TIMES] = {{-0.5, -0.5, 0.5, 0.5}, {-0.5, 0.5, 0.5, -0.5}},
        [TS_SHAPE_OARROW] = {{-0.5, 0.2, 0, 0, -0.5, -0.2}},
        [TS_SHAPE_CARROW] = {{-0.5, 0.2, 0, 0, -0.5, -0.2}},
    };
    ts_raster *r = e->w->raster;
    ts_stroke k = scaled_stroke(&g->stroke, e->sf);
    ts_rgba sc = with_alpha(g->stroke_color, g->stroke_opacity);
    if (g->shape == TS_SHAPE_DOT) {
        if (!g->has_stroke)
            return TS_OK;
        e->w->stats.paths++;
        return ts_raster_marker(r, c, cx, cy, TS_MARK_CIRCLE, k.width, 0, sc, NULL, sc, opacity);
    }
    if (g->shape <= TS_SHAPE_NONE || g->shape > TS_SHAPE_CARROW)
        return TS_OK;
    int nparts = g->shape == TS_SHAPE_PLUS || g->shape == TS_SHAPE_TIMES ? 2 : 1;
    uint32_t npt = g->shape == TS_SHAPE_OARROW || g->shape == TS_SHAPE_CARROW ? 3 : 2;
    double a = rot * (M_PI / 180), cs = cos(a), sn = sin(a);
    double xy[12];
    uint32_t counts[2] = {npt, npt};
    for (int p = 0; p < nparts; p++)
        for (uint32_t i = 0; i < npt; i++) {
            double ux = unit[g->shape][p][2 * i] * size, uy = -unit[g->shape][p][2 * i + 1] * size;
            xy[2 * (p * npt + i)] = cx + ux * cs - uy * sn;
            xy[2 * (p * npt + i) + 1] = cy + ux * sn + uy * cs;
        }
    ts_parts parts = {xy, counts, (uint32_t)nparts};
    e->w->stats.paths++;
    if (g->shape == TS_SHAPE_CARROW) {
        ts_rgba fill = with_alpha(g->fill, (g->has_fill ? g->fill_opacity : 0) * opacity);
        ts_rgba so = with_alpha(sc, opacity);
        return ts_raster_fill_stroke(r, c, &identity, &parts, TS_FILL_NONZERO, fill, 1,
                                     g->has_stroke ? &k : NULL, so, 1);
    }
    if (!g->has_stroke)
        return TS_OK;
    return ts_raster_stroke(r, c, &identity, &parts, 0, &k, sc, opacity);
}

/* The image of g scaled to its drawn size (times sf) and rotated, from the worker's cache;
 * NULL when the layer has no pixels for it or it is too big (*st TS_OK), or on
 * out-of-memory (*st TS_ENOMEM). */
static const ts_canvas *
graphic_image(draw_env *e, const ts_graphic *g, double rot, ts_status *st)
{
    *st = TS_OK;
    const ts_render_layer *l = e->l;
    if (l == NULL) /* a sample drawn without its layer (legends): no pixels to hand */
        return NULL;
    const ts_canvas *src = g->image >= 0 && g->image < l->nimages ? l->images[g->image] : NULL;
    if (src == NULL)
        return NULL;
    double h = (g->size > 0 ? g->size : src->h) * e->sf;
    double k = h / src->h;
    double r = fmod(rot, 360.0);
    if (r == 0)
        r = 0; /* one key for 0 and -0 */
    if (k == 1 && r == 0)
        return src;
    /* keyed by the image, not by g: a graphic sized by the feature is a copy per feature */
    const void *key = l->images + g->image;
    const ts_canvas *img = cache_get(e->w, l->id, key, GC_IMAGE, k, r);
    if (img != NULL)
        return img;
    int too_big = 0;
    ts_canvas *n = resample(src, k, r, &too_big);
    if (n == NULL) {
        *st = too_big ? TS_OK : TS_ENOMEM;
        return NULL;
    }
    return cache_put(e->w, l->id, key, GC_IMAGE, k, r, n);
}

/* Say once per process that a font mark's family or character is missing. */
static void
warn_font_mark(const ts_graphic *g, const char *what)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char seen[16][96];
    static int nseen;
    char key[96];
    snprintf(key, sizeof key, "%s#%x", g->glyph_font, (unsigned)g->glyph);
    pthread_mutex_lock(&mu);
    int known = 0;
    for (int i = 0; i < nseen && !known; i++)
        known = strcmp(seen[i], key) == 0;
    if (!known && nseen < 16)
        memcpy(seen[nseen++], key, sizeof key);
    pthread_mutex_unlock(&mu);
    if (!known)
        ts_warn("font mark ttf://%s U+%04X: %s (fonts are read from /usr/share/fonts and "
                "data/fonts)",
                g->glyph_font, (unsigned)g->glyph, what);
}

/* A font mark: g's glyph, its ink centred at (cx, cy), size px (the em, or the ink's larger
 * side), turned by rot degrees, filled with the Mark's Fill and outlined (a halo of half the
 * stroke width) with its Stroke. */
static ts_status
draw_glyph_mark(draw_env *e, ts_canvas *c, const ts_graphic *g, double cx, double cy,
                double size, double rot, double opacity, int *missing)
{
    ts_render_worker *w = e->w;
    *missing = 0;
    if (e->fonts == NULL || !(size > 0))
        return TS_OK;
    ts_font_match m;
    int face = ts_font_catalog_find(e->fonts, g->glyph_font, 0, 0, &m);
    if (face < 0 || m == TS_FONT_FALLBACK) {
        warn_font_mark(g, g->fallback ? "the font is not installed (the next alternative is "
                                        "drawn)"
                                      : "the font is not installed: not drawn");
        *missing = 1;
        return TS_OK;
    }
    if (w->text == NULL || w->text_cat != e->fonts) {
        ts_text_ctx_free(w->text);
        w->text = ts_text_ctx_new(e->fonts, NULL);
        w->text_cat = w->text ? e->fonts : NULL;
        if (w->text == NULL)
            return TS_ENOMEM;
    }
    char u[4];
    size_t n = ts_utf8_put(g->glyph, (uint8_t *)u);
    ts_font_spec spec = {.face = face, .size_px = size > 2048 ? 2048 : size};
    const ts_text_run *run = NULL;
    ts_err err;
    ts_status st = ts_text_shape(w->text, u, n, &spec, &run, &err);
    if (st != TS_OK)
        return st == TS_ENOMEM ? st : TS_OK;
    if (run->nmissing > 0 || run->nglyphs == 0 || run->nglyphs > 4) {
        if (run->nmissing > 0) {
            warn_font_mark(g, g->fallback ? "the font has no such character (the next "
                                            "alternative is drawn)"
                                          : "the font has no such character: not drawn");
            *missing = 1;
        }
        ts_text_run_release(run);
        return TS_OK;
    }
    double iw = run->ink_x1 - run->ink_x0, ih = run->ink_y1 - run->ink_y0;
    if (!g->glyph_em && iw > 0 && ih > 0) { /* the ink's larger side is size */
        double k = size / fmax(iw, ih);
        spec.size_px = fmin(2048, fmax(1.0 / 64, spec.size_px * k));
        const ts_text_run *r2 = NULL;
        if (ts_text_shape(w->text, u, n, &spec, &r2, &err) == TS_OK) {
            ts_text_run_release(run);
            run = r2;
        }
    }
    /* the ink's centre on (cx, cy), turning about it */
    double icx = (run->ink_x0 + run->ink_x1) / 2, icy = (run->ink_y0 + run->ink_y1) / 2;
    double a = rot * (M_PI / 180), cs = cos(a), sn = sin(a);
    ts_text_glyph_pos pos[4];
    ts_text_layout_straight(run, cx - (icx * cs - icy * sn), cy - (icx * sn + icy * cs), a, pos);
    ts_text_paint paint = {
        .fill = g->has_fill ? g->fill : (ts_rgba){0, 0, 0, 0},
        .fill_opacity = g->fill_opacity * opacity,
        .halo_radius = g->has_stroke ? g->stroke.width * e->sf / 2 : 0,
        .halo = g->stroke_color,
        .halo_opacity = g->stroke_opacity * opacity,
    };
    w->stats.paths++;
    st = ts_text_draw(w->text, w->raster, c, run, pos, &paint, &err);
    ts_text_run_release(run);
    return st;
}

void
ts_render__check_font_mark(const ts_graphic *g, const ts_font_catalog *cat, ts_text_ctx **text)
{
    if (g == NULL || g->glyph_font == NULL || cat == NULL)
        return;
    ts_font_match m;
    int face = ts_font_catalog_find(cat, g->glyph_font, 0, 0, &m);
    if (face < 0 || m == TS_FONT_FALLBACK) {
        warn_font_mark(g, g->fallback ? "the font is not installed (the next alternative is "
                                        "drawn)"
                                      : "the font is not installed: not drawn");
        return;
    }
    if (*text == NULL && (*text = ts_text_ctx_new(cat, NULL)) == NULL)
        return;
    char u[4];
    size_t n = ts_utf8_put(g->glyph, (uint8_t *)u);
    ts_font_spec spec = {.face = face, .size_px = 16};
    const ts_text_run *run = NULL;
    ts_err err;
    if (ts_text_shape(*text, u, n, &spec, &run, &err) != TS_OK)
        return;
    if (run->nmissing > 0)
        warn_font_mark(g, g->fallback ? "the font has no such character (the next "
                                        "alternative is drawn)"
                                      : "the font has no such character: not drawn");
    ts_text_run_release(run);
}

/* A graphic at pixel (x, y) of the whole image, turned by extra degrees (along lines) on
 * top of its own rotation, into c with opacity. */
static ts_status
draw_graphic(draw_env *e, ts_canvas *c, const ts_graphic *g, double x, double y, double extra,
             double opacity)
{
    double rot = graphic_rotation(e, g) + extra;
    double op = g->opacity * opacity;
    if (g->image >= 0) {
        ts_status st;
        const ts_canvas *img = graphic_image(e, g, rot, &st);
        if (img == NULL)
            return st;
        const ts_canvas *src = e->l->images[g->image];
        double h = (g->size > 0 ? g->size : src->h) * e->sf, w = h * src->w / src->h;
        double cx, cy;
        graphic_centre(e, g, w, h, rot, x, y, &cx, &cy);
        /* floor(v + 0.5): the same rounding wherever the image lies, tiles agree */
        int ix = (int)floor(cx - img->w / 2.0 + 0.5), iy = (int)floor(cy - img->h / 2.0 + 0.5);
        ts_raster_blend_image(c, ix, iy, img->px, img->w, img->h, img->stride, op);
        e->w->stats.paths++;
        return TS_OK;
    }
    double size = g->size * e->sf, cx, cy;
    graphic_centre(e, g, size, size, rot, x, y, &cx, &cy);
    if (g->glyph_font != NULL) {
        int missing;
        ts_status st = draw_glyph_mark(e, c, g, cx, cy, size, rot, op, &missing);
        if (st == TS_OK && missing && g->fallback != NULL)
            return draw_graphic(e, c, g->fallback, x, y, extra, opacity);
        return st;
    }
    if (g->shape != TS_SHAPE_NONE)
        return draw_shape(e, c, g, cx, cy, size, rot, op);
    ts_stroke k;
    const ts_stroke *kp = NULL;
    if (g->has_stroke) {
        k = scaled_stroke(&g->stroke, e->sf);
        kp = &k;
    }
    ts_rgba fill = with_alpha(g->fill, g->has_fill ? g->fill_opacity : 0);
    ts_rgba sc = with_alpha(g->stroke_color, g->stroke_opacity);
    e->w->stats.paths++;
    return ts_raster_marker(e->w->raster, c, cx, cy, g->mark, size, rot, fill, kp, sc, op);
}

/* The parts of g in pixel space of the whole image, in the worker's pts. -1 on OOM. */
static int
to_pixels(draw_env *e, const ts_geom *g)
{
    size_t n = 0;
    for (uint32_t p = 0; p < g->nparts; p++)
        n += g->counts[p];
    if (ts_render__grow((void **)&e->w->pts, &e->w->npts, n, 2 * sizeof(double)) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        e->w->pts[2 * i] = e->t.sx * g->xy[2 * i] + e->t.tx;
        e->w->pts[2 * i + 1] = e->t.sy * g->xy[2 * i + 1] + e->t.ty;
    }
    return 0;
}

/* The offset curve of one part (n points at in, a ring when closed) at distance d pixels
 * to the left of its direction (on screen, y down), into out (room for 3 n points: the
 * curve takes at most 2 n, the part's distinct points are gathered behind them).
 * Vertices join the neighbouring segments' offset lines at their intersection unless that
 * lies more than OFFSET_MITER offsets out (then both ends: a bevel). Repeated points are
 * skipped. Returns the number of points written (0: nothing to draw). */
static uint32_t
offset_part(const double *in, uint32_t n, int closed, double d, double *out)
{
    /* the distinct points, by index */
    uint32_t m = 0, o = 0;
    for (uint32_t i = 0; i < n; i++)
        if (m == 0 || in[2 * i] != in[2 * (i - 1)] || in[2 * i + 1] != in[2 * (i - 1) + 1])
            m++;
    if (closed && m > 1 && in[0] == in[2 * (n - 1)] && in[1] == in[2 * (n - 1) + 1])
        m--; /* a ring that repeats its first point */
    if (m < 2)
        return 0;
    double *pt = out + 4 * (size_t)n; /* behind the 2 n points of output */
    uint32_t k = 0;
    for (uint32_t i = 0; i < n && k < m; i++)
        if (k == 0 || in[2 * i] != pt[2 * (k - 1)] || in[2 * i + 1] != pt[2 * (k - 1) + 1]) {
            pt[2 * k] = in[2 * i];
            pt[2 * k + 1] = in[2 * i + 1];
            k++;
        }
    m = k;
    for (uint32_t i = 0; i < m; i++) {
        int has_prev = closed || i > 0, has_next = closed || i + 1 < m;
        double nx0 = 0, ny0 = 0, nx1 = 0, ny1 = 0;
        if (has_prev) {
            uint32_t a = (i + m - 1) % m;
            double dx = pt[2 * i] - pt[2 * a], dy = pt[2 * i + 1] - pt[2 * a + 1];
            double len = hypot(dx, dy);
            nx0 = dy / len;
            ny0 = -dx / len;
        }
        if (has_next) {
            uint32_t b = (i + 1) % m;
            double dx = pt[2 * b] - pt[2 * i], dy = pt[2 * b + 1] - pt[2 * i + 1];
            double len = hypot(dx, dy);
            nx1 = dy / len;
            ny1 = -dx / len;
        }
        if (!has_prev) {
            nx0 = nx1;
            ny0 = ny1;
        }
        if (!has_next) {
            nx1 = nx0;
            ny1 = ny0;
        }
        double dot = nx0 * nx1 + ny0 * ny1;
        double mx = (nx0 + nx1) / (1 + dot), my = (ny0 + ny1) / (1 + dot);
        double x = pt[2 * i], y = pt[2 * i + 1];
        if (1 + dot > 1e-9 && mx * mx + my * my <= OFFSET_MITER * OFFSET_MITER) {
            out[2 * o] = x + d * mx;
            out[2 * o + 1] = y + d * my;
            o++;
        } else {
            out[2 * o] = x + d * nx0;
            out[2 * o + 1] = y + d * ny0;
            out[2 * o + 2] = x + d * nx1;
            out[2 * o + 3] = y + d * ny1;
            o += 2;
        }
    }
    return o;
}

/* The offset curve of every part of the pixel-space geometry in w->pts (nparts parts of
 * counts points) into w->opts / w->ocnt. -1 on OOM. */
static int
offset_parts(draw_env *e, const uint32_t *counts, uint32_t nparts, int closed, double d,
             uint32_t *nout)
{
    ts_render_worker *w = e->w;
    size_t total = 0;
    for (uint32_t p = 0; p < nparts; p++)
        total += counts[p];
    if (ts_render__grow((void **)&w->opts, &w->nopts, 2 * total + 8, 2 * sizeof(double)) != 0 ||
        ts_render__grow((void **)&w->ocnt, &w->nocnt, nparts ? nparts : 1, sizeof(uint32_t)) != 0)
        return -1;
    size_t at = 0, in = 0;
    uint32_t np = 0;
    for (uint32_t p = 0; p < nparts; p++) {
        /* a part writes at most 2 n points and gathers n more behind them */
        if (ts_render__grow((void **)&w->opts, &w->nopts, at + 3 * (size_t)counts[p] + 8,
                 2 * sizeof(double)) != 0)
            return -1;
        uint32_t k = offset_part(w->pts + 2 * in, counts[p], closed, d, w->opts + 2 * at);
        in += counts[p];
        if (k > 0) {
            w->ocnt[np++] = k;
            at += k;
        }
    }
    *nout = np;
    return 0;
}

/* ---- graphics along lines -------------------------------------------------------------- */

/* g repeated along the pixel-space parts (rings when closed): the first centred
 * initial_gap + half its length from the start, then every length + gap, turned with the
 * segment it lies on. Positions that cannot reach the canvas are skipped. */
static ts_status
stroke_graphics(draw_env *e, const ts_graphic *g, const double *xy, const uint32_t *counts,
                uint32_t nparts, int closed)
{
    double gw, gh;
    graphic_dims(g, e->l, &gw, &gh);
    gw *= e->sf;
    if (!(gw > 0))
        return TS_OK;
    double step = gw + g->gap * e->sf;
    if (step < 1)
        step = 1;
    double reach = graphic_extent(g, e->l) * e->sf;
    const double *p = xy;
    for (uint32_t part = 0; part < nparts; p += 2 * counts[part], part++) {
        uint32_t n = counts[part];
        double next = g->initial_gap * e->sf + gw / 2, acc = 0;
        long placed = 0;
        for (uint32_t i = 0; i + 1 < n + (closed && n > 2 ? 1u : 0u); i++) {
            const double *a = p + 2 * i, *b = p + 2 * ((i + 1) % n);
            double dx = b[0] - a[0], dy = b[1] - a[1], len = hypot(dx, dy);
            if (!(len > 0))
                continue;
            double angle = atan2(dy, dx) * (180 / M_PI); /* clockwise on screen */
            while (next <= acc + len) {
                double t = (next - acc) / len, x = a[0] + t * dx, y = a[1] + t * dy;
                next += step;
                if (++placed > MAX_ALONG)
                    return TS_OK;
                if (y < e->y0 - reach || y > e->y1 + reach || x < -reach || x > e->c->w + reach)
                    continue;
                ts_status st = draw_graphic(e, e->c, g, x, y, angle, 1);
                if (st != TS_OK)
                    return st;
            }
            acc += len;
        }
    }
    return TS_OK;
}

/* ---- GraphicFill ----------------------------------------------------------------------- */

/* Distribution function of U(0, a) + U(0, b) (0 <= a <= b, a + b > 0) at t. */
static double
sum_cdf(double t, double a, double b)
{
    if (t <= 0)
        return 0;
    if (t >= a + b)
        return 1;
    if (a < 1e-12)
        return t / b;
    if (t < a)
        return t * t / (2 * a * b);
    if (t < b)
        return (t - a / 2) / b;
    double u = a + b - t;
    return 1 - u * u / (2 * a * b);
}

/* How the position s = n . p of a world pixel is computed for a family of hatch lines.
 * Axis-parallel and diagonal families depend on one integer of the pixel (its row, its
 * column, X + Y or X - Y), so a strip computes them once per distinct value. */
enum { HATCH_ROW, HATCH_COL, HATCH_SUM, HATCH_DIFF, HATCH_ANY };

/* One family of parallel hatch lines: n . p = phase + k period (n a unit normal, world
 * pixel coordinates, y down), each half wide on both sides. a <= b are |nx|, |ny| sorted;
 * (dx, dy) the corner of a pixel where n . p is least. */
typedef struct hatch_lines {
    double nx, ny, period, phase;
    double inv_period, a, b, dx, dy;
    int mode;
} hatch_lines;

/* n . p - phase at the least corner of world pixel (X, Y) — a pure function of (X, Y), so
 * every tile and band computes the same value for a pixel. */
static double
hatch_t(const hatch_lines *h, double X, double Y)
{
    switch (h->mode) {
    case HATCH_ROW:
        return h->ny * (Y + h->dy) - h->phase;
    case HATCH_COL:
        return h->nx * (X + h->dx) - h->phase;
    case HATCH_SUM:
        return h->nx * ((X + h->dx) + (Y + h->dy)) - h->phase;
    case HATCH_DIFF:
        return h->nx * ((X + h->dx) - (Y + h->dy)) - h->phase;
    default:
        return h->nx * (X + h->dx) + h->ny * (Y + h->dy) - h->phase;
    }
}

/* The exact share of a pixel the lines cover, from its hatch_t: over the pixel, s = n . p
 * is distributed as the sum of two uniforms (widths a and b). */
static double
hatch_cover(const hatch_lines *h, double half, double t)
{
    if (2 * half >= h->period)
        return 1;
    double u = t - h->period * floor(t * h->inv_period); /* t mod period */
    if (u < 0)
        u += h->period;
    if (u >= h->period)
        u -= h->period;
    /* lines at offsets -u + m period from the pixel's least s; the one below cannot reach
     * further back than half < period / 2 */
    double span = h->a + h->b, cov = 0;
    for (double c = -u; c - half < span; c += h->period)
        if (c + half > 0)
            cov += sum_cdf(c + half, h->a, h->b) - sum_cdf(c - half, h->a, h->b);
    return cov > 1 ? 1 : cov < 0 ? 0 : cov;
}

/* The hatch families of a shape:// line mark of period size px rotated by rot degrees,
 * the lines passing through the centre of every size x size cell of the world grid (where
 * GeoServer draws the mark in its pattern tile). Returns how many (0: not a line hatch). */
static int
hatch_families(ts_shape_mark shape, double size, double rot, hatch_lines out[2])
{
    static const double r2 = 0.70710678118654752440;
    double a = rot * (M_PI / 180), cs = cos(a), sn = sin(a);
    /* unrotated normals: horizontal lines (0, 1), vertical (1, 0), "/" (1, 1), "\" (1, -1) */
    double n[2][2];
    int k = 0, diag = 0;
    switch (shape) {
    case TS_SHAPE_HORLINE:
        n[k][0] = 0, n[k++][1] = 1;
        break;
    case TS_SHAPE_VERTLINE:
        n[k][0] = 1, n[k++][1] = 0;
        break;
    case TS_SHAPE_PLUS:
        n[k][0] = 0, n[k++][1] = 1;
        n[k][0] = 1, n[k++][1] = 0;
        break;
    case TS_SHAPE_SLASH:
        n[k][0] = r2, n[k++][1] = r2, diag = 1;
        break;
    case TS_SHAPE_BACKSLASH:
        n[k][0] = r2, n[k++][1] = -r2, diag = 1;
        break;
    case TS_SHAPE_TIMES:
        n[k][0] = r2, n[k++][1] = r2;
        n[k][0] = r2, n[k++][1] = -r2, diag = 1;
        break;
    default:
        return 0;
    }
    for (int i = 0; i < k; i++) {
        double nx = n[i][0] * cs - n[i][1] * sn, ny = n[i][0] * sn + n[i][1] * cs;
        /* snap what rounding left of right angles (cos 90 is 6e-17), so those families
         * take the one-coordinate forms */
        if (fabs(nx) < 1e-12)
            nx = 0;
        if (fabs(ny) < 1e-12)
            ny = 0;
        if (fabs(fabs(nx) - r2) < 1e-12 && fabs(fabs(ny) - r2) < 1e-12) {
            nx = nx < 0 ? -r2 : r2;
            ny = ny < 0 ? -r2 : r2;
        }
        out[i].mode = nx == 0 ? HATCH_ROW : ny == 0 ? HATCH_COL : nx == ny ? HATCH_SUM
                      : nx == -ny ? HATCH_DIFF : HATCH_ANY;
        out[i].nx = nx;
        out[i].ny = ny;
        out[i].period = diag ? size * r2 : size;
        out[i].phase = (nx + ny) * size / 2; /* through the cell centre */
        out[i].inv_period = 1 / out[i].period;
        out[i].a = fabs(nx) < fabs(ny) ? fabs(nx) : fabs(ny);
        out[i].b = fabs(nx) < fabs(ny) ? fabs(ny) : fabs(nx);
        out[i].dx = nx < 0 ? 1 : 0;
        out[i].dy = ny < 0 ? 1 : 0;
    }
    return k;
}

/* The pattern tile of a GraphicFill that is not a line hatch: the mark drawn centred in a
 * round(size) square with the graphic's margins around it, or the image at its drawn
 * size; cached per worker. NULL with *st
 * TS_OK when there is nothing to draw. */
static const ts_canvas *
fill_tile(draw_env *e, const ts_graphic *g, double rot, ts_status *st)
{
    *st = TS_OK;
    if (g->image >= 0)
        return graphic_image(e, g, rot, st);
    double r = fmod(rot, 360.0);
    if (r == 0)
        r = 0;
    uint64_t lid = e->l ? e->l->id : 0; /* 0: a legend sample's */
    const ts_canvas *t = cache_get(e->w, lid, g, GC_TILE, e->sf, r);
    if (t != NULL)
        return t;
    /* the mark's square and the margins around it (whole pixels, so the pattern repeats
     * on the pixel grid) */
    double side = floor(g->size * e->sf + 0.5);
    if (side < 1)
        side = 1;
    double mt = floor(g->margin[0] * e->sf + 0.5), mr = floor(g->margin[1] * e->sf + 0.5);
    double mb = floor(g->margin[2] * e->sf + 0.5), ml = floor(g->margin[3] * e->sf + 0.5);
    double tw = side + ml + mr, th = side + mt + mb;
    if (tw * th > MAX_IMAGE_PX)
        return NULL;
    ts_canvas *n = ts_canvas_new((int)tw, (int)th, NULL);
    if (n == NULL) {
        *st = TS_ENOMEM;
        return NULL;
    }
    /* the mark alone, centred in its square, without its anchor and displacement */
    ts_graphic centred = *g;
    centred.anchor_x = centred.anchor_y = 0.5;
    centred.disp_x = centred.disp_y = 0;
    centred.rotation_expr = NULL;
    centred.rotation = r;
    centred.opacity = 1;
    *st = draw_graphic(e, n, &centred, ml + side / 2, mt + side / 2, 0, 1);
    if (*st != TS_OK) {
        ts_canvas_free(n);
        return NULL;
    }
    return cache_put(e->w, lid, g, GC_TILE, e->sf, r, n);
}

static int64_t
mod64(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* v scaled by f/255 (premultiplied, all four channels). */
static uint32_t
px_scale(uint32_t v, uint32_t f)
{
    uint32_t rb = (v & 0x00ff00ffu) * f + 0x00800080u;
    uint32_t ag = ((v >> 8) & 0x00ff00ffu) * f + 0x00800080u;
    rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    ag = ((ag + ((ag >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
    return rb | (ag << 8);
}

/* The coverage of family f over columns [i0, i0 + bw) of strip row j (world row Y) in
 * worker scratch: one-coordinate families are tabulated when the strip's first row is
 * asked for (columns, or X + Y / X - Y over the strip) and read back per row; others are
 * computed per pixel. */
static double *
hatch_row(ts_render_worker *w, int f, const hatch_lines *h, double half, int i0, int bw, int j,
          int nh, int64_t ox, int64_t Y)
{
    double *tab = w->hat[f];
    double Xd = (double)((int64_t)i0 + ox);
    switch (h->mode) {
    case HATCH_ROW: {
        double v = hatch_cover(h, half, hatch_t(h, 0, (double)Y));
        for (int i = 0; i < bw; i++)
            tab[i] = v;
        return tab;
    }
    case HATCH_COL:
        if (j == 0)
            for (int i = 0; i < bw; i++)
                tab[i] = hatch_cover(h, half, hatch_t(h, Xd + i, 0));
        return tab;
    case HATCH_SUM: /* index i - i0 + j: X + Y = Xd + (Y0) + index */
        if (j == 0)
            for (int k = 0; k < bw + nh; k++)
                tab[k] = hatch_cover(h, half, hatch_t(h, Xd + k, (double)Y));
        return tab + j;
    case HATCH_DIFF: /* index i - i0 - j + nh - 1: X - Y = Xd - Y0 - (nh - 1) + index */
        if (j == 0)
            for (int k = 0; k < bw + nh; k++)
                tab[k] = hatch_cover(h, half, hatch_t(h, Xd + k, (double)(Y + nh - 1)));
        return tab + (nh - 1 - j);
    default:
        for (int i = 0; i < bw; i++)
            tab[i] = hatch_cover(h, half, hatch_t(h, Xd + i, (double)Y));
        return tab;
    }
}

/* A polygon filled with the pattern of s->fill_graphic (see the top of this file). */
static ts_status
draw_graphic_fill(draw_env *e, const ts_symbolizer *s, const ts_geom *g)
{
    const ts_graphic *gr = s->fill_graphic;
    ts_render_worker *w = e->w;
    double rot = graphic_rotation(e, gr);
    hatch_lines fam[2];
    int nfam = gr->image < 0 ? hatch_families(gr->shape, gr->size * e->sf, rot, fam) : 0;
    if (nfam > 0 && !gr->has_stroke)
        return TS_OK;
    ts_status st = TS_OK;
    const ts_canvas *tile = NULL;
    if (nfam == 0 && ((tile = fill_tile(e, gr, rot, &st)) == NULL))
        return st;
    /* the polygon's pixel box within the canvas */
    size_t n = 0;
    for (uint32_t p = 0; p < g->nparts; p++)
        n += g->counts[p];
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = e->t.sx * g->xy[2 * i] + e->t.tx, y = e->t.sy * g->xy[2 * i + 1] + e->t.ty;
        x0 = x < x0 ? x : x0;
        x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    if (!(x0 <= x1) || !(y0 <= y1))
        return TS_OK;
    int W = e->c->w;
    int i0 = x0 - 1 > 0 ? (int)(x0 - 1) : 0, i1 = x1 + 2 < W ? (int)(x1 + 2) : W;
    int j0 = y0 - 1 > e->y0 ? (int)(y0 - 1) : e->y0, j1 = y1 + 2 < e->y1 ? (int)(y1 + 2) : e->y1;
    if (i0 >= i1 || j0 >= j1)
        return TS_OK;
    size_t bw = (size_t)(i1 - i0);
    if (ts_render__grow((void **)&w->strip, &w->nstrip, (size_t)W * STRIP, sizeof *w->strip) != 0 ||
        (nfam > 0 ? ts_render__grow((void **)&w->mask, &w->nmask, bw * STRIP, 1) != 0 ||
                        ts_render__grow((void **)&w->hat[0], &w->nhat[0], bw + STRIP, sizeof(double)) ||
                        ts_render__grow((void **)&w->hat[1], &w->nhat[1], bw + STRIP, sizeof(double))
                  : ts_render__grow((void **)&w->pat, &w->npat, bw * STRIP, sizeof *w->pat) != 0))
        return TS_ENOMEM;
    ts_parts parts = {g->xy, g->counts, g->nparts};
    ts_rgba lc = with_alpha(gr->stroke_color, gr->stroke_opacity);
    double half = gr->stroke.width * e->sf / 2;
    for (int ys = j0; ys < j1; ys += STRIP) {
        int nh = j1 - ys < STRIP ? j1 - ys : STRIP;
        for (int j = 0; j < nh; j++)
            memset(w->strip + (size_t)j * (size_t)W + i0, 0, bw * sizeof *w->strip);
        /* the polygon's coverage of these rows, exactly as its solid fill would have it */
        ts_canvas sc = {.w = W, .h = nh, .stride = W, .px = w->strip, .owns = 0, .row0 = ys,
                        .full_h = e->full_h};
        st = ts_raster_fill(w->raster, &sc, &e->t, &parts, TS_FILL_NONZERO,
                            (ts_rgba){255, 255, 255, 255}, 1.0);
        w->stats.paths++;
        if (st != TS_OK)
            return st;
        for (int j = 0; j < nh; j++) {
            const uint32_t *cov = w->strip + (size_t)j * (size_t)W;
            int64_t Y = (int64_t)ys + j + e->oy;
            if (nfam > 0) {
                uint8_t *m = w->mask + (size_t)j * bw;
                double *hv[2];
                for (int f = 0; f < nfam; f++)
                    hv[f] = hatch_row(w, f, &fam[f], half, i0, (int)bw, j, nh, e->ox, Y);
                for (int i = i0; i < i1; i++) {
                    uint32_t c = cov[i] >> 24;
                    if (c == 0) {
                        m[i - i0] = 0;
                        continue;
                    }
                    double h = hv[0][i - i0];
                    if (nfam > 1) {
                        double h2 = hv[1][i - i0];
                        h = h + h2 - h * h2;
                    }
                    uint32_t q = (uint32_t)(h * 255 + 0.5);
                    m[i - i0] = (uint8_t)((c * q + 127) / 255);
                }
            } else {
                uint32_t *o = w->pat + (size_t)j * bw;
                const uint32_t *trow =
                    tile->px + (size_t)mod64(Y, tile->h) * (size_t)tile->stride;
                int64_t tx = mod64((int64_t)i0 + e->ox, tile->w);
                for (int i = i0; i < i1; i++) {
                    uint32_t c = cov[i] >> 24, v = trow[tx];
                    o[i - i0] = c == 255 ? v : c == 0 ? 0 : px_scale(v, c);
                    if (++tx == tile->w)
                        tx = 0;
                }
            }
        }
        if (nfam > 0)
            ts_raster_blend_mask(e->c, i0, ys, w->mask, (int)bw, nh, (int)bw, lc, gr->opacity);
        else
            ts_raster_blend_image(e->c, i0, ys, w->pat, (int)bw, nh, (int)bw, gr->opacity);
    }
    return TS_OK;
}

/* ---- symbolizers ----------------------------------------------------------------------- */

/* A line (or a ring's outline, closed = 1) with its stroke and graphic stroke, moved by the
 * perpendicular offset when there is one (drawn then in pixel space). */
static ts_status
draw_line(draw_env *e, const ts_symbolizer *s, const ts_geom *g, int closed)
{
    ts_raster *r = e->w->raster;
    double off = s->kind == TS_SYM_LINE ? s->perpendicular_offset * e->sf : 0;
    ts_status st = TS_OK;
    if (!s->has_stroke && s->stroke_graphic == NULL)
        return TS_OK;
    ts_stroke k;
    const ts_stroke *kp = &s->stroke;
    if (e->sf != 1) {
        k = scaled_stroke(&s->stroke, e->sf);
        kp = &k;
    }
    if (off == 0 && s->stroke_graphic == NULL) {
        ts_parts parts = {g->xy, g->counts, g->nparts};
        e->w->stats.paths++;
        return ts_raster_stroke(r, e->c, &e->t, &parts, closed, kp, s->stroke_color,
                                s->stroke_opacity);
    }
    if (to_pixels(e, g) != 0)
        return TS_ENOMEM;
    const double *xy = e->w->pts;
    const uint32_t *counts = g->counts;
    uint32_t nparts = g->nparts;
    if (off != 0) {
        if (offset_parts(e, g->counts, g->nparts, closed, off, &nparts) != 0)
            return TS_ENOMEM;
        xy = e->w->opts;
        counts = e->w->ocnt;
    }
    if (s->has_stroke && nparts > 0) {
        ts_parts parts = {xy, counts, nparts};
        e->w->stats.paths++;
        st = ts_raster_stroke(r, e->c, &identity, &parts, closed, kp, s->stroke_color,
                              s->stroke_opacity);
    }
    if (st == TS_OK && s->stroke_graphic != NULL)
        st = stroke_graphics(e, s->stroke_graphic, xy, counts, nparts, closed);
    return st;
}

static ts_status
draw_symbolizer(draw_env *e, const ts_symbolizer *s, const ts_geom *g)
{
    ts_raster *r = e->w->raster;
    ts_status st = TS_OK;
    switch (s->kind) {
    case TS_SYM_POLYGON:
        if (g->kind != TS_GEOM_POLYGON)
            return TS_OK;
        if (s->fill_graphic != NULL)
            TS_TRY(draw_graphic_fill(e, s, g));
        if (s->has_fill && s->has_stroke && s->stroke_graphic == NULL) {
            /* one call: one transform, one sweep */
            ts_stroke k;
            const ts_stroke *kp = &s->stroke;
            if (e->sf != 1) {
                k = scaled_stroke(&s->stroke, e->sf);
                kp = &k;
            }
            ts_parts parts = {g->xy, g->counts, g->nparts};
            e->w->stats.paths += 2;
            return ts_raster_fill_stroke(r, e->c, &e->t, &parts, TS_FILL_NONZERO, s->fill,
                                         s->fill_opacity, kp, s->stroke_color,
                                         s->stroke_opacity);
        }
        if (s->has_fill) {
            ts_parts parts = {g->xy, g->counts, g->nparts};
            st = ts_raster_fill(r, e->c, &e->t, &parts, TS_FILL_NONZERO, s->fill, s->fill_opacity);
            e->w->stats.paths++;
        }
        if (st == TS_OK && (s->has_stroke || s->stroke_graphic != NULL))
            st = draw_line(e, s, g, 1);
        return st;
    case TS_SYM_LINE:
        if (g->kind == TS_GEOM_POINT)
            return TS_OK;
        return draw_line(e, s, g, g->kind == TS_GEOM_POLYGON);
    case TS_SYM_POINT: {
        const ts_graphic *gr = s->graphic;
        if (gr == NULL)
            return TS_OK;
        if (g->kind == TS_GEOM_POINT) {
            for (uint32_t i = 0; i < g->nparts && st == TS_OK; i++) {
                double px = e->t.sx * g->xy[2 * i] + e->t.tx;
                double py = e->t.sy * g->xy[2 * i + 1] + e->t.ty;
                st = draw_graphic(e, e->c, gr, px, py, 0, 1);
            }
        } else {
            double x, y;
            anchor_point(g, &x, &y);
            st = draw_graphic(e, e->c, gr, e->t.sx * x + e->t.tx, e->t.sy * y + e->t.ty, 0, 1);
        }
        return st;
    }
    case TS_SYM_TEXT:
        return TS_OK; /* never reached: the feature loop hands text to the label hook */
    }
    return TS_OK;
}

/* Pixels per unit of ground-unit symbolizer s at scale_denom (ts_symbolizer_px_per_unit),
 * at most so many that its symbols reach GROUND_MAX_PX: past that (a symbol of metres on a
 * very large scale) they stop growing, as the layer's query margin does. */
static double
ground_px_per_unit(const ts_symbolizer *s, const ts_render_layer *l, double scale_denom)
{
    double k = ts_symbolizer_px_per_unit(s, scale_denom);
    double ext = l->max_symbol_m / s->uom_m; /* the layer's largest, in s's units */
    if (ext * k > GROUND_MAX_PX)
        k = GROUND_MAX_PX / ext;
    return k;
}

static ts_status
draw_layer(draw_env *e, const ts_render_layer *l, const ts_render_req *req, ts_err *err)
{
    ts_render_worker *w = e->w;
    const ts_style *style = l->style;
    double res = (req->bbox.maxx - req->bbox.minx) / req->width;
    /* Rules live at this scale? Skip the query when none does. */
    int any = 0;
    for (int f = 0; f < style->nfts && !any; f++)
        for (int r = 0; r < style->fts[f].nrules; r++)
            if (ts_rule_in_scale(&style->fts[f].rules[r], req->scale_denom)) {
                any = 1;
                break;
            }
    if (!any)
        return TS_OK;

    uint64_t t0 = ts_mono_ns();
    double margin = (ts_render_layer_reach_px(l, req->scale_denom) * e->sf + 1) * res;
    ts_bbox q = {e->shown.minx - margin, e->shown.miny - margin, e->shown.maxx + margin,
                 e->shown.maxy + margin};
    double store_res = res;
    if (e->xf != NULL)
        q = ts_render__store_box(e->xf, &q, res, &store_res);
    if (ts_store_query(l->store, &q, &w->ids) != TS_OK)
        return TS_FAIL(err, TS_ENOMEM, "query layer %s", l->name);
    int level = ts_store_level_for_res(l->store, store_res);
    uint64_t t1 = ts_mono_ns();

    feat_ctx fc = {l, 0};
    ts_feature_ref fr = {feat_get, &fc, {0, 0, 0, 0}};
    e->l = l;
    e->fr = &fr;
    for (int f = 0; f < style->nfts; f++) {
        const ts_fts *fts = &style->fts[f];
        /* the rules live at this scale, found once for all features */
        if (fts->nrules > w->nactive) {
            const ts_rule **a = realloc(w->active, (size_t)fts->nrules * sizeof *a);
            if (a != NULL)
                w->active = a;
            unsigned char *ap = a ? realloc(w->applies, (size_t)fts->nrules) : NULL;
            if (ap == NULL)
                return TS_FAIL(err, TS_ENOMEM, "draw layer %s", l->name);
            w->applies = ap;
            w->nactive = fts->nrules;
        }
        int nact = 0, any_else = 0;
        for (int ri = 0; ri < fts->nrules; ri++)
            if (ts_rule_in_scale(&fts->rules[ri], req->scale_denom)) {
                any_else |= fts->rules[ri].is_else;
                w->active[nact++] = &fts->rules[ri];
            }
        if (nact == 0)
            continue;
        /* A feature's data lie anywhere in the store: its geometry is looked up
         * GEOM_AHEAD features before it is drawn (and its points asked for), its index
         * entries twice as far ahead, so the cache misses overlap with drawing. */
        size_t nids = w->ids.n;
        const uint32_t *ids = w->ids.ids;
        ts_geom ahead[GEOM_AHEAD];
        for (size_t j = 0; j < 2 * GEOM_AHEAD && j < nids; j++)
            ts_store_prefetch(l->store, level, ids[j]);
        for (size_t j = 0; j < GEOM_AHEAD && j < nids; j++)
            ts_store_geom(l->store, level, ids[j], &ahead[j]);
        for (size_t i = 0; i < nids; i++) {
            if ((i & 255) == 255 && req->deadline_ns != 0 && ts_mono_ns() > req->deadline_ns)
                return TS_FAIL(err, TS_ELIMIT, "layer %s: past the render time limit", l->name);
            uint32_t fid = ids[i];
            ts_geom g = ahead[i % GEOM_AHEAD];
            if (i + GEOM_AHEAD < nids) {
                ts_geom *next = &ahead[i % GEOM_AHEAD];
                if (i + 2 * GEOM_AHEAD < nids)
                    ts_store_prefetch(l->store, level, ids[i + 2 * GEOM_AHEAD]);
                ts_store_geom(l->store, level, ids[i + GEOM_AHEAD], next);
                if (next->nparts > 0) {
                    __builtin_prefetch(next->xy);
                    __builtin_prefetch(next->counts);
                }
            }
            if (g.kind == TS_GEOM_NONE || g.nparts == 0)
                continue;
            if (e->xf != NULL && ts_render__xform_geom(w, e->xf, &g) != 0)
                continue; /* outside the image CRS's domain (or out of memory) */
            fc.fid = fid;
            if (l->needs_bbox) /* only BBOX filters read it */
                fr.bbox = ts_store_feature_bbox(l->store, fid);
            /* with an ElseFilter rule the filters are evaluated up front, once each: whether
             * it applies depends on rules after it too */
            if (any_else)
                ts_rules_apply(w->active, nact, &fr, w->applies);
            int matched = 0;
            for (int ri = 0; ri < nact; ri++) {
                const ts_rule *rule = w->active[ri];
                if (any_else ? !w->applies[ri]
                             : rule->filter != NULL && !ts_filter_eval(rule->filter, &fr))
                    continue;
                matched = 1;
                for (int k = 0; k < rule->nsyms; k++) {
                    const ts_symbolizer *sym = &rule->syms[k];
                    if (sym->kind == TS_SYM_TEXT) {
                        /* LABEL HOOK: TextSymbolizers are not drawn here. The label engine
                         * gathers (layer, rule, symbolizer, feature) here — the label text
                         * from ts_label_eval(sym->label, &fr, ...), rotation / priority
                         * from ts_expr_eval_number — and draws the placed labels after
                         * all layers. Until it is wired in, labels are skipped. */
                        continue;
                    }
                    ts_status st;
                    double sf = e->sf; /* ground units: this scale's pixels per unit */
                    if (sym->uom_m > 0)
                        e->sf = sf * ground_px_per_unit(sym, l, req->scale_denom);
                    if (sym->dynamic) { /* values of this feature in place of fixed ones */
                        ts_symbolizer ds;
                        ts_graphic dg;
                        ts_style_dynamic(sym, &fr, DYN_MAX_PX, &ds, &dg);
                        st = draw_symbolizer(e, &ds, &g);
                    } else {
                        st = draw_symbolizer(e, sym, &g);
                    }
                    e->sf = sf;
                    if (st != TS_OK)
                        return TS_FAIL(err, st, "draw layer %s", l->name);
                }
            }
            if (matched)
                w->stats.features++;
        }
    }
    e->fr = NULL;
    /* No clock per feature: the loop (rule selection, filters, drawing) counts as drawing. */
    w->stats.query_ns += t1 - t0;
    w->stats.draw_ns += ts_mono_ns() - t1;
    return TS_OK;
}

/* Draw req into c, a view of rows of the whole image req describes (or all of it), which
 * shows the extent shown. Every band uses the whole image's transform: the rasteriser then
 * gives each row the pixels the whole drawing gives it (see ts_canvas). */
static ts_status
draw_into(ts_render_worker *w, const ts_render_req *req, ts_canvas *c, const ts_bbox *shown,
          ts_err *err)
{
    uint64_t t0 = ts_mono_ns();
    ts_canvas_clear(c, req->background);
    w->stats.draw_ns += ts_mono_ns() - t0;
    draw_env e;
    e.w = w;
    e.c = c;
    e.sf = req->scale_factor > 0 ? req->scale_factor : 1;
    e.t.sx = req->width / (req->bbox.maxx - req->bbox.minx);
    e.t.tx = -req->bbox.minx * e.t.sx;
    e.t.sy = -req->height / (req->bbox.maxy - req->bbox.miny);
    e.t.ty = req->bbox.maxy * -e.t.sy;
    e.shown = *shown;
    e.y0 = c->row0;
    e.y1 = c->row0 + c->h;
    e.full_h = c->full_h > e.y1 ? c->full_h : e.y1;
    /* the pattern origin: the pixel of map (0, 0), an integer for tiles of a grid whose
     * origin lies on the pixel grid (then adjacent tiles agree exactly) */
    e.ox = fabs(e.t.tx) < 1e15 ? (int64_t)floor(-e.t.tx + 0.5) : 0;
    e.oy = fabs(e.t.ty) < 1e15 ? (int64_t)floor(-e.t.ty + 0.5) : 0;
    e.l = NULL;
    e.fr = NULL;
    e.fonts = req->fonts;
    for (int i = 0; i < req->nlayers; i++) {
        ts_status st;
        e.xf = ts_render__layer_xform(w, req, i, &st, err);
        if (st != TS_OK)
            return st;
        TS_TRY(draw_layer(&e, req->layers[i], req, err));
    }
    /* labels on top of every layer */
    return ts_render__labels(w->labels, w, w->raster, req, c, &e.t, shown, &w->stats, err);
}

/* c as the whole image of req (whatever window of rows the caller's struct says). */
static ts_canvas
whole_image(const ts_canvas *c)
{
    ts_canvas v = *c;
    v.owns = 0;
    v.row0 = 0;
    v.full_h = c->h;
    return v;
}

/* Rows of the whole image that the canvas c is a window of (at least row0 + h). */
static int
image_h(const ts_canvas *c)
{
    return c->full_h > c->row0 + c->h ? c->full_h : c->row0 + c->h;
}

/* 1 when rows (a whole image or a window of its rows) can take req's drawing. */
static int
rows_fit(const ts_render_req *req, const ts_canvas *rows)
{
    return rows->w == req->width && image_h(rows) == req->height && rows->h >= 1 &&
           rows->row0 >= 0 && req->width >= 1 && req->bbox.maxx > req->bbox.minx &&
           req->bbox.maxy > req->bbox.miny;
}

/* Draw band i of nb of the canvas `rows` (a whole image, or a window of its rows: band i
 * is its rows [h*i/nb, h*(i+1)/nb)), with the whole image's transform, by worker w. The
 * band queries only its own extent (plus the layers' symbol margin, which bounds how far a
 * feature outside can draw into it); a band that is the whole image shows req's bbox. */
static ts_status
draw_band(ts_render_worker *w, const ts_render_req *req, const ts_canvas *rows, int i, int nb,
          ts_err *err)
{
    int h = rows->h, full_h = image_h(rows);
    int y0 = (int)((int64_t)h * i / nb);
    int y1 = (int)((int64_t)h * (i + 1) / nb);
    ts_canvas band = ts_canvas_view(rows, y0, y1 - y0);
    if (band.row0 == 0 && band.h == full_h)
        return draw_into(w, req, &band, &req->bbox, err);
    const ts_bbox *b = &req->bbox;
    double res_y = (b->maxy - b->miny) / full_h;
    ts_bbox shown = {b->minx, b->maxy - (band.row0 + band.h) * res_y, b->maxx,
                     b->maxy - band.row0 * res_y};
    return draw_into(w, req, &band, &shown, err);
}

/* Bytes of canvas rows drawn together when a canvas is drawn in bands for cache locality
 * (draw_in_turn). Measured over the 177 8 x 8 metatiles of bench/tiles.txt, one thread,
 * CPU s (medians of 4): 1 MiB 9.4, 2 MiB 10.0, 4 MiB 9.9, whole canvas 11.2. */
#ifndef TS_RENDER_BAND_BYTES
#define TS_RENDER_BAND_BYTES (1 << 20)
#endif

/* Draw the canvas `rows` (a whole image or a window of its rows) by worker w. Rows larger
 * than a core's cache (a metatile: 2048 x 2048 px is 16 MB) are drawn in bands of about
 * TS_RENDER_BAND_BYTES, one after another: every layer and symbolizer then composites into
 * rows that are still in the cache, instead of sweeping the whole canvas from memory once
 * each. The bands are windows as ts_render_draw_bands draws them in parallel, so the
 * pixels are the same as one pass's (labels included: they are placed per block of the
 * whole image). */
static ts_status
draw_in_turn(ts_render_worker *w, const ts_render_req *req, const ts_canvas *rows, ts_err *err)
{
    int step = TS_RENDER_BAND_BYTES / (rows->w * 4);
    int nb = step < 64 || step * 2 > rows->h ? 1 : (rows->h + step - 1) / step;
    for (int i = 0; i < nb; i++)
        TS_TRY(draw_band(w, req, rows, i, nb, err));
    return TS_OK;
}

ts_status
ts_render_draw(ts_render_worker *w, const ts_render_req *req, ts_canvas *c, ts_err *err)
{
    if (c->w != req->width || c->h != req->height || req->width < 1 || req->height < 1 ||
        !(req->bbox.maxx > req->bbox.minx) || !(req->bbox.maxy > req->bbox.miny))
        return TS_FAIL(err, TS_EINVAL, "render request and canvas disagree");
    ts_canvas whole = whole_image(c);
    return draw_in_turn(w, req, &whole, err);
}

ts_status
ts_render_draw_rows(ts_render_worker *w, const ts_render_req *req, ts_canvas *rows, ts_err *err)
{
    if (!rows_fit(req, rows))
        return TS_FAIL(err, TS_EINVAL, "render request and canvas rows disagree");
    return draw_in_turn(w, req, rows, err);
}

/* ---- bands ----------------------------------------------------------------------------- */

typedef struct band_job {
    ts_render_worker *const *workers;
    const ts_render_req *req;
    ts_canvas c; /* the whole image */
    int nbands;
    ts_status st[64];
    ts_err err[64];
} band_job;

static void
band_run(int i, void *arg)
{
    band_job *j = arg;
    j->st[i] = draw_band(j->workers[i], j->req, &j->c, i, j->nbands, &j->err[i]);
}

/* Band job j over canvas c (a whole image or a window of its rows), split in up to
 * nworkers bands of at least 32 rows, drawn on the pool (band 0 on the caller). */
static ts_status
run_bands(ts_render_worker *const *workers, int nworkers, ts_pool *pool,
          const ts_render_req *req, const ts_canvas *c, ts_err *err)
{
    band_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return TS_FAIL(err, TS_ENOMEM, "band job");
    j->workers = workers;
    j->req = req;
    j->c = *c;
    j->nbands = nworkers > 64 ? 64 : nworkers;
    if (j->nbands > c->h / 32)
        j->nbands = c->h / 32;
    if (j->nbands < 1)
        j->nbands = 1;
    ts_pool_for(pool, j->nbands - 1, j->nbands, band_run, j);
    ts_status st = TS_OK;
    for (int i = 0; i < j->nbands; i++)
        if (j->st[i] != TS_OK) {
            st = j->st[i];
            if (err)
                *err = j->err[i];
            break;
        }
    free(j);
    return st;
}

ts_status
ts_render_draw_rows_bands(ts_render_worker *const *workers, int nworkers, ts_pool *pool,
                          const ts_render_req *req, ts_canvas *rows, ts_err *err)
{
    if (!rows_fit(req, rows))
        return TS_FAIL(err, TS_EINVAL, "render request and canvas rows disagree");
    if (nworkers <= 1 || rows->h < 64)
        return draw_in_turn(workers[0], req, rows, err);
    return run_bands(workers, nworkers, pool, req, rows, err);
}

ts_status
ts_render_draw_bands(ts_render_worker *const *workers, int nworkers, ts_pool *pool,
                     const ts_render_req *req, ts_canvas *c, ts_err *err)
{
    if (nworkers <= 1 || req->height < 64)
        return ts_render_draw(workers[0], req, c, err);
    if (c->w != req->width || c->h != req->height || !(req->bbox.maxx > req->bbox.minx) ||
        !(req->bbox.maxy > req->bbox.miny))
        return TS_FAIL(err, TS_EINVAL, "render request and canvas disagree");
    ts_canvas whole = whole_image(c);
    return run_bands(workers, nworkers, pool, req, &whole, err);
}

/* The environment of a legend sample: pixel coordinates on c (the whole of it), no layer
 * and no feature, sizes times sf. */
static void
sample_env(draw_env *e, ts_render_worker *w, ts_canvas *c, double sf,
           const ts_font_catalog *fonts)
{
    memset(e, 0, sizeof *e);
    e->w = w;
    e->c = c;
    e->sf = sf > 0 ? sf : 1;
    e->t = identity;
    e->shown = (ts_bbox){0, 0, c->w, c->full_h > 0 ? c->full_h : c->h};
    e->y0 = c->row0;
    e->y1 = c->row0 + c->h;
    e->full_h = c->full_h > e->y1 ? c->full_h : e->y1;
    e->fonts = fonts;
}

ts_status
ts_render_graphic_sample(ts_render_worker *w, ts_canvas *c, const ts_graphic *g, double x,
                         double y, double max_px, double sf, const ts_font_catalog *fonts)
{
    if (w == NULL || c == NULL || g == NULL)
        return TS_EINVAL;
    draw_env e;
    sample_env(&e, w, c, sf, fonts);
    ts_graphic s = *g; /* centred, upright, the fixed values, at most max_px */
    s.anchor_x = s.anchor_y = 0.5;
    s.disp_x = s.disp_y = 0;
    s.rotation_expr = NULL;
    if (s.size * e.sf > max_px)
        s.size = max_px / e.sf;
    return draw_graphic(&e, c, &s, x, y, 0, 1);
}

ts_status
ts_render_fill_sample(ts_render_worker *w, ts_canvas *c, const ts_symbolizer *s, double x,
                      double y, double wd, double ht, double sf, const ts_font_catalog *fonts)
{
    if (w == NULL || c == NULL || s == NULL || s->fill_graphic == NULL ||
        s->fill_graphic->image >= 0)
        return TS_EINVAL;
    draw_env e;
    sample_env(&e, w, c, sf, fonts);
    ts_symbolizer fixed = *s; /* the fixed rotation: no feature here */
    ts_graphic g = *s->fill_graphic;
    g.rotation_expr = NULL;
    fixed.fill_graphic = &g;
    double xy[8] = {x, y + ht, x + wd, y + ht, x + wd, y, x, y};
    uint32_t cnt = 4;
    ts_geom geom = {.kind = TS_GEOM_POLYGON, .xy = xy, .counts = &cnt, .nparts = 1};
    return draw_graphic_fill(&e, &fixed, &geom);
}

/* ---- icons for client-side maps (sprites) ---------------------------------------------- */

/* Graphic g drawn at (cx, cy) of a new cw x ch canvas (at most 1024 each way) with env e:
 * the canvas, or NULL with *st (TS_EINVAL too large, TS_ENOMEM, the draw's failure). */
static ts_canvas *
draw_icon(draw_env *e, const ts_graphic *g, int cw, int ch, double cx, double cy, ts_status *st)
{
    if (cw > 1024 || ch > 1024) {
        *st = TS_EINVAL;
        return NULL;
    }
    ts_canvas *c = ts_canvas_new(cw, ch, NULL);
    if (c == NULL) {
        *st = TS_ENOMEM;
        return NULL;
    }
    e->c = c;
    e->shown = (ts_bbox){0, 0, cw, ch};
    e->y0 = 0;
    e->y1 = e->full_h = ch;
    *st = draw_graphic(e, c, g, cx, cy, 0, 1);
    if (*st != TS_OK) {
        ts_canvas_free(c);
        return NULL;
    }
    return c;
}

ts_canvas *
ts_render_icon(ts_render_worker *w, const ts_render_layer *l, const ts_graphic *g, int pattern,
               double sf, const ts_font_catalog *fonts, ts_status *st)
{
    *st = TS_EINVAL;
    if (w == NULL || l == NULL || g == NULL || !(sf > 0) || sf > 4)
        return NULL;
    draw_env e;
    memset(&e, 0, sizeof e);
    e.w = w;
    e.sf = sf;
    e.t = identity;
    e.l = l;
    e.fonts = fonts;
    ts_graphic s = *g; /* upright (the client turns it), centred, the fixed values */
    s.rotation = pattern == 2 ? g->rotation : 0; /* along a line: turned as on the line */
    s.rotation_expr = NULL;
    s.anchor_x = s.anchor_y = 0.5;
    s.disp_x = s.disp_y = 0;
    int cw, ch;
    double cx, cy;
    if (pattern == 2) { /* one step of a GraphicStroke: the graphic and its gap, along x */
        double gw, gh;
        graphic_dims(&s, l, &gw, &gh);
        if (!(gw > 0))
            return NULL;
        double step = (gw + s.gap) * sf;
        double reach = graphic_extent(&s, l) * sf;
        cw = (int)lround(step < 1 ? 1 : step);
        ch = (int)ceil(2 * reach);
        cx = gw * sf / 2;
        cy = ch / 2.0;
        return draw_icon(&e, &s, cw, ch, cx, cy, st);
    }
    if (pattern) {
        hatch_lines fam[2];
        if (s.image < 0 && hatch_families(s.shape, s.size * sf, 0, fam) > 0)
            return NULL; /* line hatches are drawn as lines, not as a tile */
        const ts_canvas *tile = fill_tile(&e, &s, 0, st);
        if (tile == NULL)
            return NULL;
        ts_canvas *c = copy_canvas(tile);
        *st = c ? TS_OK : TS_ENOMEM;
        return c;
    }
    double wpx, hpx;
    if (s.image >= 0) {
        const ts_canvas *src = s.image < l->nimages ? l->images[s.image] : NULL;
        if (src == NULL)
            return NULL;
        hpx = (s.size > 0 ? s.size : src->h) * sf;
        wpx = hpx * src->w / src->h;
    } else {
        wpx = hpx = (s.size > 0 ? s.size : 6) * sf + (s.has_stroke ? s.stroke.width * sf : 0);
        if (s.glyph_font != NULL)
            wpx = hpx = wpx * 1.5; /* a glyph may overhang its em box */
    }
    cw = (int)ceil(wpx) + 2;
    ch = (int)ceil(hpx) + 2;
    return draw_icon(&e, &s, cw, ch, cw / 2.0, ch / 2.0, st);
}

double
ts_render_graphic_reach(const ts_graphic *g, const ts_render_layer *l)
{
    ts_graphic s = *g;
    s.anchor_x = s.anchor_y = 0.5;
    s.disp_x = s.disp_y = 0;
    return graphic_extent(&s, l);
}

/* ---- SVG images ------------------------------------------------------------------------- */

ts_canvas *
ts_render_svg(const ts_svg *svg, int max_side, ts_err *err)
{
    if (svg == NULL || !(svg->width > 0) || !(svg->height > 0) || max_side < 1 ||
        max_side > 4096) {
        TS_FAIL(err, TS_EINVAL, "SVG: nothing to draw");
        return NULL;
    }
    double k = max_side / (svg->width > svg->height ? svg->width : svg->height);
    int w = (int)lround(svg->width * k), h = (int)lround(svg->height * k);
    w = w < 1 ? 1 : w;
    h = h < 1 ? 1 : h;
    ts_canvas *c = ts_canvas_new(w, h, err);
    ts_raster *ra = ts_raster_new();
    if (c == NULL || ra == NULL) {
        ts_canvas_free(c);
        ts_raster_free(ra);
        TS_FAIL(err, TS_ENOMEM, "SVG: out of memory");
        return NULL;
    }
    /* the viewBox into the canvas, uniformly scaled and centred (preserveAspectRatio's
     * default, xMidYMid meet) */
    double s = fmin(w / svg->w, h / svg->h);
    ts_affine t = {s, s, (w - svg->w * s) / 2 - svg->x * s, (h - svg->h * s) / 2 - svg->y * s};
    ts_status st = TS_OK;
    for (int i = 0; i < svg->nitems && st == TS_OK; i++) {
        const ts_svg_item *it = &svg->items[i];
        ts_parts all = {it->xy, it->counts, it->nparts};
        if (it->has_fill)
            st = ts_raster_fill(ra, c, &t, &all, it->evenodd ? TS_FILL_EVENODD : TS_FILL_NONZERO,
                                it->fill, it->fill_opacity);
        if (st != TS_OK || !it->has_stroke)
            continue;
        ts_stroke sk = it->sk;
        sk.width *= s;
        for (int d = 0; d < sk.ndash; d++)
            sk.dash[d] *= s;
        const double *xy = it->xy;
        for (uint32_t p = 0; p < it->nparts && st == TS_OK; xy += 2 * it->counts[p], p++) {
            ts_parts one = {xy, &it->counts[p], 1};
            st = ts_raster_stroke(ra, c, &t, &one, it->closed[p], &sk, it->stroke,
                                  it->stroke_opacity);
        }
    }
    ts_raster_free(ra);
    if (st != TS_OK) {
        ts_canvas_free(c);
        TS_FAIL(err, st, "SVG: %s", ts_status_text(st));
        return NULL;
    }
    return c;
}

