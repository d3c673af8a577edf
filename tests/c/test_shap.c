/*
 * test_shap.c - TreeSHAP against hand-worked cases, a brute-force oracle
 * over all 2^p coalitions, and the invariants (additivity, symmetry, null
 * features, thread-count independence).
 *
 * The oracle below is written from the definitions only: v(S) is computed
 * by the conditional-expectation recursion of the path-dependent game (or
 * by evaluating hybrid rows for the interventional game), then the Shapley
 * value and the Shapley interaction index are summed over every coalition
 * with their factorial weights. It shares no code with engine/shap.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_core.h"
#include "sv_forest.h"
#include "sv_rng.h"
#include "sv_shap.h"

/* ---- tree building -------------------------------------------------- */

typedef struct builder {
    int n, cap;
    int32_t *feat, *left, *right;
    double *thr, *val, *cov;
} builder;

static int b_node(builder *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->feat = realloc(b->feat, (size_t)b->cap * sizeof *b->feat);
        b->left = realloc(b->left, (size_t)b->cap * sizeof *b->left);
        b->right = realloc(b->right, (size_t)b->cap * sizeof *b->right);
        b->thr = realloc(b->thr, (size_t)b->cap * sizeof *b->thr);
        b->val = realloc(b->val, (size_t)b->cap * sizeof *b->val);
        b->cov = realloc(b->cov, (size_t)b->cap * sizeof *b->cov);
        assert_non_null(b->feat);
        assert_non_null(b->cov);
    }
    int id = b->n++;
    b->feat[id] = -1;
    b->left[id] = b->right[id] = -1;
    b->thr[id] = 0;
    return id;
}

static void b_finish(builder *b, sv_tree *t)
{
    assert_int_equal(sv_tree_alloc(t, b->n), 0);
    memcpy(t->feature, b->feat, (size_t)b->n * sizeof *b->feat);
    memcpy(t->left, b->left, (size_t)b->n * sizeof *b->left);
    memcpy(t->right, b->right, (size_t)b->n * sizeof *b->right);
    memcpy(t->threshold, b->thr, (size_t)b->n * sizeof *b->thr);
    memcpy(t->value, b->val, (size_t)b->n * sizeof *b->val);
    memcpy(t->cover, b->cov, (size_t)b->n * sizeof *b->cov);
    free(b->feat);
    free(b->left);
    free(b->right);
    free(b->thr);
    free(b->val);
    free(b->cov);
    memset(b, 0, sizeof *b);
}

/* Synthetic training data: points on a coarse grid (so rows often equal a
 * threshold, exercising "x <= threshold goes left"), labels and weights. */
typedef struct data {
    int n, p;
    double *x; /* row-major n x p */
    double *y, *w;
} data;

static void data_make(data *d, int n, int p, sv_rng *r)
{
    d->n = n;
    d->p = p;
    d->x = malloc((size_t)n * (size_t)p * sizeof *d->x);
    d->y = malloc((size_t)n * sizeof *d->y);
    d->w = malloc((size_t)n * sizeof *d->w);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < p; j++) {
            d->x[i * p + j] = floor(sv_rng_uniform(r) * 32.0) / 32.0;
            s += (j % 2 ? -1.0 : 1.0) * d->x[i * p + j];
        }
        d->y[i] = sv_rng_uniform(r) < 1.0 / (1.0 + exp(-3.0 * s)) ? 1.0 : 0.0;
        d->w[i] = 0.5 + sv_rng_uniform(r) * 1.5;
    }
}

static void data_free(data *d)
{
    free(d->x);
    free(d->y);
    free(d->w);
}

/* Grows a random tree on the rows idx[0..cnt): random feature, split at a
 * random order statistic skewed towards peeling off small groups, so that
 * trees on a few hundred points reach depth 20-40. `used` restricts the
 * features (a feature outside it is never split on). */
