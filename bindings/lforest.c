/*
 * lforest.c - the sv.forest module: random forest training, prediction,
 * importance and model files (engine/sv_forest.h; docs/forest.md).
 *
 * A Forest userdata (svL_forest, lsylva.h) owns its engine forest. Its
 * user values keep the training X (Matrix) and y (Vector) of a forest
 * trained in this session, for OOB predictions and OOB permutation
 * importance, and (third) a 64-bit hash of both taken at training: a
 * Matrix can be changed in place (M:set), and OOB results computed later
 * from changed data would be silently wrong, so they are refused. A loaded
 * forest has none of them.
 */
#include "lsylva.h"
#include "../engine/sv_survforest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/sv_forest.h"

/* A 64-bit FNV-1a-style hash of X and y, 8 bytes at a time. */
static lua_Integer data_hash(const svL_matrix *X, const double *y, size_t ny)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t nx = X->nrow * X->ncol;
    for (size_t i = 0; i < nx + ny; i++) {
        uint64_t w;
        memcpy(&w, i < nx ? &X->data[i] : &y[i - nx], 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return (lua_Integer)h;
}

/* Pushes the training X and y of the forest at idx after checking that
 * they are unchanged; returns 0 (nothing pushed) for a forest without
 * them. */
static int push_training_data(lua_State *L, int idx, const char *fname)
{
    lua_getiuservalue(L, idx, 1);
    lua_getiuservalue(L, idx, 2);
    svL_matrix *X = svL_testmatrix(L, -2);
    svL_vector *y = svL_testvector(L, -1);
    if (!X || !y) {
        lua_pop(L, 2);
        return 0;
    }
    lua_getiuservalue(L, idx, 3);
    lua_Integer h = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (h != data_hash(X, y->data, y->n))
        luaL_error(L, "%s: the training data (X or y) were changed after training; "
                      "OOB results would be wrong", fname);
    return 1;
}

static svL_forest *newforest(lua_State *L)
{
    svL_forest *u = lua_newuserdatauv(L, sizeof *u, 3);
    u->f = NULL;
    luaL_setmetatable(L, SV_FOREST_MT);
    return u;
}

/* Column names of the matrix at arg as a malloc'ed-free array of const
 * char* living on the Lua stack (a table of strings pushed), or NULL. */
static const char **matrix_names(lua_State *L, int arg, size_t p, int *pushed)
{
    *pushed = 0;
    svL_matrix_pushnames(L, arg);
    if (lua_type(L, -1) != LUA_TTABLE || (size_t)luaL_len(L, -1) != p) {
        lua_pop(L, 1);
        return NULL;
    }
    int t = lua_gettop(L);
    const char **names = lua_newuserdatauv(L, (p ? p : 1) * sizeof *names, 0);
    lua_newtable(L); /* names seen: importance tables are keyed by name */
    for (size_t j = 0; j < p; j++) {
        lua_geti(L, t, (lua_Integer)j + 1);
        /* only real strings: a number converted here would not outlive
         * the pop (unnamed columns become V<j>) */
        names[j] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (names[j]) {
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) != LUA_TNIL) {
                const char *msg = lua_pushfstring(L, "feature name '%s' appears twice (importance "
                                                     "tables are keyed by name)", names[j]);
                luaL_argerror(L, arg, msg);
            }
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    *pushed = 2;
    return names;
}

/* ---- class labels ------------------------------------------------------ */

typedef struct label_ref {
    double num;
    const char *str;
    size_t len;
    size_t row;
} label_ref;

static int cmp_label_num(const void *a, const void *b)
{
    const label_ref *x = a, *y = b;
    return x->num < y->num ? -1 : x->num > y->num;
}

static int cmp_label_str(const void *a, const void *b)
{
    const label_ref *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, m);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* The text a numeric label is stored as (reads back to the same double). */
static void num_label(char *buf, size_t size, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, size, "%.0f", v);
    else snprintf(buf, size, "%.17g", v);
}

/*
 * Reads the n labels at arg (a Vector or a table of numbers, or a table of
 * strings): the classes are the sorted distinct labels (numbers ascending,
 * strings byte-wise). Pushes a Vector of the class indices 0..K-1 and a
 * table of the K labels as text; sets *numeric. Returns K.
 */
