/*
 * lsurvforest.c - sv.forest.survival: random survival forests
 * (engine/forest_surv.c, sv_survforest.h) as a SurvivalForest userdata
 * with predict (risk), oob_predict, chf, survival, oob_concordance,
 * importance, times, nodes, tree, kind. Registered into the sv.forest table when the
 * module opens. See docs/forest.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lsylva.h"
#include "../engine/sv_survforest.h"
#include "../engine/sv_surv.h"

#define SV_SURVFOREST_MT "sylva.SurvivalForest"

/* The userdata: the engine forest (NULL once closed); user values 1..3
 * hold the training X, time and event (for OOB and importance). */
typedef struct svL_survforest {
    sv_survforest *sf;
} svL_survforest;

static svL_survforest *check_sf(lua_State *L, int arg)
{
    svL_survforest *u = luaL_checkudata(L, arg, SV_SURVFOREST_MT);
    if (!u->sf) luaL_argerror(L, arg, "forest is closed");
    return u;
}

struct sv_forest *svL_testsurvforest(lua_State *L, int arg)
{
    svL_survforest *u = luaL_testudata(L, arg, SV_SURVFOREST_MT);
    if (!u) return NULL;
    if (!u->sf) luaL_argerror(L, arg, "forest is closed");
    return u->sf->f;
}

struct sv_survforest *svL_testsurvforest_sf(lua_State *L, int arg)
{
    svL_survforest *u = luaL_testudata(L, arg, SV_SURVFOREST_MT);
    if (!u) return NULL;
    if (!u->sf) luaL_argerror(L, arg, "forest is closed");
    return u->sf;
}

/* X for prediction: a Matrix with the forest's width and finite values. */
static svL_matrix *check_X(lua_State *L, int arg, const sv_survforest *sf)
{
    svL_matrix *X = svL_checkmatrix(L, arg);
    if (X->nrow > 0 && X->ncol != (size_t)sf->f->n_features) {
        const char *m = lua_pushfstring(L, "X has %d columns, the forest was trained on %d",
                                        (int)X->ncol, sf->f->n_features);
        luaL_argerror(L, arg, m);
    }
    svL_checkfinite(L, arg, X);
    return X;
}

static const char *const train_opts[] = {"trees", "mtry", "min_leaf", "max_depth", "bootstrap",
                                         "sample_fraction", "seed", "threads", NULL};

