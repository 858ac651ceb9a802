/* encode/quant.c — the palette for png8.
 *
 * Map tiles are a handful of flat colours plus the anti-aliased (AA) pixels along their
 * edges. Source-over compositing is linear in premultiplied RGBA, so an AA pixel lies on
 * the segment between the two colours it blends; everything here works in premultiplied
 * space, where those ramps are straight lines and a colour's error is weighted by its
 * opacity as the eye sees it once the tile is composited.
 *
 * 1. Exact: while the region has at most N distinct colours (simple tiles, sparse
 *    overlays; dense AA tiles have thousands: 700-8,000 on the peers' tiles), they are
 *    the palette. A small open-addressing table and a last-pixel cache make this one pass
 *    that also writes the index image.
 * 2. Otherwise a histogram of the distinct colours (full precision up to 65,536 of
 *    them; beyond that colours are bucketed by dropping low bits, bucket = its mean) is
 *    split by a variance-greedy median cut: the box with the largest pixel-weighted
 *    squared error is cut at the axis and position that remove the most error (Wu's
 *    criterion, from per-axis histograms of exact integer moments). A box holding a
 *    single colour has zero error and is never cut again, so a flat colour, once
 *    isolated, claims no further entries, and the rest go where the error is: along
 *    the AA ramps. Weights are pixel counts, i.e. the criterion is the mean squared
 *    error of the tile; weighting by sqrt(count) instead (to favour rare colours) was
 *    measured worse on the peers' tiles, mean |error| 0.19 against 0.17 and max 26
 *    against 24, and it left a long grey ramp fewer levels, 18 against 26
 *    (tests/unit/test_encode.c).
 * 3. One Lloyd (k-means) round: each colour goes to its nearest entry, each entry to the
 *    mean of its colours, except that an entry whose most frequent colour covers at
 *    least half its pixels becomes that colour exactly (flat areas stay exact, so the
 *    same area has the same colour in neighbouring tiles). More rounds changed the mean
 *    error by < 1 % on the peers' tiles and cost 0.3 ms per round.
 * 4. Every pixel is mapped to its nearest entry: through the histogram table (each
 *    distinct colour looked up once), or through a direct-mapped cache when bucketed.
 *    Nearest-entry search skips colours that are within half the gap from their entry
 *    to the next (triangle inequality), and otherwise walks the entries sorted by
 *    r+g+b+a outwards from the query until that sum alone rules out a closer one.
 *
 * No dithering: tiles are flat fills whose colours are kept exactly, and the only other
 * pixels are one- or two-pixel AA ramps, which get their own entries; error diffusion
 * has no area there to spread error into, would sprinkle noise into flat areas (which
 * costs compression: deflate thrives on runs), and its pattern depends on the tile's
 * content, so neighbouring tiles would show seams. */
#include "encode/encode_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FULL_MAX 65536 /* distinct colours kept at full precision */
#define KMEANS_ROUNDS 1

/* ---- exact palette ----------------------------------------------------------------- */

typedef struct eslot {
    uint32_t key;
    int32_t idx; /* -1 = empty */
} eslot;

#define EBITS 10 /* 1024 slots for at most 256 colours */

static inline uint32_t
hash32(uint32_t key, int bits)
{
    return (key * 0x9e3779b1u) >> (32 - bits);
}

/* Put non-opaque entries first (stable), so tRNS ends at the last of them; fills
 * perm[old] = new. */
static void
order_palette(ts_encode__palette *pal, uint8_t perm[256])
{
    uint32_t col[256];
    int k = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < pal->n; i++) {
            int opaque = (pal->col[i] >> 24) == 255;
            if (opaque == pass) {
                perm[i] = (uint8_t)k;
                col[k++] = pal->col[i];
            }
        }
    }
    memcpy(pal->col, col, (size_t)pal->n * sizeof col[0]);
}

/* 1 when the region has at most maxcol colours (pal and index image filled), 0 when not,
 * -1 on out-of-memory. */
