/* config/build.c — the node tree -> ts_config. One key table per section (name, type,
 * field offset, range, required) drives reading; what a table cannot say (defaults derived
 * from the name, references between sections, zoom ranges against grids) follows it in
 * the section's function. Sections are read in dependency order — server, grids, sources,
 * feeds, layers, tilesets — whatever their order in the file. */
#include "config/config_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/redis_url.h"

typedef enum {
    K_STR,       /* char *: non-empty string */
    K_STR_EMPTY, /* char *: string, "" allowed */
    K_OSTR,      /* char *: string or null; "" and null leave NULL */
    K_INT,       /* int in [min, max] */
    K_SIZE,      /* size_t in [min, max] */
    K_BOOL,      /* int 0/1 */
    K_DOUBLE,    /* double, finite */
    K_DPAIR,     /* double[2] from [x, y] */
    K_IPAIR,     /* int[2] from [a, b], each in [min, max] */
    K_CHOICE,    /* char *: one of choices */
    K_COLOUR,    /* uint8_t[4] from "#rrggbb[aa]" */
    K_LISTEN,    /* char *host at off, int port at off2 */
    K_SRCPATH,   /* char *: resolved source path or connection string */
    K_STYLEPATH, /* char *: resolved path of an existing regular file */
    K_NAMES,     /* char ** at off, int count at off2: non-empty list of unique names */
    K_OUTPATH,   /* char *: path resolved against the config's directory, not checked */
    K_CACHE,     /* ts_cfg_cache: a mapping read through cache_keys */
    K_STRINGS,   /* char ** at off, int count at off2: non-empty list of unique strings */
    K_WMS,       /* ts_cfg_wms: a mapping read through wms_keys */
    K_ADMIN,     /* ts_cfg_admin: a mapping read through admin_keys */
    K_LOGPATH,   /* char *: "-" (stderr) or a path resolved against the config's directory;
                  * "" and null leave NULL (off) */
    K_MVTLAYER,  /* ts_cfg_layer's mvt_attrs: a mapping read through mvt_layer_keys */
    K_MVTSET,    /* ts_cfg_tileset's mvt_*: a mapping read through mvt_set_keys */
    K_LONLATBOX, /* double[4] from [west, south, east, north] in degrees, int flag at off2 */
} key_type;

#define KEY_REQUIRED 1u

typedef struct key_spec {
    const char *name;
    key_type type;
    size_t off, off2;
    long min, max;
    unsigned flags;
    const char *const *choices; /* K_CHOICE: NULL-terminated */
} key_spec;

#define MAX_KEYS 32

