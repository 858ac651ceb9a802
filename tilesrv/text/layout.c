/* text/layout.c — where glyphs go: straight labels, point labels (SLD PointPlacement),
 * labels following a polyline; oriented boxes for collision tests. Pure geometry: no
 * fonts, no allocation. */
#include "text/text.h"
#include "text/text_int.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- boxes ------------------------------------------------------------------------ */

int
ts_rbox_overlap(const ts_rbox *a, const ts_rbox *b)
{
    double ax[2][2] = {{cos(a->angle), sin(a->angle)}, {-sin(a->angle), cos(a->angle)}};
    double bx[2][2] = {{cos(b->angle), sin(b->angle)}, {-sin(b->angle), cos(b->angle)}};
    double dx = b->cx - a->cx, dy = b->cy - a->cy;
    for (int k = 0; k < 4; k++) {
        const double *u = k < 2 ? ax[k] : bx[k - 2];
        double ra = a->hw * fabs(ax[0][0] * u[0] + ax[0][1] * u[1]) +
                    a->hh * fabs(ax[1][0] * u[0] + ax[1][1] * u[1]);
        double rb = b->hw * fabs(bx[0][0] * u[0] + bx[0][1] * u[1]) +
                    b->hh * fabs(bx[1][0] * u[0] + bx[1][1] * u[1]);
        if (fabs(dx * u[0] + dy * u[1]) >= ra + rb)
            return 0;
    }
    return 1;
}

void
ts_rbox_bounds(const ts_rbox *b, double *x0, double *y0, double *x1, double *y1)
{
    double c = fabs(cos(b->angle)), s = fabs(sin(b->angle));
    double ex = c * b->hw + s * b->hh, ey = s * b->hw + c * b->hh;
    *x0 = b->cx - ex;
    *x1 = b->cx + ex;
    *y0 = b->cy - ey;
    *y1 = b->cy + ey;
}

/* ---- straight and point labels ------------------------------------------------------ */

void
ts_text_layout_straight(const ts_text_run *run, double x, double y, double angle_rad,
                        ts_text_glyph_pos *out)
{
    double cs = cos(angle_rad), sn = sin(angle_rad);
    for (size_t i = 0; i < run->nglyphs; i++) {
        const ts_text_glyph *g = &run->glyphs[i];
        double u = g->x + g->dx, v = g->y + g->dy;
        out[i].x = x + cs * u - sn * v;
        out[i].y = y + sn * u + cs * v;
        out[i].angle = angle_rad;
    }
}

void
ts_text_layout_point(const ts_text_run *run, const ts_text_point *pt, double pad_px,
                     ts_text_glyph_pos *out, ts_rbox *box)
{
    double bx0, by0, bx1, by1;
    ts_text_run_box(run, &bx0, &by0, &bx1, &by1);
    double th = pt->rotation_deg * (M_PI / 180);
    double cs = cos(th), sn = sin(th);
    /* run-space q goes to P + R (q - a + d): a the anchor, d the displacement (y down) */
    double ax = bx0 + pt->anchor_x * (bx1 - bx0), ay = by1 - pt->anchor_y * (by1 - by0);
    double ux = pt->disp_x - ax, uy = -pt->disp_y - ay;
    double ox = pt->x + cs * ux - sn * uy, oy = pt->y + sn * ux + cs * uy;
    ts_text_layout_straight(run, ox, oy, th, out);
    if (box) {
        double mx = (bx0 + bx1) / 2, my = (by0 + by1) / 2;
        box->cx = ox + cs * mx - sn * my;
        box->cy = oy + sn * mx + cs * my;
        box->hw = (bx1 - bx0) / 2 + pad_px;
        box->hh = (by1 - by0) / 2 + pad_px;
        box->angle = th;
    }
}

/* ---- labels along lines --------------------------------------------------------------- */

/* A polyline walked forwards or reversed, and a cursor on one of its segments. */
typedef struct path {
    const double *xy;
    size_t n;
    int rev;
} path;

typedef struct cursor {
    const path *p;
    size_t seg;     /* segment from point seg to seg + 1 (walk order) */
    double s0, len; /* arc length at its start, its length */
    double ax, ay, bx, by;
} cursor;

static void
point(const path *p, size_t i, double *x, double *y)
{
    size_t k = p->rev ? p->n - 1 - i : i;
    *x = p->xy[2 * k];
    *y = p->xy[2 * k + 1];
}

static void
load(cursor *c)
{
    point(c->p, c->seg, &c->ax, &c->ay);
    point(c->p, c->seg + 1, &c->bx, &c->by);
    c->len = hypot(c->bx - c->ax, c->by - c->ay);
}

static void
cur_init(cursor *c, const path *p)
{
    c->p = p;
    c->seg = 0;
    c->s0 = 0;
    load(c);
}

static void
seek(cursor *c, double s)
{
    while (s > c->s0 + c->len && c->seg + 2 < c->p->n) {
        c->s0 += c->len;
        c->seg++;
        load(c);
    }
    while (s < c->s0 && c->seg > 0) {
        c->seg--;
        load(c);
        c->s0 -= c->len;
    }
}

static void
at(cursor *c, double s, double *x, double *y)
{
    seek(c, s);
    double f = c->len > 0 ? (s - c->s0) / c->len : 0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    *x = c->ax + f * (c->bx - c->ax);
    *y = c->ay + f * (c->by - c->ay);
}

