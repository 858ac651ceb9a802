/* mvt/gzip.c — gzip wrapping of finished tiles (Content-Encoding: gzip, MBTiles): written
 * with libdeflate, read with zlib (streams of unknown length). */
#include "mvt/mvt.h"

#include <libdeflate.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

int
ts_mvt_is_gzip(const uint8_t *data, size_t len)
{
    return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

ts_status
ts_mvt_gzip(const uint8_t *data, size_t len, int level, ts_buf *out, ts_err *err)
{
    if (level < -1 || level > 9)
        return TS_FAIL(err, TS_EINVAL, "gzip level %d", level);
    if (len > UINT_MAX / 2)
        return TS_FAIL(err, TS_ELIMIT, "gzip input of %zu bytes", len);
    /* libdeflate: the same format as zlib's deflate, two to three times faster at equal
     * levels (zlib's default -1 is level 6) */
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level < 0 ? 6 : level);
    if (c == NULL)
        return TS_FAIL(err, TS_ENOMEM, "gzip compressor");
    size_t bound = libdeflate_gzip_compress_bound(c, len);
    ts_status st = ts_buf_reserve(out, bound);
    if (st != TS_OK) {
        libdeflate_free_compressor(c);
        return TS_FAIL(err, st, "gzip output of up to %zu bytes", bound);
    }
    size_t n = libdeflate_gzip_compress(c, data, len, out->data + out->len, bound);
    libdeflate_free_compressor(c);
    if (n == 0) {
        ts_buf_fini(out);
        return TS_FAIL(err, TS_EINTERNAL, "gzip: output larger than its bound");
    }
    out->len += n;
    out->data[out->len] = 0;
    return TS_OK;
}

ts_status
ts_mvt_gunzip(const uint8_t *data, size_t len, ts_buf *out, ts_err *err)
{
    if (len > UINT_MAX)
        return TS_FAIL(err, TS_ELIMIT, "gzip input of %zu bytes", len);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 32: gzip or zlib, told by the header */
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return TS_FAIL(err, TS_ENOMEM, "inflateInit2");
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    size_t start = out->len;
    int rc = Z_OK;
    while (rc == Z_OK) {
        size_t room = out->max - out->len;
        if (room == 0) {
            inflateEnd(&zs);
            ts_buf_fini(out);
            return TS_FAIL(err, TS_ELIMIT, "inflated tile over %zu bytes", out->max);
        }
        size_t chunk = len * 4 + 4096;
        if (chunk > room)
            chunk = room;
        if (chunk > (1u << 30))
            chunk = 1u << 30;
        ts_status st = ts_buf_reserve(out, chunk);
        if (st != TS_OK) {
            inflateEnd(&zs);
            return TS_FAIL(err, st, "inflated tile");
        }
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        out->len += chunk - zs.avail_out;
        if (rc == Z_BUF_ERROR && zs.avail_out == 0)
            rc = Z_OK; /* needs more room */
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        out->len = start;
        return TS_FAIL(err, TS_EINVAL, "corrupt or truncated gzip data (%d)", rc);
    }
    out->data[out->len] = 0;
    return TS_OK;
}
