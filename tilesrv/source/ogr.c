/* source/ogr.c — ts_store_load: read an OGR layer feature by feature, reproject each
 * geometry with one proj_trans_generic call, clean and repair it, and feed the builder.
 *
 * Geometry kinds: points and multipoints become POINT, (multi)linestrings LINE,
 * (multi)polygons, triangles, polyhedral surfaces and TINs POLYGON; curves are
 * linearised (OGR_G_GetLinearGeometry); Z and M are dropped. A GeometryCollection keeps
 * the members of its dominant kind — the highest dimension present (polygons over lines
 * over points) — and drops the rest. Features with no, empty or unusable geometry are
 * skipped and counted.
 *
 * Axis order: the layer's data axis mapping says whether OGR hands out x = easting (the
 * common case, also for lat/lon CRSs stored lon/lat as in GeoPackage, GeoJSON and
 * Shapefile) or x = the CRS's first axis when that is northing; the latter is swapped.
 * With src_crs given, data are taken as x = easting/longitude. */
#include "source/source.h"
#include "source/source_int.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "util/progress.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/utf8.h"

static const char *field_text(OGRFeatureH feat, int i, OGRFieldType type, char *buf, size_t len);

typedef struct kept_field {
    int ogr; /* index in the layer definition */
    OGRFieldType type;
    OGRFieldSubType sub;
} kept_field;

typedef struct load {
    ts_source_ctx *sc;
    const ts_store_def *def;
    const char *name; /* for messages */
    GDALDatasetH ds;
    OGRLayerH layer;
    const char *lname;
    int nfields;
    kept_field *kf;
    char **names; /* kept field names (borrowed from the layer definition, or owned) */
    char **owned; /* per kept field: its name read as Windows-1252 (freed), or NULL */
    int csv_lonlat; /* a CSV whose points come from its lon/lat columns */
    ts_value *vals;
    size_t *stroff; /* offset of each STR value in strbuf, or SIZE_MAX */
    char *strbuf;
    size_t strlen_, strcap;
    char *src_wkt; /* CPLFree */
    const ts_pj_entry *op;
    ts_flat f, tmp;
    ts_store_stats st;
    int lon_index;       /* 0/1: the longitude's place in the data, -1: not geographic */
    uint64_t lon_out;    /* features with longitudes outside -180..180 ... */
    GIntBig lon_out_fid; /* ... the first of them */
    int gfield;        /* the geometry field read (def->geometry, else 0) */
    uint64_t split;    /* collections of several kinds, one feature per kind */
    uint64_t recoded;  /* text values that were not UTF-8, read as Windows-1252 */
    int recoded_field; /* the first one's field (index in kf) ... */
    GIntBig recoded_fid; /* ... and feature */
} load;

/* ---- geometry ---- */

static ts_geom_kind
geom_kind(OGRGeometryH g)
{
    switch (wkbFlatten(OGR_G_GetGeometryType(g))) {
    case wkbPoint:
    case wkbMultiPoint:
        return TS_GEOM_POINT;
    case wkbLineString:
    case wkbLinearRing:
    case wkbMultiLineString:
    case wkbCircularString:
    case wkbCompoundCurve:
    case wkbMultiCurve:
        return TS_GEOM_LINE;
    case wkbPolygon:
    case wkbMultiPolygon:
    case wkbCurvePolygon:
    case wkbMultiSurface:
    case wkbTriangle:
    case wkbPolyhedralSurface:
    case wkbTIN:
        return TS_GEOM_POLYGON;
    case wkbGeometryCollection: {
        ts_geom_kind k = TS_GEOM_NONE;
        int n = OGR_G_GetGeometryCount(g);
        for (int i = 0; i < n; i++) {
            OGRGeometryH c = OGR_G_GetGeometryRef(g, i);
            if (c == NULL || OGR_G_IsEmpty(c))
                continue;
            ts_geom_kind ck = geom_kind(c);
            k = ck > k ? ck : k;
        }
        return k;
    }
    default:
        return TS_GEOM_NONE;
    }
}

static int
add_points(OGRGeometryH g, ts_flat *f, int hole)
{
    int n = OGR_G_GetPointCount(g);
    if (n <= 0)
        return 0;
    if (ts_source__flat_reserve(f, (size_t)n, 1) != 0)
        return -1;
    double *xy = f->xy + 2 * f->npts;
    OGR_G_GetPoints(g, xy, 2 * sizeof(double), xy + 1, 2 * sizeof(double), NULL, 0);
    f->npts += (size_t)n;
    f->counts[f->nparts] = (uint32_t)n;
    f->hole[f->nparts] = (uint8_t)hole;
    f->nparts++;
    return 0;
}

