/* tests/style/test_thirdparty_sld.c — real SLD files written by others (GeoServer's own
 * styles, QGIS exports, a city's and a state mobility platform's GeoServer styles; see
 * tests/data/style/thirdparty/README.md for their origin and licences), kept unchanged,
 * loaded with ts_style_load and rendered on small synthetic stores whose attributes hit
 * every rule, rule boundaries and values no rule matches. The pixels are checked against
 * what each SLD says: a rule's colour (premultiplied over the white background, within a
 * tolerance for anti-aliasing, read in the interior of big polygons or on the axis of
 * lines) is present where that rule's features are and absent where filters or scale
 * ranges exclude them; labels (text-coloured pixels) appear where TextSymbolizers apply.
 *
 * Map units are pixels: the canvas shows [0, W] x [0, H] with y up, so map point (x, y)
 * is pixel column floor(x), row floor(H - y). Set TS_SLD_DUMP=dir to write each
 * rendering as a PPM file for looking at. */
#include "render/render.h"

#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* ---- loading ---------------------------------------------------------------------------- */

/* Load tests/data/style/thirdparty/<rel>; it must parse with exactly `warnings` warnings
 * (the counts are listed in the README). */
static ts_style *
load_tp(const char *rel, int warnings)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/data/style/thirdparty/%s", ts_test_srcdir(), rel);
    ts_err err;
    ts_err_clear(&err);
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR); /* the warnings are counted, not printed */
    ts_style *s = ts_style_load(path, &err);
    ts_log_set_level(lvl);
    if (s == NULL) {
        char b[1024];
        ts_test_fail(__FILE__, __LINE__, "%s: %s", rel, ts_err_format(&err, b, sizeof b));
        return NULL;
    }
    if (s->nwarnings != warnings)
        ts_test_fail(__FILE__, __LINE__, "%s: %d warnings, expected %d", rel, s->nwarnings,
                     warnings);
    return s;
}

/* ---- stores ----------------------------------------------------------------------------- */

typedef struct sb {
    ts_store_builder *b;
    int failed;
} sb;

static sb
sb_new(const char *const *names, int n)
{
    ts_err err;
    sb s = {ts_store_builder_new("t", names, n, &err), 0};
    s.failed = s.b == NULL;
    return s;
}

static void
sb_add(sb *s, ts_geom_kind kind, const double *xy, uint32_t npts, const ts_value *v)
{
    ts_err err;
    uint32_t counts[1] = {npts};
    if (s->b == NULL || ts_store_builder_add(s->b, kind, xy, counts, 1, v, &err) != TS_OK)
        s->failed = 1;
}

/* An axis-parallel rectangle polygon. */
static void
sb_rect(sb *s, double x0, double y0, double x1, double y1, const ts_value *v)
{
    double xy[] = {x0, y0, x1, y0, x1, y1, x0, y1};
    sb_add(s, TS_GEOM_POLYGON, xy, 4, v);
}

/* A horizontal line from x0 to x1 at height y, drawn left to right. */
static void
sb_hline(sb *s, double x0, double x1, double y, const ts_value *v)
{
    double xy[] = {x0, y, x1, y};
    sb_add(s, TS_GEOM_LINE, xy, 2, v);
}

static void
sb_point(sb *s, double x, double y, const ts_value *v)
{
    double xy[] = {x, y};
    sb_add(s, TS_GEOM_POINT, xy, 1, v);
}

static ts_store *
sb_finish(sb *s)
{
    ts_err err;
    ts_store *st = NULL;
    if (s->failed) {
        ts_store_builder_free(s->b);
        return NULL;
    }
    if (ts_store_builder_finish(s->b, &st, &err) != TS_OK)
        return NULL;
    return st;
}

#define VI(x) ((ts_value){.type = TS_VAL_INT, .u.i = (x)})
#define VR(x) ((ts_value){.type = TS_VAL_REAL, .u.d = (x)})
#define VS(x) ((ts_value){.type = TS_VAL_STR, .u.s = (x)})
#define VB(x) ((ts_value){.type = TS_VAL_BOOL, .u.i = (x)})
#define VN ((ts_value){.type = TS_VAL_NULL})

/* ---- rendering -------------------------------------------------------------------------- */

typedef struct scene {
    ts_style *style;
    ts_store *store;
    ts_render_layer *layer;
    ts_font_catalog *fonts;
    int w, h;
    const char *name; /* for dumps */
} scene;

