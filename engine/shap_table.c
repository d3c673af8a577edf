/*
 * shap_table.c - path-dependent TreeSHAP values by per-leaf tables (see
 * shap_table.h for the method, shap.c for the notation).
 *
 * A leaf's d path features are numbered in the order the path first splits
 * on them (position u = 0..d-1), and its table row for a row x is indexed
 * by the pattern whose bit u says whether x follows the path on the
 * feature at position u. The pattern is built down the tree: each internal
 * node hands its children the pattern so far, with its feature's bit set
 * when the path meets the feature for the first time, and cleared for the
 * child x does not go to.
 */
#include "shap_table.h"

#include "sv_shap.h"

#include <stdlib.h>
#include <string.h>

/* An internal node of the row pass, in preorder (a parent before its
 * children). Its pattern comes from slot `ref` of the pass array; it
 * writes its children's patterns to slots 2 + 2 i (left) and 3 + 2 i
 * (right); slot 0 is the root's empty pattern. */
typedef struct tnode {
    double thr;     /* go left when x <= thr */
    int32_t feat;
    int32_t ref;
    uint32_t fbit;  /* the feature's bit when the path meets it first here, else 0 */
    uint32_t pbit;  /* the feature's bit */
    uint32_t cherry; /* both children are leaves, explained as one (below) */
} tnode;

/* A leaf, or a cherry: an internal node whose children are both leaves,
 * with the same d path features. The two leaves' tables are summed into
 * one indexed by (pattern e of the node, with its feature's bit when it
 * first appears there) << 1 | (x goes left): d + 1 index bits, and the
 * node writes that index to its left slot. Cherries are common (about a
 * third of the leaves of a random tree sit in one), and each saves the d
 * additions of one leaf per row. */
typedef struct tleaf {
    int32_t ref;    /* slot of its pattern */
    int32_t d;      /* distinct path features, >= 1 */
    int32_t bits;   /* index bits: d, or d + 1 for a cherry */
    size_t off;     /* into the table pool: d columns of 2^bits doubles */
    size_t fstart;  /* into feat: its features by position */
} tleaf;

typedef struct tree_tab {
    int32_t n_int, n_leaf;
    tnode *in;
    tleaf *lf;
    int32_t *feat;
} tree_tab;

struct shap_table {
    int32_t T;
    int32_t max_int;
    tree_tab *trees;
    double *pool;
};

/* Per-feature state of a walk: splits on the current path, position at
 * first split, aggregated zero fraction q. */
typedef struct fstate {
    int cnt, pos;
    double q;
} fstate;

typedef struct bframe {
    int32_t node;      /* sv_tree node id */
    int32_t iidx;      /* internal index, for internal nodes */
    int32_t ref;       /* its pattern slot */
    double q_saved;
    signed char phase; /* 0: go left next, 1: go right next, 2: done */
} bframe;

static int max_feature(const sv_tree *trees, int32_t T)
{
    int mf = 0;
    for (int32_t t = 0; t < T; t++)
        for (int32_t k = 0; k < trees[t].n_nodes; k++)
            if (trees[t].left[k] >= 0 && trees[t].feature[k] > mf) mf = trees[t].feature[k];
    return mf;
}

/* Quadrature rules for m = 1..8 nodes (d <= 16): t, w, 1 / (1 - t). */
typedef struct quad {
    double t[8], w[8], iomt[8];
} quad;

/* Fills the leaf's table: rows[(u << d) + pat] for feature u and every
 * pattern pat of the d features (bit u set: the row follows the path on
 * feature u). */
static void fill_leaf(double v, int d, const double *q, const quad *qr, double *rows)
{
    int m = d < 2 ? 1 : (d + 1) / 2;
    const quad *Q = &qr[m - 1];
    double G[8], f[SV_SHAP_TABLE_MAX_D][8];
    for (size_t pat = 0; pat < (size_t)1 << d; pat++) {
        for (int i = 0; i < m; i++) G[i] = 1.0;
        for (int u = 0; u < d; u++) {
            int o = (int)(pat >> u & 1);
            for (int i = 0; i < m; i++) {
                f[u][i] = o ? q[u] + Q->t[i] * (1.0 - q[u]) : q[u] * (1.0 - Q->t[i]);
                G[i] *= f[u][i];
            }
        }
        /* a feature the row leaves (o = 0, q > 0): (0 - q) Q[G / (q (1 - t))];
         * with q = 0 its own term is 0 and G is 0 everywhere */
        double cold = 0.0;
        for (int i = 0; i < m; i++) cold -= Q->w[i] * G[i] * Q->iomt[i];
        for (int u = 0; u < d; u++) {
            double *r = rows + ((size_t)u << d) + pat;
            if (!(pat >> u & 1)) {
                *r = v * cold;
                continue;
            }
            double s = 0.0;
            for (int i = 0; i < m; i++) s += Q->w[i] * (G[i] / f[u][i]);
            *r = v * ((1.0 - q[u]) * s);
        }
    }
}

