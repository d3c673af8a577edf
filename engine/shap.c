/*
 * shap.c - exact TreeSHAP for the forest (see sv_shap.h for the games, the
 * algorithms and the preconditions).
 *
 * Notation used throughout. For a leaf l, F_l is the set of distinct
 * features split on along its path. For feature k in F_l, aggregated over
 * every edge of the path that splits on k:
 *   q_k = product of cover(child) / cover(node)  ("zero fraction"),
 *   o_k = product of [x follows the edge]         ("one fraction", 0 or 1).
 * The path-dependent game restricted to leaf l is the product game
 *   v_l(S) = value_l * prod_{k in F_l} (k in S ? o_k : q_k),
 * and because |S|! (d - 1 - |S|)! / d! = integral_0^1 t^|S| (1-t)^(d-1-|S|) dt
 * its Shapley value for j in F_l (d = |F_l|) is
 *   phi_j = value_l (o_j - q_j) integral_0^1 prod_{k != j} f_k(t) dt,
 *   f_k(t) = q_k + t (o_k - q_k).
 * The integrand is a polynomial of degree d - 1, integrated exactly by an
 * m-point Gauss-Legendre rule when 2m - 1 >= d - 1. Every f_k(t) is positive
 * at the interior nodes, so the values are computed without cancellation.
 *
 * The linear algorithm pushes G(t) = prod_{k on path} f_k(t) down the tree
 * (one multiply and one divide per node when a feature repeats) and the
 * leaf sums H_c(t) = sum_{leaves l below c} value_l G_l(t) up. An edge e
 * into child c splitting on j, whose previous split on j along the path left
 * the factor f_prev (1 if none), adds to phi_j
 *   Q[ H_c(t) ((o_e - q_e) / f_e(t) - (o_prev - q_prev) / f_prev(t)) ],
 * Q the quadrature sum. Summed over the edges on j of one leaf's path these
 * terms telescope to Q[value_l G_l (o_j - q_j) / f_j], the leaf's exact
 * contribution; Q is linear, so the telescoping survives quadrature.
 */
#include "sv_shap.h"

#include "shap_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Gauss-Legendre ------------------------------------------------- */

void sv_shap_gauss_legendre(int m, double *t, double *w)
{
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < (m + 1) / 2; i++) {
        /* Newton's method on P_m from the classical asymptotic guess;
         * P_m and P_{m-1} by the three-term recurrence. */
        double x = cos(pi * (i + 0.75) / (m + 0.5));
        double dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = x;
            for (int k = 2; k <= m; k++) {
                double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            if (m == 1) p0 = 1.0;
            dp = m * (x * p1 - p0) / (x * x - 1.0);
            double dx = p1 / dp;
            x -= dx;
            if (fabs(dx) <= 1e-16) break;
        }
        /* The derivative at the converged root. */
        double p0 = 1.0, p1 = x;
        for (int k = 2; k <= m; k++) {
            double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
            p0 = p1;
            p1 = p2;
        }
        if (m == 1) p0 = 1.0;
        dp = m * (x * p1 - p0) / (x * x - 1.0);
        double wt = 1.0 / ((1.0 - x * x) * dp * dp); /* (2 / ...) / 2 */
        t[m - 1 - i] = 0.5 * (1.0 + x);
        t[i] = 0.5 * (1.0 - x);
        w[i] = w[m - 1 - i] = wt;
    }
}

/* ---- validation and per-tree plan ------------------------------------ */

static int is_leaf(const sv_tree *t, int32_t n)
{
    return t->left[n] < 0;
}

sv_status sv_shap_check_forest(const sv_forest *f, sv_err *err)
{
    if (!f || f->n_trees <= 0 || !f->trees)
        return sv_err_set(err, SV_EINVAL, "forest has no trees");
    if (f->n_features <= 0)
        return sv_err_set(err, SV_EINVAL, "forest has no features");
    for (int32_t ti = 0; ti < f->n_trees; ti++) {
        const sv_tree *t = &f->trees[ti];
        if (t->n_nodes <= 0)
            return sv_err_set(err, SV_EINVAL, "tree %d has no nodes", (int)ti + 1);
        if (t->n_values != 1)
            return sv_err_set(err, SV_EINVAL, "tree %d has %d values per node: TreeSHAP "
                              "explains one class at a time", (int)ti + 1, (int)t->n_values);
        if (!(t->cover[0] > 0))
            return sv_err_set(err, SV_EINVAL, "tree %d: root cover must be positive", (int)ti + 1);
        for (int32_t n = 0; n < t->n_nodes; n++) {
            int32_t l = t->left[n], r = t->right[n];
            if (!isfinite(t->value[n]))
                return sv_err_set(err, SV_EINVAL, "tree %d node %d: value is not finite",
                                  (int)ti + 1, (int)n);
            if (!(t->cover[n] >= 0) || !isfinite(t->cover[n]))
                return sv_err_set(err, SV_EINVAL, "tree %d node %d: cover must be >= 0",
                                  (int)ti + 1, (int)n);
            if (l < 0 && r < 0) continue;
            if (l <= n || r <= n || l >= t->n_nodes || r >= t->n_nodes)
                return sv_err_set(err, SV_EINVAL,
                                  "tree %d node %d: children must have larger ids within the tree",
                                  (int)ti + 1, (int)n);
            if (t->feature[n] < 0 || t->feature[n] >= f->n_features)
                return sv_err_set(err, SV_EINVAL, "tree %d node %d: feature %d out of range",
                                  (int)ti + 1, (int)n, (int)t->feature[n]);
            if (isnan(t->threshold[n]))
                return sv_err_set(err, SV_EINVAL, "tree %d node %d: threshold is NaN",
                                  (int)ti + 1, (int)n);
            if (!(t->cover[n] > 0))
                return sv_err_set(err, SV_EINVAL,
                                  "tree %d node %d: an internal node needs a positive cover",
                                  (int)ti + 1, (int)n);
        }
    }
    return SV_OK;
}

/* A node as the SHAP walks read it: one cache-friendly record instead of
 * seven arrays, with the cover fractions cover(child) / cover(node)
 * computed once. */
typedef struct snode {
    double threshold;
    double r_left, r_right;
    double value;
    int32_t feature; /* -1 at leaves */
    int32_t left, right;
} snode;

typedef struct tree_plan {
    int depth;    /* longest root-to-leaf path, in edges */
    int ufeat;    /* most distinct features on a root-to-leaf path */
    int m;        /* quadrature nodes: ceil(ufeat / 2), at least 1 */
    const double *qt, *qw;     /* nodes t_i and weights w_i */
    const double *omt, *iomt;  /* 1 - t_i and 1 / (1 - t_i) */
    const snode *nd;
} tree_plan;

