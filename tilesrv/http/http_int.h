/* http/http_int.h — shared by the files of the http module:
 *   http.c   the daemon, XYZ/TMS tiles, TileJSON, /health, /metrics, static files
 *   ogc.c    WMS, WMTS (KVP and RESTful), TMS documents, OGC API – Tiles
 *   info.c   GetFeatureInfo answers (text, HTML, JSON, GML) */
#ifndef TS_HTTP_HTTP_INT_H
#define TS_HTTP_HTTP_INT_H

#include "http/http.h"

#include <microhttpd.h>
#include <stdatomic.h>

#include "ows/ows.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"

struct ts_http {
    struct MHD_Daemon *d;
    ts_pipeline *p;
    ts_http_opts o;
    char *cors;
    char *public_url;
    char *web_root;
    int port;
    atomic_int suspended; /* connections waiting for a render */
    int64_t started;
};

typedef enum {
    TS_HTTP_REQ_TILE = 0, /* XYZ / TMS tile: errors as plain text */
    TS_HTTP_REQ_WMS,      /* WMS GetMap: errors as ServiceExceptionReport or image */
    TS_HTTP_REQ_WMTS,     /* WMTS / OGC API tile: errors as OWS ExceptionReport */
    TS_HTTP_REQ_EVENTS,   /* /events: waiting for the next live event */
} ts_http_req_kind;

/* Per-request state, kept in MHD's con_cls between handler calls. */
typedef struct req_state {
    ts_http *h;
    struct MHD_Connection *conn;
    int waiting; /* suspended, render queued */
    int done;    /* the render callback has run */
    ts_status st;
    ts_tile *tile;
    ts_err err;
    int max_age;
    ts_http_req_kind kind;
    char ctype[64]; /* Content-Type of the answer; "" = image/png */
    /* WMS GetMap: how to report a failure that happens on the render thread */
    int wms_version;
    ts_exc_mode exc;
    int width, height;
    ts_map_format format;
    ts_rgba bg;
    uint64_t ev_after;    /* /events: the client's Last-Event-ID */
} req_state;

void ts_http__common_headers(ts_http *h, struct MHD_Response *r);
enum MHD_Result ts_http__send_buf(ts_http *h, struct MHD_Connection *c, unsigned status,
                                  const char *ctype, const void *data, size_t len);
enum MHD_Result ts_http__send_text(ts_http *h, struct MHD_Connection *c, unsigned status,
                                   const char *msg);
enum MHD_Result ts_http__send_status(ts_http *h, struct MHD_Connection *c, ts_status st,
                                     const ts_err *err);
/* Send an image or tile with ETag / Last-Modified / Cache-Control (max_age 0: no-cache);
 * consumes the caller's reference; 304 on a matching If-None-Match. */
enum MHD_Result ts_http__send_tile(ts_http *h, struct MHD_Connection *c, ts_tile *t,
                                   const char *ctype, int max_age, int head);
/* As ts_http__send_tile, with a Content-Encoding (NULL = none) and, when vary_encoding,
 * "Vary: Accept-Encoding" (the bytes depend on the client's Accept-Encoding). */
enum MHD_Result ts_http__send_tile_enc(ts_http *h, struct MHD_Connection *c, ts_tile *t,
                                       const char *ctype, int max_age, int head,
                                       const char *encoding, int vary_encoding);
/* The ts_tile_done callback that resumes a suspended connection (ud = its req_state). */
void ts_http__tile_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err);
/* The server's base URL for documents ("http://host:port", no trailing '/'). */
void ts_http__base_url(ts_http *h, struct MHD_Connection *c, char *buf, size_t size);

/* OGC routes (ogc.c): 1 with *ret set when url is one of them, else 0. */
int ts_http__route_ogc(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url,
                       int head, enum MHD_Result *ret);
/* Answer a WMS/WMTS render that failed on the render thread. */
enum MHD_Result ts_http__ogc_failed(ts_http *h, struct MHD_Connection *c, req_state *rs);

/* GetFeatureInfo answers (info.c): the result in format fmt appended to out. */
ts_status ts_http__info_write(const ts_info_result *r, ts_info_format fmt, ts_buf *out);

#endif
