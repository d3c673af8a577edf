/*
 * test_shap_deep.c - TreeSHAP on trees far deeper than a call stack allows
 * recursion over: a 120,000-deep chain and a forest trained on alternating
 * labels without bootstrap (one leaf per row, depth ~ n). Every test runs
 * on a thread with a 256 KiB stack (main() below), so a walk that recursed
 * once per tree level would overflow at once instead of after minutes.
 *
 * The oracle is written from the definitions only and shares no code with
 * engine/shap.c: v(S) of the path-dependent game is the sum over leaves of
 * value x reach probability, where reach is pushed forward over node ids
 * (a child's id is larger than its parent's) - following x at a split on a
 * feature in S, else multiplying by cover(child) / cover(node); the
 * interventional game evaluates hybrid rows by ordinary prediction. Shapley
 * values and interaction indices are then summed over all 2^p coalitions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_core.h"
#include "sv_forest.h"
#include "sv_rng.h"
#include "sv_shap.h"

/* ---- the oracle ------------------------------------------------------- */

/* E[tree | x_S] by forward reach probabilities (reach: n_nodes scratch). */
static double oracle_cond(const sv_tree *t, const double *x, unsigned S, double *reach)
{
    for (int32_t n = 0; n < t->n_nodes; n++) reach[n] = 0;
    reach[0] = 1;
    double v = 0;
    for (int32_t n = 0; n < t->n_nodes; n++) {
        if (reach[n] == 0) continue;
        if (t->left[n] < 0) {
            v += reach[n] * t->value[n];
            continue;
        }
        int j = t->feature[n];
        int32_t l = t->left[n], r = t->right[n];
        if (S & (1u << j)) {
            reach[x[j] <= t->threshold[n] ? l : r] += reach[n];
        } else {
            reach[l] += reach[n] * (t->cover[l] / t->cover[n]);
            reach[r] += reach[n] * (t->cover[r] / t->cover[n]);
        }
    }
    return v;
}

static double oracle_leaf(const sv_tree *t, const double *x)
{
    int32_t n = 0;
    while (t->left[n] >= 0) n = x[t->feature[n]] <= t->threshold[n] ? t->left[n] : t->right[n];
    return t->value[n];
}

static double forest_pred(const sv_forest *f, const double *x)
{
    double s = 0;
    for (int t = 0; t < f->n_trees; t++) s += oracle_leaf(&f->trees[t], x);
    return s / f->n_trees;
}

/* v[S] for every coalition: path-dependent (bg NULL) or interventional
 * against nb row-major background rows. */
static void oracle_game(const sv_forest *f, const double *x, const double *bg, int nb,
                        double *v)
{
    int p = f->n_features;
    int32_t most = 0;
    for (int t = 0; t < f->n_trees; t++)
        if (f->trees[t].n_nodes > most) most = f->trees[t].n_nodes;
    double *reach = malloc((size_t)most * sizeof *reach);
    double *z = malloc((size_t)p * sizeof *z);
    assert_non_null(reach);
    assert_non_null(z);
    for (unsigned S = 0; S < (1u << p); S++) {
        double s = 0;
        if (!bg) {
            for (int t = 0; t < f->n_trees; t++) s += oracle_cond(&f->trees[t], x, S, reach);
            s /= f->n_trees;
        } else {
            for (int b = 0; b < nb; b++) {
                for (int j = 0; j < p; j++) z[j] = (S & (1u << j)) ? x[j] : bg[b * p + j];
                s += forest_pred(f, z);
            }
            s /= nb;
        }
        v[S] = s;
    }
    free(reach);
    free(z);
}

static double fact(int k)
{
    double r = 1;
    for (int i = 2; i <= k; i++) r *= i;
    return r;
}

static void oracle_shapley(int p, const double *v, double *phi)
{
    for (int j = 0; j < p; j++) {
        double s = 0;
        for (unsigned S = 0; S < (1u << p); S++) {
            if (S & (1u << j)) continue;
            int k = __builtin_popcount(S);
            s += fact(k) * fact(p - k - 1) / fact(p) * (v[S | (1u << j)] - v[S]);
        }
        phi[j] = s;
    }
}

/* Off-diagonal: half the Shapley interaction index; diagonal: phi minus
 * the off-diagonals (Lundberg et al. 2020). out[k * p + j] = Phi(j, k). */
static void oracle_interactions(int p, const double *v, const double *phi, double *out)
{
    for (int i = 0; i < p; i++) {
        double off = 0;
        for (int j = 0; j < p; j++) {
            if (i == j) continue;
            double s = 0;
            unsigned I = 1u << i, J = 1u << j;
            for (unsigned S = 0; S < (1u << p); S++) {
                if (S & (I | J)) continue;
                int k = __builtin_popcount(S);
                s += fact(k) * fact(p - k - 2) / (2.0 * fact(p - 1)) *
                     (v[S | I | J] - v[S | I] - v[S | J] + v[S]);
            }
            out[j * p + i] = s;
            off += s;
        }
        out[i * p + i] = phi[i] - off;
    }
}

