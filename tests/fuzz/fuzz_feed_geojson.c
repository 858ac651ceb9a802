/* tests/fuzz/fuzz_feed_geojson.c — libFuzzer target for polled GeoJSON FeatureCollections:
 * TS_OK with well-formed observations or an error with a message; and whatever a parse
 * accepted, applied to a sensor store and written back as GeoJSON, is valid JSON. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    const char *vp[] = {"properties/no2", "properties/pm10"};
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_GEOJSON);
    c.name = "fuzz";
    c.url = "http://127.0.0.1/x.geojson";
    c.map.value_paths = vp;
    c.map.nvalue_paths = 2;
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    ts_err_clear(&err);
    ts_status rc = ts_geojson_parse(&c, 1700000000000LL, data, size, &b, &err);
    if (rc != TS_OK && err.msg[0] == '\0')
        abort();
    if (rc == TS_OK) {
        ts_sensor_store_opts o = {.feed = "fuzz", .stale_after_ms = 1000, .stale_state = "stale"};
        ts_sensor_store *st = ts_sensor_store_new(&o, &err);
        if (st == NULL)
            abort();
        ts_sensor_store_mark(st);
        for (size_t i = 0; i < b.n; i++) {
            if (b.obs[i].has_pos && !(fabs(b.obs[i].lon) <= 180 && fabs(b.obs[i].lat) <= 90))
                abort();
            ts_sensor_store_apply(st, &b.obs[i], 1700000000000LL);
        }
        ts_sensor_store_sweep(st);
        ts_feed_change *ch;
        size_t n;
        if (ts_sensor_store_publish(st, 1700000000000LL, &ch, &n) != TS_OK)
            abort();
        free(ch);
        ts_buf out;
        ts_buf_init(&out, 64u << 20);
        if (ts_feed_snapshot_geojson(ts_sensor_store_current(st), &out) != TS_OK)
            abort();
        json_error_t je;
        json_t *back = json_loadb((const char *)out.data, out.len, 0, &je);
        if (back == NULL)
            abort();
        json_decref(back);
        ts_buf_fini(&out);
        ts_sensor_store_free(st);
    }
    ts_obs_batch_fini(&b);
    return 0;
}
