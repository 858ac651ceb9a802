/* config/config.h — the YAML configuration (libyaml) as an immutable, refcounted value.
 *
 * Top-level sections: server, sources, feeds, layers, tilesets, grids. Every key is known:
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
    char *root_name;        /* Name of the root layer (all tilesets); NULL = "city" */
    int root_line, root_col; /* position of root_name's value, for messages */
    char *labels;           /* "seamless" (NULL: labels placed as on the tiles, whatever the
                             * map's box, cut at its edges) or "inside" (each map's labels
                             * inside it, placed for that map alone) */
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
    int max_render_ms;      /* GetMap render time limit: past it the client gets an OGC
                             * exception (the render finishes unseen); default 60000 */
    int line;               /* position of the 'wms' key; 0 when absent */
} ts_cfg_wms;

/* One entry of an IP allow-list: an address and a prefix length ("10.0.0.0/8",
 * "::1/128", "192.0.2.7" = /32). IPv4 addresses are kept as 4 bytes. */
typedef struct ts_cfg_cidr {
    int family;             /* AF_INET or AF_INET6 */
    uint8_t addr[16];       /* network order; the bits past prefix are zero */
    int prefix;             /* 0..32 (IPv4) or 0..128 (IPv6) */
} ts_cfg_cidr;

/* server.admin: the HTTP admin endpoints (POST /admin/reload, /admin/truncate). Absent =
 * disabled (404). When present, at least one of a bearer token and an allow-list is set;
 * both, when both are set. */
typedef struct ts_cfg_admin {
    int enabled;            /* the section is present */
    char *token;            /* bearer token (from `token`, ${ENV} expanded, or the first line
                             * of `token_file`); NULL = no token required */
    ts_cfg_cidr *allow;     /* client addresses admitted; NULL (nallow 0) = any address */
    int nallow;
    int line;
} ts_cfg_admin;

typedef struct ts_cfg_server {
    char *listen_host;      /* "127.0.0.1" (default); "::1" for "[::1]:p"; "0.0.0.0" for ":p" */
    int port;               /* 8080 (default) */
    int render_threads;     /* 0 = number of CPUs (default) */
    int http_threads;       /* libmicrohttpd worker threads; 0 = 2 (default) */
    int queue_max;          /* render jobs waiting before 503; default 256 */
    size_t cache_mb;        /* in-memory tile cache; default 256 */
    int max_connections;    /* default 1024 */
    int max_connections_per_ip; /* simultaneous connections from one address; default 64 */
    int connection_timeout_s; /* idle connection, and a request head not complete this long
                             * after the connection opened (or its previous request ended),
                             * are cut off (slowloris); default 30 */
    int max_url_bytes;      /* request target (path and query as sent) longer: 414; 8192 */
    int max_header_bytes;   /* request line and header fields larger: 431; default 16384 */
    int shutdown_timeout_s; /* SIGTERM: longest wait for requests in flight; default 10 */
    char *seed_progress_dir; /* where `tilesrv seed` with this config keeps its progress
                             * files (unless --progress-file), and whose seeds /metrics
                             * reports; resolved; NULL = the seed's working directory */
    char *access_log;       /* one JSON line per request: NULL = off (default), "-" = stderr,
                             * else a file path (resolved, appended to) */
    ts_cfg_admin admin;     /* admin endpoints; disabled by default */
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
    char *mode;             /* "load" (also when NULL): read whole at start; "per_request":
                             * a PostGIS table queried for every render (path "PG:...") */
    int query_timeout_s;    /* per_request: statement and connect timeout, s; default 10 */
    int line, col;
} ts_cfg_source;

/* Declared type of a vector-tile attribute (`mvt: {attributes: {name: type}}` of a layer).
 * KEEP: as the store holds it (a list of names, or the type `auto`). */
typedef enum {
    TS_CFG_ATTR_KEEP = 0,
    TS_CFG_ATTR_STRING,
    TS_CFG_ATTR_INT,
    TS_CFG_ATTR_DOUBLE,
    TS_CFG_ATTR_BOOL,
} ts_cfg_attr_type;

typedef struct ts_cfg_mvt_attr {
    char *name;             /* attribute (field) name */
    ts_cfg_attr_type type;
    int line, col;          /* position of the name, for messages */
} ts_cfg_mvt_attr;

