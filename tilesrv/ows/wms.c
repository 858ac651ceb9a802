/* ows/wms.c — WMS 1.1.1 and 1.3.0 KVP requests: GetCapabilities (version negotiation,
 * UPDATESEQUENCE), GetMap, GetFeatureInfo and GetLegendGraphic, validated against the
 * caller's catalog and limits, each fault mapped to its OGC exception code. */
#include "ows/ows.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ows/ows_int.h"

#define DEF_MAX_SIDE 4096
#define DEF_MAX_LAYERS 32
#define DEF_MAX_FC 50
#define MIN_DPI 10.0
#define MAX_DPI 2400.0

/* One parse: the request being filled, its parameters, limits and catalog. */
typedef struct wms_parse {
    ts_wms_req *r;
    ts_ows_fault *f;
    const ts_wms_options *opt;
    const ts_ows_catalog *cat;
    int max_w, max_h, max_layers, max_fc;
    long max_pixels;
} wms_parse;

static const char *
get(const wms_parse *p, const char *name)
{
    return ts_ows_kvp_get(&p->r->kvp_, name);
}

/* "1.3.0" -> 130; -1 when not three dot-separated numbers (each 0..99). */
static int
version_number(const char *v)
{
    long a, b, c = 0;
    char tail;
    /* "x.y.z", or "x.y" / "x" (a client asking for "2.0" negotiates like "2.0.0") */
    int n = v ? sscanf(v, "%ld.%ld.%ld%c", &a, &b, &c, &tail) : 0;
    if (n == 2 || n == 1) {
        char buf[16];
        if (n == 1)
            b = 0;
        snprintf(buf, sizeof buf, n == 2 ? "%ld.%ld" : "%ld", a, b);
        if (strcmp(buf, v) != 0)
            return -1; /* "1.3x", "1." and the like */
    } else if (n != 3) {
        return -1;
    }
    if (a < 0 || a > 99 || b < 0 || b > 99 || c < 0 || c > 99)
        return -1;
    return (int)(a * 10000 + b * 100 + c);
}

/* WMS 1.3.0 §6.2.4 negotiation between the versions 1.1.1 and 1.3.0. */
static int
negotiate(int asked)
{
    if (asked < 0 || asked >= 10300)
        return 130;
    return 111;
}

static ts_status
parse_exceptions(wms_parse *p)
{
    const char *e = get(p, "EXCEPTIONS");
    if (e == NULL || *e == '\0')
        return TS_OK;
    static const struct {
        const char *name;
        ts_exc_mode mode;
    } modes[] = {{"XML", TS_EXC_XML},
                 {"application/vnd.ogc.se_xml", TS_EXC_XML},
                 {"text/xml", TS_EXC_XML},
                 {"INIMAGE", TS_EXC_INIMAGE},
                 {"application/vnd.ogc.se_inimage", TS_EXC_INIMAGE},
                 {"BLANK", TS_EXC_BLANK},
                 {"application/vnd.ogc.se_blank", TS_EXC_BLANK}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcasecmp(e, modes[i].name) == 0) {
            p->r->exceptions = modes[i].mode;
            return TS_OK;
        }
    return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "EXCEPTIONS", TS_EINVAL,
                    "EXCEPTIONS '%.60s' is not one of %s", e,
                    p->r->version == 111 ? "application/vnd.ogc.se_xml, "
                                           "application/vnd.ogc.se_inimage, "
                                           "application/vnd.ogc.se_blank"
                                         : "XML, INIMAGE, BLANK");
}

/* A mandatory (or, with optional, optional) positive integer parameter up to max. */
static ts_status
parse_size(wms_parse *p, const char *name, int max, int optional, int *out)
{
    const char *v = get(p, name);
    if (v == NULL || *v == '\0') {
        if (optional)
            return TS_OK;
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, name, TS_EINVAL,
                        "parameter %s is missing", name);
    }
    long n;
    if (ts_ows__parse_long(v, 1, 1000000000, &n) != 0)
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, name, TS_EINVAL,
                        "%s must be a positive integer, got '%.40s'", name, v);
    if (n > max)
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, name, TS_ELIMIT,
                        "%s %ld is larger than the maximum %d", name, n, max);
    *out = (int)n;
    return TS_OK;
}

