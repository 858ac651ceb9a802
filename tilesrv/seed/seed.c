/* seed/seed.c — the seeding run: one producer (the caller's thread) walks the metatiles in
 * Hilbert order, looks up which of their tiles are fresh, and queues the others on the
 * pipeline's render threads; writer threads store the rendered tiles in the cache and
 * report back. The render threads hand their tiles over and go on: a cache write that
 * waits for the disk (an fsync of SQLite's WAL, a file system's inode allocator) holds up
 * a writer only, for as long as WRITE_AHEAD metatiles render. Once rendered, a metatile
 * holds only its encoded tiles while it waits. (z18 of the bench cadastre, 2 threads into
 * MBTiles: both render threads were idle ~20 % of the run, waiting on the writer mutex
 * while a write fsync'ed.)
 *
 * Completed metatiles leave a FIFO in the order they were queued; the head of the FIFO is
 * the resume point (the "watermark"): every metatile of the run before it is done. A
 * metatile that failed freezes the watermark, so a resumed run looks at it again. */
#include "seed/seed.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seed/seed_int.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/progress.h"

#define FIFO_CAP 4096
#define WRITE_AHEAD 32 /* metatiles that may wait for a writer beyond o->inflight renders */
#define MAX_WRITERS 16

enum { E_PENDING, E_OK, E_FAILED, E_STORAGE };

/* One metatile of the run, queued or looked at. */
typedef struct entry {
    int z;
    uint64_t d;
    int state;
    uint32_t rendered, skipped, failed;
    uint64_t bytes;
} entry;

typedef struct run {
    ts_pipeline *p;
    const ts_seed_opts *o;
    const char *progress_path;
    ts_cache *dest;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    entry fifo[FIFO_CAP];
    size_t head, count;
    int inflight;               /* metatiles outstanding: rendering or waiting to be written */
    atomic_int storage_failed;
    char storage_error[512];
    int force;                  /* re-render fresh tiles too: --force, or a resumed --force run */
    int save_failed;            /* the last save of the progress file failed (save_error) */
    char save_error[512];
    /* the producer's position: everything of the run before (pz, pd) was queued or looked at */
    int pz;
    uint64_t pd;
    /* the watermark and the counts of the work below it (earlier runs included) */
    ts_seed_state st;
    int frozen;
    /* this run */
    uint64_t rendered, skipped, failed, bytes, metatiles;
    /* the writer threads and their queue (under mu) */
    pthread_t writers[MAX_WRITERS];
    int nwriters;               /* writer threads running */
    int writer_stop;
    pthread_cond_t wcv;
    struct meta_job *wq_head, *wq_tail;
} run;

/* What a render job needs to know when it comes back, and then its tiles to write. */
typedef struct meta_job {
    run *r;
    size_t slot;
    uint32_t x0, y0;            /* the metatile's first tile */
    uint64_t mask[16];          /* tiles to write: bit dy * 32 + dx */
    uint32_t count;
    /* set when rendered: the tiles (a reference each) waiting for the writer */
    struct meta_job *next;
    int z, n;
    uint64_t bytes;
    ts_cache_item *items;
} meta_job;

static int
mask_has(const uint64_t *m, uint32_t dx, uint32_t dy)
{
    uint32_t b = dy * 32 + dx;
    return (int)((m[b / 64] >> (b % 64)) & 1);
}

static void
mask_set(uint64_t *m, uint32_t dx, uint32_t dy)
{
    uint32_t b = dy * 32 + dx;
    m[b / 64] |= (uint64_t)1 << (b % 64);
}

/* Pop finished entries off the head; advance the watermark. Under r->mu. */
static void
drain(run *r)
{
    while (r->count > 0 && r->fifo[r->head].state != E_PENDING) {
        entry *e = &r->fifo[r->head];
        if (e->state != E_OK)
            r->frozen = 1;
        if (!r->frozen) {
            r->st.z = e->z;
            r->st.d = e->d + 1;
            r->st.rendered += e->rendered;
            r->st.skipped += e->skipped;
            r->st.failed += e->failed;
            r->st.bytes += e->bytes;
        }
        r->head = (r->head + 1) % FIFO_CAP;
        r->count--;
    }
    if (r->count == 0 && !r->frozen) {
        r->st.z = r->pz;
        r->st.d = r->pd;
    }
}

