/* feed/lorawan.c — LoRaWAN uplinks as The Things Stack v3 (end_device_ids, uplink_message,
 * decoded_payload, received_at) and ChirpStack v4 (deviceInfo, object, time) deliver them
 * over MQTT or webhooks: device -> bay through the device table, decoded payload (or the
 * raw frame through a built-in decoder) -> state and values by configuration. */
#include "feed/feed_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

long
ts_feed_base64_decode(const char *in, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    const char *p = in;
    for (; *p && *p != '='; p++) {
        int v;
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    for (; *p == '='; p++)
        ;
    if (*p != '\0' || bits >= 6)
        return -1;
    return (long)n;
}

/* The Bosch Parking Lot Sensor frame as a decoded payload object, or NULL. */
static json_t *
decode_bosch_pls(int port, const char *b64)
{
    uint8_t buf[64];
    long n = ts_feed_base64_decode(b64, buf, sizeof buf);
    if (n < 1)
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    if (port == 1 || port == 2) {
        json_object_set_new(o, "occupied", json_boolean(buf[0] & 1));
        if (port == 2 && n >= 2)
            json_object_set_new(o, "temperature", json_integer((int8_t)buf[1]));
    } else if (port == 3 && n >= 17) {
        json_object_set_new(o, "occupied", json_boolean(buf[16] & 1));
    } else {
        json_decref(o);
        return NULL;
    }
    return o;
}

ts_status
ts_lorawan_parse(const ts_feed_config *cfg, const ts_feed_table *devices, const void *doc,
                 size_t len, ts_obs_batch *out, ts_err *err)
{
    char jerr[160];
    json_t *root = ts_feed_json_load(doc, len, jerr, sizeof jerr);
    if (root == NULL) {
        out->errors[TS_FEED_ERR_PARSE]++;
        return TS_FAIL(err, TS_EINVAL, "uplink is not JSON: %s", jerr);
    }
    ts_status rc = TS_OK;
    json_t *own = NULL;
    if (!json_is_object(root)) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "uplink is not a JSON object");
        goto done;
    }
    ts_lorawan_format fmt = cfg->lorawan.format;
    if (fmt == TS_LORAWAN_AUTO)
        fmt = json_object_get(root, "end_device_ids") != NULL ? TS_LORAWAN_TTS
              : json_object_get(root, "deviceInfo") != NULL   ? TS_LORAWAN_CHIRPSTACK
                                                              : TS_LORAWAN_AUTO;
    json_t *key = NULL, *tm = NULL, *decoded = NULL, *port = NULL, *raw = NULL;
    int by_id = cfg->lorawan.key == TS_LORAWAN_DEVICE_ID;
    if (fmt == TS_LORAWAN_TTS) {
        key =
            ts_feed_json_path(root, by_id ? "end_device_ids/device_id" : "end_device_ids/dev_eui");
        json_t *up = json_object_get(root, "uplink_message");
        if (!json_is_object(up)) {
            out->errors[TS_FEED_ERR_TYPE]++;
            rc = TS_FAIL(err, TS_EINVAL, "TTS message without uplink_message");
            goto done;
        }
        tm = json_object_get(root, "received_at");
        if (tm == NULL)
            tm = json_object_get(up, "received_at");
        decoded = json_object_get(up, "decoded_payload");
        port = json_object_get(up, "f_port");
        raw = json_object_get(up, "frm_payload");
    } else if (fmt == TS_LORAWAN_CHIRPSTACK) {
        key = ts_feed_json_path(root, by_id ? "deviceInfo/deviceName" : "deviceInfo/devEui");
        tm = json_object_get(root, "time");
        decoded = json_object_get(root, "object");
        port = json_object_get(root, "fPort");
        raw = json_object_get(root, "data");
    } else {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "neither a The Things Stack nor a ChirpStack uplink");
        goto done;
    }
    char keybuf[TS_FEED_ID_MAX];
    if (!json_is_string(key) || ts_feed_json_idtext(key, keybuf, sizeof keybuf) != 0) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "uplink without a device %s", by_id ? "id" : "EUI");
        goto done;
    }
    int64_t t;
    if (!json_is_string(tm) || ts_feed_time_parse(json_string_value(tm), &t) != 0) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "device %s: uplink time missing or unreadable", keybuf);
        goto done;
    }
    const ts_feed_device *dev = ts_feed_table_find(devices, keybuf);
    if (dev == NULL) {
        out->errors[TS_FEED_ERR_UNKNOWN]++;
        rc = TS_FAIL(err, TS_ENOENT, "unknown device %s", keybuf);
        goto done;
    }
    if (decoded != NULL && !json_is_object(decoded) && !json_is_null(decoded)) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "device %s: decoded payload is not an object", keybuf);
        goto done;
    }
    if (!json_is_object(decoded) && cfg->lorawan.decoder == TS_LORAWAN_DECODER_BOSCH_PLS &&
        json_is_integer(port) && json_is_string(raw)) {
        own = decode_bosch_pls((int)json_integer_value(port), json_string_value(raw));
        decoded = own;
    }
    const char *sensor = ts_obs_batch_strdup(out, dev->sensor);
    const char *label = dev->label ? ts_obs_batch_strdup(out, dev->label) : NULL;
    if (sensor == NULL || (dev->label && label == NULL)) {
        rc = TS_FAIL(err, TS_ENOMEM, "uplink");
        goto done;
    }
    ts_obs base = {.sensor = sensor,
                   .time_ms = TS_FEED_TIME_NONE,
                   .has_pos = 1,
                   .lon = dev->lon,
                   .lat = dev->lat,
                   .label = label};
    if (ts_obs_batch_add(out, &base) != TS_OK) {
        rc = TS_FAIL(err, TS_ENOMEM, "uplink");
        goto done;
    }
    if (!json_is_object(decoded))
        goto done; /* a frame we cannot read: the device is known, nothing else */

    const char *sp =
        cfg->map.state_path && cfg->map.state_path[0] ? cfg->map.state_path : "occupied";
    json_t *sv = ts_feed_json_path(decoded, sp);
    char txt[TS_FEED_ID_MAX];
    int have_state = 1;
    if (json_is_boolean(sv)) {
        snprintf(txt, sizeof txt, "%s", json_is_true(sv) ? "true" : "false");
    } else if (json_is_integer(sv)) {
        long long v = json_integer_value(sv);
        if (v == 0 || v == 1)
            snprintf(txt, sizeof txt, "%s", v ? "true" : "false");
        else
            snprintf(txt, sizeof txt, "%lld", v);
    } else if (json_is_string(sv) && ts_feed_json_idtext(sv, txt, sizeof txt) == 0) {
        /* as it is */
    } else if (sv != NULL && !json_is_null(sv)) {
        ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "device %s: '%s' is not a boolean, 0/1 or text",
                           keybuf, sp);
        have_state = 0;
    } else {
        have_state = 0;
    }
    if (have_state) {
        ts_obs o = base;
        o.kind = TS_OBS_STATE;
        o.time_ms = t;
        o.label = NULL;
        o.state = ts_obs_batch_strdup(out, ts_feed_state_name(&cfg->map, txt));
        if (o.state == NULL || ts_obs_batch_add(out, &o) != TS_OK) {
            rc = TS_FAIL(err, TS_ENOMEM, "uplink");
            goto done;
        }
    }
    for (int i = 0; i < cfg->map.nvalue_paths; i++) {
        const char *vp = cfg->map.value_paths[i];
        json_t *v = ts_feed_json_path(decoded, vp);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_number(v)) {
            ts_obs_batch_error(out, TS_FEED_ERR_TYPE, "device %s: '%s' is not a number", keybuf,
                               vp);
            continue;
        }
        const char *last = strrchr(vp, '/');
        char fname[TS_FEED_ID_MAX];
        if (ts_feed_field_name(&cfg->map, last ? last + 1 : vp, fname, sizeof fname) != 0)
            continue;
        ts_obs o = base;
        o.kind = TS_OBS_VALUE;
        o.time_ms = t;
        o.label = NULL;
        o.value = json_number_value(v);
        o.name = ts_obs_batch_strdup(out, fname);
        if (o.name == NULL || ts_obs_batch_add(out, &o) != TS_OK) {
            rc = TS_FAIL(err, TS_ENOMEM, "uplink");
            goto done;
        }
    }
done:
    json_decref(own);
    json_decref(root);
    return rc;
}