static ts_status
parse_format(wms_parse *p, int optional)
{
    const char *v = get(p, "FORMAT");
    if (v == NULL || *v == '\0') {
        if (optional)
            return TS_OK;
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, "FORMAT", TS_EINVAL,
                        "parameter FORMAT is missing");
    }
    ts_image_format fm = ts_ows__image_format(v);
    if (fm == TS_IMG_NONE || fm == TS_IMG_MVT) {
        if (optional) /* GetFeatureInfo carries the map's FORMAT but does not draw it */
            return TS_OK;
        return OWS_FAIL(p->f, TS_OWS_INVALID_FORMAT, "FORMAT", TS_EINVAL,
                        "FORMAT '%.60s' is not supported (image/png, image/png; mode=8bit, "
                        "image/jpeg)",
                        v);
    }
    p->r->format = fm;
    return TS_OK;
}

static ts_status
parse_transparent_bgcolor(wms_parse *p)
{
    const char *t = get(p, "TRANSPARENT");
    if (t != NULL && *t != '\0') {
        if (strcasecmp(t, "TRUE") == 0)
            p->r->transparent = 1;
        else if (strcasecmp(t, "FALSE") == 0)
            p->r->transparent = 0;
        else
            return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "TRANSPARENT", TS_EINVAL,
                            "TRANSPARENT must be TRUE or FALSE, got '%.40s'", t);
    }
    const char *c = get(p, "BGCOLOR");
    if (c != NULL && *c != '\0') {
        int ok = (c[0] == '0' && (c[1] == 'x' || c[1] == 'X')) || c[0] == '#';
        const char *hex = c[0] == '#' ? c + 1 : c + 2;
        ok = ok && strlen(hex) == 6 && strspn(hex, "0123456789abcdefABCDEF") == 6;
        if (!ok)
            return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "BGCOLOR", TS_EINVAL,
                            "BGCOLOR must be 0xRRGGBB, got '%.40s'", c);
        unsigned long rgb = strtoul(hex, NULL, 16);
        p->r->bgcolor[0] = (uint8_t)(rgb >> 16);
        p->r->bgcolor[1] = (uint8_t)(rgb >> 8);
        p->r->bgcolor[2] = (uint8_t)rgb;
    }
    return TS_OK;
}

static int
crs_offered(const wms_parse *p, const ts_crs *crs)
{
    if (p->opt == NULL || p->opt->crs == NULL)
        return 1;
    for (int i = 0; i < p->opt->ncrs; i++)
        if (ts_grid_crs_find(p->opt->crs[i]) == crs)
            return 1;
    return 0;
}

static ts_status
parse_crs(wms_parse *p)
{
    /* 1.3.0 says CRS, 1.1.1 SRS; the other name is read when a client mixes them up */
    const char *name = p->r->version == 130 ? "CRS" : "SRS";
    const char *v = get(p, name);
    if (v == NULL || *v == '\0')
        v = get(p, p->r->version == 130 ? "SRS" : "CRS");
    ts_ows_code bad = TS_OWS_INVALID_CRS;
    if (v == NULL || *v == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, name, TS_EINVAL,
                        "parameter %s is missing", name);
    const ts_crs *crs = ts_grid_crs_find(v);
    if (crs == NULL || !crs_offered(p, crs))
        return OWS_FAIL(p->f, bad, name, TS_EINVAL, "%s '%.80s' is not offered by this service",
                        name, v);
    p->r->crs = crs;
    return TS_OK;
}

