/* feed/http.c — the HTTP client of the feeds (libcurl easy interface, one handle per
 * feed thread): bounded bodies, total and connect timeouts, conditional GETs with ETag /
 * Last-Modified, failures sorted into error kinds, transfers abortable by a stop flag. */
#include "feed/feed_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ts_feed_http {
    CURL *curl;
    const ts_feed_config *cfg;
    const atomic_int *abort_flag;
    struct curl_slist *headers;
    /* per request */
    ts_buf *body;
    int too_large;
    ts_feed_http_result *res;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    ts_feed_http *h = ud;
    size_t n = size * nmemb;
    if (ts_buf_add(h->body, p, n) != TS_OK) {
        h->too_large = 1;
        return 0; /* aborts the transfer */
    }
    return n;
}

/* Copy a header's value (trimmed) into dst when its name matches. */
static void
header_value(const char *line, size_t n, const char *name, char *dst, size_t size)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
        e--;
    size_t l = (size_t)(e - v);
    if (l >= size)
        return; /* too long to keep: the next request is unconditional */
    memcpy(dst, v, l);
    dst[l] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    ts_feed_http *h = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after a redirect) */
        h->res->etag[0] = '\0';
        h->res->last_modified[0] = '\0';
    }
    header_value(p, n, "ETag", h->res->etag, sizeof h->res->etag);
    header_value(p, n, "Last-Modified", h->res->last_modified, sizeof h->res->last_modified);
    return n;
}

static int
on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    ts_feed_http *h = ud;
    (void)dt, (void)dn, (void)ut, (void)un;
    return h->abort_flag != NULL && atomic_load(h->abort_flag) ? 1 : 0;
}

ts_feed_http *
ts_feed_http_new(const ts_feed_config *cfg, const atomic_int *abort_flag, ts_err *err)
{
    ts_feed_global_init();
    ts_feed_http *h = calloc(1, sizeof *h);
    if (h == NULL || (h->curl = curl_easy_init()) == NULL) {
        free(h);
        TS_FAIL(err, TS_ENOMEM, "feed %s: HTTP client", cfg->name);
        return NULL;
    }
    h->cfg = cfg;
    h->abort_flag = abort_flag;
    for (int i = 0; i < cfg->nhttp_headers; i++) {
        struct curl_slist *n = curl_slist_append(h->headers, cfg->http_headers[i]);
        if (n == NULL) {
            ts_feed_http_free(h);
            TS_FAIL(err, TS_ENOMEM, "feed %s: HTTP headers", cfg->name);
            return NULL;
        }
        h->headers = n;
    }
    return h;
}

void
ts_feed_http_free(ts_feed_http *h)
{
    if (h == NULL)
        return;
    curl_slist_free_all(h->headers);
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    free(h);
}

ts_status
ts_feed_http_get(ts_feed_http *h, const char *url, const char *etag, const char *last_modified,
                 ts_buf *body, ts_feed_http_result *res, ts_err *err)
{
    CURL *c = h->curl;
    memset(res, 0, sizeof *res);
    h->body = body;
    h->too_large = 0;
    h->res = res;
    curl_easy_reset(c);
    struct curl_slist *hdrs = NULL, *extra = NULL;
    char cond[320];
    for (struct curl_slist *s = h->headers; s != NULL; s = s->next) {
        if ((extra = curl_slist_append(hdrs, s->data)) == NULL)
            goto nomem;
        hdrs = extra;
    }
    if (etag != NULL && etag[0] != '\0') {
        snprintf(cond, sizeof cond, "If-None-Match: %s", etag);
        if ((extra = curl_slist_append(hdrs, cond)) == NULL)
            goto nomem;
        hdrs = extra;
    }
    if (last_modified != NULL && last_modified[0] != '\0') {
        snprintf(cond, sizeof cond, "If-Modified-Since: %s", last_modified);
        if ((extra = curl_slist_append(hdrs, cond)) == NULL)
            goto nomem;
        hdrs = extra;
    }
    if ((extra = curl_slist_append(hdrs, "Accept: application/json, application/geo+json")) == NULL)
        goto nomem;
    hdrs = extra;
    long timeout_ms = (long)(h->cfg->timeout_s * 1000.0);
    if (timeout_ms < 1)
        timeout_ms = 1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tilesrv/" TS_VERSION " (feed)");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (h->cfg->max_document_bytes > 0)
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->cfg->max_document_bytes);

    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    if (cc != CURLE_OK) {
        if (h->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
            res->fail = TS_FEED_ERR_TOO_LARGE;
            ts_buf_fini(body);
            return TS_FAIL(err, TS_ELIMIT, "GET %s: response larger than %zu bytes", url,
                           h->cfg->max_document_bytes);
        }
        res->fail = cc == CURLE_OPERATION_TIMEDOUT ? TS_FEED_ERR_TIMEOUT : TS_FEED_ERR_NETWORK;
        ts_buf_fini(body);
        return TS_FAIL(err, TS_ESOURCE, "GET %s: %s", url, curl_easy_strerror(cc));
    }
    if (res->status == 304) {
        if (etag != NULL && res->etag[0] == '\0')
            snprintf(res->etag, sizeof res->etag, "%s", etag);
        if (last_modified != NULL && res->last_modified[0] == '\0')
            snprintf(res->last_modified, sizeof res->last_modified, "%s", last_modified);
        ts_buf_fini(body);
        return TS_OK;
    }
    if (res->status != 200) {
        res->fail = TS_FEED_ERR_HTTP;
        ts_buf_fini(body);
        return TS_FAIL(err, TS_ESOURCE, "GET %s: HTTP %ld", url, res->status);
    }
    return TS_OK;

nomem:
    curl_slist_free_all(hdrs);
    res->fail = TS_FEED_ERR_NETWORK;
    return TS_FAIL(err, TS_ENOMEM, "GET %s: out of memory", url);
}
