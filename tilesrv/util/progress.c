/* util/progress.c — terminal progress bar or periodic log lines. */
#include "util/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"

#define QUIET_NS 2000000000ull    /* nothing for runs shorter than this */
#define TTY_EVERY_NS 200000000ull /* bar redraw */
#define LOG_EVERY_NS 10000000000ull

void
ts_progress_begin(ts_progress *p, const char *what, const char *unit, uint64_t total)
{
    snprintf(p->what, sizeof p->what, "%s", what);
    p->unit = unit;
    p->total = total;
    p->done = 0;
    p->t0_ns = p->last_ns = ts_mono_ns();
    p->tty = isatty(STDERR_FILENO) && ts_log_get_level() <= TS_LOG_INFO;
    p->shown = 0;
}

static void
show(ts_progress *p, uint64_t now, int final)
{
    double s = (now - p->t0_ns) / 1e9;
    double rate = s > 0 ? p->done / s : 0;
    char eta[32] = "";
    if (p->total > p->done && rate > 0)
        snprintf(eta, sizeof eta, " ETA %.0f s", (p->total - p->done) / rate);
    if (p->tty) {
        char bar[32];
        int n = p->total ? (int)(25.0 * (double)p->done / (double)p->total) : 0;
        for (int i = 0; i < 25; i++)
            bar[i] = p->total ? (i < n ? '#' : '.') : ' ';
        bar[25] = '\0';
        if (p->total)
            fprintf(stderr, "\r%s [%s] %3.0f%% %llu/%llu %s, %.0f/s%s   ", p->what, bar,
                    100.0 * (double)p->done / (double)p->total, (unsigned long long)p->done,
                    (unsigned long long)p->total, p->unit, rate, final ? "" : eta);
        else
            fprintf(stderr, "\r%s %llu %s, %.0f/s   ", p->what, (unsigned long long)p->done,
                    p->unit, rate);
        if (final)
            fputc('\n', stderr);
        fflush(stderr);
    } else if (p->total) {
        ts_info("%s: %llu/%llu %s (%.0f%%), %.0f/s%s", p->what, (unsigned long long)p->done,
                (unsigned long long)p->total, p->unit, 100.0 * (double)p->done / (double)p->total,
                rate, final ? "" : eta);
    } else {
        ts_info("%s: %llu %s, %.0f/s", p->what, (unsigned long long)p->done, p->unit, rate);
    }
    p->shown = 1;
}

void
ts_progress_update(ts_progress *p, uint64_t done)
{
    p->done = done;
    if ((done & 1023) != 0 && done != p->total)
        return; /* look at the clock once per 1024 units */
    uint64_t now = ts_mono_ns();
    if (now - p->t0_ns < QUIET_NS)
        return;
    if (now - p->last_ns < (p->tty ? TTY_EVERY_NS : LOG_EVERY_NS) && p->shown)
        return;
    p->last_ns = now;
    show(p, now, 0);
}

void
ts_progress_end(ts_progress *p)
{
    if (p->shown)
        show(p, ts_mono_ns(), 1);
}
