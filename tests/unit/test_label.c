/* Unit tests of label/: collision resolution in rounds. */
#include "label/label.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "test.h"

static uint64_t
rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static double
urand(uint64_t *s)
{
    return (double)rng(s) / (double)(1ULL << 31);
}

/* ---- an independent conflict test: polygons of the boxes ------------------------------- */

static void
corners(const ts_label_box *b, double pad, double out[8])
{
    double c = cos(b->angle), s = sin(b->angle), hw = b->hw + pad, hh = b->hh + pad;
    static const int sx[4] = {-1, 1, 1, -1}, sy[4] = {-1, -1, 1, 1};
    for (int k = 0; k < 4; k++) {
        double x = sx[k] * hw, y = sy[k] * hh;
        out[2 * k] = b->cx + x * c - y * s;
        out[2 * k + 1] = b->cy + x * s + y * c;
    }
}

/* 1 if point (x, y) is strictly inside convex quad q (counter- or clockwise). */
static int
inside(const double q[8], double x, double y)
{
    int pos = 0, neg = 0;
    for (int k = 0; k < 4; k++) {
        double ax = q[2 * k], ay = q[2 * k + 1], bx = q[(2 * k + 2) % 8], by = q[(2 * k + 3) % 8];
        double cr = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
        pos += cr > 1e-9;
        neg += cr < -1e-9;
    }
    return pos == 4 || neg == 4;
}

static int
segs_cross(const double *a, const double *b, const double *c, const double *d)
{
    double d1 = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    double d2 = (b[0] - a[0]) * (d[1] - a[1]) - (b[1] - a[1]) * (d[0] - a[0]);
    double d3 = (d[0] - c[0]) * (a[1] - c[1]) - (d[1] - c[1]) * (a[0] - c[0]);
    double d4 = (d[0] - c[0]) * (b[1] - c[1]) - (d[1] - c[1]) * (b[0] - c[0]);
    return ((d1 > 1e-9 && d2 < -1e-9) || (d1 < -1e-9 && d2 > 1e-9)) &&
           ((d3 > 1e-9 && d4 < -1e-9) || (d3 < -1e-9 && d4 > 1e-9));
}

static int
quads_overlap(const ts_label_box *a, double pa, const ts_label_box *b, double pb)
{
    double qa[8], qb[8];
    corners(a, pa, qa);
    corners(b, pb, qb);
    for (int k = 0; k < 4; k++)
        for (int m = 0; m < 4; m++)
            if (segs_cross(qa + 2 * k, qa + (2 * k + 2) % 8, qb + 2 * m, qb + (2 * m + 2) % 8))
                return 1;
    /* one inside the other (or identical): the centres */
    return inside(qa, b->cx, b->cy) || inside(qb, a->cx, a->cy);
}

typedef struct cand {
    ts_label_cand c;
    ts_label_box b[3];
    int nb;
} cand;

static int
ref_conflict(const cand *x, const cand *y)
{
    if (x->c.group != TS_LABEL_NO_GROUP && x->c.group == y->c.group)
        return 1;
    if (x->c.dup_key && x->c.dup_key == y->c.dup_key) {
        double d = fmax(x->c.dup_dist, y->c.dup_dist);
        if (hypot(x->c.ax - y->c.ax, x->c.ay - y->c.ay) < d)
            return 1;
    }
    for (int i = 0; i < x->nb; i++)
        for (int j = 0; j < y->nb; j++)
            if (quads_overlap(&x->b[i], x->c.pad, &y->b[j], y->c.pad))
                return 1;
    return 0;
}

static int
ref_before(const cand *x, const cand *y)
{
    if (x->c.priority != y->c.priority)
        return x->c.priority > y->c.priority;
    if (x->c.weight != y->c.weight)
        return x->c.weight > y->c.weight;
    return x->c.id < y->c.id;
}

