/* feed/json.c — what every parser shares: the observation batch with its string chunks,
 * member lookup by path, ids as text, a representative point of a GeoJSON geometry, and
 * the naming rules for fields and states. */
#include "feed/feed_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ts_feed_chunk {
    ts_feed_chunk *next;
    size_t used, cap;
    char data[];
};

#define CHUNK_MIN 4096

void
ts_obs_batch_init(ts_obs_batch *b)
{
    memset(b, 0, sizeof *b);
}

void
ts_obs_batch_reset(ts_obs_batch *b)
{
    ts_feed_chunk *keep = NULL;
    for (ts_feed_chunk *c = b->chunks, *next; c != NULL; c = next) {
        next = c->next;
        if (keep == NULL && c->cap == CHUNK_MIN) {
            keep = c;
            keep->next = NULL;
            keep->used = 0;
        } else {
            free(c);
        }
    }
    b->chunks = keep;
    b->n = 0;
    b->nbinds = 0;
    b->next_link = NULL;
    memset(b->errors, 0, sizeof b->errors);
    b->first_error[0] = '\0';
}

void
ts_obs_batch_fini(ts_obs_batch *b)
{
    for (ts_feed_chunk *c = b->chunks, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(b->obs);
    free(b->binds);
    memset(b, 0, sizeof *b);
}

const char *
ts_obs_batch_strndup(ts_obs_batch *b, const char *s, size_t n)
{
    ts_feed_chunk *c = b->chunks;
    if (c == NULL || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > CHUNK_MIN ? n + 1 : CHUNK_MIN;
        ts_feed_chunk *nc = malloc(sizeof *nc + cap);
        if (nc == NULL)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c != NULL && cap > CHUNK_MIN) { /* keep the roomy chunk in front */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            b->chunks = nc;
        }
        c = nc;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

const char *
ts_obs_batch_strdup(ts_obs_batch *b, const char *s)
{
    return s == NULL ? NULL : ts_obs_batch_strndup(b, s, strlen(s));
}

ts_status
ts_obs_batch_add(ts_obs_batch *b, const ts_obs *o)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        ts_obs *no = realloc(b->obs, cap * sizeof *no);
        if (no == NULL)
            return TS_ENOMEM;
        b->obs = no;
        b->cap = cap;
    }
    b->obs[b->n++] = *o;
    return TS_OK;
}

ts_status
ts_obs_batch_keep(ts_obs_batch *b, const char *id)
{
    ts_obs o = {.sensor = ts_obs_batch_strdup(b, id), .kind = TS_OBS_SEEN,
                .time_ms = TS_FEED_TIME_NONE};
    if (o.sensor == NULL)
        return TS_ENOMEM;
    return ts_obs_batch_add(b, &o);
}

void
ts_obs_batch_refuse_future(ts_obs_batch *b, int64_t now_ms)
{
    for (size_t i = 0; i < b->n; i++) {
        ts_obs *o = &b->obs[i];
        if ((o->kind != TS_OBS_STATE && o->kind != TS_OBS_VALUE) ||
            o->time_ms == TS_FEED_TIME_NONE || o->time_ms <= now_ms + TS_FEED_FUTURE_MS)
            continue;
        ts_obs_batch_error(b, TS_FEED_ERR_RANGE,
                           "sensor %s: observation time %lld s in the future (more than %lld s)",
                           o->sensor ? o->sensor : "?", (long long)((o->time_ms - now_ms) / 1000),
                           (long long)(TS_FEED_FUTURE_MS / 1000));
        o->kind = TS_OBS_SEEN;
    }
}

ts_status
ts_obs_batch_bind(ts_obs_batch *b, const char *ds, const char *sensor, const char *name)
{
    if (b->nbinds == b->bcap) {
        size_t cap = b->bcap ? b->bcap * 2 : 64;
        ts_sta_binding *nb = realloc(b->binds, cap * sizeof *nb);
        if (nb == NULL)
            return TS_ENOMEM;
        b->binds = nb;
        b->bcap = cap;
    }
    b->binds[b->nbinds++] = (ts_sta_binding){.ds = ds, .sensor = sensor, .name = name};
    return TS_OK;
}

void
ts_obs_batch_error(ts_obs_batch *b, ts_feed_error e, const char *fmt, ...)
{
    if ((int)e < 0 || e >= TS_FEED_ERR__COUNT)
        return;
    b->errors[e]++;
    if (b->first_error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->first_error, sizeof b->first_error, fmt, ap);
        va_end(ap);
    }
}

