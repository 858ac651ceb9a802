/* ows/ows.h — pure parsers and writers for the map and tile protocols: XYZ, TMS 1.0.0,
 * TileJSON 3.0, WMS 1.1.1 / 1.3.0, WMTS 1.0.0 (KVP and RESTful), OGC API – Tiles Part 1.
 * No sockets, no rendering, no PROJ: every function maps bytes to a struct or a struct to
 * bytes, so unit tests and fuzzers reach them directly. All functions are thread-safe (no
 * global state); parsed requests own their strings until ts_ows_*_req_free. */
#ifndef TS_OWS_OWS_H
#define TS_OWS_OWS_H

#include <stddef.h>
#include <stdint.h>

#include "grid/grid.h"
#include "util/buf.h"
#include "util/status.h"

#define TS_NAME_MAX 128

typedef enum { TS_FMT_PNG = 0, TS_FMT_MVT } ts_tile_format;

/* A parsed tile URL. */
typedef struct ts_xyz_req {
    char tileset[TS_NAME_MAX];
    int z;
    uint32_t x, y;              /* XYZ numbering: y = 0 at the north */
    int scale;                  /* 1, or 2 for "@2x" */
    ts_tile_format format;
    char grid[TS_NAME_MAX];     /* TileMatrixSet of a grid-qualified URL, "" = the first */
} ts_xyz_req;

/* Parse the part of an XYZ URL after "/tiles/": "{tileset}/{z}/{x}/{y}[@2x].{png|mvt|pbf}",
 * or "{tileset}/{grid}/{z}/{x}/{y}[@2x].{png|mvt|pbf}" for a tile of the tileset's grid
 * (TileMatrixSet) of that name: x = column, y = row from the grid's top-left corner.
 * Numbers must be plain decimal digits (no sign, no spaces, at most 10 digits) with z in
 * 0..30; the tileset name [A-Za-z0-9_.,-]+. TS_EINVAL for malformed numbers or scale,
 * TS_ENOENT for a path of the wrong shape or an unknown extension. Grid range checks are
 * the caller's (it knows the grid). */
ts_status ts_ows_parse_xyz(const char *path, ts_xyz_req *out, ts_err *err);

/* Parse the part of a TMS URL after "/tms/1.0.0/": same as XYZ but y counted from the
 * south; *out gets y converted to XYZ numbering for a grid of matrix height 2^z. */
ts_status ts_ows_parse_tms(const char *path, ts_xyz_req *out, ts_err *err);

/* One entry of TileJSON's vector_layers: the layer's id, its fields and their types as
 * TileJSON writes them ("String", "Number", "Boolean"), and its zoom range. */
typedef struct ts_tilejson_vlayer {
    const char *id;
    const char *description;    /* may be NULL */
    const char *const *fields;
    const char *const *types;   /* per field */
    int nfields;
    int minzoom, maxzoom;
} ts_tilejson_vlayer;

/* What TileJSON needs to know about a tileset. */
typedef struct ts_tilejson_info {
    const char *name;
    const char *title;
    const char *attribution;    /* may be NULL */
    const char *base_url;       /* "http://127.0.0.1:8080" (no trailing slash) */
    const char *ext;            /* "png", "mvt" */
    int minzoom, maxzoom;
    ts_bbox bounds_lonlat;      /* WGS84 longitude/latitude */
    int has_bounds;
    /* optional, zero = absent */
    const char *version;        /* tileset version, "1.0.0" when NULL */
    const char *const *vector_layers; /* MVT layer ids; required by TileJSON 3.0 for "mvt" */
    int nvector_layers;
    const ts_tilejson_vlayer *vlayers; /* with fields and zooms; used instead of
                                        * vector_layers when non-NULL */
    int nvlayers;
    const char *legend;         /* HTML legend, or NULL */
    int has_center;             /* center given explicitly (else derived from bounds) */
    double center[3];           /* longitude, latitude, zoom */
    const char *grid;           /* non-NULL: the tile URLs name this grid (TileMatrixSet):
                                 * /tiles/{name}/{grid}/{z}/{x}/{y}.{ext} */
    /* tilesrv's members of the /tiles.json index (written only when has_live is set) */
    int has_live;
    int live;                   /* "live": the tileset draws a sensor feed */
    const char *const *feeds;   /* "feeds": the names of those feeds (written when nfeeds > 0) */
    int nfeeds;
} ts_tilejson_info;

