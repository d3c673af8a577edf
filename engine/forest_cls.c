/*
 * forest_cls.c - the classification splitter of the tree grower
 * (forest_grow.h) and sv_forest_train.
 *
 * Weights: a row drawn k times counts k, times its class weight. So every
 * weighted sum over rows is cw[c] * (count of class c) with integer
 * counts: the statistic of a node is its K bootstrap counts (uint32,
 * exact and order-free), multiplied by the class weights only when a
 * boundary is scored or a node stored. Impurity is scikit-learn's gini
 * 1 - sum_c q_c^2 or entropy -sum_c q_c log2 q_c of the weighted class
 * fractions q_c; a boundary scores scikit-learn's proxy
 * sum_c wl_c^2 / Wl + sum_c wr_c^2 / Wr (gini) or -(Wl H_l + Wr H_r)
 * (entropy), which orders splits as the weighted impurity decrease.
 * The scan is compiled for 2 classes (cls2_eval, and cls2p_eval with
 * packed counts in front of it for the nodes whose counts fit), for 3
 * (cls3_eval; the counts unrolled in both) and for any K (clsk_eval). A
 * 2-class node stores its class-1 fraction (one value, the version-1
 * tree); K > 2 classes store the K fractions.
 */
#include "forest_grow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_LN2 0.69314718055994530942

typedef struct cls_ctx {
    uint32_t K;
    sv_forest_criterion crit;
    const double *cw; /* K class weights */
} cls_ctx;

/* Impurity of weights w[0..K) with total W > 0. */
static inline double cls_impurity(sv_forest_criterion crit, const double *w, uint32_t K, double W)
{
    if (crit == SV_FOREST_GINI) {
        double s = 0.0;
        for (uint32_t k = 0; k < K; k++) s += w[k] * w[k];
        return 1.0 - s / (W * W);
    }
    double h = 0.0;
    for (uint32_t k = 0; k < K; k++)
        if (w[k] > 0) {
            double q = w[k] / W;
            h -= q * sv_portable_log(q);
        }
    return h / SV_LN2;
}

/* The score of a boundary: left counts l, node counts c. */
static inline double cls_score(const cls_ctx *x, uint32_t K, const uint32_t *l, const uint32_t *c)
{
    const double *cw = x->cw;
    if (x->crit == SV_FOREST_GINI) {
        /* sums start from class 0's terms (not 0.0 + ...: one add less
         * on the path to the division, and the same bits) */
        double wl = cw[0] * l[0], wr = cw[0] * (c[0] - l[0]);
        double sl = wl * wl, sr = wr * wr;
        for (uint32_t k = 1; k < K; k++) {
            double a = cw[k] * l[k], b = cw[k] * (c[k] - l[k]);
            sl += a * a;
            wl += a;
            sr += b * b;
            wr += b;
        }
        return sl / wl + sr / wr;
    }
    double wlv[K], wrv[K];
    double wl = 0.0, wr = 0.0;
    for (uint32_t k = 0; k < K; k++) {
        wlv[k] = cw[k] * l[k];
        wrv[k] = cw[k] * (c[k] - l[k]);
        wl += wlv[k];
        wr += wrv[k];
    }
    return -wl * cls_impurity(x->crit, wlv, K, wl) - wr * cls_impurity(x->crit, wrv, K, wr);
}

/* ---- the scan, compiled for K = 2 and for any K ---------------------- */

/* The 2-class score from the four weighted counts, kept out of line:
 * inlined, its registers crowd the scan loop, and passing the counts by
 * value lets the scan keep its running sums in registers (each measured
 * at several percent of training time). The same arithmetic as
 * cls_score with K = 2. */
