/*
 * lglm.c - the sv.glm module: logistic regression as R's
 * glm(family = binomial) (engine/sv_glm.h, docs/validation.md).
 *
 * sv.glm.logistic(X, y [, opts]) returns a plain table (coef, se, z, p,
 * deviance, ...) whose metatable gives it m:predict(X [, opts]).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/sv_glm.h"
#include "lsylva.h"

#define GLM_MODEL_MT "sylva.GlmModel"

static void check_finite(lua_State *L, int arg, const svL_matrix *X)
{
    for (size_t i = 0; i < X->nrow * X->ncol; i++)
        if (!isfinite(X->data[i])) {
            const char *m = lua_pushfstring(L, "%s at row %d, column %d",
                                            isnan(X->data[i]) ? "NaN" : "infinite value",
                                            (int)(i % X->nrow) + 1, (int)(i / X->nrow) + 1);
            luaL_argerror(L, arg, m);
        }
}

/* A per-row vector option (offset, weights) of n values, or NULL. The
 * converted vector is left on the stack for the duration of the call. */
static const double *opt_rows(lua_State *L, int arg, const char *fname, const char *key,
                              size_t n)
{
    if (svL_opt_get(L, arg, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!lua_istable(L, -1) && !svL_testvector(L, -1))
        svL_opt_error(L, fname, key, "expected a Vector or an array of numbers");
    size_t len;
    const double *v = svL_checkvector(L, lua_gettop(L), &len);
    if (len != n) {
        lua_pushfstring(L, "has %d values, X has %d rows", (int)len, (int)n);
        svL_opt_error(L, fname, key, lua_tostring(L, -1));
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            lua_pushfstring(L, "element %d is not finite", (int)i + 1);
            svL_opt_error(L, fname, key, lua_tostring(L, -1));
        }
    return v;
}

static void set_vec(lua_State *L, const char *k, const double *v, size_t n)
{
    double *d = svL_newvector(L, n);
    memcpy(d, v, n * sizeof *d);
    lua_setfield(L, -2, k);
}

static void push_warning(lua_State *L, int warnings, const char *fname, const char *msg)
{
    lua_pushstring(L, msg);
    lua_rawseti(L, warnings, (lua_Integer)luaL_len(L, warnings) + 1);
    fprintf(stderr, "%s: warning: %s\n", fname, msg);
}

/* sv.glm.logistic(X, y [, opts]) */
static int l_logistic(lua_State *L)
{
    static const char *const allowed[] = {"intercept", "offset", "weights", "epsilon",
                                          "max_iter",  "strict", NULL};
    const char *fname = "glm.logistic";
    lua_settop(L, 3);
    svL_matrix *X = svL_checkmatrix(L, 1);
    size_t n = X->nrow, p = X->ncol;
    size_t ny;
    const double *y = svL_checkvector(L, 2, &ny);
    if (n == 0) luaL_argerror(L, 1, "X has no rows");
    if (ny != n) {
        const char *m = lua_pushfstring(L, "y has %d values, X has %d rows", (int)ny, (int)n);
        luaL_argerror(L, 2, m);
    }
    check_finite(L, 1, X);
    size_t n1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0.0 && y[i] != 1.0) {
            const char *m = lua_pushfstring(L, "y must hold 0 or 1, element %d is %f", (int)i + 1, y[i]);
            luaL_argerror(L, 2, m);
        }
        n1 += y[i] == 1.0;
    }
    svL_checkopts(L, 3, fname, allowed);
    sv_glm_opts o;
    sv_glm_opts_default(&o);
    o.intercept = svL_opt_bool(L, 3, fname, "intercept", 1);
    o.epsilon = svL_opt_num(L, 3, fname, "epsilon", SV_GLM_EPSILON, 1e-300, 1);
    if (!(o.epsilon > 0)) svL_opt_error(L, fname, "epsilon", "must be > 0");
    o.max_iter = (int)svL_opt_int(L, 3, fname, "max_iter", SV_GLM_MAX_ITER, 1, 100000);
    int strict = svL_opt_bool(L, 3, fname, "strict", 1);
    o.offset = opt_rows(L, 3, fname, "offset", n);
    o.weights = opt_rows(L, 3, fname, "weights", n);
    if (o.weights)
        for (size_t i = 0; i < n; i++)
            if (o.weights[i] < 0) {
                lua_pushfstring(L, "element %d is negative", (int)i + 1);
                svL_opt_error(L, fname, "weights", lua_tostring(L, -1));
            }
    if (n1 == 0 || n1 == n)
        luaL_argerror(L, 2, n1 == 0 ? "y holds only class 0: both classes are needed"
                                    : "y holds only class 1: both classes are needed");

    size_t ki = o.intercept ? 1 : 0, k = p + ki;
    if (k == 0) luaL_argerror(L, 1, "X has no columns and there is no intercept");
    double *buf = svL_newvector(L, 4 * k + k * k + n);
    sv_glm_result r;
    memset(&r, 0, sizeof r);
    r.coef = buf, r.se = buf + k, r.z = buf + 2 * k, r.pval = buf + 3 * k, r.cov = buf + 4 * k;
    r.fitted = buf + 4 * k + k * k;
    sv_err err;
    if (sv_glm_logistic(X->data, n, p, y, &o, &r, &err)) return svL_engine_error(L, fname, &err);

    if (strict && !r.converged)
        return luaL_error(L,
                          "%s: the fit did not converge in %d iterations (max_iter); the "
                          "coefficients are not maximum-likelihood estimates (pass strict = "
                          "false to get them with a warning)",
                          fname, r.iter);
    if (strict && r.separation)
        return luaL_error(L,
                          "%s: fitted probabilities numerically 0 or 1 (%d rows, the first row "
                          "%d): the predictors separate the outcome completely or "
                          "quasi-completely, so the maximum-likelihood coefficients are "
                          "infinite; remove or combine the separating predictors, or pass "
                          "strict = false to get the finite iterate with a warning",
                          fname, (int)r.n_extreme, (int)r.first_extreme + 1);

    lua_createtable(L, 0, 24);
    int res = lua_gettop(L);
    /* names: "(Intercept)" then the matrix's names, else x1..xp */
    lua_createtable(L, (int)k, 0);
    int names = lua_gettop(L);
    if (ki) {
        lua_pushstring(L, "(Intercept)");
        lua_rawseti(L, names, 1);
    }
    svL_matrix_pushnames(L, 1);
    int has = lua_istable(L, -1);
    for (size_t j = 0; j < p; j++) {
        if (has) lua_rawgeti(L, -1, (lua_Integer)j + 1);
        if (!has || !lua_isstring(L, -1)) {
            if (has) lua_pop(L, 1);
            lua_pushfstring(L, "x%d", (int)j + 1);
        }
        lua_rawseti(L, names, (lua_Integer)(ki + j + 1));
    }
    lua_pop(L, 1);
    lua_setfield(L, res, "names");
    set_vec(L, "coef", r.coef, k);
    set_vec(L, "se", r.se, k);
    set_vec(L, "z", r.z, k);
    set_vec(L, "p", r.pval, k);
    svL_matrix *V = svL_newmatrix(L, k, k);
    memcpy(V->data, r.cov, k * k * sizeof *V->data);
    lua_setfield(L, res, "var");
    set_vec(L, "fitted", r.fitted, n);
    svL_setnum(L, "deviance", r.deviance);
    svL_setnum(L, "null_deviance", r.null_deviance);
    svL_setnum(L, "aic", r.aic);
    svL_setnum(L, "loglik", r.loglik);
    svL_setnum(L, "df_residual", r.df_residual);
    svL_setnum(L, "df_null", r.df_null);
    lua_pushinteger(L, r.iter);
    lua_setfield(L, res, "iter");
    lua_pushboolean(L, r.converged);
    lua_setfield(L, res, "converged");
    lua_pushboolean(L, r.separation);
    lua_setfield(L, res, "separation");
    lua_pushboolean(L, o.intercept);
    lua_setfield(L, res, "intercept");
    lua_pushinteger(L, (lua_Integer)n);
    lua_setfield(L, res, "n");
    lua_pushinteger(L, (lua_Integer)p);
    lua_setfield(L, res, "nfeatures");
    lua_newtable(L);
    int warnings = lua_gettop(L);
    if (!r.converged) {
        lua_pushfstring(L, "the fit did not converge in %d iterations", r.iter);
        push_warning(L, warnings, fname, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    if (r.n_extreme > 0) {
        lua_pushfstring(L, "fitted probabilities numerically 0 or 1 occurred (%d rows)%s",
                        (int)r.n_extreme,
                        r.separation ? ": complete or quasi-complete separation"
                                     : "; the fit converged to finite coefficients");
        push_warning(L, warnings, fname, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_setfield(L, res, "warnings");
    luaL_setmetatable(L, GLM_MODEL_MT);
    return 1;
}

/* m:predict(X [, {type = "response" | "link", offset =}]) -> Vector */
static int m_predict(lua_State *L)
{
    static const char *const allowed[] = {"type", "offset", NULL};
    static const char *const types[] = {"response", "link", NULL};
    const char *fname = "glm.predict";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 3);
    svL_matrix *X = svL_checkmatrix(L, 2);
    svL_checkopts(L, 3, fname, allowed);
    int link = svL_opt_enum(L, 3, fname, "type", 0, types);
    lua_getfield(L, 1, "nfeatures");
    lua_Integer p = lua_tointeger(L, -1);
    lua_getfield(L, 1, "intercept");
    int intercept = lua_toboolean(L, -1);
    lua_getfield(L, 1, "coef");
    size_t nc;
    const double *coef = svL_checkvector(L, lua_gettop(L), &nc);
    if (nc != (size_t)p + (intercept ? 1 : 0)) return luaL_error(L, "%s: the model's coef was altered", fname);
    if (X->ncol != (size_t)p && X->nrow > 0) {
        const char *m = lua_pushfstring(L, "X has %d columns, the model was fitted on %d",
                                        (int)X->ncol, (int)p);
        luaL_argerror(L, 2, m);
    }
    check_finite(L, 2, X);
    const double *offset = opt_rows(L, 3, fname, "offset", X->nrow);
    double *out = svL_newvector(L, X->nrow);
    sv_glm_predict(X->data, X->nrow, (size_t)p, coef, intercept, offset, link, out);
    return 1;
}

/* sv.glm.from_coef({coef =, intercept = true, names =}) -> a model with
 * m:predict, from stored coefficients (intercept first), as a model bundle
 * keeps a logistic model */
static int l_from_coef(lua_State *L)
{
    static const char *const allowed[] = {"coef", "intercept", "names", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    svL_checkopts(L, 1, "glm.from_coef", allowed);
    lua_getfield(L, 1, "intercept");
    int intercept = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "coef");
    if (!lua_istable(L, -1)) return luaL_error(L, "glm.from_coef: coef must be an array of numbers");
    lua_Integer nc = luaL_len(L, -1);
    if (nc < 1 + intercept) return luaL_error(L, "glm.from_coef: coef has %d values, too few", (int)nc);
    double *c = svL_newvector(L, (size_t)nc);
    for (lua_Integer i = 1; i <= nc; i++) {
        lua_geti(L, -2, i);
        int isnum;
        double v = lua_tonumberx(L, -1, &isnum);
        if (!isnum || !isfinite(v))
            return luaL_error(L, "glm.from_coef: coef[%d] is not a finite number", (int)i);
        c[i - 1] = v;
        lua_pop(L, 1);
    }
    lua_createtable(L, 0, 4);
    lua_insert(L, -2);
    lua_setfield(L, -2, "coef");
    lua_pushboolean(L, intercept);
    lua_setfield(L, -2, "intercept");
    lua_pushinteger(L, nc - (intercept ? 1 : 0));
    lua_setfield(L, -2, "nfeatures");
    lua_getfield(L, 1, "names");
    lua_setfield(L, -2, "names");
    lua_remove(L, -2); /* the coef array */
    luaL_setmetatable(L, GLM_MODEL_MT);
    return 1;
}

static const luaL_Reg funcs[] = {{"logistic", l_logistic}, {"from_coef", l_from_coef}, {NULL, NULL}};
static const luaL_Reg methods[] = {{"predict", m_predict}, {NULL, NULL}};

int luaopen_sylva_glm(lua_State *L)
{
    if (luaL_newmetatable(L, GLM_MODEL_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushstring(L, "GlmModel");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