/* Append a TileJSON 3.0.0 document for the tileset to out. Strings are JSON-escaped. When ext
 * is "mvt" or "pbf", "vector_layers" is written (an empty list when none are given, which
 * TileJSON 3.0 allows only for raster; give the layer ids). The tile URL is
 * {base_url}/tiles/{name}[/{grid}]/{z}/{x}/{y}.{ext}; "scheme" is always "xyz", so the caller
 * describes Web Mercator tiles (WebMercatorQuad) only. */
ts_status ts_ows_write_tilejson(const ts_tilejson_info *ti, ts_buf *out);

/* Append s to out with JSON string escaping (no surrounding quotes). */
ts_status ts_ows_json_escape(ts_buf *out, const char *s);

/* ==== shared OGC pieces ================================================================ */

/* OGC exception codes (WMS 1.3.0 Annex E, WMS 1.1.1 Annex A, OWS Common 1.1 and WMTS 1.0
 * Table 28). One table, several views: the name written per service and version, and the
 * HTTP status. X(name, WMS 1.3.0 / OWS spelling, WMS 1.1.1 spelling, WMTS HTTP status) */
#define TS_OWS_CODE_MAP(X)                                                                         \
    X(NONE, "", "", 200)                                                                           \
    X(INVALID_FORMAT, "InvalidFormat", "InvalidFormat", 400)                                       \
    X(INVALID_CRS, "InvalidCRS", "InvalidSRS", 400)                                                \
    X(LAYER_NOT_DEFINED, "LayerNotDefined", "LayerNotDefined", 400)                                \
    X(STYLE_NOT_DEFINED, "StyleNotDefined", "StyleNotDefined", 400)                                \
    X(LAYER_NOT_QUERYABLE, "LayerNotQueryable", "LayerNotQueryable", 400)                          \
    X(INVALID_POINT, "InvalidPoint", "InvalidPoint", 400)                                          \
    X(CURRENT_UPDATE_SEQUENCE, "CurrentUpdateSequence", "CurrentUpdateSequence", 200)              \
    X(INVALID_UPDATE_SEQUENCE, "InvalidUpdateSequence", "InvalidUpdateSequence", 400)              \
    X(MISSING_PARAMETER_VALUE, "MissingParameterValue", "MissingParameterValue", 400)              \
    X(INVALID_PARAMETER_VALUE, "InvalidParameterValue", "InvalidParameterValue", 400)              \
    X(OPERATION_NOT_SUPPORTED, "OperationNotSupported", "OperationNotSupported", 501)              \
    X(VERSION_NEGOTIATION_FAILED, "VersionNegotiationFailed", "VersionNegotiationFailed", 400)     \
    X(TILE_OUT_OF_RANGE, "TileOutOfRange", "TileOutOfRange", 400)                                  \
    X(POINT_IJ_OUT_OF_RANGE, "PointIJOutOfRange", "PointIJOutOfRange", 400)                        \
    X(NO_APPLICABLE_CODE, "NoApplicableCode", "NoApplicableCode", 500)

typedef enum {
#define X(name, s130, s111, http) TS_OWS_##name,
    TS_OWS_CODE_MAP(X)
#undef X
} ts_ows_code;

/* The code as written in a report: wms111 selects the WMS 1.1.1 spelling (InvalidSRS). */
const char *ts_ows_code_name(ts_ows_code code, int wms111);
/* HTTP status for a WMTS / OGC API response carrying this code (WMTS 1.0 Table 28). WMS
 * answers exceptions with 200 (as MapServer and GeoServer do, so every client reads the
 * report); the http module decides, this is the WMTS view. */
int ts_ows_code_http(ts_ows_code code);

/* Why a request was refused: the OGC code and locator to report, and the message in err
 * (err.code is TS_EINVAL for a bad request, TS_ELIMIT for a request over a configured limit,
 * TS_ENOENT for an unknown layer/style/tile, TS_ENOMEM). */
typedef struct ts_ows_fault {
    ts_ows_code code;
    char locator[64];           /* parameter (or layer) the fault is about, "" = none */
    ts_err err;
} ts_ows_fault;

