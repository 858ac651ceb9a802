/* pipeline/composite.c — one XYZ tile of several tilesets, composited in order (base
 * first): `/tiles/{a},{b},{c}/{z}/{x}/{y}.png`.
 *
 * Each tileset's tile comes through the pipeline as if asked for alone (its caches, its
 * renders joined, its live invalidation), so a base map seeded into MBTiles and a live
 * overlay compose without either being rendered again. When the last part has arrived
 * (on whichever thread delivered it) the parts are decoded, composited source-over into a
 * canvas the size of the first part, and encoded as PNG in the first tileset's mode. The
 * composite itself is not cached: its parts are, and composing three 256 px tiles costs
 * about a millisecond; its ETag is its content's, so clients revalidate with 304 as for
 * any tile. A tileset whose zoom range does not include z contributes nothing (an overlay
 * shown from z14 over a base shown from z0); the request fails only when none does. */
#include "pipeline/pipeline.h"

#include "pipeline/pipeline_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "raster/raster.h"
#include "util/clock.h"

typedef struct comp comp;

/* One tileset's part of a composite. */
typedef struct comp_part {
    comp *c;
    ts_tile *tile; /* NULL: nothing (outside its zoom range, or failed) */
    ts_status st;
    ts_err err;
} comp_part;

struct comp {
    ts_tile_done done;
    void *ud;
    ts_png_mode mode;
    int n;
    atomic_int left; /* parts not yet arrived, plus one held by the starter */
    comp_part parts[TS_COMPOSITE_MAX];
};

static void
comp_free(comp *c)
{
    for (int i = 0; i < c->n; i++)
        ts_tile_unref(c->parts[i].tile);
    free(c);
}

/* Composite the parts' tiles into one PNG tile (*out); TS_OK or a failure with *err. */
static ts_status
compose(const comp *c, ts_tile **out, ts_err *err)
{
    ts_canvas *dst = NULL;
    int64_t mtime = 0;
    ts_status st = TS_OK;
    for (int i = 0; i < c->n && st == TS_OK; i++) {
        const ts_tile *t = c->parts[i].tile;
        if (t == NULL)
            continue;
        if (t->mtime > mtime)
            mtime = t->mtime;
        ts_canvas *img = ts_png_decode(t->data, t->len, err);
        if (img == NULL) {
            st = err && err->code != TS_OK ? err->code : TS_EINVAL;
            break;
        }
        if (dst == NULL) {
            dst = img; /* the base: composited onto nothing, it is itself */
            continue;
        }
        /* parts of one z/x/y at one scale are one size; a part that is not is drawn from
         * the top-left corner, clipped */
        ts_raster_blend_image(dst, 0, 0, img->px, img->w, img->h, img->stride, 1.0);
        ts_canvas_free(img);
    }
    if (st == TS_OK && dst == NULL)
        st = TS_FAIL(err, TS_EINVAL, "no tileset of the composite has this tile");
    if (st == TS_OK) {
        ts_buf png;
        ts_buf_init(&png, (size_t)64 << 20);
        ts_png_opts po = {c->mode, -1, 0};
        st = ts_png_encode(dst, 0, 0, dst->w, dst->h, &po, &png, err);
        if (st == TS_OK) {
            *out = ts_tile_new(png.data, png.len, mtime ? mtime : ts_wall_s());
            if (*out == NULL)
                st = TS_FAIL(err, TS_ENOMEM, "composite tile");
        }
        ts_buf_fini(&png);
    }
    ts_canvas_free(dst);
    return st;
}

/* One reference to c's parts is let go; the last composes and answers. */
static void
comp_release(comp *c)
{
    if (atomic_fetch_sub(&c->left, 1) != 1)
        return;
    ts_err err;
    ts_err_clear(&err);
    ts_tile *t = NULL;
    ts_status st = TS_OK;
    /* a part that failed (other than being out of its zoom range) fails the composite: a
     * map with its base missing is not the map asked for */
    for (int i = 0; i < c->n && st == TS_OK; i++)
        if (c->parts[i].st != TS_OK) {
            st = c->parts[i].st;
            err = c->parts[i].err;
        }
    if (st == TS_OK)
        st = compose(c, &t, &err);
    ts_tile_done done = c->done;
    void *ud = c->ud;
    comp_free(c);
    done(ud, st, t, st == TS_OK ? NULL : &err);
}

