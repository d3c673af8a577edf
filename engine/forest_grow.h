/*
 * forest_grow.h - the generic tree grower (private to the forest files).
 *
 * The seam is ranger's: growth is the same for every kind of forest and
 * lives in forest_grow.c (ranking features into integer codes, bootstrap
 * and in-bag counts, the node stack, the mtry draw, the in-place partition,
 * midpoint thresholds, writing nodes, trees in parallel); what a kind of
 * forest adds is a splitter (sv_splitter below):
 *   - a node statistic (stat_bytes bytes: class counts, sums of y, ...)
 *     and how a row adds to it,
 *   - how a candidate split scores (larger is better) from the statistic
 *     of its left side and of the node,
 *   - how a node is summarised (its n_values payload, cover, impurity) and
 *     whether it is pure (never split).
 * The per-row and per-candidate operations are the hot loops, so a
 * splitter compiles them into the generic scan of forest_scan.h (a
 * template included once per splitter with the three operations defined as
 * macros) and hands the grower the resulting eval_feature; only per-node
 * operations are called through pointers. Classification (forest_cls.c)
 * and regression (forest_reg.c) are splitters; a survival splitter plugs in
 * the same way (its statistic can be empty and its eval_feature its own).
 */
#ifndef SV_FOREST_GROW_H
#define SV_FOREST_GROW_H

#include "sv_forest.h"
#include "sv_rng.h"
#include "sv_sort.h"

#include <string.h>

/* Counting over the levels beats sorting the node's codes while the
 * number of levels is at most this many times the node size. */
#define SV_GROW_COUNT_RATIO 8
/* Two alternating histograms (SCAN_BANKS) only for features of at most
 * this many levels: they break the chains of updates of one slot that
 * rows of a few levels make; a feature of many levels rarely repeats a
 * level twice in a row, and a second histogram only doubles the memory
 * its counting touches. */
#define SV_GROW_BANK_LEVELS 256
/* Nodes of at least this many rows sort by radix, smaller ones by
 * quicksort ... */
#define SV_GROW_RADIX_MIN 64
/* ... with 11-bit digits from this many rows, 8-bit below. */
#define SV_GROW_RADIX_WIDE 4096

/* A feature ranked once: each row's level (index among the sorted
 * distinct values) stored in as few bytes as the number of levels allows,
 * so that the gathers of a node's codes touch little memory. */
typedef struct sv_grow_codes {
    void *code;          /* n codes of `width` bytes */
    int width;           /* 1, 2 or 4 */
    uint32_t n_levels;
    double *level_value; /* n_levels: the value of that level, as in X (the
                          * first row's: +0 or -0) */
} sv_grow_codes;

/* A distinct in-bag row of a node: kept together so that the scans over a
 * node read memory sequentially; only the feature's code is gathered by
 * row. y is the splitter's per-row code (the class for classification). */
typedef struct sv_grow_sample {
    uint32_t row;
    uint32_t y;
    uint32_t cnt; /* bootstrap count >= 1 */
} sv_grow_sample;

/* The best boundary found so far in a node: "code <= lev_a" goes left,
 * lev_b is the first level on the right; left holds the statistic of the
 * left side (stat_bytes) and nl its distinct rows. */
typedef struct sv_grow_best {
    double proxy;
    int32_t feature;
    uint32_t lev_a, lev_b;
    uint32_t nl;
    int found;
    unsigned char *left;
} sv_grow_best;

/* A candidate split becomes the best so far: its score, feature, the two
 * levels it falls between, its left side's distinct rows and statistic
 * (bytes of it copied). */
static inline void sv_grow_best_take(sv_grow_best *b, double proxy, int32_t feature, uint32_t lev_a,
                                     uint32_t lev_b, uint32_t nl, const void *left, size_t bytes)
{
    b->found = 1;
    b->proxy = proxy;
    b->feature = feature;
    b->lev_a = lev_a;
    b->lev_b = lev_b;
    b->nl = nl;
    memcpy(b->left, left, bytes);
}

typedef struct sv_grow_frame {
    uint32_t start, end;
    int32_t depth, parent;
    int side; /* 0: left child of parent, 1: right */
} sv_grow_frame;

/* Per-worker scratch, allocated once per training call. */
typedef struct sv_grow_scratch {
    uint32_t *cnt;          /* n bootstrap counts (by row) */
    uint32_t *perm;         /* n: rows drawn without replacement */
    sv_grow_sample *smp;    /* n: the node ranges of distinct in-bag rows,
                             * each range in increasing row order */
    sv_grow_sample *smp2;   /* n: the right side while a node is split */
    uint32_t *cbuf;         /* n: the node's codes of one feature */
    uint64_t *keys;         /* n: sort keys code << 32 | position in node */
    uint64_t *keys2;        /* n: radix sort buffer */
    unsigned char *hist;    /* 2 banks of max levels x slot bytes, all zero
                               between uses (the second: SCAN_BANKS) */
    size_t hist_bank;       /* bytes from the first bank to the second */
    unsigned char *stats;   /* (n + 1) x stat_bytes: the stack's statistics */
    unsigned char *tmp;     /* 4 x stat_bytes: node, group, left, best left */
    uint32_t *feat;         /* p: feature draw order */
    sv_grow_frame *stack;   /* n + 1 */
    sv_tree nodes;          /* capacity 2n - 1 */
} sv_grow_scratch;