typedef struct plan {
    const sv_forest *f;
    int p, T;
    int max_depth, max_u, max_m; /* most of tree_plan's depth, ufeat, m */
    tree_plan *tp;
    snode *nodes;          /* every tree's nodes, tree after tree */
    double *quad;          /* rules for m = 1..max_m, m at offset 2 m (m-1) */
    double *W;             /* interventional Beta weights, (p+1) x (p+1) */
    double *bg;            /* background, row-major n_bg x p */
    size_t n_bg;
    shap_table *tab;       /* per-leaf tables (JOB_TABLE), or NULL */
} plan;

/* One level of an explicit depth-first walk. Every walk over a tree in
 * this file is iterative (a tree grown on alternating labels is as deep as
 * it has rows, far deeper than a call stack allows): stk[d] is the frame of
 * the node at depth d of the current path, phase the next child to visit. */
typedef struct frame {
    double q_old, o_old; /* linear, interactions: the split feature's q and o
                            on entry to the node */
    int32_t node;
    signed char phase;   /* -1: not entered yet; 0, 1: next side; 2: done */
    signed char filled;  /* linear: H[d] holds a child's sum */
    signed char contributes; /* linear: the edge being walked has a term */
    signed char first;   /* interactions: first split on its feature on the path */
    signed char st;      /* interventional: the feature's status on entry */
    signed char pending; /* linear: a child frame was pushed and has not been
                            folded into this node yet */
} frame;

/* Depth and distinct-feature depth of one tree (cnt: p zeros, restored;
 * stk: n_nodes frames, enough since ids grow along every path). */
static void tree_shape(const sv_tree *t, int *cnt, frame *stk, tree_plan *tp)
{
    int d = 0, uniq = 0;
    stk[0].node = 0;
    stk[0].phase = -1;
    while (d >= 0) {
        frame *f = &stk[d];
        int32_t node = f->node;
        if (f->phase < 0) {
            if (is_leaf(t, node)) {
                if (d > tp->depth) tp->depth = d;
                if (uniq > tp->ufeat) tp->ufeat = uniq;
                d--;
                continue;
            }
            if (cnt[t->feature[node]]++ == 0) uniq++;
            f->phase = 0;
        }
        if (f->phase < 2) {
            int32_t c = f->phase == 0 ? t->left[node] : t->right[node];
            f->phase++;
            d++;
            stk[d].node = c;
            stk[d].phase = -1;
        } else {
            if (--cnt[t->feature[node]] == 0) uniq--;
            d--;
        }
    }
}

static void plan_free(plan *pl)
{
    free(pl->tp);
    free(pl->nodes);
    free(pl->quad);
    free(pl->W);
    free(pl->bg);
    shap_table_free(pl->tab);
    memset(pl, 0, sizeof *pl);
}

static sv_status plan_init(plan *pl, const sv_forest *f, const sv_shap_opts *opts,
                           sv_err *err)
{
    memset(pl, 0, sizeof *pl);
    sv_status st = sv_shap_check_forest(f, err);
    if (st != SV_OK) return st;
    pl->f = f;
    pl->p = f->n_features;
    pl->T = f->n_trees;
    pl->tp = sv_calloc((size_t)pl->T, sizeof *pl->tp);
    int32_t most = 0;
    for (int ti = 0; ti < pl->T; ti++)
        if (f->trees[ti].n_nodes > most) most = f->trees[ti].n_nodes;
    int *cnt = sv_calloc((size_t)pl->p, sizeof *cnt);
    frame *stk = sv_malloc((size_t)most, sizeof *stk);
    if (!pl->tp || !cnt || !stk) {
        free(cnt);
        free(stk);
        plan_free(pl);
        return sv_err_set(err, SV_ENOMEM, "out of memory planning TreeSHAP");
    }
    for (int ti = 0; ti < pl->T; ti++) {
        tree_plan *tp = &pl->tp[ti];
        tree_shape(&f->trees[ti], cnt, stk, tp);
        tp->m = tp->ufeat < 2 ? 1 : (tp->ufeat + 1) / 2;
        if (tp->depth > pl->max_depth) pl->max_depth = tp->depth;
        if (tp->ufeat > pl->max_u) pl->max_u = tp->ufeat;
        if (tp->m > pl->max_m) pl->max_m = tp->m;
    }
    free(cnt);
    free(stk);
    size_t total = 0;
    for (int ti = 0; ti < pl->T; ti++) total += (size_t)f->trees[ti].n_nodes;
    pl->nodes = sv_malloc(total, sizeof *pl->nodes);
    if (!pl->nodes) {
        plan_free(pl);
        return sv_err_set(err, SV_ENOMEM, "out of memory planning TreeSHAP");
    }
    snode *nd = pl->nodes;
    for (int ti = 0; ti < pl->T; ti++) {
        const sv_tree *t = &f->trees[ti];
        pl->tp[ti].nd = nd;
        for (int32_t n = 0; n < t->n_nodes; n++, nd++) {
            nd->threshold = t->threshold[n];
            nd->value = t->value[n];
            if (t->left[n] < 0) {
                nd->feature = nd->left = nd->right = -1;
                nd->r_left = nd->r_right = 0.0;
            } else {
                nd->feature = t->feature[n];
                nd->left = t->left[n];
                nd->right = t->right[n];
                nd->r_left = t->cover[t->left[n]] / t->cover[n];
                nd->r_right = t->cover[t->right[n]] / t->cover[n];
            }
        }
    }
    size_t mm = (size_t)pl->max_m;
    pl->quad = sv_malloc(2 * mm * (mm + 1), sizeof *pl->quad);
    if (!pl->quad) {
        plan_free(pl);
        return sv_err_set(err, SV_ENOMEM, "out of memory planning TreeSHAP");
    }
    for (int m = 1; m <= pl->max_m; m++) {
        double *q = pl->quad + 2 * (size_t)m * (size_t)(m - 1);
        sv_shap_gauss_legendre(m, q, q + m);
        for (int i = 0; i < m; i++) {
            q[2 * m + i] = 1.0 - q[i];
            q[3 * m + i] = 1.0 / (1.0 - q[i]);
        }
    }
    for (int ti = 0; ti < pl->T; ti++) {
        tree_plan *tp = &pl->tp[ti];
        tp->qt = pl->quad + 2 * (size_t)tp->m * (size_t)(tp->m - 1);
        tp->qw = tp->qt + tp->m;
        tp->omt = tp->qt + 2 * tp->m;
        tp->iomt = tp->qt + 3 * tp->m;
    }
    if (opts && opts->background) {
        size_t p = (size_t)pl->p, nb = opts->n_background;
        if (nb == 0) {
            plan_free(pl);
            return sv_err_set(err, SV_EINVAL, "background has no rows");
        }
        pl->n_bg = nb;
        pl->bg = sv_malloc(nb * p, sizeof *pl->bg);
        pl->W = sv_malloc((p + 1) * (p + 1), sizeof *pl->W);
        if (!pl->bg || !pl->W) {
            plan_free(pl);
            return sv_err_set(err, SV_ENOMEM, "out of memory for the background");
        }
        for (size_t b = 0; b < nb; b++)
            for (size_t j = 0; j < p; j++) {
                double v = opts->background[j * nb + b];
                if (isnan(v)) {
                    plan_free(pl);
                    return sv_err_set(err, SV_EINVAL, "background row %zu column %zu is NaN",
                                      b + 1, j + 1);
                }
                pl->bg[b * p + j] = v;
            }
        /* W(a, b) = integral t^a (1-t)^b dt = a! b! / (a + b + 1)!:
         * W(a, 0) = 1 / (a + 1), W(a, b) = W(a, b - 1) b / (a + b + 1). */
        for (size_t a = 0; a <= p; a++) {
            pl->W[a * (p + 1)] = 1.0 / (double)(a + 1);
            for (size_t b = 1; b <= p; b++)
                pl->W[a * (p + 1) + b] =
                    pl->W[a * (p + 1) + b - 1] * (double)b / (double)(a + b + 1);
        }
    }
    return SV_OK;
}

