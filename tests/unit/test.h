/* tests/unit/test.h — a minimal unit-test harness. Each test_<mod>.c defines tests with
 * TS_TEST(name) { ... } and is linked with test_main.c into one executable per module.
 * Checks record a failure and continue; TS_REQUIRE stops the current test. */
#ifndef TS_TEST_H
#define TS_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef void (*ts_test_fn)(void);
void ts_test_register(const char *name, ts_test_fn fn);
void ts_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Directory of the source tree (for test data), from the TS_SOURCE_DIR define. */
const char *ts_test_srcdir(void);
/* A scratch directory unique to this test process, created on first use. */
const char *ts_test_tmpdir(void);

#define TS_TEST(name)                                                                              \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void name##_reg(void)                                      \
    {                                                                                              \
        ts_test_register(#name, name);                                                             \
    }                                                                                              \
    static void name(void)

#define TS_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ts_test_fail(__FILE__, __LINE__, "check failed: %s", #cond);                           \
    } while (0)

#define TS_REQUIRE(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ts_test_fail(__FILE__, __LINE__, "requirement failed: %s", #cond);                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TS_CHECK_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            ts_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);            \
    } while (0)

#define TS_CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            ts_test_fail(__FILE__, __LINE__, "%s ~ %s: %.12g vs %.12g (tol %g)", #a, #b, a_, b_,   \
                         (double)(tol));                                                           \
    } while (0)

#define TS_CHECK_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                       \
            ts_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                 \
                         a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                  \
    } while (0)

#endif