static const char *const formats[] = {"png", "png8", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

#define SRV(f) offsetof(ts_cfg_server, f)
static const key_spec server_keys[] = {
    {"listen", K_LISTEN, SRV(listen_host), SRV(port), 0, 0, 0, NULL},
    {"render_threads", K_INT, SRV(render_threads), 0, 0, 1024, 0, NULL},
    {"http_threads", K_INT, SRV(http_threads), 0, 0, 1024, 0, NULL},
    {"queue_max", K_INT, SRV(queue_max), 0, 1, 1048576, 0, NULL},
    {"cache_mb", K_SIZE, SRV(cache_mb), 0, 1, 1048576, 0, NULL},
    {"max_connections", K_INT, SRV(max_connections), 0, 1, 1048576, 0, NULL},
    {"cors_origin", K_STR_EMPTY, SRV(cors_origin), 0, 0, 0, 0, NULL},
    {"public_url", K_OSTR, SRV(public_url), 0, 0, 0, 0, NULL},
    {"log_level", K_CHOICE, SRV(log_level), 0, 0, 0, 0, log_levels},
    {"wms", K_WMS, SRV(wms), 0, 0, 0, 0, NULL},
    {"max_connections_per_ip", K_INT, SRV(max_connections_per_ip), 0, 1, 1048576, 0, NULL},
    {"connection_timeout", K_INT, SRV(connection_timeout_s), 0, 1, 3600, 0, NULL},
    {"max_url_bytes", K_INT, SRV(max_url_bytes), 0, 256, 1048576, 0, NULL},
    {"max_header_bytes", K_INT, SRV(max_header_bytes), 0, 1024, 1048576, 0, NULL},
    {"shutdown_timeout", K_INT, SRV(shutdown_timeout_s), 0, 0, 3600, 0, NULL},
    {"access_log", K_LOGPATH, SRV(access_log), 0, 0, 0, 0, NULL},
    {"seed_progress_dir", K_OUTPATH, SRV(seed_progress_dir), 0, 0, 0, 0, NULL},
    {"admin", K_ADMIN, SRV(admin), 0, 0, 0, 0, NULL},
};
enum { S_LISTEN, S_RENDER, S_HTTP, S_QUEUE, S_CACHE, S_MAXCONN, S_CORS, S_PUBURL, S_LOG };

/* server.admin, read into this before it becomes a ts_cfg_admin */
typedef struct admin_spec {
    char *token;
    char *token_file;
    char **allow;
    int nallow;
} admin_spec;

#define ADM(f) offsetof(admin_spec, f)
static const key_spec admin_keys[] = {
    {"token", K_STR, ADM(token), 0, 0, 0, 0, NULL},
    {"token_file", K_OUTPATH, ADM(token_file), 0, 0, 0, 0, NULL},
    {"allow", K_STRINGS, ADM(allow), ADM(nallow), 0, 0, 0, NULL},
};
enum { A_TOKEN, A_TOKEN_FILE, A_ALLOW };

#define ADMIN_TOKEN_MIN 16 /* shortest bearer token accepted */

static const char *const wms_label_modes[] = {"seamless", "inside", NULL};
#define WMS(f) offsetof(ts_cfg_wms, f)
static const key_spec wms_keys[] = {
    {"title", K_STR, WMS(title), 0, 0, 0, 0, NULL},
    {"abstract", K_OSTR, WMS(abstract_text), 0, 0, 0, 0, NULL},
    {"keywords", K_STRINGS, WMS(keywords), WMS(nkeywords), 0, 0, 0, NULL},
    {"online_resource", K_OSTR, WMS(online_resource), 0, 0, 0, 0, NULL},
    {"fees", K_OSTR, WMS(fees), 0, 0, 0, 0, NULL},
    {"access_constraints", K_OSTR, WMS(access_constraints), 0, 0, 0, 0, NULL},
    {"contact_person", K_OSTR, WMS(contact_person), 0, 0, 0, 0, NULL},
    {"contact_organization", K_OSTR, WMS(contact_organization), 0, 0, 0, 0, NULL},
    {"contact_position", K_OSTR, WMS(contact_position), 0, 0, 0, 0, NULL},
    {"contact_email", K_OSTR, WMS(contact_email), 0, 0, 0, 0, NULL},
    {"contact_phone", K_OSTR, WMS(contact_phone), 0, 0, 0, 0, NULL},
    {"contact_address", K_OSTR, WMS(contact_address), 0, 0, 0, 0, NULL},
    {"contact_city", K_OSTR, WMS(contact_city), 0, 0, 0, 0, NULL},
    {"contact_state", K_OSTR, WMS(contact_state), 0, 0, 0, 0, NULL},
    {"contact_postcode", K_OSTR, WMS(contact_postcode), 0, 0, 0, 0, NULL},
    {"contact_country", K_OSTR, WMS(contact_country), 0, 0, 0, 0, NULL},
    {"crs", K_STRINGS, WMS(crs), WMS(ncrs), 0, 0, 0, NULL},
    {"max_width", K_INT, WMS(max_width), 0, 1, 16384, 0, NULL},
    {"max_height", K_INT, WMS(max_height), 0, 1, 16384, 0, NULL},
    {"max_pixels", K_INT, WMS(max_pixels), 0, 1, 268435456, 0, NULL},
    {"max_layers", K_INT, WMS(max_layers), 0, 1, 256, 0, NULL},
    {"max_feature_count", K_INT, WMS(max_feature_count), 0, 1, 1000, 0, NULL},
    {"max_render_ms", K_INT, WMS(max_render_ms), 0, 1, 3600000, 0, NULL},
    {"root_name", K_STR, WMS(root_name), 0, 0, 0, 0, NULL},
    {"labels", K_CHOICE, WMS(labels), 0, 0, 0, 0, wms_label_modes},
};
enum { W_TITLE, W_ABSTRACT, W_KEYWORDS, W_ONLINE, W_FEES, W_ACCESS, W_CPERSON, W_CORG,
       W_CPOS, W_CMAIL, W_CPHONE, W_CADDR, W_CCITY, W_CSTATE, W_CPOST, W_CCOUNTRY, W_CRS,
       W_MAXW, W_MAXH, W_MAXPIX, W_MAXLAYERS, W_MAXFC, W_MAXMS, W_ROOT, W_LABELS };

static const char *const source_modes[] = {"load", "per_request", NULL};

#define SRC(f) offsetof(ts_cfg_source, f)
static const key_spec source_keys[] = {
    {"path", K_SRCPATH, SRC(path), 0, 0, 0, KEY_REQUIRED, NULL},
    {"srs", K_OSTR, SRC(srs), 0, 0, 0, 0, NULL},
    {"mode", K_CHOICE, SRC(mode), 0, 0, 0, 0, source_modes},
    {"query_timeout", K_INT, SRC(query_timeout_s), 0, 1, 3600, 0, NULL},
};
enum { S_PATH, S_SRS, S_MODE, S_TIMEOUT };

#define LYR(f) offsetof(ts_cfg_layer, f)
static const key_spec layer_keys[] = {
    {"title", K_STR, LYR(title), 0, 0, 0, 0, NULL},
    {"abstract", K_OSTR, LYR(abstract_text), 0, 0, 0, 0, NULL},
    {"source", K_STR, LYR(source), 0, 0, 0, 0, NULL},
    {"table", K_STR, LYR(table), 0, 0, 0, 0, NULL},
    {"where", K_OSTR, LYR(where), 0, 0, 0, 0, NULL},
    {"srs", K_OSTR, LYR(srs), 0, 0, 0, 0, NULL},
    {"style", K_STYLEPATH, LYR(style), 0, 0, 0, KEY_REQUIRED, NULL},
    {"queryable", K_BOOL, LYR(queryable), 0, 0, 0, 0, NULL},
    {"feed", K_STR, LYR(feed), 0, 0, 0, 0, NULL},
    {"mvt", K_MVTLAYER, 0, 0, 0, 0, 0, NULL},
    {"extent", K_LONLATBOX, LYR(extent), LYR(has_extent), 0, 0, 0, NULL},
    {"geometry", K_OSTR, LYR(geometry), 0, 0, 0, 0, NULL},
    {"keywords", K_STRINGS, LYR(keywords), LYR(nkeywords), 0, 0, 0, NULL},
    {"metadata_url", K_OSTR, LYR(metadata_url), 0, 0, 0, 0, NULL},
};
enum { L_TITLE, L_ABSTRACT, L_SOURCE, L_TABLE, L_WHERE, L_SRS, L_STYLE, L_QUERYABLE, L_FEED,
       L_MVT, L_EXTENT, L_GEOMETRY, L_KEYWORDS, L_METADATA };

/* `mvt` of a layer: `attributes` (read by read_mvt_attrs) and `features` */
static const char *const mvt_features[] = {"drawn", "all", NULL};
static const key_spec mvt_layer_keys[] = {
    {"attributes", K_MVTLAYER, 0, 0, 0, 0, 0, NULL},
    {"features", K_CHOICE, LYR(mvt_features), 0, 0, 0, 0, mvt_features},
};

/* `mvt` of a tileset (the mvt module's options) */
#define MVTS(f) offsetof(ts_cfg_tileset, f)
static const key_spec mvt_set_keys[] = {
    {"extent", K_INT, MVTS(mvt_extent), 0, 256, 65536, 0, NULL},
    {"buffer", K_INT, MVTS(mvt_buffer), 0, 0, 65536 * 8, 0, NULL},
    {"max_bytes", K_SIZE, MVTS(mvt_max_bytes), 0, 1024, 64L << 20, 0, NULL},
};
enum { M_EXTENT, M_BUFFER, M_MAXBYTES };

#define TSET(f) offsetof(ts_cfg_tileset, f)
static const key_spec tileset_keys[] = {
    {"title", K_STR, TSET(title), 0, 0, 0, 0, NULL},
    {"attribution", K_OSTR, TSET(attribution), 0, 0, 0, 0, NULL},
    {"layers", K_NAMES, TSET(layers), TSET(nlayers), 0, 0, KEY_REQUIRED, NULL},
    {"grids", K_NAMES, TSET(grids), TSET(ngrids), 0, 0, 0, NULL},
    {"format", K_CHOICE, TSET(format), 0, 0, 0, 0, formats},
    {"metatile", K_INT, TSET(metatile), 0, 1, 32, 0, NULL},
    {"buffer", K_INT, TSET(buffer_px), 0, 0, 512, 0, NULL},
    {"background", K_COLOUR, TSET(background), 0, 0, 0, 0, NULL},
    {"minzoom", K_INT, TSET(minzoom), 0, 0, 31, 0, NULL},
    {"maxzoom", K_INT, TSET(maxzoom), 0, 0, 31, 0, NULL},
    {"max_age", K_INT, TSET(max_age_s), 0, 0, 31536000, 0, NULL},
    {"cache", K_CACHE, TSET(cache), 0, 0, 0, 0, NULL},
    {"mvt", K_MVTSET, 0, 0, 0, 0, 0, NULL},
    {"abstract", K_OSTR, TSET(abstract_text), 0, 0, 0, 0, NULL},
    {"keywords", K_STRINGS, TSET(keywords), TSET(nkeywords), 0, 0, 0, NULL},
    {"metadata_url", K_OSTR, TSET(metadata_url), 0, 0, 0, 0, NULL},
};
enum { T_TITLE, T_ATTR, T_LAYERS, T_GRIDS, T_FORMAT, T_META, T_BUF, T_BG, T_MINZ, T_MAXZ,
       T_MAXAGE, T_CACHE, T_MVT, T_ABSTRACT, T_KEYWORDS, T_METADATA };

static const char *const cache_types[] = {"memory", "disk", "mbtiles", "redis", NULL};
static const char *const cache_layouts[] = {"xyz", "tc", "tms", NULL};

#define CCH(f) offsetof(ts_cfg_cache, f)
static const key_spec cache_keys[] = {
    {"type", K_CHOICE, CCH(type), 0, 0, 0, KEY_REQUIRED, cache_types},
    {"path", K_OUTPATH, CCH(path), 0, 0, 0, 0, NULL},
    {"layout", K_CHOICE, CCH(layout), 0, 0, 0, 0, cache_layouts},
    {"fsync", K_BOOL, CCH(fsync), 0, 0, 0, 0, NULL},
    {"expire", K_INT, CCH(expire_s), 0, 0, 2147483647, 0, NULL},
    {"url", K_STR, CCH(url), 0, 0, 0, 0, NULL},
    {"prefix", K_STR, CCH(prefix), 0, 0, 0, 0, NULL},
    {"ttl", K_INT, CCH(ttl_s), 0, 0, 2147483647, 0, NULL},
    {"lock_timeout", K_INT, CCH(lock_timeout_s), 0, 1, 3600, 0, NULL},
};
enum { C_TYPE, C_PATH, C_LAYOUT, C_FSYNC, C_EXPIRE, C_URL, C_PREFIX, C_TTL, C_LOCK };

/* A grid as written, before ts_grid_init_quad builds it. */
typedef struct grid_spec {
    char *crs;
    double origin[2];
    double res0;
    int tile_size;
    int msize[2];
    int levels;
    int id_width;
    double mpu;
} grid_spec;

#define GRD(f) offsetof(grid_spec, f)
static const key_spec grid_keys[] = {
    {"crs", K_STR, GRD(crs), 0, 0, 0, KEY_REQUIRED, NULL},
    {"origin", K_DPAIR, GRD(origin), 0, 0, 0, KEY_REQUIRED, NULL},
    {"resolution0", K_DOUBLE, GRD(res0), 0, 0, 0, KEY_REQUIRED, NULL},
    {"tile_size", K_INT, GRD(tile_size), 0, 16, 4096, 0, NULL},
    {"matrix_size0", K_IPAIR, GRD(msize), 0, 1, 1 << 20, 0, NULL},
    {"levels", K_INT, GRD(levels), 0, 1, 32, KEY_REQUIRED, NULL},
    {"id_width", K_INT, GRD(id_width), 0, 0, 8, 0, NULL},
    {"meters_per_unit", K_DOUBLE, GRD(mpu), 0, 0, 0, 0, NULL},
};
enum { G_CRS, G_ORIGIN, G_RES0, G_TILE, G_MSIZE, G_LEVELS, G_IDW, G_MPU };

static const char *const sections[] = {"server", "sources", "layers", "tilesets", "grids",
                                       "feeds"};
enum { SEC_SERVER, SEC_SOURCES, SEC_LAYERS, SEC_TILESETS, SEC_GRIDS, SEC_FEEDS, NSECTIONS };

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))
_Static_assert(NKEYS(server_keys) <= MAX_KEYS && NKEYS(layer_keys) <= MAX_KEYS &&
                   NKEYS(tileset_keys) <= MAX_KEYS && NKEYS(grid_keys) <= MAX_KEYS,
               "raise MAX_KEYS");
_Static_assert(NKEYS(cache_keys) <= MAX_KEYS && NKEYS(wms_keys) <= MAX_KEYS &&
                   NKEYS(admin_keys) <= MAX_KEYS,
               "raise MAX_KEYS");

/* ---- generic key reading ------------------------------------------------------------- */

