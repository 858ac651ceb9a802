/* tests/fuzz/fuzz_wmts.c — libFuzzer target for the WMTS KVP and RESTful parsers: any bytes
 * must give TS_OK with a tile inside its matrix, or an error with an OGC code and message;
 * never a crash. The first byte selects KVP (even) or REST (odd). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ows/ows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ts_grid *
grid(void *ud, const char *layer, const char *tms)
{
    (void)ud;
    (void)layer;
    return ts_grid_builtin(tms);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    ts_ows_catalog cat = {NULL, NULL, NULL, grid};
    ts_wmts_req r;
    ts_ows_fault f;
    ts_status st = (data[0] & 1) ? ts_ows_parse_wmts_rest(s, &cat, &r, &f)
                                 : ts_ows_parse_wmts_kvp(s, "10", &cat, &r, &f);
    if (st == TS_OK) {
        if (r.op == TS_WMTS_GETTILE || r.op == TS_WMTS_GETFEATUREINFO) {
            if (r.grid == NULL || r.z < 0 || r.z >= r.grid->nlevels ||
                r.row >= r.grid->levels[r.z].matrix_h || r.col >= r.grid->levels[r.z].matrix_w ||
                r.layer[0] == '\0' || r.format == TS_IMG_NONE)
                abort();
            if (r.op == TS_WMTS_GETFEATUREINFO &&
                (r.i >= r.grid->levels[r.z].tile_w || r.j >= r.grid->levels[r.z].tile_h ||
                 r.info_format == TS_INFO_NONE))
                abort();
        } else if (r.op != TS_WMTS_GETCAPABILITIES) {
            abort();
        }
    } else {
        if (f.code == TS_OWS_NONE || f.err.msg[0] == '\0')
            abort();
        ts_buf b;
        ts_buf_init(&b, 1 << 20);
        if (ts_ows_write_ows_exception(&f, &b) != TS_OK)
            abort();
        ts_buf_fini(&b);
    }
    free(s);
    return 0;
}
