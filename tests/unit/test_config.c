/* Unit tests for config: every key of a full file, defaults, path resolution, ${NAME}
 * expansion, and one declarative case per refusal in tests/data/config/bad_*.yaml (the
 * first line of each reads "# expect: LINE:COL message-substring"). */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_int.h"

/* ---- fixtures ------------------------------------------------------------------------ */

static int
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* A directory holding the files the test configurations refer to:
 * styles/{roads,parcels}.sld, data/city.gpkg and the directory data/shapes. */
static const char *
fixture_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0] == '\0') {
        char p[PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s/cfg", ts_test_tmpdir());
        mkdir(dir, 0700);
        snprintf(p, sizeof p, "%s/styles", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/data", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/data/shapes", dir);
        mkdir(p, 0700);
        const char sld[] = "<StyledLayerDescriptor version=\"1.1.0\"/>\n";
        snprintf(p, sizeof p, "%s/styles/roads.sld", dir);
        write_file(p, sld, sizeof sld - 1);
        snprintf(p, sizeof p, "%s/styles/parcels.sld", dir);
        write_file(p, sld, sizeof sld - 1);
        snprintf(p, sizeof p, "%s/data/city.gpkg", dir);
        write_file(p, "SQLite format 3", 15);
    }
    return dir;
}

static char *
read_data(const char *name, size_t *len)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/tests/data/config/%s", ts_test_srcdir(), name);
    return read_file(p, len);
}

static ts_config *
parse_str(const char *yaml, ts_err *err)
{
    ts_err_clear(err);
    return ts_config_parse(yaml, strlen(yaml), "test.yaml", fixture_dir(), err);
}

/* ---- valid files --------------------------------------------------------------------- */

TS_TEST(config_full_every_field)
{
    setenv("TS_TEST_DB_PASSWORD", "s3cret", 1);
    size_t len;
    char *yaml = read_data("full.yaml", &len);
    TS_REQUIRE(yaml != NULL);
    ts_err err;
    ts_err_clear(&err);
    ts_config *c = ts_config_parse(yaml, len, "full.yaml", fixture_dir(), &err);
    free(yaml);
    if (c == NULL) {
        char buf[1024];
        fprintf(stderr, "  %s\n", ts_err_format(&err, buf, sizeof buf));
    }
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(c->refs, 1);
    TS_CHECK_STR(c->path, "full.yaml");
    TS_CHECK_STR(c->dir, fixture_dir());

    const ts_cfg_server *s = &c->server;
    TS_CHECK_STR(s->listen_host, "::1");
    TS_CHECK_INT(s->port, 9090);
    TS_CHECK_INT(s->render_threads, 3);
    TS_CHECK_INT(s->http_threads, 5);
    TS_CHECK_INT(s->queue_max, 100);
    TS_CHECK_INT(s->cache_mb, 512);
    TS_CHECK_INT(s->max_connections, 2000);
    TS_CHECK_STR(s->cors_origin, "https://maps.duesseldorf.de");
    TS_CHECK_STR(s->public_url, "https://tiles.example.org/tilesrv"); /* trailing '/' cut */
    TS_CHECK_STR(s->log_level, "debug");
    TS_CHECK_INT(s->line, 2);

    const ts_cfg_wms *w = &s->wms;
    TS_CHECK_STR(w->title, "Stadtplan Düsseldorf");
    TS_CHECK_STR(w->abstract_text, "Liegenschaftskarte & Sensoren <live>");
    TS_REQUIRE(w->nkeywords == 3);
    TS_CHECK_STR(w->keywords[1], "Düsseldorf");
    TS_CHECK_STR(w->online_resource, "https://www.duesseldorf.de/");
    TS_CHECK_STR(w->fees, "none");
    TS_CHECK_STR(w->access_constraints, "dl-de/by-2-0");
    TS_CHECK_STR(w->contact_person, "Erika Mustermann");
    TS_CHECK_STR(w->contact_organization, "Landeshauptstadt Düsseldorf");
    TS_CHECK_STR(w->contact_position, "GIS");
    TS_CHECK_STR(w->contact_email, "gis@duesseldorf.de");
    TS_CHECK_STR(w->contact_phone, "+49 211 0");
    TS_CHECK_STR(w->contact_address, "Brinckmannstr. 5");
    TS_CHECK_STR(w->contact_city, "Düsseldorf");
    TS_CHECK_STR(w->contact_state, "NRW");
    TS_CHECK_STR(w->contact_postcode, "40225");
    TS_CHECK_STR(w->contact_country, "Germany");
    TS_REQUIRE(w->ncrs == 4);
    TS_CHECK_STR(w->crs[0], "EPSG:25832"); /* normalised from the URN */
    TS_CHECK_STR(w->crs[1], "EPSG:3857");
    TS_CHECK_STR(w->crs[2], "CRS:84");
    TS_CHECK_STR(w->crs[3], "EPSG:4326");
    TS_CHECK_INT(w->max_width, 2048);
    TS_CHECK_INT(w->max_height, 1024);
    TS_CHECK_INT(w->max_pixels, 1048576);
    TS_CHECK_INT(w->max_layers, 8);
    TS_CHECK_INT(w->max_feature_count, 20);
    TS_CHECK_INT(w->line, 13);

    TS_REQUIRE(c->ngrids == 1);
    const ts_cfg_grid *g = &c->grids[0];
    TS_CHECK_STR(g->name, "UTM32Quad");
    TS_CHECK_INT(g->line, 38);
    TS_CHECK_INT(g->col, 3);
    TS_CHECK_STR(g->grid.name, "UTM32Quad");
    TS_CHECK_STR(g->grid.crs, "EPSG:25832");
    TS_CHECK_INT(g->grid.epsg, 25832);
    TS_CHECK_INT(g->grid.nlevels, 18);
    TS_CHECK_NEAR(g->grid.meters_per_unit, 1.0, 0);
    TS_CHECK_NEAR(g->grid.levels[0].origin_x, -46133.17, 1e-9);
    TS_CHECK_NEAR(g->grid.levels[0].origin_y, 6301219.54, 1e-9);
    TS_CHECK_NEAR(g->grid.levels[0].res, 4891.96981025128, 1e-9);
    TS_CHECK_NEAR(g->grid.levels[3].res, 4891.96981025128 / 8, 1e-9);
    TS_CHECK_INT(g->grid.levels[0].tile_w, 512);
    TS_CHECK_INT(g->grid.levels[0].matrix_w, 2);
    TS_CHECK_INT(g->grid.levels[0].matrix_h, 1);
    TS_CHECK_INT(g->grid.levels[17].matrix_w, 2u << 17);
    TS_CHECK_STR(g->grid.levels[0].id, "00");
    TS_CHECK_STR(g->grid.levels[17].id, "17");
    TS_CHECK(ts_config_grid(c, "UTM32Quad") == &g->grid);

    char want[PATH_MAX + 64];
    TS_REQUIRE(c->nsources == 3);
    TS_CHECK_STR(c->sources[0].name, "city");
    snprintf(want, sizeof want, "%s/data/city.gpkg", fixture_dir());
    TS_CHECK_STR(c->sources[0].path, want);
    TS_CHECK_STR(c->sources[0].srs, "EPSG:25832");
    TS_CHECK_INT(c->sources[0].line, 49);
    TS_CHECK_INT(c->sources[0].col, 3);
    TS_CHECK_STR(c->sources[1].name, "shapes");
    snprintf(want, sizeof want, "%s/data/shapes", fixture_dir());
    TS_CHECK_STR(c->sources[1].path, want);
    TS_CHECK(c->sources[1].srs == NULL);
    TS_CHECK_STR(c->sources[2].name, "db");
    TS_CHECK_STR(c->sources[2].path, "PG:dbname=gis host=db user=tiles password=s3cret");

    TS_REQUIRE(c->nlayers == 2);
    const ts_cfg_layer *l = ts_config_layer(c, "parcels");
    TS_REQUIRE(l == &c->layers[0]);
    TS_CHECK_STR(l->title, "Flurstücke");
    TS_CHECK_STR(l->abstract_text, "Cadastral parcels of Düsseldorf");
    TS_CHECK_STR(l->source, "city");
    TS_CHECK_STR(l->table, "ax_flurstueck");
    TS_CHECK_STR(l->where, "gemarkung = 'Bilk'");
    TS_CHECK_STR(l->srs, "EPSG:25832");
    snprintf(want, sizeof want, "%s/styles/parcels.sld", fixture_dir());
    TS_CHECK_STR(l->style, want);
    TS_CHECK_INT(l->queryable, 0);
    TS_CHECK_INT(l->line, 58);
    TS_CHECK_INT(l->col, 3);
    l = ts_config_layer(c, "roads");
    TS_REQUIRE(l != NULL);
    TS_CHECK_STR(l->title, "roads");
    TS_CHECK_STR(l->table, "roads");
    TS_CHECK(l->abstract_text == NULL && l->where == NULL && l->srs == NULL);
    TS_CHECK_INT(l->queryable, 1);

    TS_REQUIRE(c->ntilesets == 2);
    const ts_cfg_tileset *t = ts_config_tileset(c, "cadastre");
    TS_REQUIRE(t == &c->tilesets[0]);
    TS_CHECK_STR(t->title, "Liegenschaftskarte");
    TS_CHECK_STR(t->attribution,
                 "&copy; <a href=\"https://www.duesseldorf.de\">Stadt Düsseldorf</a>");
    TS_REQUIRE(t->nlayers == 2);
    TS_CHECK_STR(t->layers[0], "roads");
    TS_CHECK_STR(t->layers[1], "parcels");
    TS_REQUIRE(t->ngrids == 3);
    TS_CHECK_STR(t->grids[0], "UTM32Quad");
    TS_CHECK_STR(t->grids[1], "WebMercatorQuad");
    TS_CHECK_STR(t->grids[2], "DE_EPSG_25832_ADV");
    TS_CHECK(ts_config_grid(c, "DE_EPSG_25832_ADV") == ts_grid_builtin("DE_EPSG_25832_ADV"));
    TS_CHECK_STR(t->format, "png8");
    TS_CHECK_INT(t->metatile, 4);
    TS_CHECK_INT(t->buffer_px, 32);
    TS_CHECK_INT(t->background[0], 0xff);
    TS_CHECK_INT(t->background[1], 0xee);
    TS_CHECK_INT(t->background[2], 0xdd);
    TS_CHECK_INT(t->background[3], 0x80);
    TS_CHECK_INT(t->minzoom, 2);
    TS_CHECK_INT(t->maxzoom, 13);
    TS_CHECK_INT(t->max_age_s, 600);
    TS_CHECK_INT(t->line, 72);
    TS_CHECK_INT(t->col, 3);
    t = ts_config_tileset(c, "basic");
    TS_REQUIRE(t != NULL && t->nlayers == 1);
    TS_CHECK_STR(t->layers[0], "roads");
    TS_CHECK(ts_config_tileset(c, "nope") == NULL);
    ts_config_unref(c);
}

