/* feed/mqtt.c — the MQTT subscriber of the feeds (libmosquitto, driven by our own thread):
 * connect without blocking, subscribe at QoS 1 (or as configured) after every connect,
 * deliver messages under the size limit, and reconnect with exponential backoff after
 * any failure, so a broker restart costs one reconnect and a reconciliation. */
#include "feed/feed_int.h"

#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

struct ts_feed_mqtt {
    const ts_feed_config *cfg;
    ts_feed_mqtt_hooks hooks;
    struct mosquitto *mosq;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int connected;
    int connects; /* successful CONNACKs so far (MQTT thread only) */
    int refused;  /* the last CONNACK refused us (MQTT thread only) */
};

static void fail(ts_feed_mqtt *m, ts_feed_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(ts_feed_mqtt *m, ts_feed_error e, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m->hooks.failed != NULL)
        m->hooks.failed(m->hooks.user, e, msg);
}

static void
subscribe_list(ts_feed_mqtt *m, char *const *topics, int n)
{
    int qos = m->cfg->mqtt.qos;
    for (int i = 0; i < n; i += 64) {
        int k = n - i < 64 ? n - i : 64;
        int rc = mosquitto_subscribe_multiple(m->mosq, NULL, k, topics + i, qos, 0, NULL);
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
            fail(m, TS_FEED_ERR_MQTT, "subscribe %s (+%d more): %s", topics[i], k - 1,
                 mosquitto_strerror(rc));
    }
}

static void
on_connect(struct mosquitto *mosq, void *ud, int rc)
{
    ts_feed_mqtt *m = ud;
    (void)mosq;
    if (rc != 0) {
        m->refused = 1;
        fail(m, TS_FEED_ERR_MQTT, "broker %s:%d refused the connection: %s", m->cfg->mqtt.host,
             m->cfg->mqtt.port, mosquitto_connack_string(rc));
        return;
    }
    m->refused = 0;
    m->connects++;
    char **topics = NULL;
    int n = m->hooks.topics != NULL ? m->hooks.topics(m->hooks.user, &topics) : 0;
    if (n > 0)
        subscribe_list(m, topics, n);
    for (int i = 0; i < n; i++)
        free(topics[i]);
    free(topics);
    atomic_store(&m->connected, 1);
    if (m->hooks.connected != NULL)
        m->hooks.connected(m->hooks.user, m->connects > 1);
}

static void
on_disconnect(struct mosquitto *mosq, void *ud, int rc)
{
    ts_feed_mqtt *m = ud;
    (void)mosq;
    int was = atomic_exchange(&m->connected, 0);
    if (was && rc != 0 && !atomic_load(&m->stop))
        fail(m, TS_FEED_ERR_MQTT, "connection to %s:%d lost", m->cfg->mqtt.host, m->cfg->mqtt.port);
}