static int l_survival(lua_State *L)
{
    const char *fname = "forest.survival";
    lua_settop(L, 4);
    svL_matrix *X = svL_checkmatrix(L, 1);
    size_t n = X->nrow, p = X->ncol;
    if (n < 2) luaL_argerror(L, 1, "X needs at least 2 rows");
    if (p == 0) luaL_argerror(L, 1, "X has no columns");
    svL_checkfinite(L, 1, X);
    size_t nt, ne;
    const double *time = svL_checkvector(L, 2, &nt);
    const double *event = svL_checkvector(L, 3, &ne);
    if (nt != n) {
        const char *m = lua_pushfstring(L, "time has %d values, X has %d rows", (int)nt, (int)n);
        luaL_argerror(L, 2, m);
    }
    if (ne != n) {
        const char *m = lua_pushfstring(L, "event has %d values, X has %d rows", (int)ne, (int)n);
        luaL_argerror(L, 3, m);
    }
    for (size_t i = 0; i < n; i++) {
        if (!(time[i] > 0) || !isfinite(time[i])) {
            const char *m = lua_pushfstring(L, "time[%d] is %f; times must be finite and > 0",
                                            (int)i + 1, time[i]);
            luaL_argerror(L, 2, m);
        }
        if (!(event[i] == 0 || event[i] == 1)) {
            const char *m = lua_pushfstring(L, "event[%d] is %f; events must be 0 (censored) or 1",
                                            (int)i + 1, event[i]);
            luaL_argerror(L, 3, m);
        }
    }
    svL_checkopts(L, 4, fname, train_opts);
    sv_forest_opts o;
    sv_forest_opts_default(&o);
    o.n_trees = (int32_t)svL_opt_int(L, 4, fname, "trees", SV_FOREST_DEFAULT_TREES, 1, 10000000);
    o.mtry = (int32_t)svL_opt_int(L, 4, fname, "mtry", 0, 0, (lua_Integer)p);
    o.min_leaf = (int32_t)svL_opt_int(L, 4, fname, "min_leaf", SV_SURVFOREST_DEFAULT_MIN_LEAF, 1,
                                      INT32_MAX / 2);
    o.max_depth = (int32_t)svL_opt_int(L, 4, fname, "max_depth", 0, 0, INT32_MAX / 2);
    o.bootstrap = svL_opt_bool(L, 4, fname, "bootstrap", 1);
    /* ranger: sample.fraction 1 with replacement, 0.632 without */
    o.sample_fraction = svL_opt_pos(L, 4, fname, "sample_fraction", o.bootstrap ? 1.0 : 0.632, 1.0);
    o.seed = svL_opt_seed(L, 4, fname);
    int threads = (int)svL_opt_int(L, 4, fname, "threads", 0, 0, 4096);

    /* column names (strings only; others become V<j>) */
    const char **names = NULL;
    svL_matrix_pushnames(L, 1);
    if (lua_type(L, -1) == LUA_TTABLE && (size_t)luaL_len(L, -1) == p) {
        int t = lua_gettop(L);
        names = lua_newuserdatauv(L, p * sizeof *names, 0);
        for (size_t j = 0; j < p; j++) {
            lua_geti(L, t, (lua_Integer)j + 1);
            names[j] = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            lua_pop(L, 1); /* the names table keeps the strings alive */
        }
    }
    svL_survforest *u = lua_newuserdatauv(L, sizeof *u, 3);
    u->sf = NULL;
    luaL_setmetatable(L, SV_SURVFOREST_MT);
    int ud = lua_gettop(L);
    sv_ctx ctx;
    svL_ctx(L, &ctx, threads);
    sv_err err;
    if (sv_survforest_train(X->data, n, p, time, event, names, &o, &ctx, &u->sf, &err))
        return svL_engine_error(L, fname, &err);
    for (int k = 1; k <= 3; k++) {
        lua_pushvalue(L, k);
        lua_setiuservalue(L, ud, k);
    }
    lua_pushvalue(L, ud);
    return 1;
}

static int l_predict(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    svL_matrix *X = check_X(L, 2, u->sf);
    double *out = svL_newvector(L, X->nrow);
    sv_ctx ctx;
    svL_ctx(L, &ctx, 0);
    sv_err err;
    if (sv_forest_predict(u->sf->f, X->data, X->nrow, X->ncol, &ctx, out, &err))
        return svL_engine_error(L, "predict", &err);
    return 1;
}

/* The training X, time, event (user values) with the OOB risk. */
static const double *oob_risk(lua_State *L, svL_survforest *u, svL_matrix **X)
{
    lua_getiuservalue(L, 1, 1);
    *X = svL_testmatrix(L, -1);
    if (!*X) luaL_error(L, "oob_predict: the training data of this forest are not available");
    double *out = svL_newvector(L, (*X)->nrow);
    sv_ctx ctx;
    svL_ctx(L, &ctx, 0);
    sv_err err;
    if (sv_survforest_oob_risk(u->sf, (*X)->data, (*X)->nrow, (*X)->ncol, -1, NULL, &ctx, out, &err))
        svL_engine_error(L, "oob_predict", &err);
    return out;
}

static int l_oob_predict(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    svL_matrix *X;
    oob_risk(L, u, &X);
    return 1;
}

/* Harrell's C of the OOB risk (R's concordance(reverse = TRUE)) over the
 * rows that were out of bag at least once. */
static int l_oob_concordance(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    svL_matrix *X;
    const double *risk = oob_risk(L, u, &X);
    size_t n = X->nrow, nt;
    lua_getiuservalue(L, 1, 2);
    const double *time = svL_checkvector(L, -1, &nt);
    lua_getiuservalue(L, 1, 3);
    const double *event = svL_checkvector(L, -1, &nt);
    double *buf = lua_newuserdatauv(L, 3 * (n ? n : 1) * sizeof(double), 0);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (risk[i] == risk[i]) buf[m] = time[i], buf[n + m] = event[i], buf[2 * n + m] = risk[i], m++;
    sv_concordance_result r;
    sv_err err;
    if (sv_concordance(buf, buf + n, buf + 2 * n, NULL, 0, m, &r, &err))
        return svL_engine_error(L, "oob_concordance", &err);
    lua_pushnumber(L, r.concordance);
    lua_pushinteger(L, (lua_Integer)m);
    return 2;
}