static int32_t read_labels(lua_State *L, int arg, size_t n, int *numeric)
{
    svL_vector *v = svL_testvector(L, arg);
    if (!v && !lua_istable(L, arg)) luaL_typeerror(L, arg, "Vector or table of labels");
    if (v && v->n != n) {
        const char *msg = lua_pushfstring(L, "y has %d values, X has %d rows", (int)v->n, (int)n);
        luaL_argerror(L, arg, msg);
    }
    if (!v && (size_t)luaL_len(L, arg) != n) {
        const char *msg = lua_pushfstring(L, "y has %d values, X has %d rows", (int)luaL_len(L, arg), (int)n);
        luaL_argerror(L, arg, msg);
    }
    label_ref *r = lua_newuserdatauv(L, (n ? n : 1) * sizeof *r, 0);
    int kind = -1; /* 0 numbers, 1 strings */
    for (size_t i = 0; i < n; i++) {
        r[i].row = i;
        r[i].str = NULL;
        if (v) {
            r[i].num = v->data[i];
            kind = 0;
        } else {
            int t = lua_geti(L, arg, (lua_Integer)i + 1);
            int k = t == LUA_TNUMBER ? 0 : t == LUA_TSTRING ? 1 : -1;
            if (k < 0 || (kind >= 0 && k != kind)) {
                const char *msg = lua_pushfstring(L, "y element %d is %s: labels are all numbers or all strings",
                                                  (int)i + 1, luaL_typename(L, -1));
                luaL_argerror(L, arg, msg);
            }
            kind = k;
            if (k == 0) r[i].num = lua_tonumber(L, -1);
            else r[i].str = lua_tolstring(L, -1, &r[i].len); /* anchored by the table */
            lua_pop(L, 1);
        }
        if (kind == 0 && !isfinite(r[i].num)) {
            const char *msg = lua_pushfstring(L, "y element %d is not a finite number", (int)i + 1);
            luaL_argerror(L, arg, msg);
        }
    }
    qsort(r, n, sizeof *r, kind == 1 ? cmp_label_str : cmp_label_num);
    double *idx = svL_newvector(L, n);
    int labels = lua_gettop(L) + 1;
    lua_newtable(L);
    int32_t K = 0;
    for (size_t k = 0; k < n; k++) {
        int fresh = k == 0 || (kind == 1 ? cmp_label_str(&r[k - 1], &r[k]) != 0 : r[k - 1].num != r[k].num);
        if (fresh) {
            if (K == SV_FOREST_MAX_CLASSES) {
                const char *msg = lua_pushfstring(L, "y has more than %d classes", SV_FOREST_MAX_CLASSES);
                luaL_argerror(L, arg, msg);
            }
            if (kind == 1) {
                lua_pushlstring(L, r[k].str, r[k].len);
            } else {
                char buf[64];
                num_label(buf, sizeof buf, r[k].num);
                lua_pushstring(L, buf);
            }
            lua_rawseti(L, labels, ++K);
        }
        idx[r[k].row] = (double)(K - 1);
    }
    lua_remove(L, labels - 2); /* the label_ref buffer */
    *numeric = kind != 1;
    return K;
}

/* Pushes label k (0-based) of forest f as the user gave it. */
static void push_label(lua_State *L, const sv_forest *f, int32_t k)
{
    if (!f->class_labels) {
        lua_pushinteger(L, k);
    } else if (f->labels_numeric) {
        if (!lua_stringtonumber(L, f->class_labels[k])) lua_pushstring(L, f->class_labels[k]);
    } else {
        lua_pushstring(L, f->class_labels[k]);
    }
}

/* Maps the labels at arg (n of them) to the class indices of forest f:
 * pushes a Vector of indices. Refuses a label the forest does not know. */
static const double *map_labels(lua_State *L, int arg, const sv_forest *f, size_t n,
                                const char *fname)
{
    svL_vector *v = svL_testvector(L, arg);
    if (!v && !lua_istable(L, arg)) svL_opt_error(L, fname, "y", "expected a Vector or a table of labels");
    size_t ny = v ? v->n : (size_t)luaL_len(L, arg);
    if (ny != n) {
        const char *msg = lua_pushfstring(L, "y has %d values, X has %d rows", (int)ny, (int)n);
        svL_opt_error(L, fname, "y", msg);
    }
    double *out = svL_newvector(L, n);
    for (size_t i = 0; i < n; i++) {
        int found = -1;
        if (v) lua_pushnumber(L, v->data[i]);
        else lua_geti(L, arg, (lua_Integer)i + 1);
        for (int32_t k = 0; k < f->n_classes && found < 0; k++) {
            push_label(L, f, k);
            if (lua_type(L, -1) == lua_type(L, -2) && lua_rawequal(L, -1, -2)) found = k;
            else if (lua_type(L, -1) == LUA_TNUMBER && lua_type(L, -2) == LUA_TNUMBER &&
                     lua_tonumber(L, -1) == lua_tonumber(L, -2))
                found = k;
            lua_pop(L, 1);
        }
        if (found < 0) {
            const char *msg = lua_pushfstring(L, "y element %d (%s) is not one of the forest's classes",
                                              (int)i + 1, luaL_tolstring(L, -1, NULL));
            svL_opt_error(L, fname, "y", msg);
        }
        lua_pop(L, 1);
        out[i] = found;
    }
    return out;
}

