/*
 * sv_survforest.h - random survival forests with ranger's semantics
 * (ranger 0.14.1, splitrule = "logrank"; Ishwaran et al. 2008), grown by
 * the generic tree grower (forest_grow.h) with a log-rank splitter.
 *
 * What is stored: the trees of an sv_forest (kind SV_TREE_SURVIVAL, one
 * payload value per node: at a leaf its mortality, the sum of its
 * Nelson-Aalen cumulative hazard over the forest's time grid; at an
 * internal node the cover-weighted mean of its children), so that the
 * forest's ordinary prediction, OOB prediction and TreeSHAP give the risk
 * (ensemble mortality). Beside them, for each leaf only its own distinct
 * death times (grid indexes) and the cumulative hazard after each: memory
 * grows with the in-bag events, never with n x unique times.
 *
 * Conventions (reference-notes-v2.md section 6):
 * - the grid is the sorted unique observed times of all training rows,
 *   censored included (ranger's unique.death.times);
 * - a node's log-rank statistic over its rows at a candidate split
 *   (left: x <= value) is |sum_t (d_tL - Y_tL d_t / Y_t)| / sqrt(sum_t
 *   (Y_tL/Y_t)(1 - Y_tL/Y_t)((Y_t - d_t)/(Y_t - 1)) d_t) over the node's
 *   death times with Y_t >= 2, counts with bootstrap multiplicity; the
 *   largest wins (the first in the scan at ties); a statistic with zero
 *   variance is no candidate;
 * - min_leaf is ranger's min.node.size: a split is taken only when each
 *   child holds at least min_leaf in-bag samples (bootstrap duplicates
 *   counted) and the node at least 2 min_leaf;
 * - a leaf's cumulative hazard is the Nelson-Aalen estimate of its in-bag
 *   samples (with multiplicity); the ensemble CHF is the mean over trees,
 *   survival exp(-CHF), risk = ensemble mortality = sum of the ensemble
 *   CHF over the grid.
 */
#ifndef SV_SURVFOREST_H
#define SV_SURVFOREST_H

#include "sv_core.h"
#include "sv_forest.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SV_SURVFOREST_DEFAULT_MIN_LEAF 3 /* ranger's min.node.size for survival */

typedef struct sv_survforest {
    sv_forest *f;          /* the trees; value[0] = node mortality */
    size_t n_times;
    double *times;         /* the grid, ascending */
    /* per tree t: for node id k, its leaf curve is entries
     * [leaf_off[t][k], leaf_off[t][k + 1]) of leaf_time[t] / leaf_chf[t]
     * (empty at internal nodes) */
    uint32_t **leaf_off;
    uint32_t **leaf_time;  /* grid indexes of the leaf's death times */
    double **leaf_chf;     /* cumulative hazard just after each */
} sv_survforest;

/*
 * Trains on X (n x p column-major, finite), time (> 0 finite), event (0/1).
 * opts as sv_forest_opts: n_trees, mtry (1..p; 0 = ceil(sqrt(p)), ranger
 * 0.14's default), min_leaf (ranger's min.node.size), max_depth,
 * bootstrap, sample_fraction, seed; criterion, min_split and class weights
 * are ignored. Tree t uses RNG stream (seed, t): identical for any thread
 * count.
 */
sv_status sv_survforest_train(const double *X, size_t n, size_t p, const double *time,
                              const double *event, const char *const *names,
                              const sv_forest_opts *opts, const sv_ctx *ctx,
                              sv_survforest **out, sv_err *err);

void sv_survforest_free(sv_survforest *sf);

/* Ensemble cumulative hazard at times[0..m) (any order) for the n rows of
 * X: out is n x m column-major, the mean over trees of each leaf's step
 * function (0 before its first death time). When survival is set, out
 * holds exp(-CHF) instead. */
sv_status sv_survforest_chf(const sv_survforest *sf, const double *X, size_t n, size_t p,
                            const double *times, size_t m, int survival, const sv_ctx *ctx,
                            double *out, sv_err *err);

/*
 * A view of the forest for TreeSHAP of the ensemble cumulative hazard at
 * time t: the trees share sf's structure, each with its own node values -
 * at a leaf its cumulative hazard at t (its step function: the value after
 * its last death time <= t, 0 before its first), at an internal node the
 * cover-weighted mean of its children. The mean over trees of the leaf
 * value reached is then sv_survforest_chf at t, so the exact TreeSHAP of
 * the view explains CHF(t) additively (S(t) = exp(-CHF(t)) is not linear
 * in the leaves). t must not be NaN. Freed with sv_forest_view_free; valid
 * while sf lives.
 */
sv_status sv_survforest_time_view(const sv_survforest *sf, double t, sv_forest **out,
                                  sv_err *err);

/* OOB risk (ensemble mortality over the trees for which the row was out of
 * bag; NaN when never) of the training rows X (n x p), the rows of
 * column `perm_feature` taken in the order perm (when perm is not NULL:
 * row i reads that feature from row perm[i]) - the permutation
 * importance's input. */
sv_status sv_survforest_oob_risk(const sv_survforest *sf, const double *X, size_t n, size_t p,
                                 int32_t perm_feature, const uint32_t *perm,
                                 const sv_ctx *ctx, double *out, sv_err *err);

/*
 * Permutation importance by Harrell's C of the OOB risk: for each feature
 * j, C(OOB risk) - C(OOB risk with column j permuted), averaged over
 * `repeats` permutations (stream (seed, j * repeats + r)). c0 receives the
 * unpermuted OOB C. time/event are the training outcomes.
 */
sv_status sv_survforest_importance(const sv_survforest *sf, const double *X, size_t n,
                                   size_t p, const double *time, const double *event,
                                   int32_t repeats, uint64_t seed, const sv_ctx *ctx,
                                   double *out, double *c0, sv_err *err);

/*
 * The model file (engine/forest_io.c, docs/forest.md): a survival forest is
 * a version-2 file of kind 2 whose trees are followed by the survival
 * section (the time grid, then per tree its leaf curves). The loader checks
 * the curves against the trees and their mortality payloads; a
 * damaged or inconsistent file is refused naming the tree and node.
 * sv_forest_load refuses a survival file; sv_forest_load_any loads either
 * kind: exactly one of *f (classification/regression) and *sf (survival)
 * is set on success.
 */
sv_status sv_survforest_save_mem(const sv_survforest *sf, unsigned char **buf, size_t *len,
                                 sv_err *err);
sv_status sv_survforest_save(const sv_survforest *sf, const char *path, sv_err *err);
sv_status sv_forest_load_any_mem(const unsigned char *buf, size_t len, sv_forest **f,
                                 sv_survforest **sf, sv_err *err);
sv_status sv_forest_load_any(const char *path, sv_forest **f, sv_survforest **sf, sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
