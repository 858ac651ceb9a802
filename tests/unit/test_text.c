/* Unit tests for text: the font catalogue and its fallbacks, shaping (German text,
 * kerning, invalid UTF-8, lines), drawing through the raster module (ink where the
 * outlines are, halo under the fill, band views equal the whole image, coverage close to
 * FreeType's own rasteriser), layouts (straight, point, along lines, flipping, refusals),
 * oriented boxes and the bounded caches. TS_TEXT_PNG=path writes a sheet of sample
 * labels there to look at. */
#include "test.h"

#include "encode/encode.h"
#include "text/text.h"
#include "util/buf.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEJAVU "/usr/share/fonts/truetype/dejavu"

static ts_font_catalog *
cat_new(void)
{
    static const char *const dirs[] = {DEJAVU};
    ts_err e = {0};
    ts_font_catalog *c = ts_font_catalog_new(dirs, 1, &e);
    if (c == NULL)
        fprintf(stderr, "  catalogue: %s\n", e.msg);
    return c;
}

static int
ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static const char *
find_path(const ts_font_catalog *cat, const char *family, int bold, int italic, ts_font_match *how)
{
    int i = ts_font_catalog_find(cat, family, bold, italic, how);
    const ts_font_info *fi = ts_font_catalog_info(cat, i);
    return fi ? fi->path : "";
}

/* A context, a catalogue and a face, torn down together. */
typedef struct fixture {
    ts_font_catalog *cat;
    ts_text_ctx *t;
    ts_raster *r;
    int sans, sans_bold, serif;
} fixture;

static int
fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->cat = cat_new();
    if (f->cat == NULL)
        return 0;
    ts_err e = {0};
    f->t = ts_text_ctx_new(f->cat, &e);
    f->r = ts_raster_new();
    f->sans = ts_font_catalog_find(f->cat, "DejaVu Sans", 0, 0, NULL);
    f->sans_bold = ts_font_catalog_find(f->cat, "DejaVu Sans", 1, 0, NULL);
    f->serif = ts_font_catalog_find(f->cat, "DejaVu Serif", 0, 0, NULL);
    return f->t != NULL && f->r != NULL;
}

static void
fx_fini(fixture *f)
{
    ts_raster_free(f->r);
    ts_text_ctx_free(f->t);
    ts_font_catalog_free(f->cat);
}

static const ts_text_run *
shape(fixture *f, const char *s, int face, double size)
{
    ts_font_spec spec = {0};
    spec.face = face;
    spec.size_px = size;
    const ts_text_run *run = NULL;
    ts_err e = {0};
    if (ts_text_shape(f->t, s, strlen(s), &spec, &run, &e) != TS_OK)
        fprintf(stderr, "  shape \"%s\": %s\n", s, e.msg);
    return run;
}

static uint32_t
alpha_at(const ts_canvas *c, int x, int y)
{
    return c->px[(size_t)y * (size_t)c->stride + (size_t)x] >> 24;
}

/* Bounds of the pixels with alpha > 0; 0 when there are none. */
static int
ink_bounds(const ts_canvas *c, int *x0, int *y0, int *x1, int *y1)
{
    int any = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++)
            if (alpha_at(c, x, y)) {
                if (!any || x < *x0)
                    *x0 = x;
                if (!any || x > *x1)
                    *x1 = x;
                if (!any || y < *y0)
                    *y0 = y;
                if (!any || y > *y1)
                    *y1 = y;
                any = 1;
            }
    return any;
}

static ts_text_paint
paint_black(void)
{
    ts_text_paint p = {0};
    p.fill = (ts_rgba){0, 0, 0, 255};
    p.fill_opacity = 1;
    return p;
}

/* ------------------------------------------------------------------------------------ */
/* catalogue                                                                             */

