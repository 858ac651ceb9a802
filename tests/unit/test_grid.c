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
