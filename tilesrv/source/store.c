/* source/store.c — the feature store: flat coordinate arrays per level of detail, per-
 * feature offsets, kinds and bboxes, typed attributes with strings interned in one pool,
 * and the builder that fills it (used by the OGR loader, feeds and tests). Nothing here
 * calls GDAL, PROJ or GEOS. */
#include "source/source.h"
#include "source/source_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define STRCHUNK_MIN (64 * 1024)

struct ts_store_builder {
    ts_store *s;
    /* intern table: open addressing over the pool's strings */
    const char **tab;
    uint64_t *hashes;
    size_t tab_cap, tab_n;
    ts_flat tmp;
    uint64_t added;
    int64_t next_origin; /* origin id of the next feature, -1 = none */
};

/* ---- allocation helpers ---- */

/* Grow the array whose pointer is at pp (elements of size sz) to hold at least need
 * elements, doubling. The pointer is accessed through memcpy, so any element type works
 * without aliasing trouble. 0 or -1. */
static int
grow(void *pp, uint64_t *cap, uint64_t need, size_t sz, uint64_t first)
{
    if (need <= *cap)
        return 0;
    uint64_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = realloc(p, (size_t)c * sz);
    if (q == NULL)
        return -1;
    memcpy(pp, &q, sizeof q);
    *cap = c;
    return 0;
}

/* Shrink the array at pp to exactly n elements (best effort: keeps the block on failure). */
static void
shrink(void *pp, uint64_t *cap, uint64_t n, size_t sz)
{
    if (n == 0 || n >= *cap)
        return;
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = realloc(p, (size_t)n * sz);
    if (q != NULL) {
        memcpy(pp, &q, sizeof q);
        *cap = n;
    }
}

int
ts_source__level_append(ts_level *lv, const double *xy, size_t npts, const uint32_t *counts,
                        size_t nparts)
{
    if (grow(&lv->xy, &lv->cap_pts, lv->npts + npts, 2 * sizeof(double), 4096) != 0 ||
        grow(&lv->counts, &lv->cap_counts, lv->ncounts + nparts, sizeof(uint32_t), 1024) != 0)
        return -1;
    if (npts > 0)
        memcpy(lv->xy + 2 * lv->npts, xy, npts * 2 * sizeof(double));
    if (nparts > 0)
        memcpy(lv->counts + lv->ncounts, counts, nparts * sizeof(uint32_t));
    lv->npts += npts;
    lv->ncounts += nparts;
    return 0;
}

int
ts_source__level_add_own(ts_level *lv, uint32_t fid, const double *xy, size_t npts,
                         const uint32_t *counts, size_t nparts)
{
    if (lv->ncounts + nparts > UINT32_MAX)
        return -1;
    uint64_t old = lv->cap_off;
    if (grow(&lv->pt_off, &lv->cap_off, lv->nown + 2, sizeof *lv->pt_off, 1024) != 0)
        return -1;
    if (lv->cap_off != old) {
        /* part_off follows pt_off's capacity */
        uint32_t *po = realloc(lv->part_off, (size_t)lv->cap_off * sizeof *po);
        if (po == NULL) {
            lv->cap_off = old; /* pt_off is larger than that: harmless */
            return -1;
        }
        lv->part_off = po;
    }
    if (old == 0) {
        lv->pt_off[0] = 0;
        lv->part_off[0] = 0;
    }
    if (ts_source__level_append(lv, xy, npts, counts, nparts) != 0)
        return -1;
    lv->own[fid >> 6] |= (uint64_t)1 << (fid & 63);
    lv->nown++;
    lv->pt_off[lv->nown] = lv->npts;
    lv->part_off[lv->nown] = (uint32_t)lv->ncounts;
    return 0;
}

