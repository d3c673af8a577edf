/*
 * forest_importance.c - permutation importance of a forest as the drop in
 * AUC (sv_forest.h): sv_roc_auc for two classes, Hand and Till's M
 * (sv_roc_hand_till) for K > 2.
 *
 * Feature j, repeat r: the values of column j are shuffled among the rows
 * used (RNG stream (seed, j * repeats + r)), the forest predicts the rows
 * again (with oob: each row only by the trees for which it was out of bag,
 * as Breiman's OOB importance), and the drop is AUC(unpermuted) -
 * AUC(permuted). Tasks (j, r) run in parallel and write only their own
 * slot, so any thread count gives the same numbers.
 *
 * A row's path through a tree that tests no split on feature j ends in
 * the same leaf whatever the row's value of j. So the unpermuted pass
 * records, per (row, tree), the leaf reached and the set of features
 * tested on the way (a 64-bit mask; forests of at most 64 features, and a
 * cache of at most SV_PERM_CACHE_MAX entries); the permuted passes walk
 * only the trees whose path tests j, for the rows whose value of j the
 * permutation changed, and take the recorded leaf elsewhere. The leaf
 * values are still summed tree by tree in order, so
 * the predictions, and the importances, are the same bits as walking
 * every tree.
 */
#include "forest_grow.h"
#include "sv_forest.h"
#include "sv_roc.h"
#include "sv_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct perm_ws {
    uint32_t *perm;   /* m */
    double *xblk;     /* block x (p + 1): a block of rows used, row-major,
                       * a NaN in column p (perm_walk_lanes) */
    double *pred;     /* m x n_outputs, column-major */
    double *sum;      /* block x n_outputs, column-major */
    double *cnt;      /* block */
    int32_t *leaf;    /* block: each row's leaf in one tree, -1 none */
    uint32_t *walk;   /* block: the rows to walk */
} perm_ws;

/* Rows predicted together, tree by tree (a tree's nodes stay in cache
 * while the block's rows walk it; row by row, every tree came from
 * memory again for each row): at most this many, and at most
 * SV_PERM_BLOCK_VALUES / p so that the block's values stay small. */
#define SV_PERM_BLOCK 1024
#define SV_PERM_BLOCK_VALUES 32768

static size_t perm_block(size_t p)
{
    size_t b = SV_PERM_BLOCK_VALUES / (p ? p : 1);
    return b < 1 ? 1 : b > SV_PERM_BLOCK ? SV_PERM_BLOCK : b;
}

#define SV_PERM_CACHE_MAX ((size_t)1 << 24)

/* The unpermuted path of one row through one tree: the leaf (a pnode
 * index with packed trees, else a node id) and the features it tests. */
typedef struct perm_path {
    uint64_t mask;
    int32_t leaf;
} perm_path;

typedef struct perm_job {
    const sv_forest *f;
    const double *X;
    size_t n, p;
    const uint32_t *rows; /* m rows used */
    size_t m;
    double *yy;           /* m labels of the rows used */
    int32_t *yk;          /* m class indices (K > 2) */
    size_t nout;          /* values per prediction */
    int oob;
    int32_t repeats;
    uint64_t seed;
    perm_ws *ws;          /* one per worker */
    double *auc;          /* p * repeats */
    perm_path *paths;     /* m x n_trees, or NULL: for each block of rows
                           * (perm_block) its rows' paths tree by tree */
} perm_job;

/* Rows walked together through one packed tree: a walk is a chain of
 * dependent loads, and several walks in lockstep keep several loads in
 * flight. */
#define SV_PERM_LANES 8

/* Walks the rows xr[0..SV_PERM_LANES) (padded with a NaN in column p)
 * through the packed tree nd to their leaves q[]. Every step moves every
 * lane, without a branch; a lane at a leaf stays (its comparison with
 * the NaN fails and a packed leaf's `right` is itself), and the loop
 * ends at the first step where no lane moved. */
static inline void perm_walk_lanes(const sv_forest_pnode *nd, const double *const *xr, int32_t *q)
{
    for (int l = 0; l < SV_PERM_LANES; l++) q[l] = 0;
    while (sv_pnode_step(nd, xr, q, SV_PERM_LANES)) {
        /* until no lane moves */
    }
}

/* Predictions for the rows used with column j (or none when j < 0) taken
 * from the rows perm[k] (positions in rows). A block of rows walks one
 * tree after the other (the tree's nodes stay in cache for the block);
 * the rows whose leaf is not known from the recorded paths walk it in
 * lockstep groups. Each row's values are still summed in tree order (the
 * same bits as row by row). */
