/* ows/ogcapi.c — OGC API – Tiles Part 1 (OGC 20-057) JSON documents: landing page,
 * conformance, collections, tileset lists and tileset metadata, and tile matrix sets in the
 * OGC TMS 2.0 JSON encoding (OGC 17-083r4). Raster tilesets live under .../map/tiles,
 * vector (MVT) tilesets under .../tiles, as the standard names them. */
#include "ows/ows.h"

#include <stdio.h>
#include <string.h>

#include "ows/ows_int.h"

#define REL_OGC "http://www.opengis.net/def/rel/ogc/1.0/"
#define CONF_TILES "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"

static ts_status
add_link(ts_buf *b, int first, const char *rel, const char *type, const char *title,
         const char *base, const char *path, int templated)
{
    TS_TRY(ts_buf_printf(b, "%s{", first ? "" : ","));
    TS_TRY(ts_ows__json_str(b, "rel", rel));
    if (type) { /* optional in OGC API links; NULL leaves it out */
        TS_TRY(ts_buf_add(b, ",", 1));
        TS_TRY(ts_ows__json_str(b, "type", type));
    }
    if (title) {
        TS_TRY(ts_buf_add(b, ",", 1));
        TS_TRY(ts_ows__json_str(b, "title", title));
    }
    TS_TRY(ts_buf_printf(b, ",\"href\":\""));
    TS_TRY(ts_ows_json_escape(b, base));
    TS_TRY(ts_ows_json_escape(b, path));
    TS_TRY(ts_buf_add(b, "\"", 1));
    if (templated)
        TS_TRY(ts_buf_printf(b, ",\"templated\":true"));
    return ts_buf_add(b, "}", 1);
}

