/* tests/unit/test_source.c — OGR loading (GeoPackage, GeoJSON, Shapefile, FlatGeobuf),
 * reprojection, repair, ring orientation, attributes, the builder, the R-tree query
 * against brute force, generalisation and the error cases. Fixtures are written at test
 * time with the OGR C API into ts_test_tmpdir(). Reference coordinates come from
 * `cs2cs -f %.6f EPSG:25832 EPSG:3857` (PROJ 9.1). */
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "source/source.h"

/* ---- helpers ---- */

static ts_source_ctx *
ctx(void)
{
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    if (sc == NULL)
        ts_test_fail(__FILE__, __LINE__, "ts_source_ctx_new: %s", err.msg);
    return sc;
}

static const char *
tmp(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", ts_test_tmpdir(), name);
    return buf;
}

/* Fixtures are written with GDAL's messages silenced (some are garbage on purpose). */
static GDALDatasetH
new_ds(const char *driver, const char *path)
{
    GDALAllRegister();
    GDALDriverH d = GDALGetDriverByName(driver);
    if (d == NULL)
        return NULL;
    VSIUnlink(path);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALCreate(d, path, 0, 0, 0, GDT_Unknown, NULL);
    if (ds == NULL)
        CPLPopErrorHandler();
    return ds;
}

static void
close_ds(GDALDatasetH ds)
{
    GDALClose(ds);
    CPLPopErrorHandler();
}

static OGRLayerH
new_layer(GDALDatasetH ds, const char *name, const char *crs, OGRwkbGeometryType t)
{
    OGRSpatialReferenceH srs = NULL;
    if (crs != NULL) {
        srs = OSRNewSpatialReference(NULL);
        OSRSetFromUserInput(srs, crs);
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    OGRLayerH l = GDALDatasetCreateLayer(ds, name, srs, t, NULL);
    if (srs != NULL)
        OSRRelease(srs);
    return l;
}

/* The standard test schema: id (int), area (real), name (string), flag (int/boolean). */
static void
std_fields(OGRLayerH l)
{
    OGRFieldDefnH f = OGR_Fld_Create("id", OFTInteger);
    OGR_L_CreateField(l, f, 1);
    OGR_Fld_Destroy(f);
    f = OGR_Fld_Create("area", OFTReal);
    OGR_L_CreateField(l, f, 1);
    OGR_Fld_Destroy(f);
    f = OGR_Fld_Create("name", OFTString);
    OGR_L_CreateField(l, f, 1);
    OGR_Fld_Destroy(f);
    f = OGR_Fld_Create("flag", OFTInteger);
    OGR_Fld_SetSubType(f, OFSTBoolean);
    OGR_L_CreateField(l, f, 1);
    OGR_Fld_Destroy(f);
}

/* Add a feature with geometry g (taken; NULL = none) and the standard attributes:
 * id < 0 and name NULL leave those fields null; area NAN leaves it unset. */
static void
add_feat(OGRLayerH l, OGRGeometryH g, int id, double area, const char *name, int flag)
{
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    if (id >= 0)
        OGR_F_SetFieldInteger(f, 0, id);
    else
        OGR_F_SetFieldNull(f, 0);
    if (!isnan(area))
        OGR_F_SetFieldDouble(f, 1, area);
    if (name != NULL)
        OGR_F_SetFieldString(f, 2, name);
    else
        OGR_F_SetFieldNull(f, 2);
    OGR_F_SetFieldInteger(f, 3, flag);
    if (g != NULL)
        OGR_F_SetGeometryDirectly(f, g);
    if (OGR_L_CreateFeature(l, f) != OGRERR_NONE)
        ts_test_fail(__FILE__, __LINE__, "OGR_L_CreateFeature failed: %s", CPLGetLastErrorMsg());
    OGR_F_Destroy(f);
}

static OGRGeometryH
wkt(const char *text)
{
    char *p = (char *)text;
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkt(&p, NULL, &g) != OGRERR_NONE)
        ts_test_fail(__FILE__, __LINE__, "bad WKT %s", text);
    return g;
}

/* A polygon of one ring from n points (not closed unless the caller repeats the first). */
static OGRGeometryH
ring_poly(const double *xy, int n)
{
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (int i = 0; i < n; i++)
        OGR_G_AddPoint_2D(ring, xy[2 * i], xy[2 * i + 1]);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

static int
has_vertex(const ts_geom *g, double x, double y, double tol)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < g->nparts; k++)
        n += g->counts[k];
    for (uint32_t i = 0; i < n; i++)
        if (fabs(g->xy[2 * i] - x) <= tol && fabs(g->xy[2 * i + 1] - y) <= tol)
            return 1;
    return 0;
}

static double
area2(const double *xy, uint32_t n)
{
    double a = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = (i + 1) % n;
        a += (xy[2 * i] - xy[0]) * (xy[2 * j + 1] - xy[1]) -
             (xy[2 * j] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    }
    return a;
}

static uint32_t
total_points(const ts_geom *g)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < g->nparts; k++)
        n += g->counts[k];
    return n;
}

/* Every polygon of g (exterior + its holes) as an OGR polygon: valid per GEOS? Checks
 * orientation too: exteriors CCW, holes CW, first point not repeated. */
static int
polygon_ok(const ts_geom *g)
{
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon), poly = NULL;
    const double *p = g->xy;
    int ok = 1;
    for (uint32_t k = 0; k < g->nparts; k++) {
        uint32_t n = g->counts[k];
        double a = area2(p, n);
        if (n < 3 || (p[0] == p[2 * (n - 1)] && p[1] == p[2 * (n - 1) + 1]))
            ok = 0;
        if (a > 0) {
            if (poly != NULL)
                OGR_G_AddGeometryDirectly(mp, poly);
            poly = OGR_G_CreateGeometry(wkbPolygon);
        } else if (poly == NULL) {
            ok = 0; /* a hole first */
            poly = OGR_G_CreateGeometry(wkbPolygon);
        }
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        for (uint32_t i = 0; i <= n; i++)
            OGR_G_AddPoint_2D(ring, p[2 * (i % n)], p[2 * (i % n) + 1]);
        OGR_G_AddGeometryDirectly(poly, ring);
        p += 2 * n;
    }
    if (poly != NULL)
        OGR_G_AddGeometryDirectly(mp, poly);
    if (!OGR_G_IsValid(mp))
        ok = 0;
    OGR_G_DestroyGeometry(mp);
    return ok;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static double
urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* 3857 positions of the UTM 32N corners 345000/5680000 .. 345100/5680100 (cs2cs). */
static const double UTM_SQUARE_3857[4][2] = {
    {754632.269266, 6665683.658023}, /* 345000 5680000 */
    {754791.652535, 6665688.490040}, /* 345100 5680000 */
    {754786.834669, 6665848.295811}, /* 345100 5680100 */
    {754627.448298, 6665843.463545}, /* 345000 5680100 */
};

/* ---- reprojection ---- */

TS_TEST(source_transform_known_points)
{
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    double xy[4] = {345000, 5680000, 345100, 5680100};
    TS_REQUIRE(ts_source_transform(sc, "EPSG:25832", "EPSG:3857", xy, 2, &err) == TS_OK);
    TS_CHECK_NEAR(xy[0], UTM_SQUARE_3857[0][0], 1e-3);
    TS_CHECK_NEAR(xy[1], UTM_SQUARE_3857[0][1], 1e-3);
    TS_CHECK_NEAR(xy[2], UTM_SQUARE_3857[2][0], 1e-3);
    TS_CHECK_NEAR(xy[3], UTM_SQUARE_3857[2][1], 1e-3);

    /* EPSG:4326 is lat/lon by the authority; we take and give x = longitude */
    double ll[2] = {6.78, 51.22};
    TS_REQUIRE(ts_source_transform(sc, "EPSG:4326", "EPSG:3857", ll, 1, &err) == TS_OK);
    TS_CHECK_NEAR(ll[0], 754746.147578, 1e-3);
    TS_CHECK_NEAR(ll[1], 6660301.826442, 1e-3);
    TS_REQUIRE(ts_source_transform(sc, "EPSG:3857", "EPSG:4326", ll, 1, &err) == TS_OK);
    TS_CHECK_NEAR(ll[0], 6.78, 1e-9);
    TS_CHECK_NEAR(ll[1], 51.22, 1e-9);

    /* a PROJ string without +type=crs, and the identity */
    double p[2] = {345000, 5680000};
    TS_REQUIRE(ts_source_transform(sc, "+proj=utm +zone=32 +ellps=GRS80 +units=m +no_defs",
                                   "EPSG:3857", p, 1, &err) == TS_OK);
    TS_CHECK_NEAR(p[0], UTM_SQUARE_3857[0][0], 1e-3);
    TS_CHECK_NEAR(p[1], UTM_SQUARE_3857[0][1], 1e-3);
    double id[2] = {1.5, 2.5};
    TS_REQUIRE(ts_source_transform(sc, "EPSG:3857", "EPSG:3857", id, 1, &err) == TS_OK);
    TS_CHECK(id[0] == 1.5 && id[1] == 2.5);

    /* cached operations give the same answer again */
    double again[2] = {345000, 5680000};
    TS_REQUIRE(ts_source_transform(sc, "EPSG:25832", "EPSG:3857", again, 1, &err) == TS_OK);
    TS_CHECK_NEAR(again[0], UTM_SQUARE_3857[0][0], 1e-3);
    ts_source_ctx_free(sc);
}

