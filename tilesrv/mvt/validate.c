/* mvt/validate.c — a strict MVT 2.1 reader that checks a tile without building anything:
 * used by the fuzz target on every tile the builder writes, and by tests. */
#include "mvt/mvt.h"

#include <stdlib.h>
#include <string.h>

#include "mvt/mvt_int.h"
#include "util/hash.h"
#include "util/utf8.h"

typedef struct rd {
    const uint8_t *p, *end;
} rd;

typedef struct field {
    uint32_t num;
    int wt;
    uint64_t v;          /* varint / fixed value */
    const uint8_t *data; /* PB_LEN content */
    size_t len;
} field;

typedef struct vctx {
    const uint8_t *base;
    ts_err *err;
    int64_t buffer;
    ts_mvt_info info;
    uint32_t layer, feature; /* for messages, 1-based (0 = none yet) */
    int has_vertex;
} vctx;

static ts_status
bad(vctx *c, const uint8_t *at, const char *what)
{
    return TS_FAIL(c->err, TS_EINVAL, "invalid MVT at byte %zu (layer %u, feature %u): %s",
                   (size_t)(at - c->base), c->layer, c->feature, what);
}

static int
get_varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return 0;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1)
            return 0;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

/* Next field of the message in r: 1, 0 at the end, -1 malformed. */
static int
next_field(rd *r, field *f)
{
    if (r->p >= r->end)
        return 0;
    uint64_t key;
    if (!get_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    switch (f->wt) {
    case PB_VARINT:
        return get_varint(r, &f->v) ? 1 : -1;
    case PB_FIXED64:
    case PB_FIXED32: {
        size_t n = f->wt == PB_FIXED64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n)
            return -1;
        f->v = 0;
        for (size_t i = 0; i < n; i++)
            f->v |= (uint64_t)r->p[i] << (8 * i);
        r->p += n;
        return 1;
    }
    case PB_LEN: {
        uint64_t n;
        if (!get_varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return -1;
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        return 1;
    }
    default:
        return -1;
    }
}

/* ---- one Value message: exactly one known field ---- */

static ts_status
check_value(vctx *c, const uint8_t *p, size_t n)
{
    rd r = {p, p + n};
    field f;
    int k, nf = 0;
    while ((k = next_field(&r, &f)) > 0) {
        static const int want[8] = {-1,        PB_LEN,    PB_FIXED32, PB_FIXED64,
                                    PB_VARINT, PB_VARINT, PB_VARINT,  PB_VARINT};
        if (f.num >= 1 && f.num <= 7) {
            if (f.wt != want[f.num])
                return bad(c, p, "value field of the wrong wire type");
            if (f.num == 1 && !ts_utf8_valid(f.data, f.len))
                return bad(c, p, "string value is not UTF-8");
            if (f.num == 7 && f.v > 1)
                return bad(c, p, "bool value not 0 or 1");
            nf++;
        }
    }
    if (k < 0)
        return bad(c, p, "malformed value");
    if (nf != 1)
        return bad(c, p, "a value must hold exactly one field");
    return TS_OK;
}

/* ---- uniqueness of keys, values and layer names ---- */

typedef struct span {
    const uint8_t *p;
    size_t n;
} span;

static int
cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return memcmp(x->p, y->p, x->n);
}

/* 1 when two of the n spans are byte-for-byte equal. v is sorted in place. */
static int
has_dup(span *v, size_t n)
{
    if (n < 2)
        return 0;
    qsort(v, n, sizeof *v, cmp_span);
    for (size_t i = 1; i < n; i++)
        if (cmp_span(&v[i - 1], &v[i]) == 0)
            return 1;
    return 0;
}

/* ---- geometry ---- */

