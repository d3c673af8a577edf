/*
 * lshap.c - the sv.shap module: exact TreeSHAP values, interaction values
 * and interventional values of a Forest, or of a SurvivalForest's risk or
 * (`time`) cumulative hazard at a time (engine/shap.c), and two helpers
 * for reading them: importance (mean |SHAP| ranking) and dependence.
 * Documented in docs/shap.md.
 */
#include "lsylva.h"
#include "../engine/sv_forest.h"
#include "../engine/sv_shap.h"
#include "../engine/sv_survforest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SV_SHAP_INTER_MT "sylva.ShapInteractions"

/* Pushes the feature names for the result: the forest's, else X's, else
 * nil. */
static void push_names(lua_State *L, const sv_forest *f, int xarg)
{
    if (f->feature_names) {
        lua_createtable(L, f->n_features, 0);
        for (int32_t j = 0; j < f->n_features; j++) {
            lua_pushstring(L, f->feature_names[j] ? f->feature_names[j] : "");
            lua_rawseti(L, -2, j + 1);
        }
        return;
    }
    svL_matrix_pushnames(L, xarg);
}

/* The model explained: a Forest, or a SurvivalForest (its trees hold
 * mortalities, so the values explain its risk, sf:predict). */
static const sv_forest *check_model(lua_State *L, int arg)
{
    const sv_forest *f = svL_testsurvforest(L, arg);
    return f ? f : svL_checkforest(L, arg)->f;
}

static int to_matrix(lua_State *L)
{
    svL_checkmatrix(L, 1);
    return 1;
}

static const char *const tree_opts[] = {"threads", "algorithm", "background", "class", "time",
                                        NULL};

/* The `time` option: 1 with *t set when given (a survival forest only, the
 * model at arg 1), else 0. */
