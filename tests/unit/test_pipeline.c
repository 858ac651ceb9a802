/* Unit tests for pipeline: service loading from the demo config, metatile rendering,
 * in-flight de-duplication under many threads, request validation. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "util/log.h"

static ts_service *
demo_service(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/demo/tilesrv.yaml", ts_test_srcdir());
    ts_err err;
    ts_err_clear(&err);
    ts_log_set_level(TS_LOG_WARN);
    ts_config *cfg = ts_config_load(path, &err);
    if (cfg == NULL) {
        char buf[1024];
        fprintf(stderr, "config: %s\n", ts_err_format(&err, buf, sizeof buf));
        return NULL;
    }
    ts_service *svc = ts_service_load(cfg, &err);
    if (svc == NULL) {
        char buf[1024];
        fprintf(stderr, "service: %s\n", ts_err_format(&err, buf, sizeof buf));
    }
    ts_config_unref(cfg);
    return svc;
}

TS_TEST(pipeline_refuses_bad_requests)
{
    ts_service *svc = demo_service();
    TS_REQUIRE(svc);
    ts_pipeline_opts po = {2, 16, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, NULL);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    ts_err err;
    ts_tile_req r = {"nonexistent", 16, 34001, 21873, 1};
    TS_CHECK_INT(ts_pipeline_check(p, &r, &err), TS_ENOENT);
    ts_tile_req r2 = {"cadastre", 16, 70000, 21873, 1};
    TS_CHECK_INT(ts_pipeline_check(p, &r2, &err), TS_EINVAL);
    ts_tile_req r3 = {"cadastre", 25, 0, 0, 1};
    TS_CHECK_INT(ts_pipeline_check(p, &r3, &err), TS_EINVAL);
    ts_tile_req r4 = {"cadastre", 16, 34001, 21873, 3};
    TS_CHECK_INT(ts_pipeline_check(p, &r4, &err), TS_EINVAL);
    ts_tile *t = NULL;
    TS_CHECK_INT(ts_pipeline_get(p, &r, &t, &err), TS_ENOENT);
    TS_CHECK(t == NULL);
    ts_pipeline_free(p);
}

typedef struct hammer_arg {
    ts_pipeline *p;
    int idx;
    ts_tile *got;
    ts_status st;
} hammer_arg;

static void *
hammer(void *vp)
{
    hammer_arg *a = vp;
    /* every thread asks for a tile of the same 8x8 metatile (x 34000..34007, y 21872..) */
    ts_tile_req r = {"cadastre", 16, 34000 + (uint32_t)(a->idx % 8), 21872 + (uint32_t)(a->idx / 8 % 8), 1};
    ts_err err;
    a->st = ts_pipeline_get(a->p, &r, &a->got, &err);
    return NULL;
}

TS_TEST(pipeline_many_threads_one_metatile_one_render)
{
    ts_service *svc = demo_service();
    TS_REQUIRE(svc);
    ts_pipeline_opts po = {2, 64, 64u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, NULL);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    enum { N = 48 };
    pthread_t th[N];
    hammer_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (hammer_arg){p, i, NULL, TS_EINTERNAL};
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        TS_CHECK_INT(args[i].st, TS_OK);
        TS_CHECK(args[i].got != NULL && args[i].got->len > 8);
        if (args[i].got)
            TS_CHECK(memcmp(args[i].got->data, "\x89PNG", 4) == 0);
    }
    /* the same tile asked twice is the same bytes */
    for (int i = 8 * 8; i < N; i++)
        if (args[i].got && args[i - 64 >= 0 ? i - 64 : 0].got)
            TS_CHECK(args[i].got->etag == args[i - 64].got->etag);
    for (int i = 0; i < N; i++)
        ts_tile_unref(args[i].got);
    ts_pipeline_stats st;
    ts_pipeline_stats_get(p, &st);
    TS_CHECK_INT(st.metatiles_rendered, 1);
    TS_CHECK_INT(st.tiles_encoded + st.tiles_uniform, 64);
    /* a second round is answered from the cache */
    ts_tile_req r = {"cadastre", 16, 34001, 21873, 1};
    ts_tile *t = ts_pipeline_lookup(p, &r);
    TS_CHECK(t != NULL);
    ts_tile_unref(t);
    ts_pipeline_free(p);
}

