/* http/http_int.h — shared by the files of the http module:
 *   http.c   the daemon, XYZ/TMS tiles, /health, /metrics, static files
 *   tilejson.c /tiles/{tileset}.json and /tiles.json (TileJSON of the WebMercatorQuad grids)
 *   ogc.c    WMS, WMTS (KVP and RESTful), TMS documents, OGC API – Tiles
 *   info.c   GetFeatureInfo answers (text, HTML, JSON, GML)
 *   guard.c  connections, deadlines, access log, preflight, admin
 *   metrics.c /metrics (Prometheus text format), request counters by route class
 *   style_json.c /styles/{name}.json (MapLibre styles from the SLDs)
 *   glyphs.c /fonts/{fontstack}/{range}.pbf (glyph ranges of those styles' labels) */
#ifndef TS_HTTP_HTTP_INT_H
#define TS_HTTP_HTTP_INT_H

#include "http/http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "ows/ows.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"

/* Query arguments a request target may carry (more: 414 before libmicrohttpd parses them;
 * OGC requests take TS_KVP_MAX at most anyway). Each may take a 64-byte record of the
 * connection's memory pool, which is sized for them. */
#define TS_HTTP_MAX_ARGS 128

typedef struct conn_state conn_state;
typedef struct ts_http_ticket ts_http_ticket;
typedef struct ts_http_metrics ts_http_metrics;

/* Route classes of /metrics (bounded label values, never paths). */
typedef enum {
    TS_HTTP_ROUTE_OTHER = 0,
    TS_HTTP_ROUTE_TILES,   /* /tiles/... (XYZ, MVT, TileJSON) */
    TS_HTTP_ROUTE_WMS,     /* /wms, /ows (not SERVICE=WMTS) */
    TS_HTTP_ROUTE_WMTS,    /* /wmts..., /ows?SERVICE=WMTS */
    TS_HTTP_ROUTE_TMS,     /* /tms/... */
    TS_HTTP_ROUTE_OGCAPI,  /* /ogcapi... */
    TS_HTTP_ROUTE_SENSORS, /* /sensors/... */
    TS_HTTP_ROUTE_EVENTS,  /* /events */
    TS_HTTP_ROUTE_STATIC,  /* "/" and web-root files by extension */
    TS_HTTP_ROUTE_HEALTH,
    TS_HTTP_ROUTE_METRICS,
    TS_HTTP_ROUTE_ADMIN,   /* /admin/... */
    TS_HTTP_ROUTE__COUNT
} ts_http_route;

struct ts_http {
    struct MHD_Daemon *d;
    MHD_socket quiesced_fd; /* the listening socket once shut down, closed after the daemon */
    ts_pipeline *p;
    ts_http_opts o;
    char *cors;
    char *public_url;
    char *web_root;
    char *web_root_real;  /* realpath of web_root: files served must resolve below it */
    int port;
    atomic_int suspended; /* connections waiting for a render */
    atomic_int inflight;  /* requests from their head to their completion */
    atomic_int tickets;   /* renders with a deadline whose callback has not run */
    atomic_int stopping;  /* graceful shutdown under way: "Connection: close" */
    int64_t started;
    /* limits */
    size_t max_url, max_header;
    int conn_timeout_s, max_render_ms;
    /* connections and deadlines, watched by one thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t watchdog;
    int watchdog_on, quit;
    conn_state *conns;        /* open connections */
    /* the latest reload (under mu): -1 none yet, 0 refused, 1 done; when; the refusal */
    int reload_ok;
    int64_t reload_at;
    char reload_error[512];
    uint64_t reloads_ok, reloads_refused;
    ts_http_ticket *timed;    /* renders waiting with a deadline */
    /* access log */
    pthread_mutex_t log_mu;
    FILE *log;                /* NULL = off */
    char *log_path;           /* NULL = stderr or off */
    /* admin endpoints */
    int admin_on;
    char *admin_token;
    ts_cfg_cidr *allow;
    int nallow;
    /* request counters and durations by route class (metrics.c) */
    ts_http_metrics *metrics;
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
    int stale;            /* tiles: the answer is stale (re-rendering): no client lifetime */
    int expire_s;         /* tiles: the tileset's cache expire (0 = none): see
                           * ts_http__tile_lifetime */
    int action;           /* the answer reports what a POST did (admin): no validators, no
                           * conditional answer, no-store, no CORS */
    ts_http_req_kind kind;
    char ctype[64]; /* Content-Type of the answer; "" = image/png */
    const char *encoding; /* its Content-Encoding (a static string), NULL = none */
    int vary_encoding;    /* the answer depends on Accept-Encoding */
    /* WMS GetMap: how to report a failure that happens on the render thread */
    int wms_version;
    ts_exc_mode exc;
    int width, height;
    ts_map_format format;
    ts_rgba bg;
    uint64_t ev_after;    /* /events: the client's Last-Event-ID */
    /* for limits and the access log */
    uint64_t t0_ns;       /* monotonic, when the request line arrived */
    char *uri;            /* request target as sent (path and query), cut at 2 KiB */
    size_t uri_len;       /* its full length */
    char method[12];
    const char *cache;    /* tiles: "memory" (memory cache hit), "pipeline" (persistent
                           * cache or render), NULL = not a tile */
    int begun;            /* the handler has seen the request head (limits checked) */
    int routed;           /* the request has been routed (second call) */
    int timed_out;        /* answered at its render deadline */
    unsigned refused;     /* answered by ts_http__conn_refuse with this status (0: not) */
    ts_http_route route;  /* for /metrics, from the decoded path at the first call */
} req_state;

