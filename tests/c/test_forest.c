/*
 * test_forest.c - the forest engine: a hand-worked stump, every split
 * checked against a brute-force search, thread invariance, prediction and
 * OOB prediction against their plain definition, the AUC, and
 * the model-file loader refusing damaged images.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sv_forest.h"
#include "sv_rng.h"

static sv_forest *train(const double *X, size_t n, size_t p, const double *y,
                        const sv_forest_opts *o, int threads)
{
    sv_ctx ctx = {.threads = threads};
    sv_err err;
    sv_forest *f = NULL;
    sv_status st = sv_forest_train(X, n, p, y, NULL, o, &ctx, &f, &err);
    if (st != SV_OK) fail_msg("train failed: %s", err.msg);
    return f;
}

/* The stump of tests/lua/test_forest.lua through the engine API:
 * x = 1..7, y = 0 0 1 0 1 1 1. Weighted child gini per boundary:
 * 1.5: 8/3, 2.5: 1.6, 3.5: 17/6, 4.5: 1.5, 5.5: 2.4, 6.5: 3, so the split
 * is x <= 4.5; root gini 24/49, decrease 7*24/49 - 1.5 = 27/14; leaves
 * 1/4 (cover 4, gini 0.375) and 1 (cover 3). */
static void test_stump_by_hand(void **state)
{
    (void)state;
    double X[7] = {1, 2, 3, 4, 5, 6, 7};
    double y[7] = {0, 0, 1, 0, 1, 1, 1};
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 1;
    o.bootstrap = 0;
    o.max_depth = 1;
    sv_forest *f = train(X, 7, 1, y, &o, 1);
    const sv_tree *t = &f->trees[0];
    assert_int_equal(t->n_nodes, 3);
    assert_int_equal(t->feature[0], 0);
    assert_true(t->threshold[0] == 4.5);
    assert_int_equal(t->left[0], 1);
    assert_int_equal(t->right[0], 2);
    assert_true(fabs(t->value[0] - 4.0 / 7.0) < 1e-15);
    assert_true(fabs(t->impurity[0] - 24.0 / 49.0) < 1e-15);
    assert_true(t->value[1] == 0.25 && t->cover[1] == 4.0 && t->impurity[1] == 0.375);
    assert_true(t->value[2] == 1.0 && t->cover[2] == 3.0 && t->impurity[2] == 0.0);
    double dec = t->cover[0] * t->impurity[0] - t->cover[1] * t->impurity[1] -
                 t->cover[2] * t->impurity[2];
    assert_true(fabs(dec - 27.0 / 14.0) < 1e-14);
    double imp[1];
    sv_err err;
    assert_int_equal(sv_forest_importance_impurity(f, imp, &err), SV_OK);
    assert_true(imp[0] == 1.0);
    sv_forest_free(f);
}

/* Synthetic data: half the features with 2..6 levels, half continuous
 * (all distinct), y from a noisy rule; exercises both the counting and
 * the sorting split search. */
static void make_data(size_t n, size_t p, double *X, double *y, uint64_t seed)
{
    sv_rng r;
    sv_rng_init(&r, seed, 0);
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            X[j * n + i] = j % 2 == 0 ? (double)sv_rng_below(&r, 2 + j % 5)
                                      : sv_rng_uniform(&r);
    for (size_t i = 0; i < n; i++) {
        double s = X[i] + 2.0 * X[n + i] - 1.5 + 0.8 * sv_rng_normal(&r);
        y[i] = s > 0;
    }
}

/* Brute force for K classes with class weights w and either criterion: the smallest W_l H_l + W_r H_r (H: gini, or entropy in bits)
 * over every feature and boundary with min_leaf rows on each side. */
static double k_impurity(const double *c, int K, int entropy, double *W)
{
    double t = 0.0, h = 0.0;
    for (int k = 0; k < K; k++) t += c[k];
    for (int k = 0; k < K; k++) {
        double q = c[k] / t;
        if (entropy) h -= q > 0 ? q * log2(q) : 0.0;
        else h += q * q;
    }
    *W = t;
    return entropy ? h : 1.0 - h;
}

