/* Unit tests for grid: WebMercatorQuad per OGC 17-083r4, metatiles, Hilbert order. */
#include "test.h"

#include "grid/grid.h"

TS_TEST(grid_webmercator_z0_is_the_world)
{
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_bbox b = ts_grid_tile_bbox(g, 0, 0, 0);
    TS_CHECK_NEAR(b.minx, -20037508.342789244, 1e-6);
    TS_CHECK_NEAR(b.maxy, 20037508.342789244, 1e-6);
    TS_CHECK_NEAR(b.maxx, 20037508.342789244, 1e-6);
    TS_CHECK_NEAR(b.miny, -20037508.342789244, 1e-6);
    /* scaleDenominator of level 0 as the OGC TMS standard lists it */
    TS_CHECK_NEAR(g->levels[0].scale_denom, 559082264.0287178, 1e-4);
    TS_CHECK_NEAR(g->levels[0].res, 156543.0339280410, 1e-9);
    TS_CHECK_NEAR(g->levels[18].scale_denom, 2132.729583849784, 1e-6);
    TS_CHECK_INT(g->nlevels, 25);
    TS_CHECK_STR(g->crs, "EPSG:3857");
    TS_CHECK_INT(g->epsg, 3857);
}

TS_TEST(grid_tile_over_duesseldorf)
{
    const ts_grid *g = ts_grid_webmercator_quad();
    /* 16/34001/21873 contains lon 6.7735 lat 51.2277: x = 754022.57, y = 6661670.48 (PROJ) */
    ts_bbox b = ts_grid_tile_bbox(g, 16, 34001, 21873);
    TS_CHECK(b.minx <= 754022.57 && 754022.57 < b.maxx);
    TS_CHECK(b.miny <= 6661670.48 && 6661670.48 < b.maxy);
    TS_CHECK_NEAR(b.maxx - b.minx, 611.4962262814, 1e-6);
    TS_CHECK(ts_grid_tile_valid(g, 16, 65535, 65535));
    TS_CHECK(!ts_grid_tile_valid(g, 16, 65536, 0));
    TS_CHECK(!ts_grid_tile_valid(g, 25, 0, 0));
    TS_CHECK(!ts_grid_tile_valid(g, -1, 0, 0));
}

TS_TEST(grid_metatile_aligns_and_clips)
{
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_metatile m = ts_grid_metatile(g, 16, 34001, 21873, 8, 32);
    TS_CHECK_INT(m.x0, 34000);
    TS_CHECK_INT(m.y0, 21872);
    TS_CHECK_INT(m.nx, 8);
    TS_CHECK_INT(m.width_px, 8 * 256 + 64);
    ts_bbox t = ts_grid_tile_bbox(g, 16, 34000, 21872);
    TS_CHECK_NEAR(m.bbox.minx, t.minx - 32 * m.res, 1e-6);
    TS_CHECK_NEAR(m.bbox.maxy, t.maxy + 32 * m.res, 1e-6);
    /* level 1 has only 2x2 tiles: an 8x8 metatile is clipped */
    m = ts_grid_metatile(g, 1, 1, 1, 8, 0);
    TS_CHECK_INT(m.x0, 0);
    TS_CHECK_INT(m.nx, 2);
    TS_CHECK_INT(m.ny, 2);
    TS_CHECK_INT(m.width_px, 512);
}

TS_TEST(grid_hilbert_visits_every_cell_once)
{
    int seen[64] = {0};
    for (uint32_t y = 0; y < 8; y++)
        for (uint32_t x = 0; x < 8; x++) {
            uint64_t d = ts_grid_hilbert(8, x, y);
            TS_REQUIRE(d < 64);
            seen[d]++;
        }
    for (int i = 0; i < 64; i++)
        TS_CHECK_INT(seen[i], 1);
    /* consecutive positions are neighbours */
    uint32_t px = 0, py = 0;
    for (uint64_t d = 0; d < 64; d++)
        for (uint32_t y = 0; y < 8; y++)
            for (uint32_t x = 0; x < 8; x++)
                if (ts_grid_hilbert(8, x, y) == d) {
                    if (d > 0)
                        TS_CHECK_INT((x > px ? x - px : px - x) + (y > py ? y - py : py - y), 1);
                    px = x;
                    py = y;
                }
}

/* Scale denominators of the AdV sets as published (ldproxy/xtraplatform-spatial AdV_25832.json,
 * levels 0..13; BKG names them "00".."13"). */
static const double adv_scales[14] = {
    17471320.7508974, 8735660.3754487,  4367830.18772435, 2183915.09386218, 1091957.54693109,
    545978.773465544, 272989.386732772, 136494.693366386, 68247.346683193,  34123.6733415965,
    17061.8366707982, 8530.91833539912, 4265.45916769956, 2132.72958384978};