static ts_status
parse_bbox(wms_parse *p)
{
    const char *v = get(p, "BBOX");
    if (v == NULL || *v == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, "BBOX", TS_EINVAL,
                        "parameter BBOX is missing");
    double n[4];
    const char *s = v;
    for (int i = 0; i < 4; i++) {
        size_t len = strcspn(s, ",");
        char num[64];
        if ((i < 3 && s[len] != ',') || (i == 3 && s[len] != '\0') ||
            ts_ows__copy(num, sizeof num, s, len) != 0 || ts_ows__parse_double(num, &n[i]) != 0)
            return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "BBOX", TS_EINVAL,
                            "BBOX must be four numbers minx,miny,maxx,maxy, got '%.80s'", v);
        s += len + 1;
    }
    ts_bbox b = {n[0], n[1], n[2], n[3]};
    /* 1.3.0 follows the CRS's axis order: EPSG:4326 is lat,lon; CRS:84 lon,lat */
    if (p->r->version == 130)
        b = ts_grid_crs_axis_box(p->r->crs, b);
    if (!(b.minx < b.maxx) || !(b.miny < b.maxy))
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "BBOX", TS_EINVAL,
                        "BBOX '%.80s' is empty: each minimum must be less than its maximum", v);
    p->r->bbox = b;
    return TS_OK;
}

static int
layer_known(const wms_parse *p, const char *name, int *queryable)
{
    *queryable = 1;
    if (p->cat == NULL || p->cat->layer == NULL)
        return 1;
    return p->cat->layer(p->cat->ud, name, queryable);
}

static int
style_known(const wms_parse *p, const char *layer, const char *style)
{
    if (*style == '\0' || p->cat == NULL || p->cat->style == NULL)
        return 1;
    return p->cat->style(p->cat->ud, layer, style);
}

/* Split the (decoded, owned) value v at commas into items[]; returns the count or -1 when
 * there are more than max items. An empty v gives 0 items. */
static int
split_list(char *v, const char **items, int max)
{
    if (*v == '\0')
        return 0;
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        items[n++] = v;
        char *c = strchr(v, ',');
        if (c == NULL)
            return n;
        *c = '\0';
        v = c + 1;
    }
}

/* LAYERS (or QUERY_LAYERS when query): each must be known; query layers also queryable. */
static ts_status
parse_layer_list(wms_parse *p, const char *param, const char **items, int *count, int query)
{
    char *v = (char *)get(p, param);
    if (v == NULL || *v == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, param, TS_EINVAL,
                        "parameter %s is missing", param);
    int n = split_list(v, items, p->max_layers);
    if (n < 0)
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, param, TS_ELIMIT,
                        "%s names more than %d layers", param, p->max_layers);
    for (int i = 0; i < n; i++) {
        int queryable;
        if (items[i][0] == '\0' || !layer_known(p, items[i], &queryable))
            return OWS_FAIL(p->f, TS_OWS_LAYER_NOT_DEFINED, param, TS_ENOENT,
                            "layer '%.100s' is not defined", items[i]);
        if (query && !queryable)
            return OWS_FAIL(p->f, TS_OWS_LAYER_NOT_QUERYABLE, param, TS_EINVAL,
                            "layer '%.100s' is not queryable", items[i]);
    }
    *count = n;
    return TS_OK;
}

