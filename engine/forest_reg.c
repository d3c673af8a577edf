/*
 * forest_reg.c - the regression splitter of the tree grower
 * (forest_grow.h) and sv_forest_train_regression: scikit-learn's
 * RandomForestRegressor with criterion "squared_error".
 *
 * A node's statistic is (W, S, Q): the bootstrap-weighted count, the sum
 * of y and the sum of y^2 (a row drawn k times counts k). A boundary
 * scores scikit-learn's proxy S_l^2/W_l + S_r^2/W_r, which orders splits
 * as the weighted squared-error decrease; a node stores its mean S/W
 * (one value), cover W and impurity Q/W - (S/W)^2, and is a leaf when
 * that impurity is <= DBL_EPSILON (scikit-learn's test). The response is
 * read by row (sample.y is unused).
 */
#include "forest_grow.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct reg_ctx {
    const double *y;
} reg_ctx;

typedef struct reg_stat {
    double w, s, q;
} reg_stat;

/* Out of line for the same reason as the classification score: the scan
 * keeps its sums in registers. */
static __attribute__((noinline)) double reg_score(double wl, double sl, double w, double s)
{
    double wr = w - wl, sr = s - sl;
    return sl * sl / wl + sr * sr / wr;
}

#define SCAN_NAME reg_eval
#define SCAN_CTX reg_ctx
#define SCAN_STAT_T reg_stat
#define SCAN_STAT_BYTES(c) sizeof(reg_stat)
#define SCAN_SLOT_BYTES(c) (sizeof(reg_stat) + 8)
#define SCAN_ADD_ROW(c, st, smp)                                       \
    do {                                                               \
        double y_ = (c)->y[(smp)->row], k_ = (double)(smp)->cnt;       \
        ((reg_stat *)(void *)(st))->w += k_;                           \
        ((reg_stat *)(void *)(st))->s += k_ * y_;                      \
        ((reg_stat *)(void *)(st))->q += k_ * y_ * y_;                 \
    } while (0)
#define SCAN_ADD_STAT(c, d, src)                                       \
    do {                                                               \
        ((reg_stat *)(void *)(d))->w += ((const reg_stat *)(const void *)(src))->w; \
        ((reg_stat *)(void *)(d))->s += ((const reg_stat *)(const void *)(src))->s; \
        ((reg_stat *)(void *)(d))->q += ((const reg_stat *)(const void *)(src))->q; \
    } while (0)
#define SCAN_SCORE(c, l, nd)                                           \
    reg_score(((const reg_stat *)(const void *)(l))->w, ((const reg_stat *)(const void *)(l))->s, \
              ((const reg_stat *)(const void *)(nd))->w, ((const reg_stat *)(const void *)(nd))->s)
#include "forest_scan.h"

static void reg_stat_rows(const void *ctx, const sv_grow_sample *s, uint32_t m, void *stat)
{
    const reg_ctx *x = ctx;
    reg_stat r = {0, 0, 0};
    for (uint32_t k = 0; k < m; k++) {
        double y = x->y[s[k].row], c = (double)s[k].cnt;
        r.w += c;
        r.s += c * y;
        r.q += c * y * y;
    }
    memcpy(stat, &r, sizeof r);
}

static void reg_stat_sub(const void *ctx, const void *node, const void *left, void *right)
{
    (void)ctx;
    reg_stat a, b, r;
    memcpy(&a, node, sizeof a);
    memcpy(&b, left, sizeof b);
    r.w = a.w - b.w;
    r.s = a.s - b.s;
    r.q = a.q - b.q;
    memcpy(right, &r, sizeof r);
}

static int reg_summarise(const void *ctx, const void *stat, double *value, double *cover,
                         double *impurity)
{
    (void)ctx;
    reg_stat r;
    memcpy(&r, stat, sizeof r);
    double mean = r.s / r.w;
    double imp = r.q / r.w - mean * mean;
    *value = mean;
    *cover = r.w;
    /* rounding can leave a tiny negative for a constant response */
    *impurity = imp > 0 ? imp : 0.0;
    return imp <= DBL_EPSILON;
}

sv_status sv_forest_train_regression(const double *X, size_t n, size_t p,
                                     const double *y, const char *const *names,
                                     const sv_forest_opts *opts, const sv_ctx *ctx,
                                     sv_forest **out, sv_err *err)
{
    *out = NULL;
    if (n == 0) return sv_err_set(err, SV_EINVAL, "X has no rows");
    if (p == 0) return sv_err_set(err, SV_EINVAL, "X has no columns");
    if (n > 0x7fffffffu / 2 || p > 0x7fffffffu)
        return sv_err_set(err, SV_EINVAL, "X is too large (%zu x %zu)", n, p);
    sv_forest_opts o = *opts;
    o.criterion = SV_FOREST_SQUARED_ERROR;
    o.class_weight = SV_FOREST_CW_NONE;
    o.class_weights[0] = o.class_weights[1] = 1.0;
    sv_status st = sv_forest_check_opts(&o, p, 0, err);
    if (st != SV_OK) return st;
    st = sv_forest_check_finite(X, n, p, err);
    if (st != SV_OK) return st;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return sv_err_set(err, SV_EINVAL, "y has %s at row %zu",
                              isnan(y[i]) ? "NaN" : "an infinite value", i + 1);
    if (o.mtry == 0) o.mtry = (int32_t)p;
    sv_forest *f = sv_grow_new_forest(n, p, names, &o, SV_TREE_REGRESSION, err);
    if (!f) return SV_ENOMEM;
    reg_ctx cx = {y};
    sv_splitter sp = {SV_TREE_REGRESSION, 1, sizeof(reg_stat), sizeof(reg_stat) + 8, &cx,
                      reg_stat_rows, reg_stat_sub, reg_summarise, reg_eval, NULL};
    st = sv_grow_forest(f, X, n, p, NULL, &o, &sp, ctx, err);
    if (st == SV_OK) st = sv_forest_pack(f, err);
    if (st != SV_OK) {
        sv_forest_free(f);
        return st;
    }
    *out = f;
    return SV_OK;
}
