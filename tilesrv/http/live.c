/* http/live.c — the running sensor feeds of a server: each feed's changes rebuild the
 * stores of its layers (per grid CRS) on one worker thread, swap them into the pipeline
 * and invalidate exactly the tiles around the sensors that changed; the latest snapshots
 * answer /sensors/{feed}.geojson and the feeds' counters go to /metrics. */
#include "http/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ows/ows.h"
#include "source/source.h"
#include "util/clock.h"
#include "util/log.h"

/* Changed positions kept per feed between two rebuilds; more invalidate their union box. */
#define MAX_POINTS 32

typedef struct live_feed {
    struct ts_live *l;
    ts_feed *f;
    char name[64];
    uint64_t key;                /* configuration hash (0 = never kept across a reload) */
    /* pending work, under l->mu */
    ts_feed_snapshot *snap;      /* the latest published snapshot not yet rebuilt */
    double pts[2 * MAX_POINTS];  /* lon, lat of changed sensors (old and new positions) */
    int npts;
    int overflow;                /* more than MAX_POINTS: use box */
    ts_bbox box;                 /* union of every changed position */
    int has_box;
    int dirty;
} live_feed;

/* One /events client waiting for the next event (a suspended connection). */
typedef struct ev_waiter {
    struct ev_waiter *next;
    void (*wake)(void *ud);
    void *ud;
    uint64_t deadline_ns;        /* ts_mono_ns() when it is woken anyway (keep-alive) */
} ev_waiter;

#define EV_RING 256
#define EV_KEEPALIVE_NS 20000000000ull

struct ts_live {
    ts_pipeline *p;
    /* events (under mu): the latest EV_RING as SSE "data" JSON, ids from 1 */
    char *ev[EV_RING];
    uint64_t ev_last;            /* id of the latest event, 0 = none yet */
    char epoch[32];              /* this process's event ids are "<epoch>-<n>": an id of an
                                  * earlier run or of another node is told apart (reset) */
    ev_waiter *waiters;
    int ev_stopping;
    pthread_mutex_t mu;          /* feeds, pending work, stop */
    pthread_cond_t cv;
    pthread_mutex_t set_mu;      /* serialises ts_live_set_feeds */
    pthread_t th;
    int stop;
    live_feed **feeds;
    int n;
    uint64_t gen;                /* counts feed sets (ETags of /sensors) */
    atomic_ullong rebuilds, invalidated;
};

static void
add_point(live_feed *lf, double lon, double lat)
{
    ts_bbox b = {lon, lat, lon, lat};
    if (!lf->has_box) {
        lf->box = b;
        lf->has_box = 1;
    } else {
        if (lon < lf->box.minx)
            lf->box.minx = lon;
        if (lon > lf->box.maxx)
            lf->box.maxx = lon;
        if (lat < lf->box.miny)
            lf->box.miny = lat;
        if (lat > lf->box.maxy)
            lf->box.maxy = lat;
    }
    if (lf->npts < MAX_POINTS) {
        lf->pts[2 * lf->npts] = lon;
        lf->pts[2 * lf->npts + 1] = lat;
        lf->npts++;
    } else {
        lf->overflow = 1;
    }
}

