/* ows/wmts.c — WMTS 1.0.0: KVP and RESTful requests (GetCapabilities, GetTile,
 * GetFeatureInfo), the Capabilities document and the OWS 1.1 ExceptionReport. */
#include "ows/ows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ows/ows_int.h"

/* ---- requests ------------------------------------------------------------------------- */

static ts_status
copy_name(ts_ows_fault *f, const char *param, char *dst, size_t cap, const char *v, size_t n)
{
    if (n == 0 || ts_ows__copy(dst, cap, v, n) != 0 || dst[0] == '\0')
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, param, TS_EINVAL,
                        "%s is empty or longer than %zu characters", param, cap - 1);
    return TS_OK;
}

static int
is_default_style(const char *s)
{
    return *s == '\0' || strcasecmp(s, "default") == 0;
}

/* Check layer, style, tile matrix set, tile matrix and the tile indices of r against cat. */
/* A tile row or column: a decimal integer, negative ones included (they are outside every
 * matrix: TileOutOfRange, not malformed). 0 and *v, or -1. */
static int
parse_index(const char *s, long *v)
{
    while (s && *s == ' ')
        s++;
    if (s && *s == '-') {
        if (ts_ows__parse_long(s + 1, 0, 4294967295L, v) != 0)
            return -1;
        *v = -*v;
        return 0;
    }
    return ts_ows__parse_long(s, 0, 4294967295L, v);
}

static ts_status
resolve_tile(ts_wmts_req *r, const ts_ows_catalog *cat, const char *matrix, const char *row,
             const char *col, ts_ows_fault *f)
{
    int queryable = 1;
    if (cat && cat->layer && !cat->layer(cat->ud, r->layer, &queryable))
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "LAYER", TS_ENOENT,
                        "layer '%.100s' is not offered", r->layer);
    if (r->op == TS_WMTS_GETFEATUREINFO && !queryable)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "LAYER", TS_EINVAL,
                        "layer '%.100s' is not queryable", r->layer);
    if (cat && cat->style && !cat->style(cat->ud, r->layer, r->style) &&
        !is_default_style(r->style))
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "STYLE", TS_ENOENT,
                        "style '%.80s' is not defined for layer '%.80s'", r->style, r->layer);
    r->grid = cat && cat->grid ? cat->grid(cat->ud, r->layer, r->tms) : ts_grid_builtin(r->tms);
    if (r->grid == NULL)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "TILEMATRIXSET", TS_ENOENT,
                        "layer '%.80s' is not offered in tile matrix set '%.80s'", r->layer,
                        r->tms);
    r->z = ts_grid_level_by_id(r->grid, matrix);
    if (r->z < 0)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "TILEMATRIX", TS_ENOENT,
                        "tile matrix '%.40s' is not in tile matrix set '%.80s'", matrix, r->tms);
    const ts_tile_matrix *m = &r->grid->levels[r->z];
    long v;
    if (parse_index(row, &v) != 0)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "TILEROW", TS_EINVAL,
                        "TILEROW must be an integer, got '%.40s'", row);
    if (v < 0 || v >= (long)m->matrix_h)
        return OWS_FAIL(f, TS_OWS_TILE_OUT_OF_RANGE, "TILEROW", TS_ENOENT,
                        "TILEROW %ld is outside 0..%u of tile matrix %s", v, m->matrix_h - 1,
                        m->id);
    r->row = (uint32_t)v;
    if (parse_index(col, &v) != 0)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "TILECOL", TS_EINVAL,
                        "TILECOL must be an integer, got '%.40s'", col);
    if (v < 0 || v >= (long)m->matrix_w)
        return OWS_FAIL(f, TS_OWS_TILE_OUT_OF_RANGE, "TILECOL", TS_ENOENT,
                        "TILECOL %ld is outside 0..%u of tile matrix %s", v, m->matrix_w - 1,
                        m->id);
    r->col = (uint32_t)v;
    return TS_OK;
}

static ts_status
resolve_ij(ts_wmts_req *r, const char *i, const char *j, ts_ows_fault *f)
{
    const ts_tile_matrix *m = &r->grid->levels[r->z];
    long v;
    if (ts_ows__parse_long(i, 0, 1000000, &v) != 0 || v >= (long)m->tile_w)
        return OWS_FAIL(f, TS_OWS_POINT_IJ_OUT_OF_RANGE, "I", TS_EINVAL,
                        "I must be a pixel column 0..%u, got '%.40s'", m->tile_w - 1, i);
    r->i = (uint32_t)v;
    if (ts_ows__parse_long(j, 0, 1000000, &v) != 0 || v >= (long)m->tile_h)
        return OWS_FAIL(f, TS_OWS_POINT_IJ_OUT_OF_RANGE, "J", TS_EINVAL,
                        "J must be a pixel row 0..%u, got '%.40s'", m->tile_h - 1, j);
    r->j = (uint32_t)v;
    return TS_OK;
}