static const char *const train_opts[] = {
    "trees", "mtry", "min_leaf", "min_split", "max_depth", "criterion",
    "bootstrap", "sample_fraction", "class_weight", "seed", "threads", NULL};

static int32_t opt_mtry(lua_State *L, int arg, size_t p, const char *fname)
{
    int t = svL_opt_get(L, arg, "mtry");
    int32_t m = 0;
    if (t == LUA_TNIL) {
        m = 0; /* the engine's default for the kind */
    } else if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "sqrt") == 0) {
            m = 1; /* floor(sqrt(p)) */
            while ((size_t)(m + 1) * (size_t)(m + 1) <= p) m++;
        } else if (strcmp(s, "log2") == 0) {
            m = 0;
            while (((size_t)2 << m) <= p) m++; /* floor(log2(p)) */
            if (m < 1) m = 1;
        } else if (strcmp(s, "all") == 0) {
            m = (int32_t)p;
        } else {
            svL_opt_error(L, fname, "mtry", "expected \"sqrt\", \"log2\", \"all\", an integer or a fraction in (0, 1)");
        }
    } else if (t == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (v > 0 && v < 1) {
            m = (int32_t)floor(v * (double)p);
            if (m < 1) m = 1;
        } else if (v >= 1 && v == floor(v) && v <= (double)p) {
            m = (int32_t)v;
        } else {
            /* the value as the user wrote it: 9, not 9.0 */
            const char *shown = luaL_tolstring(L, -1, NULL);
            const char *msg = lua_pushfstring(L, "%s is out of range: an integer in [1, %d] or a fraction in (0, 1)",
                                              shown, (int)p);
            svL_opt_error(L, fname, "mtry", msg);
        }
    } else {
        svL_opt_error(L, fname, "mtry", "expected \"sqrt\", an integer or a fraction in (0, 1)");
    }
    lua_pop(L, 1);
    return m;
}

/* class_weight: nil, "balanced" or K weights (in class order) into cw. */
static void opt_class_weight(lua_State *L, int arg, sv_forest_opts *o, int32_t K, double *cw)
{
    const char *fname = "forest.train";
    int t = svL_opt_get(L, arg, "class_weight");
    if (t == LUA_TNIL) {
        o->class_weight = SV_FOREST_CW_NONE;
    } else if (t == LUA_TSTRING && strcmp(lua_tostring(L, -1), "balanced") == 0) {
        o->class_weight = SV_FOREST_CW_BALANCED;
    } else if (t == LUA_TTABLE) {
        if (luaL_len(L, -1) != K) {
            const char *msg = K == 2 ? "expected {w0, w1}"
                                     : lua_pushfstring(L, "expected %d weights, one per class", (int)K);
            svL_opt_error(L, fname, "class_weight", msg);
        }
        for (int k = 0; k < K; k++) {
            lua_geti(L, -1, k + 1);
            int isnum = 0;
            double w = lua_tonumberx(L, -1, &isnum);
            if (!isnum || !(w > 0) || !isfinite(w))
                svL_opt_error(L, fname, "class_weight", "weights must be finite numbers > 0");
            cw[k] = w;
            if (k < 2) o->class_weights[k] = w;
            lua_pop(L, 1);
        }
        o->class_weight = SV_FOREST_CW_GIVEN;
    } else {
        svL_opt_error(L, fname, "class_weight", "expected \"balanced\" or {w0, w1}");
    }
    lua_pop(L, 1);
}

