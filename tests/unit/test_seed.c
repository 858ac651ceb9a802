/* Unit tests for seed: the Hilbert walk (inverse, pruning, resume, shards), option parsing,
 * bbox -> tile ranges (also from other CRSs), coverages (rectangle tests with holes,
 * overlaps, a diagonal strip, a bow-tie; tile counts and blocks; files), the progress file,
 * and whole runs on the demo data through the pipeline into disk and MBTiles caches (skip
 * fresh, interrupt and resume, shards, truncate); plus the pipeline's persistent levels:
 * read-through, a damaged tile re-rendered, a stale tile served while it re-renders. */
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seed/seed.h"
#include "seed/seed_int.h"
#include "util/log.h"

/* ---- the walk --------------------------------------------------------------------------- */

TS_TEST(hilbert_xy_inverts_the_grid_curve)
{
    for (uint32_t order = 1; order <= 64; order *= 2)
        for (uint64_t d = 0; d < (uint64_t)order * order; d++) {
            uint32_t x, y;
            ts_seed_hilbert_xy(order, d, &x, &y);
            TS_REQUIRE(x < order && y < order);
            TS_REQUIRE(ts_grid_hilbert(order, x, y) == d);
        }
    /* large orders too */
    uint32_t x, y;
    ts_seed_hilbert_xy(1u << 20, 123456789012ull, &x, &y);
    TS_CHECK(ts_grid_hilbert(1u << 20, x, y) == 123456789012ull);
}

/* Brute force: the cells of the rectangle sorted by curve index, from `from` on. */
static void
check_walk(uint32_t order, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint64_t from)
{
    ts_seed_iter it;
    ts_seed_iter_init(&it, order, x0, y0, x1, y1, from);
    uint64_t expect_d = from;
    uint32_t x, y;
    uint64_t d;
    int n = 0, want = 0;
    for (uint64_t k = 0; k < (uint64_t)order * order; k++) {
        uint32_t cx, cy;
        ts_seed_hilbert_xy(order, k, &cx, &cy);
        if (k >= from && cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1)
            want++;
    }
    while (ts_seed_iter_next(&it, &x, &y, &d)) {
        /* every cell between the previous and this one is outside the rectangle */
        for (uint64_t k = expect_d; k < d; k++) {
            uint32_t cx, cy;
            ts_seed_hilbert_xy(order, k, &cx, &cy);
            TS_CHECK(!(cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1));
        }
        TS_CHECK(d >= from);
        TS_CHECK(ts_grid_hilbert(order, x, y) == d);
        TS_CHECK(x >= x0 && x <= x1 && y >= y0 && y <= y1);
        expect_d = d + 1;
        n++;
    }
    TS_CHECK_INT(n, want);
}

TS_TEST(hilbert_walk_visits_the_rectangle_in_curve_order)
{
    check_walk(1, 0, 0, 0, 0, 0);
    check_walk(16, 0, 0, 15, 15, 0);
    check_walk(16, 3, 5, 9, 6, 0);
    check_walk(16, 3, 5, 9, 6, 100);
    check_walk(32, 17, 2, 17, 30, 0);
    check_walk(64, 10, 20, 40, 22, 777);
    check_walk(8, 7, 7, 7, 7, 0);
    check_walk(8, 0, 0, 7, 7, 64); /* resumed past the end: nothing */
    /* a small rectangle of a huge square: pruned, so this is quick */
    ts_seed_iter it;
    ts_seed_iter_init(&it, 1u << 30, 500000000, 600000000, 500000009, 600000009, 0);
    uint32_t x, y;
    uint64_t d, last = 0;
    int n = 0;
    while (ts_seed_iter_next(&it, &x, &y, &d)) {
        TS_CHECK(n == 0 || d > last);
        last = d;
        n++;
    }
    TS_CHECK_INT(n, 100);
}

TS_TEST(shards_split_every_level_without_overlap)
{
    int counts[3] = {0, 0, 0};
    for (uint64_t d = 0; d < 4096; d++) {
        int s = ts_seed_shard_of(d, 3);
        TS_REQUIRE(s >= 0 && s < 3);
        counts[s]++;
        /* aligned blocks of 16 stay together */
        TS_CHECK_INT(ts_seed_shard_of(d, 3), ts_seed_shard_of(d - d % 16, 3));
    }
    TS_CHECK(counts[0] > 1300 && counts[1] > 1300 && counts[2] > 1300);
    TS_CHECK_INT(ts_seed_shard_of(12345, 1), 0);
}

/* ---- options and areas ------------------------------------------------------------------ */

