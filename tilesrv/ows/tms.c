/* ows/tms.c — OSGeo TMS 1.0.0 documents: the TileMapService listing and one TileMap per
 * tileset (origin at the lower left, rows counted from the south). */
#include "ows/ows.h"

#include <stdio.h>
#include <string.h>

#include "ows/ows_int.h"

static const char *
profile_of(const ts_grid *g)
{
    if (strcmp(g->name, "WebMercatorQuad") == 0)
        return "global-mercator";
    if (strcmp(g->name, "WorldCRS84Quad") == 0)
        return "global-geodetic";
    return "none";
}

static ts_status
attr(ts_buf *b, const char *name, const char *v)
{
    TS_TRY(ts_buf_printf(b, " %s=\"", name));
    TS_TRY(ts_ows_xml_escape(b, v ? v : ""));
    return ts_buf_add(b, "\"", 1);
}

static ts_status
num_attr(ts_buf *b, const char *name, double v)
{
    TS_TRY(ts_buf_printf(b, " %s=\"", name));
    TS_TRY(ts_ows__num(b, v));
    return ts_buf_add(b, "\"", 1);
}

ts_status
ts_ows_write_tms_service(const ts_tms_tilemap *maps, int nmaps, const char *title, const char *base,
                         ts_buf *out)
{
    char services[1024];
    snprintf(services, sizeof services, "%s/tms/", base);
    TS_TRY(ts_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<TileMapService version=\"1.0.0\""));
    TS_TRY(attr(out, "services", services));
    TS_TRY(ts_buf_printf(out, ">\n"));
    TS_TRY(ts_ows__xml_elem(out, "  ", "Title", title ? title : "tilesrv"));
    TS_TRY(ts_ows__xml_elem(out, "  ", "Abstract", ""));
    TS_TRY(ts_buf_printf(out, "  <TileMaps>\n"));
    for (int i = 0; i < nmaps; i++) {
        const ts_tms_tilemap *m = &maps[i];
        char href[1024];
        snprintf(href, sizeof href, "%s/tms/1.0.0/%s", base, m->name);
        TS_TRY(ts_buf_printf(out, "    <TileMap"));
        TS_TRY(attr(out, "title", m->title ? m->title : m->name));
        TS_TRY(attr(out, "srs", m->grid->crs));
        TS_TRY(attr(out, "profile", profile_of(m->grid)));
        TS_TRY(attr(out, "href", href));
        TS_TRY(ts_buf_printf(out, "/>\n"));
    }
    return ts_buf_printf(out, "  </TileMaps>\n</TileMapService>\n");
}

ts_status
ts_ows_write_tms_tilemap(const ts_tms_tilemap *map, const char *base, ts_buf *out)
{
    const ts_grid *g = map->grid;
    if (g == NULL || map->name == NULL)
        return TS_FAIL(NULL, TS_EINVAL, "TMS tile map without grid or name");
    char svc[1024];
    snprintf(svc, sizeof svc, "%s/tms/1.0.0/", base);
    TS_TRY(ts_buf_printf(out,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TileMap version=\"1.0.0\""));
    TS_TRY(attr(out, "tilemapservice", svc));
    TS_TRY(ts_buf_printf(out, ">\n"));
    TS_TRY(ts_ows__xml_elem(out, "  ", "Title", map->title ? map->title : map->name));
    TS_TRY(ts_ows__xml_elem(out, "  ", "Abstract", map->abstract_text ? map->abstract_text : ""));
    TS_TRY(ts_ows__xml_elem(out, "  ", "SRS", g->crs));
    ts_bbox bb = map->has_bbox ? map->bbox : g->extent;
    TS_TRY(ts_buf_printf(out, "  <BoundingBox"));
    TS_TRY(num_attr(out, "minx", bb.minx));
    TS_TRY(num_attr(out, "miny", bb.miny));
    TS_TRY(num_attr(out, "maxx", bb.maxx));
    TS_TRY(num_attr(out, "maxy", bb.maxy));
    TS_TRY(ts_buf_printf(out, "/>\n  <Origin"));
    TS_TRY(num_attr(out, "x", g->extent.minx));
    TS_TRY(num_attr(out, "y", g->extent.miny));
    const ts_tile_matrix *m0 = &g->levels[0];
    ts_image_format f = map->format == TS_IMG_NONE ? TS_IMG_PNG : map->format;
    TS_TRY(
        ts_buf_printf(out, "/>\n  <TileFormat width=\"%u\" height=\"%u\"", m0->tile_w, m0->tile_h));
    TS_TRY(attr(out, "mime-type", ts_ows_image_mime(f)));
    TS_TRY(attr(out, "extension", map->ext ? map->ext : "png"));
    TS_TRY(ts_buf_printf(out, "/>\n  <TileSets"));
    TS_TRY(attr(out, "profile", profile_of(g)));
    TS_TRY(ts_buf_printf(out, ">\n"));
    int z0 = map->minzoom < 0 ? 0 : map->minzoom;
    int z1 = map->maxzoom >= g->nlevels || map->maxzoom < z0 ? g->nlevels - 1 : map->maxzoom;
    for (int z = z0; z <= z1; z++) {
        char href[1024];
        snprintf(href, sizeof href, "%s/tms/1.0.0/%s/%d", base, map->name, z);
        TS_TRY(ts_buf_printf(out, "    <TileSet"));
        TS_TRY(attr(out, "href", href));
        TS_TRY(num_attr(out, "units-per-pixel", g->levels[z].res));
        TS_TRY(ts_buf_printf(out, " order=\"%d\"/>\n", z));
    }
    return ts_buf_printf(out, "  </TileSets>\n</TileMap>\n");
}
