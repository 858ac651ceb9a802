/* grid/grid.c — tile matrix sets and metatile math. */
#include "grid/grid.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WM_HALF 20037508.342789244 /* pi * 6378137 */

/* The AdV tile matrix sets DE_EPSG_25832_ADV and DE_EPSG_25833_ADV, as BKG serves them
 * (sgx.geodatenzentrum.de/wmts_basemapde/1.0.0/WMTSCapabilities.xml: 14 levels with the
 * zero-padded TileMatrix identifiers "00".."13", 256 px tiles) and as interactive
 * instruments publishes them in OGC TMS 2.0 JSON (ldproxy/xtraplatform-spatial,
 * xtraplatform-tiles/src/main/resources/tilematrixsets/AdV_25832.json and AdV_25833.json):
 *   TopLeftCorner   EPSG:25832  -46133.17 6301219.54
 *                   EPSG:25833  -464849.38 6310160.14
 *   level 00        ScaleDenominator 17471320.7508974 (cell size 4891.96981025128 m),
 *                   MatrixWidth = MatrixHeight = 1; each further level halves the scale and
 *                   doubles the matrix (level 13: 2132.72958384978, 8192 x 8192).
 * The scale denominators are those of WebMercatorQuad levels 5..18 (OGC 17-083r4). */
#define ADV_SCALE0 17471320.7508974
#define ADV_LEVELS 14

typedef struct builtin {
    ts_grid grid;
    int ok;
} builtin;

enum { B_WMQ, B_CRS84, B_ADV32, B_ADV33, NBUILTIN };
static builtin builtins[NBUILTIN];
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void
set_meta(ts_grid *g, const char *title, const char *uri)
{
    snprintf(g->title, sizeof g->title, "%s", title);
    snprintf(g->uri, sizeof g->uri, "%s", uri);
}

static void
builtin_init(void)
{
    ts_grid *g = &builtins[B_WMQ].grid;
    builtins[B_WMQ].ok =
        ts_grid_init_quad(g, "WebMercatorQuad", "EPSG:3857", -WM_HALF, WM_HALF, 2 * WM_HALF / 256.0,
                          256, 1, 1, 25, 0, 1.0, NULL) == TS_OK;
    set_meta(g, "Google Maps Compatible for the World",
             "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad");

    /* OGC 17-083r4 Annex D: level 0 is 2 x 1 tiles of 0.703125 degrees per pixel. */
    g = &builtins[B_CRS84].grid;
    builtins[B_CRS84].ok = ts_grid_init_quad(g, "WorldCRS84Quad", "CRS:84", -180.0, 90.0, 0.703125,
                                             256, 2, 1, 24, 0, TS_METERS_PER_DEGREE, NULL) == TS_OK;
    set_meta(g, "CRS84 for the World",
             "http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad");

    double res0 = ADV_SCALE0 * TS_STD_PIXEL_M; /* metres per pixel, 1 m per unit */
    g = &builtins[B_ADV32].grid;
    builtins[B_ADV32].ok =
        ts_grid_init_quad(g, "DE_EPSG_25832_ADV", "EPSG:25832", -46133.17, 6301219.54, res0, 256, 1,
                          1, ADV_LEVELS, 2, 1.0, NULL) == TS_OK;
    set_meta(g, "AdV tile matrix set, ETRS89 / UTM zone 32N (Germany)", "");
    g = &builtins[B_ADV33].grid;
    builtins[B_ADV33].ok =
        ts_grid_init_quad(g, "DE_EPSG_25833_ADV", "EPSG:25833", -464849.38, 6310160.14, res0, 256,
                          1, 1, ADV_LEVELS, 2, 1.0, NULL) == TS_OK;
    set_meta(g, "AdV tile matrix set, ETRS89 / UTM zone 33N (Germany)", "");
}

static const ts_grid *
builtin_get(int i)
{
    pthread_once(&builtin_once, builtin_init);
    return builtins[i].ok ? &builtins[i].grid : NULL;
}

const ts_grid *
ts_grid_webmercator_quad(void)
{
    return builtin_get(B_WMQ);
}

const ts_grid *
ts_grid_worldcrs84_quad(void)
{
    return builtin_get(B_CRS84);
}

int
ts_grid_builtin_count(void)
{
    return NBUILTIN;
}

const ts_grid *
ts_grid_builtin_at(int i)
{
    return i >= 0 && i < NBUILTIN ? builtin_get(i) : NULL;
}

const ts_grid *
ts_grid_builtin(const char *name)
{
    for (int i = 0; name && i < NBUILTIN; i++) {
        const ts_grid *g = builtin_get(i);
        if (g && strcmp(g->name, name) == 0)
            return g;
    }
    return NULL;
}