TS_TEST(seed_options_parse_and_refuse)
{
    ts_err err;
    ts_seed_area a;
    TS_CHECK_INT(ts_seed_parse_bbox("6.7,51.1,6.9,51.3", &a, &err), TS_OK);
    TS_CHECK(a.has_bbox && a.bbox[0] == 6.7 && a.bbox[3] == 51.3);
    TS_CHECK_STR(a.crs, "EPSG:4326");
    TS_CHECK_INT(ts_seed_parse_bbox("340000,5670000,350000,5680000,EPSG:25832", &a, &err), TS_OK);
    TS_CHECK_STR(a.crs, "EPSG:25832");
    TS_CHECK_INT(ts_seed_parse_bbox("6.9,51.1,6.7,51.3", &a, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_bbox("6.7,51.1,6.9", &a, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_bbox("6.7,51.1,6.9,51.3,", &a, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_bbox("6.7,51.1,6.9,51.3,FOO", &a, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_bbox("6.7,51.1,6.9,51.3,OGC:CRS84", &a, &err), TS_OK);
    TS_CHECK_INT(ts_seed_parse_bbox("a,b,c,d", &a, &err), TS_EINVAL);
    int z0, z1;
    TS_CHECK_INT(ts_seed_parse_zooms("12-16", &z0, &z1, &err), TS_OK);
    TS_CHECK(z0 == 12 && z1 == 16);
    TS_CHECK_INT(ts_seed_parse_zooms("7", &z0, &z1, &err), TS_OK);
    TS_CHECK(z0 == 7 && z1 == 7);
    TS_CHECK_INT(ts_seed_parse_zooms("16-12", &z0, &z1, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_zooms("0-32", &z0, &z1, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_zooms("-1", &z0, &z1, &err), TS_EINVAL);
    int i, n;
    TS_CHECK_INT(ts_seed_parse_shard("1/4", &i, &n, &err), TS_OK);
    TS_CHECK(i == 1 && n == 4);
    TS_CHECK_INT(ts_seed_parse_shard("4/4", &i, &n, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_shard("0/0", &i, &n, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_shard("1", &i, &n, &err), TS_EINVAL);
    int64_t s;
    TS_CHECK_INT(ts_seed_parse_age("90", &s, &err), TS_OK);
    TS_CHECK_INT(s, 90);
    TS_CHECK_INT(ts_seed_parse_age("12h", &s, &err), TS_OK);
    TS_CHECK_INT(s, 12 * 3600);
    TS_CHECK_INT(ts_seed_parse_age("7d", &s, &err), TS_OK);
    TS_CHECK_INT(s, 7 * 86400);
    TS_CHECK_INT(ts_seed_parse_age("7x", &s, &err), TS_EINVAL);
    TS_CHECK_INT(ts_seed_parse_age("h", &s, &err), TS_EINVAL);
}

TS_TEST(bbox_to_tile_ranges)
{
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_err err;
    ts_seed_area a;
    ts_bbox b;
    uint32_t r[4];
    /* the whole world is one tile at level 0, 2x2 at level 1 */
    TS_REQUIRE(ts_seed_parse_bbox("-180,-85.06,180,85.06", &a, &err) == TS_OK);
    TS_REQUIRE(ts_seed_area_to_grid(&a, g, &b, &err) == TS_OK);
    TS_CHECK(ts_seed_tile_range(g, 0, &b, r));
    TS_CHECK(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);
    TS_CHECK(ts_seed_tile_range(g, 1, &b, r));
    TS_CHECK(r[0] == 0 && r[1] == 0 && r[2] == 1 && r[3] == 1);
    /* exactly tile 1/1/0: edges on tile edges pull in nothing else */
    ts_bbox t = ts_grid_tile_bbox(g, 1, 1, 0);
    TS_CHECK(ts_seed_tile_range(g, 1, &t, r));
    TS_CHECK(r[0] == 1 && r[1] == 0 && r[2] == 1 && r[3] == 0);
    /* Düsseldorf at level 16 is around x 34001, y 21873 */
    TS_REQUIRE(ts_seed_parse_bbox("6.77,51.226,6.772,51.228", &a, &err) == TS_OK);
    TS_REQUIRE(ts_seed_area_to_grid(&a, g, &b, &err) == TS_OK);
    TS_CHECK(ts_seed_tile_range(g, 16, &b, r));
    TS_CHECK(r[0] <= 34001 && r[2] >= 34000 && r[0] >= 33990 && r[2] <= 34010);
    TS_CHECK(r[1] >= 21860 && r[3] <= 21890);
    /* the grid's CRS as it is */
    TS_REQUIRE(ts_seed_parse_bbox("753000,6652000,754000,6653000,EPSG:3857", &a, &err) == TS_OK);
    TS_CHECK_INT(ts_seed_area_to_grid(&a, g, &b, &err), TS_OK);
    TS_CHECK(b.minx == 753000);
    /* outside the matrix */
    ts_bbox off = {-3e7, -3e7, -2.5e7, -2.5e7};
    TS_CHECK(!ts_seed_tile_range(g, 3, &off, r));
}

TS_TEST(bbox_in_another_crs_becomes_the_envelope_of_its_outline)
{
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_err err;
    ts_seed_area a;
    ts_bbox b;
    /* UTM 32N -> Web Mercator: the envelope of the four corners (from GDAL's osr), which are
     * the extremes here (the outline's edges bend by less than a metre) */
    TS_REQUIRE(ts_seed_parse_bbox("340000,5670000,350000,5680000,EPSG:25832", &a, &err) == TS_OK);
    TS_REQUIRE(ts_seed_area_to_grid(&a, g, &b, &err) == TS_OK);
    TS_CHECK_NEAR(b.minx, 746663.43, 1.0);
    TS_CHECK_NEAR(b.maxx, 763067.11, 1.0);
    TS_CHECK_NEAR(b.miny, 6649474.39, 1.0);
    TS_CHECK_NEAR(b.maxy, 6665921.45, 1.0);
    /* lon/lat on a UTM grid */
    ts_grid utm;
    TS_REQUIRE(ts_grid_init_quad(&utm, "UTM", "EPSG:25832", -46133.17, 6301219.54, 4891.97, 256,
                                 1, 1, 16, 2, 1.0, &err) == TS_OK);
    TS_REQUIRE(ts_seed_parse_bbox("6.7,51.1,6.9,51.3", &a, &err) == TS_OK);
    TS_REQUIRE(ts_seed_area_to_grid(&a, &utm, &b, &err) == TS_OK);
    TS_CHECK_NEAR(b.minx, 338966.20, 1.0);
    TS_CHECK_NEAR(b.maxx, 353603.26, 1.0);
    TS_CHECK_NEAR(b.miny, 5663042.76, 1.0);
    TS_CHECK_NEAR(b.maxy, 5685699.05, 1.0);
    /* a CRS PROJ does not know */
    TS_REQUIRE(ts_seed_parse_bbox("1,2,3,4,EPSG:999999", &a, &err) == TS_OK);
    ts_err_clear(&err);
    TS_CHECK_INT(ts_seed_area_to_grid(&a, g, &b, &err), TS_EINVAL);
    TS_CHECK(strstr(err.msg, "EPSG:999999") != NULL);
}

/* ---- coverages -------------------------------------------------------------------------- */

/* A 100 x 100 square grid with origin (0, 100) top-left: level z has 2^z x 2^z tiles. */
static void
square_grid(ts_grid *g)
{
    ts_err err;
    TS_REQUIRE(ts_grid_init_quad(g, "SQ", "EPSG:3857", 0, 100, 100.0 / 256, 256, 1, 1, 10, 0, 1.0,
                                 &err) == TS_OK);
}

/* Independent oracle: even-odd over the rings of each polygon, polygons united, sampled on
 * a fine lattice inside tile (x, y) of level z (the shapes below leave no sliver thinner
 * than the lattice step in any tile). */
static int
sampled_hit(const double *xy, const uint32_t *counts, const uint32_t *poly, uint32_t nrings,
            double x0, double y0, double x1, double y1)
{
    for (int j = 0; j <= 48; j++)
        for (int i = 0; i <= 48; i++) {
            double px = x0 + (x1 - x0) * (i + 0.5) / 49.5, py = y0 + (y1 - y0) * (j + 0.5) / 49.5;
            const double *v = xy;
            int in = 0;
            uint32_t cur = UINT32_MAX;
            for (uint32_t r = 0; r < nrings; v += 2 * counts[r], r++) {
                uint32_t pn = poly ? poly[r] : r;
                if (pn != cur) {
                    if (in)
                        return 1;
                    in = 0;
                    cur = pn;
                }
                for (uint32_t k = 0; k < counts[r]; k++) {
                    uint32_t l = (k + 1) % counts[r];
                    double ax = v[2 * k], ay = v[2 * k + 1], bx = v[2 * l], by = v[2 * l + 1];
                    if ((ay > py) != (by > py) && px < ax + (py - ay) * (bx - ax) / (by - ay))
                        in = !in;
                }
            }
            if (in)
                return 1;
        }
    return 0;
}

/* Every tile of level z: ts_seed_coverage_tiles against the oracle; the count too. */
static void
check_tiles_against_oracle(const ts_grid *g, int z, const double *xy, const uint32_t *counts,
                           const uint32_t *poly, uint32_t nrings, uint64_t *hits)
{
    ts_err err;
    ts_seed_coverage *c = ts_seed_coverage_new(xy, counts, poly, nrings, &err);
    TS_REQUIRE(c != NULL);
    uint32_t n = 1u << z, all[4] = {0, 0, n - 1, n - 1};
    uint64_t want = 0;
    for (uint32_t y = 0; y < n; y++)
        for (uint32_t x = 0; x < n; x++) {
            ts_bbox t = ts_grid_tile_bbox(g, z, x, y);
            int exp = sampled_hit(xy, counts, poly, nrings, t.minx, t.miny, t.maxx, t.maxy);
            uint32_t r[4] = {x, y, x, y};
            int got = ts_seed_coverage_tiles(c, g, z, r, NULL) != TS_SEED_OUT;
            if (got != exp)
                fprintf(stderr, "  tile %d/%u/%u: coverage says %d, oracle %d\n", z, x, y, got,
                        exp);
            TS_CHECK_INT(got, exp);
            want += (uint64_t)exp;
        }
    TS_CHECK_INT(ts_seed_count_tiles(c, g, z, all, NULL), want);
    *hits = want;
    ts_seed_coverage_free(c);
}

TS_TEST(coverage_diagonal_strip_leaves_the_corners_of_its_bbox)
{
    ts_grid g;
    square_grid(&g);
    /* a strip 5 wide along the diagonal from bottom-left to top-right */
    const double xy[] = {0, 0, 5, 0, 100, 95, 100, 100, 95, 100, 0, 5};
    const uint32_t counts[] = {6};
    ts_err err;
    ts_seed_coverage *c = ts_seed_coverage_new(xy, counts, NULL, 1, &err);
    TS_REQUIRE(c != NULL);
    ts_bbox cb = ts_seed_coverage_bbox(c);
    TS_CHECK(cb.minx == 0 && cb.maxx == 100 && cb.miny == 0 && cb.maxy == 100);
    /* level 3: 8 x 8 tiles of 12.5; top-left and bottom-right corners are off the strip */
    uint32_t tl[4] = {0, 0, 0, 0}, br[4] = {7, 7, 7, 7}, diag[4] = {3, 4, 3, 4};
    uint32_t tl_block[4] = {0, 0, 2, 2};
    TS_CHECK_INT(ts_seed_coverage_tiles(c, &g, 3, tl, NULL), TS_SEED_OUT);
    TS_CHECK_INT(ts_seed_coverage_tiles(c, &g, 3, br, NULL), TS_SEED_OUT);
    TS_CHECK_INT(ts_seed_coverage_tiles(c, &g, 3, tl_block, NULL), TS_SEED_OUT);
    TS_CHECK(ts_seed_coverage_tiles(c, &g, 3, diag, NULL) != TS_SEED_OUT);
    /* bottom-left and top-right corner tiles hold the strip's ends */
    uint32_t bl[4] = {0, 7, 0, 7}, tr[4] = {7, 0, 7, 0};
    TS_CHECK(ts_seed_coverage_tiles(c, &g, 3, bl, NULL) != TS_SEED_OUT);
    TS_CHECK(ts_seed_coverage_tiles(c, &g, 3, tr, NULL) != TS_SEED_OUT);
    /* every tile on levels 2..6 as the oracle says; far fewer than the bbox's tiles */
    for (int z = 2; z <= 6; z++) {
        uint64_t hits;
        check_tiles_against_oracle(&g, z, xy, counts, NULL, 1, &hits);
        if (z >= 3)
            TS_CHECK(hits < ((uint64_t)1 << (2 * z)) / 2);
        TS_CHECK(hits >= ((uint64_t)1 << z));
    }
    /* cut to a bbox: only the part of the strip inside it */
    ts_bbox clip = {0, 0, 50, 50};
    uint32_t all[4] = {0, 0, 7, 7};
    uint64_t cut = ts_seed_count_tiles(c, &g, 3, all, &clip);
    uint64_t whole = ts_seed_count_tiles(c, &g, 3, all, NULL);
    TS_CHECK(cut > 0 && cut < whole);
    uint32_t outside_clip[4] = {6, 1, 6, 1}; /* on the strip, outside the clip */
    TS_CHECK(ts_seed_coverage_tiles(c, &g, 3, outside_clip, NULL) != TS_SEED_OUT);
    TS_CHECK_INT(ts_seed_coverage_tiles(c, &g, 3, outside_clip, &clip), TS_SEED_OUT);
    ts_seed_coverage_free(c);
}

TS_TEST(coverage_holes_overlaps_and_edges)
{
    ts_grid g;
    square_grid(&g);
    ts_err err;
    /* a square 10..90 with a hole 35..65 (one polygon), closing points repeated */
    const double xy[] = {10, 10, 90, 10, 90, 90, 10, 90, 10, 10,
                         35, 35, 35, 65, 65, 65, 65, 35, 35, 35};
    const uint32_t counts[] = {5, 5}, poly[] = {0, 0};
    ts_seed_coverage *c = ts_seed_coverage_new(xy, counts, poly, 2, &err);
    TS_REQUIRE(c != NULL);
    uint32_t nr, np;
    size_t npts;
    ts_seed_coverage_size(c, &nr, &npts, &np);
    TS_CHECK(nr == 2 && npts == 8 && np == 1);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){40, 40, 60, 60}), TS_SEED_OUT); /* hole */
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){30, 40, 40, 60}), TS_SEED_PART);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){15, 15, 30, 30}), TS_SEED_IN);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){91, 0, 99, 99}), TS_SEED_OUT);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){0, 0, 100, 100}), TS_SEED_PART);
    /* a rectangle touching the outline is met by it; a tile touching it only along its edge
     * is not taken in: level 3 tiles are 12.5 wide, 10..90 is not on tile edges but 37.5..62.5
     * are; the hole 35..65 then holds tiles 3..4 x 3..4 wholly */
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){90, 40, 95, 50}), TS_SEED_PART);
    uint32_t in_hole[4] = {3, 3, 4, 4};
    TS_CHECK_INT(ts_seed_coverage_tiles(c, &g, 3, in_hole, NULL), TS_SEED_OUT);
    uint64_t hits;
    check_tiles_against_oracle(&g, 3, xy, counts, poly, 2, &hits);
    TS_CHECK_INT(hits, 64 - 4 - 0); /* every tile but the four in the hole meets the ring */
    check_tiles_against_oracle(&g, 5, xy, counts, poly, 2, &hits);
    ts_seed_coverage_free(c);

    /* the same hole as a polygon of its own would not be a hole: polygons unite */
    const uint32_t two[] = {0, 1};
    c = ts_seed_coverage_new(xy, counts, two, 2, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){40, 40, 60, 60}), TS_SEED_IN);
    ts_seed_coverage_free(c);

    /* two overlapping squares: their overlap is inside (no even-odd cancelling across
     * features) */
    const double ov[] = {0, 0, 50, 0, 50, 50, 0, 50, 25, 25, 75, 25, 75, 75, 25, 75};
    const uint32_t ovc[] = {4, 4};
    c = ts_seed_coverage_new(ov, ovc, NULL, 2, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){30, 30, 45, 45}), TS_SEED_IN);
    ts_seed_coverage_free(c);

    /* degenerate input */
    const double line[] = {0, 0, 10, 10, 0, 0};
    const uint32_t lc[] = {3};
    TS_CHECK(ts_seed_coverage_new(line, lc, NULL, 1, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
    const double nan_xy[] = {0, 0, 10, 0, NAN, 10};
    TS_CHECK(ts_seed_coverage_new(nan_xy, lc, NULL, 1, &err) == NULL);
}

TS_TEST(coverage_self_intersecting_bow_tie)
{
    ts_grid g;
    square_grid(&g);
    ts_err err;
    /* (10,10) -> (90,90) -> (90,10) -> (10,90): two triangles meeting at (50,50) */
    const double xy[] = {10, 10, 90, 90, 90, 10, 10, 90};
    const uint32_t counts[] = {4};
    ts_seed_coverage *c = ts_seed_coverage_new(xy, counts, NULL, 1, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){45, 45, 55, 55}), TS_SEED_PART);
    /* the right and the left lobe */
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){70, 45, 80, 55}), TS_SEED_IN);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){20, 45, 30, 55}), TS_SEED_IN);
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){45, 12, 55, 20}), TS_SEED_OUT); /* below */
    TS_CHECK_INT(ts_seed_coverage_test(c, &(ts_bbox){45, 80, 55, 88}), TS_SEED_OUT); /* above */
    for (int z = 2; z <= 5; z++) {
        uint64_t hits;
        check_tiles_against_oracle(&g, z, xy, counts, NULL, 1, &hits);
        TS_CHECK(hits > 0);
    }
    ts_seed_coverage_free(c);
}