static int
scene_init(scene *sc, const char *name, ts_style *style, ts_store *store, int w, int h)
{
    ts_err err;
    memset(sc, 0, sizeof *sc);
    sc->name = name;
    sc->style = style;
    sc->store = store;
    sc->w = w;
    sc->h = h;
    if (style == NULL || store == NULL)
        return -1;
    int missing = -1;
    sc->layer = ts_render_layer_new(name, store, style, &missing, &err);
    sc->fonts = ts_font_catalog_new(NULL, 0, &err); /* fonts-dejavu-core: a build dependency */
    if (sc->layer == NULL || sc->fonts == NULL)
        return -1;
    if (missing != 0) /* every property the SLD names is a column of the store */
        ts_test_fail(__FILE__, __LINE__, "%s: %d properties missing", name, missing);
    return 0;
}

static void
scene_fini(scene *sc)
{
    ts_render_layer_free(sc->layer);
    ts_font_catalog_free(sc->fonts);
    ts_store_unref(sc->store);
    ts_style_unref(sc->style);
}

static void
dump(const scene *sc, const ts_canvas *c, double scale)
{
    const char *dir = getenv("TS_SLD_DUMP");
    if (dir == NULL || dir[0] == '\0')
        return;
    char path[700];
    snprintf(path, sizeof path, "%s/%s_%.0f.ppm", dir, sc->name, scale);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return;
    fprintf(f, "P6\n%d %d\n255\n", c->w, c->h);
    for (int j = 0; j < c->h; j++)
        for (int i = 0; i < c->w; i++) {
            uint32_t p = c->px[(size_t)j * (size_t)c->stride + (size_t)i];
            unsigned char rgb[3] = {(unsigned char)(p & 255), (unsigned char)(p >> 8 & 255),
                                    (unsigned char)(p >> 16 & 255)};
            fwrite(rgb, 1, 3, f);
        }
    fclose(f);
}

/* Draw the scene at a scale denominator, labels on, over opaque white. */
static ts_canvas *
draw(const scene *sc, double scale)
{
    ts_err err;
    ts_canvas *c = ts_canvas_new(sc->w, sc->h, &err);
    ts_render_worker *w = ts_render_worker_new(&err);
    if (c == NULL || w == NULL) {
        ts_canvas_free(c);
        ts_render_worker_free(w);
        return NULL;
    }
    const ts_render_layer *layers[] = {sc->layer};
    ts_render_req req = {
        .layers = layers,
        .nlayers = 1,
        .bbox = {0, 0, sc->w, sc->h},
        .width = sc->w,
        .height = sc->h,
        .scale_factor = 1,
        .scale_denom = scale,
        .background = {255, 255, 255, 255},
        .fonts = sc->fonts,
        .labels_inside = 0,
    };
    ts_status st = ts_render_draw(w, &req, c, &err);
    ts_render_worker_free(w);
    if (st != TS_OK) {
        ts_canvas_free(c);
        return NULL;
    }
    dump(sc, c, scale);
    return c;
}

/* ---- pixels ----------------------------------------------------------------------------- */

typedef struct rgb {
    int r, g, b;
} rgb;

/* The pixel at column i, row j (the background is opaque, so premultiplied = straight). */
static rgb
pix(const ts_canvas *c, int i, int j)
{
    uint32_t p = c->px[(size_t)j * (size_t)c->stride + (size_t)i];
    return (rgb){(int)(p & 255), (int)(p >> 8 & 255), (int)(p >> 16 & 255)};
}

/* Colour `hex` painted with opacity a over white. */
static rgb
over_white(uint32_t hex, double a)
{
    int r = (int)(hex >> 16 & 255), g = (int)(hex >> 8 & 255), b = (int)(hex & 255);
    return (rgb){(int)lround(r * a + 255 * (1 - a)), (int)lround(g * a + 255 * (1 - a)),
                 (int)lround(b * a + 255 * (1 - a))};
}

static int
near(rgb p, rgb q, int tol)
{
    return abs(p.r - q.r) <= tol && abs(p.g - q.g) <= tol && abs(p.b - q.b) <= tol;
}

#define WHITE ((rgb){255, 255, 255})

/* Check the pixel at (i, j) is within tol of want. */
#define CHECK_PIX(c, i, j, want, tol)                                                              \
    do {                                                                                           \
        rgb p_ = pix((c), (i), (j)), w_ = (want);                                                  \
        if (!near(p_, w_, (tol)))                                                                  \
            ts_test_fail(__FILE__, __LINE__, "pixel (%d,%d) = #%02x%02x%02x, expected #%02x%02x%02x" \
                         " +-%d", (i), (j), p_.r, p_.g, p_.b, w_.r, w_.g, w_.b, (tol));           \
    } while (0)

