/* util/pool.h — fixed thread pool with a bounded FIFO queue and per-worker state,
 * plus a parallel-for in which the caller takes part (so it cannot deadlock when the
 * pool is busy or when called from one of its own workers). */
#ifndef TS_UTIL_POOL_H
#define TS_UTIL_POOL_H

#include "util/status.h"

typedef struct ts_pool ts_pool;

/* A task: runs on a worker with that worker's state (from hooks.worker_init). */
typedef void (*ts_task_fn)(void *worker_state, void *arg);

typedef struct ts_pool_hooks {
    /* Called once on each worker thread before it takes tasks; its result is the
     * worker_state passed to tasks. NULL hook = state NULL. */
    void *(*worker_init)(int worker_id, void *ud);
    /* Called on the worker thread when the pool shuts down. */
    void (*worker_fini)(void *worker_state, void *ud);
    void *ud;
} ts_pool_hooks;

/* New pool of nthreads workers (>= 1) and a queue of at most queue_max waiting tasks.
 * hooks may be NULL. Returns NULL with *err set on failure. */
ts_pool *ts_pool_new(int nthreads, int queue_max, const ts_pool_hooks *hooks, ts_err *err);

/* Queue fn(arg). TS_OK, or TS_EBUSY when the queue is full (fn is then not run), or
 * TS_EINVAL after ts_pool_free began. Any thread may call. */
ts_status ts_pool_submit(ts_pool *p, ts_task_fn fn, void *arg);

/* As ts_pool_submit; limited != 0: a task of the limited class, of which at most the
 * pool's limit run at once (tasks that wait on a database: they must not take every
 * worker from those that do not). Other tasks queued behind waiting limited ones run
 * first. */
ts_status ts_pool_submit_limited(ts_pool *p, ts_task_fn fn, void *arg, int limited);
/* Set how many limited tasks may run at once (clamped to 1..nthreads; the default,
 * nthreads, is no limit). */
void ts_pool_set_limit(ts_pool *p, int limit);

/* Tasks waiting (not running). */
int ts_pool_queued(ts_pool *p);
/* Number of worker threads. */
int ts_pool_threads(const ts_pool *p);

/* Block until the queue is empty and no task runs. */
void ts_pool_wait_idle(ts_pool *p);

/* Run every queued task, join the workers, free. NULL is accepted. */
void ts_pool_free(ts_pool *p);

/* Call fn(i, arg) for i in [0, n) using the caller plus up to max_helpers workers of p
 * (p may be NULL: all on the caller). Returns when all n calls have returned. Items are
 * handed out in increasing order; fn must be safe to run concurrently for different i. */
void ts_pool_for(ts_pool *p, int max_helpers, int n, void (*fn)(int i, void *arg), void *arg);

#endif
