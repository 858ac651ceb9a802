/* mvt/mvt.h — Mapbox Vector Tile 2.1 encoder: features in tile space → protobuf bytes.
 *
 * A ts_mvt_builder collects one tile: named layers, and in each layer features with an
 * optional id, typed attributes and a geometry given in tile units as doubles (0..extent,
 * y down; the caller maps its CRS onto the tile, see ts_mvt_transform). The builder clips
 * every geometry to [-buffer, extent + buffer] (points filtered, lines cut into parts by
 * Liang–Barsky, polygon rings by Sutherland–Hodgman), rounds to integers, drops consecutive
 * duplicate and collinear vertices, drops degenerate parts (lines under 2 points, rings under
 * 3 distinct points or of zero area), orients rings as MVT 2.1 demands (exterior rings of
 * positive area by the spec's surveyor's formula in tile coordinates, i.e. clockwise with y
 * down; holes negative; each exterior followed by its holes), and packs MoveTo/LineTo/
 * ClosePath commands with zigzag deltas. Keys and values are de-duplicated per layer.
 *
 * A feature is written only on ts_mvt_feature_commit(); an error in any feature call, or a
 * rollback, leaves no trace in the tile (vtzero's model). ts_mvt_finish() writes the tile;
 * when it would exceed the size limit, it drops the features of smallest footprint first
 * and re-encodes (keys and values only the dropped features used go too) — it never writes
 * a truncated tile — and reports what it dropped.
 *
 * No protobuf library: the varint / zigzag / length-delimited writer is in this module.
 * A builder is used by one thread at a time; builders are independent of each other. */
#ifndef TS_MVT_MVT_H
#define TS_MVT_MVT_H

#include <stddef.h>
#include <stdint.h>

#include "grid/grid.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/value.h"

/* Geometry types; the numbers are the spec's GeomType and equal source's ts_geom_kind
 * (TS_GEOM_POINT = 1, TS_GEOM_LINE = 2, TS_GEOM_POLYGON = 3), so a kind may be cast. */
typedef enum {
    TS_MVT_POINT = 1,
    TS_MVT_LINE = 2,
    TS_MVT_POLYGON = 3,
} ts_mvt_geom_type;

/* Attribute value types, written as the spec's Value fields: STRING string_value, INT
 * int_value (sint_value when negative: 1-2 bytes instead of 10), UINT uint_value, DOUBLE
 * double_value, FLOAT float_value, BOOL bool_value. */
typedef enum {
    TS_MVT_STRING = 1,
    TS_MVT_INT,
    TS_MVT_UINT,
    TS_MVT_DOUBLE,
    TS_MVT_FLOAT,
    TS_MVT_BOOL,
} ts_mvt_value_type;

typedef struct ts_mvt_value {
    ts_mvt_value_type type;
    union {
        struct {
            const char *p; /* borrowed for the call; need not be NUL-terminated */
            size_t len;
        } s;
        int64_t i;
        uint64_t u;
        double d; /* DOUBLE and FLOAT */
        int b;    /* BOOL: 0 or 1 */
    } v;
} ts_mvt_value;

/* Builder options; zero fields take the defaults. */
typedef struct ts_mvt_opts {
    uint32_t extent;       /* tile width in integer units; 0 = 4096; at most 1 << 24 */
    uint32_t buffer;       /* units kept outside every edge; 0 = extent / 16 (16 px of 256) */
    int no_buffer;         /* 1: buffer 0 (clip at the tile edge) */
    size_t max_bytes;      /* size limit of the finished tile; 0 = 500 000 */
    size_t max_work_bytes; /* limit on memory held for one tile; 0 = max(256 MiB,
                            * 16 x max_bytes) */
} ts_mvt_opts;

typedef struct ts_mvt_builder ts_mvt_builder;

/* New empty builder (o may be NULL = defaults). NULL with *err: TS_EINVAL for an extent of
 * 0 after defaults or > 1 << 24, or a buffer > extent * 8; TS_ENOMEM. Free with
 * ts_mvt_builder_free. */
