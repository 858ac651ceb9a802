/* tests/fuzz/fuzz_feed_sta.c — libFuzzer target for the SensorThings parsers: any bytes as
 * a Things document (both sensor modes) and as a pushed Observation (against a small
 * Datastream index, with the Datastream in the topic and in the message) must give TS_OK
 * with well-formed observations, or an error with a message and a counted kind. The input's
 * first line is also tried as an MQTT topic (the broker's topic string is outside input). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(ts_status rc, const ts_err *err, const ts_obs_batch *b)
{
    uint64_t counted = 0;
    for (int k = 0; k < TS_FEED_ERR__COUNT; k++)
        counted += b->errors[k];
    if (rc != TS_OK) {
        if (err->msg[0] == '\0' || (rc != TS_ENOMEM && counted == 0))
            abort();
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        const ts_obs *o = &b->obs[i];
        if (o->sensor == NULL || o->sensor[0] == '\0' || strlen(o->sensor) >= TS_FEED_ID_MAX)
            abort();
        if (o->kind == TS_OBS_STATE && (o->state == NULL || o->time_ms == TS_FEED_TIME_NONE))
            abort();
        if (o->kind == TS_OBS_VALUE &&
            (o->name == NULL || o->name[0] == '\0' || !isfinite(o->value)))
            abort();
        if (o->has_pos && !(fabs(o->lon) <= 180 && fabs(o->lat) <= 90))
            abort();
    }
    for (size_t i = 0; i < b->nbinds; i++)
        if (b->binds[i].ds[0] == '\0' || b->binds[i].name == NULL)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    static const ts_feed_map states[] = {{"available", "free"}, {"charging", "occupied"}};
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_SENSORTHINGS);
    c.name = "fuzz";
    c.url = "http://127.0.0.1/v1.1";
    c.map.states = states;
    c.map.nstates = 2;
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    for (int per = 0; per < 2; per++) {
        c.map.per = per ? TS_FEED_PER_DATASTREAM : TS_FEED_PER_THING;
        ts_err_clear(&err);
        ts_obs_batch_reset(&b);
        check(ts_sta_parse_things(&c, data, size, &b, &err), &err, &b);
        if (b.next_link != NULL)
            free(ts_sta_next_url(&c, b.next_link));
    }
    ts_sta_index *ix = ts_sta_index_new();
    if (ix != NULL) {
        ts_sta_index_put(ix, "1", "s1", "value");
        ts_sta_index_put(ix, "8519", "4007", "");
        static const char *const topics[] = {"v1.1/Datastreams(1)/Observations",
                                             "v1.1/Datastreams(8519)/Observations",
                                             "v1.1/Observations"};
        for (int i = 0; i < 3; i++) {
            ts_err_clear(&err);
            ts_obs_batch_reset(&b);
            ts_status rc = ts_sta_parse_observation(&c, ix, topics[i], data, size, &b, &err);
            check(rc, &err, &b);
            if (rc == TS_OK && b.n > 1)
                abort();
        }
        /* MQTT delivers the topic too (mq_message -> ingest): the input's first line as the
         * topic of a well-formed Observation */
        const uint8_t *nl = memchr(data, '\n', size < 512 ? size : 512);
        if (nl != NULL) {
            static const char obs[] = "{\"result\": 1.5, \"phenomenonTime\": "
                                      "\"2024-05-01T10:00:00Z\"}";
            char topic[512];
            memcpy(topic, data, (size_t)(nl - data));
            topic[nl - data] = '\0';
            char ds[TS_FEED_ID_MAX];
            if (ts_sta_topic_datastream(topic, ds, sizeof ds) == 0 &&
                (ds[0] == '\0' || strlen(ds) >= TS_FEED_ID_MAX))
                abort();
            ts_err_clear(&err);
            ts_obs_batch_reset(&b);
            ts_status rc = ts_sta_parse_observation(&c, ix, topic, obs, sizeof obs - 1, &b, &err);
            check(rc, &err, &b);
            if (rc == TS_OK && b.n > 1)
                abort();
        }
        ts_sta_index_free(ix);
    }
    ts_obs_batch_fini(&b);
    return 0;
}
