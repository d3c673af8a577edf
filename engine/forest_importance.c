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
 * only the trees whose path tests j and take the recorded leaf
 * elsewhere. The leaf values are still summed tree by tree in order, so
 * the predictions, and the importances, are the same bits as walking
 * every tree.
 */
#include "sv_forest.h"
#include "sv_roc.h"
#include "sv_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct perm_ws {
    uint32_t *perm;   /* m */
    double *xrow;     /* p */
    double *pred;     /* m x n_outputs, column-major */
    double *sum;      /* n_outputs */
} perm_ws;

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
    perm_path *paths;     /* m x n_trees (row-major by row), or NULL */
} perm_job;

/* Predictions for the rows used with column j (or none when j < 0) taken
 * from the rows perm[k] (positions in rows). */
static void predict_permuted(const perm_job *jb, perm_ws *w, long j)
{
    const sv_forest *f = jb->f;
    size_t n = jb->n, p = jb->p;
    /* record the paths (j < 0, with a cache) or use them (j >= 0) */
    perm_path *paths = jb->paths;
    uint64_t jbit = j >= 0 ? (uint64_t)1 << j : 0;
    for (size_t k = 0; k < jb->m; k++) {
        size_t i = jb->rows[k];
        for (size_t c = 0; c < p; c++) w->xrow[c] = jb->X[c * n + i];
        if (j >= 0) w->xrow[j] = jb->X[(size_t)j * n + jb->rows[w->perm[k]]];
        size_t nout = jb->nout;
        double *sum = w->sum, cnt = 0.0;
        for (size_t c = 0; c < nout; c++) sum[c] = 0.0;
        perm_path *row_paths = paths ? paths + k * (size_t)f->n_trees : NULL;
        for (int32_t t = 0; t < f->n_trees; t++) {
            if (jb->oob) {
                const uint64_t *bits = f->inbag + (size_t)t * f->inbag_words;
                if (bits[i >> 6] >> (i & 63) & 1) continue;
            }
            const sv_tree *tr = &f->trees[t];
            int32_t id;
            if (f->pnodes) {
                const sv_forest_pnode *nd = f->pnodes + f->pnode_off[t];
                int32_t q = 0;
                if (row_paths && j >= 0 && !(row_paths[t].mask & jbit)) {
                    q = row_paths[t].leaf;
                } else if (row_paths && j < 0) {
                    uint64_t mask = 0;
                    while (nd[q].right != q) { /* a packed leaf points to itself */
                        mask |= (uint64_t)1 << nd[q].feature;
                        q = w->xrow[nd[q].feature] <= nd[q].tv ? q + 1 : nd[q].right;
                    }
                    row_paths[t].mask = mask;
                    row_paths[t].leaf = q;
                } else {
                    while (nd[q].right != q)
                        q = w->xrow[nd[q].feature] <= nd[q].tv ? q + 1 : nd[q].right;
                }
                if (nout == 1) {
                    sum[0] += nd[q].tv;
                } else if (nd[q].tv < 0) { /* a pure leaf (sv_forest_pnode) */
                    sum[(size_t)(-nd[q].tv) - 1] += 1.0;
                } else {
                    const double *v = tr->value + (size_t)nd[q].tv;
                    for (size_t c = 0; c < nout; c++) sum[c] += v[c];
                }
                cnt += 1.0;
                continue;
            } else {
                id = 0;
                if (row_paths && j >= 0 && !(row_paths[t].mask & jbit)) {
                    id = row_paths[t].leaf;
                } else if (row_paths && j < 0) {
                    uint64_t mask = 0;
                    while (tr->left[id] >= 0) {
                        mask |= (uint64_t)1 << tr->feature[id];
                        id = w->xrow[tr->feature[id]] <= tr->threshold[id] ? tr->left[id] : tr->right[id];
                    }
                    row_paths[t].mask = mask;
                    row_paths[t].leaf = id;
                } else {
                    while (tr->left[id] >= 0)
                        id = w->xrow[tr->feature[id]] <= tr->threshold[id] ? tr->left[id] : tr->right[id];
                }
            }
            for (size_t c = 0; c < nout; c++) sum[c] += tr->value[(size_t)id * nout + c];
            cnt += 1.0;
        }
        for (size_t c = 0; c < nout; c++) w->pred[c * jb->m + k] = sum[c] / cnt;
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
        ws[w].xrow = sv_malloc(p, sizeof *ws[w].xrow);
        ws[w].pred = sv_malloc(m * nout, sizeof *ws[w].pred);
        ws[w].sum = sv_malloc(nout, sizeof *ws[w].sum);
        if (!ws[w].perm || !ws[w].xrow || !ws[w].pred || !ws[w].sum) {
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
            free(ws[w].xrow);
            free(ws[w].pred);
            free(ws[w].sum);
        }
    free(ws);
    free(rows);
    free(yy);
    free(yk);
    free(auc);
    return st;
}