static void predict_permuted(const perm_job *jb, perm_ws *w, long j)
{
    const sv_forest *f = jb->f;
    size_t n = jb->n, p = jb->p, m = jb->m, nout = jb->nout, T = (size_t)f->n_trees;
    size_t bs = perm_block(p), stride = p + 1;
    /* record the paths (j < 0, with a cache) or use them (j >= 0) */
    uint64_t jbit = j >= 0 ? (uint64_t)1 << j : 0;
    for (size_t b0 = 0; b0 < m; b0 += bs) {
        size_t bm = m - b0 < bs ? m - b0 : bs;
        for (size_t k = 0; k < bm; k++) {
            size_t i = jb->rows[b0 + k];
            double *xr = w->xblk + k * stride;
            for (size_t c = 0; c < p; c++) xr[c] = jb->X[c * n + i];
            if (j >= 0) xr[j] = jb->X[(size_t)j * n + jb->rows[w->perm[b0 + k]]];
            xr[p] = NAN;
            w->cnt[k] = 0.0;
            for (size_t c = 0; c < nout; c++) w->sum[c * bm + k] = 0.0;
        }
        perm_path *bpaths = jb->paths ? jb->paths + b0 * T : NULL;
        for (size_t t = 0; t < T; t++) {
            const sv_tree *tr = &f->trees[t];
            const uint64_t *bits = f->inbag + t * f->inbag_words;
            const sv_forest_pnode *nd = f->pnodes ? f->pnodes + f->pnode_off[t] : NULL;
            perm_path *tpaths = bpaths ? bpaths + t * bm : NULL;
            int32_t *leaf = w->leaf;
            size_t nwalk = 0;
            for (size_t k = 0; k < bm; k++) {
                size_t i = jb->rows[b0 + k];
                leaf[k] = -1;
                if (jb->oob && (bits[i >> 6] >> (i & 63) & 1)) continue;
                const double *xrow = w->xblk + k * stride;
                perm_path *pp = tpaths ? tpaths + k : NULL;
                /* the recorded leaf when the path tests no split on j, or
                 * when the row's value of j did not change (a binary
                 * feature: about half the rows): the same walk */
                if (pp && j >= 0 && (!(pp->mask & jbit) || xrow[j] == jb->X[(size_t)j * n + i])) {
                    leaf[k] = pp->leaf;
                } else if (pp && j < 0) {
                    uint64_t mask = 0;
                    int32_t q = 0;
                    if (nd) {
                        while (nd[q].right != q) { /* a packed leaf points to itself */
                            mask |= (uint64_t)1 << nd[q].feature;
                            q = xrow[nd[q].feature] <= nd[q].tv ? q + 1 : nd[q].right;
                        }
                    } else {
                        while (tr->left[q] >= 0) {
                            mask |= (uint64_t)1 << tr->feature[q];
                            q = xrow[tr->feature[q]] <= tr->threshold[q] ? tr->left[q] : tr->right[q];
                        }
                    }
                    pp->mask = mask;
                    pp->leaf = q;
                    leaf[k] = q;
                } else if (nd) {
                    w->walk[nwalk++] = (uint32_t)k;
                } else {
                    int32_t q = 0;
                    while (tr->left[q] >= 0)
                        q = xrow[tr->feature[q]] <= tr->threshold[q] ? tr->left[q] : tr->right[q];
                    leaf[k] = q;
                }
            }
            for (size_t g = 0; g < nwalk; g += SV_PERM_LANES) {
                size_t lanes = nwalk - g < SV_PERM_LANES ? nwalk - g : SV_PERM_LANES;
                const double *xr[SV_PERM_LANES];
                int32_t q[SV_PERM_LANES];
                /* a short last group repeats its last row in the spare lanes */
                for (size_t l = 0; l < SV_PERM_LANES; l++)
                    xr[l] = w->xblk + (size_t)w->walk[g + (l < lanes ? l : lanes - 1)] * stride;
                perm_walk_lanes(nd, xr, q);
                for (size_t l = 0; l < lanes; l++) leaf[w->walk[g + l]] = q[l];
            }
            for (size_t k = 0; k < bm; k++) {
                int32_t q = leaf[k];
                if (q < 0) continue;
                if (!nd) {
                    for (size_t c = 0; c < nout; c++) w->sum[c * bm + k] += tr->value[(size_t)q * nout + c];
                } else if (nout == 1) {
                    w->sum[k] += nd[q].tv;
                } else if (nd[q].tv < 0) { /* a pure leaf (sv_forest_pnode) */
                    w->sum[((size_t)(-nd[q].tv) - 1) * bm + k] += 1.0;
                } else {
                    const double *v = tr->value + (size_t)nd[q].tv;
                    for (size_t c = 0; c < nout; c++) w->sum[c * bm + k] += v[c];
                }
                w->cnt[k] += 1.0;
            }
        }
        for (size_t k = 0; k < bm; k++)
            for (size_t c = 0; c < nout; c++) w->pred[c * m + b0 + k] = w->sum[c * bm + k] / w->cnt[k];
    }
}

