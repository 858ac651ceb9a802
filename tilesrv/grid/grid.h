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

#endif