static ts_status
parse_styles(wms_parse *p)
{
    ts_wms_req *r = p->r;
    char *v = (char *)get(p, "STYLES");
    for (int i = 0; i < r->nlayers; i++)
        r->styles[i] = "";
    /* STYLES is mandatory but may be empty; an absent STYLES is read as empty (lenient) */
    if (v == NULL || *v == '\0')
        return TS_OK;
    const char *items[TS_WMS_MAX_LAYERS];
    int n = split_list(v, items, TS_WMS_MAX_LAYERS);
    /* "STYLES=," for two layers is two defaults; a lone "," with one layer is not */
    if (n != r->nlayers)
        return OWS_FAIL(p->f, TS_OWS_STYLE_NOT_DEFINED, "STYLES", TS_EINVAL,
                        "STYLES lists %d styles for %d layers: give one per layer or none",
                        n < 0 ? TS_WMS_MAX_LAYERS : n, r->nlayers);
    for (int i = 0; i < n; i++) {
        const char *s = items[i];
        if (strcasecmp(s, "default") == 0 && !style_known(p, r->layers[i], s))
            s = ""; /* "default" names the default style unless the layer has one so named */
        if (!style_known(p, r->layers[i], s))
            return OWS_FAIL(p->f, TS_OWS_STYLE_NOT_DEFINED, "STYLES", TS_ENOENT,
                            "style '%.80s' is not defined for layer '%.80s'", s, r->layers[i]);
        r->styles[i] = s;
    }
    return TS_OK;
}

/* DPI, MAP_RESOLUTION, FORMAT_OPTIONS=dpi:N or LEGEND_OPTIONS=dpi:N (GeoServer's, for
 * legends), in that order of precedence. */
static ts_status
parse_dpi(wms_parse *p)
{
    const char *names[] = {"DPI", "MAP_RESOLUTION"};
    for (int i = 0; i < 2; i++) {
        const char *v = get(p, names[i]);
        if (v == NULL || *v == '\0')
            continue;
        double d;
        if (ts_ows__parse_double(v, &d) != 0 || d < MIN_DPI || d > MAX_DPI)
            return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, names[i], TS_EINVAL,
                            "%s must be a number from %g to %g, got '%.40s'", names[i], MIN_DPI,
                            MAX_DPI, v);
        p->r->dpi = d;
        return TS_OK;
    }
    static const char *const opts[] = {"FORMAT_OPTIONS", "LEGEND_OPTIONS"};
    for (int i = 0; i < 2; i++) {
        const char *fo = get(p, opts[i]);
        while (fo != NULL && *fo != '\0') {
            while (*fo == ' ' || *fo == ';' || *fo == ',')
                fo++;
            size_t n = strcspn(fo, ";,");
            if (n > 4 && strncasecmp(fo, "dpi:", 4) == 0) {
                char num[64];
                double d;
                if (ts_ows__copy(num, sizeof num, fo + 4, n - 4) != 0 ||
                    ts_ows__parse_double(num, &d) != 0 || d < MIN_DPI || d > MAX_DPI)
                    return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, opts[i], TS_EINVAL,
                                    "%s dpi must be a number from %g to %g", opts[i], MIN_DPI,
                                    MAX_DPI);
                p->r->dpi = d;
                return TS_OK;
            }
            fo += n;
        }
    }
    return TS_OK;
}

/* The map part shared by GetMap and GetFeatureInfo. */
static ts_status
parse_map(wms_parse *p, int gfi)
{
    ts_wms_req *r = p->r;
    TS_TRY(parse_format(p, gfi));
    TS_TRY(parse_size(p, "WIDTH", p->max_w, 0, &r->width));
    TS_TRY(parse_size(p, "HEIGHT", p->max_h, 0, &r->height));
    if ((long)r->width * r->height > p->max_pixels) {
        long px = (long)r->width * r->height;
        r->width = r->height = 0; /* too large to draw an INIMAGE exception either */
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "WIDTH", TS_ELIMIT,
                        "WIDTH x HEIGHT = %ld pixels is more than the maximum %ld", px,
                        p->max_pixels);
    }
    TS_TRY(parse_transparent_bgcolor(p));
    TS_TRY(parse_crs(p));
    TS_TRY(parse_bbox(p));
    TS_TRY(parse_layer_list(p, "LAYERS", r->layers, &r->nlayers, 0));
    TS_TRY(parse_styles(p));
    TS_TRY(parse_dpi(p));
    const char *sld = get(p, "SLD");
    if (sld != NULL && *sld != '\0')
        return OWS_FAIL(p->f, TS_OWS_OPERATION_NOT_SUPPORTED, "SLD", TS_EINVAL,
                        "SLD by reference is not supported; send the document in SLD_BODY");
    r->sld_body = get(p, "SLD_BODY");
    if (r->sld_body != NULL && *r->sld_body == '\0')
        r->sld_body = NULL;
    return TS_OK;
}