/* sv.forest.train(X, y [, opts]) -> Forest */
static int l_train(lua_State *L)
{
    const char *fname = "forest.train";
    svL_matrix *X = svL_checkmatrix(L, 1);
    size_t ny;
    svL_vector *yv = svL_testvector(L, 2);
    if (!yv && !lua_istable(L, 2)) luaL_typeerror(L, 2, "Vector or table of labels");
    lua_settop(L, 3);
    svL_checkopts(L, 3, fname, train_opts);
    size_t n = X->nrow, p = X->ncol;
    if (n == 0) luaL_argerror(L, 1, "X has no rows");
    if (p == 0) luaL_argerror(L, 1, "X has no columns");
    /* numbers (a Vector or a table of numbers) are read as a Vector */
    const double *y = NULL;
    int allnum = 1;
    if (!yv) {
        ny = (size_t)luaL_len(L, 2);
        for (size_t i = 0; i < ny && allnum; i++) {
            allnum = lua_geti(L, 2, (lua_Integer)i + 1) == LUA_TNUMBER;
            lua_pop(L, 1);
        }
    }
    if (yv) y = yv->data, ny = yv->n;
    else if (allnum) y = svL_checkvector(L, 2, &ny);
    if (ny != n) {
        const char *msg = lua_pushfstring(L, "y has %d values, X has %d rows", (int)ny, (int)n);
        luaL_argerror(L, 2, msg);
    }
    svL_checkfinite(L, 1, X);
    /* 0/1 labels: the version-1 binary forest, unchanged; any other
     * labels: classes, as the sorted distinct labels */
    int binary01 = y != NULL;
    size_t n1 = 0;
    for (size_t i = 0; binary01 && i < n; i++) {
        if (y[i] != 0.0 && y[i] != 1.0) binary01 = 0;
        n1 += y[i] == 1.0;
    }
    int32_t K = 2;
    int numeric = 1;
    int yidx = 2; /* the y kept for OOB: the 0/1 Vector or the class indices */
    if (binary01 && (n1 == 0 || n1 == n))
        luaL_argerror(L, 2, n1 == 0 ? "y holds only class 0: both classes are needed"
                                    : "y holds only class 1: both classes are needed");
    if (!binary01) {
        K = read_labels(L, 2, n, &numeric);
        yidx = lua_gettop(L) - 1;
        if (K < 2) {
            lua_geti(L, -1, 1);
            const char *msg = lua_pushfstring(L, "y holds only one class (%s): two or more are needed",
                                              lua_tostring(L, -1));
            luaL_argerror(L, 2, msg);
        }
        y = svL_testvector(L, yidx)->data;
    }
    int labels_idx = binary01 ? 0 : yidx + 1;
    double *cw = lua_newuserdatauv(L, (size_t)K * sizeof *cw, 0);

    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = (int32_t)svL_opt_int(L, 3, fname, "trees", SV_FOREST_DEFAULT_TREES, 1, 10000000);
    o.mtry = opt_mtry(L, 3, p, fname);
    o.min_leaf = (int32_t)svL_opt_int(L, 3, fname, "min_leaf", SV_FOREST_DEFAULT_MIN_LEAF, 1, INT32_MAX / 2);
    o.min_split = (int32_t)svL_opt_int(L, 3, fname, "min_split", SV_FOREST_DEFAULT_MIN_SPLIT, 2, INT32_MAX / 2);
    o.max_depth = (int32_t)svL_opt_int(L, 3, fname, "max_depth", SV_FOREST_DEFAULT_MAX_DEPTH, 0, INT32_MAX / 2);
    static const char *const crits[] = {"gini", "entropy", NULL};
    o.criterion = (sv_forest_criterion)svL_opt_enum(L, 3, fname, "criterion", SV_FOREST_DEFAULT_CRITERION, crits);
    o.bootstrap = svL_opt_bool(L, 3, fname, "bootstrap", SV_FOREST_DEFAULT_BOOTSTRAP);
    o.sample_fraction = svL_opt_pos(L, 3, fname, "sample_fraction", SV_FOREST_DEFAULT_SAMPLE_FRACTION, 1.0);
    opt_class_weight(L, 3, &o, K, cw);
    o.seed = svL_opt_seed(L, 3, fname);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);

    int pushed;
    const char **names = matrix_names(L, 1, p, &pushed);
    svL_forest *u = newforest(L);
    int ud = lua_gettop(L);
    sv_ctx ctx;
    svL_ctx(L, &ctx, threads);
    sv_err err;
    sv_forest *f = NULL;
    if (binary01) {
        if (sv_forest_train(X->data, n, p, y, names, &o, &ctx, &f, &err) != SV_OK)
            return svL_engine_error(L, fname, &err);
    } else {
        int32_t *yc = lua_newuserdatauv(L, n * sizeof *yc, 0);
        for (size_t i = 0; i < n; i++) yc[i] = (int32_t)y[i];
        sv_status st = sv_forest_train_classes(X->data, n, p, yc, K, cw, names, &o, &ctx, &f, &err);
        lua_pop(L, 1);
        if (st != SV_OK) return svL_engine_error(L, fname, &err);
        const char **lab = lua_newuserdatauv(L, (size_t)K * sizeof *lab, 0);
        for (int32_t k = 0; k < K; k++) {
            lua_geti(L, labels_idx, k + 1);
            lab[k] = lua_tostring(L, -1); /* anchored by the labels table */
            lua_pop(L, 1);
        }
        if (sv_forest_set_labels(f, lab, numeric, &err) != SV_OK) {
            sv_forest_free(f);
            return svL_engine_error(L, fname, &err);
        }
        lua_pop(L, 1);
    }
    u->f = f;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, ud, 1);
    lua_pushvalue(L, yidx);
    lua_setiuservalue(L, ud, 2);
    lua_pushinteger(L, data_hash(X, y, n));
    lua_setiuservalue(L, ud, 3);
    lua_pushvalue(L, ud);
    return 1;
}

