/* pipeline/map.c — WMS requests on the loaded service: GetMap (rendered on the render pool,
 * bands spread over idle workers, reprojected on the fly where no store is kept in the
 * request's CRS), GetFeatureInfo (hit tests on the stores' geometries, all attributes read
 * back through OGR), GetLegendGraphic (each rule's symbolizers drawn as a sample with the
 * rule's title), and the image encoders they share (PNG, paletted PNG, JPEG). */
#include "pipeline/pipeline.h"

#include "pipeline/pipeline_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"
#include "text/text.h"
#include "util/clock.h"
#include "util/log.h"

#define OGC_DPI (0.0254 / TS_STD_PIXEL_M) /* 90.714: the OGC 0.28 mm pixel */
#define MAX_MAP_LAYERS 512
#define MAX_IMAGE_BYTES (256u << 20)

static double
scale_factor_of(double dpi)
{
    return dpi > 0 ? dpi / OGC_DPI : 1.0;
}

/* ---- encoding --------------------------------------------------------------------------- */

ts_status
ts_pipeline_encode(const ts_canvas *c, ts_map_format format, int jpeg_quality, ts_rgba background,
                   ts_buf *out, ts_err *err)
{
    if (format == TS_MAP_JPEG) {
        ts_rgba bg = background;
        if (bg.a == 0)
            bg = (ts_rgba){255, 255, 255, 255};
        return ts_jpeg_encode(c, 0, 0, c->w, c->h, jpeg_quality, bg, out, err);
    }
    ts_png_opts po = {format == TS_MAP_PNG8 ? TS_PNG_PALETTE : TS_PNG_TRUECOLOR, -1, 0};
    return ts_png_encode(c, 0, 0, c->w, c->h, &po, out, err);
}

static ts_tile *
encode_tile(const ts_canvas *c, ts_map_format format, int quality, ts_rgba bg, ts_err *err)
{
    ts_buf b;
    ts_buf_init(&b, MAX_IMAGE_BYTES);
    ts_tile *t = NULL;
    if (ts_pipeline_encode(c, format, quality, bg, &b, err) == TS_OK) {
        t = ts_tile_new(b.data, b.len, ts_wall_s());
        if (t == NULL)
            TS_FAIL(err, TS_ENOMEM, "image");
    }
    ts_buf_fini(&b);
    return t;
}

/* ---- layers of a request ---------------------------------------------------------------- */

/* The configured layers a list of WMS names draws, bottom first (at most max). */
static ts_status
expand_layers(const ts_service *svc, const char *const *names, int n, const ts_cfg_layer **out,
              int *owner, int max, int *count, ts_err *err)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        const ts_wms_entry *e = ts_service_wms_find(svc, names[i]);
        if (e == NULL)
            return TS_FAIL(err, TS_ENOENT, "layer '%.100s' is not defined", names[i]);
        for (int d = 0; d < e->ndraws; d++) {
            if (k >= max)
                return TS_FAIL(err, TS_ELIMIT, "more than %d layers", max);
            out[k] = e->draws[d];
            if (owner)
                owner[k] = i;
            k++;
        }
    }
    *count = k;
    return TS_OK;
}

/* ---- GetMap ----------------------------------------------------------------------------- */

typedef struct map_job {
    ts_pipeline *p;
    ts_service *svc; /* reference */
    ts_map_req r;
    const ts_render_layer **rls; /* per drawn layer */
    const char **layer_crs;      /* per drawn layer: its store's CRS, NULL = the request's */
    ts_render_layer **owned;     /* layers bound to SLD_BODY styles, freed with the job */
    void **live;                 /* per expanded layer: the feed layer's store taken */
    int n, nlive;
    ts_tile_done done;
    void *ud;
} map_job;

static void
map_job_free(map_job *j)
{
    if (j == NULL)
        return;
    for (int i = 0; i < j->n; i++)
        ts_render_layer_free(j->owned ? j->owned[i] : NULL);
    for (int i = 0; j->live && i < j->nlive; i++)
        ts_pipeline__live_release(j->live[i]);
    free(j->live);
    free(j->owned);
    free(j->rls);
    free(j->layer_crs);
    ts_service_unref(j->svc);
    free(j);
}

