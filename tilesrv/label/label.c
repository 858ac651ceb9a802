/* label/label.c — collision resolution of label candidates in rounds (see label.h).
 *
 * Steps of ts_label_resolve:
 *   1. rank: sort candidate indices by (priority desc, weight desc, id asc);
 *   2. neighbours: a uniform grid over the candidates' padded bounds; each pair sharing a
 *      cell is tested once (same group, dup distance, then box against box: bounds first,
 *      then the separating-axis test of two oriented rectangles) and kept as an edge
 *      (compressed adjacency lists, by rank);
 *   3. rounds: placed / rejected / undecided per candidate, exactly as label.h says. */
#include "label/label.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { UNDECIDED = 0, PLACED = 1, REJECTED = 2 };

struct ts_label_set {
    ts_label_cand *c;       /* candidates, in the order added */
    uint32_t *box0;         /* first box of candidate i; box0[n] = number of boxes */
    double *bounds;         /* 4 per candidate: x0 y0 x1 y1 of its boxes (no pad) */
    size_t n, cap;
    ts_label_box *boxes;
    double *trig;           /* cos, sin of each box's angle (2 per box) */
    double *bb;             /* 4 per box: x0 y0 x1 y1 of the box (no pad) */
    size_t nbox, boxcap, trigcap, bbcap;
    uint8_t *state;         /* per candidate, after resolve */
    int rounds_used;
    size_t undecided;
    /* resolve scratch, kept between renders */
    uint32_t *order, *rank;
    uint32_t *adj_off, *adj;
    size_t adjcap;
    uint64_t *pairs;        /* (rank a) << 32 | rank b, a < b */
    size_t npairs, paircap;
    uint32_t *cell_of, *cell_start, *cell_items;
    size_t cellcap, itemcap;
};

ts_label_set *
ts_label_set_new(void)
{
    return calloc(1, sizeof(ts_label_set));
}

void
ts_label_set_free(ts_label_set *s)
{
    if (s == NULL)
        return;
    free(s->c);
    free(s->box0);
    free(s->bounds);
    free(s->boxes);
    free(s->trig);
    free(s->bb);
    free(s->state);
    free(s->order);
    free(s->rank);
    free(s->adj_off);
    free(s->adj);
    free(s->pairs);
    free(s->cell_of);
    free(s->cell_start);
    free(s->cell_items);
    free(s);
}

void
ts_label_set_clear(ts_label_set *s)
{
    s->n = 0;
    s->nbox = 0;
    s->rounds_used = 0;
    s->undecided = 0;
}

/* Make *p hold at least need elements of size sz (capacity in *cap). 0, or -1. */
static int
grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / sz)
            return -1;
        nc *= 2;
    }
    void *q = realloc(*p, nc * sz);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