static const char *const regress_opts[] = {
    "trees", "mtry", "min_leaf", "min_split", "max_depth", "bootstrap",
    "sample_fraction", "seed", "threads", NULL};

/* sv.forest.regress(X, y [, opts]) -> Forest (kind "regression") */
static int l_regress(lua_State *L)
{
    const char *fname = "forest.regress";
    svL_matrix *X = svL_checkmatrix(L, 1);
    size_t ny;
    const double *y = svL_checkvector(L, 2, &ny);
    lua_settop(L, 3);
    svL_checkopts(L, 3, fname, regress_opts);
    size_t n = X->nrow, p = X->ncol;
    if (n == 0) luaL_argerror(L, 1, "X has no rows");
    if (p == 0) luaL_argerror(L, 1, "X has no columns");
    if (ny != n) {
        const char *msg = lua_pushfstring(L, "y has %d values, X has %d rows", (int)ny, (int)n);
        luaL_argerror(L, 2, msg);
    }
    svL_checkfinite(L, 1, X);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) {
            const char *msg = lua_pushfstring(L, "y element %d is not a finite number", (int)i + 1);
            luaL_argerror(L, 2, msg);
        }
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = (int32_t)svL_opt_int(L, 3, fname, "trees", SV_FOREST_DEFAULT_TREES, 1, 10000000);
    o.mtry = opt_mtry(L, 3, p, fname);
    o.min_leaf = (int32_t)svL_opt_int(L, 3, fname, "min_leaf", SV_FOREST_DEFAULT_MIN_LEAF, 1, INT32_MAX / 2);
    o.min_split = (int32_t)svL_opt_int(L, 3, fname, "min_split", SV_FOREST_DEFAULT_MIN_SPLIT, 2, INT32_MAX / 2);
    o.max_depth = (int32_t)svL_opt_int(L, 3, fname, "max_depth", SV_FOREST_DEFAULT_MAX_DEPTH, 0, INT32_MAX / 2);
    o.bootstrap = svL_opt_bool(L, 3, fname, "bootstrap", SV_FOREST_DEFAULT_BOOTSTRAP);
    o.sample_fraction = svL_opt_pos(L, 3, fname, "sample_fraction", SV_FOREST_DEFAULT_SAMPLE_FRACTION, 1.0);
    o.seed = svL_opt_seed(L, 3, fname);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);
    int pushed;
    const char **names = matrix_names(L, 1, p, &pushed);
    svL_forest *u = newforest(L);
    int ud = lua_gettop(L);
    sv_ctx ctx;
    svL_ctx(L, &ctx, threads);
    sv_err err;
    sv_forest *f = NULL;
    if (sv_forest_train_regression(X->data, n, p, y, names, &o, &ctx, &f, &err) != SV_OK)
        return svL_engine_error(L, fname, &err);
    u->f = f;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, ud, 1);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, ud, 2);
    lua_pushinteger(L, data_hash(X, y, n));
    lua_setiuservalue(L, ud, 3);
    lua_pushvalue(L, ud);
    return 1;
}

