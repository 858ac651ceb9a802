/* feed/sta.c — OGC SensorThings API 1.1: Things documents (with Locations, Datastreams and
 * each Datastream's latest Observation expanded) and Observations pushed over MQTT, to
 * observations; the Datastream index that routes pushed Observations; request URLs. */
#include "feed/feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hash.h"

/* ---- Datastream index ------------------------------------------------------------------ */

struct ts_sta_index {
    ts_sta_binding *b; /* owned strings */
    size_t n, cap;
    uint32_t *slots;
    size_t nslots;
};

static uint64_t
str_hash(const char *s)
{
    return ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, s, strlen(s)));
}

ts_sta_index *
ts_sta_index_new(void)
{
    return calloc(1, sizeof(ts_sta_index));
}

void
ts_sta_index_free(ts_sta_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->n; i++) {
        free((char *)ix->b[i].ds);
        free((char *)ix->b[i].sensor);
        free((char *)ix->b[i].name);
    }
    free(ix->b);
    free(ix->slots);
    free(ix);
}

static size_t
slot_of(const ts_sta_index *ix, const char *ds)
{
    size_t h = (size_t)str_hash(ds) & (ix->nslots - 1);
    while (ix->slots[h] != 0 && strcmp(ix->b[ix->slots[h] - 1].ds, ds) != 0)
        h = (h + 1) & (ix->nslots - 1);
    return h;
}

const ts_sta_binding *
ts_sta_index_find(const ts_sta_index *ix, const char *ds)
{
    if (ix == NULL || ix->nslots == 0 || ds == NULL)
        return NULL;
    size_t h = slot_of(ix, ds);
    return ix->slots[h] ? &ix->b[ix->slots[h] - 1] : NULL;
}

static int
set_owned(const char **dst, const char *s)
{
    if (*dst != NULL && strcmp(*dst, s) == 0)
        return 0;
    char *c = strdup(s);
    if (c == NULL)
        return -1;
    free((char *)*dst);
    *dst = c;
    return 1;
}

int
ts_sta_index_put(ts_sta_index *ix, const char *ds, const char *sensor, const char *name)
{
    const ts_sta_binding *old = ts_sta_index_find(ix, ds);
    if (old != NULL) {
        ts_sta_binding *b = (ts_sta_binding *)old;
        char *ns = strdup(sensor), *nn = strdup(name);
        if (ns == NULL || nn == NULL) {
            free(ns);
            free(nn);
            return -1;
        }
        free((char *)b->sensor);
        free((char *)b->name);
        b->sensor = ns;
        b->name = nn;
        return 0;
    }
    if ((ix->n + 1) * 2 >= ix->nslots) {
        size_t ns = ix->nslots ? ix->nslots * 2 : 64;
        uint32_t *slots = calloc(ns, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < ix->n; i++) {
            size_t h = (size_t)str_hash(ix->b[i].ds) & (ns - 1);
            while (slots[h] != 0)
                h = (h + 1) & (ns - 1);
            slots[h] = (uint32_t)(i + 1);
        }
        free(ix->slots);
        ix->slots = slots;
        ix->nslots = ns;
    }
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        ts_sta_binding *nb = realloc(ix->b, cap * sizeof *nb);
        if (nb == NULL)
            return -1;
        ix->b = nb;
        ix->cap = cap;
    }
    ts_sta_binding nb = {0};
    if (set_owned(&nb.ds, ds) < 0 || set_owned(&nb.sensor, sensor) < 0 ||
        set_owned(&nb.name, name) < 0) {
        free((char *)nb.ds);
        free((char *)nb.sensor);
        free((char *)nb.name);
        return -1;
    }
    ix->b[ix->n++] = nb;
    ix->slots[slot_of(ix, ds)] = (uint32_t)ix->n;
    return 1;
}

size_t
ts_sta_index_count(const ts_sta_index *ix)
{
    return ix ? ix->n : 0;
}

const ts_sta_binding *
ts_sta_index_at(const ts_sta_index *ix, size_t i)
{
    return ix && i < ix->n ? &ix->b[i] : NULL;
}

/* ---- observations ----------------------------------------------------------------------- */

static int
is_nan_text(const char *s)
{
    const char *p = s[0] == '-' || s[0] == '+' ? s + 1 : s;
    return strcasecmp(p, "nan") == 0 || strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0;
}

/* One Observation object into out for sensor/name. 1 = added, 0 = nothing to add (null
 * result, or a number for a Datastream without a field name), -1 = error counted. */