ts_status
ts_label_add(ts_label_set *s, const ts_label_cand *c, const ts_label_box *boxes, uint32_t nbox,
             ts_err *err)
{
    if (nbox == 0)
        return TS_FAIL(err, TS_EINVAL, "label candidate without boxes");
    for (uint32_t k = 0; k < nbox; k++) {
        const ts_label_box *b = &boxes[k];
        if (!isfinite(b->cx) || !isfinite(b->cy) || !isfinite(b->hw) || !isfinite(b->hh) ||
            !isfinite(b->angle) || b->hw < 0 || b->hh < 0)
            return TS_FAIL(err, TS_EINVAL, "label box not finite or negative");
    }
    if (!isfinite(c->pad) || c->pad < 0 || !isfinite(c->dup_dist) || c->dup_dist < 0 ||
        !isfinite(c->priority) || !isfinite(c->weight) || !isfinite(c->ax) || !isfinite(c->ay))
        return TS_FAIL(err, TS_EINVAL, "label candidate with a non-finite or negative value");
    if (s->n + 1 > s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        ts_label_cand *c2 = realloc(s->c, nc * sizeof *c2);
        if (c2 != NULL)
            s->c = c2;
        uint32_t *b2 = c2 ? realloc(s->box0, (nc + 1) * sizeof *b2) : NULL;
        if (b2 != NULL)
            s->box0 = b2;
        double *d2 = b2 ? realloc(s->bounds, nc * 4 * sizeof *d2) : NULL;
        if (d2 == NULL)
            return TS_FAIL(err, TS_ENOMEM, "label candidates");
        s->bounds = d2;
        s->cap = nc;
    }
    if (s->nbox + nbox > UINT32_MAX ||
        grow((void **)&s->boxes, &s->boxcap, s->nbox + nbox, sizeof *s->boxes) != 0)
        return TS_FAIL(err, TS_ENOMEM, "label boxes");
    if (grow((void **)&s->trig, &s->trigcap, 2 * (s->nbox + nbox), sizeof *s->trig) != 0 ||
        grow((void **)&s->bb, &s->bbcap, 4 * (s->nbox + nbox), sizeof *s->bb) != 0)
        return TS_FAIL(err, TS_ENOMEM, "label boxes");
    memcpy(s->boxes + s->nbox, boxes, nbox * sizeof *boxes);
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (uint32_t k = 0; k < nbox; k++) {
        const ts_label_box *b = &boxes[k];
        double cs = cos(b->angle), sn = sin(b->angle);
        s->trig[2 * (s->nbox + k)] = cs;
        s->trig[2 * (s->nbox + k) + 1] = sn;
        /* half extents along the map's axes */
        double ex = b->hw * fabs(cs) + b->hh * fabs(sn), ey = b->hw * fabs(sn) + b->hh * fabs(cs);
        double *bb = s->bb + 4 * (s->nbox + k);
        bb[0] = b->cx - ex;
        bb[1] = b->cy - ey;
        bb[2] = b->cx + ex;
        bb[3] = b->cy + ey;
        x0 = fmin(x0, bb[0]);
        y0 = fmin(y0, bb[1]);
        x1 = fmax(x1, bb[2]);
        y1 = fmax(y1, bb[3]);
    }
    s->c[s->n] = *c;
    s->box0[s->n] = (uint32_t)s->nbox;
    double *bd = s->bounds + 4 * s->n;
    bd[0] = x0;
    bd[1] = y0;
    bd[2] = x1;
    bd[3] = y1;
    s->nbox += nbox;
    s->n++;
    s->box0[s->n] = (uint32_t)s->nbox;
    return TS_OK;
}

void
ts_label_retain(ts_label_set *s, const uint8_t *keep)
{
    size_t m = 0, mb = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!keep[i])
            continue;
        uint32_t b0 = s->box0[i], nb = s->box0[i + 1] - b0;
        if (m != i) {
            s->c[m] = s->c[i];
            memcpy(s->bounds + 4 * m, s->bounds + 4 * i, 4 * sizeof *s->bounds);
        }
        if (mb != b0) {
            memmove(s->boxes + mb, s->boxes + b0, nb * sizeof *s->boxes);
            memmove(s->trig + 2 * mb, s->trig + 2 * (size_t)b0, 2 * nb * sizeof *s->trig);
            memmove(s->bb + 4 * mb, s->bb + 4 * (size_t)b0, 4 * nb * sizeof *s->bb);
        }
        s->box0[m] = (uint32_t)mb;
        mb += nb;
        m++;
    }
    s->n = m;
    s->nbox = mb;
    if (s->box0 != NULL)
        s->box0[m] = (uint32_t)mb;
}

size_t
ts_label_count(const ts_label_set *s)
{
    return s->n;
}

const ts_label_cand *
ts_label_get(const ts_label_set *s, size_t i)
{
    return &s->c[i];
}

void
ts_label_bounds(const ts_label_set *s, size_t i, double out[4])
{
    memcpy(out, s->bounds + 4 * i, 4 * sizeof *out);
}

/* ---- ranking -------------------------------------------------------------------------- */

/* <0 when candidate ia ranks before ib: priority desc, weight desc, id asc, then the order
 * added (equal keys are the caller's mistake; the order stays total). */
static int
cmp_rank(const ts_label_cand *c, uint32_t ia, uint32_t ib)
{
    const ts_label_cand *a = &c[ia], *b = &c[ib];
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

/* Merge sort of idx[0..n) by cmp_rank (tmp holds n entries). */
static void
rank_sort(uint32_t *idx, uint32_t *tmp, size_t n, const ts_label_cand *c)
{
    uint32_t *a = idx, *o = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                o[k++] = cmp_rank(c, a[j], a[i]) < 0 ? a[j++] : a[i++];
            while (i < mid)
                o[k++] = a[i++];
            while (j < hi)
                o[k++] = a[j++];
        }
        uint32_t *t = a;
        a = o;
        o = t;
    }
    if (a != idx)
        memcpy(idx, a, n * sizeof *idx);
}

/* ---- conflicts ------------------------------------------------------------------------ */

/* 1 if the oriented boxes a and b, each grown by its pad, overlap (separating axes: the
 * two axes of each box). Touching edges do not overlap. */
