/* tests/cases/run_cases.c — golden-image end-to-end cases (STYLE.md §2.10).
 *
 * Each folder tests/cases/<name>/ holds a case.ini (tileset, tile, scale, config,
 * tolerances) and an expected.png. Every case is rendered through the serving path
 * (ts_service_load + ts_pipeline_get: metatiles, band rendering, PNG encoding, shared
 * uniform tiles — the bytes HTTP sends), then both PNGs are decoded with ts_png_decode and
 * compared as pixels (premultiplied RGBA, all four channels), never as bytes. A case fails
 * when more than max_share of its pixels differ by more than tolerance in any channel.
 * After the cases come two determinism checks (a fresh service renders the same pixels;
 * one and two render threads/bands render the same pixels).
 *
 *   run_cases [-s SOURCE_DIR] [--overwrite] [--keep DIR] [--skip SUBSTR] [FILTER]
 *
 * The source dir comes from -s, else from a positional argument naming a directory that
 * holds tests/cases, else from $TS_SOURCE_DIR, else from the build's TS_SOURCE_DIR define.
 * FILTER keeps the cases (and checks) whose name contains it, --skip drops those whose
 * name contains SUBSTR (ctest runs the band check as its own test). --overwrite writes the
 * served bytes as the new expected.png instead of comparing (see tests/cases/README.md).
 * --keep DIR writes actual.png of every case (and seam.png, the two tiles of a seam side
 * by side) into DIR for viewing. On failure actual.png, expected.png and diff.png
 * (|actual - expected| x 4, opaque) go to a fresh temp dir whose paths are printed.
 * Exit status 0 when everything passed, 1 otherwise. */
#include "encode/encode.h"
#include "pipeline/pipeline.h"
#include "render/render.h"
#include "util/log.h"
#include "util/pool.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TS_SOURCE_DIR
#define TS_SOURCE_DIR "."
#endif

#define DEFAULT_CONFIG "data/demo/tilesrv.yaml"
#define MAX_SERVICES 8

/* ---- options and state ------------------------------------------------------------------ */

static const char *g_src;    /* source tree */
static const char *g_filter; /* substring of case names, or NULL */
static const char *g_keep;   /* --keep DIR, or NULL */
static const char *g_skip;   /* --skip SUBSTR, or NULL */
static int g_overwrite;
static char g_tmp[PATH_MAX]; /* failure output dir, made on first failure */

typedef struct loaded {
    char path[PATH_MAX];
    ts_pipeline *pipe; /* holds the service */
} loaded;

static loaded g_loaded[MAX_SERVICES];
static int g_nloaded;

/* ---- small helpers ---------------------------------------------------------------------- */

/* snprintf for paths: -1 (with a message) when the result does not fit. */
static int path_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
path_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "  path too long: %s...\n", buf);
        return -1;
    }
    return 0;
}

static void
say_err(const char *what, const ts_err *err)
{
    char buf[1024];
    fprintf(stderr, "  %s: %s\n", what, ts_err_format(err, buf, sizeof buf));
}

static int
matches(const char *name)
{
    return (g_filter == NULL || strstr(name, g_filter) != NULL) &&
           (g_skip == NULL || strstr(name, g_skip) == NULL);
}

static int
is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whole file into a malloc'd buffer; NULL (with a message) on failure. */
static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "  cannot open %s (errno %d)\n", path, errno);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        uint8_t *d2 = realloc(data, cap);
        if (d2 == NULL) {
            free(data);
            data = NULL;
        } else {
            data = d2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (data == NULL || bad) {
        fprintf(stderr, "  cannot read %s\n", path);
        free(data);
        return NULL;
    }
    *len = n;
    return data;
}

static int
write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "  cannot create %s (errno %d)\n", path, errno);
        return -1;
    }
    size_t n = fwrite(data, 1, len, f);
    int bad = fclose(f) != 0 || n != len;
    if (bad)
        fprintf(stderr, "  cannot write %s\n", path);
    return bad ? -1 : 0;
}

static int
write_canvas(const char *path, const ts_canvas *c)
{
    ts_buf b;
    ts_buf_init(&b, (size_t)1 << 30);
    ts_err err;
    ts_png_opts po = {TS_PNG_TRUECOLOR, 6, 0};
    int rc = -1;
    if (ts_png_encode(c, 0, 0, c->w, c->h, &po, &b, &err) == TS_OK)
        rc = write_file(path, b.data, b.len);
    else
        say_err(path, &err);
    ts_buf_fini(&b);
    return rc;
}

/* The directory failure output goes to (created on first use); NULL if it cannot be. */
static const char *
tmp_dir(void)
{
    if (g_tmp[0] == '\0') {
        const char *t = getenv("TMPDIR");
        if (path_fmt(g_tmp, sizeof g_tmp, "%s/run_cases.XXXXXX", t && *t ? t : "/tmp") != 0 ||
            mkdtemp(g_tmp) == NULL) {
            fprintf(stderr, "  cannot create %s (errno %d)\n", g_tmp, errno);
            g_tmp[0] = '\0';
            return NULL;
        }
    }
    return g_tmp;
}

static const uint8_t *
pix(const ts_canvas *c, int i, int j)
{
    return (const uint8_t *)(c->px + (size_t)j * (size_t)c->stride + (size_t)i);
}

/* ---- services --------------------------------------------------------------------------- */

static ts_service *
load_service(const char *path)
{
    ts_err err;
    ts_err_clear(&err);
    ts_config *cfg = ts_config_load(path, &err);
    if (cfg == NULL) {
        say_err("config", &err);
        return NULL;
    }
    ts_service *svc = ts_service_load(cfg, &err);
    ts_config_unref(cfg);
    if (svc == NULL)
        say_err("service", &err);
    return svc;
}

