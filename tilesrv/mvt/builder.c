/* mvt/builder.c — the tile builder: layers, features with commit/rollback, per-layer
 * key/value interning, and ts_mvt_finish, which sizes the tile exactly, drops the smallest
 * features when it is over the limit, and writes the protobuf bytes. */
#include "mvt/mvt.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mvt/mvt_int.h"
#include "util/hash.h"
#include "util/utf8.h"

#define DEFAULT_EXTENT 4096u
#define DEFAULT_MAX_BYTES 500000u
#define MAX_EXTENT (1u << 24)
#define MAX_STRING (1u << 20)

/* ---- small helpers ---- */

ts_status
ts_mvt__grow(mvt_mem *m, void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return TS_OK;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return TS_ELIMIT;
        nc *= 2;
    }
    size_t add = (nc - *cap) * elem;
    if (m->used + add > m->max || m->used + add < m->used)
        return TS_ELIMIT;
    void *np = realloc(*p, nc * elem);
    if (np == NULL)
        return TS_ENOMEM;
    m->used += add;
    *p = np;
    *cap = nc;
    return TS_OK;
}

/* Append s[0..n) to buf as valid UTF-8: each byte that starts no valid sequence becomes
 * U+FFFD. */
static ts_status
put_utf8(mvt_mem *m, uint8_t **buf, size_t *len, size_t *cap, const uint8_t *s, size_t n)
{
    if (n == 0)
        return TS_OK;
    ts_status st = ts_mvt__grow(m, (void **)buf, cap, *len + 3 * n, 1);
    if (st != TS_OK)
        return st;
    uint8_t *o = *buf + *len;
    if (ts_utf8_valid(s, n)) {
        memcpy(o, s, n);
        *len += n;
        return TS_OK;
    }
    size_t i = 0, k = 0;
    while (i < n) {
        size_t len1 = s[i] < 0x80 ? 1 : s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
        if (len1 <= n - i && ts_utf8_valid(s + i, len1)) {
            memcpy(o + k, s + i, len1);
            k += len1;
            i += len1;
        } else {
            o[k++] = 0xef;
            o[k++] = 0xbf;
            o[k++] = 0xbd;
            i++;
        }
    }
    *len += k;
    return TS_OK;
}

/* ---- interning tables ---- */

/* A word-at-a-time hash (the tables hold short strings and encoded values). */
static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = TS_HASH_SEED ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ ts_hash_mix(w)) * 0x100000001b3ull;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return ts_hash_mix(h ^ w);
}

static const uint8_t *
table_entry(const mvt_table *t, uint32_t i, size_t *n)
{
    *n = t->off[i + 1] - t->off[i];
    return t->bytes + t->off[i];
}

/* A slot holds the entry's hash in its high 32 bits and index + 1 in the low 32 (0 =
 * empty), so probes past other entries rarely touch their bytes. */
#define SLOT_INDEX(v) ((uint32_t)(v))
#define SLOT_TAG(h) ((h) >> 32)

static void
table_rehash(mvt_table *t)
{
    memset(t->slots, 0, sizeof *t->slots * t->nslots);
    size_t mask = t->nslots - 1;
    for (uint32_t i = 0; i < t->n; i++) {
        size_t n;
        const uint8_t *e = table_entry(t, i, &n);
        uint64_t hv = hash_bytes(e, n);
        size_t h = (size_t)hv & mask;
        while (t->slots[h])
            h = (h + 1) & mask;
        t->slots[h] = (SLOT_TAG(hv) << 32) | (i + 1);
    }
}

/* Slot of p[0..n) (hash hv) in t: its index + 1 when present (*slot where it is), else 0
 * (*slot the empty slot it would take). */
static uint32_t
table_find(const mvt_table *t, const uint8_t *p, size_t n, uint64_t hv, size_t *slot)
{
    size_t mask = t->nslots - 1;
    size_t h = (size_t)hv & mask;
    for (;; h = (h + 1) & mask) {
        uint64_t v = t->slots[h];
        if (v == 0)
            break;
        if ((v >> 32) != SLOT_TAG(hv))
            continue;
        size_t en;
        const uint8_t *e = table_entry(t, SLOT_INDEX(v) - 1, &en);
        if (en == n && memcmp(e, p, n) == 0)
            break;
    }
    *slot = h;
    return SLOT_INDEX(t->slots[h]);
}

