/* http/http.h — the HTTP front end (libmicrohttpd with its own thread pool).
 *
 * Routes requests to the ows parsers and the pipeline; a connection whose tile must be
 * rendered is suspended (no thread waits on it) and resumed from the render thread when
 * the tile is ready. Tile responses carry ETag, Last-Modified and Cache-Control, and an
 * If-None-Match that matches gets 304. */
#ifndef TS_HTTP_HTTP_H
#define TS_HTTP_HTTP_H

#include "config/config.h"
#include "feed/feed.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"
#include "util/status.h"

/* ---- live feeds (live.c) ----------------------------------------------------------------
 * The sensor feeds a server runs. Each published change of a feed is queued (the feed
 * thread only notes it) to one worker thread that builds the snapshot's store in every
 * grid CRS its layers (`feed: NAME`) are drawn in, swaps them into the pipeline
 * (ts_pipeline_layer_set_store) and invalidates the tiles around the old and new position
 * of every visibly changed sensor, grown by the layer's symbol size
 * (ts_pipeline_invalidate); changes arriving meanwhile are coalesced into one rebuild. */
typedef struct ts_live ts_live;

/* Start the worker for pipeline p (which must outlive it); no feeds yet. NULL with *err. */
ts_live *ts_live_new(ts_pipeline *p, ts_err *err);
/* Replace the running feeds by new ones made from cfgs (deep-copied: the caller may free
 * them afterwards): all are created and started first (a feed that cannot be created or
 * started is logged as an error and left out: the server serves on, that feed's layers
 * stay as they are); then the old feeds are stopped and freed. TS_OK, or TS_ENOMEM with
 * nothing changed. */
ts_status ts_live_set_feeds(ts_live *l, const ts_feed_config *const *cfgs, int n, ts_err *err);
/* The same, keeping a running feed whose name and key (keys[i], the config entry's hash;
 * 0 = never kept) are unchanged: it goes on with its state, and the layers of the current
 * service are rebuilt from its snapshot at once (every tile of its tilesets dropped). */
ts_status ts_live_set_feeds_keyed(ts_live *l, const ts_feed_config *const *cfgs,
                                  const uint64_t *keys, int n, ts_err *err);
/* Stop every feed and the worker; free. NULL is accepted. */
void ts_live_free(ts_live *l);
/* The current snapshot of feed (a new reference), or NULL when no such feed runs; *gen
 * (may be NULL) receives the number of the feed set (changes with each ts_live_set_feeds). */
ts_feed_snapshot *ts_live_snapshot(ts_live *l, const char *feed, uint64_t *gen);
/* /events (Server-Sent Events): every rebuild that changed something visible becomes one
 * event {"feed", "version" (the snapshot's), "tilesets" (names whose tiles were dropped),
 * "bbox" (lon/lat of the changed sensors, old and new positions)}, numbered from 1; the
 * latest 256 are kept. Append the events after id `after` to out as SSE text (a "reset"
 * event when some were lost or the id is unknown); returns the latest id. */
uint64_t ts_live_events(ts_live *l, uint64_t after, ts_buf *out);
/* The prefix of this run's event ids ("<epoch>-<n>", immutable): an id with another one is
 * from an earlier run or another node. */
const char *ts_live_epoch(const ts_live *l);
/* Wait for an event after `after`: 1 = registered, wake(ud) will be called exactly once
 * (on the next event, after about 20 s as a keep-alive, or at ts_live_events_stop), from
 * the worker or the stopping thread; 0 = do not wait (newer events exist, or stopping). */
int ts_live_events_wait(ts_live *l, uint64_t after, void (*wake)(void *ud), void *ud);
/* Wake every waiting client and refuse new waits (server shutdown). */
void ts_live_events_stop(ts_live *l);
/* Append the feeds' counters in the Prometheus text format. */
void ts_live_metrics(ts_live *l, ts_buf *b);
/* Append ,"feeds":[...] to a /health document: per feed ok, fresh, sensors, stale, failed
 * loads in a row, MQTT connection, the latest error and its age. Returns the number of feeds
 * not ok (no data yet, latest load failed, broker disconnected). */
int ts_live_health(ts_live *l, ts_buf *b);

/* What POST /admin/reload and /admin/truncate do: supplied by the program that runs the
 * server (the http module knows no configuration files nor caches on disk). Each is called
 * on an HTTP thread, possibly while the other runs; NULL = answered 501. */
typedef struct ts_http_admin_ops {
    /* Reload the configuration as SIGHUP does. TS_OK, or why not (the running one stays). */
    ts_status (*reload)(void *ud, ts_err *err);
    /* Remove tileset's tiles from its persistent cache and from memory: zoom "A-B" or "A"
     * (NULL = every level), bbox "MINX,MINY,MAXX,MAXY[,EPSG:CODE]" (NULL = everywhere).
     * *removed counts the persistent tiles removed. TS_EINVAL / TS_ENOENT for bad values
     * (answered 400 / 404). */
    ts_status (*truncate)(void *ud, const char *tileset, const char *zoom, const char *bbox,
                          uint64_t *removed, ts_err *err);
    void *ud;
} ts_http_admin_ops;

typedef struct ts_http_opts {
    const char *host;          /* address to bind, e.g. "127.0.0.1", "0.0.0.0", "::1" */
    int port;                  /* 0 = any free port (see ts_http_port) */
    int threads;               /* libmicrohttpd worker threads, >= 1 */
    int max_connections;
    const char *cors_origin;   /* Access-Control-Allow-Origin, NULL/"" = none */
    const char *public_url;    /* base URL for documents, NULL = from the Host header */
    const char *web_root;      /* directory served at "/" (index.html ...), or NULL */
    ts_live *live;             /* running feeds (/sensors, /metrics), or NULL; must outlive
                                * the server */
    /* Request limits (0 = the default in parentheses). */
    int max_connections_per_ip;  /* connections from one address (64) */
    int connection_timeout_s;    /* idle connections and request heads slower than this are
                                  * cut off (30) */
    int max_url_bytes;           /* longer request targets: 414 (8192) */
    int max_header_bytes;        /* larger request heads: 431 (16384) */
    int max_render_ms;           /* WMS GetMap answered with an OGC exception past this;
                                  * 0 = no limit */
    const char *access_log;      /* NULL/"" = off, "-" = stderr, else a file appended to */
    const ts_cfg_admin *admin;   /* NULL or not enabled: no admin endpoints (404); copied */
    ts_http_admin_ops admin_ops;
} ts_http_opts;

typedef struct ts_http ts_http;

/* Bind and start serving. The pipeline must outlive the server. NULL with *err on
 * failure (e.g. the port is taken). */
ts_http *ts_http_start(ts_pipeline *p, const ts_http_opts *o, ts_err *err);
/* The port actually bound. */
int ts_http_port(const ts_http *h);
/* Stop accepting, let suspended requests finish, stop the threads, free. NULL is accepted. */
void ts_http_stop(ts_http *h);
/* Graceful stop: close the listening socket (new connections are refused), let every request
 * already begun finish and its response be sent, waiting at most timeout_ms, then as
 * ts_http_stop. Returns the number of requests cut off at the deadline (0 = none). */
int ts_http_shutdown(ts_http *h, int timeout_ms);
/* Reopen the access log file (after log rotation); no-op when it logs to stderr or is off. */
void ts_http_reopen_log(ts_http *h);
/* Record the outcome of a configuration reload (ok = 1, or 0 with the refusal's message)
 * for /health ("reload") and /metrics. Any thread. */
void ts_http_note_reload(ts_http *h, int ok, const char *msg);

#endif
