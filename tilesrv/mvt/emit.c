/* mvt/emit.c — from map coordinates to the builder: the map → tile transformation, the
 * query box of a tile, and geometries as the feature store holds them (flat xy, counts per
 * part, ring roles by orientation). Takes plain arrays: mvt knows nothing of source/. */
#include "mvt/mvt.h"

#include <math.h>

#include "mvt/mvt_int.h"

ts_mvt_transform
ts_mvt_transform_for(const ts_bbox *tile_bbox, uint32_t extent)
{
    ts_mvt_transform t;
    t.ox = tile_bbox->minx;
    t.oy = tile_bbox->maxy;
    t.sx = (double)extent / (tile_bbox->maxx - tile_bbox->minx);
    t.sy = (double)extent / (tile_bbox->maxy - tile_bbox->miny);
    return t;
}

ts_bbox
ts_mvt_query_bbox(const ts_bbox *tile_bbox, uint32_t extent, uint32_t buffer)
{
    double fx = (double)buffer / (double)extent * (tile_bbox->maxx - tile_bbox->minx);
    double fy = (double)buffer / (double)extent * (tile_bbox->maxy - tile_bbox->miny);
    ts_bbox q = {tile_bbox->minx - fx, tile_bbox->miny - fy, tile_bbox->maxx + fx,
                 tile_bbox->maxy + fy};
    return q;
}

/* Twice the signed area of a ring in map space (positive = counter-clockwise, y up). */
static double
ring_area2(const double *xy, uint32_t n)
{
    double a = 0;
    if (n < 3)
        return 0;
    double x0 = xy[0], y0 = xy[1];
    for (uint32_t i = 1; i + 1 < n; i++)
        a += (xy[2 * i] - x0) * (xy[2 * i + 3] - y0) - (xy[2 * i + 2] - x0) * (xy[2 * i + 1] - y0);
    return a;
}

/* Transform n points into the builder's scratch. */
static ts_status
transform(ts_mvt_builder *b, const double *xy, uint32_t n, const ts_mvt_transform *t,
          const double **out, ts_err *err)
{
    ts_status st = ts_mvt__grow(&b->mem, (void **)&b->tx, &b->tx_cap, 2 * (size_t)n, sizeof *b->tx);
    if (st != TS_OK)
        return TS_FAIL(err, st, "transform scratch for %u vertices", n);
    for (uint32_t i = 0; i < n; i++) {
        b->tx[2 * i] = (xy[2 * i] - t->ox) * t->sx;
        b->tx[2 * i + 1] = (t->oy - xy[2 * i + 1]) * t->sy;
    }
    *out = b->tx;
    return TS_OK;
}

ts_status
ts_mvt_add_geom(ts_mvt_builder *b, ts_mvt_geom_type kind, const double *xy, const uint32_t *counts,
                uint32_t nparts, const ts_mvt_transform *t, ts_err *err)
{
    if (!b->f.open)
        return TS_FAIL(err, TS_EINVAL, "no open feature");
    if ((int)kind != (int)b->f.type) {
        ts_mvt_feature_rollback(b);
        return TS_FAIL(err, TS_EINVAL, "geometry kind %d for a feature of type %d", (int)kind,
                       (int)b->f.type);
    }
    double sign0 = 0;
    size_t off = 0;
    for (uint32_t i = 0; i < nparts; i++) {
        uint32_t n = counts[i];
        const double *p = xy + 2 * off;
        off += n;
        const double *tp = NULL;
        ts_status st = transform(b, p, n, t, &tp, err);
        if (st != TS_OK) {
            ts_mvt_feature_rollback(b);
            return st;
        }
        switch (kind) {
        case TS_MVT_POINT:
            st = ts_mvt_feature_points(b, tp, n, err);
            break;
        case TS_MVT_LINE:
            st = ts_mvt_feature_line(b, tp, n, err);
            break;
        case TS_MVT_POLYGON: {
            double a = ring_area2(p, n);
            int exterior = i == 0 || (a > 0) == (sign0 > 0);
            if (i == 0)
                sign0 = a;
            if (a == 0 && i > 0)
                exterior = 0;
            st = ts_mvt_feature_ring(b, tp, n, exterior, err);
            break;
        }
        }
        if (st != TS_OK)
            return st; /* the feature call rolled back */
    }
    return TS_OK;
}

ts_status
ts_mvt_add_feature(ts_mvt_builder *b, int layer, ts_mvt_geom_type kind, const double *xy,
                   const uint32_t *counts, uint32_t nparts, const ts_mvt_transform *t, int has_id,
                   uint64_t id, const char *const *keys, const ts_value *values, int nattrs,
                   int *kept, ts_err *err)
{
    if (kept)
        *kept = 0;
    if ((int)kind == 0)
        return TS_OK;
    ts_status st = ts_mvt_feature_begin(b, layer, kind, err);
    if (st != TS_OK)
        return st;
    /* geometry first: a feature clipped away costs no attribute work */
    if ((st = ts_mvt_add_geom(b, kind, xy, counts, nparts, t, err)) != TS_OK)
        return st;
    if (b->f.npts == 0) {
        ts_mvt_feature_rollback(b);
        b->empty++;
        return TS_OK;
    }
    if (has_id && (st = ts_mvt_feature_set_id(b, id, err)) != TS_OK)
        return st;
    for (int i = 0; i < nattrs; i++)
        if ((st = ts_mvt_feature_attr_value(b, keys[i], &values[i], err)) != TS_OK)
            return st;
    return ts_mvt_feature_commit(b, kept, err);
}
