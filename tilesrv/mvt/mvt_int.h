/* mvt/mvt_int.h — the builder's insides, shared by the files of the mvt module only:
 * protobuf varint helpers, the per-layer tables and the open feature's scratch. */
#ifndef TS_MVT_MVT_INT_H
#define TS_MVT_MVT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mvt/mvt.h"

/* ---- protobuf wire format ---- */

enum {
    PB_VARINT = 0,
    PB_FIXED64 = 1,
    PB_LEN = 2,
    PB_FIXED32 = 5,
};

#define PB_KEY(field, wt) ((uint32_t)(((field) << 3) | (wt)))

/* Bytes a varint of v takes (1..10). */
static inline size_t
ts_mvt__varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Write v as a varint at p; returns the byte after it. */
static inline uint8_t *
ts_mvt__varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint32_t
ts_mvt__zigzag32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static inline uint64_t
ts_mvt__zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* Length of a length-delimited field with key byte(s) for field < 16 and n content bytes. */
static inline size_t
ts_mvt__len_field(size_t n)
{
    return 1 + ts_mvt__varint_len(n) + n;
}

/* ---- growable arrays (failure leaves the contents intact) ---- */

typedef struct mvt_mem {
    size_t used; /* bytes of capacity held by all arrays of one builder */
    size_t max;  /* max_work_bytes */
} mvt_mem;

/* Make room for need elements of size elem in *p (capacity *cap). TS_OK, TS_ENOMEM or
 * TS_ELIMIT (past m->max); on failure *p and *cap are unchanged. */
ts_status ts_mvt__grow(mvt_mem *m, void **p, size_t *cap, size_t need, size_t elem);

/* ---- one layer ---- */

typedef struct mvt_feat {
    uint64_t id;
    double footprint;  /* tile units², see ts_mvt_report */
    size_t tag_off;    /* first entry in layer tags */
    size_t geom_off;   /* first byte in layer geom (packed varints) */
    uint32_t ntags;    /* entries (2 per attribute) */
    uint32_t geom_len; /* bytes */
    uint32_t seq;      /* commit order over the whole builder */
    uint8_t has_id;
    uint8_t type;
    uint8_t dropped; /* set by ts_mvt_finish */
} mvt_feat;

/* An interning table: entries are byte strings in one arena, found through an
 * open-addressing (linear probing) hash table. */
typedef struct mvt_table {
    uint8_t *bytes;
    size_t nbytes, bytes_cap;
    size_t *off; /* entry i is bytes[off[i] .. off[i+1]) (off has n + 1 used) */
    size_t off_cap;
    uint32_t n;
    uint64_t *slots; /* hash << 32 | (index + 1), 0 = empty */
    size_t nslots;   /* power of two, or 0 */
    uint32_t *remap; /* finish: new index + 1 per entry, 0 = unused */
    size_t remap_cap;
} mvt_table;

typedef struct mvt_layer {
    char *name;
    size_t name_len;
    mvt_table keys;   /* raw key strings */
    mvt_table values; /* encoded Value messages (content, without the length prefix) */
    mvt_feat *feats;
    size_t nfeats, feats_cap;
    uint32_t *tags;
    size_t ntags, tags_cap;
    uint8_t *geom;
    size_t ngeom, geom_cap;
} mvt_layer;

/* A feature's place in the drop order (smallest footprint first). */
typedef struct mvt_rank {
    double footprint;
    uint32_t seq;
    uint32_t layer, idx;
} mvt_rank;

/* ---- the open feature ---- */

typedef struct mvt_part {
    size_t off;   /* first point in the feature's pts */
    uint32_t n;   /* points */
    uint8_t role; /* 0 point/line, 1 exterior, 2 hole */
    uint8_t dead; /* exterior dropped later (holes covered it) */
} mvt_part;

typedef struct mvt_attr {
    size_t koff, klen; /* key in the feature's abytes */
    size_t voff, vlen; /* encoded Value in abytes */
} mvt_attr;

typedef struct mvt_open {
    int open;
    int layer;
    uint8_t type;
    uint8_t has_id;
    uint64_t id;
    int ext_alive;   /* polygons: the latest exterior survived clipping */
    int have_ext;    /* polygons: an exterior was given */
    size_t ext_part; /* index of the latest surviving exterior in parts */
    int32_t *pts;    /* quantised x, y pairs of the surviving parts */
    size_t npts, pts_cap;
    mvt_part *parts;
    size_t nparts, parts_cap;
    mvt_attr *attrs;
    size_t nattrs, attrs_cap;
    uint8_t *abytes;
    size_t nabytes, abytes_cap;
} mvt_open;

struct ts_mvt_builder {
    ts_mvt_opts o;
    mvt_mem mem;
    mvt_layer *layers;
    size_t nlayers, layers_cap;
    uint32_t seq;
    uint32_t empty, oversize;
    mvt_open f;
    /* clipping scratch (doubles) */
    double *d0, *d1;
    size_t d0_cap, d1_cap;
    /* transformed coordinates (ts_mvt_add_geom) */
    double *tx;
    size_t tx_cap;
    /* finish scratch: the features ranked for dropping */
    mvt_rank *order;
    size_t order_cap;
};

/* Geometry (geom.c): clip, quantise and append one part to the open feature. */
ts_status ts_mvt__add_points(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err);
ts_status ts_mvt__add_line(ts_mvt_builder *b, const double *xy, size_t n, ts_err *err);
ts_status ts_mvt__add_ring(ts_mvt_builder *b, const double *xy, size_t n, int exterior,
                           ts_err *err);
/* Finalise the open feature's polygons (drop those whose holes cover them), encode its
 * geometry as packed command varints appended to layer geom, and give its footprint.
 * *len = 0 when nothing is left. */
ts_status ts_mvt__encode_geom(ts_mvt_builder *b, mvt_layer *l, uint32_t *len, double *footprint,
                              ts_err *err);

#endif