ts_mvt_builder *ts_mvt_builder_new(const ts_mvt_opts *o, ts_err *err);
/* NULL is accepted. */
void ts_mvt_builder_free(ts_mvt_builder *b);
/* Forget all layers and features (an open feature too) and keep the memory, to build the
 * next tile with the same options. */
void ts_mvt_builder_reset(ts_mvt_builder *b);
/* The options in force (defaults filled in). */
const ts_mvt_opts *ts_mvt_builder_opts(const ts_mvt_builder *b);

/* Add a layer named name (copied; 1..255 bytes). Returns its index (0, 1, ...) or -1 with
 * *err: TS_EINVAL for an empty, over-long or duplicate name (the spec forbids two layers of
 * one name), TS_ENOMEM. Layers are written in this order; a layer that ends up without
 * features is left out of the tile. */
int ts_mvt_layer_add(ts_mvt_builder *b, const char *name, ts_err *err);
/* Index of the layer named name, or -1. */
int ts_mvt_layer_find(const ts_mvt_builder *b, const char *name);

/* ---- features: begin, then id/attributes/geometry in any order, then commit ----------
 * Only one feature is open at a time. Every call below that fails (returns other than
 * TS_OK) rolls the open feature back first: nothing of it stays in the tile, its keys and
 * values included, and the builder stays usable for the next feature. */

/* Open a feature of type type in layer layer. TS_EINVAL if a feature is already open (it is
 * rolled back), layer is no index from ts_mvt_layer_add, or type is unknown. */
ts_status ts_mvt_feature_begin(ts_mvt_builder *b, int layer, ts_mvt_geom_type type, ts_err *err);
/* Give the open feature an id (the spec says ids SHOULD be unique in a layer: the caller's
 * duty). Without this call the feature has no id field. */
ts_status ts_mvt_feature_set_id(ts_mvt_builder *b, uint64_t id, ts_err *err);
/* Attribute key = v (key is a NUL-terminated string, copied). TS_EINVAL when the feature
 * already has key (the spec wants each key once per feature), for an empty key, an unknown
 * type, or a string over 1 MiB; TS_ENOMEM; TS_ELIMIT past max_work_bytes. */
ts_status ts_mvt_feature_attr(ts_mvt_builder *b, const char *key, const ts_mvt_value *v,
                              ts_err *err);
/* The same from a util ts_value (as the feature store holds them): NULL values add nothing,
 * INT → INT, REAL → DOUBLE, STR → STRING, BOOL → BOOL. */
ts_status ts_mvt_feature_attr_value(ts_mvt_builder *b, const char *key, const ts_value *v,
                                    ts_err *err);

/* Geometry, in tile units (doubles; x right, y down, 0..extent is the tile). A POINT feature
 * takes points, a LINE feature linestrings, a POLYGON feature rings — each call adds one
 * part; the type must match the feature's (else TS_EINVAL). Non-finite coordinates or any
 * |coordinate| > 1e15 give TS_EINVAL. Clipping and rounding happen in the call; parts that
 * vanish are dropped silently.
 *
 * Rings: n points, a closing point equal to the first is optional. exterior = 1 starts a
 * new polygon, 0 adds a hole to the latest exterior (TS_EINVAL if there is none). Either
 * orientation is accepted: rings are re-oriented to the spec's. A polygon whose exterior
 * vanishes loses its holes with it; one whose holes cover its exterior is dropped. */
ts_status ts_mvt_feature_points(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err);
ts_status ts_mvt_feature_line(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err);
ts_status ts_mvt_feature_ring(ts_mvt_builder *b, const double *xy, size_t n, int exterior,
                              ts_err *err);

/* Close the open feature. With geometry left after clipping it is stored (*kept = 1);
 * without (clipped away, or all parts degenerate) it is discarded without trace and counted
 * as empty (*kept = 0, TS_OK). A feature whose encoding alone is larger than max_bytes can
 * never be in the tile: discarded and counted as oversize (*kept = 0, TS_OK). Errors:
 * TS_EINVAL when no feature is open, TS_ENOMEM, TS_ELIMIT past max_work_bytes (all roll
 * back). kept may be NULL. */
