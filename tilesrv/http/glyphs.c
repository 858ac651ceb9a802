/* http/glyphs.c — /fonts/{fontstack}/{start}-{end}.pbf: the glyph ranges MapLibre GL (and
 * Mapbox GL, OpenLayers' ol-mapbox-style with MapLibre fonts) fetch for the text of symbol
 * layers, named by a style's "glyphs" URL (/styles/{name}.json writes it); and
 * /fonts.json, the font names this server has.
 *
 * {fontstack} is a comma-separated list of font names ("DejaVu Sans Bold,Arial Unicode MS
 * Regular"), each resolved by ts_text_glyph_face: a face's "Family Style", a family with
 * style words, or an alias; a name the catalogue cannot place gets the default face, as
 * SLD labels do, so a third-party style naming fonts this machine lacks still shows its
 * labels (only when no name of the stack is known: known ones come first). Each code
 * point comes from the first font of the stack that has it. {start}-{end}
 * must be one block of 256 code points (0-255, 256-511, ..., 65280-65535): anything else
 * is 400. Answers are the same for the process's life (the fonts are scanned once), so
 * they are cached here by the faces they are drawn from (at most GLYPH_CACHE entries, least
 * recently used dropped). A range not cached is drawn on a render thread (20-60 ms) while
 * its connection waits suspended, so the server threads go on serving: the ranges asked
 * for wait in a queue that one render-thread task at a time works through, so a burst of
 * new ranges does not take every render thread from the tiles. Answers are sent gzip-compressed to clients
 * that accept it, with an ETag and a day's max-age. The stack's name in an answer is the
 * names of the faces drawn from, not the bytes asked for. */
#include "http/http_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "mvt/mvt.h"
#include "text/text.h"

#define GLYPH_CACHE 64
#define GLYPH_MAX_AGE 86400

typedef struct glyph_entry {
    char *key;     /* the stack's faces and the range: "3,17@256" */
    ts_tile *raw;  /* the protobuf */
    ts_tile *gz;   /* gzip of it */
    uint64_t used; /* LRU clock */
} glyph_entry;

/* A range to draw for one request, waiting in the queue. */
typedef struct glyph_job {
    struct glyph_job *next;
    req_state *rs; /* its connection, suspended */
    const ts_font_catalog *cat;
    int faces[TS_MAX_GLYPH_STACK], nfaces;
    uint32_t start;
    int gzip; /* the client accepts gzip */
    char key[160];
    char name[TS_MAX_GLYPH_STACK * 130];
} glyph_job;

static pthread_mutex_t glyph_mu = PTHREAD_MUTEX_INITIALIZER; /* the cache and the queue */
static glyph_entry glyph_cache[GLYPH_CACHE];
static uint64_t glyph_clock;
static glyph_job *queue_head, *queue_tail; /* ranges to draw, first come first */
static int queue_draining;                 /* a render-thread task works through the queue */

