/* http/guard.c — what keeps the server in hand on the open internet: the connection
 * watchdog (request heads that take too long: slowloris), deadlines of WMS renders, the
 * structured access log, CORS preflight and the admin endpoints (bearer token compared in
 * constant time, IP allow-list). */
#include "http/http.h"

#include "http/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/redact.h"

/* ---- connections ------------------------------------------------------------------------ */

/* A connection answered by ts_http__conn_refuse is shut down this long after: time for the
 * client to read the answer before the rest of its request is thrown away. */
#define REFUSED_LINGER_NS (1000000000ull)

struct conn_state {
    struct MHD_Connection *conn;
    int fd;
    uint64_t idle_since_ns; /* opened, or its previous request completed */
    int in_request;         /* a request head is complete and its handling under way */
    int cut;                /* shut down by the watchdog */
    uint64_t cut_at_ns;     /* refused by ts_http__conn_refuse: shut down from then (0: not) */
    req_state *rs;          /* the request under way, from its request line to its end */
    size_t bytes;           /* body bytes of the response queued for the current request */
    conn_state *prev, *next;
};

static conn_state *
conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void
ts_http__on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    ts_http *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_state *cs = calloc(1, sizeof *cs);
        if (cs == NULL)
            return; /* not watched: MHD's idle timeout still applies */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cs->conn = c;
        cs->fd = ci ? ci->connect_fd : -1;
        cs->idle_since_ns = ts_mono_ns();
        pthread_mutex_lock(&h->mu);
        cs->next = h->conns;
        if (h->conns)
            h->conns->prev = cs;
        h->conns = cs;
        pthread_mutex_unlock(&h->mu);
        *socket_context = cs;
        return;
    }
    conn_state *cs = *socket_context;
    if (cs == NULL)
        return;
    /* a request libmicrohttpd never completed (it gives up on some malformed heads without
     * telling the application): its state is finished here, not leaked */
    if (cs->rs != NULL) {
        req_state *rs = cs->rs;
        cs->rs = NULL;
        ts_http__req_abandon(h, c, rs);
    }
    /* unlinked before MHD closes the socket: the watchdog never shuts down a reused fd */
    pthread_mutex_lock(&h->mu);
    if (cs->prev)
        cs->prev->next = cs->next;
    else
        h->conns = cs->next;
    if (cs->next)
        cs->next->prev = cs->prev;
    pthread_mutex_unlock(&h->mu);
    free(cs);
    *socket_context = NULL;
}

void
ts_http__conn_track(struct MHD_Connection *c, req_state *rs)
{
    conn_state *cs = conn_of(c);
    if (cs)
        cs->rs = rs; /* only this connection's thread reads or writes it */
}

