/* source/generalise.c — coarser levels of detail. Level L is made from level L-1 with
 * tolerance tol[L-1] (target CRS units), feature by feature:
 *
 *   points, NONE           unchanged.
 *   tiny features          (bbox narrower AND lower than the tolerance) skip GEOS: each
 *                          line part keeps its two ends (a closed one its start and the
 *                          vertex farthest from it); each polygon keeps, per exterior ring,
 *                          the ring's extreme vertices (leftmost, lowest, rightmost,
 *                          highest) in ring order — a convex, correctly oriented triangle
 *                          or quad inside the original, so the feature still adds its tone
 *                          to the map — and drops its holes. Rings of <= 4 points stay.
 *   cannot shrink          (every line part 2 points, every ring <= 4 points: removing a
 *                          corner of a rectangle would halve its area) unchanged.
 *   others                 GEOSTopologyPreserveSimplify. When the result is empty, of
 *                          another kind, invalid (polygons; checked cheaply first, then
 *                          GEOSisValid) or not smaller, the previous level's geometry is
 *                          kept.
 *
 * So no feature turns NONE here: a feature never vanishes, it at most keeps more detail
 * than needed. "Unchanged" costs no copy: a level stores only the features that differ
 * from the level below (see ts_level). */
#include "source/source.h"
#include "source/source_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

typedef struct gen_stats {
    uint64_t geos, tiny, same, failed;
    uint64_t geos_ns;      /* time in GEOS simplification */
    uint64_t worst_ns;     /* the slowest single simplification ... */
    uint32_t worst_fid;    /* ... of this feature */
    uint64_t worst_pts;    /* ... with this many vertices */
    int worst_level;       /* ... making this level */
} gen_stats;

/* A load that spends longer than this in GEOS, with one simplification taking an eighth
 * of it or more, names that feature. */
#define GEN_SLOW_NS 2000000000ull

/* Reduce a tiny line or polygon into out (see the file comment). */
static int
reduce_tiny(const ts_geom *g, ts_flat *out)
{
    ts_source__flat_reset(out, g->kind);
    size_t off = 0;
    for (uint32_t k = 0; k < g->nparts; off += g->counts[k], k++) {
        const double *p = g->xy + 2 * off;
        uint32_t n = g->counts[k];
        if (g->kind == TS_GEOM_LINE) {
            double two[4] = {p[0], p[1], p[2 * (n - 1)], p[2 * (n - 1) + 1]};
            if (two[0] == two[2] && two[1] == two[3]) {
                double best = -1;
                for (uint32_t i = 1; i < n; i++) {
                    double dx = p[2 * i] - p[0], dy = p[2 * i + 1] - p[1];
                    if (dx * dx + dy * dy > best) {
                        best = dx * dx + dy * dy;
                        two[2] = p[2 * i];
                        two[3] = p[2 * i + 1];
                    }
                }
            }
            if (ts_source__flat_add_part(out, two, 2, 0) != 0)
                return -1;
            continue;
        }
        if (ts_geom_ring_area2(p, n) < 0)
            continue; /* a hole: invisible at this tolerance */
        if (n <= 4) {
            if (ts_source__flat_add_part(out, p, n, 0) != 0)
                return -1;
            continue;
        }
        uint32_t ext[4] = {0, 0, 0, 0}; /* min x, min y, max x, max y */
        for (uint32_t i = 1; i < n; i++) {
            double x = p[2 * i], y = p[2 * i + 1];
            if (x < p[2 * ext[0]])
                ext[0] = i;
            if (y < p[2 * ext[1] + 1])
                ext[1] = i;
            if (x > p[2 * ext[2]])
                ext[2] = i;
            if (y > p[2 * ext[3] + 1])
                ext[3] = i;
        }
        /* ring order, no repeats */
        for (int i = 1; i < 4; i++)
            for (int j = i; j > 0 && ext[j - 1] > ext[j]; j--) {
                uint32_t t = ext[j];
                ext[j] = ext[j - 1];
                ext[j - 1] = t;
            }
        double q[8];
        uint32_t m = 0;
        for (int i = 0; i < 4; i++) {
            if (i > 0 && ext[i] == ext[i - 1])
                continue;
            q[2 * m] = p[2 * ext[i]];
            q[2 * m + 1] = p[2 * ext[i] + 1];
            m++;
        }
        if (ts_source__flat_add_part(out, q, m, 0) != 0)
            return -1;
    }
    int dropped;
    ts_source__flat_clean(out, &dropped);
    return 0;
}

static int
cannot_shrink(const ts_geom *g)
{
    uint32_t limit = g->kind == TS_GEOM_LINE ? 2 : 4;
    for (uint32_t k = 0; k < g->nparts; k++)
        if (g->counts[k] > limit)
            return 0;
    return 1;
}

/* GEOS topology-preserving simplification of g into out. 0 = out holds a usable result,
 * 1 = keep g. */