/* Sequential greedy placement in rank order (the definition label.h refers to). */
static void
ref_greedy(const cand *cs, int n, uint8_t *placed)
{
    int *ord = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        ord[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort: n is small */
        for (int j = i; j > 0 && ref_before(&cs[ord[j]], &cs[ord[j - 1]]); j--) {
            int t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    memset(placed, 0, (size_t)n);
    for (int k = 0; k < n; k++) {
        int i = ord[k], ok = 1;
        for (int m = 0; m < k && ok; m++)
            if (placed[ord[m]] && ref_conflict(&cs[i], &cs[ord[m]]))
                ok = 0;
        placed[i] = (uint8_t)ok;
    }
    free(ord);
}

/* A field of n random candidates over a w x h area: words (1 box), curved labels (3
 * rotated boxes), groups of alternatives, duplicates of a few texts. */
static cand *
field(int n, double w, double h, uint64_t seed)
{
    cand *cs = calloc((size_t)n, sizeof *cs);
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        cand *c = &cs[i];
        double x = urand(&s) * w, y = urand(&s) * h;
        c->c.priority = (double)(rng(&s) % 3);
        c->c.weight = (double)(rng(&s) % 5);
        c->c.id = (uint64_t)i * 7919 % 100003;
        c->c.group = TS_LABEL_NO_GROUP;
        c->c.pad = (rng(&s) % 4 == 0) ? 2 : 0;
        c->c.ax = x;
        c->c.ay = y;
        c->c.user = (uint32_t)i;
        if (rng(&s) % 3 == 0) {
            double a = urand(&s) * 3.14159;
            c->nb = 3;
            for (int k = 0; k < 3; k++)
                c->b[k] = (ts_label_box){x + (k - 1) * 8 * cos(a), y + (k - 1) * 8 * sin(a),
                                         4, 6, a + (k - 1) * 0.2};
        } else {
            c->nb = 1;
            c->b[0] = (ts_label_box){x, y, 5 + urand(&s) * 20, 4 + urand(&s) * 4, 0};
        }
        if (rng(&s) % 5 == 0) {
            c->c.dup_key = 1 + rng(&s) % 3;
            c->c.dup_dist = 60;
        }
        if (i > 0 && rng(&s) % 6 == 0) { /* an alternative position of the previous one */
            for (int k = 0; k < c->nb; k++) {
                c->b[k].cx += cs[i - 1].c.ax + 15 - x;
                c->b[k].cy += cs[i - 1].c.ay - 10 - y;
            }
            c->c.ax = cs[i - 1].c.ax + 15;
            c->c.ay = cs[i - 1].c.ay - 10;
            c->c.group = (uint32_t)(i - 1);
            cs[i - 1].c.group = (uint32_t)(i - 1);
        }
    }
    return cs;
}

static ts_label_set *
set_of(const cand *cs, int n, const uint8_t *take)
{
    ts_label_set *set = ts_label_set_new();
    ts_err err;
    for (int i = 0; i < n; i++)
        if (take == NULL || take[i])
            if (ts_label_add(set, &cs[i].c, cs[i].b, (uint32_t)cs[i].nb, &err) != TS_OK) {
                ts_label_set_free(set);
                return NULL;
            }
    return set;
}

TS_TEST(label_rounds_to_the_end_equal_the_greedy_placement)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        int n = 150;
        cand *cs = field(n, 300, 300, seed);
        uint8_t *ref = malloc((size_t)n);
        ref_greedy(cs, n, ref);
        ts_label_set *set = set_of(cs, n, NULL);
        TS_REQUIRE(set != NULL);
        ts_err err;
        TS_CHECK_INT(ts_label_resolve(set, 1000, &err), TS_OK);
        int rounds;
        size_t und;
        ts_label_resolve_info(set, &rounds, &und);
        TS_CHECK_INT(und, 0);
        int diff = 0, placed = 0;
        for (int i = 0; i < n; i++) {
            diff += ts_label_placed(set, (size_t)i) != ref[i];
            placed += ref[i];
        }
        TS_CHECK_INT(diff, 0);
        TS_CHECK(placed > 10 && placed < n); /* the field is crowded, not empty */
        ts_label_set_free(set);
        free(ref);
        free(cs);
    }
}