static int
add_observation(const ts_feed_config *cfg, json_t *o, const char *sensor, const char *name,
                ts_obs_batch *out)
{
    if (!json_is_object(o)) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: Observation is not an object",
                           sensor);
        return -1;
    }
    json_t *pt = json_object_get(o, "phenomenonTime");
    int64_t t;
    if (!json_is_string(pt) || ts_feed_time_parse(json_string_value(pt), &t) != 0) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: phenomenonTime missing or unreadable",
                           sensor);
        return -1;
    }
    json_t *r = json_object_get(o, "result");
    ts_obs ob = {.sensor = sensor, .time_ms = t};
    if (r == NULL || json_is_null(r))
        return 0;
    if (json_is_number(r)) {
        if (name == NULL || name[0] == '\0')
            return 0;
        ob.kind = TS_OBS_VALUE;
        ob.name = name;
        ob.value = json_number_value(r);
    } else if (json_is_string(r) || json_is_boolean(r)) {
        const char *txt =
            json_is_boolean(r) ? (json_is_true(r) ? "true" : "false") : json_string_value(r);
        size_t len = json_is_string(r) ? json_string_length(r) : strlen(txt);
        if (len == 0 || len >= TS_FEED_ID_MAX || memchr(txt, 0, len) != NULL) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: result text empty or too long",
                               sensor);
            return -1;
        }
        if (is_nan_text(txt)) {
            ts_obs_batch_error(out, TS_FEED_ERR_RANGE, "sensor %s: result %s", sensor, txt);
            return -1;
        }
        ob.kind = TS_OBS_STATE;
        ob.state = ts_obs_batch_strdup(out, ts_feed_state_name(&cfg->map, txt));
        if (ob.state == NULL)
            return -1;
    } else {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: result is an object or array",
                           sensor);
        return -1;
    }
    return ts_obs_batch_add(out, &ob) == TS_OK ? 1 : -1;
}

/* Position of a Thing: its first Location, else the first Datastream's observedArea.
 * 1 found, 0 none, -1 error counted. */
static int
thing_position(json_t *thing, json_t *ds, const char *sensor, double *lon, double *lat,
               ts_obs_batch *out)
{
    json_t *locs = json_object_get(thing, "Locations");
    json_t *g = NULL;
    if (json_is_array(locs) && json_array_size(locs) > 0) {
        json_t *loc = json_array_get(locs, 0);
        g = json_is_object(loc) ? json_object_get(loc, "location") : NULL;
        if (g == NULL) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: Location without location",
                               sensor);
            return -1;
        }
    } else if (ds != NULL) {
        g = json_object_get(ds, "observedArea");
        if (g == NULL)
            return 0;
    } else {
        return 0;
    }
    int rc = ts_feed_json_point(g, lon, lat);
    if (rc == -2) {
        ts_obs_batch_error(out, TS_FEED_ERR_RANGE, "sensor %s: coordinates out of range", sensor);
        return -1;
    }
    if (rc != 0) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: location is not GeoJSON", sensor);
        return -1;
    }
    return 1;
}

static const char *
path_or(const char *p, const char *dflt)
{
    return p != NULL && p[0] != '\0' ? p : dflt;
}

/* Field name of a Datastream: "" when it maps to none (numbers ignored, states kept). */
static const char *
datastream_field(const ts_feed_config *cfg, json_t *d, ts_obs_batch *out)
{
    const char *vp = cfg->map.value_name_path;
    if (cfg->map.per == TS_FEED_PER_THING)
        vp = path_or(vp, "name");
    char name[TS_FEED_ID_MAX], raw[TS_FEED_ID_MAX];
    if (vp == NULL || vp[0] == '\0')
        return ts_obs_batch_strdup(out, "value");
    json_t *v = ts_feed_json_path(d, vp);
    if (v == NULL || ts_feed_json_idtext(v, raw, sizeof raw) != 0)
        return ts_obs_batch_strdup(out, "");
    if (ts_feed_field_name(&cfg->map, raw, name, sizeof name) != 0)
        return ts_obs_batch_strdup(out, "");
    return ts_obs_batch_strdup(out, name);
}

static const char *
text_at(json_t *obj, const char *path, ts_obs_batch *out)
{
    char buf[TS_FEED_ID_MAX];
    json_t *v = ts_feed_json_path(obj, path);
    if (v == NULL || ts_feed_json_idtext(v, buf, sizeof buf) != 0)
        return NULL;
    return ts_obs_batch_strdup(out, buf);
}