ts_status ts_mvt_feature_commit(ts_mvt_builder *b, int *kept, ts_err *err);
/* Discard the open feature (no-op when none is open). */
void ts_mvt_feature_rollback(ts_mvt_builder *b);

/* ---- map → tile transformation, and the one-call feature recipe ------------------------ */

/* tile x = (map x - ox) * sx, tile y = (oy - map y) * sy: map units (y up) to tile units
 * (y down). */
typedef struct ts_mvt_transform {
    double ox, oy; /* map coordinates of the tile's top-left corner */
    double sx, sy; /* tile units per map unit */
} ts_mvt_transform;

/* The transformation putting tile_bbox (map units, e.g. ts_grid_tile_bbox) onto
 * 0..extent. */
ts_mvt_transform ts_mvt_transform_for(const ts_bbox *tile_bbox, uint32_t extent);
/* tile_bbox grown by buffer tile units on every side: the map box whose features can show
 * in the tile (query the store with it). */
ts_bbox ts_mvt_query_bbox(const ts_bbox *tile_bbox, uint32_t extent, uint32_t buffer);

/* Add a geometry in map coordinates to the open feature, as the feature store holds it
 * (source/source.h ts_geom: kind, flat xy, counts per part, nparts): kind must equal the
 * feature's type. Points: every point of every part. Lines: one linestring per part.
 * Polygons: part 0 is an exterior; a later part is an exterior when its orientation (map
 * space) equals part 0's, else a hole of the latest exterior — the store's convention
 * (exteriors counter-clockwise, holes clockwise, y up) and its reverse both work. Errors as
 * the ts_mvt_feature_* geometry calls (the feature is rolled back). */
ts_status ts_mvt_add_geom(ts_mvt_builder *b, ts_mvt_geom_type kind, const double *xy,
                          const uint32_t *counts, uint32_t nparts, const ts_mvt_transform *t,
                          ts_err *err);

/* One feature in one call: begin, id (when has_id), the nattrs attributes keys[i] =
 * values[i] (NULL values skipped), ts_mvt_add_geom, commit. *kept as for commit. This is
 * the recipe for a store feature:
 *
 *     ts_geom g; ts_store_geom(st, level, fid, &g);
 *     ts_mvt_add_feature(b, layer, (ts_mvt_geom_type)g.kind, g.xy, g.counts, g.nparts, &t,
 *                        1, (uint64_t)fid, names, vals, nf, &kept, &err);
 *
 * with vals[i] = *ts_store_value(st, fid, field_i). Kind NONE (0) adds nothing (TS_OK,
 * *kept = 0). */
ts_status ts_mvt_add_feature(ts_mvt_builder *b, int layer, ts_mvt_geom_type kind, const double *xy,
                             const uint32_t *counts, uint32_t nparts, const ts_mvt_transform *t,
                             int has_id, uint64_t id, const char *const *keys,
                             const ts_value *values, int nattrs, int *kept, ts_err *err);

/* ---- finishing --------------------------------------------------------------------- */

/* What ts_mvt_finish wrote and dropped. Footprints are in tile units²: a polygon its area,
 * a line its length times one pixel (extent / 256 units), a point one pixel²; parts
 * summed. */
typedef struct ts_mvt_report {
    size_t bytes;           /* size of the tile written */
    size_t bytes_unlimited; /* size it would have had without the limit */
    uint32_t layers;        /* layers written (layers without features are left out) */
    uint32_t features;      /* features written */
    uint32_t empty;         /* committed features discarded: no geometry left after clipping */
    uint32_t oversize;      /* committed features discarded: alone larger than max_bytes */
    uint32_t dropped;       /* features dropped by ts_mvt_finish to meet max_bytes */
    double dropped_max_footprint; /* largest footprint among those, 0 when none */
} ts_mvt_report;