/* Index of p[0..n) in t, added when missing. */
static ts_status
table_intern(mvt_mem *m, mvt_table *t, const uint8_t *p, size_t n, uint32_t *idx)
{
    ts_status st;
    if (t->off_cap == 0) {
        if ((st = ts_mvt__grow(m, (void **)&t->off, &t->off_cap, 1, sizeof *t->off)) != TS_OK)
            return st;
        t->off[0] = 0;
    }
    if ((size_t)(t->n + 1) * 2 > t->nslots) {
        size_t ns = t->nslots ? t->nslots * 2 : 64, cap = t->nslots;
        uint64_t *slots = t->slots;
        if ((st = ts_mvt__grow(m, (void **)&slots, &cap, ns, sizeof *slots)) != TS_OK)
            return st;
        t->slots = slots;
        t->nslots = ns;
        table_rehash(t);
    }
    size_t slot;
    uint64_t hv = hash_bytes(p, n);
    uint32_t v = table_find(t, p, n, hv, &slot);
    if (v) {
        *idx = v - 1;
        return TS_OK;
    }
    if (t->n >= UINT32_MAX / 2)
        return TS_ELIMIT;
    if ((st = ts_mvt__grow(m, (void **)&t->bytes, &t->bytes_cap, t->nbytes + n, 1)) != TS_OK ||
        (st = ts_mvt__grow(m, (void **)&t->off, &t->off_cap, t->n + 2, sizeof *t->off)) != TS_OK)
        return st;
    memcpy(t->bytes + t->nbytes, p, n);
    t->nbytes += n;
    t->off[t->n + 1] = t->nbytes;
    t->slots[slot] = (SLOT_TAG(hv) << 32) | (t->n + 1);
    *idx = t->n++;
    return TS_OK;
}

/* Remove the entries from index mark on, newest first, so the hash slots return to the
 * state they had (linear probing undone in reverse order of insertion). */
static void
table_truncate(mvt_table *t, uint32_t mark)
{
    while (t->n > mark) {
        size_t n, slot;
        const uint8_t *e = table_entry(t, t->n - 1, &n);
        if (table_find(t, e, n, hash_bytes(e, n), &slot) == t->n)
            t->slots[slot] = 0;
        t->n--;
        t->nbytes = t->off[t->n];
    }
}

/* Empty t, keeping its memory. */
static void
table_clear(mvt_table *t)
{
    if (t->nslots)
        memset(t->slots, 0, sizeof *t->slots * t->nslots);
    t->n = 0;
    t->nbytes = 0;
}

static void
table_free(mvt_table *t)
{
    free(t->bytes);
    free(t->off);
    free(t->slots);
    free(t->remap);
}

/* ---- builder ---- */

ts_mvt_builder *
ts_mvt_builder_new(const ts_mvt_opts *o, ts_err *err)
{
    ts_mvt_opts d = {0};
    if (o != NULL)
        d = *o;
    if (d.extent == 0)
        d.extent = DEFAULT_EXTENT;
    if (d.extent > MAX_EXTENT) {
        TS_FAIL(err, TS_EINVAL, "extent %u: at most %u", d.extent, MAX_EXTENT);
        return NULL;
    }
    if (d.no_buffer)
        d.buffer = 0;
    else if (d.buffer == 0)
        d.buffer = d.extent / 16;
    if (d.buffer > d.extent * 8) {
        TS_FAIL(err, TS_EINVAL, "buffer %u: at most 8 x the extent %u", d.buffer, d.extent);
        return NULL;
    }
    if (d.max_bytes == 0)
        d.max_bytes = DEFAULT_MAX_BYTES;
    if (d.max_work_bytes == 0) {
        d.max_work_bytes = (size_t)256 << 20;
        if (d.max_bytes < SIZE_MAX / 16 && d.max_bytes * 16 > d.max_work_bytes)
            d.max_work_bytes = d.max_bytes * 16;
    }
    ts_mvt_builder *b = calloc(1, sizeof *b);
    if (b == NULL) {
        TS_FAIL(err, TS_ENOMEM, "mvt builder");
        return NULL;
    }
    b->o = d;
    b->mem.max = d.max_work_bytes;
    return b;
}

static void
layer_free(mvt_layer *l)
{
    free(l->name);
    table_free(&l->keys);
    table_free(&l->values);
    free(l->feats);
    free(l->tags);
    free(l->geom);
}

void
ts_mvt_builder_free(ts_mvt_builder *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->layers_cap; i++)
        layer_free(&b->layers[i]);
    free(b->layers);
    free(b->f.pts);
    free(b->f.parts);
    free(b->f.attrs);
    free(b->f.abytes);
    free(b->d0);
    free(b->d1);
    free(b->tx);
    free(b->order);
    free(b);
}

static void
open_clear(mvt_open *f)
{
    f->open = 0;
    f->npts = f->nparts = f->nattrs = f->nabytes = 0;
    f->has_id = 0;
    f->have_ext = f->ext_alive = 0;
}