/* ---- per-worker scratch --------------------------------------------- */

/* Rows per task: the rows of a block walk each tree in turn, so the tree
 * stays in cache; each row's arithmetic is the same whatever its block. */
#define SV_SHAP_BLOCK 16

typedef struct ref_elem {
    int feat;
    double z, o, w;
} ref_elem;

typedef enum job_kind {
    JOB_LINEAR,
    JOB_REFERENCE,
    JOB_INTERVENTIONAL,
    JOB_INTERACTIONS,
    JOB_TABLE
} job_kind;

/* A frame of the Algorithm 2 walk: the edge into the node (pz, po, pfeat),
 * the path length l (after the unwind of a repeated feature at internal
 * nodes) and what the children get. */
typedef struct rframe {
    double pz, po;
    double zh, zc, io;
    int32_t node, hot, cold;
    int l, pfeat, phase;
} rframe;

/*
 * Workspace of one thread, allocated for the job's algorithm only and
 * O(D x U) at most, D the deepest tree's depth + 2 and U the most distinct
 * features on a root-to-leaf path (never D^2: a path of depth 100,000 on a
 * few features costs a few MB).
 */
typedef struct worker {
    int p;
    double *x;        /* the current row, p (points into xb) */
    double *acc;      /* its SHAP values summed over trees (points into accb) */
    double *xb, *accb; /* a block of rows of each, row-major */
    double *fq, *fo;  /* per feature: aggregated q and o on the current path */
    int *cnt;         /* per feature: splits on the current path */
    int *upath;       /* distinct features on the current path, in order (U + 1) */
    int nu;
    double *G, *H;    /* D x max_m each (H: linear only) */
    double *C;        /* D x max_m: edge coefficients */
    double *g;        /* (U + 1) x max_m: per-leaf factors (interactions) */
    double *inter;    /* p x p of the current row (the output itself) */
    frame *stk;       /* D frames (linear, interactions, interventional) */
    rframe *rstk;     /* D frames (reference) */
    ref_elem *ref;    /* D x (U + 2): the path at each depth (reference) */
    /* interventional */
    const double *b;
    signed char *status;
    int *xlist, *blist; /* U + 1 each (also the cold / hot lists of int_leaf) */
    int na, nb;
    void *tscratch;   /* table: shap_table_scratch bytes */
} worker;

static void workers_free(worker *ws, int nw)
{
    if (!ws) return;
    for (int k = 0; k < nw; k++) {
        worker *w = &ws[k];
        free(w->xb);
        free(w->accb);
        free(w->fq);
        free(w->fo);
        free(w->cnt);
        free(w->upath);
        free(w->G);
        free(w->H);
        free(w->C);
        free(w->g);
        free(w->stk);
        free(w->rstk);
        free(w->ref);
        free(w->status);
        free(w->xlist);
        free(w->blist);
        free(w->tscratch);
    }
    free(ws);
}

static worker *workers_new(const plan *pl, int nw, job_kind kind, size_t block, sv_err *err)
{
    worker *ws = sv_calloc((size_t)nw, sizeof *ws);
    if (!ws) {
        sv_err_set(err, SV_ENOMEM, "out of memory for TreeSHAP workspaces");
        return NULL;
    }
    size_t p = (size_t)pl->p, D = (size_t)pl->max_depth + 2, M = (size_t)pl->max_m;
    size_t U = (size_t)pl->max_u + 2;
    int lin = kind == JOB_LINEAR, inter = kind == JOB_INTERACTIONS;
    int refk = kind == JOB_REFERENCE, intv = kind == JOB_INTERVENTIONAL;
    for (int k = 0; k < nw; k++) {
        worker *w = &ws[k];
        w->p = pl->p;
        int bad = 0;
#define SV_NEED(ptr, n, cond)                                         \
        do {                                                          \
            if (cond) {                                               \
                (ptr) = sv_malloc((n), sizeof *(ptr));                \
                if (!(ptr)) bad = 1;                                  \
            }                                                         \
        } while (0)
        SV_NEED(w->xb, block * p, 1);
        SV_NEED(w->accb, block * p, 1);
        SV_NEED(w->fq, p, lin || inter);
        SV_NEED(w->fo, p, lin || inter);
        SV_NEED(w->G, D * M, lin || inter);
        SV_NEED(w->H, D * M, lin);
        SV_NEED(w->C, D * M, lin || inter);
        SV_NEED(w->g, U * M, inter);
        SV_NEED(w->upath, U, inter);
        SV_NEED(w->stk, D, !refk);
        SV_NEED(w->rstk, D, refk);
        SV_NEED(w->ref, D * U, refk);
        SV_NEED(w->xlist, U, inter || intv);
        SV_NEED(w->blist, U, inter || intv);
#undef SV_NEED
        if (inter) {
            w->cnt = sv_calloc(p, sizeof *w->cnt);
            if (!w->cnt) bad = 1;
        }
        if (intv) {
            w->status = sv_calloc(p, sizeof *w->status);
            if (!w->status) bad = 1;
        }
        if (kind == JOB_TABLE) {
            w->tscratch = sv_malloc(shap_table_scratch(pl->tab, block), 1);
            if (!w->tscratch) bad = 1;
        }
        if (bad) {
            workers_free(ws, nw);
            sv_err_set(err, SV_ENOMEM, "out of memory for TreeSHAP workspaces");
            return NULL;
        }
        if (w->fq)
            for (size_t j = 0; j < p; j++) w->fq[j] = w->fo[j] = 1.0;
    }
    return ws;
}

/* ---- linear algorithm (values) ---------------------------------------- */

typedef struct walk {
    const snode *nd;
    const double *qt, *qw, *omt, *iomt;
    int m;
} walk;

/*
 * One edge: the factor of feature j goes from f_old = q_old + t (o_old - q_old)
 * to f_new = q_new + t (o_new - q_new). Sets Gc = Gd * f_new / f_old and,
 * unless the edge cannot contribute (returns 0), C = w_i ((o_new - q_new) /
 * f_new - (o_old - q_old) / f_old), the edge's quadrature coefficients.
 * o is 0 or 1, which splits the work into cases that need fewer divisions:
 * - o_old = 0: both factors are q (1 - t): G scales by q_new / q_old and
 *   the two terms cancel (-1/(1-t) each): no contribution;
 * - o_new = 0: (o_new - q_new) / f_new = -1 / (1 - t), a table;
 * - q_old = o_old = 1 (j not yet on the path, or only through cover-1
 *   edges): f_old = 1 and its term vanishes.
 */
