/* pipeline/pipeline.c — get-or-render with metatiles, in-flight de-duplication and the
 * render pool. */
#include "pipeline/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One metatile being rendered. Lives in the in-flight table until its waiters are told. */
typedef struct job {
    struct job *hnext;
    uint64_t hash;
    char key[160];
    ts_pipeline *p;
    ts_service *svc;             /* reference held for the job's lifetime */
    const ts_tileset *ts;
    ts_metatile mt;
    int scale;
    waiter *waiters;
} job;

/* What each render thread owns. */
typedef struct worker_state {
    ts_render_worker *rw;
    ts_canvas *canvas;           /* reused while the size fits */
    ts_buf png;
} worker_state;

struct ts_pipeline {
    _Atomic(ts_service *) svc;
    pthread_mutex_t svc_mu;      /* serialises swaps */
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
};

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
    ts_canvas_free(ws->canvas);
    ts_buf_fini(&ws->png);
    free(ws);
}

/* ---- service ---------------------------------------------------------------------------- */

ts_service *
ts_pipeline_service(ts_pipeline *p)
{
    pthread_mutex_lock(&p->svc_mu);
    ts_service *s = ts_service_ref(atomic_load(&p->svc));
    pthread_mutex_unlock(&p->svc_mu);
    return s;
}

void
ts_pipeline_set_service(ts_pipeline *p, ts_service *svc)
{
    ts_service_ref(svc);
    pthread_mutex_lock(&p->svc_mu);
    ts_service *old = atomic_exchange(&p->svc, svc);
    pthread_mutex_unlock(&p->svc_mu);
    /* Keys carry no generation: drop what the old service rendered. */
    const ts_config *c = ts_service_config(old);
    for (int i = 0; i < c->ntilesets; i++) {
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%s/", c->tilesets[i].name);
        ts_mem_cache_drop_prefix(p->cache, prefix);
    }
    ts_service_unref(old);
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
    atomic_init(&p->svc, ts_service_ref(svc));
    pthread_mutex_init(&p->svc_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->spare_mu, NULL);
    p->cache = ts_mem_cache_new(o->cache_bytes);
    ts_pool_hooks hooks = {worker_init, worker_fini, p};
    p->pool = ts_pool_new(p->nthreads, o->queue_max > 0 ? o->queue_max : 256, &hooks, err);
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
    ts_mem_cache_free(p->cache);
    ts_service_unref(atomic_load(&p->svc));
    pthread_mutex_destroy(&p->svc_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->spare_mu);
    free(p);
}

/* ---- requests --------------------------------------------------------------------------- */

static ts_status
check_req(const ts_service *svc, const ts_tile_req *r, const ts_tileset **out, ts_err *err)
{
    const ts_tileset *ts = ts_service_tileset(svc, r->tileset);
    if (ts == NULL)
        return TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", r->tileset);
    if (r->scale != 1 && r->scale != 2)
        return TS_FAIL(err, TS_EINVAL, "scale must be 1 or 2");
    int minz = ts->cfg->minzoom, maxz = ts->cfg->maxzoom;
    if (maxz <= 0 || maxz >= ts->grid->nlevels)
        maxz = ts->grid->nlevels - 1;
    if (r->z < minz || r->z > maxz)
        return TS_FAIL(err, TS_EINVAL, "zoom %d outside %d..%d of tileset %s", r->z, minz, maxz,
                       ts->name);
    if (!ts_grid_tile_valid(ts->grid, r->z, r->x, r->y))
        return TS_FAIL(err, TS_EINVAL, "tile %d/%u/%u outside the %s grid", r->z, r->x, r->y,
                       ts->grid->name);
    *out = ts;
    return TS_OK;
}

ts_status
ts_pipeline_check(ts_pipeline *p, const ts_tile_req *r, ts_err *err)
{
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts;
    ts_status st = check_req(svc, r, &ts, err);
    ts_service_unref(svc);
    return st;
}