void
ts_mvt_builder_reset(ts_mvt_builder *b)
{
    for (size_t i = 0; i < b->nlayers; i++) {
        mvt_layer *l = &b->layers[i];
        free(l->name);
        l->name = NULL;
        l->name_len = 0;
        table_clear(&l->keys);
        table_clear(&l->values);
        l->nfeats = l->ntags = l->ngeom = 0;
    }
    b->nlayers = 0;
    b->seq = 0;
    b->empty = b->oversize = 0;
    open_clear(&b->f);
}

const ts_mvt_opts *
ts_mvt_builder_opts(const ts_mvt_builder *b)
{
    return &b->o;
}

int
ts_mvt_layer_find(const ts_mvt_builder *b, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < b->nlayers; i++)
        if (b->layers[i].name_len == n && memcmp(b->layers[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

int
ts_mvt_layer_add(ts_mvt_builder *b, const char *name, ts_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 255) {
        TS_FAIL(err, TS_EINVAL, "layer name: 1 to 255 bytes");
        return -1;
    }
    if (!ts_utf8_valid((const uint8_t *)name, n)) {
        TS_FAIL(err, TS_EINVAL, "layer name is not UTF-8");
        return -1;
    }
    if (ts_mvt_layer_find(b, name) >= 0) {
        TS_FAIL(err, TS_EINVAL, "layer '%s' twice in one tile", name);
        return -1;
    }
    if (b->nlayers == b->layers_cap) {
        size_t cap = b->layers_cap;
        mvt_layer *nl = b->layers;
        ts_status st = ts_mvt__grow(&b->mem, (void **)&nl, &cap, b->nlayers + 1, sizeof *nl);
        if (st != TS_OK) {
            TS_FAIL(err, st, "layer '%s'", name);
            return -1;
        }
        memset(nl + b->layers_cap, 0, sizeof *nl * (cap - b->layers_cap));
        b->layers = nl;
        b->layers_cap = cap;
    }
    mvt_layer *l = &b->layers[b->nlayers];
    l->name = malloc(n + 1);
    if (l->name == NULL) {
        TS_FAIL(err, TS_ENOMEM, "layer '%s'", name);
        return -1;
    }
    memcpy(l->name, name, n + 1);
    l->name_len = n;
    return (int)b->nlayers++;
}

uint32_t
ts_mvt_layer_count(const ts_mvt_builder *b, int layer)
{
    if (layer < 0 || (size_t)layer >= b->nlayers)
        return 0;
    return (uint32_t)b->layers[layer].nfeats;
}

/* ---- features ---- */

void
ts_mvt_feature_rollback(ts_mvt_builder *b)
{
    open_clear(&b->f);
}

/* Roll the open feature back and pass st on. */
static ts_status
fail(ts_mvt_builder *b, ts_status st)
{
    ts_mvt_feature_rollback(b);
    return st;
}

ts_status
ts_mvt_feature_begin(ts_mvt_builder *b, int layer, ts_mvt_geom_type type, ts_err *err)
{
    if (b->f.open)
        return fail(b, TS_FAIL(err, TS_EINVAL, "a feature is already open"));
    if (layer < 0 || (size_t)layer >= b->nlayers)
        return TS_FAIL(err, TS_EINVAL, "no layer %d", layer);
    if (type != TS_MVT_POINT && type != TS_MVT_LINE && type != TS_MVT_POLYGON)
        return TS_FAIL(err, TS_EINVAL, "geometry type %d", (int)type);
    open_clear(&b->f);
    b->f.open = 1;
    b->f.layer = layer;
    b->f.type = (uint8_t)type;
    return TS_OK;
}

ts_status
ts_mvt_feature_set_id(ts_mvt_builder *b, uint64_t id, ts_err *err)
{
    if (!b->f.open)
        return TS_FAIL(err, TS_EINVAL, "no open feature");
    b->f.id = id;
    b->f.has_id = 1;
    return TS_OK;
}

/* The Value message content for v, into out (room for 10 + 1 bytes, strings apart). */
static size_t
encode_scalar(const ts_mvt_value *v, uint8_t *out)
{
    uint8_t *o = out;
    switch (v->type) {
    case TS_MVT_INT:
        if (v->v.i < 0) {
            *o++ = PB_KEY(6, PB_VARINT);
            o = ts_mvt__varint_put(o, ts_mvt__zigzag64(v->v.i));
        } else {
            *o++ = PB_KEY(4, PB_VARINT);
            o = ts_mvt__varint_put(o, (uint64_t)v->v.i);
        }
        break;
    case TS_MVT_UINT:
        *o++ = PB_KEY(5, PB_VARINT);
        o = ts_mvt__varint_put(o, v->v.u);
        break;
    case TS_MVT_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->v.d, 8);
        *o++ = PB_KEY(3, PB_FIXED64);
        for (int i = 0; i < 8; i++)
            *o++ = (uint8_t)(bits >> (8 * i));
        break;
    }
    case TS_MVT_FLOAT: {
        double d = v->v.d; /* out of float range: the infinity (conversion would be UB) */
        float f = d > FLT_MAX ? INFINITY : d < -FLT_MAX ? -INFINITY : (float)d;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        *o++ = PB_KEY(2, PB_FIXED32);
        for (int i = 0; i < 4; i++)
            *o++ = (uint8_t)(bits >> (8 * i));
        break;
    }
    case TS_MVT_BOOL:
        *o++ = PB_KEY(7, PB_VARINT);
        *o++ = v->v.b ? 1 : 0;
        break;
    default:
        break;
    }
    return (size_t)(o - out);
}

