/* Unit tests for ows: XYZ/TMS URL parsing and TileJSON. */
#include "test.h"

#include "ows/ows.h"

TS_TEST(xyz_parses_plain_and_hidpi)
{
    ts_xyz_req r;
    TS_CHECK_INT(ts_ows_parse_xyz("cadastre/16/34001/21873.png", &r, NULL), TS_OK);
    TS_CHECK_STR(r.tileset, "cadastre");
    TS_CHECK_INT(r.z, 16);
    TS_CHECK_INT(r.x, 34001);
    TS_CHECK_INT(r.y, 21873);
    TS_CHECK_INT(r.scale, 1);
    TS_CHECK_INT(r.format, TS_FMT_PNG);
    TS_CHECK_INT(ts_ows_parse_xyz("cadastre/16/34001/21873@2x.png", &r, NULL), TS_OK);
    TS_CHECK_INT(r.scale, 2);
    TS_CHECK_INT(r.y, 21873);
    TS_CHECK_INT(ts_ows_parse_xyz("a,b/3/1/2.pbf", &r, NULL), TS_OK);
    TS_CHECK_INT(r.format, TS_FMT_MVT);
    TS_CHECK_STR(r.tileset, "a,b");
}

TS_TEST(xyz_refuses_malformed_numbers_with_400)
{
    ts_xyz_req r;
    ts_err e;
    const char *bad[] = {"c/16/-1/2.png",          "c/16/abc/2.png",  "c/16/1/2x.png",
                         "c/31/1/2.png",           "c//1/2.png",      "c/16/1/.png",
                         "c/16/99999999999/2.png", "c/16/1/2@3x.png", "c/16/ 1/2.png",
                         "c/1e3/1/2.png",          "c/16/+1/2.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_status st = ts_ows_parse_xyz(bad[i], &r, &e);
        if (st != TS_EINVAL)
            ts_test_fail(__FILE__, __LINE__, "%s gave %d, want EINVAL", bad[i], st);
    }
}

TS_TEST(xyz_refuses_wrong_shapes_with_404)
{
    ts_xyz_req r;
    const char *bad[] = {"c/16/1.png", "c/16/1/2/3.png", "c/16/1/2.jpg",  "c/16/1/2",
                         "",           "/16/1/2.png",    "c d/1/1/1.png", "../x/1/1/1.png",
                         "c/16/1/2.png/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_status st = ts_ows_parse_xyz(bad[i], &r, NULL);
        if (st != TS_ENOENT)
            ts_test_fail(__FILE__, __LINE__, "%s gave %d, want ENOENT", bad[i], st);
    }
}

TS_TEST(xyz_grid_qualified_route)
{
    ts_xyz_req r;
    TS_CHECK_INT(ts_ows_parse_xyz("cadastre/DE_EPSG_25832_ADV/11/638/1019.pbf", &r, NULL), TS_OK);
    TS_CHECK_STR(r.tileset, "cadastre");
    TS_CHECK_STR(r.grid, "DE_EPSG_25832_ADV");
    TS_CHECK_INT(r.z, 11);
    TS_CHECK_INT(r.x, 638);
    TS_CHECK_INT(r.y, 1019);
    TS_CHECK_INT(r.format, TS_FMT_MVT);
    TS_CHECK_INT(ts_ows_parse_xyz("cadastre/16/34001/21873.png", &r, NULL), TS_OK);
    TS_CHECK_STR(r.grid, "");
    /* a number is no grid name; dotted names and six segments are refused */
    TS_CHECK_INT(ts_ows_parse_xyz("c/16/1/2/3.png", &r, NULL), TS_ENOENT);
    TS_CHECK_INT(ts_ows_parse_xyz("c/../1/2/3.png", &r, NULL), TS_ENOENT);
    TS_CHECK_INT(ts_ows_parse_xyz("c/G/1/2/3/4.png", &r, NULL), TS_ENOENT);
    TS_CHECK_INT(ts_ows_parse_xyz("c/G g/1/2/3.png", &r, NULL), TS_ENOENT);
    TS_CHECK_INT(ts_ows_parse_xyz("c/G/x/2/3.png", &r, NULL), TS_EINVAL);
    /* TMS has no grid form */
    TS_CHECK_INT(ts_ows_parse_tms("c/G/1/1/1.png", &r, NULL), TS_ENOENT);
}

TS_TEST(tms_counts_rows_from_the_south)
{
    ts_xyz_req r;
    TS_CHECK_INT(ts_ows_parse_tms("cadastre/16/34001/43662.png", &r, NULL), TS_OK);
    TS_CHECK_INT(r.y, 65535 - 43662);
    TS_CHECK_INT(ts_ows_parse_tms("cadastre/1/0/2.png", &r, NULL), TS_EINVAL);
    /* a malformed TMS path is told the TMS form, not the XYZ one */
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK_INT(ts_ows_parse_tms("junk", &r, &err), TS_ENOENT);
    TS_CHECK(strstr(err.msg, "/tms/1.0.0/") != NULL);
}

TS_TEST(tilejson_is_escaped_and_complete)
{
    ts_buf b;
    ts_buf_init(&b, 1 << 16);
    ts_tilejson_info ti = {.name = "cadastre",
                           .title = "Kataster \"Düsseldorf\"",
                           .attribution = "© GeoBasis",
                           .base_url = "http://h:1",
                           .ext = "png",
                           .minzoom = 0,
                           .maxzoom = 20,
                           .bounds_lonlat = {6.7, 51.1, 6.9, 51.3},
                           .has_bounds = 1};
    TS_REQUIRE(ts_ows_write_tilejson(&ti, &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"tilejson\":\"3.0.0\"") != NULL);
    TS_CHECK(strstr(s, "\"tiles\":[\"http://h:1/tiles/cadastre/{z}/{x}/{y}.png\"]") != NULL);
    TS_CHECK(strstr(s, "Kataster \\\"Düsseldorf\\\"") != NULL);
    TS_CHECK(strstr(s, "\"bounds\":[6.700000,51.100000,6.900000,51.300000]") != NULL);
    TS_CHECK(strstr(s, "\"maxzoom\":20") != NULL);
    ts_buf_fini(&b);
}

TS_TEST(tilejson_vector_layers_and_center)
{
    ts_buf b;
    ts_buf_init(&b, 1 << 16);
    const char *const vl[] = {"parcels", "buildings"};
    ts_tilejson_info ti = {.name = "cadastre",
                           .base_url = "http://h:1",
                           .ext = "mvt",
                           .maxzoom = 16,
                           .version = "2.1.0",
                           .vector_layers = vl,
                           .nvector_layers = 2,
                           .legend = "<b>legend</b>",
                           .has_center = 1,
                           .center = {6.78, 51.22, 12}};
    TS_REQUIRE(ts_ows_write_tilejson(&ti, &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"vector_layers\":[{\"id\":\"parcels\",\"fields\":{}},{\"id\":"
                       "\"buildings\",\"fields\":{}}]") != NULL);
    TS_CHECK(strstr(s, "\"version\":\"2.1.0\"") != NULL);
    TS_CHECK(strstr(s, "\"center\":[6.780000,51.220000,12]") != NULL);
    TS_CHECK(strstr(s, "/{z}/{x}/{y}.mvt\"") != NULL);
    TS_CHECK(strstr(s, "\"legend\":\"<b>legend</b>\"") != NULL);
    TS_CHECK(strstr(s, "\"bounds\"") == NULL);
    ts_buf_fini(&b);
}

TS_TEST(tilejson_vector_layers_with_fields_and_zooms)
{
    ts_buf b;
    ts_buf_init(&b, 1 << 16);
    const char *const f[] = {"flstnr", "area \"m2\"", "bridge"};
    const char *const t[] = {"String", "Number", "Boolean"};
    ts_tilejson_vlayer vl[2] = {
        {.id = "parcels", .fields = f, .types = t, .nfields = 3, .minzoom = 12, .maxzoom = 20},
        {.id = "streets", .description = "Stra\xc3\x9f" "en", .minzoom = 0, .maxzoom = 20}};
    ts_tilejson_info ti = {.name = "cadastre", .base_url = "http://h:1", .ext = "pbf",
                           .maxzoom = 20, .vlayers = vl, .nvlayers = 2};
    TS_REQUIRE(ts_ows_write_tilejson(&ti, &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"vector_layers\":[{\"id\":\"parcels\",\"minzoom\":12,\"maxzoom\":20,"
                       "\"fields\":{\"flstnr\":\"String\",\"area \\\"m2\\\"\":\"Number\","
                       "\"bridge\":\"Boolean\"}},{\"id\":\"streets\",\"description\":"
                       "\"Stra\xc3\x9f" "en\",\"minzoom\":0,\"maxzoom\":20,\"fields\":{}}]") != NULL);
    TS_CHECK(strstr(s, "/{z}/{x}/{y}.pbf\"") != NULL);
    ts_buf_fini(&b);
}

/* ==== shared: KVP, XML escaping, codes ================================================ */

#include <stdlib.h>
#include <unistd.h>

TS_TEST(kvp_decodes_and_ignores_case)
{
    ts_kvp kv;
    ts_err e;
    TS_REQUIRE(ts_ows_kvp_parse("SERVICE=WMS&request=GetMap&Layers=a%2Cb&format=image%2Fpng%3B+mode"
                                "%3D8bit&&empty=&flag&layers=second",
                                &kv, &e) == TS_OK);
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "service"), "WMS");
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "REQUEST"), "GetMap");
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "LAYERS"), "a,b"); /* first occurrence wins */
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "FORMAT"), "image/png; mode=8bit");
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "empty"), "");
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "flag"), "");
    TS_CHECK(ts_ows_kvp_get(&kv, "nope") == NULL);
    ts_ows_kvp_free(&kv);
    const char *bad[] = {"a=%zz", "a=%4", "a=%", "a%00=1", "a=b%00c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_status st = ts_ows_kvp_parse(bad[i], &kv, &e);
        if (st != TS_EINVAL)
            ts_test_fail(__FILE__, __LINE__, "%s gave %d, want EINVAL", bad[i], st);
        ts_ows_kvp_free(&kv);
    }
    char many[1024] = "";
    for (int i = 0; i < 70; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "p%d=1&", i);
    TS_CHECK_INT(ts_ows_kvp_parse(many, &kv, &e), TS_EINVAL);
    ts_ows_kvp_free(&kv);
    /* names without '=' gain an empty value: the decoded copy outgrows the query */
    TS_REQUIRE(ts_ows_kvp_parse("a&b&c&d&e&f&g&h&i&j&k&l&m&n&o&p&q&r&s&t&u&v&w&x&y&z", &kv, &e) ==
               TS_OK);
    TS_CHECK_INT(kv.n, 26);
    TS_CHECK_STR(ts_ows_kvp_get(&kv, "Z"), "");
    ts_ows_kvp_free(&kv);
    TS_CHECK_INT(ts_ows_kvp_parse(NULL, &kv, &e), TS_OK);
    TS_CHECK_INT(kv.n, 0);
    ts_ows_kvp_free(&kv);
}