/* Append the members of g of kind f->kind to f. 0 or -1 (out of memory). */
static int
collect(OGRGeometryH g, ts_flat *f)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    switch (t) {
    case wkbPoint:
        if (f->kind == TS_GEOM_POINT && !OGR_G_IsEmpty(g)) {
            double p[2] = {OGR_G_GetX(g, 0), OGR_G_GetY(g, 0)};
            return ts_source__flat_add_part(f, p, 1, 0);
        }
        return 0;
    case wkbLineString:
    case wkbLinearRing:
        return f->kind == TS_GEOM_LINE ? add_points(g, f, 0) : 0;
    case wkbPolygon:
    case wkbTriangle:
        if (f->kind != TS_GEOM_POLYGON)
            return 0;
        for (int i = 0, n = OGR_G_GetGeometryCount(g); i < n; i++) {
            OGRGeometryH r = OGR_G_GetGeometryRef(g, i);
            if (r != NULL && add_points(r, f, i > 0) != 0)
                return -1;
        }
        return 0;
    case wkbMultiPoint:
    case wkbMultiLineString:
    case wkbMultiPolygon:
    case wkbGeometryCollection:
    case wkbPolyhedralSurface:
    case wkbTIN:
        for (int i = 0, n = OGR_G_GetGeometryCount(g); i < n; i++) {
            OGRGeometryH c = OGR_G_GetGeometryRef(g, i);
            if (c != NULL && collect(c, f) != 0)
                return -1;
        }
        return 0;
    default:
        return 0;
    }
}

/* Bit 1 << kind for each kind among g's non-empty members. */
static unsigned
kinds_of(OGRGeometryH g)
{
    if (wkbFlatten(OGR_G_GetGeometryType(g)) != wkbGeometryCollection)
        return 1u << geom_kind(g);
    unsigned m = 0;
    for (int i = 0, n = OGR_G_GetGeometryCount(g); i < n; i++) {
        OGRGeometryH c = OGR_G_GetGeometryRef(g, i);
        if (c != NULL && !OGR_G_IsEmpty(c))
            m |= kinds_of(c);
    }
    return m;
}

unsigned
ts_source__ogr_kinds(OGRGeometryH g)
{
    if (g == NULL || OGR_G_IsEmpty(g))
        return 0;
    return kinds_of(g) & ~(1u << TS_GEOM_NONE);
}

int
ts_source__ogr_flat_kind(OGRGeometryH g, ts_geom_kind kind, ts_flat *f)
{
    if (g == NULL || OGR_G_IsEmpty(g))
        return 0;
    OGRGeometryH lin = NULL;
    if (OGR_G_HasCurveGeometry(g, TRUE)) {
        lin = OGR_G_GetLinearGeometry(g, 0, NULL);
        if (lin == NULL)
            return 0;
        g = lin;
    }
    ts_source__flat_reset(f, kind != TS_GEOM_NONE ? kind : geom_kind(g));
    int rc = f->kind == TS_GEOM_NONE ? 0 : collect(g, f);
    if (lin != NULL)
        OGR_G_DestroyGeometry(lin);
    if (rc != 0)
        return -1;
    return f->nparts > 0;
}

int
ts_source__ogr_flat(OGRGeometryH g, ts_flat *f)
{
    return ts_source__ogr_flat_kind(g, TS_GEOM_NONE, f);
}

int
ts_source__flat_finish(ts_source_ctx *sc, ts_flat *f, ts_flat *tmp, int *repaired)
{
    *repaired = 0;
    if (!ts_source__flat_sane(f))
        return 0;
    int dropped;
    if (ts_source__flat_clean(f, &dropped) == 0)
        return 0;
    int fixed = 0;
    if (f->kind == TS_GEOM_POLYGON) {
        fixed = ts_source__polygon_fix(sc, f, tmp);
        if (fixed < 0)
            return 0;
    }
    *repaired = fixed || dropped;
    return 1;
}

/* Read, reproject and normalise the members of kind of geometry g into L->f. 1 = usable,
 * 0 = nothing usable, -1 = out of memory. Counts repairs. */
static int
read_geometry(load *L, OGRGeometryH g, ts_geom_kind kind, GIntBig fid)
{
    int rc = ts_source__ogr_flat_kind(g, kind, &L->f);
    if (rc <= 0)
        return rc;
    if (L->lon_index >= 0)
        for (size_t i = 0; i < L->f.npts; i++)
            if (fabs(L->f.xy[2 * i + (size_t)L->lon_index]) > 180 + 1e-9) {
                if (L->lon_out++ == 0)
                    L->lon_out_fid = fid;
                break;
            }
    ts_source__op_apply(L->op, L->f.xy, L->f.npts);
    int repaired;
    rc = ts_source__flat_finish(L->sc, &L->f, &L->tmp, &repaired);
    if (rc > 0 && repaired)
        L->st.repaired++;
    return rc;
}

/* ---- attributes ---- */

/* Room for n more bytes in L->strbuf. */
static int
strbuf_reserve(load *L, size_t n)
{
    if (L->strlen_ + n > L->strcap) {
        size_t cap = L->strcap ? L->strcap : 1024;
        while (cap < L->strlen_ + n)
            cap *= 2;
        char *p = realloc(L->strbuf, cap);
        if (p == NULL)
            return -1;
        L->strbuf = p;
        L->strcap = cap;
    }
    return 0;
}

/* Copy s to L->strbuf, NUL-terminated, at *off. Text that is not UTF-8 is taken as
 * Windows-1252 (what a German .dbf without a .cpg holds) and recoded; the first such value
 * is remembered for the warning after the load. */
