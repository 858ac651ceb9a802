/* tests/unit/test_main.c — runs the registered tests; `prog [substring]` filters by name. */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TESTS 1024

static struct {
    const char *name;
    ts_test_fn fn;
} tests[MAX_TESTS];
static int ntests;
static int current_failed;

void
ts_test_register(const char *name, ts_test_fn fn)
{
    if (ntests < MAX_TESTS) {
        tests[ntests].name = name;
        tests[ntests].fn = fn;
        ntests++;
    }
}

void
ts_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    current_failed = 1;
}

const char *
ts_test_srcdir(void)
{
#ifdef TS_SOURCE_DIR
    return TS_SOURCE_DIR;
#else
    return ".";
#endif
}

const char *
ts_test_tmpdir(void)
{
    static char dir[256];
    if (dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/tstest-%ld", base ? base : "/tmp", (long)getpid());
        mkdir(dir, 0700);
    }
    return dir;
}

int
main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int run = 0, failed = 0;
    for (int i = 0; i < ntests; i++) {
        if (filter && strstr(tests[i].name, filter) == NULL)
            continue;
        current_failed = 0;
        tests[i].fn();
        run++;
        if (current_failed) {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        } else {
            fprintf(stderr, "ok   %s\n", tests[i].name);
        }
    }
    fprintf(stderr, "%d tests, %d failed\n", run, failed);
    if (run == 0) {
        fprintf(stderr, "no tests matched\n");
        return 1;
    }
    return failed ? 1 : 0;
}
