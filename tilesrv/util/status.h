/* util/status.h — the one list of failure kinds, and the error record that carries
 * detail (function, line, user-input file:line, message) along with a job.
 * Nothing here is global: a ts_err lives in the caller's frame or job. */
#ifndef TS_UTIL_STATUS_H
#define TS_UTIL_STATUS_H

#include <stdarg.h>

/* X(name, code, http status, short text) */
#define TS_STATUS_MAP(X)                                                                           \
    X(OK, 0, 200, "ok")                                                                            \
    X(ENOMEM, -1, 503, "out of memory")                                                            \
    X(EINVAL, -2, 400, "invalid request")                                                          \
    X(ENOENT, -3, 404, "not found")                                                                \
    X(ESOURCE, -4, 502, "data source failed")                                                      \
    X(EBUSY, -5, 503, "render queue full")                                                         \
    X(ELIMIT, -6, 500, "size or time limit exceeded")                                              \
    X(ECONFIG, -7, 500, "invalid configuration")                                                   \
    X(ESTYLE, -8, 500, "invalid style")                                                            \
    X(EIO, -9, 500, "input/output error")                                                          \
    X(EINTERNAL, -10, 500, "internal error")

typedef enum {
#define X(name, code, http, text) TS_##name = code,
    TS_STATUS_MAP(X)
#undef X
} ts_status;

/* Short, static description of a status; never NULL. */
const char *ts_status_text(ts_status st);
/* HTTP status code a status maps to (200 for TS_OK). */
int ts_status_http(ts_status st);
/* Symbolic name ("ENOENT"); never NULL. */
const char *ts_status_name(ts_status st);

typedef struct ts_err {
    ts_status code;
    const char *func;  /* set by TS_FAIL from __func__ */
    int line;          /* source line of the TS_FAIL */
    char input[256];   /* user file (config, style, data) the fault is in, or "" */
    int input_line;    /* 1-based line in that file, 0 = unknown */
    int input_col;     /* 1-based column, 0 = unknown */
    char msg[512];
} ts_err;

/* Fill *err (if err != NULL) and return st, so `return TS_FAIL(err, TS_EINVAL, "...")` works.
 * Thread-safe: touches only *err. */
ts_status ts_err_set(ts_err *err, ts_status st, const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* As ts_err_set, and records the user input position (file:line:col) the fault is at. */
ts_status ts_err_set_at(ts_err *err, ts_status st, const char *func, int line, const char *file,
                        int input_line, int input_col, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Reset *err to TS_OK with empty message. */
void ts_err_clear(ts_err *err);

/* Format "file:line:col: msg" (or just msg when no input position) into buf. Returns buf. */
const char *ts_err_format(const ts_err *err, char *buf, unsigned long size);

#define TS_FAIL(err, st, ...) ts_err_set((err), (st), __func__, __LINE__, __VA_ARGS__)
#define TS_FAIL_AT(err, st, file, ln, col, ...)                                                   \
    ts_err_set_at((err), (st), __func__, __LINE__, (file), (ln), (col), __VA_ARGS__)
#define TS_TRY(expr)                                                                               \
    do {                                                                                           \
        ts_status st_ = (expr);                                                                    \
        if (st_ != TS_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

#endif
