/* util/pool.c — pthread pool with a bounded ring queue. Tasks of the limited class
 * (ts_pool_submit_limited) run on at most `limit` workers at once: a worker takes the first
 * queued task it may run, so other tasks pass limited ones that wait. */
#include "util/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct task {
    ts_task_fn fn;
    void *arg;
    int limited;
} task;

struct ts_pool {
    pthread_mutex_t mu;
    pthread_cond_t has_work;
    pthread_cond_t idle;
    task *ring;
    int cap, head, count;
    int running;        /* tasks being executed */
    int running_limited; /* of them, of the limited class */
    int limit;          /* most limited tasks at once (nthreads: no limit) */
    int nlimited;       /* limited tasks queued */
    int stopping;
    int nthreads;
    pthread_t *threads;
    ts_pool_hooks hooks;
    atomic_int next_id;
};

/* The queue position (0 = head) of the first task a worker may run now, or -1. p->mu held. */
static int
next_runnable(const ts_pool *p)
{
    if (p->count == 0)
        return -1;
    if (p->nlimited == 0 || p->running_limited < p->limit)
        return 0;
    for (int k = 0; k < p->count; k++)
        if (!p->ring[(p->head + k) % p->cap].limited)
            return k;
    return -1;
}

/* Remove the task at queue position k, keeping the others' order. p->mu held. */
static task
take(ts_pool *p, int k)
{
    task t = p->ring[(p->head + k) % p->cap];
    for (int i = k; i > 0; i--) /* the ones before it move up one */
        p->ring[(p->head + i) % p->cap] = p->ring[(p->head + i - 1) % p->cap];
    p->head = (p->head + 1) % p->cap;
    p->count--;
    p->nlimited -= t.limited;
    return t;
}

static void *
worker_main(void *vp)
{
    ts_pool *p = vp;
    int id = atomic_fetch_add(&p->next_id, 1);
    void *state = p->hooks.worker_init ? p->hooks.worker_init(id, p->hooks.ud) : NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        int k;
        while ((k = next_runnable(p)) < 0 && !(p->stopping && p->count == 0))
            pthread_cond_wait(&p->has_work, &p->mu);
        if (k < 0)
            break; /* stopping, nothing queued */
        task t = take(p, k);
        p->running++;
        p->running_limited += t.limited;
        pthread_mutex_unlock(&p->mu);
        t.fn(state, t.arg);
        pthread_mutex_lock(&p->mu);
        p->running--;
        if (t.limited) {
            p->running_limited--;
            if (p->nlimited > 0) /* a limited task may run now: wake a worker for it */
                pthread_cond_broadcast(&p->has_work);
        }
        if (p->count == 0 && p->running == 0)
            pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    if (p->hooks.worker_fini)
        p->hooks.worker_fini(state, p->hooks.ud);
    return NULL;
}

ts_pool *
ts_pool_new(int nthreads, int queue_max, const ts_pool_hooks *hooks, ts_err *err)
{
    if (nthreads < 1 || queue_max < 1) {
        TS_FAIL(err, TS_EINVAL, "pool needs >= 1 thread and queue slot (got %d, %d)", nthreads,
                queue_max);
        return NULL;
    }
    ts_pool *p = calloc(1, sizeof *p);
    if (p == NULL) {
        TS_FAIL(err, TS_ENOMEM, "thread pool");
        return NULL;
    }
    p->ring = calloc((size_t)queue_max, sizeof *p->ring);
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (p->ring == NULL || p->threads == NULL) {
        free(p->ring);
        free(p->threads);
        free(p);
        TS_FAIL(err, TS_ENOMEM, "thread pool");
        return NULL;
    }
    p->cap = queue_max;
    p->limit = nthreads;
    if (hooks)
        p->hooks = *hooks;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->has_work, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            TS_FAIL(err, TS_ENOMEM, "cannot start worker thread %d", i);
            p->nthreads = i;
            ts_pool_free(p);
            return NULL;
        }
        p->nthreads = i + 1;
    }
    return p;
}

ts_status
ts_pool_submit(ts_pool *p, ts_task_fn fn, void *arg)
{
    return ts_pool_submit_limited(p, fn, arg, 0);
}

void
ts_pool_set_limit(ts_pool *p, int limit)
{
    pthread_mutex_lock(&p->mu);
    p->limit = limit < 1 ? 1 : limit > p->nthreads ? p->nthreads : limit;
    pthread_cond_broadcast(&p->has_work);
    pthread_mutex_unlock(&p->mu);
}

ts_status
ts_pool_submit_limited(ts_pool *p, ts_task_fn fn, void *arg, int limited)
{
    limited = limited != 0;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return TS_EINVAL;
    }
    if (p->count == p->cap) {
        pthread_mutex_unlock(&p->mu);
        return TS_EBUSY;
    }
    p->ring[(p->head + p->count) % p->cap] = (task){fn, arg, limited};
    p->count++;
    p->nlimited += limited;
    /* a limited task waiting ahead may keep the one woken from taking this: wake all */
    if (p->nlimited > limited)
        pthread_cond_broadcast(&p->has_work);
    else
        pthread_cond_signal(&p->has_work);
    pthread_mutex_unlock(&p->mu);
    return TS_OK;
}

int
ts_pool_queued(ts_pool *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int
ts_pool_threads(const ts_pool *p)
{
    return p->nthreads;
}

void
ts_pool_wait_idle(ts_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->count > 0 || p->running > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void
ts_pool_free(ts_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->has_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->has_work);
    pthread_cond_destroy(&p->idle);
    free(p->ring);
    free(p->threads);
    free(p);
}

/* ---- parallel for ------------------------------------------------------------------ */

typedef struct pfor {
    atomic_int refs;    /* caller + queued helpers; freed at 0 */
    atomic_int next;    /* next item to hand out */
    atomic_int done;    /* items finished */
    int n;
    void (*fn)(int, void *);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pfor;

static void
pfor_unref(pfor *j)
{
    if (atomic_fetch_sub(&j->refs, 1) == 1) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
    }
}

static void
pfor_drain(pfor *j)
{
    int i;
    while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
        j->fn(i, j->arg);
        if (atomic_fetch_add(&j->done, 1) + 1 == j->n) {
            pthread_mutex_lock(&j->mu);
            pthread_cond_broadcast(&j->cv);
            pthread_mutex_unlock(&j->mu);
        }
    }
}

static void
pfor_task(void *ws, void *arg)
{
    (void)ws;
    pfor *j = arg;
    pfor_drain(j);
    pfor_unref(j);
}

void
ts_pool_for(ts_pool *p, int max_helpers, int n, void (*fn)(int i, void *arg), void *arg)
{
    if (n <= 0)
        return;
    if (p == NULL || max_helpers <= 0 || n == 1) {
        for (int i = 0; i < n; i++)
            fn(i, arg);
        return;
    }
    pfor *j = calloc(1, sizeof *j);
    if (j == NULL) {
        for (int i = 0; i < n; i++)
            fn(i, arg);
        return;
    }
    atomic_init(&j->refs, 1);
    atomic_init(&j->next, 0);
    atomic_init(&j->done, 0);
    j->n = n;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    int helpers = max_helpers < n - 1 ? max_helpers : n - 1;
    for (int h = 0; h < helpers; h++) {
        atomic_fetch_add(&j->refs, 1);
        if (ts_pool_submit(p, pfor_task, j) != TS_OK) {
            atomic_fetch_sub(&j->refs, 1);
            break;
        }
    }
    pfor_drain(j);
    pthread_mutex_lock(&j->mu);
    while (atomic_load(&j->done) < n)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    pfor_unref(j);
}