/* Cut the 2000 x 2000 field cs (resolved whole in `all` with `rounds`) into 500 px windows;
 * each resolves only the candidates centred within margin m of it. Returns how many of the
 * candidates a window draws (touching it) get another state than the whole field gives
 * them; *checked counts those compared. */
static int
window_disagreements(const cand *cs, int n, const ts_label_set *all, int rounds, double m,
                     int *checked)
{
    ts_err err;
    uint8_t *take = malloc((size_t)n);
    int *idx = malloc((size_t)n * sizeof *idx);
    int bad = 0;
    *checked = 0;
    for (double wy = 0; wy < 2000; wy += 500)
        for (double wx = 0; wx < 2000; wx += 500) {
            int k = 0;
            for (int i = 0; i < n; i++) {
                double b[4];
                ts_label_bounds(all, (size_t)i, b);
                double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
                take[i] = cx > wx - m && cx < wx + 500 + m && cy > wy - m && cy < wy + 500 + m;
                if (take[i])
                    idx[k++] = i;
            }
            ts_label_set *win = set_of(cs, n, take);
            if (win == NULL || ts_label_resolve(win, rounds, &err) != TS_OK) {
                ts_label_set_free(win);
                bad = n;
                continue;
            }
            for (int j = 0; j < k; j++) {
                double b[4];
                ts_label_bounds(all, (size_t)idx[j], b);
                if (b[2] < wx || b[0] > wx + 500 || b[3] < wy || b[1] > wy + 500)
                    continue; /* not drawn by this window */
                (*checked)++;
                bad += ts_label_placed(win, (size_t)j) != ts_label_placed(all, (size_t)idx[j]);
            }
            ts_label_set_free(win);
        }
    free(idx);
    free(take);
    return bad;
}

/* The largest diagonal of the candidates' bounds. */
static double
field_extent(const ts_label_set *all, int n)
{
    double extent = 0;
    for (int i = 0; i < n; i++) {
        double b[4];
        ts_label_bounds(all, (size_t)i, b);
        extent = fmax(extent, hypot(b[2] - b[0], b[3] - b[1]));
    }
    return extent;
}

TS_TEST(label_every_window_agrees_on_what_it_draws)
{
    /* a 2000 x 2000 field cut into 500 px windows: each window resolves only the
     * candidates within ts_label_margin of it; every candidate touching the window must
     * get the state the whole field gives it (with the same number of rounds) */
    int n = 6000;
    double pad = 2, dup = 60;
    cand *cs = field(n, 2000, 2000, 77);
    ts_label_set *all = set_of(cs, n, NULL);
    TS_REQUIRE(all != NULL);
    double extent = field_extent(all, n);
    ts_err err;
    for (int rounds = 1; rounds <= 3; rounds++) {
        TS_CHECK_INT(ts_label_resolve(all, rounds, &err), TS_OK);
        int checked;
        int bad = window_disagreements(cs, n, all, rounds,
                                       ts_label_margin(extent, pad, dup, rounds), &checked);
        TS_CHECK(checked >= n);
        if (bad)
            printf("  %d rounds: %d of %d candidates differ\n", rounds, bad, checked);
        TS_CHECK_INT(bad, 0);
    }
    /* and a window with too small a margin does differ somewhere (the test can fail) */
    TS_CHECK_INT(ts_label_resolve(all, 3, &err), TS_OK);
    uint8_t *take = malloc((size_t)n);
    int bad = 0;
    for (double wy = 0; wy < 2000; wy += 250)
        for (double wx = 0; wx < 2000; wx += 250) {
            int idx[6000], k = 0;
            for (int i = 0; i < n; i++) {
                double b[4];
                ts_label_bounds(all, (size_t)i, b);
                take[i] = b[2] >= wx && b[0] <= wx + 250 && b[3] >= wy && b[1] <= wy + 250;
                if (take[i])
                    idx[k++] = i;
            }
            ts_label_set *win = set_of(cs, n, take);
            TS_REQUIRE(win != NULL);
            TS_CHECK_INT(ts_label_resolve(win, 3, &err), TS_OK);
            for (int j = 0; j < k; j++)
                bad += ts_label_placed(win, (size_t)j) != ts_label_placed(all, (size_t)idx[j]);
            ts_label_set_free(win);
        }
    TS_CHECK(bad > 0);
    free(take);
    ts_label_set_free(all);
    free(cs);
}

