/* pipeline/pipeline.c — get-or-render with metatiles, in-flight de-duplication, the
 * render pool, and the cache levels of each tileset (memory LRU -> disk | MBTiles | Redis). */
#include "pipeline/pipeline.h"

#include "pipeline/pipeline_int.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/pool.h"

#define TILE_PX 256
#define MAX_META 32

typedef struct waiter {
    struct waiter *next;
    uint32_t x, y;
    ts_tile_done done;
    void *ud;
} waiter;

/* The cache levels of one tileset of a service, per scale (index scale - 1). */
typedef struct tscache {
    const ts_tileset *ts;
    const ts_config *cfg;        /* the service's (the set holds a reference on it) */
    uint64_t version;
    /* tc_outdated: whether the tileset's files on disk still give version, looked at once
     * a second at most */
    _Atomic int64_t checked_ns;
    atomic_int outdated;
    ts_cache *mem[2];            /* views on the shared LRU */
    ts_cache *persist[2];        /* disk or MBTiles; NULL = memory only */
    ts_cache *stack[2];          /* tiered (mem, persist); NULL when memory only */
    pthread_mutex_t mu;          /* opening the scale 2 level on first use */
    atomic_int opened2;          /* 1 once the scale 2 level was tried */
    int memory_only;             /* ts_pipeline_opts.memory_only: no persistent level */
    char open_error[300];        /* why the scale 1 persistent level did not open, or "" */
    _Atomic int64_t replaced_ns; /* tc_replaced: when its files were last looked at */
} tscache;

/* The service and its tilesets' cache levels, swapped together on reload. Refcounted:
 * jobs in flight keep the set they started with. */
typedef struct cacheset {
    atomic_int refs;
    struct ts_pipeline *p;       /* its counters outlive it in p->persist_retired */
    int replaced;                /* a reload replaced it: persist_retired holds... */
    ts_cache_io_stats counted;   /* ...these counters of its levels already */
    ts_service *svc;             /* reference */
    int n;
    tscache *t;
    char open_error[256];        /* "tileset: why" of the first cache that did not open, or ""
                                  * (/health degraded until a reload opens it) */
    atomic_int reopened;         /* tc_replaced asked for a new set (once) */
} cacheset;

/* One metatile being rendered. Lives in the in-flight table until its waiters are told. */
typedef struct job {
    struct job *hnext;
    uint64_t hash;
    char key[160];
    ts_pipeline *p;
    cacheset *cs;                /* reference held for the job's lifetime */
    const ts_service *svc;       /* cs->svc */
    const ts_tileset *ts;
    tscache *tc;
    ts_metatile mt;
    int scale;
    waiter *waiters;
    ts_meta_done meta_done;      /* batch job (seed): hand the tiles over, cache nothing */
    void *meta_ud;
    int detached;                /* invalidated while in flight: out of the table, its tiles
                                  * not cached (under p->mu) */
} job;

/* Render times of one tileset name, by zoom level (0..RH_ZOOMS-1). */
#define RH_MAX 64
#define RH_ZOOMS 31
typedef struct render_hist {
    char *name;
    ts_hist z[RH_ZOOMS];
} render_hist;

/* What each render thread owns. */
typedef struct worker_state {
    ts_render_worker *rw;
    ts_canvas *strip;            /* one row of a metatile's tiles (reused while it fits) */
    ts_buf png;
} worker_state;

struct ts_pipeline {
    cacheset *cs;                /* current service and caches; read and swapped under svc_mu */
    int memory_only;             /* ts_pipeline_opts.memory_only */
    pthread_mutex_t svc_mu;
    ts_pool *pool;
    int nthreads;
    ts_mem_cache *cache;
    pthread_mutex_t mu;          /* in-flight table */
    job *inflight[1024];
    /* spare render workers lent to band rendering */
    pthread_mutex_t spare_mu;
    ts_render_worker **spare;
    int nspare;
    ts_pool *band_pool;
    atomic_ullong metatiles, encoded, uniform, joined, busy, render_ns, encode_ns, query_ns;
    atomic_ullong stale_served, revalidations;
    atomic_ullong shared_waits, shared_hits; /* render lock of a shared level (Redis) */
    atomic_ullong mvt_unconverted; /* vector tile attribute values not convertible */
    atomic_ullong mvt_dropped;     /* vector tile features dropped to meet mvt.max_bytes */
    atomic_ullong mvt_dropped_tiles; /* vector tiles that dropped some */
    ts_log_gate mvt_dropped_said;  /* its log line: once a minute */
    /* render time histograms by tileset name (added once, never removed: names are bounded
     * by the configurations loaded) and zoom */
    _Atomic(render_hist *) rh[RH_MAX];
    atomic_int nrh;
    pthread_mutex_t rh_mu;       /* adding a name */
    pthread_mutex_t perr_mu;     /* the last persistent write failure; persist_retired */
    ts_cache_io_stats persist_retired; /* counters of the persistent levels of cache sets
                                        * gone (replaced by a reload): metrics keep counting */
    /* tilesets whose latest persistent write failed (each said in the log when it starts
     * failing, again at most once a minute), until one of their writes succeeds */
    struct {
        char tileset[64];
        char error[200];
    } failing[16];
    int nfailing;                /* entries in failing (more failing tilesets: not listed) */
    int persist_failing;         /* nfailing > 0 (read without the lock as a hint) */
    uint64_t persist_logged_ns;  /* rate limit of the repeated warning */
    uint64_t probe_ns;           /* the last ts_pipeline_probe_shared */
    pthread_mutex_t xf_mu;       /* lon/lat -> grid CRS transformations of invalidations */
    struct {
        char crs[64];
        ts_source_xform *xf;
    } xf[8];
    int nxf;
};

static int borrow_spares(ts_pipeline *p, ts_render_worker **out, int max);
static void render_hist_add(ts_pipeline *p, const char *tileset, int z, uint64_t ns);
static void return_spares(ts_pipeline *p, ts_render_worker **w, int n);

/* ---- keys ------------------------------------------------------------------------------- */

void
ts_pipeline_tile_key(const ts_tileset *ts, int z, uint32_t x, uint32_t y, int scale, char *buf,
                     size_t size)
{
    snprintf(buf, size, "%s/%s/%d/%u/%u@%dx.%s", ts->name, ts->grid->name, z, x, y, scale,
             ts->mode == TS_PNG_PALETTE ? "png8" : "png");
}

static int
meta_size(const ts_tileset *ts, int scale)
{
    int m = ts->cfg->metatile > 0 ? ts->cfg->metatile : 8;
    m /= scale;
    return m < 1 ? 1 : m > MAX_META ? MAX_META : m;
}

static void
meta_key(const ts_tileset *ts, const ts_metatile *mt, int scale, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s/%d/%u/%u@%dx.%s", ts->name, ts->grid->name, mt->z, mt->x0,
             mt->y0, scale, ts->mode == TS_PNG_PALETTE ? "png8" : "png");
}

/* ---- workers ---------------------------------------------------------------------------- */

static void *
worker_init(int id, void *ud)
{
    (void)id;
    (void)ud;
    worker_state *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return NULL;
    ws->rw = ts_render_worker_new(NULL);
    ts_buf_init(&ws->png, 64u << 20);
    return ws;
}

static void
worker_fini(void *state, void *ud)
{
    (void)ud;
    worker_state *ws = state;
    if (ws == NULL)
        return;
    ts_render_worker_free(ws->rw);
    ts_canvas_free(ws->strip);
    ts_buf_fini(&ws->png);
    free(ws);
}

/* ---- data versions ---------------------------------------------------------------------- */

static uint64_t
hash_str(uint64_t h, const char *s)
{
    return s ? ts_hash_bytes(h, s, strlen(s) + 1) : ts_hash_bytes(h, "\001", 1);
}

static uint64_t
hash_u64(uint64_t h, uint64_t v)
{
    return ts_hash_bytes(h, &v, sizeof v);
}

/* The contents of a file (a style), or a marker when it cannot be read. */
static uint64_t
hash_file_contents(uint64_t h, const char *path)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (f == NULL)
        return hash_str(h, "(unreadable)");
    char buf[16384];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = ts_hash_bytes(h, buf, n);
    fclose(f);
    return h;
}

/* The size and modification time of path, when it exists and holds at least min bytes. */
static uint64_t
hash_stat(uint64_t h, const char *path, off_t min)
{
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size >= min) {
        h = hash_u64(h, (uint64_t)st.st_size);
        h = hash_u64(h, (uint64_t)st.st_mtim.tv_sec);
        h = hash_u64(h, (uint64_t)st.st_mtim.tv_nsec);
    }
    return h;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#define DIR_FILES_MAX 10000

/* The identity of a directory source (a folder of Shapefiles, of GeoJSON files, ...): each
 * file in it by name, size and modification time, in name order. Its own time changes
 * only when files come or go, not when a file is copied over in place. */
static uint64_t
hash_dir_files(uint64_t h, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return h;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < DIR_FILES_MAX) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (nn == NULL)
                break;
            names = nn;
            cap = nc;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            break;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_names);
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) < sizeof path) {
            h = hash_str(h, names[i]);
            h = hash_stat(h, path, 0);
        }
        free(names[i]);
    }
    free(names);
    return h;
}

/* The identity of a data file: path, size, modification time (connection strings: the
 * string alone); with the files that hold its data beside it: a SQLite database's
 * (GeoPackage's) write-ahead log when it holds frames (edits not yet checkpointed into the
 * file, as QGIS leaves them while editing; an empty one is any reader's), a Shapefile's
 * .dbf (its attributes), .shx, .prj and .cpg; of a directory, every file in it. */