static int edge_factors(const walk *k, double q_old, double o_old, double q_new, double o_new,
                        const double *Gd, double *Gc, double *C)
{
    const int m = k->m;
    if (o_old == 0.0) {
        double r = q_new / q_old;
        for (int i = 0; i < m; i++) Gc[i] = Gd[i] * r;
        return 0;
    }
    double dd = 1.0 - q_old; /* o_old = 1 */
    if (dd == 0.0) {
        if (o_new == 0.0) {
            for (int i = 0; i < m; i++) {
                Gc[i] = Gd[i] * (q_new * k->omt[i]);
                C[i] = -k->qw[i] * k->iomt[i];
            }
        } else {
            double dn = 1.0 - q_new;
            for (int i = 0; i < m; i++) {
                double fn = q_new + k->qt[i] * dn;
                Gc[i] = Gd[i] * fn;
                C[i] = k->qw[i] * (dn / fn);
            }
        }
        return 1;
    }
    if (o_new == 0.0) {
        for (int i = 0; i < m; i++) {
            double inv_old = 1.0 / (q_old + k->qt[i] * dd);
            Gc[i] = Gd[i] * (q_new * k->omt[i] * inv_old);
            C[i] = k->qw[i] * (-k->iomt[i] - dd * inv_old);
        }
    } else {
        double dn = 1.0 - q_new;
        for (int i = 0; i < m; i++) {
            double inv_old = 1.0 / (q_old + k->qt[i] * dd);
            double fn = q_new + k->qt[i] * dn;
            Gc[i] = Gd[i] * (fn * inv_old);
            C[i] = k->qw[i] * (dn / fn - dd * inv_old);
        }
    }
    return 1;
}

/* The linear walk of one tree, iterative. At the node of depth d, G[d]
 * holds G at the node; when the node is done, H[d] holds the sum over the
 * leaves below it of value * G(t) and the edge terms of its subtree are in
 * w->acc. A leaf child is folded into its parent at once (no frame); the
 * arithmetic is that of the recursive form, in the same order. */
static void lin_walk(const walk *k, worker *w)
{
    const int m = k->m;
    const snode *nds = k->nd;
    frame *stk = w->stk;
    if (nds[0].feature < 0) {
        double v = nds[0].value;
        for (int i = 0; i < m; i++) w->H[i] = v * w->G[i];
        return;
    }
    int d = 0;
    stk[0].node = 0;
    stk[0].q_old = w->fq[nds[0].feature];
    stk[0].o_old = w->fo[nds[0].feature];
    stk[0].filled = 0;
    stk[0].pending = 0;
    stk[0].phase = 0;
    for (;;) {
        frame *f = &stk[d];
        const snode *nd = &nds[f->node];
        const int j = nd->feature;
        const size_t off = (size_t)d * (size_t)m;
        double *Hd = w->H + off;
        const double *Gd = w->G + off;
        double *Gc = w->G + off + (size_t)m;
        double *C = w->C + off;
        if (f->pending) {
            /* back from the internal child of side phase - 1: H[d + 1] */
            const double *Hc = w->H + off + (size_t)m;
            w->fq[j] = f->q_old;
            w->fo[j] = f->o_old;
            if (f->contributes) {
                double sum = 0.0;
                for (int i = 0; i < m; i++) sum += Hc[i] * C[i];
                w->acc[j] += sum;
            }
            if (f->filled) {
                for (int i = 0; i < m; i++) Hd[i] += Hc[i];
            } else {
                for (int i = 0; i < m; i++) Hd[i] = Hc[i];
                f->filled = 1;
            }
            f->pending = 0;
        }
        int32_t hot = w->x[j] <= nd->threshold ? nd->left : nd->right;
        const double q_old = f->q_old, o_old = f->o_old; /* kept in registers */
        int side = f->phase, filled = f->filled, push = 0;
        for (; side < 2; side++) {
            int32_t c = side == 0 ? nd->left : nd->right;
            double q_new = q_old * (side == 0 ? nd->r_left : nd->r_right);
            double o_new = c == hot ? o_old : 0.0;
            if (q_new == 0.0 && o_new == 0.0) continue; /* v_l(S) = 0 for every S below */
            int contributes = edge_factors(k, q_old, o_old, q_new, o_new, Gd, Gc, C);
            const snode *cn = &nds[c];
            if (cn->feature < 0) {
                /* a leaf: H = value * G, its edge term, folded in here */
                double v = cn->value;
                if (contributes) {
                    double sum = 0.0;
                    for (int i = 0; i < m; i++) sum += (v * Gc[i]) * C[i];
                    w->acc[j] += sum;
                }
                if (filled) {
                    for (int i = 0; i < m; i++) Hd[i] += v * Gc[i];
                } else {
                    for (int i = 0; i < m; i++) Hd[i] = v * Gc[i];
                    filled = 1;
                }
                continue;
            }
            f->contributes = (signed char)contributes;
            w->fq[j] = q_new;
            w->fo[j] = o_new;
            frame *cf = &stk[d + 1];
            cf->node = c;
            cf->q_old = w->fq[cn->feature];
            cf->o_old = w->fo[cn->feature];
            cf->filled = 0;
            cf->pending = 0;
            cf->phase = 0;
            push = 1;
            side++;
            break;
        }
        f->phase = (signed char)side;
        f->filled = (signed char)filled;
        if (push) {
            f->pending = 1;
            d++;
            continue;
        }
        if (!filled)
            for (int i = 0; i < m; i++) Hd[i] = 0.0;
        if (d == 0) break;
        d--;
    }
}

static void walk_init(walk *k, const plan *pl, int ti)
{
    const tree_plan *tp = &pl->tp[ti];
    k->nd = tp->nd;
    k->qt = tp->qt;
    k->qw = tp->qw;
    k->omt = tp->omt;
    k->iomt = tp->iomt;
    k->m = tp->m;
}

static void lin_tree(const plan *pl, int ti, worker *w)
{
    walk k;
    walk_init(&k, pl, ti);
    for (int i = 0; i < k.m; i++) w->G[i] = 1.0;
    lin_walk(&k, w);
}

/* ---- per-leaf quadrature (interactions) ------------------------------ */

/*
 * At a leaf with G(t) = prod_k f_k(t), let g_k = (o_k - q_k) / f_k. The
 * leaf adds value * Q[G g_k] to phi_k and, to the pair (a, b), Lundberg's
 * off-diagonal value: half the Shapley interaction index of the product
 * game, value/2 * Q[G g_a g_b] (the integrand value (o_a - q_a)(o_b - q_b)
 * prod_{k != a, b} f_k has degree d - 2). A feature the row left (o = 0)
 * has g = -1 / (1 - t) whatever its q, so all such "cold" features share
 * one phi term, one cold-cold pair term and one term per hot partner.
 */