typedef struct blk_acc {
    uint8_t seen[64 * 64];
    int dup;
} blk_acc;

static int
blk_collect(void *ud, const uint32_t b[4])
{
    blk_acc *a = ud;
    for (uint32_t y = b[1]; y <= b[3]; y++)
        for (uint32_t x = b[0]; x <= b[2]; x++)
            a->dup += a->seen[y * 64 + x]++ > 0;
    return 0;
}

static int
keep_all_met(void *ud, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
    const ts_seed_coverage *c = ud;
    ts_grid g;
    square_grid(&g);
    uint32_t r[4] = {x0, y0, x1, y1};
    return ts_seed_coverage_tiles(c, &g, 6, r, NULL) != TS_SEED_OUT;
}

TS_TEST(coverage_blocks_and_pruned_walk_give_exactly_the_tiles_met)
{
    ts_grid g;
    square_grid(&g);
    ts_err err;
    /* a disc of radius 30 (64 points) around (50, 50) */
    double xy[128];
    for (int i = 0; i < 64; i++) {
        xy[2 * i] = 50 + 30 * cos(i * 2 * M_PI / 64);
        xy[2 * i + 1] = 50 + 30 * sin(i * 2 * M_PI / 64);
    }
    const uint32_t counts[] = {64};
    ts_seed_coverage *c = ts_seed_coverage_new(xy, counts, NULL, 1, &err);
    TS_REQUIRE(c != NULL);
    uint32_t all[4] = {0, 0, 63, 63};
    blk_acc acc;
    memset(&acc, 0, sizeof acc);
    ts_seed_cover_blocks(c, &g, 6, all, NULL, blk_collect, &acc);
    TS_CHECK_INT(acc.dup, 0);
    uint64_t n = 0;
    for (uint32_t y = 0; y < 64; y++)
        for (uint32_t x = 0; x < 64; x++) {
            uint32_t r[4] = {x, y, x, y};
            int met = ts_seed_coverage_tiles(c, &g, 6, r, NULL) != TS_SEED_OUT;
            TS_CHECK_INT(acc.seen[y * 64 + x], met);
            n += (uint64_t)met;
        }
    TS_CHECK_INT(ts_seed_count_tiles(c, &g, 6, all, NULL), n);
    /* about the disc's area in tiles (pi 30^2 / 1.5625^2 = 1158), plus the boundary */
    TS_CHECK(n > 1100 && n < 1400);
    /* the Hilbert walk pruned by the coverage visits exactly those cells */
    ts_seed_iter it;
    ts_seed_iter_init(&it, 64, 0, 0, 63, 63, 0);
    ts_seed_iter_filter(&it, keep_all_met, c);
    uint32_t x, y;
    uint64_t d, walked = 0, last = 0;
    int ordered = 1;
    while (ts_seed_iter_next(&it, &x, &y, &d)) {
        TS_CHECK_INT(acc.seen[y * 64 + x], 1);
        ordered &= walked == 0 || d > last;
        last = d;
        walked++;
    }
    TS_CHECK_INT(walked, n);
    TS_CHECK(ordered);
    ts_seed_coverage_free(c);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

TS_TEST(coverage_from_a_vector_file_in_another_crs)
{
    char dir[] = "/tmp/ts-seed-cov-XXXXXX";
    TS_REQUIRE(mkdtemp(dir) != NULL);
    char path[256], spec[300];
    snprintf(path, sizeof path, "%s/area.geojson", dir);
    /* a triangle in UTM 32N and, as a second feature, a square with a hole; a point is
     * ignored */
    write_file(path,
               "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
               "{\"name\":\"urn:ogc:def:crs:EPSG::25832\"}},\"features\":["
               "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
               "\"coordinates\":[[[344000,5676500],[346000,5676700],[344800,5678200],"
               "[344000,5676500]]]}},"
               "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\","
               "\"coordinates\":[345000,5677000]}},"
               "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":"
               "\"MultiPolygon\",\"coordinates\":[[[[340000,5670000],[341000,5670000],"
               "[341000,5671000],[340000,5671000],[340000,5670000]],[[340400,5670400],"
               "[340400,5670600],[340600,5670600],[340600,5670400],[340400,5670400]]]]}}]}");
    const ts_grid *g = ts_grid_webmercator_quad();
    ts_err err;
    ts_seed_coverage *c = ts_seed_coverage_load(path, g, &err);
    TS_REQUIRE(c != NULL);
    uint32_t nr, np;
    size_t npts;
    ts_seed_coverage_size(c, &nr, &npts, &np);
    TS_CHECK(nr == 3 && np == 2 && npts == 3 + 4 + 4);
    ts_bbox b = ts_seed_coverage_bbox(c);
    /* (344000, 5676500) is about (6.77, 51.21): x ~ 753000 in Web Mercator */
    TS_CHECK(b.minx > 740000 && b.maxx < 770000 && b.miny > 6640000 && b.maxy < 6670000);
    uint64_t id = ts_seed_coverage_id(c);
    ts_seed_coverage_free(c);
    /* FILE:LAYER (GeoJSON's layer is named after the file) gives the same rings */
    snprintf(spec, sizeof spec, "%s:area", path);
    c = ts_seed_coverage_load(spec, g, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK(ts_seed_coverage_id(c) == id);
    ts_seed_coverage_free(c);
    /* errors name the file */
    snprintf(spec, sizeof spec, "%s:nosuchlayer", path);
    ts_err_clear(&err);
    TS_CHECK(ts_seed_coverage_load(spec, g, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ENOENT);
    TS_CHECK(strstr(err.msg, "nosuchlayer") != NULL && strstr(err.msg, path) != NULL);
    snprintf(spec, sizeof spec, "%s/missing.geojson", dir);
    ts_err_clear(&err);
    TS_CHECK(ts_seed_coverage_load(spec, g, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ENOENT);
    TS_CHECK(strstr(err.msg, "missing.geojson") != NULL);
    char pts[256];
    snprintf(pts, sizeof pts, "%s/points.geojson", dir);
    write_file(pts, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                    "\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                    "[6.77,51.22]}}]}");
    ts_err_clear(&err);
    TS_CHECK(ts_seed_coverage_load(pts, g, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
    TS_CHECK(strstr(err.msg, "no polygon") != NULL && strstr(err.msg, "points.geojson") != NULL);
    unlink(path);
    unlink(pts);
    rmdir(dir);
}

TS_TEST(progress_file_round_trip)
{
    char path[512];
    snprintf(path, sizeof path, "%s/p.progress", ts_test_tmpdir());
    ts_seed_state st = {0x1234abcdull, "cadastre", 12, 16, 14, 987654321ull, 5, 6, 7, 8, "running",
                        26, 1};
    ts_err err;
    TS_REQUIRE(ts_seed__state_save(path, &st, &err) == TS_OK);
    ts_seed_state back;
    TS_REQUIRE(ts_seed__state_load(path, &back, &err) == TS_OK);
    TS_CHECK(back.fingerprint == st.fingerprint);
    TS_CHECK_STR(back.tileset, "cadastre");
    TS_CHECK(back.z == 14 && back.d == 987654321ull && back.minz == 12 && back.maxz == 16);
    TS_CHECK(back.rendered == 5 && back.skipped == 6 && back.failed == 7 && back.bytes == 8);
    TS_CHECK_STR(back.status, "running");
    TS_CHECK(back.force == 1);
    TS_CHECK(back.total == 26);
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f);
    fputs("hello\n", f);
    fclose(f);
    TS_CHECK_INT(ts_seed__state_load(path, &back, &err), TS_EINVAL);
    unlink(path);
    TS_CHECK_INT(ts_seed__state_load(path, &back, &err), TS_ENOENT);
}

/* ---- runs on the demo data -------------------------------------------------------------- */

static void
remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int
count_png(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_png(sub);
        else if (strstr(de->d_name, ".png"))
            n++;
    }
    closedir(d);
    return n;
}

/* A config on the demo data: streets only (quick to load), a disk cache under dir and an
 * MBTiles tileset. */
static ts_config *
demo_config(const char *dir, int buffer)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "sources:\n"
             "  demo: {path: duesseldorf_demo.gpkg}\n"
             "layers:\n"
             "  streets: {source: demo, table: streets, style: ../../styles/streets.sld}\n"
             "tilesets:\n"
             "  roads:\n"
             "    layers: [streets]\n"
             "    background: \"#ffffff\"\n"
             "    buffer: %d\n"
             "    cache: {type: disk, path: %s/disk, layout: tc}\n"
             "  roads_mb:\n"
             "    layers: [streets]\n"
             "    cache: {type: mbtiles, path: %s/roads.mbtiles}\n"
             "  roads_mem:\n"
             "    layers: [streets]\n",
             buffer, dir, dir);
    char base[1024];
    snprintf(base, sizeof base, "%s/data/demo", ts_test_srcdir());
    ts_err err;
    ts_err_clear(&err);
    ts_config *c = ts_config_parse(yaml, strlen(yaml), "test.yaml", base, &err);
    if (c == NULL) {
        char buf[1024];
        fprintf(stderr, "config: %s\n", ts_err_format(&err, buf, sizeof buf));
    }
    return c;
}

