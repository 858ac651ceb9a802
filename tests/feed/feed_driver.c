/* tests/feed/feed_driver.c — runs one feed for the live tests (tests/feed/test_feed_live.py):
 * the feed is configured by key=value arguments, every published change is printed as a
 * line, and commands on stdin print the snapshot or the counters.
 *
 *   feed_driver kind=sensorthings name=ev url=http://127.0.0.1:8000/v1.0 mqtt_host=127.0.0.1
 *               mqtt_port=1883 state=available:free ... < commands
 *
 * Output lines (stdout, one write per line):
 *   CHANGE <version> <n> <id>:<what-bits>,...        (at most 40 ids)
 *   SNAP <version> <count> <stale>   then   S <id> <state|-> <last_state|-> <stale> <time|->
 *        [<name>=<value> ...]   per sensor, then END
 *   STATS <json>
 * Commands: snap, stats, quit. Exit status 0 after quit, 2 for a bad argument. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"

#define MAX_LIST 64

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void
on_change(void *user, ts_feed *f, const ts_feed_snapshot *snap, const ts_feed_change *ch, size_t n)
{
    (void)user;
    (void)f;
    pthread_mutex_lock(&out_lock);
    printf("CHANGE %llu %zu ", (unsigned long long)ts_feed_snapshot_version(snap), n);
    for (size_t i = 0; i < n && i < 40; i++)
        printf("%s%s:%u", i ? "," : "", ch[i].id, ch[i].what);
    printf("\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

static void
print_snapshot(ts_feed *f)
{
    ts_feed_snapshot *s = ts_feed_snapshot_get(f);
    pthread_mutex_lock(&out_lock);
    printf("SNAP %llu %u %u\n", (unsigned long long)ts_feed_snapshot_version(s),
           ts_feed_snapshot_count(s), ts_feed_snapshot_stale_count(s));
    for (uint32_t i = 0; i < ts_feed_snapshot_count(s); i++) {
        const ts_sensor *x = ts_feed_snapshot_at(s, i);
        char t[40];
        ts_feed_time_format(x->time_ms, t, sizeof t);
        printf("S %s %s %s %d %s", x->id, x->state ? x->state : "-",
               x->last_state ? x->last_state : "-", x->stale, t[0] ? t : "-");
        for (uint32_t k = 0; k < x->nvalues; k++)
            printf(" %s=%.17g", x->values[k].name, x->values[k].v);
        printf("\n");
    }
    printf("END\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    ts_feed_snapshot_unref(s);
}

static void
print_stats(ts_feed *f)
{
    ts_feed_stats st;
    ts_feed_stats_get(f, &st);
    pthread_mutex_lock(&out_lock);
    printf("STATS {\"messages\":%llu,\"observations\":%llu,\"ignored_old\":%llu,"
           "\"ignored_duplicate\":%llu,\"http_requests\":%llu,\"http_not_modified\":%llu,"
           "\"loads\":%llu,\"mqtt_connects\":%llu,\"snapshots\":%llu,\"mqtt_connected\":%d,"
           "\"sensors\":%u,\"stale\":%u,\"version\":%llu,\"last_update_ms\":%lld,\"errors\":{",
           (unsigned long long)st.messages, (unsigned long long)st.observations,
           (unsigned long long)st.ignored_old, (unsigned long long)st.ignored_duplicate,
           (unsigned long long)st.http_requests, (unsigned long long)st.http_not_modified,
           (unsigned long long)st.loads, (unsigned long long)st.mqtt_connects,
           (unsigned long long)st.snapshots, st.mqtt_connected, st.sensors, st.stale,
           (unsigned long long)st.version, (long long)st.last_update_ms);
    for (int k = 0; k < TS_FEED_ERR__COUNT; k++)
        printf("%s\"%s\":%llu", k ? "," : "", ts_feed_error_name((ts_feed_error)k),
               (unsigned long long)st.errors[k]);
    printf("}}\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

/* "a:b" -> map entry (strings point into the argument). */
static int
add_map(ts_feed_map *m, int *n, char *v)
{
    char *colon = strrchr(v, ':');
    if (colon == NULL || *n >= MAX_LIST)
        return -1;
    *colon = '\0';
    m[*n].match = v;
    m[*n].to = colon + 1;
    (*n)++;
    return 0;
}

static int
num(const char *v, double *out)
{
    char *end;
    *out = strtod(v, &end);
    return end != v && *end == '\0' ? 0 : -1;
}