ts_status
ts_ows_write_oat_landing(const char *title, const char *description, const char *base, ts_buf *out)
{
    TS_TRY(ts_buf_add(out, "{", 1));
    TS_TRY(ts_ows__json_str(out, "title", title ? title : "tilesrv"));
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "description", description ? description : ""));
    TS_TRY(ts_buf_printf(out, ",\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", "This document", base, "/", 0));
    TS_TRY(add_link(out, 0, "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                    "The API definition (OpenAPI 3.0)", base, "/api", 0));
    TS_TRY(add_link(out, 0, "conformance", "application/json", "Conformance classes", base,
                    "/conformance", 0));
    TS_TRY(add_link(out, 0, REL_OGC "conformance", "application/json", "Conformance classes", base,
                    "/conformance", 0));
    TS_TRY(add_link(out, 0, "data", "application/json", "Collections", base, "/collections", 0));
    TS_TRY(add_link(out, 0, REL_OGC "data", "application/json", "Collections", base, "/collections",
                    0));
    TS_TRY(add_link(out, 0, REL_OGC "tiling-schemes", "application/json", "Tile matrix sets", base,
                    "/tileMatrixSets", 0));
    return ts_buf_printf(out, "]}");
}

ts_status
ts_ows_write_oat_conformance(ts_buf *out)
{
    static const char *const classes[] = {
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
        "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
        CONF_TILES "core",
        CONF_TILES "tileset",
        CONF_TILES "tilesets-list",
        CONF_TILES "geodata-tilesets",
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
        CONF_TILES "png",
        CONF_TILES "mvt",
        "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
        "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
        "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
        "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata"};
    TS_TRY(ts_buf_printf(out, "{\"conformsTo\":["));
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        TS_TRY(ts_buf_printf(out, "%s\"%s\"", i ? "," : "", classes[i]));
    return ts_buf_printf(out, "]}");
}

/* The paths and components of the OpenAPI document (literal JSON). */
static const char openapi_paths[] =
    "\"paths\":{"
    "\"/\":{\"get\":{\"summary\":\"Landing page\",\"operationId\":\"getLandingPage\","
    "\"responses\":{\"200\":{\"description\":\"Links to the API's resources\","
    "\"content\":{\"application/json\":{}}}}}},"
    "\"/api\":{\"get\":{\"summary\":\"This API definition\",\"operationId\":\"getAPI\","
    "\"responses\":{\"200\":{\"description\":\"OpenAPI 3.0\",\"content\":"
    "{\"application/vnd.oai.openapi+json;version=3.0\":{}}}}}},"
    "\"/conformance\":{\"get\":{\"summary\":\"Conformance classes\",\"operationId\":"
    "\"getConformance\",\"responses\":{\"200\":{\"description\":\"conformsTo\","
    "\"content\":{\"application/json\":{}}}}}},"
    "\"/tileMatrixSets\":{\"get\":{\"summary\":\"Tile matrix sets\",\"operationId\":"
    "\"getTileMatrixSetsList\",\"responses\":{\"200\":{\"description\":\"The list\","
    "\"content\":{\"application/json\":{}}}}}},"
    "\"/tileMatrixSets/{tileMatrixSetId}\":{\"get\":{\"summary\":\"A tile matrix set "
    "(OGC 2D TMS 2.0)\",\"operationId\":\"getTileMatrixSet\",\"parameters\":["
    "{\"$ref\":\"#/components/parameters/tileMatrixSetId\"}],\"responses\":{\"200\":"
    "{\"description\":\"The set\",\"content\":{\"application/json\":{}}},\"404\":"
    "{\"description\":\"No such set\"}}}},"
    "\"/collections\":{\"get\":{\"summary\":\"Collections: the tilesets\",\"operationId\":"
    "\"getCollectionsList\",\"responses\":{\"200\":{\"description\":\"The list\","
    "\"content\":{\"application/json\":{}}}}}},"
    "\"/collections/{collectionId}\":{\"get\":{\"summary\":\"A collection\",\"operationId\":"
    "\"getCollection\",\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"}],"
    "\"responses\":{\"200\":{\"description\":\"The collection\",\"content\":"
    "{\"application/json\":{}}},\"404\":{\"description\":\"No such collection\"}}}},"
    "\"/collections/{collectionId}/map/tiles\":{\"get\":{\"summary\":\"Map tilesets of a "
    "collection\",\"operationId\":\"getCollectionMapTileSetsList\",\"parameters\":["
    "{\"$ref\":\"#/components/parameters/collectionId\"}],\"responses\":{\"200\":"
    "{\"description\":\"The list\",\"content\":{\"application/json\":{}}}}}},"
    "\"/collections/{collectionId}/map/tiles/{tileMatrixSetId}\":{\"get\":{\"summary\":"
    "\"A map tileset's metadata\",\"operationId\":\"getCollectionMapTileSet\","
    "\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"},{\"$ref\":"
    "\"#/components/parameters/tileMatrixSetId\"}],\"responses\":{\"200\":{\"description\":"
    "\"TileSet metadata\",\"content\":{\"application/json\":{}}}}}},"
    "\"/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/"
    "{tileCol}.png\":{\"get\":{\"summary\":\"A map tile (PNG)\",\"operationId\":"
    "\"getCollectionMapTile\",\"parameters\":[{\"$ref\":\"#/components/parameters/"
    "collectionId\"},{\"$ref\":\"#/components/parameters/tileMatrixSetId\"},{\"$ref\":"
    "\"#/components/parameters/tileMatrix\"},{\"$ref\":\"#/components/parameters/tileRow\"},"
    "{\"$ref\":\"#/components/parameters/tileCol\"}],\"responses\":{\"200\":"
    "{\"description\":\"The tile\",\"content\":{\"image/png\":{}}},\"400\":"
    "{\"description\":\"Row or column outside the tile matrix\"},\"404\":{\"description\":"
    "\"Outside the tileset's limits\"}}}},"
    "\"/collections/{collectionId}/tiles\":{\"get\":{\"summary\":\"Vector tilesets of a "
    "collection\",\"operationId\":\"getCollectionVectorTileSetsList\",\"parameters\":["
    "{\"$ref\":\"#/components/parameters/collectionId\"}],\"responses\":{\"200\":"
    "{\"description\":\"The list\",\"content\":{\"application/json\":{}}}}}},"
    "\"/collections/{collectionId}/tiles/{tileMatrixSetId}\":{\"get\":{\"summary\":"
    "\"A vector tileset's metadata\",\"operationId\":\"getCollectionVectorTileSet\","
    "\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"},{\"$ref\":"
    "\"#/components/parameters/tileMatrixSetId\"}],\"responses\":{\"200\":{\"description\":"
    "\"TileSet metadata\",\"content\":{\"application/json\":{}}}}}},"
    "\"/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/"
    "{tileCol}.mvt\":{\"get\":{\"summary\":\"A vector tile (Mapbox Vector Tile 2.1)\","
    "\"operationId\":\"getCollectionVectorTile\",\"parameters\":[{\"$ref\":"
    "\"#/components/parameters/collectionId\"},{\"$ref\":\"#/components/parameters/"
    "tileMatrixSetId\"},{\"$ref\":\"#/components/parameters/tileMatrix\"},{\"$ref\":"
    "\"#/components/parameters/tileRow\"},{\"$ref\":\"#/components/parameters/tileCol\"}],"
    "\"responses\":{\"200\":{\"description\":\"The tile\",\"content\":"
    "{\"application/vnd.mapbox-vector-tile\":{}}},\"400\":{\"description\":\"Row or column "
    "outside the tile matrix\"},\"404\":{\"description\":\"Outside the tileset's "
    "limits\"}}}}"
    "},"
    "\"components\":{\"parameters\":{"
    "\"collectionId\":{\"name\":\"collectionId\",\"in\":\"path\",\"required\":true,"
    "\"schema\":{\"type\":\"string\"}},"
    "\"tileMatrixSetId\":{\"name\":\"tileMatrixSetId\",\"in\":\"path\",\"required\":true,"
    "\"schema\":{\"type\":\"string\"}},"
    "\"tileMatrix\":{\"name\":\"tileMatrix\",\"in\":\"path\",\"required\":true,"
    "\"schema\":{\"type\":\"string\"}},"
    "\"tileRow\":{\"name\":\"tileRow\",\"in\":\"path\",\"required\":true,"
    "\"schema\":{\"type\":\"integer\",\"minimum\":0}},"
    "\"tileCol\":{\"name\":\"tileCol\",\"in\":\"path\",\"required\":true,"
    "\"schema\":{\"type\":\"integer\",\"minimum\":0}}}}";

ts_status
ts_ows_write_oat_openapi(const char *title, const char *base, ts_buf *out)
{
    TS_TRY(ts_buf_printf(out, "{\"openapi\":\"3.0.3\",\"info\":{"));
    TS_TRY(ts_ows__json_str(out, "title", title ? title : "tilesrv"));
    TS_TRY(ts_buf_printf(out, ",\"version\":\"1.0.0\",\"description\":\"OGC API - Tiles "
                              "(map and vector tiles of every tileset)\"},\"servers\":[{"));
    TS_TRY(ts_ows__json_str(out, "url", base));
    TS_TRY(ts_buf_printf(out, "}],"));
    TS_TRY(ts_buf_add(out, openapi_paths, sizeof openapi_paths - 1));
    return ts_buf_add(out, "}", 1);
}

static int
is_vector(const ts_oat_collection *c)
{
    return c->format == TS_IMG_MVT;
}

/* "/collections/{id}/map/tiles" (or "/map/tiles" for the dataset); "tiles" for vector. */
static void
tiles_path(char *dst, size_t cap, const ts_oat_collection *c)
{
    const char *kind = is_vector(c) ? "tiles" : "map/tiles";
    if (c->id)
        snprintf(dst, cap, "/collections/%s/%s", c->id, kind);
    else
        snprintf(dst, cap, "/%s", kind);
}

static ts_status
bbox_json(ts_buf *b, ts_bbox x)
{
    TS_TRY(ts_buf_add(b, "[", 1));
    TS_TRY(ts_ows__num(b, x.minx));
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(ts_ows__num(b, x.miny));
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(ts_ows__num(b, x.maxx));
    TS_TRY(ts_buf_add(b, ",", 1));
    TS_TRY(ts_ows__num(b, x.maxy));
    return ts_buf_add(b, "]", 1);
}

static ts_status
collection_body(const ts_oat_collection *c, const char *base, ts_buf *out)
{
    char path[512], tp[512];
    snprintf(path, sizeof path, "/collections/%s", c->id);
    tiles_path(tp, sizeof tp, c);
    TS_TRY(ts_buf_add(out, "{", 1));
    TS_TRY(ts_ows__json_str(out, "id", c->id));
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "title", c->title ? c->title : c->id));
    if (c->description) {
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__json_str(out, "description", c->description));
    }
    if (c->attribution) {
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__json_str(out, "attribution", c->attribution));
    }
    TS_TRY(ts_buf_printf(out, ",\"dataType\":\"%s\"", is_vector(c) ? "vector" : "map"));
    if (c->has_lonlat) {
        TS_TRY(ts_buf_printf(out, ",\"extent\":{\"spatial\":{\"bbox\":["));
        TS_TRY(bbox_json(out, c->lonlat));
        TS_TRY(ts_buf_printf(out, "],\"crs\":\"http://www.opengis.net/def/crs/OGC/1.3/CRS84\"}}"));
    }
    TS_TRY(ts_buf_printf(out, ",\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", "This collection", base, path, 0));
    TS_TRY(add_link(out, 0, is_vector(c) ? REL_OGC "tilesets-vector" : REL_OGC "tilesets-map",
                    "application/json", "Tilesets of this collection", base, tp, 0));
    if (!is_vector(c) && c->also_vector) {
        /* Without "type" (a hint a link may omit): GDAL 3.6's OGCAPI driver (Debian 12's)
         * reads the tilesets-vector link typed application/json after the map one and
         * returns that open's result, so a raster open (gdalinfo) of a collection with both
         * fails. It ignores untyped links; current GDAL follows them, and only when the map
         * tilesets gave nothing. */
        snprintf(tp, sizeof tp, "/collections/%s/tiles", c->id);
        TS_TRY(add_link(out, 0, REL_OGC "tilesets-vector", NULL,
                        "Vector tilesets of this collection", base, tp, 0));
    }
    return ts_buf_printf(out, "]}");
}