/* A slot at the tail (waits for room). Under r->mu. */
static size_t
push_entry(run *r, int z, uint64_t d, int state)
{
    while (r->count == FIFO_CAP) {
        pthread_cond_wait(&r->cv, &r->mu);
        drain(r);
    }
    size_t slot = (r->head + r->count) % FIFO_CAP;
    r->fifo[slot] = (entry){z, d, state, 0, 0, 0, 0};
    r->count++;
    return slot;
}

/* The metatile is over (written, failed or dropped): record it, free the job. */
static void
finish(meta_job *mj, int state, uint32_t written, uint64_t bytes)
{
    run *r = mj->r;
    pthread_mutex_lock(&r->mu);
    entry *e = &r->fifo[mj->slot];
    e->state = state;
    e->rendered = written;
    e->bytes = bytes;
    if (state == E_FAILED)
        e->failed = mj->count;
    r->rendered += written;
    r->bytes += bytes;
    r->metatiles += state == E_OK;
    if (state == E_FAILED)
        r->failed += mj->count;
    r->inflight--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < mj->n; i++)
        ts_tile_unref(mj->items[i].tile);
    free(mj->items);
    free(mj);
}

/* Store the tiles of a list of rendered metatiles of one level in one cache write (one
 * transaction for MBTiles: when the writers are behind, the backlog goes in at once); on a
 * writer thread. */
#define WRITE_BATCH_TILES 1024

static void
store(meta_job *list)
{
    run *r = list->r;
    int failed = atomic_load(&r->storage_failed), n = 0;
    ts_cache_item batch[WRITE_BATCH_TILES];
    const ts_cache_item *items = list->items;
    if (list->next != NULL) {
        for (meta_job *mj = list; mj; mj = mj->next) {
            memcpy(batch + n, mj->items, sizeof *batch * (size_t)mj->n);
            n += mj->n;
        }
        items = batch;
    } else {
        n = list->n;
    }
    if (!failed) {
        ts_err perr;
        ts_err_clear(&perr);
        if (ts_cache_put(r->dest, list->z, items, n, &perr) != TS_OK) {
            pthread_mutex_lock(&r->mu);
            if (!atomic_load(&r->storage_failed))
                snprintf(r->storage_error, sizeof r->storage_error, "%s", perr.msg);
            atomic_store(&r->storage_failed, 1);
            pthread_mutex_unlock(&r->mu);
            failed = 1;
        }
    }
    /* failed: stopping, nothing of these was written (or not past a failed write) */
    while (list) {
        meta_job *next = list->next;
        finish(list, failed ? E_STORAGE : E_OK, failed ? 0 : (uint32_t)list->n,
               failed ? 0 : list->bytes);
        list = next;
    }
}

static void *
writer_main(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->wq_head == NULL && !r->writer_stop)
            pthread_cond_wait(&r->wcv, &r->mu);
        meta_job *list = r->wq_head;
        if (list == NULL)
            break;
        /* take the queued metatiles of the head's level, as many as fit in a batch */
        meta_job *last = list;
        int n = list->n;
        while (last->next && last->next->z == list->z && n + last->next->n <= WRITE_BATCH_TILES) {
            last = last->next;
            n += last->n;
        }
        r->wq_head = last->next;
        if (r->wq_head == NULL)
            r->wq_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&r->mu);
        store(list);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* A render came back (on a render thread): hand its tiles to the writers. */
