/*
 * sv_tree.h - the flat binary decision tree shared by the forest (which
 * grows it), TreeSHAP (which explains it) and the file formats.
 *
 * Nodes are stored in parallel arrays indexed by node id, root = 0.
 * A leaf has feature = -1 and left = right = -1. A row goes left when
 * x[feature] <= threshold. `cover` is the weighted count of the in-bag
 * samples at the node (scikit-learn's weighted_n_node_samples): TreeSHAP
 * uses cover as the probability of reaching a child.
 *
 * Every node carries n_values doubles of payload, node i's at
 * value[i * n_values]; what they mean depends on the kind:
 *   classification, 2 classes   n_values 1: the weighted class-1 fraction
 *   classification, K > 2       n_values K: the weighted class fractions
 *   regression                  n_values 1: the weighted mean response
 * (a survival tree, a later kind, stores its own summary). Trees with
 * n_values == 1 are exactly the version-1 trees.
 */
#ifndef SV_TREE_H
#define SV_TREE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sv_tree_kind {
    SV_TREE_CLASSIFICATION = 0,
    SV_TREE_REGRESSION = 1,
    SV_TREE_SURVIVAL = 2
} sv_tree_kind;

typedef struct sv_tree {
    int32_t n_nodes;
    int32_t kind;       /* sv_tree_kind */
    int32_t n_values;   /* payload doubles per node, >= 1 */
    int32_t *feature;   /* 0-based feature index, -1 at leaves */
    double *threshold;  /* split value; go left when x <= threshold */
    int32_t *left;      /* child ids, -1 at leaves */
    int32_t *right;
    double *value;      /* n_nodes x n_values payload (see above) */
    double *cover;      /* weighted in-bag count */
    double *impurity;   /* node impurity (gini or entropy), for importance */
} sv_tree;

/* Allocates arrays for n nodes (all zero) of n_values payload doubles
 * each, kind as given. 0 on success, -1 on no memory. */
int sv_tree_alloc_kind(sv_tree *t, int32_t n_nodes, int32_t kind, int32_t n_values);
/* A classification tree of one value per node (the version-1 tree). */
int sv_tree_alloc(sv_tree *t, int32_t n_nodes);
void sv_tree_free(sv_tree *t);
/* Deepest root-to-leaf path length in edges (a stump has depth 1). */
int sv_tree_depth(const sv_tree *t);
/* First payload value of the leaf reached by one row (x indexed by
 * feature). */
double sv_tree_predict_row(const sv_tree *t, const double *x);

#ifdef __cplusplus
}
#endif
#endif