json_t *
ts_feed_json_path(json_t *obj, const char *path)
{
    if (obj == NULL || path == NULL || path[0] == '\0')
        return NULL;
    json_t *cur = obj;
    const char *p = path;
    while (cur != NULL) {
        if (!json_is_object(cur))
            return NULL;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        cur = json_object_getn(cur, p, n);
        if (slash == NULL)
            return cur;
        p = slash + 1;
    }
    return NULL;
}

int
ts_feed_json_idtext(json_t *v, char *buf, size_t size)
{
    int n;
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if (len == 0 || len >= size || len >= TS_FEED_ID_MAX ||
            memchr(json_string_value(v), 0, len))
            return -1;
        memcpy(buf, json_string_value(v), len);
        buf[len] = '\0';
        return 0;
    }
    if (json_is_integer(v))
        n = snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v) && isfinite(json_real_value(v)))
        n = snprintf(buf, size, "%.17g", json_real_value(v));
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Sum the positions of a coordinates array of any nesting (x, y first two numbers). */
static int
sum_coords(json_t *c, int depth, double *sx, double *sy, size_t *n, int *bad)
{
    if (!json_is_array(c) || depth > 4)
        return -1;
    size_t len = json_array_size(c);
    if (len >= 2 && json_is_number(json_array_get(c, 0))) {
        if (!json_is_number(json_array_get(c, 1)))
            return -1;
        double x = json_number_value(json_array_get(c, 0));
        double y = json_number_value(json_array_get(c, 1));
        if (!isfinite(x) || !isfinite(y) || x < -180 || x > 180 || y < -90 || y > 90)
            *bad = 1;
        *sx += x;
        *sy += y;
        (*n)++;
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (sum_coords(json_array_get(c, i), depth + 1, sx, sy, n, bad) != 0)
            return -1;
    return 0;
}

/* A weighted sum of representative points: a centroid accumulated part by part. */
typedef struct centroid {
    double sx, sy, w;
} centroid;

/* The positions of a LineString's coordinates (or a ring's), as a new array of x, y pairs
 * (*n of them; free it); NULL when it is not a non-empty array of positions, or on
 * allocation failure. */
static double *
read_positions(json_t *c, long *n)
{
    if (!json_is_array(c) || json_array_size(c) == 0 || json_array_size(c) > 10000000)
        return NULL;
    size_t k = json_array_size(c);
    double *xy = malloc(2 * k * sizeof *xy);
    if (xy == NULL)
        return NULL;
    for (size_t i = 0; i < k; i++) {
        json_t *p = json_array_get(c, i);
        if (!json_is_array(p) || json_array_size(p) < 2 || !json_is_number(json_array_get(p, 0)) ||
            !json_is_number(json_array_get(p, 1))) {
            free(xy);
            return NULL;
        }
        xy[2 * i] = json_number_value(json_array_get(p, 0));
        xy[2 * i + 1] = json_number_value(json_array_get(p, 1));
    }
    *n = (long)k;
    return xy;
}

/* Add the line or ring (ring = 1) at c's coordinates array to the centroid. */
static void add_line(centroid *c, const double *xy, long n);
static void add_ring(centroid *c, const double *xy, long n);

static void
add_part(centroid *acc, json_t *c, int ring)
{
    long n = 0;
    double *xy = read_positions(c, &n);
    if (xy == NULL)
        return;
    if (ring)
        add_ring(acc, xy, n);
    else
        add_line(acc, xy, n);
    free(xy);
}

/* Add a line's length-weighted centroid (its segments' midpoints by length); a line of
 * one point, or of no length, counts as its first point with weight 0 unless nothing else
 * is there (w stays 0 and the caller falls back to the mean). */
static void
add_line(centroid *c, const double *xy, long n)
{
    for (long i = 0; i + 1 < n; i++) {
        double dx = xy[2 * i + 2] - xy[2 * i], dy = xy[2 * i + 3] - xy[2 * i + 1];
        double l = sqrt(dx * dx + dy * dy);
        c->sx += l * (xy[2 * i] + xy[2 * i + 2]) / 2;
        c->sy += l * (xy[2 * i + 1] + xy[2 * i + 3]) / 2;
        c->w += l;
    }
}

/* Add a ring's area centroid (shoelace; the ring closed or not) weighted by its area. */
static void
add_ring(centroid *c, const double *xy, long n)
{
    /* relative to the first vertex: small numbers, no cancellation */
    double x0 = xy[0], y0 = xy[1], a = 0, cx = 0, cy = 0;
    for (long i = 0; i < n; i++) {
        long j = (i + 1) % n;
        double xi = xy[2 * i] - x0, yi = xy[2 * i + 1] - y0;
        double xj = xy[2 * j] - x0, yj = xy[2 * j + 1] - y0;
        double cr = xi * yj - xj * yi;
        a += cr;
        cx += (xi + xj) * cr;
        cy += (yi + yj) * cr;
    }
    a /= 2;
    if (fabs(a) > 0) { /* weighted by |area| whichever way the ring turns */
        c->sx += fabs(a) * (x0 + cx / (6 * a));
        c->sy += fabs(a) * (y0 + cy / (6 * a));
        c->w += fabs(a);
    }
}

int
ts_feed_json_point(json_t *geom, double *lon, double *lat)
{
    if (!json_is_object(geom))
        return -1;
    json_t *type = json_object_get(geom, "type");
    if (json_is_string(type) && strcmp(json_string_value(type), "Feature") == 0)
        return ts_feed_json_point(json_object_get(geom, "geometry"), lon, lat);
    if (!json_is_string(type))
        return -1;
    const char *t = json_string_value(type);
    static const char *const kinds[] = {"Point",           "MultiPoint", "LineString",
                                        "MultiLineString", "Polygon",    "MultiPolygon"};
    int known = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        known |= strcmp(t, kinds[i]) == 0;
    if (!known)
        return -1;
    json_t *coords = json_object_get(geom, "coordinates");
    double sx = 0, sy = 0;
    size_t n = 0;
    int bad = 0;
    if (sum_coords(coords, 0, &sx, &sy, &n, &bad) != 0 || n == 0)
        return -1;
    if (strcmp(t, "Point") == 0 && n != 1)
        return -1;
    if (bad)
        return -2;
    /* the mean of the positions: a point, the points of a MultiPoint, and the fallback */
    *lon = sx / (double)n;
    *lat = sy / (double)n;
    /* lines and polygons: the centroid (a mean of vertices leans towards where they are
     * dense, and counts a ring's closing vertex twice) */
    int line = strcmp(t, "LineString") == 0, mline = strcmp(t, "MultiLineString") == 0;
    int poly = strcmp(t, "Polygon") == 0, mpoly = strcmp(t, "MultiPolygon") == 0;
    if (!(line || mline || poly || mpoly))
        return 0;
    centroid c = {0, 0, 0};
    if (line) {
        add_part(&c, coords, 0);
    } else if (mline) {
        for (size_t i = 0; i < json_array_size(coords); i++)
            add_part(&c, json_array_get(coords, i), 0);
    } else if (poly) {
        /* its exterior ring (holes move a bay's point too little to matter) */
        add_part(&c, json_array_get(coords, 0), 1);
    } else {
        for (size_t i = 0; i < json_array_size(coords); i++) {
            json_t *pg = json_array_get(coords, i);
            if (json_is_array(pg))
                add_part(&c, json_array_get(pg, 0), 1);
        }
    }
    if (c.w != 0 && isfinite(c.sx / c.w) && isfinite(c.sy / c.w)) {
        *lon = c.sx / c.w;
        *lat = c.sy / c.w;
    }
    return 0;
}

static const char *const fixed_fields[] = {"id",    "label", "state", "last_state",
                                           "stale", "time",  "feed",  "seen"};

int
ts_feed_field_name(const ts_feed_map_config *map, const char *in, char *out, size_t size)
{
    if (in == NULL || size < 8)
        return -1;
    const char *src = in;
    if (map != NULL && map->nvalues > 0) {
        src = NULL;
        for (int i = 0; i < map->nvalues; i++) {
            if (map->values[i].match != NULL && strcmp(map->values[i].match, in) == 0) {
                src = map->values[i].to;
                break;
            }
        }
        if (src == NULL)
            return -1;
    }
    size_t n = 0, lim = size - 3 < 63 ? size - 3 : 63;
    for (const char *p = src; *p != '\0' && n < lim; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            c = '_';
        out[n++] = c;
    }
    if (n == 0)
        return -1;
    out[n] = '\0';
    for (size_t i = 0; i < sizeof fixed_fields / sizeof fixed_fields[0]; i++) {
        if (strcmp(out, fixed_fields[i]) == 0) {
            out[n++] = '_';
            out[n++] = 'v';
            out[n] = '\0';
            break;
        }
    }
    return 0;
}

const char *
ts_feed_state_name(const ts_feed_map_config *map, const char *in)
{
    if (map != NULL)
        for (int i = 0; i < map->nstates; i++)
            if (map->states[i].match != NULL && strcmp(map->states[i].match, in) == 0)
                return map->states[i].to;
    return in;
}

json_t *
ts_feed_json_load(const void *doc, size_t len, char *err, size_t errsize)
{
    json_error_t je;
    json_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL && err != NULL)
        snprintf(err, errsize, "line %d column %d: %s", je.line, je.column, je.text);
    return root;
}