typedef struct ts_cfg_layer {
    char *name;
    char *title;            /* default = name */
    char *abstract_text;    /* may be NULL */
    char **keywords;        /* WMS KeywordList; may be NULL (nkeywords 0) */
    int nkeywords;
    char *metadata_url;     /* http(s) URL of an ISO 19115/19139 record (WMS MetadataURL), or
                             * NULL */
    char *source;           /* name of a ts_cfg_source, or NULL for a feed layer */
    char *feed;             /* name of a ts_cfg_feed (a live overlay), or NULL; exactly one
                             * of source and feed is set */
    char *table;            /* OGR layer name in the source; default = layer name */
    int table_default;      /* 1: table not given (a source of one layer gives that one) */
    char *where;            /* OGR attribute filter, or NULL */
    char *srs;              /* CRS override, or NULL (falls back to the source's) */
    char *geometry;         /* geometry column of a table with several, or NULL = the first */
    char *style;            /* resolved path of the SLD file */
    int queryable;          /* GetFeatureInfo allowed; default 1 */
    ts_cfg_mvt_attr *mvt_attrs; /* `mvt: {attributes: ...}`: the attributes written into
                             * vector tiles, in this order; NULL (and has_mvt_attrs 0) =
                             * every attribute of the layer's store */
    int nmvt_attrs;
    int has_mvt_attrs;      /* 1 when `attributes` was given (an empty mapping keeps none) */
    char *mvt_features;     /* `mvt: {features: ...}`: NULL or "drawn" = the features its
                             * style draws at the tile's scale; "all" = every feature at
                             * every level */
    double extent[4];       /* `extent`: west, south, east, north in degrees: the layer's
                             * extent as advertised (a live layer's has no data to take it
                             * from); valid when has_extent */
    int has_extent;
    int line, col;
} ts_cfg_layer;

/* One mapping entry of a feed's `values` / `states`. */
typedef struct ts_cfg_feed_map {
    const char *match, *to;
} ts_cfg_feed_map;

/* A device / bay table of a feed (`devices`, `bays`). Unset members are NULL. */
typedef struct ts_cfg_feed_table {
    const char *path;        /* resolved (connection strings unchanged) */
    const char *layer, *id_field, *sensor_field, *label_field;
} ts_cfg_feed_table;

/* Bits of ts_cfg_feed.set: which keys the file gave (the rest take the feed module's
 * defaults for the kind, ts_feed_config_init). Strings and lists are set when non-NULL. */
enum {
    TS_CFG_FEED_PAGE_SIZE = 1u << 0, TS_CFG_FEED_MAX_PAGES = 1u << 1, TS_CFG_FEED_POLL = 1u << 2,
    TS_CFG_FEED_TIMEOUT = 1u << 3, TS_CFG_FEED_BACKOFF_MIN = 1u << 4,
    TS_CFG_FEED_BACKOFF_MAX = 1u << 5, TS_CFG_FEED_MAX_DOC = 1u << 6,
    TS_CFG_FEED_MAX_MSG = 1u << 7, TS_CFG_FEED_STALE_AFTER = 1u << 8,
    TS_CFG_FEED_PUBLISH = 1u << 9, TS_CFG_FEED_MQTT_PORT = 1u << 10,
    TS_CFG_FEED_MQTT_QOS = 1u << 11, TS_CFG_FEED_MQTT_TLS = 1u << 12,
    TS_CFG_FEED_MQTT_KEEPALIVE = 1u << 13, TS_CFG_FEED_AIR_SPEED = 1u << 14,
    TS_CFG_FEED_PARKING_SPEED = 1u << 15, TS_CFG_FEED_SEED = 1u << 16,
    TS_CFG_FEED_DEAD_SHARE = 1u << 17
};

/* One live sensor feed (the `feeds` section, docs/feeds.md "Configuration"): the keys as
 * written, checked for type and range here (file:line:col); the feed module fills the
 * defaults of the kind and checks the whole (ts_feed_config_check) when the server
 * creates the feed. Enumerated keys keep their (validated) text. All strings and arrays
 * live as the config. */
typedef struct ts_cfg_feed {
    char *name;
    const char *kind;        /* "sensorthings", "lorawan", "geojson", "demo" */
    unsigned set;            /* TS_CFG_FEED_* bits of the numeric keys given */
    const char *url, *filter, *query;
    const char *const *http_headers;
    int nhttp_headers;
    int page_size, max_pages;
    double poll_s, timeout_s, backoff_min_s, backoff_max_s;
    size_t max_document_bytes, max_message_bytes;
    double stale_after_s;
    const char *stale_state; /* "" = keep the last state */
    const char *stale_basis; /* "observed" / "received" or NULL */
    int publish_interval_ms;
    struct {
        const char *host;    /* NULL = no MQTT */
        int port;
        const char *const *topics;
        int ntopics;
        int qos;
        const char *username, *password;
        int tls;
        const char *ca_file; /* resolved */
        const char *client_id;
        int keepalive_s;
    } mqtt;
    const char *sensor;      /* "thing" / "datastream" or NULL */
    const char *id, *label, *value_name, *state, *time; /* JSON paths, NULL = default */
    const ts_cfg_feed_map *values, *states;
    int nvalues, nstates;
    const char *const *fields;
    int nfields;
    const char *const *value_paths;
    int nvalue_paths;
    const char *lorawan_format, *lorawan_key, *lorawan_decoder; /* NULL = default */
    ts_cfg_feed_table devices; /* lorawan */
    const char *simulate;    /* demo: "air" / "parking" or NULL */
    const char *air_csv;     /* demo: resolved path */
    ts_cfg_feed_table bays;  /* demo parking */
    double air_speed, parking_speed, dead_share;
    uint64_t seed;
    uint64_t hash;           /* of the entry as written (and the config's directory): equal
                              * hashes = same settings, so a reload may keep the feed */
    void **owned;            /* allocations the members above point into */
    int nowned, capowned;
    int line, col;
} ts_cfg_feed;