/* ---- the chain ----------------------------------------------------------- */

/*
 * A chain of `depth` splits cycling over p = 3 features: node k splits on
 * feature k % 3 with threshold k / depth; its leaf child holds one training
 * row (cover 1) and the chain continues with the rest (cover depth - k), as
 * a tree grown on distinct rows would. Every 5th split has the chain on the
 * left with a threshold above every x (x always continues); otherwise the
 * chain is on the right, and a row with x_j = u leaves it near depth
 * 3 u depth. Leaf values are pseudo-random in [0, 1].
 */
static void chain_make(sv_tree *t, int32_t depth, uint64_t seed)
{
    sv_rng r;
    sv_rng_init(&r, seed, 1);
    assert_int_equal(sv_tree_alloc(t, 2 * depth + 1), 0);
    int32_t id = 0;
    for (int32_t k = 0; k < depth; k++) {
        int32_t leaf = id + 1, next = id + 2;
        t->feature[id] = k % 3;
        t->cover[id] = (double)(depth - k + 1);
        t->value[id] = 0.5;
        int chain_left = k % 5 == 4;
        t->threshold[id] = chain_left ? 2.0 : (double)k / depth;
        t->left[id] = chain_left ? next : leaf;
        t->right[id] = chain_left ? leaf : next;
        t->feature[leaf] = t->left[leaf] = t->right[leaf] = -1;
        t->cover[leaf] = 1;
        t->value[leaf] = sv_rng_uniform(&r);
        id = next;
    }
    t->feature[id] = t->left[id] = t->right[id] = -1;
    t->cover[id] = 1;
    t->value[id] = sv_rng_uniform(&r);
}

/* The rows explained: x_j in [0, 1], so the chain is left at various depths
 * (including a row that follows it to the bottom). */
static const double chain_rows[4][3] = {
    {0.31, 0.77, 0.52}, {0.999, 0.9995, 0.9999}, {0.0, 0.5, 1.0}, {1.5, 1.5, 1.5}};

/* A 120,000-deep chain (the depth that killed the recursive walks with
 * SIGSEGV): SHAP values of the linear algorithm and of Algorithm 2, the
 * interaction values, and the interventional values all equal the
 * brute-force oracle; base + sum = prediction. */
static void test_chain_120k_against_oracle(void **state)
{
    (void)state;
    const int32_t depth = 120000;
    const int p = 3, n = 4;
    sv_tree t;
    chain_make(&t, depth, 11);
    sv_forest f = {.n_trees = 1, .n_features = p, .trees = &t};
    assert_int_equal(sv_tree_depth(&t), depth);

    double X[4 * 3];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) X[j * n + i] = chain_rows[i][j];
    double lin[12], ref[12], inter[4 * 9], intv[12], base_l, base_r, base_i, base_v;
    sv_err err;
    sv_ctx ctx = {.threads = 1};
    sv_shap_opts ol = {.algorithm = SV_SHAP_LINEAR}, orf = {.algorithm = SV_SHAP_REFERENCE};
    assert_int_equal(sv_shap_values(&f, X, n, &ol, &ctx, lin, &base_l, &err), SV_OK);
    assert_int_equal(sv_shap_values(&f, X, n, &orf, &ctx, ref, &base_r, &err), SV_OK);
    assert_int_equal(sv_shap_interactions(&f, X, n, NULL, &ctx, inter, &base_i, &err), SV_OK);
    const double bg[2 * 3] = {0.2, 0.9, 0.4, 0.6, 0.05, 0.95}; /* row-major for the oracle */
    double bgc[2 * 3];
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < p; j++) bgc[j * 2 + b] = bg[b * p + j];
    sv_shap_opts ov = {.background = bgc, .n_background = 2};
    assert_int_equal(sv_shap_values(&f, X, n, &ov, &ctx, intv, &base_v, &err), SV_OK);

    double worst = 0, worst_v = 0;
    for (int i = 0; i < n; i++) {
        double x[3], v[8], phi[3], io[9], vb[8], phib[3];
        for (int j = 0; j < p; j++) x[j] = chain_rows[i][j];
        oracle_game(&f, x, NULL, 0, v);
        oracle_shapley(p, v, phi);
        oracle_interactions(p, v, phi, io);
        oracle_game(&f, x, bg, 2, vb);
        oracle_shapley(p, vb, phib);
        if (i == 0) {
            assert_true(fabs(base_l - v[0]) <= 1e-12);
            assert_true(fabs(base_v - vb[0]) <= 1e-12);
        }
        double sum = base_l;
        for (int j = 0; j < p; j++) {
            worst = fmax(worst, fabs(lin[j * n + i] - phi[j]));
            worst = fmax(worst, fabs(ref[j * n + i] - phi[j]));
            worst_v = fmax(worst_v, fabs(intv[j * n + i] - phib[j]));
            for (int k = 0; k < p; k++)
                worst = fmax(worst, fabs(inter[(size_t)i * 9 + (size_t)k * p + j] -
                                         io[k * p + j]));
            sum += lin[j * n + i];
        }
        assert_true(fabs(sum - forest_pred(&f, x)) <= 1e-9);
    }
    print_message("chain depth %d: max |diff| path-dependent %.3g, interventional %.3g\n",
                  (int)depth, worst, worst_v);
    assert_true(worst <= 1e-9);
    assert_true(worst_v <= 1e-12);
    sv_tree_free(&t);
}