static ts_pipeline *
new_pipeline(ts_service *svc, int threads)
{
    ts_err err;
    ts_pipeline_opts po = {threads, 256, (size_t)256 << 20, 0, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    if (p == NULL)
        say_err("pipeline", &err);
    return p;
}

/* The shared pipeline (two render threads, as a small server) for a config path. */
static ts_pipeline *
pipeline_for(const char *path)
{
    for (int i = 0; i < g_nloaded; i++)
        if (strcmp(g_loaded[i].path, path) == 0)
            return g_loaded[i].pipe;
    if (g_nloaded == MAX_SERVICES) {
        fprintf(stderr, "  more than %d configs\n", MAX_SERVICES);
        return NULL;
    }
    ts_service *svc = load_service(path);
    if (svc == NULL)
        return NULL;
    ts_pipeline *p = new_pipeline(svc, 2);
    ts_service_unref(svc);
    if (p == NULL)
        return NULL;
    loaded *l = &g_loaded[g_nloaded++];
    path_fmt(l->path, sizeof l->path, "%s", path); /* as long as the caller's buffer */
    l->pipe = p;
    return p;
}

static void
free_services(void)
{
    for (int i = 0; i < g_nloaded; i++)
        ts_pipeline_free(g_loaded[i].pipe);
    g_nloaded = 0;
}

/* Get a tile through the pipeline and decode it. *tile_out (optional) keeps the tile. */
static ts_canvas *
get_tile(ts_pipeline *p, const char *tileset, int z, uint32_t x, uint32_t y, int scale,
         ts_tile **tile_out)
{
    ts_tile_req r = {tileset, z, x, y, scale};
    ts_tile *t = NULL;
    ts_err err;
    ts_err_clear(&err);
    if (ts_pipeline_get(p, &r, &t, &err) != TS_OK) {
        say_err("render", &err);
        return NULL;
    }
    ts_canvas *c = ts_png_decode(t->data, t->len, &err);
    if (c == NULL)
        say_err("decode of the served tile", &err);
    if (tile_out && c)
        *tile_out = t;
    else
        ts_tile_unref(t);
    return c;
}

/* ---- pixel comparison ------------------------------------------------------------------- */

typedef struct cmp_result {
    int max_diff;      /* largest channel difference */
    double mean_diff;  /* mean absolute difference over all channels */
    double share_over; /* share of pixels with any channel over the tolerance */
    long over;         /* that many pixels */
} cmp_result;

static cmp_result
compare(const ts_canvas *a, const ts_canvas *e, int tol)
{
    cmp_result r = {0, 0.0, 0.0, 0};
    double sum = 0.0;
    for (int j = 0; j < a->h; j++) {
        for (int i = 0; i < a->w; i++) {
            const uint8_t *pa = pix(a, i, j), *pe = pix(e, i, j);
            int worst = 0;
            for (int k = 0; k < 4; k++) {
                int d = abs((int)pa[k] - (int)pe[k]);
                sum += d;
                if (d > worst)
                    worst = d;
            }
            if (worst > r.max_diff)
                r.max_diff = worst;
            if (worst > tol)
                r.over++;
        }
    }
    double n = (double)a->w * (double)a->h;
    r.mean_diff = sum / (n * 4.0);
    r.share_over = (double)r.over / n;
    return r;
}

/* |a - e| x 4 per channel, the alpha difference added to the colour, opaque. */
static ts_canvas *
diff_image(const ts_canvas *a, const ts_canvas *e)
{
    ts_canvas *d = ts_canvas_new(a->w, a->h, NULL);
    if (d == NULL)
        return NULL;
    for (int j = 0; j < a->h; j++) {
        for (int i = 0; i < a->w; i++) {
            const uint8_t *pa = pix(a, i, j), *pe = pix(e, i, j);
            int da = abs((int)pa[3] - (int)pe[3]) * 4;
            uint8_t *pd = (uint8_t *)(d->px + (size_t)j * (size_t)d->stride + (size_t)i);
            for (int k = 0; k < 3; k++) {
                int v = abs((int)pa[k] - (int)pe[k]) * 4 + da;
                pd[k] = (uint8_t)(v > 255 ? 255 : v);
            }
            pd[3] = 255;
        }
    }
    return d;
}

/* Two tiles side by side (vertical seam) or stacked (horizontal seam). */
static ts_canvas *
stitch(const ts_canvas *a, const ts_canvas *b, int vertical)
{
    ts_canvas *s =
        ts_canvas_new(vertical ? a->w + b->w : a->w, vertical ? a->h : a->h + b->h, NULL);
    if (s == NULL)
        return NULL;
    for (int j = 0; j < a->h; j++)
        memcpy(s->px + (size_t)j * (size_t)s->stride, a->px + (size_t)j * (size_t)a->stride,
               (size_t)a->w * 4);
    int ox = vertical ? a->w : 0, oy = vertical ? 0 : a->h;
    for (int j = 0; j < b->h; j++)
        memcpy(s->px + (size_t)(j + oy) * (size_t)s->stride + (size_t)ox,
               b->px + (size_t)j * (size_t)b->stride, (size_t)b->w * 4);
    return s;
}

/* Mean absolute channel difference between line la of a and line lb of b: columns when
 * vertical (the seam between a left and a right tile), rows otherwise. */
static double
line_diff(const ts_canvas *a, int la, const ts_canvas *b, int lb, int vertical)
{
    int n = vertical ? a->h : a->w;
    double sum = 0.0;
    for (int t = 0; t < n; t++) {
        const uint8_t *pa = vertical ? pix(a, la, t) : pix(a, t, la);
        const uint8_t *pb = vertical ? pix(b, lb, t) : pix(b, t, lb);
        for (int k = 0; k < 4; k++)
            sum += abs((int)pa[k] - (int)pb[k]);
    }
    return sum / (4.0 * n);
}

/* ---- case.ini --------------------------------------------------------------------------- */

typedef struct rc_case {
    char name[128];
    char dir[PATH_MAX];
    char tileset[64];
    int z;
    uint32_t x, y;
    int scale;
    char config[PATH_MAX];
    int tolerance;          /* -1 = missing */
    double max_share;       /* -1 = missing */
    int expect_uniform;     /* -1 = not checked, 0/1 */
    double min_opaque;      /* share of pixels with alpha 255; -1 = not checked */
    double min_transparent; /* share of pixels with alpha 0; -1 = not checked */
    int has_seam;
    int sz; /* seam_with: the neighbour tile */
    uint32_t sx, sy;
    double seam_max_ratio;     /* seam diff <= ratio x unrelated-lines diff */
    double seam_min_structure; /* unrelated-lines diff must reach this (not blank) */
} rc_case;

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int
parse_tile(const char *v, int *z, uint32_t *x, uint32_t *y)
{
    char *end;
    long lz = strtol(v, &end, 10);
    if (*end != '/' || lz < 0 || lz > 30)
        return -1;
    unsigned long lx = strtoul(end + 1, &end, 10);
    if (*end != '/' || lx > UINT32_MAX)
        return -1;
    unsigned long ly = strtoul(end + 1, &end, 10);
    if (*end != '\0' || ly > UINT32_MAX)
        return -1;
    *z = (int)lz;
    *x = (uint32_t)lx;
    *y = (uint32_t)ly;
    return 0;
}

static int
parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno != 0 || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static int
parse_int(const char *v, int *out)
{
    char *end;
    errno = 0;
    long l = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno != 0 || l < INT_MIN || l > INT_MAX)
        return -1;
    *out = (int)l;
    return 0;
}

