/* render/labels.c — the label engine: TextSymbolizers → candidates → placed labels → pixels.
 *
 * After all layers of an image (or a band of it) are drawn, every layer with a
 * TextSymbolizer live at this scale is queried over what the image shows plus the label
 * module's margin (label/label.h); each matching feature proposes candidates in
 * whole-image pixels:
 *   - PointPlacement: at a point (each point of a multipoint; the interior point of a
 *     polygon; the middle of a line's longest part), anchor, displacement and rotation as
 *     SLD says; a label displaced beside a point falls back to the other side, above or
 *     below when its side is taken; a polygon's label must fit the polygon's box (a cheap form of GeoServer's
 *     goodnessOfFit). "fraction" draws the text before the first newline over the rest
 *     with a bar between (ALKIS parcel numbers, Zähler over Nenner).
 *   - LinePlacement: along each part of a line (or ring of a polygon) at the middle, or
 *     every `repeat` px; curved glyph by glyph with followLine (refused where the line
 *     bends more than maxAngleDelta between glyphs: then a nearby position is tried),
 *     otherwise straight along the chord under the label; never upside down.
 * Candidates are ranked by Priority (default 1000, as GeoServer), then by the feature's
 * size (line length, polygon box area), then by a stable id (layer, feature, symbolizer,
 * position), resolved by label/ (same text within `repeat` of itself counts as a
 * conflict when "group" is set), and the placed ones are drawn: halo, then glyphs.
 *
 * Honoured: Label, Font (family list, size, style, weight), Fill, Halo, PointPlacement
 * (AnchorPoint, Displacement, Rotation incl. expressions), LinePlacement
 * (PerpendicularOffset), Priority, and the vendor options followLine, maxAngleDelta,
 * repeat, group, spaceAround, conflictResolution, partials, fraction. Not honoured
 * (parsed only): autoWrap, maxDisplacement, the SE 1.1 gaps, IsAligned = false,
 * GeneralizeLine.
 *
 * Everything is computed from the whole geometry of each feature at this zoom's detail
 * level and in whole-image pixels, so a label crossing a tile or metatile border gets the
 * same position and the same fate in every render that draws part of it.
 *
 * Metatiles resolve every candidate of their label blocks (shared between workers). A
 * single tile gathers the same window but lays out and resolves only what its labels
 * depend on (place_needed): a survey bounds every candidate without laying out text along
 * lines, a breadth-first walk keeps those within the resolution's conflict hops of the
 * labels the tile shows, and only those are laid out and resolved. */
#include "render/render_int.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/label.h"
#include "text/text.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/log.h"

#define LABEL_EXTENT_MAX 1024.0 /* px at scale 1: the longest label (box diagonal) proposed */
#define GROUND_FONT_MAX 128.0   /* px at scale 1: ground-unit labels stop growing there */
#define GROUP_EXTENT 256.0      /* px at scale 1: "group" keeps one of a text within half of
                                 * this (or three quarters of its repeat, when shorter) */
#define LABEL_ROUNDS 2         /* label/label.h: rounds of the resolution (each round
                                * widens the margin every render gathers by 2 hops) */
#define LABEL_TEXT_MAX 1024    /* bytes of one label's text */
#define DEFAULT_PRIORITY 1000.0
#define FACE_CACHE 64
#define LINE_TRIES 3           /* positions tried around each place along a line */

typedef struct item {
    const ts_text_run *run;  /* reference held; the numerator of a fraction */
    const ts_text_run *run2; /* reference held: the denominator, or NULL */
    size_t pos, pos2;        /* first glyph position in lb->pos of run / run2 */
    ts_text_paint paint;
    double bar[4];           /* fraction bar: x0 y0 x1 y1 (pixels) */
    double bar_w;            /* its width, px */
    double b[4];             /* bounds of the label: x0 y0 x1 y1 */
    int always;              /* conflictResolution false: drawn whatever else is there */
    int placed;
} item;

/* A proposal slot of a single tile's survey: one candidate a feature may propose, in the
 * order proposals are made, with a rectangle (pixels) that holds all its boxes. */
typedef struct slot {
    double b[4];       /* x0 y0 x1 y1; only when valid */
    uint64_t dup_key;
    double dup_dist;
    uint32_t group;    /* TS_LABEL_NO_GROUP, or the group (members are consecutive slots) */
    uint32_t dup_next; /* the next valid slot of its dup key, or UINT32_MAX (mark_needed) */
    uint32_t cand;     /* laid out by the survey (a point label): its index in lb->set,
                        * or UINT32_MAX when it blocks nothing (conflictResolution false) */
    uint8_t laid;      /* laid out and proposed by the survey already */
    uint8_t valid;     /* proposed inside the window */
} slot;

typedef struct dup_entry {
    uint64_t key;
    uint32_t slot;
} dup_entry;

/* Where one feature's proposals for one FeatureTypeStyle start: the slot and group
 * counters (the survey and the pass that lays out repeat the same sequence). */
typedef struct visit {
    size_t slot;
    uint32_t group;
    uint8_t needed; /* one of its slots is needed */
} visit;

typedef struct face_entry {
    uint64_t layer;
    const ts_text *key;
    int face;
} face_entry;

struct ts_render__labeler {
    const ts_font_catalog *cat; /* the catalogue text was made for */
    ts_text_ctx *text;
    ts_label_set *set;
    item *items;
    size_t nitems, citems;
    ts_text_glyph_pos *pos;
    size_t npos, cpos;
    ts_rbox *rb;
    size_t crb;
    ts_label_box *lbox;
    size_t clbox;
    double *pts; /* a part in pixels */
    size_t cpts;
    double *cum; /* its cumulative lengths */
    size_t ccum;
    ts_idvec ids;
    face_entry faces[FACE_CACHE];
    int nfaces;
    uint32_t next_group;
    ts_text_glyph_pos *moved; /* glyph positions moved to a canvas */
    size_t cmoved;
    /* a single tile's survey of its window (place_needed) */
    slot *slots;
    size_t nslots, cslots;
    visit *visits;
    size_t nvisits, cvisits;
    uint32_t *cell_off, *cell_slots, *queue;
    size_t ccell_off, ccell_slots, cqueue;
    uint8_t *need; /* per slot: 0 (not needed), or 1 + its hops from a drawn one */
    uint32_t *sids; /* the survey's query results, layer after layer */
    size_t nsids, csids;
    size_t *sid_off, *sid_n; /* per layer index: first in sids, count */
    size_t nsid_off, csid_off, csid_n;
    size_t cneed;
    dup_entry *dups; /* mark_needed's table: dup key -> its first valid slot */
    size_t cdups;
    char buf[LABEL_TEXT_MAX];
};

enum { LAB_ALL, LAB_SURVEY, LAB_NEEDED };

/* Everything a proposal needs, fixed for one render. */
typedef struct lab_env {
    ts_render__labeler *lb;
    ts_render_worker *w; /* for reprojection (ts_render__layer_xform) */
    const ts_render_req *req;
    const ts_affine *t;
    double sf;
    double lmax;             /* px: longest label proposed */
    double gx0, gy0, gx1, gy1; /* pixels: candidates centred outside are not proposed */
    double ix1, iy1;         /* the whole image's size, for labels_inside */
    double reach;            /* px: features are queried this far beyond the window */
    double halo_max;         /* px: the widest halo of a live TextSymbolizer */
    double area[4];          /* single tiles: the pixels shown (x0 y0 x1 y1) */
    double near_px;          /* single tiles: see add_candidate; 0: no area */
    double extent_px;        /* the longest label plus displacements (one hop's bound) */
    int mode;                /* LAB_ALL, LAB_SURVEY or LAB_NEEDED (place_needed) */
    size_t slot;             /* this pass's proposal slots so far */
    size_t cur;              /* the slot being proposed (LAB_SURVEY) */
    size_t visit;            /* this pass's feature visits so far */
    int cut_by_edge;         /* the last candidate crossed the image edge (labels_inside) */
    ts_render_stats *stats;
    ts_err *err;
} lab_env;

/* The scale of sym's lengths in this render: e->sf, times its pixels per unit when they
 * are ground units (ts_symbolizer_px_per_unit), at most so many that its font size stays
 * within GROUND_FONT_MAX px (zoomed in far, such labels stop growing rather than outgrow
 * LABEL_EXTENT_MAX and vanish). */
static double
sym_sf(const lab_env *e, const ts_symbolizer *sym)
{
    if (!(sym->uom_m > 0))
        return e->sf;
    double k = ts_symbolizer_px_per_unit(sym, e->req->scale_denom);
    if (sym->text != NULL && sym->text->font_size * k > GROUND_FONT_MAX)
        k = GROUND_FONT_MAX / sym->text->font_size;
    return e->sf * k;
}

/* Say once per layer and symbolizer that some of its labels are longer than a label may be
 * (LABEL_EXTENT_MAX: a label is placed consistently across tiles within that reach) and
 * are not drawn, with an example. */
static void
warn_too_long(const ts_render_layer *l, const ts_symbolizer *sym, const char *text, double cap)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t seen[64];
    static int nseen;
    uint64_t key = ts_hash_bytes((uint64_t)(uintptr_t)sym, l->name, strlen(l->name)) | 1;
    pthread_mutex_lock(&mu);
    int known = 0;
    for (int i = 0; i < nseen && !known; i++)
        known = seen[i] == key;
    if (!known)
        seen[nseen++ % 64] = key;
    pthread_mutex_unlock(&mu);
    if (!known)
        ts_warn("layer %s: labels longer than %.0f px (box diagonal) are not drawn, e.g. "
                "'%.60s': a smaller font-size or a shorter text (autoWrap is not honoured in the PNG)",
                l->name, cap, text);
}


ts_render__labeler *
ts_render__labeler_new(void)
{
    ts_render__labeler *lb = calloc(1, sizeof *lb);
    if (lb == NULL)
        return NULL;
    lb->set = ts_label_set_new();
    if (lb->set == NULL) {
        free(lb);
        return NULL;
    }
    return lb;
}

static void
release_items(ts_render__labeler *lb)
{
    for (size_t i = 0; i < lb->nitems; i++) {
        ts_text_run_release(lb->items[i].run);
        if (lb->items[i].run2 != NULL)
            ts_text_run_release(lb->items[i].run2);
    }
    lb->nitems = 0;
    lb->npos = 0;
}

void
ts_render__labeler_free(ts_render__labeler *lb)
{
    if (lb == NULL)
        return;
    release_items(lb);
    ts_text_ctx_free(lb->text);
    ts_label_set_free(lb->set);
    free(lb->items);
    free(lb->pos);
    free(lb->rb);
    free(lb->lbox);
    free(lb->pts);
    free(lb->cum);
    free(lb->moved);
    free(lb->slots);
    free(lb->visits);
    free(lb->cell_off);
    free(lb->cell_slots);
    free(lb->queue);
    free(lb->need);
    free(lb->sids);
    free(lb->sid_off);
    free(lb->sid_n);
    free(lb->dups);
    ts_idvec_fini(&lb->ids);
    free(lb);
}

/* ---- fonts ------------------------------------------------------------------------------ */

/* Say once per process that none of a TextSymbolizer's font families is installed and
 * which family is drawn instead (a style from another system names Arial, say). */
static void
warn_substituted(const ts_text *tx, const char *used, const char *layer)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char warned[32][96];
    static int nwarned;
    if (tx->nfont_family == 0 || tx->font_family[0] == NULL)
        return;
    char want[96];
    snprintf(want, sizeof want, "%s", tx->font_family[0]);
    pthread_mutex_lock(&mu);
    int seen = 0;
    for (int i = 0; i < nwarned && !seen; i++)
        seen = strcmp(warned[i], want) == 0;
    if (!seen && nwarned < 32)
        memcpy(warned[nwarned++], want, sizeof want);
    pthread_mutex_unlock(&mu);
    if (!seen)
        ts_warn("%s%s%sfont family '%s'%s is not installed: labels use '%s' (install the font "
                "or name an installed one; fonts are read from /usr/share/fonts and data/fonts)",
                layer ? "layer " : "", layer ? layer : "", layer ? ": " : "", want,
                tx->nfont_family > 1 ? " (and the families after it)" : "", used ? used : "?");
}

