/* bench/bench_live.c — live overlays end to end through `tilesrv serve` (issue 5):
 * observations per second through a real MQTT broker into the server's sensor store while
 * tiles are being served, and the latency from an MQTT publish to a tile request that
 * shows the change.
 *
 *   bench_live --binary build-release/tilesrv [--bays N] [--messages N] [--clients C]
 *              [--samples S] [--background R] [--threads T]
 *
 * Starts /usr/sbin/mosquitto and `tilesrv serve` (--threads T render threads) on free
 * loopback ports, with a LoRaWAN feed (ChirpStack v4 uplinks, one device per parking bay,
 * N bays on a grid) drawn by styles/parking_state.sld as tileset "bays" (metatile 2, as
 * the demo's live tilesets). C client threads fetch random tiles of the bays at z14-z17
 * over keep-alive connections for the whole run (404 or 5xx count as errors).
 *   ingest:  --messages uplinks, each changing one bay's state, published as fast as one
 *            publisher can (QoS 0, then QoS 1); the rate is messages / (time from the first
 *            publish until the server's /metrics counts them all as observations).
 *   latency: S samples: a bay of the southern rows flips, published with QoS 1; its z17
 *            tile is requested every millisecond with If-None-Match until the answer is a
 *            new tile; latency = publish -> that answer. Meanwhile a second publisher
 *            flips bays of the northern rows at R uplinks/s (far enough that their z17
 *            tiles never hold a sample bay) and the tile clients keep fetching.
 * Publisher, broker, server and clients share the machine: on 2 cores the figures are a
 * floor. Prints the machine, the figures and the server's peak RSS. */
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <mosquitto.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_rig.h"
#include "util/clock.h"

extern char **environ;

#define ROWS 50 /* bays per row of the device table (live_rig.c) */

static int nbays = 2000;
static int http_port;
static atomic_int running = 1;
static atomic_ullong tiles_ok, tiles_err;

typedef struct body {
    char *p;
    size_t n;
} body;

static size_t
on_body(char *p, size_t sz, size_t n, void *user)
{
    body *b = user;
    size_t k = sz * n;
    char *q = realloc(b->p, b->n + k + 1);
    if (q == NULL)
        return 0;
    memcpy(q + b->n, p, k);
    b->n += k;
    q[b->n] = '\0';
    b->p = q;
    return k;
}

typedef struct reply {
    long status;
    char etag[128];
} reply;

static size_t
on_header(char *p, size_t sz, size_t n, void *user)
{
    reply *r = user;
    size_t k = sz * n;
    if (k > 6 && strncasecmp(p, "ETag:", 5) == 0) {
        const char *v = p + 5;
        while (*v == ' ')
            v++;
        size_t len = strcspn(v, "\r\n");
        if (len >= sizeof r->etag)
            len = sizeof r->etag - 1;
        memcpy(r->etag, v, len);
        r->etag[len] = '\0';
    }
    return k;
}

/* GET path on the server with curl handle h; if_none_match may be NULL. Body into b (may be
 * NULL: discarded). */
static reply
get(CURL *h, const char *path, const char *if_none_match, body *b)
{
    char url[512], hdr[200];
    reply r = {0, ""};
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", http_port, path);
    struct curl_slist *hl = NULL;
    if (if_none_match != NULL) {
        snprintf(hdr, sizeof hdr, "If-None-Match: %s", if_none_match);
        hl = curl_slist_append(NULL, hdr);
    }
    body sink = {NULL, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b ? b : &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    free(sink.p);
    return r;
}

/* The value of a Prometheus sample line starting with `name` in the server's /metrics. */
static double
metric(CURL *h, const char *name)
{
    body b = {NULL, 0};
    double v = NAN;
    if (get(h, "/metrics", NULL, &b).status == 200 && b.p != NULL) {
        for (char *l = b.p; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (strncmp(l, name, strlen(name)) == 0 && l[strlen(name)] == ' ') {
                v = strtod(l + strlen(name) + 1, NULL);
                break;
            }
    }
    free(b.p);
    return v;
}

static void
tile_of(double lon, double lat, int z, int *x, int *y)
{
    double n = ldexp(1, z), r = lat * M_PI / 180;
    *x = (int)floor((lon + 180) / 360 * n);
    *y = (int)floor((1 - log(tan(r) + 1 / cos(r)) / M_PI) / 2 * n);
}

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A tile client: random tiles over the bays at z14-z17 until `running` drops. */
static void *
client(void *arg)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)arg;
    CURL *h = curl_easy_init();
    char path[128];
    while (atomic_load(&running)) {
        int b = (int)(xorshift(&seed) % (uint64_t)nbays), z = 14 + (int)(xorshift(&seed) % 4);
        double lon, lat;
        rig_bay_lonlat(b, &lon, &lat);
        int x, y;
        tile_of(lon, lat, z, &x, &y);
        snprintf(path, sizeof path, "/tiles/bays/%d/%d/%d.png", z, x, y);
        reply r = get(h, path, NULL, NULL);
        if (r.status == 200 || r.status == 304)
            atomic_fetch_add(&tiles_ok, 1);
        else
            atomic_fetch_add(&tiles_err, 1);
    }
    curl_easy_cleanup(h);
    return NULL;
}

