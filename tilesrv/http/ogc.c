/* http/ogc.c — the OGC services over HTTP: WMS 1.1.1/1.3.0 (/wms, /ows?SERVICE=WMS), WMTS
 * 1.0.0 KVP (/wmts, /ows?SERVICE=WMTS) and RESTful (/wmts/1.0.0/...), the TMS documents
 * (/tms/1.0.0, /tms/1.0.0/{tileset}) and OGC API – Tiles (/ogcapi/...).
 *
 * Requests are parsed by the ows module against a catalog of the current service; maps
 * render on the render pool with the connection suspended (as tiles do); feature info and
 * legends are answered on the HTTP thread. WMS errors are ServiceExceptionReports (HTTP
 * 200, as MapServer and GeoServer answer, so every client reads them) or, with
 * EXCEPTIONS=INIMAGE/BLANK, an image; WMTS and OGC API errors are OWS ExceptionReports with
 * the HTTP status of WMTS 1.0 Table 28. */
#include "http/http.h"

#include "http/http_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "style/style.h"
#include "util/clock.h"
#include "util/log.h"

#define DOC_MAX (16u << 20)
#define SLD_WHERE "/nonexistent-sld-body/SLD_BODY" /* no ExternalGraphic can resolve */

/* ---- query strings ---------------------------------------------------------------------- */

typedef struct query_acc {
    ts_buf b;
    int n;
} query_acc;

static void
put_escaped(ts_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == ':' || ch == ',' ||
            ch == '/') {
            ts_buf_add(b, (const char *)&ch, 1);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            ts_buf_add(b, e, 3);
        }
    }
}

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_acc *q = cls;
    if (q->n++ > 0)
        ts_buf_add(&q->b, "&", 1);
    put_escaped(&q->b, key);
    ts_buf_add(&q->b, "=", 1);
    put_escaped(&q->b, value);
    return MHD_YES;
}

/* The request's query string, re-encoded from MHD's decoded arguments (caller frees). */
static char *
query_string(struct MHD_Connection *c)
{
    query_acc q = {.n = 0};
    ts_buf_init(&q.b, TS_KVP_MAX_BYTES * 3 + 16);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    char *s = malloc(q.b.len + 1);
    if (s != NULL) {
        if (q.b.len)
            memcpy(s, q.b.data, q.b.len);
        s[q.b.len] = '\0';
    }
    ts_buf_fini(&q.b);
    return s;
}

/* ---- catalogs --------------------------------------------------------------------------- */

static int
cat_wms_layer(void *ud, const char *layer, int *queryable)
{
    const ts_wms_entry *e = ts_service_wms_find(ud, layer);
    if (e == NULL)
        return 0;
    *queryable = e->queryable;
    return 1;
}

static int
cat_wms_style(void *ud, const char *layer, const char *style)
{
    const ts_wms_entry *e = ts_service_wms_find(ud, layer);
    if (e == NULL)
        return 0;
    if (strcasecmp(style, "default") == 0)
        return 1;
    return e->style && e->style->name && strcmp(e->style->name, style) == 0;
}

static int
cat_wmts_layer(void *ud, const char *layer, int *queryable)
{
    *queryable = 1;
    return ts_service_tileset(ud, layer) != NULL;
}

static int
cat_wmts_style(void *ud, const char *layer, const char *style)
{
    (void)ud;
    (void)layer;
    return strcasecmp(style, "default") == 0;
}

static const ts_grid *
cat_wmts_grid(void *ud, const char *layer, const char *tms)
{
    const ts_tileset *ts = ts_service_tileset_grid(ud, layer, tms);
    return ts ? ts->grid : NULL;
}

/* The capabilities' update sequence: the server's start time and the service's generation,
 * so it grows with every reload and every restart. */
static void
update_sequence(const ts_http *h, const ts_service *svc, char *buf, size_t size)
{
    snprintf(buf, size, "%lld",
             (long long)h->started * 1000 + (long long)(ts_service_generation(svc) % 1000));
}

/* Service metadata from server.wms. */
static ts_ows_service
service_meta(const ts_config *cfg)
{
    const ts_cfg_wms *w = &cfg->server.wms;
    ts_ows_service s = {
        .title = w->title ? w->title : "tilesrv",
        .abstract_text = w->abstract_text,
        .keywords = (const char *const *)w->keywords,
        .nkeywords = w->nkeywords,
        .online_resource = w->online_resource,
        .fees = w->fees,
        .access_constraints = w->access_constraints,
        .contact = {w->contact_person, w->contact_organization, w->contact_position,
                    w->contact_address, w->contact_city, w->contact_state, w->contact_postcode,
                    w->contact_country, w->contact_phone, w->contact_email},
    };
    return s;
}

static enum MHD_Result
send_doc(ts_http *h, struct MHD_Connection *c, ts_status st, const char *ctype, ts_buf *b)
{
    enum MHD_Result r = st == TS_OK
                            ? ts_http__send_buf(h, c, MHD_HTTP_OK, ctype, b->data, b->len)
                            : ts_http__send_status(h, c, st == TS_ELIMIT ? TS_ENOMEM : st, NULL);
    ts_buf_fini(b);
    return r;
}

/* ---- WMS -------------------------------------------------------------------------------- */

static ts_map_format
map_format(ts_image_format f)
{
    return f == TS_IMG_JPEG ? TS_MAP_JPEG : f == TS_IMG_PNG8 ? TS_MAP_PNG8 : TS_MAP_PNG;
}

/* An OGC exception answer for a WMS request (XML, or an image when asked and possible). */
static enum MHD_Result
wms_exception(ts_http *h, struct MHD_Connection *c, int version, ts_exc_mode exc, int width,
              int height, ts_image_format format, int transparent, const uint8_t *bgc,
              const ts_ows_fault *f)
{
    char buf[700];
    if (exc != TS_EXC_XML && width > 0 && height > 0 && format != TS_IMG_NONE &&
        format != TS_IMG_MVT) {
        ts_rgba bg = {bgc[0], bgc[1], bgc[2], transparent ? 0 : 255};
        ts_tile *t = NULL;
        ts_err err;
        char msg[400];
        snprintf(msg, sizeof msg, "%s: %.300s", ts_ows_code_name(f->code, version == 111),
                 f->err.msg);
        ts_status st = ts_pipeline_message_image(h->p, exc == TS_EXC_INIMAGE ? msg : "", width,
                                                 height, bg, map_format(format), &t, &err);
        if (st == TS_OK)
            return ts_http__send_tile(h, c, t, ts_ows_image_mime(format), 0, 0);
    }
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    ts_status st = ts_ows_write_wms_exception(f, version, &b);
    ts_debug("WMS exception %s: %s", ts_ows_code_name(f->code, version == 111),
             ts_err_format(&f->err, buf, sizeof buf));
    return send_doc(h, c, st, ts_ows_wms_exception_mime(version), &b);
}

