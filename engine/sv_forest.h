/*
 * sv_forest.h - a trained random forest: the trees plus what training
 * records for out-of-bag prediction and importance.
 *
 * Shared contract (TreeSHAP and the file formats read it): n_trees trees of
 * sv_tree.h over n_features features; the forest's prediction for a row is
 * the mean over trees of the leaf value reached (P(y = 1)).
 * The forest module (forest.c) owns every other field and may add fields.
 *
 * The learner is scikit-learn's RandomForestClassifier for a binary outcome
 * (Breiman 2001; sklearn's BestSplitter and DepthFirstTreeBuilder define the
 * semantics we reproduce): bootstrap counts act as sample weights, the rows
 * of a node are its distinct in-bag rows, min_leaf / min_split count those
 * rows, node value and cover are weighted by bootstrap counts times class
 * weights. Differences in how it is computed (pre-ranked integer codes,
 * counting over few distinct values) never change which split is chosen,
 * except in exact ties of the gain.
 */
#ifndef SV_FOREST_H
#define SV_FOREST_H

#include "sv_core.h"
#include "sv_tree.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sv_forest_criterion {
    SV_FOREST_GINI = 0,
    SV_FOREST_ENTROPY = 1,
    SV_FOREST_SQUARED_ERROR = 2 /* regression forests (the only one there) */
} sv_forest_criterion;

typedef enum sv_forest_class_weight {
    SV_FOREST_CW_NONE = 0,     /* every row weighs 1 */
    SV_FOREST_CW_BALANCED = 1, /* n / (2 n_c), computed on all training rows */
    SV_FOREST_CW_GIVEN = 2     /* class_weights[0], class_weights[1] */
} sv_forest_class_weight;

/* The defaults, in one place (documented in docs/forest.md). */
#define SV_FOREST_DEFAULT_TREES 500
#define SV_FOREST_DEFAULT_MTRY 0 /* 0 = floor(sqrt(p)), at least 1 */
#define SV_FOREST_DEFAULT_MIN_LEAF 1
#define SV_FOREST_DEFAULT_MIN_SPLIT 2
#define SV_FOREST_DEFAULT_MAX_DEPTH 0 /* 0 = unlimited */
#define SV_FOREST_DEFAULT_CRITERION SV_FOREST_GINI
#define SV_FOREST_DEFAULT_BOOTSTRAP 1
#define SV_FOREST_DEFAULT_SAMPLE_FRACTION 1.0
#define SV_FOREST_DEFAULT_SEED 1
#define SV_FOREST_DEFAULT_PERM_REPEATS 5
/* Most classes a classification forest takes. */
#define SV_FOREST_MAX_CLASSES 64

typedef struct sv_forest_opts {
    int32_t n_trees;          /* >= 1 */
    int32_t mtry;             /* features tried per node, 1..p; 0 = sqrt */
    int32_t min_leaf;         /* >= 1 distinct in-bag rows in each child */
    int32_t min_split;        /* >= 2 distinct in-bag rows to split a node */
    int32_t max_depth;        /* 0 = unlimited; root has depth 0 */
    sv_forest_criterion criterion;
    int bootstrap;            /* 1: draw with replacement; 0: without */
    double sample_fraction;   /* rows drawn = max(1, round(fraction * n)) */
    sv_forest_class_weight class_weight;
    double class_weights[2];  /* used when class_weight == GIVEN, > 0 */
    uint64_t seed;
} sv_forest_opts;

/* Fills o with the defaults above. */
void sv_forest_opts_default(sv_forest_opts *o);

/* A node of the packed copy used for prediction: nodes in preorder so
 * that the left child is the next node. An internal node has tv = its
 * threshold, 0 <= feature < n_features and right = the packed index of
 * its right child. A leaf has feature = n_features and right = its own
 * index: prediction pads each row with a NaN in column n_features, so the
 * comparison fails at a leaf and the walk stays put (no branch needed to
 * stop it). A leaf's tv is its value when the forest has one output per
 * row; with several, the index of its first value in the tree's `value`
 * array (exact in a double; not copied, to keep the copy at 16 bytes a
 * node), or -(c + 1) when the leaf's values are exactly 1 for output c and
 * 0 for the others (a pure leaf of a K-class forest, nearly every leaf of
 * one grown to purity): prediction then adds 1 to output c without reading
 * the values, which gives the same sums to the bit (adding +0 to a sum of
 * non-negative values changes nothing). */
typedef struct sv_forest_pnode {
    double tv;
    int32_t feature;
    int32_t right;
} sv_forest_pnode;