/* What a walk over one tree counts. */
typedef struct tcount {
    int32_t n_int, n_leaf; /* internal nodes; leaves with d >= 1 */
    size_t nfeat;          /* sum of the leaves' d */
    size_t doubles;        /* sum of 2^d d */
    double flops;          /* estimated work to fill the tables */
    int most;              /* largest d */
    int failed;            /* no memory (building) */
} tcount;

/* Scratch of the walks: per-feature state, the frame stack, and the
 * current leaf's features and q by position. */
typedef struct walker {
    fstate *fs;
    bframe *stk;
    int32_t featpos[SV_SHAP_TABLE_MAX_D];
    double qpos[SV_SHAP_TABLE_MAX_D];
    double *tmp;     /* a cherry's two leaf tables */
    size_t n_tmp;
} walker;

/*
 * The one walk of a tree (preorder, left first), to count (tt == NULL:
 * fills *c) or to build (tt's arrays sized by a counting walk; fills the
 * nodes, the leaves and their tables from pool + *pool_pos). A leaf deeper
 * than SV_SHAP_TABLE_MAX_D distinct features is only counted in c->most.
 */
static void walk_tree(const sv_tree *tr, walker *w, tree_tab *tt, double *pool,
                      size_t *pool_pos, const quad *qr, tcount *c)
{
    fstate *fs = w->fs;
    bframe *stk = w->stk;
    int sp = 0, uniq = 0;
    int32_t ii = 0, li = 0;
    size_t fpos = 0;
    memset(c, 0, sizeof *c);
    stk[0] = (bframe){0, 0, 0, 1.0, 0};
    while (sp >= 0) {
        bframe *f = &stk[sp];
        int32_t n = f->node;
        if (tr->left[n] < 0) {
            int d = uniq;
            if (d > c->most) c->most = d;
            if (d > 0 && d <= SV_SHAP_TABLE_MAX_D) {
                size_t rows = (size_t)1 << d;
                if (tt) {
                    tleaf *L = &tt->lf[li];
                    L->ref = f->ref;
                    L->d = d;
                    L->bits = d;
                    L->off = *pool_pos;
                    L->fstart = fpos;
                    for (int u = 0; u < d; u++) {
                        int32_t j = w->featpos[u];
                        tt->feat[fpos + (size_t)u] = j;
                        w->qpos[u] = fs[j].q;
                    }
                    fill_leaf(tr->value[(size_t)n * (size_t)tr->n_values], d, w->qpos, qr,
                              pool + *pool_pos);
                    *pool_pos += rows * (size_t)d;
                }
                int m = d < 2 ? 1 : (d + 1) / 2;
                c->doubles += rows * (size_t)d;
                c->flops += (double)rows * (2.0 * d * m + 4.0 * m);
                fpos += (size_t)d;
                li++;
            }
            sp--;
            continue;
        }
        int32_t j = tr->feature[n];
        if (f->phase == 0) {
            f->iidx = ii;
            uint32_t fbit = 0;
            if (fs[j].cnt == 0) {
                fs[j].pos = uniq;
                if (uniq < SV_SHAP_TABLE_MAX_D) {
                    w->featpos[uniq] = j;
                    fbit = (uint32_t)1 << uniq;
                }
                uniq++;
            }
            fs[j].cnt++;
            f->q_saved = fs[j].q;
            uint32_t pbit = fs[j].pos < SV_SHAP_TABLE_MAX_D ? (uint32_t)1 << fs[j].pos : 0;
            int32_t lc = tr->left[n], rc = tr->right[n];
            int cherry = tr->left[lc] < 0 && tr->left[rc] < 0 && uniq <= SV_SHAP_TABLE_MAX_D;
            if (tt) tt->in[ii] = (tnode){tr->threshold[n], j, f->ref, fbit, pbit, (uint32_t)cherry};
            if (cherry) {
                int d = uniq;
                size_t rows = (size_t)1 << (d + 1);
                if (d > c->most) c->most = d;
                if (tt) {
                    size_t one = ((size_t)1 << d) * (size_t)d;
                    if (w->n_tmp < 2 * one) {
                        free(w->tmp);
                        w->tmp = sv_malloc(2 * one, sizeof *w->tmp);
                        w->n_tmp = w->tmp ? 2 * one : 0;
                    }
                    if (!w->tmp) {
                        c->failed = 1;
                        return;
                    }
                    tleaf *L = &tt->lf[li];
                    L->ref = 2 + 2 * ii;
                    L->d = d;
                    L->bits = d + 1;
                    L->off = *pool_pos;
                    L->fstart = fpos;
                    for (int u = 0; u < d; u++) {
                        int32_t k = w->featpos[u];
                        tt->feat[fpos + (size_t)u] = k;
                        w->qpos[u] = fs[k].q;
                    }
                    int uj = fs[j].pos;
                    w->qpos[uj] = f->q_saved * (tr->cover[lc] / tr->cover[n]);
                    fill_leaf(tr->value[(size_t)lc * (size_t)tr->n_values], d, w->qpos, qr, w->tmp);
                    w->qpos[uj] = f->q_saved * (tr->cover[rc] / tr->cover[n]);
                    fill_leaf(tr->value[(size_t)rc * (size_t)tr->n_values], d, w->qpos, qr,
                              w->tmp + one);
                    double *M = pool + *pool_pos;
                    for (int u = 0; u < d; u++) {
                        const double *T1 = w->tmp + ((size_t)u << d), *T2 = T1 + one;
                        double *Mu = M + ((size_t)u << (d + 1));
                        for (uint32_t e = 0; e < (uint32_t)1 << d; e++) {
                            uint32_t cold = e & ~pbit;
                            Mu[(size_t)e << 1 | 1] = T1[e] + T2[cold]; /* x goes left */
                            Mu[(size_t)e << 1] = T1[cold] + T2[e];
                        }
                    }
                    *pool_pos += rows * (size_t)d;
                }
                int m = d < 2 ? 1 : (d + 1) / 2;
                c->doubles += rows * (size_t)d;
                c->flops += (double)rows * (2.0 * d * m + 4.0 * m);
                fpos += (size_t)d;
                li++;
                ii++;
                if (--fs[j].cnt == 0) uniq--;
                sp--;
                continue;
            }
            ii++;
        }
        if (f->phase < 2) {
            int32_t ch = f->phase == 0 ? tr->left[n] : tr->right[n];
            fs[j].q = f->q_saved * (tr->cover[ch] / tr->cover[n]);
            stk[sp + 1] = (bframe){ch, 0, 2 + 2 * f->iidx + f->phase, 1.0, 0};
            f->phase++;
            sp++;
            continue;
        }
        fs[j].q = f->q_saved;
        if (--fs[j].cnt == 0) uniq--;
        sp--;
    }
    c->n_int = ii;
    c->n_leaf = li;
    c->nfeat = fpos;
}

