/* source/coverage.c — the polygons of an OGR layer as flat rings in a target CRS, for
 * seeding and truncating by a coverage (ts_source_read_rings). No repair: the seeder's
 * intersection test works on raw rings, so self-intersecting input does no harm. */
#include "source/source.h"
#include "source/source_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

/* Append the rings of flat f (polygons, hole flags set) to out: closing points and
 * consecutive duplicates dropped, rings of fewer than 3 points left out. A ring that is not
 * a hole starts a new polygon. 0 or -1 (out of memory). */
static int
append_rings(ts_source_rings *out, size_t *cap_pts, uint32_t *cap_rings, const ts_flat *f)
{
    const double *p = f->xy;
    for (size_t r = 0; r < f->nparts; p += 2 * f->counts[r], r++) {
        uint32_t n = f->counts[r];
        if (out->npoints + n > *cap_pts) {
            size_t cap = *cap_pts ? *cap_pts : 1024;
            while (cap < out->npoints + n)
                cap *= 2;
            double *xy = realloc(out->xy, cap * 2 * sizeof *xy);
            if (xy == NULL)
                return -1;
            out->xy = xy;
            *cap_pts = cap;
        }
        if (out->nrings == *cap_rings) {
            uint32_t cap = *cap_rings ? *cap_rings * 2 : 64;
            uint32_t *c = realloc(out->counts, cap * sizeof *c);
            if (c == NULL)
                return -1;
            out->counts = c;
            uint32_t *pl = realloc(out->poly, cap * sizeof *pl);
            if (pl == NULL)
                return -1;
            out->poly = pl;
            *cap_rings = cap;
        }
        double *dst = out->xy + 2 * out->npoints;
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            double x = p[2 * i], y = p[2 * i + 1];
            if (k > 0 && dst[2 * (k - 1)] == x && dst[2 * (k - 1) + 1] == y)
                continue;
            dst[2 * k] = x;
            dst[2 * k + 1] = y;
            k++;
        }
        while (k > 1 && dst[0] == dst[2 * (k - 1)] && dst[1] == dst[2 * (k - 1) + 1])
            k--; /* the closing point */
        int hole = f->hole != NULL && f->hole[r];
        if (!hole || out->npolys == 0)
            out->npolys++;
        if (k < 3)
            continue;
        out->counts[out->nrings] = k;
        out->poly[out->nrings] = out->npolys - 1;
        out->nrings++;
        out->npoints += k;
    }
    return 0;
}

/* The operation from the layer's CRS (EPSG:4326 when it declares none) to dst; its name
 * for messages into label. */
static ts_status
layer_op(ts_source_ctx *sc, OGRLayerH ly, const char *path, const char *dst,
         const ts_pj_entry **op, char *label, size_t lsize, ts_err *err)
{
    const char *src = "EPSG:4326";
    snprintf(label, lsize, "EPSG:4326 (the layer declares no CRS)");
    char auth[96], *wkt = NULL;
    int swap = 0;
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(ly);
    if (srs != NULL) {
        const char *an = OSRGetAuthorityName(srs, NULL), *ac = OSRGetAuthorityCode(srs, NULL);
        if (an != NULL && ac != NULL) {
            snprintf(auth, sizeof auth, "%s:%s", an, ac);
            src = auth;
            snprintf(label, lsize, "%s", auth);
        } else {
            const char *opts[] = {"FORMAT=WKT2_2019", NULL};
            if (OSRExportToWktEx(srs, &wkt, opts) != OGRERR_NONE || wkt == NULL) {
                CPLFree(wkt);
                return TS_FAIL(err, TS_EINVAL, "coverage '%s': cannot read the layer's CRS", path);
            }
            src = wkt;
            const char *nm = OSRGetName(srs);
            snprintf(label, lsize, "'%s'", nm ? nm : "(unnamed CRS)");
        }
        /* OGR hands out x = easting unless the layer's axis mapping says otherwise */
        int cnt = 0;
        const int *map = OSRGetDataAxisToSRSAxisMapping(srs, &cnt);
        if (map != NULL && cnt >= 2) {
            int data_x_is_axis0 = (map[0] < 0 ? -map[0] : map[0]) == 1;
            swap = data_x_is_axis0 == ts_source__crs_north_first(sc, src);
        }
    }
    ts_err e2;
    ts_err_clear(&e2);
    ts_status rc = ts_source__op(sc, src, swap, dst, op, &e2);
    CPLFree(wkt);
    if (rc != TS_OK)
        return TS_FAIL(err, TS_EINVAL, "coverage '%s': %s", path, e2.msg);
    return TS_OK;
}