static enum MHD_Result
wms_fault(ts_http *h, struct MHD_Connection *c, const ts_wms_req *r, const ts_ows_fault *f)
{
    int image = r->op == TS_WMS_GETMAP;
    return wms_exception(h, c, r->version, image ? r->exceptions : TS_EXC_XML, r->width, r->height,
                         r->format, r->transparent, r->bgcolor, f);
}

static enum MHD_Result
wms_fail(ts_http *h, struct MHD_Connection *c, const ts_wms_req *r, ts_ows_code code,
         const char *locator, const ts_err *err)
{
    ts_ows_fault f;
    memset(&f, 0, sizeof f);
    f.code = code;
    snprintf(f.locator, sizeof f.locator, "%s", locator ? locator : "");
    f.err = *err;
    return wms_fault(h, c, r, &f);
}

/* A code for a failure of the pipeline. */
static ts_ows_code
code_of(ts_status st)
{
    return st == TS_ENOENT                      ? TS_OWS_LAYER_NOT_DEFINED
           : st == TS_EINVAL || st == TS_ELIMIT ? TS_OWS_INVALID_PARAMETER_VALUE
                                                : TS_OWS_NO_APPLICABLE_CODE;
}

/* The capabilities layer tree, built from the service's WMS entries. */
typedef struct caps_build {
    ts_ows_layer *layers;
    ts_ows_style *styles;
    ts_ows_bbox *boxes;
    char **urls;
    int n;
} caps_build;

static void
caps_free(caps_build *cb)
{
    for (int i = 0; i < cb->n; i++)
        free(cb->urls[i]);
    free(cb->urls);
    free(cb->layers);
    free(cb->styles);
    free(cb->boxes);
}

/* The real size of the default legend of WMS layer or group name, into st. */
static void
legend_size(ts_http *h, const char *name, ts_ows_style *st)
{
    ts_legend_req lr = {.layer = name, .background = {255, 255, 255, 255}};
    ts_tile *t = NULL;
    if (ts_pipeline_legend(h->p, &lr, &t, NULL) == TS_OK && t != NULL && t->len > 24) {
        const uint8_t *d = t->data; /* IHDR's width and height */
        st->legend_width = (int)((uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 |
                                 (uint32_t)d[18] << 8 | d[19]);
        st->legend_height = (int)((uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 |
                                  (uint32_t)d[22] << 8 | d[23]);
    }
    ts_tile_unref(t);
}

static ts_status
caps_tree(ts_http *h, const ts_service *svc, const char *wms_url, int version, caps_build *cb)
{
    int n = ts_service_wms_count(svc), nc = ts_service_wms_ncrs(svc);
    cb->n = n;
    cb->layers = calloc((size_t)(n > 0 ? n : 1), sizeof *cb->layers);
    cb->styles = calloc((size_t)(n > 0 ? n : 1), sizeof *cb->styles);
    cb->boxes = calloc((size_t)(n > 0 ? n : 1) * (size_t)(nc > 0 ? nc : 1), sizeof *cb->boxes);
    cb->urls = calloc((size_t)(n > 0 ? n : 1), sizeof *cb->urls);
    if (cb->layers == NULL || cb->styles == NULL || cb->boxes == NULL || cb->urls == NULL)
        return TS_ENOMEM;
    /* children are contiguous in the entry order only for the root's groups; give every
     * entry its own block of children: copy into a second array in kid order */
    for (int i = 0; i < n; i++) {
        const ts_wms_entry *e = ts_service_wms_at(svc, i);
        ts_ows_layer *l = &cb->layers[i];
        l->name = e->name;
        l->title = e->title;
        l->abstract_text = e->abstract_text;
        l->keywords = e->keywords;
        l->nkeywords = e->nkeywords;
        l->metadata_url = e->metadata_url;
        l->attribution = e->attribution;
        l->queryable = e->queryable;
        l->opaque = 0;
        l->has_lonlat = e->has_extent;
        l->lonlat = e->lonlat;
        ts_ows_bbox *bx = cb->boxes + (size_t)i * (size_t)nc;
        int nb = 0;
        for (int k = 0; k < nc; k++)
            if (e->crs_ok[k])
                bx[nb++] = (ts_ows_bbox){ts_service_wms_crs_at(svc, k), e->crs_boxes[k]};
        l->bboxes = bx;
        l->nbboxes = nb;
        l->min_scale = e->min_scale;
        l->max_scale = e->max_scale;
        if (e->name != NULL && e->style != NULL) {
            ts_ows_style *st = &cb->styles[i];
            st->name = "default";
            st->title = e->style->title  ? e->style->title
                        : e->style->name ? e->style->name
                                         : "default";
            char url[1024];
            snprintf(url, sizeof url,
                     "%s?SERVICE=WMS&VERSION=%s&REQUEST=GetLegendGraphic&FORMAT=image%%2Fpng"
                     "&LAYER=%s&STYLE=",
                     wms_url, version == 111 ? "1.1.1" : "1.3.0", e->name);
            cb->urls[i] = strdup(url);
            st->legend_url = cb->urls[i];
            legend_size(h, e->name, st);
            l->styles = st;
            l->nstyles = 1;
        }
    }
    /* children: entries' kids are indices; ts_ows_layer wants a contiguous array, so the
     * tree is written from copies laid out per parent */
    return TS_OK;
}

/* A copy of entry i's subtree with contiguous children (allocated in *pool). */
static ts_status
caps_layout(const ts_service *svc, const caps_build *cb, int i, ts_ows_layer *out,
            ts_ows_layer **pool, int *used, int cap)
{
    const ts_wms_entry *e = ts_service_wms_at(svc, i);
    *out = cb->layers[i];
    if (e->nkids == 0)
        return TS_OK;
    if (*used + e->nkids > cap)
        return TS_ENOMEM;
    ts_ows_layer *kids = *pool + *used;
    *used += e->nkids;
    for (int k = 0; k < e->nkids; k++)
        TS_TRY(caps_layout(svc, cb, e->kids[k], &kids[k], pool, used, cap));
    out->children = kids;
    out->nchildren = e->nkids;
    return TS_OK;
}

static enum MHD_Result
wms_capabilities(ts_http *h, struct MHD_Connection *c, const ts_service *svc, int version)
{
    char base[256], url[300];
    ts_http__base_url(h, c, base, sizeof base);
    snprintf(url, sizeof url, "%s/wms", base);
    const ts_config *cfg = ts_service_config(svc);
    ts_ows_service meta = service_meta(cfg);
    char seq[32];
    update_sequence(h, svc, seq, sizeof seq);
    meta.update_sequence = seq;
    caps_build cb = {0};
    ts_status st = caps_tree(h, svc, url, version, &cb);
    int n = cb.n;
    ts_ows_layer *pool = calloc((size_t)(n > 0 ? n : 1), sizeof *pool);
    ts_ows_layer root;
    int used = 0;
    if (st == TS_OK && pool != NULL && n > 0)
        st = caps_layout(svc, &cb, 0, &root, &pool, &used, n);
    else if (st == TS_OK)
        st = TS_ENOMEM;
    const ts_crs *crs[64];
    int ncrs = 0;
    for (int i = 0; i < ts_service_wms_ncrs(svc) && ncrs < 64; i++)
        crs[ncrs++] = ts_service_wms_crs_at(svc, i);
    ts_buf b;
    ts_buf_init(&b, DOC_MAX);
    if (st == TS_OK) {
        /* MaxWidth and MaxHeight are all a client learns of the limits (QGIS splits a print
         * by them): with max_pixels below their product, a square of max_pixels, so that a
         * map of the sizes advertised is never refused for its pixel count */
        const ts_cfg_wms *wc = &cfg->server.wms;
        int mw = wc->max_width, mh = wc->max_height;
        if (wc->max_pixels > 0 && (long long)mw * mh > wc->max_pixels) {
            int side = (int)floor(sqrt((double)wc->max_pixels));
            mw = mw < side ? mw : side;
            mh = mh < side ? mh : side;
            while ((long long)mw * mh > wc->max_pixels)
                mh--;
        }
        ts_wms_capabilities caps = {
            .service = &meta,
            .url = url,
            .crs = crs,
            .ncrs = ncrs,
            .max_width = mw,
            .max_height = mh,
            .layer_limit = cfg->server.wms.max_layers,
            .root = &root,
        };
        st = ts_ows_write_wms_capabilities(&caps, version, &b);
    }
    free(pool);
    caps_free(&cb);
    return send_doc(h, c, st, ts_ows_wms_capabilities_mime(version), &b);
}

/* An SLD_BODY error in the client's terms: an ExternalGraphic cannot resolve against
 * SLD_WHERE by design, which the message would otherwise show as a missing directory. */
static void
sld_body_error(ts_err *err)
{
    if (err != NULL && strstr(err->msg, "nonexistent-sld-body") != NULL)
        snprintf(err->msg, sizeof err->msg,
                 "ExternalGraphic symbols are not allowed in SLD_BODY (only in the server's "
                 "own style files); use a Mark");
}

/* SLD_BODY: a style per requested layer (NULL where the SLD has none for it). */
static ts_status
sld_styles(const char *sld, const ts_wms_req *r, const char *const *layers, int n, ts_style **out,
           ts_err *err)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        ts_err e2;
        out[i] = ts_style_parse_layer(sld, strlen(sld), SLD_WHERE, layers[i], &e2);
        if (out[i] == NULL && e2.code != TS_ENOENT) {
            sld_body_error(&e2);
            *err = e2;
            return TS_EINVAL;
        }
        any |= out[i] != NULL;
    }
    if (!any && n > 0) {
        /* an SLD whose layer names match none: its first style for every layer */
        ts_style *s = ts_style_parse_layer(sld, strlen(sld), SLD_WHERE, NULL, err);
        if (s == NULL) {
            sld_body_error(err);
            return TS_EINVAL;
        }
        for (int i = 0; i < n; i++)
            out[i] = ts_style_ref(s);
        ts_style_unref(s);
    }
    (void)r;
    return TS_OK;
}