static int grow(builder *b, const data *d, int *idx, int cnt, int depth, int max_depth,
                int n_used, sv_rng *r)
{
    int id = b_node(b);
    double wsum = 0, wy = 0;
    for (int i = 0; i < cnt; i++) {
        wsum += d->w[idx[i]];
        wy += d->w[idx[i]] * d->y[idx[i]];
    }
    b->cov[id] = wsum;
    b->val[id] = wy / wsum;
    if (cnt < 2 || depth >= max_depth || wy == 0 || wy == wsum) return id;
    for (int attempt = 0; attempt < 8; attempt++) {
        int j = (int)sv_rng_below(r, (uint64_t)n_used);
        /* sort the node's values of j (insertion sort: nodes are small) */
        double *v = malloc((size_t)cnt * sizeof *v);
        for (int i = 0; i < cnt; i++) v[i] = d->x[idx[i] * d->p + j];
        for (int i = 1; i < cnt; i++) {
            double key = v[i];
            int k = i - 1;
            while (k >= 0 && v[k] > key) {
                v[k + 1] = v[k];
                k--;
            }
            v[k + 1] = key;
        }
        double u = sv_rng_uniform(r);
        u = u * u * u;
        int s = 1 + (int)(u * (cnt - 1));
        if (s >= cnt) s = cnt - 1;
        if (sv_rng_uniform(r) < 0.5) s = cnt - s;
        double thr = v[s - 1];
        free(v);
        int nl = 0;
        for (int i = 0; i < cnt; i++) nl += d->x[idx[i] * d->p + j] <= thr;
        if (nl == 0 || nl == cnt) continue;
        /* partition idx in place: left rows first */
        int lo = 0;
        for (int i = 0; i < cnt; i++)
            if (d->x[idx[i] * d->p + j] <= thr) {
                int t = idx[i];
                idx[i] = idx[lo];
                idx[lo++] = t;
            }
        b->feat[id] = j;
        b->thr[id] = thr;
        int l = grow(b, d, idx, nl, depth + 1, max_depth, n_used, r);
        b->left[id] = l;
        int rr = grow(b, d, idx + nl, cnt - nl, depth + 1, max_depth, n_used, r);
        b->right[id] = rr;
        return id;
    }
    return id;
}

/* A forest of n_trees random trees on bootstrap-like subsets of d. */
static void forest_make(sv_forest *f, const data *d, int n_trees, int max_depth, int n_used,
                        sv_rng *r)
{
    memset(f, 0, sizeof *f); /* a binary classification forest */
    f->n_trees = n_trees;
    f->n_features = d->p;
    f->feature_names = NULL;
    f->trees = calloc((size_t)n_trees, sizeof *f->trees);
    int *idx = malloc((size_t)d->n * sizeof *idx);
    for (int t = 0; t < n_trees; t++) {
        int cnt = 0;
        for (int i = 0; i < d->n; i++)
            if (sv_rng_uniform(r) < 0.8) idx[cnt++] = i;
        builder b = {0};
        grow(&b, d, idx, cnt, 0, max_depth, n_used, r);
        b_finish(&b, &f->trees[t]);
    }
    free(idx);
}

static void forest_free(sv_forest *f)
{
    for (int t = 0; t < f->n_trees; t++) sv_tree_free(&f->trees[t]);
    free(f->trees);
}

static int forest_depth(const sv_forest *f)
{
    int best = 0;
    for (int t = 0; t < f->n_trees; t++) {
        int d = sv_tree_depth(&f->trees[t]);
        if (d > best) best = d;
    }
    return best;
}

/* Column-major n x p matrix of rows: half training points, half fresh. */
static double *rows_make(const data *d, int n, sv_rng *r)
{
    double *X = malloc((size_t)n * (size_t)d->p * sizeof *X);
    for (int i = 0; i < n; i++) {
        int from = (int)sv_rng_below(r, (uint64_t)d->n);
        for (int j = 0; j < d->p; j++)
            X[(size_t)j * n + i] = i % 2 ? d->x[from * d->p + j]
                                          : floor(sv_rng_uniform(r) * 32.0) / 32.0;
    }
    return X;
}

/* ---- the brute-force oracle --------------------------------------------- */

/* E[tree | x_S] of the path-dependent game: follow x on features in S,
 * else average the children weighted by their share of the node's cover. */
static double oracle_cond(const sv_tree *t, int node, const double *x, unsigned S)
{
    if (t->left[node] < 0) return t->value[node];
    int j = t->feature[node];
    int l = t->left[node], r = t->right[node];
    if (S & (1u << j)) return oracle_cond(t, x[j] <= t->threshold[node] ? l : r, x, S);
    return t->cover[l] / t->cover[node] * oracle_cond(t, l, x, S) +
           t->cover[r] / t->cover[node] * oracle_cond(t, r, x, S);
}

static double oracle_leaf(const sv_tree *t, const double *x)
{
    int node = 0;
    while (t->left[node] >= 0)
        node = x[t->feature[node]] <= t->threshold[node] ? t->left[node] : t->right[node];
    return t->value[node];
}

static double fact(int k)
{
    double r = 1;
    for (int i = 2; i <= k; i++) r *= i;
    return r;
}

/* v[S] for all 2^p coalitions; bg == NULL gives the path-dependent game,
 * else the interventional game over nb background rows (row-major). */
