/* tests/unit/test_feed.c — the feed module without network: ISO 8601 times, the JSON
 * helpers, the SensorThings / LoRaWAN / GeoJSON parsers on the recorded samples in
 * tests/data/feed (see its README), the device table, the sensor store (ordering,
 * duplicates, staleness on an injected clock, snapshots, sweeps), a whole feed driven
 * through ts_feed_ingest / ts_feed_run_due with a fake clock, snapshots as feature stores
 * and as GeoJSON, and the demo gateway. Reference times come from Python's
 * datetime.fromisoformat(...).timestamp(). */
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

/* ---- helpers ---- */

static char *
slurp(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/feed/%s", ts_test_srcdir(), name);
    char *text = NULL;
    ts_err err;
    ts_err_clear(&err);
    if (ts_feed_read_file(path, 64u << 20, &text, len, &err) != TS_OK)
        ts_test_fail(__FILE__, __LINE__, "%s", err.msg);
    return text;
}

static const ts_obs *
find_obs(const ts_obs_batch *b, const char *sensor, ts_obs_kind kind, const char *name)
{
    for (size_t i = 0; i < b->n; i++) {
        const ts_obs *o = &b->obs[i];
        if (strcmp(o->sensor, sensor) == 0 && o->kind == kind &&
            (name == NULL || (o->name != NULL && strcmp(o->name, name) == 0)))
            return o;
    }
    return NULL;
}

static int64_t fake_now;

static int64_t
fake_clock(void *user)
{
    (void)user;
    return fake_now;
}

static const ts_feed_map ev_states[] = {
    {"available", "free"}, {"charging", "occupied"}, {"outoforder", "unknown"}};

static void
sta_config(ts_feed_config *c)
{
    ts_feed_config_init(c, TS_FEED_SENSORTHINGS);
    c->name = "ev";
    c->url = "http://127.0.0.1:9/v1.0";
    c->map.states = ev_states;
    c->map.nstates = 3;
}

/* ---- time ---- */

TS_TEST(feed_time_parses_iso8601_forms)
{
    int64_t t;
    TS_REQUIRE(ts_feed_time_parse("2022-05-17T17:26:35.610Z", &t) == 0);
    TS_CHECK_INT(t, 1652808395610LL);
    TS_REQUIRE(ts_feed_time_parse("2022-05-17T19:26:35.610+02:00", &t) == 0);
    TS_CHECK_INT(t, 1652808395610LL);
    TS_REQUIRE(ts_feed_time_parse("2022-05-17T17:26:35.6109999Z", &t) == 0);
    TS_CHECK_INT(t, 1652808395610LL); /* digits past milliseconds are dropped */
    TS_REQUIRE(ts_feed_time_parse("2023-05-19T05:33:35.848446463Z", &t) == 0);
    TS_CHECK_INT(t, 1684474415848LL);
    TS_REQUIRE(ts_feed_time_parse("2023-05-22T07:47:05.404859+00:00", &t) == 0);
    TS_CHECK_INT(t, 1684741625404LL);
    TS_REQUIRE(ts_feed_time_parse("2024-02-29T23:59:59", &t) == 0);
    TS_CHECK_INT(t, 1709251199000LL);
    TS_REQUIRE(ts_feed_time_parse("2000-03-01", &t) == 0);
    TS_CHECK_INT(t, 951868800000LL);
    TS_REQUIRE(ts_feed_time_parse("1969-12-31 23:59:59.5Z", &t) == 0);
    TS_CHECK_INT(t, -500);
    TS_REQUIRE(ts_feed_time_parse("2024-01-01T01:00-0100", &t) == 0);
    TS_CHECK_INT(t, 1704067200000LL + 2 * 3600000LL);
    /* a SensorThings interval gives its end */
    TS_REQUIRE(ts_feed_time_parse("2022-06-14T10:00:00.000Z/2022-06-14T10:14:59.000Z", &t) == 0);
    TS_CHECK_INT(t, 1655201699000LL);
    TS_REQUIRE(ts_feed_time_parse("2016-12-31T23:59:60Z", &t) == 0); /* leap second */
    TS_REQUIRE(ts_feed_time_parse("2017-01-01T00:00:00Z", &fake_now) == 0);
    TS_CHECK_INT(t, fake_now - 1);
}

TS_TEST(feed_time_rejects_bad_input)
{
    int64_t t;
    const char *bad[] = {"",
                         "2023",
                         "2023-13-01",
                         "2023-02-29",
                         "2024-02-30",
                         "2023-01-01T25:00",
                         "2023-01-01T12:60",
                         "2023-01-01T12:00:00Q",
                         "2023-01-01T12:00:00+2",
                         "2023-01-01T12:00:00.Z",
                         "abc",
                         "2023-01-01T12:00:00Z/2022-01-01",
                         "0000-01-01",
                         "2023-01-01T",
                         "2023-01-01T12:00:00+24:00",
                         NULL};
    for (int i = 0; bad[i] != NULL; i++)
        if (ts_feed_time_parse(bad[i], &t) == 0)
            ts_test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
    TS_CHECK(ts_feed_time_parse(NULL, &t) != 0);
}

TS_TEST(feed_time_format_round_trips)
{
    char buf[40];
    TS_CHECK_STR(ts_feed_time_format(1652808395610LL, buf, sizeof buf), "2022-05-17T17:26:35.610Z");
    TS_CHECK_STR(ts_feed_time_format(1709251199000LL, buf, sizeof buf), "2024-02-29T23:59:59Z");
    TS_CHECK_STR(ts_feed_time_format(-500, buf, sizeof buf), "1969-12-31T23:59:59.500Z");
    TS_CHECK_STR(ts_feed_time_format(TS_FEED_TIME_NONE, buf, sizeof buf), "");
    TS_CHECK_STR(ts_feed_time_format(253402300799999LL, buf, sizeof buf), "9999-12-31T23:59:59.999Z");
    TS_CHECK_STR(ts_feed_time_format(253402300800000LL, buf, sizeof buf), "10000-01-01T00:00:00Z");
    char small[8]; /* cut like snprintf */
    TS_CHECK_STR(ts_feed_time_format(1652808395610LL, small, sizeof small), "2022-05");
    for (int64_t t = -86400000LL * 800; t < 86400000LL * 20000; t += 86400000LL * 37 + 12345) {
        int64_t back;
        TS_REQUIRE(ts_feed_time_parse(ts_feed_time_format(t, buf, sizeof buf), &back) == 0);
        TS_CHECK_INT(back, t);
    }
}

/* ---- JSON helpers ---- */

TS_TEST(feed_json_helpers)
{
    json_error_t je;
    json_t *o = json_loads("{\"@iot.id\":42,\"properties\":{\"assetID\":\"DE*1\",\"n\":1.5},"
                           "\"g\":{\"type\":\"LineString\",\"coordinates\":[[1,2],[3,4]]},"
                           "\"f\":{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                           "\"coordinates\":[6.5,51.2]}},"
                           "\"bad\":{\"type\":\"Point\",\"coordinates\":[200,51]},"
                           "\"odd\":{\"type\":\"Point\",\"coordinates\":[\"x\",1]}}",
                           0, &je);
    TS_REQUIRE(o != NULL);
    char buf[64];
    TS_CHECK(ts_feed_json_idtext(ts_feed_json_path(o, "@iot.id"), buf, sizeof buf) == 0);
    TS_CHECK_STR(buf, "42");
    TS_CHECK(ts_feed_json_idtext(ts_feed_json_path(o, "properties/assetID"), buf, sizeof buf) == 0);
    TS_CHECK_STR(buf, "DE*1");
    TS_CHECK(ts_feed_json_path(o, "properties/missing") == NULL);
    TS_CHECK(ts_feed_json_path(o, "@iot.id/x") == NULL);
    TS_CHECK(ts_feed_json_idtext(ts_feed_json_path(o, "properties"), buf, sizeof buf) != 0);
    double lon, lat;
    TS_CHECK(ts_feed_json_point(json_object_get(o, "g"), &lon, &lat) == 0);
    TS_CHECK_NEAR(lon, 2, 1e-12);
    TS_CHECK_NEAR(lat, 3, 1e-12);
    TS_CHECK(ts_feed_json_point(json_object_get(o, "f"), &lon, &lat) == 0);
    TS_CHECK_NEAR(lon, 6.5, 1e-12);
    TS_CHECK_INT(ts_feed_json_point(json_object_get(o, "bad"), &lon, &lat), -2);
    TS_CHECK_INT(ts_feed_json_point(json_object_get(o, "odd"), &lon, &lat), -1);
    json_decref(o);
    /* lines and polygons give their centroid, not the mean of their vertices (a ring's
     * closing vertex counted twice moved a square bay's point 28 m) */
    json_t *gs = json_loads(
        "{\"sq\":{\"type\":\"Polygon\",\"coordinates\":[[[6.779,51.229],[6.78,51.229],"
        "[6.78,51.23],[6.779,51.23],[6.779,51.229]]]},"
        "\"cw\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[0,2],[2,2],[2,0],[0,0]]],"
        "[[[10,0],[11,0],[11,1],[10,1],[10,0]]]]},"
        "\"ln\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[0.1,0],[0.2,0],[1,0]]},"
        "\"mp\":{\"type\":\"MultiPoint\",\"coordinates\":[[0,0],[2,4]]}}",
        0, &je);
    TS_REQUIRE(gs != NULL);
    TS_CHECK(ts_feed_json_point(json_object_get(gs, "sq"), &lon, &lat) == 0);
    TS_CHECK_NEAR(lon, 6.7795, 1e-9);
    TS_CHECK_NEAR(lat, 51.2295, 1e-9);
    /* a clockwise 2 x 2 square and a counter-clockwise 1 x 1 one: weighted by |area| */
    TS_CHECK(ts_feed_json_point(json_object_get(gs, "cw"), &lon, &lat) == 0);
    TS_CHECK_NEAR(lon, (4 * 1 + 1 * 10.5) / 5, 1e-9);
    TS_CHECK_NEAR(lat, (4 * 1 + 1 * 0.5) / 5, 1e-9);
    TS_CHECK(ts_feed_json_point(json_object_get(gs, "ln"), &lon, &lat) == 0);
    TS_CHECK_NEAR(lon, 0.5, 1e-9); /* by length, not by vertex */
    TS_CHECK(ts_feed_json_point(json_object_get(gs, "mp"), &lon, &lat) == 0);
    TS_CHECK_NEAR(lon, 1, 1e-12);
    TS_CHECK_NEAR(lat, 2, 1e-12);
    json_decref(gs);

    char f[72];
    TS_CHECK(ts_feed_field_name(NULL, "Feinstaub PM10", f, sizeof f) == 0);
    TS_CHECK_STR(f, "feinstaub_pm10");
    TS_CHECK(ts_feed_field_name(NULL, "state", f, sizeof f) == 0);
    TS_CHECK_STR(f, "state_v");
    ts_feed_map vm[] = {{"Stickstoffdioxid", "no2"}};
    ts_feed_map_config mc = {.values = vm, .nvalues = 1};
    TS_CHECK(ts_feed_field_name(&mc, "Stickstoffdioxid", f, sizeof f) == 0);
    TS_CHECK_STR(f, "no2");
    TS_CHECK(ts_feed_field_name(&mc, "Ozon", f, sizeof f) != 0);
    mc.states = ev_states;
    mc.nstates = 3;
    TS_CHECK_STR(ts_feed_state_name(&mc, "charging"), "occupied");
    TS_CHECK_STR(ts_feed_state_name(&mc, "reserved"), "reserved");

    uint8_t raw[32];
    TS_CHECK_INT(ts_feed_base64_decode("ARI=", raw, sizeof raw), 2);
    TS_CHECK_INT(raw[0], 1);
    TS_CHECK_INT(raw[1], 0x12);
    TS_CHECK_INT(ts_feed_base64_decode("AAAAAJkCANEABQAAAB0CAgA=", raw, sizeof raw), 17);
    TS_CHECK_INT(ts_feed_base64_decode("A$==", raw, sizeof raw), -1);
    TS_CHECK_INT(ts_feed_base64_decode("AQ==", raw, 0), -1);
}

