/* feed/store.c — a snapshot as a feature store in any CRS, so sensor overlays are drawn
 * by the normal render path: one point per positioned sensor, attributes for styles and
 * feature info. Built with the source module's store builder and transform. */
#include "feed/feed_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grid/grid.h"

enum { F_ID, F_LABEL, F_STATE, F_LAST, F_STALE, F_TIME, F_FEED, F_FIXED };

static int
is_lonlat(const char *crs)
{
    const ts_crs *c = ts_grid_crs_find(crs);
    if (c != NULL)
        return c->epsg == 4326 || (c->epsg == 0 && c->geographic);
    return strcasecmp(crs, "EPSG:4326") == 0 || strcasecmp(crs, "OGC:CRS84") == 0 ||
           strcasecmp(crs, "CRS:84") == 0;
}

ts_status
ts_feed_snapshot_store(const ts_feed_snapshot *s, ts_source_ctx *sc, const char *dst_crs,
                       ts_store **out, uint32_t *skipped, ts_err *err)
{
    if (skipped != NULL)
        *skipped = 0;
    if (dst_crs == NULL || dst_crs[0] == '\0')
        return TS_FAIL(err, TS_EINVAL, "feed %s: no target CRS", s->feed);
    int nf = F_FIXED + s->nfields;
    const char **names = calloc((size_t)nf, sizeof *names);
    ts_value *vals = calloc((size_t)nf, sizeof *vals);
    double *xy = malloc(2 * (s->n ? s->n : 1) * sizeof *xy);
    uint32_t *idx = malloc((s->n ? s->n : 1) * sizeof *idx);
    ts_store_builder *b = NULL;
    ts_status rc = TS_OK;
    uint32_t nskip = 0;
    if (names == NULL || vals == NULL || xy == NULL || idx == NULL) {
        rc = TS_FAIL(err, TS_ENOMEM, "feed %s: store", s->feed);
        goto done;
    }
    static const char *const fixed[F_FIXED] = {"id",    "label", "state", "last_state",
                                               "stale", "time",  "feed"};
    for (int i = 0; i < F_FIXED; i++)
        names[i] = fixed[i];
    for (int i = 0; i < s->nfields; i++)
        names[F_FIXED + i] = s->fields[i];

    /* positions of the drawable sensors, in the CRS's area of use */
    const ts_crs *crs = ts_grid_crs_find(dst_crs);
    size_t n = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const ts_sensor *x = &s->recs[i]->s;
        if (!x->has_pos)
            continue;
        if (crs != NULL && (x->lon < crs->area_lonlat.minx || x->lon > crs->area_lonlat.maxx ||
                            x->lat < crs->area_lonlat.miny || x->lat > crs->area_lonlat.maxy)) {
            nskip++;
            continue;
        }
        xy[2 * n] = x->lon;
        xy[2 * n + 1] = x->lat;
        idx[n++] = i;
    }
    if (n > 0 && !is_lonlat(dst_crs)) {
        ts_err terr;
        ts_err_clear(&terr);
        ts_status tr = ts_source_transform(sc, "EPSG:4326", dst_crs, xy, n, &terr);
        if (tr != TS_OK) {
            /* points that cannot be transformed come back as HUGE_VAL; none at all means
             * the transformation itself failed (unknown CRS) */
            size_t ok = 0;
            for (size_t i = 0; i < n; i++)
                ok += isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]);
            if (ok == 0 || ok == n) {
                rc = TS_FAIL(err, TS_EINVAL, "feed %s: %s", s->feed, terr.msg);
                goto done;
            }
        }
    }
    b = ts_store_builder_new(s->feed, names, nf, err);
    if (b == NULL) {
        rc = TS_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(xy[2 * k]) || !isfinite(xy[2 * k + 1])) {
            nskip++;
            continue;
        }
        const ts_sensor *x = &s->recs[idx[k]]->s;
        char tbuf[40];
        for (int i = 0; i < nf; i++)
            vals[i].type = TS_VAL_NULL;
        vals[F_ID] = (ts_value){.type = TS_VAL_STR, .u.s = x->id};
        if (x->label)
            vals[F_LABEL] = (ts_value){.type = TS_VAL_STR, .u.s = x->label};
        if (x->state)
            vals[F_STATE] = (ts_value){.type = TS_VAL_STR, .u.s = x->state};
        if (x->last_state)
            vals[F_LAST] = (ts_value){.type = TS_VAL_STR, .u.s = x->last_state};
        vals[F_STALE] = (ts_value){.type = TS_VAL_INT, .u.i = x->stale};
        if (x->time_ms != TS_FEED_TIME_NONE)
            vals[F_TIME] = (ts_value){.type = TS_VAL_STR,
                                      .u.s = ts_feed_time_format(x->time_ms, tbuf, sizeof tbuf)};
        vals[F_FEED] = (ts_value){.type = TS_VAL_STR, .u.s = s->feed};
        for (uint32_t v = 0; v < x->nvalues; v++)
            for (int f = 0; f < s->nfields; f++)
                if (strcmp(s->fields[f], x->values[v].name) == 0)
                    vals[F_FIXED + f] = (ts_value){.type = TS_VAL_REAL, .u.d = x->values[v].v};
        uint32_t one = 1;
        rc = ts_store_builder_add(b, TS_GEOM_POINT, xy + 2 * k, &one, 1, vals, err);
        if (rc == TS_EINVAL) { /* |coordinate| > 1e15 after the transform */
            nskip++;
            rc = TS_OK;
            continue;
        }
        if (rc != TS_OK)
            goto done;
    }
    rc = ts_store_builder_finish(b, out, err);
    b = NULL;
done:
    ts_store_builder_free(b);
    free(names);
    free(vals);
    free(xy);
    free(idx);
    if (skipped != NULL)
        *skipped = nskip;
    return rc;
}