/* Pushes what a prediction of n rows fills: a Vector, or for K > 2
 * classes an n x K Matrix whose columns are named by the labels. */
static double *new_output(lua_State *L, const sv_forest *f, size_t n)
{
    int32_t nout = sv_forest_n_outputs(f);
    if (nout == 1) return svL_newvector(L, n);
    svL_matrix *m = svL_newmatrix(L, n, (size_t)nout);
    int midx = lua_gettop(L);
    lua_createtable(L, nout, 0);
    for (int32_t k = 0; k < nout; k++) {
        push_label(L, f, k);
        lua_pushstring(L, luaL_tolstring(L, -1, NULL));
        lua_remove(L, -2);
        lua_remove(L, -2);
        lua_rawseti(L, -2, k + 1);
    }
    svL_matrix_setnames(L, midx);
    return m->data;
}

/* f:predict(X [, {threads=0}]) -> Vector of P(y = 1) */
static int f_predict(lua_State *L)
{
    const char *fname = "forest.predict";
    svL_forest *u = svL_checkforest(L, 1);
    lua_settop(L, 3);
    svL_matrix *X = svL_checkforestX(L, 2, u->f);
    static const char *const allowed[] = {"threads", NULL};
    svL_checkopts(L, 3, fname, allowed);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);
    double *out = new_output(L, u->f, X->nrow);
    if (X->nrow == 0) return 1;
    sv_ctx ctx;
    svL_ctx(L, &ctx, threads);
    sv_err err;
    if (sv_forest_predict(u->f, X->data, X->nrow, u->f->n_features, &ctx, out, &err) != SV_OK)
        return svL_engine_error(L, fname, &err);
    return 1;
}

/* Makes the OOB predictions of a forest trained in this session from the
 * training X kept as its first user value (a no-op when they exist).
 * Returns 0 when they cannot be made (a loaded forest without them). */
static int ensure_oob(lua_State *L, int idx, const char *fname)
{
    svL_forest *u = svL_checkforest(L, idx);
    if (u->f->oob) return 1;
    if (!u->f->inbag || !push_training_data(L, idx, fname)) return 0;
    svL_matrix *X = svL_testmatrix(L, -2);
    lua_pop(L, 2); /* X stays referenced by the forest */
    sv_ctx ctx;
    svL_ctx(L, &ctx, 0);
    sv_err err;
    if (sv_forest_compute_oob(u->f, X->data, X->nrow, X->ncol, &ctx, &err) != SV_OK)
        return svL_engine_error(L, fname, &err);
    return 1;
}

/* f:oob_predict() -> Vector (NaN where a row was never out of bag) */
static int f_oob_predict(lua_State *L)
{
    svL_forest *u = svL_checkforest(L, 1);
    if (!ensure_oob(L, 1, "forest.oob_predict"))
        return luaL_error(L, "forest.oob_predict: this forest has no OOB predictions");
    double *out = new_output(L, u->f, u->f->n_train);
    memcpy(out, u->f->oob, u->f->n_train * (size_t)sv_forest_n_outputs(u->f) * sizeof *out);
    return 1;
}

static void push_named(lua_State *L, const sv_forest *f, const double *v)
{
    lua_createtable(L, 0, f->n_features);
    for (int32_t j = 0; j < f->n_features; j++) {
        lua_pushnumber(L, v[j]);
        lua_setfield(L, -2, f->feature_names[j]);
    }
}