TS_TEST(xml_escape_keeps_documents_well_formed)
{
    ts_buf b;
    ts_buf_init(&b, 4096);
    TS_REQUIRE(ts_ows_xml_escape(&b, "a<b>&\"c'\x01\tDüsseldorf\xff\xc3(\xed\xa0\x80") == TS_OK);
    TS_CHECK_STR((const char *)b.data, "a&lt;b&gt;&amp;&quot;c&apos;?\tDüsseldorf?"
                                       "?(???");
    ts_buf_fini(&b);
}

TS_TEST(ows_code_names_per_version)
{
    TS_CHECK_STR(ts_ows_code_name(TS_OWS_INVALID_CRS, 0), "InvalidCRS");
    TS_CHECK_STR(ts_ows_code_name(TS_OWS_INVALID_CRS, 1), "InvalidSRS");
    TS_CHECK_STR(ts_ows_code_name(TS_OWS_TILE_OUT_OF_RANGE, 0), "TileOutOfRange");
    TS_CHECK_INT(ts_ows_code_http(TS_OWS_OPERATION_NOT_SUPPORTED), 501);
    TS_CHECK_INT(ts_ows_code_http(TS_OWS_TILE_OUT_OF_RANGE), 400);
    TS_CHECK_INT(ts_ows_code_http(TS_OWS_NO_APPLICABLE_CODE), 500);
    TS_CHECK_STR(ts_ows_image_mime(TS_IMG_PNG8), "image/png; mode=8bit");
}

/* ==== WMS ============================================================================== */

/* A catalog: parcels (queryable, styles "numbers" and "default"), buildings (not
 * queryable), city (group); parcels is tiled in WebMercatorQuad and DE_EPSG_25832_ADV. */
static int
cat_layer(void *ud, const char *layer, int *queryable)
{
    (void)ud;
    *queryable = strcmp(layer, "parcels") == 0 || strcmp(layer, "city") == 0;
    return strcmp(layer, "parcels") == 0 || strcmp(layer, "buildings") == 0 ||
           strcmp(layer, "city") == 0;
}

static int
cat_style(void *ud, const char *layer, const char *style)
{
    (void)ud;
    return strcmp(layer, "parcels") == 0 &&
           (strcmp(style, "numbers") == 0 || strcmp(style, "default") == 0);
}

static const ts_grid *
cat_grid(void *ud, const char *layer, const char *tms)
{
    (void)ud;
    if (strcmp(layer, "parcels") != 0)
        return NULL;
    if (strcmp(tms, "WebMercatorQuad") == 0 || strcmp(tms, "DE_EPSG_25832_ADV") == 0)
        return ts_grid_builtin(tms);
    return NULL;
}

static const ts_ows_catalog cat = {NULL, cat_layer, cat_style, cat_grid};

static const char *const offered[] = {"EPSG:3857", "EPSG:4326",  "CRS:84",
                                      "EPSG:4258", "EPSG:25832", "EPSG:25833",
                                      "EPSG:3044", "EPSG:31466", "EPSG:31467"};
static const ts_wms_options opts = {2048, 2048, 2048L * 1024, 4, 10, offered, 9, "42"};

/* Parse q; on failure check the code and locator. Returns the status. */
static ts_status
wms(const char *q, ts_wms_req *r, ts_ows_fault *f)
{
    return ts_ows_parse_wms(q, &opts, &cat, r, f);
}

#define WMS_FAILS(q, want_code, want_locator)                                                      \
    do {                                                                                           \
        ts_wms_req r_;                                                                             \
        ts_ows_fault f_;                                                                           \
        ts_status st_ = wms((q), &r_, &f_);                                                        \
        if (st_ == TS_OK || f_.code != (want_code) || strcmp(f_.locator, (want_locator)) != 0 ||   \
            f_.err.msg[0] == '\0')                                                                 \
            ts_test_fail(__FILE__, __LINE__, "%s: got status %d code %s locator '%s' (%s)", (q),   \
                         st_, ts_ows_code_name(f_.code, 0), f_.locator, f_.err.msg);               \
        ts_ows_wms_req_free(&r_);                                                                  \
    } while (0)

#define GETMAP13 "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&WIDTH=256&HEIGHT=256"
#define GETMAP11 "SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&FORMAT=image/png&WIDTH=256&HEIGHT=256"

TS_TEST(wms_getcapabilities_version_negotiation)
{
    struct {
        const char *q;
        int version;
    } cases[] = {{"SERVICE=WMS&REQUEST=GetCapabilities", 130},
                 {"service=wms&request=getcapabilities&version=1.3.0", 130},
                 {"SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1", 111},
                 {"SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.0", 111}, /* below: lowest */
                 {"SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.2.0", 111}, /* between: lower */
                 {"SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.4.0", 130}, /* above: highest */
                 {"SERVICE=WMS&REQUEST=GetCapabilities&VERSION=2.0.0", 130},
                 {"SERVICE=WMS&REQUEST=capabilities&WMTVER=1.0.8", 111},
                 /* SERVICE left out on the WMS endpoint (WMS 1.0 had none) */
                 {"REQUEST=GetCapabilities", 130},
                 {"WMTVER=1.0.0&REQUEST=capabilities", 111}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_wms_req r;
        ts_ows_fault f;
        ts_status st = wms(cases[i].q, &r, &f);
        if (st != TS_OK || r.op != TS_WMS_GETCAPABILITIES || r.version != cases[i].version)
            ts_test_fail(__FILE__, __LINE__, "%s: status %d version %d (%s)", cases[i].q, st,
                         r.version, f.err.msg);
        ts_ows_wms_req_free(&r);
    }
    WMS_FAILS("SERVICE=WFS&REQUEST=GetCapabilities", TS_OWS_INVALID_PARAMETER_VALUE, "SERVICE");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetCapabilities&VERSION=one", TS_OWS_VERSION_NEGOTIATION_FAILED,
              "VERSION");
    WMS_FAILS("SERVICE=WMS", TS_OWS_MISSING_PARAMETER_VALUE, "REQUEST");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetStyles", TS_OWS_OPERATION_NOT_SUPPORTED, "REQUEST");
}

TS_TEST(wms_update_sequence)
{
    ts_wms_req r;
    ts_ows_fault f;
    /* older than the current "42": the full document */
    TS_CHECK_INT(wms("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=9", &r, &f), TS_OK);
    TS_CHECK_STR(r.update_sequence, "9");
    ts_ows_wms_req_free(&r);
    WMS_FAILS("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=42",
              TS_OWS_CURRENT_UPDATE_SEQUENCE, "UPDATESEQUENCE");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=042",
              TS_OWS_CURRENT_UPDATE_SEQUENCE, "UPDATESEQUENCE");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=100",
              TS_OWS_INVALID_UPDATE_SEQUENCE, "UPDATESEQUENCE");
    /* a word against the numeric "42" does not compare: taken as older, the full document */
    TS_CHECK_INT(wms("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=abc", &r, &f), TS_OK);
    ts_ows_wms_req_free(&r);
    /* timestamps compare as strings */
    ts_wms_options o = opts;
    o.update_sequence = "2024-05-01T10:00:00Z";
    TS_CHECK_INT(ts_ows_parse_wms("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=2024-04-30T"
                                  "00:00:00Z",
                                  &o, &cat, &r, &f),
                 TS_OK);
    ts_ows_wms_req_free(&r);
    TS_CHECK_INT(ts_ows_parse_wms("SERVICE=WMS&REQUEST=GetCapabilities&UPDATESEQUENCE=2025-01-01T"
                                  "00:00:00Z",
                                  &o, &cat, &r, &f),
                 TS_EINVAL);
    TS_CHECK_INT(f.code, TS_OWS_INVALID_UPDATE_SEQUENCE);
    ts_ows_wms_req_free(&r);
}