int
ts_http__conn_refuse(ts_http *h, struct MHD_Connection *c, unsigned status, const char *reason,
                     const char *msg)
{
    conn_state *cs = conn_of(c);
    if (cs == NULL || cs->fd < 0)
        return 0;
    char buf[512];
    int body = (int)strlen(msg) + 1;
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %u %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n"
                     "\r\n%s\n",
                     status, reason, body, msg);
    if (n <= 0 || (size_t)n >= sizeof buf)
        return 0;
    /* the head is short and nothing else is being written on this connection: it fits in
     * the socket's send buffer at once */
    if (send(cs->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
        return 0;
    shutdown(cs->fd, SHUT_WR);
    pthread_mutex_lock(&h->mu);
    cs->cut_at_ns = ts_mono_ns() + REFUSED_LINGER_NS;
    pthread_mutex_unlock(&h->mu);
    return 1;
}

void
ts_http__conn_begin(ts_http *h, struct MHD_Connection *c)
{
    conn_state *cs = conn_of(c);
    if (cs == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    cs->in_request = 1;
    cs->bytes = 0;
    pthread_mutex_unlock(&h->mu);
}

size_t
ts_http__conn_end(ts_http *h, struct MHD_Connection *c)
{
    conn_state *cs = conn_of(c);
    if (cs == NULL)
        return 0;
    pthread_mutex_lock(&h->mu);
    size_t bytes = cs->bytes;
    cs->in_request = 0;
    cs->bytes = 0;
    cs->idle_since_ns = ts_mono_ns();
    pthread_mutex_unlock(&h->mu);
    return bytes;
}

void
ts_http__note_bytes(struct MHD_Connection *c, size_t n)
{
    conn_state *cs = conn_of(c);
    if (cs)
        cs->bytes = n; /* only this connection's thread writes it while in_request */
}

/* ---- render deadlines ------------------------------------------------------------------- */

struct ts_http_ticket {
    ts_http *h;
    req_state *rs;          /* NULL once answered at its deadline */
    uint64_t deadline_ns;
    ts_http_ticket *prev, *next; /* in h->timed while rs != NULL */
};

static void
ticket_unlink(ts_http *h, ts_http_ticket *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        h->timed = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

ts_http_ticket *
ts_http__ticket_new(ts_http *h, req_state *rs)
{
    if (h->max_render_ms <= 0)
        return NULL;
    ts_http_ticket *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->h = h;
    t->rs = rs;
    t->deadline_ns = ts_mono_ns() + (uint64_t)h->max_render_ms * 1000000u;
    atomic_fetch_add(&h->tickets, 1);
    pthread_mutex_lock(&h->mu);
    t->next = h->timed;
    if (h->timed)
        h->timed->prev = t;
    h->timed = t;
    pthread_mutex_unlock(&h->mu);
    return t;
}

void
ts_http__ticket_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err)
{
    ts_http_ticket *t = ud;
    ts_http *h = t->h;
    pthread_mutex_lock(&h->mu);
    req_state *rs = t->rs;
    if (rs)
        ticket_unlink(h, t);
    t->rs = NULL;
    pthread_mutex_unlock(&h->mu);
    free(t);
    if (rs)
        ts_http__tile_done(rs, st, tile, err);
    else
        ts_tile_unref(tile); /* its client was answered at the deadline */
    atomic_fetch_sub(&h->tickets, 1); /* last: ts_http_stop waits for this */
}

int
ts_http__ticket_drop(ts_http_ticket *t)
{
    ts_http *h = t->h;
    pthread_mutex_lock(&h->mu);
    int owned = t->rs != NULL;
    if (owned)
        ticket_unlink(h, t);
    pthread_mutex_unlock(&h->mu);
    free(t);
    atomic_fetch_sub(&h->tickets, 1);
    return owned;
}

/* Under h->mu: detach t's request and mark it answered with TS_ELIMIT; the caller resumes
 * its connection after unlocking (no MHD call is made under h->mu). rs stays valid: its
 * connection is suspended until then, and the render's callback no longer sees it. */
static req_state *
ticket_expire(ts_http *h, ts_http_ticket *t)
{
    req_state *rs = t->rs;
    ticket_unlink(h, t);
    t->rs = NULL;
    rs->st = TS_ELIMIT;
    ts_err_clear(&rs->err);
    TS_FAIL(&rs->err, TS_ELIMIT, "the map took longer than the render time limit of %d ms",
            h->max_render_ms);
    rs->timed_out = 1;
    rs->done = 1;
    return rs;
}

/* ---- watchdog --------------------------------------------------------------------------- */

static void *
watchdog_main(void *arg)
{
    ts_http *h = arg;
    uint64_t head_ns = (uint64_t)h->conn_timeout_s * 1000000000u;
    pthread_mutex_lock(&h->mu);
    while (!h->quit) {
        uint64_t now = ts_mono_ns();
        for (conn_state *cs = h->conns; cs; cs = cs->next) {
            if (cs->cut_at_ns != 0 && !cs->cut && cs->fd >= 0 && now >= cs->cut_at_ns) {
                shutdown(cs->fd, SHUT_RDWR); /* refused: the client has had its answer */
                cs->cut = 1;
                continue;
            }
            if (!cs->in_request && !cs->cut && cs->fd >= 0 && now - cs->idle_since_ns > head_ns) {
                /* MHD sees the socket end and closes the connection on its own thread */
                shutdown(cs->fd, SHUT_RDWR);
                cs->cut = 1;
                ts_debug("http: connection cut: no complete request head in %d s",
                         h->conn_timeout_s);
            }
        }
        req_state *expired[64];
        int nexp = 0;
        for (ts_http_ticket *t = h->timed, *next; t && nexp < 64; t = next) {
            next = t->next;
            if (now >= t->deadline_ns)
                expired[nexp++] = ticket_expire(h, t);
        }
        if (nexp > 0) {
            pthread_mutex_unlock(&h->mu);
            for (int i = 0; i < nexp; i++) {
                MHD_resume_connection(expired[i]->conn);
                atomic_fetch_sub(&h->suspended, 1);
            }
            pthread_mutex_lock(&h->mu);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 100 * 1000000L; /* 0.1 s: the granularity of both limits */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

ts_status
ts_http__guard_start(ts_http *h, ts_err *err)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return TS_FAIL(err, TS_ENOMEM, "http: condition variable");
    if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
        pthread_cond_destroy(&h->cv);
        return TS_FAIL(err, TS_ENOMEM, "http: cannot start the connection watchdog");
    }
    h->watchdog_on = 1;
    return TS_OK;
}

void
ts_http__guard_stop(ts_http *h)
{
    if (!h->watchdog_on)
        return;
    pthread_mutex_lock(&h->mu);
    h->quit = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->watchdog, NULL);
    pthread_cond_destroy(&h->cv);
    h->watchdog_on = 0;
}

/* ---- access log ------------------------------------------------------------------------- */

ts_status
ts_http__log_open(ts_http *h, const char *spec, ts_err *err)
{
    if (spec == NULL || spec[0] == '\0')
        return TS_OK;
    if (strcmp(spec, "-") == 0) {
        h->log = stderr;
        return TS_OK;
    }
    h->log_path = strdup(spec);
    if (h->log_path == NULL)
        return TS_FAIL(err, TS_ENOMEM, "http: access log");
    h->log = fopen(spec, "ae");
    if (h->log == NULL) {
        int e = errno;
        char eb[128];
        if (strerror_r(e, eb, sizeof eb) != 0)
            snprintf(eb, sizeof eb, "error %d", e);
        return TS_FAIL(err, TS_EIO, "cannot open the access log %s: %s", spec, eb);
    }
    return TS_OK;
}

void
ts_http__log_close(ts_http *h)
{
    if (h->log && h->log != stderr)
        fclose(h->log);
    h->log = NULL;
    free(h->log_path);
    h->log_path = NULL;
}

void
ts_http_reopen_log(ts_http *h)
{
    if (h == NULL || h->log_path == NULL)
        return;
    pthread_mutex_lock(&h->log_mu);
    FILE *f = fopen(h->log_path, "ae");
    if (f == NULL) {
        ts_error("cannot reopen the access log %s: keeping the old file", h->log_path);
    } else {
        if (h->log)
            fclose(h->log);
        h->log = f;
    }
    pthread_mutex_unlock(&h->log_mu);
}

/* s as the inside of a JSON string: quotes, backslashes, control characters and bytes
 * outside ASCII escaped (the request target is logged as sent, whatever it holds). */
static void
json_str(ts_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            ts_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            ts_buf_printf(b, "\\u00%c%c", hex[*p >> 4], hex[*p & 15]);
        else
            ts_buf_add(b, p, 1);
    }
}

static void
client_ip(struct MHD_Connection *c, char *buf, size_t size)
{
    snprintf(buf, size, "-");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)size);
}