/* f:importance("impurity" | "permutation" [, opts]) */
static int f_importance(lua_State *L)
{
    const char *fname = "forest.importance";
    svL_forest *u = svL_checkforest(L, 1);
    const sv_forest *f = u->f;
    static const char *const kinds[] = {"impurity", "permutation", NULL};
    int kind = luaL_checkoption(L, 2, NULL, kinds);
    lua_settop(L, 3);
    size_t p = (size_t)f->n_features;
    double *mean = lua_newuserdatauv(L, 2 * (p ? p : 1) * sizeof *mean, 0);
    double *sd = mean + p;
    sv_err err;
    if (kind == 0) {
        static const char *const none[] = {NULL};
        svL_checkopts(L, 3, fname, none);
        if (sv_forest_importance_impurity(f, mean, &err) != SV_OK)
            return svL_engine_error(L, fname, &err);
        push_named(L, f, mean);
        return 1;
    }
    static const char *const allowed[] = {"X", "y", "repeats", "seed", "threads", NULL};
    svL_checkopts(L, 3, fname, allowed);
    int repeats = (int)svL_opt_int(L, 3, fname, "repeats", SV_FOREST_DEFAULT_PERM_REPEATS, 1, 100000);
    uint64_t seed = svL_opt_seed(L, 3, fname);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);
    sv_forest_perm_opts po;
    sv_forest_perm_opts_default(&po);
    po.repeats = repeats, po.seed = seed;
    const svL_matrix *X;
    const double *y;
    size_t ny;
    int tX = svL_opt_get(L, 3, "X");
    int ty = svL_opt_get(L, 3, "y");
    int base = lua_gettop(L) - 1; /* X at base, y at base + 1 */
    if (tX == LUA_TNIL && ty == LUA_TNIL) {
        if (!f->inbag || !push_training_data(L, 1, fname))
            return luaL_error(L, "%s: OOB permutation importance needs the training data of a forest "
                              "trained in this session; pass {X = ..., y = ...}", fname);
        X = svL_testmatrix(L, -2);
        y = svL_checkvector(L, -1, &ny);
        po.oob = 1;
    } else {
        if (tX == LUA_TNIL || ty == LUA_TNIL)
            return svL_opt_error(L, fname, tX == LUA_TNIL ? "X" : "y", "X and y go together");
        X = svL_checkforestX(L, base, f);
        if (f->class_labels) {
            y = map_labels(L, base + 1, f, X->nrow, fname);
        } else {
            y = svL_checkvector(L, base + 1, &ny);
            if (ny != X->nrow) {
                const char *msg = lua_pushfstring(L, "y has %d values, X has %d rows", (int)ny, (int)X->nrow);
                svL_opt_error(L, fname, "y", msg);
            }
            for (size_t i = 0; i < ny && f->kind == SV_TREE_CLASSIFICATION; i++)
                if (y[i] != 0.0 && y[i] != 1.0) svL_opt_error(L, fname, "y", "y must hold 0 or 1");
        }
    }
    sv_ctx ctx;
    svL_ctx(L, &ctx, threads);
    double base_auc;
    if (sv_forest_importance_permutation(f, X->data, X->nrow, X->ncol, y, &po, &ctx, mean, sd,
                                         &base_auc, &err) != SV_OK)
        return svL_engine_error(L, fname, &err);
    push_named(L, f, mean);
    push_named(L, f, sd);
    lua_pushnumber(L, base_auc);
    return 3;
}

/* f:save(path) */
static int f_save(lua_State *L)
{
    svL_forest *u = svL_checkforest(L, 1);
    const char *path = luaL_checkstring(L, 2);
    ensure_oob(L, 1, "forest.save"); /* the file keeps the OOB predictions */
    sv_err err;
    if (sv_forest_save(u->f, path, &err) != SV_OK) return svL_engine_error(L, "forest.save", &err);
    return 0;
}

/* f:export_json(path) */
static int f_export_json(lua_State *L)
{
    svL_forest *u = svL_checkforest(L, 1);
    const char *path = luaL_checkstring(L, 2);
    sv_err err;
    if (sv_forest_export_json(u->f, path, &err) != SV_OK)
        return svL_engine_error(L, "forest.export_json", &err);
    return 0;
}

/* sv.forest.load(path) -> Forest, or SurvivalForest for a survival file */
static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    svL_forest *u = newforest(L);
    sv_err err;
    sv_forest *f = NULL;
    sv_survforest *sf = NULL;
    if (sv_forest_load_any(path, &f, &sf, &err) != SV_OK)
        return svL_engine_error(L, "forest.load", &err);
    if (sf) {
        svL_push_survforest(L, sf);
        return 1;
    }
    u->f = f;
    return 1;
}

static int f_ntrees(lua_State *L)
{
    lua_pushinteger(L, svL_checkforest(L, 1)->f->n_trees);
    return 1;
}