TS_TEST(wms_getmap_130_full)
{
    ts_wms_req r;
    ts_ows_fault f;
    TS_REQUIRE(wms("service=WMS&version=1.3.0&request=GetMap&layers=parcels,buildings"
                   "&styles=numbers,&crs=EPSG:25832&bbox=340000,5670000,350000,5680000"
                   "&width=1024&height=768&format=image%2Fpng%3B%20mode%3D8bit&transparent=TRUE"
                   "&bgcolor=0x112233&exceptions=INIMAGE&DPI=180"
                   "&SLD_BODY=%3CStyledLayerDescriptor%2F%3E",
                   &r, &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMS_GETMAP);
    TS_CHECK_INT(r.version, 130);
    TS_REQUIRE(r.nlayers == 2);
    TS_CHECK_STR(r.layers[0], "parcels");
    TS_CHECK_STR(r.layers[1], "buildings");
    TS_CHECK_STR(r.styles[0], "numbers");
    TS_CHECK_STR(r.styles[1], "");
    TS_CHECK(r.crs == ts_grid_crs_find("EPSG:25832"));
    TS_CHECK(r.bbox.minx == 340000 && r.bbox.miny == 5670000 && r.bbox.maxx == 350000 &&
             r.bbox.maxy == 5680000);
    TS_CHECK_INT(r.width, 1024);
    TS_CHECK_INT(r.height, 768);
    TS_CHECK_INT(r.format, TS_IMG_PNG8);
    TS_CHECK_INT(r.transparent, 1);
    TS_CHECK(r.bgcolor[0] == 0x11 && r.bgcolor[1] == 0x22 && r.bgcolor[2] == 0x33);
    TS_CHECK_INT(r.exceptions, TS_EXC_INIMAGE);
    TS_CHECK_NEAR(r.dpi, 180, 0);
    TS_CHECK_STR(r.sld_body, "<StyledLayerDescriptor/>");
    ts_ows_wms_req_free(&r);

    /* defaults: opaque white, XML exceptions, no DPI; STYLES absent = defaults */
    TS_REQUIRE(wms(GETMAP13 "&LAYERS=city&CRS=EPSG:3857&BBOX=0,0,1,1", &r, &f) == TS_OK);
    TS_CHECK_INT(r.transparent, 0);
    TS_CHECK(r.bgcolor[0] == 0xff && r.bgcolor[1] == 0xff && r.bgcolor[2] == 0xff);
    TS_CHECK_INT(r.exceptions, TS_EXC_XML);
    TS_CHECK_NEAR(r.dpi, 0, 0);
    TS_CHECK_STR(r.styles[0], "");
    TS_CHECK(r.sld_body == NULL);
    TS_CHECK_INT(r.format, TS_IMG_PNG);
    ts_ows_wms_req_free(&r);
}

/* The box a request names, in tilesrv's x = east order. */
static ts_bbox
getmap_box(const char *q)
{
    ts_wms_req r;
    ts_ows_fault f;
    ts_bbox b = {NAN, NAN, NAN, NAN};
    if (wms(q, &r, &f) == TS_OK)
        b = r.bbox;
    else
        ts_test_fail(__FILE__, __LINE__, "%s: %s", q, f.err.msg);
    ts_ows_wms_req_free(&r);
    return b;
}

TS_TEST(wms_bbox_axis_order_per_version_and_crs)
{
    /* 1.3.0 EPSG:4326: BBOX=minlat,minlon,maxlat,maxlon */
    ts_bbox b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=EPSG:4326&BBOX=51.1,6.7,51.3,6.9");
    TS_CHECK(b.minx == 6.7 && b.miny == 51.1 && b.maxx == 6.9 && b.maxy == 51.3);
    /* 1.3.0 EPSG:4258 likewise */
    b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=EPSG:4258&BBOX=51.1,6.7,51.3,6.9");
    TS_CHECK(b.minx == 6.7 && b.miny == 51.1);
    /* 1.3.0 CRS:84: lon,lat */
    b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=CRS:84&BBOX=6.7,51.1,6.9,51.3");
    TS_CHECK(b.minx == 6.7 && b.miny == 51.1 && b.maxx == 6.9 && b.maxy == 51.3);
    /* 1.1.1 EPSG:4326: lon,lat */
    b = getmap_box(GETMAP11 "&LAYERS=parcels&SRS=EPSG:4326&BBOX=6.7,51.1,6.9,51.3");
    TS_CHECK(b.minx == 6.7 && b.miny == 51.1 && b.maxx == 6.9 && b.maxy == 51.3);
    /* 1.3.0 Gauss-Krüger zone 2 (EPSG:31466) is northing,easting */
    b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=EPSG:31466&BBOX=5677000,2550000,5678000,2551000");
    TS_CHECK(b.minx == 2550000 && b.miny == 5677000 && b.maxx == 2551000 && b.maxy == 5678000);
    /* 1.1.1 EPSG:31466 stays x,y */
    b = getmap_box(GETMAP11 "&LAYERS=parcels&SRS=EPSG:31466&BBOX=2550000,5677000,2551000,5678000");
    TS_CHECK(b.minx == 2550000 && b.miny == 5677000);
    /* 1.3.0 EPSG:3044 (N-E) swaps, EPSG:25832 does not */
    b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3044&BBOX=5677000,340000,5678000,341000");
    TS_CHECK(b.minx == 340000 && b.miny == 5677000);
    b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=EPSG:25832&BBOX=340000,5677000,341000,5678000");
    TS_CHECK(b.minx == 340000 && b.miny == 5677000);
    /* URN and http CRS names are accepted */
    b = getmap_box(GETMAP13 "&LAYERS=parcels&CRS=urn:ogc:def:crs:EPSG::4326&BBOX=51,6,52,7");
    TS_CHECK(b.minx == 6 && b.miny == 51);
    /* an empty box after the swap is refused: lon,lat order sent in 1.3.0 EPSG:4326 with
     * lat range inverted */
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:4326&BBOX=6.9,51.3,6.7,51.1",
              TS_OWS_INVALID_PARAMETER_VALUE, "BBOX");
}

TS_TEST(wms_every_exception_code)
{
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image%2Fgif&WIDTH=1&HEIGHT=1"
              "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1",
              TS_OWS_INVALID_FORMAT, "FORMAT");
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/gif&WIDTH=1&HEIGHT=1",
              TS_OWS_INVALID_FORMAT, "FORMAT");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:2056&BBOX=0,0,1,1", TS_OWS_INVALID_CRS, "CRS");
    WMS_FAILS(GETMAP11 "&LAYERS=parcels&SRS=EPSG:2056&BBOX=0,0,1,1", TS_OWS_INVALID_CRS, "SRS");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1&STYLES=fancy",
              TS_OWS_STYLE_NOT_DEFINED, "STYLES");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels,buildings&CRS=EPSG:3857&BBOX=0,0,1,1&STYLES=numbers",
              TS_OWS_STYLE_NOT_DEFINED, "STYLES");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels,roads&CRS=EPSG:3857&BBOX=0,0,1,1", TS_OWS_LAYER_NOT_DEFINED,
              "LAYERS");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels,,city&CRS=EPSG:3857&BBOX=0,0,1,1", TS_OWS_LAYER_NOT_DEFINED,
              "LAYERS");
    WMS_FAILS(GETMAP13 "&CRS=EPSG:3857&BBOX=0,0,1,1", TS_OWS_MISSING_PARAMETER_VALUE, "LAYERS");
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&HEIGHT=2&LAYERS=parcels"
              "&CRS=EPSG:3857&BBOX=0,0,1,1",
              TS_OWS_MISSING_PARAMETER_VALUE, "WIDTH");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&BBOX=0,0,1,1", TS_OWS_MISSING_PARAMETER_VALUE, "CRS");
    WMS_FAILS(GETMAP11 "&LAYERS=parcels&BBOX=0,0,1,1", TS_OWS_MISSING_PARAMETER_VALUE, "SRS");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857", TS_OWS_MISSING_PARAMETER_VALUE, "BBOX");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetMap&LAYERS=parcels", TS_OWS_MISSING_PARAMETER_VALUE,
              "VERSION");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1", TS_OWS_INVALID_PARAMETER_VALUE,
              "BBOX");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1,5",
              TS_OWS_INVALID_PARAMETER_VALUE, "BBOX");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,nan,1",
              TS_OWS_INVALID_PARAMETER_VALUE, "BBOX");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1e999,1",
              TS_OWS_INVALID_PARAMETER_VALUE, "BBOX");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=1,0,1,1", TS_OWS_INVALID_PARAMETER_VALUE,
              "BBOX");
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&WIDTH=-5&HEIGHT=2",
              TS_OWS_INVALID_PARAMETER_VALUE, "WIDTH");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1&TRANSPARENT=maybe",
              TS_OWS_INVALID_PARAMETER_VALUE, "TRANSPARENT");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1&BGCOLOR=red",
              TS_OWS_INVALID_PARAMETER_VALUE, "BGCOLOR");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1&EXCEPTIONS=PDF",
              TS_OWS_INVALID_PARAMETER_VALUE, "EXCEPTIONS");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1&DPI=5",
              TS_OWS_INVALID_PARAMETER_VALUE, "DPI");
    WMS_FAILS(GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1&SLD=http://x/s.sld",
              TS_OWS_OPERATION_NOT_SUPPORTED, "SLD");
    WMS_FAILS("SERVICE=WMS&VERSION=1.2.0&REQUEST=GetMap", TS_OWS_VERSION_NEGOTIATION_FAILED,
              "VERSION");
    /* the versions before 1.1.1 as 1.1.1 (old clients send theirs with every GetMap) */
    static const char *const older[] = {"1.1.0", "1.0.0", "1.0.8"};
    for (size_t i = 0; i < sizeof older / sizeof older[0]; i++) {
        char q[256];
        snprintf(q, sizeof q,
                 "SERVICE=WMS&VERSION=%s&REQUEST=map&FORMAT=image/png&WIDTH=8&HEIGHT=8"
                 "&LAYERS=parcels&STYLES=&SRS=EPSG:3857&BBOX=0,0,1,1",
                 older[i]);
        ts_wms_req r;
        ts_ows_fault f;
        TS_CHECK_INT(wms(q, &r, &f), TS_OK);
        TS_CHECK_INT(r.version, 111);
        ts_ows_wms_req_free(&r);
    }
    WMS_FAILS("SERVICE=WMTS&VERSION=1.3.0&REQUEST=GetMap", TS_OWS_INVALID_PARAMETER_VALUE,
              "SERVICE");
    WMS_FAILS("a=%zz", TS_OWS_INVALID_PARAMETER_VALUE, "");
}

TS_TEST(wms_limits_are_enforced)
{
    ts_wms_req r;
    ts_ows_fault f;
    /* max_width 2048 */
    TS_CHECK_INT(wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&WIDTH=2049"
                     "&HEIGHT=10",
                     &r, &f),
                 TS_ELIMIT);
    TS_CHECK_INT(f.code, TS_OWS_INVALID_PARAMETER_VALUE);
    TS_CHECK_STR(f.locator, "WIDTH");
    ts_ows_wms_req_free(&r);
    /* max_pixels 2048 * 1024 */
    TS_CHECK_INT(wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&WIDTH=2048"
                     "&HEIGHT=2048",
                     &r, &f),
                 TS_ELIMIT);
    TS_CHECK_INT(r.width, 0); /* too large for an INIMAGE answer as well */
    ts_ows_wms_req_free(&r);
    /* max_layers 4 */
    TS_CHECK_INT(
        wms(GETMAP13 "&CRS=EPSG:3857&BBOX=0,0,1,1&LAYERS=city,city,city,city,city", &r, &f),
        TS_ELIMIT);
    TS_CHECK_STR(f.locator, "LAYERS");
    ts_ows_wms_req_free(&r);
    TS_CHECK_INT(wms(GETMAP13 "&CRS=EPSG:3857&BBOX=0,0,1,1&LAYERS=city,city,city,city", &r, &f),
                 TS_OK);
    ts_ows_wms_req_free(&r);
    /* a huge number is refused, not overflowed */
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&FORMAT=image/png&WIDTH="
              "99999999999999999999999&HEIGHT=1",
              TS_OWS_INVALID_PARAMETER_VALUE, "WIDTH");
}