static void walker_free(walker *w)
{
    free(w->fs);
    free(w->stk);
    free(w->tmp);
}

static int walker_init(walker *w, const sv_tree *trees, int32_t T)
{
    int mf = max_feature(trees, T);
    int32_t most = 1;
    for (int32_t t = 0; t < T; t++)
        if (trees[t].n_nodes > most) most = trees[t].n_nodes;
    w->tmp = NULL;
    w->n_tmp = 0;
    w->fs = sv_calloc((size_t)mf + 1, sizeof *w->fs);
    w->stk = sv_malloc((size_t)most + 1, sizeof *w->stk);
    if (!w->fs || !w->stk) {
        walker_free(w);
        return -1;
    }
    for (int j = 0; j <= mf; j++) w->fs[j].q = 1.0;
    return 0;
}

int shap_table_size(const sv_tree *trees, int32_t T, size_t *doubles, double *build_flops)
{
    *doubles = 0;
    *build_flops = 0.0;
    if (T <= 0) return -1;
    walker w;
    if (walker_init(&w, trees, T) != 0) return -1;
    int ok = 1;
    for (int32_t t = 0; ok && t < T; t++) {
        tcount c;
        walk_tree(&trees[t], &w, NULL, NULL, NULL, NULL, &c);
        if (c.most > SV_SHAP_TABLE_MAX_D) ok = 0;
        *doubles += c.doubles;
        *build_flops += c.flops;
    }
    walker_free(&w);
    return ok ? 0 : -1;
}

void shap_table_free(shap_table *tb)
{
    if (!tb) return;
    for (int32_t t = 0; t < tb->T; t++) {
        free(tb->trees[t].in);
        free(tb->trees[t].lf);
        free(tb->trees[t].feat);
    }
    free(tb->trees);
    free(tb->pool);
    free(tb);
}