static int opt_time(lua_State *L, int arg, const char *fname, double *t)
{
    if (svL_opt_get(L, arg, "time") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pop(L, 1);
    if (!svL_testsurvforest_sf(L, 1))
        svL_opt_error(L, fname, "time", "only a survival forest takes a time");
    *t = svL_opt_num(L, arg, fname, "time", 0, -HUGE_VAL, HUGE_VAL);
    return 1;
}

/* The game at time t of the survival forest at arg 1: its cumulative
 * hazard at t (sv_survforest_time_view), values or interactions. */
static sv_status run_time(lua_State *L, double t, const double *X, size_t n,
                          const sv_shap_opts *opts, const sv_ctx *ctx, int interactions,
                          double *out, double *base, sv_err *err)
{
    sv_forest *view;
    sv_status st = sv_survforest_time_view(svL_testsurvforest_sf(L, 1), t, &view, err);
    if (st != SV_OK) return st;
    st = interactions ? sv_shap_interactions(view, X, n, opts, ctx, out, base, err)
                      : sv_shap_values(view, X, n, opts, ctx, out, base, err);
    sv_forest_view_free(view);
    return st;
}

/* The `class` option: -1 when absent, else the 0-based class of a forest
 * of K > 2 classes (1-based in Lua, in f:classes() order). */
static int32_t opt_class(lua_State *L, int arg, const char *fname, const sv_forest *f)
{
    if (svL_opt_get(L, arg, "class") == LUA_TNIL) {
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    int32_t K = sv_forest_n_outputs(f);
    if (K == 1) svL_opt_error(L, fname, "class", "only a forest of more than 2 classes takes a class");
    return (int32_t)svL_opt_int(L, arg, fname, "class", 1, 1, K) - 1;
}
static const char *const algorithms[] = {"auto", "linear", "reference", "table", NULL};

/* sv.shap.tree(f, X [, {threads=0, algorithm="auto", background=B, class=k, time=t}])
 * -> phi, base */
static int l_tree(lua_State *L)
{
    const char *fname = "shap.tree";
    const sv_forest *f = check_model(L, 1);
    svL_matrix *X = svL_checkforestX(L, 2, f);
    svL_checkopts(L, 3, fname, tree_opts);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);
    int alg = svL_opt_enum(L, 3, fname, "algorithm", 0, algorithms);
    sv_shap_opts opts;
    sv_shap_opts_default(&opts);
    opts.algorithm = alg == 1   ? SV_SHAP_LINEAR
                     : alg == 2 ? SV_SHAP_REFERENCE
                     : alg == 3 ? SV_SHAP_TABLE
                                : SV_SHAP_AUTO;
    lua_settop(L, 3);
    if (svL_opt_get(L, 3, "background") != LUA_TNIL) { /* slot 4 */
        lua_pushcfunction(L, to_matrix);
        lua_insert(L, 4);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            /* keep the reason, drop the inner "bad argument #1 to '?' (...)" */
            const char *msg = lua_tostring(L, -1);
            const char *open = msg ? strchr(msg, '(') : NULL;
            if (open && strncmp(msg, "bad argument", 12) == 0) {
                lua_pushlstring(L, open + 1, strlen(open + 1) - 1);
                msg = lua_tostring(L, -1);
            }
            svL_opt_error(L, fname, "background", msg ? msg : "not a matrix");
        }
        svL_matrix *B = lua_touserdata(L, 4);
        if (B->ncol != (size_t)f->n_features) {
            const char *msg = lua_pushfstring(L, "has %d columns, the forest has %d features",
                                              (int)B->ncol, (int)f->n_features);
            svL_opt_error(L, fname, "background", msg);
        }
        if (B->nrow == 0) svL_opt_error(L, fname, "background", "has no rows");
        for (size_t k = 0; k < B->nrow * B->ncol; k++)
            if (isnan(B->data[k])) svL_opt_error(L, fname, "background", "contains NaN");
        opts.background = B->data;
        opts.n_background = B->nrow;
    }
    int32_t cls = opt_class(L, 3, fname, f);
    double t;
    if (opt_time(L, 3, fname, &t)) {
        svL_matrix *phi = svL_newmatrix(L, X->nrow, X->ncol);
        int phi_idx = lua_gettop(L);
        sv_ctx ctx;
        svL_ctx(L, &ctx, threads);
        sv_err err;
        double base = 0;
        if (run_time(L, t, X->data, X->nrow, &opts, &ctx, 0, phi->data, &base, &err) != SV_OK)
            return svL_engine_error(L, fname, &err);
        push_names(L, f, 2);
        svL_matrix_setnames(L, phi_idx);
        lua_pushvalue(L, phi_idx);
        lua_pushnumber(L, base);
        return 2;
    }
    int32_t K = sv_forest_n_outputs(f);
    /* K > 2 classes without `class`: arrays of K phi and K bases */
    int all = K > 1 && cls < 0;
    if (all) {
        lua_createtable(L, K, 0);
        lua_createtable(L, K, 0);
    }
    int arrays = lua_gettop(L) - 1;
    for (int32_t k = all ? 0 : cls; k < (all ? K : cls + 1); k++) {
        svL_matrix *phi = svL_newmatrix(L, X->nrow, X->ncol);
        int phi_idx = lua_gettop(L);
        sv_ctx ctx;
        svL_ctx(L, &ctx, threads);
        sv_err err;
        double base = 0;
        opts.class_index = k < 0 ? 0 : k;
        if (sv_shap_values(f, X->data, X->nrow, &opts, &ctx, phi->data, &base, &err) != SV_OK)
            return svL_engine_error(L, fname, &err);
        push_names(L, f, 2);
        svL_matrix_setnames(L, phi_idx);
        if (!all) {
            lua_pushvalue(L, phi_idx);
            lua_pushnumber(L, base);
            return 2;
        }
        lua_rawseti(L, arrays, k + 1);
        lua_pushnumber(L, base);
        lua_rawseti(L, arrays + 1, k + 1);
    }
    return 2;
}

/* ---- interaction values ------------------------------------------------ */

/* n rows of p x p matrices: value (i, j, k) at data[(i * p + k) * p + j]
 * (0-based). Feature names in user value 1. */
typedef struct shap_inter {
    size_t n, p;
    double base;
    double data[];
} shap_inter;

static shap_inter *check_inter(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SV_SHAP_INTER_MT);
}

static size_t check_index(lua_State *L, int arg, size_t n, const char *what)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || (lua_Integer)n < i) {
        const char *msg = lua_pushfstring(L, "%s %I out of range [1, %d]", what, i, (int)n);
        luaL_argerror(L, arg, msg);
    }
    return (size_t)(i - 1);
}

/* I:get(i, j, k) */
static int inter_get(lua_State *L)
{
    shap_inter *s = check_inter(L, 1);
    size_t i = check_index(L, 2, s->n, "row");
    size_t j = check_index(L, 3, s->p, "feature");
    size_t k = check_index(L, 4, s->p, "feature");
    lua_pushnumber(L, s->data[(i * s->p + k) * s->p + j]);
    return 1;
}

/* I:row(i) -> p x p Matrix with the feature names */
static int inter_row(lua_State *L)
{
    shap_inter *s = check_inter(L, 1);
    size_t i = check_index(L, 2, s->n, "row");
    svL_matrix *m = svL_newmatrix(L, s->p, s->p);
    memcpy(m->data, s->data + i * s->p * s->p, s->p * s->p * sizeof(double));
    lua_getiuservalue(L, 1, 1);
    svL_matrix_setnames(L, -2);
    return 1;
}