static int
strbuf_add(load *L, const char *s, int field, OGRFeatureH feat, size_t *off)
{
    size_t n = strlen(s);
    int legacy = !ts_utf8_valid((const uint8_t *)s, n);
    if (strbuf_reserve(L, (legacy ? 3 * n : n) + 1) != 0)
        return -1;
    char *o = L->strbuf + L->strlen_;
    if (legacy) {
        n = ts_utf8_from_cp1252((const uint8_t *)s, n, (uint8_t *)o);
        if (L->recoded++ == 0) {
            L->recoded_field = field;
            L->recoded_fid = OGR_F_GetFID(feat);
        }
    } else {
        memcpy(o, s, n);
    }
    o[n] = '\0';
    *off = L->strlen_;
    L->strlen_ += n + 1;
    return 0;
}

/* Fill L->vals from the feature. Strings are copied to L->strbuf, because OGR may reuse
 * the buffer behind OGR_F_GetFieldAsString from one call to the next. */
static int
read_values(load *L, OGRFeatureH feat)
{
    L->strlen_ = 0;
    for (int i = 0; i < L->nfields; i++) {
        const kept_field *k = &L->kf[i];
        ts_value *v = &L->vals[i];
        L->stroff[i] = SIZE_MAX;
        if (!OGR_F_IsFieldSetAndNotNull(feat, k->ogr)) {
            *v = (ts_value){.type = TS_VAL_NULL};
            continue;
        }
        switch (k->type) {
        case OFTInteger:
            if (k->sub == OFSTBoolean)
                *v = (ts_value){.type = TS_VAL_BOOL,
                                .u.i = OGR_F_GetFieldAsInteger(feat, k->ogr) != 0};
            else
                *v = (ts_value){.type = TS_VAL_INT, .u.i = OGR_F_GetFieldAsInteger(feat, k->ogr)};
            break;
        case OFTInteger64:
            *v = (ts_value){.type = TS_VAL_INT, .u.i = OGR_F_GetFieldAsInteger64(feat, k->ogr)};
            break;
        case OFTReal:
            *v = (ts_value){.type = TS_VAL_REAL, .u.d = OGR_F_GetFieldAsDouble(feat, k->ogr)};
            break;
        default: {
            char when[48];
            *v = (ts_value){.type = TS_VAL_STR};
            if (strbuf_add(L, field_text(feat, k->ogr, k->type, when, sizeof when), i, feat,
                           &L->stroff[i]) != 0)
                return -1;
            break;
        }
        }
    }
    for (int i = 0; i < L->nfields; i++)
        if (L->stroff[i] != SIZE_MAX)
            L->vals[i].u.s = L->strbuf + L->stroff[i];
    return 0;
}

/* ---- values ---- */

/* Field i of feat as text; dates, times and date-times in ISO 8601 (OGR writes
 * "2024/03/12 10:00:00+01"; GetFeatureInfo, vector tiles and filters get "2024-03-12",
 * "2024-03-12T10:00:00+01:00"), in buf when so formatted. */
static const char *
field_text(OGRFeatureH feat, int i, OGRFieldType type, char *buf, size_t len)
{
    if (type != OFTDate && type != OFTDateTime && type != OFTTime)
        return OGR_F_GetFieldAsString(feat, i);
    int y, mo, d, h, mi, tz;
    float sec;
    if (!OGR_F_GetFieldAsDateTimeEx(feat, i, &y, &mo, &d, &h, &mi, &sec, &tz))
        return OGR_F_GetFieldAsString(feat, i);
    char t[32];
    int whole = sec == (float)(int)sec;
    if (whole)
        snprintf(t, sizeof t, "%02d:%02d:%02d", h, mi, (int)sec);
    else
        snprintf(t, sizeof t, "%02d:%02d:%06.3f", h, mi, (double)sec);
    char zone[16] = "";
    if (tz == 100) {
        snprintf(zone, sizeof zone, "Z");
    } else if (tz > 1 && tz < 200) {
        int off = (tz - 100) * 15, a = off < 0 ? -off : off;
        snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
    }
    if (type == OFTDate)
        snprintf(buf, len, "%04d-%02d-%02d", y, mo, d);
    else if (type == OFTTime)
        snprintf(buf, len, "%s%s", t, zone);
    else
        snprintf(buf, len, "%04d-%02d-%02dT%s%s", y, mo, d, t, zone);
    return buf;
}

/* ---- setup ---- */

const char *
ts_source__bounded_path(const char *path, int timeout_s, const char *session, char *buf,
                        size_t len)
{
    if (strncasecmp(path, "PG:", 3) != 0)
        return path;
    const char *ci = path + 3;
    int uri = strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0;
    /* GDAL takes only postgresql:// for a URI (libpq both): the same string works in both
     * modes */
    int n = strncmp(ci, "postgres://", 11) == 0
                ? snprintf(buf, len, "PG:postgresql://%s", ci + 11)
                : snprintf(buf, len, "%s", path);
    if (strstr(path, "connect_timeout") == NULL && n > 0 && (size_t)n < len) {
        const char *sep = !uri ? " " : strchr(buf + 3, '?') != NULL ? "&" : "?";
        n += snprintf(buf + n, len - (size_t)n, "%sconnect_timeout=%d", ci[0] ? sep : "",
                      timeout_s);
    }
    if (session != NULL && !uri && strstr(path, "options") == NULL && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " options='%s'", session);
    return n > 0 && (size_t)n < len ? buf : path;
}

