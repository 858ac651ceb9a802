/* tests/unit/test_style.c — SLD/SE parsing, filter evaluation, errors and hostile input. */
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "style/style.h"
#include "util/log.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static ts_style *
load_data(const char *name, ts_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/style/%s", ts_test_srcdir(), name);
    return ts_style_load(path, err);
}

static ts_style *
load_demo(const char *name, ts_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/styles/%s", ts_test_srcdir(), name);
    return ts_style_load(path, err);
}

static ts_style *
parse_str(const char *xml, ts_err *err)
{
    return ts_style_parse(xml, strlen(xml), "inline.sld", err);
}

static const char *
fmt_err(const ts_err *err)
{
    static char buf[1024];
    return ts_err_format(err, buf, sizeof buf);
}

static int
contains(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}

#define RGB_IS(c, R, G, B)                                                                         \
    do {                                                                                           \
        TS_CHECK_INT((c).r, R);                                                                    \
        TS_CHECK_INT((c).g, G);                                                                    \
        TS_CHECK_INT((c).b, B);                                                                    \
        TS_CHECK_INT((c).a, 255);                                                                  \
    } while (0)

/* A feature: attribute names -> values, resolved through the style's property table. */
typedef struct kv {
    const char *name;
    ts_value v;
} kv;

typedef struct feat {
    const ts_style *s;
    const kv *kvs;
    int n;
} feat;

static const ts_value *
feat_get(const void *ctx, int prop)
{
    const feat *f = ctx;
    if (prop < 0 || prop >= f->s->nprops)
        return NULL;
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->kvs[i].name, f->s->props[prop]) == 0)
            return &f->kvs[i].v;
    return NULL;
}

static int
eval_with(const ts_style *s, const ts_filter *flt, const kv *kvs, int n)
{
    feat f = {s, kvs, n};
    ts_feature_ref ref = {feat_get, &f, {0, 0, 0, 0}};
    return ts_filter_eval(flt, &ref);
}

#define VI(x) ((ts_value){.type = TS_VAL_INT, .u.i = (x)})
#define VR(x) ((ts_value){.type = TS_VAL_REAL, .u.d = (x)})
#define VS(x) ((ts_value){.type = TS_VAL_STR, .u.s = (x)})
#define VB(x) ((ts_value){.type = TS_VAL_BOOL, .u.i = (x)})
#define VN ((ts_value){.type = TS_VAL_NULL})

static const char *doc_head =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>t</Name><UserStyle><FeatureTypeStyle><Rule>\n";
static const char *doc_tail = "</Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
                              "</StyledLayerDescriptor>\n";

/* Parse a one-rule style whose rule body is `body`. */
static ts_style *
parse_rule_body(const char *body, ts_err *err)
{
    size_t n = strlen(doc_head) + strlen(body) + strlen(doc_tail) + 1;
    char *xml = malloc(n);
    if (xml == NULL)
        return NULL;
    snprintf(xml, n, "%s%s%s", doc_head, body, doc_tail);
    ts_style *s = parse_str(xml, err);
    free(xml);
    return s;
}

/* Evaluate one filter (the XML inside <ogc:Filter>) against one feature: 1/0, or -1 if the
 * filter does not compile. */
static int
eval1(const char *filter_xml, const kv *kvs, int n)
{
    char body[4096];
    snprintf(body, sizeof body, "<ogc:Filter>%s</ogc:Filter>", filter_xml);
    ts_err err;
    ts_err_clear(&err);
    ts_style *s = parse_rule_body(body, &err);
    if (s == NULL) {
        fprintf(stderr, "    filter did not compile: %s\n", fmt_err(&err));
        return -1;
    }
    int r = eval_with(s, s->fts[0].rules[0].filter, kvs, n);
    ts_style_unref(s);
    return r;
}

#define CMP(op, prop, lit) "<ogc:" op "><ogc:PropertyName>" prop "</ogc:PropertyName><ogc:Literal>" lit "</ogc:Literal></ogc:" op ">"
#define CMP_MC(op, mc, prop, lit) "<ogc:" op " matchCase=\"" mc "\"><ogc:PropertyName>" prop "</ogc:PropertyName><ogc:Literal>" lit "</ogc:Literal></ogc:" op ">"

/* Expect a refusal with status st at input line ln whose message contains needle. */
static void
expect_error(const char *xml, ts_status st, int ln, const char *needle, const char *file, int line)
{
    ts_err err;
    ts_err_clear(&err);
    ts_style *s = parse_str(xml, &err);
    if (s != NULL) {
        ts_test_fail(file, line, "style was accepted");
        ts_style_unref(s);
        return;
    }
    if (err.code != st)
        ts_test_fail(file, line, "status %s, expected %s (%s)", ts_status_name(err.code),
                     ts_status_name(st), fmt_err(&err));
    if (ln > 0 && err.input_line != ln)
        ts_test_fail(file, line, "line %d, expected %d (%s)", err.input_line, ln, fmt_err(&err));
    if (strcmp(err.input, "inline.sld") != 0)
        ts_test_fail(file, line, "input '%s'", err.input);
    if (needle && !contains(err.msg, needle))
        ts_test_fail(file, line, "message '%s' lacks '%s'", err.msg, needle);
}
#define EXPECT_ERROR(xml, st, ln, needle) expect_error((xml), (st), (ln), (needle), __FILE__, __LINE__)

static void
expect_rule_error(const char *body, ts_status st, const char *needle, const char *file, int line)
{
    size_t n = strlen(doc_head) + strlen(body) + strlen(doc_tail) + 1;
    char *xml = malloc(n);
    snprintf(xml, n, "%s%s%s", doc_head, body, doc_tail);
    expect_error(xml, st, 0, needle, file, line);
    free(xml);
}
#define EXPECT_RULE_ERROR(body, st, needle) expect_rule_error((body), (st), (needle), __FILE__, __LINE__)

/* ---- the demo styles ---------------------------------------------------------------------- */

TS_TEST(style_demo_files_parse_without_warnings)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/styles", ts_test_srcdir());
    DIR *d = opendir(dir);
    TS_REQUIRE(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".sld") != 0)
            continue;
        ts_err err;
        ts_err_clear(&err);
        ts_style *s = load_demo(e->d_name, &err);
        if (s == NULL) {
            ts_test_fail(__FILE__, __LINE__, "%s: %s", e->d_name, fmt_err(&err));
            continue;
        }
        n++;
        if (s->nwarnings != 0)
            ts_test_fail(__FILE__, __LINE__, "%s: %d warnings", e->d_name, s->nwarnings);
        TS_CHECK(s->nfts >= 1);
        for (int f = 0; f < s->nfts; f++)
            for (int r = 0; r < s->fts[f].nrules; r++) {
                const ts_rule *rule = &s->fts[f].rules[r];
                if (rule->name == NULL || rule->title == NULL || !rule->name[0] || !rule->title[0])
                    ts_test_fail(__FILE__, __LINE__, "%s: rule %d lacks Name/Title", e->d_name, r);
                TS_CHECK(rule->nsyms >= 1);
            }
        ts_style_unref(s);
    }
    closedir(d);
    TS_CHECK(n >= 5);
}

TS_TEST(style_demo_parcels_and_buildings)
{
    ts_err err;
    ts_style *s = load_demo("parcels.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(s->name, "parcels");
    TS_CHECK(contains(s->path, "styles/parcels.sld"));
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 1);
    const ts_rule *r = &s->fts[0].rules[0];
    TS_CHECK(r->filter == NULL);
    TS_CHECK(!r->is_else);
    TS_CHECK_NEAR(r->min_scale, 0, 0);
    TS_CHECK(isinf(r->max_scale));
    TS_CHECK(ts_rule_in_scale(r, 1000.0));
    TS_REQUIRE(r->nsyms == 1);
    const ts_symbolizer *y = &r->syms[0];
    TS_CHECK_INT(y->kind, TS_SYM_POLYGON);
    TS_CHECK(y->has_fill);
    RGB_IS(y->fill, 0xfb, 0xf7, 0xec);
    TS_CHECK_NEAR(y->fill_opacity, 1.0, 0);
    TS_CHECK(y->has_stroke);
    RGB_IS(y->stroke_color, 0x5a, 0x5a, 0x5a);
    TS_CHECK_NEAR(y->stroke.width, 0.5, 0);
    TS_CHECK_NEAR(y->stroke_opacity, 1.0, 0);
    TS_CHECK_INT(y->stroke.ndash, 0);
    TS_CHECK_INT(s->nprops, 0);
    ts_style_unref(s);

    s = load_demo("buildings.sld", &err);
    TS_REQUIRE(s != NULL);
    y = &s->fts[0].rules[0].syms[0];
    RGB_IS(y->fill, 0xbe, 0xbb, 0xb7);
    RGB_IS(y->stroke_color, 0x64, 0x61, 0x5d);
    TS_CHECK_NEAR(y->stroke.width, 0.5, 0);
    ts_style_unref(s);
}

TS_TEST(style_demo_streets_rules_by_class)
{
    static const struct {
        const char *cls;
        uint8_t r, g, b;
        double w;
    } want[] = {{"motorway", 0xe9, 0x80, 0x8e, 6},
                {"primary", 0xfd, 0xc7, 0x7e, 4},
                {"secondary", 0xff, 0xf2, 0xb0, 3},
                {"residential", 0xff, 0xff, 0xff, 2}};
    ts_err err;
    ts_style *s = load_demo("streets.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 4);
    TS_CHECK_INT(s->nprops, 1);
    TS_CHECK_STR(s->props[0], "class");
    TS_CHECK_INT(ts_style_prop_index(s, "class"), 0);
    TS_CHECK_INT(ts_style_prop_index(s, "name"), -1);
    for (int i = 0; i < 4; i++) {
        const ts_rule *r = &s->fts[0].rules[i];
        TS_CHECK_STR(r->name, want[i].cls);
        TS_REQUIRE(r->filter != NULL && r->nsyms == 1);
        TS_CHECK_INT(r->filter->op, TS_FILTER_EQ);
        TS_CHECK_INT(r->filter->a->op, TS_EXPR_PROPERTY);
        TS_CHECK_INT(r->filter->a->prop, 0);
        TS_CHECK_INT(r->filter->b->op, TS_EXPR_LITERAL);
        TS_CHECK_INT(r->filter->b->lit.type, TS_VAL_STR);
        TS_CHECK_STR(r->filter->b->lit.u.s, want[i].cls);
        const ts_symbolizer *y = &r->syms[0];
        TS_CHECK_INT(y->kind, TS_SYM_LINE);
        TS_CHECK(y->has_stroke);
        TS_CHECK(!y->has_fill);
        RGB_IS(y->stroke_color, want[i].r, want[i].g, want[i].b);
        TS_CHECK_NEAR(y->stroke.width, want[i].w, 0);
        TS_CHECK_INT(y->stroke.cap, TS_CAP_ROUND);
        TS_CHECK_INT(y->stroke.join, TS_JOIN_ROUND);
        /* exactly one rule matches each class */
        for (int j = 0; j < 4; j++) {
            kv f[] = {{"class", VS(want[j].cls)}};
            TS_CHECK_INT(eval_with(s, r->filter, f, 1), i == j);
        }
        kv none[] = {{"class", VN}};
        TS_CHECK_INT(eval_with(s, r->filter, none, 1), 0);
    }
    ts_style_unref(s);
}

TS_TEST(style_demo_parking_and_air)
{
    ts_err err;
    ts_style *s = load_demo("parking.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_REQUIRE(s->fts[0].nrules == 2);
    const ts_symbolizer *y = &s->fts[0].rules[0].syms[0];
    TS_CHECK_INT(y->kind, TS_SYM_POINT);
    TS_CHECK_INT(y->mark, TS_MARK_CIRCLE);
    TS_CHECK_NEAR(y->size, 6, 0);
    RGB_IS(y->fill, 0x2c, 0xa0, 0x2c);
    RGB_IS(y->stroke_color, 0xff, 0xff, 0xff);
    TS_CHECK_NEAR(y->stroke.width, 1, 0);
    RGB_IS(s->fts[0].rules[1].syms[0].fill, 0xd6, 0x27, 0x28);
    kv free_bay[] = {{"state", VS("free")}};
    TS_CHECK_INT(eval_with(s, s->fts[0].rules[0].filter, free_bay, 1), 1);
    TS_CHECK_INT(eval_with(s, s->fts[0].rules[1].filter, free_bay, 1), 0);
    ts_style_unref(s);

    s = load_demo("air.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_REQUIRE(s->fts[0].nrules == 4);
    static const uint8_t cols[4][3] = {
        {0x1a, 0x98, 0x50}, {0xfe, 0xe0, 0x8b}, {0xfc, 0x8d, 0x59}, {0xd7, 0x30, 0x27}};
    for (int i = 0; i < 4; i++) {
        y = &s->fts[0].rules[i].syms[0];
        TS_CHECK_INT(y->mark, TS_MARK_CIRCLE);
        TS_CHECK_NEAR(y->size, 12, 0);
        RGB_IS(y->fill, cols[i][0], cols[i][1], cols[i][2]);
        RGB_IS(y->stroke_color, 0x33, 0x33, 0x33);
        TS_CHECK_NEAR(y->stroke.width, 1, 0);
    }
    TS_CHECK_INT(s->fts[0].rules[1].filter->op, TS_FILTER_AND);
    /* each NO2 value falls in exactly one class; the boundaries go up */
    static const struct {
        double no2;
        int cls;
    } cases[] = {{4.0, 0},  {19.9, 0}, {20.0, 1}, {39.99, 1}, {40.0, 2},
                 {59.9, 2}, {60.0, 3}, {95.0, 3}, {-1, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        kv f[] = {{"no2", VR(cases[k].no2)}};
        for (int i = 0; i < 4; i++)
            if (eval_with(s, s->fts[0].rules[i].filter, f, 1) != (i == cases[k].cls))
                ts_test_fail(__FILE__, __LINE__, "no2=%g rule %d", cases[k].no2, i);
    }
    kv nul[] = {{"no2", VN}};
    for (int i = 0; i < 4; i++)
        TS_CHECK_INT(eval_with(s, s->fts[0].rules[i].filter, nul, 1), 0);
    kv sint[] = {{"no2", VI(40)}};
    TS_CHECK_INT(eval_with(s, s->fts[0].rules[2].filter, sint, 1), 1);
    kv sstr[] = {{"no2", VS("45.5")}};
    TS_CHECK_INT(eval_with(s, s->fts[0].rules[2].filter, sstr, 1), 1);
    ts_style_unref(s);
}

/* ---- realistic exports -------------------------------------------------------------------- */

TS_TEST(style_qgis_se11_lines)
{
    ts_err err;
    ts_style *s = load_data("qgis_roads.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_CHECK_STR(s->name, "roads");
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 3);
    const ts_rule *r = &s->fts[0].rules[0];
    TS_CHECK_STR(r->name, "Motorway");
    TS_CHECK_STR(r->title, "Motorway");
    TS_REQUIRE(r->nsyms == 1);
    TS_CHECK_INT(r->syms[0].stroke.join, TS_JOIN_BEVEL);
    TS_CHECK_INT(r->syms[0].stroke.cap, TS_CAP_SQUARE);
    TS_CHECK_NEAR(r->syms[0].stroke.width, 6, 0);

    r = &s->fts[0].rules[1];
    TS_CHECK_STR(r->title, "Track (dashed)");
    TS_CHECK_NEAR(r->min_scale, 1000, 0);
    TS_CHECK_NEAR(r->max_scale, 25000, 0);
    TS_CHECK(!ts_rule_in_scale(r, 999.9));
    TS_CHECK(ts_rule_in_scale(r, 1000));
    TS_CHECK(ts_rule_in_scale(r, 24999));
    TS_CHECK(!ts_rule_in_scale(r, 25000));
    TS_REQUIRE(r->nsyms == 2);
    const ts_symbolizer *y = &r->syms[0];
    RGB_IS(y->stroke_color, 0x8b, 0x45, 0x13);
    TS_CHECK_NEAR(y->stroke.width, 1.5, 0);
    TS_CHECK_NEAR(y->stroke_opacity, 0.8, 1e-12);
    TS_REQUIRE(y->stroke.ndash == 2);
    TS_CHECK_NEAR(y->stroke.dash[0], 7, 0);
    TS_CHECK_NEAR(y->stroke.dash[1], 3, 0);
    y = &r->syms[1];
    TS_CHECK_NEAR(y->perpendicular_offset, -2.5, 0);
    TS_CHECK_NEAR(y->stroke.dash_offset, 2, 0);
    TS_REQUIRE(y->stroke.ndash == 6); /* odd list repeated, as SVG */
    static const double dash[6] = {1, 2, 3, 1, 2, 3};
    for (int k = 0; k < 6; k++)
        TS_CHECK_NEAR(y->stroke.dash[k], dash[k], 0);
    TS_CHECK_INT(y->stroke.join, TS_JOIN_MITER); /* defaults */
    TS_CHECK_INT(y->stroke.cap, TS_CAP_BUTT);

    r = &s->fts[0].rules[2];
    TS_CHECK(r->is_else);
    TS_CHECK(r->filter == NULL);
    RGB_IS(r->syms[0].stroke_color, 0xaa, 0xaa, 0xaa);
    ts_style_unref(s);
}

TS_TEST(style_qgis_se11_points)
{
    ts_err err;
    ts_style *s = load_data("qgis_stations.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 2);
    TS_CHECK_STR(s->fts[0].rules[0].title, "4 - 20");
    const ts_symbolizer *y = &s->fts[0].rules[1].syms[0];
    TS_CHECK_INT(y->kind, TS_SYM_POINT);
    TS_CHECK_INT(y->mark, TS_MARK_STAR);
    RGB_IS(y->fill, 0xd7, 0x30, 0x27);
    TS_CHECK_NEAR(y->fill_opacity, 0.5, 0);
    RGB_IS(y->stroke_color, 0x23, 0x23, 0x23);
    TS_CHECK_NEAR(y->stroke_opacity, 0.75, 0);
    TS_CHECK_NEAR(y->stroke.width, 0.5, 0);
    TS_CHECK_NEAR(y->opacity, 0.9, 1e-12);
    TS_CHECK_NEAR(y->size, 14, 0);      /* <ogc:Literal> inside <se:Size> */
    TS_CHECK_NEAR(y->rotation, 45, 0);
    /* QGIS' graduated classes share the 20 boundary: <= 20 first, > 20 second */
    kv at20[] = {{"no2", VR(20.0)}};
    TS_CHECK_INT(eval_with(s, s->fts[0].rules[0].filter, at20, 1), 1);
    TS_CHECK_INT(eval_with(s, s->fts[0].rules[1].filter, at20, 1), 0);
    ts_style_unref(s);
}

TS_TEST(style_geoserver_sld10)
{
    ts_err err;
    ts_style *s = load_data("geoserver_landuse.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(s->name, "landuse"); /* the IsDefault one, not the first */
    TS_CHECK_STR(s->title, "Land use");
    TS_CHECK_INT(s->nwarnings, 1);    /* the FeatureTypeStyle's VendorOption */
    TS_REQUIRE(s->nfts == 2);
    TS_REQUIRE(s->fts[0].nrules == 3);
    TS_CHECK_STR(s->fts[1].name, "outline");

    const ts_rule *r = &s->fts[0].rules[0];
    TS_CHECK_STR(r->name, "parks");
    TS_CHECK_STR(r->title, "Parks & Gr\xc3\xbcnfl\xc3\xa4" "chen"); /* Latin-1 -> UTF-8 */
    TS_CHECK_STR(r->abstract_text, "Everything green");
    TS_CHECK_NEAR(r->min_scale, 0, 0);
    TS_CHECK_NEAR(r->max_scale, 50000, 0);
    TS_REQUIRE(r->nsyms == 2); /* the fill and the label */
    RGB_IS(r->syms[0].fill, 0xa8, 0xd0, 0x8d);
    TS_CHECK_INT(r->syms[1].kind, TS_SYM_TEXT);
    TS_REQUIRE(r->syms[1].text != NULL && r->syms[1].label != NULL);
    TS_CHECK_INT(r->syms[1].text->nfont_family, 1);
    TS_CHECK_STR(r->syms[1].text->font_family[0], "DejaVu Sans");
    TS_CHECK_NEAR(r->syms[0].fill_opacity, 0.7, 1e-12);
    TS_CHECK(!r->syms[0].has_stroke);
    TS_REQUIRE(r->filter && r->filter->op == TS_FILTER_OR && r->filter->nkids == 2);
    TS_CHECK_INT(r->filter->kids[0]->op, TS_FILTER_LIKE);
    TS_CHECK_STR(r->filter->kids[0]->like_pattern, "%park%");
    TS_CHECK_INT(r->filter->kids[1]->match_case, 0);
    kv a[] = {{"name", VS("Hofgarten")}, {"kind", VS("garden")}};
    kv b[] = {{"name", VS("Volksgarten park")}, {"kind", VN}};
    kv c[] = {{"name", VS("Rheinufer")}, {"kind", VS("promenade")}};
    TS_CHECK_INT(eval_with(s, r->filter, a, 2), 1);
    TS_CHECK_INT(eval_with(s, r->filter, b, 2), 1);
    TS_CHECK_INT(eval_with(s, r->filter, c, 2), 0);

    r = &s->fts[0].rules[1];
    TS_CHECK_NEAR(r->min_scale, 5000, 0);
    TS_CHECK_NEAR(r->max_scale, 100000, 0);
    const ts_symbolizer *y = &r->syms[0];
    RGB_IS(y->fill, 0xe0, 0xb0, 0xa0);
    RGB_IS(y->stroke_color, 0x80, 0x50, 0x40);
    TS_CHECK_NEAR(y->stroke.width, 0.25, 0);
    TS_CHECK_INT(y->stroke.join, TS_JOIN_MITER);
    TS_CHECK_INT(y->stroke.cap, TS_CAP_BUTT);
    kv d1[] = {{"density", VI(500)}, {"kind", VS("residential")}};
    kv d2[] = {{"density", VI(501)}, {"kind", VS("residential")}};
    kv d3[] = {{"density", VI(100)}};
    kv d4[] = {{"density", VS("250")}, {"kind", VS("x")}};
    TS_CHECK_INT(eval_with(s, r->filter, d1, 2), 1); /* upper bound 2.5*200 inclusive */
    TS_CHECK_INT(eval_with(s, r->filter, d2, 2), 0);
    TS_CHECK_INT(eval_with(s, r->filter, d3, 1), 0); /* kind missing -> null */
    TS_CHECK_INT(eval_with(s, r->filter, d4, 2), 1);

    r = &s->fts[0].rules[2];
    TS_CHECK(r->is_else);
    y = &r->syms[0];
    TS_CHECK(!y->has_fill); /* no Fill element: no fill */
    TS_CHECK(y->has_stroke);
    RGB_IS(y->stroke_color, 0, 0, 0); /* empty Stroke: SLD defaults */
    TS_CHECK_NEAR(y->stroke.width, 1, 0);

    r = &s->fts[1].rules[0];
    TS_CHECK_NEAR(r->syms[0].stroke.width, 2, 0); /* value surrounded by whitespace */

    /* property table: deduplicated, in order of first use */
    TS_CHECK_INT(s->nprops, 3);
    TS_CHECK_INT(ts_style_prop_index(s, "name"), 0);
    TS_CHECK_INT(ts_style_prop_index(s, "kind"), 1);
    TS_CHECK_INT(ts_style_prop_index(s, "density"), 2);
    ts_style_unref(s);
}

TS_TEST(style_fill_defaults_grey)
{
    ts_err err;
    /* Fill without parameters is 50% grey */
    ts_style *s = parse_rule_body("<PolygonSymbolizer><Fill/></PolygonSymbolizer>"
                        "<PointSymbolizer/>",
                        &err);
    TS_REQUIRE(s != NULL);
    const ts_rule *r = &s->fts[0].rules[0];
    TS_REQUIRE(r->nsyms == 2);
    TS_CHECK(r->syms[0].has_fill);
    RGB_IS(r->syms[0].fill, 0x80, 0x80, 0x80);
    TS_CHECK(!r->syms[0].has_stroke);
    /* PointSymbolizer without Graphic: grey square with black outline, 6 px */
    TS_CHECK_INT(r->syms[1].mark, TS_MARK_SQUARE);
    TS_CHECK_NEAR(r->syms[1].size, 6, 0);
    TS_CHECK(r->syms[1].has_fill && r->syms[1].has_stroke);
    RGB_IS(r->syms[1].fill, 0x80, 0x80, 0x80);
    RGB_IS(r->syms[1].stroke_color, 0, 0, 0);
    TS_CHECK_NEAR(r->syms[1].opacity, 1, 0);
    ts_style_unref(s);

    /* a Mark without Fill/Stroke draws neither (GeoTools does the same) */
    s = parse_rule_body("<PointSymbolizer><Graphic><Mark><WellKnownName>X</WellKnownName>"
                        "<Stroke><CssParameter name=\"stroke\">#F00</CssParameter></Stroke>"
                        "</Mark></Graphic></PointSymbolizer>",
                        &err);
    TS_REQUIRE(s != NULL);
    const ts_symbolizer *y = &s->fts[0].rules[0].syms[0];
    TS_CHECK_INT(y->mark, TS_MARK_X);
    TS_CHECK(!y->has_fill);
    TS_CHECK(y->has_stroke);
    RGB_IS(y->stroke_color, 0xff, 0, 0);
    ts_style_unref(s);

    /* the names QGIS writes for its simple markers (the symbolizer was skipped) */
    static const struct {
        const char *name;
        ts_mark_shape mark;
    } qgis[] = {{"diamond", TS_MARK_DIAMOND},   {"pentagon", TS_MARK_PENTAGON},
                {"hexagon", TS_MARK_HEXAGON},   {"octagon", TS_MARK_OCTAGON},
                {"decagon", TS_MARK_DECAGON},   {"equilateral_triangle", TS_MARK_TRIANGLE},
                {"cross_fill", TS_MARK_CROSS},  {"rounded_square", TS_MARK_SQUARE}};
    for (size_t k = 0; k < sizeof qgis / sizeof qgis[0]; k++) {
        char body[512];
        snprintf(body, sizeof body,
                 "<PointSymbolizer><Graphic><Mark><WellKnownName>%s</WellKnownName><Fill/>"
                 "</Mark></Graphic></PointSymbolizer>",
                 qgis[k].name);
        s = parse_rule_body(body, &err);
        TS_REQUIRE(s != NULL);
        TS_REQUIRE(s->fts[0].rules[0].nsyms == 1);
        TS_CHECK_INT(s->fts[0].rules[0].syms[0].mark, qgis[k].mark);
        ts_style_unref(s);
    }
    /* QGIS's cross2 is an x of strokes: shape://times */
    s = parse_rule_body("<PointSymbolizer><Graphic><Mark><WellKnownName>cross2</WellKnownName>"
                        "<Stroke/></Mark></Graphic></PointSymbolizer>",
                        &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->fts[0].rules[0].syms[0].graphic->shape, TS_SHAPE_TIMES);
    ts_style_unref(s);
}

TS_TEST(style_unsupported_elements_warn_and_keep_rule)
{
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR); /* the 13 expected warnings need not clutter the output */
    ts_err err;
    ts_style *s = load_data("unsupported.sld", &err);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 13);
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 3);
    const ts_rule *r = &s->fts[0].rules[0];
    TS_REQUIRE(r->nsyms == 2);
    /* a GraphicFill of a font mark cannot be drawn: the colour beside it is */
    TS_CHECK(r->syms[0].fill_graphic == NULL);
    TS_CHECK(r->syms[0].has_fill);
    RGB_IS(r->syms[0].fill, 0xff, 0, 0);
    TS_CHECK(r->syms[0].has_stroke);
    /* a pattern-filled outline: no outline at all, not a default black one */
    TS_CHECK(r->syms[1].has_fill);
    TS_CHECK(!r->syms[1].has_stroke);
    TS_CHECK(r->syms[1].stroke_graphic == NULL);
    r = &s->fts[0].rules[1];
    TS_REQUIRE(r->nsyms == 2);
    TS_CHECK(r->syms[0].has_stroke);
    RGB_IS(r->syms[0].stroke_color, 0, 0xff, 0);
    RGB_IS(r->syms[1].stroke_color, 0x12, 0x34, 0x56);
    r = &s->fts[0].rules[2];
    /* the SVG alternative skipped for the Mark; the inline-only point and the label with
     * an unknown function skipped; the shield of the other label ignored; no raster */
    TS_REQUIRE(r->nsyms == 2);
    TS_CHECK_INT(r->syms[0].kind, TS_SYM_POINT);
    TS_CHECK_INT(r->syms[0].mark, TS_MARK_TRIANGLE);
    TS_CHECK_INT(r->syms[0].graphic->image, -1);
    TS_CHECK_NEAR(r->syms[0].size, 9, 0);
    TS_CHECK(r->syms[0].has_fill);
    TS_CHECK(!r->syms[0].has_stroke);
    TS_CHECK_INT(r->syms[1].kind, TS_SYM_TEXT);
    TS_CHECK(r->syms[1].label != NULL);
    TS_CHECK_INT(s->nimages, 0); /* pin.svg was never looked for */
    ts_style_unref(s);
}

TS_TEST(style_multi_layer_document)
{
    static const struct {
        const char *layer, *style;
        int nrules;
    } want[] = {{"parcels", "parcels", 1},
                {"buildings", "buildings", 1},
                {"streets", "streets", 4},
                {"parking_bays", "parking", 2},
                {"air_stations", "air", 4}};
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/style/cadastre.sld", ts_test_srcdir());
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ts_err err;
        ts_style *s = ts_style_load_layer(path, want[i].layer, &err);
        TS_REQUIRE(s != NULL);
        TS_CHECK_STR(s->name, want[i].style);
        TS_CHECK_INT(s->nwarnings, 0);
        TS_CHECK_INT(s->fts[0].nrules, want[i].nrules);
        ts_style_unref(s);
    }
    /* air_stations: And of two comparisons, in the same table as the file in styles/ */
    ts_err err;
    ts_style *s = ts_style_load_layer(path, "air_stations", &err);
    TS_REQUIRE(s != NULL);
    const ts_filter *f = s->fts[0].rules[2].filter;
    TS_REQUIRE(f->op == TS_FILTER_AND && f->nkids == 2);
    TS_CHECK_INT(f->kids[0]->op, TS_FILTER_GE);
    TS_CHECK_INT(f->kids[0]->b->lit.type, TS_VAL_INT);
    TS_CHECK_INT(f->kids[0]->b->lit.u.i, 40);
    TS_CHECK_INT(f->kids[1]->op, TS_FILTER_LT);
    TS_CHECK_INT(f->kids[1]->b->lit.u.i, 60);
    ts_style_unref(s);

    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR);
    s = ts_style_load(path, &err); /* no layer given: the first, the others are warned about */
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(s->name, "parcels");
    TS_CHECK_INT(s->nwarnings, 4);
    ts_style_unref(s);

    TS_CHECK(ts_style_load_layer(path, "rivers", &err) == NULL);
    TS_CHECK_INT(err.code, TS_ENOENT);
    TS_CHECK(contains(err.msg, "rivers"));
}

/* ---- filters: truth tables --------------------------------------------------------------- */

TS_TEST(style_filter_equality_numeric_vs_string)
{
    kv i20[] = {{"v", VI(20)}};
    kv r20[] = {{"v", VR(20.0)}};
    kv s20[] = {{"v", VS("20")}};
    kv s20_0[] = {{"v", VS("20.0")}};
    kv s20sp[] = {{"v", VS(" 20 ")}};
    kv sabc[] = {{"v", VS("abc")}};
    kv sABC[] = {{"v", VS("ABC")}};
    kv nul[] = {{"v", VN}};
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "20"), i20, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "20"), r20, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "20"), s20, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "20"), s20_0, 1), 1);  /* numeric */
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "20"), s20sp, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "2e1"), i20, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "20.000"), i20, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "21"), i20, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "abc"), sabc, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "abc"), sABC, 1), 0);
    TS_CHECK_INT(eval1(CMP_MC("PropertyIsEqualTo", "false", "v", "abc"), sABC, 1), 1);
    TS_CHECK_INT(eval1(CMP_MC("PropertyIsEqualTo", "true", "v", "abc"), sABC, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "abc"), i20, 1), 0); /* "20" vs "abc" */
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "abc"), nul, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "abc"), NULL, 0), 0); /* missing */
    TS_CHECK_INT(eval1(CMP("PropertyIsNotEqualTo", "v", "abc"), nul, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsNotEqualTo", "v", "abc"), NULL, 0), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsNotEqualTo", "v", "abc"), sABC, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsNotEqualTo", "v", "20"), s20_0, 1), 0);
    /* hex, inf and nan are not numbers: compared as strings */
    kv s16[] = {{"v", VS("16")}};
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "0x10"), s16, 1), 0);
    kv snan[] = {{"v", VS("nan")}};
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "nan"), snan, 1), 1);
    /* exact 64-bit integers (not rounded through double) */
    kv big[] = {{"v", VI(9007199254740993LL)}};
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "9007199254740993"), big, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "9007199254740992"), big, 1), 0);
    /* booleans: 1/0 as numbers, true/false as text */
    kv bt[] = {{"v", VB(1)}};
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "true"), bt, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "1"), bt, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsEqualTo", "v", "false"), bt, 1), 0);
    /* property against property */
    kv pp[] = {{"a", VS("7")}, {"b", VR(7.0)}};
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo><ogc:PropertyName>a</ogc:PropertyName>"
                       "<ogc:PropertyName>b</ogc:PropertyName></ogc:PropertyIsEqualTo>",
                       pp, 2),
                 1);
}