static int
boxes_overlap(const ts_label_box *a, const double *ta, double pa, const ts_label_box *b,
              const double *tb, double pb)
{
    double ca = ta[0], sa = ta[1], cb = tb[0], sb = tb[1];
    double ahw = a->hw + pa, ahh = a->hh + pa, bhw = b->hw + pb, bhh = b->hh + pb;
    double dx = b->cx - a->cx, dy = b->cy - a->cy;
    const double ax[4][2] = {{ca, sa}, {-sa, ca}, {cb, sb}, {-sb, cb}};
    for (int k = 0; k < 4; k++) {
        double ux = ax[k][0], uy = ax[k][1];
        double d = fabs(dx * ux + dy * uy);
        double ra = ahw * fabs(ca * ux + sa * uy) + ahh * fabs(-sa * ux + ca * uy);
        double rb = bhw * fabs(cb * ux + sb * uy) + bhh * fabs(-sb * ux + cb * uy);
        if (d >= ra + rb)
            return 0;
    }
    return 1;
}

static int
conflict(const ts_label_set *s, uint32_t i, uint32_t j)
{
    const ts_label_cand *a = &s->c[i], *b = &s->c[j];
    if (a->group != TS_LABEL_NO_GROUP && a->group == b->group)
        return 1;
    if (a->dup_key != 0 && a->dup_key == b->dup_key) {
        double d = fmax(a->dup_dist, b->dup_dist), dx = a->ax - b->ax, dy = a->ay - b->ay;
        if (dx * dx + dy * dy < d * d)
            return 1;
    }
    const double *ba = s->bounds + 4 * (size_t)i, *bb = s->bounds + 4 * (size_t)j;
    /* pads grow each box along its own axes: its bounds by at most pad * sqrt 2 */
    double pad = (a->pad + b->pad) * M_SQRT2;
    if (ba[0] - pad >= bb[2] || bb[0] - pad >= ba[2] || ba[1] - pad >= bb[3] ||
        bb[1] - pad >= ba[3])
        return 0;
    for (uint32_t p = s->box0[i]; p < s->box0[i + 1]; p++) {
        const double *bp = s->bb + 4 * (size_t)p; /* box against box: bounds first */
        if (bp[0] - pad >= bb[2] || bb[0] - pad >= bp[2] || bp[1] - pad >= bb[3] ||
            bb[1] - pad >= bp[3])
            continue;
        for (uint32_t q = s->box0[j]; q < s->box0[j + 1]; q++) {
            const double *bq = s->bb + 4 * (size_t)q;
            if (bp[0] - pad >= bq[2] || bq[0] - pad >= bp[2] || bp[1] - pad >= bq[3] ||
                bq[1] - pad >= bp[3])
                continue;
            if (boxes_overlap(&s->boxes[p], s->trig + 2 * (size_t)p, a->pad, &s->boxes[q],
                              s->trig + 2 * (size_t)q, b->pad))
                return 1;
        }
    }
    return 0;
}

/* The reach of candidate i for the neighbour grid: bounds grown by its pad and, for a dup
 * key, by the dup distance around its anchor. */