TS_TEST(catalog_finds_dejavu_faces)
{
    ts_font_catalog *cat = cat_new();
    TS_REQUIRE(cat != NULL);
    TS_CHECK(ts_font_catalog_count(cat) >= 20);
    ts_font_match how = TS_FONT_FALLBACK;
    TS_CHECK(ends_with(find_path(cat, "DejaVu Sans", 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK_INT(how, TS_FONT_EXACT);
    TS_CHECK(ends_with(find_path(cat, "DejaVu Sans", 1, 0, &how), "/DejaVuSans-Bold.ttf"));
    TS_CHECK(ends_with(find_path(cat, "DejaVu Sans", 0, 1, &how), "/DejaVuSans-Oblique.ttf"));
    TS_CHECK(ends_with(find_path(cat, "DejaVu Sans", 1, 1, &how), "/DejaVuSans-BoldOblique.ttf"));
    TS_CHECK(ends_with(find_path(cat, "DejaVu Serif", 0, 0, &how), "/DejaVuSerif.ttf"));
    TS_CHECK_INT(how, TS_FONT_EXACT);
    TS_CHECK(ends_with(find_path(cat, "DejaVu Serif", 0, 1, &how), "/DejaVuSerif-Italic.ttf"));
    TS_CHECK(ends_with(find_path(cat, "dejavu sans MONO", 0, 0, &how), "/DejaVuSansMono.ttf"));
    TS_CHECK_INT(how, TS_FONT_EXACT);
    /* the legacy family name reaches the condensed faces */
    TS_CHECK(ends_with(find_path(cat, "DejaVu Sans Condensed", 1, 0, &how),
                       "/DejaVuSansCondensed-Bold.ttf"));
    TS_CHECK_INT(how, TS_FONT_EXACT);
    const ts_font_info *fi =
        ts_font_catalog_info(cat, ts_font_catalog_find(cat, "DejaVu Sans", 1, 0, NULL));
    TS_REQUIRE(fi != NULL);
    TS_CHECK_STR(fi->family, "DejaVu Sans");
    TS_CHECK(fi->bold && !fi->italic);
    TS_CHECK_INT(fi->weight, 700);
    TS_CHECK(ts_font_catalog_info(cat, -1) == NULL);
    TS_CHECK(ts_font_catalog_info(cat, ts_font_catalog_count(cat)) == NULL);
    ts_font_catalog_free(cat);
}

TS_TEST(catalog_aliases_and_fallback)
{
    ts_font_catalog *cat = cat_new();
    TS_REQUIRE(cat != NULL);
    ts_font_match how = TS_FONT_EXACT;
    TS_CHECK(ends_with(find_path(cat, "No Such Font", 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK_INT(how, TS_FONT_FALLBACK);
    TS_CHECK(ends_with(find_path(cat, "No Such Font", 1, 1, &how), "/DejaVuSans-BoldOblique.ttf"));
    TS_CHECK_INT(how, TS_FONT_FALLBACK);
    TS_CHECK(ends_with(find_path(cat, "Arial", 1, 0, &how), "/DejaVuSans-Bold.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    TS_CHECK(ends_with(find_path(cat, "Helvetica", 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    TS_CHECK(ends_with(find_path(cat, "sans-serif", 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    TS_CHECK(ends_with(find_path(cat, "SansSerif", 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK(ends_with(find_path(cat, "serif", 0, 1, &how), "/DejaVuSerif-Italic.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    TS_CHECK(ends_with(find_path(cat, "monospace", 1, 0, &how), "/DejaVuSansMono-Bold.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    /* a list: the first name present wins over aliases of earlier names */
    TS_CHECK(ends_with(find_path(cat, "Open Sans, Arial, 'DejaVu Serif'", 0, 0, &how),
                       "/DejaVuSerif.ttf"));
    TS_CHECK_INT(how, TS_FONT_EXACT);
    TS_CHECK(ends_with(find_path(cat, " \"Foo\" , serif ", 0, 0, &how), "/DejaVuSerif.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    TS_CHECK(ends_with(find_path(cat, NULL, 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK_INT(how, TS_FONT_ALIAS);
    TS_CHECK(ends_with(find_path(cat, ",,", 0, 0, &how), "/DejaVuSans.ttf"));
    TS_CHECK_INT(how, TS_FONT_FALLBACK);
    ts_font_catalog_free(cat);
}

TS_TEST(catalog_errors_and_default_dirs)
{
    ts_err e = {0};
    static const char *const missing[] = {"/nonexistent/fonts"};
    TS_CHECK(ts_font_catalog_new(missing, 1, &e) == NULL);
    TS_CHECK_INT(e.code, TS_ENOENT);
    const char *empty[] = {ts_test_tmpdir()};
    ts_err_clear(&e);
    TS_CHECK(ts_font_catalog_new(empty, 1, &e) == NULL);
    TS_CHECK_INT(e.code, TS_ENOENT);
    /* a directory listed twice gives each face once */
    static const char *const twice[] = {DEJAVU, DEJAVU};
    ts_font_catalog *c2 = ts_font_catalog_new(twice, 2, &e);
    ts_font_catalog *c1 = cat_new();
    TS_REQUIRE(c1 != NULL && c2 != NULL);
    TS_CHECK_INT(ts_font_catalog_count(c2), ts_font_catalog_count(c1));
    ts_font_catalog_free(c2);
    ts_font_catalog_free(c1);
    ts_font_catalog *d = ts_font_catalog_new(NULL, 0, &e);
    TS_REQUIRE(d != NULL);
    TS_CHECK(ends_with(find_path(d, "DejaVu Sans", 0, 0, NULL), "/DejaVuSans.ttf"));
    ts_font_catalog_free(d);
    TS_CHECK(ts_text_ctx_new(NULL, &e) == NULL);
}

/* ------------------------------------------------------------------------------------ */
/* shaping                                                                               */

static void
check_run_basics(const ts_text_run *run, size_t nglyphs)
{
    TS_CHECK_INT(run->nglyphs, nglyphs);
    TS_CHECK_INT(run->nmissing, 0);
    TS_CHECK_INT(run->nlines, 1);
    double sum = 0;
    for (size_t i = 0; i < run->nglyphs; i++) {
        TS_CHECK(run->glyphs[i].advance > 0);
        TS_CHECK(run->glyphs[i].gid != 0);
        TS_CHECK_NEAR(run->glyphs[i].x, sum, 1e-9);
        sum += run->glyphs[i].advance;
    }
    TS_CHECK_NEAR(run->width, sum, 1e-9);
    TS_CHECK(run->ascent > 0 && run->descent > 0);
    TS_CHECK(run->line_height >= run->ascent + run->descent - 1e-9);
    TS_CHECK(run->ink_x0 >= -1 && run->ink_x1 <= run->width + 1);
    TS_CHECK(run->ink_y0 >= -run->ascent - 1 && run->ink_y1 <= run->descent + 1);
    TS_CHECK(run->ink_x1 > run->ink_x0 && run->ink_y1 > run->ink_y0);
}

TS_TEST(shape_german_labels)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *a = shape(&f, "Königsallee", f.sans, 16);
    const ts_text_run *b = shape(&f, "Straße", f.sans_bold, 16);
    const ts_text_run *c = shape(&f, "12/3", f.serif, 16);
    TS_REQUIRE(a && b && c);
    check_run_basics(a, 11);
    check_run_basics(b, 6);
    check_run_basics(c, 4);
    /* clusters are byte offsets: 'ö' takes two bytes, so 'n' starts at 3 */
    TS_CHECK_INT(a->glyphs[1].cluster, 1);
    TS_CHECK_INT(a->glyphs[2].cluster, 3);
    TS_CHECK_INT(b->glyphs[5].cluster, 6);
    TS_CHECK_NEAR(a->size_px, 16, 0);
    TS_CHECK_NEAR(a->ascent, 16.0 * 1901 / 2048, 1e-9); /* DejaVu Sans hhea */
    TS_CHECK_NEAR(a->descent, 16.0 * 483 / 2048, 1e-9);
    /* the umlaut and ß are real glyphs: 'ö' reaches above 'o', 'ß' above 's' */
    const ts_text_run *o = shape(&f, "o", f.sans, 40), *oe = shape(&f, "ö", f.sans, 40);
    const ts_text_run *s = shape(&f, "s", f.sans, 40), *sz = shape(&f, "ß", f.sans, 40);
    TS_REQUIRE(o && oe && s && sz);
    TS_CHECK(oe->ink_y0 < o->ink_y0 - 5);
    TS_CHECK(sz->ink_y0 < s->ink_y0 - 5);
    TS_CHECK(oe->glyphs[0].gid != o->glyphs[0].gid);
    /* decomposed input (o + combining diaeresis) composes to the same glyph */
    const ts_text_run *nfd = shape(&f, "o\xcc\x88", f.sans, 40);
    TS_REQUIRE(nfd != NULL);
    TS_CHECK_INT(nfd->nglyphs, 1);
    TS_CHECK_INT(nfd->glyphs[0].gid, oe->glyphs[0].gid);
    const ts_text_run *runs[] = {a, b, c, o, oe, s, sz, nfd};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        ts_text_run_release(runs[i]);
    fx_fini(&f);
}

TS_TEST(shape_kerning_av)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *av = shape(&f, "AV", f.sans, 32);
    const ts_text_run *a = shape(&f, "A", f.sans, 32);
    const ts_text_run *v = shape(&f, "V", f.sans, 32);
    TS_REQUIRE(av && a && v);
    TS_CHECK(av->width < a->width + v->width - 0.5);
    ts_font_spec spec = {0};
    spec.face = f.sans;
    spec.size_px = 32;
    spec.no_kerning = 1;
    const ts_text_run *flat = NULL;
    TS_REQUIRE(ts_text_shape(f.t, "AV", 2, &spec, &flat, NULL) == TS_OK);
    TS_CHECK_NEAR(flat->width, a->width + v->width, 1e-9);
    /* letter spacing: after every character but the last */
    spec.no_kerning = 0;
    spec.letter_spacing_px = 3;
    const ts_text_run *spaced = NULL;
    TS_REQUIRE(ts_text_shape(f.t, "AVA", 3, &spec, &spaced, NULL) == TS_OK);
    const ts_text_run *ava = shape(&f, "AVA", f.sans, 32);
    TS_REQUIRE(ava != NULL);
    TS_CHECK_NEAR(spaced->width, ava->width + 6, 1e-9);
    ts_text_run_release(av);
    ts_text_run_release(a);
    ts_text_run_release(v);
    ts_text_run_release(flat);
    ts_text_run_release(spaced);
    ts_text_run_release(ava);
    fx_fini(&f);
}

TS_TEST(shape_invalid_utf8_and_controls)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    static const char *const bad[] = {
        "\xff\xfe",         "abc\xc3",        "\xe2\x82", "\xc0\xaf",  "\xed\xa0\x80x",
        "\xf4\x90\x80\x80", "a\x80\x80\x80z", "\xf0\x9f", "tab\there", "bell\x07",
    };
    ts_canvas *c = ts_canvas_new(200, 60, NULL);
    TS_REQUIRE(c != NULL);
    ts_text_paint p = paint_black();
    p.halo_radius = 1.5;
    p.halo = (ts_rgba){255, 255, 255, 255};
    p.halo_opacity = 0.8;
    ts_text_glyph_pos pos[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const ts_text_run *run = shape(&f, bad[i], f.sans, 14);
        TS_REQUIRE(run != NULL);
        TS_CHECK(run->nglyphs >= 1 && run->nglyphs < 64);
        for (size_t k = 0; k < run->nglyphs; k++)
            TS_CHECK(run->glyphs[k].cluster < strlen(bad[i]));
        ts_text_layout_straight(run, 10, 40, 0, pos);
        TS_CHECK(ts_text_draw(f.t, f.r, c, run, pos, &p, NULL) == TS_OK);
        ts_text_run_release(run);
    }
    /* controls are spaces: no .notdef for a tab */
    const ts_text_run *tab = shape(&f, "a\tb", f.sans, 14);
    TS_REQUIRE(tab != NULL);
    TS_CHECK_INT(tab->nmissing, 0);
    ts_text_run_release(tab);
    /* random bytes, NULs included */
    uint32_t seed = 4711;
    char s[48];
    for (int n = 0; n < 300; n++) {
        size_t len = (size_t)(n % 47) + 1;
        for (size_t k = 0; k < len; k++) {
            seed = seed * 1664525u + 1013904223u;
            s[k] = (char)(seed >> 24);
        }
        ts_font_spec spec = {0};
        spec.face = f.sans;
        spec.size_px = 11;
        const ts_text_run *run = NULL;
        TS_REQUIRE(ts_text_shape(f.t, s, len, &spec, &run, NULL) == TS_OK);
        TS_CHECK(run->nglyphs <= 4 * len);
        ts_text_glyph_pos *pp = malloc((run->nglyphs + 1) * sizeof *pp);
        TS_REQUIRE(pp != NULL);
        ts_text_layout_straight(run, 5, 30, 0.3, pp);
        TS_CHECK(ts_text_draw(f.t, f.r, c, run, pp, &p, NULL) == TS_OK);
        free(pp);
        ts_text_run_release(run);
    }
    ts_canvas_free(c);
    fx_fini(&f);
}

TS_TEST(shape_empty_lines_and_errors)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *e = shape(&f, "", f.sans, 12);
    TS_REQUIRE(e != NULL);
    TS_CHECK_INT(e->nglyphs, 0);
    TS_CHECK_INT(e->nlines, 1);
    TS_CHECK_NEAR(e->width, 0, 0);
    TS_CHECK(e->ascent > 0);
    ts_canvas *c = ts_canvas_new(20, 20, NULL);
    TS_REQUIRE(c != NULL);
    ts_text_paint p = paint_black();
    TS_CHECK(ts_text_draw(f.t, f.r, c, e, NULL, &p, NULL) == TS_OK);
    ts_text_run_release(e);

    const ts_text_run *one = shape(&f, "Königsallee", f.sans, 16);
    const ts_text_run *two = shape(&f, "Königs\nallee", f.sans, 16);
    const ts_text_run *crlf = shape(&f, "Königs\r\nallee", f.sans, 16);
    TS_REQUIRE(one && two && crlf);
    TS_CHECK_INT(two->nlines, 2);
    TS_CHECK_INT(two->nglyphs, 11); /* no glyph for the line break */
    TS_CHECK_INT(crlf->nglyphs, 11);
    TS_CHECK_INT(two->nmissing, 0);
    TS_CHECK_INT(crlf->nmissing, 0);
    TS_CHECK_INT(two->glyphs[6].line, 1);
    TS_CHECK_NEAR(two->glyphs[6].y, two->line_height, 1e-9);
    TS_CHECK_INT(two->glyphs[6].cluster, 8);
    TS_CHECK_INT(crlf->glyphs[6].cluster, 9);
    TS_CHECK(two->width < one->width);
    /* centred lines: both lines' middles agree */
    double l0 = two->glyphs[5].x + two->glyphs[5].advance - two->glyphs[0].x;
    double l1 = two->glyphs[10].x + two->glyphs[10].advance - two->glyphs[6].x;
    TS_CHECK_NEAR(two->glyphs[0].x + l0 / 2, two->glyphs[6].x + l1 / 2, 1e-9);
    TS_CHECK_NEAR(fmax(l0, l1), two->width, 1e-9);
    double x0, y0, x1, y1;
    ts_text_run_box(two, &x0, &y0, &x1, &y1);
    TS_CHECK_NEAR(y1 - y0, two->ascent + two->line_height + two->descent, 1e-9);
    ts_text_run_release(one);
    ts_text_run_release(two);
    ts_text_run_release(crlf);

    ts_font_spec spec = {0};
    spec.face = f.sans;
    const ts_text_run *run = NULL;
    ts_err err = {0};
    TS_CHECK(ts_text_shape(f.t, "x", 1, &spec, &run, &err) == TS_EINVAL); /* size 0 */
    TS_CHECK(run == NULL);
    spec.size_px = 12;
    spec.face = ts_font_catalog_count(f.cat);
    TS_CHECK(ts_text_shape(f.t, "x", 1, &spec, &run, &err) == TS_EINVAL);
    spec.face = f.sans;
    char *big = malloc(20000);
    TS_REQUIRE(big != NULL);
    memset(big, 'a', 20000);
    TS_CHECK(ts_text_shape(f.t, big, 20000, &spec, &run, &err) == TS_ELIMIT);
    memset(big, '\n', 20000);
    TS_CHECK(ts_text_shape(f.t, big, 2000, &spec, &run, &err) == TS_ELIMIT);
    free(big);
    ts_canvas_free(c);
    fx_fini(&f);
}

TS_TEST(shape_cache_shares_runs_and_stays_bounded)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *a = shape(&f, "Rheinuferpromenade", f.sans, 13);
    const ts_text_run *b = shape(&f, "Rheinuferpromenade", f.sans, 13);
    const ts_text_run *c = shape(&f, "Rheinuferpromenade", f.sans, 13.5);
    TS_REQUIRE(a && b && c);
    TS_CHECK(a == b);
    TS_CHECK(a != c);
    ts_text_stats st;
    ts_text_ctx_stats(f.t, &st);
    TS_CHECK(st.run_hits >= 1);
    TS_CHECK_INT(st.run_entries, 2);
    ts_text_run_release(b);
    ts_text_run_release(c);

    /* small limits: the caches evict, and what is drawn does not change */
    ts_canvas *ref = ts_canvas_new(300, 60, NULL), *got = ts_canvas_new(300, 60, NULL);
    TS_REQUIRE(ref && got);
    ts_text_glyph_pos pos[32];
    ts_text_paint p = paint_black();
    ts_text_layout_straight(a, 10, 40, 0, pos);
    TS_CHECK(ts_text_draw(f.t, f.r, ref, a, pos, &p, NULL) == TS_OK);
    ts_text_ctx_set_cache_limits(f.t, 16384, 4096);
    char label[32];
    for (int i = 0; i < 200; i++) {
        snprintf(label, sizeof label, "Haus %d Ä", i);
        const ts_text_run *r = shape(&f, label, f.sans, 8 + (i % 40));
        TS_REQUIRE(r != NULL);
        ts_text_run_release(r);
        ts_text_ctx_stats(f.t, &st);
        TS_CHECK(st.glyph_bytes <= 16384);
        TS_CHECK(st.run_bytes <= 4096);
    }
    TS_CHECK(st.glyph_entries > 0 && st.run_entries > 0);
    TS_CHECK(ts_text_draw(f.t, f.r, got, a, pos, &p, NULL) == TS_OK);
    TS_CHECK(memcmp(ref->px, got->px, (size_t)ref->stride * ref->h * 4) == 0);
    /* a limit below one entry: nothing kept, still correct */
    ts_text_ctx_set_cache_limits(f.t, 1, 1);
    ts_canvas_clear(got, (ts_rgba){0, 0, 0, 0});
    TS_CHECK(ts_text_draw(f.t, f.r, got, a, pos, &p, NULL) == TS_OK);
    TS_CHECK(memcmp(ref->px, got->px, (size_t)ref->stride * ref->h * 4) == 0);
    ts_text_ctx_stats(f.t, &st);
    TS_CHECK_INT(st.glyph_entries, 0);
    TS_CHECK_INT(st.run_entries, 0);
    ts_canvas_free(ref);
    ts_canvas_free(got);
    /* a run outlives its context */
    ts_text_ctx_free(f.t);
    f.t = NULL;
    TS_CHECK_INT(a->nglyphs, 18);
    ts_text_run_release(a);
    fx_fini(&f);
}

TS_TEST(shape_right_to_left_script)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    /* Hebrew "shalom": glyphs come in visual order, the last character first */
    const ts_text_run *run = shape(&f, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", f.sans, 20);
    TS_REQUIRE(run != NULL);
    TS_CHECK_INT(run->nglyphs, 4);
    TS_CHECK_INT(run->nmissing, 0);
    TS_CHECK_INT(run->glyphs[0].cluster, 6);
    TS_CHECK_INT(run->glyphs[3].cluster, 0);
    for (size_t i = 1; i < run->nglyphs; i++)
        TS_CHECK(run->glyphs[i].x > run->glyphs[i - 1].x);
    ts_text_run_release(run);
    fx_fini(&f);
}

/* Threads: one catalogue, a context per thread, runs shaped in one context drawn and
 * released in another; every thread must draw the same pixels. (TSan builds check the
 * sharing.) */
typedef struct thread_job {
    const ts_font_catalog *cat;
    const ts_text_run *shared;
    uint32_t px[120 * 40];
    int ok;
} thread_job;

static void *
thread_main(void *arg)
{
    thread_job *j = arg;
    ts_text_ctx *t = ts_text_ctx_new(j->cat, NULL);
    ts_raster *r = ts_raster_new();
    ts_canvas *c = ts_canvas_new(120, 40, NULL);
    j->ok = t && r && c;
    if (j->ok) {
        ts_text_paint p = paint_black();
        p.halo_radius = 1;
        p.halo = (ts_rgba){255, 255, 255, 255};
        p.halo_opacity = 1;
        ts_text_glyph_pos pos[32];
        for (int k = 0; k < 20 && j->ok; k++) {
            ts_font_spec spec = {0};
            spec.face = j->shared->face;
            spec.size_px = 10 + k % 5;
            const ts_text_run *mine = NULL;
            j->ok = ts_text_shape(t, "Über Brücken", 13, &spec, &mine, NULL) == TS_OK;
            ts_text_run_release(mine);
        }
        ts_text_layout_straight(j->shared, 5, 28, 0, pos);
        j->ok = j->ok && ts_text_draw(t, r, c, j->shared, pos, &p, NULL) == TS_OK;
        memcpy(j->px, c->px, sizeof j->px);
    }
    ts_text_run_release(j->shared);
    ts_canvas_free(c);
    ts_raster_free(r);
    ts_text_ctx_free(t);
    return NULL;
}

TS_TEST(threads_share_catalogue_and_runs)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Düsseldorf", f.sans, 16);
    TS_REQUIRE(run != NULL);
    enum { N = 4 };
    static thread_job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i].cat = f.cat;
        jobs[i].shared = ts_text_run_ref(run);
        TS_REQUIRE(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        TS_CHECK(jobs[i].ok);
        TS_CHECK(memcmp(jobs[i].px, jobs[0].px, sizeof jobs[0].px) == 0);
    }
    int inked = 0;
    for (size_t k = 0; k < sizeof jobs[0].px / 4; k++)
        inked += jobs[0].px[k] != 0;
    TS_CHECK(inked > 100);
    ts_text_run_release(run);
    fx_fini(&f);
}

/* ------------------------------------------------------------------------------------ */
/* drawing                                                                               */

TS_TEST(draw_ink_inside_the_ink_box)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Königsallee", f.sans, 24);
    TS_REQUIRE(run != NULL);
    ts_canvas *c = ts_canvas_new(260, 70, NULL);
    TS_REQUIRE(c != NULL);
    ts_text_glyph_pos pos[16];
    double ox = 20.25, oy = 45.5;
    ts_text_layout_straight(run, ox, oy, 0, pos);
    ts_text_paint p = paint_black();
    TS_REQUIRE(ts_text_draw(f.t, f.r, c, run, pos, &p, NULL) == TS_OK);
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    TS_REQUIRE(ink_bounds(c, &x0, &y0, &x1, &y1));
    /* inked pixels lie within the ink box (pixel-rounded) and reach its edges */
    TS_CHECK(x0 >= (int)floor(ox + run->ink_x0) && x1 <= (int)floor(ox + run->ink_x1));
    TS_CHECK(y0 >= (int)floor(oy + run->ink_y0) && y1 <= (int)floor(oy + run->ink_y1));
    TS_CHECK(x0 <= (int)floor(ox + run->ink_x0) + 1 && x1 >= (int)floor(ox + run->ink_x1) - 1);
    TS_CHECK(y0 <= (int)floor(oy + run->ink_y0) + 1 && y1 >= (int)floor(oy + run->ink_y1) - 1);
    /* a fair share of the box is ink, and some pixels are fully covered */
    double sum = 0;
    int full = 0;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            sum += alpha_at(c, x, y) / 255.0;
            full += alpha_at(c, x, y) == 255;
        }
    double box = (run->ink_x1 - run->ink_x0) * (run->ink_y1 - run->ink_y0);
    TS_CHECK(sum > 0.12 * box && sum < 0.6 * box);
    TS_CHECK(full > 100);
    /* the first glyph's 'K' stem: solid near its left edge at mid-height */
    TS_CHECK(alpha_at(c, (int)(ox + run->ink_x0) + 1, (int)(oy - 8)) == 255);
    /* the baseline gap: nothing below the baseline under "K" but the descender of 'g' */
    for (int y = (int)oy + 1; y < c->h; y++)
        TS_CHECK_INT(alpha_at(c, (int)(ox + run->ink_x0) + 2, y), 0);
    ts_canvas_free(c);
    ts_text_run_release(run);
    fx_fini(&f);
}

TS_TEST(draw_halo_grows_ink_by_the_radius_and_stays_under_the_fill)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Straße", f.sans_bold, 20);
    TS_REQUIRE(run != NULL);
    ts_canvas *plain = ts_canvas_new(160, 60, NULL), *halo = ts_canvas_new(160, 60, NULL);
    TS_REQUIRE(plain && halo);
    ts_text_glyph_pos pos[8];
    ts_text_layout_straight(run, 30, 40, 0, pos);
    ts_text_paint p = paint_black();
    p.fill = (ts_rgba){200, 30, 20, 255};
    TS_REQUIRE(ts_text_draw(f.t, f.r, plain, run, pos, &p, NULL) == TS_OK);
    p.halo_radius = 2.5;
    p.halo = (ts_rgba){255, 255, 255, 255};
    p.halo_opacity = 1;
    TS_REQUIRE(ts_text_draw(f.t, f.r, halo, run, pos, &p, NULL) == TS_OK);
    int a0 = 0, b0 = 0, a1 = 0, b1 = 0, c0 = 0, d0 = 0, c1 = 0, d1 = 0;
    TS_REQUIRE(ink_bounds(plain, &a0, &b0, &a1, &b1));
    TS_REQUIRE(ink_bounds(halo, &c0, &d0, &c1, &d1));
    TS_CHECK(a0 - c0 >= 2 && a0 - c0 <= 3);
    TS_CHECK(b0 - d0 >= 2 && b0 - d0 <= 3);
    TS_CHECK(c1 - a1 >= 2 && c1 - a1 <= 3);
    TS_CHECK(d1 - b1 >= 2 && d1 - b1 <= 3);
    /* where the glyph fully covers a pixel, the halo does not show */
    uint32_t fill = ts_rgba_premul(p.fill);
    int nfull = 0, nhalo = 0;
    for (int y = 0; y < plain->h; y++)
        for (int x = 0; x < plain->w; x++) {
            uint32_t a = plain->px[(size_t)y * plain->stride + x];
            uint32_t b = halo->px[(size_t)y * halo->stride + x];
            if (a >> 24 == 255) {
                nfull++;
                TS_CHECK(b == fill);
            }
            if (a >> 24 == 0 && b == 0xffffffffu)
                nhalo++;
        }
    TS_CHECK(nfull > 50);
    TS_CHECK(nhalo > 200); /* a solid white ring around the letters */
    ts_canvas_free(plain);
    ts_canvas_free(halo);
    ts_text_run_release(run);
    fx_fini(&f);
}

TS_TEST(draw_bands_equal_whole_image)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Düsseldorf Hbf", f.sans_bold, 22);
    TS_REQUIRE(run != NULL);
    ts_canvas *whole = ts_canvas_new(240, 120, NULL), *banded = ts_canvas_new(240, 120, NULL);
    TS_REQUIRE(whole && banded);
    ts_text_glyph_pos pos[32];
    ts_text_paint p = paint_black();
    p.fill_opacity = 0.9;
    p.halo_radius = 1.7;
    p.halo = (ts_rgba){250, 240, 200, 255};
    p.halo_opacity = 0.7;
    ts_text_layout_straight(run, 20.3, 70.6, -0.35, pos);
    TS_REQUIRE(ts_text_draw(f.t, f.r, whole, run, pos, &p, NULL) == TS_OK);
    /* bands split through the text: 0..47, 47..61, 61..120 */
    int cuts[] = {0, 47, 61, 120};
    for (int k = 0; k < 3; k++) {
        ts_canvas v = ts_canvas_view(banded, cuts[k], cuts[k + 1] - cuts[k]);
        TS_REQUIRE(ts_text_draw(f.t, f.r, &v, run, pos, &p, NULL) == TS_OK);
    }
    TS_CHECK(memcmp(whole->px, banded->px, (size_t)whole->stride * whole->h * 4) == 0);
    int x0, y0, x1, y1;
    TS_CHECK(ink_bounds(whole, &x0, &y0, &x1, &y1) && y0 < 47 && y1 > 61);
    ts_canvas_free(whole);
    ts_canvas_free(banded);
    ts_text_run_release(run);
    fx_fini(&f);
}

/* Coverage against FreeType's own anti-aliasing rasteriser on the same unhinted outline:
 * the two differ only by flattening (ours 0.1 px, FreeType's coarser) and FreeType's
 * 1/64 px rounding of points: measured 0.8-1.8% of the ink summed, at most 23/255 in a
 * pixel, ours 0.1-0.6% lighter (chords of convex curves cut inside); half a pixel of
 * misplacement would be ~50%. */
TS_TEST(draw_matches_freetype_coverage)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_font_info *fi = ts_font_catalog_info(f.cat, f.serif);
    FT_Library lib;
    FT_Face face;
    TS_REQUIRE(FT_Init_FreeType(&lib) == 0);
    TS_REQUIRE(FT_New_Face(lib, fi->path, fi->index, &face) == 0);
    TS_REQUIRE(FT_Set_Pixel_Sizes(face, 0, 40) == 0);
    static const char *const chars[] = {"g", "Ö", "ß", "@", "&"};
    for (size_t k = 0; k < sizeof chars / sizeof chars[0]; k++) {
        const ts_text_run *run = shape(&f, chars[k], f.serif, 40);
        TS_REQUIRE(run != NULL && run->nglyphs == 1);
        TS_REQUIRE(FT_Load_Glyph(face, run->glyphs[0].gid, FT_LOAD_NO_HINTING) == 0);
        TS_REQUIRE(FT_Render_Glyph(face->glyph, FT_RENDER_MODE_NORMAL) == 0);
        const FT_Bitmap *bm = &face->glyph->bitmap;
        ts_canvas *c = ts_canvas_new(80, 80, NULL);
        TS_REQUIRE(c != NULL);
        int ox = 20, oy = 55;
        ts_text_glyph_pos pos = {ox, oy, 0};
        ts_text_paint p = paint_black();
        TS_REQUIRE(ts_text_draw(f.t, f.r, c, run, &pos, &p, NULL) == TS_OK);
        double diff = 0, bias = 0, ink = 0;
        int maxd = 0;
        for (int y = 0; y < c->h; y++)
            for (int x = 0; x < c->w; x++) {
                int bx = x - ox - face->glyph->bitmap_left, by = y - oy + face->glyph->bitmap_top;
                int ft = bx >= 0 && by >= 0 && bx < (int)bm->width && by < (int)bm->rows
                             ? bm->buffer[by * bm->pitch + bx]
                             : 0;
                int ours = (int)alpha_at(c, x, y);
                int d = abs(ours - ft);
                diff += d;
                bias += ours - ft;
                ink += ft;
                maxd = d > maxd ? d : maxd;
            }
        if (!(diff < 0.03 * ink && fabs(bias) < 0.01 * ink && maxd <= 32))
            fprintf(stderr, "  %s: diff %.0f bias %.0f of ink %.0f, max %d\n", chars[k], diff, bias,
                    ink, maxd);
        TS_CHECK(diff < 0.03 * ink);
        TS_CHECK(fabs(bias) < 0.01 * ink);
        TS_CHECK(maxd <= 32);
        ts_canvas_free(c);
        ts_text_run_release(run);
    }
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    fx_fini(&f);
}