void
ts_http__access_log(ts_http *h, struct MHD_Connection *c, const req_state *rs, size_t bytes,
                    int complete)
{
    if (h->log == NULL)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char when[80], ip[INET6_ADDRSTRLEN + 1];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             now.tv_nsec / 1000000L);
    client_ip(c, ip, sizeof ip);
    const union MHD_ConnectionInfo *si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    unsigned status = rs->refused ? rs->refused : si ? si->http_status : 0;
    ts_buf b;
    ts_buf_init(&b, 8192);
    ts_buf_printf(&b, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":\"", when, ip);
    json_str(&b, rs->method[0] ? rs->method : "-");
    ts_buf_printf(&b, "\",\"path\":\"");
    /* as sent, but for the values of secret-looking query keys (api_key=***): a client's
     * key has no place in a log file others read */
    char path[2100];
    snprintf(path, sizeof path, "%s", rs->uri ? rs->uri : "");
    ts_redact_secrets(path, sizeof path);
    json_str(&b, path);
    if (rs->uri && rs->uri_len > strlen(rs->uri))
        ts_buf_printf(&b, "...");
    ts_buf_printf(&b,
                  "\",\"status\":%u,\"bytes\":%zu,\"duration_us\":%llu,\"cache\":%s%s%s,"
                  "\"complete\":%s}\n",
                  status, complete ? bytes : (size_t)0,
                  (unsigned long long)((ts_mono_ns() - rs->t0_ns) / 1000u),
                  rs->cache ? "\"" : "", rs->cache ? rs->cache : "null", rs->cache ? "\"" : "",
                  complete ? "true" : "false");
    if (b.data) {
        pthread_mutex_lock(&h->log_mu);
        if (h->log) {
            fwrite(b.data, 1, b.len, h->log);
            fflush(h->log);
        }
        pthread_mutex_unlock(&h->log_mu);
    }
    ts_buf_fini(&b);
}