static ts_status
map_render(ts_render_worker *rw, map_job *j, ts_tile **out, ts_err *err)
{
    const ts_map_req *r = &j->r;
    ts_canvas *c = ts_canvas_new(r->width, r->height, err);
    if (c == NULL)
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    double sf = scale_factor_of(r->dpi);
    double res = (r->bbox.maxx - r->bbox.minx) / r->width;
    /* Labels as on the tiles (server.wms.labels seamless, the default): placed in the
     * map's pixel grid at this resolution whatever the box, so the maps a client pieces
     * together (QGIS splits a print into 2000 px requests, Masterportal asks tiled WMS)
     * show each label once and whole; a label is cut at the image's edge. That grid needs
     * square pixels: a distorted map keeps its labels inside, as with "inside". */
    const char *lm = ts_service_config(j->svc)->server.wms.labels;
    double resy = (r->bbox.maxy - r->bbox.miny) / r->height;
    /* non-square pixels: QGIS rounds each print piece to whole pixels and keeps its extent
     * (0.02 % apart); within a pixel of drift over the map they are placed with the x
     * resolution in the shared blocks (labels_world), a really distorted map inside itself.
     * Square ones lay out their own window as tiles do (the same placement, and for a
     * small map of an SLD_BODY a fraction of a block's work: a label repeated along every
     * parcel edge of a whole block had cost 400 MB) */
    double drift = fabs(res - resy) / fmax(fabs(res), fabs(resy)) * fmax(r->width, r->height);
    int inside = (lm != NULL && strcmp(lm, "inside") == 0) || !(drift <= 1.0);
    int sld = 0;
    for (int i = 0; i < j->n && !sld; i++)
        sld = j->owned[i] != NULL;
    int world = !inside && res != resy && !sld;
    ts_render_req rq = {
        .layers = j->rls,
        .nlayers = j->n,
        .bbox = r->bbox,
        .width = r->width,
        .height = r->height,
        .scale_factor = sf,
        .scale_denom = ts_render_scale_round(ts_render_scale_denom(res, r->crs->meters_per_unit) * sf),
        .background = r->background,
        .fonts = ts_pipeline__service_fonts(j->svc),
        .labels_inside = inside,
        .labels_world = world,
        .image_crs = ts_pipeline__proj_name(r->crs),
        .layer_crs = j->layer_crs,
        .deadline_ns = r->deadline_ns,
    };
    /* per-request (PostGIS) layers: their features of this map, on this worker */
    ts_pipeline__fetched *fetched = NULL;
    ts_status st = ts_pipeline__fetch_layers(j->svc, rq.layers, rq.nlayers, &rq.bbox, rq.width, sf,
                                             rq.scale_denom, rq.image_crs, rq.layer_crs,
                                             &rq.layers, &fetched, err);
    if (st != TS_OK) {
        ts_canvas_free(c);
        return st;
    }
    ts_pipeline *p = j->p;
    ts_render_worker *band[64];
    int nb = 0;
    ts_pool *bp = ts_pipeline__band_pool(p);
    if (bp != NULL && r->height >= 256 && ts_pool_queued(ts_pipeline__pool(p)) == 0) {
        int want = ts_pipeline__nthreads(p) - 1;
        nb = ts_pipeline__borrow_spares(p, band + 1, want < 63 ? want : 63);
    }
    if (nb > 0) {
        band[0] = rw;
        st = ts_render_draw_bands(band, nb + 1, bp, &rq, c, err);
        ts_pipeline__return_spares(p, band + 1, nb);
    } else {
        st = ts_render_draw(rw, &rq, c, err);
    }
    ts_pipeline__fetched_release(fetched);
    if (st == TS_OK) {
        *out = encode_tile(c, r->format, r->jpeg_quality, r->background, err);
        if (*out == NULL)
            st = err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    ts_canvas_free(c);
    return st;
}

static void
map_job_run(void *state, void *arg)
{
    map_job *j = arg;
    ts_err err;
    ts_err_clear(&err);
    ts_tile *t = NULL;
    ts_render_worker *rw = ts_pipeline__job_worker(state);
    ts_status st =
        rw == NULL ? TS_FAIL(&err, TS_ENOMEM, "render worker") : map_render(rw, j, &t, &err);
    if (st != TS_OK) {
        /* a source down fails every map: a line per 10 s (a map past the time limit is
         * the client's request of its own: each is said) */
        static ts_log_gate gate;
        unsigned long held = 0;
        if (st == TS_ELIMIT)
            ts_warn("WMS map failed: %s", err.msg);
        else if (ts_log_gate_pass(&gate, 10, &held)) {
            if (held > 0)
                ts_warn("WMS map failed: %s (%lu more maps failed in the last seconds, not "
                        "logged one by one)",
                        err.msg, held);
            else
                ts_warn("WMS map failed: %s", err.msg);
        }
    }
    j->done(j->ud, st, t, &err);
    map_job_free(j);
}

/* An SLD_BODY reads properties the layer's store does not hold (a store keeps the fields
 * its configured style and vector tiles read): said at most once a minute, with one of
 * them, since its filters and labels see null there. */
static void
warn_sld_missing(const ts_render_layer *rl, const ts_style *sld)
{
    static ts_log_gate gate;
    if (!ts_log_gate_pass(&gate, 60, NULL))
        return;
    const char *prop = "";
    for (int i = 0; i < sld->nprops && !prop[0]; i++)
        if (rl->prop_field[i] < 0)
            prop = sld->props[i];
    ts_warn("WMS SLD_BODY for layer %s reads '%s', which the server does not load for it "
            "(only the fields its configured style reads, and its mvt attributes): null in "
            "its filters and labels. Read the field in the layer's style file to make it "
            "available",
            rl->name, prop);
}

ts_status
ts_pipeline_map(ts_pipeline *p, const ts_map_req *r, ts_tile_done done, void *ud, ts_err *err)
{
    if (r->width < 1 || r->height < 1 || r->crs == NULL || !(r->bbox.maxx > r->bbox.minx) ||
        !(r->bbox.maxy > r->bbox.miny))
        return TS_FAIL(err, TS_EINVAL, "bad map request");
    map_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return TS_FAIL(err, TS_ENOMEM, "map job");
    j->p = p;
    j->svc = ts_pipeline_service(p);
    j->r = *r;
    j->r.layers = NULL;
    j->r.styles = NULL;
    j->done = done;
    j->ud = ud;
    const ts_cfg_layer *ls[MAX_MAP_LAYERS];
    int owner[MAX_MAP_LAYERS];
    int n = 0;
    ts_status st = expand_layers(j->svc, r->layers, r->nlayers, ls, owner, MAX_MAP_LAYERS, &n, err);
    if (st != TS_OK)
        goto fail;
    j->rls = calloc((size_t)(n > 0 ? n : 1), sizeof *j->rls);
    j->layer_crs = calloc((size_t)(n > 0 ? n : 1), sizeof *j->layer_crs);
    j->owned = calloc((size_t)(n > 0 ? n : 1), sizeof *j->owned);
    j->live = calloc((size_t)(n > 0 ? n : 1), sizeof *j->live);
    j->nlive = n;
    if (j->rls == NULL || j->layer_crs == NULL || j->owned == NULL || j->live == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "map job");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        const char *scrs;
        const ts_render_layer *rl = ts_pipeline__layer_for_crs(j->svc, ls[i], r->crs, &scrs);
        if (rl == NULL)
            continue; /* not loaded: draws nothing */
        rl = ts_pipeline__live_layer(j->svc, rl, &j->live[i]);
        const ts_style *sld = r->styles ? r->styles[owner[i]] : NULL;
        if (sld != NULL) {
            int missing = 0;
            j->owned[j->n] =
                ts_render_layer_new(rl->name, rl->store, (ts_style *)sld, &missing, err);
            if (j->owned[j->n] == NULL) {
                st = err && err->code != TS_OK ? err->code : TS_ENOMEM;
                goto fail;
            }
            rl = j->owned[j->n];
            if (missing > 0)
                warn_sld_missing(rl, sld);
        }
        j->rls[j->n] = rl;
        const ts_crs *sc = scrs ? ts_grid_crs_find(scrs) : NULL;
        j->layer_crs[j->n] = scrs == NULL ? NULL : sc ? ts_pipeline__proj_name(sc) : scrs;
        j->n++;
    }
    st = ts_pool_submit_limited(ts_pipeline__pool(p), map_job_run, j,
                                ts_pipeline__layers_use_db(j->svc, j->rls, j->n));
    if (st != TS_OK) {
        st = TS_FAIL(err, TS_EBUSY, "render queue full");
        goto fail;
    }
    return TS_OK;
fail:
    map_job_free(j);
    return st;
}

typedef struct map_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    ts_status st;
    ts_tile *t;
    ts_err err;
} map_wait;

