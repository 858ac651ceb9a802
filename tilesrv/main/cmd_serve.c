/* main/cmd_serve.c — `tilesrv serve`: load, serve, reload on SIGHUP, stop on SIGINT/TERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "main/cli.h"
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
        keys[made] = cfg->feeds[made].hash;
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

static ts_service *
load_service(const ts_cli *o, ts_config **cfg_out)
{
    ts_config *cfg = ts_cli_load_config(o);
    if (cfg == NULL)
        return NULL;
    ts_err err;
    ts_err_clear(&err);
    ts_service *svc = ts_service_load(cfg, &err);
    if (svc == NULL) {
        ts_cli_print_err("cannot load the service", &err);
        ts_config_unref(cfg);
        return NULL;
    }
    *cfg_out = cfg;
    return svc;
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
    ts_service *svc = load_service(o, &cfg);
    if (svc == NULL)
        return 1;
    if (!o->quiet && cfg->server.log_level) {
        ts_log_level lvl;
        if (ts_log_parse_level(cfg->server.log_level, &lvl) == 0 && lvl > ts_log_get_level())
            ts_log_set_level(lvl);
    }
    int threads = o->threads > 0 ? o->threads
                  : cfg->server.render_threads > 0 ? cfg->server.render_threads
                                                   : ts_cli_ncpu();
    ts_pipeline_opts po = {threads, cfg->server.queue_max,
                           (size_t)cfg->server.cache_mb * 1024 * 1024};
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
    ts_http_opts ho = {
        .host = host,
        .port = port,
        .threads = cfg->server.http_threads > 0 ? cfg->server.http_threads : 2,
        .max_connections = cfg->server.max_connections,
        .cors_origin = cfg->server.cors_origin,
        .public_url = cfg->server.public_url,
        .web_root = web_root(),
        .live = live,
    };
    ts_http *h = ts_http_start(p, &ho, &err);
    if (h == NULL) {
        ts_cli_print_err("cannot start the HTTP server", &err);
        ts_live_free(live);
        ts_pipeline_free(p);
        ts_config_unref(cfg);
        return 1;
    }
    ts_info("serving on http://%s%s%s:%d/ with %d render threads", strchr(host, ':') ? "[" : "",
            host, strchr(host, ':') ? "]" : "", ts_http_port(h), threads);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            ts_info("SIGHUP: reloading %s", cfg->path);
            ts_config *ncfg = NULL;
            ts_service *nsvc = load_service(o, &ncfg);
            if (nsvc == NULL) {
                ts_error("reload refused; the running configuration stays in service");
                continue;
            }
            ts_pipeline_set_service(p, nsvc);
            ts_service_unref(nsvc);
            /* the new service's feed layers start empty: feeds whose settings did not
             * change keep running and refill them at once; the others are restarted */
            if (start_feeds(live, ncfg) != 0)
                ts_error("reload: the feeds of the new configuration did not start; the old "
                         "feeds keep running");
            ts_config_unref(cfg);
            cfg = ncfg;
            ts_info("reload done");
            continue;
        }
        ts_info("signal %d: stopping", sig);
        break;
    }
    ts_http_stop(h);
    ts_live_free(live);
    ts_pipeline_free(p);
    ts_config_unref(cfg);
    return 0;
}