static ts_status
open_layer(load *L, ts_err *err)
{
    const ts_store_def *def = L->def;
    /* a .csv: points from its WKT column (OGR's default), else from columns named lon/lat
     * (longitude/latitude, lng/long) */
    size_t pl = strlen(def->path);
    int csv = pl > 4 && strcasecmp(def->path + pl - 4, ".csv") == 0;
    static const char *const csv_opts[] = {"X_POSSIBLE_NAMES=lon,lng,long,longitude",
                                           "Y_POSSIBLE_NAMES=lat,latitude", NULL};
    char bounded[4096];
    /* a table locked by an import holds the load a minute at most (the reload is then
     * refused, the running data stay), not until the import ends */
    L->ds = GDALOpenEx(ts_source__bounded_path(def->path, 10, "-c lock_timeout=60000", bounded,
                                               sizeof bounded),
                       GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL,
                       csv ? csv_opts : NULL, NULL);
    if (L->ds == NULL)
        return TS_FAIL(err, TS_ESOURCE, "layer %s: cannot open '%s'%s%s", L->name, def->path,
                       L->sc->gdal_msg[0] ? ": " : "", L->sc->gdal_msg);
    if (def->layer != NULL) {
        L->layer = GDALDatasetGetLayerByName(L->ds, def->layer);
        if (L->layer == NULL && def->layer_or_only && GDALDatasetGetLayerCount(L->ds) == 1)
            L->layer = GDALDatasetGetLayer(L->ds, 0); /* a GeoJSON, Shapefile, CSV ... */
        if (L->layer == NULL) {
            char names[400]; /* what there is, for the one who mistyped the table */
            size_t nl = 0;
            names[0] = '\0';
            int n = GDALDatasetGetLayerCount(L->ds);
            for (int i = 0; i < n && nl < sizeof names - 80; i++)
                nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%s", i ? ", " : "",
                                       OGR_L_GetName(GDALDatasetGetLayer(L->ds, i)));
            if (nl >= sizeof names - 80)
                snprintf(names + nl, sizeof names - nl, ", ...");
            return TS_FAIL(err, TS_ESOURCE, "layer %s: no layer '%s' in '%s' (its layers: %s)",
                           L->name, def->layer, def->path, n > 0 ? names : "none");
        }
    } else {
        if (GDALDatasetGetLayerCount(L->ds) < 1)
            return TS_FAIL(err, TS_ESOURCE, "layer %s: '%s' has no layers", L->name, def->path);
        L->layer = GDALDatasetGetLayer(L->ds, 0);
        if (L->layer == NULL)
            return TS_FAIL(err, TS_ESOURCE, "layer %s: cannot read the first layer of '%s'",
                           L->name, def->path);
    }
    L->lname = OGR_L_GetName(L->layer);
    if (csv) { /* its points from lon/lat columns: a WKT column wins, as in OGR */
        OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L->layer);
        int lon = -1, lat = -1;
        static const char *const lons[] = {"lon", "lng", "long", "longitude"};
        static const char *const lats[] = {"lat", "latitude"};
        for (size_t i = 0; i < sizeof lons / sizeof lons[0] && lon < 0; i++)
            lon = OGR_FD_GetFieldIndex(fd, lons[i]);
        for (size_t i = 0; i < sizeof lats / sizeof lats[0] && lat < 0; i++)
            lat = OGR_FD_GetFieldIndex(fd, lats[i]);
        L->csv_lonlat = lon >= 0 && lat >= 0 && OGR_FD_GetFieldIndex(fd, "WKT") < 0;
    }
    return TS_OK;
}

/* A field name of a .dbf without .cpg arrives in its legacy encoding: NULL when raw is
 * UTF-8, else a new string of it read as Windows-1252 (as the values are: ts_store_load). */
static char *
cp1252_name(const char *raw)
{
    size_t n = strlen(raw);
    if (ts_utf8_valid((const uint8_t *)raw, n))
        return NULL;
    char *out = malloc(3 * n + 1);
    if (out != NULL)
        out[ts_utf8_from_cp1252((const uint8_t *)raw, n, (uint8_t *)out)] = '\0';
    return out;
}

/* The index of field name (UTF-8) in fd, also where the layer has it in Windows-1252; -1. */
static int
field_index(OGRFeatureDefnH fd, const char *name)
{
    int idx = OGR_FD_GetFieldIndex(fd, name);
    for (int i = 0; idx < 0 && i < OGR_FD_GetFieldCount(fd); i++) {
        char *dec = cp1252_name(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(fd, i)));
        if (dec != NULL && strcmp(dec, name) == 0)
            idx = i;
        free(dec);
    }
    return idx;
}

/* Record the names of every field of L's layer in s (for messages; none when out of
 * memory). */
static void
source_fields(load *L, ts_store *s)
{
    if (s->table == NULL)
        s->table = strdup(L->lname);
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L->layer);
    int n = OGR_FD_GetFieldCount(fd);
    if (n <= 0 || (s->src_fields = calloc((size_t)n, sizeof *s->src_fields)) == NULL)
        return;
    for (int i = 0; i < n; i++) {
        const char *raw = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(fd, i));
        char *name = cp1252_name(raw);
        if (name == NULL)
            name = strdup(raw);
        if (name == NULL)
            break;
        s->src_fields[s->nsrc_fields++] = name;
    }
}

