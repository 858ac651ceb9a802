/* pipeline/service.c — turns a ts_config into loaded stores, styles and tilesets. */
#include "pipeline/pipeline.h"

#include "pipeline/pipeline_int.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode/encode.h"
#include "source/source.h"
#include "style/style.h"
#include "util/clock.h"
#include "util/log.h"

/* A render layer swapped into a live (feed) layer; refcounted so renders in flight keep
 * the one they started with. */
typedef struct live_rl {
    atomic_int refs;
    ts_render_layer *rl; /* holds its store and style */
} live_rl;

/* One loaded (layer, CRS) pair. */
typedef struct svc_layer {
    const ts_cfg_layer *cfg;
    char crs[64];
    ts_store *store;
    ts_style *style;
    ts_render_layer *rl; /* the loaded store; for a feed layer the initial empty one, kept
                          * for the service's life (WMS and the catalog read it) */
    live_rl *live;       /* feed layer: the store set last, NULL = rl; under live_mu */
    ts_pg_table *pg;     /* per-request (PostGIS) layer: its table; store and rl are then
                          * the table's empty store and the style bound to it */
} svc_layer;

/* The stores fetched for one render (ts_pipeline__fetch_layers). */
struct ts_pipeline__fetched {
    int n;
    const ts_render_layer **layers;
    ts_render_layer *views;  /* n: views of the fetched stores */
    ts_store **stores;       /* n: fetched stores (NULL: layer not fetched) */
};

/* Render layers of a tileset taken for one render (ts_pipeline__tileset_layers). */
struct ts_pipeline__hold {
    int n;
    live_rl **refs;
    const ts_render_layer **layers;
};

struct ts_service {
    atomic_int refs;
    uint64_t generation;
    ts_config *cfg;
    svc_layer *layers;
    int nlayers;
    ts_tileset *tilesets; /* each tileset on its first grid [0, ntilesets), then on
                           * its other grids [ntilesets, nall) */
    int ntilesets, nall;
    const ts_font_catalog *fonts; /* for labels (process_fonts); NULL: no labels */
    ts_service_wms *wms;          /* the WMS layer tree (wms_catalog.c) */
    svc_layer ***tsl;             /* per tileset entry: its layers' svc_layer */
    unsigned char *ts_live;       /* per tileset entry: 1 = draws a feed layer */
    pthread_mutex_t live_mu;      /* the live pointers of feed layers */
    int npg;                      /* per-request layers loaded */
    uint64_t *src_identity;       /* per configured source: its files' identity before the
                                   * load read them (ts_pipeline__file_identity) */
    struct preload *pre;          /* while loading: stores read ahead in parallel */
    int npre;
};

static void
live_unref(live_rl *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1) {
        ts_render_layer_free(l->rl);
        free(l);
    }
}

static atomic_ullong generation_counter;

/* The fonts of labels, scanned once per process (the default directories: Debian's DejaVu
 * and data/fonts) and kept for its whole life: render workers keep text contexts made from
 * it across reloads, so it must outlive every service. A machine without fonts serves
 * maps without labels, and says so once. */
static const ts_font_catalog *fonts_catalog;
static pthread_once_t fonts_once = PTHREAD_ONCE_INIT;

static void
fonts_load(void)
{
    ts_err err;
    fonts_catalog = ts_font_catalog_new(NULL, 0, &err);
    if (fonts_catalog == NULL)
        ts_log(TS_LOG_WARN, "no fonts for labels (%s): labels are not drawn", err.msg);
}

static const ts_font_catalog *
process_fonts(void)
{
    pthread_once(&fonts_once, fonts_load);
    return fonts_catalog;
}

/* Generalisation tolerances for a grid: half a pixel at a few coarse levels, ascending. */
static int
grid_tolerances(const ts_grid *g, double *tol, int max)
{
    static const int zooms[] = {14, 12, 10, 8, 6, 4};
    int n = 0;
    for (size_t i = 0; i < sizeof zooms / sizeof zooms[0] && n < max; i++)
        if (zooms[i] < g->nlevels)
            tol[n++] = g->levels[zooms[i]].res / 2;
    return n;
}

static void
service_free(ts_service *s)
{
    for (int i = 0; i < s->nlayers; i++) {
        ts_render_layer_free(s->layers[i].rl);
        ts_store_unref(s->layers[i].store);
        ts_style_unref(s->layers[i].style);
        live_unref(s->layers[i].live);
        ts_pg_table_free(s->layers[i].pg);
    }
    ts_pipeline__wms_free(s->wms);
    free(s->layers);
    for (int i = 0; i < s->nall; i++) {
        free(s->tilesets[i].layers);
        if (s->tsl)
            free(s->tsl[i]);
    }
    free(s->tsl);
    free(s->ts_live);
    free(s->src_identity);
    pthread_mutex_destroy(&s->live_mu);
    free(s->tilesets);
    ts_config_unref(s->cfg);
    free(s);
}

static svc_layer *
find_loaded(ts_service *s, const ts_cfg_layer *l, const char *crs)
{
    for (int i = 0; i < s->nlayers; i++)
        if (s->layers[i].cfg == l && strcmp(s->layers[i].crs, crs) == 0)
            return &s->layers[i];
    return NULL;
}

/* The style of layer l already read for another of its grids (a file may hold the
 * NamedLayers of several layers: the style is read per layer name). */
static ts_style *
find_style(ts_service *s, const ts_cfg_layer *l)
{
    for (int i = 0; i < s->nlayers; i++)
        if (s->layers[i].style && strcmp(s->layers[i].cfg->style, l->style) == 0 &&
            strcmp(s->layers[i].cfg->name, l->name) == 0)
            return ts_style_ref(s->layers[i].style);
    return NULL;
}

#define MAX_GRAPHIC_BYTES (16u * 1024u * 1024u)
#define MAX_GRAPHIC_PX (2048u * 2048u) /* pixels of an ExternalGraphic image */

/* Read and decode one ExternalGraphic of a style (the style module resolved and checked
 * its path; render draws the decoded pixels). NULL with *err naming the style file and
 * the line of the graphic. */
