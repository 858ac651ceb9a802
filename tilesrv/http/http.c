/* http/http.c — libmicrohttpd daemon: routes, suspend/resume, caching headers. */
#include "http/http.h"

#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mvt/mvt.h"
#include "ows/ows.h"
#include "util/clock.h"
#include "util/fmt.h"
#include "util/hash.h"
#include "util/log.h"

/* ---- responses -------------------------------------------------------------------------- */

void
ts_http__common_headers(ts_http *h, struct MHD_Response *r)
{
    if (h->cors && h->cors[0])
        MHD_add_response_header(r, "Access-Control-Allow-Origin", h->cors);
    MHD_add_response_header(r, "Server", "tilesrv/" TS_VERSION);
    if (atomic_load(&h->stopping))
        MHD_add_response_header(r, "Connection", "close"); /* shutting down: no keep-alive */
}

/* Documents worth compressing: capabilities, JSON, HTML, the text of errors. */
static int
compressible(const char *ctype)
{
    return strncmp(ctype, "text/", 5) == 0 || strstr(ctype, "json") != NULL ||
           strstr(ctype, "xml") != NULL || strstr(ctype, "javascript") != NULL;
}

static enum MHD_Result send_buf_cors(ts_http *h, struct MHD_Connection *c, unsigned status,
                                     const char *ctype, const void *data, size_t len, int cors);

enum MHD_Result
ts_http__send_buf(ts_http *h, struct MHD_Connection *c, unsigned status, const char *ctype,
                  const void *data, size_t len)
{
    return send_buf_cors(h, c, status, ctype, data, len, 1);
}

/* As ts_http__send_buf; cors = 0: without Access-Control-Allow-Origin (/health, /metrics:
 * for operators and their monitoring, not for pages of other origins to read). */