/* ---- CORS preflight --------------------------------------------------------------------- */

enum MHD_Result
ts_http__preflight(ts_http *h, struct MHD_Connection *c)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    ts_http__common_headers(h, r); /* Access-Control-Allow-Origin when CORS is on */
    MHD_add_response_header(r, "Allow", "GET, HEAD, OPTIONS");
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (h->cors && h->cors[0] && origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        /* echo the requested headers when they are plain header names, else a fixed list */
        const char *want =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
        int ok = want != NULL && strlen(want) <= 256;
        for (const char *p = want; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '-' || *p == ',' || *p == ' ';
        MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                ok ? want : "If-None-Match, Last-Event-ID");
        MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
        if (strcmp(h->cors, "*") != 0)
            MHD_add_response_header(r, "Vary", "Origin");
    }
    ts_http__note_bytes(c, 0);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- admin endpoints -------------------------------------------------------------------- */

/* Equal strings, in time that depends on the length of want only. */
static int
token_equal(const char *given, const char *want)
{
    size_t gl = strlen(given), wl = strlen(want);
    unsigned char d = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        d |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return d == 0;
}

static int
cidr_match(const ts_cfg_cidr *n, int family, const uint8_t *a)
{
    if (n->family != family)
        return 0;
    int full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(n->addr, a, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (n->addr[full] & mask) == (a[full] & mask);
}

/* The arguments of POST /admin/truncate: the first unknown or repeated one into bad. */
typedef struct admin_args {
    int seen[3];
    char bad[64];
} admin_args;

static enum MHD_Result
admin_arg_check(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    admin_args *a = cls;
    static const char *const known[3] = {"tileset", "zoom", "bbox"};
    for (int i = 0; i < 3; i++)
        if (strcmp(key, known[i]) == 0) {
            if (a->seen[i]++ == 0)
                return MHD_YES;
            break;
        }
    if (a->bad[0] == '\0')
        snprintf(a->bad, sizeof a->bad, "%s", key);
    return MHD_YES;
}

static int
client_allowed(const ts_http *h, struct MHD_Connection *c)
{
    if (h->nallow == 0)
        return 1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return 0;
    const struct sockaddr *sa = ci->client_addr;
    uint8_t a[16];
    int family;
    if (sa->sa_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(a, a6->s6_addr + 12, 4);
            family = AF_INET;
        } else {
            memcpy(a, a6->s6_addr, 16);
            family = AF_INET6;
        }
    } else {
        return 0;
    }
    for (int i = 0; i < h->nallow; i++)
        if (cidr_match(&h->allow[i], family, a))
            return 1;
    return 0;
}

