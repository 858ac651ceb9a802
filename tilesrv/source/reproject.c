/* source/reproject.c — CRS definitions to PROJ operations, cached per context, and batch
 * transformation of interleaved x/y arrays. Every operation is normalised for
 * visualisation, so x is always easting/longitude on both sides. */
#include "source/source.h"
#include "source/source_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Shorten a (possibly multi-line WKT) definition for messages. */
static const char *
crs_label(const char *def, char *buf, size_t size)
{
    size_t i = 0, j = 0;
    for (; def[i] != '\0' && j + 4 < size; i++) {
        char c = def[i];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (c == ' ' && j > 0 && buf[j - 1] == ' ')
            continue;
        buf[j++] = c;
    }
    if (def[i] != '\0') {
        buf[j++] = '.';
        buf[j++] = '.';
        buf[j++] = '.';
    }
    buf[j] = '\0';
    return buf;
}

/* A CRS object from a definition; PROJ strings get +type=crs when they lack it. */
static PJ *
crs_create(ts_source_ctx *sc, const char *def)
{
    PJ *crs = NULL;
    sc->proj_msg[0] = '\0';
    if (strcasecmp(def, "CRS:84") == 0)
        def = "OGC:CRS84"; /* the WMS name of longitude/latitude WGS 84 */
    if (strstr(def, "+proj=") != NULL && strstr(def, "+type=crs") == NULL) {
        size_t len = strlen(def);
        char *s = malloc(len + sizeof " +type=crs");
        if (s == NULL)
            return NULL;
        memcpy(s, def, len);
        memcpy(s + len, " +type=crs", sizeof " +type=crs");
        crs = proj_create(sc->pj, s);
        free(s);
    } else {
        crs = proj_create(sc->pj, def);
    }
    if (crs != NULL && !proj_is_crs(crs)) {
        snprintf(sc->proj_msg, sizeof sc->proj_msg, "not a coordinate reference system");
        proj_destroy(crs);
        crs = NULL;
    }
    return crs;
}

/* The CRS under a bound CRS, or a compound CRS's horizontal part (new objects: destroy
 * them); NULL for any other CRS (crs itself is the one to read). */
static PJ *
horizontal_base(ts_source_ctx *sc, PJ *crs)
{
    PJ_TYPE t = proj_get_type(crs);
    if (t == PJ_TYPE_BOUND_CRS)
        return proj_get_source_crs(sc->pj, crs);
    if (t == PJ_TYPE_COMPOUND_CRS)
        return proj_crs_get_sub_crs(sc->pj, crs, 0);
    return NULL;
}

int
ts_source__crs_north_first(ts_source_ctx *sc, const char *def)
{
    PJ *crs = crs_create(sc, def);
    if (crs == NULL)
        return 0;
    PJ *base = horizontal_base(sc, crs);
    PJ *cs = proj_crs_get_coordinate_system(sc->pj, base != NULL ? base : crs);
    int north = 0;
    const char *dir = NULL;
    if (cs != NULL &&
        proj_cs_get_axis_info(sc->pj, cs, 0, NULL, NULL, &dir, NULL, NULL, NULL, NULL) &&
        dir != NULL)
        north = strcmp(dir, "north") == 0 || strcmp(dir, "south") == 0;
    if (cs != NULL)
        proj_destroy(cs);
    if (base != NULL)
        proj_destroy(base);
    proj_destroy(crs);
    return north;
}

int
ts_source__crs_geographic(ts_source_ctx *sc, const char *def)
{
    PJ *crs = crs_create(sc, def);
    if (crs == NULL)
        return 0;
    PJ *base = horizontal_base(sc, crs);
    PJ_TYPE t = proj_get_type(base != NULL ? base : crs);
    int geographic = t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS;
    if (base != NULL)
        proj_destroy(base);
    proj_destroy(crs);
    return geographic;
}

