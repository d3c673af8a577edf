-- LuaRocks build of sylva: `luarocks make` in a checkout builds sylva.so
-- (and the sylva executable) with CMake and installs them into the rocks
-- tree, so that a stock lua5.4 can `require "sylva"`. The C libraries come
-- from Debian (`make deps` installs them: tools/deps.sh); LuaRocks is only
-- the Lua-side installer. `make install` is the other way in.
rockspec_format = "3.0"
package = "sylva"
version = "0.1.0-1"
source = {
  url = "git+file://.", -- `luarocks make` builds the checkout it runs in
}
description = {
  summary = "Interpretable machine learning and survival statistics for clinical studies",
  detailed = [[
A C engine with a Lua 5.4 API: random forests (binary, multiclass,
regression) with exact TreeSHAP, survival statistics equal to R's
survival package, diagnostic statistics equal to pROC, validation,
several-centre analysis, reports and publication figures.]],
}
dependencies = {
  "lua >= 5.4, < 5.5",
  "luafilesystem",
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    SYLVA_TESTS = "OFF",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    SYLVA_INSTALL_BINDIR = "$(BINDIR)",
    SYLVA_INSTALL_CMODDIR = "$(LIBDIR)",
    SYLVA_INSTALL_LMODDIR = "$(LUADIR)",
  },
}