static double best_child_k(const double *X, const int32_t *y, int K, const double *w, int entropy,
                           size_t n, size_t p, const int *rows, size_t m, int min_leaf)
{
    double best = INFINITY;
    for (size_t j = 0; j < p; j++) {
        const double *x = X + j * n;
        for (size_t a = 0; a < m; a++) {
            double thr = x[rows[a]], l[8] = {0}, r[8] = {0};
            size_t nl = 0;
            for (size_t k = 0; k < m; k++) {
                if (x[rows[k]] <= thr) {
                    l[y[rows[k]]] += w[y[rows[k]]];
                    nl++;
                } else {
                    r[y[rows[k]]] += w[y[rows[k]]];
                }
            }
            if (nl < (size_t)min_leaf || m - nl < (size_t)min_leaf) continue;
            double wl, wr, hl = k_impurity(l, K, entropy, &wl), hr = k_impurity(r, K, entropy, &wr);
            if (wl * hl + wr * hr < best) best = wl * hl + wr * hr;
        }
    }
    return best;
}

typedef struct k_case {
    const double *X;
    const int32_t *y;
    int K, entropy, min_leaf;
    const double *w;
    size_t n, p;
} k_case;

static void check_node_k(const k_case *c, const sv_tree *t, int32_t k, int *rows, size_t m, int *checked)
{
    if (t->left[k] < 0) return;
    int32_t l = t->left[k], r = t->right[k];
    double brute = best_child_k(c->X, c->y, c->K, c->w, c->entropy, c->n, c->p, rows, m, c->min_leaf);
    double got = t->cover[l] * t->impurity[l] + t->cover[r] * t->impurity[r];
    if (fabs(got - brute) > 1e-9 * (1 + brute))
        fail_msg("K = %d, %s, node %d: children %.17g, brute force best %.17g", c->K,
                 c->entropy ? "entropy" : "gini", (int)k, got, brute);
    (*checked)++;
    int *tmp = malloc(m * sizeof *tmp);
    size_t nl = 0, nr = 0;
    const double *x = c->X + (size_t)t->feature[k] * c->n;
    for (size_t i = 0; i < m; i++)
        if (x[rows[i]] <= t->threshold[k]) tmp[nl++] = rows[i];
    for (size_t i = 0; i < m; i++)
        if (!(x[rows[i]] <= t->threshold[k])) tmp[nl + nr++] = rows[i];
    /* the children's covers are their rows' weights */
    double wl = 0.0, wr = 0.0;
    for (size_t i = 0; i < m; i++) *(i < nl ? &wl : &wr) += c->w[c->y[tmp[i]]];
    assert_true(fabs(t->cover[l] - wl) <= 1e-12 * wl && fabs(t->cover[r] - wr) <= 1e-12 * wr);
    memcpy(rows, tmp, m * sizeof *rows);
    free(tmp);
    check_node_k(c, t, l, rows, nl, checked);
    check_node_k(c, t, r, rows + nl, nr, checked);
}

/* With all rows once and every feature tried, every split is the best one
 * by brute force (the counting path at large nodes, sorting at small). */
static void test_splits_are_best_by_brute_force(void **state)
{
    (void)state;
    enum { N = 1200, P = 6 };
    double *X = malloc(N * P * sizeof *X), y[N];
    int32_t yk[N];
    const double w[2] = {1.0, 1.0};
    make_data(N, P, X, y, 17);
    for (size_t i = 0; i < N; i++) yk[i] = (int32_t)y[i];
    for (int min_leaf = 1; min_leaf <= 5; min_leaf += 4) {
        sv_forest_opts o;
        sv_forest_opts_default(&o);
        o.n_trees = 1;
        o.bootstrap = 0;
        o.mtry = P;
        o.min_leaf = min_leaf;
        o.max_depth = 8;
        sv_forest *f = train(X, N, P, y, &o, 1);
        int *rows = malloc(N * sizeof *rows);
        for (int i = 0; i < N; i++) rows[i] = i;
        int checked = 0;
        k_case c = {X, yk, 2, 0, min_leaf, w, N, P};
        check_node_k(&c, &f->trees[0], 0, rows, N, &checked);
        assert_true(checked > 20);
        free(rows);
        sv_forest_free(f);
    }
    free(X);
}

