/* feed/feed.h — live sensor feeds: gateway clients that keep the latest state of every
 * sensor of one feed and publish it as immutable, refcounted snapshots.
 *
 * A ts_feed is one configured gateway: OGC SensorThings API 1.1 (HTTP load with paging and
 * periodic reconciliation, plus MQTT push), LoRaWAN uplinks over MQTT (The Things Stack v3,
 * ChirpStack v4), a GeoJSON FeatureCollection polled over HTTP (ETag / If-Modified-Since),
 * or the embedded demo gateway (a clearly labelled simulation that replays real UBA air
 * measurements and invents plausible parking-bay changes). Each feed runs on its own
 * thread(s). Observations are ordered per sensor and value by phenomenon time: older and
 * duplicate ones are ignored. Sensors without an update for stale_after become stale.
 *
 * Every change is published as a new snapshot (pointer swap; readers never wait for
 * writers beyond a pointer load and a refcount increment) and reported to the on_change
 * hook with the old and new position of each changed sensor, so the caller can invalidate
 * exactly the tiles around them. A snapshot becomes a feature store for any CRS through
 * ts_feed_snapshot_store(), so sensor overlays render through the normal source path.
 * Bad input (malformed JSON, wrong types, NaN/Inf, coordinates out of range, unknown
 * sensors, oversize payloads, HTTP errors, timeouts, broker loss) is counted by kind,
 * logged (rate-limited), and never changes the last good state. */
#ifndef TS_FEED_FEED_H
#define TS_FEED_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "source/source.h"
#include "util/buf.h"
#include "util/status.h"

/* ---- configuration ---------------------------------------------------------------- */

typedef enum {
    TS_FEED_SENSORTHINGS = 0, /* OGC SensorThings API 1.1 (FROST-Server): HTTP + MQTT push */
    TS_FEED_LORAWAN,          /* LoRaWAN uplinks over MQTT (TTS v3 / ChirpStack v4 JSON) */
    TS_FEED_GEOJSON,          /* GeoJSON FeatureCollection polled over HTTP */
    TS_FEED_DEMO              /* embedded simulated gateway for the no-setup demo */
} ts_feed_kind;

/* "sensorthings", "lorawan", "geojson", "demo"; never NULL. */
const char *ts_feed_kind_name(ts_feed_kind k);
/* Parse a kind name (case-sensitive). 0 and *out set, or -1. */
int ts_feed_kind_parse(const char *s, ts_feed_kind *out);

/* One mapping entry: a value found in the input (exact, case-sensitive match) and what it
 * becomes. Used for value names and for states. */
typedef struct ts_feed_map {
    const char *match;
    const char *to;
} ts_feed_map;

typedef enum {
    TS_FEED_PER_THING = 0,    /* STA: one sensor per Thing, one named value per Datastream */
    TS_FEED_PER_DATASTREAM    /* STA: one sensor per Datastream */
} ts_feed_sensor_per;

typedef enum {
    TS_FEED_STALE_OBSERVED = 0, /* age of the latest observation's phenomenon time (capped at
                                 * the time it was received, so a gateway clock running ahead
                                 * cannot keep a sensor fresh) */
    TS_FEED_STALE_RECEIVED      /* time since the latest accepted observation was received */
} ts_feed_stale_basis;

typedef enum { TS_LORAWAN_AUTO = 0, TS_LORAWAN_TTS, TS_LORAWAN_CHIRPSTACK } ts_lorawan_format;
typedef enum { TS_LORAWAN_DEV_EUI = 0, TS_LORAWAN_DEVICE_ID } ts_lorawan_key;
typedef enum {
    TS_LORAWAN_DECODER_NONE = 0, /* only the network server's decoded payload is used */
    TS_LORAWAN_DECODER_BOSCH_PLS /* without a decoded payload, decode the raw frame of the Bosch
                                  * Parking Lot Sensor: port 1 byte 0 bit 0 = occupied; port 2
                                  * the same plus byte 1 = temperature (°C, signed); port 3
                                  * byte 16 bit 0 = occupied. Gives fields "occupied" (0/1)
                                  * and "temperature". */
} ts_lorawan_decoder;

