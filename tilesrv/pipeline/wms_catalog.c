/* pipeline/wms_catalog.c — the WMS layer tree of a loaded service: a root group, a group per
 * tileset, the configured layers inside; scale ranges from the style rules; extents in every
 * offered CRS, computed once with PROJ from the stores' extents; and the choice of the store
 * a request in a given CRS draws from. */
#include "pipeline/pipeline.h"

#include "pipeline/pipeline_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"
#include "util/log.h"

#define ROOT_NAME "city"
#define MAX_LOADED 16

struct ts_service_wms {
    ts_wms_entry *e;
    int n;
    const ts_crs **crs; /* offered CRSs */
    int ncrs;
    /* per entry: ncrs boxes and flags, kids, draws (one block each) */
    ts_bbox *boxes;
    unsigned char *ok;
    int *kids;
    const ts_cfg_layer **draws;
    char **qnames; /* "tileset:layer" names of layers that share a tileset's name */
    int nqnames;
};

void
ts_pipeline__wms_free(ts_service_wms *w)
{
    if (w == NULL)
        return;
    free(w->e);
    free(w->crs);
    free(w->boxes);
    free(w->ok);
    free(w->kids);
    free(w->draws);
    for (int i = 0; i < w->nqnames; i++)
        free(w->qnames[i]);
    free(w->qnames);
    free(w);
}

const char *
ts_pipeline__proj_name(const ts_crs *crs)
{
    return crs->epsg == 0 ? "OGC:CRS84" : crs->id;
}

/* The registry entry of a store CRS name ("EPSG:3857", "CRS:84"), or NULL. */
static const ts_crs *
store_crs(const char *name)
{
    return ts_grid_crs_find(name);
}

/* 1 if coordinates of a store in a are coordinates of b as tilesrv orders them (x = east):
 * the same CRS, or one that differs in axis order only. */
static int
same_coords(const ts_crs *a, const ts_crs *b)
{
    if (a == NULL || b == NULL)
        return 0;
    if (a == b)
        return 1;
    int ea = a->epsg == 0 ? 4326 : a->epsg == 3044 ? 25832 : a->epsg;
    int eb = b->epsg == 0 ? 4326 : b->epsg == 3044 ? 25832 : b->epsg;
    return ea == eb;
}

const ts_render_layer *
ts_pipeline__layer_for_crs(const ts_service *s, const ts_cfg_layer *l, const ts_crs *crs,
                           const char **out_crs)
{
    ts_pipeline__loaded ld[MAX_LOADED];
    int n = ts_pipeline__service_layers(s, l, ld, MAX_LOADED);
    *out_crs = NULL;
    if (n == 0)
        return NULL;
    for (int i = 0; i < n; i++)
        if (same_coords(store_crs(ld[i].crs), crs))
            return ld[i].rl;
    /* Nearest: a store of the same kind (geographic or projected), a transverse Mercator
     * one (UTM, Gauss-Krüger) before Web Mercator for projected requests. */
    int best = 0, best_score = -1;
    for (int i = 0; i < n; i++) {
        const ts_crs *c = store_crs(ld[i].crs);
        int score = 0;
        if (c != NULL) {
            score += c->geographic == crs->geographic ? 4 : 0;
            score += !crs->geographic && c->epsg != 3857 ? 2 : 0;
        }
        if (score > best_score) {
            best = i;
            best_score = score;
        }
    }
    *out_crs = ld[best].crs;
    return ld[best].rl;
}

/* Scale range of a style: the union of its rules' ranges (0 = unbounded). */
static void
style_scales(const ts_style *st, double *lo, double *hi)
{
    double mn = INFINITY, mx = 0;
    for (int f = 0; f < st->nfts; f++)
        for (int r = 0; r < st->fts[f].nrules; r++) {
            const ts_rule *ru = &st->fts[f].rules[r];
            mn = ru->min_scale < mn ? ru->min_scale : mn;
            mx = ru->max_scale > mx ? ru->max_scale : mx;
        }
    *lo = isfinite(mn) && mn > 0 ? mn : 0;
    *hi = isfinite(mx) && mx > 0 ? mx : 0;
}

static void
box_union(ts_bbox *a, int *have, const ts_bbox *b)
{
    if (!*have) {
        *a = *b;
        *have = 1;
        return;
    }
    a->minx = fmin(a->minx, b->minx);
    a->miny = fmin(a->miny, b->miny);
    a->maxx = fmax(a->maxx, b->maxx);
    a->maxy = fmax(a->maxy, b->maxy);
}

/* Transformations from each store CRS to each offered CRS, made on first use. */
typedef struct xf_cache {
    char src[64];
    const ts_crs *dst;
    ts_source_xform *x; /* NULL: failed */
} xf_cache;