static enum MHD_Result
send_buf_cors(ts_http *h, struct MHD_Connection *c, unsigned status, const char *ctype,
              const void *data, size_t len, int cors)
{
    /* a document of 1 KiB or more to a client that takes gzip goes gzipped (WMS/WMTS
     * capabilities shrink from 20 KB to 2-3 KB, sensor GeoJSON likewise) */
    int doc = compressible(ctype);
    ts_buf gz;
    ts_buf_init(&gz, (size_t)1 << 30);
    int gzipped = doc && status == MHD_HTTP_OK && len >= 1024 &&
                  ts_http__accepts_gzip(
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding")) &&
                  ts_mvt_gzip(data, len, 6, &gz, NULL) == TS_OK;
    if (gzipped) {
        data = gz.data;
        len = gz.len;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    ts_buf_fini(&gz);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    if (cors) {
        ts_http__common_headers(h, r);
    } else {
        MHD_add_response_header(r, "Server", "tilesrv/" TS_VERSION);
        if (atomic_load(&h->stopping))
            MHD_add_response_header(r, "Connection", "close");
    }
    if (gzipped)
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    if (doc && status == MHD_HTTP_OK)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (status >= 400)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    else if (status == MHD_HTTP_OK) /* documents change with a reload: revalidate */
        MHD_add_response_header(r, "Cache-Control", "no-cache");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD, OPTIONS");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE) /* the render queue is full: soon again */
        MHD_add_response_header(r, "Retry-After", "1");
    ts_http__note_bytes(c, len);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
send_text_cors(ts_http *h, struct MHD_Connection *c, unsigned status, const char *msg, int cors)
{
    char buf[700];
    int n = snprintf(buf, sizeof buf, "%s\n", msg);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    return send_buf_cors(h, c, status, "text/plain; charset=utf-8", buf, (size_t)n, cors);
}

enum MHD_Result
ts_http__send_text(ts_http *h, struct MHD_Connection *c, unsigned status, const char *msg)
{
    return send_text_cors(h, c, status, msg, 1);
}

enum MHD_Result
ts_http__send_text_private(ts_http *h, struct MHD_Connection *c, unsigned status,
                           const char *msg)
{
    return send_text_cors(h, c, status, msg, 0);
}

void
ts_http__note_busy(void)
{
    static ts_log_gate gate;
    static atomic_int said;
    unsigned long held;
    if (!ts_log_gate_pass(&gate, 60, &held))
        return;
    unsigned long n = held + 1; /* refused since the last message, this one included */
    if (!atomic_exchange(&said, 1))
        ts_warn("render queue full (server.queue_max): requests are refused until it "
                "drains (503, WMS ServiceException); said again at most once a minute, "
                "counted in /metrics");
    else
        ts_warn("render queue full (server.queue_max): %lu request%s refused since the "
                "last message",
                n, n == 1 ? "" : "s");
}

enum MHD_Result
ts_http__send_status(ts_http *h, struct MHD_Connection *c, ts_status st, const ts_err *err)
{
    if (st == TS_EBUSY)
        ts_http__note_busy();
    const char *msg = err && err->msg[0] ? err->msg : ts_status_text(st);
    return ts_http__send_text(h, c, (unsigned)ts_status_http(st), msg);
}

/* An IMF-fixdate (RFC 9110) into buf (at least 30 bytes), without printf: every tile
 * response carries one. */
static void
http_date(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (size < 30 || gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 < 0 ||
        tm.tm_year + 1900 > 9999) {
        if (size > 0)
            buf[0] = '\0';
        return;
    }
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char *p = buf;
    memcpy(p, days + 3 * tm.tm_wday, 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    p = ts_fmt_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = ' ';
    memcpy(p, months + 3 * tm.tm_mon, 3);
    p += 3;
    *p++ = ' ';
    p = ts_fmt_digits(p, (unsigned)(tm.tm_year + 1900), 4);
    *p++ = ' ';
    p = ts_fmt_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = ts_fmt_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = ts_fmt_digits(p, (unsigned)tm.tm_sec, 2);
    memcpy(p, " GMT", 5);
}

static void
unref_tile_cb(void *cls)
{
    ts_tile_unref(cls);
}

/* An HTTP-date as seconds since the epoch, in any of the three forms RFC 9110 5.6.7 says a
 * recipient must take: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850
 * ("Sunday, 06-Nov-94 08:49:37 GMT": a two-digit year 70-99 is 19xx, else 20xx) and
 * asctime ("Sun Nov  6 08:49:37 1994"). -1 for anything else, and for a date later than
 * now (a client's wrong clock: its 304s would never end). */
static int64_t
parse_http_date(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4] = "";
    int d, y, hh, mm, ss, n = 0;
    if (s == NULL)
        return -1;
    if (sscanf(s, "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &hh, &mm,
               &ss, &n) == 6 && n > 0 && s[n] == '\0') {
        /* IMF-fixdate */
    } else if (n = 0, sscanf(s, "%*[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", &d, mon, &y,
                             &hh, &mm, &ss, &n) == 6 && n > 0 && s[n] == '\0') {
        y += y < 70 ? 2000 : 1900; /* RFC 850 */
    } else if (n = 0, sscanf(s, "%*3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, &d, &hh, &mm,
                             &ss, &y, &n) == 6 && n > 0 && s[n] == '\0') {
        /* asctime */
    } else {
        return -1;
    }
    const char *m = strstr(months, mon);
    if (strlen(mon) != 3 || m == NULL || (m - months) % 3 != 0 || d < 1 || d > 31 || hh < 0 ||
        hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 || y < 1970)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = (int)(m - months) / 3, .tm_mday = d,
                    .tm_hour = hh, .tm_min = mm, .tm_sec = ss};
    int64_t t = (int64_t)timegm(&tm);
    return t > (int64_t)time(NULL) ? -1 : t;
}

/* 1 if an If-None-Match header lists etag (or "*"). */
static int
etag_matches(const char *inm, const char *etag)
{
    if (inm == NULL)
        return 0;
    size_t el = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, el) == 0 && (p[el] == '\0' || p[el] == ',' || p[el] == ' '))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

int
ts_http__tile_max_age(const ts_cfg_tileset *tc)
{
    int a = tc->max_age_s;
    if (tc->cache.expire_s > 0 && tc->cache.expire_s < a)
        a = tc->cache.expire_s; /* older than expire the tile is stale anyway */
    return a;
}

int
ts_http__tile_lifetime(const req_state *rs, const ts_tile *t)
{
    int a = rs->max_age;
    if (rs->expire_s > 0 && t->mtime > 0 && a > 0) {
        int64_t left = (int64_t)rs->expire_s - (ts_wall_s() - t->mtime);
        if (left < a)
            a = left > 0 ? (int)left : 0;
    }
    return a;
}

enum MHD_Result
ts_http__send_tile(ts_http *h, struct MHD_Connection *c, ts_tile *t, const char *ctype, int max_age,
                   int head)
{
    return ts_http__send_tile_enc(h, c, t, ctype, max_age, head, NULL, 0);
}

enum MHD_Result
ts_http__send_tile_enc(ts_http *h, struct MHD_Connection *c, ts_tile *t, const char *ctype,
                       int max_age, int head, const char *encoding, int vary_encoding)
{
    char etag[32], lm[64], cc[64];
    ts_tile_etag_str(t, etag, sizeof etag);
    http_date(t->mtime, lm, sizeof lm);
    if (max_age > 0) { /* "public, max-age=N" without printf */
        memcpy(cc, "public, max-age=", 16);
        *ts_fmt_uint(cc + 16, (unsigned)max_age) = '\0';
    }
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    struct MHD_Response *r;
    unsigned status = MHD_HTTP_OK;
    size_t body_len = t->len;
    if (etag_matches(inm, etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
    } else if (inm == NULL) { /* If-Modified-Since only counts without If-None-Match */
        int64_t ims = parse_http_date(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since"));
        if (ims >= 0 && t->mtime <= ims)
            status = MHD_HTTP_NOT_MODIFIED;
    }
    /* HEAD and 304 too: libmicrohttpd then sends the head only, with the Content-Length of
     * the representation (RFC 9110 8.6: a 304 may carry only that one, never 0) */
    r = MHD_create_response_from_buffer_with_free_callback_cls(t->len, (void *)t->data,
                                                               unref_tile_cb, t);
    if (r == NULL)
        ts_tile_unref(t);
    if (r == NULL)
        return MHD_NO;
    if (status == MHD_HTTP_OK)
        MHD_add_response_header(r, "Content-Type", ctype ? ctype : "image/png");
    if (status == MHD_HTTP_OK && encoding)
        MHD_add_response_header(r, "Content-Encoding", encoding);
    if (vary_encoding)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Last-Modified", lm);
    MHD_add_response_header(r, "Cache-Control", max_age > 0 ? cc : "no-cache");
    ts_http__common_headers(h, r);
    ts_http__note_bytes(c, status == MHD_HTTP_OK && !head ? body_len : 0);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- tiles ------------------------------------------------------------------------------ */

/* The q value of one Accept-Encoding element's parameters (";q=0.5"), 1 without one. */
static double
coding_q(const char *p, const char *end)
{
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char num[16];
            size_t n = (size_t)(end - p - 2) < sizeof num - 1 ? (size_t)(end - p - 2) : sizeof num - 1;
            memcpy(num, p + 2, n);
            num[n] = '\0';
            return strtod(num, NULL);
        }
        while (p < end && *p != ';')
            p++;
    }
    return 1;
}

int
ts_http__accepts_gzip(const char *ae)
{
    if (ae == NULL)
        return 0;
    double gzip_q = -1, star_q = -1;
    for (const char *p = ae; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        size_t n = 0;
        while (p + n < end && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
            n++;
        double q = coding_q(p + n, end);
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip_q = q > gzip_q ? q : gzip_q;
        else if (n == 1 && *p == '*')
            star_q = q;
        p = end;
    }
    return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

void
ts_http__tile_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err)
{
    req_state *rs = ud;
    rs->st = st;
    rs->tile = tile;
    if (err)
        rs->err = *err;
    if (rs->waiting)
        ts_http__resume(rs);
    else
        rs->done = 1;
}

/* ---- work on the render threads ---------------------------------------------------------- */

void
ts_http__suspend(ts_http *h, struct MHD_Connection *c, req_state *rs)
{
    rs->waiting = 1;
    atomic_fetch_add(&h->suspended, 1);
    MHD_suspend_connection(c);
}

void
ts_http__resume(req_state *rs)
{
    /* read what we need first: rs may be freed as soon as the connection resumes; the
     * connection counts as suspended until resume has returned (ts_http_stop) */
    ts_http *h = rs->h;
    struct MHD_Connection *c = rs->conn;
    rs->done = 1;
    MHD_resume_connection(c);
    atomic_fetch_sub(&h->suspended, 1);
}

typedef struct offload_job {
    ts_http_offload_fn fn;
    void *arg;
    req_state *rs;
} offload_job;

static void
offload_run(void *worker_state, void *arg)
{
    (void)worker_state;
    offload_job *j = arg;
    req_state *rs = j->rs;
    j->fn(j->arg, rs);
    free(j);
    ts_http__resume(rs);
}

enum MHD_Result
ts_http__offload(ts_http *h, struct MHD_Connection *c, req_state *rs, ts_http_offload_fn fn,
                 void *arg)
{
    return ts_http__offload_db(h, c, rs, fn, arg, 0);
}

enum MHD_Result
ts_http__offload_db(ts_http *h, struct MHD_Connection *c, req_state *rs, ts_http_offload_fn fn,
                    void *arg, int db)
{
    offload_job *j = malloc(sizeof *j);
    ts_http__suspend(h, c, rs);
    if (j != NULL) {
        *j = (offload_job){fn, arg, rs};
        if (ts_pipeline_run_db(h->p, offload_run, j, db) == TS_OK)
            return MHD_YES;
        free(j);
    }
    fn(arg, rs); /* the render queue is full: do it here rather than refuse it */
    ts_http__resume(rs);
    return MHD_YES;
}

typedef struct mvt_job {
    ts_http *h;
    ts_tile_req tr;
    char tileset[TS_NAME_MAX];
    char grid[TS_NAME_MAX]; /* "" = the tileset's first */
    int gzip;
} mvt_job;

static void
mvt_job_run(void *arg, req_state *rs)
{
    mvt_job *j = arg;
    ts_err_clear(&rs->err);
    j->tr.tileset = j->tileset;
    rs->st = ts_pipeline_mvt(j->h->p, &j->tr, j->grid[0] ? j->grid : NULL, j->gzip, &rs->tile,
                             &rs->err);
    rs->encoding = rs->st == TS_OK && j->gzip && rs->tile->len > 0 ? "gzip" : NULL;
    free(j);
}

enum MHD_Result
ts_http__send_mvt(ts_http *h, struct MHD_Connection *c, req_state *rs, const ts_tile_req *tr,
                  const char *grid, int head)
{
    int gz = ts_http__accepts_gzip(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_tileset *ts = ts_service_tileset(svc, tr->tileset);
    int max_age = ts ? ts_http__tile_max_age(ts->cfg) : 3600;
    if (ts && ts_service_tileset_live(svc, ts))
        max_age = 0; /* live overlay: clients revalidate (ETag, 304) */
    int db = ts_service_tileset_uses_db(svc, ts);
    ts_service_unref(svc);
    static const char ctype[] = "application/vnd.mapbox-vector-tile";
    ts_tile *vt = ts_pipeline_mvt_cached(h->p, tr, grid, gz);
    if (vt != NULL)
        return ts_http__send_tile_enc(h, c, vt, ctype, max_age, head,
                                      gz && vt->len > 0 ? "gzip" : NULL, 1); /* consumes vt */
    mvt_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return ts_http__send_status(h, c, TS_ENOMEM, NULL);
    j->h = h;
    j->tr = *tr;
    snprintf(j->tileset, sizeof j->tileset, "%s", tr->tileset);
    snprintf(j->grid, sizeof j->grid, "%s", grid ? grid : "");
    j->gzip = gz;
    rs->max_age = max_age;
    rs->vary_encoding = 1;
    snprintf(rs->ctype, sizeof rs->ctype, "%s", ctype);
    return ts_http__offload_db(h, c, rs, mvt_job_run, j, db);
}

/* /tiles/{a},{b},{c}/{z}/{x}/{y}[@2x].png: the tilesets composited, base first. */
static enum MHD_Result
handle_composite(ts_http *h, struct MHD_Connection *c, req_state *rs, const ts_xyz_req *x,
                 int head)
{
    if (x->format != TS_FMT_PNG || x->grid[0])
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND,
                                  "composites of tilesets are PNG tiles of their first grid");
    ts_err err;
    ts_err_clear(&err);
    rs->cache = "pipeline";
    rs->max_age = 0;
    /* Suspend before asking: the composite may be answered before this returns. */
    ts_http__suspend(h, c, rs);
    ts_status st = ts_pipeline_request_composite(h->p, x->tileset, x->z, x->x, x->y, x->scale,
                                                 ts_http__tile_done, rs, &rs->max_age, &err);
    if (st != TS_OK) { /* answered from on_request once resumed, as a failed render */
        rs->st = st;
        rs->err = err;
        ts_http__resume(rs);
    }
    (void)head; /* on_request answers HEAD with the head only */
    return MHD_YES;
}

static enum MHD_Result
handle_tile(ts_http *h, struct MHD_Connection *c, req_state *rs, const ts_xyz_req *x, int head)
{
    if (strchr(x->tileset, ',') != NULL)
        return handle_composite(h, c, rs, x, head);
    ts_tile_req tr = {x->tileset, x->z, x->x, x->y, x->scale};
    const char *grid = x->grid[0] ? x->grid : NULL; /* /tiles/{tileset}/{grid}/{z}/{x}/{y} */
    ts_err err;
    ts_err_clear(&err);
    if (x->format != TS_FMT_PNG && x->scale != 1)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "vector tiles have no @2x");
    ts_status st = ts_pipeline_check_grid(h->p, &tr, grid, &err);
    if (st != TS_OK)
        return ts_http__send_status(h, c, st, &err);
    if (x->format != TS_FMT_PNG) /* .mvt / .pbf */
        return ts_http__send_mvt(h, c, rs, &tr, grid, head);
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_tileset *ts = ts_service_tileset(svc, x->tileset);
    rs->max_age = ts ? ts_http__tile_max_age(ts->cfg) : 3600;
    rs->expire_s = ts ? ts->cfg->cache.expire_s : 0;
    if (ts && ts_service_tileset_live(svc, ts))
        rs->max_age = 0; /* live overlay: clients revalidate (ETag, 304) */
    ts_service_unref(svc);
    ts_tile *t = ts_pipeline_lookup_grid(h->p, &tr, grid);
    rs->cache = t ? "memory" : "pipeline";
    if (t)
        return ts_http__send_tile(h, c, t, "image/png", ts_http__tile_lifetime(rs, t), head);
    /* Suspend before queueing: the render may finish before this function returns. */
    ts_http__suspend(h, c, rs);
    st = ts_pipeline_request_grid_stale(h->p, &tr, grid, ts_http__tile_done, rs, &rs->stale,
                                        &err);
    if (st != TS_OK) {
        rs->st = st;
        rs->err = err;
        ts_http__resume(rs);
    }
    return MHD_YES;
}

/* ---- documents -------------------------------------------------------------------------- */

void
ts_http__base_url(ts_http *h, struct MHD_Connection *c, char *buf, size_t size)
{
    if (h->public_url) {
        snprintf(buf, size, "%s", h->public_url);
        return;
    }
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    /* Only characters a host[:port] can have; anything else falls back to the bind address. */
    int ok = host && host[0] && strlen(host) < 200;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']';
    if (ok)
        snprintf(buf, size, "http://%s", host);
    else
        snprintf(buf, size, "http://%s:%d", h->o.host, h->port);
}

void
ts_http_note_reload(ts_http *h, int ok, const char *msg)
{
    pthread_mutex_lock(&h->mu);
    h->reload_ok = ok ? 1 : 0;
    h->reload_at = ts_wall_s();
    snprintf(h->reload_error, sizeof h->reload_error, "%s", ok || msg == NULL ? "" : msg);
    if (ok)
        h->reloads_ok++;
    else
        h->reloads_refused++;
    pthread_mutex_unlock(&h->mu);
}

static enum MHD_Result
handle_health(ts_http *h, struct MHD_Connection *c)
{
    ts_service *svc = ts_pipeline_service(h->p);
    ts_pipeline_probe_shared(h->p); /* a Redis that came back, on a node without misses */
    ts_pipeline_stats ps;
    ts_pipeline_stats_get(h->p, &ps);
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    /* a failing persistent cache (disk full, unwritable): still serving, tiles rendered
     * but not stored — "degraded", with the reason */
    /* feeds not ok (no data yet, failing loads, broker gone): "degraded" too */
    ts_buf fb;
    ts_buf_init(&fb, 1 << 20);
    int feeds_bad = h->o.live ? ts_live_health(h->o.live, &fb) : 0;
    ts_buf_printf(&b, "{\"status\":\"%s\",\"ready\":true,\"uptime_s\":%lld,\"generation\":%llu,"
                      "\"render_queue\":%d,\"cache\":{\"persist_ok\":%s,\"persist_error\":\"",
                  ps.persist_failing || ps.persist_suspended || ps.pg_failing || feeds_bad
                      ? "degraded"
                      : "ok",
                  (long long)(ts_wall_s() - h->started),
                  (unsigned long long)ts_service_generation(svc), ps.queued,
                  ps.persist_failing ? "false" : "true");
    ts_ows_json_escape(&b, ps.persist_failing ? ps.persist_error : "");
    /* tilesets whose files changed since the running configuration loaded (a reload was
     * refused, or none was asked for): served, their persistent cache not written */
    ts_buf_printf(&b, "\",\"suspended\":%d,\"suspended_tileset\":\"", ps.persist_suspended);
    ts_ows_json_escape(&b, ps.suspended_tileset);
    ts_buf_printf(&b, "\"}");
    /* per-request PostGIS layers whose latest query failed: "degraded" too */
    if (ps.pg_queries + ps.pg_errors > 0) {
        ts_buf_printf(&b, ",\"postgis\":{\"ok\":%s,\"queries\":%llu,\"errors\":%llu,\"error\":\"",
                      ps.pg_failing ? "false" : "true", (unsigned long long)ps.pg_queries,
                      (unsigned long long)ps.pg_errors);
        ts_ows_json_escape(&b, ps.pg_error);
        ts_buf_printf(&b, "\"}");
    }
    if (fb.len > 0)
        ts_buf_add(&b, fb.data, fb.len);
    ts_buf_fini(&fb);
    /* the latest reload: a refused one leaves the old configuration in service, which
     * monitoring should see (the file on disk is not what runs) */
    pthread_mutex_lock(&h->mu);
    int rok = h->reload_ok;
    int64_t rat = h->reload_at;
    char rerr[512];
    snprintf(rerr, sizeof rerr, "%s", h->reload_error);
    pthread_mutex_unlock(&h->mu);
    if (rok >= 0) {
        ts_buf_printf(&b, ",\"reload\":{\"ok\":%s,\"age_s\":%lld", rok ? "true" : "false",
                      (long long)(ts_wall_s() - rat));
        if (!rok) {
            ts_buf_printf(&b, ",\"error\":\"");
            ts_ows_json_escape(&b, rerr);
            ts_buf_printf(&b, "\"");
        }
        ts_buf_printf(&b, "}");
    }
    ts_buf_printf(&b, ",\"tilesets\":[");
    for (int i = 0; i < ts_service_ntilesets(svc); i++) {
        const ts_tileset *ts = ts_service_tileset_at(svc, i);
        ts_buf_printf(&b, "%s{\"name\":\"", i ? "," : "");
        ts_ows_json_escape(&b, ts->name);
        ts_buf_printf(&b, "\",\"layers\":%d}", ts->nlayers);
    }
    ts_status st = ts_buf_add(&b, "]}\n", 3);
    ts_service_unref(svc);
    enum MHD_Result r =
        st == TS_OK ? send_buf_cors(h, c, MHD_HTTP_OK, "application/json", b.data, b.len, 0)
                    : ts_http__send_status(h, c, st, NULL);
    ts_buf_fini(&b);
    return r;
}

static enum MHD_Result
handle_metrics(ts_http *h, struct MHD_Connection *c)
{
    ts_buf b;
    ts_buf_init(&b, 64u << 20);
    ts_status st = ts_http__metrics_write(h, &b);
    enum MHD_Result r =
        st == TS_OK ? send_buf_cors(h, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                    b.data, b.len, 0)
                    : ts_http__send_status(h, c, st, NULL);
    ts_buf_fini(&b);
    return r;
}

static const char *
mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".json") == 0)
        return "application/json";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    return "application/octet-stream";
}

