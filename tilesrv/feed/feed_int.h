/* feed/feed_int.h — the feed module's inside: the observation batch the parsers fill, the
 * mutable sensor store behind the snapshots, the pure parsers (fuzzed), the device table,
 * and the HTTP / MQTT clients. Not for other modules; tests, fuzzers and the bench use it. */
#ifndef TS_FEED_FEED_INT_H
#define TS_FEED_FEED_INT_H

#include "feed/feed.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TS_FEED_ID_MAX 256     /* longest sensor id / state / value name kept (bytes) */

/* ---- observation batches ------------------------------------------------------------ */

typedef enum {
    TS_OBS_NONE = 0,   /* position / label only */
    TS_OBS_STATE,      /* a state string */
    TS_OBS_VALUE,      /* a named number */
    TS_OBS_SEEN        /* the sensor is in the document but its item was refused: it stays as
                        * it is (a complete listing does not remove it), nothing changes */
} ts_obs_kind;

/* Observations timed more than this after their arrival are refused (range errors). */
#define TS_FEED_FUTURE_MS (10 * 60 * 1000LL)

typedef struct ts_obs {
    const char *sensor;  /* sensor id */
    ts_obs_kind kind;
    const char *name;    /* VALUE: field name */
    const char *state;   /* STATE: state text */
    double value;        /* VALUE: finite */
    int64_t time_ms;     /* STATE/VALUE: phenomenon time; NONE: TS_FEED_TIME_NONE */
    int has_pos;         /* 1: lon/lat give the sensor's position (WGS84, in range) */
    double lon, lat;
    const char *label;   /* display name, or NULL = keep */
} ts_obs;

/* A SensorThings Datastream and where its observations go. */
typedef struct ts_sta_binding {
    const char *ds;      /* Datastream @iot.id as text */
    const char *sensor;  /* sensor id */
    const char *name;    /* field name for numeric results (never NULL) */
} ts_sta_binding;

typedef struct ts_feed_chunk ts_feed_chunk;

/* What one parsed document gives; strings live in the batch's own chunks. */
typedef struct ts_obs_batch {
    ts_obs *obs;
    size_t n, cap;
    ts_sta_binding *binds;
    size_t nbinds, bcap;
    const char *next_link;             /* sensorthings @iot.nextLink, or NULL */
    uint32_t errors[TS_FEED_ERR__COUNT]; /* problems found, item-level and document-level */
    char first_error[192];             /* message of the first item-level problem */
    ts_feed_chunk *chunks;
} ts_obs_batch;

void ts_obs_batch_init(ts_obs_batch *b);
/* Empty the batch for reuse (keeps one chunk). */
void ts_obs_batch_reset(ts_obs_batch *b);
void ts_obs_batch_fini(ts_obs_batch *b);
/* Copy n bytes of s (NUL added) into the batch; NULL on allocation failure. */
const char *ts_obs_batch_strndup(ts_obs_batch *b, const char *s, size_t n);
const char *ts_obs_batch_strdup(ts_obs_batch *b, const char *s);
/* Append an observation (strings must already live in the batch). TS_OK / TS_ENOMEM. */
ts_status ts_obs_batch_add(ts_obs_batch *b, const ts_obs *o);
ts_status ts_obs_batch_bind(ts_obs_batch *b, const char *ds, const char *sensor,
                            const char *name);
/* Note that sensor id is in the document although its item was refused (a TS_OBS_SEEN
 * observation): its last good state stays. TS_OK / TS_ENOMEM. */
ts_status ts_obs_batch_keep(ts_obs_batch *b, const char *id);
/* Refuse the observations of b timed more than TS_FEED_FUTURE_MS after now_ms (a gateway
 * clock far ahead, a typo): each is counted as a range error and becomes TS_OBS_SEEN.
 * Taken as they are, they would hold their sensor: every later real observation would be
 * "older". */
