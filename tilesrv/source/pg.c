/* source/pg.c — live PostGIS tables: the features of one box per render, over libpq.
 *
 * ts_pg_table_open reads what a render needs to know once (geometry column, SRID, the
 * columns kept, extent) and builds the query text from quoted identifiers:
 *
 *   SELECT ST_AsBinary("geom"), "col1", ... FROM "schema"."table"
 *   WHERE "geom" && ST_MakeEnvelope($1, $2, $3, $4, <srid>) [AND (<where>)]
 *
 * The box is the only thing that varies, and it travels as bound float8 parameters of a
 * statement PREPAREd once per connection (named after a hash of its text, so tables, and
 * the same table in a reloaded configuration, share it). Nothing of a request's text ever
 * reaches the SQL.
 *
 * Each fetching thread keeps its state in thread-specific data freed when the thread ends:
 * one connection per (connection string, timeout), a ts_source_ctx for GEOS repairs, the
 * transformations it used, and scratch buffers. Results are read in text format; the
 * geometry arrives as hex bytea (bytea_output is set to hex on every connection), is parsed
 * by OGR (OGR_G_CreateFromWkb), reprojected and repaired as ts_store_load does (ogr.c). */
#include "source/source.h"
#include "source/source_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

#include "util/clock.h"
#include "util/fmt.h"
#include "util/log.h"

#define PG_DEFAULT_TIMEOUT_MS 10000
#define PG_RETRY_NS 1000000000ull      /* first wait after a failed connect */
#define PG_RETRY_MAX_NS 10000000000ull /* longest wait between tries of a failing server */
#define PG_ANSWER_GRACE_MS 2000        /* beyond statement_timeout: the server's own error
                                        * comes first; past this, it is not answering */

/* Built-in type OIDs (pg_type.dat; fixed across PostgreSQL versions). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_FLOAT4 = 700,
       OID_FLOAT8 = 701, OID_NUMERIC = 1700, OID_TEXT = 25 };

/* A back-off (see backoff_may below). */
typedef struct backoff {
    uint64_t retry_ns;   /* nothing tried before this (monotonic); 0 = none */
    uint64_t backoff_ns; /* the wait after the next failure; 0 = it works */
    int probing;         /* a caller is trying */
    char msg[200];       /* the last failure */
} backoff;

struct ts_pg_table {
    char *name;       /* layer name */
    char *conninfo;   /* libpq form ("PG:" stripped) */
    int timeout_ms;
    char *sql;        /* the prepared query */
    char stmt[32];    /* its statement name */
    char *src_crs, *dst_crs;
    int nfields;
    char **fields;    /* kept fields, as the store names them */
    int has_pk;       /* an integer primary key is selected last: the features' origin ids */
    ts_store *empty;
    ts_bbox extent;
    /* the geometry column as described at open, and when a fetch last checked that it is
     * still so (the query's box carries the SRID: a table re-imported in another CRS
     * matched no row, silently, and blank tiles were cached) */
    char *schema, *table, *gcol;
    int srid;
    _Atomic uint64_t srid_checked_ns;
    /* a table whose queries time out (a lock held by an import, a slow view) is not asked
     * again for a while, then by one fetch at a time: the others fail at once instead of
     * each waiting out query_timeout in turn */
    pthread_mutex_t slow_mu;
    backoff slow;
    uint64_t count;
};

/* ---- process-wide counters ---- */

static atomic_ullong n_queries, n_errors, n_connects, n_rows, n_query_ns;
static atomic_int patient; /* ts_pg_set_patient */

#define PG_PATIENCE_NS 120000000000ull /* how long a patient fetch waits for back-offs */

void
ts_pg_set_patient(int p)
{
    atomic_store(&patient, p != 0);
}

/* A patient fetch refused by a back-off: wait a little (0.2 s) and say whether to ask again
 * (within PG_PATIENCE_NS of *since, set on the first call). */
static int
wait_again(uint64_t *since)
{
    if (!atomic_load(&patient))
        return 0;
    uint64_t now = ts_mono_ns();
    if (*since == 0)
        *since = now;
    if (now - *since > PG_PATIENCE_NS)
        return 0;
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    return 1;
}
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_msg[512];
static atomic_int last_failed; /* the latest fetch failed */

void
ts_pg_stats_get(ts_pg_stats *o)
{
    o->queries = atomic_load(&n_queries);
    o->errors = atomic_load(&n_errors);
    o->connects = atomic_load(&n_connects);
    o->rows = atomic_load(&n_rows);
    o->query_ns = atomic_load(&n_query_ns);
}

int
ts_pg_failing(char *buf, size_t len)
{
    pthread_mutex_lock(&last_mu);
    int f = atomic_load(&last_failed);
    if (buf != NULL && len > 0)
        snprintf(buf, len, "%s", f ? last_msg : "");
    pthread_mutex_unlock(&last_mu);
    return f;
}

/* The messages logged lately (their text before any countdown), to log each at most once
 * per 10 s however many layers fail in turn. last_mu held. */
static struct {
    uint64_t hash;
    int64_t at;
} logged[16];

static uint64_t
msg_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Count a failed fetch; log it unless the same failure was logged in the last 10 s (the
 * same text before its countdown, "... (tried again in 3 s)"). */
static void
note_failure(const char *msg)
{
    atomic_fetch_add(&n_errors, 1);
    int64_t now = ts_wall_s();
    const char *cd = strstr(msg, " (tried again ");
    uint64_t h = msg_hash(msg, cd ? (size_t)(cd - msg) : strlen(msg));
    pthread_mutex_lock(&last_mu);
    int log = 1, oldest = 0;
    for (int i = 0; i < 16; i++) {
        if (logged[i].hash == h && now - logged[i].at < 10)
            log = 0;
        if (logged[i].at < logged[oldest].at)
            oldest = i;
    }
    if (log) {
        int slot = oldest;
        for (int i = 0; i < 16; i++)
            if (logged[i].hash == h)
                slot = i;
        logged[slot].hash = h;
        logged[slot].at = now;
    }
    snprintf(last_msg, sizeof last_msg, "%s", msg);
    atomic_store(&last_failed, 1);
    pthread_mutex_unlock(&last_mu);
    if (log)
        ts_warn("%s", msg);
}

