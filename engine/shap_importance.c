/*
 * shap_importance.c - global importance from SHAP values: the mean
 * absolute SHAP value of each feature and the features ranked by it
 * (Lundberg et al. 2020, the "summary" bar chart). Kept apart from the
 * TreeSHAP walks of shap.c: it reads any n x p matrix of SHAP values.
 */
#include <math.h>
#include <stdlib.h>

#include "sv_shap.h"

typedef struct ranked {
    double value;
    size_t j;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->value > y->value) return -1;
    if (x->value < y->value) return 1;
    return x->j < y->j ? -1 : x->j > y->j; /* ties: column order */
}

sv_status sv_shap_importance(const double *phi, size_t n, size_t p,
                             double *mean_abs, size_t *order, sv_err *err)
{
    ranked *r = sv_malloc(p ? p : 1, sizeof *r);
    if (!r) return sv_err_set(err, SV_ENOMEM, "out of memory (%zu features)", p);
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += fabs(phi[j * n + i]);
        r[j].value = n ? s / (double)n : 0.0;
        r[j].j = j;
        if (isnan(r[j].value)) {
            free(r);
            return sv_err_set(err, SV_EINVAL, "phi contains NaN (column %zu)", j + 1);
        }
        if (mean_abs) mean_abs[j] = r[j].value;
    }
    qsort(r, p, sizeof *r, ranked_cmp);
    if (order)
        for (size_t k = 0; k < p; k++) order[k] = r[k].j;
    free(r);
    return SV_OK;
}