/* A pixel coordinate: I/J (1.3.0) or X/Y (1.1.1), either accepted. */
static ts_status
parse_point(wms_parse *p, const char *n130, const char *n111, int limit, int *out)
{
    const char *name = p->r->version == 130 ? n130 : n111;
    const char *v = get(p, name);
    if (v == NULL || *v == '\0') {
        name = p->r->version == 130 ? n111 : n130;
        v = get(p, name);
    }
    if (v == NULL || *v == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, p->r->version == 130 ? n130 : n111,
                        TS_EINVAL, "parameter %s is missing", p->r->version == 130 ? n130 : n111);
    long n;
    if (ts_ows__parse_long(v, 0, limit - 1, &n) != 0)
        return OWS_FAIL(p->f, TS_OWS_INVALID_POINT, name, TS_EINVAL,
                        "%s must be a pixel index from 0 to %d, got '%.40s'", name, limit - 1, v);
    *out = (int)n;
    return TS_OK;
}

static ts_status
parse_getfeatureinfo(wms_parse *p)
{
    ts_wms_req *r = p->r;
    TS_TRY(parse_map(p, 1));
    TS_TRY(parse_layer_list(p, "QUERY_LAYERS", r->query_layers, &r->nquery_layers, 1));
    const char *inf = get(p, "INFO_FORMAT");
    r->info_format = TS_INFO_TEXT;
    if (inf != NULL && *inf != '\0') {
        r->info_format = ts_ows__info_format(inf);
        if (r->info_format == TS_INFO_NONE)
            return OWS_FAIL(p->f, TS_OWS_INVALID_FORMAT, "INFO_FORMAT", TS_EINVAL,
                            "INFO_FORMAT '%.60s' is not supported (text/plain, text/html, "
                            "application/json, application/vnd.ogc.gml)",
                            inf);
    }
    TS_TRY(parse_point(p, "I", "X", r->width, &r->i));
    TS_TRY(parse_point(p, "J", "Y", r->height, &r->j));
    r->feature_count = 1;
    const char *fc = get(p, "FEATURE_COUNT");
    if (fc != NULL && *fc != '\0') {
        long n;
        if (ts_ows__parse_long(fc, 1, 1000000000, &n) != 0)
            return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "FEATURE_COUNT", TS_EINVAL,
                            "FEATURE_COUNT must be a positive integer, got '%.40s'", fc);
        r->feature_count = n > p->max_fc ? p->max_fc : (int)n;
    }
    return TS_OK;
}

static ts_status
parse_getlegendgraphic(wms_parse *p)
{
    ts_wms_req *r = p->r;
    TS_TRY(parse_format(p, 0));
    TS_TRY(parse_size(p, "WIDTH", p->max_w, 1, &r->width));
    TS_TRY(parse_size(p, "HEIGHT", p->max_h, 1, &r->height));
    TS_TRY(parse_transparent_bgcolor(p));
    const char *layer = get(p, "LAYER");
    int queryable;
    if (layer == NULL || *layer == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, "LAYER", TS_EINVAL,
                        "parameter LAYER is missing");
    if (!layer_known(p, layer, &queryable))
        return OWS_FAIL(p->f, TS_OWS_LAYER_NOT_DEFINED, "LAYER", TS_ENOENT,
                        "layer '%.100s' is not defined", layer);
    r->layer = layer;
    const char *style = get(p, "STYLE");
    if (style == NULL)
        style = "";
    if (strcasecmp(style, "default") == 0 && !style_known(p, layer, style))
        style = "";
    if (!style_known(p, layer, style))
        return OWS_FAIL(p->f, TS_OWS_STYLE_NOT_DEFINED, "STYLE", TS_ENOENT,
                        "style '%.80s' is not defined for layer '%.80s'", style, layer);
    r->style = style;
    r->rule = get(p, "RULE");
    if (r->rule != NULL && *r->rule == '\0')
        r->rule = NULL;
    const char *sc = get(p, "SCALE");
    if (sc != NULL && *sc != '\0' && (ts_ows__parse_double(sc, &r->scale) != 0 || !(r->scale > 0)))
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "SCALE", TS_EINVAL,
                        "SCALE must be a positive number, got '%.40s'", sc);
    TS_TRY(parse_dpi(p)); /* symbols, text and samples scale with it, as in GetMap */
    r->sld_body = get(p, "SLD_BODY");
    if (r->sld_body != NULL && *r->sld_body == '\0')
        r->sld_body = NULL;
    return TS_OK;
}