static enum MHD_Result
admin_refuse(ts_http *h, struct MHD_Connection *c, unsigned status, const char *msg)
{
    /* refusals at warn level (docs/operations.md), with who asked: one line per 10 s, with
     * the number of those not logged (a client hammering the endpoint floods no log) */
    static ts_log_gate gate;
    unsigned long held;
    if (ts_log_gate_pass(&gate, 10, &held)) {
        char ip[INET6_ADDRSTRLEN + 1];
        client_ip(c, ip, sizeof ip);
        char more[64] = "";
        if (held > 0)
            snprintf(more, sizeof more, " (and %lu more refusals since the last line)", held);
        ts_warn("admin: request refused (%u %.*s) from %s%s", status, (int)strcspn(msg, "\n"),
                msg, ip, more);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Server", "tilesrv/" TS_VERSION);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"tilesrv admin\"");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "POST");
    ts_http__note_bytes(c, strlen(msg));
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A reload or a truncate, run off the server thread (ts_http__offload): loading a new
 * configuration takes seconds, and the connections of the thread that took the request
 * (health probes among them) would wait for it. */
typedef struct admin_job {
    ts_http *h;
    int truncate;
    char tileset[TS_NAME_MAX + 1], zoom[32], bbox[256];
    int has_zoom, has_bbox;
} admin_job;

static void
admin_job_run(void *arg, req_state *rs)
{
    admin_job *j = arg;
    ts_http *h = j->h;
    ts_err_clear(&rs->err);
    rs->kind = TS_HTTP_REQ_TILE; /* failures as plain text */
    rs->action = 1;
    rs->max_age = 0;
    snprintf(rs->ctype, sizeof rs->ctype, "application/json");
    ts_buf b;
    ts_buf_init(&b, 4096);
    if (!j->truncate) {
        rs->st = h->o.admin_ops.reload(h->o.admin_ops.ud, &rs->err);
        if (rs->st != TS_OK)
            rs->st = TS_ECONFIG;
        else
            ts_buf_printf(&b, "{\"reloaded\":true}\n");
    } else {
        uint64_t removed = 0;
        rs->st = h->o.admin_ops.truncate(h->o.admin_ops.ud, j->tileset,
                                         j->has_zoom ? j->zoom : NULL,
                                         j->has_bbox ? j->bbox : NULL, &removed, &rs->err);
        if (rs->st == TS_OK) {
            ts_buf_printf(&b, "{\"tileset\":\"");
            json_str(&b, j->tileset);
            ts_buf_printf(&b, "\",\"removed\":%llu}\n", (unsigned long long)removed);
        }
    }
    if (rs->st == TS_OK) {
        rs->tile = b.data ? ts_tile_new(b.data, b.len, ts_wall_s()) : NULL;
        if (rs->tile == NULL)
            rs->st = TS_FAIL(&rs->err, TS_ENOMEM, "admin answer");
    }
    ts_buf_fini(&b);
    free(j);
}