static int
exact_palette(const ts_canvas *c, int x0, int y0, int w, int h, int maxcol, ts_encode__palette *pal)
{
    eslot *tab = ts_encode__scratch(TS_ENCODE__S_HASH, sizeof(eslot) << EBITS);
    if (tab == NULL)
        return -1;
    memset(tab, 0xff, sizeof(eslot) << EBITS);
    int n = 0;
    uint32_t last = c->px[(size_t)y0 * (size_t)c->stride + (size_t)x0] + 1; /* != first */
    uint8_t last_idx = 0;
    for (int j = 0; j < h; j++) {
        const uint32_t *r = c->px + (size_t)(y0 + j) * (size_t)c->stride + (size_t)x0;
        uint8_t *out = pal->index + (size_t)j * (size_t)w;
        for (int i = 0; i < w; i++) {
            uint32_t p = r[i];
            if (p != last) {
                uint32_t s = hash32(p, EBITS);
                while (tab[s].idx >= 0 && tab[s].key != p)
                    s = (s + 1) & ((1u << EBITS) - 1);
                if (tab[s].idx < 0) {
                    if (n == maxcol)
                        return 0;
                    tab[s].key = p;
                    tab[s].idx = n;
                    pal->col[n++] = p;
                }
                last = p;
                last_idx = (uint8_t)tab[s].idx;
            }
            out[i] = last_idx;
        }
    }
    pal->n = n;
    pal->exact = 1;
    uint8_t perm[256];
    order_palette(pal, perm);
    int identity = 1;
    for (int k = 0; k < n; k++)
        identity &= perm[k] == k;
    if (!identity) {
        size_t npix = (size_t)w * (size_t)h;
        for (size_t q = 0; q < npix; q++)
            pal->index[q] = perm[pal->index[q]];
    }
    return 1;
}

/* ---- histogram --------------------------------------------------------------------- */

typedef struct hslot {
    uint32_t key;
    uint32_t n;   /* pixels; 0 = empty slot */
    uint32_t val; /* point index, later palette index */
} hslot;

typedef struct qpt {
    uint32_t key; /* histogram key (the colour, or its bucket) */
    uint8_t c[4]; /* representative premultiplied colour r, g, b, a */
    uint32_t n;   /* pixels */
    int32_t pal;  /* current palette entry */
} qpt;

typedef struct hist {
    hslot *tab;
    int bits;
    int shift;     /* low bits dropped from each channel (0 = exact colours) */
    uint32_t mask; /* key = pixel & mask */
    qpt *pts;
    int npts;
} hist;

static inline hslot *
hist_find(const hist *hs, uint32_t key)
{
    uint32_t m = (1u << hs->bits) - 1, s = hash32(key, hs->bits);
    while (hs->tab[s].n != 0 && hs->tab[s].key != key)
        s = (s + 1) & m;
    return &hs->tab[s];
}

/* Double the table (called at half load): entries go through the points buffer. */
static int
hist_grow(hist *hs, int distinct)
{
    size_t nslot = (size_t)1 << hs->bits;
    hslot *tmp = ts_encode__scratch(TS_ENCODE__S_POINTS, (size_t)distinct * sizeof *tmp);
    if (tmp == NULL)
        return -1;
    int n = 0;
    for (size_t s = 0; s < nslot; s++)
        if (hs->tab[s].n != 0)
            tmp[n++] = hs->tab[s];
    hs->bits++;
    size_t size = sizeof(hslot) << hs->bits;
    hs->tab = ts_encode__scratch(TS_ENCODE__S_HASH, size);
    if (hs->tab == NULL)
        return -1;
    memset(hs->tab, 0, size);
    for (int k = 0; k < n; k++)
        *hist_find(hs, tmp[k].key) = tmp[k];
    return 0;
}

/* Count colours (keys) of the region. 1 ok, 0 more than FULL_MAX keys, -1 no memory.
 * The table starts small (most tiles have a few thousand colours) and doubles at half
 * load. */