TS_TEST(label_centred_anchors_need_only_the_smaller_margin)
{
    /* the field again, normalised as the renderer proposes: pads folded into the boxes,
     * anchors at the centre of the bounds; ts_label_margin_centred is then enough, and a
     * window a third narrower than it differs (the margin is not loose by much) */
    int n = 6000;
    cand *cs = field(n, 2000, 2000, 78);
    for (int i = 0; i < n; i++) {
        double pad = cs[i].c.pad;
        for (int k = 0; k < cs[i].nb; k++) {
            cs[i].b[k].hw += pad;
            cs[i].b[k].hh += pad;
        }
        cs[i].c.pad = 0;
    }
    ts_label_set *all = set_of(cs, n, NULL);
    TS_REQUIRE(all != NULL);
    for (int i = 0; i < n; i++) {
        double b[4];
        ts_label_bounds(all, (size_t)i, b);
        cs[i].c.ax = (b[0] + b[2]) / 2;
        cs[i].c.ay = (b[1] + b[3]) / 2;
    }
    ts_label_set_free(all);
    all = set_of(cs, n, NULL);
    TS_REQUIRE(all != NULL);
    double extent = field_extent(all, n), dup = 60;
    /* groups: members within one extent of each other (the field's alternatives are) */
    ts_err err;
    int loose = 0;
    for (int rounds = 1; rounds <= 3; rounds++) {
        TS_CHECK_INT(ts_label_resolve(all, rounds, &err), TS_OK);
        double m = ts_label_margin_centred(extent, dup, rounds);
        TS_CHECK(m < ts_label_margin(extent, 0, dup, rounds));
        int checked;
        int bad = window_disagreements(cs, n, all, rounds, m, &checked);
        TS_CHECK(checked >= n);
        TS_CHECK_INT(bad, 0);
        loose += window_disagreements(cs, n, all, rounds, m * 2 / 3 - extent, &checked);
    }
    TS_CHECK(loose > 0);
    ts_label_set_free(all);
    free(cs);
}