ts_status
ts_ows_write_oat_collections(const ts_oat_collection *cols, int ncols, const char *base,
                             ts_buf *out)
{
    TS_TRY(ts_buf_printf(out, "{\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", "Collections", base, "/collections", 0));
    TS_TRY(ts_buf_printf(out, "],\"collections\":["));
    for (int i = 0; i < ncols; i++) {
        if (i)
            TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(collection_body(&cols[i], base, out));
    }
    return ts_buf_printf(out, "]}");
}

ts_status
ts_ows_write_oat_collection(const ts_oat_collection *col, const char *base, ts_buf *out)
{
    return collection_body(col, base, out);
}

/* Common part of a tileset entry (list) and the tileset metadata. */
static ts_status
tileset_head(const ts_oat_collection *c, const ts_oat_tileset *t, const char *base, ts_buf *out,
             int full)
{
    const ts_grid *g = t->grid;
    const ts_crs *crs = ts_grid_crs(g);
    char tp[512], self[640], tms[640];
    tiles_path(tp, sizeof tp, c);
    snprintf(self, sizeof self, "%s/%s", tp, g->name);
    snprintf(tms, sizeof tms, "/tileMatrixSets/%s", g->name);
    TS_TRY(ts_buf_add(out, "{", 1));
    char title[256];
    snprintf(title, sizeof title, "%s in %s",
             c->title ? c->title
             : c->id  ? c->id
                      : "dataset",
             g->name);
    TS_TRY(ts_ows__json_str(out, "title", title));
    TS_TRY(ts_buf_printf(out, ",\"dataType\":\"%s\",", is_vector(c) ? "vector" : "map"));
    TS_TRY(ts_ows__json_str(out, "crs", crs ? crs->uri : g->crs_uri[0] ? g->crs_uri : g->crs));
    /* the set's registry URI, or for a set the OGC registry lacks (the AdV UTM set) its
     * definition here, as GeoServer writes it: GDAL 3.6's OGCAPI driver picks the set a
     * client asks for (TILEMATRIXSET=) by the URI */
    char def[1200];
    snprintf(def, sizeof def, "%s%s", base, tms);
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "tileMatrixSetURI", g->uri[0] ? g->uri : def));
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "tileMatrixSetDefinition", def));
    TS_TRY(ts_buf_printf(out, ",\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", "This tileset", base, self, 0));
    TS_TRY(add_link(out, 0, REL_OGC "tiling-scheme", "application/json", "Tile matrix set", base,
                    tms, 0));
    if (full) {
        char item[768];
        snprintf(item, sizeof item, "%s/{tileMatrix}/{tileRow}/{tileCol}.%s", self,
                 is_vector(c)               ? "mvt"
                 : c->format == TS_IMG_JPEG ? "jpg"
                                            : "png");
        TS_TRY(add_link(out, 0, "item",
                        is_vector(c)
                            ? "application/vnd.mapbox-vector-tile"
                            : ts_ows_image_mime(c->format == TS_IMG_NONE ? TS_IMG_PNG : c->format),
                        "Tiles", base, item, 1));
    }
    return ts_buf_add(out, "]", 1);
}

