/* seed/coverage.c — seeding and truncating by polygons: rings in the grid's CRS, tested
 * against rectangles (metatiles, tiles, quad-tree blocks of tiles).
 *
 * The test is geometric and works on raw rings, so invalid input (self-intersections,
 * overlapping polygons) gives sensible answers and never fails: a rectangle meets the
 * coverage when some ring edge meets it (Liang-Barsky clipping of the segment, which also
 * catches a vertex inside), or, failing that, when its centre is inside some polygon by the
 * even-odd rule over that polygon's rings (with no edge inside the rectangle, the whole
 * rectangle is then inside). Polygons are united: overlapping features do not cancel.
 *
 * Speed: bboxes per polygon, per ring and per chunk of 32 edges prune both tests, so a
 * test costs a few bbox comparisons plus the edges near the rectangle. */
#include "seed/seed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source/source.h"
#include "util/hash.h"

#define CHUNK 32 /* edges per chunk */

typedef struct chunk {
    ts_bbox b;
    uint32_t e0, n; /* edges e0 .. e0 + n - 1 of its ring */
} chunk;

typedef struct ring {
    ts_bbox b;
    uint32_t start, n;      /* points xy[start .. start + n) */
    uint32_t chunk0, nchunks;
} ring;

typedef struct poly {
    ts_bbox b;
    uint32_t ring0, nrings;
} poly;

struct ts_seed_coverage {
    double *xy;
    ring *rings;
    chunk *chunks;
    poly *polys;
    uint32_t nrings, nchunks, npolys;
    size_t npoints;
    ts_bbox b;
    uint64_t id;
};

static int
overlaps(const ts_bbox *a, const ts_bbox *b)
{
    return a->minx <= b->maxx && b->minx <= a->maxx && a->miny <= b->maxy && b->miny <= a->maxy;
}

static void
bbox_add(ts_bbox *b, double x, double y, int first)
{
    if (first) {
        *b = (ts_bbox){x, y, x, y};
        return;
    }
    b->minx = x < b->minx ? x : b->minx;
    b->maxx = x > b->maxx ? x : b->maxx;
    b->miny = y < b->miny ? y : b->miny;
    b->maxy = y > b->maxy ? y : b->maxy;
}

static void
bbox_union(ts_bbox *b, const ts_bbox *o, int first)
{
    bbox_add(b, o->minx, o->miny, first);
    bbox_add(b, o->maxx, o->maxy, 0);
}

