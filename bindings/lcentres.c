/*
 * lcentres.c - the C part of sv.centres (scripts/centres.lua): the
 * standardised mean difference between two groups (docs/centres.md).
 */
#include "../engine/sv_shift.h"
#include "lsylva.h"

/* sv._centres.smd(x1, x2 [, binary]) -> number */
static int l_smd(lua_State *L)
{
    size_t n1, n2;
    const double *x1 = svL_checkvector(L, 1, &n1);
    const double *x2 = svL_checkvector(L, 2, &n2);
    int binary = lua_toboolean(L, 3);
    double d;
    sv_err e;
    if (sv_smd(x1, n1, x2, n2, binary, &d, &e)) return svL_engine_error(L, "centres.smd", &e);
    lua_pushnumber(L, d);
    return 1;
}

static const luaL_Reg funcs[] = {{"smd", l_smd}, {NULL, NULL}};

int luaopen_sylva_centres(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