/* 3 classes (the unrolled scan) and 4 (the any-K loop), class weights,
 * gini and entropy: every split of an unbootstrapped tree with mtry = p is
 * the best one by brute force. */
static void test_k_class_splits_are_best_by_brute_force(void **state)
{
    (void)state;
    enum { N = 700, P = 5 };
    double *X = malloc(N * P * sizeof *X), *y = malloc(N * sizeof *y);
    int32_t *yk = malloc(N * sizeof *yk);
    make_data(N, P, X, y, 23);
    const double w[4] = {1.0, 2.5, 0.7, 1.3};
    for (int K = 3; K <= 4; K++) {
        for (size_t i = 0; i < N; i++)
            yk[i] = ((int32_t)y[i] + (X[N + i] > 0.5) + (K == 4 && X[3 * N + i] > 0.8)) % K;
        for (int run = 0; run < 4; run++) {
            sv_forest_opts o;
            sv_forest_opts_default(&o);
            o.n_trees = 1;
            o.bootstrap = 0;
            o.mtry = P;
            o.max_depth = 7;
            o.min_leaf = run % 2 ? 5 : 1;
            o.criterion = run < 2 ? SV_FOREST_GINI : SV_FOREST_ENTROPY;
            o.class_weight = SV_FOREST_CW_GIVEN;
            sv_err err;
            sv_ctx ctx = {.threads = 1};
            sv_forest *f = NULL;
            assert_int_equal(sv_forest_train_classes(X, N, P, yk, K, w, NULL, &o, &ctx, &f, &err), SV_OK);
            int *rows = malloc(N * sizeof *rows);
            for (int i = 0; i < N; i++) rows[i] = i;
            int checked = 0;
            k_case c = {X, yk, K, run >= 2, o.min_leaf, w, N, P};
            check_node_k(&c, &f->trees[0], 0, rows, N, &checked);
            assert_true(checked > 20);
            free(rows);
            sv_forest_free(f);
        }
    }
    free(X);
    free(y);
    free(yk);
}

/* Any thread count grows the same forest, bit for bit. */
static void test_threads_bitwise_identical(void **state)
{
    (void)state;
    enum { N = 700, P = 8 };
    double *X = malloc(N * P * sizeof *X), y[N], p1[N], pk[N];
    make_data(N, P, X, y, 3);
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 40;
    o.seed = 99;
    sv_forest *f1 = train(X, N, P, y, &o, 1);
    sv_ctx c1 = {.threads = 1};
    sv_err err;
    assert_null(f1->oob); /* made on demand */
    assert_int_equal(sv_forest_compute_oob(f1, X, N, P, &c1, &err), SV_OK);
    assert_int_equal(sv_forest_predict(f1, X, N, P, &c1, p1, &err), SV_OK);
    int threads[] = {2, 7};
    for (int k = 0; k < 2; k++) {
        sv_forest *f = train(X, N, P, y, &o, threads[k]);
        sv_ctx c = {.threads = threads[k]};
        assert_int_equal(sv_forest_predict(f, X, N, P, &c, pk, &err), SV_OK);
        assert_memory_equal(p1, pk, sizeof p1);
        assert_int_equal(sv_forest_compute_oob(f, X, N, P, &c, &err), SV_OK);
        assert_memory_equal(f1->oob, f->oob, sizeof p1);
        for (int32_t t = 0; t < o.n_trees; t++) {
            assert_int_equal(f->trees[t].n_nodes, f1->trees[t].n_nodes);
            assert_memory_equal(f->trees[t].threshold, f1->trees[t].threshold,
                                (size_t)f->trees[t].n_nodes * sizeof(double));
        }
        sv_forest_free(f);
    }
    sv_forest_free(f1);
    free(X);
}

