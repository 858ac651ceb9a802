/* http/info.c — GetFeatureInfo answers: the features a hit test found, with all their
 * attributes, as text/plain (MapServer's layout), text/html (a table per layer),
 * application/json (a GeoJSON FeatureCollection, geometries and bbox in the request's CRS
 * in the axis order its URN names, as GeoServer answers) and application/vnd.ogc.gml (GML 2
 * msGMLOutput layout: <layer>_layer/<layer>_feature with the geometry in <msGeometry>, as
 * MapServer writes and QGIS, OpenLayers and OWSLib read; easting first, as its srsName
 * EPSG:code says). Clients highlight the feature from its geometry. */
#include "http/http.h"

#include "http/http_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

static ts_status
value_text(ts_buf *b, const ts_value *v, int json)
{
    switch (v->type) {
    case TS_VAL_NULL:
        return json ? ts_buf_printf(b, "null") : TS_OK;
    case TS_VAL_INT:
        return ts_buf_printf(b, "%lld", (long long)v->u.i);
    case TS_VAL_BOOL:
        return ts_buf_printf(b, "%s", v->u.i ? "true" : "false");
    case TS_VAL_REAL:
        if (!isfinite(v->u.d))
            return json ? ts_buf_printf(b, "null") : ts_buf_printf(b, "%g", v->u.d);
        return ts_buf_printf(b, "%.15g", v->u.d);
    case TS_VAL_STR:
        if (json) {
            TS_TRY(ts_buf_add(b, "\"", 1));
            TS_TRY(ts_ows_json_escape(b, v->u.s));
            return ts_buf_add(b, "\"", 1);
        }
        return ts_buf_add(b, v->u.s, strlen(v->u.s));
    }
    return TS_OK;
}

/* 1 if cp may start an XML 1.0 (fifth edition) NCName: NameStartChar without ':'. */
static int
xml_name_start(uint32_t cp)
{
    return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_' ||
           (cp >= 0xC0 && cp <= 0xD6) || (cp >= 0xD8 && cp <= 0xF6) ||
           (cp >= 0xF8 && cp <= 0x2FF) || (cp >= 0x370 && cp <= 0x37D) ||
           (cp >= 0x37F && cp <= 0x1FFF) || (cp >= 0x200C && cp <= 0x200D) ||
           (cp >= 0x2070 && cp <= 0x218F) || (cp >= 0x2C00 && cp <= 0x2FEF) ||
           (cp >= 0x3001 && cp <= 0xD7FF) || (cp >= 0xF900 && cp <= 0xFDCF) ||
           (cp >= 0xFDF0 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0xEFFFF);
}

/* 1 if cp may follow in an NCName: NameChar without ':'. */
static int
xml_name_char(uint32_t cp)
{
    return xml_name_start(cp) || (cp >= '0' && cp <= '9') || cp == '-' || cp == '.' ||
           cp == 0xB7 || (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x203F && cp <= 0x2040);
}

/* An XML name (an NCName) from a layer or attribute name: its characters that XML allows
 * in names kept, umlauts and other letters included ("Straße", as MapServer writes it),
 * each other character '_'; '_' first when the name cannot start with its first one.
 * Cut at a character boundary to fit cap bytes with the terminator. */
static void
xml_name(char *dst, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t j = 0, rem = strlen(s), len;
    if (cap == 0)
        return;
    int32_t first = ts_utf8_next(p, rem, &len);
    if (!(first >= 0 && xml_name_start((uint32_t)first)) && j + 1 < cap)
        dst[j++] = '_';
    while (rem > 0) {
        int32_t cp = ts_utf8_next(p, rem, &len);
        if (cp >= 0 && xml_name_char((uint32_t)cp)) {
            if (j + len >= cap)
                break;
            memcpy(dst + j, p, len);
            j += len;
        } else {
            if (j + 1 >= cap)
                break;
            dst[j++] = '_';
        }
        p += len;
        rem -= len;
    }
    dst[j] = '\0';
}

