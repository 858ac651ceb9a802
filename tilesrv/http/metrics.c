/* http/metrics.c — /metrics in the Prometheus text format 0.0.4: requests by route class
 * and status, request durations by route class, cache hits and misses per level, render
 * time per tileset and zoom, the pipeline's and the feeds' counters, and the process
 * (memory, file descriptors, CPU, start time from /proc).
 *
 * Requests are counted when they complete, in one of NSHARD shards picked per thread (the
 * MHD threads then rarely write the same cache lines): relaxed atomic adds, no lock. A
 * scrape sums the shards. Labels are bounded: route classes (never paths), status codes
 * 100..599, tileset names from the configuration, zooms 0..30. */
#include "http/http.h"

#include "http/http_int.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seed/seed.h"
#include "util/clock.h"
#include "util/hist.h"

#define NSHARD 8
#define STATUS_MIN 100
#define STATUS_N 500 /* 100..599 */

static const char *const route_names[TS_HTTP_ROUTE__COUNT] = {
    "other", "tiles",  "wms",    "wmts",    "tms",    "ogcapi",
    "sensors", "events", "static", "health", "metrics", "admin",
};

typedef struct shard {
    atomic_ullong req[TS_HTTP_ROUTE__COUNT][STATUS_N];
    atomic_ullong aborted[TS_HTTP_ROUTE__COUNT];
    ts_hist dur[TS_HTTP_ROUTE__COUNT];
} shard;

struct ts_http_metrics {
    shard s[NSHARD];
};

ts_http_metrics *
ts_http__metrics_new(void)
{
    ts_http_metrics *m = calloc(1, sizeof *m); /* zero-filled atomics and histograms */
    if (m == NULL)
        return NULL;
    for (int i = 0; i < NSHARD; i++)
        for (int r = 0; r < TS_HTTP_ROUTE__COUNT; r++)
            ts_hist_init(&m->s[i].dur[r]);
    return m;
}

void
ts_http__metrics_free(ts_http_metrics *m)
{
    free(m);
}

/* ---- route classes ---------------------------------------------------------------------- */

