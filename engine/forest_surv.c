/*
 * forest_surv.c - random survival forests (sv_survforest.h): the log-rank
 * splitter of the generic grower, Nelson-Aalen leaves, ensemble CHF,
 * OOB risk and permutation importance by Harrell's C.
 *
 * The log-rank statistic of every boundary of a feature in a node in
 * O(m log m). With the node's distinct times u_1 < ... < u_J, at-risk
 * counts Y_j, deaths d_j, w_j = d_j (Y_j - d_j) / (Y_j - 1) (only where
 * Y_j >= 2: ranger stops its sums at the first time with fewer than two at
 * risk) and the running sums A_j = sum d/Y, B_j = sum w/Y, C_j = sum w/Y^2
 * up to u_j, the left side's sums over the death times are
 *     num = sum_{i in L} cnt_i (delta_i - A(T_i))
 *     var = sum_{i in L} cnt_i B(T_i)
 *           - sum_{i, k in L} cnt_i cnt_k C(min(T_i, T_k))
 * since Y_{t,L} = sum_{i in L} cnt_i 1(T_i >= t). Moving the rows into
 * the left side in increasing order of the feature, the double sum grows
 * by cnt_i (cnt_i C(T_i) + 2 sum_{k in L} cnt_k C(min(T_i, T_k))), which two
 * Fenwick trees over the node's time ranks give in O(log J). The right
 * side's statistic (ranger's) has the same absolute value and variance.
 */
#include "forest_grow.h"
#include "sv_survforest.h"
#include "sv_surv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A leaf's curve, recorded while its tree grows. */
typedef struct leaf_rec {
    int32_t node;
    uint32_t off; /* first entry in the tree's pool */
} leaf_rec;

typedef struct tree_pool {
    leaf_rec *leaves;
    size_t n_leaves, cap_leaves;
    uint32_t *time;
    double *chf;
    size_t len, cap;
} tree_pool;

/* Per-worker scratch of the splitter (n entries each). */
typedef struct surv_work {
    uint64_t *keys, *keys2;
    uint32_t *rank;
    double *A, *B, *C, *F1, *F2, *Y, *D;
} surv_work;

typedef struct surv_ctx {
    size_t K;              /* grid size */
    uint32_t min_leaf;     /* ranger's min.node.size (counts with duplicates) */
    int nw;
    surv_work *work;
    tree_pool *pools;      /* one per tree */
} surv_ctx;

typedef struct surv_stat {
    uint32_t w; /* in-bag samples, duplicates counted */
    uint32_t m; /* distinct rows */
} surv_stat;

static void surv_stat_rows(const void *ctx, const sv_grow_sample *s, uint32_t m, void *stat)
{
    (void)ctx;
    surv_stat *st = stat;
    st->w = 0;
    st->m = m;
    for (uint32_t k = 0; k < m; k++) st->w += s[k].cnt;
}

static void surv_stat_sub(const void *ctx, const void *node, const void *left, void *right)
{
    (void)ctx;
    const surv_stat *a = node, *b = left;
    surv_stat *r = right;
    r->w = a->w - b->w;
    r->m = a->m - b->m;
}

static int surv_summarise(const void *ctx, const void *stat, double *value, double *cover,
                          double *impurity)
{
    (void)ctx;
    const surv_stat *st = stat;
    value[0] = 0; /* a leaf's mortality is set by surv_leaf */
    *cover = st->w;
    *impurity = 0;
    return 0; /* identical outcomes give no split with positive variance */
}

static void fw_add(double *f, uint32_t J, uint32_t r, double v)
{
    for (uint32_t i = r + 1; i <= J; i += i & (~i + 1)) f[i - 1] += v;
}

static double fw_sum(const double *f, uint32_t r) /* ranks 0..r-1 */
{
    double s = 0;
    for (uint32_t i = r; i > 0; i -= i & (~i + 1)) s += f[i - 1];
    return s;
}