TS_TEST(style_filter_ordering)
{
    kv s10[] = {{"v", VS("10")}};
    kv sx9[] = {{"v", VS("x9")}};
    kv i10[] = {{"v", VI(10)}};
    kv r95[] = {{"v", VR(9.5)}};
    kv nul[] = {{"v", VN}};
    /* numeric, not lexicographic, when both read as numbers */
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "9"), s10, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThan", "v", "9"), s10, 1), 1);
    /* strings otherwise (byte order) */
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "10"), sx9, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "abc"), i10, 1), 1);  /* "10" < "abc" */
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "abd"), (kv[]){{"v", VS("abc")}}, 1), 1);
    TS_CHECK_INT(eval1(CMP_MC("PropertyIsLessThan", "false", "v", "abd"),
                       (kv[]){{"v", VS("ABC")}}, 1),
                 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "abd"), (kv[]){{"v", VS("ABE")}}, 1), 1);
    /* boundaries */
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThanOrEqualTo", "v", "10"), i10, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "10"), i10, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThanOrEqualTo", "v", "10.0"), i10, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThan", "v", "9.49"), r95, 1), 1);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThan", "v", "9.5"), r95, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThan", "v", "-1e3"), r95, 1), 1);
    /* null is neither less nor greater nor equal */
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "10"), nul, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThanOrEqualTo", "v", "10"), nul, 1), 0);
    /* a NaN attribute compares false both ways */
    kv rnan[] = {{"v", VR(NAN)}};
    TS_CHECK_INT(eval1(CMP("PropertyIsLessThan", "v", "10"), rnan, 1), 0);
    TS_CHECK_INT(eval1(CMP("PropertyIsGreaterThanOrEqualTo", "v", "10"), rnan, 1), 0);
}

TS_TEST(style_filter_null_and_logic)
{
    const char *isnull = "<ogc:PropertyIsNull><ogc:PropertyName>v</ogc:PropertyName>"
                         "</ogc:PropertyIsNull>";
    kv nul[] = {{"v", VN}};
    kv val[] = {{"v", VI(0)}};
    kv empty[] = {{"v", VS("")}};
    TS_CHECK_INT(eval1(isnull, nul, 1), 1);
    TS_CHECK_INT(eval1(isnull, NULL, 0), 1);
    TS_CHECK_INT(eval1(isnull, val, 1), 0);
    TS_CHECK_INT(eval1(isnull, empty, 1), 0);
    /* Not flips a false comparison with null to true (two-valued logic) */
    TS_CHECK_INT(eval1("<ogc:Not>" CMP("PropertyIsEqualTo", "v", "1") "</ogc:Not>", nul, 1), 1);
    const char *and_ = "<ogc:And>" CMP("PropertyIsGreaterThan", "a", "1")
        CMP("PropertyIsLessThan", "b", "5") "</ogc:And>";
    const char *or_ = "<ogc:Or>" CMP("PropertyIsGreaterThan", "a", "1")
        CMP("PropertyIsLessThan", "b", "5") "</ogc:Or>";
    static const struct {
        int a, b, and_, or_;
    } tt[] = {{2, 4, 1, 1}, {2, 6, 0, 1}, {0, 4, 0, 1}, {0, 6, 0, 0}};
    for (size_t k = 0; k < sizeof tt / sizeof tt[0]; k++) {
        kv f[] = {{"a", VI(tt[k].a)}, {"b", VI(tt[k].b)}};
        TS_CHECK_INT(eval1(and_, f, 2), tt[k].and_);
        TS_CHECK_INT(eval1(or_, f, 2), tt[k].or_);
    }
    kv half[] = {{"a", VI(2)}};
    TS_CHECK_INT(eval1(and_, half, 1), 0);
    TS_CHECK_INT(eval1(or_, half, 1), 1);
    /* And / Or with one operand; three operands */
    TS_CHECK_INT(eval1("<ogc:And>" CMP("PropertyIsEqualTo", "a", "2") "</ogc:And>", half, 1), 1);
    kv f3[] = {{"a", VI(1)}, {"b", VI(2)}, {"c", VI(3)}};
    TS_CHECK_INT(eval1("<ogc:And>" CMP("PropertyIsEqualTo", "a", "1")
                           CMP("PropertyIsEqualTo", "b", "2") CMP("PropertyIsEqualTo", "c",
                                                                  "4") "</ogc:And>",
                       f3, 3),
                 0);
    /* a NULL filter passes everything */
    TS_CHECK_INT(ts_filter_eval(NULL, NULL), 1);
}

TS_TEST(style_filter_between)
{
    const char *btw = "<ogc:PropertyIsBetween><ogc:PropertyName>v</ogc:PropertyName>"
                      "<ogc:LowerBoundary><ogc:Literal>1</ogc:Literal></ogc:LowerBoundary>"
                      "<ogc:UpperBoundary><ogc:Literal>10</ogc:Literal></ogc:UpperBoundary>"
                      "</ogc:PropertyIsBetween>";
    static const struct {
        double v;
        int in;
    } tt[] = {{0.999, 0}, {1, 1}, {5, 1}, {10, 1}, {10.0001, 0}, {-5, 0}};
    for (size_t k = 0; k < sizeof tt / sizeof tt[0]; k++) {
        kv f[] = {{"v", VR(tt[k].v)}};
        TS_CHECK_INT(eval1(btw, f, 1), tt[k].in);
    }
    kv nul[] = {{"v", VN}};
    TS_CHECK_INT(eval1(btw, nul, 1), 0);
    kv s5[] = {{"v", VS("5")}};
    TS_CHECK_INT(eval1(btw, s5, 1), 1);
    kv s5x[] = {{"v", VS("5x")}}; /* "5x" vs "1" and "10" as strings: "5x" > "10" */
    TS_CHECK_INT(eval1(btw, s5x, 1), 0);
    const char *sbtw = "<ogc:PropertyIsBetween><ogc:PropertyName>v</ogc:PropertyName>"
                       "<ogc:LowerBoundary><ogc:Literal>b</ogc:Literal></ogc:LowerBoundary>"
                       "<ogc:UpperBoundary><ogc:Literal>d</ogc:Literal></ogc:UpperBoundary>"
                       "</ogc:PropertyIsBetween>";
    TS_CHECK_INT(eval1(sbtw, (kv[]){{"v", VS("c")}}, 1), 1);
    TS_CHECK_INT(eval1(sbtw, (kv[]){{"v", VS("d")}}, 1), 1);
    TS_CHECK_INT(eval1(sbtw, (kv[]){{"v", VS("da")}}, 1), 0);
    TS_CHECK_INT(eval1(sbtw, (kv[]){{"v", VS("a")}}, 1), 0);
    /* boundaries that are properties */
    const char *pbtw = "<ogc:PropertyIsBetween><ogc:PropertyName>v</ogc:PropertyName>"
                       "<ogc:LowerBoundary><ogc:PropertyName>lo</ogc:PropertyName>"
                       "</ogc:LowerBoundary><ogc:UpperBoundary><ogc:PropertyName>hi"
                       "</ogc:PropertyName></ogc:UpperBoundary></ogc:PropertyIsBetween>";
    TS_CHECK_INT(eval1(pbtw, (kv[]){{"v", VI(3)}, {"lo", VI(3)}, {"hi", VI(4)}}, 3), 1);
    TS_CHECK_INT(eval1(pbtw, (kv[]){{"v", VI(3)}, {"lo", VI(3)}}, 2), 0);
}

static int
like(const char *attrs, const char *pattern, ts_value v)
{
    char xml[1024];
    snprintf(xml, sizeof xml,
             "<ogc:PropertyIsLike %s><ogc:PropertyName>v</ogc:PropertyName>"
             "<ogc:Literal>%s</ogc:Literal></ogc:PropertyIsLike>",
             attrs, pattern);
    kv f[] = {{"v", v}};
    return eval1(xml, f, 1);
}

TS_TEST(style_filter_like)
{
    const char *gs = "wildCard=\"*\" singleChar=\".\" escape=\"!\"";
    const char *qgis = "wildCard=\"%\" singleChar=\"_\" escapeChar=\"\\\"";
    TS_CHECK_INT(like(gs, "Main St!.", VS("Main St.")), 1);
    TS_CHECK_INT(like(gs, "Main St!.", VS("Main Stx")), 0);
    TS_CHECK_INT(like(gs, "Main St.", VS("Main Stx")), 1);
    TS_CHECK_INT(like(gs, "*allee", VS("K\xc3\xb6nigsallee")), 1);
    TS_CHECK_INT(like(gs, "K.nigsallee", VS("K\xc3\xb6nigsallee")), 1); /* one UTF-8 char */
    TS_CHECK_INT(like(gs, "K..nigsallee", VS("K\xc3\xb6nigsallee")), 0);
    TS_CHECK_INT(like(gs, "K*", VS("k\xc3\xb6")), 0);
    TS_CHECK_INT(like("matchCase=\"false\" wildCard=\"*\" singleChar=\".\" escape=\"!\"", "K*",
                      VS("k\xc3\xb6")),
                 1);
    TS_CHECK_INT(like(gs, "*%", VS("100%")), 1); /* '%' is literal with wildCard '*' */
    TS_CHECK_INT(like(gs, "*%", VS("100x")), 0);
    TS_CHECK_INT(like(gs, "a_b", VS("a_b")), 1);
    TS_CHECK_INT(like(gs, "a_b", VS("axb")), 0);
    TS_CHECK_INT(like(gs, "a\\b*", VS("a\\bc")), 1);
    TS_CHECK_INT(like(gs, "!*x", VS("*x")), 1);
    TS_CHECK_INT(like(gs, "!*x", VS("ax")), 0);
    TS_CHECK_INT(like(gs, "*a*b*c*", VS("xxaxxbxxcxx")), 1);
    TS_CHECK_INT(like(gs, "*a*b*c*", VS("xxaxxcxxbxx")), 0);
    TS_CHECK_INT(like(gs, "*", VS("")), 1);
    TS_CHECK_INT(like(gs, ".", VS("")), 0);
    TS_CHECK_INT(like(gs, "", VS("")), 1);
    TS_CHECK_INT(like(gs, "**x", VS("abx")), 1);
    TS_CHECK_INT(like(gs, "12*", VI(1234)), 1); /* numbers match through their text */
    TS_CHECK_INT(like(gs, "12*", VI(-1234)), 0);
    TS_CHECK_INT(like(gs, "2.5", VR(2.5)), 1);
    TS_CHECK_INT(like(gs, "*", VN), 0);
    TS_CHECK_INT(like(qgis, "%park%", VS("Volkspark Ost")), 1);
    TS_CHECK_INT(like(qgis, "_ark", VS("Park")), 1);
    TS_CHECK_INT(like(qgis, "100\\%", VS("100%")), 1);
    TS_CHECK_INT(like(qgis, "100\\%", VS("1000")), 0);

    ts_err err;
    ts_style *s = parse_rule_body("<ogc:Filter><ogc:PropertyIsLike wildCard=\"*\" "
                                  "singleChar=\".\" escape=\"!\"><ogc:PropertyName>v"
                                  "</ogc:PropertyName><ogc:Literal>a%b_c\\d!*e*f.</ogc:Literal>"
                                  "</ogc:PropertyIsLike></ogc:Filter>",
                                  &err);
    TS_REQUIRE(s != NULL);
    const ts_filter *f = s->fts[0].rules[0].filter;
    TS_CHECK_STR(f->like_pattern, "a\\%b\\_c\\\\d*e%f_");
    TS_CHECK_INT(f->wild, '%');
    TS_CHECK_INT(f->single, '_');
    TS_CHECK_INT(f->esc, '\\');
    TS_CHECK_STR(f->b->text, "a%b_c\\d!*e*f.");
    ts_style_unref(s);
}