ts_status
ts_mvt_feature_attr(ts_mvt_builder *b, const char *key, const ts_mvt_value *v, ts_err *err)
{
    mvt_open *f = &b->f;
    if (!f->open)
        return TS_FAIL(err, TS_EINVAL, "no open feature");
    size_t kl = key ? strlen(key) : 0;
    if (kl == 0 || kl > MAX_STRING)
        return fail(b, TS_FAIL(err, TS_EINVAL, "attribute key: 1 byte to 1 MiB"));
    if (v == NULL || v->type < TS_MVT_STRING || v->type > TS_MVT_BOOL)
        return fail(b, TS_FAIL(err, TS_EINVAL, "attribute '%s': unknown value type", key));
    if (v->type == TS_MVT_STRING && (v->v.s.len > MAX_STRING || (v->v.s.p == NULL && v->v.s.len)))
        return fail(b, TS_FAIL(err, TS_EINVAL, "attribute '%s': string over 1 MiB", key));
    ts_status st =
        ts_mvt__grow(&b->mem, (void **)&f->attrs, &f->attrs_cap, f->nattrs + 1, sizeof *f->attrs);
    if (st != TS_OK)
        return fail(b, TS_FAIL(err, st, "attribute '%s'", key));
    mvt_attr *a = &f->attrs[f->nattrs];
    a->koff = f->nabytes;
    st = put_utf8(&b->mem, &f->abytes, &f->nabytes, &f->abytes_cap, (const uint8_t *)key, kl);
    if (st != TS_OK)
        return fail(b, TS_FAIL(err, st, "attribute '%s'", key));
    a->klen = f->nabytes - a->koff;
    for (size_t i = 0; i < f->nattrs; i++)
        if (f->attrs[i].klen == a->klen &&
            memcmp(f->abytes + f->attrs[i].koff, f->abytes + a->koff, a->klen) == 0)
            return fail(b, TS_FAIL(err, TS_EINVAL, "attribute '%s' twice in one feature", key));
    a->voff = f->nabytes;
    if (v->type == TS_MVT_STRING) {
        /* key byte, length varint (patched below), bytes */
        size_t sl = v->v.s.len;
        st = ts_mvt__grow(&b->mem, (void **)&f->abytes, &f->abytes_cap, f->nabytes + 11, 1);
        if (st != TS_OK)
            return fail(b, TS_FAIL(err, st, "attribute '%s'", key));
        size_t hdr = f->nabytes;
        f->nabytes += 1 + ts_mvt__varint_len(sl);
        size_t s0 = f->nabytes;
        st = put_utf8(&b->mem, &f->abytes, &f->nabytes, &f->abytes_cap, (const uint8_t *)v->v.s.p,
                      sl);
        if (st != TS_OK)
            return fail(b, TS_FAIL(err, st, "attribute '%s'", key));
        size_t real = f->nabytes - s0;
        if (real != sl) { /* U+FFFD replacements changed the length: redo the header */
            size_t dl = ts_mvt__varint_len(real) - ts_mvt__varint_len(sl);
            if (dl) {
                st = ts_mvt__grow(&b->mem, (void **)&f->abytes, &f->abytes_cap, f->nabytes + dl, 1);
                if (st != TS_OK)
                    return fail(b, TS_FAIL(err, st, "attribute '%s'", key));
                memmove(f->abytes + s0 + dl, f->abytes + s0, real);
                f->nabytes += dl;
            }
        }
        uint8_t *o = f->abytes + hdr;
        *o++ = PB_KEY(1, PB_LEN);
        ts_mvt__varint_put(o, real);
    } else {
        st = ts_mvt__grow(&b->mem, (void **)&f->abytes, &f->abytes_cap, f->nabytes + 16, 1);
        if (st != TS_OK)
            return fail(b, TS_FAIL(err, st, "attribute '%s'", key));
        f->nabytes += encode_scalar(v, f->abytes + f->nabytes);
    }
    a->vlen = f->nabytes - a->voff;
    f->nattrs++;
    return TS_OK;
}

