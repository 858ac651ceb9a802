/* grid/crs.c — the CRS registry: the coordinate reference systems the OWS services name,
 * with what WMS/WMTS need to know about each (geographic or projected, authority axis
 * order, metres per unit, area of use). Plain data; names, titles, axes and areas of use
 * as PROJ 9's EPSG database reports them (projinfo EPSG:nnnn). */
#include "grid/grid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EPSG_URI "http://www.opengis.net/def/crs/EPSG/0/"
#define EPSG_URN "urn:ogc:def:crs:EPSG::"

/* area_lonlat is {min lon, min lat, max lon, max lat}. */
static const ts_crs registry[] = {
    {"EPSG:3857", 3857, EPSG_URI "3857", EPSG_URN "3857", "WGS 84 / Pseudo-Mercator", 0, 0,
     1.0, {-180, -85.06, 180, 85.06}},
    {"EPSG:4326", 4326, EPSG_URI "4326", EPSG_URN "4326", "WGS 84", 1, 1, TS_METERS_PER_DEGREE,
     {-180, -90, 180, 90}},
    {"CRS:84", 0, "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84",
     "WGS 84 longitude-latitude", 1, 0, TS_METERS_PER_DEGREE, {-180, -90, 180, 90}},
    {"EPSG:4258", 4258, EPSG_URI "4258", EPSG_URN "4258", "ETRS89", 1, 1, TS_METERS_PER_DEGREE,
     {-16.1, 32.88, 40.18, 84.73}},
    {"EPSG:25832", 25832, EPSG_URI "25832", EPSG_URN "25832", "ETRS89 / UTM zone 32N", 0, 0, 1.0,
     {6, 38.76, 12.01, 84.33}},
    {"EPSG:25833", 25833, EPSG_URI "25833", EPSG_URN "25833", "ETRS89 / UTM zone 33N", 0, 0, 1.0,
     {12, 46.4, 18.01, 84.42}},
    {"EPSG:3044", 3044, EPSG_URI "3044", EPSG_URN "3044", "ETRS89 / UTM zone 32N (N-E)", 0, 1, 1.0,
     {6, 38.76, 12.01, 84.33}},
    {"EPSG:31466", 31466, EPSG_URI "31466", EPSG_URN "31466", "DHDN / 3-degree Gauss-Kruger zone 2",
     0, 1, 1.0, {5.86, 49.11, 7.5, 53.81}},
    {"EPSG:31467", 31467, EPSG_URI "31467", EPSG_URN "31467", "DHDN / 3-degree Gauss-Kruger zone 3",
     0, 1, 1.0, {7.5, 47.27, 10.51, 55.09}},
};

#define NREG ((int)(sizeof registry / sizeof registry[0]))

int
ts_grid_crs_count(void)
{
    return NREG;
}

const ts_crs *
ts_grid_crs_at(int i)
{
    return i >= 0 && i < NREG ? &registry[i] : NULL;
}

/* If s starts with prefix (ASCII case-insensitive), the rest of s; else NULL. */
static const char *
skip_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncasecmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* A plain decimal EPSG code (1..9 digits, nothing after it), or 0. */
static int
parse_code(const char *s)
{
    int v = 0, n = 0;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 9)
            return 0;
        v = v * 10 + (*s - '0');
    }
    return n > 0 ? v : 0;
}

static const ts_crs *
by_epsg(int code)
{
    /* Web Mercator's codes before EPSG gave it 3857, which old clients still send:
     * 900913 (OpenLayers 2, GeoServer), 3785, 102100 and 102113 (ArcGIS) */
    if (code == 900913 || code == 3785 || code == 102100 || code == 102113)
        code = 3857;
    for (int i = 0; i < NREG; i++)
        if (code != 0 && registry[i].epsg == code)
            return &registry[i];
    return NULL;
}

/* The code part of "urn:ogc:def:crs:EPSG:<version>:<code>" after the "...EPSG:" prefix: an
 * optional version (digits and dots, possibly empty) and a colon, or no colon at all
 * ("urn:x-ogc:def:crs:EPSG:4326"). NULL when malformed. */
static const char *
skip_urn_version(const char *s)
{
    const char *colon = strchr(s, ':');
    if (colon == NULL)
        return s;
    for (const char *p = s; p < colon; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return NULL;
    return colon + 1;
}

static int
is_crs84(const char *s)
{
    static const char *const names[] = {"CRS:84",
                                        "OGC:CRS84",
                                        "urn:ogc:def:crs:OGC:1.3:CRS84",
                                        "urn:ogc:def:crs:OGC::CRS84",
                                        "urn:ogc:def:crs:OGC:2:84",
                                        "urn:x-ogc:def:crs:OGC:1.3:CRS84",
                                        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                                        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
                                        NULL};
    for (const char *const *n = names; *n; n++)
        if (strcasecmp(s, *n) == 0)
            return 1;
    return 0;
}

const ts_crs *
ts_grid_crs_find(const char *name)
{
    if (name == NULL)
        return NULL;
    if (is_crs84(name))
        return &registry[2];
    const char *rest;
    if ((rest = skip_prefix(name, "EPSG:")) != NULL)
        return by_epsg(parse_code(rest));
    if ((rest = skip_prefix(name, "ESRI:")) != NULL) /* ArcGIS's Web Mercator only */
        return parse_code(rest) == 102100 || parse_code(rest) == 102113 ? by_epsg(3857) : NULL;
    if ((rest = skip_prefix(name, "urn:ogc:def:crs:EPSG:")) != NULL ||
        (rest = skip_prefix(name, "urn:x-ogc:def:crs:EPSG:")) != NULL) {
        rest = skip_urn_version(rest);
        return rest ? by_epsg(parse_code(rest)) : NULL;
    }
    if ((rest = skip_prefix(name, "http://www.opengis.net/def/crs/EPSG/0/")) != NULL ||
        (rest = skip_prefix(name, "https://www.opengis.net/def/crs/EPSG/0/")) != NULL ||
        (rest = skip_prefix(name, "http://www.opengis.net/gml/srs/epsg.xml#")) != NULL)
        return by_epsg(parse_code(rest));
    return NULL;
}

const ts_crs *
ts_grid_crs(const ts_grid *g)
{
    if (g->epsg)
        return by_epsg(g->epsg);
    return ts_grid_crs_find(g->crs);
}

ts_bbox
ts_grid_crs_axis_box(const ts_crs *crs, ts_bbox b)
{
    if (crs == NULL || !crs->north_first)
        return b;
    ts_bbox r = {b.miny, b.minx, b.maxy, b.maxx};
    return r;
}
