/*
 * test_shap_importance.c - the mean |SHAP| ranking of sv_shap_importance
 * (engine/shap_importance.c) on a matrix worked by hand, with ties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "sv_shap.h"

/*
 * 3 rows x 5 columns (column-major):
 *   col 0:  1, -1,   1    mean |.| = 3/3 = 1
 *   col 1:  0.5, -2, 0.5  mean |.| = 3/3 = 1
 *   col 2:  0, 0, 0       mean |.| = 0
 *   col 3: -3, 0, 0       mean |.| = 1
 *   col 4:  2, -2, 2      mean |.| = 2
 * Ranking: 4 (2), then the ties 0, 1, 3 (1) in column order, then 2 (0).
 */
static void test_importance_by_hand(void **state)
{
    (void)state;
    const double phi[15] = {1, -1, 1, 0.5, -2, 0.5, 0, 0, 0, -3, 0, 0, 2, -2, 2};
    double mean_abs[5];
    size_t order[5];
    sv_err err;
    assert_int_equal(sv_shap_importance(phi, 3, 5, mean_abs, order, &err), SV_OK);
    const double want[5] = {1, 1, 0, 1, 2};
    const size_t want_order[5] = {4, 0, 1, 3, 2};
    for (int j = 0; j < 5; j++) {
        assert_true(mean_abs[j] == want[j]);
        assert_int_equal(order[j], want_order[j]);
    }
    /* either output may be NULL */
    assert_int_equal(sv_shap_importance(phi, 3, 5, NULL, order, &err), SV_OK);
    assert_int_equal(order[0], 4);
    /* no rows: every mean is 0, column order */
    assert_int_equal(sv_shap_importance(phi, 0, 5, mean_abs, order, &err), SV_OK);
    for (int j = 0; j < 5; j++) assert_true(mean_abs[j] == 0 && order[j] == (size_t)j);
}

static void test_importance_nan(void **state)
{
    (void)state;
    const double phi[4] = {1, 2, NAN, 0};
    double mean_abs[2];
    size_t order[2];
    sv_err err;
    assert_int_equal(sv_shap_importance(phi, 2, 2, mean_abs, order, &err), SV_EINVAL);
    assert_string_equal(err.msg, "phi contains NaN (column 2)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_importance_by_hand),
        cmocka_unit_test(test_importance_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
