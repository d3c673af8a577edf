/*
 * forest.c - growing a random forest for a binary outcome (sv_forest.h),
 * predicting, out-of-bag predictions and impurity importance.
 *
 * How a tree is grown (scikit-learn's RandomForestClassifier semantics,
 * learned from its documentation and Breiman 2001; the code is our own):
 * - each feature is ranked once into integer codes 0..L-1 over its sorted
 *   distinct values, so every node works on small integers and a split
 *   "code <= a" is the threshold midway between level a and the next level
 *   present in the node;
 * - tree t draws its rows from the RNG stream (seed, t): bootstrap counts
 *   become sample weights (times the class weight), a node holds the
 *   distinct in-bag rows, all in one index array partitioned in place;
 * - at each node features are drawn without replacement until mtry were
 *   visited and at least one of them was not constant in the node;
 * - per feature and node the split search either counts the node's rows
 *   per level (few levels relative to the node size: O(n + L)) or sorts
 *   the node's codes (O(n log n)); both feed the same scan of candidate
 *   boundaries in increasing order, which keeps the first best one;
 * - trees are grown depth first, left child first, so node ids follow the
 *   preorder: every child has a larger id than its parent.
 * Per-worker scratch is allocated once per training call; nothing is
 * allocated per node.
 */
#include "sv_forest.h"
#include "sv_rng.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counting over the levels beats sorting the node's codes while the
 * number of levels is at most this many times the node size. */
#define SV_FOREST_COUNT_RATIO 8
/* Rows per task when predicting. */
#define SV_FOREST_PREDICT_BLOCK 64
#define SV_LN2 0.69314718055994530942

void sv_forest_opts_default(sv_forest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_trees = SV_FOREST_DEFAULT_TREES;
    o->mtry = SV_FOREST_DEFAULT_MTRY;
    o->min_leaf = SV_FOREST_DEFAULT_MIN_LEAF;
    o->min_split = SV_FOREST_DEFAULT_MIN_SPLIT;
    o->max_depth = SV_FOREST_DEFAULT_MAX_DEPTH;
    o->criterion = SV_FOREST_DEFAULT_CRITERION;
    o->bootstrap = SV_FOREST_DEFAULT_BOOTSTRAP;
    o->sample_fraction = SV_FOREST_DEFAULT_SAMPLE_FRACTION;
    o->class_weight = SV_FOREST_CW_NONE;
    o->class_weights[0] = 1.0;
    o->class_weights[1] = 1.0;
    o->seed = SV_FOREST_DEFAULT_SEED;
}

void sv_forest_free(sv_forest *f)
{
    if (!f) return;
    if (f->trees)
        for (int32_t t = 0; t < f->n_trees; t++) sv_tree_free(&f->trees[t]);
    free(f->trees);
    if (f->feature_names)
        for (int32_t j = 0; j < f->n_features; j++) free(f->feature_names[j]);
    free(f->feature_names);
    free(f->oob);
    free(f->inbag);
    free(f);
}

/* ---- sorting of 64-bit keys (unique keys: code << 32 | row) ---------- */

static void insertion_sort_u64(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Quicksort with median-of-three pivots, recursing into the smaller part
 * (stack depth O(log n)). Keys are distinct, so both parts are never
 * empty. */
static void sort_u64(uint64_t *a, size_t n)
{
    while (n > 24) {
        uint64_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint64_t piv = x < y ? (y < z ? y : (x < z ? z : x))
                             : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i >= j) break;
            uint64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= piv <= [j + 1, n) */
        size_t nl = j + 1, nr = n - nl;
        if (nl < nr) {
            sort_u64(a, nl);
            a += nl;
            n = nr;
        } else {
            sort_u64(a + nl, nr);
            n = nl;
        }
    }
    insertion_sort_u64(a, n);
}

/* ---- pre-ranking ----------------------------------------------------- */

typedef struct value_row {
    double v;
    uint32_t row;
} value_row;

