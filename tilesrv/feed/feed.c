/* feed/feed.c — one running feed: configuration (defaults, checks, deep copy), the
 * threads (a control thread for HTTP loads, polls, the demo clock, staleness and
 * publication; libmosquitto's messages on the MQTT thread), ingestion of documents into
 * the sensor store, publication of snapshots with the change callback, error counting
 * with rate-limited logging, and the counters /metrics reads. */
#include "feed/feed_int.h"
#include "util/redact.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

#define LOG_EVERY_NS (10ull * 1000000000ull) /* one log line per error kind per 10 s */

struct ts_feed {
    ts_feed_config cfg; /* deep copy; strings in mem */
    void **mem;
    size_t nmem, memcap;
    ts_feed_hooks hooks;
    pthread_mutex_t lock;      /* store, index, stats, flags below */
    pthread_cond_t wake;       /* the control thread waits here (monotonic clock) */
    pthread_mutex_t pub_lock;  /* one publish (and its on_change) at a time */
    pthread_mutex_t snap_lock; /* guards snap */
    ts_feed_snapshot *snap;    /* current; the feed's reference */
    ts_sensor_store *store;
    ts_sta_index *index;    /* sensorthings */
    ts_feed_table *devices; /* lorawan */
    ts_demo *demo;
    ts_feed_mqtt *mqtt;
    pthread_t thread;
    int started, joined;
    atomic_int stop;
    int reconcile; /* a reconciliation was asked for (MQTT reconnect) */
    int woken;     /* the control thread was signalled for them already */
    uint64_t last_pub_ns;
    ts_feed_stats st;
    uint64_t log_ns[TS_FEED_ERR__COUNT];
    uint32_t log_skipped[TS_FEED_ERR__COUNT];
    char etag[256], last_modified[64]; /* geojson conditional GET, control thread only */
    char topic_prefix[32];             /* sensorthings: "v1.1" */
};

/* ---- small helpers ------------------------------------------------------------------ */

const char *
ts_feed_kind_name(ts_feed_kind k)
{
    switch (k) {
    case TS_FEED_SENSORTHINGS:
        return "sensorthings";
    case TS_FEED_LORAWAN:
        return "lorawan";
    case TS_FEED_GEOJSON:
        return "geojson";
    case TS_FEED_DEMO:
        return "demo";
    }
    return "unknown";
}

int
ts_feed_kind_parse(const char *s, ts_feed_kind *out)
{
    for (int k = TS_FEED_SENSORTHINGS; k <= TS_FEED_DEMO; k++) {
        if (s != NULL && strcmp(s, ts_feed_kind_name((ts_feed_kind)k)) == 0) {
            *out = (ts_feed_kind)k;
            return 0;
        }
    }
    return -1;
}

const char *
ts_feed_error_name(ts_feed_error e)
{
    static const char *const names[TS_FEED_ERR__COUNT] = {
        "parse", "type", "range", "unknown", "too_large", "http", "network", "timeout", "mqtt"};
    return (int)e >= 0 && e < TS_FEED_ERR__COUNT ? names[e] : "unknown";
}