static enum MHD_Result
wms_getmap(ts_http *h, struct MHD_Connection *c, req_state *rs, const ts_wms_req *r)
{
    ts_style *styles[TS_WMS_MAX_LAYERS] = {0};
    ts_err err;
    ts_err_clear(&err);
    if (r->sld_body != NULL &&
        sld_styles(r->sld_body, r, r->layers, r->nlayers, styles, &err) != TS_OK) {
        for (int i = 0; i < r->nlayers; i++)
            ts_style_unref(styles[i]);
        return wms_fail(h, c, r, TS_OWS_INVALID_PARAMETER_VALUE, "SLD_BODY", &err);
    }
    ts_rgba bg = {r->bgcolor[0], r->bgcolor[1], r->bgcolor[2], r->transparent ? 0 : 255};
    ts_map_req mr = {
        .layers = r->layers,
        .nlayers = r->nlayers,
        .styles = r->sld_body ? (const ts_style *const *)styles : NULL,
        .crs = r->crs,
        .bbox = r->bbox,
        .width = r->width,
        .height = r->height,
        .dpi = r->dpi,
        .background = bg,
        .format = map_format(r->format),
        /* past the time limit the client has its exception: the render stops too */
        .deadline_ns = h->max_render_ms > 0
                           ? ts_mono_ns() + (uint64_t)h->max_render_ms * 1000000u
                           : 0,
    };
    rs->kind = TS_HTTP_REQ_WMS;
    snprintf(rs->ctype, sizeof rs->ctype, "%s", ts_ows_image_mime(r->format));
    rs->max_age = 0;
    rs->wms_version = r->version;
    rs->exc = r->exceptions;
    rs->width = r->width;
    rs->height = r->height;
    rs->format = mr.format;
    rs->bg = bg;
    ts_http__suspend(h, c, rs);
    /* with a render time limit the callback goes through a ticket (answered at the deadline) */
    ts_http_ticket *tk = ts_http__ticket_new(h, rs);
    ts_status st = tk ? ts_pipeline_map(h->p, &mr, ts_http__ticket_done, tk, &err)
                      : ts_pipeline_map(h->p, &mr, ts_http__tile_done, rs, &err);
    for (int i = 0; i < r->nlayers; i++)
        ts_style_unref(styles[i]);
    if (st != TS_OK && (tk == NULL || ts_http__ticket_drop(tk))) {
        rs->st = st;
        rs->err = err;
        ts_http__resume(rs);
    }
    return MHD_YES;
}

