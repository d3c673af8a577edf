/*
 * lroc.c - the sv.roc module (filled in by its issue).
 */
#include "lsylva.h"

static const luaL_Reg funcs[] = {{NULL, NULL}};

int luaopen_sylva_roc(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
