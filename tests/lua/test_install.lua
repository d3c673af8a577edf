-- `make install PREFIX=...` (cmake --install of this build into a scratch
-- prefix), then: a stock lua5.4 loads the installed sylva.so through
-- package.cpath and uses it; the installed `sylva` loads LuaFileSystem.
local T = require "testing"

local build = assert(os.getenv("SYLVA_BUILD"), "SYLVA_BUILD not set")
local prefix = T.tmp .. "/install"

local function sh(cmd)
  local p = assert(io.popen("( " .. cmd .. " ) 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

T.test("cmake --install puts the binary, the module and the scripts under PREFIX", function()
  sh(("rm -rf %q"):format(prefix))
  local out, code = sh(("cmake --install %q --prefix %q"):format(build, prefix))
  T.eq(code, 0, out)
  T.ok(exists(prefix .. "/bin/sylva"), "bin/sylva")
  T.ok(exists(prefix .. "/lib/lua/5.4/sylva.so"), "lib/lua/5.4/sylva.so")
  T.ok(exists(prefix .. "/share/lua/5.4/sylva/help.lua"), "share/lua/5.4/sylva/help.lua")
  T.ok(exists(prefix .. "/share/lua/5.4/sylva/forest.lua"), "the sylva.forest stub")
end)

T.test("sylva.so is not linked against liblua (a Lua module, not a program)", function()
  local out = sh(("readelf -d %q"):format(prefix .. "/lib/lua/5.4/sylva.so"))
  if not out:find("NEEDED", 1, true) then
    print("skipping: readelf not available")
    return
  end
  T.ok(not out:lower():find("liblua", 1, true), out)
end)

local env = ("LUA_CPATH=%q LUA_PATH=%q"):format(
  prefix .. "/lib/lua/5.4/?.so;;", prefix .. "/share/lua/5.4/?.lua;;")

-- A sanitizer build (make test SANITIZE=1): an uninstrumented lua5.4 can
-- only load the instrumented sylva.so with the ASan runtime preloaded.
local needed = sh(("readelf -d %q"):format(build .. "/sylva.so"))
if needed:find("libasan", 1, true) then
  local asan = sh("gcc -print-file-name=libasan.so"):gsub("%s+$", "")
  local ubsan = sh("gcc -print-file-name=libubsan.so"):gsub("%s+$", "")
  env = ("LD_PRELOAD=%q ASAN_OPTIONS=detect_leaks=0 %s"):format(asan .. ":" .. ubsan, env)
end

local has_lua = sh("command -v lua5.4") ~= ""
if not has_lua then
  print("skipping the stock lua5.4 tests: lua5.4 not found")
else
  T.test("a stock lua5.4 requires the installed sylva and reads a CSV", function()
    local script = T.tmp .. "/stock.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local sv = require "sylva"
local d = sv.read_csv(arg[1])
local age = d:col("age")
print(sv.version(), d:nrow(), d:ncol(), age[1], getmetatable(age).__name)
print(require("sylva.forest") == sv.forest, type(sv.forest.train))
]])
    f:close()
    local out, code = sh(("%s lua5.4 %q %q"):format(env, script, T.root .. "/tests/fixtures/data/gbsg.csv"))
    T.eq(code, 0, out)
    -- gbsg: 686 x 11, first age 49
    T.ok(out:find("\t686\t11\t49.0\tsylva.Vector\n", 1, true), out)
    T.ok(out:find("true\tfunction", 1, true), out)
  end)

  T.test("a stock lua5.4: require 'sylva.forest' first gives the same table as sv.forest", function()
    local out, code = sh(("%s lua5.4 -e %q"):format(env,
      'local f = require "sylva.forest"; local sv = require "sylva"; print(f == sv.forest)'))
    T.eq(code, 0, out)
    T.eq(out, "true\n")
  end)
end

T.test("the installed sylva loads LuaFileSystem with require 'lfs'", function()
  local out, code = sh(("%q -e %q"):format(prefix .. "/bin/sylva",
    'local lfs = require "lfs"; print(lfs.attributes("/", "mode"), type(require("sylva").read_csv))'))
  T.eq(code, 0, out)
  T.eq(out, "directory\tfunction\n")
end)

-- LuaRocks (issue 19 item 4): `luarocks make` of a clean copy of the
-- tracked sources into a fresh tree, then a stock lua5.4 with only that
-- tree's paths requires sylva. Skipped under the sanitizers (a stock lua5.4
-- cannot load an instrumented module without preloading) and when luarocks
-- or git is missing.
local rockspec = (function()
  local p = io.popen(("ls %q/*.rockspec 2>/dev/null"):format(T.root))
  local r = p:read("l")
  p:close()
  return r
end)()
if needed:find("libasan", 1, true) then
  print("skipping the luarocks test under the sanitizers")
elseif sh("command -v luarocks") == "" or sh("command -v git") == "" or not has_lua then
  print("skipping the luarocks test: luarocks, git or lua5.4 not found")
elseif not rockspec then
  error("no rockspec in the source tree")
else
  T.test("luarocks make builds and installs sylva into a clean tree; a stock lua5.4 loads it", function()
    local src, tree = T.tmp .. "/rock-src", T.tmp .. "/rock-tree"
    sh(("rm -rf %q %q && mkdir -p %q"):format(src, tree, src))
    -- the tracked files only (a fresh clone's contents, without build dirs)
    local out, code = sh(("cd %q && git ls-files -z | xargs -0 tar -cf - | tar -C %q -xf -"):format(T.root, src))
    T.eq(code, 0, out)
    out, code = sh(("cd %q && CMAKE_BUILD_PARALLEL_LEVEL=2 luarocks --lua-version=5.4 make --tree=%q --deps-mode=none %q"):format(
      src, tree, rockspec:match("[^/]+$")))
    T.eq(code, 0, out)
    T.ok(exists(tree .. "/lib/lua/5.4/sylva.so"), "sylva.so in the tree\n" .. out)
    T.ok(exists(tree .. "/share/lua/5.4/sylva/forest.lua"), "the Lua files in the tree")
    T.ok(exists(tree .. "/bin/sylva"), "the sylva executable in the tree")
    -- only the tree's paths (and the system's, for Debian's lfs)
    local script = T.tmp .. "/rock.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local sv = require "sylva"
local d = sv.read_csv(arg[1])
print(package.searchpath("sylva", package.cpath), d:nrow(), require("sylva.forest") == sv.forest)
]])
    f:close()
    out, code = sh(("eval \"$(luarocks --lua-version=5.4 --tree=%q path)\" && lua5.4 %q %q"):format(
      tree, script, T.root .. "/tests/fixtures/data/gbsg.csv"))
    T.eq(code, 0, out)
    T.ok(out:find(tree .. "/lib/lua/5.4/sylva.so\t686\ttrue", 1, true), out)
  end)
end

T.done()