static enum MHD_Result
wms_featureinfo(ts_http *h, struct MHD_Connection *c, const ts_wms_req *r)
{
    ts_info_req ir = {
        .layers = r->query_layers,
        .nlayers = r->nquery_layers,
        .crs = r->crs,
        .bbox = r->bbox,
        .width = r->width,
        .height = r->height,
        .i = r->i,
        .j = r->j,
        .dpi = r->dpi,
        .feature_count = r->feature_count,
    };
    ts_info_result res;
    ts_err err;
    ts_err_clear(&err);
    ts_status st = ts_pipeline_feature_info(h->p, &ir, &res, &err);
    if (st != TS_OK) {
        ts_info_result_free(&res);
        return wms_fail(h, c, r, code_of(st), st == TS_ENOENT ? "QUERY_LAYERS" : "", &err);
    }
    ts_buf b;
    ts_buf_init(&b, DOC_MAX);
    st = ts_http__info_write(&res, r->info_format, &b);
    ts_info_result_free(&res);
    char ctype[96];
    const char *mime = ts_ows_info_mime(r->info_format);
    snprintf(ctype, sizeof ctype, "%s%s", mime,
             r->info_format == TS_INFO_TEXT || r->info_format == TS_INFO_HTML ? "; charset=utf-8"
                                                                              : "");
    return send_doc(h, c, st, ctype, &b);
}

static enum MHD_Result
wms_legend(ts_http *h, struct MHD_Connection *c, const ts_wms_req *r)
{
    ts_style *sld = NULL;
    ts_err err;
    ts_err_clear(&err);
    if (r->sld_body != NULL) {
        sld = ts_style_parse_layer(r->sld_body, strlen(r->sld_body), SLD_WHERE, r->layer, &err);
        if (sld == NULL && err.code == TS_ENOENT)
            sld = ts_style_parse_layer(r->sld_body, strlen(r->sld_body), SLD_WHERE, NULL, &err);
        if (sld == NULL) {
            sld_body_error(&err);
            return wms_fail(h, c, r, TS_OWS_INVALID_PARAMETER_VALUE, "SLD_BODY", &err);
        }
    }
    ts_legend_req lr = {
        .layer = r->layer,
        .style = sld,
        .rule = r->rule,
        .scale = r->scale,
        .icon_w = r->width,
        .icon_h = r->height,
        .dpi = r->dpi,
        .background = {r->bgcolor[0], r->bgcolor[1], r->bgcolor[2], r->transparent ? 0 : 255},
        .format = map_format(r->format == TS_IMG_NONE ? TS_IMG_PNG : r->format),
    };
    ts_service *lsvc = ts_pipeline_service(h->p);
    lr.max_width = ts_service_config(lsvc)->server.wms.max_width;
    lr.max_height = ts_service_config(lsvc)->server.wms.max_height;
    ts_service_unref(lsvc);
    ts_tile *t = NULL;
    ts_status st = ts_pipeline_legend(h->p, &lr, &t, &err);
    ts_style_unref(sld);
    if (st != TS_OK)
        return wms_fail(h, c, r,
                        st == TS_ENOENT && r->rule ? TS_OWS_INVALID_PARAMETER_VALUE : code_of(st),
                        st == TS_ENOENT && r->rule ? "RULE" : "LAYER", &err);
    return ts_http__send_tile(
        h, c, t, ts_ows_image_mime(r->format == TS_IMG_NONE ? TS_IMG_PNG : r->format), 0, 0);
}

static enum MHD_Result
handle_wms(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *query)
{
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_config *cfg = ts_service_config(svc);
    const char *crs[64];
    int ncrs = 0;
    for (int i = 0; i < ts_service_wms_ncrs(svc) && ncrs < 64; i++)
        crs[ncrs++] = ts_service_wms_crs_at(svc, i)->id;
    char seq[32];
    update_sequence(h, svc, seq, sizeof seq);
    ts_wms_options opt = {
        .update_sequence = seq,
        .max_width = cfg->server.wms.max_width,
        .max_height = cfg->server.wms.max_height,
        .max_pixels = cfg->server.wms.max_pixels,
        .max_layers = cfg->server.wms.max_layers,
        .max_feature_count = cfg->server.wms.max_feature_count,
        .crs = crs,
        .ncrs = ncrs,
    };
    ts_ows_catalog cat = {svc, cat_wms_layer, cat_wms_style, NULL};
    ts_wms_req r;
    ts_ows_fault f;
    enum MHD_Result ret;
    if (ts_ows_parse_wms(query, &opt, &cat, &r, &f) != TS_OK) {
        ret = wms_fault(h, c, &r, &f);
    } else {
        switch (r.op) {
        case TS_WMS_GETCAPABILITIES:
            ret = wms_capabilities(h, c, svc, r.version);
            break;
        case TS_WMS_GETMAP:
            ret = wms_getmap(h, c, rs, &r);
            break;
        case TS_WMS_GETFEATUREINFO:
            ret = wms_featureinfo(h, c, &r);
            break;
        default:
            ret = wms_legend(h, c, &r);
            break;
        }
    }
    ts_ows_wms_req_free(&r);
    ts_service_unref(svc);
    return ret;
}

/* ---- WMTS ------------------------------------------------------------------------------- */

static enum MHD_Result
ows_exception(ts_http *h, struct MHD_Connection *c, const ts_ows_fault *f, int rest)
{
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    ts_status st = ts_ows_write_ows_exception(f, &b);
    unsigned status = (unsigned)ts_ows_code_http(f->code);
    if (rest && f->err.code == TS_ENOENT && status == 400 && f->code != TS_OWS_TILE_OUT_OF_RANGE)
        status = 404; /* RESTful: an unknown layer / style / set is "not found"; a tile
                       * outside the matrix stays 400 TileOutOfRange (WMTS 1.0.0 table 28) */
    enum MHD_Result r = st == TS_OK ? ts_http__send_buf(h, c, status, "text/xml", b.data, b.len)
                                    : ts_http__send_status(h, c, st, NULL);
    ts_buf_fini(&b);
    return r;
}

static enum MHD_Result
ows_fail(ts_http *h, struct MHD_Connection *c, ts_ows_code code, const char *locator, ts_status st,
         const char *msg)
{
    ts_ows_fault f;
    memset(&f, 0, sizeof f);
    f.code = code;
    snprintf(f.locator, sizeof f.locator, "%s", locator ? locator : "");
    f.err.code = st;
    snprintf(f.err.msg, sizeof f.err.msg, "%s", msg);
    return ows_exception(h, c, &f, 0);
}