ts_status
ts_mvt_feature_attr_value(ts_mvt_builder *b, const char *key, const ts_value *v, ts_err *err)
{
    if (!b->f.open)
        return TS_FAIL(err, TS_EINVAL, "no open feature");
    ts_mvt_value mv;
    switch (v ? v->type : TS_VAL_NULL) {
    case TS_VAL_NULL:
        return TS_OK;
    case TS_VAL_INT:
        mv.type = TS_MVT_INT;
        mv.v.i = v->u.i;
        break;
    case TS_VAL_BOOL:
        mv.type = TS_MVT_BOOL;
        mv.v.b = v->u.i != 0;
        break;
    case TS_VAL_REAL:
        mv.type = TS_MVT_DOUBLE;
        mv.v.d = v->u.d;
        break;
    case TS_VAL_STR:
        mv.type = TS_MVT_STRING;
        mv.v.s.p = v->u.s ? v->u.s : "";
        mv.v.s.len = strlen(mv.v.s.p);
        break;
    default:
        return fail(b, TS_FAIL(err, TS_EINVAL, "attribute '%s': value type %d", key ? key : "",
                               (int)v->type));
    }
    return ts_mvt_feature_attr(b, key, &mv, err);
}

static ts_status
geom_call(ts_mvt_builder *b, ts_mvt_geom_type want, ts_err *err)
{
    if (!b->f.open)
        return TS_FAIL(err, TS_EINVAL, "no open feature");
    if (b->f.type != want)
        return fail(b, TS_FAIL(err, TS_EINVAL, "geometry of type %d for a feature of type %d",
                               (int)want, (int)b->f.type));
    return TS_OK;
}

ts_status
ts_mvt_feature_points(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err)
{
    ts_status st = geom_call(b, TS_MVT_POINT, err);
    if (st == TS_OK && (st = ts_mvt__add_points(b, xy, n, err)) != TS_OK)
        return fail(b, st);
    return st;
}

ts_status
ts_mvt_feature_line(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err)
{
    ts_status st = geom_call(b, TS_MVT_LINE, err);
    if (st == TS_OK && (st = ts_mvt__add_line(b, xy, n, err)) != TS_OK)
        return fail(b, st);
    return st;
}

ts_status
ts_mvt_feature_ring(ts_mvt_builder *b, const double *xy, size_t n, int exterior, ts_err *err)
{
    ts_status st = geom_call(b, TS_MVT_POLYGON, err);
    if (st == TS_OK && (st = ts_mvt__add_ring(b, xy, n, exterior, err)) != TS_OK)
        return fail(b, st);
    return st;
}

/* Encoded size of a feature message given the byte length of its packed tags. */
static size_t
feature_size(const mvt_feat *ft, size_t tags_len)
{
    size_t n = 2 + ts_mvt__len_field(ft->geom_len); /* type, geometry */
    if (ft->has_id)
        n += 1 + ts_mvt__varint_len(ft->id);
    if (tags_len)
        n += ts_mvt__len_field(tags_len);
    return n;
}

