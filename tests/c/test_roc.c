/*
 * test_roc.c - the ROC engine at C level: the radix ordering, placements
 * of a hand case, the bootstrap's independence from the thread count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_rng.h"
#include "sv_roc.h"
#include "fixture.h"
#include "sv_sort.h"

/* The radix sort orders like a comparison sort (ties by index, -0.0 with
 * 0.0, negative numbers and infinities in place), on a small and a larger
 * input. */
static void test_order_matches_comparison(void **state)
{
    (void)state;
    size_t sizes[] = {7, 5000};
    for (int t = 0; t < 2; t++) {
        size_t n = sizes[t];
        double *x = malloc(n * sizeof *x);
        uint32_t *o = malloc(n * sizeof *o);
        sv_rng r;
        sv_rng_init(&r, 5, (uint64_t)t);
        for (size_t i = 0; i < n; i++) x[i] = floor(sv_rng_normal(&r) * 50) / 8;
        x[0] = -0.0;
        x[1] = 0.0;
        x[2] = -INFINITY;
        x[3] = INFINITY;
        sv_err e;
        assert_int_equal(sv_order_doubles(x, n, o, &e), SV_OK);
        for (size_t k = 1; k < n; k++) {
            double a = x[o[k - 1]], b = x[o[k]];
            assert_true(a <= b);
            if (a == b) assert_true(o[k - 1] < o[k]);
        }
        free(x);
        free(o);
    }
}

/* 4 cases 0.8 0.6 0.6 0.3, 4 controls 0.7 0.6 0.2 0.1: placements by hand
 * V10 = 1, .625, .625, .5 and V01 = .25, .5, 1, 1; AUC .6875, variance
 * (.140625/3)/4 + (.421875/3)/4 = .046875 (pROC's var() agrees). */
static void test_hand_placements(void **state)
{
    (void)state;
    double y[8] = {1, 1, 1, 1, 0, 0, 0, 0};
    double s[8] = {0.8, 0.6, 0.6, 0.3, 0.7, 0.6, 0.2, 0.1};
    double v[8], want[8] = {1, 0.625, 0.625, 0.5, 0.25, 0.5, 1, 1};
    sv_roc_auc_result r;
    sv_err e;
    assert_int_equal(sv_roc_auc(y, s, 8, v, &r, &e), SV_OK);
    for (int i = 0; i < 8; i++) assert_true(v[i] == want[i]);
    assert_true(r.auc == 0.6875);
    assert_true(fabs(r.var - 0.046875) < 1e-17);
    /* s = .1 .4 .35 .8, y = 0 0 1 1: of the 4 (case, control) pairs only
     * (.35, .4) is misordered -> 3/4. Ties: s = .5 .5 .5 .9, y = 0 1 0 1:
     * pairs (.5+, .5-) x2 count 1/2 each, (.9, .5-) x2 count 1 -> 3/4.
     * (Permutation importance scores its AUCs with this function.) */
    double y1[4] = {0, 0, 1, 1}, s1[4] = {0.1, 0.4, 0.35, 0.8};
    assert_int_equal(sv_roc_auc(y1, s1, 4, NULL, &r, &e), SV_OK);
    assert_true(r.auc == 0.75);
    double y2[4] = {0, 1, 0, 1}, s2[4] = {0.5, 0.5, 0.5, 0.9};
    assert_int_equal(sv_roc_auc(y2, s2, 4, NULL, &r, &e), SV_OK);
    assert_true(r.auc == 0.75);
}

/* One class only is refused with a message. */
static void test_single_class(void **state)
{
    (void)state;
    double y[3] = {1, 1, 1}, s[3] = {1, 2, 3};
    sv_roc_auc_result r;
    sv_err e;
    assert_int_equal(sv_roc_auc(y, s, 3, NULL, &r, &e), SV_EINVAL);
    assert_non_null(strstr(e.msg, "single class"));
}

/* Bootstrap AUCs are bitwise identical for 1, 2 and 3 threads, and each
 * replicate lies in [0, 1]. */
static void test_boot_threads(void **state)
{
    (void)state;
    enum { N = 300, B = 101 };
    double y[N], s[N], a1[B], a2[B];
    sv_rng r;
    sv_rng_init(&r, 9, 0);
    for (int i = 0; i < N; i++) {
        y[i] = sv_rng_uniform(&r) < 0.4;
        s[i] = floor((y[i] + sv_rng_normal(&r)) * 4);
    }
    sv_err e;
    sv_ctx c1 = {.threads = 1};
    assert_int_equal(sv_roc_boot_auc(y, s, N, B, 77, &c1, a1, &e), SV_OK);
    for (int t = 2; t <= 3; t++) {
        sv_ctx ct = {.threads = t};
        assert_int_equal(sv_roc_boot_auc(y, s, N, B, 77, &ct, a2, &e), SV_OK);
        assert_memory_equal(a1, a2, sizeof a1);
    }
    for (int b = 0; b < B; b++) assert_true(a1[b] >= 0 && a1[b] <= 1);
}

/* Hand and Till's M against pROC's multiclass.roc (1.18) on the gbsg
 * test rows' grade and a forest's rounded class probabilities (ties):
 * tests/oracle/handtill_proc.R. */
static void test_hand_till_proc(void **state)
{
    (void)state;
    sv_csv_table in, want;
    fx_read("tests/fixtures/forest/handtill_gbsg.csv", &in);
    fx_read("tests/fixtures/forest/handtill_gbsg_proc.csv", &want);
    size_t n = in.nrow;
    const double *g = fx_col(&in, "grade");
    int32_t *y = malloc(n * sizeof *y);
    double *P = malloc(3 * n * sizeof *P);
    assert_non_null(y);
    assert_non_null(P);
    const char *pc[3] = {"p1", "p2", "p3"};
    for (int k = 0; k < 3; k++) memcpy(P + (size_t)k * n, fx_col(&in, pc[k]), n * sizeof *P);
    for (size_t i = 0; i < n; i++) y[i] = (int32_t)g[i] - 1;
    double M, pair[3];
    sv_err e;
    assert_int_equal(sv_roc_hand_till(y, P, n, 3, &M, pair, &e), SV_OK);
    fx_rel(M, fx_scalar(&want, "M"), 1e-12, "M");
    fx_rel(pair[0], fx_scalar(&want, "pair_1_2"), 1e-12, "pair 1/2");
    fx_rel(pair[1], fx_scalar(&want, "pair_1_3"), 1e-12, "pair 1/3");
    fx_rel(pair[2], fx_scalar(&want, "pair_2_3"), 1e-12, "pair 2/3");
    /* one class absent: its pairs are NaN, M the mean of the rest */
    for (size_t i = 0; i < n; i++)
        if (y[i] == 2) y[i] = 0;
    assert_int_equal(sv_roc_hand_till(y, P, n, 3, &M, pair, &e), SV_OK);
    assert_true(isnan(pair[1]) && isnan(pair[2]));
    assert_true(M == pair[0]);
    for (size_t i = 0; i < n; i++) y[i] = 1;
    assert_int_equal(sv_roc_hand_till(y, P, n, 3, &M, pair, &e), SV_EINVAL);
    free(y);
    free(P);
    sv_csv_free(&in);
    sv_csv_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_matches_comparison),
        cmocka_unit_test(test_hand_placements),
        cmocka_unit_test(test_single_class),
        cmocka_unit_test(test_boot_threads),
        cmocka_unit_test(test_hand_till_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
