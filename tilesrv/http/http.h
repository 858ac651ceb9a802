/* http/http.h — the HTTP front end (libmicrohttpd with its own thread pool).
 *
 * Routes requests to the ows parsers and the pipeline; a connection whose tile must be
 * rendered is suspended (no thread waits on it) and resumed from the render thread when
 * the tile is ready. Tile responses carry ETag, Last-Modified and Cache-Control, and an
 * If-None-Match that matches gets 304. */
#ifndef TS_HTTP_HTTP_H
#define TS_HTTP_HTTP_H

#include "pipeline/pipeline.h"
#include "util/status.h"

typedef struct ts_http_opts {
    const char *host;          /* address to bind, e.g. "127.0.0.1", "0.0.0.0", "::1" */
    int port;                  /* 0 = any free port (see ts_http_port) */
    int threads;               /* libmicrohttpd worker threads, >= 1 */
    int max_connections;
    const char *cors_origin;   /* Access-Control-Allow-Origin, NULL/"" = none */
    const char *public_url;    /* base URL for documents, NULL = from the Host header */
    const char *web_root;      /* directory served at "/" (index.html ...), or NULL */
} ts_http_opts;

typedef struct ts_http ts_http;

/* Bind and start serving. The pipeline must outlive the server. NULL with *err on
 * failure (e.g. the port is taken). */
ts_http *ts_http_start(ts_pipeline *p, const ts_http_opts *o, ts_err *err);
/* The port actually bound. */
int ts_http_port(const ts_http *h);
/* Stop accepting, let suspended requests finish, stop the threads, free. NULL is accepted. */
void ts_http_stop(ts_http *h);

#endif
