/* util/redact.c — secrets out of messages (see redact.h). */
#include "util/redact.h"

#include <string.h>
#include <strings.h>

/* Longer names first where one begins another ("password" before "pass"). */
static const char *const secret_keys[] = {
    "password", "passwort", "pasword", "passwd", "passphrase", "pass", "pwd", "sslpassword",
    "kennwort", "access_token", "refresh_token", "id_token", "private_token", "token",
    "api_key", "apikey", "api-key", "x-api-key", "subscription-key", "key", "secret_key",
    "access_key", "client_secret", "secret", "x-amz-signature", "x-amz-credential",
    "signature", "sig", "authorization", "auth", "credential", "sessionid", "session", "jwt",
    "bearer", NULL};

/* The length of a secret keyword at s (starting a word), followed by optional blanks and
 * '=', or 0; *eq is set past the '=' and its following blanks. */
static size_t
secret_key_at(const char *s, const char **eq)
{
    for (int k = 0; secret_keys[k] != NULL; k++) {
        size_t n = strlen(secret_keys[k]);
        if (strncasecmp(s, secret_keys[k], n) != 0)
            continue;
        const char *p = s + n;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        *eq = p;
        return n;
    }
    return 0;
}

/* The end of the value starting at v: a '...' (libpq, backslash escapes) or "..." quoted
 * value, or a run up to a blank, '&', '#', a quote or a bracket. */
static const char *
value_end(const char *v)
{
    if (*v == '\'' || *v == '"') {
        char q = *v;
        const char *p = v + 1;
        while (*p && *p != q) {
            if (*p == '\\' && p[1])
                p++;
            p++;
        }
        return *p ? p + 1 : p;
    }
    const char *p = v;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '&' && *p != '#' && *p != '\'' &&
           *p != '"' && *p != ')' && *p != ']' && *p != '}' && *p != ',' && *p != ';')
        p++;
    return p;
}

/* At s (just after "://"): the password of user info "user:password@", as [*a, *b) (up to
 * the last '@' before the path: a password may hold an unencoded '@'); 0 if none, or for
 * a template such as "[[user]:password@]". */
static int
userinfo_password(const char *s, const char **a, const char **b)
{
    const char *colon = NULL, *at = NULL;
    for (const char *p = s; *p; p++) {
        if (*p == '@')
            at = p;
        else if (*p == '/' || *p == '?' || *p == '#' || *p == ' ' || *p == '\t' || *p == '\n' ||
                 *p == '\'' || *p == '"' || *p == '[' || *p == ']')
            break;
        else if (*p == ':' && colon == NULL && at == NULL)
            colon = p;
    }
    if (colon == NULL || at == NULL || at < colon)
        return 0;
    *a = colon + 1;
    *b = at;
    return 1;
}

void
ts_redact_secrets(char *s, size_t cap)
{
    if (s == NULL || cap == 0)
        return;
    /* nothing to do in most messages: look before copying */
    int any = strstr(s, "://") != NULL || strchr(s, '=') != NULL;
    if (!any)
        return;
    char out[4096];
    size_t lim = cap < sizeof out ? cap : sizeof out;
    size_t o = 0;
    const char *p = s;
    int word_start = 1;
    while (*p && o + 1 < lim) {
        const char *eq, *a, *b;
        if (word_start && secret_key_at(p, &eq) != 0) {
            const char *end = value_end(eq);
            if (end > eq) {
                size_t keep = (size_t)(eq - p);
                for (size_t i = 0; i < keep && o + 1 < lim; i++)
                    out[o++] = p[i];
                for (const char *r = "***"; *r && o + 1 < lim; r++)
                    out[o++] = *r;
                p = end;
                word_start = 0;
                continue;
            }
        }
        if (p[0] == ':' && p[1] == '/' && p[2] == '/' && userinfo_password(p + 3, &a, &b)) {
            for (; p < a && o + 1 < lim; p++)
                out[o++] = *p;
            for (const char *r = "***"; *r && o + 1 < lim; r++)
                out[o++] = *r;
            p = b;
            word_start = 0;
            continue;
        }
        char c = *p++;
        out[o++] = c;
        word_start = !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '_' || c == '-');
    }
    out[o] = 0;
    memcpy(s, out, o + 1);
}