struct sv_grower;

typedef struct sv_splitter {
    int32_t kind;       /* sv_tree_kind of the trees */
    int32_t n_values;   /* payload doubles per node */
    size_t stat_bytes;  /* a node statistic; a multiple of 8 or 4 */
    size_t slot_bytes;  /* one level of the counting histogram: the
                           statistic then a uint32 count of distinct rows */
    const void *ctx;    /* the splitter's own data (y, class weights, ...) */
    /* stat = the statistic of m rows */
    void (*stat_rows)(const void *ctx, const sv_grow_sample *s, uint32_t m, void *stat);
    /* right = node - left */
    void (*stat_sub)(const void *ctx, const void *node, const void *left, void *right);
    /* The node's payload (n_values), cover and impurity; returns 1 when
     * the node is pure and must not be split. */
    int (*summarise)(const void *ctx, const void *stat, double *value, double *cover,
                     double *impurity);
    /* Evaluates every boundary of feature f among the node's rows
     * smp[start, end) with statistic node_stat, updating *b; returns 0
     * when f is constant in the node (forest_scan.h builds it). */
    int (*eval_feature)(const struct sv_grower *g, sv_grow_scratch *s, int32_t f,
                        uint32_t start, uint32_t end, const void *node_stat,
                        sv_grow_best *b);
    /* Optional (NULL: none): called for every leaf of tree `tree` (node id
     * `node`) with its m distinct in-bag rows, after summarise, for a
     * payload that needs the rows themselves (a survival leaf's
     * Nelson-Aalen curve). It may overwrite the leaf's payload `value`.
     * Called from the worker growing the tree: it must write only what
     * belongs to that tree. */
    sv_status (*leaf)(const void *ctx, size_t tree, int32_t node, const sv_grow_sample *s,
                      uint32_t m, double *value, sv_err *err);
} sv_splitter;

typedef struct sv_grower {
    size_t n, p;
    const double *X;
    const sv_grow_codes *fc;
    const uint32_t *y;      /* n per-row codes for the samples, or NULL */
    sv_forest_opts o;       /* resolved: mtry in 1..p */
    size_t n_draw;
    const sv_splitter *sp;
    sv_forest *f;
    sv_grow_scratch *scr;   /* one per worker */
} sv_grower;

/* The codes of feature fc for m samples, in sample order. */
static inline void sv_grow_gather(const sv_grow_codes *fc, const sv_grow_sample *smp,
                                  uint32_t m, uint32_t *out)
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

/*
 * Grows the f->n_trees trees of f (allocated by the caller, with trees,
 * inbag and inbag_words set) on X (n x p column-major, finite) with the
 * splitter sp; y: n per-row codes copied into the samples (or NULL).
 * opts must be checked, mtry resolved. Progress "forest.train".
 */
sv_status sv_grow_forest(sv_forest *f, const double *X, size_t n, size_t p,
                         const uint32_t *y, const sv_forest_opts *opts,
                         const sv_splitter *sp, const sv_ctx *ctx, sv_err *err);

/* A forest without trees yet: n_trees (opts->n_trees) empty trees, the
 * in-bag record for n rows, p feature names (names[j], or V<j+1>), opts
 * (resolved) and kind; NULL with err set when out of memory. */
sv_forest *sv_grow_new_forest(size_t n, size_t p, const char *const *names,
                              const sv_forest_opts *opts, int32_t kind, sv_err *err);

/* X is finite (an error names the row and column otherwise). */
sv_status sv_forest_check_finite(const double *X, size_t n, size_t p, sv_err *err);

/* One lockstep step of L rows through a packed tree (sv_forest_pnode):
 * lane l at node k[l] moves to its child for row xr[l] (a row padded with
 * a NaN in column n_features, so a lane at a leaf stays: the comparison
 * fails and a packed leaf's `right` is itself). Branch free: the
 * direction is a coin flip the predictor cannot learn, and a mispredicted
 * branch would throw the lanes' loads in flight away. Returns nonzero
 * when some lane moved. Prediction and permutation importance walk with
 * it. */
static inline int32_t sv_pnode_step(const sv_forest_pnode *nodes, const double *const *xr,
                                    int32_t *k, int L)
{
    int32_t moved = 0;
#pragma GCC unroll 16
    for (int l = 0; l < L; l++) {
        const sv_forest_pnode *nd = nodes + k[l];
        int32_t left = -(int32_t)(xr[l][nd->feature] <= nd->tv);
        int32_t next = (nd->right & ~left) | ((k[l] + 1) & left);
        moved |= next ^ k[l];
        k[l] = next;
    }
    return moved;
}

#endif
