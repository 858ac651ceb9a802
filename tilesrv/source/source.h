/* source/source.h — vector sources and the in-memory feature store.
 *
 * The only module that sees GDAL/OGR, PROJ and GEOS. At load, every feature of an OGR
 * layer is read once, reprojected into the target CRS, repaired (GEOS MakeValid) or
 * skipped when invalid, and kept in flat coordinate arrays with the attributes styles
 * need, under a packed Hilbert R-tree. Generalised copies (GEOS topology-preserving
 * simplification) serve coarse resolutions. A loaded ts_store is immutable and may be
 * read by any number of threads at once; it is refcounted.
 *
 * Per-thread library handles (PJ_CONTEXT, GEOSContextHandle_t) live in a ts_source_ctx,
 * one per thread that loads or transforms; contexts are never shared. */
#ifndef TS_SOURCE_SOURCE_H
#define TS_SOURCE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "grid/grid.h"
#include "util/status.h"
#include "util/value.h"

typedef struct ts_source_ctx ts_source_ctx;

/* One per thread. Registers GDAL drivers on first use (process-wide, idempotent).
 * NULL with *err set on failure. */
ts_source_ctx *ts_source_ctx_new(ts_err *err);
/* NULL is accepted. */
void ts_source_ctx_free(ts_source_ctx *sc);

/* What to load. Strings are borrowed for the duration of ts_store_load only. */
typedef struct ts_store_def {
    const char *name;        /* tilesrv layer name, for messages */
    const char *path;        /* OGR datasource name (file path, or e.g. "PG:...") */
    const char *layer;       /* OGR layer name; NULL = the datasource's first layer */
    int layer_or_only;       /* 1: layer is a default (the tilesrv layer's name): a
                              * datasource of one layer by another name gives that one */
    const char *where;       /* OGR attribute filter (SQL WHERE), or NULL */
    const char *geometry;    /* geometry column (OGR geometry field) to read, or NULL = the
                              * first; a layer with several says which it took */
    const char *src_crs;     /* source CRS override ("EPSG:25832", WKT, PROJ string), or
                              * NULL = as the data declares it. With an override the
                              * data are taken as x = easting/longitude. */
    const char *dst_crs;     /* target CRS ("EPSG:3857", WKT, ...); NULL = the source CRS */
    const char *const *fields; /* attribute names to keep, NULL-terminated; NULL = all */
    int skip_missing_fields; /* 1: names in fields the layer lacks are left out; 0: such a
                              * name fails the load */
    const double *tolerances; /* generalisation tolerances in target units, ascending (each
                               * gives one extra level); may be NULL */
    int ntolerances;
    int data_said;           /* 1: what the load says of the data themselves (text encoding,
                              * longitudes, geometry collections) was said by another load of
                              * the same layer (into another CRS): not again */
} ts_store_def;

typedef struct ts_store ts_store;

typedef struct ts_store_stats {
    uint64_t read;            /* features read from the source */
    uint64_t kept;            /* features in the store */
    uint64_t repaired;        /* invalid geometries made valid */
    uint64_t skipped;         /* features dropped: empty, unrepairable, untransformable */
    uint64_t vertices;        /* at full detail */
    uint64_t bytes;           /* memory held by the store, approximate */
    double load_s;            /* wall time of the load */
} ts_store_stats;

/* Load a whole OGR layer into a new store (refs = 1). Errors name the source: a missing
 * or corrupt file, a missing layer or field, an unknown CRS give TS_ESOURCE with a clear
 * message and no store (bad tolerances: TS_EINVAL). Invalid geometries never fail the
 * load (see stats): polygons are repaired (GEOSMakeValid, polygonal part kept) or
 * skipped; empty, non-finite or untransformable geometries are skipped. Multi-geometries
 * keep their parts; a GeometryCollection keeps the members of its highest dimension;
 * curves are linearised, Z/M dropped. GDAL messages go to err or the log, never to
 * stderr directly. Runs on the calling thread with sc (one per thread). */
ts_status ts_store_load(ts_source_ctx *sc, const ts_store_def *def, ts_store **out, ts_err *err);

ts_store *ts_store_ref(ts_store *s);
/* Frees at zero. NULL is accepted. */
void ts_store_unref(ts_store *s);

const ts_store_stats *ts_store_stats_get(const ts_store *s);
uint32_t ts_store_count(const ts_store *s);
/* Extent of all features in the target CRS (empty store: all zero). */
ts_bbox ts_store_extent(const ts_store *s);