static void oracle_game(const sv_forest *f, const double *x, const double *bg, int nb, double *v)
{
    int p = f->n_features;
    double *z = malloc((size_t)p * sizeof *z);
    for (unsigned S = 0; S < (1u << p); S++) {
        double s = 0;
        if (!bg) {
            for (int t = 0; t < f->n_trees; t++) s += oracle_cond(&f->trees[t], 0, x, S);
            s /= f->n_trees;
        } else {
            for (int b = 0; b < nb; b++) {
                for (int j = 0; j < p; j++) z[j] = (S & (1u << j)) ? x[j] : bg[b * p + j];
                double fb = 0;
                for (int t = 0; t < f->n_trees; t++) fb += oracle_leaf(&f->trees[t], z);
                s += fb / f->n_trees;
            }
            s /= nb;
        }
        v[S] = s;
    }
    free(z);
}

/* Shapley values: sum over S without j of s!(p-s-1)!/p! (v(S+j) - v(S)). */
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

/* Lundberg's interaction values: off-diagonal half the Shapley interaction
 * index, sum over S without i, j of s!(p-s-2)!/(2 (p-1)!) times the
 * discrete second difference; diagonal phi_i minus the off-diagonals. */
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

static double forest_pred(const sv_forest *f, const double *x)
{
    double s = 0;
    for (int t = 0; t < f->n_trees; t++) s += oracle_leaf(&f->trees[t], x);
    return s / f->n_trees;
}

/* ---- tests ---------------------------------------------------------------- */

/* The m-point rule integrates t^k over [0,1] (= 1/(k+1)) exactly for
 * k <= 2m - 1, to rounding, for every m up to 40. */
static void test_gauss_legendre_exact_degree(void **state)
{
    (void)state;
    double t[40], w[40];
    for (int m = 1; m <= 40; m++) {
        sv_shap_gauss_legendre(m, t, w);
        for (int i = 0; i + 1 < m; i++) assert_true(t[i] < t[i + 1]);
        for (int k = 0; k <= 2 * m - 1; k++) {
            double s = 0;
            for (int i = 0; i < m; i++) s += w[i] * pow(t[i], k);
            assert_true(fabs(s - 1.0 / (k + 1)) < 1e-14);
        }
    }
}

/* Hand-worked depth-2 tree over 2 features (covers in brackets):
 *   root: x0 <= 0.5 [10] -> node1 ; else leaf 0.5 [6]
 *   node1: x1 <= 0.5 [4] -> leaf 1.0 [1] ; else leaf 0.0 [3]
 * x = (0, 0) reaches the leaf 1.0. Path-dependent game:
 *   v()  = 0.4 (0.25*1 + 0.75*0) + 0.6*0.5 = 0.4,  v(0) = 0.25,
 *   v(1) = 0.4*1 + 0.6*0.5 = 0.7,                   v(01) = 1.
 *   phi0 = ((0.25-0.4) + (1-0.7))/2 = 0.075, phi1 = ((0.7-0.4) + (1-0.25))/2 = 0.525.
 *   Phi01 = (1 - 0.25 - 0.7 + 0.4)/2 = 0.225, Phi00 = 0.075 - 0.225 = -0.15,
 *   Phi11 = 0.525 - 0.225 = 0.3.
 * Interventional with one background row b = (1, 1) (f(b) = 0.5):
 *   v() = 0.5, v(0) = f(0, 1) = 0, v(1) = f(1, 0) = 0.5, v(01) = 1,
 *   phi0 = ((0-0.5) + (1-0.5))/2 = 0, phi1 = ((0.5-0.5) + (1-0))/2 = 0.5. */
static void build_hand_tree(sv_forest *f, sv_tree *t)
{
    memset(f, 0, sizeof *f); /* a binary classification forest */
    assert_int_equal(sv_tree_alloc(t, 5), 0);
    int32_t feat[5] = {0, 1, -1, -1, -1}, left[5] = {1, 2, -1, -1, -1},
            right[5] = {4, 3, -1, -1, -1};
    double thr[5] = {0.5, 0.5, 0, 0, 0}, val[5] = {0.4, 0.25, 1.0, 0.0, 0.5},
           cov[5] = {10, 4, 1, 3, 6};
    for (int i = 0; i < 5; i++) {
        t->feature[i] = feat[i];
        t->left[i] = left[i];
        t->right[i] = right[i];
        t->threshold[i] = thr[i];
        t->value[i] = val[i];
        t->cover[i] = cov[i];
    }
    f->n_trees = 1;
    f->n_features = 2;
    f->trees = t;
    f->feature_names = NULL;
}