/* ------------------------------------------------------------------------------------ */
/* layout                                                                                */

TS_TEST(layout_on_straight_line_equals_straight_layout)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Kaiserswerther Straße", f.sans, 14);
    TS_REQUIRE(run != NULL);
    size_t n = run->nglyphs;
    ts_text_glyph_pos a[64], b[64];
    ts_rbox boxes[64];
    TS_REQUIRE(n < 64);
    /* collinear extra vertices and a zero-length segment exercise the walk */
    double line[] = {10, 100, 90, 100, 90, 100, 250, 100, 500, 100};
    double start = 200, offset = 3;
    TS_REQUIRE(ts_text_layout_on_line(run, line, 5, start, offset, 30, 2, a, boxes) == n);
    double ym = (-run->ascent + run->descent) / 2;
    ts_text_layout_straight(run, 10 + start - run->width / 2, 100 - offset - ym, 0, b);
    for (size_t i = 0; i < n; i++) {
        TS_CHECK_NEAR(a[i].x, b[i].x, 0.01);
        TS_CHECK_NEAR(a[i].y, b[i].y, 0.01);
        TS_CHECK_NEAR(a[i].angle, 0, 1e-12);
        /* boxes: the advance cells, grown by the padding, centred on the line + offset */
        TS_CHECK_NEAR(boxes[i].hw, run->glyphs[i].advance / 2 + 2, 1e-9);
        TS_CHECK_NEAR(boxes[i].hh, (run->ascent + run->descent) / 2 + 2, 1e-9);
        TS_CHECK_NEAR(boxes[i].cy, 100 - offset, 1e-9);
        TS_CHECK_NEAR(boxes[i].cx,
                      10 + start - run->width / 2 + run->glyphs[i].x + run->glyphs[i].advance / 2,
                      1e-9);
    }
    /* the same on a line drawn right to left: reversed, never upside down */
    double back[] = {500, 100, 250, 100, 90, 100, 10, 100};
    TS_REQUIRE(ts_text_layout_on_line(run, back, 4, start, offset, 30, 0, a, NULL) == n);
    ts_text_layout_straight(run, 500 - start - run->width / 2, 100 - offset - ym, 0, b);
    for (size_t i = 0; i < n; i++) {
        TS_CHECK_NEAR(a[i].x, b[i].x, 0.01);
        TS_CHECK_NEAR(a[i].y, b[i].y, 0.01);
        TS_CHECK(fabs(a[i].angle) < 1e-9);
    }
    ts_text_run_release(run);
    fx_fini(&f);
}