static ts_status
write_text(const ts_info_result *r, ts_buf *b)
{
    TS_TRY(ts_buf_printf(b, "GetFeatureInfo results:\n"));
    if (r->n == 0)
        return ts_buf_printf(b, "\nno features found\n");
    const char *layer = NULL;
    for (int i = 0; i < r->n; i++) {
        const ts_info_feature *f = &r->features[i];
        if (layer == NULL || strcmp(layer, f->layer) != 0) {
            TS_TRY(ts_buf_printf(b, "\nLayer '%s'\n", f->layer));
            layer = f->layer;
        }
        TS_TRY(ts_buf_printf(b, "  Feature %s:\n", f->fid));
        for (int k = 0; k < f->nattrs; k++) {
            TS_TRY(ts_buf_printf(b, "    %s = '", f->names[k]));
            TS_TRY(value_text(b, &f->values[k], 0));
            TS_TRY(ts_buf_printf(b, "'\n"));
        }
    }
    return TS_OK;
}

static ts_status
write_html(const ts_info_result *r, ts_buf *b)
{
    TS_TRY(ts_buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                            "<title>GetFeatureInfo</title></head><body>\n"));
    if (r->n == 0)
        TS_TRY(ts_buf_printf(b, "<p>No features found.</p>\n"));
    const char *layer = NULL;
    for (int i = 0; i < r->n; i++) {
        const ts_info_feature *f = &r->features[i];
        if (layer == NULL || strcmp(layer, f->layer) != 0) {
            if (layer != NULL)
                TS_TRY(ts_buf_printf(b, "</table>\n"));
            TS_TRY(ts_buf_printf(b, "<h2>"));
            TS_TRY(ts_ows_xml_escape(b, f->layer_title));
            TS_TRY(ts_buf_printf(b, "</h2>\n<table border=\"1\">\n"));
            layer = f->layer;
        }
        TS_TRY(ts_buf_printf(b, "<tr><th colspan=\"2\">Feature "));
        TS_TRY(ts_ows_xml_escape(b, f->fid));
        TS_TRY(ts_buf_printf(b, "</th></tr>\n"));
        for (int k = 0; k < f->nattrs; k++) {
            ts_buf v;
            ts_buf_init(&v, 1 << 20);
            value_text(&v, &f->values[k], 0);
            TS_TRY(ts_buf_printf(b, "<tr><td>"));
            TS_TRY(ts_ows_xml_escape(b, f->names[k]));
            TS_TRY(ts_buf_printf(b, "</td><td>"));
            ts_buf_add(&v, "", 1);
            ts_status st = ts_ows_xml_escape(b, v.data ? (const char *)v.data : "");
            ts_buf_fini(&v);
            TS_TRY(st);
            TS_TRY(ts_buf_printf(b, "</td></tr>\n"));
        }
    }
    if (layer != NULL)
        TS_TRY(ts_buf_printf(b, "</table>\n"));
    return ts_buf_printf(b, "</body></html>\n");
}

/* ---- geometries ---- */

/* The parts [k0, k1) of f that form one polygon: k0 is an exterior, k1 the next one (or
 * nparts). */
static uint32_t
polygon_end(const ts_info_feature *f, uint32_t k0)
{
    uint32_t k1 = k0 + 1;
    while (k1 < f->nparts && f->hole[k1])
        k1++;
    return k1;
}


/* A GeoJSON coordinate list of n points (closed: the first again at the end), in the axis
 * order of the document's CRS. */
static ts_status
json_coords(ts_buf *b, const double *xy, uint32_t n, int close, int north_first)
{
    TS_TRY(ts_buf_printf(b, "["));
    for (uint32_t i = 0; i < n + (close ? 1 : 0); i++) {
        const double *p = xy + 2 * (i < n ? i : 0);
        TS_TRY(ts_buf_printf(b, "%s[%.10g,%.10g]", i ? "," : "", p[north_first],
                             p[!north_first]));
    }
    return ts_buf_printf(b, "]");
}

/* The number of polygons of f (its exterior rings). */
static uint32_t
polygon_count(const ts_info_feature *f)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < f->nparts; k++)
        n += !f->hole[k];
    return n;
}

