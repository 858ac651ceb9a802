/* raster/blend.c — compositing of pre-rendered coverage masks (glyphs, symbols) and of
 * premultiplied images onto a canvas, source-over, clipped to the canvas. Positions are
 * whole-image pixels, as for paths (see ts_canvas). */
#include "raster/raster.h"
#include "raster/raster_int.h"

#include <stdint.h>

/* The part [*i0, *i1) x [*j0, *j1) of a w x h block at image pixel (x, y) that lies on
 * the canvas (its window of rows); block row j is then canvas row *cy + j. 0 when
 * empty. */
static int
clip_block(const ts_canvas *c, int x, int y, int w, int h, int *i0, int *i1, int *j0, int *j1,
           int64_t *cy)
{
    ts_raster__win win = ts_raster__window(c);
    int64_t yc = (int64_t)y - win.y0; /* canvas row of block row 0 */
    int64_t a0 = x < 0 ? -(int64_t)x : 0, b0 = yc < 0 ? -yc : 0;
    int64_t a1 = (int64_t)c->w - x, b1 = (int64_t)(win.y1 - win.y0) - yc;
    if (a1 > w)
        a1 = w;
    if (b1 > h)
        b1 = h;
    if (a0 >= a1 || b0 >= b1)
        return 0;
    *i0 = (int)a0;
    *i1 = (int)a1;
    *j0 = (int)b0;
    *j1 = (int)b1;
    *cy = yc;
    return 1;
}

void
ts_raster_blend_mask(ts_canvas *c, int x, int y, const uint8_t *mask, int w, int h,
                     int mstride, ts_rgba color, double opacity)
{
    ts_raster__paint p;
    int i0, i1, j0, j1;
    int64_t cy;
    if (c == NULL || mask == NULL || w <= 0 || h <= 0 || mstride < w ||
        !ts_raster__paint_init(&p, color, opacity) ||
        !clip_block(c, x, y, w, h, &i0, &i1, &j0, &j1, &cy))
        return;
    for (int j = j0; j < j1; j++) {
        const uint8_t *m = mask + (size_t)j * (size_t)mstride;
        uint32_t *dst = c->px + (size_t)(cy + j) * (size_t)c->stride + x;
        for (int i = i0; i < i1; i++) {
            uint32_t cov = m[i];
            if (cov == 0)
                continue;
            if (cov == 255 && p.opaque)
                dst[i] = p.px;
            else
                dst[i] = ts_raster__over(dst[i], cov == 255 ? p.px : ts_raster__scale(p.px, cov));
        }
    }
}

void
ts_raster_blend_image(ts_canvas *c, int x, int y, const uint32_t *img, int w, int h, int stride,
                      double opacity)
{
    int i0, i1, j0, j1;
    int64_t cy;
    if (c == NULL || img == NULL || w <= 0 || h <= 0 || stride < w || !(opacity > 0) ||
        !clip_block(c, x, y, w, h, &i0, &i1, &j0, &j1, &cy))
        return;
    uint32_t o = opacity >= 1 ? 255u : (uint32_t)(opacity * 255 + 0.5);
    if (o == 0)
        return;
    for (int j = j0; j < j1; j++) {
        const uint32_t *src = img + (size_t)j * (size_t)stride;
        uint32_t *dst = c->px + (size_t)(cy + j) * (size_t)c->stride + x;
        for (int i = i0; i < i1; i++) {
            uint32_t s = src[i];
            if (o != 255)
                s = ts_raster__scale(s, o);
            if ((s >> 24) == 255)
                dst[i] = s;
            else if (s != 0)
                dst[i] = ts_raster__over(dst[i], s);
        }
    }
}
