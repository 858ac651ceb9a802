/* Unit tests for util: status, buf, pool, redact. */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/redact.h"
#include "util/status.h"

TS_TEST(status_tables_agree)
{
    TS_CHECK_INT(ts_status_http(TS_OK), 200);
    TS_CHECK_INT(ts_status_http(TS_ENOENT), 404);
    TS_CHECK_INT(ts_status_http(TS_EINVAL), 400);
    TS_CHECK_STR(ts_status_name(TS_EBUSY), "EBUSY");
}

TS_TEST(err_carries_input_position)
{
    ts_err e;
    ts_err_clear(&e);
    ts_status st = TS_FAIL_AT(&e, TS_ECONFIG, "a.yaml", 3, 7, "unknown key '%s'", "foo");
    TS_CHECK_INT(st, TS_ECONFIG);
    char buf[600];
    TS_CHECK_STR(ts_err_format(&e, buf, sizeof buf), "a.yaml:3:7: unknown key 'foo'");
    TS_CHECK_STR(e.func, "err_carries_input_position");
    TS_CHECK_INT(TS_FAIL(NULL, TS_EIO, "x"), TS_EIO);
}

TS_TEST(buf_respects_its_limit)
{
    ts_buf b;
    ts_buf_init(&b, 10);
    TS_CHECK_INT(ts_buf_add(&b, "hello", 5), TS_OK);
    TS_CHECK_INT(ts_buf_printf(&b, "%d", 1234), TS_OK);
    TS_CHECK_STR((char *)b.data, "hello1234");
    TS_CHECK_INT(ts_buf_add(&b, "xy", 2), TS_ELIMIT);
    TS_CHECK(b.data == NULL && b.len == 0);
    ts_buf_fini(&b);
}

static atomic_int counter;

static void
add_task(void *ws, void *arg)
{
    (void)ws;
    atomic_fetch_add(&counter, (int)(intptr_t)arg);
}

TS_TEST(pool_runs_every_task_and_reports_full)
{
    ts_err e;
    ts_pool *p = ts_pool_new(3, 1000, NULL, &e);
    TS_REQUIRE(p != NULL);
    atomic_store(&counter, 0);
    for (int i = 1; i <= 500; i++)
        TS_CHECK_INT(ts_pool_submit(p, add_task, (void *)(intptr_t)i), TS_OK);
    ts_pool_wait_idle(p);
    TS_CHECK_INT(atomic_load(&counter), 500 * 501 / 2);
    ts_pool_free(p);

    /* A queue of one slot with a single worker blocked cannot take two tasks. */
    p = ts_pool_new(1, 1, NULL, &e);
    TS_REQUIRE(p != NULL);
    int busy = 0;
    for (int i = 0; i < 100; i++)
        if (ts_pool_submit(p, add_task, (void *)(intptr_t)0) == TS_EBUSY)
            busy = 1;
    ts_pool_free(p);
    (void)busy; /* may or may not hit, depending on scheduling; the call must not crash */
}

static void
square_item(int i, void *arg)
{
    long *out = arg;
    out[i] = (long)i * i;
}

TS_TEST(pool_for_covers_every_item_even_from_a_worker)
{
    ts_pool *p = ts_pool_new(2, 4, NULL, NULL);
    TS_REQUIRE(p != NULL);
    long out[1000];
    memset(out, 0xff, sizeof out);
    ts_pool_for(p, 2, 1000, square_item, out);
    int ok = 1;
    for (int i = 0; i < 1000; i++)
        ok &= out[i] == (long)i * i;
    TS_CHECK(ok);
    ts_pool_for(NULL, 0, 10, square_item, out);
    ts_pool_free(p);
}

/* A log gate lets the first line through, holds back (and counts) those within the
 * interval, and lets one through after it with the count (the failing-render flood). */
TS_TEST(log_gate_passes_one_line_per_interval_and_counts_the_rest)
{
    static ts_log_gate g;
    unsigned long held = 99;
    TS_CHECK_INT(ts_log_gate_pass(&g, 1, &held), 1);
    TS_CHECK_INT((int)held, 0);
    for (int i = 0; i < 5; i++)
        TS_CHECK_INT(ts_log_gate_pass(&g, 1, &held), 0);
    struct timespec d = {1, 100000000};
    nanosleep(&d, NULL);
    TS_CHECK_INT(ts_log_gate_pass(&g, 1, &held), 1);
    TS_CHECK_INT((int)held, 5);
    TS_CHECK_INT(ts_log_gate_pass(&g, 1, NULL), 0);
}

