/* main/feeds.c — a configured feed (ts_cfg_feed, config module) as the feed module's
 * ts_feed_config: the defaults of the kind (ts_feed_config_init) with what the file gave. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "feed/feed.h"
#include "main/cli.h"

static ts_feed_table_config
table_of(const ts_cfg_feed_table *t, ts_feed_table_config dflt)
{
    if (t->path == NULL)
        return dflt;
    ts_feed_table_config o = dflt;
    o.path = t->path;
    if (t->layer)
        o.layer = t->layer;
    if (t->id_field)
        o.id_field = t->id_field;
    if (t->sensor_field)
        o.sensor_field = t->sensor_field;
    if (t->label_field)
        o.label_field = t->label_field;
    return o;
}

static ts_feed_map *
maps_of(const ts_cfg_feed_map *m, int n)
{
    ts_feed_map *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    for (int i = 0; v && i < n; i++)
        v[i] = (ts_feed_map){m[i].match, m[i].to};
    return v;
}

ts_status
ts_cli_feed_config(const ts_cfg_feed *c, ts_cli_feed_cfg *out, ts_err *err)
{
    memset(out, 0, sizeof *out);
    ts_feed_config *f = &out->cfg;
    ts_feed_kind kind;
    if (ts_feed_kind_parse(c->kind, &kind) != 0)
        return TS_FAIL(err, TS_ECONFIG, "feed %s: unknown kind %s", c->name, c->kind);
    ts_feed_config_init(f, kind);
    f->name = c->name;
    unsigned s = c->set;
    f->url = c->url;
    f->filter = c->filter;
    f->query = c->query;
    f->http_headers = c->http_headers;
    f->nhttp_headers = c->nhttp_headers;
    if (s & TS_CFG_FEED_PAGE_SIZE)
        f->page_size = c->page_size;
    if (s & TS_CFG_FEED_MAX_PAGES)
        f->max_pages = c->max_pages;
    if (s & TS_CFG_FEED_POLL)
        f->poll_s = c->poll_s;
    if (s & TS_CFG_FEED_TIMEOUT)
        f->timeout_s = c->timeout_s;
    if (s & TS_CFG_FEED_BACKOFF_MIN)
        f->backoff_min_s = c->backoff_min_s;
    if (s & TS_CFG_FEED_BACKOFF_MAX)
        f->backoff_max_s = c->backoff_max_s;
    if (s & TS_CFG_FEED_MAX_DOC)
        f->max_document_bytes = c->max_document_bytes;
    if (s & TS_CFG_FEED_MAX_MSG)
        f->max_message_bytes = c->max_message_bytes;
    if (s & TS_CFG_FEED_STALE_AFTER)
        f->stale_after_s = c->stale_after_s;
    if (c->stale_state)
        f->stale_state = c->stale_state;
    if (c->stale_basis)
        f->stale_basis =
            strcmp(c->stale_basis, "received") == 0 ? TS_FEED_STALE_RECEIVED : TS_FEED_STALE_OBSERVED;
    if (s & TS_CFG_FEED_PUBLISH)
        f->publish_interval_ms = c->publish_interval_ms;
    f->mqtt.host = c->mqtt.host;
    if (s & TS_CFG_FEED_MQTT_PORT)
        f->mqtt.port = c->mqtt.port;
    f->mqtt.topics = c->mqtt.topics;
    f->mqtt.ntopics = c->mqtt.ntopics;
    if (s & TS_CFG_FEED_MQTT_QOS)
        f->mqtt.qos = c->mqtt.qos;
    f->mqtt.username = c->mqtt.username;
    f->mqtt.password = c->mqtt.password;
    if (s & TS_CFG_FEED_MQTT_TLS)
        f->mqtt.tls = c->mqtt.tls;
    f->mqtt.ca_file = c->mqtt.ca_file;
    f->mqtt.client_id = c->mqtt.client_id;
    if (s & TS_CFG_FEED_MQTT_KEEPALIVE)
        f->mqtt.keepalive_s = c->mqtt.keepalive_s;
    if (c->sensor)
        f->map.per = strcmp(c->sensor, "datastream") == 0 ? TS_FEED_PER_DATASTREAM
                                                         : TS_FEED_PER_THING;
    if (c->id)
        f->map.id_path = c->id;
    if (c->label)
        f->map.label_path = c->label;
    if (c->value_name)
        f->map.value_name_path = c->value_name;
    if (c->state)
        f->map.state_path = c->state;
    if (c->time)
        f->map.time_path = c->time;
    if (c->nvalues > 0) {
        if ((out->values = maps_of(c->values, c->nvalues)) == NULL)
            return TS_FAIL(err, TS_ENOMEM, "feed %s", c->name);
        f->map.values = out->values;
        f->map.nvalues = c->nvalues;
    }
    if (c->nstates > 0) {
        if ((out->states = maps_of(c->states, c->nstates)) == NULL)
            return TS_FAIL(err, TS_ENOMEM, "feed %s", c->name);
        f->map.states = out->states;
        f->map.nstates = c->nstates;
    }
    if (c->nfields > 0) {
        f->map.fields = c->fields;
        f->map.nfields = c->nfields;
    }
    if (c->nvalue_paths > 0) {
        f->map.value_paths = c->value_paths;
        f->map.nvalue_paths = c->nvalue_paths;
    }
    if (c->lorawan_format)
        f->lorawan.format = strcmp(c->lorawan_format, "tts") == 0          ? TS_LORAWAN_TTS
                            : strcmp(c->lorawan_format, "chirpstack") == 0 ? TS_LORAWAN_CHIRPSTACK
                                                                            : TS_LORAWAN_AUTO;
    if (c->lorawan_key)
        f->lorawan.key =
            strcmp(c->lorawan_key, "device_id") == 0 ? TS_LORAWAN_DEVICE_ID : TS_LORAWAN_DEV_EUI;
    if (c->lorawan_decoder)
        f->lorawan.decoder = strcmp(c->lorawan_decoder, "bosch_pls") == 0
                                 ? TS_LORAWAN_DECODER_BOSCH_PLS
                                 : TS_LORAWAN_DECODER_NONE;
    f->lorawan.devices = table_of(&c->devices, f->lorawan.devices);
    if (c->simulate)
        f->demo.simulate = strcmp(c->simulate, "parking") == 0 ? TS_DEMO_PARKING : TS_DEMO_AIR;
    if (c->air_csv)
        f->demo.air_csv = c->air_csv;
    f->demo.bays = table_of(&c->bays, f->demo.bays);
    if (s & TS_CFG_FEED_AIR_SPEED)
        f->demo.air_speed = c->air_speed;
    if (s & TS_CFG_FEED_PARKING_SPEED)
        f->demo.parking_speed = c->parking_speed;
    if (s & TS_CFG_FEED_SEED)
        f->demo.seed = c->seed;
    if (s & TS_CFG_FEED_DEAD_SHARE)
        f->demo.dead_share = c->dead_share;
    return TS_OK;
}

void
ts_cli_feed_config_free(ts_cli_feed_cfg *c)
{
    free(c->values);
    free(c->states);
    memset(c, 0, sizeof *c);
}

/* Mix the identity of file path (nothing when NULL or unreadable) into h. */
static uint64_t
mix_file(uint64_t h, const char *path)
{
    struct stat sb;
    if (path == NULL || stat(path, &sb) != 0)
        return h;
    uint64_t v[4] = {(uint64_t)sb.st_size, (uint64_t)sb.st_mtim.tv_sec,
                     (uint64_t)sb.st_mtim.tv_nsec, (uint64_t)sb.st_ino};
    for (int i = 0; i < 4; i++) { /* FNV-1a over the words */
        h ^= v[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t
ts_cli_feed_key(const ts_cfg_feed *c)
{
    uint64_t h = c->hash;
    h = mix_file(h, c->devices.path);
    h = mix_file(h, c->bays.path);
    return mix_file(h, c->air_csv);
}

ts_status
ts_cli_feeds_check(const ts_config *cfg, ts_err *err)
{
    for (int i = 0; i < cfg->nfeeds; i++) {
        const ts_cfg_feed *c = &cfg->feeds[i];
        ts_cli_feed_cfg fc;
        ts_err fe;
        ts_err_clear(&fe);
        ts_status st = ts_cli_feed_config(c, &fc, &fe);
        ts_feed *f = NULL;
        if (st == TS_OK)
            st = ts_feed_new(&fc.cfg, NULL, &f, &fe); /* reads a device table */
        ts_feed_free(f);
        ts_cli_feed_config_free(&fc);
        if (st != TS_OK && fe.input[0] != '\0') /* at its place in the device table */
            return TS_FAIL_AT(err, st, fe.input, fe.input_line, fe.input_col,
                              "feed %s (%s:%d): %s", c->name, cfg->path, c->line, fe.msg);
        if (st != TS_OK)
            return TS_FAIL_AT(err, st, cfg->path, c->line, c->col, "%s", fe.msg);
    }
    return TS_OK;
}
