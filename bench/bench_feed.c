/* bench/bench_feed.c — observations per second through a real MQTT broker into the sensor
 * store, and the latency from publish to the published snapshot (on_change).
 *
 *   bench_feed [--bays N] [--messages N] [--rate R] [--seconds S] [--qos Q]
 *
 * Starts /usr/sbin/mosquitto on a free port, a LoRaWAN feed (ChirpStack v4 uplinks, one
 * device per parking bay, device table written to a temporary CSV), and a publisher on its
 * own connection. Messages are the recorded ChirpStack uplink of tests/data/feed with the
 * device, time and decoded "occupied" flag changed; all are built before timing.
 *   ingest:  --messages uplinks published as fast as the publisher can, QoS 0 and 1; the
 *            rate is messages / (time from the first publish until the feed has accepted
 *            them all). Publisher, broker and feed share the machine.
 *   latency: --rate uplinks per second for --seconds, each flipping one bay; latency is
 *            from just before mosquitto_publish to the on_change callback that reports
 *            that bay (it includes the publish interval batching, default 25 ms).
 * Not measured here: ingest while tiles are served (needs the pipeline wiring). */
#include <jansson.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed/feed.h"
#include "live_rig.h"
#include "util/clock.h"

static int nbays = 2000;
static uint64_t *pub_ns; /* per bay: when its latest flip was published */
static double *lat_ms;   /* latencies measured */
static atomic_size_t nlat;
static size_t lat_cap;
static atomic_int measuring;

/* "B01234" -> 1234, or -1. */
static int
bay_index(const char *id)
{
    if (id[0] != 'B')
        return -1;
    char *end;
    long v = strtol(id + 1, &end, 10);
    return *end == '\0' && v >= 0 && v < 1000000 ? (int)v : -1;
}

static void
on_change(void *user, ts_feed *f, const ts_feed_snapshot *snap, const ts_feed_change *ch, size_t n)
{
    (void)user, (void)f, (void)snap;
    if (!atomic_load(&measuring))
        return;
    uint64_t now = ts_mono_ns();
    for (size_t i = 0; i < n; i++) {
        if (!(ch[i].what & TS_FEED_CHANGED_STATE))
            continue;
        int bay = bay_index(ch[i].id);
        if (bay < 0 || bay >= nbays || pub_ns[bay] == 0)
            continue;
        size_t k = atomic_fetch_add(&nlat, 1);
        if (k < lat_cap)
            lat_ms[k] = (double)(now - pub_ns[bay]) / 1e6;
        pub_ns[bay] = 0;
    }
}

static ts_feed *
start_feed(int port, const char *devices, ts_err *err)
{
    static const char *topics[] = {"application/+/device/+/event/up"};
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_LORAWAN);
    c.name = "bench";
    c.mqtt.host = "127.0.0.1";
    c.mqtt.port = port;
    c.mqtt.topics = topics;
    c.mqtt.ntopics = 1;
    c.lorawan.devices.path = devices;
    c.stale_after_s = 0;
    ts_feed_hooks h = {.on_change = on_change};
    ts_feed *f;
    if (ts_feed_new(&c, &h, &f, err) != TS_OK)
        return NULL;
    if (ts_feed_start(f, err) != TS_OK) {
        ts_feed_free(f);
        return NULL;
    }
    for (int i = 0; i < 200; i++) {
        ts_feed_stats st;
        ts_feed_stats_get(f, &st);
        if (st.mqtt_connected == 1)
            return f;
        usleep(25000);
    }
    TS_FAIL(err, TS_ESOURCE, "feed did not connect");
    ts_feed_free(f);
    return NULL;
}

static uint64_t
accepted(ts_feed *f)
{
    ts_feed_stats st;
    ts_feed_stats_get(f, &st);
    return st.observations;
}