ts_status
ts_ows_write_oat_tilesets(const ts_oat_collection *col, const char *base, ts_buf *out)
{
    char tp[512];
    tiles_path(tp, sizeof tp, col);
    TS_TRY(ts_buf_printf(out, "{\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", "Tilesets", base, tp, 0));
    TS_TRY(ts_buf_printf(out, "],\"tilesets\":["));
    for (int i = 0; i < col->ntilesets; i++) {
        if (i)
            TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(tileset_head(col, &col->tilesets[i], base, out, 0));
        TS_TRY(ts_buf_add(out, "}", 1));
    }
    return ts_buf_printf(out, "]}");
}

/* 1 when box b spans at least one pixel of level m in both directions. */
static int
covers_pixel(const ts_tile_matrix *m, ts_bbox b)
{
    return b.maxx - b.minx >= m->res && b.maxy - b.miny >= m->res;
}

/* tileMatrixSetLimits: vector tilesets list every level from the first holding a layer
 * (vector_minzoom) to maxzoom with the tile range of the data's box. Map tilesets list the levels from the first at which the box spans a
 * pixel, each with its whole matrix (tiles outside the data are served, blank), and leave
 * the data's extent to "boundingBox". For GDAL 3.6/3.7's OGCAPI raster driver (changed in
 * 3.8): it crops every listed level to the collection's extent and fails on a level where
 * that extent is under half a pixel wide or high, and it mosaics a level's limits with the
 * whole matrix's height and columns numbered from 0, so only whole matrices read back in
 * place. (It also takes the collection's extent, CRS84 as OGC API Common requires, as
 * coordinates of the tile matrix set: right for WorldCRS84Quad, which it prefers; for
 * other sets the client passes the extent, e.g. boundingBox, as open options.) */
