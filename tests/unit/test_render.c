/* tests/unit/test_render.c — the per-feature loop of render: rule selection by scale,
 * filters (property, ElseFilter, BBOX), and the symbolizers' draw calls, on a tiny store
 * built in memory and a style parsed from SLD text; and band rendering against the whole
 * drawing. */
#include "render/render.h"

#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Map units = pixels: the canvas shows [0, 100] x [0, 100], y up. */
#define W 100
#define H 100

static const char *sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle>\n"
    "<FeatureTypeStyle>\n"
    /* class a: red with a black outline 2 px wide (one fill_stroke call) */
    " <Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>class</ogc:PropertyName>"
    "  <ogc:Literal>a</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>\n"
    "  <PolygonSymbolizer><Fill><CssParameter name=\"fill\">#ff0000</CssParameter></Fill>"
    "  <Stroke><CssParameter name=\"stroke\">#000000</CssParameter>"
    "  <CssParameter name=\"stroke-width\">2</CssParameter></Stroke></PolygonSymbolizer></Rule>\n"
    /* never at this scale: green must not appear */
    " <Rule><MaxScaleDenominator>10</MaxScaleDenominator>\n"
    "  <PolygonSymbolizer><Fill><CssParameter name=\"fill\">#00ff00</CssParameter></Fill>"
    "  </PolygonSymbolizer></Rule>\n"
    /* everything else: blue, fill only */
    " <Rule><ElseFilter/>\n"
    "  <PolygonSymbolizer><Fill><CssParameter name=\"fill\">#0000ff</CssParameter></Fill>"
    "  </PolygonSymbolizer></Rule>\n"
    "</FeatureTypeStyle>\n"
    "<FeatureTypeStyle>\n"
    /* class c: a yellow line 3 px wide along its ring, over the fill */
    " <Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>class</ogc:PropertyName>"
    "  <ogc:Literal>c</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>\n"
    "  <LineSymbolizer><Stroke><CssParameter name=\"stroke\">#ffff00</CssParameter>"
    "  <CssParameter name=\"stroke-width\">3</CssParameter></Stroke></LineSymbolizer></Rule>\n"
    "</FeatureTypeStyle>\n"
    "</UserStyle></NamedLayer></StyledLayerDescriptor>\n";

/* Squares [x0, x0 + 20] x [10, 30] in map units, classes a, b, c at x0 = 10, 40, 70. */
static ts_store *
three_squares(void)
{
    ts_err err;
    const char *names[] = {"class"};
    ts_store_builder *b = ts_store_builder_new("squares", names, 1, &err);
    if (b == NULL)
        return NULL;
    const char *cls[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        double x0 = 10 + 30 * i;
        double ring[] = {x0, 10, x0 + 20, 10, x0 + 20, 30, x0, 30};
        uint32_t counts[] = {4};
        ts_value v = {.type = TS_VAL_STR, .u.s = cls[i]};
        if (ts_store_builder_add(b, TS_GEOM_POLYGON, ring, counts, 1, &v, &err) != TS_OK) {
            ts_store_builder_free(b);
            return NULL;
        }
    }
    ts_store *s = NULL;
    if (ts_store_builder_finish(b, &s, &err) != TS_OK)
        return NULL;
    return s;
}

/* The straight colour of map point (x, y): pixel column x, row H - y. */
static uint32_t
px_at(const ts_canvas *c, double x, double y)
{
    return c->px[(size_t)(H - y) * (size_t)c->stride + (size_t)x];
}

static ts_status
draw(ts_render_worker *w, const ts_render_layer *l, ts_canvas *c)
{
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {
        .layers = layers,
        .nlayers = 1,
        .bbox = {0, 0, 100, 100},
        .width = W,
        .height = H,
        .scale_factor = 1,
        .scale_denom = 1000,
        .background = {255, 255, 255, 255},
    };
    ts_err err;
    return ts_render_draw(w, &req, c, &err);
}

#define RED 0xff0000ffu
#define BLUE 0xffff0000u
#define BLACK 0xff000000u
#define YELLOW 0xff00ffffu
#define WHITE 0xffffffffu