TS_TEST(grid_adv_25832_matches_the_published_set)
{
    const ts_grid *g = ts_grid_builtin("DE_EPSG_25832_ADV");
    TS_REQUIRE(g != NULL);
    TS_CHECK_INT(g->nlevels, 14);
    TS_CHECK_STR(g->crs, "EPSG:25832");
    TS_CHECK_INT(g->epsg, 25832);
    TS_CHECK_STR(g->crs_uri, "http://www.opengis.net/def/crs/EPSG/0/25832");
    TS_CHECK_STR(g->levels[0].id, "00");
    TS_CHECK_STR(g->levels[9].id, "09");
    TS_CHECK_STR(g->levels[13].id, "13");
    for (int z = 0; z < 14; z++) {
        const ts_tile_matrix *m = &g->levels[z];
        TS_CHECK_NEAR(m->scale_denom / adv_scales[z], 1.0, 1e-12);
        /* pixel size = scale denominator * 0.28 mm / metres per unit */
        TS_CHECK_NEAR(m->res, adv_scales[z] * 0.00028, 1e-9);
        TS_CHECK_NEAR(m->origin_x, -46133.17, 1e-9);
        TS_CHECK_NEAR(m->origin_y, 6301219.54, 1e-9);
        TS_CHECK_INT(m->matrix_w, 1u << z);
        TS_CHECK_INT(m->matrix_h, 1u << z);
        TS_CHECK_INT(m->tile_w, 256);
    }
    TS_CHECK_NEAR(g->levels[0].res, 4891.96981025128, 1e-8);
    /* published extent: -46133.17 5048875.26857567 1206211.10142433 6301219.54 */
    TS_CHECK_NEAR(g->extent.maxx, 1206211.10142433, 1e-6);
    TS_CHECK_NEAR(g->extent.miny, 5048875.26857567, 1e-6);
    TS_CHECK_INT(ts_grid_level_by_id(g, "07"), 7);
    TS_CHECK_INT(ts_grid_level_by_id(g, "7"), -1);
    TS_CHECK_INT(ts_grid_level_by_id(g, "14"), -1);
}

TS_TEST(grid_adv_25833_origin_and_levels)
{
    const ts_grid *g = ts_grid_builtin("DE_EPSG_25833_ADV");
    TS_REQUIRE(g != NULL);
    TS_CHECK_STR(g->crs, "EPSG:25833");
    TS_CHECK_NEAR(g->levels[5].origin_x, -464849.38, 1e-9);
    TS_CHECK_NEAR(g->levels[5].origin_y, 6310160.14, 1e-9);
    TS_CHECK_NEAR(g->levels[13].scale_denom / adv_scales[13], 1.0, 1e-12);
    TS_CHECK_NEAR(g->extent.miny, 5057815.86857567, 1e-6);
    TS_CHECK_NEAR(g->extent.maxx, 787494.89142433, 1e-6);
}