TS_TEST(layout_on_line_flips_right_to_left_and_downward_lines)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Berliner Allee", f.sans, 12);
    TS_REQUIRE(run != NULL);
    size_t n = run->nglyphs;
    ts_text_glyph_pos a[32];
    /* a sloping line drawn from right to left: text reads left to right, upright */
    double rtl[] = {400, 50, 200, 120, 20, 160};
    TS_REQUIRE(ts_text_layout_on_line(run, rtl, 3, 150, 0, 45, 0, a, NULL) == n);
    for (size_t i = 0; i < n; i++)
        TS_CHECK(fabs(a[i].angle) < M_PI / 2);
    for (size_t i = 1; i < n; i++)
        TS_CHECK(a[i].x > a[i - 1].x);
    /* the same line drawn left to right gives the same glyph angles */
    double ltr[] = {20, 160, 200, 120, 400, 50};
    ts_text_glyph_pos b[32];
    double len = hypot(180, 40) + hypot(200, 70);
    TS_REQUIRE(ts_text_layout_on_line(run, ltr, 3, len - 150, 0, 45, 0, b, NULL) == n);
    for (size_t i = 0; i < n; i++) {
        TS_CHECK_NEAR(a[i].angle, b[i].angle, 1e-9);
        TS_CHECK_NEAR(a[i].x, b[i].x, 1e-6);
        TS_CHECK_NEAR(a[i].y, b[i].y, 1e-6);
    }
    /* straight down: read bottom to top (-90 degrees); straight up: the same */
    double down[] = {100, 10, 100, 300}, upl[] = {100, 300, 100, 10};
    TS_REQUIRE(ts_text_layout_on_line(run, down, 2, 150, 0, 10, 0, a, NULL) == n);
    TS_REQUIRE(ts_text_layout_on_line(run, upl, 2, 150, 0, 10, 0, b, NULL) == n);
    for (size_t i = 0; i < n; i++) {
        TS_CHECK_NEAR(a[i].angle, -M_PI / 2, 1e-9);
        TS_CHECK_NEAR(b[i].angle, -M_PI / 2, 1e-9);
    }
    for (size_t i = 1; i < n; i++)
        TS_CHECK(a[i].y < a[i - 1].y);
    /* positive offset moves text up as read: left of a leftward-read line is screen-up */
    TS_REQUIRE(ts_text_layout_on_line(run, rtl, 3, 150, 10, 45, 0, b, NULL) == n);
    TS_REQUIRE(ts_text_layout_on_line(run, rtl, 3, 150, 0, 45, 0, a, NULL) == n);
    for (size_t i = 0; i < n; i++)
        TS_CHECK(b[i].y < a[i].y - 8);
    ts_text_run_release(run);
    fx_fini(&f);
}