/* ---- SensorThings ---- */

TS_TEST(feed_sta_things_per_thing)
{
    ts_feed_config c;
    sta_config(&c);
    size_t len;
    char *doc = slurp("sta_ev_things_page1.json", &len);
    TS_REQUIRE(doc != NULL);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    TS_REQUIRE(ts_sta_parse_things(&c, doc, len, &b, &err) == TS_OK);
    TS_CHECK_INT(b.nbinds, 31);
    size_t heads = 0, states = 0;
    for (size_t i = 0; i < b.n; i++) {
        heads += b.obs[i].kind == TS_OBS_NONE;
        states += b.obs[i].kind == TS_OBS_STATE;
    }
    TS_CHECK_INT(heads, 15);
    TS_CHECK_INT(states, 31);
    for (int k = 0; k < TS_FEED_ERR__COUNT; k++)
        TS_CHECK_INT(b.errors[k], 0);
    const ts_obs *h = find_obs(&b, "4007", TS_OBS_NONE, NULL);
    TS_REQUIRE(h != NULL);
    TS_CHECK(h->has_pos);
    TS_CHECK_NEAR(h->lon, 9.9266, 1e-9);
    TS_CHECK_NEAR(h->lat, 53.55308, 1e-9);
    TS_CHECK_STR(h->label, "E-Ladestation DE*SNH*E376");
    const ts_obs *s = find_obs(&b, "4007", TS_OBS_STATE, NULL);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(s->state, "occupied"); /* "charging" through the state map */
    TS_CHECK_INT(s->time_ms, 1652808395610LL);
    int found = 0;
    for (size_t i = 0; i < b.nbinds; i++)
        if (strcmp(b.binds[i].ds, "8569") == 0 && strcmp(b.binds[i].sensor, "4007") == 0)
            found = 1;
    TS_CHECK(found);
    TS_REQUIRE(b.next_link != NULL);
    char *next = ts_sta_next_url(&c, b.next_link);
    TS_REQUIRE(next != NULL);
    TS_CHECK(strncmp(next, "http://127.0.0.1:9/v1.0/Things?$skip=15&", 40) == 0);
    free(next);
    ts_obs_batch_fini(&b);
    free(doc);
}

TS_TEST(feed_sta_things_per_datastream_and_observed_area)
{
    ts_feed_config c;
    sta_config(&c);
    c.map.per = TS_FEED_PER_DATASTREAM;
    size_t len;
    char *doc = slurp("sta_ev_things_page2.json", &len);
    TS_REQUIRE(doc != NULL);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    TS_REQUIRE(ts_sta_parse_things(&c, doc, len, &b, &err) == TS_OK);
    TS_CHECK_INT(b.nbinds, 33);
    TS_CHECK(b.next_link == NULL);
    for (size_t i = 0; i < b.nbinds; i++) {
        TS_CHECK_STR(b.binds[i].ds, b.binds[i].sensor); /* a sensor per Datastream */
        TS_CHECK_STR(b.binds[i].name, "value");
    }
    ts_obs_batch_fini(&b);
    free(doc);

    /* bike counters: no Locations, observedArea is a LineString; numeric 15-min counts */
    ts_feed_config_init(&c, TS_FEED_SENSORTHINGS);
    c.name = "bikes";
    c.url = "https://iot.hamburg.de/v1.1";
    ts_feed_map vm[] = {
        {"Fahrradaufkommen an Verkehrszählstelle 0295970 im 15-Min-Intervall", "bikes"}};
    c.map.values = vm;
    c.map.nvalues = 1;
    doc = slurp("sta_bikes_things.json", &len);
    TS_REQUIRE(doc != NULL);
    ts_obs_batch_init(&b);
    TS_REQUIRE(ts_sta_parse_things(&c, doc, len, &b, &err) == TS_OK);
    const ts_obs *h = find_obs(&b, "5564", TS_OBS_NONE, NULL);
    TS_REQUIRE(h != NULL && h->has_pos);
    TS_CHECK_NEAR(h->lon, (9.999377 + 9.999282) / 2, 1e-9);
    TS_CHECK_NEAR(h->lat, (53.580126 + 53.580056) / 2, 1e-9);
    const ts_obs *v = find_obs(&b, "5564", TS_OBS_VALUE, "bikes");
    TS_REQUIRE(v != NULL);
    TS_CHECK_NEAR(v->value, 60, 0);
    TS_CHECK_INT(v->time_ms, 1655201699000LL);
    /* the other counters' Datastreams match no value mapping: their counts are ignored */
    TS_CHECK(find_obs(&b, "5565", TS_OBS_VALUE, NULL) == NULL);
    TS_CHECK(find_obs(&b, "5565", TS_OBS_NONE, NULL) != NULL);
    ts_obs_batch_fini(&b);
    free(doc);
}

TS_TEST(feed_sta_bad_documents)
{
    ts_feed_config c;
    sta_config(&c);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    const char *notjson = "{\"value\": [";
    TS_CHECK(ts_sta_parse_things(&c, notjson, strlen(notjson), &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_PARSE], 1);
    ts_obs_batch_reset(&b);
    const char *novalue = "{\"values\": []}";
    TS_CHECK(ts_sta_parse_things(&c, novalue, strlen(novalue), &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 1);
    ts_obs_batch_reset(&b);
    /* item-level problems: bad coordinates, a bad id, an Observation without time, NaN */
    const char *items =
        "{\"value\":["
        "{\"@iot.id\":1,\"Locations\":[{\"location\":{\"type\":\"Point\",\"coordinates\":[6.7,95]}}"
        "]},"
        "{\"@iot.id\":{\"x\":1}},"
        "{\"@iot.id\":3,\"Locations\":[{\"location\":{\"type\":\"Point\",\"coordinates\":[6.7,51.2]"
        "}}],"
        " \"Datastreams\":[{\"@iot.id\":30,\"name\":\"s\",\"Observations\":[{\"result\":\"x\"}]},"
        "                 {\"@iot.id\":31,\"name\":\"t\",\"Observations\":[{\"phenomenonTime\":"
        "\"2024-01-01T00:00:00Z\",\"result\":\"NaN\"}]},"
        "                 {\"@iot.id\":32,\"name\":\"u\",\"Observations\":[{\"phenomenonTime\":"
        "\"2024-01-01T00:00:00Z\",\"result\":1e400}]}]},"
        "{\"@iot.id\":4,\"Locations\":[{\"location\":{\"type\":\"Point\",\"coordinates\":[6.8,51.3]"
        "}}],"
        " \"Datastreams\":[{\"@iot.id\":40,\"name\":\"no2\",\"Observations\":[{\"phenomenonTime\":"
        "\"2024-01-01T00:00:00Z\",\"result\":17.5}]}]}]}";
    ts_status rc = ts_sta_parse_things(&c, items, strlen(items), &b, &err);
    TS_CHECK(rc == TS_EINVAL); /* 1e400 overflows: the whole document is refused */
    ts_obs_batch_reset(&b);
    char *fixed = strdup(items);
    char *p = strstr(fixed, "1e400");
    memcpy(p, "12345", 5);
    TS_REQUIRE(ts_sta_parse_things(&c, fixed, strlen(fixed), &b, &err) == TS_OK);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_RANGE], 2); /* lat 95, result "NaN" */
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 2);  /* id object, no phenomenonTime */
    TS_CHECK(find_obs(&b, "1", TS_OBS_NONE, NULL) == NULL);
    TS_CHECK(find_obs(&b, "3", TS_OBS_NONE, NULL) != NULL);
    const ts_obs *v = find_obs(&b, "4", TS_OBS_VALUE, "no2");
    TS_REQUIRE(v != NULL);
    TS_CHECK_NEAR(v->value, 17.5, 0);
    TS_CHECK(find_obs(&b, "3", TS_OBS_VALUE, "u") != NULL);
    free(fixed);
    ts_obs_batch_fini(&b);
}