/* The plain definition of a forest's prediction, walked here on the
 * sv_trees one row and one tree at a time: the sum of the leaf values in
 * tree order over the trees used (all, or those for which the row was out
 * of bag), divided by their count. */
static void predict_by_definition(const sv_forest *f, const double *X, size_t n, size_t p,
                                  int oob, double *out)
{
    size_t nout = (size_t)sv_forest_n_outputs(f);
    double *x = malloc(p * sizeof *x), *sum = malloc(nout * sizeof *sum);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) x[j] = X[j * n + i];
        double cnt = 0.0;
        for (size_t c = 0; c < nout; c++) sum[c] = 0.0;
        for (int32_t t = 0; t < f->n_trees; t++) {
            if (oob && (f->inbag[(size_t)t * f->inbag_words + (i >> 6)] >> (i & 63) & 1)) continue;
            const sv_tree *tr = &f->trees[t];
            int32_t k = 0;
            while (tr->left[k] >= 0) k = x[tr->feature[k]] <= tr->threshold[k] ? tr->left[k] : tr->right[k];
            for (size_t c = 0; c < nout; c++) sum[c] += tr->value[(size_t)k * nout + c];
            cnt += 1.0;
        }
        for (size_t c = 0; c < nout; c++)
            out[c * n + i] = oob ? (cnt > 0 ? sum[c] / cnt : NAN) : sum[c] / (double)f->n_trees;
    }
    free(x);
    free(sum);
}

/* Prediction and OOB prediction (packed trees walked several rows in
 * lockstep, in blocks, with a short last group of lanes) give bitwise the
 * values of the plain definition, for 3 classes and for regression, at 1
 * and 3 threads, with leaves grown to purity and with min_leaf 20 (3-class
 * leaves of both packed forms: a pure one's class in the node, a mixed
 * one's values read from the tree); NaN where a row was never out of bag. */
static void test_predict_matches_definition(void **state)
{
    (void)state;
    enum { N = 2500, P = 6, K = 3 };
    double *X = malloc(N * P * sizeof *X), *y = malloc(N * sizeof *y);
    double *got = malloc(N * K * sizeof *got), *want = malloc(N * K * sizeof *want);
    int32_t *yk = malloc(N * sizeof *yk);
    make_data(N, P, X, y, 11);
    for (size_t i = 0; i < N; i++) {
        yk[i] = (int32_t)y[i] + (X[N + i] > 0.7);
        y[i] = X[i] + 3.0 * X[N + i] + 0.5 * X[3 * N + i];
    }
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 5; /* about 0.632^5 = 10% of the rows never out of bag */
    sv_err err;
    size_t pure = 0, mixed = 0;
    for (int kind = 0; kind < 2; kind++) {
        for (int run = 0; run < 4; run++) {
            int threads = run % 2 ? 3 : 1;
            o.min_leaf = run < 2 ? 1 : 20;
            sv_ctx ctx = {.threads = threads};
            sv_forest *f = NULL;
            sv_status st = kind == 0
                ? sv_forest_train_classes(X, N, P, yk, K, NULL, NULL, &o, &ctx, &f, &err)
                : sv_forest_train_regression(X, N, P, y, NULL, &o, &ctx, &f, &err);
            assert_int_equal(st, SV_OK);
            size_t nout = (size_t)sv_forest_n_outputs(f);
            assert_int_equal(nout, kind == 0 ? K : 1);
            if (kind == 0)
                for (size_t q = 0; q < f->pnode_off[f->n_trees]; q++)
                    if (f->pnodes[q].feature == P) {
                        if (f->pnodes[q].tv < 0) pure++;
                        else mixed++;
                    }
            assert_int_equal(sv_forest_predict(f, X, N, P, &ctx, got, &err), SV_OK);
            predict_by_definition(f, X, N, P, 0, want);
            assert_memory_equal(got, want, N * nout * sizeof *got);
            assert_int_equal(sv_forest_compute_oob(f, X, N, P, &ctx, &err), SV_OK);
            predict_by_definition(f, X, N, P, 1, want);
            size_t never = 0;
            for (size_t i = 0; i < N; i++) never += isnan(want[i]);
            assert_true(never > 0 && never < N);
            for (size_t i = 0; i < N * nout; i++) {
                if (isnan(want[i])) assert_true(isnan(f->oob[i]));
                else assert_memory_equal(&f->oob[i], &want[i], sizeof *want);
            }
            sv_forest_free(f);
        }
    }
    assert_true(pure > 0 && mixed > 0);
    free(X);
    free(y);
    free(yk);
    free(got);
    free(want);
}