TS_TEST(layout_on_line_refuses_sharp_turns_and_short_lines)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Graf-Adolf-Platz", f.sans, 12);
    TS_REQUIRE(run != NULL);
    size_t n = run->nglyphs;
    ts_text_glyph_pos a[32];
    ts_rbox boxes[32];
    /* zig-zag: +-40 degrees every 6 px: 80-degree turns */
    double zz[2 * 80];
    for (int i = 0; i < 80; i++) {
        zz[2 * i] = 10 + i * 6 * cos(40 * M_PI / 180);
        zz[2 * i + 1] = 100 + ((i % 2) ? 6 * sin(40 * M_PI / 180) : 0);
    }
    TS_CHECK(ts_text_layout_on_line(run, zz, 80, 200, 0, 45, 0, a, boxes) == 0);
    TS_CHECK(ts_text_layout_on_line(run, zz, 80, 200, 0, 0, 0, a, boxes) == n); /* no limit */
    /* a gentle arc turning 1 degree every 4 px is fine at 30 degrees */
    double arc[2 * 200];
    double x = 10, y = 200, th = -0.4;
    for (int i = 0; i < 200; i++) {
        arc[2 * i] = x;
        arc[2 * i + 1] = y;
        x += 4 * cos(th);
        y += 4 * sin(th);
        th += M_PI / 180;
    }
    TS_CHECK(ts_text_layout_on_line(run, arc, 200, 300, 0, 30, 0, a, boxes) == n);
    for (size_t i = 1; i < n; i++)
        TS_CHECK(fabs(a[i].angle - a[i - 1].angle) < 10 * M_PI / 180);
    /* a right angle under the label is refused at 45 degrees, placed at 100 */
    double corner[] = {10, 100, 110, 100, 110, 200};
    TS_CHECK(ts_text_layout_on_line(run, corner, 3, 100, 0, 45, 0, a, boxes) == 0);
    TS_CHECK(ts_text_layout_on_line(run, corner, 3, 100, 0, 100, 0, a, boxes) == n);
    /* too short, or overhanging either end */
    double shortl[] = {10, 10, 10 + run->width * 0.9, 10};
    TS_CHECK(ts_text_layout_on_line(run, shortl, 2, run->width * 0.45, 0, 45, 0, a, NULL) == 0);
    double longl[] = {10, 10, 310, 10};
    TS_CHECK(ts_text_layout_on_line(run, longl, 2, run->width / 2 - 1, 0, 45, 0, a, NULL) == 0);
    TS_CHECK(ts_text_layout_on_line(run, longl, 2, 300 - run->width / 2 + 1, 0, 45, 0, a, NULL) ==
             0);
    TS_CHECK(ts_text_layout_on_line(run, longl, 2, run->width / 2 + 1, 0, 45, 0, a, NULL) == n);
    TS_CHECK(ts_text_layout_on_line(run, longl, 1, 150, 0, 45, 0, a, NULL) == 0);
    ts_text_run_release(run);
    fx_fini(&f);
}