/* f:features() -> array of feature names */
static int f_features(lua_State *L)
{
    const sv_forest *f = svL_checkforest(L, 1)->f;
    lua_createtable(L, f->n_features, 0);
    for (int32_t j = 0; j < f->n_features; j++) {
        lua_pushstring(L, f->feature_names[j]);
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

/* f:tree(k) -> {feature=, threshold=, left=, right=, value=, cover=,
 * impurity=} with 1-based k; node arrays are Lua arrays indexed from 1 by
 * node id + 1, feature and children kept 0-based as in export_json. */
void svL_pushtree(lua_State *L, const sv_tree *t)
{
    lua_createtable(L, 0, 7);
    struct { const char *name; int kind; } fields[] = {
        {"feature", 0}, {"threshold", 1}, {"left", 2}, {"right", 3},
        {"value", 4}, {"cover", 5}, {"impurity", 6}};
    for (int fi = 0; fi < 7; fi++) {
        lua_createtable(L, t->n_nodes, 0);
        for (int32_t i = 0; i < t->n_nodes; i++) {
            switch (fields[fi].kind) {
            case 0: lua_pushinteger(L, t->feature[i]); break;
            case 1: lua_pushnumber(L, t->threshold[i]); break;
            case 2: lua_pushinteger(L, t->left[i]); break;
            case 3: lua_pushinteger(L, t->right[i]); break;
            case 4:
                if (t->n_values == 1) {
                    lua_pushnumber(L, t->value[i]);
                } else {
                    lua_createtable(L, t->n_values, 0);
                    for (int32_t c = 0; c < t->n_values; c++) {
                        lua_pushnumber(L, t->value[(size_t)i * (size_t)t->n_values + (size_t)c]);
                        lua_rawseti(L, -2, c + 1);
                    }
                }
                break;
            case 5: lua_pushnumber(L, t->cover[i]); break;
            default: lua_pushnumber(L, t->impurity[i]); break;
            }
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, fields[fi].name);
    }
}

static int f_tree(lua_State *L)
{
    const sv_forest *f = svL_checkforest(L, 1)->f;
    lua_Integer k = luaL_checkinteger(L, 2);
    luaL_argcheck(L, k >= 1 && k <= f->n_trees, 2, "tree index out of range");
    svL_pushtree(L, &f->trees[k - 1]);
    return 1;
}

/* f:classes() -> the class labels, in class order */
static int f_classes(lua_State *L)
{
    const sv_forest *f = svL_checkforest(L, 1)->f;
    if (f->kind != SV_TREE_CLASSIFICATION) return luaL_error(L, "forest.classes: a %s forest has no classes",
                                                             f->kind == SV_TREE_REGRESSION ? "regression" : "survival");
    int32_t K = f->n_classes < 2 ? 2 : f->n_classes;
    lua_createtable(L, K, 0);
    for (int32_t k = 0; k < K; k++) {
        push_label(L, f, k);
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

/* f:kind() -> "classification" | "regression" | "survival" */
static int f_kind(lua_State *L)
{
    const sv_forest *f = svL_checkforest(L, 1)->f;
    static const char *const kinds[] = {"classification", "regression", "survival"};
    lua_pushstring(L, kinds[f->kind >= 0 && f->kind <= 2 ? f->kind : 0]);
    return 1;
}

static int f_tostring(lua_State *L)
{
    svL_forest *u = luaL_checkudata(L, 1, SV_FOREST_MT);
    if (!u->f) {
        lua_pushstring(L, "Forest (closed)");
        return 1;
    }
    int dmin, dmax;
    double dmean;
    size_t leaves;
    sv_forest_depth_stats(u->f, &dmin, &dmean, &dmax, &leaves);
    lua_pushfstring(L, "Forest: %d trees, %d features, depth %d..%d (mean %f), %d leaves",
                    (int)u->f->n_trees, (int)u->f->n_features, dmin, dmax, dmean, (int)leaves);
    return 1;
}

/* __gc and __close: idempotent. */
static int f_close(lua_State *L)
{
    svL_forest *u = luaL_checkudata(L, 1, SV_FOREST_MT);
    sv_forest_free(u->f);
    u->f = NULL;
    return 0;
}

static const luaL_Reg methods[] = {
    {"predict", f_predict}, {"oob_predict", f_oob_predict},
    {"importance", f_importance}, {"save", f_save},
    {"export_json", f_export_json}, {"ntrees", f_ntrees},
    {"features", f_features}, {"tree", f_tree}, {"close", f_close},
    {"classes", f_classes}, {"kind", f_kind},
    {NULL, NULL}};
static const luaL_Reg meta[] = {
    {"__gc", f_close}, {"__close", f_close}, {"__tostring", f_tostring},
    {NULL, NULL}};
static const luaL_Reg funcs[] = {{"train", l_train}, {"regress", l_regress}, {"load", l_load},
                                 {NULL, NULL}};

int luaopen_sylva_forest(lua_State *L)
{
    luaL_newmetatable(L, SV_FOREST_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