static void
note_success(uint64_t ns, uint64_t rows)
{
    atomic_fetch_add(&n_queries, 1);
    atomic_fetch_add(&n_rows, rows);
    atomic_fetch_add(&n_query_ns, ns);
    if (atomic_load(&last_failed)) {
        pthread_mutex_lock(&last_mu);
        if (atomic_exchange(&last_failed, 0))
            ts_info("PostGIS queries work again");
        pthread_mutex_unlock(&last_mu);
    }
}

/* ---- per-thread state ---- */

typedef struct pg_conn {
    char *conninfo;
    int timeout_ms;
    PGconn *pc;          /* NULL: closed */
    char **stmts;        /* statements prepared on pc */
    int nstmts, capstmts;
    uint64_t silent_gen; /* the server's silent_gen when pc was opened */
    struct pg_conn *next;
} pg_conn;

typedef struct pg_xf {
    char *src, *dst;
    ts_source_xform *x;
    struct pg_xf *next;
} pg_xf;

typedef struct pg_thread {
    ts_source_ctx *sc;
    pg_conn *conns;
    pg_xf *xfs;
    ts_flat f, tmp;
    unsigned char *wkb;
    size_t wkb_cap;
    ts_value *vals;
    int vals_cap;
} pg_thread;

static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void
conn_close(pg_conn *c)
{
    if (c->pc != NULL)
        PQfinish(c->pc);
    c->pc = NULL;
    for (int i = 0; i < c->nstmts; i++)
        free(c->stmts[i]);
    c->nstmts = 0;
}

static void
thread_free(void *p)
{
    pg_thread *th = p;
    if (th == NULL)
        return;
    for (pg_conn *c = th->conns, *n; c; c = n) {
        n = c->next;
        conn_close(c);
        free(c->stmts);
        free(c->conninfo);
        free(c);
    }
    for (pg_xf *x = th->xfs, *n; x; x = n) {
        n = x->next;
        ts_source_xform_free(x->x);
        free(x->src);
        free(x->dst);
        free(x);
    }
    ts_source__flat_fini(&th->f);
    ts_source__flat_fini(&th->tmp);
    free(th->wkb);
    free(th->vals);
    ts_source_ctx_free(th->sc);
    free(th);
}

static void
key_create(void)
{
    pthread_key_create(&thread_key, thread_free);
}

static pg_thread *
thread_state(ts_err *err)
{
    pthread_once(&key_once, key_create);
    pg_thread *th = pthread_getspecific(thread_key);
    if (th != NULL)
        return th;
    th = calloc(1, sizeof *th);
    if (th == NULL) {
        TS_FAIL(err, TS_ENOMEM, "PostGIS thread state");
        return NULL;
    }
    if ((th->sc = ts_source_ctx_new(err)) == NULL) {
        free(th);
        return NULL;
    }
    if (pthread_setspecific(thread_key, th) != 0) {
        thread_free(th);
        TS_FAIL(err, TS_ENOMEM, "PostGIS thread state");
        return NULL;
    }
    return th;
}

/* The thread's transformation src -> dst (NULL with *err for an unknown CRS). */
static ts_source_xform *
thread_xform(pg_thread *th, const char *src, const char *dst, ts_err *err)
{
    for (pg_xf *x = th->xfs; x; x = x->next)
        if (strcmp(x->src, src) == 0 && strcmp(x->dst, dst) == 0)
            return x->x;
    pg_xf *x = calloc(1, sizeof *x);
    if (x == NULL || (x->src = strdup(src)) == NULL || (x->dst = strdup(dst)) == NULL) {
        if (x)
            free(x->src);
        free(x);
        TS_FAIL(err, TS_ENOMEM, "PostGIS transformation");
        return NULL;
    }
    if ((x->x = ts_source_xform_new(src, dst, err)) == NULL) {
        free(x->src);
        free(x->dst);
        free(x);
        return NULL;
    }
    x->next = th->xfs;
    th->xfs = x;
    return x->x;
}

/* ---- connections ---- */

/* libpq messages end in a newline (sometimes several lines): keep the first line. */
static void
trim_msg(char *s)
{
    char *nl = strchr(s, '\n');
    if (nl != NULL)
        *nl = 0;
}

/* Wait for the answer to the command just sent on pc (sent: what PQsend... returned), at
 * most timeout_ms (the connection's statement_timeout) + PG_ANSWER_GRACE_MS, and check its
 * status. libpq's blocking calls wait as long as
 * the server does, and a server that is stopped, or cut off by a firewall after the
 * connection was made, never runs its statement_timeout: such a query had held a render
 * thread for good. 0 with *out (the result, the caller's) when every result has status
 * want; otherwise -1 with msg (one line) and *out NULL; *timed_out = 1 when the deadline
 * passed, after which the connection is unusable (the caller closes it). */
/* The SQLSTATE of the last error pg_wait saw on this thread ("" = none or no result). */
static _Thread_local char last_sqlstate[6];

static int
pg_wait(PGconn *pc, int sent, ExecStatusType want, PGresult **out, int timeout_ms,
        int *timed_out, char *msg, size_t len)
{
    last_sqlstate[0] = 0;
    int wait_ms = timeout_ms + PG_ANSWER_GRACE_MS;
    uint64_t deadline_ns = ts_mono_ns() + (uint64_t)wait_ms * 1000000ull;
    *out = NULL;
    *timed_out = 0;
    if (!sent) {
        snprintf(msg, len, "%s", PQerrorMessage(pc));
        trim_msg(msg);
        return -1;
    }
    PGresult *keep = NULL; /* the first result of another status, else the last */
    for (;;) {
        while (PQisBusy(pc)) {
            uint64_t now = ts_mono_ns();
            if (now >= deadline_ns) {
                PQclear(keep);
                *timed_out = 1;
                snprintf(msg, len, "no answer from the server within %d s",
                         (wait_ms + 999) / 1000);
                return -1;
            }
            uint64_t left_ms = (deadline_ns - now + 999999) / 1000000;
            struct pollfd pfd = {.fd = PQsocket(pc), .events = POLLIN};
            int n = poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms);
            if (n < 0 && errno != EINTR) {
                PQclear(keep);
                snprintf(msg, len, "waiting for the server: poll failed (errno %d)", errno);
                return -1;
            }
            if (n > 0 && !PQconsumeInput(pc)) {
                PQclear(keep);
                snprintf(msg, len, "%s", PQerrorMessage(pc));
                trim_msg(msg);
                return -1;
            }
        }
        PGresult *r = PQgetResult(pc);
        if (r == NULL)
            break;
        if (keep == NULL || PQresultStatus(keep) == want) {
            PQclear(keep);
            keep = r;
        } else {
            PQclear(r);
        }
    }
    if (keep == NULL || PQresultStatus(keep) != want) {
        const char *code = keep ? PQresultErrorField(keep, PG_DIAG_SQLSTATE) : NULL;
        snprintf(last_sqlstate, sizeof last_sqlstate, "%s", code ? code : "");
        snprintf(msg, len, "%s", keep ? PQresultErrorMessage(keep) : PQerrorMessage(pc));
        trim_msg(msg);
        if (msg[0] == 0)
            snprintf(msg, len, "unexpected answer from the server");
        PQclear(keep);
        return -1;
    }
    *out = keep;
    return 0;
}