static int
parse_bool(const char *v, int *out)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* Read <dir>/case.ini into *c. -1 with a message (file:line) on any fault. */
static int
load_case(const char *dir, const char *name, rc_case *c)
{
    memset(c, 0, sizeof *c);
    if (path_fmt(c->name, sizeof c->name, "%s", name) != 0 ||
        path_fmt(c->dir, sizeof c->dir, "%s", dir) != 0)
        return -1;
    c->z = -1;
    c->scale = 1;
    path_fmt(c->config, sizeof c->config, "%s", DEFAULT_CONFIG);
    c->tolerance = -1;
    c->max_share = -1;
    c->expect_uniform = -1;
    c->min_opaque = -1;
    c->min_transparent = -1;
    c->seam_max_ratio = 0.25;
    c->seam_min_structure = 4.0;
    char path[PATH_MAX];
    FILE *f = NULL;
    if (path_fmt(path, sizeof path, "%s/case.ini", dir) != 0 || (f = fopen(path, "r")) == NULL) {
        fprintf(stderr, "%s: cannot open (errno %d)\n", path, errno);
        return -1;
    }
    char line[1024];
    int ln = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        ln++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "%s:%d: expected key = value\n", path, ln);
            bad = 1;
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int st = 0;
        if (strcmp(k, "tileset") == 0)
            st = path_fmt(c->tileset, sizeof c->tileset, "%s", v);
        else if (strcmp(k, "tile") == 0)
            st = parse_tile(v, &c->z, &c->x, &c->y);
        else if (strcmp(k, "scale") == 0)
            st = parse_int(v, &c->scale) || (c->scale != 1 && c->scale != 2) ? -1 : 0;
        else if (strcmp(k, "config") == 0)
            st = path_fmt(c->config, sizeof c->config, "%s", v);
        else if (strcmp(k, "tolerance") == 0)
            st = parse_int(v, &c->tolerance) || c->tolerance < 0 || c->tolerance > 255 ? -1 : 0;
        else if (strcmp(k, "max_share") == 0)
            st = parse_double(v, &c->max_share) || c->max_share < 0 || c->max_share > 1 ? -1 : 0;
        else if (strcmp(k, "expect_uniform") == 0)
            st = parse_bool(v, &c->expect_uniform);
        else if (strcmp(k, "min_opaque") == 0)
            st = parse_double(v, &c->min_opaque) || c->min_opaque < 0 || c->min_opaque > 1 ? -1 : 0;
        else if (strcmp(k, "min_transparent") == 0)
            st = parse_double(v, &c->min_transparent) || c->min_transparent < 0 ||
                         c->min_transparent > 1
                     ? -1
                     : 0;
        else if (strcmp(k, "seam_with") == 0) {
            st = parse_tile(v, &c->sz, &c->sx, &c->sy);
            c->has_seam = 1;
        } else if (strcmp(k, "seam_max_ratio") == 0)
            st = parse_double(v, &c->seam_max_ratio) || c->seam_max_ratio <= 0 ? -1 : 0;
        else if (strcmp(k, "seam_min_structure") == 0)
            st = parse_double(v, &c->seam_min_structure);
        else {
            fprintf(stderr, "%s:%d: unknown key '%s'\n", path, ln, k);
            bad = 1;
            break;
        }
        if (st != 0) {
            fprintf(stderr, "%s:%d: bad value '%s' for %s\n", path, ln, v, k);
            bad = 1;
        }
    }
    fclose(f);
    if (bad)
        return -1;
    if (c->tileset[0] == '\0' || c->z < 0 || c->tolerance < 0 || c->max_share < 0) {
        fprintf(stderr, "%s: tileset, tile, tolerance and max_share are required\n", path);
        return -1;
    }
    if (c->has_seam && !(c->sz == c->z && ((c->sx == c->x + 1 && c->sy == c->y) ||
                                           (c->sx == c->x && c->sy == c->y + 1)))) {
        fprintf(stderr, "%s: seam_with must be the east (x+1) or south (y+1) neighbour\n", path);
        return -1;
    }
    return 0;
}