static ts_status
op_create(ts_source_ctx *sc, const char *src, const char *dst, PJ **out, ts_err *err)
{
    char label[96];
    *out = NULL;
    PJ *s = crs_create(sc, src);
    if (s == NULL)
        return TS_FAIL(err, TS_EINVAL, "unknown CRS '%s'%s%s", crs_label(src, label, sizeof label),
                       sc->proj_msg[0] ? ": " : "", sc->proj_msg);
    PJ *d = crs_create(sc, dst);
    if (d == NULL) {
        proj_destroy(s);
        return TS_FAIL(err, TS_EINVAL, "unknown CRS '%s'%s%s", crs_label(dst, label, sizeof label),
                       sc->proj_msg[0] ? ": " : "", sc->proj_msg);
    }
    ts_status rc = TS_OK;
    if (!proj_is_equivalent_to_with_ctx(sc->pj, s, d, PJ_COMP_EQUIVALENT)) {
        PJ *op = proj_create_crs_to_crs_from_pj(sc->pj, s, d, NULL, NULL);
        PJ *norm = op != NULL ? proj_normalize_for_visualization(sc->pj, op) : NULL;
        if (op != NULL)
            proj_destroy(op);
        if (norm == NULL) {
            char l2[96];
            rc = TS_FAIL(err, TS_EINVAL, "no transformation from '%s' to '%s'%s%s",
                         crs_label(src, label, sizeof label), crs_label(dst, l2, sizeof l2),
                         sc->proj_msg[0] ? ": " : "", sc->proj_msg);
        }
        *out = norm;
    }
    proj_destroy(s);
    proj_destroy(d);
    return rc;
}

ts_status
ts_source__op(ts_source_ctx *sc, const char *src, int src_swap, const char *dst,
              const ts_pj_entry **out, ts_err *err)
{
    sc->tick++;
    for (int i = 0; i < sc->npjs; i++) {
        ts_pj_entry *e = &sc->pjs[i];
        if (e->src_swap == src_swap && strcmp(e->src, src) == 0 && strcmp(e->dst, dst) == 0) {
            e->used = sc->tick;
            *out = e;
            return TS_OK;
        }
    }
    PJ *op;
    TS_TRY(op_create(sc, src, dst, &op, err));
    char *s = strdup(src), *d = strdup(dst);
    if (s == NULL || d == NULL) {
        free(s);
        free(d);
        if (op != NULL)
            proj_destroy(op);
        return TS_FAIL(err, TS_ENOMEM, "CRS cache");
    }
    ts_pj_entry *e;
    if (sc->npjs < TS_PJ_CACHE_MAX) {
        e = &sc->pjs[sc->npjs++];
    } else {
        e = &sc->pjs[0];
        for (int i = 1; i < sc->npjs; i++)
            if (sc->pjs[i].used < e->used)
                e = &sc->pjs[i];
        free(e->src);
        free(e->dst);
        if (e->op != NULL)
            proj_destroy(e->op);
    }
    e->src = s;
    e->dst = d;
    e->src_swap = src_swap;
    e->op = op;
    e->used = sc->tick;
    *out = e;
    return TS_OK;
}

void
ts_source__op_apply(const ts_pj_entry *e, double *xy, size_t n)
{
    if (e->src_swap) {
        for (size_t i = 0; i < n; i++) {
            double t = xy[2 * i];
            xy[2 * i] = xy[2 * i + 1];
            xy[2 * i + 1] = t;
        }
    }
    if (e->op == NULL || n == 0)
        return;
    proj_trans_generic(e->op, PJ_FWD, xy, 2 * sizeof(double), n, xy + 1, 2 * sizeof(double), n,
                       NULL, 0, 0, NULL, 0, 0);
    proj_errno_reset(e->op);
}

ts_status
ts_source_transform(ts_source_ctx *sc, const char *src_crs, const char *dst_crs, double *xy,
                    size_t n, ts_err *err)
{
    if (sc == NULL || src_crs == NULL || dst_crs == NULL || (xy == NULL && n > 0))
        return TS_FAIL(err, TS_EINVAL, "ts_source_transform: missing argument");
    const ts_pj_entry *e;
    TS_TRY(ts_source__op(sc, src_crs, 0, dst_crs, &e, err));
    ts_source__op_apply(e, xy, n);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) {
            if (bad++ == 0)
                first = i;
        }
    }
    if (bad > 0) {
        char l1[96], l2[96];
        return TS_FAIL(err, TS_EINVAL,
                       "%zu of %zu points (first: #%zu) cannot be transformed "
                       "from '%s' to '%s'",
                       bad, n, first, crs_label(src_crs, l1, sizeof l1),
                       crs_label(dst_crs, l2, sizeof l2));
    }
    return TS_OK;
}