void ts_obs_batch_refuse_future(ts_obs_batch *b, int64_t now_ms);
/* Count an item-level problem of kind e; the first message is kept. */
void ts_obs_batch_error(ts_obs_batch *b, ts_feed_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- JSON helpers (json.c) ------------------------------------------------------------ */

/* Member at a '/'-separated path below obj, or NULL. */
json_t *ts_feed_json_path(json_t *obj, const char *path);
/* An id-like value as text: strings as they are, integers in decimal, other numbers with
 * %.17g. 0 on success, -1 for other types or text over TS_FEED_ID_MAX-1 bytes. */
int ts_feed_json_idtext(json_t *v, char *buf, size_t size);
/* A GeoJSON geometry (or Feature) to one representative point: Point -> itself;
 * MultiPoint -> the mean of its points; (Multi)LineString -> its length-weighted centroid;
 * (Multi)Polygon -> the area centroid of its exterior rings (a degenerate line or ring:
 * the mean of its vertices). 0 and lon/lat in range; -1 wrong type or shape; -2 non-finite
 * or out of [-180,180] x [-90,90]. */
int ts_feed_json_point(json_t *geom, double *lon, double *lat);
/* Name the input gives -> field name: through map->values when it has entries (-1 when
 * none matches), else lower-cased with other than [a-z0-9_] as '_'; names of the fixed
 * store fields get "_v" appended. 0 and out, or -1. */
int ts_feed_field_name(const ts_feed_map_config *map, const char *in, char *out, size_t size);
/* Result text -> state through map->states (first match), else the text itself. */
const char *ts_feed_state_name(const ts_feed_map_config *map, const char *in);
/* Parse JSON text of len bytes (no NUL needed). NULL with a message in err. */
json_t *ts_feed_json_load(const void *doc, size_t len, char *err, size_t errsize);

/* ---- JSON scanner (jscan.c) ---------------------------------------------------------------
 * A strict reader for hot paths: one validating pass over the bytes into a flat array of
 * tokens, then lookups that read values from the text. It accepts exactly what
 * ts_feed_json_load (json_loadb, JSON_REJECT_DUPLICATES) accepts — an object or array at
 * the top, RFC 8259 grammar, well-formed UTF-8, valid escapes and surrogate pairs, no
 * \u0000, integers within int64, reals that do not overflow a double, no duplicate keys,
 * nothing after the value — except that it refuses nesting deeper than TS_JSCAN_DEPTH,
 * more than TS_JSCAN_MAX_TOKENS tokens and documents over TS_JSCAN_MAX_LEN bytes.
 * Tokens are in document order: a container is followed by its children; an object's
 * children are key (a string token) and value, alternately; tok[i].next is the index just
 * past i's subtree, so the first child of container i is i + 1 (when count > 0) and the
 * next sibling of child c is tok[c].next. */

#define TS_JSCAN_DEPTH 64                 /* deepest nesting of objects and arrays */
#define TS_JSCAN_MAX_TOKENS (1u << 22)    /* most tokens in one document */
#define TS_JSCAN_MAX_LEN (1u << 30)       /* longest document (bytes) */
#define TS_JSCAN_NONE UINT32_MAX          /* "no such token" from lookups */

typedef enum {
    TS_J_NONE = 0,  /* TS_JSCAN_NONE or out of range */
    TS_J_OBJECT,
    TS_J_ARRAY,
    TS_J_STRING,
    TS_J_NUMBER,
    TS_J_TRUE,
    TS_J_FALSE,
    TS_J_NULL
} ts_jtype;

#define TS_JTOK_ESC 1   /* STRING: has escapes (the span is not the text) */
#define TS_JTOK_INT 2   /* NUMBER: no fraction or exponent (an integer, as for jansson) */

typedef struct ts_jtok {
    uint32_t start, len; /* bytes in the text: strings without their quotes; containers
                          * from bracket to bracket */
    uint32_t next;       /* index of the token after this one's subtree */
    uint32_t count;      /* OBJECT: members; ARRAY: elements; else 0 */
    uint8_t type;        /* ts_jtype */
    uint8_t flags;       /* TS_JTOK_* */
} ts_jtok;

typedef struct ts_jscan {
    const char *text;    /* the document (borrowed: must outlive the lookups) */
    size_t len;
    ts_jtok *tok;        /* tokens, tok[0] the root once parsed */
    uint32_t n, cap;
    int heap;            /* tok was grown onto the heap (freed by ts_jscan_fini) */
} ts_jscan;

/* Prepare a scanner whose tokens go to buf (cap entries, may be NULL / 0); documents with
 * more tokens move them to a heap array that doubles as needed. */
void ts_jscan_init(ts_jscan *js, ts_jtok *buf, size_t cap);
/* Free what the scanner allocated (not buf). The scanner can be initialised again. */
void ts_jscan_fini(ts_jscan *js);
/* Scan len bytes of text (no NUL needed; text kept by reference). 0 with js->tok[0] the
 * root; -1 not accepted JSON; -2 beyond the limits above or out of memory. On error js->n
 * is 0 and err (may be NULL) gets "line L column C: reason" (C in bytes). A scanner can
 * parse one document after another, reusing its tokens. */
int ts_jscan_parse(ts_jscan *js, const void *text, size_t len, char *err, size_t errsize);
/* Type of token i; TS_J_NONE for TS_JSCAN_NONE. */
ts_jtype ts_jscan_type(const ts_jscan *js, uint32_t i);
/* Value of the member of object obj whose key unescapes to the n bytes at key, or
 * TS_JSCAN_NONE (obj not an object, or no such key). */
uint32_t ts_jscan_member(const ts_jscan *js, uint32_t obj, const char *key, size_t n);
/* Value at a '/'-separated path of member names below obj (as ts_feed_json_path: every
 * step must be an object; "" or NULL finds nothing), or TS_JSCAN_NONE. */
uint32_t ts_jscan_path(const ts_jscan *js, uint32_t obj, const char *path);
/* String token i unescaped: returns its length in bytes n, and when n < size buf holds it
 * with a NUL (never has NULs inside); -1 when i is not a string. */
long ts_jscan_string(const ts_jscan *js, uint32_t i, char *buf, size_t size);
/* An integer token (TS_JTOK_INT) as int64: 0, or -1 for anything else (1.0 and 1e2 are
 * reals, as for jansson). */
int ts_jscan_int(const ts_jscan *js, uint32_t i, int64_t *out);
/* A number token as a double (integers converted, reals read in the C locale; always
 * finite): 0, or -1 for other types or out of memory. */
int ts_jscan_number(const ts_jscan *js, uint32_t i, double *out);
/* true / false as 1 / 0: 0, or -1 for other types. */
int ts_jscan_bool(const ts_jscan *js, uint32_t i, int *out);
/* ts_feed_json_idtext for token i: strings unescaped (non-empty, under size and
 * TS_FEED_ID_MAX bytes), integers in decimal, reals with %.17g. 0, or -1. */
int ts_jscan_idtext(const ts_jscan *js, uint32_t i, char *buf, size_t size);

/* ---- SensorThings (sta.c) -------------------------------------------------------------- */

typedef struct ts_sta_index ts_sta_index;  /* Datastream id -> binding, owned copies */
ts_sta_index *ts_sta_index_new(void);
void ts_sta_index_free(ts_sta_index *ix);
/* Insert or replace. 1 = new entry, 0 = replaced / unchanged, -1 = out of memory. */
int ts_sta_index_put(ts_sta_index *ix, const char *ds, const char *sensor, const char *name);
const ts_sta_binding *ts_sta_index_find(const ts_sta_index *ix, const char *ds);
size_t ts_sta_index_count(const ts_sta_index *ix);
const ts_sta_binding *ts_sta_index_at(const ts_sta_index *ix, size_t i);

/* A Things document ({"value": [Thing...], "@iot.nextLink": ...}, or a single Thing) with
 * Locations and Datastreams with their latest Observations expanded: one NONE observation
 * per sensor with position and label, one per latest Observation, one binding per
 * Datastream. Items with problems are skipped and counted in out->errors. TS_OK, or
 * TS_EINVAL for a document that is not JSON or has no Things (kind counted). */
ts_status ts_sta_parse_things(const ts_feed_config *cfg, const void *doc, size_t len,
                              ts_obs_batch *out, ts_err *err);
/* An Observation as pushed over MQTT, its Datastream taken from the topic
 * ("v1.1/Datastreams(42)/Observations") or from the message (Datastream/@iot.id). The
 * Datastream must be in ix (else TS_ENOENT, unknown). TS_OK with one observation, or
 * TS_EINVAL / TS_ENOENT with the kind counted in out->errors. */
ts_status ts_sta_parse_observation(const ts_feed_config *cfg, const ts_sta_index *ix,
                                   const char *topic, const void *doc, size_t len,
                                   ts_obs_batch *out, ts_err *err);
/* The Datastream id in a topic "…/Datastreams(<id>)/Observations" (quotes of a string id
 * removed), 0, or -1 when the topic has none. */
int ts_sta_topic_datastream(const char *topic, char *buf, size_t size);
/* URL of the first Things page for cfg (default query or cfg->query). malloc'ed or NULL. */
char *ts_sta_first_url(const ts_feed_config *cfg);
/* Where to fetch a @iot.nextLink: the part after the service root's version segment is
 * appended to cfg->url (servers behind proxies announce their public root), else the link
 * itself when it has the same scheme://host[:port] as cfg->url. malloc'ed, or NULL when the
 * link points elsewhere (refused). */
char *ts_sta_next_url(const ts_feed_config *cfg, const char *link);

/* ---- CSV (table.c) -------------------------------------------------------------------- */

#define TS_CSV_MAX_FIELDS 32

/* A reader of RFC 4180 text: ',' or ';' separated (decided by the first record), fields
 * optionally double-quoted ("" inside quotes is one quote), lines starting with '#' and
 * empty lines skipped, a UTF-8 BOM ignored. Fields are trimmed of spaces and tabs. */
typedef struct ts_csv {
    const char *p, *end;
    int line;                /* 1-based line of the record last returned */
    char sep;                /* 0 until the first record */
    char *buf;               /* field storage of the current record */
    size_t cap;
    char *f[TS_CSV_MAX_FIELDS];
    int nf;
} ts_csv;

void ts_csv_init(ts_csv *c, const char *text, size_t len);
void ts_csv_fini(ts_csv *c);
/* Next record into c->f / c->nf: 1, 0 at the end, -1 for an unterminated quote, more than
 * TS_CSV_MAX_FIELDS fields, or a record over 64 KiB. */
int ts_csv_next(ts_csv *c);
/* Column of the first of names (NULL-terminated, case-insensitive) in the header record,
 * or -1. */
int ts_csv_column(const ts_csv *c, const char *const *names);
/* A whole field as a finite double. 0 or -1. */
int ts_csv_number(const char *s, double *out);
/* Read a whole file of at most max bytes; *out is malloc'ed with a NUL after *len bytes.
 * TS_OK or TS_ESOURCE naming the file. */
ts_status ts_feed_read_file(const char *path, size_t max, char **out, size_t *len, ts_err *err);

/* ---- device tables (table.c) ----------------------------------------------------------- */

typedef struct ts_feed_device {
    const char *key;     /* device key (dev_eui lower-cased, or device id) */
    const char *sensor;  /* sensor (bay) id */
    const char *label;   /* or NULL */
    double lon, lat;
} ts_feed_device;

typedef struct ts_feed_table ts_feed_table;
/* Load a table (CSV read here, anything else through OGR). TS_OK, or TS_ESOURCE with the
 * file and line in err. Rows with coordinates out of range are refused (the whole load
 * fails: a table is configuration). */
ts_status ts_feed_table_load(const ts_feed_table_config *tc, ts_feed_table **out, ts_err *err);
/* Parse CSV text (same rules as the file). name is for messages. */
ts_status ts_feed_table_parse_csv(const char *name, const char *text, size_t len,
                                  ts_feed_table **out, ts_err *err);
void ts_feed_table_free(ts_feed_table *t);
/* Lookup by key (dev_eui keys compare case-insensitively: stored lower-case). */
const ts_feed_device *ts_feed_table_find(const ts_feed_table *t, const char *key);
size_t ts_feed_table_count(const ts_feed_table *t);
const ts_feed_device *ts_feed_table_at(const ts_feed_table *t, size_t i);

/* ---- LoRaWAN (lorawan.c) ---------------------------------------------------------------- */

/* One uplink (TTS v3 or ChirpStack v4 JSON, by cfg->lorawan.format or detected): the
 * device looked up in devices (unknown: TS_ENOENT), its decoded payload (or the raw frame
 * through the configured decoder) mapped to a state (map.state_path: booleans and
 * numbers 0/1 as "false"/"true", strings as they are, then through map.states) and to
 * values (map.value_paths). Time: the uplink's received_at / time. TS_OK with one
 * observation per item found (at least one), or an error with the kind counted. */
ts_status ts_lorawan_parse(const ts_feed_config *cfg, const ts_feed_table *devices,
                           const void *doc, size_t len, ts_obs_batch *out, ts_err *err);
/* Decode standard base64 (padding optional). Returns the byte count or -1. */
long ts_feed_base64_decode(const char *in, uint8_t *out, size_t cap);

/* ---- GeoJSON (geojson.c) ---------------------------------------------------------------- */

/* A FeatureCollection of Point (or other, reduced to a point) features: id by
 * map.id_path, state / time / values by the map paths. Features with problems are skipped
 * and counted. TS_OK, or TS_EINVAL for a document that is not a FeatureCollection. */
ts_status ts_geojson_parse(const ts_feed_config *cfg, int64_t now_ms, const void *doc,
                           size_t len, ts_obs_batch *out, ts_err *err);
/* Append s as a JSON string literal (quotes, escapes, invalid UTF-8 -> U+FFFD). */
ts_status ts_feed_json_put_string(ts_buf *b, const char *s);
/* Append a finite number in the shortest form that reads back exactly. */
ts_status ts_feed_json_put_number(ts_buf *b, double v);

/* ---- the sensor store (sensors.c) -------------------------------------------------------- */

typedef struct ts_sensor_store_opts {
    const char *feed;            /* feed name, copied */
    int64_t stale_after_ms;      /* 0 = never */
    const char *stale_state;     /* NULL or "" = keep the state */
    ts_feed_stale_basis stale_basis;
    const char *const *fields;   /* declared numeric fields */
    int nfields;
} ts_sensor_store_opts;

typedef enum {
    TS_APPLY_ACCEPTED = 0,  /* the observation changed the sensor's state or a value */
    TS_APPLY_POSITION,      /* only position / label / new sensor (NONE observations) */
    TS_APPLY_NOCHANGE,      /* NONE observation that changed nothing */
    TS_APPLY_OLD,           /* older than the latest of that state/value: ignored */
    TS_APPLY_DUPLICATE,     /* same phenomenon time as the latest: ignored */
    TS_APPLY_ENOMEM
} ts_apply_result;

/* Not thread-safe: the feed serialises calls with its own lock. */
typedef struct ts_sensor_store ts_sensor_store;
ts_sensor_store *ts_sensor_store_new(const ts_sensor_store_opts *o, ts_err *err);
void ts_sensor_store_free(ts_sensor_store *st);
/* Apply one observation received at now_ms (feed clock). Creates the sensor when new. */
ts_apply_result ts_sensor_store_apply(ts_sensor_store *st, const ts_obs *o, int64_t now_ms);
/* Start a complete listing (an HTTP load, a GeoJSON document): sensors not touched by
 * apply until ts_sensor_store_sweep are removed by it. */
void ts_sensor_store_mark(ts_sensor_store *st);
/* Remove sensors untouched since ts_sensor_store_mark. Returns how many. */
size_t ts_sensor_store_sweep(ts_sensor_store *st);
/* Update stale flags for now_ms. Returns the number of sensors that changed. */
size_t ts_sensor_store_check_stale(ts_sensor_store *st, int64_t now_ms);
/* Earliest feed time at which some fresh sensor turns stale, or INT64_MAX. */
int64_t ts_sensor_store_next_stale(const ts_sensor_store *st);
/* Number of sensors changed since the last publish. */
size_t ts_sensor_store_pending(const ts_sensor_store *st);
/* The current snapshot (borrowed; the store holds a reference). */
ts_feed_snapshot *ts_sensor_store_current(ts_sensor_store *st);
/* Publish pending changes as a new current snapshot (version + 1) at now_ms. With nothing
 * pending: TS_OK, *changes NULL, *n 0. Otherwise *changes lists every changed sensor: one
 * malloc'ed block holding the array and its id strings (free() it once). On TS_ENOMEM
 * nothing changes (the changes stay pending). */
ts_status ts_sensor_store_publish(ts_sensor_store *st, int64_t now_ms,
                                  ts_feed_change **changes, size_t *n);
size_t ts_sensor_store_count(const ts_sensor_store *st);

/* ---- snapshot internals (sensors.c) -------------------------------------------------- */

typedef struct ts_sensor_rec {
    atomic_int refs;
    ts_sensor s;             /* strings and values in the same allocation */
} ts_sensor_rec;

struct ts_feed_snapshot {
    atomic_int refs;
    uint64_t version;
    int64_t time_ms;
    char *feed;
    uint32_t n, nstale;
    ts_sensor_rec **recs;    /* sorted by id */
    int nfields;
    char **fields;
};

/* ---- HTTP (http.c) ----------------------------------------------------------------------- */

typedef struct ts_feed_http ts_feed_http;

typedef struct ts_feed_http_result {
    long status;             /* HTTP status, 0 when no response */
    ts_feed_error fail;      /* when the request failed: its kind */
    char etag[256];          /* response ETag (kept from the request on 304) */
    char last_modified[64];
} ts_feed_http_result;

/* One handle per thread. abort_flag (may be NULL) stops a transfer in progress when it
 * becomes non-zero. */
ts_feed_http *ts_feed_http_new(const ts_feed_config *cfg, const atomic_int *abort_flag,
                               ts_err *err);
void ts_feed_http_free(ts_feed_http *h);
/* GET url into body (its max is the size limit). etag / last_modified (may be NULL or "")
 * make the request conditional. TS_OK for 200 (body filled) and 304 (body empty);
 * otherwise TS_ESOURCE / TS_ELIMIT with res->fail set and a message in err. */
ts_status ts_feed_http_get(ts_feed_http *h, const char *url, const char *etag,
                           const char *last_modified, ts_buf *body, ts_feed_http_result *res,
                           ts_err *err);

/* ---- MQTT (mqtt.c) ------------------------------------------------------------------------ */

typedef struct ts_feed_mqtt ts_feed_mqtt;

typedef struct ts_feed_mqtt_hooks {
    /* a message (payload not NUL-terminated); on the MQTT thread */
    void (*message)(void *user, const char *topic, const void *payload, size_t len);
    /* after every successful (re)connect and subscribe; on the MQTT thread */
    void (*connected)(void *user, int reconnect);
    /* connection lost / refused / not reachable: counted as kind e with a message */
    void (*failed)(void *user, ts_feed_error e, const char *msg);
    /* topics to subscribe to right now (called on each connect): fills *topics with
     * malloc'ed strings, returns the count (-1 = out of memory) */
    int (*topics)(void *user, char ***topics);
    void *user;
} ts_feed_mqtt_hooks;

/* Start a thread that connects, subscribes, delivers messages, and reconnects with
 * backoff (backoff_min_s doubling to backoff_max_s) until ts_feed_mqtt_stop. */
ts_status ts_feed_mqtt_start(const ts_feed_config *cfg, const ts_feed_mqtt_hooks *hooks,
                             ts_feed_mqtt **out, ts_err *err);
/* Subscribe to more topics on the live connection (no-op while disconnected: the topics
 * hook gives them at the next connect). Any thread. */
void ts_feed_mqtt_subscribe(ts_feed_mqtt *m, const char *const *topics, int n);
int ts_feed_mqtt_connected(const ts_feed_mqtt *m);
/* Stop, join, free. NULL accepted. */
void ts_feed_mqtt_stop(ts_feed_mqtt *m);

/* Process-wide library initialisation (curl_global_init, mosquitto_lib_init), once. */
void ts_feed_global_init(void);

/* ---- demo (demo.c) ------------------------------------------------------------------------ */

typedef struct ts_demo ts_demo;

/* One air station of the replay and its hourly measurements. */
typedef struct ts_demo_station {
    char *id, *label;
    double lon, lat;
    int64_t *t_ms;           /* measurement hours (source time) */
    double *no2, *pm10, *o3; /* NAN = missing */
    size_t n;
} ts_demo_station;

/* Parse the air CSV (columns station_code, station_name, lon, lat, datetime, no2, pm10,
 * o3; empty = missing). TS_OK or TS_ESOURCE with file:line. */
ts_status ts_demo_parse_air(const char *name, const char *text, size_t len,
                            ts_demo_station **out, size_t *n, ts_err *err);
void ts_demo_stations_free(ts_demo_station *s, size_t n);

/* The simulation state: stations + bays, driven by ts_demo_step. */
ts_status ts_demo_new(const ts_feed_config *cfg, ts_demo **out, ts_err *err);
void ts_demo_free(ts_demo *d);
/* Observations for the simulated interval up to now_ms (feed clock) into out; the first
 * call gives every sensor's position and initial state. Returns the real (feed clock) ms
 * until the next event is due, between 1 and 1000. */
int64_t ts_demo_step(ts_demo *d, int64_t now_ms, ts_obs_batch *out);

#endif
