/*
 * forest_grow.c - the generic tree grower of forest_grow.h: what every kind
 * of forest does the same way.
 *
 * How a tree is grown (scikit-learn's BestSplitter and DepthFirstTreeBuilder
 * semantics, learned from their documentation and Breiman 2001; the code is
 * our own):
 * - each feature is ranked once into integer codes 0..L-1 over its sorted
 *   distinct values, so every node works on small integers and a split
 *   "code <= a" is the threshold midway between level a and the next level
 *   present in the node;
 * - tree t draws its rows from the RNG stream (seed, t): bootstrap counts
 *   become sample weights, a node holds the distinct in-bag rows, all in
 *   one index array partitioned in place;
 * - at each node features are drawn without replacement until mtry were
 *   visited and at least one of them was not constant in the node; the
 *   splitter's eval_feature scores each one's boundaries;
 * - trees are grown depth first, left child first, so node ids follow the
 *   preorder: every child has a larger id than its parent.
 * Per-worker scratch is allocated once per training call; nothing is
 * allocated per node.
 */
#include "forest_grow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pre-ranking ----------------------------------------------------- */

typedef struct ranking {
    const double *X;
    size_t n;
    sv_grow_codes *fc;  /* p */
    uint64_t **buf;     /* per worker: n sort keys, then n uint32 positions */
} ranking;

static sv_status rank_feature(void *ud, size_t j, int worker, sv_err *err)
{
    ranking *rk = ud;
    size_t n = rk->n;
    const double *x = rk->X + j * n;
    /* the engine's stable order of doubles: rows by value, ties in row
     * order, equal sort keys for equal values (-0 and +0 are one level) */
    uint64_t *key = rk->buf[worker];
    uint32_t *ord = (uint32_t *)(key + n);
    sv_status st = sv_sort_order(x, n, 0, 1, ord, key, err);
    if (st != SV_OK) return st;
    uint32_t L = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || key[k] != key[k - 1]) L++;
    sv_grow_codes *fc = &rk->fc[j];
    fc->n_levels = L;
    fc->width = L <= 256 ? 1 : L <= 65536 ? 2 : 4;
    fc->code = sv_malloc(n, (size_t)fc->width);
    fc->level_value = sv_malloc(L, sizeof *fc->level_value);
    if (!fc->code || !fc->level_value)
        return sv_err_set(err, SV_ENOMEM, "out of memory ranking feature %zu", j + 1);
    uint8_t *c8 = fc->code;
    uint16_t *c16 = fc->code;
    uint32_t *c32 = fc->code;
    uint32_t lev = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || key[k] != key[k - 1]) fc->level_value[lev++] = x[ord[k]];
        uint32_t c = lev - 1, r = ord[k];
        if (fc->width == 1) c8[r] = (uint8_t)c;
        else if (fc->width == 2) c16[r] = (uint16_t)c;
        else c32[r] = c;
    }
    return SV_OK;
}

/* ---- growing one tree ------------------------------------------------ */

/* Draws features without replacement (partial Fisher-Yates over feat)
 * until mtry were visited and one of them was not constant, keeping the
 * best split; scikit-learn's rule. */
static void find_split(const sv_grower *g, sv_grow_scratch *s, sv_rng *rng, uint32_t start,
                       uint32_t end, const void *node_stat, sv_grow_best *b)
{
    uint32_t p = (uint32_t)g->p;
    uint32_t *feat = s->feat;
    uint32_t visited = 0, nonconst = 0;
    unsigned char *left = b->left;
    memset(b, 0, sizeof *b);
    b->left = left;
    for (uint32_t k = 0; k < p; k++) {
        if (visited >= (uint32_t)g->o.mtry && nonconst > 0) break;
        uint32_t j = k + (uint32_t)sv_rng_below_inline(rng, p - k);
        uint32_t t = feat[k];
        feat[k] = feat[j];
        feat[j] = t;
        visited++;
        if (g->sp->eval_feature(g, s, (int32_t)feat[k], start, end, node_stat, b)) nonconst++;
    }
}

static double midpoint(double a, double b)
{
    double m = a / 2.0 + b / 2.0;
    /* Keep a <= m < b so that "x <= m" separates exactly the levels. */
    if (!(m >= a && m < b)) m = a;
    return m;
}

/* Stable partition of a node's samples sm[0..m) on "code <= lev_a" (left
 * first), with right[] for the right side; returns the left count. Every
 * node's rows stay in increasing row order, so the reads of its codes
 * walk each code array forwards (the hardware prefetcher follows them)
 * instead of jumping about it. Branch-free (the side of a row is not
 * predictable): each sample is written to both sides, the side it
 * belongs to keeps it; sm[nl] is never ahead of sm[k]. The codes are read
 * in place. */
