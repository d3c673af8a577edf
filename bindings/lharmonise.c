/*
 * lharmonise.c - the sv.harmonise module: ComBat harmonisation fitted on
 * training rows and applied to any rows later (docs/centres.md). The
 * fitted object is a Combat userdata: the engine's parameters plus, as its
 * user value, the batch labels in code order.
 */
#include <string.h>

#include "../engine/sv_combat.h"
#include "lsylva.h"

#define SV_COMBAT_MT "sylva.Combat"

typedef struct svL_combat {
    sv_combat *c;
} svL_combat;

static svL_combat *check_combat(lua_State *L, int idx)
{
    svL_combat *u = luaL_checkudata(L, idx, SV_COMBAT_MT);
    if (!u->c) luaL_argerror(L, idx, "the Combat object is closed");
    return u;
}

/* A label: a string or a number (as read from a CSV column). */
static int is_label(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNUMBER) {
        lua_Number x = lua_tonumber(L, idx);
        return x == x;
    }
    return t == LUA_TSTRING;
}

/*
 * Reads the batch labels of argument arg (n of them) into codes[]: labels
 * already in the array at `labels` (absolute index) keep their code; new
 * ones are appended to it. Returns the number of labels added.
 */
static size_t read_batches(lua_State *L, int arg, size_t n, int labels, int *codes)
{
    if (lua_type(L, arg) != LUA_TTABLE) {
        if (svL_testvector(L, arg)) {
            /* numeric codes as a Vector: turn into a table of numbers */
            size_t len;
            const double *v = svL_checkvector(L, arg, &len);
            lua_createtable(L, (int)len, 0);
            for (size_t i = 0; i < len; i++) {
                lua_pushnumber(L, v[i]);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
            }
            lua_replace(L, arg);
        } else {
            luaL_typeerror(L, arg, "array of batch labels");
        }
    }
    size_t len = lua_rawlen(L, arg);
    if (len != n) {
        const char *msg = lua_pushfstring(L, "has %d labels, X has %d rows", (int)len, (int)n);
        luaL_argerror(L, arg, msg);
    }
    /* label -> code lookup */
    lua_newtable(L);
    int look = lua_gettop(L);
    size_t have = lua_rawlen(L, labels);
    for (size_t k = 1; k <= have; k++) {
        lua_rawgeti(L, labels, (lua_Integer)k);
        lua_pushinteger(L, (lua_Integer)k - 1);
        lua_rawset(L, look);
    }
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, arg, (lua_Integer)i + 1);
        if (!is_label(L, -1)) {
            const char *msg = lua_pushfstring(L, "element %d is %s, expected a batch label (string or number)",
                                              (int)i + 1, luaL_typename(L, -1));
            luaL_argerror(L, arg, msg);
        }
        lua_pushvalue(L, -1);
        lua_rawget(L, look);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_Integer code = (lua_Integer)(have + added);
            lua_pushvalue(L, -1);
            lua_rawseti(L, labels, code + 1);
            lua_pushinteger(L, code);
            lua_rawset(L, look); /* pops the label copy and the code */
            codes[i] = (int)code;
            added++;
        } else {
            codes[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1); /* look */
    return added;
}

static const char *label_text(lua_State *L, int labels, size_t code)
{
    lua_rawgeti(L, labels, (lua_Integer)code + 1);
    const char *s = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return s; /* left on the stack */
}