static int surv_eval(const sv_grower *g, sv_grow_scratch *s, int32_t f, uint32_t start,
                     uint32_t end, const void *node_stat, sv_grow_best *b)
{
    const surv_ctx *c = g->sp->ctx;
    const sv_grow_codes *fc = &g->fc[f];
    if (fc->n_levels < 2) return 0;
    const surv_stat *ns = node_stat;
    uint32_t ml = c->min_leaf;
    if (ns->w < 2 * ml) return 1; /* too small to split: not constant, no candidate */
    surv_work *wk = &c->work[s - g->scr];
    const sv_grow_sample *smp = s->smp + start;
    uint32_t m = end - start;

    /* the node's codes of f; constant in the node? */
    uint32_t *cb = s->cbuf;
    sv_grow_gather(fc, smp, m, cb);
    uint32_t lo = cb[0], hi = cb[0];
    for (uint32_t k = 1; k < m; k++) {
        if (cb[k] < lo) lo = cb[k];
        if (cb[k] > hi) hi = cb[k];
    }
    if (lo == hi) return 0;

    /* the node's times: ranks, at-risk counts and the running sums */
    uint64_t *keys = wk->keys;
    for (uint32_t k = 0; k < m; k++) keys[k] = (uint64_t)(smp[k].y >> 1) << 32 | k;
    sv_sort_u64(keys, m);
    uint32_t J = 0;
    for (uint32_t q = 0; q < m;) {
        uint32_t code = (uint32_t)(keys[q] >> 32);
        double at = 0, d = 0;
        while (q < m && (uint32_t)(keys[q] >> 32) == code) {
            const sv_grow_sample *x = &smp[(uint32_t)keys[q]];
            wk->rank[(uint32_t)keys[q]] = J;
            at += x->cnt;
            if (x->y & 1u) d += x->cnt;
            q++;
        }
        wk->Y[J] = at; /* samples at this time; the suffix sum below */
        wk->D[J] = d;
        J++;
    }
    for (uint32_t j = J - 1; j-- > 0;) wk->Y[j] += wk->Y[j + 1];
    /* the sums stop at jstop, the first time with fewer than 2 at risk */
    double A = 0, B = 0, C = 0;
    uint32_t jstop = J;
    for (uint32_t j = 0; j < J; j++) {
        double Y = wk->Y[j], d = wk->D[j];
        if (Y < 2 && jstop == J) jstop = j;
        if (j < jstop && d > 0) {
            double w = d * (Y - d) / (Y - 1);
            A += d / Y;
            B += w / Y;
            C += w / (Y * Y);
        }
        wk->A[j] = A;
        wk->B[j] = B;
        wk->C[j] = C;
        wk->F1[j] = 0;
        wk->F2[j] = 0;
    }

    /* the rows in increasing order of the feature */
    uint64_t *ord = wk->keys2;
    for (uint32_t k = 0; k < m; k++) ord[k] = (uint64_t)cb[k] << 32 | k;
    sv_sort_u64(ord, m);
    double num = 0, lin = 0, quad = 0;
    uint32_t wl = 0, nl = 0, prev = 0;
    int have_prev = 0;
    for (uint32_t q = 0; q < m;) {
        uint32_t code = (uint32_t)(ord[q] >> 32);
        if (have_prev) {
            uint32_t wr = ns->w - wl;
            double var = lin - quad;
            if (wl >= ml && wr >= ml && var > 1e-12 * lin) {
                double stat = fabs(num) / sqrt(var);
                /* ties (equal to rounding: the incremental sums are not
                 * ranger's per-candidate sums) keep the first boundary */
                if (!b->found || stat > b->proxy * (1 + 1e-10)) {
                    surv_stat left = {wl, nl};
                    sv_grow_best_take(b, stat, f, prev, code, nl, &left, sizeof left);
                }
            }
        }
        while (q < m && (uint32_t)(ord[q] >> 32) == code) {
            uint32_t k = (uint32_t)ord[q++];
            const sv_grow_sample *x = &smp[k];
            uint32_t r = wk->rank[k];
            double cnt = x->cnt;
            double Cr = wk->C[r];
            num += cnt * (((x->y & 1u) && r < jstop ? 1.0 : 0.0) - wk->A[r]);
            lin += cnt * wk->B[r];
            double below = fw_sum(wk->F2, r);              /* sum cnt C(T_k), T_k < T_i */
            double atabove = wl - fw_sum(wk->F1, r);       /* sum cnt, T_k >= T_i */
            quad += cnt * (cnt * Cr + 2 * (below + Cr * atabove));
            fw_add(wk->F1, J, r, cnt);
            fw_add(wk->F2, J, r, cnt * Cr);
            wl += x->cnt;
            nl++;
        }
        prev = code;
        have_prev = 1;
    }
    return 1;
}

