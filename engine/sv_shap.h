/*
 * sv_shap.h - exact TreeSHAP for the forest of sv_forest.h: SHAP values
 * (path-dependent or interventional) and SHAP interaction values of the
 * forest's probability output, the mean over trees of the leaf value.
 *
 * Every function here is exact: it computes the Shapley values of the game
 * defined below, up to floating-point rounding (tests/c/test_shap.c checks
 * each against a brute-force enumeration of all 2^p coalitions).
 *
 * Path-dependent game (Lundberg et al. 2020, "tree_path_dependent"):
 *   v(S) = mean over trees of E_tree[f | x_S], where the expectation
 *   follows x at a split on a feature in S and otherwise takes both
 *   children, weighted by cover(child) / cover(node).
 * Interventional game (against background rows B):
 *   v(S) = mean over b in B of f(x_S, b_{not S}).
 *
 * Algorithms (sv_shap_algorithm):
 * - SV_SHAP_REFERENCE: Lundberg et al. 2020, Algorithm 2, O(T L D^2) per
 *   row (T trees, L leaves, D depth).
 * - SV_SHAP_LINEAR: O(T N m) per row (N nodes, m = ceil(d/2) with d the
 *   most distinct features on a root-to-leaf path). The idea of Linear
 *   TreeShap (Yu et al., NeurIPS 2022): a leaf's contribution to feature j
 *   is v * (o_j - q_j) * integral_0^1 prod_{k != j} (q_k + t (o_k - q_k)) dt,
 *   a polynomial integral; summaries of these polynomials are pushed up the
 *   tree in one pass. Unlike the published version, the polynomials are held
 *   as their values at the m Gauss-Legendre nodes of [0, 1] (exact for
 *   degree <= 2m - 1), never as coefficients: every factor
 *   q + t (o - q) with 0 <= q, o and t in (0, 1) is positive, so the
 *   products lose no precision at depth 20, 40 or more.
 * - SV_SHAP_TABLE: O(T N) per row after O(sum over leaves of 2^d d m)
 *   work per forest (d the leaf's distinct path features): the idea of Fast
 *   TreeSHAP v2 (Yang 2021). A leaf's contribution depends on the row only
 *   through which of its d path features the row follows, so each leaf
 *   keeps a table of the 2^d cases, filled with the integrals above; a row
 *   then costs one pass over each tree's nodes and d additions per leaf.
 *   Needs at most 16 distinct features per path and tables of at most
 *   2^27 doubles (sum over leaves of 2^d d; SV_EINVAL otherwise).
 * - SV_SHAP_AUTO: TABLE when the tables fit in 2^24 doubles (128 MB) and
 *   filling them costs less than they save on the n rows asked for, else
 *   LINEAR. All three are exact; they differ in rounding only (about 1e-16
 *   relative), so the same row may differ in the last bits between a call
 *   on few rows and one on many.
 * Interventional values use their own exact method (see shap.c), whatever
 * the algorithm.
 *
 * Trees of any depth: every walk is a loop over an explicit heap stack, and
 * the workspace is O(D x d) per thread (D depth, d as above), never D^2.
 *
 * Preconditions checked (SV_EINVAL otherwise): every tree has at least one
 * node, children ids greater than their parent's and in range, features in
 * [0, n_features), covers >= 0 with a positive root cover, finite values,
 * no NaN in X or the background.
 */
#ifndef SV_SHAP_H
#define SV_SHAP_H

#include "sv_core.h"
#include "sv_forest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sv_shap_algorithm {
    SV_SHAP_AUTO = 0,
    SV_SHAP_LINEAR = 1,
    SV_SHAP_REFERENCE = 2,
    SV_SHAP_TABLE = 3
} sv_shap_algorithm;

typedef struct sv_shap_opts {
    sv_shap_algorithm algorithm;
    /* Interventional values when background != NULL: n_background rows,
     * column-major n_background x n_features. */
    const double *background;
    size_t n_background;
    /* A forest of K > 2 classes: the class explained, 0..K-1 (its
     * probability); ignored for other forests. */
    int32_t class_index;
} sv_shap_opts;

/* SV_SHAP_AUTO, path-dependent (no background), class 0; a NULL opts
 * pointer means the same, except that a forest of K > 2 classes then is
 * refused (the class must be chosen). */
void sv_shap_opts_default(sv_shap_opts *opts);

/*
 * SHAP values of the forest for n rows of X (column-major n x n_features).
 * Outputs: phi (column-major n x n_features, phi[j * n + i]) and *base, the
 * value of the empty coalition, so that for every row
 * base + sum_j phi[i, j] = mean over trees of the leaf value reached by x_i.
 * opts may be NULL (path-dependent, automatic algorithm). Rows run in
 * parallel through ctx; the output does not depend on the thread count.
 */
sv_status sv_shap_values(const sv_forest *f, const double *X, size_t n,
                         const sv_shap_opts *opts, const sv_ctx *ctx,
                         double *phi, double *base, sv_err *err);

/*
 * SHAP interaction values (Lundberg et al. 2020, path-dependent game):
 * for features j != k, half the Shapley interaction index; the diagonal
 * phi_j - sum_{k != j} Phi_jk, so each row of the p x p matrix sums to the
 * SHAP value phi_j. Output: out[(i * p + k) * p + j] = Phi_i(j, k) for row i
 * (p = n_features; each row's matrix is column-major and symmetric).
 * opts may be NULL; only the path-dependent game is supported (background
 * must be NULL).
 */
sv_status sv_shap_interactions(const sv_forest *f, const double *X, size_t n,
                               const sv_shap_opts *opts, const sv_ctx *ctx,
                               double *out, double *base, sv_err *err);

/*
 * Global importance (shap_importance.c): mean_abs[j] = mean over the n
 * rows of |phi[i, j]| (phi column-major n x p, as sv_shap_values writes
 * it; 0 when n = 0) and order[0..p) the column indices by decreasing mean
 * |phi|, ties in column order. Either output may be NULL. SV_EINVAL when
 * phi contains NaN.
 */
sv_status sv_shap_importance(const double *phi, size_t n, size_t p,
                             double *mean_abs, size_t *order, sv_err *err);

/* Checks a forest against the preconditions above; 0 status when usable. */
sv_status sv_shap_check_forest(const sv_forest *f, sv_err *err);

/*
 * Gauss-Legendre rule with m nodes on [0, 1] (exact for polynomials of
 * degree <= 2m - 1): t[0..m) ascending, w[0..m) summing to 1. Exposed for
 * the tests.
 */
void sv_shap_gauss_legendre(int m, double *t, double *w);

#ifdef __cplusplus
}
#endif
#endif
