/*
 * forest_predict.c - prediction and out-of-bag prediction (sv_forest.h):
 * the trees are packed once into one preorder array, and rows are walked
 * through them in blocks.
 */
#include "forest_grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per prediction task, at most: a block is copied to row-major order
 * and every tree walks the whole block before the next tree, so a larger
 * block reuses each tree's nodes from cache for more rows (measured on
 * 50 features: 64 rows 0.135 s, 1024 rows 0.051 s, 2048 rows 0.047 s per
 * 5000 rows x 100 trees). Smaller blocks are used when there are too few
 * rows to keep every thread busy; the result does not depend on it. */
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

sv_status sv_forest_pack(sv_forest *f, sv_err *err)
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
        const sv_tree *tr = &f->trees[t];
        f->pnode_off[t] = pos;
        sv_forest_pnode *out = f->pnodes + pos;
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
                /* a leaf keeps its node id in `right`: with several
                 * values per node they are read from the tree */
                out[me] = (sv_forest_pnode){tr->value[(size_t)id * (size_t)tr->n_values], -1, id};
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
    double *rows;   /* per worker: block x p row-major, then 2 x block sums */
} predictor;

static sv_status predict_block(void *ud, size_t b, int worker, sv_err *err)
{
    (void)err;
    predictor *pr = ud;
    const sv_forest *f = pr->f;
    size_t p = pr->p, n = pr->n;
    size_t B = pr->block;
    size_t i0 = b * B;
    size_t i1 = i0 + B;
    if (i1 > n) i1 = n;
    size_t m = i1 - i0;
    /* the block's rows, row-major, so a traversal reads one small buffer */
    size_t nout = (size_t)sv_forest_n_outputs(f);
    double *xb = pr->rows + (size_t)worker * B * (p + nout + 1);
    double *sum = xb + B * p, *cnt = sum + B * nout;
    for (size_t i = 0; i < m * nout; i++) sum[i] = 0.0;
    for (size_t i = 0; i < m; i++) cnt[i] = 0.0;
    if (f->pnodes)
        for (size_t j = 0; j < p; j++)
            for (size_t i = 0; i < m; i++) xb[i * p + j] = pr->X[j * n + i0 + i];
    for (int32_t t = 0; t < f->n_trees; t++) {
        const uint64_t *bits = pr->oob ? f->inbag + (size_t)t * f->inbag_words : NULL;
        const sv_forest_pnode *nodes = f->pnodes ? f->pnodes + f->pnode_off[t] : NULL;
        const sv_tree *tr = &f->trees[t];
        for (size_t i = 0; i < m; i++) {
            size_t row = i0 + i;
            if (bits && (bits[row >> 6] >> (row & 63) & 1)) continue;
            int32_t k = 0, id;
            if (nodes) {
                const double *x = xb + i * p;
                while (nodes[k].feature >= 0)
                    k = x[nodes[k].feature] <= nodes[k].tv ? k + 1 : nodes[k].right;
                if (nout == 1) {
                    sum[i] += nodes[k].tv;
                    cnt[i] += 1.0;
                    continue;
                }
                id = nodes[k].right;
            } else {
                id = leaf_id(tr, pr->X, n, row);
            }
            const double *v = tr->value + (size_t)id * nout;
            for (size_t c = 0; c < nout; c++) sum[i * nout + c] += v[c];
            cnt[i] += 1.0;
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
    double *rows = sv_malloc((size_t)nw * B, (p + (size_t)sv_forest_n_outputs(f) + 1) * sizeof *rows);
    if (!rows) return sv_err_set(err, SV_ENOMEM, "out of memory predicting");
    predictor pr = {f, X, n, p, out, oob, B, rows};
    size_t blocks = (n + B - 1) / B;
    sv_status st = sv_parallel_for(ctx, oob ? "forest.oob" : "forest.predict", blocks, nw,
                                   predict_block, &pr, err);
    free(rows);
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

