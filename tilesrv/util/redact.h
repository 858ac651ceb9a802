/* util/redact.h — secrets out of messages.
 *
 * Error messages and log lines name what failed, and what failed is often a connection
 * string or a URL that carries a password: "PG:host=db user=tiles password=...",
 * "http://user:pass@gateway/...", "...?api_key=...". Every ts_err message and every log
 * line passes through ts_redact_secrets before anyone sees it (/health, HTTP error
 * bodies, `tilesrv check`, the log). */
#ifndef TS_UTIL_REDACT_H
#define TS_UTIL_REDACT_H

#include <stddef.h>

/* Replace, in the NUL-terminated s (of cap bytes), the values of secret-looking keywords
 * (password, passwd, pwd, token, access_token, api_key, apikey, secret, client_secret;
 * any case) written as `key=value` or `key = 'quoted value'` (libpq, URL queries), and the
 * password of a URL's user info (scheme://user:password@host), by "***". A result that
 * would not fit is cut at cap - 1. */
void ts_redact_secrets(char *s, size_t cap);

#endif
