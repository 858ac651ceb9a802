/* http/tilejson.c — TileJSON of the tilesets: /tiles/{tileset}.json (?format=pbf for the
 * vector tiles) and the index of them all, /tiles.json.
 *
 * TileJSON is Web Mercator by definition: "scheme":"xyz" and every client that reads it
 * (MapLibre, OpenLayers' TileJSON source, Leaflet plug-ins, QGIS) assumes EPSG:3857 tiles
 * numbered as WebMercatorQuad. So both documents describe the tileset's WebMercatorQuad
 * grid, whichever grid it lists first: when that grid is not the first, the tile URLs name
 * it (/tiles/{tileset}/WebMercatorQuad/{z}/{x}/{y}.png, the grid-qualified route), and the
 * zooms, bounds and center are those of that grid. A tileset without WebMercatorQuad has no
 * TileJSON (404 saying why; WMTS and OGC API – Tiles serve its grids). */
#include "http/http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MERCATOR "WebMercatorQuad"

/* The tileset named (any of its grid entries) on WebMercatorQuad, or NULL when it is not
 * offered there or has no level of it in its zoom range. */
static const ts_tileset *
mercator_entry(const ts_service *svc, const char *name)
{
    const ts_tileset *ts = ts_service_tileset_grid(svc, name, MERCATOR);
    return ts && ts->minzoom <= ts->maxzoom ? ts : NULL;
}

/* The names of the feeds the tileset's layers draw, each once, into feeds (room for
 * ts->nlayers); returns how many. */
static int
tileset_feeds(const ts_service *svc, const ts_tileset *ts, const char **feeds)
{
    const ts_config *cfg = ts_service_config(svc);
    int n = 0;
    for (int i = 0; i < ts->cfg->nlayers; i++) {
        const ts_cfg_layer *cl = ts_config_layer(cfg, ts->cfg->layers[i]);
        if (cl == NULL || cl->feed == NULL)
            continue;
        int seen = 0;
        for (int k = 0; k < n && !seen; k++)
            seen = strcmp(feeds[k], cl->feed) == 0;
        if (!seen)
            feeds[n++] = cl->feed;
    }
    return n;
}

ts_status
ts_http__vlayers_build(const ts_service *svc, const ts_tileset *ts, ts_http__vlayers *v)
{
    enum { PER = 256 };
    int nl = ts->nlayers;
    size_t cap = (size_t)(nl > 0 ? nl : 1) * PER;
    memset(v, 0, sizeof *v);
    v->vl = calloc((size_t)(nl > 0 ? 2 * nl : 1), sizeof *v->vl); /* and "<layer>_label"s */
    v->lnames = calloc((size_t)(nl > 0 ? nl : 1), sizeof *v->lnames);
    v->fnames = malloc(cap * sizeof *v->fnames);
    v->ftypes = malloc(cap * sizeof *v->ftypes);
    v->fptr = malloc(cap * sizeof *v->fptr);
    v->tptr = malloc(cap * sizeof *v->tptr);
    if (v->vl == NULL || v->fnames == NULL || v->ftypes == NULL || v->fptr == NULL ||
        v->tptr == NULL || v->lnames == NULL)
        return TS_ENOMEM;
    for (int i = 0; i < nl; i++) {
        size_t o = (size_t)i * PER;
        int n = ts_service_mvt_fields(svc, ts, i, v->fnames + o, v->ftypes + o, PER);
        for (int k = 0; k < n; k++) {
            v->fptr[o + k] = v->fnames[o + k];
            ts_cfg_attr_type t = v->ftypes[o + k];
            v->tptr[o + k] = t == TS_CFG_ATTR_BOOL                             ? "Boolean"
                             : t == TS_CFG_ATTR_INT || t == TS_CFG_ATTR_DOUBLE ? "Number"
                                                                               : "String";
        }
        const ts_cfg_layer *cl = ts_config_layer(ts_service_config(svc), ts->cfg->layers[i]);
        int lz0, lz1; /* the levels carrying it (a style drawing it at none: no tile has it,
                       * so it is not listed; its label points may be) */
        int shapes = ts_service_mvt_layer_levels(svc, ts, i, 0, -1, &lz0, &lz1);
        v->vl[v->n] = (ts_tilejson_vlayer){
            .id = ts->cfg->layers[i],
            .description = cl && cl->title && strcmp(cl->title, cl->name) != 0 ? cl->title : NULL,
            .fields = v->fptr + o,
            .types = v->tptr + o,
            .nfields = n,
            .minzoom = lz0,
            .maxzoom = lz1,
        };
        const ts_tilejson_vlayer shape_layer = v->vl[v->n];
        if (shapes)
            v->n++;
        if (ts_service_mvt_layer_levels(svc, ts, i, 1, -1, &lz0, &lz1)) {
            snprintf(v->lnames[i], sizeof v->lnames[i], "%s_label", ts->cfg->layers[i]);
            v->vl[v->n] = shape_layer;
            v->vl[v->n].id = v->lnames[i];
            v->vl[v->n].minzoom = lz0;
            v->vl[v->n].maxzoom = lz1;
            v->vl[v->n++].description = "label points (one per feature)";
        }
    }
    return TS_OK;
}