static ts_source_xform *
xf_get(xf_cache *c, int *nc, int max, const char *src, const ts_crs *dst)
{
    for (int i = 0; i < *nc; i++)
        if (c[i].dst == dst && strcmp(c[i].src, src) == 0)
            return c[i].x;
    if (*nc >= max)
        return NULL;
    xf_cache *e = &c[(*nc)++];
    snprintf(e->src, sizeof e->src, "%s", src);
    e->dst = dst;
    ts_err err;
    const ts_crs *sc = store_crs(src);
    e->x = ts_source_xform_new(sc ? ts_pipeline__proj_name(sc) : src, ts_pipeline__proj_name(dst),
                               &err);
    if (e->x == NULL)
        ts_warn("WMS extents: no transformation from %s to %s: %s", src, dst->id, err.msg);
    return e->x;
}

/* Extent of configured layer l in every offered CRS and in longitude/latitude. */
static void
layer_extents(const ts_service *s, ts_service_wms *w, const ts_cfg_layer *l, ts_bbox *boxes,
              unsigned char *ok, int *has_ll, ts_bbox *ll, xf_cache *xc, int *nxc, int maxxc)
{
    ts_pipeline__loaded ld[MAX_LOADED];
    int n = ts_pipeline__service_layers(s, l, ld, MAX_LOADED);
    *has_ll = 0;
    if (l->has_extent) { /* as configured: a live layer has no data to take it from */
        ts_bbox e = {l->extent[0], l->extent[1], l->extent[2], l->extent[3]};
        for (int k = 0; k < w->ncrs; k++) {
            ts_source_xform *x = xf_get(xc, nxc, maxxc, "CRS:84", w->crs[k]);
            ok[k] = x != NULL && ts_source_xform_box(x, 0, &e, &boxes[k]);
        }
        *ll = e;
        *has_ll = 1;
        return;
    }
    if (n == 0 || ld[0].count == 0)
        return;
    ts_bbox ext = ld[0].extent;
    for (int k = 0; k < w->ncrs; k++) {
        const ts_crs *dst = w->crs[k];
        /* a store in the CRS itself knows its extent exactly */
        int direct = -1;
        for (int i = 0; i < n && direct < 0; i++)
            if (same_coords(store_crs(ld[i].crs), dst))
                direct = i;
        if (direct >= 0) {
            boxes[k] = ld[direct].extent;
            ok[k] = 1;
            continue;
        }
        ts_source_xform *x = xf_get(xc, nxc, maxxc, ld[0].crs, dst);
        ok[k] = x != NULL && ts_source_xform_box(x, 0, &ext, &boxes[k]);
    }
    static const ts_crs *crs84;
    if (crs84 == NULL)
        crs84 = ts_grid_crs_find("CRS:84");
    int direct = -1;
    for (int i = 0; i < n && direct < 0; i++)
        if (same_coords(store_crs(ld[i].crs), crs84))
            direct = i;
    if (direct >= 0) {
        *ll = ld[direct].extent;
        *has_ll = 1;
    } else {
        ts_source_xform *x = xf_get(xc, nxc, maxxc, ld[0].crs, crs84);
        *has_ll = x != NULL && ts_source_xform_box(x, 0, &ext, ll);
    }
}

/* Does any entry before index `before` (or any tileset) already use name? */
static int
name_taken(const ts_service_wms *w, int before, const char *name)
{
    for (int i = 0; i < before; i++)
        if (w->e[i].name && strcmp(w->e[i].name, name) == 0)
            return 1;
    return 0;
}

