/* main/cmd_serve.c — `tilesrv serve`: load, serve, reload on SIGHUP (or POST /admin/reload),
 * truncate caches on POST /admin/truncate, stop gracefully on SIGINT/TERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "main/cli.h"
#include "seed/seed.h"
#include "util/log.h"

/* Directory of the web map served at "/". */
static const char *
web_root(void)
{
    static char path[1024];
    const char *env = getenv("TILESRV_WEB_ROOT");
    if (env && env[0])
        return env;
    char exe[900];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof path, "%s/../share/tilesrv/web", exe);
            if (access(path, R_OK) == 0)
                return path;
        }
    }
    snprintf(path, sizeof path, "%s/web", TS_SOURCE_DIR);
    return path;
}

/* Split "host:port", "[v6]:port" or ":port". Returns 0 on success. */
static int
split_listen(const char *s, char *host, size_t hsize, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        snprintf(host, hsize, "0.0.0.0");
        return 0;
    }
    if (hl >= hsize)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    return 0;
}

/* (Re)start the feeds of cfg in live. 0 on success (errors printed). */
static int
start_feeds(ts_live *live, const ts_config *cfg)
{
    int n = cfg->nfeeds;
    ts_cli_feed_cfg *fc = calloc((size_t)(n > 0 ? n : 1), sizeof *fc);
    const ts_feed_config **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    uint64_t *keys = calloc((size_t)(n > 0 ? n : 1), sizeof *keys);
    ts_err err;
    ts_err_clear(&err);
    ts_status st = fc && v && keys ? TS_OK : TS_FAIL(&err, TS_ENOMEM, "feeds");
    int made = 0;
    for (; st == TS_OK && made < n; made++) {
        st = ts_cli_feed_config(&cfg->feeds[made], &fc[made], &err);
        if (st != TS_OK) {
            ts_cli_feed_config_free(&fc[made]);
            break;
        }
        v[made] = &fc[made].cfg;
        keys[made] = ts_cli_feed_key(&cfg->feeds[made]);
    }
    if (st == TS_OK)
        st = ts_live_set_feeds_keyed(live, v, keys, n, &err);
    for (int i = 0; i < made; i++)
        ts_cli_feed_config_free(&fc[i]);
    free(fc);
    free(v);
    free(keys);
    if (st != TS_OK) {
        ts_cli_print_err("cannot start the feeds", &err);
        return -1;
    }
    return 0;
}

/* Load the configuration the options name and its service; NULL with *err on failure. */
static ts_service *
load_service(const ts_cli *o, ts_config **cfg_out, int first, ts_err *err)
{
    const char *path = o->config_path ? o->config_path : ts_cli_demo_config();
    ts_config *cfg = ts_config_load(path, err);
    if (cfg == NULL)
        return NULL;
    if (first) /* log_level is read at start only */
        ts_cli_apply_log_level(o, cfg);
    ts_service *svc = ts_service_load(cfg, err);
    if (svc == NULL) {
        ts_config_unref(cfg);
        return NULL;
    }
    *cfg_out = cfg;
    return svc;
}

/* What a reload (SIGHUP or POST /admin/reload) and a truncate share: one runs at a time. */
typedef struct serve_state {
    pthread_mutex_t mu;
    const ts_cli *o;
    ts_config *cfg;        /* the configuration in service */
    ts_pipeline *p;
    ts_live *live;
    ts_http *h;            /* set once serving */
} serve_state;

static int
str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Say which server settings read at start only differ in the reloaded configuration b from
 * the running a: the running values stay until a restart (a reload that said only "done"
 * left an operator believing a new listen address or cache size was in effect). */