/* One Thing in per-thing mode. */
static void
thing_per_thing(const ts_feed_config *cfg, json_t *thing, ts_obs_batch *out)
{
    char idbuf[TS_FEED_ID_MAX];
    const char *idp = path_or(cfg->map.id_path, "@iot.id");
    if (ts_feed_json_idtext(ts_feed_json_path(thing, idp), idbuf, sizeof idbuf) != 0) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "Thing without a usable '%s'", idp);
        return;
    }
    const char *sensor = ts_obs_batch_strdup(out, idbuf);
    if (sensor == NULL)
        return;
    json_t *dss = json_object_get(thing, "Datastreams");
    if (dss != NULL && !json_is_array(dss)) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: Datastreams is not an array", sensor);
        ts_obs_batch_keep(out, sensor);
        return;
    }
    ts_obs head = {.sensor = sensor, .time_ms = TS_FEED_TIME_NONE};
    json_t *ds0 = NULL;
    for (size_t i = 0; dss != NULL && i < json_array_size(dss) && ds0 == NULL; i++)
        if (json_is_object(json_array_get(dss, i)))
            ds0 = json_array_get(dss, i);
    int pr = thing_position(thing, ds0, sensor, &head.lon, &head.lat, out);
    if (pr < 0) { /* a Thing with a broken location is skipped whole; its last good state stays */
        ts_obs_batch_keep(out, sensor);
        return;
    }
    head.has_pos = pr;
    head.label = text_at(thing, path_or(cfg->map.label_path, "name"), out);
    if (ts_obs_batch_add(out, &head) != TS_OK)
        return;
    for (size_t i = 0; dss != NULL && i < json_array_size(dss); i++) {
        json_t *d = json_array_get(dss, i);
        char dsid[TS_FEED_ID_MAX];
        if (!json_is_object(d) ||
            ts_feed_json_idtext(json_object_get(d, "@iot.id"), dsid, sizeof dsid) != 0) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: Datastream without @iot.id",
                               sensor);
            continue;
        }
        const char *name = datastream_field(cfg, d, out);
        const char *ds = ts_obs_batch_strdup(out, dsid);
        if (name == NULL || ds == NULL || ts_obs_batch_bind(out, ds, sensor, name) != TS_OK)
            return;
        json_t *obs = json_object_get(d, "Observations");
        if (json_is_array(obs) && json_array_size(obs) > 0)
            add_observation(cfg, json_array_get(obs, 0), sensor, name, out);
        else if (obs != NULL && !json_is_array(obs))
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: Observations is not an array",
                               sensor);
    }
}

/* One Thing in per-datastream mode: every Datastream is a sensor. */
static void
thing_per_datastream(const ts_feed_config *cfg, json_t *thing, ts_obs_batch *out)
{
    json_t *dss = json_object_get(thing, "Datastreams");
    if (!json_is_array(dss)) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "Thing without a Datastreams array");
        return;
    }
    const char *idp = path_or(cfg->map.id_path, "@iot.id");
    for (size_t i = 0; i < json_array_size(dss); i++) {
        json_t *d = json_array_get(dss, i);
        char idbuf[TS_FEED_ID_MAX], dsid[TS_FEED_ID_MAX];
        if (!json_is_object(d) ||
            ts_feed_json_idtext(json_object_get(d, "@iot.id"), dsid, sizeof dsid) != 0 ||
            ts_feed_json_idtext(ts_feed_json_path(d, idp), idbuf, sizeof idbuf) != 0) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "Datastream without a usable '%s'", idp);
            continue;
        }
        const char *sensor = ts_obs_batch_strdup(out, idbuf);
        const char *ds = ts_obs_batch_strdup(out, dsid);
        if (sensor == NULL || ds == NULL)
            return;
        ts_obs head = {.sensor = sensor, .time_ms = TS_FEED_TIME_NONE};
        int pr = thing_position(thing, d, sensor, &head.lon, &head.lat, out);
        if (pr < 0)
            continue;
        head.has_pos = pr;
        head.label = text_at(d, path_or(cfg->map.label_path, "name"), out);
        const char *name = datastream_field(cfg, d, out);
        if (name == NULL || ts_obs_batch_add(out, &head) != TS_OK ||
            ts_obs_batch_bind(out, ds, sensor, name) != TS_OK)
            return;
        json_t *obs = json_object_get(d, "Observations");
        if (json_is_array(obs) && json_array_size(obs) > 0)
            add_observation(cfg, json_array_get(obs, 0), sensor, name, out);
    }
}