static int cmp_value_row(const void *pa, const void *pb)
{
    const value_row *a = pa, *b = pb;
    if (a->v < b->v) return -1;
    if (a->v > b->v) return 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

typedef struct ranking {
    const double *X;
    size_t n, p;
    uint32_t *codes;    /* n x p, column-major: level of x[i, j] */
    uint32_t *n_levels; /* p */
    double *levels;     /* sorted distinct values of feature j at
                           levels[j * n ...] (n slots per feature) */
    value_row **pairs;  /* one buffer of n per worker */
} ranking;

static sv_status rank_feature(void *ud, size_t j, int worker, sv_err *err)
{
    (void)err;
    ranking *rk = ud;
    size_t n = rk->n;
    const double *x = rk->X + j * n;
    value_row *vr = rk->pairs[worker];
    for (size_t i = 0; i < n; i++) {
        vr[i].v = x[i];
        vr[i].row = (uint32_t)i;
    }
    qsort(vr, n, sizeof *vr, cmp_value_row);
    uint32_t *code = rk->codes + j * n;
    double *lev = rk->levels + j * n;
    uint32_t L = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || vr[k].v > vr[k - 1].v) lev[L++] = vr[k].v;
        code[vr[k].row] = L - 1;
    }
    rk->n_levels[j] = L;
    return SV_OK;
}

/* ---- growing one tree ------------------------------------------------ */

typedef struct level_acc {
    double w[2];  /* weight of class 0 and class 1 rows at this level */
    uint32_t n;   /* distinct rows */
} level_acc;

typedef struct node_frame {
    uint32_t start, end;
    int32_t depth, parent;
    int side;     /* 0: left child of parent, 1: right */
    double w0, w1;
} node_frame;

typedef struct scratch {
    uint32_t *cnt;     /* n bootstrap counts */
    double *w;         /* n sample weights (count x class weight) */
    uint32_t *idx;     /* n: the node ranges of distinct in-bag rows */
    uint64_t *keys;    /* n: sort keys code << 32 | row */
    level_acc *hist;   /* max levels, kept all zero between uses */
    uint32_t *feat;    /* p: feature draw order */
    node_frame *stack; /* n + 1 */
    sv_tree nodes;     /* capacity 2n - 1 */
} scratch;

typedef struct trainer {
    size_t n, p;
    const uint32_t *codes;
    const uint32_t *n_levels;
    const double *levels;
    const uint8_t *y;
    double cw[2];
    sv_forest_opts o;      /* resolved: mtry in 1..p */
    size_t n_draw;
    sv_forest *f;
    scratch *scr;          /* one per worker */
} trainer;

typedef struct best_split {
    double proxy;
    int32_t feature;
    uint32_t lev_a, lev_b; /* last level left, first level right */
    double wl0, wl1;
    uint32_t nl;
    int found;
} best_split;

/* Node impurity from the weights of class 0 and 1 (w0 + w1 > 0). */
static double impurity(sv_forest_criterion c, double w0, double w1)
{
    double W = w0 + w1;
    if (c == SV_FOREST_GINI) return 1.0 - (w0 * w0 + w1 * w1) / (W * W);
    double h = 0.0;
    if (w0 > 0) {
        double q = w0 / W;
        h -= q * sv_portable_log(q);
    }
    if (w1 > 0) {
        double q = w1 / W;
        h -= q * sv_portable_log(q);
    }
    return h / SV_LN2;
}