ts_status
ts_mvt_feature_commit(ts_mvt_builder *b, int *kept, ts_err *err)
{
    mvt_open *f = &b->f;
    if (kept)
        *kept = 0;
    if (!f->open)
        return TS_FAIL(err, TS_EINVAL, "no open feature");
    mvt_layer *l = &b->layers[f->layer];
    size_t geom_mark = l->ngeom;
    uint32_t glen;
    double footprint;
    ts_status st = ts_mvt__encode_geom(b, l, &glen, &footprint, err);
    if (st != TS_OK)
        return fail(b, st);
    if (glen == 0) {
        b->empty++;
        open_clear(f);
        return TS_OK;
    }
    /* the smallest tile this feature can be in: its layer with this feature alone, tag
     * indices of one byte, its keys and its distinct values */
    mvt_feat ft = {.id = f->id, .has_id = f->has_id, .type = f->type, .geom_len = glen};
    size_t kv = 0;
    for (size_t i = 0; i < f->nattrs; i++) {
        const mvt_attr *a = &f->attrs[i];
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = f->attrs[j].vlen == a->vlen &&
                  memcmp(f->abytes + f->attrs[j].voff, f->abytes + a->voff, a->vlen) == 0;
        kv += ts_mvt__len_field(a->klen) + (dup ? 0 : ts_mvt__len_field(a->vlen));
    }
    size_t alone = ts_mvt__len_field(feature_size(&ft, 2 * f->nattrs)) + kv + 2 +
                   ts_mvt__len_field(l->name_len) + 1 + ts_mvt__varint_len(b->o.extent);
    alone = ts_mvt__len_field(alone);
    if (alone > b->o.max_bytes) {
        b->oversize++;
        open_clear(f);
        return TS_OK;
    }
    st = ts_mvt__grow(&b->mem, (void **)&l->tags, &l->tags_cap, l->ntags + 2 * f->nattrs,
                      sizeof *l->tags);
    if (st == TS_OK)
        st = ts_mvt__grow(&b->mem, (void **)&l->feats, &l->feats_cap, l->nfeats + 1,
                          sizeof *l->feats);
    if (st != TS_OK)
        return fail(b, TS_FAIL(err, st, "feature in layer '%s'", l->name));
    uint32_t kmark = l->keys.n, vmark = l->values.n;
    for (size_t i = 0; i < f->nattrs && st == TS_OK; i++) {
        const mvt_attr *a = &f->attrs[i];
        uint32_t ki = 0, vi = 0;
        st = table_intern(&b->mem, &l->keys, f->abytes + a->koff, a->klen, &ki);
        if (st == TS_OK)
            st = table_intern(&b->mem, &l->values, f->abytes + a->voff, a->vlen, &vi);
        l->tags[l->ntags + 2 * i] = ki;
        l->tags[l->ntags + 2 * i + 1] = vi;
    }
    if (st != TS_OK) {
        table_truncate(&l->keys, kmark);
        table_truncate(&l->values, vmark);
        l->ngeom = geom_mark;
        return fail(b, TS_FAIL(err, st, "attributes in layer '%s'", l->name));
    }
    ft.tag_off = l->ntags;
    ft.ntags = (uint32_t)(2 * f->nattrs);
    ft.geom_off = geom_mark;
    ft.footprint = footprint;
    ft.seq = b->seq++;
    l->ntags += 2 * f->nattrs;
    l->ngeom += glen;
    l->feats[l->nfeats++] = ft;
    open_clear(f);
    if (kept)
        *kept = 1;
    return TS_OK;
}

/* ---- finishing ---- */

/* Number the keys and values the kept features of l use (remap = new index + 1), and return
 * the layer message's size (0 when no feature is kept). */
static ts_status
layer_size(ts_mvt_builder *b, mvt_layer *l, size_t *out)
{
    ts_status st;
    if ((st = ts_mvt__grow(&b->mem, (void **)&l->keys.remap, &l->keys.remap_cap, l->keys.n + 1,
                           sizeof *l->keys.remap)) != TS_OK ||
        (st = ts_mvt__grow(&b->mem, (void **)&l->values.remap, &l->values.remap_cap,
                           l->values.n + 1, sizeof *l->values.remap)) != TS_OK)
        return st;
    memset(l->keys.remap, 0, sizeof *l->keys.remap * l->keys.n);
    memset(l->values.remap, 0, sizeof *l->values.remap * l->values.n);
    size_t nkept = 0;
    for (size_t i = 0; i < l->nfeats; i++) {
        const mvt_feat *ft = &l->feats[i];
        if (ft->dropped)
            continue;
        nkept++;
        for (uint32_t j = 0; j < ft->ntags; j += 2) {
            l->keys.remap[l->tags[ft->tag_off + j]] = 1;
            l->values.remap[l->tags[ft->tag_off + j + 1]] = 1;
        }
    }
    if (nkept == 0) {
        *out = 0;
        return TS_OK;
    }
    size_t n = 2 + ts_mvt__len_field(l->name_len) + 1 + ts_mvt__varint_len(b->o.extent);
    uint32_t k = 0;
    for (uint32_t i = 0; i < l->keys.n; i++)
        if (l->keys.remap[i]) {
            l->keys.remap[i] = ++k;
            n += ts_mvt__len_field(l->keys.off[i + 1] - l->keys.off[i]);
        }
    k = 0;
    for (uint32_t i = 0; i < l->values.n; i++)
        if (l->values.remap[i]) {
            l->values.remap[i] = ++k;
            n += ts_mvt__len_field(l->values.off[i + 1] - l->values.off[i]);
        }
    for (size_t i = 0; i < l->nfeats; i++) {
        const mvt_feat *ft = &l->feats[i];
        if (ft->dropped)
            continue;
        size_t tl = 0;
        for (uint32_t j = 0; j < ft->ntags; j += 2)
            tl += ts_mvt__varint_len(l->keys.remap[l->tags[ft->tag_off + j]] - 1) +
                  ts_mvt__varint_len(l->values.remap[l->tags[ft->tag_off + j + 1]] - 1);
        n += ts_mvt__len_field(feature_size(ft, tl));
    }
    *out = n;
    return TS_OK;
}

