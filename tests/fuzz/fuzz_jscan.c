/* tests/fuzz/fuzz_jscan.c — libFuzzer target: the feed's JSON scanner (feed/jscan.c)
 * against jansson as the feed loads JSON (json_loadb, JSON_REJECT_DUPLICATES). Both must
 * accept or refuse each input alike (the scanner may also refuse for its limits: depth,
 * tokens), and for accepted inputs every value the scanner reads — types, counts, keys and
 * member lookup, unescaped strings, integers, reals bit for bit, id text — must be
 * jansson's. Any difference aborts. Known difference: inputs with a NUL byte, which jansson
 * may accept, are refused. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless the subtree of token i reads back as jansson's value v. */
static void
same_value(const ts_jscan *js, uint32_t i, json_t *v)
{
    char a[TS_FEED_ID_MAX], b[TS_FEED_ID_MAX];
    int ra = ts_jscan_idtext(js, i, a, sizeof a), rb = ts_feed_json_idtext(v, b, sizeof b);
    if (ra != rb || (ra == 0 && strcmp(a, b) != 0))
        abort();
    switch (ts_jscan_type(js, i)) {
    case TS_J_OBJECT: {
        if (!json_is_object(v) || json_object_size(v) != js->tok[i].count)
            abort();
        uint32_t k = i + 1;
        for (uint32_t m = 0; m < js->tok[i].count; m++, k = js->tok[k + 1].next) {
            long n = ts_jscan_string(js, k, NULL, 0);
            char *key = n >= 0 ? malloc((size_t)n + 1) : NULL;
            if (key == NULL || ts_jscan_string(js, k, key, (size_t)n + 1) != n)
                abort();
            json_t *mv = json_object_getn(v, key, (size_t)n);
            if (mv == NULL || ts_jscan_member(js, i, key, (size_t)n) != k + 1)
                abort();
            if (memchr(key, '/', (size_t)n) == NULL && n > 0 &&
                ts_jscan_path(js, i, key) != k + 1)
                abort();
            free(key);
            same_value(js, k + 1, mv);
        }
        return;
    }
    case TS_J_ARRAY: {
        if (!json_is_array(v) || json_array_size(v) != js->tok[i].count)
            abort();
        uint32_t c = i + 1;
        for (uint32_t m = 0; m < js->tok[i].count; m++, c = js->tok[c].next)
            same_value(js, c, json_array_get(v, m));
        return;
    }
    case TS_J_STRING: {
        long n = ts_jscan_string(js, i, NULL, 0);
        char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (s == NULL || !json_is_string(v) || ts_jscan_string(js, i, s, (size_t)n + 1) != n ||
            (size_t)n != json_string_length(v) || memcmp(s, json_string_value(v), (size_t)n) != 0)
            abort();
        free(s);
        return;
    }
    case TS_J_NUMBER: {
        int64_t iv;
        double d;
        if (ts_jscan_number(js, i, &d) != 0 || !isfinite(d))
            abort();
        if (ts_jscan_int(js, i, &iv) == 0) {
            if (!json_is_integer(v) || json_integer_value(v) != iv)
                abort();
        } else {
            double r = json_real_value(v);
            if (!json_is_real(v) || memcmp(&d, &r, sizeof d) != 0)
                abort();
        }
        return;
    }
    case TS_J_TRUE:
        if (!json_is_true(v))
            abort();
        return;
    case TS_J_FALSE:
        if (!json_is_false(v))
            abort();
        return;
    case TS_J_NULL:
        if (!json_is_null(v))
            abort();
        return;
    default:
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    ts_jtok buf[8]; /* small: the growth onto the heap is exercised too */
    ts_jscan js;
    ts_jscan_init(&js, buf, 8);
    char err[160];
    int rc = ts_jscan_parse(&js, data, size, err, sizeof err);
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (rc == -2) {
        /* beyond the scanner's limits: deeper than TS_JSCAN_DEPTH or too many tokens */
        if (strstr(err, "nesting") == NULL && strstr(err, "tokens") == NULL)
            abort();
    } else if (memchr(data, 0, size) != NULL) {
        /* the scanner refuses every NUL byte; jansson 2.14 skips one right after a number
         * or literal ("[1\0]" accepted) */
        if (rc == 0)
            abort();
    } else if ((rc == 0) != (root != NULL)) {
        abort();
    } else if (rc == 0) {
        same_value(&js, 0, root);
    } else if (strncmp(err, "line ", 5) != 0 || js.n != 0) {
        abort();
    }
    json_decref(root);
    ts_jscan_fini(&js);
    return 0;
}