static void int_leaf(const walk *k, worker *w, int32_t node, int depth)
{
    const int m = k->m;
    const size_t P = (size_t)w->p;
    const double *Gd = w->G + (size_t)depth * (size_t)m;
    double v = k->nd[node].value;
    double *vg = w->C + (size_t)depth * (size_t)m; /* w_i v G(t_i) */
    double *vgc = vg + m;                           /* w_i v G(t_i) / (1 - t_i) */
    double s_c = 0.0, s_cc = 0.0;
    for (int i = 0; i < m; i++) {
        vg[i] = k->qw[i] * v * Gd[i];
        vgc[i] = vg[i] * k->iomt[i];
        s_c -= vgc[i];
        s_cc += vgc[i] * k->iomt[i];
    }
    int *cold = w->xlist, *hot = w->blist;
    int nc = 0, nh = 0;
    for (int a = 0; a < w->nu; a++) {
        int j = w->upath[a];
        if (w->fo[j] == 0.0) {
            cold[nc++] = j;
        } else if (w->fq[j] != 1.0) {
            /* o = 1: g = (1 - q) / (q + t (1 - q)) */
            double q = w->fq[j], d = 1.0 - q;
            double *gh = w->g + (size_t)nh * (size_t)m;
            double s = 0.0;
            for (int i = 0; i < m; i++) {
                gh[i] = d / (q + k->qt[i] * d);
                s += vg[i] * gh[i];
            }
            w->acc[j] += s;
            hot[nh++] = j;
        } /* o = q = 1: g = 0, the feature adds nothing at this leaf */
    }
    for (int a = 0; a < nc; a++) {
        int ja = cold[a];
        w->acc[ja] += s_c;
        double *row = w->inter + (size_t)ja * P;
        for (int b = a + 1; b < nc; b++) {
            row[cold[b]] += 0.5 * s_cc;
            w->inter[(size_t)cold[b] * P + (size_t)ja] += 0.5 * s_cc;
        }
    }
    for (int b = 0; b < nh; b++) {
        const double *gb = w->g + (size_t)b * (size_t)m;
        int jb = hot[b];
        double s_cb = 0.0;
        for (int i = 0; i < m; i++) s_cb -= vgc[i] * gb[i];
        s_cb *= 0.5;
        for (int a = 0; a < nc; a++) {
            w->inter[(size_t)cold[a] * P + (size_t)jb] += s_cb;
            w->inter[(size_t)jb * P + (size_t)cold[a]] += s_cb;
        }
        for (int a = b + 1; a < nh; a++) {
            const double *ga = w->g + (size_t)a * (size_t)m;
            double s = 0.0;
            for (int i = 0; i < m; i++) s += vg[i] * ga[i] * gb[i];
            int ja = hot[a];
            w->inter[(size_t)ja * P + (size_t)jb] += 0.5 * s;
            w->inter[(size_t)jb * P + (size_t)ja] += 0.5 * s;
        }
    }
}

/* The interactions walk of one tree, iterative: G as in lin_walk, the
 * leaves do the work (int_leaf, called from the parent: no frame). */
static void int_walk(const walk *k, worker *w)
{
    const int m = k->m;
    const snode *nds = k->nd;
    frame *stk = w->stk;
    if (nds[0].feature < 0) {
        int_leaf(k, w, 0, 0);
        return;
    }
    int d = 0;
    stk[0].node = 0;
    stk[0].phase = -1;
    for (;;) {
        frame *f = &stk[d];
        const snode *nd = &nds[f->node];
        const int j = nd->feature;
        if (f->phase < 0) {
            f->q_old = w->fq[j];
            f->o_old = w->fo[j];
            f->first = w->cnt[j] == 0;
            if (f->first) w->upath[w->nu++] = j;
            w->cnt[j]++;
            f->phase = 0;
        }
        const size_t off = (size_t)d * (size_t)m;
        const double *Gd = w->G + off;
        double *Gc = w->G + off + (size_t)m;
        double *C = w->C + off;
        int32_t hot = w->x[j] <= nd->threshold ? nd->left : nd->right;
        int pushed = 0;
        while (f->phase < 2) {
            int side = f->phase++;
            int32_t c = side == 0 ? nd->left : nd->right;
            double q_new = f->q_old * (side == 0 ? nd->r_left : nd->r_right);
            double o_new = c == hot ? f->o_old : 0.0;
            if (q_new == 0.0 && o_new == 0.0) continue;
            edge_factors(k, f->q_old, f->o_old, q_new, o_new, Gd, Gc, C);
            w->fq[j] = q_new;
            w->fo[j] = o_new;
            if (nds[c].feature < 0) {
                int_leaf(k, w, c, d + 1);
                continue;
            }
            stk[d + 1].node = c;
            stk[d + 1].phase = -1;
            pushed = 1;
            break;
        }
        if (pushed) {
            d++;
            continue;
        }
        w->fq[j] = f->q_old;
        w->fo[j] = f->o_old;
        w->cnt[j]--;
        if (f->first) w->nu--;
        if (d == 0) break;
        d--;
    }
}

static void int_tree(const plan *pl, int ti, worker *w)
{
    walk k;
    walk_init(&k, pl, ti);
    for (int i = 0; i < k.m; i++) w->G[i] = 1.0;
    w->nu = 0;
    int_walk(&k, w);
}

/* ---- reference: Lundberg et al. 2020, Algorithm 2 --------------------- */

/* Adds one feature to the path and updates the permutation weights
 * (EXTEND in the paper). */
static void ref_extend(ref_elem *m, int l, double pz, double po, int pi)
{
    m[l].feat = pi;
    m[l].z = pz;
    m[l].o = po;
    m[l].w = l == 0 ? 1.0 : 0.0;
    for (int i = l - 1; i >= 0; i--) {
        m[i + 1].w += po * m[i].w * (double)(i + 1) / (double)(l + 1);
        m[i].w = pz * m[i].w * (double)(l - i) / (double)(l + 1);
    }
}

/* Undoes EXTEND of element i (UNWIND), removing it from the path. */
static void ref_unwind(ref_elem *m, int l, int i)
{
    double o = m[i].o, z = m[i].z;
    double n = m[l].w;
    for (int j = l - 1; j >= 0; j--) {
        if (o != 0.0) {
            double tmp = m[j].w;
            m[j].w = n * (double)(l + 1) / ((double)(j + 1) * o);
            n = tmp - m[j].w * z * (double)(l - j) / (double)(l + 1);
        } else {
            m[j].w = m[j].w * (double)(l + 1) / (z * (double)(l - j));
        }
    }
    for (int j = i; j < l; j++) {
        m[j].feat = m[j + 1].feat;
        m[j].z = m[j + 1].z;
        m[j].o = m[j + 1].o;
    }
}