int ts_store_nfields(const ts_store *s);
const char *ts_store_field_name(const ts_store *s, int field);
/* Index of a kept attribute, or -1. */
int ts_store_field_index(const ts_store *s, const char *name);
/* The fields of the table the store was read from (all of them, kept or not; UTF-8): their
 * number (0 when unknown: a store built in memory) and names, for messages. */
int ts_store_source_nfields(const ts_store *s);
const char *ts_store_source_field(const ts_store *s, int i);
/* The name of the source table (OGR layer) the store was read from; "" when unknown. */
const char *ts_store_table(const ts_store *s);
/* Attribute value of a feature; borrowed, lives as s. field must be valid. */
const ts_value *ts_store_value(const ts_store *s, uint32_t fid, int field);

typedef enum { TS_GEOM_NONE = 0, TS_GEOM_POINT, TS_GEOM_LINE, TS_GEOM_POLYGON } ts_geom_kind;

/* A feature's geometry, borrowed from the store. Points: nparts points, counts all 1.
 * Lines: one part per linestring. Polygons: rings, each exterior ring (counter-clockwise
 * with y up) followed by its holes (clockwise); the first point is not repeated at the
 * end. kind NONE: the feature vanished at this level of generalisation. */
typedef struct ts_geom {
    ts_geom_kind kind;
    const double *xy;
    const uint32_t *counts;
    uint32_t nparts;
} ts_geom;

/* Twice the signed area of a ring (open, n points; relative to its first point, for
 * coordinates of millions); > 0 = counter-clockwise with y up (an exterior), < 0 a hole. */
double ts_geom_ring_area2(const double *xy, uint32_t n);

/* Number of detail levels (1 + ntolerances). Level 0 is full detail. */
int ts_store_nlevels(const ts_store *s);
/* The coarsest level whose tolerance is at most half a pixel at res (target units per
 * pixel; with a relative slack of 1e-9, so that res of a zoom computed from any bbox of it
 * picks the level whose tolerance is that zoom's half pixel),
 * so generalisation never moves a vertex visibly. Generalisation never makes a
 * feature vanish (see source/generalise.c): at worst it keeps more detail. */
int ts_store_level_for_res(const ts_store *s, double res);
void ts_store_geom(const ts_store *s, int level, uint32_t fid, ts_geom *out);
/* A hint that ts_store_geom(s, level, fid) will be called soon: starts loading the index
 * entries it reads, so a loop over many features can overlap their cache misses. No
 * effect on any result; fid may be out of range (then nothing happens). */
void ts_store_prefetch(const ts_store *s, int level, uint32_t fid);
/* Bounding box of a feature at full detail. */
ts_bbox ts_store_feature_bbox(const ts_store *s, uint32_t fid);

/* A growable list of feature ids. */
typedef struct ts_idvec {
    uint32_t *ids;
    size_t n, cap;
} ts_idvec;
void ts_idvec_fini(ts_idvec *v);

/* Replace v's contents with the ids of features whose bbox intersects q, in ascending id
 * (= source) order. TS_OK or TS_ENOMEM. Thread-safe (v is the caller's). */
ts_status ts_store_query(const ts_store *s, const ts_bbox *q, ts_idvec *v);

/* The id the data source gave feature fid (its OGR FID), or -1 when unknown (stores built
 * in memory, drivers without stable ids). Used to read all of a feature's attributes back
 * (ts_source_feature_attrs). */
int64_t ts_store_origin_id(const ts_store *s, uint32_t fid);

/* Build a store from features given in memory (the loader uses this; so do feeds and
 * tests). Coordinates are already in the target CRS. */
typedef struct ts_store_builder ts_store_builder;
ts_store_builder *ts_store_builder_new(const char *name, const char *const *field_names,
                                       int nfields, ts_err *err);
/* Add a feature; values has nfields entries (strings are copied and interned; values
 * NULL = all null). Points: every point becomes one part. Polygon rings are re-oriented
 * as ts_geom documents (ring 0 is an exterior; a later ring is a hole of the latest
 * exterior if it lies inside it, else a new exterior); closing points and consecutive
 * duplicates are removed and degenerate parts dropped — a feature left with none (or
 * kind NONE) is stored with kind NONE and never returned by queries. The builder does
 * not repair validity. TS_EINVAL (feature not added) for non-finite coordinates or
 * |coordinate| > 1e15; TS_ENOMEM. */
ts_status ts_store_builder_add(ts_store_builder *b, ts_geom_kind kind, const double *xy,
                               const uint32_t *counts, uint32_t nparts, const ts_value *values,
                               ts_err *err);
/* Finish: index the features and return the store (refs = 1); b is freed either way. */
ts_status ts_store_builder_finish(ts_store_builder *b, ts_store **out, ts_err *err);
/* Abandon a builder. NULL is accepted. */
void ts_store_builder_free(ts_store_builder *b);