typedef struct ts_cfg_grid {
    char *name;
    ts_grid grid;
    int line, col;
} ts_cfg_grid;

/* Where a tileset's tiles are kept besides the memory LRU (the `cache` key of a tileset). */
typedef struct ts_cfg_cache {
    char *type;             /* "memory" (default: no persistent level), "disk", "mbtiles" or
                             * "redis" */
    char *path;             /* disk: directory, mbtiles: file; resolved, not required to exist;
                             * NULL for memory */
    char *layout;           /* disk: "xyz" (default), "tc" or "tms"; NULL otherwise */
    int fsync;              /* disk: fsync each tile before its rename; default 0 */
    int expire_s;           /* tiles older than this many seconds are stale; 0 = never */
    char *url;              /* redis: redis://[[user]:password@]host[:port][/db] (${ENV}
                             * expanded); default redis://127.0.0.1:6379/0; NULL otherwise */
    char *prefix;           /* redis: start of every key; default "tilesrv:"; NULL otherwise */
    int ttl_s;              /* redis: keys expire after this many seconds; 0 = never */
    int lock_timeout_s;     /* redis: render lock expiry (and longest wait); default 30 */
    int line, col;          /* position of the 'cache' key; 0 when absent */
} ts_cfg_cache;

typedef struct ts_cfg_tileset {
    char *name;
    char *title;            /* default = name */
    char *attribution;      /* HTML attribution (TileJSON, WMS Attribution), or NULL */
    char *abstract_text;    /* may be NULL */
    char **keywords;        /* WMS KeywordList, WMTS ows:Keywords; may be NULL */
    int nkeywords;
    char *metadata_url;     /* http(s) URL of a metadata record (WMS MetadataURL, WMTS
                             * ows:Metadata), or NULL */
    char **layers;          /* names of ts_cfg_layer, drawn in this order (first = bottom) */
    int nlayers;
    char **grids;           /* names of grids served; default {"WebMercatorQuad"} */
    int ngrids;
    char *format;           /* "png" (truecolour, default) or "png8" (paletted) */
    int metatile;           /* tiles per metatile side; default 8 */
    int buffer_px;          /* metatile buffer in pixels; default 64 */
    uint8_t background[4];  /* straight RGBA; default transparent */
    int minzoom, maxzoom;   /* default 0 and the grid's last level */
    int minzoom_set, maxzoom_set; /* 1 where the file gives them (bounds on the other grids) */
    int max_age_s;          /* Cache-Control max-age; default 3600 */
    ts_cfg_cache cache;     /* persistent cache level; type "memory" when not configured */
    /* `mvt: {extent, buffer, max_bytes}`: vector tile options; 0 / -1 = the mvt module's
     * defaults (extent 4096, buffer extent / 16, 500 000 bytes) */
    int mvt_extent;         /* 256..65536, 0 = default */
    int mvt_buffer;         /* tile units, 0..extent * 8; -1 = default */
    size_t mvt_max_bytes;   /* 0 = default */
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
    ts_cfg_feed *feeds;     /* live sensor feeds, in file order */
    int nfeeds;
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
const ts_cfg_feed *ts_config_feed(const ts_config *c, const char *name);
/* A grid by TileMatrixSet name: user-defined ones first, then the built-in sets
 * (WebMercatorQuad, WorldCRS84Quad, DE_EPSG_25832_ADV, DE_EPSG_25833_ADV). */
const ts_grid *ts_config_grid(const ts_config *c, const char *name);

/* For "did you mean" hints: the candidate equal to word but for case, else one of 10
 * characters or more that word starts with (a field name a Shapefile cut short), else the
 * nearest by edit distance (2 at most), else NULL. Thread-safe. */
const char *ts_config_suggest(const char *word, const char *const *cands, int n);

#endif