ts_seed_coverage *
ts_seed_coverage_new(const double *xy, const uint32_t *counts, const uint32_t *polyno,
                     uint32_t nrings, ts_err *err)
{
    size_t total = 0;
    for (uint32_t r = 0; r < nrings; r++)
        total += counts[r];
    for (size_t i = 0; i < 2 * total; i++)
        if (!isfinite(xy[i])) {
            TS_FAIL(err, TS_EINVAL, "coverage: non-finite coordinate");
            return NULL;
        }
    ts_seed_coverage *c = calloc(1, sizeof *c);
    size_t maxchunks = total / CHUNK + nrings + 1;
    if (c == NULL || (c->xy = malloc((total + 1) * 2 * sizeof *c->xy)) == NULL ||
        (c->rings = calloc((size_t)nrings + 1, sizeof *c->rings)) == NULL ||
        (c->polys = calloc((size_t)nrings + 1, sizeof *c->polys)) == NULL ||
        (c->chunks = calloc(maxchunks, sizeof *c->chunks)) == NULL) {
        ts_seed_coverage_free(c);
        TS_FAIL(err, TS_ENOMEM, "coverage");
        return NULL;
    }
    const double *p = xy;
    uint32_t last_poly = 0;
    for (uint32_t r = 0; r < nrings; p += 2 * (size_t)counts[r], r++) {
        /* copy without consecutive duplicates and the closing point */
        double *dst = c->xy + 2 * c->npoints;
        uint32_t k = 0;
        for (uint32_t i = 0; i < counts[r]; i++) {
            if (k > 0 && dst[2 * k - 2] == p[2 * i] && dst[2 * k - 1] == p[2 * i + 1])
                continue;
            dst[2 * k] = p[2 * i];
            dst[2 * k + 1] = p[2 * i + 1];
            k++;
        }
        while (k > 1 && dst[0] == dst[2 * k - 2] && dst[1] == dst[2 * k - 1])
            k--;
        if (k < 3)
            continue;
        uint32_t pn = polyno ? polyno[r] : r;
        if (c->nrings == 0 || pn != last_poly) {
            poly *pl = &c->polys[c->npolys++];
            pl->ring0 = c->nrings;
        }
        last_poly = pn;
        ring *rg = &c->rings[c->nrings];
        rg->start = (uint32_t)c->npoints;
        rg->n = k;
        rg->chunk0 = c->nchunks;
        for (uint32_t e0 = 0; e0 < k; e0 += CHUNK) {
            chunk *ch = &c->chunks[c->nchunks++];
            ch->e0 = e0;
            ch->n = k - e0 < CHUNK ? k - e0 : CHUNK;
            for (uint32_t e = 0; e <= ch->n; e++) { /* the edges' both ends */
                uint32_t v = (e0 + e) % k;
                bbox_add(&ch->b, dst[2 * v], dst[2 * v + 1], e == 0);
            }
            bbox_union(&rg->b, &ch->b, e0 == 0);
        }
        rg->nchunks = c->nchunks - rg->chunk0;
        poly *pl = &c->polys[c->npolys - 1];
        bbox_union(&pl->b, &rg->b, pl->nrings == 0);
        pl->nrings++;
        bbox_union(&c->b, &rg->b, c->nrings == 0);
        c->nrings++;
        c->npoints += k;
    }
    if (c->nrings == 0) {
        ts_seed_coverage_free(c);
        TS_FAIL(err, TS_EINVAL, "coverage: no ring of 3 or more distinct points");
        return NULL;
    }
    uint64_t h = TS_HASH_SEED;
    h = ts_hash_bytes(h, c->xy, c->npoints * 2 * sizeof *c->xy);
    for (uint32_t r = 0; r < c->nrings; r++)
        h = ts_hash_bytes(h, &c->rings[r].n, sizeof c->rings[r].n);
    for (uint32_t i = 0; i < c->npolys; i++)
        h = ts_hash_bytes(h, &c->polys[i].nrings, sizeof c->polys[i].nrings);
    c->id = ts_hash_mix(h);
    return c;
}

void
ts_seed_coverage_free(ts_seed_coverage *c)
{
    if (c == NULL)
        return;
    free(c->xy);
    free(c->rings);
    free(c->chunks);
    free(c->polys);
    free(c);
}

ts_bbox
ts_seed_coverage_bbox(const ts_seed_coverage *c)
{
    return c->b;
}

uint64_t
ts_seed_coverage_id(const ts_seed_coverage *c)
{
    return c->id;
}

void
ts_seed_coverage_size(const ts_seed_coverage *c, uint32_t *nrings, size_t *npoints,
                      uint32_t *npolys)
{
    *nrings = c->nrings;
    *npoints = c->npoints;
    *npolys = c->npolys;
}

ts_seed_coverage *
ts_seed_coverage_load(const char *spec, const ts_grid *g, ts_err *err)
{
    char path[1024];
    const char *layer = NULL;
    struct stat sb;
    if (spec == NULL || spec[0] == '\0' || strlen(spec) >= sizeof path) {
        TS_FAIL(err, TS_EINVAL, "--coverage wants FILE[:LAYER]");
        return NULL;
    }
    memcpy(path, spec, strlen(spec) + 1);
    if (stat(spec, &sb) != 0) {
        char *colon = strrchr(path, ':');
        if (colon != NULL && colon != path && colon[1] != '\0') {
            *colon = '\0';
            if (stat(path, &sb) == 0)
                layer = colon + 1;
            else
                *colon = ':'; /* perhaps a data source name such as PG:...: let OGR try */
        }
        if (layer == NULL && strchr(spec, ':') == NULL) {
            TS_FAIL(err, TS_ENOENT, "coverage file '%s' does not exist", spec);
            return NULL;
        }
    }
    ts_source_ctx *sc = ts_source_ctx_new(err);
    if (sc == NULL)
        return NULL;
    ts_source_rings rs;
    ts_status st = ts_source_read_rings(sc, path, layer, g->crs, &rs, err);
    ts_source_ctx_free(sc);
    if (st != TS_OK)
        return NULL;
    ts_err e2;
    ts_err_clear(&e2);
    ts_seed_coverage *c = ts_seed_coverage_new(rs.xy, rs.counts, rs.poly, rs.nrings, &e2);
    if (c == NULL)
        TS_FAIL(err, e2.code, "coverage '%s': %s", spec, e2.msg);
    ts_source_rings_fini(&rs);
    return c;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Does segment (x0,y0)-(x1,y1) meet the closed rectangle r? Liang-Barsky. */
static int
seg_meets(double x0, double y0, double x1, double y1, const ts_bbox *r)
{
    double dx = x1 - x0, dy = y1 - y0;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {x0 - r->minx, r->maxx - x0, y0 - r->miny, r->maxy - y0};
    double t0 = 0, t1 = 1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return 0; /* parallel to this side and outside it */
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1)
                return 0;
            if (t > t0)
                t0 = t;
        } else {
            if (t < t0)
                return 0;
            if (t < t1)
                t1 = t;
        }
    }
    return t0 <= t1;
}