void
ts_source__level_seal(ts_level *lv, uint32_t n)
{
    uint32_t sum = 0;
    for (size_t w = 0; w <= n / 64; w++) {
        lv->rank[w] = sum;
        sum += (uint32_t)__builtin_popcountll(lv->own[w]);
    }
    if (lv->nown == 0 && lv->cap_off == 0) {
        /* nothing of its own: the offsets still need their leading 0 */
        lv->pt_off = calloc(1, sizeof *lv->pt_off);
        lv->part_off = calloc(1, sizeof *lv->part_off);
        lv->cap_off = 1;
    }
    shrink(&lv->xy, &lv->cap_pts, lv->npts, 2 * sizeof(double));
    shrink(&lv->counts, &lv->cap_counts, lv->ncounts, sizeof(uint32_t));
}

static void
level_free(ts_level *lv)
{
    free(lv->xy);
    free(lv->counts);
    free(lv->pt_off);
    free(lv->part_off);
    free(lv->own);
    free(lv->rank);
}

static void
store_free(ts_store *s)
{
    if (s == NULL)
        return;
    free(s->name);
    for (int i = 0; i < s->nfields; i++)
        free(s->fields[i]);
    free(s->fields);
    for (int i = 0; i < s->nsrc_fields; i++)
        free(s->src_fields[i]);
    free(s->src_fields);
    free(s->table);
    free(s->kind);
    free(s->bbox);
    free(s->values);
    for (ts_strchunk *c = s->strings, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    for (int i = 0; i < s->nlevels; i++)
        level_free(&s->levels[i]);
    free(s->levels);
    ts_source__index_free(&s->index);
    free(s->origin);
    free(s);
}

uint64_t
ts_source__store_bytes(const ts_store *s)
{
    uint64_t b = sizeof *s + (uint64_t)s->cap * (sizeof(uint8_t) + sizeof(ts_bbox)) +
                 (uint64_t)s->cap * (uint64_t)s->nfields * sizeof(ts_value);
    for (const ts_strchunk *c = s->strings; c != NULL; c = c->next)
        b += sizeof *c + c->cap;
    for (int i = 0; i < s->nlevels; i++) {
        const ts_level *lv = &s->levels[i];
        b += lv->cap_pts * 2 * sizeof(double) + lv->cap_counts * sizeof(uint32_t);
        if (i == 0)
            b += ((uint64_t)s->cap + 1) * (sizeof(uint64_t) + sizeof(uint32_t));
        else
            b += lv->cap_off * (sizeof(uint64_t) + sizeof(uint32_t)) +
                 ((uint64_t)s->n / 64 + 1) * (sizeof(uint64_t) + sizeof(uint32_t));
    }
    b += (uint64_t)s->index.nnodes * (4 * sizeof(double) + sizeof(uint32_t));
    return b;
}

/* ---- the builder ---- */

ts_store_builder *
ts_store_builder_new(const char *name, const char *const *field_names, int nfields, ts_err *err)
{
    if (nfields < 0 || (nfields > 0 && field_names == NULL)) {
        TS_FAIL(err, TS_EINVAL, "store %s: bad field list", name ? name : "?");
        return NULL;
    }
    ts_store_builder *b = calloc(1, sizeof *b);
    ts_store *s = calloc(1, sizeof *s);
    if (b == NULL || s == NULL)
        goto nomem;
    b->s = s;
    b->next_origin = -1;
    atomic_init(&s->refs, 1);
    s->name = strdup(name ? name : "");
    s->fields = calloc((size_t)nfields + 1, sizeof *s->fields);
    s->levels = calloc(1, sizeof *s->levels);
    if (s->name == NULL || s->fields == NULL || s->levels == NULL)
        goto nomem;
    s->nlevels = 1;
    for (int i = 0; i < nfields; i++) {
        s->fields[i] = strdup(field_names[i] ? field_names[i] : "");
        if (s->fields[i] == NULL)
            goto nomem;
        s->nfields = i + 1;
    }
    return b;

nomem:
    TS_FAIL(err, TS_ENOMEM, "store %s", name ? name : "?");
    if (b != NULL)
        b->s = NULL;
    store_free(s);
    free(b);
    return NULL;
}

void
ts_store_builder_free(ts_store_builder *b)
{
    if (b == NULL)
        return;
    store_free(b->s);
    free(b->tab);
    free(b->hashes);
    ts_source__flat_fini(&b->tmp);
    free(b);
}

void
ts_source__builder_set_origin(ts_store_builder *b, int64_t id)
{
    b->next_origin = id;
}

/* Record the origin id of feature fid (and -1 for earlier features without one). */
static int
set_origin(ts_store *s, uint32_t fid, int64_t id)
{
    if (s->origin == NULL && id < 0)
        return 0;
    if (fid >= s->origin_cap) {
        uint64_t cap = s->origin_cap ? (uint64_t)s->origin_cap * 2 : 1024;
        while (cap <= fid)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        int64_t *o = realloc(s->origin, (size_t)cap * sizeof *o);
        if (o == NULL)
            return -1;
        for (uint64_t i = s->origin_cap; i < cap; i++)
            o[i] = -1;
        s->origin = o;
        s->origin_cap = (uint32_t)cap;
    }
    s->origin[fid] = id;
    return 0;
}

ts_store *
ts_source__builder_store(ts_store_builder *b)
{
    return b->s;
}

/* A copy of str in the store's pool. */
static const char *
pool_copy(ts_store *s, const char *str, size_t len)
{
    ts_strchunk *c = s->strings;
    if (c == NULL || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > STRCHUNK_MIN ? len + 1 : STRCHUNK_MIN;
        ts_strchunk *n = malloc(sizeof *n + cap);
        if (n == NULL)
            return NULL;
        n->cap = cap;
        n->used = 0;
        /* an oversized string gets a chunk of its own behind the current one */
        if (c != NULL && cap > STRCHUNK_MIN) {
            n->next = c->next;
            c->next = n;
        } else {
            n->next = c;
            s->strings = n;
        }
        c = n;
    }
    char *p = c->data + c->used;
    memcpy(p, str, len);
    p[len] = '\0';
    c->used += len + 1;
    return p;
}

/* The pooled copy of str, shared by all equal strings of the store. */
static const char *
intern(ts_store_builder *b, const char *str)
{
    size_t len = strlen(str);
    uint64_t h = ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, str, len)) | 1;
    if ((b->tab_n + 1) * 10 > b->tab_cap * 7) {
        size_t cap = b->tab_cap ? b->tab_cap * 2 : 1024;
        const char **tab = calloc(cap, sizeof *tab);
        uint64_t *hs = calloc(cap, sizeof *hs);
        if (tab == NULL || hs == NULL) {
            free(tab);
            free(hs);
            return NULL;
        }
        for (size_t i = 0; i < b->tab_cap; i++) {
            if (b->hashes[i] == 0)
                continue;
            size_t j = b->hashes[i] & (cap - 1);
            while (hs[j] != 0)
                j = (j + 1) & (cap - 1);
            hs[j] = b->hashes[i];
            tab[j] = b->tab[i];
        }
        free(b->tab);
        free(b->hashes);
        b->tab = tab;
        b->hashes = hs;
        b->tab_cap = cap;
    }
    size_t j = h & (b->tab_cap - 1);
    while (b->hashes[j] != 0) {
        if (b->hashes[j] == h && strcmp(b->tab[j], str) == 0)
            return b->tab[j];
        j = (j + 1) & (b->tab_cap - 1);
    }
    const char *p = pool_copy(b->s, str, len);
    if (p == NULL)
        return NULL;
    b->hashes[j] = h;
    b->tab[j] = p;
    b->tab_n++;
    return p;
}

