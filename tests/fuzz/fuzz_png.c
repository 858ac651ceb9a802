/* tests/fuzz/fuzz_png.c — libFuzzer target for the PNG decoder (symbols and golden images
 * come from files a user supplies): any bytes decode into a sane canvas or fail with a
 * message; never a crash, never a huge allocation. */
#include <stdint.h>
#include <stdlib.h>

#include "encode/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_err err;
    ts_err_clear(&err);
    ts_canvas *c = ts_png_decode(data, size, &err);
    if (c) {
        if (c->w < 1 || c->h < 1 || (uint64_t)c->w * (uint64_t)c->h > 64ull * 1024 * 1024)
            abort();
        ts_canvas_free(c);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