static int
edges_meet(const ts_seed_coverage *c, const ts_bbox *r)
{
    for (uint32_t pi = 0; pi < c->npolys; pi++) {
        const poly *pl = &c->polys[pi];
        if (!overlaps(&pl->b, r))
            continue;
        for (uint32_t ri = pl->ring0; ri < pl->ring0 + pl->nrings; ri++) {
            const ring *rg = &c->rings[ri];
            if (!overlaps(&rg->b, r))
                continue;
            const double *v = c->xy + 2 * (size_t)rg->start;
            for (uint32_t ci = rg->chunk0; ci < rg->chunk0 + rg->nchunks; ci++) {
                const chunk *ch = &c->chunks[ci];
                if (!overlaps(&ch->b, r))
                    continue;
                for (uint32_t e = ch->e0; e < ch->e0 + ch->n; e++) {
                    uint32_t f = e + 1 == rg->n ? 0 : e + 1;
                    if (seg_meets(v[2 * e], v[2 * e + 1], v[2 * f], v[2 * f + 1], r))
                        return 1;
                }
            }
        }
    }
    return 0;
}

/* Even-odd: is (x, y) inside polygon pl? A ray to +x, crossings counted half-open in y. */
static int
inside_poly(const ts_seed_coverage *c, const poly *pl, double x, double y)
{
    int in = 0;
    for (uint32_t ri = pl->ring0; ri < pl->ring0 + pl->nrings; ri++) {
        const ring *rg = &c->rings[ri];
        if (y < rg->b.miny || y > rg->b.maxy || x > rg->b.maxx)
            continue;
        const double *v = c->xy + 2 * (size_t)rg->start;
        for (uint32_t ci = rg->chunk0; ci < rg->chunk0 + rg->nchunks; ci++) {
            const chunk *ch = &c->chunks[ci];
            if (y < ch->b.miny || y > ch->b.maxy || x > ch->b.maxx)
                continue;
            for (uint32_t e = ch->e0; e < ch->e0 + ch->n; e++) {
                uint32_t f = e + 1 == rg->n ? 0 : e + 1;
                double ax = v[2 * e], ay = v[2 * e + 1], bx = v[2 * f], by = v[2 * f + 1];
                if ((ay > y) != (by > y) && x < ax + (y - ay) * (bx - ax) / (by - ay))
                    in = !in;
            }
        }
    }
    return in;
}

int
ts_seed_coverage_test(const ts_seed_coverage *c, const ts_bbox *r)
{
    if (!overlaps(&c->b, r))
        return TS_SEED_OUT;
    if (edges_meet(c, r))
        return TS_SEED_PART;
    /* No edge meets r: each polygon holds all of r or none of it. */
    double x = 0.5 * (r->minx + r->maxx), y = 0.5 * (r->miny + r->maxy);
    for (uint32_t pi = 0; pi < c->npolys; pi++) {
        const poly *pl = &c->polys[pi];
        if (x < pl->b.minx || x > pl->b.maxx || y < pl->b.miny || y > pl->b.maxy)
            continue;
        if (inside_poly(c, pl, x, y))
            return TS_SEED_IN;
    }
    return TS_SEED_OUT;
}

/* The rectangle of tiles r of level z, cut to clip, shrunk by 1e-9 of a tile. 0 when the
 * cut leaves nothing wider than that. */