static ts_status
tile_size(ts_mvt_builder *b, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nlayers; i++) {
        size_t ln;
        ts_status st = layer_size(b, &b->layers[i], &ln);
        if (st != TS_OK)
            return st;
        if (ln)
            n += ts_mvt__len_field(ln);
    }
    *out = n;
    return TS_OK;
}

static uint8_t *
put_len_field(uint8_t *o, uint32_t field, const void *p, size_t n)
{
    *o++ = (uint8_t)PB_KEY(field, PB_LEN);
    o = ts_mvt__varint_put(o, n);
    memcpy(o, p, n);
    return o + n;
}

/* Write layer l (remaps from layer_size in force); returns the end. */
static uint8_t *
write_layer(const ts_mvt_builder *b, const mvt_layer *l, size_t lsize, uint8_t *o)
{
    *o++ = (uint8_t)PB_KEY(3, PB_LEN);
    o = ts_mvt__varint_put(o, lsize);
    *o++ = (uint8_t)PB_KEY(15, PB_VARINT);
    *o++ = 2;
    o = put_len_field(o, 1, l->name, l->name_len);
    for (size_t i = 0; i < l->nfeats; i++) {
        const mvt_feat *ft = &l->feats[i];
        if (ft->dropped)
            continue;
        size_t tl = 0;
        for (uint32_t j = 0; j < ft->ntags; j += 2)
            tl += ts_mvt__varint_len(l->keys.remap[l->tags[ft->tag_off + j]] - 1) +
                  ts_mvt__varint_len(l->values.remap[l->tags[ft->tag_off + j + 1]] - 1);
        *o++ = (uint8_t)PB_KEY(2, PB_LEN);
        o = ts_mvt__varint_put(o, feature_size(ft, tl));
        if (ft->has_id) {
            *o++ = (uint8_t)PB_KEY(1, PB_VARINT);
            o = ts_mvt__varint_put(o, ft->id);
        }
        if (tl) {
            *o++ = (uint8_t)PB_KEY(2, PB_LEN);
            o = ts_mvt__varint_put(o, tl);
            for (uint32_t j = 0; j < ft->ntags; j += 2) {
                o = ts_mvt__varint_put(o, l->keys.remap[l->tags[ft->tag_off + j]] - 1);
                o = ts_mvt__varint_put(o, l->values.remap[l->tags[ft->tag_off + j + 1]] - 1);
            }
        }
        *o++ = (uint8_t)PB_KEY(3, PB_VARINT);
        *o++ = ft->type;
        o = put_len_field(o, 4, l->geom + ft->geom_off, ft->geom_len);
    }
    for (uint32_t i = 0; i < l->keys.n; i++)
        if (l->keys.remap[i])
            o = put_len_field(o, 3, l->keys.bytes + l->keys.off[i],
                              l->keys.off[i + 1] - l->keys.off[i]);
    for (uint32_t i = 0; i < l->values.n; i++)
        if (l->values.remap[i])
            o = put_len_field(o, 4, l->values.bytes + l->values.off[i],
                              l->values.off[i + 1] - l->values.off[i]);
    *o++ = (uint8_t)PB_KEY(5, PB_VARINT);
    o = ts_mvt__varint_put(o, b->o.extent);
    return o;
}

static int
cmp_rank(const void *pa, const void *pb)
{
    const mvt_rank *a = pa, *c = pb;
    if (a->footprint != c->footprint)
        return a->footprint < c->footprint ? -1 : 1;
    return a->seq > c->seq ? -1 : a->seq < c->seq ? 1 : 0; /* later-committed first */
}

/* Drop the first k features of the ranking (and no others). */
static void
drop_first(ts_mvt_builder *b, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        b->layers[b->order[i].layer].feats[b->order[i].idx].dropped = i < k;
}

