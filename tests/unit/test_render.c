/* tests/unit/test_render.c — the per-feature loop of render: rule selection by scale,
 * filters (property, ElseFilter, BBOX), and the symbolizers' draw calls, on a tiny store
 * built in memory and a style parsed from SLD text. */
#include "render/render.h"

#include "test.h"

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
