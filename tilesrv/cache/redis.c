/* cache/redis.c — a Redis server as the tile cache shared by several tilesrv nodes, with a
 * cross-node render lock so that one node renders a metatile while the others wait for it.
 *
 * Keys: <prefix><tileset>/<grid>@<scale>x/<z>/<x>/<y> (y from the top) hold one tile each;
 * <prefix>lock:<metatile> is the render lock (SET NX PX, value = the holder's token). A value
 * is a 32-byte header then the tile's bytes (ts_cache__redis_value_encode): magic "TSR1",
 * mtime, data version, length and CRC-32 of the bytes, so a value cut short or overwritten
 * is found on read, deleted and re-rendered. The tiles of one put (a metatile) are written
 * in one MULTI/EXEC transaction: another node sees all of them or none.
 *
 * Connections: an idle list behind a mutex; a call takes one (or connects, with a connect
 * timeout), and gives it back after a clean reply. A connection that failed is closed; a
 * reused one that the server closed is retried once on a fresh connection (the server
 * restarted). A connect that fails or a command that times out (a Redis that accepts
 * connections but does not answer: stopped, swapping, a paused VM) marks Redis down: for
 * 1 s, doubling up to 30 s while it stays down, every call fails at once with TS_EIO and
 * idle connections are closed; the first call after that tries again, and a clean answer
 * ends it. So a hung Redis costs one command timeout per back-off period, not one per tile
 * request queued behind each other. */
#include "cache/cache.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "cache/cache_int.h"
#include "util/redis_url.h"
#include "util/clock.h"
#include "util/fmt.h"
#include "util/log.h"

#define MAX_IDLE 16
#define RETRY_NS 1000000000ll     /* Redis down: the first back-off */
#define RETRY_MAX_NS 30000000000ll /* and the longest */
#define SCAN_COUNT "1000"
#define DEL_BATCH 512

typedef struct conn {
    struct conn *next;
    redisContext *ctx;
} conn;

typedef struct rds {
    ts_cache base;
    char host[256];
    int port;
    int db;
    char user[128], password[256];
    char keyp[320];            /* <prefix><tileset>/<grid>@<s>x/ */
    char lockp[160];           /* <prefix>lock: */
    char node[96];             /* host name:pid, the start of every lock token */
    int ttl_s;
    int timeout_ms;
    pthread_mutex_t mu;        /* idle, nidle, retry_at */
    conn *idle;
    int nidle;
    int64_t retry_at;          /* monotonic ns before which no call is tried (Redis down) */
    int64_t backoff_ns;        /* the next back-off; RETRY_NS while Redis answers */
    char down_why[200];        /* why the last new connection failed, or "" (Redis up) */
    atomic_ullong seq;         /* lock tokens */
} rds;

/* ---- value format ------------------------------------------------------------------------ */

static void
put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t
crc_of(const uint8_t *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)crc;
}

void
ts_cache__redis_value_encode(uint8_t *hdr, const uint8_t *data, size_t len, int64_t mtime_ns,
                             uint64_t version)
{
    memcpy(hdr, "TSR1", 4);
    put_le(hdr + 4, 0, 4);
    put_le(hdr + 8, (uint64_t)mtime_ns, 8);
    put_le(hdr + 16, version, 8);
    put_le(hdr + 24, (uint64_t)len, 4);
    put_le(hdr + 28, crc_of(data, len), 4);
}

int
ts_cache__redis_value_decode(const uint8_t *v, size_t n, int check_data, int64_t *mtime_ns,
                             uint64_t *version)
{
    if (n < TS_CACHE_REDIS_HDR || memcmp(v, "TSR1", 4) != 0 || get_le(v + 4, 4) != 0)
        return -1;
    uint64_t len = get_le(v + 24, 4);
    if (check_data && (len != n - TS_CACHE_REDIS_HDR ||
                       crc_of(v + TS_CACHE_REDIS_HDR, (size_t)len) != (uint32_t)get_le(v + 28, 4)))
        return -1;
    *mtime_ns = (int64_t)get_le(v + 8, 8);
    *version = get_le(v + 16, 8);
    return 0;
}