/* A new connection with the session settings tilesrv relies on; NULL with msg set. */
static PGconn *
connect_db(const char *conninfo, int timeout_ms, char *msg, size_t len)
{
    char ct[16];
    snprintf(ct, sizeof ct, "%d", timeout_ms < 2000 ? 2 : (timeout_ms + 999) / 1000);
    /* dbname is expanded as a connection string; the later keywords override it */
    const char *kw[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, ct, "tilesrv", NULL};
    PGconn *pc = PQconnectdbParams(kw, vals, 1);
    if (pc == NULL) {
        snprintf(msg, len, "out of memory");
        return NULL;
    }
    if (PQstatus(pc) != CONNECTION_OK) {
        snprintf(msg, len, "%s", PQerrorMessage(pc));
        PQfinish(pc);
        return NULL;
    }
    char set[128];
    snprintf(set, sizeof set, "SET statement_timeout = %d; SET bytea_output = 'hex'", timeout_ms);
    PGresult *r;
    int late;
    if (pg_wait(pc, PQsendQuery(pc, set), PGRES_COMMAND_OK, &r, timeout_ms, &late, msg, len) != 0) {
        PQfinish(pc);
        return NULL;
    }
    PQclear(r);
    return pc;
}

/* ---- back-off: something failing is tried again after a while, by one caller at a time ----
 *
 * After a failure nothing is tried for 1 s, then 2, 4, 8 and at most 10 s while the tries
 * keep failing; when the wait is over, one caller tries (the probe) and the others fail at
 * once with the last error until it has told how it went. The caller holds the lock that
 * guards the backoff. */

/* May the caller try now? 1 = yes (*probe = 1: as the one try: it must call backoff_result),
 * 0 = no, msg set to why ("... (tried again in N s)"). */
static int
backoff_may(backoff *b, int *probe, char *msg, size_t len)
{
    *probe = 0;
    if (b->backoff_ns == 0)
        return 1;
    uint64_t now = ts_mono_ns();
    if (b->probing || now < b->retry_ns) {
        uint64_t wait = b->retry_ns > now ? b->retry_ns - now : 0;
        if (b->probing)
            snprintf(msg, len, "%s (tried again now)", b->msg);
        else
            snprintf(msg, len, "%s (tried again in %.0f s)", b->msg, (double)wait / 1e9 + 0.5);
        return 0;
    }
    b->probing = 1;
    *probe = 1;
    return 1;
}

/* How a try went (failed = 1: msg). probe: the caller was the one try; a failure of
 * another caller that began before the first failure was known only updates the message. */
static void
backoff_result(backoff *b, int probe, int failed, const char *msg)
{
    if (probe)
        b->probing = 0;
    if (!failed) {
        b->backoff_ns = 0;
        b->retry_ns = 0;
    } else if (!probe && b->backoff_ns != 0) {
        snprintf(b->msg, sizeof b->msg, "%s", msg);
    } else {
        uint64_t w = b->backoff_ns ? b->backoff_ns : PG_RETRY_NS;
        b->retry_ns = ts_mono_ns() + w;
        b->backoff_ns = w * 2 < PG_RETRY_MAX_NS ? w * 2 : PG_RETRY_MAX_NS;
        snprintf(b->msg, sizeof b->msg, "%s", msg);
    }
}

/* ---- the state of each server, shared by all threads ----
 *
 * A server that fails to connect is not tried again by any thread for a while (1 s after
 * the first failure, doubling up to 10 s while it keeps failing), and then by one thread
 * at a time; the others fail at once with the last error. Without this, each render
 * thread waited out its own connect_timeout (seconds for a host that drops packets) about
 * once a second, and renders of tilesets that do not read the database waited behind
 * them. A query that gets no answer in time counts as such a failure too. */

typedef struct pg_server {
    char *conninfo;
    backoff connect;     /* connecting to it */
    uint64_t silent_gen; /* +1 each time a query got no answer: connections opened before
                          * are not used again (each would wait out its own timeout) */
    struct pg_server *next;
} pg_server;

static pthread_mutex_t servers_mu = PTHREAD_MUTEX_INITIALIZER;
static pg_server *servers;

/* The entry of conninfo (made on first use; NULL when out of memory). servers_mu held. */
static pg_server *
server_get(const char *conninfo)
{
    for (pg_server *v = servers; v; v = v->next)
        if (strcmp(v->conninfo, conninfo) == 0)
            return v;
    pg_server *v = calloc(1, sizeof *v);
    if (v == NULL || (v->conninfo = strdup(conninfo)) == NULL) {
        free(v);
        return NULL;
    }
    v->next = servers;
    servers = v;
    return v;
}

/* The server's silent_gen (0 when out of memory). */
static uint64_t
server_silent_gen(const char *conninfo)
{
    pthread_mutex_lock(&servers_mu);
    pg_server *v = server_get(conninfo);
    uint64_t g = v ? v->silent_gen : 0;
    pthread_mutex_unlock(&servers_mu);
    return g;
}

/* A query on conninfo got no answer: it counts as a failed connect, and the connections
 * to it opened before are closed by their threads at their next use. */
static void
server_silent(const char *conninfo)
{
    pthread_mutex_lock(&servers_mu);
    pg_server *v = server_get(conninfo);
    if (v != NULL)
        v->silent_gen++;
    pthread_mutex_unlock(&servers_mu);
}