static void
part_done(void *ud, ts_status st, ts_tile *tile, const ts_err *err)
{
    comp_part *part = ud;
    part->st = st;
    part->tile = tile;
    if (st != TS_OK) {
        if (err)
            part->err = *err;
        else
            TS_FAIL(&part->err, st, "tile failed");
    }
    comp_release(part->c);
}

int
ts_pipeline_composite_split(const char *spec, char names[][TS_COMPOSITE_NAME_MAX], int max)
{
    int n = 0;
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len >= TS_COMPOSITE_NAME_MAX || n == max)
            return -1;
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        n++;
        if (e == NULL)
            return n;
        p = e + 1;
    }
}

ts_status
ts_pipeline_request_composite(ts_pipeline *p, const char *spec, int z, uint32_t x, uint32_t y,
                              int scale, ts_tile_done done, void *ud, int *max_age, ts_err *err)
{
    char names[TS_COMPOSITE_MAX][TS_COMPOSITE_NAME_MAX];
    int n = ts_pipeline_composite_split(spec, names, TS_COMPOSITE_MAX);
    if (n < 1)
        return TS_FAIL(err, TS_EINVAL, "a composite names 1 to %d tilesets, comma-separated",
                       TS_COMPOSITE_MAX);
    /* every name must be a tileset; zoom ranges are the tilesets' own */
    int in_range[TS_COMPOSITE_MAX], any = 0;
    ts_err last;
    ts_err_clear(&last);
    ts_service *svc = ts_pipeline_service(p);
    ts_png_mode mode = TS_PNG_TRUECOLOR;
    int age = -1;
    for (int i = 0; i < n; i++) {
        const ts_tileset *ts = ts_service_tileset(svc, names[i]);
        if (ts == NULL) {
            ts_service_unref(svc);
            return TS_FAIL(err, TS_ENOENT, "no tileset named '%s'", names[i]);
        }
        const ts_tileset *ts0 = ts_service_tileset(svc, names[0]);
        if (strcmp(ts->grid->name, ts0->grid->name) != 0) { /* z/x/y: a place on one grid */
            ts_status st = TS_FAIL(err, TS_EINVAL,
                                   "a composite draws its tilesets on their first grid, which "
                                   "must be one: %s is on %s, %s on %s",
                                   names[0], ts0->grid->name, names[i], ts->grid->name);
            ts_service_unref(svc);
            return st;
        }
        ts_tile_req r = {names[i], z, x, y, scale};
        ts_err e;
        ts_err_clear(&e);
        ts_status st = ts_pipeline_check(p, &r, &e);
        if (st == TS_ENOENT) {
            ts_service_unref(svc);
            if (err)
                *err = e;
            return st;
        }
        in_range[i] = st == TS_OK;
        if (!in_range[i]) {
            last = e;
            continue;
        }
        if (!any)
            mode = ts->mode;
        any = 1;
        int a = ts_service_tileset_live(svc, ts) ? 0 : ts->cfg->max_age_s;
        if (age < 0 || a < age)
            age = a;
    }
    ts_service_unref(svc);
    if (!any) {
        if (err)
            *err = last;
        return last.code != TS_OK ? last.code : TS_EINVAL;
    }
    if (max_age)
        *max_age = age;
    comp *c = calloc(1, sizeof *c);
    if (c == NULL)
        return TS_FAIL(err, TS_ENOMEM, "composite");
    c->done = done;
    c->ud = ud;
    c->mode = mode;
    c->n = n;
    atomic_init(&c->left, 1);
    for (int i = 0; i < n; i++) {
        comp_part *part = &c->parts[i];
        part->c = c;
        ts_err_clear(&part->err);
        if (!in_range[i])
            continue;
        ts_tile_req r = {names[i], z, x, y, scale};
        if ((part->tile = ts_pipeline_lookup(p, &r)) != NULL)
            continue;
        atomic_fetch_add(&c->left, 1);
        ts_status st = ts_pipeline_request(p, &r, part_done, part, &part->err);
        if (st != TS_OK) { /* done will not be called for this part */
            part->st = st;
            atomic_fetch_sub(&c->left, 1);
        }
    }
    comp_release(c); /* the starter's reference: answers now when every part was cached */
    return TS_OK;
}