typedef struct background {
    struct mosquitto *pub;
    json_t *tpl;
    double rate;
    int64_t t0;
    atomic_ullong sent;
} background;

/* Flips bays of the northern rows at bg->rate uplinks/s until `running` drops. */
static void *
background_flips(void *arg)
{
    background *bg = arg;
    int first = (nbays / ROWS) * 3 / 5 * ROWS; /* rows from 60 % northwards */
    int nb = nbays - first;
    uint64_t start = ts_mono_ns(), period = (uint64_t)(1e9 / bg->rate);
    for (uint64_t i = 0; atomic_load(&running) && nb > 0; i++) {
        uint64_t due = start + i * period, now = ts_mono_ns();
        if (due > now)
            usleep((useconds_t)((due - now) / 1000));
        int b = first + (int)(i % (uint64_t)nb);
        char *m = rig_uplink(bg->tpl, b, (int)((i / (uint64_t)nb) & 1), bg->t0 + (int64_t)i);
        char topic[96];
        rig_uplink_topic(b, topic, sizeof topic);
        mosquitto_publish(bg->pub, NULL, topic, (int)strlen(m), m, 0, false);
        free(m);
        atomic_fetch_add(&bg->sent, 1);
    }
    return NULL;
}

static struct mosquitto *
publisher(const char *id, int port)
{
    struct mosquitto *m = mosquitto_new(id, true, NULL);
    if (m == NULL || mosquitto_connect(m, "127.0.0.1", port, 30) != 0 ||
        mosquitto_loop_start(m) != 0) {
        fprintf(stderr, "bench_live: publisher %s cannot connect\n", id);
        mosquitto_destroy(m);
        return NULL;
    }
    mosquitto_max_inflight_messages_set(m, 1000);
    return m;
}