/* Permutation importance of a 3-class forest walks the packed trees
 * (pure leaves carry their class in the node) or, without the packed
 * copy, the sv_tree arrays: the same numbers to the bit, leaves grown to
 * purity and mixed ones (min_leaf 15), held-out and OOB. */
static void test_permutation_packed_equals_trees(void **state)
{
    (void)state;
    enum { N = 600, P = 5, K = 3 };
    double *X = malloc(N * P * sizeof *X), *y = malloc(N * sizeof *y);
    int32_t *yk = malloc(N * sizeof *yk);
    make_data(N, P, X, y, 5);
    for (size_t i = 0; i < N; i++) {
        yk[i] = (int32_t)y[i] + (X[N + i] > 0.6);
        y[i] = yk[i];
    }
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 20;
    sv_forest_perm_opts po;
    sv_forest_perm_opts_default(&po);
    po.repeats = 2;
    sv_err err;
    sv_ctx ctx = {.threads = 1};
    for (int run = 0; run < 4; run++) {
        o.min_leaf = run < 2 ? 1 : 15;
        po.oob = run % 2;
        sv_forest *f = NULL;
        assert_int_equal(sv_forest_train_classes(X, N, P, yk, K, NULL, NULL, &o, &ctx, &f, &err), SV_OK);
        double m1[P], s1[P], b1, m2[P], s2[P], b2;
        assert_int_equal(sv_forest_importance_permutation(f, X, N, P, y, &po, &ctx, m1, s1, &b1, &err),
                         SV_OK);
        free(f->pnodes);
        free(f->pnode_off);
        f->pnodes = NULL;
        f->pnode_off = NULL;
        assert_int_equal(sv_forest_importance_permutation(f, X, N, P, y, &po, &ctx, m2, s2, &b2, &err),
                         SV_OK);
        assert_memory_equal(&b1, &b2, sizeof b1);
        assert_memory_equal(m1, m2, sizeof m1);
        assert_memory_equal(s1, s2, sizeof s1);
        double spread = 0.0;
        for (int j = 0; j < P; j++) spread += fabs(m1[j]);
        assert_true(spread > 0.0);
        sv_forest_free(f);
    }
    free(X);
    free(y);
    free(yk);
}

/* Renumbers tree t of f so that every node's right subtree comes before
 * its left one (ids no longer in the packed order, so sv_forest_pack
 * walks the tree instead of copying it). */
