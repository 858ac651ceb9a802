/* tests/unit/test_mvt.c — the MVT encoder: bytes of the spec's examples, clipping, winding,
 * de-duplication, the size limit, rollback, a round trip through a decoder written here
 * independently of the module, the validator and gzip. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mvt/mvt.h"
#include "test.h"

/* ---- a minimal independent decoder (from the .proto, not from mvt/) ---- */

#define MAXL 8
#define MAXF 4096
#define MAXKV 4096

typedef struct dfeat {
    int has_id;
    uint64_t id;
    int type;
    uint32_t tags[64];
    int ntags;
    uint32_t geom[16384];
    int ngeom;
} dfeat;

typedef struct dlayer {
    char name[64];
    uint32_t version, extent;
    int nfeat;
    dfeat *feat;
    char keys[MAXKV][32];
    int nkeys;
    /* values: type (1 string .. 7 bool) and payload */
    int vtype[MAXKV];
    char vstr[MAXKV][32];
    uint64_t vnum[MAXKV];
    int nvalues;
} dlayer;

typedef struct dtile {
    dlayer layer[MAXL];
    int nlayers;
} dtile;

static uint64_t
rv(const uint8_t **p)
{
    uint64_t v = 0;
    int s = 0;
    while (**p & 0x80) {
        v |= (uint64_t)(**p & 0x7f) << s;
        s += 7;
        (*p)++;
    }
    v |= (uint64_t)(**p) << s;
    (*p)++;
    return v;
}

static void
dec_value(dlayer *l, const uint8_t *p, const uint8_t *e)
{
    int i = l->nvalues++;
    while (p < e) {
        uint64_t k = rv(&p);
        int f = (int)(k >> 3);
        l->vtype[i] = f;
        if ((k & 7) == 2) {
            size_t n = (size_t)rv(&p);
            snprintf(l->vstr[i], sizeof l->vstr[i], "%.*s", (int)n, (const char *)p);
            p += n;
        } else if ((k & 7) == 1) {
            memcpy(&l->vnum[i], p, 8);
            p += 8;
        } else if ((k & 7) == 5) {
            uint32_t u;
            memcpy(&u, p, 4);
            l->vnum[i] = u;
            p += 4;
        } else {
            l->vnum[i] = rv(&p);
        }
    }
}

static void
dec_feature(dfeat *f, const uint8_t *p, const uint8_t *e)
{
    memset(f, 0, sizeof *f);
    while (p < e) {
        uint64_t k = rv(&p);
        if (k == 0x08) {
            f->has_id = 1;
            f->id = rv(&p);
        } else if (k == 0x18) {
            f->type = (int)rv(&p);
        } else if (k == 0x12 || k == 0x22) {
            const uint8_t *q = p, *qe;
            size_t n = (size_t)rv(&q);
            qe = q + n;
            while (q < qe) {
                uint32_t v = (uint32_t)rv(&q);
                if (k == 0x12)
                    f->tags[f->ntags++] = v;
                else
                    f->geom[f->ngeom++] = v;
            }
            p = qe;
        } else {
            abort();
        }
    }
}

static void
dec_layer(dlayer *l, const uint8_t *p, const uint8_t *e)
{
    memset(l, 0, sizeof *l);
    l->extent = 4096;
    l->feat = calloc(MAXF, sizeof *l->feat);
    while (p < e) {
        uint64_t k = rv(&p);
        if ((k & 7) == 0) {
            uint64_t v = rv(&p);
            if (k >> 3 == 15)
                l->version = (uint32_t)v;
            if (k >> 3 == 5)
                l->extent = (uint32_t)v;
            continue;
        }
        size_t n = (size_t)rv(&p);
        if (k >> 3 == 1)
            snprintf(l->name, sizeof l->name, "%.*s", (int)n, (const char *)p);
        else if (k >> 3 == 2)
            dec_feature(&l->feat[l->nfeat++], p, p + n);
        else if (k >> 3 == 3)
            snprintf(l->keys[l->nkeys++], 32, "%.*s", (int)n, (const char *)p);
        else if (k >> 3 == 4)
            dec_value(l, p, p + n);
        p += n;
    }
}

static dtile *
decode(const ts_buf *b)
{
    dtile *t = calloc(1, sizeof *t);
    const uint8_t *p = b->data, *e = b->data + b->len;
    while (p < e) {
        uint64_t k = rv(&p);
        size_t n = (size_t)rv(&p);
        if (k == 0x1a)
            dec_layer(&t->layer[t->nlayers++], p, p + n);
        p += n;
    }
    return t;
}

static void
dtile_free(dtile *t)
{
    for (int i = 0; i < t->nlayers; i++)
        free(t->layer[i].feat);
    free(t);
}

/* Geometry of a decoded feature as absolute parts: part starts in *starts, points in xy. */
typedef struct dgeom {
    int32_t xy[2 * 8192];
    int n;
    int start[512];
    int nparts;
} dgeom;

static void
dec_geom(const dfeat *f, dgeom *g)
{
    int32_t x = 0, y = 0;
    g->n = g->nparts = 0;
    for (int i = 0; i < f->ngeom;) {
        uint32_t c = f->geom[i++], id = c & 7, cnt = c >> 3;
        if (id == 7)
            continue;
        for (uint32_t j = 0; j < cnt; j++) {
            uint32_t zx = f->geom[i++], zy = f->geom[i++];
            x += (int32_t)((zx >> 1) ^ -(zx & 1));
            y += (int32_t)((zy >> 1) ^ -(zy & 1));
            if (id == 1)
                g->start[g->nparts++] = g->n;
            g->xy[2 * g->n] = x;
            g->xy[2 * g->n + 1] = y;
            g->n++;
        }
    }
    g->start[g->nparts] = g->n;
}

static double
darea(const int32_t *p, int n)
{
    double a = 0;
    for (int i = 0; i < n; i++) {
        int j = (i + 1) % n;
        a += (double)p[2 * i] * p[2 * j + 1] - (double)p[2 * j] * p[2 * i + 1];
    }
    return a / 2;
}

/* ---- helpers ---- */

static ts_mvt_builder *
new_builder(uint32_t extent, uint32_t buffer, size_t max_bytes)
{
    ts_mvt_opts o = {
        .extent = extent, .buffer = buffer, .no_buffer = buffer == 0, .max_bytes = max_bytes};
    return ts_mvt_builder_new(&o, NULL);
}

static int
finish(ts_mvt_builder *b, ts_buf *out, ts_mvt_report *rep)
{
    ts_buf_init(out, 64u << 20);
    ts_err err;
    ts_err_clear(&err);
    if (ts_mvt_finish(b, out, rep, &err) != TS_OK) {
        ts_test_fail(__FILE__, __LINE__, "finish: %s", err.msg);
        return 0;
    }
    if (ts_mvt_validate(out->data, out->len, ts_mvt_builder_opts(b)->buffer, NULL, &err) != TS_OK) {
        ts_test_fail(__FILE__, __LINE__, "validate: %s", err.msg);
        return 0;
    }
    return 1;
}