static uint64_t
hash_file_identity(uint64_t h, const char *path)
{
    h = hash_str(h, path);
    if (path == NULL)
        return h;
    h = hash_stat(h, path, 0);
    struct stat dst;
    if (stat(path, &dst) == 0 && S_ISDIR(dst.st_mode))
        return hash_dir_files(h, path);
    char side[4096];
    size_t n = strlen(path);
    if (n + 5 > sizeof side)
        return h;
    snprintf(side, sizeof side, "%s-wal", path);
    h = hash_stat(h, side, 1);
    if (n > 4 && strcasecmp(path + n - 4, ".shp") == 0) {
        static const char *const ext[] = {"dbf", "shx", "prj", "cpg", "DBF", "SHX", "PRJ", "CPG"};
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
            memcpy(side, path, n - 3);
            memcpy(side + n - 3, ext[i], 4);
            h = hash_stat(h, side, 0);
        }
    }
    return h;
}

uint64_t
ts_pipeline__file_identity(const char *path)
{
    return hash_file_identity(TS_HASH_SEED, path);
}

/* What the tiles of a tileset are made of; never 0. */
static uint64_t
tileset_version(const ts_config *cfg, const ts_cfg_tileset *t)
{
    uint64_t h = TS_HASH_SEED;
    h = hash_str(h, t->name);
    h = hash_str(h, t->format);
    h = hash_u64(h, (uint64_t)t->metatile);
    h = hash_u64(h, (uint64_t)t->buffer_px);
    h = ts_hash_bytes(h, t->background, sizeof t->background);
    for (int i = 0; i < t->ngrids; i++) {
        const ts_grid *g = ts_config_grid(cfg, t->grids[i]);
        h = hash_str(h, t->grids[i]);
        if (g) {
            h = hash_str(h, g->crs);
            h = hash_u64(h, (uint64_t)g->nlevels);
            h = ts_hash_bytes(h, &g->levels[0].res, sizeof(double));
            h = ts_hash_bytes(h, &g->levels[0].origin_x, sizeof(double));
            h = ts_hash_bytes(h, &g->levels[0].origin_y, sizeof(double));
        }
    }
    for (int i = 0; i < t->nlayers; i++) {
        const ts_cfg_layer *l = ts_config_layer(cfg, t->layers[i]);
        h = hash_str(h, t->layers[i]);
        if (l == NULL)
            continue;
        h = hash_str(h, l->source);
        h = hash_str(h, l->table);
        h = hash_str(h, l->where);
        h = hash_str(h, l->srs);
        h = hash_str(h, l->style);
        h = hash_file_contents(h, l->style);
        const ts_cfg_source *src = ts_config_source(cfg, l->source);
        if (src) {
            h = hash_str(h, src->srs);
            h = hash_file_identity(h, src->path);
        }
    }
    h = ts_hash_mix(h);
    return h ? h : 1;
}

/* ---- cache levels ----------------------------------------------------------------------- */

/* 1 when the files tc's tileset is made of (its styles, its sources: tileset_version) have
 * changed on disk since this configuration was loaded. Such a server's renders are of a
 * version nobody else has any more: a seed run since (with the new files) has written
 * newer tiles, which it would take for stale and draw over again in its old style, and
 * into a directory cache its files would even look fresh. So until a reload it neither
 * writes the persistent level nor re-renders the stale tiles it finds there (answered as
 * they are). Looked at once a second at most; said once in the log. */
static int
tc_outdated(tscache *tc)
{
    int64_t now = (int64_t)ts_mono_ns(), last = atomic_load(&tc->checked_ns);
    if (now - last < 1000000000 || !atomic_compare_exchange_strong(&tc->checked_ns, &last, now))
        return atomic_load(&tc->outdated);
    int out = tileset_version(tc->cfg, tc->ts->cfg) != tc->version;
    if (out && !atomic_exchange(&tc->outdated, 1))
        ts_warn("tileset %s: its styles or data files changed on disk since the configuration "
                "was loaded: its persistent cache is neither written nor re-rendered until a "
                "reload (SIGHUP or POST /admin/reload)",
                tc->ts->name);
    else if (!out)
        atomic_store(&tc->outdated, 0);
    return out;
}

static int swap_cacheset(ts_pipeline *p, ts_service *svc, const cacheset *expect);
static int box_meets(const ts_bbox *a, const ts_bbox *b);

/* 1 when a file of tc's persistent levels was deleted or replaced while the server runs
 * (an operator removing an MBTiles file to clear the cache): the writes would go into the
 * unlinked file, so every tileset's cache levels are opened anew, as a reload opens them
 * (on this thread: a render thread), and the caller drops this batch. Looked at once every
 * 2 s at most; said once. */
static int
tc_replaced(ts_pipeline *p, cacheset *cs, tscache *tc)
{
    int64_t now = (int64_t)ts_mono_ns(), last = atomic_load(&tc->replaced_ns);
    if (now - last < 2000000000 ||
        !atomic_compare_exchange_strong(&tc->replaced_ns, &last, now))
        return 0;
    if (!ts_cache_replaced(tc->persist[0]) && !ts_cache_replaced(tc->persist[1]))
        return 0;
    if (atomic_exchange(&cs->reopened, 1))
        return 1;
    /* the same service with new cache levels; not when a reload has swapped in newer
     * ones meanwhile (they are new files already) */
    if (swap_cacheset(p, cs->svc, cs))
        ts_warn("cache of tileset %s: its file was deleted or replaced while the server ran: "
                "the caches were opened anew",
                tc->ts->name);
    return 1;
}

/* The description a persistent level is opened with. bounds: degrees, or NULL = from the
 * extent in the grid CRS (Web Mercator only), or the world. */
static void
fill_desc(ts_cache_desc *d, const ts_cfg_tileset *t, const ts_grid *g, int scale, uint64_t version,
          const ts_bbox *extent)
{
    memset(d, 0, sizeof *d);
    d->name = t->name;
    d->description = t->title;
    d->attribution = t->attribution;
    d->format = "png";
    d->type = t->background[3] == 255 ? "baselayer" : "overlay";
    d->grid = g;
    d->scale = scale;
    d->minzoom = t->minzoom;
    d->maxzoom = t->maxzoom > 0 ? t->maxzoom : g->nlevels - 1;
    d->version = version;
    d->expire_s = t->cache.expire_s;
    if (extent && g->epsg == 3857 && extent->maxx > extent->minx && extent->maxy > extent->miny) {
        ts_grid_mercator_to_lonlat(extent->minx, extent->miny, &d->bounds[0], &d->bounds[1]);
        ts_grid_mercator_to_lonlat(extent->maxx, extent->maxy, &d->bounds[2], &d->bounds[3]);
    }
}

/* The persistent level a `cache` entry describes; NULL without error for type memory. */
static ts_cache *
open_level(const ts_cfg_cache *cc, const ts_cache_desc *d, ts_err *err)
{
    if (cc->type && strcmp(cc->type, "redis") == 0) {
        ts_cache_redis_opts ro = {cc->url, cc->prefix, cc->ttl_s, cc->lock_timeout_s, 0};
        return ts_cache_redis_open(&ro, d, err);
    }
    if (cc->type == NULL || strcmp(cc->type, "memory") == 0 || cc->path == NULL)
        return NULL;
    if (strcmp(cc->type, "disk") == 0) {
        int layout = ts_cache_layout_parse(cc->layout);
        if (layout < 0) {
            TS_FAIL(err, TS_ECONFIG, "unknown cache layout '%s'", cc->layout);
            return NULL;
        }
        return ts_cache_disk_open(cc->path, (ts_cache_layout)layout, cc->fsync, d, err);
    }
    if (strcmp(cc->type, "mbtiles") == 0)
        return ts_cache_mbtiles_open(cc->path, d, err);
    TS_FAIL(err, TS_ECONFIG, "unknown cache type '%s'", cc->type);
    return NULL;
}

/* Open the persistent level of tc at scale s (1 or 2) and stack it under memory. */
static ts_status
tscache_open(tscache *tc, int s, ts_err *err)
{
    const ts_tileset *ts = tc->ts;
    ts_cache_desc d;
    fill_desc(&d, ts->cfg, ts->grid, s, tc->version, &ts->bounds);
    d.minzoom = ts->minzoom; /* this grid's levels of the tileset's range */
    d.maxzoom = ts->maxzoom;
    ts_err_clear(err);
    if (tc->memory_only)
        return TS_OK;
    /* MBTiles hold WebMercatorQuad tiles only: a tileset's other grids stay in memory */
    if (ts->cfg->cache.type && strcmp(ts->cfg->cache.type, "mbtiles") == 0 &&
        ts->grid->epsg != 3857)
        return TS_OK;
    ts_cache *pc = open_level(&ts->cfg->cache, &d, err);
    if (pc == NULL)
        return err->code == TS_OK ? TS_OK : err->code;
    /* tiles kept in memory expire as the persistent level's do */
    ts_cache_set_expire(tc->mem[s - 1], d.expire_s);
    ts_cache *levels[2] = {tc->mem[s - 1], pc};
    tc->stack[s - 1] = ts_cache_tiered_open(levels, 2);
    if (tc->stack[s - 1] == NULL) {
        ts_cache_unref(pc);
        return TS_FAIL(err, TS_ENOMEM, "cache levels");
    }
    tc->persist[s - 1] = pc;
    return TS_OK;
}

/* Add the counters of c (NULL: none) to *sum. */
static void
add_io_stats(ts_cache_io_stats *sum, ts_cache *c)
{
    if (c == NULL)
        return;
    ts_cache_io_stats s;
    ts_cache_io_stats_get(c, &s);
    ts_cache_io_stats_add(sum, &s, 1);
}

/* The counters of the persistent levels of cs, summed into *sum. */
static void
cacheset_io_stats(const cacheset *cs, ts_cache_io_stats *sum)
{
    for (int i = 0; i < cs->n; i++)
        for (int k = 0; k < 2; k++)
            add_io_stats(sum, cs->t[i].persist[k]);
}

static void
cacheset_free(cacheset *cs)
{
    /* what its levels counted since a reload replaced it (all of it, if none did) */
    ts_cache_io_stats gone = {0};
    cacheset_io_stats(cs, &gone);
    pthread_mutex_lock(&cs->p->perr_mu);
    if (cs->replaced)
        ts_cache_io_stats_add(&gone, &cs->counted, -1);
    ts_cache_io_stats_add(&cs->p->persist_retired, &gone, 1);
    pthread_mutex_unlock(&cs->p->perr_mu);
    for (int i = 0; i < cs->n; i++) {
        tscache *tc = &cs->t[i];
        for (int k = 0; k < 2; k++) {
            ts_cache_unref(tc->stack[k]);
            ts_cache_unref(tc->persist[k]);
            ts_cache_unref(tc->mem[k]);
        }
        pthread_mutex_destroy(&tc->mu);
    }
    free(cs->t);
    ts_service_unref(cs->svc);
    free(cs);
}