/* Append the tile to out (out->len grows by rep->bytes). Layers in the order added, each:
 * version 2, name, features in commit order, keys, values, extent. A tile without features
 * is 0 bytes (a valid empty Tile message). When the tile would exceed max_bytes, features
 * are dropped smallest footprint first (ties: the later-committed first), the fewest that
 * make it fit, then keys and values are re-numbered without those only the dropped used:
 * the tile written is complete and at most max_bytes. The builder is unchanged (finish may
 * be called again). TS_OK; TS_ENOMEM / TS_ELIMIT from out (out's contents are then freed,
 * as ts_buf does); TS_EINVAL while a feature is open. rep may be NULL. */
ts_status ts_mvt_finish(ts_mvt_builder *b, ts_buf *out, ts_mvt_report *rep, ts_err *err);
/* After ts_mvt_finish: 1 if the index-th committed feature of layer (0-based, commit order,
 * empty and oversize ones not counted) was dropped for size, else 0. */
int ts_mvt_feature_dropped(const ts_mvt_builder *b, int layer, uint32_t index);
/* Committed (stored) features of a layer so far; 0 for a bad index. */
uint32_t ts_mvt_layer_count(const ts_mvt_builder *b, int layer);

/* ---- checking and compression ----------------------------------------------------------- */

/* What ts_mvt_validate found. */
typedef struct ts_mvt_info {
    uint32_t layers;
    uint32_t features;
    uint32_t points, lines, polygons; /* features by type */
    uint32_t parts;                   /* points, linestrings and rings */
    uint64_t vertices;
    uint32_t keys, values;          /* summed over layers */
    int32_t minx, miny, maxx, maxy; /* vertex bounds (all zero when no vertex) */
} ts_mvt_info;

/* Check that data[0..len) is a valid MVT 2.1 tile: protobuf well-formed; every layer has
 * version 2 (first), a unique non-empty name, an extent > 0, at least one feature; keys are
 * unique strings; each value holds exactly one field; features have a known type, an even
 * number of tags within the key/value tables with no key twice, and a geometry whose
 * command sequence matches the type (points: one MoveTo of count > 0; lines: MoveTo(1)
 * LineTo(n > 0) repeated; polygons: MoveTo(1) LineTo(n > 1) ClosePath(1) repeated, the first
 * ring of positive area, no ring of zero area, no ring closing on its first point), no
 * zero-length LineTo, and coordinates within [-buffer, extent + buffer] of the layer's
 * extent when buffer >= 0 (buffer < 0: no bound). Unknown fields of valid wire type are
 * skipped (the spec's extensions). TS_OK and *info (may be NULL), or TS_EINVAL with the
 * first fault (byte offset, layer, feature) in *err. Pure; any thread. */
ts_status ts_mvt_validate(const uint8_t *data, size_t len, int64_t buffer, ts_mvt_info *info,
                          ts_err *err);

/* gzip (RFC 1952: deflate with a gzip header, by libdeflate) data[0..len) at level (-1 = zlib's
 * default, 0..9), appended to out, for Content-Encoding: gzip and MBTiles tiles. TS_OK;
 * TS_ENOMEM / TS_ELIMIT (out freed, as ts_buf does); TS_EINVAL for a bad level. */
ts_status ts_mvt_gzip(const uint8_t *data, size_t len, int level, ts_buf *out, ts_err *err);
/* Inflate a gzip (or zlib) stream appended to out, at most out->max bytes: for serving a
 * tile stored compressed to a client that does not accept gzip. TS_EINVAL for corrupt or
 * truncated input, TS_ELIMIT when the output would pass out->max. */
ts_status ts_mvt_gunzip(const uint8_t *data, size_t len, ts_buf *out, ts_err *err);
/* 1 when data starts with the gzip magic bytes 1f 8b. */
int ts_mvt_is_gzip(const uint8_t *data, size_t len);

#endif
