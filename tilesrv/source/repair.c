/* source/repair.c — the bridge between flat geometries and GEOS, and polygon repair:
 * a cheap test first (geom.c), GEOSisValid only where it cannot decide, GEOSMakeValid for
 * what is invalid, keeping the polygonal part. */
#include "source/source.h"
#include "source/source_int.h"

#include <stdlib.h>
#include <string.h>

static int
grow_ptrs(GEOSGeometry ***v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    GEOSGeometry **p = realloc(*v, c * sizeof *p);
    if (p == NULL)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

static void
destroy_all(GEOSContextHandle_t h, GEOSGeometry **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        GEOSGeom_destroy_r(h, v[i]);
}

/* A GEOS coordinate sequence of n points, closed (first point repeated) if close. */
static GEOSCoordSequence *
make_seq(ts_source_ctx *sc, const double *xy, uint32_t n, int close)
{
    if (!close)
        return GEOSCoordSeq_copyFromBuffer_r(sc->geos, xy, n, 0, 0);
    if (n + 1 > sc->ring_cap) {
        size_t c = sc->ring_cap ? sc->ring_cap : 256;
        while (c < (size_t)n + 1)
            c *= 2;
        double *r = realloc(sc->ring, c * 2 * sizeof *r);
        if (r == NULL)
            return NULL;
        sc->ring = r;
        sc->ring_cap = c;
    }
    memcpy(sc->ring, xy, (size_t)n * 2 * sizeof *xy);
    sc->ring[2 * n] = xy[0];
    sc->ring[2 * n + 1] = xy[1];
    return GEOSCoordSeq_copyFromBuffer_r(sc->geos, sc->ring, n + 1, 0, 0);
}

/* Close the polygon being assembled (shell + holes) into parts[*np]. 0 or -1. */
static int
finish_polygon(ts_source_ctx *sc, GEOSGeometry **shell, size_t *nh, size_t *np)
{
    if (*shell == NULL)
        return 0;
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(sc->geos, *shell, sc->holes, (unsigned)*nh);
    if (poly == NULL) {
        /* GEOS does not take ownership when it fails */
        GEOSGeom_destroy_r(sc->geos, *shell);
        destroy_all(sc->geos, sc->holes, *nh);
        *shell = NULL;
        *nh = 0;
        return -1;
    }
    sc->parts[(*np)++] = poly;
    *shell = NULL;
    *nh = 0;
    return 0;
}

GEOSGeometry *
ts_source__to_geos(ts_source_ctx *sc, ts_geom_kind kind, const double *xy, const uint32_t *counts,
                   size_t nparts, const uint8_t *hole)
{
    GEOSContextHandle_t h = sc->geos;
    if (nparts == 0 || grow_ptrs(&sc->parts, &sc->parts_cap, nparts) != 0 ||
        grow_ptrs(&sc->holes, &sc->holes_cap, nparts) != 0)
        return NULL;
    size_t np = 0, nh = 0, off = 0;
    GEOSGeometry *shell = NULL;
    for (size_t k = 0; k < nparts; off += counts[k], k++) {
        const double *p = xy + 2 * off;
        uint32_t n = counts[k];
        GEOSGeometry *g = NULL;
        if (kind == TS_GEOM_POINT) {
            g = GEOSGeom_createPointFromXY_r(h, p[0], p[1]);
        } else if (kind == TS_GEOM_LINE) {
            GEOSCoordSequence *s = make_seq(sc, p, n, 0);
            g = s != NULL ? GEOSGeom_createLineString_r(h, s) : NULL;
        } else {
            int is_hole = hole != NULL ? hole[k] : ts_geom_ring_area2(p, n) < 0;
            GEOSCoordSequence *s = make_seq(sc, p, n, 1);
            g = s != NULL ? GEOSGeom_createLinearRing_r(h, s) : NULL;
            if (g != NULL && is_hole && shell != NULL) {
                sc->holes[nh++] = g;
                continue;
            }
            if (g != NULL && finish_polygon(sc, &shell, &nh, &np) != 0) {
                GEOSGeom_destroy_r(h, g);
                g = NULL;
            }
            if (g != NULL) {
                shell = g;
                continue;
            }
        }
        if (g == NULL)
            goto fail;
        sc->parts[np++] = g;
    }
    if (finish_polygon(sc, &shell, &nh, &np) != 0)
        goto fail;
    if (np == 1)
        return sc->parts[0];
    int type = kind == TS_GEOM_POINT  ? GEOS_MULTIPOINT
               : kind == TS_GEOM_LINE ? GEOS_MULTILINESTRING
                                      : GEOS_MULTIPOLYGON;
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, type, sc->parts, (unsigned)np);
    if (coll == NULL)
        destroy_all(h, sc->parts, np);
    return coll;

fail:
    if (shell != NULL)
        GEOSGeom_destroy_r(h, shell);
    destroy_all(h, sc->holes, nh);
    destroy_all(h, sc->parts, np);
    return NULL;
}

