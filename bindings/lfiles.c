/*
 * lfiles.c - small file utilities for reports and provenance:
 * sv.sha256(s), sv.sha256_file(path), sv.write_atomic(path, s).
 */
#define _POSIX_C_SOURCE 200809L
#include "lsylva.h"
#include "../engine/sv_io.h"
#include "../engine/sv_sha256.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* sv.sha256(s) -> lower-case hex digest of the string s */
static int l_sha256(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    sv_sha256 h;
    unsigned char d[32];
    char hex[65];
    sv_sha256_init(&h);
    sv_sha256_update(&h, s, n);
    sv_sha256_final(&h, d);
    sv_sha256_hex(d, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* sv.sha256_file(path) -> hex digest of the file's bytes */
static int l_sha256_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "rb");
    if (!f) return luaL_error(L, "sha256_file: cannot open '%s': %s", path, strerror(errno));
    sv_sha256 h;
    unsigned char buf[65536], d[32];
    char hex[65];
    sv_sha256_init(&h);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sv_sha256_update(&h, buf, n);
    int bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) return luaL_error(L, "sha256_file: cannot read '%s': %s", path, strerror(e));
    sv_sha256_final(&h, d);
    sv_sha256_hex(d, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* sv.write_atomic(path, s): writes s to a temporary file beside path,
 * syncs it and renames it over path; on failure path is untouched and the
 * error names the path and the reason. */
static int l_write_atomic(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    sv_atomic_file af;
    sv_err err;
    sv_err_clear(&err);
    if (sv_atomic_open(&af, path, &err) != SV_OK) return svL_engine_error(L, "write_atomic", &err);
    /* mkstemp creates the file 0600; a report is an ordinary file, so it
     * gets the permissions fopen would give it (0666 less the umask). */
    mode_t um = umask(0);
    umask(um);
    (void)fchmod(fileno(af.fp), 0666 & ~um);
    if (n && fwrite(s, 1, n, af.fp) != n) {
        int e = errno;
        sv_atomic_abort(&af);
        return luaL_error(L, "write_atomic: cannot write '%s': %s", path, strerror(e));
    }
    if (sv_atomic_commit(&af, &err) != SV_OK) return svL_engine_error(L, "write_atomic", &err);
    return 0;
}

static const luaL_Reg files_funcs[] = {
    {"sha256", l_sha256}, {"sha256_file", l_sha256_file},
    {"write_atomic", l_write_atomic}, {NULL, NULL}};

/* Adds the functions to the sv table on top of the stack. */
int svL_open_files(lua_State *L)
{
    luaL_setfuncs(L, files_funcs, 0);
    return 0;
}
