/* pipeline/sprite.c — the sprite sheet of a MapLibre style (/styles/{names}/sprite[@2x].png
 * and .json): every point graphic the circle layers cannot show (marks of other shapes,
 * shape:// and font marks, ExternalGraphic images), every GraphicFill pattern and every
 * GraphicStroke of a line (one step of it) of the tilesets' styles, drawn by the renderer
 * as the PNG tiles draw them, packed in rows.
 *
 * Which symbolizers get an icon is ts_sprite_icon's answer, which the style writer asks
 * too, and each icon's name is ts_sprite_name's, so the style and the sheet always agree. */
#include "pipeline/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "pipeline/pipeline_int.h"

#define SHEET_W 1024 /* at pixel ratio 1: rows of icons this wide at most */
#define SHEET_ICONS 4096

int
ts_sprite_icon(const ts_symbolizer *s)
{
    if (s->kind == TS_SYM_POINT) {
        const ts_graphic *g = s->graphic;
        if (g == NULL)
            return TS_SPRITE_NONE;
        /* values of the feature in it: a circle layer with data-driven paint instead */
        if (g->size_expr || g->fill_expr || g->fill_opacity_expr || g->stroke_expr ||
            g->stroke_width_expr || g->stroke_opacity_expr)
            return TS_SPRITE_NONE;
        if (g->image < 0 && g->glyph_font == NULL && g->shape == TS_SHAPE_NONE &&
            g->mark == TS_MARK_CIRCLE)
            return TS_SPRITE_NONE; /* a circle layer draws it exactly */
        return TS_SPRITE_POINT;
    }
    if (s->kind == TS_SYM_LINE && s->stroke_graphic != NULL && !s->has_stroke &&
        s->perpendicular_offset == 0)
        return TS_SPRITE_LINE;
    if (s->kind == TS_SYM_POLYGON && s->fill_graphic != NULL) {
        const ts_graphic *g = s->fill_graphic;
        int hatch = g->image < 0 && g->glyph_font == NULL && g->shape != TS_SHAPE_NONE &&
                    g->shape != TS_SHAPE_DOT && g->shape != TS_SHAPE_OARROW &&
                    g->shape != TS_SHAPE_CARROW;
        return hatch ? TS_SPRITE_NONE : TS_SPRITE_PATTERN;
    }
    return TS_SPRITE_NONE;
}

void
ts_sprite_name(char *buf, size_t cap, const char *tileset, const char *layer, int fts, int rule,
               int sym)
{
    snprintf(buf, cap, "%s/%s/%d/%d/%d", tileset, layer, fts, rule, sym);
}

typedef struct icon {
    char name[300];
    ts_canvas *c;
    int x, y;
} icon;

static ts_status
json_str(ts_buf *b, const char *s)
{
    TS_TRY(ts_buf_add(b, "\"", 1));
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            TS_TRY(ts_buf_printf(b, "\\%c", ch));
        else if (ch < 0x20)
            TS_TRY(ts_buf_printf(b, "\\u%04x", ch));
        else
            TS_TRY(ts_buf_add(b, s, 1));
    }
    return ts_buf_add(b, "\"", 1);
}