static void
warn_start_only(const ts_cfg_server *a, const ts_cfg_server *b)
{
    char names[512] = "";
#define START_ONLY(changed, name)                                                              \
    do {                                                                                       \
        if (changed) {                                                                         \
            size_t l_ = strlen(names);                                                         \
            snprintf(names + l_, sizeof names - l_, "%s%s", l_ ? ", " : "", name);             \
        }                                                                                      \
    } while (0)
    START_ONLY(str_differs(a->listen_host, b->listen_host) || a->port != b->port, "listen");
    START_ONLY(a->render_threads != b->render_threads, "render_threads");
    START_ONLY(a->http_threads != b->http_threads, "http_threads");
    START_ONLY(a->queue_max != b->queue_max, "queue_max");
    START_ONLY(a->cache_mb != b->cache_mb, "cache_mb");
    START_ONLY(a->max_connections != b->max_connections, "max_connections");
    START_ONLY(a->max_connections_per_ip != b->max_connections_per_ip, "max_connections_per_ip");
    START_ONLY(a->connection_timeout_s != b->connection_timeout_s, "connection_timeout");
    START_ONLY(a->max_url_bytes != b->max_url_bytes, "max_url_bytes");
    START_ONLY(a->max_header_bytes != b->max_header_bytes, "max_header_bytes");
    START_ONLY(a->shutdown_timeout_s != b->shutdown_timeout_s, "shutdown_timeout");
    START_ONLY(str_differs(a->access_log, b->access_log), "access_log");
    START_ONLY(str_differs(a->cors_origin, b->cors_origin), "cors_origin");
    START_ONLY(str_differs(a->public_url, b->public_url), "public_url");
    START_ONLY(str_differs(a->log_level, b->log_level), "log_level");
    START_ONLY(a->wms.max_render_ms != b->wms.max_render_ms, "wms.max_render_ms");
    START_ONLY(a->admin.enabled != b->admin.enabled ||
                   str_differs(a->admin.token, b->admin.token) ||
                   a->admin.nallow != b->admin.nallow ||
                   (a->admin.nallow > 0 && memcmp(a->admin.allow, b->admin.allow,
                                                  (size_t)a->admin.nallow *
                                                      sizeof *a->admin.allow) != 0),
               "admin");
#undef START_ONLY
    if (names[0])
        ts_warn("reload: server settings read at start only changed (%s): the running values "
                "stay until a restart",
                names);
}

/* Load the configuration again and swap the new service in; the running one stays when the
 * new one is refused. Requests in flight keep the service they started with. */
static ts_status
reload(serve_state *ss, ts_err *err)
{
    pthread_mutex_lock(&ss->mu);
    ts_info("reloading %s", ss->cfg->path);
    /* after log rotation: whether or not the new configuration is taken (logrotate's
     * reload must not leave the log going into the rotated file) */
    if (ss->h)
        ts_http_reopen_log(ss->h);
    ts_config *ncfg = NULL;
    ts_err lerr;
    ts_err_clear(&lerr);
    ts_service *nsvc = load_service(ss->o, &ncfg, 0, &lerr);
    if (nsvc != NULL && ts_cli_feeds_check(ncfg, &lerr) != TS_OK) {
        ts_service_unref(nsvc); /* a feed of it cannot be made: the running feeds stay */
        ts_config_unref(ncfg);
        nsvc = NULL;
    }
    if (nsvc == NULL) {
        char msg[1024];
        ts_err_format(&lerr, msg, sizeof msg);
        if (ss->h)
            ts_http_note_reload(ss->h, 0, msg);
        pthread_mutex_unlock(&ss->mu);
        ts_error("reload refused, the running configuration stays in service: %s", msg);
        return TS_FAIL(err, TS_ECONFIG,
                       "reload refused, the running configuration stays: %.400s", msg);
    }
    warn_start_only(&ss->cfg->server, &ncfg->server);
    ts_pipeline_set_service(ss->p, nsvc);
    ts_service_unref(nsvc);
    /* the new service's feed layers start empty: feeds whose settings did not change keep
     * running and refill them at once; the others are restarted */
    if (start_feeds(ss->live, ncfg) != 0)
        ts_error("reload: the feeds of the new configuration did not start; the old feeds keep "
                 "running");
    ts_config_unref(ss->cfg);
    ss->cfg = ncfg;
    if (ss->h)
        ts_http_note_reload(ss->h, 1, NULL);
    pthread_mutex_unlock(&ss->mu);
    ts_info("reload done");
    return TS_OK;
}

