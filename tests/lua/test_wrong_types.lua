-- Every public function called with arguments of wrong types raises a Lua
-- error with a message (docs/errors.md, "Wrong argument types"). The walk
-- runs in a child sylva process (tests/lua/wrong_types_child.lua) so that a
-- crash or a hang is a failure of this test, with the call that caused it.
local T = require "testing"

local bin = os.getenv("SYLVA_BIN") or "sylva"
local child = T.root .. "/tests/lua/wrong_types_child.lua"

T.test("no public function crashes, hangs or gives a message naming nothing on wrong types", function()
  -- In a scratch directory: a number where a path is expected is a valid
  -- path in Lua ("f:save(0)" writes a file named 0), like io.open(0).
  local dir = T.tmp .. "/wrong-types"
  os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))
  local cmd = ("cd %q && timeout -s KILL 300 %q %q 2>&1"):format(dir, bin, child)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok, how, code = p:close()
  local last_call, bads = nil, {}
  for line in out:gmatch("[^\n]+") do
    if line:sub(1, 5) == "CALL " then last_call = line:sub(6)
    elseif line:sub(1, 4) == "BAD " then bads[#bads + 1] = line end
  end
  local walked = out:match("WALKED (%d+) (%d+)")
  if not walked then
    error(("child died (%s %s) during %s\n%s"):format(how, tostring(code),
      tostring(last_call), out:sub(-3000)))
  end
  T.ok(#bads == 0, table.concat(bads, "\n"))
  T.ok(ok, "child exit " .. tostring(code))
  local ncalls, nfun = out:match("WALKED (%d+) (%d+)")
  print(("walked %s calls over %s functions"):format(ncalls, nfun))
  T.ok(tonumber(nfun) >= 10, "the walk found the public functions")
end)

T.test("a child that crashes mid-walk is reported with the call (the test can fail)", function()
  local dir = T.tmp .. "/wrong-types"
  local cmd = ("cd %q && SYLVA_WALK_SELFTEST=crash timeout -s KILL 60 %q %q 2>&1"):format(dir, bin, child)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  T.ok(not ok, "the crashed child's status is a failure")
  T.ok(not out:find("WALKED", 1, true), "the walk did not finish")
  local last
  for call in out:gmatch("CALL ([^\n]+)") do last = call end
  T.eq(last, "selftest.crash()")
end)

T.done()
