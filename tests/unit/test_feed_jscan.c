/* tests/unit/test_feed_jscan.c — the feed module's JSON scanner (feed/jscan.c) against
 * jansson: a table of valid and invalid documents that both must accept or refuse alike
 * (grammar, escapes, surrogates, UTF-8, numbers, duplicate keys, trailing bytes, NULs),
 * the values it reads compared with jansson's tree, its limits (depth, growth beyond the
 * caller's buffer), lookups and id text; and LoRaWAN uplinks that need them (escaped
 * keys, duplicates, deep nesting). */
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

/* jansson's verdict as the feed's parsers ask for it (ts_feed_json_load) */
static json_t *
jansson(const char *doc, size_t len)
{
    return json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
}

/* Does the subtree of token i read back as jansson's value v? Fills why on a difference. */
static int
same_value(const ts_jscan *js, uint32_t i, json_t *v, char *why, size_t size)
{
    char buf[512];
    switch (ts_jscan_type(js, i)) {
    case TS_J_OBJECT: {
        if (!json_is_object(v) || json_object_size(v) != js->tok[i].count) {
            snprintf(why, size, "object at %u", (unsigned)i);
            return 0;
        }
        uint32_t k = i + 1;
        for (uint32_t m = 0; m < js->tok[i].count; m++, k = js->tok[k + 1].next) {
            long n = ts_jscan_string(js, k, buf, sizeof buf);
            if (n < 0 || (size_t)n >= sizeof buf) {
                snprintf(why, size, "key at %u", (unsigned)k);
                return 0;
            }
            json_t *mv = json_object_getn(v, buf, (size_t)n);
            if (mv == NULL || ts_jscan_member(js, i, buf, (size_t)n) != k + 1) {
                snprintf(why, size, "member '%.60s'", buf);
                return 0;
            }
            if (!same_value(js, k + 1, mv, why, size))
                return 0;
        }
        return 1;
    }
    case TS_J_ARRAY: {
        if (!json_is_array(v) || json_array_size(v) != js->tok[i].count) {
            snprintf(why, size, "array at %u", (unsigned)i);
            return 0;
        }
        uint32_t c = i + 1;
        for (uint32_t m = 0; m < js->tok[i].count; m++, c = js->tok[c].next)
            if (!same_value(js, c, json_array_get(v, m), why, size))
                return 0;
        return 1;
    }
    case TS_J_STRING: {
        long n = ts_jscan_string(js, i, NULL, 0);
        char *s = malloc((size_t)n + 1);
        int ok = s != NULL && json_is_string(v) && ts_jscan_string(js, i, s, (size_t)n + 1) == n &&
                 (size_t)n == json_string_length(v) &&
                 memcmp(s, json_string_value(v), (size_t)n) == 0;
        free(s);
        if (!ok)
            snprintf(why, size, "string at %u", (unsigned)i);
        return ok;
    }
    case TS_J_NUMBER: {
        int64_t iv;
        double d;
        int is_int = ts_jscan_int(js, i, &iv) == 0;
        int ok = ts_jscan_number(js, i, &d) == 0 && isfinite(d);
        if (is_int)
            ok = ok && json_is_integer(v) && json_integer_value(v) == iv &&
                 d == (double)json_integer_value(v);
        else
            ok = ok && json_is_real(v) && memcmp(&d, &(double){json_real_value(v)}, sizeof d) == 0;
        if (!ok)
            snprintf(why, size, "number at %u", (unsigned)i);
        return ok;
    }
    case TS_J_TRUE:
        return json_is_true(v) || (snprintf(why, size, "true at %u", (unsigned)i), 0);
    case TS_J_FALSE:
        return json_is_false(v) || (snprintf(why, size, "false at %u", (unsigned)i), 0);
    case TS_J_NULL:
        return json_is_null(v) || (snprintf(why, size, "null at %u", (unsigned)i), 0);
    default:
        snprintf(why, size, "no token %u", (unsigned)i);
        return 0;
    }
}

/* Both readers on one document: same verdict, and when accepted the same values. expect:
 * 1 accepted, 0 refused (a check of the table itself). */