TS_TEST(feed_sta_observation_messages)
{
    ts_feed_config c;
    sta_config(&c);
    ts_sta_index *ix = ts_sta_index_new();
    TS_REQUIRE(ix != NULL);
    TS_CHECK_INT(ts_sta_index_put(ix, "8519", "4007", "value"), 1);
    TS_CHECK_INT(ts_sta_index_put(ix, "ab'c", "9", "no2"), 1);
    TS_CHECK_INT(ts_sta_index_put(ix, "8519", "4007", "other"), 0);
    for (int i = 0; i < 200; i++) { /* growth */
        char ds[16];
        snprintf(ds, sizeof ds, "x%d", i);
        TS_CHECK_INT(ts_sta_index_put(ix, ds, "s", "v"), 1);
    }
    TS_CHECK_INT(ts_sta_index_count(ix), 202);
    TS_CHECK_STR(ts_sta_index_find(ix, "8519")->name, "other");
    TS_CHECK_STR(ts_sta_index_find(ix, "x137")->sensor, "s");
    size_t len;
    char *doc = slurp("sta_observation.json", &len);
    TS_REQUIRE(doc != NULL);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    TS_REQUIRE(ts_sta_parse_observation(&c, ix, "v1.0/Datastreams(8519)/Observations", doc, len, &b,
                                        &err) == TS_OK);
    TS_REQUIRE(b.n == 1);
    TS_CHECK_STR(b.obs[0].sensor, "4007");
    TS_CHECK_STR(b.obs[0].state, "free");
    int64_t t;
    ts_feed_time_parse("2022-05-17T18:02:11Z", &t);
    TS_CHECK_INT(b.obs[0].time_ms, t);
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_sta_parse_observation(&c, ix, "v1.0/Datastreams(1)/Observations", doc, len, &b,
                                      &err) == TS_ENOENT);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_UNKNOWN], 1);
    ts_obs_batch_reset(&b);
    const char *num = "{\"phenomenonTime\":\"2024-01-01T10:00:00Z\",\"result\":23.5}";
    TS_REQUIRE(ts_sta_parse_observation(&c, ix, "v1.1/Datastreams('ab'c')/Observations", num,
                                        strlen(num), &b, &err) == TS_OK);
    TS_REQUIRE(b.n == 1);
    TS_CHECK_STR(b.obs[0].name, "no2");
    ts_obs_batch_reset(&b);
    const char *wrong = "{\"phenomenonTime\":\"2024-01-01T10:00:00Z\",\"result\":{\"a\":1}}";
    TS_CHECK(ts_sta_parse_observation(&c, ix, "v1.0/Datastreams(8519)/Observations", wrong,
                                      strlen(wrong), &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 1);
    ts_obs_batch_reset(&b);
    /* no result (missing or null): counted, not passed over in silence */
    const char *nores[] = {"{\"phenomenonTime\":\"2024-01-01T10:00:00Z\",\"result\":null}",
                           "{\"phenomenonTime\":\"2024-01-01T10:00:00Z\"}"};
    for (int k = 0; k < 2; k++) {
        TS_CHECK(ts_sta_parse_observation(&c, ix, "v1.0/Datastreams(8519)/Observations",
                                          nores[k], strlen(nores[k]), &b, &err) == TS_EINVAL);
        TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 1);
        TS_CHECK(b.n == 0);
        ts_obs_batch_reset(&b);
    }
    const char *inf = "{\"phenomenonTime\":\"2024-01-01T10:00:00Z\",\"result\":\"-Infinity\"}";
    TS_CHECK(ts_sta_parse_observation(&c, ix, "v1.0/Datastreams(8519)/Observations", inf,
                                      strlen(inf), &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_RANGE], 1);
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_sta_parse_observation(&c, ix, "v1.0/Datastreams(8519)/Observations", "nope", 4, &b,
                                      &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_PARSE], 1);
    ts_obs_batch_reset(&b);
    /* the Datastream in the message, for the v1.1/Observations topic */
    const char *inmsg = "{\"Datastream\":{\"@iot.id\":8519},\"phenomenonTime\":"
                        "\"2024-01-01T10:00:00Z\",\"result\":\"outoforder\"}";
    TS_REQUIRE(ts_sta_parse_observation(&c, ix, "v1.0/Observations", inmsg, strlen(inmsg), &b,
                                        &err) == TS_OK);
    TS_CHECK_STR(b.obs[0].state, "unknown");
    ts_obs_batch_fini(&b);
    ts_sta_index_free(ix);
    free(doc);
    char ds[32];
    TS_CHECK(ts_sta_topic_datastream("v1.1/Datastreams(42)/Observations", ds, sizeof ds) == 0);
    TS_CHECK_STR(ds, "42");
    TS_CHECK(ts_sta_topic_datastream("v1.1/Datastreams()/Observations", ds, sizeof ds) != 0);
    TS_CHECK(ts_sta_topic_datastream("v1.1/Things(1)", ds, sizeof ds) != 0);
}

TS_TEST(feed_sta_urls)
{
    ts_feed_config c;
    sta_config(&c);
    c.url = "https://sta.example.de/FROST-Server/v1.1/";
    c.page_size = 50;
    c.filter = "properties/type eq 'parking'";
    char *u = ts_sta_first_url(&c);
    TS_REQUIRE(u != NULL);
    TS_CHECK_STR(u, "https://sta.example.de/FROST-Server/v1.1/Things?$top=50&$expand="
                    "Locations,Datastreams%28%24expand%3DObservations%28%24select%3DphenomenonTime"
                    ",result%3B%24top%3D1%3B%24orderby%3DphenomenonTime%20desc%29%29&$filter="
                    "properties%2Ftype%20eq%20%27parking%27");
    free(u);
    c.query = "Things?$expand=Datastreams";
    u = ts_sta_first_url(&c);
    TS_CHECK_STR(u, "https://sta.example.de/FROST-Server/v1.1/Things?$expand=Datastreams");
    free(u);
    /* nextLinks: the public root a server announces is mapped onto the configured one */
    u = ts_sta_next_url(&c, "https://public.example.de/sta/v1.1/Things?$skip=100");
    TS_CHECK_STR(u, "https://sta.example.de/FROST-Server/v1.1/Things?$skip=100");
    free(u);
    u = ts_sta_next_url(&c, "/FROST-Server/v1.1/Things?$skip=5");
    TS_CHECK_STR(u, "https://sta.example.de/FROST-Server/v1.1/Things?$skip=5");
    free(u);
    TS_CHECK(ts_sta_next_url(&c, "https://evil.example.com/Things?$skip=5") == NULL);
    u = ts_sta_next_url(&c, "https://sta.example.de/other/Things?$skip=5");
    TS_CHECK_STR(u, "https://sta.example.de/other/Things?$skip=5");
    free(u);
}

/* ---- LoRaWAN and the device table ---- */

static ts_feed_table *
test_devices(void)
{
    size_t len;
    char *csv = slurp("lorawan_devices.csv", &len);
    ts_feed_table *t = NULL;
    ts_err err;
    if (csv != NULL && ts_feed_table_parse_csv("lorawan_devices.csv", csv, len, &t, &err) != TS_OK)
        ts_test_fail(__FILE__, __LINE__, "%s", err.msg);
    free(csv);
    return t;
}

TS_TEST(feed_device_table_csv)
{
    ts_feed_table *t = test_devices();
    TS_REQUIRE(t != NULL);
    TS_CHECK_INT(ts_feed_table_count(t), 3);
    const ts_feed_device *d = ts_feed_table_find(t, "1000000000000003");
    TS_REQUIRE(d != NULL);
    TS_CHECK_STR(d->sensor, "PB-000004");
    TS_CHECK_STR(d->label, "Schillerstrasse; \"east\"");
    TS_CHECK_NEAR(d->lon, 6.78873351333568, 1e-12);
    ts_feed_table_free(t);

    ts_err err;
    const char *semi = "\xEF\xBB\xBFid;lon;lat\nA0B1;6,5;51\n";
    TS_CHECK(ts_feed_table_parse_csv("x.csv", semi, strlen(semi), &t, &err) == TS_ESOURCE);
    TS_CHECK_INT(err.input_line, 2); /* "6,5" is no number */
    const char *ok = "\xEF\xBB\xBFid;lon;lat\nA0B1;6.5;51\n\n# note\nc2;7;50.5\n";
    TS_REQUIRE(ts_feed_table_parse_csv("x.csv", ok, strlen(ok), &t, &err) == TS_OK);
    TS_CHECK(ts_feed_table_find(t, "a0b1") != NULL); /* keys compare without case */
    TS_CHECK(ts_feed_table_find(t, "C2") != NULL);
    TS_CHECK_STR(ts_feed_table_find(t, "a0b1")->sensor, "A0B1"); /* the id keeps its case */
    ts_feed_table_free(t);
    const char *dup = "id,lon,lat\na,1,2\nA,1,2\n";
    TS_CHECK(ts_feed_table_parse_csv("d.csv", dup, strlen(dup), &t, &err) == TS_ESOURCE);
    TS_CHECK_INT(err.input_line, 3);
    const char *range = "id,lon,lat\na,181,2\n";
    TS_CHECK(ts_feed_table_parse_csv("r.csv", range, strlen(range), &t, &err) == TS_ESOURCE);
    const char *nohead = "name,x\n";
    TS_CHECK(ts_feed_table_parse_csv("h.csv", nohead, strlen(nohead), &t, &err) == TS_ESOURCE);
    const char *quote = "id,lon,lat\n\"a,1,2\n";
    TS_CHECK(ts_feed_table_parse_csv("q.csv", quote, strlen(quote), &t, &err) == TS_ESOURCE);
}

TS_TEST(feed_device_table_from_geopackage)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/demo/duesseldorf_demo.gpkg", ts_test_srcdir());
    ts_feed_table_config tc = {
        .path = path, .layer = "parking_bays", .id_field = "bay_id", .label_field = "street"};
    ts_feed_table *t = NULL;
    ts_err err;
    ts_err_clear(&err);
    TS_REQUIRE(ts_feed_table_load(&tc, &t, &err) == TS_OK);
    TS_CHECK_INT(ts_feed_table_count(t), 361);
    const ts_feed_device *d = ts_feed_table_find(t, "PB-000001");
    TS_REQUIRE(d != NULL);
    /* ogr2ogr -t_srs EPSG:4326 of the same bay: 6.77600982000319 51.2165985594095 */
    TS_CHECK_NEAR(d->lon, 6.77600982000319, 1e-9);
    TS_CHECK_NEAR(d->lat, 51.2165985594095, 1e-9);
    TS_CHECK_STR(d->label, "Postring");
    ts_feed_table_free(t);
    tc.path = "/nonexistent/bays.gpkg";
    TS_CHECK(ts_feed_table_load(&tc, &t, &err) == TS_ESOURCE);
}

