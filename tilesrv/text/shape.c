/* text/shape.c — shaping with HarfBuzz into immutable, reference-counted runs, line by
 * line, with a per-context cache of runs keyed by the string and the spec. */
#include "text/text.h"
#include "text/text_int.h"

#include "util/hash.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The part of the cache key that is not the string. */
typedef struct run_key {
    int32_t face, size64, align, no_kerning;
    double letter_spacing;
} run_key;

static ts_text__run *
impl_of(const ts_text_run *run)
{
    return (ts_text__run *)(void *)((char *)(uintptr_t)run - offsetof(ts_text__run, pub));
}

const ts_text_run *
ts_text_run_ref(const ts_text_run *run)
{
    atomic_fetch_add_explicit(&impl_of(run)->refs, 1, memory_order_relaxed);
    return run;
}

void
ts_text_run_release(const ts_text_run *run)
{
    if (run == NULL)
        return;
    ts_text__run *r = impl_of(run);
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        free(r);
}

void
ts_text_run_box(const ts_text_run *run, double *x0, double *y0, double *x1, double *y1)
{
    *x0 = 0;
    *x1 = run->width;
    *y0 = -run->ascent;
    *y1 = (run->nlines - 1) * run->line_height + run->descent;
}

/* Copy the string, control characters but '\n' made spaces; a '\r' before a '\n' stays
 * (lines end before it). */
static int
clean_copy(ts_text_ctx *t, const char *s, size_t len)
{
    if (ts_text__grow((void **)&t->str, &t->str_cap, len + 1, 1) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\n' && !(c == '\r' && i + 1 < len && s[i + 1] == '\n'))
            c = ' ';
        else if (c == 0x7F)
            c = ' ';
        t->str[i] = (char)c;
    }
    t->str[len] = '\0';
    return 0;
}

/* Shape line [a, b) of t->str (len bytes) as line number `line`, appending glyphs to
 * t->gl from index *n. *width gets the line's advance. */
static ts_status
shape_line(ts_text_ctx *t, size_t len, size_t a, size_t b, int line, const ts_font_spec *spec,
           double scale, double line_height, size_t *n, double *width, ts_err *err)
{
    hb_buffer_t *buf = t->buf;
    hb_buffer_clear_contents(buf);
    hb_buffer_add_utf8(buf, t->str, (int)len, (unsigned)a, (int)(b - a));
    hb_buffer_guess_segment_properties(buf);
    hb_feature_t nokern = {HB_TAG('k', 'e', 'r', 'n'), 0, 0, (unsigned)-1};
    hb_shape(t->faces[spec->face].hb, buf, spec->no_kerning ? &nokern : NULL,
             spec->no_kerning ? 1 : 0);
    if (!hb_buffer_allocation_successful(buf))
        return TS_FAIL(err, TS_ENOMEM, "out of memory shaping");
    unsigned int ng = 0;
    const hb_glyph_info_t *info = hb_buffer_get_glyph_infos(buf, &ng);
    const hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(buf, NULL);
    if (ts_text__grow((void **)&t->gl, &t->gl_cap, *n + ng, sizeof *t->gl) != 0)
        return TS_FAIL(err, TS_ENOMEM, "out of memory shaping");
    double pen = 0;
    for (unsigned int i = 0; i < ng; i++) {
        ts_text_glyph *g = &t->gl[*n + i];
        g->gid = info[i].codepoint;
        g->cluster = info[i].cluster;
        g->face = spec->face;
        g->line = line;
        g->x = pen;
        g->y = line * line_height;
        g->advance = pos[i].x_advance * scale;
        g->dx = pos[i].x_offset * scale;
        g->dy = -pos[i].y_offset * scale;
        if (spec->letter_spacing_px != 0 && i + 1 < ng && info[i + 1].cluster != info[i].cluster)
            g->advance += spec->letter_spacing_px;
        pen += g->advance;
    }
    *n += ng;
    *width = pen;
    return TS_OK;
}