/* ---- one case --------------------------------------------------------------------------- */

static void
alpha_shares(const ts_canvas *c, double *opaque, double *transparent)
{
    long o = 0, t = 0;
    for (int j = 0; j < c->h; j++)
        for (int i = 0; i < c->w; i++) {
            uint8_t a = pix(c, i, j)[3];
            o += a == 255;
            t += a == 0;
        }
    double n = (double)c->w * c->h;
    *opaque = (double)o / n;
    *transparent = (double)t / n;
}

/* The seam between the case's tile and its east or south neighbour: the two lines that
 * touch must agree much better than the edge line agrees with unrelated lines of the
 * neighbour (a street crossing the seam continues; a lost buffer or a shifted metatile
 * shows as a jump). Returns 0 when it holds. */
static int
check_seam(const rc_case *c, ts_pipeline *p, const ts_canvas *a, ts_canvas **b_out)
{
    ts_canvas *b = get_tile(p, c->tileset, c->sz, c->sx, c->sy, c->scale, NULL);
    *b_out = b;
    if (b == NULL)
        return -1;
    int vertical = c->sx == c->x + 1;
    int n = vertical ? a->w : a->h;
    double seam = line_diff(a, n - 1, b, 0, vertical);
    /* How alike two adjacent lines are inside one tile, either side of the seam. */
    double inside =
        0.5 * (line_diff(a, n - 2, a, n - 1, vertical) + line_diff(b, 0, b, 1, vertical));
    /* The edge line against lines of the neighbour away from the seam. */
    double unrelated = 0.0;
    int cnt = 0;
    for (int l = n / 16; l < n; l++, cnt++)
        unrelated += line_diff(a, n - 1, b, l, vertical);
    unrelated /= cnt;
    int ok = seam <= c->seam_max_ratio * unrelated && unrelated >= c->seam_min_structure;
    printf("  seam with %d/%u/%u (%s): mean diff %.3f across it, %.3f between adjacent lines "
           "inside, %.3f against unrelated lines (limit %.2f x = %.3f, structure >= %.1f) %s\n",
           c->sz, c->sx, c->sy, vertical ? "east" : "south", seam, inside, unrelated,
           c->seam_max_ratio, c->seam_max_ratio * unrelated, c->seam_min_structure,
           ok ? "ok" : "FAILED");
    return ok ? 0 : -1;
}

static void
keep_outputs(const char *dir, const rc_case *c, const ts_tile *t, const ts_canvas *e,
             const ts_canvas *a, const ts_canvas *seam_b)
{
    char path[PATH_MAX];
    if (path_fmt(path, sizeof path, "%s/%s", dir, c->name) != 0)
        return;
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "  cannot create %s (errno %d)\n", path, errno);
        return;
    }
    if (path_fmt(path, sizeof path, "%s/%s/actual.png", dir, c->name) == 0 &&
        write_file(path, t->data, t->len) == 0)
        printf("  actual:   %s\n", path);
    if (e) {
        if (path_fmt(path, sizeof path, "%s/%s/expected.png", dir, c->name) == 0 &&
            write_canvas(path, e) == 0)
            printf("  expected: %s\n", path);
        ts_canvas *d = diff_image(a, e);
        if (d && path_fmt(path, sizeof path, "%s/%s/diff.png", dir, c->name) == 0 &&
            write_canvas(path, d) == 0)
            printf("  diff:     %s  (|actual - expected| x 4)\n", path);
        ts_canvas_free(d);
    }
    if (seam_b) {
        ts_canvas *s = stitch(a, seam_b, c->sx == c->x + 1);
        if (s && path_fmt(path, sizeof path, "%s/%s/seam.png", dir, c->name) == 0 &&
            write_canvas(path, s) == 0)
            printf("  seam:     %s  (this tile and its neighbour)\n", path);
        ts_canvas_free(s);
    }
}