/* Serve a file below web_root. Paths are restricted to [A-Za-z0-9_./-] without ".."; the
 * file must resolve (symbolic links followed) to a regular file below the real web root,
 * and is opened by that resolved name with O_NOFOLLOW. */
static enum MHD_Result
handle_static(ts_http *h, struct MHD_Connection *c, const char *url)
{
    if (h->web_root == NULL || h->web_root_real == NULL)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "not found");
    const char *rel = strcmp(url, "/") == 0 ? "/index.html" : url;
    if (strstr(rel, "..") || strlen(rel) > 200)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "not found");
    for (const char *p = rel; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '/' || *p == '-'))
            return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "not found");
    char path[512];
    snprintf(path, sizeof path, "%s%s", h->web_root_real, rel);
    char real[PATH_MAX];
    size_t rl = strlen(h->web_root_real);
    if (realpath(path, real) == NULL || strncmp(real, h->web_root_real, rl) != 0 ||
        real[rl] != '/')
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "not found");
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "not found");
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "not found");
    }
    /* validators from the file (its mtime in ns and size): a revalidation of the 250 KB
     * bundle is a 304, not the file again */
    char etag[64], lm[64];
    snprintf(etag, sizeof etag, "\"w%llx-%llx\"",
             (unsigned long long)sb.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)sb.st_mtim.tv_nsec,
             (unsigned long long)sb.st_size);
    http_date((int64_t)sb.st_mtim.tv_sec, lm, sizeof lm);
    /* the gzip body is another representation: its own validator (RFC 9110 8.8.3) */
    char gz_etag[72];
    snprintf(gz_etag, sizeof gz_etag, "%.*s-gz\"", (int)strlen(etag) - 1, etag);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    unsigned status = MHD_HTTP_OK;
    if (etag_matches(inm, etag) || etag_matches(inm, gz_etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
    } else if (inm == NULL) {
        int64_t ims = parse_http_date(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since"));
        if (ims >= 0 && (int64_t)sb.st_mtim.tv_sec <= ims)
            status = MHD_HTTP_NOT_MODIFIED;
    }
    /* text (the page, its script bundle, styles) gzipped for a client that takes it; a
     * 304 names the representation that client has */
    const char *mime = mime_of(path);
    int text = strncmp(mime, "text/", 5) == 0 || strstr(mime, "json") || strstr(mime, "svg");
    int want_gz = text && sb.st_size >= 1024 && sb.st_size <= ((off_t)8 << 20) &&
                  ts_http__accepts_gzip(
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    ts_buf gz;
    ts_buf_init(&gz, (size_t)32 << 20);
    int gzipped = want_gz && status == MHD_HTTP_OK && ts_http__static_gzip(real, &sb, fd, &gz);
    struct MHD_Response *r;
    size_t sent = (size_t)sb.st_size;
    if (gzipped) {
        close(fd);
        sent = gz.len;
        r = MHD_create_response_from_buffer(gz.len, gz.data, MHD_RESPMEM_MUST_COPY);
        ts_buf_fini(&gz);
        if (r == NULL)
            return MHD_NO;
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    } else {
        ts_buf_fini(&gz);
        r = MHD_create_response_from_fd((size_t)sb.st_size, fd);
        if (r == NULL) {
            close(fd);
            return MHD_NO;
        }
    }
    MHD_add_response_header(r, "Content-Type", mime);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "ETag",
                            gzipped || (want_gz && status != MHD_HTTP_OK) ? gz_etag : etag);
    MHD_add_response_header(r, "Last-Modified", lm);
    if (text)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    ts_http__common_headers(h, r);
    ts_http__note_bytes(c, status == MHD_HTTP_OK ? sent : 0);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- live feeds ------------------------------------------------------------------------- */

/* /sensors/{feed}.geojson: the latest value of every sensor of a running feed. */
static enum MHD_Result
handle_sensors(ts_http *h, struct MHD_Connection *c, const char *rest, int head)
{
    size_t n = strlen(rest);
    char name[64];
    if (n <= 8 || strcmp(rest + n - 8, ".geojson") != 0 || n - 8 >= sizeof name ||
        memchr(rest, '/', n) != NULL)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no such feed");
    memcpy(name, rest, n - 8);
    name[n - 8] = '\0';
    uint64_t gen = 0;
    ts_feed_snapshot *s = h->o.live ? ts_live_snapshot(h->o.live, name, &gen) : NULL;
    if (s == NULL)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no such feed");
    (void)gen;
    struct MHD_Response *r = NULL;
    unsigned status = MHD_HTTP_OK;
    ts_buf b;
    ts_buf_init(&b, 256u << 20);
    if (ts_feed_snapshot_geojson(s, &b) != TS_OK) {
        ts_feed_snapshot_unref(s);
        ts_buf_fini(&b);
        return ts_http__send_text(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  "cannot write the feed's GeoJSON");
    }
    /* the ETag is the document's content hash: the same on every node and across restarts
     * for the same states, never the same for different ones (a per-process snapshot
     * counter gave another node's different document a 304) */
    char etag[64];
    snprintf(etag, sizeof etag, "\"s%016llx\"",
             (unsigned long long)ts_hash_mix(ts_hash_bytes(0x9e3779b97f4a7c15ull, b.data, b.len)));
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (etag_matches(inm, etag))
        status = MHD_HTTP_NOT_MODIFIED;
    /* HEAD and 304 too: libmicrohttpd sends the head only, with the document's
     * Content-Length (a 304 may carry only that one, RFC 9110 8.6) */
    r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
    ts_http__note_bytes(c, head || status == MHD_HTTP_NOT_MODIFIED ? 0 : b.len);
    ts_feed_snapshot_unref(s);
    ts_buf_fini(&b);
    if (r == NULL)
        return MHD_NO;
    ts_http__common_headers(h, r);
    if (status == MHD_HTTP_OK)
        MHD_add_response_header(r, "Content-Type", "application/geo+json");
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* /events answer: the events after rs->ev_after (or a keep-alive comment), then the end of
 * the stream; EventSource clients reconnect after `retry` ms with Last-Event-ID, which
 * waits (suspended, no thread held) for the next event. */
static enum MHD_Result
send_events(ts_http *h, struct MHD_Connection *c, req_state *rs, int hello)
{
    ts_buf b;
    ts_buf_init(&b, 64u << 20);
    ts_buf_printf(&b, "retry: 250\n");
    if (hello) {
        ts_buf tmp;
        ts_buf_init(&tmp, 4096);
        uint64_t last = ts_live_events(h->o.live, UINT64_MAX, &tmp);
        ts_buf_fini(&tmp);
        ts_buf_printf(&b, "id: %s-%llu\nevent: hello\ndata: {\"last_event\":%llu}\n\n",
                      ts_live_epoch(h->o.live), (unsigned long long)last,
                      (unsigned long long)last);
    } else {
        size_t before = b.len;
        ts_live_events(h->o.live, rs->ev_after, &b);
        if (b.len == before)
            ts_buf_printf(&b, ": keep-alive\n\n");
    }
    struct MHD_Response *r = b.data ? MHD_create_response_from_buffer(b.len, b.data,
                                                                      MHD_RESPMEM_MUST_COPY)
                                    : NULL;
    ts_http__note_bytes(c, b.data ? b.len : 0);
    ts_buf_fini(&b);
    if (r == NULL)
        return MHD_NO;
    ts_http__common_headers(h, r);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void
events_wake(void *ud)
{
    ts_http__resume(ud);
}

static enum MHD_Result
handle_events(ts_http *h, struct MHD_Connection *c, req_state *rs, int head)
{
    if (h->o.live == NULL)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no live feeds");
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    if (id == NULL)
        id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    /* "<epoch>-<n>" of this run; a bare number only as ?since= (0: from the oldest held);
     * an id of another run or node waits for nothing: it gets the reset at once */
    char *end = NULL;
    const char *num = id;
    const char *ep = ts_live_epoch(h->o.live);
    size_t el = strlen(ep);
    int foreign = 0;
    if (id != NULL && strchr(id, '-') != NULL) {
        if (strncmp(id, ep, el) == 0 && id[el] == '-')
            num = id + el + 1;
        else
            foreign = 1;
    } else if (id != NULL && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID")) {
        foreign = 1; /* a bare number as Last-Event-ID: an id of an older release */
    }
    unsigned long long after = ULLONG_MAX; /* past the last: ts_live_events answers reset */
    if (!foreign) {
        after = num ? strtoull(num, &end, 10) : 0;
        if (head || id == NULL || end == num || *end != '\0')
            return send_events(h, c, rs, 1);
    } else if (head) {
        return send_events(h, c, rs, 1);
    }
    rs->ev_after = after;
    rs->kind = TS_HTTP_REQ_EVENTS;
    /* Suspend before registering: the wake may come at once. */
    ts_http__suspend(h, c, rs);
    if (!ts_live_events_wait(h->o.live, after, events_wake, rs)) {
        ts_http__resume(rs);
    }
    return MHD_YES;
}

/* ---- dispatch --------------------------------------------------------------------------- */

static enum MHD_Result
route(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url, int head)
{
    ts_err err;
    ts_err_clear(&err);
    if (strncmp(url, "/tiles/", 7) == 0) {
        const char *rest = url + 7;
        size_t n = strlen(rest);
        if (n > 5 && strcmp(rest + n - 5, ".json") == 0 && strchr(rest, '/') == NULL) {
            char name[TS_NAME_MAX];
            if (n - 5 >= sizeof name)
                return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no such tileset");
            memcpy(name, rest, n - 5);
            name[n - 5] = '\0';
            return ts_http__handle_tilejson(h, c, name);
        }
        ts_xyz_req x;
        ts_status st = ts_ows_parse_xyz(rest, &x, &err);
        if (st != TS_OK)
            return ts_http__send_status(h, c, st, &err);
        return handle_tile(h, c, rs, &x, head);
    }
    if (strcmp(url, "/tiles.json") == 0) /* the TileJSON of every Web Mercator tileset */
        return ts_http__handle_tilejson_index(h, c);
    enum MHD_Result r;
    if (ts_http__route_ogc(h, c, rs, url, head, &r))
        return r;
    if (strncmp(url, "/tms/1.0.0/", 11) == 0) {
        ts_xyz_req x;
        ts_status st = ts_ows_parse_tms(url + 11, &x, &err);
        if (st != TS_OK)
            return ts_http__send_status(h, c, st, &err);
        return handle_tile(h, c, rs, &x, head);
    }
    if (strncmp(url, "/styles/", 8) == 0) { /* MapLibre style of tilesets: {name}.json */
        size_t n = strlen(url + 8);
        char name[2048];
        static const struct {
            const char *tail;
            int ratio, png;
        } sprites[] = {{"/sprite.json", 1, 0}, {"/sprite.png", 1, 1},
                       {"/sprite@2x.json", 2, 0}, {"/sprite@2x.png", 2, 1}};
        for (size_t i = 0; i < sizeof sprites / sizeof *sprites; i++) {
            size_t tl = strlen(sprites[i].tail);
            if (n > tl && n - tl < sizeof name && strcmp(url + 8 + n - tl, sprites[i].tail) == 0) {
                memcpy(name, url + 8, n - tl);
                name[n - tl] = '\0';
                if (strchr(name, '/') != NULL)
                    break;
                return ts_http__handle_sprite(h, c, name, sprites[i].ratio, sprites[i].png, head);
            }
        }
        if (n <= 5 || n - 5 >= sizeof name || strcmp(url + 8 + n - 5, ".json") != 0 ||
            strchr(url + 8, '/') != NULL)
            return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND,
                                      "styles are /styles/{name}.json, their sprites "
                                      "/styles/{name}/sprite[@2x].json and .png");
        memcpy(name, url + 8, n - 5);
        name[n - 5] = '\0';
        return ts_http__handle_style(h, c, name, head);
    }
    if (strncmp(url, "/fonts", 6) == 0 && (url[6] == '/' || strcmp(url + 6, ".json") == 0))
        return ts_http__handle_fonts(h, c, rs, url + 6, head);
    if (strcmp(url, "/health") == 0)
        return handle_health(h, c);
    if (strcmp(url, "/metrics") == 0)
        return handle_metrics(h, c);
    if (strncmp(url, "/sensors/", 9) == 0)
        return handle_sensors(h, c, url + 9, head);
    if (strcmp(url, "/events") == 0)
        return handle_events(h, c, rs, head);
    return handle_static(h, c, url);
}

/* 1 if the request target as sent holds what no route takes: an encoded NUL (it would
 * cut the decoded path short), control characters or bytes outside ASCII. */
static int
target_bad(const char *uri)
{
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++) {
        if (*p < 0x21 || *p >= 0x7f)
            return 1;
        if (p[0] == '%' && p[1] == '0' && p[2] == '0')
            return 1;
    }
    return 0;
}

/* A request with a body: no route here reads one (admin POSTs take their arguments in the
 * query), and a body a proxy and this server would frame differently is how requests are
 * smuggled. */
static int
has_body(struct MHD_Connection *c)
{
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    return te != NULL || (cl != NULL && strcmp(cl, "0") != 0);
}

static enum MHD_Result
count_host(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    if (strcasecmp(key, "Host") == 0)
        ++*(int *)cls;
    return MHD_YES;
}

/* The number of Host header fields (two are a request smuggling trick: which one a proxy
 * and which one the server reads may differ). */
static int
host_count(struct MHD_Connection *c)
{
    int n = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_host, &n);
    return n;
}

/* The first call for a request (its head is complete): the limits. 1 with *ret set when
 * the request is refused (answered at once: libmicrohttpd then closes the connection,
 * which is what a refused request deserves), 0 when it may go on. */
static int
head_refused(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *version,
             enum MHD_Result *ret)
{
    char msg[96];
    const union MHD_ConnectionInfo *hs =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (rs->uri_len > h->max_url) {
        snprintf(msg, sizeof msg, "request target longer than %zu bytes", h->max_url);
        *ret = ts_http__send_text(h, c, MHD_HTTP_URI_TOO_LONG, msg);
    } else if (rs->uri && target_bad(rs->uri)) {
        *ret = ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST,
                                  "bad request target (encoded NUL, control or non-ASCII bytes)");
    } else if (hs && hs->header_size > h->max_header) {
        snprintf(msg, sizeof msg, "request head larger than %zu bytes", h->max_header);
        *ret = ts_http__send_text(h, c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, msg);
    } else if (version != NULL && strcmp(version, "HTTP/1.1") == 0 &&
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host") == NULL) {
        *ret = ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST,
                                  "an HTTP/1.1 request needs a Host header (RFC 9112 3.2)");
    } else if (host_count(c) > 1) {
        *ret = ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST,
                                  "more than one Host header (RFC 9112 3.2)");
    } else if (has_body(c)) {
        *ret = ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST,
                                  strcmp(rs->method, "GET") == 0 || strcmp(rs->method, "HEAD") == 0
                                      ? "a GET request carries no body"
                                      : "request bodies are not accepted");
    } else {
        return 0;
    }
    return 1;
}