/* The AUC of the predictions in w->pred: sv_roc_auc, the same number
 * sv.roc.auc gives. */
static sv_status pred_auc(const perm_job *jb, const perm_ws *w, double *auc, sv_err *err)
{
    if (jb->nout > 1)
        return sv_roc_hand_till(jb->yk, w->pred, jb->m, (int32_t)jb->nout, auc, NULL, err);
    if (jb->f->kind == SV_TREE_REGRESSION) {
        /* R^2 = 1 - SSE / SST about the mean of the rows used */
        double mean = 0.0, sse = 0.0, sst = 0.0;
        for (size_t k = 0; k < jb->m; k++) mean += jb->yy[k];
        mean /= (double)jb->m;
        for (size_t k = 0; k < jb->m; k++) {
            double e = jb->yy[k] - w->pred[k], d = jb->yy[k] - mean;
            sse += e * e;
            sst += d * d;
        }
        *auc = 1.0 - sse / sst;
        return SV_OK;
    }
    sv_roc_auc_result r;
    sv_status st = sv_roc_auc(jb->yy, w->pred, jb->m, NULL, &r, err);
    if (st == SV_OK) *auc = r.auc;
    return st;
}

static sv_status perm_task(void *ud, size_t task, int worker, sv_err *err)
{
    perm_job *jb = ud;
    perm_ws *w = &jb->ws[worker];
    size_t j = task / (size_t)jb->repeats;
    sv_rng rng;
    sv_rng_init(&rng, jb->seed, (uint64_t)task);
    for (size_t k = 0; k < jb->m; k++) w->perm[k] = (uint32_t)k;
    sv_rng_shuffle_u32(&rng, w->perm, jb->m);
    predict_permuted(jb, w, (long)j);
    return pred_auc(jb, w, &jb->auc[task], err);
}

void sv_forest_perm_opts_default(sv_forest_perm_opts *o)
{
    o->repeats = SV_FOREST_DEFAULT_PERM_REPEATS;
    o->seed = 0;
    o->oob = 0;
}