typedef enum {
    TS_DEMO_AIR = 0,  /* replay of the hourly UBA measurements of the Düsseldorf stations */
    TS_DEMO_PARKING   /* random but plausible occupancy changes of the demo's parking bays */
} ts_demo_sim;

typedef struct ts_feed_mqtt_config {
    const char *host;          /* broker host; NULL = no MQTT */
    int port;                  /* 0 = 1883, or 8883 with tls */
    const char *const *topics; /* subscriptions (MQTT filters, wildcards allowed). Empty for
                                * sensorthings = one "<version>/Datastreams(<id>)/Observations"
                                * per Datastream found by the HTTP load */
    int ntopics;
    int qos;                   /* 0, 1 (default) or 2 */
    const char *username;      /* NULL = anonymous */
    const char *password;
    int tls;                   /* 1 = TLS */
    const char *ca_file;       /* tls: CA bundle; NULL = the system's (/etc/ssl/certs) */
    const char *client_id;     /* NULL = "tilesrv-<feed>-<pid>" */
    int keepalive_s;           /* default 30 */
} ts_feed_mqtt_config;

/* How input documents become sensors. Paths are JSON member names separated by '/'
 * ("properties/assetID", "@iot.id"); a member whose name contains '/' cannot be reached. */
typedef struct ts_feed_map_config {
    ts_feed_sensor_per per;      /* sensorthings only */
    const char *id_path;         /* sensor id. sensorthings: in the Thing (per thing) or the
                                  * Datastream (per datastream), default "@iot.id";
                                  * geojson: in the Feature, default "id" (the feature id);
                                  * lorawan: unused (the bay table gives the sensor id) */
    const char *label_path;      /* display name, default "name" (geojson "properties/name") */
    const char *value_name_path; /* sensorthings: in the Datastream, names its numeric value.
                                  * Default "name" per thing; NULL per datastream = "value" */
    const ts_feed_map *values;   /* value-name mapping (match -> field name). Non-empty: inputs
                                  * that match no entry are ignored. Empty: names are used as
                                  * they come, lower-cased, other than [a-z0-9_] -> '_' */
    int nvalues;
    const ts_feed_map *states;   /* state mapping (result text -> state). Booleans match as
                                  * "true"/"false", numbers are never states. Unmatched
                                  * strings are kept as they come */
    int nstates;
    const char *const *fields;   /* numeric fields every store carries even before a sensor
                                  * reported them (so styles always find them) */
    int nfields;
    const char *state_path;      /* geojson: in the Feature, default "properties/state";
                                  * lorawan: in the decoded payload, default "occupied" */
    const char *time_path;       /* geojson: in the Feature, default "properties/time";
                                  * NULL/"" = receive time; lorawan: unused */
    const char *const *value_paths; /* geojson (in the Feature) / lorawan (in the decoded
                                  * payload): numeric members kept as values, named by their
                                  * last path segment (then mapped through values) */
    int nvalue_paths;
} ts_feed_map_config;

/* Where a LoRaWAN device or a demo bay is. A path ending in ".csv" is read here (header
 * line with columns id, lon, lat and optionally sensor and label; see docs/feeds.md);
 * any other path is an OGR dataset of points read through the source module (any CRS,
 * transformed to longitude/latitude). */
typedef struct ts_feed_table_config {
    const char *path;
    const char *layer;           /* OGR layer; NULL = the first */
    const char *id_field;        /* OGR: field holding the device key (dev_eui or device id);
                                  * default "id" */
    const char *sensor_field;    /* OGR: field holding the sensor (bay) id; NULL = id_field */
    const char *label_field;     /* OGR: display name, or NULL */
} ts_feed_table_config;

