/* Frozen copy of engine/forest.c + tree.c at commit e949f04 (before the
 * generic grower), symbols renamed sv_ -> svref_, for the same-run speed
 * comparison of bench/forest_ref_bench.c. Not part of the engine. */
/*
 * forest.c - growing a random forest for a binary outcome (svref_forest.h),
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
#include "svref_forest.h"
#include "sv_rng.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counting over the levels beats sorting the node's codes while the
 * number of levels is at most this many times the node size. */
#define SVREF_FOREST_COUNT_RATIO 8
/* Nodes of at least this many rows sort by radix, smaller ones by
 * quicksort. */
#define SVREF_FOREST_RADIX_MIN 64
/* ... with 11-bit digits from this many rows, 8-bit below. */
#define SVREF_FOREST_RADIX_WIDE 4096
/* Rows per prediction task, at most: a block is copied to row-major order
 * and every tree walks the whole block before the next tree, so a larger
 * block reuses each tree's nodes from cache for more rows (measured on
 * 50 features: 64 rows 0.135 s, 1024 rows 0.051 s, 2048 rows 0.047 s per
 * 5000 rows x 100 trees). Smaller blocks are used when there are too few
 * rows to keep every thread busy; the result does not depend on it. */
#define SVREF_FOREST_PREDICT_BLOCK 2048
#define SV_LN2 0.69314718055994530942

void svref_forest_opts_default(svref_forest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_trees = SVREF_FOREST_DEFAULT_TREES;
    o->mtry = SVREF_FOREST_DEFAULT_MTRY;
    o->min_leaf = SVREF_FOREST_DEFAULT_MIN_LEAF;
    o->min_split = SVREF_FOREST_DEFAULT_MIN_SPLIT;
    o->max_depth = SVREF_FOREST_DEFAULT_MAX_DEPTH;
    o->criterion = SVREF_FOREST_DEFAULT_CRITERION;
    o->bootstrap = SVREF_FOREST_DEFAULT_BOOTSTRAP;
    o->sample_fraction = SVREF_FOREST_DEFAULT_SAMPLE_FRACTION;
    o->class_weight = SVREF_FOREST_CW_NONE;
    o->class_weights[0] = 1.0;
    o->class_weights[1] = 1.0;
    o->seed = SVREF_FOREST_DEFAULT_SEED;
}

void svref_forest_free(svref_forest *f)
{
    if (!f) return;
    if (f->trees)
        for (int32_t t = 0; t < f->n_trees; t++) svref_tree_free(&f->trees[t]);
    free(f->trees);
    if (f->feature_names)
        for (int32_t j = 0; j < f->n_features; j++) free(f->feature_names[j]);
    free(f->feature_names);
    free(f->oob);
    free(f->inbag);
    free(f->pnodes);
    free(f->pnode_off);
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

/* Sorts keys code << 32 | position by their code (the high 32 bits,
 * code_bits of them used) with a least-significant-digit radix sort of
 * `digit`-bit digits (8 or 11); tmp holds n keys. Keys of one code end up
 * together, which is all the split search needs. */
static void radix_sort_codes(uint64_t *a, uint64_t *tmp, size_t n, int code_bits, int digit)
{
    uint64_t *src = a, *dst = tmp;
    uint32_t cnt[1u << 11];
    const uint64_t mask = ((uint64_t)1 << digit) - 1;
    for (int shift = 32; shift < 32 + code_bits; shift += digit) {
        memset(cnt, 0, (mask + 1) * sizeof cnt[0]);
        for (size_t i = 0; i < n; i++) cnt[(src[i] >> shift) & mask]++;
        uint32_t sum = 0;
        for (size_t d = 0; d <= mask; d++) {
            uint32_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & mask]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
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

/* A feature ranked once: each row's level (index among the sorted
 * distinct values) stored in as few bytes as the number of levels allows,
 * so that the gathers of a node's codes touch little memory. */
typedef struct feature_codes {
    void *code;          /* n codes of `width` bytes */
    int width;           /* 1, 2 or 4 */
    uint32_t n_levels;
    uint32_t *level_row; /* n_levels: a row whose value is that level */
} feature_codes;

typedef struct ranking {
    const double *X;
    size_t n;
    feature_codes *fc;  /* p */
    value_row **pairs;  /* one buffer of n per worker */
} ranking;

static sv_status rank_feature(void *ud, size_t j, int worker, sv_err *err)
{
    ranking *rk = ud;
    size_t n = rk->n;
    const double *x = rk->X + j * n;
    value_row *vr = rk->pairs[worker];
    for (size_t i = 0; i < n; i++) {
        vr[i].v = x[i] == 0.0 ? 0.0 : x[i]; /* -0 and +0 are one level */
        vr[i].row = (uint32_t)i;
    }
    qsort(vr, n, sizeof *vr, cmp_value_row);
    uint32_t L = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || vr[k].v > vr[k - 1].v) L++;
    feature_codes *fc = &rk->fc[j];
    fc->n_levels = L;
    fc->width = L <= 256 ? 1 : L <= 65536 ? 2 : 4;
    fc->code = sv_malloc(n, (size_t)fc->width);
    fc->level_row = sv_malloc(L, sizeof *fc->level_row);
    if (!fc->code || !fc->level_row)
        return sv_err_set(err, SV_ENOMEM, "out of memory ranking feature %zu", j + 1);
    uint8_t *c8 = fc->code;
    uint16_t *c16 = fc->code;
    uint32_t *c32 = fc->code;
    uint32_t lev = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || vr[k].v > vr[k - 1].v) fc->level_row[lev++] = vr[k].row;
        uint32_t c = lev - 1, r = vr[k].row;
        if (fc->width == 1) c8[r] = (uint8_t)c;
        else if (fc->width == 2) c16[r] = (uint16_t)c;
        else c32[r] = c;
    }
    return SV_OK;
}