TS_TEST(redact_hides_passwords_tokens_and_url_user_info)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"cannot open 'PG:dbname=gis host=db user=tiles password=Geheim-PG-Passw0rd': failed",
         "cannot open 'PG:dbname=gis host=db user=tiles password=***': failed"},
        {"PG:host=db password = 'a b\\'c' user=x", "PG:host=db password = *** user=x"},
        {"PASSWORD=x", "PASSWORD=***"},
        {"GET http://user:UrlPassw0rd@127.0.0.1:18290/x.geojson: HTTP 401",
         "GET http://user:***@127.0.0.1:18290/x.geojson: HTTP 401"},
        {"postgresql://u:p@h/db?sslmode=require&password=z",
         "postgresql://u:***@h/db?sslmode=require&password=***"},
        {"GET https://api.example/v1?x=1&api_key=abc123&y=2: HTTP 403",
         "GET https://api.example/v1?x=1&api_key=***&y=2: HTTP 403"},
        {"mqtt://broker:1883/topic and http://host/a@b", "mqtt://broker:1883/topic and http://host/a@b"},
        {"http://user@host/", "http://user@host/"},
        {"PG:host=h password=a sslpassword=SslKeyPass1 passwort=G30",
         "PG:host=h password=*** sslpassword=*** passwort=***"},
        {"password=\"Geheim13 x\" user=u", "password=*** user=u"},
        {"postgresql://tiles:p@ss14@host/gis", "postgresql://tiles:***@host/gis"},
        {"https://maps.example/t?key=AIza&sig=abc&X-Amz-Signature=f00&jwt=e.y.J",
         "https://maps.example/t?key=***&sig=***&X-Amz-Signature=***&jwt=***"},
        /* a template is not a password */
        {"expected redis://[[user]:password@]host[:port][/db]",
         "expected redis://[[user]:password@]host[:port][/db]"},
        /* not secrets: other words ending in the keywords, keys without a value */
        {"unknown key 'token' at line 3", "unknown key 'token' at line 3"},
        {"my_token=1 x-password=2", "my_token=1 x-password=2"},
        {"tilesets.a.layers: token=", "tilesets.a.layers: token="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        ts_redact_secrets(buf, sizeof buf);
        TS_CHECK_STR(buf, cases[i].want);
    }
    /* through TS_FAIL: what /health and HTTP bodies show */
    ts_err e;
    ts_err_clear(&e);
    TS_FAIL(&e, TS_ESOURCE, "layer %s: cannot open '%s'", "roads", "PG:host=x password=s3cr3t");
    TS_CHECK_STR(e.msg, "layer roads: cannot open 'PG:host=x password=***'");
    /* a result that does not fit is cut, never overrun */
    char small[12] = "password=ab";
    ts_redact_secrets(small, sizeof small);
    TS_CHECK_STR(small, "password=**");
}

TS_TEST(log_lines_are_one_line_each_with_control_characters_escaped)
{
    int fds[2];
    TS_REQUIRE(pipe(fds) == 0);
    int saved = dup(STDERR_FILENO);
    TS_REQUIRE(saved >= 0 && dup2(fds[1], STDERR_FILENO) >= 0);
    /* a LoRaWAN dev_eui with an escape sequence and a forged line in it */
    ts_warn("feed lora: unknown device %s", "70b3d57e\x1b[31mRED\nFAKE 2026 INFO  injected");
    ts_warn("cannot open 'PG:host=db password=hunter2'\n\tIs the server running?\n");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    char out[1024];
    ssize_t n = read(fds[0], out, sizeof out - 1);
    close(fds[0]);
    TS_REQUIRE(n > 0);
    out[n] = 0;
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    TS_CHECK_INT(lines, 2);
    TS_CHECK(strstr(out, "70b3d57e\\x1b[31mRED\\nFAKE 2026 INFO  injected\n") != NULL);
    TS_CHECK(strstr(out, "password=***'\\n\\tIs the server running?\n") != NULL);
    TS_CHECK(strstr(out, "hunter2") == NULL);
}

/* A task that waits until it is let go, counting how many of its kind run at once. */
typedef struct gate_task {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    int running, most, ran;
} gate_task;

static void
gated(void *ws, void *arg)
{
    (void)ws;
    gate_task *g = arg;
    pthread_mutex_lock(&g->mu);
    g->running++;
    if (g->running > g->most)
        g->most = g->running;
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    g->running--;
    g->ran++;
    pthread_mutex_unlock(&g->mu);
}

TS_TEST(pool_limited_tasks_leave_workers_to_the_others)
{
    /* three workers, at most one limited (database) task at once: with three limited tasks
     * waiting on a hung database, a task behind them still runs */
    ts_err e;
    ts_pool *p = ts_pool_new(3, 64, NULL, &e);
    TS_REQUIRE(p != NULL);
    ts_pool_set_limit(p, 1);
    gate_task g = {.open = 0};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    atomic_store(&counter, 0);
    for (int i = 0; i < 3; i++)
        TS_CHECK_INT(ts_pool_submit_limited(p, gated, &g, 1), TS_OK);
    TS_CHECK_INT(ts_pool_submit(p, add_task, (void *)(intptr_t)7), TS_OK);
    for (int i = 0; i < 2000 && atomic_load(&counter) != 7; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    TS_CHECK_INT(atomic_load(&counter), 7); /* ran while the limited one hangs */
    pthread_mutex_lock(&g.mu);
    TS_CHECK_INT(g.running, 1);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    ts_pool_wait_idle(p);
    TS_CHECK_INT(g.ran, 3);
    TS_CHECK_INT(g.most, 1);
    ts_pool_free(p);
    pthread_mutex_destroy(&g.mu);
    pthread_cond_destroy(&g.cv);
}