TS_TEST(style_filter_arithmetic)
{
    const char *sum = "<ogc:PropertyIsGreaterThan><ogc:Add><ogc:PropertyName>a</ogc:PropertyName>"
                      "<ogc:PropertyName>b</ogc:PropertyName></ogc:Add>"
                      "<ogc:Literal>10</ogc:Literal></ogc:PropertyIsGreaterThan>";
    TS_CHECK_INT(eval1(sum, (kv[]){{"a", VI(4)}, {"b", VI(7)}}, 2), 1);
    TS_CHECK_INT(eval1(sum, (kv[]){{"a", VI(3)}, {"b", VI(7)}}, 2), 0);
    TS_CHECK_INT(eval1(sum, (kv[]){{"a", VS("4")}, {"b", VR(6.5)}}, 2), 1);
    TS_CHECK_INT(eval1(sum, (kv[]){{"a", VS("x")}, {"b", VI(70)}}, 2), 0); /* non-numeric */
    TS_CHECK_INT(eval1(sum, (kv[]){{"b", VI(70)}}, 1), 0);                 /* null */
    const char *eq = "<ogc:PropertyIsEqualTo><ogc:Mul><ogc:Sub><ogc:PropertyName>a"
                     "</ogc:PropertyName><ogc:Literal>1</ogc:Literal></ogc:Sub>"
                     "<ogc:Literal>2</ogc:Literal></ogc:Mul><ogc:Div><ogc:PropertyName>b"
                     "</ogc:PropertyName><ogc:Literal>4</ogc:Literal></ogc:Div>"
                     "</ogc:PropertyIsEqualTo>";
    /* (a - 1) * 2 == b / 4 */
    TS_CHECK_INT(eval1(eq, (kv[]){{"a", VI(3)}, {"b", VI(16)}}, 2), 1);
    TS_CHECK_INT(eval1(eq, (kv[]){{"a", VI(3)}, {"b", VI(17)}}, 2), 0);
    TS_CHECK_INT(eval1(eq, (kv[]){{"a", VR(1.5)}, {"b", VI(4)}}, 2), 1);
    /* integer overflow falls back to double instead of wrapping */
    const char *ovf = "<ogc:PropertyIsGreaterThan><ogc:Mul><ogc:PropertyName>a"
                      "</ogc:PropertyName><ogc:Literal>4</ogc:Literal></ogc:Mul>"
                      "<ogc:Literal>0</ogc:Literal></ogc:PropertyIsGreaterThan>";
    TS_CHECK_INT(eval1(ovf, (kv[]){{"a", VI(INT64_MAX / 2)}}, 1), 1);
    /* IEEE division: x / 0 is infinite, 0 / 0 is NaN (compares false) */
    const char *div = "<ogc:PropertyIsGreaterThan><ogc:Div><ogc:PropertyName>a"
                      "</ogc:PropertyName><ogc:PropertyName>b</ogc:PropertyName></ogc:Div>"
                      "<ogc:Literal>1e300</ogc:Literal></ogc:PropertyIsGreaterThan>";
    TS_CHECK_INT(eval1(div, (kv[]){{"a", VI(1)}, {"b", VI(0)}}, 2), 1);
    TS_CHECK_INT(eval1(div, (kv[]){{"a", VI(0)}, {"b", VI(0)}}, 2), 0);
}

TS_TEST(style_literals_preparsed)
{
    ts_err err;
    ts_style *s = parse_rule_body(
        "<ogc:Filter><ogc:Or>" CMP("PropertyIsEqualTo", "a", "20")
            CMP("PropertyIsEqualTo", "a", "20.5") CMP("PropertyIsEqualTo", "a", "abc")
                CMP("PropertyIsEqualTo", "a", "0x10") CMP("PropertyIsEqualTo", "a", " -7 ")
                    CMP("PropertyIsEqualTo", "a", "1e999") CMP("PropertyIsEqualTo", "a", "")
                        "</ogc:Or></ogc:Filter>",
        &err);
    TS_REQUIRE(s != NULL);
    const ts_filter *f = s->fts[0].rules[0].filter;
    TS_REQUIRE(f->nkids == 7);
    TS_CHECK_INT(f->kids[0]->b->lit.type, TS_VAL_INT);
    TS_CHECK_INT(f->kids[0]->b->lit.u.i, 20);
    TS_CHECK_INT(f->kids[1]->b->lit.type, TS_VAL_REAL);
    TS_CHECK_NEAR(f->kids[1]->b->lit.u.d, 20.5, 0);
    TS_CHECK_INT(f->kids[2]->b->lit.type, TS_VAL_STR);
    TS_CHECK_STR(f->kids[2]->b->lit.u.s, "abc");
    TS_CHECK_INT(f->kids[3]->b->lit.type, TS_VAL_STR);
    TS_CHECK_INT(f->kids[4]->b->lit.type, TS_VAL_INT);
    TS_CHECK_INT(f->kids[4]->b->lit.u.i, -7);
    TS_CHECK_STR(f->kids[4]->b->text, " -7 ");
    TS_CHECK_INT(f->kids[5]->b->lit.type, TS_VAL_STR); /* overflows to inf: not a number */
    TS_CHECK_INT(f->kids[6]->b->lit.type, TS_VAL_STR);
    TS_CHECK_STR(f->kids[6]->b->lit.u.s, "");
    TS_CHECK_INT(s->nprops, 1); /* one property, used seven times */
    ts_style_unref(s);
}

/* ---- errors --------------------------------------------------------------------------------- */

TS_TEST(style_error_malformed_xml_line)
{
    EXPECT_ERROR("<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\">\n"
                 "<NamedLayer>\n"
                 "  <UserStyle>\n"
                 "    <FeatureTypeStyle>\n"
                 "      <Rule><Name>a</Nmae></Rule>\n"
                 "    </FeatureTypeStyle>\n",
                 TS_ESTYLE, 5, "malformed XML");
    ts_err err;
    ts_style *s = parse_str("<a>\n\n\n<b></a>", &err);
    TS_CHECK(s == NULL);
    char buf[600];
    TS_CHECK(contains(ts_err_format(&err, buf, sizeof buf), "inline.sld:4"));
    EXPECT_ERROR("", TS_ESTYLE, 0, "empty");
    EXPECT_ERROR("not xml at all", TS_ESTYLE, 1, "malformed XML");
    /* undeclared namespace prefix */
    EXPECT_ERROR("<sld:StyledLayerDescriptor>\n</sld:StyledLayerDescriptor>", TS_ESTYLE, 1,
                 "malformed XML");
    EXPECT_ERROR("<Foo/>", TS_ESTYLE, 1, "StyledLayerDescriptor");
    EXPECT_ERROR("<StyledLayerDescriptor>\n<NamedLayer><Name>x</Name></NamedLayer>\n"
                 "</StyledLayerDescriptor>",
                 TS_ESTYLE, 1, "UserStyle");
    TS_CHECK(ts_style_parse(NULL, 0, NULL, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ESTYLE);
}

TS_TEST(style_error_bad_values)
{
    const char *head = "<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\">\n"
                       "<NamedLayer><UserStyle><FeatureTypeStyle><Rule>\n"
                       "<PolygonSymbolizer>\n"
                       "<Fill>\n";
    char xml[2048];
    snprintf(xml, sizeof xml, "%s<CssParameter name=\"fill\">#12345g</CssParameter>\n%s", head,
             "</Fill></PolygonSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
             "</StyledLayerDescriptor>");
    EXPECT_ERROR(xml, TS_ESTYLE, 5, "#12345g");

    EXPECT_RULE_ERROR("<PolygonSymbolizer><Fill><CssParameter name=\"fill\">red</CssParameter>"
                      "</Fill></PolygonSymbolizer>",
                      TS_ESTYLE, "invalid colour");
    EXPECT_RULE_ERROR("<PolygonSymbolizer><Fill><CssParameter name=\"fill\">#1234</CssParameter>"
                      "</Fill></PolygonSymbolizer>",
                      TS_ESTYLE, "invalid colour");
    EXPECT_RULE_ERROR("<PolygonSymbolizer><Fill><CssParameter name=\"fill\"></CssParameter>"
                      "</Fill></PolygonSymbolizer>",
                      TS_ESTYLE, "invalid colour");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-width\">-1"
                      "</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "stroke-width");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-width\">1px"
                      "</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "not a number");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-opacity\">1.5"
                      "</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "out of range");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-linejoin\">pointy"
                      "</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "pointy");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-linecap\">flat"
                      "</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "flat");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-dasharray\">4 x"
                      "</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "dasharray");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-dasharray\">"
                      "1 2 3 4 5 6 7 8 9</CssParameter></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "dasharray");
    /* a value of the feature where only a literal is read (style_values_of_the_feature
     * has where it is) */
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke-dasharray\">"
                      "<ogc:PropertyName>w</ogc:PropertyName></CssParameter></Stroke>"
                      "</LineSymbolizer>",
                      TS_ESTYLE, "dynamic");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter>1</CssParameter></Stroke>"
                      "</LineSymbolizer>",
                      TS_ESTYLE, "without a name");
    EXPECT_RULE_ERROR("<PointSymbolizer><Graphic><Size>big</Size></Graphic></PointSymbolizer>",
                      TS_ESTYLE, "Size");
    EXPECT_RULE_ERROR("<PointSymbolizer><Graphic><Size>1e9</Size></Graphic></PointSymbolizer>",
                      TS_ESTYLE, "out of range");
    EXPECT_RULE_ERROR("<PointSymbolizer><Graphic><Opacity>-0.1</Opacity></Graphic>"
                      "</PointSymbolizer>",
                      TS_ESTYLE, "Opacity");
    EXPECT_RULE_ERROR("<LineSymbolizer uom=\"http://www.opengeospatial.org/se/units/furlong\">"
                      "<Stroke/></LineSymbolizer>",
                      TS_ESTYLE, "unknown uom");
    EXPECT_RULE_ERROR("<MinScaleDenominator>abc</MinScaleDenominator>", TS_ESTYLE,
                      "MinScaleDenominator");
    EXPECT_RULE_ERROR("<MinScaleDenominator>5000</MinScaleDenominator>"
                      "<MaxScaleDenominator>1000</MaxScaleDenominator>",
                      TS_ESTYLE, "above");
    EXPECT_RULE_ERROR("<ElseFilter/><ogc:Filter>" CMP("PropertyIsEqualTo", "a", "1")
                      "</ogc:Filter>",
                      TS_ESTYLE, "ElseFilter");
    /* a uom of pixels is fine */
    ts_err err;
    ts_style *s = parse_rule_body(
        "<LineSymbolizer uom=\"http://www.opengeospatial.org/se/units/pixel\"><Stroke/>"
        "</LineSymbolizer>",
        &err);
    TS_CHECK(s != NULL);
    TS_CHECK(s->fts[0].rules[0].syms[0].uom_m == 0);
    ts_style_unref(s);
}

/* SE 1.1 ground units: metre and foot on Polygon-, Line- and PointSymbolizers, their
 * lengths scaled by the map's scale (pixels of 0.28 mm per metre = 1 / (scale x 0.00028)). */
/* font-style bold (a font-weight) is drawn upright with a warning, as GeoServer draws it:
 * Rennes Metropole's ref_topo styles write it so. */
TS_TEST(style_font_style_bold_is_a_warning)
{
    ts_err err;
    ts_style *s = parse_rule_body("<TextSymbolizer><Label>x</Label><Font><CssParameter "
                                  "name=\"font-style\">bold</CssParameter></Font></TextSymbolizer>",
                                  &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 1);
    TS_CHECK(s->fts[0].rules[0].syms[0].text->font_style == TS_FONT_NORMAL);
    ts_style_unref(s);
}

TS_TEST(style_uom_ground_units)
{
    ts_err err;
    ts_style *s = parse_rule_body(
        "<LineSymbolizer uom=\"http://www.opengeospatial.org/se/units/metre\"><Stroke>"
        "<CssParameter name=\"stroke-width\">5</CssParameter></Stroke></LineSymbolizer>"
        "<PolygonSymbolizer uom=\"http://www.opengeospatial.org/se/units/foot\"><Fill/>"
        "</PolygonSymbolizer>"
        "<PointSymbolizer uom=\"http://www.opengeospatial.org/se/units/metre\"><Graphic>"
        "<Mark><WellKnownName>circle</WellKnownName></Mark><Size>3</Size></Graphic>"
        "</PointSymbolizer>"
        "<TextSymbolizer uom=\"http://www.opengeospatial.org/se/units/metre\"><Label>x</Label>"
        "<Font><CssParameter name=\"font-size\">30</CssParameter></Font></TextSymbolizer>",
        &err);
    TS_CHECK(s != NULL);
    if (s == NULL)
        return;
    const ts_symbolizer *sy = s->fts[0].rules[0].syms;
    TS_CHECK(sy[0].uom_m == 1.0);
    TS_CHECK(sy[0].stroke.width == 5.0); /* kept in its units */
    TS_CHECK(sy[1].uom_m == 0.3048);
    TS_CHECK(sy[2].uom_m == 1.0);
    TS_CHECK(sy[3].uom_m == 1.0 && sy[3].text->font_size == 30);
    TS_CHECK_INT(s->nwarnings, 0);
    /* at 1:1000 a pixel of 0.28 mm covers 0.28 m: 1 / 0.28 px per metre */
    TS_CHECK(fabs(ts_symbolizer_px_per_unit(&sy[0], 1000) - 1 / 0.28) < 1e-9);
    TS_CHECK(fabs(ts_symbolizer_px_per_unit(&sy[1], 1000) - 0.3048 / 0.28) < 1e-9);
    /* pixels stay pixels */
    ts_symbolizer px = sy[0];
    px.uom_m = 0;
    TS_CHECK(ts_symbolizer_px_per_unit(&px, 1000) == 1);
    ts_style_unref(s);
}

TS_TEST(style_error_bad_filters)
{
    EXPECT_RULE_ERROR("<ogc:Filter/>", TS_ESTYLE, "empty");
    EXPECT_RULE_ERROR("<ogc:Filter>" CMP("PropertyIsEqualTo", "a", "1")
                      CMP("PropertyIsEqualTo", "b", "1") "</ogc:Filter>",
                      TS_ESTYLE, "more than one");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:BBOX><ogc:PropertyName>geom</ogc:PropertyName>"
                      "<gml:Box xmlns:gml=\"http://www.opengis.net/gml\"><gml:coordinates>"
                      "0,0 1,1</gml:coordinates></gml:Box></ogc:BBOX></ogc:Filter>",
                      TS_ESTYLE, "BBOX");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:Intersects/></ogc:Filter>", TS_ESTYLE, "Intersects");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:FeatureId fid=\"x.1\"/></ogc:Filter>", TS_ESTYLE,
                      "FeatureId");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:Function name=\"strTrim\">"
                      "<ogc:PropertyName>a</ogc:PropertyName></ogc:Function><ogc:Literal>x"
                      "</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "strTrim");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>a"
                      "</ogc:PropertyName></ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "two");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName> </ogc:PropertyName>"
                      "<ogc:Literal>1</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "empty");
    EXPECT_RULE_ERROR("<ogc:Filter>" CMP_MC("PropertyIsEqualTo", "maybe", "a", "1")
                      "</ogc:Filter>",
                      TS_ESTYLE, "matchCase");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:Not>" CMP("PropertyIsEqualTo", "a", "1")
                      CMP("PropertyIsEqualTo", "a", "2") "</ogc:Not></ogc:Filter>",
                      TS_ESTYLE, "exactly one");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:And/></ogc:Filter>", TS_ESTYLE, "operands");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsLike singleChar=\".\"><ogc:PropertyName>a"
                      "</ogc:PropertyName><ogc:Literal>x</ogc:Literal></ogc:PropertyIsLike>"
                      "</ogc:Filter>",
                      TS_ESTYLE, "wildCard");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsLike wildCard=\"*\" singleChar=\".\" "
                      "escape=\"!\"><ogc:PropertyName>a</ogc:PropertyName><ogc:Literal>x!"
                      "</ogc:Literal></ogc:PropertyIsLike></ogc:Filter>",
                      TS_ESTYLE, "escape");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsLike wildCard=\"**\" singleChar=\".\">"
                      "<ogc:PropertyName>a</ogc:PropertyName><ogc:Literal>x</ogc:Literal>"
                      "</ogc:PropertyIsLike></ogc:Filter>",
                      TS_ESTYLE, "one ASCII character");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsLike wildCard=\"*\" singleChar=\".\">"
                      "<ogc:PropertyName>a</ogc:PropertyName><ogc:PropertyName>b"
                      "</ogc:PropertyName></ogc:PropertyIsLike></ogc:Filter>",
                      TS_ESTYLE, "Literal");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsBetween><ogc:PropertyName>a"
                      "</ogc:PropertyName><ogc:LowerBoundary><ogc:Literal>1</ogc:Literal>"
                      "</ogc:LowerBoundary></ogc:PropertyIsBetween></ogc:Filter>",
                      TS_ESTYLE, "UpperBoundary");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:Add><ogc:Literal>1</ogc:Literal>"
                      "</ogc:Add><ogc:Literal>1</ogc:Literal></ogc:PropertyIsEqualTo>"
                      "</ogc:Filter>",
                      TS_ESTYLE, "two operands");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>a"
                      "</ogc:PropertyName><ogc:Literal><gml:Point xmlns:gml=\"http://www."
                      "opengis.net/gml\"/></ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "Point");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsWhatever/></ogc:Filter>", TS_ESTYLE,
                      "PropertyIsWhatever");
}

static char *
nested(const char *open, const char *inner, const char *close, int depth)
{
    size_t n = strlen(open) * (size_t)depth + strlen(inner) + strlen(close) * (size_t)depth + 1;
    char *s = malloc(n);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    char *p = s;
    for (int i = 0; i < depth; i++)
        p += snprintf(p, n - (size_t)(p - s), "%s", open);
    p += snprintf(p, n - (size_t)(p - s), "%s", inner);
    for (int i = 0; i < depth; i++)
        p += snprintf(p, n - (size_t)(p - s), "%s", close);
    return s;
}

TS_TEST(style_error_too_deep)
{
    const char *leaf = CMP("PropertyIsEqualTo", "a", "1");
    char *f = nested("<ogc:Not>", leaf, "</ogc:Not>", 100);
    TS_REQUIRE(f != NULL);
    char *body = nested("<ogc:Filter>", f, "</ogc:Filter>", 1);
    EXPECT_RULE_ERROR(body, TS_ELIMIT, "deeper");
    free(body);
    free(f);
    /* arithmetic nesting counts too */
    char *e = nested("<ogc:Add><ogc:Literal>1</ogc:Literal>", "<ogc:Literal>1</ogc:Literal>",
                     "</ogc:Add>", 80);
    TS_REQUIRE(e != NULL);
    size_t n = strlen(e) + 256;
    body = malloc(n);
    snprintf(body, n,
             "<ogc:Filter><ogc:PropertyIsEqualTo>%s<ogc:Literal>81</ogc:Literal>"
             "</ogc:PropertyIsEqualTo></ogc:Filter>",
             e);
    EXPECT_RULE_ERROR(body, TS_ELIMIT, "deeper");
    free(body);
    free(e);
    /* 30 levels are fine, and evaluate: Not^30 keeps the truth value */
    f = nested("<ogc:Not><ogc:Not>", leaf, "</ogc:Not></ogc:Not>", 15);
    TS_CHECK_INT(eval1(f, (kv[]){{"a", VI(1)}}, 1), 1);
    TS_CHECK_INT(eval1(f, (kv[]){{"a", VI(2)}}, 1), 0);
    free(f);
    /* libxml2's own limit for the whole document also holds (no crash, an error) */
    char *deep = nested("<x>", "", "</x>", 5000);
    ts_err err;
    ts_style *s = parse_str(deep, &err);
    TS_CHECK(s == NULL);
    free(deep);
}