static ts_status
kvp_required(const ts_kvp *kv, const char *name, const char **out, ts_ows_fault *f)
{
    *out = ts_ows_kvp_get(kv, name);
    if (*out == NULL)
        return OWS_FAIL(f, TS_OWS_MISSING_PARAMETER_VALUE, name, TS_EINVAL,
                        "parameter %s is missing", name);
    return TS_OK;
}

static ts_status
kvp_capabilities(const ts_kvp *kv, const char *current, ts_wmts_req *r, ts_ows_fault *f)
{
    const char *av = ts_ows_kvp_get(kv, "ACCEPTVERSIONS");
    if (av != NULL && *av != '\0') {
        int ok = 0;
        for (const char *p = av; *p && !ok;) {
            size_t n = strcspn(p, ",");
            char v[32];
            ok = ts_ows__copy(v, sizeof v, p, n) == 0 && strcmp(v, "1.0.0") == 0;
            p += n + (p[n] == ',');
        }
        if (!ok)
            return OWS_FAIL(f, TS_OWS_VERSION_NEGOTIATION_FAILED, "AcceptVersions", TS_EINVAL,
                            "none of the versions '%.60s' is supported (1.0.0)", av);
    }
    const char *us = ts_ows_kvp_get(kv, "UPDATESEQUENCE");
    if (us != NULL && *us != '\0' && current != NULL) {
        int c = ts_ows__compare_seq(us, current);
        if (c > 0)
            return OWS_FAIL(f, TS_OWS_INVALID_UPDATE_SEQUENCE, "updateSequence", TS_EINVAL,
                            "updateSequence %.60s is newer than the current %.60s", us, current);
        r->up_to_date = c == 0;
    }
    return TS_OK;
}

static ts_status
kvp_parse(const ts_kvp *kv, const char *current, const ts_ows_catalog *cat, ts_wmts_req *r,
          ts_ows_fault *f)
{
    const char *svc, *req;
    TS_TRY(kvp_required(kv, "SERVICE", &svc, f));
    if (strcasecmp(svc, "WMTS") != 0)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "SERVICE", TS_EINVAL,
                        "SERVICE '%.40s' is not WMTS", svc);
    TS_TRY(kvp_required(kv, "REQUEST", &req, f));
    if (strcasecmp(req, "GetCapabilities") == 0)
        r->op = TS_WMTS_GETCAPABILITIES;
    else if (strcasecmp(req, "GetTile") == 0)
        r->op = TS_WMTS_GETTILE;
    else if (strcasecmp(req, "GetFeatureInfo") == 0)
        r->op = TS_WMTS_GETFEATUREINFO;
    else
        return OWS_FAIL(f, TS_OWS_OPERATION_NOT_SUPPORTED, "REQUEST", TS_EINVAL,
                        "REQUEST '%.60s' is not supported (GetCapabilities, GetTile, "
                        "GetFeatureInfo)",
                        req);
    if (r->op == TS_WMTS_GETCAPABILITIES)
        return kvp_capabilities(kv, current, r, f);
    const char *version, *layer, *style, *format, *tms, *matrix, *row, *col;
    TS_TRY(kvp_required(kv, "VERSION", &version, f));
    if (strcmp(version, "1.0.0") != 0)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "VERSION", TS_EINVAL,
                        "VERSION '%.40s' is not supported (1.0.0)", version);
    TS_TRY(kvp_required(kv, "LAYER", &layer, f));
    TS_TRY(kvp_required(kv, "STYLE", &style, f));
    TS_TRY(kvp_required(kv, "FORMAT", &format, f));
    TS_TRY(kvp_required(kv, "TILEMATRIXSET", &tms, f));
    TS_TRY(kvp_required(kv, "TILEMATRIX", &matrix, f));
    TS_TRY(kvp_required(kv, "TILEROW", &row, f));
    TS_TRY(kvp_required(kv, "TILECOL", &col, f));
    TS_TRY(copy_name(f, "LAYER", r->layer, sizeof r->layer, layer, strlen(layer)));
    if (ts_ows__copy(r->style, sizeof r->style, style, strlen(style)) != 0)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "STYLE", TS_EINVAL, "STYLE too long");
    TS_TRY(copy_name(f, "TILEMATRIXSET", r->tms, sizeof r->tms, tms, strlen(tms)));
    r->format = ts_ows__image_format(format);
    if (r->format == TS_IMG_NONE)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "FORMAT", TS_EINVAL,
                        "FORMAT '%.60s' is not supported (image/png, image/jpeg, "
                        "application/vnd.mapbox-vector-tile)",
                        format);
    TS_TRY(resolve_tile(r, cat, matrix, row, col, f));
    if (r->op == TS_WMTS_GETTILE)
        return TS_OK;
    const char *inf, *i, *j;
    TS_TRY(kvp_required(kv, "INFOFORMAT", &inf, f));
    r->info_format = ts_ows__info_format(inf);
    if (r->info_format == TS_INFO_NONE)
        return OWS_FAIL(f, TS_OWS_INVALID_PARAMETER_VALUE, "INFOFORMAT", TS_EINVAL,
                        "INFOFORMAT '%.60s' is not supported", inf);
    TS_TRY(kvp_required(kv, "I", &i, f));
    TS_TRY(kvp_required(kv, "J", &j, f));
    return resolve_ij(r, i, j, f);
}