/* The face for tx from cat: its first installed family, else the fallback (warned). */
static int
find_face(const ts_font_catalog *cat, const ts_text *tx, const char *layer)
{
    int bold = tx->font_bold, italic = tx->font_style != TS_FONT_NORMAL;
    ts_font_match m;
    for (int k = 0; k < tx->nfont_family; k++) {
        int f = ts_font_catalog_find(cat, tx->font_family[k], bold, italic, &m);
        if (f >= 0 && m != TS_FONT_FALLBACK)
            return f;
    }
    int face = ts_font_catalog_find(cat, "sans-serif", bold, italic, &m);
    const ts_font_info *fi = ts_font_catalog_info(cat, face);
    warn_substituted(tx, fi ? fi->family : NULL, layer);
    return face;
}

void
ts_render_check_fonts(const ts_style *style, const ts_font_catalog *cat, const char *layer)
{
    if (style == NULL || cat == NULL)
        return;
    ts_text_ctx *text = NULL;
    for (int f = 0; f < style->nfts; f++)
        for (int r = 0; r < style->fts[f].nrules; r++)
            for (int k = 0; k < style->fts[f].rules[r].nsyms; k++) {
                const ts_symbolizer *sym = &style->fts[f].rules[r].syms[k];
                if (sym->kind == TS_SYM_TEXT && sym->text != NULL)
                    find_face(cat, sym->text, layer);
                ts_render__check_font_mark(sym->kind == TS_SYM_POINT ? sym->graphic : NULL, cat,
                                           &text);
                ts_render__check_font_mark(sym->fill_graphic, cat, &text);
                ts_render__check_font_mark(sym->stroke_graphic, cat, &text);
            }
    ts_text_ctx_free(text);
}

/* The catalogue face for a TextSymbolizer's font: the first family of its list that the
 * catalogue has (or knows an alias of), else the catalogue's fallback. */
static int
face_for(ts_render__labeler *lb, uint64_t layer, const ts_text *tx)
{
    for (int i = 0; i < lb->nfaces; i++)
        if (lb->faces[i].key == tx && lb->faces[i].layer == layer)
            return lb->faces[i].face;
    int face = find_face(lb->cat, tx, NULL);
    if (lb->nfaces == FACE_CACHE)
        lb->nfaces = 0; /* more fonts than slots: start over (lookups are cheap) */
    lb->faces[lb->nfaces++] = (face_entry){layer, tx, face};
    return face;
}

/* ---- geometry helpers ------------------------------------------------------------------ */

/* Part k of g (first point index into g->xy) in pixels into lb->pts with cumulative
 * lengths in lb->cum; closed rings get their first point again. Returns the number of
 * points, 0 on out-of-memory. */
static size_t
part_px(ts_render__labeler *lb, const ts_affine *t, const ts_geom *g, size_t first, uint32_t n,
        int closed)
{
    size_t m = n + (closed ? 1 : 0);
    if (ts_render__grow((void **)&lb->pts, &lb->cpts, 2 * m, sizeof *lb->pts) != 0 ||
        ts_render__grow((void **)&lb->cum, &lb->ccum, m, sizeof *lb->cum) != 0)
        return 0;
    for (size_t i = 0; i < m; i++) {
        size_t j = first + (i < n ? i : 0);
        lb->pts[2 * i] = t->sx * g->xy[2 * j] + t->tx;
        lb->pts[2 * i + 1] = t->sy * g->xy[2 * j + 1] + t->ty;
        lb->cum[i] = i == 0 ? 0
                            : lb->cum[i - 1] + hypot(lb->pts[2 * i] - lb->pts[2 * i - 2],
                                                     lb->pts[2 * i + 1] - lb->pts[2 * i - 1]);
    }
    return m;
}

/* The point at arc length s of the part in lb->pts (m points). */
/* The first index i in [1, m - 1] with cum[i] >= s, or m - 1 (cum ascends). */
static size_t
seg_after(const ts_render__labeler *lb, size_t m, double s)
{
    size_t lo = 1, hi = m - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lb->cum[mid] < s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
point_at(const ts_render__labeler *lb, size_t m, double s, double *x, double *y)
{
    size_t i = seg_after(lb, m, s);
    double seg = lb->cum[i] - lb->cum[i - 1];
    double f = seg > 0 ? (s - lb->cum[i - 1]) / seg : 0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    *x = lb->pts[2 * i - 2] + f * (lb->pts[2 * i] - lb->pts[2 * i - 2]);
    *y = lb->pts[2 * i - 1] + f * (lb->pts[2 * i + 1] - lb->pts[2 * i - 1]);
}

/* The bounds of the stretch of the part in lb->pts (m points) from arc length s0 to s1. */
static void
span_bounds(const ts_render__labeler *lb, size_t m, double s0, double s1, double b[4])
{
    double x, y;
    point_at(lb, m, s0, &x, &y);
    b[0] = b[2] = x;
    b[1] = b[3] = y;
    point_at(lb, m, s1, &x, &y);
    b[0] = fmin(b[0], x);
    b[1] = fmin(b[1], y);
    b[2] = fmax(b[2], x);
    b[3] = fmax(b[3], y);
    for (size_t i = seg_after(lb, m, s0); i < m && lb->cum[i] < s1; i++)
        if (lb->cum[i] > s0) {
            b[0] = fmin(b[0], lb->pts[2 * i]);
            b[1] = fmin(b[1], lb->pts[2 * i + 1]);
            b[2] = fmax(b[2], lb->pts[2 * i]);
            b[3] = fmax(b[3], lb->pts[2 * i + 1]);
        }
}

/* A point inside polygon g (map units): its area centroid when that is inside (even-odd
 * over all rings), else the middle of the widest inside stretch of the horizontal line
 * through the centroid. Returns 0 when the polygon has no area. */
static int
interior_point(const ts_geom *g, double *ox, double *oy)
{
    double a = 0, cx = 0, cy = 0;
    const double *p = g->xy;
    uint32_t n0 = g->counts[0];
    if (n0 == 0)
        return 0;
    /* about the ring's first vertex: with coordinates of millions (Gauss-Krueger eastings
     * of 3.4e6 m) the products of the area formula lose the centroid by metres */
    double x0 = p[0], y0 = p[1];
    for (uint32_t i = 0; i < n0; i++) {
        const double *q = p + 2 * ((i + 1) % n0);
        double px = p[2 * i] - x0, py = p[2 * i + 1] - y0, qx = q[0] - x0, qy = q[1] - y0;
        double c = px * qy - qx * py;
        a += c;
        cx += (px + qx) * c;
        cy += (py + qy) * c;
    }
    if (!(fabs(a) > 0))
        return 0;
    cx = cx / (3 * a) + x0;
    cy = cy / (3 * a) + y0;
    /* crossings of y = cy with every ring; inside = between odd and even crossings */
    double xs[64];
    int nx = 0, overflow = 0;
    const double *r = g->xy;
    for (uint32_t k = 0; k < g->nparts; k++) {
        uint32_t n = g->counts[k];
        for (uint32_t i = 0; i < n; i++) {
            const double *u = r + 2 * i, *v = r + 2 * ((i + 1) % n);
            if ((u[1] > cy) != (v[1] > cy)) {
                if (nx == 64) {
                    overflow = 1;
                    continue;
                }
                xs[nx++] = u[0] + (cy - u[1]) * (v[0] - u[0]) / (v[1] - u[1]);
            }
        }
        r += 2 * (size_t)n;
    }
    /* sort (few crossings: insertion sort) */
    for (int i = 1; i < nx; i++)
        for (int j = i; j > 0 && xs[j] < xs[j - 1]; j--) {
            double tmp = xs[j];
            xs[j] = xs[j - 1];
            xs[j - 1] = tmp;
        }
    if (!overflow)
        for (int i = 0; i + 1 < nx; i += 2)
            if (cx >= xs[i] && cx <= xs[i + 1]) {
                *ox = cx;
                *oy = cy;
                return 1;
            }
    double best = -1;
    for (int i = 0; i + 1 < nx; i += 2)
        if (xs[i + 1] - xs[i] > best) {
            best = xs[i + 1] - xs[i];
            *ox = (xs[i] + xs[i + 1]) / 2;
        }
    *oy = cy;
    if (best < 0)
        *ox = cx; /* a degenerate ring: the centroid all the same */
    return 1;
}

/* The polygon of multipolygon g with the largest exterior ring, with its holes, as a view
 * into g (the store orients exterior rings with positive area and holes with negative, and
 * keeps a polygon's holes right after its exterior): a multipolygon is labelled in its
 * largest part, as GeoServer and QGIS do, not in a sliver that happens to come first. */
static ts_geom
largest_polygon(const ts_geom *g)
{
    ts_geom best = *g;
    double best_a = -1;
    size_t off = 0;
    for (uint32_t k = 0; k < g->nparts; k++) {
        uint32_t n = g->counts[k];
        const double *r = g->xy + 2 * off;
        double a = 0;
        for (uint32_t i = 0; i < n; i++) {
            const double *q = r + 2 * ((i + 1) % n);
            a += (r[2 * i] - r[0]) * (q[1] - r[1]) - (q[0] - r[0]) * (r[2 * i + 1] - r[1]);
        }
        if (a > best_a) {
            uint32_t m = 1; /* the exterior and the holes after it */
            size_t o2 = off + n;
            while (k + m < g->nparts) {
                uint32_t n2 = g->counts[k + m];
                const double *h = g->xy + 2 * o2;
                double a2 = 0;
                for (uint32_t i = 0; i < n2; i++) {
                    const double *q = h + 2 * ((i + 1) % n2);
                    a2 += (h[2 * i] - h[0]) * (q[1] - h[1]) - (q[0] - h[0]) * (h[2 * i + 1] - h[1]);
                }
                if (a2 >= 0)
                    break;
                o2 += n2;
                m++;
            }
            best_a = a;
            best = (ts_geom){g->kind, r, g->counts + k, m};
        }
        off += n;
    }
    return best;
}

/* ---- candidates ------------------------------------------------------------------------- */

typedef struct proposal {
    const ts_symbolizer *sym;
    const ts_render_layer *layer;
    int layer_index;
    uint32_t fid;
    int sym_index;
    double priority;
    double weight;
    ts_text_paint paint;
    double pad;
    double sf;       /* the scale of the symbolizer's lengths: sym_sf */
    uint64_t dup_key;
    double dup_dist;
} proposal;

/* Axis-aligned bounds of the oriented boxes. */
static void
rboxes_bounds(const ts_rbox *bx, size_t n, double b[4])
{
    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x0, y0, x1, y1;
        ts_rbox_bounds(&bx[i], &x0, &y0, &x1, &y1);
        b[0] = fmin(b[0], x0);
        b[1] = fmin(b[1], y0);
        b[2] = fmax(b[2], x1);
        b[3] = fmax(b[3], y1);
    }
}

/* A new proposal slot (every candidate a feature may propose gets one, in proposal order,
 * in every pass alike). laid: the survey lays the proposal out and proposes it (point
 * labels: cheap), else it only bounds it (labels along lines). LAB_ALL: 1. LAB_SURVEY:
 * the slot is recorded (not valid until its bounds are known) and 1 is returned; -1 on
 * out-of-memory. LAB_NEEDED: 1 if the survey found the slot needed and did not lay it
 * out, else 0 (the proposal is skipped). */
static int
slot_open(lab_env *e, uint32_t group, int laid)
{
    ts_render__labeler *lb = e->lb;
    size_t k = e->slot++;
    if (e->mode == LAB_ALL)
        return 1;
    if (e->mode == LAB_NEEDED)
        return !laid && k < lb->nslots && lb->need[k] != 0; /* mark_needed's walk */
    if (ts_render__grow((void **)&lb->slots, &lb->cslots, k + 1, sizeof *lb->slots) != 0)
        return -1;
    memset(&lb->slots[k], 0, sizeof lb->slots[k]);
    lb->slots[k].group = group;
    lb->slots[k].laid = (uint8_t)(laid != 0);
    lb->slots[k].cand = UINT32_MAX;
    lb->nslots = k + 1;
    e->cur = k;
    return 1;
}

/* LAB_SURVEY: the current slot is proposed inside the window, its boxes within b. */
static void
slot_record(lab_env *e, const proposal *pr, const double b[4])
{
    slot *sl = &e->lb->slots[e->cur];
    memcpy(sl->b, b, sizeof sl->b);
    sl->dup_key = pr->dup_key;
    sl->dup_dist = pr->dup_dist;
    sl->valid = 1;
}

/* Add a laid-out label (glyph positions already appended at lb->pos[pos..]) as a
 * candidate with its boxes. The runs' references pass to the item (released even when
 * the label is not proposed). Returns TS_OK also when it is not proposed (too large, too
 * far, or outside the image when labels must stay inside). */