/* Larger is better: equals -(W_l imp_l + W_r imp_r) up to a constant. */
static double split_proxy(sv_forest_criterion c, double l0, double l1,
                          double r0, double r1)
{
    double wl = l0 + l1, wr = r0 + r1;
    if (c == SV_FOREST_GINI) return (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;
    return -wl * impurity(c, l0, l1) - wr * impurity(c, r0, r1);
}

/* The scan over the levels present in a node, in increasing order: a
 * candidate boundary lies between consecutive present levels. */
typedef struct scan_state {
    double wl0, wl1;
    uint32_t nl;
    uint32_t prev;
    int have_prev;
} scan_state;

static inline void scan_group(scan_state *s, best_split *b, const trainer *tr,
                              int32_t feature, uint32_t code, double g0,
                              double g1, uint32_t gn, uint32_t nnode,
                              double w0, double w1)
{
    if (s->have_prev) {
        uint32_t nr = nnode - s->nl;
        uint32_t ml = (uint32_t)tr->o.min_leaf;
        if (s->nl >= ml && nr >= ml) {
            double pr = split_proxy(tr->o.criterion, s->wl0, s->wl1,
                                    w0 - s->wl0, w1 - s->wl1);
            if (!b->found || pr > b->proxy) {
                b->found = 1;
                b->proxy = pr;
                b->feature = feature;
                b->lev_a = s->prev;
                b->lev_b = code;
                b->wl0 = s->wl0;
                b->wl1 = s->wl1;
                b->nl = s->nl;
            }
        }
    }
    s->wl0 += g0;
    s->wl1 += g1;
    s->nl += gn;
    s->prev = code;
    s->have_prev = 1;
}

/* Evaluates every boundary of feature f in the node; returns 0 when the
 * feature is constant there. */
static int eval_feature(const trainer *tr, scratch *s, int32_t f,
                        uint32_t start, uint32_t end, double w0, double w1,
                        best_split *b)
{
    uint32_t L = tr->n_levels[f];
    if (L < 2) return 0;
    const uint32_t *col = tr->codes + (size_t)f * tr->n;
    const uint8_t *y = tr->y;
    const double *w = s->w;
    const uint32_t *idx = s->idx;
    uint32_t nnode = end - start;
    scan_state st = {0};

    if ((uint64_t)L <= (uint64_t)nnode * SV_FOREST_COUNT_RATIO) {
        level_acc *h = s->hist;
        uint32_t lo = UINT32_MAX, hi = 0;
        for (uint32_t k = start; k < end; k++) {
            uint32_t r = idx[k];
            uint32_t c = col[r];
            h[c].w[y[r]] += w[r];
            h[c].n++;
            if (c < lo) lo = c;
            if (c > hi) hi = c;
        }
        if (lo == hi) {
            memset(&h[lo], 0, sizeof h[lo]);
            return 0;
        }
        for (uint32_t c = lo; c <= hi; c++) {
            if (h[c].n == 0) continue;
            scan_group(&st, b, tr, f, c, h[c].w[0], h[c].w[1], h[c].n, nnode, w0, w1);
            memset(&h[c], 0, sizeof h[c]);
        }
        return 1;
    }

    uint64_t *keys = s->keys;
    for (uint32_t k = start; k < end; k++) {
        uint32_t r = idx[k];
        keys[k - start] = (uint64_t)col[r] << 32 | r;
    }
    sort_u64(keys, nnode);
    if ((keys[0] >> 32) == (keys[nnode - 1] >> 32)) return 0;
    uint32_t k = 0;
    while (k < nnode) {
        uint32_t c = (uint32_t)(keys[k] >> 32);
        double g[2] = {0.0, 0.0};
        uint32_t gn = 0;
        while (k < nnode && (uint32_t)(keys[k] >> 32) == c) {
            uint32_t r = (uint32_t)keys[k];
            g[y[r]] += w[r];
            gn++;
            k++;
        }
        scan_group(&st, b, tr, f, c, g[0], g[1], gn, nnode, w0, w1);
    }
    return 1;
}

/* Draws features without replacement (partial Fisher-Yates over feat)
 * until mtry were visited and one of them was not constant, keeping the
 * best split; scikit-learn's rule. */
static void find_split(const trainer *tr, scratch *s, sv_rng *rng,
                       uint32_t start, uint32_t end, double w0, double w1,
                       best_split *b)
{
    uint32_t p = (uint32_t)tr->p;
    uint32_t *feat = s->feat;
    uint32_t visited = 0, nonconst = 0;
    memset(b, 0, sizeof *b);
    for (uint32_t k = 0; k < p; k++) {
        if (visited >= (uint32_t)tr->o.mtry && nonconst > 0) break;
        uint32_t j = k + (uint32_t)sv_rng_below(rng, p - k);
        uint32_t t = feat[k];
        feat[k] = feat[j];
        feat[j] = t;
        visited++;
        if (eval_feature(tr, s, (int32_t)feat[k], start, end, w0, w1, b)) nonconst++;
    }
}

static double midpoint(double a, double b)
{
    double m = a / 2.0 + b / 2.0;
    /* Keep a <= m < b so that "x <= m" separates exactly the levels. */
    if (!(m >= a && m < b)) m = a;
    return m;
}

static sv_status grow_tree(void *ud, size_t t, int worker, sv_err *err)
{
    trainer *tr = ud;
    scratch *s = &tr->scr[worker];
    size_t n = tr->n;
    const sv_forest_opts *o = &tr->o;
    sv_rng rng;
    sv_rng_init(&rng, o->seed, (uint64_t)t);

    /* rows in bag */
    memset(s->cnt, 0, n * sizeof *s->cnt);
    if (o->bootstrap) {
        for (size_t k = 0; k < tr->n_draw; k++) s->cnt[sv_rng_below(&rng, n)]++;
    } else if (tr->n_draw >= n) {
        for (size_t i = 0; i < n; i++) s->cnt[i] = 1;
    } else {
        for (size_t i = 0; i < n; i++) s->idx[i] = (uint32_t)i;
        sv_rng_partial_shuffle_u32(&rng, s->idx, n, tr->n_draw);
        for (size_t k = 0; k < tr->n_draw; k++) s->cnt[s->idx[k]] = 1;
    }
    uint64_t *bits = tr->f->inbag + t * tr->f->inbag_words;
    uint32_t n_in = 0;
    double w0 = 0.0, w1 = 0.0;
    for (size_t r = 0; r < n; r++) {
        if (!s->cnt[r]) continue;
        s->idx[n_in++] = (uint32_t)r;
        s->w[r] = (double)s->cnt[r] * tr->cw[tr->y[r]];
        if (tr->y[r]) w1 += s->w[r];
        else w0 += s->w[r];
        bits[r >> 6] |= (uint64_t)1 << (r & 63);
    }
    for (size_t j = 0; j < tr->p; j++) s->feat[j] = (uint32_t)j;

    sv_tree *nd = &s->nodes;
    int32_t nn = 0;
    size_t sp = 0;
    s->stack[sp++] = (node_frame){0, n_in, 0, -1, 0, w0, w1};
    while (sp > 0) {
        node_frame fr = s->stack[--sp];
        int32_t id = nn++;
        if (fr.parent >= 0) {
            if (fr.side == 0) nd->left[fr.parent] = id;
            else nd->right[fr.parent] = id;
        }
        double W = fr.w0 + fr.w1;
        double imp = impurity(o->criterion, fr.w0, fr.w1);
        nd->feature[id] = -1;
        nd->threshold[id] = 0.0;
        nd->left[id] = -1;
        nd->right[id] = -1;
        nd->value[id] = fr.w1 / W;
        nd->cover[id] = W;
        nd->impurity[id] = imp;
        uint32_t nnode = fr.end - fr.start;
        if ((o->max_depth > 0 && fr.depth >= o->max_depth) ||
            nnode < (uint32_t)o->min_split || nnode < 2 * (uint32_t)o->min_leaf ||
            imp <= DBL_EPSILON)
            continue;
        best_split b;
        find_split(tr, s, &rng, fr.start, fr.end, fr.w0, fr.w1, &b);
        if (!b.found) continue;
        const double *lev = tr->levels + (size_t)b.feature * n;
        nd->feature[id] = b.feature;
        nd->threshold[id] = midpoint(lev[b.lev_a], lev[b.lev_b]);
        const uint32_t *col = tr->codes + (size_t)b.feature * n;
        /* Partition in place; the children's class weights are summed
         * here directly (not as parent minus left), so that a pure child
         * has exactly zero weight of the other class and is a leaf. */
        uint32_t i = fr.start, e = fr.end;
        double cl[2] = {0.0, 0.0}, cr[2] = {0.0, 0.0};
        while (i < e) {
            uint32_t r = s->idx[i];
            if (col[r] <= b.lev_a) {
                cl[tr->y[r]] += s->w[r];
                i++;
            } else {
                cr[tr->y[r]] += s->w[r];
                e--;
                s->idx[i] = s->idx[e];
                s->idx[e] = r;
            }
        }
        if (i - fr.start != b.nl)
            return sv_err_set(err, SV_ENUM, "internal error: partition mismatch in tree %zu", t);
        s->stack[sp++] = (node_frame){i, fr.end, fr.depth + 1, id, 1, cr[0], cr[1]};
        s->stack[sp++] = (node_frame){fr.start, i, fr.depth + 1, id, 0, cl[0], cl[1]};
    }

    sv_tree *out = &tr->f->trees[t];
    if (sv_tree_alloc(out, nn) != 0)
        return sv_err_set(err, SV_ENOMEM, "out of memory storing tree %zu", t);
    size_t m = (size_t)nn;
    memcpy(out->feature, nd->feature, m * sizeof *out->feature);
    memcpy(out->threshold, nd->threshold, m * sizeof *out->threshold);
    memcpy(out->left, nd->left, m * sizeof *out->left);
    memcpy(out->right, nd->right, m * sizeof *out->right);
    memcpy(out->value, nd->value, m * sizeof *out->value);
    memcpy(out->cover, nd->cover, m * sizeof *out->cover);
    memcpy(out->impurity, nd->impurity, m * sizeof *out->impurity);
    return SV_OK;
}

/* ---- validation ------------------------------------------------------- */

static sv_status check_finite(const double *X, size_t n, size_t p, sv_err *err)
{
    for (size_t j = 0; j < p; j++) {
        const double *x = X + j * n;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i]))
                return sv_err_set(err, SV_EINVAL, "X has %s at row %zu, column %zu",
                                  isnan(x[i]) ? "NaN" : "an infinite value", i + 1, j + 1);
    }
    return SV_OK;
}

