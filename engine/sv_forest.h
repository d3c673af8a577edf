/*
 * sv_forest.h - a trained random forest: the trees plus what training
 * records for out-of-bag prediction and importance.
 *
 * Shared contract (TreeSHAP and the file formats read it): n_trees trees of
 * sv_tree.h over n_features features; the forest's prediction for a row is
 * the mean over trees of the leaf value reached (P(y = 1)).
 * The forest module (forest.c) owns every other field and may add fields.
 */
#ifndef SV_FOREST_H
#define SV_FOREST_H

#include "sv_core.h"
#include "sv_tree.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sv_forest {
    int32_t n_trees;
    int32_t n_features;
    sv_tree *trees;        /* n_trees trees */
    char **feature_names;  /* n_features strings, or NULL */
} sv_forest;

#ifdef __cplusplus
}
#endif
#endif