static int
hist_count(const ts_canvas *c, int x0, int y0, int w, int h, hist *hs)
{
    hs->bits = 12;
    size_t size = sizeof(hslot) << hs->bits;
    hs->tab = ts_encode__scratch(TS_ENCODE__S_HASH, size);
    if (hs->tab == NULL)
        return -1;
    memset(hs->tab, 0, size);
    int distinct = 0;
    uint32_t last = 0;
    hslot *ls = NULL;
    for (int j = 0; j < h; j++) {
        const uint32_t *r = c->px + (size_t)(y0 + j) * (size_t)c->stride + (size_t)x0;
        for (int i = 0; i < w; i++) {
            uint32_t k = r[i] & hs->mask;
            if (ls == NULL || k != last) {
                ls = hist_find(hs, k);
                if (ls->n == 0) {
                    if (distinct == FULL_MAX)
                        return 0;
                    if ((size_t)(distinct + 1) * 2 > ((size_t)1 << hs->bits)) {
                        if (hist_grow(hs, distinct) < 0)
                            return -1;
                        ls = hist_find(hs, k);
                    }
                    distinct++;
                    ls->key = k;
                }
                last = k;
            }
            ls->n++;
        }
    }
    return 1;
}

/* Gather the table into points; bucketed keys get their colours' mean (second pass). */
static int
hist_points(const ts_canvas *c, int x0, int y0, int w, int h, hist *hs)
{
    size_t nslot = (size_t)1 << hs->bits;
    size_t distinct = 0;
    for (size_t s = 0; s < nslot; s++)
        distinct += hs->tab[s].n != 0;
    hs->pts = ts_encode__scratch(TS_ENCODE__S_POINTS, distinct * sizeof(qpt));
    if (hs->pts == NULL)
        return -1;
    int np = 0;
    for (size_t s = 0; s < nslot; s++) {
        if (hs->tab[s].n == 0)
            continue;
        qpt *p = &hs->pts[np];
        p->key = hs->tab[s].key;
        memcpy(p->c, &p->key, 4);
        p->n = hs->tab[s].n;
        p->pal = 0;
        hs->tab[s].val = (uint32_t)np++; /* slot -> point, for the sums below */
    }
    hs->npts = np;
    if (hs->shift > 0) {
        uint64_t(*sum)[4] = ts_encode__scratch(TS_ENCODE__S_SUMS, (size_t)np * sizeof *sum);
        if (sum == NULL)
            return -1;
        memset(sum, 0, (size_t)np * sizeof *sum);
        for (int j = 0; j < h; j++) {
            const uint32_t *r = c->px + (size_t)(y0 + j) * (size_t)c->stride + (size_t)x0;
            for (int i = 0; i < w; i++) {
                uint32_t px = r[i];
                uint64_t *s = sum[hist_find(hs, px & hs->mask)->val];
                s[0] += px & 255;
                s[1] += (px >> 8) & 255;
                s[2] += (px >> 16) & 255;
                s[3] += px >> 24;
            }
        }
        for (int k = 0; k < np; k++)
            for (int ch = 0; ch < 4; ch++)
                hs->pts[k].c[ch] = (uint8_t)((sum[k][ch] + hs->pts[k].n / 2) / hs->pts[k].n);
    }
    return 0;
}

/* ---- median cut -------------------------------------------------------------------- */

/* Pixel-weighted moments of a set of colours; integers, so sums and differences are
 * exact (a region has < 2^31 pixels: n * 255^2 stays far below 2^64). */
typedef struct qstat {
    uint64_t w, s[4], q[4]; /* pixels, sums of c and of c^2 per channel */
} qstat;

typedef struct qbox {
    int lo, hi;             /* points [lo, hi) */
    uint8_t min[4], max[4]; /* range of each channel over the points */
    qstat st;
    double sse; /* pixel-weighted squared error about the mean */
} qbox;

static void
stat_add(qstat *a, const qstat *b)
{
    a->w += b->w;
    for (int ch = 0; ch < 4; ch++) {
        a->s[ch] += b->s[ch];
        a->q[ch] += b->q[ch];
    }
}

static void
stat_sub(qstat *a, const qstat *b)
{
    a->w -= b->w;
    for (int ch = 0; ch < 4; ch++) {
        a->s[ch] -= b->s[ch];
        a->q[ch] -= b->q[ch];
    }
}