static __attribute__((noinline)) double cls2_proxy(sv_forest_criterion crit, double l0, double l1,
                                                   double r0, double r1)
{
    double wl = l0 + l1, wr = r0 + r1;
    if (crit == SV_FOREST_GINI) return (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;
    double a[2] = {l0, l1}, b[2] = {r0, r1};
    return -wl * cls_impurity(crit, a, 2, wl) - wr * cls_impurity(crit, b, 2, wr);
}

typedef struct cls2_stat {
    uint32_t c[2];
} cls2_stat;

#define SCAN_NAME cls2_eval
#define SCAN_CTX cls_ctx
#define SCAN_STAT_T cls2_stat
#define SCAN_BANKS /* integer counts */
#define SCAN_STAT_BYTES(c) (2 * sizeof(uint32_t))
#define SCAN_SLOT_BYTES(c) (3 * sizeof(uint32_t))
/* Masks instead of indexing by the class: the group's two sums stay in
 * registers (indexed, they went through memory and a stalled 64-bit
 * reload, ~10% of training time). */
#define SCAN_ADD_ROW(c, st, s)                                         \
    do {                                                               \
        uint32_t y_ = (s)->y, n_ = (s)->cnt;                           \
        ((uint32_t *)(st))[0] += n_ & (y_ - 1u);                       \
        ((uint32_t *)(st))[1] += n_ & (0u - y_);                       \
    } while (0)
#define SCAN_ADD_STAT(c, d, s)                                         \
    do {                                                               \
        ((uint32_t *)(d))[0] += ((const uint32_t *)(s))[0];            \
        ((uint32_t *)(d))[1] += ((const uint32_t *)(s))[1];            \
    } while (0)
#define SCAN_SCORE(c, l, nd)                                                           \
    cls2_proxy((c)->crit, (c)->cw[0] * ((const uint32_t *)(l))[0],                     \
               (c)->cw[1] * ((const uint32_t *)(l))[1],                                \
               (c)->cw[0] * (((const uint32_t *)(nd))[0] - ((const uint32_t *)(l))[0]), \
               (c)->cw[1] * (((const uint32_t *)(nd))[1] - ((const uint32_t *)(l))[1]))
#include "forest_scan.h"

/* ---- the 2-class scan with packed counts -------------------------------
 * What cls2_eval computes, cheaper for the nodes it spends most time on
 * (a few hundred rows, binary or low-cardinality features): a row adds to
 * its level's slot one 64-bit word holding its bootstrap count in the
 * class-0 field (bits 0-20) or the class-1 field (bits 21-41) and 1 in
 * the distinct-row field (bits 42-63): one read-modify-write per row
 * instead of three, the codes read straight from the feature's code array
 * (no gather into a buffer), and a binary feature needs no histogram at
 * all, the words of its level-0 rows summed in a register. The fields
 * hold the same integer counts as cls2_eval's (no field can carry: the
 * node's total count is checked to fit), the boundaries are scored in
 * the same order by the same expression, so the same split is chosen.
 * Nodes whose counts do not fit, and the sorting branch (many levels,
 * few rows), are left to cls2_eval. */
#define P2_BITS 21
#define P2_MASK (((uint64_t)1 << P2_BITS) - 1)
#define P2_ROW ((uint64_t)1 << (2 * P2_BITS))

static inline uint64_t p2_word(const sv_grow_sample *s)
{
    return ((uint64_t)s->cnt << (P2_BITS & (0u - s->y))) + P2_ROW;
}

/* The boundary between level prev and level code, with left the packed
 * counts of the levels up to prev and nc the node's counts. */
static inline void p2_boundary(const cls_ctx *c, sv_grow_best *b, int32_t f, uint32_t ml,
                               uint32_t nnode, const uint32_t *nc, uint64_t left,
                               uint32_t prev, uint32_t code)
{
    uint32_t nl = (uint32_t)(left >> (2 * P2_BITS)), nr = nnode - nl;
    if (nl < ml || nr < ml) return;
    uint32_t l0 = (uint32_t)(left & P2_MASK), l1 = (uint32_t)(left >> P2_BITS & P2_MASK);
    double a = c->cw[0] * l0, bb = c->cw[1] * l1, r0 = c->cw[0] * (nc[0] - l0),
           r1 = c->cw[1] * (nc[1] - l1), pr;
    if (c->crit == SV_FOREST_GINI) /* cls2_proxy's gini, inlined: the same operations */
        pr = (a * a + bb * bb) / (a + bb) + (r0 * r0 + r1 * r1) / (r0 + r1);
    else
        pr = cls2_proxy(c->crit, a, bb, r0, r1);
    if (!b->found || pr > b->proxy) {
        uint32_t lv[2] = {l0, l1};
        sv_grow_best_take(b, pr, f, prev, code, nl, lv, sizeof lv);
    }
}

/* Counts the node's rows into the two banks h and h2 (alternating rows)
 * by their code of type T; lo and hi get the smallest and largest code. */
#define P2_COUNT(T)                                                    \
    do {                                                               \
        const T *code_ = fc->code;                                     \
        uint32_t k_ = 0;                                               \
        for (; k_ + 1 < nnode; k_ += 2) {                              \
            uint32_t c1_ = code_[smp[k_].row], c2_ = code_[smp[k_ + 1].row]; \
            h[c1_] += p2_word(&smp[k_]);                               \
            h2[c2_] += p2_word(&smp[k_ + 1]);                          \
            uint32_t a_ = c1_ < c2_ ? c1_ : c2_, z_ = c1_ < c2_ ? c2_ : c1_; \
            if (a_ < lo) lo = a_;                                      \
            if (z_ > hi) hi = z_;                                      \
        }                                                              \
        if (k_ < nnode) {                                              \
            uint32_t c1_ = code_[smp[k_].row];                         \
            h[c1_] += p2_word(&smp[k_]);                               \
            if (c1_ < lo) lo = c1_;                                    \
            if (c1_ > hi) hi = c1_;                                    \
        }                                                              \
    } while (0)

static int cls2p_eval(const sv_grower *g, sv_grow_scratch *s, int32_t f, uint32_t start,
                      uint32_t end, const void *node_stat, sv_grow_best *b)
{
    const uint32_t *nc = node_stat;
    const sv_grow_codes *fc = &g->fc[f];
    uint32_t L = fc->n_levels, nnode = end - start;
    if (L < 2) return 0;
    if ((uint64_t)nc[0] + nc[1] > P2_MASK || (uint64_t)L > (uint64_t)nnode * SV_GROW_COUNT_RATIO)
        return cls2_eval(g, s, f, start, end, node_stat, b);
    const cls_ctx *c = g->sp->ctx;
    const sv_grow_sample *smp = s->smp + start;
    uint32_t ml = (uint32_t)g->o.min_leaf;
    if (L == 2) {
        const uint8_t *code = fc->code; /* two levels: one byte */
        uint64_t left = 0;
        for (uint32_t k = 0; k < nnode; k++)
            left += p2_word(&smp[k]) & ((uint64_t)code[smp[k].row] - 1u);
        uint32_t nl = (uint32_t)(left >> (2 * P2_BITS));
        if (nl == 0 || nl == nnode) return 0;
        p2_boundary(c, b, f, ml, nnode, nc, left, 0, 1);
        return 1;
    }
    /* the histogram's memory, as two banks of 64-bit slots */
    uint64_t *h = (uint64_t *)(void *)s->hist, *h2 = h + s->hist_bank / g->sp->slot_bytes;
    uint32_t lo = UINT32_MAX, hi = 0;
    if (fc->width == 1) P2_COUNT(uint8_t);
    else if (fc->width == 2) P2_COUNT(uint16_t);
    else P2_COUNT(uint32_t);
    if (lo == hi) {
        h[lo] = h2[lo] = 0;
        return 0;
    }
    /* the levels present, in order, gathered without a branch (which
     * levels are empty follows no pattern: a branch on it was the most
     * mispredicted one of the scan), then their boundaries scored */
    uint64_t *gv = s->keys;
    uint32_t *gc = s->cbuf, m = 0;
    for (uint32_t code = lo; code <= hi; code++) {
        uint64_t e = h[code] + h2[code];
        h[code] = 0;
        h2[code] = 0;
        gv[m] = e;
        gc[m] = code;
        m += e != 0;
    }
    uint64_t left = gv[0];
    for (uint32_t j = 1; j < m; j++) {
        p2_boundary(c, b, f, ml, nnode, nc, left, gc[j - 1], gc[j]);
        left += gv[j];
    }
    return 1;
}

/* The 3-class scan (zero / low / positive HER2): the counts unrolled and
 * kept in registers like the 2-class one, the histogram slot 16 bytes,
 * two banks. The proxy takes the six weighted counts by value and does
 * cls_score's arithmetic for K = 3 in the same order (same bits); the
 * generic scan spent a third of K = 3 training in the out-of-line
 * cls_score and in statistics kept in memory. */
static __attribute__((noinline)) double cls3_proxy(sv_forest_criterion crit, double l0, double l1,
                                                   double l2, double r0, double r1, double r2)
{
    double wl = l0 + l1 + l2, wr = r0 + r1 + r2;
    if (crit == SV_FOREST_GINI) return (l0 * l0 + l1 * l1 + l2 * l2) / wl + (r0 * r0 + r1 * r1 + r2 * r2) / wr;
    double a[3] = {l0, l1, l2}, b[3] = {r0, r1, r2};
    return -wl * cls_impurity(crit, a, 3, wl) - wr * cls_impurity(crit, b, 3, wr);
}

typedef struct cls3_stat {
    uint32_t c[3];
} cls3_stat;

#define SCAN_NAME cls3_eval
#define SCAN_CTX cls_ctx
#define SCAN_STAT_T cls3_stat
#define SCAN_BANKS /* integer counts */
#define SCAN_STAT_BYTES(c) (3 * sizeof(uint32_t))
#define SCAN_SLOT_BYTES(c) (4 * sizeof(uint32_t))
#define SCAN_ADD_ROW(c, st, s)                                         \
    do {                                                               \
        uint32_t y_ = (s)->y, n_ = (s)->cnt;                           \
        ((uint32_t *)(st))[0] += n_ & (0u - (uint32_t)(y_ == 0));      \
        ((uint32_t *)(st))[1] += n_ & (0u - (uint32_t)(y_ == 1));      \
        ((uint32_t *)(st))[2] += n_ & (0u - (uint32_t)(y_ == 2));      \
    } while (0)
#define SCAN_ADD_STAT(c, d, s)                                         \
    do {                                                               \
        ((uint32_t *)(d))[0] += ((const uint32_t *)(s))[0];            \
        ((uint32_t *)(d))[1] += ((const uint32_t *)(s))[1];            \
        ((uint32_t *)(d))[2] += ((const uint32_t *)(s))[2];            \
    } while (0)
#define SCAN_SCORE(c, l, nd)                                                           \
    cls3_proxy((c)->crit, (c)->cw[0] * ((const uint32_t *)(l))[0],                     \
               (c)->cw[1] * ((const uint32_t *)(l))[1],                                \
               (c)->cw[2] * ((const uint32_t *)(l))[2],                                \
               (c)->cw[0] * (((const uint32_t *)(nd))[0] - ((const uint32_t *)(l))[0]), \
               (c)->cw[1] * (((const uint32_t *)(nd))[1] - ((const uint32_t *)(l))[1]), \
               (c)->cw[2] * (((const uint32_t *)(nd))[2] - ((const uint32_t *)(l))[2]))
#include "forest_scan.h"

#define SCAN_NAME clsk_eval
#define SCAN_CTX cls_ctx
#define SCAN_STAT_BYTES(c) ((size_t)(c)->K * sizeof(uint32_t))
#define SCAN_SLOT_BYTES(c) ((size_t)((c)->K + 1) * sizeof(uint32_t))
#define SCAN_ADD_ROW(c, st, s) (((uint32_t *)(st))[(s)->y] += (s)->cnt)
#define SCAN_ADD_STAT(c, d, s)                                         \
    do {                                                               \
        for (uint32_t k_ = 0; k_ < (c)->K; k_++)                       \
            ((uint32_t *)(d))[k_] += ((const uint32_t *)(s))[k_];      \
    } while (0)
#define SCAN_SCORE(c, l, nd) cls_score((c), (c)->K, (const uint32_t *)(l), (const uint32_t *)(nd))
#include "forest_scan.h"

/* ---- per-node operations --------------------------------------------- */

static void cls_stat_rows(const void *ctx, const sv_grow_sample *s, uint32_t m, void *stat)
{
    const cls_ctx *x = ctx;
    uint32_t *c = stat;
    memset(c, 0, x->K * sizeof *c);
    for (uint32_t k = 0; k < m; k++) c[s[k].y] += s[k].cnt;
}

static void cls_stat_sub(const void *ctx, const void *node, const void *left, void *right)
{
    const cls_ctx *x = ctx;
    const uint32_t *a = node, *b = left;
    uint32_t *r = right;
    for (uint32_t k = 0; k < x->K; k++) r[k] = a[k] - b[k];
}

static int cls_summarise(const void *ctx, const void *stat, double *value, double *cover,
                         double *impurity)
{
    const cls_ctx *x = ctx;
    const uint32_t *c = stat;
    uint32_t K = x->K, present = 0;
    if (K == 2 && x->crit == SV_FOREST_GINI) {
        /* the general code below for K = 2, gini, unrolled (a call per
         * node; the same operations in the same order: a sum started from
         * 0.0 plus a first term >= 0 is that term) */
        double w0 = x->cw[0] * c[0], w1 = x->cw[1] * c[1];
        double W = w0 + w1;
        *impurity = 1.0 - (w0 * w0 + w1 * w1) / (W * W);
        value[0] = w1 / W;
        *cover = W;
        return (c[0] > 0) + (c[1] > 0) <= 1;
    }
    double w[K];
    double W = 0.0;
    for (uint32_t k = 0; k < K; k++) {
        w[k] = x->cw[k] * c[k];
        W += w[k];
        present += c[k] > 0;
    }
    *impurity = cls_impurity(x->crit, w, K, W);
    if (K == 2) {
        value[0] = w[1] / W;
    } else {
        for (uint32_t k = 0; k < K; k++) value[k] = w[k] / W;
    }
    *cover = W;
    return present <= 1;
}

/* ---- training ----------------------------------------------------------- */

/* The common part of both entry points: y holds class indices 0..K-1,
 * each present; cw the K resolved class weights. */
static sv_status train_cls(const double *X, size_t n, size_t p, const uint32_t *ycls, uint32_t K,
                           const double *cw, const char *const *names,
                           const sv_forest_opts *opts, const sv_ctx *ctx, sv_forest **out,
                           sv_err *err)
{
    sv_status st = SV_OK;
    sv_forest_opts o = *opts;
    if (o.mtry == 0) {
        int32_t k = 1;
        while ((size_t)(k + 1) * (size_t)(k + 1) <= p) k++;
        o.mtry = k;
    }
    if (K == 2) {
        o.class_weights[0] = cw[0];
        o.class_weights[1] = cw[1];
    } else {
        /* a version-2 file stores the K weights; these two stay valid */
        o.class_weights[0] = o.class_weights[1] = 1.0;
    }
    sv_forest *f = sv_grow_new_forest(n, p, names, &o, SV_TREE_CLASSIFICATION, err);
    if (!f) return SV_ENOMEM;
    f->n_classes = (int32_t)K;
    f->class_weight_k = sv_malloc(K, sizeof *f->class_weight_k);
    if (!f->class_weight_k) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
        goto done;
    }
    memcpy(f->class_weight_k, cw, K * sizeof *cw);
    cls_ctx cx = {K, o.criterion, f->class_weight_k};
    sv_splitter sp = {SV_TREE_CLASSIFICATION, K == 2 ? 1 : (int32_t)K, K * sizeof(uint32_t),
                      (K + 1) * sizeof(uint32_t), &cx, cls_stat_rows, cls_stat_sub,
                      cls_summarise, K == 2 ? cls2p_eval : K == 3 ? cls3_eval : clsk_eval, NULL};
    st = sv_grow_forest(f, X, n, p, ycls, &o, &sp, ctx, err);
    if (st != SV_OK) goto done;
    st = sv_forest_pack(f, err);

done:
    if (st != SV_OK) {
        sv_forest_free(f);
        return st;
    }
    *out = f;
    return SV_OK;
}

