/* feed/lorawan.c — LoRaWAN uplinks as The Things Stack v3 (end_device_ids, uplink_message,
 * decoded_payload, received_at) and ChirpStack v4 (deviceInfo, object, time) deliver them
 * over MQTT or webhooks: device -> bay through the device table, decoded payload (or the
 * raw frame through a built-in decoder) -> state and values by configuration. */
#include "feed/feed_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A Bosch Parking Lot Sensor frame, decoded. */
typedef struct bosch_pls {
    int occupied;
    int has_temperature;
    int temperature; /* °C */
} bosch_pls;

/* Decode the Bosch Parking Lot Sensor frame of port from base64 text: 0 and *out, or -1
 * for a frame it does not know. */
static int
decode_bosch_pls(int port, const char *b64, bosch_pls *out)
{
    uint8_t buf[64];
    long n = ts_feed_base64_decode(b64, buf, sizeof buf);
    if (n < 1)
        return -1;
    *out = (bosch_pls){0};
    if (port == 1 || port == 2) {
        out->occupied = buf[0] & 1;
        if (port == 2 && n >= 2) {
            out->has_temperature = 1;
            out->temperature = (int8_t)buf[1];
        }
    } else if (port == 3 && n >= 17) {
        out->occupied = buf[16] & 1;
    } else {
        return -1;
    }
    return 0;
}

/* A member of the decoded payload: from the uplink's JSON or from the built-in decoder. */
typedef struct payload_value {
    ts_jtype type;   /* TS_J_NONE when absent */
    uint32_t tok;    /* in the document, or TS_JSCAN_NONE for a decoder value */
    int is_int;      /* NUMBER: an integer, in i */
    int64_t i;
    double d;        /* NUMBER */
} payload_value;

/* The value at path in the decoded payload: JSON object decoded, or else the decoder's
 * frame pls (as the object {"occupied": bool, "temperature": int} with the same path
 * rules: only a whole member name matches). 0, or -1 when out of memory. */
static int
payload_get(const ts_jscan *js, uint32_t decoded, const bosch_pls *pls, const char *path,
            payload_value *v)
{
    *v = (payload_value){.type = TS_J_NONE, .tok = TS_JSCAN_NONE};
    if (decoded == TS_JSCAN_NONE) {
        if (strcmp(path, "occupied") == 0) {
            v->type = pls->occupied ? TS_J_TRUE : TS_J_FALSE;
        } else if (strcmp(path, "temperature") == 0 && pls->has_temperature) {
            v->type = TS_J_NUMBER;
            v->is_int = 1;
            v->i = pls->temperature;
            v->d = pls->temperature;
        }
        return 0;
    }
    v->tok = ts_jscan_path(js, decoded, path);
    v->type = ts_jscan_type(js, v->tok);
    if (v->type == TS_J_NUMBER) {
        v->is_int = ts_jscan_int(js, v->tok, &v->i) == 0;
        if (v->is_int)
            v->d = (double)v->i;
        else if (ts_jscan_number(js, v->tok, &v->d) != 0)
            return -1; /* a number of over 63 characters and no memory for its copy */
    }
    return 0;
}

/* String token i as NUL-terminated text: in small (size bytes) when it fits, else in a
 * malloc'ed copy stored in *heap (free it). NULL when i is not a string or out of memory. */
static const char *
string_text(const ts_jscan *js, uint32_t i, char *small, size_t size, char **heap)
{
    *heap = NULL;
    long n = ts_jscan_string(js, i, small, size);
    if (n < 0)
        return NULL;
    if ((size_t)n < size)
        return small;
    if ((*heap = malloc((size_t)n + 1)) == NULL)
        return NULL;
    ts_jscan_string(js, i, *heap, (size_t)n + 1);
    return *heap;
}

#define TOKENS 384 /* on the stack: the recorded uplinks (tests/data/feed) have 82 to 136 */

ts_status
ts_lorawan_parse(const ts_feed_config *cfg, const ts_feed_table *devices, const void *doc,
                 size_t len, ts_obs_batch *out, ts_err *err)
{
    char jerr[160];
    ts_jtok tokbuf[TOKENS];
    ts_jscan js;
    ts_jscan_init(&js, tokbuf, TOKENS);
    if (ts_jscan_parse(&js, doc, len, jerr, sizeof jerr) != 0) {
        ts_jscan_fini(&js);
        out->errors[TS_FEED_ERR_PARSE]++;
        return TS_FAIL(err, TS_EINVAL, "uplink is not JSON: %s", jerr);
    }
    ts_status rc = TS_OK;
    const uint32_t root = 0;
    char *heap = NULL;
    if (ts_jscan_type(&js, root) != TS_J_OBJECT) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "uplink is not a JSON object");
        goto done;
    }