static ts_status
add_candidate(lab_env *e, const proposal *pr, const ts_text_run *run, size_t pos,
              const ts_text_run *run2, size_t pos2, const double bar[4], double bar_w,
              const ts_rbox *boxes, size_t nbox, uint32_t group, uint32_t pos_index)
{
    ts_render__labeler *lb = e->lb;
    double b[4];
    rboxes_bounds(boxes, nbox, b);
    double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
    int keep = hypot(b[2] - b[0], b[3] - b[1]) <= e->lmax && cx >= e->gx0 && cx <= e->gx1 &&
               cy >= e->gy0 && cy <= e->gy1;
    e->cut_by_edge = e->req->labels_inside && !pr->sym->text->partials &&
                     !(b[0] >= 0 && b[1] >= 0 && b[2] <= e->ix1 && b[3] <= e->iy1);
    if (e->cut_by_edge)
        keep = 0;
    if (keep && e->mode == LAB_SURVEY && e->near_px > 0 && group == TS_LABEL_NO_GROUP &&
        pr->dup_key == 0) {
        /* a label with neither alternatives nor a dup key is reached only by boxes that
         * meet its own: after the 2r - 2 hops of at most one extent each from a drawn
         * label, the last hop is half the extent and half its own size (a parcel number
         * needs a smaller window than a street name) */
        double far = e->near_px + (e->extent_px + hypot(b[2] - b[0], b[3] - b[1])) / 2;
        keep = cx >= e->area[0] - far && cx <= e->area[2] + far && cy >= e->area[1] - far &&
               cy <= e->area[3] + far;
    }
    if (keep && e->mode == LAB_SURVEY)
        slot_record(e, pr, b); /* and proposed: mark_needed keeps it or not */
    if (!keep || ts_render__grow((void **)&lb->items, &lb->citems, lb->nitems + 1, sizeof *lb->items) != 0 ||
        ts_render__grow((void **)&lb->lbox, &lb->clbox, nbox, sizeof *lb->lbox) != 0) {
        ts_text_run_release(run);
        if (run2 != NULL)
            ts_text_run_release(run2);
        lb->npos = pos; /* drop its glyph positions */
        return keep ? TS_FAIL(e->err, TS_ENOMEM, "labels") : TS_OK;
    }
    item *it = &lb->items[lb->nitems++];
    memset(it, 0, sizeof *it);
    it->run = run;
    it->run2 = run2;
    it->pos = pos;
    it->pos2 = pos2;
    it->paint = pr->paint;
    if (run2 != NULL) {
        memcpy(it->bar, bar, sizeof it->bar);
        it->bar_w = bar_w;
    }
    memcpy(it->b, b, sizeof b);
    it->always = pr->sym->text->conflict_resolution == 0;
    if (it->always) /* drawn whatever else is there, and blocks nothing */
        return TS_OK;
    for (size_t i = 0; i < nbox; i++)
        lb->lbox[i] = (ts_label_box){boxes[i].cx, boxes[i].cy, boxes[i].hw, boxes[i].hh,
                                     boxes[i].angle};
    ts_label_cand c = {
        .priority = pr->priority,
        .weight = pr->weight,
        .id = (uint64_t)pr->layer_index << 58 ^ (uint64_t)pr->fid << 18 ^
              (uint64_t)(pr->sym_index & 0xff) << 10 ^ (pos_index & 0x3ff),
        .group = group,
        .pad = 0, /* the boxes include the pad already (layout functions grow them) */
        .dup_key = pr->dup_key,
        .dup_dist = pr->dup_dist,
        .ax = cx,
        .ay = cy,
        .user = (uint32_t)(lb->nitems - 1),
    };
    ts_err lerr;
    ts_status st = ts_label_add(lb->set, &c, lb->lbox, (uint32_t)nbox, &lerr);
    if (st != TS_OK) { /* TS_EINVAL: a box from degenerate geometry; skipped */
        lb->nitems--;
        ts_text_run_release(run);
        if (run2 != NULL)
            ts_text_run_release(run2);
        return st == TS_ENOMEM ? TS_FAIL(e->err, TS_ENOMEM, "labels") : TS_OK;
    }
    if (e->mode == LAB_SURVEY)
        lb->slots[e->cur].cand = (uint32_t)(ts_label_count(lb->set) - 1);
    else
        e->stats->label_candidates++;
    return TS_OK;
}

/* Room for n more glyph positions and boxes; the index of the first, or SIZE_MAX. */
static size_t
pos_room(ts_render__labeler *lb, size_t n)
{
    if (ts_render__grow((void **)&lb->pos, &lb->cpos, lb->npos + n, sizeof *lb->pos) != 0 ||
        ts_render__grow((void **)&lb->rb, &lb->crb, n + 1, sizeof *lb->rb) != 0)
        return SIZE_MAX;
    return lb->npos;
}

static ts_status
shape(lab_env *e, int face, double size, const char *s, size_t n, const ts_text_run **out)
{
    /* the style's 0.5..2048 px scaled by DPI or @2x may leave the text engine's range: clamp
     * rather than fail the tile (a 1500 px label on a 512 px tile is 2048 px as well) */
    size = size < 1.0 / 64 ? 1.0 / 64 : size > 2048.0 ? 2048.0 : size;
    ts_font_spec spec = {.face = face, .size_px = size, .align = TS_TEXT_ALIGN_CENTER};
    return ts_text_shape(e->lb->text, s, n, &spec, out, e->err);
}

/* For a "fraction" label: the newline between numerator and denominator, or NULL for a
 * plain label; nothing but white space below the line (a null denominator) makes it a
 * plain number, cut at the line (*n shortened). */
static const char *
fraction_line(const ts_text *tx, const char *s, size_t *n)
{
    const char *nl = tx->fraction ? memchr(s, '\n', *n) : NULL;
    if (nl == NULL)
        return NULL;
    const char *q = nl + 1;
    while (q < s + *n && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
        q++;
    if (q < s + *n)
        return nl;
    *n = (size_t)(nl - s);
    return NULL;
}

/* A point label (plain or fraction) at pixel (x, y). fit_w, fit_h > 0: the label's box
 * must fit them (polygons). */
static ts_status
propose_point(lab_env *e, const proposal *pr, int face, const char *s, size_t n, double x,
              double y, double fit_w, double fit_h, uint32_t group, uint32_t pos_index)
{
    ts_render__labeler *lb = e->lb;
    int open = slot_open(e, group, 1);
    if (open <= 0)
        return open < 0 ? TS_FAIL(e->err, TS_ENOMEM, "labels") : TS_OK;
    const ts_text *tx = pr->sym->text;
    double size = tx->font_size * pr->sf;
    double rot = tx->rotation; /* the caller resolved a rotation expression into it */
    const char *nl = fraction_line(tx, s, &n);
    if (nl == NULL) {
        const ts_text_run *run;
        TS_TRY(shape(e, face, size, s, n, &run));
        if (run->nglyphs == 0 || (fit_w > 0 && (run->width > fit_w ||
                                                run->ascent + run->descent > fit_h))) {
            ts_text_run_release(run);
            return TS_OK;
        }
        size_t p0 = pos_room(lb, run->nglyphs);
        if (p0 == SIZE_MAX) {
            ts_text_run_release(run);
            return TS_FAIL(e->err, TS_ENOMEM, "labels");
        }
        ts_text_point pt = {x, y, tx->anchor_x, tx->anchor_y, tx->disp_x * pr->sf,
                            tx->disp_y * pr->sf, rot};
        ts_text_layout_point(run, &pt, pr->pad, lb->pos + p0, &lb->rb[0]);
        lb->npos += run->nglyphs;
        return add_candidate(e, pr, run, p0, NULL, 0, NULL, 0, lb->rb, 1, group, pos_index);
    }
    /* a fraction: numerator over denominator, centred, a bar between */
    const ts_text_run *r1, *r2;
    TS_TRY(shape(e, face, size, s, (size_t)(nl - s), &r1));
    ts_status st = shape(e, face, size, nl + 1, n - (size_t)(nl - s) - 1, &r2);
    if (st != TS_OK) {
        ts_text_run_release(r1);
        return st;
    }
    double w = fmax(r1->width, r2->width);
    double h1 = r1->ascent + r1->descent, h2 = r2->ascent + r2->descent;
    double bw = fmax(0.8 * pr->sf, size / 14), gap = 0.5 * pr->sf;
    /* digits have no descenders: tighten the lines towards the bar by part of it */
    double tight = 0.6 * r1->descent;
    double H = h1 + h2 + 2 * gap + bw - 2 * tight;
    if (r1->nglyphs == 0 || r2->nglyphs == 0 || (fit_w > 0 && (w > fit_w || H > fit_h))) {
        ts_text_run_release(r1);
        ts_text_run_release(r2);
        return TS_OK;
    }
    size_t p1 = pos_room(lb, r1->nglyphs + r2->nglyphs);
    if (p1 == SIZE_MAX) {
        ts_text_run_release(r1);
        ts_text_run_release(r2);
        return TS_FAIL(e->err, TS_ENOMEM, "labels");
    }
    /* local frame: the box [0, w] x [0, H], y down; its anchor goes to the point moved by
     * the displacement; the whole turns about the point */
    double ax = tx->anchor_x * w, ay = (1 - tx->anchor_y) * H;
    double a = rot * (M_PI / 180), cs = cos(a), sn = sin(a);
    double dx = tx->disp_x * pr->sf, dy = -tx->disp_y * pr->sf;
#define TO_PX(lx, ly, ox, oy)                                                                      \
    do {                                                                                           \
        double u_ = (lx) - ax + dx, v_ = (ly) - ay + dy;                                           \
        *(ox) = x + u_ * cs - v_ * sn;                                                             \
        *(oy) = y + u_ * sn + v_ * cs;                                                             \
    } while (0)
    double o1x, o1y, o2x, o2y;
    double yb = h1 - tight + gap + bw / 2; /* the bar's middle */
    TO_PX((w - r1->width) / 2, r1->ascent, &o1x, &o1y);
    TO_PX((w - r2->width) / 2, yb + bw / 2 + gap - tight + r2->ascent, &o2x, &o2y);
    ts_text_layout_straight(r1, o1x, o1y, a, lb->pos + p1);
    size_t p2 = p1 + r1->nglyphs;
    ts_text_layout_straight(r2, o2x, o2y, a, lb->pos + p2);
    lb->npos += r1->nglyphs + r2->nglyphs;
    double bar[4];
    TO_PX(0, yb, &bar[0], &bar[1]);
    TO_PX(w, yb, &bar[2], &bar[3]);
    double bcx, bcy;
    TO_PX(w / 2, H / 2, &bcx, &bcy);
#undef TO_PX
    lb->rb[0] = (ts_rbox){bcx, bcy, w / 2 + pr->pad, H / 2 + pr->pad, a};
    return add_candidate(e, pr, r1, p1, r2, p2, bar, bw, lb->rb, 1, group, pos_index);
}

/* Merge runs of boxes that are one box: the same angle and height, centred on one axis,
 * touching or overlapping along it (the glyphs of a straight stretch of a label along a
 * line; a mark without advance repeats its base's box). Their union is then exactly one
 * box (to 1e-6 px), so conflicts are unchanged and cheaper to test. Returns the count. */
static size_t
merge_boxes(ts_rbox *b, size_t n)
{
    size_t m = 0;
    double cs = 1, sn = 0; /* of b[m - 1]'s angle, once have_trig */
    int have_trig = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0) {
            ts_rbox *a = &b[m - 1];
            if (fabs(a->angle - b[i].angle) <= 1e-9 && fabs(a->hh - b[i].hh) <= 1e-9) {
                if (!have_trig) {
                    cs = cos(a->angle);
                    sn = sin(a->angle);
                    have_trig = 1;
                }
                double dx = b[i].cx - a->cx, dy = b[i].cy - a->cy;
                double t = dx * cs + dy * sn, d = -dx * sn + dy * cs;
                if (fabs(d) <= 1e-6 && t - b[i].hw <= a->hw + 1e-6 &&
                    t + b[i].hw >= -a->hw - 1e-6) {
                    double lo = fmin(-a->hw, t - b[i].hw), hi = fmax(a->hw, t + b[i].hw);
                    double mid = (lo + hi) / 2;
                    a->cx += mid * cs;
                    a->cy += mid * sn;
                    a->hw = (hi - lo) / 2;
                    continue;
                }
            }
        }
        b[m++] = b[i];
        have_trig = 0;
    }
    return m;
}