/* Number of pixels in columns [i0, i1) x rows [j0, j1) for which pred holds. */
typedef int (*pix_pred)(rgb p);

static int
count(const ts_canvas *c, int i0, int j0, int i1, int j1, pix_pred pred)
{
    int n = 0;
    for (int j = j0 < 0 ? 0 : j0; j < j1 && j < c->h; j++)
        for (int i = i0 < 0 ? 0 : i0; i < i1 && i < c->w; i++)
            n += pred(pix(c, i, j));
    return n;
}

/* Black text (and nothing else these styles draw is this dark). */
static int
is_black_text(rgb p)
{
    return p.r < 70 && p.g < 70 && p.b < 70;
}

/* The #606060 text of the Rennes parcel numbers: grey and clearly darker than white. */
static int
is_grey_text(rgb p)
{
    return p.r < 200 && abs(p.r - p.g) <= 6 && abs(p.g - p.b) <= 6;
}

/* Small (8 px) black text, anti-aliased: neutral and dark. */
static int
is_small_text(rgb p)
{
    return p.r < 150 && abs(p.r - p.g) <= 12 && abs(p.g - p.b) <= 12;
}

static int
is_not_white(rgb p)
{
    return p.r < 250 || p.g < 250 || p.b < 250;
}

static int
is_white(rgb p)
{
    return p.r >= 253 && p.g >= 253 && p.b >= 253;
}

/* ---- GeoServer: popshade.sld ------------------------------------------------------------ */

/* SLD 1.0, three PERSONS classes by PropertyIsLessThan / PropertyIsBetween /
 * PropertyIsGreaterThan with fill-opacity 0.7, and a rule without filter that outlines
 * every state (0.2 px, default black) and labels it with STATE_ABBR at its centre. */
TS_TEST(thirdparty_geoserver_popshade)
{
    enum { W = 400, H = 200 };
    const char *names[] = {"PERSONS", "STATE_ABBR"};
    sb b = sb_new(names, 2);
    /* 4 x 2 states of 80 x 70 px; columns at x = 10, 110, 210, 310, rows at y = 110, 20 */
    const ts_value v[8][2] = {
        {VI(1500000), VS("CA")},   /* < 2M: green */
        {VI(2000000), VS("NV")},   /* Between includes its lower bound: red */
        {VR(3000000.5), VS("UT")}, /* red */
        {VI(4000000), VS("AZ")},   /* Between includes its upper bound, not > 4M: red */
        {VI(4000001), VS("TX")},   /* > 4M: blue */
        {VS("2500000"), VS("OR")}, /* numeric text compares as a number (GeoServer): red */
        {VN, VS("ID")},            /* no class: outline and label only */
        {VN, VN},                  /* outline only */
    };
    for (int k = 0; k < 8; k++) {
        double x0 = 10 + 100 * (k % 4), y0 = k < 4 ? 110 : 20;
        sb_rect(&b, x0, y0, x0 + 80, y0 + 70, v[k]);
    }
    scene sc;
    TS_REQUIRE(scene_init(&sc, "popshade", load_tp("geoserver/popshade.sld", 0), sb_finish(&b),
                          W, H) == 0);
    ts_canvas *c = draw(&sc, 5e6);
    TS_REQUIRE(c != NULL);
    const rgb fill[8] = {over_white(0x4DFF4D, 0.7), over_white(0xFF4D4D, 0.7),
                         over_white(0xFF4D4D, 0.7), over_white(0xFF4D4D, 0.7),
                         over_white(0x4D4DFF, 0.7), over_white(0xFF4D4D, 0.7), WHITE, WHITE};
    for (int k = 0; k < 8; k++) {
        int i0 = 10 + 100 * (k % 4), j0 = H - (k < 4 ? 180 : 90); /* top-left pixel */
        /* interior, clear of the centred label: the class colour (or nothing) */
        CHECK_PIX(c, i0 + 8, j0 + 8, fill[k], 2);
        CHECK_PIX(c, i0 + 70, j0 + 60, fill[k], 2);
        /* the boundary rule applies to all: the column left of the edge is covered 0.1
         * by the 0.2 px black line */
        rgb e = pix(c, i0 - 1, j0 + 35);
        TS_CHECK(e.r >= 215 && e.r <= 240 && e.r == e.g && e.g == e.b);
        /* the label: black glyph pixels around the centre exactly where STATE_ABBR is set */
        int text = count(c, i0 + 20, j0 + 20, i0 + 60, j0 + 50, is_black_text);
        if (k < 7)
            TS_CHECK(text >= 10);
        else
            TS_CHECK_INT(text, 0);
    }
    /* no label leaves its state: text only in the label boxes */
    TS_CHECK_INT(count(c, 0, 0, W, 8, is_black_text) + count(c, 0, H - 8, W, H, is_black_text), 0);
    ts_canvas_free(c);
    scene_fini(&sc);
}