ts_status
ts_sta_parse_things(const ts_feed_config *cfg, const void *doc, size_t len, ts_obs_batch *out,
                    ts_err *err)
{
    char jerr[160];
    json_t *root = ts_feed_json_load(doc, len, jerr, sizeof jerr);
    if (root == NULL) {
        out->errors[TS_FEED_ERR_PARSE]++;
        return TS_FAIL(err, TS_EINVAL, "Things document is not JSON: %s", jerr);
    }
    ts_status rc = TS_OK;
    json_t *things = json_is_object(root) ? json_object_get(root, "value") : NULL;
    json_t *single = NULL;
    if (things == NULL && json_is_object(root) && json_object_get(root, "@iot.id") != NULL) {
        single = json_array();
        if (single == NULL || json_array_append(single, root) != 0) {
            rc = TS_FAIL(err, TS_ENOMEM, "Things document");
            goto done;
        }
        things = single;
    }
    if (!json_is_array(things)) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "Things document has no \"value\" array");
        goto done;
    }
    json_t *next = json_object_get(root, "@iot.nextLink");
    if (json_is_string(next) && json_string_length(next) > 0 && json_string_length(next) < 8192)
        out->next_link = ts_obs_batch_strdup(out, json_string_value(next));
    else if (next != NULL && !json_is_null(next))
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "@iot.nextLink is not a usable string");
    for (size_t i = 0; i < json_array_size(things); i++) {
        json_t *thing = json_array_get(things, i);
        if (!json_is_object(thing)) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "Thing %zu is not an object", i);
            continue;
        }
        if (cfg->map.per == TS_FEED_PER_DATASTREAM)
            thing_per_datastream(cfg, thing, out);
        else
            thing_per_thing(cfg, thing, out);
    }
done:
    json_decref(single);
    json_decref(root);
    return rc;
}

int
ts_sta_topic_datastream(const char *topic, char *buf, size_t size)
{
    if (topic == NULL)
        return -1;
    const char *p = strstr(topic, "Datastreams(");
    if (p == NULL)
        return -1;
    p += strlen("Datastreams(");
    const char *q = strchr(p, ')');
    if (q == NULL)
        return -1;
    if (q - p >= 2 && *p == '\'' && q[-1] == '\'') {
        p++;
        q--;
    }
    size_t n = (size_t)(q - p);
    if (n == 0 || n >= size || n >= TS_FEED_ID_MAX)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

ts_status
ts_sta_parse_observation(const ts_feed_config *cfg, const ts_sta_index *ix, const char *topic,
                         const void *doc, size_t len, ts_obs_batch *out, ts_err *err)
{
    char jerr[160], ds[TS_FEED_ID_MAX];
    int have_ds = ts_sta_topic_datastream(topic, ds, sizeof ds) == 0;
    json_t *root = ts_feed_json_load(doc, len, jerr, sizeof jerr);
    if (root == NULL) {
        out->errors[TS_FEED_ERR_PARSE]++;
        return TS_FAIL(err, TS_EINVAL, "Observation is not JSON: %s", jerr);
    }
    ts_status rc = TS_OK;
    if (!json_is_object(root)) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "Observation is not a JSON object");
        goto done;
    }
    if (!have_ds) {
        json_t *d = ts_feed_json_path(root, "Datastream/@iot.id");
        if (d == NULL)
            d = json_object_get(root, "Datastream@iot.id");
        if (ts_feed_json_idtext(d, ds, sizeof ds) != 0) {
            out->errors[TS_FEED_ERR_TYPE]++;
            rc = TS_FAIL(err, TS_EINVAL, "Observation names no Datastream (topic '%.64s')",
                         topic ? topic : "");
            goto done;
        }
    }
    const ts_sta_binding *b = ts_sta_index_find(ix, ds);
    if (b == NULL) {
        out->errors[TS_FEED_ERR_UNKNOWN]++;
        rc = TS_FAIL(err, TS_ENOENT, "Observation of unknown Datastream %s", ds);
        goto done;
    }
    const char *sensor = ts_obs_batch_strdup(out, b->sensor);
    const char *name = ts_obs_batch_strdup(out, b->name);
    if (sensor == NULL || name == NULL) {
        rc = TS_FAIL(err, TS_ENOMEM, "Observation");
        goto done;
    }
    json_t *res = json_object_get(root, "result");
    if (json_is_object(root) && (res == NULL || json_is_null(res))) {
        /* a message with nothing to apply is a fault of the gateway, counted (a Things
         * listing may hold such Observations: there they are passed over) */
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: the Observation has no result",
                           sensor);
        rc = TS_FAIL(err, TS_EINVAL, "Datastream %s: %s", ds, out->first_error);
    } else if (add_observation(cfg, root, sensor, name, out) < 0) {
        rc = TS_FAIL(err, TS_EINVAL, "Datastream %s: %s", ds, out->first_error);
    }
