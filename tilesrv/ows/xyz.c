/* ows/xyz.c — XYZ and TMS tile URL parsing. */
#include "ows/ows.h"

#include <stdio.h>
#include <string.h>

/* Parse a plain decimal number of at most 10 digits ending at *end or the string end. */
static int
parse_uint(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int
valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ',';
}

ts_status
ts_ows_parse_xyz(const char *path, ts_xyz_req *out, ts_err *err)
{
    memset(out, 0, sizeof *out);
    out->scale = 1;
    const char *seg[5];
    size_t len[5];
    const char *p = path;
    int nseg = 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (nseg == 5)
            return TS_FAIL(err, TS_ENOENT, "tile URLs look like /tiles/{tileset}/{z}/{x}/{y}.png");
        seg[nseg] = p;
        len[nseg] = slash ? (size_t)(slash - p) : strlen(p);
        nseg++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    if (nseg < 4 || len[nseg - 1] == 0) /* too few parts, or a trailing '/' */
        return TS_FAIL(err, TS_ENOENT, "tile URLs look like /tiles/{tileset}/{z}/{x}/{y}.png");
    if (len[0] == 0 || len[0] >= TS_NAME_MAX)
        return TS_FAIL(err, TS_ENOENT, "bad tileset name");
    for (size_t i = 0; i < len[0]; i++)
        if (!valid_name_char(seg[0][i]))
            return TS_FAIL(err, TS_ENOENT, "bad tileset name");
    memcpy(out->tileset, seg[0], len[0]);
    out->tileset[len[0]] = '\0';
    if (nseg == 5) { /* {tileset}/{grid}/{z}/{x}/{y}.ext: a TileMatrixSet by name */
        /* a grid name is not a number (that would be one segment too many of the plain
         * form) and neither name starts with a dot */
        size_t digits = 0;
        while (digits < len[1] && seg[1][digits] >= '0' && seg[1][digits] <= '9')
            digits++;
        if (len[1] == 0 || len[1] >= TS_NAME_MAX || digits == len[1] || seg[1][0] == '.' ||
            seg[0][0] == '.')
            return TS_FAIL(err, TS_ENOENT, "bad grid name");
        for (size_t i = 0; i < len[1]; i++)
            if (!valid_name_char(seg[1][i]))
                return TS_FAIL(err, TS_ENOENT, "bad grid name");
        memcpy(out->grid, seg[1], len[1]);
        out->grid[len[1]] = '\0';
        for (int i = 1; i < 4; i++) {
            seg[i] = seg[i + 1];
            len[i] = len[i + 1];
        }
    }

    /* last segment: {y}[@2x].ext */
    const char *dot = memchr(seg[3], '.', len[3]);
    if (dot == NULL)
        return TS_FAIL(err, TS_ENOENT, "tile URL needs an extension (.png, .mvt)");
    const char *ext = dot + 1;
    size_t elen = len[3] - (size_t)(ext - seg[3]);
    if (elen == 3 && memcmp(ext, "png", 3) == 0)
        out->format = TS_FMT_PNG;
    else if ((elen == 3 && memcmp(ext, "mvt", 3) == 0) || (elen == 3 && memcmp(ext, "pbf", 3) == 0))
        out->format = TS_FMT_MVT;
    else
        return TS_FAIL(err, TS_ENOENT, "unknown tile format '.%.*s'", (int)elen, ext);
    size_t ylen = (size_t)(dot - seg[3]);
    const char *at = memchr(seg[3], '@', ylen);
    if (at) {
        size_t slen = (size_t)(dot - at);
        if (slen == 3 && memcmp(at, "@2x", 3) == 0)
            out->scale = 2;
        else if (slen == 3 && memcmp(at, "@1x", 3) == 0)
            out->scale = 1;
        else
            return TS_FAIL(err, TS_EINVAL, "scale must be @2x");
        ylen = (size_t)(at - seg[3]);
    }
    uint32_t z;
    if (parse_uint(seg[1], len[1], &z) != 0 || z > 30)
        return TS_FAIL(err, TS_EINVAL, "zoom must be a whole number from 0 (to the tileset's "
                                        "last level)");
    if (parse_uint(seg[2], len[2], &out->x) != 0)
        return TS_FAIL(err, TS_EINVAL, "x must be a whole number from 0 to 4294967295");
    if (parse_uint(seg[3], ylen, &out->y) != 0)
        return TS_FAIL(err, TS_EINVAL, "y must be a whole number from 0 to 4294967295");
    out->z = (int)z;
    return TS_OK;
}

ts_status
ts_ows_parse_tms(const char *path, ts_xyz_req *out, ts_err *err)
{
    ts_status st = ts_ows_parse_xyz(path, out, err);
    if (st != TS_OK) {
        if (err && strncmp(err->msg, "tile URLs look like", 19) == 0) /* say the TMS form */
            snprintf(err->msg, sizeof err->msg,
                     "TMS URLs look like /tms/1.0.0/{tileset}/{z}/{x}/{y}.png");
        return st;
    }
    if (out->grid[0] != '\0')
        return TS_FAIL(err, TS_ENOENT, "TMS URLs look like /tms/1.0.0/{tileset}/{z}/{x}/{y}.png");
    uint64_t n = (uint64_t)1 << out->z;
    if (out->y >= n)
        return TS_FAIL(err, TS_EINVAL, "y outside 0..%llu", (unsigned long long)(n - 1));
    out->y = (uint32_t)(n - 1 - out->y);
    return TS_OK;
}