static void
check_doc(const char *file, int line, const char *doc, size_t len, int expect)
{
    ts_jtok buf[16];
    ts_jscan js;
    ts_jscan_init(&js, buf, 16);
    char err[160] = "";
    int rc = ts_jscan_parse(&js, doc, len, err, sizeof err);
    json_t *root = jansson(doc, len);
    if ((rc == 0) != (root != NULL))
        ts_test_fail(file, line, "jscan %s (%s), jansson %s", rc == 0 ? "accepts" : "refuses",
                     err, root ? "accepts" : "refuses");
    else if ((rc == 0) != expect)
        ts_test_fail(file, line, "both %s, the table says otherwise",
                     rc == 0 ? "accept" : "refuse");
    if (rc != 0 && (rc != -1 || strncmp(err, "line ", 5) != 0))
        ts_test_fail(file, line, "refusal %d with message '%s'", rc, err);
    char why[128];
    if (rc == 0 && root != NULL && !same_value(&js, 0, root, why, sizeof why))
        ts_test_fail(file, line, "values differ: %s", why);
    json_decref(root);
    ts_jscan_fini(&js);
}

#define ACCEPT(lit) check_doc(__FILE__, __LINE__, lit, sizeof(lit) - 1, 1)
#define REFUSE(lit) check_doc(__FILE__, __LINE__, lit, sizeof(lit) - 1, 0)

TS_TEST(feed_jscan_grammar_as_jansson)
{
    ACCEPT("{}");
    ACCEPT("[]");
    ACCEPT(" \t\r\n[ 1 , 2 ]\n ");
    ACCEPT("{\"a\":{\"b\":[true,false,null,{}]},\"c\":[[],[[]]]}");
    ACCEPT("[\"\",\"x\",\" \"]");
    REFUSE("");
    REFUSE(" \n");
    REFUSE("1");          /* only objects and arrays at the top, as json_loadb without */
    REFUSE("\"x\"");      /* JSON_DECODE_ANY */
    REFUSE("true");
    REFUSE("null");
    REFUSE("[1,]");
    REFUSE("[,1]");
    REFUSE("[1 2]");
    REFUSE("{\"a\"}");
    REFUSE("{\"a\":}");
    REFUSE("{\"a\" 1}");
    REFUSE("{a:1}");
    REFUSE("{'a':1}");
    REFUSE("{\"a\":1,}");
    REFUSE("{1:1}");
    REFUSE("[1}");
    REFUSE("{\"a\":1]");
    REFUSE("[");
    REFUSE("[[]");
    REFUSE("{\"a\":[1,2}");
    REFUSE("[tru]");
    REFUSE("[truex]");
    REFUSE("[true1]");
    REFUSE("[nul]");
    REFUSE("[True]");
    REFUSE("[NaN]");
    REFUSE("[Infinity]");
    REFUSE("[1]x");
    REFUSE("[1]]");
    REFUSE("{}{}");
    REFUSE("{} []");
    REFUSE("\xEF\xBB\xBF[1]"); /* a BOM is no whitespace */
    REFUSE("[1]\v");
    REFUSE("[\f1]");
    REFUSE("[1]\0");
    REFUSE("[\0]");
    REFUSE("\0[]");
    REFUSE("[\"a\0b\"]");
    /* stricter than jansson 2.14, which skips one NUL byte right after a number or a
     * literal (its stream reads a NUL pushed back as "nothing buffered") */
    static const char nul_after[][10] = {"[1\0]", "[true\0]", "{\"k\":13\0}", "[1.5\0]"};
    static const size_t nul_len[] = {4, 7, 9, 6};
    ts_jscan js;
    ts_jscan_init(&js, NULL, 0);
    for (int i = 0; i < 4; i++)
        TS_CHECK_INT(ts_jscan_parse(&js, nul_after[i], nul_len[i], NULL, 0), -1);
    ts_jscan_fini(&js);
    REFUSE("[1]/* c */");
}