/* The cached answer for key (references taken), or 0. */
static int
cache_get(const char *key, ts_tile **raw, ts_tile **gz)
{
    int found = 0;
    pthread_mutex_lock(&glyph_mu);
    for (int i = 0; i < GLYPH_CACHE; i++) {
        glyph_entry *e = &glyph_cache[i];
        if (e->key != NULL && strcmp(e->key, key) == 0) {
            e->used = ++glyph_clock;
            *raw = ts_tile_ref(e->raw);
            *gz = ts_tile_ref(e->gz);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&glyph_mu);
    return found;
}

/* Keep raw and gz under key (taking references) in a free slot, else in place of the
 * least recently used entry; a concurrent first request may have stored it already. */
static void
cache_put(const char *key, ts_tile *raw, ts_tile *gz)
{
    pthread_mutex_lock(&glyph_mu);
    glyph_entry *slot = NULL;
    for (int i = 0; i < GLYPH_CACHE; i++) {
        glyph_entry *e = &glyph_cache[i];
        if (e->key != NULL && strcmp(e->key, key) == 0) {
            pthread_mutex_unlock(&glyph_mu);
            return;
        }
        if (slot == NULL || (slot->key != NULL && (e->key == NULL || e->used < slot->used)))
            slot = e;
    }
    char *k = strdup(key);
    if (k != NULL) {
        if (slot->key != NULL) {
            free(slot->key);
            ts_tile_unref(slot->raw);
            ts_tile_unref(slot->gz);
        }
        slot->key = k;
        slot->raw = ts_tile_ref(raw);
        slot->gz = ts_tile_ref(gz);
        slot->used = ++glyph_clock;
    }
    pthread_mutex_unlock(&glyph_mu);
}

/* The answer to job's request in its req_state: from the cache, else drawn and cached. */
static void
draw_range(glyph_job *j)
{
    req_state *rs = j->rs;
    ts_tile *raw = NULL, *gz = NULL;
    ts_err_clear(&rs->err);
    rs->st = TS_OK;
    if (!cache_get(j->key, &raw, &gz)) { /* not drawn for an earlier request of the queue */
        ts_buf pb, z;
        ts_buf_init(&pb, 16u << 20);
        ts_buf_init(&z, 16u << 20);
        ts_status st =
            ts_text_glyph_range(j->cat, j->faces, j->nfaces, j->name, j->start, &pb, &rs->err);
        if (st == TS_OK)
            st = ts_mvt_gzip(pb.data, pb.len, 6, &z, &rs->err);
        if (st == TS_OK) {
            int64_t now = (int64_t)time(NULL);
            raw = ts_tile_new(pb.data, pb.len, now);
            gz = ts_tile_new(z.data, z.len, now);
            if (raw == NULL || gz == NULL)
                st = TS_FAIL(&rs->err, TS_ENOMEM, "glyph range");
        }
        ts_buf_fini(&pb);
        ts_buf_fini(&z);
        if (st == TS_OK)
            cache_put(j->key, raw, gz);
        rs->st = st;
    }
    if (rs->st == TS_OK) {
        rs->tile = j->gzip ? gz : raw;
        ts_tile_unref(j->gzip ? raw : gz);
        rs->encoding = j->gzip ? "gzip" : NULL;
    } else {
        ts_tile_unref(raw);
        ts_tile_unref(gz);
    }
}

/* The render-thread task: draw the queued ranges, first come first, and answer each. */
static void
drain(void *worker_state, void *arg)
{
    (void)worker_state;
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&glyph_mu);
        glyph_job *j = queue_head;
        if (j != NULL) {
            queue_head = j->next;
            if (queue_head == NULL)
                queue_tail = NULL;
        } else {
            queue_draining = 0;
        }
        pthread_mutex_unlock(&glyph_mu);
        if (j == NULL)
            return;
        draw_range(j);
        req_state *rs = j->rs;
        free(j);
        ts_http__resume(rs);
    }
}

/* Queue job (its connection suspended until answered); start a drain task unless one
 * runs. Should the render queue be full, the range is drawn here. */
static enum MHD_Result
enqueue(ts_http *h, struct MHD_Connection *c, glyph_job *j)
{
    req_state *rs = j->rs;
    snprintf(rs->ctype, sizeof rs->ctype, "application/x-protobuf");
    rs->max_age = GLYPH_MAX_AGE;
    rs->vary_encoding = 1;
    ts_http__suspend(h, c, rs);
    pthread_mutex_lock(&glyph_mu);
    int start_task = !queue_draining;
    queue_draining = 1;
    if (queue_tail != NULL)
        queue_tail->next = j;
    else
        queue_head = j;
    queue_tail = j;
    pthread_mutex_unlock(&glyph_mu);
    if (start_task && ts_pipeline_run(h->p, drain, NULL) != TS_OK)
        drain(NULL, NULL); /* the render queue is full: work through the queue here */
    return MHD_YES;
}