typedef struct ts_feed_config {
    const char *name;            /* 1..63 chars [A-Za-z0-9_.-]; used in URLs and metrics */
    ts_feed_kind kind;
    const char *url;             /* sensorthings: service root ".../v1.1"; geojson: the
                                  * document. http:// or https:// */
    const char *filter;          /* sensorthings: OData $filter on Things, or NULL */
    const char *query;           /* sensorthings: path and query after the service root that
                                  * replace the default Things query, or NULL */
    const char *const *http_headers; /* extra request headers "Name: value" */
    int nhttp_headers;
    int page_size;               /* sensorthings $top, default 100 */
    int max_pages;               /* sensorthings pages per load, default 1000 */
    double poll_s;               /* reconciliation (sensorthings, default 300) or poll
                                  * (geojson, default 60) period; 0 = never after the first */
    double timeout_s;            /* one HTTP request, default 30 */
    double backoff_min_s;        /* retry delay after a failure, doubling up to max; */
    double backoff_max_s;        /* defaults 1 and 60 */
    size_t max_document_bytes;   /* one HTTP response body, default 16 MiB */
    size_t max_message_bytes;    /* one MQTT message / ingested uplink, default 256 KiB */
    double stale_after_s;        /* no update for this long = stale; 0 = never */
    const char *stale_state;     /* state shown while stale, default "stale"; "" = keep the
                                  * last state (the integer attribute stale is set anyway) */
    ts_feed_stale_basis stale_basis;
    int publish_interval_ms;     /* at most one snapshot per interval, default 25 */
    ts_feed_mqtt_config mqtt;
    ts_feed_map_config map;
    struct {
        ts_lorawan_format format;
        ts_lorawan_key key;      /* which device id the table is keyed by */
        ts_lorawan_decoder decoder;
        ts_feed_table_config devices; /* device -> bay position (required) */
    } lorawan;
    struct {
        ts_demo_sim simulate;    /* which overlay this demo feed plays */
        const char *air_csv;     /* station measurements (data/demo/air_uba_duesseldorf.csv) */
        ts_feed_table_config bays; /* parking bays (data/demo/duesseldorf_demo.gpkg,
                                  * layer parking_bays, id_field bay_id) */
        double air_speed;        /* simulated seconds per real second for the air replay,
                                  * default 360 (one measured hour every 10 s) */
        double parking_speed;    /* the same for bay occupancy, default 30 */
        uint64_t seed;           /* random stream of the bay simulation, default 4711 */
        double dead_share;       /* share of bays whose sensor falls silent, default 0.02 */
    } demo;
} ts_feed_config;

/* Fill *cfg with the defaults of a kind (all strings NULL unless a default is stated). */
void ts_feed_config_init(ts_feed_config *cfg, ts_feed_kind kind);
/* Check a configuration without starting anything: name, url scheme, numbers in range,
 * required parts of the kind. TS_OK or TS_ECONFIG with a message naming the option. */
ts_status ts_feed_config_check(const ts_feed_config *cfg, ts_err *err);

/* ---- snapshots -------------------------------------------------------------------- */

#define TS_FEED_TIME_NONE INT64_MIN

typedef struct ts_sensor_value {
    const char *name;            /* field name */
    double v;                    /* finite */
    int64_t time_ms;             /* phenomenon time, ms since 1970-01-01T00:00Z */
} ts_sensor_value;

/* One sensor as published; immutable, lives as long as the snapshot it came from. */
typedef struct ts_sensor {
    const char *id;
    const char *label;           /* display name, or NULL */
    int has_pos;                 /* 0: position unknown (not drawn) */
    double lon, lat;             /* WGS84 degrees */
    const char *state;           /* effective state: stale_state while stale (if set), else
                                  * last_state; NULL = none */
    const char *last_state;      /* latest observed state, or NULL */
    int64_t state_time_ms;       /* phenomenon time of last_state, or TS_FEED_TIME_NONE */
    int64_t time_ms;             /* latest phenomenon time over state and values, or NONE */
    int64_t seen_ms;             /* feed clock when the latest accepted update arrived */
    int stale;                   /* 1 = no update for stale_after */
    uint32_t nvalues;
    const ts_sensor_value *values; /* sorted by name */
} ts_sensor;

typedef struct ts_feed_snapshot ts_feed_snapshot;

