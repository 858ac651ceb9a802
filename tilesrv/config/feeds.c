/* config/feeds.c — the `feeds` section: one ts_cfg_feed per entry (docs/feeds.md lists
 * the keys). The kind is read first (it decides which keys apply), then every other key
 * in file order, each checked for type and range; then what the kind requires. Strings
 * and arrays are allocated into the entry's owned list. */
#include "config/config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fctx {
    const ts_cfg_ctx *cx;
    ts_cfg_feed *f;
    char label[96];
} fctx;

static void *
own(fctx *x, size_t size)
{
    ts_cfg_feed *f = x->f;
    if (f->nowned == f->capowned) {
        int cap = f->capowned ? 2 * f->capowned : 16;
        void **v = realloc(f->owned, (size_t)cap * sizeof *v);
        if (v == NULL)
            return NULL;
        f->owned = v;
        f->capowned = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p != NULL)
        f->owned[f->nowned++] = p;
    return p;
}

static ts_status
oom(fctx *x)
{
    return TS_FAIL(x->cx->err, TS_ENOMEM, "%s: out of memory", x->label);
}

/* A string (${ENV} expanded, "" allowed) owned by the entry. */
static ts_status
get_str(fctx *x, const ts_cnode *n, const char *key, const char **out)
{
    char what[160], *s;
    snprintf(what, sizeof what, "'%s' in %s", key, x->label);
    TS_TRY(ts_config__get_string(x->cx, n, what, &s));
    size_t l = strlen(s);
    char *o = own(x, l + 1);
    if (o == NULL) {
        free(s);
        return oom(x);
    }
    memcpy(o, s, l + 1);
    free(s);
    *out = o;
    return TS_OK;
}

static ts_status
get_int(fctx *x, const ts_cnode *n, const char *key, long min, long max, long *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s' in %s", key, x->label);
    return ts_config__get_int(x->cx, n, what, min, max, out);
}

static ts_status
get_num(fctx *x, const ts_cnode *n, const char *key, double min, double max, double *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s' in %s", key, x->label);
    TS_TRY(ts_config__get_double(x->cx, n, what, out));
    if (!(*out >= min && *out <= max))
        return TS_CFG_FAIL(x->cx, n, "%s must be in [%g, %g], got %g", what, min, max, *out);
    return TS_OK;
}

static ts_status
get_bool(fctx *x, const ts_cnode *n, const char *key, int *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s' in %s", key, x->label);
    return ts_config__get_bool(x->cx, n, what, out);
}

/* One of names (NULL-terminated); *out = its index. */
static ts_status
get_choice(fctx *x, const ts_cnode *n, const char *key, const char *const *names, int *out)
{
    const char *s;
    TS_TRY(get_str(x, n, key, &s));
    char list[160] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return TS_OK;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", names[i]);
    }
    return TS_CFG_FAIL(x->cx, n, "unknown %s '%.40s' in %s (expected one of: %s)", key, s,
                       x->label, list);
}

/* A sequence of strings (a single string is taken as a list of one). */
static ts_status
get_list(fctx *x, const ts_cnode *n, const char *key, const char *const **out, int *count)
{
    if (n->kind == TS_CNODE_SCALAR) {
        const char **v = own(x, sizeof *v);
        if (v == NULL)
            return oom(x);
        TS_TRY(get_str(x, n, key, &v[0]));
        *out = v;
        *count = 1;
        return TS_OK;
    }
    if (n->kind != TS_CNODE_SEQ) {
        char got[96];
        return TS_CFG_FAIL(x->cx, n, "'%s' in %s must be a sequence like [a, b], got %s", key,
                           x->label, ts_config__describe(n, got, sizeof got));
    }
    if (n->n > TS_CONFIG_MAX_LIST)
        return TS_CFG_FAIL(x->cx, n, "'%s' in %s lists more than %d values", key, x->label,
                           TS_CONFIG_MAX_LIST);
    const char **v = own(x, (n->n + 1) * sizeof *v);
    if (v == NULL)
        return oom(x);
    for (size_t i = 0; i < n->n; i++)
        TS_TRY(get_str(x, n->kids[i], key, &v[i]));
    *out = v;
    *count = (int)n->n;
    return TS_OK;
}