ts_status
ts_ows_parse_wmts_kvp(const char *query, const char *update_sequence, const ts_ows_catalog *cat,
                      ts_wmts_req *out, ts_ows_fault *fault)
{
    memset(out, 0, sizeof *out);
    ts_ows__clear_fault(fault);
    ts_kvp kv;
    ts_status st = ts_ows_kvp_parse(query, &kv, &fault->err);
    if (st != TS_OK)
        ts_ows__set_fault(fault, TS_OWS_INVALID_PARAMETER_VALUE, "");
    else
        st = kvp_parse(&kv, update_sequence, cat, out, fault);
    ts_ows_kvp_free(&kv);
    return st;
}

static const struct {
    const char *ext;
    ts_image_format format;
    ts_info_format info;
} exts[] = {{"png", TS_IMG_PNG, TS_INFO_NONE},   {"jpg", TS_IMG_JPEG, TS_INFO_NONE},
            {"jpeg", TS_IMG_JPEG, TS_INFO_NONE}, {"pbf", TS_IMG_MVT, TS_INFO_NONE},
            {"mvt", TS_IMG_MVT, TS_INFO_NONE},   {"txt", TS_IMG_NONE, TS_INFO_TEXT},
            {"html", TS_IMG_NONE, TS_INFO_HTML}, {"json", TS_IMG_NONE, TS_INFO_JSON},
            {"gml", TS_IMG_NONE, TS_INFO_GML},   {"xml", TS_IMG_NONE, TS_INFO_GML}};

#define REST_MAX_SEGS 8