static ts_pipeline *
demo_pipeline(ts_config *cfg)
{
    ts_err err;
    ts_err_clear(&err);
    ts_log_set_level(TS_LOG_ERROR);
    ts_service *svc = ts_service_load(cfg, &err);
    if (svc == NULL) {
        fprintf(stderr, "service: %s\n", err.msg);
        return NULL;
    }
    ts_pipeline_opts po = {2, 64, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    if (p == NULL)
        fprintf(stderr, "pipeline: %s\n", err.msg);
    ts_service_unref(svc);
    return p;
}

TS_TEST(config_reads_cache_entries)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cfg", ts_test_tmpdir());
    ts_config *c = demo_config(dir, 64);
    TS_REQUIRE(c);
    const ts_cfg_tileset *t = ts_config_tileset(c, "roads");
    TS_REQUIRE(t);
    TS_CHECK_STR(t->cache.type, "disk");
    TS_CHECK_STR(t->cache.layout, "tc");
    TS_CHECK(strstr(t->cache.path, "/cfg/disk") != NULL);
    TS_CHECK_STR(ts_config_tileset(c, "roads_mb")->cache.type, "mbtiles");
    TS_CHECK_STR(ts_config_tileset(c, "roads_mem")->cache.type, "memory");
    TS_CHECK(ts_config_tileset(c, "roads_mem")->cache.path == NULL);
    ts_config_unref(c);
}