/* The client lifetime (Cache-Control max-age) of tc's tiles: its max_age, at most its
 * cache's expire (a tile older than that is stale anyway). */
int ts_http__tile_max_age(const ts_cfg_tileset *tc);
/* The client lifetime of tile t for a request of rs (rs->max_age, rs->expire_s): at most
 * the time left until the tile expires (expire_s after its mtime; 0 once past), so a tile
 * near its expiry is not kept by clients a whole max_age longer. */
int ts_http__tile_lifetime(const req_state *rs, const ts_tile *t);
void ts_http__common_headers(ts_http *h, struct MHD_Response *r);
enum MHD_Result ts_http__send_buf(ts_http *h, struct MHD_Connection *c, unsigned status,
                                  const char *ctype, const void *data, size_t len);
enum MHD_Result ts_http__send_text(ts_http *h, struct MHD_Connection *c, unsigned status,
                                   const char *msg);
/* As ts_http__send_text, without Access-Control-Allow-Origin (admin answers: for the
 * operator, not for pages of other origins). */
enum MHD_Result ts_http__send_text_private(ts_http *h, struct MHD_Connection *c, unsigned status,
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
/* Suspend the connection of rs until ts_http__resume (rs->waiting set, counted in
 * h->suspended); on_request then answers from rs: rs->tile (with rs->ctype, rs->max_age,
 * rs->encoding) when rs->st is TS_OK, else the error in the form of rs->kind. */
void ts_http__suspend(ts_http *h, struct MHD_Connection *c, req_state *rs);
/* Mark rs answered and resume its connection; rs may be gone as soon as this returns. Any
 * thread. */
void ts_http__resume(req_state *rs);
/* Work for a render thread: fills rs->st, rs->tile, rs->err (and rs->encoding) and frees
 * arg; ts_http__offload resumes the connection after it. */
typedef void (*ts_http_offload_fn)(void *arg, req_state *rs);
/* Hand fn(arg, rs) to a render thread with the connection suspended, so that the server
 * thread goes on serving others (a vector tile to build, a glyph range to draw); when the
 * render queue is full it runs here. Returns what the access handler returns. */
enum MHD_Result ts_http__offload(ts_http *h, struct MHD_Connection *c, req_state *rs,
                                 ts_http_offload_fn fn, void *arg);
/* As ts_http__offload; db != 0: the work queries a database (ts_pipeline_run_db). */
enum MHD_Result ts_http__offload_db(ts_http *h, struct MHD_Connection *c, req_state *rs,
                                    ts_http_offload_fn fn, void *arg, int db);
/* A vector tile (XYZ or WMTS, grid NULL = the tileset's first): a cached one answered here,
 * a build handed to a render thread. The request was checked (ts_pipeline_check_grid). */
enum MHD_Result ts_http__send_mvt(ts_http *h, struct MHD_Connection *c, req_state *rs,
                                  const ts_tile_req *tr, const char *grid, int head);
/* The ts_tile_done callback that resumes a suspended connection (ud = its req_state). */
void ts_http__tile_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err);
/* A render with a deadline (WMS GetMap, server limit max_render_ms): the render's callback
 * gets the ticket, not rs, so that rs can be answered at the deadline (st TS_ELIMIT) and go
 * while the render runs on; its result is then dropped. Call after suspending the
 * connection (rs->waiting set, h->suspended counted). NULL when no limit is set or out of
 * memory: use ts_http__tile_done with rs then. */