/* +1 / -1 (frees at zero). Any thread. unref accepts NULL. */
ts_feed_snapshot *ts_feed_snapshot_ref(ts_feed_snapshot *s);
void ts_feed_snapshot_unref(ts_feed_snapshot *s);
/* Increases by one with each published change; the first (empty) snapshot is 0. */
uint64_t ts_feed_snapshot_version(const ts_feed_snapshot *s);
/* Feed clock (ms since epoch) when published. */
int64_t ts_feed_snapshot_time(const ts_feed_snapshot *s);
const char *ts_feed_snapshot_feed(const ts_feed_snapshot *s);
uint32_t ts_feed_snapshot_count(const ts_feed_snapshot *s);
uint32_t ts_feed_snapshot_stale_count(const ts_feed_snapshot *s);
/* Sensor i (0 <= i < count) in id order (strcmp). Borrowed: lives as s. */
const ts_sensor *ts_feed_snapshot_at(const ts_feed_snapshot *s, uint32_t i);
/* Sensor by id (binary search), or NULL. Borrowed. */
const ts_sensor *ts_feed_snapshot_find(const ts_feed_snapshot *s, const char *id);
/* Value of a sensor by field name, or NULL. */
const ts_sensor_value *ts_sensor_value_find(const ts_sensor *x, const char *name);
/* Numeric field names: the configured ones first, then others in order of first sight.
 * Never shrinks over the life of a feed. */
int ts_feed_snapshot_nfields(const ts_feed_snapshot *s);
const char *ts_feed_snapshot_field(const ts_feed_snapshot *s, int i);

/* Build a feature store of the snapshot's positioned sensors in dst_crs ("EPSG:3857",
 * "EPSG:25832", "EPSG:4326" = longitude/latitude as x/y ...), one point per sensor, with
 * the string fields id, label, state, last_state, time (ISO 8601 UTC of time_ms), feed,
 * the integer field stale (0/1), and one real field per numeric field name (null where a
 * sensor has no such value). Sensors outside the CRS's area of use (when the CRS is in the
 * grid module's registry) or that cannot be transformed are left out and counted in
 * *skipped (may be NULL). Features are in id order, so fid i is the i-th stored sensor.
 * sc belongs to the calling thread. TS_OK with *out (refs = 1), or TS_EINVAL (unknown CRS,
 * every point untransformable) / TS_ENOMEM, nothing returned. */
ts_status ts_feed_snapshot_store(const ts_feed_snapshot *s, ts_source_ctx *sc,
                                 const char *dst_crs, ts_store **out, uint32_t *skipped,
                                 ts_err *err);

/* Append the snapshot as one flat GeoJSON FeatureCollection (RFC 7946, WGS84) to out:
 * members "feed", "version", "generated"; per feature "id", geometry Point or null, and
 * properties id, label, state, last_state, stale (boolean), time, seen, and per value
 * <name> and <name>_time. TS_OK, or the ts_buf status (TS_ELIMIT/TS_ENOMEM; out freed). */
ts_status ts_feed_snapshot_geojson(const ts_feed_snapshot *s, ts_buf *out);

/* ---- running feeds ---------------------------------------------------------------- */

typedef struct ts_feed ts_feed;

/* What changed about a sensor (bits of ts_feed_change.what). */
enum {
    TS_FEED_CHANGED_ADDED = 1 << 0,   /* new sensor */
    TS_FEED_CHANGED_REMOVED = 1 << 1, /* gone from a complete listing */
    TS_FEED_CHANGED_POS = 1 << 2,
    TS_FEED_CHANGED_LABEL = 1 << 3,
    TS_FEED_CHANGED_STATE = 1 << 4,   /* state text differs */
    TS_FEED_CHANGED_VALUE = 1 << 5,   /* a value differs (or is new) */
    TS_FEED_CHANGED_STALE = 1 << 6,   /* became stale or fresh again */
    TS_FEED_CHANGED_TIME = 1 << 7     /* a newer observation with the same state/value */
};
/* Any bit but TIME (and LABEL) can change how a sensor is drawn by a style that reads
 * state, stale or values; TIME alone changes only the time attributes. */
#define TS_FEED_CHANGED_VISIBLE                                                                    \
    (TS_FEED_CHANGED_ADDED | TS_FEED_CHANGED_REMOVED | TS_FEED_CHANGED_POS |                       \
     TS_FEED_CHANGED_STATE | TS_FEED_CHANGED_VALUE | TS_FEED_CHANGED_STALE)