TS_TEST(pipeline_hidpi_tiles_are_512_px)
{
    ts_service *svc = demo_service();
    TS_REQUIRE(svc);
    ts_pipeline_opts po = {1, 16, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, NULL);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    ts_tile_req r = {"cadastre", 17, 68002, 43747, 2};
    ts_tile *t = NULL;
    ts_err err;
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    ts_canvas *c = ts_png_decode(t->data, t->len, &err);
    TS_REQUIRE(c);
    TS_CHECK_INT(c->w, 512);
    TS_CHECK_INT(c->h, 512);
    ts_canvas_free(c);
    ts_tile_unref(t);
    ts_pipeline_free(p);
}

/* ---- grids of a tileset, WMS catalog, maps, feature info, legends ---- */

static int
png_w(const ts_tile *t)
{
    const uint8_t *d = t->data;
    return t->len > 24 ? (int)((uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 |
                               (uint32_t)d[18] << 8 | d[19])
                       : -1;
}

TS_TEST(pipeline_tileset_on_two_grids_and_wms_tree)
{
    ts_service *svc = demo_service();
    TS_REQUIRE(svc);
    const ts_tileset *a = ts_service_tileset_grid(svc, "cadastre", NULL);
    const ts_tileset *b = ts_service_tileset_grid(svc, "cadastre", "DE_EPSG_25832_ADV");
    TS_REQUIRE(a && b && a != b);
    TS_CHECK_STR(a->grid->name, "WebMercatorQuad");
    TS_CHECK(ts_service_tileset_grid(svc, "parking", "DE_EPSG_25832_ADV") == NULL);
    TS_CHECK_INT(ts_service_ntileset_grids(svc), ts_service_ntilesets(svc) + 1);
    /* the stores of the AdV entry are in metres of UTM 32N */
    TS_CHECK(b->bounds.minx > 300000 && b->bounds.maxx < 400000);
    const ts_wms_entry *root = ts_service_wms_at(svc, 0);
    TS_REQUIRE(root != NULL);
    TS_CHECK_STR(root->name, "city");
    TS_CHECK_INT(root->nkids, 3);
    const ts_wms_entry *pe = ts_service_wms_find(svc, "parcels");
    TS_REQUIRE(pe != NULL);
    TS_CHECK_INT(pe->depth, 2);
    TS_CHECK(pe->has_extent && pe->lonlat.minx > 6.7 && pe->lonlat.maxy < 51.3);
    int k25832 = -1;
    for (int i = 0; i < ts_service_wms_ncrs(svc); i++)
        if (strcmp(ts_service_wms_crs_at(svc, i)->id, "EPSG:25832") == 0)
            k25832 = i;
    TS_REQUIRE(k25832 >= 0);
    TS_CHECK(pe->crs_ok[k25832] && pe->crs_boxes[k25832].minx > 340000);
    const ts_wms_entry *ce = ts_service_wms_find(svc, "cadastre");
    TS_REQUIRE(ce != NULL);
    TS_CHECK_INT(ce->ndraws, 3);
    ts_service_unref(svc);
}

static ts_tile *
map_of(ts_pipeline *p, const char *layer, const char *crs, ts_bbox b, int w)
{
    const char *names[1] = {layer};
    ts_map_req r = {.layers = names,
                    .nlayers = 1,
                    .crs = ts_grid_crs_find(crs),
                    .bbox = b,
                    .width = w,
                    .height = w,
                    .background = {255, 255, 255, 255},
                    .format = TS_MAP_PNG};
    ts_tile *t = NULL;
    ts_err err;
    if (ts_pipeline_map_get(p, &r, &t, &err) != TS_OK)
        fprintf(stderr, "map %s: %s\n", crs, err.msg);
    return t;
}

TS_TEST(pipeline_maps_in_served_and_reprojected_crs)
{
    ts_service *svc = demo_service();
    TS_REQUIRE(svc);
    ts_pipeline_opts po = {2, 16, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, NULL);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    ts_bbox utm = {344000, 5677000, 345000, 5678000};
    ts_tile *a = map_of(p, "cadastre", "EPSG:25832", utm, 300);
    ts_tile *b = map_of(p, "cadastre", "EPSG:3044", utm, 300); /* same coordinates, same store */
    ts_tile *c = map_of(p, "cadastre", "EPSG:31467", (ts_bbox){3344000, 5679000, 3345000, 5680000},
                        300); /* reprojected on the fly */
    ts_tile *d = map_of(p, "nope", "EPSG:25832", utm, 300);
    TS_REQUIRE(a && b && c);
    TS_CHECK(d == NULL);
    TS_CHECK_INT(png_w(a), 300);
    TS_CHECK(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
    TS_CHECK(c->len > 20000); /* a drawn city, not a blank image */
    /* JPEG and paletted PNG */
    const char *names[1] = {"parcels"};
    ts_map_req r = {.layers = names, .nlayers = 1, .crs = ts_grid_crs_find("EPSG:25832"),
                    .bbox = utm, .width = 64, .height = 48, .format = TS_MAP_JPEG};
    ts_tile *j = NULL;
    ts_err err;
    TS_CHECK(ts_pipeline_map_get(p, &r, &j, &err) == TS_OK);
    TS_CHECK(j && j->len > 3 && j->data[0] == 0xff && j->data[1] == 0xd8);
    ts_tile_unref(j);
    ts_tile_unref(a);
    ts_tile_unref(b);
    ts_tile_unref(c);
    ts_pipeline_free(p);
}

TS_TEST(pipeline_feature_info_and_legend)
{
    ts_service *svc = demo_service();
    TS_REQUIRE(svc);
    ts_pipeline_opts po = {1, 16, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, NULL);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    const char *names[1] = {"cadastre"};
    ts_info_req r = {.layers = names,
                     .nlayers = 1,
                     .crs = ts_grid_crs_find("EPSG:25832"),
                     .bbox = {344000, 5677000, 345000, 5678000},
                     .width = 256,
                     .height = 256,
                     .i = 128,
                     .j = 128,
                     .feature_count = 3};
    ts_info_result res;
    ts_err err;
    TS_REQUIRE(ts_pipeline_feature_info(p, &r, &res, &err) == TS_OK);
    TS_CHECK(res.n >= 1);
    if (res.n >= 1) {
        TS_CHECK(res.features[0].id >= 0);
        TS_CHECK(res.features[0].nattrs >= 2);
        /* the hit lies within the tolerance (4 px of 3.9 m, plus half a stroke) of the point */
        ts_bbox fb = res.features[0].bbox;
        TS_CHECK(fb.minx <= 344502 + 30 && fb.maxx >= 344502 - 30 && fb.miny <= 5677498 + 30 &&
                 fb.maxy >= 5677498 - 30);
    }
    ts_info_result_free(&res);
    /* a point far outside: nothing */
    r.bbox = (ts_bbox){300000, 5600000, 301000, 5601000};
    TS_REQUIRE(ts_pipeline_feature_info(p, &r, &res, &err) == TS_OK);
    TS_CHECK_INT(res.n, 0);
    ts_info_result_free(&res);
    ts_legend_req lr = {.layer = "buildings", .background = {255, 255, 255, 255}};
    ts_tile *t = NULL;
    TS_CHECK(ts_pipeline_legend(p, &lr, &t, &err) == TS_OK);
    TS_CHECK(t != NULL && png_w(t) > 20);
    ts_tile_unref(t);
    lr.rule = "no such rule";
    TS_CHECK(ts_pipeline_legend(p, &lr, &t, &err) == TS_ENOENT);
    ts_pipeline_free(p);
}

/* ---- live (feed) layers ------------------------------------------------------------------ */

#include "encode/encode.h"
#include "grid/grid.h"
#include "source/source.h"

static const char live_yaml[] =
    "feeds:\n"
    "  bays_live:\n"
    "    kind: geojson\n"
    "    url: http://127.0.0.1:9/bays.geojson\n"
    "layers:\n"
    "  bays:\n"
    "    feed: bays_live\n"
    "    style: %s/styles/parking_state.sld\n"
    "tilesets:\n"
    "  parking:\n"
    "    layers: [bays]\n"
    "    metatile: 2\n";

/* A store of points (lon/lat in degrees, to EPSG:3857) with a state each. */
static ts_store *
bays_store(const double *lonlat, const char *const *states, int n)
{
    const char *fields[] = {"state"};
    ts_err err;
    ts_store_builder *b = ts_store_builder_new("bays", fields, 1, &err);
    if (b == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        double xy[2];
        ts_grid_lonlat_to_mercator(lonlat[2 * i], lonlat[2 * i + 1], &xy[0], &xy[1]);
        uint32_t one = 1;
        ts_value v = {.type = TS_VAL_STR, .u.s = states[i]};
        if (ts_store_builder_add(b, TS_GEOM_POINT, xy, &one, 1, &v, &err) != TS_OK) {
            ts_store_builder_free(b);
            return NULL;
        }
    }
    ts_store *s = NULL;
    return ts_store_builder_finish(b, &s, &err) == TS_OK ? s : NULL;
}

/* Pixels of a PNG tile close to colour (r, g, b) and mostly opaque. */
static int
count_colour(const ts_tile *t, int r, int g, int b)
{
    ts_err err;
    ts_canvas *c = ts_png_decode(t->data, t->len, &err);
    if (c == NULL)
        return -1;
    int n = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            const uint8_t *px = (const uint8_t *)&c->px[(size_t)y * c->stride + x];
            if (px[3] > 200 && abs(px[0] - r) < 40 && abs(px[1] - g) < 40 && abs(px[2] - b) < 40)
                n++;
        }
    ts_canvas_free(c);
    return n;
}

TS_TEST(pipeline_live_layer_store_swap_and_exact_invalidation)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, live_yaml, ts_test_srcdir());
    ts_err err;
    ts_err_clear(&err);
    ts_log_set_level(TS_LOG_WARN);
    ts_config *cfg = ts_config_parse(yaml, strlen(yaml), "live.yaml", ts_test_srcdir(), &err);
    TS_REQUIRE(cfg);
    ts_service *svc = ts_service_load(cfg, &err);
    ts_config_unref(cfg);
    TS_REQUIRE(svc);
    TS_CHECK(ts_service_tileset_live(svc, ts_service_tileset(svc, "parking")));
    ts_pipeline_opts po = {2, 16, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    TS_REQUIRE(p);

    /* two bays far apart (about 2 km) */
    double pts[4] = {6.7800, 51.2200, 6.8100, 51.2350};
    const char *free2[] = {"free", "free"};
    const char *changed[] = {"occupied", "free"};
    int z = 16;
    double mx, my, fx, fy;
    ts_grid_lonlat_to_mercator(pts[0], pts[1], &mx, &my);
    ts_grid_lonlat_to_mercator(pts[2], pts[3], &fx, &fy);
    const ts_grid *g = ts_grid_webmercator_quad();
    uint32_t ax, ay, bx, by;
    TS_REQUIRE(ts_grid_tile_at(g, z, mx, my, &ax, &ay));
    TS_REQUIRE(ts_grid_tile_at(g, z, fx, fy, &bx, &by));
    ts_tile_req ra = {"parking", z, ax, ay, 1}, rb = {"parking", z, bx, by, 1};

    /* empty at first: the tile is blank */
    ts_tile *t0 = NULL;
    TS_REQUIRE(ts_pipeline_get(p, &ra, &t0, &err) == TS_OK);
    TS_CHECK_INT(count_colour(t0, 0x2c, 0xa0, 0x2c), 0);

    /* a store set now is drawn once the stale tile is invalidated */
    ts_store *s1 = bays_store(pts, free2, 2);
    TS_REQUIRE(s1);
    TS_CHECK_INT(ts_pipeline_layer_set_store(p, "bays", "EPSG:3857", s1, &err), TS_OK);
    TS_CHECK_INT(ts_pipeline_layer_set_store(p, "nope", "EPSG:3857", s1, &err), TS_ENOENT);
    TS_CHECK_INT(ts_pipeline_layer_set_store(p, "bays", "EPSG:25832", s1, &err), TS_ENOENT);
    ts_store_unref(s1);
    ts_bbox all = {6.7, 51.1, 6.9, 51.3};
    TS_CHECK(ts_pipeline_invalidate(p, "parking", NULL, all, 8) >= 1);
    ts_tile *a1 = NULL, *b1 = NULL;
    TS_REQUIRE(ts_pipeline_get(p, &ra, &a1, &err) == TS_OK);
    TS_REQUIRE(ts_pipeline_get(p, &rb, &b1, &err) == TS_OK);
    TS_CHECK(a1->etag != t0->etag);
    TS_CHECK(count_colour(a1, 0x2c, 0xa0, 0x2c) > 10); /* green: free */
    TS_CHECK_INT(count_colour(a1, 0xd6, 0x27, 0x28), 0);

    /* one bay becomes occupied: a new store, then its box invalidated */
    ts_store *s2 = bays_store(pts, changed, 2);
    TS_REQUIRE(s2);
    TS_CHECK_INT(ts_pipeline_layer_set_store(p, "bays", "EPSG:3857", s2, &err), TS_OK);
    ts_store_unref(s2);
    /* before the invalidation the cache still answers the old tile */
    ts_tile *still = ts_pipeline_lookup(p, &ra);
    TS_CHECK(still == a1);
    ts_tile_unref(still);
    ts_bbox one = {pts[0], pts[1], pts[0], pts[1]};
    long dropped = ts_pipeline_invalidate(p, "parking", NULL, one, 8);
    TS_CHECK(dropped >= 1);
    TS_CHECK(ts_pipeline_lookup(p, &ra) == NULL);
    ts_tile *b2 = ts_pipeline_lookup(p, &rb); /* the far tile stays cached */
    TS_CHECK(b2 == b1);
    ts_tile_unref(b2);
    ts_tile *a2 = NULL;
    TS_REQUIRE(ts_pipeline_get(p, &ra, &a2, &err) == TS_OK);
    TS_CHECK(a2->etag != a1->etag);
    TS_CHECK(count_colour(a2, 0xd6, 0x27, 0x28) > 10); /* red: occupied */
    TS_CHECK_INT(count_colour(a2, 0x2c, 0xa0, 0x2c), 0);
    /* lower zooms where both bays share a tile were dropped too */
    uint32_t lx, ly;
    TS_REQUIRE(ts_grid_tile_at(g, 10, mx, my, &lx, &ly));
    ts_tile_req rl = {"parking", 10, lx, ly, 1};
    ts_tile *l1 = NULL;
    TS_REQUIRE(ts_pipeline_get(p, &rl, &l1, &err) == TS_OK);
    TS_CHECK(ts_pipeline_invalidate(p, "parking", NULL, one, 8) >= 1);
    ts_tile *l2 = ts_pipeline_lookup(p, &rl);
    TS_CHECK(l2 == NULL);
    ts_tile_unref(l2);
    /* WMS draws and queries the current store too */
    const char *wl[] = {"bays"};
    ts_map_req mr = {
        .layers = wl,
        .nlayers = 1,
        .crs = ts_grid_crs_find("EPSG:3857"),
        .bbox = {mx - 300, my - 300, mx + 300, my + 300},
        .width = 256,
        .height = 256,
        .format = TS_MAP_PNG,
    };
    ts_tile *map = NULL;
    TS_REQUIRE(ts_pipeline_map_get(p, &mr, &map, &err) == TS_OK);
    TS_CHECK(count_colour(map, 0xd6, 0x27, 0x28) > 10);
    ts_tile_unref(map);
    ts_info_req ir = {
        .layers = wl,
        .nlayers = 1,
        .crs = mr.crs,
        .bbox = mr.bbox,
        .width = 256,
        .height = 256,
        .i = 128,
        .j = 128,
        .feature_count = 1,
    };
    ts_info_result res;
    TS_CHECK_INT(ts_pipeline_feature_info(p, &ir, &res, &err), TS_OK);
    TS_CHECK_INT(res.n, 1);
    int seen_state = 0;
    for (int k = 0; res.n == 1 && k < res.features[0].nattrs; k++)
        if (strcmp(res.features[0].names[k], "state") == 0 &&
            res.features[0].values[k].type == TS_VAL_STR)
            seen_state = strcmp(res.features[0].values[k].u.s, "occupied") == 0;
    TS_CHECK(seen_state);
    ts_info_result_free(&res);
    /* unknown tileset, empty box */
    TS_CHECK_INT(ts_pipeline_invalidate(p, "nope", NULL, one, 8), -1);
    ts_bbox bad = {1, 1, 0, 0};
    TS_CHECK_INT(ts_pipeline_invalidate(p, "parking", NULL, bad, 8), -1);
    ts_tile_unref(t0);
    ts_tile_unref(a1);
    ts_tile_unref(b1);
    ts_tile_unref(a2);
    ts_tile_unref(l1);
    ts_pipeline_free(p);
}

