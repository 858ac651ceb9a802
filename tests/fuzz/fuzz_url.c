/* tests/fuzz/fuzz_url.c — libFuzzer target for the tile URL parsers (XYZ and TMS): any
 * bytes must give TS_OK with fields in range, or an error with a message; never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ows/ows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ts_xyz_req r;
    ts_err err;
    for (int tms = 0; tms < 2; tms++) {
        ts_err_clear(&err);
        ts_status st = tms ? ts_ows_parse_tms(s, &r, &err) : ts_ows_parse_xyz(s, &r, &err);
        if (st == TS_OK) {
            if (r.z < 0 || r.z > 30 || (r.scale != 1 && r.scale != 2) || r.tileset[0] == '\0' ||
                strlen(r.tileset) >= TS_NAME_MAX)
                abort();
            if (tms && r.y >= (1ull << r.z))
                abort();
        } else if (err.msg[0] == '\0') {
            abort();
        }
    }
    free(s);
    return 0;
}