/* on_change of every feed (a feed thread): note the work, wake the worker. */
static void
on_change(void *user, ts_feed *feed, const ts_feed_snapshot *snap, const ts_feed_change *changes,
          size_t n)
{
    (void)feed;
    live_feed *lf = user;
    struct ts_live *l = lf->l;
    pthread_mutex_lock(&l->mu);
    ts_feed_snapshot_unref(lf->snap);
    lf->snap = ts_feed_snapshot_ref((ts_feed_snapshot *)snap);
    for (size_t i = 0; i < n; i++) {
        if (!(changes[i].what & TS_FEED_CHANGED_VISIBLE))
            continue;
        if (changes[i].had_pos)
            add_point(lf, changes[i].old_lon, changes[i].old_lat);
        if (changes[i].has_pos &&
            !(changes[i].had_pos && changes[i].lon == changes[i].old_lon &&
              changes[i].lat == changes[i].old_lat))
            add_point(lf, changes[i].lon, changes[i].lat);
    }
    lf->dirty = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

typedef struct done_pair {
    const char *layer, *crs;
} done_pair;

typedef struct crs_store {
    const char *crs;
    ts_store *store;
    int failed;
} crs_store;

/* The store of snap in crs, built once per rebuild (NULL when it cannot be built). */
static ts_store *
store_for(crs_store *cs, int *ncs, int max, const ts_feed_snapshot *snap, ts_source_ctx *sc,
          const char *feed, const char *crs)
{
    for (int i = 0; i < *ncs; i++)
        if (strcmp(cs[i].crs, crs) == 0)
            return cs[i].store;
    if (*ncs >= max)
        return NULL;
    crs_store *c = &cs[(*ncs)++];
    c->crs = crs;
    ts_err err;
    ts_err_clear(&err);
    uint32_t skipped = 0;
    if (ts_feed_snapshot_store(snap, sc, crs, &c->store, &skipped, &err) != TS_OK) {
        c->store = NULL;
        c->failed = 1;
        ts_warn("feed %s: no store in %s: %s", feed, crs, err.msg);
    }
    return c->store;
}

/* Take the waiters to wake (all, or those past their deadline) off the list; under l->mu.
 * The caller runs them with run_wakes once it has left the lock. */
static ev_waiter *
take_waiters(struct ts_live *l, int all)
{
    uint64_t now = all ? 0 : ts_mono_ns();
    ev_waiter *out = NULL;
    for (ev_waiter **pp = &l->waiters; *pp;) {
        ev_waiter *w = *pp;
        if (all || w->deadline_ns <= now) {
            *pp = w->next;
            w->next = out;
            out = w;
        } else {
            pp = &w->next;
        }
    }
    return out;
}

static void
run_wakes(ev_waiter *w)
{
    while (w) {
        ev_waiter *next = w->next;
        w->wake(w->ud);
        free(w);
        w = next;
    }
}

/* Record an event (json is copied) and wake every waiting client. */
static void
push_event(struct ts_live *l, const char *json)
{
    char *copy = strdup(json);
    if (copy == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->ev_last++;
    free(l->ev[l->ev_last % EV_RING]);
    l->ev[l->ev_last % EV_RING] = copy;
    ev_waiter *w = take_waiters(l, 1);
    pthread_mutex_unlock(&l->mu);
    run_wakes(w);
}

/* Swap the new stores of feed into its layers and drop the tiles around the changes. */
static void
rebuild(struct ts_live *l, ts_source_ctx *sc, const char *feed, const ts_feed_snapshot *snap,
        const double *pts, int npts, int overflow, const ts_bbox *box, int has_box)
{
    ts_service *svc = ts_pipeline_service(l->p);
    const ts_config *cfg = ts_service_config(svc);
    crs_store cs[16];
    int ncs = 0;
    done_pair done[64];
    int ndone = 0;
    ts_buf names;
    ts_buf_init(&names, 1u << 20);
    int nnames = 0;
    int nts = ts_service_ntileset_grids(svc);
    for (int i = 0; i < nts; i++) {
        const ts_tileset *ts = ts_service_tileset_grid_at(svc, i);
        double buffer = -1;
        for (int k = 0; k < ts->nlayers && k < ts->cfg->nlayers; k++) {
            const ts_cfg_layer *lc = ts_config_layer(cfg, ts->cfg->layers[k]);
            if (lc == NULL || lc->feed == NULL || strcmp(lc->feed, feed) != 0)
                continue;
            /* ground-unit symbols reach farthest at the last level */
            double reach = ts_render_layer_reach_px(
                ts->layers[k], ts->grid->levels[ts->maxzoom].scale_denom);
            if (reach > buffer)
                buffer = reach;
            int seen = 0;
            for (int d = 0; d < ndone && !seen; d++)
                seen = strcmp(done[d].layer, lc->name) == 0 &&
                       strcmp(done[d].crs, ts->grid->crs) == 0;
            if (seen)
                continue;
            ts_store *st = store_for(cs, &ncs, 16, snap, sc, feed, ts->grid->crs);
            if (st == NULL)
                continue;
            ts_err err;
            ts_err_clear(&err);
            if (ts_pipeline_layer_set_store(l->p, lc->name, ts->grid->crs, st, &err) != TS_OK)
                ts_warn("feed %s: layer %s: %s", feed, lc->name, err.msg);
            if (ndone < 64)
                done[ndone++] = (done_pair){lc->name, ts->grid->crs};
        }
        if (buffer < 0 || !has_box)
            continue;
        char needle[160];
        snprintf(needle, sizeof needle, "\"%s\"", ts->name);
        if (names.data == NULL || strstr((const char *)names.data, needle) == NULL) {
            ts_buf_printf(&names, "%s%s", nnames ? "," : "", needle);
            nnames++;
        }
        long n = 0;
        if (overflow) {
            n = ts_pipeline_invalidate(l->p, ts->name, ts->grid->name, *box, buffer);
        } else {
            for (int k = 0; k < npts; k++) {
                ts_bbox b = {pts[2 * k], pts[2 * k + 1], pts[2 * k], pts[2 * k + 1]};
                long d = ts_pipeline_invalidate(l->p, ts->name, ts->grid->name, b, buffer);
                if (d > 0)
                    n += d;
            }
        }
        if (n > 0)
            atomic_fetch_add(&l->invalidated, (unsigned long long)n);
    }
    for (int i = 0; i < ncs; i++)
        ts_store_unref(cs[i].store);
    ts_service_unref(svc);
    atomic_fetch_add(&l->rebuilds, 1);
    if (has_box) {
        ts_buf ev;
        ts_buf_init(&ev, 1u << 20);
        /* 7 decimals (1 cm), rounded outwards: the box printed holds every changed point */
        ts_buf_printf(&ev,
                      "{\"feed\":\"%s\",\"version\":%llu,\"tilesets\":[%s],"
                      "\"bbox\":[%.7f,%.7f,%.7f,%.7f]}",
                      feed, (unsigned long long)ts_feed_snapshot_version(snap),
                      names.data ? (const char *)names.data : "", floor(box->minx * 1e7) / 1e7,
                      floor(box->miny * 1e7) / 1e7, ceil(box->maxx * 1e7) / 1e7,
                      ceil(box->maxy * 1e7) / 1e7);
        if (ev.data)
            push_event(l, (const char *)ev.data);
        ts_buf_fini(&ev);
    }
    ts_buf_fini(&names);
}

static void *
worker(void *arg)
{
    struct ts_live *l = arg;
    ts_err err;
    ts_err_clear(&err);
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    if (sc == NULL)
        ts_error("live feeds: no source context (%s): overlays stay as they are", err.msg);
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        live_feed *lf = NULL;
        for (int i = 0; i < l->n && lf == NULL; i++)
            if (l->feeds[i] && l->feeds[i]->dirty)
                lf = l->feeds[i];
        if (lf == NULL) {
            if (l->waiters) {
                /* wake clients due for a keep-alive about once a second */
                ev_waiter *w = take_waiters(l, 0);
                if (w) {
                    pthread_mutex_unlock(&l->mu);
                    run_wakes(w);
                    pthread_mutex_lock(&l->mu);
                    continue;
                }
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&l->cv, &l->mu, &ts);
            } else {
                pthread_cond_wait(&l->cv, &l->mu);
            }
            continue;
        }
        /* take the work, leave the lock to the feeds while rebuilding */
        char name[64];
        memcpy(name, lf->name, sizeof name);
        ts_feed_snapshot *snap = lf->snap;
        lf->snap = NULL;
        double pts[2 * MAX_POINTS];
        int npts = lf->npts, overflow = lf->overflow, has_box = lf->has_box;
        memcpy(pts, lf->pts, sizeof(double) * 2 * (size_t)npts);
        ts_bbox box = lf->box;
        lf->npts = lf->overflow = lf->has_box = lf->dirty = 0;
        pthread_mutex_unlock(&l->mu);
        if (snap && sc)
            rebuild(l, sc, name, snap, pts, npts, overflow, &box, has_box);
        ts_feed_snapshot_unref(snap);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    ts_source_ctx_free(sc);
    return NULL;
}

ts_live *
ts_live_new(ts_pipeline *p, ts_err *err)
{
    struct ts_live *l = calloc(1, sizeof *l);
    if (l == NULL) {
        TS_FAIL(err, TS_ENOMEM, "live feeds");
        return NULL;
    }
    l->p = p;
    /* the start time in microseconds and the pid: unique per run and per node in practice */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(l->epoch, sizeof l->epoch, "%llx%04x",
             (unsigned long long)now.tv_sec * 1000000ull + (unsigned long long)now.tv_nsec / 1000,
             (unsigned)getpid() & 0xffffu);
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->set_mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->th, NULL, worker, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_mutex_destroy(&l->set_mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        TS_FAIL(err, TS_ENOMEM, "live feeds: cannot start the worker thread");
        return NULL;
    }
    return l;
}

static void
feeds_free(live_feed **v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i])
            ts_feed_stop(v[i]->f);
    for (int i = 0; i < n; i++) {
        if (v[i] == NULL)
            continue;
        ts_feed_free(v[i]->f);
        ts_feed_snapshot_unref(v[i]->snap);
        free(v[i]);
    }
    free(v);
}