ts_status
ts_pipeline_sprite(ts_pipeline *p, const char *const *names, int n, int ratio, ts_buf *json,
                   ts_buf *png, ts_err *err)
{
    if (ratio < 1 || ratio > 2 || n < 1)
        return TS_FAIL(err, TS_EINVAL, "sprite: pixel ratio 1 or 2, one tileset at least");
    ts_service *svc = ts_pipeline_service(p);
    const ts_font_catalog *fonts = ts_service_fonts(svc);
    ts_render_worker *w = ts_render_worker_new(err);
    icon *icons = calloc(SHEET_ICONS, sizeof *icons);
    int nicons = 0;
    ts_status st = w && icons ? TS_OK : TS_ENOMEM;
    for (int t = 0; st == TS_OK && t < n; t++) {
        const ts_tileset *ts = ts_service_tileset(svc, names[t]);
        if (ts == NULL) {
            st = TS_FAIL(err, TS_ENOENT, "sprite: no tileset %s", names[t]);
            break;
        }
        for (int li = 0; st == TS_OK && li < ts->nlayers; li++) {
            const ts_render_layer *rl = ts->layers[li];
            const ts_style *style = rl->style;
            for (int fi = 0; st == TS_OK && fi < style->nfts; fi++)
                for (int ri = 0; st == TS_OK && ri < style->fts[fi].nrules; ri++) {
                    const ts_rule *r = &style->fts[fi].rules[ri];
                    for (int si = 0; st == TS_OK && si < r->nsyms; si++) {
                        const ts_symbolizer *s = &r->syms[si];
                        int kind = ts_sprite_icon(s);
                        if (kind == TS_SPRITE_NONE || nicons == SHEET_ICONS)
                            continue;
                        ts_status ist;
                        const ts_graphic *g = kind == TS_SPRITE_POINT     ? s->graphic
                                              : kind == TS_SPRITE_PATTERN ? s->fill_graphic
                                                                          : s->stroke_graphic;
                        ts_canvas *c = ts_render_icon(w, rl, g,
                                                      kind == TS_SPRITE_POINT     ? 0
                                                      : kind == TS_SPRITE_PATTERN ? 1
                                                                                  : 2,
                                                      ratio, fonts, &ist);
                        if (c == NULL) {
                            if (ist == TS_ENOMEM)
                                st = TS_FAIL(err, TS_ENOMEM, "sprite: out of memory");
                            continue; /* nothing to draw: the style leaves it out too */
                        }
                        icon *ic = &icons[nicons++];
                        ts_sprite_name(ic->name, sizeof ic->name, ts->name, rl->name, fi, ri, si);
                        ic->c = c;
                    }
                }
        }
    }
    /* rows of icons, each as tall as its tallest; 1 px apart */
    int sheet_w = 1, sheet_h = 1, x = 0, y = 0, row_h = 0;
    for (int i = 0; st == TS_OK && i < nicons; i++) {
        icon *ic = &icons[i];
        if (x > 0 && x + ic->c->w > SHEET_W * ratio) {
            y += row_h + 1;
            x = 0;
            row_h = 0;
        }
        ic->x = x;
        ic->y = y;
        x += ic->c->w + 1;
        row_h = ic->c->h > row_h ? ic->c->h : row_h;
        sheet_w = ic->x + ic->c->w > sheet_w ? ic->x + ic->c->w : sheet_w;
        sheet_h = y + row_h > sheet_h ? y + row_h : sheet_h;
    }
    ts_canvas *sheet = NULL;
    if (st == TS_OK && (sheet = ts_canvas_new(sheet_w, sheet_h, err)) == NULL)
        st = TS_ENOMEM;
    if (st == TS_OK)
        st = ts_buf_add(json, "{", 1);
    for (int i = 0; st == TS_OK && i < nicons; i++) {
        icon *ic = &icons[i];
        for (int r = 0; r < ic->c->h; r++)
            memcpy(sheet->px + (size_t)(ic->y + r) * (size_t)sheet->stride + ic->x,
                   ic->c->px + (size_t)r * (size_t)ic->c->stride,
                   (size_t)ic->c->w * sizeof *sheet->px);
        st = ts_buf_printf(json, "%s", i ? "," : "");
        if (st == TS_OK)
            st = json_str(json, ic->name);
        if (st == TS_OK)
            st = ts_buf_printf(json, ":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d,"
                                     "\"pixelRatio\":%d}",
                               ic->x, ic->y, ic->c->w, ic->c->h, ratio);
    }
    if (st == TS_OK)
        st = ts_buf_add(json, "}", 1);
    if (st == TS_OK) {
        ts_png_opts o = {TS_PNG_TRUECOLOR, 6, 0};
        st = ts_png_encode(sheet, 0, 0, sheet->w, sheet->h, &o, png, err);
    }
    if (st != TS_OK && err && err->msg[0] == '\0')
        TS_FAIL(err, st, "sprite: %s", ts_status_text(st));
    ts_canvas_free(sheet);
    for (int i = 0; i < nicons; i++)
        ts_canvas_free(icons[i].c);
    free(icons);
    ts_render_worker_free(w);
    ts_service_unref(svc);
    return st;
}
