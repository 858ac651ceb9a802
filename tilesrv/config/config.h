/* config/config.h — the YAML configuration (libyaml) as an immutable, refcounted value.
 *
 * Top-level sections: server, sources, layers, tilesets, grids. Every key is known:
 * an unknown key, a value of the wrong type or out of range, a reference to an undefined
 * source/layer/grid, or a missing file is refused with file:line:column (ts_err's input
 * fields). Relative paths are resolved against the directory of the config file.
 * A loaded ts_config is never modified; reload builds a new one and swaps a pointer. */
#ifndef TS_CONFIG_CONFIG_H
#define TS_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "grid/grid.h"
#include "util/status.h"

/* The OGC services (WMS, WMTS, OGC API) of the server: service metadata written into the
 * capabilities documents, the CRSs offered and the request limits (`server.wms`). */
typedef struct ts_cfg_wms {
    char *title;            /* service title; default "tilesrv" */
    char *abstract_text;    /* may be NULL */
    char **keywords;        /* may be NULL (nkeywords 0) */
    int nkeywords;
    char *online_resource;  /* URL of the provider's web site; NULL = the service URL */
    char *fees;             /* may be NULL ("none" is written) */
    char *access_constraints; /* may be NULL ("none" is written) */
    char *contact_person, *contact_organization, *contact_position; /* each may be NULL */
    char *contact_email, *contact_phone;                             /* each may be NULL */
    char *contact_address, *contact_city, *contact_state;            /* each may be NULL */
    char *contact_postcode, *contact_country;                        /* each may be NULL */
    char **crs;             /* canonical CRS names offered ("EPSG:25832", "CRS:84"), in order;
                             * default: every CRS of the registry (ts_grid_crs_at) */
    int ncrs;
    int max_width, max_height; /* GetMap/GetLegendGraphic limits, pixels; default 4096 */
    int max_pixels;         /* width * height limit; default 16777216 (4096 x 4096) */
    int max_layers;         /* LAYERS per request; default 32 */
    int max_feature_count;  /* GetFeatureInfo FEATURE_COUNT cap; default 50 */
    int line;               /* position of the 'wms' key; 0 when absent */
} ts_cfg_wms;

typedef struct ts_cfg_server {
    char *listen_host;      /* "127.0.0.1" (default); "::1" for "[::1]:p"; "0.0.0.0" for ":p" */
    int port;               /* 8080 (default) */
    int render_threads;     /* 0 = number of CPUs (default) */
    int http_threads;       /* libmicrohttpd worker threads; 0 = 2 (default) */
    int queue_max;          /* render jobs waiting before 503; default 256 */
    size_t cache_mb;        /* in-memory tile cache; default 256 */
    int max_connections;    /* default 1024 */
    char *cors_origin;      /* Access-Control-Allow-Origin value, default "*"; "" = none */
    char *public_url;       /* base URL used in documents (TileJSON ...), default derived
                             * from the request's Host header; NULL = derived */
    char *log_level;        /* "info" (default) */
    ts_cfg_wms wms;         /* OGC service metadata and limits; defaults when absent */
    int line;               /* position of the section, for messages */
} ts_cfg_server;

typedef struct ts_cfg_source {
    char *name;
    char *path;             /* resolved file path, or an OGR connection string ("PG:...") */
    char *srs;              /* CRS override for every layer of the source, or NULL */
    int line, col;
} ts_cfg_source;

typedef struct ts_cfg_layer {
    char *name;
    char *title;            /* default = name */
    char *abstract_text;    /* may be NULL */
    char *source;           /* name of a ts_cfg_source */
    char *table;            /* OGR layer name in the source; default = layer name */
    char *where;            /* OGR attribute filter, or NULL */
    char *srs;              /* CRS override, or NULL (falls back to the source's) */
    char *style;            /* resolved path of the SLD file */
    int queryable;          /* GetFeatureInfo allowed; default 1 */
    int line, col;
} ts_cfg_layer;

typedef struct ts_cfg_grid {
    char *name;
    ts_grid grid;
    int line, col;
} ts_cfg_grid;

/* Where a tileset's tiles are kept besides the memory LRU (the `cache` key of a tileset). */
typedef struct ts_cfg_cache {
    char *type;             /* "memory" (default: no persistent level), "disk" or "mbtiles" */
    char *path;             /* disk: directory, mbtiles: file; resolved, not required to exist;
                             * NULL for memory */
    char *layout;           /* disk: "xyz" (default), "tc" or "tms"; NULL otherwise */
    int fsync;              /* disk: fsync each tile before its rename; default 0 */
    int expire_s;           /* tiles older than this many seconds are stale; 0 = never */
    int line, col;          /* position of the 'cache' key; 0 when absent */
} ts_cfg_cache;

typedef struct ts_cfg_tileset {
    char *name;
    char *title;            /* default = name */
    char *attribution;      /* HTML attribution for TileJSON, or NULL */
    char **layers;          /* names of ts_cfg_layer, drawn in this order (first = bottom) */
    int nlayers;
    char **grids;           /* names of grids served; default {"WebMercatorQuad"} */
    int ngrids;
    char *format;           /* "png" (truecolour, default) or "png8" (paletted) */
    int metatile;           /* tiles per metatile side; default 8 */
    int buffer_px;          /* metatile buffer in pixels; default 64 */
    uint8_t background[4];  /* straight RGBA; default transparent */
    int minzoom, maxzoom;   /* default 0 and the grid's last level */
    int max_age_s;          /* Cache-Control max-age; default 3600 */
    ts_cfg_cache cache;     /* persistent cache level; type "memory" when not configured */
    int line, col;
} ts_cfg_tileset;

typedef struct ts_config {
    int refs;               /* atomic; use ts_config_ref/unref */
    char *path;             /* file read, or "(builtin)" */
    char *dir;              /* directory relative paths are resolved against */
    ts_cfg_server server;
    ts_cfg_source *sources;
    int nsources;
    ts_cfg_layer *layers;
    int nlayers;
    ts_cfg_tileset *tilesets;
    int ntilesets;
    ts_cfg_grid *grids;     /* user-defined grids (built-in ones are not listed) */
    int ngrids;
} ts_config;

/* Read and validate a config file. NULL with *err (file:line:col) on any problem. */
ts_config *ts_config_load(const char *path, ts_err *err);
/* Same, from memory. where names it in messages; base_dir resolves relative paths. */
ts_config *ts_config_parse(const char *yaml, size_t len, const char *where, const char *base_dir,
                           ts_err *err);

ts_config *ts_config_ref(ts_config *c);
/* Frees at zero. NULL is accepted. */
void ts_config_unref(ts_config *c);

/* Lookups by name; NULL if absent. Borrowed: live as c. */
const ts_cfg_source *ts_config_source(const ts_config *c, const char *name);
const ts_cfg_layer *ts_config_layer(const ts_config *c, const char *name);
const ts_cfg_tileset *ts_config_tileset(const ts_config *c, const char *name);
/* A grid by TileMatrixSet name: user-defined ones first, then the built-in sets
 * (WebMercatorQuad, WorldCRS84Quad, DE_EPSG_25832_ADV, DE_EPSG_25833_ADV). */
const ts_grid *ts_config_grid(const ts_config *c, const char *name);

#endif