static ts_status
setup_fields(load *L, ts_err *err)
{
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L->layer);
    int nlayer = OGR_FD_GetFieldCount(fd);
    int n = 0;
    if (L->def->fields == NULL)
        n = nlayer;
    else
        while (L->def->fields[n] != NULL)
            n++;
    size_t sz = (size_t)(n > 0 ? n : 1);
    L->kf = calloc(sz, sizeof *L->kf);
    L->names = calloc(sz, sizeof *L->names);
    L->owned = calloc(sz, sizeof *L->owned);
    L->vals = calloc(sz, sizeof *L->vals);
    L->stroff = calloc(sz, sizeof *L->stroff);
    char *used = calloc((size_t)nlayer + 1, 1);
    const char **ignored = calloc((size_t)nlayer + 2, sizeof *ignored);
    ts_status rc = TS_OK;
    if (L->kf == NULL || L->names == NULL || L->owned == NULL || L->vals == NULL || L->stroff == NULL || used == NULL ||
        ignored == NULL) {
        rc = TS_FAIL(err, TS_ENOMEM, "layer %s: fields", L->name);
        goto done;
    }
    int k = 0; /* fields kept */
    for (int i = 0; i < n; i++) {
        int idx = i;
        if (L->def->fields != NULL) {
            idx = field_index(fd, L->def->fields[i]);
            if (idx >= 0 && used[idx])
                continue; /* listed twice */
            if (idx < 0 && L->def->skip_missing_fields)
                continue;
            if (idx < 0) {
                rc = TS_FAIL(err, TS_ESOURCE, "layer %s: no field '%s' in layer '%s' of '%s'",
                             L->name, L->def->fields[i], L->lname, L->def->path);
                goto done;
            }
        }
        OGRFieldDefnH fdef = OGR_FD_GetFieldDefn(fd, idx);
        L->kf[k] = (kept_field){idx, OGR_Fld_GetType(fdef), OGR_Fld_GetSubType(fdef)};
        L->owned[k] = cp1252_name(OGR_Fld_GetNameRef(fdef));
        L->names[k] = L->owned[k] ? L->owned[k] : (char *)OGR_Fld_GetNameRef(fdef);
        used[idx] = 1;
        L->nfields = ++k; /* so that load_fini frees what is owned should a later one fail */
    }
    /* do not parse what is not kept */
    int ni = 0;
    for (int i = 0; i < nlayer; i++)
        if (!used[i])
            ignored[ni++] = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(fd, i));
    ignored[ni++] = "OGR_STYLE";
    ignored[ni] = NULL;
    OGR_L_SetIgnoredFields(L->layer, ignored);
done:
    free(used);
    free(ignored);
    return rc;
}

/* Which geometry column to read: def->geometry (refused when the layer lacks it), else
 * the first; a layer with several says which one it draws. */
static ts_status
setup_geometry(load *L, ts_err *err)
{
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L->layer);
    int n = fd != NULL ? OGR_FD_GetGeomFieldCount(fd) : 0;
    char names[256] = "";
    for (int i = 0, at = 0; i < n && at < (int)sizeof names - 1; i++) {
        const char *g = OGR_GFld_GetNameRef(OGR_FD_GetGeomFieldDefn(fd, i));
        int w = snprintf(names + at, sizeof names - (size_t)at, "%s'%s'", i ? ", " : "",
                         g && *g ? g : "(unnamed)");
        at = w < 0 ? at : at + w;
    }
    L->gfield = 0;
    if (L->def->geometry != NULL) {
        int i = OGR_FD_GetGeomFieldIndex(fd, L->def->geometry);
        if (i < 0)
            return TS_FAIL(err, TS_ESOURCE,
                           "layer %s: no geometry column '%s' in layer '%s' of '%s' (it has %s)",
                           L->name, L->def->geometry, L->lname, L->def->path,
                           n > 0 ? names : "none");
        L->gfield = i;
    } else if (n > 1) {
        const char *g = OGR_GFld_GetNameRef(OGR_FD_GetGeomFieldDefn(fd, 0));
        ts_info("layer %s: '%s' has %d geometry columns (%s): drawing '%s' (choose another "
                "with geometry:)",
                L->name, L->lname, n, names, g && *g ? g : "(unnamed)");
    }
    return TS_OK;
}

