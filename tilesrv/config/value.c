/* config/value.c — YAML scalars -> typed values (strings with ${NAME} expansion, integers,
 * numbers, booleans, colours, listen addresses, paths), each refusal carrying the node's
 * position and a message that says what was expected and what was found. */
#include "config/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fmt.h"

#define MAX_STRING ((size_t)1 << 20) /* longest string after ${NAME} expansion */

int
ts_config__is_null(const ts_cnode *n)
{
    if (n == NULL || n->kind != TS_CNODE_SCALAR || n->quoted)
        return 0;
    const char *s = n->str;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *
ts_config__describe(const ts_cnode *n, char *buf, size_t size)
{
    if (n->kind == TS_CNODE_MAP)
        snprintf(buf, size, "a mapping");
    else if (n->kind == TS_CNODE_SEQ)
        snprintf(buf, size, "a sequence");
    else if (ts_config__is_null(n))
        snprintf(buf, size, "an empty value");
    else if (n->quoted)
        snprintf(buf, size, "the quoted string \"%.40s\"%s", n->str, n->len > 40 ? "..." : "");
    else
        snprintf(buf, size, "'%.40s'%s", n->str, n->len > 40 ? "..." : "");
    return buf;
}

static ts_status
wrong_type(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, const char *expected)
{
    char got[96];
    ts_config__describe(n, got, sizeof got);
    if (n->kind == TS_CNODE_SCALAR && n->quoted && strcmp(expected, "a string") != 0)
        return TS_CFG_FAIL(cx, n,
                           "%s must be %s, got %s (quoted values are strings: remove "
                           "the quotes)",
                           what, expected, got);
    return TS_CFG_FAIL(cx, n, "%s must be %s, got %s", what, expected, got);
}

static int
env_name_char(int c, int first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

ts_status
ts_config__expand_env(const ts_cfg_ctx *cx, const ts_cnode *n, const char *s, char **out)
{
    *out = NULL;
    ts_buf b;
    ts_buf_init(&b, MAX_STRING);
    ts_status st = TS_OK;
    const char *p = s;
    while (st == TS_OK && *p) {
        const char *d = strchr(p, '$');
        if (d == NULL) {
            st = ts_buf_add(&b, p, strlen(p));
            break;
        }
        if (d[1] == '$' && d[2] == '{') { /* "$${" -> literal "${" */
            st = ts_buf_add(&b, p, (size_t)(d - p));
            if (st == TS_OK)
                st = ts_buf_add(&b, "${", 2);
            p = d + 3;
            continue;
        }
        if (d[1] != '{') { /* a lone '$' is literal */
            st = ts_buf_add(&b, p, (size_t)(d + 1 - p));
            p = d + 1;
            continue;
        }
        const char *name = d + 2, *e = name;
        while (env_name_char((unsigned char)*e, e == name))
            e++;
        if (*e != '}' || e == name) {
            ts_buf_fini(&b);
            return TS_CFG_FAIL(cx, n,
                               "bad environment reference in '%.60s': expected ${NAME} with "
                               "NAME of letters, digits and '_' (write $${ for a literal ${)",
                               s);
        }
        char var[128];
        size_t vlen = (size_t)(e - name);
        if (vlen >= sizeof var) {
            ts_buf_fini(&b);
            return TS_CFG_FAIL(cx, n, "environment variable name too long in '%.60s'", s);
        }
        memcpy(var, name, vlen);
        var[vlen] = '\0';
        const char *val = getenv(var);
        if (val == NULL) {
            ts_buf_fini(&b);
            return TS_CFG_FAIL(cx, n, "environment variable '%s' is not set (referenced as ${%s})",
                               var, var);
        }
        st = ts_buf_add(&b, p, (size_t)(d - p));
        if (st == TS_OK)
            st = ts_buf_add(&b, val, strlen(val));
        p = e + 1;
    }
    if (st == TS_OK)
        st = ts_buf_add(&b, "", 1); /* terminating NUL; also makes "" allocate */
    if (st == TS_ELIMIT)
        return TS_CFG_FAIL(cx, n, "value longer than %zu bytes after ${NAME} expansion",
                           MAX_STRING);
    if (st != TS_OK)
        return TS_FAIL(cx->err, TS_ENOMEM, "expanding '%.60s': out of memory", s);
    size_t len;
    *out = (char *)ts_buf_steal(&b, &len);
    return TS_OK;
}

ts_status
ts_config__get_string(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, char **out)
{
    *out = NULL;
    if (n->kind != TS_CNODE_SCALAR || ts_config__is_null(n))
        return wrong_type(cx, n, what, "a string");
    return ts_config__expand_env(cx, n, n->str, out);
}

ts_status
ts_config__get_int(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, long min, long max,
                   long *out)
{
    if (n->kind != TS_CNODE_SCALAR || n->quoted || ts_config__is_null(n))
        return wrong_type(cx, n, what, "an integer");
    const char *s = n->str;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || isspace((unsigned char)s[0]))
        return wrong_type(cx, n, what, "an integer");
    if (errno == ERANGE || v < min || v > max)
        return TS_CFG_FAIL(cx, n, "%s must be between %ld and %ld, got %.40s", what, min, max, s);
    *out = v;
    return TS_OK;
}

ts_status
ts_config__get_double(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, double *out)
{
    if (n->kind != TS_CNODE_SCALAR || n->quoted || ts_config__is_null(n))
        return wrong_type(cx, n, what, "a number");
    const char *s = n->str;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || isspace((unsigned char)s[0]))
        return wrong_type(cx, n, what, "a number");
    if (!isfinite(v) || errno == ERANGE)
        return TS_CFG_FAIL(cx, n, "%s must be a finite number, got %.40s", what, s);
    *out = v;
    return TS_OK;
}