/* ---- connections ------------------------------------------------------------------------- */

static void drop_idle(rds *r);

/* Redis is down (a connect failed, a command timed out): calls fail at once until the
 * back-off has passed; the back-off doubles up to RETRY_MAX_NS while this goes on. */
static void
mark_down(rds *r)
{
    pthread_mutex_lock(&r->mu);
    int64_t now = (int64_t)ts_mono_ns();
    if (now >= r->retry_at) { /* not already down: start (or extend) the back-off */
        r->retry_at = now + r->backoff_ns;
        r->backoff_ns = r->backoff_ns * 2 < RETRY_MAX_NS ? r->backoff_ns * 2 : RETRY_MAX_NS;
    }
    pthread_mutex_unlock(&r->mu);
    drop_idle(r);
}

/* A failure on the connection: an error record, and Redis marked down unless the server
 * closed it (a restart: the caller may retry at once on a new connection). */
static ts_status
conn_fail(rds *r, ts_err *err, const redisContext *ctx, const char *what)
{
    if (ctx == NULL || ctx->err != REDIS_ERR_EOF)
        mark_down(r);
    return TS_FAIL(err, TS_EIO, "Redis %s:%d: %s: %s", r->host, r->port, what,
                   ctx && ctx->err ? ctx->errstr : "no answer");
}

static void
conn_close(conn *c)
{
    if (c) {
        if (c->ctx)
            redisFree(c->ctx);
        free(c);
    }
}

/* A reply that is an error: its text into *err. */
static ts_status
reply_fail(rds *r, ts_err *err, const redisReply *rep, const char *what)
{
    return TS_FAIL(err, TS_EIO, "Redis %s:%d: %s: %.*s", r->host, r->port, what,
                   rep && rep->type == REDIS_REPLY_ERROR ? (int)rep->len : 12,
                   rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "wrong answer");
}

/* A new connection: connect, set the command timeout, AUTH, SELECT. NULL with *err. */
static conn *
conn_new(rds *r, ts_err *err)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        TS_FAIL(err, TS_ENOMEM, "Redis connection");
        return NULL;
    }
    c->ctx = redisConnectWithTimeout(r->host, r->port, tv);
    if (c->ctx == NULL || c->ctx->err) {
        conn_fail(r, err, c->ctx, "cannot connect");
        conn_close(c);
        return NULL;
    }
    if (redisSetTimeout(c->ctx, tv) != REDIS_OK) {
        conn_fail(r, err, c->ctx, "cannot set the timeout");
        conn_close(c);
        return NULL;
    }
    redisReply *rep = NULL;
    if (r->password[0]) {
        if (r->user[0])
            rep = redisCommand(c->ctx, "AUTH %s %s", r->user, r->password);
        else
            rep = redisCommand(c->ctx, "AUTH %s", r->password);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            rep ? reply_fail(r, err, rep, "AUTH") : conn_fail(r, err, c->ctx, "AUTH");
            freeReplyObject(rep);
            conn_close(c);
            return NULL;
        }
        freeReplyObject(rep);
    }
    if (r->db != 0) {
        rep = redisCommand(c->ctx, "SELECT %d", r->db);
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
            rep ? reply_fail(r, err, rep, "SELECT") : conn_fail(r, err, c->ctx, "SELECT");
            freeReplyObject(rep);
            conn_close(c);
            return NULL;
        }
        freeReplyObject(rep);
    }
    return c;
}

/* An idle connection (*reused = 1) or a new one. While connects fail, one is tried per
 * RETRY_NS and the calls in between fail at once. NULL with *err (TS_EIO). */