static void
meta_done(void *ud, ts_status st, const ts_meta_tiles *m, const ts_err *err)
{
    meta_job *mj = ud;
    run *r = mj->r;
    if (st != TS_OK) {
        /* once per 10 s, with the count of the others (a database gone away had written
         * hundreds of lines a second) */
        static ts_log_gate gate;
        unsigned long held;
        if (ts_log_gate_pass(&gate, 10, &held))
            ts_warn("seed: metatile at %d/%u/%u failed: %s%s", m ? m->z : mj->z, mj->x0, mj->y0,
                    err ? err->msg : ts_status_text(st),
                    held ? " (and more failures since the last line: see the summary)" : "");
        finish(mj, E_FAILED, 0, 0);
        return;
    }
    if (atomic_load(&r->storage_failed)) {
        finish(mj, E_STORAGE, 0, 0);
        return;
    }
    mj->items = malloc(sizeof *mj->items * (size_t)m->nx * m->ny);
    if (mj->items == NULL) {
        ts_warn("seed: metatile at %d/%u/%u: out of memory", m->z, mj->x0, mj->y0);
        finish(mj, E_FAILED, 0, 0);
        return;
    }
    mj->z = m->z;
    for (uint32_t ty = 0; ty < m->ny; ty++)
        for (uint32_t tx = 0; tx < m->nx; tx++) {
            uint32_t x = m->x0 + tx, y = m->y0 + ty;
            if (x < mj->x0 || y < mj->y0 || !mask_has(mj->mask, x - mj->x0, y - mj->y0))
                continue;
            ts_tile *t = m->tiles[ty * m->nx + tx];
            if (t == NULL)
                continue;
            mj->items[mj->n++] = (ts_cache_item){x, y, ts_tile_ref(t)};
            mj->bytes += t->len;
        }
    pthread_mutex_lock(&r->mu);
    if (r->nwriters) {
        if (r->wq_tail)
            r->wq_tail->next = mj;
        else
            r->wq_head = mj;
        r->wq_tail = mj;
        pthread_cond_signal(&r->wcv);
        mj = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (mj != NULL)
        store(mj); /* no writer thread: write here (mj->next is NULL) */
}

/* ---- setup ------------------------------------------------------------------------------ */

static ts_cache *
open_dest(ts_pipeline *p, const ts_seed_opts *o, const ts_tileset *ts, const ts_bbox *b,
          ts_err *err)
{
    if (o->to == NULL) {
        ts_cache *c = ts_pipeline_tileset_cache(p, o->tileset, o->grid, o->scale, err);
        if (c == NULL && err && err->code == TS_ENOENT)
            TS_FAIL(err, TS_EINVAL,
                    "tileset %s has no persistent cache: configure 'cache:' for it or give "
                    "--to FILE.mbtiles or --to DIR",
                    o->tileset);
        return c;
    }
    ts_cfg_cache cc;
    memset(&cc, 0, sizeof cc);
    if (ts_seed__to_cache(o->to, o->to_layout, &cc, err) != TS_OK)
        return NULL;
    double bounds[4], *bp = NULL;
    if (ts->grid->epsg == 3857) {
        ts_grid_mercator_to_lonlat(b->minx, b->miny, &bounds[0], &bounds[1]);
        ts_grid_mercator_to_lonlat(b->maxx, b->maxy, &bounds[2], &bounds[3]);
        bp = bounds;
    }
    return ts_pipeline_open_cache(p, o->tileset, o->grid, o->scale, &cc, o->minz, o->maxz, bp,
                                  err);
}

/* The run's identity for --resume: tileset, zooms, tile ranges, coverage (its rings and the
 * bbox cutting it), shard, scale, target. */
static uint64_t
fingerprint(const ts_seed_opts *o, const ts_tileset *ts, const ts_seed__region *rgn, int meta)
{
    const ts_bbox *b = &rgn->b;
    uint64_t h = TS_HASH_SEED;
    h = ts_hash_bytes(h, o->tileset, strlen(o->tileset) + 1);
    int v[6] = {o->minz, o->maxz, o->shard_i, o->shard_n, o->scale, meta};
    h = ts_hash_bytes(h, v, sizeof v);
    for (int z = o->minz; z <= o->maxz; z++) {
        uint32_t r[4] = {0, 0, 0, 0};
        ts_seed_tile_range(ts->grid, z, b, r);
        h = ts_hash_bytes(h, r, sizeof r);
    }
    if (rgn->cov != NULL) {
        uint64_t id = ts_seed_coverage_id(rgn->cov);
        h = ts_hash_bytes(h, "coverage", 9);
        h = ts_hash_bytes(h, &id, sizeof id);
        if (rgn->has_clip)
            h = ts_hash_bytes(h, &rgn->clip, sizeof rgn->clip);
    }
    const char *to = o->to ? o->to : "(configured cache)";
    h = ts_hash_bytes(h, to, strlen(to) + 1);
    h = ts_hash_bytes(h, ts->grid->name, strlen(ts->grid->name) + 1);
    return ts_hash_mix(h);
}

/* Side of the Hilbert square covering level z's metatiles. */
static uint32_t
curve_order(const ts_grid *g, int z, int meta)
{
    uint32_t mw = (g->levels[z].matrix_w + (uint32_t)meta - 1) / (uint32_t)meta;
    uint32_t mh = (g->levels[z].matrix_h + (uint32_t)meta - 1) / (uint32_t)meta;
    uint32_t m = mw > mh ? mw : mh, order = 1;
    while (order < m && order < (1u << 31))
        order *= 2;
    return order;
}

static void
save(run *r, const char *status)
{
    pthread_mutex_lock(&r->mu);
    drain(r);
    ts_seed_state st = r->st;
    pthread_mutex_unlock(&r->mu);
    snprintf(st.status, sizeof st.status, "%s", status);
    ts_err err;
    ts_err_clear(&err);
    r->save_failed = ts_seed__state_save(r->progress_path, &st, &err) != TS_OK;
    if (r->save_failed) {
        ts_warn("seed: cannot save progress: %s", err.msg);
        snprintf(r->save_error, sizeof r->save_error, "%s", err.msg);
    }
}

/* ---- the run ---------------------------------------------------------------------------- */

typedef struct walkctx {
    run *r;
    const ts_tileset *ts;
    int meta;
    const ts_seed__region *rgn;
    int z;                      /* the level being walked */
    uint32_t rg[4];             /* its tile range */
    ts_progress prog;
    uint64_t prior_done, last_shown;
    uint64_t next_save_ns;
    int stopping;
} walkctx;

static int
should_stop(walkctx *w)
{
    const ts_seed_opts *o = w->r->o;
    if (!w->stopping && ((o->stop && *o->stop) || atomic_load(&w->r->storage_failed)))
        w->stopping = 1;
    return w->stopping;
}

static void
tick(walkctx *w)
{
    run *r = w->r;
    uint64_t now = ts_mono_ns();
    if (now >= w->next_save_ns) {
        save(r, "running");
        w->next_save_ns = now + (uint64_t)(r->o->save_every_ms > 0 ? r->o->save_every_ms : 2000) *
                                    1000000u;
    }
    if (r->o->show_progress) {
        pthread_mutex_lock(&r->mu);
        uint64_t done = w->prior_done + r->rendered + r->skipped + r->failed;
        pthread_mutex_unlock(&r->mu);
        if (done / 1024 != w->last_shown / 1024) {
            ts_progress_update(&w->prog, done & ~(uint64_t)1023);
            w->last_shown = done;
        }
    }
}

/* Look at one metatile: skip its fresh tiles, queue a render for the rest. */
static void
do_metatile(walkctx *w, int z, const uint32_t rg[4], uint32_t mx, uint32_t my, uint64_t d)
{
    run *r = w->r;
    const ts_seed_opts *o = r->o;
    uint32_t m = (uint32_t)w->meta;
    uint32_t tx0 = mx * m, ty0 = my * m;
    uint32_t ax0 = tx0 > rg[0] ? tx0 : rg[0], ay0 = ty0 > rg[1] ? ty0 : rg[1];
    uint32_t ax1 = tx0 + m - 1 < rg[2] ? tx0 + m - 1 : rg[2];
    uint32_t ay1 = ty0 + m - 1 < rg[3] ? ty0 + m - 1 : rg[3];
    meta_job *mj = calloc(1, sizeof *mj);
    if (mj == NULL) {
        ts_error("seed: out of memory");
        w->stopping = 1;
        return;
    }
    mj->r = r;
    mj->z = z;
    mj->x0 = tx0;
    mj->y0 = ty0;
    uint32_t fresh = 0;
    const ts_bbox *clip = w->rgn->has_clip ? &w->rgn->clip : NULL;
    int cover = TS_SEED_IN;
    if (w->rgn->cov != NULL) {
        uint32_t blk[4] = {ax0, ay0, ax1, ay1};
        cover = ts_seed_coverage_tiles(w->rgn->cov, w->ts->grid, z, blk, clip);
    }
    for (uint32_t y = ay0; y <= ay1; y++)
        for (uint32_t x = ax0; x <= ax1; x++) {
            if (cover != TS_SEED_IN) { /* the coverage's boundary crosses the metatile */
                uint32_t t[4] = {x, y, x, y};
                if (ts_seed_coverage_tiles(w->rgn->cov, w->ts->grid, z, t, clip) == TS_SEED_OUT)
                    continue;
            }
            ts_cache_info info;
            if (!r->force && ts_cache_stat(r->dest, z, x, y, &info, NULL) == TS_OK && !info.stale) {
                fresh++;
                continue;
            }
            mask_set(mj->mask, x - tx0, y - ty0);
            mj->count++;
        }
    pthread_mutex_lock(&r->mu);
    r->skipped += fresh;
    if (mj->count == 0) {
        size_t slot = push_entry(r, z, d, E_OK);
        r->fifo[slot].skipped = fresh;
        r->pz = z;
        r->pd = d + 1;
        pthread_mutex_unlock(&r->mu);
        free(mj);
        return;
    }
    while (r->inflight >= o->inflight + (r->nwriters ? WRITE_AHEAD : 0)) {
        pthread_cond_wait(&r->cv, &r->mu);
        drain(r);
    }
    mj->slot = push_entry(r, z, d, E_PENDING);
    r->fifo[mj->slot].skipped = fresh;
    r->pz = z;
    r->pd = d + 1;
    r->inflight++;
    pthread_mutex_unlock(&r->mu);
    for (;;) {
        ts_err err;
        ts_err_clear(&err);
        ts_status st = ts_pipeline_render_meta(r->p, o->tileset, o->grid, z, ax0, ay0, o->scale,
                                               meta_done, mj, &err);
        if (st == TS_OK)
            return;
        if (st == TS_EBUSY) {
            usleep(2000); /* the pipeline's queue is shared; wait for room */
            continue;
        }
        /* Refused (cannot happen for a checked range): count it as failed. */
        ts_warn("seed: metatile %d/%u/%u refused: %s", z, ax0, ay0, err.msg);
        meta_done(mj, st, NULL, &err);
        return;
    }
}

/* The Hilbert walk's pruning: does the coverage meet the tiles of metatiles x0..x1, y0..y1? */
static int
keep_metatiles(void *ud, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
    walkctx *w = ud;
    uint32_t m = (uint32_t)w->meta;
    uint32_t blk[4] = {x0 * m, y0 * m, x1 * m + m - 1, y1 * m + m - 1};
    for (int i = 0; i < 2; i++) {
        blk[i] = blk[i] > w->rg[i] ? blk[i] : w->rg[i];
        blk[i + 2] = blk[i + 2] < w->rg[i + 2] ? blk[i + 2] : w->rg[i + 2];
    }
    return ts_seed_coverage_tiles(w->rgn->cov, w->ts->grid, w->z, blk,
                                  w->rgn->has_clip ? &w->rgn->clip : NULL) != TS_SEED_OUT;
}

/* Walk level z from Hilbert index `from`. */
static void
walk_level(walkctx *w, int z, uint64_t from)
{
    run *r = w->r;
    const ts_seed_opts *o = r->o;
    uint32_t *rg = w->rg;
    w->z = z;
    if (!ts_seed_tile_range(w->ts->grid, z, &w->rgn->b, rg))
        return;
    uint32_t m = (uint32_t)w->meta;
    ts_seed_iter it;
    ts_seed_iter_init(&it, curve_order(w->ts->grid, z, w->meta), rg[0] / m, rg[1] / m, rg[2] / m,
                      rg[3] / m, from);
    if (w->rgn->cov != NULL)
        ts_seed_iter_filter(&it, keep_metatiles, w);
    uint32_t mx, my;
    uint64_t d;
    while (!should_stop(w) && ts_seed_iter_next(&it, &mx, &my, &d)) {
        if (ts_seed_shard_of(d, o->shard_n) != o->shard_i)
            continue;
        do_metatile(w, z, rg, mx, my, d);
        tick(w);
    }
}

ts_status
ts_seed_run(ts_pipeline *p, const ts_seed_opts *o, ts_seed_summary *out, ts_err *err)
{
    memset(out, 0, sizeof *out);
    if (o->tileset == NULL)
        return TS_FAIL(err, TS_EINVAL, "seed needs --tileset NAME");
    if (o->scale != 1 && o->scale != 2)
        return TS_FAIL(err, TS_EINVAL, "scale must be 1 or 2");
    if (o->shard_n < 1 || o->shard_i < 0 || o->shard_i >= o->shard_n || o->inflight < 1)
        return TS_FAIL(err, TS_EINVAL, "bad shard or thread count");
    ts_service *svc = ts_pipeline_service(p);
    const ts_tileset *ts = ts_service_tileset(svc, o->tileset);
    ts_status st = TS_OK;
    ts_cache *dest = NULL;
    run *r = NULL;
    ts_seed__region rgn;
    memset(&rgn, 0, sizeof rgn);
    if (ts == NULL) {
        st = TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", o->tileset);
        goto out;
    }
    if (o->grid != NULL && (ts = ts_service_tileset_grid(svc, o->tileset, o->grid)) == NULL) {
        st = TS_FAIL(err, TS_EINVAL, "tileset %s has no grid '%s'", o->tileset, o->grid);
        goto out;
    }
    if (ts_service_tileset_live(svc, ts)) {
        st = TS_FAIL(err, TS_EINVAL,
                     "tileset %s draws live feed layers: its tiles follow the sensors and are "
                     "drawn when asked for (the feeds do not run in a seed), so it is not seeded",
                     o->tileset);
        goto out;
    }
    int tminz = ts->minzoom, tmaxz = ts->maxzoom;
    if (o->minz < tminz || o->maxz > tmaxz || o->minz > o->maxz) {
        st = TS_FAIL(err, TS_EINVAL, "--zoom %d-%d is outside the levels %d-%d of tileset %s on "
                     "grid %s%s",
                     o->minz, o->maxz, tminz, tmaxz, o->tileset, ts->grid->name,
                     o->grid == NULL && ts->grid->epsg != 3857
                         ? " (its first grid; --grid WebMercatorQuad seeds the XYZ tiles)"
                         : "");
        goto out;
    }
    if ((st = ts_seed__region_open(&o->area, ts->grid, &rgn, err)) != TS_OK)
        goto out;
    if (!rgn.has_b) {
        rgn.b = ts->bounds;
        rgn.has_b = 1;
        if (!(rgn.b.maxx > rgn.b.minx && rgn.b.maxy > rgn.b.miny)) {
            st = TS_FAIL(err, TS_EINVAL, "tileset %s has no data extent: give --bbox",
                         o->tileset);
            goto out;
        }
    }
    const ts_bbox b = rgn.b;
    int meta = ts_pipeline_meta_size(ts, o->scale);
    uint64_t total = 0;
    for (int z = o->minz; z <= o->maxz; z++)
        total += ts_seed__region_count(&rgn, ts->grid, z);
    out->tiles_total = total / (uint64_t)o->shard_n;
    if (o->format && (strcmp(o->format, "pbf") == 0 || strcmp(o->format, "mvt") == 0)) {
        st = ts_seed__run_mvt(p, o, ts, &rgn, out, err);
        goto out;
    }
    if (o->format && strcmp(o->format, "png") != 0) {
        st = TS_FAIL(err, TS_EINVAL, "--format is png or pbf, not '%s'", o->format);
        goto out;
    }

    ts_seed_state prior;
    memset(&prior, 0, sizeof prior);
    prior.fingerprint = fingerprint(o, ts, &rgn, meta);
    prior.z = o->minz;
    const char *ppath = out->progress_path;
    if (o->progress_path) {
        snprintf(out->progress_path, sizeof out->progress_path, "%s", o->progress_path);
    } else {
        char shard[32] = "";
        if (o->shard_n > 1)
            snprintf(shard, sizeof shard, "-%dof%d", o->shard_i, o->shard_n);
        if (o->progress_dir && mkdir(o->progress_dir, 0755) != 0 && errno != EEXIST)
            return TS_FAIL(err, TS_EIO, "cannot create seed_progress_dir %s", o->progress_dir);
        /* a seed into another target (--to) has its own file: an export does not take
         * the place of an interrupted seed of the cache */
        char target[96] = "";
        if (o->to != NULL) {
            const char *base = strrchr(o->to, '/');
            base = base && base[1] ? base + 1 : o->to;
            int k = snprintf(target, sizeof target, "-to-");
            for (; *base && k < (int)sizeof target - 1; base++)
                target[k++] = (char)(isalnum((unsigned char)*base) || *base == '.' ||
                                             *base == '-' || *base == '_'
                                         ? *base
                                         : '_');
            target[k] = '\0';
        }
        int n = snprintf(out->progress_path, sizeof out->progress_path,
                         "%s%s.tilesrv-seed-%s%s%s%s%s%s.progress",
                         o->progress_dir ? o->progress_dir : "", o->progress_dir ? "/" : "",
                         o->tileset, o->grid ? "-" : "", o->grid ? o->grid : "",
                         o->scale == 2 ? "@2x" : "", shard, target);
        if (n < 0 || (size_t)n >= sizeof out->progress_path)
            return TS_FAIL(err, TS_EINVAL, "seed_progress_dir too long");
    }
    if (o->resume) {
        ts_seed_state saved;
        st = ts_seed__state_load(ppath, &saved, err);
        if (st == TS_ENOENT) {
            ts_info("seed: no progress file %s: starting from the beginning", ppath);
            st = TS_OK;
        } else if (st != TS_OK) {
            goto out;
        } else if (saved.fingerprint != prior.fingerprint) {
            st = TS_FAIL(err, TS_EINVAL,
                         "progress file %s belongs to another seed (tileset, zooms, bbox, "
                         "coverage, shard or target differ): remove it or run without --resume",
                         ppath);
            goto out;
        } else {
            prior = saved;
            out->resumed = 1;
            out->resume_z = saved.z;
            out->resume_d = saved.d;
            out->prior_rendered = saved.rendered;
            out->prior_skipped = saved.skipped;
            out->prior_failed = saved.failed;
            out->prior_bytes = saved.bytes;
        }
    }
    snprintf(prior.tileset, sizeof prior.tileset, "%s", o->tileset);
    prior.minz = o->minz;
    prior.maxz = o->maxz;

    dest = open_dest(p, o, ts, &b, err);
    if (dest == NULL) {
        st = err && err->code != TS_OK ? err->code : TS_EIO;
        goto out;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "seed");
        goto out;
    }
    r->p = p;
    r->o = o;
    r->progress_path = ppath;
    r->dest = dest;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    pthread_cond_init(&r->wcv, NULL);
    atomic_init(&r->storage_failed, 0);
    int want = o->writers < 1 ? 1 : o->writers > MAX_WRITERS ? MAX_WRITERS : o->writers;
    while (r->nwriters < want &&
           pthread_create(&r->writers[r->nwriters], NULL, writer_main, r) == 0)
        r->nwriters++;
    if (!r->nwriters)
        ts_warn("seed: no writer thread: the render threads write the tiles themselves");
    r->st = prior;
    r->st.total = out->tiles_total;
    /* a --force seed resumed is forced to its end, with or without --force again */
    r->force = o->force || (out->resumed && prior.force);
    out->resumed_force = r->force && !o->force;
    if (out->resumed_force)
        ts_info("seed: resuming a --force seed: fresh tiles are rendered again too");
    r->st.force = r->force;
    r->pz = prior.z;
    r->pd = prior.d;

    walkctx w;
    memset(&w, 0, sizeof w);
    w.r = r;
    w.ts = ts;
    w.meta = meta;
    w.rgn = &rgn;
    w.prior_done = prior.rendered + prior.skipped + prior.failed;
    w.last_shown = w.prior_done;
    w.next_save_ns = ts_mono_ns() + 1000000000ull;
    char what[128];
    snprintf(what, sizeof what, "seed %s z%d-%d", o->tileset, o->minz, o->maxz);
    if (o->show_progress) {
        ts_progress_begin(&w.prog, what, "tiles", out->tiles_total);
        w.prog.done = w.prior_done;
    }
    /* 512 px tiles of an MBTiles target go to its @2x sibling (x.mbtiles -> x@2x.mbtiles,
     * as for a configured cache): name the file written */
    char dest_name[PATH_MAX];
    size_t tl = o->to ? strlen(o->to) : 0;
    if (o->to && o->scale == 2 && tl > 8 && strcasecmp(o->to + tl - 8, ".mbtiles") == 0)
        snprintf(dest_name, sizeof dest_name, "%.*s@2x.mbtiles", (int)(tl - 8), o->to);
    else
        snprintf(dest_name, sizeof dest_name, "%s", o->to ? o->to : "the configured cache");
    ts_info("%s: %llu tiles%s into %s (%s)%s", what, (unsigned long long)out->tiles_total,
            o->shard_n > 1 ? " (this shard's share, about)" : "", dest_name, ts_cache_kind(dest),
            out->resumed ? ", resuming" : "");
    uint64_t t0 = ts_mono_ns();
    save(r, "running");
    for (int z = prior.z; z <= o->maxz && !should_stop(&w); z++) {
        walk_level(&w, z, z == prior.z ? prior.d : 0);
        if (!should_stop(&w)) {
            pthread_mutex_lock(&r->mu);
            r->pz = z + 1;
            r->pd = 0;
            pthread_mutex_unlock(&r->mu);
        }
    }
    /* Let what is in flight finish, then record where we are. */
    pthread_mutex_lock(&r->mu);
    while (r->inflight > 0)
        pthread_cond_wait(&r->cv, &r->mu);
    drain(r);
    r->writer_stop = 1;
    pthread_cond_broadcast(&r->wcv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < r->nwriters; i++)
        pthread_join(r->writers[i], NULL);
    ts_err serr;
    ts_err_clear(&serr);
    if (ts_cache_sync(dest, &serr) != TS_OK)
        ts_warn("seed: %s", serr.msg);
    out->seconds = (ts_mono_ns() - t0) / 1e9;
    out->metatiles = r->metatiles;
    out->rendered = r->rendered;
    out->skipped = r->skipped;
    out->failed = r->failed;
    out->bytes = r->bytes;
    const char *status;
    if (atomic_load(&r->storage_failed)) {
        out->result = TS_SEED_STORAGE;
        snprintf(out->error, sizeof out->error, "%s", r->storage_error);
        status = "storage";
    } else if (o->stop && *o->stop) {
        out->result = TS_SEED_INTERRUPTED;
        status = "interrupted";
    } else if (r->failed > 0) {
        out->result = TS_SEED_FAILED_TILES;
        status = "failed";
    } else {
        out->result = TS_SEED_DONE;
        status = "done";
    }
    save(r, status);
    out->progress_unsaved = r->save_failed;
    snprintf(out->progress_error, sizeof out->progress_error, "%s", r->save_error);
    if (o->show_progress) {
        w.prog.done = w.prior_done + r->rendered + r->skipped + r->failed;
        ts_progress_end(&w.prog);
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    pthread_cond_destroy(&r->wcv);
out:
    ts_seed__region_close(&rgn);
    free(r);
    ts_cache_unref(dest);
    ts_service_unref(svc);
    return st;
}

int
ts_seed_exit_code(ts_status st, const ts_seed_summary *s)
{
    if (st == TS_EINVAL || st == TS_ENOENT)
        return TS_SEED_EXIT_USAGE;
    if (st != TS_OK)
        return TS_SEED_EXIT_SETUP;
    if (s == NULL)
        return TS_SEED_EXIT_OK;
    switch (s->result) {
    case TS_SEED_DONE:
        return TS_SEED_EXIT_OK;
    case TS_SEED_FAILED_TILES:
        return TS_SEED_EXIT_FAILED_TILES;
    case TS_SEED_STORAGE:
        return TS_SEED_EXIT_STORAGE;
    case TS_SEED_INTERRUPTED:
        return TS_SEED_EXIT_INTERRUPTED;
    }
    return TS_SEED_EXIT_SETUP;
}