static ts_status
setup_crs(load *L, ts_err *err)
{
    const ts_store_def *def = L->def;
    const char *src = def->src_crs;
    int swap = 0;
    char auth[96];
    if (src == NULL && L->csv_lonlat) {
        src = "EPSG:4326"; /* longitude and latitude: WGS 84, longitude first */
        ts_info("layer %s: the points of '%s' are its lon/lat columns, read as EPSG:4326 "
                "(give srs: for another CRS)",
                L->name, def->path);
    } else if (src == NULL) {
        OGRFeatureDefnH fd = OGR_L_GetLayerDefn(L->layer);
        OGRGeomFieldDefnH gd = fd != NULL && OGR_FD_GetGeomFieldCount(fd) > L->gfield
                                   ? OGR_FD_GetGeomFieldDefn(fd, L->gfield)
                                   : NULL;
        OGRSpatialReferenceH srs = gd != NULL ? OGR_GFld_GetSpatialRef(gd)
                                              : OGR_L_GetSpatialRef(L->layer);
        if (srs == NULL)
            return TS_FAIL(err, TS_ESOURCE,
                           "layer %s: layer '%s' of '%s' declares no CRS: give it with "
                           "srs: on the source or layer (e.g. srs: \"EPSG:25832\")", L->name,
                           L->lname, def->path);
        const char *an = OSRGetAuthorityName(srs, NULL), *ac = OSRGetAuthorityCode(srs, NULL);
        if (an != NULL && ac != NULL) {
            snprintf(auth, sizeof auth, "%s:%s", an, ac);
            src = auth;
        } else {
            const char *opts[] = {"FORMAT=WKT2_2019", NULL};
            if (OSRExportToWktEx(srs, &L->src_wkt, opts) != OGRERR_NONE || L->src_wkt == NULL)
                return TS_FAIL(err, TS_ESOURCE, "layer %s: cannot export the CRS of '%s'", L->name,
                               def->path);
            src = L->src_wkt;
        }
        int cnt = 0;
        const int *map = OSRGetDataAxisToSRSAxisMapping(srs, &cnt);
        if (map != NULL && cnt >= 2) {
            int data_x_is_axis0 = (map[0] < 0 ? -map[0] : map[0]) == 1;
            swap = data_x_is_axis0 == ts_source__crs_north_first(L->sc, src);
        }
    }
    const char *dst = def->dst_crs != NULL ? def->dst_crs : src;
    ts_err e2;
    ts_err_clear(&e2);
    if (ts_source__op(L->sc, src, swap, dst, &L->op, &e2) != TS_OK)
        return TS_FAIL(err, TS_ESOURCE, "layer %s ('%s' of '%s'): %s", L->name, L->lname, def->path,
                       e2.msg);
    /* lon/lat data being reprojected: longitude first unless they arrive north first */
    L->lon_index = L->op->op != NULL && ts_source__crs_geographic(L->sc, src) ? swap : -1;
    return TS_OK;
}

static void
load_fini(load *L)
{
    if (L->ds != NULL)
        GDALClose(L->ds);
    free(L->kf);
    for (int i = 0; L->owned != NULL && i < L->nfields; i++)
        free(L->owned[i]);
    free(L->owned);
    free(L->names);
    free(L->vals);
    free(L->stroff);
    free(L->strbuf);
    CPLFree(L->src_wkt);
    ts_source__flat_fini(&L->f);
    ts_source__flat_fini(&L->tmp);
}

static ts_status
read_all(load *L, ts_store_builder *b, ts_err *err)
{
    OGR_L_ResetReading(L->layer);
    int fails_seen = L->sc->gdal_failures;
    /* A count only where the driver knows it cheaply (GeoPackage, Shapefile...): no scan. */
    GIntBig total = OGR_L_GetFeatureCount(L->layer, FALSE);
    char what[160];
    snprintf(what, sizeof what, "loading %s", L->name);
    ts_progress prog;
    ts_progress_begin(&prog, what, "features", total > 0 ? (uint64_t)total : 0);
    for (;;) {
        int before = L->sc->gdal_failures;
        OGRFeatureH feat = OGR_L_GetNextFeature(L->layer);
        if (feat == NULL) {
            if (L->sc->gdal_failures > before)
                return TS_FAIL(err, TS_ESOURCE,
                               "layer %s: reading '%s' of '%s' failed after "
                               "%llu features: %s",
                               L->name, L->lname, L->def->path, (unsigned long long)L->st.read,
                               L->sc->gdal_msg);
            break;
        }
        L->st.read++;
        ts_progress_update(&prog, L->st.read);
        /* A collection of several kinds (points with lines, say) becomes one feature per
         * kind, sharing the attributes and the origin id: each is drawn as what it is. */
        OGRGeometryH geom = OGR_F_GetGeomFieldRef(feat, L->gfield);
        unsigned kinds = ts_source__ogr_kinds(geom);
        GIntBig ofid = OGR_F_GetFID(feat);
        int added = 0, oom = 0;
        ts_status st = TS_OK;
        if ((kinds & (kinds - 1)) != 0)
            L->split++;
        for (int k = TS_GEOM_POLYGON; k >= TS_GEOM_POINT && st == TS_OK; k--) {
            if ((kinds & (1u << k)) == 0)
                continue;
            int g = read_geometry(L, geom, (ts_geom_kind)k, ofid);
            if (g < 0 || (g > 0 && added == 0 && read_values(L, feat) != 0)) {
                oom = 1;
                break;
            }
            if (g == 0)
                continue;
            ts_source__builder_set_origin(b, ofid == OGRNullFID ? -1 : (int64_t)ofid);
            st = ts_source__builder_add_flat(b, &L->f, L->vals, err);
            added++;
        }
        OGR_F_Destroy(feat);
        if (oom)
            return TS_FAIL(err, TS_ENOMEM, "layer %s: feature %llu", L->name,
                           (unsigned long long)L->st.read);
        TS_TRY(st);
        if (added == 0) {
            L->st.skipped++;
            if (L->st.skipped <= 5)
                ts_warn("layer %s: feature %lld of '%s' skipped%s%s: its geometry is empty, "
                        "outside the CRS or beyond repair%s",
                        L->name, (long long)ofid, L->lname,
                        L->def->dst_crs && strlen(L->def->dst_crs) <= 40 ? " in " : "",
                        L->def->dst_crs && strlen(L->def->dst_crs) <= 40 ? L->def->dst_crs : "",
                        L->st.skipped == 5 ? " (further skips are only counted)" : "");
        }
    }
    ts_progress_end(&prog);
    if (L->lon_out > 0 && !L->def->data_said)
        ts_warn("layer %s: %llu features of '%s' have longitudes outside -180..180 (the first: "
                "feature %lld); the reprojection wraps them to -180..180, so a shape reaching "
                "past 180 is drawn across the whole map: split such shapes at the antimeridian",
                L->name, (unsigned long long)L->lon_out, L->lname, (long long)L->lon_out_fid);
    if (L->split > 0 && !L->def->data_said)
        ts_info("layer %s: %llu geometry collections of '%s' mix points, lines and polygons: "
                "each became one feature per kind (same attributes and id)",
                L->name, (unsigned long long)L->split, L->lname);
    if (L->recoded > 0 && !L->def->data_said)
        ts_warn("layer %s: %llu text values of '%s' are not UTF-8 and were read as Windows-1252 "
                "(Latin-1), the first in field '%s' of feature %lld; if that is wrong, give the "
                "encoding in a .cpg file beside a Shapefile (e.g. 'ISO-8859-15') or convert the "
                "data to UTF-8",
                L->name, (unsigned long long)L->recoded, L->def->path, L->names[L->recoded_field],
                (long long)L->recoded_fid);
    /* Read errors the driver went on past (a Shapefile whose .shp was cut short or is being
     * copied over: its features come without geometry) make a partial layer: refused, as a
     * failed read is, so that a reload keeps the data in service */
    if (L->sc->gdal_failures > fails_seen)
        return TS_FAIL(err, TS_ESOURCE,
                       "layer %s: reading '%s' of '%s' reported %d errors (the first: %s): the "
                       "file is damaged or still being written; not loaded",
                       L->name, L->lname, L->def->path, L->sc->gdal_failures - fails_seen,
                       L->sc->gdal_msg);
    return TS_OK;
}

