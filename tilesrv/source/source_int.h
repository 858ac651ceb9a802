/* source/source_int.h — what the files of the source module share and nobody else sees.
 *
 * Layout of the module:
 *   context.c     per-thread ts_source_ctx (PROJ context, GEOS handle, message capture)
 *   reproject.c   CRS parsing, cached PROJ operations, ts_source_transform
 *   geom.c        flat geometry scratch (ts_flat): cleaning, ring orientation, hole roles,
 *                 the cheap "certainly valid" polygon test (no library calls)
 *   repair.c      flat <-> GEOS, polygon validity and repair (GEOSMakeValid)
 *   store.c       ts_store and ts_store_builder: flat arrays, attributes, string pool
 *   index.c       packed Hilbert R-tree over feature bboxes, ts_store_query
 *   generalise.c  simplified levels (GEOSTopologyPreserveSimplify)
 *   ogr.c         ts_store_load: reads an OGR layer and feeds the builder
 *   pg.c          live PostGIS tables: per-request queries over libpq (ts_pg_table)
 * store.c, index.c and geom.c use no library; they also serve stores built in memory. */
#ifndef TS_SOURCE_SOURCE_INT_H
#define TS_SOURCE_SOURCE_INT_H

#include "source/source.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>
#include <ogr_api.h>
#include <proj.h>

/* Coordinates whose magnitude exceeds this (after reprojection) are garbage: no real CRS
 * produces them, and GEOS arithmetic on them overflows. Such features are skipped. */
#define TS_SOURCE_COORD_LIMIT 1e15

/* ---- per-thread context (context.c, reproject.c) ---- */

/* One cached PROJ operation between two CRS definitions. */
typedef struct ts_pj_entry {
    char *src, *dst; /* the definitions as given (cache key) */
    int src_swap;    /* input arrives lat/lon-ordered and is swapped first */
    PJ *op;          /* normalised for visualisation; NULL = identity */
    uint64_t used;   /* tick of last use, for eviction */
} ts_pj_entry;

#define TS_PJ_CACHE_MAX 16

struct ts_source_ctx {
    PJ_CONTEXT *pj;
    GEOSContextHandle_t geos;
    ts_pj_entry pjs[TS_PJ_CACHE_MAX];
    int npjs;
    uint64_t tick;
    char geos_msg[256]; /* last GEOS error or notice */
    char proj_msg[256]; /* last PROJ log message */
    char gdal_msg[512]; /* last GDAL error while a load runs */
    int gdal_failures;  /* CE_Failure/CE_Fatal count while a load runs */
    /* scratch for the GEOS bridge (repair.c), reused from feature to feature */
    double *ring;    /* one closed ring */
    size_t ring_cap; /* points */
    GEOSGeometry **holes, **parts;
    size_t holes_cap, parts_cap;
};

/* Process-wide, idempotent: GDALAllRegister. */
void ts_source__gdal_init(void);
/* While a load runs: route this thread's GDAL messages into sc (thread-local handler). */
/* The dataset name to open path with: a PostgreSQL connection string ("PG:...") without a
 * connect_timeout gets connect_timeout=timeout_s (libpq otherwise waits for a server that
 * does not answer as long as TCP does: forever for a frozen host), and one in keyword form
 * without `options` gets options='session' (e.g. "-c lock_timeout=60000"; NULL: none), in
 * buf of len bytes ("PG:postgres://" is written "PG:postgresql://", the only URI form GDAL
 * takes); anything else (or a string that does not fit) is path itself. */
const char *ts_source__bounded_path(const char *path, int timeout_s, const char *session,
                                    char *buf, size_t len);
/* The state of a PostgreSQL server (conninfo: the libpq string, "PG:" stripped) that
 * per-request fetches keep (pg.c), for other connections to it (OGR's): may one connect
 * now (1; *probe = 1: as the one try of a failing server), or not (0, msg: why)? Then say
 * how the connect went (failed = 1: msg). */
int ts_source__pg_may_connect(const char *conninfo, int *probe, char *msg, size_t len);
void ts_source__pg_connected(const char *conninfo, int probe, int failed, const char *msg);
void ts_source__gdal_capture_begin(ts_source_ctx *sc);
void ts_source__gdal_capture_end(ts_source_ctx *sc);

/* 1 if CRS def is geographic (longitude/latitude), also inside a bound or compound CRS. */
int ts_source__crs_geographic(ts_source_ctx *sc, const char *def);
/* The cached operation from src to dst (each "EPSG:n", WKT or PROJ string). src_swap:
 * the caller's x is the first axis of src as the CRS defines it, rather than easting (see
 * ogr.c); 0 for callers that already give easting first. *op is NULL for an identity.
 * The entry is owned by sc. TS_ESOURCE-free: returns TS_EINVAL naming the bad CRS. */