static sv_status check_opts(const sv_forest_opts *o, size_t p, sv_err *err)
{
    if (o->n_trees < 1)
        return sv_err_set(err, SV_EINVAL, "trees must be >= 1, got %d", (int)o->n_trees);
    if (o->mtry < 0 || (size_t)o->mtry > p)
        return sv_err_set(err, SV_EINVAL, "mtry must be in [1, %zu], got %d", p, (int)o->mtry);
    if (o->min_leaf < 1)
        return sv_err_set(err, SV_EINVAL, "min_leaf must be >= 1, got %d", (int)o->min_leaf);
    if (o->min_split < 2)
        return sv_err_set(err, SV_EINVAL, "min_split must be >= 2, got %d", (int)o->min_split);
    if (o->max_depth < 0)
        return sv_err_set(err, SV_EINVAL, "max_depth must be >= 0, got %d", (int)o->max_depth);
    if (o->criterion != SV_FOREST_GINI && o->criterion != SV_FOREST_ENTROPY)
        return sv_err_set(err, SV_EINVAL, "unknown criterion %d", (int)o->criterion);
    if (!(o->sample_fraction > 0.0 && o->sample_fraction <= 1.0))
        return sv_err_set(err, SV_EINVAL, "sample_fraction must be in (0, 1], got %g",
                          o->sample_fraction);
    if (o->class_weight == SV_FOREST_CW_GIVEN &&
        !(o->class_weights[0] > 0 && o->class_weights[1] > 0 &&
          isfinite(o->class_weights[0]) && isfinite(o->class_weights[1])))
        return sv_err_set(err, SV_EINVAL, "class weights must be finite and > 0");
    return SV_OK;
}