/* Total permutation weight if element i were unwound (UNWOUNDSUM). */
static double ref_unwound_sum(const ref_elem *m, int l, int i)
{
    double o = m[i].o, z = m[i].z;
    double n = m[l].w, total = 0.0;
    for (int j = l - 1; j >= 0; j--) {
        if (o != 0.0) {
            double tmp = n * (double)(l + 1) / ((double)(j + 1) * o);
            total += tmp;
            n = m[j].w - tmp * z * (double)(l - j) / (double)(l + 1);
        } else {
            total += m[j].w * (double)(l + 1) / (z * (double)(l - j));
        }
    }
    return total;
}

/* Algorithm 2 of one tree, iterative: level d of w->ref (stride
 * max_u + 2 elements: the path holds one element per distinct feature on
 * it, plus the root's) is the path at the node of depth d. */
static void ref_tree(const plan *pl, int ti, worker *w)
{
    const snode *nds = pl->tp[ti].nd;
    const size_t stride = (size_t)pl->max_u + 2;
    rframe *stk = w->rstk;
    int d = 0;
    stk[0] = (rframe){.node = 0, .l = 0, .pz = 1.0, .po = 1.0, .pfeat = -1, .phase = -1};
    while (d >= 0) {
        rframe *f = &stk[d];
        if (f->phase < 0) {
            const snode *nd = &nds[f->node];
            ref_elem *m = w->ref + (size_t)d * stride;
            int l = f->l;
            if (d > 0) memcpy(m, m - stride, (size_t)l * sizeof *m);
            ref_extend(m, l, f->pz, f->po, f->pfeat);
            if (nd->feature < 0) {
                double v = nd->value;
                for (int i = 1; i <= l; i++) {
                    double s = ref_unwound_sum(m, l, i);
                    w->acc[m[i].feat] += s * (m[i].o - m[i].z) * v;
                }
                d--;
                continue;
            }
            int j = nd->feature;
            int hot_left = w->x[j] <= nd->threshold;
            f->hot = hot_left ? nd->left : nd->right;
            f->cold = hot_left ? nd->right : nd->left;
            double iz = 1.0, io = 1.0;
            int k_found = 0;
            for (int i = 1; i <= l; i++)
                if (m[i].feat == j) {
                    k_found = i;
                    break;
                }
            if (k_found) {
                iz = m[k_found].z;
                io = m[k_found].o;
                ref_unwind(m, l, k_found);
                l--;
            }
            f->l = l;
            f->io = io;
            f->zh = iz * (hot_left ? nd->r_left : nd->r_right);
            f->zc = iz * (hot_left ? nd->r_right : nd->r_left);
            f->phase = 0;
        }
        int feat = nds[f->node].feature;
        rframe *c = &stk[d + 1];
        /* A child with zero fraction and zero one fraction adds nothing. */
        if (f->phase == 0) {
            f->phase = 1;
            if (!(f->zh == 0.0 && f->io == 0.0)) {
                *c = (rframe){.node = f->hot, .l = f->l + 1, .pz = f->zh, .po = f->io,
                              .pfeat = feat, .phase = -1};
                d++;
                continue;
            }
        }
        if (f->phase == 1) {
            f->phase = 2;
            if (f->zc != 0.0) {
                *c = (rframe){.node = f->cold, .l = f->l + 1, .pz = f->zc, .po = 0.0,
                              .pfeat = feat, .phase = -1};
                d++;
                continue;
            }
        }
        d--;
    }
}

/* ---- interventional ---------------------------------------------------- */

enum { ST_NONE = 0, ST_X = 1, ST_B = 2 };

/* The hybrid paths of x and background row b: a feature is "x" when every
 * split on it along the path agrees with x but not all with b, "b" the
 * reverse. With a such x-features and c such b-features the leaf's game is
 * value * [S contains the x-features and none of the b-features], whose
 * Shapley values are value * W(a-1, c) for x-features and
 * -value * W(a, c-1) for b-features (W(a, c) = a! c! / (a + c + 1)!). */
/* From node, follows the path x and b share. At a leaf, adds its terms
 * and returns -1; else returns the split where x and b part. */
static inline int32_t intv_descend(const plan *pl, const snode *nds, worker *w, int32_t node)
{
    const snode *nd = &nds[node];
    const double *x = w->x, *b = w->b;
    while (nd->feature >= 0) {
        double thr = nd->threshold;
        int32_t hx = x[nd->feature] <= thr ? nd->left : nd->right;
        int32_t hb = b[nd->feature] <= thr ? nd->left : nd->right;
        if (hx != hb) return node;
        node = hx;
        nd = &nds[node];
    }
    size_t P1 = (size_t)pl->p + 1;
    int a = w->na, c = w->nb;
    double v = nd->value;
    if (a > 0) {
        double cx = v * pl->W[(size_t)(a - 1) * P1 + (size_t)c];
        for (int i = 0; i < a; i++) w->acc[w->xlist[i]] += cx;
    }
    if (c > 0) {
        double cb = v * pl->W[(size_t)a * P1 + (size_t)(c - 1)];
        for (int i = 0; i < c; i++) w->acc[w->blist[i]] -= cb;
    }
    return -1;
}

/* The interventional walk of one tree against background row w->b,
 * iterative: a frame per split where x and b part (the stack holds the
 * splits on the current path). */
static void intv_tree(const plan *pl, const snode *nds, worker *w)
{
    frame *stk = w->stk;
    int32_t split = intv_descend(pl, nds, w, 0);
    if (split < 0) return;
    int d = 0;
    stk[0].node = split;
    stk[0].st = w->status[nds[split].feature];
    stk[0].phase = 0;
    for (;;) {
        frame *f = &stk[d];
        const snode *nd = &nds[f->node];
        int j = nd->feature;
        double thr = nd->threshold;
        int32_t next = -1;
        if (f->phase == 0) {
            /* the x side, unless j is already a b-feature on this path */
            f->phase = 1;
            if (f->st != ST_B) {
                if (f->st == ST_NONE) {
                    w->status[j] = ST_X;
                    w->xlist[w->na++] = j;
                }
                next = intv_descend(pl, nds, w, w->x[j] <= thr ? nd->left : nd->right);
            }
        }
        if (next < 0 && f->phase == 1) {
            if (f->st == ST_NONE) {
                w->na--;
                w->status[j] = ST_NONE;
            }
            /* the b side, unless j is already an x-feature on this path */
            f->phase = 2;
            if (f->st != ST_X) {
                if (f->st == ST_NONE) {
                    w->status[j] = ST_B;
                    w->blist[w->nb++] = j;
                }
                next = intv_descend(pl, nds, w, w->b[j] <= thr ? nd->left : nd->right);
            }
        }
        if (next >= 0) {
            d++;
            stk[d].node = next;
            stk[d].st = w->status[nds[next].feature];
            stk[d].phase = 0;
            continue;
        }
        if (f->phase == 2) {
            if (f->st == ST_NONE) {
                w->nb--;
                w->status[j] = ST_NONE;
            }
            f->phase = 3;
        }
        if (d == 0) break;
        d--;
    }
}

/* ---- drivers ------------------------------------------------------------ */