static int
block_rect(const ts_grid *g, int z, const uint32_t r[4], const ts_bbox *clip, ts_bbox *out)
{
    const ts_tile_matrix *m = &g->levels[z];
    double tw = m->res * m->tile_w, th = m->res * m->tile_h;
    ts_bbox b = {m->origin_x + r[0] * tw, m->origin_y - (r[3] + 1.0) * th,
                 m->origin_x + (r[2] + 1.0) * tw, m->origin_y - r[1] * th};
    if (clip != NULL) {
        b.minx = fmax(b.minx, clip->minx);
        b.miny = fmax(b.miny, clip->miny);
        b.maxx = fmin(b.maxx, clip->maxx);
        b.maxy = fmin(b.maxy, clip->maxy);
    }
    double ex = 1e-9 * tw, ey = 1e-9 * th;
    if (b.maxx - b.minx <= ex || b.maxy - b.miny <= ey)
        return 0; /* the clip touches the block at most along an edge */
    if (b.maxx - b.minx > 2 * ex) {
        b.minx += ex;
        b.maxx -= ex;
    }
    if (b.maxy - b.miny > 2 * ey) {
        b.miny += ey;
        b.maxy -= ey;
    }
    *out = b;
    return 1;
}

int
ts_seed_coverage_tiles(const ts_seed_coverage *c, const ts_grid *g, int z, const uint32_t r[4],
                       const ts_bbox *clip)
{
    ts_bbox b;
    if (z < 0 || z >= g->nlevels || r[0] > r[2] || r[1] > r[3] || !block_rect(g, z, r, clip, &b))
        return TS_SEED_OUT;
    /* Each tile of r, cut and shrunk, lies within b: OUT and IN hold for every one. */
    return ts_seed_coverage_test(c, &b);
}

typedef struct blocks_ctx {
    const ts_seed_coverage *c;
    const ts_grid *g;
    int z;
    const ts_bbox *clip;
    int (*fn)(void *ud, const uint32_t blk[4]);
    void *ud;
} blocks_ctx;

static int
blocks(const blocks_ctx *k, const uint32_t r[4])
{
    int t = ts_seed_coverage_tiles(k->c, k->g, k->z, r, k->clip);
    if (t == TS_SEED_OUT)
        return 0;
    if (t == TS_SEED_IN || (r[0] == r[2] && r[1] == r[3]))
        return k->fn(k->ud, r);
    /* split the longer side in two (both when square) */
    uint64_t w = (uint64_t)r[2] - r[0] + 1, h = (uint64_t)r[3] - r[1] + 1;
    uint64_t mx = w > 1 && w * 2 > h ? r[0] + w / 2 : (uint64_t)r[2] + 1;
    uint64_t my = h > 1 && h * 2 > w ? r[1] + h / 2 : (uint64_t)r[3] + 1;
    uint64_t xs[3] = {r[0], mx, (uint64_t)r[2] + 1}, ys[3] = {r[1], my, (uint64_t)r[3] + 1};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            if (xs[i] >= xs[i + 1] || ys[j] >= ys[j + 1])
                continue;
            uint32_t s[4] = {(uint32_t)xs[i], (uint32_t)ys[j], (uint32_t)(xs[i + 1] - 1),
                             (uint32_t)(ys[j + 1] - 1)};
            int rc = blocks(k, s);
            if (rc != 0)
                return rc;
        }
    return 0;
}

int
ts_seed_cover_blocks(const ts_seed_coverage *c, const ts_grid *g, int z, const uint32_t r[4],
                     const ts_bbox *clip, int (*fn)(void *ud, const uint32_t blk[4]), void *ud)
{
    if (r[0] > r[2] || r[1] > r[3])
        return 0;
    if (c == NULL)
        return fn(ud, r);
    blocks_ctx k = {c, g, z, clip, fn, ud};
    return blocks(&k, r);
}

static int
count_fn(void *ud, const uint32_t b[4])
{
    *(uint64_t *)ud += (uint64_t)(b[2] - b[0] + 1) * (b[3] - b[1] + 1);
    return 0;
}

uint64_t
ts_seed_count_tiles(const ts_seed_coverage *c, const ts_grid *g, int z, const uint32_t r[4],
                    const ts_bbox *clip)
{
    uint64_t n = 0;
    ts_seed_cover_blocks(c, g, z, r, clip, count_fn, &n);
    return n;
}