/* ---- stand-alone transformations (render workers, WMS) ---- */

struct ts_source_xform {
    ts_source_ctx *sc; /* its own PROJ context: the transformation belongs to one thread */
    PJ *op;            /* normalised for visualisation; NULL = identity */
};

ts_source_xform *
ts_source_xform_new(const char *src_crs, const char *dst_crs, ts_err *err)
{
    if (src_crs == NULL || dst_crs == NULL) {
        TS_FAIL(err, TS_EINVAL, "ts_source_xform_new: missing CRS");
        return NULL;
    }
    ts_source_xform *x = calloc(1, sizeof *x);
    if (x == NULL) {
        TS_FAIL(err, TS_ENOMEM, "transformation");
        return NULL;
    }
    x->sc = ts_source_ctx_new(err);
    if (x->sc == NULL || op_create(x->sc, src_crs, dst_crs, &x->op, err) != TS_OK) {
        ts_source_xform_free(x);
        return NULL;
    }
    return x;
}

void
ts_source_xform_free(ts_source_xform *x)
{
    if (x == NULL)
        return;
    if (x->op != NULL)
        proj_destroy(x->op);
    ts_source_ctx_free(x->sc);
    free(x);
}

int
ts_source_xform_identity(const ts_source_xform *x)
{
    return x->op == NULL;
}

size_t
ts_source_xform_points(ts_source_xform *x, int inverse, double *xy, size_t n)
{
    if (x->op == NULL || n == 0)
        return 0;
    proj_trans_generic(x->op, inverse ? PJ_INV : PJ_FWD, xy, 2 * sizeof(double), n, xy + 1,
                       2 * sizeof(double), n, NULL, 0, 0, NULL, 0, 0);
    proj_errno_reset(x->op);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1]) ||
            fabs(xy[2 * i]) > TS_SOURCE_COORD_LIMIT ||
            fabs(xy[2 * i + 1]) > TS_SOURCE_COORD_LIMIT) {
            xy[2 * i] = xy[2 * i + 1] = HUGE_VAL;
            bad++;
        }
    return bad;
}

#define BOX_STEPS 32 /* points per edge of a transformed box */

int
ts_source_xform_box(ts_source_xform *x, int inverse, const ts_bbox *in, ts_bbox *out)
{
    if (x->op == NULL) {
        *out = *in;
        return 1;
    }
    /* the edges, densified, plus a grid inside (a projection may bulge between edges) */
    double xy[2 * (4 * BOX_STEPS + 49)];
    size_t n = 0;
    double w = in->maxx - in->minx, h = in->maxy - in->miny;
    for (int i = 0; i < BOX_STEPS; i++) {
        double t = (double)i / BOX_STEPS;
        double pts[8] = {in->minx + t * w, in->miny, in->maxx, in->miny + t * h,
                         in->maxx - t * w, in->maxy, in->minx, in->maxy - t * h};
        memcpy(xy + 2 * n, pts, sizeof pts);
        n += 4;
    }
    for (int i = 1; i <= 7; i++)
        for (int j = 1; j <= 7; j++) {
            xy[2 * n] = in->minx + w * i / 8;
            xy[2 * n + 1] = in->miny + h * j / 8;
            n++;
        }
    ts_source_xform_points(x, inverse, xy, n);
    int any = 0;
    ts_bbox b = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double px = xy[2 * i], py = xy[2 * i + 1];
        if (px == HUGE_VAL)
            continue;
        if (!any) {
            b = (ts_bbox){px, py, px, py};
            any = 1;
            continue;
        }
        b.minx = px < b.minx ? px : b.minx;
        b.maxx = px > b.maxx ? px : b.maxx;
        b.miny = py < b.miny ? py : b.miny;
        b.maxy = py > b.maxy ? py : b.maxy;
    }
    *out = b;
    return any;
}
