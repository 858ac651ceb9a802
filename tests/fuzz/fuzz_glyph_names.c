/* tests/fuzz/fuzz_glyph_names.c — libFuzzer target for the font names of a glyph request
 * (/fonts/{fontstack}/...): any bytes, cut at commas as the handler cuts a stack, must give
 * a face of the catalogue or -1 for an empty or overlong name, never a crash, and every
 * face found must name itself back. Uses the DejaVu fonts (fonts-dejavu-core). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ts_font_catalog *cat;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cat == NULL) {
        static const char *const dirs[] = {"/usr/share/fonts/truetype/dejavu"};
        ts_err err = {0};
        cat = ts_font_catalog_new(dirs, 1, &err);
        if (cat == NULL)
            abort();
    }
    if (size > 4096)
        return 0;
    const char *s = (const char *)data, *end = s + size;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t len = comma ? (size_t)(comma - s) : (size_t)(end - s);
        int exact = -1;
        int f = ts_text_glyph_face(cat, s, len, &exact);
        if (f < -1 || f >= ts_font_catalog_count(cat) || (exact != 0 && exact != 1))
            abort();
        if (f >= 0) {
            char name[512];
            ts_text_glyph_font_name(cat, f, name, sizeof name);
            int e2, g = ts_text_glyph_face(cat, name, strlen(name), &e2);
            if (g != f || !e2)
                abort();
        }
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    return 0;
}
