/* util/hist.h — a latency histogram with fixed bucket bounds, updated without locks
 * (relaxed atomics: a few adds per observation), read as a Prometheus histogram.
 *
 * The bounds (seconds) are the same for every histogram of the server, from 100 µs (a
 * cached tile answered from memory) to 10 s (a large WMS GetMap): 0.0001 0.00025 0.0005
 * 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10, then +Inf. */
#ifndef TS_UTIL_HIST_H
#define TS_UTIL_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/status.h"

#define TS_HIST_NBOUNDS 16

/* Upper bounds of the finite buckets in seconds, ascending. */
extern const double ts_hist_bounds_s[TS_HIST_NBOUNDS];

typedef struct ts_hist {
    atomic_ullong n[TS_HIST_NBOUNDS + 1]; /* observations per bucket (not cumulative);
                                           * the last one is above every bound */
    atomic_ullong sum_ns;                 /* sum of the observations */
} ts_hist;

/* What a histogram held when read: cumulative counts (cum[TS_HIST_NBOUNDS] = count). */
typedef struct ts_hist_snap {
    uint64_t cum[TS_HIST_NBOUNDS + 1];
    uint64_t count;
    double sum_s;
} ts_hist_snap;

/* All counts zero (a zero-filled ts_hist is also valid). */
void ts_hist_init(ts_hist *h);
/* Count one observation of ns nanoseconds. Any thread, lock-free. */
void ts_hist_add(ts_hist *h, uint64_t ns);
/* Read h into s (cumulative). Concurrent adds may or may not be seen, but the counts read
 * are consistent with each other: s->cum[] never decreases, cum[last] == count. The sum
 * is read separately and may miss an observation the counts hold. */
void ts_hist_read(const ts_hist *h, ts_hist_snap *s);
/* Add the counts of s into acc (both cumulative): summing shards of one histogram. */
void ts_hist_snap_add(ts_hist_snap *acc, const ts_hist_snap *s);
/* Append the samples of s as Prometheus text format 0.0.4: name_bucket{labels,le="..."}
 * for every bound and +Inf, name_sum and name_count. labels: "" or 'a="x",b="y"' (already
 * escaped). No HELP/TYPE lines (the caller writes them once per family). TS_OK or the
 * buffer's error. */
ts_status ts_hist_write(ts_buf *b, const char *name, const char *labels, const ts_hist_snap *s);

#endif