/* ---- training ----------------------------------------------------------- */

static void free_scratch(scratch *s)
{
    free(s->cnt);
    free(s->w);
    free(s->idx);
    free(s->keys);
    free(s->hist);
    free(s->feat);
    free(s->stack);
    sv_tree_free(&s->nodes);
}

static sv_status alloc_scratch(scratch *s, size_t n, size_t p, size_t max_levels)
{
    memset(s, 0, sizeof *s);
    s->cnt = sv_malloc(n, sizeof *s->cnt);
    s->w = sv_malloc(n, sizeof *s->w);
    s->idx = sv_malloc(n, sizeof *s->idx);
    s->keys = sv_malloc(n, sizeof *s->keys);
    s->hist = sv_calloc(max_levels, sizeof *s->hist);
    s->feat = sv_malloc(p, sizeof *s->feat);
    s->stack = sv_malloc(n + 1, sizeof *s->stack);
    if (!s->cnt || !s->w || !s->idx || !s->keys || !s->hist || !s->feat || !s->stack ||
        sv_tree_alloc(&s->nodes, (int32_t)(2 * n - 1)) != 0) {
        free_scratch(s);
        return SV_ENOMEM;
    }
    return SV_OK;
}

static char *dup_string(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);
    if (d) memcpy(d, s, len);
    return d;
}