TS_TEST(layout_point_anchor_displacement_rotation)
{
    fixture f;
    TS_REQUIRE(fx_init(&f));
    const ts_text_run *run = shape(&f, "Altstadt", f.serif, 18);
    TS_REQUIRE(run != NULL);
    size_t n = run->nglyphs;
    ts_text_glyph_pos a[16], b[16];
    ts_rbox box;
    double x0, y0, x1, y1;
    ts_text_run_box(run, &x0, &y0, &x1, &y1);
    /* centred on the point */
    ts_text_point pt = {100, 80, 0.5, 0.5, 0, 0, 0};
    ts_text_layout_point(run, &pt, 2, a, &box);
    ts_text_layout_straight(run, 100 - (x0 + x1) / 2, 80 - (y0 + y1) / 2, 0, b);
    for (size_t i = 0; i < n; i++) {
        TS_CHECK_NEAR(a[i].x, b[i].x, 1e-9);
        TS_CHECK_NEAR(a[i].y, b[i].y, 1e-9);
    }
    TS_CHECK_NEAR(box.cx, 100, 1e-9);
    TS_CHECK_NEAR(box.cy, 80, 1e-9);
    TS_CHECK_NEAR(box.hw, run->width / 2 + 2, 1e-9);
    TS_CHECK_NEAR(box.hh, (run->ascent + run->descent) / 2 + 2, 1e-9);
    /* left-bottom anchor, displaced 5 right and 7 up */
    pt = (ts_text_point){100, 80, 0, 0, 5, 7, 0};
    ts_text_layout_point(run, &pt, 0, a, &box);
    TS_CHECK_NEAR(a[0].x, 105 + run->glyphs[0].dx, 1e-9);
    TS_CHECK_NEAR(a[0].y, 80 - 7 - run->descent, 1e-9);
    TS_CHECK_NEAR(box.cx - box.hw, 105, 1e-9);
    TS_CHECK_NEAR(box.cy + box.hh, 73, 1e-9);
    /* rotated 90 degrees clockwise about the point: the text runs downwards */
    pt = (ts_text_point){100, 80, 0.5, 0.5, 0, 0, 90};
    ts_text_layout_point(run, &pt, 0, a, &box);
    TS_CHECK_NEAR(box.cx, 100, 1e-9);
    TS_CHECK_NEAR(box.cy, 80, 1e-9);
    for (size_t i = 1; i < n; i++)
        TS_CHECK(a[i].y > a[i - 1].y);
    TS_CHECK_NEAR(a[0].angle, M_PI / 2, 1e-12);
    double bx0, by0, bx1, by1;
    ts_rbox_bounds(&box, &bx0, &by0, &bx1, &by1);
    TS_CHECK_NEAR(by1 - by0, run->width, 1e-9);
    TS_CHECK_NEAR(bx1 - bx0, y1 - y0, 1e-9);
    ts_text_run_release(run);
    fx_fini(&f);
}

TS_TEST(rbox_overlap_and_bounds)
{
    ts_rbox a = {0, 0, 10, 2, 0}, b = {13, 0, 4, 4, 0};
    TS_CHECK(ts_rbox_overlap(&a, &b));
    b.cx = 14; /* touching: no overlap */
    TS_CHECK(!ts_rbox_overlap(&a, &b));
    b.cx = 14 - 1e-9;
    TS_CHECK(ts_rbox_overlap(&a, &b));
    b.cx = 15;
    TS_CHECK(!ts_rbox_overlap(&a, &b));
    /* a thin box at 45 degrees passing beside a corner */
    ts_rbox c = {12, -6, 6, 0.5, M_PI / 4};
    TS_CHECK(!ts_rbox_overlap(&a, &c));
    TS_CHECK(!ts_rbox_overlap(&c, &a));
    c.cx = 8;
    c.cy = -2;
    TS_CHECK(ts_rbox_overlap(&a, &c));
    TS_CHECK(ts_rbox_overlap(&c, &a));
    double x0, y0, x1, y1;
    ts_rbox_bounds(&a, &x0, &y0, &x1, &y1);
    TS_CHECK_NEAR(x0, -10, 1e-12);
    TS_CHECK_NEAR(y1, 2, 1e-12);
    ts_rbox d = {0, 0, 1, 1, M_PI / 4};
    ts_rbox_bounds(&d, &x0, &y0, &x1, &y1);
    TS_CHECK_NEAR(x1, sqrt(2), 1e-12);
    TS_CHECK_NEAR(y0, -sqrt(2), 1e-12);
}

/* ------------------------------------------------------------------------------------ */
/* a sheet of samples to look at: TS_TEXT_PNG=/tmp/labels.png test_text sample           */