typedef struct sv_forest {
    int32_t n_trees;
    int32_t n_features;
    sv_tree *trees;        /* n_trees trees */
    char **feature_names;  /* n_features strings, or NULL */
    /* ---- owned by forest.c ---- */
    sv_forest_opts opts;   /* as trained (mtry resolved to an integer) */
    size_t n_train;        /* training rows (0 when unknown) */
    double *oob;           /* n_train OOB predictions (NaN: never OOB), or NULL */
    uint64_t *inbag;       /* n_trees x inbag_words bitset of in-bag rows, or
                              NULL (not saved in model files) */
    size_t inbag_words;    /* 64-bit words per tree in inbag */
    sv_forest_pnode *pnodes; /* packed copy of all trees (sv_forest_pack), or
                                NULL: prediction then walks the sv_trees */
    size_t *pnode_off;     /* n_trees + 1 offsets into pnodes */
    /* ---- kinds (format version 2) ---- */
    int32_t kind;          /* sv_tree_kind of every tree */
    int32_t n_classes;     /* classification: K >= 2; 0 for other kinds */
    char **class_labels;   /* n_classes labels as text, or NULL: the binary
                              forest's 0 and 1 (every version-1 forest) */
    int labels_numeric;    /* the labels are numbers (text is %.17g) */
    double *class_weight_k; /* n_classes resolved class weights, or NULL
                               (2 classes: opts.class_weights) */
} sv_forest;

/* Values per predicted row: K for a classification forest of K > 2
 * classes (the class probabilities), else 1 (P(class 1), the mean
 * response, ...). OOB predictions have as many. */
static inline int32_t sv_forest_n_outputs(const sv_forest *f)
{
    return f->kind == SV_TREE_CLASSIFICATION && f->n_classes > 2 ? f->n_classes : 1;
}

/*
 * The one checker of training options, for p features: used by
 * sv_forest_train on the options it is given (mtry 0 = default, class
 * weights checked when GIVEN) and by the loader on the options a model file
 * stores (as_trained = 1: mtry resolved to [1, p], the resolved class
 * weights finite and > 0 whatever the mode). The message names the option.
 */
sv_status sv_forest_check_opts(const sv_forest_opts *o, size_t p, int as_trained, sv_err *err);

/*
 * Trains a forest on X (n x p, column-major, finite), y (n values in {0,1},
 * both present). names: p strings copied into the forest, or NULL. The
 * result (*out) is freed with sv_forest_free. Trees are grown in parallel
 * over ctx's threads; tree t uses the RNG stream (opts->seed, t) only, so
 * the forest is bitwise identical for any thread count. The in-bag sets
 * are recorded; OOB predictions are made on demand by
 * sv_forest_compute_oob. Progress is reported as "forest.train".
 */
sv_status sv_forest_train(const double *X, size_t n, size_t p,
                          const double *y, const char *const *names,
                          const sv_forest_opts *opts, const sv_ctx *ctx,
                          sv_forest **out, sv_err *err);

/*
 * Trains a classification forest of K >= 2 classes: y holds n class
 * indices 0..K-1, each class present. class_weights: K weights (finite,
 * > 0) used when opts->class_weight is GIVEN (else ignored, may be NULL);
 * BALANCED weighs class c by n / (K n_c), as scikit-learn. Impurity is
 * gini or entropy over the K classes; a node stores its K weighted class
 * fractions (K > 2) or its class-1 fraction (K = 2: the forest is exactly
 * the one sv_forest_train grows from 0/1 labels). Labels are not the
 * engine's business: see sv_forest_set_labels.
 */
sv_status sv_forest_train_classes(const double *X, size_t n, size_t p,
                                  const int32_t *y, int32_t K,
                                  const double *class_weights,
                                  const char *const *names,
                                  const sv_forest_opts *opts, const sv_ctx *ctx,
                                  sv_forest **out, sv_err *err);

/*
 * Trains a regression forest on X (n x p, finite) and y (n finite
 * responses): scikit-learn's RandomForestRegressor semantics. A node's
 * statistic is (W, S, Q) = the bootstrap-weighted count, sum of y and sum
 * of y^2; a split scores S_l^2/W_l + S_r^2/W_r (the squared-error
 * decrease up to a constant); a node stores its weighted mean S/W, cover W
 * and impurity Q/W - (S/W)^2 (the weighted MSE), and is not split when
 * that impurity is <= DBL_EPSILON. mtry 0 means p (max_features = 1.0,
 * scikit-learn's default for regression). opts->criterion and class
 * weights are ignored (stored as squared error and 1).
 */
sv_status sv_forest_train_regression(const double *X, size_t n, size_t p,
                                     const double *y, const char *const *names,
                                     const sv_forest_opts *opts, const sv_ctx *ctx,
                                     sv_forest **out, sv_err *err);

/* Records the K class labels (copied) of a classification forest, as
 * text; numeric says they are numbers. Saved in model files. */