ts_status
ts_ows_parse_wmts_rest(const char *path, const ts_ows_catalog *cat, ts_wmts_req *out,
                       ts_ows_fault *fault)
{
    memset(out, 0, sizeof *out);
    ts_ows__clear_fault(fault);
    out->rest = 1;
    if (strcmp(path, "WMTSCapabilities.xml") == 0) {
        out->op = TS_WMTS_GETCAPABILITIES;
        return TS_OK;
    }
    const char *seg[REST_MAX_SEGS];
    size_t len[REST_MAX_SEGS];
    int n = 0;
    for (const char *p = path;; n++) {
        if (n == REST_MAX_SEGS)
            return OWS_FAIL(fault, TS_OWS_INVALID_PARAMETER_VALUE, "", TS_ENOENT,
                            "WMTS paths have 6 (tile) or 8 (feature info) segments");
        seg[n] = p;
        len[n] = strcspn(p, "/");
        if (len[n] == 0)
            return OWS_FAIL(fault, TS_OWS_INVALID_PARAMETER_VALUE, "", TS_ENOENT,
                            "empty segment in WMTS path");
        p += len[n];
        if (*p == '\0') {
            n++;
            break;
        }
        p++;
    }
    if (n != 6 && n != 8)
        return OWS_FAIL(fault, TS_OWS_INVALID_PARAMETER_VALUE, "", TS_ENOENT,
                        "WMTS paths look like {layer}/{style}/{TileMatrixSet}/{TileMatrix}/"
                        "{TileRow}/{TileCol}.png");
    /* the extension of the last segment */
    const char *last = seg[n - 1];
    const char *dot = memchr(last, '.', len[n - 1]);
    if (dot == NULL)
        return OWS_FAIL(fault, TS_OWS_INVALID_PARAMETER_VALUE, "FORMAT", TS_ENOENT,
                        "WMTS path needs an extension (.png, .jpg, .pbf; .json, .html ...)");
    size_t elen = len[n - 1] - (size_t)(dot + 1 - last);
    size_t k = 0;
    while (k < sizeof exts / sizeof exts[0] &&
           !(strlen(exts[k].ext) == elen && strncasecmp(exts[k].ext, dot + 1, elen) == 0))
        k++;
    if (k == sizeof exts / sizeof exts[0] || (n == 6) != (exts[k].format != TS_IMG_NONE))
        return OWS_FAIL(fault, TS_OWS_INVALID_PARAMETER_VALUE, "FORMAT", TS_ENOENT,
                        "unknown extension '.%.*s' for a %s", (int)(elen > 10 ? 10 : elen), dot + 1,
                        n == 6 ? "tile" : "feature info request");
    len[n - 1] = (size_t)(dot - last);
    out->op = n == 6 ? TS_WMTS_GETTILE : TS_WMTS_GETFEATUREINFO;
    out->format = n == 6 ? exts[k].format : TS_IMG_PNG;
    out->info_format = exts[k].info;
    char matrix[32], row[16], col[16], i[16], j[16];
    TS_TRY(copy_name(fault, "LAYER", out->layer, sizeof out->layer, seg[0], len[0]));
    TS_TRY(copy_name(fault, "STYLE", out->style, sizeof out->style, seg[1], len[1]));
    TS_TRY(copy_name(fault, "TILEMATRIXSET", out->tms, sizeof out->tms, seg[2], len[2]));
    TS_TRY(copy_name(fault, "TILEMATRIX", matrix, sizeof matrix, seg[3], len[3]));
    TS_TRY(copy_name(fault, "TILEROW", row, sizeof row, seg[4], len[4]));
    TS_TRY(copy_name(fault, "TILECOL", col, sizeof col, seg[5], len[5]));
    TS_TRY(resolve_tile(out, cat, matrix, row, col, fault));
    if (n == 6)
        return TS_OK;
    TS_TRY(copy_name(fault, "J", j, sizeof j, seg[6], len[6]));
    TS_TRY(copy_name(fault, "I", i, sizeof i, seg[7], len[7]));
    return resolve_ij(out, i, j, fault);
}

/* ---- documents ------------------------------------------------------------------------ */

ts_status
ts_ows_write_ows_exception(const ts_ows_fault *fault, ts_buf *out)
{
    ts_ows_code code = fault->code == TS_OWS_NONE ? TS_OWS_NO_APPLICABLE_CODE : fault->code;
    TS_TRY(ts_buf_printf(out,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ows:ExceptionReport xmlns:ows=\"http://www.opengis.net/ows/1.1\" "
                         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                         "xsi:schemaLocation=\"http://www.opengis.net/ows/1.1 "
                         "http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd\" "
                         "version=\"1.0.0\" xml:lang=\"en\">\n"
                         "  <ows:Exception exceptionCode=\"%s\"",
                         ts_ows_code_name(code, 0)));
    if (fault->locator[0]) {
        TS_TRY(ts_buf_printf(out, " locator=\""));
        TS_TRY(ts_ows_xml_escape(out, fault->locator));
        TS_TRY(ts_buf_add(out, "\"", 1));
    }
    TS_TRY(ts_buf_printf(out, ">\n    <ows:ExceptionText>"));
    TS_TRY(ts_ows_xml_escape(out, fault->err.msg));
    return ts_buf_printf(out, "</ows:ExceptionText>\n  </ows:Exception>\n</ows:ExceptionReport>\n");
}

static int
any(const char *s)
{
    return s != NULL && *s != '\0';
}

static ts_status
href_attr(ts_buf *b, const char *url)
{
    TS_TRY(ts_buf_printf(b, " xlink:href=\""));
    TS_TRY(ts_ows_xml_escape(b, url));
    return ts_buf_add(b, "\"", 1);
}