/* Labels along one part (m points in lb->pts / lb->cum). */
static ts_status
propose_along(lab_env *e, const proposal *pr, const ts_text_run *run, size_t m,
              uint32_t *pos_index)
{
    ts_render__labeler *lb = e->lb;
    const ts_text *tx = pr->sym->text;
    double L = lb->cum[m - 1], W = run->width;
    if (W + 2 * pr->pad > L)
        return TS_OK;
    /* repeated no closer than the label's own length (closer copies of one text would
     * overlap: a repeat of 0.0001 px had made millions of candidates, gigabytes) */
    double spacing = tx->repeat > 0 ? fmax(tx->repeat * pr->sf, W + 2 * pr->pad + 1) : 0;
    size_t nplaces = spacing > 0 && L > spacing ? (size_t)(L / spacing) : 1;
    if (nplaces > 4096)
        nplaces = 4096;
    double off = pr->sym->perpendicular_offset * pr->sf;
    double H;
    {
        double x0, y0, x1, y1;
        ts_text_run_box(run, &x0, &y0, &x1, &y1);
        H = fmax(y1 - y0, run->ascent + run->descent);
    }
    double A = 0; /* the widest glyph advance */
    for (size_t i = 0; i < run->nglyphs; i++)
        A = fmax(A, run->glyphs[i].advance);
    for (size_t k = 0; k < nplaces; k++) {
        double s0 = (k + 0.5) * L / nplaces;
        uint32_t group = lb->next_group++;
        static const double shift[LINE_TRIES] = {0, -0.5, 0.5};
        /* the tries are alternatives that conflict with each other; a label drawn whatever
         * else is there (conflictResolution false) would draw all of them: it takes the
         * first, the same in every tile */
        int ntries = pr->sym->text->conflict_resolution == 0 ? 1 : LINE_TRIES;
        for (int tr = 0; tr < ntries; tr++) {
            int open = slot_open(e, group, 0);
            if (open < 0)
                return TS_FAIL(e->err, TS_ENOMEM, "labels");
            double s = s0 + shift[tr] * W;
            if (open == 0 || s - W / 2 < 0 || s + W / 2 > L)
                continue;
            { /* a label centred far outside the gathered window would be dropped by
               * add_candidate: skip its layout (its centre is within half its length plus
               * the offset and pad of the line point under its middle) */
                double px, py, slack = W / 2 + fabs(off) + pr->pad + 1;
                point_at(lb, m, s, &px, &py);
                if (px < e->gx0 - slack || px > e->gx1 + slack || py < e->gy0 - slack ||
                    py > e->gy1 + slack)
                    continue;
                if (e->mode == LAB_SURVEY) {
                    /* every glyph box's centre is on the stretch of line under the label
                     * (arc s - W/2 .. s + W/2), moved across it by the offset and at most
                     * the text's height; a box reaches half a glyph, half the text's
                     * height and the pad further */
                    double b[4];
                    span_bounds(lb, m, s - W / 2, s + W / 2, b);
                    double g = fabs(off) + A / 2 + 1.5 * H + 2 * pr->pad + 2;
                    b[0] -= g;
                    b[1] -= g;
                    b[2] += g;
                    b[3] += g;
                    slot_record(e, pr, b);
                    continue;
                }
            }
            size_t p0 = pos_room(lb, run->nglyphs);
            if (p0 == SIZE_MAX)
                return TS_FAIL(e->err, TS_ENOMEM, "labels");
            size_t nb;
            if (tx->follow_line) {
                nb = ts_text_layout_on_line(run, lb->pts, m, s, off, tx->max_angle_delta,
                                            pr->pad, lb->pos + p0, lb->rb);
                if (nb == 0)
                    continue;
                nb = merge_boxes(lb->rb, nb);
            } else {
                /* straight along the chord under the label, upright */
                double x0, y0, x1, y1, cx, cy;
                point_at(lb, m, s - W / 2, &x0, &y0);
                point_at(lb, m, s + W / 2, &x1, &y1);
                point_at(lb, m, s, &cx, &cy);
                double a = atan2(y1 - y0, x1 - x0);
                if (cos(a) < -1e-9 || (fabs(cos(a)) <= 1e-9 && sin(a) > 0))
                    a += M_PI;
                double cs = cos(a), sn = sin(a);
                double mid = (run->descent - run->ascent) / 2; /* run space: middle of box */
                double u = -W / 2, v = -mid - off;
                ts_text_layout_straight(run, cx + u * cs - v * sn, cy + u * sn + v * cs, a,
                                        lb->pos + p0);
                lb->rb[0] = (ts_rbox){cx + off * sn, cy - off * cs, W / 2 + pr->pad,
                                      (run->ascent + run->descent) / 2 + pr->pad, a};
                nb = 1;
            }
            lb->npos += run->nglyphs;
            ts_text_run_ref(run);
            TS_TRY(add_candidate(e, pr, run, p0, NULL, 0, NULL, 0, lb->rb, nb, group,
                                 (*pos_index)++));
        }
    }
    return TS_OK;
}

/* How close (px) two labels of one text may be with "group": three quarters of the
 * repeat distance, at most half the longest label (it widens every render's margin). */
static double
group_dist(const ts_text *tx, double sf, double lmax)
{
    return fmin(tx->repeat > 0 ? tx->repeat * sf * 0.75 : lmax / 2, lmax / 2);
}

/* Every candidate of one feature for one TextSymbolizer. */
static ts_status
propose(lab_env *e, proposal *pr, const ts_geom *g, const ts_feature_ref *fr)
{
    ts_render__labeler *lb = e->lb;
    const ts_symbolizer *sym = pr->sym;
    const ts_text *tx = sym->text;
    size_t n = ts_label_eval(sym->label, fr, lb->buf, sizeof lb->buf);
    if (n == 0)
        return TS_OK;
    if (n >= sizeof lb->buf)
        n = strlen(lb->buf); /* cut at a character boundary by ts_label_eval */
    pr->priority = DEFAULT_PRIORITY;
    double v;
    if (tx->priority != NULL && ts_expr_eval_number(tx->priority, fr, &v) && isfinite(v))
        pr->priority = v;
    pr->dup_key = 0;
    pr->dup_dist = 0;
    if (tx->group) {
        pr->dup_key = ts_hash_bytes(0x9e3779b97f4a7c15ULL ^ (uint64_t)pr->layer_index, lb->buf, n) | 1;
        pr->dup_dist = group_dist(tx, pr->sf, GROUP_EXTENT * e->sf);
    }
    int face = face_for(lb, pr->layer->id, tx);
    if (face < 0)
        return TS_OK; /* an empty catalogue: no labels */
    uint32_t pos_index = 0;

    if (tx->placement == TS_PLACE_LINE && g->kind != TS_GEOM_POINT) {
        const ts_text_run *run;
        TS_TRY(shape(e, face, tx->font_size * pr->sf, lb->buf, n, &run));
        ts_status st = TS_OK;
        size_t first = 0;
        for (uint32_t k = 0; k < g->nparts && st == TS_OK; k++) {
            uint32_t cnt = g->counts[k];
            size_t m = cnt >= 2 ? part_px(lb, e->t, g, first, cnt, g->kind == TS_GEOM_POLYGON)
                                : 0;
            first += cnt;
            if (cnt >= 2 && m == 0) {
                st = TS_FAIL(e->err, TS_ENOMEM, "labels");
                break;
            }
            if (m < 2 || run->nglyphs == 0)
                continue;
            pr->weight = lb->cum[m - 1];
            st = propose_along(e, pr, run, m, &pos_index);
        }
        ts_text_run_release(run);
        return st;
    }

    /* point placement: the rotation may come from the feature */
    double rot = tx->rotation;
    if (tx->rotation_expr != NULL)
        rot = ts_expr_eval_number(tx->rotation_expr, fr, &v) && isfinite(v) ? v : 0;
    ts_text rtx = *tx;
    rtx.rotation = rot;
    rtx.rotation_expr = NULL;
    ts_symbolizer rsym = *sym;
    rsym.text = &rtx;
    proposal rp = *pr;
    rp.sym = &rsym;
    const ts_affine *t = e->t;
    if (g->kind == TS_GEOM_POINT) {
        /* A label beside its point (displaced) falls back to the other sides when the
         * styled one is taken: mirrored left-right, then above, then below (one group:
         * at most one of them is placed, the styled side first). Taken by another
         * label, not cut by the image's edge: a WMS map whose edge cuts the styled side
         * leaves the label out (it must fit the image), as GeoServer does. Moved to a side
         * that fits, it stood twice in a tiled WMS client, once in each of two maps. */
        double d = fmax(fabs(rtx.disp_x), fabs(rtx.disp_y));
        int nalt = d > 0 && rtx.rotation == 0 ? 4 : 1;
        rp.weight = 0;
        for (uint32_t k = 0; k < g->nparts; k++) {
            uint32_t group = nalt > 1 ? lb->next_group++ : TS_LABEL_NO_GROUP;
            double px = t->sx * g->xy[2 * k] + t->tx, py = t->sy * g->xy[2 * k + 1] + t->ty;
            for (int a = 0; a < nalt; a++) {
                ts_text alt = rtx;
                if (a == 1) {
                    alt.anchor_x = 1 - rtx.anchor_x;
                    alt.disp_x = -rtx.disp_x;
                } else if (a == 2 || a == 3) {
                    alt.anchor_x = 0.5;
                    alt.anchor_y = a == 2 ? 0 : 1;
                    alt.disp_x = 0;
                    alt.disp_y = a == 2 ? d : -d;
                }
                ts_symbolizer asym = rsym;
                asym.text = &alt;
                proposal ap = rp;
                ap.sym = &asym;
                ap.priority = rp.priority - a * 1e-6; /* the styled side ranks first */
                e->cut_by_edge = 0;
                TS_TRY(propose_point(e, &ap, face, lb->buf, n, px, py, 0, 0, group,
                                     pos_index++));
                if (a == 0 && e->cut_by_edge)
                    break;
            }
        }
        return TS_OK;
    }
    if (g->kind == TS_GEOM_POLYGON) {
        double x = 0, y = 0;
        ts_geom part = largest_polygon(g);
        g = &part;
        if (!interior_point(g, &x, &y))
            return TS_OK;
        double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
        for (uint32_t i = 0; i < g->counts[0]; i++) {
            bx0 = fmin(bx0, g->xy[2 * i]);
            bx1 = fmax(bx1, g->xy[2 * i]);
            by0 = fmin(by0, g->xy[2 * i + 1]);
            by1 = fmax(by1, g->xy[2 * i + 1]);
        }
        double fw = (bx1 - bx0) * fabs(t->sx), fh = (by1 - by0) * fabs(t->sy);
        rp.weight = fw * fh;
        return propose_point(e, &rp, face, lb->buf, n, t->sx * x + t->tx, t->sy * y + t->ty,
                             fmax(fw, 1e-9), fmax(fh, 1e-9), TS_LABEL_NO_GROUP, 0);
    }
    /* a line: the middle of its longest part */
    size_t first = 0, best_first = 0;
    uint32_t best_n = 0;
    double best_len = -1;
    for (uint32_t k = 0; k < g->nparts; k++) {
        uint32_t cnt = g->counts[k];
        double len = 0;
        for (uint32_t i = 1; i < cnt; i++)
            len += hypot(g->xy[2 * (first + i)] - g->xy[2 * (first + i - 1)],
                         g->xy[2 * (first + i) + 1] - g->xy[2 * (first + i - 1) + 1]);
        if (cnt >= 2 && len > best_len) {
            best_len = len;
            best_first = first;
            best_n = cnt;
        }
        first += cnt;
    }
    if (best_n < 2)
        return TS_OK;
    size_t m = part_px(lb, t, g, best_first, best_n, 0);
    if (m == 0)
        return TS_FAIL(e->err, TS_ENOMEM, "labels");
    double x = 0, y = 0;
    point_at(lb, m, lb->cum[m - 1] / 2, &x, &y);
    rp.weight = lb->cum[m - 1];
    return propose_point(e, &rp, face, lb->buf, n, x, y, 0, 0, TS_LABEL_NO_GROUP, 0);
}

/* The pad (halo + spaceAround) of a TextSymbolizer, px. */
static double
text_pad(const ts_text *tx, double sf)
{
    double pad = (tx->has_halo ? tx->halo_radius : 0) + (tx->space_around > 0 ? tx->space_around : 0);
    return pad * sf;
}

/* ---- extent bounds per symbolizer, shared by all workers -------------------------------- */

