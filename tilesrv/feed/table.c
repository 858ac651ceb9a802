/* feed/table.c — device tables: where each LoRaWAN device (or demo bay) is. CSV files are
 * read here; any other dataset goes through the source module's OGR loader, reprojected
 * to longitude/latitude. Also the small CSV reader the demo's measurement file uses. */
#include "feed/feed_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source/source.h"
#include "util/hash.h"

/* ---- CSV --------------------------------------------------------------------------------- */

#define CSV_RECORD_MAX (64u * 1024u)

void
ts_csv_init(ts_csv *c, const char *text, size_t len)
{
    memset(c, 0, sizeof *c);
    c->p = text;
    c->end = text + len;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        c->p += 3;
}

void
ts_csv_fini(ts_csv *c)
{
    free(c->buf);
    c->buf = NULL;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int
ts_csv_next(ts_csv *c)
{
    for (;;) {
        if (c->p >= c->end)
            return 0;
        c->line++;
        const char *p = c->p;
        /* skip empty and comment lines */
        if (*p == '\n' || *p == '#' || (*p == '\r' && p + 1 < c->end && p[1] == '\n')) {
            const char *nl = memchr(p, '\n', (size_t)(c->end - p));
            c->p = nl ? nl + 1 : c->end;
            continue;
        }
        if (c->sep == 0) {
            const char *nl = memchr(p, '\n', (size_t)(c->end - p));
            const char *le = nl ? nl : c->end;
            const char *comma = memchr(p, ',', (size_t)(le - p));
            const char *semi = memchr(p, ';', (size_t)(le - p));
            c->sep = semi != NULL && comma == NULL ? ';' : ',';
        }
        if (c->cap == 0) {
            c->buf = malloc(4096);
            if (c->buf == NULL)
                return -1;
            c->cap = 4096;
        }
        size_t n = 0;
        int quoted = 0;
        c->nf = 0;
        size_t fstart = 0;
        for (;;) {
            if (n + 2 > c->cap) {
                if (c->cap >= CSV_RECORD_MAX)
                    return -1;
                char *nb = realloc(c->buf, c->cap * 2);
                if (nb == NULL)
                    return -1;
                /* fields are offsets until the record ends */
                c->buf = nb;
                c->cap *= 2;
            }
            if (p >= c->end) {
                if (quoted)
                    return -1;
                break;
            }
            char ch = *p++;
            if (quoted) {
                if (ch == '"') {
                    if (p < c->end && *p == '"') {
                        c->buf[n++] = '"';
                        p++;
                    } else {
                        quoted = 0;
                    }
                } else {
                    if (ch == '\n')
                        c->line++;
                    c->buf[n++] = ch;
                }
                continue;
            }
            if (ch == '"') {
                quoted = 1;
                continue;
            }
            if (ch == '\r' && p < c->end && *p == '\n')
                continue;
            if (ch == '\n')
                break;
            if (ch == c->sep) {
                if (c->nf + 1 >= TS_CSV_MAX_FIELDS)
                    return -1;
                c->buf[n++] = '\0';
                c->f[c->nf++] = (char *)(uintptr_t)fstart;
                fstart = n;
                continue;
            }
            c->buf[n++] = ch;
        }
        c->buf[n++] = '\0';
        c->f[c->nf++] = (char *)(uintptr_t)fstart;
        for (int i = 0; i < c->nf; i++)
            c->f[i] = trim(c->buf + (uintptr_t)c->f[i]);
        c->p = p;
        return 1;
    }
}

int
ts_csv_column(const ts_csv *c, const char *const *names)
{
    for (const char *const *nm = names; *nm != NULL; nm++)
        for (int i = 0; i < c->nf; i++)
            if (strcasecmp(c->f[i], *nm) == 0)
                return i;
    return -1;
}

int
ts_csv_number(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

struct ts_feed_table {
    ts_feed_device *d; /* strings owned */
    size_t n, cap;
    uint32_t *slots;
    size_t nslots;
};

static uint64_t
key_hash(const char *s)
{
    return ts_hash_mix(ts_hash_bytes(TS_HASH_SEED, s, strlen(s)));
}

static void
lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

void
ts_feed_table_free(ts_feed_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free((char *)t->d[i].key);
        free((char *)t->d[i].sensor);
        free((char *)t->d[i].label);
    }
    free(t->d);
    free(t->slots);
    free(t);
}

const ts_feed_device *
ts_feed_table_find(const ts_feed_table *t, const char *key)
{
    char k[TS_FEED_ID_MAX];
    if (t == NULL || key == NULL || t->nslots == 0 || strlen(key) >= sizeof k)
        return NULL;
    memcpy(k, key, strlen(key) + 1);
    lower(k);
    size_t h = (size_t)key_hash(k) & (t->nslots - 1);
    while (t->slots[h] != 0) {
        const ts_feed_device *d = &t->d[t->slots[h] - 1];
        if (strcmp(d->key, k) == 0)
            return d;
        h = (h + 1) & (t->nslots - 1);
    }
    return NULL;
}

size_t
ts_feed_table_count(const ts_feed_table *t)
{
    return t ? t->n : 0;
}

const ts_feed_device *
ts_feed_table_at(const ts_feed_table *t, size_t i)
{
    return t && i < t->n ? &t->d[i] : NULL;
}

/* Add a row; -1 out of memory, -2 duplicate key, -3 bad coordinates or strings. */
static int
table_add(ts_feed_table *t, const char *key, const char *sensor, const char *label, double lon,
          double lat)
{
    if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90)
        return -3;
    if (key == NULL || key[0] == '\0' || strlen(key) >= TS_FEED_ID_MAX)
        return -3;
    if (sensor == NULL || sensor[0] == '\0')
        sensor = key;
    if (strlen(sensor) >= TS_FEED_ID_MAX || (label != NULL && strlen(label) >= TS_FEED_ID_MAX))
        return -3;
    if (ts_feed_table_find(t, key) != NULL)
        return -2;
    if ((t->n + 1) * 2 >= t->nslots) {
        size_t ns = t->nslots ? t->nslots * 2 : 64;
        uint32_t *slots = calloc(ns, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < t->n; i++) {
            size_t h = (size_t)key_hash(t->d[i].key) & (ns - 1);
            while (slots[h] != 0)
                h = (h + 1) & (ns - 1);
            slots[h] = (uint32_t)(i + 1);
        }
        free(t->slots);
        t->slots = slots;
        t->nslots = ns;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        ts_feed_device *nd = realloc(t->d, cap * sizeof *nd);
        if (nd == NULL)
            return -1;
        t->d = nd;
        t->cap = cap;
    }
    char *k = strdup(key), *s = strdup(sensor), *l = label && label[0] ? strdup(label) : NULL;
    if (k == NULL || s == NULL || (label && label[0] && l == NULL)) {
        free(k);
        free(s);
        free(l);
        return -1;
    }
    lower(k);
    t->d[t->n++] = (ts_feed_device){.key = k, .sensor = s, .label = l, .lon = lon, .lat = lat};
    size_t h = (size_t)key_hash(k) & (t->nslots - 1);
    while (t->slots[h] != 0)
        h = (h + 1) & (t->nslots - 1);
    t->slots[h] = (uint32_t)t->n;
    return 0;
}

