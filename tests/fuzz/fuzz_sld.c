/* tests/fuzz/fuzz_sld.c — libFuzzer target for the SLD/SE parser and the filter evaluator.
 *
 * Every input is parsed as a style; a style that compiles is then checked for internal
 * consistency (property table lookups) and each rule's filter is evaluated against a set
 * of features whose attribute values cover the awkward cases (null, NaN, extreme integers,
 * numeric and non-numeric strings, UTF-8); labels, rotations and priorities of the
 * symbolizers are evaluated for the same features. Seeds: the .sld files in styles/,
 * tests/data/style/ and tests/fuzz/corpus/sld/.
 * Built with -fsanitize=fuzzer, or as a plain program with standalone_main.c. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "style/style.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ts_value values[] = {
    {.type = TS_VAL_NULL},
    {.type = TS_VAL_INT, .u.i = 0},
    {.type = TS_VAL_INT, .u.i = 20},
    {.type = TS_VAL_INT, .u.i = INT64_MIN},
    {.type = TS_VAL_INT, .u.i = INT64_MAX},
    {.type = TS_VAL_REAL, .u.d = 20.5},
    {.type = TS_VAL_REAL, .u.d = -1e308},
    {.type = TS_VAL_REAL, .u.d = NAN},
    {.type = TS_VAL_REAL, .u.d = INFINITY},
    {.type = TS_VAL_STR, .u.s = "20"},
    {.type = TS_VAL_STR, .u.s = " 4.5e1 "},
    {.type = TS_VAL_STR, .u.s = "abc"},
    {.type = TS_VAL_STR, .u.s = ""},
    {.type = TS_VAL_STR, .u.s = "K\xc3\xb6nigsallee 100%"},
    {.type = TS_VAL_STR, .u.s = "\xf0\x9f"}, /* truncated UTF-8 */
    {.type = TS_VAL_STR, .u.s = NULL},
    {.type = TS_VAL_BOOL, .u.i = 1},
};
#define NVALUES ((int)(sizeof values / sizeof values[0]))

typedef struct feature {
    int shift;
} feature;

static const ts_value *
get_value(const void *ctx, int prop)
{
    const feature *f = ctx;
    if (prop < 0)
        abort(); /* the compiler never hands out negative indices */
    return (prop + f->shift) % (NVALUES + 1) == NVALUES ? NULL
                                                         : &values[(prop + f->shift) % (NVALUES + 1)];
}

static void
check_graphic(const ts_style *s, const ts_graphic *g, const ts_feature_ref *ref)
{
    double d;
    if (g == NULL)
        return;
    if (g->image >= s->nimages || (g->image >= 0 && s->images[g->image].path == NULL))
        abort();
    if (!(g->size >= 0) || !(g->opacity >= 0 && g->opacity <= 1))
        abort();
    (void)ts_expr_eval_number(g->rotation_expr, ref, &d);
}

/* Labels are written into buffers of several sizes (cut at UTF-8 boundaries, always
 * terminated); expressions of rotations and priorities evaluated. */
static void
check_symbolizer(const ts_style *s, const ts_symbolizer *y, const ts_feature_ref *ref)
{
    static const size_t caps[] = {1, 2, 5, 64, 4096};
    char buf[4096 + 1];
    double d;
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        buf[caps[c]] = 'Z';
        size_t n = ts_label_eval(y->label, ref, buf, caps[c]);
        size_t len = strlen(buf);
        if (len >= caps[c] || buf[caps[c]] != 'Z' || (n < caps[c] && n != len && n != 0))
            abort();
    }
    if (y->text != NULL) {
        (void)ts_expr_eval_number(y->text->priority, ref, &d);
        (void)ts_expr_eval_number(y->text->rotation_expr, ref, &d);
        if (y->text->nfont_family < 0 || y->text->nfont_family > TS_MAX_FONT_FAMILIES)
            abort();
    }
    check_graphic(s, y->graphic, ref);
    check_graphic(s, y->fill_graphic, ref);
    check_graphic(s, y->stroke_graphic, ref);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ts_log_set_level(TS_LOG_ERROR); /* warnings for unsupported elements are expected */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_err err;
    ts_style *s = ts_style_parse((const char *)data, size, "fuzz.sld", &err);
    if (s == NULL)
        return 0;
    for (int i = 0; i < s->nprops; i++)
        if (ts_style_prop_index(s, s->props[i]) != i)
            abort();
    for (int f = 0; f < s->nfts; f++) {
        for (int r = 0; r < s->fts[f].nrules; r++) {
            const ts_rule *rule = &s->fts[f].rules[r];
            if (!(rule->min_scale <= rule->max_scale))
                abort();
            for (int k = 0; k <= NVALUES; k++) {
                feature ft = {k};
                ts_feature_ref ref = {get_value, &ft, {0, 0, 1, 1}};
                (void)ts_filter_eval(rule->filter, &ref);
                for (int y = 0; y < rule->nsyms; y++)
                    check_symbolizer(s, &rule->syms[y], &ref);
            }
        }
    }
    ts_style_unref(ts_style_ref(s));
    ts_style_unref(s);
    return 0;
}