sv_status sv_forest_set_labels(sv_forest *f, const char *const *labels, int numeric,
                               sv_err *err);

void sv_forest_free(sv_forest *f);

/*
 * A view of output k (0-based, < sv_forest_n_outputs(f)) of f as a forest
 * of one value per node: the trees share f's structure arrays, each with
 * its own array of node values (column k of the payload). For TreeSHAP
 * per class. Freed with sv_forest_view_free (not sv_forest_free); valid
 * while f lives.
 */
sv_status sv_forest_output_view(const sv_forest *f, int32_t k, sv_forest **out, sv_err *err);
void sv_forest_view_free(sv_forest *view);

/* (Re)builds the packed copy of the trees that prediction walks; train
 * and load call it. Call it again after changing the trees by hand. */
sv_status sv_forest_pack(sv_forest *f, sv_err *err);

/* Fills f->oob (if not yet done; n x sv_forest_n_outputs(f), column-major)
 * from the training data X (n x p, the same as given to sv_forest_train):
 * each row's mean leaf value over the trees for which it was out of bag,
 * NaN when it never was. Needs the
 * in-bag record (a forest trained in this process). */
sv_status sv_forest_compute_oob(sv_forest *f, const double *X, size_t n,
                                size_t p, const sv_ctx *ctx, sv_err *err);

/* P(y = 1) for the n rows of X (n x p column-major, p == n_features,
 * finite): the mean over trees of the leaf value, summed in tree order.
 * out holds n x sv_forest_n_outputs(f) values, column-major: for K > 2
 * classes column k is P(class k). */
sv_status sv_forest_predict(const sv_forest *f, const double *X, size_t n,
                            size_t p, const sv_ctx *ctx, double *out,
                            sv_err *err);

/*
 * Impurity importance (scikit-learn's feature_importances_): for each tree
 * the weighted impurity decrease cover*imp - cover_l*imp_l - cover_r*imp_r
 * summed per feature and normalised to sum 1 (trees that are a single leaf
 * are skipped), then the mean over trees, normalised to sum 1 again.
 * out: n_features values (all 0 when no tree splits).
 */
sv_status sv_forest_importance_impurity(const sv_forest *f, double *out,
                                        sv_err *err);

typedef struct sv_forest_perm_opts {
    int32_t repeats;  /* >= 1 permutations per feature */
    uint64_t seed;    /* feature j, repeat r uses stream (seed, j*repeats+r) */
    int oob;          /* 1: each row predicted only by the trees for which
                         it was out of bag (X, y must be the training data) */
} sv_forest_perm_opts;

/* SV_FOREST_DEFAULT_PERM_REPEATS repeats, seed 0, not OOB. */
void sv_forest_perm_opts_default(sv_forest_perm_opts *o);

/*
 * Permutation importance: the drop in AUC (Hand and Till's M for K > 2
 * classes, R^2 = 1 - SSE/SST for a regression forest) when feature j is
 * permuted among the rows, mean[j] and sd[j] (sample SD, 0 when repeats = 1) over repeats.
 * base_auc receives the unpermuted AUC. With opts->oob, rows that were
 * never out of bag are left out. y must hold both classes (among the rows
 * used).
 */
sv_status sv_forest_importance_permutation(const sv_forest *f,
                                           const double *X, size_t n,
                                           size_t p, const double *y,
                                           const sv_forest_perm_opts *opts,
                                           const sv_ctx *ctx, double *mean,
                                           double *sd, double *base_auc,
                                           sv_err *err);

/* Depth statistics over trees (min, mean, max) and total leaves. */
void sv_forest_depth_stats(const sv_forest *f, int *dmin, double *dmean,
                           int *dmax, size_t *leaves);

/* ---- files (forest_io.c) ------------------------------------------- */

/* Binary model file (format in docs/forest.md), written atomically. */
sv_status sv_forest_save(const sv_forest *f, const char *path, sv_err *err);
/* Serialises into a malloc'ed buffer (*buf, *len). */
sv_status sv_forest_save_mem(const sv_forest *f, unsigned char **buf,
                             size_t *len, sv_err *err);
/* Loads a model file; a damaged file is refused (SV_EFORMAT) with a
 * message naming the path. */
sv_status sv_forest_load(const char *path, sv_forest **out, sv_err *err);
/* Parses a model image of len bytes; never trusts a size from the data.
 * The entry point for fuzzing. Messages do not name a path. */
sv_status sv_forest_load_mem(const unsigned char *buf, size_t len,
                             sv_forest **out, sv_err *err);
/* The JSON format of api.md, numbers printed with %.17g. */
sv_status sv_forest_export_json(const sv_forest *f, const char *path,
                                sv_err *err);

#ifdef __cplusplus
}
#endif
#endif