static int64_t
wall_ms(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
now_ms(const ts_feed *f)
{
    return f->hooks.clock(f->hooks.clock_user);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mosquitto_lib_init();
}

void
ts_feed_global_init(void)
{
    pthread_once(&global_once, global_init);
}

/* ---- configuration ------------------------------------------------------------------ */

static const ts_feed_map lorawan_states[] = {{"true", "occupied"}, {"false", "free"}};
static const char *const air_fields[] = {"no2", "pm10", "o3"};

void
ts_feed_config_init(ts_feed_config *c, ts_feed_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->page_size = 100;
    c->max_pages = 1000;
    c->poll_s = kind == TS_FEED_SENSORTHINGS ? 300 : kind == TS_FEED_GEOJSON ? 60 : 0;
    c->timeout_s = 30;
    c->backoff_min_s = 1;
    c->backoff_max_s = 60;
    c->max_document_bytes = 16u << 20;
    c->max_message_bytes = 256u << 10;
    c->stale_after_s = kind == TS_FEED_DEMO ? 300 : 3600;
    c->stale_state = "stale";
    c->stale_basis = TS_FEED_STALE_OBSERVED;
    c->publish_interval_ms = 25;
    c->mqtt.qos = 1;
    c->mqtt.keepalive_s = 30;
    if (kind == TS_FEED_LORAWAN) {
        c->map.states = lorawan_states;
        c->map.nstates = 2;
    }
    c->demo.simulate = TS_DEMO_AIR;
    c->demo.bays.layer = "parking_bays";
    c->demo.bays.id_field = "bay_id";
    c->demo.air_speed = 360;
    c->demo.parking_speed = 30;
    c->demo.seed = 4711;
    c->demo.dead_share = 0.02;
}

static int
http_url(const char *u)
{
    return u != NULL && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           strlen(u) < 2000;
}

static int
good_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

ts_status
ts_feed_config_check(const ts_feed_config *c, ts_err *err)
{
    const char *nm = c->name ? c->name : "";
#define BAD(...) return TS_FAIL(err, TS_ECONFIG, __VA_ARGS__)
    if (!good_name(c->name, 63))
        BAD("feed name '%s' must be 1 to 63 characters of A-Z a-z 0-9 _ . -", nm);
    if ((int)c->kind < TS_FEED_SENSORTHINGS || c->kind > TS_FEED_DEMO)
        BAD("feed '%s': unknown kind", nm);
    if ((c->kind == TS_FEED_SENSORTHINGS || c->kind == TS_FEED_GEOJSON) && !http_url(c->url))
        BAD("feed '%s': url must be an http:// or https:// URL", nm);
    if (c->kind == TS_FEED_LORAWAN) {
        if (c->mqtt.host == NULL || c->mqtt.host[0] == '\0')
            BAD("feed '%s': a lorawan feed needs mqtt.host", nm);
        if (c->mqtt.ntopics <= 0)
            BAD("feed '%s': a lorawan feed needs mqtt.topics (e.g. \"v3/+/devices/+/up\")", nm);
        if (c->lorawan.devices.path == NULL || c->lorawan.devices.path[0] == '\0')
            BAD("feed '%s': a lorawan feed needs devices.path (CSV or GeoPackage)", nm);
    }
    if (c->kind == TS_FEED_DEMO) {
        if (c->demo.simulate == TS_DEMO_AIR && (c->demo.air_csv == NULL || !c->demo.air_csv[0]))
            BAD("feed '%s': demo air needs air_csv", nm);
        if (c->demo.simulate == TS_DEMO_PARKING &&
            (c->demo.bays.path == NULL || !c->demo.bays.path[0]))
            BAD("feed '%s': demo parking needs bays.path", nm);
        if (!(c->demo.air_speed > 0 && c->demo.air_speed <= 1e6) ||
            !(c->demo.parking_speed > 0 && c->demo.parking_speed <= 1e6))
            BAD("feed '%s': demo speeds must be in (0, 1e6]", nm);
        if (!(c->demo.dead_share >= 0 && c->demo.dead_share <= 1))
            BAD("feed '%s': demo dead_share must be in [0, 1]", nm);
    }
    if (c->mqtt.host != NULL && c->mqtt.host[0] != '\0') {
        if (c->mqtt.port < 0 || c->mqtt.port > 65535)
            BAD("feed '%s': mqtt.port must be 1..65535", nm);
        if (c->mqtt.qos < 0 || c->mqtt.qos > 2)
            BAD("feed '%s': mqtt.qos must be 0, 1 or 2", nm);
        if (c->mqtt.keepalive_s < 0 || (c->mqtt.keepalive_s > 0 && c->mqtt.keepalive_s < 5) ||
            c->mqtt.keepalive_s > 3600)
            BAD("feed '%s': mqtt.keepalive must be 5..3600 s", nm);
        for (int i = 0; i < c->mqtt.ntopics; i++)
            if (c->mqtt.topics[i] == NULL || c->mqtt.topics[i][0] == '\0' ||
                strlen(c->mqtt.topics[i]) > 1024)
                BAD("feed '%s': mqtt.topics[%d] is empty or too long", nm, i);
        if (c->mqtt.password != NULL && c->mqtt.username == NULL)
            BAD("feed '%s': mqtt.password without mqtt.username", nm);
        if (c->kind == TS_FEED_GEOJSON || c->kind == TS_FEED_DEMO)
            BAD("feed '%s': a %s feed takes no mqtt section", nm, ts_feed_kind_name(c->kind));
    }
    if (!(c->poll_s >= 0 && c->poll_s <= 86400 * 7))
        BAD("feed '%s': poll must be 0..604800 s", nm);
    if (c->kind == TS_FEED_GEOJSON && c->poll_s > 0 && c->poll_s < 0.1)
        BAD("feed '%s': poll below 0.1 s", nm);
    if (!(c->timeout_s > 0 && c->timeout_s <= 600))
        BAD("feed '%s': timeout must be in (0, 600] s", nm);
    if (!(c->backoff_min_s > 0 && c->backoff_max_s >= c->backoff_min_s &&
          c->backoff_max_s <= 86400))
        BAD("feed '%s': need 0 < backoff_min <= backoff_max <= 86400 s", nm);
    if (!(c->stale_after_s >= 0 && c->stale_after_s <= 86400 * 365))
        BAD("feed '%s': stale_after must be 0..31536000 s", nm);
    if (c->publish_interval_ms < 1 || c->publish_interval_ms > 60000)
        BAD("feed '%s': publish_interval must be 1..60000 ms", nm);
    if (c->page_size < 1 || c->page_size > 10000 || c->max_pages < 1 || c->max_pages > 1000000)
        BAD("feed '%s': page_size must be 1..10000 and max_pages 1..1000000", nm);
    if (c->max_document_bytes < 1024 || c->max_message_bytes < 64 ||
        c->max_document_bytes > ((size_t)1 << 32) || c->max_message_bytes > ((size_t)256 << 20))
        BAD("feed '%s': max_document_bytes must be 1 KiB..4 GiB, max_message_bytes 64 B..256 MiB",
            nm);
    if (c->stale_state != NULL && strlen(c->stale_state) >= TS_FEED_ID_MAX)
        BAD("feed '%s': stale_state too long", nm);
    for (int i = 0; i < c->map.nvalues; i++)
        if (c->map.values[i].match == NULL || !good_name(c->map.values[i].to, 63))
            BAD("feed '%s': values[%d] needs a match and a field name of [A-Za-z0-9_.-]", nm, i);
    for (int i = 0; i < c->map.nstates; i++)
        if (c->map.states[i].match == NULL || c->map.states[i].to == NULL ||
            c->map.states[i].to[0] == '\0' || strlen(c->map.states[i].to) >= TS_FEED_ID_MAX)
            BAD("feed '%s': states[%d] needs a match and a non-empty state", nm, i);
    for (int i = 0; i < c->map.nfields; i++)
        if (!good_name(c->map.fields[i], 63))
            BAD("feed '%s': fields[%d] is not a field name", nm, i);
    for (int i = 0; i < c->map.nvalue_paths; i++)
        if (c->map.value_paths[i] == NULL || c->map.value_paths[i][0] == '\0')
            BAD("feed '%s': value_paths[%d] is empty", nm, i);
    for (int i = 0; i < c->nhttp_headers; i++)
        if (c->http_headers[i] == NULL || strchr(c->http_headers[i], ':') == NULL ||
            strpbrk(c->http_headers[i], "\r\n") != NULL)
            BAD("feed '%s': http_headers[%d] must be one 'Name: value' line", nm, i);
#undef BAD
    return TS_OK;
}

static void *
keep(ts_feed *f, void *p)
{
    if (p == NULL)
        return NULL;
    if (f->nmem == f->memcap) {
        size_t cap = f->memcap ? f->memcap * 2 : 32;
        void **nm = realloc(f->mem, cap * sizeof *nm);
        if (nm == NULL) {
            free(p);
            return NULL;
        }
        f->mem = nm;
        f->memcap = cap;
    }
    f->mem[f->nmem++] = p;
    return p;
}

/* Copy *s into f's memory; 0, or -1 out of memory. NULL stays NULL. */
static int
dup_str(ts_feed *f, const char **s)
{
    if (*s == NULL)
        return 0;
    char *c = keep(f, strdup(*s));
    if (c == NULL)
        return -1;
    *s = c;
    return 0;
}

static int
dup_list(ts_feed *f, const char *const **list, int n)
{
    if (n <= 0 || *list == NULL)
        return 0;
    const char **c = keep(f, calloc((size_t)n, sizeof *c));
    if (c == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        c[i] = (*list)[i];
        if (dup_str(f, &c[i]) != 0)
            return -1;
    }
    *list = c;
    return 0;
}

static int
dup_map(ts_feed *f, const ts_feed_map **map, int n)
{
    if (n <= 0 || *map == NULL)
        return 0;
    ts_feed_map *c = keep(f, calloc((size_t)n, sizeof *c));
    if (c == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        c[i] = (*map)[i];
        if (dup_str(f, &c[i].match) != 0 || dup_str(f, &c[i].to) != 0)
            return -1;
    }
    *map = c;
    return 0;
}

static int
dup_table(ts_feed *f, ts_feed_table_config *t)
{
    return dup_str(f, &t->path) || dup_str(f, &t->layer) || dup_str(f, &t->id_field) ||
           dup_str(f, &t->sensor_field) || dup_str(f, &t->label_field);
}

static int
copy_config(ts_feed *f, const ts_feed_config *src)
{
    ts_feed_config *c = &f->cfg;
    *c = *src;
    ts_feed_mqtt_config *m = &c->mqtt;
    ts_feed_map_config *mp = &c->map;
    if (m->port == 0)
        m->port = m->tls ? 8883 : 1883;
    if (m->keepalive_s == 0)
        m->keepalive_s = 30;
    if (c->kind == TS_FEED_DEMO && c->demo.simulate == TS_DEMO_AIR && mp->nfields == 0) {
        mp->fields = air_fields;
        mp->nfields = 3;
    }
    return dup_str(f, &c->name) || dup_str(f, &c->url) || dup_str(f, &c->filter) ||
           dup_str(f, &c->query) || dup_list(f, &c->http_headers, c->nhttp_headers) ||
           dup_str(f, &c->stale_state) || dup_str(f, &m->host) ||
           dup_list(f, &m->topics, m->ntopics) || dup_str(f, &m->username) ||
           dup_str(f, &m->password) || dup_str(f, &m->ca_file) || dup_str(f, &m->client_id) ||
           dup_str(f, &mp->id_path) || dup_str(f, &mp->label_path) ||
           dup_str(f, &mp->value_name_path) || dup_map(f, &mp->values, mp->nvalues) ||
           dup_map(f, &mp->states, mp->nstates) || dup_list(f, &mp->fields, mp->nfields) ||
           dup_str(f, &mp->state_path) || dup_str(f, &mp->time_path) ||
           dup_list(f, &mp->value_paths, mp->nvalue_paths) || dup_table(f, &c->lorawan.devices) ||
           dup_str(f, &c->demo.air_csv) || dup_table(f, &c->demo.bays);
}

/* ---- errors ------------------------------------------------------------------------- */

/* Count errors (counts per kind) and log msg, at most once per kind per LOG_EVERY_NS. */
static void
note_errors(ts_feed *f, const uint32_t *counts, const char *msg)
{
    uint64_t now = ts_mono_ns();
    int64_t wall = now_ms(f);
    int log_kind = -1;
    uint32_t skipped = 0;
    char clean[1024]; /* /health shows it: no password of a URL in it */
    snprintf(clean, sizeof clean, "%s", msg);
    ts_redact_secrets(clean, sizeof clean);
    msg = clean;
    pthread_mutex_lock(&f->lock);
    size_t len = strlen(msg), cap = sizeof f->st.last_error;
    if (len < cap) { /* else the start (what failed, often a long URL) and the end (why) */
        memcpy(f->st.last_error, msg, len + 1);
    } else {
        size_t head = cap / 3, tail = cap - head - 4; /* "..." and the terminator */
        while (head > 0 && ((unsigned char)msg[head] & 0xC0) == 0x80)
            head--; /* cut between UTF-8 characters */
        while (tail > 0 && ((unsigned char)msg[len - tail] & 0xC0) == 0x80)
            tail--;
        memcpy(f->st.last_error, msg, head);
        memcpy(f->st.last_error + head, "...", 3);
        memcpy(f->st.last_error + head + 3, msg + len - tail, tail + 1);
    }
    f->st.last_error_ms = wall;
    for (int k = 0; k < TS_FEED_ERR__COUNT; k++) {
        if (counts[k] == 0)
            continue;
        f->st.errors[k] += counts[k];
        if (log_kind < 0) {
            if (f->log_ns[k] == 0 || now - f->log_ns[k] >= LOG_EVERY_NS) {
                log_kind = k;
                skipped = f->log_skipped[k];
                f->log_skipped[k] = 0;
                f->log_ns[k] = now;
            } else {
                f->log_skipped[k] += counts[k];
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
    if (log_kind >= 0) {
        if (skipped > 0)
            ts_warn("feed %s: %s error: %s (%u more since the last report)", f->cfg.name,
                    ts_feed_error_name((ts_feed_error)log_kind), msg, skipped);
        else
            ts_warn("feed %s: %s error: %s", f->cfg.name,
                    ts_feed_error_name((ts_feed_error)log_kind), msg);
    }
}

static void
note_error(ts_feed *f, ts_feed_error e, const char *msg)
{
    uint32_t counts[TS_FEED_ERR__COUNT] = {0};
    counts[e] = 1;
    note_errors(f, counts, msg);
}

/* ---- applying and publishing ----------------------------------------------------------- */

static int
auto_topics(const ts_feed *f)
{
    return f->cfg.kind == TS_FEED_SENSORTHINGS && f->cfg.mqtt.host != NULL &&
           f->cfg.mqtt.ntopics == 0;
}

static char *
ds_topic(const ts_feed *f, const char *ds)
{
    char buf[TS_FEED_ID_MAX + 64];
    int numeric = ds[0] != '\0' && strspn(ds, "0123456789") == strlen(ds);
    snprintf(buf, sizeof buf,
             numeric ? "%s/Datastreams(%s)/Observations" : "%s/Datastreams('%s')/Observations",
             f->topic_prefix, ds);
    return strdup(buf);
}

/* Apply a parsed batch: mark before (start of a complete listing), sweep after (its end).
 * document: it comes from a load or poll (a listing of every sensor's latest), whose
 * observations seen before are expected, not counted as ignored (the counters are for
 * messages arriving late or twice). */
static void
apply_batch(ts_feed *f, const ts_obs_batch *b, int64_t now, int mark, int sweep, int document)
{
    char **topics = NULL;
    int ntopics = 0;
    pthread_mutex_lock(&f->lock);
    ts_feed_mqtt *mqtt = f->mqtt;
    if (mark)
        ts_sensor_store_mark(f->store);
    int nomem = 0;
    for (size_t i = 0; i < b->n; i++) {
        switch (ts_sensor_store_apply(f->store, &b->obs[i], now)) {
        case TS_APPLY_ACCEPTED:
            f->st.observations++;
            f->st.last_update_ms = now;
            break;
        case TS_APPLY_OLD:
            f->st.ignored_old += !document;
            break;
        case TS_APPLY_DUPLICATE:
            f->st.ignored_duplicate += !document;
            break;
        case TS_APPLY_ENOMEM:
            nomem++;
            break;
        default:
            break;
        }
    }
    if (b->nbinds > 0 && f->index != NULL) {
        int want = auto_topics(f);
        if (want)
            topics = calloc(b->nbinds, sizeof *topics);
        for (size_t i = 0; i < b->nbinds; i++) {
            const ts_sta_binding *x = &b->binds[i];
            int r = ts_sta_index_put(f->index, x->ds, x->sensor, x->name);
            if (r < 0)
                nomem++;
            if (r == 1 && topics != NULL && (topics[ntopics] = ds_topic(f, x->ds)) != NULL)
                ntopics++;
        }
    }
    if (sweep && !nomem)
        ts_sensor_store_sweep(f->store);
    pthread_mutex_unlock(&f->lock);
    if (nomem)
        ts_error("feed %s: out of memory applying %d observations", f->cfg.name, nomem);
    if (ntopics > 0)
        ts_feed_mqtt_subscribe(mqtt, (const char *const *)topics, ntopics);
    for (int i = 0; i < ntopics; i++)
        free(topics[i]);
    free(topics);
}

static size_t
publish(ts_feed *f)
{
    ts_feed_change *ch = NULL;
    size_t n = 0;
    ts_feed_snapshot *snap = NULL;
    pthread_mutex_lock(&f->pub_lock);
    pthread_mutex_lock(&f->lock);
    int64_t now = now_ms(f);
    ts_sensor_store_check_stale(f->store, now);
    ts_status rc = ts_sensor_store_publish(f->store, now, &ch, &n);
    if (rc == TS_OK && n > 0) {
        snap = ts_feed_snapshot_ref(ts_sensor_store_current(f->store));
        f->st.snapshots++;
        f->st.version = snap->version;
        f->st.sensors = snap->n;
        f->st.stale = snap->nstale;
    }
    f->woken = 0;
    f->last_pub_ns = ts_mono_ns();
    pthread_mutex_unlock(&f->lock);
    if (rc != TS_OK)
        ts_error("feed %s: out of memory publishing a snapshot (changes kept)", f->cfg.name);
    if (snap != NULL) {
        pthread_mutex_lock(&f->snap_lock);
        ts_feed_snapshot *old = f->snap;
        f->snap = ts_feed_snapshot_ref(snap);
        pthread_mutex_unlock(&f->snap_lock);
        ts_feed_snapshot_unref(old);
        if (f->hooks.on_change != NULL)
            f->hooks.on_change(f->hooks.change_user, f, snap, ch, n);
        ts_feed_snapshot_unref(snap);
    }
    free(ch);
    pthread_mutex_unlock(&f->pub_lock);
    return n;
}

/* Publish now when the interval has passed, else leave it to the control thread. */
static void
maybe_publish(ts_feed *f)
{
    pthread_mutex_lock(&f->lock);
    int pending = ts_sensor_store_pending(f->store) > 0;
    int due = ts_mono_ns() - f->last_pub_ns >= (uint64_t)f->cfg.publish_interval_ms * 1000000u;
    if (pending && !due && !f->woken) { /* one wake-up per publication, not per message */
        f->woken = 1;
        pthread_cond_signal(&f->wake);
    }
    pthread_mutex_unlock(&f->lock);
    if (pending && due)
        publish(f);
}

size_t
ts_feed_run_due(ts_feed *f)
{
    return publish(f);
}

static int
is_document(const ts_feed *f, const char *topic)
{
    return f->cfg.kind == TS_FEED_GEOJSON || (f->cfg.kind == TS_FEED_SENSORTHINGS && !topic);
}

/* Parse and apply one document or message. Errors are counted and logged. */
static ts_status
ingest(ts_feed *f, const char *topic, const void *p, size_t len, int mark, int sweep,
       ts_obs_batch *b, ts_err *err)
{
    size_t limit = is_document(f, topic) ? f->cfg.max_document_bytes : f->cfg.max_message_bytes;
    char msg[1024];
    pthread_mutex_lock(&f->lock);
    f->st.messages++;
    pthread_mutex_unlock(&f->lock);
    if (len > limit) {
        ts_status rc = TS_FAIL(err, TS_ELIMIT, "%s of %zu bytes over the limit of %zu",
                               topic ? "message" : "document", len, limit);
        snprintf(msg, sizeof msg, "%s%s%s", topic ? topic : "", topic ? ": " : "",
                 err ? err->msg : "too large");
        note_error(f, TS_FEED_ERR_TOO_LARGE, msg);
        return rc;
    }
    ts_err local;
    if (err == NULL)
        err = &local;
    ts_err_clear(err);
    ts_obs_batch_reset(b);
    int64_t now = now_ms(f);
    ts_status rc;
    switch (f->cfg.kind) {
    case TS_FEED_SENSORTHINGS:
        if (topic != NULL) {
            pthread_mutex_lock(&f->lock);
            rc = ts_sta_parse_observation(&f->cfg, f->index, topic, p, len, b, err);
            pthread_mutex_unlock(&f->lock);
        } else {
            rc = ts_sta_parse_things(&f->cfg, p, len, b, err);
        }
        break;
    case TS_FEED_LORAWAN:
        rc = ts_lorawan_parse(&f->cfg, f->devices, p, len, b, err);
        break;
    case TS_FEED_GEOJSON:
        rc = ts_geojson_parse(&f->cfg, now, p, len, b, err);
        break;
    default:
        rc = TS_FAIL(err, TS_EINVAL, "a %s feed takes no input", ts_feed_kind_name(f->cfg.kind));
        break;
    }
    if (rc == TS_OK)
        ts_obs_batch_refuse_future(b, now);
    int any = 0;
    for (int k = 0; k < TS_FEED_ERR__COUNT; k++)
        any |= b->errors[k] != 0;
    if (rc != TS_OK) {
        snprintf(msg, sizeof msg, "%.200s%s%s", topic ? topic : "", topic ? ": " : "", err->msg);
        if (any)
            note_errors(f, b->errors, msg);
        return rc;
    }
    if (any) {
        snprintf(msg, sizeof msg, "%s%s%s", topic ? topic : "", topic ? ": " : "", b->first_error);
        note_errors(f, b->errors, msg);
    }
    apply_batch(f, b, now, mark, sweep, topic == NULL);
    return TS_OK;
}

ts_status
ts_feed_ingest(ts_feed *f, const char *topic, const void *payload, size_t len, ts_err *err)
{
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    int listing = f->cfg.kind == TS_FEED_GEOJSON;
    ts_status rc = ingest(f, topic, payload, len, listing, listing, &b, err);
    ts_obs_batch_fini(&b);
    if (rc == TS_OK)
        maybe_publish(f);
    return rc;
}

/* ---- HTTP loads --------------------------------------------------------------------- */

static void
count_request(ts_feed *f)
{
    pthread_mutex_lock(&f->lock);
    f->st.http_requests++;
    pthread_mutex_unlock(&f->lock);
}

/* The whole Things listing, page by page. 1 when complete. */
static int
sta_load(ts_feed *f, ts_feed_http *h)
{
    char *url = ts_sta_first_url(&f->cfg);
    if (url == NULL) {
        note_error(f, TS_FEED_ERR_NETWORK, "cannot build the Things URL");
        return 0;
    }
    ts_buf body;
    ts_buf_init(&body, f->cfg.max_document_bytes);
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    int pages = 0, ok = 0;
    while (url != NULL && !atomic_load(&f->stop)) {
        ts_feed_http_result res;
        ts_err err;
        ts_err_clear(&err);
        ts_status rc = ts_feed_http_get(h, url, NULL, NULL, &body, &res, &err);
        count_request(f);
        if (rc != TS_OK) {
            if (!atomic_load(&f->stop))
                note_error(f, res.fail, err.msg);
            break;
        }
        rc = ingest(f, NULL, body.data, body.len, pages == 0, 0, &b, &err);
        ts_buf_fini(&body);
        if (rc != TS_OK)
            break;
        char *next = NULL;
        if (b.next_link != NULL) {
            next = ts_sta_next_url(&f->cfg, b.next_link);
            if (next == NULL) {
                char msg[1024];
                snprintf(msg, sizeof msg, "refusing @iot.nextLink outside the service: %.200s",
                         b.next_link);
                note_error(f, TS_FEED_ERR_TYPE, msg);
                break;
            }
        }
        pages++;
        free(url);
        url = next;
        if (url == NULL) {
            pthread_mutex_lock(&f->lock);
            ts_sensor_store_sweep(f->store);
            f->st.loads++;
            f->st.last_load_ms = now_ms(f);
            pthread_mutex_unlock(&f->lock);
            ok = 1;
        } else if (pages >= f->cfg.max_pages) {
            ts_warn("feed %s: stopped after max_pages=%d pages", f->cfg.name, f->cfg.max_pages);
            break;
        }
        maybe_publish(f);
    }
    free(url);
    ts_buf_fini(&body);
    ts_obs_batch_fini(&b);
    return ok;
}

/* One conditional GET of the GeoJSON document. 1 = fine (also 304). */
static int
geojson_poll(ts_feed *f, ts_feed_http *h)
{
    ts_buf body;
    ts_buf_init(&body, f->cfg.max_document_bytes);
    ts_feed_http_result res;
    ts_err err;
    ts_err_clear(&err);
    ts_status rc = ts_feed_http_get(h, f->cfg.url, f->etag, f->last_modified, &body, &res, &err);
    count_request(f);
    if (rc != TS_OK) {
        if (!atomic_load(&f->stop))
            note_error(f, res.fail, err.msg);
        ts_buf_fini(&body);
        return 0;
    }
    if (res.status == 304) {
        pthread_mutex_lock(&f->lock);
        f->st.http_not_modified++;
        pthread_mutex_unlock(&f->lock);
        return 1;
    }
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    rc = ingest(f, NULL, body.data, body.len, 1, 1, &b, &err);
    ts_obs_batch_fini(&b);
    ts_buf_fini(&body);
    if (rc != TS_OK)
        return 0;
    snprintf(f->etag, sizeof f->etag, "%s", res.etag);
    snprintf(f->last_modified, sizeof f->last_modified, "%s", res.last_modified);
    pthread_mutex_lock(&f->lock);
    f->st.loads++;
    f->st.last_load_ms = now_ms(f);
    pthread_mutex_unlock(&f->lock);
    return 1;
}

/* ---- threads ------------------------------------------------------------------------ */

static void
wait_ns(ts_feed *f, uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + ns;
    ts.tv_sec = (time_t)(t / 1000000000u);
    ts.tv_nsec = (long)(t % 1000000000u);
    pthread_mutex_lock(&f->lock);
    if (!atomic_load(&f->stop) && !f->reconcile)
        pthread_cond_timedwait(&f->wake, &f->lock, &ts);
    pthread_mutex_unlock(&f->lock);
}

static void *
feed_main(void *ud)
{
    ts_feed *f = ud;
    ts_feed_http *h = NULL;
    ts_err err;
    ts_err_clear(&err);
    if (f->cfg.kind == TS_FEED_SENSORTHINGS || f->cfg.kind == TS_FEED_GEOJSON) {
        h = ts_feed_http_new(&f->cfg, &f->stop, &err);
        if (h == NULL) {
            ts_error("feed %s: %s", f->cfg.name, err.msg);
            return NULL;
        }
    }
    ts_obs_batch demo_batch;
    ts_obs_batch_init(&demo_batch);
    uint64_t next_load = 0, poll_ns = (uint64_t)(f->cfg.poll_s * 1e9);
    double backoff = f->cfg.backoff_min_s;
    int loaded_once = 0, fails = 0;
    while (!atomic_load(&f->stop)) {
        uint64_t now = ts_mono_ns();
        uint64_t wait = 1000000000u;
        if (h != NULL) {
            pthread_mutex_lock(&f->lock);
            int want = f->reconcile;
            f->reconcile = 0;
            pthread_mutex_unlock(&f->lock);
            if (want || (now >= next_load && (!loaded_once || poll_ns > 0))) {
                int ok = f->cfg.kind == TS_FEED_SENSORTHINGS ? sta_load(f, h) : geojson_poll(f, h);
                now = ts_mono_ns();
                if (ok) {
                    if (fails > 0)
                        ts_info("feed %s: %s again after %d failed attempt%s", f->cfg.name,
                                f->cfg.kind == TS_FEED_SENSORTHINGS ? "loaded" : "polled", fails,
                                fails == 1 ? "" : "s");
                    fails = 0;
                    loaded_once = 1;
                    pthread_mutex_lock(&f->lock);
                    f->st.failed_loads = 0;
                    pthread_mutex_unlock(&f->lock);
                    backoff = f->cfg.backoff_min_s;
                    next_load = poll_ns > 0 ? now + poll_ns : UINT64_MAX;
                } else if (!atomic_load(&f->stop)) {
                    fails++;
                    pthread_mutex_lock(&f->lock);
                    f->st.failed_loads = (uint32_t)fails;
                    pthread_mutex_unlock(&f->lock);
                    next_load = now + (uint64_t)(backoff * 1e9);
                    ts_info("feed %s: next attempt in %.1f s", f->cfg.name, backoff);
                    backoff =
                        backoff * 2 < f->cfg.backoff_max_s ? backoff * 2 : f->cfg.backoff_max_s;
                }
            }
            if (next_load != UINT64_MAX && next_load > now && next_load - now < wait)
                wait = next_load - now;
            else if (next_load <= now)
                wait = 1;
        }
        if (f->demo != NULL) {
            ts_obs_batch_reset(&demo_batch);
            int64_t t = now_ms(f);
            int64_t next = ts_demo_step(f->demo, t, &demo_batch);
            if (demo_batch.n > 0) {
                pthread_mutex_lock(&f->lock);
                f->st.messages++;
                pthread_mutex_unlock(&f->lock);
                apply_batch(f, &demo_batch, t, 0, 0, 0);
            }
            if ((uint64_t)next * 1000000u < wait)
                wait = (uint64_t)next * 1000000u;
        }
        /* publication: pending changes after the interval, staleness when due */
        pthread_mutex_lock(&f->lock);
        int pending = ts_sensor_store_pending(f->store) > 0;
        uint64_t since = ts_mono_ns() - f->last_pub_ns;
        int64_t stale_in = ts_sensor_store_next_stale(f->store);
        int64_t tnow = now_ms(f);
        pthread_mutex_unlock(&f->lock);
        uint64_t interval = (uint64_t)f->cfg.publish_interval_ms * 1000000u;
        if ((pending && since >= interval) || (stale_in != INT64_MAX && tnow >= stale_in)) {
            publish(f);
        } else {
            if (pending && interval - since < wait)
                wait = interval - since;
            if (stale_in != INT64_MAX && (uint64_t)(stale_in - tnow) * 1000000u < wait)
                wait = (uint64_t)(stale_in - tnow) * 1000000u;
            wait_ns(f, wait);
        }
    }
    ts_obs_batch_fini(&demo_batch);
    ts_feed_http_free(h);
    return NULL;
}

static void
mq_message(void *user, const char *topic, const void *payload, size_t len)
{
    ts_feed *f = user;
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_status rc = ingest(f, topic, payload, len, 0, 0, &b, NULL);
    ts_obs_batch_fini(&b);
    if (rc == TS_OK)
        maybe_publish(f);
}

static void
mq_connected(void *user, int reconnect)
{
    ts_feed *f = user;
    pthread_mutex_lock(&f->lock);
    f->st.mqtt_connects++;
    if (f->cfg.kind == TS_FEED_SENSORTHINGS) {
        f->reconcile = 1; /* catch up on what was published while we were away */
        pthread_cond_signal(&f->wake);
    }
    pthread_mutex_unlock(&f->lock);
    ts_info("feed %s: MQTT %sconnected to %s:%d", f->cfg.name, reconnect ? "re" : "",
            f->cfg.mqtt.host, f->cfg.mqtt.port);
}

static void
mq_failed(void *user, ts_feed_error e, const char *msg)
{
    note_error(user, e, msg);
}

static int
mq_topics(void *user, char ***out)
{
    ts_feed *f = user;
    *out = NULL;
    if (f->cfg.mqtt.ntopics > 0) {
        char **t = calloc((size_t)f->cfg.mqtt.ntopics, sizeof *t);
        if (t == NULL)
            return -1;
        for (int i = 0; i < f->cfg.mqtt.ntopics; i++) {
            if ((t[i] = strdup(f->cfg.mqtt.topics[i])) == NULL) {
                for (int j = 0; j < i; j++)
                    free(t[j]);
                free(t);
                return -1;
            }
        }
        *out = t;
        return f->cfg.mqtt.ntopics;
    }
    if (!auto_topics(f))
        return 0;
    pthread_mutex_lock(&f->lock);
    size_t n = ts_sta_index_count(f->index);
    char **t = calloc(n ? n : 1, sizeof *t);
    size_t k = 0;
    for (size_t i = 0; t != NULL && i < n; i++)
        if ((t[k] = ds_topic(f, ts_sta_index_at(f->index, i)->ds)) != NULL)
            k++;
    pthread_mutex_unlock(&f->lock);
    if (t == NULL)
        return -1;
    *out = t;
    return (int)k;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

ts_status
ts_feed_new(const ts_feed_config *cfg, const ts_feed_hooks *hooks, ts_feed **out, ts_err *err)
{
    TS_TRY(ts_feed_config_check(cfg, err));
    ts_feed_global_init();
    ts_feed *f = calloc(1, sizeof *f);
    if (f == NULL)
        return TS_FAIL(err, TS_ENOMEM, "feed %s", cfg->name);
    if (hooks != NULL)
        f->hooks = *hooks;
    if (f->hooks.clock == NULL)
        f->hooks.clock = wall_ms;
    atomic_init(&f->stop, 0);
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_init(&f->pub_lock, NULL);
    pthread_mutex_init(&f->snap_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    ts_status rc = TS_OK;
    if (copy_config(f, cfg) != 0) {
        rc = TS_FAIL(err, TS_ENOMEM, "feed %s: configuration", cfg->name);
        goto fail;
    }
    ts_sensor_store_opts so = {.feed = f->cfg.name,
                               .stale_after_ms = (int64_t)(f->cfg.stale_after_s * 1000.0),
                               .stale_state = f->cfg.stale_state,
                               .stale_basis = f->cfg.stale_basis,
                               .fields = f->cfg.map.fields,
                               .nfields = f->cfg.map.nfields};
    if ((f->store = ts_sensor_store_new(&so, err)) == NULL) {
        rc = TS_ENOMEM;
        goto fail;
    }
    f->snap = ts_feed_snapshot_ref(ts_sensor_store_current(f->store));
    if (f->cfg.kind == TS_FEED_SENSORTHINGS) {
        if ((f->index = ts_sta_index_new()) == NULL) {
            rc = TS_FAIL(err, TS_ENOMEM, "feed %s", cfg->name);
            goto fail;
        }
        /* MQTT topics are "<version>/Datastreams(<id>)/Observations" */
        const char *u = f->cfg.url;
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
            n--;
        size_t s = n;
        while (s > 0 && u[s - 1] != '/')
            s--;
        if (n - s > 1 && n - s < sizeof f->topic_prefix && u[s] == 'v')
            memcpy(f->topic_prefix, u + s, n - s);
        else
            memcpy(f->topic_prefix, "v1.1", 5);
    }
    if (f->cfg.kind == TS_FEED_LORAWAN) {
        if ((rc = ts_feed_table_load(&f->cfg.lorawan.devices, &f->devices, err)) != TS_OK)
            goto fail;
        /* every known bay is on the map from the start, state unknown until it reports */
        pthread_mutex_lock(&f->lock);
        int64_t now = now_ms(f);
        for (size_t i = 0; i < ts_feed_table_count(f->devices); i++) {
            const ts_feed_device *d = ts_feed_table_at(f->devices, i);
            ts_obs o = {.sensor = d->sensor,
                        .time_ms = TS_FEED_TIME_NONE,
                        .has_pos = 1,
                        .lon = d->lon,
                        .lat = d->lat,
                        .label = d->label};
            ts_sensor_store_apply(f->store, &o, now);
        }
        pthread_mutex_unlock(&f->lock);
    }
    *out = f;
    return TS_OK;
fail:
    ts_feed_free(f);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
ts_feed_carry_over(ts_feed *f, const ts_feed_snapshot *old)
{
    if (f == NULL || old == NULL || f->started || f->cfg.kind == TS_FEED_DEMO)
        return;
    int lorawan = f->cfg.kind == TS_FEED_LORAWAN;
    const char **known = NULL; /* lorawan: the sensor ids of the device table, sorted */
    size_t nknown = lorawan ? ts_feed_table_count(f->devices) : 0;
    if (lorawan) {
        if (nknown == 0 || (known = malloc(nknown * sizeof *known)) == NULL)
            return;
        for (size_t i = 0; i < nknown; i++)
            known[i] = ts_feed_table_at(f->devices, i)->sensor;
        qsort(known, nknown, sizeof *known, cmp_str);
    }
    pthread_mutex_lock(&f->lock);
    for (uint32_t i = 0; i < ts_feed_snapshot_count(old); i++) {
        const ts_sensor *x = ts_feed_snapshot_at(old, i);
        if (lorawan && bsearch(&x->id, known, nknown, sizeof *known, cmp_str) == NULL)
            continue; /* no longer in the device table */
        int64_t seen = x->seen_ms;
        ts_obs o = {.sensor = x->id, .kind = TS_OBS_NONE, .time_ms = TS_FEED_TIME_NONE};
        if (!lorawan) {
            o.has_pos = x->has_pos;
            o.lon = x->lon;
            o.lat = x->lat;
            o.label = x->label;
            ts_sensor_store_apply(f->store, &o, seen);
            o.has_pos = 0;
            o.label = NULL;
        }
        if (x->last_state != NULL) {
            o.kind = TS_OBS_STATE;
            o.state = x->last_state;
            o.time_ms = x->state_time_ms;
            ts_sensor_store_apply(f->store, &o, seen);
        }
        o.kind = TS_OBS_VALUE;
        o.state = NULL;
        for (uint32_t k = 0; k < x->nvalues; k++) {
            o.name = x->values[k].name;
            o.value = x->values[k].v;
            o.time_ms = x->values[k].time_ms;
            ts_sensor_store_apply(f->store, &o, seen);
        }
    }
    pthread_mutex_unlock(&f->lock);
    free(known);
}

ts_status
ts_feed_start(ts_feed *f, ts_err *err)
{
    if (f->started)
        return TS_FAIL(err, TS_EINVAL, "feed %s already started", f->cfg.name);
    if (f->cfg.kind == TS_FEED_DEMO && f->demo == NULL)
        TS_TRY(ts_demo_new(&f->cfg, &f->demo, err));
    if (f->cfg.mqtt.host != NULL && f->cfg.mqtt.host[0] != '\0') {
        ts_feed_mqtt_hooks mh = {.message = mq_message,
                                 .connected = mq_connected,
                                 .failed = mq_failed,
                                 .topics = mq_topics,
                                 .user = f};
        ts_feed_mqtt *m;
        TS_TRY(ts_feed_mqtt_start(&f->cfg, &mh, &m, err));
        pthread_mutex_lock(&f->lock);
        f->mqtt = m;
        pthread_mutex_unlock(&f->lock);
    }
    if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
        pthread_mutex_lock(&f->lock);
        ts_feed_mqtt *m = f->mqtt;
        f->mqtt = NULL;
        pthread_mutex_unlock(&f->lock);
        ts_feed_mqtt_stop(m);
        return TS_FAIL(err, TS_ENOMEM, "feed %s: thread", f->cfg.name);
    }
    f->started = 1;
    ts_info("feed %s (%s) started", f->cfg.name, ts_feed_kind_name(f->cfg.kind));
    return TS_OK;
}

void
ts_feed_stop(ts_feed *f)
{
    if (f == NULL || !f->started || f->joined)
        return;
    atomic_store(&f->stop, 1);
    pthread_mutex_lock(&f->lock);
    pthread_cond_broadcast(&f->wake);
    pthread_mutex_unlock(&f->lock);
    /* the control thread first: it may subscribe through the MQTT client */
    pthread_join(f->thread, NULL);
    pthread_mutex_lock(&f->lock);
    ts_feed_mqtt *m = f->mqtt;
    f->mqtt = NULL;
    pthread_mutex_unlock(&f->lock);
    ts_feed_mqtt_stop(m);
    f->joined = 1;
    ts_info("feed %s stopped", f->cfg.name);
}

void
ts_feed_free(ts_feed *f)
{
    if (f == NULL)
        return;
    ts_feed_stop(f);
    ts_feed_snapshot_unref(f->snap);
    ts_sensor_store_free(f->store);
    ts_sta_index_free(f->index);
    ts_feed_table_free(f->devices);
    ts_demo_free(f->demo);
    for (size_t i = 0; i < f->nmem; i++)
        free(f->mem[i]);
    free(f->mem);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    pthread_mutex_destroy(&f->pub_lock);
    pthread_mutex_destroy(&f->snap_lock);
    free(f);
}

const char *
ts_feed_name(const ts_feed *f)
{
    return f->cfg.name;
}

const ts_feed_config *
ts_feed_config_get(const ts_feed *f)
{
    return &f->cfg;
}

ts_feed_snapshot *
ts_feed_snapshot_get(ts_feed *f)
{
    pthread_mutex_lock(&f->snap_lock);
    ts_feed_snapshot *s = ts_feed_snapshot_ref(f->snap);
    pthread_mutex_unlock(&f->snap_lock);
    return s;
}

void
ts_feed_stats_get(ts_feed *f, ts_feed_stats *out)
{
    pthread_mutex_lock(&f->lock);
    *out = f->st;
    out->mqtt_connected = f->cfg.mqtt.host == NULL || f->cfg.mqtt.host[0] == '\0'
                              ? -1
                              : ts_feed_mqtt_connected(f->mqtt);
    int http = (f->cfg.kind == TS_FEED_SENSORTHINGS || f->cfg.kind == TS_FEED_GEOJSON) &&
               f->cfg.url != NULL && f->cfg.url[0] != '\0';
    out->fresh = http ? f->st.loads > 0 : out->mqtt_connected >= 0 ? out->mqtt_connected == 1 : 1;
    pthread_mutex_unlock(&f->lock);
}