#define PARTITION(T)                                                   \
    do {                                                               \
        const T *code_ = fc->code;                                     \
        for (uint32_t k = 0; k < m; k++) {                             \
            sv_grow_sample v = sm[k];                                  \
            uint32_t l = code_[v.row] <= lev_a;                        \
            sm[nl] = v;                                                \
            right[nr] = v;                                             \
            nl += l;                                                   \
            nr += 1 - l;                                               \
        }                                                              \
    } while (0)

static inline uint32_t partition(const sv_grow_codes *fc, sv_grow_sample *sm, sv_grow_sample *right,
                                 uint32_t m, uint32_t lev_a)
{
    uint32_t nl = 0, nr = 0;
    if (fc->width == 1) PARTITION(uint8_t);
    else if (fc->width == 2) PARTITION(uint16_t);
    else PARTITION(uint32_t);
    memcpy(sm + nl, right, (size_t)nr * sizeof *right);
    return nl;
}
#undef PARTITION

/* A node at this depth with this many distinct rows is a leaf whatever
 * its rows: too deep or too small to split. */
static inline int leaf_by_size(const sv_forest_opts *o, int32_t depth, uint32_t rows)
{
    return (o->max_depth > 0 && depth >= o->max_depth) || rows < (uint32_t)o->min_split ||
           rows < 2 * (uint32_t)o->min_leaf;
}

static sv_status grow_tree(void *ud, size_t t, int worker, sv_err *err)
{
    sv_grower *g = ud;
    const sv_splitter *sp = g->sp;
    sv_grow_scratch *s = &g->scr[worker];
    size_t n = g->n;
    const sv_forest_opts *o = &g->o;
    const size_t sb = sp->stat_bytes, nv = (size_t)sp->n_values;
    sv_rng rng;
    sv_rng_init(&rng, o->seed, (uint64_t)t);

    /* rows in bag */
    memset(s->cnt, 0, n * sizeof *s->cnt);
    if (o->bootstrap) {
        for (size_t k = 0; k < g->n_draw; k++) s->cnt[sv_rng_below_inline(&rng, n)]++;
    } else if (g->n_draw >= n) {
        for (size_t i = 0; i < n; i++) s->cnt[i] = 1;
    } else {
        for (size_t i = 0; i < n; i++) s->perm[i] = (uint32_t)i;
        sv_rng_partial_shuffle_u32(&rng, s->perm, n, g->n_draw);
        for (size_t k = 0; k < g->n_draw; k++) s->cnt[s->perm[k]] = 1;
    }
    uint64_t *bits = g->f->inbag + t * g->f->inbag_words;
    uint32_t n_in = 0;
    /* branch-free: about a third of the rows are out of bag, in no
     * pattern a predictor could follow; every row's sample is written
     * and kept (n_in advanced) only when in bag */
    for (size_t r = 0; r < n; r++) {
        uint32_t c = s->cnt[r], in = c != 0;
        s->smp[n_in] = (sv_grow_sample){(uint32_t)r, g->y ? g->y[r] : 0, c};
        n_in += in;
        bits[r >> 6] |= (uint64_t)in << (r & 63);
    }
    for (size_t j = 0; j < g->p; j++) s->feat[j] = (uint32_t)j;

    sv_tree *nd = &s->nodes;
    unsigned char *cur = s->tmp;
    sv_grow_best b;
    b.left = s->tmp + 3 * sb;
    int32_t nn = 0;
    size_t sp_ = 0;
    sp->stat_rows(sp->ctx, s->smp, n_in, s->stats);
    s->stack[sp_++] = (sv_grow_frame){0, n_in, 0, -1, 0};
    while (sp_ > 0) {
        sv_grow_frame fr = s->stack[--sp_];
        memcpy(cur, s->stats + sp_ * sb, sb);
        int32_t id = nn++;
        if (fr.parent >= 0) {
            if (fr.side == 0) nd->left[fr.parent] = id;
            else nd->right[fr.parent] = id;
        }
        nd->feature[id] = -1;
        nd->threshold[id] = 0.0;
        nd->left[id] = -1;
        nd->right[id] = -1;
        int pure = sp->summarise(sp->ctx, cur, nd->value + (size_t)id * nv, &nd->cover[id],
                                 &nd->impurity[id]);
        uint32_t nnode = fr.end - fr.start;
        int leaf = pure || leaf_by_size(o, fr.depth, nnode);
        if (!leaf) {
            find_split(g, s, &rng, fr.start, fr.end, cur, &b);
            leaf = !b.found;
        }
        if (leaf) {
            if (sp->leaf) {
                sv_status lst = sp->leaf(sp->ctx, t, id, s->smp + fr.start, nnode,
                                         nd->value + (size_t)id * nv, err);
                if (lst != SV_OK) return lst;
            }
            continue;
        }
        const sv_grow_codes *fc = &g->fc[b.feature];
        nd->feature[id] = b.feature;
        /* the two levels' values from the feature's sorted levels: one
         * load each (through a row and X it was two dependent cache
         * misses, 7% of training a regression forest on 100,000 rows) */
        nd->threshold[id] = midpoint(fc->level_value[b.lev_a], fc->level_value[b.lev_b]);
        /* Two children that are sure to be leaves by their size or depth
         * (the tests at the top of the loop) never read their rows, unless
         * the splitter wants a leaf's rows: then the partition is skipped
         * (the children's statistics come from the split's, not from the
         * rows). */
        uint32_t cn[2] = {b.nl, nnode - b.nl};
        int sure = !sp->leaf;
        for (int side = 0; side < 2 && sure; side++)
            sure = leaf_by_size(o, fr.depth + 1, cn[side]);
        if (!sure && partition(fc, s->smp + fr.start, s->smp2, nnode, b.lev_a) != b.nl)
            return sv_err_set(err, SV_ENUM, "internal error: partition mismatch in tree %zu", t);
        uint32_t i = fr.start + b.nl;
        sp->stat_sub(sp->ctx, cur, b.left, s->stats + sp_ * sb);
        s->stack[sp_++] = (sv_grow_frame){i, fr.end, fr.depth + 1, id, 1};
        memcpy(s->stats + sp_ * sb, b.left, sb);
        s->stack[sp_++] = (sv_grow_frame){fr.start, i, fr.depth + 1, id, 0};
    }

    sv_tree *out = &g->f->trees[t];
    if (sv_tree_alloc_kind(out, nn, sp->kind, sp->n_values) != 0)
        return sv_err_set(err, SV_ENOMEM, "out of memory storing tree %zu", t);
    size_t m = (size_t)nn;
    memcpy(out->feature, nd->feature, m * sizeof *out->feature);
    memcpy(out->threshold, nd->threshold, m * sizeof *out->threshold);
    memcpy(out->left, nd->left, m * sizeof *out->left);
    memcpy(out->right, nd->right, m * sizeof *out->right);
    memcpy(out->value, nd->value, m * nv * sizeof *out->value);
    memcpy(out->cover, nd->cover, m * sizeof *out->cover);
    memcpy(out->impurity, nd->impurity, m * sizeof *out->impurity);
    return SV_OK;
}