static void
map_wait_done(void *ud, ts_status st, ts_tile *t, const ts_err *err)
{
    map_wait *w = ud;
    pthread_mutex_lock(&w->mu);
    w->st = st;
    w->t = t;
    if (err)
        w->err = *err;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

ts_status
ts_pipeline_map_get(ts_pipeline *p, const ts_map_req *r, ts_tile **out, ts_err *err)
{
    map_wait w;
    memset(&w, 0, sizeof w);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    *out = NULL;
    ts_status st;
    for (;;) {
        st = ts_pipeline_map(p, r, map_wait_done, &w, err);
        if (st != TS_EBUSY)
            break;
        ts_pool_wait_idle(ts_pipeline__pool(p));
    }
    if (st == TS_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        st = w.st;
        *out = w.t;
        if (st != TS_OK && err)
            *err = w.err;
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return st;
}

/* ---- GetFeatureInfo --------------------------------------------------------------------- */

typedef struct feat_get_ctx {
    const ts_render_layer *rl;
    uint32_t fid;
} feat_get_ctx;

static const ts_value *
feat_get(const void *vctx, int prop)
{
    const feat_get_ctx *fc = vctx;
    int field = fc->rl->prop_field[prop];
    return field < 0 ? NULL : ts_store_value(fc->rl->store, fc->fid, field);
}

/* Is the feature drawn at scale sd, and how far (px at scale 1) does its symbol reach? */
static int
drawn(const ts_render_layer *rl, uint32_t fid, double sd, double *reach_px)
{
    const ts_style *st = rl->style;
    feat_get_ctx fc = {rl, fid};
    ts_feature_ref fr = {feat_get, &fc, ts_store_feature_bbox(rl->store, fid)};
    int hit = 0;
    *reach_px = 0;
    for (int f = 0; f < st->nfts; f++) {
        int else_on = st->fts[f].has_else && ts_fts_else_applies(&st->fts[f], sd, &fr);
        for (int r = 0; r < st->fts[f].nrules; r++) {
            const ts_rule *ru = &st->fts[f].rules[r];
            if (!ts_rule_in_scale(ru, sd))
                continue;
            if (ru->is_else ? !else_on : (ru->filter != NULL && !ts_filter_eval(ru->filter, &fr)))
                continue;
            for (int k = 0; k < ru->nsyms; k++) {
                const ts_symbolizer *s = &ru->syms[k];
                if (s->kind == TS_SYM_TEXT)
                    continue;
                hit = 1;
                double r1 = s->has_stroke ? s->stroke.width / 2 : 0;
                if (s->kind == TS_SYM_POINT && s->graphic)
                    r1 = fmax(r1, s->graphic->size / 2);
                *reach_px = fmax(*reach_px, r1 * ts_symbolizer_px_per_unit(s, sd));
            }
        }
    }
    return hit;
}

static double
seg_dist2(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double qx = ax + t * dx - px, qy = ay + t * dy - py;
    return qx * qx + qy * qy;
}

/* The squared distance from (x, y) to geometry g (its points, or its lines and rings), and
 * in *inside whether a polygon contains the point (even-odd over its rings). */
static double
geom_dist2(const ts_geom *g, double x, double y, int *inside)
{
    const double *p = g->xy;
    double best = INFINITY;
    *inside = 0;
    if (g->kind == TS_GEOM_POINT) {
        for (uint32_t i = 0; i < g->nparts; i++) {
            double dx = p[2 * i] - x, dy = p[2 * i + 1] - y;
            best = fmin(best, dx * dx + dy * dy);
        }
        return best;
    }
    size_t off = 0;
    for (uint32_t k = 0; k < g->nparts; k++) {
        uint32_t n = g->counts[k];
        const double *q = p + 2 * off;
        int closed = g->kind == TS_GEOM_POLYGON;
        for (uint32_t i = 0; i + (closed ? 0 : 1) < n; i++) {
            uint32_t i2 = (i + 1) % n;
            double ax = q[2 * i], ay = q[2 * i + 1], bx = q[2 * i2], by = q[2 * i2 + 1];
            best = fmin(best, seg_dist2(x, y, ax, ay, bx, by));
            if (closed && ((ay > y) != (by > y)) && x < (bx - ax) * (y - ay) / (by - ay) + ax)
                *inside = !*inside;
        }
        off += n;
    }
    return best;
}

/* The id of feature fid of store st as text (ts_info_feature.fid): its source id when it
 * has one (id >= 0), else the value of its field `id` (a feed's sensor id), else its
 * index in the store. */
static void
feature_id_text(const ts_store *st, uint32_t fid, int64_t id, char *buf, size_t size)
{
    if (id >= 0) {
        snprintf(buf, size, "%lld", (long long)id);
        return;
    }
    for (int fi = 0; fi < ts_store_nfields(st); fi++) {
        if (strcmp(ts_store_field_name(st, fi), "id") != 0)
            continue;
        const ts_value *v = ts_store_value(st, fid, fi);
        if (v && v->type == TS_VAL_STR && v->u.s && v->u.s[0]) {
            snprintf(buf, size, "%s", v->u.s);
            return;
        }
        if (v && v->type == TS_VAL_INT) {
            snprintf(buf, size, "%lld", (long long)v->u.i);
            return;
        }
        break;
    }
    snprintf(buf, size, "%u", fid);
}

/* A feature hit by a GetFeatureInfo point, before ranking. */
typedef struct info_hit {
    uint32_t fid;
    int inside;   /* a polygon containing the point */
    double d2;    /* squared distance to the geometry (0 inside) */
    size_t order; /* topmost first */
} info_hit;

/* Polygons that contain the point first, then the nearest, then the topmost drawn. */
static int
hit_cmp(const void *a, const void *b)
{
    const info_hit *x = a, *y = b;
    if (x->inside != y->inside)
        return x->inside ? -1 : 1;
    if (x->d2 != y->d2)
        return x->d2 < y->d2 ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

typedef struct attr_acc {
    ts_info_feature *f;
    int cap;
    int failed;
} attr_acc;

/* Say (at most once a minute) that GetFeatureInfo answers from memory because the source's
 * files have changed since the service loaded them. */
static void
source_changed_warning(const char *source, const char *path)
{
    static ts_log_gate gate;
    if (ts_log_gate_pass(&gate, 60, NULL))
        ts_warn("feature info: source %s (%s) has changed on disk since it was loaded; its "
                "feature ids may name other features now, so GetFeatureInfo answers the "
                "attributes kept in memory (those the styles read) until a reload",
                source, path);
}

static int
attr_add(void *ud, const char *name, const ts_value *v)
{
    attr_acc *a = ud;
    ts_info_feature *f = a->f;
    if (f->nattrs == a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        char **nn = realloc(f->names, (size_t)cap * sizeof *nn);
        if (nn != NULL)
            f->names = nn;
        ts_value *nv = nn ? realloc(f->values, (size_t)cap * sizeof *nv) : NULL;
        if (nv == NULL) {
            a->failed = 1;
            return 1;
        }
        f->values = nv;
        a->cap = cap;
    }
    char *nm = strdup(name ? name : "");
    ts_value val = *v;
    if (val.type == TS_VAL_STR && (val.u.s = strdup(v->u.s ? v->u.s : "")) == NULL) {
        free(nm);
        a->failed = 1;
        return 1;
    }
    if (nm == NULL) {
        if (val.type == TS_VAL_STR)
            free((char *)val.u.s);
        a->failed = 1;
        return 1;
    }
    f->names[f->nattrs] = nm;
    f->values[f->nattrs] = val;
    f->nattrs++;
    return 0;
}

void
ts_info_result_free(ts_info_result *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n; i++) {
        ts_info_feature *f = &r->features[i];
        for (int k = 0; k < f->nattrs; k++) {
            free(f->names[k]);
            if (f->values[k].type == TS_VAL_STR)
                free((char *)f->values[k].u.s);
        }
        free(f->names);
        free(f->values);
        free(f->xy);
        free(f->counts);
        free(f->hole);
    }
    free(r->features);
    memset(r, 0, sizeof *r);
}

/* f without a geometry. */
static void
info_geometry_drop(ts_info_feature *f)
{
    free(f->xy);
    free(f->counts);
    free(f->hole);
    f->xy = NULL;
    f->counts = NULL;
    f->hole = NULL;
    f->nparts = 0;
}

/* f's geometry from g (store CRS; xf: request CRS -> store CRS, NULL when they are one),
 * as ts_info_feature lays it out. Left NULL when too large or not transformable; -1 when
 * out of memory. */
static int
info_geometry(ts_info_feature *f, const ts_geom *g, ts_source_xform *xf)
{
    size_t npts = 0;
    for (uint32_t k = 0; k < g->nparts; k++)
        npts += g->counts[k];
    if (g->kind == TS_GEOM_NONE || g->nparts == 0 || npts > TS_INFO_MAX_POINTS)
        return 0;
    f->xy = malloc(2 * npts * sizeof *f->xy);
    f->counts = malloc(g->nparts * sizeof *f->counts);
    f->hole = calloc(g->nparts, 1);
    if (f->xy == NULL || f->counts == NULL || f->hole == NULL)
        goto fail;
    memcpy(f->xy, g->xy, 2 * npts * sizeof *f->xy);
    memcpy(f->counts, g->counts, g->nparts * sizeof *f->counts);
    f->nparts = g->nparts;
    if (g->kind == TS_GEOM_POLYGON) { /* before the transformation: exteriors turn left */
        const double *p = g->xy;
        for (uint32_t k = 0; k < g->nparts; k++) {
            f->hole[k] = k > 0 && ts_geom_ring_area2(p, g->counts[k]) < 0;
            p += 2 * (size_t)g->counts[k];
        }
    }
    if (xf != NULL && ts_source_xform_points(xf, 1, f->xy, npts) != 0)
        info_geometry_drop(f); /* some points not transformable: no geometry */
    return 0;
fail:
    info_geometry_drop(f);
    return -1;
}

static ts_status info_hits(ts_source_ctx *sc, const ts_service *svc, const ts_cfg_layer *l,
                           const ts_render_layer *rl, const char *scrs, const ts_info_req *r,
                           ts_info_result *out, int *cap, ts_err *err);

/* Hits of one layer, topmost (last drawn) first, appended to out. */
static ts_status
info_layer(ts_source_ctx *sc, const ts_service *svc, const ts_cfg_layer *l, const ts_info_req *r,
           ts_info_result *out, int *cap, ts_err *err)
{
    const char *scrs;
    const ts_render_layer *rl = ts_pipeline__layer_for_crs(svc, l, r->crs, &scrs);
    if (rl == NULL)
        return TS_OK;
    void *live = NULL;
    rl = ts_pipeline__live_layer(svc, rl, &live);
    /* a per-request (PostGIS) layer: its features around the pixel, fetched on this thread
     * (the fetch grows the box by the layer's largest symbol) */
    double resx = (r->bbox.maxx - r->bbox.minx) / r->width;
    double resy = (r->bbox.maxy - r->bbox.miny) / r->height;
    double sd = ts_render_scale_round(ts_render_scale_denom(resx, r->crs->meters_per_unit) *
                                      scale_factor_of(r->dpi));
    double x = r->bbox.minx + (r->i + 0.5) * resx, y = r->bbox.maxy - (r->j + 0.5) * resy;
    double res = fmax(resx, resy), tol_px = r->tolerance_px > 0 ? r->tolerance_px : 4;
    ts_bbox pb = {x - (tol_px + 1) * res, y - (tol_px + 1) * res, x + (tol_px + 1) * res,
                  y + (tol_px + 1) * res};
    const ts_crs *lc = scrs ? ts_grid_crs_find(scrs) : NULL;
    const char *lcrs[1] = {scrs == NULL ? NULL : lc ? ts_pipeline__proj_name(lc) : scrs};
    const ts_render_layer *const *fl = NULL;
    ts_pipeline__fetched *fetched = NULL;
    ts_status st = ts_pipeline__fetch_layers(svc, &rl, 1, &pb, (int)(2 * (tol_px + 1)),
                                             scale_factor_of(r->dpi), sd,
                                             ts_pipeline__proj_name(r->crs), lcrs, &fl, &fetched,
                                             err);
    if (st == TS_OK)
        st = info_hits(sc, svc, l, fl[0], scrs, r, out, cap, err);
    ts_pipeline__fetched_release(fetched);
    ts_pipeline__live_release(live);
    return st;
}

/* info_layer on render layer rl (store in scrs, NULL = the request's CRS). */
static ts_status
info_hits(ts_source_ctx *sc, const ts_service *svc, const ts_cfg_layer *l,
          const ts_render_layer *rl, const char *scrs, const ts_info_req *r, ts_info_result *out,
          int *cap, ts_err *err)
{
    double resx = (r->bbox.maxx - r->bbox.minx) / r->width;
    double resy = (r->bbox.maxy - r->bbox.miny) / r->height;
    double sf = scale_factor_of(r->dpi);
    double sd = ts_render_scale_round(ts_render_scale_denom(resx, r->crs->meters_per_unit) * sf);
    double x = r->bbox.minx + (r->i + 0.5) * resx, y = r->bbox.maxy - (r->j + 0.5) * resy;
    double tol_px = r->tolerance_px > 0 ? r->tolerance_px : 4;
    double res = fmax(resx, resy);
    ts_source_xform *xf = NULL;
    double sres = res; /* store units per pixel */
    if (scrs != NULL) {
        const ts_crs *sc2 = ts_grid_crs_find(scrs);
        xf = ts_source_xform_new(ts_pipeline__proj_name(r->crs),
                                 sc2 ? ts_pipeline__proj_name(sc2) : scrs, err);
        if (xf == NULL)
            return err && err->code != TS_OK ? err->code : TS_EINVAL;
        ts_bbox pb = {x - res, y - res, x + res, y + res}, sb;
        if (!ts_source_xform_box(xf, 0, &pb, &sb)) {
            ts_source_xform_free(xf);
            return TS_OK; /* the point is outside the store CRS's domain */
        }
        sres = fmax(sb.maxx - sb.minx, sb.maxy - sb.miny) / 2;
        double pt[2] = {x, y};
        ts_source_xform_points(xf, 0, pt, 1);
        x = pt[0];
        y = pt[1];
    }
    double reach = (ts_render_layer_reach_px(rl, sd) * sf + tol_px) * sres;
    ts_bbox q = {x - reach, y - reach, x + reach, y + reach};
    ts_idvec ids = {0};
    ts_status st = ts_store_query(rl->store, &q, &ids);
    if (st != TS_OK) {
        ts_source_xform_free(xf);
        return TS_FAIL(err, TS_ENOMEM, "feature info query");
    }
    /* every feature drawn at this scale whose geometry or symbol is within the tolerance,
     * ranked: a click inside a parcel names that parcel, not a neighbour whose outline
     * passes a few pixels away */
    info_hit *hits = ids.n ? malloc(ids.n * sizeof *hits) : NULL;
    size_t nhits = 0;
    if (ids.n && hits == NULL) {
        ts_idvec_fini(&ids);
        ts_source_xform_free(xf);
        return TS_FAIL(err, TS_ENOMEM, "feature info hits");
    }
    for (size_t k = ids.n; k-- > 0;) {
        uint32_t fid = ids.ids[k];
        double reach_px;
        if (!drawn(rl, fid, sd, &reach_px))
            continue;
        ts_geom g;
        ts_store_geom(rl->store, 0, fid, &g);
        if (g.kind == TS_GEOM_NONE)
            continue;
        int inside;
        double d2 = geom_dist2(&g, x, y, &inside);
        double tol = (tol_px + reach_px * sf) * sres;
        if (!inside && !(d2 <= tol * tol))
            continue;
        hits[nhits] = (info_hit){fid, inside, inside ? 0 : d2, nhits};
        nhits++;
    }
    if (nhits > 1)
        qsort(hits, nhits, sizeof *hits, hit_cmp);
    int found = 0;
    const ts_cfg_source *src = ts_config_source(ts_service_config(svc), l->source);
    /* attributes are read back from the source by feature id: only from the files the
     * service loaded. Written over in place since (an import not yet reloaded), ids may
     * name other features: the attributes kept in memory are answered instead */
    int src_same = src != NULL && l->source != NULL &&
                   ts_service__source_unchanged(svc, (int)(src - ts_service_config(svc)->sources));
    if (src != NULL && !src_same && nhits > 0)
        source_changed_warning(l->source, src->path);
    for (size_t k = 0; k < nhits && found < r->feature_count && st == TS_OK; k++) {
        uint32_t fid = hits[k].fid;
        ts_geom g;
        ts_store_geom(rl->store, 0, fid, &g);
        if (out->n == *cap) {
            int nc = *cap ? 2 * *cap : 8;
            ts_info_feature *nf = realloc(out->features, (size_t)nc * sizeof *nf);
            if (nf == NULL) {
                st = TS_FAIL(err, TS_ENOMEM, "feature info");
                break;
            }
            out->features = nf;
            *cap = nc;
        }
        ts_info_feature *f = &out->features[out->n++];
        memset(f, 0, sizeof *f);
        f->layer = l->name;
        f->layer_title = l->title ? l->title : l->name;
        f->id = ts_store_origin_id(rl->store, fid);
        feature_id_text(rl->store, fid, f->id, f->fid, sizeof f->fid);
        f->kind = g.kind;
        f->bbox = ts_store_feature_bbox(rl->store, fid);
        if (xf != NULL)
            ts_source_xform_box(xf, 1, &f->bbox, &f->bbox);
        found++;
        if (info_geometry(f, &g, xf) != 0) {
            st = TS_FAIL(err, TS_ENOMEM, "feature geometry");
            break;
        }
        attr_acc acc = {f, 0, 0};
        int from_source = src != NULL && f->id >= 0 && src_same;
        if (from_source) {
            ts_err aerr;
            ts_err_clear(&aerr);
            ts_status ast = ts_source_feature_attrs(sc, src->path, l->table ? l->table : l->name,
                                                    f->id, attr_add, &acc, &aerr);
            if (ast != TS_OK) {
                static ts_log_gate gate; /* an outage: one line per 10 s, not one per click */
                unsigned long held;
                if (ts_log_gate_pass(&gate, 10, &held))
                    ts_warn("feature info: %s (the attributes kept in memory are answered)%s",
                            aerr.msg, held ? "; and for other clicks since the last line" : "");
                from_source = 0;
                for (int a = 0; a < f->nattrs; a++) { /* what was read before it failed */
                    free(f->names[a]);
                    if (f->values[a].type == TS_VAL_STR)
                        free((char *)f->values[a].u.s);
                }
                f->nattrs = 0;
            }
        }
        if (!from_source) {
            /* no source id: the attributes the store keeps */
            for (int fi = 0; fi < ts_store_nfields(rl->store) && !acc.failed; fi++)
                attr_add(&acc, ts_store_field_name(rl->store, fi),
                         ts_store_value(rl->store, fid, fi));
        }
        if (acc.failed)
            st = TS_FAIL(err, TS_ENOMEM, "feature attributes");
    }
    free(hits);
    ts_idvec_fini(&ids);
    ts_source_xform_free(xf);
    return st;
}

ts_status
ts_pipeline_feature_info(ts_pipeline *p, const ts_info_req *r, ts_info_result *out, ts_err *err)
{
    memset(out, 0, sizeof *out);
    out->crs = r->crs;
    if (r->width < 1 || r->height < 1 || r->crs == NULL || r->i < 0 || r->j < 0 ||
        r->i >= r->width || r->j >= r->height || !(r->bbox.maxx > r->bbox.minx) ||
        !(r->bbox.maxy > r->bbox.miny))
        return TS_FAIL(err, TS_EINVAL, "bad feature info request");
    ts_service *svc = ts_pipeline_service(p);
    const ts_cfg_layer *ls[MAX_MAP_LAYERS];
    int n = 0;
    ts_status st = expand_layers(svc, r->layers, r->nlayers, ls, NULL, MAX_MAP_LAYERS, &n, err);
    ts_source_ctx *sc = st == TS_OK ? ts_source_ctx_new(err) : NULL;
    if (st == TS_OK && sc == NULL)
        st = err && err->code != TS_OK ? err->code : TS_ENOMEM;
    int cap = 0;
    ts_info_req rr = *r;
    if (rr.feature_count < 1)
        rr.feature_count = 1;
    /* topmost layer first; a layer named twice is asked once */
    for (int i = n; i-- > 0 && st == TS_OK;) {
        int dup = 0;
        for (int k = i + 1; k < n && !dup; k++)
            dup = ls[k] == ls[i];
        if (!dup && ls[i]->queryable)
            st = info_layer(sc, svc, ls[i], &rr, out, &cap, err);
    }
    ts_source_ctx_free(sc);
    ts_service_unref(svc);
    return st;
}

/* ---- GetLegendGraphic ------------------------------------------------------------------- */

#define LEGEND_FONT_PX 12.0
#define LEGEND_PAD 4

typedef struct legend_row {
    const ts_rule *rule; /* NULL: a heading (a group's layer title), text only */
    const char *title;   /* the rule's (cls < 0) */
    int cls;             /* -1: the rule as it is; else a class of its colour function */
    char cls_title[160]; /* that class's title */
} legend_row;

/* A new row at the end of *rows (grown as needed), or NULL when out of memory. */
static legend_row *
legend_row_add(legend_row **rows, int *n, int *cap)
{
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 16;
        legend_row *nr = realloc(*rows, (size_t)nc * sizeof *nr);
        if (nr == NULL)
            return NULL;
        *rows = nr;
        *cap = nc;
    }
    return &(*rows)[(*n)++];
}

#define LEGEND_MAX_CLASSES 32

/* The colour function of rule ru that a legend shows class by class: the one symbolizer
 * whose colour (polygon fill, line stroke, mark fill) is a Categorize or Recode of literal
 * colours, its thresholds or keys literals; NULL when there is none (or more than one).
 * *sym: its index; *n: its classes. */
static const ts_expr *
class_colours(const ts_rule *ru, int *sym, int *n)
{
    const ts_expr *found = NULL;
    for (int k = 0; k < ru->nsyms; k++) {
        const ts_symbolizer *s = &ru->syms[k];
        const ts_expr *x = s->kind == TS_SYM_POLYGON ? s->fill_expr
                           : s->kind == TS_SYM_LINE  ? s->stroke_expr
                           : s->kind == TS_SYM_POINT && s->graphic ? s->graphic->fill_expr
                                                                    : NULL;
        if (x == NULL || x->op != TS_EXPR_FUNC ||
            (x->fn != TS_FN_CATEGORIZE && x->fn != TS_FN_RECODE))
            continue;
        int cat = x->fn == TS_FN_CATEGORIZE, classes = cat ? x->nargs / 2 : (x->nargs - 1) / 2;
        if (classes < 1 || classes > LEGEND_MAX_CLASSES || (cat ? x->nargs % 2 : !(x->nargs % 2)))
            continue;
        int ok = 1;
        for (int a = 1; a < x->nargs && ok; a++) {
            ts_rgba c;
            int colour = cat ? a % 2 == 1 : a % 2 == 0; /* values; the others thresholds */
            ok = x->args[a]->op == TS_EXPR_LITERAL && x->args[a]->text != NULL &&
                 (!colour || ts_style_colour(x->args[a]->text, &c));
        }
        if (!ok)
            continue;
        if (found != NULL)
            return NULL; /* two: no one set of classes */
        found = x;
        *sym = k;
        *n = classes;
    }
    return found;
}

/* Class i of colour function x: its colour and its title ("< 10", "10 – 20", ">= 20"
 * for Categorize; the key for Recode), after the rule's title when it has one. */
static void
class_of(const ts_expr *x, int i, const char *rule_title, ts_rgba *colour, char *title,
         size_t cap)
{
    char what[128];
    if (x->fn == TS_FN_CATEGORIZE) {
        int n = x->nargs / 2, pre = (x->fn_flags & TS_FN_PRECEDING) != 0;
        ts_style_colour(x->args[1 + 2 * i]->text, colour);
        const char *lo = i > 0 ? x->args[2 * i]->text : NULL;
        const char *hi = i < n - 1 ? x->args[2 * i + 2]->text : NULL;
        if (lo == NULL)
            snprintf(what, sizeof what, "%s %.50s", pre ? "\u2264" : "<", hi ? hi : "");
        else if (hi == NULL)
            snprintf(what, sizeof what, "%s %.50s", pre ? ">" : "\u2265", lo);
        else
            snprintf(what, sizeof what, "%.50s \u2013 %.50s", lo, hi);
    } else {
        ts_style_colour(x->args[2 + 2 * i]->text, colour);
        snprintf(what, sizeof what, "%.100s", x->args[1 + 2 * i]->text);
    }
    if (rule_title != NULL && rule_title[0])
        snprintf(title, cap, "%.60s: %.90s", rule_title, what);
    else
        snprintf(title, cap, "%s", what);
}

/* 1 when a rule draws more than labels. */
static int
draws_graphics(const ts_rule *ru)
{
    for (int s = 0; s < ru->nsyms; s++)
        if (ru->syms[s].kind != TS_SYM_TEXT)
            return 1;
    return 0;
}

/* Draw one rule's sample in the box (x, y, w, h) of c: its symbolizers but labels, or for
 * a rule of labels only a bar of the text colour. Sizes in ground units are drawn as at
 * scale denominator scale (GetLegendGraphic's SCALE), or one pixel a unit without it; every
 * size is kept inside the box. */
static ts_status
draw_sample(ts_raster *ra, ts_render_worker *wk, const ts_font_catalog *fonts, ts_canvas *c,
            const ts_rule *ru, double x, double y, double w, double h, double sf0, double scale)
{
    static const ts_affine id = {1, 1, 0, 0};
    ts_status st = TS_OK;
    int graphics = draws_graphics(ru);
    for (int k = 0; k < ru->nsyms && st == TS_OK; k++) {
        const ts_symbolizer *s = &ru->syms[k];
        if (s->kind == TS_SYM_TEXT && graphics)
            continue; /* a label bar across the rule's mark or fill hid it */
        double sf = sf0 * (scale > 0 ? ts_symbolizer_px_per_unit(s, scale) : 1);
        ts_stroke sk = s->stroke;
        sk.width *= sf;
        for (int d = 0; d < sk.ndash; d++)
            sk.dash[d] *= sf;
        if (sk.width > h / 2)
            sk.width = h / 2;
        switch (s->kind) {
        case TS_SYM_POLYGON: {
            double m = 1 + (s->has_stroke ? sk.width / 2 : 0);
            double xy[8] = {x + m, y + h - m, x + w - m, y + h - m, x + w - m, y + m, x + m, y + m};
            uint32_t cnt = 4;
            ts_parts parts = {xy, &cnt, 1};
            ts_rgba fill = s->fill;
            double fo = s->has_fill ? s->fill_opacity : 0;
            if (fo > 0)
                st = ts_raster_fill(ra, c, &id, &parts, TS_FILL_NONZERO, fill, fo);
            if (st == TS_OK && s->fill_graphic != NULL) {
                /* the pattern as the map draws it (hatches, spaced marks); an image
                 * pattern needs its layer's pixels: half its mark's colour */
                const ts_graphic *g = s->fill_graphic;
                st = wk != NULL && g->image < 0
                         ? ts_render_fill_sample(wk, c, s, x + m, y + m, w - 2 * m, h - 2 * m,
                                                 sf, fonts)
                         : ts_raster_fill(ra, c, &id, &parts, TS_FILL_NONZERO,
                                          g->has_stroke ? g->stroke_color : g->fill, 0.5);
            }
            if (st == TS_OK && s->has_stroke)
                st = ts_raster_stroke(ra, c, &id, &parts, 1, &sk, s->stroke_color,
                                      s->stroke_opacity);
            break;
        }
        case TS_SYM_LINE: {
            /* round and square caps reach half the width past the ends: inset them so a
             * wide casing stays inside its sample and off the rule's title */
            double cap = s->has_stroke && sk.cap != TS_CAP_BUTT ? sk.width / 2 : 0;
            if (cap > w / 2 - 3)
                cap = w / 2 - 3 > 0 ? w / 2 - 3 : 0;
            double xy[4] = {x + 2 + cap, y + h / 2, x + w - 2 - cap, y + h / 2};
            uint32_t cnt = 2;
            ts_parts parts = {xy, &cnt, 1};
            if (s->has_stroke)
                st = ts_raster_stroke(ra, c, &id, &parts, 0, &sk, s->stroke_color,
                                      s->stroke_opacity);
            else if (s->stroke_graphic != NULL) {
                ts_stroke thin = {.width = 2 * sf};
                st = ts_raster_stroke(ra, c, &id, &parts, 0, &thin, s->stroke_graphic->fill, 1);
            }
            break;
        }
        case TS_SYM_POINT: {
            const ts_graphic *g = s->graphic;
            if (g == NULL)
                break;
            if (wk != NULL && g->image < 0 && (g->glyph_font != NULL || g->shape != TS_SHAPE_NONE)) {
                /* font and shape:// marks as the map draws them */
                st = ts_render_graphic_sample(wk, c, g, x + w / 2, y + h / 2, fmin(w, h) - 2, sf,
                                              fonts);
                break;
            }
            double size = (g->size > 0 ? g->size : 6) * sf;
            size = fmin(size, fmin(w, h) - 2);
            ts_stroke gs = g->stroke;
            gs.width *= sf;
            ts_rgba fill = g->has_fill ? g->fill : (ts_rgba){0, 0, 0, 0};
            fill.a = (uint8_t)lround(fill.a * (g->has_fill ? g->fill_opacity : 0));
            st = ts_raster_marker(
                ra, c, x + w / 2, y + h / 2,
                g->image >= 0 || g->shape != TS_SHAPE_NONE ? TS_MARK_CIRCLE : g->mark, size,
                g->rotation, fill, g->has_stroke ? &gs : NULL, g->stroke_color, g->opacity);
            break;
        }
        case TS_SYM_TEXT: {
            /* a sample of the text colour: a short bar */
            double xy[4] = {x + w * 0.25, y + h / 2, x + w * 0.75, y + h / 2};
            uint32_t cnt = 2;
            ts_parts parts = {xy, &cnt, 1};
            ts_stroke t = {.width = 3 * sf, .cap = TS_CAP_ROUND};
            st = ts_raster_stroke(ra, c, &id, &parts, 0, &t, s->fill, s->fill_opacity);
            break;
        }
        }
    }
    return st;
}

/* Draw a line of text with its baseline's left end at (x, y). */
static ts_status
draw_label(ts_text_ctx *tx, const ts_font_catalog *cat, ts_raster *ra, ts_canvas *c,
           const char *text, double x, double y, double px, double *width, ts_err *err)
{
    *width = 0;
    if (tx == NULL || text == NULL || *text == '\0')
        return TS_OK;
    ts_font_spec spec = {0};
    spec.face = ts_font_catalog_find(cat, "DejaVu Sans", 0, 0, NULL);
    spec.size_px = px;
    const ts_text_run *run = NULL;
    TS_TRY(ts_text_shape(tx, text, strlen(text), &spec, &run, err));
    double x0, y0, x1, y1;
    ts_text_run_box(run, &x0, &y0, &x1, &y1);
    *width = x1 - x0;
    ts_status st = TS_OK;
    if (c != NULL) {
        ts_text_glyph_pos *pos = calloc(run->nglyphs > 0 ? run->nglyphs : 1, sizeof *pos);
        if (pos == NULL) {
            ts_text_run_release(run);
            return TS_FAIL(err, TS_ENOMEM, "legend text");
        }
        ts_text_layout_straight(run, x, y, 0, pos);
        ts_text_paint paint = {{0, 0, 0, 255}, 1, 0, {255, 255, 255, 255}, 0};
        st = ts_text_draw(tx, ra, c, run, pos, &paint, err);
        free(pos);
    }
    ts_text_run_release(run);
    return st;
}

ts_status
ts_pipeline_legend(ts_pipeline *p, const ts_legend_req *r, ts_tile **out, ts_err *err)
{
    *out = NULL;
    ts_service *svc = ts_pipeline_service(p);
    const ts_wms_entry *e = ts_service_wms_find(svc, r->layer);
    ts_status st = TS_OK;
    legend_row *rows = NULL;
    int nrows = 0, cap = 0;
    ts_raster *ra = NULL;
    ts_render_worker *wk = NULL;
    ts_text_ctx *tx = NULL;
    ts_canvas *c = NULL;
    if (e == NULL) {
        st = TS_FAIL(err, TS_ENOENT, "layer '%.100s' is not defined", r->layer);
        goto done;
    }
    /* the rules to show: every layer the entry draws, or the given style */
    for (int d = 0; d < e->ndraws && st == TS_OK; d++) {
        const ts_style *style = r->style;
        if (style == NULL) {
            ts_pipeline__loaded ld[4];
            if (ts_pipeline__service_layers(svc, e->draws[d], ld, 4) == 0)
                continue;
            style = ld[0].rl->style;
        }
        /* a group's legend: each layer's rows under its title, as GeoServer and MapServer
         * draw a group (a heading left out again when the layer has no row here) */
        int heading = -1;
        if (e->ndraws > 1 && r->style == NULL && r->rule == NULL) {
            legend_row *hr = legend_row_add(&rows, &nrows, &cap);
            if (hr == NULL) {
                st = TS_FAIL(err, TS_ENOMEM, "legend");
                goto done;
            }
            heading = nrows - 1;
            hr->rule = NULL;
            hr->title = e->draws[d]->title ? e->draws[d]->title : e->draws[d]->name;
            hr->cls = -1;
            hr->cls_title[0] = '\0';
        }
        for (int f = 0; f < style->nfts; f++)
            for (int k = 0; k < style->fts[f].nrules; k++) {
                const ts_rule *ru = &style->fts[f].rules[k];
                if (r->rule && (ru->name == NULL || strcmp(ru->name, r->rule) != 0))
                    continue;
                if (r->scale > 0 && !ts_rule_in_scale(ru, r->scale))
                    continue;
                /* labels only: a row when the rule has a title or name (QGIS writes its
                 * labelling as an untitled rule: a bar without a title said nothing) */
                if (ru->nsyms == 0 ||
                    (!draws_graphics(ru) && ru->title == NULL && ru->name == NULL))
                    continue;
                /* a colour by Categorize or Recode: a row per class (QGIS and city
                 * styles write graduated colours so), else one for the rule */
                int csym = -1, ncls = 0;
                const ts_expr *cx = r->rule ? NULL : class_colours(ru, &csym, &ncls);
                for (int ci = cx ? 0 : -1; ci < (cx ? ncls : 0); ci++) {
                    legend_row *row = legend_row_add(&rows, &nrows, &cap);
                    if (row == NULL) {
                        st = TS_FAIL(err, TS_ENOMEM, "legend");
                        goto done;
                    }
                    row->rule = ru;
                    row->title = ru->title       ? ru->title
                                 : ru->name      ? ru->name
                                 : e->ndraws > 1 && heading < 0 ? e->draws[d]->name
                                                                : "";
                    row->cls = ci;
                    row->cls_title[0] = '\0';
                    if (ci >= 0) {
                        ts_rgba unused;
                        class_of(cx, ci, ru->title ? ru->title : ru->name, &unused,
                                 row->cls_title, sizeof row->cls_title);
                    }
                }
            }
        if (heading >= 0 && nrows == heading + 1)
            nrows--; /* no rule of this layer is shown */
        if (r->style != NULL)
            break;
    }
    if (r->rule && nrows == 0) {
        st = TS_FAIL(err, TS_ENOENT, "rule '%.100s' is not defined", r->rule);
        goto done;
    }
    /* sizes grow with the DPI, the samples' WIDTH and HEIGHT too (as a 300 dpi legend of
     * the default samples: the same legend, finer), the scale stays */
    double sf = scale_factor_of(r->dpi);
    int iw = (int)lround((r->icon_w > 0 ? r->icon_w : 20) * sf);
    int ih = (int)lround((r->icon_h > 0 ? r->icon_h : 20) * sf);
    int gap = (int)lround(2 * sf); /* between rows: samples of neighbours never touch */
    if (gap < 2)
        gap = 2;
    const ts_font_catalog *cat = ts_pipeline__service_fonts(svc);
    ra = ts_raster_new();
    wk = ts_render_worker_new(NULL);
    if (ra == NULL || wk == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "legend");
        goto done;
    }
    if (cat != NULL && r->rule == NULL)
        tx = ts_text_ctx_new(cat, NULL);
    double fpx = LEGEND_FONT_PX * sf;
    int width = iw, height = 0;
    for (int i = 0; i < nrows; i++)
        if (rows[i].cls >= 0)
            rows[i].title = rows[i].cls_title; /* rows no longer move */
    for (int i = 0; i < nrows && tx != NULL; i++) {
        double tw;
        if (draw_label(tx, cat, ra, NULL, rows[i].title, 0, 0, fpx, &tw, err) == TS_OK)
            width = (int)fmax(width, (rows[i].rule ? iw + LEGEND_PAD : 0) + ceil(tw) +
                                         LEGEND_PAD);
    }
    int rowh = (int)fmax(ih, ceil(fpx * 1.4));
    int maxw = r->max_width > 0 ? r->max_width : 4096;
    int maxh = r->max_height > 0 ? r->max_height : 4096;
    int cut_w = width > maxw;
    if (cut_w)
        width = maxw;
    /* the rows that fit the largest image: whole ones (the last are left out, and said); a
     * legend of which not one row fits is refused (a blank image told nothing) */
    int fit = (maxh + gap) / (rowh + gap);
    if (nrows > fit) {
        int had = nrows;
        nrows = fit > 0 ? fit : 0;
        while (nrows > 0 && rows[nrows - 1].rule == NULL)
            nrows--; /* no heading without a row under it */
        if (nrows == 0) {
            st = TS_FAIL(err, TS_ELIMIT, "no row of the legend of %s fits into %d px "
                         "(server.wms.max_height) at this DPI and sample size", r->layer, maxh);
            goto done;
        }
        static ts_log_gate gate;
        if (ts_log_gate_pass(&gate, 60, NULL))
            ts_info("GetLegendGraphic of %s: %d of %d rows fit into %d px "
                    "(server.wms.max_height); the last are left out (said once a minute)",
                    r->layer, nrows, had, maxh);
    }
    if (cut_w) {
        static ts_log_gate wgate;
        if (ts_log_gate_pass(&wgate, 60, NULL))
            ts_info("GetLegendGraphic of %s: %d px wide at most (server.wms.max_width): longer "
                    "titles are cut (said once a minute)",
                    r->layer, maxw);
    }
    height = nrows > 0 ? nrows * rowh + (nrows - 1) * gap : (ih < maxh ? ih : maxh);
    c = ts_canvas_new(width, height, err);
    if (c == NULL) {
        st = TS_ENOMEM;
        goto done;
    }
    ts_canvas_clear(c, r->background);
    for (int i = 0; i < nrows && st == TS_OK; i++) {
        double y = i * (rowh + gap);
        const ts_rule *ru = rows[i].rule;
        if (ru == NULL) { /* a heading */
            double tw;
            if (tx != NULL)
                st = draw_label(tx, cat, ra, c, rows[i].title, 0, y + rowh / 2.0 + fpx * 0.35,
                                fpx, &tw, err);
            continue;
        }
        ts_rule one;
        ts_symbolizer syms[16];
        ts_graphic g;
        if (rows[i].cls >= 0) { /* the rule with that class's colour fixed */
            int k = -1, n = 0;
            const ts_expr *x = class_colours(ru, &k, &n);
            ts_rgba colour;
            char unused[8];
            class_of(x, rows[i].cls, NULL, &colour, unused, sizeof unused);
            /* its other symbolizers as they are (up to 16; beyond, the class's alone) */
            int ns = ru->nsyms <= 16 ? ru->nsyms : 1;
            if (ns == ru->nsyms)
                memcpy(syms, ru->syms, sizeof *syms * (size_t)ns);
            else
                syms[0] = ru->syms[k], k = 0;
            ts_symbolizer *fx = &syms[k];
            if (fx->kind == TS_SYM_POLYGON) {
                fx->fill = colour;
                fx->fill_expr = NULL;
                fx->has_fill = 1;
            } else if (fx->kind == TS_SYM_LINE) {
                fx->stroke_color = colour;
                fx->stroke_expr = NULL;
            } else {
                g = *fx->graphic;
                g.fill = colour;
                g.fill_expr = NULL;
                g.has_fill = 1;
                fx->graphic = &g;
            }
            one = *ru;
            one.syms = syms;
            one.nsyms = ns;
            ru = &one;
        }
        st = draw_sample(ra, wk, cat, c, ru, 0, y + (rowh - ih) / 2.0, iw, ih, sf, r->scale);
        double tw;
        if (st == TS_OK && tx != NULL)
            st = draw_label(tx, cat, ra, c, rows[i].title, iw + LEGEND_PAD,
                            y + rowh / 2.0 + fpx * 0.35, fpx, &tw, err);
    }
    if (st == TS_OK) {
        *out = encode_tile(c, r->format, 0, r->background, err);
        if (*out == NULL)
            st = err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
done:
    ts_canvas_free(c);
    ts_text_ctx_free(tx);
    ts_raster_free(ra);
    ts_render_worker_free(wk);
    free(rows);
    ts_service_unref(svc);
    return st;
}

/* ---- messages drawn into images (EXCEPTIONS=INIMAGE) ------------------------------------ */

ts_status
ts_pipeline_message_image(ts_pipeline *p, const char *msg, int w, int h, ts_rgba background,
                          ts_map_format format, ts_tile **out, ts_err *err)
{
    *out = NULL;
    ts_canvas *c = ts_canvas_new(w, h, err);
    if (c == NULL)
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    ts_canvas_clear(c, background);
    ts_service *svc = ts_pipeline_service(p);
    const ts_font_catalog *cat = ts_pipeline__service_fonts(svc);
    ts_raster *ra = ts_raster_new();
    ts_text_ctx *tx = cat && ra ? ts_text_ctx_new(cat, NULL) : NULL;
    ts_status st = TS_OK;
    if (tx != NULL) {
        /* wrap at ~ (w / 7) characters per line, at spaces where possible */
        double fpx = 12;
        int per = w / 7 > 8 ? w / 7 : 8;
        const char *s = msg;
        double y = 16;
        while (*s && y < h && st == TS_OK) {
            size_t n = strlen(s);
            if (n > (size_t)per) {
                n = (size_t)per;
                while (n > (size_t)per / 2 && s[n] != ' ')
                    n--;
                if (s[n] != ' ')
                    n = (size_t)per;
            }
            char line[512];
            snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), s);
            double tw;
            st = draw_label(tx, cat, ra, c, line, 4, y, fpx, &tw, err);
            s += n;
            while (*s == ' ')
                s++;
            y += fpx * 1.4;
        }
    }
    if (st == TS_OK) {
        *out = encode_tile(c, format, 0, background, err);
        if (*out == NULL)
            st = err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    ts_text_ctx_free(tx);
    ts_raster_free(ra);
    ts_service_unref(svc);
    ts_canvas_free(c);
    return st;
}