static void renumber_right_first(sv_forest *f, int32_t t)
{
    sv_tree *tr = &f->trees[t], nt;
    int32_t n = tr->n_nodes, *newid = malloc((size_t)n * sizeof *newid);
    int32_t *stack = malloc((size_t)n * sizeof *stack), sp = 0, k = 0;
    stack[sp++] = 0;
    while (sp > 0) {
        int32_t id = stack[--sp];
        newid[id] = k++;
        if (tr->left[id] >= 0) {
            stack[sp++] = tr->left[id]; /* popped after the right subtree */
            stack[sp++] = tr->right[id];
        }
    }
    assert_int_equal(k, n);
    assert_int_equal(sv_tree_alloc_kind(&nt, n, tr->kind, tr->n_values), 0);
    for (int32_t id = 0; id < n; id++) {
        int32_t m = newid[id];
        nt.feature[m] = tr->feature[id];
        nt.threshold[m] = tr->threshold[id];
        nt.left[m] = tr->left[id] < 0 ? -1 : newid[tr->left[id]];
        nt.right[m] = tr->right[id] < 0 ? -1 : newid[tr->right[id]];
        nt.cover[m] = tr->cover[id];
        nt.impurity[m] = tr->impurity[id];
        for (int32_t c = 0; c < tr->n_values; c++)
            nt.value[(size_t)m * tr->n_values + c] = tr->value[(size_t)id * tr->n_values + c];
    }
    sv_tree_free(tr);
    *tr = nt;
    free(newid);
    free(stack);
}

/* sv_forest_pack copies a grown tree in node order and walks any other
 * tree in preorder: a forest with some trees renumbered (right subtree
 * first) packs to the same nodes, and predicts the same bits, 3 classes
 * and 2. */