TS_TEST(label_groups_duplicates_and_pads)
{
    ts_label_set *s = ts_label_set_new();
    TS_REQUIRE(s != NULL);
    ts_err err;
    /* a blocker, and a label with three alternative positions: the first is blocked, the
     * second (next in rank) is taken, the third is excluded by its group */
    ts_label_cand c = {.priority = 10, .id = 1, .group = TS_LABEL_NO_GROUP};
    ts_label_box b = {100, 100, 20, 10, 0};
    TS_CHECK_INT(ts_label_add(s, &c, &b, 1, &err), TS_OK);
    for (int k = 0; k < 3; k++) {
        ts_label_cand a = {.priority = 5, .id = 10 + (uint64_t)k, .group = 7};
        ts_label_box ab = {k == 0 ? 110 : 100 + 60.0 * k, 100, 10, 5, 0};
        TS_CHECK_INT(ts_label_add(s, &a, &ab, 1, &err), TS_OK);
    }
    /* two labels with the same text 40 px apart, dup distance 50: only the higher */
    for (int k = 0; k < 2; k++) {
        ts_label_cand d = {.priority = 1, .weight = 2 - k, .id = 20, .group = TS_LABEL_NO_GROUP,
                           .dup_key = 99, .dup_dist = 50, .ax = 500 + 40.0 * k, .ay = 500};
        ts_label_box db = {d.ax, d.ay, 5, 5, 0};
        TS_CHECK_INT(ts_label_add(s, &d, &db, 1, &err), TS_OK);
    }
    /* boxes 4 px apart: free without pad, in conflict with pad 3 on one side */
    ts_label_cand p = {.priority = 1, .id = 30, .group = TS_LABEL_NO_GROUP};
    ts_label_box pb = {800, 100, 10, 10, 0}, qb = {824, 100, 10, 10, 0};
    TS_CHECK_INT(ts_label_add(s, &p, &pb, 1, &err), TS_OK);
    p.id = 31;
    TS_CHECK_INT(ts_label_add(s, &p, &qb, 1, &err), TS_OK);
    p.id = 32;
    p.pad = 3;
    ts_label_box rb = {778, 100, 10, 10, 0};
    TS_CHECK_INT(ts_label_add(s, &p, &rb, 1, &err), TS_OK);
    /* a 45-degree box whose bounds overlap a box it does not touch */
    ts_label_cand r = {.priority = 1, .id = 40, .group = TS_LABEL_NO_GROUP};
    ts_label_box r1 = {1000, 1000, 20, 2, M_PI / 4}, r2 = {1012, 988, 3, 3, 0};
    TS_CHECK_INT(ts_label_add(s, &r, &r1, 1, &err), TS_OK);
    r.id = 41;
    TS_CHECK_INT(ts_label_add(s, &r, &r2, 1, &err), TS_OK);

    TS_CHECK_INT(ts_label_resolve(s, 100, &err), TS_OK);
    TS_CHECK(ts_label_placed(s, 0));
    TS_CHECK(!ts_label_placed(s, 1));
    TS_CHECK(ts_label_placed(s, 2));
    TS_CHECK(!ts_label_placed(s, 3));
    TS_CHECK(ts_label_placed(s, 4));
    TS_CHECK(!ts_label_placed(s, 5));
    TS_CHECK(ts_label_placed(s, 6));
    TS_CHECK(ts_label_placed(s, 7));
    TS_CHECK(!ts_label_placed(s, 8));
    TS_CHECK(ts_label_placed(s, 9));
    TS_CHECK(ts_label_placed(s, 10));
    TS_CHECK_INT(ts_label_get(s, 4)->dup_key, 99);

    /* bad input is refused and changes nothing */
    size_t n = ts_label_count(s);
    ts_label_box bad = {NAN, 0, 1, 1, 0};
    TS_CHECK_INT(ts_label_add(s, &c, &bad, 1, &err), TS_EINVAL);
    bad = (ts_label_box){0, 0, -1, 1, 0};
    TS_CHECK_INT(ts_label_add(s, &c, &bad, 1, &err), TS_EINVAL);
    TS_CHECK_INT(ts_label_add(s, &c, &b, 0, &err), TS_EINVAL);
    TS_CHECK_INT(ts_label_count(s), n);

    /* empty set, cleared set */
    ts_label_set_clear(s);
    TS_CHECK_INT(ts_label_resolve(s, 3, &err), TS_OK);
    TS_CHECK_INT(ts_label_count(s), 0);
    ts_label_set_free(s);
    ts_label_set_free(NULL);
}

TS_TEST(label_same_result_whatever_the_order_added)
{
    int n = 400;
    cand *cs = field(n, 400, 400, 5);
    ts_label_set *a = set_of(cs, n, NULL);
    cand *rev = malloc(sizeof *rev * (size_t)n);
    for (int i = 0; i < n; i++)
        rev[i] = cs[n - 1 - i];
    ts_label_set *b = set_of(rev, n, NULL);
    TS_REQUIRE(a != NULL && b != NULL);
    ts_err err;
    TS_CHECK_INT(ts_label_resolve(a, 4, &err), TS_OK);
    TS_CHECK_INT(ts_label_resolve(b, 4, &err), TS_OK);
    int diff = 0;
    for (int i = 0; i < n; i++)
        diff += ts_label_placed(a, (size_t)i) != ts_label_placed(b, (size_t)(n - 1 - i));
    TS_CHECK_INT(diff, 0);
    ts_label_set_free(a);
    ts_label_set_free(b);
    free(cs);
    free(rev);
}