ts_status
ts_pipeline__wms_build(ts_service *s, ts_service_wms **out, ts_err *err)
{
    const ts_config *cfg = ts_service_config(s);
    ts_service_wms *w = calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL)
        return TS_FAIL(err, TS_ENOMEM, "WMS layers");
    /* offered CRSs */
    const ts_cfg_wms *cw = &cfg->server.wms;
    int ncrs = cw->ncrs > 0 ? cw->ncrs : ts_grid_crs_count();
    w->crs = calloc((size_t)ncrs + 1, sizeof *w->crs);
    if (w->crs == NULL)
        goto nomem;
    for (int i = 0; i < ncrs; i++) {
        const ts_crs *c = cw->ncrs > 0 ? ts_grid_crs_find(cw->crs[i]) : ts_grid_crs_at(i);
        if (c != NULL)
            w->crs[w->ncrs++] = c;
    }
    /* entries: root, tilesets, layers (each configured layer once) */
    int nts = ts_service_ntilesets(s);
    int max = 1 + nts;
    for (int i = 0; i < nts; i++)
        max += ts_service_tileset_at(s, i)->cfg->nlayers;
    int nc = w->ncrs > 0 ? w->ncrs : 1;
    w->e = calloc((size_t)max, sizeof *w->e);
    w->boxes = calloc((size_t)max * (size_t)nc, sizeof *w->boxes);
    w->ok = calloc((size_t)max * (size_t)nc, 1);
    w->kids = calloc((size_t)max, sizeof *w->kids);
    w->draws = calloc((size_t)(3 * max), sizeof *w->draws);
    if (w->e == NULL || w->boxes == NULL || w->ok == NULL || w->kids == NULL || w->draws == NULL)
        goto nomem;
    xf_cache xc[64];
    int nxc = 0;
    int nkids = 0, ndraws = 0;
    ts_wms_entry *root = &w->e[w->n++];
    root->title = cfg->server.wms.title ? cfg->server.wms.title : "tilesrv";
    root->abstract_text = cfg->server.wms.abstract_text;
    root->depth = 0;
    root->crs_boxes = w->boxes;
    root->crs_ok = w->ok;
    /* the root's kids are the tilesets: reserve their slots first */
    root->kids = w->kids;
    nkids += nts;
    int root_has = 0;
    root->draws = w->draws + ndraws;
    for (int t = 0; t < nts; t++) {
        const ts_tileset *ts = ts_service_tileset_at(s, t);
        int gi = w->n;
        ts_wms_entry *g = &w->e[w->n++];
        w->kids[t] = gi;
        root->nkids++;
        g->name = ts->name;
        g->title = ts->cfg->title ? ts->cfg->title : ts->name;
        g->abstract_text = ts->cfg->abstract_text;
        g->keywords = (const char *const *)ts->cfg->keywords;
        g->nkeywords = ts->cfg->nkeywords;
        g->metadata_url = ts->cfg->metadata_url;
        g->attribution = ts->cfg->attribution;
        g->depth = 1;
        g->crs_boxes = w->boxes + (size_t)gi * nc;
        g->crs_ok = w->ok + (size_t)gi * nc;
        g->kids = w->kids + nkids;
        /* draws: the tileset's layers in order */
        const ts_cfg_layer **gd = w->draws + ndraws;
        g->draws = gd;
        int has_ll = 0;
        for (int k = 0; k < ts->cfg->nlayers; k++) {
            const ts_cfg_layer *lc = ts_config_layer(cfg, ts->cfg->layers[k]);
            if (lc == NULL)
                continue;
            gd[g->ndraws++] = lc;
            ndraws++;
        }
        for (int k = 0; k < g->ndraws; k++) {
            const ts_cfg_layer *lc = g->draws[k];
            /* a layer listed under an earlier group is not listed again */
            int seen = 0;
            for (int i = 1; i < w->n && !seen; i++)
                seen = w->e[i].cfg == lc;
            int li = w->n;
            ts_wms_entry *le = &w->e[w->n++];
            if (seen) {
                w->n--;
                continue;
            }
            ((int *)g->kids)[g->nkids++] = li;
            nkids++;
            le->cfg = lc;
            le->title = lc->title ? lc->title : lc->name;
            le->abstract_text = lc->abstract_text;
            le->keywords = (const char *const *)lc->keywords;
            le->nkeywords = lc->nkeywords;
            le->metadata_url = lc->metadata_url;
            le->depth = 2;
            le->queryable = lc->queryable;
            le->crs_boxes = w->boxes + (size_t)li * nc;
            le->crs_ok = w->ok + (size_t)li * nc;
            le->draws = w->draws + ndraws;
            ((const ts_cfg_layer **)le->draws)[0] = lc;
            le->ndraws = 1;
            ndraws++;
            ts_pipeline__loaded ld[MAX_LOADED];
            if (ts_pipeline__service_layers(s, lc, ld, MAX_LOADED) > 0) {
                le->style = ld[0].rl->style;
                style_scales(le->style, &le->min_scale, &le->max_scale);
            }
            layer_extents(s, w, lc, (ts_bbox *)le->crs_boxes, (unsigned char *)le->crs_ok,
                          &le->has_extent, &le->lonlat, xc, &nxc, 64);
        }
        /* the group: union of what it draws */
        for (int k = 0; k < g->ndraws; k++) {
            const ts_wms_entry *le = NULL;
            for (int i = 1; i < w->n && le == NULL; i++)
                if (w->e[i].cfg == g->draws[k])
                    le = &w->e[i];
            if (le == NULL)
                continue;
            g->queryable |= le->queryable;
            if (le->has_extent)
                box_union(&g->lonlat, &has_ll, &le->lonlat);
            for (int c = 0; c < w->ncrs; c++) {
                if (!le->crs_ok[c])
                    continue;
                int h = g->crs_ok[c];
                box_union((ts_bbox *)&g->crs_boxes[c], &h, &le->crs_boxes[c]);
                ((unsigned char *)g->crs_ok)[c] = 1;
            }
            double lo = le->min_scale, hi = le->max_scale;
            g->min_scale =
                k == 0 ? lo : (lo == 0 || g->min_scale == 0 ? 0 : fmin(lo, g->min_scale));
            g->max_scale =
                k == 0 ? hi : (hi == 0 || g->max_scale == 0 ? 0 : fmax(hi, g->max_scale));
        }
        g->has_extent = has_ll;
        root->queryable |= g->queryable;
        if (g->has_extent)
            box_union(&root->lonlat, &root_has, &g->lonlat);
        for (int c = 0; c < w->ncrs; c++) {
            if (!g->crs_ok[c])
                continue;
            int h = root->crs_ok[c];
            box_union((ts_bbox *)&root->crs_boxes[c], &h, &g->crs_boxes[c]);
            ((unsigned char *)root->crs_ok)[c] = 1;
        }
    }
    root->has_extent = root_has;
    /* the root draws every tileset's layers in order */
    root->draws = w->draws + ndraws;
    for (int t = 0; t < root->nkids; t++) {
        const ts_wms_entry *g = &w->e[root->kids[t]];
        for (int k = 0; k < g->ndraws; k++)
            ((const ts_cfg_layer **)root->draws)[root->ndraws++] = g->draws[k];
    }
    ndraws += root->ndraws;
    const char *rn = cfg->server.wms.root_name ? cfg->server.wms.root_name : ROOT_NAME;
    root->name = name_taken(w, w->n, rn) ? NULL : rn;
    for (int i = 1; i < w->n; i++)
        if (w->e[i].depth == 2 && name_taken(w, i, w->e[i].cfg->name)) {
            /* the group has the name: the layer is "tileset:layer", as GeoServer's
             * "workspace:layer" (a client lists it; GetMap and GetFeatureInfo take it) */
            const ts_wms_entry *grp = NULL;
            for (int k = i - 1; k >= 0 && grp == NULL; k--)
                if (w->e[k].depth == 1)
                    grp = &w->e[k];
            char q[160];
            snprintf(q, sizeof q, "%s:%s", grp && grp->name ? grp->name : "", w->e[i].cfg->name);
            char **grown = realloc(w->qnames, sizeof *grown * (size_t)(w->nqnames + 1));
            char *dup = grown != NULL && !name_taken(w, w->n, q) ? strdup(q) : NULL;
            if (grown != NULL)
                w->qnames = grown;
            if (dup != NULL) {
                w->qnames[w->nqnames++] = dup;
                w->e[i].name = dup;
                ts_info("WMS: layer %s has the name of a tileset: it is requested as %s",
                        w->e[i].cfg->name, dup);
            } else {
                ts_warn("WMS: layer %s has the name of a tileset: it is not requestable on "
                        "its own", w->e[i].cfg->name);
            }
        } else if (w->e[i].depth == 2) {
            w->e[i].name = w->e[i].cfg->name;
        }
    for (int i = 0; i < nxc; i++)
        ts_source_xform_free(xc[i].x);
    *out = w;
    return TS_OK;