/* Every render of a zoom must gather candidates within the same margin, which grows with
 * the longest label proposed (ts_label_margin_centred). Instead of one fixed longest label
 * for all styles, each TextSymbolizer gets the bound its data allows: every distinct text
 * of its layer shaped once, the largest label box it can make (curved along a line,
 * fraction, halo and spacing included). The bound depends only on the style, the layer's
 * data, the fonts and the scale factor, never on the area drawn, so renders agree. A
 * candidate larger than it (a curve bending the boxes further apart than the bound
 * allows) is dropped by add_candidate in every render alike. Computed once per process
 * and kept in a small table. */
#define EXTENT_CACHE 256

typedef struct extent_entry {
    uint64_t layer;
    const ts_store *store;
    uint32_t count;
    const ts_symbolizer *sym;
    const void *fonts;
    double sf;
    double px;
} extent_entry;

static struct {
    pthread_mutex_t mu;
    extent_entry e[EXTENT_CACHE];
    int n, next;
} g_extents = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int
extent_same(const extent_entry *a, const extent_entry *b)
{
    return a->layer == b->layer && a->store == b->store && a->count == b->count &&
           a->sym == b->sym && a->fonts == b->fonts && a->sf == b->sf;
}

/* The largest box diagonal (px, pad included) one text of sym can make, capped at cap. */
static ts_status
text_extent(lab_env *e, const ts_symbolizer *sym, int face, const char *s, size_t n, double cap,
            double *out)
{
    const ts_text *tx = sym->text;
    double sf = sym_sf(e, sym), size = tx->font_size * sf, pad = text_pad(tx, sf);
    double w, h;
    const char *nl = fraction_line(tx, s, &n);
    if (nl != NULL) {
        const ts_text_run *r1, *r2;
        TS_TRY(shape(e, face, size, s, (size_t)(nl - s), &r1));
        ts_status st = shape(e, face, size, nl + 1, n - (size_t)(nl - s) - 1, &r2);
        if (st != TS_OK) {
            ts_text_run_release(r1);
            return st;
        }
        w = fmax(r1->width, r2->width);
        h = r1->ascent + r1->descent + r2->ascent + r2->descent + sf + fmax(0.8 * sf, size / 14);
        ts_text_run_release(r1);
        ts_text_run_release(r2);
    } else {
        const ts_text_run *run;
        TS_TRY(shape(e, face, size, s, n, &run));
        double x0, y0, x1, y1;
        ts_text_run_box(run, &x0, &y0, &x1, &y1);
        w = x1 - x0;
        h = y1 - y0;
        ts_text_run_release(run);
    }
    double d = hypot(w + 2 * pad, h + 2 * pad);
    if (tx->placement == TS_PLACE_LINE) /* glyph boxes along a curve, offset from it */
        d = w + 2 * h + 4 * pad + 2 * fabs(sym->perpendicular_offset * sf);
    *out = fmin(cap, d + 1);
    return TS_OK;
}

/* The bound for sym of layer l (see above), at most cap. */
static ts_status
sym_extent(lab_env *e, const ts_render_layer *l, const ts_symbolizer *sym, double cap,
           double *out)
{
    ts_render__labeler *lb = e->lb;
    extent_entry key = {l->id,  l->store, ts_store_count(l->store), sym, e->req->fonts,
                        sym_sf(e, sym), 0};
    pthread_mutex_lock(&g_extents.mu);
    for (int i = 0; i < g_extents.n; i++)
        if (extent_same(&g_extents.e[i], &key)) {
            *out = fmin(cap, g_extents.e[i].px);
            pthread_mutex_unlock(&g_extents.mu);
            return TS_OK;
        }
    pthread_mutex_unlock(&g_extents.mu);

    int face = face_for(lb, l->id, sym->text);
    double best = 0;
    uint32_t count = key.count;
    size_t cap_set = 16;
    while (cap_set < 2 * (size_t)count)
        cap_set *= 2;
    uint64_t *seen = calloc(cap_set, sizeof *seen); /* open addressing, 0 = empty */
    if (seen == NULL)
        return TS_FAIL(e->err, TS_ENOMEM, "labels: extent bound");
    ts_render__feat fc = {l, 0};
    ts_feature_ref fr = {ts_render__feat_get, &fc, {0, 0, 0, 0}};
    ts_status st = TS_OK;
    for (uint32_t fid = 0; fid < count && st == TS_OK && face >= 0 && best < cap; fid++) {
        fc.fid = fid;
        fr.bbox = ts_store_feature_bbox(l->store, fid);
        size_t n = ts_label_eval(sym->label, &fr, lb->buf, sizeof lb->buf);
        if (n == 0)
            continue;
        if (n >= sizeof lb->buf)
            n = strlen(lb->buf);
        uint64_t h = ts_hash_bytes(0x51afd7ed558ccd6dULL, lb->buf, n) | 1;
        size_t k = (size_t)h & (cap_set - 1);
        while (seen[k] != 0 && seen[k] != h)
            k = (k + 1) & (cap_set - 1);
        if (seen[k] == h)
            continue;
        seen[k] = h;
        double d;
        st = text_extent(e, sym, face, lb->buf, n, cap, &d);
        if (st == TS_OK)
            best = fmax(best, d);
        if (st == TS_OK && d >= cap)
            warn_too_long(l, sym, lb->buf, cap);
    }
    free(seen);
    if (st != TS_OK)
        return st;
    if (best >= cap || face < 0)
        best = cap;
    key.px = best;
    pthread_mutex_lock(&g_extents.mu);
    int found = 0;
    for (int i = 0; i < g_extents.n && !found; i++)
        found = extent_same(&g_extents.e[i], &key);
    if (!found) {
        if (g_extents.n < EXTENT_CACHE) {
            g_extents.e[g_extents.n++] = key;
        } else {
            g_extents.e[g_extents.next] = key;
            g_extents.next = (g_extents.next + 1) % EXTENT_CACHE;
        }
    }
    pthread_mutex_unlock(&g_extents.mu);
    *out = best;
    return TS_OK;
}

/* ---- the pass --------------------------------------------------------------------------- */

/* 1 if the style has a TextSymbolizer in a rule live at this scale. */
static int
has_live_text(const ts_style *s, double scale_denom)
{
    for (int f = 0; f < s->nfts; f++)
        for (int r = 0; r < s->fts[f].nrules; r++) {
            const ts_rule *rule = &s->fts[f].rules[r];
            if (!ts_rule_in_scale(rule, scale_denom))
                continue;
            for (int k = 0; k < rule->nsyms; k++)
                if (rule->syms[k].kind == TS_SYM_TEXT && rule->syms[k].text != NULL)
                    return 1;
        }
    return 0;
}

static ts_status
gather_layer(lab_env *e, int li, const ts_render_layer *l, double res, const ts_bbox *q)
{
    ts_render__labeler *lb = e->lb;
    const ts_style *style = l->style;
    ts_status xst;
    ts_source_xform *xf = ts_render__layer_xform(e->w, e->req, li, &xst, e->err);
    if (xst != TS_OK)
        return xst;
    double store_res;
    ts_bbox sq = ts_render__store_box(xf, q, res, &store_res);
    /* the pass after a survey visits the features the survey found (the same query) */
    const uint32_t *ids;
    size_t nids;
    if (e->mode == LAB_NEEDED && (size_t)li < lb->nsid_off) {
        ids = lb->sids + lb->sid_off[li];
        nids = lb->sid_n[li];
    } else {
        if (ts_store_query(l->store, &sq, &lb->ids) != TS_OK)
            return TS_FAIL(e->err, TS_ENOMEM, "labels: query layer %s", l->name);
        ids = lb->ids.ids;
        nids = lb->ids.n;
        if (e->mode == LAB_SURVEY) {
            if (ts_render__grow((void **)&lb->sids, &lb->csids, lb->nsids + nids + 1,
                                sizeof *lb->sids) != 0 ||
                ts_render__grow((void **)&lb->sid_off, &lb->csid_off, (size_t)li + 1,
                                sizeof *lb->sid_off) != 0 ||
                ts_render__grow((void **)&lb->sid_n, &lb->csid_n, (size_t)li + 1,
                                sizeof *lb->sid_n) != 0)
                return TS_FAIL(e->err, TS_ENOMEM, "labels");
            for (size_t k = lb->nsid_off; k < (size_t)li; k++) { /* layers without text */
                lb->sid_off[k] = lb->nsids;
                lb->sid_n[k] = 0;
            }
            if (nids > 0) /* ids may be NULL when the query found nothing */
                memcpy(lb->sids + lb->nsids, ids, nids * sizeof *ids);
            lb->sid_off[li] = lb->nsids;
            lb->sid_n[li] = nids;
            lb->nsids += nids;
            lb->nsid_off = (size_t)li + 1;
        }
    }
    int level = ts_store_level_for_res(l->store, store_res);
    ts_render__feat fc = {l, 0};
    ts_feature_ref fr = {ts_render__feat_get, &fc, {0, 0, 0, 0}};
    double sd = e->req->scale_denom;
    for (int f = 0; f < style->nfts; f++) {
        const ts_fts *fts = &style->fts[f];
        int live_text = 0;
        for (int r = 0; r < fts->nrules && !live_text; r++)
            if (ts_rule_in_scale(&fts->rules[r], sd))
                for (int k = 0; k < fts->rules[r].nsyms; k++)
                    live_text |= fts->rules[r].syms[k].kind == TS_SYM_TEXT;
        if (!live_text)
            continue;
        for (size_t i = 0; i < nids; i++) {
            if ((i & 255) == 255 && e->req->deadline_ns != 0 &&
                ts_mono_ns() > e->req->deadline_ns)
                return TS_FAIL(e->err, TS_ELIMIT, "labels of %s: past the render time limit",
                               l->name);
            size_t v = e->visit++;
            if (e->mode == LAB_SURVEY) {
                if (ts_render__grow((void **)&lb->visits, &lb->cvisits, v + 2, sizeof *lb->visits) != 0)
                    return TS_FAIL(e->err, TS_ENOMEM, "labels");
                lb->visits[v] = (visit){e->slot, lb->next_group, 0};
                lb->nvisits = v + 1;
            } else if (e->mode == LAB_NEEDED) {
                if (v >= lb->nvisits || !lb->visits[v].needed) {
                    /* nothing of this feature is needed: skip it, the counters moved on
                     * as if it had been proposed (visits[nvisits] is the survey's end) */
                    if (v < lb->nvisits) {
                        e->slot = lb->visits[v + 1].slot;
                        lb->next_group = lb->visits[v + 1].group;
                    }
                    continue;
                }
                e->slot = lb->visits[v].slot;
                lb->next_group = lb->visits[v].group;
            }
            uint32_t fid = ids[i];
            ts_geom g;
            ts_store_geom(l->store, level, fid, &g);
            if (g.kind == TS_GEOM_NONE || g.nparts == 0)
                continue;
            if (xf != NULL && ts_render__xform_geom(e->w, xf, &g) != 0)
                continue;
            fc.fid = fid;
            fr.bbox = ts_store_feature_bbox(l->store, fid);
            int else_on = fts->has_else && ts_fts_else_applies(fts, sd, &fr);
            for (int r = 0; r < fts->nrules; r++) {
                const ts_rule *rule = &fts->rules[r];
                if (!ts_rule_in_scale(rule, sd))
                    continue;
                if (rule->is_else ? !else_on
                                  : rule->filter != NULL && !ts_filter_eval(rule->filter, &fr))
                    continue;
                for (int k = 0; k < rule->nsyms; k++) {
                    const ts_symbolizer *sym = &rule->syms[k];
                    if (sym->kind != TS_SYM_TEXT || sym->text == NULL || sym->label == NULL)
                        continue;
                    const ts_text *tx = sym->text;
                    proposal pr = {
                        .sym = sym,
                        .layer = l,
                        .layer_index = li,
                        .fid = fid,
                        .sym_index = (f * 31 + r) * 7 + k,
                        .sf = sym_sf(e, sym),
                    };
                    pr.pad = text_pad(tx, pr.sf);
                    pr.paint.fill = sym->has_fill ? sym->fill : (ts_rgba){0, 0, 0, 0};
                    pr.paint.fill_opacity = sym->fill_opacity;
                    pr.paint.halo_radius = tx->has_halo ? tx->halo_radius * pr.sf : 0;
                    pr.paint.halo = tx->halo_fill;
                    pr.paint.halo_opacity = tx->halo_opacity;
                    TS_TRY(propose(e, &pr, &g, &fr));
                }
            }
        }
    }
    return TS_OK;
}

/* 1 if a label with bounds b (pixels of its transform), moved by (dx, dy), may touch rows
 * [r0, r1) and columns [0, w) of a canvas. */
