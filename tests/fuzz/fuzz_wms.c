/* tests/fuzz/fuzz_wms.c — libFuzzer target for the WMS KVP parser: any bytes must give TS_OK
 * with a request whose fields are in range, or an error with an OGC code and a message; the
 * exception report for the fault must be written; never a crash. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ows/ows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
layer(void *ud, const char *name, int *queryable)
{
    (void)ud;
    *queryable = name[0] != 'b';
    return strcmp(name, "parcels") == 0 || strcmp(name, "buildings") == 0;
}

static int
style(void *ud, const char *layer_name, const char *name)
{
    (void)ud;
    (void)layer_name;
    return strcmp(name, "numbers") == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    static const char *const crs[] = {"EPSG:3857", "EPSG:4326", "CRS:84", "EPSG:25832",
                                      "EPSG:31467"};
    ts_wms_options opt = {1024, 1024, 512L * 1024, 8, 10, crs, 5, "5"};
    ts_ows_catalog cat = {NULL, layer, style, NULL};
    ts_wms_req r;
    ts_ows_fault f;
    ts_status st = ts_ows_parse_wms(s, &opt, &cat, &r, &f);
    if (st == TS_OK) {
        if (f.code != TS_OWS_NONE || (r.version != 111 && r.version != 130))
            abort();
        if (r.op == TS_WMS_GETMAP || r.op == TS_WMS_GETFEATUREINFO) {
            if (r.width < 1 || r.width > 1024 || r.height < 1 || r.height > 1024 ||
                (long)r.width * r.height > 512L * 1024 || r.nlayers < 1 || r.nlayers > 8 ||
                r.crs == NULL || !(r.bbox.minx < r.bbox.maxx) || !(r.bbox.miny < r.bbox.maxy) ||
                !isfinite(r.bbox.minx) || !isfinite(r.bbox.maxy))
                abort();
            for (int i = 0; i < r.nlayers; i++)
                if (r.layers[i] == NULL || r.styles[i] == NULL)
                    abort();
        }
        if (r.op == TS_WMS_GETMAP && r.format == TS_IMG_NONE)
            abort();
        if (r.op == TS_WMS_GETFEATUREINFO &&
            (r.i < 0 || r.i >= r.width || r.j < 0 || r.j >= r.height || r.feature_count < 1 ||
             r.feature_count > 10 || r.nquery_layers < 1))
            abort();
        if (r.op == TS_WMS_GETLEGENDGRAPHIC && (r.layer == NULL || r.style == NULL))
            abort();
    } else if (f.code == TS_OWS_NONE || f.err.msg[0] == '\0') {
        abort();
    }
    ts_buf b;
    ts_buf_init(&b, 1 << 20);
    if (st != TS_OK && ts_ows_write_wms_exception(&f, r.version, &b) != TS_OK)
        abort();
    ts_buf_fini(&b);
    ts_ows_wms_req_free(&r);
    free(s);
    return 0;
}