TS_TEST(style_refuses_xxe)
{
    const char *xxe =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
        "<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\"><NamedLayer><UserStyle>"
        "<Name>&e;</Name><FeatureTypeStyle><Rule><Name>&e;</Name><Title>&e;</Title>"
        "<PolygonSymbolizer><Fill/></PolygonSymbolizer></Rule></FeatureTypeStyle></UserStyle>"
        "</NamedLayer></StyledLayerDescriptor>\n";
    ts_err err;
    ts_err_clear(&err);
    ts_style *s = parse_str(xxe, &err);
    if (s != NULL) { /* accepted would only be fine if nothing was expanded */
        TS_CHECK(!contains(s->name, "root:"));
        TS_CHECK(!contains(s->fts[0].rules[0].name, "root:"));
        ts_style_unref(s);
    }
    TS_CHECK(s == NULL);
    TS_CHECK(!contains(err.msg, "root:"));
    TS_CHECK(contains(err.msg, "entity"));
    TS_CHECK_INT(err.input_line, 2);

    /* parameter entities and external DTDs are not fetched either */
    const char *pe = "<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
                     "<StyledLayerDescriptor/>";
    s = parse_str(pe, &err);
    TS_CHECK(s == NULL);
    TS_CHECK(!contains(err.msg, "root:"));
    const char *unparsed = "<!DOCTYPE x [<!NOTATION gif SYSTEM \"image/gif\">"
                           "<!ENTITY pic SYSTEM \"file:///etc/passwd\" NDATA gif>]>\n"
                           "<StyledLayerDescriptor/>";
    s = parse_str(unparsed, &err);
    TS_CHECK(s == NULL);
    TS_CHECK(contains(err.msg, "entity"));
    /* a DOCTYPE without entity declarations is harmless and accepted */
    const char *plain = "<!DOCTYPE StyledLayerDescriptor SYSTEM \"file:///etc/passwd\">\n"
                        "<StyledLayerDescriptor><NamedLayer><UserStyle><FeatureTypeStyle><Rule>"
                        "<Name>x</Name></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
                        "</StyledLayerDescriptor>";
    s = parse_str(plain, &err);
    TS_CHECK(s != NULL);
    if (s != NULL) {
        TS_CHECK_STR(s->fts[0].rules[0].name, "x");
        ts_style_unref(s);
    }
}

TS_TEST(style_refuses_billion_laughs)
{
    char xml[4096];
    int n;
    n = snprintf(xml, sizeof xml, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                                  " <!ENTITY lol0 \"lol\">\n");
    for (int i = 1; i < 10; i++) {
        n += snprintf(xml + n, sizeof xml - (size_t)n, " <!ENTITY lol%d \"", i);
        for (int k = 0; k < 10; k++)
            n += snprintf(xml + n, sizeof xml - (size_t)n, "&lol%d;", i - 1);
        n += snprintf(xml + n, sizeof xml - (size_t)n, "\">\n");
    }
    snprintf(xml + n, sizeof xml - (size_t)n,
             "]>\n<StyledLayerDescriptor><NamedLayer><UserStyle><FeatureTypeStyle><Rule>"
             "<Name>&lol9;</Name></Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
             "</StyledLayerDescriptor>\n");
    ts_err err;
    ts_style *s = parse_str(xml, &err);
    TS_CHECK(s == NULL);
    TS_CHECK_INT(err.code, TS_ESTYLE);
    TS_CHECK(contains(err.msg, "entity"));
    TS_CHECK_INT(err.input_line, 3);
}

TS_TEST(style_size_limit)
{
    size_t n = 16u * 1024u * 1024u + 1;
    char *big = malloc(n);
    TS_REQUIRE(big != NULL);
    memset(big, ' ', n);
    memcpy(big, "<a>", 3);
    ts_err err;
    TS_CHECK(ts_style_parse(big, n, "big.sld", &err) == NULL);
    TS_CHECK_INT(err.code, TS_ELIMIT);
    free(big);
}

TS_TEST(style_load_errors)
{
    ts_err err;
    TS_CHECK(ts_style_load("/nonexistent/dir/x.sld", &err) == NULL);
    TS_CHECK_INT(err.code, TS_ENOENT);
    TS_CHECK_STR(err.input, "/nonexistent/dir/x.sld");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tests/data/style", ts_test_srcdir());
    TS_CHECK(ts_style_load(dir, &err) == NULL);
    TS_CHECK_INT(err.code, TS_EIO);
    /* an error inside a file names the file and the line */
    char path[600];
    snprintf(path, sizeof path, "%s/bad.sld", ts_test_tmpdir());
    FILE *f = fopen(path, "w");
    TS_REQUIRE(f != NULL);
    fputs("<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\">\n<NamedLayer>\n"
          "<UserStyle><FeatureTypeStyle><Rule>\n<LineSymbolizer><Stroke>\n"
          "<CssParameter name=\"stroke\">#zzzzzz</CssParameter>\n</Stroke></LineSymbolizer>"
          "</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n",
          f);
    fclose(f);
    TS_CHECK(ts_style_load(path, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ESTYLE);
    TS_CHECK_STR(err.input, path);
    TS_CHECK_INT(err.input_line, 5);
    remove(path);
}

/* Redirect stderr into a file until capture_end, which returns the number of lines
 * written (or -1). */
typedef struct capture {
    int saved;
    FILE *f;
    char path[600];
} capture;

static int
capture_begin(capture *c)
{
    snprintf(c->path, sizeof c->path, "%s/stderr.txt", ts_test_tmpdir());
    fflush(stderr);
    c->saved = dup(2);
    c->f = fopen(c->path, "w+");
    if (c->saved < 0 || c->f == NULL)
        return -1;
    dup2(fileno(c->f), 2);
    return 0;
}

static int
capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    int lines = 0, ch;
    rewind(c->f);
    while ((ch = fgetc(c->f)) != EOF)
        lines += ch == '\n';
    fclose(c->f);
    remove(c->path);
    return lines;
}

TS_TEST(style_warnings_logged_up_to_a_cap)
{
    char body[8192];
    int n = 0;
    for (int i = 0; i < 60; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "<RasterSymbolizer/>\n");
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_WARN);
    capture c;
    TS_REQUIRE(capture_begin(&c) == 0);
    ts_err err;
    ts_style *s = parse_rule_body(body, &err);
    int lines = capture_end(&c);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 60); /* all counted */
    TS_CHECK_INT(lines, 51);        /* 50 logged plus one notice */
    TS_CHECK_INT(s->fts[0].rules[0].nsyms, 0);
    ts_style_unref(s);
}

TS_TEST(style_libxml_errors_not_printed)
{
    /* encoding errors are raised by libxml2 without a parser context: they must still end
     * up in ts_err, not on stderr */
    capture c;
    TS_REQUIRE(capture_begin(&c) == 0);
    ts_err e1, e2, e3;
    ts_style *s1 = parse_str("<?xml version=\"1.0\" encoding=\"EUC-JP\"?>\n"
                             "<StyledLayerDescriptor>\n<Name>\xff\x09\x09</Name>"
                             "</StyledLayerDescriptor>",
                             &e1);
    ts_style *s2 = parse_str("<?xml version=\"1.0\"?>\n<StyledLayerDescriptor>\n<Name>\xff"
                             "</Name></StyledLayerDescriptor>",
                             &e2);
    ts_style *s3 = parse_str("<?xml version=\"1.0\" encoding=\"bogus\"?><x/>", &e3);
    int printed = capture_end(&c);
    TS_CHECK(s1 == NULL && s2 == NULL && s3 == NULL);
    TS_CHECK(contains(e1.msg, "conversion"));
    TS_CHECK(contains(e2.msg, "UTF-8"));
    TS_CHECK(strchr(e2.msg, '\n') == NULL);
    TS_CHECK_INT(e2.input_line, 3);
    TS_CHECK(contains(e3.msg, "bogus"));
    TS_CHECK_INT(printed, 0);
}

/* ---- lifetime and threads ----------------------------------------------------------------- */

TS_TEST(style_refcount)
{
    ts_err err;
    ts_style *s = load_demo("streets.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->refs, 1);
    TS_CHECK(ts_style_ref(s) == s);
    TS_CHECK_INT(s->refs, 2);
    ts_style_unref(s);
    TS_CHECK_INT(s->refs, 1);
    TS_CHECK_STR(s->fts[0].rules[0].name, "motorway"); /* still alive */
    ts_style_unref(s);
    ts_style_unref(NULL);
    TS_CHECK(ts_style_ref(NULL) == NULL);
}

typedef struct thread_arg {
    const char *xml;
    size_t len;
    int ok;
} thread_arg;

static void *
parse_thread(void *p)
{
    thread_arg *a = p;
    a->ok = 1;
    for (int i = 0; i < 20; i++) {
        ts_err err;
        ts_style *s = ts_style_parse(a->xml, a->len, "thread.sld", &err);
        if (s == NULL || s->fts[0].nrules != 4) {
            a->ok = 0;
        }
        ts_style_unref(s);
        s = ts_style_parse("<a><b></a>", 10, "broken.sld", &err);
        if (s != NULL || err.input_line != 1)
            a->ok = 0;
    }
    return NULL;
}

TS_TEST(style_parse_concurrently)
{
    char path[512];
    snprintf(path, sizeof path, "%s/styles/air.sld", ts_test_srcdir());
    FILE *f = fopen(path, "rb");
    TS_REQUIRE(f != NULL);
    static char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){buf, len, 0};
        TS_REQUIRE(pthread_create(&th[i], NULL, parse_thread, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        TS_CHECK(args[i].ok);
    }
}

/* ---- graphics: GraphicFill, GraphicStroke, marks, ExternalGraphic --------------------- */

/* The space between the copies of a GraphicFill mark: GeoServer's graphic-margin (1, 2 or
 * 4 values) and QGIS's distance (centre to centre; QGIS point pattern fills were a solid
 * dark area without it); malformed values are refused with the line. */
TS_TEST(style_graphic_fill_spacing)
{
    static const struct {
        const char *option;
        double want[4];
    } cases[] = {
        {"<VendorOption name=\"graphic-margin\">3</VendorOption>", {3, 3, 3, 3}},
        {"<VendorOption name=\"graphic-margin\">2, 4</VendorOption>", {2, 4, 2, 4}},
        {"<VendorOption name=\"graphic-margin\">1,2,3,4</VendorOption>", {1, 2, 3, 4}},
        {"<se:VendorOption xmlns:se=\"http://www.opengis.net/se\" name=\"distance\">7,9"
         "</se:VendorOption>",
         {3, 2, 3, 2}}, /* size 3: (9 - 3) / 2 above and below, (7 - 3) / 2 beside */
        {"<VendorOption name=\"distance\">2,2</VendorOption>", {0, 0, 0, 0}},
    };
    ts_err err;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "<PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark><WellKnownName>circle"
                 "</WellKnownName><Fill/></Mark><Size>3</Size></Graphic></GraphicFill></Fill>"
                 "%s</PolygonSymbolizer>",
                 cases[k].option);
        ts_style *s = parse_rule_body(body, &err);
        if (s == NULL)
            fprintf(stderr, "    %s\n", fmt_err(&err));
        TS_REQUIRE(s != NULL);
        TS_CHECK_INT(s->nwarnings, 0);
        const ts_graphic *g = s->fts[0].rules[0].syms[0].fill_graphic;
        TS_REQUIRE(g != NULL);
        for (int i = 0; i < 4; i++)
            TS_CHECK_NEAR(g->margin[i], cases[k].want[i], 1e-12);
        ts_style_unref(s);
    }
    /* shape://dot is spaced the same way (GeoServer's usual idiom); a line hatch is not
     * (its lines are continuous, spaced by Size): warned, margins left at 0 */
    static const struct {
        const char *mark;
        int warnings;
        double margin;
    } shapes[] = {{"shape://dot", 0, 4}, {"shape://carrow", 0, 4}, {"shape://slash", 1, 0}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "<PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark><WellKnownName>%s"
                 "</WellKnownName><Stroke/></Mark><Size>3</Size></Graphic></GraphicFill></Fill>"
                 "<VendorOption name=\"graphic-margin\">4</VendorOption></PolygonSymbolizer>",
                 shapes[k].mark);
        ts_style *s = parse_rule_body(body, &err);
        TS_REQUIRE(s != NULL);
        TS_CHECK_INT(s->nwarnings, shapes[k].warnings);
        const ts_graphic *g = s->fts[0].rules[0].syms[0].fill_graphic;
        TS_REQUIRE(g != NULL);
        for (int i = 0; i < 4; i++)
            TS_CHECK_NEAR(g->margin[i], shapes[k].margin, 1e-12);
        ts_style_unref(s);
    }
    static const char *bad[] = {"<VendorOption name=\"graphic-margin\">1,2,3</VendorOption>",
                                "<VendorOption name=\"graphic-margin\">-1</VendorOption>",
                                "<VendorOption name=\"distance\">7</VendorOption>",
                                "<VendorOption name=\"distance\">7,x</VendorOption>"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "<PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark><WellKnownName>circle"
                 "</WellKnownName></Mark></Graphic></GraphicFill></Fill>%s</PolygonSymbolizer>",
                 bad[k]);
        ts_style *s = parse_rule_body(body, &err);
        TS_CHECK(s == NULL);
        if (s == NULL)
            TS_CHECK(strstr(err.msg, "VendorOption") != NULL);
        ts_style_unref(s);
    }
}

TS_TEST(style_graphic_fill_and_stroke)
{
    ts_err err;
    ts_style *s = load_data("geoserver_graphics.sld", &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 4);
    /* hatching: shape://times with the mark's stroke, period 16 px; no colour fill */
    const ts_symbolizer *y = &s->fts[0].rules[0].syms[0];
    TS_REQUIRE(y->fill_graphic != NULL);
    TS_CHECK(!y->has_fill);
    const ts_graphic *g = y->fill_graphic;
    TS_CHECK_INT(g->shape, TS_SHAPE_TIMES);
    TS_CHECK_INT(g->image, -1);
    TS_CHECK_NEAR(g->size, 16, 0);
    TS_CHECK(g->has_stroke && !g->has_fill);
    RGB_IS(g->stroke_color, 0x99, 0, 0x99);
    TS_CHECK_NEAR(g->stroke.width, 1, 0);
    TS_CHECK(y->has_stroke); /* the polygon's own outline */
    TS_CHECK_NEAR(y->stroke.width, 0.5, 0);
    /* an image tile: graphics/hatch.png, next to the style file */
    y = &s->fts[0].rules[1].syms[0];
    TS_REQUIRE(y->fill_graphic != NULL && y->fill_graphic->image >= 0);
    TS_REQUIRE(s->nimages == 2);
    const ts_style_image *im = &s->images[y->fill_graphic->image];
    TS_CHECK(contains(im->path, "/tests/data/style/graphics/hatch.png"));
    TS_CHECK(im->path[0] == '/');
    TS_CHECK_STR(im->href, "graphics/hatch.png");
    TS_CHECK_INT(im->line, 61);
    TS_CHECK_NEAR(y->fill_graphic->size, 6, 0);
    /* a pin from a file: URL relative to the style; the Mark after it is not needed */
    y = &s->fts[0].rules[2].syms[0];
    TS_CHECK_INT(y->kind, TS_SYM_POINT);
    TS_REQUIRE(y->graphic != NULL);
    TS_CHECK_INT(y->graphic->image, 1);
    TS_CHECK(contains(s->images[1].path, "/graphics/pin.png"));
    TS_CHECK_STR(s->images[1].href, "file:graphics/pin.png");
    TS_CHECK_NEAR(y->graphic->size, 26, 0);
    TS_CHECK_NEAR(y->graphic->anchor_x, 0.5, 0); /* defaults */
    TS_CHECK_NEAR(y->graphic->anchor_y, 0.5, 0);
    /* a GraphicStroke of vertical ticks spaced by the dash array (GeoServer's way):
     * 8 px ticks, 8 + 12 px apart, so a gap of 12 */
    const ts_rule *r = &s->fts[0].rules[3];
    TS_REQUIRE(r->nsyms == 3);
    y = &r->syms[1];
    TS_REQUIRE(y->stroke_graphic != NULL);
    TS_CHECK(!y->has_stroke);
    TS_CHECK_INT(y->stroke_graphic->shape, TS_SHAPE_VERTLINE);
    TS_CHECK_NEAR(y->stroke_graphic->size, 8, 0);
    TS_CHECK_NEAR(y->stroke_graphic->gap, 12, 0);
    ts_style_unref(s);

    /* QGIS' forms: the bare "horline" with a rotation, a circle pattern, SE Gap */
    s = load_data("qgis_hatch.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->fts[0].nrules == 3);
    g = s->fts[0].rules[0].syms[1].fill_graphic;
    TS_REQUIRE(g != NULL);
    TS_CHECK_INT(g->shape, TS_SHAPE_HORLINE);
    TS_CHECK_NEAR(g->size, 8, 0);
    TS_CHECK_NEAR(g->rotation, 45, 0);
    TS_CHECK(g->rotation_expr == NULL);
    g = s->fts[0].rules[1].syms[0].fill_graphic;
    TS_REQUIRE(g != NULL);
    TS_CHECK_INT(g->shape, TS_SHAPE_NONE);
    TS_CHECK_INT(g->mark, TS_MARK_CIRCLE);
    TS_CHECK(g->has_fill && !g->has_stroke);
    TS_CHECK_NEAR(g->size, 3, 0);
    TS_CHECK(s->fts[0].rules[1].syms[0].has_stroke);
    y = &s->fts[0].rules[2].syms[0];
    TS_REQUIRE(y->stroke_graphic != NULL);
    TS_CHECK_NEAR(y->stroke_graphic->gap, 6, 0);
    TS_CHECK_NEAR(y->stroke_graphic->initial_gap, 0, 0);
    TS_CHECK_NEAR(y->perpendicular_offset, -3, 0);
    TS_CHECK_INT(s->nimages, 0);
    ts_style_unref(s);
}

TS_TEST(style_point_graphic_fields)
{
    ts_err err;
    ts_style *s = parse_rule_body(
        "<PointSymbolizer><Graphic><Mark><WellKnownName>shape://carrow</WellKnownName>"
        "<Fill><CssParameter name=\"fill\">#00ff00</CssParameter></Fill></Mark>"
        "<Opacity>0.5</Opacity><Size>10</Size>"
        "<Rotation><ogc:Add><ogc:PropertyName>heading</ogc:PropertyName>"
        "<ogc:Literal>90</ogc:Literal></ogc:Add></Rotation>"
        "<AnchorPoint><AnchorPointX>0</AnchorPointX><AnchorPointY>1</AnchorPointY></AnchorPoint>"
        "<Displacement><DisplacementX>3</DisplacementX><DisplacementY>-4</DisplacementY>"
        "</Displacement></Graphic></PointSymbolizer>"
        "<PointSymbolizer><Graphic><Mark><WellKnownName>shape://dot</WellKnownName><Stroke/>"
        "</Mark></Graphic></PointSymbolizer>",
        &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->fts[0].rules[0].nsyms == 2);
    const ts_symbolizer *y = &s->fts[0].rules[0].syms[0];
    const ts_graphic *g = y->graphic;
    TS_REQUIRE(g != NULL);
    TS_CHECK_INT(g->shape, TS_SHAPE_CARROW);
    TS_CHECK(g->has_fill && !g->has_stroke);
    TS_CHECK_NEAR(g->opacity, 0.5, 0);
    TS_CHECK_NEAR(y->opacity, 0.5, 0); /* mirrored for readers of the first form */
    TS_CHECK_NEAR(g->size, 10, 0);
    TS_CHECK_NEAR(g->anchor_x, 0, 0);
    TS_CHECK_NEAR(g->anchor_y, 1, 0);
    TS_CHECK_NEAR(g->disp_x, 3, 0);
    TS_CHECK_NEAR(g->disp_y, -4, 0);
    TS_REQUIRE(g->rotation_expr != NULL);
    TS_CHECK_INT(ts_style_prop_index(s, "heading"), 0); /* the store will load it */
    kv f[] = {{"heading", VI(45)}};
    feat ft = {s, f, 1};
    ts_feature_ref ref = {feat_get, &ft, {0, 0, 0, 0}};
    double d = 0;
    TS_CHECK_INT(ts_expr_eval_number(g->rotation_expr, &ref, &d), 1);
    TS_CHECK_NEAR(d, 135, 0);
    feat none = {s, NULL, 0};
    ref.ctx = &none;
    TS_CHECK_INT(ts_expr_eval_number(g->rotation_expr, &ref, &d), 0); /* null: not a number */
    g = s->fts[0].rules[0].syms[1].graphic;
    TS_CHECK_INT(g->shape, TS_SHAPE_DOT);
    TS_CHECK(g->has_stroke);
    TS_CHECK_NEAR(g->size, 6, 0); /* default */
    ts_style_unref(s);

    /* an unknown mark name is warned about and the next alternative drawn; with none
     * left, the symbolizer is skipped */
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR);
    s = parse_rule_body("<PointSymbolizer><Graphic><Mark><WellKnownName>heptagon</WellKnownName>"
                        "</Mark><Mark><WellKnownName>star</WellKnownName><Fill/></Mark>"
                        "</Graphic></PointSymbolizer>"
                        "<PointSymbolizer><Graphic><Mark><WellKnownName>extshape://emicircle"
                        "</WellKnownName></Mark></Graphic></PointSymbolizer>",
                        &err);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 3);
    TS_REQUIRE(s->fts[0].rules[0].nsyms == 1);
    TS_CHECK_INT(s->fts[0].rules[0].syms[0].graphic->mark, TS_MARK_STAR);
    ts_style_unref(s);
}

/* Parse a one-rule style as if read from the file <dir>/style.sld. */
static ts_style *
parse_in_dir(const char *dir, const char *body, ts_err *err)
{
    char where[700];
    snprintf(where, sizeof where, "%s/style.sld", dir);
    size_t n = strlen(doc_head) + strlen(body) + strlen(doc_tail) + 200;
    char *xml = malloc(n);
    if (xml == NULL)
        return NULL;
    snprintf(xml, n, "%s%s%s", doc_head, body, doc_tail);
    ts_style *s = ts_style_parse(xml, strlen(xml), where, err);
    free(xml);
    return s;
}