enum MHD_Result
ts_http__handle_admin(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *url,
                      const char *method)
{
    if (!h->admin_on)
        return ts_http__send_text_private(h, c, MHD_HTTP_NOT_FOUND, "not found");
    char ip[INET6_ADDRSTRLEN + 1];
    client_ip(c, ip, sizeof ip);
    if (!client_allowed(h, c))
        return admin_refuse(h, c, MHD_HTTP_FORBIDDEN, "forbidden: not in server.admin.allow\n");
    if (h->admin_token) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
            return admin_refuse(h, c, MHD_HTTP_UNAUTHORIZED, "bearer token required\n");
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        if (*tok == '\0')
            return admin_refuse(h, c, MHD_HTTP_UNAUTHORIZED, "bearer token required\n");
        if (!token_equal(tok, h->admin_token)) {
            return admin_refuse(h, c, MHD_HTTP_FORBIDDEN, "forbidden: wrong token\n");
        }
    }
    /* Browsers send Origin on cross-site requests: a page must not drive the admin API of a
     * server on the visitor's network (the allow-list alone cannot tell). */
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin") != NULL)
        return admin_refuse(h, c, MHD_HTTP_FORBIDDEN, "admin requests from browsers are refused\n");
    if (strcmp(method, "POST") != 0)
        return admin_refuse(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST\n");
    if (strcmp(url, "/admin/reload") == 0) {
        if (h->o.admin_ops.reload == NULL)
            return ts_http__send_text_private(h, c, MHD_HTTP_NOT_IMPLEMENTED,
                                              "reload not available");
        ts_info("admin: reload requested by %s", ip);
        admin_job *j = calloc(1, sizeof *j);
        if (j == NULL)
            return ts_http__send_text_private(h, c, 500, "out of memory");
        j->h = h;
        return ts_http__offload(h, c, rs, admin_job_run, j);
    }
    if (strcmp(url, "/admin/truncate") == 0) {
        if (h->o.admin_ops.truncate == NULL)
            return ts_http__send_text_private(h, c, MHD_HTTP_NOT_IMPLEMENTED,
                                              "truncate not available");
        /* a destructive request does only what it says: an unknown or repeated argument (a
         * typo such as zooom=17) is refused, not ignored into "every zoom, everywhere" */
        admin_args aa = {0};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, admin_arg_check, &aa);
        if (aa.bad[0]) {
            char msg[160];
            snprintf(msg, sizeof msg, "truncate takes tileset, zoom and bbox once each; refused: "
                     "'%.60s'", aa.bad);
            ts_warn("admin: truncate refused (%s) from %s", msg, ip);
            return ts_http__send_text_private(h, c, MHD_HTTP_BAD_REQUEST, msg);
        }
        const char *tileset = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tileset");
        const char *zoom = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "zoom");
        const char *bbox = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "bbox");
        if (tileset == NULL || tileset[0] == '\0')
            return ts_http__send_text_private(h, c, MHD_HTTP_BAD_REQUEST,
                                              "truncate needs tileset=NAME");
        if (zoom && zoom[0] == '\0')
            zoom = NULL;
        if (bbox && bbox[0] == '\0')
            bbox = NULL;
        ts_info("admin: truncate tileset=%.64s zoom=%.16s bbox=%.128s requested by %s", tileset,
                zoom ? zoom : "all", bbox ? bbox : "all", ip);
        admin_job *j = calloc(1, sizeof *j);
        if (j == NULL)
            return ts_http__send_text_private(h, c, 500, "out of memory");
        if (strlen(tileset) >= sizeof j->tileset || (zoom && strlen(zoom) >= sizeof j->zoom) ||
            (bbox && strlen(bbox) >= sizeof j->bbox)) {
            free(j);
            return ts_http__send_text_private(h, c, MHD_HTTP_BAD_REQUEST,
                                              "truncate: tileset, zoom or bbox too long");
        }
        j->h = h;
        j->truncate = 1;
        snprintf(j->tileset, sizeof j->tileset, "%s", tileset);
        j->has_zoom = zoom != NULL;
        j->has_bbox = bbox != NULL;
        snprintf(j->zoom, sizeof j->zoom, "%s", zoom ? zoom : "");
        snprintf(j->bbox, sizeof j->bbox, "%s", bbox ? bbox : "");
        return ts_http__offload(h, c, rs, admin_job_run, j);
    }
    return ts_http__send_text_private(h, c, MHD_HTTP_NOT_FOUND, "no such admin endpoint");
}