ts_http_ticket *ts_http__ticket_new(ts_http *h, req_state *rs);
/* The ts_tile_done for a ticket (ud). */
void ts_http__ticket_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err);
/* The render was refused (its callback will never run): forget the ticket. 1 when rs is
 * still the caller's to answer, 0 when the deadline has already answered it. */
int ts_http__ticket_drop(ts_http_ticket *t);
/* The server's base URL for documents ("http://host:port", no trailing '/'). */
void ts_http__base_url(ts_http *h, struct MHD_Connection *c, char *buf, size_t size);
/* /styles/{name}.json (style_json.c): a MapLibre style for the tilesets named (one, or
 * several comma-separated) from their SLD styles; 404 for an unknown tileset. */
enum MHD_Result ts_http__handle_style(ts_http *h, struct MHD_Connection *c, const char *name,
                                      int head);
/* /styles/{name}/sprite[@2x].json|png (style_json.c): the sprite sheet of the style's
 * icons (ratio 1 or 2), its index (png 0) or image (png 1). */
enum MHD_Result ts_http__handle_sprite(ts_http *h, struct MHD_Connection *c, const char *name,
                                       int ratio, int png, int head);
/* /fonts.json (path ".json") and /fonts/{fontstack}/{start}-{end}.pbf (path "/...", the
 * decoded path after "/fonts"): glyphs.c. */
enum MHD_Result ts_http__handle_fonts(ts_http *h, struct MHD_Connection *c, req_state *rs,
                                      const char *path, int head);

/* /tiles/{name}.json (tilejson.c): the TileJSON 3.0.0 of the tileset's WebMercatorQuad grid
 * (TileJSON is Web Mercator by definition), whichever grid the tileset lists first: the tile
 * URLs name the grid when it is not the first (/tiles/{name}/WebMercatorQuad/{z}/{x}/{y}),
 * zooms, bounds and center are that grid's; ?format=pbf (or mvt): of its vector tiles, with
 * vector_layers. 404 for an unknown tileset, and, with the reason and the tileset's grids,
 * for one without WebMercatorQuad (or without a level of it in its zoom range). */
enum MHD_Result ts_http__handle_tilejson(ts_http *h, struct MHD_Connection *c, const char *name);
/* /tiles.json (tilejson.c): a JSON array of the TileJSON documents (as
 * ts_http__handle_tilejson, ?format=pbf too) of every tileset that has them, in
 * configuration order, each with "live" (it draws a sensor feed) and, when live, "feeds"
 * (the names of those feeds). */
enum MHD_Result ts_http__handle_tilejson_index(ts_http *h, struct MHD_Connection *c);

/* 1 when an Accept-Encoding header value (NULL: none) accepts gzip: "gzip" or "x-gzip"
 * (any case) with a q above 0, or else "*" with a q above 0 (RFC 9110 12.5.3). */
int ts_http__accepts_gzip(const char *accept_encoding);

/* The gzip form of the web-root file path (opened as fd, *sb its stat) appended to out: 1,
 * or 0 when not made (under 1 KiB, over 8 MiB, unreadable). Kept while the file is
 * unchanged; thread-safe. */
struct stat;
int ts_http__static_gzip(const char *path, const struct stat *sb, int fd, ts_buf *out);

/* ---- guard.c: connections, deadlines, access log, preflight, admin ---- */
/* MHD_OPTION_NOTIFY_CONNECTION: track each connection for the watchdog (cls = h). */
void ts_http__on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe);
/* The head of a request on c is complete / the request has completed (returns the body
 * bytes noted for its response). */
void ts_http__conn_begin(ts_http *h, struct MHD_Connection *c);
size_t ts_http__conn_end(ts_http *h, struct MHD_Connection *c);
/* Record rs as the request under way on c (NULL: none). Should c close with one still
 * recorded (libmicrohttpd completed it without telling), ts_http__req_abandon finishes it. */