/* sv.harmonise.combat(X, batch [, {ref =, mean_only = false}]) */
static int l_combat(lua_State *L)
{
    static const char *const allowed[] = {"ref", "mean_only", NULL};
    svL_matrix *X = svL_checkmatrix(L, 1);
    svL_checkopts(L, 3, "harmonise.combat", allowed);
    int mean_only = svL_opt_bool(L, 3, "harmonise.combat", "mean_only", 0);
    if (X->nrow == 0) luaL_argerror(L, 1, "X has no rows");
    int *codes = lua_newuserdatauv(L, X->nrow * sizeof *codes, 0);
    lua_newtable(L);
    int labels = lua_gettop(L);
    size_t nb = read_batches(L, 2, X->nrow, labels, codes);
    int ref = -1;
    if (svL_opt_get(L, 3, "ref") != LUA_TNIL) {
        if (!is_label(L, -1)) svL_opt_error(L, "harmonise.combat", "ref", "a batch label expected");
        for (size_t k = 0; k < nb && ref < 0; k++) {
            lua_rawgeti(L, labels, (lua_Integer)k + 1);
            if (lua_rawequal(L, -1, -2)) ref = (int)k;
            lua_pop(L, 1);
        }
        if (ref < 0) {
            const char *msg = lua_pushfstring(L, "'%s' is not one of the %d batches",
                                              luaL_tolstring(L, -1, NULL), (int)nb);
            svL_opt_error(L, "harmonise.combat", "ref", msg);
        }
    }
    lua_pop(L, 1);
    sv_combat_opts o;
    sv_combat_opts_default(&o);
    o.mean_only = mean_only, o.ref = ref;
    svL_combat *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->c = NULL;
    luaL_setmetatable(L, SV_COMBAT_MT);
    sv_err e;
    if (sv_combat_fit(X->data, X->nrow, X->ncol, codes, nb, &o, &u->c, &e))
        return svL_engine_error(L, "harmonise.combat", &e);
    lua_pushvalue(L, labels);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

/* h:apply(X, batch) -> Matrix */
static int m_apply(lua_State *L)
{
    svL_combat *u = check_combat(L, 1);
    svL_matrix *X = svL_checkmatrix(L, 2);
    if (X->ncol != u->c->p) {
        const char *msg = lua_pushfstring(L, "X has %d columns, the harmonisation was fitted on %d",
                                          (int)X->ncol, (int)u->c->p);
        luaL_argerror(L, 2, msg);
    }
    int *codes = lua_newuserdatauv(L, (X->nrow ? X->nrow : 1) * sizeof *codes, 0);
    /* a copy of the labels: unseen ones are appended for this call only */
    lua_newtable(L);
    int labels = lua_gettop(L);
    lua_getiuservalue(L, 1, 1);
    size_t nb = lua_rawlen(L, -1);
    for (size_t k = 1; k <= nb; k++) {
        lua_rawgeti(L, -1, (lua_Integer)k);
        lua_rawseti(L, labels, (lua_Integer)k);
    }
    lua_pop(L, 1);
    size_t n_new = read_batches(L, 3, X->nrow, labels, codes);
    if (n_new > 0 && u->c->ref < 0) {
        const char *lab = label_text(L, labels, nb);
        const char *msg = lua_pushfstring(
            L, "batch '%s' was not seen in fitting; fit with a reference batch (ref =) to adjust new "
               "batches onto it",
            lab);
        luaL_argerror(L, 3, msg);
    }
    svL_matrix *out = svL_newmatrix(L, X->nrow, X->ncol);
    int oidx = lua_gettop(L);
    svL_matrix_pushnames(L, 2);
    if (!lua_isnil(L, -1))
        svL_matrix_setnames(L, oidx);
    else
        lua_pop(L, 1);
    sv_err e;
    if (sv_combat_apply(u->c, X->data, X->nrow, X->ncol, codes, n_new, out->data, &e))
        return svL_engine_error(L, "apply", &e);
    return 1;
}

/* h:batches() -> the labels seen in fitting, in code order */
static int m_batches(lua_State *L)
{
    check_combat(L, 1);
    lua_getiuservalue(L, 1, 1);
    size_t nb = lua_rawlen(L, -1);
    lua_createtable(L, (int)nb, 0);
    for (size_t k = 1; k <= nb; k++) {
        lua_rawgeti(L, -2, (lua_Integer)k);
        lua_rawseti(L, -2, (lua_Integer)k);
    }
    return 1;
}

/* h:params() -> {stand_mean =, var_pooled =, gamma = {per batch}, delta =, kept =} */
static int m_params(lua_State *L)
{
    svL_combat *u = check_combat(L, 1);
    const sv_combat *c = u->c;
    lua_createtable(L, 0, 6);
    double *v = svL_newvector(L, c->p);
    memcpy(v, c->stand_mean, c->p * sizeof *v);
    lua_setfield(L, -2, "stand_mean");
    v = svL_newvector(L, c->p);
    memcpy(v, c->var_pooled, c->p * sizeof *v);
    lua_setfield(L, -2, "var_pooled");
    const char *names[2] = {"gamma", "delta"};
    const double *src[2] = {c->gamma_star, c->delta_star};
    for (int t = 0; t < 2; t++) {
        lua_createtable(L, (int)c->n_batches, 0);
        for (size_t b = 0; b < c->n_batches; b++) {
            v = svL_newvector(L, c->p);
            memcpy(v, src[t] + b * c->p, c->p * sizeof *v);
            lua_rawseti(L, -2, (lua_Integer)b + 1);
        }
        lua_setfield(L, -2, names[t]);
    }
    lua_createtable(L, (int)c->p, 0);
    for (size_t g = 0; g < c->p; g++) {
        lua_pushboolean(L, c->kept[g]);
        lua_rawseti(L, -2, (lua_Integer)g + 1);
    }
    lua_setfield(L, -2, "kept");
    lua_pushboolean(L, c->mean_only);
    lua_setfield(L, -2, "mean_only");
    return 1;
}

static int m_tostring(lua_State *L)
{
    svL_combat *u = luaL_checkudata(L, 1, SV_COMBAT_MT);
    if (!u->c) {
        lua_pushstring(L, "Combat (closed)");
        return 1;
    }
    lua_pushfstring(L, "Combat: %d batches, %d features%s%s", (int)u->c->n_batches, (int)u->c->p,
                    u->c->mean_only ? ", mean only" : "",
                    u->c->ref >= 0 ? ", with a reference batch" : "");
    return 1;
}

/* __gc and __close: idempotent. */
static int m_close(lua_State *L)
{
    svL_combat *u = luaL_checkudata(L, 1, SV_COMBAT_MT);
    sv_combat_free(u->c);
    u->c = NULL;
    return 0;
}

static const luaL_Reg methods[] = {{"apply", m_apply},
                                   {"batches", m_batches},
                                   {"params", m_params},
                                   {"close", m_close},
                                   {NULL, NULL}};
static const luaL_Reg metamethods[] = {
    {"__gc", m_close}, {"__close", m_close}, {"__tostring", m_tostring}, {NULL, NULL}};
static const luaL_Reg funcs[] = {{"combat", l_combat}, {NULL, NULL}};

int luaopen_sylva_harmonise(lua_State *L)
{
    luaL_newmetatable(L, SV_COMBAT_MT);
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
