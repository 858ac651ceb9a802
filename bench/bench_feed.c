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
#include <fcntl.h>
#include <jansson.h>
#include <mosquitto.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "feed/feed.h"
#include "util/clock.h"

extern char **environ;

static int nbays = 2000;
static uint64_t *pub_ns; /* per bay: when its latest flip was published */
static double *lat_ms;   /* latencies measured */
static atomic_size_t nlat;
static size_t lat_cap;
static atomic_int measuring;

static int
free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) != 0)
        return -1;
    close(s);
    return ntohs(a.sin_port);
}

static int
port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

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

/* The recorded ChirpStack uplink as a template. */
static json_t *
load_template(void)
{
    json_error_t je;
    json_t *t = json_load_file(TS_SOURCE_DIR "/tests/data/feed/lorawan_chirpstack_v4_uplink_1.json",
                               0, &je);
    if (t == NULL)
        fprintf(stderr, "bench_feed: template: %s\n", je.text);
    return t;
}

/* Uplink for bay b with the flag at time ms. malloc'ed text. */
static char *
uplink(json_t *tpl, int b, int occupied, int64_t ms)
{
    char eui[32], t[40];
    snprintf(eui, sizeof eui, "70b3d5%010d", b);
    ts_feed_time_format(ms, t, sizeof t);
    json_object_set_new(json_object_get(tpl, "deviceInfo"), "devEui", json_string(eui));
    json_object_set_new(tpl, "time", json_string(t));
    json_object_set_new(tpl, "object", json_pack("{s:b}", "occupied", occupied));
    return json_dumps(tpl, JSON_COMPACT);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
print_header(void)
{
    char commit[64] = "unknown", cpu[600] = "unknown";
    FILE *g = popen("git -C " TS_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
    if (g != NULL) {
        if (fgets(commit, sizeof commit, g) != NULL)
            commit[strcspn(commit, "\n")] = '\0';
        pclose(g);
    }
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *p = strchr(line, ':');
                snprintf(cpu, sizeof cpu, "%s", p ? p + 2 : line);
                cpu[strcspn(cpu, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    int major, minor, rev;
    mosquitto_lib_version(&major, &minor, &rev);
    printf("bench_feed: commit %s, compiler %s, %s %s, CPU %s, %ld cores online, "
           "libmosquitto %d.%d.%d, broker /usr/sbin/mosquitto on loopback\n",
           commit, __VERSION__, u.sysname, u.machine, cpu, sysconf(_SC_NPROCESSORS_ONLN), major,
           minor, rev);
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
    print_header();
    int port = free_port();
    /* queues large enough for a flood: the default 1000 queued messages per client would
     * drop most of it (the broker's choice, not the feed's) */
    char conf[] = "/tmp/bench_feed_mosquitto_XXXXXX.conf";
    int cfd = mkstemps(conf, 5);
    FILE *cf = cfd >= 0 ? fdopen(cfd, "w") : NULL;
    if (cf == NULL)
        return 1;
    fprintf(cf,
            "listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
            "max_queued_bytes 0\nmax_inflight_messages 0\n",
            port);
    fclose(cf);
    char *bargv[] = {"/usr/sbin/mosquitto", "-c", conf, NULL};
    pid_t broker;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&broker, bargv[0], &fa, NULL, bargv, environ) != 0) {
        fprintf(stderr, "bench_feed: cannot start %s (scripts/deps.sh --test)\n", bargv[0]);
        return 1;
    }
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 200 && !port_open(port); i++)
        usleep(25000);

    /* the device table: one bay per device, on a grid over the demo area */
    char devices[] = "/tmp/bench_feed_devices_XXXXXX.csv";
    int fd = mkstemps(devices, 4);
    FILE *df = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (df == NULL) {
        kill(broker, SIGTERM);
        return 1;
    }
    fprintf(df, "dev_eui,sensor,lon,lat\n");
    for (int b = 0; b < nbays; b++)
        fprintf(df, "70b3d5%010d,B%05d,%.6f,%.6f\n", b, b, 6.76 + (b % 50) * 0.0008,
                51.21 + (b / 50) * 0.0005);
    fclose(df);
    pub_ns = calloc((size_t)nbays, sizeof *pub_ns);
    lat_cap = (size_t)(rate * seconds) + 16;
    lat_ms = calloc(lat_cap, sizeof *lat_ms);
    json_t *tpl = load_template();
    if (pub_ns == NULL || lat_ms == NULL || tpl == NULL) {
        kill(broker, SIGTERM);
        return 1;
    }

    ts_err err;
    ts_err_clear(&err);
    ts_feed *f = start_feed(port, devices, &err);
    struct mosquitto *pub = mosquitto_new("bench-publisher", true, NULL);
    if (f == NULL || pub == NULL || mosquitto_connect(pub, "127.0.0.1", port, 30) != 0 ||
        mosquitto_loop_start(pub) != 0) {
        fprintf(stderr, "bench_feed: %s\n", f == NULL ? err.msg : "publisher cannot connect");
        kill(broker, SIGTERM);
        return 1;
    }
    mosquitto_max_inflight_messages_set(pub, 1000);
    int64_t t0 = 1800000000000LL; /* message times: strictly increasing per bay */
    int64_t tick = 0;
    char *sample = uplink(tpl, 0, 1, t0);
    printf("bays %d, uplink %zu bytes (recorded ChirpStack v4 uplink)\n", nbays, strlen(sample));
    free(sample);

    /* the feed's own cost: parse + apply + publish on the calling thread, no broker */
    {
        int nd = messages;
        char **msg = calloc((size_t)nd, sizeof *msg);
        for (int i = 0; i < nd; i++) {
            tick++;
            msg[i] = uplink(tpl, i % nbays, (i / nbays) & 1, t0 + tick);
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
            msg[i] = uplink(tpl, i % nbays, (i / nbays) & 1, t0 + tick);
        }
        uint64_t base = accepted(f);
        uint64_t s = ts_mono_ns();
        for (int i = 0; i < messages; i++) {
            snprintf(topic, sizeof topic, "application/bench/device/%010d/event/up", i % nbays);
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
        char *m = uplink(tpl, b, (flag = !flag), t0 + ++tick + 100000000);
        char topic[96];
        snprintf(topic, sizeof topic, "application/bench/device/%010d/event/up", b);
        pub_ns[b] = ts_mono_ns();
        mosquitto_publish(pub, NULL, topic, (int)strlen(m), m, 1, false);
        free(m);
    }
    usleep(500000);
    atomic_store(&measuring, 0);
    size_t k = atomic_load(&nlat);
    if (k > lat_cap)
        k = lat_cap;
    qsort(lat_ms, k, sizeof *lat_ms, cmp_double);
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
    kill(broker, SIGTERM);
    waitpid(broker, NULL, 0);
    unlink(devices);
    unlink(conf);
    free(pub_ns);
    free(lat_ms);
    return 0;
}