static cacheset *
cacheset_ref(cacheset *cs)
{
    atomic_fetch_add(&cs->refs, 1);
    return cs;
}

static void
cacheset_unref(cacheset *cs)
{
    if (cs && atomic_fetch_sub(&cs->refs, 1) == 1)
        cacheset_free(cs);
}

/* The cache levels of every tileset of svc. The scale 1 persistent levels are opened now:
 * with strict a failure fails the whole set (*err), otherwise it is logged, recorded for
 * /health (open_error) and the tileset keeps its tiles in memory only. */
static cacheset *
cacheset_new(ts_pipeline *p, ts_service *svc, int strict, ts_err *err)
{
    cacheset *cs = calloc(1, sizeof *cs);
    int n = ts_service_ntileset_grids(svc);
    if (cs == NULL || (cs->t = calloc((size_t)(n > 0 ? n : 1), sizeof *cs->t)) == NULL) {
        free(cs);
        TS_FAIL(err, TS_ENOMEM, "cache levels");
        return NULL;
    }
    atomic_init(&cs->refs, 1);
    atomic_init(&cs->reopened, 0);
    cs->p = p;
    cs->svc = ts_service_ref(svc);
    const ts_config *cfg = ts_service_config(svc);
    for (int i = 0; i < n; i++) {
        tscache *tc = &cs->t[cs->n++];
        tc->ts = ts_service_tileset_grid_at(svc, i);
        pthread_mutex_init(&tc->mu, NULL);
        atomic_init(&tc->opened2, 0);
        tc->cfg = cfg;
        tc->memory_only = p->memory_only;
        tc->version = tileset_version(cfg, tc->ts->cfg);
        atomic_init(&tc->checked_ns, (int64_t)ts_mono_ns());
        atomic_init(&tc->outdated, 0);
        atomic_init(&tc->replaced_ns, (int64_t)ts_mono_ns());
        for (int s = 1; s <= 2; s++) {
            char prefix[160], suffix[32];
            snprintf(prefix, sizeof prefix, "%s/%s/", tc->ts->name, tc->ts->grid->name);
            snprintf(suffix, sizeof suffix, "@%dx.%s", s,
                     tc->ts->mode == TS_PNG_PALETTE ? "png8" : "png");
            tc->mem[s - 1] = ts_cache_memory_open(p->cache, prefix, suffix);
            if (tc->mem[s - 1] == NULL) {
                TS_FAIL(err, TS_ENOMEM, "cache levels");
                cacheset_free(cs);
                return NULL;
            }
        }
        ts_err oerr;
        if (tscache_open(tc, 1, &oerr) != TS_OK) {
            char buf[700];
            if (strict) {
                if (err) {
                    *err = oerr;
                    snprintf(err->msg, sizeof err->msg, "cache of tileset %s: %.440s",
                             tc->ts->name, oerr.msg);
                }
                cacheset_free(cs);
                return NULL;
            }
            ts_err_format(&oerr, buf, sizeof buf);
            ts_error("cache of tileset %s cannot be opened, its tiles stay in memory only "
                     "until a reload opens it: %s",
                     tc->ts->name, buf);
            snprintf(tc->open_error, sizeof tc->open_error, "%.290s", buf);
            if (!cs->open_error[0])
                snprintf(cs->open_error, sizeof cs->open_error, "%.60s: cannot be opened: %.160s",
                         tc->ts->name, buf);
        }
    }
    return cs;
}

static tscache *
find_tscache(cacheset *cs, const ts_tileset *ts)
{
    for (int i = 0; i < cs->n; i++)
        if (cs->t[i].ts == ts)
            return &cs->t[i];
    return NULL;
}

/* The stacked levels of tc at scale s, opening the scale 2 ones on first use; NULL when
 * the tileset keeps tiles in memory only. */
static ts_cache *
level_stack(tscache *tc, int s)
{
    if (s == 2 && !atomic_load(&tc->opened2)) {
        pthread_mutex_lock(&tc->mu);
        if (!atomic_load(&tc->opened2)) {
            ts_err err;
            if (tscache_open(tc, 2, &err) != TS_OK)
                ts_error("cache of tileset %s (@2x) cannot be opened, tiles stay in memory "
                         "only: %s",
                         tc->ts->name, err.msg);
            atomic_store(&tc->opened2, 1);
        }
        pthread_mutex_unlock(&tc->mu);
    }
    return tc->stack[s - 1];
}

static cacheset *
current(ts_pipeline *p)
{
    pthread_mutex_lock(&p->svc_mu);
    cacheset *cs = cacheset_ref(p->cs);
    pthread_mutex_unlock(&p->svc_mu);
    return cs;
}

/* Record a failed persistent write of tileset: said when the tileset starts failing, and
 * again at most once a minute. */
static void
persist_failed(ts_pipeline *p, const char *tileset, const ts_err *err)
{
    uint64_t now = ts_mono_ns();
    pthread_mutex_lock(&p->perr_mu);
    int k = 0;
    while (k < p->nfailing && strcmp(p->failing[k].tileset, tileset) != 0)
        k++;
    /* a tileset beyond the listed ones is said at most once a minute, as repeats are */
    int first = k == p->nfailing && k < (int)(sizeof p->failing / sizeof p->failing[0]);
    if (first) {
        snprintf(p->failing[k].tileset, sizeof p->failing[k].tileset, "%s", tileset);
        p->nfailing++;
    }
    if (k < p->nfailing)
        snprintf(p->failing[k].error, sizeof p->failing[k].error, "%.190s", err->msg);
    p->persist_failing = 1;
    int log = first || now - p->persist_logged_ns > 60000000000ull;
    if (log)
        p->persist_logged_ns = now;
    pthread_mutex_unlock(&p->perr_mu);
    if (log)
        ts_warn("cache of tileset %s cannot be written, serving tiles uncached: %s", tileset,
                err->msg);
}

/* A persistent write of tileset (NULL: of every tileset) succeeded. */
static void
persist_ok(ts_pipeline *p, const char *tileset)
{
    if (!p->persist_failing)
        return;
    pthread_mutex_lock(&p->perr_mu);
    for (int k = 0; k < p->nfailing;) {
        if (tileset == NULL || strcmp(p->failing[k].tileset, tileset) == 0) {
            ts_info("cache writes of tileset %s work again", p->failing[k].tileset);
            p->failing[k] = p->failing[--p->nfailing];
        } else {
            k++;
        }
    }
    p->persist_failing = p->nfailing > 0;
    pthread_mutex_unlock(&p->perr_mu);
}

void
ts_pipeline_probe_shared(ts_pipeline *p)
{
    static const uint64_t every_ns = 5000000000ull;
    uint64_t now = ts_mono_ns();
    pthread_mutex_lock(&p->perr_mu);
    int due = p->persist_failing && now - p->probe_ns >= every_ns;
    if (due)
        p->probe_ns = now;
    pthread_mutex_unlock(&p->perr_mu);
    if (!due)
        return;
    cacheset *cs = current(p);
    int tried = 0, ok = 1;
    for (int i = 0; i < cs->n && ok; i++) {
        ts_cache *c = cs->t[i].persist[0];
        if (c == NULL || strcmp(ts_cache_kind(c), "redis") != 0)
            continue;
        ts_cache_info info;
        ts_status st = ts_cache_stat(c, 0, 0, 0, &info, NULL);
        tried = 1;
        ok = st == TS_OK || st == TS_ENOENT;
    }
    cacheset_unref(cs);
    if (tried && ok)
        persist_ok(p, NULL);
}

/* ---- service ---------------------------------------------------------------------------- */

ts_service *
ts_pipeline_service(ts_pipeline *p)
{
    pthread_mutex_lock(&p->svc_mu);
    ts_service *s = ts_service_ref(p->cs->svc);
    pthread_mutex_unlock(&p->svc_mu);
    return s;
}

/* New cache levels for svc swapped in place of the current set, when that is expect (NULL:
 * whatever it is). 1 when swapped. */
static int
swap_cacheset(ts_pipeline *p, ts_service *svc, const cacheset *expect)
{
    cacheset *ncs = cacheset_new(p, svc, 0, NULL);
    if (ncs == NULL) {
        ts_error("reload: out of memory for the cache levels; the old service stays");
        return 0;
    }
    /* the old levels' counters go on in persist_retired: taken with the swap, so that
     * ts_pipeline_stats_get (under perr_mu too) never sees them in neither place */
    pthread_mutex_lock(&p->perr_mu);
    pthread_mutex_lock(&p->svc_mu);
    cacheset *old = p->cs;
    if (expect != NULL && old != expect) {
        pthread_mutex_unlock(&p->svc_mu);
        pthread_mutex_unlock(&p->perr_mu);
        cacheset_unref(ncs);
        return 0;
    }
    p->cs = ncs;
    pthread_mutex_unlock(&p->svc_mu);
    cacheset_io_stats(old, &old->counted);
    old->replaced = 1;
    ts_cache_io_stats_add(&p->persist_retired, &old->counted, 1);
    pthread_mutex_unlock(&p->perr_mu);
    /* Keys carry no generation: drop what the old service rendered. */
    const ts_config *c = ts_service_config(old->svc);
    for (int i = 0; i < c->ntilesets; i++) {
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%s/", c->tilesets[i].name);
        ts_mem_cache_drop_prefix(p->cache, prefix);
    }
    cacheset_unref(old);
    return 1;
}