/* Peak RSS (VmHWM) of a process, MB, or -1. */
static double
peak_rss_mb(pid_t pid)
{
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    double v = -1;
    while (f != NULL && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            v = strtod(line + 6, NULL) / 1024;
    if (f != NULL)
        fclose(f);
    return v;
}

static int
usage(void)
{
    fprintf(stderr, "usage: bench_live --binary TILESRV [--bays N] [--messages N] [--clients C] "
                    "[--samples S] [--background R] [--threads T]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *binary = NULL;
    int messages = 50000, nclients = 2, samples = 200, threads = 2;
    double bg_rate = 1000;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return usage();
        if (strcmp(argv[i], "--binary") == 0)
            binary = v;
        else if (strcmp(argv[i], "--bays") == 0)
            nbays = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--messages") == 0)
            messages = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--clients") == 0)
            nclients = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--samples") == 0)
            samples = (int)strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--background") == 0)
            bg_rate = strtod(v, NULL);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (int)strtol(v, NULL, 10);
        else
            return usage();
        i++;
    }
    if (binary == NULL || nbays < 4 * ROWS || messages < 1 || nclients < 0 || nclients > 64 ||
        samples < 1 || bg_rate <= 0 || threads < 1)
        return usage();
    rig_print_header("bench_live");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mosquitto_lib_init();

    int mq_port = rig_free_port();
    http_port = rig_free_port();
    char conf[256], devices[64];
    pid_t broker = rig_start_broker(mq_port, conf, sizeof conf);
    if (broker < 0 || rig_write_devices(nbays, devices) != 0) {
        rig_stop(broker);
        return 1;
    }
    char cfg[] = "/tmp/bench_live_XXXXXX.yaml", logp[] = "/tmp/bench_live_XXXXXX.log";
    int cfd = mkstemps(cfg, 5), lfd = mkstemps(logp, 4);
    FILE *cf = cfd >= 0 ? fdopen(cfd, "w") : NULL;
    if (cf == NULL || lfd < 0) {
        rig_stop(broker);
        return 1;
    }
    fprintf(cf,
            "server:\n  cache_mb: 256\n"
            "feeds:\n  bays:\n    kind: lorawan\n"
            "    mqtt: {host: 127.0.0.1, port: %d, topics: [\"application/+/device/+/event/up\"]}\n"
            "    devices: {path: %s}\n    stale_after: 0\n"
            "layers:\n  bays:\n    feed: bays\n    style: %s/styles/parking_state.sld\n"
            "tilesets:\n  bays:\n    layers: [bays]\n    metatile: 2\n",
            mq_port, devices, TS_SOURCE_DIR);
    fclose(cf);
    char listen[64], nthreads[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", http_port);
    snprintf(nthreads, sizeof nthreads, "%d", threads);
    char *sargv[] = {(char *)binary, "serve", "-c", cfg, "--listen", listen, "--threads", nthreads,
                     "-q", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, lfd, 1);
    posix_spawn_file_actions_adddup2(&fa, lfd, 2);
    pid_t srv;
    int rc = posix_spawn(&srv, binary, &fa, NULL, sargv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0 || !rig_wait_port(http_port, 60000)) {
        fprintf(stderr, "bench_live: tilesrv did not start (log %s)\n", logp);
        rig_stop(rc == 0 ? srv : -1);
        rig_stop(broker);
        return 1;
    }
    CURL *h = curl_easy_init();
    char connected[96];
    snprintf(connected, sizeof connected, "tilesrv_feed_mqtt_connected{feed=\"bays\"}");
    for (int i = 0; i < 400 && metric(h, connected) != 1; i++)
        usleep(25000);
    json_t *tpl = rig_uplink_template();
    struct mosquitto *pub = publisher("bench-live-pub", mq_port);
    struct mosquitto *bgpub = publisher("bench-live-bg", mq_port);
    int ok = metric(h, connected) == 1 && tpl != NULL && pub != NULL && bgpub != NULL;
    if (!ok)
        fprintf(stderr, "bench_live: feed not connected (log %s)\n", logp);
    printf("bays %d, %d tile client threads, tilesrv --threads %d, tileset metatile 2\n", nbays,
           nclients, threads);

    pthread_t cl[64];
    for (int i = 0; ok && i < nclients; i++)
        pthread_create(&cl[i], NULL, client, (void *)(uintptr_t)(i + 1));
    int64_t t0 = 1800000000000LL, tick = 0; /* message times: increasing per bay */
    const char *obs = "tilesrv_feed_observations_total{feed=\"bays\"}";

    /* ingest while tiles are served */
    for (int qos = 0; ok && qos <= 1; qos++) {
        char **msg = calloc((size_t)messages, sizeof *msg);
        for (int i = 0; msg != NULL && i < messages; i++) {
            tick++;
            msg[i] = rig_uplink(tpl, i % nbays, (int)(tick / nbays) & 1, t0 + tick);
        }
        double base = metric(h, obs);
        unsigned long long tiles0 = atomic_load(&tiles_ok);
        uint64_t s = ts_mono_ns();
        char topic[96];
        for (int i = 0; msg != NULL && i < messages; i++) {
            rig_uplink_topic(i % nbays, topic, sizeof topic);
            mosquitto_publish(pub, NULL, topic, (int)strlen(msg[i]), msg[i], qos, false);
        }
        uint64_t sent = ts_mono_ns(), deadline = sent + 120ull * 1000000000ull;
        double got = 0;
        while ((got = metric(h, obs) - base) < messages && ts_mono_ns() < deadline)
            usleep(10000); /* /metrics is not free: poll it at 100 Hz */
        uint64_t e = ts_mono_ns();
        double secs = (double)(e - s) / 1e9;
        printf("ingest QoS %d while serving tiles: %d uplinks, %.0f counted in %.3f s (publisher "
               "done after %.3f s): %.0f observations/s; %.0f tiles/s served meanwhile\n",
               qos, messages, got, secs, (double)(sent - s) / 1e9, got / secs,
               (double)(atomic_load(&tiles_ok) - tiles0) / secs);
        for (int i = 0; msg != NULL && i < messages; i++)
            free(msg[i]);
        free(msg);
    }

    /* latency publish -> tile */
    background bg = {bgpub, json_deep_copy(tpl), bg_rate, t0 + 500000000LL, 0};
    pthread_t bgt;
    if (ok)
        pthread_create(&bgt, NULL, background_flips, &bg);
    double *lat = calloc((size_t)samples, sizeof *lat);
    int nlat = 0, lost = 0, south = (nbays / ROWS) * 2 / 5 * ROWS; /* rows up to 40 % */
    uint64_t seed = 12345;
    unsigned long long tiles0 = atomic_load(&tiles_ok);
    uint64_t lat_start = ts_mono_ns();
    int64_t ltime = t0 + 900000000LL;
    for (int i = 0; ok && lat != NULL && i < samples; i++) {
        int b = (int)(xorshift(&seed) % (uint64_t)south);
        double lon, lat_deg;
        rig_bay_lonlat(b, &lon, &lat_deg);
        int x, y;
        tile_of(lon, lat_deg, 17, &x, &y);
        char path[128], topic[96];
        snprintf(path, sizeof path, "/tiles/bays/17/%d/%d.png", x, y);
        reply r0 = get(h, path, NULL, NULL);
        if (r0.status != 200 || r0.etag[0] == '\0') {
            lost++;
            continue;
        }
        char *m = rig_uplink(tpl, b, i & 1 ? 0 : 1, ltime += 1000);
        rig_uplink_topic(b, topic, sizeof topic);
        /* the bay's state before is unknown (ingest left it either way): publish the
         * opposite of what this sample's first flip said if the tile did not change */
        uint64_t p0 = ts_mono_ns();
        mosquitto_publish(pub, NULL, topic, (int)strlen(m), m, 1, false);
        free(m);
        int seen = 0, flipped_back = 0;
        while (ts_mono_ns() - p0 < 2000000000ull) {
            reply r = get(h, path, r0.etag, NULL);
            if (r.status == 200 && strcmp(r.etag, r0.etag) != 0) {
                seen = 1;
                break;
            }
            if (!flipped_back && ts_mono_ns() - p0 > 300000000ull) {
                /* no change after 300 ms: the bay already had that state; flip it the
                 * other way and time from this publish instead */
                m = rig_uplink(tpl, b, i & 1 ? 1 : 0, ltime += 1000);
                p0 = ts_mono_ns();
                mosquitto_publish(pub, NULL, topic, (int)strlen(m), m, 1, false);
                free(m);
                flipped_back = 1;
            }
            usleep(1000);
        }
        if (seen)
            lat[nlat++] = (double)(ts_mono_ns() - p0) / 1e6;
        else
            lost++;
    }
    double lat_secs = (double)(ts_mono_ns() - lat_start) / 1e9;
    atomic_store(&running, 0);
    if (ok) {
        pthread_join(bgt, NULL);
        for (int i = 0; i < nclients; i++)
            pthread_join(cl[i], NULL);
    }
    if (nlat > 0) {
        qsort(lat, (size_t)nlat, sizeof *lat, rig_cmp_double);
        printf("latency MQTT publish -> tile showing the change (z17, QoS 1): %d samples, "
               "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms, %d lost; meanwhile %.0f "
               "background uplinks/s and %.0f tiles/s\n",
               nlat, lat[nlat / 2], lat[(int)(nlat * 0.9)], lat[(int)(nlat * 0.99)],
               lat[nlat - 1], lost, (double)atomic_load(&bg.sent) / lat_secs,
               (double)(atomic_load(&tiles_ok) - tiles0) / lat_secs);
    }
    printf("tile requests: %llu answered 200/304, %llu errors; tilesrv peak RSS %.0f MB\n",
           (unsigned long long)atomic_load(&tiles_ok), (unsigned long long)atomic_load(&tiles_err),
           peak_rss_mb(srv));
    int fail = !ok || nlat == 0 || atomic_load(&tiles_err) > 0;
    free(lat);
    json_decref(bg.tpl);
    json_decref(tpl);
    if (pub != NULL) {
        mosquitto_loop_stop(pub, true);
        mosquitto_destroy(pub);
    }
    if (bgpub != NULL) {
        mosquitto_loop_stop(bgpub, true);
        mosquitto_destroy(bgpub);
    }
    curl_easy_cleanup(h);
    rig_stop(srv);
    rig_stop(broker);
    if (!fail) {
        unlink(logp);
        unlink(cfg);
    } else {
        fprintf(stderr, "bench_live: server log kept in %s\n", logp);
    }
    unlink(devices);
    unlink(conf);
    curl_global_cleanup();
    mosquitto_lib_cleanup();
    return fail;
}