static void
free_names(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static ts_status
read_names(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, char ***out, int *count)
{
    if (n->kind != TS_CNODE_SEQ) {
        char got[96];
        return TS_CFG_FAIL(cx, n, "%s must be a sequence of names like [a, b], got %s", what,
                           ts_config__describe(n, got, sizeof got));
    }
    if (n->n == 0)
        return TS_CFG_FAIL(cx, n, "%s must not be empty", what);
    if (n->n > TS_CONFIG_MAX_LIST)
        return TS_CFG_FAIL(cx, n, "%s lists more than %d names", what, TS_CONFIG_MAX_LIST);
    char **v = calloc(n->n, sizeof *v);
    if (v == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", what);
    int k = 0;
    ts_status st = TS_OK;
    for (size_t i = 0; i < n->n && st == TS_OK; i++) {
        const ts_cnode *item = n->kids[i];
        st = ts_config__get_string(cx, item, what, &v[k]);
        if (st != TS_OK)
            break;
        k++;
        if (!ts_config__name_ok(v[k - 1])) {
            st = TS_CFG_FAIL(cx, item,
                             "'%.80s' in %s is not a valid name (1 to %d of A-Z a-z "
                             "0-9 _ . -)",
                             v[k - 1], what, TS_CONFIG_MAX_NAME);
            break;
        }
        for (int j = 0; j < k - 1; j++)
            if (strcmp(v[j], v[k - 1]) == 0) {
                st = TS_CFG_FAIL(cx, item, "'%s' is listed twice in %s", v[k - 1], what);
                break;
            }
    }
    if (st != TS_OK) {
        free_names(v, k);
        return st;
    }
    *out = v;
    *count = k;
    return TS_OK;
}

static ts_status
read_pair(const ts_cfg_ctx *cx, const ts_cnode *n, const key_spec *k, const char *what, void *field)
{
    if (n->kind != TS_CNODE_SEQ || n->n != 2) {
        char got[96];
        const char *shape = k->type == K_DPAIR ? "[x, y]" : "[width, height]";
        if (n->kind == TS_CNODE_SEQ)
            return TS_CFG_FAIL(cx, n, "%s must be a pair %s, got %zu values", what, shape, n->n);
        return TS_CFG_FAIL(cx, n, "%s must be a pair %s, got %s", what, shape,
                           ts_config__describe(n, got, sizeof got));
    }
    for (int i = 0; i < 2; i++) {
        if (k->type == K_DPAIR) {
            TS_TRY(ts_config__get_double(cx, n->kids[i], what, &((double *)field)[i]));
        } else {
            long v;
            TS_TRY(ts_config__get_int(cx, n->kids[i], what, k->min, k->max, &v));
            ((int *)field)[i] = (int)v;
        }
    }
    return TS_OK;
}

/* [west, south, east, north] in degrees: -180 <= west < east <= 180, -90 <= south < north
 * <= 90. */
static ts_status
read_lonlat_box(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, double *box)
{
    if (n->kind != TS_CNODE_SEQ || n->n != 4) {
        char got[96];
        if (n->kind == TS_CNODE_SEQ)
            return TS_CFG_FAIL(cx, n, "%s must be [west, south, east, north] in degrees, got %zu "
                               "values", what, n->n);
        return TS_CFG_FAIL(cx, n, "%s must be [west, south, east, north] in degrees, got %s", what,
                           ts_config__describe(n, got, sizeof got));
    }
    for (int i = 0; i < 4; i++) {
        TS_TRY(ts_config__get_double(cx, n->kids[i], what, &box[i]));
        double lim = i % 2 == 0 ? 180 : 90;
        if (box[i] < -lim || box[i] > lim)
            return TS_CFG_FAIL(cx, n->kids[i], "%s: %s %g is outside -%g..%g", what,
                               i == 0 ? "west" : i == 1 ? "south" : i == 2 ? "east" : "north",
                               box[i], lim, lim);
    }
    if (!(box[0] < box[2]) || !(box[1] < box[3]))
        return TS_CFG_FAIL(cx, n, "%s: west must be less than east and south less than north",
                           what);
    return TS_OK;
}

static ts_status read_keys(const ts_cfg_ctx *cx, const ts_cnode *map, const key_spec *specs,
                           size_t nspecs, const char *label, const ts_cnode *where, void *obj,
                           const ts_cnode **vals);

static ts_status read_mvt_attrs(const ts_cfg_ctx *cx, const ts_cnode *n, const char *label,
                                ts_cfg_layer *l);

/* `mvt` of a layer ({attributes: ...}; also the attributes value itself, k = the entry of
 * mvt_layer_keys) or of a tileset ({extent, buffer, max_bytes}). */
static ts_status
read_mvt(const ts_cfg_ctx *cx, const ts_cnode *n, const key_spec *k, const char *label, void *obj)
{
    if (k == &mvt_layer_keys[0])
        return read_mvt_attrs(cx, n, label, obj);
    if (n->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(cx, n, "'mvt' in %s must be a mapping like %s, got %s", label,
                           k->type == K_MVTLAYER ? "{attributes: {name: string}}"
                                                 : "{extent: 4096, buffer: 256}",
                           ts_config__describe(n, got, sizeof got));
    }
    char what[128];
    snprintf(what, sizeof what, "mvt of %s", label);
    if (k->type == K_MVTLAYER) {
        const ts_cnode *vals[NKEYS(mvt_layer_keys)];
        return read_keys(cx, n, mvt_layer_keys, NKEYS(mvt_layer_keys), what, n, obj, vals);
    }
    ts_cfg_tileset *t = obj;
    const ts_cnode *vals[NKEYS(mvt_set_keys)];
    TS_TRY(read_keys(cx, n, mvt_set_keys, NKEYS(mvt_set_keys), what, n, obj, vals));
    int extent = t->mvt_extent > 0 ? t->mvt_extent : 4096;
    if (vals[M_BUFFER] != NULL && t->mvt_buffer > extent * 8)
        return TS_CFG_FAIL(cx, vals[M_BUFFER], "'buffer' %d in %s is more than 8 x the extent %d",
                           t->mvt_buffer, what, extent);
    if (vals[M_BUFFER] == NULL)
        t->mvt_buffer = -1;
    return TS_OK;
}

/* The `cache` mapping of a tileset: type, and what that type takes. */
static ts_status
read_cache(const ts_cfg_ctx *cx, const ts_cnode *n, const char *label, ts_cfg_cache *cc)
{
    char what[128];
    snprintf(what, sizeof what, "cache of %s", label);
    if (n->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(cx, n, "'cache' in %s must be a mapping like {type: disk, path: DIR}, "
                           "got %s", label, ts_config__describe(n, got, sizeof got));
    }
    cc->line = n->line;
    cc->col = n->col;
    const ts_cnode *vals[NKEYS(cache_keys)];
    TS_TRY(read_keys(cx, n, cache_keys, NKEYS(cache_keys), what, n, cc, vals));
    int redis = strcmp(cc->type, "redis") == 0;
    static const int redis_only[] = {C_URL, C_PREFIX, C_TTL, C_LOCK};
    for (size_t i = 0; i < NKEYS(redis_only); i++)
        if (!redis && vals[redis_only[i]])
            return TS_CFG_FAIL(cx, vals[redis_only[i]], "%s: '%s' applies to type redis only",
                               what, cache_keys[redis_only[i]].name);
    if (redis) {
        if (vals[C_PATH])
            return TS_CFG_FAIL(cx, vals[C_PATH], "%s: type redis takes a 'url', not a 'path'",
                               what);
        char host[256], user[256], pw[256];
        int port, db;
        if (cc->url && ts_redis_url_parse(cc->url, host, sizeof host, &port, &db, user,
                                          sizeof user, pw, sizeof pw) != 0)
            return TS_CFG_FAIL(cx, vals[C_URL],
                               "%s: 'url' must look like redis://[[user]:password@]host[:port][/db] "
                               "(port 1-65535, db a number, special characters of the password "
                               "percent-encoded)",
                               what);
        if ((cc->url == NULL && (cc->url = strdup("redis://127.0.0.1:6379/0")) == NULL) ||
            (cc->prefix == NULL && (cc->prefix = strdup("tilesrv:")) == NULL))
            return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", what);
        if (cc->lock_timeout_s == 0)
            cc->lock_timeout_s = 30;
    }
    int persistent = strcmp(cc->type, "memory") != 0 && !redis;
    if (persistent && cc->path == NULL)
        return TS_CFG_FAIL(cx, vals[C_TYPE], "%s: type %s needs a 'path' (%s)", what, cc->type,
                           strcmp(cc->type, "disk") == 0 ? "a directory" : "an .mbtiles file");
    if (!persistent && !redis && vals[C_PATH])
        return TS_CFG_FAIL(cx, vals[C_PATH], "%s: 'path' applies to types disk and mbtiles only",
                           what);
    if (strcmp(cc->type, "disk") != 0) {
        if (vals[C_LAYOUT])
            return TS_CFG_FAIL(cx, vals[C_LAYOUT], "%s: 'layout' applies to type disk only",
                               what);
        if (vals[C_FSYNC])
            return TS_CFG_FAIL(cx, vals[C_FSYNC], "%s: 'fsync' applies to type disk only", what);
    } else if (cc->layout == NULL && (cc->layout = strdup("xyz")) == NULL) {
        return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", what);
    }
    return TS_OK;
}

/* A non-empty list of non-empty, distinct strings (keywords, CRS names). */
static ts_status
read_strings(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, char ***out, int *count)
{
    if (n->kind != TS_CNODE_SEQ) {
        char got[96];
        return TS_CFG_FAIL(cx, n, "%s must be a sequence like [a, b], got %s", what,
                           ts_config__describe(n, got, sizeof got));
    }
    if (n->n == 0)
        return TS_CFG_FAIL(cx, n, "%s must not be empty", what);
    if (n->n > TS_CONFIG_MAX_LIST)
        return TS_CFG_FAIL(cx, n, "%s lists more than %d values", what, TS_CONFIG_MAX_LIST);
    char **v = calloc(n->n, sizeof *v);
    if (v == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", what);
    int k = 0;
    ts_status st = TS_OK;
    for (size_t i = 0; i < n->n && st == TS_OK; i++) {
        const ts_cnode *item = n->kids[i];
        if ((st = ts_config__get_string(cx, item, what, &v[k])) != TS_OK)
            break;
        k++;
        if (v[k - 1][0] == '\0') {
            st = TS_CFG_FAIL(cx, item, "%s must not contain an empty value", what);
            break;
        }
        for (int j = 0; j < k - 1; j++)
            if (strcmp(v[j], v[k - 1]) == 0) {
                st = TS_CFG_FAIL(cx, item, "'%.80s' is listed twice in %s", v[k - 1], what);
                break;
            }
    }
    if (st != TS_OK) {
        free_names(v, k);
        return st;
    }
    *out = v;
    *count = k;
    return TS_OK;
}

/* server.wms: service metadata and limits; CRS names are checked against the registry and
 * stored in their canonical form. Defaults are filled by wms_defaults. */
static ts_status
read_wms(const ts_cfg_ctx *cx, const ts_cnode *n, ts_cfg_wms *w)
{
    const char *what = "'wms' in server";
    if (n->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(cx, n, "%s must be a mapping of settings like {title: ...}, got %s",
                           what, ts_config__describe(n, got, sizeof got));
    }
    w->line = n->line;
    const ts_cnode *vals[NKEYS(wms_keys)];
    TS_TRY(read_keys(cx, n, wms_keys, NKEYS(wms_keys), "server.wms", n, w, vals));
    if (vals[W_ROOT] != NULL) {
        w->root_line = vals[W_ROOT]->line;
        w->root_col = vals[W_ROOT]->col;
    }
    if (w->root_name != NULL && !ts_config__name_ok(w->root_name))
        return TS_CFG_FAIL(cx, vals[W_ROOT],
                           "'root_name' in server.wms must be a name of letters, digits, '_', "
                           "'.' and '-' (up to %d), got '%.80s'",
                           TS_CONFIG_MAX_NAME, w->root_name);
    for (int i = 0; i < w->ncrs; i++) {
        const ts_crs *crs = ts_grid_crs_find(w->crs[i]);
        if (crs == NULL) {
            char known[512] = "";
            ts_cfg_suggest sg;
            ts_config__suggest_init(&sg, w->crs[i]);
            for (int j = 0; j < ts_grid_crs_count(); j++) {
                size_t l = strlen(known);
                snprintf(known + l, sizeof known - l, "%s%s", l ? ", " : "",
                         ts_grid_crs_at(j)->id);
                ts_config__suggest_add(&sg, ts_grid_crs_at(j)->id);
            }
            if (sg.best)
                return TS_CFG_FAIL(cx, vals[W_CRS]->kids[i],
                                   "unknown CRS '%.80s' in server.wms (did you mean '%s'?)",
                                   w->crs[i], sg.best);
            return TS_CFG_FAIL(cx, vals[W_CRS]->kids[i],
                               "unknown CRS '%.80s' in server.wms (known: %s)", w->crs[i], known);
        }
        for (int j = 0; j < i; j++)
            if (strcmp(w->crs[j], crs->id) == 0)
                return TS_CFG_FAIL(cx, vals[W_CRS]->kids[i],
                                   "CRS '%.80s' in server.wms names %s, which is already listed",
                                   w->crs[i], crs->id);
        if (strcmp(w->crs[i], crs->id) != 0) {
            char *canon = strdup(crs->id);
            if (canon == NULL)
                return TS_FAIL(cx->err, TS_ENOMEM, "server.wms: out of memory");
            free(w->crs[i]);
            w->crs[i] = canon;
        }
    }
    return TS_OK;
}

/* "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6) into *c; bits past the prefix must be zero so
 * that what is written is what is matched. 0 on success, -1 (with msg) otherwise. */
static int
parse_cidr(const char *s, ts_cfg_cidr *c, char *msg, size_t msize)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t al = slash ? (size_t)(slash - s) : strlen(s);
    if (al == 0 || al >= sizeof addr) {
        snprintf(msg, msize, "not an address");
        return -1;
    }
    memcpy(addr, s, al);
    addr[al] = '\0';
    memset(c, 0, sizeof *c);
    int maxp;
    if (inet_pton(AF_INET, addr, c->addr) == 1) {
        c->family = AF_INET;
        maxp = 32;
    } else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
        c->family = AF_INET6;
        maxp = 128;
    } else {
        snprintf(msg, msize, "'%.60s' is not an IPv4 or IPv6 address", addr);
        return -1;
    }
    c->prefix = maxp;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || p < 0 || p > maxp) {
            snprintf(msg, msize, "prefix length must be 0..%d", maxp);
            return -1;
        }
        c->prefix = (int)p;
    }
    for (int bit = c->prefix; bit < maxp; bit++)
        if (c->addr[bit / 8] & (0x80u >> (bit % 8))) {
            snprintf(msg, msize, "host bits set past /%d (write the network address)", c->prefix);
            return -1;
        }
    return 0;
}