void ts_http__conn_track(struct MHD_Connection *c, req_state *rs);
/* Finish the state of a request whose connection closed without its completion callback:
 * access log, metrics, the in-flight count (http.c). */
void ts_http__req_abandon(ts_http *h, struct MHD_Connection *c, req_state *rs);
/* Answer c at once with status (reason phrase `reason`) and the text msg, written to its
 * socket directly, then close the connection: for requests libmicrohttpd cannot take
 * (arguments beyond its memory pool), before it parses them. 1 when the answer was sent. */
int ts_http__conn_refuse(ts_http *h, struct MHD_Connection *c, unsigned status, const char *reason,
                         const char *msg);
/* Note the body size of the response being queued on c (for the access log). */
void ts_http__note_bytes(struct MHD_Connection *c, size_t n);
/* Start / stop the watchdog thread: connections without a complete request head for
 * conn_timeout_s are shut down; renders past their deadline are answered. */
ts_status ts_http__guard_start(ts_http *h, ts_err *err);
void ts_http__guard_stop(ts_http *h);
/* Open the access log ("-" = stderr, NULL/"" = off) / close it. */
ts_status ts_http__log_open(ts_http *h, const char *spec, ts_err *err);
void ts_http__log_close(ts_http *h);
/* One JSON line for a completed (complete = 1) or aborted request. */
void ts_http__access_log(ts_http *h, struct MHD_Connection *c, const req_state *rs, size_t bytes,
                         int complete);
/* OPTIONS: 204 with Allow, and the CORS preflight headers when CORS is on. */
enum MHD_Result ts_http__preflight(ts_http *h, struct MHD_Connection *c);
/* A request refused because the render queue is full: said in the log at once the first
 * time, then at most once a minute with the count since. Any thread. */
void ts_http__note_busy(void);
/* /admin/...: allow-list, bearer token, then the action (a reload or truncate on a render
 * thread with the connection suspended: the server thread goes on serving). */
enum MHD_Result ts_http__handle_admin(ts_http *h, struct MHD_Connection *c, req_state *rs,
                                      const char *url, const char *method);

/* ---- metrics.c: /metrics ---- */
/* Counters for a server (zeroed), or NULL out of memory. */
ts_http_metrics *ts_http__metrics_new(void);
void ts_http__metrics_free(ts_http_metrics *m);
/* The route class of the decoded path url (the query is read from c for /ows). */
ts_http_route ts_http__route_class(struct MHD_Connection *c, const char *url);
/* Count a request that ended: answered with status after ns (complete = 1), or aborted
 * (complete = 0, or no status: counted apart, not in the duration histogram). Any thread,
 * lock-free. m NULL is accepted (nothing counted). */
void ts_http__metrics_request(ts_http_metrics *m, ts_http_route route, unsigned status,
                              uint64_t ns, int complete);
/* Append the whole /metrics document to b. TS_OK or TS_ENOMEM. */
ts_status ts_http__metrics_write(ts_http *h, ts_buf *b);

/* OGC routes (ogc.c): 1 with *ret set when url is one of them, else 0. */
int ts_http__route_ogc(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url,
                       int head, enum MHD_Result *ret);
/* Answer a WMS/WMTS render that failed on the render thread. */
enum MHD_Result ts_http__ogc_failed(ts_http *h, struct MHD_Connection *c, req_state *rs);

/* The vector layers of tileset ts (one grid's entry) as TileJSON and OGC API tileset
 * metadata list them: each layer some level carries, with its fields, their types
 * ("String", "Number", "Boolean") and its levels on ts's grid, and "<layer>_label" for its
 * label points. v owns the strings; free with ts_http__vlayers_free (also after a
 * failure). TS_OK or TS_ENOMEM. */
typedef struct ts_http__vlayers {
    ts_tilejson_vlayer *vl;
    int n;
    char (*lnames)[300];
    char (*fnames)[TS_MVT_FIELD_MAX];
    ts_cfg_attr_type *ftypes;
    const char **fptr, **tptr;
} ts_http__vlayers;
ts_status ts_http__vlayers_build(const ts_service *svc, const ts_tileset *ts, ts_http__vlayers *v);
void ts_http__vlayers_free(ts_http__vlayers *v);

/* GetFeatureInfo answers (info.c): the result in format fmt appended to out. */
ts_status ts_http__info_write(const ts_info_result *r, ts_info_format fmt, ts_buf *out);

#endif