ts_status
ts_live_set_feeds(ts_live *l, const ts_feed_config *const *cfgs, int n, ts_err *err)
{
    return ts_live_set_feeds_keyed(l, cfgs, NULL, n, err);
}

/* A running feed of the same name and key, taken out of l->feeds (under set_mu; the slot
 * is left NULL until the new set is swapped in), or NULL. */
static live_feed *
take_same(struct ts_live *l, const char *name, uint64_t key)
{
    live_feed *found = NULL;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n && found == NULL; i++) {
        live_feed *lf = l->feeds[i];
        if (lf && key != 0 && lf->key == key && strcmp(lf->name, name) == 0) {
            found = lf;
            l->feeds[i] = NULL;
            /* the new service's layers start empty: rebuild them from the current
             * snapshot and drop whatever was drawn without it */
            ts_feed_snapshot_unref(lf->snap);
            lf->snap = ts_feed_snapshot_get(lf->f);
            lf->box = (ts_bbox){-180, -85.06, 180, 85.06};
            lf->has_box = 1;
            lf->overflow = 1;
            lf->dirty = 1;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return found;
}

/* The current snapshot of the running feed named name (a reference), or NULL. */
static ts_feed_snapshot *
running_snapshot(struct ts_live *l, const char *name)
{
    ts_feed_snapshot *s = NULL;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n && s == NULL; i++)
        if (l->feeds[i] && strcmp(l->feeds[i]->name, name) == 0)
            s = ts_feed_snapshot_get(l->feeds[i]->f);
    pthread_mutex_unlock(&l->mu);
    return s;
}

