/* tests/fuzz/fuzz_feed_lorawan.c — libFuzzer target for LoRaWAN uplinks (The Things Stack
 * v3, ChirpStack v4, detected or forced; Bosch raw-frame decoder on and off): TS_OK with
 * well-formed observations of a known device, or an error with a message and a kind. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed/feed_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ts_feed_table *table;

static void
make_table(void)
{
    static const char csv[] = "dev_eui,sensor,lon,lat,label\n"
                              "1000000000000001,PB-000001,6.776,51.2166,Postring\n"
                              "eui-1000000000000001,PB-000002,6.78,51.24,\n";
    ts_err err;
    if (ts_feed_table_parse_csv("fuzz.csv", csv, sizeof csv - 1, &table, &err) != TS_OK)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    if (table == NULL)
        make_table();
    const char *vp[] = {"temperature", "battery/level"};
    ts_feed_config c;
    ts_feed_config_init(&c, TS_FEED_LORAWAN);
    c.name = "fuzz";
    c.map.value_paths = vp;
    c.map.nvalue_paths = 2;
    ts_obs_batch b;
    ts_obs_batch_init(&b);
    for (int v = 0; v < 6; v++) {
        c.lorawan.format = (ts_lorawan_format)(v % 3);
        c.lorawan.decoder = v < 3 ? TS_LORAWAN_DECODER_BOSCH_PLS : TS_LORAWAN_DECODER_NONE;
        c.lorawan.key = v % 2 ? TS_LORAWAN_DEVICE_ID : TS_LORAWAN_DEV_EUI;
        ts_err err;
        ts_err_clear(&err);
        ts_obs_batch_reset(&b);
        ts_status rc = ts_lorawan_parse(&c, table, data, size, &b, &err);
        if (rc != TS_OK) {
            if (err.msg[0] == '\0')
                abort();
            continue;
        }
        if (b.n == 0 || b.obs[0].kind != TS_OBS_NONE || !b.obs[0].has_pos)
            abort();
        for (size_t i = 0; i < b.n; i++) {
            const ts_obs *o = &b.obs[i];
            if (strncmp(o->sensor, "PB-", 3) != 0)
                abort();
            if (o->kind == TS_OBS_VALUE && !isfinite(o->value))
                abort();
            if (o->kind == TS_OBS_STATE && o->state == NULL)
                abort();
        }
    }
    ts_obs_batch_fini(&b);
    uint8_t raw[64];
    char *s = malloc(size + 1);
    if (s != NULL) {
        memcpy(s, data, size);
        s[size] = '\0';
        long n = ts_feed_base64_decode(s, raw, sizeof raw);
        if (n > (long)sizeof raw)
            abort();
        free(s);
    }
    return 0;
}
