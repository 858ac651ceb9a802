/* util/log.c — stderr logger. */
#include "util/log.h"

#include "util/redact.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = TS_LOG_INFO;

void
ts_log_set_level(ts_log_level lvl)
{
    atomic_store(&log_level, (int)lvl);
}

ts_log_level
ts_log_get_level(void)
{
    return (ts_log_level)atomic_load(&log_level);
}

int
ts_log_parse_level(const char *s, ts_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (ts_log_level)i;
            return 0;
        }
    }
    return -1;
}

static atomic_ulong warnings;

unsigned long
ts_log_warnings(void)
{
    return atomic_load(&warnings);
}

void
ts_log(ts_log_level lvl, const char *fmt, ...)
{
    static const char *tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (lvl == TS_LOG_WARN)
        atomic_fetch_add(&warnings, 1);
    if ((int)lvl < atomic_load(&log_level))
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s ", tags[lvl]);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0)
        msg[0] = 0;
    ts_redact_secrets(msg, sizeof msg);
    /* one event, one line: control characters (a libpq message's newlines, an escape
     * sequence in a feed's device id) are written as \n, \t, \xHH */
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == ' '))
        msg[--len] = 0;
    for (size_t i = 0; i < len && n < (int)sizeof line - 6; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c >= 0x20 && c != 0x7f)
            line[n++] = (char)c;
        else if (c == '\n' || c == '\t' || c == '\r')
            n += snprintf(line + n, 3, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
        else
            n += snprintf(line + n, 5, "\\x%02x", c);
    }
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

int
ts_log_gate_pass(ts_log_gate *g, int interval_s, unsigned long *held)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    long long next = atomic_load(&g->next_ns);
    if (now < next ||
        !atomic_compare_exchange_strong(&g->next_ns, &next, now + (long long)interval_s * 1000000000LL)) {
        atomic_fetch_add(&g->held, 1);
        return 0;
    }
    unsigned long h = atomic_exchange(&g->held, 0);
    if (held != NULL)
        *held = h;
    return 1;
}