TS_TEST(render_rules_filters_and_symbolizers)
{
    ts_err err;
    ts_store *store = three_squares();
    ts_style *style = ts_style_parse(sld, strlen(sld), "test", &err);
    TS_REQUIRE(store != NULL && style != NULL);
    int missing = -1;
    ts_render_layer *l = ts_render_layer_new("squares", store, style, &missing, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    TS_CHECK_INT(missing, 0);
    /* the render loop's look-ahead hint: any level, any id, no effect (ASan watches) */
    for (int level = -1; level < 3; level++)
        for (uint32_t fid = 0; fid < 5; fid++)
            ts_store_prefetch(store, level, fid);
    ts_store_prefetch(store, 0, UINT32_MAX);
    TS_CHECK_INT(l->needs_bbox, 0);
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    TS_CHECK_INT(px_at(c, 20, 20), RED);   /* a: its rule */
    TS_CHECK_INT(px_at(c, 10, 20), BLACK); /* a: outline over the fill, pixel [10, 11) */
    TS_CHECK_INT(px_at(c, 9, 20), BLACK);  /* and outside it, pixel [9, 10) */
    TS_CHECK_INT(px_at(c, 50, 20), BLUE);  /* b: the ElseFilter */
    TS_CHECK_INT(px_at(c, 40, 20), BLUE);  /* no outline on b */
    TS_CHECK_INT(px_at(c, 80, 20), BLUE);  /* c: ElseFilter, then the second style's line */
    TS_CHECK_INT(px_at(c, 70, 20), YELLOW);
    TS_CHECK_INT(px_at(c, 5, 50), WHITE);
    int green = 0; /* the out-of-scale rule drew nothing */
    for (int i = 0; i < W * H; i++) {
        int r = (int)(c->px[i] & 255), g = (int)(c->px[i] >> 8 & 255), b = (int)(c->px[i] >> 16 & 255);
        green += g > r + 64 && g > b + 64;
    }
    TS_CHECK_INT(green, 0);
    TS_CHECK_INT(ts_render_worker_stats(w)->features, 4); /* a, b, c; then c again */
    ts_render_layer_free(l);

    /* A BBOX test (the SLD parser rejects BBOX, so it is put in by hand) reads feature
     * boxes: the first rule now matches what overlaps x in [35, 65], i.e. square b. */
    ts_rule *first = &style->fts[0].rules[0];
    ts_filter *saved = first->filter;
    ts_filter bbox = {.op = TS_FILTER_BBOX, .bbox = {35, 0, 65, 100}};
    first->filter = &bbox;
    l = ts_render_layer_new("squares", store, style, NULL, &err);
    TS_REQUIRE(l != NULL);
    TS_CHECK_INT(l->needs_bbox, 1);
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    TS_CHECK_INT(px_at(c, 20, 20), BLUE);
    TS_CHECK_INT(px_at(c, 50, 20), RED);
    TS_CHECK_INT(px_at(c, 40, 20), BLACK);
    first->filter = saved;
    ts_render_layer_free(l);

    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* ---- bands ----------------------------------------------------------------------------- */

#define PARAM(n, v) "<CssParameter name=\"" n "\">" v "</CssParameter>"
#define IS_CLASS(v)                                                                         \
    "<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>class</ogc:PropertyName>"         \
    "<ogc:Literal>" v "</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"

/* Parcels with mitred outlines, translucent fills, wide mitred lines with a high miter
 * limit (their spikes reach far from the line), dashed round-capped lines, star markers. */
static const char *band_sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    " <Rule>" IS_CLASS("a") "<PolygonSymbolizer><Fill>" PARAM("fill", "#f0e0c0")
    "  </Fill><Stroke>" PARAM("stroke", "#505050") PARAM("stroke-width", "1.5")
    PARAM("stroke-miterlimit", "10") "</Stroke></PolygonSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("b") "<PolygonSymbolizer><Fill>" PARAM("fill", "#2080c0")
    PARAM("fill-opacity", "0.5") "</Fill></PolygonSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("l") "<LineSymbolizer><Stroke>" PARAM("stroke", "#c03020")
    PARAM("stroke-width", "6") PARAM("stroke-miterlimit", "12") PARAM("stroke-opacity", "0.8")
    "  </Stroke></LineSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("d") "<LineSymbolizer><Stroke>" PARAM("stroke", "#208020")
    PARAM("stroke-width", "2.5") PARAM("stroke-dasharray", "5 3")
    PARAM("stroke-linecap", "round") PARAM("stroke-linejoin", "round")
    "  </Stroke></LineSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("p") "<PointSymbolizer><Graphic><Mark><WellKnownName>star"
    "  </WellKnownName><Fill>" PARAM("fill", "#ffcc00") "</Fill><Stroke>"
    PARAM("stroke", "#000000") PARAM("stroke-width", "1") "</Stroke></Mark>"
    "  <Size>12</Size><Rotation>20</Rotation></Graphic></PointSymbolizer></Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

static uint64_t band_rng = 88172645463325252ull;

static double
band_rnd(void)
{
    band_rng ^= band_rng << 13;
    band_rng ^= band_rng >> 7;
    band_rng ^= band_rng << 17;
    return (double)(band_rng >> 11) / 9007199254740992.0;
}

/* Random features over a bw x bh map (units = pixels, y up): many small parcels, some on
 * the rows where 2, 3 or 5 bands meet; large parcels; zigzag lines with sharp turns;
 * dashed lines; points. Some lie partly outside the map. */
static ts_store *
band_store(int bw, int bh)
{
    ts_err err;
    const char *names[] = {"class"};
    ts_store_builder *b = ts_store_builder_new("band", names, 1, &err);
    if (b == NULL)
        return NULL;
    static const char *cls[] = {"a", "b", "l", "d", "p"};
    static const int nbs[3] = {2, 3, 5};
    for (int k = 0; k < 900; k++) {
        int kind = k < 600 ? (k & 1) : 2 + (k % 3);
        double cx = -20 + band_rnd() * (bw + 40), cy = -20 + band_rnd() * (bh + 40);
        if (band_rnd() < 0.5) { /* on a band border (pixel row h * i / n from the top) */
            int nb = nbs[(int)(band_rnd() * 3)], i = 1 + (int)(band_rnd() * (nb - 1));
            cy = bh - (double)(int)((int64_t)bh * i / nb) + (band_rnd() - 0.5) * 6;
        }
        double size = k < 500 ? 0.5 + band_rnd() * 6 : 5 + band_rnd() * 120;
        double xy[2 * 16];
        uint32_t n = 0;
        ts_geom_kind gk = TS_GEOM_POLYGON;
        if (kind < 2) {
            n = 3 + (uint32_t)(band_rnd() * 6);
            for (uint32_t i = 0; i < n; i++) {
                double a = 2 * M_PI * (i + band_rnd() * 0.8) / n;
                double r = size / 2 * (0.4 + 0.6 * band_rnd());
                xy[2 * i] = cx + r * cos(a);
                xy[2 * i + 1] = cy + r * sin(a);
            }
        } else if (kind < 4) { /* zigzag: sharp turns make long miters */
            gk = TS_GEOM_LINE;
            n = 3 + (uint32_t)(band_rnd() * 12);
            double dy = (band_rnd() < 0.5 ? 1 : -1) * (3 + band_rnd() * 20);
            for (uint32_t i = 0; i < n; i++) {
                xy[2 * i] = cx + (band_rnd() - 0.5) * size;
                xy[2 * i + 1] = cy + ((i & 1) ? dy : 0) + (band_rnd() - 0.5) * 2;
            }
        } else {
            gk = TS_GEOM_POINT;
            n = 1;
            xy[0] = cx;
            xy[1] = cy;
        }
        uint32_t counts[] = {n};
        ts_value v = {.type = TS_VAL_STR, .u.s = cls[kind]};
        if (ts_store_builder_add(b, gk, xy, counts, 1, &v, &err) != TS_OK) {
            ts_store_builder_free(b);
            return NULL;
        }
    }
    ts_store *s = NULL;
    if (ts_store_builder_finish(b, &s, &err) != TS_OK)
        return NULL;
    return s;
}

TS_TEST(render_bands_equal_the_whole_drawing)
{
    /* render.h: ts_render_draw_bands gives ts_render_draw's pixels, bit for bit, on the
     * caller alone and on a pool, for 2, 3 and 5 bands (tile ETags depend on it) */
    enum { BW = 233, BH = 301 };
    ts_err err;
    ts_store *store = band_store(BW, BH);
    ts_style *style = ts_style_parse(band_sld, strlen(band_sld), "bands", &err);
    TS_REQUIRE(store != NULL && style != NULL);
    ts_render_layer *l = ts_render_layer_new("band", store, style, NULL, &err);
    ts_render_worker *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = ts_render_worker_new(&err);
    ts_pool *pool = ts_pool_new(2, 16, NULL, &err);
    ts_canvas *whole = ts_canvas_new(BW, BH, &err);
    ts_canvas *banded = ts_canvas_new(BW, BH, &err);
    TS_REQUIRE(l != NULL && w[4] != NULL && pool != NULL && whole != NULL && banded != NULL);
    /* a miter limit of 12 on a 6 px line: the query margin must reach 36 px */
    TS_CHECK(l->max_symbol_px >= 36);
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {
        .layers = layers,
        .nlayers = 1,
        .bbox = {0, 0, BW, BH},
        .width = BW,
        .height = BH,
        .scale_factor = 1,
        .scale_denom = 1000,
        .background = {250, 250, 245, 255},
    };
    TS_CHECK_INT(ts_render_draw(w[0], &req, whole, &err), TS_OK);
    long drawn = 0;
    for (int i = 0; i < BW * BH; i++)
        drawn += whole->px[i] != whole->px[0];
    TS_CHECK(drawn > BW * BH / 4);
    static const int nbs[3] = {2, 3, 5};
    for (int t = 0; t < 6; t++) {
        int nb = nbs[t % 3];
        ts_canvas_clear(banded, (ts_rgba){1, 2, 3, 4});
        TS_CHECK_INT(ts_render_draw_bands(w, nb, t < 3 ? NULL : pool, &req, banded, &err), TS_OK);
        long n = 0;
        for (int i = 0; i < BW * BH; i++)
            n += whole->px[i] != banded->px[i];
        if (n != 0)
            printf("  %d bands%s: %ld pixels differ\n", nb, t < 3 ? "" : " on a pool", n);
        TS_CHECK_INT(n, 0);
    }
    /* a canvas struct that says it is a window of some other image is drawn as the whole
     * image of the request all the same */
    ts_canvas odd = *banded;
    odd.owns = 0;
    odd.row0 = 17;
    odd.full_h = 1000;
    ts_canvas_clear(banded, (ts_rgba){1, 2, 3, 4});
    TS_CHECK_INT(ts_render_draw(w[1], &req, &odd, &err), TS_OK);
    TS_CHECK(memcmp(whole->px, banded->px, sizeof *whole->px * BW * BH) == 0);
    ts_canvas_clear(banded, (ts_rgba){1, 2, 3, 4});
    TS_CHECK_INT(ts_render_draw_bands(w, 3, pool, &req, &odd, &err), TS_OK);
    TS_CHECK(memcmp(whole->px, banded->px, sizeof *whole->px * BW * BH) == 0);
    ts_canvas_free(whole);
    ts_canvas_free(banded);
    ts_pool_free(pool);
    for (int i = 0; i < 5; i++)
        ts_render_worker_free(w[i]);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* ---- graphics: GraphicFill, GraphicStroke, offsets, images, shape marks ------------------ */

/* A store of features with fields class (string) and angle (real). */
typedef struct gfeat {
    const char *cls;
    ts_geom_kind kind;
    double angle;
    int n;
    double xy[2 * 12];
} gfeat;

static ts_store *
graphics_store(const gfeat *f, int nf)
{
    ts_err err;
    const char *names[] = {"class", "angle"};
    ts_store_builder *b = ts_store_builder_new("graphics", names, 2, &err);
    if (b == NULL)
        return NULL;
    for (int i = 0; i < nf; i++) {
        uint32_t counts[] = {(uint32_t)f[i].n};
        ts_value v[2] = {{.type = TS_VAL_STR, .u.s = f[i].cls},
                         {.type = TS_VAL_REAL, .u.d = f[i].angle}};
        if (ts_store_builder_add(b, f[i].kind, f[i].xy, counts, f[i].kind == TS_GEOM_POINT ? (uint32_t)f[i].n : 1,
                                 v, &err) != TS_OK) {
            ts_store_builder_free(b);
            return NULL;
        }
    }
    ts_store *s = NULL;
    if (ts_store_builder_finish(b, &s, &err) != TS_OK)
        return NULL;
    return s;
}

/* A style parsed as if it were a file in tests/data/style (its ExternalGraphics resolve
 * there). */
static ts_style *
data_style(const char *xml, ts_err *err)
{
    char where[600];
    snprintf(where, sizeof where, "%s/tests/data/style/inline.sld", ts_test_srcdir());
    ts_style *s = ts_style_parse(xml, strlen(xml), where, err);
    if (s == NULL) {
        char buf[800];
        fprintf(stderr, "    %s\n", ts_err_format(err, buf, sizeof buf));
    }
    return s;
}

/* The 4 x 4 quadrant image of tests/data/style/graphics/quad.png, made by hand (render
 * reads no files): red, green over blue, yellow; opaque. */
static ts_canvas *
quad_image(void)
{
    ts_canvas *c = ts_canvas_new(4, 4, NULL);
    if (c == NULL)
        return NULL;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            c->px[y * 4 + x] = y < 2 ? (x < 2 ? 0xff0000ffu : 0xff00ff00u)
                                     : (x < 2 ? 0xffff0000u : 0xff00ffffu);
    return c;
}

#define MARK(wkn, inner) "<Mark><WellKnownName>" wkn "</WellKnownName>" inner "</Mark>"
#define STROKE(c, w) "<Stroke>" PARAM("stroke", c) PARAM("stroke-width", w) "</Stroke>"
#define FILL(c) "<Fill>" PARAM("fill", c) "</Fill>"
#define QUAD_PNG                                                                            \
    "<ExternalGraphic xmlns:xlink=\"http://www.w3.org/1999/xlink\"><OnlineResource "        \
    "xlink:href=\"graphics/quad.png\"/><Format>image/png</Format></ExternalGraphic>"
#define GFILL(graphic) "<PolygonSymbolizer><Fill><GraphicFill><Graphic>" graphic \
    "</Graphic></GraphicFill></Fill></PolygonSymbolizer>"

static const char *fill_sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    " <Rule>" IS_CLASS("h") GFILL(MARK("shape://slash", STROKE("#c00000", "1.5")) "<Size>8</Size>")
    "</Rule>\n"
    " <Rule>" IS_CLASS("t") GFILL(MARK("shape://times", STROKE("#006000", "1")) "<Size>10</Size>"
    "<Rotation>30</Rotation>") "</Rule>\n"
    " <Rule>" IS_CLASS("p") GFILL(MARK("shape://plus", STROKE("#000080", "1.2")) "<Size>7</Size>"
    "<Opacity>0.7</Opacity>") "</Rule>\n"
    " <Rule>" IS_CLASS("r") GFILL(MARK("shape://horline", STROKE("#ff00ff", "2")) "<Size>8</Size>")
    "</Rule>\n"
    " <Rule>" IS_CLASS("m") GFILL(MARK("circle", FILL("#2050f0") STROKE("#000000", "0.5"))
    "<Size>6</Size>") "<PolygonSymbolizer><Stroke>" PARAM("stroke", "#303030")
    "</Stroke></PolygonSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("i") GFILL(QUAD_PNG "<Size>4</Size>") "</Rule>\n"
    " <Rule>" IS_CLASS("x") GFILL(MARK("shape://times", STROKE("#404040", "1.7")) "<Size>6</Size>")
    "</Rule>\n"
    " <Rule>" IS_CLASS("s") GFILL(MARK("star", FILL("#f0a000")) "<Size>9</Size><Rotation>"
    "<ogc:PropertyName>angle</ogc:PropertyName></Rotation>") "</Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

/* Polygons with edges at 0, 45 and 90 degrees on integer coordinates (so clipping them
 * at a tile border is exact), several across x = X0 + 256, a ring with a hole. */
#define X0 10000.0
#define Y0 5000.0
static const gfeat fill_feats[] = {
    {"h", TS_GEOM_POLYGON, 0, 4, {X0 + 200, Y0 + 20, X0 + 330, Y0 + 20, X0 + 330, Y0 + 120, X0 + 200, Y0 + 120}},
    {"t", TS_GEOM_POLYGON, 0, 5, {X0 + 220, Y0 + 130, X0 + 300, Y0 + 130, X0 + 350, Y0 + 180, X0 + 300, Y0 + 230, X0 + 220, Y0 + 230}},
    {"p", TS_GEOM_POLYGON, 0, 3, {X0 + 20, Y0 + 20, X0 + 180, Y0 + 20, X0 + 100, Y0 + 100}},
    {"r", TS_GEOM_POLYGON, 0, 4, {X0 + 360, Y0 + 10, X0 + 500, Y0 + 10, X0 + 500, Y0 + 90, X0 + 360, Y0 + 90}},
    {"m", TS_GEOM_POLYGON, 0, 4, {X0 + 30, Y0 + 130, X0 + 250, Y0 + 130, X0 + 250, Y0 + 250, X0 + 30, Y0 + 250}},
    {"i", TS_GEOM_POLYGON, 0, 4, {X0 + 240, Y0 + 235, X0 + 275, Y0 + 200, X0 + 310, Y0 + 235, X0 + 275, Y0 + 270}},
    {"s", TS_GEOM_POLYGON, 25, 4, {X0 + 380, Y0 + 120, X0 + 510, Y0 + 120, X0 + 510, Y0 + 250, X0 + 380, Y0 + 250}},
    {"x", TS_GEOM_POLYGON, 0, 4, {X0 + 150, Y0 + 1, X0 + 350, Y0 + 1, X0 + 350, Y0 + 18, X0 + 150, Y0 + 18}},
};

static ts_render_layer *
fill_layer(ts_store **store, ts_style **style)
{
    ts_err err;
    *store = graphics_store(fill_feats, (int)(sizeof fill_feats / sizeof fill_feats[0]));
    *style = data_style(fill_sld, &err);
    if (*store == NULL || *style == NULL || (*style)->nimages != 1)
        return NULL;
    ts_canvas *quad = quad_image();
    const ts_canvas *imgs[] = {quad};
    ts_render_layer *l = ts_render_layer_new_images("fills", *store, *style, imgs, 1, NULL, &err);
    ts_canvas_free(quad);
    return l;
}

static ts_status
draw_box(ts_render_worker *w, const ts_render_layer *l, ts_canvas *c, ts_bbox b, double sf)
{
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {
        .layers = layers,
        .nlayers = 1,
        .bbox = b,
        .width = c->w,
        .height = c->h,
        .scale_factor = sf,
        .scale_denom = 1000,
        .background = {255, 255, 255, 255},
    };
    ts_err err;
    return ts_render_draw(w, &req, c, &err);
}

TS_TEST(render_graphic_fill_tiles_join)
{
    ts_err err;
    ts_store *store = NULL;
    ts_style *style = NULL;
    ts_render_layer *l = fill_layer(&store, &style);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *whole = ts_canvas_new(512, 256, &err);
    ts_canvas *half = ts_canvas_new(256, 256, &err);
    TS_REQUIRE(l != NULL && w != NULL && whole != NULL && half != NULL);
    TS_CHECK_INT(style->nwarnings, 0);
    TS_CHECK_INT(draw_box(w, l, whole, (ts_bbox){X0, Y0, X0 + 512, Y0 + 256}, 1), TS_OK);
    for (int k = 0; k < 2; k++) {
        ts_canvas_clear(half, (ts_rgba){1, 2, 3, 4});
        TS_CHECK_INT(draw_box(w, l, half, (ts_bbox){X0 + 256 * k, Y0, X0 + 256 * (k + 1), Y0 + 256}, 1),
                     TS_OK);
        long differ = 0;
        for (int y = 0; y < 256; y++)
            for (int x = 0; x < 256; x++)
                differ += half->px[y * 256 + x] != whole->px[y * 512 + 256 * k + x];
        if (differ)
            printf("  half %d: %ld pixels differ\n", k, differ);
        TS_CHECK_INT(differ, 0);
    }
    /* the pattern is there: horizontal lines 2 px wide every 8 px through the middle of
     * each 8 px cell of the world grid (world row Y = image row - 5256 here) */
    uint32_t magenta = 0xffff00ffu;
    for (int j = 176; j < 240; j++) { /* rows of map y in (Y0 + 16, Y0 + 80) */
        int64_t Y = j - (int64_t)(Y0 + 256);
        int64_t m = ((Y % 8) + 8) % 8;
        uint32_t want = m == 3 || m == 4 ? magenta : 0xffffffffu;
        if (whole->px[j * 512 + 430] != want)
            ts_test_fail(__FILE__, __LINE__, "row %d: %08x, expected %08x", j,
                         whole->px[j * 512 + 430], want);
    }
    /* the image tile: 4 x 4 quadrants repeated on the world grid (world x = i + 10000) */
    for (int j = 24; j < 40; j++)
        for (int i = 266; i < 284; i++) {
            int64_t X = i + (int64_t)X0, Y = j - (int64_t)(Y0 + 256);
            int qx = (int)(((X % 4) + 4) % 4) >= 2, qy = (int)(((Y % 4) + 4) % 4) >= 2;
            uint32_t want = qy == 0 ? (qx == 0 ? 0xff0000ffu : 0xff00ff00u)
                                    : (qx == 0 ? 0xffff0000u : 0xff00ffffu);
            /* inside the diamond (centre 275, 21 rows from the top), clear of its edges */
            if (abs(i - 275) + abs(j - 21 - 10) > 30)
                continue;
            if (whole->px[j * 512 + i] != want)
                ts_test_fail(__FILE__, __LINE__, "image fill at %d,%d: %08x, expected %08x", i,
                             j, whole->px[j * 512 + i], want);
        }
    /* hatching stays inside its polygon: nothing red left of the slash rectangle */
    long red = 0, outside = 0;
    for (int y = 136; y < 236; y++)
        for (int x = 0; x < 512; x++) {
            uint32_t p = whole->px[y * 512 + x];
            int is_red = (p & 255) > 150 && (p >> 8 & 255) < 80 && (p >> 16 & 255) < 80;
            red += is_red && x >= 200 && x < 330;
            outside += is_red && (x < 199 || x > 331);
        }
    TS_CHECK(red > 1000);
    TS_CHECK_INT(outside, 0);
    ts_canvas_free(whole);
    ts_canvas_free(half);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* Lines: plain, with a perpendicular offset either side, a GraphicStroke of circles. */
static const char *line_sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\" xmlns:se=\"http://www.opengis.net/se\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    " <Rule>" IS_CLASS("o") "<LineSymbolizer><Stroke>" PARAM("stroke", "#ff0000")
    PARAM("stroke-width", "2") "</Stroke><PerpendicularOffset>6</PerpendicularOffset>"
    "</LineSymbolizer><LineSymbolizer><Stroke>" PARAM("stroke", "#0000ff") PARAM("stroke-width", "2")
    "</Stroke><PerpendicularOffset>-6</PerpendicularOffset></LineSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("g") "<LineSymbolizer><Stroke><GraphicStroke><Graphic>"
    MARK("circle", FILL("#00a000")) "<Size>4</Size></Graphic><se:Gap>6</se:Gap>"
    "<se:InitialGap>1</se:InitialGap></GraphicStroke></Stroke></LineSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("k") "<LineSymbolizer><Stroke>" PARAM("stroke", "#000000")
    PARAM("stroke-width", "2") "</Stroke><PerpendicularOffset>5</PerpendicularOffset>"
    "</LineSymbolizer></Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

TS_TEST(render_offset_and_graphic_stroke)
{
    static const gfeat feats[] = {
        /* eastwards at y = 80: left of it is north, up on the screen */
        {"o", TS_GEOM_LINE, 0, 2, {10, 80, 90, 80}},
        /* eastwards at y = 50, circles every 4 + 6 px from x = 10 + 1 + 2 */
        {"g", TS_GEOM_LINE, 0, 2, {10, 50, 90, 50}},
        /* a counter-clockwise square ring [20, 40]^2: offset to the left = inwards */
        {"k", TS_GEOM_POLYGON, 0, 4, {20, 10, 40, 10, 40, 30, 20, 30}},
    };
    ts_err err;
    ts_store *store = graphics_store(feats, 3);
    ts_style *style = ts_style_parse(line_sld, strlen(line_sld), "lines", &err);
    TS_REQUIRE(store != NULL && style != NULL);
    TS_CHECK_INT(style->nwarnings, 0);
    ts_render_layer *l = ts_render_layer_new("lines", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    TS_CHECK(l->max_symbol_px >= 6 + 1); /* the offset enters the query margin */
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    TS_CHECK_INT(px_at(c, 50, 86.5), RED);   /* 6 px north: map y 86, pixel row 13 */
    TS_CHECK_INT(px_at(c, 50, 74.5), BLUE);  /* 6 px south */
    TS_CHECK_INT(px_at(c, 50, 80.5), WHITE); /* nothing on the line itself */
    /* circles of diameter 4 centred at x = 13, 23, 33, ...: column 13 green, 18 not */
    uint32_t green = 0xff00a000u;
    for (int k = 0; k < 7; k++) {
        TS_CHECK_INT(px_at(c, 13 + 10 * k, 50.5), green);
        TS_CHECK_INT(px_at(c, 13 + 10 * k - 1, 49.5), green);
        TS_CHECK_INT(px_at(c, 18 + 10 * k, 50.5), WHITE);
    }
    /* the ring's outline moved 5 px inwards (the store keeps exteriors counter-clockwise):
     * the rectangle [25, 35] x [15, 25] */
    TS_CHECK_INT(px_at(c, 30, 25.2), BLACK);
    TS_CHECK_INT(px_at(c, 25.2, 20), BLACK);
    TS_CHECK_INT(px_at(c, 30, 30.2), WHITE);
    TS_CHECK_INT(px_at(c, 30, 20), WHITE);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* Lengths in ground units (SE 1.1 uom metre): a red line 1.4 m wide (5 px of 0.28 mm at
 * 1:1000, 10 px at 1:500) moved 2.8 m to its left, and a blue circle 2.8 m across; pixels
 * stay pixels beside them. */
static const char *uom_sld =
    "<StyledLayerDescriptor version=\"1.1.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\" xmlns:se=\"http://www.opengis.net/se\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    " <Rule>" IS_CLASS("o") "<LineSymbolizer uom=\"http://www.opengeospatial.org/se/units/metre\">"
    "<Stroke>" PARAM("stroke", "#ff0000") PARAM("stroke-width", "1.4") "</Stroke>"
    "<PerpendicularOffset>2.8</PerpendicularOffset></LineSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("p") "<PointSymbolizer uom=\"http://www.opengeospatial.org/se/units/metre\">"
    "<Graphic>" MARK("circle", FILL("#0000ff")) "<Size>2.8</Size></Graphic>"
    "</PointSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("q") "<LineSymbolizer><Stroke>" PARAM("stroke", "#000000")
    PARAM("stroke-width", "2") "</Stroke></LineSymbolizer></Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

/* The rows of column x (map units = pixels) that are exactly colour want. */
static int
rows_of(const ts_canvas *c, int x, uint32_t want)
{
    int n = 0;
    for (int y = 0; y < c->h; y++)
        n += c->px[(size_t)y * (size_t)c->stride + (size_t)x] == want;
    return n;
}

TS_TEST(render_ground_units_follow_the_scale)
{
    static const gfeat feats[] = {
        {"o", TS_GEOM_LINE, 0, 2, {0, 50, 100, 50}},  /* eastwards: its left is up */
        {"p", TS_GEOM_POINT, 0, 1, {80, 20}},
        {"q", TS_GEOM_LINE, 0, 2, {0, 10, 60, 10}},
    };
    ts_err err;
    ts_store *store = graphics_store(feats, 3);
    ts_style *style = ts_style_parse(uom_sld, strlen(uom_sld), "uom", &err);
    TS_REQUIRE(store != NULL && style != NULL);
    TS_CHECK_INT(style->nwarnings, 0);
    ts_render_layer *l = ts_render_layer_new("uom", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    /* the reach: pixels for the black line, metres for the red one (its half width at the
     * longest miter, 0.7 x 4, and its offset at one, 2.8 x 2), and 2 px to round */
    TS_CHECK(fabs(l->max_symbol_m - 8.4) < 1e-9);
    TS_CHECK(fabs(ts_render_layer_reach_px(l, 1000) - (8.4 / 0.28 + 2)) < 1e-9);
    TS_CHECK(ts_render_layer_reach_px(l, 1e9) == l->max_symbol_px);
    const ts_render_layer *layers[] = {l};
    double scales[] = {1000, 500};
    for (int k = 0; k < 2; k++) {
        double px_m = 1 / (scales[k] * 0.00028); /* 3.57 or 7.14 px per metre */
        ts_render_req req = {
            .layers = layers,
            .nlayers = 1,
            .bbox = {0, 0, 100, 100},
            .width = W,
            .height = H,
            .scale_factor = 1,
            .scale_denom = scales[k],
            .background = {255, 255, 255, 255},
        };
        TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
        /* the red line: 5 or 10 full rows (its 1.4 m), centred 10 or 20 px above y = 50 */
        int red = rows_of(c, 30, RED);
        TS_CHECK(abs(red - (int)lround(1.4 * px_m)) <= 1);
        TS_CHECK_INT(px_at(c, 30, 50 + 2.8 * px_m + 0.5), RED);
        TS_CHECK_INT(px_at(c, 30, 50.5), WHITE);
        /* the circle: 10 or 20 px across */
        int blue = rows_of(c, 80, BLUE);
        TS_CHECK(abs(blue - (int)lround(2.8 * px_m)) <= 2);
        /* the black line keeps its 2 px */
        TS_CHECK_INT(rows_of(c, 30, BLACK), 2);
    }
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

static const char *point_sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    /* its own size, centred */
    " <Rule>" IS_CLASS("a") "<PointSymbolizer><Graphic>" QUAD_PNG "</Graphic></PointSymbolizer>"
    "</Rule>\n"
    /* twice the size, bottom left on the point, moved 3 right and 2 up */
    " <Rule>" IS_CLASS("b") "<PointSymbolizer><Graphic>" QUAD_PNG "<Size>8</Size>"
    "<AnchorPoint><AnchorPointX>0</AnchorPointX><AnchorPointY>0</AnchorPointY></AnchorPoint>"
    "<Displacement><DisplacementX>3</DisplacementX><DisplacementY>2</DisplacementY>"
    "</Displacement></Graphic></PointSymbolizer></Rule>\n"
    /* turned by the feature's angle */
    " <Rule>" IS_CLASS("c") "<PointSymbolizer><Graphic>" QUAD_PNG "<Size>8</Size><Rotation>"
    "<ogc:PropertyName>angle</ogc:PropertyName></Rotation></Graphic></PointSymbolizer></Rule>\n"
    /* shape marks */
    " <Rule>" IS_CLASS("x") "<PointSymbolizer><Graphic>" MARK("shape://times", STROKE("#000000", "2"))
    "<Size>12</Size></Graphic></PointSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("y") "<PointSymbolizer><Graphic>" MARK("shape://carrow", FILL("#ff0000"))
    "<Size>12</Size></Graphic></PointSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("z") "<PointSymbolizer><Graphic>" MARK("square", FILL("#0000ff"))
    "<Size>4</Size><Displacement><DisplacementX>-10</DisplacementX><DisplacementY>0"
    "</DisplacementY></Displacement></Graphic></PointSymbolizer></Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

#define Q_RED 0xff0000ffu
#define Q_GREEN 0xff00ff00u
#define Q_BLUE 0xffff0000u
#define Q_YELLOW 0xff00ffffu

TS_TEST(render_external_graphic_placement)
{
    static const gfeat feats[] = {
        {"a", TS_GEOM_POINT, 0, 1, {10, 90}},  /* pixel (10, 10) */
        {"b", TS_GEOM_POINT, 0, 1, {30, 90}},  /* pixel (30, 10) */
        {"c", TS_GEOM_POINT, 90, 1, {50, 90}}, /* pixel (50, 10) */
        {"x", TS_GEOM_POINT, 0, 1, {20, 50}},
        {"y", TS_GEOM_POINT, 0, 1, {50, 50.5}}, /* pixel (50, 49.5): mid row 49 */
        {"z", TS_GEOM_POINT, 0, 1, {80, 50}},
    };
    ts_err err;
    ts_store *store = graphics_store(feats, 6);
    ts_style *style = data_style(point_sld, &err);
    TS_REQUIRE(store != NULL && style != NULL);
    TS_CHECK_INT(style->nwarnings, 0);
    TS_REQUIRE(style->nimages == 1);
    ts_canvas *quad = quad_image();
    const ts_canvas *imgs[] = {quad};
    ts_render_layer *l = ts_render_layer_new_images("points", store, style, imgs, 1, NULL, &err);
    ts_canvas_free(quad); /* the layer keeps its own copy */
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    TS_CHECK(l->max_symbol_px >= hypot(8, 8) + hypot(3, 2)); /* b reaches its far corner */
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    const uint32_t *p = c->px;
    /* a: pixels [8, 12) x [8, 12), copied exactly */
    TS_CHECK_INT(p[8 * W + 8], Q_RED);
    TS_CHECK_INT(p[9 * W + 9], Q_RED);
    TS_CHECK_INT(p[8 * W + 11], Q_GREEN);
    TS_CHECK_INT(p[11 * W + 8], Q_BLUE);
    TS_CHECK_INT(p[11 * W + 11], Q_YELLOW);
    TS_CHECK_INT(p[7 * W + 8], WHITE);
    TS_CHECK_INT(p[8 * W + 12], WHITE);
    /* b: 8 x 8, bottom left at (30 + 3, 10 - 2): pixels [33, 41) x [0, 8) */
    TS_CHECK_INT(p[0 * W + 33], Q_RED);
    TS_CHECK_INT(p[2 * W + 35], Q_RED);
    TS_CHECK_INT(p[2 * W + 39], Q_GREEN);
    TS_CHECK_INT(p[6 * W + 34], Q_BLUE);
    TS_CHECK_INT(p[7 * W + 40], Q_YELLOW);
    TS_CHECK_INT(p[8 * W + 36], WHITE);
    TS_CHECK_INT(p[4 * W + 32], WHITE);
    TS_CHECK_INT(p[4 * W + 41], WHITE);
    /* c: 8 x 8 centred at (50, 10), turned a quarter clockwise: red top right, green
     * bottom right, blue top left, yellow bottom left */
    TS_CHECK_INT(p[7 * W + 52], Q_RED);
    TS_CHECK_INT(p[12 * W + 52], Q_GREEN);
    TS_CHECK_INT(p[7 * W + 47], Q_BLUE);
    TS_CHECK_INT(p[12 * W + 47], Q_YELLOW);
    /* x: both diagonals; the centre is black, the middle of the top edge is not */
    TS_CHECK_INT(px_at(c, 20, 50), BLACK);
    TS_CHECK_INT(px_at(c, 15.5, 54.5), BLACK);
    TS_CHECK_INT(px_at(c, 20, 55.5), WHITE);
    /* y: a closed arrow head pointing east with its tip on the point */
    TS_CHECK_INT(px_at(c, 46, 50.3), RED);
    TS_CHECK_INT(px_at(c, 52, 50.3), WHITE);
    TS_CHECK_INT(px_at(c, 46, 53.3), WHITE);
    /* z: a 4 px square moved 10 px west: pixels [68, 72) */
    TS_CHECK_INT(px_at(c, 70, 50), BLUE);
    TS_CHECK_INT(px_at(c, 80, 50), WHITE);

    /* at scale factor 2 the image doubles: a covers [16, 24) of a 200 px canvas */
    ts_canvas *c2 = ts_canvas_new(2 * W, 2 * H, &err);
    TS_REQUIRE(c2 != NULL);
    TS_CHECK_INT(draw_box(w, l, c2, (ts_bbox){0, 0, 100, 100}, 2), TS_OK);
    TS_CHECK_INT(c2->px[16 * 2 * W + 16], Q_RED);
    TS_CHECK_INT(c2->px[23 * 2 * W + 23], Q_YELLOW);
    TS_CHECK_INT(c2->px[15 * 2 * W + 16], WHITE);
    ts_canvas_free(c2);

    /* without decoded images the graphics draw nothing (and nothing breaks) */
    ts_render_layer *bare = ts_render_layer_new("points", store, style, NULL, &err);
    TS_REQUIRE(bare != NULL);
    TS_CHECK_INT(draw(w, bare, c), TS_OK);
    TS_CHECK_INT(p[9 * W + 9], WHITE);
    ts_render_layer_free(bare);

    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

TS_TEST(render_text_symbolizers_left_to_the_label_engine)
{
    static const char *text_sld =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>\n"
        "<TextSymbolizer><Label><ogc:PropertyName>class</ogc:PropertyName></Label>"
        "<Font>" PARAM("font-size", "400") "</Font><Halo><Radius>50</Radius></Halo>"
        "</TextSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n";
    ts_err err;
    ts_store *store = three_squares();
    ts_style *style = ts_style_parse(text_sld, strlen(text_sld), "text", &err);
    TS_REQUIRE(store != NULL && style != NULL);
    int missing = -1;
    ts_render_layer *l = ts_render_layer_new("text", store, style, &missing, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    TS_CHECK_INT(missing, 0); /* the label's property is bound to the store's column */
    TS_CHECK(l->max_symbol_px < 10); /* text does not widen the geometry queries */
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    for (int i = 0; i < W * H; i++)
        if (c->px[i] != WHITE) {
            ts_test_fail(__FILE__, __LINE__, "pixel %d drawn", i);
            break;
        }
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* Everything new at once, drawn whole and in bands: GraphicFills, GraphicStrokes, offset
 * lines, images with rotation from a property, shape marks, displaced marks. */
static const char *gband_sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    " <Rule>" IS_CLASS("a") GFILL(MARK("shape://times", STROKE("#802020", "1.3")) "<Size>9</Size>"
    "<Rotation>17</Rotation>") "<PolygonSymbolizer><Stroke>" PARAM("stroke", "#202020")
    "</Stroke></PolygonSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("b") GFILL(MARK("circle", FILL("#2080c0")) "<Size>5</Size>") "</Rule>\n"
    " <Rule>" IS_CLASS("c") GFILL(QUAD_PNG "<Size>6</Size>") "</Rule>\n"
    " <Rule>" IS_CLASS("l") "<LineSymbolizer><Stroke>" PARAM("stroke", "#c03020")
    PARAM("stroke-width", "3") "</Stroke><PerpendicularOffset>7</PerpendicularOffset>"
    "</LineSymbolizer><LineSymbolizer><Stroke><GraphicStroke><Graphic>"
    MARK("shape://oarrow", STROKE("#000000", "1")) "<Size>8</Size></Graphic></GraphicStroke>"
    "<CssParameter name=\"stroke-dasharray\">8 10</CssParameter></Stroke>"
    "<PerpendicularOffset>-4</PerpendicularOffset></LineSymbolizer></Rule>\n"
    " <Rule>" IS_CLASS("p") "<PointSymbolizer><Graphic>" QUAD_PNG "<Size>13</Size><Rotation>"
    "<ogc:PropertyName>angle</ogc:PropertyName></Rotation><AnchorPoint><AnchorPointX>0"
    "</AnchorPointX><AnchorPointY>1</AnchorPointY></AnchorPoint></Graphic></PointSymbolizer>"
    "<PointSymbolizer><Graphic>" MARK("star", FILL("#ffcc00") STROKE("#000000", "1"))
    "<Size>10</Size><Displacement><DisplacementX>12</DisplacementX><DisplacementY>-9"
    "</DisplacementY></Displacement></Graphic></PointSymbolizer></Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

TS_TEST(render_bands_equal_with_graphics)
{
    enum { BW = 211, BH = 293, N = 300 };
    static const char *cls[] = {"a", "b", "c", "l", "p"};
    static const int nbs[3] = {2, 3, 5};
    gfeat *f = calloc(N, sizeof *f);
    TS_REQUIRE(f != NULL);
    for (int k = 0; k < N; k++) {
        int kind = k % 5;
        double cx = -20 + band_rnd() * (BW + 40), cy = -20 + band_rnd() * (BH + 40);
        if (band_rnd() < 0.5) { /* on a band border */
            int nb = nbs[(int)(band_rnd() * 3)], i = 1 + (int)(band_rnd() * (nb - 1));
            cy = BH - (double)(int)((int64_t)BH * i / nb) + (band_rnd() - 0.5) * 10;
        }
        f[k].cls = cls[kind];
        f[k].angle = band_rnd() * 360;
        double size = 4 + band_rnd() * 60;
        if (kind < 3) {
            f[k].kind = TS_GEOM_POLYGON;
            f[k].n = 3 + (int)(band_rnd() * 8);
            for (int i = 0; i < f[k].n; i++) {
                double a = 2 * M_PI * (i + band_rnd() * 0.8) / f[k].n;
                double r = size / 2 * (0.4 + 0.6 * band_rnd());
                f[k].xy[2 * i] = cx + r * cos(a);
                f[k].xy[2 * i + 1] = cy + r * sin(a);
            }
        } else if (kind == 3) {
            f[k].kind = TS_GEOM_LINE;
            f[k].n = 2 + (int)(band_rnd() * 10);
            for (int i = 0; i < f[k].n; i++) {
                f[k].xy[2 * i] = cx + (band_rnd() - 0.5) * size * 2;
                f[k].xy[2 * i + 1] = cy + (band_rnd() - 0.5) * size;
            }
        } else {
            f[k].kind = TS_GEOM_POINT;
            f[k].n = 1;
            f[k].xy[0] = cx;
            f[k].xy[1] = cy;
        }
    }
    ts_err err;
    ts_store *store = graphics_store(f, N);
    free(f);
    ts_style *style = data_style(gband_sld, &err);
    TS_REQUIRE(store != NULL && style != NULL);
    TS_CHECK_INT(style->nwarnings, 0);
    ts_canvas *quad = quad_image();
    const ts_canvas *imgs[] = {quad};
    ts_render_layer *l = ts_render_layer_new_images("g", store, style, imgs, 1, NULL, &err);
    ts_canvas_free(quad);
    ts_render_worker *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = ts_render_worker_new(&err);
    ts_pool *pool = ts_pool_new(2, 16, NULL, &err);
    ts_canvas *whole = ts_canvas_new(BW, BH, &err);
    ts_canvas *banded = ts_canvas_new(BW, BH, &err);
    TS_REQUIRE(l != NULL && w[4] != NULL && pool != NULL && whole != NULL && banded != NULL);
    const ts_render_layer *layers[] = {l};
    for (int sf = 1; sf <= 2; sf++) {
        ts_render_req req = {
            .layers = layers,
            .nlayers = 1,
            .bbox = {0, 0, BW, BH},
            .width = BW,
            .height = BH,
            .scale_factor = sf == 1 ? 1 : 1.5,
            .scale_denom = 1000,
            .background = {250, 250, 245, 255},
        };
        TS_CHECK_INT(ts_render_draw(w[0], &req, whole, &err), TS_OK);
        long drawn = 0;
        for (int i = 0; i < BW * BH; i++)
            drawn += whole->px[i] != whole->px[0];
        TS_CHECK(drawn > BW * BH / 5);
        for (int t = 0; t < 6; t++) {
            int nb = nbs[t % 3];
            ts_canvas_clear(banded, (ts_rgba){1, 2, 3, 4});
            TS_CHECK_INT(ts_render_draw_bands(w, nb, t < 3 ? NULL : pool, &req, banded, &err),
                         TS_OK);
            long n = 0;
            for (int i = 0; i < BW * BH; i++)
                n += whole->px[i] != banded->px[i];
            if (n != 0)
                printf("  scale %g, %d bands%s: %ld pixels differ\n", req.scale_factor, nb,
                       t < 3 ? "" : " on a pool", n);
            TS_CHECK_INT(n, 0);
        }
    }
    ts_canvas_free(whole);
    ts_canvas_free(banded);
    ts_pool_free(pool);
    for (int i = 0; i < 5; i++)
        ts_render_worker_free(w[i]);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* ---- labels ------------------------------------------------------------------------------ */

/* A street grid of named lines and numbered blocks over a 512 x 512 map (units = pixels,
 * y up), reaching beyond it; one street runs centred across x = 256 (a tile seam). */
static ts_store *
label_store(void)
{
    ts_err err;
    const char *names[] = {"name", "z", "n"};
    ts_store_builder *b = ts_store_builder_new("labels", names, 3, &err);
    if (b == NULL)
        return NULL;
    static const char *streets[] = {"Königsallee", "Kaiserswerther Straße", "Bilker Allee",
                                    "Graf-Adolf-Straße", "Schadowstraße", "Rheinuferpromenade"};
    int k = 0;
    for (double y = -60; y < 600; y += 75, k++) { /* gently curved east-west streets */
        if (k == 4)
            continue; /* y = 240: the seam street's place */
        double xy[2 * 12];
        for (int i = 0; i < 12; i++) {
            xy[2 * i] = -80 + i * 60;
            xy[2 * i + 1] = y + 9 * sin(i * 0.7 + k);
        }
        uint32_t cnt[] = {12};
        ts_value v[3] = {{.type = TS_VAL_STR, .u.s = streets[k % 6]}, {.type = TS_VAL_NULL},
                         {.type = TS_VAL_NULL}};
        if (ts_store_builder_add(b, TS_GEOM_LINE, xy, cnt, 1, v, &err) != TS_OK)
            goto fail;
    }
    { /* centred on the seam: its label (followLine, no repeat) crosses x = 256 */
        double xy[] = {176, 240, 336, 240};
        uint32_t cnt[] = {2};
        ts_value v[3] = {{.type = TS_VAL_STR, .u.s = "Seamstraße"}, {.type = TS_VAL_NULL},
                         {.type = TS_VAL_NULL}};
        if (ts_store_builder_add(b, TS_GEOM_LINE, xy, cnt, 1, v, &err) != TS_OK)
            goto fail;
    }
    for (int i = 0; i < 14; i++) /* parcels between the streets, numbers (some fractions) */
        for (int j = 0; j < 9; j++) {
            double x0 = -40 + i * 44, y0 = -60 + j * 75 + 22;
            double xy[] = {x0, y0, x0 + 36, y0, x0 + 36, y0 + 30, x0, y0 + 30};
            uint32_t cnt[] = {4};
            ts_value v[3] = {{.type = TS_VAL_NULL},
                             {.type = TS_VAL_INT, .u.i = 100 + i * 14 + j},
                             {.type = (i + j) % 3 ? TS_VAL_INT : TS_VAL_NULL, .u.i = 1 + j % 9}};
            if (ts_store_builder_add(b, TS_GEOM_POLYGON, xy, cnt, 1, v, &err) != TS_OK)
                goto fail;
        }
    ts_store *s = NULL;
    if (ts_store_builder_finish(b, &s, &err) != TS_OK)
        return NULL;
    return s;
fail:
    ts_store_builder_free(b);
    return NULL;
}

static const char *label_sld =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle>\n"
    "<Rule><ogc:Filter><ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>name</ogc:PropertyName>"
    "</ogc:PropertyIsNull></ogc:Not></ogc:Filter>"
    "<LineSymbolizer><Stroke>" PARAM("stroke", "#c0c0c0") PARAM("stroke-width", "7")
    "</Stroke></LineSymbolizer>"
    "<TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
    "<Font>" PARAM("font-family", "DejaVu Sans") PARAM("font-size", "12") "</Font>"
    "<LabelPlacement><LinePlacement/></LabelPlacement>"
    "<Halo><Radius>1.5</Radius><Fill>" PARAM("fill", "#ffffff") "</Fill></Halo>"
    "<Fill>" PARAM("fill", "#0000ff") "</Fill>"
    "<VendorOption name=\"followLine\">true</VendorOption>"
    "<VendorOption name=\"maxAngleDelta\">30</VendorOption>"
    "</TextSymbolizer></Rule>\n"
    "<Rule><ogc:Filter><ogc:PropertyIsNull><ogc:PropertyName>name</ogc:PropertyName>"
    "</ogc:PropertyIsNull></ogc:Filter>"
    "<PolygonSymbolizer><Stroke>" PARAM("stroke", "#000000") PARAM("stroke-width", "0.5")
    "</Stroke></PolygonSymbolizer>"
    "<TextSymbolizer><Label><ogc:PropertyName>z</ogc:PropertyName><![CDATA[\n]]>"
    "<ogc:PropertyName>n</ogc:PropertyName></Label>"
    "<Font>" PARAM("font-size", "10") "</Font>"
    "<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0.5</AnchorPointX>"
    "<AnchorPointY>0.5</AnchorPointY></AnchorPoint></PointPlacement></LabelPlacement>"
    "<Fill>" PARAM("fill", "#ff0000") "</Fill>"
    "<VendorOption name=\"fraction\">true</VendorOption>"
    "</TextSymbolizer></Rule>\n"
    "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";

/* Pixels of c whose colour is mostly the channel given (0 = red, 2 = blue), in columns
 * [x0, x1): drawn text. */
static long
text_pixels(const ts_canvas *c, int x0, int x1, int channel)
{
    long n = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = (const uint8_t *)&c->px[(size_t)y * c->stride + x];
            int o1 = (channel + 1) % 3, o2 = (channel + 2) % 3;
            n += p[channel] > 150 && p[o1] < 90 && p[o2] < 90;
        }
    return n;
}

TS_TEST(render_labels_agree_across_tiles_and_bands)
{
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL); /* fonts-dejavu-core is a build dependency */
    ts_store *store = label_store();
    ts_style *style = ts_style_parse(label_sld, strlen(label_sld), "labels", &err);
    TS_REQUIRE(store != NULL && style != NULL);
    ts_render_layer *l = ts_render_layer_new("labels", store, style, NULL, &err);
    ts_render_worker *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = ts_render_worker_new(&err);
    ts_pool *pool = ts_pool_new(2, 16, NULL, &err);
    ts_canvas *whole = ts_canvas_new(512, 512, &err);
    ts_canvas *half = ts_canvas_new(256, 512, &err);
    ts_canvas *banded = ts_canvas_new(512, 512, &err);
    TS_REQUIRE(l != NULL && w[2] != NULL && pool != NULL && whole && half && banded);
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {
        .layers = layers,
        .nlayers = 1,
        .bbox = {0, 0, 512, 512},
        .width = 512,
        .height = 512,
        .scale_factor = 1,
        .scale_denom = 1000,
        .background = {255, 255, 255, 255},
        .fonts = fonts,
    };
    ts_render_stats *st = ts_render_worker_stats(w[0]);
    memset(st, 0, sizeof *st);
    TS_CHECK_INT(ts_render_draw(w[0], &req, whole, &err), TS_OK);
    /* street names (blue) and parcel numbers (red) are drawn, fewer than proposed */
    TS_CHECK(st->labels > 20);
    TS_CHECK(st->label_candidates > st->labels);
    TS_CHECK(text_pixels(whole, 0, 512, 2) > 500);
    TS_CHECK(text_pixels(whole, 0, 512, 0) > 500);
    /* the seam street's label is drawn across x = 256 */
    TS_CHECK(text_pixels(whole, 240, 256, 2) > 5 && text_pixels(whole, 256, 272, 2) > 5);

    /* the two halves as tiles of their own: the same pixels as the whole image */
    for (int side = 0; side < 2; side++) {
        ts_render_req rq = req;
        rq.bbox = (ts_bbox){256.0 * side, 0, 256.0 * side + 256, 512};
        rq.width = 256;
        TS_CHECK_INT(ts_render_draw(w[1], &rq, half, &err), TS_OK);
        long bad = 0;
        for (int y = 0; y < 512; y++)
            for (int x = 0; x < 256; x++) {
                const uint8_t *a = (const uint8_t *)&half->px[(size_t)y * 256 + x];
                const uint8_t *b = (const uint8_t *)&whole->px[(size_t)y * 512 + 256 * side + x];
                for (int ch = 0; ch < 4; ch++)
                    bad += abs(a[ch] - b[ch]) > 1;
            }
        if (bad)
            printf("  half %d: %ld channel values differ by more than 1\n", side, bad);
        TS_CHECK_INT(bad, 0);
    }
    /* bands, on the caller and on a pool: bit for bit the whole drawing */
    for (int t = 0; t < 2; t++) {
        ts_canvas_clear(banded, (ts_rgba){1, 2, 3, 4});
        TS_CHECK_INT(ts_render_draw_bands(w, 3, t ? pool : NULL, &req, banded, &err), TS_OK);
        TS_CHECK(memcmp(whole->px, banded->px, sizeof *whole->px * 512 * 512) == 0);
    }
    /* a WMS image (labels must stay inside): in the left half no label touches the right
     * edge (the seam labels move to a position inside or are dropped); as a tile, the
     * seam label runs over that edge */
    ts_render_req rq = req;
    rq.bbox = (ts_bbox){0, 0, 256, 512};
    rq.width = 256;
    TS_CHECK_INT(ts_render_draw(w[1], &rq, half, &err), TS_OK);
    TS_CHECK(text_pixels(half, 254, 256, 2) > 0);
    rq.labels_inside = 1;
    TS_CHECK_INT(ts_render_draw(w[1], &rq, half, &err), TS_OK);
    TS_CHECK_INT(text_pixels(half, 254, 256, 2), 0);
    TS_CHECK_INT(text_pixels(half, 254, 256, 0), 0);
    TS_CHECK(text_pixels(half, 0, 256, 0) > 100 && text_pixels(half, 0, 256, 2) > 100);
    /* without fonts, no labels */
    rq = req;
    rq.fonts = NULL;
    TS_CHECK_INT(ts_render_draw(w[2], &rq, banded, &err), TS_OK);
    TS_CHECK_INT(text_pixels(banded, 0, 512, 2), 0);

    if (getenv("TS_LABEL_PNG")) { /* a look at it: TS_LABEL_PNG=/tmp/l.ppm */
        FILE *f = fopen(getenv("TS_LABEL_PNG"), "wb");
        if (f) {
            fprintf(f, "P6\n512 512\n255\n");
            for (int i = 0; i < 512 * 512; i++)
                fwrite(&whole->px[i], 1, 3, f);
            fclose(f);
        }
    }
    ts_canvas_free(whole);
    ts_canvas_free(half);
    ts_canvas_free(banded);
    ts_pool_free(pool);
    for (int i = 0; i < 3; i++)
        ts_render_worker_free(w[i]);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}

TS_TEST(render_point_labels_fall_back_to_free_sides)
{
    /* two stations 40 px apart, labels styled 8 px to the right: the second one's right
     * side is taken by the first's label, so it moves (left is taken too: above) */
    static const char *sld_pts =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
        "<TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
        "<Font>" PARAM("font-size", "12") "</Font>"
        "<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0</AnchorPointX>"
        "<AnchorPointY>0.5</AnchorPointY></AnchorPoint><Displacement><DisplacementX>8"
        "</DisplacementX><DisplacementY>0</DisplacementY></Displacement></PointPlacement>"
        "</LabelPlacement><Fill>" PARAM("fill", "#ff0000") "</Fill></TextSymbolizer>"
        "</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL);
    const char *names[] = {"name"};
    ts_store_builder *b = ts_store_builder_new("pts", names, 1, &err);
    TS_REQUIRE(b != NULL);
    double pa[] = {100, 100}, pb[] = {140, 100};
    uint32_t one[] = {1};
    ts_value v = {.type = TS_VAL_STR, .u.s = "Corneliusstraße"};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POINT, pa, one, 1, &v, &err), TS_OK);
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POINT, pb, one, 1, &v, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    ts_style *style = ts_style_parse(sld_pts, strlen(sld_pts), "pts", &err);
    TS_REQUIRE(style != NULL);
    ts_render_layer *l = ts_render_layer_new("pts", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(300, 200, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {.layers = layers, .nlayers = 1, .bbox = {0, 0, 300, 200}, .width = 300,
                         .height = 200, .scale_factor = 1, .scale_denom = 1000,
                         .background = {255, 255, 255, 255}, .fonts = fonts};
    ts_render_stats *st = ts_render_worker_stats(w);
    memset(st, 0, sizeof *st);
    TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
    TS_CHECK_INT(st->labels, 2);
    TS_CHECK(st->label_candidates >= 8); /* four sides each (per label block computed) */
    /* the first label right of its point on the point's row (pixel row 100); the second
     * above its point: red pixels in rows well above 100 around x = 140 */
    long right = 0, above = 0;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 300; x++) {
            const uint8_t *p = (const uint8_t *)&c->px[y * 300 + x];
            if (!(p[0] > 150 && p[1] < 90))
                continue;
            right += y > 92 && y < 108 && x > 108;
            above += y < 92 && x > 80 && x < 200;
        }
    TS_CHECK(right > 50);
    TS_CHECK(above > 50);

    /* Two WMS maps of a tiled client meeting at y = 97, 3 px below the points: the
     * styled side of each label crosses that edge in both maps. A WMS label must fit
     * its image, and the edge is no other label: both maps leave the labels out (they
     * had been moved above the points in the upper map and below them in the lower
     * one, so each stood twice). As tiles (labels may cross), the upper map draws them
     * over its bottom edge. */
    for (int lower = 0; lower < 2; lower++) {
        for (int inside = 0; inside < 2; inside++) {
            ts_render_req rq = req;
            rq.bbox = lower ? (ts_bbox){0, -103, 300, 97} : (ts_bbox){0, 97, 300, 297};
            rq.labels_inside = inside;
            TS_CHECK_INT(ts_render_draw(w, &rq, c, &err), TS_OK);
            long red = 0, red_edge = 0;
            for (int y = 0; y < 200; y++)
                for (int x = 0; x < 300; x++) {
                    const uint8_t *p = (const uint8_t *)&c->px[y * 300 + x];
                    if (p[0] > 150 && p[1] < 90) {
                        red++;
                        red_edge += lower ? y < 10 : y >= 190;
                    }
                }
            if (inside) {
                if (red)
                    printf("  %s WMS map: %ld label pixels\n", lower ? "lower" : "upper", red);
                TS_CHECK_INT(red, 0);
            } else {
                TS_CHECK(red_edge > 20);
            }
        }
    }
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}

/* conflictResolution false on a line label: drawn whatever else is there, but once per
 * place along the line (the engine's alternative positions of one place were all drawn:
 * "MarktdammMarktdamm"). A 280 px line with a ~100 px label: one place, one label. */
TS_TEST(render_line_label_without_conflict_resolution_is_drawn_once)
{
    static const char *sld_line =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
        "<TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
        "<Font>" PARAM("font-size", "12") "</Font>"
        "<LabelPlacement><LinePlacement/></LabelPlacement>"
        "<VendorOption name=\"conflictResolution\">false</VendorOption>"
        "</TextSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n";
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL);
    const char *names[] = {"name"};
    ts_store_builder *b = ts_store_builder_new("ln", names, 1, &err);
    TS_REQUIRE(b != NULL);
    double xy[] = {10, 100, 290, 100};
    uint32_t two[] = {2};
    ts_value v = {.type = TS_VAL_STR, .u.s = "Marktdamm"};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_LINE, xy, two, 1, &v, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    ts_style *style = ts_style_parse(sld_line, strlen(sld_line), "ln", &err);
    TS_REQUIRE(style != NULL);
    ts_render_layer *l = ts_render_layer_new("ln", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(300, 200, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {.layers = layers, .nlayers = 1, .bbox = {0, 0, 300, 200}, .width = 300,
                         .height = 200, .scale_factor = 1, .scale_denom = 1000,
                         .background = {255, 255, 255, 255}, .fonts = fonts};
    ts_render_stats *st = ts_render_worker_stats(w);
    memset(st, 0, sizeof *st);
    TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
    TS_CHECK_INT(st->labels, 1);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}

/* A turned point label is drawn at every angle: its upright bounds (up to sqrt 2 times its
 * box at 45 degrees) were measured against the longest unturned label, and at 30-60 degrees
 * every label of a layer vanished. */
TS_TEST(render_point_labels_turned_at_any_angle_are_drawn)
{
    static const char *angles[] = {"0", "-10", "30", "-45", "45", "60", "135"};
    const char *names[] = {"name"};
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL);
    ts_store_builder *b = ts_store_builder_new("pt", names, 1, &err);
    TS_REQUIRE(b != NULL);
    static const char *labels[] = {"P12", "Langer Text"};
    for (int i = 0; i < 2; i++) {
        double xy[] = {80 + 140 * i, 100};
        uint32_t one[] = {1};
        ts_value v = {.type = TS_VAL_STR, .u.s = labels[i]};
        TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POINT, xy, one, 1, &v, &err), TS_OK);
    }
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    for (size_t a = 0; a < sizeof angles / sizeof *angles; a++) {
        char doc[2048];
        snprintf(doc, sizeof doc,
                 "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
                 " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
                 "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
                 "<TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
                 "<Font>" PARAM("font-size", "12") "</Font>"
                 "<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0.5</AnchorPointX>"
                 "<AnchorPointY>0.5</AnchorPointY></AnchorPoint><Rotation>%s</Rotation>"
                 "</PointPlacement></LabelPlacement>"
                 "</TextSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
                 "</StyledLayerDescriptor>\n",
                 angles[a]);
        ts_style *style = ts_style_parse(doc, strlen(doc), "pt", &err);
        TS_REQUIRE(style != NULL);
        ts_render_layer *l = ts_render_layer_new("pt", store, style, NULL, &err);
        ts_render_worker *w = ts_render_worker_new(&err);
        ts_canvas *c = ts_canvas_new(300, 200, &err);
        TS_REQUIRE(l != NULL && w != NULL && c != NULL);
        const ts_render_layer *layers[] = {l};
        ts_render_req req = {.layers = layers, .nlayers = 1, .bbox = {0, 0, 300, 200},
                             .width = 300, .height = 200, .scale_factor = 1,
                             .scale_denom = 1000, .background = {255, 255, 255, 255},
                             .fonts = fonts};
        ts_render_stats *st = ts_render_worker_stats(w);
        memset(st, 0, sizeof *st);
        TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
        if (st->labels != 2)
            ts_test_fail(__FILE__, __LINE__, "rotation %s: %d labels drawn, want 2", angles[a],
                         (int)st->labels);
        ts_canvas_free(c);
        ts_render_worker_free(w);
        ts_render_layer_free(l);
        ts_style_unref(style);
    }
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}

/* A PointSymbolizer on a line sits at the line's middle by length (SLD 1.0 11.3), not on
 * its middle vertex (the end point of a two-point line); on a multipolygon at the area
 * centroid of all its parts, not of the first (a sliver). */
TS_TEST(render_point_symbolizer_on_lines_and_multipolygons_at_their_centre)
{
    static const char *sld_pt =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
        "<PointSymbolizer><Graphic>" MARK("square", FILL("#ff0000")) "<Size>6</Size></Graphic>"
        "</PointSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n";
    ts_err err;
    const char *names[] = {"name"};
    ts_store_builder *b = ts_store_builder_new("g", names, 1, &err);
    TS_REQUIRE(b != NULL);
    ts_value v = {.type = TS_VAL_STR, .u.s = "x"};
    /* a two-point line from (20, 150) to (180, 150) (map y up = pixel 50 from the top) */
    double line[] = {20, 150, 180, 150};
    uint32_t two[] = {2};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_LINE, line, two, 1, &v, &err), TS_OK);
    /* a 4 x 4 sliver first, then a 60 x 60 square: the centroid is near the square's */
    double mp[] = {200, 20, 204, 20, 204, 24, 200, 24, 230, 30, 290, 30, 290, 90, 230, 90};
    uint32_t four[] = {4, 4};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POLYGON, mp, four, 2, &v, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    ts_style *style = ts_style_parse(sld_pt, strlen(sld_pt), "g", &err);
    TS_REQUIRE(style != NULL);
    ts_render_layer *l = ts_render_layer_new("g", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(300, 200, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {.layers = layers, .nlayers = 1, .bbox = {0, 0, 300, 200}, .width = 300,
                         .height = 200, .scale_factor = 1, .scale_denom = 1000,
                         .background = {255, 255, 255, 255}};
    TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
    /* red pixels: their centre per feature (x < 195: the line's; else the polygon's) */
    double lx = 0, ly = 0, ln = 0, px = 0, py = 0, pn = 0;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 300; x++) {
            const uint8_t *q = (const uint8_t *)&c->px[y * 300 + x];
            if (!(q[0] > 200 && q[1] < 60))
                continue;
            if (x < 195) {
                lx += x + 0.5, ly += y + 0.5, ln++;
            } else {
                px += x + 0.5, py += y + 0.5, pn++;
            }
        }
    TS_REQUIRE(ln > 10 && pn > 10);
    TS_CHECK_NEAR(lx / ln, 100, 1.0);
    TS_CHECK_NEAR(ly / ln, 50, 1.0);
    /* area-weighted: (16 * (202, 22) + 3600 * (260, 60)) / 3616 in map units */
    TS_CHECK_NEAR(px / pn, (16 * 202.0 + 3600 * 260.0) / 3616, 1.0);
    TS_CHECK_NEAR(py / pn, 200 - (16 * 22.0 + 3600 * 60.0) / 3616, 1.0);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* A multipolygon is labelled in its largest part: with a 4 x 4 sliver first and a 100 x 60
 * square second, the label fits (it was tried in the sliver only, and dropped). */
TS_TEST(render_multipolygon_label_in_its_largest_part)
{
    static const char *sld_mp =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
        "<TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
        "<Font>" PARAM("font-size", "12") "</Font>"
        "<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0.5</AnchorPointX>"
        "<AnchorPointY>0.5</AnchorPointY></AnchorPoint></PointPlacement></LabelPlacement>"
        "</TextSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n";
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL);
    const char *names[] = {"name"};
    ts_store_builder *b = ts_store_builder_new("mp", names, 1, &err);
    TS_REQUIRE(b != NULL);
    double mp[] = {20, 20, 24, 20, 24, 24, 20, 24, 100, 60, 200, 60, 200, 120, 100, 120};
    uint32_t four[] = {4, 4};
    ts_value v = {.type = TS_VAL_STR, .u.s = "Flur 7"};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POLYGON, mp, four, 2, &v, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    ts_style *style = ts_style_parse(sld_mp, strlen(sld_mp), "mp", &err);
    TS_REQUIRE(style != NULL);
    ts_render_layer *l = ts_render_layer_new("mp", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(300, 200, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    const ts_render_layer *layers[] = {l};
    ts_render_req req = {.layers = layers, .nlayers = 1, .bbox = {0, 0, 300, 200}, .width = 300,
                         .height = 200, .scale_factor = 1, .scale_denom = 1000,
                         .background = {255, 255, 255, 255}, .fonts = fonts};
    ts_render_stats *st = ts_render_worker_stats(w);
    memset(st, 0, sizeof *st);
    TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
    TS_CHECK_INT(st->labels, 1);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}

/* A view of a layer bound to an empty store with the same fields draws another store with the
 * layer's style and binding (per-request sources), under an id of its own. */
TS_TEST(render_layer_view_draws_another_store)
{
    ts_err err;
    const char *names[] = {"class"};
    ts_store_builder *b = ts_store_builder_new("empty", names, 1, &err);
    ts_store *empty = NULL;
    TS_REQUIRE(b != NULL && ts_store_builder_finish(b, &empty, &err) == TS_OK);
    ts_store *full = three_squares();
    ts_style *style = ts_style_parse(sld, strlen(sld), "test", &err);
    TS_REQUIRE(full != NULL && style != NULL);
    ts_render_layer *l = ts_render_layer_new("squares", empty, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    TS_CHECK_INT(px_at(c, 20, 20), WHITE); /* the bound store is empty */
    ts_render_layer v;
    ts_render_layer_view(l, full, &v);
    TS_CHECK(v.store == full && v.style == l->style && v.prop_field == l->prop_field);
    TS_CHECK(v.id != l->id);
    TS_CHECK_INT(draw(w, &v, c), TS_OK);
    TS_CHECK_INT(px_at(c, 20, 20), RED); /* a: filtered through the binding */
    TS_CHECK_INT(px_at(c, 50, 20), BLUE);
    TS_CHECK_INT(px_at(c, 70, 20), YELLOW);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l); /* the view took nothing: full is still ours */
    TS_CHECK_INT((int)ts_store_count(full), 3);
    ts_store_unref(full);
    ts_store_unref(empty);
    ts_style_unref(style);
}

/* Colours, widths and sizes from the feature (PropertyName in CssParameter and Size): each
 * feature drawn with its own; a point sized by its feature far out of the tile still
 * reaches into it (the layer's reach is the largest of its features'). */
TS_TEST(render_values_of_the_feature)
{
    static const char *doc =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
        "<PolygonSymbolizer><Fill><CssParameter name=\"fill\"><ogc:PropertyName>c"
        "</ogc:PropertyName></CssParameter></Fill></PolygonSymbolizer>"
        "<PointSymbolizer><Graphic><Mark><WellKnownName>square</WellKnownName><Fill>"
        "<CssParameter name=\"fill\"><ogc:PropertyName>c</ogc:PropertyName></CssParameter>"
        "</Fill></Mark><Size><ogc:PropertyName>s</ogc:PropertyName></Size></Graphic>"
        "</PointSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n";
    ts_err err;
    const char *names[] = {"c", "s"};
    ts_store_builder *b = ts_store_builder_new("v", names, 2, &err);
    TS_REQUIRE(b != NULL);
    double red_sq[] = {10, 10, 40, 10, 40, 40, 10, 40}, blue_sq[] = {60, 10, 90, 10, 90, 40, 60, 40};
    uint32_t four[] = {4}, one[] = {1};
    ts_value v1[] = {{.type = TS_VAL_STR, .u.s = "#ff0000"}, {.type = TS_VAL_NULL}};
    ts_value v2[] = {{.type = TS_VAL_STR, .u.s = "#0000ff"}, {.type = TS_VAL_NULL}};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POLYGON, red_sq, four, 1, v1, &err), TS_OK);
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POLYGON, blue_sq, four, 1, v2, &err), TS_OK);
    /* a yellow square of 100 px centred 40 px right of the canvas: its left part shows */
    double pt[] = {140, 70}, small[] = {20, 70};
    ts_value v3[] = {{.type = TS_VAL_STR, .u.s = "#ffff00"}, {.type = TS_VAL_INT, .u.i = 100}};
    ts_value v4[] = {{.type = TS_VAL_STR, .u.s = "#000000"}, {.type = TS_VAL_INT, .u.i = 4}};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POINT, pt, one, 1, v3, &err), TS_OK);
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POINT, small, one, 1, v4, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    ts_style *style = ts_style_parse(doc, strlen(doc), "v", &err);
    TS_REQUIRE(style != NULL);
    ts_render_layer *l = ts_render_layer_new("v", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(W, H, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    TS_CHECK_INT(draw(w, l, c), TS_OK);
    TS_CHECK_INT(px_at(c, 25, 25), RED);
    TS_CHECK_INT(px_at(c, 75, 25), BLUE);
    TS_CHECK_INT(px_at(c, 95, 70), YELLOW);  /* the big square's left edge is at x = 90 */
    TS_CHECK_INT(px_at(c, 85, 70), WHITE);
    TS_CHECK_INT(px_at(c, 20, 70), BLACK);   /* the 4 px square */
    TS_CHECK_INT(px_at(c, 24, 70), WHITE);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
}

/* A font mark draws its glyph, ink centred on the point, in the Mark's fill; a family that
 * is not installed draws nothing (a wrong symbol would be worse). */
TS_TEST(render_font_marks)
{
#define FONT_MARK_DOC(family)                                                                      \
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\">"            \
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule><PointSymbolizer>"           \
    "<Graphic><Mark><WellKnownName>ttf://" family "#0x25A0</WellKnownName><Fill>"              \
    "<CssParameter name=\"fill\">#0000ff</CssParameter></Fill></Mark><Size>40</Size>"        \
    "</Graphic></PointSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"          \
    "</StyledLayerDescriptor>"
    static const char *docs[] = {
        FONT_MARK_DOC("DejaVu Sans"), FONT_MARK_DOC("No Such Font"),
        /* a missing font with a circle after it: the circle */
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\">"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule><PointSymbolizer>"
        "<Graphic><Mark><WellKnownName>ttf://No Such Font#0x25A0</WellKnownName><Fill>"
        "<CssParameter name=\"fill\">#0000ff</CssParameter></Fill></Mark><Mark>"
        "<WellKnownName>circle</WellKnownName><Fill><CssParameter name=\"fill\">#ff0000"
        "</CssParameter></Fill></Mark><Size>20</Size></Graphic></PointSymbolizer></Rule>"
        "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>"};
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL);
    ts_store_builder *b = ts_store_builder_new("pt", NULL, 0, &err);
    double xy[] = {50, 50};
    uint32_t one[] = {1};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POINT, xy, one, 1, NULL, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    for (int missing = 0; missing < 3; missing++) {
        const char *doc = docs[missing];
        ts_style *style = ts_style_parse(doc, strlen(doc), "fm", &err);
        TS_REQUIRE(style != NULL);
        ts_render_layer *l = ts_render_layer_new("pt", store, style, NULL, &err);
        ts_render_worker *w = ts_render_worker_new(&err);
        ts_canvas *c = ts_canvas_new(W, H, &err);
        TS_REQUIRE(l != NULL && w != NULL && c != NULL);
        const ts_render_layer *layers[] = {l};
        ts_render_req req = {.layers = layers, .nlayers = 1, .bbox = {0, 0, 100, 100},
                             .width = W, .height = H, .scale_factor = 1, .scale_denom = 1000,
                             .background = {255, 255, 255, 255}, .fonts = fonts};
        TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
        if (!missing) {
            /* U+25A0, a black square 40 px across: its middle and 15 px out are blue */
            TS_CHECK_INT(px_at(c, 50, 50), BLUE);
            TS_CHECK_INT(px_at(c, 36, 50), BLUE);
            TS_CHECK_INT(px_at(c, 64, 64), BLUE);
            TS_CHECK_INT(px_at(c, 50, 75), WHITE);
        } else if (missing == 1) {
            TS_CHECK_INT(px_at(c, 50, 50), WHITE);
        } else {
            TS_CHECK_INT(px_at(c, 50, 50), RED); /* the next alternative */
            TS_CHECK_INT(px_at(c, 36, 50), WHITE);
        }
        ts_canvas_free(c);
        ts_render_worker_free(w);
        ts_render_layer_free(l);
        ts_style_unref(style);
    }
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}

/* An SVG image drawn by the rasteriser: the viewBox fills the canvas at its natural
 * aspect, shapes in their colours and opacities, a stroke scaled with the drawing. */
TS_TEST(render_svg_image_into_pixels)
{
    static const char doc[] =
        "<svg xmlns='http://www.w3.org/2000/svg' width='20' height='10' viewBox='0 0 20 10'>"
        "<rect x='0' y='0' width='10' height='10' fill='#ff0000'/>"
        "<rect x='10' y='0' width='10' height='10' fill='#0000ff' fill-opacity='0.5'/>"
        "<line x1='0' y1='5' x2='20' y2='5' stroke='#00ff00' stroke-width='2'/>"
        "</svg>";
    ts_err e = {0};
    ts_svg *s = ts_svg_parse(doc, sizeof doc - 1, "t.svg", NULL, &e);
    TS_REQUIRE(s != NULL);
    ts_canvas *c = ts_render_svg(s, 40, &e);
    TS_REQUIRE(c != NULL);
    TS_CHECK(c->w == 40 && c->h == 20);
    uint32_t red = c->px[2 * c->stride + 5], blue = c->px[2 * c->stride + 35];
    uint32_t green = c->px[10 * c->stride + 20];
    TS_CHECK((red & 0xff) == 255 && ((red >> 16) & 0xff) == 0 && (red >> 24) == 255);
    TS_CHECK(((blue >> 16) & 0xff) >= 126 && ((blue >> 16) & 0xff) <= 129 &&
             (blue >> 24) >= 126 && (blue >> 24) <= 129); /* premultiplied half blue */
    TS_CHECK(((green >> 8) & 0xff) == 255 && (green >> 24) == 255);
    /* the line is 2 units = 4 px wide: rows 8..11 green, row 6 not */
    uint32_t above = c->px[6 * c->stride + 20];
    TS_CHECK(((above >> 8) & 0xff) == 0);
    ts_canvas_free(c);
    TS_CHECK(ts_render_svg(s, 0, &e) == NULL);
    ts_svg_free(s);
}

/* A polygon's label sits at its area centroid also where coordinates are millions (a map in
 * Gauss-Krueger, eastings of 3.4e6 m): the area formula's products had lost the centroid by
 * metres, and parcel numbers landed on their parcels' edges. */
TS_TEST(render_polygon_label_at_its_centroid_far_from_the_origin)
{
    static const char *sld_poly =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
        " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
        "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>"
        "<TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
        "<Font>" PARAM("font-size", "10") "</Font>"
        "<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0.5</AnchorPointX>"
        "<AnchorPointY>0.5</AnchorPointY></AnchorPoint></PointPlacement></LabelPlacement>"
        "<Fill>" PARAM("fill", "#ff0000") "</Fill></TextSymbolizer>"
        "</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n";
    ts_err err;
    ts_font_catalog *fonts = ts_font_catalog_new(NULL, 0, &err);
    TS_REQUIRE(fonts != NULL);
    const char *names[] = {"name"};
    ts_store_builder *b = ts_store_builder_new("far", names, 1, &err);
    TS_REQUIRE(b != NULL);
    const double X = 3441234.5, Y = 5679876.25; /* a parcel of 30 x 20 m, 8 vertices */
    /* fractions of a survey's millimetres, as real coordinates have (round ones happen
     * to come out exact) */
    double ring[] = {X + 0.00171, Y + 0.01423, X + 10.00934, Y - 0.49187, X + 20.01129,
                     Y + 0.30642, X + 30.00318, Y + 0.00857, X + 30.01232, Y + 20.01575,
                     X + 20.00047, Y + 20.40911, X + 10.00665, Y + 19.61308, X + 0.01044,
                     Y + 20.00293};
    uint32_t cnt[] = {8};
    ts_value v = {.type = TS_VAL_STR, .u.s = "437"};
    TS_CHECK_INT(ts_store_builder_add(b, TS_GEOM_POLYGON, ring, cnt, 1, &v, &err), TS_OK);
    ts_store *store = NULL;
    TS_REQUIRE(ts_store_builder_finish(b, &store, &err) == TS_OK);
    ts_style *style = ts_style_parse(sld_poly, strlen(sld_poly), "far", &err);
    TS_REQUIRE(style != NULL);
    ts_render_layer *l = ts_render_layer_new("far", store, style, NULL, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *c = ts_canvas_new(200, 160, &err);
    TS_REQUIRE(l != NULL && w != NULL && c != NULL);
    const ts_render_layer *layers[] = {l};
    /* 0.25 m a pixel: the parcel's centre (X + 15, Y + 10) at pixel (100, 80) */
    ts_render_req req = {.layers = layers, .nlayers = 1,
                         .bbox = {X + 15 - 25, Y + 10 - 20, X + 15 + 25, Y + 10 + 20},
                         .width = 200, .height = 160, .scale_factor = 1, .scale_denom = 900,
                         .background = {255, 255, 255, 255}, .fonts = fonts, .labels_inside = 1};
    TS_CHECK_INT(ts_render_draw(w, &req, c, &err), TS_OK);
    double sx = 0, sy = 0;
    long n = 0;
    for (int y = 0; y < 160; y++)
        for (int x = 0; x < 200; x++) {
            const uint8_t *p = (const uint8_t *)&c->px[y * 200 + x];
            if (p[0] > 150 && p[1] < 90) {
                sx += x;
                sy += y;
                n++;
            }
        }
    TS_REQUIRE(n > 20);
    sx /= (double)n;
    sy /= (double)n;
    if (fabs(sx - 100) > 3 || fabs(sy - 80) > 3)
        printf("  label ink centred at (%.1f, %.1f), the parcel's centre is (100, 80)\n", sx, sy);
    TS_CHECK(fabs(sx - 100) <= 3 && fabs(sy - 80) <= 3);
    ts_canvas_free(c);
    ts_render_worker_free(w);
    ts_render_layer_free(l);
    ts_style_unref(style);
    ts_store_unref(store);
    ts_font_catalog_free(fonts);
}
