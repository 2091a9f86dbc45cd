/* tc_test.h — a minimal harness for the engine's C tests: each test file is a
 * standalone program; CHECK records a failure and goes on, main returns the
 * count so `make test-c` stops on the first failing program. */
#ifndef TC_TEST_H
#define TC_TEST_H
#include <stdio.h>
#include <string.h>
#include <math.h>

static int tc_test_failures = 0;
static int tc_test_checks = 0;

#define CHECK(cond) do { tc_test_checks++; if (!(cond)) { tc_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { tc_test_checks++; const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { tc_test_failures++; \
    fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
            b_ ? b_ : "(null)", a_ ? a_ : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { tc_test_checks++; long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { tc_test_failures++; \
    fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__, #a, b_, a_); } } while (0)
#define CHECK_NEAR(a, b, eps) do { tc_test_checks++; double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (eps))) { tc_test_failures++; \
    fprintf(stderr, "%s:%d: %s: expected %g, got %g\n", __FILE__, __LINE__, #a, b_, a_); } } while (0)

#define TEST_MAIN_END() do { printf("%s: %d checks, %d failures\n", __FILE__, tc_test_checks, \
    tc_test_failures); return tc_test_failures ? 1 : 0; } while (0)
#endif