static conn *
conn_take(rds *r, int *reused, ts_err *err)
{
    pthread_mutex_lock(&r->mu);
    conn *c = r->idle;
    if (c) {
        r->idle = c->next;
        r->nidle--;
        pthread_mutex_unlock(&r->mu);
        *reused = 1;
        return c;
    }
    int64_t now = (int64_t)ts_mono_ns();
    if (now < r->retry_at) {
        char why[sizeof r->down_why];
        memcpy(why, r->down_why, sizeof why);
        pthread_mutex_unlock(&r->mu);
        if (why[0])
            TS_FAIL(err, TS_EIO, "%s (next try in %.1f s)", why,
                    (double)(r->retry_at - now) / 1e9);
        else
            TS_FAIL(err, TS_EIO, "Redis %s:%d does not answer (next try in %.1f s)", r->host,
                    r->port, (double)(r->retry_at - now) / 1e9);
        return NULL;
    }
    pthread_mutex_unlock(&r->mu);
    *reused = 0;
    c = conn_new(r, err);
    pthread_mutex_lock(&r->mu);
    int was_down = r->down_why[0] != '\0';
    if (c == NULL) /* the reason (refused, timed out, AUTH refused ...) for later calls */
        snprintf(r->down_why, sizeof r->down_why, "%.190s", err ? err->msg : "no answer");
    else
        r->down_why[0] = '\0';
    pthread_mutex_unlock(&r->mu);
    if (c == NULL)
        mark_down(r);
    else if (was_down)
        ts_info("cache %s (redis): Redis %s:%d answers again", r->base.name, r->host, r->port);
    return c;
}

/* Back to the idle list when ok and the context has no error; closed otherwise. */
static void
conn_give(rds *r, conn *c, int ok)
{
    if (c == NULL)
        return;
    if (!ok || c->ctx->err) {
        conn_close(c);
        return;
    }
    pthread_mutex_lock(&r->mu);
    r->backoff_ns = RETRY_NS; /* a clean answer: Redis is up */
    if (r->nidle < MAX_IDLE) {
        c->next = r->idle;
        r->idle = c;
        r->nidle++;
        c = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    conn_close(c);
}

/* Close every idle connection: called when a reused one failed, since the others were
 * most likely cut by the same server restart. */
static void
drop_idle(rds *r)
{
    pthread_mutex_lock(&r->mu);
    conn *c = r->idle;
    r->idle = NULL;
    r->nidle = 0;
    pthread_mutex_unlock(&r->mu);
    while (c) {
        conn *n = c->next;
        conn_close(c);
        c = n;
    }
}

/* One command; a reused connection that fails is retried once on a new one. The reply
 * (caller frees) in *out; an error reply is returned as TS_EIO. */
static ts_status
command(rds *r, int argc, const char **argv, const size_t *lens, redisReply **out, ts_err *err)
{
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = 0;
        conn *c = conn_take(r, &reused, err);
        if (c == NULL)
            return TS_EIO;
        redisReply *rep = redisCommandArgv(c->ctx, argc, argv, lens);
        if (rep == NULL) {
            ts_status st = conn_fail(r, err, c->ctx, argv[0]);
            conn_give(r, c, 0);
            if (reused) {
                drop_idle(r);
                continue;
            }
            return st;
        }
        conn_give(r, c, 1);
        if (rep->type == REDIS_REPLY_ERROR) {
            ts_status st = reply_fail(r, err, rep, argv[0]);
            freeReplyObject(rep);
            return st;
        }
        *out = rep;
        return TS_OK;
    }
    return TS_EIO;
}

/* ---- keys -------------------------------------------------------------------------------- */

static void
tile_key(const rds *r, int z, uint32_t x, uint32_t y, char *buf, size_t size)
{
    snprintf(buf, size, "%s%d/%" PRIu32 "/%" PRIu32, r->keyp, z, x, y);
}