ts_status
ts_feed_table_parse_csv(const char *name, const char *text, size_t len, ts_feed_table **out,
                        ts_err *err)
{
    static const char *const c_id[] = {"id", "device", "dev_eui", "deveui", "device_id", NULL};
    static const char *const c_lon[] = {"lon", "longitude", "lng", "x", NULL};
    static const char *const c_lat[] = {"lat", "latitude", "y", NULL};
    static const char *const c_sensor[] = {"sensor", "bay", "bay_id", NULL};
    static const char *const c_label[] = {"label", "name", NULL};
    ts_feed_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return TS_FAIL(err, TS_ENOMEM, "device table");
    ts_csv c;
    ts_csv_init(&c, text, len);
    ts_status rc = TS_OK;
    int r = ts_csv_next(&c);
    if (r != 1) {
        rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "%s",
                        r == 0 ? "no header line" : "unreadable header line");
        goto fail;
    }
    int ci = ts_csv_column(&c, c_id), cx = ts_csv_column(&c, c_lon), cy = ts_csv_column(&c, c_lat);
    int cs = ts_csv_column(&c, c_sensor), cl = ts_csv_column(&c, c_label);
    if (ci < 0 || cx < 0 || cy < 0) {
        rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0,
                        "the header needs columns id (or device, dev_eui), lon and lat");
        goto fail;
    }
    while ((r = ts_csv_next(&c)) == 1) {
        double lon, lat;
        int need = ci > cx ? ci : cx;
        need = need > cy ? need : cy;
        if (c.nf <= need) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "%d fields, expected at least %d",
                            c.nf, need + 1);
            goto fail;
        }
        if (ts_csv_number(c.f[cx], &lon) != 0 || ts_csv_number(c.f[cy], &lat) != 0) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0,
                            "lon/lat '%.32s', '%.32s' are not "
                            "numbers",
                            c.f[cx], c.f[cy]);
            goto fail;
        }
        int ar = table_add(t, c.f[ci], cs >= 0 && cs < c.nf ? c.f[cs] : NULL,
                           cl >= 0 && cl < c.nf ? c.f[cl] : NULL, lon, lat);
        if (ar == -1) {
            rc = TS_FAIL(err, TS_ENOMEM, "device table");
            goto fail;
        }
        if (ar == -2 || ar == -3) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "%s '%.64s'",
                            ar == -2 ? "duplicate device" : "bad id or coordinates for device",
                            c.f[ci]);
            goto fail;
        }
    }
    if (r < 0) {
        rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "malformed CSV record");
        goto fail;
    }
    ts_csv_fini(&c);
    *out = t;
    return TS_OK;
fail:
    ts_csv_fini(&c);
    ts_feed_table_free(t);
    return rc;
}