ts_tile *
ts_pipeline_lookup(ts_pipeline *p, const ts_tile_req *r)
{
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts;
    ts_tile *t = NULL;
    if (check_req(svc, r, &ts, NULL) == TS_OK) {
        char key[160];
        ts_pipeline_tile_key(ts, r->z, r->x, r->y, r->scale, key, sizeof key);
        t = ts_mem_cache_get(p->cache, key);
    }
    ts_service_unref(svc);
    return t;
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

/* Render the job's metatile and encode its tiles; tiles[] gets one per tile (or NULL). */
static ts_status
render_metatile(worker_state *ws, job *j, ts_tile **tiles, ts_err *err)
{
    ts_pipeline *p = j->p;
    const ts_tileset *ts = j->ts;
    const ts_metatile *mt = &j->mt;
    int s = j->scale;
    int w = mt->width_px * s, h = mt->height_px * s;
    if (ws->canvas == NULL || ws->canvas->w != w || ws->canvas->h != h) {
        ts_canvas_free(ws->canvas);
        ws->canvas = ts_canvas_new(w, h, err);
        if (ws->canvas == NULL)
            return TS_ENOMEM;
    }
    const ts_grid *g = ts->grid;
    ts_render_req rq = {
        .layers = ts->layers,
        .nlayers = ts->nlayers,
        .bbox = mt->bbox,
        .width = w,
        .height = h,
        .scale_factor = s,
        .scale_denom = ts_render_scale_denom(mt->res, g->meters_per_unit),
        .background = ts->background,
    };
    ts_render_stats *rs = ts_render_worker_stats(ws->rw);
    uint64_t q0 = rs->query_ns;
    uint64_t t0 = ts_mono_ns();
    ts_status st;
    ts_render_worker *band[64];
    int nb = 0;
    /* Idle pool: lend the other cores to this metatile, band by band. */
    if (p->band_pool && ts_pool_queued(p->pool) == 0 && h >= 512)
        nb = borrow_spares(p, band + 1, p->nthreads - 1 < 63 ? p->nthreads - 1 : 63);
    if (nb > 0) {
        band[0] = ws->rw;
        st = ts_render_draw_bands(band, nb + 1, p->band_pool, &rq, ws->canvas, err);
        for (int i = 1; i <= nb; i++) {
            ts_render_stats *bs = ts_render_worker_stats(band[i]);
            atomic_fetch_add(&p->query_ns, bs->query_ns);
            memset(bs, 0, sizeof *bs);
        }
        return_spares(p, band + 1, nb);
    } else {
        st = ts_render_draw(ws->rw, &rq, ws->canvas, err);
    }
    uint64_t t1 = ts_mono_ns();
    atomic_fetch_add(&p->render_ns, t1 - t0);
    atomic_fetch_add(&p->query_ns, rs->query_ns - q0);
    atomic_fetch_add(&p->metatiles, 1);
    if (st != TS_OK)
        return st;

    ts_png_opts po = {ts->mode, -1, 0};
    int tpx = (int)g->levels[mt->z].tile_w * s;
    int64_t now = ts_wall_s();
    for (uint32_t ty = 0; ty < mt->ny; ty++) {
        for (uint32_t tx = 0; tx < mt->nx; tx++) {
            int x0 = mt->buffer_px * s + (int)tx * tpx, y0 = mt->buffer_px * s + (int)ty * tpx;
            ts_tile *t = NULL;
            uint32_t px;
            size_t len;
            const uint8_t *shared;
            if (ts_region_uniform(ws->canvas, x0, y0, tpx, tpx, &px) &&
                (shared = ts_png_uniform(px, tpx, tpx, ts->mode, &len)) != NULL) {
                t = ts_tile_new_shared(shared, len, now);
                atomic_fetch_add(&p->uniform, 1);
            } else {
                ws->png.len = 0;
                st = ts_png_encode(ws->canvas, x0, y0, tpx, tpx, &po, &ws->png, err);
                if (st != TS_OK)
                    return st;
                t = ts_tile_new(ws->png.data, ws->png.len, now);
                atomic_fetch_add(&p->encoded, 1);
            }
            if (t == NULL)
                return TS_FAIL(err, TS_ENOMEM, "tile");
            char key[160];
            ts_pipeline_tile_key(ts, mt->z, mt->x0 + tx, mt->y0 + ty, s, key, sizeof key);
            ts_mem_cache_put(p->cache, key, t);
            tiles[ty * mt->nx + tx] = t;
        }
    }
    atomic_fetch_add(&p->encode_ns, ts_mono_ns() - t1);
    return TS_OK;
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
    if (ws == NULL || ws->rw == NULL)
        st = TS_FAIL(&err, TS_ENOMEM, "render worker");
    else
        st = render_metatile(ws, j, tiles, &err);
    if (st != TS_OK)
        ts_warn("render %s failed: %s", j->key, err.msg);

    /* Leave the in-flight table first: requests arriving from now on hit the cache. */
    pthread_mutex_lock(&p->mu);
    job **pp = &p->inflight[j->hash % 1024];
    while (*pp && *pp != j)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = j->hnext;
    waiter *w = j->waiters;
    pthread_mutex_unlock(&p->mu);

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
    for (uint32_t i = 0; i < j->mt.nx * j->mt.ny; i++)
        ts_tile_unref(tiles[i]);
    ts_service_unref(j->svc);
    free(j);
}

ts_status
ts_pipeline_request(ts_pipeline *p, const ts_tile_req *r, ts_tile_done done, void *ud,
                    ts_err *err)
{
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts;
    ts_status st = check_req(svc, r, &ts, err);
    if (st != TS_OK) {
        ts_service_unref(svc);
        return st;
    }
    char key[160];
    ts_pipeline_tile_key(ts, r->z, r->x, r->y, r->scale, key, sizeof key);
    ts_tile *t = ts_mem_cache_get(p->cache, key);
    if (t) {
        ts_service_unref(svc);
        done(ud, TS_OK, t, NULL);
        return TS_OK;
    }
    waiter *w = malloc(sizeof *w);
    if (w == NULL) {
        ts_service_unref(svc);
        return TS_FAIL(err, TS_ENOMEM, "waiter");
    }
    *w = (waiter){NULL, r->x, r->y, done, ud};
    int buffer = ts->cfg->buffer_px >= 0 ? ts->cfg->buffer_px : 64;
    ts_metatile mt = ts_grid_metatile(ts->grid, r->z, r->x, r->y, meta_size(ts, r->scale), buffer);
    char mkey[160];
    meta_key(ts, &mt, r->scale, mkey, sizeof mkey);
    uint64_t h = ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, mkey, strlen(mkey)));

    pthread_mutex_lock(&p->mu);
    /* A render in flight for this metatile: wait on it. */
    for (job *j = p->inflight[h % 1024]; j; j = j->hnext) {
        if (j->hash == h && strcmp(j->key, mkey) == 0 && j->svc == svc) {
            w->next = j->waiters;
            j->waiters = w;
            pthread_mutex_unlock(&p->mu);
            atomic_fetch_add(&p->joined, 1);
            ts_service_unref(svc);
            return TS_OK;
        }
    }
    /* The render may have finished between the cache miss and taking the lock. */
    t = ts_mem_cache_get(p->cache, key);
    if (t) {
        pthread_mutex_unlock(&p->mu);
        free(w);
        ts_service_unref(svc);
        done(ud, TS_OK, t, NULL);
        return TS_OK;
    }
    job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        pthread_mutex_unlock(&p->mu);
        free(w);
        ts_service_unref(svc);
        return TS_FAIL(err, TS_ENOMEM, "job");
    }
    j->hash = h;
    snprintf(j->key, sizeof j->key, "%s", mkey);
    j->p = p;
    j->svc = svc; /* the reference taken above now belongs to the job */
    j->ts = ts;
    j->mt = mt;
    j->scale = r->scale;
    j->waiters = w;
    j->hnext = p->inflight[h % 1024];
    p->inflight[h % 1024] = j;
    st = ts_pool_submit(p->pool, job_run, j);
    if (st != TS_OK) {
        p->inflight[h % 1024] = j->hnext;
        pthread_mutex_unlock(&p->mu);
        free(w);
        ts_service_unref(svc);
        free(j);
        atomic_fetch_add(&p->busy, 1);
        return TS_FAIL(err, TS_EBUSY, "render queue full");
    }
    pthread_mutex_unlock(&p->mu);
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
}