nomem:
    ts_pipeline__wms_free(w);
    return TS_FAIL(err, TS_ENOMEM, "WMS layers");
}

int
ts_service_wms_count(const ts_service *s)
{
    const ts_service_wms *w = ts_pipeline__service_wms(s);
    return w ? w->n : 0;
}

const ts_wms_entry *
ts_service_wms_at(const ts_service *s, int i)
{
    const ts_service_wms *w = ts_pipeline__service_wms(s);
    return w && i >= 0 && i < w->n ? &w->e[i] : NULL;
}

const ts_wms_entry *
ts_service_wms_find(const ts_service *s, const char *name)
{
    const ts_service_wms *w = ts_pipeline__service_wms(s);
    if (w == NULL || name == NULL)
        return NULL;
    for (int i = 0; i < w->n; i++)
        if (w->e[i].name && strcmp(w->e[i].name, name) == 0)
            return &w->e[i];
    return NULL;
}

int
ts_service_wms_ncrs(const ts_service *s)
{
    const ts_service_wms *w = ts_pipeline__service_wms(s);
    return w ? w->ncrs : 0;
}

const ts_crs *
ts_service_wms_crs_at(const ts_service *s, int i)
{
    const ts_service_wms *w = ts_pipeline__service_wms(s);
    return w && i >= 0 && i < w->ncrs ? w->crs[i] : NULL;
}
