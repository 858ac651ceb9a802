/* util/status.c — status tables and the ts_err helpers. */
#include "util/status.h"

#include "util/redact.h"

#include <stdio.h>
#include <string.h>

const char *
ts_status_text(ts_status st)
{
    switch (st) {
#define X(name, code, http, text)                                                                  \
    case TS_##name:                                                                                \
        return text;
        TS_STATUS_MAP(X)
#undef X
    }
    return "unknown status";
}

int
ts_status_http(ts_status st)
{
    switch (st) {
#define X(name, code, http, text)                                                                  \
    case TS_##name:                                                                                \
        return http;
        TS_STATUS_MAP(X)
#undef X
    }
    return 500;
}

const char *
ts_status_name(ts_status st)
{
    switch (st) {
#define X(name, code, http, text)                                                                  \
    case TS_##name:                                                                                \
        return #name;
        TS_STATUS_MAP(X)
#undef X
    }
    return "EUNKNOWN";
}

static void err_fill(ts_err *err, ts_status st, const char *func, int line, const char *fmt,
                     va_list ap) __attribute__((format(printf, 5, 0)));

static void
err_fill(ts_err *err, ts_status st, const char *func, int line, const char *fmt, va_list ap)
{
    err->code = st;
    err->func = func;
    err->line = line;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    ts_redact_secrets(err->msg, sizeof err->msg); /* it goes to /health, HTTP bodies, logs */
    /* one line: libpq's and GDAL's messages run over several, with tabs; each run of
     * control characters becomes one space */
    char *o = err->msg;
    for (const char *p = err->msg; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f) {
            if (o > err->msg && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = (char)c;
        }
    }
    while (o > err->msg && o[-1] == ' ')
        o--;
    *o = 0;
}

ts_status
ts_err_set(ts_err *err, ts_status st, const char *func, int line, const char *fmt, ...)
{
    if (err == NULL)
        return st;
    va_list ap;
    va_start(ap, fmt);
    err_fill(err, st, func, line, fmt, ap);
    va_end(ap);
    err->input[0] = '\0';
    err->input_line = err->input_col = 0;
    return st;
}

ts_status
ts_err_set_at(ts_err *err, ts_status st, const char *func, int line, const char *file,
              int input_line, int input_col, const char *fmt, ...)
{
    if (err == NULL)
        return st;
    va_list ap;
    va_start(ap, fmt);
    err_fill(err, st, func, line, fmt, ap);
    va_end(ap);
    snprintf(err->input, sizeof err->input, "%s", file ? file : "");
    err->input_line = input_line;
    err->input_col = input_col;
    return st;
}

void
ts_err_clear(ts_err *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof *err);
}

const char *
ts_err_format(const ts_err *err, char *buf, unsigned long size)
{
    if (size == 0)
        return buf;
    if (err->input[0] && err->input_line > 0 && err->input_col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", err->input, err->input_line, err->input_col,
                 err->msg);
    else if (err->input[0] && err->input_line > 0)
        snprintf(buf, size, "%s:%d: %s", err->input, err->input_line, err->msg);
    else if (err->input[0])
        snprintf(buf, size, "%s: %s", err->input, err->msg);
    else
        snprintf(buf, size, "%s", err->msg[0] ? err->msg : ts_status_text(err->code));
    return buf;
}