/* The levels listed in the tileMatrixSetLimits of ts (*z0..*z1) and, for level z, its tile
 * range; see ts_ows_write_oat_tileset. */
static void
limit_levels(const ts_oat_collection *col, const ts_oat_tileset *ts, int *z0, int *z1)
{
    const ts_grid *g = ts->grid;
    *z0 = ts->minzoom < 0 ? 0 : ts->minzoom;
    *z1 = ts->maxzoom >= g->nlevels || ts->maxzoom < *z0 ? g->nlevels - 1 : ts->maxzoom;
    if (is_vector(col) && ts->vector_minzoom > *z0 && ts->vector_minzoom <= *z1)
        *z0 = ts->vector_minzoom;
    if (!is_vector(col) && ts->has_bbox) {
        int z = *z0;
        while (z <= *z1 && !covers_pixel(&g->levels[z], ts->bbox))
            z++;
        if (z <= *z1)
            *z0 = z;
    }
}

/* The tile range listed for level z: 0 when the level is not listed (a vector tileset
 * whose data lie outside the tile matrix has no tile there). */
static int
limit_range(const ts_oat_collection *col, const ts_oat_tileset *ts, int z, uint32_t *c0,
            uint32_t *r0, uint32_t *c1, uint32_t *r1)
{
    const ts_tile_matrix *m = &ts->grid->levels[z];
    *c0 = *r0 = 0;
    *c1 = m->matrix_w - 1;
    *r1 = m->matrix_h - 1;
    if (is_vector(col) && ts->has_bbox && !ts_grid_tile_range(ts->grid, z, ts->bbox, c0, r0, c1, r1))
        return 0;
    return 1;
}

int
ts_ows_oat_tile_in_limits(const ts_oat_collection *col, const ts_oat_tileset *ts, int z,
                          uint32_t row, uint32_t column)
{
    int z0, z1;
    limit_levels(col, ts, &z0, &z1);
    if (z < z0 || z > z1)
        return 0;
    uint32_t c0, r0, c1, r1;
    return limit_range(col, ts, z, &c0, &r0, &c1, &r1) && row >= r0 && row <= r1 &&
           column >= c0 && column <= c1;
}

/* "layers" of a vector tileset's metadata (TMS 2.0 GeospatialData): id, dataType,
 * minTileMatrix / maxTileMatrix (the levels carrying the layer) and a propertiesSchema
 * (JSON Schema types of its fields), so that a client of a national grid, which has no
 * TileJSON, learns the layer names and fields. */
static ts_status
vector_layers(const ts_oat_tileset *ts, ts_buf *out)
{
    const ts_grid *g = ts->grid;
    TS_TRY(ts_buf_printf(out, ",\"layers\":["));
    for (int i = 0; i < ts->nvlayers; i++) {
        const ts_tilejson_vlayer *l = &ts->vlayers[i];
        TS_TRY(ts_buf_printf(out, "%s{", i ? "," : ""));
        TS_TRY(ts_ows__json_str(out, "id", l->id));
        if (l->description) {
            TS_TRY(ts_buf_add(out, ",", 1));
            TS_TRY(ts_ows__json_str(out, "description", l->description));
        }
        TS_TRY(ts_buf_printf(out, ",\"dataType\":\"vector\""));
        if (l->minzoom >= 0 && l->minzoom <= l->maxzoom && l->maxzoom < g->nlevels) {
            TS_TRY(ts_buf_add(out, ",", 1));
            TS_TRY(ts_ows__json_str(out, "minTileMatrix", g->levels[l->minzoom].id));
            TS_TRY(ts_buf_add(out, ",", 1));
            TS_TRY(ts_ows__json_str(out, "maxTileMatrix", g->levels[l->maxzoom].id));
        }
        TS_TRY(ts_buf_printf(out, ",\"propertiesSchema\":{\"type\":\"object\",\"properties\":{"));
        for (int k = 0; k < l->nfields; k++) {
            const char *t = strcmp(l->types[k], "Number") == 0    ? "number"
                            : strcmp(l->types[k], "Boolean") == 0 ? "boolean"
                                                                  : "string";
            TS_TRY(ts_buf_printf(out, "%s\"", k ? "," : ""));
            TS_TRY(ts_ows_json_escape(out, l->fields[k]));
            TS_TRY(ts_buf_printf(out, "\":{\"type\":\"%s\"}", t));
        }
        TS_TRY(ts_buf_printf(out, "}}}"));
    }
    return ts_buf_add(out, "]", 1);
}

