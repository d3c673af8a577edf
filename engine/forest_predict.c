/*
 * forest_predict.c - prediction and out-of-bag prediction (sv_forest.h):
 * the trees are packed once into one preorder array, and rows are walked
 * through them in blocks, several rows in lockstep, the next tree
 * prefetched while one is walked. Each row's values are summed in tree
 * order, so the result is the same for any block size, lane count or
 * thread count.
 */
#include "forest_grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per prediction task, at most: a block is copied to row-major order
 * and every tree walks the whole block before the next tree, so a larger
 * block reuses each tree's nodes from cache for more rows (measured on
 * 50 features: 64 rows 0.135 s, 1024 rows 0.051 s, 2048 rows 0.047 s per
 * 5000 rows x 100 trees; with lockstep walks and prefetching, 100,000
 * rows x 50 grown into 500 trees, 20,000 rows: 1024 to 4096 rows within
 * the noise of one another, 20,000 rows twice as slow as the rows no
 * longer fit the cache beside the tree). Smaller blocks are used when
 * there are too few rows to keep every thread busy. */
#define SV_FOREST_PREDICT_BLOCK 2048

/* ---- prediction ----------------------------------------------------------- */

/* Leaf value for row i of the column-major X with n rows (unpacked
 * trees: forests assembled by hand, without sv_forest_pack). */
static inline int32_t leaf_id(const sv_tree *t, const double *X, size_t n, size_t i)
{
    int32_t k = 0;
    while (t->left[k] >= 0)
        k = X[(size_t)t->feature[k] * n + i] <= t->threshold[k] ? t->left[k] : t->right[k];
    return k;
}

/* The packed leaf of node id of tr, at packed index me. */
static sv_forest_pnode pack_leaf(const sv_tree *tr, int32_t id, size_t nout, int32_t n_features,
                                 int32_t me)
{
    size_t at = (size_t)id * (size_t)tr->n_values;
    if (nout == 1) return (sv_forest_pnode){tr->value[at], n_features, me};
    /* several outputs: the index of the values, or a pure leaf's class
     * (see sv_forest_pnode) */
    size_t ones = 0, zeros = 0, one = 0;
    for (size_t c = 0; c < nout; c++) {
        double v = tr->value[at + c];
        if (v == 1.0) {
            ones++;
            one = c;
        } else if (v == 0.0 && !signbit(v)) {
            zeros++;
        }
    }
    double tv = ones == 1 && zeros == nout - 1 ? -(double)(one + 1) : (double)at;
    return (sv_forest_pnode){tv, n_features, me};
}

/* Nonzero when every internal node's left child is the next node: the ids
 * are then already the packed order (a grown tree: depth first, left
 * child first), and packing is a copy. */
static int ids_are_packed_order(const sv_tree *tr)
{
    for (int32_t id = 0; id < tr->n_nodes; id++)
        if (tr->left[id] >= 0 && tr->left[id] != id + 1) return 0;
    return 1;
}

sv_status sv_forest_pack(sv_forest *f, sv_err *err)
{
    free(f->pnodes);
    free(f->pnode_off);
    f->pnodes = NULL;
    size_t total = 0;
    int32_t max_nodes = 1;
    size_t nout = (size_t)sv_forest_n_outputs(f);
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
        const sv_tree *tr = &f->trees[t];
        f->pnode_off[t] = pos;
        sv_forest_pnode *out = f->pnodes + pos;
        if (ids_are_packed_order(tr)) {
            /* one pass in node order (the trees were walked in preorder
             * through a stack, reading their arrays out of order: 3% of
             * a validation pipeline of many small forests) */
            for (int32_t id = 0; id < tr->n_nodes; id++)
                out[id] = tr->left[id] < 0
                              ? pack_leaf(tr, id, nout, f->n_features, id)
                              : (sv_forest_pnode){tr->threshold[id], tr->feature[id], tr->right[id]};
            pos += (size_t)tr->n_nodes;
            continue;
        }
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
                out[me] = pack_leaf(tr, id, nout, f->n_features, me);
            } else {
                out[me] = (sv_forest_pnode){tr->threshold[id], tr->feature[id], 0};
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
    const sv_forest *f;
    const double *X;
    size_t n, p;
    double *out;
    int oob;        /* average only the trees for which the row was OOB */
    size_t block;   /* rows per task */
    double *work;   /* per worker: see predict_block */
    size_t work_len; /* doubles per worker */
} predictor;

/* Rows walked together through one tree: a walk is a chain of dependent
 * loads (each node's address comes from the previous one), so walking
 * several rows in lockstep keeps several loads in flight instead of one.
 * Measured (K = 3, 500 trees of 38k nodes, 20,000 rows, 1 thread, no
 * prefetch): 1 lane 5.1 s, 4 lanes 2.9 s, 8 lanes 2.6 s, 16 lanes 2.6 s
 * (the lanes' state no longer fits the registers). */