/* The WMTS layers (tilesets, each on all its grids) and the grids they use. */
static ts_status
wmts_capabilities_doc(ts_http *h, struct MHD_Connection *c, const ts_service *svc, ts_buf *out)
{
    char base[256], url[300];
    ts_http__base_url(h, c, base, sizeof base);
    snprintf(url, sizeof url, "%s/wmts", base);
    int nts = ts_service_ntilesets(svc), nall = ts_service_ntileset_grids(svc);
    ts_wmts_layer *layers = calloc((size_t)(nts > 0 ? nts : 1), sizeof *layers);
    ts_ows_style *styles = calloc((size_t)(nts > 0 ? nts : 1), sizeof *styles);
    char(*legend_urls)[640] = calloc((size_t)(nts > 0 ? nts : 1), sizeof *legend_urls);
    ts_wmts_link *links = calloc((size_t)(nall > 0 ? nall : 1), sizeof *links);
    const ts_grid **grids = calloc((size_t)(nall > 0 ? nall : 1), sizeof *grids);
    ts_ows_service meta = service_meta(ts_service_config(svc));
    char seq[32];
    update_sequence(h, svc, seq, sizeof seq);
    meta.update_sequence = seq;
    ts_status st = TS_OK;
    if (layers == NULL || styles == NULL || legend_urls == NULL || links == NULL ||
        grids == NULL) {
        st = TS_ENOMEM;
        goto done;
    }
    int nl = 0, ng = 0;
    for (int i = 0; i < nts; i++) {
        const ts_tileset *ts = ts_service_tileset_at(svc, i);
        ts_wmts_layer *l = &layers[i];
        l->name = ts->name;
        l->title = ts->cfg->title ? ts->cfg->title : ts->name;
        l->abstract_text = ts->cfg->abstract_text;
        l->keywords = (const char *const *)ts->cfg->keywords;
        l->nkeywords = ts->cfg->nkeywords;
        l->metadata_url = ts->cfg->metadata_url;
        l->queryable = 1;
        static const ts_image_format tile_formats[] = {TS_IMG_PNG, TS_IMG_MVT};
        l->formats = tile_formats; /* every grid serves both */
        l->nformats = 2;
        l->links = links + nl;
        const ts_wms_entry *e = ts_service_wms_find(svc, ts->name);
        if (e && e->has_extent) {
            l->has_lonlat = 1;
            l->lonlat = e->lonlat;
        }
        if (e != NULL) {
            /* the default style's legend: WMS GetLegendGraphic of the group (configured
             * names need no escaping: letters, digits, '_', '.', '-') */
            snprintf(legend_urls[i], sizeof legend_urls[i],
                     "%s/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic"
                     "&FORMAT=image%%2Fpng&LAYER=%s&STYLE=", base, ts->name);
            styles[i].name = "default";
            styles[i].title = "default";
            styles[i].legend_url = legend_urls[i];
            legend_size(h, ts->name, &styles[i]);
            l->styles = &styles[i];
            l->nstyles = 1;
        }
        for (int k = 0; k < nall; k++) {
            const ts_tileset *v = ts_service_tileset_grid_at(svc, k);
            if (strcmp(v->name, ts->name) != 0)
                continue;
            ts_wmts_link *lk = &links[nl++];
            l->nlinks++;
            lk->grid = v->grid;
            lk->minzoom = v->minzoom;
            lk->maxzoom = v->maxzoom >= 0 ? v->maxzoom
                              : v->grid->nlevels - 1;
            lk->has_bbox = v->bounds.maxx > v->bounds.minx;
            lk->bbox = v->bounds;
            int seen = 0;
            for (int g = 0; g < ng && !seen; g++)
                seen = grids[g] == v->grid;
            if (!seen)
                grids[ng++] = v->grid;
        }
    }
    ts_wmts_capabilities caps = {&meta, url, layers, nts, grids, ng, 0};
    st = ts_ows_write_wmts_capabilities(&caps, out);
done:
    free(layers);
    free(styles);
    free(legend_urls);
    free(links);
    free(grids);
    return st;
}

static enum MHD_Result
wmts_tile(ts_http *h, struct MHD_Connection *c, req_state *rs, const ts_wmts_req *r, int head)
{
    if (r->format != TS_IMG_PNG && r->format != TS_IMG_PNG8 && r->format != TS_IMG_MVT)
        return ows_fail(h, c, TS_OWS_INVALID_PARAMETER_VALUE, "FORMAT", TS_EINVAL,
                        "tiles are served as image/png and application/vnd.mapbox-vector-tile");
    ts_tile_req tr = {r->layer, r->z, r->col, r->row, 1};
    ts_err err;
    ts_err_clear(&err);
    ts_status st = ts_pipeline_check_grid(h->p, &tr, r->tms, &err);
    if (st != TS_OK)
        return ows_fail(h, c,
                        st == TS_EINVAL ? TS_OWS_TILE_OUT_OF_RANGE : TS_OWS_INVALID_PARAMETER_VALUE,
                        st == TS_EINVAL ? "TileMatrix" : "Layer", st, err.msg);
    rs->kind = TS_HTTP_REQ_WMTS;
    if (r->format == TS_IMG_MVT) /* vector tile of this grid, as for XYZ */
        return ts_http__send_mvt(h, c, rs, &tr, r->tms, head);
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_tileset *ts = ts_service_tileset(svc, r->layer);
    rs->max_age = ts ? ts_http__tile_max_age(ts->cfg) : 3600;
    rs->expire_s = ts ? ts->cfg->cache.expire_s : 0;
    if (ts && ts_service_tileset_live(svc, ts))
        rs->max_age = 0; /* live overlay: clients revalidate (ETag, 304) */
    ts_service_unref(svc);
    snprintf(rs->ctype, sizeof rs->ctype, "image/png");
    ts_tile *t = ts_pipeline_lookup_grid(h->p, &tr, r->tms);
    rs->cache = t ? "memory" : "pipeline";
    if (t)
        return ts_http__send_tile(h, c, t, "image/png", ts_http__tile_lifetime(rs, t), head);
    ts_http__suspend(h, c, rs);
    st = ts_pipeline_request_grid_stale(h->p, &tr, r->tms, ts_http__tile_done, rs, &rs->stale,
                                        &err);
    if (st != TS_OK) {
        rs->st = st;
        rs->err = err;
        ts_http__resume(rs);
    }
    return MHD_YES;
}

static enum MHD_Result
wmts_featureinfo(ts_http *h, struct MHD_Connection *c, const ts_wmts_req *r)
{
    const ts_grid *g = r->grid;
    const ts_crs *crs = g ? ts_grid_crs(g) : NULL;
    if (g == NULL || crs == NULL)
        return ows_fail(h, c, TS_OWS_INVALID_PARAMETER_VALUE, "TileMatrixSet", TS_EINVAL,
                        "feature info is not available in this tile matrix set");
    const ts_tile_matrix *m = &g->levels[r->z];
    const char *layers[1] = {r->layer};
    ts_info_req ir = {
        .layers = layers,
        .nlayers = 1,
        .crs = crs,
        .bbox = ts_grid_tile_bbox(g, r->z, r->col, r->row),
        .width = (int)m->tile_w,
        .height = (int)m->tile_h,
        .i = (int)r->i,
        .j = (int)r->j,
        .feature_count = 10,
    };
    ts_info_result res;
    ts_err err;
    ts_err_clear(&err);
    ts_status st = ts_pipeline_feature_info(h->p, &ir, &res, &err);
    ts_buf b;
    ts_buf_init(&b, DOC_MAX);
    if (st == TS_OK)
        st = ts_http__info_write(&res, r->info_format ? r->info_format : TS_INFO_TEXT, &b);
    ts_info_result_free(&res);
    if (st != TS_OK) {
        ts_buf_fini(&b);
        return ows_fail(h, c, TS_OWS_NO_APPLICABLE_CODE, "", st, err.msg);
    }
    return send_doc(h, c, st, ts_ows_info_mime(r->info_format ? r->info_format : TS_INFO_TEXT), &b);
}

