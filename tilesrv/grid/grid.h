/* grid/grid.h — tile matrix sets (OGC 17-083r4 TileMatrixSet), tile <-> bbox math, and
 * metatiles. A ts_grid is immutable once built and may be shared by all threads. */
#ifndef TS_GRID_GRID_H
#define TS_GRID_GRID_H

#include <stdint.h>

#include "util/status.h"

/* Axis-aligned box in a CRS's easting/northing (x = easting). */
typedef struct ts_bbox {
    double minx, miny, maxx, maxy;
} ts_bbox;

/* OGC "standardized rendering pixel size": 0.28 mm. scale_denom = res_m / 0.00028. */
#define TS_STD_PIXEL_M 0.00028

typedef struct ts_tile_matrix {
    char id[16];          /* TileMatrix identifier ("0".."24", or "00".."13") */
    double scale_denom;   /* OGC scaleDenominator */
    double res;           /* cell size in CRS units per pixel */
    double origin_x;      /* pointOfOrigin: top-left corner */
    double origin_y;
    uint32_t tile_w, tile_h;     /* pixels */
    uint32_t matrix_w, matrix_h; /* tiles */
} ts_tile_matrix;

typedef struct ts_grid {
    char name[64];        /* TileMatrixSet identifier, e.g. "WebMercatorQuad" */
    char title[96];       /* human-readable title, "" when none */
    char uri[96];         /* OGC registry URI of a standard set, "" otherwise */
    char crs[64];         /* "EPSG:3857" */
    char crs_uri[96];     /* "http://www.opengis.net/def/crs/EPSG/0/3857" */
    int epsg;             /* 0 if the CRS is not an EPSG code */
    double meters_per_unit; /* 1 for projected metre CRSs; for degrees ~111319.49 */
    ts_bbox extent;       /* bounding box of level 0 */
    int nlevels;
    ts_tile_matrix levels[32];
} ts_grid;

/* The OGC WebMercatorQuad set (EPSG:3857), levels 0..24. Static, never freed. */
const ts_grid *ts_grid_webmercator_quad(void);

/* Fill *g as a quad-tree grid: level z has resolution res0 / 2^z, origin (ox, oy) top-left,
 * matrix (mw0 << z) x (mh0 << z) tiles of tile_px pixels. Identifiers are the level number,
 * zero-padded to id_width digits (0 = no padding). Returns TS_EINVAL for bad arguments. */
ts_status ts_grid_init_quad(ts_grid *g, const char *name, const char *crs, double ox, double oy,
                            double res0, uint32_t tile_px, uint32_t mw0, uint32_t mh0,
                            int nlevels, int id_width, double meters_per_unit, ts_err *err);

/* 1 if (z, x, y) is inside the grid (row y counted from the top), else 0. */
int ts_grid_tile_valid(const ts_grid *g, int z, uint32_t x, uint32_t y);

/* Extent of tile (z, x, y), outer pixel edges. The tile must be valid. */
ts_bbox ts_grid_tile_bbox(const ts_grid *g, int z, uint32_t x, uint32_t y);

/* Level whose resolution is nearest to res (in CRS units per pixel), clamped to the grid. */
int ts_grid_level_for_res(const ts_grid *g, double res);

/* A metatile: a block of up to meta x meta tiles rendered as one image, plus a buffer of
 * buffer_px pixels on every side. Blocks are aligned to multiples of meta and clipped
 * to the matrix. */
typedef struct ts_metatile {
    int z;
    uint32_t x0, y0;      /* first tile covered */
    uint32_t nx, ny;      /* tiles covered (<= meta) */
    int buffer_px;
    ts_bbox bbox;         /* including the buffer */
    int width_px, height_px; /* including the buffer: nx*tile_w + 2*buffer_px */
    double res;           /* units per pixel at scale factor 1 */
} ts_metatile;

/* The metatile holding tile (z, x, y). The tile must be valid; meta >= 1. */
ts_metatile ts_grid_metatile(const ts_grid *g, int z, uint32_t x, uint32_t y, int meta,
                             int buffer_px);

/* Index of the metatile holding (x, y) at level z, unique per level. */
static inline uint64_t
ts_grid_metatile_index(uint32_t x, uint32_t y, int meta)
{
    return ((uint64_t)(x / (uint32_t)meta) << 32) | (uint64_t)(y / (uint32_t)meta);
}

/* EPSG:3857 metres <-> WGS84 longitude/latitude degrees (spherical Mercator formulas). */
void ts_grid_mercator_to_lonlat(double x, double y, double *lon, double *lat);
void ts_grid_lonlat_to_mercator(double lon, double lat, double *x, double *y);

/* Position of (x, y) along a Hilbert curve of order 2^order per side. */
uint64_t ts_grid_hilbert(uint32_t order, uint32_t x, uint32_t y);

/* ---- built-in tile matrix sets ------------------------------------------------------
 * WebMercatorQuad and WorldCRS84Quad as OGC 17-083r4 (TileMatrixSet 2.0) registers them,
 * and the German AdV sets DE_EPSG_25832_ADV / DE_EPSG_25833_ADV as BKG publishes them
 * (identifiers "00".."13"). All are static, immutable and shared; never freed. */

/* The OGC WorldCRS84Quad set (OGC:CRS84, longitude/latitude), levels 0..23; level 0 is
 * 2 x 1 tiles of 0.703125 degrees per pixel. */
const ts_grid *ts_grid_worldcrs84_quad(void);