/* ---- training ----------------------------------------------------------- */

static void free_scratch(sv_grow_scratch *s)
{
    free(s->cnt);
    free(s->perm);
    free(s->smp);
    free(s->smp2);
    free(s->keys);
    free(s->keys2);
    free(s->cbuf);
    free(s->hist);
    free(s->stats);
    free(s->tmp);
    free(s->feat);
    free(s->stack);
    sv_tree_free(&s->nodes);
}

static sv_status alloc_scratch(sv_grow_scratch *s, size_t n, size_t p, size_t max_levels,
                               const sv_splitter *sp)
{
    memset(s, 0, sizeof *s);
    size_t sb = sp->stat_bytes ? sp->stat_bytes : 1;
    s->cnt = sv_malloc(n, sizeof *s->cnt);
    s->perm = sv_malloc(n, sizeof *s->perm);
    s->smp = sv_malloc(n, sizeof *s->smp);
    s->smp2 = sv_malloc(n, sizeof *s->smp2);
    s->keys = sv_malloc(n, sizeof *s->keys);
    s->keys2 = sv_malloc(n, sizeof *s->keys2);
    s->cbuf = sv_malloc(n, sizeof *s->cbuf);
    s->hist = sv_calloc(2 * max_levels, sp->slot_bytes ? sp->slot_bytes : 1);
    s->hist_bank = max_levels * (sp->slot_bytes ? sp->slot_bytes : 1);
    s->stats = sv_malloc(n + 1, sb);
    s->tmp = sv_calloc(4, sb);
    s->feat = sv_malloc(p, sizeof *s->feat);
    s->stack = sv_malloc(n + 1, sizeof *s->stack);
    if (!s->cnt || !s->perm || !s->smp || !s->smp2 || !s->keys || !s->keys2 || !s->cbuf || !s->hist ||
        !s->stats || !s->tmp || !s->feat || !s->stack ||
        sv_tree_alloc_kind(&s->nodes, (int32_t)(2 * n - 1), sp->kind, sp->n_values) != 0) {
        free_scratch(s);
        return SV_ENOMEM;
    }
    return SV_OK;
}