static double
stat_var(const qstat *t, int ch)
{
    double s = (double)t->s[ch];
    return (double)t->q[ch] - s * s / (double)t->w;
}

/* Squared error of a box; 0 for a single colour, which is never cut. */
static double
stat_sse(const qstat *t, int npts)
{
    if (npts < 2)
        return 0;
    double e = stat_var(t, 0) + stat_var(t, 1) + stat_var(t, 2) + stat_var(t, 3);
    return e > 0.5 ? e : 0.5; /* two distinct colours are >= 1 apart: e >= 1/2 */
}

static void
box_range(const qpt *pts, qbox *b)
{
    uint8_t mn[4] = {255, 255, 255, 255}, mx[4] = {0, 0, 0, 0};
    for (int k = b->lo; k < b->hi; k++)
        for (int a = 0; a < 4; a++) {
            uint8_t v = pts[k].c[a];
            mn[a] = v < mn[a] ? v : mn[a];
            mx[a] = v > mx[a] ? v : mx[a];
        }
    memcpy(b->min, mn, 4);
    memcpy(b->max, mx, 4);
}

/* Cut box b in two: choose the axis and value whose cut leaves the least squared error
 * (from per-axis histograms of the box's points), partition its points, and derive both
 * halves' moments from the histogram. Returns 0, or -1 when the box cannot be cut. */
static int
split_box(qpt *pts, qbox *b, qbox *nb, qstat (*ax)[256])
{
    /* Candidates: the axes whose variance is at least half the largest (an axis with
     * one value cannot be cut); usually one or two of the four. */
    double var[4], vmax = 0;
    for (int a = 0; a < 4; a++) {
        var[a] = stat_var(&b->st, a);
        vmax = var[a] > vmax ? var[a] : vmax;
    }
    int axes[4], nax = 0;
    for (int a = 0; a < 4; a++)
        if (b->min[a] < b->max[a] && var[a] >= 0.5 * vmax)
            axes[nax++] = a;
    for (int a = 0; nax == 0 && a < 4; a++)
        if (b->min[a] < b->max[a])
            axes[nax++] = a;
    if (nax == 0)
        return -1;
    for (int q = 0; q < nax; q++) { /* only the value range in use is cleared and scanned */
        int a = axes[q];
        memset(&ax[a][b->min[a]], 0, (size_t)(b->max[a] - b->min[a] + 1) * sizeof(qstat));
    }
    for (int k = b->lo; k < b->hi; k++) {
        const qpt *p = &pts[k];
        uint64_t n = p->n;
        for (int q = 0; q < nax; q++) {
            qstat *t = &ax[axes[q]][p->c[axes[q]]];
            t->w += n;
            for (int ch = 0; ch < 4; ch++) {
                t->s[ch] += n * p->c[ch];
                t->q[ch] += n * p->c[ch] * p->c[ch];
            }
        }
    }
    const qstat *tot = &b->st;
    double best = -1;
    int best_a = -1, best_v = 0;
    for (int q = 0; q < nax; q++) {
        int a = axes[q];
        uint64_t lw = 0, ls[4] = {0, 0, 0, 0};
        for (int v = b->min[a]; v < b->max[a]; v++) {
            const qstat *t = &ax[a][v];
            if (t->w == 0)
                continue;
            lw += t->w;
            for (int ch = 0; ch < 4; ch++)
                ls[ch] += t->s[ch];
            double lq = 0, rq = 0;
            for (int ch = 0; ch < 4; ch++) {
                double l = (double)ls[ch], r = (double)(tot->s[ch] - ls[ch]);
                lq += l * l;
                rq += r * r;
            }
            /* error left = total q - lq / lw - rq / rw: maximise the subtracted part */
            double g = lq / (double)lw + rq / (double)(tot->w - lw);
            if (g > best) {
                best = g;
                best_a = a;
                best_v = v;
            }
        }
    }
    if (best_a < 0)
        return -1;
    qstat left = {0};
    for (int v = b->min[best_a]; v <= best_v; v++)
        stat_add(&left, &ax[best_a][v]);
    int i = b->lo, j = b->hi - 1;
    while (i <= j) {
        if (pts[i].c[best_a] <= best_v) {
            i++;
        } else {
            qpt t = pts[i];
            pts[i] = pts[j];
            pts[j--] = t;
        }
    }
    nb->lo = i;
    nb->hi = b->hi;
    nb->st = b->st;
    stat_sub(&nb->st, &left);
    b->hi = i;
    b->st = left;
    box_range(pts, b);
    box_range(pts, nb);
    b->sse = stat_sse(&b->st, b->hi - b->lo);
    nb->sse = stat_sse(&nb->st, nb->hi - nb->lo);
    return 0;
}