/* A mapping of strings to strings ({match: to}). */
static ts_status
get_map(fctx *x, const ts_cnode *n, const char *key, const ts_cfg_feed_map **out, int *count)
{
    if (n->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(x->cx, n, "'%s' in %s must be a mapping like {\"a\": b}, got %s", key,
                           x->label, ts_config__describe(n, got, sizeof got));
    }
    size_t np = n->n / 2;
    if (np > TS_CONFIG_MAX_LIST)
        return TS_CFG_FAIL(x->cx, n, "'%s' in %s has more than %d entries", key, x->label,
                           TS_CONFIG_MAX_LIST);
    ts_cfg_feed_map *v = own(x, (np + 1) * sizeof *v);
    if (v == NULL)
        return oom(x);
    for (size_t i = 0; i < np; i++) {
        TS_TRY(get_str(x, n->kids[2 * i], key, &v[i].match));
        TS_TRY(get_str(x, n->kids[2 * i + 1], key, &v[i].to));
    }
    *out = v;
    *count = (int)np;
    return TS_OK;
}

static ts_status unknown(fctx *x, const ts_cnode *key, const char *where,
                         const char *const *names);

static ts_status
need_map(fctx *x, const ts_cnode *n, const char *key)
{
    if (n->kind == TS_CNODE_MAP)
        return TS_OK;
    char got[96];
    return TS_CFG_FAIL(x->cx, n, "'%s' in %s must be a mapping of settings, got %s", key,
                       x->label, ts_config__describe(n, got, sizeof got));
}

static const char *const mqtt_keys[] = {"host", "port", "topics", "qos", "username", "password",
                                        "tls", "ca_file", "client_id", "keepalive", NULL};

static ts_status
read_mqtt(fctx *x, const ts_cnode *m, ts_cfg_feed *q)
{
    TS_TRY(need_map(x, m, "mqtt"));
    for (size_t p = 0; p + 1 < m->n; p += 2) {
        const ts_cnode *k = m->kids[p], *v = m->kids[p + 1];
        const char *s = k->str;
        long l;
        if (strcmp(s, "host") == 0) {
            TS_TRY(get_str(x, v, "mqtt.host", &q->mqtt.host));
            if (strstr(q->mqtt.host, "://") != NULL || strchr(q->mqtt.host, '@') != NULL ||
                strchr(q->mqtt.host, '/') != NULL)
                return TS_CFG_FAIL(x->cx, v,
                                   "mqtt.host is a host name or address (no scheme, user, "
                                   "password or path: use mqtt.port, mqtt.username, "
                                   "mqtt.password, mqtt.tls)");
        } else if (strcmp(s, "port") == 0) {
            TS_TRY(get_int(x, v, "mqtt.port", 1, 65535, &l));
            q->mqtt.port = (int)l;
            q->set |= TS_CFG_FEED_MQTT_PORT;
        } else if (strcmp(s, "topics") == 0) {
            TS_TRY(get_list(x, v, "mqtt.topics", &q->mqtt.topics, &q->mqtt.ntopics));
        } else if (strcmp(s, "qos") == 0) {
            TS_TRY(get_int(x, v, "mqtt.qos", 0, 2, &l));
            q->mqtt.qos = (int)l;
            q->set |= TS_CFG_FEED_MQTT_QOS;
        } else if (strcmp(s, "username") == 0) {
            TS_TRY(get_str(x, v, "mqtt.username", &q->mqtt.username));
        } else if (strcmp(s, "password") == 0) {
            TS_TRY(get_str(x, v, "mqtt.password", &q->mqtt.password));
        } else if (strcmp(s, "tls") == 0) {
            TS_TRY(get_bool(x, v, "mqtt.tls", &q->mqtt.tls));
            q->set |= TS_CFG_FEED_MQTT_TLS;
        } else if (strcmp(s, "ca_file") == 0) {
            const char *raw;
            char *path;
            TS_TRY(get_str(x, v, "mqtt.ca_file", &raw));
            TS_TRY(ts_config__resolve_path(x->cx, v, "mqtt.ca_file", raw, 0, 1, &path));
            char *o = own(x, strlen(path) + 1);
            if (o == NULL) {
                free(path);
                return oom(x);
            }
            memcpy(o, path, strlen(path) + 1);
            free(path);
            q->mqtt.ca_file = o;
        } else if (strcmp(s, "client_id") == 0) {
            TS_TRY(get_str(x, v, "mqtt.client_id", &q->mqtt.client_id));
        } else if (strcmp(s, "keepalive") == 0) {
            TS_TRY(get_int(x, v, "mqtt.keepalive", 5, 3600, &l));
            q->mqtt.keepalive_s = (int)l;
            q->set |= TS_CFG_FEED_MQTT_KEEPALIVE;
        } else {
            return unknown(x, k, "mqtt", mqtt_keys);
        }
    }
    if (q->mqtt.host == NULL || q->mqtt.host[0] == '\0')
        return TS_CFG_FAIL(x->cx, m, "'mqtt' in %s needs a 'host'", x->label);
    return TS_OK;
}