static int
reserve_features(ts_store *s, uint32_t need)
{
    if (need < s->cap)
        return 0;
    uint64_t cap = s->cap ? (uint64_t)s->cap * 2 : 1024;
    if (cap > UINT32_MAX - 1)
        cap = UINT32_MAX - 1;
    if (need >= cap)
        return -1;
    ts_level *lv = &s->levels[0];
    uint8_t *kind = realloc(s->kind, (size_t)cap);
    if (kind == NULL)
        return -1;
    s->kind = kind;
    ts_bbox *bb = realloc(s->bbox, (size_t)cap * sizeof *bb);
    if (bb == NULL)
        return -1;
    s->bbox = bb;
    if (s->nfields > 0) {
        ts_value *v = realloc(s->values, (size_t)cap * (size_t)s->nfields * sizeof *v);
        if (v == NULL)
            return -1;
        s->values = v;
    }
    uint64_t *po = realloc(lv->pt_off, ((size_t)cap + 1) * sizeof *po);
    if (po == NULL)
        return -1;
    lv->pt_off = po;
    uint32_t *qo = realloc(lv->part_off, ((size_t)cap + 1) * sizeof *qo);
    if (qo == NULL)
        return -1;
    lv->part_off = qo;
    if (s->cap == 0) {
        lv->pt_off[0] = 0;
        lv->part_off[0] = 0;
    }
    s->cap = (uint32_t)cap;
    return 0;
}

