/* text/draw.c — a run drawn glyph by glyph through the raster module: first every glyph's
 * halo (its outline stroked with round joins, cached in glyph space), then every glyph,
 * each outline moved (and turned) into place. Glyph by glyph, each is small enough for
 * the raster's small-path kernel where a whole street name is not; Mapnik composites glyph
 * by glyph too (where two glyphs' halo edges share a pixel it is composited twice). */
#include "text/text.h"
#include "text/text_int.h"

#include <math.h>
#include <stdlib.h>

static const ts_affine identity = {1, 1, 0, 0};

/* Fill each glyph's outline (halo64 > 0: its halo of that radius in 1/64 px) at pos with
 * color * opacity. A glyph whose outline, grown by 2 px, misses the canvas's rows and
 * columns is skipped: its closed contours wind nothing there. */
static ts_status
fill_glyphs(ts_text_ctx *t, ts_raster *r, ts_canvas *c, const ts_text_run *run,
            const ts_text_glyph_pos *pos, int32_t halo64, ts_rgba color, double opacity,
            ts_err *err)
{
    int32_t size64 = (int32_t)lround(run->size_px * 64);
    double cx0 = -2, cx1 = c->w + 2.0, cy0 = c->row0 - 2.0, cy1 = (double)c->row0 + c->h + 2;
    for (size_t i = 0; i < run->nglyphs; i++) {
        const ts_text_glyph *g = &run->glyphs[i];
        double x = pos[i].x, y = pos[i].y, a = pos[i].angle;
        if (!isfinite(x) || !isfinite(y) || !isfinite(a))
            continue;
        const ts_text__outline *o =
            halo64 > 0 ? ts_text__halo(t, r, g->face, g->gid, size64, halo64, err)
                       : ts_text__glyph(t, g->face, g->gid, size64, 0, err);
        if (o == NULL)
            return err ? err->code : TS_ENOMEM;
        if (o->npts == 0)
            continue;
        ts_parts parts = {o->xy, o->counts, o->nrings};
        ts_status st;
        if (a == 0) {
            if (x + o->x1 < cx0 || x + o->x0 > cx1 || y + o->y1 < cy0 || y + o->y0 > cy1)
                continue;
            ts_affine at = {1, 1, x, y};
            st = ts_raster_fill(r, c, &at, &parts, TS_FILL_NONZERO, color, opacity);
        } else {
            /* the outline's box turned: within its farthest corner of the origin */
            double rx = fmax(fabs(o->x0), fabs(o->x1)), ry = fmax(fabs(o->y0), fabs(o->y1));
            double rad = hypot(rx, ry);
            if (x + rad < cx0 || x - rad > cx1 || y + rad < cy0 || y - rad > cy1)
                continue;
            if (ts_text__grow((void **)&t->xy, &t->xy_cap, 2 * (size_t)o->npts, sizeof *t->xy))
                return TS_FAIL(err, TS_ENOMEM, "out of memory drawing text");
            double cs = cos(a), sn = sin(a);
            for (uint32_t k = 0; k < o->npts; k++) {
                double u = o->xy[2 * k], v = o->xy[2 * k + 1];
                t->xy[2 * k] = x + cs * u - sn * v;
                t->xy[2 * k + 1] = y + sn * u + cs * v;
            }
            parts.xy = t->xy;
            st = ts_raster_fill(r, c, &identity, &parts, TS_FILL_NONZERO, color, opacity);
        }
        if (st != TS_OK)
            return TS_FAIL(err, st, "out of memory drawing text");
    }
    return TS_OK;
}

ts_status
ts_text_draw(ts_text_ctx *t, ts_raster *r, ts_canvas *c, const ts_text_run *run,
             const ts_text_glyph_pos *pos, const ts_text_paint *paint, ts_err *err)
{
    if (t == NULL || r == NULL || c == NULL || run == NULL || paint == NULL ||
        (pos == NULL && run->nglyphs > 0))
        return TS_FAIL(err, TS_EINVAL, "NULL argument to ts_text_draw");
    int do_fill = paint->fill.a > 0 && paint->fill_opacity > 0;
    int do_halo = paint->halo_radius > 0 && paint->halo.a > 0 && paint->halo_opacity > 0;
    if (run->nglyphs == 0 || (!do_fill && !do_halo))
        return TS_OK;
    int32_t halo64 = do_halo ? (int32_t)lround(paint->halo_radius * 64) : 0;
    if (halo64 > 0)
        TS_TRY(fill_glyphs(t, r, c, run, pos, halo64, paint->halo, paint->halo_opacity, err));
    if (do_fill)
        TS_TRY(fill_glyphs(t, r, c, run, pos, 0, paint->fill, paint->fill_opacity, err));
    return TS_OK;
}