typedef struct async_got {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    ts_status st;
    ts_tile *tile;
} async_got;

static void
async_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err)
{
    (void)err;
    async_got *g = ud;
    pthread_mutex_lock(&g->mu);
    g->st = st;
    g->tile = tile;
    g->done = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void
async_wait(async_got *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->done)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

TS_TEST(pipeline_invalidate_detaches_renders_in_flight)
{
    /* One render thread busy with a cadastre metatile; the parking tile's render waits in
     * the queue with the old store. Invalidating its box must keep that render's tiles out
     * of the cache: its waiter is answered, the next request renders the new store. */
    char path[1024];
    snprintf(path, sizeof path, "%s/data/demo/tilesrv.yaml", ts_test_srcdir());
    ts_err err;
    ts_err_clear(&err);
    ts_log_set_level(TS_LOG_ERROR);
    ts_config *cfg = ts_config_load(path, &err);
    TS_REQUIRE(cfg);
    ts_service *svc = ts_service_load(cfg, &err);
    ts_config_unref(cfg);
    TS_REQUIRE(svc);
    ts_pipeline_opts po = {1, 16, 32u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    double pt[2] = {6.7800, 51.2200};
    const char *st_free[] = {"free"}, *st_occ[] = {"occupied"};
    ts_store *s1 = bays_store(pt, st_free, 1);
    TS_REQUIRE(s1);
    TS_CHECK_INT(ts_pipeline_layer_set_store(p, "parking_bays", "EPSG:3857", s1, &err), TS_OK);
    ts_store_unref(s1);
    double mx, my;
    ts_grid_lonlat_to_mercator(pt[0], pt[1], &mx, &my);
    uint32_t ax, ay;
    TS_REQUIRE(ts_grid_tile_at(ts_grid_webmercator_quad(), 16, mx, my, &ax, &ay));
    ts_tile_req busy = {"cadastre", 16, 34001, 21873, 1};
    ts_tile_req ra = {"parking", 16, ax, ay, 1};
    async_got g1 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, TS_OK, NULL};
    async_got g2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, TS_OK, NULL};
    TS_REQUIRE(ts_pipeline_request(p, &busy, async_done, &g1, &err) == TS_OK);
    TS_REQUIRE(ts_pipeline_request(p, &ra, async_done, &g2, &err) == TS_OK);
    ts_store *s2 = bays_store(pt, st_occ, 1);
    TS_REQUIRE(s2);
    TS_CHECK_INT(ts_pipeline_layer_set_store(p, "parking_bays", "EPSG:3857", s2, &err), TS_OK);
    ts_store_unref(s2);
    ts_bbox one = {pt[0], pt[1], pt[0], pt[1]};
    TS_CHECK(ts_pipeline_invalidate(p, "parking", NULL, one, 8) >= 0);
    async_wait(&g1);
    async_wait(&g2);
    TS_CHECK_INT(g1.st, TS_OK);
    TS_CHECK_INT(g2.st, TS_OK); /* the waiter was answered */
    ts_tile *cached = ts_pipeline_lookup(p, &ra);
    TS_CHECK(cached == NULL); /* ... but nothing of the detached render was cached */
    ts_tile_unref(cached);
    ts_tile *fresh = NULL;
    TS_REQUIRE(ts_pipeline_get(p, &ra, &fresh, &err) == TS_OK);
    TS_CHECK(count_colour(fresh, 0xd6, 0x27, 0x28) > 10); /* the new store: occupied */
    TS_CHECK_INT(count_colour(fresh, 0x2c, 0xa0, 0x2c), 0);
    ts_tile_unref(fresh);
    ts_tile_unref(g1.tile);
    ts_tile_unref(g2.tile);
    ts_pipeline_free(p);
}