/* Apply one key=value to c. 0, or -1 for an unknown key or a bad value. */
static int
set_option(ts_feed_config *c, const char *k, char *v)
{
    static ts_feed_map states[MAX_LIST], values[MAX_LIST];
    static const char *topics[MAX_LIST], *value_paths[MAX_LIST], *fields[MAX_LIST];
    static const char *headers[MAX_LIST];
    double d;
    if (strcmp(k, "name") == 0)
        c->name = v;
    else if (strcmp(k, "url") == 0)
        c->url = v;
    else if (strcmp(k, "filter") == 0)
        c->filter = v;
    else if (strcmp(k, "query") == 0)
        c->query = v;
    else if (strcmp(k, "header") == 0 && c->nhttp_headers < MAX_LIST) {
        headers[c->nhttp_headers++] = v;
        c->http_headers = headers;
    } else if (strcmp(k, "mqtt_host") == 0)
        c->mqtt.host = v;
    else if (strcmp(k, "topic") == 0 && c->mqtt.ntopics < MAX_LIST) {
        topics[c->mqtt.ntopics++] = v;
        c->mqtt.topics = topics;
    } else if (strcmp(k, "state") == 0)
        return add_map(states, &c->map.nstates, v) == 0 ? (c->map.states = states, 0) : -1;
    else if (strcmp(k, "value") == 0)
        return add_map(values, &c->map.nvalues, v) == 0 ? (c->map.values = values, 0) : -1;
    else if (strcmp(k, "value_path") == 0 && c->map.nvalue_paths < MAX_LIST) {
        value_paths[c->map.nvalue_paths++] = v;
        c->map.value_paths = value_paths;
    } else if (strcmp(k, "field") == 0 && c->map.nfields < MAX_LIST) {
        fields[c->map.nfields++] = v;
        c->map.fields = fields;
    } else if (strcmp(k, "per") == 0)
        c->map.per = strcmp(v, "datastream") == 0 ? TS_FEED_PER_DATASTREAM : TS_FEED_PER_THING;
    else if (strcmp(k, "id_path") == 0)
        c->map.id_path = v;
    else if (strcmp(k, "state_path") == 0)
        c->map.state_path = v;
    else if (strcmp(k, "stale_state") == 0)
        c->stale_state = v;
    else if (strcmp(k, "stale_basis") == 0)
        c->stale_basis =
            strcmp(v, "received") == 0 ? TS_FEED_STALE_RECEIVED : TS_FEED_STALE_OBSERVED;
    else if (strcmp(k, "devices") == 0)
        c->lorawan.devices.path = v;
    else if (strcmp(k, "decoder") == 0)
        c->lorawan.decoder =
            strcmp(v, "bosch_pls") == 0 ? TS_LORAWAN_DECODER_BOSCH_PLS : TS_LORAWAN_DECODER_NONE;
    else if (strcmp(k, "simulate") == 0)
        c->demo.simulate = strcmp(v, "parking") == 0 ? TS_DEMO_PARKING : TS_DEMO_AIR;
    else if (strcmp(k, "air_csv") == 0)
        c->demo.air_csv = v;
    else if (strcmp(k, "bays") == 0)
        c->demo.bays.path = v;
    else if (num(v, &d) != 0)
        return -1;
    else if (strcmp(k, "mqtt_port") == 0)
        c->mqtt.port = (int)d;
    else if (strcmp(k, "qos") == 0)
        c->mqtt.qos = (int)d;
    else if (strcmp(k, "keepalive") == 0)
        c->mqtt.keepalive_s = (int)d;
    else if (strcmp(k, "poll") == 0)
        c->poll_s = d;
    else if (strcmp(k, "timeout") == 0)
        c->timeout_s = d;
    else if (strcmp(k, "backoff_min") == 0)
        c->backoff_min_s = d;
    else if (strcmp(k, "backoff_max") == 0)
        c->backoff_max_s = d;
    else if (strcmp(k, "stale_after") == 0)
        c->stale_after_s = d;
    else if (strcmp(k, "publish_interval_ms") == 0)
        c->publish_interval_ms = (int)d;
    else if (strcmp(k, "page_size") == 0)
        c->page_size = (int)d;
    else if (strcmp(k, "max_document_bytes") == 0)
        c->max_document_bytes = (size_t)d;
    else if (strcmp(k, "max_message_bytes") == 0)
        c->max_message_bytes = (size_t)d;
    else if (strcmp(k, "air_speed") == 0)
        c->demo.air_speed = d;
    else if (strcmp(k, "parking_speed") == 0)
        c->demo.parking_speed = d;
    else if (strcmp(k, "seed") == 0)
        c->demo.seed = (uint64_t)d;
    else if (strcmp(k, "dead_share") == 0)
        c->demo.dead_share = d;
    else
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    ts_feed_config c;
    ts_feed_kind kind = TS_FEED_SENSORTHINGS;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "kind=", 5) == 0 && ts_feed_kind_parse(argv[i] + 5, &kind) != 0) {
            fprintf(stderr, "feed_driver: unknown kind %s\n", argv[i] + 5);
            return 2;
        }
    }
    ts_feed_config_init(&c, kind);
    c.name = "test";
    for (int i = 1; i < argc; i++) {
        char *k = argv[i], *v = strchr(k, '=');
        if (v == NULL) {
            fprintf(stderr, "feed_driver: expected key=value, got %s\n", k);
            return 2;
        }
        *v++ = '\0';
        if (strcmp(k, "kind") != 0 && set_option(&c, k, v) != 0) {
            fprintf(stderr, "feed_driver: bad option %s=%s\n", k, v);
            return 2;
        }
    }
    ts_feed_hooks hooks = {.on_change = on_change};
    ts_feed *f;
    ts_err err;
    ts_err_clear(&err);
    if (ts_feed_new(&c, &hooks, &f, &err) != TS_OK || ts_feed_start(f, &err) != TS_OK) {
        fprintf(stderr, "feed_driver: %s\n", err.msg);
        return 1;
    }
    pthread_mutex_lock(&out_lock);
    printf("READY\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (strncmp(line, "snap", 4) == 0)
            print_snapshot(f);
        else if (strncmp(line, "stats", 5) == 0)
            print_stats(f);
        else if (strncmp(line, "quit", 4) == 0)
            break;
    }
    ts_feed_free(f);
    return 0;
}