/* ---- GeoServer: tiger_roads.sld --------------------------------------------------------- */

/* Two FeatureTypeStyles: from 1:32000 up a 2 px #666666 line; below 1:32000 a 7 px
 * #666666 casing with a 4 px white centre on top (second FTS) and the NAME along the line,
 * bold, with a white halo, vendor option group. */
TS_TEST(thirdparty_geoserver_tiger_roads)
{
    enum { W = 300, H = 100 };
    const char *names[] = {"NAME"};
    sb b = sb_new(names, 1);
    ts_value named = VS("Main Street"), unnamed = VN;
    sb_hline(&b, 10, 290, 60.5, &named);   /* axis on pixel row 39 */
    sb_hline(&b, 10, 290, 20.5, &unnamed); /* axis on pixel row 79 */
    scene sc;
    TS_REQUIRE(scene_init(&sc, "tiger_roads", load_tp("geoserver/tiger_roads.sld", 0),
                          sb_finish(&b), W, H) == 0);
    const rgb grey = over_white(0x666666, 1);
    int rows[2] = {39, 79};

    /* 1:50000: the thin line only; no labels */
    ts_canvas *c = draw(&sc, 50000);
    TS_REQUIRE(c != NULL);
    for (int k = 0; k < 2; k++) {
        int j = rows[k];
        CHECK_PIX(c, 30, j, grey, 2);         /* covered: [-0.5, 0.5] of the 2 px line */
        CHECK_PIX(c, 30, j - 1, over_white(0x666666, 0.5), 3); /* half covered */
        CHECK_PIX(c, 30, j - 3, WHITE, 0);     /* the 7 px casing is off */
        CHECK_PIX(c, 30, j + 3, WHITE, 0);
    }
    TS_CHECK_INT(count(c, 0, 0, W, H, is_black_text), 0);
    ts_canvas_free(c);

    /* exactly 1:32000: MinScaleDenominator is inclusive, MaxScaleDenominator exclusive */
    c = draw(&sc, 32000);
    TS_REQUIRE(c != NULL);
    CHECK_PIX(c, 30, 39, grey, 2);
    CHECK_PIX(c, 30, 36, WHITE, 0);
    TS_CHECK_INT(count(c, 0, 0, W, H, is_black_text), 0);
    ts_canvas_free(c);

    /* 1:10000: casing, white centre, label on the named road only */
    c = draw(&sc, 10000);
    TS_REQUIRE(c != NULL);
    for (int k = 0; k < 2; k++) {
        int j = rows[k];
        for (int i = 20; i < 280; i += 259) {    /* both ends, clear of the label */
            CHECK_PIX(c, i, j, WHITE, 0);        /* the white 4 px line on top */
            CHECK_PIX(c, i, j + 1, WHITE, 0);
            CHECK_PIX(c, i, j - 3, grey, 2);     /* [2.5, 3.5] from the axis: casing only */
            CHECK_PIX(c, i, j + 3, grey, 2);
            CHECK_PIX(c, i, j - 5, WHITE, 0);    /* beyond the 7 px casing */
            CHECK_PIX(c, i, j + 5, WHITE, 0);
        }
    }
    int text = count(c, 60, 20, 240, 60, is_black_text);
    TS_CHECK(text >= 40);                                          /* "Main Street" */
    TS_CHECK_INT(count(c, 0, 62, W, H, is_black_text), 0);        /* unnamed road */
    TS_CHECK_INT(count(c, 0, 0, W, 20, is_black_text), 0);
    ts_canvas_free(c);
    scene_fini(&sc);
}

/* ---- QGIS export (Kartoza topostyle): lclu_landcover_exp.sld ----------------------------- */

/* SE 1.1 with se: prefixes and SvgParameters, one rule per feat_type, all within
 * 1:1 .. 1:80000; Cultivated Land is a shape://times cross-hatching GraphicFill with a
 * dark green LineSymbolizer on the ring; Barren Lands has a stroke of opacity 0. */