static ts_seed_opts
seed_opts(const char *tileset, const char *progress, int minz, int maxz)
{
    ts_seed_opts o;
    memset(&o, 0, sizeof o);
    o.tileset = tileset;
    o.minz = minz;
    o.maxz = maxz;
    o.scale = 1;
    o.inflight = 4;
    o.writers = 2;
    o.shard_n = 1;
    o.progress_path = progress;
    ts_err err;
    ts_seed_parse_bbox("6.765,51.222,6.78,51.232", &o.area, &err);
    return o;
}

TS_TEST(seed_fills_the_disk_cache_skips_fresh_tiles_and_resumes)
{
    char dir[512], prog[600], tiles[600];
    snprintf(dir, sizeof dir, "%s/seed", ts_test_tmpdir());
    remove_tree(dir);
    mkdir(dir, 0755);
    snprintf(prog, sizeof prog, "%s/run.progress", dir);
    snprintf(tiles, sizeof tiles, "%s/disk", dir);
    ts_config *cfg = demo_config(dir, 64);
    TS_REQUIRE(cfg);
    ts_pipeline *p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    ts_err err;
    ts_err_clear(&err);

    /* interrupted before the first metatile: nothing done, progress saved */
    volatile sig_atomic_t stop = 1;
    ts_seed_opts o = seed_opts("roads", prog, 13, 16);
    o.stop = &stop;
    ts_seed_summary s;
    TS_REQUIRE(ts_seed_run(p, &o, &s, &err) == TS_OK);
    TS_CHECK_INT(s.result, TS_SEED_INTERRUPTED);
    TS_CHECK_INT(ts_seed_exit_code(TS_OK, &s), TS_SEED_EXIT_INTERRUPTED);
    TS_CHECK_INT(s.rendered, 0);
    ts_seed_state st;
    TS_REQUIRE(ts_seed__state_load(prog, &st, &err) == TS_OK);
    TS_CHECK_STR(st.status, "interrupted");
    TS_CHECK_INT(st.z, 13);
    uint64_t total = s.tiles_total;
    TS_CHECK(total > 10);

    /* resumed: everything rendered, every tile on disk */
    stop = 0;
    o.resume = 1;
    TS_REQUIRE(ts_seed_run(p, &o, &s, &err) == TS_OK);
    TS_CHECK_INT(s.result, TS_SEED_DONE);
    TS_CHECK(s.resumed);
    TS_CHECK_INT(s.rendered, total);
    TS_CHECK_INT(s.skipped, 0);
    TS_CHECK_INT(count_png(tiles), (int)total);
    TS_REQUIRE(ts_seed__state_load(prog, &st, &err) == TS_OK);
    TS_CHECK_STR(st.status, "done");
    TS_CHECK_INT(st.z, 17);
    TS_CHECK_INT(st.rendered, total);

    /* again without --resume: every tile is fresh, nothing rendered */
    o.resume = 0;
    TS_REQUIRE(ts_seed_run(p, &o, &s, &err) == TS_OK);
    TS_CHECK_INT(s.result, TS_SEED_DONE);
    TS_CHECK_INT(s.rendered, 0);
    TS_CHECK_INT(s.skipped, total);
    TS_CHECK_INT(s.metatiles, 0);

    /* a resume with other options is refused */
    o.resume = 1;
    o.maxz = 14;
    TS_CHECK_INT(ts_seed_run(p, &o, &s, &err), TS_EINVAL);
    TS_CHECK(strstr(err.msg, "another seed") != NULL);
    TS_CHECK_INT(ts_seed_exit_code(TS_EINVAL, NULL), TS_SEED_EXIT_USAGE);

    /* zooms outside the tileset, a tileset without a persistent cache: refused */
    o = seed_opts("roads", prog, 13, 25);
    TS_CHECK_INT(ts_seed_run(p, &o, &s, &err), TS_EINVAL);
    o = seed_opts("roads_mem", prog, 13, 14);
    TS_CHECK_INT(ts_seed_run(p, &o, &s, &err), TS_EINVAL);
    TS_CHECK(strstr(err.msg, "no persistent cache") != NULL);
    o = seed_opts("nope", prog, 13, 14);
    TS_CHECK_INT(ts_seed_run(p, &o, &s, &err), TS_ENOENT);

    /* truncate: a bbox at level 15, then by age, then all */
    uint64_t removed = 0;
    ts_truncate_opts to;
    memset(&to, 0, sizeof to);
    to.tileset = "roads";
    to.minz = to.maxz = 15;
    to.scale = 1;
    TS_REQUIRE(ts_seed_parse_bbox("6.765,51.222,6.77,51.226", &to.area, &err) == TS_OK);
    TS_CHECK_INT(ts_seed_truncate(cfg, &to, &removed, &err), TS_OK);
    TS_CHECK(removed > 0 && removed < total);
    int left = count_png(tiles);
    TS_CHECK_INT(left, (int)(total - removed));
    memset(&to.area, 0, sizeof to.area);
    to.minz = to.maxz = -1;
    to.older_than_s = 3600;
    TS_CHECK_INT(ts_seed_truncate(cfg, &to, &removed, &err), TS_OK);
    TS_CHECK_INT(removed, 0);
    to.older_than_s = 0;
    TS_CHECK_INT(ts_seed_truncate(cfg, &to, &removed, &err), TS_OK);
    TS_CHECK_INT(removed, left);
    TS_CHECK_INT(count_png(tiles), 0);
    to.tileset = "roads_mem";
    TS_CHECK_INT(ts_seed_truncate(cfg, &to, &removed, &err), TS_EINVAL);

    ts_pipeline_free(p);
    ts_config_unref(cfg);
    remove_tree(dir);
}