static sv_status check_data(const double *X, size_t n, size_t p, const sv_forest_opts *opts,
                            sv_err *err)
{
    if (n == 0) return sv_err_set(err, SV_EINVAL, "X has no rows");
    if (p == 0) return sv_err_set(err, SV_EINVAL, "X has no columns");
    if (n > 0x7fffffffu / 2 || p > 0x7fffffffu)
        return sv_err_set(err, SV_EINVAL, "X is too large (%zu x %zu)", n, p);
    sv_status st = sv_forest_check_opts(opts, p, 0, err);
    if (st != SV_OK) return st;
    if (opts->criterion == SV_FOREST_SQUARED_ERROR)
        return sv_err_set(err, SV_EINVAL, "criterion squared error is for regression forests");
    return sv_forest_check_finite(X, n, p, err);
}

sv_status sv_forest_train(const double *X, size_t n, size_t p,
                          const double *y, const char *const *names,
                          const sv_forest_opts *opts, const sv_ctx *ctx,
                          sv_forest **out, sv_err *err)
{
    *out = NULL;
    sv_status st = check_data(X, n, p, opts, err);
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
    double cw[2];
    if (opts->class_weight == SV_FOREST_CW_BALANCED) {
        cw[0] = (double)n / (2.0 * (double)(n - n1));
        cw[1] = (double)n / (2.0 * (double)n1);
    } else if (opts->class_weight == SV_FOREST_CW_GIVEN) {
        cw[0] = opts->class_weights[0];
        cw[1] = opts->class_weights[1];
    } else {
        cw[0] = cw[1] = 1.0;
    }
    uint32_t *ycls = sv_malloc(n, sizeof *ycls);
    if (!ycls) return sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
    for (size_t i = 0; i < n; i++) ycls[i] = y[i] == 1.0;
    st = train_cls(X, n, p, ycls, 2, cw, names, opts, ctx, out, err);
    free(ycls);
    return st;
}