/* May this thread connect to conninfo now? 1 = yes (*probe = 1: as the one thread that
 * tries a failing server: it must call ts_source__pg_connected), 0 = no, msg set to the
 * reason. */
int
ts_source__pg_may_connect(const char *conninfo, int *probe, char *msg, size_t len)
{
    pthread_mutex_lock(&servers_mu);
    pg_server *v = server_get(conninfo);
    int ok = v == NULL ? (*probe = 0, 1) : backoff_may(&v->connect, probe, msg, len);
    pthread_mutex_unlock(&servers_mu);
    return ok;
}

/* Record that a connect to (or a query on) conninfo worked (failed = 0) or failed with msg.
 * probe: the caller was the probing thread. */
void
ts_source__pg_connected(const char *conninfo, int probe, int failed, const char *msg)
{
    pthread_mutex_lock(&servers_mu);
    pg_server *v = server_get(conninfo);
    if (v != NULL)
        backoff_result(&v->connect, probe, failed, msg);
    pthread_mutex_unlock(&servers_mu);
}

/* The thread's open connection for t (*fresh = 1 when opened now). NULL with *err. */
static pg_conn *
thread_conn(pg_thread *th, const ts_pg_table *t, int *fresh, ts_err *err)
{
    pg_conn *c = th->conns;
    while (c && (c->timeout_ms != t->timeout_ms || strcmp(c->conninfo, t->conninfo) != 0))
        c = c->next;
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL || (c->conninfo = strdup(t->conninfo)) == NULL) {
            free(c);
            TS_FAIL(err, TS_ENOMEM, "PostGIS connection");
            return NULL;
        }
        c->timeout_ms = t->timeout_ms;
        c->next = th->conns;
        th->conns = c;
    }
    *fresh = 0;
    uint64_t gen = server_silent_gen(c->conninfo);
    if (c->pc != NULL && c->silent_gen == gen)
        return c;
    if (c->pc != NULL) /* opened before a query on it went unanswered: the server hangs */
        conn_close(c);
    char msg[240];
    int probe;
    uint64_t since = 0;
    while (!ts_source__pg_may_connect(c->conninfo, &probe, msg, sizeof msg)) {
        if (!wait_again(&since)) {
            TS_FAIL(err, TS_ESOURCE, "layer %s: PostgreSQL unreachable: %s", t->name, msg);
            return NULL;
        }
    }
    c->pc = connect_db(c->conninfo, c->timeout_ms, msg, sizeof msg);
    if (c->pc == NULL)
        trim_msg(msg);
    ts_source__pg_connected(c->conninfo, probe, c->pc == NULL, msg);
    if (c->pc == NULL) {
        TS_FAIL(err, TS_ESOURCE, "layer %s: PostgreSQL unreachable: %s", t->name, msg);
        return NULL;
    }
    atomic_fetch_add(&n_connects, 1);
    c->silent_gen = gen;
    *fresh = 1;
    return c;
}

static int
conn_has_stmt(const pg_conn *c, const char *name)
{
    for (int i = 0; i < c->nstmts; i++)
        if (strcmp(c->stmts[i], name) == 0)
            return 1;
    return 0;
}

static int
conn_add_stmt(pg_conn *c, const char *name)
{
    if (c->nstmts == c->capstmts) {
        int cap = c->capstmts ? 2 * c->capstmts : 8;
        char **n = realloc(c->stmts, (size_t)cap * sizeof *n);
        if (n == NULL)
            return -1;
        c->stmts = n;
        c->capstmts = cap;
    }
    if ((c->stmts[c->nstmts] = strdup(name)) == NULL)
        return -1;
    c->nstmts++;
    return 0;
}

static const Oid box_types[4] = {OID_FLOAT8, OID_FLOAT8, OID_FLOAT8, OID_FLOAT8};

#define PG_SRID_CHECK_NS 30000000000ull /* how often a table's geometry column is looked at */

/* May a fetch query t now (see backoff_may)? */
static int
table_may_query(ts_pg_table *t, int *probe, char *msg, size_t len)
{
    pthread_mutex_lock(&t->slow_mu);
    int ok = backoff_may(&t->slow, probe, msg, len);
    pthread_mutex_unlock(&t->slow_mu);
    return ok;
}

/* How a query of t went: timed_out = 1 (statement or lock timeout: msg) starts or extends
 * the back-off; a query that ran ends it. probe: the caller was the one try. */
static void
table_result(ts_pg_table *t, int probe, int timed_out, const char *msg)
{
    pthread_mutex_lock(&t->slow_mu);
    backoff_result(&t->slow, probe, timed_out, msg);
    pthread_mutex_unlock(&t->slow_mu);
}

/* Is t's geometry column still there, with the SRID the query's box carries (asked on the
 * fetching thread's connection c)? 0 = yes (or not asked, or the column declares none);
 * -1 with msg: the renders must fail until a reload describes it again. A failure to ask
 * is left to the query. Asked by one fetch every 30 s before its query, and after every
 * query that found nothing (force: what a changed SRID gives; an empty tile must not be
 * drawn and cached from it). */
static int
srid_still_holds(ts_pg_table *t, pg_conn *c, int force, char *msg, size_t len)
{
    uint64_t now = ts_mono_ns(), last = atomic_load(&t->srid_checked_ns);
    if (t->srid <= 0)
        return 0;
    if (!force && ((last != 0 && now - last < PG_SRID_CHECK_NS) ||
                   !atomic_compare_exchange_strong(&t->srid_checked_ns, &last, now)))
        return 0;
    const char *params[3] = {t->schema, t->table, t->gcol};
    PGresult *r;
    int late;
    char m[200];
    if (pg_wait(c->pc,
                PQsendQueryParams(c->pc,
                                  "SELECT srid FROM geometry_columns WHERE f_table_schema = $1 "
                                  "AND f_table_name = $2 AND f_geometry_column = $3",
                                  3, NULL, params, NULL, NULL, 0),
                PGRES_TUPLES_OK, &r, c->timeout_ms, &late, m, sizeof m) != 0) {
        atomic_store(&t->srid_checked_ns, 0); /* ask again next time */
        if (!late)
            return 0;
        conn_close(c); /* a command is still in flight on it */
        server_silent(c->conninfo);
        ts_source__pg_connected(c->conninfo, 0, 1, m);
        snprintf(msg, len, "%s", m);
        return -1;
    }
    int ok = 1;
    if (PQntuples(r) != 1) {
        snprintf(msg, len, "%s.%s has no geometry column %s any more: reload the configuration",
                 t->schema, t->table, t->gcol);
        ok = 0;
    } else {
        int now_srid = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
        if (now_srid != t->srid) {
            snprintf(msg, len,
                     "the SRID of %s.%s.%s is %d now, %d when the configuration was loaded: "
                     "reload it",
                     t->schema, t->table, t->gcol, now_srid, t->srid);
            ok = 0;
        }
    }
    PQclear(r);
    if (!ok)
        atomic_store(&t->srid_checked_ns, 0); /* and every fetch asks again until it holds */
    return ok ? 0 : -1;
}

