/* pipeline/vector.c — vector tiles (Mapbox Vector Tile 2.1) of a tileset.
 *
 * One MVT layer per tileset layer, named as the layer, with every attribute its store
 * holds (the properties the layer's style reads), the feature id of the data source, and
 * the geometry at the detail level of the zoom, clipped to the tile plus a buffer and
 * quantised to the extent (4096) by the mvt module. A tile is built on the calling thread
 * (encoding is a few milliseconds, no rasterising) and kept in the memory cache under the
 * PNG tile's key + ".mvt" (its gzip form under + ".mvt.gz", for clients that accept it);
 * tiles of live tilesets are not kept (their stores change). */
#include "pipeline/pipeline_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mvt/mvt.h"
#include "util/clock.h"

#define MAX_ATTRS 256 /* TS_CONFIG_MAX_LIST */

/* The attributes of a layer's vector tiles: the configured ones (`mvt: {attributes}`) or
 * every field of the store. field -1: the store lacks it (a feed that has not sent it). */
typedef struct attr_plan {
    int n;
    const char *names[MAX_ATTRS];
    int field[MAX_ATTRS];
    ts_cfg_attr_type type[MAX_ATTRS];
} attr_plan;

static void
plan_attrs(const ts_cfg_layer *l, const ts_store *st, attr_plan *ap)
{
    ap->n = 0;
    if (l != NULL && l->has_mvt_attrs) {
        for (int i = 0; i < l->nmvt_attrs && ap->n < MAX_ATTRS; i++) {
            ap->names[ap->n] = l->mvt_attrs[i].name;
            ap->field[ap->n] = ts_store_field_index(st, l->mvt_attrs[i].name);
            ap->type[ap->n++] = l->mvt_attrs[i].type;
        }
        return;
    }
    int nf = ts_store_nfields(st);
    for (int i = 0; i < nf && ap->n < MAX_ATTRS; i++) {
        ap->names[ap->n] = ts_store_field_name(st, i);
        ap->field[ap->n] = i;
        ap->type[ap->n++] = TS_CFG_ATTR_KEEP;
    }
}

/* A whole string (after optional blanks) as an integer / a finite number / a boolean. */
static int
parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (end == s || *end != '\0' || errno == ERANGE)
        return 0;
    *out = v;
    return 1;
}