/* ---- growing one tree ------------------------------------------------ */

/*
 * Weights: a row drawn k times counts k, times its class weight. So every
 * weighted sum over rows is cw[0] * (count of class 0) and cw[1] * (count
 * of class 1) with integer counts: the search accumulates integers (exact,
 * order-free) and multiplies by the class weights only when it evaluates
 * a boundary or stores a node.
 */

/* A row of a node: kept together so that the scans over a node read
 * memory sequentially; only the feature's code is gathered by row. */
typedef struct sample {
    uint32_t row;
    uint32_t y;   /* class 0 or 1 */
    uint32_t cnt; /* bootstrap count >= 1 */
} sample;

typedef struct level_acc {
    uint32_t c[2]; /* bootstrap counts of class 0 and class 1 at this level */
    uint32_t n;    /* distinct rows */
} level_acc;

typedef struct node_frame {
    uint32_t start, end;
    int32_t depth, parent;
    int side;       /* 0: left child of parent, 1: right */
    uint32_t c0, c1; /* bootstrap counts of class 0 and 1 */
} node_frame;

typedef struct scratch {
    uint32_t *cnt;     /* n bootstrap counts (by row) */
    uint32_t *perm;    /* n: rows drawn without replacement */
    sample *smp;       /* n: the node ranges of distinct in-bag rows */
    uint32_t *cbuf;    /* n: the node's codes of one feature */
    uint64_t *keys;    /* n: sort keys code << 32 | position in node */
    uint64_t *keys2;   /* n: radix sort buffer */
    level_acc *hist;   /* max levels, kept all zero between uses */
    uint32_t *feat;    /* p: feature draw order */
    node_frame *stack; /* n + 1 */
    svref_tree nodes;     /* capacity 2n - 1 */
} scratch;

typedef struct trainer {
    size_t n, p;
    const double *X;
    const feature_codes *fc;
    const uint8_t *y;
    double cw[2];
    svref_forest_opts o;      /* resolved: mtry in 1..p */
    size_t n_draw;
    svref_forest *f;
    scratch *scr;          /* one per worker */
} trainer;

typedef struct best_split {
    double proxy;
    int32_t feature;
    uint32_t lev_a, lev_b; /* last level left, first level right */
    uint32_t l0, l1;       /* bootstrap counts of each class on the left */
    uint32_t nl;
    int found;
} best_split;