/* s with the glob characters of SCAN MATCH escaped, into buf. 0, or -1 when too long. */
static int
glob_escape(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (; *s; s++) {
        if (o + 3 >= size)
            return -1;
        if (*s == '*' || *s == '?' || *s == '[' || *s == ']' || *s == '\\')
            buf[o++] = '\\';
        buf[o++] = *s;
    }
    buf[o] = '\0';
    return 0;
}

/* ---- reads ------------------------------------------------------------------------------- */

static ts_status
rds_del(ts_cache *c, int z, uint32_t x, uint32_t y, ts_err *err)
{
    rds *r = (rds *)c;
    char key[400];
    tile_key(r, z, x, y, key, sizeof key);
    const char *argv[2] = {"UNLINK", key};
    size_t lens[2] = {6, strlen(key)};
    redisReply *rep;
    TS_TRY(command(r, 2, argv, lens, &rep, err));
    freeReplyObject(rep);
    return TS_OK;
}

/* A value whose header does not hold: counted corrupt and deleted; a miss. */
static ts_status
corrupt_value(rds *r, int z, uint32_t x, uint32_t y, ts_err *err)
{
    atomic_fetch_add_explicit(&r->base.corrupt, 1, memory_order_relaxed);
    ts_err derr;
    ts_err_clear(&derr);
    if (rds_del(&r->base, z, x, y, &derr) != TS_OK)
        ts_warn("cache %s (redis): damaged tile %d/%u/%u could not be deleted: %s", r->base.name,
                z, x, y, derr.msg);
    else
        ts_warn("cache %s (redis): tile %d/%u/%u was damaged (bad header or checksum); deleted",
                r->base.name, z, x, y);
    return TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u was damaged and has been deleted", z, x, y);
}

static ts_status
rds_get(ts_cache *c, int z, uint32_t x, uint32_t y, ts_tile **out, ts_cache_entry *e,
        ts_err *err)
{
    rds *r = (rds *)c;
    char key[400];
    tile_key(r, z, x, y, key, sizeof key);
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, strlen(key)};
    redisReply *rep;
    TS_TRY(command(r, 2, argv, lens, &rep, err));
    ts_status st;
    int64_t mt;
    uint64_t ver;
    if (rep->type == REDIS_REPLY_NIL) {
        st = TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u not cached", z, x, y);
    } else if (rep->type != REDIS_REPLY_STRING ||
               ts_cache__redis_value_decode((const uint8_t *)rep->str, rep->len, 1, &mt, &ver)) {
        st = corrupt_value(r, z, x, y, err);
    } else {
        size_t n = rep->len - TS_CACHE_REDIS_HDR;
        ts_tile *t = ts_cache__tile_alloc(n, mt / 1000000000);
        if (t == NULL) {
            st = TS_FAIL(err, TS_ENOMEM, "tile");
        } else {
            memcpy(t->own, rep->str + TS_CACHE_REDIS_HDR, n);
            ts_cache__tile_seal(t);
            e->mtime_ns = mt;
            e->version_ok = r->base.version == 0 || ver == r->base.version;
            *out = t;
            st = TS_OK;
        }
    }
    freeReplyObject(rep);
    return st;
}

static ts_status
rds_stat(ts_cache *c, int z, uint32_t x, uint32_t y, ts_cache_entry *e, ts_err *err)
{
    rds *r = (rds *)c;
    char key[400], last[16];
    tile_key(r, z, x, y, key, sizeof key);
    snprintf(last, sizeof last, "%d", TS_CACHE_REDIS_HDR - 1);
    const char *argv[4] = {"GETRANGE", key, "0", last};
    size_t lens[4] = {8, strlen(key), 1, strlen(last)};
    redisReply *rep;
    TS_TRY(command(r, 4, argv, lens, &rep, err));
    ts_status st = TS_OK;
    int64_t mt;
    uint64_t ver;
    if (rep->type != REDIS_REPLY_STRING || rep->len == 0)
        st = TS_FAIL(err, TS_ENOENT, "tile %d/%u/%u not cached", z, x, y);
    else if (ts_cache__redis_value_decode((const uint8_t *)rep->str, rep->len, 0, &mt, &ver))
        st = corrupt_value(r, z, x, y, err);
    else {
        e->mtime_ns = mt;
        e->version_ok = r->base.version == 0 || ver == r->base.version;
    }
    freeReplyObject(rep);
    return st;
}