/* Run one case: 0 pass, 1 fail. */
static int
run_case(const rc_case *c)
{
    char cfgpath[PATH_MAX];
    if (path_fmt(cfgpath, sizeof cfgpath, "%s%s%s", c->config[0] == '/' ? "" : g_src,
                 c->config[0] == '/' ? "" : "/", c->config) != 0)
        return 1;
    char expath[PATH_MAX];
    if (path_fmt(expath, sizeof expath, "%s/expected.png", c->dir) != 0)
        return 1;
    printf("case %s: %s %d/%u/%u@%dx\n", c->name, c->tileset, c->z, c->x, c->y, c->scale);
    ts_pipeline *p = pipeline_for(cfgpath);
    if (p == NULL)
        return 1;
    ts_tile *t = NULL;
    ts_canvas *a = get_tile(p, c->tileset, c->z, c->x, c->y, c->scale, &t);
    if (a == NULL)
        return 1;
    int fail = 0;
    int side = 256 * c->scale;
    if (a->w != side || a->h != side) {
        printf("  served tile is %dx%d, not %dx%d\n", a->w, a->h, side, side);
        fail = 1;
    }
    if (c->expect_uniform >= 0) {
        int uni = ts_region_uniform(a, 0, 0, a->w, a->h, NULL);
        if (uni != c->expect_uniform || t->shared != c->expect_uniform) {
            printf("  expected %s tile, got pixels %s and %s bytes\n",
                   c->expect_uniform ? "a uniform" : "a non-uniform", uni ? "uniform" : "varied",
                   t->shared ? "shared uniform-tile" : "freshly encoded");
            fail = 1;
        }
    }
    double opaque, transparent;
    alpha_shares(a, &opaque, &transparent);
    if (c->min_opaque >= 0 && opaque < c->min_opaque) {
        printf("  only %.4f of the pixels are opaque (min_opaque %.4f)\n", opaque, c->min_opaque);
        fail = 1;
    }
    if (c->min_transparent >= 0 && transparent < c->min_transparent) {
        printf("  only %.4f of the pixels are transparent (min_transparent %.4f)\n", transparent,
               c->min_transparent);
        fail = 1;
    }
    ts_canvas *b = NULL;
    if (c->has_seam && check_seam(c, p, a, &b) != 0)
        fail = 1;

    ts_canvas *e = NULL;
    if (g_overwrite) {
        if (write_file(expath, t->data, t->len) != 0) {
            fail = 1;
        } else {
            printf("  wrote %s (%zu bytes, %.4f opaque, %.4f transparent): LOOK AT IT before "
                   "committing\n",
                   expath, t->len, opaque, transparent);
        }
    } else {
        size_t len = 0;
        uint8_t *data = read_file(expath, &len);
        ts_err err;
        if (data) {
            e = ts_png_decode(data, len, &err);
            if (e == NULL)
                say_err(expath, &err);
            free(data);
        }
        if (e == NULL) {
            fail = 1;
        } else if (e->w != a->w || e->h != a->h) {
            printf("  expected.png is %dx%d, the tile %dx%d\n", e->w, e->h, a->w, a->h);
            fail = 1;
            ts_canvas_free(e);
            e = NULL;
        } else {
            cmp_result r = compare(a, e, c->tolerance);
            int ok = r.share_over <= c->max_share;
            printf("  max channel diff %d, mean diff %.4f, %ld px (%.3f%%) over tolerance %d "
                   "(limit %.3f%%) %s\n",
                   r.max_diff, r.mean_diff, r.over, 100.0 * r.share_over, c->tolerance,
                   100.0 * c->max_share, ok ? "ok" : "FAILED");
            if (!ok)
                fail = 1;
        }
    }
    if (fail) {
        const char *d = tmp_dir();
        if (d)
            keep_outputs(d, c, t, e, a, b);
    }
    if (g_keep)
        keep_outputs(g_keep, c, t, NULL, a, b);
    ts_canvas_free(e);
    ts_canvas_free(b);
    ts_canvas_free(a);
    ts_tile_unref(t);
    return fail;
}

/* ---- determinism ------------------------------------------------------------------------ */

/* 0 if a and b hold the very same pixels, else 1 (with a line saying how they differ). */
static int
exact_same(const char *what, const ts_canvas *a, const ts_canvas *b)
{
    if (a == NULL || b == NULL) {
        printf("  %s: missing image\n", what);
        return 1;
    }
    if (a->w != b->w || a->h != b->h) {
        printf("  %s: sizes differ %dx%d vs %dx%d\n", what, a->w, a->h, b->w, b->h);
        return 1;
    }
    cmp_result r = compare(a, b, 0);
    if (r.over > 0) {
        printf("  %s: %ld pixels differ (max channel diff %d)\n", what, r.over, r.max_diff);
        return 1;
    }
    return 0;
}

/* The same tiles rendered by two fresh services (separate loads, pipelines, caches). */
static int
check_fresh_service(const char *cfgpath)
{
    static const struct {
        const char *ts;
        int z;
        uint32_t x, y;
        int s;
    } tiles[] = {
        {"cadastre", 16, 34001, 21873, 1},
        {"cadastre", 16, 34001, 21873, 2},
        {"parking", 15, 17000, 10936, 1},
    };
    enum { NT = sizeof tiles / sizeof tiles[0] };
    ts_canvas *img[2][NT] = {{NULL}};
    int fail = 0;
    printf("check deterministic_fresh_service\n");
    for (int run = 0; run < 2; run++) {
        ts_service *svc = load_service(cfgpath);
        ts_pipeline *p = svc ? new_pipeline(svc, 1) : NULL;
        ts_service_unref(svc);
        if (p == NULL) {
            fail = 1;
            break;
        }
        for (int i = 0; i < NT; i++)
            img[run][i] =
                get_tile(p, tiles[i].ts, tiles[i].z, tiles[i].x, tiles[i].y, tiles[i].s, NULL);
        ts_pipeline_free(p);
    }
    for (int i = 0; i < NT; i++) {
        char what[128];
        snprintf(what, sizeof what, "%s %d/%u/%u@%dx", tiles[i].ts, tiles[i].z, tiles[i].x,
                 tiles[i].y, tiles[i].s);
        fail |= exact_same(what, img[0][i], img[1][i]);
        ts_canvas_free(img[0][i]);
        ts_canvas_free(img[1][i]);
    }
    printf("  %d tiles rendered twice from fresh services: %s\n", NT,
           fail ? "FAILED" : "identical pixels");
    return fail;
}

/* One metatile through a one-thread and a two-thread pipeline (the latter splits an idle
 * metatile into bands), every tile compared; then the metatile canvas itself drawn whole
 * and in 2 and 3 bands with ts_render_draw_bands. */
