/* Unit tests for cache: tiles, ETags, the sharded LRU under a byte budget and threads. */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>

#include "cache/cache.h"

TS_TEST(tile_etag_follows_content)
{
    ts_tile *a = ts_tile_new((const uint8_t *)"abcdefghij", 10, 1);
    ts_tile *b = ts_tile_new((const uint8_t *)"abcdefghij", 10, 2);
    ts_tile *c = ts_tile_new((const uint8_t *)"abcdefghiJ", 10, 1);
    TS_REQUIRE(a && b && c);
    TS_CHECK(a->etag == b->etag);
    TS_CHECK(a->etag != c->etag);
    char s[32];
    ts_tile_etag_str(a, s, sizeof s);
    TS_CHECK_INT(strlen(s), 18);
    TS_CHECK(s[0] == '"' && s[17] == '"');
    ts_tile_unref(a);
    ts_tile_unref(b);
    ts_tile_unref(c);
}

TS_TEST(cache_get_put_replace)
{
    ts_mem_cache *c = ts_mem_cache_new(1 << 20);
    TS_REQUIRE(c);
    TS_CHECK(ts_mem_cache_get(c, "a/1/2/3") == NULL);
    ts_tile *t = ts_tile_new((const uint8_t *)"png1", 4, 0);
    ts_mem_cache_put(c, "a/1/2/3", t);
    ts_tile_unref(t);
    ts_tile *g = ts_mem_cache_get(c, "a/1/2/3");
    TS_REQUIRE(g);
    TS_CHECK(memcmp(g->data, "png1", 4) == 0);
    ts_tile *t2 = ts_tile_new((const uint8_t *)"png22", 5, 0);
    ts_mem_cache_put(c, "a/1/2/3", t2);
    ts_tile_unref(t2);
    /* the old tile stays valid for the reader holding it */
    TS_CHECK(memcmp(g->data, "png1", 4) == 0);
    ts_tile_unref(g);
    g = ts_mem_cache_get(c, "a/1/2/3");
    TS_REQUIRE(g);
    TS_CHECK_INT(g->len, 5);
    ts_tile_unref(g);
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK_INT(st.entries, 1);
    TS_CHECK_INT(st.hits, 2);
    TS_CHECK_INT(st.misses, 1);
    TS_CHECK_INT(ts_mem_cache_drop_prefix(c, "a/"), 1);
    TS_CHECK(ts_mem_cache_get(c, "a/1/2/3") == NULL);
    ts_mem_cache_free(c);
}

TS_TEST(cache_evicts_least_recent_within_budget)
{
    /* 16 shards x 64 KiB; 4 KiB tiles: each shard keeps ~15 */
    ts_mem_cache *c = ts_mem_cache_new(16 * 65536);
    TS_REQUIRE(c);
    static uint8_t blob[4096];
    char key[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "t/%d", i);
        ts_tile *t = ts_tile_new(blob, sizeof blob, 0);
        ts_mem_cache_put(c, key, t);
        ts_tile_unref(t);
        /* keep tile 0 hot */
        ts_tile *h = ts_mem_cache_get(c, "t/0");
        TS_REQUIRE(h);
        ts_tile_unref(h);
    }
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK(st.bytes <= 16 * 65536);
    TS_CHECK(st.entries < 300);
    TS_CHECK(st.evictions > 1500);
    ts_tile *h = ts_mem_cache_get(c, "t/0");
    TS_CHECK(h != NULL);
    ts_tile_unref(h);
    ts_tile *last = ts_mem_cache_get(c, "t/1999");
    TS_CHECK(last != NULL);
    ts_tile_unref(last);
    ts_mem_cache_free(c);
}

static void *
hammer(void *arg)
{
    ts_mem_cache *c = arg;
    char key[32];
    uint8_t data[100] = {0};
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k/%d", i % 500);
        if (i % 3 == 0) {
            ts_tile *t = ts_tile_new(data, sizeof data, i);
            ts_mem_cache_put(c, key, t);
            ts_tile_unref(t);
        } else {
            ts_tile *t = ts_mem_cache_get(c, key);
            if (t) {
                volatile uint8_t x = t->data[0];
                (void)x;
                ts_tile_unref(t);
            }
        }
    }
    return NULL;
}

TS_TEST(cache_survives_concurrent_readers_and_writers)
{
    ts_mem_cache *c = ts_mem_cache_new(64 * 1024);
    TS_REQUIRE(c);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, c);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ts_cache_stats st;
    ts_mem_cache_stats_get(c, &st);
    TS_CHECK(st.bytes <= 64 * 1024);
    ts_mem_cache_free(c);
}