sv_status sv_forest_importance_permutation(const sv_forest *f,
                                           const double *X, size_t n,
                                           size_t p, const double *y,
                                           const sv_forest_perm_opts *opts,
                                           const sv_ctx *ctx, double *mean,
                                           double *sd, double *base_auc,
                                           sv_err *err)
{
    if (p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL, "X has %zu columns, the forest was trained on %d",
                          p, (int)f->n_features);
    if (opts->repeats < 1)
        return sv_err_set(err, SV_EINVAL, "repeats must be >= 1, got %d", (int)opts->repeats);
    if (opts->oob && (!f->inbag || n != f->n_train))
        return sv_err_set(err, SV_EINVAL, "OOB importance needs the %zu training rows and the "
                                          "in-bag record of training", f->n_train);
    for (size_t i = 0; i < n * p; i++)
        if (!isfinite(X[i])) return sv_err_set(err, SV_EINVAL, "X has NaN or infinite values");

    sv_status st = SV_OK;
    int nw = sv_ctx_threads(ctx);
    size_t tasks = p * (size_t)opts->repeats;
    uint32_t *rows = sv_malloc(n ? n : 1, sizeof *rows);
    double *yy = sv_malloc(n ? n : 1, sizeof *yy);
    int32_t *yk = sv_malloc(n ? n : 1, sizeof *yk);
    size_t nout = (size_t)sv_forest_n_outputs(f);
    double *auc = sv_malloc(tasks ? tasks : 1, sizeof *auc);
    perm_ws *ws = sv_calloc((size_t)nw, sizeof *ws);
    perm_path *cache = NULL;
    if (!rows || !yy || !yk || !auc || !ws) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto done;
    }
    /* Rows used: all, or (oob) those out of bag for at least one tree. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (f->kind == SV_TREE_REGRESSION && !isfinite(y[i])) {
            st = sv_err_set(err, SV_EINVAL, "y has a non-finite value at row %zu", i + 1);
            goto done;
        }
        if (f->kind == SV_TREE_CLASSIFICATION && nout == 1 && y[i] != 0.0 && y[i] != 1.0) {
            st = sv_err_set(err, SV_EINVAL, "y must hold 0 or 1, got %.17g at row %zu", y[i], i + 1);
            goto done;
        }
        if (nout > 1 && !(y[i] >= 0 && y[i] < (double)nout && y[i] == floor(y[i]))) {
            st = sv_err_set(err, SV_EINVAL, "y must hold class indices 0..%d, got %.17g at row %zu",
                            (int)nout - 1, y[i], i + 1);
            goto done;
        }
        int use = 1;
        if (opts->oob) {
            use = 0;
            for (int32_t t = 0; t < f->n_trees && !use; t++) {
                const uint64_t *bits = f->inbag + (size_t)t * f->inbag_words;
                if (!(bits[i >> 6] >> (i & 63) & 1)) use = 1;
            }
        }
        if (use) {
            rows[m] = (uint32_t)i;
            yy[m] = y[i];
            yk[m] = (int32_t)y[i];
            m++;
        }
    }
    size_t m1 = 0;
    for (size_t k = 0; k < m; k++) m1 += yy[k] == yy[0];
    if (m1 == m) {
        st = sv_err_set(err, SV_EINVAL, f->kind == SV_TREE_REGRESSION
                                            ? "the rows used for permutation importance have a constant response"
                                            : "the rows used for permutation importance hold only one class");
        goto done;
    }
    for (int w = 0; w < nw; w++) {
        ws[w].perm = sv_malloc(m, sizeof *ws[w].perm);
        size_t bs = perm_block(p);
        ws[w].xblk = sv_malloc(bs * (p + 1), sizeof *ws[w].xblk);
        ws[w].leaf = sv_malloc(bs, sizeof *ws[w].leaf);
        ws[w].walk = sv_malloc(bs, sizeof *ws[w].walk);
        ws[w].pred = sv_malloc(m * nout, sizeof *ws[w].pred);
        ws[w].sum = sv_malloc(bs * nout, sizeof *ws[w].sum);
        ws[w].cnt = sv_malloc(bs, sizeof *ws[w].cnt);
        if (!ws[w].perm || !ws[w].xblk || !ws[w].pred || !ws[w].sum || !ws[w].cnt || !ws[w].leaf ||
            !ws[w].walk) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto done;
        }
    }
    /* without the cache's memory every walk is done (the same numbers) */
    if (p <= 64 && m * (size_t)f->n_trees <= SV_PERM_CACHE_MAX)
        cache = sv_malloc(m * (size_t)f->n_trees, sizeof *cache);
    perm_job jb = {f, X, n, p, rows, m, yy, yk, nout, opts->oob, opts->repeats, opts->seed, ws, auc, cache};
    predict_permuted(&jb, &ws[0], -1);
    double base;
    st = pred_auc(&jb, &ws[0], &base, err);
    if (st != SV_OK) goto done;
    st = sv_parallel_for(ctx, "forest.importance", tasks, 0, perm_task, &jb, err);
    if (st != SV_OK) goto done;
    *base_auc = base;
    for (size_t j = 0; j < p; j++) {
        const double *a = auc + j * (size_t)opts->repeats;
        double s = 0.0;
        for (int32_t r = 0; r < opts->repeats; r++) s += base - a[r];
        double mu = s / opts->repeats;
        double ss = 0.0;
        for (int32_t r = 0; r < opts->repeats; r++) {
            double d = (base - a[r]) - mu;
            ss += d * d;
        }
        mean[j] = mu;
        sd[j] = opts->repeats > 1 ? sqrt(ss / (opts->repeats - 1)) : 0.0;
    }

done:
    free(cache);
    if (ws)
        for (int w = 0; w < nw; w++) {
            free(ws[w].perm);
            free(ws[w].xblk);
            free(ws[w].pred);
            free(ws[w].sum);
            free(ws[w].cnt);
            free(ws[w].leaf);
            free(ws[w].walk);
        }
    free(ws);
    free(rows);
    free(yy);
    free(yk);
    free(auc);
    return st;
}