static int
check_bands(const char *cfgpath)
{
    printf("check deterministic_bands\n");
    ts_service *svc = load_service(cfgpath);
    if (svc == NULL)
        return 1;
    int fail = 0;
    const char *tsname = "cadastre";
    const int z = 16;
    const uint32_t x0 = 34000, y0 = 21872; /* a metatile of 8 x 8 tiles */
    ts_pipeline *p1 = new_pipeline(svc, 1), *p2 = new_pipeline(svc, 2);
    if (p1 == NULL || p2 == NULL) {
        fail = 1;
    } else {
        int ntiles = 0;
        for (uint32_t ty = 0; ty < 8; ty++)
            for (uint32_t tx = 0; tx < 8; tx++) {
                ts_canvas *a = get_tile(p1, tsname, z, x0 + tx, y0 + ty, 1, NULL);
                ts_canvas *b = get_tile(p2, tsname, z, x0 + tx, y0 + ty, 1, NULL);
                char what[96];
                snprintf(what, sizeof what, "%s %d/%u/%u (1 vs 2 threads)", tsname, z, x0 + tx,
                         y0 + ty);
                fail |= exact_same(what, a, b);
                ts_canvas_free(a);
                ts_canvas_free(b);
                ntiles++;
            }
        ts_pipeline_stats s1, s2;
        ts_pipeline_stats_get(p1, &s1);
        ts_pipeline_stats_get(p2, &s2);
        if (s1.metatiles_rendered != 1 || s2.metatiles_rendered != 1) {
            printf("  expected one metatile render per pipeline, got %llu and %llu\n",
                   (unsigned long long)s1.metatiles_rendered,
                   (unsigned long long)s2.metatiles_rendered);
            fail = 1;
        }
        printf("  %d tiles of metatile %d/%u/%u, 1 vs 2 render threads: %s\n", ntiles, z, x0, y0,
               fail ? "FAILED" : "identical pixels");
    }
    ts_pipeline_free(p1);
    ts_pipeline_free(p2);

    /* The canvas level: whole vs 2 and 3 bands, on a pool so bands really run in parallel. */
    const ts_tileset *ts = ts_service_tileset(svc, tsname);
    ts_err err;
    ts_pool *pool = ts_pool_new(2, 16, NULL, &err);
    ts_render_worker *w[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++)
        w[i] = ts_render_worker_new(&err);
    ts_canvas *whole = NULL;
    if (ts == NULL || pool == NULL || w[0] == NULL || w[1] == NULL || w[2] == NULL) {
        printf("  cannot set up the band check\n");
        fail = 1;
        goto out;
    }
    int meta = ts->cfg->metatile > 0 ? ts->cfg->metatile : 8;
    int buffer = ts->cfg->buffer_px >= 0 ? ts->cfg->buffer_px : 64;
    ts_metatile mt = ts_grid_metatile(ts->grid, z, x0, y0, meta, buffer);
    ts_render_req rq = {
        .layers = ts->layers,
        .nlayers = ts->nlayers,
        .bbox = mt.bbox,
        .width = mt.width_px,
        .height = mt.height_px,
        .scale_factor = 1,
        .scale_denom = ts_render_scale_denom(mt.res, ts->grid->meters_per_unit),
        .background = ts->background,
    };
    whole = ts_canvas_new(rq.width, rq.height, &err);
    if (whole == NULL || ts_render_draw(w[0], &rq, whole, &err) != TS_OK) {
        say_err("whole metatile", &err);
        fail = 1;
        goto out;
    }
    for (int nb = 2; nb <= 3; nb++) {
        ts_canvas *banded = ts_canvas_new(rq.width, rq.height, &err);
        char what[64];
        snprintf(what, sizeof what, "metatile in %d bands vs whole", nb);
        if (banded == NULL || ts_render_draw_bands(w, nb, pool, &rq, banded, &err) != TS_OK) {
            say_err(what, &err);
            fail = 1;
        } else {
            int f = exact_same(what, whole, banded);
            printf("  %dx%d metatile canvas, whole vs %d bands: %s\n", rq.width, rq.height, nb,
                   f ? "FAILED" : "identical pixels");
            fail |= f;
        }
        ts_canvas_free(banded);
    }
out:
    ts_canvas_free(whole);
    for (int i = 0; i < 3; i++)
        ts_render_worker_free(w[i]);
    ts_pool_free(pool);
    ts_service_unref(svc);
    return fail;
}

/* Single tiles lay out only the label candidates their drawn labels depend on (render/
 * labels.c, place_needed); metatiles resolve whole blocks of candidates. Each of the 64
 * tiles of an 8x8 metatile of the labelled demo map, at zooms where street names and
 * parcel numbers are dense, drawn as a 256 px image of its own, must equal its part of
 * the metatile drawn as one 2048 px image: a label whose fate depended on a candidate the
 * tile left out would appear or vanish as a whole (differences of 100+ on its glyphs);
 * the transforms of the two sizes round apart by a few levels on edges (up to 3 seen). */