/* Ordinary training can grow such a tree: labels alternating along one
 * feature, no bootstrap, so every row ends in its own leaf (depth ~ n).
 * The values of both algorithms and of the interactions match the oracle
 * with 1 and 2 threads, and base + sum = the forest's prediction. */
static void test_alternating_forest_against_oracle(void **state)
{
    (void)state;
    const size_t n = 12000, p = 2;
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y);
    assert_non_null(X);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++) {
        X[i] = (double)i;             /* the feature the labels alternate on */
        X[n + i] = (double)(i % 3);  /* a weak second feature */
        y[i] = (double)(i % 2);
    }
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 2;
    o.bootstrap = 0;
    o.mtry = 2;
    o.seed = 5;
    sv_forest *f = NULL;
    sv_err err;
    sv_ctx ctx1 = {.threads = 1}, ctx2 = {.threads = 2};
    assert_int_equal(sv_forest_train(X, n, p, y, NULL, &o, &ctx2, &f, &err), SV_OK);
    int deepest = 0;
    for (int t = 0; t < f->n_trees; t++) {
        int d = sv_tree_depth(&f->trees[t]);
        if (d > deepest) deepest = d;
    }
    print_message("alternating labels, %zu rows: depth %d\n", n, deepest);
    assert_true(deepest >= (int)(n / 4));

    enum { R = 5 };
    const size_t rows[R] = {0, 1, 7777, 6001, 11999};
    double Xr[R * 2];
    for (int i = 0; i < R; i++)
        for (size_t j = 0; j < p; j++) Xr[j * R + i] = X[j * n + rows[i]];
    double lin[R * 2], lin2[R * 2], ref[R * 2], inter[R * 4], base, base2;
    sv_shap_opts ol = {.algorithm = SV_SHAP_LINEAR}, orf = {.algorithm = SV_SHAP_REFERENCE};
    assert_int_equal(sv_shap_values(f, Xr, R, &ol, &ctx1, lin, &base, &err), SV_OK);
    assert_int_equal(sv_shap_values(f, Xr, R, &ol, &ctx2, lin2, &base2, &err), SV_OK);
    assert_int_equal(sv_shap_values(f, Xr, R, &orf, &ctx1, ref, &base, &err), SV_OK);
    assert_int_equal(sv_shap_interactions(f, Xr, R, NULL, &ctx2, inter, &base, &err), SV_OK);
    assert_memory_equal(lin, lin2, sizeof lin);
    double worst = 0;
    for (int i = 0; i < R; i++) {
        double x[2] = {Xr[i], Xr[R + i]}, v[4], phi[2], io[4];
        oracle_game(f, x, NULL, 0, v);
        oracle_shapley(2, v, phi);
        oracle_interactions(2, v, phi, io);
        double sum = base;
        for (int j = 0; j < 2; j++) {
            worst = fmax(worst, fabs(lin[j * R + i] - phi[j]));
            worst = fmax(worst, fabs(ref[j * R + i] - phi[j]));
            for (int k = 0; k < 2; k++)
                worst = fmax(worst, fabs(inter[i * 4 + k * 2 + j] - io[k * 2 + j]));
            sum += lin[j * R + i];
        }
        assert_true(fabs(sum - forest_pred(f, x)) <= 1e-9);
    }
    print_message("alternating forest: max |diff| vs oracle %.3g\n", worst);
    assert_true(worst <= 1e-9);
    sv_forest_free(f);
    free(X);
    free(y);
}

/* ---- run every test on a 256 KiB stack -------------------------------- */

static int rc;

static void *run_group(void *arg)
{
    (void)arg;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_120k_against_oracle),
        cmocka_unit_test(test_alternating_forest_against_oracle),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    return NULL;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 256 << 10) != 0 ||
        pthread_create(&th, &attr, run_group, NULL) != 0) {
        fprintf(stderr, "test_shap_deep: cannot start the 256 KiB-stack thread\n");
        return 1;
    }
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}
