/* Unit tests for pipeline: service loading from the demo config, metatile rendering,
 * in-flight de-duplication under many threads, request validation. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>

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
    ts_pipeline_opts po = {2, 16, 8u << 20};
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
    ts_pipeline_opts po = {2, 64, 64u << 20};
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
    ts_pipeline_opts po = {1, 16, 8u << 20};
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