ts_status
ts_ows_write_oat_tileset(const ts_oat_collection *col, const ts_oat_tileset *ts, const char *base,
                         ts_buf *out)
{
    const ts_grid *g = ts->grid;
    TS_TRY(tileset_head(col, ts, base, out, 1));
    int z0, z1;
    limit_levels(col, ts, &z0, &z1);
    TS_TRY(ts_buf_printf(out, ",\"tileMatrixSetLimits\":["));
    int listed = 0;
    for (int z = z0; z <= z1; z++) {
        const ts_tile_matrix *m = &g->levels[z];
        uint32_t c0, r0, c1, r1;
        if (!limit_range(col, ts, z, &c0, &r0, &c1, &r1))
            continue;
        TS_TRY(ts_buf_printf(out,
                             "%s{\"tileMatrix\":\"%s\",\"minTileRow\":%u,\"maxTileRow\":%u,"
                             "\"minTileCol\":%u,\"maxTileCol\":%u}",
                             listed++ ? "," : "", m->id, r0, r1, c0, c1));
    }
    TS_TRY(ts_buf_add(out, "]", 1));
    if (is_vector(col) && ts->nvlayers > 0)
        TS_TRY(vector_layers(ts, out));
    if (ts->has_bbox) {
        const ts_crs *crs = ts_grid_crs(g);
        ts_bbox b = ts_grid_crs_axis_box(crs, ts->bbox);
        TS_TRY(ts_buf_printf(out, ",\"boundingBox\":{\"lowerLeft\":["));
        TS_TRY(ts_ows__num(out, b.minx));
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__num(out, b.miny));
        TS_TRY(ts_buf_printf(out, "],\"upperRight\":["));
        TS_TRY(ts_ows__num(out, b.maxx));
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__num(out, b.maxy));
        TS_TRY(ts_buf_printf(out, "],\"crs\":\""));
        TS_TRY(ts_ows_json_escape(out, crs ? crs->uri : g->crs));
        TS_TRY(ts_buf_printf(out, "\"}"));
    }
    return ts_buf_add(out, "}", 1);
}

ts_status
ts_ows_write_oat_tilematrixsets(const ts_grid *const *grids, int ngrids, const char *base,
                                ts_buf *out)
{
    TS_TRY(ts_buf_printf(out, "{\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", "Tile matrix sets", base, "/tileMatrixSets",
                    0));
    TS_TRY(ts_buf_printf(out, "],\"tileMatrixSets\":["));
    for (int i = 0; i < ngrids; i++) {
        const ts_grid *g = grids[i];
        const ts_crs *crs = ts_grid_crs(g);
        char path[256];
        snprintf(path, sizeof path, "/tileMatrixSets/%s", g->name);
        TS_TRY(ts_buf_printf(out, "%s{", i ? "," : ""));
        TS_TRY(ts_ows__json_str(out, "id", g->name));
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__json_str(out, "title", g->title[0] ? g->title : g->name));
        if (g->uri[0]) {
            TS_TRY(ts_buf_add(out, ",", 1));
            TS_TRY(ts_ows__json_str(out, "uri", g->uri));
        }
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__json_str(out, "crs", crs ? crs->uri : g->crs));
        TS_TRY(ts_buf_printf(out, ",\"links\":["));
        /* the item's "self" link is required (tileMatrixSet-item.yaml) */
        TS_TRY(add_link(out, 1, "self", "application/json", NULL, base, path, 0));
        TS_TRY(add_link(out, 0, REL_OGC "tiling-scheme", "application/json", NULL, base, path, 0));
        TS_TRY(ts_buf_printf(out, "]}"));
    }
    return ts_buf_printf(out, "]}");
}

/* orderedAxes as OGC 17-083r4 writes them for the registry's CRSs. */
static void
axes_of(const ts_crs *crs, const char **a, const char **b)
{
    if (crs == NULL) {
        *a = "X";
        *b = "Y";
    } else if (crs->geographic) {
        *a = crs->north_first ? "Lat" : "Lon";
        *b = crs->north_first ? "Lon" : "Lat";
    } else if (crs->epsg == 3857) {
        *a = "X";
        *b = "Y";
    } else {
        *a = crs->north_first ? "N" : "E";
        *b = crs->north_first ? "E" : "N";
    }
}