/* Append the coordinates of a GEOS point sequence as one part. */
static int
add_seq(ts_source_ctx *sc, const GEOSGeometry *g, ts_flat *f, int hole)
{
    const GEOSCoordSequence *s = GEOSGeom_getCoordSeq_r(sc->geos, g);
    unsigned int n = 0;
    if (s == NULL || !GEOSCoordSeq_getSize_r(sc->geos, s, &n))
        return -1;
    if (n == 0)
        return 0;
    if (ts_source__flat_reserve(f, n, 1) != 0)
        return -1;
    if (!GEOSCoordSeq_copyToBuffer_r(sc->geos, s, f->xy + 2 * f->npts, 0, 0))
        return -1;
    f->npts += n;
    f->counts[f->nparts] = n;
    f->hole[f->nparts] = (uint8_t)hole;
    f->nparts++;
    return 0;
}

int
ts_source__from_geos(ts_source_ctx *sc, const GEOSGeometry *g, ts_geom_kind want, ts_flat *f)
{
    GEOSContextHandle_t h = sc->geos;
    int t = GEOSGeomTypeId_r(h, g);
    switch (t) {
    case GEOS_POINT:
        if (want != TS_GEOM_POINT || GEOSisEmpty_r(h, g))
            return 0;
        return add_seq(sc, g, f, 0);
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        if (want != TS_GEOM_LINE)
            return 0;
        return add_seq(sc, g, f, 0);
    case GEOS_POLYGON: {
        if (want != TS_GEOM_POLYGON || GEOSisEmpty_r(h, g))
            return 0;
        const GEOSGeometry *r = GEOSGetExteriorRing_r(h, g);
        if (r == NULL || add_seq(sc, r, f, 0) != 0)
            return -1;
        int nh = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; i < nh; i++) {
            r = GEOSGetInteriorRingN_r(h, g, i);
            if (r == NULL || add_seq(sc, r, f, 1) != 0)
                return -1;
        }
        return 0;
    }
    case GEOS_MULTIPOINT:
    case GEOS_MULTILINESTRING:
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION: {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *c = GEOSGetGeometryN_r(h, g, i);
            if (c == NULL || ts_source__from_geos(sc, c, want, f) != 0)
                return -1;
        }
        return 0;
    }
    default:
        return -1;
    }
}

/* GEOS MakeValid by its "structure" method: the union of the shells less the union of the
 * holes, each ring first noded into valid parts (a bow-tie is two triangles). Parts of a
 * multipolygon that overlap (a digitising error) become their union, as QGIS, MapServer
 * and GeoServer fill them; the "linework" method (GEOSMakeValid's default) keeps their
 * symmetric difference, a hole where the parts overlap. */
static GEOSGeometry *
make_valid(GEOSContextHandle_t h, const GEOSGeometry *g)
{
#if GEOS_VERSION_MAJOR > 3 || (GEOS_VERSION_MAJOR == 3 && GEOS_VERSION_MINOR >= 10)
    GEOSMakeValidParams *p = GEOSMakeValidParams_create_r(h);
    if (p == NULL)
        return NULL;
    GEOSGeometry *fixed = NULL;
    if (GEOSMakeValidParams_setMethod_r(h, p, GEOS_MAKE_VALID_STRUCTURE) &&
        GEOSMakeValidParams_setKeepCollapsed_r(h, p, 0))
        fixed = GEOSMakeValidWithParams_r(h, g, p);
    GEOSMakeValidParams_destroy_r(h, p);
    return fixed;
#else
    return GEOSMakeValid_r(h, g);
#endif
}

int
ts_source__polygon_fix(ts_source_ctx *sc, ts_flat *f, ts_flat *tmp)
{
    if (ts_source__flat_cheap_valid(f))
        return 0;
    /* MakeValid's output, once rounded back to doubles and cleaned, is nearly always
     * valid; it is checked again, and given one more pass when it is not */
    for (int pass = 0;; pass++) {
        GEOSGeometry *g =
            ts_source__to_geos(sc, TS_GEOM_POLYGON, f->xy, f->counts, f->nparts, f->hole);
        if (g == NULL)
            return -1;
        if (GEOSisValid_r(sc->geos, g) == 1) {
            GEOSGeom_destroy_r(sc->geos, g);
            return pass > 0;
        }
        if (pass == 2) {
            GEOSGeom_destroy_r(sc->geos, g);
            return -1;
        }
        GEOSGeometry *fixed = make_valid(sc->geos, g);
        GEOSGeom_destroy_r(sc->geos, g);
        if (fixed == NULL)
            return -1;
        ts_source__flat_reset(tmp, TS_GEOM_POLYGON);
        int rc = ts_source__from_geos(sc, fixed, TS_GEOM_POLYGON, tmp);
        GEOSGeom_destroy_r(sc->geos, fixed);
        int dropped;
        if (rc != 0 || ts_source__flat_clean(tmp, &dropped) == 0 || !ts_source__flat_sane(tmp))
            return -1;
        ts_flat t = *f;
        *f = *tmp;
        *tmp = t;
        if (ts_source__flat_cheap_valid(f))
            return 1;
    }
}