static void test_hand_worked_tree(void **state)
{
    (void)state;
    sv_forest f;
    sv_tree t;
    build_hand_tree(&f, &t);
    double X[2] = {0, 0}, phi[2], base, inter[4];
    sv_err err;
    for (int a = SV_SHAP_LINEAR; a <= SV_SHAP_TABLE; a++) {
        sv_shap_opts o = {.algorithm = (sv_shap_algorithm)a};
        assert_int_equal(sv_shap_values(&f, X, 1, &o, NULL, phi, &base, &err), SV_OK);
        assert_true(fabs(base - 0.4) < 1e-15);
        assert_true(fabs(phi[0] - 0.075) < 1e-15);
        assert_true(fabs(phi[1] - 0.525) < 1e-15);
    }
    assert_int_equal(sv_shap_interactions(&f, X, 1, NULL, NULL, inter, &base, &err), SV_OK);
    assert_true(fabs(inter[0] + 0.15) < 1e-15);
    assert_true(fabs(inter[1] - 0.225) < 1e-15);
    assert_true(fabs(inter[2] - 0.225) < 1e-15);
    assert_true(fabs(inter[3] - 0.3) < 1e-15);
    double B[2] = {1, 1};
    sv_shap_opts o = {.background = B, .n_background = 1};
    assert_int_equal(sv_shap_values(&f, X, 1, &o, NULL, phi, &base, &err), SV_OK);
    assert_true(fabs(base - 0.5) < 1e-15);
    assert_true(fabs(phi[0]) < 1e-15);
    assert_true(fabs(phi[1] - 0.5) < 1e-15);
    sv_tree_free(&t);
}

/* Runs one random configuration against the oracle; returns the largest
 * absolute difference seen over values (both algorithms), interactions and
 * interventional values. */
static double oracle_compare(uint64_t seed, int p, int n_trees, int max_depth, int n_rows,
                             int *depth_out)
{
    sv_rng r;
    sv_rng_init(&r, seed, 0);
    data d;
    data_make(&d, 400, p, &r);
    sv_forest f;
    forest_make(&f, &d, n_trees, max_depth, p, &r);
    *depth_out = forest_depth(&f);
    double *X = rows_make(&d, n_rows, &r);
    int nb = 5;
    double *B = rows_make(&d, nb, &r);
    double *Brow = malloc((size_t)nb * p * sizeof *Brow);
    for (int b = 0; b < nb; b++)
        for (int j = 0; j < p; j++) Brow[b * p + j] = B[(size_t)j * nb + b];

    size_t np = (size_t)n_rows * p;
    double *phi_lin = malloc(np * sizeof *phi_lin), *phi_ref = malloc(np * sizeof *phi_ref);
    double *phi_tab = malloc(np * sizeof *phi_tab);
    double *phi_int = malloc(np * sizeof *phi_int);
    double *inter = malloc(np * p * sizeof *inter);
    double base_lin, base_ref, base_int, base_inter, base_tab;
    sv_err err;
    sv_shap_opts ol = {.algorithm = SV_SHAP_LINEAR}, orf = {.algorithm = SV_SHAP_REFERENCE};
    sv_shap_opts oi = {.background = B, .n_background = (size_t)nb};
    sv_ctx ctx = {.threads = 2};
    assert_int_equal(sv_shap_values(&f, X, n_rows, &ol, &ctx, phi_lin, &base_lin, &err), SV_OK);
    assert_int_equal(sv_shap_values(&f, X, n_rows, &orf, &ctx, phi_ref, &base_ref, &err), SV_OK);
    sv_shap_opts ot = {.algorithm = SV_SHAP_TABLE};
    assert_int_equal(sv_shap_values(&f, X, n_rows, &ot, &ctx, phi_tab, &base_tab, &err), SV_OK);
    assert_int_equal(sv_shap_values(&f, X, n_rows, &oi, &ctx, phi_int, &base_int, &err), SV_OK);
    assert_int_equal(sv_shap_interactions(&f, X, n_rows, NULL, &ctx, inter, &base_inter, &err),
                     SV_OK);

    double *v = malloc(((size_t)1 << p) * sizeof *v);
    double x[16] = {0}, phi[16], io[16 * 16]; /* x is read (unused) by oracle_game for S != 0 */
    double worst = 0;
#define UPD(a, b)                                     \
    do {                                              \
        double e_ = fabs((a) - (b));                  \
        if (!(e_ <= worst)) worst = isnan(e_) ? INFINITY : e_; \
    } while (0)
    oracle_game(&f, x, NULL, 0, v); /* x unused for S = 0 */
    UPD(base_lin, v[0]);
    UPD(base_ref, v[0]);
    UPD(base_tab, v[0]);
    UPD(base_inter, v[0]);
    for (int i = 0; i < n_rows; i++) {
        for (int j = 0; j < p; j++) x[j] = X[(size_t)j * n_rows + i];
        oracle_game(&f, x, NULL, 0, v);
        oracle_shapley(p, v, phi);
        oracle_interactions(p, v, phi, io);
        for (int j = 0; j < p; j++) {
            UPD(phi_lin[(size_t)j * n_rows + i], phi[j]);
            UPD(phi_ref[(size_t)j * n_rows + i], phi[j]);
            UPD(phi_tab[(size_t)j * n_rows + i], phi[j]);
            for (int k = 0; k < p; k++) UPD(inter[((size_t)i * p + k) * p + j], io[k * p + j]);
        }
        oracle_game(&f, x, Brow, nb, v);
        if (i == 0) UPD(base_int, v[0]);
        oracle_shapley(p, v, phi);
        for (int j = 0; j < p; j++) UPD(phi_int[(size_t)j * n_rows + i], phi[j]);
    }
#undef UPD
    free(v);
    free(phi_lin);
    free(phi_ref);
    free(phi_tab);
    free(phi_int);
    free(inter);
    free(X);
    free(B);
    free(Brow);
    forest_free(&f);
    data_free(&d);
    return worst;
}