/* ---- writes ------------------------------------------------------------------------------ */

/* Read the n replies of a pipeline; 0 when all came, -1 (connection broken) otherwise. An
 * error reply's text goes into *err once (*bad set). */
static int
drain(rds *r, conn *c, int n, redisReply **last, int *bad, ts_err *err)
{
    for (int i = 0; i < n; i++) {
        void *v = NULL;
        if (redisGetReply(c->ctx, &v) != REDIS_OK || v == NULL) {
            conn_fail(r, err, c->ctx, "no answer to a pipelined command");
            return -1;
        }
        redisReply *rep = v;
        if (rep->type == REDIS_REPLY_ERROR && !*bad) {
            reply_fail(r, err, rep, "pipelined command");
            *bad = 1;
        }
        if (last && i == n - 1)
            *last = rep;
        else
            freeReplyObject(rep);
    }
    return 0;
}

/* One attempt at a put; *broken = 1 when it failed on the connection (not on Redis's
 * answer), so that a reused connection can be retried. */
static ts_status
put_once(rds *r, int z, const ts_cache_item *items, int n, int *reused, int *broken, ts_err *err)
{
    *broken = 0;
    conn *cn = conn_take(r, reused, err);
    if (cn == NULL)
        return TS_EIO;
    int64_t now = ts_cache__now_ns();
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%d", r->ttl_s);
    int ok = redisAppendCommand(cn->ctx, "MULTI") == REDIS_OK;
    uint8_t *val = NULL;
    size_t cap = 0;
    for (int i = 0; ok && i < n; i++) {
        const ts_tile *t = items[i].tile;
        size_t need = TS_CACHE_REDIS_HDR + t->len;
        if (need > cap) {
            uint8_t *nv = realloc(val, need);
            if (nv == NULL) {
                free(val);
                conn_give(r, cn, 0);
                return TS_FAIL(err, TS_ENOMEM, "Redis value");
            }
            val = nv;
            cap = need;
        }
        ts_cache__redis_value_encode(val, t->data, t->len, now, r->base.version);
        memcpy(val + TS_CACHE_REDIS_HDR, t->data, t->len);
        char key[400];
        tile_key(r, z, items[i].x, items[i].y, key, sizeof key);
        const char *argv[5] = {"SET", key, (const char *)val, "EX", ttl};
        size_t lens[5] = {3, strlen(key), need, 2, strlen(ttl)};
        /* hiredis copies the arguments into its output buffer */
        ok = redisAppendCommandArgv(cn->ctx, r->ttl_s > 0 ? 5 : 3, argv, lens) == REDIS_OK;
    }
    free(val);
    ok = ok && redisAppendCommand(cn->ctx, "EXEC") == REDIS_OK;
    if (!ok) {
        ts_status st = conn_fail(r, err, cn->ctx, "cannot queue the writes");
        conn_give(r, cn, 0);
        *broken = 1;
        return st;
    }
    redisReply *exec = NULL;
    int bad = 0;
    if (drain(r, cn, n + 2, &exec, &bad, err) != 0) {
        conn_give(r, cn, 0);
        *broken = 1;
        return TS_EIO;
    }
    conn_give(r, cn, 1);
    ts_status st = TS_OK;
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != (size_t)n)
        st = bad ? TS_EIO : reply_fail(r, err, exec, "EXEC (the writes were not applied)");
    else
        for (size_t i = 0; i < exec->elements && st == TS_OK; i++)
            if (exec->element[i]->type == REDIS_REPLY_ERROR)
                st = reply_fail(r, err, exec->element[i], "SET");
    freeReplyObject(exec);
    return st;
}