/* ---- nearest entry ----------------------------------------------------------------- */

typedef struct nnidx {
    int n;
    uint8_t c[256][4];
    int sum[256];       /* sorted ascending */
    uint8_t order[256]; /* entry of sum[i] */
} nnidx;

static inline int
dist2(const uint8_t *a, const uint8_t *b)
{
    int d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2], d3 = a[3] - b[3];
    return d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
}

static int
cmp_sum(const void *x, const void *y)
{
    const int *a = x, *b = y;
    return (a[0] > b[0]) - (a[0] < b[0]);
}

static void
nn_build(nnidx *t, const uint32_t *col, int n)
{
    int tmp[256][2];
    t->n = n;
    for (int k = 0; k < n; k++) {
        memcpy(t->c[k], &col[k], 4);
        tmp[k][0] = t->c[k][0] + t->c[k][1] + t->c[k][2] + t->c[k][3];
        tmp[k][1] = k;
    }
    qsort(tmp, (size_t)n, sizeof tmp[0], cmp_sum);
    for (int k = 0; k < n; k++) {
        t->sum[k] = tmp[k][0];
        t->order[k] = (uint8_t)tmp[k][1];
    }
}

/* Nearest entry to p (ties: the first found from guess outwards, deterministic).
 * Any colour q has |p - q|^2 >= (sum(p) - sum(q))^2 / 4, which ends each direction. */
static int
nn_find(const nnidx *t, const uint8_t *p, int guess)
{
    int best = guess, bd = dist2(p, t->c[guess]);
    if (bd == 0)
        return best;
    int sp = p[0] + p[1] + p[2] + p[3];
    int lo = 0, hi = t->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t->sum[mid] < sp)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int k = lo; k < t->n; k++) {
        int ds = t->sum[k] - sp;
        if (ds * ds >= 4 * bd)
            break;
        int d = dist2(p, t->c[t->order[k]]);
        if (d < bd) {
            bd = d;
            best = t->order[k];
        }
    }
    for (int k = lo - 1; k >= 0; k--) {
        int ds = sp - t->sum[k];
        if (ds * ds >= 4 * bd)
            break;
        int d = dist2(p, t->c[t->order[k]]);
        if (d < bd) {
            bd = d;
            best = t->order[k];
        }
    }
    return best;
}

/* ---- quantiser --------------------------------------------------------------------- */

static uint32_t
pack_mean(const double s[4], double w)
{
    uint32_t v[4];
    for (int ch = 0; ch < 4; ch++) {
        double m = floor(s[ch] / w + 0.5);
        v[ch] = m < 0 ? 0 : m > 255 ? 255 : (uint32_t)m;
    }
    for (int ch = 0; ch < 3; ch++) /* a valid premultiplied colour has c <= a */
        if (v[ch] > v[3])
            v[ch] = v[3];
    return v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24;
}