TS_TEST(source_transform_errors)
{
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    double xy[2] = {1, 2};
    TS_CHECK(ts_source_transform(sc, "EPSG:999999", "EPSG:3857", xy, 1, &err) == TS_EINVAL);
    TS_CHECK(strstr(err.msg, "EPSG:999999") != NULL);
    TS_CHECK(ts_source_transform(sc, "EPSG:4326", "+proj=nonsense", xy, 1, &err) == TS_EINVAL);
    /* latitude beyond the pole: no answer */
    double pole[2] = {0, 95};
    TS_CHECK(ts_source_transform(sc, "EPSG:4326", "EPSG:3857", pole, 1, &err) == TS_EINVAL);
    ts_source_ctx_free(sc);
}

/* ---- GeoPackage: coordinates, orientation, attributes, garbage ---- */

static const char *
make_gpkg(char *path, size_t size)
{
    tmp("cadastre.gpkg", path, size);
    GDALDatasetH ds = new_ds("GPKG", path);
    if (ds == NULL)
        return NULL;
    OGRLayerH l = new_layer(ds, "parcels", "EPSG:25832", wkbUnknown);
    std_fields(l);
    /* 1: the UTM square, exterior clockwise, with a counter-clockwise hole */
    add_feat(l,
             wkt("POLYGON((345000 5680000,345000 5680100,345100 5680100,345100 5680000,"
                 "345000 5680000),(345040 5680040,345060 5680040,345060 5680060,"
                 "345040 5680060,345040 5680040))"),
             1, 1234.5, "residential", 1);
    /* 2: a bow-tie: repaired into two triangles */
    add_feat(l,
             wkt("POLYGON((345000 5680000,345100 5680100,345100 5680000,345000 5680100,"
                 "345000 5680000))"),
             2, 10, "commercial", 0);
    /* 3: a one-point ring: skipped */
    double one[2] = {345000, 5680000};
    add_feat(l, ring_poly(one, 1), 3, 0, "garbage", 0);
    /* 4: NaN coordinate: skipped */
    double nanring[8] = {345000, 5680000, NAN, 5680000, 345100, 5680100, 345000, 5680000};
    add_feat(l, ring_poly(nanring, 4), 4, 0, "garbage", 0);
    /* 5: huge coordinates: untransformable, skipped */
    double huge[8] = {1e300, 1e300, -1e300, 1e300, 0, -1e300, 1e300, 1e300};
    add_feat(l, ring_poly(huge, 4), 5, 0, "garbage", 0);
    /* 6: empty polygon, 7: no geometry: skipped */
    add_feat(l, OGR_G_CreateGeometry(wkbPolygon), 6, 0, "garbage", 0);
    add_feat(l, NULL, 7, 0, "garbage", 0);
    /* 8: an unclosed triangle (valid once closed), null name, null id, no area */
    double tri[6] = {345000, 5680000, 345100, 5680000, 345000, 5680100};
    add_feat(l, ring_poly(tri, 3), -1, NAN, NULL, 0);
    /* 9: a ring that goes back and forth: zero area, skipped */
    double back[6] = {345000, 5680000, 345100, 5680000, 345000, 5680000};
    add_feat(l, ring_poly(back, 3), 9, 0, "garbage", 0);
    /* 10: a multipolygon with one good and one degenerate part: kept, repaired */
    add_feat(l,
             wkt("MULTIPOLYGON(((345000 5680000,345100 5680000,345100 5680100,345000 5680000)),"
                 "((345200 5680000,345200 5680000,345200 5680000,345200 5680000)))"),
             10, 5, "residential", 1);
    /* 11: a self-touching spike: repaired */
    add_feat(l,
             wkt("POLYGON((345000 5680000,345100 5680000,345100 5680100,345100 5680200,"
                 "345100 5680100,345000 5680100,345000 5680000))"),
             11, 5, "residential", 0);
    /* a second layer in EPSG:4326 (authority lat/lon; GeoPackage stores lon/lat) */
    OGRLayerH l2 = new_layer(ds, "stations", "EPSG:4326", wkbPoint);
    std_fields(l2);
    add_feat(l2, wkt("POINT(6.78 51.22)"), 1, 0, "a", 0);
    add_feat(l2, wkt("POINT(6.5 51.0)"), 2, 0, "b", 0);
    close_ds(ds);
    return path;
}