/* Direction (angle) of the line at s: its segment's, or the nearest non-degenerate one. */
static double
tangent(cursor *c, double s)
{
    seek(c, s);
    cursor d = *c;
    while (d.len <= 0 && d.seg + 2 < d.p->n) {
        d.s0 += d.len;
        d.seg++;
        load(&d);
    }
    while (d.len <= 0 && d.seg > 0) {
        d.seg--;
        load(&d);
    }
    return atan2(d.by - d.ay, d.bx - d.ax);
}

static double
wrap(double a)
{
    while (a > M_PI)
        a -= 2 * M_PI;
    while (a < -M_PI)
        a += 2 * M_PI;
    return a;
}

/* Sum of the absolute turning angles at the vertices strictly inside (sa, sb). */
static double
turning(const cursor *c0, double sa, double sb)
{
    cursor c = *c0;
    seek(&c, sa);
    if (c.s0 + c.len >= sb || c.seg + 2 >= c.p->n)
        return 0; /* within one segment: no vertex inside */
    double total = 0, prev = 0;
    int have = 0;
    for (;;) {
        if (c.len > 0) {
            double a = atan2(c.by - c.ay, c.bx - c.ax);
            if (have)
                total += fabs(wrap(a - prev));
            prev = a;
            have = 1;
        }
        if (c.s0 + c.len >= sb || c.seg + 2 >= c.p->n)
            break;
        c.s0 += c.len;
        c.seg++;
        load(&c);
    }
    return total;
}

/* A glyph's frame: run-space (u, v) goes to (bx, by) + R(th) (u - u0, v - v0). */
typedef struct frame {
    double bx, by, th, cs, sn, u0, v0;
} frame;

static void
map(const frame *f, double u, double v, double *x, double *y)
{
    u -= f->u0;
    v -= f->v0;
    *x = f->bx + f->cs * u - f->sn * v;
    *y = f->by + f->sn * u + f->cs * v;
}

size_t
ts_text_layout_on_line(const ts_text_run *run, const double *xy, size_t npts, double start,
                       double offset_px, double max_angle_delta_deg, double pad_px,
                       ts_text_glyph_pos *out, ts_rbox *boxes)
{
    if (run == NULL || run->nglyphs == 0 || xy == NULL || npts < 2 || out == NULL)
        return 0;
    double total = 0;
    for (size_t i = 0; i + 1 < npts; i++)
        total += hypot(xy[2 * i + 2] - xy[2 * i], xy[2 * i + 3] - xy[2 * i + 1]);
    double w = run->width;
    double s0 = start - w / 2; /* arc length of the label box's left edge */
    if (!isfinite(total) || !isfinite(s0) || !(w > 0) || s0 < 0 || s0 + w > total)
        return 0;
    double maxd = max_angle_delta_deg > 0 ? max_angle_delta_deg * (M_PI / 180) : INFINITY;

    path p = {xy, npts, 0};
    cursor c;
    cur_init(&c, &p);
    double x0, y0, x1, y1;
    at(&c, s0, &x0, &y0);
    at(&c, s0 + w, &x1, &y1);
    if (x1 < x0 || (x1 == x0 && y1 > y0)) { /* right to left, or straight down: reverse */
        p.rev = 1;
        s0 = total - (s0 + w);
        if (s0 < 0)
            s0 = 0;
        cur_init(&c, &p);
    }

    double top = -run->ascent;
    double bottom = (run->nlines - 1) * run->line_height + run->descent;
    double ym = (top + bottom) / 2;
    double cell_dy = (run->descent - run->ascent) / 2; /* cell centre below the baseline */
    double hh = (run->ascent + run->descent) / 2 + pad_px;
    frame f = {0};
    int have_frame = 0, frame_line = -1;
    double prev_th = 0;
    ts_rbox base_box = {0};
    for (size_t i = 0; i < run->nglyphs; i++) {
        const ts_text_glyph *g = &run->glyphs[i];
        double adv = g->advance > 0 ? g->advance : 0;
        if (adv > 0 || !have_frame || frame_line != g->line) {
            double sa = s0 + g->x, sb = sa + adv, sc = sa + adv / 2;
            double pax, pay, pbx, pby, cx, cy, th, cs, sn;
            at(&c, sa, &pax, &pay);
            at(&c, sb, &pbx, &pby);
            double chord = hypot(pbx - pax, pby - pay);
            if (chord > 1e-9) { /* cos and sin straight from the chord: no sincos per glyph */
                th = atan2(pby - pay, pbx - pax);
                cs = (pbx - pax) / chord;
                sn = (pby - pay) / chord;
            } else {
                th = tangent(&c, sc);
                cs = cos(th);
                sn = sin(th);
            }
            if (adv > 0) {
                if (have_frame && frame_line == g->line && fabs(wrap(th - prev_th)) > maxd)
                    return 0;
                if (turning(&c, sa, sb) > maxd)
                    return 0;
            }
            at(&c, sc, &cx, &cy);
            double up = offset_px + ym - g->y;
            f.th = th;
            f.cs = cs;
            f.sn = sn;
            f.bx = cx + up * f.sn;
            f.by = cy - up * f.cs;
            f.u0 = g->x + adv / 2;
            f.v0 = g->y;
            map(&f, g->x + adv / 2, g->y + cell_dy, &base_box.cx, &base_box.cy);
            base_box.hw = adv / 2 + pad_px;
            base_box.hh = hh;
            base_box.angle = th;
            have_frame = 1;
            frame_line = g->line;
            prev_th = th;
        }
        map(&f, g->x + g->dx, g->y + g->dy, &out[i].x, &out[i].y);
        out[i].angle = f.th;
        if (boxes)
            boxes[i] = base_box;
    }
    return run->nglyphs;
}