TS_TEST(wms_failure_keeps_what_inimage_needs)
{
    ts_wms_req r;
    ts_ows_fault f;
    TS_CHECK(wms(GETMAP11 "&EXCEPTIONS=application/vnd.ogc.se_inimage&LAYERS=nope&SRS=EPSG:3857"
                          "&BBOX=0,0,1,1&TRANSPARENT=TRUE",
                 &r, &f) != TS_OK);
    TS_CHECK_INT(f.code, TS_OWS_LAYER_NOT_DEFINED);
    TS_CHECK_INT(r.version, 111);
    TS_CHECK_INT(r.exceptions, TS_EXC_INIMAGE);
    TS_CHECK_INT(r.width, 256);
    TS_CHECK_INT(r.height, 256);
    TS_CHECK_INT(r.format, TS_IMG_PNG);
    TS_CHECK_INT(r.transparent, 1);
    ts_ows_wms_req_free(&r);
    TS_CHECK(wms(GETMAP13 "&EXCEPTIONS=blank&LAYERS=nope&CRS=EPSG:3857&BBOX=0,0,1,1", &r, &f) !=
             TS_OK);
    TS_CHECK_INT(r.exceptions, TS_EXC_BLANK);
    ts_ows_wms_req_free(&r);
}

TS_TEST(wms_dpi_forms)
{
    ts_wms_req r;
    ts_ows_fault f;
    const char *base = GETMAP13 "&LAYERS=parcels&CRS=EPSG:3857&BBOX=0,0,1,1";
    char q[512];
    snprintf(q, sizeof q, "%s&MAP_RESOLUTION=144", base);
    TS_REQUIRE(wms(q, &r, &f) == TS_OK);
    TS_CHECK_NEAR(r.dpi, 144, 0);
    ts_ows_wms_req_free(&r);
    snprintf(q, sizeof q, "%s&FORMAT_OPTIONS=antialias:full;dpi:192", base);
    TS_REQUIRE(wms(q, &r, &f) == TS_OK);
    TS_CHECK_NEAR(r.dpi, 192, 0);
    ts_ows_wms_req_free(&r);
    /* QGIS sends all three; DPI wins */
    snprintf(q, sizeof q, "%s&DPI=96&MAP_RESOLUTION=96&FORMAT_OPTIONS=dpi:96", base);
    TS_REQUIRE(wms(q, &r, &f) == TS_OK);
    TS_CHECK_NEAR(r.dpi, 96, 0);
    ts_ows_wms_req_free(&r);
    snprintf(q, sizeof q, "%s&FORMAT_OPTIONS=dpi:x", base);
    WMS_FAILS(q, TS_OWS_INVALID_PARAMETER_VALUE, "FORMAT_OPTIONS");
}

#define GFI13                                                                                      \
    "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=parcels"         \
    "&CRS=EPSG:25832&BBOX=340000,5670000,341000,5671000&WIDTH=256&HEIGHT=256&STYLES="

TS_TEST(wms_getfeatureinfo)
{
    ts_wms_req r;
    ts_ows_fault f;
    TS_REQUIRE(wms(GFI13 "&I=10&J=255&INFO_FORMAT=application/json&FEATURE_COUNT=5", &r, &f) ==
               TS_OK);
    TS_CHECK_INT(r.op, TS_WMS_GETFEATUREINFO);
    TS_CHECK_INT(r.i, 10);
    TS_CHECK_INT(r.j, 255);
    TS_CHECK_INT(r.info_format, TS_INFO_JSON);
    TS_CHECK_INT(r.feature_count, 5);
    TS_REQUIRE(r.nquery_layers == 1);
    TS_CHECK_STR(r.query_layers[0], "parcels");
    ts_ows_wms_req_free(&r);
    /* 1.1.1 uses X/Y; FEATURE_COUNT is clamped to the limit (10); default text/plain */
    TS_REQUIRE(wms("SERVICE=WMS&VERSION=1.1.1&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS="
                   "parcels&SRS=EPSG:4326&BBOX=6,51,7,52&WIDTH=100&HEIGHT=50&X=99&Y=0&FEATURE_"
                   "COUNT=1000",
                   &r, &f) == TS_OK);
    TS_CHECK_INT(r.i, 99);
    TS_CHECK_INT(r.j, 0);
    TS_CHECK_INT(r.feature_count, 10);
    TS_CHECK_INT(r.info_format, TS_INFO_TEXT);
    TS_CHECK(r.bbox.minx == 6 && r.bbox.miny == 51);
    ts_ows_wms_req_free(&r);
    WMS_FAILS(GFI13 "&I=256&J=0", TS_OWS_INVALID_POINT, "I");
    WMS_FAILS(GFI13 "&I=0&J=-1", TS_OWS_INVALID_POINT, "J");
    WMS_FAILS(GFI13 "&I=x&J=1", TS_OWS_INVALID_POINT, "I");
    WMS_FAILS(GFI13 "&J=1", TS_OWS_MISSING_PARAMETER_VALUE, "I");
    WMS_FAILS(GFI13 "&I=1&J=1&INFO_FORMAT=image/png", TS_OWS_INVALID_FORMAT, "INFO_FORMAT");
    WMS_FAILS(GFI13 "&I=1&J=1&FEATURE_COUNT=0", TS_OWS_INVALID_PARAMETER_VALUE, "FEATURE_COUNT");
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=buildings&QUERY_LAYERS="
              "buildings&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=2&HEIGHT=2&I=0&J=0",
              TS_OWS_LAYER_NOT_QUERYABLE, "QUERY_LAYERS");
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=parcels&QUERY_LAYERS=x"
              "&CRS=EPSG:3857&BBOX=0,0,1,1&WIDTH=2&HEIGHT=2&I=0&J=0",
              TS_OWS_LAYER_NOT_DEFINED, "QUERY_LAYERS");
    WMS_FAILS("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=parcels&CRS=EPSG:3857"
              "&BBOX=0,0,1,1&WIDTH=2&HEIGHT=2&I=0&J=0",
              TS_OWS_MISSING_PARAMETER_VALUE, "QUERY_LAYERS");
}

TS_TEST(wms_getlegendgraphic)
{
    ts_wms_req r;
    ts_ows_fault f;
    TS_REQUIRE(wms("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=parcels&STYLE=numbers"
                   "&RULE=Flurst%C3%BCck&FORMAT=image/png&WIDTH=30&HEIGHT=20&SCALE=5000"
                   "&SLD_VERSION=1.1.0",
                   &r, &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMS_GETLEGENDGRAPHIC);
    TS_CHECK_STR(r.layer, "parcels");
    TS_CHECK_STR(r.style, "numbers");
    TS_CHECK_STR(r.rule, "Flurstück");
    TS_CHECK_INT(r.width, 30);
    TS_CHECK_INT(r.height, 20);
    TS_CHECK_NEAR(r.scale, 5000, 0);
    ts_ows_wms_req_free(&r);
    /* no VERSION, no STYLE, no size: the whole default style */
    TS_REQUIRE(wms("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=buildings&FORMAT=image/png", &r,
                   &f) == TS_OK);
    TS_CHECK_STR(r.style, "");
    TS_CHECK(r.rule == NULL);
    TS_CHECK_INT(r.width, 0);
    ts_ows_wms_req_free(&r);
    WMS_FAILS("SERVICE=WMS&REQUEST=GetLegendGraphic&FORMAT=image/png",
              TS_OWS_MISSING_PARAMETER_VALUE, "LAYER");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=x&FORMAT=image/png",
              TS_OWS_LAYER_NOT_DEFINED, "LAYER");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=parcels&STYLE=x&FORMAT=image/png",
              TS_OWS_STYLE_NOT_DEFINED, "STYLE");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=parcels&FORMAT=text/html",
              TS_OWS_INVALID_FORMAT, "FORMAT");
    WMS_FAILS("SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=parcels&FORMAT=image/png&SCALE=-1",
              TS_OWS_INVALID_PARAMETER_VALUE, "SCALE");
}

TS_TEST(wms_exception_reports)
{
    ts_wms_req r;
    ts_ows_fault f;
    TS_CHECK(wms(GETMAP11 "&LAYERS=parcels&SRS=EPSG:9999&BBOX=0,0,1,1", &r, &f) != TS_OK);
    ts_ows_wms_req_free(&r);
    ts_buf b;
    ts_buf_init(&b, 1 << 16);
    TS_REQUIRE(ts_ows_write_wms_exception(&f, 111, &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "<ServiceException code=\"InvalidSRS\">") != NULL);
    TS_CHECK(strstr(s, "version=\"1.1.1\"") != NULL);
    TS_CHECK(strstr(s, "EPSG:9999") != NULL);
    ts_buf_fini(&b);
    TS_CHECK(wms(GETMAP13 "&LAYERS=%3Cscript%3E&CRS=EPSG:3857&BBOX=0,0,1,1", &r, &f) != TS_OK);
    ts_ows_wms_req_free(&r);
    ts_buf_init(&b, 1 << 16);
    TS_REQUIRE(ts_ows_write_wms_exception(&f, 130, &b) == TS_OK);
    s = (const char *)b.data;
    TS_CHECK(strstr(s, "code=\"LayerNotDefined\" locator=\"LAYERS\"") != NULL);
    TS_CHECK(strstr(s, "&lt;script&gt;") != NULL && strstr(s, "<script>") == NULL);
    TS_CHECK_STR(ts_ows_wms_exception_mime(111), "application/vnd.ogc.se_xml");
    ts_buf_fini(&b);
}

/* ==== WMTS ============================================================================= */

static ts_status
wmts_kvp(const char *q, ts_wmts_req *r, ts_ows_fault *f)
{
    return ts_ows_parse_wmts_kvp(q, "7", &cat, r, f);
}