/* The second call (the whole request is in): the routes. Answering here, not in the first
 * call, keeps the connection open for the next request (libmicrohttpd closes a connection
 * whose answer was queued before the request was complete). */
static enum MHD_Result
dispatch(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url,
         const char *method);


static enum MHD_Result
dispatch(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url,
         const char *method)
{
    if (strncmp(url, "/admin/", 7) == 0)
        return ts_http__handle_admin(h, c, rs, url, method);
    if (strcmp(method, "OPTIONS") == 0)
        return ts_http__preflight(h, c);
    int head = strcmp(method, "HEAD") == 0;
    if (strcmp(method, "GET") != 0 && !head)
        return ts_http__send_text(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    return route(h, c, rs, url, head);
}

static req_state *
req_new(ts_http *h, struct MHD_Connection *c, const char *uri)
{
    req_state *rs = calloc(1, sizeof *rs);
    if (rs == NULL)
        return NULL;
    rs->h = h;
    rs->conn = c;
    rs->t0_ns = ts_mono_ns();
    if (uri) {
        rs->uri_len = strlen(uri);
        rs->uri = strndup(uri, 2048);
    }
    ts_http__conn_track(c, rs);
    return rs;
}

/* Query arguments in a request target as libmicrohttpd splits them (at '&'; an empty one
 * counts: it may take a record too). */
static size_t
query_args(const char *uri)
{
    const char *q = strchr(uri, '?');
    if (q == NULL)
        return 0;
    size_t n = 1;
    for (q++; *q; q++)
        n += *q == '&';
    return n;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line has arrived; its target as sent (before
 * any decoding) starts the request's state. libmicrohttpd then stores each query argument
 * in the connection's memory pool, and one that does not fit leaves the connection hanging
 * without an answer (0.9.75): a target with more arguments than the pool is sized for is
 * answered here, before they are parsed. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    ts_http *h = cls;
    req_state *rs = req_new(h, c, uri);
    if (rs && uri && query_args(uri) > TS_HTTP_MAX_ARGS) {
        char msg[96];
        snprintf(msg, sizeof msg, "request target with more than %d query arguments",
                 TS_HTTP_MAX_ARGS);
        if (ts_http__conn_refuse(h, c, MHD_HTTP_URI_TOO_LONG, "URI Too Long", msg))
            rs->refused = MHD_HTTP_URI_TOO_LONG;
    }
    return rs;
}

/* The end of a request's state: access log, metrics, the in-flight count. */
static void
req_finish(ts_http *h, struct MHD_Connection *c, req_state *rs, int complete)
{
    ts_http__conn_track(c, NULL);
    size_t bytes = ts_http__conn_end(h, c);
    ts_http__access_log(h, c, rs, bytes, complete);
    const union MHD_ConnectionInfo *si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    unsigned status = rs->refused ? rs->refused : si ? si->http_status : 0;
    ts_http__metrics_request(h->metrics, rs->route, status, ts_mono_ns() - rs->t0_ns,
                             complete || rs->refused);
    ts_tile_unref(rs->tile);
    free(rs->uri);
    int counted = rs->begun;
    free(rs);
    if (counted)
        atomic_fetch_sub(&h->inflight, 1);
}

void
ts_http__req_abandon(ts_http *h, struct MHD_Connection *c, req_state *rs)
{
    req_finish(h, c, rs, 0);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)upload_data;
    ts_http *h = cls;
    req_state *rs = *con_cls;
    if (rs == NULL) {
        if ((rs = req_new(h, c, NULL)) == NULL)
            return MHD_NO;
        *con_cls = rs;
    }
    if (rs->refused)
        return MHD_NO; /* answered already (on_uri): close */
    if (!rs->begun) {
        /* in flight (a shutdown waits for it) once its head is whole: a client that sent
         * half a head and waits must not hold a restart for shutdown_timeout */
        rs->begun = 1;
        atomic_fetch_add(&h->inflight, 1);
        snprintf(rs->method, sizeof rs->method, "%s", method);
        rs->route = ts_http__route_class(c, url);
        ts_http__conn_begin(h, c);
        enum MHD_Result ret = MHD_YES;
        head_refused(h, c, rs, version, &ret);
        return ret;
    }
    if (*upload_size) {
        *upload_size = 0; /* drain a body we will not read */
        return MHD_YES;
    }
    if (!rs->routed) {
        rs->routed = 1;
        return dispatch(h, c, rs, url, method);
    }
    if (rs->waiting && rs->done && rs->kind == TS_HTTP_REQ_EVENTS) {
        rs->waiting = 0;
        return send_events(h, c, rs, 0);
    }
    if (rs->waiting && rs->done) {
        rs->waiting = 0;
        if (rs->st == TS_OK && rs->tile && rs->action) {
            /* an If-None-Match must not turn the report of a truncate or reload that ran
             * into a 304 (RFC 9110 13.1.2: a POST's conditions decide whether it runs) */
            struct MHD_Response *r = MHD_create_response_from_buffer(
                rs->tile->len, (void *)rs->tile->data, MHD_RESPMEM_MUST_COPY);
            if (r == NULL)
                return MHD_NO;
            MHD_add_response_header(r, "Content-Type", rs->ctype[0] ? rs->ctype : "text/plain");
            MHD_add_response_header(r, "Cache-Control", "no-store");
            MHD_add_response_header(r, "Server", "tilesrv/" TS_VERSION);
            ts_http__note_bytes(c, rs->tile->len);
            enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (rs->st == TS_OK && rs->tile) {
            ts_tile *t = rs->tile;
            rs->tile = NULL;
            /* a stale tile (re-rendering now) is no-cache: the client asks again, and gets
             * a 304 until the new one is there (it had kept the old one max_age long) */
            return ts_http__send_tile_enc(h, c, t, rs->ctype[0] ? rs->ctype : "image/png",
                                          rs->stale ? 0 : ts_http__tile_lifetime(rs, t),
                                          strcmp(method, "HEAD") == 0, rs->encoding,
                                          rs->vary_encoding);
        }
        if (rs->kind != TS_HTTP_REQ_TILE)
            return ts_http__ogc_failed(h, c, rs);
        if (rs->action) /* an admin failure: for the operator, not for other origins */
            return ts_http__send_text_private(
                h, c, (unsigned)ts_status_http(rs->st),
                rs->err.msg[0] ? rs->err.msg : ts_status_text(rs->st));
        return ts_http__send_status(h, c, rs->st, &rs->err);
    }
    return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    ts_http *h = cls;
    req_state *rs = *con_cls;
    if (rs == NULL)
        return;
    *con_cls = NULL;
    req_finish(h, c, rs, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    ts_debug("http: %s", buf);
}

static void
http_free(ts_http *h)
{
    ts_http__log_close(h);
    pthread_mutex_destroy(&h->log_mu);
    pthread_mutex_destroy(&h->mu);
    free((char *)h->o.host);
    free(h->cors);
    free(h->public_url);
    free(h->web_root);
    free(h->web_root_real);
    if (h->admin_token) {
        explicit_bzero(h->admin_token, strlen(h->admin_token));
        free(h->admin_token);
    }
    free(h->allow);
    ts_http__metrics_free(h->metrics);
    free(h);
}

ts_http *
ts_http_start(ts_pipeline *p, const ts_http_opts *o, ts_err *err)
{
    ts_http *h = calloc(1, sizeof *h);
    if (h != NULL)
        h->quiesced_fd = MHD_INVALID_SOCKET;
    if (h == NULL) {
        TS_FAIL(err, TS_ENOMEM, "http");
        return NULL;
    }
    h->p = p;
    h->o = *o;
    h->o.admin = NULL; /* copied below */
    h->o.access_log = NULL;
    h->o.host = o->host ? strdup(o->host) : strdup("127.0.0.1");
    h->cors = o->cors_origin ? strdup(o->cors_origin) : NULL;
    h->public_url = o->public_url && o->public_url[0] ? strdup(o->public_url) : NULL;
    h->web_root = o->web_root ? strdup(o->web_root) : NULL;
    h->web_root_real = o->web_root ? realpath(o->web_root, NULL) : NULL;
    h->started = ts_wall_s();
    h->max_url = (size_t)(o->max_url_bytes > 0 ? o->max_url_bytes : 8192);
    h->max_header = (size_t)(o->max_header_bytes > 0 ? o->max_header_bytes : 16384);
    h->conn_timeout_s = o->connection_timeout_s > 0 ? o->connection_timeout_s : 30;
    h->max_render_ms = o->max_render_ms > 0 ? o->max_render_ms : 0;
    atomic_init(&h->suspended, 0);
    atomic_init(&h->inflight, 0);
    atomic_init(&h->tickets, 0);
    atomic_init(&h->stopping, 0);
    h->reload_ok = -1;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->log_mu, NULL);
    if (o->admin && o->admin->enabled) {
        h->admin_on = 1;
        if (o->admin->token && (h->admin_token = strdup(o->admin->token)) == NULL) {
            TS_FAIL(err, TS_ENOMEM, "http");
            goto fail;
        }
        if (o->admin->nallow > 0) {
            h->allow = calloc((size_t)o->admin->nallow, sizeof *h->allow);
            if (h->allow == NULL) {
                TS_FAIL(err, TS_ENOMEM, "http");
                goto fail;
            }
            memcpy(h->allow, o->admin->allow, (size_t)o->admin->nallow * sizeof *h->allow);
            h->nallow = o->admin->nallow;
        }
    }
    if (ts_http__log_open(h, o->access_log, err) != TS_OK)
        goto fail;
    if ((h->metrics = ts_http__metrics_new()) == NULL) {
        TS_FAIL(err, TS_ENOMEM, "http");
        goto fail;
    }

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (strchr(h->o.host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET6, h->o.host, &a6->sin6_addr) != 1) {
            TS_FAIL(err, TS_ECONFIG, "cannot parse listen address %s", h->o.host);
            goto fail;
        }
        flags |= MHD_USE_IPv6;
        if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
            flags |= MHD_USE_DUAL_STACK; /* "[::]": IPv4 clients too, as nginx's ipv6only=off */
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET, h->o.host, &a4->sin_addr) != 1) {
            TS_FAIL(err, TS_ECONFIG, "cannot parse listen address %s (use an IP address)",
                    h->o.host);
            goto fail;
        }
    }
    if (ts_http__guard_start(h, err) != TS_OK)
        goto fail;
    /* Per-connection memory: the request head (the URL is part of it, up to max_header
     * bytes), a record of up to 64 bytes per query argument (TS_HTTP_MAX_ARGS at most, see
     * on_uri) and the response's header fields; a head that does not fit is refused by MHD.
     * No more than that: MHD clears the whole pool before each request of a keep-alive
     * connection, so its size is paid on every cached tile served. */
    size_t mem = h->max_header + 8192 + (size_t)TS_HTTP_MAX_ARGS * 64;
    if (mem < 16384)
        mem = 16384;
    h->d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(o->threads > 0 ? o->threads : 2), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(o->max_connections > 0 ? o->max_connections : 1024),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)(o->max_connections_per_ip > 0 ? o->max_connections_per_ip : 64),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_NOTIFY_CONNECTION, ts_http__on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
    if (h->d == NULL) {
        /* MHD does not say why: bind a socket of our own to the address to learn it */
        const char *why = "address in use or not permitted";
        char ebuf[128];
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            socklen_t len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                     : sizeof(struct sockaddr_in);
            int e = bind(fd, (struct sockaddr *)&ss, len) != 0 ? errno : 0;
            if (e != 0 && strerror_r(e, ebuf, sizeof ebuf) != 0)
                snprintf(ebuf, sizeof ebuf, "error %d", e);
            if (e != 0)
                why = e == EADDRINUSE    ? "the port is in use by another program"
                      : e == EACCES      ? "permission denied: ports below 1024 need root "
                                           "or CAP_NET_BIND_SERVICE"
                      : e == EADDRNOTAVAIL ? "no interface of this host has that address"
                                           : ebuf;
            close(fd);
        }
        TS_FAIL(err, TS_EIO, "cannot listen on %s:%d: %s", h->o.host, o->port, why);
        ts_http__guard_stop(h);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : o->port;
    return h;