sv_status sv_grow_forest(sv_forest *f, const double *X, size_t n, size_t p,
                         const uint32_t *y, const sv_forest_opts *opts,
                         const sv_splitter *sp, const sv_ctx *ctx, sv_err *err)
{
    sv_grower g;
    memset(&g, 0, sizeof g);
    g.n = n;
    g.p = p;
    g.X = X;
    g.y = y;
    g.o = *opts;
    g.sp = sp;
    g.f = f;
    /* rows drawn: max(1, round(fraction * n)), rounding half to even as
     * Python's round() in scikit-learn's max_samples */
    double x = opts->sample_fraction * (double)n, nd = floor(x);
    if (x - nd > 0.5 || (x - nd == 0.5 && fmod(nd, 2.0) != 0.0)) nd += 1.0;
    g.n_draw = nd < 1.0 ? 1 : (size_t)nd;
    if (g.n_draw > n) g.n_draw = n;

    sv_status st = SV_OK;
    int nw = sv_ctx_threads(ctx);
    if ((size_t)nw > (size_t)opts->n_trees) nw = opts->n_trees;
    sv_grow_codes *fc = sv_calloc(p, sizeof *fc);
    uint64_t **pairs = sv_calloc((size_t)nw, sizeof *pairs);
    sv_grow_scratch *scr = sv_calloc((size_t)nw, sizeof *scr);
    if (!fc || !pairs || !scr) {
        st = sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
        goto done;
    }

    /* rank every feature once */
    ranking rk = {X, n, fc, pairs};
    for (int w = 0; w < nw; w++) {
        pairs[w] = sv_malloc(n ? n : 1, sizeof **pairs + sizeof(uint32_t));
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

    g.fc = fc;
    g.scr = scr;
    for (int w = 0; w < nw; w++) {
        free(pairs[w]);
        pairs[w] = NULL;
        if (alloc_scratch(&scr[w], n, p, max_levels, sp) != SV_OK) {
            st = sv_err_set(err, SV_ENOMEM, "out of memory for tree scratch");
            goto done;
        }
    }
    st = sv_parallel_for(ctx, "forest.train", (size_t)opts->n_trees, nw, grow_tree, &g, err);

done:
    if (pairs)
        for (int w = 0; w < nw; w++) free(pairs[w]);
    if (scr)
        for (int w = 0; w < nw; w++) free_scratch(&scr[w]);
    free(pairs);
    free(scr);
    if (fc)
        for (size_t j = 0; j < p; j++) {
            free(fc[j].code);
            free(fc[j].level_value);
        }
    free(fc);
    return st;
}

sv_forest *sv_grow_new_forest(size_t n, size_t p, const char *const *names,
                              const sv_forest_opts *opts, int32_t kind, sv_err *err)
{
    sv_forest *f = sv_calloc(1, sizeof *f);
    if (!f) {
        sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
        return NULL;
    }
    f->n_trees = opts->n_trees;
    f->n_features = (int32_t)p;
    f->opts = *opts;
    f->n_train = n;
    f->kind = kind;
    f->inbag_words = (n + 63) / 64;
    f->trees = sv_calloc((size_t)opts->n_trees, sizeof *f->trees);
    f->inbag = sv_calloc((size_t)opts->n_trees * f->inbag_words, sizeof *f->inbag);
    f->feature_names = sv_calloc(p, sizeof *f->feature_names);
    if (!f->trees || !f->inbag || !f->feature_names) goto nomem;
    for (size_t j = 0; j < p; j++) {
        char buf[32];
        snprintf(buf, sizeof buf, "V%zu", j + 1);
        const char *nm = names && names[j] ? names[j] : buf;
        size_t len = strlen(nm) + 1;
        f->feature_names[j] = malloc(len);
        if (!f->feature_names[j]) goto nomem;
        memcpy(f->feature_names[j], nm, len);
    }
    return f;
nomem:
    sv_forest_free(f);
    sv_err_set(err, SV_ENOMEM, "out of memory training a forest on %zu x %zu", n, p);
    return NULL;
}