/* The first line of a token file, trailing blanks removed. */
static ts_status
read_token_file(const ts_cfg_ctx *cx, const ts_cnode *n, const char *path, char **out)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        int e = errno;
        char eb[128];
        if (strerror_r(e, eb, sizeof eb) != 0)
            snprintf(eb, sizeof eb, "error %d", e);
        return TS_CFG_FAIL(cx, n, "cannot read 'token_file' %s: %s", path, eb);
    }
    char line[1024];
    if (fgets(line, sizeof line, f) == NULL)
        line[0] = '\0';
    fclose(f);
    size_t l = strlen(line);
    while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' ' ||
                     line[l - 1] == '\t'))
        line[--l] = '\0';
    *out = strdup(line);
    explicit_bzero(line, sizeof line);
    if (*out == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "server.admin: out of memory");
    return TS_OK;
}

/* server.admin: {token | token_file, allow: [CIDR ...]}; at least one of them. */
static ts_status
read_admin(const ts_cfg_ctx *cx, const ts_cnode *n, ts_cfg_admin *a)
{
    if (n->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(cx, n,
                           "'admin' in server must be a mapping like {token_file: ..., allow: "
                           "[127.0.0.1/32]}, got %s",
                           ts_config__describe(n, got, sizeof got));
    }
    admin_spec sp;
    memset(&sp, 0, sizeof sp);
    const ts_cnode *vals[NKEYS(admin_keys)];
    ts_status st = read_keys(cx, n, admin_keys, NKEYS(admin_keys), "server.admin", n, &sp, vals);
    char *token = NULL;
    if (st == TS_OK && sp.token && sp.token_file)
        st = TS_CFG_FAIL(cx, vals[A_TOKEN_FILE], "server.admin takes 'token' or 'token_file', "
                                                 "not both");
    if (st == TS_OK && sp.token_file)
        st = read_token_file(cx, vals[A_TOKEN_FILE], sp.token_file, &token);
    else if (st == TS_OK && sp.token) {
        token = sp.token;
        sp.token = NULL;
    }
    const ts_cnode *tnode = vals[A_TOKEN_FILE] ? vals[A_TOKEN_FILE] : vals[A_TOKEN];
    if (st == TS_OK && token && strlen(token) < ADMIN_TOKEN_MIN)
        st = TS_CFG_FAIL(cx, tnode,
                         "the admin token is %zu characters long; use at least %d (e.g. "
                         "`openssl rand -hex 32`)",
                         strlen(token), ADMIN_TOKEN_MIN);
    for (const char *p = token; st == TS_OK && p && *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
            st = TS_CFG_FAIL(cx, tnode, "the admin token must be printable ASCII without spaces");
    if (st == TS_OK && token == NULL && sp.nallow == 0)
        st = TS_CFG_FAIL(cx, n, "server.admin needs a 'token' (or 'token_file') or an 'allow' "
                                "list: without either the admin endpoints would be open to all");
    ts_cfg_cidr *allow = NULL;
    if (st == TS_OK && sp.nallow > 0 && (allow = calloc((size_t)sp.nallow, sizeof *allow)) == NULL)
        st = TS_FAIL(cx->err, TS_ENOMEM, "server.admin: out of memory");
    for (int i = 0; st == TS_OK && i < sp.nallow; i++) {
        char msg[160];
        if (parse_cidr(sp.allow[i], &allow[i], msg, sizeof msg) != 0)
            st = TS_CFG_FAIL(cx, vals[A_ALLOW]->kids[i], "'%.80s' in server.admin.allow: %s",
                             sp.allow[i], msg);
    }
    if (st == TS_OK) {
        a->enabled = 1;
        a->line = n->line;
        a->token = token;
        a->allow = allow;
        a->nallow = sp.nallow;
        token = NULL;
        allow = NULL;
    }
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    if (sp.token) {
        explicit_bzero(sp.token, strlen(sp.token));
        free(sp.token);
    }
    free(allow);
    free(sp.token_file);
    free_names(sp.allow, sp.nallow);
    return st;
}

/* The declared type of an MVT attribute. */
static ts_status
attr_type(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, ts_cfg_attr_type *out)
{
    static const struct {
        const char *name;
        ts_cfg_attr_type type;
    } types[] = {{"string", TS_CFG_ATTR_STRING}, {"int", TS_CFG_ATTR_INT},
                 {"integer", TS_CFG_ATTR_INT},   {"double", TS_CFG_ATTR_DOUBLE},
                 {"number", TS_CFG_ATTR_DOUBLE}, {"bool", TS_CFG_ATTR_BOOL},
                 {"boolean", TS_CFG_ATTR_BOOL},  {"auto", TS_CFG_ATTR_KEEP}};
    if (n->kind == TS_CNODE_SCALAR && !ts_config__is_null(n))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(n->str, types[i].name) == 0) {
                *out = types[i].type;
                return TS_OK;
            }
    char got[96];
    return TS_CFG_FAIL(cx, n, "%s must be one of string, int, double, bool (or auto), got %s",
                       what, ts_config__describe(n, got, sizeof got));
}