#define MEMBER(obj, name) ts_jscan_member(&js, (obj), (name), sizeof(name) - 1)
    ts_lorawan_format fmt = cfg->lorawan.format;
    if (fmt == TS_LORAWAN_AUTO)
        fmt = MEMBER(root, "end_device_ids") != TS_JSCAN_NONE ? TS_LORAWAN_TTS
              : MEMBER(root, "deviceInfo") != TS_JSCAN_NONE   ? TS_LORAWAN_CHIRPSTACK
                                                              : TS_LORAWAN_AUTO;
    uint32_t key, tm, decoded, port, raw;
    int by_id = cfg->lorawan.key == TS_LORAWAN_DEVICE_ID;
    if (fmt == TS_LORAWAN_TTS) {
        key = ts_jscan_path(&js, root,
                            by_id ? "end_device_ids/device_id" : "end_device_ids/dev_eui");
        uint32_t up = MEMBER(root, "uplink_message");
        if (ts_jscan_type(&js, up) != TS_J_OBJECT) {
            out->errors[TS_FEED_ERR_TYPE]++;
            rc = TS_FAIL(err, TS_EINVAL, "TTS message without uplink_message");
            goto done;
        }
        tm = MEMBER(root, "received_at");
        if (tm == TS_JSCAN_NONE)
            tm = MEMBER(up, "received_at");
        decoded = MEMBER(up, "decoded_payload");
        port = MEMBER(up, "f_port");
        raw = MEMBER(up, "frm_payload");
    } else if (fmt == TS_LORAWAN_CHIRPSTACK) {
        key = ts_jscan_path(&js, root, by_id ? "deviceInfo/deviceName" : "deviceInfo/devEui");
        tm = MEMBER(root, "time");
        decoded = MEMBER(root, "object");
        port = MEMBER(root, "fPort");
        raw = MEMBER(root, "data");
    } else {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "neither a The Things Stack nor a ChirpStack uplink");
        goto done;
    }
#undef MEMBER
    char keybuf[TS_FEED_ID_MAX];
    if (ts_jscan_type(&js, key) != TS_J_STRING ||
        ts_jscan_idtext(&js, key, keybuf, sizeof keybuf) != 0) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "uplink without a device %s", by_id ? "id" : "EUI");
        goto done;
    }
    int64_t t;
    char small[96];
    const char *tmtext = string_text(&js, tm, small, sizeof small, &heap);
    if (ts_jscan_type(&js, tm) == TS_J_STRING && tmtext == NULL) {
        rc = TS_FAIL(err, TS_ENOMEM, "uplink");
        goto done;
    }
    if (tmtext == NULL || ts_feed_time_parse(tmtext, &t) != 0) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "device %s: uplink time missing or unreadable", keybuf);
        goto done;
    }
    free(heap);
    heap = NULL;
    const ts_feed_device *dev = ts_feed_table_find(devices, keybuf);
    if (dev == NULL) {
        out->errors[TS_FEED_ERR_UNKNOWN]++;
        rc = TS_FAIL(err, TS_ENOENT, "unknown device %s", keybuf);
        goto done;
    }
    ts_jtype dtype = ts_jscan_type(&js, decoded);
    if (dtype != TS_J_NONE && dtype != TS_J_OBJECT && dtype != TS_J_NULL) {
        out->errors[TS_FEED_ERR_TYPE]++;
        rc = TS_FAIL(err, TS_EINVAL, "device %s: decoded payload is not an object", keybuf);
        goto done;
    }
    bosch_pls pls = {0};
    int have_pls = 0;
    int64_t portv;
    if (dtype != TS_J_OBJECT && cfg->lorawan.decoder == TS_LORAWAN_DECODER_BOSCH_PLS &&
        ts_jscan_int(&js, port, &portv) == 0 && ts_jscan_type(&js, raw) == TS_J_STRING) {
        char rawbuf[128];
        const char *b64 = string_text(&js, raw, rawbuf, sizeof rawbuf, &heap);
        if (b64 == NULL) {
            rc = TS_FAIL(err, TS_ENOMEM, "uplink");
            goto done;
        }
        have_pls = decode_bosch_pls((int)portv, b64, &pls) == 0;
        free(heap);
        heap = NULL;
    }
    if (dtype != TS_J_OBJECT)
        decoded = TS_JSCAN_NONE; /* from here on: NONE with have_pls = the decoder's frame */
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
    if (decoded == TS_JSCAN_NONE && !have_pls)
        goto done; /* a frame we cannot read: the device is known, nothing else */

    const char *sp =
        cfg->map.state_path && cfg->map.state_path[0] ? cfg->map.state_path : "occupied";
    payload_value sv;
    if (payload_get(&js, decoded, &pls, sp, &sv) != 0) {
        rc = TS_FAIL(err, TS_ENOMEM, "uplink");
        goto done;
    }
    char txt[TS_FEED_ID_MAX];
    int have_state = 1;
    if (sv.type == TS_J_TRUE || sv.type == TS_J_FALSE) {
        snprintf(txt, sizeof txt, "%s", sv.type == TS_J_TRUE ? "true" : "false");
    } else if (sv.type == TS_J_NUMBER && sv.is_int) {
        long long v = sv.i;
        if (v == 0 || v == 1)
            snprintf(txt, sizeof txt, "%s", v ? "true" : "false");
        else
            snprintf(txt, sizeof txt, "%lld", v);
    } else if (sv.type == TS_J_STRING && ts_jscan_idtext(&js, sv.tok, txt, sizeof txt) == 0) {
        /* as it is */
    } else if (sv.type != TS_J_NONE && sv.type != TS_J_NULL) {
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
        payload_value v;
        if (payload_get(&js, decoded, &pls, vp, &v) != 0) {
            rc = TS_FAIL(err, TS_ENOMEM, "uplink");
            goto done;
        }
        if (v.type == TS_J_NONE || v.type == TS_J_NULL)
            continue;
        if (v.type != TS_J_NUMBER) {
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
        o.value = v.d;
        o.name = ts_obs_batch_strdup(out, fname);
        if (o.name == NULL || ts_obs_batch_add(out, &o) != TS_OK) {
            rc = TS_FAIL(err, TS_ENOMEM, "uplink");
            goto done;
        }
    }
done:
    free(heap);
    ts_jscan_fini(&js);
    return rc;
}