static void
reach(const ts_label_set *s, uint32_t i, double r[4])
{
    const ts_label_cand *c = &s->c[i];
    const double *b = s->bounds + 4 * (size_t)i;
    double p = c->pad * M_SQRT2;
    r[0] = b[0] - p;
    r[1] = b[1] - p;
    r[2] = b[2] + p;
    r[3] = b[3] + p;
    /* dup distances are not in the reach: same-text pairs are found by key (dup_pairs) */
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Pairs (as ranks) of candidates with the same dup key whose anchors are closer than the
 * larger dup distance, appended to s->pairs. 0, or -1 on ENOMEM. */
static int
dup_pairs(ts_label_set *s)
{
    size_t n = s->n, nd = 0;
    for (size_t k = 0; k < n; k++)
        nd += s->c[s->order[k]].dup_key != 0;
    if (nd < 2)
        return 0;
    uint64_t *keys = malloc(nd * sizeof *keys);
    uint32_t *idx = malloc(nd * sizeof *idx);
    if (keys == NULL || idx == NULL) {
        free(keys);
        free(idx);
        return -1;
    }
    /* sort ranks by key: keys hold (key hash folded to 32 bits) << 32 | rank, then equal
     * folded keys are compared in full below */
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (s->c[s->order[k]].dup_key != 0)
            keys[m++] = (uint64_t)(uint32_t)(s->c[s->order[k]].dup_key ^
                                             s->c[s->order[k]].dup_key >> 32)
                            << 32 |
                        k;
    qsort(keys, m, sizeof *keys, cmp_u64);
    for (size_t k = 0; k < m; k++)
        idx[k] = (uint32_t)(keys[k] & 0xffffffffu);
    int rc = 0;
    for (size_t a = 0; a < m && rc == 0; a++)
        for (size_t b = a + 1; b < m && keys[b] >> 32 == keys[a] >> 32; b++) {
            const ts_label_cand *ca = &s->c[s->order[idx[a]]], *cb = &s->c[s->order[idx[b]]];
            if (ca->dup_key != cb->dup_key)
                continue;
            double d = fmax(ca->dup_dist, cb->dup_dist), dx = ca->ax - cb->ax,
                   dy = ca->ay - cb->ay;
            if (dx * dx + dy * dy >= d * d)
                continue;
            if (grow((void **)&s->pairs, &s->paircap, s->npairs + 1, sizeof *s->pairs) != 0) {
                rc = -1;
                break;
            }
            uint32_t lo = idx[a] < idx[b] ? idx[a] : idx[b], hi = idx[a] ^ idx[b] ^ lo;
            s->pairs[s->npairs++] = (uint64_t)lo << 32 | hi;
        }
    free(keys);
    free(idx);
    return rc;
}

/* Edges between candidates (as ranks) into s->adj_off / s->adj. 0, or -1 on ENOMEM. */
static int
build_neighbours(ts_label_set *s)
{
    size_t n = s->n;
    double gx0 = INFINITY, gy0 = INFINITY, gx1 = -INFINITY, gy1 = -INFINITY, sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        double r[4];
        reach(s, i, r);
        gx0 = fmin(gx0, r[0]);
        gy0 = fmin(gy0, r[1]);
        gx1 = fmax(gx1, r[2]);
        gy1 = fmax(gy1, r[3]);
        sum += (r[2] - r[0]) + (r[3] - r[1]);
    }
    /* cells about the size of an average reach; at most ~4 cells per candidate overall */
    double cell = fmax(sum / (2.0 * (double)n), 1.0);
    double gw = (gx1 - gx0) / cell + 1, gh = (gy1 - gy0) / cell + 1;
    while (gw * gh > 4.0 * (double)n + 16) {
        cell *= 1.5;
        gw = (gx1 - gx0) / cell + 1;
        gh = (gy1 - gy0) / cell + 1;
    }
    size_t nx = (size_t)gw, ny = (size_t)gh, ncell = nx * ny;
    /* count items per cell, then fill (counting sort) */
    if (grow((void **)&s->cell_start, &s->cellcap, ncell + 1, sizeof *s->cell_start) != 0)
        return -1;
    memset(s->cell_start, 0, (ncell + 1) * sizeof *s->cell_start);
    size_t nitems = 0;
    for (uint32_t i = 0; i < n; i++) {
        double r[4];
        reach(s, i, r);
        size_t cx0 = (size_t)((r[0] - gx0) / cell), cx1 = (size_t)((r[2] - gx0) / cell);
        size_t cy0 = (size_t)((r[1] - gy0) / cell), cy1 = (size_t)((r[3] - gy0) / cell);
        cx1 = cx1 < nx ? cx1 : nx - 1;
        cy1 = cy1 < ny ? cy1 : ny - 1;
        for (size_t y = cy0; y <= cy1; y++)
            for (size_t x = cx0; x <= cx1; x++)
                s->cell_start[y * nx + x + 1]++;
        nitems += (cx1 - cx0 + 1) * (cy1 - cy0 + 1);
    }
    if (nitems > UINT32_MAX)
        return -1;
    for (size_t k = 0; k < ncell; k++)
        s->cell_start[k + 1] += s->cell_start[k];
    if (grow((void **)&s->cell_items, &s->itemcap, nitems, sizeof *s->cell_items) != 0)
        return -1;
    /* fill in rank order, so each cell lists candidates by rank */
    for (size_t k = 0; k < n; k++) {
        uint32_t i = s->order[k];
        double r[4];
        reach(s, i, r);
        size_t cx0 = (size_t)((r[0] - gx0) / cell), cx1 = (size_t)((r[2] - gx0) / cell);
        size_t cy0 = (size_t)((r[1] - gy0) / cell), cy1 = (size_t)((r[3] - gy0) / cell);
        cx1 = cx1 < nx ? cx1 : nx - 1;
        cy1 = cy1 < ny ? cy1 : ny - 1;
        for (size_t y = cy0; y <= cy1; y++)
            for (size_t x = cx0; x <= cx1; x++)
                s->cell_items[s->cell_start[y * nx + x]++] = (uint32_t)k;
    }
    for (size_t k = ncell; k > 0; k--) /* undo the shift of the fill */
        s->cell_start[k] = s->cell_start[k - 1];
    s->cell_start[0] = 0;
    /* pairs per cell; a pair whose reaches share several cells is tested only in the
     * cell of the lower corner of the intersection of the reaches */
    s->npairs = 0;
    for (size_t k = 0; k < ncell; k++) {
        uint32_t a0 = s->cell_start[k], a1 = s->cell_start[k + 1];
        size_t kx = k % nx, ky = k / nx;
        for (uint32_t p = a0; p < a1; p++) {
            double ra_[4];
            reach(s, s->order[s->cell_items[p]], ra_);
            for (uint32_t q = p + 1; q < a1; q++) {
                uint32_t ra = s->cell_items[p], rb = s->cell_items[q];
                double rb_[4];
                reach(s, s->order[rb], rb_);
                size_t ix = (size_t)((fmax(ra_[0], rb_[0]) - gx0) / cell);
                size_t iy = (size_t)((fmax(ra_[1], rb_[1]) - gy0) / cell);
                ix = ix < nx ? ix : nx - 1;
                iy = iy < ny ? iy : ny - 1;
                if (ix != kx || iy != ky)
                    continue; /* tested in another cell (or the reaches do not meet) */
                if (conflict(s, s->order[ra], s->order[rb])) {
                    if (grow((void **)&s->pairs, &s->paircap, s->npairs + 1, sizeof *s->pairs) !=
                        0)
                        return -1;
                    s->pairs[s->npairs++] = (uint64_t)ra << 32 | rb; /* ra < rb: rank order */
                }
            }
        }
    }
    /* candidates of one dup key closer than their dup distance: by key, then distance */
    if (dup_pairs(s) != 0)
        return -1;
    /* members of a group conflict wherever they are (the grid finds only near ones):
     * sort the grouped candidates by group << 32 | rank, pair each group's members */
    size_t ng = 0;
    for (size_t k = 0; k < n; k++)
        ng += s->c[s->order[k]].group != TS_LABEL_NO_GROUP;
    if (ng > 1) {
        uint64_t *keys = malloc(ng * sizeof *keys);
        if (keys == NULL)
            return -1;
        size_t m0 = 0;
        for (size_t k = 0; k < n; k++)
            if (s->c[s->order[k]].group != TS_LABEL_NO_GROUP)
                keys[m0++] = (uint64_t)s->c[s->order[k]].group << 32 | k;
        qsort(keys, ng, sizeof *keys, cmp_u64);
        for (size_t a = 0; a < ng; a++)
            for (size_t b = a + 1; b < ng && keys[b] >> 32 == keys[a] >> 32; b++) {
                if (grow((void **)&s->pairs, &s->paircap, s->npairs + 1, sizeof *s->pairs) != 0) {
                    free(keys);
                    return -1;
                }
                /* same group: ranks ascending within it, so a's rank < b's */
                s->pairs[s->npairs++] = (keys[a] & 0xffffffffu) << 32 | (keys[b] & 0xffffffffu);
            }
        free(keys);
    }
    /* a group pair may also be a grid pair: listed twice, which the rounds do not mind */
    size_t m = s->npairs;
    /* adjacency by rank, both directions */
    if (grow((void **)&s->adj, &s->adjcap, 2 * m + 1, sizeof *s->adj) != 0)
        return -1;
    memset(s->adj_off, 0, (n + 1) * sizeof *s->adj_off);
    for (size_t k = 0; k < m; k++) {
        s->adj_off[(s->pairs[k] >> 32) + 1]++;
        s->adj_off[(s->pairs[k] & 0xffffffffu) + 1]++;
    }
    for (size_t k = 0; k < n; k++)
        s->adj_off[k + 1] += s->adj_off[k];
    for (size_t k = 0; k < m; k++) {
        uint32_t a = (uint32_t)(s->pairs[k] >> 32), b = (uint32_t)(s->pairs[k] & 0xffffffffu);
        s->adj[s->adj_off[a]++] = b;
        s->adj[s->adj_off[b]++] = a;
    }
    for (size_t k = n; k > 0; k--)
        s->adj_off[k] = s->adj_off[k - 1];
    s->adj_off[0] = 0;
    return 0;
}