/* `attributes` of a layer's `mvt`: a mapping name: type, or a list of names (the store's
 * types kept). */
static ts_status
read_mvt_attrs(const ts_cfg_ctx *cx, const ts_cnode *n, const char *label, ts_cfg_layer *l)
{
    int map = n->kind == TS_CNODE_MAP;
    if (!map && n->kind != TS_CNODE_SEQ) {
        char got[96];
        return TS_CFG_FAIL(cx, n, "'attributes' in %s must be a mapping like {name: "
                           "string, area: double} or a list of names, got %s",
                           label, ts_config__describe(n, got, sizeof got));
    }
    size_t cnt = map ? n->n / 2 : n->n;
    if (cnt > TS_CONFIG_MAX_LIST)
        return TS_CFG_FAIL(cx, n, "'attributes' in %s lists more than %d names", label,
                           TS_CONFIG_MAX_LIST);
    for (int k = 0; k < l->nmvt_attrs; k++)
        free(l->mvt_attrs[k].name);
    free(l->mvt_attrs);
    l->mvt_attrs = calloc(cnt ? cnt : 1, sizeof *l->mvt_attrs);
    l->nmvt_attrs = 0;
    l->has_mvt_attrs = 1;
    if (l->mvt_attrs == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", label);
    for (size_t i = 0; i < cnt; i++) {
        const ts_cnode *name = map ? n->kids[2 * i] : n->kids[i];
        if (name->kind != TS_CNODE_SCALAR || ts_config__is_null(name) || name->len > 255)
            return TS_CFG_FAIL(cx, name, "'attributes' in %s: an attribute name must "
                               "be a string of 1 to 255 characters", label);
        for (int k = 0; k < l->nmvt_attrs; k++)
            if (strcmp(l->mvt_attrs[k].name, name->str) == 0)
                return TS_CFG_FAIL(cx, name, "'attributes' in %s: '%.80s' is listed twice",
                                   label, name->str);
        ts_cfg_mvt_attr *a = &l->mvt_attrs[l->nmvt_attrs];
        a->line = name->line;
        a->col = name->col;
        if (map) {
            char what[200];
            snprintf(what, sizeof what, "the type of attribute '%.80s' in %s", name->str, label);
            TS_TRY(attr_type(cx, n->kids[2 * i + 1], what, &a->type));
        }
        if ((a->name = strdup(name->str)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", label);
        l->nmvt_attrs++;
    }
    return TS_OK;
}

static ts_status
read_value(const ts_cfg_ctx *cx, const ts_cnode *n, const key_spec *k, const char *label, void *obj)
{
    char what[160];
    snprintf(what, sizeof what, "'%s' in %s", k->name, label);
    char *field = (char *)obj + k->off;
    char *s = NULL;
    ts_status st = TS_OK;
    long v;
    switch (k->type) {
    case K_STR:
    case K_STR_EMPTY:
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        if (s[0] == '\0' && k->type == K_STR) {
            free(s);
            return TS_CFG_FAIL(cx, n, "%s must not be empty", what);
        }
        free(*(char **)field);
        *(char **)field = s;
        return TS_OK;
    case K_OSTR:
        if (ts_config__is_null(n))
            return TS_OK;
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        if (s[0] == '\0') {
            free(s);
            return TS_OK;
        }
        free(*(char **)field);
        *(char **)field = s;
        return TS_OK;
    case K_INT:
        TS_TRY(ts_config__get_int(cx, n, what, k->min, k->max, &v));
        *(int *)field = (int)v;
        return TS_OK;
    case K_SIZE:
        TS_TRY(ts_config__get_int(cx, n, what, k->min, k->max, &v));
        *(size_t *)field = (size_t)v;
        return TS_OK;
    case K_BOOL:
        return ts_config__get_bool(cx, n, what, (int *)field);
    case K_DOUBLE:
        return ts_config__get_double(cx, n, what, (double *)field);
    case K_DPAIR:
    case K_IPAIR:
        return read_pair(cx, n, k, what, field);
    case K_LONLATBOX:
        TS_TRY(read_lonlat_box(cx, n, what, (double *)field));
        *(int *)((char *)obj + k->off2) = 1;
        return TS_OK;
    case K_CHOICE: {
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        for (const char *const *c = k->choices; *c; c++)
            if (strcmp(*c, s) == 0) {
                free(*(char **)field);
                *(char **)field = s;
                return TS_OK;
            }
        char list[128] = "";
        for (const char *const *c = k->choices; *c; c++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *c);
        }
        st = TS_CFG_FAIL(cx, n, "unknown %s '%.40s' in %s (expected one of: %s)", k->name, s, label,
                         list);
        free(s);
        return st;
    }
    case K_COLOUR:
        if (ts_config__is_null(n))
            return TS_CFG_FAIL(cx, n,
                               "%s is empty: an unquoted '#' starts a YAML comment, "
                               "so write the colour in quotes: \"#rrggbb\"",
                               what);
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        st = ts_config__parse_colour(cx, n, what, s, (uint8_t *)field);
        free(s);
        return st;
    case K_LISTEN: {
        char *host;
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        st = ts_config__parse_listen(cx, n, s, &host, (int *)((char *)obj + k->off2));
        free(s);
        if (st == TS_OK) {
            free(*(char **)field);
            *(char **)field = host;
        }
        return st;
    }
    case K_SRCPATH:
    case K_STYLEPATH: {
        char *path;
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        char desc[160];
        snprintf(desc, sizeof desc, "%s file of %s", k->type == K_SRCPATH ? "data" : "style",
                 label);
        st = ts_config__resolve_path(cx, n, desc, s, k->type == K_SRCPATH, k->type == K_STYLEPATH,
                                     &path);
        free(s);
        if (st == TS_OK) {
            free(*(char **)field);
            *(char **)field = path;
        }
        return st;
    }
    case K_OUTPATH: {
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        if (s[0] == '\0') {
            free(s);
            return TS_CFG_FAIL(cx, n, "%s must not be empty", what);
        }
        char *path = s;
        if (s[0] != '/') {
            size_t l = strlen(cx->dir) + strlen(s) + 2;
            path = malloc(l);
            if (path == NULL) {
                free(s);
                return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", what);
            }
            snprintf(path, l, "%s/%s", cx->dir, s);
            free(s);
        }
        free(*(char **)field);
        *(char **)field = path;
        return TS_OK;
    }
    case K_CACHE:
        return read_cache(cx, n, label, (ts_cfg_cache *)field);
    case K_MVTLAYER:
    case K_MVTSET:
        return read_mvt(cx, n, k, label, obj);
    case K_WMS:
        return read_wms(cx, n, (ts_cfg_wms *)field);
    case K_ADMIN:
        return read_admin(cx, n, (ts_cfg_admin *)field);
    case K_LOGPATH: {
        if (ts_config__is_null(n))
            return TS_OK;
        TS_TRY(ts_config__get_string(cx, n, what, &s));
        char *path = s;
        if (s[0] == '\0') {
            free(s);
            return TS_OK;
        }
        if (strcmp(s, "-") != 0 && s[0] != '/') {
            size_t l = strlen(cx->dir) + strlen(s) + 2;
            path = malloc(l);
            if (path == NULL) {
                free(s);
                return TS_FAIL(cx->err, TS_ENOMEM, "%s: out of memory", what);
            }
            snprintf(path, l, "%s/%s", cx->dir, s);
            free(s);
        }
        free(*(char **)field);
        *(char **)field = path;
        return TS_OK;
    }
    case K_STRINGS: {
        char **list = NULL;
        int count = 0;
        TS_TRY(read_strings(cx, n, what, &list, &count));
        free_names(*(char ***)field, *(int *)((char *)obj + k->off2));
        *(char ***)field = list;
        *(int *)((char *)obj + k->off2) = count;
        return TS_OK;
    }
    case K_NAMES: {
        char **names = NULL;
        int count = 0;
        TS_TRY(read_names(cx, n, what, &names, &count));
        free_names(*(char ***)field, *(int *)((char *)obj + k->off2));
        *(char ***)field = names;
        *(int *)((char *)obj + k->off2) = count;
        return TS_OK;
    }
    }
    return TS_FAIL(cx->err, TS_EINTERNAL, "key type %d", (int)k->type);
}

static ts_status
unknown_key(const ts_cfg_ctx *cx, const ts_cnode *key, const char *label, const char *const *names,
            size_t nnames)
{
    ts_cfg_suggest sg;
    ts_config__suggest_init(&sg, key->str);
    for (size_t i = 0; i < nnames; i++)
        ts_config__suggest_add(&sg, names[i]);
    if (sg.best)
        return TS_CFG_FAIL(cx, key, "unknown key '%.80s' in %s (did you mean '%s'?)", key->str,
                           label, sg.best);
    char list[512] = "";
    for (size_t i = 0; i < nnames; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", names[i]);
    }
    return TS_CFG_FAIL(cx, key, "unknown key '%.80s' in %s (known keys: %s)", key->str, label,
                       list);
}

/* Read every pair of map through specs into obj. vals[i] receives the value node of
 * specs[i] (NULL when absent). where is the node reported for a missing required key. */
static ts_status
read_keys(const ts_cfg_ctx *cx, const ts_cnode *map, const key_spec *specs, size_t nspecs,
          const char *label, const ts_cnode *where, void *obj, const ts_cnode **vals)
{
    for (size_t i = 0; i < nspecs; i++)
        vals[i] = NULL;
    for (size_t p = 0; p + 1 < map->n; p += 2) {
        const ts_cnode *key = map->kids[p], *val = map->kids[p + 1];
        size_t i = 0;
        while (i < nspecs && strcmp(specs[i].name, key->str) != 0)
            i++;
        if (i == nspecs) {
            const char *names[MAX_KEYS];
            for (size_t j = 0; j < nspecs; j++)
                names[j] = specs[j].name;
            return unknown_key(cx, key, label, names, nspecs);
        }
        vals[i] = val;
        TS_TRY(read_value(cx, val, &specs[i], label, obj));
    }
    for (size_t i = 0; i < nspecs; i++)
        if ((specs[i].flags & KEY_REQUIRED) && vals[i] == NULL)
            return TS_CFG_FAIL(cx, where, "missing required key '%s' in %s", specs[i].name, label);
    return TS_OK;
}

/* ---- sections ------------------------------------------------------------------------ */

/* The entries of a section mapping (null = none). Checks names; returns the pair count. */
static ts_status
section_entries(const ts_cfg_ctx *cx, const ts_cnode *sec, const char *secname, const char *kind,
                size_t *count)
{
    *count = 0;
    if (sec == NULL || ts_config__is_null(sec))
        return TS_OK;
    if (sec->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(cx, sec, "'%s' must be a mapping from %s name to %s settings, got %s",
                           secname, kind, kind, ts_config__describe(sec, got, sizeof got));
    }
    for (size_t p = 0; p + 1 < sec->n; p += 2) {
        const ts_cnode *key = sec->kids[p], *val = sec->kids[p + 1];
        if (!ts_config__name_ok(key->str))
            return TS_CFG_FAIL(cx, key, "bad %s name '%.80s' (1 to %d of A-Z a-z 0-9 _ . -)", kind,
                               key->str, TS_CONFIG_MAX_NAME);
        if (val->kind != TS_CNODE_MAP) {
            char got[96];
            return TS_CFG_FAIL(cx, ts_config__is_null(val) ? key : val,
                               "%s '%s' must be a mapping of settings, got %s", kind, key->str,
                               ts_config__describe(val, got, sizeof got));
        }
    }
    *count = sec->n / 2;
    return TS_OK;
}

/* Defaults of server.wms for what the file left out. */
static ts_status
wms_defaults(const ts_cfg_ctx *cx, ts_cfg_wms *w)
{
    if (w->title == NULL && (w->title = strdup("tilesrv")) == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "server.wms: out of memory");
    if (w->crs == NULL) {
        int n = ts_grid_crs_count();
        if ((w->crs = calloc((size_t)n, sizeof *w->crs)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "server.wms: out of memory");
        for (int i = 0; i < n; i++) {
            if ((w->crs[i] = strdup(ts_grid_crs_at(i)->id)) == NULL)
                return TS_FAIL(cx->err, TS_ENOMEM, "server.wms: out of memory");
            w->ncrs = i + 1;
        }
    }
    if (w->max_width == 0)
        w->max_width = 4096;
    if (w->max_height == 0)
        w->max_height = 4096;
    if (w->max_pixels == 0)
        w->max_pixels = 4096 * 4096;
    if (w->max_layers == 0)
        w->max_layers = 32;
    if (w->max_feature_count == 0)
        w->max_feature_count = 50;
    if (w->max_render_ms == 0)
        w->max_render_ms = 60000;
    return TS_OK;
}

/* A URL read at node n for key (public_url, metadata_url) of label must be http:// or
 * https:// (clients and catalogues follow it); NULL (not given) passes. */
static ts_status
check_http_url(const ts_cfg_ctx *cx, const ts_cnode *n, const char *url, const char *key,
               const char *label)
{
    if (url == NULL || strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
        return TS_OK;
    return TS_CFG_FAIL(cx, n, "'%s' in %s must start with http:// or https://, got '%.80s'", key,
                       label, url);
}

static ts_status
build_server(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *key, const ts_cnode *sec)
{
    ts_cfg_server *s = &c->server;
    s->port = 8080;
    s->queue_max = 256;
    s->cache_mb = 256;
    s->max_connections = 1024;
    s->max_connections_per_ip = 64;
    s->connection_timeout_s = 30;
    s->max_url_bytes = 8192;
    s->max_header_bytes = 16384;
    s->shutdown_timeout_s = 10;
    if (key != NULL)
        s->line = key->line;
    if (sec != NULL && !ts_config__is_null(sec)) {
        if (sec->kind != TS_CNODE_MAP) {
            char got[96];
            return TS_CFG_FAIL(cx, sec, "'server' must be a mapping of settings, got %s",
                               ts_config__describe(sec, got, sizeof got));
        }
        const ts_cnode *vals[NKEYS(server_keys)];
        TS_TRY(read_keys(cx, sec, server_keys, NKEYS(server_keys), "server", key, s, vals));
        if (s->public_url) {
            TS_TRY(check_http_url(cx, vals[S_PUBURL], s->public_url, "public_url", "server"));
            size_t l = strlen(s->public_url);
            while (l > 0 && s->public_url[l - 1] == '/')
                s->public_url[--l] = '\0';
        }
    }
    if (s->listen_host == NULL)
        s->listen_host = strdup("127.0.0.1");
    if (s->cors_origin == NULL)
        s->cors_origin = strdup("*");
    if (s->log_level == NULL)
        s->log_level = strdup("info");
    if (!s->listen_host || !s->cors_origin || !s->log_level)
        return TS_FAIL(cx->err, TS_ENOMEM, "server: out of memory");
    return wms_defaults(cx, &s->wms);
}

static ts_status
build_grids(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec)
{
    size_t n;
    TS_TRY(section_entries(cx, sec, "grids", "grid", &n));
    if (n == 0)
        return TS_OK;
    c->grids = calloc(n, sizeof *c->grids);
    if (c->grids == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "grids: out of memory");
    for (size_t i = 0; i < n; i++) {
        const ts_cnode *key = sec->kids[2 * i], *map = sec->kids[2 * i + 1];
        ts_cfg_grid *g = &c->grids[c->ngrids++];
        g->line = key->line;
        g->col = key->col;
        if ((g->name = strdup(key->str)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "grids: out of memory");
        if (ts_grid_builtin(g->name) != NULL)
            return TS_CFG_FAIL(cx, key,
                               "grid '%s' is built in and cannot be redefined; choose "
                               "another name",
                               g->name);
        char label[96];
        snprintf(label, sizeof label, "grid '%s'", g->name);
        grid_spec gs = {.tile_size = 256, .msize = {1, 1}, .mpu = 1.0};
        const ts_cnode *vals[NKEYS(grid_keys)];
        ts_status st = read_keys(cx, map, grid_keys, NKEYS(grid_keys), label, key, &gs, vals);
        if (st == TS_OK && !(gs.res0 > 0))
            st = TS_CFG_FAIL(cx, vals[G_RES0], "'resolution0' in %s must be greater than 0", label);
        if (st == TS_OK && !(gs.mpu > 0))
            st = TS_CFG_FAIL(cx, vals[G_MPU], "'meters_per_unit' in %s must be greater than 0",
                             label);
        if (st == TS_OK && strlen(gs.crs) >= sizeof g->grid.crs)
            st = TS_CFG_FAIL(cx, vals[G_CRS], "'crs' in %s is longer than %zu characters", label,
                             sizeof g->grid.crs - 1);
        if (st == TS_OK) {
            uint64_t top = (uint64_t)1 << (gs.levels - 1);
            for (int a = 0; a < 2 && st == TS_OK; a++)
                if ((uint64_t)gs.msize[a] * top > UINT32_MAX)
                    st = TS_CFG_FAIL(cx, vals[G_MSIZE] ? vals[G_MSIZE] : vals[G_LEVELS],
                                     "%s: %d levels from a %d-tile matrix overflow 2^32 tiles "
                                     "per axis at the last level",
                                     label, gs.levels, gs.msize[a]);
        }
        if (st == TS_OK) {
            ts_err ge;
            ts_err_clear(&ge);
            if (ts_grid_init_quad(&g->grid, g->name, gs.crs, gs.origin[0], gs.origin[1], gs.res0,
                                  (uint32_t)gs.tile_size, (uint32_t)gs.msize[0],
                                  (uint32_t)gs.msize[1], gs.levels, gs.id_width, gs.mpu,
                                  &ge) != TS_OK)
                st = TS_CFG_FAIL(cx, key, "%s", ge.msg);
        }
        free(gs.crs);
        TS_TRY(st);
    }
    return TS_OK;
}

static ts_status
build_sources(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec)
{
    size_t n;
    TS_TRY(section_entries(cx, sec, "sources", "source", &n));
    if (n == 0)
        return TS_OK;
    c->sources = calloc(n, sizeof *c->sources);
    if (c->sources == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "sources: out of memory");
    for (size_t i = 0; i < n; i++) {
        const ts_cnode *key = sec->kids[2 * i], *map = sec->kids[2 * i + 1];
        ts_cfg_source *s = &c->sources[c->nsources++];
        s->line = key->line;
        s->col = key->col;
        if ((s->name = strdup(key->str)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "sources: out of memory");
        char label[96];
        snprintf(label, sizeof label, "source '%s'", s->name);
        const ts_cnode *vals[NKEYS(source_keys)];
        s->query_timeout_s = 10;
        TS_TRY(read_keys(cx, map, source_keys, NKEYS(source_keys), label, key, s, vals));
        if (s->mode != NULL && strcmp(s->mode, "per_request") == 0 &&
            strncmp(s->path, "PG:", 3) != 0)
            return TS_CFG_FAIL(cx, vals[S_MODE],
                               "mode per_request in %s needs a PostGIS source (a path "
                               "\"PG:...\"), got '%.60s'", label, s->path);
    }
    return TS_OK;
}

/* The names of a finished section, sorted, for the reference checks of the sections after
 * it: the public lookups are linear, and a hostile 4 MiB file must not make the check
 * quadratic. Names are unique (duplicate keys are refused), so bsearch finds the one. */
typedef struct name_ref {
    const char *name;
    const void *obj;
} name_ref;

typedef struct name_index {
    name_ref *v;
    size_t n;
} name_index;

static int
name_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/* Index n records of size stride starting at base: the name is the char * at name_off of a
 * record, the object found is the record plus obj_off. With builtin_grids, the built-in
 * tile matrix sets are added (found as their ts_grid). */
static ts_status
index_build(const ts_cfg_ctx *cx, name_index *ix, const void *base, size_t n, size_t stride,
            size_t name_off, size_t obj_off, int builtin_grids)
{
    ix->n = 0;
    ix->v = malloc((n + (size_t)ts_grid_builtin_count() + 1) * sizeof *ix->v);
    if (ix->v == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "name index: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *obj = (const char *)base + i * stride;
        ix->v[ix->n].name = *(char *const *)(obj + name_off);
        ix->v[ix->n++].obj = obj + obj_off;
    }
    for (int i = 0; builtin_grids && i < ts_grid_builtin_count(); i++) {
        const ts_grid *g = ts_grid_builtin_at(i);
        if (g == NULL)
            continue;
        ix->v[ix->n].name = g->name;
        ix->v[ix->n++].obj = g;
    }
    qsort(ix->v, ix->n, sizeof *ix->v, name_ref_cmp);
    return TS_OK;
}

static const void *
index_find(const name_index *ix, const char *name)
{
    name_ref key = {name, NULL};
    const name_ref *r = bsearch(&key, ix->v, ix->n, sizeof *ix->v, name_ref_cmp);
    return r ? r->obj : NULL;
}

/* "<label> uses undefined source 'x'" plus the closest defined name, if any. */
static ts_status
undefined_ref(const ts_cfg_ctx *cx, const ts_cnode *at, const char *label, const char *verb,
              const char *kind, const ts_cfg_suggest *sg)
{
    if (sg->best)
        return TS_CFG_FAIL(cx, at, "%s %s undefined %s '%s' (did you mean '%s'?)", label, verb,
                           kind, sg->word, sg->best);
    return TS_CFG_FAIL(cx, at, "%s %s undefined %s '%s'", label, verb, kind, sg->word);
}

static ts_status
build_layers_with(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec, size_t n,
                  const name_index *sources)
{
    c->layers = calloc(n, sizeof *c->layers);
    if (c->layers == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "layers: out of memory");
    for (size_t i = 0; i < n; i++) {
        const ts_cnode *key = sec->kids[2 * i], *map = sec->kids[2 * i + 1];
        ts_cfg_layer *l = &c->layers[c->nlayers++];
        l->line = key->line;
        l->col = key->col;
        l->queryable = 1;
        if ((l->name = strdup(key->str)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "layers: out of memory");
        char label[96];
        snprintf(label, sizeof label, "layer '%s'", l->name);
        const ts_cnode *vals[NKEYS(layer_keys)];
        TS_TRY(read_keys(cx, map, layer_keys, NKEYS(layer_keys), label, key, l, vals));
        TS_TRY(check_http_url(cx, vals[L_METADATA], l->metadata_url, "metadata_url", label));
        if (l->feed != NULL) {
            if (l->source != NULL)
                return TS_CFG_FAIL(cx, vals[L_SOURCE], "%s names both a source and a feed; "
                                   "a layer draws one or the other", label);
            static const int only_src[] = {L_TABLE, L_WHERE, L_SRS, L_GEOMETRY};
            for (size_t j = 0; j < sizeof only_src / sizeof only_src[0]; j++)
                if (vals[only_src[j]] != NULL)
                    return TS_CFG_FAIL(cx, vals[only_src[j]],
                                       "'%s' in %s applies to source layers, not to a feed",
                                       layer_keys[only_src[j]].name, label);
            if (ts_config_feed(c, l->feed) == NULL) {
                ts_cfg_suggest sg;
                ts_config__suggest_init(&sg, l->feed);
                for (int j = 0; j < c->nfeeds; j++)
                    ts_config__suggest_add(&sg, c->feeds[j].name);
                return undefined_ref(cx, vals[L_FEED], label, "uses", "feed", &sg);
            }
            if (l->title == NULL && (l->title = strdup(l->name)) == NULL)
                return TS_FAIL(cx->err, TS_ENOMEM, "layers: out of memory");
            continue;
        }
        if (l->source == NULL)
            return TS_CFG_FAIL(cx, key, "missing required key 'source' (or 'feed') in %s", label);
        if (index_find(sources, l->source) == NULL) {
            ts_cfg_suggest sg;
            ts_config__suggest_init(&sg, l->source);
            for (int j = 0; j < c->nsources; j++)
                ts_config__suggest_add(&sg, c->sources[j].name);
            return undefined_ref(cx, vals[L_SOURCE], label, "uses", "source", &sg);
        }
        if (l->title == NULL && (l->title = strdup(l->name)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "layers: out of memory");
        if (l->table == NULL) {
            if ((l->table = strdup(l->name)) == NULL)
                return TS_FAIL(cx->err, TS_ENOMEM, "layers: out of memory");
            l->table_default = 1;
        }
    }
    return TS_OK;
}

static ts_status
build_layers(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec)
{
    size_t n;
    TS_TRY(section_entries(cx, sec, "layers", "layer", &n));
    if (n == 0)
        return TS_OK;
    name_index sources;
    TS_TRY(index_build(cx, &sources, c->sources, (size_t)c->nsources, sizeof *c->sources,
                       offsetof(ts_cfg_source, name), 0, 0));
    ts_status st = build_layers_with(cx, c, sec, n, &sources);
    free(sources.v);
    return st;
}

/* Check each listed zoom against the tileset's first grid, then min <= max. Level numbers
 * of different grids mean different scales (level 13 of DE_EPSG_25832_ADV is about level 18
 * of WebMercatorQuad), so the zoom range is the first grid's; the other grids serve the
 * part of it they have (the pipeline clamps it to their levels). */
static ts_status
check_zooms(const ts_cfg_ctx *cx, const name_index *grids, ts_cfg_tileset *t, const char *label,
            const ts_cnode **vals)
{
    int last = 31;
    const char *last_grid = NULL;
    for (int g = 0; g < t->ngrids && g < 1; g++) {
        const ts_grid *gr = index_find(grids, t->grids[g]);
        if (gr->nlevels - 1 < last) {
            last = gr->nlevels - 1;
            last_grid = gr->name;
        }
    }
    const ts_cnode *zn[2] = {vals[T_MINZ], vals[T_MAXZ]};
    int zv[2] = {t->minzoom, t->maxzoom};
    static const char *const zname[2] = {"minzoom", "maxzoom"};
    for (int i = 0; i < 2; i++)
        if (zn[i] != NULL && zv[i] > last)
            return TS_CFG_FAIL(cx, zn[i], "'%s' %d in %s is outside grid '%s' (levels 0 to %d)",
                               zname[i], zv[i], label, last_grid, last);
    if (zn[1] == NULL)
        t->maxzoom = last;
    t->minzoom_set = zn[0] != NULL;
    t->maxzoom_set = zn[1] != NULL;
    if (t->minzoom > t->maxzoom)
        return TS_CFG_FAIL(cx, zn[0], "'minzoom' %d in %s is greater than 'maxzoom' %d", t->minzoom,
                           label, t->maxzoom);
    return TS_OK;
}

static ts_status
build_tilesets_with(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec, size_t n,
                    const name_index *layers, const name_index *grids)
{
    c->tilesets = calloc(n, sizeof *c->tilesets);
    if (c->tilesets == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "tilesets: out of memory");
    const char *wmq = ts_grid_webmercator_quad()->name;
    for (size_t i = 0; i < n; i++) {
        const ts_cnode *key = sec->kids[2 * i], *map = sec->kids[2 * i + 1];
        ts_cfg_tileset *t = &c->tilesets[c->ntilesets++];
        t->line = key->line;
        t->col = key->col;
        t->metatile = 8;
        t->buffer_px = 64;
        t->max_age_s = 3600;
        t->mvt_buffer = -1;
        if ((t->name = strdup(key->str)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "tilesets: out of memory");
        char label[96];
        snprintf(label, sizeof label, "tileset '%s'", t->name);
        const ts_cnode *vals[NKEYS(tileset_keys)];
        TS_TRY(read_keys(cx, map, tileset_keys, NKEYS(tileset_keys), label, key, t, vals));
        TS_TRY(check_http_url(cx, vals[T_METADATA], t->metadata_url, "metadata_url", label));
        for (int j = 0; j < t->nlayers; j++)
            if (index_find(layers, t->layers[j]) == NULL) {
                ts_cfg_suggest sg;
                ts_config__suggest_init(&sg, t->layers[j]);
                for (int k = 0; k < c->nlayers; k++)
                    ts_config__suggest_add(&sg, c->layers[k].name);
                return undefined_ref(cx, vals[T_LAYERS]->kids[j], label, "lists", "layer", &sg);
            }
        if (t->grids == NULL) {
            t->grids = calloc(1, sizeof *t->grids);
            if (t->grids == NULL || (t->grids[0] = strdup(wmq)) == NULL)
                return TS_FAIL(cx->err, TS_ENOMEM, "tilesets: out of memory");
            t->ngrids = 1;
        }
        for (int j = 0; j < t->ngrids; j++)
            if (index_find(grids, t->grids[j]) == NULL) {
                ts_cfg_suggest sg;
                ts_config__suggest_init(&sg, t->grids[j]);
                for (int k = 0; k < ts_grid_builtin_count(); k++)
                    if (ts_grid_builtin_at(k) != NULL)
                        ts_config__suggest_add(&sg, ts_grid_builtin_at(k)->name);
                for (int k = 0; k < c->ngrids; k++)
                    ts_config__suggest_add(&sg, c->grids[k].name);
                if (sg.best)
                    return undefined_ref(cx, vals[T_GRIDS]->kids[j], label, "lists", "grid", &sg);
                /* no near name: say which there are */
                char known[600];
                size_t kl = 0;
                known[0] = '\0';
                for (int k = 0; k < ts_grid_builtin_count() + c->ngrids && kl < 500; k++) {
                    const char *gn = k < ts_grid_builtin_count()
                                         ? (ts_grid_builtin_at(k) ? ts_grid_builtin_at(k)->name
                                                                  : NULL)
                                         : c->grids[k - ts_grid_builtin_count()].name;
                    if (gn != NULL)
                        kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s",
                                               kl ? ", " : "", gn);
                }
                return TS_CFG_FAIL(cx, vals[T_GRIDS]->kids[j],
                                   "%s lists undefined grid '%s' (the grids are: %s; define "
                                   "others under `grids:`)",
                                   label, t->grids[j], known);
            }
        TS_TRY(check_zooms(cx, grids, t, label, vals));
        if (t->title == NULL && (t->title = strdup(t->name)) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "tilesets: out of memory");
        if (t->format == NULL && (t->format = strdup("png")) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "tilesets: out of memory");
        if (t->cache.type == NULL && (t->cache.type = strdup("memory")) == NULL)
            return TS_FAIL(cx->err, TS_ENOMEM, "tilesets: out of memory");
        for (size_t j = 0; t->cache.path && j + 1 < (size_t)c->ntilesets; j++)
            if (c->tilesets[j].cache.path && strcmp(c->tilesets[j].cache.path, t->cache.path) == 0)
                return TS_CFG_FAIL(cx, vals[T_CACHE],
                                   "cache of %s: path %s is already the cache of tileset '%s'",
                                   label, t->cache.path, c->tilesets[j].name);
        /* a tileset drawing a live feed changes with every sensor update: its tiles are
         * invalidated exactly, in memory; a persistent level (disk, MBTiles, Redis) would
         * go on serving the tiles from before a change */
        for (int j = 0; strcmp(t->cache.type, "memory") != 0 && j < t->nlayers; j++) {
            const ts_cfg_layer *l = index_find(layers, t->layers[j]);
            if (l != NULL && l->feed != NULL)
                return TS_CFG_FAIL(cx, vals[T_CACHE],
                                   "cache of %s: it draws the live layer '%s' (feed '%s'), whose "
                                   "tiles change with every sensor update and are kept in memory "
                                   "only; remove its cache (type %s) or move the layer to a "
                                   "tileset of its own",
                                   label, l->name, l->feed, t->cache.type);
        }
    }
    return TS_OK;
}

static ts_status
build_tilesets(const ts_cfg_ctx *cx, ts_config *c, const ts_cnode *sec)
{
    size_t n;
    TS_TRY(section_entries(cx, sec, "tilesets", "tileset", &n));
    if (n == 0)
        return TS_OK;
    name_index layers, grids;
    TS_TRY(index_build(cx, &layers, c->layers, (size_t)c->nlayers, sizeof *c->layers,
                       offsetof(ts_cfg_layer, name), 0, 0));
    ts_status st = index_build(cx, &grids, c->grids, (size_t)c->ngrids, sizeof *c->grids,
                               offsetof(ts_cfg_grid, name), offsetof(ts_cfg_grid, grid), 1);
    if (st == TS_OK) {
        st = build_tilesets_with(cx, c, sec, n, &layers, &grids);
        free(grids.v);
    }
    free(layers.v);
    return st;
}

ts_status
ts_config__build(ts_config *c, const ts_cnode *root, ts_err *err)
{
    ts_cfg_ctx cx = {.where = c->path, .dir = c->dir, .err = err};
    if (root->kind != TS_CNODE_MAP) {
        char got[96];
        return TS_CFG_FAIL(&cx, root,
                           "the configuration must be a mapping with the sections server, "
                           "sources, feeds, layers, tilesets, grids; got %s",
                           ts_config__describe(root, got, sizeof got));
    }
    const ts_cnode *sec[NSECTIONS] = {NULL}, *seckey[NSECTIONS] = {NULL};
    for (size_t p = 0; p + 1 < root->n; p += 2) {
        const ts_cnode *key = root->kids[p];
        size_t i = 0;
        while (i < NSECTIONS && strcmp(sections[i], key->str) != 0)
            i++;
        if (i == NSECTIONS)
            return unknown_key(&cx, key, "the top-level mapping", sections, NSECTIONS);
        seckey[i] = key;
        sec[i] = root->kids[p + 1];
    }
    TS_TRY(build_server(&cx, c, seckey[SEC_SERVER], sec[SEC_SERVER]));
    TS_TRY(build_grids(&cx, c, sec[SEC_GRIDS]));
    TS_TRY(build_sources(&cx, c, sec[SEC_SOURCES]));
    TS_TRY(ts_config__build_feeds(&cx, c, sec[SEC_FEEDS]));
    TS_TRY(build_layers(&cx, c, sec[SEC_LAYERS]));
    TS_TRY(build_tilesets(&cx, c, sec[SEC_TILESETS]));
    /* WMS names are unique (1.3.0 7.2.4.6.3): a root named like a tileset or layer would
     * take that name from it (LAYERS=parcels drawing the whole city) */
    const char *rn = c->server.wms.root_name;
    for (int i = 0; rn != NULL && i < c->ntilesets + c->nlayers; i++) {
        const char *other = i < c->ntilesets ? c->tilesets[i].name : c->layers[i - c->ntilesets].name;
        if (strcmp(rn, other) == 0)
            return TS_FAIL_AT(err, TS_ECONFIG, c->path, c->server.wms.root_line,
                              c->server.wms.root_col,
                              "'root_name' %s in server.wms is the name of a %s: WMS names are "
                              "unique; choose another root name",
                              rn, i < c->ntilesets ? "tileset" : "layer");
    }
    return TS_OK;
}