/* Rings k0..k1-1 of f, the first at *xy (advanced past them). */
static ts_status
json_polygon(ts_buf *b, const ts_info_feature *f, uint32_t k0, uint32_t k1, const double **xy,
             int nf)
{
    TS_TRY(ts_buf_printf(b, "["));
    for (uint32_t k = k0; k < k1; k++) {
        TS_TRY(ts_buf_printf(b, "%s", k > k0 ? "," : ""));
        TS_TRY(json_coords(b, *xy, f->counts[k], 1, nf));
        *xy += 2 * (size_t)f->counts[k];
    }
    return ts_buf_printf(b, "]");
}

static ts_status
json_geometry(ts_buf *b, const ts_info_feature *f, int nf)
{
    if (f->xy == NULL || f->nparts == 0)
        return ts_buf_printf(b, "null");
    int multi = f->nparts > 1;
    const double *xy = f->xy;
    switch (f->kind) {
    case TS_GEOM_POINT:
        if (!multi) {
            const double *p = f->xy;
            return ts_buf_printf(b, "{\"type\":\"Point\",\"coordinates\":[%.10g,%.10g]}", p[nf],
                                 p[!nf]);
        }
        TS_TRY(ts_buf_printf(b, "{\"type\":\"MultiPoint\",\"coordinates\":"));
        TS_TRY(json_coords(b, f->xy, f->nparts, 0, nf)); /* one point per part */
        return ts_buf_printf(b, "}");
    case TS_GEOM_LINE:
        TS_TRY(ts_buf_printf(b, "{\"type\":\"%s\",\"coordinates\":",
                             multi ? "MultiLineString" : "LineString"));
        if (multi)
            TS_TRY(ts_buf_printf(b, "["));
        for (uint32_t k = 0; k < f->nparts; k++) {
            TS_TRY(ts_buf_printf(b, "%s", k ? "," : ""));
            TS_TRY(json_coords(b, xy, f->counts[k], 0, nf));
            xy += 2 * (size_t)f->counts[k];
        }
        return ts_buf_printf(b, multi ? "]}" : "}");
    case TS_GEOM_POLYGON: {
        if (polygon_count(f) == 1) {
            TS_TRY(ts_buf_printf(b, "{\"type\":\"Polygon\",\"coordinates\":"));
            TS_TRY(json_polygon(b, f, 0, f->nparts, &xy, nf));
            return ts_buf_printf(b, "}");
        }
        TS_TRY(ts_buf_printf(b, "{\"type\":\"MultiPolygon\",\"coordinates\":["));
        for (uint32_t k0 = 0, k1; k0 < f->nparts; k0 = k1) {
            k1 = polygon_end(f, k0);
            TS_TRY(ts_buf_printf(b, "%s", k0 ? "," : ""));
            TS_TRY(json_polygon(b, f, k0, k1, &xy, nf));
        }
        return ts_buf_printf(b, "]}");
    }
    default:
        return ts_buf_printf(b, "null");
    }
}

/* GML 2 coordinates "x,y x,y ..." (closed: the first again at the end). */
static ts_status
gml_coords(ts_buf *b, const double *xy, uint32_t n, int close)
{
    TS_TRY(ts_buf_printf(b, "<gml:coordinates>"));
    for (uint32_t i = 0; i < n + (close ? 1 : 0); i++) {
        const double *p = xy + 2 * (i < n ? i : 0);
        TS_TRY(ts_buf_printf(b, "%s%.10g,%.10g", i ? " " : "", p[0], p[1]));
    }
    return ts_buf_printf(b, "</gml:coordinates>");
}

/* Rings k0..k1-1 of f as a gml:Polygon, the first at *xy (advanced past them). */
static ts_status
gml_polygon(ts_buf *b, const ts_info_feature *f, uint32_t k0, uint32_t k1, const double **xy,
            const char *srs)
{
    TS_TRY(ts_buf_printf(b, "<gml:Polygon%s%s%s>", srs ? " srsName=\"" : "", srs ? srs : "",
                         srs ? "\"" : ""));
    for (uint32_t k = k0; k < k1; k++) {
        const char *side = k == k0 ? "outerBoundaryIs" : "innerBoundaryIs";
        TS_TRY(ts_buf_printf(b, "<gml:%s><gml:LinearRing>", side));
        TS_TRY(gml_coords(b, *xy, f->counts[k], 1));
        TS_TRY(ts_buf_printf(b, "</gml:LinearRing></gml:%s>", side));
        *xy += 2 * (size_t)f->counts[k];
    }
    return ts_buf_printf(b, "</gml:Polygon>");
}