#define WMTS_FAILS(q, want_code, want_locator)                                                     \
    do {                                                                                           \
        ts_wmts_req r_;                                                                            \
        ts_ows_fault f_;                                                                           \
        ts_status st_ = wmts_kvp((q), &r_, &f_);                                                   \
        if (st_ == TS_OK || f_.code != (want_code) || strcmp(f_.locator, (want_locator)) != 0 ||   \
            f_.err.msg[0] == '\0')                                                                 \
            ts_test_fail(__FILE__, __LINE__, "%s: got status %d code %s locator '%s' (%s)", (q),   \
                         st_, ts_ows_code_name(f_.code, 0), f_.locator, f_.err.msg);               \
    } while (0)

#define GETTILE                                                                                    \
    "SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=parcels&STYLE=default&FORMAT=image/png"      \
    "&TILEMATRIXSET=DE_EPSG_25832_ADV"

TS_TEST(wmts_kvp_requests)
{
    ts_wmts_req r;
    ts_ows_fault f;
    TS_REQUIRE(wmts_kvp("service=WMTS&request=GetCapabilities&AcceptVersions=2.0.0,1.0.0", &r,
                        &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMTS_GETCAPABILITIES);
    TS_CHECK_INT(r.up_to_date, 0);
    TS_REQUIRE(wmts_kvp("SERVICE=WMTS&REQUEST=GetCapabilities&UPDATESEQUENCE=7", &r, &f) == TS_OK);
    TS_CHECK_INT(r.up_to_date, 1);
    TS_REQUIRE(wmts_kvp(GETTILE "&TILEMATRIX=13&TILEROW=4074&TILECOL=2549", &r, &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMTS_GETTILE);
    TS_CHECK(r.grid == ts_grid_builtin("DE_EPSG_25832_ADV"));
    TS_CHECK_INT(r.z, 13);
    TS_CHECK_INT(r.row, 4074);
    TS_CHECK_INT(r.col, 2549);
    TS_CHECK_STR(r.layer, "parcels");
    TS_CHECK_STR(r.style, "default");
    TS_CHECK_INT(r.format, TS_IMG_PNG);
    TS_REQUIRE(wmts_kvp(GETTILE "&TILEMATRIX=07&TILEROW=0&TILECOL=127", &r, &f) == TS_OK);
    TS_CHECK_INT(r.z, 7);
    TS_REQUIRE(wmts_kvp("SERVICE=WMTS&REQUEST=GetFeatureInfo&VERSION=1.0.0&LAYER=parcels&STYLE="
                        "&FORMAT=image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=16&TILEROW="
                        "21873&TILECOL=34001&I=3&J=255&INFOFORMAT=text/html",
                        &r, &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMTS_GETFEATUREINFO);
    TS_CHECK_INT(r.i, 3);
    TS_CHECK_INT(r.j, 255);
    TS_CHECK_INT(r.info_format, TS_INFO_HTML);

    WMTS_FAILS("REQUEST=GetCapabilities", TS_OWS_MISSING_PARAMETER_VALUE, "SERVICE");
    WMTS_FAILS("SERVICE=WMS&REQUEST=GetCapabilities", TS_OWS_INVALID_PARAMETER_VALUE, "SERVICE");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetCapabilities&ACCEPTVERSIONS=2.0.0",
               TS_OWS_VERSION_NEGOTIATION_FAILED, "AcceptVersions");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetCapabilities&UPDATESEQUENCE=8",
               TS_OWS_INVALID_UPDATE_SEQUENCE, "updateSequence");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=DescribeDomains", TS_OWS_OPERATION_NOT_SUPPORTED, "REQUEST");
    WMTS_FAILS(GETTILE "&TILEMATRIX=7&TILEROW=0&TILECOL=0", TS_OWS_INVALID_PARAMETER_VALUE,
               "TILEMATRIX");
    WMTS_FAILS(GETTILE "&TILEMATRIX=07&TILEROW=128&TILECOL=0", TS_OWS_TILE_OUT_OF_RANGE, "TILEROW");
    WMTS_FAILS(GETTILE "&TILEMATRIX=07&TILEROW=0&TILECOL=128", TS_OWS_TILE_OUT_OF_RANGE, "TILECOL");
    WMTS_FAILS(GETTILE "&TILEMATRIX=07&TILEROW=-1&TILECOL=0", TS_OWS_TILE_OUT_OF_RANGE,
               "TILEROW");
    WMTS_FAILS(GETTILE "&TILEMATRIX=07&TILEROW=x1&TILECOL=0", TS_OWS_INVALID_PARAMETER_VALUE,
               "TILEROW");
    WMTS_FAILS(GETTILE "&TILEMATRIX=07&TILEROW=0", TS_OWS_MISSING_PARAMETER_VALUE, "TILECOL");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=roads&STYLE=default&FORMAT="
               "image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=0&TILEROW=0&TILECOL=0",
               TS_OWS_INVALID_PARAMETER_VALUE, "LAYER");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=parcels&STYLE=fancy&FORMAT="
               "image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=0&TILEROW=0&TILECOL=0",
               TS_OWS_INVALID_PARAMETER_VALUE, "STYLE");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=parcels&STYLE=default&FORMAT="
               "image/png&TILEMATRIXSET=WorldCRS84Quad&TILEMATRIX=0&TILEROW=0&TILECOL=0",
               TS_OWS_INVALID_PARAMETER_VALUE, "TILEMATRIXSET");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=parcels&STYLE=default&FORMAT="
               "image/gif&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=0&TILEROW=0&TILECOL=0",
               TS_OWS_INVALID_PARAMETER_VALUE, "FORMAT");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetTile&VERSION=2.0.0", TS_OWS_INVALID_PARAMETER_VALUE,
               "VERSION");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetFeatureInfo&VERSION=1.0.0&LAYER=parcels&STYLE=&FORMAT="
               "image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=1&TILEROW=0&TILECOL=0&I=256&J=0"
               "&INFOFORMAT=text/plain",
               TS_OWS_POINT_IJ_OUT_OF_RANGE, "I");
    WMTS_FAILS("SERVICE=WMTS&REQUEST=GetFeatureInfo&VERSION=1.0.0&LAYER=parcels&STYLE=&FORMAT="
               "image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=1&TILEROW=0&TILECOL=0&I=2&J=0"
               "&INFOFORMAT=image/png",
               TS_OWS_INVALID_PARAMETER_VALUE, "INFOFORMAT");
}