/* Linear, reference, table, interaction and interventional values all agree with
 * the brute-force Shapley values to 1e-10 on random forests over p <= 10
 * features whose trees reach depth 20-40 (features repeat along paths). */
static void test_oracle_random_forests(void **state)
{
    (void)state;
    struct { int p, trees, max_depth, rows; } cfg[] = {
        {2, 3, 40, 6}, {3, 4, 40, 6}, {5, 3, 40, 5}, {8, 3, 40, 4}, {10, 2, 45, 3},
        {6, 5, 4, 6}, /* shallow trees too */
    };
    int deep = 0;
    double worst_all = 0;
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        int depth;
        double worst = oracle_compare(100 + c, cfg[c].p, cfg[c].trees, cfg[c].max_depth,
                                      cfg[c].rows, &depth);
        if (depth >= 20) deep++;
        print_message("oracle p=%d trees=%d depth=%d: max |diff| = %.3g\n", cfg[c].p,
                      cfg[c].trees, depth, worst);
        if (worst > worst_all) worst_all = worst;
    }
    assert_true(deep >= 4);
    assert_true(worst_all <= 1e-10);
}

/* A chain of the given depth over p features: node k splits, one child is
 * a leaf and the other continues. With r, features, thresholds, covers,
 * values and sides are random; without, node k splits feature k at 0.5,
 * its leaf takes 30 % of the cover and the chain continues right. Children
 * ids exceed parents: the leaf is allocated after its parent and the
 * continuation after both. */
static void chain_make(sv_tree *t, int depth, int p, sv_rng *r)
{
    builder b = {0};
    int prev = -1, prev_side = 0;
    double cov = 1e6;
    for (int k = 0; k <= depth; k++) {
        int id = b_node(&b);
        if (prev >= 0) {
            if (prev_side) b.right[prev] = id;
            else b.left[prev] = id;
        }
        b.cov[id] = cov;
        b.val[id] = r ? sv_rng_uniform(r) : 0.01 * k;
        if (k == depth) break;
        b.feat[id] = r ? (int)sv_rng_below(r, (uint64_t)p) : k % p;
        b.thr[id] = r ? sv_rng_uniform(r) : 0.5;
        int leaf = b_node(&b);
        double share = r ? 0.05 + 0.4 * sv_rng_uniform(r) : 0.3;
        b.cov[leaf] = cov * share;
        b.val[leaf] = r ? sv_rng_uniform(r) : 1.0 - 0.03 * k;
        int cont_right = r ? sv_rng_uniform(r) < 0.5 : 1;
        if (cont_right) b.left[id] = leaf;
        else b.right[id] = leaf;
        prev = id;
        prev_side = cont_right;
        cov *= 1 - share;
    }
    b_finish(&b, t);
}

/* A depth-40 chain where every split is on one of 3 features: each feature
 * repeats more than 10 times along the path, the hard case for the
 * telescoping of repeated features. Checked against the oracle. */