/* Image formats of GetMap, GetTile and GetLegendGraphic. */
typedef enum {
    TS_IMG_NONE = 0,
    TS_IMG_PNG,                 /* image/png: truecolour RGBA */
    TS_IMG_PNG8,                /* image/png; mode=8bit (also image/png8): paletted */
    TS_IMG_JPEG,                /* image/jpeg */
    TS_IMG_MVT                  /* application/vnd.mapbox-vector-tile (WMTS/XYZ only) */
} ts_image_format;

/* The MIME type written for a format ("image/png; mode=8bit" for PNG8). */
const char *ts_ows_image_mime(ts_image_format f);

/* GetFeatureInfo output formats. */
typedef enum {
    TS_INFO_NONE = 0,
    TS_INFO_TEXT,               /* text/plain */
    TS_INFO_HTML,               /* text/html */
    TS_INFO_JSON,               /* application/json (also application/geo+json) */
    TS_INFO_GML,                /* application/vnd.ogc.gml (also application/gml+xml) */
    TS_INFO_XML                 /* the same GML asked for as text/xml or application/xml,
                                 * answered with the type asked for */
} ts_info_format;

const char *ts_ows_info_mime(ts_info_format f);

/* How a WMS error is returned. */
typedef enum {
    TS_EXC_XML = 0,             /* ServiceExceptionReport */
    TS_EXC_INIMAGE,             /* the message drawn into an image of the requested size */
    TS_EXC_BLANK                /* an empty image (transparent or BGCOLOR) */
} ts_exc_mode;

/* What the caller serves, for validating names in requests. Every callback may be NULL
 * (then every name is accepted). Callbacks must be thread-safe when the caller parses on
 * several threads; they are called only during the parse. */
typedef struct ts_ows_catalog {
    void *ud;
    /* 1 if layer (a WMS layer or layer group / a WMTS layer) exists; *queryable receives 1
     * when GetFeatureInfo may query it. */
    int (*layer)(void *ud, const char *layer, int *queryable);
    /* 1 if style exists for layer. style "" is the default style and is always accepted
     * without calling this. */
    int (*style)(void *ud, const char *layer, const char *style);
    /* WMTS: the tile matrix set tms of layer, or NULL when the layer is not offered in it. */
    const ts_grid *(*grid)(void *ud, const char *layer, const char *tms);
} ts_ows_catalog;

/* Query strings: "a=1&b=x%20y" decoded into name/value pairs. Names compare
 * case-insensitively; '+' decodes to a space; a malformed %-escape is an error. When a name
 * occurs twice the first occurrence wins. At most TS_KVP_MAX pairs and TS_KVP_MAX_BYTES. */
#define TS_KVP_MAX 64
#define TS_KVP_MAX_BYTES (1u << 20)

typedef struct ts_kvp {
    char *buf;                  /* decoded copy of the query; names and values point in it */
    int n;
    const char *name[TS_KVP_MAX];
    const char *value[TS_KVP_MAX];
} ts_kvp;

/* Parse a query string (without the leading '?'; NULL = empty). *kv owns memory afterwards
 * even on failure: release it with ts_ows_kvp_free. TS_EINVAL for bad escapes, an
 * embedded NUL (%00) or too many parameters, TS_ELIMIT for a query over TS_KVP_MAX_BYTES. */
ts_status ts_ows_kvp_parse(const char *query, ts_kvp *kv, ts_err *err);
/* The value of name (case-insensitive), or NULL when absent. */
const char *ts_ows_kvp_get(const ts_kvp *kv, const char *name);
/* Release kv's memory; kv may be reused. NULL and zeroed structs are accepted. */
void ts_ows_kvp_free(ts_kvp *kv);

/* Escape s for XML text or attribute values (& < > " '). Characters XML 1.0 forbids
 * (control characters other than tab, LF, CR) and bytes that are not valid UTF-8 are
 * replaced by '?', so any input yields a well-formed document. */
ts_status ts_ows_xml_escape(ts_buf *out, const char *s);

/* ==== WMS 1.1.1 / 1.3.0 ================================================================ */

#define TS_WMS_MAX_LAYERS 256   /* hard cap above the configurable max_layers */

