/*
 * forest.c - the forest object of sv_forest.h: options, freeing, the
 * checks every entry point shares, impurity importance and depth
 * statistics. Growing is forest_grow.c with a splitter (forest_cls.c),
 * prediction and OOB forest_predict.c, permutation importance
 * forest_importance.c, files forest_io.c.
 */
#include "forest_grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sv_forest_opts_default(sv_forest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_trees = SV_FOREST_DEFAULT_TREES;
    o->mtry = SV_FOREST_DEFAULT_MTRY;
    o->min_leaf = SV_FOREST_DEFAULT_MIN_LEAF;
    o->min_split = SV_FOREST_DEFAULT_MIN_SPLIT;
    o->max_depth = SV_FOREST_DEFAULT_MAX_DEPTH;
    o->criterion = SV_FOREST_DEFAULT_CRITERION;
    o->bootstrap = SV_FOREST_DEFAULT_BOOTSTRAP;
    o->sample_fraction = SV_FOREST_DEFAULT_SAMPLE_FRACTION;
    o->class_weight = SV_FOREST_CW_NONE;
    o->class_weights[0] = 1.0;
    o->class_weights[1] = 1.0;
    o->seed = SV_FOREST_DEFAULT_SEED;
}

void sv_forest_free(sv_forest *f)
{
    if (!f) return;
    if (f->trees)
        for (int32_t t = 0; t < f->n_trees; t++) sv_tree_free(&f->trees[t]);
    free(f->trees);
    if (f->feature_names)
        for (int32_t j = 0; j < f->n_features; j++) free(f->feature_names[j]);
    free(f->feature_names);
    free(f->oob);
    free(f->inbag);
    free(f->pnodes);
    free(f->pnode_off);
    if (f->class_labels)
        for (int32_t k = 0; k < f->n_classes; k++) free(f->class_labels[k]);
    free(f->class_labels);
    free(f->class_weight_k);
    free(f);
}

sv_status sv_forest_output_view(const sv_forest *f, int32_t k, sv_forest **out, sv_err *err)
{
    *out = NULL;
    int32_t nout = sv_forest_n_outputs(f);
    if (k < 0 || k >= nout)
        return sv_err_set(err, SV_EINVAL, "class %d out of range [1, %d]", (int)k + 1, (int)nout);
    sv_forest *v = sv_calloc(1, sizeof *v);
    if (!v) return sv_err_set(err, SV_ENOMEM, "out of memory");
    *v = *f;
    v->pnodes = NULL;
    v->pnode_off = NULL;
    v->oob = NULL;
    v->class_labels = NULL;
    v->class_weight_k = NULL;
    v->n_classes = f->kind == SV_TREE_CLASSIFICATION ? 2 : f->n_classes;
    v->trees = sv_calloc((size_t)f->n_trees, sizeof *v->trees);
    if (!v->trees) {
        free(v);
        return sv_err_set(err, SV_ENOMEM, "out of memory");
    }
    for (int32_t t = 0; t < f->n_trees; t++) {
        const sv_tree *a = &f->trees[t];
        sv_tree *b = &v->trees[t];
        *b = *a;
        b->n_values = 1;
        b->value = sv_malloc(a->n_nodes > 0 ? (size_t)a->n_nodes : 1, sizeof *b->value);
        if (!b->value) {
            sv_forest_view_free(v);
            return sv_err_set(err, SV_ENOMEM, "out of memory");
        }
        for (int32_t i = 0; i < a->n_nodes; i++)
            b->value[i] = a->value[(size_t)i * (size_t)a->n_values + (size_t)k];
    }
    *out = v;
    return SV_OK;
}

void sv_forest_view_free(sv_forest *v)
{
    if (!v) return;
    if (v->trees)
        for (int32_t t = 0; t < v->n_trees; t++) free(v->trees[t].value);
    free(v->trees);
    free(v);
}

sv_status sv_forest_set_labels(sv_forest *f, const char *const *labels, int numeric,
                               sv_err *err)
{
    if (f->kind != SV_TREE_CLASSIFICATION || f->n_classes < 2)
        return sv_err_set(err, SV_EINVAL, "only a classification forest has class labels");
    char **c = sv_calloc((size_t)f->n_classes, sizeof *c);
    if (!c) return sv_err_set(err, SV_ENOMEM, "out of memory copying class labels");
    for (int32_t k = 0; k < f->n_classes; k++) {
        size_t len = strlen(labels[k]) + 1;
        c[k] = malloc(len);
        if (!c[k]) {
            for (int32_t q = 0; q < k; q++) free(c[q]);
            free(c);
            return sv_err_set(err, SV_ENOMEM, "out of memory copying class labels");
        }
        memcpy(c[k], labels[k], len);
    }
    if (f->class_labels)
        for (int32_t k = 0; k < f->n_classes; k++) free(f->class_labels[k]);
    free(f->class_labels);
    f->class_labels = c;
    f->labels_numeric = numeric != 0;
    return SV_OK;
}

