/*
 * lsylva.c - luaopen_sylva: builds the `sylva` table from the C modules and
 * makes the Lua-level library (scripts/, embedded at build time) loadable
 * as `require "sylva.<name>"` and reachable as `sv.<name>`.
 */
#include "lsylva.h"

#include <stdio.h>
#include <string.h>

#include "sylva_scripts.h" /* generated: svL_scripts[] */

typedef struct c_module {
    const char *name;
    lua_CFunction open;
} c_module;

static const c_module c_modules[] = {
    {"forest", luaopen_sylva_forest},
    {"_survforest", luaopen_sylva_survforest}, /* adds sv.forest.survival */
    {"shap", luaopen_sylva_shap},
    {"surv", luaopen_sylva_surv},
    {"roc", luaopen_sylva_roc},
    {"stats", luaopen_sylva_stats},
    {"metrics", luaopen_sylva_metrics},
    {"calib", luaopen_sylva_calib},
    {"figure", luaopen_sylva_figure},
    {"glm", luaopen_sylva_glm},
    {"meta", luaopen_sylva_meta},
    {"_validate", luaopen_sylva_validate},
    {"harmonise", luaopen_sylva_harmonise},
    {"_centres", luaopen_sylva_centres},
    {NULL, NULL}};

static const svL_script *find_script(const char *name)
{
    for (const svL_script *s = svL_scripts; s->name; s++)
        if (strcmp(s->name, name) == 0) return s;
    return NULL;
}

/* package.preload loader for an embedded script; upvalue 1 = its name. */
static int load_script(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    const svL_script *s = find_script(name);
    char chunkname[128];
    snprintf(chunkname, sizeof chunkname, "@scripts/%s.lua", name);
    if (luaL_loadbuffer(L, s->source, s->size, chunkname) != LUA_OK)
        return lua_error(L);
    lua_pushfstring(L, "sylva.%s", name);
    lua_call(L, 1, 1);
    return 1;
}

/* sv.<name> for a Lua-level module: required on first use. */
static int sv_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    const char *key = lua_tostring(L, 2);
    if (!find_script(key)) return 0;
    lua_getglobal(L, "require");
    lua_pushfstring(L, "sylva.%s", key);
    lua_call(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

/* require "sylva.docs" -> { {name = "data.md", text = "..."}, ... } */
static int load_docs(lua_State *L)
{
    lua_newtable(L);
    int k = 1;
    for (const svL_script *d = svL_docs; d->name; d++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, d->name);
        lua_setfield(L, -2, "name");
        lua_pushlstring(L, d->source, d->size);
        lua_setfield(L, -2, "text");
        lua_rawseti(L, -2, k++);
    }
    return 1;
}

static int l_version(lua_State *L)
{
    lua_pushstring(L, SV_VERSION_STRING);
    return 1;
}

int luaopen_sylva(lua_State *L)
{
    lua_newtable(L);
    int sv = lua_gettop(L);
    lua_pushstring(L, SV_VERSION_STRING);
    lua_setfield(L, sv, "_VERSION");
    lua_pushcfunction(L, l_version);
    lua_setfield(L, sv, "version");
    svL_open_data(L);
    svL_open_csv(L);
    svL_open_describe(L);
    svL_open_xlsx(L);
    svL_open_files(L);

    /* Visible as package.loaded.sylva before the scripts run, so that
     * they can `require "sylva"` themselves. */
    lua_pushvalue(L, sv);
    lua_setfield(L, LUA_REGISTRYINDEX, "sylva.table");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, sv);
    lua_setfield(L, -2, "sylva");
    lua_pop(L, 1);

    for (const c_module *m = c_modules; m->name; m++) {
        lua_pushcfunction(L, m->open);
        lua_call(L, 0, 1);
        svL_register_submodule(L, sv, m->name);
    }

    /* Lua-level modules: preload loaders, a list of their names, and
     * lazy fields of sv. */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_newtable(L); /* sv._scripts */
    int k = 1;
    for (const svL_script *s = svL_scripts; s->name; s++) {
        char modname[128];
        snprintf(modname, sizeof modname, "sylva.%s", s->name);
        lua_pushstring(L, s->name);
        lua_pushcclosure(L, load_script, 1);
        lua_setfield(L, -3, modname);
        lua_pushstring(L, s->name);
        lua_rawseti(L, -2, k++);
    }
    lua_setfield(L, sv, "_scripts");
    lua_pushcfunction(L, load_docs);
    lua_setfield(L, -2, "sylva.docs");
    lua_pop(L, 1);

    lua_newtable(L);
    lua_pushcfunction(L, sv_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, sv);
    lua_settop(L, sv);
    return 1;
}