ts_status
ts_feed_read_file(const char *path, size_t max, char **out, size_t *len, ts_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return TS_FAIL(err, TS_ESOURCE, "cannot open %s", path);
    ts_buf b;
    ts_buf_init(&b, max);
    char chunk[16384];
    size_t n;
    ts_status rc = TS_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if ((rc = ts_buf_add(&b, chunk, n)) != TS_OK)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (rc == TS_OK && !bad)
        rc = ts_buf_add(&b, "", 1);
    if (rc != TS_OK || bad) {
        ts_buf_fini(&b);
        return TS_FAIL(err, TS_ESOURCE, "cannot read %s%s", path,
                       rc == TS_ELIMIT ? " (too large)" : "");
    }
    *out = (char *)ts_buf_steal(&b, len);
    (*len)--;
    return TS_OK;
}

static int
value_text(const ts_value *v, char *buf, size_t size)
{
    switch (v->type) {
    case TS_VAL_STR:
        return snprintf(buf, size, "%s", v->u.s) < (int)size ? 0 : -1;
    case TS_VAL_INT:
    case TS_VAL_BOOL:
        snprintf(buf, size, "%lld", (long long)v->u.i);
        return 0;
    case TS_VAL_REAL:
        snprintf(buf, size, "%.17g", v->u.d);
        return 0;
    default:
        buf[0] = '\0';
        return -1;
    }
}

static ts_status
load_ogr(const ts_feed_table_config *tc, ts_feed_table **out, ts_err *err)
{
    const char *idf = tc->id_field != NULL && tc->id_field[0] ? tc->id_field : "id";
    const char *sf = tc->sensor_field != NULL && tc->sensor_field[0] ? tc->sensor_field : idf;
    const char *fields[4] = {idf, sf, NULL, NULL};
    if (tc->label_field != NULL && tc->label_field[0])
        fields[2] = tc->label_field;
    ts_source_ctx *sc = ts_source_ctx_new(err);
    if (sc == NULL)
        return TS_ESOURCE;
    ts_store_def def = {.name = "device table",
                        .path = tc->path,
                        .layer = tc->layer,
                        .dst_crs = "EPSG:4326",
                        .fields = fields};
    ts_store *s = NULL;
    ts_status rc = ts_store_load(sc, &def, &s, err);
    ts_source_ctx_free(sc);
    if (rc != TS_OK)
        return rc == TS_ENOMEM ? rc : TS_ESOURCE;
    ts_feed_table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        ts_store_unref(s);
        return TS_FAIL(err, TS_ENOMEM, "device table");
    }
    int fi = ts_store_field_index(s, idf), fs = ts_store_field_index(s, sf);
    int fl = fields[2] ? ts_store_field_index(s, fields[2]) : -1;
    for (uint32_t fid = 0; fid < ts_store_count(s); fid++) {
        ts_geom g;
        ts_store_geom(s, 0, fid, &g);
        if (g.kind == TS_GEOM_NONE)
            continue;
        double lon, lat;
        if (g.kind == TS_GEOM_POINT) {
            lon = g.xy[0];
            lat = g.xy[1];
        } else {
            ts_bbox bb = ts_store_feature_bbox(s, fid);
            lon = (bb.minx + bb.maxx) / 2;
            lat = (bb.miny + bb.maxy) / 2;
        }
        char key[TS_FEED_ID_MAX], sensor[TS_FEED_ID_MAX], label[TS_FEED_ID_MAX];
        if (value_text(ts_store_value(s, fid, fi), key, sizeof key) != 0 || key[0] == '\0')
            continue; /* rows without a device key are not devices */
        if (value_text(ts_store_value(s, fid, fs), sensor, sizeof sensor) != 0)
            sensor[0] = '\0';
        if (fl < 0 || value_text(ts_store_value(s, fid, fl), label, sizeof label) != 0)
            label[0] = '\0';
        int ar = table_add(t, key, sensor, label, lon, lat);
        if (ar == -1 || ar == -2) {
            rc = ar == -1 ? TS_FAIL(err, TS_ENOMEM, "device table")
                          : TS_FAIL(err, TS_ESOURCE, "%s: duplicate device '%.64s' (feature %u)",
                                    tc->path, key, fid);
            ts_store_unref(s);
            ts_feed_table_free(t);
            return rc;
        }
    }
    ts_store_unref(s);
    *out = t;
    return TS_OK;
}

ts_status
ts_feed_table_load(const ts_feed_table_config *tc, ts_feed_table **out, ts_err *err)
{
    if (tc == NULL || tc->path == NULL || tc->path[0] == '\0')
        return TS_FAIL(err, TS_ECONFIG, "no device table configured");
    size_t pl = strlen(tc->path);
    if (pl < 4 || strcasecmp(tc->path + pl - 4, ".csv") != 0)
        return load_ogr(tc, out, err);
    char *text;
    size_t len;
    TS_TRY(ts_feed_read_file(tc->path, 64u << 20, &text, &len, err));
    ts_status rc = ts_feed_table_parse_csv(tc->path, text, len, out, err);
    free(text);
    return rc;
}
