-- The bad-input catalogue (docs/errors.md): one test per entry, named by
-- the entry's id. Each asserts a Lua error (never a crash, a hang or a
-- silently wrong number) whose message names the argument, the option or
-- the file and line. Entries for modules not built yet are skipped with a
-- message. Catastrophic cases (huge allocations) run in a child process,
-- so that an abort is a failure rather than the end of this file.
local T = require "testing"
local sv = require "sylva"

local tmp = T.tmp
local bin = os.getenv("SYLVA_BIN") or "sylva"

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- Runs Lua code in a child sylva; returns ok, output. The child may print
-- "RESULT <text>" lines that the caller checks.
local function child(code)
  local path = write(tmp .. "/errors_child.lua", code)
  local p = assert(io.popen(("ASAN_OPTIONS=allocator_may_return_null=1 timeout -s KILL 120 %q %q 2>&1"):format(bin, path)))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function skip(id, why) print(("skip %s: %s"):format(id, why)) end

-- ---- split / encode (Lua layer) --------------------------------------

T.test("E-SPLIT-N: a row count no array can hold is refused, not allocated", function()
  T.raises(function() sv.split.kfold(math.maxinteger, {k = 5}) end, "too large")
  T.raises(function() sv.split.bootstrap(1 << 40) end, "too large")
end)

T.test("E-SPLIT-TAKE: take with an index outside the rows names the index", function()
  T.raises(function() sv.split.take({1, 2, 3}, {1, 4}) end, "index 2 is 4")
  T.raises(function() sv.split.take({1, 2, 3}, {1.5}) end, "index 1 is 1.5")
  T.raises(function() sv.split.take(nil, {1}) end, "bad argument #1 to 'split.take'")
end)

T.test("E-ENC-COMPLETE: encode.complete on something not encoded says what it wants", function()
  T.raises(function() sv.encode.complete({}) end, "bad argument #1 to 'encode.complete'")
end)

T.test("E-PLOT-TICKS: an absurd tick count is refused, not allocated until the system kills sylva", function()
  T.raises(function() sv.plot.nice_ticks(0, 1, math.maxinteger) end, "tick count")
  T.raises(function() sv.plot.nice_ticks(0 / 0, 1, 5) end, "finite numbers")
  local t = sv.plot.nice_ticks(math.maxinteger, math.maxinteger, 5)
  T.ok(#t >= 2 and #t <= 50, "degenerate range still gives a few ticks")
end)

-- ---- sizes -------------------------------------------------------------

T.test("E-ALLOC: a matrix or vector beyond memory is a Lua error, not an abort", function()
  local ok, out = child([[
    local sv = require "sylva"
    local r = sv.rng(1)
    -- A 2^62-element request overflows the byte count; a 2^40 one fails
    -- in the allocator. Both must come back as Lua errors.
    local ok1, e1 = pcall(function() return r:sample(1 << 31, 0) end)
    print("RESULT sample", ok1, e1)
    local big = setmetatable({}, {__len = function() return 1 << 40 end})
    local ok2, e2 = pcall(sv.vector, big)
    print("RESULT vector", ok2, e2)
    local rows = setmetatable({}, {__len = function() return 1 << 40 end,
                                   __index = function() return {1} end})
    local ok3, e3 = pcall(sv.matrix, rows)
    print("RESULT matrix", ok3, e3)
  ]])
  T.ok(ok, out)
  T.ok(out:find("RESULT sample\tfalse", 1, true), out)
  T.ok(out:find("RESULT vector\tfalse", 1, true), out)
  T.ok(out:find("RESULT matrix\tfalse", 1, true), out)
end)

T.done()