static ts_status
rds_put(ts_cache *c, int z, const ts_cache_item *items, int n, ts_err *err)
{
    rds *r = (rds *)c;
    int reused = 0, broken = 0;
    ts_status st = put_once(r, z, items, n, &reused, &broken, err);
    if (st != TS_OK && broken && reused) {
        drop_idle(r); /* the server restarted: once more on a new connection */
        st = put_once(r, z, items, n, &reused, &broken, err);
    }
    return st;
}

/* UNLINK the n keys (one command). *removed += what Redis counted. */
static ts_status
unlink_keys(rds *r, char **keys, int n, uint64_t *removed, ts_err *err)
{
    if (n == 0)
        return TS_OK;
    const char *argv[DEL_BATCH + 1];
    size_t lens[DEL_BATCH + 1];
    argv[0] = "UNLINK";
    lens[0] = 6;
    for (int i = 0; i < n; i++) {
        argv[i + 1] = keys[i];
        lens[i + 1] = strlen(keys[i]);
    }
    redisReply *rep;
    TS_TRY(command(r, n + 1, argv, lens, &rep, err));
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
        *removed += (uint64_t)rep->integer;
    freeReplyObject(rep);
    return TS_OK;
}

/* Of the n keys, drop those stored at or after older_ns (reading their headers in one
 * pipeline); the others stay in keys[] (the dropped ones are freed). New count in *n. */
static ts_status
keep_older(rds *r, char **keys, int *n, int64_t older_ns, ts_err *err)
{
    int reused;
    conn *c = conn_take(r, &reused, err);
    if (c == NULL)
        return TS_EIO;
    char last[16];
    snprintf(last, sizeof last, "%d", TS_CACHE_REDIS_HDR - 1);
    for (int i = 0; i < *n; i++) {
        const char *argv[4] = {"GETRANGE", keys[i], "0", last};
        size_t lens[4] = {8, strlen(keys[i]), 1, strlen(last)};
        if (redisAppendCommandArgv(c->ctx, 4, argv, lens) != REDIS_OK) {
            ts_status st = conn_fail(r, err, c->ctx, "cannot queue GETRANGE");
            conn_give(r, c, 0);
            return st;
        }
    }
    int kept = 0;
    for (int i = 0; i < *n; i++) {
        void *v = NULL;
        if (redisGetReply(c->ctx, &v) != REDIS_OK || v == NULL) {
            ts_status st = conn_fail(r, err, c->ctx, "no answer to GETRANGE");
            conn_give(r, c, 0);
            for (int k = i; k < *n; k++)
                free(keys[k]);
            *n = kept;
            return st;
        }
        redisReply *rep = v;
        int64_t mt = 0;
        uint64_t ver;
        /* an unreadable header counts as old: truncating removes it */
        if (rep->type == REDIS_REPLY_STRING &&
            ts_cache__redis_value_decode((const uint8_t *)rep->str, rep->len, 0, &mt, &ver) != 0)
            mt = 0;
        int keep = rep->type == REDIS_REPLY_STRING && rep->len > 0 && mt < older_ns;
        freeReplyObject(rep);
        if (keep)
            keys[kept++] = keys[i];
        else
            free(keys[i]);
    }
    conn_give(r, c, 1);
    *n = kept;
    return TS_OK;
}

static ts_status
flush_batch(rds *r, char **keys, int *n, int64_t older_than, uint64_t *removed, ts_err *err)
{
    ts_status st = TS_OK;
    if (older_than > 0 && *n > 0)
        st = keep_older(r, keys, n, older_than * 1000000000, err);
    if (st == TS_OK)
        st = unlink_keys(r, keys, *n, removed, err);
    for (int i = 0; i < *n; i++)
        free(keys[i]);
    *n = 0;
    return st;
}