/* Run t's query for the source box on the thread's connection, preparing it first on a
 * connection that has not seen it. A reused connection found broken is reopened and the
 * query retried once. NULL with *err (TS_ESOURCE) on failure. */
static PGresult *
run_query(pg_thread *th, ts_pg_table *t, const ts_bbox *sb, ts_err *err)
{
    char p[4][32];
    snprintf(p[0], sizeof p[0], "%.17g", sb->minx);
    snprintf(p[1], sizeof p[1], "%.17g", sb->miny);
    snprintf(p[2], sizeof p[2], "%.17g", sb->maxx);
    snprintf(p[3], sizeof p[3], "%.17g", sb->maxy);
    const char *params[4] = {p[0], p[1], p[2], p[3]};
    for (int attempt = 0;; attempt++) {
        int fresh;
        pg_conn *c = thread_conn(th, t, &fresh, err);
        if (c == NULL)
            return NULL;
        char msg[200] = "";
        PGresult *r = NULL;
        int late = 0, failed = 0;
        char smsg[300];
        if (srid_still_holds(t, c, 0, smsg, sizeof smsg) != 0) {
            TS_FAIL(err, TS_ESOURCE, "layer %s: %s", t->name, smsg);
            return NULL;
        }
        int probe;
        uint64_t since = 0;
        int may;
        while (!(may = table_may_query(t, &probe, smsg, sizeof smsg)) && wait_again(&since))
            ;
        if (!may) {
            TS_FAIL(err, TS_ESOURCE, "layer %s: PostGIS query failed: %s", t->name, smsg);
            return NULL;
        }
        if (!conn_has_stmt(c, t->stmt)) {
            failed = pg_wait(c->pc, PQsendPrepare(c->pc, t->stmt, t->sql, 4, box_types),
                             PGRES_COMMAND_OK, &r, c->timeout_ms, &late, msg, sizeof msg);
            PQclear(r);
            r = NULL;
            if (!failed && conn_add_stmt(c, t->stmt) != 0) {
                if (probe)
                    table_result(t, 1, 0, "");
                TS_FAIL(err, TS_ENOMEM, "layer %s: prepared statements", t->name);
                conn_close(c); /* it has a statement it does not know of */
                return NULL;
            }
        }
        if (!failed)
            failed = pg_wait(c->pc, PQsendQueryPrepared(c->pc, t->stmt, 4, params, NULL, NULL, 0),
                             PGRES_TUPLES_OK, &r, c->timeout_ms, &late, msg, sizeof msg);
        /* statement_timeout (57014) or lock_timeout (55P03): the table is slow or locked */
        int slow = failed && (strcmp(last_sqlstate, "57014") == 0 ||
                              strcmp(last_sqlstate, "55P03") == 0);
        if (probe || slow)
            table_result(t, probe, slow, msg);
        if (!failed) {
            if (PQntuples(r) == 0 && srid_still_holds(t, c, 1, smsg, sizeof smsg) != 0) {
                PQclear(r);
                TS_FAIL(err, TS_ESOURCE, "layer %s: %s", t->name, smsg);
                return NULL;
            }
            return r;
        }
        int broken = late || PQstatus(c->pc) != CONNECTION_OK;
        if (broken)
            conn_close(c);
        if (late) { /* the server holds the connection but does not answer: unreachable */
            server_silent(c->conninfo);
            ts_source__pg_connected(c->conninfo, 0, 1, msg);
        }
        if (!broken || late || fresh || attempt > 0) {
            TS_FAIL(err, TS_ESOURCE, "layer %s: PostGIS query failed: %s", t->name, msg);
            return NULL;
        }
        /* the server went away under a connection opened earlier (restart): once more */
    }
}

/* ---- reading rows ---- */