TS_TEST(sample_sheet_png)
{
    const char *out = getenv("TS_TEXT_PNG");
    fixture f;
    TS_REQUIRE(fx_init(&f));
    ts_canvas *c = ts_canvas_new(640, 400, NULL);
    TS_REQUIRE(c != NULL);
    ts_canvas_clear(c, (ts_rgba){232, 228, 216, 255});
    double dark[] = {320, 0, 640, 0, 640, 200, 320, 200};
    uint32_t ndark = 4;
    ts_parts dpart = {dark, &ndark, 1};
    static const ts_affine id = {1, 1, 0, 0};
    TS_CHECK(ts_raster_fill(f.r, c, &id, &dpart, TS_FILL_NONZERO, (ts_rgba){90, 120, 80, 255}, 1) ==
             TS_OK);
    ts_text_glyph_pos pos[128];
    ts_text_paint p = paint_black();
    struct {
        const char *s;
        const char *family;
        int bold, italic;
        double size, x, y, rot, halo;
    } labels[] = {
        {"Königsallee", "DejaVu Sans", 0, 0, 16, 20, 30, 0, 0},
        {"Straße · Düsseldorf", "DejaVu Sans", 1, 0, 20, 20, 65, 0, 2},
        {"Rheinuferpromenade", "serif", 0, 1, 18, 20, 100, 0, 1.5},
        {"Äußere Grüngürtel 12/3", "DejaVu Sans Condensed", 0, 0, 13, 20, 130, 0, 1},
        {"Schloß Benrath", "sans-serif", 1, 1, 22, 330, 75, -0.3, 2.5},
        {"AV Wa To", "DejaVu Sans", 0, 0, 28, 330, 130, 0, 0},
        {"Ωmega ЖУК ÆØÅ", "monospace", 0, 0, 14, 20, 160, 0, 1},
        {"tiny 7px Öl", "DejaVu Sans", 0, 0, 7, 200, 160, 0, 1},
        {"Zwei\nZeilen", "DejaVu Sans", 1, 0, 14, 540, 170, 0, 1.5},
    };
    for (size_t k = 0; k < sizeof labels / sizeof labels[0]; k++) {
        int face =
            ts_font_catalog_find(f.cat, labels[k].family, labels[k].bold, labels[k].italic, NULL);
        const ts_text_run *run = shape(&f, labels[k].s, face, labels[k].size);
        TS_REQUIRE(run != NULL && run->nglyphs < 128);
        TS_CHECK_INT(run->nmissing, 0);
        ts_text_layout_straight(run, labels[k].x, labels[k].y, labels[k].rot, pos);
        p.fill = k % 2 ? (ts_rgba){40, 40, 120, 255} : (ts_rgba){20, 20, 20, 255};
        p.halo_radius = labels[k].halo;
        p.halo = (ts_rgba){255, 255, 255, 255};
        p.halo_opacity = 0.85;
        TS_CHECK(ts_text_draw(f.t, f.r, c, run, pos, &p, NULL) == TS_OK);
        ts_text_run_release(run);
    }
    /* curved text along a sine wave, the wave drawn too, and along it reversed */
    double wave[2 * 120], rwave[2 * 120];
    for (int i = 0; i < 120; i++) {
        wave[2 * i] = 20 + i * 5;
        wave[2 * i + 1] = 270 + 30 * sin(i * 0.07);
        rwave[2 * (119 - i)] = wave[2 * i];
        rwave[2 * (119 - i) + 1] = wave[2 * i + 1] + 90;
    }
    uint32_t cnt = 120;
    ts_parts parts = {wave, &cnt, 1};
    ts_stroke st = {0};
    st.width = 6;
    st.join = TS_JOIN_ROUND;
    st.cap = TS_CAP_ROUND;
    TS_CHECK(ts_raster_stroke(f.r, c, &id, &parts, 0, &st, (ts_rgba){250, 200, 80, 255}, 1) ==
             TS_OK);
    parts.xy = rwave;
    TS_CHECK(ts_raster_stroke(f.r, c, &id, &parts, 0, &st, (ts_rgba){250, 200, 80, 255}, 1) ==
             TS_OK);
    const ts_text_run *curved = shape(&f, "Kaiserswerther Straße entlang der Welle", f.sans, 13);
    TS_REQUIRE(curved != NULL && curved->nglyphs < 128);
    p.fill = (ts_rgba){30, 30, 30, 255};
    p.halo_radius = 1.5;
    for (int k = 0; k < 2; k++) {
        size_t placed =
            ts_text_layout_on_line(curved, k ? rwave : wave, 120, 300, 0, 30, 0, pos, NULL);
        TS_CHECK(placed == curved->nglyphs);
        if (placed)
            TS_CHECK(ts_text_draw(f.t, f.r, c, curved, pos, &p, NULL) == TS_OK);
    }
    ts_text_run_release(curved);
    if (out != NULL) { /* and a 4x zoom at TS_TEXT_ZOOM=x,y (10,10) next to it */
        int zx = 10, zy = 10;
        const char *zs = getenv("TS_TEXT_ZOOM");
        if (zs) {
            char *end;
            zx = (int)strtol(zs, &end, 10);
            zy = *end == ',' ? (int)strtol(end + 1, NULL, 10) : 10;
            zx = zx < 0 ? 0 : zx > 480 ? 480 : zx;
            zy = zy < 0 ? 0 : zy > 300 ? 300 : zy;
        }
        ts_canvas *z = ts_canvas_new(640, 400, NULL);
        TS_REQUIRE(z != NULL);
        for (int y = 0; y < z->h; y++)
            for (int x = 0; x < z->w; x++)
                z->px[(size_t)y * z->stride + x] =
                    c->px[(size_t)(zy + y / 4) * c->stride + zx + x / 4];
        ts_buf b;
        ts_buf_init(&b, 64u << 20);
        ts_err e = {0};
        char zpath[512];
        snprintf(zpath, sizeof zpath, "%s.zoom.png", out);
        TS_CHECK(ts_png_encode(z, 0, 0, z->w, z->h, NULL, &b, &e) == TS_OK);
        FILE *fp = fopen(zpath, "wb");
        if (fp) {
            fwrite(b.data, 1, b.len, fp);
            fclose(fp);
        }
        ts_buf_fini(&b);
        ts_canvas_free(z);
    }
    if (out != NULL) {
        ts_buf b;
        ts_buf_init(&b, 64u << 20);
        ts_err e = {0};
        TS_CHECK(ts_png_encode(c, 0, 0, c->w, c->h, NULL, &b, &e) == TS_OK);
        FILE *fp = fopen(out, "wb");
        TS_CHECK(fp != NULL);
        if (fp) {
            fwrite(b.data, 1, b.len, fp);
            fclose(fp);
            fprintf(stderr, "  wrote %s\n", out);
        }
        ts_buf_fini(&b);
    }
    ts_canvas_free(c);
    fx_fini(&f);
}

/* ------------------------------------------------------------------------------------ */
/* glyph ranges (sdf.c)                                                                   */

/* A protobuf reader for the tests: the next field of [*p, end) as (field, varint value or
 * bytes). 0 at the end or on malformed input. */
static int
pb_next(const uint8_t **p, const uint8_t *end, int *field, uint64_t *v, const uint8_t **bytes)
{
    uint64_t key = 0;
    int shift = 0;
    if (*p >= end)
        return 0;
    while (*p < end) {
        uint8_t c = *(*p)++;
        key |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
        if (c < 0x80)
            break;
    }
    *field = (int)(key >> 3);
    uint64_t val = 0;
    shift = 0;
    while (*p < end) {
        uint8_t c = *(*p)++;
        val |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
        if (c < 0x80)
            break;
    }
    *v = val;
    *bytes = NULL;
    if ((key & 7) == 2) {
        if (val > (uint64_t)(end - *p))
            return 0;
        *bytes = *p;
        *p += val;
    } else if ((key & 7) != 0) {
        return 0;
    }
    return 1;
}

typedef struct sdf_glyph {
    uint32_t id, w, h, advance;
    int32_t left, top;
    const uint8_t *bitmap;
    size_t blen;
} sdf_glyph;

