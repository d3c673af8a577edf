/*
 * ldata.c - the Vector and Matrix types, sv.vector, sv.matrix, sv.rng and
 * sv.clock.
 */
#include "lsylva.h"
#include "../engine/sv_rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- Vector -------------------------------------------------------- */

static svL_vector *checkvec(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SV_VECTOR_MT);
}

static int vec_index(lua_State *L)
{
    svL_vector *v = checkvec(L, 1);
    int isint = 0;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (isint) {
        if (i >= 1 && (size_t)i <= v->n) lua_pushnumber(L, v->data[i - 1]);
        else lua_pushnil(L);
        return 1;
    }
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int vec_newindex(lua_State *L)
{
    svL_vector *v = checkvec(L, 1);
    int isint = 0;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (!isint || i < 1 || (size_t)i > v->n)
        return luaL_error(L, "Vector index %s out of range [1, %d]",
                          luaL_tolstring(L, 2, NULL), (int)v->n);
    v->data[i - 1] = luaL_checknumber(L, 3);
    return 0;
}

static int vec_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkvec(L, 1)->n);
    return 1;
}

static void add_number(luaL_Buffer *b, double x)
{
    char buf[32];
    if (isnan(x)) snprintf(buf, sizeof buf, "NaN");
    else snprintf(buf, sizeof buf, "%.6g", x);
    luaL_addstring(b, buf);
}

static int vec_tostring(lua_State *L)
{
    svL_vector *v = checkvec(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char head[64];
    snprintf(head, sizeof head, "Vector(%zu) [", v->n);
    luaL_addstring(&b, head);
    size_t show = v->n <= 10 ? v->n : 8;
    for (size_t i = 0; i < show; i++) {
        if (i) luaL_addstring(&b, ", ");
        add_number(&b, v->data[i]);
    }
    if (show < v->n) {
        luaL_addstring(&b, ", ..., ");
        add_number(&b, v->data[v->n - 1]);
    }
    luaL_addchar(&b, ']');
    luaL_pushresult(&b);
    return 1;
}

static int vec_totable(lua_State *L)
{
    svL_vector *v = checkvec(L, 1);
    lua_createtable(L, (int)v->n, 0);
    for (size_t i = 0; i < v->n; i++) {
        lua_pushnumber(L, v->data[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int vec_copy(lua_State *L)
{
    svL_vector *v = checkvec(L, 1);
    double *d = svL_newvector(L, v->n);
    if (v->n) memcpy(d, v->data, v->n * sizeof *d);
    return 1;
}

static int vec_eq(lua_State *L)
{
    svL_vector *a = svL_testvector(L, 1), *b = svL_testvector(L, 2);
    int eq = a && b && a->n == b->n;
    for (size_t i = 0; eq && i < a->n; i++) eq = a->data[i] == b->data[i];
    lua_pushboolean(L, eq);
    return 1;
}

/* ---- Matrix -------------------------------------------------------- */

static svL_matrix *checkmat(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SV_MATRIX_MT);
}

static size_t checkrow(lua_State *L, svL_matrix *m, int arg)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || (size_t)i > m->nrow) {
        const char *msg = lua_pushfstring(L, "row %I out of range [1, %d]", i, (int)m->nrow);
        luaL_argerror(L, arg, msg);
    }
    return (size_t)i - 1;
}

/* A column by number or by name. */
static size_t checkcol(lua_State *L, svL_matrix *m, int arg)
{
    if (lua_type(L, arg) == LUA_TSTRING) {
        const char *name = lua_tostring(L, arg);
        svL_matrix_pushnames(L, 1);
        if (lua_istable(L, -1)) {
            for (size_t j = 0; j < m->ncol; j++) {
                lua_geti(L, -1, (lua_Integer)j + 1);
                int same = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), name) == 0;
                lua_pop(L, 1);
                if (same) {
                    lua_pop(L, 1);
                    return j;
                }
            }
        }
        const char *msg = lua_pushfstring(L, "no column named '%s'", name);
        luaL_argerror(L, arg, msg);
    }
    lua_Integer j = luaL_checkinteger(L, arg);
    if (j < 1 || (size_t)j > m->ncol) {
        const char *msg = lua_pushfstring(L, "column %I out of range [1, %d]", j, (int)m->ncol);
        luaL_argerror(L, arg, msg);
    }
    return (size_t)j - 1;
}

static int mat_nrow(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkmat(L, 1)->nrow);
    return 1;
}