static int
is_path(const char *url, const char *p)
{
    size_t n = strlen(p);
    return strncmp(url, p, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

/* A file the web root serves: "/" or a name with one of the extensions served. */
static int
is_static(const char *url)
{
    if (strcmp(url, "/") == 0)
        return 1;
    const char *dot = strrchr(url, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return 0;
    static const char *const ext[] = {".html", ".js", ".css", ".png", ".json", ".svg",
                                      ".map",  ".ico", ".txt"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcmp(dot, ext[i]) == 0)
            return 1;
    return 0;
}

ts_http_route
ts_http__route_class(struct MHD_Connection *c, const char *url)
{
    if (url == NULL)
        return TS_HTTP_ROUTE_OTHER;
    if (strncmp(url, "/tiles/", 7) == 0 || strcmp(url, "/tiles.json") == 0)
        return TS_HTTP_ROUTE_TILES;
    if (is_path(url, "/wms"))
        return TS_HTTP_ROUTE_WMS;
    if (is_path(url, "/wmts"))
        return TS_HTTP_ROUTE_WMTS;
    if (is_path(url, "/ows")) { /* as ogc.c routes it: SERVICE=WMTS, else WMS */
        const char *svc = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "SERVICE");
        if (svc == NULL)
            svc = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");
        return svc && strcasecmp(svc, "WMTS") == 0 ? TS_HTTP_ROUTE_WMTS : TS_HTTP_ROUTE_WMS;
    }
    if (is_path(url, "/tms"))
        return TS_HTTP_ROUTE_TMS;
    if (is_path(url, "/ogcapi"))
        return TS_HTTP_ROUTE_OGCAPI;
    if (strncmp(url, "/sensors/", 9) == 0)
        return TS_HTTP_ROUTE_SENSORS;
    if (strcmp(url, "/events") == 0)
        return TS_HTTP_ROUTE_EVENTS;
    if (strcmp(url, "/health") == 0)
        return TS_HTTP_ROUTE_HEALTH;
    if (strcmp(url, "/metrics") == 0)
        return TS_HTTP_ROUTE_METRICS;
    if (strncmp(url, "/admin/", 7) == 0)
        return TS_HTTP_ROUTE_ADMIN;
    if (is_static(url))
        return TS_HTTP_ROUTE_STATIC;
    return TS_HTTP_ROUTE_OTHER;
}

/* ---- counting --------------------------------------------------------------------------- */

static shard *
my_shard(ts_http_metrics *m)
{
    static atomic_uint next;
    static _Thread_local int id = -1;
    if (id < 0)
        id = (int)(atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) % NSHARD);
    return &m->s[id];
}

void
ts_http__metrics_request(ts_http_metrics *m, ts_http_route route, unsigned status,
                         uint64_t ns, int complete)
{
    if (m == NULL)
        return;
    if ((int)route < 0 || route >= TS_HTTP_ROUTE__COUNT)
        route = TS_HTTP_ROUTE_OTHER;
    shard *s = my_shard(m);
    if (!complete || status < STATUS_MIN || status >= STATUS_MIN + STATUS_N) {
        atomic_fetch_add_explicit(&s->aborted[route], 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&s->req[route][status - STATUS_MIN], 1, memory_order_relaxed);
    ts_hist_add(&s->dur[route], ns);
}

/* ---- the process, from /proc ------------------------------------------------------------ */

typedef struct proc_info {
    double rss_bytes, vsize_bytes, cpu_s, start_s;
    long open_fds, max_fds;
    long threads;
    int ok_stat, ok_statm;
} proc_info;

static int
read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

static void
proc_read(proc_info *pi)
{
    memset(pi, 0, sizeof *pi);
    long page = sysconf(_SC_PAGESIZE), tck = sysconf(_SC_CLK_TCK);
    char buf[4096];
    if (read_file("/proc/self/statm", buf, sizeof buf)) {
        unsigned long long size = 0, res = 0;
        if (sscanf(buf, "%llu %llu", &size, &res) == 2) {
            pi->vsize_bytes = (double)size * (double)page;
            pi->rss_bytes = (double)res * (double)page;
            pi->ok_statm = 1;
        }
    }
    /* /proc/self/stat: fields after the command name (which may hold spaces and ')') */
    unsigned long long btime = 0;
    char sbuf[16384];
    if (read_file("/proc/stat", sbuf, sizeof sbuf)) {
        const char *b = strstr(sbuf, "\nbtime ");
        if (b)
            btime = strtoull(b + 7, NULL, 10);
    }
    if (tck > 0 && btime > 0 && read_file("/proc/self/stat", buf, sizeof buf)) {
        const char *p = strrchr(buf, ')');
        /* after ')': state(3) ppid ... utime(14) stime(15) ... num_threads(20) ...
         * starttime(22); p + 2 starts at field 3 */
        unsigned long long v[23] = {0};
        int field = 3;
        for (p = p ? p + 2 : NULL; p && *p && field <= 22; field++) {
            char *end;
            if (field != 3)
                v[field] = strtoull(p, &end, 10);
            else
                end = (char *)strchr(p, ' ');
            if (end == NULL)
                break;
            p = end;
            while (*p == ' ')
                p++;
        }
        if (field > 22) {
            pi->cpu_s = (double)(v[14] + v[15]) / (double)tck;
            pi->threads = (long)v[20];
            pi->start_s = (double)btime + (double)v[22] / (double)tck;
            pi->ok_stat = 1;
        }
    }
    pi->open_fds = -1;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        pi->open_fds = n - 1; /* the directory's own descriptor */
    }
    struct rlimit rl;
    pi->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? (long)rl.rlim_cur
                      : -1;
}

/* ---- the exposition --------------------------------------------------------------------- */

static void
family(ts_buf *b, const char *name, const char *type, const char *help)
{
    ts_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with '\\', '"' and newlines escaped. */
static void
label_value(char *dst, size_t cap, const char *s)
{
    size_t j = 0;
    for (; *s && j + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            dst[j++] = '\\';
            dst[j++] = *s;
        } else if (*s == '\n') {
            dst[j++] = '\\';
            dst[j++] = 'n';
        } else {
            dst[j++] = *s;
        }
    }
    dst[j] = '\0';
}

/* One seed's progress file and when it was last saved. */
typedef struct seed_file {
    ts_seed_progress p;
    double mtime;
} seed_file;

static int
read_seed_file(const char *path, seed_file *s)
{
    struct stat st;
    ts_err err;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096 ||
        ts_seed_progress_read(path, &s->p, &err) != TS_OK)
        return -1;
    s->mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
    return 0;
}