typedef enum {
    TS_WMS_GETCAPABILITIES = 1,
    TS_WMS_GETMAP,
    TS_WMS_GETFEATUREINFO,
    TS_WMS_GETLEGENDGRAPHIC
} ts_wms_op;

/* What the server offers and allows (from config server.wms). */
typedef struct ts_wms_options {
    int max_width, max_height;  /* 0 = 4096 */
    long max_pixels;            /* width * height; 0 = 4096 * 4096 */
    int max_layers;             /* 0 = 32; at most TS_WMS_MAX_LAYERS */
    int max_feature_count;      /* FEATURE_COUNT is clamped to this; 0 = 50 */
    const char *const *crs;     /* CRS names offered; NULL = every registry CRS */
    int ncrs;
    const char *update_sequence; /* current capabilities update sequence, or NULL */
} ts_wms_options;

/* A validated WMS request. Strings point into memory owned by the request: release with
 * ts_ows_wms_req_free. Boxes are in tilesrv's internal order (x = easting/longitude)
 * whatever the version and CRS axis order of the request. */
typedef struct ts_wms_req {
    ts_wms_op op;
    int version;                /* 111 or 130; for GetCapabilities the negotiated one */
    ts_exc_mode exceptions;     /* EXCEPTIONS (default XML) */
    /* GetCapabilities */
    const char *update_sequence; /* UPDATESEQUENCE sent, or NULL */
    /* GetMap, and the map part of GetFeatureInfo */
    int nlayers;
    const char *layers[TS_WMS_MAX_LAYERS];
    const char *styles[TS_WMS_MAX_LAYERS]; /* "" = default style of that layer */
    const ts_crs *crs;
    ts_bbox bbox;               /* internal axis order */
    int width, height;          /* pixels (also GetLegendGraphic WIDTH/HEIGHT, 0 = default) */
    ts_image_format format;
    int transparent;            /* TRANSPARENT=TRUE */
    uint8_t bgcolor[3];         /* BGCOLOR, default white */
    double dpi;                 /* DPI / MAP_RESOLUTION / FORMAT_OPTIONS=dpi:N; 0 = not given
                                 * (OGC 0.28 mm pixel, 90.714 dpi) */
    const char *sld_body;       /* SLD_BODY as sent (decoded), or NULL */
    /* GetFeatureInfo */
    int nquery_layers;
    const char *query_layers[TS_WMS_MAX_LAYERS];
    int i, j;                   /* pixel column and row (I/J in 1.3.0, X/Y in 1.1.1) */
    ts_info_format info_format;
    int feature_count;          /* default 1 */
    /* GetLegendGraphic */
    const char *layer;          /* LAYER */
    const char *style;          /* STYLE, "" = default */
    const char *rule;           /* RULE, or NULL for the whole style */
    double scale;               /* SCALE denominator, 0 = any */
    ts_kvp kvp_;                /* owns the strings above */
} ts_wms_req;

/* Parse a WMS KVP request (the query string of /wms). On success *out is a request the
 * renderer can trust: names exist in cat, sizes within opt's limits, the box non-empty
 * with finite coordinates. On failure *fault holds the code, locator and message, and *out
 * still holds what was read before the fault (version, op, exceptions, width, height,
 * format, transparent, bgcolor), so an INIMAGE/BLANK answer can be drawn when width,
 * height and format are set. Either way, release *out with ts_ows_wms_req_free.
 *
 * Version: GetCapabilities negotiates (WMS 1.3.0 §6.2.4: no VERSION = 1.3.0, above 1.3.0 =
 * 1.3.0, between = 1.1.1, below = 1.1.1; WMTVER is read when VERSION is absent); other
 * requests need 1.1.1 or 1.3.0 (else VersionNegotiationFailed). UPDATESEQUENCE equal to
 * opt->update_sequence gives CurrentUpdateSequence, greater gives InvalidUpdateSequence
 * (numbers compare numerically, other strings as strings, so ISO 8601 times work).
 * Axis order: 1.3.0 BBOX follows the CRS (EPSG:4326/4258 lat,lon; 3044/31466/31467
 * northing,easting; CRS:84 lon,lat); 1.1.1 is always x,y. */
ts_status ts_ows_parse_wms(const char *query, const ts_wms_options *opt, const ts_ows_catalog *cat,
                           ts_wms_req *out, ts_ows_fault *fault);