TS_TEST(wmts_rest_paths)
{
    ts_wmts_req r;
    ts_ows_fault f;
    TS_REQUIRE(ts_ows_parse_wmts_rest("WMTSCapabilities.xml", &cat, &r, &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMTS_GETCAPABILITIES);
    TS_CHECK_INT(r.rest, 1);
    TS_REQUIRE(ts_ows_parse_wmts_rest("parcels/default/DE_EPSG_25832_ADV/09/509/318.png", &cat, &r,
                                      &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMTS_GETTILE);
    TS_CHECK_INT(r.z, 9);
    TS_CHECK_INT(r.row, 509);
    TS_CHECK_INT(r.col, 318);
    TS_CHECK_STR(r.tms, "DE_EPSG_25832_ADV");
    TS_CHECK_INT(r.format, TS_IMG_PNG);
    TS_REQUIRE(ts_ows_parse_wmts_rest("parcels/default/WebMercatorQuad/3/2/5.jpg", &cat, &r, &f) ==
               TS_OK);
    TS_CHECK_INT(r.format, TS_IMG_JPEG);
    TS_REQUIRE(ts_ows_parse_wmts_rest("parcels/default/WebMercatorQuad/3/2/5/17/200.json", &cat, &r,
                                      &f) == TS_OK);
    TS_CHECK_INT(r.op, TS_WMTS_GETFEATUREINFO);
    TS_CHECK_INT(r.j, 17);
    TS_CHECK_INT(r.i, 200);
    TS_CHECK_INT(r.info_format, TS_INFO_JSON);
    struct {
        const char *path;
        ts_ows_code code;
    } bad[] = {
        {"parcels/default/WebMercatorQuad/3/2/5", TS_OWS_INVALID_PARAMETER_VALUE},
        {"parcels/default/WebMercatorQuad/3/2/5.gif", TS_OWS_INVALID_PARAMETER_VALUE},
        {"parcels/default/WebMercatorQuad/3/2/5.json", TS_OWS_INVALID_PARAMETER_VALUE},
        {"parcels/default/WebMercatorQuad/3/2/5/1/1.png", TS_OWS_INVALID_PARAMETER_VALUE},
        {"parcels/default/WebMercatorQuad/3/8/5.png", TS_OWS_TILE_OUT_OF_RANGE},
        {"parcels/default/WebMercatorQuad/3/2/5/1/256.txt", TS_OWS_POINT_IJ_OUT_OF_RANGE},
        {"parcels//WebMercatorQuad/3/2/5.png", TS_OWS_INVALID_PARAMETER_VALUE},
        {"parcels/default/WebMercatorQuad/25/0/0.png", TS_OWS_INVALID_PARAMETER_VALUE},
        {"a/b/c/d/e/f/g/h/i.png", TS_OWS_INVALID_PARAMETER_VALUE},
        {"", TS_OWS_INVALID_PARAMETER_VALUE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_status st = ts_ows_parse_wmts_rest(bad[i].path, &cat, &r, &f);
        if (st == TS_OK || f.code != bad[i].code || f.err.msg[0] == '\0')
            ts_test_fail(__FILE__, __LINE__, "'%s': status %d code %s", bad[i].path, st,
                         ts_ows_code_name(f.code, 0));
    }
}

/* ==== documents, validated with xmllint against the OGC schemas ======================= */

static char *
write_file(const char *name, const ts_buf *b)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", ts_test_tmpdir(), name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return NULL;
    fwrite(b->data, 1, b->len, fp);
    fclose(fp);
    return path;
}

/* An XML catalog that maps the DTD system identifiers the WMS 1.1.1 documents name to the
 * local copies, so xmllint --nonet never reaches for the network. Returns its path. */
static const char *
catalog(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/catalog.xml", ts_test_tmpdir());
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return "";
    const char *d = ts_test_srcdir();
    fprintf(fp,
            "<?xml version=\"1.0\"?>\n"
            "<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n"
            "  <system systemId=\"http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd\""
            " uri=\"file://%s/tests/data/ows/schemas/wms/1.1.1/capabilities_1_1_1.dtd\"/>\n"
            "  <system systemId=\"http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd\""
            " uri=\"file://%s/tests/data/ows/schemas/wms/1.1.1/exception_1_1_1.dtd\"/>\n"
            "</catalog>\n",
            d, d);
    fclose(fp);
    return path;
}

/* 1 if xmllint validates the document against schema (an .xsd) or dtd (a .dtd), or with
 * schema NULL, finds it well-formed. */
static int
xmllint_ok(const char *doc, const char *schema_rel)
{
    char cmd[4096];
    const char *ext = schema_rel ? strrchr(schema_rel, '.') : NULL;
    int dtd = ext && strcmp(ext, ".dtd") == 0;
    if (schema_rel == NULL) /* well-formedness only (TMS has no schema) */
        snprintf(cmd, sizeof cmd, "xmllint --noout --nonet '%s' 2>&1", doc);
    else
        snprintf(cmd, sizeof cmd,
                 "XML_CATALOG_FILES='%s' xmllint --noout --nonet %s "
                 "'%s/tests/data/ows/schemas/%s' '%s' 2>&1",
                 catalog(), dtd ? "--dtdvalid" : "--schema", ts_test_srcdir(), schema_rel, doc);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return 0;
    char line[512];
    int shown = 0;
    while (fgets(line, sizeof line, p) != NULL)
        if (strstr(line, "validates") == NULL) {
            if (shown++ < 10)
                fprintf(stderr, "    xmllint: %s", line);
        }
    int rc = pclose(p);
    return rc == 0 && shown == 0; /* warnings (e.g. a network entity) count as failure */
}

static const ts_ows_service svc = {"Stadtplan Düsseldorf & <Umgebung>",
                                   "Liegenschaftskarte, Parken und Luftqualität",
                                   (const char *const[]){"Kataster", "Parken"},
                                   2,
                                   "https://www.duesseldorf.de/",
                                   NULL,
                                   "dl-de/by-2-0",
                                   {"Erika Mustermann", "Landeshauptstadt Düsseldorf", "GIS",
                                    "Brinckmannstr. 5", "Düsseldorf", "NRW", "40225", "Germany",
                                    "+49 211 0", "gis@duesseldorf.de"},
                                   "17"};

static const ts_ows_style parcel_styles[] = {
    {"default", "Flurstücke", NULL,
     "http://h:8080/wms?SERVICE=WMS&REQUEST=GetLegendGraphic&LAYER=parcels&FORMAT=image/png", 120,
     60},
    {"numbers", "Flurstücksnummern", "Zähler/Nenner", NULL, 0, 0}};

static void
fill_wms_caps(ts_wms_capabilities *c, ts_ows_layer *root, ts_ows_layer *kids, ts_ows_bbox *bbs,
              const ts_crs **crs)
{
    for (int i = 0; i < ts_grid_crs_count(); i++)
        crs[i] = ts_grid_crs_at(i);
    bbs[0] = (ts_ows_bbox){ts_grid_crs_find("EPSG:25832"), {338000, 5665000, 355000, 5690000}};
    bbs[1] = (ts_ows_bbox){ts_grid_crs_find("EPSG:4326"), {6.68, 51.12, 6.94, 51.35}};
    bbs[2] = (ts_ows_bbox){ts_grid_crs_find("EPSG:3857"), {743600, 6642000, 772600, 6683000}};
    memset(kids, 0, 2 * sizeof *kids);
    kids[0].name = "parcels";
    kids[0].title = "Flurstücke";
    kids[0].queryable = 1;
    kids[0].has_lonlat = 1;
    kids[0].lonlat = bbs[1].box;
    kids[0].bboxes = bbs;
    kids[0].nbboxes = 3;
    kids[0].styles = parcel_styles;
    kids[0].nstyles = 2;
    kids[0].max_scale = 25000;
    kids[1].name = "air";
    kids[1].title = "Luftqualität";
    kids[1].min_scale = 1000;
    kids[1].max_scale = 500000;
    memset(root, 0, sizeof *root);
    root->name = "city";
    root->title = "Düsseldorf";
    root->abstract_text = "all layers";
    root->has_lonlat = 1;
    root->lonlat = bbs[1].box;
    root->bboxes = bbs;
    root->nbboxes = 3;
    root->children = kids;
    root->nchildren = 2;
    memset(c, 0, sizeof *c);
    c->service = &svc;
    c->url = "http://h:8080/wms";
    c->crs = crs;
    c->ncrs = ts_grid_crs_count();
    c->max_width = 4096;
    c->max_height = 4096;
    c->layer_limit = 32;
    c->root = root;
}

TS_TEST(wms_capabilities_validate_against_the_ogc_schemas)
{
    ts_wms_capabilities c;
    ts_ows_layer root, kids[2];
    ts_ows_bbox bbs[3];
    const ts_crs *crs[16];
    fill_wms_caps(&c, &root, kids, bbs, crs);
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_wms_capabilities(&c, 130, &b) == TS_OK);
    const char *s = (const char *)b.data;
    /* 1.3.0: EPSG:4326 bbox attributes in lat/lon order */
    TS_CHECK(strstr(s, "<BoundingBox CRS=\"EPSG:4326\" minx=\"51.12\" miny=\"6.68\" maxx=\"51.35\" "
                       "maxy=\"6.94\"/>") != NULL);
    TS_CHECK(strstr(s, "<BoundingBox CRS=\"EPSG:25832\" minx=\"338000\" miny=\"5665000\"") != NULL);
    TS_CHECK(strstr(s, "<CRS>EPSG:31467</CRS>") != NULL);
    TS_CHECK(strstr(s, "<Title>Stadtplan Düsseldorf &amp; &lt;Umgebung&gt;</Title>") != NULL);
    TS_CHECK(strstr(s, "<MaxScaleDenominator>25000</MaxScaleDenominator>") != NULL);
    TS_CHECK(strstr(s, "updateSequence=\"17\"") != NULL);
    TS_CHECK(strstr(s, "<sld:GetLegendGraphic>") != NULL);
    char *path = write_file("wms130.xml", &b);
    TS_REQUIRE(path != NULL);
    TS_CHECK(xmllint_ok(path, "sld/1.1.0/sld_capabilities.xsd"));
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_wms_capabilities(&c, 111, &b) == TS_OK);
    s = (const char *)b.data;
    /* 1.1.1: always x/y */
    TS_CHECK(strstr(s, "<BoundingBox SRS=\"EPSG:4326\" minx=\"6.68\" miny=\"51.12\"") != NULL);
    TS_CHECK(strstr(s, "<LatLonBoundingBox minx=\"6.68\"") != NULL);
    TS_CHECK(strstr(s, "<SRS>EPSG:25832</SRS>") != NULL);
    TS_CHECK(strstr(s, "<ScaleHint min=") != NULL);
    path = write_file("wms111.xml", &b);
    TS_REQUIRE(path != NULL);
    TS_CHECK(xmllint_ok(path, "wms/1.1.1/capabilities_1_1_1.dtd"));
    ts_buf_fini(&b);

    /* a broken document is refused by the same check (the check can fail) */
    ts_buf_init(&b, 1 << 16);
    ts_buf_printf(&b, "<?xml version=\"1.0\"?>\n<WMS_Capabilities version=\"1.3.0\" "
                      "xmlns=\"http://www.opengis.net/wms\"><Service/></WMS_Capabilities>\n");
    path = write_file("broken.xml", &b);
    TS_CHECK(!xmllint_ok(path, "wms/1.3.0/capabilities_1_3_0.xsd"));
    ts_buf_fini(&b);
    TS_CHECK_INT(ts_ows_write_wms_capabilities(&c, 120, &b), TS_EINVAL);
}

TS_TEST(exception_reports_validate)
{
    ts_ows_fault f;
    memset(&f, 0, sizeof f);
    f.code = TS_OWS_INVALID_CRS;
    snprintf(f.locator, sizeof f.locator, "CRS");
    snprintf(f.err.msg, sizeof f.err.msg, "CRS 'EPSG:9999' <is> not offered \x01");
    ts_buf b;
    ts_buf_init(&b, 1 << 16);
    TS_REQUIRE(ts_ows_write_wms_exception(&f, 130, &b) == TS_OK);
    TS_CHECK(xmllint_ok(write_file("exc130.xml", &b), "wms/1.3.0/exceptions_1_3_0.xsd"));
    ts_buf_fini(&b);
    ts_buf_init(&b, 1 << 16);
    TS_REQUIRE(ts_ows_write_wms_exception(&f, 111, &b) == TS_OK);
    TS_CHECK(xmllint_ok(write_file("exc111.xml", &b), "wms/1.1.1/exception_1_1_1.dtd"));
    ts_buf_fini(&b);
    f.code = TS_OWS_TILE_OUT_OF_RANGE;
    ts_buf_init(&b, 1 << 16);
    TS_REQUIRE(ts_ows_write_ows_exception(&f, &b) == TS_OK);
    TS_CHECK(strstr((const char *)b.data, "exceptionCode=\"TileOutOfRange\"") != NULL);
    TS_CHECK(xmllint_ok(write_file("owsexc.xml", &b), "ows/1.1.0/owsExceptionReport.xsd"));
    ts_buf_fini(&b);
}