/* A path resolved against the config's directory (OGR connection strings allowed). */
static ts_status
get_path(fctx *x, const ts_cnode *n, const char *key, const char **out)
{
    const char *raw;
    char *path, what[160];
    TS_TRY(get_str(x, n, key, &raw));
    snprintf(what, sizeof what, "'%s' of %s", key, x->label);
    TS_TRY(ts_config__resolve_path(x->cx, n, what, raw, 1, 0, &path));
    size_t l = strlen(path);
    char *o = own(x, l + 1);
    if (o == NULL) {
        free(path);
        return oom(x);
    }
    memcpy(o, path, l + 1);
    free(path);
    *out = o;
    return TS_OK;
}

static const char *const table_keys[] = {"path", "layer", "id_field", "sensor_field",
                                         "label_field", NULL};

static ts_status
read_table(fctx *x, const ts_cnode *m, const char *key, ts_cfg_feed_table *t)
{
    TS_TRY(need_map(x, m, key));
    for (size_t p = 0; p + 1 < m->n; p += 2) {
        const ts_cnode *k = m->kids[p], *v = m->kids[p + 1];
        if (strcmp(k->str, "path") == 0)
            TS_TRY(get_path(x, v, key, &t->path));
        else if (strcmp(k->str, "layer") == 0)
            TS_TRY(get_str(x, v, "layer", &t->layer));
        else if (strcmp(k->str, "id_field") == 0)
            TS_TRY(get_str(x, v, "id_field", &t->id_field));
        else if (strcmp(k->str, "sensor_field") == 0)
            TS_TRY(get_str(x, v, "sensor_field", &t->sensor_field));
        else if (strcmp(k->str, "label_field") == 0)
            TS_TRY(get_str(x, v, "label_field", &t->label_field));
        else
            return unknown(x, k, key, table_keys);
    }
    if (t->path == NULL)
        return TS_CFG_FAIL(x->cx, m, "'%s' in %s needs a 'path'", key, x->label);
    return TS_OK;
}

static const char *const lorawan_keys[] = {"format", "key", "decoder", NULL};
static const char *const lw_formats[] = {"auto", "tts", "chirpstack", NULL};
static const char *const lw_key_names[] = {"dev_eui", "device_id", NULL};
static const char *const lw_decoders[] = {"none", "bosch_pls", NULL};