ts_status
ts_source__builder_add_flat(ts_store_builder *b, const ts_flat *f, const ts_value *values,
                            ts_err *err)
{
    ts_store *s = b->s;
    uint32_t fid = s->n;
    if (reserve_features(s, fid + 1) != 0)
        return TS_FAIL(err, TS_ENOMEM, "store %s: %u features", s->name, fid + 1);
    ts_level *lv = &s->levels[0];
    size_t nparts = f->kind == TS_GEOM_NONE ? 0 : f->nparts;
    size_t npts = nparts == 0 ? 0 : f->npts;
    if (lv->ncounts + nparts > UINT32_MAX)
        return TS_FAIL(err, TS_ELIMIT, "store %s: more than 2^32 parts", s->name);
    if (ts_source__level_append(lv, f->xy, npts, f->counts, nparts) != 0)
        return TS_FAIL(err, TS_ENOMEM, "store %s: %llu vertices", s->name,
                       (unsigned long long)(lv->npts + npts));
    lv->pt_off[fid + 1] = lv->npts;
    lv->part_off[fid + 1] = (uint32_t)lv->ncounts;
    s->kind[fid] = (uint8_t)(nparts == 0 ? TS_GEOM_NONE : f->kind);
    ts_bbox bb = {0, 0, 0, 0};
    if (npts > 0) {
        bb = (ts_bbox){f->xy[0], f->xy[1], f->xy[0], f->xy[1]};
        for (size_t i = 1; i < npts; i++) {
            double x = f->xy[2 * i], y = f->xy[2 * i + 1];
            bb.minx = x < bb.minx ? x : bb.minx;
            bb.maxx = x > bb.maxx ? x : bb.maxx;
            bb.miny = y < bb.miny ? y : bb.miny;
            bb.maxy = y > bb.maxy ? y : bb.maxy;
        }
    }
    s->bbox[fid] = bb;
    ts_value *row = s->values + (size_t)fid * (size_t)s->nfields;
    for (int i = 0; i < s->nfields; i++) {
        ts_value v = values != NULL ? values[i] : (ts_value){.type = TS_VAL_NULL};
        if (v.type == TS_VAL_STR) {
            if (v.u.s == NULL) {
                v.type = TS_VAL_NULL;
            } else if ((v.u.s = intern(b, v.u.s)) == NULL) {
                return TS_FAIL(err, TS_ENOMEM, "store %s: strings", s->name);
            }
        } else if (v.type != TS_VAL_INT && v.type != TS_VAL_REAL && v.type != TS_VAL_BOOL) {
            v = (ts_value){.type = TS_VAL_NULL};
        }
        if (v.type == TS_VAL_NULL)
            v.u.i = 0;
        row[i] = v;
    }
    if (set_origin(s, fid, b->next_origin) != 0)
        return TS_FAIL(err, TS_ENOMEM, "store %s: origin ids", s->name);
    b->next_origin = -1;
    s->n = fid + 1;
    b->added++;
    return TS_OK;
}

