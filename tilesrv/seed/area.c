/* seed/area.c — what a seed or truncate covers: option parsing (bbox, zooms, shard, age),
 * bbox to tile ranges, and the pruned Hilbert walk over a level's metatiles. */
#include "seed/seed.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seed/seed_int.h"
#include "source/source.h"
#include "util/log.h"

#define MERC_MAX_LAT 85.0511287798066

/* ---- options ---------------------------------------------------------------------------- */

ts_status
ts_seed_parse_bbox(const char *s, ts_seed_area *a, ts_err *err)
{
    memset(a, 0, sizeof *a);
    snprintf(a->crs, sizeof a->crs, "EPSG:4326");
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(v) || (*end != ',' && (i < 3 || *end)))
            return TS_FAIL(err, TS_EINVAL,
                           "--bbox wants MINX,MINY,MAXX,MAXY[,EPSG:CODE], got '%.80s'", s);
        a->bbox[i] = v;
        p = end + (*end == ',');
        if (i == 3 && *end == ',') {
            if (strlen(p) == 0 || strlen(p) >= sizeof a->crs)
                return TS_FAIL(err, TS_EINVAL, "--bbox: bad CRS '%.40s'", p);
            /* AUTH:CODE, a URN or a PROJ string: PROJ would take a bare word as the name of
             * whatever CRS it resembles ("FOO" is Amersfoort) */
            if (strchr(p, ':') == NULL && strncmp(p, "+proj=", 6) != 0 &&
                strcasecmp(p, "WGS84") != 0)
                return TS_FAIL(err, TS_EINVAL,
                               "--bbox: CRS '%.40s' is not AUTH:CODE (e.g. EPSG:25832), a URN or "
                               "a +proj= string",
                               p);
            snprintf(a->crs, sizeof a->crs, "%s", p);
        }
    }
    if (!(a->bbox[0] < a->bbox[2]) || !(a->bbox[1] < a->bbox[3]))
        return TS_FAIL(err, TS_EINVAL, "--bbox: MINX must be below MAXX and MINY below MAXY");
    a->has_bbox = 1;
    return TS_OK;
}