ts_status
ts_mvt_finish(ts_mvt_builder *b, ts_buf *out, ts_mvt_report *rep, ts_err *err)
{
    if (b->f.open)
        return TS_FAIL(err, TS_EINVAL, "a feature is still open");
    size_t nfeat = 0;
    for (size_t i = 0; i < b->nlayers; i++) {
        mvt_layer *l = &b->layers[i];
        for (size_t j = 0; j < l->nfeats; j++)
            l->feats[j].dropped = 0;
        nfeat += l->nfeats;
    }
    size_t full, size;
    ts_status st = tile_size(b, &full);
    if (st != TS_OK)
        return TS_FAIL(err, st, "sizing the tile");
    size = full;
    size_t k = 0;
    double maxfp = 0;
    if (full > b->o.max_bytes) {
        st = ts_mvt__grow(&b->mem, (void **)&b->order, &b->order_cap, nfeat, sizeof *b->order);
        if (st != TS_OK)
            return TS_FAIL(err, st, "ranking %zu features", nfeat);
        size_t n = 0;
        for (size_t i = 0; i < b->nlayers; i++)
            for (size_t j = 0; j < b->layers[i].nfeats; j++) {
                const mvt_feat *ft = &b->layers[i].feats[j];
                b->order[n++] = (mvt_rank){ft->footprint, ft->seq, (uint32_t)i, (uint32_t)j};
            }
        qsort(b->order, n, sizeof *b->order, cmp_rank);
        /* Dropping a feature shrinks the tile by at least its message (keys, values and
         * tag bytes may go too): the first k_hi whose messages cover the excess fits. */
        size_t hi = n, acc = 0;
        for (size_t i = 0; i < n; i++) {
            const mvt_layer *l = &b->layers[b->order[i].layer];
            const mvt_feat *ft = &l->feats[b->order[i].idx];
            size_t tl = 0; /* tags as numbered in the full tile (remaps of tile_size) */
            for (uint32_t j = 0; j < ft->ntags; j += 2)
                tl += ts_mvt__varint_len(l->keys.remap[l->tags[ft->tag_off + j]] - 1) +
                      ts_mvt__varint_len(l->values.remap[l->tags[ft->tag_off + j + 1]] - 1);
            acc += ts_mvt__len_field(feature_size(ft, tl));
            if (full - acc <= b->o.max_bytes) {
                hi = i + 1;
                break;
            }
        }
        /* the fewest drops that fit: size is monotone in k; gallop down from hi (the answer
         * is usually close), then bisect */
        size_t lo = 1, step = 1;
        while (step < hi) {
            size_t mid = hi - step;
            drop_first(b, n, mid);
            if ((st = tile_size(b, &size)) != TS_OK)
                return TS_FAIL(err, st, "sizing the tile");
            if (size > b->o.max_bytes) {
                lo = mid + 1;
                break;
            }
            hi = mid;
            step *= 2;
        }
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            drop_first(b, n, mid);
            if ((st = tile_size(b, &size)) != TS_OK)
                return TS_FAIL(err, st, "sizing the tile");
            if (size <= b->o.max_bytes)
                hi = mid;
            else
                lo = mid + 1;
        }
        k = lo;
        drop_first(b, n, k);
        if ((st = tile_size(b, &size)) != TS_OK)
            return TS_FAIL(err, st, "sizing the tile");
        maxfp = b->order[k - 1].footprint;
    }
    if ((st = ts_buf_reserve(out, size)) != TS_OK)
        return TS_FAIL(err, st, "tile of %zu bytes", size);
    uint8_t *o = out->data + out->len, *start = o;
    uint32_t nl = 0;
    for (size_t i = 0; i < b->nlayers; i++) {
        mvt_layer *l = &b->layers[i];
        size_t ln;
        if ((st = layer_size(b, l, &ln)) != TS_OK) {
            ts_buf_fini(out);
            return TS_FAIL(err, st, "sizing layer '%s'", l->name);
        }
        if (ln == 0)
            continue;
        o = write_layer(b, l, ln, o);
        nl++;
    }
    if ((size_t)(o - start) != size) {
        ts_buf_fini(out);
        return TS_FAIL(err, TS_EINTERNAL, "tile written with %zu bytes, sized %zu",
                       (size_t)(o - start), size);
    }
    out->len += size;
    out->data[out->len] = 0;
    if (rep) {
        rep->bytes = size;
        rep->bytes_unlimited = full;
        rep->layers = nl;
        rep->features = (uint32_t)(nfeat - k);
        rep->empty = b->empty;
        rep->oversize = b->oversize;
        rep->dropped = (uint32_t)k;
        rep->dropped_max_footprint = maxfp;
    }
    return TS_OK;
}

int
ts_mvt_feature_dropped(const ts_mvt_builder *b, int layer, uint32_t index)
{
    if (layer < 0 || (size_t)layer >= b->nlayers || index >= b->layers[layer].nfeats)
        return 0;
    return b->layers[layer].feats[index].dropped;
}