ts_status
ts_ows_write_oat_tilematrixset(const ts_grid *g, const char *base, ts_buf *out)
{
    const ts_crs *crs = ts_grid_crs(g);
    const char *a0, *a1;
    axes_of(crs, &a0, &a1);
    char path[256];
    snprintf(path, sizeof path, "/tileMatrixSets/%s", g->name);
    TS_TRY(ts_buf_add(out, "{", 1));
    TS_TRY(ts_ows__json_str(out, "id", g->name));
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "title", g->title[0] ? g->title : g->name));
    if (g->uri[0]) {
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__json_str(out, "uri", g->uri));
    }
    const char *crs_uri = crs ? crs->uri : g->crs_uri[0] ? g->crs_uri : g->crs;
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "crs", crs_uri));
    /* TMS 1.0 (OGC 17-083r2) names of the same values, for clients that read only those
     * (GDAL 3.6, Debian 12's: "identifier", "supportedCRS", "topLeftCorner") */
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "identifier", g->name));
    TS_TRY(ts_buf_add(out, ",", 1));
    TS_TRY(ts_ows__json_str(out, "supportedCRS", crs_uri));
    TS_TRY(ts_buf_printf(out, ",\"orderedAxes\":[\"%s\",\"%s\"]", a0, a1));
    /* the extent of level 0, as TMS 2.0 (lowerLeft, upperRight) and 1.0 (lowerCorner,
     * upperCorner) name its corners; GDAL 3.6 reads a tile matrix set only with a
     * boundingBox */
    if (g->nlevels > 0) {
        const ts_tile_matrix *m0 = &g->levels[0];
        int sw = crs != NULL && crs->north_first;
        double minx = m0->origin_x, maxy = m0->origin_y;
        double maxx = minx + (double)m0->matrix_w * m0->tile_w * m0->res;
        double miny = maxy - (double)m0->matrix_h * m0->tile_h * m0->res;
        double ll[2] = {sw ? miny : minx, sw ? minx : miny};
        double ur[2] = {sw ? maxy : maxx, sw ? maxx : maxy};
        TS_TRY(ts_buf_printf(out, ",\"boundingBox\":{"));
        TS_TRY(ts_ows__json_str(out, "crs", crs_uri));
        static const char *const names[4] = {"lowerLeft", "upperRight", "lowerCorner",
                                             "upperCorner"};
        for (int k = 0; k < 4; k++) {
            const double *v = k % 2 ? ur : ll;
            TS_TRY(ts_buf_printf(out, ",\"%s\":[", names[k]));
            TS_TRY(ts_ows__num(out, v[0]));
            TS_TRY(ts_buf_add(out, ",", 1));
            TS_TRY(ts_ows__num(out, v[1]));
            TS_TRY(ts_buf_add(out, "]", 1));
        }
        TS_TRY(ts_buf_add(out, "}", 1));
    }
    if (strcmp(g->name, "WebMercatorQuad") == 0)
        TS_TRY(ts_buf_printf(out,
                             ",\"wellKnownScaleSet\":"
                             "\"http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible\""));
    else if (strcmp(g->name, "WorldCRS84Quad") == 0)
        TS_TRY(ts_buf_printf(out, ",\"wellKnownScaleSet\":"
                                  "\"http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad\""));
    TS_TRY(ts_buf_printf(out, ",\"links\":["));
    TS_TRY(add_link(out, 1, "self", "application/json", NULL, base, path, 0));
    TS_TRY(ts_buf_printf(out, "],\"tileMatrices\":["));
    int swap = crs != NULL && crs->north_first;
    for (int z = 0; z < g->nlevels; z++) {
        const ts_tile_matrix *m = &g->levels[z];
        TS_TRY(ts_buf_printf(out, "%s{\"id\":\"%s\",\"identifier\":\"%s\",\"scaleDenominator\":",
                             z ? "," : "", m->id, m->id));
        TS_TRY(ts_ows__num(out, m->scale_denom));
        TS_TRY(ts_buf_printf(out, ",\"cellSize\":"));
        TS_TRY(ts_ows__num(out, m->res));
        TS_TRY(ts_buf_printf(out, ",\"cornerOfOrigin\":\"topLeft\",\"pointOfOrigin\":["));
        TS_TRY(ts_ows__num(out, swap ? m->origin_y : m->origin_x));
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__num(out, swap ? m->origin_x : m->origin_y));
        TS_TRY(ts_buf_printf(out, "],\"topLeftCorner\":["));
        TS_TRY(ts_ows__num(out, swap ? m->origin_y : m->origin_x));
        TS_TRY(ts_buf_add(out, ",", 1));
        TS_TRY(ts_ows__num(out, swap ? m->origin_x : m->origin_y));
        TS_TRY(ts_buf_printf(out,
                             "],\"tileWidth\":%u,\"tileHeight\":%u,\"matrixWidth\":%u,"
                             "\"matrixHeight\":%u}",
                             m->tile_w, m->tile_h, m->matrix_w, m->matrix_h));
    }
    return ts_buf_printf(out, "]}");
}