static int mat_ncol(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkmat(L, 1)->ncol);
    return 1;
}

static int mat_get(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    size_t i = checkrow(L, m, 2), j = checkcol(L, m, 3);
    lua_pushnumber(L, m->data[j * m->nrow + i]);
    return 1;
}

static int mat_set(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    size_t i = checkrow(L, m, 2), j = checkcol(L, m, 3);
    m->data[j * m->nrow + i] = luaL_checknumber(L, 4);
    return 0;
}

static int mat_row(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    size_t i = checkrow(L, m, 2);
    double *d = svL_newvector(L, m->ncol);
    for (size_t j = 0; j < m->ncol; j++) d[j] = m->data[j * m->nrow + i];
    return 1;
}

static int mat_col(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    size_t j = checkcol(L, m, 2);
    double *d = svL_newvector(L, m->nrow);
    if (m->nrow) memcpy(d, m->data + j * m->nrow, m->nrow * sizeof *d);
    return 1;
}

static int mat_names(lua_State *L)
{
    checkmat(L, 1);
    svL_matrix_pushnames(L, 1);
    if (lua_isnil(L, -1)) return 1;
    /* A copy, so that callers cannot change the matrix's names. */
    lua_Integer n = luaL_len(L, -1);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer k = 1; k <= n; k++) {
        lua_geti(L, -2, k);
        lua_rawseti(L, -2, k);
    }
    return 1;
}