#define EXT(href, fmt)                                                                          \
    "<PointSymbolizer><Graphic><ExternalGraphic xmlns:xlink=\"http://www.w3.org/1999/xlink\">" \
    "<OnlineResource xlink:type=\"simple\" xlink:href=\"" href "\"/><Format>" fmt "</Format>"  \
    "</ExternalGraphic></Graphic></PointSymbolizer>"

/* A refused href: status st, the OnlineResource's line (4: the rule body starts there). */
static void
expect_href_error(const char *dir, const char *body, ts_status st, const char *needle,
                  const char *file, int line)
{
    ts_err err;
    ts_err_clear(&err);
    ts_style *s = parse_in_dir(dir, body, &err);
    if (s != NULL) {
        ts_test_fail(file, line, "style was accepted");
        ts_style_unref(s);
        return;
    }
    if (err.code != st)
        ts_test_fail(file, line, "status %s, expected %s (%s)", ts_status_name(err.code),
                     ts_status_name(st), fmt_err(&err));
    if (err.input_line != 4)
        ts_test_fail(file, line, "line %d, expected 4 (%s)", err.input_line, fmt_err(&err));
    if (needle && !contains(err.msg, needle))
        ts_test_fail(file, line, "message '%s' lacks '%s'", err.msg, needle);
}
#define EXPECT_HREF_ERROR(dir, body, st, needle)                                                 \
    expect_href_error((dir), (body), (st), (needle), __FILE__, __LINE__)

TS_TEST(style_external_graphic_paths)
{
    char data[600], gdir[700];
    snprintf(data, sizeof data, "%s/tests/data/style", ts_test_srcdir());
    snprintf(gdir, sizeof gdir, "%s/graphics", data);
    ts_err err;
    /* relative, file: relative, file:/// absolute inside the tree, file://localhost/,
     * percent-escaped file: URL: all the same file, entered once; an empty Format is
     * read from the name */
    char body[4096];
    char abs[800];
    snprintf(abs, sizeof abs, "%s/graphics/quad.png", data);
    snprintf(body, sizeof body,
             EXT("graphics/quad.png", "image/png") EXT("file:graphics/./quad.png", "image/png")
                 EXT("file://%s", "image/png") EXT("file://localhost%s", "image/png")
                     EXT("file:graphics/qu%%61d.png", "IMAGE/PNG") EXT("graphics/pin.png", ""),
             abs, abs);
    ts_style *s = parse_in_dir(data, body, &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->nimages == 2);
    TS_CHECK(contains(s->images[0].path, "graphics/quad.png"));
    TS_CHECK(contains(s->images[1].path, "graphics/pin.png"));
    TS_CHECK_INT(s->images[0].line, 4);
    for (int k = 0; k < 5; k++)
        TS_CHECK_INT(s->fts[0].rules[0].syms[k].graphic->image, 0);
    TS_CHECK_INT(s->fts[0].rules[0].syms[5].graphic->image, 1);
    TS_CHECK_NEAR(s->fts[0].rules[0].syms[0].graphic->size, 0, 0); /* its own size */
    ts_style_unref(s);

    /* the style's directory tree is the limit: a style in graphics/ may not reach up */
    EXPECT_HREF_ERROR(gdir, EXT("../qgis_hatch.sld", "image/png"), TS_ESTYLE, "outside");
    EXPECT_HREF_ERROR(gdir, EXT("file:../graphics/../../style/qgis_hatch.sld", "image/png"),
                      TS_ESTYLE, "outside");
    EXPECT_HREF_ERROR(data, EXT("../../CMakeLists.txt", "image/png"), TS_ESTYLE, "outside");
    EXPECT_HREF_ERROR(data, EXT("/etc/passwd", "image/png"), TS_ESTYLE, "outside");
    EXPECT_HREF_ERROR(data, EXT("file:///etc/passwd", "image/png"), TS_ESTYLE, "outside");
    EXPECT_HREF_ERROR(data, EXT("file://otherhost/etc/passwd", "image/png"), TS_ESTYLE, "host");
    EXPECT_HREF_ERROR(data, EXT("file:graphics/%00x.png", "image/png"), TS_ESTYLE, "malformed");
    EXPECT_HREF_ERROR(data, EXT("graphics/nothere.png", "image/png"), TS_ENOENT, "not found");
    EXPECT_HREF_ERROR(data, EXT("graphics", "image/png"), TS_ESTYLE, "not a regular file");
    EXPECT_HREF_ERROR(data, EXT("", "image/png"), TS_ESTYLE, "empty");

    /* a symlink inside the tree pointing out of it is out of it */
    char link[900], sub[800];
    snprintf(sub, sizeof sub, "%s/sld", ts_test_tmpdir());
    mkdir(sub, 0755);
    snprintf(link, sizeof link, "%s/escape.png", sub);
    remove(link);
    TS_REQUIRE(symlink(abs, link) == 0);
    EXPECT_HREF_ERROR(sub, EXT("escape.png", "image/png"), TS_ESTYLE, "outside");
    remove(link);

    /* formats we do not read and inline data: warned, the graphic's next alternative or
     * nothing; the file of a skipped format is not even looked for */
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR);
    s = parse_in_dir(data,
                     EXT("graphics/none.jpg", "image/jpeg") EXT("data:image/png;base64,AAAA",
                                                                "image/png")
                         EXT("graphics/quad.gif", ""),
                     &err);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 6);
    TS_CHECK_INT(s->fts[0].rules[0].nsyms, 0);
    TS_CHECK_INT(s->nimages, 0);
    ts_style_unref(s);

    /* never the network, whatever the format: warned, not drawn, the rest of the style
     * loads (one remote picture in a GeoServer style had refused the whole configuration) */
    ts_log_set_level(TS_LOG_ERROR);
    s = parse_in_dir(data,
                     EXT("http://example.com/pin.png", "image/png")
                         EXT("https://example.com/pin.png", "image/png")
                             EXT("HTTPS://example.com/pin.svg", "image/svg+xml")
                                 EXT("ftp://example.com/pin.png", "image/png"),
                     &err);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 8);
    TS_CHECK_INT(s->nimages, 0);
    ts_style_unref(s);

    /* SVG: read into outlines at load, drawn at its own size without a Size; one that
     * cannot be read is warned about and the next alternative drawn */
    s = parse_in_dir(data, EXT("graphics/pin.svg", "image/svg+xml"), &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->nimages == 1 && s->images[0].is_svg && s->images[0].svg != NULL);
    TS_CHECK_NEAR(s->images[0].svg->height, 16, 0);
    TS_CHECK_NEAR(s->fts[0].rules[0].syms[0].graphic->size, 16, 0);
    ts_style_unref(s);
    /* GeoServer's SVG parameters in the href: the same file with other parameters is
     * another image; without them the defaults after param() */
    s = parse_in_dir(data,
                     EXT("graphics/param.svg?fill=%2300ff00&amp;outline-width=3", "image/svg+xml")
                         EXT("graphics/param.svg", "image/svg+xml")
                             EXT("graphics/param.svg?fill=%2300ff00&amp;outline-width=3", ""),
                     &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_REQUIRE(s != NULL);
    TS_REQUIRE(s->nimages == 2 && s->images[0].svg && s->images[1].svg);
    TS_CHECK(s->images[0].params != NULL && s->images[1].params == NULL);
    const ts_svg_item *pi = &s->images[0].svg->items[0], *di = &s->images[1].svg->items[0];
    RGB_IS(pi->fill, 0, 0xff, 0);
    RGB_IS(pi->stroke, 0x7f, 0x10, 0x10); /* not given: the default */
    TS_CHECK_NEAR(pi->sk.width, 3, 1e-9);
    RGB_IS(di->fill, 0xd6, 0x27, 0x28);
    TS_CHECK_NEAR(di->sk.width, 1, 1e-9);
    TS_CHECK_INT(s->fts[0].rules[0].syms[2].graphic->image, 0); /* the same file and query */
    ts_style_unref(s);
    ts_log_set_level(TS_LOG_ERROR);
    s = parse_in_dir(data,
                     "<PointSymbolizer><Graphic><ExternalGraphic xmlns:xlink="
                     "\"http://www.w3.org/1999/xlink\"><OnlineResource xlink:type=\"simple\" xlink:href=\"graphics/quad.png\"/><Format>"
                     "image/svg+xml</Format></ExternalGraphic><Mark><WellKnownName>star"
                     "</WellKnownName></Mark></Graphic></PointSymbolizer>",
                     &err);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL); /* a PNG named as SVG: not SVG, warned; the star is drawn */
    TS_CHECK(s->nwarnings >= 1);
    TS_REQUIRE(s->fts[0].rules[0].nsyms == 1);
    TS_CHECK_INT(s->fts[0].rules[0].syms[0].graphic->image, -1);
    TS_CHECK_INT(s->fts[0].rules[0].syms[0].graphic->mark, TS_MARK_STAR);
    ts_style_unref(s);
}

/* ---- text ----------------------------------------------------------------------------- */

TS_TEST(style_text_symbolizer_defaults)
{
    ts_err err;
    ts_style *s = parse_rule_body("<TextSymbolizer><Label>x</Label></TextSymbolizer>"
                                  "<TextSymbolizer/>",
                                  &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->fts[0].rules[0].nsyms == 2);
    const ts_symbolizer *y = &s->fts[0].rules[0].syms[0];
    TS_CHECK_INT(y->kind, TS_SYM_TEXT);
    const ts_text *t = y->text;
    TS_REQUIRE(t != NULL && y->label != NULL);
    TS_CHECK_INT(t->nfont_family, 0);
    TS_CHECK_NEAR(t->font_size, 10, 0);
    TS_CHECK_INT(t->font_style, TS_FONT_NORMAL);
    TS_CHECK_INT(t->font_bold, 0);
    TS_CHECK(y->has_fill);
    RGB_IS(y->fill, 0, 0, 0);
    TS_CHECK_NEAR(y->fill_opacity, 1, 0);
    TS_CHECK(!y->has_stroke);
    TS_CHECK_INT(t->has_halo, 0);
    TS_CHECK_NEAR(t->halo_radius, 1, 0);
    RGB_IS(t->halo_fill, 255, 255, 255);
    TS_CHECK_INT(t->placement, TS_PLACE_POINT);
    TS_CHECK_NEAR(t->anchor_x, 0, 0);
    TS_CHECK_NEAR(t->anchor_y, 0.5, 0);
    TS_CHECK_NEAR(t->disp_x, 0, 0);
    TS_CHECK_NEAR(t->rotation, 0, 0);
    TS_CHECK(t->rotation_expr == NULL && t->priority == NULL);
    TS_CHECK_INT(t->is_aligned, 1);
    TS_CHECK_INT(t->is_repeated, 0);
    TS_CHECK_NEAR(t->repeat, 0, 0);
    TS_CHECK_NEAR(t->max_angle_delta, 22.5, 0);
    TS_CHECK_INT(t->follow_line, 0);
    TS_CHECK_NEAR(t->space_around, 0, 0);
    TS_CHECK_INT(t->group, 0);
    TS_CHECK_NEAR(t->max_displacement, 0, 0);
    TS_CHECK_NEAR(t->auto_wrap, 0, 0);
    TS_CHECK_INT(t->conflict_resolution, 1);
    TS_CHECK_INT(t->partials, 0);
    TS_CHECK_INT(t->fraction, 0);
    /* no Label: nothing to draw, but a symbolizer all the same */
    TS_CHECK(s->fts[0].rules[0].syms[1].label == NULL);
    ts_style_unref(s);
}

TS_TEST(style_text_symbolizer_qgis)
{
    ts_err err;
    ts_style *s = load_data("qgis_labels.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    TS_REQUIRE(s->nfts == 1 && s->fts[0].nrules == 3);
    TS_CHECK_INT(s->fts[0].rules[0].nsyms, 2);
    const ts_rule *r = &s->fts[0].rules[1];
    TS_CHECK_NEAR(r->max_scale, 10000, 0);
    TS_REQUIRE(r->nsyms == 1);
    const ts_symbolizer *y = &r->syms[0];
    const ts_text *t = y->text;
    TS_REQUIRE(t != NULL);
    TS_CHECK_INT(t->nfont_family, 1);
    TS_CHECK_STR(t->font_family[0], "DejaVu Sans");
    TS_CHECK_NEAR(t->font_size, 13, 0);
    TS_CHECK_INT(t->font_style, TS_FONT_ITALIC);
    TS_CHECK_INT(t->placement, TS_PLACE_LINE);
    TS_CHECK_NEAR(y->perpendicular_offset, 2, 0);
    TS_CHECK_INT(t->generalize_line, 1);
    TS_CHECK_INT(t->has_halo, 1);
    TS_CHECK_NEAR(t->halo_radius, 1.5, 0);
    RGB_IS(t->halo_fill, 0xfa, 0xfa, 0xfa);
    TS_CHECK_NEAR(t->halo_opacity, 0.8, 1e-12);
    RGB_IS(y->fill, 0x32, 0x32, 0x32);
    TS_CHECK_INT(t->follow_line, 1);
    TS_CHECK_NEAR(t->max_angle_delta, 25, 0);
    TS_CHECK_NEAR(t->repeat, 250, 0);
    TS_CHECK_INT(t->group, 1); /* "yes" */
    double d = 0;
    TS_REQUIRE(t->priority != NULL);
    TS_CHECK_INT(ts_expr_eval_number(t->priority, NULL, &d), 1); /* a literal: no feature */
    TS_CHECK_NEAR(d, 700, 0);

    y = &s->fts[0].rules[2].syms[0];
    t = y->text;
    TS_CHECK_INT(t->font_bold, 1);
    TS_CHECK_INT(t->placement, TS_PLACE_POINT);
    TS_CHECK_NEAR(t->anchor_x, 0.5, 0);
    TS_CHECK_NEAR(t->anchor_y, 0.5, 0);
    TS_CHECK_NEAR(t->disp_y, 4, 0);
    TS_REQUIRE(t->rotation_expr != NULL);
    TS_CHECK_NEAR(t->max_displacement, 1, 0);
    /* every property a label, rotation or filter reads is in the table the store loads */
    TS_CHECK(ts_style_prop_index(s, "name") >= 0);
    TS_CHECK(ts_style_prop_index(s, "klasse") >= 0);
    TS_CHECK(ts_style_prop_index(s, "winkel") >= 0);
    kv f[] = {{"winkel", VS("-30.5")}};
    feat ft = {s, f, 1};
    ts_feature_ref ref = {feat_get, &ft, {0, 0, 0, 0}};
    TS_CHECK_INT(ts_expr_eval_number(t->rotation_expr, &ref, &d), 1);
    TS_CHECK_NEAR(d, -30.5, 0);
    ts_style_unref(s);
}

TS_TEST(style_text_symbolizer_geoserver)
{
    ts_err err;
    ts_style *s = load_data("geoserver_graphics.sld", &err);
    TS_REQUIRE(s != NULL);
    const ts_symbolizer *y = &s->fts[0].rules[2].syms[1];
    const ts_text *t = y->text;
    TS_REQUIRE(y->kind == TS_SYM_TEXT && t != NULL);
    /* a CSS list of families, quotes removed */
    TS_REQUIRE(t->nfont_family == 3);
    TS_CHECK_STR(t->font_family[0], "DejaVu Sans");
    TS_CHECK_STR(t->font_family[1], "Liberation Sans");
    TS_CHECK_STR(t->font_family[2], "sans-serif");
    TS_CHECK_NEAR(t->font_size, 12, 0);
    TS_CHECK_INT(t->font_bold, 1);
    TS_CHECK_NEAR(t->anchor_x, 0.5, 0);
    TS_CHECK_NEAR(t->anchor_y, 0, 0);
    TS_CHECK_NEAR(t->disp_y, 14, 0);
    TS_CHECK_NEAR(t->halo_radius, 2, 0);
    TS_CHECK_NEAR(t->halo_opacity, 0.85, 1e-12);
    TS_CHECK_NEAR(t->space_around, 4, 0);
    TS_CHECK_NEAR(t->auto_wrap, 80, 0);
    TS_CHECK_NEAR(t->max_displacement, 20, 0);
    TS_CHECK_INT(t->conflict_resolution, 1);
    /* the label: property, CDATA " (", property, text " m" trimmed to "m", CDATA ")" */
    kv f[] = {{"poi", VS("Rheinturm")}, {"height", VR(240.5)}, {"rank", VI(3)}};
    feat ft = {s, f, 3};
    ts_feature_ref ref = {feat_get, &ft, {0, 0, 0, 0}};
    char buf[128];
    TS_CHECK_INT(ts_label_eval(y->label, &ref, buf, sizeof buf), 18);
    TS_CHECK_STR(buf, "Rheinturm (240.5m)");
    double d = 0;
    TS_REQUIRE(t->priority != NULL);
    TS_CHECK_INT(ts_expr_eval_number(t->priority, &ref, &d), 1);
    TS_CHECK_NEAR(d, 3, 0);
    /* strConcat in the rail label, and a LinePlacement with vendor options */
    y = &s->fts[0].rules[3].syms[2];
    t = y->text;
    kv f2[] = {{"line_no", VI(2400)}};
    feat ft2 = {s, f2, 1};
    ref.ctx = &ft2;
    TS_CHECK_INT(ts_label_eval(y->label, &ref, buf, sizeof buf), 12);
    TS_CHECK_STR(buf, "Strecke 2400"); /* a Literal keeps its space */
    TS_CHECK_INT(t->placement, TS_PLACE_LINE);
    TS_CHECK_NEAR(y->perpendicular_offset, 8, 0);
    TS_CHECK_INT(t->follow_line, 1);
    TS_CHECK_NEAR(t->repeat, 300, 0);
    TS_CHECK_NEAR(t->max_angle_delta, 30, 0);
    TS_CHECK_INT(t->partials, 1);
    ts_style_unref(s);
}

/* The label of a one-TextSymbolizer style whose <Label> content is label_xml. */
static ts_style *
label_style(const char *label_xml, ts_err *err)
{
    char body[4096];
    snprintf(body, sizeof body, "<TextSymbolizer><Label>%s</Label></TextSymbolizer>", label_xml);
    return parse_rule_body(body, err);
}

static const char *
label_of(const ts_style *s, const kv *kvs, int n, size_t cap, size_t *len)
{
    static char buf[256];
    feat f = {s, kvs, n};
    ts_feature_ref ref = {feat_get, &f, {0, 0, 0, 0}};
    memset(buf, 'Z', sizeof buf);
    *len = ts_label_eval(s->fts[0].rules[0].syms[0].label, &ref, buf, cap);
    return buf;
}

TS_TEST(style_label_evaluation)
{
    ts_err err;
    size_t len;
    /* text collapses (trimmed, inner runs one space); CDATA and Literal keep theirs */
    ts_style *s = label_style("\n   Nr.   <ogc:PropertyName>n</ogc:PropertyName>\n  of \t all "
                              "<![CDATA[  x  ]]><ogc:Literal> lit </ogc:Literal>",
                              &err);
    TS_REQUIRE(s != NULL);
    kv a[] = {{"n", VI(7)}};
    TS_CHECK_STR(label_of(s, a, 1, 256, &len), "Nr.7of all  x   lit ");
    TS_CHECK_INT(len, 20);
    ts_style_unref(s);

    /* numbers: integers plainly, reals shortest, integral reals without a fraction */
    s = label_style("<ogc:PropertyName>v</ogc:PropertyName>", &err);
    TS_REQUIRE(s != NULL);
    static const struct {
        ts_value v;
        const char *text;
    } nums[] = {
        {VI(12), "12"},          {VI(-3), "-3"},
        {VR(12.0), "12"},        {VR(-0.0), "0"},
        {VR(0.1), "0.1"},        {VR(2.5), "2.5"},
        {VR(1.0 / 3), "0.3333333333333333"},
        {VR(1e20), "1e+20"},     {VR(123456.789), "123456.789"},
        {VB(1), "true"},         {VB(0), "false"},
        {VS("Königsallee"), "Königsallee"},
        {VS("007"), "007"}, /* strings as they are */
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        kv k[] = {{"v", nums[i].v}};
        const char *got = label_of(s, k, 1, 256, &len);
        if (strcmp(got, nums[i].text) != 0)
            ts_test_fail(__FILE__, __LINE__, "value %zu: \"%s\", expected \"%s\"", i, got,
                         nums[i].text);
        TS_CHECK_INT(len, strlen(nums[i].text));
    }
    kv inf[] = {{"v", VR(INFINITY)}};
    TS_CHECK_STR(label_of(s, inf, 1, 256, &len), "Infinity");
    kv nan[] = {{"v", VR(NAN)}};
    TS_CHECK_STR(label_of(s, nan, 1, 256, &len), "NaN");
    /* null, missing, empty, blank: no label (0) */
    kv nul[] = {{"v", VN}};
    TS_CHECK_INT(ts_label_eval(NULL, NULL, NULL, 0), 0);
    TS_CHECK_STR(label_of(s, nul, 1, 256, &len), "");
    TS_CHECK_INT(len, 0);
    TS_CHECK_STR(label_of(s, NULL, 0, 256, &len), "");
    TS_CHECK_INT(len, 0);
    kv blank[] = {{"v", VS("  \t ")}};
    TS_CHECK_STR(label_of(s, blank, 1, 256, &len), "");
    TS_CHECK_INT(len, 0);
    ts_style_unref(s);

    /* a missing part contributes nothing; the rest stays */
    s = label_style("<ogc:PropertyName>a</ogc:PropertyName><![CDATA[/]]>"
                    "<ogc:PropertyName>b</ogc:PropertyName>",
                    &err);
    TS_REQUIRE(s != NULL);
    kv ab[] = {{"a", VI(12)}, {"b", VI(3)}};
    TS_CHECK_STR(label_of(s, ab, 2, 256, &len), "12/3");
    kv a_only[] = {{"a", VI(12)}};
    TS_CHECK_STR(label_of(s, a_only, 1, 256, &len), "12/");
    TS_CHECK_INT(len, 3);
    /* too small a buffer: cut, NUL-terminated, the full length returned (as snprintf) */
    TS_CHECK_STR(label_of(s, ab, 2, 3, &len), "12");
    TS_CHECK_INT(len, 4);
    TS_CHECK_STR(label_of(s, ab, 2, 1, &len), "");
    TS_CHECK_INT(len, 4);
    ts_style_unref(s);

    /* UTF-8 is never cut inside a character */
    s = label_style("<ogc:Literal>Düsseldorf</ogc:Literal>", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(label_of(s, NULL, 0, 3, &len), "D"); /* "Dü" would need 4 bytes with NUL */
    TS_CHECK_INT(len, 11);
    TS_CHECK_STR(label_of(s, NULL, 0, 4, &len), "D\xc3\xbc");
    ts_style_unref(s);

    /* arithmetic, strConcat, Concatenate (FE function and SE element), newlines in CDATA */
    s = label_style("<ogc:Function name=\"Concatenate\"><ogc:PropertyName>z</ogc:PropertyName>"
                    "<ogc:Literal>-</ogc:Literal><ogc:Mul><ogc:PropertyName>z</ogc:PropertyName>"
                    "<ogc:Literal>1.5</ogc:Literal></ogc:Mul></ogc:Function>"
                    "<![CDATA[\n]]>"
                    "<se:Concatenate xmlns:se=\"http://www.opengis.net/se\"><se:StringValue>"
                    "<ogc:Function name=\"strConcat\"><ogc:Literal>a</ogc:Literal>"
                    "<ogc:Literal>b</ogc:Literal></ogc:Function></se:StringValue>"
                    "<se:StringValue> c </se:StringValue></se:Concatenate>",
                    &err);
    TS_REQUIRE(s != NULL);
    kv z[] = {{"z", VI(4)}};
    TS_CHECK_STR(label_of(s, z, 1, 256, &len), "4-6\nabc");
    double d;
    feat ft = {s, z, 1};
    ts_feature_ref ref = {feat_get, &ft, {0, 0, 0, 0}};
    TS_CHECK_INT(ts_expr_eval_number(s->fts[0].rules[0].syms[0].label, &ref, &d), 0);
    ts_style_unref(s);
    s = label_style("<ogc:Function name=\"strConcat\"><ogc:Literal>1</ogc:Literal>"
                    "<ogc:PropertyName>z</ogc:PropertyName></ogc:Function>",
                    &err);
    TS_REQUIRE(s != NULL);
    ft.s = s; /* the feature resolves names through the new style's table */
    TS_CHECK_INT(ts_expr_eval_number(s->fts[0].rules[0].syms[0].label, &ref, &d), 1);
    TS_CHECK_NEAR(d, 14, 0); /* "1" "4": a number when read as one */
    ts_style_unref(s);

    /* errors in a label are errors; unknown functions skip the symbolizer */
    EXPECT_RULE_ERROR("<TextSymbolizer><Label><ogc:Function name=\"strConcat\"><ogc:Literal>a"
                      "</ogc:Literal></ogc:Function></Label></TextSymbolizer>",
                      TS_ESTYLE, "two arguments");
    EXPECT_RULE_ERROR("<TextSymbolizer><Label><ogc:PropertyIsEqualTo/></Label></TextSymbolizer>",
                      TS_ESTYLE, "PropertyIsEqualTo");
    /* and functions stay errors inside filters (a filter is never approximated) */
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:Function name=\"strConcat\">"
                      "<ogc:Literal>a</ogc:Literal><ogc:Literal>b</ogc:Literal></ogc:Function>"
                      "<ogc:Literal>ab</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "strConcat");
}

TS_TEST(style_text_bad_values)
{
    EXPECT_RULE_ERROR("<TextSymbolizer><Font><CssParameter name=\"font-size\">big"
                      "</CssParameter></Font></TextSymbolizer>",
                      TS_ESTYLE, "font-size");
    EXPECT_RULE_ERROR("<TextSymbolizer><Font><CssParameter name=\"font-size\">-2"
                      "</CssParameter></Font></TextSymbolizer>",
                      TS_ESTYLE, "out of range");
    /* what the text engine cannot draw is refused here, with the line, not at render time */
    EXPECT_RULE_ERROR("<TextSymbolizer><Font><CssParameter name=\"font-size\">0"
                      "</CssParameter></Font></TextSymbolizer>",
                      TS_ESTYLE, "out of range");
    EXPECT_RULE_ERROR("<TextSymbolizer><Font><CssParameter name=\"font-size\">0.005"
                      "</CssParameter></Font></TextSymbolizer>",
                      TS_ESTYLE, "out of range");
    EXPECT_RULE_ERROR("<TextSymbolizer><Font><CssParameter name=\"font-size\">3000"
                      "</CssParameter></Font></TextSymbolizer>",
                      TS_ESTYLE, "out of range");
    EXPECT_RULE_ERROR("<TextSymbolizer><Font><CssParameter name=\"font-weight\">heavy"
                      "</CssParameter></Font></TextSymbolizer>",
                      TS_ESTYLE, "font-weight");
    EXPECT_RULE_ERROR("<TextSymbolizer><Halo><Radius>-1</Radius></Halo></TextSymbolizer>",
                      TS_ESTYLE, "Radius");
    EXPECT_RULE_ERROR("<TextSymbolizer><Halo><Fill><CssParameter name=\"fill\">white"
                      "</CssParameter></Fill></Halo></TextSymbolizer>",
                      TS_ESTYLE, "invalid colour");
    EXPECT_RULE_ERROR("<TextSymbolizer><LabelPlacement><PointPlacement><AnchorPoint>"
                      "<AnchorPointX>x</AnchorPointX></AnchorPoint></PointPlacement>"
                      "</LabelPlacement></TextSymbolizer>",
                      TS_ESTYLE, "AnchorPointX");
    EXPECT_RULE_ERROR("<TextSymbolizer><LabelPlacement><PointPlacement><Rotation>right"
                      "</Rotation></PointPlacement></LabelPlacement></TextSymbolizer>",
                      TS_ESTYLE, "Rotation");
    EXPECT_RULE_ERROR("<TextSymbolizer><LabelPlacement><LinePlacement><IsRepeated>often"
                      "</IsRepeated></LinePlacement></LabelPlacement></TextSymbolizer>",
                      TS_ESTYLE, "IsRepeated");
    EXPECT_RULE_ERROR("<TextSymbolizer><LabelPlacement><LinePlacement><Gap>-5</Gap>"
                      "</LinePlacement></LabelPlacement></TextSymbolizer>",
                      TS_ESTYLE, "Gap");
    EXPECT_RULE_ERROR("<TextSymbolizer><Priority>high</Priority></TextSymbolizer>", TS_ESTYLE,
                      "Priority");
    EXPECT_RULE_ERROR("<TextSymbolizer><VendorOption name=\"followLine\">maybe</VendorOption>"
                      "</TextSymbolizer>",
                      TS_ESTYLE, "followLine");
    EXPECT_RULE_ERROR("<TextSymbolizer><VendorOption name=\"repeat\">-1</VendorOption>"
                      "</TextSymbolizer>",
                      TS_ESTYLE, "repeat");
    EXPECT_RULE_ERROR("<TextSymbolizer><VendorOption name=\"maxAngleDelta\">x</VendorOption>"
                      "</TextSymbolizer>",
                      TS_ESTYLE, "maxAngleDelta");
    EXPECT_RULE_ERROR("<TextSymbolizer><VendorOption>1</VendorOption></TextSymbolizer>",
                      TS_ESTYLE, "without a name");
    EXPECT_RULE_ERROR("<TextSymbolizer uom=\"http://www.opengeospatial.org/se/units/inch\"/>",
                      TS_ESTYLE, "unknown uom");
    EXPECT_RULE_ERROR("<PolygonSymbolizer><Fill><GraphicFill><Graphic><Size>-3</Size>"
                      "</Graphic></GraphicFill></Fill></PolygonSymbolizer>",
                      TS_ESTYLE, "Size");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><GraphicStroke><Graphic/><Gap>wide</Gap>"
                      "</GraphicStroke></Stroke></LineSymbolizer>",
                      TS_ESTYLE, "Gap");
    EXPECT_RULE_ERROR("<PointSymbolizer><Graphic><Displacement><DisplacementX>1e6"
                      "</DisplacementX></Displacement></Graphic></PointSymbolizer>",
                      TS_ESTYLE, "DisplacementX");
    EXPECT_RULE_ERROR("<PointSymbolizer><Graphic><ExternalGraphic><OnlineResource/>"
                      "</ExternalGraphic></Graphic></PointSymbolizer>",
                      TS_ESTYLE, "xlink:href");
}

/* Read what was written to stderr since capture_begin into buf. */
static void
capture_text(capture *c, char *buf, size_t cap)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    rewind(c->f);
    size_t n = fread(buf, 1, cap - 1, c->f);
    buf[n] = '\0';
    fclose(c->f);
    remove(c->path);
}

