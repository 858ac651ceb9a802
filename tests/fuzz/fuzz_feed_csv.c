/* tests/fuzz/fuzz_feed_csv.c — libFuzzer target for the text the feeds read besides JSON:
 * device tables and the demo's measurement CSV (TS_OK with sane rows, or an error with a
 * message), and every line as an ISO 8601 time (parse -> format -> parse is stable). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    ts_err err;
    ts_err_clear(&err);
    ts_feed_table *t = NULL;
    ts_status rc = ts_feed_table_parse_csv("fuzz.csv", (const char *)data, size, &t, &err);
    if (rc != TS_OK && err.msg[0] == '\0')
        abort();
    for (size_t i = 0; rc == TS_OK && i < ts_feed_table_count(t); i++) {
        const ts_feed_device *d = ts_feed_table_at(t, i);
        if (!(fabs(d->lon) <= 180 && fabs(d->lat) <= 90) || ts_feed_table_find(t, d->key) != d)
            abort();
    }
    ts_feed_table_free(t);
    ts_demo_station *st = NULL;
    size_t n = 0;
    ts_err_clear(&err);
    rc = ts_demo_parse_air("fuzz.csv", (const char *)data, size, &st, &n, &err);
    if (rc != TS_OK && err.msg[0] == '\0')
        abort();
    if (rc == TS_OK && n == 0)
        abort();
    ts_demo_stations_free(st, n);
    char line[160];
    size_t i = 0;
    while (i < size) {
        size_t j = i;
        while (j < size && data[j] != '\n')
            j++;
        size_t l = j - i < sizeof line - 1 ? j - i : sizeof line - 1;
        memcpy(line, data + i, l);
        line[l] = '\0';
        int64_t a, b;
        char buf[40];
        if (ts_feed_time_parse(line, &a) == 0) {
            if (ts_feed_time_parse(ts_feed_time_format(a, buf, sizeof buf), &b) != 0 || a != b)
                abort();
        }
        i = j + 1;
    }
    return 0;
}