static void test_pack_any_node_order(void **state)
{
    (void)state;
    enum { N = 800, P = 5 };
    double *X = malloc(N * P * sizeof *X), *y = malloc(N * sizeof *y);
    double *a = malloc(N * 3 * sizeof *a), *b = malloc(N * 3 * sizeof *b);
    int32_t *yk = malloc(N * sizeof *yk);
    make_data(N, P, X, y, 9);
    for (size_t i = 0; i < N; i++) yk[i] = (int32_t)y[i] + (X[N + i] > 0.6);
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 6;
    o.min_leaf = 3;
    sv_err err;
    sv_ctx ctx = {.threads = 1};
    for (int K = 2; K <= 3; K++) {
        sv_forest *f = NULL;
        if (K == 2) assert_int_equal(sv_forest_train(X, N, P, y, NULL, &o, &ctx, &f, &err), SV_OK);
        else assert_int_equal(sv_forest_train_classes(X, N, P, yk, K, NULL, NULL, &o, &ctx, &f, &err), SV_OK);
        size_t nout = (size_t)sv_forest_n_outputs(f), total = f->pnode_off[f->n_trees];
        sv_forest_pnode *before = malloc(total * sizeof *before);
        memcpy(before, f->pnodes, total * sizeof *before);
        assert_int_equal(sv_forest_predict(f, X, N, P, &ctx, a, &err), SV_OK);
        renumber_right_first(f, 1);
        renumber_right_first(f, 4);
        assert_true(f->trees[1].left[0] != 1);
        assert_int_equal(sv_forest_pack(f, &err), SV_OK);
        assert_int_equal(f->pnode_off[f->n_trees], total);
        assert_int_equal(sv_forest_predict(f, X, N, P, &ctx, b, &err), SV_OK);
        assert_memory_equal(a, b, N * nout * sizeof *a);
        /* trees 0, 2, 3, 5 copied, 1 and 4 walked: packed alike, except
         * that a walked K-class leaf's value index is its new node id */
        for (int32_t t = 0; t < f->n_trees; t++)
            for (size_t q = f->pnode_off[t]; q < f->pnode_off[t + 1]; q++) {
                assert_int_equal(before[q].feature, f->pnodes[q].feature);
                assert_int_equal(before[q].right, f->pnodes[q].right);
                if (before[q].feature < P || before[q].tv < 0 || nout == 1)
                    assert_memory_equal(&before[q].tv, &f->pnodes[q].tv, sizeof before[q].tv);
            }
        free(before);
        sv_forest_free(f);
    }
    free(X);
    free(y);
    free(yk);
    free(a);
    free(b);
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void rehash(unsigned char *b, size_t len)
{
    uint64_t h = fnv(b, len - 8);
    for (int k = 0; k < 8; k++) b[len - 8 + k] = (unsigned char)(h >> (8 * k));
}

/* A saved image loads back identical; every truncation and every single
 * flipped byte is refused; a structurally broken tree with a valid
 * checksum is refused by the structure checks. */
static void test_loader_refuses_damage(void **state)
{
    (void)state;
    enum { N = 60, P = 3 };
    double X[N * P], y[N];
    make_data(N, P, X, y, 5);
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 2;
    o.max_depth = 2;
    sv_forest *f = train(X, N, P, y, &o, 1);
    unsigned char *buf;
    size_t len;
    sv_err err;
    sv_ctx c1 = {.threads = 1};
    assert_int_equal(sv_forest_compute_oob(f, X, N, P, &c1, &err), SV_OK);
    assert_int_equal(sv_forest_save_mem(f, &buf, &len, &err), SV_OK);
    sv_forest *g = NULL;
    assert_int_equal(sv_forest_load_mem(buf, len, &g, &err), SV_OK);
    for (int32_t t = 0; t < f->n_trees; t++) {
        assert_int_equal(g->trees[t].n_nodes, f->trees[t].n_nodes);
        assert_memory_equal(g->trees[t].value, f->trees[t].value,
                            (size_t)f->trees[t].n_nodes * sizeof(double));
    }
    assert_memory_equal(g->oob, f->oob, N * sizeof(double));
    sv_forest_free(g);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(sv_forest_load_mem(buf, cut, &g, &err), SV_EFORMAT);
        assert_null(g);
    }
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(sv_forest_load_mem(buf, len, &g, &err), SV_EFORMAT);
            buf[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* Locate tree 1's left array: header 24, fixed options 60 bytes, the
     * kinds section (kind, 2 classes, no labels, 2 class weights), the
     * names, n_train + has_oob + OOB, then n_nodes, n_values and feature[]
     * and threshold[]; point the root's left child at itself. */
    size_t pos = 24 + 8 + 60 + 12 + 16;
    for (int j = 0; j < P; j++) pos += 4 + strlen(f->feature_names[j]);
    pos += 12 + 8 * N;
    int32_t m = f->trees[0].n_nodes;
    assert_true(m > 1);
    pos += 8 + 4 * (size_t)m + 8 * (size_t)m; /* start of left[] */
    unsigned char saved[4];
    memcpy(saved, buf + pos, 4);
    memset(buf + pos, 0, 4); /* left[0] = 0: not greater than the parent */
    rehash(buf, len);
    assert_int_equal(sv_forest_load_mem(buf, len, &g, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "invalid children"));
    memcpy(buf + pos, saved, 4);
    /* feature of the root out of range */
    size_t fpos = pos - 8 * (size_t)m - 4 * (size_t)m;
    buf[fpos] = 9;
    rehash(buf, len);
    assert_int_equal(sv_forest_load_mem(buf, len, &g, &err), SV_EFORMAT);
    assert_non_null(strstr(err.msg, "feature 9 out of range"));
    free(buf);
    sv_forest_free(f);
}

static void put32(unsigned char *b, uint32_t v)
{
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> (8 * k));
}

static void put64d(unsigned char *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
}

/* Regression: a checksum-valid model file with absurd training options
 * (mtry -7, a NaN sample fraction, a negative class weight, max_depth -1)
 * loaded, predicted and saved again. The loader now runs the checker
 * training uses (docs/errors.md E-MODEL-OPTIONS): each damaged option is
 * refused with a message naming it. Option offsets (docs/forest.md): the
 * payload starts at 24 with n_trees, n_features, then mtry at 32,
 * min_leaf 36, min_split 40, max_depth 44, criterion 48, bootstrap 52,
 * sample_fraction 56, class_weight 64, w0 68, w1 76. */