/* SCAN (never KEYS) over the keys of level z, the ones in the range UNLINKed in batches. */
static ts_status
rds_truncate(ts_cache *c, int z, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
             int64_t older_than, uint64_t *removed, ts_err *err)
{
    rds *r = (rds *)c;
    char esc[700], pattern[720], cursor[32] = "0";
    if (glob_escape(r->keyp, esc, sizeof esc) != 0)
        return TS_FAIL(err, TS_EINVAL, "Redis key prefix too long");
    snprintf(pattern, sizeof pattern, "%s%d/*", esc, z);
    size_t plen = strlen(r->keyp);
    char *batch[DEL_BATCH];
    int nb = 0;
    ts_status st = TS_OK;
    do {
        const char *argv[6] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT};
        size_t lens[6] = {4, strlen(cursor), 5, strlen(pattern), 5, strlen(SCAN_COUNT)};
        redisReply *rep;
        st = command(r, 6, argv, lens, &rep, err);
        if (st != TS_OK)
            break;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            st = reply_fail(r, err, rep, "SCAN");
            freeReplyObject(rep);
            break;
        }
        snprintf(cursor, sizeof cursor, "%.*s", (int)rep->element[0]->len, rep->element[0]->str);
        const redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements && st == TS_OK; i++) {
            const redisReply *k = keys->element[i];
            if (k->type != REDIS_REPLY_STRING || k->len <= plen || k->len > 1000)
                continue;
            /* <keyp><z>/<x>/<y>: check z again (MATCH is a glob) and the range */
            char tail[1024];
            snprintf(tail, sizeof tail, "%.*s", (int)(k->len - plen), k->str + plen);
            char *end;
            errno = 0;
            long kz = strtol(tail, &end, 10);
            if (end == tail || *end != '/' || kz != z)
                continue;
            char *xs = end + 1;
            unsigned long kx = strtoul(xs, &end, 10);
            if (end == xs || *end != '/')
                continue;
            char *ys = end + 1;
            unsigned long ky = strtoul(ys, &end, 10);
            if (end == ys || *end != '\0' || errno != 0)
                continue;
            if (kx < x0 || kx > x1 || ky < y0 || ky > y1)
                continue;
            char *dup = strndup(k->str, k->len);
            if (dup == NULL) {
                st = TS_FAIL(err, TS_ENOMEM, "truncate");
                break;
            }
            batch[nb++] = dup;
            if (nb == DEL_BATCH)
                st = flush_batch(r, batch, &nb, older_than, removed, err);
        }
        freeReplyObject(rep);
    } while (st == TS_OK && strcmp(cursor, "0") != 0);
    if (st == TS_OK)
        st = flush_batch(r, batch, &nb, older_than, removed, err);
    for (int i = 0; i < nb; i++)
        free(batch[i]);
    return st;
}

/* ---- render lock ------------------------------------------------------------------------- */

static ts_status
rds_lock(ts_cache *c, const char *name, char *token, size_t size, ts_err *err)
{
    rds *r = (rds *)c;
    char key[400], ms[24];
    snprintf(key, sizeof key, "%s%s", r->lockp, name);
    snprintf(token, size, "%s:%llu", r->node,
             (unsigned long long)atomic_fetch_add(&r->seq, 1) + 1);
    snprintf(ms, sizeof ms, "%d", r->base.lock_ms);
    const char *argv[6] = {"SET", key, token, "NX", "PX", ms};
    size_t lens[6] = {3, strlen(key), strlen(token), 2, 2, strlen(ms)};
    redisReply *rep;
    TS_TRY(command(r, 6, argv, lens, &rep, err));
    ts_status st = rep->type == REDIS_REPLY_STATUS ? TS_OK
                                                   : TS_FAIL(err, TS_EBUSY, "%s is locked", key);
    freeReplyObject(rep);
    return st;
}

/* Delete the lock only while it still holds our token (it may have expired and been taken
 * by another node meanwhile). */
