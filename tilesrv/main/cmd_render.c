/* main/cmd_render.c — `tilesrv render`: one tile to a file, through the serving pipeline: a
 * PNG, or the tile's vector tile (uncompressed MVT) with --format pbf or an -o ending in
 * .mvt / .pbf. Always drawn from the data and styles as they are now: the tileset's
 * persistent cache is neither read nor written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "main/cli.h"
#include "util/log.h"

/* Parse "Z/X/Y" or "Z/X/Y@2x". */
static int
parse_tile(const char *s, int *z, unsigned *x, unsigned *y, int *scale)
{
    char tail[8] = "";
    int n = 0;
    *scale = 1;
    if (sscanf(s, "%d/%u/%u%n", z, x, y, &n) != 3)
        return -1;
    snprintf(tail, sizeof tail, "%s", s + n);
    if (strcmp(tail, "@2x") == 0)
        *scale = 2;
    else if (tail[0] != '\0')
        return -1;
    return 0;
}

/* 1 when s ends with suffix. */
static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
ts_cmd_render(const ts_cli *o)
{
    int z, scale;
    unsigned x, y;
    if (o->tileset == NULL || o->tile == NULL || parse_tile(o->tile, &z, &x, &y, &scale) != 0) {
        fprintf(stderr, "usage: tilesrv render [-c FILE] --tileset NAME Z/X/Y[@2x] "
                        "[-o OUT.png|OUT.mvt] [--format png|pbf]\n");
        return 2;
    }
    if (o->hidpi)
        scale = 2;
    int vector = o->out != NULL && (ends_with(o->out, ".mvt") || ends_with(o->out, ".pbf"));
    if (o->format != NULL) {
        if (strcmp(o->format, "pbf") == 0 || strcmp(o->format, "mvt") == 0) {
            vector = 1;
        } else if (strcmp(o->format, "png") != 0) {
            fprintf(stderr, "tilesrv render: --format is png or pbf, not '%s'\n", o->format);
            return 2;
        } else if (vector) {
            fprintf(stderr, "tilesrv render: --format png but -o %s names a vector tile\n", o->out);
            return 2;
        }
    }
    if (vector && o->out != NULL && ends_with(o->out, ".png")) {
        fprintf(stderr, "tilesrv render: --format pbf but -o %s names a PNG\n", o->out);
        return 2;
    }
    if (vector && scale != 1) {
        fprintf(stderr, "tilesrv render: vector tiles have no @2x\n");
        return 2;
    }
    if (o->out == NULL && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "tilesrv: give -o OUT.%s (refusing to write a tile to a terminal)\n",
                vector ? "mvt" : "png");
        return 2;
    }
    ts_config *cfg = ts_cli_load_config(o);
    if (cfg == NULL)
        return 1;
    ts_err err;
    ts_err_clear(&err);
    ts_service *svc = ts_service_load_tileset(cfg, o->tileset, &err); /* its data alone */
    ts_config_unref(cfg);
    if (svc == NULL) {
        ts_cli_print_err("cannot load the service", &err);
        return 1;
    }
    int threads = o->threads > 0 ? o->threads : ts_cli_ncpu();
    /* a fresh drawing: the configured persistent caches are neither read nor written */
    ts_pipeline_opts po = {threads, 16, 64u << 20, 1, 0};
    ts_pipeline *p = ts_pipeline_new(svc, &po, &err);
    ts_service_unref(svc);
    if (p == NULL) {
        ts_cli_print_err("cannot start the render pool", &err);
        return 1;
    }
    ts_tile_req r = {o->tileset, z, x, y, scale};
    ts_tile *t = NULL;
    ts_status st = vector ? ts_pipeline_mvt(p, &r, NULL, 0, &t, &err)
                          : ts_pipeline_get(p, &r, &t, &err);
    int rc = 0;
    if (st != TS_OK) {
        ts_cli_print_err("render failed", &err);
        rc = 1;
    } else {
        FILE *f = o->out ? fopen(o->out, "wb") : stdout;
        int ok = f != NULL && fwrite(t->data, 1, t->len, f) == t->len;
        int e = errno;
        if (f != NULL && o->out && fclose(f) != 0 && ok) {
            ok = 0;
            e = errno;
        }
        if (!ok) {
            char why[128];
            if (strerror_r(e, why, sizeof why) != 0)
                snprintf(why, sizeof why, "error %d", e);
            fprintf(stderr, "tilesrv: cannot write %s: %s\n", o->out ? o->out : "stdout", why);
            rc = 1;
        } else if (o->out) {
            ts_info("wrote %s (%zu bytes)", o->out, t->len);
        }
        ts_tile_unref(t);
    }
    ts_pipeline_free(p);
    return rc;
}