ts_status
ts_live_set_feeds_keyed(ts_live *l, const ts_feed_config *const *cfgs, const uint64_t *keys,
                        int n, ts_err *err)
{
    pthread_mutex_lock(&l->set_mu);
    live_feed **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    if (v == NULL) {
        pthread_mutex_unlock(&l->set_mu);
        return TS_FAIL(err, TS_ENOMEM, "live feeds");
    }
    int m = 0, kept = 0;
    for (int i = 0; i < n; i++) {
        live_feed *same = keys ? take_same(l, cfgs[i]->name ? cfgs[i]->name : "", keys[i]) : NULL;
        if (same) {
            ts_info("feed %s unchanged: kept running", same->name);
            v[m++] = same;
            kept++;
            continue;
        }
        live_feed *lf = calloc(1, sizeof *lf);
        if (lf == NULL) {
            feeds_free(v, m);
            pthread_mutex_unlock(&l->set_mu);
            return TS_FAIL(err, TS_ENOMEM, "feed %s", cfgs[i]->name);
        }
        lf->l = l;
        lf->key = keys ? keys[i] : 0;
        snprintf(lf->name, sizeof lf->name, "%s", cfgs[i]->name ? cfgs[i]->name : "");
        ts_feed_hooks hooks = {on_change, lf, NULL, NULL};
        ts_err ferr;
        ts_err_clear(&ferr);
        ts_status st = ts_feed_new(cfgs[i], &hooks, &lf->f, &ferr);
        if (st == TS_OK) { /* replacing a feed of that name: its sensors keep their state */
            ts_feed_snapshot *prev = running_snapshot(l, lf->name);
            ts_feed_carry_over(lf->f, prev);
            ts_feed_snapshot_unref(prev);
        }
        if (st == TS_OK && (st = ts_feed_start(lf->f, &ferr)) != TS_OK)
            ts_feed_free(lf->f);
        if (st != TS_OK) {
            /* the server serves on; the feed's layers stay empty */
            char buf[512];
            ts_error("feed %s not started: %s", lf->name, ts_err_format(&ferr, buf, sizeof buf));
            free(lf);
            continue;
        }
        v[m++] = lf;
    }
    pthread_mutex_lock(&l->mu);
    live_feed **old = l->feeds;
    int nold = l->n;
    l->feeds = v;
    l->n = m;
    if (kept < m || nold - kept > 0)
        l->gen++; /* ETags of /sensors: versions restart with new feeds */
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    feeds_free(old, nold);
    pthread_mutex_unlock(&l->set_mu);
    return TS_OK;
}