static int
item_meets(const double b[4], double halo, double dx, double dy, double r0, double r1, int w)
{
    double g = halo + 2;
    return !(b[3] + dy + g < r0 || b[1] + dy - g > r1 || b[2] + dx + g < 0 ||
             b[0] + dx - g > w);
}

/* Draw a label: runs with glyph positions pos (and pos2), moved by (dx, dy). */
static ts_status
draw_item(ts_render__labeler *lb, ts_raster *r, ts_canvas *c, const item *it,
          const ts_text_glyph_pos *pos, const ts_text_glyph_pos *pos2, double dx, double dy,
          ts_err *err)
{
    size_t n = it->run->nglyphs + (it->run2 ? it->run2->nglyphs : 0);
    if (ts_render__grow((void **)&lb->moved, &lb->cmoved, n + 1, sizeof *lb->moved) != 0)
        return TS_FAIL(err, TS_ENOMEM, "labels");
    ts_text_glyph_pos *m1 = lb->moved, *m2 = lb->moved + it->run->nglyphs;
    for (size_t i = 0; i < it->run->nglyphs; i++)
        m1[i] = (ts_text_glyph_pos){pos[i].x + dx, pos[i].y + dy, pos[i].angle};
    for (size_t i = 0; it->run2 && i < it->run2->nglyphs; i++)
        m2[i] = (ts_text_glyph_pos){pos2[i].x + dx, pos2[i].y + dy, pos2[i].angle};
    if (it->run2 != NULL) {
        double xy[4] = {it->bar[0] + dx, it->bar[1] + dy, it->bar[2] + dx, it->bar[3] + dy};
        uint32_t cnt = 2;
        ts_parts bar = {xy, &cnt, 1};
        static const ts_affine id = {1, 1, 0, 0};
        ts_stroke s = {.width = it->bar_w, .join = TS_JOIN_MITER, .cap = TS_CAP_BUTT};
        if (it->paint.halo_radius > 0) {
            ts_stroke h = s;
            h.width += 2 * it->paint.halo_radius;
            h.cap = TS_CAP_ROUND;
            ts_status st = ts_raster_stroke(r, c, &id, &bar, 0, &h, it->paint.halo,
                                            it->paint.halo_opacity);
            if (st != TS_OK)
                return TS_FAIL(err, st, "labels: fraction bar");
        }
        TS_TRY(ts_text_draw(lb->text, r, c, it->run, m1, &it->paint, err));
        TS_TRY(ts_text_draw(lb->text, r, c, it->run2, m2, &it->paint, err));
        if (it->paint.fill.a > 0) {
            ts_status st = ts_raster_stroke(r, c, &id, &bar, 0, &s, it->paint.fill,
                                            it->paint.fill_opacity);
            if (st != TS_OK)
                return TS_FAIL(err, st, "labels: fraction bar");
        }
        return TS_OK;
    }
    return ts_text_draw(lb->text, r, c, it->run, m1, &it->paint, err);
}

/* For a single tile's survey (e->near_px > 0): when every TextSymbolizer of layer l live at
 * this scale places its label at a point without displacement, alternatives or dup key
 * (add_candidate then keeps a label only within near_px + (extent + its size) / 2 of the
 * area, and the label's anchor lies within its size of its centre and inside its
 * feature), *rad = how far beyond the area a feature can still give a kept label, px;
 * else *rad = 0 (the whole window is queried). */
static ts_status
point_layer_reach(lab_env *e, const ts_render_layer *l, double *rad)
{
    *rad = 0;
    if (e->near_px <= 0)
        return TS_OK;
    const ts_style *s = l->style;
    double pmax = 0;
    int any = 0;
    for (int f = 0; f < s->nfts; f++)
        for (int r = 0; r < s->fts[f].nrules; r++) {
            const ts_rule *rule = &s->fts[f].rules[r];
            if (!ts_rule_in_scale(rule, e->req->scale_denom))
                continue;
            for (int k = 0; k < rule->nsyms; k++) {
                const ts_symbolizer *sym = &rule->syms[k];
                if (sym->kind != TS_SYM_TEXT || sym->text == NULL || sym->label == NULL)
                    continue;
                const ts_text *tx = sym->text;
                if (tx->placement == TS_PLACE_LINE || tx->group || tx->disp_x != 0 ||
                    tx->disp_y != 0 || !(tx->anchor_x >= 0 && tx->anchor_x <= 1) ||
                    !(tx->anchor_y >= 0 && tx->anchor_y <= 1))
                    return TS_OK; /* the anchor may lie outside the label's box */
                double ext = LABEL_EXTENT_MAX * e->sf;
                TS_TRY(sym_extent(e, l, sym, ext, &ext));
                if (tx->rotation != 0 || tx->rotation_expr != NULL)
                    ext *= M_SQRT2; /* the upright bounds of a turned box */
                pmax = fmax(pmax, ext);
                any = 1;
            }
        }
    if (any)
        *rad = e->near_px + e->extent_px / 2 + pmax + 1;
    return TS_OK;
}

/* Query every layer with live text over e's window (pixels of e->t) grown by the reach,
 * and make its proposals (e->mode says what becomes of them). */
static ts_status
gather_window(lab_env *e)
{
    const ts_render_req *req = e->req;
    const ts_affine *t = e->t;
    e->slot = 0;
    e->visit = 0;
    e->lb->next_group = 0;
    double x0 = (e->gx0 - e->reach - t->tx) / t->sx, x1 = (e->gx1 + e->reach - t->tx) / t->sx;
    double y0 = (e->gy0 - e->reach - t->ty) / t->sy, y1 = (e->gy1 + e->reach - t->ty) / t->sy;
    ts_bbox q = {fmin(x0, x1), fmin(y0, y1), fmax(x0, x1), fmax(y0, y1)};
    double res = 1 / fabs(t->sx);
    ts_status st = TS_OK;
    for (int i = 0; i < req->nlayers && st == TS_OK; i++) {
        if (!has_live_text(req->layers[i]->style, req->scale_denom))
            continue;
        double rad;
        st = point_layer_reach(e, req->layers[i], &rad);
        if (st == TS_OK && rad > 0) {
            /* only its features near enough to keep a label are queried (add_candidate) */
            double px0 = (e->area[0] - rad - t->tx) / t->sx, px1 = (e->area[2] + rad - t->tx) / t->sx;
            double py0 = (e->area[1] - rad - t->ty) / t->sy, py1 = (e->area[3] + rad - t->ty) / t->sy;
            ts_bbox lq = {fmax(q.minx, fmin(px0, px1)), fmax(q.miny, fmin(py0, py1)),
                          fmin(q.maxx, fmax(px0, px1)), fmin(q.maxy, fmax(py0, py1))};
            st = gather_layer(e, i, req->layers[i], res, &lq);
        } else if (st == TS_OK) {
            st = gather_layer(e, i, req->layers[i], res, &q);
        }
    }
    return st;
}

static int
rects_meet(const double a[4], const double b[4])
{
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

/* 1 if two slots of one dup key are close enough to conflict: their rectangles (which
 * hold their anchors) are within the larger dup distance. */
static int
dups_near(const slot *a, const slot *b)
{
    double dx = a->b[0] - b->b[2], dx2 = b->b[0] - a->b[2];
    double dy = a->b[1] - b->b[3], dy2 = b->b[1] - a->b[3];
    dx = dx > dx2 ? dx : dx2;
    dy = dy > dy2 ? dy : dy2;
    dx = dx > 0 ? dx : 0;
    dy = dy > 0 ? dy : 0;
    double d = a->dup_dist > b->dup_dist ? a->dup_dist : b->dup_dist;
    return dx * dx + dy * dy <= d * d * (1 + 1e-9) + 1e-9;
}


#define SURVEY_CELL 128.0 /* px: cells of the survey's grid */

/* Mark the surveyed slots a tile needs: those whose rectangle (grown by the halo) meets
 * the canvas rows [r0, r1) x columns [0, cw), and every slot within 2 x LABEL_ROUNDS - 1
 * may-conflict hops of them (rectangles that meet, one group, one dup key within the dup
 * distance). Whether a candidate is placed after r rounds depends only on the candidates
 * within 2r - 1 conflict hops (label/label.h); a conflict implies a may-conflict, so the
 * needed slots hold every candidate the drawn labels depend on, and resolving only them
 * gives the drawn labels the fate they have in the whole window. Then the visits with a
 * needed slot are marked. */
static ts_status
mark_needed(lab_env *e, double r0, double r1, double cw, double halo)
{
    ts_render__labeler *lb = e->lb;
    size_t n = lb->nslots;
    if (n == 0)
        return TS_OK;
    if (n >= UINT32_MAX / 2)
        return TS_FAIL(e->err, TS_EINVAL, "labels: too many proposals");
    if (ts_render__grow((void **)&lb->need, &lb->cneed, n, 1) != 0 ||
        ts_render__grow((void **)&lb->queue, &lb->cqueue, n, sizeof *lb->queue) != 0)
        return TS_FAIL(e->err, TS_ENOMEM, "labels");
    uint8_t *need = lb->need;
    double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
    size_t ndup = 0;
    for (size_t i = 0; i < n; i++) {
        const slot *sl = &lb->slots[i];
        need[i] = 0;
        if (!sl->valid)
            continue;
        bx0 = fmin(bx0, sl->b[0]);
        by0 = fmin(by0, sl->b[1]);
        bx1 = fmax(bx1, sl->b[2]);
        by1 = fmax(by1, sl->b[3]);
        if (sl->dup_key != 0)
            ndup++;
    }
    if (!(bx1 >= bx0))
        return TS_OK; /* nothing proposed in the window */
    /* the slots of each dup key linked in a list, from an open-addressing table */
    size_t tcap = 16;
    while (tcap < 2 * ndup)
        tcap *= 2;
    if (ts_render__grow((void **)&lb->dups, &lb->cdups, tcap, sizeof *lb->dups) != 0)
        return TS_FAIL(e->err, TS_ENOMEM, "labels");
    for (size_t k = 0; k < tcap; k++)
        lb->dups[k] = (dup_entry){0, UINT32_MAX};
    for (size_t i = n; i-- > 0;) {
        slot *sl = &lb->slots[i];
        if (!sl->valid || sl->dup_key == 0)
            continue;
        size_t h = (size_t)(sl->dup_key * 0x9e3779b97f4a7c15ULL >> 32) & (tcap - 1);
        while (lb->dups[h].key != 0 && lb->dups[h].key != sl->dup_key)
            h = (h + 1) & (tcap - 1);
        sl->dup_next = lb->dups[h].slot; /* UINT32_MAX for the first */
        lb->dups[h] = (dup_entry){sl->dup_key, (uint32_t)i};
    }

    /* a grid of cells, each listing the slots whose rectangle meets it */
    double cell = SURVEY_CELL;
    while ((bx1 - bx0) / cell > 512 || (by1 - by0) / cell > 512)
        cell *= 2;
    size_t nx = (size_t)((bx1 - bx0) / cell) + 1, ny = (size_t)((by1 - by0) / cell) + 1;
    size_t ncell = nx * ny;
#define CELL_RANGE(b, cx0, cy0, cx1, cy1)                                                          \
    do {                                                                                           \
        cx0 = (size_t)(((b)[0] - bx0) / cell);                                                     \
        cy0 = (size_t)(((b)[1] - by0) / cell);                                                     \
        cx1 = (size_t)(((b)[2] - bx0) / cell);                                                     \
        cy1 = (size_t)(((b)[3] - by0) / cell);                                                     \
    } while (0)
    if (ts_render__grow((void **)&lb->cell_off, &lb->ccell_off, ncell + 1, sizeof *lb->cell_off) != 0)
        return TS_FAIL(e->err, TS_ENOMEM, "labels");
    uint32_t *off = lb->cell_off;
    memset(off, 0, (ncell + 1) * sizeof *off);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const slot *sl = &lb->slots[i];
        if (!sl->valid)
            continue;
        size_t cx0, cy0, cx1, cy1;
        CELL_RANGE(sl->b, cx0, cy0, cx1, cy1);
        for (size_t y = cy0; y <= cy1; y++)
            for (size_t x = cx0; x <= cx1; x++)
                off[y * nx + x + 1]++;
        total += (cx1 - cx0 + 1) * (cy1 - cy0 + 1);
    }
    if (total >= UINT32_MAX ||
        ts_render__grow((void **)&lb->cell_slots, &lb->ccell_slots, total ? total : 1,
                        sizeof *lb->cell_slots) != 0)
        return TS_FAIL(e->err, TS_ENOMEM, "labels");
    for (size_t c = 0; c < ncell; c++)
        off[c + 1] += off[c];
    for (size_t i = 0; i < n; i++) {
        const slot *sl = &lb->slots[i];
        if (!sl->valid)
            continue;
        size_t cx0, cy0, cx1, cy1;
        CELL_RANGE(sl->b, cx0, cy0, cx1, cy1);
        for (size_t y = cy0; y <= cy1; y++)
            for (size_t x = cx0; x <= cx1; x++)
                lb->cell_slots[off[y * nx + x]++] = (uint32_t)i;
    }
    for (size_t c = ncell; c > 0; c--) /* back to the starts */
        off[c] = off[c - 1];
    off[0] = 0;

    /* breadth first from the slots the canvas shows; need = 1 + hops */
    uint32_t *q = lb->queue;
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < n; i++) {
        const slot *sl = &lb->slots[i];
        if (sl->valid && !(sl->b[3] + halo < r0 || sl->b[1] - halo > r1 ||
                           sl->b[2] + halo < 0 || sl->b[0] - halo > cw)) {
            need[i] = 1;
            q[qt++] = (uint32_t)i;
        }
    }
    const int hops = 2 * LABEL_ROUNDS - 1;