static ts_status
read_lorawan(fctx *x, const ts_cnode *m, ts_cfg_feed *c)
{
    TS_TRY(need_map(x, m, "lorawan"));
    for (size_t p = 0; p + 1 < m->n; p += 2) {
        const ts_cnode *k = m->kids[p], *v = m->kids[p + 1];
        int i;
        if (strcmp(k->str, "format") == 0) {
            TS_TRY(get_choice(x, v, "lorawan.format", lw_formats, &i));
            c->lorawan_format = lw_formats[i];
        } else if (strcmp(k->str, "key") == 0) {
            TS_TRY(get_choice(x, v, "lorawan.key", lw_key_names, &i));
            c->lorawan_key = lw_key_names[i];
        } else if (strcmp(k->str, "decoder") == 0) {
            TS_TRY(get_choice(x, v, "lorawan.decoder", lw_decoders, &i));
            c->lorawan_decoder = lw_decoders[i];
        } else {
            return unknown(x, k, "lorawan", lorawan_keys);
        }
    }
    return TS_OK;
}

static const char *const feed_keys[] = {
    "kind", "url", "filter", "query", "http_headers", "page_size", "max_pages", "poll",
    "timeout", "backoff_min", "backoff_max", "max_document_bytes", "max_message_bytes",
    "stale_after", "stale_state", "stale_basis", "publish_interval_ms", "mqtt", "sensor", "id",
    "label", "value_name", "values", "states", "fields", "state", "time", "value_paths",
    "lorawan", "devices", "simulate", "air_csv", "bays", "air_speed", "parking_speed", "seed",
    "dead_share", NULL};
static const char *const kinds[] = {"sensorthings", "lorawan", "geojson", "demo", NULL};
static const char *const bases[] = {"observed", "received", NULL};
static const char *const pers[] = {"thing", "datastream", NULL};
static const char *const sims[] = {"air", "parking", NULL};

static ts_status
unknown(fctx *x, const ts_cnode *key, const char *where, const char *const *names)
{
    ts_cfg_suggest sg;
    ts_config__suggest_init(&sg, key->str);
    for (int i = 0; names[i]; i++)
        ts_config__suggest_add(&sg, names[i]);
    if (sg.best)
        return TS_CFG_FAIL(x->cx, key, "unknown key '%.80s' in %s of %s (did you mean '%s'?)",
                           key->str, where, x->label, sg.best);
    return TS_CFG_FAIL(x->cx, key, "unknown key '%.80s' in %s of %s", key->str, where, x->label);
}

/* Which kinds a key applies to (bit per ts_feed_kind); 0xf = all. */
static unsigned
key_kinds(const char *k)
{
    enum { ST = 1, LW = 2, GJ = 4, DM = 8 };
    static const struct {
        const char *k;
        unsigned kinds;
    } t[] = {{"url", ST | GJ},       {"filter", ST},          {"query", ST},
             {"http_headers", ST | GJ}, {"page_size", ST},    {"max_pages", ST},
             {"poll", ST | GJ},      {"timeout", ST | GJ},    {"max_document_bytes", ST | GJ},
             {"mqtt", ST | LW},      {"sensor", ST},          {"value_name", ST},
             {"time", GJ},           {"value_paths", LW | GJ}, {"lorawan", LW},
             {"devices", LW},        {"simulate", DM},        {"air_csv", DM},
             {"bays", DM},           {"air_speed", DM},       {"parking_speed", DM},
             {"seed", DM},           {"dead_share", DM}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].k, k) == 0)
            return t[i].kinds;
    return 0xfu;
}

#define SETBIT(bit) (c->set |= (bit), TS_OK)

