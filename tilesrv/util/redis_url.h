/* util/redis_url.h — redis:// URLs, read by the configuration (to refuse a malformed one
 * with its file:line) and by the Redis cache (to connect). */
#ifndef TS_UTIL_REDIS_URL_H
#define TS_UTIL_REDIS_URL_H

#include <stddef.h>

/* Split a redis:// URL (user and password percent-decoded; port 6379 and db 0 when absent).
 * 0, or -1 when it is malformed or a part does not fit its buffer. */
int ts_redis_url_parse(const char *url, char *host, size_t hsize, int *port, int *db, char *user,
                       size_t usize, char *password, size_t psize);

#endif