TS_TEST(wmts_capabilities_validate_against_the_ogc_schema)
{
    const ts_grid *wmq = ts_grid_webmercator_quad();
    const ts_grid *adv = ts_grid_builtin("DE_EPSG_25832_ADV");
    ts_grid g4326;
    TS_REQUIRE(ts_grid_init_quad(&g4326, "LatLon", "EPSG:4326", -180, 90, 0.703125, 256, 2, 1, 5, 0,
                                 TS_METERS_PER_DEGREE, NULL) == TS_OK);
    const ts_grid *grids[] = {wmq, adv, ts_grid_worldcrs84_quad(), &g4326};
    ts_wmts_link links[] = {
        {wmq, 0, 18, 1, {743600, 6642000, 772600, 6683000}},
        {adv, 0, 13, 1, {338000, 5665000, 355000, 5690000}},
        {grids[2], 0, 3, 0, {0, 0, 0, 0}},
        {&g4326, 0, 4, 0, {0, 0, 0, 0}},
    };
    ts_image_format fm[] = {TS_IMG_PNG, TS_IMG_JPEG};
    ts_wmts_layer layers[] = {
        {"parcels",
         "Flurstücke",
         "ALKIS",
         1,
         {6.68, 51.12, 6.94, 51.35},
         parcel_styles,
         2,
         fm,
         2,
         1,
         links,
         4,
         NULL,
         0,
         NULL},
        {"air", "Luft", NULL, 0, {0, 0, 0, 0}, NULL, 0, NULL, 0, 0, links, 1, NULL, 0, NULL},
    };
    ts_wmts_capabilities c = {&svc, "http://h:8080/wmts", layers, 2, grids, 4, 1};
    ts_buf b;
    ts_buf_init(&b, 1 << 22);
    TS_REQUIRE(ts_ows_write_wmts_capabilities(&c, &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "<ows:Identifier>DE_EPSG_25832_ADV</ows:Identifier>") != NULL);
    TS_CHECK(strstr(s, "<ows:SupportedCRS>urn:ogc:def:crs:EPSG::25832</ows:SupportedCRS>") != NULL);
    TS_CHECK(strstr(s, "<ows:Identifier>00</ows:Identifier>\n        <ScaleDenominator>"
                       "17471320.7508974</ScaleDenominator>\n        <TopLeftCorner>-46133.17 "
                       "6301219.54</TopLeftCorner>") != NULL);
    /* EPSG:4326 TopLeftCorner is lat lon; CRS84 lon lat */
    TS_CHECK(strstr(s, "<TopLeftCorner>90 -180</TopLeftCorner>") != NULL);
    TS_CHECK(strstr(s, "<TopLeftCorner>-180 90</TopLeftCorner>") != NULL);
    TS_CHECK(strstr(s, "template=\"http://h:8080/wmts/1.0.0/parcels/{Style}/{TileMatrixSet}/"
                       "{TileMatrix}/{TileRow}/{TileCol}.png\"") != NULL);
    TS_CHECK(strstr(s, "{TileCol}/{J}/{I}.json\"") != NULL);
    /* limits of the Düsseldorf extent at AdV level 13 (tile span 152.874056570352 m):
     * columns floor(384133.17 / span) .. ceil(401133.17 / span) - 1 = 2512..2623,
     * rows floor(611219.54 / span) .. ceil(636219.54 / span) - 1 = 3998..4161 */
    TS_CHECK(strstr(s, "<TileMatrix>13</TileMatrix>\n            <MinTileRow>3998</MinTileRow>\n"
                       "            <MaxTileRow>4161</MaxTileRow>\n"
                       "            <MinTileCol>2512</MinTileCol>\n"
                       "            <MaxTileCol>2623</MaxTileCol>") != NULL);
    /* levels outside the link's zoom range are not listed: the WorldCRS84Quad link ends at 3 */
    TS_CHECK(strstr(s, "<TileMatrixSet>WorldCRS84Quad</TileMatrixSet>") != NULL);
    ts_buf_fini(&b);
    /* without limits the document is valid against the official (2009) schema */
    c.limits = 0;
    ts_buf_init(&b, 1 << 22);
    TS_REQUIRE(ts_ows_write_wmts_capabilities(&c, &b) == TS_OK);
    TS_CHECK(strstr((const char *)b.data, "TileMatrixSetLimits") == NULL);
    char *path = write_file("wmts.xml", &b);
    TS_REQUIRE(path != NULL);
    TS_CHECK(xmllint_ok(path, "wmts/1.0/wmtsGetCapabilities_response.xsd"));
    ts_buf_fini(&b);
}

/* ==== TMS and OGC API – Tiles ========================================================== */

/* A strict JSON syntax check (RFC 8259) so the documents are known to parse. */
static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *
json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *
json_number(const char *p)
{
    const char *s = p;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p > s ? p : NULL;
}

static const char *
json_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    p = json_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = json_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = json_string(json_ws(p));
                if (p == NULL || *(p = json_ws(p)) != ':')
                    return NULL;
                p++;
            }
            p = json_value(p, depth + 1);
            if (p == NULL)
                return NULL;
            p = json_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return json_string(p);
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return json_number(p);
}

static int
json_ok(const ts_buf *b)
{
    const char *end = json_value((const char *)b->data, 0);
    return end != NULL && *json_ws(end) == '\0';
}

TS_TEST(json_checker_rejects_bad_json)
{
    const char *bad[] = {"{",  "{\"a\":}", "[1,]",  "{\"a\" 1}", "\"\\x\"",
                         "01", "1.",       "[1 2]", "{\"a\":1}x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_buf b;
        ts_buf_init(&b, 64);
        ts_buf_printf(&b, "%s", bad[i]);
        if (json_ok(&b))
            ts_test_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
        ts_buf_fini(&b);
    }
}

TS_TEST(ogcapi_tiles_documents)
{
    const ts_grid *wmq = ts_grid_webmercator_quad();
    const ts_grid *adv = ts_grid_builtin("DE_EPSG_25832_ADV");
    ts_oat_tileset sets[] = {{wmq, 0, 18, 1, {743600, 6642000, 772600, 6683000}, 0, NULL, 0},
                             {adv, 2, 13, 1, {338000, 5665000, 355000, 5690000}, 0, NULL, 0}};
    ts_oat_collection cols[] = {{"cadastre",
                                 "Kataster \"Düsseldorf\"",
                                 "Flurstücke",
                                 "© Stadt",
                                 1,
                                 {6.68, 51.12, 6.94, 51.35},
                                 TS_IMG_PNG,
                                 sets,
                                 2,
                                 1},
                                {"air", "Luft", NULL, NULL, 0, {0, 0, 0, 0}, TS_IMG_MVT, sets, 1, 0}};
    const char *base = "http://h:8080";
    ts_buf b;

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_landing("tilesrv", "Düsseldorf", base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    TS_CHECK(strstr((const char *)b.data, "\"href\":\"http://h:8080/conformance\"") != NULL);
    TS_CHECK(strstr((const char *)b.data, "tiling-schemes") != NULL);
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_conformance(&b) == TS_OK);
    TS_CHECK(json_ok(&b));
    TS_CHECK(strstr((const char *)b.data,
                    "\"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core\"") != NULL);
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_collections(cols, 2, base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"href\":\"http://h:8080/collections/cadastre/map/tiles\"") != NULL);
    TS_CHECK(strstr(s, "\"href\":\"http://h:8080/collections/air/tiles\"") != NULL);
    TS_CHECK(strstr(s, "\"bbox\":[[6.68,51.12,6.94,51.35]]") != NULL);
    TS_CHECK(strstr(s, "Kataster \\\"Düsseldorf\\\"") != NULL);
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_collection(&cols[0], base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    /* map tiles, and the same tiles as vector tiles: that link untyped (GDAL 3.6 would let
     * a typed one replace the map tilesets) */
    TS_CHECK(strstr((const char *)b.data, "tilesets-vector\","
                                          "\"title\":\"Vector tilesets of this collection\","
                                          "\"href\":\"http://h:8080/collections/cadastre/tiles\"") !=
             NULL);
    TS_CHECK(strstr((const char *)b.data, "tilesets-map\",\"type\":\"application/json\",") !=
             NULL);
    ts_buf_fini(&b);
    /* a collection of vector tiles only keeps the type on its one tilesets link */
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_collection(&cols[1], base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    TS_CHECK(strstr((const char *)b.data, "tilesets-vector\",\"type\":\"application/json\",") !=
             NULL);
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tilesets(&cols[0], base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    TS_CHECK(strstr((const char *)b.data, "\"tileMatrixSetURI\":\"http://www.opengis.net/def/"
                                          "tilematrixset/OGC/1.0/WebMercatorQuad\"") != NULL);
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tileset(&cols[0], &sets[1], base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"href\":\"http://h:8080/collections/cadastre/map/tiles/DE_EPSG_25832_ADV/"
                       "{tileMatrix}/{tileRow}/{tileCol}.png\",\"templated\":true") != NULL);
    /* map tilesets: whole matrices (GDAL 3.6 mosaics nothing else in place); the data's
     * extent in boundingBox */
    char want[256];
    snprintf(want, sizeof want,
             "{\"tileMatrix\":\"13\",\"minTileRow\":0,\"maxTileRow\":%u,"
             "\"minTileCol\":0,\"maxTileCol\":%u}",
             adv->levels[13].matrix_h - 1, adv->levels[13].matrix_w - 1);
    TS_CHECK(strstr(s, want) != NULL);
    TS_CHECK(strstr(s, "\"tileMatrixSetLimits\":[{\"tileMatrix\":\"02\",") != NULL);
    TS_CHECK(strstr(s, "{\"tileMatrix\":\"01\"") == NULL); /* below minzoom 2 */
    TS_CHECK(strstr(s, "{\"tileMatrix\":\"14\"") == NULL); /* above maxzoom 13 */
    TS_CHECK(strstr(s, "\"boundingBox\":{\"lowerLeft\":[338000,5665000],"
                       "\"upperRight\":[355000,5690000],") != NULL);
    TS_CHECK(strstr(s, "\"crs\":\"http://www.opengis.net/def/crs/EPSG/0/25832\"") != NULL);
    ts_buf_fini(&b);

    /* a map tileset's levels start where its 29 x 41 km box spans a pixel: WebMercatorQuad 3
     * (19.6 km), not 2 (39.1 km) */
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tileset(&cols[0], &sets[0], base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"tileMatrixSetLimits\":[{\"tileMatrix\":\"3\",\"minTileRow\":0,"
                       "\"maxTileRow\":7,\"minTileCol\":0,\"maxTileCol\":7},") != NULL);
    TS_CHECK(strstr(s, "{\"tileMatrix\":\"18\",\"minTileRow\":0,\"maxTileRow\":262143,"
                       "\"minTileCol\":0,\"maxTileCol\":262143}]") != NULL);
    ts_buf_fini(&b);

    /* vector tilesets keep every level, each with the tile range of the data */
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tileset(&cols[1], &sets[0], base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    s = (const char *)b.data;
    uint32_t c0, r0, c1, r1;
    TS_REQUIRE(ts_grid_tile_range(wmq, 13, sets[0].bbox, &c0, &r0, &c1, &r1));
    snprintf(want, sizeof want,
             "{\"tileMatrix\":\"13\",\"minTileRow\":%u,\"maxTileRow\":%u,"
             "\"minTileCol\":%u,\"maxTileCol\":%u}",
             r0, r1, c0, c1);
    TS_CHECK(r1 < 8191 && c1 < 8191);
    TS_CHECK(strstr(s, want) != NULL);
    TS_CHECK(strstr(s, "\"tileMatrixSetLimits\":[{\"tileMatrix\":\"0\",\"minTileRow\":0,"
                       "\"maxTileRow\":0,\"minTileCol\":0,\"maxTileCol\":0}") != NULL);
    ts_buf_fini(&b);

    const ts_grid *grids[] = {wmq, adv, ts_grid_worldcrs84_quad()};
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tilematrixsets(grids, 3, base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tilematrixset(adv, base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"orderedAxes\":[\"E\",\"N\"]") != NULL);
    TS_CHECK(strstr(s, "{\"id\":\"00\",\"identifier\":\"00\",\"scaleDenominator\":17471320.7508974,"
                       "\"cellSize\":4891.96981025127,\"cornerOfOrigin\":\"topLeft\","
                       "\"pointOfOrigin\":[-46133.17,6301219.54],\"topLeftCorner\":["
                       "-46133.17,6301219.54],\"tileWidth\":256,\"tileHeight\":256,"
                       "\"matrixWidth\":1,\"matrixHeight\":1}") != NULL);
    /* the TMS 1.0 names GDAL 3.6 reads */
    TS_CHECK(strstr(s, "\"identifier\":\"DE_EPSG_25832_ADV\",\"supportedCRS\":") != NULL);
    TS_CHECK(strstr(s, "\"boundingBox\":{\"crs\":") != NULL);
    ts_buf_fini(&b);

    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_oat_tilematrixset(ts_grid_worldcrs84_quad(), base, &b) == TS_OK);
    TS_CHECK(json_ok(&b));
    s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"crs\":\"http://www.opengis.net/def/crs/OGC/1.3/CRS84\"") != NULL);
    TS_CHECK(strstr(s, "\"orderedAxes\":[\"Lon\",\"Lat\"]") != NULL);
    TS_CHECK(strstr(s, "\"pointOfOrigin\":[-180,90],\"topLeftCorner\":[-180,90],\"tileWidth\":256,"
                       "\"tileHeight\":256,\"matrixWidth\":2,\"matrixHeight\":1") != NULL);
    TS_CHECK(strstr(s, "\"lowerLeft\":[-180,-90],\"upperRight\":[180,90]") != NULL);
    ts_buf_fini(&b);
}