static void test_oracle_deep_chain(void **state)
{
    (void)state;
    sv_rng r;
    sv_rng_init(&r, 7, 1);
    int p = 3, depth = 40;
    sv_tree t;
    chain_make(&t, depth, p, &r);
    assert_int_equal(sv_tree_depth(&t), depth);
    sv_forest f = {.n_trees = 1, .n_features = p, .trees = &t};
    double worst = 0;
    for (int trial = 0; trial < 20; trial++) {
        double x[3], v[8], phi[3], got[3], gotr[3], base;
        for (int j = 0; j < p; j++) x[j] = sv_rng_uniform(&r);
        oracle_game(&f, x, NULL, 0, v);
        oracle_shapley(p, v, phi);
        sv_err err;
        sv_shap_opts ol = {.algorithm = SV_SHAP_LINEAR}, orf = {.algorithm = SV_SHAP_REFERENCE};
        sv_shap_opts ot = {.algorithm = SV_SHAP_TABLE};
        double gott[3];
        assert_int_equal(sv_shap_values(&f, x, 1, &ol, NULL, got, &base, &err), SV_OK);
        assert_int_equal(sv_shap_values(&f, x, 1, &orf, NULL, gotr, &base, &err), SV_OK);
        assert_int_equal(sv_shap_values(&f, x, 1, &ot, NULL, gott, &base, &err), SV_OK);
        for (int j = 0; j < p; j++) {
            worst = fmax(worst, fabs(got[j] - phi[j]));
            worst = fmax(worst, fabs(gotr[j] - phi[j]));
            worst = fmax(worst, fabs(gott[j] - phi[j]));
        }
    }
    print_message("deep chain (depth 40, p=3): max |diff| = %.3g\n", worst);
    assert_true(worst <= 1e-10);
    sv_tree_free(&t);
}

/* The table algorithm on a chain whose paths split on 20 distinct
 * features: asked for, it is refused with the limit named; automatic, the
 * linear walk runs instead (same bits). On the same chain over 16 features
 * (the limit: leaf tables of 2^16 rows) it runs and agrees with the linear
 * walk. */
static void test_table_limits(void **state)
{
    (void)state;
    for (int p = 16; p <= 20; p += 4) {
        sv_tree t;
        chain_make(&t, p, p, NULL);
        sv_forest f = {.n_trees = 1, .n_features = p, .trees = &t};
        size_t n = 2000;
        double *X = malloc(n * (size_t)p * sizeof *X), *pa = malloc(n * (size_t)p * sizeof *pa);
        double *pl = malloc(n * (size_t)p * sizeof *pl);
        for (size_t i = 0; i < n * (size_t)p; i++) X[i] = (double)((i * 2654435761u) % 1000) / 999.0;
        sv_err err;
        double base;
        sv_shap_opts ot = {.algorithm = SV_SHAP_TABLE}, ol = {.algorithm = SV_SHAP_LINEAR};
        sv_status st = sv_shap_values(&f, X, n, &ot, NULL, pa, &base, &err);
        if (p > 16) {
            assert_int_equal(st, SV_EINVAL);
            assert_non_null(strstr(err.msg, "at most 16 distinct features per root-to-leaf path"));
            assert_int_equal(sv_shap_values(&f, X, n, NULL, NULL, pa, &base, &err), SV_OK);
        } else {
            assert_int_equal(st, SV_OK);
            /* blocks of other sizes on 3 threads: the same bits */
            double *p3 = malloc(n * (size_t)p * sizeof *p3);
            sv_ctx c3 = {.threads = 3};
            assert_int_equal(sv_shap_values(&f, X, n, &ot, &c3, p3, &base, &err), SV_OK);
            assert_memory_equal(p3, pa, n * (size_t)p * sizeof *p3);
            free(p3);
        }
        assert_int_equal(sv_shap_values(&f, X, n, &ol, NULL, pl, &base, &err), SV_OK);
        double worst = 0;
        int same = 1;
        for (size_t i = 0; i < n * (size_t)p; i++) {
            worst = fmax(worst, fabs(pa[i] - pl[i]));
            same &= pa[i] == pl[i];
        }
        assert_true(worst <= 1e-12);
        if (p > 16) assert_true(same); /* automatic = linear, bit for bit */
        free(X);
        free(pa);
        free(pl);
        sv_tree_free(&t);
    }
}

/* On wider, deeper forests (p = 30, depth up to 60) where the oracle is out
 * of reach: base + row sum = prediction to 1e-12 for every row (linear and
 * interventional; 1e-11 for Algorithm 2), linear = reference to 1e-11, interaction
 * rows sum to the SHAP values, the interaction matrix is symmetric, a
 * feature never split on gets exactly 0, and results are bitwise identical
 * for 1, 2 and 3 threads. */