static int
parse_uint(const char *s, char **end, long max, long *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    long v = strtol(s, end, 10);
    if (errno == ERANGE || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

ts_status
ts_seed_parse_zooms(const char *s, int *minz, int *maxz, ts_err *err)
{
    char *end;
    long a, b;
    if (parse_uint(s, &end, 31, &a) != 0)
        goto bad;
    b = a;
    if (*end == '-') {
        if (parse_uint(end + 1, &end, 31, &b) != 0)
            goto bad;
    }
    if (*end != '\0' || a > b)
        goto bad;
    *minz = (int)a;
    *maxz = (int)b;
    return TS_OK;
bad:
    return TS_FAIL(err, TS_EINVAL, "--zoom wants A-B (levels 0..31, A <= B) or A, got '%.40s'", s);
}

ts_status
ts_seed_parse_shard(const char *s, int *i, int *n, ts_err *err)
{
    char *end;
    long a, b;
    if (parse_uint(s, &end, 1000000, &a) != 0 || *end != '/' ||
        parse_uint(end + 1, &end, 1000000, &b) != 0 || *end != '\0' || b < 1 || a >= b)
        return TS_FAIL(err, TS_EINVAL, "--shard wants I/N with 0 <= I < N, got '%.40s'", s);
    *i = (int)a;
    *n = (int)b;
    return TS_OK;
}

ts_status
ts_seed_parse_age(const char *s, int64_t *seconds, ts_err *err)
{
    char *end;
    long v;
    if (parse_uint(s, &end, 1000000000L, &v) != 0)
        goto bad;
    int64_t mult = 1;
    if (*end) {
        switch (*end++) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        case 'w': mult = 7 * 86400; break;
        default: goto bad;
        }
        if (*end)
            goto bad;
    }
    *seconds = (int64_t)v * mult;
    return TS_OK;
bad:
    return TS_FAIL(err, TS_EINVAL,
                   "--older-than wants an age like 3600, 90m, 12h, 7d or 2w, got '%.40s'", s);
}

/* ---- areas ------------------------------------------------------------------------------ */

static int
is_lonlat(const char *crs)
{
    return strcasecmp(crs, "EPSG:4326") == 0 || strcasecmp(crs, "CRS:84") == 0 ||
           strcasecmp(crs, "OGC:CRS84") == 0 || strcasecmp(crs, "WGS84") == 0;
}

/* The EPSG code of "EPSG:nnnn" (900913 as 3857), or 0. */
static int
epsg_code(const char *crs)
{
    if (strncasecmp(crs, "EPSG:", 5) != 0)
        return 0;
    char *end;
    long v = strtol(crs + 5, &end, 10);
    if (end == crs + 5 || *end || v <= 0 || v > 999999)
        return 0;
    return v == 900913 ? 3857 : (int)v;
}

ts_status
ts_seed_area_to_grid(const ts_seed_area *a, const ts_grid *g, ts_bbox *out, ts_err *err)
{
    if (is_lonlat(a->crs) && g->epsg == 3857) {
        /* exact and clipped to the Web Mercator world (PROJ would give no point at +-90) */
        double lat0 = fmax(a->bbox[1], -MERC_MAX_LAT), lat1 = fmin(a->bbox[3], MERC_MAX_LAT);
        double lon0 = fmax(a->bbox[0], -180.0), lon1 = fmin(a->bbox[2], 180.0);
        if (!(lat0 < lat1) || !(lon0 < lon1))
            return TS_FAIL(err, TS_EINVAL, "--bbox lies outside the Web Mercator world");
        ts_grid_lonlat_to_mercator(lon0, lat0, &out->minx, &out->miny);
        ts_grid_lonlat_to_mercator(lon1, lat1, &out->maxx, &out->maxy);
        return TS_OK;
    }
    int code = epsg_code(a->crs);
    ts_bbox in = {a->bbox[0], a->bbox[1], a->bbox[2], a->bbox[3]};
    if (strcasecmp(a->crs, g->crs) == 0 || (code != 0 && code == g->epsg)) {
        *out = in;
        return TS_OK;
    }
    ts_err e2;
    ts_err_clear(&e2);
    const char *src = is_lonlat(a->crs) ? "OGC:CRS84" : a->crs;
    ts_source_xform *x = ts_source_xform_new(src, g->crs, &e2);
    if (x == NULL)
        return TS_FAIL(err, TS_EINVAL, "--bbox CRS %s: %s", a->crs, e2.msg);
    int ok = ts_source_xform_box(x, 0, &in, out);
    ts_source_xform_free(x);
    if (!ok || !(out->minx < out->maxx) || !(out->miny < out->maxy))
        return TS_FAIL(err, TS_EINVAL,
                       "--bbox cannot be transformed from %s into the grid's CRS %s", a->crs,
                       g->crs);
    return TS_OK;
}

ts_status
ts_seed__region_open(const ts_seed_area *a, const ts_grid *g, ts_seed__region *r, ts_err *err)
{
    memset(r, 0, sizeof *r);
    if (a->has_bbox) {
        TS_TRY(ts_seed_area_to_grid(a, g, &r->b, err));
        r->has_b = 1;
    }
    if (a->coverage == NULL)
        return TS_OK;
    r->cov = ts_seed_coverage_load(a->coverage, g, err);
    if (r->cov == NULL)
        return err && err->code != TS_OK ? err->code : TS_EINVAL;
    uint32_t nrings, npolys;
    size_t npoints;
    ts_seed_coverage_size(r->cov, &nrings, &npoints, &npolys);
    ts_info("coverage %s: %u polygons, %u rings, %zu points", a->coverage, npolys, nrings,
            npoints);
    ts_bbox cb = ts_seed_coverage_bbox(r->cov);
    if (r->has_b) {
        r->clip = r->b;
        r->has_clip = 1;
        r->b.minx = fmax(r->b.minx, cb.minx);
        r->b.miny = fmax(r->b.miny, cb.miny);
        r->b.maxx = fmin(r->b.maxx, cb.maxx);
        r->b.maxy = fmin(r->b.maxy, cb.maxy);
        if (!(r->b.minx <= r->b.maxx && r->b.miny <= r->b.maxy)) {
            ts_seed__region_close(r);
            return TS_FAIL(err, TS_EINVAL, "--bbox and --coverage %s do not overlap", a->coverage);
        }
    } else {
        r->b = cb;
        r->has_b = 1;
    }
    /* A coverage of no width (all rings on one line) still has tiles: widen by a hair so
     * ts_seed_tile_range sees a box. */
    if (r->b.maxx - r->b.minx < 1e-9)
        r->b.maxx = r->b.minx + 1e-9;
    if (r->b.maxy - r->b.miny < 1e-9)
        r->b.maxy = r->b.miny + 1e-9;
    return TS_OK;
}

void
ts_seed__region_close(ts_seed__region *r)
{
    ts_seed_coverage_free(r->cov);
    r->cov = NULL;
}

uint64_t
ts_seed__region_count(const ts_seed__region *r, const ts_grid *g, int z)
{
    uint32_t rg[4];
    if (!ts_seed_tile_range(g, z, &r->b, rg))
        return 0;
    return ts_seed_count_tiles(r->cov, g, z, rg, r->has_clip ? &r->clip : NULL);
}

int
ts_seed_tile_range(const ts_grid *g, int z, const ts_bbox *b, uint32_t r[4])
{
    if (z < 0 || z >= g->nlevels)
        return 0;
    const ts_tile_matrix *m = &g->levels[z];
    double tw = m->res * m->tile_w, th = m->res * m->tile_h;
    double fx0 = (b->minx - m->origin_x) / tw, fx1 = (b->maxx - m->origin_x) / tw;
    double fy0 = (m->origin_y - b->maxy) / th, fy1 = (m->origin_y - b->miny) / th;
    if (!(fx1 > 0) || !(fy1 > 0) || !(fx0 < m->matrix_w) || !(fy0 < m->matrix_h))
        return 0;
    /* A bbox edge on a tile edge does not pull in the next tile (1e-9 tile of slack). */
    double x0 = floor(fx0 + 1e-9), y0 = floor(fy0 + 1e-9);
    double x1 = ceil(fx1 - 1e-9) - 1, y1 = ceil(fy1 - 1e-9) - 1;
    x0 = fmax(x0, 0);
    y0 = fmax(y0, 0);
    x1 = fmin(x1, m->matrix_w - 1.0);
    y1 = fmin(y1, m->matrix_h - 1.0);
    if (x1 < x0)
        x1 = x0;
    if (y1 < y0)
        y1 = y0;
    r[0] = (uint32_t)x0;
    r[1] = (uint32_t)y0;
    r[2] = (uint32_t)x1;
    r[3] = (uint32_t)y1;
    return 1;
}

/* ---- Hilbert walk ----------------------------------------------------------------------- */

void
ts_seed_hilbert_xy(uint32_t order, uint64_t d, uint32_t *x, uint32_t *y)
{
    /* The inverse of ts_grid_hilbert: quadrant by quadrant from the smallest, undoing the
     * rotation of each. */
    uint32_t xx = 0, yy = 0;
    uint64_t t = d;
    for (uint32_t s = 1; s < order; s *= 2) {
        uint32_t rx = 1 & (uint32_t)(t / 2);
        uint32_t ry = 1 & (uint32_t)(t ^ rx);
        if (ry == 0) {
            if (rx == 1) {
                xx = s - 1 - xx;
                yy = s - 1 - yy;
            }
            uint32_t tmp = xx;
            xx = yy;
            yy = tmp;
        }
        xx += s * rx;
        yy += s * ry;
        t /= 4;
    }
    *x = xx;
    *y = yy;
}

static void
push(ts_seed_iter *it, uint64_t d, uint32_t size)
{
    it->stack[it->sp].d = d;
    it->stack[it->sp].size = size;
    it->sp++;
}

void
ts_seed_iter_init(ts_seed_iter *it, uint32_t order, uint32_t x0, uint32_t y0, uint32_t x1,
                  uint32_t y1, uint64_t from)
{
    memset(it, 0, sizeof *it);
    it->order = order;
    it->x0 = x0;
    it->y0 = y0;
    it->x1 = x1;
    it->y1 = y1;
    it->from = from;
    if (order >= 1 && x0 <= x1 && y0 <= y1 && x0 < order && y0 < order)
        push(it, 0, order);
}

void
ts_seed_iter_filter(ts_seed_iter *it,
                    int (*keep)(void *ud, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1),
                    void *ud)
{
    it->keep = keep;
    it->keep_ud = ud;
}

int
ts_seed_iter_next(ts_seed_iter *it, uint32_t *x, uint32_t *y, uint64_t *d)
{
    while (it->sp > 0) {
        it->sp--;
        uint64_t d0 = it->stack[it->sp].d;
        uint32_t size = it->stack[it->sp].size;
        uint64_t area = (uint64_t)size * size;
        if (d0 + area <= it->from)
            continue; /* done before (resume) */
        uint32_t cx, cy;
        ts_seed_hilbert_xy(it->order, d0, &cx, &cy);
        cx &= ~(size - 1);
        cy &= ~(size - 1);
        if (cx > it->x1 || cx + (size - 1) < it->x0 || cy > it->y1 || cy + (size - 1) < it->y0)
            continue; /* outside the rectangle */
        if (it->keep != NULL) {
            uint32_t kx1 = cx + (size - 1), ky1 = cy + (size - 1);
            if (!it->keep(it->keep_ud, cx > it->x0 ? cx : it->x0, cy > it->y0 ? cy : it->y0,
                          kx1 < it->x1 ? kx1 : it->x1, ky1 < it->y1 ? ky1 : it->y1))
                continue; /* pruned */
        }
        if (size == 1) {
            *x = cx;
            *y = cy;
            *d = d0;
            return 1;
        }
        /* The four quarters cover d0 + k * q .. in curve order; the first on top. */
        uint32_t half = size / 2;
        uint64_t q = (uint64_t)half * half;
        for (int k = 3; k >= 0; k--)
            push(it, d0 + (uint64_t)k * q, half);
    }
    return 0;
}

int
ts_seed_shard_of(uint64_t d, int n)
{
    return n <= 1 ? 0 : (int)((d / 16) % (uint64_t)n);
}