static ts_status
read_feed_key(fctx *x, const ts_cnode *k, const ts_cnode *v, ts_cfg_feed *c)
{
    const char *s = k->str;
    long l;
    double d;
    int i;
    if (strcmp(s, "url") == 0)
        return get_str(x, v, s, &c->url);
    if (strcmp(s, "filter") == 0)
        return get_str(x, v, s, &c->filter);
    if (strcmp(s, "query") == 0)
        return get_str(x, v, s, &c->query);
    if (strcmp(s, "http_headers") == 0)
        return get_list(x, v, s, &c->http_headers, &c->nhttp_headers);
    if (strcmp(s, "page_size") == 0) {
        TS_TRY(get_int(x, v, s, 1, 10000, &l));
        c->page_size = (int)l;
        return SETBIT(TS_CFG_FEED_PAGE_SIZE);
    }
    if (strcmp(s, "max_pages") == 0) {
        TS_TRY(get_int(x, v, s, 1, 1000000, &l));
        c->max_pages = (int)l;
        return SETBIT(TS_CFG_FEED_MAX_PAGES);
    }
    if (strcmp(s, "poll") == 0) {
        TS_TRY(get_num(x, v, s, 0, 604800, &c->poll_s));
        return SETBIT(TS_CFG_FEED_POLL);
    }
    if (strcmp(s, "timeout") == 0) {
        TS_TRY(get_num(x, v, s, 0, 600, &c->timeout_s));
        if (!(c->timeout_s > 0))
            return TS_CFG_FAIL(x->cx, v, "'timeout' in %s must be greater than 0", x->label);
        return SETBIT(TS_CFG_FEED_TIMEOUT);
    }
    if (strcmp(s, "backoff_min") == 0) {
        TS_TRY(get_num(x, v, s, 0.001, 86400, &c->backoff_min_s));
        return SETBIT(TS_CFG_FEED_BACKOFF_MIN);
    }
    if (strcmp(s, "backoff_max") == 0) {
        TS_TRY(get_num(x, v, s, 0.001, 86400, &c->backoff_max_s));
        return SETBIT(TS_CFG_FEED_BACKOFF_MAX);
    }
    if (strcmp(s, "max_document_bytes") == 0) {
        TS_TRY(get_int(x, v, s, 1024, 4294967296L, &l));
        c->max_document_bytes = (size_t)l;
        return SETBIT(TS_CFG_FEED_MAX_DOC);
    }
    if (strcmp(s, "max_message_bytes") == 0) {
        TS_TRY(get_int(x, v, s, 64, 268435456L, &l));
        c->max_message_bytes = (size_t)l;
        return SETBIT(TS_CFG_FEED_MAX_MSG);
    }
    if (strcmp(s, "stale_after") == 0) {
        TS_TRY(get_num(x, v, s, 0, 31536000, &c->stale_after_s));
        return SETBIT(TS_CFG_FEED_STALE_AFTER);
    }
    if (strcmp(s, "stale_state") == 0) {
        if (ts_config__is_null(v) && !v->quoted) {
            c->stale_state = "";
            return TS_OK;
        }
        return get_str(x, v, s, &c->stale_state);
    }
    if (strcmp(s, "stale_basis") == 0) {
        TS_TRY(get_choice(x, v, s, bases, &i));
        c->stale_basis = bases[i];
        return TS_OK;
    }
    if (strcmp(s, "publish_interval_ms") == 0) {
        TS_TRY(get_int(x, v, s, 1, 60000, &l));
        c->publish_interval_ms = (int)l;
        return SETBIT(TS_CFG_FEED_PUBLISH);
    }
    if (strcmp(s, "mqtt") == 0)
        return read_mqtt(x, v, c);
    if (strcmp(s, "sensor") == 0) {
        TS_TRY(get_choice(x, v, s, pers, &i));
        c->sensor = pers[i];
        return TS_OK;
    }
    if (strcmp(s, "id") == 0)
        return get_str(x, v, s, &c->id);
    if (strcmp(s, "label") == 0)
        return get_str(x, v, s, &c->label);
    if (strcmp(s, "value_name") == 0)
        return get_str(x, v, s, &c->value_name);
    if (strcmp(s, "values") == 0)
        return get_map(x, v, s, &c->values, &c->nvalues);
    if (strcmp(s, "states") == 0)
        return get_map(x, v, s, &c->states, &c->nstates);
    if (strcmp(s, "fields") == 0)
        return get_list(x, v, s, &c->fields, &c->nfields);
    if (strcmp(s, "state") == 0)
        return get_str(x, v, s, &c->state);
    if (strcmp(s, "time") == 0)
        return get_str(x, v, s, &c->time);
    if (strcmp(s, "value_paths") == 0)
        return get_list(x, v, s, &c->value_paths, &c->nvalue_paths);
    if (strcmp(s, "lorawan") == 0)
        return read_lorawan(x, v, c);
    if (strcmp(s, "devices") == 0)
        return read_table(x, v, "devices", &c->devices);
    if (strcmp(s, "simulate") == 0) {
        TS_TRY(get_choice(x, v, s, sims, &i));
        c->simulate = sims[i];
        return TS_OK;
    }
    if (strcmp(s, "air_csv") == 0)
        return get_path(x, v, s, &c->air_csv);
    if (strcmp(s, "bays") == 0)
        return read_table(x, v, "bays", &c->bays);
    if (strcmp(s, "air_speed") == 0) {
        TS_TRY(get_num(x, v, s, 0.001, 1e6, &c->air_speed));
        return SETBIT(TS_CFG_FEED_AIR_SPEED);
    }
    if (strcmp(s, "parking_speed") == 0) {
        TS_TRY(get_num(x, v, s, 0.001, 1e6, &c->parking_speed));
        return SETBIT(TS_CFG_FEED_PARKING_SPEED);
    }
    if (strcmp(s, "seed") == 0) {
        TS_TRY(get_num(x, v, s, 0, 9007199254740992.0, &d));
        c->seed = (uint64_t)d;
        return SETBIT(TS_CFG_FEED_SEED);
    }
    if (strcmp(s, "dead_share") == 0) {
        TS_TRY(get_num(x, v, s, 0, 1, &c->dead_share));
        return SETBIT(TS_CFG_FEED_DEAD_SHARE);
    }
    return unknown(x, k, "the settings", feed_keys);
}