sv_status shap_table_new(const sv_tree *trees, int32_t T, shap_table **out, sv_err *err)
{
    size_t doubles;
    double flops;
    *out = NULL;
    if (shap_table_size(trees, T, &doubles, &flops) != 0)
        return sv_err_set(err, SV_EINVAL, "the table algorithm needs at most %d distinct features "
                                          "per root-to-leaf path", SV_SHAP_TABLE_MAX_D);
    shap_table *tb = sv_calloc(1, sizeof *tb);
    walker w = {0};
    int ok = tb != NULL;
    if (ok) {
        tb->T = T;
        tb->trees = sv_calloc((size_t)T, sizeof *tb->trees);
        tb->pool = sv_malloc(doubles ? doubles : 1, sizeof *tb->pool);
        ok = tb->trees && tb->pool && walker_init(&w, trees, T) == 0;
    }
    if (ok) {
        quad qr[8];
        for (int m = 1; m <= 8; m++) {
            sv_shap_gauss_legendre(m, qr[m - 1].t, qr[m - 1].w);
            for (int i = 0; i < m; i++) qr[m - 1].iomt[i] = 1.0 / (1.0 - qr[m - 1].t[i]);
        }
        size_t pos = 0;
        for (int32_t t = 0; ok && t < T; t++) {
            tree_tab *tt = &tb->trees[t];
            tcount c;
            walk_tree(&trees[t], &w, NULL, NULL, NULL, NULL, &c);
            tt->in = sv_malloc(c.n_int ? (size_t)c.n_int : 1, sizeof *tt->in);
            tt->lf = sv_malloc(c.n_leaf ? (size_t)c.n_leaf : 1, sizeof *tt->lf);
            tt->feat = sv_malloc(c.nfeat ? c.nfeat : 1, sizeof *tt->feat);
            if (!tt->in || !tt->lf || !tt->feat) {
                ok = 0;
                break;
            }
            walk_tree(&trees[t], &w, tt, tb->pool, &pos, qr, &c);
            if (c.failed) {
                ok = 0;
                break;
            }
            tt->n_int = c.n_int;
            tt->n_leaf = c.n_leaf;
            if (tt->n_int > tb->max_int) tb->max_int = tt->n_int;
        }
    }
    walker_free(&w);
    if (ok) {
        *out = tb;
        return SV_OK;
    }
    shap_table_free(tb);
    return sv_err_set(err, SV_ENOMEM, "out of memory for the TreeSHAP tables");
}

size_t shap_table_block_rows(const shap_table *tb)
{
    /* the pattern slots of a block, (2 max_int + 2) x rows uint32, in
     * about 256 KB */
    size_t per_row = (2 * (size_t)tb->max_int + 2) * sizeof(uint32_t);
    size_t rows = ((size_t)256 << 10) / per_row;
    if (rows > SV_SHAP_TABLE_MAX_ROWS) rows = SV_SHAP_TABLE_MAX_ROWS;
    return rows < 8 ? 8 : rows;
}

size_t shap_table_scratch(const shap_table *tb, size_t rows)
{
    return (2 * (size_t)tb->max_int + 2) * rows * sizeof(uint32_t);
}

/* Compiled twice on x86-64 with GCC, for AVX2 and for the baseline, and
 * picked at load time: the loops over the block's rows vectorise (a
 * gather of table entries) on AVX2. The arithmetic is the same additions
 * in the same order, so both give the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
__attribute__((target_clones("avx2", "default")))
#endif
void shap_table_block(const shap_table *tb, int32_t t, const double *X, size_t n, size_t i0,
                      size_t nr, double *accT, void *scratch)
{
    const tree_tab *tt = &tb->trees[t];
    const int32_t ni = tt->n_int;
    if (ni == 0) return;
    /* pattern slots, slot-major: pass[slot * nr + r] */
    uint32_t *pass = scratch;
    for (size_t r = 0; r < nr; r++) pass[r] = 0;
    const tnode *in = tt->in;
    for (int32_t i = 0; i < ni; i++) {
        const uint32_t *src = pass + (size_t)in[i].ref * nr;
        uint32_t *lt = pass + (2 + 2 * (size_t)i) * nr, *rt = lt + nr;
        const double *x = X + (size_t)in[i].feat * n + i0;
        const double thr = in[i].thr;
        const uint32_t fbit = in[i].fbit, pbit = in[i].pbit;
        if (in[i].cherry) {
            for (size_t r = 0; r < nr; r++) lt[r] = (src[r] | fbit) << 1 | (uint32_t)(x[r] <= thr);
            continue;
        }
        for (size_t r = 0; r < nr; r++) {
            /* without a branch: which way x goes is unpredictable */
            uint32_t e = src[r] | fbit;
            uint32_t h = (uint32_t)0 - (uint32_t)(x[r] <= thr);
            lt[r] = e & ~(pbit & ~h);
            rt[r] = e & ~(pbit & h);
        }
    }
    const tleaf *lf = tt->lf;
    for (int32_t l = 0; l < tt->n_leaf; l++) {
        const size_t d = (size_t)lf[l].d, bits = (size_t)lf[l].bits;
        const uint32_t *pat = pass + (size_t)lf[l].ref * nr;
        const double *tab = tb->pool + lf[l].off;
        const int32_t *fe = tt->feat + lf[l].fstart;
        for (size_t u = 0; u < d; u++) {
            double *a = accT + (size_t)fe[u] * nr;
            const double *col = tab + (u << bits);
            for (size_t r = 0; r < nr; r++) a[r] += col[pat[r]];
        }
    }
}