/* Glyph cp of a one-stack glyphs message (1 if found), and the stack's name and range. */
static int
sdf_find(const ts_buf *b, uint32_t cp, sdf_glyph *out, char *name, char *range)
{
    const uint8_t *p = b->data, *end = b->data + b->len, *bytes;
    int field;
    uint64_t v;
    if (!pb_next(&p, end, &field, &v, &bytes) || field != 1 || bytes == NULL)
        return 0;
    const uint8_t *s = bytes, *se = bytes + v;
    int found = 0;
    while (pb_next(&s, se, &field, &v, &bytes)) {
        if (field == 1 && name)
            snprintf(name, 128, "%.*s", (int)v, (const char *)bytes);
        else if (field == 2 && range)
            snprintf(range, 32, "%.*s", (int)v, (const char *)bytes);
        else if (field == 3) {
            sdf_glyph g = {0};
            const uint8_t *q = bytes, *qe = bytes + v, *bb;
            uint64_t u;
            int f;
            while (pb_next(&q, qe, &f, &u, &bb)) {
                if (f == 1) g.id = (uint32_t)u;
                if (f == 2) g.bitmap = bb, g.blen = (size_t)u;
                if (f == 3) g.w = (uint32_t)u;
                if (f == 4) g.h = (uint32_t)u;
                if (f == 5) g.left = (int32_t)((u >> 1) ^ -(u & 1));
                if (f == 6) g.top = (int32_t)((u >> 1) ^ -(u & 1));
                if (f == 7) g.advance = (uint32_t)u;
            }
            if (g.id == cp) {
                *out = g;
                found = 1;
            }
        }
    }
    return found;
}

TS_TEST(glyph_range_is_the_distance_field_of_freetypes_outline)
{
    ts_font_catalog *cat = cat_new();
    TS_REQUIRE(cat != NULL);
    int face = ts_font_catalog_find(cat, "DejaVu Sans", 0, 0, NULL);
    ts_buf b;
    ts_buf_init(&b, 16u << 20);
    ts_err e = {0};
    TS_REQUIRE(ts_text_glyph_range(cat, &face, 1, "DejaVu Sans Book", 0, &b, &e) == TS_OK);
    char name[128] = "", range[32] = "";
    sdf_glyph g;
    TS_REQUIRE(sdf_find(&b, 'A', &g, name, range));
    TS_CHECK(strcmp(name, "DejaVu Sans Book") == 0);
    TS_CHECK(strcmp(range, "0-255") == 0);
    TS_CHECK(!sdf_find(&b, 0x1F600, &g, NULL, NULL)); /* not in this range */

    const ts_font_info *fi = ts_font_catalog_info(cat, face);
    FT_Library lib;
    FT_Face ft;
    TS_REQUIRE(FT_Init_FreeType(&lib) == 0);
    TS_REQUIRE(FT_New_Face(lib, fi->path, fi->index, &ft) == 0);
    TS_REQUIRE(FT_Set_Pixel_Sizes(ft, 0, 24) == 0);
    int ascender = (int)(ft->size->metrics.ascender / 64);
    static const char chars[] = "AOgs&@%";
    for (const char *ch = chars; *ch; ch++) {
        TS_REQUIRE(sdf_find(&b, (uint32_t)*ch, &g, NULL, NULL));
        TS_REQUIRE(FT_Load_Char(ft, (FT_ULong)*ch, FT_LOAD_NO_HINTING) == 0);
        TS_CHECK(g.advance == (uint32_t)(ft->glyph->metrics.horiAdvance / 64));
        FT_BBox bb;
        FT_Outline_Get_CBox(&ft->glyph->outline, &bb); /* control box: >= the outline's */
        TS_CHECK(g.left >= (int32_t)floor(bb.xMin / 64.0) - 1);
        TS_CHECK(g.left + (int32_t)g.w <= (int32_t)ceil(bb.xMax / 64.0) + 1);
        TS_CHECK(g.top + ascender <= (int32_t)ceil(bb.yMax / 64.0) + 1);
        uint32_t bw = g.w + 6, bh = g.h + 6;
        TS_REQUIRE(g.blen == (size_t)bw * bh);
        TS_REQUIRE(FT_Render_Glyph(ft->glyph, FT_RENDER_MODE_NORMAL) == 0);
        const FT_Bitmap *bm = &ft->glyph->bitmap;
        /* each pixel that FreeType's coverage says is clearly in (> 80 %) or out (< 20 %) of
         * the glyph is on that side of the field's outline value 191 */
        int ymin = g.top + ascender - (int)g.h, decided = 0, agree = 0;
        for (uint32_t row = 0; row < bh; row++)
            for (uint32_t col = 0; col < bw; col++) {
                int X = g.left - 3 + (int)col, Y = ymin - 3 + (int)(bh - 1 - row);
                int bx = X - ft->glyph->bitmap_left, by = ft->glyph->bitmap_top - 1 - Y;
                int cov = bx >= 0 && by >= 0 && bx < (int)bm->width && by < (int)bm->rows
                              ? bm->buffer[by * bm->pitch + bx]
                              : 0;
                if (cov > 51 && cov < 204)
                    continue;
                decided++;
                int inside = g.bitmap[row * bw + col] >= 191;
                agree += inside == (cov >= 204);
            }
        if (agree < decided)
            fprintf(stderr, "  '%c': %d of %d decided pixels agree\n", *ch, agree, decided);
        TS_CHECK(agree == decided);
        TS_CHECK(decided > (int)(bw * bh) / 2);
    }
    /* a space: metrics, no bitmap */
    TS_REQUIRE(sdf_find(&b, ' ', &g, NULL, NULL));
    TS_CHECK(g.w == 0 && g.h == 0 && g.blen == 0 && g.advance > 4);
    FT_Done_Face(ft);
    FT_Done_FreeType(lib);

    /* a stack: code points from its first font that has them; bad ranges refused */
    int stack[2] = {ts_font_catalog_find(cat, "DejaVu Sans", 1, 0, NULL), face};
    ts_buf b2;
    ts_buf_init(&b2, 16u << 20);
    TS_REQUIRE(ts_text_glyph_range(cat, stack, 2, "Bold,Book", 256, &b2, &e) == TS_OK);
    sdf_glyph l;
    TS_CHECK(sdf_find(&b2, 0x141, &l, name, range)); /* Ł */
    TS_CHECK(strcmp(range, "256-511") == 0);
    ts_buf_fini(&b2);
    TS_CHECK(ts_text_glyph_range(cat, &face, 1, "x", 100, &b, &e) == TS_EINVAL);
    TS_CHECK(ts_text_glyph_range(cat, &face, 1, "x", 65536, &b, &e) == TS_EINVAL);
    TS_CHECK(ts_text_glyph_range(cat, &face, 0, "x", 0, &b, &e) == TS_EINVAL);
    ts_buf_fini(&b);
    ts_font_catalog_free(cat);
}

TS_TEST(glyph_font_names_resolve_as_styles_write_them)
{
    ts_font_catalog *cat = cat_new();
    TS_REQUIRE(cat != NULL);
    int exact;
    char name[256];
    /* every face's own name comes back to it */
    for (int i = 0; i < ts_font_catalog_count(cat); i++) {
        ts_text_glyph_font_name(cat, i, name, sizeof name);
        int f = ts_text_glyph_face(cat, name, strlen(name), &exact);
        char back[256];
        ts_text_glyph_font_name(cat, f, back, sizeof back);
        TS_CHECK(exact && strcmp(back, name) == 0);
    }
    int bold = ts_text_glyph_face(cat, " dejavu sans BOLD ", 18, &exact);
    TS_CHECK(exact && ts_font_catalog_info(cat, bold)->bold);
    int alias = ts_text_glyph_face(cat, "Arial Bold Italic", 17, &exact);
    TS_CHECK(exact && ts_font_catalog_info(cat, alias)->bold &&
             ts_font_catalog_info(cat, alias)->italic);
    int plain = ts_text_glyph_face(cat, "DejaVu Serif", 12, &exact);
    TS_CHECK(exact && !ts_font_catalog_info(cat, plain)->bold &&
             strstr(ts_font_catalog_info(cat, plain)->family, "Serif") != NULL);
    int unknown = ts_text_glyph_face(cat, "Open Sans Regular", 17, &exact);
    TS_CHECK(unknown >= 0 && !exact);
    TS_CHECK(ts_text_glyph_face(cat, "  ", 2, &exact) == -1);
    TS_CHECK(ts_text_glyph_face(NULL, "DejaVu Sans", 11, &exact) == -1);
    ts_font_catalog_free(cat);
}