static int
simplify(ts_source_ctx *sc, const ts_geom *g, double tol, ts_flat *out)
{
    GEOSGeometry *in = ts_source__to_geos(sc, g->kind, g->xy, g->counts, g->nparts, NULL);
    if (in == NULL)
        return 1;
    GEOSGeometry *simp = GEOSTopologyPreserveSimplify_r(sc->geos, in, tol);
    GEOSGeom_destroy_r(sc->geos, in);
    if (simp == NULL)
        return 1;
    ts_source__flat_reset(out, g->kind);
    int rc = ts_source__from_geos(sc, simp, g->kind, out);
    int dropped = 0;
    if (rc == 0 && ts_source__flat_clean(out, &dropped) == 0)
        rc = -1;
    if (rc == 0 && g->kind == TS_GEOM_POLYGON && !ts_source__flat_cheap_valid(out)) {
        /* clean only removes repeats and degenerate rings: if simp is valid, out is */
        if (GEOSisValid_r(sc->geos, simp) != 1)
            rc = -1;
    }
    GEOSGeom_destroy_r(sc->geos, simp);
    return rc == 0 ? 0 : 1;
}

static ts_status
make_level(ts_source_ctx *sc, ts_store *s, int L, double tol, ts_flat *a, gen_stats *st,
           ts_err *err)
{
    ts_level *lv = &s->levels[L];
    lv->tol = tol;
    size_t words = (size_t)s->n / 64 + 1;
    lv->own = calloc(words, sizeof *lv->own);
    lv->rank = calloc(words, sizeof *lv->rank);
    if (lv->own == NULL || lv->rank == NULL)
        return TS_FAIL(err, TS_ENOMEM, "store %s: level %d", s->name, L);
    for (uint32_t fid = 0; fid < s->n; fid++) {
        ts_geom g;
        ts_store_geom(s, L - 1, fid, &g);
        int keep = 1;
        if (g.kind == TS_GEOM_LINE || g.kind == TS_GEOM_POLYGON) {
            const ts_bbox *bb = &s->bbox[fid];
            if (bb->maxx - bb->minx < tol && bb->maxy - bb->miny < tol) {
                if (reduce_tiny(&g, a) != 0)
                    return TS_FAIL(err, TS_ENOMEM, "store %s: level %d", s->name, L);
                keep = a->nparts == 0;
                st->tiny++;
            } else if (!cannot_shrink(&g)) {
                uint64_t t0 = ts_mono_ns();
                keep = simplify(sc, &g, tol, a);
                uint64_t dt = ts_mono_ns() - t0;
                st->geos++;
                st->failed += (uint64_t)keep;
                st->geos_ns += dt;
                if (dt > st->worst_ns) {
                    st->worst_ns = dt;
                    st->worst_fid = fid;
                    st->worst_level = L;
                    st->worst_pts = 0;
                    for (uint32_t k = 0; k < g.nparts; k++)
                        st->worst_pts += g.counts[k];
                }
            }
        }
        if (!keep) {
            uint64_t prev = 0;
            for (uint32_t k = 0; k < g.nparts; k++)
                prev += g.counts[k];
            keep = a->npts >= prev && a->nparts >= g.nparts;
        }
        if (keep)
            st->same++;
        else if (ts_source__level_add_own(lv, fid, a->xy, a->npts, a->counts, a->nparts) != 0)
            return TS_FAIL(err, TS_ENOMEM, "store %s: level %d", s->name, L);
    }
    ts_source__level_seal(lv, s->n);
    if (lv->pt_off == NULL || lv->part_off == NULL)
        return TS_FAIL(err, TS_ENOMEM, "store %s: level %d", s->name, L);
    return TS_OK;
}

ts_status
ts_source__generalise(ts_source_ctx *sc, ts_store *s, const double *tol, int ntol, ts_err *err)
{
    if (ntol <= 0)
        return TS_OK;
    ts_level *levels = realloc(s->levels, (size_t)(1 + ntol) * sizeof *levels);
    if (levels == NULL)
        return TS_FAIL(err, TS_ENOMEM, "store %s: levels", s->name);
    s->levels = levels;
    memset(levels + 1, 0, (size_t)ntol * sizeof *levels);
    ts_flat a = {0};
    gen_stats st = {0};
    ts_status rc = TS_OK;
    for (int L = 1; L <= ntol && rc == TS_OK; L++) {
        /* counted before it is filled, so a failure frees it with the store */
        s->nlevels = L + 1;
        rc = make_level(sc, s, L, tol[L - 1], &a, &st, err);
    }
    ts_source__flat_fini(&a);
    if (st.geos_ns > GEN_SLOW_NS && st.worst_ns > GEN_SLOW_NS / 8)
        ts_warn("store %s: making %d coarser levels took %.1f s in GEOS simplification, %.1f s "
                "of it once on feature %lld (%llu vertices, level %d); outlines with thousands "
                "of narrow spikes are slow to simplify topology-preserving",
                s->name, ntol, (double)st.geos_ns * 1e-9, (double)st.worst_ns * 1e-9,
                (long long)ts_store_origin_id(s, st.worst_fid),
                (unsigned long long)st.worst_pts, st.worst_level);
    ts_debug("store %s: %d levels: %llu GEOS simplifications (%llu kept as before), %llu tiny, "
             "%llu unchanged",
             s->name, ntol, (unsigned long long)st.geos, (unsigned long long)st.failed,
             (unsigned long long)st.tiny, (unsigned long long)st.same);
    return rc;
}