/* Appends to a growable array; 0 on no memory. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * size);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

/* A leaf: its Nelson-Aalen curve over its in-bag samples (duplicates
 * counted) into the tree's pool, its mortality into its payload. */
static sv_status surv_leaf(const void *ctx, size_t tree, int32_t node, const sv_grow_sample *s,
                           uint32_t m, double *value, sv_err *err)
{
    const surv_ctx *c = ctx;
    tree_pool *tp = &c->pools[tree];
    uint64_t small[64], *keys = m <= 64 ? small : sv_malloc(m, sizeof *keys);
    if (!keys) return sv_err_set(err, SV_ENOMEM, "out of memory storing a leaf");
    for (uint32_t k = 0; k < m; k++) keys[k] = (uint64_t)(s[k].y >> 1) << 32 | k;
    sv_sort_u64(keys, m);
    double total = 0;
    for (uint32_t k = 0; k < m; k++) total += s[k].cnt;
    size_t cap_l = tp->cap_leaves;
    if (!grow((void **)&tp->leaves, &cap_l, tp->n_leaves + 1, sizeof *tp->leaves)) {
        if (keys != small) free(keys);
        return sv_err_set(err, SV_ENOMEM, "out of memory storing a leaf");
    }
    tp->cap_leaves = cap_l;
    tp->leaves[tp->n_leaves++] = (leaf_rec){node, (uint32_t)tp->len};
    double H = 0, mort = 0, Y = total;
    for (uint32_t q = 0; q < m;) {
        uint32_t code = (uint32_t)(keys[q] >> 32);
        double at = 0, d = 0;
        while (q < m && (uint32_t)(keys[q] >> 32) == code) {
            const sv_grow_sample *x = &s[(uint32_t)keys[q++]];
            at += x->cnt;
            if (x->y & 1u) d += x->cnt;
        }
        if (d > 0) {
            H += d / Y;
            size_t cap = tp->cap, cap2 = tp->cap;
            if (!grow((void **)&tp->time, &cap, tp->len + 1, sizeof *tp->time) ||
                !grow((void **)&tp->chf, &cap2, tp->len + 1, sizeof *tp->chf)) {
                if (keys != small) free(keys);
                return sv_err_set(err, SV_ENOMEM, "out of memory storing a leaf");
            }
            tp->cap = cap;
            tp->time[tp->len] = code;
            tp->chf[tp->len] = H;
            tp->len++;
            /* the step adds d/Y at every grid time from this one on */
            mort += d / Y * (double)(c->K - code);
        }
        Y -= at;
    }
    value[0] = mort;
    if (keys != small) free(keys);
    return SV_OK;
}

void sv_survforest_free(sv_survforest *sf)
{
    if (!sf) return;
    if (sf->f) {
        for (int32_t t = 0; t < sf->f->n_trees; t++) {
            if (sf->leaf_off) free(sf->leaf_off[t]);
            if (sf->leaf_time) free(sf->leaf_time[t]);
            if (sf->leaf_chf) free(sf->leaf_chf[t]);
        }
    }
    free(sf->leaf_off);
    free(sf->leaf_time);
    free(sf->leaf_chf);
    free(sf->times);
    sv_forest_free(sf->f);
    free(sf);
}

static char *dup_string(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);
    if (d) memcpy(d, s, len);
    return d;
}