TS_TEST(style_unsupported_warns_with_line)
{
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_WARN);
    capture c;
    TS_REQUIRE(capture_begin(&c) == 0);
    ts_err err;
    /* the rule body starts on line 4 of the document */
    ts_style *s = parse_rule_body("<TextSymbolizer><Label>a</Label>\n"
                                  "<VendorOption name=\"underlineText\">true</VendorOption>\n"
                                  "</TextSymbolizer><PolygonSymbolizer><Fill><GraphicFill>\n"
                                  "<Graphic><Mark><WellKnownName>extshape://x</WellKnownName>"
                                  "</Mark></Graphic></GraphicFill></Fill></PolygonSymbolizer>\n",
                                  &err);
    static char text[8192];
    capture_text(&c, text, sizeof text);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 3);
    TS_CHECK(contains(text, "inline.sld:5: VendorOption 'underlineText' not supported"));
    TS_CHECK(contains(text, "inline.sld:7: WellKnownName 'extshape://x'"));
    TS_CHECK(contains(text, "inline.sld:7: no Mark or ExternalGraphic"));
    ts_style_unref(s);
}

/* ---- hostile documents: refused with a clear error, memory bounded ------------------------- */

/* The parser's limits (tilesrv/style/style_int.h). */
#define LIMIT_BYTES (16u * 1024u * 1024u)
#define LIMIT_RULES 100000
#define LIMIT_XML_DEPTH 128
#define LIMIT_ATTRS 256
#define LIMIT_PROPS 4096

/* How a hostile parse went, measured in a child process. */
typedef struct hostile {
    long grown_kib;   /* growth of the peak RSS over the parse */
    int refused;      /* ts_style_parse/load returned NULL */
    int code;         /* ts_err code */
    int line;         /* ts_err input_line */
    char msg[256];    /* ts_err msg */
} hostile;

typedef struct hostile_in {
    const char *xml;  /* parse these bytes ... */
    size_t len;
    const char *path; /* ... or load this file */
} hostile_in;

/* Parse (or load) in a forked child and report the result and how much the child's peak
 * RSS grew during the call: the parent's memory is not disturbed, and the figure holds
 * however much memory earlier tests left behind. 0, or -1 when the child died (a crash,
 * a stack overflow) or could not report. */
static int
run_hostile(const hostile_in *in, hostile *out)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        ts_log_set_level(TS_LOG_ERROR);
        hostile h;
        memset(&h, 0, sizeof h);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        long before = ru.ru_maxrss;
        ts_err err;
        ts_err_clear(&err);
        ts_style *st = in->path ? ts_style_load(in->path, &err)
                                : ts_style_parse(in->xml, in->len, "hostile.sld", &err);
        getrusage(RUSAGE_SELF, &ru);
        h.grown_kib = ru.ru_maxrss - before;
        h.refused = st == NULL;
        h.code = err.code;
        h.line = err.input_line;
        snprintf(h.msg, sizeof h.msg, "%.200s", st == NULL ? err.msg : "");
        ts_style_unref(st);
        ssize_t w = write(fds[1], &h, sizeof h);
        _exit(w == (ssize_t)sizeof h ? 0 : 1);
    }
    close(fds[1]);
    ssize_t r = read(fds[0], out, sizeof *out);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return r == (ssize_t)sizeof *out && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Expect in to be refused with code, a message containing needle, at line ln (0: any),
 * the child's peak RSS growing by at most max_kib. */
static void
expect_hostile(const hostile_in *in, ts_status code, const char *needle, int ln, long max_kib,
               const char *file, int line)
{
    hostile h;
    if (run_hostile(in, &h) != 0) {
        ts_test_fail(file, line, "the parsing child died");
        return;
    }
    if (!h.refused) {
        ts_test_fail(file, line, "accepted");
        return;
    }
    if (h.code != (int)code)
        ts_test_fail(file, line, "status %s, expected %s (%s)", ts_status_name(h.code),
                     ts_status_name(code), h.msg);
    if (needle != NULL && !contains(h.msg, needle))
        ts_test_fail(file, line, "message '%s' lacks '%s'", h.msg, needle);
    if (ln > 0 && h.line != ln)
        ts_test_fail(file, line, "line %d, expected %d (%s)", h.line, ln, h.msg);
    if (h.grown_kib > max_kib)
        ts_test_fail(file, line, "peak RSS grew by %ld KiB (at most %ld): %s", h.grown_kib,
                     max_kib, h.msg);
    if (getenv("TS_HOSTILE_VERBOSE") != NULL) /* the figures, for reports */
        fprintf(stderr, "    %s:%d: refused (%s, line %d) with %ld KiB peak RSS growth: %s\n",
                file, line, ts_status_name(h.code), h.line, h.grown_kib, h.msg);
}
#define EXPECT_HOSTILE(in, code, needle, ln, max_kib)                                              \
    expect_hostile((in), (code), (needle), (ln), (max_kib), __FILE__, __LINE__)

/* A growable text buffer for building big documents. */
typedef struct gbuf {
    char *p;
    size_t n, cap;
} gbuf;

static void
gput(gbuf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->n + l + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + l + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL)
            abort();
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
}

/* n copies of s, by doubling. */
static void
grepeat(gbuf *b, const char *s, long n)
{
    size_t l = strlen(s), total = l * (size_t)n;
    if (n <= 0)
        return;
    if (b->n + total + 1 > b->cap) {
        size_t cap = b->n + total + 1;
        char *np = realloc(b->p, cap);
        if (np == NULL)
            abort();
        b->p = np;
        b->cap = cap;
    }
    char *start = b->p + b->n;
    memcpy(start, s, l);
    for (size_t done = l; done < total;) {
        size_t k = done < total - done ? done : total - done;
        memcpy(start + done, start, k);
        done += k;
    }
    b->n += total;
    b->p[b->n] = '\0';
}

/* Document head: the first rule-level content starts on line 4. */
static const char *hostile_head =
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\"\n"
    " xmlns:ogc=\"http://www.opengis.net/ogc\">\n"
    "<NamedLayer><Name>h</Name><UserStyle><FeatureTypeStyle>\n";
static const char *hostile_tail = "</FeatureTypeStyle></UserStyle></NamedLayer>"
                                  "</StyledLayerDescriptor>\n";

/* 128 MiB: without the node limits each of these documents takes 0.2 - 1.7 GB (more under
 * ASan); with them the parse stops after at most 200000 nodes (~45 MB, ~80 MB under
 * ASan). */
#define HOSTILE_MAX_KIB (128L * 1024)

TS_TEST(style_hostile_billion_laughs_bounded)
{
    /* ten levels of ten: 10^9 "lol"s if expanded; and the quadratic variant: one 64 KiB
     * entity referenced 10^4 times (640 MB) */
    gbuf b = {0};
    gput(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 \"lol\">\n");
    char decl[256];
    for (int i = 1; i < 10; i++) {
        snprintf(decl, sizeof decl, " <!ENTITY lol%d \"", i);
        gput(&b, decl);
        for (int k = 0; k < 10; k++) {
            snprintf(decl, sizeof decl, "&lol%d;", i - 1);
            gput(&b, decl);
        }
        gput(&b, "\">\n");
    }
    gput(&b, "]>\n");
    gput(&b, hostile_head);
    gput(&b, "<Rule><Name>&lol9;</Name><Title>&lol9;</Title></Rule>\n");
    gput(&b, hostile_tail);
    hostile_in in = {b.p, b.n, NULL};
    EXPECT_HOSTILE(&in, TS_ESTYLE, "entity 'lol0'", 3, 4096);
    free(b.p);

    gbuf q = {0};
    gput(&q, "<!DOCTYPE q [<!ENTITY a \"");
    grepeat(&q, "aaaaaaaaaaaaaaaa", 4096);
    gput(&q, "\">]>\n");
    gput(&q, hostile_head);
    gput(&q, "<Rule><Name>");
    grepeat(&q, "&a;", 10000);
    gput(&q, "</Name></Rule>\n");
    gput(&q, hostile_tail);
    hostile_in qi = {q.p, q.n, NULL};
    EXPECT_HOSTILE(&qi, TS_ESTYLE, "documents declaring entities are refused", 1, 4096);
    free(q.p);

    /* parameter entities nesting the same way */
    gbuf pe = {0};
    gput(&pe, "<!DOCTYPE p [\n<!ENTITY % p0 \"<!ENTITY x 'y'>\">\n<!ENTITY % p1 \"%p0;%p0;\">\n"
              "%p1;]>\n<StyledLayerDescriptor/>\n");
    hostile_in pi = {pe.p, pe.n, NULL};
    EXPECT_HOSTILE(&pi, TS_ESTYLE, "entity", 2, 4096);
    free(pe.p);
}

/* Every route by which libxml2 could read a local file into the document: the file's
 * content must appear nowhere, neither in the style, nor in the error, nor in the log. */
TS_TEST(style_hostile_external_entities_never_read)
{
    static const char marker[] = "TS-SECRET-d41d8cd98f00";
    char secret[600], dtd[600];
    snprintf(secret, sizeof secret, "%s/secret.txt", ts_test_tmpdir());
    snprintf(dtd, sizeof dtd, "%s/secret.dtd", ts_test_tmpdir());
    FILE *f = fopen(secret, "w");
    TS_REQUIRE(f != NULL);
    fprintf(f, "%s\n", marker);
    fclose(f);
    f = fopen(dtd, "w");
    TS_REQUIRE(f != NULL);
    fprintf(f, "<!ENTITY leak \"%s\">\n", marker);
    fclose(f);

    char docs[8][2048];
    int nd = 0;
    /* an external general entity in content, and in an attribute value */
    snprintf(docs[nd++], sizeof docs[0],
             "<!DOCTYPE x [<!ENTITY e SYSTEM \"file://%s\">]>\n%s<Rule><Name>&e;</Name>"
             "<Title>&e;</Title></Rule>%s",
             secret, hostile_head, hostile_tail);
    snprintf(docs[nd++], sizeof docs[0],
             "<!DOCTYPE x [<!ENTITY e SYSTEM \"%s\">]>\n%s<Rule><TextSymbolizer><Label>&e;"
             "</Label><VendorOption name=\"&e;\">1</VendorOption></TextSymbolizer></Rule>%s",
             secret, hostile_head, hostile_tail);
    /* a parameter entity pulling in a DTD that declares an entity */
    snprintf(docs[nd++], sizeof docs[0],
             "<!DOCTYPE x [<!ENTITY %% d SYSTEM \"file://%s\"> %%d;]>\n%s<Rule><Name>&leak;"
             "</Name></Rule>%s",
             dtd, hostile_head, hostile_tail);
    /* an external DTD subset (not loaded: &leak; stays undefined) */
    snprintf(docs[nd++], sizeof docs[0],
             "<!DOCTYPE StyledLayerDescriptor SYSTEM \"file://%s\">\n%s<Rule><Name>&leak;"
             "</Name></Rule>%s",
             dtd, hostile_head, hostile_tail);
    /* XInclude (not processed) of the file as text, in a name and as a rule */
    snprintf(docs[nd++], sizeof docs[0],
             "%s<Rule><Name><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
             "href=\"file://%s\" parse=\"text\"/></Name></Rule>%s",
             hostile_head, secret, hostile_tail);
    snprintf(docs[nd++], sizeof docs[0],
             "%s<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"%s\" "
             "parse=\"text\"/><Rule><Name>r</Name></Rule>%s",
             hostile_head, secret, hostile_tail);
    /* an unparsed entity and a notation */
    snprintf(docs[nd++], sizeof docs[0],
             "<!DOCTYPE x [<!NOTATION t SYSTEM \"text/plain\"><!ENTITY u SYSTEM \"file://%s\" "
             "NDATA t>]>\n%s<Rule><Name>r</Name></Rule>%s",
             secret, hostile_head, hostile_tail);
    /* the secret as an ExternalGraphic outside the style's directory: refused, not read */
    snprintf(docs[nd++], sizeof docs[0],
             "%s<Rule><PointSymbolizer><Graphic><ExternalGraphic><OnlineResource "
             "xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:href=\"file://%s\"/>"
             "<Format>image/png</Format></ExternalGraphic></Graphic></PointSymbolizer>"
             "</Rule>%s",
             hostile_head, secret, hostile_tail);

    for (int d = 0; d < nd; d++) {
        ts_log_level lvl = ts_log_get_level();
        ts_log_set_level(TS_LOG_DEBUG); /* everything the parser could say */
        capture c;
        TS_REQUIRE(capture_begin(&c) == 0);
        ts_err err;
        ts_err_clear(&err);
        ts_style *st = ts_style_parse(docs[d], strlen(docs[d]), "inline.sld", &err);
        static char text[16384];
        capture_text(&c, text, sizeof text);
        ts_log_set_level(lvl);
        if (contains(err.msg, marker) || contains(text, marker))
            ts_test_fail(__FILE__, __LINE__, "document %d: the secret leaked: %s | %s", d,
                         err.msg, text);
        if (st != NULL) { /* accepted is fine only if nothing was read */
            TS_CHECK(!contains(st->name, marker) && !contains(st->title, marker));
            for (int fi = 0; fi < st->nfts; fi++)
                for (int r = 0; r < st->fts[fi].nrules; r++) {
                    const ts_rule *rule = &st->fts[fi].rules[r];
                    TS_CHECK(!contains(rule->name, marker) && !contains(rule->title, marker) &&
                             !contains(rule->abstract_text, marker));
                    for (int y = 0; y < rule->nsyms; y++) {
                        char lab[256];
                        ts_label_eval(rule->syms[y].label, NULL, lab, sizeof lab);
                        TS_CHECK(!contains(lab, marker));
                    }
                }
            ts_style_unref(st);
        }
        /* the entity declarations are refused outright */
        if (d <= 2 || d == 6)
            TS_CHECK(st == NULL && contains(err.msg, "entity"));
    }
    remove(secret);
    remove(dtd);
}