static ts_status
vertex(vctx *c, const uint8_t *at, int64_t x, int64_t y, uint32_t extent)
{
    if (x < INT32_MIN || x > INT32_MAX || y < INT32_MIN || y > INT32_MAX)
        return bad(c, at, "coordinate beyond 32 bits");
    if (c->buffer >= 0 && (x < -c->buffer || y < -c->buffer || x > (int64_t)extent + c->buffer ||
                           y > (int64_t)extent + c->buffer))
        return bad(c, at, "vertex outside the extent plus buffer");
    ts_mvt_info *in = &c->info;
    if (!c->has_vertex) {
        in->minx = in->maxx = (int32_t)x;
        in->miny = in->maxy = (int32_t)y;
        c->has_vertex = 1;
    }
    in->minx = x < in->minx ? (int32_t)x : in->minx;
    in->maxx = x > in->maxx ? (int32_t)x : in->maxx;
    in->miny = y < in->miny ? (int32_t)y : in->miny;
    in->maxy = y > in->maxy ? (int32_t)y : in->maxy;
    in->vertices++;
    return TS_OK;
}

static ts_status
check_geometry(vctx *c, const uint8_t *p, size_t n, int type, uint32_t extent)
{
    rd r = {p, p + n};
    int64_t cx = 0, cy = 0;
    int first_ring = 1, nmove = 0;
    while (r.p < r.end) {
        uint64_t cmd;
        if (!get_varint(&r, &cmd) || cmd > UINT32_MAX)
            return bad(c, p, "malformed command integer");
        uint32_t id = (uint32_t)cmd & 7, count = (uint32_t)cmd >> 3;
        if (id != 1)
            return bad(c, p, "a part must start with MoveTo");
        if (count == 0)
            return bad(c, p, "MoveTo with count 0");
        if (type != TS_MVT_POINT && count != 1)
            return bad(c, p, "MoveTo count must be 1 in lines and polygons");
        if (type == TS_MVT_POINT && nmove > 0)
            return bad(c, p, "points take a single MoveTo");
        nmove++;
        for (uint32_t i = 0; i < count; i++) {
            uint64_t zx, zy;
            if (!get_varint(&r, &zx) || !get_varint(&r, &zy) || zx > UINT32_MAX || zy > UINT32_MAX)
                return bad(c, p, "truncated MoveTo parameters");
            cx += (int32_t)((uint32_t)(zx >> 1) ^ -(uint32_t)(zx & 1));
            cy += (int32_t)((uint32_t)(zy >> 1) ^ -(uint32_t)(zy & 1));
            ts_status st = vertex(c, p, cx, cy, extent);
            if (st != TS_OK)
                return st;
        }
        c->info.parts += type == TS_MVT_POINT ? count : 1;
        if (type == TS_MVT_POINT)
            continue;
        int64_t sx = cx, sy = cy;
        __int128 area = 0;
        if (!get_varint(&r, &cmd) || cmd > UINT32_MAX)
            return bad(c, p, "a part without LineTo");
        id = (uint32_t)cmd & 7;
        count = (uint32_t)cmd >> 3;
        if (id != 2)
            return bad(c, p, "MoveTo must be followed by LineTo");
        if (count < (type == TS_MVT_POLYGON ? 2u : 1u))
            return bad(
                c, p, type == TS_MVT_POLYGON ? "ring LineTo count under 2" : "line LineTo count 0");
        for (uint32_t i = 0; i < count; i++) {
            uint64_t zx, zy;
            if (!get_varint(&r, &zx) || !get_varint(&r, &zy) || zx > UINT32_MAX || zy > UINT32_MAX)
                return bad(c, p, "truncated LineTo parameters");
            int64_t dx = (int32_t)((uint32_t)(zx >> 1) ^ -(uint32_t)(zx & 1));
            int64_t dy = (int32_t)((uint32_t)(zy >> 1) ^ -(uint32_t)(zy & 1));
            if (dx == 0 && dy == 0)
                return bad(c, p, "zero-length LineTo");
            area += (__int128)(cx - sx) * (cy + dy - sy) - (__int128)(cx + dx - sx) * (cy - sy);
            cx += dx;
            cy += dy;
            ts_status st = vertex(c, p, cx, cy, extent);
            if (st != TS_OK)
                return st;
        }
        if (type == TS_MVT_LINE)
            continue;
        if (!get_varint(&r, &cmd) || cmd != (7u | (1u << 3)))
            return bad(c, p, "a ring must end with ClosePath (count 1)");
        if (cx == sx && cy == sy)
            return bad(c, p, "ring repeats its first point before ClosePath");
        if (area == 0)
            return bad(c, p, "ring of zero area");
        if (first_ring && area < 0)
            return bad(c, p, "first ring of a polygon is not an exterior (negative area)");
        first_ring = 0;
    }
    if (nmove == 0)
        return bad(c, p, "empty geometry");
    return TS_OK;
}