sv_status sv_survforest_train(const double *X, size_t n, size_t p, const double *time,
                              const double *event, const char *const *names,
                              const sv_forest_opts *opts, const sv_ctx *ctx,
                              sv_survforest **out, sv_err *err)
{
    *out = NULL;
    if (n < 2) return sv_err_set(err, SV_EINVAL, "X has %zu rows; need at least 2", n);
    if (p == 0) return sv_err_set(err, SV_EINVAL, "X has no columns");
    if (n > 0x7fffffffu / 2 || p > 0x7fffffffu)
        return sv_err_set(err, SV_EINVAL, "X is too large (%zu x %zu)", n, p);
    if (opts->n_trees < 1) return sv_err_set(err, SV_EINVAL, "trees must be >= 1");
    if (opts->mtry < 0 || (size_t)opts->mtry > p)
        return sv_err_set(err, SV_EINVAL, "mtry must be in [1, %zu]", p);
    if (opts->min_leaf < 1) return sv_err_set(err, SV_EINVAL, "min_leaf must be >= 1");
    if (opts->max_depth < 0) return sv_err_set(err, SV_EINVAL, "max_depth must be >= 0");
    if (!(opts->sample_fraction > 0 && opts->sample_fraction <= 1))
        return sv_err_set(err, SV_EINVAL, "sample_fraction must be in (0, 1]");
    sv_status st = sv_surv_check(time, event, n, err);
    if (st) return st;
    st = sv_forest_check_finite(X, n, p, err);
    if (st) return st;

    sv_forest_opts o = *opts;
    if (o.mtry == 0) { /* ranger 0.14: ceil(sqrt(p)) */
        int32_t k = 1;
        while ((size_t)k * (size_t)k < p) k++;
        o.mtry = k;
    }
    sv_forest_opts go = o; /* the grower's: min_leaf is enforced by the splitter */
    go.min_leaf = 1;
    go.min_split = 2;
    go.criterion = SV_FOREST_GINI;
    go.class_weight = SV_FOREST_CW_NONE;

    sv_survforest *sf = sv_calloc(1, sizeof *sf);
    uint32_t *ycode = sv_malloc(n, sizeof *ycode), *ord = sv_malloc(n, sizeof *ord);
    int nw = sv_ctx_threads(ctx);
    surv_ctx c = {0, (uint32_t)o.min_leaf, nw, NULL, NULL};
    c.work = sv_calloc((size_t)nw, sizeof *c.work);
    c.pools = sv_calloc((size_t)o.n_trees, sizeof *c.pools);
    sv_forest *f = sf ? (sf->f = sv_calloc(1, sizeof *f)) : NULL;
    if (!sf || !ycode || !ord || !c.work || !c.pools || !f) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a survival forest on %zu x %zu", n, p);
        goto done;
    }
    /* the grid: unique observed times */
    if ((st = sv_order_doubles(time, n, ord, err))) goto done;
    sf->times = sv_malloc(n, sizeof *sf->times);
    if (!sf->times) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto done;
    }
    size_t K = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = ord[k];
        if (K == 0 || time[i] > sf->times[K - 1]) sf->times[K++] = time[i];
        ycode[i] = (uint32_t)(K - 1) << 1 | (event[i] != 0);
    }
    sf->n_times = K;
    c.K = K;
    for (int w = 0; w < nw; w++) {
        surv_work *wk = &c.work[w];
        wk->keys = sv_malloc(n, sizeof *wk->keys);
        wk->keys2 = sv_malloc(n, sizeof *wk->keys2);
        wk->rank = sv_malloc(n, sizeof *wk->rank);
        double *buf = sv_malloc(7 * n, sizeof *buf);
        wk->A = buf;
        if (!wk->keys || !wk->keys2 || !wk->rank || !buf) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory for splitter scratch");
            goto done;
        }
        wk->B = buf + n, wk->C = buf + 2 * n, wk->F1 = buf + 3 * n, wk->F2 = buf + 4 * n,
        wk->Y = buf + 5 * n, wk->D = buf + 6 * n;
    }

    f->n_trees = o.n_trees;
    f->n_features = (int32_t)p;
    f->opts = o;
    f->kind = SV_TREE_SURVIVAL; /* the model file and kind() read it */
    f->n_train = n;
    f->inbag_words = (n + 63) / 64;
    f->trees = sv_calloc((size_t)o.n_trees, sizeof *f->trees);
    f->inbag = sv_calloc((size_t)o.n_trees * f->inbag_words, sizeof *f->inbag);
    f->feature_names = sv_calloc(p, sizeof *f->feature_names);
    if (!f->trees || !f->inbag || !f->feature_names) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a survival forest");
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
    sv_splitter sp = {SV_TREE_SURVIVAL, 1, sizeof(surv_stat), sizeof(surv_stat) + 4, &c,
                      surv_stat_rows, surv_stat_sub, surv_summarise, surv_eval, surv_leaf};
    if ((st = sv_grow_forest(f, X, n, p, ycode, &go, &sp, ctx, err))) goto done;

    /* leaf curves into per-tree offsets by node id; internal nodes get the
     * cover-weighted mean of their children (children have larger ids) */
    sf->leaf_off = sv_calloc((size_t)o.n_trees, sizeof *sf->leaf_off);
    sf->leaf_time = sv_calloc((size_t)o.n_trees, sizeof *sf->leaf_time);
    sf->leaf_chf = sv_calloc((size_t)o.n_trees, sizeof *sf->leaf_chf);
    if (!sf->leaf_off || !sf->leaf_time || !sf->leaf_chf) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto done;
    }
    for (int32_t t = 0; t < o.n_trees; t++) {
        sv_tree *tr = &f->trees[t];
        tree_pool *tp = &c.pools[t];
        uint32_t *off = sv_malloc((size_t)tr->n_nodes + 1, sizeof *off);
        if (!off) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory");
            goto done;
        }
        /* leaves were recorded in increasing node id; an internal node's
         * range is empty: it starts where the next leaf does */
        size_t li = 0;
        for (int32_t k = 0; k < tr->n_nodes; k++) {
            off[k] = li < tp->n_leaves ? tp->leaves[li].off : (uint32_t)tp->len;
            if (li < tp->n_leaves && tp->leaves[li].node == k) li++;
        }
        off[tr->n_nodes] = (uint32_t)tp->len;
        sf->leaf_off[t] = off;
        sf->leaf_time[t] = tp->time, tp->time = NULL;
        sf->leaf_chf[t] = tp->chf, tp->chf = NULL;
        for (int32_t k = tr->n_nodes - 1; k >= 0; k--) {
            if (tr->left[k] < 0) continue;
            int32_t l = tr->left[k], r = tr->right[k];
            double cl = tr->cover[l], cr = tr->cover[r];
            tr->value[k] = (cl * tr->value[l] + cr * tr->value[r]) / (cl + cr);
        }
    }
    st = sv_forest_pack(f, err);