/* Transform n points in place from src_crs to dst_crs (x = easting/longitude), for
 * callers that need coordinates outside a store (bboxes, WMS). TS_OK, or TS_EINVAL for an
 * unknown CRS or when a point cannot be transformed (those points are then HUGE_VAL).
 * Operations are cached in sc. */
ts_status ts_source_transform(ts_source_ctx *sc, const char *src_crs, const char *dst_crs,
                              double *xy, size_t n, ts_err *err);

/* ---- stand-alone transformations -----------------------------------------------------
 * A ts_source_xform transforms points between two CRSs (x = easting/longitude on both
 * sides, whatever the CRSs' axis order), with its own PROJ context: one thread uses it at a
 * time (a render worker keeps its own). */
typedef struct ts_source_xform ts_source_xform;

/* New transformation from src_crs to dst_crs ("EPSG:n", WKT, PROJ strings; "CRS:84" via
 * "OGC:CRS84"). NULL with *err (TS_EINVAL naming the CRS) when either is unknown or PROJ has
 * no operation between them. Equivalent CRSs give an identity. */
ts_source_xform *ts_source_xform_new(const char *src_crs, const char *dst_crs, ts_err *err);
/* NULL is accepted. */
void ts_source_xform_free(ts_source_xform *x);
/* 1 if the transformation changes nothing (equivalent CRSs). */
int ts_source_xform_identity(const ts_source_xform *x);
/* Transform n interleaved points in place, src -> dst, or dst -> src when inverse. Points
 * that cannot be transformed become HUGE_VAL; returns their number. */
size_t ts_source_xform_points(ts_source_xform *x, int inverse, double *xy, size_t n);
/* The box covering box in after transformation: its edges densified (32 points each) and a
 * grid of points inside, so curved edges are covered. 0 when no point could be transformed
 * (*out then all zero), else 1. */
int ts_source_xform_box(ts_source_xform *x, int inverse, const ts_bbox *in, ts_bbox *out);

/* ---- coverage polygons (seed and truncate --coverage) ---- */

/* The polygons of a vector layer as flat rings. Ring r has counts[r] points (>= 3, the
 * closing point not repeated), stored back to back in xy (x = easting/longitude), and
 * belongs to polygon poly[r]: an exterior ring and its holes share one number, each
 * polygon (each part of a multipolygon) has its own. Orientation and validity are as the
 * data have them (nothing is repaired). */
typedef struct ts_source_rings {
    double *xy;
    uint32_t *counts;
    uint32_t *poly;
    uint32_t nrings;
    uint32_t npolys;
    size_t npoints;
    uint64_t features;       /* features with a polygon read */
} ts_source_rings;

/* Read every polygon and multipolygon feature (curves linearised, other kinds ignored) of
 * layer `layer` (NULL = the first) of the OGR data source path, transformed from the
 * layer's CRS (EPSG:4326 when it declares none) into dst_crs. On failure *out is empty and
 * *err names path: TS_ENOENT when it cannot be opened or has no such layer; TS_EINVAL for
 * an unknown CRS, points that cannot be transformed, or a layer without polygons;
 * TS_ESOURCE when reading fails; TS_ENOMEM. Runs on the calling thread with sc. */
ts_status ts_source_read_rings(ts_source_ctx *sc, const char *path, const char *layer,
                               const char *dst_crs, ts_source_rings *out, ts_err *err);
/* Free the arrays; *r is left empty. NULL is accepted. */
void ts_source_rings_fini(ts_source_rings *r);

/* ---- all attributes of one feature (GetFeatureInfo) ---- */

/* Called once per attribute of the feature, in the layer's field order; strings are
 * borrowed for the call only. A non-zero return stops the walk. */
typedef int (*ts_source_attr_fn)(void *ud, const char *name, const ts_value *v);

/* Read feature id (see ts_store_origin_id) of OGR layer layer (NULL = the first; a source
 * of one layer by another name: that one, as layer_or_only loads it) of the data
 * source path, and hand every attribute to fn. Opens the data source for the call (slow
 * path: a few features per request). TS_ENOENT when the feature does not exist, TS_ESOURCE
 * when the source cannot be opened. Runs on the calling thread with sc. */
ts_status ts_source_feature_attrs(ts_source_ctx *sc, const char *path, const char *layer,
                                  int64_t id, ts_source_attr_fn fn, void *ud, ts_err *err);