TS_TEST(thirdparty_qgis_landcover)
{
    enum { W = 400, H = 200 };
    const char *names[] = {"feat_type"};
    sb b = sb_new(names, 1);
    const char *types[6] = {"Barren Lands",         "Built-up Land",      "Cultivated Land",
                            "Forest and Woodlands", "Forest Plantations", "Water"};
    /* 3 x 2 polygons of 110 x 80 px at x = 10, 140, 270, y = 110, 10 */
    for (int k = 0; k < 6; k++) {
        double x0 = 10 + 130 * (k % 3), y0 = k < 3 ? 110 : 10;
        ts_value v = VS(types[k]);
        sb_rect(&b, x0, y0, x0 + 110, y0 + 80, &v);
    }
    scene sc;
    TS_REQUIRE(scene_init(&sc, "landcover", load_tp("kartoza-topostyle/lclu_landcover_exp.sld", 0),
                          sb_finish(&b), W, H) == 0);
    const rgb fills[6] = {over_white(0xe0ccc0, 1), over_white(0x969696, 1), WHITE,
                          over_white(0xb1ccb4, 1), over_white(0xb1ccb4, 1), WHITE};
    const double scales[] = {1, 50000, 79999};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
        ts_canvas *c = draw(&sc, scales[s]);
        TS_REQUIRE(c != NULL);
        for (int k = 0; k < 6; k++) {
            int i0 = 10 + 130 * (k % 3), j0 = H - (k < 3 ? 190 : 90);
            if (k != 2) {
                CHECK_PIX(c, i0 + 10, j0 + 10, fills[k], 1);
                CHECK_PIX(c, i0 + 55, j0 + 40, fills[k], 1);
            }
        }
        /* Barren Lands: the stroke has opacity 0, nothing left of the edge */
        CHECK_PIX(c, 9, 50, WHITE, 0);
        /* Built-up Land: a light #f7f7f7 1 px outline over the grey, half a pixel inside */
        rgb e = pix(c, 140, 50);
        TS_CHECK(e.r > 0x96 + 30 && e.r < 0xf7);
        /* Forest and Woodlands: its 2 px outline in the fill colour widens it by 1 px */
        CHECK_PIX(c, 9, 150, over_white(0xb1ccb4, 1), 2);
        /* Cultivated Land: hatching of #b1ccb4 lines with white between them, nothing
         * darker than the hatch colour inside, and the dark green ring */
        int i0 = 270, j0 = 10;
        int inside = 100 * 70;
        int ink = count(c, i0 + 5, j0 + 5, i0 + 105, j0 + 75, is_not_white);
        int blank = count(c, i0 + 5, j0 + 5, i0 + 105, j0 + 75, is_white);
        TS_CHECK(ink > inside / 10 && blank > inside / 10);
        int darker = 0;
        for (int j = j0 + 5; j < j0 + 75; j++)
            for (int i = i0 + 5; i < i0 + 105; i++) {
                rgb p = pix(c, i, j);
                darker += p.r < 0xb1 - 3 || p.g < 0xcc - 3 || p.b < 0xb4 - 3;
            }
        TS_CHECK_INT(darker, 0);
        rgb ring = pix(c, i0 + 50, j0); /* the top edge, row j0 is half inside */
        TS_CHECK(ring.g > ring.r + 25 && ring.g > ring.b + 10 && ring.r < 170);
        /* Water matches no rule: its box is blank, outline included */
        TS_CHECK_INT(count(c, 270 - 2, 100 - 2, 380 + 2, 180 + 2, is_not_white), 0);
        ts_canvas_free(c);
    }
    /* MaxScaleDenominator 80000 is exclusive; beyond it nothing at all */
    const double off[] = {80000, 1e6, 0.5};
    for (size_t s = 0; s < sizeof off / sizeof off[0]; s++) {
        ts_canvas *c = draw(&sc, off[s]);
        TS_REQUIRE(c != NULL);
        TS_CHECK_INT(count(c, 0, 0, W, H, is_not_white), 0);
        ts_canvas_free(c);
    }
    scene_fini(&sc);
}

/* ---- QGIS export (Kartoza topostyle): hyps_elevation_lines_exp.sld ---------------------- */

static int
is_contour(rgb p) /* on the segment white -> #c79b89, at least 30 % of the way */
{
    if (p.r < 0xc7 - 3 || p.g < 0x9b - 3 || p.b < 0x89 - 3)
        return 0;
    double a = (255.0 - p.b) / (255.0 - 0x89);
    rgb q = over_white(0xc79b89, a);
    return a >= 0.3 && near(p, q, 6);
}

/* Contours by FEAT_TYPE within 1:20000 .. 1:80000: a 0.5 px line; depression contours as
 * 2 px square-capped dots ("0 9" dasharray) plus a 0.5 px line offset 4 px to the left;
 * a rule without filter labels every line with its height up to 1:50000 (followLine). */