#define MAX_SEEDS 64 /* progress files reported */

/* The seeds whose progress files are in the configured seed_progress_dir, family by family. */
static void
write_seeds(ts_http *h, ts_buf *b)
{
    ts_service *svc = ts_pipeline_service(h->p);
    const char *dir = ts_service_config(svc)->server.seed_progress_dir;
    DIR *dh = dir ? opendir(dir) : NULL;
    seed_file *seeds = dh ? calloc(MAX_SEEDS, sizeof *seeds) : NULL;
    char(*labels)[900] = seeds ? calloc(MAX_SEEDS, sizeof *labels) : NULL;
    int n = 0;
    struct dirent *de;
    while (labels && n < MAX_SEEDS && (de = readdir(dh)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, ".tilesrv-seed-", 14) != 0 || len < 24 ||
            strcmp(de->d_name + len - 9, ".progress") != 0)
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
            read_seed_file(path, &seeds[n]) != 0)
            continue;
        char ts[200], file[600];
        label_value(ts, sizeof ts, seeds[n].p.tileset);
        label_value(file, sizeof file, de->d_name);
        snprintf(labels[n], sizeof labels[n], "tileset=\"%s\",file=\"%s\"", ts, file);
        n++;
    }
    if (n > 0) {
        family(b, "tilesrv_seed_tiles", "gauge",
               "Tiles of a seed (tilesrv seed, progress file in seed_progress_dir) by state.");
        for (int i = 0; i < n; i++)
            ts_buf_printf(b,
                          "tilesrv_seed_tiles{%s,state=\"rendered\"} %llu\n"
                          "tilesrv_seed_tiles{%s,state=\"skipped\"} %llu\n"
                          "tilesrv_seed_tiles{%s,state=\"failed\"} %llu\n",
                          labels[i], (unsigned long long)seeds[i].p.rendered, labels[i], (unsigned long long)seeds[i].p.skipped, labels[i],
                          (unsigned long long)seeds[i].p.failed);
        family(b, "tilesrv_seed_tiles_planned", "gauge", "Tiles the seed covers.");
        for (int i = 0; i < n; i++)
            ts_buf_printf(b, "tilesrv_seed_tiles_planned{%s} %llu\n", labels[i], (unsigned long long)seeds[i].p.total);
        family(b, "tilesrv_seed_zoom", "gauge", "Zoom level the seed has reached.");
        for (int i = 0; i < n; i++)
            ts_buf_printf(b, "tilesrv_seed_zoom{%s} %d\n", labels[i], seeds[i].p.z);
        family(b, "tilesrv_seed_running", "gauge",
               "1 while the seed's last saved status is running.");
        for (int i = 0; i < n; i++)
            ts_buf_printf(b, "tilesrv_seed_running{%s} %d\n", labels[i],
                          strcmp(seeds[i].p.status, "running") == 0);
        family(b, "tilesrv_seed_updated_timestamp_seconds", "gauge",
               "When the seed last saved its progress (every few seconds while it runs).");
        for (int i = 0; i < n; i++)
            ts_buf_printf(b, "tilesrv_seed_updated_timestamp_seconds{%s} %.3f\n", labels[i],
                          seeds[i].mtime);
    }
    free(labels);
    free(seeds);
    if (dh)
        closedir(dh);
    ts_service_unref(svc);
}

static void
write_render_hist(void *ud, const char *tileset, int z, const ts_hist_snap *s)
{
    ts_buf *b = ud;
    char name[300], labels[340];
    label_value(name, sizeof name, tileset);
    snprintf(labels, sizeof labels, "tileset=\"%s\",zoom=\"%d\"", name, z);
    ts_hist_write(b, "tilesrv_render_duration_seconds", labels, s);
}