/* Number of built-in sets, and the i-th (0 = WebMercatorQuad); NULL past the end. */
int ts_grid_builtin_count(void);
const ts_grid *ts_grid_builtin_at(int i);
/* A built-in set by TileMatrixSet identifier (exact, case-sensitive), or NULL. */
const ts_grid *ts_grid_builtin(const char *name);

/* Level whose TileMatrix identifier is id ("07" in an AdV set, "7" in WebMercatorQuad), or
 * -1. Exact match: "7" does not find "07". */
int ts_grid_level_by_id(const ts_grid *g, const char *id);

/* Level whose scale denominator is nearest to scale_denom (compared in log space, so 1:3000
 * between 1:2000 and 1:4000 picks by ratio), clamped to the grid. For reusing cached tiles
 * for a WMS request of a given scale. */
int ts_grid_level_for_scale(const ts_grid *g, double scale_denom);

/* Tile (col, row) at level z that contains the point (x, y) in the set's CRS (x = easting or
 * longitude). Returns 1 and the tile when the point is inside the matrix, 0 otherwise.
 * Points on a shared edge belong to the tile right of / below the edge. */
int ts_grid_tile_at(const ts_grid *g, int z, double x, double y, uint32_t *col, uint32_t *row);

/* Range of tiles at level z that intersect box b (in the set's CRS, x = easting), clipped to
 * the matrix: columns [*col0, *col1], rows [*row0, *row1]. Returns 0 (and leaves the outputs
 * unspecified) when b misses the matrix or is empty. Used for TileMatrixSetLimits. */
int ts_grid_tile_range(const ts_grid *g, int z, ts_bbox b, uint32_t *col0, uint32_t *row0,
                       uint32_t *col1, uint32_t *row1);

/* ---- CRS registry -------------------------------------------------------------------
 * The coordinate reference systems the OWS services know, as plain data (PROJ is the
 * source module's business). Every entry says whether it is geographic and whether its
 * authority axis order puts north first: WMS 1.3.0 BBOX, WMTS TopLeftCorner, OGC API
 * pointOfOrigin and GML follow that order; WMS 1.1.1 and everything internal to tilesrv use
 * x = easting/longitude, y = northing/latitude.
 *
 * Axis order decisions (EPSG database as PROJ 9 reports it; every WMS 1.3.0 client checked
 * does the same: QGIS QgsCoordinateReferenceSystem::hasAxisInverted, GDAL's WMS driver via
 * EPSGTreatsAsLatLong/EPSGTreatsAsNorthingEasting, MapServer's msIsAxisInverted table,
 * OWSLib's axisorder_yx list, which holds 4258, 3044, 31466 and 31467):
 *   EPSG:4326, EPSG:4258           latitude, longitude           north first
 *   EPSG:3044 (ETRS89 / UTM 32N (N-E)) northing, easting         north first
 *   EPSG:31466, 31467 (Gauss-Krüger zones 2 and 3, X = northing)  north first
 *   EPSG:3857, 25832, 25833        easting, northing
 *   CRS:84 (OGC:CRS84)             longitude, latitude */

typedef struct ts_crs {
    const char *id;        /* canonical WMS name: "EPSG:25832", "CRS:84" */
    int epsg;              /* EPSG code, 0 for CRS:84 */
    const char *uri;       /* "http://www.opengis.net/def/crs/EPSG/0/25832" */
    const char *urn;       /* "urn:ogc:def:crs:EPSG::25832" (WMTS SupportedCRS) */
    const char *title;     /* "ETRS89 / UTM zone 32N" */
    int geographic;        /* 1: coordinates are degrees */
    int north_first;       /* 1: authority axis order is (north, east) */
    double meters_per_unit; /* 1, or 6378137 * 2 pi / 360 for degrees (OGC 17-083r4) */
    ts_bbox area_lonlat;   /* area of use, longitude/latitude degrees (EPSG) */
} ts_crs;

/* Metres per degree the OGC TileMatrixSet standard uses for scale denominators. */
#define TS_METERS_PER_DEGREE (6378137.0 * 2.0 * 3.14159265358979323846 / 360.0)

/* The registry entry for a CRS name, or NULL when unknown. Accepts, case-insensitively for
 * the prefixes: "EPSG:25832", "urn:ogc:def:crs:EPSG::25832" (also with a version between
 * the colons, "urn:ogc:def:crs:EPSG:6.3:25832", and "urn:x-ogc:..."),
 * "http(s)://www.opengis.net/def/crs/EPSG/0/25832",
 * "http://www.opengis.net/gml/srs/epsg.xml#25832", and for CRS:84 also "OGC:CRS84",
 * "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84",
 * "http(s)://www.opengis.net/def/crs/OGC/1.3/CRS84". Web Mercator's older codes (EPSG:900913,
 * 3785, 102100, 102113; ESRI:102100) are EPSG:3857. Thread-safe, no allocation. */
const ts_crs *ts_grid_crs_find(const char *name);
/* Number of registry entries, and the i-th in a fixed order; NULL past the end. */
int ts_grid_crs_count(void);
const ts_crs *ts_grid_crs_at(int i);
/* The registry entry of a grid's CRS, or NULL when the grid's CRS is not in the registry. */
const ts_crs *ts_grid_crs(const ts_grid *g);

/* Swap a box between tilesrv's internal order (x = easting/longitude) and the authority
 * order of crs (identity unless crs->north_first). The operation is its own inverse. */
ts_bbox ts_grid_crs_axis_box(const ts_crs *crs, ts_bbox b);

#endif