/* ---- live PostGIS tables (queried per render) -----------------------------------------
 * A ts_pg_table is a PostGIS table read afresh for every render instead of loaded at
 * start: each call of ts_pg_table_fetch selects the features whose geometry's bbox meets a
 * box (`geom && ST_MakeEnvelope(...)`, a statement PREPAREd once per connection with the
 * box as its only parameters; table and column names come from the configuration and are
 * quoted as identifiers), and builds a store of them in the target CRS, repaired as
 * ts_store_load repairs. Each thread that fetches keeps one libpq connection per
 * connection string (opened at its first fetch, closed when the thread ends), with its own
 * PROJ and GEOS handles; a connection that failed is dropped and opened again by the next
 * fetch (a reused connection whose server went away is reopened and the query retried once
 * at once). Every answer is waited for at most the table's timeout + 2 s, whatever the
 * server does. A server that fails to connect or to answer is not tried again for a while
 * (1 s, doubling up to 10 s while it keeps failing), then by one thread at a time; the
 * other fetches fail at once (TS_ESOURCE) meanwhile. Every 30 s, and after every query
 * that found nothing, a fetch also checks that the geometry column still has the SRID it
 * had at open; while it does not (a table
 * re-imported in another CRS), fetches fail (TS_ESOURCE) until a reload. A ts_pg_table
 * is immutable after ts_pg_table_open (but for that check's time, atomic) and shared by
 * all threads. */
typedef struct ts_pg_table ts_pg_table;

/* What to open. Strings are borrowed for the call only. */
typedef struct ts_pg_def {
    const char *name;        /* tilesrv layer name, for messages */
    const char *conninfo;    /* "PG:host=... dbname=..." (OGR's form) or a libpq conninfo
                              * string (keyword=value, or a postgresql:// URI) */
    const char *table;       /* "schema.table" or "table" (the first in geometry_columns
                              * of that name, public preferred) */
    const char *where;       /* extra SQL condition (from the configuration only), or NULL */
    const char *geometry;    /* geometry column, or NULL = the first in geometry_columns */
    const char *src_crs;     /* CRS override, or NULL = "EPSG:<the column's SRID>" */
    const char *dst_crs;     /* target CRS of the stores fetched */
    const char *const *fields; /* columns to keep, NULL-terminated (NULL = none); matched
                              * without regard to case and kept under the names given here;
                              * names the table lacks are left out */
    int timeout_ms;          /* statement_timeout and connect timeout; <= 0: 10000 */
} ts_pg_def;

/* Connect once, read the table's geometry column, SRID, columns and extent, check the
 * query by preparing it, and disconnect. NULL with *err: TS_ESOURCE naming the table
 * (server unreachable, table or geometry column missing, unknown CRS, bad where). */
ts_pg_table *ts_pg_table_open(const ts_pg_def *def, ts_err *err);
/* NULL is accepted. Connections kept by threads are not affected. */
void ts_pg_table_free(ts_pg_table *t);
/* An empty store with the kept fields, in the order every fetched store has them (for
 * binding styles once). Borrowed, lives as t. */
ts_store *ts_pg_table_empty(const ts_pg_table *t);
/* Extent of the table at open, in the target CRS (all zero when empty or unknown). */
ts_bbox ts_pg_table_extent(const ts_pg_table *t);
/* Features counted at open. */
uint64_t ts_pg_table_count(const ts_pg_table *t);

/* The features whose bbox intersects box (target CRS) as a new store (refs = 1, fields as
 * ts_pg_table_empty; ts_store_origin_id = the table's integer primary key when it has a
 * one-column one, as OGR's PostgreSQL driver numbers features), on the calling thread's
 * connection. TS_ESOURCE with a message naming
 * the layer on any database error (unreachable, timeout, query failure); TS_ENOMEM. */
ts_status ts_pg_table_fetch(ts_pg_table *t, const ts_bbox *box, ts_store **out, ts_err *err);

/* Process-wide counts of fetches. */
typedef struct ts_pg_stats {
    uint64_t queries;        /* fetches that succeeded */
    uint64_t errors;         /* fetches that failed */
    uint64_t connects;       /* connections opened by fetches */
    uint64_t rows;           /* rows read */
    uint64_t query_ns;       /* time in fetches that succeeded */
} ts_pg_stats;
void ts_pg_stats_get(ts_pg_stats *out);
/* 1 when the latest fetch (of any table, by any thread) failed, with its message in buf
 * (len > 0); else 0 and buf "". */
int ts_pg_failing(char *buf, size_t len);
/* patient = 1 (a batch seed): a fetch that finds its server or table in back-off waits for
 * its next try (up to 2 minutes in all) instead of failing at once, so a database away for
 * a moment does not fail the rest of a seed's queue. Default 0 (a server answers its
 * clients now). Set before fetching. */
void ts_pg_set_patient(int patient);

#endif