static sv_status compute_oob(sv_forest *f, const double *X, size_t n,
                             const sv_ctx *ctx, sv_err *err);

sv_status sv_forest_train(const double *X, size_t n, size_t p,
                          const double *y, const char *const *names,
                          const sv_forest_opts *opts, const sv_ctx *ctx,
                          sv_forest **out, sv_err *err)
{
    *out = NULL;
    if (n == 0) return sv_err_set(err, SV_EINVAL, "X has no rows");
    if (p == 0) return sv_err_set(err, SV_EINVAL, "X has no columns");
    if (n > 0x7fffffffu / 2 || p > 0x7fffffffu)
        return sv_err_set(err, SV_EINVAL, "X is too large (%zu x %zu)", n, p);
    sv_status st = check_opts(opts, p, err);
    if (st != SV_OK) return st;
    st = check_finite(X, n, p, err);
    if (st != SV_OK) return st;
    size_t n1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0.0 && y[i] != 1.0)
            return sv_err_set(err, SV_EINVAL, "y must hold 0 or 1, got %.17g at row %zu", y[i], i + 1);
        n1 += y[i] == 1.0;
    }
    if (n1 == 0 || n1 == n)
        return sv_err_set(err, SV_EINVAL, "y holds only class %d: both classes are needed",
                          n1 == 0 ? 0 : 1);

    trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.n = n;
    tr.p = p;
    tr.o = *opts;
    if (tr.o.mtry == 0) {
        int32_t k = 1;
        while ((size_t)(k + 1) * (size_t)(k + 1) <= p) k++;
        tr.o.mtry = k;
    }
    if (opts->class_weight == SV_FOREST_CW_BALANCED) {
        tr.cw[0] = (double)n / (2.0 * (double)(n - n1));
        tr.cw[1] = (double)n / (2.0 * (double)n1);
    } else if (opts->class_weight == SV_FOREST_CW_GIVEN) {
        tr.cw[0] = opts->class_weights[0];
        tr.cw[1] = opts->class_weights[1];
    } else {
        tr.cw[0] = tr.cw[1] = 1.0;
    }
    tr.o.class_weights[0] = tr.cw[0];
    tr.o.class_weights[1] = tr.cw[1];
    double nd = floor(opts->sample_fraction * (double)n + 0.5);
    tr.n_draw = nd < 1.0 ? 1 : (size_t)nd;
    if (tr.n_draw > n) tr.n_draw = n;

    int nw = sv_ctx_threads(ctx);
    if ((size_t)nw > (size_t)opts->n_trees) nw = opts->n_trees;
    uint8_t *ycls = sv_malloc(n, 1);
    uint32_t *codes = sv_malloc(n * p, sizeof *codes);
    uint32_t *n_levels = sv_malloc(p, sizeof *n_levels);
    double *levels = sv_malloc(n * p, sizeof *levels);
    value_row **pairs = sv_calloc((size_t)nw, sizeof *pairs);
    scratch *scr = sv_calloc((size_t)nw, sizeof *scr);
    sv_forest *f = sv_calloc(1, sizeof *f);
    if (!ycls || !codes || !n_levels || !levels || !pairs || !scr || !f) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
        goto done;
    }
    for (size_t i = 0; i < n; i++) ycls[i] = y[i] == 1.0;
    f->n_trees = opts->n_trees;
    f->n_features = (int32_t)p;
    f->opts = tr.o;
    f->n_train = n;
    f->inbag_words = (n + 63) / 64;
    f->trees = sv_calloc((size_t)opts->n_trees, sizeof *f->trees);
    f->inbag = sv_calloc((size_t)opts->n_trees * f->inbag_words, sizeof *f->inbag);
    f->feature_names = sv_calloc(p, sizeof *f->feature_names);
    if (!f->trees || !f->inbag || !f->feature_names) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
        goto done;
    }
    for (size_t j = 0; j < p; j++) {
        char buf[32];
        snprintf(buf, sizeof buf, "V%zu", j + 1);
        f->feature_names[j] = dup_string(names && names[j] ? names[j] : buf);
        if (!f->feature_names[j]) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory copying feature names");
            goto done;
        }
    }

    /* rank every feature once */
    ranking rk = {X, n, p, codes, n_levels, levels, pairs};
    for (int w = 0; w < nw; w++) {
        pairs[w] = sv_malloc(n, sizeof **pairs);
        if (!pairs[w]) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory ranking features");
            goto done;
        }
    }
    sv_ctx quiet = ctx ? *ctx : (sv_ctx){0};
    quiet.progress = NULL;
    st = sv_parallel_for(&quiet, "forest.rank", p, nw, rank_feature, &rk, err);
    if (st != SV_OK) goto done;
    size_t max_levels = 1;
    for (size_t j = 0; j < p; j++)
        if (n_levels[j] > max_levels) max_levels = n_levels[j];

    tr.codes = codes;
    tr.n_levels = n_levels;
    tr.levels = levels;
    tr.y = ycls;
    tr.f = f;
    tr.scr = scr;
    for (int w = 0; w < nw; w++) {
        free(pairs[w]);
        pairs[w] = NULL;
        if (alloc_scratch(&scr[w], n, p, max_levels) != SV_OK) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory for tree scratch");
            goto done;
        }
    }
    st = sv_parallel_for(ctx, "forest.train", (size_t)opts->n_trees, nw, grow_tree, &tr, err);
    if (st != SV_OK) goto done;
    st = compute_oob(f, X, n, &quiet, err);