void
ts_http__vlayers_free(ts_http__vlayers *v)
{
    free(v->vl);
    free(v->lnames);
    free(v->fnames);
    free(v->ftypes);
    free(v->fptr);
    free(v->tptr);
    memset(v, 0, sizeof *v);
}

/* Append the TileJSON of ts (a WebMercatorQuad entry, from mercator_entry) to b: of its
 * PNG tiles, or of its vector tiles when vector (with vector_layers: the layers' fields and
 * types, and a "<layer>_label" layer for each layer with labels). index adds the members of
 * the /tiles.json index ("live", "feeds"). TS_OK, or TS_ENOMEM / TS_ELIMIT (b). */
static ts_status
write_tilejson(const ts_service *svc, const ts_tileset *ts, const char *base, int vector, int index,
               ts_buf *b)
{
    ts_tilejson_info ti = {
        .name = ts->name,
        .title = ts->cfg->title,
        .attribution = ts->cfg->attribution,
        .base_url = base,
        .ext = "png",
        .minzoom = ts->minzoom,
        .maxzoom = ts->maxzoom,
        /* the first grid is what /tiles/{tileset}/{z}/{x}/{y} serves; any other is named */
        .grid = ts_service_tileset(svc, ts->name) == ts ? NULL : ts->grid->name,
    };
    if (ts->bounds.maxx > ts->bounds.minx) {
        ts_grid_mercator_to_lonlat(ts->bounds.minx, ts->bounds.miny, &ti.bounds_lonlat.minx,
                                   &ti.bounds_lonlat.miny);
        ts_grid_mercator_to_lonlat(ts->bounds.maxx, ts->bounds.maxy, &ti.bounds_lonlat.maxx,
                                   &ti.bounds_lonlat.maxy);
        ti.has_bounds = 1;
    }
    const char **feeds = NULL;
    ts_status st = TS_OK;
    if (index) {
        ti.has_live = 1;
        ti.live = ts_service_tileset_live(svc, ts);
        feeds = calloc((size_t)(ts->cfg->nlayers > 0 ? ts->cfg->nlayers : 1), sizeof *feeds);
        if (feeds == NULL)
            st = TS_ENOMEM;
        else if (ti.live)
            ti.nfeeds = tileset_feeds(svc, ts, feeds);
        ti.feeds = feeds;
    }
    ts_http__vlayers vls;
    memset(&vls, 0, sizeof vls);
    if (vector && st == TS_OK) {
        st = ts_http__vlayers_build(svc, ts, &vls);
        ti.ext = "pbf";
        ti.vlayers = vls.vl;
        ti.nvlayers = vls.n;
    }
    if (st == TS_OK)
        st = ts_ows_write_tilejson(&ti, b);
    free(feeds);
    ts_http__vlayers_free(&vls);
    return st;
}

/* ?format=pbf (or mvt): the vector tiles' TileJSON (1); none or png: the PNG tiles' (0);
 * anything else: -1. */
static int
wants_vector(struct MHD_Connection *c)
{
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    if (fmt == NULL || strcmp(fmt, "png") == 0)
        return 0;
    return strcmp(fmt, "pbf") == 0 || strcmp(fmt, "mvt") == 0 ? 1 : -1;
}

/* Send a TileJSON document (st: how writing it went) with an ETag of its bytes and
 * no-cache: clients revalidate, and it changes with a reload. */