static int mat_totable(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    lua_createtable(L, (int)m->nrow, 0);
    for (size_t i = 0; i < m->nrow; i++) {
        lua_createtable(L, (int)m->ncol, 0);
        for (size_t j = 0; j < m->ncol; j++) {
            lua_pushnumber(L, m->data[j * m->nrow + i]);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* m:rows(idx) -> a new Matrix of the listed rows (1-based), same names. */
static int mat_rows(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t k = (size_t)luaL_len(L, 2);
    svL_matrix *r = svL_newmatrix(L, k, m->ncol);
    for (size_t a = 0; a < k; a++) {
        lua_geti(L, 2, (lua_Integer)a + 1);
        int isint = 0;
        lua_Integer i = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint || i < 1 || (size_t)i > m->nrow) {
            const char *msg = lua_pushfstring(L, "index %d is not a row in [1, %d]", (int)a + 1, (int)m->nrow);
            return luaL_argerror(L, 2, msg);
        }
        for (size_t j = 0; j < m->ncol; j++)
            r->data[j * k + a] = m->data[j * m->nrow + (size_t)(i - 1)];
    }
    svL_matrix_pushnames(L, 1);
    svL_matrix_setnames(L, -2);
    return 1;
}

/* m:cols(list) -> a new Matrix of the listed columns (numbers or names). */
static int mat_cols(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t k = (size_t)luaL_len(L, 2);
    svL_matrix *r = svL_newmatrix(L, m->nrow, k);
    int ridx = lua_gettop(L);
    lua_createtable(L, (int)k, 0);
    int nidx = lua_gettop(L);
    svL_matrix_pushnames(L, 1);
    int oldnames = lua_gettop(L);
    for (size_t a = 0; a < k; a++) {
        lua_geti(L, 2, (lua_Integer)a + 1);
        size_t j = checkcol(L, m, lua_gettop(L));
        lua_pop(L, 1);
        memcpy(r->data + a * m->nrow, m->data + j * m->nrow, m->nrow * sizeof(double));
        if (lua_istable(L, oldnames)) lua_geti(L, oldnames, (lua_Integer)j + 1);
        else lua_pushfstring(L, "V%d", (int)j + 1);
        lua_rawseti(L, nidx, (lua_Integer)a + 1);
    }
    lua_settop(L, nidx);
    svL_matrix_setnames(L, ridx);
    return 1;
}

static int mat_tostring(lua_State *L)
{
    svL_matrix *m = checkmat(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char head[96];
    snprintf(head, sizeof head, "Matrix(%zu x %zu)", m->nrow, m->ncol);
    luaL_addstring(&b, head);
    size_t showc = m->ncol <= 8 ? m->ncol : 8;
    svL_matrix_pushnames(L, 1);
    int names = lua_gettop(L);
    if (lua_istable(L, names)) {
        luaL_addstring(&b, "\n ");
        for (size_t j = 0; j < showc; j++) {
            lua_geti(L, names, (lua_Integer)j + 1);
            char cell[16];
            snprintf(cell, sizeof cell, " %10.10s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
            luaL_addstring(&b, cell);
        }
    }
    size_t showr = m->nrow <= 6 ? m->nrow : 5;
    for (size_t i = 0; i < showr; i++) {
        luaL_addstring(&b, "\n ");
        for (size_t j = 0; j < showc; j++) {
            char cell[32];
            snprintf(cell, sizeof cell, " %10.4g", m->data[j * m->nrow + i]);
            luaL_addstring(&b, cell);
        }
        if (showc < m->ncol) luaL_addstring(&b, " ...");
    }
    if (showr < m->nrow) luaL_addstring(&b, "\n  ...");
    luaL_pushresult(&b);
    return 1;
}

/* sv.vector(array) -> Vector */
static int l_vector(lua_State *L)
{
    size_t n;
    if (svL_testvector(L, 1)) return vec_copy(L);
    svL_checkvector(L, 1, &n);
    lua_settop(L, 1);
    return 1;
}

/* sv.matrix(rows [, names]) -> Matrix (a copy when rows is a Matrix) */
static int l_matrix(lua_State *L)
{
    svL_matrix *m = svL_testmatrix(L, 1);
    if (m) {
        svL_matrix *c = svL_newmatrix(L, m->nrow, m->ncol);
        if (m->nrow != 0 && m->ncol != 0)
            memcpy(c->data, m->data, m->nrow * m->ncol * sizeof(double));
        svL_matrix_pushnames(L, 1);
        svL_matrix_setnames(L, -2);
        lua_replace(L, 1);
        m = c;
    } else {
        m = svL_checkmatrix(L, 1);
    }
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        if ((size_t)luaL_len(L, 2) != m->ncol) {
            const char *msg = lua_pushfstring(L, "%d names for %d columns",
                                              (int)luaL_len(L, 2), (int)m->ncol);
            return luaL_argerror(L, 2, msg);
        }
        lua_createtable(L, (int)m->ncol, 0);
        for (size_t j = 0; j < m->ncol; j++) {
            if (lua_geti(L, 2, (lua_Integer)j + 1) != LUA_TSTRING) {
                const char *msg = lua_pushfstring(L, "name %d is not a string", (int)j + 1);
                return luaL_argerror(L, 2, msg);
            }
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        svL_matrix_setnames(L, 1);
    }
    lua_pushvalue(L, 1);
    return 1;
}

static int l_clock(lua_State *L)
{
    lua_pushnumber(L, sv_clock());
    return 1;
}

/* ---- rng ------------------------------------------------------------ */

#define SV_RNG_MT "sylva.Rng"

static sv_rng *checkrng(lua_State *L)
{
    return luaL_checkudata(L, 1, SV_RNG_MT);
}

/* sv.rng(seed [, stream]) */
static int l_rng(lua_State *L)
{
    lua_Integer seed = luaL_checkinteger(L, 1);
    lua_Integer stream = luaL_optinteger(L, 2, 0);
    sv_rng *r = lua_newuserdatauv(L, sizeof *r, 0);
    sv_rng_init(r, (uint64_t)seed, (uint64_t)stream);
    luaL_setmetatable(L, SV_RNG_MT);
    return 1;
}

/* r:uniform() in [0,1); r:uniform(a, b) in [a, b) */
static int rng_uniform(lua_State *L)
{
    sv_rng *r = checkrng(L);
    double u = sv_rng_uniform(r);
    if (lua_gettop(L) >= 2) {
        double a = luaL_checknumber(L, 2), b = luaL_checknumber(L, 3);
        u = a + (b - a) * u;
    }
    lua_pushnumber(L, u);
    return 1;
}

/* r:normal([mean [, sd]]) */
static int rng_normal(lua_State *L)
{
    sv_rng *r = checkrng(L);
    double mean = luaL_optnumber(L, 2, 0.0), sd = luaL_optnumber(L, 3, 1.0);
    lua_pushnumber(L, mean + sd * sv_rng_normal(r));
    return 1;
}

/* r:integer(lo, hi): uniform in [lo, hi], both inclusive, like math.random */
static int rng_integer(lua_State *L)
{
    sv_rng *r = checkrng(L);
    lua_Integer lo = luaL_checkinteger(L, 2), hi = luaL_checkinteger(L, 3);
    luaL_argcheck(L, lo <= hi, 3, "interval is empty");
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t k = span == UINT64_MAX ? sv_rng_u64(r) : sv_rng_below(r, span + 1);
    lua_pushinteger(L, (lua_Integer)((uint64_t)lo + k));
    return 1;
}

/* r:u64() -> the next raw 64-bit output, as a (wrapping) Lua integer */
static int rng_u64(lua_State *L)
{
    sv_rng *r = checkrng(L);
    lua_pushinteger(L, (lua_Integer)sv_rng_u64(r));
    return 1;
}

/* r:shuffle(t): shuffles the Lua array t in place, returns t */
static int rng_shuffle(lua_State *L)
{
    sv_rng *r = checkrng(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    for (lua_Integer i = 1; i < n; i++) {
        lua_Integer j = i + (lua_Integer)sv_rng_below(r, (uint64_t)(n - i + 1));
        lua_geti(L, 2, i);
        lua_geti(L, 2, j);
        lua_seti(L, 2, i);
        lua_seti(L, 2, j);
    }
    lua_settop(L, 2);
    return 1;
}

/* r:sample(n, k) -> k distinct integers of 1..n in draw order;
 * r:sample(t, k) -> k distinct elements of the array t. */
static int rng_sample(lua_State *L)
{
    sv_rng *r = checkrng(L);
    int from_table = lua_istable(L, 2);
    lua_Integer n = from_table ? luaL_len(L, 2) : luaL_checkinteger(L, 2);
    lua_Integer k = luaL_checkinteger(L, 3);
    luaL_argcheck(L, n >= 0, 2, "must be >= 0");
    luaL_argcheck(L, k >= 0 && k <= n, 3, "sample size must be in [0, n]");
    luaL_argcheck(L, n <= 0x7fffffff, 2, "population too large");
    uint32_t *idx = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *idx, 0);
    for (lua_Integer i = 0; i < n; i++) idx[i] = (uint32_t)i;
    sv_rng_partial_shuffle_u32(r, idx, (size_t)n, (size_t)k);
    lua_createtable(L, (int)k, 0);
    for (lua_Integer i = 0; i < k; i++) {
        if (from_table) lua_geti(L, 2, (lua_Integer)idx[i] + 1);
        else lua_pushinteger(L, (lua_Integer)idx[i] + 1);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int rng_tostring(lua_State *L)
{
    checkrng(L);
    lua_pushstring(L, "Rng (xoshiro256**)");
    return 1;
}

/* ---- registration ---------------------------------------------------- */

static const luaL_Reg vec_methods[] = {
    {"totable", vec_totable}, {"copy", vec_copy}, {NULL, NULL}};
static const luaL_Reg vec_meta[] = {
    {"__index", vec_index}, {"__newindex", vec_newindex}, {"__len", vec_len},
    {"__tostring", vec_tostring}, {"__eq", vec_eq}, {NULL, NULL}};
static const luaL_Reg mat_methods[] = {
    {"nrow", mat_nrow}, {"ncol", mat_ncol}, {"get", mat_get}, {"set", mat_set},
    {"row", mat_row}, {"col", mat_col}, {"names", mat_names},
    {"totable", mat_totable}, {"rows", mat_rows}, {"cols", mat_cols},
    {NULL, NULL}};
static const luaL_Reg mat_meta[] = {{"__tostring", mat_tostring}, {NULL, NULL}};
static const luaL_Reg rng_methods[] = {
    {"uniform", rng_uniform}, {"normal", rng_normal}, {"integer", rng_integer},
    {"shuffle", rng_shuffle}, {"sample", rng_sample}, {"u64", rng_u64},
    {NULL, NULL}};
static const luaL_Reg data_funcs[] = {
    {"vector", l_vector}, {"matrix", l_matrix}, {"clock", l_clock},
    {"rng", l_rng}, {"progress", svL_progress_set}, {NULL, NULL}};

/* Adds the functions of data_funcs to the sv table on top of the stack. */
int svL_open_data(lua_State *L)
{
    luaL_newmetatable(L, SV_VECTOR_MT);
    luaL_setfuncs(L, vec_meta, 0);
    luaL_newlib(L, vec_methods);
    lua_setfield(L, -2, "__methods");
    lua_pop(L, 1);

    luaL_newmetatable(L, SV_MATRIX_MT);
    luaL_setfuncs(L, mat_meta, 0);
    luaL_newlib(L, mat_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newmetatable(L, SV_RNG_MT);
    lua_pushcfunction(L, rng_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newlib(L, rng_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_setfuncs(L, data_funcs, 0);
    return 0;
}
