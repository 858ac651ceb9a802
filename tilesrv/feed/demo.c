/* feed/demo.c — the embedded demo gateway, a clearly labelled SIMULATION for the no-setup
 * demo. "air" replays the real hourly UBA measurements (NO2, PM10, O3) of the Düsseldorf
 * stations from a CSV at an accelerated clock; "parking" invents plausible occupancy
 * changes for the demo's parking bays: exponential dwell times (45 min occupied, 20 min
 * free, simulated), an hourly heartbeat, and a few sensors that fall silent (and so go
 * stale). Labels say "(demo replay)" / "(simulated)". Deterministic for a given seed and
 * clock. */
#include "feed/feed_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bay {
    const char *id; /* borrowed from the table */
    char *label;
    double lon, lat;
    int occupied;
    int dead;            /* reports once, then never again */
    int64_t next_change; /* feed clock ms */
    int64_t next_beat;
} bay;

struct ts_demo {
    ts_demo_sim sim;
    double air_speed, parking_speed;
    uint64_t rng;
    double dead_share;
    ts_demo_station *st;
    size_t nst;
    ts_feed_table *table;
    bay *bays;
    size_t nbays;
    int started;
    int64_t start_ms;
    int64_t last_hour; /* replay hour already emitted */
};

#define DWELL_OCCUPIED_MS (45.0 * 60000.0)
#define DWELL_FREE_MS (20.0 * 60000.0)
#define HEARTBEAT_MS (60.0 * 60000.0)
#define P_OCCUPIED 0.55

static uint64_t
next64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
uniform(uint64_t *s)
{
    return (double)(next64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Exponentially distributed real ms for a simulated mean. */
static int64_t
dwell(ts_demo *d, double mean_sim_ms)
{
    double x = -log(1.0 - uniform(&d->rng)) * mean_sim_ms / d->parking_speed;
    return x < 1 ? 1 : (int64_t)x;
}

void
ts_demo_stations_free(ts_demo_station *s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(s[i].id);
        free(s[i].label);
        free(s[i].t_ms);
        free(s[i].no2);
        free(s[i].pm10);
        free(s[i].o3);
    }
    free(s);
}

static int
opt_number(const char *f, double *out)
{
    if (f == NULL || f[0] == '\0') {
        *out = NAN;
        return 0;
    }
    return ts_csv_number(f, out);
}

ts_status
ts_demo_parse_air(const char *name, const char *text, size_t len, ts_demo_station **out,
                  size_t *nout, ts_err *err)
{
    static const char *const c_code[] = {"station_code", NULL};
    static const char *const c_name[] = {"station_name", NULL};
    static const char *const c_lon[] = {"lon", NULL};
    static const char *const c_lat[] = {"lat", NULL};
    static const char *const c_dt[] = {"datetime", NULL};
    static const char *const c_no2[] = {"no2", NULL};
    static const char *const c_pm10[] = {"pm10", NULL};
    static const char *const c_o3[] = {"o3", NULL};
    ts_csv c;
    ts_csv_init(&c, text, len);
    ts_demo_station *st = NULL;
    size_t n = 0, cap = 0;
    ts_status rc = TS_OK;
    int r = ts_csv_next(&c);
    int col[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    if (r == 1) {
        const char *const *names[8] = {c_code, c_name, c_lon, c_lat, c_dt, c_no2, c_pm10, c_o3};
        for (int i = 0; i < 8; i++)
            col[i] = ts_csv_column(&c, names[i]);
    }
    for (int i = 0; i < 8; i++) {
        if (col[i] < 0) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0,
                            "header must name station_code, station_name, lon, lat, datetime, "
                            "no2, pm10, o3");
            goto fail;
        }
    }
    while ((r = ts_csv_next(&c)) == 1) {
        if (c.nf < 8) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "%d fields, expected 8", c.nf);
            goto fail;
        }
        double lon, lat, no2, pm10, o3;
        int64_t t;
        const char *code = c.f[col[0]];
        if (code[0] == '\0' || strlen(code) >= TS_FEED_ID_MAX || ts_csv_number(c.f[col[2]], &lon) ||
            ts_csv_number(c.f[col[3]], &lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 ||
            ts_feed_time_parse(c.f[col[4]], &t) || opt_number(c.f[col[5]], &no2) ||
            opt_number(c.f[col[6]], &pm10) || opt_number(c.f[col[7]], &o3)) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "unreadable measurement row");
            goto fail;
        }
        ts_demo_station *s = n > 0 && strcmp(st[n - 1].id, code) == 0 ? &st[n - 1] : NULL;
        if (s == NULL) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                ts_demo_station *ns = realloc(st, nc * sizeof *ns);
                if (ns == NULL)
                    goto nomem;
                st = ns;
                cap = nc;
            }
            s = &st[n++];
            memset(s, 0, sizeof *s);
            s->id = strdup(code);
            s->label = strdup(c.f[col[1]][0] ? c.f[col[1]] : code);
            s->lon = lon;
            s->lat = lat;
            if (s->id == NULL || s->label == NULL)
                goto nomem;
        }
        if (s->n == 0 || (s->n >= 16 && (s->n & (s->n - 1)) == 0)) { /* 16, 32, 64 ... */
            size_t nc = s->n ? s->n * 2 : 16;
            int64_t *nt = realloc(s->t_ms, nc * sizeof *nt);
            if (nt != NULL)
                s->t_ms = nt;
            double *a = realloc(s->no2, nc * sizeof *a);
            if (a != NULL)
                s->no2 = a;
            double *b = realloc(s->pm10, nc * sizeof *b);
            if (b != NULL)
                s->pm10 = b;
            double *o = realloc(s->o3, nc * sizeof *o);
            if (o != NULL)
                s->o3 = o;
            if (nt == NULL || a == NULL || b == NULL || o == NULL)
                goto nomem;
        }
        if (s->n > 0 && t <= s->t_ms[s->n - 1]) {
            rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0,
                            "rows of station %s are not in time order", code);
            goto fail;
        }
        s->t_ms[s->n] = t;
        s->no2[s->n] = no2;
        s->pm10[s->n] = pm10;
        s->o3[s->n] = o3;
        s->n++;
    }
    if (r < 0) {
        rc = TS_FAIL_AT(err, TS_ESOURCE, name, c.line, 0, "malformed CSV record");
        goto fail;
    }
    if (n == 0) {
        rc = TS_FAIL(err, TS_ESOURCE, "%s: no measurements", name);
        goto fail;
    }
    ts_csv_fini(&c);
    *out = st;
    *nout = n;
    return TS_OK;