/* A service of `layers` (a YAML flow list) on the demo data, sources demo and "broken"
 * (a file that exists and that no OGR driver opens), and the style path given for
 * buildings. NULL with the
 * error formatted into msg when it does not load. */
static ts_service *
load_layers(const char *layers, const char *buildings_style, char *msg, size_t size)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "sources:\n"
             "  demo: {path: data/demo/duesseldorf_demo.gpkg}\n"
             "  broken: {path: data/demo/tilesrv.yaml}\n"
             "layers:\n"
             "  parcels: {source: demo, table: parcels, style: styles/alkis_parcels.sld}\n"
             "  buildings: {source: demo, table: buildings, style: %s}\n"
             "  streets: {source: demo, table: streets, style: styles/alkis_streets.sld}\n"
             "  ghost: {source: broken, table: parcels, style: styles/alkis_parcels.sld}\n"
             "tilesets:\n"
             "  a: {layers: %s, grids: [WebMercatorQuad, DE_EPSG_25832_ADV]}\n"
             "  b: {layers: [streets, parcels]}\n",
             buildings_style, layers);
    ts_err err;
    ts_err_clear(&err);
    msg[0] = '\0';
    ts_config *cfg = ts_config_parse(yaml, strlen(yaml), "layers.yaml", ts_test_srcdir(), &err);
    if (cfg == NULL) {
        ts_err_format(&err, msg, size);
        return NULL;
    }
    ts_service *svc = ts_service_load(cfg, &err);
    ts_config_unref(cfg);
    if (svc == NULL)
        ts_err_format(&err, msg, size);
    return svc;
}