static int
check_labels_single_tiles(const char *cfgpath)
{
    enum { M = 8, T = 256 };
    static const struct { int z, x, y; } metas[] = {
        {16, 34000, 21872}, {17, 68000, 43744}, {18, 136000, 87488}, {19, 272008, 174984},
    };
    printf("check labels_single_tiles\n");
    ts_service *svc = load_service(cfgpath);
    const ts_tileset *ts = svc ? ts_service_tileset(svc, "cadastre") : NULL;
    ts_err err;
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *meta = ts_canvas_new(M * T, M * T, &err), *tile = ts_canvas_new(T, T, &err);
    int fail = 0;
    if (ts == NULL || w == NULL || meta == NULL || tile == NULL || ts->fonts == NULL) {
        printf("  cannot set up the check\n");
        fail = 1;
        goto out;
    }
    for (size_t k = 0; k < sizeof metas / sizeof metas[0] && !fail; k++) {
        int z = metas[k].z;
        ts_render_req rq = {
            .layers = ts->layers,
            .nlayers = ts->nlayers,
            .scale_factor = 1,
            .scale_denom = ts_render_scale_denom(ts->grid->levels[z].res,
                                                 ts->grid->meters_per_unit),
            .background = ts->background,
            .fonts = ts->fonts,
        };
        ts_bbox a = ts_grid_tile_bbox(ts->grid, z, metas[k].x, metas[k].y);
        ts_bbox b = ts_grid_tile_bbox(ts->grid, z, metas[k].x + M - 1, metas[k].y + M - 1);
        rq.bbox = (ts_bbox){a.minx, b.miny, b.maxx, a.maxy};
        rq.width = rq.height = M * T;
        ts_render_stats *st = ts_render_worker_stats(w);
        memset(st, 0, sizeof *st);
        if (ts_render_draw(w, &rq, meta, &err) != TS_OK) {
            say_err("the metatile", &err);
            fail = 1;
            break;
        }
        long meta_labels = (long)st->labels;
        long bad = 0, tiles_bad = 0;
        int maxd = 0;
        for (int j = 0; j < M && !fail; j++)
            for (int i = 0; i < M && !fail; i++) {
                rq.bbox = ts_grid_tile_bbox(ts->grid, z, metas[k].x + i, metas[k].y + j);
                rq.width = rq.height = T;
                if (ts_render_draw(w, &rq, tile, &err) != TS_OK) {
                    say_err("a single tile", &err);
                    fail = 1;
                    break;
                }
                long tb = 0;
                for (int y = 0; y < T; y++)
                    for (int x = 0; x < T; x++) {
                        const uint8_t *u = (const uint8_t *)&tile->px[(size_t)y * tile->stride + x];
                        const uint8_t *v = (const uint8_t *)&meta->px[(size_t)(j * T + y) *
                                                                         meta->stride +
                                                                     i * T + x];
                        int d = 0;
                        for (int ch = 0; ch < 4; ch++)
                            d = abs(u[ch] - v[ch]) > d ? abs(u[ch] - v[ch]) : d;
                        tb += d > 24;
                        maxd = d > maxd ? d : maxd;
                    }
                bad += tb;
                tiles_bad += tb > 0;
            }
        printf("  z%d: %ld labels in the metatile; 64 single tiles vs the metatile: max diff "
               "%d, %ld px over 24 in %ld tiles\n",
               z, meta_labels, maxd, bad, tiles_bad);
        if (bad > 0 || meta_labels < 10)
            fail = 1;
    }
out:
    printf("  %s\n", fail ? "FAILED" : "single tiles equal their metatiles");
    ts_canvas_free(meta);
    ts_canvas_free(tile);
    ts_render_worker_free(w);
    ts_service_unref(svc);
    return fail;
}

/* A 3x3 block of z18 tiles of the labelled demo map, fetched one by one through the
 * serving pipeline (from four different 8x8 metatiles: the block straddles a metatile
 * corner), stitched, and compared with the block drawn as one 768x768 image: labels
 * crossing tile and metatile borders must come out whole and once, so the two agree. */
static int
check_labels_stitched(const char *cfgpath)
{
    enum { Z = 18, X0 = 136007, Y0 = 87495, N = 3, T = 256 };
    printf("check labels_stitched\n");
    ts_service *svc = load_service(cfgpath);
    ts_pipeline *p = svc ? new_pipeline(svc, 2) : NULL;
    const ts_tileset *ts = svc ? ts_service_tileset(svc, "cadastre") : NULL;
    ts_err err;
    ts_render_worker *w = ts_render_worker_new(&err);
    ts_canvas *one = ts_canvas_new(N * T, N * T, &err), *sewn = ts_canvas_new(N * T, N * T, &err);
    int fail = 0;
    if (p == NULL || ts == NULL || w == NULL || one == NULL || sewn == NULL || ts->fonts == NULL) {
        printf("  cannot set up the check (fonts: %s)\n", ts && ts->fonts ? "yes" : "no");
        fail = 1;
        goto out;
    }
    for (int j = 0; j < N && !fail; j++)
        for (int i = 0; i < N && !fail; i++) {
            ts_canvas *t = get_tile(p, "cadastre", Z, X0 + i, Y0 + j, 1, NULL);
            if (t == NULL || t->w != T || t->h != T) {
                printf("  tile %d/%d/%d missing\n", Z, X0 + i, Y0 + j);
                fail = 1;
            } else {
                for (int y = 0; y < T; y++)
                    memcpy(sewn->px + (size_t)(j * T + y) * sewn->stride + i * T,
                           t->px + (size_t)y * t->stride, T * sizeof *t->px);
            }
            ts_canvas_free(t);
        }
    if (!fail) {
        ts_bbox a = ts_grid_tile_bbox(ts->grid, Z, X0, Y0);
        ts_bbox b = ts_grid_tile_bbox(ts->grid, Z, X0 + N - 1, Y0 + N - 1);
        ts_render_req rq = {
            .layers = ts->layers,
            .nlayers = ts->nlayers,
            .bbox = {a.minx, b.miny, b.maxx, a.maxy},
            .width = N * T,
            .height = N * T,
            .scale_factor = 1,
            .scale_denom = ts_render_scale_denom(ts->grid->levels[Z].res,
                                                 ts->grid->meters_per_unit),
            .background = ts->background,
            .fonts = ts->fonts,
        };
        ts_render_stats *st = ts_render_worker_stats(w);
        memset(st, 0, sizeof *st);
        if (ts_render_draw(w, &rq, one, &err) != TS_OK) {
            say_err("the block as one image", &err);
            fail = 1;
        } else {
            /* per channel 2 as the cases (the image and the metatiles place the same glyphs
             * at positions that differ by rounding only) */
            long bad = 0;
            int maxd = 0;
            for (int k = 0; k < N * T * N * T; k++) {
                const uint8_t *u = (const uint8_t *)&one->px[k], *v = (const uint8_t *)&sewn->px[k];
                int d = 0;
                for (int ch = 0; ch < 4; ch++)
                    d = abs(u[ch] - v[ch]) > d ? abs(u[ch] - v[ch]) : d;
                bad += d > 2;
                maxd = d > maxd ? d : maxd;
            }
            printf("  %d labels in the block; stitched tiles vs one image: max diff %d, %ld px "
                   "over 2\n",
                   (int)st->labels, maxd, bad);
            fail = bad > 0 || st->labels < 20;
            if (fail || g_keep) {
                char path[PATH_MAX];
                const char *dir = g_keep ? g_keep : tmp_dir();
                if (dir && path_fmt(path, sizeof path, "%s/labels_one.png", dir) == 0)
                    write_canvas(path, one);
                if (dir && path_fmt(path, sizeof path, "%s/labels_stitched.png", dir) == 0)
                    write_canvas(path, sewn);
            }
        }
    }
out:
    printf("  %s\n", fail ? "FAILED" : "stitched tiles equal the single image");
    ts_canvas_free(one);
    ts_canvas_free(sewn);
    ts_render_worker_free(w);
    ts_pipeline_free(p);
    ts_service_unref(svc);
    return fail;
}