void
ts_pipeline_set_service(ts_pipeline *p, ts_service *svc)
{
    swap_cacheset(p, svc, NULL);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

ts_pipeline *
ts_pipeline_new(ts_service *svc, const ts_pipeline_opts *o, ts_err *err)
{
    ts_pipeline *p = calloc(1, sizeof *p);
    if (p == NULL) {
        TS_FAIL(err, TS_ENOMEM, "pipeline");
        return NULL;
    }
    p->nthreads = o->render_threads > 0 ? o->render_threads : 1;
    p->memory_only = o->memory_only;
    pthread_mutex_init(&p->svc_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->spare_mu, NULL);
    pthread_mutex_init(&p->perr_mu, NULL);
    pthread_mutex_init(&p->xf_mu, NULL);
    pthread_mutex_init(&p->rh_mu, NULL);
    p->cache = ts_mem_cache_new(o->cache_bytes);
    if (p->cache == NULL) {
        TS_FAIL(err, TS_ENOMEM, "tile cache");
        ts_pipeline_free(p);
        return NULL;
    }
    /* a cache that cannot be opened (disk full, permissions) leaves its tileset in memory
     * and the server up, degraded; a seed of that cache is refused with the reason */
    p->cs = cacheset_new(p, svc, 0, err);
    if (p->cs == NULL) {
        ts_pipeline_free(p);
        return NULL;
    }
    ts_pool_hooks hooks = {worker_init, worker_fini, p};
    p->pool = ts_pool_new(p->nthreads, o->queue_max > 0 ? o->queue_max : 256, &hooks, err);
    if (p->pool != NULL && o->db_threads > 0)
        ts_pool_set_limit(p->pool, o->db_threads);
    if (p->nthreads > 1) {
        p->band_pool = ts_pool_new(p->nthreads - 1, 64, NULL, err);
        p->spare = calloc((size_t)p->nthreads, sizeof *p->spare);
        for (int i = 0; p->spare && i < p->nthreads - 1; i++) {
            ts_render_worker *rw = ts_render_worker_new(NULL);
            if (rw)
                p->spare[p->nspare++] = rw;
        }
    }
    if (p->cache == NULL || p->pool == NULL || (p->nthreads > 1 && p->band_pool == NULL)) {
        if (p->cache == NULL)
            TS_FAIL(err, TS_ENOMEM, "tile cache");
        ts_pipeline_free(p);
        return NULL;
    }
    return p;
}

void
ts_pipeline_free(ts_pipeline *p)
{
    if (p == NULL)
        return;
    ts_pool_free(p->pool);      /* runs every queued job first */
    ts_pool_free(p->band_pool);
    for (int i = 0; i < p->nspare; i++)
        ts_render_worker_free(p->spare[i]);
    free(p->spare);
    cacheset_unref(p->cs); /* before the LRU its memory views point at */
    ts_mem_cache_free(p->cache);
    for (int i = 0; i < p->nxf; i++)
        ts_source_xform_free(p->xf[i].xf);
    for (int i = 0; i < atomic_load(&p->nrh); i++) {
        render_hist *r = atomic_load(&p->rh[i]);
        free(r->name);
        free(r);
    }
    pthread_mutex_destroy(&p->rh_mu);
    pthread_mutex_destroy(&p->xf_mu);
    pthread_mutex_destroy(&p->svc_mu);
    pthread_mutex_destroy(&p->perr_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->spare_mu);
    free(p);
}

/* ---- requests --------------------------------------------------------------------------- */

static ts_status
check_req(const ts_service *svc, const ts_tile_req *r, const char *grid, const ts_tileset **out,
          ts_err *err)
{
    const ts_tileset *ts = ts_service_tileset_grid(svc, r->tileset, grid);
    if (ts == NULL && grid != NULL && ts_service_tileset(svc, r->tileset) != NULL)
        return TS_FAIL(err, TS_ENOENT, "tileset '%s' is not offered in %s", r->tileset, grid);
    if (ts == NULL)
        return TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", r->tileset);
    if (r->scale != 1 && r->scale != 2)
        return TS_FAIL(err, TS_EINVAL, "scale must be 1 or 2");
    int minz = ts->minzoom, maxz = ts->maxzoom;
    if (minz > maxz)
        return TS_FAIL(err, TS_EINVAL, "tileset %s serves no level of %s (its zoom range is "
                       "of coarser or finer scales)", ts->name, ts->grid->name);
    if (r->z < minz || r->z > maxz)
        return TS_FAIL(err, TS_EINVAL, "zoom %d outside %d..%d of tileset %s%s%s", r->z, minz, maxz,
                       ts->name, grid ? " on " : "", grid ? ts->grid->name : "");
    if (!ts_grid_tile_valid(ts->grid, r->z, r->x, r->y))
        return TS_FAIL(err, TS_EINVAL, "tile %d/%u/%u outside the %s grid", r->z, r->x, r->y,
                       ts->grid->name);
    *out = ts;
    return TS_OK;
}

ts_status
ts_pipeline_check(ts_pipeline *p, const ts_tile_req *r, ts_err *err)
{
    return ts_pipeline_check_grid(p, r, NULL, err);
}

ts_status
ts_pipeline_check_grid(ts_pipeline *p, const ts_tile_req *r, const char *grid, ts_err *err)
{
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts;
    ts_status st = check_req(svc, r, grid, &ts, err);
    ts_service_unref(svc);
    return st;
}

ts_tile *
ts_pipeline_lookup(ts_pipeline *p, const ts_tile_req *r)
{
    return ts_pipeline_lookup_grid(p, r, NULL);
}

ts_tile *
ts_pipeline_lookup_grid(ts_pipeline *p, const ts_tile_req *r, const char *grid)
{
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts;
    ts_tile *t = NULL;
    if (check_req(svc, r, grid, &ts, NULL) == TS_OK) {
        char key[160];
        ts_pipeline_tile_key(ts, r->z, r->x, r->y, r->scale, key, sizeof key);
        t = ts_mem_cache_get(p->cache, key);
        /* past the tileset's `expire`: not answered here but by ts_pipeline_request (stale
         * while its metatile is re-rendered) */
        int64_t exp = ts->cfg->cache.expire_s;
        if (t != NULL && exp > 0 && t->mtime < ts_wall_s() - exp) {
            ts_tile_unref(t);
            t = NULL;
        }
    }
    ts_service_unref(svc);
    return t;
}

ts_mem_cache *
ts_pipeline__mem_cache(ts_pipeline *p)
{
    return p->cache;
}

ts_pool *
ts_pipeline__pool(ts_pipeline *p)
{
    return p->pool;
}

ts_status
ts_pipeline_run(ts_pipeline *p, void (*fn)(void *worker_state, void *arg), void *arg)
{
    return ts_pool_submit(p->pool, fn, arg);
}

ts_status
ts_pipeline_run_db(ts_pipeline *p, void (*fn)(void *worker_state, void *arg), void *arg, int db)
{
    return ts_pool_submit_limited(p->pool, fn, arg, db);
}

ts_pool *
ts_pipeline__band_pool(ts_pipeline *p)
{
    return p->band_pool;
}

int
ts_pipeline__nthreads(ts_pipeline *p)
{
    return p->nthreads;
}

ts_render_worker *
ts_pipeline__job_worker(void *state)
{
    worker_state *ws = state;
    return ws ? ws->rw : NULL;
}

int
ts_pipeline__borrow_spares(ts_pipeline *p, ts_render_worker **out, int max)
{
    return borrow_spares(p, out, max);
}

void
ts_pipeline__return_spares(ts_pipeline *p, ts_render_worker **w, int n)
{
    return_spares(p, w, n);
}

/* Borrow up to max spare render workers for band rendering. */
static int
borrow_spares(ts_pipeline *p, ts_render_worker **out, int max)
{
    pthread_mutex_lock(&p->spare_mu);
    int n = 0;
    while (n < max && p->nspare > 0)
        out[n++] = p->spare[--p->nspare];
    pthread_mutex_unlock(&p->spare_mu);
    return n;
}

static void
return_spares(ts_pipeline *p, ts_render_worker **w, int n)
{
    pthread_mutex_lock(&p->spare_mu);
    for (int i = 0; i < n; i++)
        p->spare[p->nspare++] = w[i];
    pthread_mutex_unlock(&p->spare_mu);
}

/* Encode tiles tx0 .. tx1 - 1 of row ty of the job's metatile from the strip c (tile tx0
 * at its pixel (0, 0)) into tiles[]: a uniform tile as the shared pre-encoded one, the
 * others as PNG. */
static ts_status
encode_tile_row(worker_state *ws, const job *j, const ts_canvas *c, uint32_t ty, uint32_t tx0,
                uint32_t tx1, int tpx, int64_t now, ts_tile **tiles, ts_err *err)
{
    ts_pipeline *p = j->p;
    const ts_tileset *ts = j->ts;
    ts_png_opts po = {ts->mode, -1, 0};
    for (uint32_t tx = tx0; tx < tx1; tx++) {
        int x0 = (int)(tx - tx0) * tpx;
        ts_tile *t = NULL;
        uint32_t px;
        size_t len;
        const uint8_t *shared;
        if (ts_region_uniform(c, x0, 0, tpx, tpx, &px) &&
            (shared = ts_png_uniform(px, tpx, tpx, ts->mode, &len)) != NULL) {
            t = ts_tile_new_shared(shared, len, now);
            atomic_fetch_add(&p->uniform, 1);
        } else {
            ws->png.len = 0;
            TS_TRY(ts_png_encode(c, x0, 0, tpx, tpx, &po, &ws->png, err));
            t = ts_tile_new(ws->png.data, ws->png.len, now);
            atomic_fetch_add(&p->encoded, 1);
        }
        if (t == NULL)
            return TS_FAIL(err, TS_ENOMEM, "tile");
        tiles[ty * j->mt.nx + tx] = t;
    }
    return TS_OK;
}

/* Bytes of the strip a metatile is drawn into (render_metatile): about a core's L2 cache,
 * so that the encoder reads the pixels just drawn from it. */
#define STRIP_BYTES ((size_t)1 << 20)

/* *c as a canvas of w x h pixels (reused while the size fits). */
static ts_status
canvas_fit(ts_canvas **c, int w, int h, ts_err *err)
{
    if (*c != NULL && (*c)->w == w && (*c)->h == h)
        return TS_OK;
    ts_canvas_free(*c);
    *c = ts_canvas_new(w, h, err);
    return *c ? TS_OK : TS_ENOMEM;
}

/* Render the job's metatile and encode its tiles; tiles[] gets one per tile (or NULL).
 * Nothing is cached here.
 *
 * Only the metatile's own tiles are drawn, not its buffer: every band of a render queries
 * its extent plus the reach of its symbols and places labels over the label margin, so no
 * stroke, marker or label is cut at the edge of what is drawn, and the buffer's pixels
 * would be thrown away (2176 x 2176 px drawn for 2048 x 2048 kept). The tiles are those of
 * drawing the buffered image (the same map-to-pixel transform up to a whole-pixel shift).
 *
 * The metatile is drawn one row of tiles at a time, in column parts of at most
 * STRIP_BYTES (4 tiles of 256 px), into a strip canvas, and a part's tiles are encoded
 * before the next part is drawn: the encoder reads pixels still in the cache, no 16 MiB
 * canvas is swept from memory by the clear, the drawing and the encoding in turn, and a
 * worker holds only its strip. With spare workers lent (an idle pool) each part is drawn
 * in parallel bands. */
static ts_status
render_metatile(worker_state *ws, job *j, ts_tile **tiles, ts_err *err)
{
    ts_pipeline *p = j->p;
    const ts_tileset *ts = j->ts;
    const ts_metatile *mt = &j->mt;
    const ts_grid *g = ts->grid;
    int s = j->scale;
    const ts_tile_matrix *tm = &g->levels[mt->z];
    int tpx = (int)tm->tile_w * s;
    int w = (int)(mt->nx * tm->tile_w) * s, h = (int)(mt->ny * tm->tile_h) * s;
    double inset = mt->buffer_px * mt->res;
    ts_bbox drawn = {mt->bbox.minx + inset, mt->bbox.miny + inset, mt->bbox.maxx - inset,
                     mt->bbox.maxy - inset};
    ts_pipeline__hold *hold = NULL;
    ts_render_req rq = {
        .layers = ts_pipeline__tileset_layers(j->svc, ts, &hold),
        .nlayers = ts->nlayers,
        .bbox = drawn,
        .width = w,
        .height = h,
        .scale_factor = s,
        .scale_denom = ts_render_scale_denom(mt->res, g->meters_per_unit),
        .background = ts->background,
        .fonts = ts->fonts,
    };
    ts_render_stats *rs = ts_render_worker_stats(ws->rw);
    uint64_t q0 = rs->query_ns;
    uint64_t t0 = ts_mono_ns(), render_ns = 0, encode_ns = 0;
    int64_t now = ts_wall_s();
    /* per-request (PostGIS) layers: their features of this metatile, on this worker */
    ts_pipeline__fetched *fetched = NULL;
    ts_status st = ts_pipeline__fetch_layers(j->svc, rq.layers, rq.nlayers, &rq.bbox, w, s,
                                             rq.scale_denom, NULL, NULL, &rq.layers, &fetched,
                                             err);
    if (st != TS_OK) {
        ts_pipeline__hold_release(hold);
        return st;
    }
    ts_render_worker *band[64];
    int nb = 0;
    /* Idle pool: lend the other cores to this metatile, each row of tiles in bands. */
    if (p->band_pool && ts_pool_queued(p->pool) == 0 && h >= 512)
        nb = borrow_spares(p, band + 1, p->nthreads - 1 < 63 ? p->nthreads - 1 : 63);
    band[0] = ws->rw;
    /* Columns of tiles drawn apart, so that a strip stays within STRIP_BYTES: each column
     * part is its own request over its tiles' extent (the same transform up to a whole-
     * pixel shift, as for the buffer above), drawn row of tiles by row of tiles. */
    uint32_t per = mt->nx;
    while (per > 1 && (size_t)per * (size_t)tpx * (size_t)tpx * 4 > STRIP_BYTES)
        per = (per + 1) / 2;
    st = canvas_fit(&ws->strip, (int)per * tpx, tpx, err);
    uint64_t t1 = t0;
    double tile_units = tm->tile_w * mt->res;
    for (uint32_t ty = 0; ty < mt->ny && st == TS_OK; ty++) {
        for (uint32_t c0 = 0; c0 < mt->nx && st == TS_OK; c0 += per) {
            uint32_t c1 = c0 + per < mt->nx ? c0 + per : mt->nx;
            ts_render_req part = rq;
            part.width = (int)(c1 - c0) * tpx;
            part.bbox.minx = drawn.minx + c0 * tile_units;
            part.bbox.maxx = c1 == mt->nx ? drawn.maxx : drawn.minx + c1 * tile_units;
            ts_canvas rows = *ws->strip;
            rows.owns = 0;
            rows.w = part.width;
            rows.row0 = (int)ty * tpx;
            rows.full_h = h;
            st = nb > 0 ? ts_render_draw_rows_bands(band, nb + 1, p->band_pool, &part, &rows, err)
                        : ts_render_draw_rows(ws->rw, &part, &rows, err);
            uint64_t t2 = ts_mono_ns();
            render_ns += t2 - t1;
            if (st == TS_OK)
                st = encode_tile_row(ws, j, &rows, ty, c0, c1, tpx, now, tiles, err);
            t1 = ts_mono_ns();
            encode_ns += t1 - t2;
        }
    }
    for (int i = 1; i <= nb; i++) {
        ts_render_stats *bs = ts_render_worker_stats(band[i]);
        atomic_fetch_add(&p->query_ns, bs->query_ns);
        memset(bs, 0, sizeof *bs);
    }
    if (nb > 0)
        return_spares(p, band + 1, nb);
    ts_pipeline__fetched_release(fetched);
    ts_pipeline__hold_release(hold);
    atomic_fetch_add(&p->render_ns, render_ns);
    render_hist_add(p, ts->name, mt->z, render_ns);
    atomic_fetch_add(&p->query_ns, rs->query_ns - q0);
    atomic_fetch_add(&p->metatiles, 1);
    atomic_fetch_add(&p->encode_ns, encode_ns);
    return st;
}

/* The tiles of a rendered metatile as cache items (tiles[] has mt->nx * mt->ny). */
static int
meta_items(const ts_metatile *mt, ts_tile **tiles, ts_cache_item *items)
{
    int n = 0;
    for (uint32_t ty = 0; ty < mt->ny; ty++)
        for (uint32_t tx = 0; tx < mt->nx; tx++)
            if (tiles[ty * mt->nx + tx])
                items[n++] = (ts_cache_item){mt->x0 + tx, mt->y0 + ty, tiles[ty * mt->nx + tx]};
    return n;
}

/* The tiles of j's metatile from the shared level pc, all of them fresh, into tiles[]; 1 when
 * they all came, 0 otherwise (nothing left in tiles[]). The last tile is looked at first:
 * the tiles of a metatile are written in one transaction. */
static int
shared_tiles(job *j, ts_cache *pc, ts_tile **tiles)
{
    const ts_metatile *mt = &j->mt;
    ts_cache_info info;
    if (ts_cache_stat(pc, mt->z, mt->x0 + mt->nx - 1, mt->y0 + mt->ny - 1, &info, NULL) != TS_OK ||
        info.stale)
        return 0;
    for (uint32_t i = 0; i < mt->nx * mt->ny; i++) {
        ts_tile *t = NULL;
        if (ts_cache_get(pc, mt->z, mt->x0 + i % mt->nx, mt->y0 + i / mt->nx, &t, &info, NULL) !=
                TS_OK ||
            info.stale) {
            ts_tile_unref(t);
            for (uint32_t k = 0; k < i; k++) {
                ts_tile_unref(tiles[k]);
                tiles[k] = NULL;
            }
            return 0;
        }
        tiles[i] = t;
    }
    return 1;
}

/* Several servers sharing the persistent level (Redis): render j's metatile on one of them.
 * Takes the level's lock for the metatile (token set: this node renders, and unlocks once
 * its tiles are written), or waits for the holder's tiles, polling, at most the lock's
 * expiry. 1 when tiles[] was filled from the shared level (nothing to render), 0 when this
 * node renders: it holds the lock, or the level cannot be reached, or the wait timed out. */
static int
shared_render_or_wait(ts_pipeline *p, job *j, ts_cache *pc, ts_tile **tiles, char *token,
                      size_t size)
{
    token[0] = '\0';
    uint64_t deadline = ts_mono_ns() + (uint64_t)ts_cache_lock_ms(pc) * 1000000;
    useconds_t pause = 5000;
    for (int first = 1;; first = 0) {
        ts_status st = ts_cache_lock(pc, j->key, token, size, NULL);
        if (st == TS_OK || st == TS_EBUSY)
            persist_ok(p, j->ts->name); /* the level answers again (after an outage) */
        if (st == TS_OK) {
            /* Another node may have finished between our miss and the lock. */
            if (shared_tiles(j, pc, tiles)) {
                ts_cache_unlock(pc, j->key, token, NULL);
                token[0] = '\0';
                atomic_fetch_add(&p->shared_hits, 1);
                return 1;
            }
            return 0;
        }
        token[0] = '\0';
        if (st != TS_EBUSY)
            return 0; /* unreachable: render uncached */
        if (first)
            atomic_fetch_add(&p->shared_waits, 1);
        if (ts_mono_ns() >= deadline) {
            ts_warn("render %s: the node holding its lock did not deliver in %d ms; rendering "
                    "here", j->key, ts_cache_lock_ms(pc));
            return 0;
        }
        usleep(pause);
        if (pause < 50000)
            pause *= 2;
        if (shared_tiles(j, pc, tiles)) {
            atomic_fetch_add(&p->shared_hits, 1);
            return 1;
        }
    }
}

static void
job_free(job *j)
{
    cacheset_unref(j->cs);
    free(j);
}

static void
job_run(void *state, void *arg)
{
    worker_state *ws = state;
    job *j = arg;
    ts_pipeline *p = j->p;
    ts_tile *tiles[MAX_META * MAX_META] = {0};
    ts_err err;
    ts_err_clear(&err);
    ts_status st;
    /* A shared level (several nodes): one node renders, the others take its tiles. */
    ts_cache *shared = j->meta_done ? NULL : j->tc->persist[j->scale - 1];
    char token[128] = "";
    int from_shared = 0;
    if (shared && ts_cache_lock_ms(shared) > 0)
        from_shared = shared_render_or_wait(p, j, shared, tiles, token, sizeof token);
    else
        shared = NULL;
    if (from_shared)
        st = TS_OK;
    else if (ws == NULL || ws->rw == NULL)
        st = TS_FAIL(&err, TS_ENOMEM, "render worker");
    else
        st = render_metatile(ws, j, tiles, &err);
    if (st != TS_OK) {
        static ts_log_gate gate; /* a source down fails every render: a line per 10 s */
        unsigned long held = 0;
        if (ts_log_gate_pass(&gate, 10, &held)) {
            if (held > 0)
                ts_warn("render %s failed: %s (%lu more renders failed in the last seconds, "
                        "not logged one by one)",
                        j->key, err.msg, held);
            else
                ts_warn("render %s failed: %s", j->key, err.msg);
        }
    }
    uint32_t ntiles = j->mt.nx * j->mt.ny;

    if (j->meta_done) {
        /* Batch job: the caller stores the tiles where it wants them. */
        ts_meta_tiles m = {j->mt.z, j->mt.x0, j->mt.y0, j->mt.nx, j->mt.ny, tiles, j->scale};
        j->meta_done(j->meta_ud, st, st == TS_OK ? &m : NULL, &err);
        for (uint32_t i = 0; i < ntiles; i++)
            ts_tile_unref(tiles[i]);
        job_free(j);
        return;
    }

    ts_cache_item items[MAX_META * MAX_META];
    int nitems = st == TS_OK ? meta_items(&j->mt, tiles, items) : 0;

    /* Memory first, so that requests arriving once the job has left the table hit it; under
     * the table's lock, so an invalidation either sees the job in flight (and detaches it)
     * or finds its tiles in memory. */
    pthread_mutex_lock(&p->mu);
    int detached = j->detached;
    if (nitems > 0 && !detached)
        ts_cache_put(j->tc->mem[j->scale - 1], j->mt.z, items, nitems, NULL);
    job **pp = &p->inflight[j->hash % 1024];
    while (*pp && *pp != j)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = j->hnext;
    waiter *w = j->waiters;
    pthread_mutex_unlock(&p->mu);
    if (detached || from_shared)
        nitems = 0; /* nor the persistent level (from_shared: the tiles are there) */

    while (w) {
        waiter *next = w->next;
        ts_tile *t = NULL;
        if (st == TS_OK) {
            t = tiles[(w->y - j->mt.y0) * j->mt.nx + (w->x - j->mt.x0)];
            if (t)
                ts_tile_ref(t);
        }
        w->done(w->ud, t ? TS_OK : (st != TS_OK ? st : TS_EINTERNAL), t, &err);
        free(w);
        w = next;
    }
    /* Then the persistent level, off the waiters' path. */
    ts_cache *pc = j->tc->persist[j->scale - 1];
    if (pc && tc_replaced(p, j->cs, j->tc))
        pc = NULL; /* the file is gone: the next renders write into the new one */
    if (nitems > 0 && pc && !tc_outdated(j->tc)) {
        ts_err perr;
        ts_err_clear(&perr);
        /* a batch of uniform tiles alone proves nothing: a disk cache stores them as hard
         * links, which need no space on a full disk (its failure flapped) */
        int data = 0;
        for (int i = 0; i < nitems && !data; i++)
            data = !items[i].tile->shared;
        /* blank tiles wholly outside the data are not stored in a disk or MBTiles cache:
         * they cost nothing to draw again, and stored they let anyone fill the disk
         * (random z24 tiles far from the city wrote 12 MB/s of files and directories per
         * client). A cache shared by several nodes (Redis: its own TTL and memory policy)
         * keeps them, so the other nodes take them instead of drawing them too. */
        const ts_bbox *db = &j->ts->bounds;
        int outside = !data && ts_cache_lock_ms(pc) == 0 && db->maxx > db->minx &&
                      db->maxy > db->miny && !box_meets(db, &j->mt.bbox);
        if (!outside && ts_cache_put(pc, j->mt.z, items, nitems, &perr) != TS_OK)
            persist_failed(p, j->ts->name, &perr);
        else if (!outside && data)
            persist_ok(p, j->ts->name);
    }
    if (shared && token[0])
        ts_cache_unlock(shared, j->key, token, NULL);
    for (uint32_t i = 0; i < ntiles; i++)
        ts_tile_unref(tiles[i]);
    job_free(j);
}

static job *
job_new(ts_pipeline *p, cacheset *cs, const ts_tileset *ts, const ts_metatile *mt, int scale,
        const char *mkey, uint64_t h)
{
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->hash = h;
    snprintf(j->key, sizeof j->key, "%s", mkey);
    j->p = p;
    j->cs = cacheset_ref(cs);
    j->svc = cs->svc;
    j->ts = ts;
    j->tc = find_tscache(cs, ts);
    j->mt = *mt;
    j->scale = scale;
    return j;
}

/* Join the render in flight of r's metatile, or queue one. w (NULL: a background render
 * nobody waits for) is added to its waiters. *hit receives the tile when it turned up in
 * memory in the meantime (then w is not used). TS_OK, TS_EBUSY or TS_ENOMEM. */
static ts_status
join_or_queue(ts_pipeline *p, cacheset *cs, const ts_tileset *ts, const ts_tile_req *r,
              const char *key, waiter *w, ts_tile **hit, ts_err *err)
{
    int buffer = ts->cfg->buffer_px >= 0 ? ts->cfg->buffer_px : 64;
    ts_metatile mt = ts_grid_metatile(ts->grid, r->z, r->x, r->y, meta_size(ts, r->scale), buffer);
    char mkey[160];
    meta_key(ts, &mt, r->scale, mkey, sizeof mkey);
    uint64_t h = ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, mkey, strlen(mkey)));
    *hit = NULL;

    pthread_mutex_lock(&p->mu);
    /* A render in flight for this metatile: wait on it. */
    for (job *j = p->inflight[h % 1024]; j; j = j->hnext) {
        if (j->hash == h && strcmp(j->key, mkey) == 0 && j->svc == cs->svc) {
            if (w) {
                w->next = j->waiters;
                j->waiters = w;
                atomic_fetch_add(&p->joined, 1);
            }
            pthread_mutex_unlock(&p->mu);
            return TS_OK;
        }
    }
    /* The render may have finished between the cache miss and taking the lock. */
    if (w) {
        *hit = ts_mem_cache_recheck(p->cache, key);
        if (*hit) {
            pthread_mutex_unlock(&p->mu);
            return TS_OK;
        }
    }
    job *j = job_new(p, cs, ts, &mt, r->scale, mkey, h);
    if (j == NULL) {
        pthread_mutex_unlock(&p->mu);
        return TS_FAIL(err, TS_ENOMEM, "job");
    }
    j->waiters = w;
    j->hnext = p->inflight[h % 1024];
    p->inflight[h % 1024] = j;
    if (ts_pool_submit_limited(p->pool, job_run, j,
                               ts_pipeline__layers_use_db(cs->svc, ts->layers, ts->nlayers)) !=
        TS_OK) {
        p->inflight[h % 1024] = j->hnext;
        pthread_mutex_unlock(&p->mu);
        job_free(j);
        atomic_fetch_add(&p->busy, 1);
        return TS_FAIL(err, TS_EBUSY, "render queue full");
    }
    pthread_mutex_unlock(&p->mu);
    return TS_OK;
}