TS_TEST(feed_jscan_strings_as_jansson)
{
    ACCEPT("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
    ACCEPT("[\"\\u0041\\u00e9\\u00E9\\u20ac\\uFFFF\"]");
    ACCEPT("[\"\\ud83d\\ude00 \\uDBFF\\uDFFF\"]"); /* surrogate pairs, U+10FFFF */
    ACCEPT("[\"\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"]"); /* raw 2, 3, 4 bytes */
    ACCEPT("[\"\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF\"]");
    ACCEPT("[\"\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF \x7F\"]");
    REFUSE("[\"abc]");
    REFUSE("[\"abc");
    REFUSE("[\"\\\"]");
    REFUSE("[\"\\x\"]");
    REFUSE("[\"\\a\"]");
    REFUSE("[\"\\U0041\"]");
    REFUSE("[\"\\u12\"]");
    REFUSE("[\"\\u12G4\"]");
    REFUSE("[\"\\u004\"]");
    REFUSE("[\"\\u0000\"]"); /* jansson without JSON_ALLOW_NUL */
    REFUSE("[\"\\ud800\"]");
    REFUSE("[\"\\ud800x\"]");
    REFUSE("[\"\\ud800\\u0041\"]");
    REFUSE("[\"\\ud800\\ud800\"]");
    REFUSE("[\"\\ud800\\\"]");
    REFUSE("[\"\\udc00\"]");
    REFUSE("[\"\\udfff\\ud800\"]");
    REFUSE("[\"a\x01\"]");
    REFUSE("[\"\t\"]");
    REFUSE("[\"\n\"]");
    REFUSE("[\"\x1F\"]");
    REFUSE("[\"\x80\"]");
    REFUSE("[\"\xBF\"]");
    REFUSE("[\"\xC0\x80\"]"); /* overlong NUL */
    REFUSE("[\"\xC1\xBF\"]");
    REFUSE("[\"\xC3\"]");
    REFUSE("[\"\xC3\x28\"]");
    REFUSE("[\"\xE0\x80\xAF\"]"); /* overlong '/' */
    REFUSE("[\"\xE0\x9F\xBF\"]");
    REFUSE("[\"\xED\xA0\x80\"]"); /* an encoded surrogate */
    REFUSE("[\"\xED\xBF\xBF\"]");
    REFUSE("[\"\xE2\x82\"]");
    REFUSE("[\"\xF0\x8F\xBF\xBF\"]");
    REFUSE("[\"\xF4\x90\x80\x80\"]"); /* above U+10FFFF */
    REFUSE("[\"\xF5\x80\x80\x80\"]");
    REFUSE("[\"\xF8\x88\x80\x80\x80\"]");
    REFUSE("[\"\xFF\"]");
    REFUSE("[\xC3\xA9]");
    /* long strings, plain and escaped, through a buffer that must grow */
    size_t n = 100000;
    char *doc = malloc(n * 6 + 16);
    TS_REQUIRE(doc != NULL);
    size_t k = 0;
    doc[k++] = '[';
    doc[k++] = '"';
    for (size_t i = 0; i < n; i++)
        doc[k++] = (char)('a' + i % 26);
    doc[k++] = '"';
    doc[k++] = ',';
    doc[k++] = '"';
    for (size_t i = 0; i < n / 2; i++) {
        memcpy(doc + k, i % 2 ? "\\u00e9" : "\\n", i % 2 ? 6 : 2);
        k += i % 2 ? 6 : 2;
    }
    doc[k++] = '"';
    doc[k++] = ']';
    check_doc(__FILE__, __LINE__, doc, k, 1);
    free(doc);
}

TS_TEST(feed_jscan_numbers_as_jansson)
{
    ACCEPT("[0,-0,1,-1,10,123456789]");
    ACCEPT("[0.0,-0.0,0.5,-0.5,1.25e3,1E3,1e+3,1e-3,1.5E-3,0e0,0E+0,-0e-0]");
    ACCEPT("[9223372036854775807,-9223372036854775808]");
    ACCEPT("[1e-400,-1e-400,0.000e999999999999,0e400,4.9e-324,2.2250738585072014e-308]");
    ACCEPT("[1.7976931348623157e308,-1.7976931348623157e308,1.7976931348623158e308]");
    ACCEPT("[17976931348623157e292,0.17976931348623157e309,1e308,9.99e307]");
    ACCEPT("[1.0,1e2,100000000000000000000000.0,12345678901234567890.5]");
    ACCEPT("[0.1,0.30000000000000004,123.456e-7,3.141592653589793238462643383279]");
    ACCEPT("{\"a\":-12,\"b\":[2e-5]}");
    REFUSE("[01]");
    REFUSE("[-01]");
    REFUSE("[00]");
    REFUSE("[1.]");
    REFUSE("[1.e3]");
    REFUSE("[.5]");
    REFUSE("[-.5]");
    REFUSE("[-]");
    REFUSE("[--1]");
    REFUSE("[+1]");
    REFUSE("[1e]");
    REFUSE("[1e+]");
    REFUSE("[1e-]");
    REFUSE("[1ee3]");
    REFUSE("[1e3.5]");
    REFUSE("[0x10]");
    REFUSE("[1_000]");
    REFUSE("[- 1]");
    REFUSE("[1e400]");
    REFUSE("[-1e400]");
    REFUSE("[1e309]");
    REFUSE("[1.8e308]");
    REFUSE("[1.7976931348623159e308]");
    REFUSE("[0.18e310]");
    REFUSE("[1e99999999999999999999]");
    REFUSE("[100000000000000000000000000000000000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000000000000000000000000000.0]");
    REFUSE("[9223372036854775808]"); /* too big for jansson's integers */
    REFUSE("[-9223372036854775809]");
    REFUSE("[12345678901234567890]");
}

TS_TEST(feed_jscan_duplicate_keys_as_jansson)
{
    ACCEPT("{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"a\":3},{\"a\":4}]}");
    ACCEPT("{\"a\":1,\"A\":2,\"a \":3,\"\":4,\"\\u00e9\":5,\"e\\u0301\":6}");
    REFUSE("{\"a\":1,\"a\":2}");
    REFUSE("{\"a\":1,\"b\":2,\"a\":1}");
    REFUSE("{\"\":1,\"\":2}");
    REFUSE("{\"a\":1,\"\\u0061\":2}");          /* equal once unescaped */
    REFUSE("{\"\\u00e9\":1,\"\xC3\xA9\":2}");
    REFUSE("{\"\\ud83d\\ude00\":1,\"\xF0\x9F\x98\x80\":2}");
    REFUSE("{\"a/b\":1,\"a\\/b\":2}");
    REFUSE("{\"x\":{\"y\":{\"z\":1,\"z\":1}}}");
    REFUSE("[{},{\"k\":1,\"k\":1}]");
    /* objects large enough to be sorted rather than compared pairwise */
    for (int dup = 0; dup < 4; dup++) {
        char doc[40000];
        size_t k = 0;
        doc[k++] = '{';
        for (int i = 0; i < 1500; i++) {
            /* dup 1: the last key repeats the first; 2: an escaped twin in the middle;
             * 3: two neighbours equal */
            int id = dup == 1 && i == 1499 ? 0 : dup == 3 && i == 701 ? 700 : i;
            if (dup == 2 && i == 900) /* "k1234" */
                k += (size_t)snprintf(doc + k, sizeof doc - k, "\"\\u006b%d\":%d,", 1234, i);
            else
                k += (size_t)snprintf(doc + k, sizeof doc - k, "\"k%d\":%d,", id, i);
        }
        doc[k - 1] = '}';
        check_doc(__FILE__, __LINE__, doc, k, dup == 0);
    }
}

/* A document of depth arrays around one number. */
static char *
nested(int depth, size_t *len)
{
    char *s = malloc((size_t)depth * 2 + 2);
    if (s == NULL)
        return NULL;
    memset(s, '[', (size_t)depth);
    s[depth] = '7';
    memset(s + depth + 1, ']', (size_t)depth);
    *len = (size_t)depth * 2 + 1;
    return s;
}

TS_TEST(feed_jscan_limits)
{
    size_t len;
    char *doc = nested(TS_JSCAN_DEPTH, &len);
    TS_REQUIRE(doc != NULL);
    check_doc(__FILE__, __LINE__, doc, len, 1);
    free(doc);
    /* deeper than its limit: refused (-2) where jansson (up to 2048) would accept */
    ts_jscan js;
    ts_jscan_init(&js, NULL, 0);
    char err[160];
    int depths[] = {TS_JSCAN_DEPTH + 1, 3000};
    for (int d = 0; d < 2; d++) {
        doc = nested(depths[d], &len);
        TS_REQUIRE(doc != NULL);
        TS_CHECK_INT(ts_jscan_parse(&js, doc, len, err, sizeof err), -2);
        TS_CHECK(strstr(err, "nesting") != NULL);
        TS_CHECK_INT(js.n, 0);
        free(doc);
    }
    /* object nesting counts too */
    char obj[5 * (TS_JSCAN_DEPTH + 1) + 1];
    for (int i = 0; i < TS_JSCAN_DEPTH + 1; i++)
        memcpy(obj + 5 * i, "{\"a\":", 5);
    obj[5 * (TS_JSCAN_DEPTH + 1)] = '\0';
    TS_CHECK_INT(ts_jscan_parse(&js, obj, strlen(obj), err, sizeof err), -2);
    TS_CHECK_INT(ts_jscan_parse(&js, "[1]", 3, NULL, 0), 0);   /* reusable after errors */
    TS_CHECK_INT(ts_jscan_type(&js, 0), TS_J_ARRAY);
    TS_CHECK_INT(ts_jscan_type(&js, 2), TS_J_NONE);
    TS_CHECK_INT(ts_jscan_type(&js, TS_JSCAN_NONE), TS_J_NONE);
    ts_jscan_fini(&js);
    /* a message with line and column of the problem */
    ts_jscan_init(&js, NULL, 0);
    TS_CHECK_INT(ts_jscan_parse(&js, "{\n  \"a\": 01\n}", 13, err, sizeof err), -1);
    TS_CHECK(strncmp(err, "line 2 column", 13) == 0);
    TS_CHECK_INT(ts_jscan_parse(&js, NULL, 0, err, sizeof err), -1);
    ts_jscan_fini(&js);
}

TS_TEST(feed_jscan_tokens_and_growth)
{
    /* from a 4-token buffer onto the heap: the same tokens as with room enough */
    const char *doc = "{\"a\":[1,{\"b\":null}],\"c\":\"d\\u0065\",\"e\":{}}";
    ts_jtok small[4], big[64];
    ts_jscan a, b;
    ts_jscan_init(&a, small, 4);
    ts_jscan_init(&b, big, 64);
    TS_REQUIRE(ts_jscan_parse(&a, doc, strlen(doc), NULL, 0) == 0);
    TS_REQUIRE(ts_jscan_parse(&b, doc, strlen(doc), NULL, 0) == 0);
    TS_CHECK(a.heap && !b.heap);
    TS_REQUIRE(a.n == 11 && b.n == 11);
    for (int i = 0; i < 11; i++)
        TS_CHECK(a.tok[i].start == b.tok[i].start && a.tok[i].len == b.tok[i].len &&
                 a.tok[i].next == b.tok[i].next && a.tok[i].count == b.tok[i].count &&
                 a.tok[i].type == b.tok[i].type && a.tok[i].flags == b.tok[i].flags);
    /* root, "a", [, 1, {, "b", null, "c", "de", "e", {} */
    TS_CHECK_INT(a.tok[0].count, 3);
    TS_CHECK_INT(a.tok[0].next, 11);
    TS_CHECK_INT(a.tok[2].type, TS_J_ARRAY);
    TS_CHECK_INT(a.tok[2].count, 2);
    TS_CHECK_INT(a.tok[2].next, 7);
    TS_CHECK_INT(a.tok[2].len, strlen("[1,{\"b\":null}]"));
    TS_CHECK_INT(a.tok[3].flags, TS_JTOK_INT);
    TS_CHECK_INT(a.tok[8].flags, TS_JTOK_ESC);
    TS_CHECK_INT(a.tok[10].type, TS_J_OBJECT);
    TS_CHECK_INT(a.tok[10].count, 0);
    /* lookups */
    char buf[64];
    TS_CHECK_INT(ts_jscan_path(&a, 0, "a"), 2);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "c"), 8);
    TS_CHECK(ts_jscan_string(&a, 8, buf, sizeof buf) == 2 && strcmp(buf, "de") == 0);
    TS_CHECK_INT(ts_jscan_string(&a, 8, buf, 2), 2); /* too small: only the length */
    TS_CHECK_INT(ts_jscan_string(&a, 2, buf, sizeof buf), -1);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "a/b"), TS_JSCAN_NONE); /* through an array */
    TS_CHECK_INT(ts_jscan_path(&a, 0, "e"), 10);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "e/x"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, ""), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, NULL), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "a/"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, TS_JSCAN_NONE, "a"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_member(&a, 0, "ab", 1), 2); /* n bytes of key */
    TS_CHECK_INT(ts_jscan_member(&a, 2, "a", 1), TS_JSCAN_NONE);
    ts_jscan_fini(&a);
    ts_jscan_fini(&b);

    /* escaped keys found by their text; keys with '/' only one step at a time */
    const char *esc = "{\"dev\\u0045ui\":{\"\\u00e9t\\u00e9\":\"x\"},\"a/b\":1,\"\\ud83d\\ude00\":2}";
    ts_jscan_init(&a, big, 64);
    TS_REQUIRE(ts_jscan_parse(&a, esc, strlen(esc), NULL, 0) == 0);
    uint32_t v = ts_jscan_path(&a, 0, "devEui/\xC3\xA9t\xC3\xA9");
    TS_CHECK(ts_jscan_string(&a, v, buf, sizeof buf) == 1 && strcmp(buf, "x") == 0);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "devEu"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "devEuix"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "devEui/\xC3\xA9t"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "devEui/\xC3\xA9t\xC3"), TS_JSCAN_NONE);
    TS_CHECK_INT(ts_jscan_path(&a, 0, "a/b"), TS_JSCAN_NONE);
    TS_CHECK(ts_jscan_member(&a, 0, "a/b", 3) != TS_JSCAN_NONE);
    TS_CHECK(ts_jscan_path(&a, 0, "\xF0\x9F\x98\x80") != TS_JSCAN_NONE);
    ts_jscan_fini(&a);
}