TS_TEST(feed_lorawan_uplinks)
{
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_LORAWAN);
    c.name = "bays";
    c.lorawan.decoder = TS_LORAWAN_DECODER_BOSCH_PLS;
    const char *vp[] = {"temperature"};
    c.map.value_paths = vp;
    c.map.nvalue_paths = 1;
    ts_feed_table *dev = test_devices();
    TS_REQUIRE(dev != NULL);
    static const char *const nets[] = {"tts_community_v3", "tts_industries_v3", "chirpstack_v4"};
    for (int n = 0; n < 3; n++) {
        for (int i = 0; i < 3; i++) {
            char name[96];
            snprintf(name, sizeof name, "lorawan_%s_uplink_%d.json", nets[n], i);
            size_t len;
            char *doc = slurp(name, &len);
            TS_REQUIRE(doc != NULL);
            ts_obs_batch b;
            ts_obs_batch_init(&b);
            ts_err err;
            ts_status rc = ts_lorawan_parse(&c, dev, doc, len, &b, &err);
            if (rc != TS_OK)
                ts_test_fail(__FILE__, __LINE__, "%s: %s", name, err.msg);
            const ts_obs *h = find_obs(&b, "PB-000001", TS_OBS_NONE, NULL);
            TS_CHECK(h != NULL && h->has_pos && strcmp(h->label, "Postring") == 0);
            const ts_obs *s = find_obs(&b, "PB-000001", TS_OBS_STATE, NULL);
            TS_REQUIRE(s != NULL);
            /* as the ThingsBoard converter decodes the same frames: heartbeat and status
             * occupied, start-up free; heartbeat temperature 18 °C */
            TS_CHECK_STR(s->state, i == 2 ? "free" : "occupied");
            const ts_obs *v = find_obs(&b, "PB-000001", TS_OBS_VALUE, "temperature");
            TS_CHECK(i == 0 ? v != NULL && v->value == 18 : v == NULL);
            if (n == 2)
                TS_CHECK_INT(s->time_ms, 1684741625404LL);
            ts_obs_batch_fini(&b);
            free(doc);
        }
    }
    /* a decoded payload wins over the raw frame */
    size_t len;
    char *doc = slurp("lorawan_tts_community_v3_uplink_1.json", &len);
    TS_REQUIRE(doc != NULL);
    json_error_t je;
    json_t *root = json_loadb(doc, len, 0, &je);
    free(doc);
    TS_REQUIRE(root != NULL);
    json_object_set_new(json_object_get(root, "uplink_message"), "decoded_payload",
                        json_pack("{s:b, s:f}", "occupied", 0, "temperature", 21.5));
    char *mod = json_dumps(root, 0);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    TS_REQUIRE(ts_lorawan_parse(&c, dev, mod, strlen(mod), &b, &err) == TS_OK);
    TS_CHECK_STR(find_obs(&b, "PB-000001", TS_OBS_STATE, NULL)->state, "free");
    TS_CHECK_NEAR(find_obs(&b, "PB-000001", TS_OBS_VALUE, "temperature")->value, 21.5, 0);
    TS_CHECK_INT(find_obs(&b, "PB-000001", TS_OBS_STATE, NULL)->time_ms, 1684474415848LL);
    free(mod);
    /* by device id, which the table does not know */
    c.lorawan.key = TS_LORAWAN_DEVICE_ID;
    mod = json_dumps(root, 0);
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, mod, strlen(mod), &b, &err) == TS_ENOENT);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_UNKNOWN], 1);
    free(mod);
    c.lorawan.key = TS_LORAWAN_DEV_EUI;
    /* wrong types */
    json_object_set_new(json_object_get(root, "uplink_message"), "decoded_payload",
                        json_pack("{s:[i], s:s}", "occupied", 1, "temperature", "warm"));
    mod = json_dumps(root, 0);
    ts_obs_batch_reset(&b);
    TS_REQUIRE(ts_lorawan_parse(&c, dev, mod, strlen(mod), &b, &err) == TS_OK);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 2);
    TS_CHECK(find_obs(&b, "PB-000001", TS_OBS_STATE, NULL) == NULL);
    free(mod);
    json_object_set_new(root, "received_at", json_string("yesterday"));
    mod = json_dumps(root, 0);
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, mod, strlen(mod), &b, &err) == TS_EINVAL);
    free(mod);
    json_decref(root);
    const char *other = "{\"hello\":1}";
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, other, strlen(other), &b, &err) == TS_EINVAL);
    /* without a decoder, the raw frame says nothing */
    c.lorawan.decoder = TS_LORAWAN_DECODER_NONE;
    doc = slurp("lorawan_chirpstack_v4_uplink_1.json", &len);
    ts_obs_batch_reset(&b);
    TS_REQUIRE(ts_lorawan_parse(&c, dev, doc, len, &b, &err) == TS_OK);
    TS_CHECK_INT(b.n, 1);
    TS_CHECK(b.obs[0].kind == TS_OBS_NONE);
    free(doc);
    ts_obs_batch_fini(&b);
    ts_feed_table_free(dev);
}

/* ---- GeoJSON ---- */

TS_TEST(feed_geojson_collection)
{
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_GEOJSON);
    c.name = "ev";
    c.url = "http://127.0.0.1:9/ev.geojson";
    c.map.states = ev_states;
    c.map.nstates = 3;
    size_t len;
    char *doc = slurp("ev_ladepunkte.geojson", &len);
    TS_REQUIRE(doc != NULL);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    TS_REQUIRE(ts_geojson_parse(&c, 42, doc, len, &b, &err) == TS_OK);
    size_t heads = 0;
    int counts[3] = {0, 0, 0};
    for (size_t i = 0; i < b.n; i++) {
        heads += b.obs[i].kind == TS_OBS_NONE;
        if (b.obs[i].kind == TS_OBS_STATE)
            counts[strcmp(b.obs[i].state, "free") == 0       ? 0
                   : strcmp(b.obs[i].state, "occupied") == 0 ? 1
                                                             : 2]++;
    }
    TS_CHECK_INT(heads, 20);
    TS_CHECK_INT(counts[0], 5);
    TS_CHECK_INT(counts[1], 5);
    TS_CHECK_INT(counts[2], 10);
    const ts_obs *h = find_obs(&b, "8143", TS_OBS_NONE, NULL);
    TS_REQUIRE(h != NULL);
    TS_CHECK_NEAR(h->lon, 9.97556, 1e-9);
    TS_CHECK_STR(h->label, "DE*SNH*E382*02");
    int64_t t;
    ts_feed_time_parse("2022-05-17T16:12:01.424Z", &t);
    TS_CHECK_INT(find_obs(&b, "8143", TS_OBS_STATE, NULL)->time_ms, t);
    ts_obs_batch_reset(&b);
    const char *bad = "{\"type\":\"FeatureCollection\",\"features\":["
                      "{\"type\":\"Feature\",\"id\":\"a\",\"geometry\":{\"type\":\"Point\","
                      "\"coordinates\":[6.7,-91]},\"properties\":{\"state\":\"free\"}},"
                      "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{}},"
                      "{\"type\":\"Feature\",\"id\":\"c\",\"geometry\":null,\"properties\":"
                      "{\"state\":[1],\"time\":1704067200}},"
                      "{\"type\":\"Feature\",\"id\":7,\"geometry\":{\"type\":\"Point\","
                      "\"coordinates\":[6.7,51.2]},\"properties\":{\"state\":true}}]}";
    TS_REQUIRE(ts_geojson_parse(&c, 42, bad, strlen(bad), &b, &err) == TS_OK);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_RANGE], 1);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 2);
    TS_CHECK(find_obs(&b, "a", TS_OBS_NONE, NULL) == NULL);
    TS_CHECK(find_obs(&b, "c", TS_OBS_NONE, NULL) != NULL);
    TS_CHECK_STR(find_obs(&b, "7", TS_OBS_STATE, NULL)->state, "true");
    TS_CHECK_INT(find_obs(&b, "7", TS_OBS_STATE, NULL)->time_ms, 42);
    ts_obs_batch_reset(&b);
    /* the same id twice (7 and "7" alike): the first feature stands whole, a type error */
    const char *dup = "{\"type\":\"FeatureCollection\",\"features\":["
                      "{\"type\":\"Feature\",\"id\":7,\"geometry\":{\"type\":\"Point\","
                      "\"coordinates\":[6.7,51.2]},\"properties\":{\"state\":\"occupied\"}},"
                      "{\"type\":\"Feature\",\"id\":\"7\",\"geometry\":{\"type\":\"Point\","
                      "\"coordinates\":[6.8,51.3]},\"properties\":{\"state\":\"free\"}}]}";
    TS_REQUIRE(ts_geojson_parse(&c, 42, dup, strlen(dup), &b, &err) == TS_OK);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 1);
    TS_CHECK_NEAR(find_obs(&b, "7", TS_OBS_NONE, NULL)->lon, 6.7, 1e-12);
    TS_CHECK_STR(find_obs(&b, "7", TS_OBS_STATE, NULL)->state, "occupied");
    size_t heads7 = 0;
    for (size_t i = 0; i < b.n; i++)
        heads7 += b.obs[i].kind == TS_OBS_NONE && strcmp(b.obs[i].sensor, "7") == 0;
    TS_CHECK_INT(heads7, 1);
    ts_obs_batch_reset(&b);
    const char *notfc = "{\"type\":\"Feature\"}";
    TS_CHECK(ts_geojson_parse(&c, 42, notfc, strlen(notfc), &b, &err) == TS_EINVAL);
    ts_obs_batch_fini(&b);
    free(doc);
}

/* ---- the sensor store ---- */

static ts_sensor_store *
new_store(int64_t stale_ms, ts_feed_stale_basis basis)
{
    const char *fields[] = {"no2"};
    ts_sensor_store_opts o = {.feed = "t",
                              .stale_after_ms = stale_ms,
                              .stale_state = "stale",
                              .stale_basis = basis,
                              .fields = fields,
                              .nfields = 1};
    ts_err err;
    return ts_sensor_store_new(&o, &err);
}

static ts_obs
st_obs(const char *id, const char *state, int64_t t)
{
    return (ts_obs){.sensor = id,
                    .kind = TS_OBS_STATE,
                    .state = state,
                    .time_ms = t,
                    .has_pos = 1,
                    .lon = 6.77,
                    .lat = 51.22};
}