static ts_status
admin_reload(void *ud, ts_err *err)
{
    return reload(ud, err);
}

/* POST /admin/truncate: as `tilesrv truncate` on the configuration in service, then the
 * memory cache of the tileset over the same area (every zoom: the memory level is cheap to
 * refill). */
static ts_status
admin_truncate(void *ud, const char *tileset, const char *zoom, const char *bbox,
               uint64_t *removed, ts_err *err)
{
    serve_state *ss = ud;
    ts_truncate_opts to;
    memset(&to, 0, sizeof to);
    to.tileset = tileset;
    to.minz = to.maxz = -1;
    to.scale = 1;
    if (zoom)
        TS_TRY(ts_seed_parse_zooms(zoom, &to.minz, &to.maxz, err));
    if (bbox)
        TS_TRY(ts_seed_parse_bbox(bbox, &to.area, err));
    pthread_mutex_lock(&ss->mu);
    ts_status st = TS_OK;
    *removed = 0;
    const ts_cfg_tileset *tc = ts_config_tileset(ss->cfg, tileset);
    if (tc == NULL) {
        pthread_mutex_unlock(&ss->mu);
        return TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", tileset);
    }
    /* a memory-only tileset has no persistent level: its memory tiles are dropped below */
    int persistent = tc->cache.type != NULL && strcmp(tc->cache.type, "memory") != 0;
    for (int scale = 1; scale <= 2 && st == TS_OK && persistent; scale++) {
        uint64_t n = 0;
        to.scale = scale;
        st = ts_seed_truncate(ss->cfg, &to, &n, err);
        *removed += n;
    }
    pthread_mutex_unlock(&ss->mu);
    if (st != TS_OK)
        return st;
    /* lon/lat boxes drop exactly their tiles; a box in another CRS drops the whole tileset */
    ts_bbox world = {-180, -85.06, 180, 85.06};
    ts_bbox ll = world;
    if (to.area.has_bbox && strcmp(to.area.crs, "EPSG:4326") == 0)
        ll = (ts_bbox){to.area.bbox[0], to.area.bbox[1], to.area.bbox[2], to.area.bbox[3]};
    long dropped = ts_pipeline_invalidate(ss->p, tileset, NULL, ll, 0);
    ts_info("admin truncate %s: %llu tiles removed from the persistent cache, %ld from memory",
            tileset, (unsigned long long)*removed, dropped);
    return TS_OK;
}