fail:
    http_free(h);
    return NULL;
}

int
ts_http_port(const ts_http *h)
{
    return h->port;
}

/* Stop listening: new connections are refused from now on. */
static void
stop_listening(ts_http *h)
{
    /* shut down now (new connections are refused), closed once the daemon has stopped:
     * its workers may still be taking the socket out of their epoll sets, and a close
     * here let the number be reused under them */
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        shutdown(fd, SHUT_RDWR);
    h->quiesced_fd = fd;
    if (h->o.live)
        ts_live_events_stop(h->o.live); /* resumes the /events clients waiting */
}

static void
finish(ts_http *h)
{
    /* Renders in flight resume their connections from render threads, and renders past
     * their deadline still call back: the daemon and h must outlive every one of them (a
     * render always finishes, with a tile or an error). */
    for (int i = 1; atomic_load(&h->suspended) > 0 || atomic_load(&h->tickets) > 0; i++) {
        usleep(10000);
        if (i % 500 == 0)
            ts_info("stopping: waiting for %d renders in flight",
                    atomic_load(&h->suspended) + atomic_load(&h->tickets));
    }
    MHD_stop_daemon(h->d);
    if (h->quiesced_fd != MHD_INVALID_SOCKET)
        close(h->quiesced_fd);
    ts_http__guard_stop(h);
    http_free(h);
}

void
ts_http_stop(ts_http *h)
{
    if (h == NULL)
        return;
    stop_listening(h);
    finish(h);
}

int
ts_http_shutdown(ts_http *h, int timeout_ms)
{
    if (h == NULL)
        return 0;
    atomic_store(&h->stopping, 1);
    stop_listening(h);
    /* every request begun is answered and its response sent (or the client went away) */
    uint64_t deadline = ts_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
    while (atomic_load(&h->inflight) > 0 && ts_mono_ns() < deadline)
        usleep(5000);
    int left = atomic_load(&h->inflight);
    if (left > 0)
        ts_warn("stopping: %d requests still in flight after %d ms: cut off", left, timeout_ms);
    finish(h);
    return left;
}