static enum MHD_Result
handle_wmts(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *query,
            const char *rest, int head)
{
    ts_service *svc = ts_pipeline_service(h->p);
    ts_ows_catalog cat = {svc, cat_wmts_layer, cat_wmts_style, cat_wmts_grid};
    ts_wmts_req r;
    ts_ows_fault f;
    char seq[32];
    update_sequence(h, svc, seq, sizeof seq);
    ts_status st = rest ? ts_ows_parse_wmts_rest(rest, &cat, &r, &f)
                        : ts_ows_parse_wmts_kvp(query, seq, &cat, &r, &f);
    enum MHD_Result ret;
    if (st != TS_OK) {
        ret = ows_exception(h, c, &f, rest != NULL);
    } else if (r.op == TS_WMTS_GETCAPABILITIES) {
        ts_buf b;
        ts_buf_init(&b, DOC_MAX);
        st = wmts_capabilities_doc(h, c, svc, &b);
        ret = send_doc(h, c, st, "application/xml", &b);
    } else if (r.op == TS_WMTS_GETTILE) {
        ret = wmts_tile(h, c, rs, &r, head);
    } else {
        ret = wmts_featureinfo(h, c, &r);
    }
    ts_service_unref(svc);
    return ret;
}

/* ---- TMS documents ---------------------------------------------------------------------- */

static void
tilemap_of(const ts_tileset *ts, ts_tms_tilemap *m)
{
    memset(m, 0, sizeof *m);
    m->name = ts->name;
    m->title = ts->cfg->title ? ts->cfg->title : ts->name;
    m->grid = ts->grid;
    m->minzoom = ts->minzoom;
    m->maxzoom = ts->maxzoom >= 0 ? ts->maxzoom
                     : ts->grid->nlevels - 1;
    m->ext = "png";
    m->format = TS_IMG_PNG;
    m->has_bbox = ts->bounds.maxx > ts->bounds.minx;
    m->bbox = ts->bounds;
}

static enum MHD_Result
handle_tms_doc(ts_http *h, struct MHD_Connection *c, const char *name)
{
    ts_service *svc = ts_pipeline_service(h->p);
    char base[256];
    ts_http__base_url(h, c, base, sizeof base);
    ts_buf b;
    ts_buf_init(&b, DOC_MAX);
    ts_status st;
    if (name == NULL) {
        int n = ts_service_ntilesets(svc);
        ts_tms_tilemap *maps = calloc((size_t)(n > 0 ? n : 1), sizeof *maps);
        if (maps == NULL) {
            st = TS_ENOMEM;
        } else {
            for (int i = 0; i < n; i++)
                tilemap_of(ts_service_tileset_at(svc, i), &maps[i]);
            const ts_config *cfg = ts_service_config(svc);
            st = ts_ows_write_tms_service(
                maps, n, cfg->server.wms.title ? cfg->server.wms.title : "tilesrv", base, &b);
            free(maps);
        }
    } else {
        const ts_tileset *ts = ts_service_tileset(svc, name);
        if (ts == NULL) {
            ts_service_unref(svc);
            ts_buf_fini(&b);
            return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no such tileset");
        }
        ts_tms_tilemap m;
        tilemap_of(ts, &m);
        st = ts_ows_write_tms_tilemap(&m, base, &b);
    }
    ts_service_unref(svc);
    return send_doc(h, c, st, "application/xml", &b);
}

/* ---- OGC API – Tiles -------------------------------------------------------------------- */

#define MAX_OAT_GRIDS 32

typedef struct oat_col {
    ts_oat_collection col;
    ts_oat_tileset sets[MAX_OAT_GRIDS];
} oat_col;

static void
oat_collection(const ts_service *svc, const ts_tileset *ts, oat_col *oc)
{
    memset(oc, 0, sizeof *oc);
    ts_oat_collection *col = &oc->col;
    col->id = ts->name;
    col->title = ts->cfg->title ? ts->cfg->title : ts->name;
    col->attribution = ts->cfg->attribution;
    col->format = TS_IMG_PNG;
    col->also_vector = 1; /* every tileset's tiles are also served as MVT */
    const ts_wms_entry *e = ts_service_wms_find(svc, ts->name);
    if (e && e->has_extent) {
        col->has_lonlat = 1;
        col->lonlat = e->lonlat;
    }
    col->tilesets = oc->sets;
    for (int k = 0; k < ts_service_ntileset_grids(svc) && col->ntilesets < MAX_OAT_GRIDS; k++) {
        const ts_tileset *v = ts_service_tileset_grid_at(svc, k);
        if (strcmp(v->name, ts->name) != 0)
            continue;
        ts_oat_tileset *t = &oc->sets[col->ntilesets++];
        t->grid = v->grid;
        t->minzoom = v->minzoom;
        t->maxzoom = v->maxzoom >= 0 ? v->maxzoom
                         : v->grid->nlevels - 1;
        t->has_bbox = v->bounds.maxx > v->bounds.minx;
        t->bbox = v->bounds;
        /* the vector tiles' first level holding a layer (or its label points) */
        t->vector_minzoom = 0;
        int first = t->maxzoom + 1;
        for (int i = 0; i < v->nlayers; i++)
            for (int label = 0; label < 2; label++) {
                int z0, z1;
                if (ts_service_mvt_layer_levels(svc, v, i, label, -1, &z0, &z1) && z0 < first)
                    first = z0;
            }
        if (first <= t->maxzoom)
            t->vector_minzoom = first;
    }
}

/* 1 when an Accept header takes JSON: application/json, application/problem+json or
 * application/geo+json, a JSON suffix type, application/ or any type (q=0 excludes). */