static const char unlock_lua[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";

static ts_status
rds_unlock(ts_cache *c, const char *name, const char *token, ts_err *err)
{
    rds *r = (rds *)c;
    char key[400];
    snprintf(key, sizeof key, "%s%s", r->lockp, name);
    const char *argv[5] = {"EVAL", unlock_lua, "1", key, token};
    size_t lens[5] = {4, sizeof unlock_lua - 1, 1, strlen(key), strlen(token)};
    redisReply *rep;
    TS_TRY(command(r, 5, argv, lens, &rep, err));
    freeReplyObject(rep);
    return TS_OK;
}

/* ---- open / close ------------------------------------------------------------------------ */

static void
rds_close(ts_cache *c)
{
    rds *r = (rds *)c;
    while (r->idle) {
        conn *n = r->idle->next;
        conn_close(r->idle);
        r->idle = n;
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static const ts_cache_ops redis_ops = {
    .kind = "redis",
    .get = rds_get,
    .stat = rds_stat,
    .put = rds_put,
    .del = rds_del,
    .truncate = rds_truncate,
    .close = rds_close,
    .lock = rds_lock,
    .unlock = rds_unlock,
    .checks_png = 1,
};


ts_cache *
ts_cache_redis_open(const ts_cache_redis_opts *o, const ts_cache_desc *d, ts_err *err)
{
    if (d == NULL || d->grid == NULL) {
        TS_FAIL(err, TS_EINVAL, "Redis cache: no grid given");
        return NULL;
    }
    const char *url = o && o->url ? o->url : "redis://127.0.0.1:6379/0";
    const char *prefix = o && o->prefix ? o->prefix : "tilesrv:";
    rds *r = calloc(1, sizeof *r);
    if (r == NULL) {
        TS_FAIL(err, TS_ENOMEM, "Redis cache");
        return NULL;
    }
    ts_cache__init(&r->base, &redis_ops, d);
    if (ts_redis_url_parse(url, r->host, sizeof r->host, &r->port, &r->db, r->user,
                                 sizeof r->user, r->password, sizeof r->password) != 0) {
        /* the URL may hold a password: only its start is shown */
        TS_FAIL(err, TS_ECONFIG,
                "Redis cache: bad url '%.8s...': expected redis://[[user]:password@]host[:port][/db]",
                url);
        free(r);
        return NULL;
    }
    int n1 = snprintf(r->keyp, sizeof r->keyp, "%s%s/%s@%dx/", prefix, r->base.name,
                      d->grid->name, r->base.scale);
    int n2 = snprintf(r->lockp, sizeof r->lockp, "%slock:", prefix);
    if (n1 < 0 || (size_t)n1 >= sizeof r->keyp || n2 < 0 || (size_t)n2 >= sizeof r->lockp) {
        TS_FAIL(err, TS_EINVAL, "Redis cache: key prefix too long");
        free(r);
        return NULL;
    }
    char hn[64] = "node";
    if (gethostname(hn, sizeof hn) != 0)
        snprintf(hn, sizeof hn, "node");
    hn[sizeof hn - 1] = '\0';
    snprintf(r->node, sizeof r->node, "%s:%ld", hn, (long)getpid());
    r->ttl_s = o && o->ttl_s > 0 ? o->ttl_s : 0;
    r->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : 2000;
    r->backoff_ns = RETRY_NS;
    r->base.lock_ms = (o && o->lock_timeout_s > 0 ? o->lock_timeout_s : 30) * 1000;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->seq, 0);
    /* Connect once now to say early when Redis is not there; the cache works (and reports
     * errors per call) either way, so that tiles are still served uncached. */
    ts_err cerr;
    ts_err_clear(&cerr);
    int reused;
    conn *c = conn_take(r, &reused, &cerr);
    if (c)
        conn_give(r, c, 1);
    else
        ts_warn("cache %s (redis): %s; tiles are rendered uncached until it answers",
                r->base.name, cerr.msg);
    return &r->base;
}
