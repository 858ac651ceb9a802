/* util/log.h — leveled logging to stderr, one line per call, safe from any thread. */
#ifndef TS_UTIL_LOG_H
#define TS_UTIL_LOG_H

typedef enum { TS_LOG_DEBUG = 0, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERROR } ts_log_level;

/* Set the lowest level printed (default TS_LOG_INFO). Call before threads start. */
void ts_log_set_level(ts_log_level lvl);
ts_log_level ts_log_get_level(void);
/* Parse "debug"/"info"/"warn"/"error"; returns 0 and sets *out, or -1. */
int ts_log_parse_level(const char *s, ts_log_level *out);

/* Write one line "2026-11-26T20:06:07Z LEVEL msg" to stderr (a single write(2), so lines
 * from different threads never interleave). */
void ts_log(ts_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Warnings logged so far (printed or not: -q hides them), for `tilesrv check`'s verdict. */
unsigned long ts_log_warnings(void);

/* A gate for lines that a failure repeated many times a second would flood the log with
 * (a database down, every tile's render failing): one line per interval, the lines held
 * back counted. Zero-initialised (static); any thread. */
typedef struct ts_log_gate {
    _Atomic long long next_ns;
    _Atomic unsigned long held;
} ts_log_gate;
/* 1 when a line may be written now: the first, then at most one per interval_s seconds;
 * *held (when not NULL) gets the count of lines held back since the last one written.
 * 0 when it is to be held back (counted). */
int ts_log_gate_pass(ts_log_gate *g, int interval_s, unsigned long *held);

#define ts_debug(...) ts_log(TS_LOG_DEBUG, __VA_ARGS__)
#define ts_info(...) ts_log(TS_LOG_INFO, __VA_ARGS__)
#define ts_warn(...) ts_log(TS_LOG_WARN, __VA_ARGS__)
#define ts_error(...) ts_log(TS_LOG_ERROR, __VA_ARGS__)

#endif