TS_TEST(source_load_gpkg)
{
    char path[512];
    TS_REQUIRE(make_gpkg(path, sizeof path) != NULL);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store_def def = {
        .name = "parcels", .path = path, .layer = "parcels", .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    const ts_store_stats *st = ts_store_stats_get(s);
    TS_CHECK_INT(st->read, 11);
    TS_CHECK_INT(st->kept, 5);
    TS_CHECK_INT(st->skipped, 6);
    TS_CHECK_INT(st->repaired, 3);
    TS_CHECK_INT(ts_store_count(s), 5);
    TS_CHECK(st->bytes > 0);
    TS_CHECK(st->load_s > 0);

    /* fields in layer order */
    TS_REQUIRE(ts_store_nfields(s) == 4);
    TS_CHECK_STR(ts_store_field_name(s, 0), "id");
    TS_CHECK_STR(ts_store_field_name(s, 2), "name");
    TS_CHECK_INT(ts_store_field_index(s, "area"), 1);
    TS_CHECK_INT(ts_store_field_index(s, "nope"), -1);
    int fid = ts_store_field_index(s, "id"), fname = ts_store_field_index(s, "name");
    int farea = ts_store_field_index(s, "area"), fflag = ts_store_field_index(s, "flag");

    /* feature 0: the square, reprojected, exterior CCW then the hole CW */
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POLYGON);
    TS_REQUIRE(g.nparts == 2);
    TS_CHECK_INT(g.counts[0], 4);
    TS_CHECK_INT(g.counts[1], 4);
    TS_CHECK(area2(g.xy, g.counts[0]) > 0);
    TS_CHECK(area2(g.xy + 2 * g.counts[0], g.counts[1]) < 0);
    for (int i = 0; i < 4; i++)
        TS_CHECK(has_vertex(&g, UTM_SQUARE_3857[i][0], UTM_SQUARE_3857[i][1], 1e-3));
    ts_bbox bb = ts_store_feature_bbox(s, 0);
    TS_CHECK_NEAR(bb.minx, UTM_SQUARE_3857[3][0], 1e-3);
    TS_CHECK_NEAR(bb.maxy, UTM_SQUARE_3857[2][1], 1e-3);
    TS_CHECK(polygon_ok(&g));

    /* attributes: int, real, string, boolean */
    TS_CHECK(ts_store_value(s, 0, fid)->type == TS_VAL_INT);
    TS_CHECK_INT(ts_store_value(s, 0, fid)->u.i, 1);
    TS_CHECK(ts_store_value(s, 0, farea)->type == TS_VAL_REAL);
    TS_CHECK_NEAR(ts_store_value(s, 0, farea)->u.d, 1234.5, 0);
    TS_CHECK(ts_store_value(s, 0, fname)->type == TS_VAL_STR);
    TS_CHECK_STR(ts_store_value(s, 0, fname)->u.s, "residential");
    TS_CHECK(ts_store_value(s, 0, fflag)->type == TS_VAL_BOOL);
    TS_CHECK_INT(ts_store_value(s, 0, fflag)->u.i, 1);

    /* feature 1: the bow-tie, now two CCW triangles meeting at the centre */
    ts_store_geom(s, 0, 1, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(g.nparts, 2);
    TS_CHECK_INT(total_points(&g), 6);
    TS_CHECK(area2(g.xy, g.counts[0]) > 0);
    TS_CHECK(polygon_ok(&g));

    /* feature 2: the unclosed triangle, with nulls */
    ts_store_geom(s, 0, 2, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(g.nparts, 1);
    TS_CHECK_INT(g.counts[0], 3);
    TS_CHECK(area2(g.xy, 3) > 0);
    TS_CHECK(ts_store_value(s, 2, fid)->type == TS_VAL_NULL);
    TS_CHECK(ts_store_value(s, 2, farea)->type == TS_VAL_NULL);
    TS_CHECK(ts_store_value(s, 2, fname)->type == TS_VAL_NULL);
    TS_CHECK_INT(ts_store_value(s, 2, fflag)->u.i, 0);

    /* feature 3: the multipolygon kept its good part; the string is interned */
    ts_store_geom(s, 0, 3, &g);
    TS_CHECK_INT(g.nparts, 1);
    TS_CHECK_INT(ts_store_value(s, 3, fid)->u.i, 10);
    TS_CHECK(ts_store_value(s, 3, fname)->u.s == ts_store_value(s, 0, fname)->u.s);

    /* feature 4: the spike, repaired into the valid square */
    ts_store_geom(s, 0, 4, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POLYGON);
    TS_CHECK(polygon_ok(&g));
    TS_CHECK(ts_store_feature_bbox(s, 4).maxy < UTM_SQUARE_3857[2][1] + 1);

    ts_bbox e = ts_store_extent(s);
    TS_CHECK_NEAR(e.minx, UTM_SQUARE_3857[3][0], 1e-3);
    TS_CHECK_NEAR(e.miny, UTM_SQUARE_3857[0][1], 1e-3);
    TS_CHECK_NEAR(e.maxx, UTM_SQUARE_3857[1][0], 1e-3);

    /* refcount: the store lives while referenced */
    ts_store *s2 = ts_store_ref(s);
    TS_CHECK(s2 == s);
    ts_store_unref(s);
    TS_CHECK_INT(ts_store_count(s2), 5);
    ts_store_unref(s2);

    /* the lat/lon layer: x = longitude after the load, as cs2cs gives it */
    def = (ts_store_def){.path = path, .layer = "stations", .dst_crs = "EPSG:3857"};
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 2);
    ts_store_geom(s, 0, 0, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POINT && g.nparts == 1 && g.counts[0] == 1);
    TS_CHECK_NEAR(g.xy[0], 754746.147578, 1e-3);
    TS_CHECK_NEAR(g.xy[1], 6660301.826442, 1e-3);
    ts_store_geom(s, 0, 1, &g);
    TS_CHECK_NEAR(g.xy[0], 723576.690156, 1e-3);
    TS_CHECK_NEAR(g.xy[1], 6621293.722740, 1e-3);
    ts_store_unref(s);

    /* where filter and a field subset; first layer when none is named */
    const char *fields[] = {"name", NULL};
    def =
        (ts_store_def){.path = path, .where = "id >= 10", .fields = fields, .dst_crs = "EPSG:3857"};
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_CHECK_INT(ts_store_count(s), 2);
    TS_CHECK_INT(ts_store_nfields(s), 1);
    TS_CHECK_STR(ts_store_value(s, 0, 0)->u.s, "residential");
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- GeoJSON: points, multipoints, collections, Z, nulls ---- */

TS_TEST(source_load_geojson)
{
    char path[512];
    tmp("points.geojson", path, sizeof path);
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f != NULL);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[\n"
          "{\"type\":\"Feature\",\"properties\":{\"kind\":\"pt\",\"n\":1,\"v\":0.5},"
          "\"geometry\":{\"type\":\"Point\",\"coordinates\":[6.78,51.22]}},\n"
          "{\"type\":\"Feature\",\"properties\":{\"kind\":\"mpt\",\"n\":2,\"v\":1.5},"
          "\"geometry\":{\"type\":\"MultiPoint\",\"coordinates\":[[6.5,51.0],[6.78,51.22]]}},\n"
          "{\"type\":\"Feature\",\"properties\":{\"kind\":\"gc\",\"n\":3,\"v\":2.5},"
          "\"geometry\":{\"type\":\"GeometryCollection\",\"geometries\":["
          "{\"type\":\"Point\",\"coordinates\":[6.5,51.0]},"
          "{\"type\":\"LineString\",\"coordinates\":[[6.5,51.0],[6.78,51.22]]},"
          "{\"type\":\"LineString\",\"coordinates\":[[6.6,51.1],[6.7,51.1],[6.7,51.1]]}]}},\n"
          "{\"type\":\"Feature\",\"properties\":{\"kind\":\"pz\",\"n\":null,\"v\":null},"
          "\"geometry\":{\"type\":\"Point\",\"coordinates\":[6.78,51.22,100.0]}},\n"
          "{\"type\":\"Feature\",\"properties\":{\"kind\":\"none\",\"n\":5,\"v\":0},"
          "\"geometry\":null}\n"
          "]}\n",
          f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store_def def = {.name = "pts", .path = path, .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    const ts_store_stats *st = ts_store_stats_get(s);
    TS_CHECK_INT(st->read, 5);
    TS_CHECK_INT(st->kept, 5); /* the collection is a line and a point feature */
    TS_CHECK_INT(st->skipped, 1);
    TS_REQUIRE(ts_store_count(s) == 5);
    int fk = ts_store_field_index(s, "kind"), fn = ts_store_field_index(s, "n");
    int fv = ts_store_field_index(s, "v");
    TS_REQUIRE(fk >= 0 && fn >= 0 && fv >= 0);

    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_POINT);
    TS_CHECK_INT(g.nparts, 1);
    TS_CHECK_NEAR(g.xy[0], 754746.147578, 1e-3);
    TS_CHECK_NEAR(g.xy[1], 6660301.826442, 1e-3);
    TS_CHECK_STR(ts_store_value(s, 0, fk)->u.s, "pt");
    TS_CHECK_INT(ts_store_value(s, 0, fn)->u.i, 1);
    TS_CHECK_NEAR(ts_store_value(s, 0, fv)->u.d, 0.5, 0);

    ts_store_geom(s, 0, 1, &g);
    TS_CHECK(g.kind == TS_GEOM_POINT);
    TS_REQUIRE(g.nparts == 2);
    TS_CHECK(g.counts[0] == 1 && g.counts[1] == 1);
    TS_CHECK_NEAR(g.xy[0], 723576.690156, 1e-3);
    TS_CHECK_NEAR(g.xy[3], 6660301.826442, 1e-3);

    /* the collection: its lines first (the degenerate one is dropped), then its point, with
     * the same attributes */
    ts_store_geom(s, 0, 2, &g);
    TS_CHECK(g.kind == TS_GEOM_LINE);
    TS_CHECK_INT(g.nparts, 2);
    TS_CHECK_INT(g.counts[0], 2);
    TS_CHECK_INT(g.counts[1], 2);
    ts_store_geom(s, 0, 3, &g);
    TS_CHECK(g.kind == TS_GEOM_POINT);
    TS_CHECK_INT(g.nparts, 1);
    TS_CHECK_NEAR(g.xy[0], 723576.690156, 1e-3);
    TS_CHECK_STR(ts_store_value(s, 3, fk)->u.s, "gc");
    TS_CHECK_INT(ts_store_value(s, 3, fn)->u.i, 3);

    /* Z is dropped; null properties are null */
    ts_store_geom(s, 0, 4, &g);
    TS_CHECK(g.kind == TS_GEOM_POINT);
    TS_CHECK_NEAR(g.xy[0], 754746.147578, 1e-3);
    TS_CHECK(ts_store_value(s, 4, fn)->type == TS_VAL_NULL);
    TS_CHECK(ts_store_value(s, 4, fv)->type == TS_VAL_NULL);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- Shapefile (lines) and FlatGeobuf (polygons); a custom WKT CRS ---- */

static const char *CUSTOM_UTM_WKT =
    "PROJCS[\"my transverse mercator\","
    "GEOGCS[\"my GRS80\",DATUM[\"my datum\",SPHEROID[\"GRS 1980\",6378137,298.257222101],"
    "TOWGS84[0,0,0,0,0,0,0]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
    "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
    "PARAMETER[\"central_meridian\",9],PARAMETER[\"scale_factor\",0.9996],"
    "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]";

/* Parts of a multipolygon that overlap (a digitising error) are repaired into their union,
 * as QGIS, MapServer and GeoServer fill them, not into their symmetric difference (GEOS's
 * default "linework" method: a hole where they overlap); a hole inside a hole stays a hole
 * (the union of the holes is taken out). Coordinates in a metric CRS, so areas are exact. */
TS_TEST(source_overlapping_parts_are_repaired_into_their_union)
{
    char path[512];
    tmp("overlap.geojson", path, sizeof path);
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f != NULL);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[\n"
          "{\"type\":\"Feature\",\"properties\":{\"k\":\"overlap\"},\"geometry\":{\"type\":"
          "\"MultiPolygon\",\"coordinates\":[[[[345000,5680000],[345020,5680000],"
          "[345020,5680020],[345000,5680020],[345000,5680000]]],[[[345010,5680010],"
          "[345030,5680010],[345030,5680030],[345010,5680030],[345010,5680010]]]]}},\n"
          "{\"type\":\"Feature\",\"properties\":{\"k\":\"nested\"},\"geometry\":{\"type\":"
          "\"Polygon\",\"coordinates\":[[[345100,5680000],[345110,5680000],[345110,5680010],"
          "[345100,5680010],[345100,5680000]],[[345102,5680002],[345108,5680002],"
          "[345108,5680008],[345102,5680008],[345102,5680002]],[[345104,5680004],"
          "[345106,5680004],[345106,5680006],[345104,5680006],[345104,5680004]]]}}\n"
          "]}\n",
          f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store_def def = {
        .name = "ov", .path = path, .src_crs = "EPSG:25832", .dst_crs = "EPSG:25832"};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    const ts_store_stats *st = ts_store_stats_get(s);
    TS_CHECK_INT(st->kept, 2);
    TS_CHECK_INT(st->repaired, 2);
    TS_REQUIRE(ts_store_count(s) == 2);
    double want[2] = {700, 64}; /* 400 + 400 - 100; 100 - 36 */
    for (uint32_t k = 0; k < 2; k++) {
        ts_geom g;
        ts_store_geom(s, 0, k, &g);
        TS_REQUIRE(g.kind == TS_GEOM_POLYGON);
        TS_CHECK(polygon_ok(&g));
        double a = 0;
        const double *xy = g.xy;
        for (uint32_t i = 0; i < g.nparts; i++) {
            a += area2(xy, g.counts[i]) / 2;
            xy += 2 * (size_t)g.counts[i];
        }
        TS_CHECK_NEAR(a, want[k], 1e-6);
    }
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* A bow-tie whose two lobes cancel exactly (symmetric in lon/lat, still mirror images in
 * Web Mercator): zero net area but no collapse, so it is repaired into two triangles, not
 * dropped as degenerate; a ring that only goes back and forth is still dropped. */
TS_TEST(source_symmetric_bowtie_is_repaired_not_dropped)
{
    char path[512];
    tmp("bowtie.geojson", path, sizeof path);
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f != NULL);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[\n"
          "{\"type\":\"Feature\",\"properties\":{\"k\":\"bowtie\"},\"geometry\":{\"type\":"
          "\"Polygon\",\"coordinates\":[[[6.7735,51.23],[6.7745,51.2306],[6.7745,51.23],"
          "[6.7735,51.2306],[6.7735,51.23]]]}},\n"
          "{\"type\":\"Feature\",\"properties\":{\"k\":\"flat\"},\"geometry\":{\"type\":"
          "\"Polygon\",\"coordinates\":[[[6.77,51.23],[6.77,51.25],[6.77,51.24],[6.77,51.23]]]}}\n"
          "]}\n",
          f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store_def def = {.name = "bt", .path = path, .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    const ts_store_stats *st = ts_store_stats_get(s);
    TS_CHECK_INT(st->read, 2);
    TS_CHECK_INT(st->kept, 1);
    TS_CHECK_INT(st->repaired, 1);
    TS_CHECK_INT(st->skipped, 1);
    TS_REQUIRE(ts_store_count(s) == 1);
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(g.nparts, 2); /* the two triangles */
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

TS_TEST(source_load_shapefile_and_flatgeobuf)
{
    char shp[512], fgb[512], bare[512];
    tmp("streets.shp", shp, sizeof shp);
    GDALDatasetH ds = new_ds("ESRI Shapefile", shp);
    TS_REQUIRE(ds != NULL);
    OGRLayerH l = new_layer(ds, "streets", "EPSG:25832", wkbLineString);
    std_fields(l);
    add_feat(l, wkt("LINESTRING(345000 5680000,345100 5680000,345100 5680000,345100 5680100)"), 1,
             1, "primary", 0);
    add_feat(l,
             wkt("MULTILINESTRING((345000 5680000,345000 5680100),(345100 5680100,"
                 "345000 5680100))"),
             2, 2, "residential", 1);
    close_ds(ds);

    tmp("blocks.fgb", fgb, sizeof fgb);
    ds = new_ds("FlatGeobuf", fgb);
    TS_REQUIRE(ds != NULL);
    l = new_layer(ds, "blocks", "EPSG:25832", wkbPolygon);
    std_fields(l);
    add_feat(l,
             wkt("POLYGON((345000 5680000,345100 5680000,345100 5680100,345000 5680100,"
                 "345000 5680000))"),
             1, 1, "a", 0);
    close_ds(ds);

    /* a Shapefile without .prj: needs src_crs */
    tmp("bare.shp", bare, sizeof bare);
    ds = new_ds("ESRI Shapefile", bare);
    TS_REQUIRE(ds != NULL);
    l = new_layer(ds, "bare", NULL, wkbPoint);
    std_fields(l);
    add_feat(l, wkt("POINT(345100 5680100)"), 1, 1, "x", 0);
    close_ds(ds);

    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store *s = NULL;
    ts_store_def def = {.name = "streets", .path = shp, .dst_crs = "EPSG:3857"};
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 2);
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_LINE);
    TS_CHECK_INT(g.nparts, 1);
    TS_REQUIRE(g.counts[0] == 3); /* the repeated vertex is gone */
    TS_CHECK_NEAR(g.xy[0], UTM_SQUARE_3857[0][0], 1e-3);
    TS_CHECK_NEAR(g.xy[5], UTM_SQUARE_3857[2][1], 1e-3);
    ts_store_geom(s, 0, 1, &g);
    TS_CHECK(g.kind == TS_GEOM_LINE);
    TS_CHECK_INT(g.nparts, 2);
    TS_CHECK_STR(ts_store_value(s, 1, ts_store_field_index(s, "name"))->u.s, "residential");
    ts_store_unref(s);

    def = (ts_store_def){.name = "blocks", .path = fgb, .dst_crs = "EPSG:3857"};
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 1);
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(g.counts[0], 4);
    TS_CHECK(area2(g.xy, 4) > 0); /* given clockwise, stored counter-clockwise */
    for (int i = 0; i < 4; i++)
        TS_CHECK(has_vertex(&g, UTM_SQUARE_3857[i][0], UTM_SQUARE_3857[i][1], 1e-3));
    ts_store_unref(s);

    def = (ts_store_def){.name = "bare", .path = bare, .dst_crs = "EPSG:3857"};
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(s == NULL);
    TS_CHECK(strstr(err.msg, "no CRS") != NULL);
    def.src_crs = CUSTOM_UTM_WKT;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK_NEAR(g.xy[0], UTM_SQUARE_3857[2][0], 1e-3);
    TS_CHECK_NEAR(g.xy[1], UTM_SQUARE_3857[2][1], 1e-3);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- curves, Z/M, big rings ---- */

TS_TEST(source_load_curves_and_big_rings)
{
    char path[512];
    tmp("curves.gpkg", path, sizeof path);
    GDALDatasetH ds = new_ds("GPKG", path);
    TS_REQUIRE(ds != NULL);
    OGRLayerH l = new_layer(ds, "c", "EPSG:25832", wkbUnknown);
    std_fields(l);
    add_feat(l,
             wkt("CURVEPOLYGON(CIRCULARSTRING(345000 5680000,345100 5680100,345200 5680000,"
                 "345100 5679900,345000 5680000))"),
             1, 0, "circle", 0);
    add_feat(l,
             wkt("COMPOUNDCURVE((345000 5680000,345100 5680000),CIRCULARSTRING(345100 5680000,"
                 "345150 5680050,345200 5680000))"),
             2, 0, "arc", 0);
    add_feat(l, wkt("LINESTRING ZM (345000 5680000 1 2,345100 5680000 3 4)"), 3, 0, "zm", 0);
    /* a valid 200-vertex star: too big for the cheap test, GEOS says valid: not repaired */
    double star[400];
    for (int i = 0; i < 200; i++) {
        double a = 2 * M_PI * i / 200, r = i % 2 ? 50 : 100;
        star[2 * i] = 345500 + r * cos(a);
        star[2 * i + 1] = 5680500 + r * sin(a);
    }
    add_feat(l, ring_poly(star, 200), 4, 0, "star", 0);
    close_ds(ds);

    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store *s = NULL;
    ts_store_def def = {.path = path, .dst_crs = "EPSG:3857"};
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 4);
    TS_CHECK_INT(ts_store_stats_get(s)->repaired, 0);
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_POLYGON);
    TS_CHECK(g.counts[0] > 16);
    TS_CHECK(area2(g.xy, g.counts[0]) > 0);
    TS_CHECK(polygon_ok(&g));
    ts_store_geom(s, 0, 1, &g);
    TS_CHECK(g.kind == TS_GEOM_LINE);
    TS_CHECK(g.counts[0] > 4);
    ts_store_geom(s, 0, 2, &g);
    TS_CHECK(g.kind == TS_GEOM_LINE);
    TS_CHECK_INT(g.counts[0], 2);
    TS_CHECK_NEAR(g.xy[0], UTM_SQUARE_3857[0][0], 1e-3);
    ts_store_geom(s, 0, 3, &g);
    TS_CHECK(g.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(g.counts[0], 200);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- random garbage polygons: whatever comes out is valid ---- */

TS_TEST(source_random_polygons_come_out_valid)
{
    char path[512];
    tmp("random.gpkg", path, sizeof path);
    GDALDatasetH ds = new_ds("GPKG", path);
    TS_REQUIRE(ds != NULL);
    OGRLayerH l = new_layer(ds, "r", "EPSG:3857", wkbPolygon);
    std_fields(l);
    const int n = 400;
    for (int i = 0; i < n; i++) {
        int nv = 3 + (int)(urand() * 10);
        double xy[2 * 16];
        for (int k = 0; k < nv; k++) {
            /* on a coarse grid half of the time: touching and collinear cases abound */
            double x = urand() * 10, y = urand() * 10;
            if (i % 2 == 0) {
                x = floor(x / 2) * 2;
                y = floor(y / 2) * 2;
            }
            xy[2 * k] = 1000 * (i % 20) + x;
            xy[2 * k + 1] = 1000 * (i / 20) + y;
        }
        if (i % 3 == 0) { /* closed */
            xy[2 * nv] = xy[0];
            xy[2 * nv + 1] = xy[1];
            nv++;
        }
        add_feat(l, ring_poly(xy, nv), i, 0, "r", 0);
    }
    close_ds(ds);

    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store_def def = {.path = path, .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    const ts_store_stats *st = ts_store_stats_get(s);
    TS_CHECK_INT(st->read, n);
    TS_CHECK_INT(st->kept + st->skipped, n);
    TS_CHECK(st->repaired > 0);
    TS_CHECK(st->kept > (uint64_t)n / 2);
    int bad = 0;
    for (uint32_t i = 0; i < ts_store_count(s); i++) {
        ts_geom g;
        ts_store_geom(s, 0, i, &g);
        if (g.kind != TS_GEOM_POLYGON || !polygon_ok(&g)) {
            bad++;
            if (getenv("DEBUG_SRC")) {
                const double *p = g.xy;
                for (uint32_t k = 0; k < g.nparts; k++) {
                    fprintf(stderr, "ring %u (area2 %g):", k, area2(p, g.counts[k]));
                    for (uint32_t j = 0; j < g.counts[k]; j++)
                        fprintf(stderr, " %.17g %.17g,", p[2 * j], p[2 * j + 1]);
                    fprintf(stderr, "\n");
                    p += 2 * g.counts[k];
                }
            }
        }
    }
    TS_CHECK_INT(bad, 0);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- errors ---- */

TS_TEST(source_load_errors)
{
    char good[512], bad[512], missing[512];
    TS_REQUIRE(make_gpkg(good, sizeof good) != NULL);
    tmp("corrupt.gpkg", bad, sizeof bad);
    FILE *f = fopen(bad, "wb");
    TS_REQUIRE(f != NULL);
    for (int i = 0; i < 4096; i++)
        fputc((i * 7919 + 13) & 255, f);
    fclose(f);
    tmp("does-not-exist.gpkg", missing, sizeof missing);

    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_store *s = (ts_store *)&err; /* must come back NULL */
    ts_store_def def = {.name = "lyr", .path = missing, .dst_crs = "EPSG:3857"};
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(s == NULL);
    TS_CHECK(strstr(err.msg, missing) != NULL);

    def.path = bad;
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(s == NULL);
    TS_CHECK(strstr(err.msg, bad) != NULL);

    def.path = good;
    def.layer = "no_such_layer";
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(strstr(err.msg, "no_such_layer") != NULL);
    TS_CHECK(strstr(err.msg, good) != NULL);

    const char *fields[] = {"name", "no_such_field", NULL};
    def.layer = "parcels";
    def.fields = fields;
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(strstr(err.msg, "no_such_field") != NULL);
    TS_CHECK(strstr(err.msg, "parcels") != NULL);
    /* asked to skip what the layer lacks: loads with the fields that exist, once each */
    const char *fields2[] = {"name", "no_such_field", "name", NULL};
    def.fields = fields2;
    def.skip_missing_fields = 1;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_CHECK_INT(ts_store_nfields(s), 1);
    TS_CHECK_STR(ts_store_field_name(s, 0), "name");
    TS_CHECK_INT(ts_store_field_index(s, "no_such_field"), -1);
    ts_store_unref(s);
    def.skip_missing_fields = 0;
    def.fields = NULL;

    def.dst_crs = "EPSG:999999";
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(strstr(err.msg, "EPSG:999999") != NULL);
    TS_CHECK(strstr(err.msg, "parcels") != NULL);
    def.dst_crs = "EPSG:3857";
    def.src_crs = "+proj=nonsense";
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    def.src_crs = NULL;

    def.where = "no_such_column = 3";
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    def.where = NULL;

    double bad_tol[2] = {10, 5};
    def.tolerances = bad_tol;
    def.ntolerances = 2;
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_EINVAL);
    def.ntolerances = 0;

    TS_CHECK(s == NULL);
    /* and the context still works */
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_OK);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- the builder ---- */

TS_TEST(source_builder)
{
    ts_err err;
    ts_err_clear(&err);
    const char *names[] = {"class", "n", "w", "ok"};
    ts_store_builder *b = ts_store_builder_new("feed", names, 4, &err);
    TS_REQUIRE(b != NULL);
    char cls[32];
    snprintf(cls, sizeof cls, "residential");
    ts_value v[4] = {{.type = TS_VAL_STR, .u.s = cls},
                     {.type = TS_VAL_INT, .u.i = -7},
                     {.type = TS_VAL_REAL, .u.d = 2.25},
                     {.type = TS_VAL_BOOL, .u.i = 1}};
    /* polygon: clockwise exterior with a closing point and a duplicate, then a
     * counter-clockwise hole; then a second exterior outside the first */
    double poly[] = {0,  0, 0,  10, 0,  10, 10, 10, 10, 0, 0, 0, /* exterior, CW, closed */
                     2,  2, 4,  2,  4,  4,  2,  4,               /* hole, CCW */
                     20, 0, 20, 5,  25, 5,  25, 0};              /* exterior, CW */
    uint32_t pc[] = {6, 4, 4};
    TS_REQUIRE(ts_store_builder_add(b, TS_GEOM_POLYGON, poly, pc, 3, v, &err) == TS_OK);
    /* a line and points; the class string is a fresh buffer holding the same text */
    char cls2[32];
    snprintf(cls2, sizeof cls2, "residential");
    v[0].u.s = cls2;
    double line[] = {0, 0, 5, 5, 5, 5, 9, 1};
    uint32_t lc[] = {4};
    TS_REQUIRE(ts_store_builder_add(b, TS_GEOM_LINE, line, lc, 1, v, &err) == TS_OK);
    double pts[] = {1, 1, 2, 2, 3, 3};
    uint32_t ptc[] = {1, 2};
    TS_REQUIRE(ts_store_builder_add(b, TS_GEOM_POINT, pts, ptc, 2, NULL, &err) == TS_OK);
    TS_REQUIRE(ts_store_builder_add(b, TS_GEOM_NONE, NULL, NULL, 0, v, &err) == TS_OK);
    double nanpt[] = {NAN, 1};
    uint32_t one[] = {1};
    TS_CHECK(ts_store_builder_add(b, TS_GEOM_POINT, nanpt, one, 1, v, &err) == TS_EINVAL);
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 4);
    snprintf(cls, sizeof cls, "changed");

    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POLYGON && g.nparts == 3);
    TS_CHECK_INT(g.counts[0], 4);
    TS_CHECK_INT(g.counts[1], 4);
    TS_CHECK_INT(g.counts[2], 4);
    TS_CHECK(area2(g.xy, 4) > 0);
    TS_CHECK(area2(g.xy + 8, 4) < 0);
    TS_CHECK(area2(g.xy + 16, 4) > 0);
    TS_CHECK(polygon_ok(&g));
    ts_bbox bb = ts_store_feature_bbox(s, 0);
    TS_CHECK(bb.minx == 0 && bb.miny == 0 && bb.maxx == 25 && bb.maxy == 10);

    ts_store_geom(s, 0, 1, &g);
    TS_CHECK(g.kind == TS_GEOM_LINE);
    TS_CHECK_INT(g.counts[0], 3);
    ts_store_geom(s, 0, 2, &g);
    TS_CHECK(g.kind == TS_GEOM_POINT);
    TS_REQUIRE(g.nparts == 3);
    TS_CHECK(g.counts[0] == 1 && g.counts[1] == 1 && g.counts[2] == 1);
    TS_CHECK(g.xy[4] == 3 && g.xy[5] == 3);
    ts_store_geom(s, 0, 3, &g);
    TS_CHECK(g.kind == TS_GEOM_NONE);
    TS_CHECK_INT(g.nparts, 0);

    /* values: copied, interned, typed; NULL values array = all null */
    TS_CHECK_STR(ts_store_value(s, 0, 0)->u.s, "residential");
    TS_CHECK(ts_store_value(s, 0, 0)->u.s == ts_store_value(s, 1, 0)->u.s);
    TS_CHECK_INT(ts_store_value(s, 0, 1)->u.i, -7);
    TS_CHECK_NEAR(ts_store_value(s, 1, 2)->u.d, 2.25, 0);
    TS_CHECK(ts_store_value(s, 0, 3)->type == TS_VAL_BOOL);
    TS_CHECK(ts_store_value(s, 2, 0)->type == TS_VAL_NULL);
    TS_CHECK(ts_store_value(s, 2, 1)->type == TS_VAL_NULL);

    ts_bbox e = ts_store_extent(s);
    TS_CHECK(e.minx == 0 && e.miny == 0 && e.maxx == 25 && e.maxy == 10);
    TS_CHECK_INT(ts_store_nlevels(s), 1);
    TS_CHECK_INT(ts_store_level_for_res(s, 100), 0);
    TS_CHECK_INT(ts_store_stats_get(s)->kept, 4);

    /* the NONE feature is never a hit; the others are, touching edges included */
    ts_idvec ids = {0};
    ts_bbox q = {25, 10, 30, 30};
    TS_REQUIRE(ts_store_query(s, &q, &ids) == TS_OK);
    TS_CHECK_INT(ids.n, 1);
    q = (ts_bbox){-100, -100, 100, 100};
    TS_REQUIRE(ts_store_query(s, &q, &ids) == TS_OK);
    TS_REQUIRE(ids.n == 3);
    TS_CHECK(ids.ids[0] == 0 && ids.ids[1] == 1 && ids.ids[2] == 2);
    ts_idvec_fini(&ids);
    ts_store_unref(s);

    /* an empty store */
    b = ts_store_builder_new("empty", NULL, 0, &err);
    TS_REQUIRE(b != NULL);
    TS_REQUIRE(ts_store_builder_finish(b, &s, &err) == TS_OK);
    TS_CHECK_INT(ts_store_count(s), 0);
    e = ts_store_extent(s);
    TS_CHECK(e.minx == 0 && e.maxx == 0 && e.miny == 0 && e.maxy == 0);
    TS_REQUIRE(ts_store_query(s, &q, &ids) == TS_OK);
    TS_CHECK_INT(ids.n, 0);
    ts_idvec_fini(&ids);
    ts_store_unref(s);

    /* abandoned builder */
    b = ts_store_builder_new("gone", names, 4, &err);
    TS_REQUIRE(b != NULL);
    TS_REQUIRE(ts_store_builder_add(b, TS_GEOM_POINT, pts, ptc, 1, v, &err) == TS_OK);
    ts_store_builder_free(b);
    ts_store_builder_free(NULL);
    ts_store_unref(NULL);
}

/* ---- the index against brute force ---- */

static int
bbox_hit(const ts_bbox *a, const ts_bbox *q)
{
    return a->minx <= q->maxx && a->maxx >= q->minx && a->miny <= q->maxy && a->maxy >= q->miny;
}

static void
check_query(const ts_store *s, const ts_bbox *q, ts_idvec *v, int *bad)
{
    if (ts_store_query(s, q, v) != TS_OK) {
        (*bad)++;
        return;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < ts_store_count(s); i++) {
        ts_geom g;
        ts_store_geom(s, 0, i, &g);
        if (g.kind == TS_GEOM_NONE) {
            continue;
        }
        ts_bbox b = ts_store_feature_bbox(s, i);
        if (!bbox_hit(&b, q))
            continue;
        if (k >= v->n || v->ids[k] != i) {
            (*bad)++;
            return;
        }
        k++;
    }
    if (k != v->n)
        (*bad)++;
}

TS_TEST(source_query_matches_brute_force)
{
    ts_err err;
    ts_err_clear(&err);
    ts_store_builder *b = ts_store_builder_new("random", NULL, 0, &err);
    TS_REQUIRE(b != NULL);
    const int n = 6000;
    for (int i = 0; i < n; i++) {
        double x = urand() * 1000, y = urand() * 1000;
        /* integer corners for some, so that queries touch edges exactly */
        if (i % 3 == 0) {
            x = floor(x);
            y = floor(y);
        }
        int kind = i % 4;
        ts_status st;
        if (kind == 0) {
            double p[2] = {x, y};
            uint32_t c = 1;
            st = ts_store_builder_add(b, TS_GEOM_POINT, p, &c, 1, NULL, &err);
        } else if (kind == 1) {
            double w = 1 + urand() * 20, h = 1 + urand() * 20;
            double r[8] = {x, y, x + w, y, x + w, y + h, x, y + h};
            uint32_t c = 4;
            st = ts_store_builder_add(b, TS_GEOM_POLYGON, r, &c, 1, NULL, &err);
        } else if (kind == 2) {
            double l[6] = {
                x, y, x + urand() * 50, y + urand() * 5, x + urand() * 5, y + urand() * 50};
            uint32_t c = 3;
            st = ts_store_builder_add(b, TS_GEOM_LINE, l, &c, 1, NULL, &err);
        } else if (i % 40 == 3) {
            st = ts_store_builder_add(b, TS_GEOM_NONE, NULL, NULL, 0, NULL, &err);
        } else {
            double p[4] = {x, y, x + 1, y + 1};
            uint32_t c[2] = {1, 1};
            st = ts_store_builder_add(b, TS_GEOM_POINT, p, c, 2, NULL, &err);
        }
        TS_REQUIRE(st == TS_OK);
    }
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == (uint32_t)n);
    ts_idvec v = {0};
    int bad = 0;
    for (int i = 0; i < 1500 && bad == 0; i++) {
        double x = urand() * 1100 - 50, y = urand() * 1100 - 50;
        double w = i % 10 == 0 ? urand() * 800 : urand() * 60;
        double h = i % 10 == 0 ? urand() * 800 : urand() * 60;
        if (i % 5 == 0) { /* integer edges */
            x = floor(x);
            y = floor(y);
            w = floor(w);
            h = floor(h);
        }
        if (i % 50 == 0)
            w = h = 0; /* a point query */
        ts_bbox q = {x, y, x + w, y + h};
        check_query(s, &q, &v, &bad);
    }
    TS_CHECK_INT(bad, 0);
    /* the whole extent, and an exact hit on a point feature's coordinate */
    ts_bbox all = ts_store_extent(s);
    check_query(s, &all, &v, &bad);
    TS_CHECK_INT(bad, 0);
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    ts_bbox at = {g.xy[0], g.xy[1], g.xy[0], g.xy[1]};
    TS_REQUIRE(ts_store_query(s, &at, &v) == TS_OK);
    TS_REQUIRE(v.n >= 1);
    TS_CHECK_INT(v.ids[0], 0);
    /* an inverted or NaN box finds nothing */
    ts_bbox inv = {10, 10, 0, 0};
    TS_REQUIRE(ts_store_query(s, &inv, &v) == TS_OK);
    TS_CHECK_INT(v.n, 0);
    ts_bbox nanq = {NAN, 0, 10, 10};
    TS_REQUIRE(ts_store_query(s, &nanq, &v) == TS_OK);
    TS_CHECK_INT(v.n, 0);
    ts_idvec_fini(&v);
    ts_store_unref(s);
}

/* ---- generalisation ---- */

TS_TEST(source_generalise)
{
    char path[512];
    tmp("detail.gpkg", path, sizeof path);
    GDALDatasetH ds = new_ds("GPKG", path);
    TS_REQUIRE(ds != NULL);
    OGRLayerH l = new_layer(ds, "d", "EPSG:25832", wkbUnknown);
    std_fields(l);
    /* 0: a wobbly disc of radius ~300 m with 720 vertices and a hole */
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (int i = 0; i <= 720; i++) {
        double a = 2 * M_PI * (i % 720) / 720, r = 300 + 3 * sin(a * 40);
        OGR_G_AddPoint_2D(ring, 346000 + r * cos(a), 5681000 + r * sin(a));
    }
    OGR_G_AddGeometryDirectly(poly, ring);
    ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (int i = 0; i <= 90; i++) {
        double a = -2 * M_PI * (i % 90) / 90;
        OGR_G_AddPoint_2D(ring, 346000 + 50 * cos(a), 5681000 + 50 * sin(a));
    }
    OGR_G_AddGeometryDirectly(poly, ring);
    add_feat(l, poly, 0, 0, "disc", 0);
    /* 1: a zig-zag street of 1000 vertices */
    OGRGeometryH line = OGR_G_CreateGeometry(wkbLineString);
    for (int i = 0; i < 1000; i++)
        OGR_G_AddPoint_2D(line, 345000 + i * 2.0, 5680000 + (i % 2) * 0.3 + i * 0.5);
    add_feat(l, line, 1, 0, "street", 0);
    /* 2: a tiny 12-gon (radius 2 m) */
    double tiny[24];
    for (int i = 0; i < 12; i++) {
        tiny[2 * i] = 347000 + 2 * cos(2 * M_PI * i / 12);
        tiny[2 * i + 1] = 5682000 + 2 * sin(2 * M_PI * i / 12);
    }
    add_feat(l, ring_poly(tiny, 12), 2, 0, "tiny", 0);
    /* 3: a rectangle, 4: a point */
    add_feat(l,
             wkt("POLYGON((345000 5680000,345100 5680000,345100 5680100,345000 5680100,"
                 "345000 5680000))"),
             3, 0, "rect", 0);
    add_feat(l, wkt("POINT(345000 5680000)"), 4, 0, "pt", 0);
    close_ds(ds);

    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    double tol[2] = {1.0, 20.0};
    ts_store_def def = {.path = path, .dst_crs = "EPSG:3857", .tolerances = tol, .ntolerances = 2};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 5);
    TS_REQUIRE(ts_store_nlevels(s) == 3);
    TS_CHECK_INT(ts_store_level_for_res(s, 1.0), 0);
    TS_CHECK_INT(ts_store_level_for_res(s, 2.0), 1);
    TS_CHECK_INT(ts_store_level_for_res(s, 39.9), 1);
    TS_CHECK_INT(ts_store_level_for_res(s, 40.0), 2);
    TS_CHECK_INT(ts_store_level_for_res(s, 1e9), 2);

    ts_geom g0, g1, g2;
    /* the disc: fewer vertices at each level, still valid, CCW exterior + CW hole */
    ts_store_geom(s, 0, 0, &g0);
    ts_store_geom(s, 1, 0, &g1);
    ts_store_geom(s, 2, 0, &g2);
    TS_REQUIRE(g0.kind == TS_GEOM_POLYGON && g1.kind == TS_GEOM_POLYGON &&
               g2.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(total_points(&g0), 720 + 90);
    TS_CHECK(total_points(&g1) < total_points(&g0));
    TS_CHECK(total_points(&g2) < total_points(&g1));
    TS_CHECK(total_points(&g2) >= 6);
    TS_CHECK_INT(g2.nparts, 2);
    TS_CHECK(polygon_ok(&g1));
    TS_CHECK(polygon_ok(&g2));
    TS_CHECK(area2(g2.xy, g2.counts[0]) > 0);

    /* the street: fewer vertices, same ends */
    ts_store_geom(s, 0, 1, &g0);
    ts_store_geom(s, 2, 1, &g2);
    TS_REQUIRE(g2.kind == TS_GEOM_LINE);
    TS_CHECK(g2.counts[0] < 20);
    TS_CHECK(g2.xy[0] == g0.xy[0] && g2.xy[1] == g0.xy[1]);
    TS_CHECK(g2.xy[2 * (g2.counts[0] - 1)] == g0.xy[2 * (g0.counts[0] - 1)]);

    /* the tiny polygon (about 6.4 m wide in EPSG:3857): simplified by GEOS at 1 m, reduced
     * to a small convex CCW polygon at 20 m */
    ts_store_geom(s, 1, 2, &g1);
    TS_CHECK(total_points(&g1) < 12 && total_points(&g1) >= 3);
    TS_CHECK(polygon_ok(&g1));
    ts_store_geom(s, 2, 2, &g2);
    TS_REQUIRE(g2.kind == TS_GEOM_POLYGON);
    TS_CHECK(g2.counts[0] >= 3 && g2.counts[0] <= 4);
    TS_CHECK(area2(g2.xy, g2.counts[0]) > 0);
    TS_CHECK(polygon_ok(&g2));

    /* the rectangle and the point are shared with level 0 */
    ts_store_geom(s, 0, 3, &g0);
    ts_store_geom(s, 2, 3, &g2);
    TS_CHECK(g0.xy == g2.xy && g2.counts[0] == 4);
    ts_store_geom(s, 0, 4, &g0);
    ts_store_geom(s, 2, 4, &g2);
    TS_CHECK(g0.xy == g2.xy && g2.kind == TS_GEOM_POINT);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ---- threads: one context each, loads and queries side by side ---- */

typedef struct thread_job {
    const char *path;
    int ok;
    double x0;
} thread_job;

static void *
thread_load(void *arg)
{
    thread_job *j = arg;
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    if (sc == NULL)
        return NULL;
    for (int round = 0; round < 3; round++) {
        ts_store_def def = {.path = j->path, .layer = "parcels", .dst_crs = "EPSG:3857"};
        ts_store *s = NULL;
        if (ts_store_load(sc, &def, &s, &err) != TS_OK)
            break;
        ts_geom g;
        ts_store_geom(s, 0, 2, &g);
        j->x0 = g.kind == TS_GEOM_POLYGON ? g.xy[0] : 0;
        ts_idvec v = {0};
        ts_bbox q = ts_store_extent(s);
        j->ok = ts_store_count(s) == 5 && ts_store_query(s, &q, &v) == TS_OK && v.n == 5;
        ts_idvec_fini(&v);
        ts_store_unref(s);
    }
    ts_source_ctx_free(sc);
    return NULL;
}

TS_TEST(source_threads_have_their_own_context)
{
    char path[512];
    TS_REQUIRE(make_gpkg(path, sizeof path) != NULL);
    thread_job jobs[3] = {{path, 0, 0}, {path, 0, 0}, {path, 0, 0}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        TS_REQUIRE(pthread_create(&th[i], NULL, thread_load, &jobs[i]) == 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        TS_CHECK(jobs[i].ok);
        TS_CHECK(jobs[i].x0 == jobs[0].x0 && jobs[i].x0 != 0);
    }
}

/* ---- stand-alone transformations and origin ids ---- */

TS_TEST(source_xform_round_trip_and_boxes)
{
    ts_err err;
    ts_source_xform *x = ts_source_xform_new("EPSG:25832", "EPSG:3857", &err);
    TS_REQUIRE(x != NULL);
    TS_CHECK(!ts_source_xform_identity(x));
    double xy[4] = {344500, 5677500, 345500, 5678500};
    TS_CHECK_INT((int)ts_source_xform_points(x, 0, xy, 2), 0);
    /* Düsseldorf: about 6.78 E, 51.23 N in Web Mercator metres */
    TS_CHECK(xy[0] > 750000 && xy[0] < 760000 && xy[1] > 6650000 && xy[1] < 6670000);
    TS_CHECK_INT((int)ts_source_xform_points(x, 1, xy, 2), 0);
    TS_CHECK_NEAR(xy[0], 344500, 1e-6);
    TS_CHECK_NEAR(xy[3], 5678500, 1e-6);
    /* a box: the transformed box covers every transformed point of the edges */
    ts_bbox in = {344000, 5677000, 346000, 5679000}, out;
    TS_REQUIRE(ts_source_xform_box(x, 0, &in, &out));
    double c[8] = {in.minx, in.miny, in.maxx, in.miny, in.maxx, in.maxy, in.minx, in.maxy};
    ts_source_xform_points(x, 0, c, 4);
    for (int i = 0; i < 4; i++)
        TS_CHECK(c[2 * i] >= out.minx - 1e-6 && c[2 * i] <= out.maxx + 1e-6 &&
                 c[2 * i + 1] >= out.miny - 1e-6 && c[2 * i + 1] <= out.maxy + 1e-6);
    ts_source_xform_free(x);
    /* CRS:84 is understood; it and EPSG:4326 differ in axis order only: x stays longitude */
    x = ts_source_xform_new("CRS:84", "EPSG:4326", &err);
    TS_REQUIRE(x != NULL);
    double ll[2] = {6.78, 51.23};
    TS_CHECK_INT((int)ts_source_xform_points(x, 0, ll, 1), 0);
    TS_CHECK_NEAR(ll[0], 6.78, 1e-9);
    TS_CHECK_NEAR(ll[1], 51.23, 1e-9);
    ts_source_xform_free(x);
    x = ts_source_xform_new("EPSG:25832", "EPSG:25832", &err);
    TS_REQUIRE(x != NULL);
    TS_CHECK(ts_source_xform_identity(x));
    ts_source_xform_free(x);
    TS_CHECK(ts_source_xform_new("EPSG:99999999", "EPSG:3857", &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
    /* outside the domain: HUGE_VAL and counted */
    x = ts_source_xform_new("EPSG:4326", "EPSG:3857", &err);
    TS_REQUIRE(x != NULL);
    double pole[2] = {0, 95};
    TS_CHECK_INT((int)ts_source_xform_points(x, 0, pole, 1), 1);
    ts_source_xform_free(x);
}

static int
count_attr(void *ud, const char *name, const ts_value *v)
{
    (void)name;
    (void)v;
    (*(int *)ud)++;
    return 0;
}

TS_TEST(source_origin_ids_read_back_all_attributes)
{
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/demo/duesseldorf_demo.gpkg", ts_test_srcdir());
    const char *none[] = {NULL};
    ts_store_def def = {.name = "parcels", .path = path, .layer = "parcels", .fields = none};
    ts_store *s = NULL;
    ts_err err;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_CHECK_INT(ts_store_nfields(s), 0); /* the store keeps none ... */
    int64_t id = ts_store_origin_id(s, 0);
    TS_CHECK(id >= 0);
    int n = 0;
    TS_CHECK(ts_source_feature_attrs(sc, path, "parcels", id, count_attr, &n, &err) == TS_OK);
    TS_CHECK(n >= 2); /* ... but the source has them all */
    TS_CHECK(ts_source_feature_attrs(sc, path, "parcels", 999999999, count_attr, &n, &err) ==
             TS_ENOENT);
    /* stores built in memory have no origin ids */
    ts_store_builder *b = ts_store_builder_new("mem", NULL, 0, &err);
    double pt[2] = {1, 2};
    uint32_t one = 1;
    TS_REQUIRE(ts_store_builder_add(b, TS_GEOM_POINT, pt, &one, 1, NULL, &err) == TS_OK);
    ts_store *m = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &m, &err) == TS_OK);
    TS_CHECK(ts_store_origin_id(m, 0) == -1);
    ts_store_unref(m);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* ts_pg_table_open without a server: a clear TS_ESOURCE naming the layer, at once (a closed
 * port on loopback refuses), and no table. The rest of pg.c runs against a real PostgreSQL in
 * tests/http/test_postgis.py. */
TS_TEST(source_pg_open_errors)
{
    static const char *const fields[] = {"nutzung", NULL};
    ts_pg_def def = {.name = "parcels_live",
                     .conninfo = "PG:host=127.0.0.1 port=1 dbname=x user=x",
                     .table = "parcels",
                     .dst_crs = "EPSG:3857",
                     .fields = fields,
                     .timeout_ms = 2000};
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK(ts_pg_table_open(&def, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ESOURCE);
    TS_CHECK(strstr(err.msg, "layer parcels_live: cannot connect to PostgreSQL") != NULL);
    /* OGR-only keywords are not libpq's: said so, not ignored */
    def.conninfo = "PG:dbname=x schemas=public";
    ts_err_clear(&err);
    TS_CHECK(ts_pg_table_open(&def, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ESOURCE);
    TS_CHECK(strstr(err.msg, "schemas") != NULL);
    /* missing arguments */
    def.table = NULL;
    ts_err_clear(&err);
    TS_CHECK(ts_pg_table_open(&def, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
    ts_pg_stats s;
    ts_pg_stats_get(&s);
    TS_CHECK(s.queries == 0 && s.errors == 0); /* opening is not fetching */
    char buf[64];
    TS_CHECK(ts_pg_failing(buf, sizeof buf) == 0 && buf[0] == 0);
}

static int
find_name_attr(void *ud, const char *name, const ts_value *v)
{
    if (strcmp(name, "name") == 0 && v->type == TS_VAL_STR)
        snprintf((char *)ud, 64, "%s", v->u.s);
    return 0;
}

/* A .dbf without .cpg (here: a CSV, read byte for byte the same way) holds Windows-1252
 * text: bytes that are not UTF-8 are recoded, UTF-8 text is kept as it is, at load and
 * when GetFeatureInfo reads a feature back. */
TS_TEST(source_text_that_is_not_utf8_is_read_as_windows_1252)
{
    char path[512];
    tmp("latin1.csv", path, sizeof path);
    FILE *f = fopen(path, "wb");
    TS_REQUIRE(f != NULL);
    fputs("WKT,name\n"
          "\"POINT(345000 5680000)\",D\xfcsseldorfer Stra\xdf" "e\n"
          "\"POINT(345100 5680000)\",K\xc3\xb6ln\n"
          "\"POINT(345200 5680000)\",5 \x80\n",
          f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_store_def def = {.name = "latin1", .path = path, .src_crs = "EPSG:25832",
                        .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    ts_err err;
    ts_err_clear(&err);
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 3);
    int fname = ts_store_field_index(s, "name");
    TS_REQUIRE(fname >= 0);
    TS_CHECK_STR(ts_store_value(s, 0, fname)->u.s, "D\xc3\xbcsseldorfer Stra\xc3\x9f" "e");
    TS_CHECK_STR(ts_store_value(s, 1, fname)->u.s, "K\xc3\xb6ln");
    TS_CHECK_STR(ts_store_value(s, 2, fname)->u.s, "5 \xe2\x82\xac");
    char got[64] = "";
    TS_CHECK(ts_source_feature_attrs(sc, path, NULL, ts_store_origin_id(s, 0), find_name_attr, got,
                                     &err) == TS_OK);
    TS_CHECK_STR(got, "D\xc3\xbcsseldorfer Stra\xc3\x9f" "e");
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

static int
find_strasse_attr(void *ud, const char *name, const ts_value *v)
{
    if (strcmp(name, "Stra\xc3\x9f" "e") == 0 && v->type == TS_VAL_STR)
        snprintf((char *)ud, 64, "%s", v->u.s);
    return 0;
}

/* Field names of such a file are Windows-1252 too: a style naming the field in UTF-8
 * ("Straße") finds it, and the store and GetFeatureInfo name it so (it was not found: the
 * labels of a German .dbf without .cpg were left out). */
TS_TEST(source_field_names_that_are_not_utf8_are_read_as_windows_1252)
{
    char path[512];
    tmp("latin1_names.csv", path, sizeof path);
    FILE *f = fopen(path, "wb");
    TS_REQUIRE(f != NULL);
    fputs("WKT,Stra\xdf" "e,Nr\n"
          "\"POINT(345000 5680000)\",K\xf6nigsallee,1\n",
          f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    const char *want[] = {"Stra\xc3\x9f" "e", NULL};
    for (int all = 0; all < 2; all++) {
        ts_store_def def = {.name = "latin1_names", .path = path, .src_crs = "EPSG:25832",
                            .dst_crs = "EPSG:3857", .fields = all ? NULL : want};
        ts_store *s = NULL;
        ts_err err;
        ts_err_clear(&err);
        TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
        int fi = ts_store_field_index(s, "Stra\xc3\x9f" "e");
        TS_REQUIRE(fi >= 0);
        TS_CHECK_STR(ts_store_value(s, 0, fi)->u.s, "K\xc3\xb6nigsallee");
        char got[64] = "";
        TS_CHECK(ts_source_feature_attrs(sc, path, NULL, ts_store_origin_id(s, 0),
                                         find_strasse_attr, got, &err) == TS_OK);
        TS_CHECK_STR(got, "K\xc3\xb6nigsallee");
        ts_store_unref(s);
    }
    ts_source_ctx_free(sc);
}

/* A CSV with lon/lat columns and no WKT column: its points are those columns, in
 * EPSG:4326 unless srs says otherwise (it had no geometry: "declares no CRS", and with an
 * srs every feature was skipped). */
TS_TEST(source_csv_points_from_lon_lat_columns)
{
    char path[512];
    tmp("lonlat.csv", path, sizeof path);
    FILE *f = fopen(path, "wb");
    TS_REQUIRE(f != NULL);
    fputs("name,Lat,Lon\nA,51.2277,6.7735\nB,51.2,6.8\n", f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_store_def def = {.name = "lonlat", .path = path, .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    ts_err err;
    ts_err_clear(&err);
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 2);
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POINT);
    TS_CHECK_NEAR(g.xy[0], 754022.57, 0.1); /* 6.7735 E: R * lon in radians */
    TS_CHECK_NEAR(g.xy[1], 6661670.48, 0.1); /* 51.2277 N: R ln tan(pi/4 + lat/2) */
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* A geometry collection of a point and a line is two features, a point and a line, with the
 * same attributes and origin id (it was the line alone: the point was lost). */
TS_TEST(source_mixed_collection_is_one_feature_per_kind)
{
    char path[512];
    tmp("mixed_gc.gpkg", path, sizeof path);
    GDALDatasetH ds = new_ds("GPKG", path);
    TS_REQUIRE(ds != NULL);
    OGRLayerH l = new_layer(ds, "gc", "EPSG:25832", wkbUnknown);
    std_fields(l);
    add_feat(l,
             wkt("GEOMETRYCOLLECTION(POINT(345050 5680050),LINESTRING(345000 5680000,"
                 "345100 5680000))"),
             7, 1, "both", 0);
    add_feat(l, wkt("GEOMETRYCOLLECTION(POINT(345000 5680000),POINT(345100 5680100))"), 8, 1,
             "points", 0);
    close_ds(ds);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_store_def def = {.name = "gc", .path = path, .dst_crs = "EPSG:25832"};
    ts_store *s = NULL;
    ts_err err;
    ts_err_clear(&err);
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    TS_REQUIRE(ts_store_count(s) == 3);
    int fname = ts_store_field_index(s, "name");
    int kinds[4] = {0};
    for (uint32_t i = 0; i < 3; i++) {
        ts_geom g;
        ts_store_geom(s, 0, i, &g);
        kinds[g.kind]++;
        const char *name = ts_store_value(s, i, fname)->u.s;
        if (g.kind == TS_GEOM_LINE) {
            TS_CHECK_STR(name, "both");
            TS_CHECK_INT(g.counts[0], 2);
        } else if (g.nparts == 1) {
            TS_CHECK_STR(name, "both");
            TS_CHECK_NEAR(g.xy[0], 345050, 1e-6);
            TS_CHECK_NEAR(g.xy[1], 5680050, 1e-6);
        } else {
            TS_CHECK_STR(name, "points");
            TS_CHECK_INT(g.nparts, 2);
        }
    }
    TS_CHECK_INT(kinds[TS_GEOM_POINT], 2);
    TS_CHECK_INT(kinds[TS_GEOM_LINE], 1);
    /* the point and the line of the first feature share its origin id */
    int64_t first = -1, same = 0;
    for (uint32_t i = 0; i < 3; i++)
        if (strcmp(ts_store_value(s, i, fname)->u.s, "both") == 0) {
            if (first < 0)
                first = ts_store_origin_id(s, i);
            else
                same = ts_store_origin_id(s, i) == first;
        }
    TS_CHECK(first >= 0);
    TS_CHECK(same);
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}

/* A table with two geometry columns (OGR SQLite): the first is read unless the layer's
 * geometry names the other; a name the table lacks is refused, listing the columns. */
TS_TEST(source_geometry_column_chosen)
{
    char path[512];
    tmp("twogeom.sqlite", path, sizeof path);
    GDALDatasetH ds = new_ds("SQLite", path);
    TS_REQUIRE(ds != NULL);
    OGRLayerH l = new_layer(ds, "two", "EPSG:25832", wkbPoint);
    TS_REQUIRE(l != NULL);
    OGRGeomFieldDefnH gf = OGR_GFld_Create("area", wkbPolygon);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRSetFromUserInput(srs, "EPSG:25832");
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    OGR_GFld_SetSpatialRef(gf, srs);
    TS_REQUIRE(OGR_L_CreateGeomField(l, gf, 1) == OGRERR_NONE);
    OGR_GFld_Destroy(gf);
    OSRRelease(srs);
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    OGR_F_SetGeomFieldDirectly(f, 0, wkt("POINT(345050 5680050)"));
    OGR_F_SetGeomFieldDirectly(f, 1,
                               wkt("POLYGON((345000 5680000,345100 5680000,345100 5680100,"
                                   "345000 5680100,345000 5680000))"));
    TS_REQUIRE(OGR_L_CreateFeature(l, f) == OGRERR_NONE);
    OGR_F_Destroy(f);
    close_ds(ds);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store *s = NULL;
    ts_store_def def = {.name = "two", .path = path, .layer = "two", .dst_crs = "EPSG:25832"};
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    ts_geom g;
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_POINT);
    ts_store_unref(s);
    def.geometry = "area";
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    ts_store_geom(s, 0, 0, &g);
    TS_CHECK(g.kind == TS_GEOM_POLYGON);
    TS_CHECK_INT(g.counts[0], 4);
    ts_store_unref(s);
    def.geometry = "nope";
    TS_CHECK(ts_store_load(sc, &def, &s, &err) == TS_ESOURCE);
    TS_CHECK(strstr(err.msg, "no geometry column 'nope'") != NULL && strstr(err.msg, "'area'"));
    ts_source_ctx_free(sc);
}

TS_TEST(source_dates_are_iso_8601)
{
    /* OGR's text of a date is "2024/03/12": GetFeatureInfo, vector tiles and filters get
     * ISO 8601, as the database and the GeoJSON hold them */
    char path[512];
    tmp("dates.geojson", path, sizeof path);
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f != NULL);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[\n"
          "{\"type\":\"Feature\",\"properties\":{\"day\":\"2024-03-12\","
          "\"at\":\"2024-03-12T10:00:05+01:00\",\"utc\":\"2024-03-12T09:00:00Z\"},"
          "\"geometry\":{\"type\":\"Point\",\"coordinates\":[6.78,51.22]}}\n"
          "]}\n",
          f);
    fclose(f);
    ts_source_ctx *sc = ctx();
    TS_REQUIRE(sc != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_store_def def = {.name = "d", .path = path, .dst_crs = "EPSG:3857"};
    ts_store *s = NULL;
    TS_REQUIRE(ts_store_load(sc, &def, &s, &err) == TS_OK);
    int fd = ts_store_field_index(s, "day"), fa = ts_store_field_index(s, "at");
    int fu = ts_store_field_index(s, "utc");
    TS_REQUIRE(fd >= 0 && fa >= 0 && fu >= 0);
    TS_CHECK_STR(ts_store_value(s, 0, fd)->u.s, "2024-03-12");
    TS_CHECK_STR(ts_store_value(s, 0, fa)->u.s, "2024-03-12T10:00:05+01:00");
    TS_CHECK_STR(ts_store_value(s, 0, fu)->u.s, "2024-03-12T09:00:00Z");
    ts_store_unref(s);
    ts_source_ctx_free(sc);
}
