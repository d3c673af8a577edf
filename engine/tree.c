/*
 * tree.c - storage and traversal of the flat tree of sv_tree.h.
 */
#include "sv_tree.h"
#include "sv_core.h"

#include <stdlib.h>
#include <string.h>

int sv_tree_alloc(sv_tree *t, int32_t n_nodes)
{
    return sv_tree_alloc_kind(t, n_nodes, SV_TREE_CLASSIFICATION, 1);
}

int sv_tree_alloc_kind(sv_tree *t, int32_t n_nodes, int32_t kind, int32_t n_values)
{
    memset(t, 0, sizeof *t);
    if (n_values < 1) return -1;
    size_t n = n_nodes > 0 ? (size_t)n_nodes : 0;
    t->feature = sv_calloc(n, sizeof *t->feature);
    t->threshold = sv_calloc(n, sizeof *t->threshold);
    t->left = sv_calloc(n, sizeof *t->left);
    t->right = sv_calloc(n, sizeof *t->right);
    t->value = sv_calloc(n * (size_t)n_values, sizeof *t->value);
    t->cover = sv_calloc(n, sizeof *t->cover);
    t->impurity = sv_calloc(n, sizeof *t->impurity);
    if (!t->feature || !t->threshold || !t->left || !t->right || !t->value ||
        !t->cover || !t->impurity) {
        sv_tree_free(t);
        return -1;
    }
    t->n_nodes = n_nodes;
    t->kind = kind;
    t->n_values = n_values;
    return 0;
}

void sv_tree_free(sv_tree *t)
{
    if (!t) return;
    free(t->feature);
    free(t->threshold);
    free(t->left);
    free(t->right);
    free(t->value);
    free(t->cover);
    free(t->impurity);
    memset(t, 0, sizeof *t);
}

int sv_tree_depth(const sv_tree *t)
{
    if (t->n_nodes <= 0) return 0;
    /* Children always have larger ids than their parent in trees grown
     * or loaded by sylva (the loader checks it), so one forward pass
     * propagates depths. */
    int *d = sv_calloc((size_t)t->n_nodes, sizeof *d);
    if (!d) return -1;
    int best = 0;
    for (int32_t i = 0; i < t->n_nodes; i++) {
        if (d[i] > best) best = d[i];
        if (t->left[i] >= 0) {
            d[t->left[i]] = d[i] + 1;
            d[t->right[i]] = d[i] + 1;
        }
    }
    free(d);
    return best;
}

double sv_tree_predict_row(const sv_tree *t, const double *x)
{
    int32_t n = 0;
    while (t->left[n] >= 0)
        n = x[t->feature[n]] <= t->threshold[n] ? t->left[n] : t->right[n];
    return t->value[(size_t)n * (size_t)t->n_values];
}