/* Parse "{start}-{end}.pbf": start a multiple of 256, end = start + 255. */
static int
parse_range(const char *s, uint32_t *start)
{
    char *end;
    if (*s < '0' || *s > '9')
        return 0;
    unsigned long a = strtoul(s, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return 0;
    unsigned long b = strtoul(end + 1, &end, 10);
    if (strcmp(end, ".pbf") != 0 || a % 256 != 0 || b != a + 255 || b > 65535)
        return 0;
    *start = (uint32_t)a;
    return 1;
}

static enum MHD_Result
font_list(ts_http *h, struct MHD_Connection *c, const ts_font_catalog *cat)
{
    ts_buf b;
    ts_buf_init(&b, 1u << 20);
    ts_status st = ts_buf_printf(&b, "[");
    char name[512];
    int n = cat ? ts_font_catalog_count(cat) : 0;
    for (int i = 0; st == TS_OK && i < n; i++) {
        ts_text_glyph_font_name(cat, i, name, sizeof name);
        int dup = 0; /* the same name from two files (a .ttf and an .otf) once */
        for (int k = 0; k < i && !dup; k++) {
            char other[512];
            ts_text_glyph_font_name(cat, k, other, sizeof other);
            dup = strcmp(other, name) == 0;
        }
        if (dup)
            continue;
        st = ts_buf_printf(&b, "%s\"", b.len > 1 ? "," : "");
        if (st == TS_OK)
            st = ts_ows_json_escape(&b, name);
        if (st == TS_OK)
            st = ts_buf_add(&b, "\"", 1);
    }
    if (st == TS_OK)
        st = ts_buf_printf(&b, "]");
    enum MHD_Result r = st == TS_OK
                            ? ts_http__send_buf(h, c, MHD_HTTP_OK, "application/json", b.data, b.len)
                            : ts_http__send_status(h, c, st, NULL);
    ts_buf_fini(&b);
    return r;
}

enum MHD_Result
ts_http__handle_fonts(ts_http *h, struct MHD_Connection *c, req_state *rs, const char *path,
                      int head)
{
    ts_service *svc = ts_pipeline_service(h->p);
    const ts_font_catalog *cat = ts_service_fonts(svc);
    ts_service_unref(svc); /* the catalogue is the process's: it outlives every service */
    if (strcmp(path, ".json") == 0)
        return font_list(h, c, cat);
    if (path[0] != '/')
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND,
                                  "fonts are /fonts/{fontstack}/{start}-{end}.pbf");
    path++;
    const char *slash = strchr(path, '/');
    if (slash == NULL || slash == path || strchr(slash + 1, '/') != NULL)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND,
                                  "fonts are /fonts/{fontstack}/{start}-{end}.pbf");
    uint32_t start;
    if (!parse_range(slash + 1, &start))
        return ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST,
                                  "a glyph range is one block of 256 code points: "
                                  "{start}-{end}.pbf with start a multiple of 256 and "
                                  "end = start + 255, at most 65535");
    if (cat == NULL)
        return ts_http__send_text(h, c, MHD_HTTP_NOT_FOUND, "this server has no fonts");
    size_t stack_len = (size_t)(slash - path);
    if (stack_len > 1024)
        return ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST, "font stack too long");
    /* the faces of the stack, each once, in order */
    int faces[TS_MAX_GLYPH_STACK], nfaces = 0, fallback = -1;
    for (const char *p = path; p < slash && nfaces < TS_MAX_GLYPH_STACK;) {
        const char *comma = memchr(p, ',', (size_t)(slash - p));
        size_t len = comma ? (size_t)(comma - p) : (size_t)(slash - p);
        int exact, f = ts_text_glyph_face(cat, p, len, &exact);
        int seen = 0;
        for (int k = 0; k < nfaces; k++)
            seen |= faces[k] == f;
        if (f >= 0 && exact && !seen)
            faces[nfaces++] = f;
        else if (f >= 0 && fallback < 0)
            fallback = f; /* the default face, should no name of the stack be known */
        p += len + (comma ? 1 : 0);
    }
    if (nfaces == 0 && fallback >= 0)
        faces[nfaces++] = fallback;
    if (nfaces == 0)
        return ts_http__send_text(h, c, MHD_HTTP_BAD_REQUEST, "no font name in the font stack");
    /* the answer depends on the faces only: the key is their indices and the range, and
     * the stack's name in it is theirs ("DejaVu Sans Bold,DejaVu Sans Book"), not the
     * bytes asked for (unknown names share the default face's answer) */
    char name[TS_MAX_GLYPH_STACK * 130], key[160];
    size_t nl = 0, kl = 0;
    name[0] = '\0';
    for (int i = 0; i < nfaces; i++) {
        char one[128];
        ts_text_glyph_font_name(cat, faces[i], one, sizeof one);
        nl += (size_t)snprintf(name + nl, sizeof name - nl, "%s%s", i ? "," : "", one);
        kl += (size_t)snprintf(key + kl, sizeof key - kl, "%s%d", i ? "," : "", faces[i]);
    }
    snprintf(key + kl, sizeof key - kl, "@%u", start);

    int accepts_gz = ts_http__accepts_gzip(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    ts_tile *raw = NULL, *gz = NULL;
    if (!cache_get(key, &raw, &gz)) {
        glyph_job *j = calloc(1, sizeof *j);
        if (j == NULL)
            return ts_http__send_status(h, c, TS_ENOMEM, NULL);
        j->rs = rs;
        j->cat = cat;
        memcpy(j->faces, faces, sizeof faces);
        j->nfaces = nfaces;
        j->start = start;
        j->gzip = accepts_gz;
        snprintf(j->key, sizeof j->key, "%s", key);
        snprintf(j->name, sizeof j->name, "%s", name);
        return enqueue(h, c, j);
    }
    ts_tile *send = accepts_gz ? gz : raw;
    ts_tile_unref(accepts_gz ? raw : gz);
    return ts_http__send_tile_enc(h, c, send, "application/x-protobuf", GLYPH_MAX_AGE, head,
                                  accepts_gz ? "gzip" : NULL, 1); /* consumes send */
}