TS_TEST(tms_documents)
{
    ts_tms_tilemap maps[] = {{"cadastre",
                              "Kataster & Co",
                              NULL,
                              ts_grid_webmercator_quad(),
                              0,
                              3,
                              "png",
                              TS_IMG_PNG,
                              0,
                              {0, 0, 0, 0}},
                             {"utm",
                              "UTM",
                              "AdV",
                              ts_grid_builtin("DE_EPSG_25832_ADV"),
                              5,
                              6,
                              "png",
                              TS_IMG_PNG8,
                              1,
                              {338000, 5665000, 355000, 5690000}}};
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_tms_service(maps, 2, "tilesrv", "http://h:1", &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "<TileMap title=\"Kataster &amp; Co\" srs=\"EPSG:3857\" "
                       "profile=\"global-mercator\" href=\"http://h:1/tms/1.0.0/cadastre\"/>") !=
             NULL);
    TS_CHECK(strstr(s, "profile=\"none\"") != NULL);
    TS_CHECK(xmllint_ok(write_file("tms.xml", &b), NULL));
    ts_buf_fini(&b);
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_tms_tilemap(&maps[0], "http://h:1", &b) == TS_OK);
    s = (const char *)b.data;
    TS_CHECK(strstr(s, "<Origin x=\"-20037508.3427892\" y=\"-20037508.3427892\"/>") != NULL);
    TS_CHECK(strstr(s, "<TileSet href=\"http://h:1/tms/1.0.0/cadastre/3\" "
                       "units-per-pixel=\"19567.8792410051\" order=\"3\"/>") != NULL);
    TS_CHECK(strstr(s, "order=\"4\"") == NULL);
    TS_CHECK(strstr(s, "mime-type=\"image/png\" extension=\"png\"") != NULL);
    ts_buf_fini(&b);
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_ows_write_tms_tilemap(&maps[1], "http://h:1", &b) == TS_OK);
    s = (const char *)b.data;
    TS_CHECK(xmllint_ok(write_file("tilemap.xml", &b), NULL));
    TS_CHECK(strstr(s, "<SRS>EPSG:25832</SRS>") != NULL);
    TS_CHECK(strstr(s, "<BoundingBox minx=\"338000\" miny=\"5665000\" maxx=\"355000\" "
                       "maxy=\"5690000\"/>") != NULL);
    TS_CHECK(strstr(s, "order=\"5\"") != NULL && strstr(s, "order=\"4\"") == NULL);
    ts_buf_fini(&b);
}

TS_TEST(oat_paths)
{
    ts_oat_req q;
    ts_err err;
    TS_CHECK(ts_ows_parse_oat_path("", &q, &err) == TS_OK && q.route == TS_OAT_LANDING);
    TS_CHECK(ts_ows_parse_oat_path("/", &q, &err) == TS_OK && q.route == TS_OAT_LANDING);
    TS_CHECK(ts_ows_parse_oat_path("/conformance", &q, &err) == TS_OK &&
             q.route == TS_OAT_CONFORMANCE);
    TS_CHECK(ts_ows_parse_oat_path("/tileMatrixSets/", &q, &err) == TS_OK &&
             q.route == TS_OAT_TMS_LIST);
    TS_REQUIRE(ts_ows_parse_oat_path("/tileMatrixSets/DE_EPSG_25832_ADV", &q, &err) == TS_OK);
    TS_CHECK(q.route == TS_OAT_TMS);
    TS_CHECK_STR(q.tms, "DE_EPSG_25832_ADV");
    TS_CHECK(ts_ows_parse_oat_path("/collections", &q, &err) == TS_OK &&
             q.route == TS_OAT_COLLECTIONS);
    TS_REQUIRE(ts_ows_parse_oat_path("/collections/cadastre/", &q, &err) == TS_OK);
    TS_CHECK(q.route == TS_OAT_COLLECTION);
    TS_CHECK_STR(q.collection, "cadastre");
    TS_CHECK(ts_ows_parse_oat_path("/collections/cadastre/map/tiles", &q, &err) == TS_OK &&
             q.route == TS_OAT_TILESETS);
    TS_REQUIRE(ts_ows_parse_oat_path("/collections/cadastre/map/tiles/WebMercatorQuad", &q,
                                     &err) == TS_OK);
    TS_CHECK(q.route == TS_OAT_TILESET);
    TS_CHECK_STR(q.tms, "WebMercatorQuad");
    TS_REQUIRE(ts_ows_parse_oat_path(
                   "/collections/cadastre/map/tiles/WebMercatorQuad/16/21873/34001.png", &q,
                   &err) == TS_OK);
    TS_CHECK(q.route == TS_OAT_TILE);
    TS_CHECK_STR(q.matrix, "16");
    TS_CHECK_INT(q.row, 21873);
    TS_CHECK_INT(q.col, 34001);
    TS_CHECK(q.format == TS_IMG_PNG);
    TS_REQUIRE(ts_ows_parse_oat_path("/collections/c/map/tiles/g/1/4294967295/0.png", &q,
                                     &err) == TS_OK);
    TS_CHECK(q.row == 4294967295u);
    /* vector tiles: .../tiles instead of .../map/tiles, .mvt or .pbf */
    TS_CHECK(ts_ows_parse_oat_path("/collections/cadastre/tiles", &q, &err) == TS_OK &&
             q.route == TS_OAT_TILESETS && q.format == TS_IMG_MVT);
    TS_CHECK(ts_ows_parse_oat_path("/collections/cadastre/map/tiles", &q, &err) == TS_OK &&
             q.format == TS_IMG_PNG);
    TS_CHECK(ts_ows_parse_oat_path("/collections/cadastre/tiles/WebMercatorQuad/", &q, &err) ==
                 TS_OK &&
             q.route == TS_OAT_TILESET && q.format == TS_IMG_MVT);
    TS_REQUIRE(ts_ows_parse_oat_path("/collections/cadastre/tiles/WebMercatorQuad/16/21873/34001.mvt",
                                     &q, &err) == TS_OK);
    TS_CHECK(q.route == TS_OAT_TILE && q.format == TS_IMG_MVT && q.row == 21873 && q.col == 34001);
    TS_CHECK(ts_ows_parse_oat_path("/collections/c/tiles/g/1/2/3.pbf", &q, &err) == TS_OK &&
             q.format == TS_IMG_MVT);
    /* not resources: each gets TS_ENOENT with a message */
    static const char *const bad[] = {
        "/conformance/x", "/tileMatrixSets/a/b", "/collections//map/tiles", "//collections",
        "/collections/c/map", "/collections/c/maps/tiles", "/collections/c/map/tiles/g/1/2",
        "/collections/c/map/tiles/g/1/2/3", "/collections/c/map/tiles/g/1/2/3.jpg",
        "/collections/c/map/tiles/g/1/-2/3.png", "/collections/c/map/tiles/g/1/+2/3.png",
        "/collections/c/map/tiles/g/1/4294967296/3.png", "/collections/c/map/tiles/g/1/2/.png",
        "/collections/c/map/tiles/g/1/2/3.png/x",
        "/collections/c\x01/map/tiles", "/collections/c/map/tiles/g/1/12345678901/3.png",
        "/other", "/collections/c/map/tiles/g/1/2/3.png.png", "/collections/c/tiles/g/1/2/3.png",
        "/collections/c/map/tiles/g/1/2/3.mvt", "/collections/c/tiles/g/1/2", "/collections/c/vector"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_err_clear(&err);
        TS_CHECK(ts_ows_parse_oat_path(bad[i], &q, &err) == TS_ENOENT);
        TS_CHECK(err.msg[0] != '\0');
        TS_CHECK(q.collection[0] == '\0');
    }
    char longname[200];
    memset(longname, 'a', sizeof longname);
    longname[sizeof longname - 1] = '\0';
    char path[300];
    snprintf(path, sizeof path, "/collections/%s", longname);
    TS_CHECK(ts_ows_parse_oat_path(path, &q, &err) == TS_ENOENT);
}
