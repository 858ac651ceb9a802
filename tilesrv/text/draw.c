/* text/draw.c — a run's glyph outlines placed (rotated, translated) into one set of
 * rings in whole-image pixels, then the halo stroked (around coarser outlines) and the
 * glyphs filled through the raster module. */
#include "text/text.h"
#include "text/text_int.h"

#include <math.h>
#include <stdlib.h>

static const ts_affine identity = {1, 1, 0, 0};

/* The run's glyph outlines (halo64 > 0: their halos of that radius in 1/64 px) placed at
 * pos into *xy / *counts (grown as needed): *npts points in *nrings rings, and the rows
 * they span in *ymin, *ymax. A glyph whose outline, grown by reach, misses the canvas's
 * rows and columns is left out: its closed contours wind nothing there. */
static ts_status
place_outlines(ts_text_ctx *t, ts_raster *r, const ts_canvas *c, const ts_text_run *run,
               const ts_text_glyph_pos *pos, int32_t halo64, double reach, double **xy,
               size_t *xy_cap, uint32_t **counts, size_t *counts_cap, size_t *nglyph_out,
               size_t *npts_out, size_t *nrings_out, double *ymin, double *ymax, ts_err *err)
{
    int32_t size64 = (int32_t)lround(run->size_px * 64);
    size_t npts = 0, nrings = 0, nglyph = 0;
    *ymin = INFINITY;
    *ymax = -INFINITY;
    for (size_t i = 0; i < run->nglyphs; i++) {
        const ts_text_glyph *g = &run->glyphs[i];
        const ts_text__outline *o =
            halo64 > 0 ? ts_text__halo(t, r, g->face, g->gid, size64, halo64, err)
                       : ts_text__glyph(t, g->face, g->gid, size64, 0, err);
        if (o == NULL)
            return err ? err->code : TS_ENOMEM;
        if (o->npts == 0)
            continue;
        double x = pos[i].x, y = pos[i].y;
        if (!isfinite(x) || !isfinite(y) || !isfinite(pos[i].angle))
            continue;
        if (ts_text__grow((void **)xy, xy_cap, 2 * (npts + o->npts), sizeof **xy) ||
            ts_text__grow((void **)counts, counts_cap, nrings + o->nrings, sizeof **counts))
            return TS_FAIL(err, TS_ENOMEM, "out of memory drawing text");
        double *dst = *xy + 2 * npts;
        const double *src = o->xy;
        if (pos[i].angle == 0) {
            for (uint32_t k = 0; k < o->npts; k++) {
                dst[2 * k] = x + src[2 * k];
                dst[2 * k + 1] = y + src[2 * k + 1];
            }
        } else {
            double cs = cos(pos[i].angle), sn = sin(pos[i].angle);
            for (uint32_t k = 0; k < o->npts; k++) {
                double u = src[2 * k], v = src[2 * k + 1];
                dst[2 * k] = x + cs * u - sn * v;
                dst[2 * k + 1] = y + sn * u + cs * v;
            }
        }
        double gx0 = INFINITY, gx1 = -INFINITY, gy0 = INFINITY, gy1 = -INFINITY;
        for (uint32_t k = 0; k < o->npts; k++) {
            gx0 = dst[2 * k] < gx0 ? dst[2 * k] : gx0;
            gx1 = dst[2 * k] > gx1 ? dst[2 * k] : gx1;
            gy0 = dst[2 * k + 1] < gy0 ? dst[2 * k + 1] : gy0;
            gy1 = dst[2 * k + 1] > gy1 ? dst[2 * k + 1] : gy1;
        }
        if (gx1 + reach < 0 || gx0 - reach > c->w || gy1 + reach < c->row0 ||
            gy0 - reach > (double)c->row0 + c->h)
            continue;
        *ymin = gy0 < *ymin ? gy0 : *ymin;
        *ymax = gy1 > *ymax ? gy1 : *ymax;
        for (uint32_t k = 0; k < o->nrings; k++)
            (*counts)[nrings + k] = o->counts[k];
        if (ts_text__grow((void **)&t->gring, &t->gring_cap, nglyph + 2, sizeof *t->gring))
            return TS_FAIL(err, TS_ENOMEM, "out of memory drawing text");
        t->gring[nglyph++] = (uint32_t)nrings;
        npts += o->npts;
        nrings += o->nrings;
    }
    if (ts_text__grow((void **)&t->gring, &t->gring_cap, nglyph + 1, sizeof *t->gring))
        return TS_FAIL(err, TS_ENOMEM, "out of memory drawing text");
    t->gring[nglyph] = (uint32_t)nrings;
    *nglyph_out = nglyph;
    *npts_out = npts;
    *nrings_out = nrings;
    return TS_OK;
}

/* Fill the placed outlines (xy, counts: nglyph glyphs, t->gring their first rings) nonzero,
 * glyph after glyph: each small enough for the raster's small-path kernel where a whole
 * label is not (as Mapnik composites glyph by glyph; adjacent glyphs' halos overlap, and
 * the overlap is composited twice: the same where either covers a pixel fully). */
static ts_status
fill_glyphs(ts_text_ctx *t, ts_raster *r, ts_canvas *c, const double *xy,
            const uint32_t *counts, size_t nglyph, ts_rgba color, double opacity)
{
    const double *p = xy;
    for (size_t g = 0; g < nglyph; g++) {
        uint32_t r0 = t->gring[g], r1 = t->gring[g + 1];
        ts_parts parts = {p, counts + r0, r1 - r0};
        if (r1 > r0 && ts_raster_fill(r, c, &identity, &parts, TS_FILL_NONZERO, color,
                                      opacity) != TS_OK)
            return TS_ENOMEM;
        for (uint32_t k = r0; k < r1; k++)
            p += 2 * (size_t)counts[k];
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
    size_t nglyph, npts, nrings;
    double ymin, ymax;
    if (do_halo) {
        /* each glyph's halo outline (its outline stroked with round joins), cached in glyph
         * space, moved and turned into place */
        int32_t halo64 = (int32_t)lround(paint->halo_radius * 64);
        if (halo64 > 0) {
            TS_TRY(place_outlines(t, r, c, run, pos, halo64, 2, &t->hxy, &t->hxy_cap,
                                  &t->hcounts, &t->hcounts_cap, &nglyph, &npts, &nrings, &ymin,
                                  &ymax, err));
            if (nrings > 0 && !(ymax + 2 < c->row0 || ymin - 2 > (double)c->row0 + c->h) &&
                fill_glyphs(t, r, c, t->hxy, t->hcounts, nglyph, paint->halo,
                            paint->halo_opacity) != TS_OK)
                return TS_FAIL(err, TS_ENOMEM, "out of memory drawing a text halo");
        }
    }
    if (!do_fill)
        return TS_OK;
    TS_TRY(place_outlines(t, r, c, run, pos, 0, 2, &t->xy, &t->xy_cap, &t->counts, &t->counts_cap,
                          &nglyph, &npts, &nrings, &ymin, &ymax, err));
    if (nrings == 0 || ymax + 2 < c->row0 || ymin - 2 > (double)c->row0 + c->h)
        return TS_OK;
    if (fill_glyphs(t, r, c, t->xy, t->counts, nglyph, paint->fill, paint->fill_opacity) != TS_OK)
        return TS_FAIL(err, TS_ENOMEM, "out of memory drawing text");
    return TS_OK;
}