ts_status
ts_source_read_rings(ts_source_ctx *sc, const char *path, const char *layer, const char *dst_crs,
                     ts_source_rings *out, ts_err *err)
{
    memset(out, 0, sizeof *out);
    if (sc == NULL || path == NULL || dst_crs == NULL)
        return TS_FAIL(err, TS_EINVAL, "ts_source_read_rings: missing argument");
    ts_status rc = TS_OK;
    ts_flat f;
    memset(&f, 0, sizeof f);
    size_t cap_pts = 0;
    uint32_t cap_rings = 0;
    OGRFeatureH feat = NULL;
    ts_source__gdal_capture_begin(sc);
    CPLErrorReset();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 NULL, NULL, NULL);
    if (ds == NULL) {
        rc = TS_FAIL(err, TS_ENOENT, "coverage '%s': cannot open it as a vector file%s%s", path,
                     sc->gdal_msg[0] ? ": " : "", sc->gdal_msg);
        goto done;
    }
    OGRLayerH ly = layer != NULL                      ? GDALDatasetGetLayerByName(ds, layer)
                   : GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0)
                                                      : NULL;
    if (ly == NULL) {
        if (layer != NULL)
            rc = TS_FAIL(err, TS_ENOENT, "coverage '%s': no layer '%s'", path, layer);
        else
            rc = TS_FAIL(err, TS_ENOENT, "coverage '%s': no layers", path);
        goto done;
    }
    const ts_pj_entry *op;
    char src_label[128];
    if ((rc = layer_op(sc, ly, path, dst_crs, &op, src_label, sizeof src_label, err)) != TS_OK)
        goto done;
    OGR_L_ResetReading(ly);
    while ((feat = OGR_L_GetNextFeature(ly)) != NULL) {
        int g = ts_source__ogr_flat(OGR_F_GetGeometryRef(feat), &f);
        OGR_F_Destroy(feat);
        feat = NULL;
        if (g < 0) {
            rc = TS_FAIL(err, TS_ENOMEM, "coverage '%s'", path);
            goto done;
        }
        if (g == 0 || f.kind != TS_GEOM_POLYGON)
            continue;
        ts_source__op_apply(op, f.xy, f.npts);
        for (size_t i = 0; i < 2 * f.npts; i++)
            if (!isfinite(f.xy[i]) || fabs(f.xy[i]) > TS_SOURCE_COORD_LIMIT) {
                rc = TS_FAIL(err, TS_EINVAL,
                             "coverage '%s': polygon feature %llu has points that cannot be "
                             "transformed from %s into %s",
                             path, (unsigned long long)out->features + 1, src_label, dst_crs);
                goto done;
            }
        if (append_rings(out, &cap_pts, &cap_rings, &f) != 0) {
            rc = TS_FAIL(err, TS_ENOMEM, "coverage '%s'", path);
            goto done;
        }
        out->features++;
    }
    if (sc->gdal_failures > 0) {
        rc = TS_FAIL(err, TS_ESOURCE, "coverage '%s': reading failed: %s", path, sc->gdal_msg);
        goto done;
    }
    if (out->nrings == 0)
        rc = TS_FAIL(err, TS_EINVAL, "coverage '%s': no polygon in layer '%s'", path,
                     OGR_L_GetName(ly));
done:
    ts_source__flat_fini(&f);
    if (ds != NULL)
        GDALClose(ds);
    ts_source__gdal_capture_end(sc);
    if (rc != TS_OK)
        ts_source_rings_fini(out);
    return rc;
}

void
ts_source_rings_fini(ts_source_rings *r)
{
    if (r == NULL)
        return;
    free(r->xy);
    free(r->counts);
    free(r->poly);
    memset(r, 0, sizeof *r);
}
