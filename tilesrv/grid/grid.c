/* grid/grid.c — tile matrix sets and metatile math. */
#include "grid/grid.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WM_HALF 20037508.342789244 /* pi * 6378137 */

static ts_grid wm_quad;
static pthread_once_t wm_once = PTHREAD_ONCE_INIT;

static void
wm_init(void)
{
    ts_grid_init_quad(&wm_quad, "WebMercatorQuad", "EPSG:3857", -WM_HALF, WM_HALF,
                      2 * WM_HALF / 256.0, 256, 1, 1, 25, 0, 1.0, NULL);
}

const ts_grid *
ts_grid_webmercator_quad(void)
{
    pthread_once(&wm_once, wm_init);
    return &wm_quad;
}

ts_status
ts_grid_init_quad(ts_grid *g, const char *name, const char *crs, double ox, double oy,
                  double res0, uint32_t tile_px, uint32_t mw0, uint32_t mh0, int nlevels,
                  int id_width, double meters_per_unit, ts_err *err)
{
    if (nlevels < 1 || nlevels > 32 || !(res0 > 0) || tile_px == 0 || tile_px > 4096 ||
        mw0 == 0 || mh0 == 0 || !(meters_per_unit > 0))
        return TS_FAIL(err, TS_EINVAL, "grid %s: bad parameters", name);
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->crs, sizeof g->crs, "%s", crs);
    if (strncmp(crs, "EPSG:", 5) == 0) {
        char *end;
        long code = strtol(crs + 5, &end, 10);
        g->epsg = (*end == '\0' && code > 0) ? (int)code : 0;
    }
    if (g->epsg)
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
