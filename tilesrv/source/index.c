/* source/index.c — a packed Hilbert R-tree over feature bboxes (the flatbush layout):
 * leaves sorted by the Hilbert value of their bbox centre, nodes of TS_INDEX_NODE
 * children, levels packed bottom-up into one box array. Queries return feature ids in
 * ascending order, sorted with a bitmap over the hit range or a radix sort. */
#include "source/source.h"
#include "source/source_int.h"

#include <stdlib.h>
#include <string.h>

#include "grid/grid.h"

_Static_assert(TS_INDEX_NODE == 16, "ts_store_query shifts by 4 bits per level");

void
ts_source__index_free(ts_index *ix)
{
    free(ix->boxes);
    free(ix->idx);
    memset(ix, 0, sizeof *ix);
}

/* Stable LSD radix sort of keys by their upper 32 bits. tmp holds n keys. */
static void
sort_by_high(uint64_t *keys, uint64_t *tmp, size_t n)
{
    size_t cnt[256];
    for (int shift = 32; shift < 64; shift += 8) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(keys[i] >> shift) & 255]++;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = cnt[b];
            cnt[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(keys[i] >> shift) & 255]++] = keys[i];
        uint64_t *t = keys;
        keys = tmp;
        tmp = t;
    }
    /* four passes: the result is back in the caller's keys */
}

ts_status
ts_source__index_build(ts_store *s, ts_err *err)
{
    ts_index *ix = &s->index;
    ts_source__index_free(ix);
    uint32_t n = 0;
    ts_bbox ext = {0, 0, 0, 0};
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->kind[i] == TS_GEOM_NONE)
            continue;
        const ts_bbox *b = &s->bbox[i];
        if (n++ == 0) {
            ext = *b;
            continue;
        }
        ext.minx = b->minx < ext.minx ? b->minx : ext.minx;
        ext.miny = b->miny < ext.miny ? b->miny : ext.miny;
        ext.maxx = b->maxx > ext.maxx ? b->maxx : ext.maxx;
        ext.maxy = b->maxy > ext.maxy ? b->maxy : ext.maxy;
    }
    if (n == 0)
        return TS_OK;

    /* level sizes, bottom-up; there is always a root above the leaves */
    uint64_t total = n;
    uint32_t cnt = n;
    ix->nlevels = 0;
    ix->level_end[ix->nlevels++] = n;
    do {
        cnt = (cnt + TS_INDEX_NODE - 1) / TS_INDEX_NODE;
        total += cnt;
        ix->level_end[ix->nlevels++] = (uint32_t)total;
    } while (cnt > 1);
    if (total > UINT32_MAX)
        return TS_FAIL(err, TS_ELIMIT, "store %s: too many features to index", s->name);

    uint64_t *keys = malloc((size_t)n * sizeof *keys);
    uint64_t *tmp = malloc((size_t)n * sizeof *tmp);
    ix->boxes = malloc((size_t)total * 4 * sizeof *ix->boxes);
    ix->idx = malloc((size_t)total * sizeof *ix->idx);
    if (keys == NULL || tmp == NULL || ix->boxes == NULL || ix->idx == NULL) {
        free(keys);
        free(tmp);
        ts_source__index_free(ix);
        return TS_FAIL(err, TS_ENOMEM, "store %s: index of %u features", s->name, n);
    }
    ix->nitems = n;
    ix->nnodes = (uint32_t)total;

    double w = ext.maxx - ext.minx, h = ext.maxy - ext.miny;
    double sx = w > 0 ? 65535.0 / w : 0, sy = h > 0 ? 65535.0 / h : 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->kind[i] == TS_GEOM_NONE)
            continue;
        const ts_bbox *b = &s->bbox[i];
        uint32_t hx = (uint32_t)((0.5 * (b->minx + b->maxx) - ext.minx) * sx);
        uint32_t hy = (uint32_t)((0.5 * (b->miny + b->maxy) - ext.miny) * sy);
        hx = hx > 65535 ? 65535 : hx;
        hy = hy > 65535 ? 65535 : hy;
        keys[k++] = ts_grid_hilbert(65536, hx, hy) << 32 | i;
    }
    sort_by_high(keys, tmp, n);
    free(tmp);

    for (uint32_t i = 0; i < n; i++) {
        uint32_t fid = (uint32_t)keys[i];
        const ts_bbox *b = &s->bbox[fid];
        double *o = ix->boxes + 4 * (size_t)i;
        o[0] = b->minx;
        o[1] = b->miny;
        o[2] = b->maxx;
        o[3] = b->maxy;
        ix->idx[i] = fid;
    }
    free(keys);

    /* parents: each groups up to TS_INDEX_NODE consecutive nodes of the level below */
    uint32_t pos = 0, out = n;
    for (int l = 0; l + 1 < ix->nlevels; l++) {
        uint32_t end = ix->level_end[l];
        while (pos < end) {
            uint32_t first = pos;
            const double *c = ix->boxes + 4 * (size_t)pos;
            double b0 = c[0], b1 = c[1], b2 = c[2], b3 = c[3];
            for (uint32_t j = 1; j < TS_INDEX_NODE && pos + j < end; j++) {
                c = ix->boxes + 4 * (size_t)(pos + j);
                b0 = c[0] < b0 ? c[0] : b0;
                b1 = c[1] < b1 ? c[1] : b1;
                b2 = c[2] > b2 ? c[2] : b2;
                b3 = c[3] > b3 ? c[3] : b3;
            }
            pos = end - pos > TS_INDEX_NODE ? pos + TS_INDEX_NODE : end;
            double *o = ix->boxes + 4 * (size_t)out;
            o[0] = b0;
            o[1] = b1;
            o[2] = b2;
            o[3] = b3;
            ix->idx[out++] = first;
        }
    }
    return TS_OK;
}

