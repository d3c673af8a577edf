/*
 * test_core.c - the parallel-for, the checked allocators and the portable
 * log under the generator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_core.h"
#include "sv_rng.h"

/* Each index writes only its own slot: any thread count gives the same
 * output, and every index runs exactly once. */
static sv_status square_task(void *ud, size_t i, int worker, sv_err *err)
{
    (void)worker;
    (void)err;
    double *out = ud;
    out[i] += (double)i * (double)i;
    return SV_OK;
}

static void test_parallel_for_same_for_any_thread_count(void **state)
{
    (void)state;
    enum { N = 1000 };
    double ref[N], out[N];
    for (int threads = 1; threads <= 7; threads++) {
        memset(out, 0, sizeof out);
        sv_ctx ctx = {.threads = threads};
        sv_err err;
        assert_int_equal(sv_parallel_for(&ctx, "t", N, 0, square_task, out, &err), SV_OK);
        if (threads == 1) memcpy(ref, out, sizeof ref);
        assert_memory_equal(ref, out, sizeof ref);
    }
    for (int i = 0; i < N; i++) assert_true(ref[i] == (double)i * i);
}

static sv_status failing_task(void *ud, size_t i, int worker, sv_err *err)
{
    (void)ud;
    (void)worker;
    if (i == 37) return sv_err_set(err, SV_EINVAL, "task %zu failed", i);
    return SV_OK;
}

/* The first failure's status and message come back to the caller. */
static void test_parallel_for_reports_failure(void **state)
{
    (void)state;
    sv_ctx ctx = {.threads = 2};
    sv_err err;
    assert_int_equal(sv_parallel_for(&ctx, "t", 100, 0, failing_task, NULL, &err), SV_EINVAL);
    assert_string_equal(err.msg, "task 37 failed");
}

/* A raised cancel flag stops the loop with SV_EINTR. */
static void test_parallel_for_cancel(void **state)
{
    (void)state;
    int cancel = 1;
    sv_ctx ctx = {.threads = 2, .cancel = &cancel};
    sv_err err;
    double out[10] = {0};
    assert_int_equal(sv_parallel_for(&ctx, "t", 10, 0, square_task, out, &err), SV_EINTR);
}

/* n * size overflowing size_t is refused, not wrapped. */
static void test_checked_alloc_overflow(void **state)
{
    (void)state;
    assert_null(sv_malloc(SIZE_MAX / 2, 4));
    assert_null(sv_calloc(SIZE_MAX / 8 + 1, 16));
    void *p = sv_malloc(0, 8);
    assert_non_null(p);
    free(p);
}

/* The generator's own log agrees with libm's to 2 ulp over many decades
 * (it replaces libm so that normal deviates are the same bits everywhere). */
static void test_portable_log_matches_libm(void **state)
{
    (void)state;
    double xs[] = {1e-300, 4.9e-324, 1e-10, 0.1, 0.5, 0.7071, 0.9999999, 1.0,
                   1.0000001, 1.5, 2.0, 3.14159, 10.0, 1e10, 1e300};
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
        double a = sv_portable_log(xs[k]), b = log(xs[k]);
        assert_true(fabs(a - b) <= 2.5e-16 * fmax(1.0, fabs(b)));
    }
    sv_rng r;
    sv_rng_init(&r, 1, 0);
    for (int k = 0; k < 100000; k++) {
        double x = sv_rng_uniform(&r) + 1e-12;
        double a = sv_portable_log(x), b = log(x);
        assert_true(fabs(a - b) <= 4.5e-16 * fmax(1.0, fabs(b)));
    }
}

/* Lemire's bounded draw is unbiased: a small modulus gives near-equal
 * counts (chi-square with 4 df well inside its 1e-6 quantile, 33.4). */
static void test_below_is_uniform(void **state)
{
    (void)state;
    sv_rng r;
    sv_rng_init(&r, 99, 7);
    long counts[5] = {0};
    long n = 500000;
    for (long k = 0; k < n; k++) counts[sv_rng_below(&r, 5)]++;
    double chi = 0, e = n / 5.0;
    for (int k = 0; k < 5; k++) chi += (counts[k] - e) * (counts[k] - e) / e;
    assert_true(chi < 33.4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_for_same_for_any_thread_count),
        cmocka_unit_test(test_parallel_for_reports_failure),
        cmocka_unit_test(test_parallel_for_cancel),
        cmocka_unit_test(test_checked_alloc_overflow),
        cmocka_unit_test(test_portable_log_matches_libm),
        cmocka_unit_test(test_below_is_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
