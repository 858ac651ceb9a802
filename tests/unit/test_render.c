/* tests/unit/test_render.c — the per-feature loop of render: rule selection by scale,
 * filters (property, ElseFilter, BBOX), and the symbolizers' draw calls, on a tiny store
 * built in memory and a style parsed from SLD text; and band rendering against the whole
 * drawing. */
#include "render/render.h"

#include "test.h"

#include <math.h>
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