/* What one snapshot changed for one sensor: its position before (had_pos) and after
 * (has_pos). A sensor that only changed state has both, equal. */
typedef struct ts_feed_change {
    const char *id;
    unsigned what;               /* TS_FEED_CHANGED_* bits since the previous snapshot */
    int had_pos;
    double old_lon, old_lat;
    int has_pos;
    double lon, lat;
} ts_feed_change;

/* Called after snap (already the feed's current snapshot) was published. changes and
 * snap are borrowed for the duration of the call (take a ref to keep snap). Called on a
 * feed thread (or the thread that called ts_feed_ingest / ts_feed_run_due), never
 * concurrently for one feed, in version order, with no feed lock held; it must not call
 * ts_feed_stop/free on this feed and should return quickly. */
typedef void (*ts_feed_change_fn)(void *user, ts_feed *feed, const ts_feed_snapshot *snap,
                                  const ts_feed_change *changes, size_t n);
/* Wall clock, ms since 1970-01-01T00:00Z. Must be thread-safe. */
typedef int64_t (*ts_feed_clock_fn)(void *user);

typedef struct ts_feed_hooks {
    ts_feed_change_fn on_change; /* may be NULL */
    void *change_user;
    ts_feed_clock_fn clock;      /* NULL = CLOCK_REALTIME */
    void *clock_user;
} ts_feed_hooks;

/* Create a feed (not running). cfg is checked and deep-copied (the caller's strings may go
 * away afterwards); hooks may be NULL. A lorawan feed reads its device table here and puts
 * every bay in the store (no state yet; published at the first tick or ts_feed_run_due);
 * nothing else is loaded. TS_OK and *out, or TS_ECONFIG / TS_ESOURCE (device table) /
 * TS_ENOMEM with nothing created. Initializes libcurl and libmosquitto once per process.
 * Any thread. */
ts_status ts_feed_new(const ts_feed_config *cfg, const ts_feed_hooks *hooks, ts_feed **out,
                      ts_err *err);
/* Take over the last known state of the sensors of old, the snapshot of the feed this one
 * replaces (a reload changed its settings or device table): states, values and their times,
 * and when each was last seen (so staleness runs on), for the sensors this feed has — for a
 * lorawan feed those of its device table, whose positions and labels win; for sensorthings
 * and geojson every sensor, with its position, until the first load says otherwise. The
 * demo kind takes nothing. Call before ts_feed_start; published at its first tick. */
void ts_feed_carry_over(ts_feed *f, const ts_feed_snapshot *old);
/* Start the feed's threads; the first load happens on them (start does not wait for it).
 * The demo kind reads its CSV / bay table here: a missing or unreadable one fails start
 * with TS_ESOURCE. TS_OK, or an error with nothing running. Call once. */
ts_status ts_feed_start(ts_feed *f, ts_err *err);
/* Stop and join the threads (aborting a transfer in progress; returns within about
 * timeout_s at worst, a few hundred ms normally). Snapshots stay readable. Idempotent. */
void ts_feed_stop(ts_feed *f);
/* Stop if running and free. Outstanding snapshot references stay valid. NULL accepted. */
void ts_feed_free(ts_feed *f);

const char *ts_feed_name(const ts_feed *f);
const ts_feed_config *ts_feed_config_get(const ts_feed *f);

/* The current snapshot, with a reference the caller releases (ts_feed_snapshot_unref).
 * Never NULL. Any thread; never waits for a writer beyond a pointer swap. */
ts_feed_snapshot *ts_feed_snapshot_get(ts_feed *f);

/* Feed one message to the feed as if it had arrived: for sensorthings an Observation
 * with its MQTT topic (topic NULL: a Things document, as from the HTTP load); for lorawan
 * an uplink (topic unused; also the way to wire a network server's HTTP webhook); for
 * geojson a whole FeatureCollection (sensors missing from it are removed). Errors are
 * counted and logged like those of the feed's own clients. Any thread; changes are
 * published at the next ts_feed_run_due or feed tick (immediately if the publish
 * interval has passed). TS_OK, or the parse error (state unchanged). */
ts_status ts_feed_ingest(ts_feed *f, const char *topic, const void *payload, size_t len,
                         ts_err *err);