TS_TEST(config_defaults_when_keys_are_omitted)
{
    size_t len;
    char *yaml = read_data("defaults.yaml", &len);
    TS_REQUIRE(yaml != NULL);
    ts_err err;
    ts_config *c = ts_config_parse(yaml, len, "defaults.yaml", fixture_dir(), &err);
    free(yaml);
    TS_REQUIRE(c != NULL);
    const ts_cfg_server *s = &c->server;
    TS_CHECK_STR(s->listen_host, "127.0.0.1");
    TS_CHECK_INT(s->port, 8080);
    TS_CHECK_INT(s->render_threads, 0);
    TS_CHECK_INT(s->http_threads, 0);
    TS_CHECK_INT(s->queue_max, 256);
    TS_CHECK_INT(s->cache_mb, 256);
    TS_CHECK_INT(s->max_connections, 1024);
    TS_CHECK_STR(s->cors_origin, "*");
    TS_CHECK(s->public_url == NULL);
    TS_CHECK_STR(s->log_level, "info");
    TS_CHECK_STR(s->wms.title, "tilesrv");
    TS_CHECK(s->wms.abstract_text == NULL && s->wms.keywords == NULL && s->wms.fees == NULL);
    TS_REQUIRE(s->wms.ncrs == ts_grid_crs_count());
    for (int i = 0; i < s->wms.ncrs; i++)
        TS_CHECK_STR(s->wms.crs[i], ts_grid_crs_at(i)->id);
    TS_CHECK_INT(s->wms.max_width, 4096);
    TS_CHECK_INT(s->wms.max_height, 4096);
    TS_CHECK_INT(s->wms.max_pixels, 16777216);
    TS_CHECK_INT(s->wms.max_layers, 32);
    TS_CHECK_INT(s->wms.max_feature_count, 50);
    TS_CHECK_INT(s->wms.line, 0);
    TS_CHECK_INT(c->ngrids, 0);
    TS_REQUIRE(c->ntilesets == 1);
    const ts_cfg_tileset *t = &c->tilesets[0];
    TS_CHECK_STR(t->title, "base");
    TS_CHECK(t->attribution == NULL);
    TS_REQUIRE(t->ngrids == 1);
    TS_CHECK_STR(t->grids[0], "WebMercatorQuad");
    TS_CHECK_STR(t->format, "png");
    TS_CHECK_INT(t->metatile, 8);
    TS_CHECK_INT(t->buffer_px, 64);
    for (int i = 0; i < 4; i++)
        TS_CHECK_INT(t->background[i], 0);
    TS_CHECK_INT(t->minzoom, 0);
    TS_CHECK_INT(t->maxzoom, 24); /* WebMercatorQuad's last level */
    TS_CHECK_INT(t->max_age_s, 3600);
    TS_CHECK(ts_config_grid(c, "WebMercatorQuad") == ts_grid_webmercator_quad());
    TS_CHECK(ts_config_grid(c, "UTM32Quad") == NULL);
    ts_config_unref(c);

    /* an empty mapping and empty sections are a valid, empty configuration */
    const char *empties[] = {"{}\n", "server:\nsources:\nlayers:\ntilesets:\ngrids:\n",
                             "server: {}\nsources: {}\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        c = parse_str(empties[i], &err);
        TS_REQUIRE(c != NULL);
        TS_CHECK_INT(c->server.port, 8080);
        TS_CHECK_STR(c->server.listen_host, "127.0.0.1");
        TS_CHECK(c->nsources == 0 && c->nlayers == 0 && c->ntilesets == 0 && c->ngrids == 0);
        ts_config_unref(c);
    }
}