/* Release a request's memory. NULL and zeroed requests are accepted. */
void ts_ows_wms_req_free(ts_wms_req *r);

/* The ServiceExceptionReport for fault in WMS version 111 or 130 (DTD / XSD valid). */
ts_status ts_ows_write_wms_exception(const ts_ows_fault *fault, int version, ts_buf *out);
/* Its MIME type: "text/xml" for 1.3.0, "application/vnd.ogc.se_xml" for 1.1.1. */
const char *ts_ows_wms_exception_mime(int version);

/* ---- capabilities --------------------------------------------------------------------- */

typedef struct ts_ows_contact {
    const char *person, *organization, *position; /* each may be NULL */
    const char *address, *city, *state, *postcode, *country; /* ContactAddress when any set */
    const char *phone, *email;
} ts_ows_contact;

/* Service metadata (from config server.wms). */
typedef struct ts_ows_service {
    const char *title;          /* required */
    const char *abstract_text;  /* may be NULL */
    const char *const *keywords;
    int nkeywords;
    const char *online_resource; /* provider's site; NULL = the service URL */
    const char *fees;           /* NULL = "none" */
    const char *access_constraints; /* NULL = "none" */
    ts_ows_contact contact;
    const char *update_sequence; /* NULL = none */
} ts_ows_service;

/* A style with its legend. */
typedef struct ts_ows_style {
    const char *name;           /* "default" for the default style */
    const char *title;
    const char *abstract_text;  /* may be NULL */
    const char *legend_url;     /* full GetLegendGraphic URL, or NULL */
    int legend_width, legend_height;
} ts_ows_style;

/* A bounding box in one CRS, internal axis order (the writers swap per version and CRS). */
typedef struct ts_ows_bbox {
    const ts_crs *crs;
    ts_bbox box;
} ts_ows_bbox;

/* A WMS layer; children make a tree (a layer without a name is a category). */
typedef struct ts_ows_layer {
    const char *name;           /* NULL = not requestable (category) */
    const char *title;
    const char *abstract_text;  /* may be NULL */
    const char *const *keywords;
    int nkeywords;
    int queryable, opaque;
    int has_lonlat;
    ts_bbox lonlat;             /* EX_GeographicBoundingBox / LatLonBoundingBox, degrees */
    const ts_ows_bbox *bboxes;  /* one per CRS; computed by the caller with PROJ */
    int nbboxes;
    const ts_ows_style *styles;
    int nstyles;
    double min_scale, max_scale; /* scale denominators; 0 = unbounded */
    const struct ts_ows_layer *children;
    int nchildren;
    const char *metadata_url;   /* MetadataURL of an ISO 19115 record (XML), or NULL */
    const char *attribution;    /* HTML ("&copy; <a href=...>Stadt</a>"): Attribution's Title
                                 * is its text, OnlineResource its first link; or NULL */
} ts_ows_layer;

typedef struct ts_wms_capabilities {
    const ts_ows_service *service;
    const char *url;            /* service endpoint, "http://host:8080/wms" (no '?') */
    const ts_crs *const *crs;   /* CRSs offered, listed on the root layer */
    int ncrs;
    int max_width, max_height, layer_limit; /* 0 = not advertised */
    const ts_ows_layer *root;   /* the top layer */
} ts_wms_capabilities;

/* Append the GetCapabilities response for version 111 (WMT_MS_Capabilities, valid against
 * the 1.1.1 DTD) or 130 (WMS_Capabilities, valid against capabilities_1_3_0.xsd with
 * sld:GetLegendGraphic). Every string is XML-escaped. TS_EINVAL for an unknown version or a
 * missing title. */
ts_status ts_ows_write_wms_capabilities(const ts_wms_capabilities *caps, int version,
                                        ts_buf *out);
/* Its MIME type: "text/xml" for 1.3.0, "application/vnd.ogc.wms_xml" for 1.1.1. */
const char *ts_ows_wms_capabilities_mime(int version);

/* ==== WMTS 1.0.0 ======================================================================= */

typedef enum {
    TS_WMTS_GETCAPABILITIES = 1,
    TS_WMTS_GETTILE,
    TS_WMTS_GETFEATUREINFO
} ts_wmts_op;