#define REACH(j)                                                                                   \
    do {                                                                                           \
        need[j] = d1;                                                                              \
        q[qt++] = (uint32_t)(j);                                                                   \
    } while (0)
    while (qh < qt) {
        uint32_t i = q[qh++];
        const slot *a = &lb->slots[i];
        if (need[i] > hops)
            continue;
        uint8_t d1 = (uint8_t)(need[i] + 1);
        if (a->group != TS_LABEL_NO_GROUP) { /* the members: consecutive slots */
            for (size_t j = i; j-- > 0 && lb->slots[j].group == a->group;)
                if (lb->slots[j].valid && !need[j])
                    REACH(j);
            for (size_t j = i + 1; j < n && lb->slots[j].group == a->group; j++)
                if (lb->slots[j].valid && !need[j])
                    REACH(j);
        }
        if (a->dup_key != 0) { /* the same text near by */
            size_t h = (size_t)(a->dup_key * 0x9e3779b97f4a7c15ULL >> 32) & (tcap - 1);
            while (lb->dups[h].key != a->dup_key)
                h = (h + 1) & (tcap - 1);
            for (uint32_t j = lb->dups[h].slot; j != UINT32_MAX; j = lb->slots[j].dup_next)
                if (!need[j] && dups_near(a, &lb->slots[j]))
                    REACH(j);
        }
        size_t cx0, cy0, cx1, cy1;
        CELL_RANGE(a->b, cx0, cy0, cx1, cy1);
        for (size_t y = cy0; y <= cy1; y++)
            for (size_t x = cx0; x <= cx1; x++)
                for (uint32_t k = off[y * nx + x]; k < off[y * nx + x + 1]; k++) {
                    uint32_t j = lb->cell_slots[k];
                    if (!need[j] && rects_meet(a->b, lb->slots[j].b))
                        REACH(j);
                }
    }
#undef REACH
#undef CELL_RANGE
    /* the visits that hold a needed slot still to lay out */
    for (size_t v = 0; v < lb->nvisits; v++) {
        size_t s0 = lb->visits[v].slot, s1 = lb->visits[v + 1].slot;
        for (size_t k = s0; k < s1 && !lb->visits[v].needed; k++)
            lb->visits[v].needed = need[k] != 0 && !lb->slots[k].laid;
    }
    /* the candidates the survey proposed: only the needed stay */
    size_t nc = ts_label_count(lb->set);
    if (nc > 0) {
        if (ts_render__grow((void **)&lb->need, &lb->cneed, n + nc, 1) != 0)
            return TS_FAIL(e->err, TS_ENOMEM, "labels");
        uint8_t *keep = lb->need + n;
        memset(keep, 0, nc);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (lb->slots[i].cand != UINT32_MAX && lb->slots[i].cand < nc && lb->need[i]) {
                keep[lb->slots[i].cand] = 1;
                kept++;
            }
        ts_label_retain(lb->set, keep);
        e->stats->label_candidates += kept;
    }
    return TS_OK;
}

/* Resolve the candidates proposed (lb->set) and mark the placed items. */
static ts_status
resolve_items(lab_env *e)
{
    ts_render__labeler *lb = e->lb;
    ts_status st = ts_label_resolve(lb->set, LABEL_ROUNDS, e->err);
    if (st == TS_OK) {
        size_t n = ts_label_count(lb->set);
        for (size_t i = 0; i < n; i++)
            if (ts_label_placed(lb->set, i))
                lb->items[ts_label_get(lb->set, i)->user].placed = 1;
    }
    return st;
}

/* Gather the candidates centred in e's window (pixels of e->t) from every layer with live
 * text, and resolve them: lb->items with their placed flags. */
static ts_status
place_window(lab_env *e)
{
    ts_render__labeler *lb = e->lb;
    release_items(lb);
    ts_label_set_clear(lb->set);
    e->mode = LAB_ALL;
    ts_status st = gather_window(e);
    return st == TS_OK ? resolve_items(e) : st;
}

/* As place_window for a canvas that draws only the labels meeting rows [r0, r1) x
 * columns [0, cw) (pixels of e->t; halo: the widest halo), with the same result for
 * those labels, cheaper: a survey of the window finds where every candidate may lie
 * without laying out text along lines, then only the candidates the drawn ones depend on
 * (mark_needed) are laid out and resolved. */
static ts_status
place_needed(lab_env *e, double r0, double r1, double cw, double halo)
{
    ts_render__labeler *lb = e->lb;
    release_items(lb);
    ts_label_set_clear(lb->set);
    lb->nslots = 0;
    lb->nvisits = 0;
    lb->nsids = 0;
    lb->nsid_off = 0;
    e->mode = LAB_SURVEY;
    ts_status st = gather_window(e);
    if (st == TS_OK && ts_render__grow((void **)&lb->visits, &lb->cvisits, lb->nvisits + 1,
                                       sizeof *lb->visits) != 0)
        st = TS_FAIL(e->err, TS_ENOMEM, "labels");
    if (st == TS_OK) {
        lb->visits[lb->nvisits] = (visit){e->slot, lb->next_group, 0};
        st = mark_needed(e, r0, r1, cw, halo);
    }
    if (st == TS_OK) {
        e->mode = LAB_NEEDED;
        st = gather_window(e);
    }
    e->mode = LAB_ALL;
    return st == TS_OK ? resolve_items(e) : st;
}

/* Place the candidates of e's window (pixels of the canvas) and draw the placed ones that
 * reach c's rows. lone: the canvas is a tile or a few (place_needed), not a block. */
static ts_status
place_and_draw(lab_env *e, ts_raster *r, ts_canvas *c, int lone)
{
    ts_render__labeler *lb = e->lb;
    double r0 = c->row0, r1 = (double)c->row0 + c->h;
    ts_status st = lone ? place_needed(e, r0, r1, c->w, e->halo_max + 2) : place_window(e);
    for (size_t i = 0; i < lb->nitems && st == TS_OK; i++) {
        const item *it = &lb->items[i];
        if ((it->placed || it->always) &&
            item_meets(it->b, it->paint.halo_radius, 0, 0, r0, r1, c->w)) {
            e->stats->labels++;
            st = draw_item(lb, r, c, it, lb->pos + it->pos, lb->pos + it->pos2, 0, 0, e->err);
        }
    }
    release_items(lb);
    return st;
}

/* ---- placements per block, shared by all workers ---------------------------------------- */

/* Tiles and metatiles draw their labels from placements computed per block of
 * LABEL_BLOCK x LABEL_BLOCK pixels of the map's pixel grid at that resolution ("world
 * pixels": map (0, 0) is world pixel (0, 0)). A block's placement gathers the candidates
 * within the label module's margin of the block and keeps the placed labels whose centre
 * lies in the block, so every label belongs to exactly one block and every block agrees
 * with its neighbours (label/label.h). The blocks are cached for all workers (LRU by
 * bytes): the many tiles of a block pay for its placement once. */
#define LABEL_BLOCK 2048.0 /* = an 8x8 metatile of a quad grid whose origin is on it */
#define BLOCK_CACHE_BYTES ((size_t)48 << 20)

typedef struct block_label {
    item it;                   /* runs (references held), paint, bar, bounds: world px */
    ts_text_glyph_pos *pos;    /* it.run's then it.run2's glyph positions, world px */
} block_label;

typedef struct block {
    uint64_t key;              /* layers, resolution, scale, fonts, block position */
    uint64_t layers;
    double res, sf, sd;
    const void *fonts;
    int64_t bx, by;
    block_label *labels;
    size_t n;
    size_t bytes;
    int users;                 /* drawing from it now: not freed */
    struct block *prev, *next; /* LRU list, most recent first */
    struct block *hnext;       /* hash chain */
} block;

static struct {
    pthread_mutex_t mu;
    block **tab;               /* hash table of 4096 chains */
    block *head, *tail;
    size_t bytes;
} g_blocks = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, 0};

enum { BLOCK_TAB = 4096 };

static void
block_free(block *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ts_text_run_release(b->labels[i].it.run);
        if (b->labels[i].it.run2 != NULL)
            ts_text_run_release(b->labels[i].it.run2);
        free(b->labels[i].pos);
    }
    free(b->labels);
    free(b);
}

static void
lru_unlink(block *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        g_blocks.head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        g_blocks.tail = b->prev;
    b->prev = b->next = NULL;
}

static void
lru_front(block *b)
{
    b->next = g_blocks.head;
    b->prev = NULL;
    if (g_blocks.head)
        g_blocks.head->prev = b;
    g_blocks.head = b;
    if (g_blocks.tail == NULL)
        g_blocks.tail = b;
}

static int
block_same(const block *a, const block *b)
{
    return a->key == b->key && a->layers == b->layers && a->res == b->res && a->sf == b->sf &&
           a->sd == b->sd && a->fonts == b->fonts && a->bx == b->bx && a->by == b->by;
}

/* The cached block like probe, with one user more; or NULL. Caller holds the lock. */
static block *
block_find(const block *probe)
{
    if (g_blocks.tab == NULL)
        return NULL;
    for (block *b = g_blocks.tab[probe->key % BLOCK_TAB]; b != NULL; b = b->hnext)
        if (block_same(b, probe)) {
            lru_unlink(b);
            lru_front(b);
            b->users++;
            return b;
        }
    return NULL;
}

/* Insert nb (one user: the caller), unless an equal block arrived meanwhile: then nb is
 * freed and that one returned (with one user more). Evicts unused blocks over budget. */
static block *
block_insert(block *nb)
{
    pthread_mutex_lock(&g_blocks.mu);
    block *old = block_find(nb);
    if (old != NULL) {
        pthread_mutex_unlock(&g_blocks.mu);
        block_free(nb);
        return old;
    }
    if (g_blocks.tab == NULL)
        g_blocks.tab = calloc(BLOCK_TAB, sizeof *g_blocks.tab);
    if (g_blocks.tab == NULL) { /* no cache: the caller still draws from it, then frees */
        pthread_mutex_unlock(&g_blocks.mu);
        nb->users = -1000000;
        return nb;
    }
    nb->users = 1;
    nb->hnext = g_blocks.tab[nb->key % BLOCK_TAB];
    g_blocks.tab[nb->key % BLOCK_TAB] = nb;
    lru_front(nb);
    g_blocks.bytes += nb->bytes;
    for (block *b = g_blocks.tail; b != NULL && g_blocks.bytes > BLOCK_CACHE_BYTES;) {
        block *prev = b->prev;
        if (b->users == 0) {
            block **pp = &g_blocks.tab[b->key % BLOCK_TAB];
            while (*pp != b)
                pp = &(*pp)->hnext;
            *pp = b->hnext;
            lru_unlink(b);
            g_blocks.bytes -= b->bytes;
            block_free(b);
        }
        b = prev;
    }
    pthread_mutex_unlock(&g_blocks.mu);
    return nb;
}

static void
block_done(block *b)
{
    /* users of a cached block change under the lock in other threads (block_find, this
     * function): it is read under the lock too (ThreadSanitizer found the unlocked read) */
    pthread_mutex_lock(&g_blocks.mu);
    int cached = b->users >= 0;
    if (cached)
        b->users--;
    pthread_mutex_unlock(&g_blocks.mu);
    if (!cached) /* not in the cache: only this thread has it */
        block_free(b);
}