#define SV_FOREST_PREDICT_LANES 8

/* A grown tree is far larger than the cache and a block of rows touches
 * most of it, so its nodes come from memory once per block; while one tree
 * is walked the next one is prefetched, a few cache lines per lockstep
 * step, so that it is all on its way before that tree's walk starts (the
 * number of lines per step is chosen for about this many steps per group
 * of lanes; a walk of a grown tree takes about 20). Measured as above with
 * 8 lanes: 2.3 s without, 1.0 s with. */
#define SV_FOREST_PREFETCH_STEPS 16

#if defined(__GNUC__) || defined(__clang__)
#define SV_PREFETCH(a) __builtin_prefetch((a), 0, 3)
#else
#define SV_PREFETCH(a) ((void)(a))
#endif

typedef struct prefetcher {
    const char *next, *end; /* lines of the next tree not yet prefetched */
    size_t per_step;
} prefetcher;

/* Walks the rows xr[0..L-1] (row-major, padded with a NaN in column p)
 * through the packed tree `nodes` to their leaves k[0..L-1]. Each step
 * moves every lane; a lane at a leaf stays there (its comparison with
 * the NaN fails and `right` is itself), so the loop ends at the first
 * step where no lane moved. */
static inline void walk_lanes(const sv_forest_pnode *nodes, const double *const *xr, int32_t *k,
                              prefetcher *pf)
{
    enum { L = SV_FOREST_PREDICT_LANES };
    for (int l = 0; l < L; l++) k[l] = 0;
    for (;;) {
        for (size_t q = 0; q < pf->per_step && pf->next < pf->end; q++, pf->next += 64)
            SV_PREFETCH(pf->next);
        if (!sv_pnode_step(nodes, xr, k, L)) break;
    }
}

static sv_status predict_block(void *ud, size_t b, int worker, sv_err *err)
{
    (void)err;
    enum { L = SV_FOREST_PREDICT_LANES };
    predictor *pr = ud;
    const sv_forest *f = pr->f;
    size_t p = pr->p, n = pr->n;
    size_t B = pr->block;
    size_t i0 = b * B;
    size_t i1 = i0 + B;
    if (i1 > n) i1 = n;
    size_t m = i1 - i0;
    size_t nout = (size_t)sv_forest_n_outputs(f);
    size_t stride = p + 1;
    /* worker memory: the block's rows, row-major and padded with a NaN
     * (so a traversal reads one small buffer), B x nout sums, B counts,
     * B row positions to walk */
    double *xb = pr->work + (size_t)worker * pr->work_len;
    double *sum = xb + B * stride, *cnt = sum + B * nout;
    uint32_t *idx = (uint32_t *)(cnt + B);
    for (size_t i = 0; i < m * nout; i++) sum[i] = 0.0;
    for (size_t i = 0; i < m; i++) cnt[i] = 0.0;
    if (f->pnodes) {
        for (size_t j = 0; j < p; j++)
            for (size_t i = 0; i < m; i++) xb[i * stride + j] = pr->X[j * n + i0 + i];
        for (size_t i = 0; i < m; i++) xb[i * stride + p] = NAN;
    }
    for (int32_t t = 0; t < f->n_trees; t++) {
        const uint64_t *bits = pr->oob ? f->inbag + (size_t)t * f->inbag_words : NULL;
        const sv_tree *tr = &f->trees[t];
        size_t mw = 0;
        for (size_t i = 0; i < m; i++) {
            size_t row = i0 + i;
            if (bits && (bits[row >> 6] >> (row & 63) & 1)) continue;
            idx[mw++] = (uint32_t)i;
        }
        if (!f->pnodes) {
            for (size_t q = 0; q < mw; q++) {
                size_t i = idx[q];
                const double *v = tr->value + (size_t)leaf_id(tr, pr->X, n, i0 + i) * nout;
                for (size_t c = 0; c < nout; c++) sum[i * nout + c] += v[c];
                cnt[i] += 1.0;
            }
            continue;
        }
        const sv_forest_pnode *nodes = f->pnodes + f->pnode_off[t];
        int32_t tn = t + 1 < f->n_trees ? t + 1 : 0; /* the last prefetches the first */
        prefetcher pf = {(const char *)(f->pnodes + f->pnode_off[tn]),
                         (const char *)(f->pnodes + f->pnode_off[tn + 1]), 0};
        size_t lines = (size_t)(pf.end - pf.next) / 64 + 1;
        size_t steps = (mw + L - 1) / L * SV_FOREST_PREFETCH_STEPS;
        pf.per_step = steps ? (lines + steps - 1) / steps : 0;
        /* with several outputs a group's leaf values are added after the
         * next group's walk, so that their loads (prefetched) overlap it */
        const double *lvals[L];
        size_t prev = 0, prev_lanes = 0;
        for (size_t g = 0;; g += L) {
            const double *xr[L];
            int32_t k[L];
            size_t lanes = g < mw ? (mw - g < L ? mw - g : L) : 0;
            const double *pv[L];
            if (lanes) {
                /* a short last group repeats its last row in the spare lanes */
                for (size_t l = 0; l < L; l++) xr[l] = xb + (size_t)idx[g + (l < lanes ? l : lanes - 1)] * stride;
                walk_lanes(nodes, xr, k, &pf);
                for (size_t l = 0; l < lanes; l++) {
                    size_t i = idx[g + l];
                    double tv = nodes[k[l]].tv;
                    if (nout == 1) {
                        sum[i] += tv;
                        cnt[i] += 1.0;
                    } else if (tv < 0) { /* pure leaf: no values to read */
                        sum[i * nout + (size_t)(-tv) - 1] += 1.0;
                        cnt[i] += 1.0;
                        pv[l] = NULL;
                    } else {
                        pv[l] = tr->value + (size_t)tv;
                        SV_PREFETCH(pv[l]);
                    }
                }
            }
            if (nout > 1) {
                for (size_t l = 0; l < prev_lanes; l++) {
                    if (!lvals[l]) continue; /* a pure leaf, added already */
                    size_t i = idx[prev + l];
                    for (size_t c = 0; c < nout; c++) sum[i * nout + c] += lvals[l][c];
                    cnt[i] += 1.0;
                }
                for (size_t l = 0; l < lanes; l++) lvals[l] = pv[l];
                prev = g;
                prev_lanes = lanes;
            }
            if (!lanes) break;
        }
    }
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < nout; c++) {
            double v = sum[i * nout + c];
            if (pr->oob) pr->out[c * n + i0 + i] = cnt[i] > 0 ? v / cnt[i] : NAN;
            else pr->out[c * n + i0 + i] = v / (double)f->n_trees;
        }
    return SV_OK;
}