/* Expected value of one tree under the path-dependent game's empty
 * coalition: sum over leaves of value times the product of cover ratios,
 * bottom-up over node ids (children have larger ids), e: n_nodes scratch. */
static double tree_expectation(const sv_tree *t, double *e)
{
    for (int32_t node = t->n_nodes - 1; node >= 0; node--) {
        if (is_leaf(t, node)) {
            e[node] = t->value[node];
            continue;
        }
        double cl = t->cover[t->left[node]], cr = t->cover[t->right[node]];
        double s = 0.0;
        if (cl > 0) s += cl / t->cover[node] * e[t->left[node]];
        if (cr > 0) s += cr / t->cover[node] * e[t->right[node]];
        e[node] = s;
    }
    return e[0];
}

static double forest_predict_row(const sv_forest *f, const double *x)
{
    double s = 0.0;
    for (int32_t t = 0; t < f->n_trees; t++) s += sv_tree_predict_row(&f->trees[t], x);
    return s / (double)f->n_trees;
}

typedef struct job {
    const plan *pl;
    job_kind kind;
    const double *X;
    size_t n;
    double *out;
    worker *ws;
    size_t block; /* rows per task */
} job;

/* Loads rows [i0, i1) into the worker's block buffers (NaN refused). */
static sv_status load_rows(const job *jb, worker *w, size_t i0, size_t i1, sv_err *err)
{
    size_t p = (size_t)jb->pl->p;
    for (size_t i = i0; i < i1; i++) {
        double *x = w->xb + (i - i0) * p, *acc = w->accb + (i - i0) * p;
        for (size_t j = 0; j < p; j++) {
            double v = jb->X[j * jb->n + i];
            if (isnan(v))
                return sv_err_set(err, SV_EINVAL, "X row %zu column %zu is NaN", i + 1, j + 1);
            x[j] = v;
            acc[j] = 0.0;
        }
    }
    return SV_OK;
}

static void select_row(worker *w, size_t r)
{
    w->x = w->xb + r * (size_t)w->p;
    w->acc = w->accb + r * (size_t)w->p;
}

static sv_status values_task(void *ud, size_t blk, int wk, sv_err *err)
{
    const job *jb = ud;
    const plan *pl = jb->pl;
    worker *w = &jb->ws[wk];
    size_t i0 = blk * jb->block, i1 = i0 + jb->block < jb->n ? i0 + jb->block : jb->n;
    size_t nr = i1 - i0;
    sv_status st = load_rows(jb, w, i0, i1, err);
    if (st != SV_OK) return st;
    double scale = 1.0 / (double)pl->T;
    switch (jb->kind) {
    case JOB_LINEAR:
        for (int t = 0; t < pl->T; t++)
            for (size_t r = 0; r < nr; r++) {
                select_row(w, r);
                lin_tree(pl, t, w);
            }
        break;
    case JOB_REFERENCE:
        for (int t = 0; t < pl->T; t++)
            for (size_t r = 0; r < nr; r++) {
                select_row(w, r);
                ref_tree(pl, t, w);
            }
        break;
    case JOB_INTERVENTIONAL:
        for (size_t b = 0; b < pl->n_bg; b++) {
            w->b = pl->bg + b * (size_t)pl->p;
            for (int t = 0; t < pl->T; t++)
                for (size_t r = 0; r < nr; r++) {
                    select_row(w, r);
                    w->na = w->nb = 0;
                    intv_tree(pl, pl->tp[t].nd, w);
                }
        }
        scale /= (double)pl->n_bg;
        break;
    default:
        return sv_err_set(err, SV_EINVAL, "internal: bad job");
    }
    for (size_t r = 0; r < nr; r++)
        for (int j = 0; j < pl->p; j++)
            jb->out[(size_t)j * jb->n + i0 + r] = w->accb[r * (size_t)pl->p + (size_t)j] * scale;
    return SV_OK;
}

/* Per-leaf tables: the block's rows walk each tree together, read from
 * X's columns in place; the sums are feature-major (accb[j * nr + r]). */
static sv_status table_task(void *ud, size_t blk, int wk, sv_err *err)
{
    const job *jb = ud;
    const plan *pl = jb->pl;
    worker *w = &jb->ws[wk];
    size_t i0 = blk * jb->block, i1 = i0 + jb->block < jb->n ? i0 + jb->block : jb->n;
    size_t nr = i1 - i0, p = (size_t)pl->p;
    for (size_t r = 0; r < nr; r++)
        for (size_t j = 0; j < p; j++)
            if (isnan(jb->X[j * jb->n + i0 + r]))
                return sv_err_set(err, SV_EINVAL, "X row %zu column %zu is NaN", i0 + r + 1, j + 1);
    memset(w->accb, 0, nr * p * sizeof *w->accb);
    for (int t = 0; t < pl->T; t++)
        shap_table_block(pl->tab, t, jb->X, jb->n, i0, nr, w->accb, w->tscratch);
    double scale = 1.0 / (double)pl->T;
    for (size_t j = 0; j < p; j++)
        for (size_t r = 0; r < nr; r++)
            jb->out[j * jb->n + i0 + r] = w->accb[j * nr + r] * scale;
    return SV_OK;
}

static sv_status interactions_task(void *ud, size_t blk, int wk, sv_err *err)
{
    const job *jb = ud;
    const plan *pl = jb->pl;
    worker *w = &jb->ws[wk];
    size_t i0 = blk * jb->block, i1 = i0 + jb->block < jb->n ? i0 + jb->block : jb->n;
    size_t nr = i1 - i0;
    sv_status st = load_rows(jb, w, i0, i1, err);
    if (st != SV_OK) return st;
    size_t p = (size_t)pl->p;
    memset(jb->out + i0 * p * p, 0, nr * p * p * sizeof *jb->out);
    for (int t = 0; t < pl->T; t++)
        for (size_t r = 0; r < nr; r++) {
            select_row(w, r);
            w->inter = jb->out + (i0 + r) * p * p;
            int_tree(pl, t, w);
        }
    double scale = 1.0 / (double)pl->T;
    for (size_t r = 0; r < nr; r++) {
        double *o = jb->out + (i0 + r) * p * p;
        const double *acc = w->accb + r * p;
        for (size_t j = 0; j < p; j++) {
            double off = 0.0;
            for (size_t k = 0; k < p; k++) {
                if (k == j) continue;
                double v = o[k * p + j] * scale;
                o[k * p + j] = v;
                off += v;
            }
            o[j * p + j] = acc[j] * scale - off;
        }
    }
    return SV_OK;
}

/* The automatic choice between the linear walk and the per-leaf tables:
 * tables when they fit in SV_SHAP_TABLE_BUDGET doubles and filling them
 * (the integrals, plus writing each entry to fresh memory) costs less than
 * what they save on n rows. Per row and node, the linear walk does about
 * 6 m + 8 operations, the table pass about 6. */
#define SV_SHAP_TABLE_BUDGET ((size_t)1 << 24)
/* ... and when asked for by name, at most 2^27 doubles (1 GB). */
#define SV_SHAP_TABLE_LIMIT ((size_t)1 << 27)