/* Node impurity from the weights of class 0 and 1 (w0 + w1 > 0). */
static double impurity(svref_forest_criterion c, double w0, double w1)
{
    double W = w0 + w1;
    if (c == SVREF_FOREST_GINI) return 1.0 - (w0 * w0 + w1 * w1) / (W * W);
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
static double split_proxy(svref_forest_criterion c, double l0, double l1,
                          double r0, double r1)
{
    double wl = l0 + l1, wr = r0 + r1;
    if (c == SVREF_FOREST_GINI) return (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;
    return -wl * impurity(c, l0, l1) - wr * impurity(c, r0, r1);
}

/* The scan over the levels present in a node, in increasing order: a
 * candidate boundary lies between consecutive present levels. */
typedef struct scan_state {
    uint32_t l0, l1, nl;
    uint32_t prev;
    int have_prev;
} scan_state;

static inline void scan_group(scan_state *s, best_split *b, const trainer *tr,
                              int32_t feature, uint32_t code, uint32_t g0,
                              uint32_t g1, uint32_t gn, uint32_t nnode,
                              uint32_t c0, uint32_t c1)
{
    if (s->have_prev) {
        uint32_t nr = nnode - s->nl;
        uint32_t ml = (uint32_t)tr->o.min_leaf;
        if (s->nl >= ml && nr >= ml) {
            const double *cw = tr->cw;
            double pr = split_proxy(tr->o.criterion, cw[0] * s->l0, cw[1] * s->l1,
                                    cw[0] * (c0 - s->l0), cw[1] * (c1 - s->l1));
            if (!b->found || pr > b->proxy) {
                b->found = 1;
                b->proxy = pr;
                b->feature = feature;
                b->lev_a = s->prev;
                b->lev_b = code;
                b->l0 = s->l0;
                b->l1 = s->l1;
                b->nl = s->nl;
            }
        }
    }
    s->l0 += g0;
    s->l1 += g1;
    s->nl += gn;
    s->prev = code;
    s->have_prev = 1;
}

/* The codes of feature fc for the node's rows, in node order. */
static void gather_codes(const feature_codes *fc, const sample *smp, uint32_t m,
                         uint32_t *out)
{
    if (fc->width == 1) {
        const uint8_t *c = fc->code;
        for (uint32_t k = 0; k < m; k++) out[k] = c[smp[k].row];
    } else if (fc->width == 2) {
        const uint16_t *c = fc->code;
        for (uint32_t k = 0; k < m; k++) out[k] = c[smp[k].row];
    } else {
        const uint32_t *c = fc->code;
        for (uint32_t k = 0; k < m; k++) out[k] = c[smp[k].row];
    }
}

/* Evaluates every boundary of feature f in the node; returns 0 when the
 * feature is constant there. */
static int eval_feature(const trainer *tr, scratch *s, int32_t f,
                        uint32_t start, uint32_t end, uint32_t c0, uint32_t c1,
                        best_split *b)
{
    const feature_codes *fc = &tr->fc[f];
    uint32_t L = fc->n_levels;
    if (L < 2) return 0;
    const sample *smp = s->smp + start;
    uint32_t nnode = end - start;
    scan_state st = {0};
    uint32_t *cb = s->cbuf;
    gather_codes(fc, smp, nnode, cb);

    if ((uint64_t)L <= (uint64_t)nnode * SVREF_FOREST_COUNT_RATIO) {
        level_acc *h = s->hist;
        uint32_t lo = UINT32_MAX, hi = 0;
        for (uint32_t k = 0; k < nnode; k++) {
            uint32_t c = cb[k];
            h[c].c[smp[k].y] += smp[k].cnt;
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
            scan_group(&st, b, tr, f, c, h[c].c[0], h[c].c[1], h[c].n, nnode, c0, c1);
            memset(&h[c], 0, sizeof h[c]);
        }
        return 1;
    }

    uint64_t *keys = s->keys;
    for (uint32_t k = 0; k < nnode; k++) keys[k] = (uint64_t)cb[k] << 32 | k;
    if (nnode >= SVREF_FOREST_RADIX_MIN) {
        int bits = 1;
        while (bits < 32 && (L - 1) >> bits) bits++;
        radix_sort_codes(keys, s->keys2, nnode, bits, nnode >= SVREF_FOREST_RADIX_WIDE ? 11 : 8);
    } else {
        sort_u64(keys, nnode);
    }
    if ((keys[0] >> 32) == (keys[nnode - 1] >> 32)) return 0;
    uint32_t k = 0;
    while (k < nnode) {
        uint32_t c = (uint32_t)(keys[k] >> 32);
        uint32_t g[2] = {0, 0};
        uint32_t gn = 0;
        while (k < nnode && (uint32_t)(keys[k] >> 32) == c) {
            const sample *sm = &smp[(uint32_t)keys[k]];
            g[sm->y] += sm->cnt;
            gn++;
            k++;
        }
        scan_group(&st, b, tr, f, c, g[0], g[1], gn, nnode, c0, c1);
    }
    return 1;
}

/* Draws features without replacement (partial Fisher-Yates over feat)
 * until mtry were visited and one of them was not constant, keeping the
 * best split; scikit-learn's rule. */
static void find_split(const trainer *tr, scratch *s, sv_rng *rng,
                       uint32_t start, uint32_t end, uint32_t c0, uint32_t c1,
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
        if (eval_feature(tr, s, (int32_t)feat[k], start, end, c0, c1, b)) nonconst++;
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
    const svref_forest_opts *o = &tr->o;
    const double *cw = tr->cw;
    sv_rng rng;
    sv_rng_init(&rng, o->seed, (uint64_t)t);

    /* rows in bag */
    memset(s->cnt, 0, n * sizeof *s->cnt);
    if (o->bootstrap) {
        for (size_t k = 0; k < tr->n_draw; k++) s->cnt[sv_rng_below(&rng, n)]++;
    } else if (tr->n_draw >= n) {
        for (size_t i = 0; i < n; i++) s->cnt[i] = 1;
    } else {
        for (size_t i = 0; i < n; i++) s->perm[i] = (uint32_t)i;
        sv_rng_partial_shuffle_u32(&rng, s->perm, n, tr->n_draw);
        for (size_t k = 0; k < tr->n_draw; k++) s->cnt[s->perm[k]] = 1;
    }
    uint64_t *bits = tr->f->inbag + t * tr->f->inbag_words;
    uint32_t n_in = 0, c[2] = {0, 0};
    for (size_t r = 0; r < n; r++) {
        if (!s->cnt[r]) continue;
        s->smp[n_in++] = (sample){(uint32_t)r, tr->y[r], s->cnt[r]};
        c[tr->y[r]] += s->cnt[r];
        bits[r >> 6] |= (uint64_t)1 << (r & 63);
    }
    for (size_t j = 0; j < tr->p; j++) s->feat[j] = (uint32_t)j;

    svref_tree *nd = &s->nodes;
    int32_t nn = 0;
    size_t sp = 0;
    s->stack[sp++] = (node_frame){0, n_in, 0, -1, 0, c[0], c[1]};
    while (sp > 0) {
        node_frame fr = s->stack[--sp];
        int32_t id = nn++;
        if (fr.parent >= 0) {
            if (fr.side == 0) nd->left[fr.parent] = id;
            else nd->right[fr.parent] = id;
        }
        double w0 = cw[0] * fr.c0, w1 = cw[1] * fr.c1;
        double imp = impurity(o->criterion, w0, w1);
        nd->feature[id] = -1;
        nd->threshold[id] = 0.0;
        nd->left[id] = -1;
        nd->right[id] = -1;
        nd->value[id] = w1 / (w0 + w1);
        nd->cover[id] = w0 + w1;
        nd->impurity[id] = imp;
        uint32_t nnode = fr.end - fr.start;
        if ((o->max_depth > 0 && fr.depth >= o->max_depth) ||
            nnode < (uint32_t)o->min_split || nnode < 2 * (uint32_t)o->min_leaf ||
            fr.c0 == 0 || fr.c1 == 0)
            continue;
        best_split b;
        find_split(tr, s, &rng, fr.start, fr.end, fr.c0, fr.c1, &b);
        if (!b.found) continue;
        const feature_codes *fc = &tr->fc[b.feature];
        const double *x = tr->X + (size_t)b.feature * n;
        nd->feature[id] = b.feature;
        nd->threshold[id] = midpoint(x[fc->level_row[b.lev_a]], x[fc->level_row[b.lev_b]]);
        /* partition on the codes gathered in node order, moved along */
        uint32_t *cb = s->cbuf;
        gather_codes(fc, s->smp + fr.start, nnode, cb);
        cb -= fr.start;
        uint32_t i = fr.start, e = fr.end;
        while (i < e) {
            if (cb[i] <= b.lev_a) {
                i++;
            } else {
                e--;
                sample tmp = s->smp[i];
                s->smp[i] = s->smp[e];
                s->smp[e] = tmp;
                uint32_t ct = cb[i];
                cb[i] = cb[e];
                cb[e] = ct;
            }
        }
        if (i - fr.start != b.nl)
            return sv_err_set(err, SV_ENUM, "internal error: partition mismatch in tree %zu", t);
        s->stack[sp++] = (node_frame){i, fr.end, fr.depth + 1, id, 1,
                                      fr.c0 - b.l0, fr.c1 - b.l1};
        s->stack[sp++] = (node_frame){fr.start, i, fr.depth + 1, id, 0, b.l0, b.l1};
    }

    svref_tree *out = &tr->f->trees[t];
    if (svref_tree_alloc(out, nn) != 0)
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

static sv_status check_opts(const svref_forest_opts *o, size_t p, sv_err *err)
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
    if (o->criterion != SVREF_FOREST_GINI && o->criterion != SVREF_FOREST_ENTROPY)
        return sv_err_set(err, SV_EINVAL, "unknown criterion %d", (int)o->criterion);
    if (!(o->sample_fraction > 0.0 && o->sample_fraction <= 1.0))
        return sv_err_set(err, SV_EINVAL, "sample_fraction must be in (0, 1], got %g",
                          o->sample_fraction);
    if (o->class_weight == SVREF_FOREST_CW_GIVEN &&
        !(o->class_weights[0] > 0 && o->class_weights[1] > 0 &&
          isfinite(o->class_weights[0]) && isfinite(o->class_weights[1])))
        return sv_err_set(err, SV_EINVAL, "class weights must be finite and > 0");
    return SV_OK;
}

/* ---- training ----------------------------------------------------------- */

static void free_scratch(scratch *s)
{
    free(s->cnt);
    free(s->perm);
    free(s->smp);
    free(s->keys);
    free(s->keys2);
    free(s->cbuf);
    free(s->hist);
    free(s->feat);
    free(s->stack);
    svref_tree_free(&s->nodes);
}

static sv_status alloc_scratch(scratch *s, size_t n, size_t p, size_t max_levels)
{
    memset(s, 0, sizeof *s);
    s->cnt = sv_malloc(n, sizeof *s->cnt);
    s->perm = sv_malloc(n, sizeof *s->perm);
    s->smp = sv_malloc(n, sizeof *s->smp);
    s->keys = sv_malloc(n, sizeof *s->keys);
    s->keys2 = sv_malloc(n, sizeof *s->keys2);
    s->cbuf = sv_malloc(n, sizeof *s->cbuf);
    s->hist = sv_calloc(max_levels, sizeof *s->hist);
    s->feat = sv_malloc(p, sizeof *s->feat);
    s->stack = sv_malloc(n + 1, sizeof *s->stack);
    if (!s->cnt || !s->perm || !s->smp || !s->keys || !s->keys2 || !s->cbuf || !s->hist || !s->feat || !s->stack ||
        svref_tree_alloc(&s->nodes, (int32_t)(2 * n - 1)) != 0) {
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

sv_status svref_forest_train(const double *X, size_t n, size_t p,
                          const double *y, const char *const *names,
                          const svref_forest_opts *opts, const sv_ctx *ctx,
                          svref_forest **out, sv_err *err)
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
    if (opts->class_weight == SVREF_FOREST_CW_BALANCED) {
        tr.cw[0] = (double)n / (2.0 * (double)(n - n1));
        tr.cw[1] = (double)n / (2.0 * (double)n1);
    } else if (opts->class_weight == SVREF_FOREST_CW_GIVEN) {
        tr.cw[0] = opts->class_weights[0];
        tr.cw[1] = opts->class_weights[1];
    } else {
        tr.cw[0] = tr.cw[1] = 1.0;
    }
    tr.o.class_weights[0] = tr.cw[0];
    tr.o.class_weights[1] = tr.cw[1];
    /* rows drawn: max(1, round(fraction * n)), rounding half to even as
     * Python's round() in scikit-learn's max_samples */
    double x = opts->sample_fraction * (double)n, nd = floor(x);
    if (x - nd > 0.5 || (x - nd == 0.5 && fmod(nd, 2.0) != 0.0)) nd += 1.0;
    tr.n_draw = nd < 1.0 ? 1 : (size_t)nd;
    if (tr.n_draw > n) tr.n_draw = n;

    int nw = sv_ctx_threads(ctx);
    if ((size_t)nw > (size_t)opts->n_trees) nw = opts->n_trees;
    uint8_t *ycls = sv_malloc(n, 1);
    feature_codes *fc = sv_calloc(p, sizeof *fc);
    value_row **pairs = sv_calloc((size_t)nw, sizeof *pairs);
    scratch *scr = sv_calloc((size_t)nw, sizeof *scr);
    svref_forest *f = sv_calloc(1, sizeof *f);
    if (!ycls || !fc || !pairs || !scr || !f) {
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
    ranking rk = {X, n, fc, pairs};
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
        if (fc[j].n_levels > max_levels) max_levels = fc[j].n_levels;

    tr.X = X;
    tr.fc = fc;
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
    st = svref_forest_pack(f, err);

done:
    if (pairs)
        for (int w = 0; w < nw; w++) free(pairs[w]);
    if (scr)
        for (int w = 0; w < nw; w++) free_scratch(&scr[w]);
    free(pairs);
    free(scr);
    free(ycls);
    if (fc)
        for (size_t j = 0; j < p; j++) {
            free(fc[j].code);
            free(fc[j].level_row);
        }
    free(fc);
    if (st != SV_OK) {
        svref_forest_free(f);
        return st;
    }
    *out = f;
    return SV_OK;
}

/* ---- prediction ----------------------------------------------------------- */

/* Leaf value for row i of the column-major X with n rows (unpacked
 * trees: forests assembled by hand, without svref_forest_pack). */
static inline double leaf_value(const svref_tree *t, const double *X, size_t n, size_t i)
{
    int32_t k = 0;
    while (t->left[k] >= 0)
        k = X[(size_t)t->feature[k] * n + i] <= t->threshold[k] ? t->left[k] : t->right[k];
    return t->value[k];
}

sv_status svref_forest_pack(svref_forest *f, sv_err *err)
{
    free(f->pnodes);
    free(f->pnode_off);
    f->pnodes = NULL;
    size_t total = 0;
    int32_t max_nodes = 1;
    for (int32_t t = 0; t < f->n_trees; t++) {
        total += (size_t)f->trees[t].n_nodes;
        if (f->trees[t].n_nodes > max_nodes) max_nodes = f->trees[t].n_nodes;
    }
    f->pnodes = sv_malloc(total ? total : 1, sizeof *f->pnodes);
    f->pnode_off = sv_malloc((size_t)f->n_trees + 1, sizeof *f->pnode_off);
    int32_t *stack = sv_malloc((size_t)max_nodes * 2, sizeof *stack);
    if (!f->pnodes || !f->pnode_off || !stack) {
        free(f->pnodes);
        free(f->pnode_off);
        free(stack);
        f->pnodes = NULL;
        f->pnode_off = NULL;
        return sv_err_set(err, SV_ENOMEM, "out of memory packing the forest");
    }
    size_t pos = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        const svref_tree *tr = &f->trees[t];
        f->pnode_off[t] = pos;
        svref_forest_pnode *out = f->pnodes + pos;
        /* preorder, left child first: a node's left child is the next
         * node; pairs (node id, packed index whose `right` to patch) */
        int32_t sp = 0, k = 0;
        stack[sp++] = 0;
        stack[sp++] = -1;
        while (sp > 0) {
            int32_t patch = stack[--sp];
            int32_t id = stack[--sp];
            int32_t me = k++;
            if (patch >= 0) out[patch].right = me;
            if (tr->left[id] < 0) {
                out[me] = (svref_forest_pnode){tr->value[id], -1, -1};
            } else {
                out[me] = (svref_forest_pnode){tr->threshold[id], tr->feature[id], 0};
                stack[sp++] = tr->right[id];
                stack[sp++] = me;
                stack[sp++] = tr->left[id];
                stack[sp++] = -1;
            }
        }
        pos += (size_t)tr->n_nodes;
    }
    f->pnode_off[f->n_trees] = pos;
    free(stack);
    return SV_OK;
}

typedef struct predictor {
    const svref_forest *f;
    const double *X;
    size_t n, p;
    double *out;
    int oob;        /* average only the trees for which the row was OOB */
    size_t block;   /* rows per task */
    double *rows;   /* per worker: block x p row-major, then 2 x block sums */
} predictor;

static sv_status predict_block(void *ud, size_t b, int worker, sv_err *err)
{
    (void)err;
    predictor *pr = ud;
    const svref_forest *f = pr->f;
    size_t p = pr->p, n = pr->n;
    size_t B = pr->block;
    size_t i0 = b * B;
    size_t i1 = i0 + B;
    if (i1 > n) i1 = n;
    size_t m = i1 - i0;
    /* the block's rows, row-major, so a traversal reads one small buffer */
    double *xb = pr->rows + (size_t)worker * B * (p + 2);
    double *sum = xb + B * p, *cnt = sum + B;
    for (size_t i = 0; i < m; i++) sum[i] = cnt[i] = 0.0;
    if (f->pnodes)
        for (size_t j = 0; j < p; j++)
            for (size_t i = 0; i < m; i++) xb[i * p + j] = pr->X[j * n + i0 + i];
    for (int32_t t = 0; t < f->n_trees; t++) {
        const uint64_t *bits = pr->oob ? f->inbag + (size_t)t * f->inbag_words : NULL;
        const svref_forest_pnode *nodes = f->pnodes ? f->pnodes + f->pnode_off[t] : NULL;
        for (size_t i = 0; i < m; i++) {
            size_t row = i0 + i;
            if (bits && (bits[row >> 6] >> (row & 63) & 1)) continue;
            double v;
            if (nodes) {
                const double *x = xb + i * p;
                int32_t k = 0;
                while (nodes[k].feature >= 0)
                    k = x[nodes[k].feature] <= nodes[k].tv ? k + 1 : nodes[k].right;
                v = nodes[k].tv;
            } else {
                v = leaf_value(&f->trees[t], pr->X, n, row);
            }
            sum[i] += v;
            cnt[i] += 1.0;
        }
    }
    for (size_t i = 0; i < m; i++) {
        if (pr->oob) pr->out[i0 + i] = cnt[i] > 0 ? sum[i] / cnt[i] : NAN;
        else pr->out[i0 + i] = sum[i] / (double)f->n_trees;
    }
    return SV_OK;
}

static sv_status run_predict(const svref_forest *f, const double *X, size_t n, int oob,
                             const sv_ctx *ctx, double *out, sv_err *err)
{
    size_t p = (size_t)f->n_features;
    int nw = sv_ctx_threads(ctx);
    size_t B = SVREF_FOREST_PREDICT_BLOCK;
    while (B > 64 && (n + B - 1) / B < 2 * (size_t)nw) B /= 2;
    double *rows = sv_malloc((size_t)nw * B, (p + 2) * sizeof *rows);
    if (!rows) return sv_err_set(err, SV_ENOMEM, "out of memory predicting");
    predictor pr = {f, X, n, p, out, oob, B, rows};
    size_t blocks = (n + B - 1) / B;
    sv_status st = sv_parallel_for(ctx, oob ? "forest.oob" : "forest.predict", blocks, nw,
                                   predict_block, &pr, err);
    free(rows);
    return st;
}

sv_status svref_forest_predict(const svref_forest *f, const double *X, size_t n,
                            size_t p, const sv_ctx *ctx, double *out,
                            sv_err *err)
{
    if (p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL, "X has %zu columns, the forest was trained on %d",
                          p, (int)f->n_features);
    sv_status st = check_finite(X, n, p, err);
    if (st != SV_OK) return st;
    return run_predict(f, X, n, 0, ctx, out, err);
}

sv_status svref_forest_compute_oob(svref_forest *f, const double *X, size_t n,
                                size_t p, const sv_ctx *ctx, sv_err *err)
{
    if (f->oob) return SV_OK;
    if (!f->inbag || n != f->n_train || p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL, "OOB predictions need the %zu x %d training data and the "
                                          "in-bag record of training", f->n_train, (int)f->n_features);
    double *oob = sv_malloc(n ? n : 1, sizeof *oob);
    if (!oob) return sv_err_set(err, SV_ENOMEM, "out of memory for OOB predictions");
    sv_status st = run_predict(f, X, n, 1, ctx, oob, err);
    if (st != SV_OK) {
        free(oob);
        return st;
    }
    f->oob = oob;
    return SV_OK;
}

/* ---- importance and statistics ---------------------------------------------- */

sv_status svref_forest_importance_impurity(const svref_forest *f, double *out,
                                        sv_err *err)
{
    size_t p = (size_t)f->n_features;
    double *tree_imp = sv_malloc(p ? p : 1, sizeof *tree_imp);
    if (!tree_imp) return sv_err_set(err, SV_ENOMEM, "out of memory");
    for (size_t j = 0; j < p; j++) out[j] = 0.0;
    int32_t used = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        const svref_tree *tr = &f->trees[t];
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

void svref_forest_depth_stats(const svref_forest *f, int *dmin, double *dmean,
                           int *dmax, size_t *leaves)
{
    int lo = 0, hi = 0;
    double sum = 0.0;
    size_t nl = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        int d = svref_tree_depth(&f->trees[t]);
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
/*
 * tree.c - storage and traversal of the flat tree of svref_tree.h.
 */


int svref_tree_alloc(svref_tree *t, int32_t n_nodes)
{
    memset(t, 0, sizeof *t);
    size_t n = n_nodes > 0 ? (size_t)n_nodes : 0;
    t->feature = sv_calloc(n, sizeof *t->feature);
    t->threshold = sv_calloc(n, sizeof *t->threshold);
    t->left = sv_calloc(n, sizeof *t->left);
    t->right = sv_calloc(n, sizeof *t->right);
    t->value = sv_calloc(n, sizeof *t->value);
    t->cover = sv_calloc(n, sizeof *t->cover);
    t->impurity = sv_calloc(n, sizeof *t->impurity);
    if (!t->feature || !t->threshold || !t->left || !t->right || !t->value ||
        !t->cover || !t->impurity) {
        svref_tree_free(t);
        return -1;
    }
    t->n_nodes = n_nodes;
    return 0;
}

void svref_tree_free(svref_tree *t)
{
    if (!t) return;
    free(t->feature);
    free(t->threshold);
    free(t->left);
    free(t->right);
    free(t->value);
    free(t->cover);
    free(t->impurity);
    memset(t, 0, sizeof *t);
}

int svref_tree_depth(const svref_tree *t)
{
    if (t->n_nodes <= 0) return 0;
    /* Children always have larger ids than their parent in trees grown
     * or loaded by sylva (the loader checks it), so one forward pass
     * propagates depths. */
    int *d = sv_calloc((size_t)t->n_nodes, sizeof *d);
    if (!d) return -1;
    int best = 0;
    for (int32_t i = 0; i < t->n_nodes; i++) {
        if (d[i] > best) best = d[i];
        if (t->left[i] >= 0) {
            d[t->left[i]] = d[i] + 1;
            d[t->right[i]] = d[i] + 1;
        }
    }
    free(d);
    return best;
}

double svref_tree_predict_row(const svref_tree *t, const double *x)
{
    int32_t n = 0;
    while (t->left[n] >= 0)
        n = x[t->feature[n]] <= t->threshold[n] ? t->left[n] : t->right[n];
    return t->value[n];
}