TS_TEST(thirdparty_qgis_contours)
{
    enum { W = 400, H = 200 };
    const char *names[] = {"FEAT_TYPE", "height"};
    sb b = sb_new(names, 2);
    const ts_value v[3][2] = {{VS("Contour"), VI(120)},
                              {VS("Depression Contour"), VI(80)},
                              {VS("Index Contour"), VI(200)}}; /* no line rule */
    const double y[3] = {150.5, 90.5, 30.5};                  /* rows 49, 109, 169 */
    for (int k = 0; k < 3; k++)
        sb_hline(&b, 10, 390, y[k], v[k]);
    scene sc;
    TS_REQUIRE(scene_init(&sc, "contours",
                          load_tp("kartoza-topostyle/hyps_elevation_lines_exp.sld", 1),
                          sb_finish(&b), W, H) == 0);

    /* 1:30000: lines and labels */
    ts_canvas *c = draw(&sc, 30000);
    TS_REQUIRE(c != NULL);
    /* Contour: half a pixel of coverage on its axis row, nothing next to it */
    CHECK_PIX(c, 20, 49, over_white(0xc79b89, 0.5), 4);
    CHECK_PIX(c, 20, 47, WHITE, 0);
    CHECK_PIX(c, 20, 51, WHITE, 0);
    /* Depression Contour: dots along row 109 between gaps... */
    int dots = count(c, 20, 109, 110, 110, is_contour);
    int gaps = count(c, 20, 109, 110, 110, is_white);
    TS_CHECK(dots >= 10 && gaps >= 40);
    /* ...and the 0.5 px line 4 px to its left (up), none to its right */
    CHECK_PIX(c, 20, 105, over_white(0xc79b89, 0.5), 4);
    TS_CHECK_INT(count(c, 20, 112, 150, 116, is_not_white), 0);
    /* Index Contour: no line rule, but the label rule has no filter */
    TS_CHECK_INT(count(c, 10, 169, 60, 170, is_not_white), 0);
    for (int k = 0; k < 3; k++) {
        int j = H - (int)y[k];
        TS_CHECK(count(c, 150, j - 12, 250, j + 12, is_small_text) >= 8);
    }
    ts_canvas_free(c);

    /* 1:60000: lines, no labels */
    c = draw(&sc, 60000);
    TS_REQUIRE(c != NULL);
    CHECK_PIX(c, 20, 49, over_white(0xc79b89, 0.5), 4);
    TS_CHECK(count(c, 20, 109, 110, 110, is_contour) >= 10);
    TS_CHECK_INT(count(c, 0, 0, W, H, is_small_text), 0);
    ts_canvas_free(c);

    /* 1:10000: labels, no lines */
    c = draw(&sc, 10000);
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(count(c, 0, 0, W, H, is_contour), 0);
    TS_CHECK_INT(count(c, 0, 0, 100, H, is_not_white), 0);
    for (int k = 0; k < 3; k++) {
        int j = H - (int)y[k];
        TS_CHECK(count(c, 150, j - 12, 250, j + 12, is_small_text) >= 8);
    }
    ts_canvas_free(c);
    scene_fini(&sc);
}

/* ---- Rennes Métropole (GeoServer): ref_cad/parcelle.sld --------------------------------- */

/* A city's cadastral parcels: grey outlines whose width and opacity step down at
 * 1:2200, 1:9000 and 1:35000; parcel numbers (parcelle_txt, #606060) for every parcel up
 * to 1:2500, and between 1:2500 and 1:10000 only for parcels of supf >= 7500 m². */
