/* tests/fuzz/fuzz_oat.c — libFuzzer target for the OGC API – Tiles path parser: any bytes
 * must give TS_OK with a known route and bounded identifiers (and a tile path that parses
 * back to the same request when written out again), or TS_ENOENT with a message; never a
 * crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ows/ows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ident(const char *s)
{
    if (memchr(s, '\0', TS_NAME_MAX) == NULL || strchr(s, '/') != NULL)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ts_oat_req q;
    ts_err err;
    ts_err_clear(&err);
    ts_status st = ts_ows_parse_oat_path(s, &q, &err);
    if (st == TS_OK) {
        if (q.route < TS_OAT_LANDING || q.route > TS_OAT_TILE)
            abort();
        check_ident(q.collection);
        check_ident(q.tms);
        check_ident(q.matrix);
        if (q.route == TS_OAT_TILE) {
            if (q.collection[0] == '\0' || q.tms[0] == '\0' || q.matrix[0] == '\0' ||
                (q.format != TS_IMG_PNG && q.format != TS_IMG_MVT))
                abort();
            char again[1024];
            snprintf(again, sizeof again, q.format == TS_IMG_PNG
                                              ? "/collections/%s/map/tiles/%s/%s/%u/%u.png"
                                              : "/collections/%s/tiles/%s/%s/%u/%u.mvt",
                     q.collection, q.tms, q.matrix, q.row, q.col);
            ts_oat_req r;
            if (ts_ows_parse_oat_path(again, &r, &err) != TS_OK || r.route != TS_OAT_TILE ||
                r.format != q.format || r.row != q.row || r.col != q.col || strcmp(r.collection, q.collection) != 0 ||
                strcmp(r.tms, q.tms) != 0 || strcmp(r.matrix, q.matrix) != 0)
                abort();
        }
    } else if (st != TS_ENOENT || err.msg[0] == '\0') {
        abort();
    }
    free(s);
    return 0;
}