TS_TEST(feed_store_orders_by_phenomenon_time)
{
    ts_sensor_store *st = new_store(0, TS_FEED_STALE_OBSERVED);
    TS_REQUIRE(st != NULL);
    ts_obs o = st_obs("b1", "free", 1000);
    TS_CHECK(ts_sensor_store_apply(st, &o, 5000) == TS_APPLY_ACCEPTED);
    o = st_obs("b1", "occupied", 900); /* older: ignored */
    TS_CHECK(ts_sensor_store_apply(st, &o, 5000) == TS_APPLY_OLD);
    o = st_obs("b1", "occupied", 1000); /* same time: duplicate, ignored */
    TS_CHECK(ts_sensor_store_apply(st, &o, 5000) == TS_APPLY_DUPLICATE);
    o = st_obs("b1", "occupied", 2000);
    TS_CHECK(ts_sensor_store_apply(st, &o, 5000) == TS_APPLY_ACCEPTED);
    /* values are ordered on their own: an older no2 after a newer state is fine */
    ts_obs v = {.sensor = "b1", .kind = TS_OBS_VALUE, .name = "no2", .value = 12, .time_ms = 1500};
    TS_CHECK(ts_sensor_store_apply(st, &v, 5000) == TS_APPLY_ACCEPTED);
    v.time_ms = 1400;
    v.value = 99;
    TS_CHECK(ts_sensor_store_apply(st, &v, 5000) == TS_APPLY_OLD);
    ts_feed_change *ch;
    size_t n;
    TS_REQUIRE(ts_sensor_store_publish(st, 5000, &ch, &n) == TS_OK);
    TS_CHECK_INT(n, 1);
    TS_CHECK(ch[0].what & TS_FEED_CHANGED_ADDED);
    TS_CHECK(!ch[0].had_pos && ch[0].has_pos);
    free(ch);
    const ts_feed_snapshot *s = ts_sensor_store_current(st);
    const ts_sensor *x = ts_feed_snapshot_find(s, "b1");
    TS_REQUIRE(x != NULL);
    TS_CHECK_STR(x->state, "occupied");
    TS_CHECK_INT(x->time_ms, 2000);
    TS_CHECK_INT(x->state_time_ms, 2000);
    TS_REQUIRE(ts_sensor_value_find(x, "no2") != NULL);
    TS_CHECK_NEAR(ts_sensor_value_find(x, "no2")->v, 12, 0);
    TS_CHECK_INT(ts_sensor_value_find(x, "no2")->time_ms, 1500);
    /* nothing pending: nothing published */
    TS_REQUIRE(ts_sensor_store_publish(st, 6000, &ch, &n) == TS_OK);
    TS_CHECK_INT(n, 0);
    TS_CHECK(ch == NULL);
    TS_CHECK_INT(ts_feed_snapshot_version(ts_sensor_store_current(st)), 1);
    ts_sensor_store_free(st);
}

TS_TEST(feed_store_snapshots_are_immutable_and_share_records)
{
    ts_sensor_store *st = new_store(0, TS_FEED_STALE_OBSERVED);
    TS_REQUIRE(st != NULL);
    char id[32];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "s%03d", 499 - i);
        ts_obs o = st_obs(id, "free", 1000);
        o.lon = 6 + i * 0.001;
        TS_REQUIRE(ts_sensor_store_apply(st, &o, 1000) == TS_APPLY_ACCEPTED);
    }
    ts_feed_change *ch;
    size_t n;
    TS_REQUIRE(ts_sensor_store_publish(st, 1000, &ch, &n) == TS_OK);
    TS_CHECK_INT(n, 500);
    free(ch);
    ts_feed_snapshot *v1 = ts_feed_snapshot_ref(ts_sensor_store_current(st));
    TS_CHECK_INT(ts_feed_snapshot_count(v1), 500);
    for (uint32_t i = 1; i < 500; i++)
        TS_CHECK(strcmp(ts_feed_snapshot_at(v1, i - 1)->id, ts_feed_snapshot_at(v1, i)->id) < 0);
    ts_obs o = st_obs("s250", "occupied", 2000);
    o.lon = 7;
    TS_REQUIRE(ts_sensor_store_apply(st, &o, 2000) == TS_APPLY_ACCEPTED);
    TS_REQUIRE(ts_sensor_store_publish(st, 2000, &ch, &n) == TS_OK);
    TS_REQUIRE(n == 1);
    TS_CHECK_STR(ch[0].id, "s250");
    TS_CHECK(ch[0].what & TS_FEED_CHANGED_STATE);
    TS_CHECK(ch[0].what & TS_FEED_CHANGED_POS);
    TS_CHECK(ch[0].had_pos);
    TS_CHECK_NEAR(ch[0].old_lon, 6 + 249 * 0.001, 1e-12);
    TS_CHECK_NEAR(ch[0].lon, 7, 0);
    free(ch);
    const ts_feed_snapshot *v2 = ts_sensor_store_current(st);
    TS_CHECK_INT(ts_feed_snapshot_version(v2), 2);
    /* the old snapshot still shows the old state; unchanged sensors are the same record */
    TS_CHECK_STR(ts_feed_snapshot_find(v1, "s250")->state, "free");
    TS_CHECK_STR(ts_feed_snapshot_find(v2, "s250")->state, "occupied");
    TS_CHECK(ts_feed_snapshot_find(v1, "s100") == ts_feed_snapshot_find(v2, "s100"));
    TS_CHECK(ts_feed_snapshot_find(v1, "nope") == NULL);
    ts_feed_snapshot_unref(v1);
    /* a complete listing without s000..s009 removes them */
    ts_sensor_store_mark(st);
    for (int i = 10; i < 500; i++) {
        snprintf(id, sizeof id, "s%03d", i);
        ts_obs p = {.sensor = id, .time_ms = TS_FEED_TIME_NONE};
        ts_sensor_store_apply(st, &p, 3000);
    }
    TS_CHECK_INT(ts_sensor_store_sweep(st), 10);
    TS_REQUIRE(ts_sensor_store_publish(st, 3000, &ch, &n) == TS_OK);
    TS_CHECK_INT(n, 10);
    for (size_t i = 0; i < n; i++) {
        TS_CHECK(ch[i].what == TS_FEED_CHANGED_REMOVED);
        TS_CHECK(ch[i].had_pos && !ch[i].has_pos);
    }
    free(ch);
    TS_CHECK_INT(ts_feed_snapshot_count(ts_sensor_store_current(st)), 490);
    TS_CHECK(ts_feed_snapshot_find(ts_sensor_store_current(st), "s005") == NULL);
    TS_CHECK(ts_feed_snapshot_find(ts_sensor_store_current(st), "s499") != NULL);
    /* still a working hash after the removal */
    o = st_obs("s499", "occupied", 9000);
    TS_CHECK(ts_sensor_store_apply(st, &o, 9000) == TS_APPLY_ACCEPTED);
    TS_CHECK_INT(ts_sensor_store_count(st), 490);
    ts_sensor_store_free(st);
}

TS_TEST(feed_store_stale_transitions_on_a_fake_clock)
{
    ts_sensor_store *st = new_store(60000, TS_FEED_STALE_OBSERVED);
    TS_REQUIRE(st != NULL);
    ts_obs o = st_obs("bay", "occupied", 100000);
    TS_REQUIRE(ts_sensor_store_apply(st, &o, 100500) == TS_APPLY_ACCEPTED);
    ts_obs old = st_obs("old", "free", 10000); /* loaded already 90 s old */
    TS_REQUIRE(ts_sensor_store_apply(st, &old, 100500) == TS_APPLY_ACCEPTED);
    ts_feed_change *ch;
    size_t n;
    TS_REQUIRE(ts_sensor_store_publish(st, 100500, &ch, &n) == TS_OK);
    free(ch);
    const ts_feed_snapshot *s = ts_sensor_store_current(st);
    TS_CHECK(!ts_feed_snapshot_find(s, "bay")->stale);
    TS_CHECK(ts_feed_snapshot_find(s, "old")->stale);
    TS_CHECK_STR(ts_feed_snapshot_find(s, "old")->state, "stale");
    TS_CHECK_STR(ts_feed_snapshot_find(s, "old")->last_state, "free");
    TS_CHECK_INT(ts_feed_snapshot_stale_count(s), 1);
    TS_CHECK_INT(ts_sensor_store_next_stale(st), 100000 + 60000 + 1);
    TS_CHECK_INT(ts_sensor_store_check_stale(st, 160000), 0); /* exactly 60 s: fresh */
    TS_CHECK_INT(ts_sensor_store_check_stale(st, 160001), 1);
    TS_REQUIRE(ts_sensor_store_publish(st, 160001, &ch, &n) == TS_OK);
    TS_REQUIRE(n == 1);
    TS_CHECK_STR(ch[0].id, "bay");
    TS_CHECK(ch[0].what == TS_FEED_CHANGED_STALE);
    free(ch);
    s = ts_sensor_store_current(st);
    TS_CHECK_STR(ts_feed_snapshot_find(s, "bay")->state, "stale");
    TS_CHECK_STR(ts_feed_snapshot_find(s, "bay")->last_state, "occupied");
    TS_CHECK_INT(ts_feed_snapshot_stale_count(s), 2);
    /* a new observation revives it; the same state counts as fresh news (TIME, STALE) */
    o = st_obs("bay", "occupied", 170000);
    TS_REQUIRE(ts_sensor_store_apply(st, &o, 170000) == TS_APPLY_ACCEPTED);
    TS_REQUIRE(ts_sensor_store_publish(st, 170000, &ch, &n) == TS_OK);
    TS_REQUIRE(n == 1);
    TS_CHECK(ch[0].what == (TS_FEED_CHANGED_STALE | TS_FEED_CHANGED_TIME));
    free(ch);
    TS_CHECK_STR(ts_feed_snapshot_find(ts_sensor_store_current(st), "bay")->state, "occupied");
    /* a gateway clock running ahead does not keep a sensor fresh */
    o = st_obs("ahead", "free", 10000000);
    TS_REQUIRE(ts_sensor_store_apply(st, &o, 170000) == TS_APPLY_ACCEPTED);
    TS_CHECK_INT(ts_sensor_store_check_stale(st, 230001), 2); /* bay and ahead */
    ts_sensor_store_free(st);

    /* received basis: an old reading arriving now is fresh */
    st = new_store(60000, TS_FEED_STALE_RECEIVED);
    TS_REQUIRE(st != NULL);
    TS_REQUIRE(ts_sensor_store_apply(st, &old, 100500) == TS_APPLY_ACCEPTED);
    TS_CHECK_INT(ts_sensor_store_check_stale(st, 100500), 0);
    TS_CHECK_INT(ts_sensor_store_check_stale(st, 160501), 1);
    ts_sensor_store_free(st);
}