/* fits: the trees qualify (shap_table_size), with doubles and build its
 * sizes. */
static int table_pays(const plan *pl, size_t n, int fits, size_t doubles, double build)
{
    if (!fits || doubles > SV_SHAP_TABLE_BUDGET) return 0;
    double saved = 0.0;
    for (int t = 0; t < pl->T; t++) saved += (double)pl->f->trees[t].n_nodes * 6.0 * pl->tp[t].m + 2.0;
    return build + 8.0 * (double)doubles < (double)n * saved;
}

static int workers_for(const sv_ctx *ctx, size_t n)
{
    int nw = sv_ctx_threads(ctx);
    if ((size_t)nw > n) nw = (int)n;
    return nw < 1 ? 1 : nw;
}

static sv_status run(const sv_forest *f, const double *X, size_t n, const sv_shap_opts *opts,
                     const sv_ctx *ctx, int interactions, double *out, double *base,
                     sv_err *err)
{
    plan pl;
    sv_status st = plan_init(&pl, f, opts, err);
    if (st != SV_OK) return st;
    job jb = {.pl = &pl, .X = X, .n = n, .out = out};
    if (interactions) {
        jb.kind = JOB_INTERACTIONS;
    } else if (pl.bg) {
        jb.kind = JOB_INTERVENTIONAL;
    } else {
        sv_shap_algorithm a = opts ? opts->algorithm : SV_SHAP_AUTO;
        jb.kind = a == SV_SHAP_REFERENCE ? JOB_REFERENCE : JOB_LINEAR;
        size_t doubles = 0;
        double build = 0.0;
        int fits = (a == SV_SHAP_TABLE || a == SV_SHAP_AUTO) &&
                   shap_table_size(f->trees, f->n_trees, &doubles, &build) == 0;
        if (a == SV_SHAP_TABLE || (a == SV_SHAP_AUTO && table_pays(&pl, n, fits, doubles, build)))
            jb.kind = JOB_TABLE;
        if (a == SV_SHAP_TABLE) {
            if (fits && doubles > SV_SHAP_TABLE_LIMIT) {
                plan_free(&pl);
                return sv_err_set(err, SV_EINVAL,
                                  "the table algorithm would need %zu MB of tables (at most %zu)",
                                  doubles / (1u << 17), SV_SHAP_TABLE_LIMIT / (1u << 17));
            }
        }
    }
    if (jb.kind == JOB_TABLE) {
        st = shap_table_new(f->trees, f->n_trees, &pl.tab, err);
        if (st != SV_OK) {
            plan_free(&pl);
            return st;
        }
    }
    if (base) {
        double s = 0.0;
        if (pl.bg) {
            for (size_t b = 0; b < pl.n_bg; b++)
                s += forest_predict_row(f, pl.bg + b * (size_t)pl.p);
            s /= (double)pl.n_bg;
        } else {
            int32_t most = 0;
            for (int32_t t = 0; t < f->n_trees; t++)
                if (f->trees[t].n_nodes > most) most = f->trees[t].n_nodes;
            double *e = sv_malloc((size_t)most, sizeof *e);
            if (!e) {
                plan_free(&pl);
                return sv_err_set(err, SV_ENOMEM, "out of memory for TreeSHAP workspaces");
            }
            for (int32_t t = 0; t < f->n_trees; t++) s += tree_expectation(&f->trees[t], e);
            free(e);
            s /= (double)f->n_trees;
        }
        *base = s;
    }
    jb.block = SV_SHAP_BLOCK;
    if (jb.kind == JOB_TABLE) {
        /* large blocks, but enough of them to keep every thread busy */
        size_t want = 4 * (size_t)sv_ctx_threads(ctx);
        jb.block = shap_table_block_rows(pl.tab);
        while (jb.block > SV_SHAP_BLOCK && (n + jb.block - 1) / jb.block < want) jb.block /= 2;
    }
    size_t blocks = (n + jb.block - 1) / jb.block;
    int nw = workers_for(ctx, blocks);
    jb.ws = workers_new(&pl, nw, jb.kind, jb.block, err);
    if (!jb.ws) {
        plan_free(&pl);
        return SV_ENOMEM;
    }
    st = sv_parallel_for(ctx, interactions ? "shap.interactions" : "shap.tree", blocks, nw,
                         interactions            ? interactions_task
                         : jb.kind == JOB_TABLE ? table_task
                                                : values_task,
                         &jb, err);
    workers_free(jb.ws, nw);
    plan_free(&pl);
    return st;
}

/* A forest of K > 2 classes: the game of class opts->class_index, on a
 * view of the forest whose node values are that class's fractions. */
static sv_status run_class(const sv_forest *f, const double *X, size_t n,
                           const sv_shap_opts *opts, const sv_ctx *ctx, int interactions,
                           double *out, double *base, sv_err *err)
{
    if (!opts)
        return sv_err_set(err, SV_EINVAL, "a forest of %d classes: choose the class to explain",
                          (int)sv_forest_n_outputs(f));
    sv_forest *view;
    sv_status st = sv_forest_output_view(f, opts->class_index, &view, err);
    if (st != SV_OK) return st;
    st = run(view, X, n, interactions ? NULL : opts, ctx, interactions, out, base, err);
    sv_forest_view_free(view);
    return st;
}

sv_status sv_shap_values(const sv_forest *f, const double *X, size_t n,
                         const sv_shap_opts *opts, const sv_ctx *ctx, double *phi,
                         double *base, sv_err *err)
{
    sv_err_clear(err);
    if (opts && (opts->algorithm < SV_SHAP_AUTO || opts->algorithm > SV_SHAP_TABLE))
        return sv_err_set(err, SV_EINVAL, "unknown TreeSHAP algorithm %d", (int)opts->algorithm);
    if (n > 0 && (!X || !phi)) return sv_err_set(err, SV_EINVAL, "X and phi are required");
    if (sv_forest_n_outputs(f) == 1) return run(f, X, n, opts, ctx, 0, phi, base, err);
    return run_class(f, X, n, opts, ctx, 0, phi, base, err);
}

sv_status sv_shap_interactions(const sv_forest *f, const double *X, size_t n,
                               const sv_shap_opts *opts, const sv_ctx *ctx, double *out,
                               double *base, sv_err *err)
{
    sv_err_clear(err);
    if (opts && opts->background)
        return sv_err_set(err, SV_EINVAL,
                          "interaction values are computed for the path-dependent game only "
                          "(no background)");
    if (n > 0 && (!X || !out)) return sv_err_set(err, SV_EINVAL, "X and out are required");
    if (sv_forest_n_outputs(f) == 1) return run(f, X, n, NULL, ctx, 1, out, base, err);
    return run_class(f, X, n, opts, ctx, 1, out, base, err);
}

void sv_shap_opts_default(sv_shap_opts *opts)
{
    opts->algorithm = SV_SHAP_AUTO;
    opts->background = NULL;
    opts->n_background = 0;
    opts->class_index = 0;
}