void
ts_live_free(ts_live *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->set_mu);
    pthread_mutex_lock(&l->mu);
    live_feed **old = l->feeds;
    int nold = l->n;
    l->feeds = NULL;
    l->n = 0;
    pthread_mutex_unlock(&l->mu);
    feeds_free(old, nold); /* joins the feed threads: no on_change after this */
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    pthread_mutex_unlock(&l->set_mu);
    run_wakes(take_waiters(l, 1));
    for (int i = 0; i < EV_RING; i++)
        free(l->ev[i]);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->set_mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

ts_feed_snapshot *
ts_live_snapshot(ts_live *l, const char *feed, uint64_t *gen)
{
    ts_feed_snapshot *s = NULL;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n && s == NULL; i++)
        if (l->feeds[i] && strcmp(l->feeds[i]->name, feed) == 0)
            s = ts_feed_snapshot_get(l->feeds[i]->f);
    if (gen)
        *gen = l->gen;
    pthread_mutex_unlock(&l->mu);
    return s;
}

int
ts_live_health(ts_live *l, ts_buf *b)
{
    pthread_mutex_lock(&l->mu);
    int n = l->n;
    ts_feed_stats *st = calloc((size_t)(n > 0 ? n : 1), sizeof *st);
    char(*names)[64] = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
    int got = 0;
    for (int i = 0; st && names && i < n; i++) {
        if (l->feeds[i] == NULL)
            continue;
        ts_feed_stats_get(l->feeds[i]->f, &st[got]);
        memcpy(names[got], l->feeds[i]->name, sizeof names[got]);
        got++;
    }
    pthread_mutex_unlock(&l->mu);
    int bad = 0;
    int64_t now = ts_wall_s() * 1000; /* the feeds' default clock is the wall clock */
    ts_buf_printf(b, ",\"feeds\":[");
    for (int i = 0; st && names && i < got; i++) {
        const ts_feed_stats *s = &st[i];
        /* ok: has its data, its latest load did not fail, its broker (if any) is connected */
        int ok = s->fresh && s->failed_loads == 0 && s->mqtt_connected != 0;
        bad += !ok;
        ts_buf_printf(b, "%s{\"name\":\"", i ? "," : "");
        ts_ows_json_escape(b, names[i]);
        ts_buf_printf(b, "\",\"ok\":%s,\"fresh\":%s,\"sensors\":%u,\"stale\":%u,"
                         "\"failed_loads\":%u,\"mqtt_connected\":%s",
                      ok ? "true" : "false", s->fresh ? "true" : "false", s->sensors, s->stale,
                      s->failed_loads,
                      s->mqtt_connected < 0 ? "null" : s->mqtt_connected ? "true" : "false");
        if (s->last_update_ms > 0)
            ts_buf_printf(b, ",\"last_update_age_s\":%lld",
                          (long long)((now - s->last_update_ms) / 1000));
        if (s->last_error[0]) {
            ts_buf_printf(b, ",\"last_error\":\"");
            ts_ows_json_escape(b, s->last_error);
            ts_buf_printf(b, "\",\"last_error_age_s\":%lld",
                          (long long)((now - s->last_error_ms) / 1000));
        }
        ts_buf_printf(b, "}");
    }
    ts_buf_printf(b, "]");
    free(st);
    free(names);
    return bad;
}