ts_status
ts_pipeline_request(ts_pipeline *p, const ts_tile_req *r, ts_tile_done done, void *ud,
                    ts_err *err)
{
    return ts_pipeline_request_grid(p, r, NULL, done, ud, err);
}

ts_status
ts_pipeline_request_grid(ts_pipeline *p, const ts_tile_req *r, const char *grid, ts_tile_done done,
                         void *ud, ts_err *err)
{
    return ts_pipeline_request_grid_stale(p, r, grid, done, ud, NULL, err);
}

ts_status
ts_pipeline_request_grid_stale(ts_pipeline *p, const ts_tile_req *r, const char *grid,
                               ts_tile_done done, void *ud, int *stale, ts_err *err)
{
    cacheset *cs = current(p);
    const ts_tileset *ts;
    ts_status st = check_req(cs->svc, r, grid, &ts, err);
    if (st != TS_OK) {
        cacheset_unref(cs);
        return st;
    }
    char key[160];
    ts_pipeline_tile_key(ts, r->z, r->x, r->y, r->scale, key, sizeof key);
    /* Memory, then the persistent level if the tileset has one (read on this thread: one
     * small file or row); a fresh tile found there is promoted to memory. */
    tscache *tc = find_tscache(cs, ts);
    ts_cache *stack = tc ? level_stack(tc, r->scale) : NULL;
    ts_tile *t = NULL;
    if (stack == NULL) {
        t = ts_mem_cache_recheck(p->cache, key); /* counted by the lookup before */
        if (t) {
            cacheset_unref(cs);
            done(ud, TS_OK, t, NULL);
            return TS_OK;
        }
    } else {
        ts_cache_info info;
        if (ts_cache_get(stack, r->z, r->x, r->y, &t, &info, NULL) == TS_OK) {
            if (info.stale) {
                atomic_fetch_add(&p->stale_served, 1);
                if (stale != NULL)
                    *stale = 1;
            }
            if (info.stale && !tc_outdated(tc)) {
                /* Stale-while-revalidate: answer now, re-render in the background (a full
                 * queue only postpones it to a later request). */
                ts_tile *ignored = NULL;
                if (join_or_queue(p, cs, ts, r, key, NULL, &ignored, NULL) == TS_OK)
                    atomic_fetch_add(&p->revalidations, 1);
            }
            cacheset_unref(cs);
            done(ud, TS_OK, t, NULL);
            return TS_OK;
        }
    }
    waiter *w = malloc(sizeof *w);
    if (w == NULL) {
        cacheset_unref(cs);
        return TS_FAIL(err, TS_ENOMEM, "waiter");
    }
    *w = (waiter){NULL, r->x, r->y, done, ud};
    ts_tile *hit = NULL;
    st = join_or_queue(p, cs, ts, r, key, w, &hit, err);
    cacheset_unref(cs);
    if (st != TS_OK || hit) {
        free(w);
        if (hit)
            done(ud, TS_OK, hit, NULL);
        return st;
    }
    return TS_OK;
}

