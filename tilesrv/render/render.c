/* render/render.c — draws features of bound layers with their compiled rules. */
#include "render/render.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

struct ts_render_worker {
    ts_raster *raster;
    ts_idvec ids;
    ts_render_stats stats;
    const ts_rule **active; /* the rules of one FeatureTypeStyle live at the current scale */
    int nactive;            /* capacity */
};

/* ---- layers ---------------------------------------------------------------------------- */

/* How far (pixels at scale factor 1) a symbolizer can draw from its geometry: an upper
 * bound, since band rendering relies on it (a band queries only the features within this
 * margin of its rows; one it misses would be missing from its pixels). A stroke reaches
 * half its width times the miter limit at a miter, sqrt(2) at a square cap's corner,
 * a little over 1 on a round join's polygon. */
static double
symbolizer_extent_px(const ts_symbolizer *s)
{
    double e = 0;
    if (s->has_stroke) {
        double k = 1.5;
        if (s->stroke.join == TS_JOIN_MITER) {
            double ml = s->stroke.miter_limit == 0 ? 4 : s->stroke.miter_limit;
            if (ml > k)
                k = ml;
        }
        e = s->stroke.width / 2 * k;
    }
    e += fabs(s->perpendicular_offset);
    if (s->kind == TS_SYM_POINT)
        e += s->size / 2 * 1.5; /* star/rotation head-room */
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

ts_render_layer *
ts_render_layer_new(const char *name, ts_store *store, ts_style *style, int *missing,
                    ts_err *err)
{
    ts_render_layer *l = calloc(1, sizeof *l);
    if (l == NULL)
        goto oom;
    l->name = strdup(name);
    l->prop_field = calloc((size_t)(style->nprops > 0 ? style->nprops : 1), sizeof(int));
    if (l->name == NULL || l->prop_field == NULL)
        goto oom;
    int nmissing = 0;
    for (int i = 0; i < style->nprops; i++) {
        l->prop_field[i] = ts_store_field_index(store, style->props[i]);
        if (l->prop_field[i] < 0)
            nmissing++;
    }
    if (missing)
        *missing = nmissing;
    double ext = 1;
    for (int f = 0; f < style->nfts; f++)
        for (int r = 0; r < style->fts[f].nrules; r++) {
            l->needs_bbox |= filter_uses_bbox(style->fts[f].rules[r].filter);
            for (int k = 0; k < style->fts[f].rules[r].nsyms; k++) {
                double e = symbolizer_extent_px(&style->fts[f].rules[r].syms[k]);
                if (e > ext)
                    ext = e;
            }
        }
    l->max_symbol_px = ext;
    l->store = ts_store_ref(store);
    l->style = ts_style_ref(style);
    return l;
oom:
    if (l) {
        free(l->name);
        free(l->prop_field);
        free(l);
    }
    TS_FAIL(err, TS_ENOMEM, "render layer %s", name);
    return NULL;
}

void
ts_render_layer_free(ts_render_layer *l)
{
    if (l == NULL)
        return;
    ts_store_unref(l->store);
    ts_style_unref(l->style);
    free(l->prop_field);
    free(l->name);
    free(l);
}

/* ---- workers --------------------------------------------------------------------------- */

ts_render_worker *
ts_render_worker_new(ts_err *err)
{
    ts_render_worker *w = calloc(1, sizeof *w);
    if (w == NULL || (w->raster = ts_raster_new()) == NULL) {
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
    ts_idvec_fini(&w->ids);
    free(w->active);
    free(w);
}

ts_render_stats *
ts_render_worker_stats(ts_render_worker *w)
{
    return &w->stats;
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

/* Everything one draw of one layer needs, fixed for the whole canvas. */
typedef struct draw_env {
    ts_render_worker *w;
    ts_canvas *c;           /* the whole image, or a band of its rows (a view) */
    ts_affine t;            /* map -> pixels of the whole image, for every band alike */
    double sf;              /* symbol scale factor */
    ts_bbox shown;          /* the extent of c's rows: queries cover it plus a margin */
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

/* A representative point of a geometry, for point symbolizers on lines and polygons:
 * the area centroid of the first ring, or the middle vertex of the first line. */
static void
anchor_point(const ts_geom *g, double *x, double *y)
{
    uint32_t n = g->counts[0];
    const double *p = g->xy;
    if (g->kind == TS_GEOM_POLYGON && n >= 3) {
        double a = 0, cx = 0, cy = 0;
        for (uint32_t i = 0; i < n; i++) {
            const double *q = p + 2 * ((i + 1) % n);
            double c = p[2 * i] * q[1] - q[0] * p[2 * i + 1];
            a += c;
            cx += (p[2 * i] + q[0]) * c;
            cy += (p[2 * i + 1] + q[1]) * c;
        }
        if (fabs(a) > 0) {
            *x = cx / (3 * a);
            *y = cy / (3 * a);
            return;
        }
    }
    *x = p[2 * (n / 2)];
    *y = p[2 * (n / 2) + 1];
}

static ts_status
draw_symbolizer(draw_env *e, const ts_symbolizer *s, const ts_geom *g)
{
    ts_raster *r = e->w->raster;
    ts_parts parts = {g->xy, g->counts, g->nparts};
    ts_status st = TS_OK;
    switch (s->kind) {
    case TS_SYM_POLYGON:
        if (g->kind != TS_GEOM_POLYGON)
            return TS_OK;
        if (s->has_fill && s->has_stroke) { /* one call: one transform, one sweep */
            ts_stroke k;
            const ts_stroke *kp = &s->stroke;
            if (e->sf != 1) {
                k = scaled_stroke(&s->stroke, e->sf);
                kp = &k;
            }
            e->w->stats.paths += 2;
            return ts_raster_fill_stroke(r, e->c, &e->t, &parts, TS_FILL_NONZERO, s->fill,
                                         s->fill_opacity, kp, s->stroke_color,
                                         s->stroke_opacity);
        }
        if (s->has_fill) {
            st = ts_raster_fill(r, e->c, &e->t, &parts, TS_FILL_NONZERO, s->fill, s->fill_opacity);
            e->w->stats.paths++;
        }
        if (st == TS_OK && s->has_stroke) {
            ts_stroke k = scaled_stroke(&s->stroke, e->sf);
            st = ts_raster_stroke(r, e->c, &e->t, &parts, 1, &k, s->stroke_color,
                                  s->stroke_opacity);
            e->w->stats.paths++;
        }
        return st;
    case TS_SYM_LINE:
        if (g->kind == TS_GEOM_POINT || !s->has_stroke)
            return TS_OK;
        {
            ts_stroke k;
            const ts_stroke *kp = &s->stroke;
            if (e->sf != 1) {
                k = scaled_stroke(&s->stroke, e->sf);
                kp = &k;
            }
            e->w->stats.paths++;
            return ts_raster_stroke(r, e->c, &e->t, &parts, g->kind == TS_GEOM_POLYGON, kp,
                                    s->stroke_color, s->stroke_opacity);
        }
    case TS_SYM_POINT: {
        ts_stroke k;
        const ts_stroke *kp = NULL;
        if (s->has_stroke) {
            k = scaled_stroke(&s->stroke, e->sf);
            kp = &k;
        }
        ts_rgba fill = s->fill;
        double fill_alpha = s->has_fill ? s->fill_opacity : 0;
        fill.a = (uint8_t)lround(fill.a * fill_alpha);
        ts_rgba sc = s->stroke_color;
        sc.a = (uint8_t)lround(sc.a * s->stroke_opacity);
        if (g->kind == TS_GEOM_POINT) {
            for (uint32_t i = 0; i < g->nparts && st == TS_OK; i++) {
                double px = e->t.sx * g->xy[2 * i] + e->t.tx;
                double py = e->t.sy * g->xy[2 * i + 1] + e->t.ty;
                st = ts_raster_marker(r, e->c, px, py, s->mark, s->size * e->sf, s->rotation,
                                      fill, kp, sc, s->opacity);
                e->w->stats.paths++;
            }
        } else {
            double x, y;
            anchor_point(g, &x, &y);
            st = ts_raster_marker(r, e->c, e->t.sx * x + e->t.tx, e->t.sy * y + e->t.ty, s->mark,
                                  s->size * e->sf, s->rotation, fill, kp, sc, s->opacity);
            e->w->stats.paths++;
        }
        return st;
    }
    case TS_SYM_TEXT:
        return TS_OK; /* labels: drawn by the label engine (styling issue) */
    }
    return TS_OK;
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
    double margin = (l->max_symbol_px * e->sf + 1) * res;
    ts_bbox q = {e->shown.minx - margin, e->shown.miny - margin, e->shown.maxx + margin,
                 e->shown.maxy + margin};
    if (ts_store_query(l->store, &q, &w->ids) != TS_OK)
        return TS_FAIL(err, TS_ENOMEM, "query layer %s", l->name);
    int level = ts_store_level_for_res(l->store, res);
    uint64_t t1 = ts_mono_ns();

    feat_ctx fc = {l, 0};
    ts_feature_ref fr = {feat_get, &fc, {0, 0, 0, 0}};
    for (int f = 0; f < style->nfts; f++) {
        const ts_fts *fts = &style->fts[f];
        /* the rules live at this scale, found once for all features */
        if (fts->nrules > w->nactive) {
            const ts_rule **a = realloc(w->active, (size_t)fts->nrules * sizeof *a);
            if (a == NULL)
                return TS_FAIL(err, TS_ENOMEM, "draw layer %s", l->name);
            w->active = a;
            w->nactive = fts->nrules;
        }
        int nact = 0;
        for (int ri = 0; ri < fts->nrules; ri++)
            if (ts_rule_in_scale(&fts->rules[ri], req->scale_denom))
                w->active[nact++] = &fts->rules[ri];
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
            fc.fid = fid;
            if (l->needs_bbox) /* only BBOX filters read it */
                fr.bbox = ts_store_feature_bbox(l->store, fid);
            int matched = 0;
            for (int ri = 0; ri < nact; ri++) {
                const ts_rule *rule = w->active[ri];
                if (rule->is_else) {
                    if (matched)
                        continue;
                } else if (rule->filter != NULL && !ts_filter_eval(rule->filter, &fr)) {
                    continue;
                }
                matched = 1;
                for (int k = 0; k < rule->nsyms; k++) {
                    ts_status st = draw_symbolizer(e, &rule->syms[k], &g);
                    if (st != TS_OK)
                        return TS_FAIL(err, st, "draw layer %s", l->name);
                }
            }
            if (matched)
                w->stats.features++;
        }
    }
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
    for (int i = 0; i < req->nlayers; i++)
        TS_TRY(draw_layer(&e, req->layers[i], req, err));
    return TS_OK;
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

ts_status
ts_render_draw(ts_render_worker *w, const ts_render_req *req, ts_canvas *c, ts_err *err)
{
    if (c->w != req->width || c->h != req->height || req->width < 1 || req->height < 1 ||
        !(req->bbox.maxx > req->bbox.minx) || !(req->bbox.maxy > req->bbox.miny))
        return TS_FAIL(err, TS_EINVAL, "render request and canvas disagree");
    ts_canvas whole = whole_image(c);
    return draw_into(w, req, &whole, &req->bbox, err);
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
    int h = j->c.h;
    int y0 = (int)((int64_t)h * i / j->nbands);
    int y1 = (int)((int64_t)h * (i + 1) / j->nbands);
    /* rows [y0, y1) of the whole image, drawn with the whole image's transform */
    ts_canvas band = ts_canvas_view(&j->c, y0, y1 - y0);
    /* The band's own extent, so its queries fetch only what it can show (plus the layers'
     * symbol margin, which bounds how far a feature outside can draw into it). */
    const ts_bbox *b = &j->req->bbox;
    double res_y = (b->maxy - b->miny) / h;
    ts_bbox shown = {b->minx, b->maxy - y1 * res_y, b->maxx, b->maxy - y0 * res_y};
    j->st[i] = draw_into(j->workers[i], j->req, &band, &shown, &j->err[i]);
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
    band_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return TS_FAIL(err, TS_ENOMEM, "band job");
    j->workers = workers;
    j->req = req;
    j->c = whole_image(c);
    j->nbands = nworkers > 64 ? 64 : nworkers;
    if (j->nbands > req->height / 32)
        j->nbands = req->height / 32;
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