done:
    if (c.work)
        for (int w = 0; w < nw; w++) {
            free(c.work[w].keys), free(c.work[w].keys2), free(c.work[w].rank), free(c.work[w].A);
        }
    if (c.pools)
        for (int32_t t = 0; t < o.n_trees; t++) {
            free(c.pools[t].leaves), free(c.pools[t].time), free(c.pools[t].chf);
        }
    free(c.work), free(c.pools), free(ycode), free(ord);
    if (st) {
        sv_survforest_free(sf);
        return st;
    }
    *out = sf;
    return SV_OK;
}

/* ---- prediction --------------------------------------------------------- */

static int32_t find_leaf(const sv_tree *t, const double *X, size_t n, size_t i, int32_t pf,
                         const uint32_t *perm)
{
    int32_t k = 0;
    while (t->left[k] >= 0) {
        int32_t j = t->feature[k];
        size_t row = (perm && j == pf) ? perm[i] : i;
        k = X[(size_t)j * n + row] <= t->threshold[k] ? t->left[k] : t->right[k];
    }
    return k;
}

typedef struct chf_job {
    const sv_survforest *sf;
    const double *X;
    size_t n, m;
    const uint32_t *tord;  /* requested times in ascending order */
    const uint32_t *gpos;  /* grid index -> first sorted position with time >= it */
    int survival;
    double *acc;           /* (m + 1) per worker */
    double *out;
} chf_job;

#define ROW_BLOCK 256

/* Per row: each tree's leaf adds its hazard increments at the first
 * requested time at or after each of its death times (gpos), and one
 * running sum over the sorted times gives the CHF at all of them: O(depth
 * + leaf steps) per tree and O(m) per row, whatever m is. */