/* ---- blocking form ---------------------------------------------------------------------- */

typedef struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    ts_status st;
    ts_tile *tile;
    ts_err err;
} sync_wait;

static void
sync_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err)
{
    sync_wait *sw = ud;
    pthread_mutex_lock(&sw->mu);
    sw->st = st;
    sw->tile = tile;
    if (err)
        sw->err = *err;
    sw->done = 1;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
}

ts_status
ts_pipeline_get(ts_pipeline *p, const ts_tile_req *r, ts_tile **out, ts_err *err)
{
    sync_wait sw;
    memset(&sw, 0, sizeof sw);
    pthread_mutex_init(&sw.mu, NULL);
    pthread_cond_init(&sw.cv, NULL);
    ts_status st;
    for (;;) {
        st = ts_pipeline_request(p, r, sync_done, &sw, err);
        if (st != TS_EBUSY)
            break;
        ts_pool_wait_idle(p->pool); /* batch callers: wait for room rather than fail */
    }
    if (st == TS_OK) {
        pthread_mutex_lock(&sw.mu);
        while (!sw.done)
            pthread_cond_wait(&sw.cv, &sw.mu);
        pthread_mutex_unlock(&sw.mu);
        st = sw.st;
        *out = sw.tile;
        if (st != TS_OK && err)
            *err = sw.err;
    }
    pthread_mutex_destroy(&sw.mu);
    pthread_cond_destroy(&sw.cv);
    return st;
}