typedef struct ts_wmts_req {
    ts_wmts_op op;
    int rest;                   /* 1 when parsed from a RESTful path */
    char layer[TS_NAME_MAX];
    char style[TS_NAME_MAX];    /* as requested; "default" is the default style */
    char tms[TS_NAME_MAX];      /* TileMatrixSet identifier */
    const ts_grid *grid;        /* its grid, from the catalog */
    int z;                      /* level of TileMatrix in grid */
    uint32_t row, col;          /* TileRow, TileCol (row 0 at the top) */
    ts_image_format format;
    uint32_t i, j;              /* GetFeatureInfo pixel in the tile */
    ts_info_format info_format;
    int up_to_date;             /* GetCapabilities: UPDATESEQUENCE is the current one */
} ts_wmts_req;

/* Parse a WMTS KVP request (query string of /wmts). GetCapabilities: SERVICE=WMTS required,
 * ACCEPTVERSIONS must include 1.0.0 (else VersionNegotiationFailed), UPDATESEQUENCE as for
 * WMS (update_sequence is the current one, may be NULL). GetTile/GetFeatureInfo:
 * SERVICE=WMTS, VERSION=1.0.0, LAYER, STYLE, FORMAT, TILEMATRIXSET, TILEMATRIX, TILEROW,
 * TILECOL (+ I, J, INFOFORMAT); unknown names are InvalidParameterValue with the parameter
 * as locator, a row/column outside the matrix TileOutOfRange, I/J outside the tile
 * PointIJOutOfRange. UPDATESEQUENCE equal to the current one sets out->up_to_date (the
 * caller may answer with a document holding only version and updateSequence). */
ts_status ts_ows_parse_wmts_kvp(const char *query, const char *update_sequence,
                                const ts_ows_catalog *cat, ts_wmts_req *out,
                                ts_ows_fault *fault);
/* Parse the part of a RESTful WMTS URL after "/wmts/1.0.0/":
 *   "WMTSCapabilities.xml"
 *   "{layer}/{style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.{png|jpg|jpeg|pbf|mvt}"
 *   "{layer}/{style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}/{J}/{I}.{ext}"
 * where the last is FeatureInfo with ext txt, html, json, gml or xml, as the ResourceURL
 * templates of the capabilities announce. Segments are taken as they are (the HTTP server
 * has already percent-decoded the path). Unknown names come back with code
 * InvalidParameterValue and err.code TS_ENOENT (answer 404), malformed paths likewise. */
ts_status ts_ows_parse_wmts_rest(const char *path, const ts_ows_catalog *cat, ts_wmts_req *out,
                                 ts_ows_fault *fault);

/* OWS 1.1 ExceptionReport (WMTS), valid against owsExceptionReport.xsd. */
ts_status ts_ows_write_ows_exception(const ts_ows_fault *fault, ts_buf *out);

/* A WMTS layer. */
typedef struct ts_wmts_link {
    const ts_grid *grid;        /* a tile matrix set the layer is offered in */
    int minzoom, maxzoom;       /* levels served (limits), inclusive */
    int has_bbox;
    ts_bbox bbox;               /* data extent in the grid's CRS (internal order), for limits */
} ts_wmts_link;

typedef struct ts_wmts_layer {
    const char *name;
    const char *title;
    const char *abstract_text;  /* may be NULL */
    int has_lonlat;
    ts_bbox lonlat;             /* ows:WGS84BoundingBox */
    const ts_ows_style *styles; /* first = default; NULL = one style "default" */
    int nstyles;
    const ts_image_format *formats; /* tile formats; NULL = PNG only */
    int nformats;
    int queryable;              /* GetFeatureInfo (InfoFormats text/plain, html, json, gml) */
    const ts_wmts_link *links;
    int nlinks;
    const char *const *keywords; /* ows:Keywords; may be NULL */
    int nkeywords;
    const char *metadata_url;   /* ows:Metadata xlink:href, or NULL */
} ts_wmts_layer;