static ts_status
service_identification(ts_buf *b, const ts_ows_service *s)
{
    TS_TRY(ts_buf_printf(b, "  <ows:ServiceIdentification>\n"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "ows:Title", s->title));
    if (any(s->abstract_text))
        TS_TRY(ts_ows__xml_elem(b, "    ", "ows:Abstract", s->abstract_text));
    if (s->nkeywords > 0) {
        TS_TRY(ts_buf_printf(b, "    <ows:Keywords>\n"));
        for (int i = 0; i < s->nkeywords; i++)
            TS_TRY(ts_ows__xml_elem(b, "      ", "ows:Keyword", s->keywords[i]));
        TS_TRY(ts_buf_printf(b, "    </ows:Keywords>\n"));
    }
    TS_TRY(ts_buf_printf(b, "    <ows:ServiceType>OGC WMTS</ows:ServiceType>\n"
                            "    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>\n"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "ows:Fees", any(s->fees) ? s->fees : "none"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "ows:AccessConstraints",
                            any(s->access_constraints) ? s->access_constraints : "none"));
    return ts_buf_printf(b, "  </ows:ServiceIdentification>\n");
}

static ts_status
service_provider(ts_buf *b, const ts_ows_service *s, const char *url)
{
    const ts_ows_contact *c = &s->contact;
    TS_TRY(ts_buf_printf(b, "  <ows:ServiceProvider>\n"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "ows:ProviderName",
                            any(c->organization) ? c->organization : s->title));
    TS_TRY(ts_buf_printf(b, "    <ows:ProviderSite"));
    TS_TRY(href_attr(b, any(s->online_resource) ? s->online_resource : url));
    TS_TRY(ts_buf_printf(b, "/>\n    <ows:ServiceContact>\n"));
    if (any(c->person))
        TS_TRY(ts_ows__xml_elem(b, "      ", "ows:IndividualName", c->person));
    if (any(c->position))
        TS_TRY(ts_ows__xml_elem(b, "      ", "ows:PositionName", c->position));
    int addr = any(c->address) || any(c->city) || any(c->state) || any(c->postcode) ||
               any(c->country) || any(c->email);
    if (any(c->phone) || addr) {
        TS_TRY(ts_buf_printf(b, "      <ows:ContactInfo>\n"));
        if (any(c->phone)) {
            TS_TRY(ts_buf_printf(b, "        <ows:Phone>\n"));
            TS_TRY(ts_ows__xml_elem(b, "          ", "ows:Voice", c->phone));
            TS_TRY(ts_buf_printf(b, "        </ows:Phone>\n"));
        }
        if (addr) {
            TS_TRY(ts_buf_printf(b, "        <ows:Address>\n"));
            const char *tags[] = {"ows:DeliveryPoint", "ows:City",    "ows:AdministrativeArea",
                                  "ows:PostalCode",    "ows:Country", "ows:ElectronicMailAddress"};
            const char *vals[] = {c->address, c->city, c->state, c->postcode, c->country, c->email};
            for (int i = 0; i < 6; i++)
                if (any(vals[i]))
                    TS_TRY(ts_ows__xml_elem(b, "          ", tags[i], vals[i]));
            TS_TRY(ts_buf_printf(b, "        </ows:Address>\n"));
        }
        TS_TRY(ts_buf_printf(b, "      </ows:ContactInfo>\n"));
    }
    return ts_buf_printf(b, "    </ows:ServiceContact>\n  </ows:ServiceProvider>\n");
}

static ts_status
operations(ts_buf *b, const char *url)
{
    static const char *const ops[] = {"GetCapabilities", "GetTile", "GetFeatureInfo"};
    char kvp[1024];
    snprintf(kvp, sizeof kvp, "%s?", url);
    TS_TRY(ts_buf_printf(b, "  <ows:OperationsMetadata>\n"));
    for (int i = 0; i < 3; i++) {
        TS_TRY(ts_buf_printf(b,
                             "    <ows:Operation name=\"%s\">\n      <ows:DCP>\n"
                             "        <ows:HTTP>\n          <ows:Get",
                             ops[i]));
        TS_TRY(href_attr(b, kvp));
        TS_TRY(ts_buf_printf(b, ">\n            <ows:Constraint name=\"GetEncoding\">\n"
                                "              <ows:AllowedValues>\n"
                                "                <ows:Value>KVP</ows:Value>\n"
                                "              </ows:AllowedValues>\n"
                                "            </ows:Constraint>\n          </ows:Get>\n"));
        if (i < 2) {
            char rest[1024];
            snprintf(rest, sizeof rest, "%s/1.0.0/", url);
            TS_TRY(ts_buf_printf(b, "          <ows:Get"));
            TS_TRY(href_attr(b, rest));
            TS_TRY(ts_buf_printf(b, ">\n            <ows:Constraint name=\"GetEncoding\">\n"
                                    "              <ows:AllowedValues>\n"
                                    "                <ows:Value>RESTful</ows:Value>\n"
                                    "              </ows:AllowedValues>\n"
                                    "            </ows:Constraint>\n          </ows:Get>\n"));
        }
        TS_TRY(ts_buf_printf(b, "        </ows:HTTP>\n      </ows:DCP>\n    </ows:Operation>\n"));
    }
    return ts_buf_printf(b, "  </ows:OperationsMetadata>\n");
}