static int chf_common(lua_State *L, int survival)
{
    svL_survforest *u = check_sf(L, 1);
    svL_matrix *X = check_X(L, 2, u->sf);
    size_t m;
    if (lua_type(L, 3) == LUA_TNUMBER) {
        double v = lua_tonumber(L, 3);
        *svL_newvector(L, 1) = v;
        lua_replace(L, 3);
    }
    const double *times = svL_checkvector(L, 3, &m);
    for (size_t q = 0; q < m; q++)
        if (isnan(times[q])) {
            const char *msg = lua_pushfstring(L, "times[%d] is NaN", (int)q + 1);
            luaL_argerror(L, 3, msg);
        }
    svL_matrix *out = svL_newmatrix(L, X->nrow, m);
    sv_ctx ctx;
    svL_ctx(L, &ctx, 0);
    sv_err err;
    if (sv_survforest_chf(u->sf, X->data, X->nrow, X->ncol, times, m, survival, &ctx, out->data,
                          &err))
        return svL_engine_error(L, survival ? "survival" : "chf", &err);
    return 1;
}

static int l_chf(lua_State *L) { return chf_common(L, 0); }
static int l_surv(lua_State *L) { return chf_common(L, 1); }

static int l_times(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    double *v = svL_newvector(L, u->sf->n_times);
    if (u->sf->n_times) memcpy(v, u->sf->times, u->sf->n_times * sizeof *v);
    return 1;
}

/* f:nodes([tree]) -> {{variable =, value =, n =}, ...}: the nodes of one
 * tree (default the first) in preorder, left child first; a leaf has
 * leaf = true and no variable; n is the node's in-bag sample count. */
static int l_nodes(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    lua_Integer t = luaL_optinteger(L, 2, 1);
    if (t < 1 || t > u->sf->f->n_trees) luaL_argerror(L, 2, "no such tree");
    const sv_tree *tr = &u->sf->f->trees[t - 1];
    lua_newtable(L);
    int k = 0;
    for (int32_t i = 0; i < tr->n_nodes; i++) {
        lua_createtable(L, 0, 3);
        if (tr->left[i] < 0) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "leaf");
        } else {
            lua_pushstring(L, u->sf->f->feature_names[tr->feature[i]]);
            lua_setfield(L, -2, "variable");
            lua_pushnumber(L, tr->threshold[i]);
            lua_setfield(L, -2, "value");
        }
        lua_pushnumber(L, tr->cover[i]);
        lua_setfield(L, -2, "n");
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

/* f:tree(k) -> as Forest:tree(k); value is the node's mortality (at an
 * internal node the cover-weighted mean of its children's). */
static int l_tree(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    lua_Integer k = luaL_checkinteger(L, 2);
    luaL_argcheck(L, k >= 1 && k <= u->sf->f->n_trees, 2, "tree index out of range");
    svL_pushtree(L, &u->sf->f->trees[k - 1]);
    return 1;
}

static int l_kind(lua_State *L)
{
    check_sf(L, 1);
    lua_pushliteral(L, "survival");
    return 1;
}

static int l_ntrees(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    lua_pushinteger(L, u->sf->f->n_trees);
    return 1;
}

/* f:importance("permutation" [, {repeats = 5, seed = 1}]) -> {name = C drop},
 * plus the OOB C as the second result. */