TS_TEST(feed_jscan_values_and_idtext)
{
    const char *doc = "[12,-0,1.0,1e2,-2.5,\"id-7\",\"\",true,false,null,{},"
                      "9223372036854775807,-9223372036854775808,0.1,1e-400,"
                      "0.10000000000000000000000000000000000000000000000000000000000000000001]";
    ts_jtok buf[32];
    ts_jscan js;
    ts_jscan_init(&js, buf, 32);
    TS_REQUIRE(ts_jscan_parse(&js, doc, strlen(doc), NULL, 0) == 0);
    json_t *root = jansson(doc, strlen(doc));
    TS_REQUIRE(root != NULL);
    int64_t iv;
    double d;
    int b;
    TS_CHECK(ts_jscan_int(&js, 1, &iv) == 0 && iv == 12);
    TS_CHECK(ts_jscan_int(&js, 2, &iv) == 0 && iv == 0);
    TS_CHECK(ts_jscan_number(&js, 2, &d) == 0 && d == 0 && !signbit(d)); /* jansson: int 0 */
    TS_CHECK_INT(ts_jscan_int(&js, 3, &iv), -1); /* 1.0 is a real */
    TS_CHECK_INT(ts_jscan_int(&js, 4, &iv), -1); /* so is 1e2 */
    TS_CHECK(ts_jscan_number(&js, 4, &d) == 0 && d == 100);
    TS_CHECK(ts_jscan_number(&js, 5, &d) == 0 && d == -2.5);
    TS_CHECK_INT(ts_jscan_number(&js, 6, &d), -1);
    TS_CHECK_INT(ts_jscan_int(&js, 8, &iv), -1);
    TS_CHECK(ts_jscan_bool(&js, 8, &b) == 0 && b == 1);
    TS_CHECK(ts_jscan_bool(&js, 9, &b) == 0 && b == 0);
    TS_CHECK_INT(ts_jscan_bool(&js, 10, &b), -1);
    TS_CHECK_INT(ts_jscan_type(&js, 10), TS_J_NULL);
    TS_CHECK(ts_jscan_int(&js, 12, &iv) == 0 && iv == INT64_MAX);
    TS_CHECK(ts_jscan_int(&js, 13, &iv) == 0 && iv == INT64_MIN);
    TS_CHECK(ts_jscan_number(&js, 14, &d) == 0 && d == 0.1);
    TS_CHECK(ts_jscan_number(&js, 15, &d) == 0 && d == 0);
    TS_CHECK(ts_jscan_number(&js, 16, &d) == 0 && d == 0.1); /* over 63 characters */
    /* id text exactly as ts_feed_json_idtext gives it, for every element */
    for (uint32_t i = 1, k = 0; k < js.tok[0].count; i = js.tok[i].next, k++) {
        char a[TS_FEED_ID_MAX], j[TS_FEED_ID_MAX];
        int ra = ts_jscan_idtext(&js, i, a, sizeof a);
        int rj = ts_feed_json_idtext(json_array_get(root, k), j, sizeof j);
        TS_CHECK_INT(ra, rj);
        if (ra == 0 && rj == 0)
            TS_CHECK_STR(a, j);
        ra = ts_jscan_idtext(&js, i, a, 3); /* a small buffer */
        rj = ts_feed_json_idtext(json_array_get(root, k), j, 3);
        TS_CHECK_INT(ra, rj);
    }
    json_decref(root);
    /* the string length limit of ts_feed_json_idtext: under TS_FEED_ID_MAX bytes */
    char big[TS_FEED_ID_MAX + 16];
    for (int n = TS_FEED_ID_MAX - 2; n <= TS_FEED_ID_MAX; n++) {
        big[0] = '[';
        big[1] = '"';
        memset(big + 2, 'x', (size_t)n);
        memcpy(big + 2 + n, "\"]", 2);
        size_t len = (size_t)n + 4;
        TS_REQUIRE(ts_jscan_parse(&js, big, len, NULL, 0) == 0);
        root = jansson(big, len);
        char a[2 * TS_FEED_ID_MAX], j[2 * TS_FEED_ID_MAX];
        TS_CHECK_INT(ts_jscan_idtext(&js, 1, a, sizeof a),
                     ts_feed_json_idtext(json_array_get(root, 0), j, sizeof j));
        TS_CHECK_INT(ts_jscan_idtext(&js, 1, a, sizeof a), n < TS_FEED_ID_MAX ? 0 : -1);
        json_decref(root);
    }
    ts_jscan_fini(&js);
}