ts_status
ts_config__get_bool(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, int *out)
{
    if (n->kind == TS_CNODE_SCALAR && !n->quoted) {
        if (strcasecmp(n->str, "true") == 0 || strcasecmp(n->str, "yes") == 0) {
            *out = 1;
            return TS_OK;
        }
        if (strcasecmp(n->str, "false") == 0 || strcasecmp(n->str, "no") == 0) {
            *out = 0;
            return TS_OK;
        }
    }
    return wrong_type(cx, n, what, "a boolean (true, false, yes or no)");
}


ts_status
ts_config__parse_colour(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, const char *s,
                        uint8_t rgba[4])
{
    size_t len = strlen(s);
    int ok = s[0] == '#' && (len == 7 || len == 9);
    uint8_t v[4] = {0, 0, 0, 255};
    for (size_t i = 0; ok && i < (len - 1) / 2; i++) {
        int hi = ts_hexval((unsigned char)s[1 + 2 * i]), lo = ts_hexval((unsigned char)s[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            ok = 0;
        else
            v[i] = (uint8_t)(hi * 16 + lo);
    }
    if (!ok)
        return TS_CFG_FAIL(cx, n,
                           "bad colour '%.40s' for %s (expected \"#rrggbb\" or "
                           "\"#rrggbbaa\" in hexadecimal)",
                           s, what);
    memcpy(rgba, v, 4);
    return TS_OK;
}

ts_status
ts_config__parse_listen(const ts_cfg_ctx *cx, const ts_cnode *n, const char *s, char **host,
                        int *port)
{
    *host = NULL;
    const char *h = s, *he, *colon;
    if (s[0] == '[') {
        h = s + 1;
        he = strchr(h, ']');
        if (he == NULL || he == h || he[1] != ':')
            return TS_CFG_FAIL(cx, n, "bad listen address '%.60s' (expected \"[v6-address]:port\")",
                               s);
        colon = he + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return TS_CFG_FAIL(cx, n,
                               "bad listen address '%.60s' (expected \"host:port\", "
                               "\"[v6-address]:port\" or \":port\")",
                               s);
        he = colon;
        if (memchr(s, ':', (size_t)(colon - s)) != NULL)
            return TS_CFG_FAIL(cx, n,
                               "bad listen address '%.60s' (write IPv6 addresses in "
                               "brackets: \"[::1]:8080\")",
                               s);
    }
    for (const char *q = h; q < he; q++)
        if (isspace((unsigned char)*q) || *q == '/' || *q == '[' || *q == ']')
            return TS_CFG_FAIL(cx, n, "bad host in listen address '%.60s'", s);
    const char *ps = colon + 1;
    char *end;
    errno = 0;
    long p = strtol(ps, &end, 10);
    if (end == ps || *end != '\0' || !isdigit((unsigned char)ps[0]))
        return TS_CFG_FAIL(cx, n, "bad port in listen address '%.60s' (expected a number)", s);
    if (errno == ERANGE || p < 1 || p > 65535)
        return TS_CFG_FAIL(cx, n, "port in listen address '%.60s' must be between 1 and 65535", s);
    size_t hl = (size_t)(he - h);
    *host = hl == 0 ? strdup("0.0.0.0") : strndup(h, hl);
    if (*host == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "listen address: out of memory");
    *port = (int)p;
    return TS_OK;
}

static int
is_conn_string(const char *p)
{
    if (strncmp(p, "/vsi", 4) == 0)
        return 1;
    size_t i = 0;
    while (isalpha((unsigned char)p[i]))
        i++;
    return i >= 2 && p[i] == ':';
}

static const char *
errno_text(int e, char *buf, size_t size)
{
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
}

ts_status
ts_config__resolve_path(const ts_cfg_ctx *cx, const ts_cnode *n, const char *what, const char *p,
                        int allow_conn, int want_file, char **out)
{
    *out = NULL;
    if (p[0] == '\0')
        return TS_CFG_FAIL(cx, n, "%s must not be empty", what);
    if (allow_conn && is_conn_string(p)) {
        *out = strdup(p);
        return *out ? TS_OK : TS_FAIL(cx->err, TS_ENOMEM, "path: out of memory");
    }
    char *full;
    if (p[0] == '/') {
        full = strdup(p);
    } else {
        size_t dl = strlen(cx->dir), pl = strlen(p);
        int slash = dl > 0 && cx->dir[dl - 1] != '/';
        full = malloc(dl + (size_t)slash + pl + 1);
        if (full) {
            memcpy(full, cx->dir, dl);
            if (slash)
                full[dl] = '/';
            memcpy(full + dl + slash, p, pl + 1);
        }
    }
    if (full == NULL)
        return TS_FAIL(cx->err, TS_ENOMEM, "path: out of memory");
    struct stat sb;
    char eb[128];
    if (stat(full, &sb) != 0 || access(full, R_OK) != 0) {
        int e = errno;
        ts_status st;
        if (e == ENOENT || e == ENOTDIR)
            st = TS_CFG_FAIL(cx, n, "%s not found: %.200s", what, full);
        else
            st = TS_CFG_FAIL(cx, n, "%s cannot be read: %.200s: %s", what, full,
                             errno_text(e, eb, sizeof eb));
        free(full);
        return st;
    }
    if (want_file && !S_ISREG(sb.st_mode)) {
        ts_status st = TS_CFG_FAIL(cx, n, "%s is not a regular file: %.200s", what, full);
        free(full);
        return st;
    }
    *out = full;
    return TS_OK;
}

int
ts_config__name_ok(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == '-') || c >= 0x80)
            return 0;
    }
    return i >= 1 && i <= TS_CONFIG_MAX_NAME;
}