static int
accepts_json(const char *accept)
{
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ';')
            e++;
        size_t n = (size_t)(e - p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        int json = (n == 3 && strncmp(p, "*/*", 3) == 0) ||
                   (n == 13 && strncasecmp(p, "application/*", 13) == 0) ||
                   (n >= 5 && strncasecmp(p + n - 5, "+json", 5) == 0) ||
                   (n == 16 && strncasecmp(p, "application/json", 16) == 0);
        const char *next = strchr(e, ',');
        const char *params_end = next ? next : e + strlen(e);
        int q0 = 0; /* ";q=0", ";q=0.0", ... */
        for (const char *a = e; a < params_end; a++)
            if (*a == ';') {
                const char *b = a + 1;
                while (*b == ' ')
                    b++;
                if ((b[0] == 'q' || b[0] == 'Q') && b[1] == '=') {
                    b += 2;
                    q0 = *b == '0';
                    for (b++; q0 && b < params_end && *b != ';' && *b != ' '; b++)
                        q0 = *b == '.' || *b == '0';
                }
            }
        if (json && !q0)
            return 1;
        if (next == NULL)
            break;
        p = next + 1;
    }
    return 0;
}

/* An OGC API error: RFC 7807 problem details (application/problem+json: type, title,
 * status, detail, as OGC API - Common's exception schema asks), with the OWS-style code and
 * description earlier clients read. detail is a literal without quotes or backslashes. */
static enum MHD_Result
oat_problem(ts_http *h, struct MHD_Connection *c, unsigned status, const char *code,
            const char *detail)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%u,"
                     "\"detail\":\"%s\",\"code\":\"%s\",\"description\":\"%s\"}\n",
                     status == MHD_HTTP_NOT_FOUND ? "Not Found" : "Bad Request", status, detail,
                     code, detail);
    return ts_http__send_buf(h, c, status, "application/problem+json", body,
                             n > 0 && (size_t)n < sizeof body ? (size_t)n : 0);
}