/* ---- LoRaWAN uplinks through the scanner ---- */

static ts_feed_table *
devices(void)
{
    static const char csv[] = "dev_eui,sensor,lon,lat,label\n"
                              "70B3D50000000001,PB-1,6.77,51.22,Postring\n";
    ts_feed_table *t = NULL;
    ts_err err;
    if (ts_feed_table_parse_csv("d.csv", csv, sizeof csv - 1, &t, &err) != TS_OK)
        ts_test_fail(__FILE__, __LINE__, "%s", err.msg);
    return t;
}

TS_TEST(feed_jscan_lorawan_uplinks)
{
    ts_feed_table *dev = devices();
    TS_REQUIRE(dev != NULL);
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_LORAWAN);
    c.name = "bays";
    const char *vp[] = {"battery/level", "temperature"};
    c.map.value_paths = vp;
    c.map.nvalue_paths = 2;
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    ts_err err;
    /* escaped member names and values, a state in a nested path of the payload */
    const char *cs = "{\"deviceInfo\":{\"dev\\u0045ui\":\"70b3d5000000000\\u0031\"},"
                     "\"time\":\"2023-05-22T07:47:05.404859\\u002B00:00\",\"fPort\":1,"
                     "\"object\":{\"occupied\":\"b\\u00e9s\\u00e9t\",\"battery\":{\"level\":"
                     "3.5e0},\"temperature\":-0}}";
    TS_REQUIRE(ts_lorawan_parse(&c, dev, cs, strlen(cs), &b, &err) == TS_OK);
    TS_REQUIRE(b.n == 4);
    TS_CHECK_STR(b.obs[1].state, "b\xC3\xA9s\xC3\xA9t");
    TS_CHECK_INT(b.obs[1].time_ms, 1684741625404LL);
    TS_CHECK_STR(b.obs[2].name, "level");
    TS_CHECK(b.obs[2].value == 3.5);
    TS_CHECK(b.obs[3].value == 0 && !signbit(b.obs[3].value)); /* -0 is the integer 0 */
    /* a time string longer than the buffer on the stack: read whole (and refused: over 12
     * fraction digits), as a short one with 12 digits is accepted */
    char longt[512];
    for (int nd = 12; nd <= 300; nd += 288) {
        snprintf(longt, sizeof longt,
                 "{\"deviceInfo\":{\"devEui\":\"70b3d50000000001\"},\"time\":"
                 "\"2023-05-22T07:47:05.%0*dZ\",\"object\":{\"occupied\":1}}",
                 nd, 4);
        ts_obs_batch_reset(&b);
        ts_status rc = ts_lorawan_parse(&c, dev, longt, strlen(longt), &b, &err);
        if (nd == 12) {
            TS_REQUIRE(rc == TS_OK && b.n == 2);
            TS_CHECK_STR(b.obs[1].state, "occupied"); /* "true" through the default states */
            TS_CHECK_INT(b.obs[1].time_ms, 1684741625000LL);
        } else {
            TS_CHECK(rc == TS_EINVAL);
            TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 1);
            TS_CHECK(strstr(err.msg, "uplink time missing or unreadable") != NULL);
        }
    }
    /* duplicate keys, here escaped: not JSON for the feed, as for jansson */
    const char *dup = "{\"deviceInfo\":{\"devEui\":\"70b3d50000000001\",\"dev\\u0045ui\":\"x\"},"
                      "\"time\":\"2023-05-22T07:47:05Z\"}";
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, dup, strlen(dup), &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_PARSE], 1);
    TS_CHECK(strstr(err.msg, "uplink is not JSON: line 1 column") != NULL);
    /* an array, deep nesting, trailing bytes */
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, "[]", 2, &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_TYPE], 1);
    size_t len;
    char *deep = nested(200, &len);
    TS_REQUIRE(deep != NULL);
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, deep, len, &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_PARSE], 1);
    free(deep);
    const char *trail = "{\"deviceInfo\":{\"devEui\":\"70b3d50000000001\"}} {}";
    ts_obs_batch_reset(&b);
    TS_CHECK(ts_lorawan_parse(&c, dev, trail, strlen(trail), &b, &err) == TS_EINVAL);
    TS_CHECK_INT(b.errors[TS_FEED_ERR_PARSE], 1);
    /* a TTS uplink with many gateways: more tokens than the stack buffer holds */
    char *tts = malloc(200000);
    TS_REQUIRE(tts != NULL);
    size_t k = (size_t)snprintf(tts, 200000,
                                "{\"end_device_ids\":{\"dev_eui\":\"70B3D50000000001\"},"
                                "\"received_at\":\"2023-05-19T05:33:35.848446463Z\","
                                "\"uplink_message\":{\"f_port\":2,\"frm_payload\":\"ARI=\","
                                "\"rx_metadata\":[");
    for (int g = 0; g < 500; g++)
        k += (size_t)snprintf(tts + k, 200000 - k,
                              "%s{\"gateway_ids\":{\"gateway_id\":\"gw-%d\"},\"rssi\":-%d,"
                              "\"snr\":%d.25}",
                              g ? "," : "", g, 60 + g % 50, g % 12);
    snprintf(tts + k, 200000 - k, "]}}");
    c.lorawan.decoder = TS_LORAWAN_DECODER_BOSCH_PLS;
    ts_obs_batch_reset(&b);
    TS_REQUIRE(ts_lorawan_parse(&c, dev, tts, strlen(tts), &b, &err) == TS_OK);
    TS_REQUIRE(b.n == 3); /* position, state from the frame, temperature 0x12 */
    TS_CHECK_STR(b.obs[1].state, "occupied"); /* "true" through the default states */
    TS_CHECK(b.obs[2].value == 18);
    TS_CHECK_INT(b.obs[2].time_ms, 1684474415848LL);
    free(tts);
    ts_obs_batch_fini(&b);
    ts_feed_table_free(dev);
}