static ts_status
parse_getcapabilities(wms_parse *p, const char *version)
{
    ts_wms_req *r = p->r;
    /* SERVICE may be left out: this is the WMS endpoint (WMS 1.0's "capabilities" request
     * has no SERVICE at all; MapServer and GeoServer take it so) */
    int asked = version_number(version);
    if (version != NULL && *version != '\0' && asked < 0)
        return OWS_FAIL(p->f, TS_OWS_VERSION_NEGOTIATION_FAILED, "VERSION", TS_EINVAL,
                        "VERSION '%.40s' is not a version number like 1.3.0", version);
    r->version = negotiate(asked);
    const char *us = get(p, "UPDATESEQUENCE");
    if (us != NULL && *us != '\0') {
        r->update_sequence = us;
        const char *cur = p->opt ? p->opt->update_sequence : NULL;
        if (cur != NULL) {
            int c = ts_ows__compare_seq(us, cur);
            if (c == 0)
                return OWS_FAIL(p->f, TS_OWS_CURRENT_UPDATE_SEQUENCE, "UPDATESEQUENCE", TS_EINVAL,
                                "UPDATESEQUENCE %.60s is the current one", us);
            if (c > 0)
                return OWS_FAIL(p->f, TS_OWS_INVALID_UPDATE_SEQUENCE, "UPDATESEQUENCE", TS_EINVAL,
                                "UPDATESEQUENCE %.60s is newer than the current %.60s", us, cur);
        }
    }
    return TS_OK;
}

static const struct {
    const char *name;
    ts_wms_op op;
} ops[] = {{"GetCapabilities", TS_WMS_GETCAPABILITIES},
           {"capabilities", TS_WMS_GETCAPABILITIES}, /* WMS 1.0.0 */
           {"GetMap", TS_WMS_GETMAP},
           {"map", TS_WMS_GETMAP},
           {"GetFeatureInfo", TS_WMS_GETFEATUREINFO},
           {"feature_info", TS_WMS_GETFEATUREINFO},
           {"GetLegendGraphic", TS_WMS_GETLEGENDGRAPHIC}};