static void
write_http(ts_http *h, ts_buf *b)
{
    ts_http_metrics *m = h->metrics;
    family(b, "tilesrv_http_requests_total", "counter",
           "HTTP requests answered, by route class and status code.");
    for (int r = 0; r < TS_HTTP_ROUTE__COUNT; r++)
        for (int st = 0; st < STATUS_N; st++) {
            unsigned long long n = 0;
            for (int i = 0; i < NSHARD; i++)
                n += atomic_load_explicit(&m->s[i].req[r][st], memory_order_relaxed);
            if (n > 0)
                ts_buf_printf(b, "tilesrv_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                              route_names[r], st + STATUS_MIN, n);
        }
    family(b, "tilesrv_http_requests_aborted_total", "counter",
           "HTTP requests ended before their answer was sent (client gone, connection cut).");
    for (int r = 0; r < TS_HTTP_ROUTE__COUNT; r++) {
        unsigned long long n = 0;
        for (int i = 0; i < NSHARD; i++)
            n += atomic_load_explicit(&m->s[i].aborted[r], memory_order_relaxed);
        ts_buf_printf(b, "tilesrv_http_requests_aborted_total{route=\"%s\"} %llu\n",
                      route_names[r], n);
    }
    family(b, "tilesrv_http_request_duration_seconds", "histogram",
           "Time from the request line to the answer sent, by route class.");
    for (int r = 0; r < TS_HTTP_ROUTE__COUNT; r++) {
        ts_hist_snap sum, one;
        memset(&sum, 0, sizeof sum);
        for (int i = 0; i < NSHARD; i++) {
            ts_hist_read(&m->s[i].dur[r], &one);
            ts_hist_snap_add(&sum, &one);
        }
        if (sum.count == 0)
            continue;
        char labels[64];
        snprintf(labels, sizeof labels, "route=\"%s\"", route_names[r]);
        ts_hist_write(b, "tilesrv_http_request_duration_seconds", labels, &sum);
    }
    family(b, "tilesrv_http_requests_in_flight", "gauge",
           "Requests begun and not yet completed (this scrape included).");
    ts_buf_printf(b, "tilesrv_http_requests_in_flight %d\n", atomic_load(&h->inflight));
    pthread_mutex_lock(&h->mu);
    int rok = h->reload_ok;
    unsigned long long nok = h->reloads_ok, nref = h->reloads_refused;
    pthread_mutex_unlock(&h->mu);
    family(b, "tilesrv_config_last_reload_successful", "gauge",
           "0 while the latest reload was refused (the running configuration is not the file's), "
           "else 1.");
    ts_buf_printf(b, "tilesrv_config_last_reload_successful %d\n", rok == 0 ? 0 : 1);
    family(b, "tilesrv_config_reloads_total", "counter", "Configuration reloads by result.");
    ts_buf_printf(b, "tilesrv_config_reloads_total{result=\"ok\"} %llu\n"
                     "tilesrv_config_reloads_total{result=\"refused\"} %llu\n",
                  nok, nref);
}

static void
write_process(ts_buf *b)
{
    proc_info pi;
    proc_read(&pi);
    if (pi.ok_statm) {
        family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        ts_buf_printf(b, "process_resident_memory_bytes %.0f\n", pi.rss_bytes);
        family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        ts_buf_printf(b, "process_virtual_memory_bytes %.0f\n", pi.vsize_bytes);
    }
    if (pi.open_fds >= 0) {
        family(b, "process_open_fds", "gauge", "Open file descriptors.");
        ts_buf_printf(b, "process_open_fds %ld\n", pi.open_fds);
    }
    if (pi.max_fds >= 0) {
        family(b, "process_max_fds", "gauge", "Limit of open file descriptors.");
        ts_buf_printf(b, "process_max_fds %ld\n", pi.max_fds);
    }
    if (pi.ok_stat) {
        family(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
        ts_buf_printf(b, "process_cpu_seconds_total %.2f\n", pi.cpu_s);
        family(b, "process_start_time_seconds", "gauge",
               "Start time of the process since the Unix epoch in seconds.");
        ts_buf_printf(b, "process_start_time_seconds %.2f\n", pi.start_s);
        family(b, "process_threads", "gauge", "Threads of the process.");
        ts_buf_printf(b, "process_threads %ld\n", pi.threads);
    }
}

ts_status
ts_http__metrics_write(ts_http *h, ts_buf *b)
{
    ts_pipeline_stats ps;
    ts_pipeline_stats_get(h->p, &ps);
    family(b, "tilesrv_build_info", "gauge", "Version of the running server (always 1).");
    ts_buf_printf(b, "tilesrv_build_info{version=\"%s\"} 1\n", TS_VERSION);
    write_http(h, b);
    write_seeds(h, b);
    ts_buf_printf(b,
                  "# HELP tilesrv_metatiles_rendered_total Metatiles rendered.\n"
                  "# TYPE tilesrv_metatiles_rendered_total counter\n"
                  "tilesrv_metatiles_rendered_total %llu\n"
                  "# HELP tilesrv_tiles_encoded_total Tiles PNG-encoded.\n"
                  "# TYPE tilesrv_tiles_encoded_total counter\n"
                  "tilesrv_tiles_encoded_total %llu\n"
                  "# HELP tilesrv_tiles_uniform_total Tiles answered by a shared uniform PNG.\n"
                  "# TYPE tilesrv_tiles_uniform_total counter\n"
                  "tilesrv_tiles_uniform_total %llu\n"
                  "# HELP tilesrv_render_joined_total Requests that joined a render in flight.\n"
                  "# TYPE tilesrv_render_joined_total counter\n"
                  "tilesrv_render_joined_total %llu\n"
                  "# HELP tilesrv_render_busy_total Requests refused because the queue was full.\n"
                  "# TYPE tilesrv_render_busy_total counter\n"
                  "tilesrv_render_busy_total %llu\n"
                  "# HELP tilesrv_render_seconds_total Time spent drawing metatiles.\n"
                  "# TYPE tilesrv_render_seconds_total counter\n"
                  "tilesrv_render_seconds_total %.6f\n"
                  "# HELP tilesrv_encode_seconds_total Time spent encoding tiles.\n"
                  "# TYPE tilesrv_encode_seconds_total counter\n"
                  "tilesrv_encode_seconds_total %.6f\n"
                  "# HELP tilesrv_render_queue_length Metatile jobs waiting.\n"
                  "# TYPE tilesrv_render_queue_length gauge\n"
                  "tilesrv_render_queue_length %d\n"
                  "# HELP tilesrv_cache_hits_total Memory cache hits.\n"
                  "# TYPE tilesrv_cache_hits_total counter\n"
                  "tilesrv_cache_hits_total %llu\n"
                  "# HELP tilesrv_cache_misses_total Memory cache misses.\n"
                  "# TYPE tilesrv_cache_misses_total counter\n"
                  "tilesrv_cache_misses_total %llu\n"
                  "# HELP tilesrv_cache_bytes Bytes of tiles in the memory cache.\n"
                  "# TYPE tilesrv_cache_bytes gauge\n"
                  "tilesrv_cache_bytes %llu\n"
                  "# HELP tilesrv_http_suspended Connections waiting for a render.\n"
                  "# TYPE tilesrv_http_suspended gauge\n"
                  "tilesrv_http_suspended %d\n",
                  (unsigned long long)ps.metatiles_rendered, (unsigned long long)ps.tiles_encoded,
                  (unsigned long long)ps.tiles_uniform, (unsigned long long)ps.joined,
                  (unsigned long long)ps.busy, ps.render_ns / 1e9, ps.encode_ns / 1e9, ps.queued,
                  (unsigned long long)ps.cache.hits, (unsigned long long)ps.cache.misses,
                  (unsigned long long)ps.cache.bytes, atomic_load(&h->suspended));
    /* the same lookups by cache level: memory (the LRU), persistent (disk, MBTiles, Redis;
     * summed over the tilesets) */
    family(b, "tilesrv_tile_cache_hits_total", "counter", "Tile cache hits by level.");
    ts_buf_printf(b, "tilesrv_tile_cache_hits_total{level=\"memory\"} %llu\n",
                  (unsigned long long)ps.cache.hits);
    ts_buf_printf(b, "tilesrv_tile_cache_hits_total{level=\"persistent\"} %llu\n",
                  (unsigned long long)ps.persist.hits);
    family(b, "tilesrv_tile_cache_misses_total", "counter", "Tile cache misses by level.");
    ts_buf_printf(b, "tilesrv_tile_cache_misses_total{level=\"memory\"} %llu\n",
                  (unsigned long long)ps.cache.misses);
    ts_buf_printf(b, "tilesrv_tile_cache_misses_total{level=\"persistent\"} %llu\n",
                  (unsigned long long)ps.persist.misses);
    family(b, "tilesrv_render_duration_seconds", "histogram",
           "Time spent drawing one metatile, by tileset and zoom.");
    ts_pipeline_render_hists(h->p, write_render_hist, b);
    /* the persistent cache levels (disk, MBTiles), summed over the tilesets */
    ts_buf_printf(b,
                  "# HELP tilesrv_persist_puts_total Tiles written to a persistent cache.\n"
                  "# TYPE tilesrv_persist_puts_total counter\n"
                  "tilesrv_persist_puts_total %llu\n"
                  "# HELP tilesrv_persist_put_errors_total Failed writes to a persistent cache.\n"
                  "# TYPE tilesrv_persist_put_errors_total counter\n"
                  "tilesrv_persist_put_errors_total %llu\n"
                  "# HELP tilesrv_persist_hits_total Tiles read from a persistent cache.\n"
                  "# TYPE tilesrv_persist_hits_total counter\n"
                  "tilesrv_persist_hits_total %llu\n"
                  "# HELP tilesrv_persist_corrupt_total Damaged entries found (deleted, re-rendered).\n"
                  "# TYPE tilesrv_persist_corrupt_total counter\n"
                  "tilesrv_persist_corrupt_total %llu\n"
                  "# HELP tilesrv_persist_failing 1 while the last persistent write failed (e.g. disk full).\n"
                  "# TYPE tilesrv_persist_failing gauge\n"
                  "tilesrv_persist_failing %d\n"
                  "# HELP tilesrv_persist_suspended_tilesets Tilesets whose files changed on disk "
                  "since the running configuration loaded: their persistent cache is not written "
                  "until a reload succeeds.\n"
                  "# TYPE tilesrv_persist_suspended_tilesets gauge\n"
                  "tilesrv_persist_suspended_tilesets %d\n",
                  (unsigned long long)ps.persist.puts, (unsigned long long)ps.persist.put_errors,
                  (unsigned long long)ps.persist.hits, (unsigned long long)ps.persist.corrupt,
                  ps.persist_failing ? 1 : 0, ps.persist_suspended);
    /* the render lock of a cache shared by several nodes (Redis) */
    ts_buf_printf(b,
                  "# HELP tilesrv_shared_render_waits_total Metatiles whose render lock another "
                  "node held.\n"
                  "# TYPE tilesrv_shared_render_waits_total counter\n"
                  "tilesrv_shared_render_waits_total %llu\n"
                  "# HELP tilesrv_shared_render_hits_total Metatiles taken from the shared cache "
                  "after another node rendered them.\n"
                  "# TYPE tilesrv_shared_render_hits_total counter\n"
                  "tilesrv_shared_render_hits_total %llu\n",
                  (unsigned long long)ps.shared_waits, (unsigned long long)ps.shared_hits);
    ts_buf_printf(b,
                  "# HELP tilesrv_mvt_attribute_unconverted_total Vector tile attribute values "
                  "left out: not convertible to the type the config declares.\n"
                  "# TYPE tilesrv_mvt_attribute_unconverted_total counter\n"
                  "tilesrv_mvt_attribute_unconverted_total %llu\n"
                  "# HELP tilesrv_mvt_features_dropped_total Vector tile features left out "
                  "(smallest first) to keep tiles within mvt.max_bytes.\n"
                  "# TYPE tilesrv_mvt_features_dropped_total counter\n"
                  "tilesrv_mvt_features_dropped_total %llu\n"
                  "# HELP tilesrv_mvt_tiles_dropping_total Vector tiles that left features out "
                  "to stay within mvt.max_bytes.\n"
                  "# TYPE tilesrv_mvt_tiles_dropping_total counter\n"
                  "tilesrv_mvt_tiles_dropping_total %llu\n",
                  (unsigned long long)ps.mvt_unconverted, (unsigned long long)ps.mvt_dropped,
                  (unsigned long long)ps.mvt_dropped_tiles);
    if (h->o.live)
        ts_live_metrics(h->o.live, b);
    write_process(b);
    /* b's maximum is far above what is written (a few MB with 64 tilesets at every zoom);
     * an allocation failure leaves no data */
    return b->data != NULL ? TS_OK : TS_ENOMEM;
}