static enum MHD_Result
send_doc(ts_http *h, struct MHD_Connection *c, ts_status st, const ts_buf *b)
{
    ts_tile *t = st == TS_OK ? ts_tile_new(b->data, b->len, (int64_t)time(NULL)) : NULL;
    if (t != NULL)
        return ts_http__send_tile(h, c, t, "application/json", 0, 0); /* consumes t */
    return ts_http__send_status(h, c, st == TS_OK ? TS_ENOMEM : st, NULL);
}

static enum MHD_Result
bad_format(ts_http *h, struct MHD_Connection *c)
{
    return ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST,
                              "format is png (the default) or pbf (mvt): the TileJSON of the "
                              "PNG or of the vector tiles");
}

/* Why the tileset first (its first grid's entry) has no TileJSON, into msg. */
static void
no_mercator_reason(const ts_tileset *first, char *msg, size_t size)
{
    const ts_cfg_tileset *tc = first->cfg;
    int listed = 0;
    for (int i = 0; i < tc->ngrids && !listed; i++)
        listed = strcmp(tc->grids[i], MERCATOR) == 0;
    if (listed) {
        snprintf(msg, size,
                 "TileJSON describes Web Mercator tiles (WebMercatorQuad); tileset %s has no "
                 "level of WebMercatorQuad in its zoom range (levels %d-%d of %s)",
                 tc->name, tc->minzoom, tc->maxzoom, first->grid->name);
        return;
    }
    int n = snprintf(msg, size,
                     "TileJSON describes Web Mercator tiles (WebMercatorQuad); tileset %s's "
                     "grids are ",
                     tc->name);
    for (int i = 0; i < tc->ngrids && n >= 0 && (size_t)n < size; i++)
        n += snprintf(msg + n, size - (size_t)n, "%s%s", i ? ", " : "", tc->grids[i]);
    if (n >= 0 && (size_t)n < size)
        snprintf(msg + n, size - (size_t)n,
                 ": use WMTS (/wmts/1.0.0/WMTSCapabilities.xml) or OGC API - Tiles (/ogcapi/)");
}

enum MHD_Result
ts_http__handle_tilejson(ts_http *h, struct MHD_Connection *c, const char *name)
{
    int vector = wants_vector(c);
    if (vector < 0)
        return bad_format(h, c);
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_tileset *first = ts_service_tileset(svc, name);
    if (first == NULL) {
        ts_service_unref(svc);
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "no such tileset");
    }
    const ts_tileset *ts = mercator_entry(svc, name);
    if (ts == NULL) {
        char msg[1024];
        no_mercator_reason(first, msg, sizeof msg);
        ts_service_unref(svc);
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, msg);
    }
    char base[256];
    ts_http__base_url(h, c, base, sizeof base);
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    ts_status st = write_tilejson(svc, ts, base, vector, 0, &b);
    ts_service_unref(svc);
    enum MHD_Result r = send_doc(h, c, st, &b);
    ts_buf_fini(&b);
    return r;
}

enum MHD_Result
ts_http__handle_tilejson_index(ts_http *h, struct MHD_Connection *c)
{
    ts_service *svc = ts_pipeline_service(h->p);
    char base[256];
    ts_http__base_url(h, c, base, sizeof base);
    int vector = wants_vector(c);
    if (vector < 0) {
        ts_service_unref(svc);
        return bad_format(h, c);
    }
    ts_buf b;
    ts_buf_init(&b, 16 << 20);
    ts_status st = ts_buf_add(&b, "[", 1);
    int n = 0;
    for (int i = 0; st == TS_OK && i < ts_service_ntilesets(svc); i++) {
        const ts_tileset *ts = mercator_entry(svc, ts_service_tileset_at(svc, i)->name);
        if (ts == NULL)
            continue; /* no TileJSON: not Web Mercator */
        if (n++ > 0)
            st = ts_buf_add(&b, ",", 1);
        if (st == TS_OK)
            st = write_tilejson(svc, ts, base, vector, 1, &b);
    }
    if (st == TS_OK)
        st = ts_buf_add(&b, "]", 1);
    ts_service_unref(svc);
    enum MHD_Result r = send_doc(h, c, st, &b);
    ts_buf_fini(&b);
    return r;
}