/* Decode a bytea in hex output format ("\x0102...") into th->wkb. Its length, or 0. */
static size_t
decode_bytea(pg_thread *th, const char *s, size_t len)
{
    if (len < 2 || s[0] != '\\' || s[1] != 'x' || (len - 2) % 2 != 0)
        return 0;
    size_t n = (len - 2) / 2;
    if (n > th->wkb_cap) {
        size_t cap = th->wkb_cap ? th->wkb_cap : 4096;
        while (cap < n)
            cap *= 2;
        unsigned char *b = realloc(th->wkb, cap);
        if (b == NULL)
            return 0;
        th->wkb = b;
        th->wkb_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = ts_hexval((unsigned char)s[2 + 2 * i]), lo = ts_hexval((unsigned char)s[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return 0;
        th->wkb[i] = (unsigned char)(hi << 4 | lo);
    }
    return n;
}

/* The value of a text-format cell of type oid (strings borrowed from the result). */
static ts_value
cell_value(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return (ts_value){.type = TS_VAL_NULL};
    const char *s = PQgetvalue(r, row, col);
    char *end;
    switch (PQftype(r, col)) {
    case OID_BOOL:
        return (ts_value){.type = TS_VAL_BOOL, .u.i = s[0] == 't'};
    case OID_INT2:
    case OID_INT4:
    case OID_INT8: {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && end != s && *end == 0)
            return (ts_value){.type = TS_VAL_INT, .u.i = v};
        break;
    }
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC: {
        double d = strtod(s, &end);
        if (end != s && *end == 0)
            return (ts_value){.type = TS_VAL_REAL, .u.d = d};
        break;
    }
    default:
        break;
    }
    return (ts_value){.type = TS_VAL_STR, .u.s = s};
}

/* Build the store of result r (geometry in column 0, fields after it). */
static ts_status
build_store(pg_thread *th, const ts_pg_table *t, ts_source_xform *xf, const PGresult *r,
            ts_store **out, ts_err *err)
{
    int ncols = t->nfields + 1 + t->has_pk;
    if (PQnfields(r) != ncols)
        return TS_FAIL(err, TS_ESOURCE, "layer %s: query returned %d columns, expected %d",
                       t->name, PQnfields(r), ncols);
    if (t->nfields > th->vals_cap) {
        ts_value *v = realloc(th->vals, (size_t)t->nfields * sizeof *v);
        if (v == NULL)
            return TS_FAIL(err, TS_ENOMEM, "layer %s: values", t->name);
        th->vals = v;
        th->vals_cap = t->nfields;
    }
    ts_store_builder *b =
        ts_store_builder_new(t->name, (const char *const *)t->fields, t->nfields, err);
    if (b == NULL)
        return err && err->code != TS_OK ? err->code : TS_ENOMEM;
    ts_store *s = ts_source__builder_store(b);
    int identity = ts_source_xform_identity(xf);
    int rows = PQntuples(r);
    ts_source__gdal_capture_begin(th->sc);
    ts_status st = TS_OK;
    for (int i = 0; i < rows && st == TS_OK; i++) {
        s->stats.read++;
        size_t n = PQgetisnull(r, i, 0)
                       ? 0
                       : decode_bytea(th, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
        OGRGeometryH g = NULL;
        if (n == 0 || n > (size_t)INT32_MAX ||
            OGR_G_CreateFromWkb(th->wkb, NULL, &g, (int)n) != OGRERR_NONE) {
            s->stats.skipped++;
            continue;
        }
        int rc = ts_source__ogr_flat(g, &th->f);
        OGR_G_DestroyGeometry(g);
        if (rc < 0) {
            st = TS_FAIL(err, TS_ENOMEM, "layer %s: geometry", t->name);
            break;
        }
        int repaired = 0;
        if (rc > 0 && !identity)
            ts_source_xform_points(xf, 0, th->f.xy, th->f.npts);
        if (rc == 0 || ts_source__flat_finish(th->sc, &th->f, &th->tmp, &repaired) == 0) {
            s->stats.skipped++;
            continue;
        }
        if (repaired)
            s->stats.repaired++;
        for (int k = 0; k < t->nfields; k++)
            th->vals[k] = cell_value(r, i, k + 1);
        if (t->has_pk) {
            ts_value id = cell_value(r, i, t->nfields + 1);
            ts_source__builder_set_origin(b, id.type == TS_VAL_INT ? id.u.i : -1);
        }
        st = ts_source__builder_add_flat(b, &th->f, th->vals, err);
    }
    ts_source__gdal_capture_end(th->sc);
    if (st != TS_OK) {
        ts_store_builder_free(b);
        return st;
    }
    return ts_store_builder_finish(b, out, err);
}

ts_status
ts_pg_table_fetch(ts_pg_table *t, const ts_bbox *box, ts_store **out, ts_err *err)
{
    *out = NULL;
    uint64_t t0 = ts_mono_ns();
    ts_err e2;
    ts_err_clear(&e2);
    pg_thread *th = thread_state(&e2);
    ts_source_xform *xf = th ? thread_xform(th, t->src_crs, t->dst_crs, &e2) : NULL;
    if (xf == NULL) {
        if (err)
            *err = e2;
        return e2.code != TS_OK ? e2.code : TS_ENOMEM;
    }
    ts_bbox sb = *box;
    if (!ts_source_xform_identity(xf) && !ts_source_xform_box(xf, 1, box, &sb)) {
        /* nothing of the box exists in the source CRS: no features */
        ts_store_builder *b =
            ts_store_builder_new(t->name, (const char *const *)t->fields, t->nfields, err);
        return b ? ts_store_builder_finish(b, out, err) : TS_ENOMEM;
    }
    PGresult *r = run_query(th, t, &sb, &e2);
    ts_status st = r ? build_store(th, t, xf, r, out, &e2) : e2.code;
    uint64_t rows = r ? (uint64_t)PQntuples(r) : 0;
    PQclear(r);
    if (st != TS_OK) {
        if (st == TS_ESOURCE)
            note_failure(e2.msg);
        else
            atomic_fetch_add(&n_errors, 1);
        if (err)
            *err = e2;
        return st;
    }
    note_success(ts_mono_ns() - t0, rows);
    return TS_OK;
}

/* ---- opening ---- */

static void
table_free(ts_pg_table *t)
{
    free(t->name);
    free(t->conninfo);
    free(t->sql);
    free(t->src_crs);
    free(t->dst_crs);
    free(t->schema);
    free(t->table);
    free(t->gcol);
    pthread_mutex_destroy(&t->slow_mu);
    for (int i = 0; i < t->nfields; i++)
        free(t->fields[i]);
    free(t->fields);
    ts_store_unref(t->empty);
    free(t);
}

void
ts_pg_table_free(ts_pg_table *t)
{
    if (t != NULL)
        table_free(t);
}

ts_store *
ts_pg_table_empty(const ts_pg_table *t)
{
    return t->empty;
}

ts_bbox
ts_pg_table_extent(const ts_pg_table *t)
{
    return t->extent;
}

uint64_t
ts_pg_table_count(const ts_pg_table *t)
{
    return t->count;
}

/* A growable string for the query text. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void
sb_add(sbuf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->oom)
        return;
    if (b->n + l + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + l + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, l + 1);
    b->n += l;
}

/* An identifier quoted for SQL, or NULL (out of memory: *oom). PQfreemem the result. */
static char *
quote_ident(PGconn *pc, const char *s, int *oom)
{
    char *q = PQescapeIdentifier(pc, s, strlen(s));
    if (q == NULL)
        *oom = 1;
    return q;
}

/* The open step that failed: TS_ESOURCE naming the layer and table. */
#define OPEN_FAIL(...) (st = TS_FAIL(err, TS_ESOURCE, __VA_ARGS__))

static unsigned long long
fnv1a(const char *s)
{
    unsigned long long h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

ts_pg_table *
ts_pg_table_open(const ts_pg_def *def, ts_err *err)
{
    if (def == NULL || def->conninfo == NULL || def->table == NULL || def->dst_crs == NULL) {
        TS_FAIL(err, TS_EINVAL, "ts_pg_table_open: missing argument");
        return NULL;
    }
    const char *name = def->name ? def->name : def->table;
    const char *ci = def->conninfo;
    if (strncasecmp(ci, "PG:", 3) == 0)
        ci += 3;
    ts_pg_table *t = calloc(1, sizeof *t);
    if (t != NULL)
        pthread_mutex_init(&t->slow_mu, NULL);
    if (t == NULL || (t->name = strdup(name)) == NULL || (t->conninfo = strdup(ci)) == NULL ||
        (t->dst_crs = strdup(def->dst_crs)) == NULL) {
        if (t)
            table_free(t);
        TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        return NULL;
    }
    t->timeout_ms = def->timeout_ms > 0 ? def->timeout_ms : PG_DEFAULT_TIMEOUT_MS;
    ts_status st = TS_OK;
    char msg[200];
    PGconn *pc = connect_db(t->conninfo, t->timeout_ms, msg, sizeof msg);
    PGresult *r = NULL;
    char *qs = NULL, *qt = NULL, *qg = NULL, *qk = NULL;
    char *schema = NULL, *tname = NULL, *gcol = NULL;
    char **cols = NULL;
    int ncols = 0, srid = 0, oom = 0, late = 0;
    sbuf sql = {0}, rel = {0};
    if (pc == NULL) {
        trim_msg(msg);
        OPEN_FAIL("layer %s: cannot connect to PostgreSQL: %s", name, msg);
        goto done;
    }
    /* the table and its geometry column */
    const char *dot = strchr(def->table, '.');
    schema = dot ? strndup(def->table, (size_t)(dot - def->table)) : NULL;
    tname = strdup(dot ? dot + 1 : def->table);
    if ((dot && schema == NULL) || tname == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    const char *gparams[3] = {tname, schema, def->geometry};
    if (pg_wait(pc,
                PQsendQueryParams(
                    pc,
                    "SELECT g.f_table_schema, g.f_geometry_column, g.srid, "
                    "(SELECT count(*) FROM geometry_columns h WHERE h.f_table_schema = "
                    "g.f_table_schema AND h.f_table_name = g.f_table_name) "
                    "FROM geometry_columns g "
                    "WHERE g.f_table_name = $1 AND ($2::text IS NULL OR g.f_table_schema = $2) "
                    "AND ($3::text IS NULL OR g.f_geometry_column = $3) "
                    /* the first geometry column of the table, as OGR (and a load) takes
                     * it: not the first by name */
                    "ORDER BY g.f_table_schema <> 'public', g.f_table_schema, "
                    "(SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = "
                    "format('%I.%I', g.f_table_schema, g.f_table_name)::regclass AND "
                    "a.attname = g.f_geometry_column) "
                    "LIMIT 1",
                    3, NULL, gparams, NULL, NULL, 0),
                PGRES_TUPLES_OK, &r, t->timeout_ms, &late, msg, sizeof msg) != 0) {
        OPEN_FAIL("layer %s: reading geometry_columns (is PostGIS installed?): %s", name, msg);
        goto done;
    }
    if (PQntuples(r) != 1) {
        if (def->geometry != NULL)
            OPEN_FAIL("layer %s: no table '%s' with a geometry column '%s' in the database",
                      name, def->table, def->geometry);
        else
            OPEN_FAIL("layer %s: no table '%s' with a geometry column in the database", name,
                      def->table);
        goto done;
    }
    free(schema);
    schema = strdup(PQgetvalue(r, 0, 0));
    gcol = strdup(PQgetvalue(r, 0, 1));
    srid = (int)strtol(PQgetvalue(r, 0, 2), NULL, 10);
    if (def->geometry == NULL && strtol(PQgetvalue(r, 0, 3), NULL, 10) > 1)
        ts_info("layer %s: %s has %s geometry columns, drawing '%s' (the first; `geometry:` "
                "picks another)",
                name, def->table, PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 1));
    PQclear(r);
    r = NULL;
    if (schema == NULL || gcol == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    qs = quote_ident(pc, schema, &oom);
    qt = quote_ident(pc, tname, &oom);
    qg = quote_ident(pc, gcol, &oom);
    if (oom) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    sb_add(&rel, qs);
    sb_add(&rel, ".");
    sb_add(&rel, qt);
    if (rel.oom) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    /* its columns */
    const char *cparams[1] = {rel.s};
    if (pg_wait(pc,
                PQsendQueryParams(pc,
                                  "SELECT attname FROM pg_attribute WHERE attrelid = "
                                  "$1::regclass AND attnum > 0 AND NOT attisdropped "
                                  "ORDER BY attnum",
                                  1, NULL, cparams, NULL, NULL, 0),
                PGRES_TUPLES_OK, &r, t->timeout_ms, &late, msg, sizeof msg) != 0) {
        OPEN_FAIL("layer %s: reading the columns of %s: %s", name, def->table, msg);
        goto done;
    }
    ncols = PQntuples(r);
    int nwant = 0;
    while (def->fields && def->fields[nwant])
        nwant++;
    cols = calloc((size_t)(nwant > 0 ? nwant : 1), sizeof *cols);
    t->fields = calloc((size_t)(nwant > 0 ? nwant : 1), sizeof *t->fields);
    if (cols == NULL || t->fields == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    for (int i = 0; i < nwant; i++) {
        const char *want = def->fields[i];
        int dup = 0;
        for (int k = 0; k < t->nfields; k++)
            dup |= strcmp(t->fields[k], want) == 0;
        if (dup)
            continue;
        int found = -1;
        for (int c = 0; c < ncols && found < 0; c++) /* exact first, then any case */
            if (strcmp(PQgetvalue(r, c, 0), want) == 0)
                found = c;
        for (int c = 0; c < ncols && found < 0; c++)
            if (strcasecmp(PQgetvalue(r, c, 0), want) == 0)
                found = c;
        if (found < 0)
            continue;
        cols[t->nfields] = quote_ident(pc, PQgetvalue(r, found, 0), &oom);
        t->fields[t->nfields] = strdup(want);
        if (oom || t->fields[t->nfields] == NULL) {
            PQfreemem(cols[t->nfields]);
            cols[t->nfields] = NULL;
            st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
            goto done;
        }
        t->nfields++;
    }
    PQclear(r);
    /* an integer primary key of one column: the features' ids (GetFeatureInfo reads all
     * attributes back by it, as OGR's PostgreSQL driver numbers features by it) */
    if (pg_wait(pc,
                PQsendQueryParams(pc,
                                  "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
                                  "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                                  "WHERE i.indrelid = $1::regclass AND i.indisprimary AND "
                                  "i.indnatts = 1 AND a.atttypid IN (20, 21, 23)",
                                  1, NULL, cparams, NULL, NULL, 0),
                PGRES_TUPLES_OK, &r, t->timeout_ms, &late, msg, sizeof msg) != 0) {
        OPEN_FAIL("layer %s: reading the primary key of %s: %s", name, def->table, msg);
        goto done;
    }
    if (PQntuples(r) == 1 &&
        (qk = quote_ident(pc, PQgetvalue(r, 0, 0), &oom)) == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    PQclear(r);
    r = NULL;
    /* the CRS */
    char auth[32];
    if (def->src_crs != NULL) {
        t->src_crs = strdup(def->src_crs);
    } else if (srid > 0) {
        snprintf(auth, sizeof auth, "EPSG:%d", srid);
        t->src_crs = strdup(auth);
    } else {
        OPEN_FAIL("layer %s: column %s of %s declares no SRID (set srs)", name, gcol, def->table);
        goto done;
    }
    if (t->src_crs == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    t->schema = strdup(schema);
    t->table = strdup(tname);
    t->gcol = strdup(gcol);
    t->srid = srid;
    if (t->schema == NULL || t->table == NULL || t->gcol == NULL) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    /* the query: identifiers quoted, the box bound as parameters */
    char tail[96];
    snprintf(tail, sizeof tail, " && ST_MakeEnvelope($1, $2, $3, $4, %d)", srid);
    sb_add(&sql, "SELECT ST_AsBinary(");
    sb_add(&sql, qg);
    sb_add(&sql, ")");
    for (int i = 0; i < t->nfields; i++) {
        sb_add(&sql, ", ");
        sb_add(&sql, cols[i]);
    }
    if (qk != NULL) {
        sb_add(&sql, ", ");
        sb_add(&sql, qk);
        t->has_pk = 1;
    }
    sb_add(&sql, " FROM ");
    sb_add(&sql, rel.s);
    sb_add(&sql, " WHERE ");
    sb_add(&sql, qg);
    sb_add(&sql, tail);
    if (def->where != NULL && def->where[0] != 0) {
        sb_add(&sql, " AND (");
        sb_add(&sql, def->where);
        sb_add(&sql, ")");
    }
    if (sql.oom) {
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    t->sql = sql.s;
    sql.s = NULL;
    snprintf(t->stmt, sizeof t->stmt, "tilesrv_%016llx", fnv1a(t->sql));
    /* check it now (a bad `where` fails the start, not every render) */
    if (pg_wait(pc, PQsendPrepare(pc, t->stmt, t->sql, 4, box_types), PGRES_COMMAND_OK, &r,
                t->timeout_ms, &late, msg, sizeof msg) != 0) {
        OPEN_FAIL("layer %s: the query on %s fails: %s", name, def->table, msg);
        goto done;
    }
    PQclear(r);
    /* count and extent */
    sbuf ext = {0};
    sb_add(&ext, "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                 "(SELECT count(*) AS n, ST_Extent(");
    sb_add(&ext, qg);
    sb_add(&ext, ") AS e FROM ");
    sb_add(&ext, rel.s);
    if (def->where != NULL && def->where[0] != 0) {
        sb_add(&ext, " WHERE (");
        sb_add(&ext, def->where);
        sb_add(&ext, ")");
    }
    sb_add(&ext, ") q");
    if (ext.oom) {
        free(ext.s);
        r = NULL;
        st = TS_FAIL(err, TS_ENOMEM, "layer %s", name);
        goto done;
    }
    int failed = pg_wait(pc, PQsendQuery(pc, ext.s), PGRES_TUPLES_OK, &r, t->timeout_ms, &late,
                         msg, sizeof msg);
    free(ext.s);
    if (failed == 0 && PQntuples(r) != 1)
        snprintf(msg, sizeof msg, "%d rows", PQntuples(r));
    if (failed != 0 || PQntuples(r) != 1) {
        OPEN_FAIL("layer %s: extent of %s: %s", name, def->table, msg);
        goto done;
    }
    ts_err e2;
    ts_err_clear(&e2);
    ts_source_xform *xf = ts_source_xform_new(t->src_crs, t->dst_crs, &e2);
    if (xf == NULL) {
        OPEN_FAIL("layer %s: %s", name, e2.msg);
        goto done;
    }
    t->count = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    if (!PQgetisnull(r, 0, 1)) {
        ts_bbox e = {strtod(PQgetvalue(r, 0, 1), NULL), strtod(PQgetvalue(r, 0, 2), NULL),
                     strtod(PQgetvalue(r, 0, 3), NULL), strtod(PQgetvalue(r, 0, 4), NULL)};
        if (ts_source_xform_identity(xf))
            t->extent = e;
        else
            ts_source_xform_box(xf, 0, &e, &t->extent);
    }
    ts_source_xform_free(xf);
    PQclear(r);
    r = NULL;
    ts_store_builder *b =
        ts_store_builder_new(t->name, (const char *const *)t->fields, t->nfields, err);
    if (b == NULL || ts_store_builder_finish(b, &t->empty, err) != TS_OK)
        st = err && err->code != TS_OK ? err->code : TS_ENOMEM;
done:
    PQclear(r);
    if (cols != NULL)
        for (int i = 0; i < t->nfields; i++)
            PQfreemem(cols[i]);
    free(cols);
    PQfreemem(qs);
    PQfreemem(qt);
    PQfreemem(qg);
    PQfreemem(qk);
    free(schema);
    free(tname);
    free(gcol);
    free(sql.s);
    free(rel.s);
    if (pc != NULL)
        PQfinish(pc);
    if (st != TS_OK) {
        table_free(t);
        return NULL;
    }
    return t;
}