TS_TEST(seed_shards_and_mbtiles_targets)
{
    char dir[512], prog[600], mb[600], sharded[600];
    snprintf(dir, sizeof dir, "%s/shards", ts_test_tmpdir());
    remove_tree(dir);
    mkdir(dir, 0755);
    snprintf(prog, sizeof prog, "%s/run.progress", dir);
    snprintf(mb, sizeof mb, "%s/out.mbtiles", dir);
    snprintf(sharded, sizeof sharded, "%s/sharded", dir);
    ts_config *cfg = demo_config(dir, 64);
    TS_REQUIRE(cfg);
    ts_pipeline *p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    ts_err err;
    ts_err_clear(&err);
    ts_seed_summary s;

    /* the configured MBTiles */
    ts_seed_opts o = seed_opts("roads_mb", prog, 13, 16);
    TS_REQUIRE(ts_seed_run(p, &o, &s, &err) == TS_OK);
    TS_CHECK_INT(s.result, TS_SEED_DONE);
    uint64_t total = s.tiles_total;
    TS_CHECK_INT(s.rendered, total);
    ts_cache *c = ts_pipeline_tileset_cache(p, "roads_mb", NULL, 1, &err);
    TS_REQUIRE(c);
    TS_CHECK_STR(ts_cache_kind(c), "mbtiles");
    ts_cache_unref(c);

    /* three shards into a directory given with --to: together exactly the whole */
    uint64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        o = seed_opts("roads_mb", prog, 13, 16);
        o.shard_i = i;
        o.shard_n = 3;
        o.to = sharded;
        o.to_layout = "tms";
        TS_REQUIRE(ts_seed_run(p, &o, &s, &err) == TS_OK);
        TS_CHECK_INT(s.result, TS_SEED_DONE);
        TS_CHECK_INT(s.skipped, 0);
        sum += s.rendered;
    }
    TS_CHECK_INT(sum, total);
    TS_CHECK_INT(count_png(sharded), (int)total);

    /* --to FILE.mbtiles: a standalone file holding the seed's zooms and bbox */
    o = seed_opts("roads", prog, 14, 15);
    o.to = mb;
    TS_REQUIRE(ts_seed_run(p, &o, &s, &err) == TS_OK);
    TS_CHECK_INT(s.result, TS_SEED_DONE);
    TS_CHECK(s.rendered > 0);
    ts_truncate_opts to;
    memset(&to, 0, sizeof to);
    to.tileset = "roads";
    to.minz = 14;
    to.maxz = 15;
    to.scale = 1;
    to.to = mb;
    uint64_t removed = 0;
    TS_CHECK_INT(ts_seed_truncate(cfg, &to, &removed, &err), TS_OK);
    TS_CHECK_INT(removed, s.rendered);
    /* --layout with an MBTiles target is a usage error */
    o.to_layout = "tc";
    TS_CHECK_INT(ts_seed_run(p, &o, &s, &err), TS_EINVAL);

    ts_pipeline_free(p);
    ts_config_unref(cfg);
    remove_tree(dir);
}