static void
on_message(struct mosquitto *mosq, void *ud, const struct mosquitto_message *msg)
{
    ts_feed_mqtt *m = ud;
    (void)mosq;
    if (msg->payloadlen < 0 || (size_t)msg->payloadlen > m->cfg->max_message_bytes) {
        fail(m, TS_FEED_ERR_TOO_LARGE, "message of %d bytes on %s (limit %zu)", msg->payloadlen,
             msg->topic, m->cfg->max_message_bytes);
        return;
    }
    if (m->hooks.message != NULL)
        m->hooks.message(m->hooks.user, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

/* Sleep up to s seconds, waking early on stop. */
static void
nap(ts_feed_mqtt *m, double s)
{
    uint64_t end = ts_mono_ns() + (uint64_t)(s * 1e9);
    while (!atomic_load(&m->stop)) {
        uint64_t now = ts_mono_ns();
        if (now >= end)
            return;
        uint64_t left = end - now;
        struct timespec ts = {0, (long)(left < 50000000u ? left : 50000000u)};
        nanosleep(&ts, NULL);
    }
}

static void *
mqtt_main(void *ud)
{
    ts_feed_mqtt *m = ud;
    const ts_feed_mqtt_config *mc = &m->cfg->mqtt;
    double backoff = m->cfg->backoff_min_s;
    int have_socket = 0, first = 1;
    while (!atomic_load(&m->stop)) {
        if (!have_socket) {
            int rc = first ? mosquitto_connect_async(m->mosq, mc->host, mc->port, mc->keepalive_s)
                           : mosquitto_reconnect_async(m->mosq);
            if (rc != MOSQ_ERR_SUCCESS) {
                int e = errno;
                char eb[128] = "";
                if (rc == MOSQ_ERR_ERRNO && strerror_r(e, eb, sizeof eb) != 0)
                    eb[0] = '\0';
                fail(m, TS_FEED_ERR_MQTT, "cannot connect to %s:%d: %s", mc->host, mc->port,
                     rc == MOSQ_ERR_ERRNO ? eb : mosquitto_strerror(rc));
                if (rc == MOSQ_ERR_INVAL && first)
                    break; /* bad parameters: retrying cannot help */
                first = 0;
                nap(m, backoff);
                backoff = backoff * 2 < m->cfg->backoff_max_s ? backoff * 2 : m->cfg->backoff_max_s;
                continue;
            }
            first = 0;
            have_socket = 1;
        }
        int rc = mosquitto_loop(m->mosq, 100, 1);
        if (atomic_load(&m->connected))
            backoff = m->cfg->backoff_min_s;
        if (rc == MOSQ_ERR_SUCCESS && !m->refused)
            continue;
        if (atomic_exchange(&m->connected, 0))
            fail(m, TS_FEED_ERR_MQTT, "connection to %s:%d lost: %s", mc->host, mc->port,
                 mosquitto_strerror(rc));
        else if (rc != MOSQ_ERR_SUCCESS && !m->refused)
            fail(m, TS_FEED_ERR_MQTT, "cannot connect to %s:%d: %s", mc->host, mc->port,
                 mosquitto_strerror(rc));
        m->refused = 0;
        mosquitto_disconnect(m->mosq);
        have_socket = 0;
        nap(m, backoff);
        backoff = backoff * 2 < m->cfg->backoff_max_s ? backoff * 2 : m->cfg->backoff_max_s;
    }
    atomic_store(&m->connected, 0);
    mosquitto_disconnect(m->mosq);
    return NULL;
}

ts_status
ts_feed_mqtt_start(const ts_feed_config *cfg, const ts_feed_mqtt_hooks *hooks, ts_feed_mqtt **out,
                   ts_err *err)
{
    ts_feed_global_init();
    const ts_feed_mqtt_config *mc = &cfg->mqtt;
    ts_feed_mqtt *m = calloc(1, sizeof *m);
    if (m == NULL)
        return TS_FAIL(err, TS_ENOMEM, "feed %s: MQTT client", cfg->name);
    m->cfg = cfg;
    m->hooks = *hooks;
    atomic_init(&m->stop, 0);
    atomic_init(&m->connected, 0);
    char cid[128];
    if (mc->client_id != NULL && mc->client_id[0] != '\0') {
        snprintf(cid, sizeof cid, "%s", mc->client_id);
    } else {
        /* unique per client: the host (a container's name differs where every pid is 1),
         * the process and this client (a reload's new client must not take the old one's
         * session from the broker, which would disconnect it) */
        static atomic_uint clients;
        char host[64] = "";
        if (gethostname(host, sizeof host) != 0)
            host[0] = '\0';
        host[sizeof host - 1] = '\0';
        snprintf(cid, sizeof cid, "tilesrv-%.40s-%.32s-%ld-%u", cfg->name, host,
                 (long)getpid(), atomic_fetch_add(&clients, 1) + 1);
    }
    m->mosq = mosquitto_new(cid, true, m);
    if (m->mosq == NULL) {
        free(m);
        return TS_FAIL(err, TS_ENOMEM, "feed %s: MQTT client", cfg->name);
    }
    mosquitto_threaded_set(m->mosq, true);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    int rc = MOSQ_ERR_SUCCESS;
    if (mc->username != NULL && mc->username[0] != '\0')
        rc = mosquitto_username_pw_set(m->mosq, mc->username, mc->password);
    if (rc == MOSQ_ERR_SUCCESS && mc->tls)
        rc = mosquitto_tls_set(m->mosq, mc->ca_file,
                               mc->ca_file != NULL && mc->ca_file[0] ? NULL : "/etc/ssl/certs",
                               NULL, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(m->mosq);
        free(m);
        return TS_FAIL(err, TS_ECONFIG, "feed %s: MQTT options: %s", cfg->name,
                       mosquitto_strerror(rc));
    }
    if (pthread_create(&m->thread, NULL, mqtt_main, m) != 0) {
        mosquitto_destroy(m->mosq);
        free(m);
        return TS_FAIL(err, TS_ENOMEM, "feed %s: MQTT thread", cfg->name);
    }
    m->started = 1;
    *out = m;
    return TS_OK;
}

void
ts_feed_mqtt_subscribe(ts_feed_mqtt *m, const char *const *topics, int n)
{
    if (m == NULL || n <= 0 || !atomic_load(&m->connected))
        return;
    subscribe_list(m, (char *const *)topics, n);
}

int
ts_feed_mqtt_connected(const ts_feed_mqtt *m)
{
    return m != NULL && atomic_load(&((ts_feed_mqtt *)m)->connected);
}

void
ts_feed_mqtt_stop(ts_feed_mqtt *m)
{
    if (m == NULL)
        return;
    atomic_store(&m->stop, 1);
    if (m->started)
        pthread_join(m->thread, NULL);
    mosquitto_destroy(m->mosq);
    free(m);
}