int
ts_config__edit_distance(const char *a, const char *b, int limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) /* keys and names are short; anything longer is no typo */
        return strcmp(a, b) == 0 ? 0 : limit + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)limit)
        return limit + 1;
    int d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1; /* transposition */
            d[i][j] = v;
        }
    }
    return d[la][lb] > limit ? limit + 1 : d[la][lb];
}

const char *
ts_config_suggest(const char *word, const char *const *cands, int n)
{
    for (int i = 0; i < n; i++)
        if (cands[i] && strcasecmp(cands[i], word) == 0)
            return cands[i];
    /* a name cut short: a Shapefile's .dbf keeps 10 characters of a field name */
    size_t wl = strlen(word);
    for (int i = 0; i < n; i++)
        if (cands[i] && strlen(cands[i]) >= 10 && strlen(cands[i]) < wl &&
            strncasecmp(cands[i], word, strlen(cands[i])) == 0)
            return cands[i];
    ts_cfg_suggest sg;
    ts_config__suggest_init(&sg, word);
    for (int i = 0; i < n; i++)
        if (cands[i])
            ts_config__suggest_add(&sg, cands[i]);
    return sg.best;
}

void
ts_config__suggest_init(ts_cfg_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->dist = 3;
}

void
ts_config__suggest_add(ts_cfg_suggest *s, const char *candidate)
{
    int d = ts_config__edit_distance(s->word, candidate, 2);
    if (d < s->dist) {
        s->dist = d;
        s->best = candidate;
    }
}