TS_TEST(config_maxzoom_defaults_to_the_first_grid)
{
    const char *y = "grids:\n"
                    "  G:\n"
                    "    crs: EPSG:25832\n"
                    "    origin: [0, 6000000]\n"
                    "    resolution0: 1000\n"
                    "    levels: 10\n"
                    "sources: {s: {path: data/city.gpkg}}\n"
                    "layers: {l: {source: s, style: styles/roads.sld}}\n"
                    "tilesets: {t: {layers: [l], grids: [WebMercatorQuad, G], minzoom: 3}}\n";
    ts_err err;
    ts_config *c = parse_str(y, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(c->tilesets[0].minzoom, 3);
    TS_CHECK_INT(c->tilesets[0].maxzoom, 24); /* WebMercatorQuad's; G serves 3..9 */
    TS_CHECK_INT(c->grids[0].grid.levels[0].tile_w, 256); /* tile_size default */
    TS_CHECK_INT(c->grids[0].grid.levels[0].matrix_w, 1); /* matrix_size0 default */
    TS_CHECK_STR(c->grids[0].grid.levels[9].id, "9");     /* id_width 0: no padding */
    ts_config_unref(c);
}

TS_TEST(config_mvt_attributes_and_options)
{
    const char *y = "sources: {s: {path: data/city.gpkg}}\n"
                    "layers:\n"
                    "  a:\n"
                    "    source: s\n"
                    "    style: styles/roads.sld\n"
                    "    mvt: {attributes: {flstnr: string, area_m2: double, storeys: int,\n"
                    "                       bridge: bool, kind: auto}}\n"
                    "  b: {source: s, style: styles/roads.sld, mvt: {attributes: [x, y]}}\n"
                    "  c: {source: s, style: styles/roads.sld}\n"
                    "tilesets:\n"
                    "  t: {layers: [a, b, c], mvt: {extent: 8192, buffer: 0, max_bytes: 200000}}\n"
                    "  u: {layers: [c]}\n";
    ts_err err;
    ts_config *c = parse_str(y, &err);
    TS_REQUIRE(c != NULL);
    const ts_cfg_layer *a = ts_config_layer(c, "a");
    TS_REQUIRE(a->has_mvt_attrs && a->nmvt_attrs == 5);
    TS_CHECK_STR(a->mvt_attrs[0].name, "flstnr");
    TS_CHECK_INT(a->mvt_attrs[0].type, TS_CFG_ATTR_STRING);
    TS_CHECK_INT(a->mvt_attrs[1].type, TS_CFG_ATTR_DOUBLE);
    TS_CHECK_INT(a->mvt_attrs[2].type, TS_CFG_ATTR_INT);
    TS_CHECK_INT(a->mvt_attrs[3].type, TS_CFG_ATTR_BOOL);
    TS_CHECK_INT(a->mvt_attrs[4].type, TS_CFG_ATTR_KEEP);
    TS_CHECK_INT(a->mvt_attrs[0].line, 6);
    const ts_cfg_layer *b = ts_config_layer(c, "b");
    TS_REQUIRE(b->has_mvt_attrs && b->nmvt_attrs == 2);
    TS_CHECK_STR(b->mvt_attrs[1].name, "y");
    TS_CHECK_INT(b->mvt_attrs[1].type, TS_CFG_ATTR_KEEP);
    TS_CHECK(!ts_config_layer(c, "c")->has_mvt_attrs);
    const ts_cfg_tileset *t = ts_config_tileset(c, "t");
    TS_CHECK_INT(t->mvt_extent, 8192);
    TS_CHECK_INT(t->mvt_buffer, 0);
    TS_CHECK_INT((long)t->mvt_max_bytes, 200000);
    const ts_cfg_tileset *u = ts_config_tileset(c, "u");
    TS_CHECK_INT(u->mvt_extent, 0);
    TS_CHECK_INT(u->mvt_buffer, -1);
    TS_CHECK_INT((long)u->mvt_max_bytes, 0);
    ts_config_unref(c);

    static const struct {
        const char *layer_mvt, *set_mvt, *want;
    } bad[] = {
        {"{attributes: {a: float}}", "{}", "test.yaml:1:"},
        {"{attributes: {a: string, a: int}}", "{}", "test.yaml:1:"},
        {"{attributes: [a, a]}", "{}", "listed twice"},
        {"{attributes: a}", "{}", "mapping like"},
        {"{atributes: [a]}", "{}", "did you mean 'attributes'"},
        {"[a]", "{}", "must be a mapping"},
        {"{}", "{extent: 100}", "extent"},
        {"{}", "{buffer: 40000}", "8 x the extent"},
        {"{}", "{max: 1}", "unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yb[600];
        snprintf(yb, sizeof yb,
                 "layers: {a: {source: s, style: styles/roads.sld, mvt: %s}}\n"
                 "sources: {s: {path: data/city.gpkg}}\n"
                 "tilesets: {t: {layers: [a], mvt: %s}}\n",
                 bad[i].layer_mvt, bad[i].set_mvt);
        c = parse_str(yb, &err);
        TS_CHECK(c == NULL);
        ts_config_unref(c);
        char msg[600];
        ts_err_format(&err, msg, sizeof msg);
        if (strstr(msg, bad[i].want) == NULL)
            ts_test_fail(__FILE__, __LINE__, "case %zu: '%s' lacks '%s'", i, msg, bad[i].want);
    }
}

TS_TEST(config_listen_forms)
{
    static const struct {
        const char *listen, *host;
        int port;
    } cases[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"[::1]:8080", "::1", 8080},
        {":8080", "0.0.0.0", 8080},
        {"[::]:1", "::", 1},
        {"tiles.local:65535", "tiles.local", 65535},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char y[128];
        snprintf(y, sizeof y, "server:\n  listen: \"%s\"\n", cases[i].listen);
        ts_err err;
        ts_config *c = parse_str(y, &err);
        TS_REQUIRE(c != NULL);
        TS_CHECK_STR(c->server.listen_host, cases[i].host);
        TS_CHECK_INT(c->server.port, cases[i].port);
        ts_config_unref(c);
    }
    const char *bad[] = {"8080", "[::1]8080", "[]:80", "host:", "host:80x", "host:+80", "a b:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char y[128];
        snprintf(y, sizeof y, "server:\n  listen: \"%s\"\n", bad[i]);
        ts_err err;
        TS_CHECK(parse_str(y, &err) == NULL);
        TS_CHECK_INT(err.code, TS_ECONFIG);
        TS_CHECK_INT(err.input_line, 2);
        TS_CHECK_INT(err.input_col, 11);
    }
}

TS_TEST(config_scalars_quoted_stay_strings)
{
    ts_err err;
    /* plain scalars are fine where a string is expected: title 8 is "8", yes is "yes" */
    ts_config *c = parse_str("sources: {s: {path: data/city.gpkg}}\n"
                             "layers:\n"
                             "  l: {source: s, style: styles/roads.sld, title: 8,"
                             " table: yes, queryable: YES}\n"
                             "  m: {source: s, style: styles/roads.sld, queryable: false,"
                             " where: ~, srs: \"\"}\n",
                             &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_STR(c->layers[0].title, "8");
    TS_CHECK_STR(c->layers[0].table, "yes");
    TS_CHECK_INT(c->layers[0].queryable, 1);
    TS_CHECK_INT(c->layers[1].queryable, 0);
    TS_CHECK(c->layers[1].where == NULL); /* null and "" leave optional strings unset */
    TS_CHECK(c->layers[1].srs == NULL);
    ts_config_unref(c);
    /* quoted values are strings, also where a number or a boolean is expected */
    TS_CHECK(parse_str("server: {queue_max: '10'}\n", &err) == NULL);
    TS_CHECK(strstr(err.msg, "remove the quotes") != NULL);
    TS_CHECK(parse_str("layers: {l: {queryable: \"yes\"}}\n", &err) == NULL);
    TS_CHECK(strstr(err.msg, "must be a boolean") != NULL);
    /* integers: base 10, optional sign, nothing else */
    TS_REQUIRE((c = parse_str("server: {queue_max: +12, render_threads: 007}\n", &err)) != NULL);
    TS_CHECK_INT(c->server.queue_max, 12);
    TS_CHECK_INT(c->server.render_threads, 7);
    ts_config_unref(c);
    const char *bad_ints[] = {"0x10", "1e3", "12px", "1_000", "", "~", "[1]", "1.0"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
        char y[96];
        snprintf(y, sizeof y, "server:\n  queue_max: %s\n", bad_ints[i]);
        c = parse_str(y, &err);
        TS_CHECK(c == NULL);
        ts_config_unref(c);
        TS_CHECK(strstr(err.msg, "'queue_max' in server must be an integer") != NULL);
    }
}

/* ---- paths --------------------------------------------------------------------------- */

TS_TEST(config_load_resolves_paths_against_the_file)
{
    setenv("TS_TEST_DB_PASSWORD", "x", 1);
    size_t len;
    char *yaml = read_data("full.yaml", &len);
    TS_REQUIRE(yaml != NULL);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/full.yaml", fixture_dir());
    TS_REQUIRE(write_file(path, yaml, len) == 0);
    free(yaml);
    ts_err err;
    ts_err_clear(&err);
    ts_config *c = ts_config_load(path, &err);
    TS_REQUIRE(c != NULL);
    char real[PATH_MAX], want[PATH_MAX + 64];
    TS_REQUIRE(realpath(fixture_dir(), real) != NULL);
    TS_CHECK_STR(c->path, path);
    TS_CHECK_STR(c->dir, real);
    snprintf(want, sizeof want, "%s/styles/parcels.sld", real);
    TS_CHECK_STR(c->layers[0].style, want);
    snprintf(want, sizeof want, "%s/data/city.gpkg", real);
    TS_CHECK_STR(c->sources[0].path, want);
    ts_config_unref(c);

    /* relative file name: resolved against its own directory, not the caller's */
    char cwd[PATH_MAX];
    TS_REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    TS_REQUIRE(chdir(ts_test_tmpdir()) == 0);
    c = ts_config_load("cfg/full.yaml", &err);
    TS_CHECK(chdir(cwd) == 0);
    TS_REQUIRE(c != NULL);
    TS_CHECK_STR(c->dir, real);
    ts_config_unref(c);

    TS_CHECK(ts_config_load("/nonexistent/tilesrv.yaml", &err) == NULL);
    TS_CHECK_INT(err.code, TS_EIO);
    TS_CHECK_STR(err.input, "/nonexistent/tilesrv.yaml");
}

TS_TEST(config_paths_absolute_and_connection_strings)
{
    char abs_style[PATH_MAX + 64], y[2 * PATH_MAX + 512];
    snprintf(abs_style, sizeof abs_style, "%s/styles/roads.sld", fixture_dir());
    snprintf(y, sizeof y,
             "sources:\n"
             "  a: {path: \"PG:dbname=gis\"}\n"
             "  b: {path: \"GPKG:/nowhere/x.gpkg:table\"}\n"
             "  c: {path: \"/vsizip/nowhere.zip/x.shp\"}\n"
             "  d: {path: \"https://example.org/x.geojson\"}\n"
             "layers: {l: {source: a, style: \"%s\"}}\n",
             abs_style);
    ts_err err;
    ts_config *c = ts_config_parse(y, strlen(y), "p.yaml", "/nonexistent-base", &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_STR(c->sources[0].path, "PG:dbname=gis");
    TS_CHECK_STR(c->sources[1].path, "GPKG:/nowhere/x.gpkg:table");
    TS_CHECK_STR(c->sources[2].path, "/vsizip/nowhere.zip/x.shp");
    TS_CHECK_STR(c->sources[3].path, "https://example.org/x.geojson");
    TS_CHECK_STR(c->layers[0].style, abs_style); /* absolute: taken as is */
    ts_config_unref(c);
    /* a one-letter prefix is no connection string: "C:x" is a relative file name */
    const char *one = "sources: {a: {path: \"C:x.gpkg\"}}\n";
    TS_CHECK(parse_str(one, &err) == NULL);
    TS_CHECK(strstr(err.msg, "not found") != NULL);
    /* a style is always a file, even if it looks like a connection string */
    const char *st = "sources: {a: {path: \"PG:x\"}}\nlayers: {l: {source: a, style: \"PG:x\"}}\n";
    TS_CHECK(parse_str(st, &err) == NULL);
    TS_CHECK(strstr(err.msg, "style file of layer 'l' not found") != NULL);
    /* base_dir NULL means "." */
    c = ts_config_parse("{}", 2, NULL, NULL, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_STR(c->dir, ".");
    TS_CHECK_STR(c->path, "(memory)");
    ts_config_unref(c);
}

/* ---- ${NAME} ------------------------------------------------------------------------- */

TS_TEST(config_env_expansion)
{
    setenv("TS_TEST_HOST", "10.1.2.3", 1);
    setenv("TS_TEST_PORT", "8181", 1);
    setenv("TS_TEST_EMPTY", "", 1);
    setenv("TS_TEST_PW", "p$a{s}s", 1); /* values are not expanded again */
    unsetenv("TS_TEST_UNSET");
    ts_err err;
    ts_config *c = parse_str("server:\n"
                             "  listen: \"${TS_TEST_HOST}:${TS_TEST_PORT}\"\n"
                             "  cors_origin: \"a${TS_TEST_EMPTY}b\"\n"
                             "  public_url: \"https://x/$${NOT_EXPANDED}/$5/$\"\n"
                             "sources:\n"
                             "  db: {path: \"PG:password=${TS_TEST_PW} user=u\"}\n",
                             &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_STR(c->server.listen_host, "10.1.2.3");
    TS_CHECK_INT(c->server.port, 8181);
    TS_CHECK_STR(c->server.cors_origin, "ab");
    TS_CHECK_STR(c->server.public_url, "https://x/${NOT_EXPANDED}/$5/$");
    TS_CHECK_STR(c->sources[0].path, "PG:password=p$a{s}s user=u");
    ts_config_unref(c);

    c = parse_str("server:\n  log_level: debug\n  cors_origin: \"x${TS_TEST_UNSET}\"\n", &err);
    TS_CHECK(c == NULL);
    TS_CHECK_INT(err.code, TS_ECONFIG);
    TS_CHECK_INT(err.input_line, 3);
    TS_CHECK_INT(err.input_col, 16);
    TS_CHECK(strstr(err.msg, "'TS_TEST_UNSET' is not set") != NULL);
    const char *bad[] = {"${}", "${A", "${A-B}", "${9A}", "x${ A}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char y[96];
        snprintf(y, sizeof y, "server: {cors_origin: \"%s\"}\n", bad[i]);
        TS_CHECK(parse_str(y, &err) == NULL);
        TS_CHECK(strstr(err.msg, "bad environment reference") != NULL);
    }
    /* keys are not expanded */
    TS_CHECK(parse_str("server: {\"${TS_TEST_HOST}\": 1}\n", &err) == NULL);
    TS_CHECK(strstr(err.msg, "unknown key '${TS_TEST_HOST}'") != NULL);
}

/* ---- refusals ------------------------------------------------------------------------ */

static int
check_bad_case(const char *name)
{
    size_t len;
    char *yaml = read_data(name, &len);
    if (yaml == NULL) {
        ts_test_fail(__FILE__, __LINE__, "%s: cannot read", name);
        return 0;
    }
    int line = 0, col = 0, off = 0;
    if (sscanf(yaml, "# expect: %d:%d %n", &line, &col, &off) != 2 || off == 0) {
        ts_test_fail(__FILE__, __LINE__, "%s: no '# expect: LINE:COL message' line", name);
        free(yaml);
        return 0;
    }
    char want[512];
    const char *eol = strchr(yaml + off, '\n');
    size_t wl = eol ? (size_t)(eol - (yaml + off)) : strlen(yaml + off);
    snprintf(want, sizeof want, "%.*s", (int)wl, yaml + off);

    ts_err err;
    ts_err_clear(&err);
    ts_config *c = ts_config_parse(yaml, len, name, fixture_dir(), &err);
    free(yaml);
    char got[1024];
    ts_err_format(&err, got, sizeof got);
    int ok = c == NULL && err.code == TS_ECONFIG && strcmp(err.input, name) == 0 &&
             err.input_line == line && err.input_col == col && strstr(err.msg, want) != NULL;
    if (!ok)
        ts_test_fail(__FILE__, __LINE__, "%s: want %d:%d \"%s\", got %s%s", name, line, col, want,
                     c ? "a config" : "", c ? "" : got);
    ts_config_unref(c);
    return 1;
}

TS_TEST(config_bad_files_report_line_and_column)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/tests/data/config", ts_test_srcdir());
    DIR *d = opendir(dir);
    TS_REQUIRE(d != NULL);
    int n = 0;
    struct dirent *e;
    setenv("TS_TEST_DB_PASSWORD", "x", 1);
    unsetenv("TS_CONFIG_TEST_UNDEFINED");
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, "bad_", 4) == 0 && l > 5 && strcmp(e->d_name + l - 5, ".yaml") == 0)
            n += check_bad_case(e->d_name);
    }
    closedir(d);
    TS_CHECK(n >= 68); /* the cases must actually be there */
}

TS_TEST(config_message_format)
{
    ts_err err;
    TS_CHECK(parse_str("tilesets:\n  cadastre:\n    metatle: 4\n", &err) == NULL);
    char buf[512];
    TS_CHECK_STR(ts_err_format(&err, buf, sizeof buf),
                 "test.yaml:3:5: unknown key 'metatle' in tileset 'cadastre' (did you mean "
                 "'metatile'?)");
}

TS_TEST(config_size_limit)
{
    /* exactly 4 MiB (a valid mapping padded by a comment) is accepted, one byte more not */
    size_t max = (size_t)4 << 20;
    char *big = malloc(max + 2);
    TS_REQUIRE(big != NULL);
    memcpy(big, "{}\n#", 4);
    memset(big + 4, 'x', max - 4);
    big[max] = '\n';
    big[max + 1] = '\0';
    ts_err err;
    ts_config *c = ts_config_parse(big, max, "big.yaml", NULL, &err);
    TS_CHECK(c != NULL);
    ts_config_unref(c);
    TS_CHECK(ts_config_parse(big, max + 1, "big.yaml", NULL, &err) == NULL);
    TS_CHECK_INT(err.code, TS_ECONFIG);
    TS_CHECK(strstr(err.msg, "larger than 4 MiB") != NULL);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/big.yaml", ts_test_tmpdir());
    TS_REQUIRE(write_file(path, big, max + 1) == 0);
    free(big);
    TS_CHECK(ts_config_load(path, &err) == NULL);
    TS_CHECK(strstr(err.msg, "larger than 4 MiB") != NULL);
    unlink(path);
}

TS_TEST(config_depth_limit)
{
    /* 32 nested sequences are fine for the YAML reader (the key is then unknown), 33 not */
    char y[128];
    snprintf(y, sizeof y, "a: %.*s%.*s\n", 31, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 31,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    ts_err err;
    TS_CHECK(parse_str(y, &err) == NULL);
    TS_CHECK(strstr(err.msg, "unknown key 'a'") != NULL);
    snprintf(y, sizeof y, "a: %.*s%.*s\n", 32, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    TS_CHECK(parse_str(y, &err) == NULL);
    TS_CHECK(strstr(err.msg, "nesting deeper than 32") != NULL);
    TS_CHECK_INT(err.input_col, 35);
}

TS_TEST(config_malformed_input_is_an_error_not_a_crash)
{
    static const struct {
        const char *yaml;
        size_t len;
    } cases[] = {
        {"", 0},
        {"# only a comment\n", 17},
        {"\xff\xfe\x00\x00garbage", 11},
        {"server:\n  listen: \"\xc3\x28\"\n", 23}, /* invalid UTF-8 */
        {"server: {listen: \"a\"\x01}\n", 23},     /* control character */
        {"\t", 1},
        {"'", 1},
        {"{a: [b, {c: ", 12},
        {"[[[[[[", 6},
        {"- - - - -\n", 10},
        {"? ? ? ?\n", 8},
        {"%YAML 2.0\n---\n{}\n", 17},
        {"!<tag> {}", 9},
        {"&a [*a]", 7},
        {"server: {listen: \"\\u0000\"}", 26},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_err err;
        ts_err_clear(&err);
        ts_config *c = ts_config_parse(cases[i].yaml, cases[i].len, "m.yaml", NULL, &err);
        TS_CHECK(c == NULL);
        ts_config_unref(c);
        TS_CHECK_INT(err.code, TS_ECONFIG);
        TS_CHECK(err.input_line >= 1 && err.input_col >= 1);
        TS_CHECK(err.msg[0] != '\0');
    }
    /* binary garbage from a fixed LCG: any outcome but a crash or a leak is fine */
    uint32_t x = 12345;
    char buf[512];
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(round * 7 % 500) + 1;
        for (size_t i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            buf[i] = (char)(x >> 24);
        }
        ts_err err;
        ts_config *c = ts_config_parse(buf, n, "garbage", NULL, &err);
        TS_CHECK(c == NULL);
        ts_config_unref(c);
    }
    /* every prefix of the full configuration: a config or an error, never a crash */
    setenv("TS_TEST_DB_PASSWORD", "x", 1);
    size_t len;
    char *yaml = read_data("full.yaml", &len);
    TS_REQUIRE(yaml != NULL);
    int accepted = 0;
    for (size_t n = 0; n <= len; n++) {
        ts_err err;
        ts_config *c = ts_config_parse(yaml, n, "full.yaml", fixture_dir(), &err);
        accepted += c != NULL;
        ts_config_unref(c);
    }
    free(yaml);
    TS_CHECK(accepted > 0);
}

/* ---- ownership ----------------------------------------------------------------------- */

static void *
ref_worker(void *arg)
{
    ts_config *c = arg;
    for (int i = 0; i < 20000; i++) {
        ts_config *r = ts_config_ref(c);
        ts_config_unref(r);
    }
    ts_config_unref(c); /* each thread owns one reference */
    return NULL;
}

TS_TEST(config_refcount_across_threads)
{
    ts_err err;
    ts_config *c = parse_str("server: {log_level: warn}\n", &err);
    TS_REQUIRE(c != NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ts_config_ref(c);
    TS_CHECK_INT(c->refs, 5);
    for (int i = 0; i < 4; i++)
        TS_REQUIRE(pthread_create(&th[i], NULL, ref_worker, c) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    TS_CHECK_INT(c->refs, 1);
    TS_CHECK_STR(c->server.log_level, "warn");
    ts_config_unref(c); /* frees; ASan reports any leak or double free */
    ts_config_unref(NULL);
    TS_CHECK(ts_config_ref(NULL) == NULL);
}

/* ---- internals ----------------------------------------------------------------------- */

TS_TEST(config_edit_distance_and_suggestions)
{
    TS_CHECK_INT(ts_config__edit_distance("metatle", "metatile", 2), 1);
    TS_CHECK_INT(ts_config__edit_distance("mteatile", "metatile", 2), 1); /* transposition */
    TS_CHECK_INT(ts_config__edit_distance("maxzom", "maxzoom", 2), 1);
    TS_CHECK_INT(ts_config__edit_distance("abc", "abc", 2), 0);
    TS_CHECK_INT(ts_config__edit_distance("colour", "format", 2), 3);
    TS_CHECK_INT(ts_config__edit_distance("", "ab", 2), 2);
    TS_CHECK_INT(ts_config__edit_distance("", "abc", 2), 3);
    ts_cfg_suggest s;
    ts_config__suggest_init(&s, "minzom");
    ts_config__suggest_add(&s, "maxzoom");
    ts_config__suggest_add(&s, "minzoom");
    TS_CHECK_STR(s.best, "minzoom");
    TS_CHECK_INT(s.dist, 1);
    ts_config__suggest_init(&s, "zzzzzz");
    ts_config__suggest_add(&s, "minzoom");
    TS_CHECK(s.best == NULL);
    TS_CHECK(ts_config__name_ok("a.b-c_9"));
    TS_CHECK(!ts_config__name_ok(""));
    TS_CHECK(!ts_config__name_ok("a b"));
    TS_CHECK(!ts_config__name_ok("ä"));
    TS_CHECK(!ts_config__name_ok("a/b"));
}

/* ---- feeds ----------------------------------------------------------------------------- */

static const char feed_yaml[] =
    "feeds:\n"
    "  air:\n"
    "    kind: sensorthings\n"
    "    url: https://iot.example.de/FROST-Server/v1.1\n"
    "    filter: \"Datastreams/ObservedProperty/name eq 'NO2'\"\n"
    "    values: {\"Stickstoffdioxid (NO2)\": no2, \"Feinstaub (PM10)\": pm10}\n"
    "    fields: [no2, pm10]\n"
    "    poll: 0\n"
    "    stale_after: 7200\n"
    "    mqtt: {host: localhost, port: 1884, qos: 0, keepalive: 10}\n"
    "  park:\n"
    "    kind: lorawan\n"
    "    mqtt: {host: lns, topics: [\"v3/+/devices/+/up\"]}\n"
    "    lorawan: {format: tts, decoder: bosch_pls}\n"
    "    devices: {path: data/city.gpkg, layer: bays, id_field: dev_eui}\n"
    "    states: {\"true\": occupied, \"false\": free}\n"
    "  sim:\n"
    "    kind: demo\n"
    "    simulate: parking\n"
    "    bays: {path: data/city.gpkg}\n"
    "    seed: 42\n"
    "layers:\n"
    "  bays:\n"
    "    feed: park\n"
    "    style: styles/roads.sld\n"
    "tilesets:\n"
    "  parking: {layers: [bays], metatile: 1}\n";

TS_TEST(config_feeds_parsed_with_defaults_left_to_the_feed)
{
    ts_err err;
    ts_config *c = parse_str(feed_yaml, &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_INT(c->nfeeds, 3);
    const ts_cfg_feed *a = ts_config_feed(c, "air");
    TS_REQUIRE(a != NULL);
    TS_CHECK_STR(a->kind, "sensorthings");
    TS_CHECK_STR(a->url, "https://iot.example.de/FROST-Server/v1.1");
    TS_CHECK_INT(a->nvalues, 2);
    TS_CHECK_STR(a->values[1].match, "Feinstaub (PM10)");
    TS_CHECK_STR(a->values[1].to, "pm10");
    TS_CHECK_INT(a->nfields, 2);
    TS_CHECK_STR(a->fields[0], "no2");
    TS_CHECK((a->set & TS_CFG_FEED_POLL) != 0);
    TS_CHECK_NEAR(a->poll_s, 0, 0);
    TS_CHECK_NEAR(a->stale_after_s, 7200, 0);
    TS_CHECK((a->set & TS_CFG_FEED_TIMEOUT) == 0);
    TS_CHECK_STR(a->mqtt.host, "localhost");
    TS_CHECK_INT(a->mqtt.port, 1884);
    TS_CHECK((a->set & TS_CFG_FEED_MQTT_QOS) != 0);
    TS_CHECK_INT(a->mqtt.qos, 0);
    const ts_cfg_feed *p = ts_config_feed(c, "park");
    TS_REQUIRE(p != NULL);
    TS_CHECK_STR(p->lorawan_format, "tts");
    TS_CHECK_STR(p->lorawan_decoder, "bosch_pls");
    TS_CHECK(p->lorawan_key == NULL);
    TS_CHECK(strstr(p->devices.path, "/cfg/data/city.gpkg") != NULL);
    TS_CHECK_STR(p->devices.id_field, "dev_eui");
    TS_CHECK_INT(p->nstates, 2);
    TS_CHECK_STR(p->states[0].match, "true");
    const ts_cfg_feed *s = ts_config_feed(c, "sim");
    TS_REQUIRE(s != NULL);
    TS_CHECK_STR(s->simulate, "parking");
    TS_CHECK(s->seed == 42);
    TS_CHECK(s->bays.layer == NULL);
    const ts_cfg_layer *l = ts_config_layer(c, "bays");
    TS_REQUIRE(l != NULL);
    TS_CHECK_STR(l->feed, "park");
    TS_CHECK(l->source == NULL && l->table == NULL);
    TS_CHECK(ts_config_feed(c, "nope") == NULL);
    /* the same entry parses to the same hash; a changed one does not */
    ts_config *c2 = parse_str(feed_yaml, &err);
    TS_REQUIRE(c2 != NULL);
    TS_CHECK(ts_config_feed(c2, "air")->hash == a->hash);
    TS_CHECK(ts_config_feed(c2, "park")->hash != a->hash);
    ts_config_unref(c2);
    ts_config_unref(c);
}

/* Each bad feed file is refused at the line and column of the offending node. */
TS_TEST(config_feeds_bad_values_report_position)
{
    static const struct {
        const char *yaml;
        int line, col;
        const char *msg;
    } bad[] = {
        {"feeds:\n  f: {kind: mqtt}\n", 2, 13, "unknown kind 'mqtt'"},
        {"feeds:\n  f: {url: http://x}\n", 2, 3, "missing required key 'kind'"},
        {"feeds:\n  f: {kind: geojson}\n", 2, 3, "missing required key 'url'"},
        {"feeds:\n  f: {kind: geojson, url: ftp://x}\n", 2, 27, "must start with http://"},
        {"feeds:\n  f:\n    kind: geojson\n    url: http://x\n    poll: -1\n", 5, 11,
         "'poll' in feed 'f' must be in"},
        {"feeds:\n  f:\n    kind: geojson\n    url: http://x\n    pol: 1\n", 5, 5,
         "did you mean 'poll'"},
        {"feeds:\n  f:\n    kind: geojson\n    url: http://x\n    simulate: air\n", 5, 5,
         "does not apply to feed 'f' (kind geojson)"},
        {"feeds:\n  f:\n    kind: sensorthings\n    url: http://x\n    mqtt: {host: h, qos: 3}\n",
         5, 26, "'mqtt.qos' in feed 'f'"},
        {"feeds:\n  f:\n    kind: sensorthings\n    url: http://x\n    mqtt: {port: 1}\n", 5, 11,
         "needs a 'host'"},
        {"feeds:\n  f:\n    kind: lorawan\n    mqtt: {host: h}\n", 2, 3,
         "needs mqtt.host, mqtt.topics and devices.path"},
        {"feeds:\n  f: {kind: demo, simulate: parking, bays: {path: nothere.gpkg}}\n", 2, 51,
         "not found"},
        {"feeds:\n  f: {kind: demo, simulate: air}\n", 2, 3, "needs air_csv"},
        {"feeds:\n  f:\n    kind: sensorthings\n    url: http://x\n    states: [a]\n", 5, 13,
         "must be a mapping"},
        {"feeds:\n  f:\n    kind: sensorthings\n    url: http://x\n"
         "    lorawan: {format: tts}\n",
         5, 5, "does not apply"},
        {"feeds:\n  \"b d\": {kind: demo}\n", 2, 3, "bad feed name"},
        {"feeds:\n  f: {kind: demo, simulate: parking, bays: {path: data/city.gpkg}}\n"
         "layers:\n  l: {feed: g, style: styles/roads.sld}\n",
         4, 13, "undefined feed 'g' (did you mean 'f'?)"},
        {"feeds:\n  f: {kind: demo, simulate: parking, bays: {path: data/city.gpkg}}\n"
         "sources:\n  s: {path: data/city.gpkg}\n"
         "layers:\n  l: {feed: f, source: s, style: styles/roads.sld}\n",
         6, 24, "both a source and a feed"},
        {"feeds:\n  f: {kind: demo, simulate: parking, bays: {path: data/city.gpkg}}\n"
         "layers:\n  l: {feed: f, table: t, style: styles/roads.sld}\n",
         4, 23, "'table' in layer 'l' applies to source layers"},
        {"layers:\n  l: {style: styles/roads.sld}\n", 2, 3, "missing required key 'source'"},
        {"feeds:\n  f: {kind: demo, simulate: parking, bays: {path: data/city.gpkg}}\n"
         "layers:\n  l: {feed: f, style: styles/roads.sld}\n"
         "tilesets:\n  t: {layers: [l], cache: {type: disk, path: tiles}}\n",
         6, 27, "draws the live layer 'l' (feed 'f')"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_err err;
        ts_config *c = parse_str(bad[i].yaml, &err);
        TS_CHECK(c == NULL);
        ts_config_unref(c);
        TS_CHECK_INT(err.code, TS_ECONFIG);
        TS_CHECK_INT(err.input_line, bad[i].line);
        TS_CHECK_INT(err.input_col, bad[i].col);
        if (strstr(err.msg, bad[i].msg) == NULL)
            TS_CHECK_STR(err.msg, bad[i].msg);
    }
}

TS_TEST(config_cache_type_redis)
{
    static const char head[] = "sources:\n  city: {path: data/city.gpkg}\n"
                               "layers:\n  roads: {source: city, style: styles/roads.sld}\n"
                               "tilesets:\n  base:\n    layers: [roads]\n";
    char y[1024];
    ts_err err;
    setenv("TS_TEST_REDIS_PW", "s3cret", 1);
    snprintf(y, sizeof y, "%s    cache: {type: redis, url: \"redis://:${TS_TEST_REDIS_PW}@10.0.0.5:6380/2\","
             " prefix: \"dus:\", ttl: 86400, lock_timeout: 10}\n", head);
    ts_config *c = parse_str(y, &err);
    TS_REQUIRE(c != NULL);
    const ts_cfg_cache *cc = &ts_config_tileset(c, "base")->cache;
    TS_CHECK_STR(cc->type, "redis");
    TS_CHECK_STR(cc->url, "redis://:s3cret@10.0.0.5:6380/2");
    TS_CHECK_STR(cc->prefix, "dus:");
    TS_CHECK_INT(cc->ttl_s, 86400);
    TS_CHECK_INT(cc->lock_timeout_s, 10);
    TS_CHECK(cc->path == NULL);
    ts_config_unref(c);
    /* defaults */
    snprintf(y, sizeof y, "%s    cache: {type: redis}\n", head);
    c = parse_str(y, &err);
    TS_REQUIRE(c != NULL);
    cc = &ts_config_tileset(c, "base")->cache;
    TS_CHECK_STR(cc->url, "redis://127.0.0.1:6379/0");
    TS_CHECK_STR(cc->prefix, "tilesrv:");
    TS_CHECK_INT(cc->ttl_s, 0);
    TS_CHECK_INT(cc->lock_timeout_s, 30);
    ts_config_unref(c);
    /* refusals */
    static const struct {
        const char *cache, *msg;
    } bad[] = {
        {"{type: redis, path: x}", "takes a 'url', not a 'path'"},
        {"{type: redis, url: \"http://h\"}", "must look like redis://"},
        /* what the cache could not connect with: refused here with file:line, not at the
         * first render (tilesrv check had said ok) */
        {"{type: redis, url: \"redis://:pw@127.0.0.1:notaport/0\"}", "must look like redis://"},
        {"{type: redis, url: \"redis://h:99999\"}", "must look like redis://"},
        {"{type: redis, url: \"redis://u:pw@h:6379/x\"}", "must look like redis://"},
        {"{type: disk, path: d, url: \"redis://h\"}", "'url' applies to type redis only"},
        {"{type: mbtiles, path: m.mbtiles, ttl: 5}", "'ttl' applies to type redis only"},
        {"{type: memory, prefix: p}", "'prefix' applies to type redis only"},
        {"{type: redis, lock_timeout: 0}", "lock_timeout"},
        {"{type: redis, layout: tc}", "'layout' applies to type disk only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(y, sizeof y, "%s    cache: %s\n", head, bad[i].cache);
        TS_CHECK(parse_str(y, &err) == NULL);
        if (strstr(err.msg, bad[i].msg) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, err.msg);
        TS_CHECK(strstr(err.msg, bad[i].msg) != NULL);
    }
}

TS_TEST(config_source_mode_per_request)
{
    ts_err err;
    ts_err_clear(&err);
    ts_config *c = parse_str("sources:\n"
                             "  live: {path: \"PG:dbname=gis\", mode: per_request, "
                             "query_timeout: 3}\n"
                             "  db: {path: \"PG:dbname=gis\"}\n",
                             &err);
    TS_REQUIRE(c != NULL);
    TS_CHECK_STR(c->sources[0].mode, "per_request");
    TS_CHECK_INT(c->sources[0].query_timeout_s, 3);
    TS_CHECK(c->sources[1].mode == NULL); /* load */
    TS_CHECK_INT(c->sources[1].query_timeout_s, 10);
    ts_config_unref(c);
    c = parse_str("sources:\n  live: {path: \"PG:dbname=gis\", query_timeout: 0}\n", &err);
    TS_CHECK(c == NULL);
    ts_config_unref(c);
}