static ts_status
parse_request(wms_parse *p, const char *query)
{
    ts_wms_req *r = p->r;
    if (ts_ows_kvp_parse(query, &r->kvp_, &p->f->err) != TS_OK) {
        ts_ows__set_fault(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "");
        return p->f->err.code;
    }
    const char *version = get(p, "VERSION");
    if (version == NULL || *version == '\0')
        version = get(p, "WMTVER");
    int vn = version_number(version);
    r->version = vn >= 10300 ? 130 : (vn >= 0 ? 111 : 130); /* for reporting faults */
    const char *req = get(p, "REQUEST");
    if (req == NULL || *req == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, "REQUEST", TS_EINVAL,
                        "parameter REQUEST is missing");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0] && r->op == 0; i++)
        if (strcasecmp(req, ops[i].name) == 0)
            r->op = ops[i].op;
    if (r->op == 0)
        return OWS_FAIL(p->f, TS_OWS_OPERATION_NOT_SUPPORTED, "REQUEST", TS_EINVAL,
                        "REQUEST '%.60s' is not supported (GetCapabilities, GetMap, "
                        "GetFeatureInfo, GetLegendGraphic)",
                        req);
    const char *svc = get(p, "SERVICE");
    if (svc != NULL && *svc != '\0' && strcasecmp(svc, "WMS") != 0)
        return OWS_FAIL(p->f, TS_OWS_INVALID_PARAMETER_VALUE, "SERVICE", TS_EINVAL,
                        "SERVICE '%.40s' is not WMS", svc);
    if (r->op == TS_WMS_GETCAPABILITIES)
        return parse_getcapabilities(p, version);
    if (r->op == TS_WMS_GETLEGENDGRAPHIC) {
        /* GetLegendGraphic (SLD 1.1 profile) versions vary by client: 1.1.1 or 1.3.0 */
        r->version = vn == 10101 ? 111 : 130;
        TS_TRY(parse_exceptions(p));
        return parse_getlegendgraphic(p);
    }
    if (version == NULL || *version == '\0')
        return OWS_FAIL(p->f, TS_OWS_MISSING_PARAMETER_VALUE, "VERSION", TS_EINVAL,
                        "parameter VERSION is missing (1.3.0 or 1.1.1)");
    /* the earlier versions (1.0.0, 1.0.7, 1.0.8, 1.1.0) are answered as 1.1.1: old clients
     * send the version they were written for with every GetMap, and MapServer and
     * GeoServer answer them so */
    if (vn != 10300 && vn != 10101 && vn != 10100 && vn != 10000 && vn != 10007 && vn != 10008)
        return OWS_FAIL(p->f, TS_OWS_VERSION_NEGOTIATION_FAILED, "VERSION", TS_EINVAL,
                        "VERSION '%.40s' is not supported (1.3.0 or 1.1.1; 1.0.0 to 1.1.0 "
                        "as 1.1.1)",
                        version);
    r->version = vn == 10300 ? 130 : 111;
    TS_TRY(parse_exceptions(p));
    if (r->op == TS_WMS_GETMAP)
        return parse_map(p, 0);
    return parse_getfeatureinfo(p);
}

ts_status
ts_ows_parse_wms(const char *query, const ts_wms_options *opt, const ts_ows_catalog *cat,
                 ts_wms_req *out, ts_ows_fault *fault)
{
    memset(out, 0, sizeof *out);
    out->bgcolor[0] = out->bgcolor[1] = out->bgcolor[2] = 0xff;
    out->version = 130;
    ts_ows__clear_fault(fault);
    wms_parse p = {.r = out, .f = fault, .opt = opt, .cat = cat};
    p.max_w = opt && opt->max_width > 0 ? opt->max_width : DEF_MAX_SIDE;
    p.max_h = opt && opt->max_height > 0 ? opt->max_height : DEF_MAX_SIDE;
    p.max_pixels = opt && opt->max_pixels > 0 ? opt->max_pixels : (long)DEF_MAX_SIDE * DEF_MAX_SIDE;
    p.max_layers = opt && opt->max_layers > 0 ? opt->max_layers : DEF_MAX_LAYERS;
    if (p.max_layers > TS_WMS_MAX_LAYERS)
        p.max_layers = TS_WMS_MAX_LAYERS;
    p.max_fc = opt && opt->max_feature_count > 0 ? opt->max_feature_count : DEF_MAX_FC;
    ts_status st = parse_request(&p, query);
    if (st != TS_OK && fault->code == TS_OWS_NONE)
        ts_ows__set_fault(fault, TS_OWS_NO_APPLICABLE_CODE, "");
    return st;
}

void
ts_ows_wms_req_free(ts_wms_req *r)
{
    if (r == NULL)
        return;
    ts_ows_kvp_free(&r->kvp_);
}