/* minzoom / maxzoom are levels of a tileset's first grid: its other grids serve the levels of
 * the same scales (docs/config.md), not the same numbers: XYZ 14-16 is AdV 09-11 and AdV
 * 08-10 is XYZ 13-15; requests outside are refused on each grid with its own range. */
TS_TEST(pipeline_zoom_range_carries_to_other_grids_by_scale)
{
    ts_log_set_level(TS_LOG_ERROR);
    const char *yaml =
        "sources:\n"
        "  demo: {path: data/demo/duesseldorf_demo.gpkg}\n"
        "layers:\n"
        "  parcels: {source: demo, table: parcels, style: styles/alkis_parcels.sld}\n"
        "grids:\n"
        "  G: {crs: 'EPSG:25832', origin: [200000, 5900000], resolution0: 1024, levels: 16,"
        " tile_size: 512, matrix_size0: [2, 2]}\n"
        "tilesets:\n"
        "  g: {layers: [parcels], grids: [G, DE_EPSG_25832_ADV]}\n"
        "  w: {layers: [parcels], grids: [WebMercatorQuad, DE_EPSG_25832_ADV], minzoom: 14,"
        " maxzoom: 16}\n"
        "  v: {layers: [parcels], grids: [DE_EPSG_25832_ADV, WebMercatorQuad], minzoom: 8,"
        " maxzoom: 10}\n"
        "  open: {layers: [parcels], grids: [DE_EPSG_25832_ADV, WebMercatorQuad]}\n"
        "  half: {layers: [parcels], grids: [DE_EPSG_25832_ADV, WebMercatorQuad], minzoom: 8}\n";
    ts_err err;
    ts_err_clear(&err);
    ts_config *cfg = ts_config_parse(yaml, strlen(yaml), "zooms.yaml", ts_test_srcdir(), &err);
    TS_REQUIRE(cfg != NULL);
    ts_service *svc = ts_service_load(cfg, &err);
    ts_config_unref(cfg);
    TS_REQUIRE(svc != NULL);
    const ts_tileset *w0 = ts_service_tileset_grid(svc, "w", "WebMercatorQuad");
    const ts_tileset *w1 = ts_service_tileset_grid(svc, "w", "DE_EPSG_25832_ADV");
    const ts_tileset *v0 = ts_service_tileset_grid(svc, "v", "DE_EPSG_25832_ADV");
    const ts_tileset *v1 = ts_service_tileset_grid(svc, "v", "WebMercatorQuad");
    TS_REQUIRE(w0 && w1 && v0 && v1);
    TS_CHECK_INT(w0->minzoom, 14);
    TS_CHECK_INT(w0->maxzoom, 16);
    TS_CHECK_INT(w1->minzoom, 9);
    TS_CHECK_INT(w1->maxzoom, 11);
    TS_CHECK_INT(v0->minzoom, 8);
    TS_CHECK_INT(v0->maxzoom, 10);
    TS_CHECK_INT(v1->minzoom, 13);
    TS_CHECK_INT(v1->maxzoom, 15);
    /* an end left open bounds no other grid, so every level the capabilities list is
     * served: XYZ 0-4 are coarser than AdV 00 and XYZ 19-24 finer than AdV 13 (they had
     * been refused: XYZ 5-18 only); on a custom first grid all of AdV */
    const ts_tileset *g1 = ts_service_tileset_grid(svc, "g", "DE_EPSG_25832_ADV");
    const ts_tileset *o1 = ts_service_tileset_grid(svc, "open", "WebMercatorQuad");
    const ts_tileset *h1 = ts_service_tileset_grid(svc, "half", "WebMercatorQuad");
    TS_REQUIRE(g1 && o1 && h1);
    TS_CHECK_INT(g1->minzoom, 0);
    TS_CHECK_INT(g1->maxzoom, 13);
    TS_CHECK_INT(o1->minzoom, 0);
    TS_CHECK_INT(o1->maxzoom, 24);
    TS_CHECK_INT(h1->minzoom, 13);
    TS_CHECK_INT(h1->maxzoom, 24);
    ts_pipeline_opts po = {1, 16, 8u << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    ts_tile_req ok = {"w", 10, 0, 0, 1}, low = {"w", 8, 0, 0, 1};
    TS_CHECK_INT(ts_pipeline_check_grid(p, &ok, "DE_EPSG_25832_ADV", &err), TS_OK);
    TS_CHECK_INT(ts_pipeline_check_grid(p, &low, "DE_EPSG_25832_ADV", &err), TS_EINVAL);
    TS_CHECK_INT(ts_pipeline_check_grid(p, &ok, "WebMercatorQuad", &err), TS_EINVAL);
    ts_tile_req xyz = {"v", 14, 8500, 5468, 1};
    TS_CHECK_INT(ts_pipeline_check_grid(p, &xyz, "WebMercatorQuad", &err), TS_OK);
    ts_pipeline_free(p);
}

/* Several layers' stores are read side by side at load (one thread per store, up to the
 * cores): the service is the one reading them in order gives, and a failing source or
 * style is reported as in order, naming its file, with nothing left behind (ASan). */
TS_TEST(pipeline_layers_load_side_by_side_and_failures_name_their_file)
{
    ts_log_set_level(TS_LOG_ERROR);
    char msg[1024];
    ts_service *svc = load_layers("[parcels, buildings, streets]", "styles/alkis_buildings.sld",
                                  msg, sizeof msg);
    if (svc == NULL)
        fprintf(stderr, "load: %s\n", msg);
    TS_REQUIRE(svc);
    /* every store of both grids is there: the tilesets' extents cover the demo data */
    const ts_tileset *a = ts_service_tileset_grid(svc, "a", "WebMercatorQuad");
    const ts_tileset *a2 = ts_service_tileset_grid(svc, "a", "DE_EPSG_25832_ADV");
    const ts_tileset *b = ts_service_tileset(svc, "b");
    TS_REQUIRE(a && a2 && b);
    TS_CHECK_INT(a->nlayers, 3);
    TS_CHECK_INT(a2->nlayers, 3);
    TS_CHECK(a->bounds.maxx > a->bounds.minx && a->bounds.minx > 700000 && a->bounds.maxx < 800000);
    TS_CHECK(a2->bounds.maxx > a2->bounds.minx && a2->bounds.minx > 300000 &&
             a2->bounds.maxx < 400000);
    TS_CHECK(b->bounds.minx == a->bounds.minx || b->bounds.minx >= a->bounds.minx);
    ts_pipeline_opts po = {2, 16, 8u << 20, 0, 0};
    ts_err err;
    ts_err_clear(&err);
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    TS_REQUIRE(p);
    ts_tile *t = NULL;
    ts_tile_req r = {"a", 16, 34001, 21873, 1};
    TS_REQUIRE(ts_pipeline_get(p, &r, &t, &err) == TS_OK);
    TS_CHECK(t != NULL && t->len > 1000); /* parcels, buildings and streets drawn */
    ts_tile_unref(t);
    ts_pipeline_free(p);

    /* a source file no driver opens, after three good layers: its path in the error */
    svc = load_layers("[parcels, buildings, streets, ghost]", "styles/alkis_buildings.sld", msg,
                      sizeof msg);
    TS_CHECK(svc == NULL);
    TS_CHECK(strstr(msg, "tilesrv.yaml") != NULL);
    ts_service_unref(svc);

    /* a missing style on the second layer: named, although later stores loaded fine */
    svc = load_layers("[parcels, buildings, streets]", "styles/no_such_style.sld", msg, sizeof msg);
    TS_CHECK(svc == NULL);
    TS_CHECK(strstr(msg, "no_such_style.sld") != NULL);
    ts_service_unref(svc);
}