TS_TEST(style_hostile_100mb_refused_without_reading)
{
    /* 100 MiB in memory: refused by its length before a byte is read. The pages are
     * mapped but never touched, so reading them would show in the RSS. */
    size_t big = 100u * 1024u * 1024u;
    char *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    TS_REQUIRE(m != MAP_FAILED);
    memcpy(m, "<StyledLayerDescriptor><!--", 27);
    hostile_in in = {m, big, NULL};
    EXPECT_HOSTILE(&in, TS_ELIMIT, "exceeds the 16777216-byte limit", 0, 2048);
    /* one byte over the limit is over it; at the limit the bytes are parsed */
    in.len = LIMIT_BYTES + 1;
    EXPECT_HOSTILE(&in, TS_ELIMIT, "byte limit", 0, 2048);
    munmap(m, big);

    /* a 100 MiB file (sparse: no disk used): refused by its size, not read */
    char path[600];
    snprintf(path, sizeof path, "%s/big.sld", ts_test_tmpdir());
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    TS_REQUIRE(fd >= 0);
    TS_REQUIRE(write(fd, "<StyledLayerDescriptor><!--", 27) == 27);
    TS_REQUIRE(ftruncate(fd, (off_t)big) == 0);
    close(fd);
    hostile_in fin = {NULL, 0, path};
    EXPECT_HOSTILE(&fin, TS_ELIMIT, "exceeds the 16777216-byte limit", 0, 2048);
    remove(path);

    /* a file that never ends is not a regular file */
    hostile_in zin = {NULL, 0, "/dev/zero"};
    EXPECT_HOSTILE(&zin, TS_EIO, "not a regular file", 0, 2048);

    /* an 8 MiB comment is read, and costs about its bytes; libxml2 itself refuses text
     * and comment nodes over 10 MB (XML_MAX_TEXT_LENGTH without XML_PARSE_HUGE) */
    gbuf b = {0};
    gput(&b, hostile_head);
    gput(&b, "<!--");
    grepeat(&b, "0123456789abcdef", 512L * 1024);
    gput(&b, "-->\n<Rule><Name>after</Name></Rule>\n");
    gput(&b, hostile_tail);
    hostile h;
    hostile_in cin = {b.p, b.n, NULL};
    TS_REQUIRE(run_hostile(&cin, &h) == 0);
    TS_CHECK(!h.refused);
    TS_CHECK(h.grown_kib < HOSTILE_MAX_KIB);
    b.n = 0;
    gput(&b, hostile_head);
    gput(&b, "<!--");
    grepeat(&b, "0123456789abcdef", (long)(LIMIT_BYTES / 16 - 64));
    gput(&b, "-->\n");
    gput(&b, hostile_tail);
    TS_REQUIRE(b.n <= LIMIT_BYTES);
    cin.xml = b.p;
    cin.len = b.n;
    EXPECT_HOSTILE(&cin, TS_ESTYLE, "Comment", 0, HOSTILE_MAX_KIB);
    free(b.p);
}

TS_TEST(style_hostile_million_rules)
{
    /* 10^6 minimal rules are 7 MB, inside the byte limit: the rule limit stops the parser
     * at rule 100001, on its line */
    gbuf b = {0};
    gput(&b, hostile_head);
    grepeat(&b, "<Rule/>\n", 1000000);
    gput(&b, hostile_tail);
    hostile_in in = {b.p, b.n, NULL};
    EXPECT_HOSTILE(&in, TS_ELIMIT, "more than 100000 rules", 3 + LIMIT_RULES + 1,
                   HOSTILE_MAX_KIB);
    /* exactly at the limit: accepted, every rule compiled */
    b.n = strlen(hostile_head) + 8 * (size_t)LIMIT_RULES;
    b.p[b.n] = '\0';
    gput(&b, hostile_tail);
    ts_err err;
    ts_style *s = ts_style_parse(b.p, b.n, "inline.sld", &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->fts[0].nrules, LIMIT_RULES);
    ts_style_unref(s);
    free(b.p);

    /* rules spread over many FeatureTypeStyles and layers count together */
    gbuf m = {0};
    gput(&m, "<StyledLayerDescriptor>\n");
    for (int l = 0; l < 4; l++) {
        gput(&m, "<NamedLayer><Name>l</Name><UserStyle><FeatureTypeStyle>");
        grepeat(&m, "<Rule/>", LIMIT_RULES / 4);
        gput(&m, "</FeatureTypeStyle></UserStyle></NamedLayer>\n");
    }
    gput(&m, "<NamedLayer><UserStyle><FeatureTypeStyle><Rule/></FeatureTypeStyle></UserStyle>"
             "</NamedLayer></StyledLayerDescriptor>\n");
    hostile_in mi = {m.p, m.n, NULL};
    EXPECT_HOSTILE(&mi, TS_ELIMIT, "rules", 6, HOSTILE_MAX_KIB);
    free(m.p);
}

TS_TEST(style_hostile_node_floods)
{
    /* 500000 empty elements in 2 MB (16 MiB would hold 4 million): libxml2 alone would
     * build a 200 MB DOM of them (1.7 GB for the 4 million) */
    gbuf b = {0};
    gput(&b, hostile_head);
    gput(&b, "<Rule>\n");
    grepeat(&b, "<a/>", 500000);
    gput(&b, "</Rule>");
    gput(&b, hostile_tail);
    hostile_in in = {b.p, b.n, NULL};
    EXPECT_HOSTILE(&in, TS_ELIMIT, "more than 200000 XML nodes", 5, HOSTILE_MAX_KIB);
    free(b.p);

    /* comments, processing instructions, CDATA sections and attributes are nodes too */
    const char *kinds[] = {"<!---->", "<?p?>", "<![CDATA[]]>", "<x a=\"\" b=\"\" c=\"\"/>"};
    for (int k = 0; k < 4; k++) {
        gbuf c = {0};
        gput(&c, hostile_head);
        gput(&c, "<Rule>\n");
        grepeat(&c, kinds[k], k < 3 ? 250000 : 60000);
        gput(&c, "</Rule>");
        gput(&c, hostile_tail);
        hostile_in ci = {c.p, c.n, NULL};
        EXPECT_HOSTILE(&ci, TS_ELIMIT, "more than 200000 XML nodes", 5, HOSTILE_MAX_KIB);
        free(c.p);
    }
}

TS_TEST(style_hostile_attribute_floods)
{
    char at[32];

    /* one tag with 300000 attributes: libxml2 (< 2.12) compares each with all before it,
     * minutes of CPU; refused by a scan before libxml2 sees it, with the tag's line */
    gbuf a = {0};
    gput(&a, hostile_head);
    gput(&a, "<Rule>\n<Name");
    for (int i = 0; i < 300000; i++) {
        snprintf(at, sizeof at, " a%d=\"\"", i);
        gput(&a, at);
    }
    gput(&a, ">x</Name></Rule>");
    gput(&a, hostile_tail);
    hostile_in ai = {a.p, a.n, NULL};
    EXPECT_HOSTILE(&ai, TS_ELIMIT, "more than 256 attributes", 5, HOSTILE_MAX_KIB);
    free(a.p);
    /* tags that never close, quotes that never end: the scan stays linear (a quadratic
     * one would take hours on these 4 MiB); then libxml2 refuses the document at its
     * first byte, so the time is the scan's */
    const char *opens[] = {"<", "<a b=\"", "<a b='=<", "<!--<", "<?<"};
    for (int k = 0; k < 5; k++) {
        gbuf o = {0};
        gput(&o, "x");
        grepeat(&o, opens[k], (long)(LIMIT_BYTES / 4 / strlen(opens[k])));
        hostile_in oi = {o.p, o.n, NULL};
        EXPECT_HOSTILE(&oi, TS_ESTYLE, "Start tag expected", 1, HOSTILE_MAX_KIB);
        free(o.p);
    }
    /* namespace declarations count as attributes; '=' in values, comments, CDATA and
     * quoted '>' do not confuse the count */
    gbuf n = {0};
    gput(&n, "<StyledLayerDescriptor");
    for (int i = 0; i < LIMIT_ATTRS + 1; i++) {
        snprintf(at, sizeof at, " xmlns:p%d=\"u%d\"", i, i);
        gput(&n, at);
    }
    gput(&n, "/>");
    hostile_in ni = {n.p, n.n, NULL};
    EXPECT_HOSTILE(&ni, TS_ELIMIT, "attributes", 1, HOSTILE_MAX_KIB);
    n.n = 0;
    gput(&n, "<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\" note=\"a>b\">\n");
    gput(&n, "<!-- ");
    grepeat(&n, "x=1 ", 1000);
    gput(&n, "--><NamedLayer><Name>");
    gput(&n, "<![CDATA[");
    grepeat(&n, "<y=", 1000);
    gput(&n, "]]></Name><UserStyle><FeatureTypeStyle><Rule");
    for (int i = 0; i < LIMIT_ATTRS; i++) {
        snprintf(at, sizeof at, " a%d=\"=\"", i);
        gput(&n, at);
    }
    gput(&n, "/></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n");
    ts_err err;
    ts_style *s = ts_style_parse(n.p, n.n, "inline.sld", &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_CHECK(s != NULL);
    ts_style_unref(s);
    free(n.p);
}

TS_TEST(style_hostile_many_properties)
{
    /* distinct property names: each is looked up among the others */
    ts_err err;
    ts_style *s;
    gbuf pr = {0};
    gput(&pr, hostile_head);
    char rule[256];
    for (int i = 0; i <= LIMIT_PROPS; i++) {
        snprintf(rule, sizeof rule,
                 "<Rule><ogc:Filter><ogc:PropertyIsNull><ogc:PropertyName>p%d"
                 "</ogc:PropertyName></ogc:PropertyIsNull></ogc:Filter></Rule>\n",
                 i);
        gput(&pr, rule);
        if (i == LIMIT_PROPS - 1) { /* at the limit: fine */
            size_t keep = pr.n;
            gput(&pr, hostile_tail);
            s = ts_style_parse(pr.p, pr.n, "inline.sld", &err);
            TS_REQUIRE(s != NULL);
            TS_CHECK_INT(s->nprops, LIMIT_PROPS);
            ts_style_unref(s);
            pr.n = keep;
            pr.p[keep] = '\0';
        }
    }
    gput(&pr, hostile_tail);
    hostile_in pi = {pr.p, pr.n, NULL};
    EXPECT_HOSTILE(&pi, TS_ELIMIT, "more than 4096 distinct property names", 4 + LIMIT_PROPS,
                   HOSTILE_MAX_KIB);
    free(pr.p);
}

TS_TEST(style_hostile_deep_nesting)
{
    /* 10^5 nested operators: refused at nesting level 129, on the line of that element,
     * without recursion deep enough to matter (ASan watches the stack) */
    const char *ops[][2] = {
        {"<ogc:And>", "</ogc:And>"},
        {"<ogc:Not>", "</ogc:Not>"},
        {"<ogc:Or>\n", "</ogc:Or>"},
        {"<ogc:Add><ogc:Literal>1</ogc:Literal>", "</ogc:Add>"},
    };
    for (int k = 0; k < 4; k++) {
        gbuf b = {0};
        gput(&b, hostile_head);
        gput(&b, "<Rule><ogc:Filter>\n");
        grepeat(&b, ops[k][0], 100000);
        grepeat(&b, ops[k][1], 100000);
        gput(&b, "</ogc:Filter></Rule>");
        gput(&b, hostile_tail);
        hostile_in in = {b.p, b.n, NULL};
        /* SLD, NamedLayer, UserStyle, FTS, Rule, Filter: the operators start at level 7,
         * the 123rd is level 129; they start on line 5, with a newline after each the
         * 123rd is on line 5 + 122 */
        EXPECT_HOSTILE(&in, TS_ELIMIT, "nested deeper than 128 levels", k == 2 ? 5 + 122 : 5,
                       HOSTILE_MAX_KIB);
        free(b.p);
    }
    /* nesting outside filters counts the same */
    gbuf r = {0};
    grepeat(&r, "<Rule>", 100000);
    grepeat(&r, "</Rule>", 100000);
    hostile_in ri = {r.p, r.n, NULL};
    EXPECT_HOSTILE(&ri, TS_ELIMIT, "nested deeper than 128 levels", 1, HOSTILE_MAX_KIB);
    free(r.p);

    /* exactly 128 levels are read (the unknown element is skipped with a warning);
     * 129 are not */
    for (int depth = LIMIT_XML_DEPTH; depth <= LIMIT_XML_DEPTH + 1; depth++) {
        gbuf d = {0};
        gput(&d, hostile_head);
        gput(&d, "<Rule>");
        grepeat(&d, "<x>", depth - 5);
        grepeat(&d, "</x>", depth - 5);
        gput(&d, "</Rule>");
        gput(&d, hostile_tail);
        ts_err err;
        ts_log_level lvl = ts_log_get_level();
        ts_log_set_level(TS_LOG_ERROR);
        ts_style *s = ts_style_parse(d.p, d.n, "inline.sld", &err);
        ts_log_set_level(lvl);
        if (depth == LIMIT_XML_DEPTH) {
            TS_CHECK(s != NULL);
            if (s != NULL)
                TS_CHECK_INT(s->nwarnings, 1);
        } else {
            TS_CHECK(s == NULL);
            TS_CHECK_INT(err.code, TS_ELIMIT);
        }
        ts_style_unref(s);
        free(d.p);
    }
}

TS_TEST(style_colour_forms)
{
    /* #rrggbb, #rgb and GeoTools' 0xrrggbb (GeoServer's pophatch.sld writes 0xAAAAAA) */
#define COLOUR_SLD                                                                                 \
    "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\">"           \
    "<NamedLayer><Name>c</Name><UserStyle><FeatureTypeStyle><Rule><PolygonSymbolizer>"         \
    "<Fill><CssParameter name=\"fill\">%s</CssParameter></Fill></PolygonSymbolizer>"         \
    "</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>"
    static const struct {
        const char *in;
        int ok, r, g, b;
    } cases[] = {{"#a0B1c2", 1, 0xa0, 0xb1, 0xc2}, {"#abc", 1, 0xaa, 0xbb, 0xcc},
                 {"0xAAAAAA", 1, 0xaa, 0xaa, 0xaa}, {"0X10203f", 1, 0x10, 0x20, 0x3f},
                 {"0xAAAAA", 0, 0, 0, 0},           {"0xAAAAAG", 0, 0, 0, 0},
                 {"AAAAAA", 0, 0, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char xml[1024];
        snprintf(xml, sizeof xml, COLOUR_SLD, cases[i].in);
        ts_err err;
        ts_style *s = parse_str(xml, &err);
        TS_CHECK_INT(s != NULL, cases[i].ok);
        if (s != NULL) {
            RGB_IS(s->fts[0].rules[0].syms[0].fill, cases[i].r, cases[i].g, cases[i].b);
            ts_style_unref(s);
        } else {
            TS_CHECK(contains(err.msg, "invalid colour"));
        }
    }
}

#define FN1(name, arg) "<ogc:Function name=\"" name "\">" arg "</ogc:Function>"
#define PROP(x) "<ogc:PropertyName>" x "</ogc:PropertyName>"
#define LIT(x) "<ogc:Literal>" x "</ogc:Literal>"

/* The functions a filter may use: case (QGIS writes upper/lower, GeoServer
 * strToUpperCase/strToLowerCase; Latin-1 letters such as umlauts change too), in / in2..in10
 * and strLength; they also work in labels. */
TS_TEST(style_filter_functions)
{
    kv garage[] = {{"f", VS("garage")}};
    kv strasse[] = {{"f", VS("Stra\xc3\x9f" "e \xc3\xa4\xc3\xb6\xc3\xbc")}}; /* Straße äöü */
    kv num[] = {{"f", VI(12)}};
    kv none[] = {{"g", VI(1)}};
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" FN1("upper", PROP("f")) LIT("GARAGE")
                       "</ogc:PropertyIsEqualTo>", garage, 1), 1);
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" FN1("upper", PROP("f")) LIT("Garage")
                       "</ogc:PropertyIsEqualTo>", garage, 1), 0);
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" FN1("strToUpperCase", PROP("f"))
                       LIT("STRA\xc3\x9f" "E \xc3\x84\xc3\x96\xc3\x9c") "</ogc:PropertyIsEqualTo>",
                       strasse, 1), 1);
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" LIT("stra\xc3\x9f" "e \xc3\xa4\xc3\xb6\xc3\xbc")
                       FN1("strToLowerCase", PROP("f")) "</ogc:PropertyIsEqualTo>", strasse, 1), 1);
    TS_CHECK_INT(eval1("<ogc:PropertyIsLike wildCard=\"*\" singleChar=\".\" escape=\"!\">"
                       FN1("lower", PROP("f")) LIT("stra*") "</ogc:PropertyIsLike>", strasse, 1), 1);
    TS_CHECK_INT(eval1("<ogc:PropertyIsLike wildCard=\"*\" singleChar=\".\" escape=\"!\">"
                       FN1("upper", PROP("f")) LIT("stra*") "</ogc:PropertyIsLike>", strasse, 1), 0);
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" FN1("upper", PROP("f")) LIT("12")
                       "</ogc:PropertyIsEqualTo>", num, 1), 1);
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" FN1("upper", PROP("f")) LIT("X")
                       "</ogc:PropertyIsEqualTo>", none, 1), 0); /* null */
    /* in: GeoServer's form, = true */
    const char *in3 = "<ogc:PropertyIsEqualTo><ogc:Function name=\"in\">" PROP("f")
                      LIT("house") LIT("garage") LIT("shed") "</ogc:Function>" LIT("true")
                      "</ogc:PropertyIsEqualTo>";
    TS_CHECK_INT(eval1(in3, garage, 1), 1);
    TS_CHECK_INT(eval1(in3, strasse, 1), 0);
    TS_CHECK_INT(eval1(in3, none, 1), 0);
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo><ogc:Function name=\"in2\">" PROP("f") LIT("11")
                       LIT("12") "</ogc:Function>" LIT("true") "</ogc:PropertyIsEqualTo>",
                       num, 1), 1); /* numbers compare as numbers */
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo><ogc:Function name=\"in\">" PROP("f") LIT("x")
                       "</ogc:Function>" LIT("false") "</ogc:PropertyIsEqualTo>",
                       garage, 1), 1);
    /* strLength counts characters */
    TS_CHECK_INT(eval1("<ogc:PropertyIsEqualTo>" FN1("strLength", PROP("f")) LIT("10")
                       "</ogc:PropertyIsEqualTo>", strasse, 1), 1);
    TS_CHECK_INT(eval1("<ogc:PropertyIsGreaterThan>" FN1("strLength", PROP("f")) LIT("5")
                       "</ogc:PropertyIsGreaterThan>", garage, 1), 1);
    /* arguments are counted */
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:Function name=\"in2\">" PROP("f")
                      LIT("a") LIT("b") LIT("c") "</ogc:Function>" LIT("true")
                      "</ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "in2");
    EXPECT_RULE_ERROR("<ogc:Filter><ogc:PropertyIsEqualTo><ogc:Function name=\"upper\">"
                      PROP("f") PROP("f") "</ogc:Function>" LIT("X")
                      "</ogc:PropertyIsEqualTo></ogc:Filter>",
                      TS_ESTYLE, "arguments");
    /* in a label: the case of what the argument gives, concatenations too */
    ts_err err;
    ts_style *s = label_style(FN1("strToUpperCase", "<ogc:Function name=\"strConcat\">"
                              PROP("f") LIT(" stra\xc3\x9f" "e") "</ogc:Function>"), &err);
    TS_REQUIRE(s != NULL);
    size_t len;
    TS_CHECK_STR(label_of(s, garage, 1, 256, &len), "GARAGE STRA\xc3\x9f" "E");
    ts_style_unref(s);
}

/* Values of the feature in CssParameters and Size (GeoServer writes a PropertyName or
 * arithmetic there): parsed into expressions and resolved per feature by ts_style_dynamic,
 * colours from text, numbers clamped, a missing or malformed value keeps the fixed one;
 * refused inside GraphicFill patterns and with unknown functions. */