static int
parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int
parse_bool(const char *s, int64_t *out)
{
    static const char *const yes[] = {"true", "yes", "t", "y", "1", "on"};
    static const char *const no[] = {"false", "no", "f", "n", "0", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 1;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* The MVT id of a feature without a source id (a live layer's): its `id` as a number when
 * it is one, else a 53-bit hash of it (FNV-1a; 53 bits so JavaScript clients keep it
 * exact, MapLibre's feature-state included), the same in every tile and snapshot; without
 * an `id`, its index in the store. */
static uint64_t
feature_id_of(const ts_value *id, uint32_t fid)
{
    if (id != NULL && id->type == TS_VAL_INT && id->u.i >= 0)
        return (uint64_t)id->u.i;
    if (id == NULL || id->type != TS_VAL_STR || id->u.s == NULL)
        return fid;
    const char *s = id->u.s;
    if (*s >= '1' && *s <= '9' && strlen(s) <= 15 && strspn(s, "0123456789") == strlen(s))
        return strtoull(s, NULL, 10);
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h & ((1ull << 53) - 1);
}

/* v converted to type t into *out (strings written into buf of 40 bytes when made from a
 * number). Returns 0 when v does not convert (a string that does not parse as the type, a
 * real out of the integer range): the attribute is left out of the feature. NULL stays
 * NULL (no attribute, not counted). */
int
ts_pipeline__mvt_convert(const ts_value *v, ts_cfg_attr_type t, char *buf, ts_value *out)
{
    *out = *v;
    if (v->type == TS_VAL_NULL || t == TS_CFG_ATTR_KEEP)
        return 1;
    switch (t) {
    case TS_CFG_ATTR_STRING:
        out->type = TS_VAL_STR;
        if (v->type == TS_VAL_INT)
            snprintf(buf, 40, "%lld", (long long)v->u.i);
        else if (v->type == TS_VAL_REAL)
            snprintf(buf, 40, "%.17g", v->u.d);
        else if (v->type == TS_VAL_BOOL)
            snprintf(buf, 40, "%s", v->u.i ? "true" : "false");
        else
            return 1;
        out->u.s = buf;
        return 1;
    case TS_CFG_ATTR_INT:
        out->type = TS_VAL_INT;
        if (v->type == TS_VAL_REAL) {
            if (!isfinite(v->u.d) || v->u.d < -9.2e18 || v->u.d > 9.2e18)
                return 0;
            out->u.i = llround(v->u.d);
            return 1;
        }
        if (v->type == TS_VAL_STR)
            return parse_int(v->u.s, &out->u.i);
        out->u.i = v->u.i; /* INT, BOOL */
        return 1;
    case TS_CFG_ATTR_DOUBLE:
        out->type = TS_VAL_REAL;
        if (v->type == TS_VAL_STR)
            return parse_double(v->u.s, &out->u.d);
        if (v->type != TS_VAL_REAL)
            out->u.d = (double)v->u.i;
        return 1;
    case TS_CFG_ATTR_BOOL:
        out->type = TS_VAL_BOOL;
        if (v->type == TS_VAL_STR)
            return parse_bool(v->u.s, &out->u.i);
        out->u.i = v->type == TS_VAL_REAL ? v->u.d != 0 : v->u.i != 0;
        return 1;
    case TS_CFG_ATTR_KEEP:
        break;
    }
    return 1;
}

int
ts_pipeline_label_layer(const ts_render_layer *rl)
{
    const ts_style *st = rl ? rl->style : NULL;
    for (int f = 0; st && f < st->nfts; f++)
        for (int r = 0; r < st->fts[f].nrules; r++)
            for (int k = 0; k < st->fts[f].rules[r].nsyms; k++) {
                const ts_symbolizer *s = &st->fts[f].rules[r].syms[k];
                if (s->kind == TS_SYM_TEXT && s->text && s->text->placement == TS_PLACE_POINT)
                    return 1;
            }
    return 0;
}

/* Where a feature's point label goes, in map units: a point itself; the area centroid of
 * a polygon's largest ring; the middle by length of a line's longest part. 0 when it has
 * none (empty or degenerate). */
static int
label_point(const ts_geom *g, double *x, double *y)
{
    const double *p = g->xy, *best = NULL;
    uint32_t bestn = 0;
    double bestv = -1;
    for (uint32_t k = 0; k < g->nparts; p += 2 * g->counts[k], k++) {
        uint32_t n = g->counts[k];
        double v = 0;
        if (g->kind == TS_GEOM_POLYGON) {
            for (uint32_t i = 0; i + 1 < n; i++)
                v += (p[2 * i] - p[0]) * (p[2 * i + 3] - p[1]) -
                     (p[2 * i + 2] - p[0]) * (p[2 * i + 1] - p[1]);
            v = fabs(v);
        } else if (g->kind == TS_GEOM_LINE) {
            for (uint32_t i = 0; i + 1 < n; i++)
                v += hypot(p[2 * i + 2] - p[2 * i], p[2 * i + 3] - p[2 * i + 1]);
        }
        if (n > 0 && v > bestv) {
            bestv = v;
            best = p;
            bestn = n;
        }
    }
    if (best == NULL)
        return 0;
    if (g->kind == TS_GEOM_POINT || bestn == 1 || !(bestv > 0)) {
        *x = best[0];
        *y = best[1];
        return isfinite(*x) && isfinite(*y);
    }
    if (g->kind == TS_GEOM_LINE) {
        double half = bestv / 2, acc = 0;
        for (uint32_t i = 0; i + 1 < bestn; i++) {
            double l = hypot(best[2 * i + 2] - best[2 * i], best[2 * i + 3] - best[2 * i + 1]);
            if (acc + l >= half && l > 0) {
                double t = (half - acc) / l;
                *x = best[2 * i] + t * (best[2 * i + 2] - best[2 * i]);
                *y = best[2 * i + 1] + t * (best[2 * i + 3] - best[2 * i + 1]);
                return 1;
            }
            acc += l;
        }
        *x = best[0];
        *y = best[1];
        return 1;
    }
    /* the ring's area centroid, relative to its first point (no cancellation far from 0) */
    double a2 = 0, cx = 0, cy = 0, x0 = best[0], y0 = best[1];
    for (uint32_t i = 0; i + 1 < bestn; i++) {
        double xa = best[2 * i] - x0, ya = best[2 * i + 1] - y0;
        double xb = best[2 * i + 2] - x0, yb = best[2 * i + 3] - y0;
        double c = xa * yb - xb * ya;
        a2 += c;
        cx += (xa + xb) * c;
        cy += (ya + yb) * c;
    }
    if (a2 == 0)
        return 0;
    *x = x0 + cx / (3 * a2);
    *y = y0 + cy / (3 * a2);
    return isfinite(*x) && isfinite(*y);
}

/* The scale denominators [*lo, *hi] a client shows level z's tiles of ts at: a 256 px client
 * from a little over half a level above (scale x 1.5) to a 512 px one (MapLibre) just below
 * the next level but one (/ 4); the last level's tiles (last_z: the tileset's, or that of a
 * file of fewer levels) at every larger scale (clients overzoom them). */
static void
level_scales(const ts_tileset *ts, int z, int last_z, double *lo, double *hi)
{
    double sd = ts->grid->levels[z].scale_denom;
    *lo = z >= last_z ? 0 : sd / 4;
    *hi = sd * 1.5;
}

/* 1 when layer cl's vector tiles carry the features its style draws (mvt features drawn,
 * the default), 0 for all of them. */
static int
features_by_style(const ts_cfg_layer *cl)
{
    return !(cl != NULL && cl->mvt_features != NULL && strcmp(cl->mvt_features, "all") == 0);
}

int
ts_service_mvt_layer_levels(const ts_service *svc, const ts_tileset *ts, int layer, int label,
                            int last_z, int *minz, int *maxz)
{
    if (last_z < 0 || last_z > ts->maxzoom)
        last_z = ts->maxzoom;
    *minz = ts->maxzoom + 1;
    *maxz = ts->minzoom - 1;
    if (layer < 0 || layer >= ts->nlayers)
        return 0;
    const ts_render_layer *rl = ts->layers[layer];
    if (label && !ts_pipeline_label_layer(rl))
        return 0;
    const ts_cfg_layer *cl = ts_config_layer(ts_service_config(svc), ts->cfg->layers[layer]);
    int want = label ? TS_DRAWS_POINT_LABEL : TS_DRAWS_SHAPE;
    for (int z = ts->minzoom; z <= last_z; z++) {
        double lo, hi;
        level_scales(ts, z, last_z, &lo, &hi);
        if (features_by_style(cl) && !(ts_render_layer_draws(rl, -1, lo, hi) & want))
            continue;
        *minz = z < *minz ? z : *minz;
        *maxz = z;
    }
    return *minz <= *maxz;
}

/* What a layer's features draw at a level's scales (ts_render_layer_draws), each looked up
 * once: draws[k] of feature ids[k], -1 while not known; draws NULL: every feature draws
 * all. */
typedef struct level_draws {
    const ts_render_layer *rl;
    const uint32_t *ids;
    signed char *draws;
    int all;
    double sd_lo, sd_hi;
} level_draws;

static int
feature_draws(const level_draws *d, size_t k)
{
    if (d->draws == NULL)
        return d->all;
    if (d->draws[k] < 0)
        d->draws[k] = (signed char)ts_render_layer_draws(d->rl, d->ids[k], d->sd_lo, d->sd_hi);
    return d->draws[k];
}

/* The layer rl (configured as cl) into b: its features meeting tile box tb (of resolution
 * res), those its style draws at some scale denominator of [sd_lo, sd_hi] unless cl's
 * mvt features is "all" (ts_render_layer_draws; sd_hi 0: every feature), and the label
 * points of its point-placed labels. */
static ts_status
add_layer(ts_mvt_builder *b, const ts_render_layer *rl, const ts_cfg_layer *cl, const ts_bbox *tb,
          double res, double sd_lo, double sd_hi, ts_idvec *ids, uint64_t *unconverted,
          ts_err *err)
{
    const ts_store *st = rl->store;
    int by_style = sd_hi > 0 && features_by_style(cl);
    int drawn = by_style ? ts_render_layer_draws(rl, -1, sd_lo, sd_hi)
                         : TS_DRAWS_SHAPE | (ts_pipeline_label_layer(rl) ? TS_DRAWS_POINT_LABEL : 0);
    if (drawn == 0)
        return TS_OK; /* not at this level: no layer */
    signed char *draws = NULL; /* a feature's draws at this level (by_style), -1: not known */
    attr_plan *ap = malloc(sizeof *ap);
    ts_value *vals = malloc(MAX_ATTRS * sizeof *vals);
    char(*bufs)[40] = malloc(MAX_ATTRS * sizeof *bufs);
    ts_status rc = TS_OK;
    if (ap == NULL || vals == NULL || bufs == NULL) {
        rc = TS_FAIL(err, TS_ENOMEM, "vector tile: layer %s", rl->name);
        goto done;
    }
    plan_attrs(cl, st, ap);
    int layer = (drawn & TS_DRAWS_SHAPE) ? ts_mvt_layer_add(b, rl->name, err) : INT_MAX;
    if (layer < 0) {
        rc = err ? err->code : TS_EINVAL;
        goto done;
    }
    const ts_mvt_opts *o = ts_mvt_builder_opts(b);
    ts_mvt_transform t = ts_mvt_transform_for(tb, o->extent);
    ts_bbox q = ts_mvt_query_bbox(tb, o->extent, o->no_buffer ? 0 : o->buffer);
    if (ts_store_query(st, &q, ids) != TS_OK) {
        rc = TS_FAIL(err, TS_ENOMEM, "vector tile: query layer %s", rl->name);
        goto done;
    }
    int level = ts_store_level_for_res(st, res);
    int idf = ts_store_field_index(st, "id"); /* a live layer's sensor id */
    draws = by_style && ids->n ? malloc(ids->n) : NULL;
    if (by_style && ids->n && draws == NULL) {
        rc = TS_FAIL(err, TS_ENOMEM, "vector tile: layer %s", rl->name);
        goto done;
    }
    if (draws)
        memset(draws, -1, ids->n);
    level_draws ld = {rl, ids->ids, draws, drawn, sd_lo, sd_hi};
    for (size_t k = 0; layer != INT_MAX && k < ids->n && rc == TS_OK; k++) {
        uint32_t fid = ids->ids[k];
        ts_geom g;
        ts_store_geom(st, level, fid, &g);
        if (g.kind == TS_GEOM_NONE || g.nparts == 0 || !(feature_draws(&ld, k) & TS_DRAWS_SHAPE))
            continue;
        for (int i = 0; i < ap->n; i++) {
            const ts_value *v = ap->field[i] >= 0 ? ts_store_value(st, fid, ap->field[i]) : NULL;
            vals[i] = (ts_value){.type = TS_VAL_NULL};
            if (v != NULL && !ts_pipeline__mvt_convert(v, ap->type[i], bufs[i], &vals[i])) {
                vals[i] = (ts_value){.type = TS_VAL_NULL};
                (*unconverted)++;
            }
        }
        int64_t oid = ts_store_origin_id(st, fid);
        uint64_t mid = oid >= 0 ? (uint64_t)oid
                                : feature_id_of(idf >= 0 ? ts_store_value(st, fid, idf) : NULL, fid);
        int kept;
        rc = ts_mvt_add_feature(b, layer, (ts_mvt_geom_type)g.kind, g.xy, g.counts, g.nparts, &t, 1,
                                mid, ap->names, vals, ap->n, &kept, err);
    }
    /* "<layer>_label": one point per feature at its label's place, in the one tile that
     * holds it (half-open tile boxes), for the style's point-placed labels: a polygon cut
     * by tile edges would get a label in every piece */
    if (rc == TS_OK && (drawn & TS_DRAWS_POINT_LABEL) && ts_pipeline_label_layer(rl)) {
        char lname[300];
        snprintf(lname, sizeof lname, "%s_label", rl->name);
        int ll = ts_mvt_layer_add(b, lname, err);
        if (ll < 0) {
            rc = err ? err->code : TS_EINVAL;
            goto done;
        }
        for (size_t k = 0; k < ids->n && rc == TS_OK; k++) {
            uint32_t fid = ids->ids[k];
            ts_geom g;
            ts_store_geom(st, 0, fid, &g); /* full detail: the same place at every zoom */
            double pt[2];
            uint32_t one = 1;
            if (g.kind == TS_GEOM_NONE || !label_point(&g, &pt[0], &pt[1]) ||
                !(pt[0] >= tb->minx && pt[0] < tb->maxx && pt[1] > tb->miny && pt[1] <= tb->maxy) ||
                !(feature_draws(&ld, k) & TS_DRAWS_POINT_LABEL))
                continue;
            for (int i = 0; i < ap->n; i++) {
                const ts_value *v = ap->field[i] >= 0 ? ts_store_value(st, fid, ap->field[i]) : NULL;
                vals[i] = (ts_value){.type = TS_VAL_NULL};
                if (v != NULL && !ts_pipeline__mvt_convert(v, ap->type[i], bufs[i], &vals[i]))
                    vals[i] = (ts_value){.type = TS_VAL_NULL};
            }
            int64_t oid = ts_store_origin_id(st, fid);
            uint64_t mid = oid >= 0 ? (uint64_t)oid
                                    : feature_id_of(idf >= 0 ? ts_store_value(st, fid, idf) : NULL,
                                                    fid);
            int kept;
            rc = ts_mvt_add_feature(b, ll, (ts_mvt_geom_type)TS_GEOM_POINT, pt, &one, 1, &t, 1,
                                    mid, ap->names, vals, ap->n, &kept, err);
        }
    }
done:
    free(draws);
    free(ap);
    free(vals);
    free(bufs);
    return rc;
}

/* The memory cache's key of a vector tile (192 bytes): the tile's key + ".mvt"; the gzip
 * form's adds ".gz". */
static void
mvt_key(const ts_tileset *ts, const ts_tile_req *r, char *key)
{
    ts_pipeline_tile_key(ts, r->z, r->x, r->y, 1, key, 192 - 8); /* room for ".mvt" */
    size_t kl = strlen(key);
    memcpy(key + kl, ".mvt", 5);
}

ts_tile *
ts_pipeline_mvt_cached(ts_pipeline *p, const ts_tile_req *r, const char *grid, int gzip)
{
    ts_err err;
    ts_err_clear(&err);
    if (ts_pipeline_check_grid(p, r, grid, &err) != TS_OK)
        return NULL;
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts = ts_service_tileset_grid(svc, r->tileset, grid);
    ts_tile *t = NULL;
    if (ts != NULL && !ts_service_tileset_live(svc, ts)) {
        char key[200];
        mvt_key(ts, r, key);
        ts_mem_cache *mc = ts_pipeline__mem_cache(p);
        if (gzip) {
            char gkey[204];
            snprintf(gkey, sizeof gkey, "%s.gz", key);
            t = ts_mem_cache_get(mc, gkey);
        }
        if (t == NULL) {
            t = ts_mem_cache_get(mc, key);
            if (t != NULL && gzip && t->len > 0) { /* an empty tile is sent as it is */
                ts_tile_unref(t);
                t = NULL;
            }
        }
    }
    ts_service_unref(svc);
    return t;
}

/* The gzip form of a plain tile, cached under key + ".gz" (unless live). */
static ts_status
gzipped(ts_mem_cache *mc, const char *key, int live, ts_tile *plain, ts_tile **out, ts_err *err)
{
    char gkey[200];
    snprintf(gkey, sizeof gkey, "%s.gz", key);
    if (!live && (*out = ts_mem_cache_get(mc, gkey)) != NULL)
        return TS_OK;
    ts_buf z;
    ts_buf_init(&z, (size_t)64 << 20);
    ts_status st = ts_mvt_gzip(plain->data, plain->len, 6, &z, err);
    if (st == TS_OK) {
        *out = ts_tile_new(z.data, z.len, plain->mtime);
        if (*out == NULL)
            st = TS_FAIL(err, TS_ENOMEM, "vector tile");
        else if (!live)
            ts_mem_cache_put(mc, gkey, *out);
    }
    ts_buf_fini(&z);
    return st;
}

static ts_status
plain_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, int last_z, ts_tile **out,
          int *live_out, char *key_out, ts_err *err);

ts_status
ts_pipeline_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, int gzip, ts_tile **out,
                ts_err *err)
{
    return ts_pipeline_mvt_upto(p, r, grid, -1, gzip, out, err);
}

ts_status
ts_pipeline_mvt_upto(ts_pipeline *p, const ts_tile_req *r, const char *grid, int last_z, int gzip,
                     ts_tile **out, ts_err *err)
{
    char key[192];
    int live = 0;
    ts_tile *plain = NULL;
    *out = NULL;
    TS_TRY(plain_mvt(p, r, grid, last_z, &plain, &live, key, err));
    if (!gzip || plain->len == 0) {
        *out = plain;
        return TS_OK;
    }
    ts_status st = gzipped(ts_pipeline__mem_cache(p), key, live, plain, out, err);
    ts_tile_unref(plain);
    return st;
}

/* The plain (uncompressed) tile, and its cache key (192 bytes) and liveness (*live_out: not
 * kept in the memory cache, also set for a last level other than the tileset's). */
static ts_status
plain_mvt(ts_pipeline *p, const ts_tile_req *r, const char *grid, int last_z, ts_tile **out,
          int *live_out, char *key_out, ts_err *err)
{
    *out = NULL;
    TS_TRY(ts_pipeline_check_grid(p, r, grid, err));
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts = ts_service_tileset_grid(svc, r->tileset, grid);
    if (ts == NULL) {
        ts_service_unref(svc);
        return TS_FAIL(err, TS_ENOENT, "unknown tileset '%s'", r->tileset);
    }
    if (last_z < 0 || last_z > ts->maxzoom)
        last_z = ts->maxzoom;
    /* a file's last level carries more than the tileset's level: built for it alone */
    int live = ts_service_tileset_live(svc, ts) || (r->z == last_z && last_z != ts->maxzoom);
    *live_out = live;
    char *key = key_out;
    mvt_key(ts, r, key);
    ts_mem_cache *mc = ts_pipeline__mem_cache(p);
    if (!live && (*out = ts_mem_cache_get(mc, key)) != NULL) {
        ts_service_unref(svc);
        return TS_OK;
    }
    ts_bbox tb = ts_grid_tile_bbox(ts->grid, r->z, r->x, r->y);
    double res = ts->grid->levels[r->z].res;
    ts_status st = TS_OK;
    ts_mvt_opts mo = {0};
    ts_pipeline__mvt_opts(ts->cfg, &mo);
    ts_mvt_builder *b = ts_mvt_builder_new(&mo, err);
    const ts_config *cfg = ts_service_config(svc);
    uint64_t unconverted = 0;
    ts_pipeline__hold *hold = NULL;
    const ts_render_layer *const *layers = ts_pipeline__tileset_layers(svc, ts, &hold);
    ts_idvec ids = {0};
    ts_buf buf;
    ts_buf_init(&buf, (size_t)64 << 20);
    if (b == NULL || layers == NULL)
        st = b == NULL && err ? err->code : TS_ENOMEM;
    /* per-request (PostGIS) layers: their features of the tile and its buffer, fetched on
     * this thread (its connection); the other layers pass through */
    ts_pipeline__fetched *fetched = NULL;
    if (st == TS_OK) {
        const ts_mvt_opts *bo = ts_mvt_builder_opts(b);
        ts_bbox qb = ts_mvt_query_bbox(&tb, bo->extent, bo->no_buffer ? 0 : bo->buffer);
        int qw = (int)lround(256.0 * (qb.maxx - qb.minx) / (tb.maxx - tb.minx));
        st = ts_pipeline__fetch_layers(svc, layers, ts->nlayers, &qb, qw > 0 ? qw : 256, 1, 0,
                                       NULL, NULL, &layers, &fetched, err);
    }
    double sd_lo, sd_hi;
    level_scales(ts, r->z, last_z, &sd_lo, &sd_hi);
    for (int i = 0; i < ts->nlayers && st == TS_OK; i++)
        st = add_layer(b, layers[i], ts_config_layer(cfg, layers[i]->name), &tb, res, sd_lo,
                       sd_hi, &ids, &unconverted, err);
    if (unconverted > 0)
        ts_pipeline__count_unconverted(p, unconverted);
    ts_mvt_report rep;
    if (st == TS_OK)
        st = ts_mvt_finish(b, &buf, &rep, err);
    if (st == TS_OK && rep.dropped > 0)
        ts_pipeline__count_mvt_dropped(p, ts, r->z, r->x, r->y, rep.dropped, rep.features,
                                       ts_mvt_builder_opts(b)->max_bytes);
    if (st == TS_OK) {
        *out = ts_tile_new(buf.data, buf.len, (int64_t)ts_wall_s());
        if (*out == NULL)
            st = TS_FAIL(err, TS_ENOMEM, "vector tile");
        else if (!live)
            ts_mem_cache_put(mc, key, *out);
    }
    ts_buf_fini(&buf);
    ts_idvec_fini(&ids);
    ts_pipeline__fetched_release(fetched);
    ts_pipeline__hold_release(hold);
    ts_mvt_builder_free(b);
    ts_service_unref(svc);
    return st;
}

void
ts_pipeline__mvt_opts(const ts_cfg_tileset *c, ts_mvt_opts *o)
{
    memset(o, 0, sizeof *o);
    o->extent = c->mvt_extent > 0 ? (uint32_t)c->mvt_extent : 0;
    if (c->mvt_buffer == 0)
        o->no_buffer = 1;
    else if (c->mvt_buffer > 0)
        o->buffer = (uint32_t)c->mvt_buffer;
    o->max_bytes = c->mvt_max_bytes;
}

/* The type a field's values have in the store: that of the first non-null value among the
 * first 1000 features (KEEP when all are null). */
static ts_cfg_attr_type
store_field_type(const ts_store *st, int field)
{
    uint32_t n = ts_store_count(st);
    for (uint32_t f = 0; f < n && f < 1000; f++) {
        const ts_value *v = ts_store_value(st, f, field);
        if (v == NULL)
            continue;
        switch (v->type) {
        case TS_VAL_INT:
            return TS_CFG_ATTR_INT;
        case TS_VAL_REAL:
            return TS_CFG_ATTR_DOUBLE;
        case TS_VAL_STR:
            return TS_CFG_ATTR_STRING;
        case TS_VAL_BOOL:
            return TS_CFG_ATTR_BOOL;
        case TS_VAL_NULL:
            break;
        }
    }
    return TS_CFG_ATTR_KEEP;
}

/* The type of a live layer's field no sensor has given a value yet: the feed's own text
 * fields are strings, `stale` a number, every other field a measured value (a number). */
static ts_cfg_attr_type
feed_field_type(const char *name)
{
    static const char *const text[] = {"id", "label", "state", "last_state", "time", "feed"};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (strcmp(name, text[i]) == 0)
            return TS_CFG_ATTR_STRING;
    return strcmp(name, "stale") == 0 ? TS_CFG_ATTR_INT : TS_CFG_ATTR_DOUBLE;
}

int
ts_service_mvt_fields(const ts_service *svc, const ts_tileset *ts, int layer,
                      char (*names)[TS_MVT_FIELD_MAX], ts_cfg_attr_type *types, int max)
{
    if (layer < 0 || layer >= ts->nlayers)
        return 0;
    ts_pipeline__hold *hold = NULL;
    const ts_render_layer *const *layers = ts_pipeline__tileset_layers(svc, ts, &hold);
    if (layers == NULL)
        return 0;
    const ts_render_layer *rl = layers[layer];
    const ts_cfg_layer *cl = ts_config_layer(ts_service_config(svc), rl->name);
    attr_plan *ap = malloc(sizeof *ap);
    int n = 0;
    if (ap != NULL) {
        plan_attrs(cl, rl->store, ap);
        for (int i = 0; i < ap->n && n < max; i++) {
            ts_cfg_attr_type t = ap->type[i];
            if (t == TS_CFG_ATTR_KEEP && ap->field[i] >= 0)
                t = store_field_type(rl->store, ap->field[i]);
            if (t == TS_CFG_ATTR_KEEP && cl != NULL && cl->feed != NULL)
                t = feed_field_type(ap->names[i]);
            snprintf(names[n], TS_MVT_FIELD_MAX, "%s", ap->names[i]);
            types[n++] = t;
        }
        free(ap);
    }
    ts_pipeline__hold_release(hold);
    return n;
}