void
ts_live_metrics(ts_live *l, ts_buf *b)
{
    ts_buf_printf(b, "# HELP tilesrv_live_rebuilds_total Overlay store rebuilds after feed "
                     "changes.\n# TYPE tilesrv_live_rebuilds_total counter\n"
                     "tilesrv_live_rebuilds_total %llu\n"
                     "# HELP tilesrv_live_tiles_invalidated_total Cached tiles dropped by feed "
                     "changes.\n# TYPE tilesrv_live_tiles_invalidated_total counter\n"
                     "tilesrv_live_tiles_invalidated_total %llu\n",
                  (unsigned long long)atomic_load(&l->rebuilds),
                  (unsigned long long)atomic_load(&l->invalidated));
    pthread_mutex_lock(&l->mu);
    int n = l->n;
    ts_feed_stats *st = calloc((size_t)(n > 0 ? n : 1), sizeof *st);
    char(*names)[64] = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
    int got = 0;
    for (int i = 0; st && names && i < n; i++) {
        if (l->feeds[i] == NULL)
            continue; /* taken over by a reload in progress */
        ts_feed_stats_get(l->feeds[i]->f, &st[got]);
        memcpy(names[got], l->feeds[i]->name, sizeof names[got]);
        got++;
    }
    n = got;
    pthread_mutex_unlock(&l->mu);
    if (st == NULL || names == NULL)
        n = 0;
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        {"tilesrv_feed_messages_total", "counter", "Documents and messages received."},
        {"tilesrv_feed_observations_total", "counter", "Observations accepted."},
        {"tilesrv_feed_ignored_total", "counter", "Observations ignored (older or duplicate)."},
        {"tilesrv_feed_errors_total", "counter", "Bad input and transport errors by kind."},
        {"tilesrv_feed_snapshots_total", "counter", "Snapshots published."},
        {"tilesrv_feed_sensors", "gauge", "Sensors in the current snapshot."},
        {"tilesrv_feed_stale_sensors", "gauge", "Stale sensors in the current snapshot."},
        {"tilesrv_feed_last_update_seconds", "gauge",
         "Wall-clock time of the latest accepted observation (0 = none)."},
        {"tilesrv_feed_mqtt_connected", "gauge", "1 connected, 0 not, -1 no MQTT."},
        {"tilesrv_feed_version", "gauge", "Version of the current snapshot."},
    };
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        ts_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name,
                      m[k].type);
        for (int i = 0; i < n; i++) {
            const ts_feed_stats *s = &st[i];
            const char *f = names[i];
            switch (k) {
            case 0:
                ts_buf_printf(b, "%s{feed=\"%s\"} %llu\n", m[k].name, f,
                              (unsigned long long)s->messages);
                break;
            case 1:
                ts_buf_printf(b, "%s{feed=\"%s\"} %llu\n", m[k].name, f,
                              (unsigned long long)s->observations);
                break;
            case 2:
                ts_buf_printf(b, "%s{feed=\"%s\",reason=\"old\"} %llu\n", m[k].name, f,
                              (unsigned long long)s->ignored_old);
                ts_buf_printf(b, "%s{feed=\"%s\",reason=\"duplicate\"} %llu\n", m[k].name, f,
                              (unsigned long long)s->ignored_duplicate);
                break;
            case 3:
                for (int e = 0; e < TS_FEED_ERR__COUNT; e++)
                    ts_buf_printf(b, "%s{feed=\"%s\",kind=\"%s\"} %llu\n", m[k].name, f,
                                  ts_feed_error_name((ts_feed_error)e),
                                  (unsigned long long)s->errors[e]);
                break;
            case 4:
                ts_buf_printf(b, "%s{feed=\"%s\"} %llu\n", m[k].name, f,
                              (unsigned long long)s->snapshots);
                break;
            case 5:
                ts_buf_printf(b, "%s{feed=\"%s\"} %u\n", m[k].name, f, s->sensors);
                break;
            case 6:
                ts_buf_printf(b, "%s{feed=\"%s\"} %u\n", m[k].name, f, s->stale);
                break;
            case 7:
                ts_buf_printf(b, "%s{feed=\"%s\"} %.3f\n", m[k].name, f,
                              s->last_update_ms / 1000.0);
                break;
            case 8:
                ts_buf_printf(b, "%s{feed=\"%s\"} %d\n", m[k].name, f, s->mqtt_connected);
                break;
            default:
                ts_buf_printf(b, "%s{feed=\"%s\"} %llu\n", m[k].name, f,
                              (unsigned long long)s->version);
                break;
            }
        }
    }
    /* lag: how long ago the latest accepted observation arrived (feed clock = wall clock
     * in the server); no sample for a feed that has accepted none */
    ts_buf_printf(b, "# HELP tilesrv_feed_lag_seconds Seconds since the latest accepted "
                     "observation arrived.\n# TYPE tilesrv_feed_lag_seconds gauge\n");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    for (int i = 0; i < n; i++)
        if (st[i].last_update_ms > 0)
            ts_buf_printf(b, "tilesrv_feed_lag_seconds{feed=\"%s\"} %.3f\n", names[i],
                          (double)(now_ms - st[i].last_update_ms) / 1000.0);
    free(st);
    free(names);
}

