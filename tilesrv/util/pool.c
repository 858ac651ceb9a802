/* util/pool.c — pthread pool with a bounded ring queue. */
#include "util/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct task {
    ts_task_fn fn;
    void *arg;
} task;

struct ts_pool {
    pthread_mutex_t mu;
    pthread_cond_t has_work;
    pthread_cond_t idle;
    task *ring;
    int cap, head, count;
    int running;        /* tasks being executed */
    int stopping;
    int nthreads;
    pthread_t *threads;
    ts_pool_hooks hooks;
    atomic_int next_id;
};

static void *
worker_main(void *vp)
{
    ts_pool *p = vp;
    int id = atomic_fetch_add(&p->next_id, 1);
    void *state = p->hooks.worker_init ? p->hooks.worker_init(id, p->hooks.ud) : NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->has_work, &p->mu);
        if (p->count == 0 && p->stopping)
            break;
        task t = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->running++;
        pthread_mutex_unlock(&p->mu);
        t.fn(state, t.arg);
        pthread_mutex_lock(&p->mu);
        p->running--;
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
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return TS_EINVAL;
    }
    if (p->count == p->cap) {
        pthread_mutex_unlock(&p->mu);
        return TS_EBUSY;
    }
    p->ring[(p->head + p->count) % p->cap] = (task){fn, arg};
    p->count++;
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
