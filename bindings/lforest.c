/*
 * lforest.c - the sv.forest module (filled in by its issue).
 */
#include "lsylva.h"

static const luaL_Reg funcs[] = {{NULL, NULL}};

int luaopen_sylva_forest(lua_State *L)
{
    luaL_newlib(L, funcs);
    return 1;
}