TS_TEST(grid_worldcrs84quad_per_ogc)
{
    const ts_grid *g = ts_grid_worldcrs84_quad();
    TS_REQUIRE(g != NULL && g == ts_grid_builtin("WorldCRS84Quad"));
    TS_CHECK_INT(g->nlevels, 24);
    TS_CHECK_STR(g->crs, "CRS:84");
    TS_CHECK_STR(g->crs_uri, "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    TS_CHECK_INT(g->levels[0].matrix_w, 2);
    TS_CHECK_INT(g->levels[0].matrix_h, 1);
    TS_CHECK_NEAR(g->levels[0].res, 0.703125, 0);
    /* OGC registry/json/WorldCRS84Quad.json */
    TS_CHECK_NEAR(g->levels[0].scale_denom, 279541132.014358, 1e-5);
    TS_CHECK_NEAR(g->levels[13].scale_denom, 34123.6733415964, 1e-8);
    TS_CHECK_NEAR(g->levels[23].scale_denom, 33.3238997476528, 1e-10);
    TS_CHECK_INT(g->levels[23].matrix_w, 16777216);
    ts_bbox b = ts_grid_tile_bbox(g, 0, 1, 0);
    TS_CHECK_NEAR(b.minx, 0, 0);
    TS_CHECK_NEAR(b.maxx, 180, 0);
    TS_CHECK_NEAR(b.miny, -90, 0);
    TS_CHECK_NEAR(b.maxy, 90, 0);
}

TS_TEST(grid_builtins_are_listed_once)
{
    TS_CHECK_INT(ts_grid_builtin_count(), 4);
    TS_CHECK(ts_grid_builtin_at(0) == ts_grid_webmercator_quad());
    TS_CHECK(ts_grid_builtin_at(4) == NULL);
    TS_CHECK(ts_grid_builtin_at(-1) == NULL);
    TS_CHECK(ts_grid_builtin("webmercatorquad") == NULL);
    TS_CHECK(ts_grid_builtin(NULL) == NULL);
    TS_CHECK_STR(ts_grid_webmercator_quad()->uri,
                 "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad");
}

TS_TEST(grid_level_for_scale_is_nearest_in_ratio)
{
    const ts_grid *g = ts_grid_builtin("DE_EPSG_25832_ADV");
    TS_CHECK_INT(ts_grid_level_for_scale(g, 2132.72958384978), 13);
    TS_CHECK_INT(ts_grid_level_for_scale(g, 500), 13);            /* clamped */
    TS_CHECK_INT(ts_grid_level_for_scale(g, 1e9), 0);             /* clamped */
    TS_CHECK_INT(ts_grid_level_for_scale(g, 4265.46 * 0.95), 12); /* just below a level */
    TS_CHECK_INT(ts_grid_level_for_scale(g, 3100), 12);           /* 4265/3100 < 3100/2133 */
    TS_CHECK_INT(ts_grid_level_for_scale(g, 2900), 13);
    TS_CHECK_INT(ts_grid_level_for_scale(g, 0), 0);
    TS_CHECK_INT(ts_grid_level_for_res(g, 0.6), 13);
}

TS_TEST(grid_tile_at_and_back)
{
    const ts_grid *g = ts_grid_builtin("DE_EPSG_25832_ADV");
    /* Düsseldorf town hall, ETRS89 / UTM 32N (PROJ): E 343680, N 5678310 (approx.) */
    uint32_t c, r;
    TS_REQUIRE(ts_grid_tile_at(g, 13, 343680, 5678310, &c, &r));
    ts_bbox b = ts_grid_tile_bbox(g, 13, c, r);
    TS_CHECK(b.minx <= 343680 && 343680 < b.maxx);
    TS_CHECK(b.miny < 5678310 && 5678310 <= b.maxy);
    TS_CHECK_INT(c, 2549); /* floor((343680 + 46133.17) / 152.874056570352) */
    TS_CHECK_INT(r, 4074); /* floor((6301219.54 - 5678310) / 152.874056570352) */
    TS_CHECK(!ts_grid_tile_at(g, 13, -50000, 5678310, &c, &r));
    TS_CHECK(!ts_grid_tile_at(g, 14, 343680, 5678310, &c, &r));
    TS_CHECK(!ts_grid_tile_at(g, 0, NAN, 0, &c, &r));
    /* the top-left corner itself is tile 0/0 */
    TS_CHECK(ts_grid_tile_at(g, 3, -46133.17, 6301219.54, &c, &r) && c == 0 && r == 0);
}

TS_TEST(grid_tile_range_clips_to_the_matrix)
{
    const ts_grid *g = ts_grid_webmercator_quad();
    uint32_t c0, r0, c1, r1;
    ts_bbox world = {-3e7, -3e7, 3e7, 3e7};
    TS_REQUIRE(ts_grid_tile_range(g, 2, world, &c0, &r0, &c1, &r1));
    TS_CHECK(c0 == 0 && r0 == 0 && c1 == 3 && r1 == 3);
    /* exactly one tile: its own bbox does not spill into the neighbours */
    ts_bbox t = ts_grid_tile_bbox(g, 10, 530, 340);
    TS_REQUIRE(ts_grid_tile_range(g, 10, t, &c0, &r0, &c1, &r1));
    TS_CHECK(c0 == 530 && c1 == 530 && r0 == 340 && r1 == 340);
    ts_bbox outside = {3e7, 0, 4e7, 1};
    TS_CHECK(!ts_grid_tile_range(g, 2, outside, &c0, &r0, &c1, &r1));
    ts_bbox empty = {0, 0, 0, 1};
    TS_CHECK(!ts_grid_tile_range(g, 2, empty, &c0, &r0, &c1, &r1));
}

TS_TEST(grid_crs_registry_names_and_axes)
{
    const char *names25832[] = {"EPSG:25832",
                                "epsg:25832",
                                "urn:ogc:def:crs:EPSG::25832",
                                "urn:ogc:def:crs:EPSG:6.3:25832",
                                "urn:x-ogc:def:crs:EPSG:25832",
                                "http://www.opengis.net/def/crs/EPSG/0/25832",
                                "https://www.opengis.net/def/crs/EPSG/0/25832",
                                "http://www.opengis.net/gml/srs/epsg.xml#25832"};
    for (size_t i = 0; i < sizeof names25832 / sizeof names25832[0]; i++) {
        const ts_crs *c = ts_grid_crs_find(names25832[i]);
        if (c == NULL || c->epsg != 25832)
            ts_test_fail(__FILE__, __LINE__, "%s not found as EPSG:25832", names25832[i]);
    }
    const char *bad[] = {"EPSG:",
                         "EPSG:2583x",
                         "EPSG:99999",
                         "EPSG:25832 ",
                         "",
                         "CRS:83",
                         "urn:ogc:def:crs:EPSG:25832x",
                         "EPSG:-25832",
                         "EPSG:0025832000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ts_grid_crs_find(bad[i]) != NULL)
            ts_test_fail(__FILE__, __LINE__, "'%s' should not be found", bad[i]);
    TS_CHECK(ts_grid_crs_find(NULL) == NULL);
    /* Web Mercator's older codes, as OpenLayers 2 and ArcGIS send them */
    const ts_crs *wm = ts_grid_crs_find("EPSG:3857");
    TS_REQUIRE(wm != NULL);
    const char *wm_alias[] = {"EPSG:900913", "EPSG:3785", "EPSG:102100", "EPSG:102113",
                              "ESRI:102100", "urn:ogc:def:crs:EPSG::900913"};
    for (size_t i = 0; i < sizeof wm_alias / sizeof wm_alias[0]; i++)
        if (ts_grid_crs_find(wm_alias[i]) != wm)
            ts_test_fail(__FILE__, __LINE__, "%s is not EPSG:3857", wm_alias[i]);
    TS_CHECK(ts_grid_crs_find("ESRI:102001") == NULL);
    const ts_crs *c84 = ts_grid_crs_find("CRS:84");
    TS_REQUIRE(c84 != NULL);
    TS_CHECK(ts_grid_crs_find("OGC:CRS84") == c84);
    TS_CHECK(ts_grid_crs_find("http://www.opengis.net/def/crs/OGC/1.3/CRS84") == c84);
    TS_CHECK(ts_grid_crs_find("urn:ogc:def:crs:OGC:1.3:CRS84") == c84);
    TS_CHECK(c84->geographic && !c84->north_first && c84->epsg == 0);
    struct {
        const char *id;
        int geographic, north_first;
    } want[] = {{"EPSG:3857", 0, 0},  {"EPSG:4326", 1, 1},  {"EPSG:4258", 1, 1},
                {"EPSG:25832", 0, 0}, {"EPSG:25833", 0, 0}, {"EPSG:3044", 0, 1},
                {"EPSG:31466", 0, 1}, {"EPSG:31467", 0, 1}, {"CRS:84", 1, 0}};
    TS_CHECK_INT(ts_grid_crs_count(), 9);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ts_crs *c = ts_grid_crs_find(want[i].id);
        TS_REQUIRE(c != NULL);
        TS_CHECK_STR(c->id, want[i].id);
        TS_CHECK_INT(c->geographic, want[i].geographic);
        TS_CHECK_INT(c->north_first, want[i].north_first);
        TS_CHECK_NEAR(c->meters_per_unit, c->geographic ? 111319.49079327357 : 1.0, 1e-8);
    }
    TS_CHECK(ts_grid_crs_at(9) == NULL);
    TS_CHECK(ts_grid_crs(ts_grid_builtin("DE_EPSG_25833_ADV")) == ts_grid_crs_find("EPSG:25833"));
    TS_CHECK(ts_grid_crs(ts_grid_worldcrs84_quad()) == c84);
    ts_bbox b = {6.7, 51.1, 6.9, 51.3};
    ts_bbox s = ts_grid_crs_axis_box(ts_grid_crs_find("EPSG:4326"), b);
    TS_CHECK(s.minx == 51.1 && s.miny == 6.7 && s.maxx == 51.3 && s.maxy == 6.9);
    s = ts_grid_crs_axis_box(c84, b);
    TS_CHECK(s.minx == 6.7 && s.maxy == 51.3);
}

TS_TEST(grid_init_quad_normalises_crs_names)
{
    ts_grid g;
    TS_REQUIRE(ts_grid_init_quad(&g, "g", "urn:ogc:def:crs:EPSG::25832", 0, 0, 1, 256, 1, 1, 3, 0,
                                 1.0, NULL) == TS_OK);
    TS_CHECK_STR(g.crs, "EPSG:25832");
    TS_CHECK_INT(g.epsg, 25832);
    TS_REQUIRE(ts_grid_init_quad(&g, "g", "EPSG:2056", 0, 0, 1, 256, 1, 1, 3, 0, 1.0, NULL) ==
               TS_OK);
    TS_CHECK_STR(g.crs, "EPSG:2056");
    TS_CHECK_INT(g.epsg, 2056);
    TS_CHECK_STR(g.crs_uri, "http://www.opengis.net/def/crs/EPSG/0/2056");
}
