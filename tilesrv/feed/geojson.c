/* feed/geojson.c — GeoJSON both ways: a polled FeatureCollection of sensors to
 * observations, and a snapshot to the flat FeatureCollection /sensors/{feed}.geojson
 * serves (string escaping with UTF-8 repair, shortest exact numbers). */
#include "feed/feed_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADD_LIT(b, lit) ts_buf_add((b), (lit), sizeof(lit) - 1)

static const char *
path_or(const char *p, const char *dflt)
{
    return p != NULL ? p : dflt;
}

/* State text of a member: booleans and 0/1 as "true"/"false", other integers in decimal,
 * strings as they are. 1 = text set, 0 = absent/null, -1 = unusable. */
static int
state_text(json_t *v, char *txt, size_t size)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        snprintf(txt, size, "%s", json_is_true(v) ? "true" : "false");
        return 1;
    }
    if (json_is_integer(v)) {
        long long i = json_integer_value(v);
        if (i == 0 || i == 1)
            snprintf(txt, size, "%s", i ? "true" : "false");
        else
            snprintf(txt, size, "%lld", i);
        return 1;
    }
    if (json_is_string(v))
        return ts_feed_json_idtext(v, txt, size) == 0 ? 1 : -1;
    return -1;
}

static void
one_feature(const ts_feed_config *cfg, int64_t now_ms, json_t *f, size_t idx, json_t *seen,
            ts_obs_batch *out)
{
    const ts_feed_map_config *m = &cfg->map;
    if (!json_is_object(f)) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "feature %zu is not an object", idx);
        return;
    }
    char id[TS_FEED_ID_MAX];
    const char *idp = m->id_path && m->id_path[0] ? m->id_path : "id";
    if (ts_feed_json_idtext(ts_feed_json_path(f, idp), id, sizeof id) != 0) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "feature %zu has no usable '%s'", idx, idp);
        return;
    }
    /* one sensor, one feature: a second with the same id (7 and "7" alike) would mix its
     * position with the first's state; the first stands */
    if (seen != NULL) {
        if (json_object_get(seen, id) != NULL) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE,
                               "sensor %s: listed again at feature %zu (the first one is kept)",
                               id, idx);
            return;
        }
        json_object_set_new(seen, id, json_true());
    }
    ts_obs head = {.time_ms = TS_FEED_TIME_NONE};
    json_t *g = json_object_get(f, "geometry");
    if (g != NULL && !json_is_null(g)) {
        int r = ts_feed_json_point(g, &head.lon, &head.lat);
        if (r == -2) {
            ts_obs_batch_error(out, TS_FEED_ERR_RANGE, "sensor %s: coordinates out of range", id);
            ts_obs_batch_keep(out, id); /* skipped: its last good state stays */
            return;
        }
        if (r != 0) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: geometry is not GeoJSON", id);
            ts_obs_batch_keep(out, id); /* skipped: its last good state stays */
            return;
        }
        head.has_pos = 1;
    }
    int64_t t = now_ms;
    const char *tp = path_or(m->time_path, "properties/time");
    json_t *tv = tp[0] ? ts_feed_json_path(f, tp) : NULL;
    if (json_is_string(tv)) {
        if (ts_feed_time_parse(json_string_value(tv), &t) != 0) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: unreadable time '%.40s'", id,
                               json_string_value(tv));
            ts_obs_batch_keep(out, id); /* skipped: its last good state stays */
            return;
        }
    } else if (json_is_number(tv)) {
        double s = json_number_value(tv);
        if (!(fabs(s) < 1e15)) {
            ts_obs_batch_error(out, TS_FEED_ERR_RANGE, "sensor %s: time out of range", id);
            ts_obs_batch_keep(out, id); /* skipped: its last good state stays */
            return;
        }
        t = fabs(s) < 1e11 ? (int64_t)(s * 1000.0) : (int64_t)s; /* seconds or ms */
    } else if (tv != NULL && !json_is_null(tv)) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: time is not a string or number", id);
        ts_obs_batch_keep(out, id); /* skipped: its last good state stays */
        return;
    }
    head.sensor = ts_obs_batch_strdup(out, id);
    char lbl[TS_FEED_ID_MAX];
    json_t *lv = ts_feed_json_path(f, path_or(m->label_path, "properties/name"));
    if (lv != NULL && ts_feed_json_idtext(lv, lbl, sizeof lbl) == 0)
        head.label = ts_obs_batch_strdup(out, lbl);
    if (head.sensor == NULL || ts_obs_batch_add(out, &head) != TS_OK)
        return;
    char txt[TS_FEED_ID_MAX];
    const char *sp = path_or(m->state_path, "properties/state");
    int sr = sp[0] ? state_text(ts_feed_json_path(f, sp), txt, sizeof txt) : 0;
    if (sr < 0) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE,
                           "sensor %s: state is not text, boolean or integer", id);
    } else if (sr > 0) {
        ts_obs o = {.sensor = head.sensor, .kind = TS_OBS_STATE, .time_ms = t};
        o.state = ts_obs_batch_strdup(out, ts_feed_state_name(m, txt));
        if (o.state == NULL || ts_obs_batch_add(out, &o) != TS_OK)
            return;
    }
    for (int i = 0; i < m->nvalue_paths; i++) {
        const char *vp = m->value_paths[i];
        json_t *v = ts_feed_json_path(f, vp);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_number(v)) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "sensor %s: '%s' is not a number", id, vp);
            continue;
        }
        const char *last = strrchr(vp, '/');
        char fname[TS_FEED_ID_MAX];
        if (ts_feed_field_name(m, last ? last + 1 : vp, fname, sizeof fname) != 0)
            continue;
        ts_obs o = {.sensor = head.sensor, .kind = TS_OBS_VALUE, .time_ms = t};
        o.value = json_number_value(v);
        o.name = ts_obs_batch_strdup(out, fname);
        if (o.name == NULL || ts_obs_batch_add(out, &o) != TS_OK)
            return;
    }
}