nomem:
    rc = TS_FAIL(err, TS_ENOMEM, "%s", name);
fail:
    ts_csv_fini(&c);
    ts_demo_stations_free(st, n);
    return rc;
}

void
ts_demo_free(ts_demo *d)
{
    if (d == NULL)
        return;
    ts_demo_stations_free(d->st, d->nst);
    for (size_t i = 0; i < d->nbays; i++)
        free(d->bays[i].label);
    free(d->bays);
    ts_feed_table_free(d->table);
    free(d);
}

ts_status
ts_demo_new(const ts_feed_config *cfg, ts_demo **out, ts_err *err)
{
    ts_demo *d = calloc(1, sizeof *d);
    if (d == NULL)
        return TS_FAIL(err, TS_ENOMEM, "demo feed");
    d->sim = cfg->demo.simulate;
    d->air_speed = cfg->demo.air_speed > 0 ? cfg->demo.air_speed : 360;
    d->parking_speed = cfg->demo.parking_speed > 0 ? cfg->demo.parking_speed : 30;
    d->rng = cfg->demo.seed;
    d->dead_share = cfg->demo.dead_share;
    d->last_hour = -1;
    ts_status rc;
    if (d->sim == TS_DEMO_AIR) {
        char *text;
        size_t len;
        rc = ts_feed_read_file(cfg->demo.air_csv, 16u << 20, &text, &len, err);
        if (rc == TS_OK) {
            rc = ts_demo_parse_air(cfg->demo.air_csv, text, len, &d->st, &d->nst, err);
            free(text);
        }
    } else {
        rc = ts_feed_table_load(&cfg->demo.bays, &d->table, err);
        if (rc == TS_OK) {
            d->nbays = ts_feed_table_count(d->table);
            d->bays = calloc(d->nbays ? d->nbays : 1, sizeof *d->bays);
            if (d->bays == NULL)
                rc = TS_FAIL(err, TS_ENOMEM, "demo bays");
            for (size_t i = 0; rc == TS_OK && i < d->nbays; i++) {
                const ts_feed_device *dev = ts_feed_table_at(d->table, i);
                char lbl[TS_FEED_ID_MAX + 16];
                snprintf(lbl, sizeof lbl, "%s (simulated)", dev->label ? dev->label : dev->sensor);
                d->bays[i] = (bay){.id = dev->sensor, .lon = dev->lon, .lat = dev->lat};
                if ((d->bays[i].label = strdup(lbl)) == NULL)
                    rc = TS_FAIL(err, TS_ENOMEM, "demo bays");
            }
            if (rc == TS_OK && d->nbays == 0)
                rc = TS_FAIL(err, TS_ESOURCE, "%s: no parking bays", cfg->demo.bays.path);
        }
    }
    if (rc != TS_OK) {
        ts_demo_free(d);
        return rc;
    }
    *out = d;
    return TS_OK;
}