/* Median cut of the points into at most maxcol boxes; pal->col = box means. */
static int
median_cut(hist *hs, int maxcol, ts_encode__palette *pal)
{
    qstat(*ax)[256] = ts_encode__scratch(TS_ENCODE__S_CUT, 4 * 256 * sizeof(qstat));
    if (ax == NULL)
        return -1;
    qbox box[256];
    int nb = 1;
    box[0].lo = 0;
    box[0].hi = hs->npts;
    memset(&box[0].st, 0, sizeof box[0].st);
    for (int k = 0; k < hs->npts; k++) {
        const qpt *p = &hs->pts[k];
        uint64_t n = p->n;
        box[0].st.w += n;
        for (int ch = 0; ch < 4; ch++) {
            box[0].st.s[ch] += n * p->c[ch];
            box[0].st.q[ch] += n * p->c[ch] * p->c[ch];
        }
    }
    box_range(hs->pts, &box[0]);
    box[0].sse = stat_sse(&box[0].st, hs->npts);
    double sse[256]; /* a compact copy of box[].sse for the scan below */
    sse[0] = box[0].sse;
    while (nb < maxcol) {
        int pick = 0;
        for (int b = 1; b < nb; b++)
            if (sse[b] > sse[pick])
                pick = b;
        if (sse[pick] <= 0)
            break;
        if (split_box(hs->pts, &box[pick], &box[nb], ax) != 0) {
            box[pick].sse = sse[pick] = 0;
            continue;
        }
        sse[pick] = box[pick].sse;
        sse[nb] = box[nb].sse;
        nb++;
    }
    for (int b = 0; b < nb; b++) {
        double s[4];
        for (int ch = 0; ch < 4; ch++)
            s[ch] = (double)box[b].st.s[ch];
        pal->col[b] = pack_mean(s, (double)box[b].st.w);
        for (int k = box[b].lo; k < box[b].hi; k++)
            hs->pts[k].pal = b;
    }
    pal->n = nb;
    return 0;
}

/* Every point to its nearest entry. A point within half the distance from its current
 * entry to that entry's nearest other entry needs no search (triangle inequality): with
 * squared distances, 4 d(p, cur) <= min_e d(cur, e). Most points pass that test. */
static void
assign_all(hist *hs, const ts_encode__palette *pal)
{
    nnidx nn;
    nn_build(&nn, pal->col, pal->n);
    int sep[256];
    for (int e = 0; e < nn.n; e++)
        sep[e] = INT32_MAX;
    for (int e = 0; e < nn.n; e++)
        for (int f = e + 1; f < nn.n; f++) {
            int d = dist2(nn.c[e], nn.c[f]);
            sep[e] = d < sep[e] ? d : sep[e];
            sep[f] = d < sep[f] ? d : sep[f];
        }
    for (int k = 0; k < hs->npts; k++) {
        qpt *p = &hs->pts[k];
        if (4 * dist2(p->c, nn.c[p->pal]) <= sep[p->pal])
            continue;
        p->pal = nn_find(&nn, p->c, p->pal);
    }
}

/* Lloyd rounds: every point to its nearest entry, then every entry to the pixel-weighted
 * mean of its points, except that an entry whose most frequent colour covers at least
 * half of its pixels becomes exactly that colour: a flat area keeps its colour even where
 * AA pixels around it pull the mean, so an area is the same colour in every tile (no
 * seams between tiles quantised separately). Ends with a final assignment; entries left
 * without points are dropped. */
static void
refine(hist *hs, ts_encode__palette *pal)
{
    for (int r = 0; r < KMEANS_ROUNDS; r++) {
        assign_all(hs, pal);
        double sum[256][4];
        uint64_t tot[256];
        uint32_t top[256];
        int topk[256];
        memset(sum, 0, sizeof sum);
        memset(tot, 0, sizeof tot);
        memset(top, 0, sizeof top);
        for (int k = 0; k < hs->npts; k++) {
            const qpt *p = &hs->pts[k];
            tot[p->pal] += p->n;
            for (int ch = 0; ch < 4; ch++)
                sum[p->pal][ch] += (double)p->n * p->c[ch];
            if (p->n > top[p->pal]) {
                top[p->pal] = p->n;
                topk[p->pal] = k;
            }
        }
        int changed = 0;
        for (int e = 0; e < pal->n; e++) {
            if (tot[e] == 0)
                continue;
            uint32_t v;
            if (2 * (uint64_t)top[e] >= tot[e])
                memcpy(&v, hs->pts[topk[e]].c, 4);
            else
                v = pack_mean(sum[e], (double)tot[e]);
            changed |= v != pal->col[e];
            pal->col[e] = v;
        }
        if (!changed)
            break;
    }
    assign_all(hs, pal);

    int used[256] = {0}, remap[256];
    for (int k = 0; k < hs->npts; k++)
        used[hs->pts[k].pal] = 1;
    int n = 0;
    for (int e = 0; e < pal->n; e++) {
        remap[e] = n;
        if (used[e])
            pal->col[n++] = pal->col[e];
    }
    pal->n = n;
    for (int k = 0; k < hs->npts; k++)
        hs->pts[k].pal = remap[hs->pts[k].pal];
}