/* "x y" of a point in crs's axis order. */
static ts_status
corner(ts_buf *b, const ts_crs *crs, double x, double y)
{
    int swap = crs != NULL && crs->north_first;
    TS_TRY(ts_ows__num(b, swap ? y : x));
    TS_TRY(ts_buf_add(b, " ", 1));
    return ts_ows__num(b, swap ? x : y);
}

static const char *
ext_of(ts_image_format f)
{
    return f == TS_IMG_JPEG ? "jpg" : f == TS_IMG_MVT ? "pbf" : "png";
}

static ts_status
layer_limits(ts_buf *b, const ts_wmts_link *lk)
{
    const ts_grid *g = lk->grid;
    int z0 = lk->minzoom < 0 ? 0 : lk->minzoom;
    int z1 = lk->maxzoom >= g->nlevels || lk->maxzoom < z0 ? g->nlevels - 1 : lk->maxzoom;
    TS_TRY(ts_buf_printf(b, "        <TileMatrixSetLimits>\n"));
    for (int z = z0; z <= z1; z++) {
        const ts_tile_matrix *m = &g->levels[z];
        uint32_t c0 = 0, r0 = 0, c1 = m->matrix_w - 1, r1 = m->matrix_h - 1;
        if (lk->has_bbox && !ts_grid_tile_range(g, z, lk->bbox, &c0, &r0, &c1, &r1))
            c0 = r0 = c1 = r1 = 0; /* extent outside the set: announce one tile */
        TS_TRY(ts_buf_printf(b,
                             "          <TileMatrixLimits>\n"
                             "            <TileMatrix>%s</TileMatrix>\n"
                             "            <MinTileRow>%u</MinTileRow>\n"
                             "            <MaxTileRow>%u</MaxTileRow>\n"
                             "            <MinTileCol>%u</MinTileCol>\n"
                             "            <MaxTileCol>%u</MaxTileCol>\n"
                             "          </TileMatrixLimits>\n",
                             m->id, r0, r1, c0, c1));
    }
    return ts_buf_printf(b, "        </TileMatrixSetLimits>\n");
}

