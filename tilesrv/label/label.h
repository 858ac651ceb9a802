/* label/label.h — which label candidates are placed: collision resolution that gives every
 * render of a neighbourhood the same answer.
 *
 * The renderer proposes candidates (a label at one position: one or more oriented boxes in
 * pixels of the whole map at one zoom, e.g. one box per glyph of a curved street name)
 * with a rank. The set is resolved like a greedy placement in rank order (a candidate is
 * placed when it conflicts with no placed candidate of higher rank), but computed in
 * rounds that look only at near neighbours, so the answer for a candidate depends only on
 * the candidates within a known distance of it (ts_label_margin):
 *
 *   round r: an undecided candidate all of whose higher-ranked neighbours are rejected is
 *            placed; then every undecided neighbour of a candidate placed in round r is
 *            rejected.
 *
 * Run to the end this is exactly the greedy result (the lexicographically first maximal
 * independent set). It is stopped after `rounds` rounds; candidates still undecided are
 * rejected. Whether a candidate is placed after r rounds depends only on the candidates
 * within 2r - 1 hops of conflict (placed in round r: every higher-ranked neighbour rejected
 * by the end of round r - 1, which depends on 2 (r - 1) hops around that neighbour; being
 * rejected depends on 2r hops, but a rejected and an undecided candidate are both not
 * drawn), so two renders (two metatiles, two bands) that gather every candidate within
 * ts_label_margin() of the area they draw agree on every label they draw: a label crossing a
 * tile or metatile border is drawn whole, once, in both. Ranks must be a total order that
 * is the same in every render (priority, weight, then a stable id).
 *
 * Two candidates conflict when: they are in the same group (alternative positions of one
 * label: at most one is placed); or any box of one, grown by its pad, overlaps any box of
 * the other grown by the other's pad; or they have the same nonzero dup key and their
 * anchors are closer than the larger of their dup distances (the same street name repeated
 * by neighbouring segments).
 *
 * A ts_label_set is one thread's working set; it is reused render after render. */
#ifndef TS_LABEL_LABEL_H
#define TS_LABEL_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "util/status.h"

/* An oriented rectangle in pixels (y down): centre, half sizes along its own axes, and the
 * angle of its x axis from the map's +x, radians (positive turns +x towards +y). */
typedef struct ts_label_box {
    double cx, cy;
    double hw, hh;
    double angle;
} ts_label_box;

#define TS_LABEL_NO_GROUP UINT32_MAX

typedef struct ts_label_cand {
    double priority;   /* higher is placed first */
    double weight;     /* tie-break among equal priorities: higher first (e.g. a street's
                        * length, a parcel's area) */
    uint64_t id;       /* last tie-break, lower first; the same in every render, unique
                        * per candidate (e.g. feature id << 16 | position index) */
    uint32_t group;    /* candidates of one group exclude each other; TS_LABEL_NO_GROUP.
                        * For ts_label_margin to hold, a group's members must lie within
                        * one extent of each other (alternative positions of one label) */
    double pad;        /* pixels of free space the candidate wants around its boxes (each
                        * box grows by pad along its own axes) */
    uint64_t dup_key;  /* 0, or a hash of the label text: see dup_dist */
    double dup_dist;   /* pixels: no two candidates of one dup key closer than this */
    double ax, ay;     /* anchor in pixels (for dup_dist): e.g. the label's centre */
    uint32_t user;     /* the caller's payload (an index into its own table) */
} ts_label_cand;

typedef struct ts_label_set ts_label_set;

/* An empty set. NULL on out-of-memory. */
ts_label_set *ts_label_set_new(void);
/* NULL is accepted. */
void ts_label_set_free(ts_label_set *s);
/* Forget all candidates (keeps the memory). */
void ts_label_set_clear(ts_label_set *s);

/* Add a candidate with its nbox boxes (copied; nbox >= 1). Boxes with a non-finite value
 * or a negative half size are refused (TS_EINVAL), as is nbox == 0. TS_ENOMEM on
 * out-of-memory; the set is then unchanged. */
ts_status ts_label_add(ts_label_set *s, const ts_label_cand *c, const ts_label_box *boxes,
                       uint32_t nbox, ts_err *err);

/* Keep only the candidates i with keep[i] != 0 (keep has ts_label_count entries), in
 * their order; the others are forgotten. Candidate indices then count the kept ones. */
void ts_label_retain(ts_label_set *s, const uint8_t *keep);

/* Candidates added so far. */
size_t ts_label_count(const ts_label_set *s);
/* Candidate i (0-based, in the order added). */
const ts_label_cand *ts_label_get(const ts_label_set *s, size_t i);
/* The axis-aligned bounds of candidate i's boxes (without pad): x0, y0, x1, y1. */
void ts_label_bounds(const ts_label_set *s, size_t i, double out[4]);

/* Resolve the set with at most `rounds` rounds (>= 1). Afterwards ts_label_placed tells
 * which candidates are placed. TS_ENOMEM leaves every candidate unplaced. */
ts_status ts_label_resolve(ts_label_set *s, int rounds, ts_err *err);
/* 1 if candidate i was placed by the last ts_label_resolve, else 0. */
int ts_label_placed(const ts_label_set *s, size_t i);
/* Rounds the last resolve used, and how many candidates were still undecided when it
 * stopped (rejected for determinism; 0 means the result is the full greedy one). */
void ts_label_resolve_info(const ts_label_set *s, int *rounds_used, size_t *undecided);

/* How far (pixels) beyond the area a render draws it must gather candidates so that its
 * placed labels equal every other render's: extent is the largest candidate's diagonal
 * extent (labels larger than that must not be proposed), pad the largest pad, dup the
 * largest dup distance, rounds as given to ts_label_resolve. */
double ts_label_margin(double extent, double pad, double dup, int rounds);
/* As ts_label_margin, when every candidate's anchor (ax, ay) is the centre of the bounds
 * of its boxes and its pad is 0 (the boxes are grown by the caller): one conflict hop then
 * moves a centre by at most max(extent, dup), and the margin is smaller. extent must also
 * bound the distance between the centres of two members of one group. */
double ts_label_margin_centred(double extent, double dup, int rounds);

#endif