static enum MHD_Result
handle_ogcapi(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *path, int head)
{
    ts_oat_req q;
    ts_err perr;
    ts_err_clear(&perr);
    if (ts_ows_parse_oat_path(path, &q, &perr) != TS_OK)
        return oat_problem(h, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such resource");
    /* documents come as JSON only: f=json (or none); another f is a bad request and an
     * Accept that takes no JSON is not acceptable (OGC API - Common's encodings), rather
     * than JSON the client said it could not read */
    if (q.route != TS_OAT_TILE) {
        const char *f = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "f");
        if (f != NULL && strcmp(f, "json") != 0 && strcmp(f, "application/json") != 0)
            return oat_problem(h, c, MHD_HTTP_BAD_REQUEST, "InvalidParameterValue",
                               "f: the documents are offered as json only");
        const char *acc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
        if (f == NULL && acc != NULL && !accepts_json(acc))
            return oat_problem(h, c, MHD_HTTP_NOT_ACCEPTABLE, "NotAcceptable",
                               "the documents are offered as application/json only");
    }
    char base[256], api[300];
    ts_http__base_url(h, c, base, sizeof base);
    snprintf(api, sizeof api, "%s/ogcapi", base);
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_config *cfg = ts_service_config(svc);
    ts_buf b;
    ts_buf_init(&b, DOC_MAX);
    ts_status st = TS_ENOENT;
    switch (q.route) {
    case TS_OAT_LANDING:
        st = ts_ows_write_oat_landing(cfg->server.wms.title ? cfg->server.wms.title : "tilesrv",
                                      cfg->server.wms.abstract_text, api, &b);
        break;
    case TS_OAT_CONFORMANCE:
        st = ts_ows_write_oat_conformance(&b);
        break;
    case TS_OAT_API: {
        st = ts_ows_write_oat_openapi(cfg->server.wms.title ? cfg->server.wms.title : "tilesrv",
                                      api, &b);
        ts_service_unref(svc);
        return send_doc(h, c, st, "application/vnd.oai.openapi+json;version=3.0", &b);
    }
    case TS_OAT_TMS_LIST:
    case TS_OAT_TMS: {
        const ts_grid *grids[MAX_OAT_GRIDS];
        int ng = 0;
        for (int k = 0; k < ts_service_ntileset_grids(svc) && ng < MAX_OAT_GRIDS; k++) {
            const ts_grid *g = ts_service_tileset_grid_at(svc, k)->grid;
            int seen = 0;
            for (int i = 0; i < ng && !seen; i++)
                seen = grids[i] == g;
            if (!seen)
                grids[ng++] = g;
        }
        /* the built-in sets are described even when no tileset uses them */
        for (int i = 0; i < ts_grid_builtin_count() && ng < MAX_OAT_GRIDS; i++) {
            const ts_grid *g = ts_grid_builtin_at(i);
            int seen = 0;
            for (int k = 0; k < ng && !seen; k++)
                seen = grids[k] == g || strcmp(grids[k]->name, g->name) == 0;
            if (!seen && g)
                grids[ng++] = g;
        }
        if (q.route == TS_OAT_TMS_LIST) {
            st = ts_ows_write_oat_tilematrixsets(grids, ng, api, &b);
        } else {
            for (int i = 0; i < ng && st == TS_ENOENT; i++)
                if (strcmp(grids[i]->name, q.tms) == 0)
                    st = ts_ows_write_oat_tilematrixset(grids[i], api, &b);
        }
        break;
    }
    case TS_OAT_COLLECTIONS: {
        int nts = ts_service_ntilesets(svc);
        oat_col *cols = calloc((size_t)(nts > 0 ? nts : 1), sizeof *cols);
        ts_oat_collection *list = calloc((size_t)(nts > 0 ? nts : 1), sizeof *list);
        if (cols && list) {
            for (int i = 0; i < nts; i++) {
                oat_collection(svc, ts_service_tileset_at(svc, i), &cols[i]);
                list[i] = cols[i].col;
            }
            st = ts_ows_write_oat_collections(list, nts, api, &b);
        } else {
            st = TS_ENOMEM;
        }
        free(cols);
        free(list);
        break;
    }
    case TS_OAT_COLLECTION:
    case TS_OAT_TILESETS:
    case TS_OAT_TILESET:
    case TS_OAT_TILE: {
        const ts_tileset *ts = ts_service_tileset(svc, q.collection);
        oat_col *oc = ts ? calloc(1, sizeof *oc) : NULL;
        if (ts != NULL && oc == NULL) {
            st = TS_ENOMEM;
            break;
        }
        if (oc == NULL)
            break;
        oat_collection(svc, ts, oc);
        if (q.route != TS_OAT_COLLECTION)
            oc->col.format = q.format; /* the map or the vector tilesets */
        const ts_oat_tileset *t = NULL;
        for (int i = 0; i < oc->col.ntilesets && t == NULL && q.tms[0]; i++)
            if (strcmp(oc->sets[i].grid->name, q.tms) == 0)
                t = &oc->sets[i];
        if (q.route == TS_OAT_COLLECTION) {
            st = ts_ows_write_oat_collection(&oc->col, api, &b);
        } else if (q.route == TS_OAT_TILESETS) {
            st = ts_ows_write_oat_tilesets(&oc->col, api, &b);
        } else if (t != NULL && q.route == TS_OAT_TILESET) {
            ts_oat_tileset tv = *t;
            ts_http__vlayers vls;
            memset(&vls, 0, sizeof vls);
            const ts_tileset *v = ts_service_tileset_grid(svc, ts->name, t->grid->name);
            if (oc->col.format == TS_IMG_MVT && v != NULL) {
                st = ts_http__vlayers_build(svc, v, &vls);
                tv.vlayers = vls.vl;
                tv.nvlayers = vls.n;
            }
            if (st == TS_OK || st == TS_ENOENT)
                st = ts_ows_write_oat_tileset(&oc->col, &tv, api, &b);
            ts_http__vlayers_free(&vls);
        } else if (t != NULL) {
            int z = ts_grid_level_by_id(t->grid, q.matrix);
            /* errors as JSON, like the API's others (OGC API - Tiles /req/core/tc-error): a
             * row or column outside the tile matrix is a bad request, a tile of the matrix
             * outside the tileset's tileMatrixSetLimits is not found */
            const char *bad = NULL;
            unsigned code = MHD_HTTP_BAD_REQUEST;
            if (z >= 0 && (q.row >= t->grid->levels[z].matrix_h ||
                           q.col >= t->grid->levels[z].matrix_w)) {
                bad = "tileRow or tileCol is outside the tile matrix";
            } else if (z >= 0 && !ts_ows_oat_tile_in_limits(&oc->col, t, z, q.row, q.col)) {
                bad = "the tile is outside the tileset's tileMatrixSetLimits";
                code = MHD_HTTP_NOT_FOUND;
            }
            if (bad != NULL) {
                free(oc);
                ts_buf_fini(&b);
                ts_service_unref(svc);
                return oat_problem(h, c, code,
                                   code == MHD_HTTP_NOT_FOUND ? "NotFound" : "InvalidParameterValue",
                                   bad);
            }
            if (z >= 0) {
                ts_wmts_req wr;
                memset(&wr, 0, sizeof wr);
                snprintf(wr.layer, sizeof wr.layer, "%s", ts->name);
                snprintf(wr.tms, sizeof wr.tms, "%s", t->grid->name);
                wr.grid = t->grid;
                wr.z = z;
                wr.row = q.row;
                wr.col = q.col;
                wr.format = q.format;
                free(oc);
                ts_buf_fini(&b);
                ts_service_unref(svc);
                return wmts_tile(h, c, rs, &wr, head);
            }
        }
        free(oc);
        break;
    }
    }
    ts_service_unref(svc);
    if (st == TS_ENOENT) {
        ts_buf_fini(&b);
        return oat_problem(h, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such resource");
    }
    return send_doc(h, c, st, "application/json", &b);
}

/* ---- dispatch --------------------------------------------------------------------------- */

static enum MHD_Result
with_query(ts_http *h, struct MHD_Connection *c, req_state *rs, int wms, int head)
{
    char *q = query_string(c);
    if (q == NULL)
        return ts_http__send_status(h, c, TS_ENOMEM, NULL);
    enum MHD_Result r = wms ? handle_wms(h, c, rs, q) : handle_wmts(h, c, rs, q, NULL, head);
    free(q);
    return r;
}

int
ts_http__route_ogc(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url, int head,
                   enum MHD_Result *ret)
{
    if (strcmp(url, "/wms") == 0 || strcmp(url, "/wms/") == 0) {
        *ret = with_query(h, c, rs, 1, head);
        return 1;
    }
    if (strcmp(url, "/ows") == 0 || strcmp(url, "/ows/") == 0) {
        const char *svc = NULL;
        /* SERVICE decides; case-insensitive names */
        svc = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "SERVICE");
        if (svc == NULL)
            svc = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");
        *ret = with_query(h, c, rs, !(svc && strcasecmp(svc, "WMTS") == 0), head);
        return 1;
    }
    if (strcmp(url, "/wmts") == 0 || strcmp(url, "/wmts/") == 0) {
        *ret = with_query(h, c, rs, 0, head);
        return 1;
    }
    if (strncmp(url, "/wmts/1.0.0/", 12) == 0) {
        *ret = handle_wmts(h, c, rs, NULL, url + 12, head);
        return 1;
    }
    if (strcmp(url, "/tms/1.0.0") == 0 || strcmp(url, "/tms/1.0.0/") == 0) {
        *ret = handle_tms_doc(h, c, NULL);
        return 1;
    }
    if (strncmp(url, "/tms/1.0.0/", 11) == 0) {
        const char *rest = url + 11;
        size_t n = strlen(rest);
        if (n > 0 && rest[n - 1] == '/')
            n--;
        if (n > 0 && n < TS_NAME_MAX && memchr(rest, '/', n) == NULL) {
            char name[TS_NAME_MAX];
            memcpy(name, rest, n);
            name[n] = '\0';
            *ret = handle_tms_doc(h, c, name);
            return 1;
        }
        return 0; /* a tile: http.c */
    }
    if (strcmp(url, "/ogcapi") == 0 || strncmp(url, "/ogcapi/", 8) == 0) {
        *ret = handle_ogcapi(h, c, rs, url + 7, head);
        return 1;
    }
    return 0;
}

enum MHD_Result
ts_http__ogc_failed(ts_http *h, struct MHD_Connection *c, req_state *rs)
{
    ts_ows_fault f;
    memset(&f, 0, sizeof f);
    f.err = rs->err;
    if (rs->st == TS_EBUSY && rs->kind == TS_HTTP_REQ_WMS)
        ts_http__note_busy();
    if (rs->kind == TS_HTTP_REQ_WMS) {
        f.code = code_of(rs->st);
        uint8_t bgc[3] = {rs->bg.r, rs->bg.g, rs->bg.b};
        ts_image_format fmt = rs->format == TS_MAP_JPEG   ? TS_IMG_JPEG
                              : rs->format == TS_MAP_PNG8 ? TS_IMG_PNG8
                                                          : TS_IMG_PNG;
        return wms_exception(h, c, rs->wms_version, rs->exc, rs->width, rs->height, fmt,
                             rs->bg.a == 0, bgc, &f);
    }
    if (rs->st == TS_EBUSY)
        return ts_http__send_status(h, c, TS_EBUSY, &rs->err);
    f.code = rs->st == TS_EINVAL ? TS_OWS_TILE_OUT_OF_RANGE : TS_OWS_NO_APPLICABLE_CODE;
    return ows_exception(h, c, &f, 0);
}