done:
    json_decref(root);
    return rc;
}

/* ---- URLs ----------------------------------------------------------------------------- */

static int
url_put(char **buf, size_t *len, size_t *cap, const char *s, int encode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*len + 4 >= *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            char *nb = realloc(*buf, nc);
            if (nb == NULL)
                return -1;
            *buf = nb;
            *cap = nc;
        }
        int keep = !encode || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || strchr("-._~,", *p) != NULL;
        if (keep) {
            (*buf)[(*len)++] = (char)*p;
        } else {
            (*buf)[(*len)++] = '%';
            (*buf)[(*len)++] = hex[*p >> 4];
            (*buf)[(*len)++] = hex[*p & 15];
        }
    }
    (*buf)[*len] = '\0';
    return 0;
}

static size_t
root_len(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    return n;
}

char *
ts_sta_first_url(const ts_feed_config *cfg)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char root[2048];
    size_t rl = root_len(cfg->url);
    if (rl >= sizeof root)
        return NULL;
    memcpy(root, cfg->url, rl);
    root[rl] = '\0';
    int bad = url_put(&buf, &len, &cap, root, 0);
    if (cfg->query != NULL && cfg->query[0] != '\0') {
        if (!bad && cfg->query[0] != '/')
            bad = url_put(&buf, &len, &cap, "/", 0);
        if (!bad)
            bad = url_put(&buf, &len, &cap, cfg->query, 0);
        if (bad) {
            free(buf);
            return NULL;
        }
        return buf;
    }
    char top[32];
    snprintf(top, sizeof top, "%d", cfg->page_size > 0 ? cfg->page_size : 100);
    bad = bad || url_put(&buf, &len, &cap, "/Things?$top=", 0) ||
          url_put(&buf, &len, &cap, top, 0) || url_put(&buf, &len, &cap, "&$expand=", 0) ||
          url_put(&buf, &len, &cap,
                  "Locations,Datastreams($expand=Observations($select=phenomenonTime,result;"
                  "$top=1;$orderby=phenomenonTime desc))",
                  1);
    if (!bad && cfg->filter != NULL && cfg->filter[0] != '\0')
        bad =
            url_put(&buf, &len, &cap, "&$filter=", 0) || url_put(&buf, &len, &cap, cfg->filter, 1);
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Length of "scheme://host[:port]" of url, or 0. */
static size_t
origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return 0;
    p += 3;
    while (*p && *p != '/' && *p != '?' && *p != '#')
        p++;
    return (size_t)(p - url);
}

char *
ts_sta_next_url(const ts_feed_config *cfg, const char *link)
{
    if (link == NULL || link[0] == '\0' || strlen(link) > 8192)
        return NULL;
    size_t rl = root_len(cfg->url);
    size_t ol = origin_len(cfg->url);
    if (ol == 0)
        return NULL;
    /* the service root's last segment, e.g. "/v1.1" */
    const char *seg = cfg->url + rl;
    while (seg > cfg->url + ol && seg[-1] != '/')
        seg--;
    size_t sl = (size_t)(cfg->url + rl - seg);
    char *out = NULL;
    if (sl > 0 && seg > cfg->url + ol) {
        size_t lo = origin_len(link);
        const char *p = link + lo;
        while ((p = strstr(p, "/")) != NULL) {
            if (strncmp(p + 1, seg, sl) == 0 && (p[1 + sl] == '/' || p[1 + sl] == '?')) {
                const char *rest = p + 1 + sl;
                out = malloc(rl + strlen(rest) + 1);
                if (out == NULL)
                    return NULL;
                memcpy(out, cfg->url, rl);
                memcpy(out + rl, rest, strlen(rest) + 1);
                return out;
            }
            p++;
        }
    }
    if (link[0] == '/') {
        out = malloc(ol + strlen(link) + 1);
        if (out == NULL)
            return NULL;
        memcpy(out, cfg->url, ol);
        memcpy(out + ol, link, strlen(link) + 1);
        return out;
    }
    size_t ll = origin_len(link);
    if (ll == ol && strncasecmp(link, cfg->url, ol) == 0)
        return strdup(link);
    return NULL;
}