void
ts_pipeline__count_unconverted(ts_pipeline *p, uint64_t n)
{
    atomic_fetch_add(&p->mvt_unconverted, n);
}

void
ts_pipeline__count_mvt_dropped(ts_pipeline *p, const ts_tileset *ts, int z, uint32_t x,
                               uint32_t y, uint32_t dropped, uint32_t kept, size_t max_bytes)
{
    atomic_fetch_add(&p->mvt_dropped, dropped);
    atomic_fetch_add(&p->mvt_dropped_tiles, 1);
    if (ts_log_gate_pass(&p->mvt_dropped_said, 60, NULL))
        ts_warn("vector tile %s/%s/%d/%u/%u: %u of %u features left out to stay within "
                "mvt.max_bytes (%zu bytes), the smallest first; raise tilesets.%s.mvt.max_bytes "
                "or carry fewer attributes (counted in tilesrv_mvt_features_dropped_total; said "
                "at most once a minute)",
                ts->name, ts->grid->name, z, x, y, dropped, dropped + kept, max_bytes, ts->name);
}

void
ts_pipeline_stats_get(ts_pipeline *p, ts_pipeline_stats *o)
{
    memset(o, 0, sizeof *o);
    o->metatiles_rendered = atomic_load(&p->metatiles);
    o->tiles_encoded = atomic_load(&p->encoded);
    o->tiles_uniform = atomic_load(&p->uniform);
    o->joined = atomic_load(&p->joined);
    o->busy = atomic_load(&p->busy);
    o->render_ns = atomic_load(&p->render_ns);
    o->encode_ns = atomic_load(&p->encode_ns);
    o->query_ns = atomic_load(&p->query_ns);
    o->queued = ts_pool_queued(p->pool);
    ts_mem_cache_stats_get(p->cache, &o->cache);
    o->stale_served = atomic_load(&p->stale_served);
    o->revalidations = atomic_load(&p->revalidations);
    o->mvt_unconverted = atomic_load(&p->mvt_unconverted);
    o->mvt_dropped = atomic_load(&p->mvt_dropped);
    o->mvt_dropped_tiles = atomic_load(&p->mvt_dropped_tiles);
    o->shared_waits = atomic_load(&p->shared_waits);
    o->shared_hits = atomic_load(&p->shared_hits);
    ts_pg_stats pgs;
    ts_pg_stats_get(&pgs);
    o->pg_queries = pgs.queries;
    o->pg_errors = pgs.errors;
    o->pg_failing = ts_pg_failing(o->pg_error, sizeof o->pg_error);
    /* the tilesets' files looked at now (once a second at most; file I/O, so before the
     * lock), not only when a render would write: a server asked only for cached tiles had
     * said ok while its files had changed */
    cacheset *now = current(p);
    for (int i = 0; i < now->n; i++)
        tc_outdated(&now->t[i]);
    cacheset_unref(now);
    pthread_mutex_lock(&p->perr_mu); /* the current set and persist_retired, consistent */
    cacheset *cs = current(p);
    cacheset_io_stats(cs, &o->persist);
    ts_cache_io_stats_add(&o->persist, &p->persist_retired, 1);
    o->persist_suspended = 0;
    o->suspended_tileset[0] = '\0';
    for (int i = 0; i < cs->n; i++) { /* tilesets, each once (cs->t has one per grid) */
        if (!atomic_load(&cs->t[i].outdated))
            continue;
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = atomic_load(&cs->t[k].outdated) &&
                   strcmp(cs->t[k].ts->name, cs->t[i].ts->name) == 0;
        if (seen)
            continue;
        if (o->persist_suspended++ == 0)
            snprintf(o->suspended_tileset, sizeof o->suspended_tileset, "%s", cs->t[i].ts->name);
    }
    o->persist_failing = p->nfailing > 0 || cs->open_error[0];
    o->persist_error[0] = '\0';
    if (cs->open_error[0])
        snprintf(o->persist_error, sizeof o->persist_error, "%s", cs->open_error);
    else if (p->nfailing > 0)
        snprintf(o->persist_error, sizeof o->persist_error, "%.60s: %.180s", p->failing[0].tileset,
                 p->failing[0].error);
    int more = p->nfailing - (cs->open_error[0] ? 0 : 1);
    for (int k = p->nfailing - more; k < p->nfailing; k++) { /* and the others, by name */
        size_t len = strlen(o->persist_error);
        snprintf(o->persist_error + len, sizeof o->persist_error - len, "%s%s",
                 k == p->nfailing - more ? "; also failing: " : ", ", p->failing[k].tileset);
    }
    pthread_mutex_unlock(&p->perr_mu);
    cacheset_unref(cs); /* not under perr_mu: freeing the set takes it */
}

/* ---- render time histograms ------------------------------------------------------------- */

/* The histograms of tileset, or NULL (not yet added). Lock-free: entries are published
 * after they are filled (release store of nrh) and never move. */
static render_hist *
render_hist_find(ts_pipeline *p, const char *tileset)
{
    int n = atomic_load_explicit(&p->nrh, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        render_hist *r = atomic_load_explicit(&p->rh[i], memory_order_relaxed);
        if (strcmp(r->name, tileset) == 0)
            return r;
    }
    return NULL;
}

/* Count one metatile draw of ns on tileset at zoom z. Dropped beyond RH_MAX names, above
 * zoom RH_ZOOMS-1, or out of memory (then only the totals count it). */
static void
render_hist_add(ts_pipeline *p, const char *tileset, int z, uint64_t ns)
{
    if (z < 0 || z >= RH_ZOOMS)
        return;
    render_hist *r = render_hist_find(p, tileset);
    if (r == NULL) {
        pthread_mutex_lock(&p->rh_mu);
        int n = atomic_load(&p->nrh);
        if ((r = render_hist_find(p, tileset)) == NULL && n < RH_MAX &&
            (r = calloc(1, sizeof *r)) != NULL) {
            if ((r->name = strdup(tileset)) != NULL) {
                for (int k = 0; k < RH_ZOOMS; k++)
                    ts_hist_init(&r->z[k]);
                atomic_store_explicit(&p->rh[n], r, memory_order_relaxed);
                atomic_store_explicit(&p->nrh, n + 1, memory_order_release);
            } else {
                free(r);
                r = NULL;
            }
        }
        pthread_mutex_unlock(&p->rh_mu);
        if (r == NULL)
            return;
    }
    ts_hist_add(&r->z[z], ns);
}

void
ts_pipeline_render_hists(ts_pipeline *p, ts_pipeline_hist_fn fn, void *ud)
{
    int n = atomic_load_explicit(&p->nrh, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        const render_hist *r = atomic_load_explicit(&p->rh[i], memory_order_relaxed);
        for (int z = 0; z < RH_ZOOMS; z++) {
            ts_hist_snap s;
            ts_hist_read(&r->z[z], &s);
            if (s.count > 0)
                fn(ud, r->name, z, &s);
        }
    }
}

/* ---- persistent caches and batch rendering ---------------------------------------------- */

int
ts_pipeline_meta_size(const ts_tileset *ts, int scale)
{
    return meta_size(ts, scale);
}

uint64_t
ts_pipeline_tileset_version(ts_pipeline *p, const char *tileset)
{
    cacheset *cs = current(p);
    uint64_t v = 0;
    const ts_tileset *ts = ts_service_tileset(cs->svc, tileset);
    tscache *tc = ts ? find_tscache(cs, ts) : NULL;
    if (tc)
        v = tc->version;
    cacheset_unref(cs);
    return v;
}