typedef struct ts_wmts_capabilities {
    const ts_ows_service *service;
    const char *url;            /* "http://host:8080/wmts": KVP endpoint; REST templates
                                 * are url + "/1.0.0/..." */
    const ts_wmts_layer *layers;
    int nlayers;
    const ts_grid *const *grids; /* every TileMatrixSet referenced by a link */
    int ngrids;
    int limits;                 /* 1: write TileMatrixSetLimits (levels minzoom..maxzoom, tile
                                 * ranges of each link's bbox). The official 1.0.0 XSD types
                                 * MinTileRow etc. as positiveInteger although the standard's
                                 * text says "from 0", so a document with limits touching row
                                 * or column 0 does not validate; QGIS Server and GeoWebCache
                                 * write 0 all the same. 0: omit them (valid; clients then
                                 * assume the whole matrix at every level). */
} ts_wmts_capabilities;

/* Append the WMTS 1.0.0 Capabilities (valid against wmtsGetCapabilities_response.xsd when
 * caps->limits is 0), with KVP and RESTful bindings, optional TileMatrixSetLimits from each
 * link's bbox and zoom range, and TopLeftCorner in each CRS's axis order. */
ts_status ts_ows_write_wmts_capabilities(const ts_wmts_capabilities *caps, ts_buf *out);

/* ==== TMS 1.0.0 (OSGeo Tile Map Service) ============================================== */

typedef struct ts_tms_tilemap {
    const char *name;           /* tileset name; URL base/tms/1.0.0/{name} */
    const char *title;
    const char *abstract_text;  /* may be NULL */
    const ts_grid *grid;        /* WebMercatorQuad (profile global-mercator) or another */
    int minzoom, maxzoom;
    const char *ext;            /* "png" */
    ts_image_format format;
    int has_bbox;
    ts_bbox bbox;               /* data extent in the grid's CRS, internal order */
} ts_tms_tilemap;

/* The TileMapService document at base/tms/1.0.0 listing the tile maps. base is the
 * server's base URL without a trailing '/'. */
ts_status ts_ows_write_tms_service(const ts_tms_tilemap *maps, int nmaps, const char *title,
                                   const char *base, ts_buf *out);
/* The TileMap document at base/tms/1.0.0/{name}. Rows count from the south. */
ts_status ts_ows_write_tms_tilemap(const ts_tms_tilemap *map, const char *base, ts_buf *out);

/* ==== OGC API – Tiles Part 1 (JSON) =================================================== */

/* A tileset of a collection (or of the whole dataset) in one tile matrix set. */
typedef struct ts_oat_tileset {
    const ts_grid *grid;
    int minzoom, maxzoom;
    int has_bbox;
    ts_bbox bbox;               /* extent in the grid's CRS, internal order (limits) */
    int vector_minzoom;         /* vector tiles: the first level holding a layer (the style
                                 * draws none below); 0 = minzoom */
    const ts_tilejson_vlayer *vlayers; /* vector tiles: the layers (levels of this grid), for
                                        * the metadata's "layers"; may be NULL */
    int nvlayers;
} ts_oat_tileset;

typedef struct ts_oat_collection {
    const char *id;             /* tileset name */
    const char *title;
    const char *description;    /* may be NULL */
    const char *attribution;    /* may be NULL */
    int has_lonlat;
    ts_bbox lonlat;
    ts_image_format format;     /* PNG or MVT: the tilesets these documents describe */
    const ts_oat_tileset *tilesets;
    int ntilesets;
    int also_vector;            /* format PNG, and the same tiles are served as MVT under
                                 * /collections/{id}/tiles: the collection links both */
} ts_oat_collection;

/* Documents of OGC API – Tiles 1.0 (OGC 20-057) and TMS 2.0 JSON (OGC 17-083r4). base is
 * the server's base URL (no trailing '/'); paths: /, /conformance, /collections,
 * /collections/{id}, /collections/{id}/map/tiles (list) and .../tiles/{tms} (tileset),
 * /tileMatrixSets, /tileMatrixSets/{id}. Tile URLs are
 * base/collections/{id}/map/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}.{ext}. */
ts_status ts_ows_write_oat_landing(const char *title, const char *description, const char *base,
                                   ts_buf *out);
ts_status ts_ows_write_oat_conformance(ts_buf *out);
ts_status ts_ows_write_oat_collections(const ts_oat_collection *cols, int ncols, const char *base,
                                       ts_buf *out);
ts_status ts_ows_write_oat_collection(const ts_oat_collection *col, const char *base,
                                      ts_buf *out);