/* <msGeometry> with a GML 2 geometry, or nothing when f has none. */
static ts_status
gml_geometry(ts_buf *b, const ts_info_feature *f, const char *srs)
{
    if (f->xy == NULL || f->nparts == 0 ||
        (f->kind != TS_GEOM_POINT && f->kind != TS_GEOM_LINE && f->kind != TS_GEOM_POLYGON))
        return TS_OK;
    TS_TRY(ts_buf_printf(b, "      <msGeometry>\n        "));
    int multi = f->nparts > 1;
    const double *xy = f->xy;
    if (f->kind != TS_GEOM_POLYGON) { /* points (one per part) and lines */
        int pt = f->kind == TS_GEOM_POINT;
        const char *one = pt ? "Point" : "LineString";
        const char *member = pt ? "pointMember" : "lineStringMember";
        if (multi)
            TS_TRY(ts_buf_printf(b, "<gml:Multi%s srsName=\"%s\">", one, srs));
        for (uint32_t k = 0; k < f->nparts; k++) {
            if (multi)
                TS_TRY(ts_buf_printf(b, "<gml:%s><gml:%s>", member, one));
            else
                TS_TRY(ts_buf_printf(b, "<gml:%s srsName=\"%s\">", one, srs));
            TS_TRY(gml_coords(b, xy, pt ? 1 : f->counts[k], 0));
            xy += 2 * (size_t)f->counts[k];
            TS_TRY(ts_buf_printf(b, "</gml:%s>", one));
            if (multi)
                TS_TRY(ts_buf_printf(b, "</gml:%s>", member));
        }
        if (multi)
            TS_TRY(ts_buf_printf(b, "</gml:Multi%s>", one));
    } else {
        if (polygon_count(f) == 1) {
            TS_TRY(gml_polygon(b, f, 0, f->nparts, &xy, srs));
        } else {
            TS_TRY(ts_buf_printf(b, "<gml:MultiPolygon srsName=\"%s\">", srs));
            for (uint32_t k0 = 0, k1; k0 < f->nparts; k0 = k1) {
                k1 = polygon_end(f, k0);
                TS_TRY(ts_buf_printf(b, "<gml:polygonMember>"));
                TS_TRY(gml_polygon(b, f, k0, k1, &xy, NULL));
                TS_TRY(ts_buf_printf(b, "</gml:polygonMember>"));
            }
            TS_TRY(ts_buf_printf(b, "</gml:MultiPolygon>"));
        }
    }
    return ts_buf_printf(b, "\n      </msGeometry>\n");
}

static ts_status
write_json(const ts_info_result *r, ts_buf *b)
{
    TS_TRY(ts_buf_printf(b, "{\"type\":\"FeatureCollection\",\"features\":["));
    for (int i = 0; i < r->n; i++) {
        const ts_info_feature *f = &r->features[i];
        TS_TRY(ts_buf_printf(b, "%s{\"type\":\"Feature\",\"id\":\"", i ? "," : ""));
        TS_TRY(ts_ows_json_escape(b, f->layer));
        TS_TRY(ts_buf_printf(b, "."));
        TS_TRY(ts_ows_json_escape(b, f->fid));
        TS_TRY(ts_buf_printf(b, "\",\"layer\":\""));
        TS_TRY(ts_ows_json_escape(b, f->layer));
        /* in the axis order of the CRS the document names by its URN (EPSG:4326: lat, lon;
         * EPSG:31467: northing, easting), as the client's 1.3.0 BBOX was */
        ts_bbox bb = f->bbox;
        if (r->crs != NULL && r->crs->north_first)
            bb = (ts_bbox){f->bbox.miny, f->bbox.minx, f->bbox.maxy, f->bbox.maxx};
        TS_TRY(ts_buf_printf(b, "\",\"geometry\":"));
        TS_TRY(json_geometry(b, f, r->crs != NULL && r->crs->north_first));
        TS_TRY(ts_buf_printf(b, ",\"bbox\":[%.10g,%.10g,%.10g,%.10g],\"properties\":{",
                             bb.minx, bb.miny, bb.maxx, bb.maxy));
        for (int k = 0; k < f->nattrs; k++) {
            TS_TRY(ts_buf_printf(b, "%s\"", k ? "," : ""));
            TS_TRY(ts_ows_json_escape(b, f->names[k]));
            TS_TRY(ts_buf_printf(b, "\":"));
            TS_TRY(value_text(b, &f->values[k], 1));
        }
        TS_TRY(ts_buf_printf(b, "}}"));
    }
    TS_TRY(ts_buf_printf(b, "]"));
    if (r->crs != NULL) {
        TS_TRY(ts_buf_printf(b, ",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\""));
        TS_TRY(ts_ows_json_escape(b, r->crs->urn));
        TS_TRY(ts_buf_printf(b, "\"}}"));
    }
    return ts_buf_printf(b, "}\n");
}