static void test_loader_refuses_absurd_options(void **state)
{
    (void)state;
    enum { N = 40, P = 3 };
    double X[N * P], y[N];
    make_data(N, P, X, y, 9);
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = 2;
    sv_forest *f = train(X, N, P, y, &o, 1);
    unsigned char *buf;
    size_t len;
    sv_err err;
    assert_int_equal(sv_forest_save_mem(f, &buf, &len, &err), SV_OK);
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    sv_forest *g = NULL;
    static const struct {
        size_t off;
        int is_double;
        double v;
        const char *msg;
    } cases[] = {
        {32, 0, -7, "mtry must be in [1, 3], got -7"},
        {32, 0, 0, "mtry must be in [1, 3], got 0"},
        {32, 0, 4, "mtry must be in [1, 3], got 4"},
        {36, 0, 0, "min_leaf must be >= 1, got 0"},
        {40, 0, 1, "min_split must be >= 2, got 1"},
        {44, 0, -1, "max_depth must be >= 0, got -1"},
        {56, 1, NAN, "sample_fraction must be in (0, 1], got nan"},
        {56, 1, 1.5, "sample_fraction must be in (0, 1], got 1.5"},
        {68, 1, -2, "class weights must be finite and > 0"},
        {76, 1, INFINITY, "class weights must be finite and > 0"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(copy, buf, len);
        if (cases[k].is_double) put64d(copy + cases[k].off, cases[k].v);
        else put32(copy + cases[k].off, (uint32_t)(int32_t)cases[k].v);
        rehash(copy, len);
        assert_int_equal(sv_forest_load_mem(copy, len, &g, &err), SV_EFORMAT);
        assert_null(g);
        assert_non_null(strstr(err.msg, "invalid training options: "));
        if (!strstr(err.msg, cases[k].msg)) fail_msg("case %zu: got '%s'", k, err.msg);
    }
    /* the untouched file (mtry 1 = floor(sqrt(3)), weights 1, 1) loads */
    assert_int_equal(sv_forest_load_mem(buf, len, &g, &err), SV_OK);
    assert_int_equal(g->opts.mtry, 1);
    sv_forest_free(g);
    free(copy);
    free(buf);
    sv_forest_free(f);
}

/* Bad input is refused with a message, never trained on. */
static void test_bad_input(void **state)
{
    (void)state;
    double X[4] = {1, 2, 3, NAN}, y[4] = {0, 1, 0, 1};
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    sv_forest *f = NULL;
    sv_err err;
    sv_ctx ctx = {.threads = 1};
    assert_int_equal(sv_forest_train(X, 4, 1, y, NULL, &o, &ctx, &f, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "NaN at row 4, column 1"));
    X[3] = 4;
    y[1] = 0.5;
    assert_int_equal(sv_forest_train(X, 4, 1, y, NULL, &o, &ctx, &f, &err), SV_EINVAL);
    y[1] = 0;
    y[3] = 0;
    assert_int_equal(sv_forest_train(X, 4, 1, y, NULL, &o, &ctx, &f, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "only class 0"));
    y[3] = 1;
    o.mtry = 2;
    assert_int_equal(sv_forest_train(X, 4, 1, y, NULL, &o, &ctx, &f, &err), SV_EINVAL);
    o.mtry = 0;
    o.n_trees = 0;
    assert_int_equal(sv_forest_train(X, 4, 1, y, NULL, &o, &ctx, &f, &err), SV_EINVAL);
    assert_int_equal(sv_forest_train(X, 0, 1, y, NULL, &o, &ctx, &f, &err), SV_EINVAL);
    assert_null(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stump_by_hand),
        cmocka_unit_test(test_splits_are_best_by_brute_force),
        cmocka_unit_test(test_k_class_splits_are_best_by_brute_force),
        cmocka_unit_test(test_threads_bitwise_identical),
        cmocka_unit_test(test_predict_matches_definition),
        cmocka_unit_test(test_permutation_packed_equals_trees),
        cmocka_unit_test(test_pack_any_node_order),
        cmocka_unit_test(test_loader_refuses_damage),
        cmocka_unit_test(test_loader_refuses_absurd_options),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
