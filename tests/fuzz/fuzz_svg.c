/* tests/fuzz/fuzz_svg.c — libFuzzer target for the SVG reader of ExternalGraphics
 * (style/svg.c): any bytes give outlines whose counts add up to finite points, or NULL with
 * a message; never a crash, a hang or unbounded memory. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "style/style.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_log_set_level(TS_LOG_ERROR);
    ts_err err = {0};
    ts_svg *s = ts_svg_parse((const char *)data, size, "fuzz.svg",
                              "fill=%23ff0000&outline=%2300ff00&outline-width=2&x=%zz%", &err);
    if (s == NULL) {
        if (err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (s->nitems < 1 || !(s->width > 0) || !(s->height > 0))
        abort();
    for (int i = 0; i < s->nitems; i++) {
        const ts_svg_item *it = &s->items[i];
        size_t n = 0;
        for (uint32_t p = 0; p < it->nparts; p++)
            n += it->counts[p];
        for (size_t k = 0; k < 2 * n; k++)
            if (!(fabs(it->xy[k]) <= 1e9))
                abort(); /* finite and bounded: the rasteriser's input */
        if (!(it->fill_opacity >= 0 && it->fill_opacity <= 1) || !(it->sk.width >= 0))
            abort();
    }
    ts_svg_free(s);
    return 0;
}