/* ---- features ---- */

static ts_status
check_feature(vctx *c, const uint8_t *p, size_t n, uint32_t nkeys, uint32_t nvalues,
              uint32_t extent, uint8_t *seen)
{
    rd r = {p, p + n};
    field f;
    int k, type = -1;
    const uint8_t *geom = NULL, *tags = NULL;
    size_t geom_len = 0, tags_len = 0;
    while ((k = next_field(&r, &f)) > 0) {
        if (f.num == 1 && f.wt != PB_VARINT)
            return bad(c, p, "feature id of the wrong wire type");
        if (f.num == 2) {
            if (f.wt != PB_LEN || tags)
                return bad(c, p, "tags not one packed field");
            tags = f.data;
            tags_len = f.len;
        }
        if (f.num == 3) {
            if (f.wt != PB_VARINT || type >= 0)
                return bad(c, p, "feature type not one varint");
            type = f.v <= 3 ? (int)f.v : 99;
        }
        if (f.num == 4) {
            if (f.wt != PB_LEN || geom)
                return bad(c, p, "geometry not one packed field");
            geom = f.data;
            geom_len = f.len;
        }
    }
    if (k < 0)
        return bad(c, p, "malformed feature");
    if (type < 1 || type > 3)
        return bad(c, p, "feature type missing or unknown");
    if (geom == NULL)
        return bad(c, p, "feature without geometry");
    if (tags) {
        rd t = {tags, tags + tags_len};
        uint32_t ntags = 0;
        memset(seen, 0, (nkeys + 7) / 8);
        while (t.p < t.end) {
            uint64_t ki, vi;
            if (!get_varint(&t, &ki))
                return bad(c, p, "malformed tags");
            if (!get_varint(&t, &vi))
                return bad(c, p, "odd number of tags");
            if (ki >= nkeys || vi >= nvalues)
                return bad(c, p, "tag index past the keys or values");
            if (seen[ki / 8] & (1u << (ki % 8)))
                return bad(c, p, "a key twice in one feature");
            seen[ki / 8] |= (uint8_t)(1u << (ki % 8));
            ntags++;
        }
        (void)ntags;
    }
    c->info.points += type == TS_MVT_POINT;
    c->info.lines += type == TS_MVT_LINE;
    c->info.polygons += type == TS_MVT_POLYGON;
    return check_geometry(c, geom, geom_len, type, extent);
}

/* ---- layers ---- */