ts_status
ts_grid_init_quad(ts_grid *g, const char *name, const char *crs, double ox, double oy, double res0,
                  uint32_t tile_px, uint32_t mw0, uint32_t mh0, int nlevels, int id_width,
                  double meters_per_unit, ts_err *err)
{
    if (nlevels < 1 || nlevels > 32 || !(res0 > 0) || tile_px == 0 || tile_px > 4096 || mw0 == 0 ||
        mh0 == 0 || !(meters_per_unit > 0))
        return TS_FAIL(err, TS_EINVAL, "grid %s: bad parameters", name);
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    const ts_crs *known = ts_grid_crs_find(crs);
    snprintf(g->crs, sizeof g->crs, "%s", known ? known->id : crs);
    if (known) {
        g->epsg = known->epsg;
        snprintf(g->crs_uri, sizeof g->crs_uri, "%s", known->uri);
    } else if (strncmp(crs, "EPSG:", 5) == 0) {
        char *end;
        long code = strtol(crs + 5, &end, 10);
        g->epsg = (*end == '\0' && code > 0 && code < 1000000000) ? (int)code : 0;
    }
    if (g->epsg && g->crs_uri[0] == '\0')
        snprintf(g->crs_uri, sizeof g->crs_uri, "http://www.opengis.net/def/crs/EPSG/0/%d",
                 g->epsg);
    g->meters_per_unit = meters_per_unit;
    g->nlevels = nlevels;
    for (int z = 0; z < nlevels; z++) {
        ts_tile_matrix *m = &g->levels[z];
        if (id_width > 0)
            snprintf(m->id, sizeof m->id, "%0*d", id_width > 8 ? 8 : id_width, z);
        else
            snprintf(m->id, sizeof m->id, "%d", z);
        m->res = res0 / (double)(1u << z);
        m->scale_denom = m->res * meters_per_unit / TS_STD_PIXEL_M;
        m->origin_x = ox;
        m->origin_y = oy;
        m->tile_w = m->tile_h = tile_px;
        m->matrix_w = mw0 << z;
        m->matrix_h = mh0 << z;
    }
    g->extent.minx = ox;
    g->extent.maxy = oy;
    g->extent.maxx = ox + res0 * tile_px * mw0;
    g->extent.miny = oy - res0 * tile_px * mh0;
    return TS_OK;
}

int
ts_grid_tile_valid(const ts_grid *g, int z, uint32_t x, uint32_t y)
{
    if (z < 0 || z >= g->nlevels)
        return 0;
    return x < g->levels[z].matrix_w && y < g->levels[z].matrix_h;
}

ts_bbox
ts_grid_tile_bbox(const ts_grid *g, int z, uint32_t x, uint32_t y)
{
    const ts_tile_matrix *m = &g->levels[z];
    double w = m->res * m->tile_w, h = m->res * m->tile_h;
    ts_bbox b;
    b.minx = m->origin_x + x * w;
    b.maxx = m->origin_x + (x + 1.0) * w;
    b.maxy = m->origin_y - y * h;
    b.miny = m->origin_y - (y + 1.0) * h;
    return b;
}

int
ts_grid_level_for_res(const ts_grid *g, double res)
{
    int best = 0;
    double bestd = INFINITY;
    for (int z = 0; z < g->nlevels; z++) {
        double d = fabs(log(g->levels[z].res / res));
        if (d < bestd) {
            bestd = d;
            best = z;
        }
    }
    return best;
}

int
ts_grid_level_by_id(const ts_grid *g, const char *id)
{
    for (int z = 0; id && z < g->nlevels; z++)
        if (strcmp(g->levels[z].id, id) == 0)
            return z;
    return -1;
}

int
ts_grid_level_for_scale(const ts_grid *g, double scale_denom)
{
    int best = 0;
    double bestd = INFINITY;
    if (!(scale_denom > 0) || !isfinite(scale_denom))
        return 0;
    for (int z = 0; z < g->nlevels; z++) {
        double d = fabs(log(g->levels[z].scale_denom / scale_denom));
        if (d < bestd) {
            bestd = d;
            best = z;
        }
    }
    return best;
}

/* Column or row index of coordinate v on an axis starting at origin with tiles of span
 * (positive: grows with v), or -1 outside [0, n). */
static int64_t
axis_index(double v, double origin, double span, uint32_t n)
{
    double f = floor((v - origin) / span);
    if (!(f >= 0) || f >= (double)n)
        return -1;
    return (int64_t)f;
}

int
ts_grid_tile_at(const ts_grid *g, int z, double x, double y, uint32_t *col, uint32_t *row)
{
    if (z < 0 || z >= g->nlevels || !isfinite(x) || !isfinite(y))
        return 0;
    const ts_tile_matrix *m = &g->levels[z];
    int64_t c = axis_index(x, m->origin_x, m->res * m->tile_w, m->matrix_w);
    int64_t r = axis_index(-y, -m->origin_y, m->res * m->tile_h, m->matrix_h);
    if (c < 0 || r < 0)
        return 0;
    *col = (uint32_t)c;
    *row = (uint32_t)r;
    return 1;
}