/* FNV-1a over the subtree as written (kinds, keys, scalars). */
static uint64_t
hash_node(const ts_cnode *n, uint64_t h)
{
    h = (h ^ (uint64_t)n->kind) * 1099511628211ull;
    if (n->kind == TS_CNODE_SCALAR) {
        for (size_t i = 0; i < n->len; i++)
            h = (h ^ (unsigned char)n->str[i]) * 1099511628211ull;
        return (h ^ 0xffu) * 1099511628211ull;
    }
    for (size_t i = 0; i < n->n; i++)
        h = hash_node(n->kids[i], h);
    return (h ^ 0xfeu) * 1099511628211ull;
}

static ts_status
build_feed(const ts_cfg_ctx *cx, ts_cfg_feed *f, const ts_cnode *key, const ts_cnode *map)
{
    fctx x = {.cx = cx, .f = f};
    snprintf(x.label, sizeof x.label, "feed '%s'", f->name);
    const ts_cnode *kind = NULL;
    for (size_t p = 0; p + 1 < map->n; p += 2)
        if (strcmp(map->kids[p]->str, "kind") == 0)
            kind = map->kids[p + 1];
    if (kind == NULL)
        return TS_CFG_FAIL(cx, key, "missing required key 'kind' in %s (sensorthings, lorawan, "
                           "geojson or demo)", x.label);
    int k;
    TS_TRY(get_choice(&x, kind, "kind", kinds, &k));
    f->kind = kinds[k];
    const ts_cnode *urln = NULL;
    for (size_t p = 0; p + 1 < map->n; p += 2) {
        const ts_cnode *kk = map->kids[p], *v = map->kids[p + 1];
        if (strcmp(kk->str, "kind") == 0)
            continue;
        if (strcmp(kk->str, "url") == 0)
            urln = v;
        unsigned ok = key_kinds(kk->str);
        if (!(ok & (1u << k))) {
            int known = 0;
            for (int i = 0; feed_keys[i]; i++)
                known |= strcmp(feed_keys[i], kk->str) == 0;
            if (known)
                return TS_CFG_FAIL(cx, kk, "'%s' does not apply to %s (kind %s)", kk->str,
                                   x.label, kinds[k]);
        }
        TS_TRY(read_feed_key(&x, kk, v, f));
    }
    /* what the kind needs (the feed module checks the rest when the feed is created) */
    if ((k == 0 || k == 2) && f->url == NULL)
        return TS_CFG_FAIL(cx, key, "missing required key 'url' in %s (kind %s)", x.label,
                           kinds[k]);
    if (f->url != NULL && strncmp(f->url, "http://", 7) != 0 && strncmp(f->url, "https://", 8) != 0)
        return TS_CFG_FAIL(cx, urln, "'url' in %s must start with http:// or https://", x.label);
    if (k == 1 && (f->mqtt.host == NULL || f->mqtt.ntopics == 0 || f->devices.path == NULL))
        return TS_CFG_FAIL(cx, key, "%s (kind lorawan) needs mqtt.host, mqtt.topics and "
                           "devices.path", x.label);
    if (k == 3) {
        int parking = f->simulate != NULL && strcmp(f->simulate, "parking") == 0;
        if (parking && f->bays.path == NULL)
            return TS_CFG_FAIL(cx, key, "%s (demo parking) needs bays.path", x.label);
        if (!parking && f->air_csv == NULL)
            return TS_CFG_FAIL(cx, key, "%s (demo air) needs air_csv", x.label);
    }
    if ((f->set & TS_CFG_FEED_BACKOFF_MIN) && (f->set & TS_CFG_FEED_BACKOFF_MAX) &&
        f->backoff_max_s < f->backoff_min_s)
        return TS_CFG_FAIL(cx, key, "%s: backoff_max is less than backoff_min", x.label);
    f->hash = hash_node(map, 14695981039346656037ull);
    /* paths are part of the identity too (the same text may resolve elsewhere) */
    for (const char *d = cx->dir; d && *d; d++)
        f->hash = (f->hash ^ (unsigned char)*d) * 1099511628211ull;
    return TS_OK;
}