/* ---- a whole feed on a fake clock ---- */

typedef struct change_log {
    int calls;
    size_t last_n;
    uint64_t last_version;
    unsigned last_what;
    char last_id[64];
} change_log;

static void
on_change(void *user, ts_feed *f, const ts_feed_snapshot *snap, const ts_feed_change *ch, size_t n)
{
    change_log *l = user;
    (void)f;
    l->calls++;
    l->last_n = n;
    l->last_version = ts_feed_snapshot_version(snap);
    l->last_what = n ? ch[0].what : 0;
    snprintf(l->last_id, sizeof l->last_id, "%s", n ? ch[0].id : "");
}

TS_TEST(feed_ingest_and_publish_with_injected_clock)
{
    ts_feed_config c;
    sta_config(&c);
    c.stale_after_s = 3600;
    change_log log = {0};
    ts_feed_hooks hooks = {.on_change = on_change, .change_user = &log, .clock = fake_clock};
    ts_feed_time_parse("2022-05-17T18:00:00Z", &fake_now);
    ts_feed *f;
    ts_err err;
    TS_REQUIRE(ts_feed_new(&c, &hooks, &f, &err) == TS_OK);
    ts_feed_snapshot *s0 = ts_feed_snapshot_get(f);
    TS_CHECK_INT(ts_feed_snapshot_version(s0), 0);
    TS_CHECK_INT(ts_feed_snapshot_count(s0), 0);
    size_t len1, len2, len3;
    char *p1 = slurp("sta_ev_things_page1.json", &len1);
    char *p2 = slurp("sta_ev_things_page2.json", &len2);
    char *obs = slurp("sta_observation.json", &len3);
    TS_REQUIRE(p1 && p2 && obs);
    TS_REQUIRE(ts_feed_ingest(f, NULL, p1, len1, &err) == TS_OK);
    TS_REQUIRE(ts_feed_ingest(f, NULL, p2, len2, &err) == TS_OK);
    /* a load listing the same again (a reconciliation): nothing ignored is counted */
    TS_REQUIRE(ts_feed_ingest(f, NULL, p2, len2, &err) == TS_OK);
    ts_feed_run_due(f);
    TS_CHECK_INT(log.last_version, ts_feed_snapshot_version(s0) + (log.calls));
    ts_feed_snapshot *s1 = ts_feed_snapshot_get(f);
    TS_CHECK_INT(ts_feed_snapshot_count(s1), 30);
    TS_CHECK_STR(ts_feed_snapshot_find(s1, "4007")->state, "occupied");
    TS_CHECK(!ts_feed_snapshot_find(s1, "4007")->stale);
    int calls = log.calls;
    /* a pushed Observation for Datastream 8519 (Thing 4007): "available" -> free */
    TS_REQUIRE(ts_feed_ingest(f, "v1.0/Datastreams(8519)/Observations", obs, len3, &err) == TS_OK);
    TS_CHECK_INT(ts_feed_run_due(f), 1);
    TS_CHECK_INT(log.calls, calls + 1);
    TS_CHECK_STR(log.last_id, "4007");
    TS_CHECK(log.last_what & TS_FEED_CHANGED_STATE);
    ts_feed_snapshot *s2 = ts_feed_snapshot_get(f);
    TS_CHECK_STR(ts_feed_snapshot_find(s2, "4007")->state, "free");
    TS_CHECK_STR(ts_feed_snapshot_find(s1, "4007")->state, "occupied"); /* s1 unchanged */
    /* the same message again: duplicate, no snapshot */
    TS_REQUIRE(ts_feed_ingest(f, "v1.0/Datastreams(8519)/Observations", obs, len3, &err) == TS_OK);
    TS_CHECK_INT(ts_feed_run_due(f), 0);
    TS_CHECK_INT(log.calls, calls + 1);
    /* bad input changes nothing and is counted */
    TS_CHECK(ts_feed_ingest(f, "v1.0/Datastreams(8519)/Observations", "{bad", 4, &err) != TS_OK);
    TS_CHECK(ts_feed_ingest(f, "v1.0/Datastreams(77)/Observations", obs, len3, &err) == TS_ENOENT);
    char *huge = malloc(c.max_message_bytes + 1);
    memset(huge, ' ', c.max_message_bytes + 1);
    TS_CHECK(ts_feed_ingest(f, "v1.0/Datastreams(8519)/Observations", huge, c.max_message_bytes + 1,
                            &err) == TS_ELIMIT);
    free(huge);
    TS_CHECK_INT(ts_feed_run_due(f), 0);
    ts_feed_stats st;
    ts_feed_stats_get(f, &st);
    TS_CHECK_INT(st.errors[TS_FEED_ERR_PARSE], 1);
    TS_CHECK_INT(st.errors[TS_FEED_ERR_UNKNOWN], 1);
    TS_CHECK_INT(st.errors[TS_FEED_ERR_TOO_LARGE], 1);
    TS_CHECK_INT(st.ignored_duplicate, 1);
    TS_CHECK_INT(st.messages, 8);
    TS_CHECK_INT(st.sensors, 30);
    TS_CHECK_INT(st.mqtt_connected, -1);
    ts_feed_snapshot *s3 = ts_feed_snapshot_get(f);
    TS_CHECK(s3 == s2);
    /* at 18:00, 7 Things had news after 17:00; at 18:40 only 4007 is fresh. Its observation
     * (18:02:11) arrived at 18:00 by the clock: a time ahead of the clock counts from its
     * arrival, so it turns stale at 19:00 */
    TS_CHECK_INT(st.stale, 23);
    ts_feed_time_parse("2022-05-17T18:40:00Z", &fake_now);
    TS_CHECK_INT(ts_feed_run_due(f), 6);
    ts_feed_stats_get(f, &st);
    TS_CHECK_INT(st.stale, 29);
    ts_feed_time_parse("2022-05-17T19:00:00Z", &fake_now);
    TS_CHECK_INT(ts_feed_run_due(f), 0);
    fake_now += 1;
    TS_CHECK_INT(ts_feed_run_due(f), 1);
    TS_CHECK_STR(log.last_id, "4007");
    TS_CHECK(log.last_what == TS_FEED_CHANGED_STALE);
    ts_feed_stats_get(f, &st);
    TS_CHECK_INT(st.stale, 30);
    ts_feed_snapshot_unref(s0);
    ts_feed_snapshot_unref(s1);
    ts_feed_snapshot_unref(s2);
    ts_feed_snapshot_unref(s3);
    ts_feed_free(f);
    free(p1);
    free(p2);
    free(obs);
}

TS_TEST(feed_config_checks)
{
    ts_feed_config c;
    ts_err err;
    sta_config(&c);
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_OK);
    c.name = "bad name";
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_ECONFIG);
    sta_config(&c);
    c.url = "ftp://x/v1.1";
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_ECONFIG);
    TS_CHECK(strstr(err.msg, "url") != NULL);
    sta_config(&c);
    c.mqtt.host = "localhost";
    c.mqtt.qos = 3;
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_ECONFIG);
    TS_CHECK(strstr(err.msg, "qos") != NULL);
    sta_config(&c);
    c.backoff_min_s = 10;
    c.backoff_max_s = 5;
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_ECONFIG);
    ts_feed_config_init(&c, TS_FEED_LORAWAN);
    c.name = "bays";
    c.mqtt.host = "localhost";
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_ECONFIG); /* no topics */
    const char *topics[] = {"v3/+/devices/+/up"};
    c.mqtt.topics = topics;
    c.mqtt.ntopics = 1;
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_ECONFIG); /* no device table */
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/feed/lorawan_devices.csv", ts_test_srcdir());
    c.lorawan.devices.path = path;
    TS_CHECK(ts_feed_config_check(&c, &err) == TS_OK);
    /* the device table is loaded by ts_feed_new; every bay is there before any uplink */
    ts_feed *f;
    TS_REQUIRE(ts_feed_new(&c, NULL, &f, &err) == TS_OK);
    TS_CHECK_INT(ts_feed_run_due(f), 3);
    ts_feed_snapshot *s = ts_feed_snapshot_get(f);
    TS_CHECK_INT(ts_feed_snapshot_count(s), 3);
    TS_CHECK(ts_feed_snapshot_find(s, "PB-000003")->state == NULL);
    ts_feed_snapshot_unref(s);
    ts_feed_free(f);
    c.lorawan.devices.path = "/nonexistent.csv";
    TS_CHECK(ts_feed_new(&c, NULL, &f, &err) == TS_ESOURCE);
    ts_feed_kind k;
    TS_CHECK(ts_feed_kind_parse("geojson", &k) == 0 && k == TS_FEED_GEOJSON);
    TS_CHECK(ts_feed_kind_parse("mqtt", &k) != 0);
    TS_CHECK_STR(ts_feed_error_name(TS_FEED_ERR_TOO_LARGE), "too_large");
}

/* ---- snapshot outputs ---- */

static ts_feed_snapshot *
sample_snapshot(ts_sensor_store **stp)
{
    ts_sensor_store *st = new_store(0, TS_FEED_STALE_OBSERVED);
    ts_obs a = st_obs("a", "free", 1000);
    a.lon = 6.7735;
    a.lat = 51.2277;
    a.label = "Bay \"A\"\n";
    ts_sensor_store_apply(st, &a, 1000);
    ts_obs v = {.sensor = "a", .kind = TS_OBS_VALUE, .name = "no2", .value = 41.25, .time_ms = 900};
    ts_sensor_store_apply(st, &v, 1000);
    ts_obs far = st_obs("far", "occupied", 1000); /* Tokyo: outside EPSG:25832's area */
    far.lon = 139.7;
    far.lat = 35.7;
    ts_sensor_store_apply(st, &far, 1000);
    ts_obs nopos = {.sensor = "nopos", .kind = TS_OBS_STATE, .state = "x", .time_ms = 1000};
    ts_sensor_store_apply(st, &nopos, 1000);
    ts_feed_change *ch;
    size_t n;
    ts_sensor_store_publish(st, 1000, &ch, &n);
    free(ch);
    *stp = st;
    return ts_sensor_store_current(st);
}