static sv_status chf_block(void *ud, size_t blk, int worker, sv_err *err)
{
    (void)err;
    const chf_job *jb = ud;
    const sv_survforest *sf = jb->sf;
    size_t i0 = blk * ROW_BLOCK, i1 = i0 + ROW_BLOCK < jb->n ? i0 + ROW_BLOCK : jb->n;
    size_t n = jb->n, m = jb->m;
    double *acc = jb->acc + (size_t)worker * (m + 1);
    double inv = 1.0 / sf->f->n_trees;
    for (size_t i = i0; i < i1; i++) {
        for (size_t q = 0; q <= m; q++) acc[q] = 0;
        for (int32_t t = 0; t < sf->f->n_trees; t++) {
            const sv_tree *tr = &sf->f->trees[t];
            int32_t k = find_leaf(tr, jb->X, n, i, -1, NULL);
            const uint32_t *off = sf->leaf_off[t];
            const uint32_t *lt = sf->leaf_time[t];
            const double *lc = sf->leaf_chf[t];
            double prev = 0;
            for (uint32_t e = off[k]; e < off[k + 1]; e++) {
                acc[jb->gpos[lt[e]]] += lc[e] - prev;
                prev = lc[e];
            }
        }
        double h = 0;
        for (size_t q = 0; q < m; q++) {
            h += acc[q];
            double v = h * inv;
            jb->out[(size_t)jb->tord[q] * n + i] = jb->survival ? exp(-v) : v;
        }
    }
    return SV_OK;
}

sv_status sv_survforest_chf(const sv_survforest *sf, const double *X, size_t n, size_t p,
                            const double *times, size_t m, int survival, const sv_ctx *ctx,
                            double *out, sv_err *err)
{
    if (p != (size_t)sf->f->n_features)
        return sv_err_set(err, SV_EINVAL, "X has %zu columns, the forest was trained on %d", p,
                          sf->f->n_features);
    for (size_t q = 0; q < m; q++)
        if (isnan(times[q])) return sv_err_set(err, SV_EINVAL, "times[%zu] is NaN", q + 1);
    sv_status st = sv_forest_check_finite(X, n, p, err);
    if (st) return st;
    int nw = sv_ctx_threads(ctx);
    uint32_t *tord = sv_malloc(m ? m : 1, sizeof *tord);
    uint32_t *gpos = sv_malloc(sf->n_times ? sf->n_times : 1, sizeof *gpos);
    double *acc = sv_malloc((size_t)nw * (m + 1), sizeof *acc);
    if (!tord || !gpos || !acc) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = sv_order_doubles(times, m, tord, err))) goto done;
    /* a step at grid time g counts from the first requested time >= g (m:
     * after every requested time, ignored) */
    for (size_t g = 0, q = 0; g < sf->n_times; g++) {
        while (q < m && times[tord[q]] < sf->times[g]) q++;
        gpos[g] = (uint32_t)q;
    }
    chf_job jb = {sf, X, n, m, tord, gpos, survival, acc, out};
    st = sv_parallel_for(ctx, "forest.survival", (n + ROW_BLOCK - 1) / ROW_BLOCK, nw, chf_block,
                         &jb, err);
done:
    free(tord), free(gpos), free(acc);
    return st;
}

sv_status sv_survforest_time_view(const sv_survforest *sf, double t, sv_forest **out,
                                  sv_err *err)
{
    *out = NULL;
    if (isnan(t)) return sv_err_set(err, SV_EINVAL, "the time is NaN");
    sv_forest *v;
    sv_status st = sv_forest_output_view(sf->f, 0, &v, err);
    if (st) return st;
    for (int32_t q = 0; q < v->n_trees; q++) {
        sv_tree *tr = &v->trees[q];
        const uint32_t *off = sf->leaf_off[q];
        const uint32_t *lt = sf->leaf_time[q];
        const double *lc = sf->leaf_chf[q];
        /* children have larger ids than their parent */
        for (int32_t k = tr->n_nodes - 1; k >= 0; k--) {
            if (tr->left[k] < 0) {
                double h = 0; /* death times ascend within a leaf */
                for (uint32_t e = off[k]; e < off[k + 1] && sf->times[lt[e]] <= t; e++) h = lc[e];
                tr->value[k] = h;
                continue;
            }
            int32_t l = tr->left[k], r = tr->right[k];
            double cl = tr->cover[l], cr = tr->cover[r];
            tr->value[k] = (cl * tr->value[l] + cr * tr->value[r]) / (cl + cr);
        }
    }
    *out = v;
    return SV_OK;
}