/* Do the periodic work that is due at the feed clock's now, on the calling thread: mark
 * sensors stale, publish pending changes (calling on_change). For tests with an injected
 * clock, and for callers that run no threads. Returns the number of changed sensors
 * published. */
size_t ts_feed_run_due(ts_feed *f);

typedef enum {
    TS_FEED_ERR_PARSE = 0,  /* malformed JSON / CSV */
    TS_FEED_ERR_TYPE,       /* a member missing or of the wrong type, unreadable time */
    TS_FEED_ERR_RANGE,      /* NaN/Inf, coordinates out of range */
    TS_FEED_ERR_UNKNOWN,    /* unknown sensor, Datastream or device */
    TS_FEED_ERR_TOO_LARGE,  /* document or message over its limit */
    TS_FEED_ERR_HTTP,       /* HTTP status other than 200/304 */
    TS_FEED_ERR_NETWORK,    /* DNS, connect, TLS, reset */
    TS_FEED_ERR_TIMEOUT,    /* HTTP timeout */
    TS_FEED_ERR_MQTT,       /* broker unreachable, refused, connection lost */
    TS_FEED_ERR__COUNT
} ts_feed_error;

/* "parse", "type", "range", "unknown", "too_large", "http", "network", "timeout", "mqtt"
 * (Prometheus label values); never NULL. */
const char *ts_feed_error_name(ts_feed_error e);

typedef struct ts_feed_stats {
    uint64_t messages;           /* documents and messages received (HTTP 200, MQTT, ingest) */
    uint64_t observations;       /* accepted observations (state or value updates) */
    uint64_t ignored_old;        /* observations older than the sensor's latest */
    uint64_t ignored_duplicate;  /* observations with the same phenomenon time */
    uint64_t errors[TS_FEED_ERR__COUNT];
    uint64_t http_requests;
    uint64_t http_not_modified;  /* 304 answers to conditional GETs */
    uint64_t loads;              /* complete HTTP loads (all pages) */
    uint64_t mqtt_connects;      /* successful connections (the first and every reconnect) */
    uint64_t snapshots;          /* snapshots published */
    int64_t last_update_ms;      /* feed clock of the latest accepted observation, 0 = none */
    int64_t last_load_ms;        /* feed clock of the latest complete HTTP load, 0 = none */
    int mqtt_connected;          /* 1 connected, 0 not, -1 feed has no MQTT */
    uint32_t sensors;            /* in the current snapshot */
    uint32_t stale;              /* of those, stale */
    uint64_t version;            /* current snapshot version */
    uint32_t failed_loads;       /* HTTP loads failed in a row (0: the latest succeeded) */
    int fresh;                   /* has its data: an HTTP feed loaded once, an MQTT-only feed
                                  * connected, a demo feed always */
    char last_error[320];        /* the latest error's message, "" = none yet; a longer one
                                  * keeps its start and its end (the cause) around "..." */
    int64_t last_error_ms;       /* feed clock of the latest error, 0 = none */
} ts_feed_stats;

/* Copy the counters (consistent per field, not across fields). Any thread. */
void ts_feed_stats_get(ts_feed *f, ts_feed_stats *out);

/* ---- time ------------------------------------------------------------------------- */

/* Parse an ISO 8601 / RFC 3339 date-time into ms since 1970-01-01T00:00Z:
 * YYYY-MM-DD[Thh:mm[:ss[.fraction]]][Z|±hh:mm|±hhmm|±hh], 'T' or ' ' as separator, no
 * zone = UTC. An interval "start/end" (SensorThings phenomenonTime) gives its end. Fields
 * are range-checked (leap second 60 accepted as 59.999). Years 1..9999. 0 and *out, or -1.
 * Pure, no libc time zone calls. */
int ts_feed_time_parse(const char *s, int64_t *out);
/* Format ms since epoch as "YYYY-MM-DDThh:mm:ss.sssZ" (".sss" dropped when zero) into buf
 * (at least 32 bytes). Returns buf; "" for TS_FEED_TIME_NONE. */
const char *ts_feed_time_format(int64_t ms, char *buf, size_t size);

#endif