static ts_status
check_layer(vctx *c, const uint8_t *p, size_t n, span *name)
{
    rd r = {p, p + n};
    field f;
    int k;
    int version = -1, have_name = 0;
    uint64_t extent = 4096;
    uint32_t nkeys = 0, nvalues = 0, nfeat = 0;
    /* first pass: scalars, names, table sizes */
    while ((k = next_field(&r, &f)) > 0) {
        switch (f.num) {
        case 15:
            if (f.wt != PB_VARINT || version >= 0)
                return bad(c, p, "version not one varint");
            version = f.v <= 1000 ? (int)f.v : 1000;
            break;
        case 1:
            if (f.wt != PB_LEN || have_name)
                return bad(c, p, "name not one string");
            if (f.len == 0 || !ts_utf8_valid(f.data, f.len))
                return bad(c, p, "layer name empty or not UTF-8");
            name->p = f.data;
            name->n = f.len;
            have_name = 1;
            break;
        case 2:
            if (f.wt != PB_LEN)
                return bad(c, p, "feature not a message");
            nfeat++;
            break;
        case 3:
            if (f.wt != PB_LEN || !ts_utf8_valid(f.data, f.len))
                return bad(c, p, "key not a UTF-8 string");
            nkeys++;
            break;
        case 4:
            if (f.wt != PB_LEN)
                return bad(c, p, "value not a message");
            nvalues++;
            break;
        case 5:
            if (f.wt != PB_VARINT || f.v == 0 || f.v > UINT32_MAX)
                return bad(c, p, "extent not a positive 32-bit varint");
            extent = f.v;
            break;
        default:
            break;
        }
    }
    if (k < 0)
        return bad(c, p, "malformed layer");
    if (version != 2)
        return bad(c, p, "layer version is not 2");
    if (!have_name)
        return bad(c, p, "layer without a name");
    if (nfeat == 0)
        return bad(c, p, "layer without features");
    ts_status st = TS_OK;
    span *keys = malloc(sizeof *keys * (nkeys + nvalues + 1));
    uint8_t *seen = malloc((size_t)nkeys / 8 + 1);
    if (keys == NULL || seen == NULL) {
        free(keys);
        free(seen);
        return TS_FAIL(c->err, TS_ENOMEM, "validating a layer of %u keys", nkeys);
    }
    span *values = keys + nkeys;
    uint32_t ik = 0, iv = 0;
    r.p = p;
    while (st == TS_OK && next_field(&r, &f) > 0) {
        if (f.num == 3) {
            keys[ik].p = f.data;
            keys[ik++].n = f.len;
        } else if (f.num == 4) {
            values[iv].p = f.data;
            values[iv++].n = f.len;
            st = check_value(c, f.data, f.len);
        }
    }
    if (st == TS_OK && has_dup(keys, nkeys))
        st = bad(c, p, "a key twice in the layer's keys");
    if (st == TS_OK && has_dup(values, nvalues))
        st = bad(c, p, "a value twice in the layer's values");
    r.p = p;
    c->feature = 0;
    while (st == TS_OK && next_field(&r, &f) > 0) {
        if (f.num != 2)
            continue;
        c->feature++;
        c->info.features++;
        st = check_feature(c, f.data, f.len, nkeys, nvalues, (uint32_t)extent, seen);
    }
    c->info.keys += nkeys;
    c->info.values += nvalues;
    free(keys);
    free(seen);
    return st;
}

ts_status
ts_mvt_validate(const uint8_t *data, size_t len, int64_t buffer, ts_mvt_info *info, ts_err *err)
{
    vctx c = {.base = data, .err = err, .buffer = buffer};
    rd r = {data, data + len};
    field f;
    int k = 0;
    span *names = NULL;
    size_t nnames = 0, cap = 0;
    ts_status st = TS_OK;
    while (st == TS_OK && (k = next_field(&r, &f)) > 0) {
        if (f.num != 3)
            continue;
        if (f.wt != PB_LEN) {
            st = bad(&c, data, "layer not a message");
            break;
        }
        c.layer++;
        c.info.layers++;
        if (nnames == cap) {
            size_t nc = cap ? cap * 2 : 8;
            span *nn = realloc(names, sizeof *nn * nc);
            if (nn == NULL) {
                st = TS_FAIL(err, TS_ENOMEM, "validating %zu layers", nc);
                break;
            }
            names = nn;
            cap = nc;
        }
        st = check_layer(&c, f.data, f.len, &names[nnames++]);
    }
    if (st == TS_OK && k < 0)
        st = bad(&c, r.p, "malformed tile");
    if (st == TS_OK && has_dup(names, nnames))
        st = bad(&c, data, "two layers of one name");
    free(names);
    if (st == TS_OK && info)
        *info = c.info;
    return st;
}