typedef struct oob_job {
    const sv_survforest *sf;
    const double *X;
    size_t n;
    int32_t pf;
    const uint32_t *perm;
    double *out;
} oob_job;

static sv_status oob_block(void *ud, size_t blk, int worker, sv_err *err)
{
    (void)worker, (void)err;
    const oob_job *jb = ud;
    const sv_forest *f = jb->sf->f;
    size_t i0 = blk * ROW_BLOCK, i1 = i0 + ROW_BLOCK < jb->n ? i0 + ROW_BLOCK : jb->n;
    for (size_t i = i0; i < i1; i++) {
        double s = 0;
        int32_t k = 0;
        for (int32_t t = 0; t < f->n_trees; t++) {
            const uint64_t *bits = f->inbag + (size_t)t * f->inbag_words;
            if (bits[i >> 6] >> (i & 63) & 1) continue;
            const sv_tree *tr = &f->trees[t];
            s += tr->value[find_leaf(tr, jb->X, jb->n, i, jb->pf, jb->perm)];
            k++;
        }
        jb->out[i] = k ? s / k : NAN;
    }
    return SV_OK;
}

sv_status sv_survforest_oob_risk(const sv_survforest *sf, const double *X, size_t n, size_t p,
                                 int32_t perm_feature, const uint32_t *perm,
                                 const sv_ctx *ctx, double *out, sv_err *err)
{
    const sv_forest *f = sf->f;
    if (!f->inbag || n != f->n_train || p != (size_t)f->n_features)
        return sv_err_set(err, SV_EINVAL,
                          "OOB needs the training data (%zu x %d) of a forest trained in this session",
                          f->n_train, f->n_features);
    oob_job jb = {sf, X, n, perm_feature, perm, out};
    return sv_parallel_for(ctx, "forest.oob", (n + ROW_BLOCK - 1) / ROW_BLOCK, 0, oob_block, &jb, err);
}

/* Harrell's C of risk over the rows where it is not NaN. */
static sv_status c_of(const double *time, const double *event, const double *risk, size_t n,
                      double *t2, double *e2, double *r2, double *c, sv_err *err)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (risk[i] == risk[i]) t2[m] = time[i], e2[m] = event[i], r2[m] = risk[i], m++;
    sv_concordance_result r;
    sv_status st = sv_concordance(t2, e2, r2, NULL, 0, m, &r, err);
    *c = r.concordance;
    return st;
}

sv_status sv_survforest_importance(const sv_survforest *sf, const double *X, size_t n,
                                   size_t p, const double *time, const double *event,
                                   int32_t repeats, uint64_t seed, const sv_ctx *ctx,
                                   double *out, double *c0, sv_err *err)
{
    if (repeats < 1) return sv_err_set(err, SV_EINVAL, "repeats must be >= 1");
    double *risk = sv_malloc(n, sizeof *risk), *buf = sv_malloc(3 * n, sizeof *buf);
    uint32_t *perm = sv_malloc(n, sizeof *perm);
    sv_status st = SV_OK;
    if (!risk || !buf || !perm) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = sv_survforest_oob_risk(sf, X, n, p, -1, NULL, ctx, risk, err))) goto done;
    double base;
    if ((st = c_of(time, event, risk, n, buf, buf + n, buf + 2 * n, &base, err))) goto done;
    *c0 = base;
    for (size_t j = 0; j < p; j++) {
        double acc = 0;
        for (int32_t r = 0; r < repeats; r++) {
            sv_rng rng;
            sv_rng_init(&rng, seed, (uint64_t)j * (uint64_t)repeats + (uint64_t)r);
            for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
            sv_rng_shuffle_u32(&rng, perm, n);
            if ((st = sv_survforest_oob_risk(sf, X, n, p, (int32_t)j, perm, ctx, risk, err)))
                goto done;
            double cj;
            if ((st = c_of(time, event, risk, n, buf, buf + n, buf + 2 * n, &cj, err))) goto done;
            acc += base - cj;
        }
        out[j] = acc / repeats;
    }
done:
    free(risk), free(buf), free(perm);
    return st;
}
