/* ows/tilejson.c — TileJSON 3.0.0 documents and JSON string escaping. */
#include "ows/ows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

ts_status
ts_ows_json_escape(ts_buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        ts_status st;
        switch (*p) {
        case '"':
            st = ts_buf_add(out, "\\\"", 2);
            break;
        case '\\':
            st = ts_buf_add(out, "\\\\", 2);
            break;
        case '\n':
            st = ts_buf_add(out, "\\n", 2);
            break;
        case '\r':
            st = ts_buf_add(out, "\\r", 2);
            break;
        case '\t':
            st = ts_buf_add(out, "\\t", 2);
            break;
        default:
            if (*p < 0x20)
                st = ts_buf_printf(out, "\\u%04x", *p);
            else
                st = ts_buf_add(out, p, 1);
        }
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
}

static ts_status
json_str(ts_buf *out, const char *key, const char *val)
{
    TS_TRY(ts_buf_printf(out, "\"%s\":\"", key));
    TS_TRY(ts_ows_json_escape(out, val));
    return ts_buf_add(out, "\"", 1);
}

static int
is_vector_ext(const char *ext)
{
    return ext != NULL && (strcmp(ext, "mvt") == 0 || strcmp(ext, "pbf") == 0);
}

ts_status
ts_ows_write_tilejson(const ts_tilejson_info *ti, ts_buf *out)
{
    TS_TRY(ts_buf_printf(out, "{\"tilejson\":\"3.0.0\","));
    TS_TRY(json_str(out, "name", ti->name));
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(json_str(out, "version", ti->version ? ti->version : "1.0.0"));
    TS_TRY(ts_buf_add(out, ",", 1));
    if (ti->title) {
        TS_TRY(json_str(out, "description", ti->title));
        TS_TRY(ts_buf_add(out, ",", 1));
    }
    if (ti->attribution) {
        TS_TRY(json_str(out, "attribution", ti->attribution));
        TS_TRY(ts_buf_add(out, ",", 1));
    }
    if (ti->legend) {
        TS_TRY(json_str(out, "legend", ti->legend));
        TS_TRY(ts_buf_add(out, ",", 1));
    }
    TS_TRY(ts_buf_printf(out, "\"scheme\":\"xyz\",\"tiles\":[\""));
    TS_TRY(ts_ows_json_escape(out, ti->base_url));
    TS_TRY(ts_buf_printf(out, "/tiles/"));
    TS_TRY(ts_ows_json_escape(out, ti->name));
    if (ti->grid) {
        TS_TRY(ts_buf_add(out, "/", 1));
        TS_TRY(ts_ows_json_escape(out, ti->grid));
    }
    TS_TRY(ts_buf_printf(out, "/{z}/{x}/{y}."));
    TS_TRY(ts_ows_json_escape(out, ti->ext));
    TS_TRY(ts_buf_printf(out, "\"],"));
    TS_TRY(ts_buf_printf(out, "\"minzoom\":%d,\"maxzoom\":%d", ti->minzoom, ti->maxzoom));
    if (is_vector_ext(ti->ext)) {
        /* TileJSON 3.0: vector_layers is required for vector tiles */
        TS_TRY(ts_buf_printf(out, ",\"vector_layers\":["));
        for (int i = 0; ti->vlayers && i < ti->nvlayers; i++) {
            const ts_tilejson_vlayer *v = &ti->vlayers[i];
            TS_TRY(ts_buf_printf(out, "%s{", i ? "," : ""));
            TS_TRY(json_str(out, "id", v->id));
            if (v->description) {
                TS_TRY(ts_buf_add(out, ",", 1));
                TS_TRY(json_str(out, "description", v->description));
            }
            TS_TRY(ts_buf_printf(out, ",\"minzoom\":%d,\"maxzoom\":%d,\"fields\":{", v->minzoom,
                                 v->maxzoom));
            for (int k = 0; k < v->nfields; k++) {
                TS_TRY(ts_buf_printf(out, "%s\"", k ? "," : ""));
                TS_TRY(ts_ows_json_escape(out, v->fields[k])); /* field names come from data */
                TS_TRY(ts_buf_printf(out, "\":\""));
                TS_TRY(ts_ows_json_escape(out, v->types[k]));
                TS_TRY(ts_buf_add(out, "\"", 1));
            }
            TS_TRY(ts_buf_printf(out, "}}"));
        }
        for (int i = 0; ti->vlayers == NULL && i < ti->nvector_layers; i++) {
            TS_TRY(ts_buf_printf(out, "%s{", i ? "," : ""));
            TS_TRY(json_str(out, "id", ti->vector_layers[i]));
            TS_TRY(ts_buf_printf(out, ",\"fields\":{}}"));
        }
        TS_TRY(ts_buf_add(out, "]", 1));
    }
    if (ti->has_bounds) {
        const ts_bbox *b = &ti->bounds_lonlat;
        /* six decimals (~0.1 m), rounded outwards so the bounds hold all the data */
        TS_TRY(ts_buf_printf(out, ",\"bounds\":[%.6f,%.6f,%.6f,%.6f]", floor(b->minx * 1e6) / 1e6,
                             floor(b->miny * 1e6) / 1e6, ceil(b->maxx * 1e6) / 1e6,
                             ceil(b->maxy * 1e6) / 1e6));
    }
    if (ti->has_center) {
        TS_TRY(ts_buf_printf(out, ",\"center\":[%.6f,%.6f,%d]", ti->center[0], ti->center[1],
                             (int)ti->center[2]));
    } else if (ti->has_bounds) {
        const ts_bbox *b = &ti->bounds_lonlat;
        int cz = ti->minzoom + 3 <= ti->maxzoom ? ti->minzoom + 3 : ti->maxzoom;
        if (cz < 14 && ti->maxzoom >= 14)
            cz = 14;
        TS_TRY(ts_buf_printf(out, ",\"center\":[%.6f,%.6f,%d]", (b->minx + b->maxx) / 2,
                             (b->miny + b->maxy) / 2, cz));
    }
    if (ti->has_live) {
        TS_TRY(ts_buf_printf(out, ",\"live\":%s", ti->live ? "true" : "false"));
        for (int i = 0; ti->feeds && i < ti->nfeeds; i++) {
            TS_TRY(ts_buf_printf(out, "%s\"", i ? "," : ",\"feeds\":["));
            TS_TRY(ts_ows_json_escape(out, ti->feeds[i]));
            TS_TRY(ts_buf_add(out, "\"", 1));
        }
        if (ti->feeds && ti->nfeeds > 0)
            TS_TRY(ts_buf_add(out, "]", 1));
    }
    return ts_buf_add(out, "}", 1);
}