TS_TEST(thirdparty_rennes_parcels)
{
    enum { W = 400, H = 200 };
    const char *names[] = {"supf", "parcelle_txt"};
    sb b = sb_new(names, 2);
    const ts_value v[4][2] = {{VI(12000), VS("AB 123")},
                              {VI(7500), VS("AB 124")},
                              {VI(7499), VS("AB 125")},
                              {VN, VS("AB 126")}};
    for (int k = 0; k < 4; k++) /* 80 x 80 px at x = 10, 110, 210, 310, y = 60 */
        sb_rect(&b, 10 + 100 * k, 60, 90 + 100 * k, 140, v[k]);
    scene sc;
    TS_REQUIRE(scene_init(&sc, "parcels", load_tp("rennes-metropole/parcelle.sld", 3),
                          sb_finish(&b), W, H) == 0);
    struct {
        double scale;
        double edge;   /* expected value left of the edge (stroke coverage x opacity) */
        int labelled;  /* bit k: parcel k has a number */
    } cases[] = {
        {1000, 255 - 0.375 * 1.0 * (255 - 0x9b), 0xf},  /* 0.75 px, opaque, size 12 */
        {2000, 255 - 0.375 * 1.0 * (255 - 0x9b), 0xf},  /* size 8 */
        {5000, 255 - 0.25 * 0.75 * (255 - 0x9b), 0x3}, /* 0.5 px at 0.75; supf >= 7500 */
        {20000, 255 - 0.075 * 0.5 * (255 - 0x9b), 0x0}, /* 0.15 px at 0.5; no numbers */
    };
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        ts_canvas *c = draw(&sc, cases[s].scale);
        TS_REQUIRE(c != NULL);
        for (int k = 0; k < 4; k++) {
            int i0 = 10 + 100 * k, j0 = 60;
            /* the 1 % (or 0.1 %) #ffeabe fill leaves the interior all but white */
            CHECK_PIX(c, i0 + 5, j0 + 5, WHITE, 2);
            rgb e = pix(c, i0 - 1, j0 + 40);
            if (fabs(e.r - cases[s].edge) > 4 || e.r != e.g || e.g != e.b)
                ts_test_fail(__FILE__, __LINE__, "1:%.0f parcel %d: edge #%02x%02x%02x, expected %.0f",
                             cases[s].scale, k, e.r, e.g, e.b, cases[s].edge);
            int text = count(c, i0 + 10, j0 + 20, i0 + 70, j0 + 60, is_grey_text);
            if (cases[s].labelled >> k & 1) {
                if (text < 8)
                    ts_test_fail(__FILE__, __LINE__, "1:%.0f parcel %d: no number (%d px)",
                                 cases[s].scale, k, text);
            } else if (text != 0) {
                ts_test_fail(__FILE__, __LINE__, "1:%.0f parcel %d: a number (%d px)",
                             cases[s].scale, k, text);
            }
        }
        ts_canvas_free(c);
    }
    /* the numbers shrink with the scale: size 12 at 1:1000 has more ink than 8 at 1:2000 */
    ts_canvas *c1 = draw(&sc, 1000), *c2 = draw(&sc, 2000);
    TS_REQUIRE(c1 != NULL && c2 != NULL);
    TS_CHECK(count(c1, 20, 80, 80, 120, is_grey_text) > count(c2, 20, 80, 80, 120, is_grey_text));
    ts_canvas_free(c1);
    ts_canvas_free(c2);
    /* beyond 1:35000 nothing */
    c1 = draw(&sc, 50000);
    TS_REQUIRE(c1 != NULL);
    TS_CHECK_INT(count(c1, 0, 0, W, H, is_not_white), 0);
    ts_canvas_free(c1);
    scene_fini(&sc);
}

/* ---- MobiData BW (GeoServer): mdbw_park-api_spots_occupancy.sld ------------------------ */

/* Parking spots by realtime_status with PropertyIsNotEqualTo on realtime_data_outdated
 * inside And: taken (red), unknown (blue), outdated (grey, drawn after the others, so it
 * covers an outdated unknown spot), available (green); 10 px circles with the default
 * 1 px black outline. */
TS_TEST(thirdparty_mobidata_parking_spots)
{
    enum { W = 400, H = 60 };
    const char *names[] = {"realtime_status", "realtime_data_outdated"};
    sb b = sb_new(names, 2);
    const ts_value v[9][2] = {
        {VS("TAKEN"), VS("false")},     {VS("TAKEN"), VS("true")},
        {VS("UNKNOWN"), VS("false")},   {VS("UNKNOWN"), VS("true")},
        {VS("AVAILABLE"), VB(0)},       /* a boolean column compares as "false" */
        {VS("AVAILABLE"), VB(1)},       {VS("FREE"), VS("false")}, /* no rule */
        {VS("AVAILABLE"), VN},          /* null: NotEqualTo is false as every comparison */
        {VN, VS("false")},
    };
    const uint32_t want[9] = {0xed0000, 0xcacaca, 0x615fdf, 0xcacaca, 0x059b02,
                              0xcacaca, 0,        0,        0};
    for (int k = 0; k < 9; k++)
        sb_point(&b, 20.5 + 40 * k, 30.5, v[k]); /* centre pixel (20 + 40k, 29) */
    scene sc;
    TS_REQUIRE(scene_init(&sc, "parking_spots",
                          load_tp("mobidata-bw/mdbw_park-api_spots_occupancy.sld", 0),
                          sb_finish(&b), W, H) == 0);
    ts_canvas *c = draw(&sc, 5000);
    TS_REQUIRE(c != NULL);
    for (int k = 0; k < 9; k++) {
        int i = 20 + 40 * k, j = 29;
        if (want[k] != 0) {
            CHECK_PIX(c, i, j, over_white(want[k], 1), 1);
            CHECK_PIX(c, i + 2, j - 2, over_white(want[k], 1), 1);
            rgb ring = pix(c, i + 5, j); /* [4.5, 5.5] from the centre: the outline */
            TS_CHECK(ring.r < 110 && ring.g < 110 && ring.b < 110);
            CHECK_PIX(c, i + 8, j, WHITE, 0);
        } else {
            TS_CHECK_INT(count(c, i - 10, j - 10, i + 10, j + 10, is_not_white), 0);
        }
    }
    ts_canvas_free(c);
    scene_fini(&sc);
}