/* ---- main ------------------------------------------------------------------------------- */

static int
case_filter(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static void
usage(void)
{
    fprintf(stderr, "usage: run_cases [-s SOURCE_DIR] [--overwrite] [--keep DIR] [--skip SUBSTR] "
                    "[FILTER]\n");
}

int
main(int argc, char **argv)
{
    static char srcbuf[PATH_MAX];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--overwrite") == 0) {
            g_overwrite = 1;
        } else if ((strcmp(a, "-s") == 0 || strcmp(a, "--source") == 0) && i + 1 < argc) {
            g_src = argv[++i];
        } else if (strcmp(a, "--keep") == 0 && i + 1 < argc) {
            g_keep = argv[++i];
        } else if (strcmp(a, "--skip") == 0 && i + 1 < argc) {
            g_skip = argv[++i];
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return 0;
        } else if (a[0] == '-') {
            usage();
            return 2;
        } else {
            if (g_src == NULL && path_fmt(srcbuf, sizeof srcbuf, "%s/tests/cases", a) == 0 &&
                is_dir(srcbuf))
                g_src = a;
            else if (g_filter == NULL)
                g_filter = a;
            else {
                usage();
                return 2;
            }
        }
    }
    if (g_src == NULL) {
        const char *env = getenv("TS_SOURCE_DIR");
        g_src = env && *env ? env : TS_SOURCE_DIR;
    }
    if (g_keep && !is_dir(g_keep) && mkdir(g_keep, 0777) != 0) {
        fprintf(stderr, "cannot create %s (errno %d)\n", g_keep, errno);
        return 2;
    }
    ts_log_set_level(TS_LOG_WARN);

    char casedir[PATH_MAX];
    if (path_fmt(casedir, sizeof casedir, "%s/tests/cases", g_src) != 0)
        return 2;
    struct dirent **ents = NULL;
    int n = scandir(casedir, &ents, case_filter, alphasort);
    if (n < 0) {
        fprintf(stderr, "cannot list %s (errno %d)\n", casedir, errno);
        return 2;
    }
    int ran = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        char dir[PATH_MAX], ini[PATH_MAX];
        if (path_fmt(dir, sizeof dir, "%s/%s", casedir, ents[i]->d_name) != 0 ||
            path_fmt(ini, sizeof ini, "%s/case.ini", dir) != 0 || !is_dir(dir) ||
            access(ini, R_OK) != 0 || !matches(ents[i]->d_name))
            continue;
        rc_case c;
        ran++;
        if (load_case(dir, ents[i]->d_name, &c) != 0 || run_case(&c) != 0) {
            failed++;
            printf("  -> case %s FAILED\n", ents[i]->d_name);
        }
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    free_services();

    if (!g_overwrite) {
        char cfgpath[PATH_MAX];
        if (path_fmt(cfgpath, sizeof cfgpath, "%s/%s", g_src, DEFAULT_CONFIG) != 0)
            return 2;
        if (matches("deterministic_fresh_service")) {
            ran++;
            failed += check_fresh_service(cfgpath);
        }
        if (matches("deterministic_bands")) {
            ran++;
            failed += check_bands(cfgpath);
        }
        if (matches("labels_stitched")) {
            ran++;
            failed += check_labels_stitched(cfgpath);
        }
        if (matches("labels_single_tiles")) {
            ran++;
            failed += check_labels_single_tiles(cfgpath);
        }
    }
    if (ran == 0) {
        printf("no case matches '%s'\n", g_filter ? g_filter : "");
        return 1;
    }
    printf("%d of %d %s passed%s%s\n", ran - failed, ran, g_overwrite ? "cases" : "cases/checks",
           g_tmp[0] ? "; failure images in " : "", g_tmp);
    return failed ? 1 : 0;
}