/* ---- rounds --------------------------------------------------------------------------- */

ts_status
ts_label_resolve(ts_label_set *s, int rounds, ts_err *err)
{
    size_t n = s->n;
    s->rounds_used = 0;
    s->undecided = 0;
    uint8_t *st = realloc(s->state, n ? n : 1);
    if (st == NULL)
        return TS_FAIL(err, TS_ENOMEM, "label resolve");
    s->state = st;
    memset(st, REJECTED, n);
    if (n == 0)
        return TS_OK;
    if (n > UINT32_MAX / 2)
        return TS_FAIL(err, TS_EINVAL, "too many label candidates");
    uint32_t *order = realloc(s->order, n * sizeof *order);
    if (order != NULL)
        s->order = order;
    uint32_t *rank = order ? realloc(s->rank, n * sizeof *rank) : NULL;
    if (rank != NULL)
        s->rank = rank;
    uint32_t *off = rank ? realloc(s->adj_off, (n + 1) * sizeof *off) : NULL;
    if (off != NULL)
        s->adj_off = off;
    if (off == NULL)
        return TS_FAIL(err, TS_ENOMEM, "label resolve");
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    rank_sort(order, rank, n, s->c); /* rank is the sort's scratch here */
    for (uint32_t k = 0; k < n; k++)
        rank[order[k]] = k;
    if (build_neighbours(s) != 0)
        return TS_FAIL(err, TS_ENOMEM, "label neighbours");

    /* states by rank in rs */
    uint8_t *rs = malloc(n);
    if (rs == NULL)
        return TS_FAIL(err, TS_ENOMEM, "label resolve");
    memset(rs, UNDECIDED, n);
    size_t left = n;
    int r = 0;
    while (left > 0 && r < rounds) {
        r++;
        /* placed this round: undecided, and every higher-ranked neighbour rejected (the
         * neighbours' states as they were at the start of the round: a neighbour placed
         * in this round has a higher rank and was undecided, so it blocks) */
        for (uint32_t k = 0; k < n; k++) {
            if (rs[k] != UNDECIDED)
                continue;
            int ok = 1;
            for (uint32_t e = s->adj_off[k]; e < s->adj_off[k + 1]; e++) {
                uint32_t o = s->adj[e];
                if (o < k && (rs[o] == UNDECIDED || rs[o] == PLACED + 8)) {
                    ok = 0;
                    break;
                }
            }
            if (ok)
                rs[k] = PLACED + 8; /* marked: placed in this round */
        }
        for (uint32_t k = 0; k < n; k++) {
            if (rs[k] != PLACED + 8)
                continue;
            rs[k] = PLACED;
            left--;
            for (uint32_t e = s->adj_off[k]; e < s->adj_off[k + 1]; e++) {
                uint32_t o = s->adj[e];
                if (rs[o] == UNDECIDED) {
                    rs[o] = REJECTED;
                    left--;
                }
            }
        }
    }
    s->rounds_used = r;
    s->undecided = left;
    for (uint32_t k = 0; k < n; k++)
        st[order[k]] = rs[k] == PLACED ? PLACED : REJECTED;
    free(rs);
    return TS_OK;
}

int
ts_label_placed(const ts_label_set *s, size_t i)
{
    return i < s->n && s->state != NULL && s->state[i] == PLACED;
}

void
ts_label_resolve_info(const ts_label_set *s, int *rounds_used, size_t *undecided)
{
    if (rounds_used)
        *rounds_used = s->rounds_used;
    if (undecided)
        *undecided = s->undecided;
}

double
ts_label_margin(double extent, double pad, double dup, int rounds)
{
    /* a drawn candidate's centre lies within extent/2 of the area; one conflict hop moves
     * a centre by at most extent + 2 pad (boxes) or dup + extent (anchors inside their
     * bounds); being placed after r rounds depends on candidates within 2r - 1 hops */
    double hop = fmax(extent + 2 * M_SQRT2 * pad, dup + extent);
    return extent / 2 + (2.0 * rounds - 1) * hop;
}

double
ts_label_margin_centred(double extent, double dup, int rounds)
{
    /* boxes that overlap have bounds that meet: their centres are within half of each
     * diagonal, extent together; anchors (the centres) of a dup conflict within dup */
    return extent / 2 + (2.0 * rounds - 1) * fmax(extent, dup);
}