/* ---- validation ------------------------------------------------------- */

sv_status sv_forest_check_finite(const double *X, size_t n, size_t p, sv_err *err)
{
    for (size_t j = 0; j < p; j++) {
        const double *x = X + j * n;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i]))
                return sv_err_set(err, SV_EINVAL, "X has %s at row %zu, column %zu",
                                  isnan(x[i]) ? "NaN" : "an infinite value", i + 1, j + 1);
    }
    return SV_OK;
}

sv_status sv_forest_check_opts(const sv_forest_opts *o, size_t p, int as_trained, sv_err *err)
{
    if (o->n_trees < 1)
        return sv_err_set(err, SV_EINVAL, "trees must be >= 1, got %d", (int)o->n_trees);
    if (o->mtry < (as_trained ? 1 : 0) || (size_t)o->mtry > p)
        return sv_err_set(err, SV_EINVAL, "mtry must be in [1, %zu], got %d", p, (int)o->mtry);
    if (o->min_leaf < 1)
        return sv_err_set(err, SV_EINVAL, "min_leaf must be >= 1, got %d", (int)o->min_leaf);
    if (o->min_split < 2)
        return sv_err_set(err, SV_EINVAL, "min_split must be >= 2, got %d", (int)o->min_split);
    if (o->max_depth < 0)
        return sv_err_set(err, SV_EINVAL, "max_depth must be >= 0, got %d", (int)o->max_depth);
    if (o->criterion != SV_FOREST_GINI && o->criterion != SV_FOREST_ENTROPY &&
        o->criterion != SV_FOREST_SQUARED_ERROR)
        return sv_err_set(err, SV_EINVAL, "unknown criterion %d", (int)o->criterion);
    if (!(o->sample_fraction > 0.0 && o->sample_fraction <= 1.0))
        return sv_err_set(err, SV_EINVAL, "sample_fraction must be in (0, 1], got %g",
                          o->sample_fraction);
    if (o->class_weight != SV_FOREST_CW_NONE && o->class_weight != SV_FOREST_CW_BALANCED &&
        o->class_weight != SV_FOREST_CW_GIVEN)
        return sv_err_set(err, SV_EINVAL, "unknown class_weight %d", (int)o->class_weight);
    if ((as_trained || o->class_weight == SV_FOREST_CW_GIVEN) &&
        !(o->class_weights[0] > 0 && o->class_weights[1] > 0 &&
          isfinite(o->class_weights[0]) && isfinite(o->class_weights[1])))
        return sv_err_set(err, SV_EINVAL, "class weights must be finite and > 0");
    return SV_OK;
}

/* ---- importance and statistics ---------------------------------------------- */

sv_status sv_forest_importance_impurity(const sv_forest *f, double *out,
                                        sv_err *err)
{
    size_t p = (size_t)f->n_features;
    double *tree_imp = sv_malloc(p ? p : 1, sizeof *tree_imp);
    if (!tree_imp) return sv_err_set(err, SV_ENOMEM, "out of memory");
    for (size_t j = 0; j < p; j++) out[j] = 0.0;
    int32_t used = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        const sv_tree *tr = &f->trees[t];
        if (tr->n_nodes <= 1) continue;
        for (size_t j = 0; j < p; j++) tree_imp[j] = 0.0;
        for (int32_t k = 0; k < tr->n_nodes; k++) {
            if (tr->left[k] < 0) continue;
            int32_t l = tr->left[k], r = tr->right[k];
            tree_imp[tr->feature[k]] += tr->cover[k] * tr->impurity[k] -
                                        tr->cover[l] * tr->impurity[l] -
                                        tr->cover[r] * tr->impurity[r];
        }
        double s = 0.0;
        for (size_t j = 0; j < p; j++) s += tree_imp[j];
        if (s > 0)
            for (size_t j = 0; j < p; j++) out[j] += tree_imp[j] / s;
        used++;
    }
    free(tree_imp);
    if (used == 0) return SV_OK;
    double s = 0.0;
    for (size_t j = 0; j < p; j++) {
        out[j] /= used;
        s += out[j];
    }
    if (s > 0)
        for (size_t j = 0; j < p; j++) out[j] /= s;
    return SV_OK;
}

void sv_forest_depth_stats(const sv_forest *f, int *dmin, double *dmean,
                           int *dmax, size_t *leaves)
{
    int lo = 0, hi = 0;
    double sum = 0.0;
    size_t nl = 0;
    for (int32_t t = 0; t < f->n_trees; t++) {
        int d = sv_tree_depth(&f->trees[t]);
        if (t == 0 || d < lo) lo = d;
        if (t == 0 || d > hi) hi = d;
        sum += d;
        for (int32_t k = 0; k < f->trees[t].n_nodes; k++) nl += f->trees[t].left[k] < 0;
    }
    *dmin = lo;
    *dmax = hi;
    *dmean = f->n_trees > 0 ? sum / f->n_trees : 0.0;
    *leaves = nl;
}