TS_TEST(pipeline_reads_through_rerenders_damaged_and_revalidates_stale_tiles)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/swr", ts_test_tmpdir());
    remove_tree(dir);
    mkdir(dir, 0755);
    ts_config *cfg = demo_config(dir, 64);
    TS_REQUIRE(cfg);
    ts_tile_req r = {"roads", 16, 34001, 21873, 1};
    /* y 21873 at level 16 is TMS row 43662; tc layout */
    snprintf(path, sizeof path, "%s/disk/WebMercatorQuad/16/000/034/001/000/043/662.png", dir);
    ts_err err;
    ts_err_clear(&err);
    ts_pipeline_stats ps;

    /* rendered, then written to disk (once the pipeline has finished its jobs) */
    ts_pipeline *p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    ts_tile *t = NULL;
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    uint64_t etag = t->etag;
    ts_tile_unref(t);
    ts_pipeline_free(p);
    struct stat st;
    TS_REQUIRE(stat(path, &st) == 0);

    /* a new process (empty memory) reads it from disk without rendering */
    p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    TS_CHECK(t->etag == etag);
    ts_tile_unref(t);
    ts_pipeline_stats_get(p, &ps);
    TS_CHECK_INT(ps.metatiles_rendered, 0);
    TS_CHECK_INT(ps.persist.hits, 1);
    /* and from memory the second time */
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    ts_tile_unref(t);
    ts_pipeline_stats_get(p, &ps);
    TS_CHECK_INT(ps.persist.gets, 1);
    ts_pipeline_free(p);

    /* a damaged file is not served: deleted, re-rendered, rewritten */
    TS_REQUIRE(truncate(path, 100) == 0);
    p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    TS_CHECK(t->etag == etag);
    TS_CHECK(ts_cache_png_ok(t->data, t->len));
    ts_tile_unref(t);
    ts_pipeline_stats_get(p, &ps);
    TS_CHECK_INT(ps.persist.corrupt, 1);
    TS_CHECK_INT(ps.metatiles_rendered, 1);
    ts_pipeline_free(p);
    TS_REQUIRE(stat(path, &st) == 0);
    TS_CHECK(st.st_size > 100);
    ts_config_unref(cfg);

    /* another data version (the buffer changed): served stale at once, re-rendered in the
     * background, fresh afterwards */
    usleep(20000);
    cfg = demo_config(dir, 32);
    TS_REQUIRE(cfg);
    p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    ts_tile_unref(t);
    ts_pipeline_stats_get(p, &ps);
    TS_CHECK_INT(ps.stale_served, 1);
    TS_CHECK_INT(ps.revalidations, 1);
    ts_pipeline_free(p); /* waits for the background render */
    p = demo_pipeline(cfg);
    TS_REQUIRE(p);
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    ts_tile_unref(t);
    ts_pipeline_stats_get(p, &ps);
    TS_CHECK_INT(ps.stale_served, 0);
    TS_CHECK_INT(ps.metatiles_rendered, 0);
    TS_CHECK_INT(ps.persist.hits, 1);
    ts_pipeline_free(p);
    ts_config_unref(cfg);
    remove_tree(dir);
}