static void test_invariants_wide_deep(void **state)
{
    (void)state;
    sv_rng r;
    sv_rng_init(&r, 2024, 0);
    int p = 30, used = 26, n = 40, T = 6;
    data d;
    data_make(&d, 1500, p, &r);
    sv_forest f;
    forest_make(&f, &d, T, 60, used, &r);
    print_message("wide forest depth = %d\n", forest_depth(&f));
    assert_true(forest_depth(&f) >= 20);
    double *X = rows_make(&d, n, &r);
    double *B = rows_make(&d, 7, &r);
    size_t np = (size_t)n * p;
    double *lin = malloc(np * sizeof *lin), *ref = malloc(np * sizeof *ref);
    double *lin2 = malloc(np * sizeof *lin2), *intv = malloc(np * sizeof *intv);
    double *intv2 = malloc(np * sizeof *intv2);
    double *inter = malloc(np * p * sizeof *inter), *inter2 = malloc(np * p * sizeof *inter2);
    double bl, br, bi, bx;
    sv_err err;
    sv_shap_opts ol = {.algorithm = SV_SHAP_LINEAR}, orf = {.algorithm = SV_SHAP_REFERENCE};
    sv_shap_opts oi = {.background = B, .n_background = 7};
    sv_ctx c1 = {.threads = 1};
    assert_int_equal(sv_shap_values(&f, X, n, &ol, &c1, lin, &bl, &err), SV_OK);
    assert_int_equal(sv_shap_values(&f, X, n, &orf, &c1, ref, &br, &err), SV_OK);
    assert_int_equal(sv_shap_values(&f, X, n, &oi, &c1, intv, &bi, &err), SV_OK);
    assert_int_equal(sv_shap_interactions(&f, X, n, NULL, &c1, inter, &bx, &err), SV_OK);
    assert_true(bl == br && bl == bx);
    double worst_add = 0, worst_add_ref = 0, worst_lr = 0, worst_sum = 0;
    for (int i = 0; i < n; i++) {
        double x[30];
        for (int j = 0; j < p; j++) x[j] = X[(size_t)j * n + i];
        double pred = forest_pred(&f, x);
        double sl = bl, sr = br, si = bi;
        for (int j = 0; j < p; j++) {
            sl += lin[(size_t)j * n + i];
            sr += ref[(size_t)j * n + i];
            si += intv[(size_t)j * n + i];
            worst_lr = fmax(worst_lr, fabs(lin[(size_t)j * n + i] - ref[(size_t)j * n + i]));
            double rs = 0;
            for (int k = 0; k < p; k++) {
                double a = inter[((size_t)i * p + k) * p + j];
                assert_true(a == inter[((size_t)i * p + j) * p + k]);
                rs += a;
            }
            worst_sum = fmax(worst_sum, fabs(rs - lin[(size_t)j * n + i]));
        }
        worst_add = fmax(worst_add, fmax(fabs(sl - pred), fabs(si - pred)));
        worst_add_ref = fmax(worst_add_ref, fabs(sr - pred));
        for (int j = used; j < p; j++) {
            assert_true(lin[(size_t)j * n + i] == 0.0);
            assert_true(ref[(size_t)j * n + i] == 0.0);
            assert_true(intv[(size_t)j * n + i] == 0.0);
            for (int k = 0; k < p; k++) assert_true(inter[((size_t)i * p + k) * p + j] == 0.0);
        }
    }
    print_message("additivity %.3g (reference %.3g), linear vs reference %.3g, "
                  "interaction row sums %.3g\n",
                  worst_add, worst_add_ref, worst_lr, worst_sum);
    assert_true(worst_add <= 1e-12);
    /* Algorithm 2 unwinds by dividing by one fractions and by (l-j)/(l+1)
     * at every level; at depth 35 its rounding reaches a few 1e-13 (the
     * linear algorithm stays at 1e-16), hence the looser bound for it. */
    assert_true(worst_add_ref <= 1e-11);
    assert_true(worst_lr <= 1e-11);
    assert_true(worst_sum <= 1e-12);
    for (int threads = 2; threads <= 3; threads++) {
        sv_ctx c = {.threads = threads};
        assert_int_equal(sv_shap_values(&f, X, n, &ol, &c, lin2, &bl, &err), SV_OK);
        assert_memory_equal(lin, lin2, np * sizeof *lin);
        assert_int_equal(sv_shap_values(&f, X, n, &oi, &c, intv2, &bi, &err), SV_OK);
        assert_memory_equal(intv, intv2, np * sizeof *intv);
        assert_int_equal(sv_shap_interactions(&f, X, n, NULL, &c, inter2, &bx, &err), SV_OK);
        assert_memory_equal(inter, inter2, np * p * sizeof *inter);
    }
    free(lin);
    free(ref);
    free(lin2);
    free(intv);
    free(intv2);
    free(inter);
    free(inter2);
    free(X);
    free(B);
    forest_free(&f);
    data_free(&d);
}

/* Malformed trees and inputs are refused with SV_EINVAL and a message;
 * a raised cancel flag stops the run with SV_EINTR. */