TS_TEST(feed_snapshot_as_feature_store)
{
    ts_sensor_store *st;
    ts_feed_snapshot *s = sample_snapshot(&st);
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    TS_REQUIRE(sc != NULL);
    ts_store *store;
    uint32_t skipped;
    TS_REQUIRE(ts_feed_snapshot_store(s, sc, "EPSG:3857", &store, &skipped, &err) == TS_OK);
    TS_CHECK_INT(skipped, 0);
    TS_CHECK_INT(ts_store_count(store), 2); /* nopos has no position */
    int fid_no2 = ts_store_field_index(store, "no2");
    int fid_state = ts_store_field_index(store, "state");
    int fid_stale = ts_store_field_index(store, "stale");
    int fid_time = ts_store_field_index(store, "time");
    TS_REQUIRE(fid_no2 >= 0 && fid_state >= 0 && fid_stale >= 0 && fid_time >= 0);
    TS_CHECK_STR(ts_store_value(store, 0, ts_store_field_index(store, "id"))->u.s, "a");
    TS_CHECK_NEAR(ts_store_value(store, 0, fid_no2)->u.d, 41.25, 0);
    TS_CHECK_STR(ts_store_value(store, 0, fid_state)->u.s, "free");
    TS_CHECK_INT(ts_store_value(store, 0, fid_stale)->u.i, 0);
    TS_CHECK_STR(ts_store_value(store, 0, fid_time)->u.s, "1970-01-01T00:00:01Z");
    TS_CHECK(ts_store_value(store, 1, fid_no2)->type == TS_VAL_NULL);
    ts_geom g;
    ts_store_geom(store, 0, 0, &g);
    TS_REQUIRE(g.kind == TS_GEOM_POINT);
    double x, y;
    ts_grid_lonlat_to_mercator(6.7735, 51.2277, &x, &y);
    TS_CHECK_NEAR(g.xy[0], x, 1e-3);
    TS_CHECK_NEAR(g.xy[1], y, 1e-3);
    ts_store_unref(store);
    TS_REQUIRE(ts_feed_snapshot_store(s, sc, "EPSG:25832", &store, &skipped, &err) == TS_OK);
    TS_CHECK_INT(skipped, 1);
    TS_CHECK_INT(ts_store_count(store), 1);
    ts_store_geom(store, 0, 0, &g);
    /* the demo README: lon 6.7735 / lat 51.2277 is x 344542, y 5677502 */
    TS_CHECK_NEAR(g.xy[0], 344542, 1.0);
    TS_CHECK_NEAR(g.xy[1], 5677502, 1.0);
    ts_store_unref(store);
    TS_REQUIRE(ts_feed_snapshot_store(s, sc, "EPSG:4326", &store, &skipped, &err) == TS_OK);
    ts_store_geom(store, 0, 1, &g);
    TS_CHECK_NEAR(g.xy[0], 139.7, 0);
    ts_store_unref(store);
    TS_CHECK(ts_feed_snapshot_store(s, sc, "EPSG:999999", &store, &skipped, &err) != TS_OK);
    ts_source_ctx_free(sc);
    ts_sensor_store_free(st);
}

/* A GeoJSON document is a complete listing: sensors missing from it are removed, but a
 * sensor whose item is refused (bad coordinates, geometry, time) is in it and keeps its
 * last good state (docs/feeds.md: bad input never changes state). An observation timed far
 * ahead of the clock is refused as a range error instead of holding its sensor. */
TS_TEST(feed_refused_items_keep_their_sensors_and_future_times_are_refused)
{
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_GEOJSON);
    c.name = "bays";
    c.url = "http://127.0.0.1:9/bays.geojson";
    c.stale_after_s = 3600;
    ts_feed_hooks hooks = {.clock = fake_clock};
    ts_feed_time_parse("2026-11-27T12:00:00Z", &fake_now);
    ts_feed *f;
    ts_err err;
    TS_REQUIRE(ts_feed_new(&c, &hooks, &f, &err) == TS_OK);
#define BAY(id, coords, state, time)                                                              \
    "{\"type\":\"Feature\",\"id\":\"" id "\",\"geometry\":{\"type\":\"Point\",\"coordinates\":" \
    coords "},\"properties\":{\"state\":\"" state "\",\"time\":\"" time "\"}}"
    const char *good = "{\"type\":\"FeatureCollection\",\"features\":["
        BAY("A", "[6.77,51.22]", "occupied", "2026-11-27T11:59:00Z") ","
        BAY("B", "[6.78,51.22]", "free", "2026-11-27T11:59:00Z") ","
        BAY("C", "[6.79,51.22]", "free", "2026-11-27T11:59:00Z") "]}";
    TS_REQUIRE(ts_feed_ingest(f, NULL, good, strlen(good), &err) == TS_OK);
    ts_feed_run_due(f);
    ts_feed_snapshot *s = ts_feed_snapshot_get(f);
    TS_CHECK_INT(ts_feed_snapshot_count(s), 3);
    ts_feed_snapshot_unref(s);
    /* A: coordinates out of range; B: unreadable time; C: absent */
    const char *bad = "{\"type\":\"FeatureCollection\",\"features\":["
        BAY("A", "[1e300,51.22]", "free", "2026-11-27T12:00:00Z") ","
        BAY("B", "[6.78,51.22]", "occupied", "yesterday") "]}";
    TS_REQUIRE(ts_feed_ingest(f, NULL, bad, strlen(bad), &err) == TS_OK);
    ts_feed_run_due(f);
    s = ts_feed_snapshot_get(f);
    TS_CHECK_INT(ts_feed_snapshot_count(s), 2);
    TS_REQUIRE(ts_feed_snapshot_find(s, "A") != NULL && ts_feed_snapshot_find(s, "B") != NULL);
    TS_CHECK_STR(ts_feed_snapshot_find(s, "A")->state, "occupied");
    TS_CHECK_NEAR(ts_feed_snapshot_find(s, "A")->lon, 6.77, 1e-12);
    TS_CHECK_STR(ts_feed_snapshot_find(s, "B")->state, "free");
    TS_CHECK(ts_feed_snapshot_find(s, "C") == NULL);
    ts_feed_snapshot_unref(s);
    /* an observation of 2030 is refused and does not hold A: the next real one applies */
    const char *ahead = "{\"type\":\"FeatureCollection\",\"features\":["
        BAY("A", "[6.77,51.22]", "free", "2030-01-01T00:00:00Z") ","
        BAY("B", "[6.78,51.22]", "free", "2026-11-27T11:59:00Z") "]}";
    TS_REQUIRE(ts_feed_ingest(f, NULL, ahead, strlen(ahead), &err) == TS_OK);
    ts_feed_run_due(f);
    s = ts_feed_snapshot_get(f);
    TS_CHECK_STR(ts_feed_snapshot_find(s, "A")->state, "occupied");
    ts_feed_snapshot_unref(s);
    const char *now = "{\"type\":\"FeatureCollection\",\"features\":["
        BAY("A", "[6.77,51.22]", "free", "2026-11-27T12:05:00Z") ","  /* within the tolerance */
        BAY("B", "[6.78,51.22]", "free", "2026-11-27T11:59:00Z") "]}";
    TS_REQUIRE(ts_feed_ingest(f, NULL, now, strlen(now), &err) == TS_OK);
    ts_feed_run_due(f);
    s = ts_feed_snapshot_get(f);
    TS_CHECK_STR(ts_feed_snapshot_find(s, "A")->state, "free");
    ts_feed_snapshot_unref(s);
#undef BAY
    ts_feed_stats st;
    ts_feed_stats_get(f, &st);
    TS_CHECK_INT(st.errors[TS_FEED_ERR_RANGE], 2);
    TS_CHECK_INT(st.errors[TS_FEED_ERR_TYPE], 1);
    ts_feed_free(f);
}

TS_TEST(feed_snapshot_as_geojson)
{
    ts_sensor_store *st;
    ts_feed_snapshot *s = sample_snapshot(&st);
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    TS_REQUIRE(ts_feed_snapshot_geojson(s, &b) == TS_OK);
    json_error_t je;
    json_t *root = json_loadb((const char *)b.data, b.len, 0, &je);
    if (root == NULL)
        ts_test_fail(__FILE__, __LINE__, "not JSON: %s: %s", je.text, (const char *)b.data);
    TS_REQUIRE(root != NULL);
    TS_CHECK_STR(json_string_value(json_object_get(root, "type")), "FeatureCollection");
    TS_CHECK_INT(json_integer_value(json_object_get(root, "version")), 1);
    json_t *fs = json_object_get(root, "features");
    TS_REQUIRE(json_array_size(fs) == 3);
    json_t *a = json_object_get(json_array_get(fs, 0), "properties");
    TS_CHECK_STR(json_string_value(json_object_get(a, "label")), "Bay \"A\"\n");
    TS_CHECK_NEAR(json_real_value(json_object_get(a, "no2")), 41.25, 0);
    TS_CHECK_STR(json_string_value(json_object_get(a, "no2_time")), "1970-01-01T00:00:00.900Z");
    TS_CHECK(json_is_false(json_object_get(a, "stale")));
    json_t *g = json_object_get(json_array_get(fs, 0), "geometry");
    TS_CHECK_NEAR(json_real_value(json_array_get(json_object_get(g, "coordinates"), 0)), 6.7735, 0);
    TS_CHECK(json_is_null(json_object_get(json_array_get(fs, 2), "geometry")));
    json_decref(root);
    ts_buf_fini(&b);
    /* invalid UTF-8 is repaired, control characters escaped */
    ts_buf_init(&b, 1024);
    TS_REQUIRE(ts_feed_json_put_string(&b, "a\xff"
                                           "b\x01\xc3\xa4") == TS_OK);
    TS_CHECK_STR((const char *)b.data, "\"a\\ufffdb\\u0001\xc3\xa4\"");
    ts_buf_fini(&b);
    ts_buf_init(&b, 1024);
    ts_feed_json_put_number(&b, 0.1);
    TS_CHECK_STR((const char *)b.data, "0.1");
    ts_buf_fini(&b);
    ts_sensor_store_free(st);
}

/* ---- the demo gateway ---- */