int
ts_cmd_serve(const ts_cli *o)
{
    /* Every thread created from here on inherits the blocked set; signals are taken by
     * sigwait below only. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    ts_config *cfg = NULL;
    ts_info("tilesrv %s loading %s", TS_VERSION,
            o->config_path ? o->config_path : ts_cli_demo_config());
    ts_err lerr;
    ts_err_clear(&lerr);
    ts_service *svc = load_service(o, &cfg, 1, &lerr);
    if (svc != NULL && ts_cli_feeds_check(cfg, &lerr) != TS_OK) { /* e.g. a device table */
        ts_service_unref(svc);
        ts_config_unref(cfg);
        svc = NULL;
    }
    if (svc == NULL) {
        ts_cli_print_err(lerr.input[0] && lerr.code == TS_ECONFIG ? "configuration refused"
                                                                  : "cannot load the service",
                         &lerr);
        return 1;
    }
    int threads = o->threads > 0 ? o->threads
                  : cfg->server.render_threads > 0 ? cfg->server.render_threads
                                                   : ts_cli_ncpu();
    /* renders that wait on a database leave one thread to those drawn from files */
    int db = 0;
    for (int i = 0; i < ts_service_ntilesets(svc) && !db; i++)
        db = ts_service_tileset_uses_db(svc, ts_service_tileset_at(svc, i));
    if (db && threads == 1)
        ts_warn("one render thread (server.render_threads, or one CPU): renders of tilesets "
                "drawn from files wait behind those that wait on PostgreSQL; give two or more "
                "to keep one for them");
    ts_pipeline_opts po = {threads, cfg->server.queue_max,
                           (size_t)cfg->server.cache_mb * 1024 * 1024, 0,
                           threads > 1 ? threads - 1 : 1};
    ts_err err;
    ts_err_clear(&err);
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    if (p == NULL) {
        ts_cli_print_err("cannot start the render pool", &err);
        ts_config_unref(cfg);
        return 1;
    }
    ts_live *live = ts_live_new(p, &err);
    if (live == NULL || start_feeds(live, cfg) != 0) {
        if (live == NULL)
            ts_cli_print_err("cannot start the live feeds", &err);
        ts_live_free(live);
        ts_pipeline_free(p);
        ts_config_unref(cfg);
        return 1;
    }
    char host[128];
    int port = cfg->server.port;
    snprintf(host, sizeof host, "%s", cfg->server.listen_host ? cfg->server.listen_host
                                                               : "127.0.0.1");
    if (o->listen && split_listen(o->listen, host, sizeof host, &port) != 0) {
        fprintf(stderr, "tilesrv: --listen wants ADDR:PORT, e.g. 127.0.0.1:8080\n");
        ts_live_free(live);
        ts_pipeline_free(p);
        ts_config_unref(cfg);
        return 2;
    }
    serve_state ss = {.o = o, .cfg = cfg, .p = p, .live = live};
    pthread_mutex_init(&ss.mu, NULL);
    ts_http_opts ho = {
        .host = host,
        .port = port,
        .threads = cfg->server.http_threads > 0 ? cfg->server.http_threads : 2,
        .max_connections = cfg->server.max_connections,
        .cors_origin = cfg->server.cors_origin,
        .public_url = cfg->server.public_url,
        .web_root = web_root(),
        .live = live,
        .max_connections_per_ip = cfg->server.max_connections_per_ip,
        .connection_timeout_s = cfg->server.connection_timeout_s,
        .max_url_bytes = cfg->server.max_url_bytes,
        .max_header_bytes = cfg->server.max_header_bytes,
        .max_render_ms = cfg->server.wms.max_render_ms,
        .access_log = cfg->server.access_log,
        .admin = &cfg->server.admin,
        .admin_ops = {admin_reload, admin_truncate, &ss},
    };
    ts_http *h = ts_http_start(p, &ho, &err);
    if (h == NULL) {
        ts_cli_print_err("cannot start the HTTP server", &err);
        pthread_mutex_destroy(&ss.mu);
        ts_live_free(live);
        ts_pipeline_free(p);
        ts_config_unref(cfg);
        return 1;
    }
    pthread_mutex_lock(&ss.mu);
    ss.h = h;
    pthread_mutex_unlock(&ss.mu);
    ts_info("serving on http://%s%s%s:%d/ with %d render threads", strchr(host, ':') ? "[" : "",
            host, strchr(host, ':') ? "]" : "", ts_http_port(h), threads);
    {
        const char *wr = web_root();
        char idx[1100];
        snprintf(idx, sizeof idx, "%s/dist/main.js", wr);
        if (access(idx, R_OK) == 0)
            ts_info("web map from %s", wr);
        else
            ts_warn("web map not built in %s (npm install && npm run build; or set "
                    "TILESRV_WEB_ROOT): / answers 404 until then", wr);
    }

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            ts_info("SIGHUP: reloading");
            ts_err rerr;
            ts_err_clear(&rerr);
            reload(&ss, &rerr);
            continue;
        }
        break;
    }
    /* stop accepting, let requests in flight finish (bounded), then close the caches (the
     * last reference to an MBTiles cache checkpoints its WAL into the file) */
    pthread_mutex_lock(&ss.mu);
    int grace_s = ss.cfg->server.shutdown_timeout_s;
    pthread_mutex_unlock(&ss.mu);
    ts_info("stopping: requests in flight get up to %d s", grace_s);
    int cut = ts_http_shutdown(h, grace_s * 1000);
    ts_live_free(live);
    ts_pipeline_free(p);
    ts_config_unref(ss.cfg);
    pthread_mutex_destroy(&ss.mu);
    ts_info("stopped%s", cut ? " (some requests were cut off)" : "");
    return 0;
}
