/*
 * svref_tree.h - the flat binary decision tree shared by the forest (which
 * grows it), TreeSHAP (which explains it) and the file formats.
 *
 * Nodes are stored in parallel arrays indexed by node id, root = 0.
 * A leaf has feature = -1 and left = right = -1. A row goes left when
 * x[feature] <= threshold. `value` is the weighted fraction of class 1
 * among the in-bag samples at the node, `cover` their weighted count
 * (scikit-learn's weighted_n_node_samples): TreeSHAP uses cover as the
 * probability of reaching a child.
 */
#ifndef SVREF_TREE_H
#define SVREF_TREE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svref_tree {
    int32_t n_nodes;
    int32_t *feature;   /* 0-based feature index, -1 at leaves */
    double *threshold;  /* split value; go left when x <= threshold */
    int32_t *left;      /* child ids, -1 at leaves */
    int32_t *right;
    double *value;      /* weighted class-1 fraction */
    double *cover;      /* weighted in-bag count */
    double *impurity;   /* node impurity (gini or entropy), for importance */
} svref_tree;

/* Allocates arrays for n nodes (all zero). 0 on success, -1 on no memory. */
int svref_tree_alloc(svref_tree *t, int32_t n_nodes);
void svref_tree_free(svref_tree *t);
/* Deepest root-to-leaf path length in edges (a stump has depth 1). */
int svref_tree_depth(const svref_tree *t);
/* Leaf value reached by one row (x indexed by feature). */
double svref_tree_predict_row(const svref_tree *t, const double *x);

#ifdef __cplusplus
}
#endif
#endif