static ts_canvas *
load_graphic(const ts_style_image *im, const char *style_path, ts_err *err)
{
    FILE *f = fopen(im->path, "rb");
    if (f == NULL) {
        TS_FAIL_AT(err, TS_EIO, style_path, im->line, 0, "ExternalGraphic %s: cannot open %s",
                   im->href, im->path);
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_GRAPHIC_BYTES) {
                fclose(f);
                free(buf);
                TS_FAIL_AT(err, TS_ELIMIT, style_path, im->line, 0,
                           "ExternalGraphic %s: larger than %u bytes", im->href,
                           MAX_GRAPHIC_BYTES);
                return NULL;
            }
            cap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                fclose(f);
                free(buf);
                TS_FAIL(err, TS_ENOMEM, "ExternalGraphic %s", im->href);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    /* a symbol is drawn at most a few hundred pixels wide: an image of more than
     * MAX_GRAPHIC_PX pixels only costs memory (a 262 KB 8000 x 8000 PNG decoded to 256 MB,
     * at every load and reload) */
    if (!bad && len >= 24 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0) {
        uint32_t w = (uint32_t)buf[16] << 24 | (uint32_t)buf[17] << 16 | (uint32_t)buf[18] << 8 | buf[19];
        uint32_t hh = (uint32_t)buf[20] << 24 | (uint32_t)buf[21] << 16 | (uint32_t)buf[22] << 8 | buf[23];
        if ((uint64_t)w * hh > MAX_GRAPHIC_PX) {
            free(buf);
            TS_FAIL_AT(err, TS_ELIMIT, style_path, im->line, 0,
                       "ExternalGraphic %s: %u x %u px is more than %u pixels; scale it down to "
                       "the size it is drawn at", im->href, w, hh, MAX_GRAPHIC_PX);
            return NULL;
        }
    }
    ts_err derr;
    ts_err_clear(&derr);
    ts_canvas *c = bad ? NULL : ts_png_decode(buf, len, &derr);
    free(buf);
    if (c == NULL)
        TS_FAIL_AT(err, bad ? TS_EIO : derr.code, style_path, im->line, 0,
                   "ExternalGraphic %s: %s", im->href, bad ? "read error" : derr.msg);
    return c;
}

/* The render layer of a loaded store and style, with the style's ExternalGraphics decoded. */
static ts_render_layer *
bind_layer(const ts_cfg_layer *l, ts_store *store, ts_style *style, int *missing, ts_err *err)
{
    ts_canvas **imgs = NULL;
    int n = style->nimages;
    if (n > 0 && (imgs = calloc((size_t)n, sizeof *imgs)) == NULL) {
        TS_FAIL(err, TS_ENOMEM, "layer %s", l->name);
        return NULL;
    }
    ts_render_layer *rl = NULL;
    int i;
    for (i = 0; i < n; i++) {
        const ts_style_image *im = &style->images[i];
        if (im->is_svg) { /* drawn from its outlines at 8x its size (128..512 px) */
            if (im->svg == NULL)
                continue; /* unreadable: no graphic uses it */
            double side = fmax(im->svg->width, im->svg->height) * 8;
            if ((imgs[i] = ts_render_svg(im->svg, (int)fmin(fmax(side, 128), 512), err)) == NULL)
                break;
        } else if ((imgs[i] = load_graphic(im, l->style, err)) == NULL) {
            break;
        }
    }
    if (i == n)
        rl = ts_render_layer_new_images(l->name, store, style, (const ts_canvas *const *)imgs, n,
                                        missing, err);
    for (int k = 0; k < n; k++)
        ts_canvas_free(imgs[k]);
    free(imgs);
    return rl;
}

/* Once per layer (at its first store): each property its style reads that the data lack,
 * with where the style names it, the nearest field name and the fields there are. Rules and
 * labels reading it see null for every feature. */
static void
warn_missing_props(const ts_service *s, const ts_cfg_layer *l, const ts_style *style,
                   const ts_render_layer *rl, const ts_store *store, const char *table)
{
    for (int j = 0; j < s->nlayers; j++)
        if (s->layers[j].cfg == l)
            return; /* said at its first store (another grid's CRS) */
    const char *names[256]; /* the table's fields; else those the store kept */
    int n = 0, src = ts_store_source_nfields(store) > 0;
    int nf = src ? ts_store_source_nfields(store) : ts_store_nfields(store);
    for (int f = 0; f < nf && n < 256; f++)
        names[n++] = src ? ts_store_source_field(store, f) : ts_store_field_name(store, f);
    char fields[400];
    size_t len = 0;
    fields[0] = '\0';
    for (int f = 0; f < n && len < sizeof fields - 80; f++)
        len += (size_t)snprintf(fields + len, sizeof fields - len, "%s%s", f ? ", " : "",
                                names[f]);
    if (n < nf || len >= sizeof fields - 80)
        snprintf(fields + len, sizeof fields - len, ", ...");
    for (int i = 0; i < style->nprops; i++) {
        if (rl->prop_field[i] >= 0)
            continue;
        const char *near = ts_config_suggest(style->props[i], names, n);
        char hint[200] = "";
        if (near != NULL && strlen(near) == 10 && strlen(style->props[i]) > 10)
            snprintf(hint, sizeof hint,
                     " (did you mean '%s'? a Shapefile keeps 10 characters of a field name)",
                     near);
        else if (near != NULL)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
        ts_warn("%s:%ld: layer %s: the style reads property '%s' that %s does not have%s; "
                "its filters and labels see null. The fields: %s",
                style->path ? style->path : l->style, style->prop_lines ? style->prop_lines[i] : 0,
                l->name, style->props[i], table, hint, n ? fields : "none");
    }
}

/* A CRS PROJ knows: TS_OK, else the fault at (line, col) of the configuration, naming
 * what declares it. */
static ts_status
crs_known(const char *crs, const ts_config *cfg, int line, int col, const char *what,
          ts_err *err)
{
    ts_err e;
    ts_err_clear(&e);
    ts_source_xform *x = ts_source_xform_new(crs, "EPSG:4326", &e); /* no point transformed */
    ts_source_xform_free(x);
    if (x != NULL || e.code == TS_ENOMEM)
        return x != NULL ? TS_OK : TS_FAIL(err, TS_ENOMEM, "%s", what);
    return TS_FAIL_AT(err, TS_ECONFIG, cfg->path, line, col, "%s: %s", what, e.msg);
}

/* The CRSs the configuration names (its grids', sources' and layers' srs), checked before
 * any data is read, so that a mistyped code is reported where it is written. */
static ts_status
check_crs(const ts_config *cfg, ts_err *err)
{
    char what[200];
    for (int i = 0; i < cfg->ngrids; i++) {
        snprintf(what, sizeof what, "grid %s", cfg->grids[i].name);
        TS_TRY(crs_known(cfg->grids[i].grid.crs, cfg, cfg->grids[i].line, cfg->grids[i].col,
                         what, err));
    }
    for (int i = 0; i < cfg->nsources; i++)
        if (cfg->sources[i].srs != NULL) {
            snprintf(what, sizeof what, "source %s: srs", cfg->sources[i].name);
            TS_TRY(crs_known(cfg->sources[i].srs, cfg, cfg->sources[i].line,
                             cfg->sources[i].col, what, err));
        }
    for (int i = 0; i < cfg->nlayers; i++)
        if (cfg->layers[i].srs != NULL) {
            snprintf(what, sizeof what, "layer %s: srs", cfg->layers[i].name);
            TS_TRY(crs_known(cfg->layers[i].srs, cfg, cfg->layers[i].line,
                             cfg->layers[i].col, what, err));
        }
    return TS_OK;
}