ts_status
ts_store_load(ts_source_ctx *sc, const ts_store_def *def, ts_store **out, ts_err *err)
{
    if (out != NULL)
        *out = NULL;
    if (sc == NULL || def == NULL || def->path == NULL || out == NULL)
        return TS_FAIL(err, TS_EINVAL, "ts_store_load: missing argument");
    const char *name = def->name ? def->name : def->layer ? def->layer : def->path;
    if (def->ntolerances < 0 || (def->ntolerances > 0 && def->tolerances == NULL))
        return TS_FAIL(err, TS_EINVAL, "layer %s: bad tolerance list", name);
    for (int i = 0; i < def->ntolerances; i++)
        if (!(def->tolerances[i] > 0) || (i > 0 && def->tolerances[i] <= def->tolerances[i - 1]))
            return TS_FAIL(err, TS_EINVAL, "layer %s: tolerances must be positive and ascending",
                           name);
    uint64_t t0 = ts_mono_ns();
    load L = {.sc = sc, .def = def, .name = name, .lon_index = -1};
    ts_store_builder *b = NULL;
    ts_store *s = NULL;
    ts_status rc;
    ts_source__gdal_capture_begin(sc);
    CPLErrorReset();
    if ((rc = open_layer(&L, err)) != TS_OK || (rc = setup_geometry(&L, err)) != TS_OK ||
        (rc = setup_fields(&L, err)) != TS_OK)
        goto done;
    if (def->where != NULL && OGR_L_SetAttributeFilter(L.layer, def->where) != OGRERR_NONE) {
        rc = TS_FAIL(err, TS_ESOURCE, "layer %s: bad filter '%s' on '%s' of '%s'%s%s", name,
                     def->where, L.lname, def->path, sc->gdal_msg[0] ? ": " : "", sc->gdal_msg);
        goto done;
    }
    if ((rc = setup_crs(&L, err)) != TS_OK)
        goto done;
    b = ts_store_builder_new(name, (const char *const *)L.names, L.nfields, err);
    if (b == NULL) {
        rc = err ? err->code : TS_ENOMEM;
        goto done;
    }
    if ((rc = read_all(&L, b, err)) != TS_OK)
        goto done;
    rc = ts_store_builder_finish(b, &s, err);
    b = NULL;
    if (rc != TS_OK)
        goto done;
    if ((rc = ts_source__generalise(sc, s, def->tolerances, def->ntolerances, err)) != TS_OK)
        goto done;
    s->stats.read = L.st.read;
    s->stats.repaired = L.st.repaired;
    s->stats.skipped = L.st.skipped;
    s->stats.kept = s->n;
    s->stats.vertices = s->levels[0].npts;
    s->stats.bytes = ts_source__store_bytes(s);
    s->stats.load_s = (double)(ts_mono_ns() - t0) * 1e-9;
    source_fields(&L, s);
    *out = s;
    s = NULL;
done:
    ts_store_builder_free(b);
    ts_store_unref(s);
    load_fini(&L); /* closes the dataset: still under our error handler */
    ts_source__gdal_capture_end(sc);
    return rc;
}

/* ---- one feature's attributes (GetFeatureInfo) ---- */