/* Tiles are matched with a tolerance of 1e-9 tile so that a box computed from tile edges
 * (ts_grid_tile_bbox) maps back to exactly those tiles despite rounding. */
#define RANGE_EPS 1e-9

/* Clamp v to [0, n - 1]. */
static uint32_t
clamp_index(double v, uint32_t n)
{
    if (!(v > 0))
        return 0;
    if (v >= (double)n)
        return n - 1;
    return (uint32_t)v;
}

int
ts_grid_tile_range(const ts_grid *g, int z, ts_bbox b, uint32_t *col0, uint32_t *row0,
                   uint32_t *col1, uint32_t *row1)
{
    if (z < 0 || z >= g->nlevels || !(b.minx < b.maxx) || !(b.miny < b.maxy))
        return 0;
    const ts_tile_matrix *m = &g->levels[z];
    double w = m->res * m->tile_w, h = m->res * m->tile_h;
    /* positions in tile units from the origin, rows growing southwards */
    double x0 = (b.minx - m->origin_x) / w, x1 = (b.maxx - m->origin_x) / w;
    double y0 = (m->origin_y - b.maxy) / h, y1 = (m->origin_y - b.miny) / h;
    if (!(x1 > RANGE_EPS) || !(x0 < m->matrix_w - RANGE_EPS) || !(y1 > RANGE_EPS) ||
        !(y0 < m->matrix_h - RANGE_EPS))
        return 0;
    /* the right and lower edges are exclusive: a box ending on a tile edge stops before it */
    *col0 = clamp_index(floor(x0 + RANGE_EPS), m->matrix_w);
    *col1 = clamp_index(ceil(x1 - RANGE_EPS) - 1, m->matrix_w);
    *row0 = clamp_index(floor(y0 + RANGE_EPS), m->matrix_h);
    *row1 = clamp_index(ceil(y1 - RANGE_EPS) - 1, m->matrix_h);
    if (*col1 < *col0)
        *col1 = *col0;
    if (*row1 < *row0)
        *row1 = *row0;
    return 1;
}

ts_metatile
ts_grid_metatile(const ts_grid *g, int z, uint32_t x, uint32_t y, int meta, int buffer_px)
{
    const ts_tile_matrix *m = &g->levels[z];
    ts_metatile mt;
    if (meta < 1)
        meta = 1;
    mt.z = z;
    mt.x0 = x - x % (uint32_t)meta;
    mt.y0 = y - y % (uint32_t)meta;
    mt.nx = m->matrix_w - mt.x0 < (uint32_t)meta ? m->matrix_w - mt.x0 : (uint32_t)meta;
    mt.ny = m->matrix_h - mt.y0 < (uint32_t)meta ? m->matrix_h - mt.y0 : (uint32_t)meta;
    mt.buffer_px = buffer_px;
    mt.res = m->res;
    mt.width_px = (int)(mt.nx * m->tile_w) + 2 * buffer_px;
    mt.height_px = (int)(mt.ny * m->tile_h) + 2 * buffer_px;
    ts_bbox a = ts_grid_tile_bbox(g, z, mt.x0, mt.y0);
    double buf = buffer_px * m->res;
    mt.bbox.minx = a.minx - buf;
    mt.bbox.maxy = a.maxy + buf;
    mt.bbox.maxx = a.minx + mt.nx * m->tile_w * m->res + buf;
    mt.bbox.miny = a.maxy - mt.ny * m->tile_h * m->res - buf;
    return mt;
}

uint64_t
ts_grid_hilbert(uint32_t order, uint32_t x, uint32_t y)
{
    uint64_t d = 0;
    for (uint32_t s = order / 2; s > 0; s /= 2) {
        uint32_t rx = (x & s) > 0;
        uint32_t ry = (y & s) > 0;
        d += (uint64_t)s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = order - 1 - x;
                y = order - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

void
ts_grid_mercator_to_lonlat(double x, double y, double *lon, double *lat)
{
    const double r = 6378137.0;
    *lon = x / r * 180.0 / M_PI;
    *lat = atan(sinh(y / r)) * 180.0 / M_PI;
}

void
ts_grid_lonlat_to_mercator(double lon, double lat, double *x, double *y)
{
    const double r = 6378137.0;
    if (lat > 85.0511287798066)
        lat = 85.0511287798066;
    if (lat < -85.0511287798066)
        lat = -85.0511287798066;
    *x = lon * M_PI / 180.0 * r;
    *y = log(tan(M_PI / 4 + lat * M_PI / 360.0)) * r;
}