ts_status ts_source__op(ts_source_ctx *sc, const char *src, int src_swap, const char *dst,
                        const ts_pj_entry **out, ts_err *err);
/* Apply an operation to n interleaved points in place (swap first if asked). Failed
 * points become HUGE_VAL. */
void ts_source__op_apply(const ts_pj_entry *e, double *xy, size_t n);
/* 1 if the CRS given by definition crs has northing/latitude as its first axis. */
int ts_source__crs_north_first(ts_source_ctx *sc, const char *crs);

/* ---- flat geometry scratch (geom.c) ---- */

/* A geometry under construction, in ts_geom's layout, plus hole roles for polygons. */
typedef struct ts_flat {
    ts_geom_kind kind;
    double *xy; /* x, y pairs */
    size_t npts, cap_pts;
    uint32_t *counts; /* points per part */
    uint8_t *hole;    /* polygons, per ring: 1 = hole of the latest exterior ring */
    size_t nparts, cap_parts;
} ts_flat;

void ts_source__flat_reset(ts_flat *f, ts_geom_kind kind);
void ts_source__flat_fini(ts_flat *f);
/* Make room for pts more points and parts more parts. 0 or -1 (out of memory). */
int ts_source__flat_reserve(ts_flat *f, size_t pts, size_t parts);
/* Append a part of n points (copied). 0 or -1. */
int ts_source__flat_add_part(ts_flat *f, const double *xy, uint32_t n, int hole);
/* 1 if every coordinate is finite and within TS_SOURCE_COORD_LIMIT. */
int ts_source__flat_sane(const ts_flat *f);
/* Polygons without known roles: ring 0 is an exterior; each later ring is a hole if it
 * lies inside the latest exterior ring, else it starts a new polygon. */
void ts_source__flat_infer_holes(ts_flat *f);
/* Normalise in place: drop the repeated closing point and consecutive duplicates; drop
 * degenerate parts (lines < 2 points; rings < 3 points or with an area below 1e-10 of
 * their bbox diagonal squared, i.e. zero up to rounding; an exterior's holes go with
 * it); orient exterior rings CCW and holes CW (y up). *dropped is set to 1 when a part
 * was dropped. Returns the parts left. */
size_t ts_source__flat_clean(ts_flat *f, int *dropped);
/* 1 if a cleaned polygon flat is certainly valid (simple small rings, no holes,
 * disjoint parts) without asking GEOS; 0 = unknown, ask GEOS. */
int ts_source__flat_cheap_valid(const ts_flat *f);

/* ---- OGR geometries (ogr.c; also used by pg.c) ---- */

/* The parts of OGR geometry g into f, unprojected: curves linearised, Z/M dropped, a
 * collection reduced to the members of its highest dimension. 1 = f has parts, 0 = nothing
 * usable (NULL, empty, no supported kind), -1 = out of memory. */
int ts_source__ogr_flat(OGRGeometryH g, ts_flat *f);
/* ts_source__ogr_flat for the members of one kind only (TS_GEOM_NONE: the highest). */
int ts_source__ogr_flat_kind(OGRGeometryH g, ts_geom_kind kind, ts_flat *f);
/* Bit (1 << kind) for each kind (point, line, polygon) among g's non-empty members;
 * 0 for NULL, empty or unsupported. */
unsigned ts_source__ogr_kinds(OGRGeometryH g);
/* After reprojection: check coordinates (ts_source__flat_sane), clean, make polygons valid
 * (tmp: scratch). 1 = usable (*repaired = 1 when a part was dropped or a polygon repaired),
 * 0 = skip the feature. */
int ts_source__flat_finish(ts_source_ctx *sc, ts_flat *f, ts_flat *tmp, int *repaired);

/* ---- GEOS bridge (repair.c) ---- */

/* New GEOS geometry from a cleaned flat (polygons use f->hole, or orientation when
 * hole is NULL). NULL on failure (message in sc->geos_msg). */
GEOSGeometry *ts_source__to_geos(ts_source_ctx *sc, ts_geom_kind kind, const double *xy,
                                 const uint32_t *counts, size_t nparts, const uint8_t *hole);
/* Append the parts of g that are of kind want to f (collections are searched; other
 * kinds are ignored). 0, or -1 on out of memory / GEOS failure. */
int ts_source__from_geos(ts_source_ctx *sc, const GEOSGeometry *g, ts_geom_kind want, ts_flat *f);
/* Make a cleaned polygon flat valid. Returns 0 when f was valid, 1 when it was repaired
 * (f replaced by the polygonal part of GEOSMakeValid, cleaned, and checked valid), -1
 * when it cannot be repaired within two passes (f is then unspecified). */