/* Compute block (bx, by): placement over the block plus margin in world pixels (e->t is
 * the world transform), the placed labels centred in the block moved into a new block. */
static block *
block_compute(lab_env *e, const block *probe, double margin)
{
    ts_render__labeler *lb = e->lb;
    double bx0 = probe->bx * LABEL_BLOCK, by0 = probe->by * LABEL_BLOCK;
    e->gx0 = bx0 - margin;
    e->gy0 = by0 - margin;
    e->gx1 = bx0 + LABEL_BLOCK + margin;
    e->gy1 = by0 + LABEL_BLOCK + margin;
    if (place_window(e) != TS_OK)
        return NULL;
    block *nb = calloc(1, sizeof *nb);
    if (nb == NULL) {
        TS_FAIL(e->err, TS_ENOMEM, "labels");
        return NULL;
    }
    *nb = *probe;
    nb->prev = nb->next = nb->hnext = NULL;
    nb->labels = NULL;
    nb->n = 0;
    nb->bytes = sizeof *nb;
    size_t cap = 0;
    for (size_t i = 0; i < lb->nitems; i++) {
        item *it = &lb->items[i];
        double cx = (it->b[0] + it->b[2]) / 2, cy = (it->b[1] + it->b[3]) / 2;
        if (!(it->placed || it->always) || cx < bx0 || cx >= bx0 + LABEL_BLOCK || cy < by0 ||
            cy >= by0 + LABEL_BLOCK)
            continue;
        size_t ng = it->run->nglyphs + (it->run2 ? it->run2->nglyphs : 0);
        block_label bl = {*it, malloc((ng + 1) * sizeof(ts_text_glyph_pos))};
        if (bl.pos == NULL || ts_render__grow((void **)&nb->labels, &cap, nb->n + 1, sizeof *nb->labels)) {
            free(bl.pos);
            block_free(nb);
            TS_FAIL(e->err, TS_ENOMEM, "labels");
            return NULL;
        }
        memcpy(bl.pos, lb->pos + it->pos, it->run->nglyphs * sizeof *bl.pos);
        if (it->run2 != NULL)
            memcpy(bl.pos + it->run->nglyphs, lb->pos + it->pos2,
                   it->run2->nglyphs * sizeof *bl.pos);
        ts_text_run_ref(bl.it.run);
        if (bl.it.run2 != NULL)
            ts_text_run_ref(bl.it.run2);
        nb->labels[nb->n++] = bl;
        nb->bytes += sizeof bl + (ng + 1) * sizeof(ts_text_glyph_pos) + 64 * ng;
    }
    release_items(lb);
    return nb;
}

/* Draw the labels of every block whose labels can reach canvas c (which shows `shown`). */
static ts_status
draw_blocks(lab_env *e, ts_raster *r, ts_canvas *c, const ts_bbox *shown, double margin)
{
    const ts_render_req *req = e->req;
    const ts_affine *ct = e->t; /* map -> canvas pixels */
    /* world pixels: map / res, y down; res snapped to 40 bits so that every metatile of a
     * zoom (whose bboxes give the resolution with different roundings) uses the same */
    double res = 1 / fabs(ct->sx);
    int ex;
    double m = frexp(res, &ex);
    res = ldexp(nearbyint(ldexp(m, 40)), ex - 40);
    ts_affine world = {1 / res, -1 / res, 0, 0};
    /* canvas pixel = world pixel + (dx, dy); with pixels a little higher or wider than
     * long (ky != 1) a label at world row wy lies at ky * wy + dy: it is moved by
     * (ky - 1) * wy more (its glyphs stay as laid out) */
    double dx = ct->tx, dy = ct->ty;
    double ky = -ct->sy * res;
    uint64_t lk = 0x6c62272e07bb0142ULL;
    for (int i = 0; i < req->nlayers; i++)
        lk = ts_hash_mix(lk ^ req->layers[i]->id);
    /* a map drawn from the same stores in another CRS (reprojected on the fly) has world
     * pixels of its own: its blocks must not meet those of the stores' own CRS */
    if (req->image_crs != NULL) {
        lk = ts_hash_bytes(lk, req->image_crs, strlen(req->image_crs));
        for (int i = 0; req->layer_crs != NULL && i < req->nlayers; i++)
            if (req->layer_crs[i] != NULL)
                lk = ts_hash_bytes(lk ^ (uint64_t)i, req->layer_crs[i], strlen(req->layer_crs[i]));
    }
    block probe = {0};
    probe.layers = lk;
    probe.res = res;
    probe.sf = e->sf;
    probe.sd = req->scale_denom;
    probe.fonts = req->fonts;
    /* the world pixels the canvas shows, grown by half a label and its halo */
    double wx0 = shown->minx / res, wx1 = shown->maxx / res;
    double wy0 = -shown->maxy / res, wy1 = -shown->miny / res;
    double grow_px = e->lmax / 2 + 8 * e->sf;
    int64_t bx0 = (int64_t)floor((wx0 - grow_px) / LABEL_BLOCK);
    int64_t bx1 = (int64_t)floor((wx1 + grow_px) / LABEL_BLOCK);
    int64_t by0 = (int64_t)floor((wy0 - grow_px) / LABEL_BLOCK);
    int64_t by1 = (int64_t)floor((wy1 + grow_px) / LABEL_BLOCK);
    if (bx1 - bx0 > 64 || by1 - by0 > 64) /* a huge image: no block cache, one placement */
        return TS_FAIL(e->err, TS_ELIMIT, "labels: image too large for label blocks");
    double r0 = c->row0, r1 = (double)c->row0 + c->h;
    ts_status st = TS_OK;
    for (int64_t by = by0; by <= by1 && st == TS_OK; by++)
        for (int64_t bx = bx0; bx <= bx1 && st == TS_OK; bx++) {
            probe.bx = bx;
            probe.by = by;
            uint64_t k = ts_hash_mix(lk ^ ts_hash_mix((uint64_t)bx * 0x9e3779b97f4a7c15ULL ^
                                                      (uint64_t)by));
            probe.key = ts_hash_mix(k ^ (uint64_t)(res * 1e6) ^ (uint64_t)(e->sf * 1000));
            pthread_mutex_lock(&g_blocks.mu);
            block *b = block_find(&probe);
            pthread_mutex_unlock(&g_blocks.mu);
            if (b == NULL) {
                lab_env we = *e;
                we.t = &world;
                block *nb = block_compute(&we, &probe, margin);
                if (nb == NULL)
                    return e->err && e->err->code != TS_OK ? e->err->code : TS_ENOMEM;
                b = block_insert(nb);
            }
            for (size_t i = 0; i < b->n && st == TS_OK; i++) {
                const block_label *bl = &b->labels[i];
                double ldy = dy;
                if (ky != 1)
                    ldy += (ky - 1) * ((bl->it.b[1] + bl->it.b[3]) / 2);
                if (!item_meets(bl->it.b, bl->it.paint.halo_radius, dx, ldy, r0, r1, c->w))
                    continue;
                e->stats->labels++;
                st = draw_item(e->lb, r, c, &bl->it, bl->pos,
                               bl->pos + bl->it.run->nglyphs, dx, ldy, e->err);
            }
            block_done(b);
        }
    return st;
}

ts_status
ts_render__labels(ts_render__labeler *lb, ts_render_worker *w, ts_raster *r,
                  const ts_render_req *req, ts_canvas *c, const ts_affine *t, const ts_bbox *shown,
                  ts_render_stats *stats, ts_err *err)
{
    if (req->fonts == NULL)
        return TS_OK;
    int any = 0;
    for (int i = 0; i < req->nlayers && !any; i++)
        any = has_live_text(req->layers[i]->style, req->scale_denom);
    if (!any)
        return TS_OK;
    uint64_t t0 = ts_mono_ns();
    if (lb->text == NULL || lb->cat != req->fonts) {
        ts_text_ctx_free(lb->text);
        lb->text = ts_text_ctx_new(req->fonts, err);
        lb->cat = lb->text ? req->fonts : NULL;
        lb->nfaces = 0;
        if (lb->text == NULL)
            return TS_FAIL(err, TS_ENOMEM, "labels: text context");
    }
    lab_env e = {.lb = lb, .w = w, .req = req, .t = t, .stats = stats, .err = err};
    e.sf = req->scale_factor > 0 ? req->scale_factor : 1;
    double cap = LABEL_EXTENT_MAX * e.sf;
    double lmax = 0, dup = 0, disp = 0;
    for (int i = 0; i < req->nlayers; i++) {
        const ts_style *s = req->layers[i]->style;
        for (int f = 0; f < s->nfts; f++)
            for (int rr = 0; rr < s->fts[f].nrules; rr++) {
                if (!ts_rule_in_scale(&s->fts[f].rules[rr], req->scale_denom))
                    continue;
                for (int k = 0; k < s->fts[f].rules[rr].nsyms; k++) {
                    const ts_symbolizer *sym = &s->fts[f].rules[rr].syms[k];
                    if (sym->kind != TS_SYM_TEXT || sym->text == NULL || sym->label == NULL)
                        continue;
                    double ext = cap;
                    ts_status xs = sym_extent(&e, req->layers[i], sym, cap, &ext);
                    if (xs != TS_OK)
                        return xs;
                    if (sym->text->rotation != 0 || sym->text->rotation_expr != NULL)
                        ext *= M_SQRT2; /* the upright bounds of a turned box (add_candidate
                                           measures those): they were cut off at 45° */
                    lmax = fmax(lmax, ext);
                    double ssf = sym_sf(&e, sym);
                    if (sym->text->has_halo)
                        e.halo_max = fmax(e.halo_max, sym->text->halo_radius * ssf);
                    if (sym->text->group)
                        dup = fmax(dup, group_dist(sym->text, ssf, GROUP_EXTENT * e.sf));
                    disp = fmax(disp, (hypot(sym->text->disp_x, sym->text->disp_y) +
                                       fabs(sym->perpendicular_offset)) *
                                          ssf);
                }
            }
    }
    e.lmax = lmax > 0 ? lmax : 1;
    /* a label's centre is within lmax / 2 + displacement of its anchor, which lies on (or
     * in) its feature: how far beyond the gathered window features are queried */
    e.reach = e.lmax / 2 + disp + 1;
    /* a conflict moves a centre by at most lmax (anchors are centres, pads are in the
     * boxes); alternatives of one label (the sides of a point) lie within lmax + 2 disp */
    double margin = ts_label_margin_centred(e.lmax + 2 * disp, dup, LABEL_ROUNDS);
    e.ix1 = req->width;
    e.iy1 = req->height;
    ts_status st;
    if (req->labels_inside) {
        /* one image (WMS): every label inside it, so the candidates are those of the image;
         * each band computes the same placement */
        e.gx0 = 0;
        e.gy0 = 0;
        e.gx1 = req->width;
        e.gy1 = req->height;
        st = place_and_draw(&e, r, c, 0);
    } else if (!req->labels_world && c->w <= 1024 &&
               (c->full_h > 0 ? c->full_h : c->h) <= 1024) {
        /* a tile or a few: its own window plus the margin (no cache: scattered tiles would
         * each pay for a whole block), of which only the candidates its labels depend on
         * are laid out and resolved (place_needed) */
        double ax0 = t->sx * shown->minx + t->tx, ax1 = t->sx * shown->maxx + t->tx;
        double ay0 = t->sy * shown->maxy + t->ty, ay1 = t->sy * shown->miny + t->ty;
        /* a label is drawn when its boxes, grown by its halo and 2 px, meet the canvas: its
         * centre may lie that much further out than the margin counts */
        double m = margin + e.halo_max + 2;
        e.area[0] = fmin(ax0, ax1);
        e.area[1] = fmin(ay0, ay1);
        e.area[2] = fmax(ax0, ax1);
        e.area[3] = fmax(ay0, ay1);
        e.extent_px = e.lmax + 2 * disp;
        e.near_px = e.extent_px / 2 + e.halo_max + 2 +
                    (2.0 * LABEL_ROUNDS - 2) * fmax(e.extent_px, dup);
        e.gx0 = fmin(ax0, ax1) - m;
        e.gx1 = fmax(ax0, ax1) + m;
        e.gy0 = fmin(ay0, ay1) - m;
        e.gy1 = fmax(ay0, ay1) + m;
        st = place_and_draw(&e, r, c, 1);
    } else {
        /* metatiles and bands of them: placements per block, shared (see draw_blocks) */
        st = draw_blocks(&e, r, c, shown, margin);
    }
    stats->label_ns += ts_mono_ns() - t0;
    return st;
}
