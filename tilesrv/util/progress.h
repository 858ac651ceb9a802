/* util/progress.h — progress of a long run (loading a big source, seeding): on a terminal a
 * one-line bar with rate and ETA redrawn in place, otherwise a plain log line every few
 * seconds. Quiet for runs that finish within the first couple of seconds. One reporter per
 * run; not shared between threads. */
#ifndef TS_UTIL_PROGRESS_H
#define TS_UTIL_PROGRESS_H

#include <stdint.h>

typedef struct ts_progress {
    char what[96];          /* "loading parcels" */
    const char *unit;       /* "features" */
    uint64_t total;         /* 0 = unknown */
    uint64_t done;
    uint64_t t0_ns, last_ns;
    int tty;                /* stderr is a terminal */
    int shown;              /* something was printed */
} ts_progress;

/* Start reporting; total may be 0 when unknown. */
void ts_progress_begin(ts_progress *p, const char *what, const char *unit, uint64_t total);
/* Record done units (cheap: prints at most a few times per second). */
void ts_progress_update(ts_progress *p, uint64_t done);
/* Final line (only if something was shown before). */
void ts_progress_end(ts_progress *p);

#endif
