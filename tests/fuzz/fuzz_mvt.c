/* tests/fuzz/fuzz_mvt.c — libFuzzer target for the MVT encoder. The input bytes are a
 * script: builder options, layers, then feature operations (begin, id, typed attributes,
 * points / lines / rings in tile units with extreme and non-finite coordinates, map-space
 * geometries through ts_mvt_add_geom, commit, rollback, finish). Every tile the builder
 * writes must pass the module's validator within extent + buffer, be no larger than the
 * limit, agree with the report, and survive gzip and back. The raw input is also fed to
 * the validator itself. Any violation aborts. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mvt/mvt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct script {
    const uint8_t *p;
    size_t n;
} script;

static uint32_t
take(script *s, int nbytes)
{
    uint32_t v = 0;
    for (int i = 0; i < nbytes; i++) {
        v <<= 8;
        if (s->n) {
            v |= *s->p++;
            s->n--;
        }
    }
    return v;
}

static double
coord(script *s, uint32_t extent)
{
    uint32_t mode = take(s, 1);
    if (mode < 200) /* around the tile, in steps of 1/16 unit */
        return ((double)(int16_t)take(s, 2)) / 16.0 * (extent / 256.0 + 1) / 8;
    if (mode < 235)
        return (double)(int32_t)take(s, 4) / 1024.0;
    switch (mode % 7) {
    case 0:
        return NAN;
    case 1:
        return INFINITY;
    case 2:
        return 1e300;
    case 3:
        return -1e14;
    case 4:
        return 1e15;
    case 5:
        return -(double)extent * 9;
    default:
        return 0.5;
    }
}

static void
check_tile(ts_mvt_builder *b, const ts_buf *out, const ts_mvt_report *rep)
{
    const ts_mvt_opts *o = ts_mvt_builder_opts(b);
    ts_err err;
    ts_err_clear(&err);
    ts_mvt_info info;
    if (ts_mvt_validate(out->data, out->len, o->buffer, &info, &err) != TS_OK) {
        fprintf(stderr, "invalid tile: %s\n", err.msg);
        abort();
    }
    if (rep->bytes != out->len || out->len > o->max_bytes || info.features != rep->features ||
        info.layers != rep->layers)
        abort();
    ts_buf gz, back;
    ts_buf_init(&gz, 64u << 20);
    ts_buf_init(&back, 64u << 20);
    if (ts_mvt_gzip(out->data, out->len, 1, &gz, NULL) != TS_OK ||
        ts_mvt_gunzip(gz.data, gz.len, &back, NULL) != TS_OK || back.len != out->len ||
        (out->len && memcmp(back.data, out->data, out->len) != 0))
        abort();
    ts_buf_fini(&gz);
    ts_buf_fini(&back);
}