/* The tileset list of a collection (/collections/{id}/map/tiles) or, with col->id NULL, of
 * the dataset (/map/tiles). */
ts_status ts_ows_write_oat_tilesets(const ts_oat_collection *col, const char *base, ts_buf *out);
/* One tileset's metadata (/collections/{id}/map/tiles/{tms}), with "boundingBox" (ts->bbox
 * in the set's CRS and axis order) and "tileMatrixSetLimits": for vector tilesets every
 * level minzoom..maxzoom with the tile range of ts->bbox; for map tilesets the levels from
 * the first at which ts->bbox spans a pixel, each with its whole matrix (the form GDAL
 * 3.6's OGCAPI raster driver reads correctly). */
ts_status ts_ows_write_oat_tileset(const ts_oat_collection *col, const ts_oat_tileset *ts,
                                   const char *base, ts_buf *out);
/* 1 when tile (z, row, column) of ts lies within the tileMatrixSetLimits that
 * ts_ows_write_oat_tileset lists for it (a tile outside them is 404, OGC API - Tiles
 * /req/core/tc-error), else 0. */
int ts_ows_oat_tile_in_limits(const ts_oat_collection *col, const ts_oat_tileset *ts, int z,
                              uint32_t row, uint32_t column);
ts_status ts_ows_write_oat_tilematrixsets(const ts_grid *const *grids, int ngrids,
                                          const char *base, ts_buf *out);
/* A tile matrix set in the TMS 2.0 JSON encoding: id, title, uri, crs, orderedAxes,
 * tileMatrices with pointOfOrigin in the CRS's axis order. */
ts_status ts_ows_write_oat_tilematrixset(const ts_grid *grid, const char *base, ts_buf *out);
/* The API definition (/api, OpenAPI 3.0 JSON, the landing page's service-desc): every path
 * served under base, its parameters and media types. */
ts_status ts_ows_write_oat_openapi(const char *title, const char *base, ts_buf *out);

/* The resources of OGC API – Tiles as tilesrv serves them under /ogcapi. */
typedef enum {
    TS_OAT_LANDING,             /* "" or "/" */
    TS_OAT_API,                 /* /api: the OpenAPI 3.0 definition */
    TS_OAT_CONFORMANCE,         /* /conformance */
    TS_OAT_TMS_LIST,            /* /tileMatrixSets */
    TS_OAT_TMS,                 /* /tileMatrixSets/{tms} */
    TS_OAT_COLLECTIONS,         /* /collections */
    TS_OAT_COLLECTION,          /* /collections/{collection} */
    TS_OAT_TILESETS,            /* /collections/{collection}/map/tiles, or .../tiles (vector) */
    TS_OAT_TILESET,             /* .../map/tiles/{tms}, or .../tiles/{tms} (vector) */
    TS_OAT_TILE,                /* .../map/tiles/{tms}/{matrix}/{row}/{col}.png, or
                                 * .../tiles/{tms}/{matrix}/{row}/{col}.mvt (or .pbf) */
} ts_oat_route;

/* A parsed OGC API – Tiles path. Strings are empty where the route has none. */
typedef struct ts_oat_req {
    ts_oat_route route;
    char collection[TS_NAME_MAX];
    char tms[TS_NAME_MAX];
    char matrix[TS_NAME_MAX];   /* the tileMatrix id as written (the grid resolves it) */
    uint32_t row, col;          /* TS_OAT_TILE: from the matrix's top-left corner */
    ts_image_format format;     /* TILESETS, TILESET, TILE: TS_IMG_PNG (map tiles) or
                                 * TS_IMG_MVT (vector tiles) */
} ts_oat_req;

/* Parse the part of an OGC API – Tiles URL after "/ogcapi" (the query string excluded):
 * segments separated by '/', one trailing '/' allowed, no empty segment, identifiers of
 * 1..TS_NAME_MAX-1 bytes without control characters, row and column plain decimal digits
 * (at most 10, below 2^32). TS_ENOENT, with a message, for any path that is not one of
 * the routes above (the caller answers 404 Not Found); range checks against a grid are
 * the caller's. */
ts_status ts_ows_parse_oat_path(const char *path, ts_oat_req *out, ts_err *err);

#endif