ts_status
ts_store_builder_add(ts_store_builder *b, ts_geom_kind kind, const double *xy,
                     const uint32_t *counts, uint32_t nparts, const ts_value *values, ts_err *err)
{
    if (b == NULL)
        return TS_FAIL(err, TS_EINVAL, "no builder");
    if (kind < TS_GEOM_NONE || kind > TS_GEOM_POLYGON)
        return TS_FAIL(err, TS_EINVAL, "store %s: bad geometry kind %d", b->s->name, (int)kind);
    if (kind == TS_GEOM_NONE)
        nparts = 0;
    if (nparts > 0 && (xy == NULL || counts == NULL))
        return TS_FAIL(err, TS_EINVAL, "store %s: feature %u: parts without coordinates",
                       b->s->name, b->s->n);
    ts_flat *f = &b->tmp;
    ts_source__flat_reset(f, kind);
    size_t off = 0;
    for (uint32_t k = 0; k < nparts; k++) {
        if (ts_source__flat_add_part(f, xy + 2 * off, counts[k], 0) != 0)
            return TS_FAIL(err, TS_ENOMEM, "store %s: feature scratch", b->s->name);
        off += counts[k];
    }
    if (!ts_source__flat_sane(f))
        return TS_FAIL(err, TS_EINVAL, "store %s: feature %u: non-finite or huge coordinate",
                       b->s->name, b->s->n);
    if (kind == TS_GEOM_POLYGON)
        ts_source__flat_infer_holes(f);
    int dropped;
    if (ts_source__flat_clean(f, &dropped) == 0)
        f->kind = TS_GEOM_NONE;
    return ts_source__builder_add_flat(b, f, values, err);
}

ts_status
ts_store_builder_finish(ts_store_builder *b, ts_store **out, ts_err *err)
{
    *out = NULL;
    if (b == NULL)
        return TS_FAIL(err, TS_EINVAL, "no builder");
    ts_store *s = b->s;
    ts_level *lv = &s->levels[0];
    if (s->cap == 0 && reserve_features(s, 0) != 0) {
        ts_store_builder_free(b);
        return TS_FAIL(err, TS_ENOMEM, "store");
    }
    /* give back what geometric growth over-allocated */
    shrink(&lv->xy, &lv->cap_pts, lv->npts, 2 * sizeof(double));
    shrink(&lv->counts, &lv->cap_counts, lv->ncounts, sizeof(uint32_t));
    if (s->n > 0 && s->n + 1 < s->cap) {
        /* the offsets have n + 1 entries: keep n + 1 slots of everything */
        uint64_t keep = (uint64_t)s->n + 1, nf = (uint64_t)s->nfields;
        uint64_t c[5] = {s->cap, s->cap, s->cap, s->cap, (uint64_t)s->cap * nf};
        shrink(&s->kind, &c[0], keep, sizeof *s->kind);
        shrink(&s->bbox, &c[1], keep, sizeof *s->bbox);
        shrink(&lv->pt_off, &c[2], keep, sizeof *lv->pt_off);
        shrink(&lv->part_off, &c[3], keep, sizeof *lv->part_off);
        if (nf > 0)
            shrink(&s->values, &c[4], keep * nf, sizeof *s->values);
        s->cap = (uint32_t)keep;
    }
    ts_status rc = ts_source__index_build(s, err);
    if (rc != TS_OK) {
        ts_store_builder_free(b);
        return rc;
    }
    ts_bbox ext = {0, 0, 0, 0};
    int any = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->kind[i] == TS_GEOM_NONE)
            continue;
        const ts_bbox *bb = &s->bbox[i];
        if (!any) {
            ext = *bb;
            any = 1;
            continue;
        }
        ext.minx = bb->minx < ext.minx ? bb->minx : ext.minx;
        ext.miny = bb->miny < ext.miny ? bb->miny : ext.miny;
        ext.maxx = bb->maxx > ext.maxx ? bb->maxx : ext.maxx;
        ext.maxy = bb->maxy > ext.maxy ? bb->maxy : ext.maxy;
    }
    s->extent = ext;
    s->stats.read = b->added;
    s->stats.kept = s->n;
    s->stats.vertices = lv->npts;
    s->stats.bytes = ts_source__store_bytes(s);
    b->s = NULL;
    ts_store_builder_free(b);
    *out = s;
    return TS_OK;
}

/* ---- the store ---- */