/* Sort ids[0..k) ascending. ids has room for 2k entries; the upper half is scratch. */
static void
sort_ids(uint32_t *ids, size_t k)
{
    if (k <= 32) {
        for (size_t i = 1; i < k; i++) {
            uint32_t v = ids[i];
            size_t j = i;
            for (; j > 0 && ids[j - 1] > v; j--)
                ids[j] = ids[j - 1];
            ids[j] = v;
        }
        return;
    }
    uint32_t lo = ids[0], hi = ids[0];
    for (size_t i = 1; i < k; i++) {
        lo = ids[i] < lo ? ids[i] : lo;
        hi = ids[i] > hi ? ids[i] : hi;
    }
    uint64_t range = (uint64_t)hi - lo + 1;
    uint32_t *scratch = ids + k;
    if ((range + 31) / 32 <= k) {
        /* dense: a bitmap over [lo, hi] in the scratch half */
        size_t words = (size_t)((range + 31) / 32);
        memset(scratch, 0, words * sizeof *scratch);
        for (size_t i = 0; i < k; i++) {
            uint32_t d = ids[i] - lo;
            scratch[d >> 5] |= 1u << (d & 31);
        }
        size_t o = 0;
        for (size_t w = 0; w < words; w++) {
            uint32_t bits = scratch[w];
            while (bits != 0) {
                ids[o++] = lo + (uint32_t)(w * 32 + (size_t)__builtin_ctz(bits));
                bits &= bits - 1;
            }
        }
        return;
    }
    /* sparse: LSD radix sort on id - lo, 11 bits per pass */
    uint32_t *a = ids, *b = scratch;
    uint32_t span = hi - lo;
    size_t cnt[2048];
    for (int shift = 0; shift == 0 || (shift < 32 && (span >> shift) != 0); shift += 11) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < k; i++)
            cnt[((a[i] - lo) >> shift) & 2047]++;
        size_t sum = 0;
        for (int d = 0; d < 2048; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < k; i++)
            b[cnt[((a[i] - lo) >> shift) & 2047]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    if (a != ids)
        memcpy(ids, a, k * sizeof *ids);
}

static int
idvec_reserve(ts_idvec *v, size_t need)
{
    if (need <= v->cap)
        return 0;
    size_t cap = v->cap ? v->cap : 256;
    while (cap < need)
        cap *= 2;
    uint32_t *p = realloc(v->ids, cap * sizeof *p);
    if (p == NULL)
        return -1;
    v->ids = p;
    v->cap = cap;
    return 0;
}

ts_status
ts_store_query(const ts_store *s, const ts_bbox *q, ts_idvec *v)
{
    const ts_index *ix = &s->index;
    v->n = 0;
    /* written so that NaN bounds give no hits */
    if (ix->nitems == 0 || !(q->minx <= q->maxx && q->miny <= q->maxy))
        return TS_OK;
    const double qx0 = q->minx, qy0 = q->miny, qx1 = q->maxx, qy1 = q->maxy;
    /* a node is a run of up to TS_INDEX_NODE siblings; the stack holds runs to visit */
    uint32_t stack_pos[TS_INDEX_MAXLEVELS * TS_INDEX_NODE];
    int stack_lvl[TS_INDEX_MAXLEVELS * TS_INDEX_NODE];
    int sp = 0;
    uint32_t pos = ix->nnodes - 1;
    int lvl = ix->nlevels - 1;
    size_t n = 0;
    for (;;) {
        uint32_t end = ix->level_end[lvl];
        if (end - pos > TS_INDEX_NODE)
            end = pos + TS_INDEX_NODE;
        for (uint32_t i = pos; i < end; i++) {
            const double *b = ix->boxes + 4 * (size_t)i;
            if (b[0] > qx1 || b[1] > qy1 || b[2] < qx0 || b[3] < qy0)
                continue;
            if (lvl == 0) {
                if (n == v->cap && idvec_reserve(v, n + 1) != 0)
                    return TS_ENOMEM;
                v->ids[n++] = ix->idx[i];
            } else if (b[0] >= qx0 && b[1] >= qy0 && b[2] <= qx1 && b[3] <= qy1) {
                /* inside the query: its leaves are one run, take them untested */
                uint64_t j = i - ix->level_end[lvl - 1], shift = 4 * (uint64_t)lvl;
                uint64_t l0 = j << shift, l1 = (j + 1) << shift;
                l1 = l1 < ix->nitems ? l1 : ix->nitems;
                if (idvec_reserve(v, n + (size_t)(l1 - l0)) != 0)
                    return TS_ENOMEM;
                memcpy(v->ids + n, ix->idx + l0, (size_t)(l1 - l0) * sizeof *v->ids);
                n += (size_t)(l1 - l0);
            } else {
                stack_pos[sp] = ix->idx[i];
                stack_lvl[sp] = lvl - 1;
                sp++;
            }
        }
        if (sp == 0)
            break;
        sp--;
        pos = stack_pos[sp];
        lvl = stack_lvl[sp];
    }
    if (n > 1) {
        if (idvec_reserve(v, 2 * n) != 0)
            return TS_ENOMEM;
        sort_ids(v->ids, n);
    }
    v->n = n;
    return TS_OK;
}
