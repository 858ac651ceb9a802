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
    const char *bad[] = {"c/16/-1/2.png", "c/16/abc/2.png", "c/16/1/2x.png", "c/31/1/2.png",
                         "c//1/2.png",    "c/16/1/.png",    "c/16/99999999999/2.png",
                         "c/16/1/2@3x.png", "c/16/ 1/2.png", "c/1e3/1/2.png", "c/16/+1/2.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_status st = ts_ows_parse_xyz(bad[i], &r, &e);
        if (st != TS_EINVAL)
            ts_test_fail(__FILE__, __LINE__, "%s gave %d, want EINVAL", bad[i], st);
    }
}

TS_TEST(xyz_refuses_wrong_shapes_with_404)
{
    ts_xyz_req r;
    const char *bad[] = {"c/16/1.png", "c/16/1/2/3.png", "c/16/1/2.jpg", "c/16/1/2", "",
                         "/16/1/2.png", "c d/1/1/1.png", "../x/1/1/1.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_status st = ts_ows_parse_xyz(bad[i], &r, NULL);
        if (st != TS_ENOENT)
            ts_test_fail(__FILE__, __LINE__, "%s gave %d, want ENOENT", bad[i], st);
    }
}

TS_TEST(tms_counts_rows_from_the_south)
{
    ts_xyz_req r;
    TS_CHECK_INT(ts_ows_parse_tms("cadastre/16/34001/43662.png", &r, NULL), TS_OK);
    TS_CHECK_INT(r.y, 65535 - 43662);
    TS_CHECK_INT(ts_ows_parse_tms("cadastre/1/0/2.png", &r, NULL), TS_EINVAL);
}

TS_TEST(tilejson_is_escaped_and_complete)
{
    ts_buf b;
    ts_buf_init(&b, 1 << 16);
    ts_tilejson_info ti = {"cadastre", "Kataster \"Düsseldorf\"", "© GeoBasis", "http://h:1",
                           "png", 0, 20, {6.7, 51.1, 6.9, 51.3}, 1};
    TS_REQUIRE(ts_ows_write_tilejson(&ti, &b) == TS_OK);
    const char *s = (const char *)b.data;
    TS_CHECK(strstr(s, "\"tilejson\":\"3.0.0\"") != NULL);
    TS_CHECK(strstr(s, "\"tiles\":[\"http://h:1/tiles/cadastre/{z}/{x}/{y}.png\"]") != NULL);
    TS_CHECK(strstr(s, "Kataster \\\"Düsseldorf\\\"") != NULL);
    TS_CHECK(strstr(s, "\"bounds\":[6.700000,51.100000,6.900000,51.300000]") != NULL);
    TS_CHECK(strstr(s, "\"maxzoom\":20") != NULL);
    ts_buf_fini(&b);
}
