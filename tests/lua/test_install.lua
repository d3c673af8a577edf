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

T.done()