ts_store *
ts_store_ref(ts_store *s)
{
    if (s != NULL)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void
ts_store_unref(ts_store *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        store_free(s);
}

const ts_store_stats *
ts_store_stats_get(const ts_store *s)
{
    return &s->stats;
}

uint32_t
ts_store_count(const ts_store *s)
{
    return s->n;
}

ts_bbox
ts_store_extent(const ts_store *s)
{
    return s->extent;
}

int
ts_store_nfields(const ts_store *s)
{
    return s->nfields;
}

const char *
ts_store_field_name(const ts_store *s, int field)
{
    if (field < 0 || field >= s->nfields)
        return NULL;
    return s->fields[field];
}

int
ts_store_field_index(const ts_store *s, const char *name)
{
    for (int i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i], name) == 0)
            return i;
    return -1;
}

int
ts_store_source_nfields(const ts_store *s)
{
    return s->nsrc_fields;
}

const char *
ts_store_source_field(const ts_store *s, int i)
{
    return i >= 0 && i < s->nsrc_fields ? s->src_fields[i] : NULL;
}

const char *
ts_store_table(const ts_store *s)
{
    return s->table ? s->table : "";
}

const ts_value *
ts_store_value(const ts_store *s, uint32_t fid, int field)
{
    return &s->values[(size_t)fid * (size_t)s->nfields + (size_t)field];
}

int
ts_store_nlevels(const ts_store *s)
{
    return s->nlevels;
}

int
ts_store_level_for_res(const ts_store *s, double res)
{
    /* Tolerances are usually half a pixel of some zoom exactly, and res at that zoom
     * comes out of a bbox / width division a few ulps either side of it: a relative slack
     * makes every render of that zoom (single tile, metatile, band) pick the same level. */
    for (int l = s->nlevels - 1; l > 0; l--)
        if (s->levels[l].tol <= res / 2 * (1 + 1e-9))
            return l;
    return 0;
}

void
ts_store_geom(const ts_store *s, int level, uint32_t fid, ts_geom *out)
{
    *out = (ts_geom){TS_GEOM_NONE, NULL, NULL, 0};
    if (fid >= s->n)
        return;
    if (level >= s->nlevels)
        level = s->nlevels - 1;
    if (level < 0)
        level = 0;
    uint64_t r = fid;
    for (; level > 0; level--) {
        const ts_level *up = &s->levels[level];
        uint64_t w = up->own[fid >> 6], bit = fid & 63;
        if (w >> bit & 1) {
            uint64_t below = w & (((uint64_t)1 << bit) - 1);
            r = up->rank[fid >> 6] + (uint64_t)__builtin_popcountll(below);
            break;
        }
    }
    const ts_level *lv = &s->levels[level];
    uint32_t p0 = lv->part_off[r], p1 = lv->part_off[r + 1];
    if (p1 == p0 || s->kind[fid] == TS_GEOM_NONE)
        return;
    out->kind = (ts_geom_kind)s->kind[fid];
    out->xy = lv->xy + 2 * lv->pt_off[r];
    out->counts = lv->counts + p0;
    out->nparts = p1 - p0;
}

void
ts_store_prefetch(const ts_store *s, int level, uint32_t fid)
{
    if (fid >= s->n)
        return;
    if (level >= s->nlevels)
        level = s->nlevels - 1;
    __builtin_prefetch(&s->kind[fid]);
    for (; level > 0; level--) {
        __builtin_prefetch(&s->levels[level].own[fid >> 6]);
        __builtin_prefetch(&s->levels[level].rank[fid >> 6]);
    }
    __builtin_prefetch(&s->levels[0].part_off[fid]);
    __builtin_prefetch(&s->levels[0].pt_off[fid]);
}

ts_bbox
ts_store_feature_bbox(const ts_store *s, uint32_t fid)
{
    if (fid >= s->n)
        return (ts_bbox){0, 0, 0, 0};
    return s->bbox[fid];
}

int64_t
ts_store_origin_id(const ts_store *s, uint32_t fid)
{
    if (s->origin == NULL || fid >= s->n || fid >= s->origin_cap)
        return -1;
    return s->origin[fid];
}

void
ts_idvec_fini(ts_idvec *v)
{
    if (v == NULL)
        return;
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}