/* ---- MobiData BW (GeoServer): mdbw_sharing_stations_default.sld ------------------------ */

/* Sharing stations: operators without realtime data by PropertyIsLike with wildCard "*",
 * singleChar "#", escape "!" or by name (blue); others with any vehicle available,
 * Not(Or(...)) And Or(PropertyIsGreaterThan ...) (yellow); the rest by ElseFilter
 * (orange). */
TS_TEST(thirdparty_mobidata_sharing_stations)
{
    enum { W = 480, H = 40 };
    const char *names[] = {"feed_id",
                           "num_cars_available",
                           "num_bicycles_available",
                           "num_scooters_available",
                           "num_cargo_bicycles_available",
                           "num_mopeds_available"};
    sb b = sb_new(names, 6);
    const uint32_t blue = 0x615fdf, yellow = 0xfffb05, orange = 0xffb805;
    struct {
        ts_value v[6];
        uint32_t want;
    } st[] = {
        {{VS("stadtmobil_karlsruhe"), VI(3), VI(0), VI(0), VI(0), VI(0)}, blue}, /* Like */
        {{VS("teilauto_neckar-alb"), VI(0), VI(0), VI(0), VI(0), VI(0)}, blue},
        {{VS("swu2go"), VN, VN, VN, VN, VN}, blue},                      /* EqualTo */
        {{VS("nextbike_bw"), VI(0), VI(4), VI(0), VI(0), VI(0)}, yellow},
        {{VS("nextbike_bw"), VI(0), VI(0), VI(0), VI(0), VI(0)}, orange}, /* ElseFilter */
        {{VS("my-e-car"), VI(2), VI(0), VI(0), VI(0), VI(0)}, orange}, /* excluded, not blue */
        {{VS("Stadtmobil_x"), VI(1), VN, VN, VN, VN}, yellow}, /* Like is case-sensitive */
        /* the first rule lists "gruene-flotte_freiburg", the second excludes
         * "gruene_flotte_freiburg": both rules apply, yellow is drawn last */
        {{VS("gruene-flotte_freiburg"), VI(1), VN, VN, VN, VN}, yellow},
        {{VS("tier_bw"), VN, VN, VI(5), VN, VN}, yellow},        /* scooters */
        {{VN, VN, VN, VN, VN, VI(1)}, yellow},                   /* null feed, a moped */
        {{VS("xstadtmobil"), VN, VN, VN, VN, VN}, orange},       /* Like is anchored */
        {{VS("stadtmobil"), VS("2"), VN, VN, VN, VN}, blue},     /* '*' matches nothing too */
    };
    int n = (int)(sizeof st / sizeof st[0]);
    for (int k = 0; k < n; k++)
        sb_point(&b, 20.5 + 40 * k, 20.5, st[k].v);
    scene sc;
    TS_REQUIRE(scene_init(&sc, "sharing_stations",
                          load_tp("mobidata-bw/mdbw_sharing_stations_default.sld", 0),
                          sb_finish(&b), W, H) == 0);
    ts_canvas *c = draw(&sc, 20000);
    TS_REQUIRE(c != NULL);
    for (int k = 0; k < n; k++) {
        int i = 20 + 40 * k, j = 19;
        CHECK_PIX(c, i, j, over_white(st[k].want, 1), 1);
        CHECK_PIX(c, i - 2, j + 2, over_white(st[k].want, 1), 1);
        rgb ring = pix(c, i, j - 5); /* the 0.5 px black outline darkens the rim */
        rgb fill = over_white(st[k].want, 1);
        TS_CHECK(ring.r < fill.r - 20 || ring.g < fill.g - 20 || ring.b < fill.b - 20);
        CHECK_PIX(c, i, j - 8, WHITE, 0);
    }
    ts_canvas_free(c);
    scene_fini(&sc);
}