static void test_errors(void **state)
{
    (void)state;
    sv_forest f;
    sv_tree t;
    build_hand_tree(&f, &t);
    double X[2] = {0, 0}, phi[2], base;
    sv_err err;
    t.left[1] = 1; /* a child pointing at its parent would loop */
    assert_int_equal(sv_shap_values(&f, X, 1, NULL, NULL, phi, &base, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "children"));
    t.left[1] = 2;
    t.feature[0] = 2;
    assert_int_equal(sv_shap_values(&f, X, 1, NULL, NULL, phi, &base, &err), SV_EINVAL);
    t.feature[0] = 0;
    t.cover[1] = 0;
    assert_int_equal(sv_shap_values(&f, X, 1, NULL, NULL, phi, &base, &err), SV_EINVAL);
    t.cover[1] = 4;
    double Xn[2] = {NAN, 0};
    assert_int_equal(sv_shap_values(&f, Xn, 1, NULL, NULL, phi, &base, &err), SV_EINVAL);
    assert_non_null(strstr(err.msg, "NaN"));
    double B[2] = {1, 1};
    sv_shap_opts o = {.background = B, .n_background = 1};
    double inter[4];
    assert_int_equal(sv_shap_interactions(&f, X, 1, &o, NULL, inter, &base, &err), SV_EINVAL);
    int cancel = 1;
    sv_ctx ctx = {.threads = 1, .cancel = &cancel};
    assert_int_equal(sv_shap_values(&f, X, 1, NULL, &ctx, phi, &base, &err), SV_EINTR);
    sv_tree_free(&t);
}

/* A leaf with zero cover (possible with a zero class weight) is a valid
 * game: the empty-coalition walk never reaches it, a row that does reaches
 * it through a factor t. All algorithms agree with the oracle, for rows
 * that reach the zero-cover leaf and rows that do not. */
static void test_zero_cover_leaf(void **state)
{
    (void)state;
    sv_forest f;
    sv_tree t;
    build_hand_tree(&f, &t);
    t.cover[2] = 0; /* leaf 1.0 under node1 */
    double rows[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    for (int r = 0; r < 4; r++) {
        double v[4], phi[2], inter_o[4];
        oracle_game(&f, rows[r], NULL, 0, v);
        oracle_shapley(2, v, phi);
        oracle_interactions(2, v, phi, inter_o);
        double got[2], base, inter[4];
        sv_err err;
        for (int a = SV_SHAP_LINEAR; a <= SV_SHAP_TABLE; a++) {
            sv_shap_opts o = {.algorithm = (sv_shap_algorithm)a};
            assert_int_equal(sv_shap_values(&f, rows[r], 1, &o, NULL, got, &base, &err), SV_OK);
            assert_true(fabs(base - v[0]) < 1e-15);
            for (int j = 0; j < 2; j++) assert_true(fabs(got[j] - phi[j]) < 1e-14);
        }
        assert_int_equal(sv_shap_interactions(&f, rows[r], 1, NULL, NULL, inter, &base, &err),
                         SV_OK);
        for (int k = 0; k < 4; k++) assert_true(fabs(inter[k] - inter_o[k]) < 1e-14);
    }
    sv_tree_free(&t);
}

typedef struct progress_probe {
    int calls;
    int cancel;
} progress_probe;

static void probe_progress(void *ud, const char *what, size_t done, size_t total)
{
    progress_probe *pp = ud;
    assert_string_equal(what, "shap.tree");
    assert_true(done <= total);
    pp->calls++;
    pp->cancel = 1; /* as Ctrl-C would, after the first report */
}

/* Long runs report progress under the stage name "shap.tree", and a
 * cancellation raised while running (Ctrl-C) stops the run with SV_EINTR
 * before all rows are done. */
static void test_progress_and_cancel_mid_run(void **state)
{
    (void)state;
    sv_rng r;
    sv_rng_init(&r, 5, 0);
    data d;
    data_make(&d, 300, 6, &r);
    sv_forest f;
    forest_make(&f, &d, 3, 30, 6, &r);
    int n = 200;
    double *X = rows_make(&d, n, &r);
    double *phi = malloc((size_t)n * 6 * sizeof *phi), base;
    progress_probe pp = {0, 0};
    sv_ctx ctx = {.threads = 1, .progress = probe_progress, .progress_ud = &pp,
                  .cancel = &pp.cancel};
    sv_err err;
    assert_int_equal(sv_shap_values(&f, X, n, NULL, &ctx, phi, &base, &err), SV_EINTR);
    assert_true(pp.calls >= 1);
    free(phi);
    free(X);
    forest_free(&f);
    data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauss_legendre_exact_degree),
        cmocka_unit_test(test_hand_worked_tree),
        cmocka_unit_test(test_oracle_random_forests),
        cmocka_unit_test(test_oracle_deep_chain),
        cmocka_unit_test(test_table_limits),
        cmocka_unit_test(test_invariants_wide_deep),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_zero_cover_leaf),
        cmocka_unit_test(test_progress_and_cancel_mid_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