int
main(int argc, char **argv)
{
    int messages = 20000, qos_only = -1;
    double rate = 1000, seconds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bays") == 0)
            nbays = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--messages") == 0)
            messages = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--rate") == 0)
            rate = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--qos") == 0)
            qos_only = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (nbays < 1 || messages < 1 || rate <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: bench_feed [--bays N] [--messages N] [--rate R] [--seconds S] "
                        "[--qos 0|1]\n");
        return 2;
    }
    rig_print_header("bench_feed");
    int port = rig_free_port();
    char conf[256], devices[64];
    pid_t broker = rig_start_broker(port, conf, sizeof conf);
    if (broker < 0)
        return 1;
    /* the device table: one bay per device, on a grid over the demo area */
    if (rig_write_devices(nbays, devices) != 0) {
        rig_stop(broker);
        return 1;
    }
    pub_ns = calloc((size_t)nbays, sizeof *pub_ns);
    lat_cap = (size_t)(rate * seconds) + 16;
    lat_ms = calloc(lat_cap, sizeof *lat_ms);
    json_t *tpl = rig_uplink_template();
    if (pub_ns == NULL || lat_ms == NULL || tpl == NULL) {
        rig_stop(broker);
        return 1;
    }

    ts_err err;
    ts_err_clear(&err);
    ts_feed *f = start_feed(port, devices, &err);
    struct mosquitto *pub = mosquitto_new("bench-publisher", true, NULL);
    if (f == NULL || pub == NULL || mosquitto_connect(pub, "127.0.0.1", port, 30) != 0 ||
        mosquitto_loop_start(pub) != 0) {
        fprintf(stderr, "bench_feed: %s\n", f == NULL ? err.msg : "publisher cannot connect");
        rig_stop(broker);
        return 1;
    }
    mosquitto_max_inflight_messages_set(pub, 1000);
    int64_t t0 = 1800000000000LL; /* message times: strictly increasing per bay */
    int64_t tick = 0;
    char *sample = rig_uplink(tpl, 0, 1, t0);
    printf("bays %d, uplink %zu bytes (recorded ChirpStack v4 uplink)\n", nbays, strlen(sample));
    free(sample);

    /* the feed's own cost: parse + apply + publish on the calling thread, no broker */
    {
        int nd = messages;
        char **msg = calloc((size_t)nd, sizeof *msg);
        for (int i = 0; i < nd; i++) {
            tick++;
            msg[i] = rig_uplink(tpl, i % nbays, (i / nbays) & 1, t0 + tick);
        }
        uint64_t base = accepted(f);
        uint64_t c0 = ts_thread_cpu_ns(), w0 = ts_mono_ns();
        for (int i = 0; i < nd; i++)
            ts_feed_ingest(f, "direct", msg[i], strlen(msg[i]), NULL);
        ts_feed_run_due(f);
        uint64_t c1 = ts_thread_cpu_ns(), w1 = ts_mono_ns();
        printf("direct ts_feed_ingest (one thread, no broker): %llu accepted, %.0f observations/s "
               "CPU, %.0f/s wall\n",
               (unsigned long long)(accepted(f) - base), nd / ((double)(c1 - c0) / 1e9),
               nd / ((double)(w1 - w0) / 1e9));
        for (int i = 0; i < nd; i++)
            free(msg[i]);
        free(msg);
    }

    /* ingest */
    for (int qos = 0; qos <= 1; qos++) {
        if (qos_only >= 0 && qos != qos_only)
            continue;
        char **msg = calloc((size_t)messages, sizeof *msg);
        char topic[96];
        for (int i = 0; i < messages; i++) {
            tick++;
            msg[i] = rig_uplink(tpl, i % nbays, (i / nbays) & 1, t0 + tick);
        }
        uint64_t base = accepted(f);
        uint64_t s = ts_mono_ns();
        for (int i = 0; i < messages; i++) {
            rig_uplink_topic(i % nbays, topic, sizeof topic);
            while (mosquitto_publish(pub, NULL, topic, (int)strlen(msg[i]), msg[i], qos, false) ==
                   MOSQ_ERR_OVERSIZE_PACKET)
                ;
        }
        uint64_t sent = ts_mono_ns();
        uint64_t deadline = sent + 60ull * 1000000000ull;
        while (accepted(f) - base < (uint64_t)messages && ts_mono_ns() < deadline)
            usleep(1000);
        uint64_t e = ts_mono_ns();
        uint64_t got = accepted(f) - base;
        printf("ingest QoS %d: %d uplinks, %llu accepted in %.3f s (publisher done after %.3f s): "
               "%.0f observations/s\n",
               qos, messages, (unsigned long long)got, (double)(e - s) / 1e9,
               (double)(sent - s) / 1e9, (double)got / ((double)(e - s) / 1e9));
        for (int i = 0; i < messages; i++)
            free(msg[i]);
        free(msg);
    }

    /* latency at a steady rate */
    atomic_store(&measuring, 1);
    int n = (int)(rate * seconds);
    uint64_t start = ts_mono_ns(), period = (uint64_t)(1e9 / rate);
    static int flag;
    for (int i = 0; i < n; i++) {
        uint64_t due = start + (uint64_t)i * period;
        uint64_t now = ts_mono_ns();
        if (due > now)
            usleep((useconds_t)((due - now) / 1000));
        int b = i % nbays;
        char *m = rig_uplink(tpl, b, (flag = !flag), t0 + ++tick + 100000000);
        char topic[96];
        rig_uplink_topic(b, topic, sizeof topic);
        pub_ns[b] = ts_mono_ns();
        mosquitto_publish(pub, NULL, topic, (int)strlen(m), m, 1, false);
        free(m);
    }
    usleep(500000);
    atomic_store(&measuring, 0);
    size_t k = atomic_load(&nlat);
    if (k > lat_cap)
        k = lat_cap;
    qsort(lat_ms, k, sizeof *lat_ms, rig_cmp_double);
    if (k > 0)
        printf("latency publish -> snapshot at %.0f uplinks/s for %.0f s (QoS 1): %zu measured, "
               "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
               rate, seconds, k, lat_ms[k / 2], lat_ms[(size_t)((double)k * 0.99)], lat_ms[k - 1]);
    else
        printf("latency: no changes observed\n");

    mosquitto_loop_stop(pub, true);
    mosquitto_destroy(pub);
    ts_feed_free(f);
    json_decref(tpl);
    rig_stop(broker);
    unlink(devices);
    unlink(conf);
    free(pub_ns);
    free(lat_ms);
    return 0;
}