ts_cache *
ts_pipeline_tileset_cache(ts_pipeline *p, const char *tileset, const char *grid, int scale,
                          ts_err *err)
{
    cacheset *cs = current(p);
    ts_cache *c = NULL;
    const ts_tileset *ts = grid ? ts_service_tileset_grid(cs->svc, tileset, grid)
                                : ts_service_tileset(cs->svc, tileset);
    tscache *tc = ts ? find_tscache(cs, ts) : NULL;
    if (tc == NULL) {
        TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", tileset);
    } else if (scale != 1 && scale != 2) {
        TS_FAIL(err, TS_EINVAL, "scale must be 1 or 2");
    } else {
        level_stack(tc, scale);
        if (tc->persist[scale - 1])
            c = ts_cache_ref(tc->persist[scale - 1]);
        else if (scale == 1 && tc->open_error[0])
            TS_FAIL(err, TS_EIO, "cache of tileset %s cannot be opened: %s", tileset,
                    tc->open_error);
        else
            TS_FAIL(err, TS_ENOENT, "tileset %s has no persistent cache (cache type %s)",
                    tileset, ts->cfg->cache.type ? ts->cfg->cache.type : "memory");
    }
    cacheset_unref(cs);
    return c;
}

ts_cache *
ts_pipeline_open_cache(ts_pipeline *p, const char *tileset, const char *grid, int scale,
                       const ts_cfg_cache *cc, int minz, int maxz, const double *bounds,
                       ts_err *err)
{
    cacheset *cs = current(p);
    ts_cache *c = NULL;
    const ts_tileset *ts = grid ? ts_service_tileset_grid(cs->svc, tileset, grid)
                                : ts_service_tileset(cs->svc, tileset);
    tscache *tc = ts ? find_tscache(cs, ts) : NULL;
    if (tc == NULL) {
        TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", tileset);
    } else {
        ts_cache_desc d;
        fill_desc(&d, ts->cfg, ts->grid, scale, tc->version, &ts->bounds);
        d.minzoom = minz;
        d.maxzoom = maxz;
        if (bounds)
            memcpy(d.bounds, bounds, sizeof d.bounds);
        ts_err_clear(err);
        c = open_level(cc, &d, err);
        if (c == NULL && err && err->code == TS_OK)
            TS_FAIL(err, TS_EINVAL, "cache type %s keeps nothing", cc->type ? cc->type : "?");
    }
    cacheset_unref(cs);
    return c;
}

ts_cache *
ts_pipeline_open_config_cache(const ts_config *cfg, const ts_cfg_tileset *t, int scale,
                              ts_err *err)
{
    const ts_grid *g = ts_config_grid(cfg, t->ngrids > 0 ? t->grids[0] : "WebMercatorQuad");
    if (g == NULL) {
        TS_FAIL(err, TS_ECONFIG, "tileset %s: unknown grid", t->name);
        return NULL;
    }
    if (t->cache.type == NULL || strcmp(t->cache.type, "memory") == 0) {
        TS_FAIL(err, TS_ENOENT, "tileset %s has no persistent cache (cache type memory)", t->name);
        return NULL;
    }
    ts_cache_desc d;
    fill_desc(&d, t, g, scale, 0, NULL);
    ts_err_clear(err);
    return open_level(&t->cache, &d, err);
}

ts_status
ts_pipeline_render_meta(ts_pipeline *p, const char *tileset, const char *grid, int z, uint32_t x,
                        uint32_t y, int scale, ts_meta_done done, void *ud, ts_err *err)
{
    cacheset *cs = current(p);
    const ts_tileset *ts;
    ts_tile_req r = {tileset, z, x, y, scale};
    ts_status st = check_req(cs->svc, &r, grid, &ts, err);
    if (st != TS_OK) {
        cacheset_unref(cs);
        return st;
    }
    int buffer = ts->cfg->buffer_px >= 0 ? ts->cfg->buffer_px : 64;
    ts_metatile mt = ts_grid_metatile(ts->grid, z, x, y, meta_size(ts, scale), buffer);
    char mkey[160];
    meta_key(ts, &mt, scale, mkey, sizeof mkey);
    job *j = job_new(p, cs, ts, &mt, scale, mkey, 0);
    cacheset_unref(cs);
    if (j == NULL)
        return TS_FAIL(err, TS_ENOMEM, "job");
    j->meta_done = done;
    j->meta_ud = ud;
    if (ts_pool_submit(p->pool, job_run, j) != TS_OK) {
        job_free(j);
        return TS_FAIL(err, TS_EBUSY, "render queue full");
    }
    return TS_OK;
}

/* ---- live layers: store swaps and exact invalidation ------------------------------------ */

ts_status
ts_pipeline_layer_set_store(ts_pipeline *p, const char *layer, const char *crs, ts_store *store,
                            ts_err *err)
{
    ts_service *svc = ts_pipeline_service(p);
    ts_status st = ts_service_layer_set_store(svc, layer, crs, store, err);
    ts_service_unref(svc);
    return st;
}

/* lonlat (degrees) as a box in crs. 0 on success. */
static int
lonlat_to_crs(ts_pipeline *p, const char *crs, ts_bbox lonlat, ts_bbox *out)
{
    if (strcmp(crs, "EPSG:3857") == 0) {
        double lat0 = lonlat.miny < -85.06 ? -85.06 : lonlat.miny;
        double lat1 = lonlat.maxy > 85.06 ? 85.06 : lonlat.maxy;
        ts_grid_lonlat_to_mercator(lonlat.minx, lat0, &out->minx, &out->miny);
        ts_grid_lonlat_to_mercator(lonlat.maxx, lat1, &out->maxx, &out->maxy);
        return 0;
    }
    if (strcmp(crs, "CRS:84") == 0 || strcmp(crs, "OGC:CRS84") == 0 ||
        strcmp(crs, "EPSG:4326") == 0) {
        *out = lonlat;
        return 0;
    }
    int ok = 0;
    pthread_mutex_lock(&p->xf_mu);
    ts_source_xform *xf = NULL;
    for (int i = 0; i < p->nxf && xf == NULL; i++)
        if (strcmp(p->xf[i].crs, crs) == 0)
            xf = p->xf[i].xf;
    if (xf == NULL && p->nxf < (int)(sizeof p->xf / sizeof p->xf[0])) {
        ts_err err;
        ts_err_clear(&err);
        xf = ts_source_xform_new("OGC:CRS84", crs, &err);
        if (xf) {
            snprintf(p->xf[p->nxf].crs, sizeof p->xf[p->nxf].crs, "%s", crs);
            p->xf[p->nxf++].xf = xf;
        } else {
            ts_warn("invalidation: no transformation to %s: %s", crs, err.msg);
        }
    }
    if (xf)
        ok = ts_source_xform_box(xf, 0, &lonlat, out);
    pthread_mutex_unlock(&p->xf_mu);
    return ok ? 0 : -1;
}

static int
box_meets(const ts_bbox *a, const ts_bbox *b)
{
    return a->minx <= b->maxx && b->minx <= a->maxx && a->miny <= b->maxy && b->miny <= a->maxy;
}

/* Tiles of one zoom beyond which the level is dropped as a whole (one cache scan each). */
#define INVALIDATE_MAX_TILES 1024

long
ts_pipeline_invalidate(ts_pipeline *p, const char *tileset, const char *grid, ts_bbox lonlat,
                       double buffer_px)
{
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts = ts_service_tileset_grid(svc, tileset, grid);
    ts_bbox box;
    if (ts == NULL || !(lonlat.minx <= lonlat.maxx && lonlat.miny <= lonlat.maxy) ||
        lonlat_to_crs(p, ts->grid->crs, lonlat, &box) != 0) {
        ts_service_unref(svc);
        return -1;
    }
    const ts_grid *g = ts->grid;
    int minz = ts->minzoom, maxz = ts->maxzoom;
    /* one pixel more for anti-aliasing at the symbol's edge */
    double grow_px = (buffer_px > 0 ? buffer_px : 0) + 1;

    /* In flight first: a job detached now caches nothing; one that already left the table
     * put its tiles in memory, and they are dropped below. */
    pthread_mutex_lock(&p->mu);
    for (int b = 0; b < 1024; b++) {
        for (job **pp = &p->inflight[b]; *pp;) {
            job *j = *pp;
            int z = j->mt.z;
            int hit = !j->meta_done && strcmp(j->ts->grid->name, g->name) == 0 &&
                      strcmp(j->ts->name, ts->name) == 0 &&
                      z >= minz && z <= maxz;
            if (hit) {
                double m = grow_px * g->levels[z].res;
                ts_bbox gb = {box.minx - m, box.miny - m, box.maxx + m, box.maxy + m};
                hit = box_meets(&gb, &j->mt.bbox);
            }
            if (hit) {
                j->detached = 1;
                *pp = j->hnext;
                j->hnext = NULL;
            } else {
                pp = &j->hnext;
            }
        }
    }
    pthread_mutex_unlock(&p->mu);

    long dropped = 0;
    char key[200];
    for (int z = minz; z <= maxz; z++) {
        double m = grow_px * g->levels[z].res;
        ts_bbox gb = {box.minx - m, box.miny - m, box.maxx + m, box.maxy + m};
        uint32_t c0, r0, c1, r1;
        if (!ts_grid_tile_range(g, z, gb, &c0, &r0, &c1, &r1))
            continue;
        if ((uint64_t)(c1 - c0 + 1) * (r1 - r0 + 1) > INVALIDATE_MAX_TILES) {
            snprintf(key, sizeof key, "%s/%s/%d/", ts->name, g->name, z);
            dropped += (long)ts_mem_cache_drop_prefix(p->cache, key);
            continue;
        }
        for (uint32_t y = r0; y <= r1; y++)
            for (uint32_t x = c0; x <= c1; x++) {
                /* The LRU drops by prefix with a scan of every entry: probe the two scales'
                 * keys first (a hash lookup each) and scan only when one is cached. */
                int cached = 0;
                for (int sc = 1; sc <= 2 && !cached; sc++) {
                    ts_pipeline_tile_key(ts, z, x, y, sc, key, sizeof key);
                    cached = ts_mem_cache_contains(p->cache, key); /* not a client miss */
                }
                if (!cached)
                    continue;
                /* both scales: "name/grid/z/x/y@" */
                snprintf(key, sizeof key, "%s/%s/%d/%u/%u@", ts->name, g->name, z, x, y);
                dropped += (long)ts_mem_cache_drop_prefix(p->cache, key);
            }
    }
    ts_service_unref(svc);
    return dropped;
}
