/* ows/ows.h — pure parsers and writers for the tile protocols (XYZ, TMS, TileJSON; WMS and
 * WMTS join here later). No sockets, no rendering: every function maps bytes to a struct or
 * a struct to bytes, so unit tests and fuzzers reach them directly. */
#ifndef TS_OWS_OWS_H
#define TS_OWS_OWS_H

#include <stddef.h>
#include <stdint.h>

#include "grid/grid.h"
#include "util/buf.h"
#include "util/status.h"

#define TS_NAME_MAX 128

typedef enum { TS_FMT_PNG = 0, TS_FMT_MVT } ts_tile_format;

/* A parsed tile URL. */
typedef struct ts_xyz_req {
    char tileset[TS_NAME_MAX];
    int z;
    uint32_t x, y;              /* XYZ numbering: y = 0 at the north */
    int scale;                  /* 1, or 2 for "@2x" */
    ts_tile_format format;
} ts_xyz_req;

/* Parse the part of an XYZ URL after "/tiles/": "{tileset}/{z}/{x}/{y}[@2x].{png|mvt|pbf}".
 * Numbers must be plain decimal digits (no sign, no spaces, at most 10 digits) with z in
 * 0..30; the tileset name [A-Za-z0-9_.,-]+. TS_EINVAL for malformed numbers or scale,
 * TS_ENOENT for a path of the wrong shape or an unknown extension. Grid range checks are
 * the caller's (it knows the grid). */
ts_status ts_ows_parse_xyz(const char *path, ts_xyz_req *out, ts_err *err);

/* Parse the part of a TMS URL after "/tms/1.0.0/": same as XYZ but y counted from the
 * south; *out gets y converted to XYZ numbering for a grid of matrix height 2^z. */
ts_status ts_ows_parse_tms(const char *path, ts_xyz_req *out, ts_err *err);

/* What TileJSON needs to know about a tileset. */
typedef struct ts_tilejson_info {
    const char *name;
    const char *title;
    const char *attribution;    /* may be NULL */
    const char *base_url;       /* "http://127.0.0.1:8080" (no trailing slash) */
    const char *ext;            /* "png" */
    int minzoom, maxzoom;
    ts_bbox bounds_lonlat;      /* WGS84 longitude/latitude */
    int has_bounds;
} ts_tilejson_info;

/* Append a TileJSON 3.0.0 document for the tileset to out. Strings are JSON-escaped. */
ts_status ts_ows_write_tilejson(const ts_tilejson_info *ti, ts_buf *out);

/* Append s to out with JSON string escaping (no surrounding quotes). */
ts_status ts_ows_json_escape(ts_buf *out, const char *s);

#endif