static int
geom_is(const dfeat *f, const uint32_t *want, int n)
{
    if (f->ngeom != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (f->geom[i] != want[i])
            return 0;
    return 1;
}

static void
add_simple(ts_mvt_builder *b, int layer, ts_mvt_geom_type type, const double *xy, size_t n,
           int exterior)
{
    TS_CHECK(ts_mvt_feature_begin(b, layer, type, NULL) == TS_OK);
    if (type == TS_MVT_POINT)
        TS_CHECK(ts_mvt_feature_points(b, xy, n, NULL) == TS_OK);
    else if (type == TS_MVT_LINE)
        TS_CHECK(ts_mvt_feature_line(b, xy, n, NULL) == TS_OK);
    else
        TS_CHECK(ts_mvt_feature_ring(b, xy, n, exterior, NULL) == TS_OK);
}

/* ---- the spec's examples, to the byte ---- */

TS_TEST(mvt_spec_point_whole_tile_bytes)
{
    ts_mvt_builder *b = new_builder(4096, 0, 0);
    int l = ts_mvt_layer_add(b, "a", NULL);
    TS_REQUIRE(l == 0);
    double p[] = {25, 17};
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    int kept = 0;
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 1);
    ts_buf out;
    ts_mvt_report rep;
    TS_REQUIRE(finish(b, &out, &rep));
    /* Tile.layers(3) { version(15)=2, name(1)="a", features(2) { type(3)=1,
     * geometry(4)=[9 50 34] }, extent(5)=4096 } — written out by hand */
    static const uint8_t want[] = {0x1a, 17,   0x78, 0x02, 0x0a, 0x01, 'a',  0x12, 7,   0x18,
                                   0x01, 0x22, 0x03, 9,    50,   34,   0x28, 0x80, 0x20};
    TS_CHECK_INT(out.len, sizeof want);
    TS_CHECK(out.len == sizeof want && memcmp(out.data, want, sizeof want) == 0);
    TS_CHECK_INT(rep.bytes, sizeof want);
    TS_CHECK_INT(rep.features, 1);
    TS_CHECK_INT(rep.layers, 1);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

TS_TEST(mvt_spec_geometry_examples)
{
    ts_mvt_builder *b = new_builder(4096, 256, 0);
    int l = ts_mvt_layer_add(b, "spec", NULL);
    double mp[] = {5, 7, 3, 2};
    add_simple(b, l, TS_MVT_POINT, mp, 2, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    double ln[] = {2, 2, 2, 10, 10, 10};
    add_simple(b, l, TS_MVT_LINE, ln, 3, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    double ln2[] = {1, 1, 3, 5};
    add_simple(b, l, TS_MVT_LINE, ln, 3, 0);
    TS_CHECK(ts_mvt_feature_line(b, ln2, 2, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    double pg[] = {3, 6, 8, 12, 20, 34, 3, 6}; /* closing point given */
    add_simple(b, l, TS_MVT_POLYGON, pg, 4, 1);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    double e1[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double e2[] = {11, 11, 20, 11, 20, 20, 11, 20, 11, 11};
    double h2[] = {13, 13, 13, 17, 17, 17, 17, 13, 13, 13};
    add_simple(b, l, TS_MVT_POLYGON, e1, 5, 1);
    TS_CHECK(ts_mvt_feature_ring(b, e2, 5, 1, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_ring(b, h2, 5, 0, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);

    ts_buf out;
    TS_REQUIRE(finish(b, &out, NULL));
    dtile *t = decode(&out);
    TS_REQUIRE(t->nlayers == 1 && t->layer[0].nfeat == 5);
    dlayer *dl = &t->layer[0];
    TS_CHECK_INT(dl->version, 2);
    TS_CHECK_INT(dl->extent, 4096);
    TS_CHECK_STR(dl->name, "spec");
    static const uint32_t g_mp[] = {17, 10, 14, 3, 9};
    static const uint32_t g_ln[] = {9, 4, 4, 18, 0, 16, 16, 0};
    static const uint32_t g_mln[] = {9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8};
    static const uint32_t g_pg[] = {9, 6, 12, 18, 10, 12, 24, 44, 15};
    static const uint32_t g_mpg[] = {9, 0,  0,  26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0,
                                     0, 18, 17, 0,  15, 9, 4, 13, 26, 0, 8,  8, 0,  0, 7,  15};
    TS_CHECK(geom_is(&dl->feat[0], g_mp, 5));
    TS_CHECK(geom_is(&dl->feat[1], g_ln, 8));
    TS_CHECK(geom_is(&dl->feat[2], g_mln, 14));
    TS_CHECK(geom_is(&dl->feat[3], g_pg, 9));
    TS_CHECK(geom_is(&dl->feat[4], g_mpg, 33));
    TS_CHECK_INT(dl->feat[0].type, 1);
    TS_CHECK_INT(dl->feat[1].type, 2);
    TS_CHECK_INT(dl->feat[4].type, 3);
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* The spec's §4.5 example: keys and values shared, in first-use order. */
TS_TEST(mvt_spec_attributes_dedup)
{
    ts_mvt_builder *b = new_builder(4096, 0, 0);
    int l = ts_mvt_layer_add(b, "points", NULL);
    double p[] = {1205, 1540};
    ts_mvt_value world = {.type = TS_MVT_STRING, .v.s = {"world", 5}};
    ts_mvt_value again = {.type = TS_MVT_STRING, .v.s = {"again", 5}};
    ts_mvt_value d123 = {.type = TS_MVT_DOUBLE, .v.d = 1.23};
    ts_mvt_value i2 = {.type = TS_MVT_INT, .v.i = 2};
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    ts_mvt_feature_set_id(b, 1, NULL);
    TS_CHECK(ts_mvt_feature_attr(b, "hello", &world, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_attr(b, "h", &world, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_attr(b, "count", &d123, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    ts_mvt_feature_set_id(b, 2, NULL);
    TS_CHECK(ts_mvt_feature_attr(b, "hello", &again, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_attr(b, "count", &i2, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    ts_buf out;
    TS_REQUIRE(finish(b, &out, NULL));
    dtile *t = decode(&out);
    dlayer *dl = &t->layer[0];
    TS_REQUIRE(dl->nfeat == 2);
    TS_CHECK_INT(dl->nkeys, 3);
    TS_CHECK_STR(dl->keys[0], "hello");
    TS_CHECK_STR(dl->keys[1], "h");
    TS_CHECK_STR(dl->keys[2], "count");
    TS_REQUIRE(dl->nvalues == 4);
    TS_CHECK_INT(dl->vtype[0], 1);
    TS_CHECK_STR(dl->vstr[0], "world");
    TS_CHECK_INT(dl->vtype[1], 3);
    double d;
    memcpy(&d, &dl->vnum[1], 8);
    TS_CHECK(d == 1.23);
    TS_CHECK_STR(dl->vstr[2], "again");
    TS_CHECK_INT(dl->vtype[3], 4);
    TS_CHECK_INT(dl->vnum[3], 2);
    static const uint32_t t0[] = {0, 0, 1, 0, 2, 1}, t1[] = {0, 2, 2, 3};
    TS_CHECK_INT(dl->feat[0].ntags, 6);
    TS_CHECK(memcmp(dl->feat[0].tags, t0, sizeof t0) == 0);
    TS_CHECK_INT(dl->feat[1].ntags, 4);
    TS_CHECK(memcmp(dl->feat[1].tags, t1, sizeof t1) == 0);
    TS_CHECK_INT(dl->feat[0].id, 1);
    TS_CHECK_INT(dl->feat[1].id, 2);
    /* the geometry: MoveTo(1205, 1540) = [9 2410 3080] as in the spec */
    static const uint32_t g[] = {9, 2410, 3080};
    TS_CHECK(geom_is(&dl->feat[0], g, 3));
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

TS_TEST(mvt_value_types)
{
    ts_mvt_builder *b = new_builder(4096, 0, 0);
    int l = ts_mvt_layer_add(b, "v", NULL);
    double p[] = {1, 1};
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    ts_mvt_value v[] = {
        {.type = TS_MVT_INT, .v.i = -3},
        {.type = TS_MVT_UINT, .v.u = UINT64_MAX},
        {.type = TS_MVT_BOOL, .v.b = 1},
        {.type = TS_MVT_FLOAT, .v.d = 0.5},
        {.type = TS_MVT_STRING, .v.s = {"K\xc3\xb6nigsallee", 12}},
        {.type = TS_MVT_STRING, .v.s = {"bad\xff", 4}},
        {.type = TS_MVT_INT, .v.i = INT64_MIN},
    };
    const char *keys[] = {"i", "u", "b", "f", "s", "bad", "min"};
    for (int i = 0; i < 7; i++)
        TS_CHECK(ts_mvt_feature_attr(b, keys[i], &v[i], NULL) == TS_OK);
    /* a key twice in one feature: refused, and the feature is gone */
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK(ts_mvt_feature_attr(b, "i", &v[0], &err) == TS_EINVAL);
    TS_CHECK(strstr(err.msg, "twice") != NULL);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_EINVAL); /* nothing open */
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    for (int i = 0; i < 7; i++)
        TS_CHECK(ts_mvt_feature_attr(b, keys[i], &v[i], NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    ts_buf out;
    TS_REQUIRE(finish(b, &out, NULL));
    dtile *t = decode(&out);
    dlayer *dl = &t->layer[0];
    TS_REQUIRE(dl->nfeat == 1 && dl->nvalues == 7);
    TS_CHECK_INT(dl->vtype[0], 6); /* negative INT as sint_value */
    TS_CHECK_INT(dl->vnum[0], 5);  /* zigzag(-3) */
    TS_CHECK_INT(dl->vtype[1], 5);
    TS_CHECK(dl->vnum[1] == UINT64_MAX);
    TS_CHECK_INT(dl->vtype[2], 7);
    TS_CHECK_INT(dl->vnum[2], 1);
    TS_CHECK_INT(dl->vtype[3], 2);
    float f;
    uint32_t fb = (uint32_t)dl->vnum[3];
    memcpy(&f, &fb, 4);
    TS_CHECK(f == 0.5f);
    TS_CHECK_STR(dl->vstr[4], "K\xc3\xb6nigsallee");
    TS_CHECK_STR(dl->vstr[5], "bad\xef\xbf\xbd"); /* invalid UTF-8 became U+FFFD */
    TS_CHECK_INT(dl->vtype[6], 6);
    TS_CHECK(dl->vnum[6] == UINT64_MAX); /* zigzag(INT64_MIN) */
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* ---- clipping ---- */

TS_TEST(mvt_clip_points_and_lines)
{
    ts_mvt_builder *b = new_builder(4096, 256, 0);
    int l = ts_mvt_layer_add(b, "c", NULL);
    /* points: outside ones filtered, the edge of the buffer kept, duplicates after rounding
     * dropped */
    double pts[] = {-300,   10,   -256, 10,   4352, 4352, 4352.4,
                    4352.4, 5000, 5000, 10.2, 10.2, 9.8,  9.8};
    add_simple(b, l, TS_MVT_POINT, pts, 7, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    /* a line across the tile: cut at the buffer */
    double across[] = {-1000, 100, 5000, 100};
    add_simple(b, l, TS_MVT_LINE, across, 2, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    /* out, in, out, in again: two parts */
    double zig[] = {-1000, 1000, 1000, 1000, 1000, -1000, 2000, -1000, 2000, 1000, 3000, 1000};
    add_simple(b, l, TS_MVT_LINE, zig, 6, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    /* entirely outside: nothing, the feature is empty */
    double away[] = {-5000, -5000, -4000, -4000};
    add_simple(b, l, TS_MVT_LINE, away, 2, 0);
    int kept = 1;
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 0);
    /* collinear vertices in the same direction vanish, a turn back stays */
    double col[] = {0, 0, 10, 0, 20, 0, 30, 0, 15, 0};
    add_simple(b, l, TS_MVT_LINE, col, 5, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    ts_buf out;
    ts_mvt_report rep;
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK_INT(rep.features, 4);
    TS_CHECK_INT(rep.empty, 1);
    dtile *t = decode(&out);
    dlayer *dl = &t->layer[0];
    TS_REQUIRE(dl->nfeat == 4);
    dgeom *g = malloc(sizeof *g);
    dec_geom(&dl->feat[0], g);
    TS_CHECK_INT(g->n, 3);
    TS_CHECK(g->xy[0] == -256 && g->xy[1] == 10);
    TS_CHECK(g->xy[2] == 4352 && g->xy[3] == 4352);
    TS_CHECK(g->xy[4] == 10 && g->xy[5] == 10);
    dec_geom(&dl->feat[1], g);
    TS_CHECK_INT(g->nparts, 1);
    TS_CHECK(g->n == 2 && g->xy[0] == -256 && g->xy[1] == 100 && g->xy[2] == 4352 &&
             g->xy[3] == 100);
    dec_geom(&dl->feat[2], g);
    TS_CHECK_INT(g->nparts, 2);
    static const int32_t zz[] = {-256, 1000, 1000, 1000, 1000, -256,
                                 2000, -256, 2000, 1000, 3000, 1000};
    TS_CHECK(g->n == 6 && memcmp(g->xy, zz, sizeof zz) == 0);
    TS_CHECK_INT(g->start[1], 3);
    /* the buffer bound of the validator: -256 is outside a buffer of 100 */
    TS_CHECK(ts_mvt_validate(out.data, out.len, 100, NULL, NULL) == TS_EINVAL);
    dec_geom(&dl->feat[3], g);
    static const int32_t cz[] = {0, 0, 30, 0, 15, 0};
    TS_CHECK(g->n == 3 && memcmp(g->xy, cz, sizeof cz) == 0);
    free(g);
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

TS_TEST(mvt_clip_polygons)
{
    ts_mvt_builder *b = new_builder(4096, 64, 0);
    int l = ts_mvt_layer_add(b, "p", NULL);
    /* a polygon covering the tile becomes the clip box */
    double big[] = {-1e6, -1e6, 1e6, -1e6, 1e6, 1e6, -1e6, 1e6};
    add_simple(b, l, TS_MVT_POLYGON, big, 4, 1);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    /* a U shape crossing the right edge */
    double u[] = {4000, 1000, 5000, 1000, 5000, 2000, 4000, 2000,
                  4000, 1800, 4500, 1800, 4500, 1200, 4000, 1200};
    add_simple(b, l, TS_MVT_POLYGON, u, 8, 1);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    /* the tile sits in a hole: nothing left */
    double hole[] = {-2e6, -2e6, -2e6, 2e6, 2e6, 2e6, 2e6, -2e6};
    add_simple(b, l, TS_MVT_POLYGON, big, 4, 1);
    TS_CHECK(ts_mvt_feature_ring(b, hole, 4, 0, NULL) == TS_OK);
    int kept = 1;
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 0);
    /* a sliver that rounds to a line: degenerate, dropped */
    double sliver[] = {100, 100, 200, 100.2, 300, 100};
    add_simple(b, l, TS_MVT_POLYGON, sliver, 3, 1);
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 0);
    /* a hole whose exterior vanished goes with it; the next polygon stays */
    double tiny[] = {10, 10, 10.2, 10, 10.2, 10.2};
    double sq[] = {100, 100, 200, 100, 200, 200, 100, 200};
    double sqh[] = {120, 120, 120, 180, 180, 180, 180, 120};
    add_simple(b, l, TS_MVT_POLYGON, tiny, 3, 1);
    TS_CHECK(ts_mvt_feature_ring(b, sqh, 4, 0, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_ring(b, sq, 4, 1, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 1);
    ts_buf out;
    ts_mvt_report rep;
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK_INT(rep.features, 3);
    TS_CHECK_INT(rep.empty, 2);
    dtile *t = decode(&out);
    dlayer *dl = &t->layer[0];
    TS_REQUIRE(dl->nfeat == 3);
    dgeom *g = malloc(sizeof *g);
    dec_geom(&dl->feat[0], g);
    TS_CHECK_INT(g->n, 4);
    TS_CHECK_NEAR(darea(g->xy, g->n), 4224.0 * 4224.0, 0);
    dec_geom(&dl->feat[1], g);
    TS_CHECK_INT(g->nparts, 1);
    /* the U cut at x = 4160: two arms 160 wide, joined along the cut */
    TS_CHECK_NEAR(darea(g->xy, g->n), 160.0 * 1000 - 160.0 * 600, 0);
    for (int i = 0; i < g->n; i++)
        TS_CHECK(g->xy[2 * i] <= 4160);
    dec_geom(&dl->feat[2], g);
    TS_CHECK_INT(g->nparts, 1);
    TS_CHECK_NEAR(darea(g->xy, g->n), 10000, 0);
    free(g);
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* ---- winding ---- */

TS_TEST(mvt_winding_is_fixed)
{
    ts_mvt_builder *b = new_builder(4096, 0, 0);
    int l = ts_mvt_layer_add(b, "w", NULL);
    /* exterior given counter-clockwise on screen (negative area), hole clockwise */
    double ext[] = {0, 0, 0, 100, 100, 100, 100, 0};
    double hole[] = {20, 20, 80, 20, 80, 80, 20, 80};
    double ext2[] = {200, 200, 200, 300, 300, 300, 300, 200};
    add_simple(b, l, TS_MVT_POLYGON, ext, 4, 1);
    TS_CHECK(ts_mvt_feature_ring(b, hole, 4, 0, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_ring(b, ext2, 4, 1, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    ts_buf out;
    TS_REQUIRE(finish(b, &out, NULL));
    dtile *t = decode(&out);
    dgeom *g = malloc(sizeof *g);
    dec_geom(&t->layer[0].feat[0], g);
    TS_REQUIRE(g->nparts == 3);
    TS_CHECK_NEAR(darea(g->xy, g->start[1]), 10000, 0);
    TS_CHECK_NEAR(darea(g->xy + 2 * g->start[1], g->start[2] - g->start[1]), -3600, 0);
    TS_CHECK_NEAR(darea(g->xy + 2 * g->start[2], g->start[3] - g->start[2]), 10000, 0);
    free(g);
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* The store's convention (y up, exteriors counter-clockwise, holes clockwise, no closing
 * point) through ts_mvt_add_geom and a transformation. */
TS_TEST(mvt_add_geom_store_convention)
{
    ts_mvt_builder *b = new_builder(4096, 0, 0);
    int l = ts_mvt_layer_add(b, "parcels", NULL);
    ts_bbox tile = {1000, 2000, 1256, 2256}; /* 256 map units: 16 tile units each */
    ts_mvt_transform tr = ts_mvt_transform_for(&tile, 4096);
    double xy[] = {1010, 2010, 1110, 2010, 1110, 2110, 1010, 2110, /* ccw exterior */
                   1030, 2030, 1030, 2090, 1090, 2090, 1090, 2030, /* cw hole */
                   1150, 2150, 1200, 2150, 1200, 2200};            /* ccw: a second polygon */
    uint32_t counts[] = {4, 4, 3};
    const char *keys[] = {"flstnr", "flur", "area"};
    ts_value vals[] = {{.type = TS_VAL_STR, .u.s = "123/4"},
                       {.type = TS_VAL_INT, .u.i = 7},
                       {.type = TS_VAL_NULL}};
    int kept = 0;
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK(ts_mvt_add_feature(b, l, TS_MVT_POLYGON, xy, counts, 3, &tr, 1, 42, keys, vals, 3,
                                &kept, &err) == TS_OK);
    TS_CHECK_INT(kept, 1);
    ts_buf out;
    TS_REQUIRE(finish(b, &out, NULL));
    dtile *t = decode(&out);
    dlayer *dl = &t->layer[0];
    TS_REQUIRE(dl->nfeat == 1);
    TS_CHECK_INT(dl->feat[0].id, 42);
    TS_CHECK_INT(dl->feat[0].ntags, 4); /* the NULL value is left out */
    TS_CHECK_INT(dl->nkeys, 2);
    dgeom *g = malloc(sizeof *g);
    dec_geom(&dl->feat[0], g);
    TS_REQUIRE(g->nparts == 3);
    TS_CHECK_NEAR(darea(g->xy, g->start[1]), 1600.0 * 1600, 0);
    TS_CHECK_NEAR(darea(g->xy + 2 * g->start[1], 4), -960.0 * 960, 0);
    TS_CHECK_NEAR(darea(g->xy + 2 * g->start[2], 3), 800.0 * 800 / 2, 0);
    /* map (1010, 2110) is tile (160, (2256 - 2110) * 16 = 2336) */
    int found = 0;
    for (int i = 0; i < g->start[1]; i++)
        found |= g->xy[2 * i] == 160 && g->xy[2 * i + 1] == 2336;
    TS_CHECK(found);
    free(g);
    dtile_free(t);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* ---- layers ---- */

TS_TEST(mvt_layers_names_and_empty)
{
    ts_mvt_builder *b = new_builder(512, 0, 0);
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK(ts_mvt_layer_add(b, "a", NULL) == 0);
    TS_CHECK(ts_mvt_layer_add(b, "a", &err) == -1);
    TS_CHECK(strstr(err.msg, "twice") != NULL);
    TS_CHECK(ts_mvt_layer_add(b, "", NULL) == -1);
    TS_CHECK(ts_mvt_layer_add(b, "b", NULL) == 1);
    TS_CHECK(ts_mvt_layer_find(b, "b") == 1);
    TS_CHECK(ts_mvt_feature_begin(b, 2, TS_MVT_POINT, NULL) == TS_EINVAL);
    ts_buf out;
    ts_mvt_report rep;
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK_INT(out.len, 0); /* no features: an empty tile */
    TS_CHECK_INT(rep.layers, 0);
    ts_buf_fini(&out);
    double p[] = {3, 4};
    add_simple(b, 1, TS_MVT_POINT, p, 1, 0);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK_INT(rep.layers, 1); /* "a" is left out */
    dtile *t = decode(&out);
    TS_CHECK_INT(t->nlayers, 1);
    TS_CHECK_STR(t->layer[0].name, "b");
    TS_CHECK_INT(t->layer[0].extent, 512);
    dtile_free(t);
    ts_buf_fini(&out);
    /* reset: a fresh tile with the same options */
    ts_mvt_builder_reset(b);
    TS_CHECK(ts_mvt_layer_find(b, "b") == -1);
    TS_CHECK(ts_mvt_layer_add(b, "b", NULL) == 0);
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK_INT(out.len, 0);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* ---- rollback ---- */

static void
build_base(ts_mvt_builder *b)
{
    int l = ts_mvt_layer_add(b, "r", NULL);
    double p[] = {100, 100};
    ts_mvt_value v = {.type = TS_MVT_STRING, .v.s = {"x", 1}};
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    TS_CHECK(ts_mvt_feature_attr(b, "k", &v, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
}

TS_TEST(mvt_rollback_leaves_no_trace)
{
    ts_mvt_builder *ref = new_builder(4096, 0, 0), *b = new_builder(4096, 0, 0);
    build_base(ref);
    build_base(b);
    /* explicit rollback after new keys and values */
    double p[] = {200, 200};
    ts_mvt_value v = {.type = TS_MVT_STRING, .v.s = {"new", 3}};
    add_simple(b, 0, TS_MVT_POINT, p, 1, 0);
    TS_CHECK(ts_mvt_feature_attr(b, "other", &v, NULL) == TS_OK);
    ts_mvt_feature_rollback(b);
    /* failure: a non-finite coordinate */
    double nan_pt[] = {NAN, 1};
    TS_CHECK(ts_mvt_feature_begin(b, 0, TS_MVT_POINT, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_attr(b, "third", &v, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_points(b, nan_pt, 1, NULL) == TS_EINVAL);
    TS_CHECK(ts_mvt_feature_points(b, p, 1, NULL) == TS_EINVAL); /* no feature open */
    /* wrong geometry for the type */
    TS_CHECK(ts_mvt_feature_begin(b, 0, TS_MVT_POINT, NULL) == TS_OK);
    TS_CHECK(ts_mvt_feature_line(b, p, 1, NULL) == TS_EINVAL);
    /* a hole without exterior */
    TS_CHECK(ts_mvt_feature_begin(b, 0, TS_MVT_POLYGON, NULL) == TS_OK);
    double sq[] = {0, 0, 10, 0, 10, 10};
    TS_CHECK(ts_mvt_feature_ring(b, sq, 3, 0, NULL) == TS_EINVAL);
    /* finish refuses while a feature is open */
    TS_CHECK(ts_mvt_feature_begin(b, 0, TS_MVT_POINT, NULL) == TS_OK);
    ts_buf tmp;
    ts_buf_init(&tmp, 1 << 20);
    TS_CHECK(ts_mvt_finish(b, &tmp, NULL, NULL) == TS_EINVAL);
    ts_buf_fini(&tmp);
    ts_mvt_feature_rollback(b);
    ts_buf o1, o2;
    TS_REQUIRE(finish(ref, &o1, NULL));
    TS_REQUIRE(finish(b, &o2, NULL));
    TS_CHECK(o1.len == o2.len && memcmp(o1.data, o2.data, o1.len) == 0);
    ts_buf_fini(&o1);
    ts_buf_fini(&o2);
    ts_mvt_builder_free(ref);
    ts_mvt_builder_free(b);
}

TS_TEST(mvt_work_limit_rolls_back)
{
    ts_mvt_opts o = {.max_work_bytes = 64 * 1024};
    ts_mvt_builder *b = ts_mvt_builder_new(&o, NULL);
    ts_mvt_builder *ref = new_builder(4096, 0, 0);
    build_base(b);
    build_base(ref);
    /* a line of 100k vertices cannot be held in 64 KiB */
    size_t n = 100000;
    double *xy = malloc(sizeof *xy * 2 * n);
    for (size_t i = 0; i < n; i++) {
        xy[2 * i] = (double)(i % 4000);
        xy[2 * i + 1] = (double)(i / 4000) * 7 + (i & 1);
    }
    TS_CHECK(ts_mvt_feature_begin(b, 0, TS_MVT_LINE, NULL) == TS_OK);
    ts_err err;
    ts_err_clear(&err);
    TS_CHECK(ts_mvt_feature_line(b, xy, n, &err) == TS_ELIMIT);
    free(xy);
    ts_buf o1, o2;
    TS_REQUIRE(finish(ref, &o1, NULL));
    TS_REQUIRE(finish(b, &o2, NULL));
    TS_CHECK(o1.len == o2.len && memcmp(o1.data, o2.data, o1.len) == 0);
    ts_buf_fini(&o1);
    ts_buf_fini(&o2);
    ts_mvt_builder_free(ref);
    ts_mvt_builder_free(b);
}

/* ---- the size limit ---- */

static uint32_t
rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 32);
}

/* n squares of varied sizes, each with an attribute unique to it (so dropping frees its
 * value too). */
static void
add_squares(ts_mvt_builder *b, int n, uint64_t seed)
{
    int l = ts_mvt_layer_add(b, "sq", NULL);
    for (int i = 0; i < n; i++) {
        double x = rng_next(&seed) % 3800, y = rng_next(&seed) % 3800;
        double s = 2 + rng_next(&seed) % 200;
        double sq[] = {x, y, x + s, y, x + s, y + s, x, y + s};
        char name[32];
        snprintf(name, sizeof name, "feature-%d", i);
        ts_mvt_value v = {.type = TS_MVT_STRING, .v.s = {name, strlen(name)}};
        add_simple(b, l, TS_MVT_POLYGON, sq, 4, 1);
        ts_mvt_feature_set_id(b, (uint64_t)i, NULL);
        TS_CHECK(ts_mvt_feature_attr(b, "name", &v, NULL) == TS_OK);
        TS_CHECK(ts_mvt_feature_commit(b, NULL, NULL) == TS_OK);
    }
}

TS_TEST(mvt_size_limit_drops_smallest_first)
{
    ts_mvt_builder *full = new_builder(4096, 0, 0);
    add_squares(full, 300, 7);
    ts_buf fo;
    ts_mvt_report frep;
    TS_REQUIRE(finish(full, &fo, &frep));
    TS_CHECK_INT(frep.dropped, 0);
    TS_CHECK_INT(frep.bytes, fo.len);
    size_t limit = fo.len * 2 / 3;

    ts_mvt_builder *b = new_builder(4096, 0, limit);
    add_squares(b, 300, 7);
    ts_buf out;
    ts_mvt_report rep;
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK(out.len <= limit);
    TS_CHECK_INT(rep.bytes, out.len);
    TS_CHECK_INT(rep.bytes_unlimited, fo.len);
    TS_CHECK(rep.dropped > 0);
    TS_CHECK_INT(rep.features + rep.dropped, 300);
    /* every dropped feature is no larger than every kept one (ids = commit order) */
    dtile *t = decode(&out);
    TS_REQUIRE(t->nlayers == 1 && t->layer[0].nfeat == (int)rep.features);
    dgeom *g = malloc(sizeof *g);
    double min_kept = INFINITY;
    for (int i = 0; i < t->layer[0].nfeat; i++) {
        dec_geom(&t->layer[0].feat[i], g);
        double a = darea(g->xy, g->n);
        min_kept = a < min_kept ? a : min_kept;
    }
    TS_CHECK(rep.dropped_max_footprint <= min_kept);
    uint32_t ndropped = 0;
    for (uint32_t i = 0; i < 300; i++)
        ndropped += (uint32_t)ts_mvt_feature_dropped(b, 0, i);
    TS_CHECK_INT(ndropped, rep.dropped);
    /* the fewest: a limit one byte under what was written drops more */
    ts_mvt_builder *b2 = new_builder(4096, 0, out.len - 1);
    add_squares(b2, 300, 7);
    ts_buf o2;
    ts_mvt_report rep2;
    TS_REQUIRE(finish(b2, &o2, &rep2));
    TS_CHECK(rep2.dropped > rep.dropped);
    /* and a limit of exactly the written size drops the same */
    ts_mvt_builder *b3 = new_builder(4096, 0, out.len);
    add_squares(b3, 300, 7);
    ts_buf o3;
    ts_mvt_report rep3;
    TS_REQUIRE(finish(b3, &o3, &rep3));
    TS_CHECK_INT(rep3.dropped, rep.dropped);
    TS_CHECK(o3.len == out.len && memcmp(o3.data, out.data, out.len) == 0);
    /* values of dropped features are gone from the table */
    TS_CHECK_INT(t->layer[0].nvalues, t->layer[0].nfeat);
    free(g);
    dtile_free(t);
    ts_buf_fini(&fo);
    ts_buf_fini(&out);
    ts_buf_fini(&o2);
    ts_buf_fini(&o3);
    ts_mvt_builder_free(full);
    ts_mvt_builder_free(b);
    ts_mvt_builder_free(b2);
    ts_mvt_builder_free(b3);
}

TS_TEST(mvt_oversize_feature_is_discarded)
{
    ts_mvt_builder *b = new_builder(4096, 0, 200);
    int l = ts_mvt_layer_add(b, "o", NULL);
    double line[400];
    for (int i = 0; i < 200; i++) {
        line[2 * i] = i * 20;
        line[2 * i + 1] = (i & 1) * 50;
    }
    add_simple(b, l, TS_MVT_LINE, line, 200, 0);
    int kept = 1;
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 0);
    double p[] = {5, 5};
    add_simple(b, l, TS_MVT_POINT, p, 1, 0);
    TS_CHECK(ts_mvt_feature_commit(b, &kept, NULL) == TS_OK);
    TS_CHECK_INT(kept, 1);
    ts_buf out;
    ts_mvt_report rep;
    TS_REQUIRE(finish(b, &out, &rep));
    TS_CHECK_INT(rep.oversize, 1);
    TS_CHECK_INT(rep.features, 1);
    TS_CHECK(out.len <= 200);
    ts_buf_fini(&out);
    ts_mvt_builder_free(b);
}

/* ---- round trip: random features in map space, decoded and compared ---- */

static double
seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

static double
poly_dist(double px, double py, const double *xy, int n, int closed)
{
    double d = INFINITY;
    for (int i = 0; i + (closed ? 0 : 1) < n; i++) {
        int j = (i + 1) % n;
        double s = seg_dist(px, py, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1]);
        d = s < d ? s : d;
    }
    return d;
}

static int
inside_ring(double px, double py, const double *xy, int n)
{
    int c = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        double yi = xy[2 * i + 1], yj = xy[2 * j + 1];
        if ((yi > py) != (yj > py) &&
            px < (xy[2 * j] - xy[2 * i]) * (py - yi) / (yj - yi) + xy[2 * i])
            c = !c;
    }
    return c;
}

TS_TEST(mvt_round_trip_random_features)
{
    uint64_t seed = 0x1234567887654321ull;
    const uint32_t extent = 4096, buffer = 128;
    ts_bbox tile = {500000, 5000000, 500100, 5000100}; /* a 100 m tile */
    ts_mvt_transform tr = ts_mvt_transform_for(&tile, extent);
    double lo = -(double)buffer, hi = extent + (double)buffer;
    int nkept = 0, nkept_p = 0;
    for (int round = 0; round < 30; round++) {
        ts_mvt_builder *b = new_builder(extent, buffer, 0);
        int lp = ts_mvt_layer_add(b, "lines", NULL), lg = ts_mvt_layer_add(b, "polys", NULL);
        /* lines: random walks in map space around the tile */
        double lines[20][2 * 40], polys[20][2 * 24], tl[20][2 * 40], tp[20][2 * 24];
        int nl = 0, np = 0, kept_l[20], kept_p[20];
        for (int i = 0; i < 20; i++) {
            double x = tile.minx - 30 + rng_next(&seed) % 160,
                   y = tile.miny - 30 + rng_next(&seed) % 160;
            for (int k = 0; k < 40; k++) {
                lines[i][2 * k] = x;
                lines[i][2 * k + 1] = y;
                x += (double)(rng_next(&seed) % 2001) / 100 - 10;
                y += (double)(rng_next(&seed) % 2001) / 100 - 10;
            }
            uint32_t c = 40;
            TS_CHECK(ts_mvt_feature_begin(b, lp, TS_MVT_LINE, NULL) == TS_OK);
            TS_CHECK(ts_mvt_add_geom(b, TS_MVT_LINE, lines[i], &c, 1, &tr, NULL) == TS_OK);
            TS_CHECK(ts_mvt_feature_commit(b, &kept_l[i], NULL) == TS_OK);
            nl++;
            /* star-shaped (simple) polygons, counter-clockwise in map space */
            double cx = tile.minx - 20 + rng_next(&seed) % 140,
                   cy = tile.miny - 20 + rng_next(&seed) % 140;
            double r0 = 2 + rng_next(&seed) % 40;
            for (int k = 0; k < 24; k++) {
                double a = 2 * M_PI * k / 24, r = r0 * (0.4 + (rng_next(&seed) % 600) / 1000.0);
                polys[i][2 * k] = cx + r * cos(a);
                polys[i][2 * k + 1] = cy + r * sin(a);
            }
            c = 24;
            TS_CHECK(ts_mvt_feature_begin(b, lg, TS_MVT_POLYGON, NULL) == TS_OK);
            TS_CHECK(ts_mvt_add_geom(b, TS_MVT_POLYGON, polys[i], &c, 1, &tr, NULL) == TS_OK);
            TS_CHECK(ts_mvt_feature_set_id(b, (uint64_t)i, NULL) == TS_OK);
            TS_CHECK(ts_mvt_feature_commit(b, &kept_p[i], NULL) == TS_OK);
            np++;
            for (int k = 0; k < 40; k++) {
                tl[i][2 * k] = (lines[i][2 * k] - tr.ox) * tr.sx;
                tl[i][2 * k + 1] = (tr.oy - lines[i][2 * k + 1]) * tr.sy;
            }
            for (int k = 0; k < 24; k++) {
                tp[i][2 * k] = (polys[i][2 * k] - tr.ox) * tr.sx;
                tp[i][2 * k + 1] = (tr.oy - polys[i][2 * k + 1]) * tr.sy;
            }
        }
        ts_buf out;
        TS_REQUIRE(finish(b, &out, NULL));
        dtile *t = decode(&out);
        dgeom *g = malloc(sizeof *g);
        /* lines: every decoded vertex lies on the input (within rounding) and in the box;
         * every input vertex well inside the box lies on the decoded line */
        int fi = 0;
        for (int i = 0; i < nl; i++) {
            if (!kept_l[i]) { /* then no vertex of it was inside the box */
                for (int k = 0; k < 40; k++) {
                    double x = tl[i][2 * k], y = tl[i][2 * k + 1];
                    TS_CHECK(x < lo + 1 || x > hi - 1 || y < lo + 1 || y > hi - 1);
                }
                continue;
            }
            nkept++;
            TS_REQUIRE(t->nlayers >= 1 && fi < t->layer[0].nfeat);
            dec_geom(&t->layer[0].feat[fi++], g);
            double dxy[2 * 8192];
            for (int k = 0; k < g->n; k++) {
                double x = g->xy[2 * k], y = g->xy[2 * k + 1];
                TS_CHECK(x >= lo && x <= hi && y >= lo && y <= hi);
                TS_CHECK(poly_dist(x, y, tl[i], 40, 0) <= 0.71);
                dxy[2 * k] = x;
                dxy[2 * k + 1] = y;
            }
            for (int k = 0; k < 40; k++) {
                double x = tl[i][2 * k], y = tl[i][2 * k + 1];
                if (x < lo + 1 || x > hi - 1 || y < lo + 1 || y > hi - 1)
                    continue;
                double d = INFINITY;
                for (int p = 0; p < g->nparts; p++) {
                    double s =
                        poly_dist(x, y, dxy + 2 * g->start[p], g->start[p + 1] - g->start[p], 0);
                    d = s < d ? s : d;
                }
                TS_CHECK(d <= 0.71);
            }
        }
        /* polygons: sample points away from every edge agree on inside/outside */
        fi = 0;
        int lidx = t->nlayers == 2 ? 1 : 0;
        for (int i = 0; i < np; i++) {
            if (!kept_p[i]) { /* nothing of it inside the box */
                for (int sy = 0; sy < 40; sy++)
                    for (int sx = 0; sx < 40; sx++) {
                        double x = lo + (hi - lo) * (sx + 0.5) / 40;
                        double y = lo + (hi - lo) * (sy + 0.5) / 40;
                        if (poly_dist(x, y, tp[i], 24, 1) >= 1.5)
                            TS_CHECK(!inside_ring(x, y, tp[i], 24));
                    }
                continue;
            }
            TS_REQUIRE(fi < t->layer[lidx].nfeat);
            const dfeat *f = &t->layer[lidx].feat[fi++];
            TS_CHECK_INT(f->id, i);
            nkept_p++;
            dec_geom(f, g);
            TS_REQUIRE(g->nparts == 1);
            TS_CHECK(darea(g->xy, g->n) > 0);
            double dxy[2 * 8192];
            for (int k = 0; k < g->n; k++) {
                dxy[2 * k] = g->xy[2 * k];
                dxy[2 * k + 1] = g->xy[2 * k + 1];
            }
            for (int sy = 0; sy < 40; sy++)
                for (int sx = 0; sx < 40; sx++) {
                    double x = lo + (hi - lo) * (sx + 0.5) / 40,
                           y = lo + (hi - lo) * (sy + 0.5) / 40;
                    if (poly_dist(x, y, tp[i], 24, 1) < 1.5 || x < lo + 1.5 || x > hi - 1.5 ||
                        y < lo + 1.5 || y > hi - 1.5)
                        continue;
                    TS_CHECK(inside_ring(x, y, tp[i], 24) == inside_ring(x, y, dxy, g->n));
                }
        }
        (void)fi;
        free(g);
        dtile_free(t);
        ts_buf_fini(&out);
        ts_mvt_builder_free(b);
    }
    /* most features touch the tile: the checks above ran on many */
    TS_CHECK(nkept > 200 && nkept_p > 200);
    fprintf(stderr, "round trip: %d lines, %d polygons compared\n", nkept, nkept_p);
}

/* ---- validator ---- */

static ts_status
validate_bytes(const uint8_t *p, size_t n)
{
    return ts_mvt_validate(p, n, -1, NULL, NULL);
}

TS_TEST(mvt_validate_rejects_bad_tiles)
{
    /* the good tile of the first test */
    uint8_t good[] = {0x1a, 17,   0x78, 0x02, 0x0a, 0x01, 'a',  0x12, 7,   0x18,
                      0x01, 0x22, 0x03, 9,    50,   34,   0x28, 0x80, 0x20};
    ts_mvt_info info;
    TS_CHECK(ts_mvt_validate(good, sizeof good, 0, &info, NULL) == TS_OK);
    TS_CHECK_INT(info.features, 1);
    TS_CHECK_INT(info.points, 1);
    TS_CHECK(info.minx == 25 && info.maxy == 17);
    TS_CHECK(ts_mvt_validate(good, sizeof good, 0, NULL, NULL) == TS_OK);
    uint8_t v[sizeof good];
    memcpy(v, good, sizeof v);
    v[3] = 1; /* version 1 */
    TS_CHECK(validate_bytes(v, sizeof v) == TS_EINVAL);
    memcpy(v, good, sizeof v);
    v[10] = 0; /* type UNKNOWN */
    TS_CHECK(validate_bytes(v, sizeof v) == TS_EINVAL);
    memcpy(v, good, sizeof v);
    v[13] = 17; /* MoveTo count 2 with one pair */
    TS_CHECK(validate_bytes(v, sizeof v) == TS_EINVAL);
    TS_CHECK(validate_bytes(good, sizeof good - 1) == TS_EINVAL); /* truncated */
    memcpy(v, good, sizeof v);
    v[18] = 0x00; /* extent 0 */
    TS_CHECK(validate_bytes(v, sizeof v) == TS_EINVAL);
    memcpy(v, good, sizeof v);
    v[5] = 0; /* empty name: the layer's length no longer matches */
    TS_CHECK(validate_bytes(v, sizeof v) == TS_EINVAL);
    /* two layers of one name */
    uint8_t two[2 * sizeof good];
    memcpy(two, good, sizeof good);
    memcpy(two + sizeof good, good, sizeof good);
    TS_CHECK(validate_bytes(two, sizeof two) == TS_EINVAL);
    two[sizeof good + 6] = 'b';
    TS_CHECK(validate_bytes(two, sizeof two) == TS_OK);

    /* polygons: exterior first, no zero-length LineTo, no repeated first point */
    struct {
        uint32_t g[16];
        int n;
        int ok;
    } cases[] = {
        {{9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15}, 11, 1},  /* square, positive */
        {{9, 0, 0, 26, 0, 20, 20, 0, 0, 19, 15}, 11, 0},  /* negative first ring */
        {{9, 0, 0, 26, 20, 0, 0, 0, 19, 0, 15}, 11, 0},   /* zero-length LineTo */
        {{9, 0, 0, 26, 20, 0, 0, 20, 19, 19, 15}, 11, 0}, /* ends on its start */
        {{9, 0, 0, 18, 20, 0, 15}, 7, 0},                 /* LineTo count 1 */
        {{9, 0, 0, 26, 20, 0, 0, 20, 19, 0}, 10, 0},      /* no ClosePath */
        {{9, 0, 0, 26, 20, 0, 20, 0, 29, 0, 15}, 11, 0},  /* collinear: zero area */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t t[64], *p = t;
        uint8_t feat[32], *q = feat;
        *q++ = 0x18;
        *q++ = 3;
        *q++ = 0x22;
        *q++ = (uint8_t)cases[c].n;
        for (int i = 0; i < cases[c].n; i++)
            *q++ = (uint8_t)cases[c].g[i];
        size_t fl = (size_t)(q - feat);
        size_t ll = 2 + 3 + 2 + fl;
        *p++ = 0x1a;
        *p++ = (uint8_t)ll;
        *p++ = 0x78;
        *p++ = 2;
        *p++ = 0x0a;
        *p++ = 1;
        *p++ = 'x';
        *p++ = 0x12;
        *p++ = (uint8_t)fl;
        memcpy(p, feat, fl);
        p += fl;
        ts_status st = validate_bytes(t, (size_t)(p - t));
        if (cases[c].ok)
            TS_CHECK(st == TS_OK);
        else
            TS_CHECK(st == TS_EINVAL);
    }
}

/* ---- gzip ---- */

TS_TEST(mvt_gzip_round_trip)
{
    ts_mvt_builder *b = new_builder(4096, 0, 0);
    add_squares(b, 200, 3);
    ts_buf tile, gz, back;
    TS_REQUIRE(finish(b, &tile, NULL));
    ts_buf_init(&gz, 1 << 24);
    ts_buf_init(&back, 1 << 24);
    TS_CHECK(ts_mvt_gzip(tile.data, tile.len, -1, &gz, NULL) == TS_OK);
    TS_CHECK(ts_mvt_is_gzip(gz.data, gz.len));
    TS_CHECK(!ts_mvt_is_gzip(tile.data, tile.len));
    TS_CHECK(gz.len < tile.len);
    /* zlib itself reads it as gzip */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    TS_REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
    uint8_t *raw = malloc(tile.len + 16);
    zs.next_in = gz.data;
    zs.avail_in = (uInt)gz.len;
    zs.next_out = raw;
    zs.avail_out = (uInt)tile.len + 16;
    TS_CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    TS_CHECK(zs.total_out == tile.len && memcmp(raw, tile.data, tile.len) == 0);
    inflateEnd(&zs);
    free(raw);
    TS_CHECK(ts_mvt_gunzip(gz.data, gz.len, &back, NULL) == TS_OK);
    TS_CHECK(back.len == tile.len && memcmp(back.data, tile.data, tile.len) == 0);
    /* truncated: refused; too small an output: limit */
    ts_buf small;
    ts_buf_init(&small, 1 << 24);
    TS_CHECK(ts_mvt_gunzip(gz.data, gz.len - 9, &small, NULL) == TS_EINVAL);
    ts_buf_fini(&small);
    ts_buf_init(&small, tile.len / 2);
    TS_CHECK(ts_mvt_gunzip(gz.data, gz.len, &small, NULL) == TS_ELIMIT);
    ts_buf_fini(&small);
    TS_CHECK(ts_mvt_gzip(tile.data, tile.len, 12, &gz, NULL) == TS_EINVAL);
    ts_buf_fini(&tile);
    ts_buf_fini(&gz);
    ts_buf_fini(&back);
    ts_mvt_builder_free(b);
}

TS_TEST(mvt_query_bbox_and_transform)
{
    ts_bbox t = {0, 0, 256, 512};
    ts_bbox q = ts_mvt_query_bbox(&t, 4096, 256);
    TS_CHECK_NEAR(q.minx, -16, 1e-12);
    TS_CHECK_NEAR(q.maxy, 544, 1e-12);
    ts_mvt_transform tr = ts_mvt_transform_for(&t, 4096);
    TS_CHECK_NEAR((128 - tr.ox) * tr.sx, 2048, 1e-9);
    TS_CHECK_NEAR((tr.oy - 512) * tr.sy, 0, 1e-9);
    TS_CHECK_NEAR((tr.oy - 0) * tr.sy, 4096, 1e-9);
    ts_err err;
    ts_err_clear(&err);
    ts_mvt_opts o = {.extent = (1u << 24) + 1};
    TS_CHECK(ts_mvt_builder_new(&o, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EINVAL);
}