done:
    if (pairs)
        for (int w = 0; w < nw; w++) free(pairs[w]);
    if (scr)
        for (int w = 0; w < nw; w++) free_scratch(&scr[w]);
    free(pairs);
    free(scr);
    free(ycls);
    free(codes);
    free(n_levels);
    free(levels);
    if (st != SV_OK) {
        sv_forest_free(f);
        return st;
    }
    *out = f;
    return SV_OK;
}

/* ---- prediction ----------------------------------------------------------- */

/* Leaf value for row i of the column-major X with n rows. */
static inline double leaf_value(const sv_tree *t, const double *X, size_t n, size_t i)
{
    int32_t k = 0;
    while (t->left[k] >= 0)
        k = X[(size_t)t->feature[k] * n + i] <= t->threshold[k] ? t->left[k] : t->right[k];
    return t->value[k];
}

typedef struct predictor {
    const sv_forest *f;
    const double *X;
    size_t n;
    double *out;
    double *count; /* OOB: trees that saw the row out of bag, or NULL */
} predictor;

static sv_status predict_block(void *ud, size_t b, int worker, sv_err *err)
{
    (void)worker;
    (void)err;
    predictor *pr = ud;
    size_t i0 = b * SV_FOREST_PREDICT_BLOCK;
    size_t i1 = i0 + SV_FOREST_PREDICT_BLOCK;
    if (i1 > pr->n) i1 = pr->n;
    double sum[SV_FOREST_PREDICT_BLOCK] = {0};
    double cnt[SV_FOREST_PREDICT_BLOCK] = {0};
    const sv_forest *f = pr->f;
    for (int32_t t = 0; t < f->n_trees; t++) {
        const sv_tree *tree = &f->trees[t];
        if (pr->count) {
            const uint64_t *bits = f->inbag + (size_t)t * f->inbag_words;
            for (size_t i = i0; i < i1; i++) {
                if (bits[i >> 6] >> (i & 63) & 1) continue;
                sum[i - i0] += leaf_value(tree, pr->X, pr->n, i);
                cnt[i - i0] += 1.0;
            }
        } else {
            for (size_t i = i0; i < i1; i++) sum[i - i0] += leaf_value(tree, pr->X, pr->n, i);
        }
    }
    for (size_t i = i0; i < i1; i++) {
        if (pr->count) pr->out[i] = cnt[i - i0] > 0 ? sum[i - i0] / cnt[i - i0] : NAN;
        else pr->out[i] = sum[i - i0] / (double)f->n_trees;
    }
    return SV_OK;
}