/* ---- /events ------------------------------------------------------------------------------ */

uint64_t
ts_live_events(ts_live *l, uint64_t after, ts_buf *out)
{
    pthread_mutex_lock(&l->mu);
    uint64_t last = l->ev_last;
    uint64_t first = last >= EV_RING ? last - EV_RING + 1 : 1;
    if (after > last || (after + 1 < first && last > 0)) {
        /* an id from another run, or events lost: the client reloads everything */
        ts_buf_printf(out, "id: %s-%llu\nevent: reset\ndata: {\"version\":%llu}\n\n", l->epoch,
                      (unsigned long long)last, (unsigned long long)last);
    } else {
        for (uint64_t id = after + 1; id <= last; id++)
            ts_buf_printf(out, "id: %s-%llu\nevent: change\ndata: %s\n\n", l->epoch,
                          (unsigned long long)id, l->ev[id % EV_RING]);
    }
    pthread_mutex_unlock(&l->mu);
    return last;
}

const char *
ts_live_epoch(const ts_live *l)
{
    return l->epoch;
}

int
ts_live_events_wait(ts_live *l, uint64_t after, void (*wake)(void *ud), void *ud)
{
    ev_waiter *w = calloc(1, sizeof *w);
    pthread_mutex_lock(&l->mu);
    int wait = w != NULL && !l->ev_stopping && !l->stop && after == l->ev_last;
    if (wait) {
        w->wake = wake;
        w->ud = ud;
        w->deadline_ns = ts_mono_ns() + EV_KEEPALIVE_NS;
        w->next = l->waiters;
        l->waiters = w;
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    if (!wait)
        free(w);
    return wait;
}

void
ts_live_events_stop(ts_live *l)
{
    pthread_mutex_lock(&l->mu);
    l->ev_stopping = 1;
    ev_waiter *w = take_waiters(l, 1);
    pthread_mutex_unlock(&l->mu);
    run_wakes(w);
}