/* Shape without the cache: a new run with one reference in *out. */
static ts_status
shape_new(ts_text_ctx *t, const char *utf8, size_t len, const ts_font_spec *spec, int32_t size64,
          ts_text__run **out, ts_err *err)
{
    TS_TRY(ts_text__face_open(t, spec->face, err));
    FT_Face face = t->faces[spec->face].ft;
    double size = size64 / 64.0;
    double scale = size / t->faces[spec->face].upem;
    double ascent = face->ascender * scale, descent = -face->descender * scale;
    double lh = face->height > 0 ? face->height * scale : ascent + descent;
    if (clean_copy(t, utf8, len) != 0)
        return TS_FAIL(err, TS_ENOMEM, "out of memory shaping");

    /* lines */
    double widths[TS_TEXT_MAX_LINES];
    size_t first[TS_TEXT_MAX_LINES + 1];
    int nlines = 0;
    size_t n = 0, a = 0;
    for (;;) {
        size_t b = a;
        while (b < len && t->str[b] != '\n')
            b++;
        size_t e = b > a && t->str[b - 1] == '\r' ? b - 1 : b;
        if (nlines == TS_TEXT_MAX_LINES)
            return TS_FAIL(err, TS_ELIMIT, "label of more than %d lines", TS_TEXT_MAX_LINES);
        first[nlines] = n;
        TS_TRY(shape_line(t, len, a, e, nlines, spec, scale, lh, &n, &widths[nlines], err));
        nlines++;
        if (b >= len)
            break;
        a = b + 1;
    }
    first[nlines] = n;
    double width = 0;
    for (int l = 0; l < nlines; l++)
        width = widths[l] > width ? widths[l] : width;
    for (int l = 0; l < nlines; l++) {
        double shift = spec->align == TS_TEXT_ALIGN_LEFT    ? 0
                       : spec->align == TS_TEXT_ALIGN_RIGHT ? width - widths[l]
                                                            : (width - widths[l]) / 2;
        for (size_t i = first[l]; i < first[l + 1]; i++)
            t->gl[i].x += shift;
    }

    ts_text__run *r = malloc(sizeof *r + n * sizeof r->g[0]);
    if (r == NULL)
        return TS_FAIL(err, TS_ENOMEM, "out of memory shaping");
    atomic_init(&r->refs, 1);
    if (n)
        memcpy(r->g, t->gl, n * sizeof r->g[0]);
    ts_text_run *p = &r->pub;
    memset(p, 0, sizeof *p);
    p->face = spec->face;
    p->size_px = size;
    p->nglyphs = n;
    p->glyphs = r->g;
    p->nlines = nlines;
    p->width = width;
    p->ascent = ascent;
    p->descent = descent;
    p->line_height = lh;
    int ink = 0;
    for (size_t i = 0; i < n; i++) {
        const ts_text_glyph *g = &r->g[i];
        if (g->gid == 0)
            p->nmissing++;
        const ts_text__outline *o = ts_text__glyph(t, g->face, g->gid, size64, 0, err);
        if (o == NULL) {
            free(r);
            return err ? err->code : TS_ENOMEM;
        }
        if (o->npts == 0)
            continue;
        double x0 = g->x + g->dx + o->x0, x1 = g->x + g->dx + o->x1;
        double y0 = g->y + g->dy + o->y0, y1 = g->y + g->dy + o->y1;
        if (!ink || x0 < p->ink_x0)
            p->ink_x0 = x0;
        if (!ink || y0 < p->ink_y0)
            p->ink_y0 = y0;
        if (!ink || x1 > p->ink_x1)
            p->ink_x1 = x1;
        if (!ink || y1 > p->ink_y1)
            p->ink_y1 = y1;
        ink = 1;
    }
    *out = r;
    return TS_OK;
}

ts_status
ts_text_shape(ts_text_ctx *t, const char *utf8, size_t len, const ts_font_spec *spec,
              const ts_text_run **out, ts_err *err)
{
    if (out == NULL)
        return TS_FAIL(err, TS_EINVAL, "no output for the run");
    *out = NULL;
    if (t == NULL || spec == NULL || (utf8 == NULL && len > 0))
        return TS_FAIL(err, TS_EINVAL, "NULL argument to ts_text_shape");
    if (spec->face < 0 || spec->face >= t->cat->nfaces)
        return TS_FAIL(err, TS_EINVAL, "face %d not in the catalogue", spec->face);
    if (!(spec->size_px > 0 && spec->size_px <= TS_TEXT_MAX_SIZE_PX))
        return TS_FAIL(err, TS_EINVAL, "font size %g px out of range", spec->size_px);
    if (!isfinite(spec->letter_spacing_px) || fabs(spec->letter_spacing_px) > 1000)
        return TS_FAIL(err, TS_EINVAL, "letter spacing %g px out of range",
                       spec->letter_spacing_px);
    if (len > TS_TEXT_MAX_BYTES)
        return TS_FAIL(err, TS_ELIMIT, "label of %zu bytes (at most %d)", len, TS_TEXT_MAX_BYTES);
    int32_t size64 = (int32_t)lround(spec->size_px * 64);
    if (size64 < 1)
        return TS_FAIL(err, TS_EINVAL, "font size %g px out of range", spec->size_px);

    run_key k;
    memset(&k, 0, sizeof k);
    k.face = spec->face;
    k.size64 = size64;
    k.align = (int32_t)spec->align;
    k.no_kerning = spec->no_kerning != 0;
    k.letter_spacing = spec->letter_spacing_px;
    size_t klen = sizeof k + len;
    if (ts_text__grow((void **)&t->key, &t->key_cap, klen, 1) != 0)
        return TS_FAIL(err, TS_ENOMEM, "out of memory shaping");
    memcpy(t->key, &k, sizeof k);
    if (len)
        memcpy(t->key + sizeof k, utf8, len);
    uint64_t h = ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, t->key, klen));

    const ts_text_run *hit = ts_text__lru_get(&t->runs, t->key, (uint32_t)klen, h);
    if (hit != NULL) {
        *out = ts_text_run_ref(hit);
        return TS_OK;
    }
    ts_text__run *r;
    TS_TRY(shape_new(t, utf8, len, spec, size64, &r, err));
    /* the cache holds a reference of its own; t->key is intact (shaping does not use it) */
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    if (!ts_text__lru_put(&t->runs, t->key, (uint32_t)klen, h, &r->pub,
                          sizeof *r + r->pub.nglyphs * sizeof r->g[0]))
        atomic_fetch_sub_explicit(&r->refs, 1, memory_order_relaxed);
    *out = &r->pub;
    return TS_OK;
}