static sv_status run_predict(const sv_forest *f, const double *X, size_t n, int oob,
                             const sv_ctx *ctx, double *out, sv_err *err)
{
    size_t p = (size_t)f->n_features;
    int nw = sv_ctx_threads(ctx);
    size_t B = SV_FOREST_PREDICT_BLOCK;
    while (B > 64 && (n + B - 1) / B < 2 * (size_t)nw) B /= 2;
    /* per worker: B padded rows, B x nout sums, B counts, B u32 positions */
    size_t work_len = B * (p + 1 + (size_t)sv_forest_n_outputs(f) + 1) + (B + 1) / 2;
    double *work = sv_malloc((size_t)nw, work_len * sizeof *work);
    if (!work) return sv_err_set(err, SV_ENOMEM, "out of memory predicting");
    predictor pr = {f, X, n, p, out, oob, B, work, work_len};
    size_t blocks = (n + B - 1) / B;
    sv_status st = sv_parallel_for(ctx, oob ? "forest.oob" : "forest.predict", blocks, nw,
                                   predict_block, &pr, err);
    free(work);
    return st;
}

sv_status sv_forest_predict(const sv_forest *f, const double *X, size_t n,
                            size_t p, const sv_ctx *ctx, double *out,
                            sv_err *err)
{
    if (p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL, "X has %zu columns, the forest was trained on %d",
                          p, (int)f->n_features);
    sv_status st = sv_forest_check_finite(X, n, p, err);
    if (st != SV_OK) return st;
    return run_predict(f, X, n, 0, ctx, out, err);
}

sv_status sv_forest_compute_oob(sv_forest *f, const double *X, size_t n,
                                size_t p, const sv_ctx *ctx, sv_err *err)
{
    if (f->oob) return SV_OK;
    if (!f->inbag || n != f->n_train || p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL, "OOB predictions need the %zu x %d training data and the "
                                          "in-bag record of training", f->n_train, (int)f->n_features);
    size_t nout = (size_t)sv_forest_n_outputs(f);
    double *oob = sv_malloc(n ? n * nout : 1, sizeof *oob);
    if (!oob) return sv_err_set(err, SV_ENOMEM, "out of memory for OOB predictions");
    sv_status st = run_predict(f, X, n, 1, ctx, oob, err);
    if (st != SV_OK) {
        free(oob);
        return st;
    }
    f->oob = oob;
    return SV_OK;
}

