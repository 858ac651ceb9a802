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
 * (password and its misspellings, sslpassword, pass, pwd, token, access_token and other
 * OAuth tokens, api_key, key, sig, signature, X-Amz-Signature, secret, auth, session, jwt,
 * ...; any case) written as `key=value` or `key = 'quoted value'` (libpq, URL queries),
 * and the password of a URL's user info (scheme://user:password@host), by "***". A result
 * that would not fit is cut at cap - 1 (and at 4095). */
void ts_redact_secrets(char *s, size_t cap);

#endif