/* ---- request paths ---------------------------------------------------------------------- */

#define OAT_MAX_SEGS 8

/* Split path at '/' into at most OAT_MAX_SEGS segments of buf (NUL-terminated in place);
 * leading and one trailing '/' ignored. -1 for more segments or an empty one. */
static int
oat_split(char *buf, char **seg)
{
    char *p = buf;
    if (*p == '/')
        p++;
    size_t n = strlen(p);
    if (n > 0 && p[n - 1] == '/')
        p[--n] = '\0';
    if (n == 0)
        return 0;
    int k = 0;
    for (;;) {
        if (k == OAT_MAX_SEGS)
            return -1;
        seg[k++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    for (int i = 0; i < k; i++)
        if (seg[i][0] == '\0')
            return -1;
    return k;
}

/* Copy an identifier segment: 1..TS_NAME_MAX-1 bytes, no control characters. */
static int
oat_ident(char *dst, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    memcpy(dst, s, n + 1);
    return 1;
}

/* Plain decimal digits, at most 10, below 2^32. */
static int
oat_u32(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

ts_status
ts_ows_parse_oat_path(const char *path, ts_oat_req *out, ts_err *err)
{
    memset(out, 0, sizeof *out);
    char buf[1024];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return TS_FAIL(err, TS_ENOENT, "OGC API path too long (%zu bytes)", len);
    memcpy(buf, path, len + 1);
    char *seg[OAT_MAX_SEGS];
    int n = oat_split(buf, seg);
    if (n < 0)
        goto none;
    if (n == 0) {
        out->route = TS_OAT_LANDING;
        return TS_OK;
    }
    if (strcmp(seg[0], "api") == 0 && n == 1) {
        out->route = TS_OAT_API;
        return TS_OK;
    }
    if (strcmp(seg[0], "conformance") == 0 && n == 1) {
        out->route = TS_OAT_CONFORMANCE;
        return TS_OK;
    }
    if (strcmp(seg[0], "tileMatrixSets") == 0 && n <= 2) {
        out->route = n == 1 ? TS_OAT_TMS_LIST : TS_OAT_TMS;
        if (n == 2 && !oat_ident(out->tms, seg[1]))
            goto none;
        return TS_OK;
    }
    if (strcmp(seg[0], "collections") != 0)
        goto none;
    if (n == 1) {
        out->route = TS_OAT_COLLECTIONS;
        return TS_OK;
    }
    if (!oat_ident(out->collection, seg[1]))
        goto none;
    if (n == 2) {
        out->route = TS_OAT_COLLECTION;
        return TS_OK;
    }
    /* map tiles under .../map/tiles, vector tiles under .../tiles */
    int vector = n >= 3 && strcmp(seg[2], "tiles") == 0;
    if (!vector && (n < 4 || strcmp(seg[2], "map") != 0 || strcmp(seg[3], "tiles") != 0))
        goto none;
    int k = vector ? 3 : 4; /* segments up to and including "tiles" */
    out->format = vector ? TS_IMG_MVT : TS_IMG_PNG;
    if (n == k) {
        out->route = TS_OAT_TILESETS;
        return TS_OK;
    }
    if (!oat_ident(out->tms, seg[k]))
        goto none;
    if (n == k + 1) {
        out->route = TS_OAT_TILESET;
        return TS_OK;
    }
    if (n != k + 4 || !oat_ident(out->matrix, seg[k + 1]))
        goto none;
    const char *dot = strrchr(seg[k + 3], '.');
    int ext_ok = dot != NULL && (vector ? strcmp(dot, ".mvt") == 0 || strcmp(dot, ".pbf") == 0
                                        : strcmp(dot, ".png") == 0);
    if (!ext_ok || !oat_u32(seg[k + 2], strlen(seg[k + 2]), &out->row) ||
        !oat_u32(seg[k + 3], (size_t)(dot - seg[k + 3]), &out->col))
        goto none;
    out->route = TS_OAT_TILE;
    return TS_OK;
none:
    memset(out, 0, sizeof *out);
    return TS_FAIL(err, TS_ENOENT, "no OGC API - Tiles resource at '%.80s'", path);
}