static ts_status
wmts_layer(ts_buf *b, const ts_wmts_layer *l, const char *url, int limits)
{
    static const ts_image_format png_only[] = {TS_IMG_PNG};
    static const ts_info_format infos[] = {TS_INFO_TEXT, TS_INFO_HTML, TS_INFO_JSON, TS_INFO_GML};
    static const char *const info_ext[] = {"txt", "html", "json", "gml"};
    const ts_image_format *fm = l->formats ? l->formats : png_only;
    int nfm = l->formats ? l->nformats : 1;
    TS_TRY(ts_buf_printf(b, "    <Layer>\n"));
    TS_TRY(ts_ows__xml_elem(b, "      ", "ows:Title", any(l->title) ? l->title : l->name));
    if (any(l->abstract_text))
        TS_TRY(ts_ows__xml_elem(b, "      ", "ows:Abstract", l->abstract_text));
    if (l->nkeywords > 0) {
        TS_TRY(ts_buf_printf(b, "      <ows:Keywords>\n"));
        for (int i = 0; i < l->nkeywords; i++)
            TS_TRY(ts_ows__xml_elem(b, "        ", "ows:Keyword", l->keywords[i]));
        TS_TRY(ts_buf_printf(b, "      </ows:Keywords>\n"));
    }
    if (l->has_lonlat) {
        TS_TRY(ts_buf_printf(b, "      <ows:WGS84BoundingBox>\n        <ows:LowerCorner>"));
        TS_TRY(corner(b, NULL, l->lonlat.minx, l->lonlat.miny));
        TS_TRY(ts_buf_printf(b, "</ows:LowerCorner>\n        <ows:UpperCorner>"));
        TS_TRY(corner(b, NULL, l->lonlat.maxx, l->lonlat.maxy));
        TS_TRY(ts_buf_printf(b, "</ows:UpperCorner>\n      </ows:WGS84BoundingBox>\n"));
    }
    TS_TRY(ts_ows__xml_elem(b, "      ", "ows:Identifier", l->name));
    if (any(l->metadata_url)) {
        TS_TRY(ts_buf_printf(b, "      <ows:Metadata"));
        TS_TRY(href_attr(b, l->metadata_url));
        TS_TRY(ts_buf_printf(b, "/>\n"));
    }
    if (l->styles == NULL || l->nstyles == 0) {
        TS_TRY(ts_buf_printf(b, "      <Style isDefault=\"true\">\n"
                                "        <ows:Title>default</ows:Title>\n"
                                "        <ows:Identifier>default</ows:Identifier>\n"
                                "      </Style>\n"));
    }
    for (int i = 0; l->styles && i < l->nstyles; i++) {
        const ts_ows_style *st = &l->styles[i];
        TS_TRY(ts_buf_printf(b, "      <Style isDefault=\"%s\">\n", i == 0 ? "true" : "false"));
        TS_TRY(ts_ows__xml_elem(b, "        ", "ows:Title", any(st->title) ? st->title : st->name));
        if (any(st->abstract_text))
            TS_TRY(ts_ows__xml_elem(b, "        ", "ows:Abstract", st->abstract_text));
        TS_TRY(ts_ows__xml_elem(b, "        ", "ows:Identifier", st->name));
        if (any(st->legend_url)) {
            TS_TRY(ts_buf_printf(b, "        <LegendURL format=\"image/png\""));
            TS_TRY(href_attr(b, st->legend_url));
            if (st->legend_width > 0 && st->legend_height > 0)
                TS_TRY(ts_buf_printf(b, " width=\"%d\" height=\"%d\"", st->legend_width,
                                     st->legend_height));
            TS_TRY(ts_buf_printf(b, "/>\n"));
        }
        TS_TRY(ts_buf_printf(b, "      </Style>\n"));
    }
    for (int i = 0; i < nfm; i++)
        TS_TRY(ts_ows__xml_elem(b, "      ", "Format", ts_ows_image_mime(fm[i])));
    for (int i = 0; l->queryable && i < 4; i++)
        TS_TRY(ts_ows__xml_elem(b, "      ", "InfoFormat", ts_ows_info_mime(infos[i])));
    for (int i = 0; i < l->nlinks; i++) {
        TS_TRY(ts_buf_printf(b, "      <TileMatrixSetLink>\n"));
        TS_TRY(ts_ows__xml_elem(b, "        ", "TileMatrixSet", l->links[i].grid->name));
        if (limits)
            TS_TRY(layer_limits(b, &l->links[i]));
        TS_TRY(ts_buf_printf(b, "      </TileMatrixSetLink>\n"));
    }
    for (int i = 0; i < nfm; i++) {
        /* no REST template for vector tiles (KVP GetTile and the .pbf path serve them):
         * OpenLayers' optionsFromCapabilities takes every tile ResourceURL of a layer,
         * whatever its format (openlayers#12901), and sent a third to a half of an image
         * layer's requests to the .pbf template */
        if (fm[i] == TS_IMG_MVT)
            continue;
        TS_TRY(ts_buf_printf(b,
                             "      <ResourceURL format=\"%s\" resourceType=\"tile\" "
                             "template=\"",
                             ts_ows_image_mime(fm[i])));
        TS_TRY(ts_ows_xml_escape(b, url));
        TS_TRY(ts_buf_printf(b, "/1.0.0/"));
        TS_TRY(ts_ows_xml_escape(b, l->name));
        TS_TRY(ts_buf_printf(b,
                             "/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.%s\"/>\n",
                             ext_of(fm[i])));
    }
    for (int i = 0; l->queryable && i < 4; i++) {
        TS_TRY(ts_buf_printf(b,
                             "      <ResourceURL format=\"%s\" resourceType=\"FeatureInfo\" "
                             "template=\"",
                             ts_ows_info_mime(infos[i])));
        TS_TRY(ts_ows_xml_escape(b, url));
        TS_TRY(ts_buf_printf(b, "/1.0.0/"));
        TS_TRY(ts_ows_xml_escape(b, l->name));
        TS_TRY(ts_buf_printf(b,
                             "/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}/{J}/"
                             "{I}.%s\"/>\n",
                             info_ext[i]));
    }
    return ts_buf_printf(b, "    </Layer>\n");
}