int ts_source__polygon_fix(ts_source_ctx *sc, ts_flat *f, ts_flat *tmp);

/* ---- the store (store.c, index.c) ---- */

typedef struct ts_strchunk {
    struct ts_strchunk *next;
    size_t used, cap;
    char data[];
} ts_strchunk;

/* One level of detail. On level 0, feature f's geometry is xy[pt_off[f] .. pt_off[f+1])
 * with parts counts[part_off[f] .. part_off[f+1]). Levels > 0 hold only the features
 * whose geometry differs from the level before: bit f of own says feature f has an entry
 * here, at rank r = number of own bits before f, and its ranges are pt_off[r] ..
 * pt_off[r+1] (an empty range: the feature vanished, kind NONE). Without the bit, look
 * one level down. */
typedef struct ts_level {
    double tol; /* 0 on level 0 */
    double *xy;
    uint64_t npts, cap_pts;
    uint32_t *counts;
    uint64_t ncounts, cap_counts;
    uint64_t *pt_off;   /* level 0: n + 1 entries; above: nown + 1 */
    uint32_t *part_off; /* as pt_off */
    uint64_t cap_off;   /* levels > 0: room in pt_off/part_off */
    uint64_t nown;      /* levels > 0: features with an entry of their own */
    uint64_t *own;      /* levels > 0: bitmap of n bits */
    uint32_t *rank;     /* levels > 0: own bits set in the words before each word */
} ts_level;

#define TS_INDEX_NODE 16 /* a power of two: index.c shifts by 4 bits per level */
#define TS_INDEX_MAXLEVELS 16

typedef struct ts_index {
    uint32_t nitems; /* leaves: features with a geometry */
    uint32_t nnodes; /* boxes on all levels */
    double *boxes;   /* 4 per node: minx, miny, maxx, maxy */
    uint32_t *idx;   /* leaves: feature id; inner nodes: position of the first child */
    int nlevels;
    uint32_t level_end[TS_INDEX_MAXLEVELS]; /* exclusive end position of each level */
} ts_index;

struct ts_store {
    atomic_int refs;
    char *name;
    uint32_t n, cap; /* features, allocated feature slots */
    uint8_t *kind;   /* ts_geom_kind at full detail */
    ts_bbox *bbox;   /* at full detail; all zero for NONE */
    int nfields;
    char **fields;
    char *table;          /* the source table (OGR layer) read, or NULL (ts_store_table) */
    int nsrc_fields;      /* the source table's fields (ts_store_source_field), kept or not */
    char **src_fields;
    ts_value *values;     /* n * nfields */
    ts_strchunk *strings; /* pool the STR values point into */
    int nlevels;
    ts_level *levels;
    ts_index index;
    ts_bbox extent;
    ts_store_stats stats;
    int64_t *origin;     /* per feature: its id in the data source (OGR FID), -1 = unknown;
                          * NULL when no feature has one (stores built in memory) */
    uint32_t origin_cap; /* slots in origin */
};

/* Append a cleaned flat (see ts_source__flat_clean; kind NONE allowed with no parts) and
 * its values (strings are interned) as the next feature. */
ts_status ts_source__builder_add_flat(ts_store_builder *b, const ts_flat *f, const ts_value *values,
                                      ts_err *err);
/* The data source's id (OGR FID) of the next feature added, -1 = unknown. */
void ts_source__builder_set_origin(ts_store_builder *b, int64_t id);
/* The store being built (for the loader's stats). */
ts_store *ts_source__builder_store(ts_store_builder *b);

/* Add levels for the given tolerances to a store that is not yet shared. */
ts_status ts_source__generalise(ts_source_ctx *sc, ts_store *s, const double *tol, int ntol,
                                ts_err *err);
/* Append geometry to a level's coordinate and count arrays. 0 or -1. */
int ts_source__level_append(ts_level *lv, const double *xy, size_t npts, const uint32_t *counts,
                            size_t nparts);
/* Levels > 0 (lv->own allocated, n bits): give feature fid, the next in id order, an
 * entry of its own (nparts 0 = vanished). 0 or -1 (out of memory). */
int ts_source__level_add_own(ts_level *lv, uint32_t fid, const double *xy, size_t npts,
                             const uint32_t *counts, size_t nparts);
/* Levels > 0, after the last add_own: fill lv->rank (n / 64 + 1 words) and trim. */
void ts_source__level_seal(ts_level *lv, uint32_t n);
/* Memory held by a store, approximately. */
uint64_t ts_source__store_bytes(const ts_store *s);

/* Build s->index over s->bbox. */
ts_status ts_source__index_build(ts_store *s, ts_err *err);
void ts_source__index_free(ts_index *ix);

#endif