/* The style of layer l, shared with other layers using the same file. */
static ts_style *
layer_style(ts_service *s, const ts_cfg_layer *l, ts_err *err)
{
    ts_style *st = find_style(s, l);
    return st ? st : ts_style_load_prefer(l->style, l->name, err);
}

/* A feed layer: an empty store with the style's properties as fields until the feed sets
 * one (ts_service_layer_set_store). */
static ts_status
load_feed_layer(ts_service *s, const ts_cfg_layer *l, const ts_grid *g, svc_layer **out,
                ts_err *err)
{
    if (ts_config_feed(s->cfg, l->feed) == NULL)
        return TS_FAIL_AT(err, TS_ECONFIG, s->cfg->path, l->line, l->col,
                          "layer %s: unknown feed %s", l->name, l->feed);
    svc_layer *sl = &s->layers[s->nlayers];
    memset(sl, 0, sizeof *sl);
    sl->cfg = l;
    snprintf(sl->crs, sizeof sl->crs, "%s", g->crs);
    if ((sl->style = layer_style(s, l, err)) == NULL)
        return err ? err->code : TS_ESTYLE;
    ts_store_builder *b = ts_store_builder_new(l->name, (const char *const *)sl->style->props,
                                               sl->style->nprops, err);
    if (b == NULL || ts_store_builder_finish(b, &sl->store, err) != TS_OK) {
        ts_style_unref(sl->style);
        sl->style = NULL;
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    int missing = 0;
    sl->rl = bind_layer(l, sl->store, sl->style, &missing, err);
    if (sl->rl == NULL) {
        ts_store_unref(sl->store);
        ts_style_unref(sl->style);
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    ts_info("layer %s: live overlay of feed %s in %s", l->name, l->feed, g->crs);
    s->nlayers++;
    *out = sl;
    return TS_OK;
}

/* A per-request layer: the PostGIS table is only described here (columns, SRID, extent);
 * an empty store with the fields the style reads binds the style once, and every render
 * fetches the features of its area (ts_pipeline__fetch_layers). */
static ts_status
load_pg_layer(ts_service *s, const ts_cfg_layer *l, const ts_cfg_source *src, const ts_grid *g,
              svc_layer **out, ts_err *err)
{
    svc_layer *sl = &s->layers[s->nlayers];
    memset(sl, 0, sizeof *sl);
    sl->cfg = l;
    snprintf(sl->crs, sizeof sl->crs, "%s", g->crs);
    if ((sl->style = layer_style(s, l, err)) == NULL)
        return err ? err->code : TS_ESTYLE;
    /* the attributes the style reads and those its vector tiles carry (`mvt: {attributes}`:
     * they had been left out of the query, so the tiles carried the style's only) */
    const char **fields =
        calloc((size_t)sl->style->nprops + (size_t)l->nmvt_attrs + 1, sizeof *fields);
    if (fields == NULL) {
        ts_style_unref(sl->style);
        sl->style = NULL;
        return TS_FAIL(err, TS_ENOMEM, "layer %s", l->name);
    }
    for (int i = 0; i < sl->style->nprops; i++)
        fields[i] = sl->style->props[i];
    for (int i = 0; i < l->nmvt_attrs; i++)
        fields[sl->style->nprops + i] = l->mvt_attrs[i].name;
    ts_pg_def def = {
        .name = l->name,
        .conninfo = src->path,
        .table = l->table ? l->table : l->name,
        .where = l->where,
        .geometry = l->geometry,
        .src_crs = l->srs ? l->srs : src->srs,
        .dst_crs = g->crs,
        .fields = fields,
        .timeout_ms = src->query_timeout_s * 1000,
    };
    uint64_t t0 = ts_mono_ns();
    sl->pg = ts_pg_table_open(&def, err);
    free(fields);
    if (sl->pg == NULL) {
        ts_style_unref(sl->style);
        sl->style = NULL;
        return err && err->code != TS_OK ? err->code : TS_ESOURCE;
    }
    sl->store = ts_store_ref(ts_pg_table_empty(sl->pg));
    int missing = 0;
    sl->rl = bind_layer(l, sl->store, sl->style, &missing, err);
    if (sl->rl == NULL) {
        ts_store_unref(sl->store);
        ts_style_unref(sl->style);
        ts_pg_table_free(sl->pg);
        sl->pg = NULL;
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    warn_missing_props(s, l, sl->style, sl->rl, sl->store, def.table);
    ts_info("layer %s: %s queried per render from PostGIS (%llu features now, %.2f s to "
            "describe)",
            l->name, def.table, (unsigned long long)ts_pg_table_count(sl->pg),
            (ts_mono_ns() - t0) / 1e9);
    s->nlayers++;
    s->npg++;
    *out = sl;
    return TS_OK;
}

/* Read layer l's features from its source into a store in g's CRS (ts_store_load), with
 * the attributes the style reads and those its vector tiles carry. sc is this thread's. */
static ts_status
read_store(ts_source_ctx *sc, const ts_cfg_layer *l, const ts_cfg_source *src, const ts_grid *g,
           const ts_style *style, int data_said, ts_store **out, ts_err *err)
{
    /* Keep only the attributes the style reads (an empty list keeps none) and those vector
     * tiles carry (`mvt: {attributes}`). */
    const char **fields = calloc((size_t)style->nprops + (size_t)l->nmvt_attrs + 1, sizeof *fields);
    if (fields == NULL)
        return TS_FAIL(err, TS_ENOMEM, "layer %s", l->name);
    for (int i = 0; i < style->nprops; i++)
        fields[i] = style->props[i];
    for (int i = 0; i < l->nmvt_attrs; i++)
        fields[style->nprops + i] = l->mvt_attrs[i].name;
    double tol[8];
    ts_store_def def = {
        .name = l->name,
        .path = src->path,
        .layer = l->table ? l->table : l->name,
        .layer_or_only = l->table_default,
        .where = l->where,
        .geometry = l->geometry,
        .src_crs = l->srs ? l->srs : src->srs,
        .dst_crs = g->crs,
        .fields = fields,
        .skip_missing_fields = 1,
        .tolerances = tol,
        .ntolerances = grid_tolerances(g, tol, 8),
        .data_said = data_said,
    };
    ts_status st = ts_store_load(sc, &def, out, err);
    free(fields);
    return st;
}

/* A (layer, grid) whose store preload_stores reads ahead; load_layer takes the style and
 * the store (or returns the error, when it reaches that layer, as if it had read it). */
typedef struct preload {
    const ts_cfg_layer *l;
    const ts_cfg_source *src;
    const ts_grid *g;
    ts_style *style;
    ts_store *store;
    double secs;
    ts_status st;
    ts_err err;
} preload;

static preload *
find_preload(ts_service *s, const ts_cfg_layer *l, const char *crs)
{
    for (int i = 0; i < s->npre; i++)
        if (s->pre[i].l == l && strcmp(s->pre[i].g->crs, crs) == 0)
            return &s->pre[i];
    return NULL;
}

typedef struct preload_run {
    ts_service *s;
    atomic_int next;
} preload_run;

static void *
preload_thread(void *arg)
{
    preload_run *run = arg;
    ts_err err = {0};
    ts_source_ctx *sc = ts_source_ctx_new(&err);
    for (;;) {
        int i = atomic_fetch_add(&run->next, 1);
        if (i >= run->s->npre)
            break;
        preload *p = &run->s->pre[i];
        if (p->st != TS_OK)
            continue;
        if (sc == NULL) {
            p->st = err.code != TS_OK ? err.code : TS_ENOMEM;
            p->err = err;
            continue;
        }
        uint64_t t0 = ts_mono_ns();
        int said = 0; /* an earlier entry reads the same layer into another CRS */
        for (int k = 0; k < i && !said; k++)
            said = run->s->pre[k].l == p->l;
        p->st = read_store(sc, p->l, p->src, p->g, p->style, said, &p->store, &p->err);
        p->secs = (ts_mono_ns() - t0) / 1e9;
    }
    ts_source_ctx_free(sc);
    return NULL;
}

/* Threads reading stores at load: the cores online, at most 4 (reading is mostly
 * parsing and transforming; more threads add memory held at once more than speed). */
static int
service_load_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

/* Drop what load_layer did not take (a failed load stops before the rest). */
static void
preload_free(ts_service *s)
{
    for (int i = 0; i < s->npre; i++) {
        ts_style_unref(s->pre[i].style);
        ts_store_unref(s->pre[i].store);
    }
    free(s->pre);
    s->pre = NULL;
    s->npre = 0;
}

/* Read the stores of every file-backed layer of cfg (each (layer, grid CRS) once) on up
 * to `threads` threads, one source context each, before ts_service_load binds them in
 * order: a city's parcels, buildings and streets load side by side. Styles are parsed
 * here, on this thread. Nothing is read ahead with fewer than two such layers or one
 * thread; failures are kept for load_layer to report in configuration order. */
static void
preload_stores(ts_service *s, const ts_config *cfg, const char *only, int threads)
{
    int max = 0;
    for (int i = 0; i < cfg->ntilesets; i++)
        max += cfg->tilesets[i].nlayers * (cfg->tilesets[i].ngrids > 0 ? cfg->tilesets[i].ngrids : 1);
    if (threads < 2 || max < 2 || (s->pre = calloc((size_t)max, sizeof *s->pre)) == NULL)
        return;
    for (int i = 0; i < cfg->ntilesets; i++) {
        const ts_cfg_tileset *tc = &cfg->tilesets[i];
        int ng = tc->ngrids > 0 ? tc->ngrids : 1;
        if (only != NULL && strcmp(tc->name, only) != 0)
            continue;
        for (int gi = 0; gi < ng; gi++) {
            const ts_grid *g = ts_config_grid(cfg, tc->ngrids > 0 ? tc->grids[gi] : "WebMercatorQuad");
            for (int k = 0; g != NULL && k < tc->nlayers; k++) {
                const ts_cfg_layer *l = ts_config_layer(cfg, tc->layers[k]);
                const ts_cfg_source *src = l && l->feed == NULL ? ts_config_source(cfg, l->source) : NULL;
                if (src == NULL || (src->mode != NULL && strcmp(src->mode, "per_request") == 0) ||
                    find_preload(s, l, g->crs) != NULL)
                    continue;
                preload *p = &s->pre[s->npre++];
                p->l = l;
                p->src = src;
                p->g = g;
                /* the layer in another grid CRS: its style once (its warnings once) */
                const preload *same = NULL;
                for (int j = 0; j < s->npre - 1 && same == NULL; j++)
                    if (s->pre[j].l == l)
                        same = &s->pre[j];
                if (same != NULL && same->style != NULL) {
                    p->style = ts_style_ref(same->style);
                } else if (same != NULL) {
                    p->err = same->err;
                    p->st = same->st;
                } else {
                    p->style = ts_style_load_prefer(l->style, l->name, &p->err);
                    if (p->style == NULL)
                        p->st = p->err.code != TS_OK ? p->err.code : TS_ESTYLE;
                }
            }
        }
    }
    if (s->npre < 2) { /* one store: read in order, nothing gained */
        preload_free(s);
        return;
    }
    preload_run run = {.s = s};
    atomic_init(&run.next, 0);
    if (threads > s->npre)
        threads = s->npre;
    pthread_t th[8];
    int started = 0;
    for (int i = 0; i < threads && i < 8; i++)
        if (pthread_create(&th[i], NULL, preload_thread, &run) == 0)
            started++;
    if (started == 0)
        preload_thread(&run);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
}

static ts_status
load_layer(ts_service *s, ts_source_ctx *sc, const ts_cfg_layer *l, const ts_grid *g,
           svc_layer **out, ts_err *err)
{
    svc_layer *have = find_loaded(s, l, g->crs);
    if (have) {
        *out = have;
        return TS_OK;
    }
    if (l->feed != NULL)
        return load_feed_layer(s, l, g, out, err);
    const ts_cfg_source *src = ts_config_source(s->cfg, l->source);
    if (src == NULL)
        return TS_FAIL_AT(err, TS_ECONFIG, s->cfg->path, l->line, l->col,
                          "layer %s: unknown source %s", l->name, l->source);
    if (src->mode != NULL && strcmp(src->mode, "per_request") == 0)
        return load_pg_layer(s, l, src, g, out, err);
    svc_layer *sl = &s->layers[s->nlayers];
    memset(sl, 0, sizeof *sl);
    sl->cfg = l;
    snprintf(sl->crs, sizeof sl->crs, "%s", g->crs);

    double secs = 0;
    preload *pre = find_preload(s, l, g->crs);
    ts_status st;
    if (pre != NULL) {
        /* read ahead by preload_stores: take its style and store, or its error */
        if (pre->st != TS_OK) {
            if (err)
                *err = pre->err;
            return pre->st;
        }
        sl->style = pre->style;
        sl->store = pre->store;
        pre->style = NULL;
        pre->store = NULL;
        secs = pre->secs;
    } else {
        sl->style = find_style(s, l);
        if (sl->style == NULL) {
            sl->style = ts_style_load_prefer(l->style, l->name, err);
            if (sl->style == NULL)
                return err ? err->code : TS_ESTYLE;
        }
        uint64_t t0 = ts_mono_ns();
        int said = 0; /* loaded before into another CRS */
        for (int k = 0; k < s->nlayers && !said; k++)
            said = s->layers[k].cfg == l;
        st = read_store(sc, l, src, g, sl->style, said, &sl->store, err);
        if (st != TS_OK) {
            ts_style_unref(sl->style);
            sl->style = NULL;
            return st;
        }
        secs = (ts_mono_ns() - t0) / 1e9;
    }
    const char *table = ts_store_table(sl->store); /* lives as sl->store */
    for (int i = 0; i < l->nmvt_attrs; i++)
        if (ts_store_field_index(sl->store, l->mvt_attrs[i].name) < 0) {
            TS_FAIL_AT(err, TS_ECONFIG, s->cfg->path, l->mvt_attrs[i].line, l->mvt_attrs[i].col,
                       "layer %s: mvt attribute '%s' is not a field of %s in %s", l->name,
                       l->mvt_attrs[i].name, table, src->path);
            ts_style_unref(sl->style);
            sl->style = NULL;
            ts_store_unref(sl->store);
            sl->store = NULL;
            return TS_ECONFIG;
        }
    /* what the style reads but the vector tiles leave out: the MapLibre style's filters
     * on it are false, its labels empty (said once per layer) */
    char left_out[400] = "";
    int nleft = 0;
    for (int i = 0; l->has_mvt_attrs && sl->style && i < sl->style->nprops; i++) {
        const char *prop = sl->style->props[i];
        int kept = ts_store_field_index(sl->store, prop) < 0; /* absent: said elsewhere */
        for (int k = 0; k < l->nmvt_attrs && !kept; k++)
            kept = strcasecmp(l->mvt_attrs[k].name, prop) == 0;
        if (!kept && nleft++ < 8) {
            size_t len = strlen(left_out);
            snprintf(left_out + len, sizeof left_out - len, "%s'%.60s'", len ? ", " : "", prop);
        }
    }
    int said_before = 0;
    for (int k = 0; k < s->nlayers && !said_before; k++)
        said_before = s->layers[k].cfg == l && &s->layers[k] != sl;
    if (nleft > 0 && !said_before)
        ts_warn("%s:%d:%d: layer %s: mvt attributes leave out %s, which its style reads: "
                "without them in the vector tiles the MapLibre style's filters on them are "
                "false and its labels of them empty (the PNG tiles are not affected); list them "
                "under attributes",
                s->cfg->path, l->mvt_attrs ? l->mvt_attrs[0].line : l->line,
                l->mvt_attrs ? l->mvt_attrs[0].col : l->col, l->name, left_out);
    const ts_store_stats *ss = ts_store_stats_get(sl->store);
    /* a layer is loaded once per grid CRS: say which, the counts may differ */
    ts_info("layer %s: %llu features from %s (%s) into %s in %.2f s, %llu repaired, %llu "
            "skipped, %.1f MB",
            l->name, (unsigned long long)ss->kept, src->path, ts_store_table(sl->store),
            strlen(g->crs) <= 40 ? g->crs : g->name, secs,
            (unsigned long long)ss->repaired,
            (unsigned long long)ss->skipped, ss->bytes / 1048576.0);
    if (ss->kept == 0 && ss->skipped > 0)
        ts_warn("layer %s: all %llu features of %s (%s) were skipped: it draws nothing (no "
                "geometry, or none in the grid's CRS; a CSV needs a WKT column or lon/lat "
                "columns)",
                l->name, (unsigned long long)ss->skipped, src->path, table);
    int missing = 0;
    sl->rl = bind_layer(l, sl->store, sl->style, &missing, err);
    if (sl->rl == NULL) {
        ts_store_unref(sl->store);
        ts_style_unref(sl->style);
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    warn_missing_props(s, l, sl->style, sl->rl, sl->store, ts_store_table(sl->store));
    s->nlayers++;
    *out = sl;
    return TS_OK;
}

/* ts->minzoom, maxzoom: the configured range on the tileset's first grid g0; on another
 * grid the levels whose scale denominator lies within that range's, half a level (a factor
 * of sqrt 2) of slack at each end, so that the nearest level of each end counts. An end the
 * configuration leaves open (no minzoom, no maxzoom) bounds no other grid: its capabilities
 * list all its levels (WMTS cannot say that a layer has fewer), and a coarser level 00 of
 * DE_EPSG_25832_ADV than the first grid's level 0 had been refused. */
static void
tileset_zooms(ts_tileset *ts, const ts_grid *g0)
{
    const ts_cfg_tileset *tc = ts->cfg;
    int z0 = tc->minzoom < 0 ? 0 : tc->minzoom;
    int z1 = tc->maxzoom > 0 && g0 != NULL && tc->maxzoom < g0->nlevels
                 ? tc->maxzoom
                 : (g0 ? g0->nlevels - 1 : ts->grid->nlevels - 1);
    if (g0 == NULL || g0 == ts->grid) {
        ts->minzoom = z0;
        ts->maxzoom = z1 < ts->grid->nlevels ? z1 : ts->grid->nlevels - 1;
        return;
    }
    double coarse = tc->minzoom_set ? g0->levels[z0].res * g0->meters_per_unit * M_SQRT2
                                    : INFINITY;
    double fine = tc->maxzoom_set ? g0->levels[z1].res * g0->meters_per_unit / M_SQRT2 : 0;
    ts->minzoom = ts->grid->nlevels;
    ts->maxzoom = -1;
    for (int z = 0; z < ts->grid->nlevels; z++) {
        double r = ts->grid->levels[z].res * ts->grid->meters_per_unit;
        if (r <= coarse && r >= fine) {
            if (z < ts->minzoom)
                ts->minzoom = z;
            ts->maxzoom = z;
        }
    }
}

/* The configured extent of layer lc (`extent`, lon/lat) in the CRS of grid g: 1, or 0 when
 * it cannot be transformed (logged). */
static int
cfg_extent_in(const ts_cfg_layer *lc, const ts_grid *g, ts_bbox *out)
{
    ts_bbox ll = {lc->extent[0], lc->extent[1], lc->extent[2], lc->extent[3]};
    ts_err err;
    ts_err_clear(&err);
    const ts_crs *crs84 = ts_grid_crs_find("CRS:84");
    ts_source_xform *x = crs84 ? ts_source_xform_new(ts_pipeline__proj_name(crs84),
                                                     ts_pipeline__proj_name(ts_grid_crs(g)), &err)
                               : NULL;
    int ok = x != NULL && ts_source_xform_box(x, 0, &ll, out);
    if (!ok)
        ts_warn("layer %s: its extent cannot be expressed in %s%s%s", lc->name, g->crs,
                err.msg[0] ? ": " : "", err.msg);
    ts_source_xform_free(x);
    return ok;
}

static void
bbox_union(ts_bbox *a, const ts_bbox *b, int first)
{
    if (first) {
        *a = *b;
        return;
    }
    if (b->minx < a->minx)
        a->minx = b->minx;
    if (b->miny < a->miny)
        a->miny = b->miny;
    if (b->maxx > a->maxx)
        a->maxx = b->maxx;
    if (b->maxy > a->maxy)
        a->maxy = b->maxy;
}

ts_service *
ts_service_load(ts_config *cfg, ts_err *err)
{
    return ts_service_load_tileset(cfg, NULL, err);
}

ts_service *
ts_service_load_tileset(ts_config *cfg, const char *only, ts_err *err)
{
    ts_service *s = calloc(1, sizeof *s);
    if (s == NULL) {
        TS_FAIL(err, TS_ENOMEM, "service");
        return NULL;
    }
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->live_mu, NULL);
    s->cfg = ts_config_ref(cfg);
    int maxlayers = 0;
    for (int i = 0; i < cfg->ntilesets; i++)
        maxlayers += cfg->tilesets[i].nlayers * (cfg->tilesets[i].ngrids > 0
                                                     ? cfg->tilesets[i].ngrids : 1);
    s->layers = calloc((size_t)(maxlayers > 0 ? maxlayers : 1), sizeof *s->layers);
    int ntsg = 0;
    for (int i = 0; i < cfg->ntilesets; i++)
        ntsg += cfg->tilesets[i].ngrids > 0 ? cfg->tilesets[i].ngrids : 1;
    s->tilesets = calloc((size_t)(ntsg > 0 ? ntsg : 1), sizeof *s->tilesets);
    s->tsl = calloc((size_t)(ntsg > 0 ? ntsg : 1), sizeof *s->tsl);
    s->ts_live = calloc((size_t)(ntsg > 0 ? ntsg : 1), 1);
    ts_source_ctx *sc = ts_source_ctx_new(err);
    if (s->layers == NULL || s->tilesets == NULL || s->tsl == NULL || s->ts_live == NULL ||
        sc == NULL) {
        if (sc == NULL && err && err->code != TS_OK)
            goto fail;
        TS_FAIL(err, TS_ENOMEM, "service");
        goto fail;
    }
    if (check_crs(cfg, err) != TS_OK)
        goto fail;
    /* taken before the stores are read: a file changed while it is read differs */
    s->src_identity = calloc((size_t)(cfg->nsources > 0 ? cfg->nsources : 1),
                             sizeof *s->src_identity);
    if (s->src_identity == NULL) {
        TS_FAIL(err, TS_ENOMEM, "service");
        goto fail;
    }
    for (int i = 0; i < cfg->nsources; i++)
        s->src_identity[i] = ts_pipeline__file_identity(cfg->sources[i].path);
    s->fonts = process_fonts();
    preload_stores(s, cfg, only, service_load_threads());
    /* every tileset on its first grid, then on its others (one pass per grid index) */
    for (int gi = 0; gi < 32; gi++) {
        for (int i = 0; i < cfg->ntilesets; i++) {
            const ts_cfg_tileset *tc = &cfg->tilesets[i];
            int ng = tc->ngrids > 0 ? tc->ngrids : 1;
            if (gi >= ng || (only != NULL && strcmp(tc->name, only) != 0))
                continue;
            ts_tileset *ts = &s->tilesets[s->nall];
            ts->cfg = tc;
            ts->fonts = s->fonts;
            ts->name = tc->name;
            ts->grid = ts_config_grid(cfg, tc->ngrids > 0 ? tc->grids[gi] : "WebMercatorQuad");
            if (ts->grid == NULL) {
                TS_FAIL_AT(err, TS_ECONFIG, cfg->path, tc->line, tc->col,
                           "tileset %s: unknown grid", tc->name);
                goto fail;
            }
            ts->mode =
                (tc->format && strcmp(tc->format, "png8") == 0) ? TS_PNG_PALETTE : TS_PNG_TRUECOLOR;
            ts->background = (ts_rgba){tc->background[0], tc->background[1], tc->background[2],
                                       tc->background[3]};
            ts->layers = calloc((size_t)(tc->nlayers > 0 ? tc->nlayers : 1), sizeof *ts->layers);
            s->tsl[s->nall] =
                calloc((size_t)(tc->nlayers > 0 ? tc->nlayers : 1), sizeof *s->tsl[s->nall]);
            if (ts->layers == NULL || s->tsl[s->nall] == NULL) {
                free(s->tsl[s->nall]);
                s->tsl[s->nall] = NULL;
                TS_FAIL(err, TS_ENOMEM, "tileset %s", tc->name);
                goto fail;
            }
            tileset_zooms(ts, gi == 0 ? ts->grid
                                      : ts_config_grid(cfg, tc->grids[0]));
            if (ts->minzoom > ts->maxzoom)
                ts_warn("tileset %s: grid %s has no level in the scale range of levels %d-%d of "
                        "%s: it serves no tiles there",
                        tc->name, ts->grid->name, tc->minzoom, tc->maxzoom, tc->grids[0]);
            s->nall++;
            if (gi == 0)
                s->ntilesets++;
            int has_bounds = 0;
            for (int k = 0; k < tc->nlayers; k++) {
                const ts_cfg_layer *lc = ts_config_layer(cfg, tc->layers[k]);
                if (lc == NULL) {
                    TS_FAIL_AT(err, TS_ECONFIG, cfg->path, tc->line, tc->col,
                               "tileset %s: unknown layer %s", tc->name, tc->layers[k]);
                    goto fail;
                }
                svc_layer *sl = NULL;
                if (load_layer(s, sc, lc, ts->grid, &sl, err) != TS_OK) {
                    /* a fault with no place of its own (no such table, unknown CRS, a bad
                     * `where`) is the layer's: point at it in the config */
                    if (err && err->input[0] == '\0') {
                        snprintf(err->input, sizeof err->input, "%s", cfg->path);
                        err->input_line = lc->line;
                        err->input_col = lc->col;
                    }
                    goto fail;
                }
                if (lc->feed != NULL)
                    s->ts_live[ts - s->tilesets] = 1;
                s->tsl[ts - s->tilesets][ts->nlayers] = sl;
                ts->layers[ts->nlayers++] = sl->rl;
                ts_bbox e;
                if (lc->has_extent ? cfg_extent_in(lc, ts->grid, &e)
                                   : (sl->pg ? ts_pg_table_count(sl->pg)
                                             : ts_store_count(sl->store)) > 0) {
                    if (!lc->has_extent)
                        e = sl->pg ? ts_pg_table_extent(sl->pg) : ts_store_extent(sl->store);
                    bbox_union(&ts->bounds, &e, !has_bounds);
                    has_bounds = 1;
                }
            }
            uint32_t c0, r0, c1, r1; /* a grid defined beside the data: say so */
            if (has_bounds && ts->minzoom <= ts->maxzoom &&
                !ts_grid_tile_range(ts->grid, ts->minzoom, ts->bounds, &c0, &r0, &c1, &r1))
                ts_warn("tileset %s: its data lie outside grid %s (origin and matrix sizes): "
                        "none of that grid's tiles show any of it",
                        tc->name, ts->grid->name);
        }
    }
    preload_free(s);
    for (int i = 0; i < s->nlayers; i++) { /* told at load, so by check too */
        const ts_style *st = s->layers[i].style;
        int seen = 0; /* once per layer, not per grid */
        for (int j = 0; j < i && !seen; j++)
            seen = s->layers[j].cfg == s->layers[i].cfg;
        if (st == NULL || seen)
            continue;
        ts_render_check_fonts(st, s->fonts, s->layers[i].cfg->name);
        int nsyms = 0;
        for (int f = 0; f < st->nfts; f++)
            for (int r = 0; r < st->fts[f].nrules; r++)
                nsyms += st->fts[f].rules[r].nsyms;
        if (nsyms == 0)
            ts_warn("layer %s: its style %s draws nothing (no symbolizer is left: see the "
                    "warnings about it)",
                    s->layers[i].cfg->name, s->layers[i].cfg->style);
    }
    if (ts_pipeline__wms_build(s, &s->wms, err) != TS_OK)
        goto fail;
    ts_source_ctx_free(sc);
    /* numbered once loaded: a refused reload takes no number (generations stay 1, 2, 3) */
    s->generation = atomic_fetch_add(&generation_counter, 1) + 1;
    return s;
fail:
    preload_free(s);
    ts_source_ctx_free(sc);
    service_free(s);
    return NULL;
}

ts_service *
ts_service_ref(ts_service *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void
ts_service_unref(ts_service *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        service_free(s);
}

const ts_config *
ts_service_config(const ts_service *s)
{
    return s->cfg;
}

int
ts_service_ntilesets(const ts_service *s)
{
    return s->ntilesets;
}

const ts_tileset *
ts_service_tileset_at(const ts_service *s, int i)
{
    return i >= 0 && i < s->ntilesets ? &s->tilesets[i] : NULL;
}

const ts_tileset *
ts_service_tileset(const ts_service *s, const char *name)
{
    for (int i = 0; i < s->ntilesets; i++)
        if (strcmp(s->tilesets[i].name, name) == 0)
            return &s->tilesets[i];
    return NULL;
}

const ts_tileset *
ts_service_tileset_grid(const ts_service *s, const char *name, const char *grid)
{
    if (grid == NULL)
        return ts_service_tileset(s, name);
    for (int i = 0; i < s->nall; i++)
        if (strcmp(s->tilesets[i].name, name) == 0 && strcmp(s->tilesets[i].grid->name, grid) == 0)
            return &s->tilesets[i];
    return NULL;
}

int
ts_service_ntileset_grids(const ts_service *s)
{
    return s->nall;
}

const ts_tileset *
ts_service_tileset_grid_at(const ts_service *s, int i)
{
    return i >= 0 && i < s->nall ? &s->tilesets[i] : NULL;
}

const ts_service_wms *
ts_pipeline__service_wms(const ts_service *s)
{
    return s->wms;
}

const ts_font_catalog *
ts_service_fonts(const ts_service *s)
{
    return s->fonts;
}

const ts_font_catalog *
ts_pipeline__service_fonts(const ts_service *s)
{
    return s->fonts;
}

int
ts_pipeline__service_layers(const ts_service *s, const ts_cfg_layer *l, ts_pipeline__loaded *out,
                            int max)
{
    int n = 0;
    for (int i = 0; i < s->nlayers && n < max; i++)
        if (s->layers[i].cfg == l) {
            const svc_layer *sl = &s->layers[i];
            out[n++] = (ts_pipeline__loaded){
                sl->crs, sl->rl, sl->pg ? ts_pg_table_count(sl->pg) : ts_store_count(sl->store),
                sl->pg ? ts_pg_table_extent(sl->pg) : ts_store_extent(sl->store)};
        }
    return n;
}

uint64_t
ts_service_generation(const ts_service *s)
{
    return s->generation;
}

/* ---- live (feed) layers ------------------------------------------------------------------ */

ts_status
ts_service_layer_set_store(ts_service *s, const char *layer, const char *crs, ts_store *store,
                           ts_err *err)
{
    svc_layer *sl = NULL;
    for (int i = 0; i < s->nlayers && sl == NULL; i++)
        if (strcmp(s->layers[i].cfg->name, layer) == 0 && strcmp(s->layers[i].crs, crs) == 0)
            sl = &s->layers[i];
    if (sl == NULL)
        return TS_FAIL(err, TS_ENOENT, "layer %s is not served in %s", layer, crs);
    if (sl->cfg->feed == NULL)
        return TS_FAIL(err, TS_EINVAL, "layer %s is not a feed layer", layer);
    live_rl *nl = calloc(1, sizeof *nl);
    if (nl == NULL)
        return TS_FAIL(err, TS_ENOMEM, "layer %s", layer);
    int missing = 0;
    nl->rl = bind_layer(sl->cfg, store, sl->style, &missing, err);
    if (nl->rl == NULL) {
        free(nl);
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    }
    atomic_init(&nl->refs, 1);
    pthread_mutex_lock(&s->live_mu);
    live_rl *old = sl->live;
    sl->live = nl;
    pthread_mutex_unlock(&s->live_mu);
    live_unref(old);
    return TS_OK;
}

const ts_render_layer *const *
ts_pipeline__tileset_layers(const ts_service *cs, const ts_tileset *ts, ts_pipeline__hold **hold)
{
    ts_service *s = (ts_service *)cs;
    *hold = NULL;
    ptrdiff_t ti = ts - s->tilesets;
    if (ti < 0 || ti >= s->nall || !s->ts_live[ti])
        return ts->layers;
    int n = ts->nlayers;
    ts_pipeline__hold *h = calloc(1, sizeof *h + (size_t)n * (sizeof *h->refs + sizeof
                                                                 *h->layers));
    if (h == NULL)
        return ts->layers; /* out of memory: draw the initial (empty) overlays */
    h->n = n;
    h->refs = (live_rl **)(h + 1);
    h->layers = (const ts_render_layer **)(h->refs + n);
    pthread_mutex_lock(&s->live_mu);
    for (int k = 0; k < n; k++) {
        live_rl *l = s->tsl[ti][k]->live;
        if (l) {
            atomic_fetch_add(&l->refs, 1);
            h->refs[k] = l;
            h->layers[k] = l->rl;
        } else {
            h->layers[k] = ts->layers[k];
        }
    }
    pthread_mutex_unlock(&s->live_mu);
    *hold = h;
    return h->layers;
}

void
ts_pipeline__hold_release(ts_pipeline__hold *h)
{
    if (h == NULL)
        return;
    for (int k = 0; k < h->n; k++)
        live_unref(h->refs[k]);
    free(h);
}

int
ts_service_tileset_live(const ts_service *s, const ts_tileset *ts)
{
    ptrdiff_t ti = ts - s->tilesets;
    return ti >= 0 && ti < s->nall && s->ts_live[ti];
}

const ts_render_layer *
ts_pipeline__live_layer(const ts_service *cs, const ts_render_layer *rl, void **ref)
{
    ts_service *s = (ts_service *)cs;
    *ref = NULL;
    for (int i = 0; i < s->nlayers; i++) {
        svc_layer *sl = &s->layers[i];
        if (sl->rl != rl || sl->cfg->feed == NULL)
            continue;
        pthread_mutex_lock(&s->live_mu);
        live_rl *l = sl->live;
        if (l)
            atomic_fetch_add(&l->refs, 1);
        pthread_mutex_unlock(&s->live_mu);
        *ref = l;
        return l ? l->rl : rl;
    }
    return rl;
}

void
ts_pipeline__live_release(void *ref)
{
    live_unref(ref);
}

/* ---- per-request (PostGIS) layers ------------------------------------------------------- */

static const svc_layer *
pg_layer_of(const ts_service *s, const ts_render_layer *rl)
{
    for (int i = 0; i < s->nlayers; i++)
        if (s->layers[i].pg != NULL && s->layers[i].store == rl->store)
            return &s->layers[i];
    return NULL;
}

int
ts_service_tileset_uses_db(const ts_service *s, const ts_tileset *ts)
{
    return ts != NULL && ts_pipeline__layers_use_db(s, ts->layers, ts->nlayers);
}

int
ts_pipeline__layers_use_db(const ts_service *s, const ts_render_layer *const *layers, int n)
{
    if (s == NULL || s->npg == 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (pg_layer_of(s, layers[i]) != NULL)
            return 1;
    return 0;
}

void
ts_pipeline__fetched_release(ts_pipeline__fetched *f)
{
    if (f == NULL)
        return;
    for (int i = 0; i < f->n; i++)
        ts_store_unref(f->stores[i]);
    free(f);
}

ts_status
ts_pipeline__fetch_layers(const ts_service *s, const ts_render_layer *const *layers, int n,
                          const ts_bbox *bbox, int width, double sf, double scale_denom,
                          const char *image_crs,
                          const char *const *layer_crs, const ts_render_layer *const **out,
                          ts_pipeline__fetched **held, ts_err *err)
{
    *out = layers;
    *held = NULL;
    if (s->npg == 0 || n <= 0)
        return TS_OK;
    int any = 0;
    for (int i = 0; i < n && !any; i++)
        any = pg_layer_of(s, layers[i]) != NULL;
    if (!any)
        return TS_OK;
    ts_pipeline__fetched *f = calloc(1, sizeof *f + (size_t)n * (sizeof *f->layers +
                                                                 sizeof *f->views +
                                                                 sizeof *f->stores));
    if (f == NULL)
        return TS_FAIL(err, TS_ENOMEM, "fetch");
    f->n = n;
    f->views = (ts_render_layer *)(f + 1);
    f->stores = (ts_store **)(f->views + n);
    f->layers = (const ts_render_layer **)(f->stores + n);
    double res = (bbox->maxx - bbox->minx) / (width > 0 ? width : 1);
    ts_status st = TS_OK;
    for (int i = 0; i < n && st == TS_OK; i++) {
        const svc_layer *sl = pg_layer_of(s, layers[i]);
        f->layers[i] = layers[i];
        if (sl == NULL)
            continue;
        /* no rule of the style applies at this scale: nothing would be drawn, so nothing is
         * fetched (a z9 tile over a parcel table whose rules begin at 1:50,000 had read all
         * its rows, hundreds of MB, to draw a blank tile); the layer's empty store is drawn */
        int in_scale = 0;
        const ts_style *sty = layers[i]->style;
        for (int t = 0; sty != NULL && t < sty->nfts && !in_scale; t++)
            for (int k = 0; k < sty->fts[t].nrules && !in_scale; k++)
                in_scale = ts_rule_in_scale(&sty->fts[t].rules[k], scale_denom);
        if (sty != NULL && !in_scale && scale_denom > 0) /* 0: any scale (vector tiles) */
            continue;
        /* the canvas grown by the layer's largest symbol, in the layer's CRS */
        double m = (ts_render_layer_reach_px(layers[i], scale_denom) * sf + 2) * res;
        ts_bbox q = {bbox->minx - m, bbox->miny - m, bbox->maxx + m, bbox->maxy + m};
        const char *lcrs = layer_crs ? layer_crs[i] : NULL;
        if (lcrs != NULL && image_crs != NULL) {
            ts_source_xform *x = ts_source_xform_new(image_crs, lcrs, err);
            if (x == NULL) {
                st = err && err->code != TS_OK ? err->code : TS_EINVAL;
                break;
            }
            ts_bbox lq;
            int ok = ts_source_xform_box(x, 0, &q, &lq);
            ts_source_xform_free(x);
            if (!ok)
                continue; /* nothing of the map exists in the layer's CRS: draw the empty store */
            q = lq;
        }
        st = ts_pg_table_fetch(sl->pg, &q, &f->stores[i], err);
        if (st == TS_OK) {
            ts_render_layer_view(layers[i], f->stores[i], &f->views[i]);
            f->layers[i] = &f->views[i];
        }
    }
    if (st != TS_OK) {
        ts_pipeline__fetched_release(f);
        return st;
    }
    *out = f->layers;
    *held = f;
    return TS_OK;
}

int
ts_service__source_unchanged(const ts_service *svc, int src_index)
{
    if (svc == NULL || svc->src_identity == NULL || src_index < 0 ||
        src_index >= svc->cfg->nsources)
        return 0;
    return ts_pipeline__file_identity(svc->cfg->sources[src_index].path) ==
           svc->src_identity[src_index];
}