static void
do_finish(ts_mvt_builder *b)
{
    ts_buf out;
    ts_buf_init(&out, 64u << 20);
    ts_mvt_report rep;
    ts_status st = ts_mvt_finish(b, &out, &rep, NULL);
    if (st == TS_OK)
        check_tile(b, &out, &rep);
    else if (st != TS_EINVAL) /* EINVAL: a feature is open */
        abort();
    ts_buf_fini(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_mvt_validate(data, size, -1, NULL, NULL); /* must not crash on any bytes */

    script s = {data, size};
    static const uint32_t extents[] = {4096, 256, 512, 65536, 8, 4096, 1u << 24, 4096};
    ts_mvt_opts o = {0};
    o.extent = extents[take(&s, 1) % 8];
    uint32_t bufsel = take(&s, 1);
    o.buffer = bufsel % 64 * (o.extent / 64 + 1);
    o.no_buffer = bufsel == 0;
    uint32_t lim = take(&s, 1);
    o.max_bytes = lim < 128 ? 0 : lim < 250 ? 32 + (lim - 128) * 24 : 100000;
    ts_mvt_builder *b = ts_mvt_builder_new(&o, NULL);
    if (b == NULL)
        return 0; /* buffer too large for the extent */
    int nlayers = 1 + (int)(take(&s, 1) % 4);
    for (int i = 0; i < nlayers; i++) {
        char name[16];
        snprintf(name, sizeof name, "l%d", i);
        if (ts_mvt_layer_add(b, name, NULL) != i)
            abort();
    }
    if (ts_mvt_layer_add(b, "l0", NULL) != -1) /* duplicate name */
        abort();
    const uint32_t extent = ts_mvt_builder_opts(b)->extent;
    double xy[2 * 300];
    uint32_t counts[8];
    static const char *keys[] = {"a", "b", "name", "k\xc3\xa9y", "bad\xfe"};
    int steps = 0;
    while (s.n > 0 && steps++ < 2000) {
        uint32_t op = take(&s, 1) % 10;
        switch (op) {
        case 0:
        case 1:
            ts_mvt_feature_begin(b, (int)(take(&s, 1) % (uint32_t)(nlayers + 1)),
                                 (ts_mvt_geom_type)(take(&s, 1) % 4), NULL);
            break;
        case 2:
            ts_mvt_feature_set_id(b, (uint64_t)take(&s, 4) << (take(&s, 1) % 33), NULL);
            break;
        case 3: {
            ts_mvt_value v;
            char str[16];
            uint32_t t = take(&s, 1);
            v.type = (ts_mvt_value_type)(1 + t % 6);
            switch (v.type) {
            case TS_MVT_STRING: {
                size_t n = take(&s, 1) % sizeof str;
                for (size_t i = 0; i < n; i++)
                    str[i] = (char)take(&s, 1);
                v.v.s.p = str;
                v.v.s.len = n;
                break;
            }
            case TS_MVT_INT:
                v.v.i = (int64_t)((uint64_t)take(&s, 4) << 32 | take(&s, 4));
                break;
            case TS_MVT_UINT:
                v.v.u = (uint64_t)take(&s, 4) << (t & 31);
                break;
            case TS_MVT_DOUBLE:
            case TS_MVT_FLOAT:
                v.v.d = coord(&s, 4096);
                break;
            default:
                v.v.b = (int)(take(&s, 1) & 1);
                break;
            }
            ts_mvt_feature_attr(b, keys[take(&s, 1) % 5], &v, NULL);
            break;
        }
        case 4:
        case 5:
        case 6: {
            size_t n = take(&s, 1) % 300;
            for (size_t i = 0; i < 2 * n; i++)
                xy[i] = coord(&s, extent);
            uint32_t kind = take(&s, 1) % 3;
            if (kind == 0)
                ts_mvt_feature_points(b, xy, n, NULL);
            else if (kind == 1)
                ts_mvt_feature_line(b, xy, n, NULL);
            else
                ts_mvt_feature_ring(b, xy, n, (int)(take(&s, 1) & 1), NULL);
            break;
        }
        case 7: {
            /* a map-space geometry through a transformation */
            uint32_t nparts = take(&s, 1) % 8, total = 0;
            for (uint32_t i = 0; i < nparts; i++) {
                counts[i] = take(&s, 1) % 40;
                if (total + counts[i] > 300)
                    counts[i] = 0;
                total += counts[i];
            }
            for (uint32_t i = 0; i < 2 * total; i++)
                xy[i] = 1000 + coord(&s, extent) / 16;
            ts_bbox tb = {1000, 1000, 1000 + 1 + take(&s, 1), 1000 + 1 + take(&s, 1)};
            ts_mvt_transform tr = ts_mvt_transform_for(&tb, extent);
            ts_mvt_add_geom(b, (ts_mvt_geom_type)(1 + take(&s, 1) % 3), xy, counts, nparts, &tr,
                            NULL);
            break;
        }
        case 8: {
            int kept = -1;
            ts_status st = ts_mvt_feature_commit(b, &kept, NULL);
            if (st == TS_OK && kept != 0 && kept != 1)
                abort();
            if (take(&s, 1) % 16 == 0)
                do_finish(b);
            break;
        }
        default:
            ts_mvt_feature_rollback(b);
            break;
        }
    }
    ts_mvt_feature_rollback(b);
    do_finish(b);
    ts_mvt_builder_free(b);
    return 0;
}
