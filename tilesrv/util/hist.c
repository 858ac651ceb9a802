/* util/hist.c — fixed-bucket latency histograms. */
#include "util/hist.h"


const double ts_hist_bounds_s[TS_HIST_NBOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10,
};

/* The same bounds in nanoseconds, for the comparison on the hot path. */
static const uint64_t bounds_ns[TS_HIST_NBOUNDS] = {
    100000ull,    250000ull,    500000ull,     1000000ull,    2500000ull,   5000000ull,
    10000000ull,  25000000ull,  50000000ull,   100000000ull,  250000000ull, 500000000ull,
    1000000000ull, 2500000000ull, 5000000000ull, 10000000000ull,
};

void
ts_hist_init(ts_hist *h)
{
    for (int i = 0; i <= TS_HIST_NBOUNDS; i++)
        atomic_init(&h->n[i], 0);
    atomic_init(&h->sum_ns, 0);
}

void
ts_hist_add(ts_hist *h, uint64_t ns)
{
    int i = 0;
    while (i < TS_HIST_NBOUNDS && ns > bounds_ns[i]) /* le: a value on a bound is in it */
        i++;
    atomic_fetch_add_explicit(&h->n[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void
ts_hist_read(const ts_hist *h, ts_hist_snap *s)
{
    uint64_t c = 0;
    for (int i = 0; i <= TS_HIST_NBOUNDS; i++) {
        c += atomic_load_explicit(&((ts_hist *)h)->n[i], memory_order_relaxed);
        s->cum[i] = c;
    }
    s->count = c;
    s->sum_s = (double)atomic_load_explicit(&((ts_hist *)h)->sum_ns, memory_order_relaxed) / 1e9;
}

void
ts_hist_snap_add(ts_hist_snap *acc, const ts_hist_snap *s)
{
    for (int i = 0; i <= TS_HIST_NBOUNDS; i++)
        acc->cum[i] += s->cum[i];
    acc->count += s->count;
    acc->sum_s += s->sum_s;
}

ts_status
ts_hist_write(ts_buf *b, const char *name, const char *labels, const ts_hist_snap *s)
{
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i < TS_HIST_NBOUNDS; i++)
        TS_TRY(ts_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                             ts_hist_bounds_s[i], (unsigned long long)s->cum[i]));
    TS_TRY(ts_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                         (unsigned long long)s->cum[TS_HIST_NBOUNDS]));
    if (labels[0]) {
        TS_TRY(ts_buf_printf(b, "%s_sum{%s} %.9f\n", name, labels, s->sum_s));
        return ts_buf_printf(b, "%s_count{%s} %llu\n", name, labels,
                             (unsigned long long)s->count);
    }
    TS_TRY(ts_buf_printf(b, "%s_sum %.9f\n", name, s->sum_s));
    return ts_buf_printf(b, "%s_count %llu\n", name, (unsigned long long)s->count);
}