sv_status sv_forest_predict(const sv_forest *f, const double *X, size_t n,
                            size_t p, const sv_ctx *ctx, double *out,
                            sv_err *err)
{
    if (p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL, "X has %zu columns, the forest was trained on %d",
                          p, (int)f->n_features);
    sv_status st = check_finite(X, n, p, err);
    if (st != SV_OK) return st;
    predictor pr = {f, X, n, out, NULL};
    size_t blocks = (n + SV_FOREST_PREDICT_BLOCK - 1) / SV_FOREST_PREDICT_BLOCK;
    return sv_parallel_for(ctx, "forest.predict", blocks, 0, predict_block, &pr, err);
}

static sv_status compute_oob(sv_forest *f, const double *X, size_t n,
                             const sv_ctx *ctx, sv_err *err)
{
    f->oob = sv_malloc(n, sizeof *f->oob);
    if (!f->oob) return sv_err_set(err, SV_ENOMEM, "out of memory for OOB predictions");
    double dummy = 0;
    predictor pr = {f, X, n, f->oob, &dummy};
    size_t blocks = (n + SV_FOREST_PREDICT_BLOCK - 1) / SV_FOREST_PREDICT_BLOCK;
    return sv_parallel_for(ctx, "forest.oob", blocks, 0, predict_block, &pr, err);
}

/* ---- importance and statistics ---------------------------------------------- */

sv_status sv_forest_importance_impurity(const sv_forest *f, double *out,
                                        sv_err *err)
{
    size_t p = (size_t)f->n_features;
    double *tree_imp = sv_malloc(p ? p : 1, sizeof *tree_imp);
    if (!tree_imp) return sv_err_set(err, SV_ENOMEM, "out of memory");
    for (size_t j = 0; j < p; j++) out[j] = 0.0;
    int32_t used = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        const sv_tree *tr = &f->trees[t];
        if (tr->n_nodes <= 1) continue;
        for (size_t j = 0; j < p; j++) tree_imp[j] = 0.0;
        for (int32_t k = 0; k < tr->n_nodes; k++) {
            if (tr->left[k] < 0) continue;
            int32_t l = tr->left[k], r = tr->right[k];
            tree_imp[tr->feature[k]] += tr->cover[k] * tr->impurity[k] -
                                        tr->cover[l] * tr->impurity[l] -
                                        tr->cover[r] * tr->impurity[r];
        }
        double s = 0.0;
        for (size_t j = 0; j < p; j++) s += tree_imp[j];
        if (s > 0)
            for (size_t j = 0; j < p; j++) out[j] += tree_imp[j] / s;
        used++;
    }
    free(tree_imp);
    if (used == 0) return SV_OK;
    double s = 0.0;
    for (size_t j = 0; j < p; j++) {
        out[j] /= used;
        s += out[j];
    }
    if (s > 0)
        for (size_t j = 0; j < p; j++) out[j] /= s;
    return SV_OK;
}

void sv_forest_depth_stats(const sv_forest *f, int *dmin, double *dmean,
                           int *dmax, size_t *leaves)
{
    int lo = 0, hi = 0;
    double sum = 0.0;
    size_t nl = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        int d = sv_tree_depth(&f->trees[t]);
        if (t == 0 || d < lo) lo = d;
        if (t == 0 || d > hi) hi = d;
        sum += d;
        for (int32_t k = 0; k < f->trees[t].n_nodes; k++) nl += f->trees[t].left[k] < 0;
    }
    *dmin = lo;
    *dmax = hi;
    *dmean = f->n_trees > 0 ? sum / f->n_trees : 0.0;
    *leaves = nl;
}