static ts_status
tile_matrix_set(ts_buf *b, const ts_grid *g)
{
    const ts_crs *crs = ts_grid_crs(g);
    TS_TRY(ts_buf_printf(b, "    <TileMatrixSet>\n"));
    if (g->title[0])
        TS_TRY(ts_ows__xml_elem(b, "      ", "ows:Title", g->title));
    TS_TRY(ts_ows__xml_elem(b, "      ", "ows:Identifier", g->name));
    TS_TRY(ts_ows__xml_elem(b, "      ", "ows:SupportedCRS",
                            crs             ? crs->urn
                            : g->crs_uri[0] ? g->crs_uri
                                            : g->crs));
    if (strcmp(g->name, "WebMercatorQuad") == 0)
        TS_TRY(ts_buf_printf(b, "      <WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:"
                                "GoogleMapsCompatible</WellKnownScaleSet>\n"));
    else if (strcmp(g->name, "WorldCRS84Quad") == 0)
        TS_TRY(ts_buf_printf(b, "      <WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:"
                                "GoogleCRS84Quad</WellKnownScaleSet>\n"));
    for (int z = 0; z < g->nlevels; z++) {
        const ts_tile_matrix *m = &g->levels[z];
        TS_TRY(ts_buf_printf(b, "      <TileMatrix>\n"));
        TS_TRY(ts_ows__xml_elem(b, "        ", "ows:Identifier", m->id));
        TS_TRY(ts_buf_printf(b, "        <ScaleDenominator>"));
        TS_TRY(ts_ows__num(b, m->scale_denom));
        TS_TRY(ts_buf_printf(b, "</ScaleDenominator>\n        <TopLeftCorner>"));
        TS_TRY(corner(b, crs, m->origin_x, m->origin_y));
        TS_TRY(ts_buf_printf(b,
                             "</TopLeftCorner>\n        <TileWidth>%u</TileWidth>\n"
                             "        <TileHeight>%u</TileHeight>\n"
                             "        <MatrixWidth>%u</MatrixWidth>\n"
                             "        <MatrixHeight>%u</MatrixHeight>\n      </TileMatrix>\n",
                             m->tile_w, m->tile_h, m->matrix_w, m->matrix_h));
    }
    return ts_buf_printf(b, "    </TileMatrixSet>\n");
}

ts_status
ts_ows_write_wmts_capabilities(const ts_wmts_capabilities *caps, ts_buf *out)
{
    if (caps->service == NULL || !any(caps->service->title) || caps->url == NULL)
        return TS_FAIL(NULL, TS_EINVAL, "WMTS capabilities: missing title or url");
    const char *us = caps->service->update_sequence;
    TS_TRY(ts_buf_printf(out,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" "
                         "xmlns:ows=\"http://www.opengis.net/ows/1.1\" "
                         "xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
                         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                         "xmlns:gml=\"http://www.opengis.net/gml\" "
                         "xsi:schemaLocation=\"http://www.opengis.net/wmts/1.0 "
                         "http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd\" "
                         "version=\"1.0.0\""));
    if (any(us)) {
        TS_TRY(ts_buf_printf(out, " updateSequence=\""));
        TS_TRY(ts_ows_xml_escape(out, us));
        TS_TRY(ts_buf_add(out, "\"", 1));
    }
    TS_TRY(ts_buf_printf(out, ">\n"));
    TS_TRY(service_identification(out, caps->service));
    TS_TRY(service_provider(out, caps->service, caps->url));
    TS_TRY(operations(out, caps->url));
    TS_TRY(ts_buf_printf(out, "  <Contents>\n"));
    for (int i = 0; i < caps->nlayers; i++)
        TS_TRY(wmts_layer(out, &caps->layers[i], caps->url, caps->limits));
    for (int i = 0; i < caps->ngrids; i++)
        TS_TRY(tile_matrix_set(out, caps->grids[i]));
    TS_TRY(ts_buf_printf(out, "  </Contents>\n  <ServiceMetadataURL"));
    char meta[1024];
    snprintf(meta, sizeof meta, "%s/1.0.0/WMTSCapabilities.xml", caps->url);
    TS_TRY(href_attr(out, meta));
    return ts_buf_printf(out, "/>\n</Capabilities>\n");
}