sv_status sv_forest_train_classes(const double *X, size_t n, size_t p,
                                  const int32_t *y, int32_t K,
                                  const double *class_weights,
                                  const char *const *names,
                                  const sv_forest_opts *opts, const sv_ctx *ctx,
                                  sv_forest **out, sv_err *err)
{
    *out = NULL;
    if (K < 2 || K > SV_FOREST_MAX_CLASSES)
        return sv_err_set(err, SV_EINVAL, "the number of classes must be in [2, %d], got %d",
                          SV_FOREST_MAX_CLASSES, (int)K);
    sv_status st = check_data(X, n, p, opts, err);
    if (st != SV_OK) return st;
    size_t *nc = sv_calloc((size_t)K, sizeof *nc);
    uint32_t *ycls = sv_malloc(n, sizeof *ycls);
    double *cw = sv_malloc((size_t)K, sizeof *cw);
    if (!nc || !ycls || !cw) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= K) {
            st = sv_err_set(err, SV_EINVAL, "y must hold class indices 0..%d, got %d at row %zu",
                            (int)K - 1, (int)y[i], i + 1);
            goto done;
        }
        nc[y[i]]++;
        ycls[i] = (uint32_t)y[i];
    }
    for (int32_t k = 0; k < K; k++) {
        if (nc[k] == 0) {
            st = sv_err_set(err, SV_EINVAL, "class %d has no rows", (int)k + 1);
            goto done;
        }
        if (opts->class_weight == SV_FOREST_CW_BALANCED) {
            cw[k] = (double)n / ((double)K * (double)nc[k]);
        } else if (opts->class_weight == SV_FOREST_CW_GIVEN) {
            if (!class_weights || !(class_weights[k] > 0 && isfinite(class_weights[k]))) {
                st = sv_err_set(err, SV_EINVAL, "class weights must be finite and > 0");
                goto done;
            }
            cw[k] = class_weights[k];
        } else {
            cw[k] = 1.0;
        }
    }
    st = train_cls(X, n, p, ycls, (uint32_t)K, cw, names, opts, ctx, out, err);
done:
    free(nc);
    free(ycls);
    free(cw);
    return st;
}