static void
emit_state(ts_obs_batch *out, const bay *b, int64_t t, const char *label)
{
    ts_obs o = {.sensor = b->id,
                .kind = TS_OBS_STATE,
                .state = b->occupied ? "occupied" : "free",
                .time_ms = t,
                .has_pos = 1,
                .lon = b->lon,
                .lat = b->lat,
                .label = label};
    ts_obs_batch_add(out, &o);
}

static int64_t
step_parking(ts_demo *d, int64_t now, ts_obs_batch *out)
{
    int64_t next = now + 1000;
    double beat = HEARTBEAT_MS / d->parking_speed;
    for (size_t i = 0; i < d->nbays; i++) {
        bay *b = &d->bays[i];
        if (!d->started) {
            b->occupied = uniform(&d->rng) < P_OCCUPIED;
            b->dead = uniform(&d->rng) < d->dead_share;
            b->next_change = now + dwell(d, b->occupied ? DWELL_OCCUPIED_MS : DWELL_FREE_MS);
            b->next_beat = now + (int64_t)(uniform(&d->rng) * beat) + 1;
            emit_state(out, b, now, b->label);
        }
        if (b->dead)
            continue;
        /* events in time order: occupancy changes and heartbeats */
        for (;;) {
            int64_t t = b->next_change < b->next_beat ? b->next_change : b->next_beat;
            if (t > now)
                break;
            if (t == b->next_change) {
                b->occupied = !b->occupied;
                b->next_change = t + dwell(d, b->occupied ? DWELL_OCCUPIED_MS : DWELL_FREE_MS);
            } else {
                b->next_beat = t + (int64_t)beat + 1;
            }
            emit_state(out, b, t, NULL);
        }
        if (b->next_change < next)
            next = b->next_change;
        if (b->next_beat < next)
            next = b->next_beat;
    }
    return next;
}

static int64_t
step_air(ts_demo *d, int64_t now, ts_obs_batch *out)
{
    double hour_ms = 3600000.0 / d->air_speed;
    int64_t h = (int64_t)((double)(now - d->start_ms) / hour_ms);
    if (h != d->last_hour) {
        int64_t t = d->start_ms + (int64_t)((double)h * hour_ms);
        for (size_t i = 0; i < d->nst; i++) {
            ts_demo_station *s = &d->st[i];
            size_t k = (size_t)(h % (int64_t)s->n);
            char lbl[TS_FEED_ID_MAX + 24];
            snprintf(lbl, sizeof lbl, "%s (demo replay)", s->label);
            ts_obs o = {.sensor = s->id,
                        .time_ms = TS_FEED_TIME_NONE,
                        .has_pos = 1,
                        .lon = s->lon,
                        .lat = s->lat,
                        .label = ts_obs_batch_strdup(out, lbl)};
            ts_obs_batch_add(out, &o);
            const double v[3] = {s->no2[k], s->pm10[k], s->o3[k]};
            static const char *const names[3] = {"no2", "pm10", "o3"};
            for (int j = 0; j < 3; j++) {
                if (isnan(v[j]))
                    continue; /* no measurement that hour: the last value stays */
                ts_obs vo = {.sensor = s->id,
                             .kind = TS_OBS_VALUE,
                             .name = names[j],
                             .value = v[j],
                             .time_ms = t};
                ts_obs_batch_add(out, &vo);
            }
        }
        d->last_hour = h;
    }
    return d->start_ms + (int64_t)((double)(h + 1) * hour_ms) + 1;
}

int64_t
ts_demo_step(ts_demo *d, int64_t now, ts_obs_batch *out)
{
    if (!d->started)
        d->start_ms = now;
    int64_t next = d->sim == TS_DEMO_AIR ? step_air(d, now, out) : step_parking(d, now, out);
    d->started = 1;
    int64_t wait = next - now;
    return wait < 1 ? 1 : wait > 1000 ? 1000 : wait;
}