ts_status
ts_source_feature_attrs(ts_source_ctx *sc, const char *path, const char *layer, int64_t id,
                        ts_source_attr_fn fn, void *ud, ts_err *err)
{
    if (sc == NULL || path == NULL || fn == NULL)
        return TS_FAIL(err, TS_EINVAL, "ts_source_feature_attrs: missing argument");
    if (id < 0)
        return TS_FAIL(err, TS_ENOENT, "feature has no id in its source");
    ts_status rc = TS_OK;
    ts_source__gdal_capture_begin(sc);
    CPLErrorReset();
    /* on the HTTP thread: a database that does not answer holds it 5 s at most, and one
     * known to be failing not at all (the back-off per-request fetches keep: twenty clicks
     * during an outage had held the HTTP threads 5 s each, /health waiting behind them) */
    int pg = strncasecmp(path, "PG:", 3) == 0, probe = 0;
    char why[240];
    if (pg && !ts_source__pg_may_connect(path + 3, &probe, why, sizeof why)) {
        ts_source__gdal_capture_end(sc);
        return TS_FAIL(err, TS_ESOURCE, "PostgreSQL unreachable: %s", why);
    }
    char bounded[4096];
    GDALDatasetH ds = GDALOpenEx(ts_source__bounded_path(path, 5, "-c statement_timeout=5000",
                                                         bounded, sizeof bounded),
                                 GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL,
                                 NULL, NULL);
    if (pg)
        ts_source__pg_connected(path + 3, probe, ds == NULL,
                                sc->gdal_msg[0] ? sc->gdal_msg : "cannot connect");
    OGRFeatureH feat = NULL;
    if (ds == NULL) {
        rc = TS_FAIL(err, TS_ESOURCE, "cannot open '%s'%s%s", path, sc->gdal_msg[0] ? ": " : "",
                     sc->gdal_msg);
        goto done;
    }
    OGRLayerH ly = layer != NULL                      ? GDALDatasetGetLayerByName(ds, layer)
                   : GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0)
                                                      : NULL;
    if (ly == NULL && GDALDatasetGetLayerCount(ds) == 1) /* as the load took it */
        ly = GDALDatasetGetLayer(ds, 0);
    if (ly == NULL) {
        rc = TS_FAIL(err, TS_ESOURCE, "no layer '%s' in '%s'", layer ? layer : "(first)", path);
        goto done;
    }
    feat = OGR_L_GetFeature(ly, (GIntBig)id);
    if (feat == NULL) {
        rc = TS_FAIL(err, TS_ENOENT, "no feature %lld in '%s' of '%s'", (long long)id,
                     OGR_L_GetName(ly), path);
        goto done;
    }
    OGRFeatureDefnH fd = OGR_F_GetDefnRef(feat);
    int n = OGR_FD_GetFieldCount(fd);
    for (int i = 0; i < n; i++) {
        OGRFieldDefnH d = OGR_FD_GetFieldDefn(fd, i);
        ts_value v = {.type = TS_VAL_NULL};
        char when[48]; /* a date's text, while v points at it */
        if (OGR_F_IsFieldSetAndNotNull(feat, i)) {
            switch (OGR_Fld_GetType(d)) {
            case OFTInteger:
                if (OGR_Fld_GetSubType(d) == OFSTBoolean)
                    v = (ts_value){.type = TS_VAL_BOOL,
                                   .u.i = OGR_F_GetFieldAsInteger(feat, i) != 0};
                else
                    v = (ts_value){.type = TS_VAL_INT, .u.i = OGR_F_GetFieldAsInteger(feat, i)};
                break;
            case OFTInteger64:
                v = (ts_value){.type = TS_VAL_INT, .u.i = OGR_F_GetFieldAsInteger64(feat, i)};
                break;
            case OFTReal:
                v = (ts_value){.type = TS_VAL_REAL, .u.d = OGR_F_GetFieldAsDouble(feat, i)};
                break;
            default:
                v = (ts_value){.type = TS_VAL_STR,
                               .u.s = field_text(feat, i, OGR_Fld_GetType(d), when, sizeof when)};
                break;
            }
        }
        char *recoded = NULL; /* as at load: text that is not UTF-8 is Windows-1252 */
        if (v.type == TS_VAL_STR) {
            size_t len = strlen(v.u.s);
            if (!ts_utf8_valid((const uint8_t *)v.u.s, len)) {
                recoded = malloc(3 * len + 1);
                if (recoded == NULL) {
                    rc = TS_FAIL(err, TS_ENOMEM, "feature %lld: attributes", (long long)id);
                    break;
                }
                recoded[ts_utf8_from_cp1252((const uint8_t *)v.u.s, len, (uint8_t *)recoded)] =
                    '\0';
                v.u.s = recoded;
            }
        }
        char *fname = cp1252_name(OGR_Fld_GetNameRef(d)); /* as at load */
        int stop = fn(ud, fname ? fname : OGR_Fld_GetNameRef(d), &v);
        free(fname);
        free(recoded);
        if (stop != 0)
            break;
    }
done:
    if (feat != NULL)
        OGR_F_Destroy(feat);
    if (ds != NULL)
        GDALClose(ds);
    ts_source__gdal_capture_end(sc);
    return rc;
}