void
ts_config__feed_free(ts_cfg_feed *f)
{
    for (int i = 0; i < f->nowned; i++)
        free(f->owned[i]);
    free(f->owned);
    free(f->name);
}

ts_status
ts_config__build_feeds(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec)
{
    if (sec == NULL || ts_config__is_null(sec))
        return TS_OK;
    if (sec->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(cx, sec, "'feeds' must be a mapping from feed name to feed settings, "
                           "got %s", ts_config__describe(sec, got, sizeof got));
    }
    size_t n = sec->n / 2;
    if (n == 0)
        return TS_OK;
    c->feeds = calloc(n, sizeof *c->feeds);
    if (c->feeds == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "feeds: out of memory");
    for (size_t i = 0; i < n; i++) {
        const ts_cnode *key = sec->kids[2 * i], *map = sec->kids[2 * i + 1];
        if (!ts_config__name_ok(key->str))
            return TS_CFG_FAIL(cx, key, "bad feed name '%.80s' (1 to %d of A-Z a-z 0-9 _ . -)",
                               key->str, TS_CONFIG_MAX_NAME);
        if (map->kind != TS_CNODE_MAP) {
            char got[96];
            return TS_CFG_FAIL(cx, ts_config__is_null(map) ? key : map,
                               "feed '%s' must be a mapping of settings, got %s", key->str,
                               ts_config__describe(map, got, sizeof got));
        }
        ts_cfg_feed *f = &c->feeds[c->nfeeds++];
        f->line = key->line;
        f->col = key->col;
        if ((f->name = strdup(key->str)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "feeds: out of memory");
        TS_TRY(build_feed(cx, f, key, map));
    }
    return TS_OK;
}