ts_status
ts_geojson_parse(const ts_feed_config *cfg, int64_t now_ms, const void *doc, size_t len,
                 ts_obs_batch *out, ts_err *err)
{
    char jerr[160];
    json_t *root = ts_feed_json_load(doc, len, jerr, sizeof jerr);
    if (root == NULL) {
        out->errors[TS_FEED_ERR_PARSE]++;
        return TS_FAIL(err, TS_EINVAL, "GeoJSON document is not JSON: %s", jerr);
    }
    ts_status rc = TS_OK;
    json_t *type = json_is_object(root) ? json_object_get(root, "type") : NULL;
    json_t *feats = json_is_object(root) ? json_object_get(root, "features") : NULL;
    if (!json_is_string(type) || strcmp(json_string_value(type), "FeatureCollection") != 0 ||
        !json_is_array(feats)) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "not a GeoJSON FeatureCollection");
    } else {
        json_t *seen = json_object(); /* ids so far (NULL: not checked) */
        for (size_t i = 0; i < json_array_size(feats); i++)
            one_feature(cfg, now_ms, json_array_get(feats, i), i, seen, out);
        json_decref(seen);
    }
    json_decref(root);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------ */

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if ((p[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

ts_status
ts_feed_json_put_string(ts_buf *b, const char *s)
{
    TS_TRY(ts_buf_add(b, "\"", 1));
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[8];
        size_t l = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7F) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (c >= 0x80) {
            l = utf8_len(p + i, n - i);
            if (l == 0) {
                esc = "\\ufffd";
                l = 1;
            }
        }
        if (esc != NULL) {
            if (run > 0)
                TS_TRY(ts_buf_add(b, p + i - run, run));
            run = 0;
            TS_TRY(ts_buf_add(b, esc, strlen(esc)));
        } else {
            run += l;
        }
        i += l;
    }
    if (run > 0)
        TS_TRY(ts_buf_add(b, p + n - run, run));
    return ts_buf_add(b, "\"", 1);
}

ts_status
ts_feed_json_put_number(ts_buf *b, double v)
{
    if (!isfinite(v))
        return ts_buf_add(b, "null", 4);
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    return ts_buf_add(b, s, strlen(s));
}

static ts_status
put_time(ts_buf *b, int64_t ms)
{
    if (ms == TS_FEED_TIME_NONE)
        return ts_buf_add(b, "null", 4);
    char t[40];
    return ts_buf_printf(b, "\"%s\"", ts_feed_time_format(ms, t, sizeof t));
}

static ts_status
put_key(ts_buf *b, const char *k)
{
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(ts_feed_json_put_string(b, k));
    return ts_buf_add(b, ":", 1);
}

static ts_status
put_opt_string(ts_buf *b, const char *s)
{
    return s != NULL ? ts_feed_json_put_string(b, s) : ts_buf_add(b, "null", 4);
}

ts_status
ts_feed_snapshot_geojson(const ts_feed_snapshot *s, ts_buf *b)
{
    char t[40];
    TS_TRY(ADD_LIT(b, "{\"type\":\"FeatureCollection\",\"feed\":"));
    TS_TRY(ts_feed_json_put_string(b, s->feed));
    TS_TRY(ts_buf_printf(b, ",\"version\":%llu,\"generated\":\"%s\",\"features\":[",
                         (unsigned long long)s->version,
                         ts_feed_time_format(s->time_ms, t, sizeof t)));
    for (uint32_t i = 0; i < s->n; i++) {
        const ts_sensor *x = &s->recs[i]->s;
        if (i > 0)
            TS_TRY(ADD_LIT(b, ","));
        TS_TRY(ADD_LIT(b, "{\"type\":\"Feature\",\"id\":"));
        TS_TRY(ts_feed_json_put_string(b, x->id));
        TS_TRY(ADD_LIT(b, ",\"geometry\":"));
        if (x->has_pos) {
            TS_TRY(ADD_LIT(b, "{\"type\":\"Point\",\"coordinates\":["));
            TS_TRY(ts_feed_json_put_number(b, x->lon));
            TS_TRY(ts_buf_add(b, ",", 1));
            TS_TRY(ts_feed_json_put_number(b, x->lat));
            TS_TRY(ts_buf_add(b, "]}", 2));
        } else {
            TS_TRY(ts_buf_add(b, "null", 4));
        }
        TS_TRY(ADD_LIT(b, ",\"properties\":{\"id\":"));
        TS_TRY(ts_feed_json_put_string(b, x->id));
        TS_TRY(put_key(b, "label"));
        TS_TRY(put_opt_string(b, x->label));
        TS_TRY(put_key(b, "state"));
        TS_TRY(put_opt_string(b, x->state));
        TS_TRY(put_key(b, "last_state"));
        TS_TRY(put_opt_string(b, x->last_state));
        TS_TRY(put_key(b, "stale"));
        TS_TRY(ts_buf_add(b, x->stale ? "true" : "false", x->stale ? 4 : 5));
        TS_TRY(put_key(b, "time"));
        TS_TRY(put_time(b, x->time_ms));
        TS_TRY(put_key(b, "seen"));
        TS_TRY(put_time(b, x->seen_ms));
        for (uint32_t k = 0; k < x->nvalues; k++) {
            char key[TS_FEED_ID_MAX + 8];
            TS_TRY(put_key(b, x->values[k].name));
            TS_TRY(ts_feed_json_put_number(b, x->values[k].v));
            snprintf(key, sizeof key, "%s_time", x->values[k].name);
            TS_TRY(put_key(b, key));
            TS_TRY(put_time(b, x->values[k].time_ms));
        }
        TS_TRY(ts_buf_add(b, "}}", 2));
    }
    return ts_buf_add(b, "]}", 2);
}