TS_TEST(style_values_of_the_feature)
{
    ts_err err;
    ts_style *s = parse_rule_body(
        "<PolygonSymbolizer><Fill><CssParameter name=\"fill\">" PROP("c") "</CssParameter>"
        "<CssParameter name=\"fill-opacity\">" PROP("o") "</CssParameter></Fill>"
        "<Stroke><CssParameter name=\"stroke-width\"><ogc:Mul>" PROP("w") LIT("2")
        "</ogc:Mul></CssParameter></Stroke></PolygonSymbolizer>"
        "<PointSymbolizer><Graphic><Mark><WellKnownName>circle</WellKnownName><Fill>"
        "<CssParameter name=\"fill\">" PROP("c") "</CssParameter></Fill></Mark>"
        "<Size>" PROP("w") "</Size></Graphic></PointSymbolizer>"
        "<LineSymbolizer><Stroke><CssParameter name=\"stroke\">#123456</CssParameter>"
        "</Stroke></LineSymbolizer>",
        &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_REQUIRE(s != NULL);
    const ts_rule *r = &s->fts[0].rules[0];
    TS_REQUIRE(r->nsyms == 3);
    TS_CHECK(r->syms[0].dynamic && r->syms[1].dynamic && !r->syms[2].dynamic);
    kv f1[] = {{"c", VS("#ff8000")}, {"o", VR(0.5)}, {"w", VI(3)}};
    kv f2[] = {{"c", VS("not a colour")}, {"o", VR(7)}, {"w", VI(-4)}};
    kv f3[] = {{"x", VI(1)}};
    feat ft = {s, f1, 3};
    ts_feature_ref ref = {feat_get, &ft, {0, 0, 0, 0}};
    ts_symbolizer d;
    ts_graphic g;
    ts_style_dynamic(&r->syms[0], &ref, 100, &d, &g);
    RGB_IS(d.fill, 0xff, 0x80, 0);
    TS_CHECK_NEAR(d.fill_opacity, 0.5, 0);
    TS_CHECK_NEAR(d.stroke.width, 6, 0);
    ts_style_dynamic(&r->syms[1], &ref, 100, &d, &g);
    TS_CHECK(d.graphic == &g);
    TS_CHECK_NEAR(g.size, 3, 0);
    RGB_IS(g.fill, 0xff, 0x80, 0);
    TS_CHECK(r->syms[1].graphic->size != 3); /* the style is untouched */
    ft.kvs = f2; /* not a colour: the SLD default grey; numbers clamped */
    ts_style_dynamic(&r->syms[0], &ref, 100, &d, &g);
    RGB_IS(d.fill, 128, 128, 128);
    TS_CHECK_NEAR(d.fill_opacity, 1, 0);
    TS_CHECK_NEAR(d.stroke.width, 0, 0);
    ft.kvs = f3;
    ft.n = 1; /* missing: the fixed values */
    ts_style_dynamic(&r->syms[0], &ref, 100, &d, &g);
    RGB_IS(d.fill, 128, 128, 128);
    TS_CHECK_NEAR(d.stroke.width, 1, 0);
    ts_style_unref(s);
    /* colours as SLD writes them */
    ts_rgba c;
    TS_CHECK(ts_style_colour(" #AbC ", &c) && c.r == 0xaa && c.g == 0xbb && c.b == 0xcc);
    TS_CHECK(ts_style_colour("0x102030", &c) && c.r == 0x10 && c.b == 0x30);
    TS_CHECK(!ts_style_colour("red", &c) && !ts_style_colour("#12345", &c) &&
             !ts_style_colour("", &c));
    /* not in a pattern (drawn once, cached), not with a function we cannot evaluate */
    EXPECT_RULE_ERROR("<PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark><Fill>"
                      "<CssParameter name=\"fill\">" PROP("c") "</CssParameter></Fill></Mark>"
                      "</Graphic></GraphicFill></Fill></PolygonSymbolizer>",
                      TS_ESTYLE, "not supported here");
    EXPECT_RULE_ERROR("<LineSymbolizer><Stroke><CssParameter name=\"stroke\">"
                      "<ogc:Function name=\"env\">" LIT("c") "</ogc:Function></CssParameter>"
                      "</Stroke></LineSymbolizer>",
                      TS_ESTYLE, "function");
    EXPECT_RULE_ERROR("<TextSymbolizer><Label>x</Label><Fill><CssParameter name=\"fill\">"
                      PROP("c") "</CssParameter></Fill></TextSymbolizer>",
                      TS_ESTYLE, "fill");
}

/* GeoServer's thematic functions: Recode (a lookup), Categorize (classes by thresholds,
 * "succeeding" by default, "preceding" on request) and Interpolate (linear or cosine, in
 * numbers or RGB colours), with their argument counts checked. */
TS_TEST(style_thematic_functions)
{
    ts_err err;
    size_t len;
    ts_style *s = label_style("<ogc:Function name=\"Recode\">" PROP("k") LIT("wohnen")
                              LIT("#ff0000") LIT("gewerbe") LIT("#0000ff") "</ogc:Function>",
                              &err);
    TS_REQUIRE(s != NULL);
    kv wohnen[] = {{"k", VS("wohnen")}}, wald[] = {{"k", VS("wald")}};
    TS_CHECK_STR(label_of(s, wohnen, 1, 64, &len), "#ff0000");
    TS_CHECK_STR(label_of(s, wald, 1, 64, &len), ""); /* no key: null */
    ts_style_unref(s);

    s = label_style("<ogc:Function name=\"Categorize\">" PROP("v") LIT("low") LIT("10")
                    LIT("mid") LIT("20") LIT("high") "</ogc:Function>",
                    &err);
    TS_REQUIRE(s != NULL);
    kv v5[] = {{"v", VI(5)}}, v10[] = {{"v", VI(10)}}, v15[] = {{"v", VR(15.5)}},
       v20[] = {{"v", VI(20)}}, v99[] = {{"v", VI(99)}}, vnull[] = {{"x", VI(1)}};
    TS_CHECK_STR(label_of(s, v5, 1, 64, &len), "low");
    TS_CHECK_STR(label_of(s, v10, 1, 64, &len), "mid"); /* succeeding: from 10 on */
    TS_CHECK_STR(label_of(s, v15, 1, 64, &len), "mid");
    TS_CHECK_STR(label_of(s, v20, 1, 64, &len), "high");
    TS_CHECK_STR(label_of(s, v99, 1, 64, &len), "high");
    TS_CHECK_STR(label_of(s, vnull, 1, 64, &len), "");
    ts_style_unref(s);
    s = label_style("<ogc:Function name=\"Categorize\">" PROP("v") LIT("low") LIT("10")
                    LIT("mid") LIT("preceding") "</ogc:Function>",
                    &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(label_of(s, v10, 1, 64, &len), "low"); /* preceding: above 10 */
    TS_CHECK_STR(label_of(s, v15, 1, 64, &len), "mid");
    ts_style_unref(s);

    s = label_style("<ogc:Function name=\"Interpolate\">" PROP("v") LIT("10") LIT("#000000")
                    LIT("20") LIT("#ff8000") "</ogc:Function>",
                    &err);
    TS_REQUIRE(s != NULL); /* colours: found without a mode */
    TS_CHECK_STR(label_of(s, v5, 1, 64, &len), "#000000");
    TS_CHECK_STR(label_of(s, v15, 1, 64, &len), "#8c4600"); /* 5.5 / 10 of the way */
    TS_CHECK_STR(label_of(s, v99, 1, 64, &len), "#ff8000");
    ts_style_unref(s);
    s = label_style("<ogc:Function name=\"Interpolate\">" PROP("v") LIT("10") LIT("2") LIT("20")
                    LIT("4") LIT("numeric") LIT("linear") "</ogc:Function>",
                    &err);
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(label_of(s, v15, 1, 64, &len), "3.1");
    TS_CHECK_STR(label_of(s, v20, 1, 64, &len), "4");
    ts_style_unref(s);
    s = label_style("<ogc:Function name=\"Interpolate\">" PROP("v") LIT("10") LIT("0") LIT("20")
                    LIT("100") LIT("cosine") "</ogc:Function>",
                    &err);
    TS_REQUIRE(s != NULL);
    kv v125[] = {{"v", VR(12.5)}};
    TS_CHECK_STR(label_of(s, v125, 1, 64, &len), "14.64466094067262"); /* (1 - cos(pi/4)) / 2 */
    ts_style_unref(s);

    /* as a fill colour */
    s = parse_rule_body("<PolygonSymbolizer><Fill><CssParameter name=\"fill\">"
                        "<ogc:Function name=\"Categorize\">" PROP("v") LIT("#00ff00") LIT("10")
                        LIT("#ff0000") "</ogc:Function></CssParameter></Fill></PolygonSymbolizer>",
                        &err);
    TS_REQUIRE(s != NULL);
    feat ft = {s, v15, 1};
    ts_feature_ref ref = {feat_get, &ft, {0, 0, 0, 0}};
    ts_symbolizer d;
    ts_graphic g;
    ts_style_dynamic(&s->fts[0].rules[0].syms[0], &ref, 100, &d, &g);
    RGB_IS(d.fill, 0xff, 0, 0);
    ts_style_unref(s);

    EXPECT_RULE_ERROR("<TextSymbolizer><Label><ogc:Function name=\"Recode\">" PROP("k") LIT("a")
                      LIT("b") LIT("c") "</ogc:Function></Label></TextSymbolizer>",
                      TS_ESTYLE, "Recode");
    EXPECT_RULE_ERROR("<TextSymbolizer><Label><ogc:Function name=\"Categorize\">" PROP("k")
                      LIT("a") LIT("1") "</ogc:Function></Label></TextSymbolizer>",
                      TS_ESTYLE, "threshold");
    EXPECT_RULE_ERROR("<TextSymbolizer><Label><ogc:Function name=\"Interpolate\">" PROP("k")
                      LIT("1") LIT("2") LIT("3") LIT("4") LIT("cubic")
                      "</ogc:Function></Label></TextSymbolizer>",
                      TS_ESTYLE, "cubic");
}

/* A configured layer reads the NamedLayer of its own name from a file that holds several
 * (it always got the first); without one of its name, the first. */
TS_TEST(style_prefer_the_named_layer)
{
    static const char *two =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\">"
        "<NamedLayer><Name>a</Name><UserStyle><FeatureTypeStyle><Rule><PolygonSymbolizer>"
        "<Fill><CssParameter name=\"fill\">#ff0000</CssParameter></Fill></PolygonSymbolizer>"
        "</Rule></FeatureTypeStyle></UserStyle></NamedLayer>"
        "<NamedLayer><Name> b </Name><UserStyle><FeatureTypeStyle><Rule><PolygonSymbolizer>"
        "<Fill><CssParameter name=\"fill\">#0000ff</CssParameter></Fill></PolygonSymbolizer>"
        "</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>";
    ts_err err;
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR);
    ts_style *s = ts_style_parse_prefer(two, strlen(two), "two.sld", "b", &err);
    TS_REQUIRE(s != NULL);
    RGB_IS(s->fts[0].rules[0].syms[0].fill, 0, 0, 0xff);
    TS_CHECK_INT(s->nwarnings, 0);
    ts_style_unref(s);
    s = ts_style_parse_prefer(two, strlen(two), "two.sld", "parcels", &err);
    TS_REQUIRE(s != NULL);
    RGB_IS(s->fts[0].rules[0].syms[0].fill, 0xff, 0, 0);
    TS_CHECK_INT(s->nwarnings, 1); /* the second layer is not used */
    ts_style_unref(s);
    ts_log_set_level(lvl);
    /* the strict form still refuses a missing name */
    TS_CHECK(ts_style_parse_layer(two, strlen(two), "two.sld", "parcels", &err) == NULL);
    TS_CHECK_INT(err.code, TS_ENOENT);
}

/* Font marks: GeoServer's WellKnownName ttf://Family#code and SE 1.1's OnlineResource +
 * MarkIndex (what QGIS writes for its font markers); codes in hex, U+ or decimal; a
 * malformed one is warned about and the symbolizer skipped. */
TS_TEST(style_font_marks)
{
    ts_err err;
    ts_style *s = parse_rule_body(
        "<PointSymbolizer><Graphic><Mark><WellKnownName>ttf://DejaVu Sans#0x2605"
        "</WellKnownName><Fill/></Mark><Size>12</Size></Graphic></PointSymbolizer>"
        "<PointSymbolizer><Graphic><Mark><WellKnownName>ttf://DejaVu Sans#${'U+002F'}"
        "</WellKnownName><Fill/></Mark></Graphic></PointSymbolizer>"
        "<PointSymbolizer><Graphic><Mark><se:OnlineResource xmlns:se=\"http://www.opengis.net/se\""
        " xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\""
        " xlink:href=\"ttf://DejaVu Sans\"/><se:Format xmlns:se=\"http://www.opengis.net/se\">ttf"
        "</se:Format><se:MarkIndex xmlns:se=\"http://www.opengis.net/se\">80</se:MarkIndex>"
        "<Fill/></Mark></Graphic></PointSymbolizer>",
        &err);
    if (s == NULL)
        fprintf(stderr, "    %s\n", fmt_err(&err));
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->nwarnings, 0);
    const ts_rule *r = &s->fts[0].rules[0];
    TS_REQUIRE(r->nsyms == 3);
    const ts_graphic *g = r->syms[0].graphic;
    TS_CHECK_STR(g->glyph_font, "DejaVu Sans");
    TS_CHECK_INT(g->glyph, 0x2605);
    TS_CHECK_INT(g->glyph_em, 0);
    g = r->syms[1].graphic; /* GeoServer's embedded CQL literal (Rennes' PLUi styles) */
    TS_CHECK_STR(g->glyph_font, "DejaVu Sans");
    TS_CHECK_INT(g->glyph, 0x2F);
    g = r->syms[2].graphic;
    TS_CHECK_STR(g->glyph_font, "DejaVu Sans");
    TS_CHECK_INT(g->glyph, 'P');
    TS_CHECK_INT(g->glyph_em, 1);
    ts_style_unref(s);
    ts_log_level lvl = ts_log_get_level();
    ts_log_set_level(TS_LOG_ERROR);
    s = parse_rule_body("<PointSymbolizer><Graphic><Mark><WellKnownName>ttf://Wingdings#0xD800"
                        "</WellKnownName></Mark></Graphic></PointSymbolizer>"
                        "<PointSymbolizer><Graphic><Mark><WellKnownName>ttf://Wingdings"
                        "</WellKnownName></Mark></Graphic></PointSymbolizer>",
                        &err);
    ts_log_set_level(lvl);
    TS_REQUIRE(s != NULL);
    TS_CHECK_INT(s->fts[0].rules[0].nsyms, 0); /* both skipped */
    ts_style_unref(s);
}

/* SVG images of ExternalGraphics (style/svg.c): the path grammar (absolute and relative
 * commands, implicit repeats, arcs with packed flags, S/T reflections), shapes, inherited
 * paint and the style attribute, transforms, QGIS's param() colours, the viewBox. */
TS_TEST(svg_outlines_paint_and_transforms)
{
    static const char doc[] =
        "<svg xmlns='http://www.w3.org/2000/svg' width='20' height='10' viewBox='0 0 40 20'"
        " fill='param(fill) #ff0000' stroke='param(outline)'>"
        "<g transform='translate(10,0) scale(2)' style='fill:#00ff00;stroke-width:0.5'>"
        "  <rect x='0' y='0' width='5' height='5'/>"
        "</g>"
        "<path d='M0 0 L10 0 l0 10 h-10 z m20 0 10 0 0 10 -10 0z' fill-rule='evenodd'/>"
        "<path d='M0,0 a5,5 0 105,5 C1 1 2 2 3 3 S5 5 6 6 Q7 7 8 8 T10 10' stroke='blue'"
        " fill='none' opacity='0.5'/>"
        "<circle cx='30' cy='10' r='5' fill='rgb(0,0,255)' display='none'/>"
        "<polygon points='0,0 4,0 2,3' fill='navy'/>"
        "<text x='0' y='0'>ignored</text>"
        "</svg>";
    ts_err e = {0};
    ts_svg *s = ts_svg_parse(doc, sizeof doc - 1, "test.svg", NULL, &e);
    TS_REQUIRE(s != NULL);
    TS_CHECK(s->w == 40 && s->h == 20 && s->width == 20 && s->height == 10);
    TS_CHECK(s->nitems == 4); /* rect, two paths, polygon; the hidden circle left out */
    const ts_svg_item *r = &s->items[0];
    TS_CHECK(r->has_fill && r->fill.g == 255 && r->fill.r == 0);         /* style wins */
    TS_CHECK(!r->has_stroke);                                              /* param(): none */
    TS_CHECK(r->nparts == 1 && r->counts[0] == 4 && r->closed[0]);
    TS_CHECK(r->xy[2] == 20 && r->xy[3] == 0 && r->xy[4] == 20 && r->xy[5] == 10); /* 10+2*5 */
    const ts_svg_item *q = &s->items[1];
    TS_CHECK(q->fill.r == 255 && q->evenodd && q->nparts == 2); /* inherited param default */
    TS_CHECK(q->counts[0] == 4 && q->counts[1] == 4 && q->closed[0] && q->closed[1]);
    TS_CHECK(q->xy[8] == 20 && q->xy[10] == 30 && q->xy[13] == 10); /* m20 0 then 10 0 ... */
    const ts_svg_item *a = &s->items[2];
    TS_CHECK(!a->has_fill && a->has_stroke && a->stroke.b == 255);
    TS_CHECK(fabs(a->stroke_opacity - 0.5) < 1e-9);
    /* the arc ends at (5, 5) and the last T at (10, 10) */
    uint32_t np = a->counts[0];
    TS_CHECK(np > 10 && fabs(a->xy[2 * np - 2] - 10) < 1e-9 && fabs(a->xy[2 * np - 1] - 10) < 1e-9);
    int reached = 0;
    for (uint32_t i = 0; i < np; i++)
        reached |= fabs(a->xy[2 * i] - 5) < 1e-9 && fabs(a->xy[2 * i + 1] - 5) < 1e-9;
    TS_CHECK(reached);
    /* a large arc (flag 1) of radius 5 from (0,0) to (5,5) goes round the far side: it
     * reaches x < -1 */
    double minx = 0;
    for (uint32_t i = 0; i < np; i++)
        minx = a->xy[2 * i] < minx ? a->xy[2 * i] : minx;
    TS_CHECK(minx < -1);
    TS_CHECK(s->items[3].fill.b == 0x80 && s->items[3].fill.r == 0);
    ts_svg_free(s);

    /* refusals: not SVG, no size, nothing drawable, entities */
    static const char *const bad[] = {
        "<html/>",
        "<svg xmlns='http://www.w3.org/2000/svg'><rect width='1' height='1'/></svg>",
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'><text>x</text></svg>",
        "<!DOCTYPE svg [<!ENTITY a 'b'>]><svg viewBox='0 0 1 1'><rect width='1' height='1'/></svg>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ts_err_clear(&e);
        TS_CHECK(ts_svg_parse(bad[i], strlen(bad[i]), "bad.svg", NULL, &e) == NULL);
        TS_CHECK(e.msg[0] != '\0');
    }
}

/* Every SVG marker QGIS ships (when it is installed) reads. */
TS_TEST(svg_reads_qgis_markers)
{
    const char *root = "/usr/share/qgis/svg";
    DIR *top = opendir(root);
    if (top == NULL) {
        printf("  (no %s: skipped)\n", root);
        return;
    }
    int ok = 0, refused = 0, total = 0;
    struct dirent *d;
    while ((d = readdir(top)) != NULL) {
        if (d->d_name[0] == '.')
            continue;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, d->d_name);
        DIR *sub = opendir(dir);
        if (sub == NULL)
            continue;
        struct dirent *f;
        while ((f = readdir(sub)) != NULL) {
            size_t n = strlen(f->d_name);
            if (n < 5 || strcmp(f->d_name + n - 4, ".svg") != 0)
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
            ts_err e = {0};
            ts_svg *s = ts_svg_read(path, NULL, &e);
            total++;
            if (s != NULL && s->nitems > 0)
                ok++;
            else if (strstr(e.msg, "entit") != NULL)
                refused++; /* Illustrator exports declaring entities: refused by policy */
            else
                printf("  %s: %s\n", path, e.msg);
            ts_svg_free(s);
        }
        closedir(sub);
    }
    closedir(top);
    printf("  %d of %d QGIS SVG markers read (%d declare entities)\n", ok, total, refused);
    TS_CHECK(total == 0 || ok + refused == total);
}

/* ElseFilter: the rules of the FeatureTypeStyle before and after it count; one without a
 * filter that draws labels only (QGIS writes its labelling so, after its categories) does
 * not; one without a filter that draws does (its ElseFilter siblings draw nothing). */
TS_TEST(style_else_filter_counts_rules_before_and_after_it)
{
    static const char *head =
        "<StyledLayerDescriptor version=\"1.0.0\" xmlns=\"http://www.opengis.net/sld\""
        " xmlns:ogc=\"http://www.opengis.net/ogc\"><NamedLayer><Name>t</Name><UserStyle>"
        "<FeatureTypeStyle>"
        "<Rule><ElseFilter/><LineSymbolizer><Stroke/></LineSymbolizer></Rule>"
        "<Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>art</ogc:PropertyName>"
        "<ogc:Literal>a</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
        "<LineSymbolizer><Stroke/></LineSymbolizer></Rule>";
    static const char *label_rule =
        "<Rule><TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>"
        "</TextSymbolizer></Rule>";
    static const char *line_rule = "<Rule><LineSymbolizer><Stroke/></LineSymbolizer></Rule>";
    static const char *tail =
        "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>";
    char xml[2048];
    ts_err err;
    kv a[] = {{"art", VS("a")}}, b[] = {{"art", VS("b")}};
    for (int variant = 0; variant < 3; variant++) {
        snprintf(xml, sizeof xml, "%s%s%s", head,
                 variant == 0 ? "" : variant == 1 ? label_rule : line_rule, tail);
        ts_style *s = parse_str(xml, &err);
        TS_REQUIRE(s != NULL);
        const ts_fts *fts = &s->fts[0];
        TS_CHECK(fts->has_else);
        feat fa = {s, a, 1}, fb = {s, b, 1};
        ts_feature_ref ra = {feat_get, &fa, {0, 0, 0, 0}}, rb = {feat_get, &fb, {0, 0, 0, 0}};
        /* the filtered rule after the ElseFilter rule counts */
        TS_CHECK_INT(ts_fts_else_applies(fts, 1000, &ra), 0);
        /* "label everything" is no category; a line for everything is */
        TS_CHECK_INT(ts_fts_else_applies(fts, 1000, &rb), variant == 2 ? 0 : 1);
        const ts_rule *active[3] = {&fts->rules[0], &fts->rules[1], &fts->rules[fts->nrules - 1]};
        TS_CHECK_INT(ts_rules_else_applies(active, fts->nrules, &rb), variant == 2 ? 0 : 1);
        ts_style_unref(s);
    }
}