static ts_status
write_gml(const ts_info_result *r, ts_buf *b)
{
    TS_TRY(ts_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<msGMLOutput xmlns:gml=\"http://www.opengis.net/gml\" "
                            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"));
    const char *layer = NULL;
    char ln[128], an[128];
    for (int i = 0; i < r->n; i++) {
        const ts_info_feature *f = &r->features[i];
        if (layer == NULL || strcmp(layer, f->layer) != 0) {
            if (layer != NULL) {
                xml_name(ln, sizeof ln, layer);
                TS_TRY(ts_buf_printf(b, "  </%s_layer>\n", ln));
            }
            layer = f->layer;
            xml_name(ln, sizeof ln, layer);
            TS_TRY(ts_buf_printf(b, "  <%s_layer>\n    <gml:name>", ln));
            TS_TRY(ts_ows_xml_escape(b, f->layer_title));
            TS_TRY(ts_buf_printf(b, "</gml:name>\n"));
        }
        char fid[80]; /* an XML ID: an NCName after the layer's name */
        xml_name(fid, sizeof fid, f->fid);
        TS_TRY(ts_buf_printf(b, "    <%s_feature fid=\"%s.%s\">\n", ln, ln,
                             fid[0] == '_' && f->fid[0] != '_' ? fid + 1 : fid));
        TS_TRY(ts_buf_printf(b,
                             "      <gml:boundedBy>\n        <gml:Box srsName=\"%s\">\n"
                             "          <gml:coordinates>%.10g,%.10g %.10g,%.10g"
                             "</gml:coordinates>\n        </gml:Box>\n      </gml:boundedBy>\n",
                             r->crs ? r->crs->id : "", f->bbox.minx, f->bbox.miny, f->bbox.maxx,
                             f->bbox.maxy));
        if (r->crs != NULL)
            TS_TRY(gml_geometry(b, f, r->crs->id));
        for (int k = 0; k < f->nattrs; k++) {
            xml_name(an, sizeof an, f->names[k]);
            TS_TRY(ts_buf_printf(b, "      <%s>", an));
            if (f->values[k].type == TS_VAL_STR)
                TS_TRY(ts_ows_xml_escape(b, f->values[k].u.s));
            else
                TS_TRY(value_text(b, &f->values[k], 0));
            TS_TRY(ts_buf_printf(b, "</%s>\n", an));
        }
        TS_TRY(ts_buf_printf(b, "    </%s_feature>\n", ln));
    }
    if (layer != NULL) {
        xml_name(ln, sizeof ln, layer);
        TS_TRY(ts_buf_printf(b, "  </%s_layer>\n", ln));
    }
    return ts_buf_printf(b, "</msGMLOutput>\n");
}

ts_status
ts_http__info_write(const ts_info_result *r, ts_info_format fmt, ts_buf *out)
{
    switch (fmt) {
    case TS_INFO_HTML:
        return write_html(r, out);
    case TS_INFO_JSON:
        return write_json(r, out);
    case TS_INFO_GML:
    case TS_INFO_XML:
        return write_gml(r, out);
    default:
        return write_text(r, out);
    }
}