static int l_importance(lua_State *L)
{
    static const char *const kinds[] = {"permutation", NULL};
    static const char *const allowed[] = {"repeats", "seed", NULL};
    svL_survforest *u = check_sf(L, 1);
    lua_settop(L, 3);
    luaL_checkoption(L, 2, "permutation", kinds);
    svL_checkopts(L, 3, "importance", allowed);
    int32_t repeats = (int32_t)svL_opt_int(L, 3, "importance", "repeats", 5, 1, 10000);
    uint64_t seed = svL_opt_seed(L, 3, "importance");
    lua_getiuservalue(L, 1, 1);
    svL_matrix *X = svL_testmatrix(L, -1);
    if (!X) return luaL_error(L, "importance: the training data of this forest are not available");
    size_t nt;
    lua_getiuservalue(L, 1, 2);
    const double *time = svL_checkvector(L, -1, &nt);
    lua_getiuservalue(L, 1, 3);
    const double *event = svL_checkvector(L, -1, &nt);
    size_t p = X->ncol;
    double *imp = lua_newuserdatauv(L, p * sizeof *imp, 0);
    double c0;
    sv_ctx ctx;
    svL_ctx(L, &ctx, 0);
    sv_err err;
    if (sv_survforest_importance(u->sf, X->data, X->nrow, p, time, event, repeats, seed, &ctx, imp,
                                 &c0, &err))
        return svL_engine_error(L, "importance", &err);
    lua_createtable(L, 0, (int)p);
    for (size_t j = 0; j < p; j++) {
        lua_pushnumber(L, imp[j]);
        lua_setfield(L, -2, u->sf->f->feature_names[j]);
    }
    lua_pushnumber(L, c0);
    return 2;
}

static int l_close(lua_State *L)
{
    svL_survforest *u = luaL_checkudata(L, 1, SV_SURVFOREST_MT);
    sv_survforest_free(u->sf);
    u->sf = NULL;
    return 0;
}

static int l_tostring(lua_State *L)
{
    svL_survforest *u = luaL_checkudata(L, 1, SV_SURVFOREST_MT);
    if (!u->sf) lua_pushliteral(L, "SurvivalForest (closed)");
    else
        lua_pushfstring(L, "SurvivalForest (%d trees, %d features, %d times)", u->sf->f->n_trees,
                        u->sf->f->n_features, (int)u->sf->n_times);
    return 1;
}

/* f:save(path): the checksummed model file (docs/forest.md); the training
 * data are not saved, so a loaded forest has no OOB or importance. */
static int l_save(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    const char *path = luaL_checkstring(L, 2);
    sv_err err;
    if (sv_survforest_save(u->sf, path, &err) != SV_OK) return svL_engine_error(L, "forest.save", &err);
    return 0;
}

/* f:features() -> array of feature names */
static int l_features(lua_State *L)
{
    svL_survforest *u = check_sf(L, 1);
    const sv_forest *f = u->sf->f;
    lua_createtable(L, f->n_features, 0);
    for (int32_t j = 0; j < f->n_features; j++) {
        lua_pushstring(L, f->feature_names[j]);
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

/* A SurvivalForest userdata owning sf (sv.forest.load of a survival file):
 * no training data in its user values. */
void svL_push_survforest(lua_State *L, struct sv_survforest *sf)
{
    svL_survforest *u = lua_newuserdatauv(L, sizeof *u, 3);
    u->sf = sf;
    luaL_setmetatable(L, SV_SURVFOREST_MT);
}

static const luaL_Reg methods[] = {
    {"predict", l_predict},       {"save", l_save},
    {"features", l_features},       {"oob_predict", l_oob_predict},
    {"oob_concordance", l_oob_concordance},
    {"chf", l_chf},               {"survival", l_surv},
    {"times", l_times},           {"kind", l_kind},
    {"nodes", l_nodes},           {"tree", l_tree},
    {"ntrees", l_ntrees},         {"importance", l_importance},
    {"close", l_close},           {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};

int luaopen_sylva_survforest(lua_State *L)
{
    luaL_newmetatable(L, SV_SURVFOREST_MT);
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    /* sv.forest.survival, beside forest.train */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "sylva.forest") == LUA_TTABLE) {
        lua_pushcfunction(L, l_survival);
        lua_setfield(L, -2, "survival");
    }
    lua_pop(L, 2);
    lua_newtable(L);
    lua_pushcfunction(L, l_survival);
    lua_setfield(L, -2, "survival");
    return 1;
}