/* I:values() -> n x p Matrix of SHAP values (the row sums) */
static int inter_values(lua_State *L)
{
    shap_inter *s = check_inter(L, 1);
    svL_matrix *m = svL_newmatrix(L, s->n, s->p);
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->p; j++) {
            double a = 0;
            for (size_t k = 0; k < s->p; k++) a += s->data[(i * s->p + k) * s->p + j];
            m->data[j * s->n + i] = a;
        }
    lua_getiuservalue(L, 1, 1);
    svL_matrix_setnames(L, -2);
    return 1;
}

/* I:totable() -> t[i][j][k] */
static int inter_totable(lua_State *L)
{
    shap_inter *s = check_inter(L, 1);
    lua_createtable(L, (int)s->n, 0);
    for (size_t i = 0; i < s->n; i++) {
        lua_createtable(L, (int)s->p, 0);
        for (size_t j = 0; j < s->p; j++) {
            lua_createtable(L, (int)s->p, 0);
            for (size_t k = 0; k < s->p; k++) {
                lua_pushnumber(L, s->data[(i * s->p + k) * s->p + j]);
                lua_rawseti(L, -2, (lua_Integer)k + 1);
            }
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int inter_nrow(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_inter(L, 1)->n);
    return 1;
}

static int inter_nfeatures(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_inter(L, 1)->p);
    return 1;
}

static int inter_names(lua_State *L)
{
    check_inter(L, 1);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int inter_base(lua_State *L)
{
    lua_pushnumber(L, check_inter(L, 1)->base);
    return 1;
}

static int inter_tostring(lua_State *L)
{
    shap_inter *s = check_inter(L, 1);
    lua_pushfstring(L, "ShapInteractions(%d rows x %d x %d features)", (int)s->n, (int)s->p,
                    (int)s->p);
    return 1;
}

static const char *const inter_opts[] = {"threads", "class", "time", NULL};

/* sv.shap.interactions(f, X [, {threads=0, class=k, time=t}]) -> I, base */
static int l_interactions(lua_State *L)
{
    const char *fname = "shap.interactions";
    const sv_forest *f = check_model(L, 1);
    svL_matrix *X = svL_checkforestX(L, 2, f);
    svL_checkopts(L, 3, fname, inter_opts);
    int threads = (int)svL_opt_int(L, 3, fname, "threads", 0, 0, 4096);
    int32_t cls = opt_class(L, 3, fname, f);
    double t;
    int timed = opt_time(L, 3, fname, &t);
    int32_t K = sv_forest_n_outputs(f);
    int all = K > 1 && cls < 0;
    if (all) {
        lua_settop(L, 3);
        lua_createtable(L, K, 0);
        lua_createtable(L, K, 0);
        for (int32_t k = 0; k < K; k++) {
            lua_pushcfunction(L, l_interactions);
            lua_pushvalue(L, 1);
            lua_pushvalue(L, 2);
            lua_createtable(L, 0, 2);
            lua_pushinteger(L, threads);
            lua_setfield(L, -2, "threads");
            lua_pushinteger(L, k + 1);
            lua_setfield(L, -2, "class");
            lua_call(L, 3, 2);
            lua_rawseti(L, 5, k + 1);
            lua_rawseti(L, 4, k + 1);
        }
        return 2;
    }
    sv_shap_opts so;
    sv_shap_opts_default(&so);
    so.class_index = cls < 0 ? 0 : cls;
    size_t n = X->nrow, p = X->ncol;
    size_t cap = (((size_t)-1) - sizeof(shap_inter)) / sizeof(double);
    if (p != 0 && (p > cap / p || (n != 0 && n > cap / (p * p))))
        return luaL_error(L, "%s: %d rows x %d x %d features is too large", fname, (int)n,
                          (int)p, (int)p);
    shap_inter *s = lua_newuserdatauv(L, sizeof(shap_inter) + n * p * p * sizeof(double), 1);
    int idx = lua_gettop(L);
    s->n = n;
    s->p = p;
    s->base = 0;
    luaL_setmetatable(L, SV_SHAP_INTER_MT);
    push_names(L, f, 2);
    lua_setiuservalue(L, idx, 1);
    sv_ctx ctx;
    svL_ctx(L, &ctx, threads);
    sv_err err;
    if ((timed ? run_time(L, t, X->data, n, &so, &ctx, 1, s->data, &s->base, &err)
               : sv_shap_interactions(f, X->data, n, &so, &ctx, s->data, &s->base, &err)) != SV_OK)
        return svL_engine_error(L, fname, &err);
    lua_pushvalue(L, idx);
    lua_pushnumber(L, s->base);
    return 2;
}

/* ---- helpers: importance and dependence ----------------------------------- */

/* Pushes the name of column j of the matrix at idx (its name, or "j"). */
static void push_colname(lua_State *L, int idx, size_t j)
{
    idx = lua_absindex(L, idx);
    svL_matrix_pushnames(L, idx);
    if (lua_istable(L, -1)) {
        if (lua_geti(L, -1, (lua_Integer)j + 1) == LUA_TSTRING) {
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushfstring(L, "%d", (int)j + 1);
}

/* sv.shap.importance(phi) -> { {name=, value=, index=}, ... } by mean |phi| */
static int l_importance(lua_State *L)
{
    lua_settop(L, 1);
    svL_matrix *phi = svL_checkmatrix(L, 1); /* a converted table stays at 2 */
    size_t p = phi->ncol;
    double *mean_abs = lua_newuserdatauv(L, (p ? p : 1) * (sizeof(double) + sizeof(size_t)), 0);
    size_t *order = (size_t *)(mean_abs + p);
    sv_err err;
    if (sv_shap_importance(phi->data, phi->nrow, p, mean_abs, order, &err) != SV_OK) {
        if (err.status == SV_EINVAL) luaL_argerror(L, 1, "phi contains NaN");
        return svL_engine_error(L, "shap.importance", &err);
    }
    lua_createtable(L, (int)phi->ncol, 0);
    for (size_t k = 0; k < phi->ncol; k++) {
        lua_createtable(L, 0, 3);
        push_colname(L, 1, order[k]);
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, mean_abs[order[k]]);
        lua_setfield(L, -2, "value");
        lua_pushinteger(L, (lua_Integer)order[k] + 1);
        lua_setfield(L, -2, "index");
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

/* Finds a column by name in the names of the matrix at idx; -1 if none. */
static long find_col(lua_State *L, int idx, const char *name)
{
    long found = -1;
    svL_matrix_pushnames(L, idx);
    if (lua_istable(L, -1)) {
        lua_Integer len = luaL_len(L, -1);
        for (lua_Integer k = 1; k <= len && found < 0; k++) {
            if (lua_geti(L, -1, k) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0)
                found = (long)k - 1;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return found;
}

/* sv.shap.dependence(phi, X, feature) -> {name=, index=, x=Vector, shap=Vector} */
static int l_dependence(lua_State *L)
{
    svL_matrix *phi = svL_checkmatrix(L, 1);
    svL_matrix *X = svL_checkmatrix(L, 2);
    if (X->nrow != phi->nrow || X->ncol != phi->ncol) {
        const char *msg = lua_pushfstring(L, "X is %d x %d, phi is %d x %d", (int)X->nrow,
                                          (int)X->ncol, (int)phi->nrow, (int)phi->ncol);
        luaL_argerror(L, 2, msg);
    }
    long j = -1;
    if (lua_type(L, 3) == LUA_TSTRING) {
        const char *name = lua_tostring(L, 3);
        j = find_col(L, 1, name);
        if (j < 0) j = find_col(L, 2, name);
        if (j < 0) {
            const char *msg = lua_pushfstring(L, "no feature named '%s'", name);
            luaL_argerror(L, 3, msg);
        }
    } else if (lua_isinteger(L, 3)) {
        j = (long)check_index(L, 3, phi->ncol, "feature");
    } else {
        luaL_typeerror(L, 3, "feature name or index");
    }
    lua_createtable(L, 0, 4);
    push_colname(L, 1, (size_t)j);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, j + 1);
    lua_setfield(L, -2, "index");
    double *x = svL_newvector(L, X->nrow);
    memcpy(x, X->data + (size_t)j * X->nrow, X->nrow * sizeof *x);
    lua_setfield(L, -2, "x");
    double *s = svL_newvector(L, phi->nrow);
    memcpy(s, phi->data + (size_t)j * phi->nrow, phi->nrow * sizeof *s);
    lua_setfield(L, -2, "shap");
    return 1;
}

static const luaL_Reg inter_methods[] = {
    {"get", inter_get},       {"row", inter_row},     {"values", inter_values},
    {"totable", inter_totable}, {"nrow", inter_nrow}, {"nfeatures", inter_nfeatures},
    {"names", inter_names},   {"base", inter_base},   {NULL, NULL}};

static const luaL_Reg funcs[] = {{"tree", l_tree},
                                 {"interactions", l_interactions},
                                 {"importance", l_importance},
                                 {"dependence", l_dependence},
                                 {NULL, NULL}};

int luaopen_sylva_shap(lua_State *L)
{
    if (luaL_newmetatable(L, SV_SHAP_INTER_MT)) {
        luaL_newlib(L, inter_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, inter_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