TS_TEST(feed_demo_air_replays_uba_hours)
{
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_DEMO);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/demo/air_uba_duesseldorf.csv", ts_test_srcdir());
    c.demo.air_csv = path;
    ts_demo *d;
    ts_err err;
    TS_REQUIRE(ts_demo_new(&c, &d, &err) == TS_OK);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    int64_t t0 = 1700000000000LL;
    int64_t wait = ts_demo_step(d, t0, &b);
    TS_CHECK(wait >= 1 && wait <= 1000);
    /* hour 0 of 2024-01-01 at Corneliusstraße (DENW082): NO2 32, PM10 14, no O3 */
    const ts_obs *h = find_obs(&b, "DENW082", TS_OBS_NONE, NULL);
    TS_REQUIRE(h != NULL);
    TS_CHECK(strstr(h->label, "Corneliusstra") != NULL && strstr(h->label, "demo replay"));
    TS_CHECK_NEAR(h->lon, 6.7825, 1e-9);
    TS_CHECK_NEAR(find_obs(&b, "DENW082", TS_OBS_VALUE, "no2")->value, 32, 0);
    TS_CHECK_NEAR(find_obs(&b, "DENW082", TS_OBS_VALUE, "pm10")->value, 14, 0);
    TS_CHECK(find_obs(&b, "DENW082", TS_OBS_VALUE, "o3") == NULL);
    TS_CHECK_INT(find_obs(&b, "DENW082", TS_OBS_VALUE, "no2")->time_ms, t0);
    ts_obs_batch_reset(&b);
    ts_demo_step(d, t0 + 5000, &b); /* still the same hour (10 s per hour) */
    TS_CHECK_INT(b.n, 0);
    ts_demo_step(d, t0 + 10000, &b);
    TS_CHECK_NEAR(find_obs(&b, "DENW082", TS_OBS_VALUE, "no2")->value, 17, 0);
    TS_CHECK_INT(find_obs(&b, "DENW082", TS_OBS_VALUE, "no2")->time_ms, t0 + 10000);
    ts_obs_batch_fini(&b);
    ts_demo_free(d);
    c.demo.air_csv = "/nonexistent.csv";
    TS_CHECK(ts_demo_new(&c, &d, &err) == TS_ESOURCE);
    const char *unordered = "station_code,station_name,lon,lat,datetime,no2,pm10,o3\n"
                            "X,x,6,51,2024-01-01T01:00:00,1,,\nX,x,6,51,2024-01-01T00:00:00,1,,\n";
    ts_demo_station *sts;
    size_t nst;
    TS_CHECK(ts_demo_parse_air("u.csv", unordered, strlen(unordered), &sts, &nst, &err) ==
             TS_ESOURCE);
    TS_CHECK_INT(err.input_line, 3);
}

TS_TEST(feed_demo_parking_is_plausible_and_deterministic)
{
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_DEMO);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/demo/duesseldorf_demo.gpkg", ts_test_srcdir());
    c.demo.simulate = TS_DEMO_PARKING;
    c.demo.bays.path = path;
    ts_err err;
    ts_demo *d1, *d2;
    TS_REQUIRE(ts_demo_new(&c, &d1, &err) == TS_OK);
    TS_REQUIRE(ts_demo_new(&c, &d2, &err) == TS_OK);
    ts_obs_batch b1, b2;
    ts_obs_batch_init(&b1);
    ts_obs_batch_init(&b2);
    int64_t t0 = 1700000000000LL;
    ts_demo_step(d1, t0, &b1);
    ts_demo_step(d2, t0, &b2);
    TS_CHECK_INT(b1.n, 361);
    size_t occ = 0;
    for (size_t i = 0; i < b1.n; i++)
        occ += strcmp(b1.obs[i].state, "occupied") == 0;
    TS_CHECK(occ > 361 * 40 / 100 && occ < 361 * 70 / 100);
    /* ten simulated minutes (20 s at 30x): some bays change, not most; same seed, same run */
    ts_obs_batch_reset(&b1);
    ts_obs_batch_reset(&b2);
    size_t changes = 0;
    for (int64_t t = t0 + 1000; t <= t0 + 20000; t += 1000) {
        ts_demo_step(d1, t, &b1);
        ts_demo_step(d2, t, &b2);
    }
    TS_REQUIRE(b1.n == b2.n);
    for (size_t i = 0; i < b1.n; i++) {
        TS_CHECK_STR(b1.obs[i].sensor, b2.obs[i].sensor);
        TS_CHECK_INT(b1.obs[i].time_ms, b2.obs[i].time_ms);
        TS_CHECK(b1.obs[i].time_ms > t0 && b1.obs[i].time_ms <= t0 + 20000);
        changes++;
    }
    TS_CHECK(changes > 20 && changes < 361);
    ts_obs_batch_fini(&b1);
    ts_obs_batch_fini(&b2);
    ts_demo_free(d1);
    ts_demo_free(d2);
}

TS_TEST(feed_csv_reader)
{
    const char *text = "a,b,c\r\n\"x\ny\",\"q\"\"q\", z \n# skip\n\n1,2\n";
    ts_csv c;
    ts_csv_init(&c, text, strlen(text));
    TS_REQUIRE(ts_csv_next(&c) == 1);
    TS_CHECK_INT(c.nf, 3);
    TS_CHECK_STR(c.f[2], "c");
    TS_REQUIRE(ts_csv_next(&c) == 1);
    TS_CHECK_STR(c.f[0], "x\ny");
    TS_CHECK_STR(c.f[1], "q\"q");
    TS_CHECK_STR(c.f[2], "z");
    TS_REQUIRE(ts_csv_next(&c) == 1);
    TS_CHECK_INT(c.line, 6);
    TS_CHECK_INT(c.nf, 2);
    TS_CHECK(ts_csv_next(&c) == 0);
    ts_csv_fini(&c);
    double v;
    TS_CHECK(ts_csv_number("1e3", &v) == 0 && v == 1000);
    TS_CHECK(ts_csv_number("nan", &v) != 0);
    TS_CHECK(ts_csv_number("1e999", &v) != 0);
    TS_CHECK(ts_csv_number("12x", &v) != 0);
}

/* A feed replacing another of its name (a reload changed its settings) takes over the last
 * state of the sensors its device table still has; their positions come from the table. */
TS_TEST(feed_carry_over_keeps_states_of_the_bays_still_in_the_table)
{
    ts_feed_config c;
    ts_err err;
    ts_feed_config_init(&c, TS_FEED_LORAWAN);
    c.name = "bays";
    c.mqtt.host = "localhost";
    const char *topics[] = {"v3/+/devices/+/up"};
    c.mqtt.topics = topics;
    c.mqtt.ntopics = 1;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/feed/lorawan_devices.csv", ts_test_srcdir());
    c.lorawan.devices.path = path;
    c.stale_after_s = 0; /* the times below are of 1970 */
    /* the old feed's last snapshot: PB-000001 occupied with a value, a bay the table lacks */
    ts_sensor_store *st = new_store(0, TS_FEED_STALE_OBSERVED);
    ts_obs a = st_obs("PB-000001", "occupied", 5000);
    a.lon = 1; /* the table's position wins */
    a.lat = 2;
    ts_sensor_store_apply(st, &a, 6000);
    ts_obs v = {.sensor = "PB-000001", .kind = TS_OBS_VALUE, .name = "temperature",
                .value = 21.5, .time_ms = 4000};
    ts_sensor_store_apply(st, &v, 6000);
    ts_obs gone = st_obs("PB-999999", "free", 5000);
    gone.lon = 6.7;
    gone.lat = 51.2;
    ts_sensor_store_apply(st, &gone, 6000);
    ts_feed_change *ch;
    size_t n;
    ts_sensor_store_publish(st, 6000, &ch, &n);
    free(ch);
    ts_feed *f;
    TS_REQUIRE(ts_feed_new(&c, NULL, &f, &err) == TS_OK);
    ts_feed_carry_over(f, ts_sensor_store_current(st));
    ts_feed_run_due(f);
    ts_feed_snapshot *s = ts_feed_snapshot_get(f);
    TS_CHECK_INT(ts_feed_snapshot_count(s), 3); /* the table's bays, not PB-999999 */
    const ts_sensor *x = ts_feed_snapshot_find(s, "PB-000001");
    TS_REQUIRE(x != NULL);
    TS_CHECK_STR(x->state, "occupied");
    TS_CHECK_INT(x->state_time_ms, 5000);
    TS_CHECK_INT(x->seen_ms, 6000); /* staleness runs on from when it was last heard */
    TS_CHECK_NEAR(x->lon, 6.77600982000319, 1e-9);
    const ts_sensor_value *t = ts_sensor_value_find(x, "temperature");
    TS_REQUIRE(t != NULL);
    TS_CHECK_NEAR(t->v, 21.5, 0);
    TS_CHECK(ts_feed_snapshot_find(s, "PB-000003")->state == NULL);
    ts_feed_snapshot_unref(s);
    ts_feed_free(f);
    ts_sensor_store_free(st);
}

/* A long error message keeps its start and its end (the cause) in the stats (/health). */
TS_TEST(feed_last_error_keeps_the_cause_of_a_long_message)
{
    ts_feed_config c;
    sta_config(&c);
    ts_feed *f;
    ts_err err;
    TS_REQUIRE(ts_feed_new(&c, NULL, &f, &err) == TS_OK);
    char topic[600];
    memset(topic, 'x', sizeof topic - 1);
    memcpy(topic, "v1.0/Datastreams(", 17);
    topic[sizeof topic - 1] = '\0';
    char *huge = malloc(c.max_message_bytes + 1);
    TS_REQUIRE(huge != NULL);
    memset(huge, ' ', c.max_message_bytes + 1);
    TS_CHECK(ts_feed_ingest(f, topic, huge, c.max_message_bytes + 1, &err) == TS_ELIMIT);
    free(huge);
    ts_feed_stats st;
    ts_feed_stats_get(f, &st);
    size_t len = strlen(st.last_error);
    TS_CHECK(len > 100 && len < sizeof st.last_error);
    TS_CHECK(strncmp(st.last_error, "v1.0/Datastreams(", 17) == 0);
    TS_CHECK(strstr(st.last_error, "...") != NULL);
    char want[64];
    snprintf(want, sizeof want, "over the limit of %zu", c.max_message_bytes);
    TS_CHECK(len >= strlen(want) && strcmp(st.last_error + len - strlen(want), want) == 0);
    ts_feed_free(f);
}
