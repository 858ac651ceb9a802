/* config/config.c — public entry points: load/parse, reference counting, lookups. */
#include "config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

static void
free_strv(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
config_free(ts_config *c)
{
    if (c == NULL)
        return;
    free(c->server.listen_host);
    free(c->server.cors_origin);
    free(c->server.public_url);
    free(c->server.log_level);
    free(c->server.access_log);
    free(c->server.seed_progress_dir);
    if (c->server.admin.token) {
        explicit_bzero(c->server.admin.token, strlen(c->server.admin.token));
        free(c->server.admin.token);
    }
    free(c->server.admin.allow);
    ts_cfg_wms *w = &c->server.wms;
    char **wstr[] = {&w->title, &w->root_name, &w->labels, &w->abstract_text, &w->online_resource, &w->fees,
                     &w->access_constraints, &w->contact_person, &w->contact_organization,
                     &w->contact_position, &w->contact_email, &w->contact_phone,
                     &w->contact_address, &w->contact_city, &w->contact_state,
                     &w->contact_postcode, &w->contact_country};
    for (size_t i = 0; i < sizeof wstr / sizeof wstr[0]; i++)
        free(*wstr[i]);
    free_strv(w->keywords, w->nkeywords);
    free_strv(w->crs, w->ncrs);
    for (int i = 0; i < c->nsources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].path);
        free(c->sources[i].srs);
        free(c->sources[i].mode);
    }
    free(c->sources);
    for (int i = 0; i < c->nlayers; i++) {
        ts_cfg_layer *l = &c->layers[i];
        free(l->name);
        free(l->title);
        free(l->abstract_text);
        free_strv(l->keywords, l->nkeywords);
        free(l->metadata_url);
        free(l->source);
        free(l->table);
        free(l->where);
        free(l->geometry);
        free(l->mvt_features);
        free(l->srs);
        free(l->style);
        free(l->feed);
        for (int k = 0; k < l->nmvt_attrs; k++)
            free(l->mvt_attrs[k].name);
        free(l->mvt_attrs);
    }
    for (int i = 0; i < c->nfeeds; i++)
        ts_config__feed_free(&c->feeds[i]);
    free(c->feeds);
    free(c->layers);
    for (int i = 0; i < c->ntilesets; i++) {
        ts_cfg_tileset *t = &c->tilesets[i];
        free(t->name);
        free(t->title);
        free(t->attribution);
        free(t->abstract_text);
        free_strv(t->keywords, t->nkeywords);
        free(t->metadata_url);
        free_strv(t->layers, t->nlayers);
        free_strv(t->grids, t->ngrids);
        free(t->format);
        free(t->cache.type);
        free(t->cache.path);
        free(t->cache.layout);
        free(t->cache.url);
        free(t->cache.prefix);
    }
    free(c->tilesets);
    for (int i = 0; i < c->ngrids; i++)
        free(c->grids[i].name);
    free(c->grids);
    free(c->path);
    free(c->dir);
    free(c);
}

ts_config *
ts_config_parse(const char *yaml, size_t len, const char *where, const char *base_dir, ts_err *err)
{
    if (where == NULL)
        where = "(memory)";
    if (len > TS_CONFIG_MAX_BYTES) {
        TS_FAIL_AT(err, TS_ECONFIG, where, 0, 0,
                   "configuration is larger than 4 MiB (%zu bytes); refusing to parse it", len);
        return NULL;
    }
    ts_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        TS_FAIL(err, TS_ENOMEM, "config: out of memory");
        return NULL;
    }
    c->refs = 1;
    c->path = strdup(where);
    c->dir = strdup(base_dir && base_dir[0] ? base_dir : ".");
    if (c->path == NULL || c->dir == NULL) {
        TS_FAIL(err, TS_ENOMEM, "config: out of memory");
        config_free(c);
        return NULL;
    }
    size_t dl = strlen(c->dir);
    while (dl > 1 && c->dir[dl - 1] == '/')
        c->dir[--dl] = '\0';

    ts_cnode *root = NULL;
    ts_status st = ts_config__read_yaml(yaml, len, c->path, &root, err);
    if (st == TS_OK)
        st = ts_config__build(c, root, err);
    ts_config__node_free(root);
    if (st != TS_OK) {
        config_free(c);
        return NULL;
    }
    return c;
}

/* The directory part of path ("." when there is none), made absolute when possible. */
static char *
config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return NULL;
    char *abs = realpath(dir, NULL);
    if (abs == NULL)
        return dir;
    free(dir);
    return abs;
}

ts_config *
ts_config_load(const char *path, ts_err *err)
{
    char eb[128];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        if (strerror_r(e, eb, sizeof eb) != 0)
            snprintf(eb, sizeof eb, "error %d", e);
        TS_FAIL_AT(err, TS_EIO, path, 0, 0, "cannot open configuration: %s", eb);
        return NULL;
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    int too_big = 0;
    while (buf != NULL) {
        if (len == cap) {
            if (cap > TS_CONFIG_MAX_BYTES) {
                too_big = 1;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int rerr = buf != NULL && ferror(f);
    fclose(f);
    if (buf == NULL) {
        TS_FAIL(err, TS_ENOMEM, "reading %s: out of memory", path);
        return NULL;
    }
    if (too_big || len > TS_CONFIG_MAX_BYTES) {
        free(buf);
        TS_FAIL_AT(err, TS_ECONFIG, path, 0, 0,
                   "configuration is larger than 4 MiB; refusing to parse it");
        return NULL;
    }
    if (rerr) {
        free(buf);
        TS_FAIL_AT(err, TS_EIO, path, 0, 0, "read error");
        return NULL;
    }
    char *dir = config_dir(path);
    if (dir == NULL) {
        free(buf);
        TS_FAIL(err, TS_ENOMEM, "reading %s: out of memory", path);
        return NULL;
    }
    ts_config *c = ts_config_parse(buf, len, path, dir, err);
    free(dir);
    free(buf);
    return c;
}

ts_config *
ts_config_ref(ts_config *c)
{
    if (c != NULL)
        __atomic_fetch_add(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void
ts_config_unref(ts_config *c)
{
    if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
        config_free(c);
}

const ts_cfg_source *
ts_config_source(const ts_config *c, const char *name)
{
    for (int i = 0; name && i < c->nsources; i++)
        if (strcmp(c->sources[i].name, name) == 0)
            return &c->sources[i];
    return NULL;
}

const ts_cfg_layer *
ts_config_layer(const ts_config *c, const char *name)
{
    for (int i = 0; name && i < c->nlayers; i++)
        if (strcmp(c->layers[i].name, name) == 0)
            return &c->layers[i];
    return NULL;
}

const ts_cfg_tileset *
ts_config_tileset(const ts_config *c, const char *name)
{
    for (int i = 0; name && i < c->ntilesets; i++)
        if (strcmp(c->tilesets[i].name, name) == 0)
            return &c->tilesets[i];
    return NULL;
}

const ts_cfg_feed *
ts_config_feed(const ts_config *c, const char *name)
{
    for (int i = 0; name && i < c->nfeeds; i++)
        if (strcmp(c->feeds[i].name, name) == 0)
            return &c->feeds[i];
    return NULL;
}

const ts_grid *
ts_config_grid(const ts_config *c, const char *name)
{
    if (name == NULL)
        return NULL;
    for (int i = 0; i < c->ngrids; i++)
        if (strcmp(c->grids[i].name, name) == 0)
            return &c->grids[i].grid;
    return ts_grid_builtin(name);
}