typedef struct ccache {
    uint32_t key;
    int32_t idx; /* -1 = empty */
} ccache;

/* Write the index image: exact colours through the histogram table; bucketed ones by
 * searching each distinct pixel's nearest entry once (direct-mapped cache). */
static void
map_pixels(const ts_canvas *c, int x0, int y0, int w, int h, hist *hs, ts_encode__palette *pal,
           const uint8_t perm[256])
{
    for (int k = 0; k < hs->npts; k++)
        hist_find(hs, hs->pts[k].key)->val = perm[hs->pts[k].pal];
    nnidx nn;
    nn_build(&nn, pal->col, pal->n);
    ccache cache[4096];
    if (hs->shift > 0)
        memset(cache, 0xff, sizeof cache);
    uint32_t last = 0;
    uint8_t last_idx = 0;
    int have_last = 0;
    for (int j = 0; j < h; j++) {
        const uint32_t *r = c->px + (size_t)(y0 + j) * (size_t)c->stride + (size_t)x0;
        uint8_t *out = pal->index + (size_t)j * (size_t)w;
        for (int i = 0; i < w; i++) {
            uint32_t p = r[i];
            if (!have_last || p != last) {
                hslot *s = hist_find(hs, p & hs->mask);
                if (hs->shift == 0) {
                    last_idx = (uint8_t)s->val;
                } else {
                    ccache *e = &cache[hash32(p, 12)];
                    if (e->idx < 0 || e->key != p) {
                        uint8_t pc[4];
                        memcpy(pc, &p, 4);
                        e->key = p;
                        e->idx = nn_find(&nn, pc, (int)s->val);
                    }
                    last_idx = (uint8_t)e->idx;
                }
                last = p;
                have_last = 1;
            }
            out[i] = last_idx;
        }
    }
}

ts_status
ts_encode__quantise(const ts_canvas *c, int x0, int y0, int w, int h, int maxcol,
                    ts_encode__palette *pal, ts_err *err)
{
    if (maxcol < 2)
        maxcol = 2;
    if (maxcol > 256)
        maxcol = 256;
    pal->n = 0;
    pal->exact = 0;
    pal->index = ts_encode__scratch(TS_ENCODE__S_INDEX, (size_t)w * (size_t)h);
    if (pal->index == NULL)
        return TS_FAIL(err, TS_ENOMEM, "palette index image %dx%d", w, h);

    int rc = exact_palette(c, x0, y0, w, h, maxcol, pal);
    if (rc < 0)
        return TS_FAIL(err, TS_ENOMEM, "colour table");
    if (rc > 0)
        return TS_OK;

    hist hs;
    memset(&hs, 0, sizeof hs);
    static const int shifts[] = {0, 2, 3, 4}; /* 4: at most 16^4 = 65,536 buckets */
    for (size_t t = 0; t < sizeof shifts / sizeof shifts[0]; t++) {
        hs.shift = shifts[t];
        uint32_t m = (0xffu << hs.shift) & 0xffu;
        hs.mask = m | m << 8 | m << 16 | m << 24;
        rc = hist_count(c, x0, y0, w, h, &hs);
        if (rc != 0)
            break;
    }
    if (rc < 0 || hist_points(c, x0, y0, w, h, &hs) < 0 || median_cut(&hs, maxcol, pal) < 0)
        return TS_FAIL(err, TS_ENOMEM, "quantiser tables for %dx%d", w, h);
    refine(&hs, pal);
    uint8_t perm[256];
    order_palette(pal, perm);
    map_pixels(c, x0, y0, w, h, &hs, pal, perm);
    return TS_OK;
}
