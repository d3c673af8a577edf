-- wrong_types_child.lua - run by test_wrong_types.lua in a child `sylva`
-- process (so that a crash is seen as a failure, not as a dead test
-- runner). It walks every public function of sylva and calls it with
-- arguments of wrong types; every call must either return or raise a Lua
-- error whose message is a non-empty string naming the function, the
-- argument or the option. Prints "CALL <description>" before each call
-- (unbuffered) so the parent can name the call that crashed or hung, and
-- "BAD <description>: <why>" for a call that misbehaved without crashing;
-- ends with "WALKED <calls> <functions>".
local sv = require "sylva"

io.stdout:setvbuf("no")

-- A Lua-level function that allocates without bound (e.g. a row count of
-- math.maxinteger) would be killed by the system's OOM killer, taking the
-- machine's memory with it; stop it at 512 MB of Lua heap with an error that
-- the walk reports as a bad call.
local MEMORY_LIMIT_KB = 512 * 1024
debug.sethook(function()
  if collectgarbage("count") > MEMORY_LIMIT_KB then
    collectgarbage()
    if collectgarbage("count") > MEMORY_LIMIT_KB then
      error("unbounded allocation: the Lua heap passed 512 MB", 2)
    end
  end
end, "", 10000)
local tmp = os.getenv("SYLVA_TMP") or "/tmp"

local calls, bad, functions = 0, 0, 0

-- Names and values used as wrong arguments. Strings that could be paths
-- point under a directory that does not exist, so no call writes a file.
local missing = tmp .. "/no-such-dir/x"
local wrong = {
  {"nil", nil}, {"true", true}, {"0", 0}, {"-1", -1}, {"1.5", 1.5},
  {"maxinteger", math.maxinteger}, {"mininteger", math.mininteger},
  {"huge", 1e308}, {"NaN", 0 / 0}, {"Inf", 1 / 0}, {"-Inf", -1 / 0},
  {"''", ""}, {"path", missing}, {"{}", {}}, {"{1,2}", {1, 2}},
  {"{{1}}", {{1}}}, {"{'a'}", {"a"}}, {"{x=1}", {x = 1}},
  {"{NaN}", {0 / 0}}, {"function", print},
  {"coroutine", coroutine.create(function() end)},
  {"io.stdout", io.stdout}, {"Vector{}", sv.vector({})},
  {"Vector{1,0}", sv.vector({1, 0})}, {"Matrix{}", sv.matrix({})},
  {"Matrix{{1}}", sv.matrix({{1}})},
}

-- Never called: they would block on the terminal or end the process.
local skip = {
  ["repl.loop"] = true,
}

local function describe(name, args, n)
  local parts = {}
  for i = 1, n do parts[i] = args[i] end
  return name .. "(" .. table.concat(parts, ", ") .. ")"
end

local function check_call(name, fn, descr, ...)
  calls = calls + 1
  io.stdout:write("CALL ", descr, "\n")
  local ok, err = pcall(fn, ...)
  if ok then return true end
  if type(err) ~= "string" or err == "" then
    bad = bad + 1
    io.stdout:write("BAD ", descr, ": error object is a ", type(err), "\n")
    return false
  end
  -- The message must say where the mistake is: an argument, an option,
  -- the function, or (for methods) the object.
  local short = name:match("([%w_]+)$")
  local tname = name:match("^(%u%w*)[.:]") -- Vector, Matrix, Forest, ...
  local mod = name:match("^sv%.([%w_]+)%.")   -- "encode: ..." names the module
  local lower = err:lower()
  if not (lower:find("bad argument", 1, true) or lower:find("option", 1, true)
          or err:find(short, 1, true) or lower:find("expected", 1, true)
          or (tname and err:find(tname, 1, true))
          or (mod and err:find(mod, 1, true))
          or lower:find("attempt to", 1, true)) then
    bad = bad + 1
    io.stdout:write("BAD ", descr, ": message names nothing: ", err, "\n")
  end
  if lower:find("attempt to", 1, true) and not err:find("scripts/", 1, true)
     and not err:find("stdin", 1, true) then
    -- "attempt to index a nil value" from inside a C binding would mean a
    -- binding called Lua on unchecked input; from a script it is a weak
    -- message, reported so it gets a proper check.
    bad = bad + 1
    io.stdout:write("BAD ", descr, ": raw Lua error: ", err, "\n")
  end
  return false
end

-- Calls fn with 0..3 copies of each wrong value (after `self` for methods).
-- Plausible argument lists: a call that succeeds with one of them becomes
-- a template, and each of its arguments is then replaced by each wrong
-- value in turn, so the checks behind the first argument (lengths, codes,
-- options) are reached too. Built fresh for every call (functions may
-- keep or change their arguments). 8 rows, 2 features.
local template_forest = nil -- one small forest, made on first use

local function plausible()
  if not template_forest and sv.forest and sv.forest.train then
    template_forest = sv.forest.train(sv.matrix({{1, 5}, {2, 3}, {3, 8}, {4, 1}, {5, 9}, {6, 2}}, {"a", "b"}),
                                      {0, 1, 0, 1, 1, 0}, {trees = 3, seed = 1, threads = 1})
  end
  local X = sv.matrix({{1, 5}, {2, 3}, {3, 8}, {4, 1}, {5, 9}, {6, 2}, {7, 7}, {8, 4}}, {"a", "b"})
  local y = {0, 1, 0, 1, 1, 0, 1, 0}
  local time = {5, 3, 8, 1, 9, 2, 7, 4}
  local event = {1, 0, 1, 1, 0, 1, 1, 0}
  local score = {0.1, 0.7, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4}
  local score2 = {0.2, 0.5, 0.1, 0.9, 0.7, 0.3, 0.6, 0.5}
  local group = {1, 1, 1, 1, 2, 2, 2, 2}
  return {
    {X}, {X, y}, {X, y, {trees = 3, threads = 1}}, {time, event}, {time, event, group},
    {time, event, X}, {time, event, score}, {y, score}, {y, score, score2}, {score},
    {score, 0.5}, {score, score2}, {y, score, 0.5}, {8}, {8, {k = 2}}, {0.5}, {1.5, 3},
    {0.5, 2, 3}, {{{1, 2}, {3, 4}}}, {"x"}, {{score, score2}},
    {template_forest, X}, {template_forest, X, {threads = 1}},
    {X, y, {trees = 3, threads = 1}, {k = 2}},
    {X, y, {min_leaf = {1, 2}}, {k = 2, progress = false, forest = {trees = 3, threads = 1}}},
  }
end

local function walk_templates(name, fn)
  local found = 0
  for t = 1, #plausible() do
    if found >= 2 then break end
    local base = plausible()[t]
    local n = #base
    if pcall(fn, table.unpack(base, 1, n)) then
      found = found + 1
      for i = 1, n do
        for _, w in ipairs(wrong) do
          local args = plausible()[t]
          args[i] = w[2]
          local names = {}
          for k = 1, n do names[k] = k == i and w[1] or ("ok" .. k) end
          check_call(name, fn, describe(name, names, n) .. " [template " .. t .. "]",
                     table.unpack(args, 1, n))
        end
      end
    end
  end
end

local function walk_function(name, fn, self_value)
  if skip[name] then return end
  functions = functions + 1
  if self_value == nil then walk_templates(name, fn) end
  for arity = 0, 3 do
    for _, w in ipairs(wrong) do
      local args, names = {}, {}
      local k = 0
      if self_value ~= nil then k = 1; args[1] = self_value; names[1] = "self" end
      for i = 1, arity do args[k + i] = w[2]; names[k + i] = w[1] end
      local n = k + arity
      check_call(name, fn, describe(name, names, n), table.unpack(args, 1, n))
      if arity == 0 then break end
    end
  end
  if self_value ~= nil then
    -- A method called on something that is not its object.
    for _, w in ipairs(wrong) do
      check_call(name, fn, describe(name, {w[1]}, 1), w[2])
    end
  end
end

local seen = {}

local function walk_table(prefix, t, depth)
  if seen[t] or depth > 3 then return end
  seen[t] = true
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    local name = prefix .. "." .. k
    if type(v) == "function" then
      walk_function(name, v)
    elseif type(v) == "table" then
      walk_table(name, v, depth + 1)
    end
  end
end

-- Self-test of the parent's crash detection: die by SIGSEGV mid-walk.
if os.getenv("SYLVA_WALK_SELFTEST") == "crash" then
  local stat = io.open("/proc/self/stat"):read("l")
  io.stdout:write("CALL selftest.crash()\n")
  os.execute("kill -SEGV " .. stat:match("^(%d+)"))
  while true do end -- the signal arrives
end

-- The C functions and submodules, then the Lua-level modules (loaded on
-- first use through sv.<name>).
walk_table("sv", sv, 1)
for _, name in ipairs(sv._scripts or {}) do
  if name ~= "repl" then
    local ok, mod = pcall(function() return sv[name] end)
    if ok and type(mod) == "table" then walk_table("sv." .. name, mod, 2)
    elseif ok and type(mod) == "function" then walk_function("sv." .. name, mod)
    else
      -- a script that does not load would otherwise be left out silently
      bad = bad + 1
      io.stdout:write("BAD sv.", name, ": does not load: ", tostring(mod), "\n")
    end
  end
end

-- Methods and metamethods of every userdata type we can make.
local objects = {
  {"Vector", function() return sv.vector({1, 2, 3}) end},
  {"Matrix", function() return sv.matrix({{1, 2}, {3, 4}}, {"a", "b"}) end},
  {"Rng", function() return sv.rng(1) end},
}
if sv.read_csv then
  objects[#objects + 1] = {"Frame", function()
    local path = tmp .. "/wrong_types.csv"
    local f = assert(io.open(path, "w"))
    f:write("a,b,c\n1,2,x\n3,4,y\n5,NA,z\n")
    f:close()
    return sv.read_csv(path)
  end}
end
if sv.forest and sv.forest.train then
  objects[#objects + 1] = {"Forest", function()
    local X = sv.matrix({{1, 0}, {2, 1}, {3, 0}, {4, 1}, {5, 0}, {6, 1}}, {"u", "v"})
    return sv.forest.train(X, {0, 0, 0, 1, 1, 1}, {trees = 3, seed = 1, threads = 1})
  end}
end

local metamethods = {"__index", "__newindex", "__len", "__tostring", "__eq",
                     "__call", "__concat", "__close", "__gc", "__lt", "__le"}

for _, o in ipairs(objects) do
  local ok, obj = pcall(o[2])
  if not ok then
    io.stdout:write("BAD cannot make a ", o[1], ": ", tostring(obj), "\n")
    bad = bad + 1
  else
    local mt = getmetatable(obj)
    local methods = type(mt.__index) == "table" and mt.__index or mt.__methods or {}
    local names = {}
    for k, v in pairs(methods) do
      if type(v) == "function" then names[#names + 1] = k end
    end
    table.sort(names)
    for _, k in ipairs(names) do
      walk_function(o[1] .. ":" .. k, methods[k], o[2]())
    end
    for _, mm in ipairs(metamethods) do
      local f = rawget(mt, mm)
      if type(f) == "function" and mm ~= "__gc" and mm ~= "__close" then
        walk_function(o[1] .. "." .. mm, f, o[2]())
      end
    end
    -- Indexing with odd keys must not crash.
    for _, w in ipairs(wrong) do
      if w[2] ~= nil then
        check_call(o[1] .. "[]", function() return obj[w[2]] end,
                   o[1] .. "[" .. w[1] .. "]")
      end
    end
    -- A closed object (explicit __close/__gc, twice) refuses every method
    -- with an error instead of using freed memory.
    local closer = rawget(mt, "__close") or rawget(mt, "__gc")
    if closer then
      local dead = o[2]()
      check_call(o[1] .. ".__close", closer, o[1] .. " closed once", dead)
      check_call(o[1] .. ".__close", closer, o[1] .. " closed twice", dead)
      for _, k in ipairs(names) do
        walk_function(o[1] .. ":" .. k .. " (closed)", methods[k], dead)
      end
      check_call(o[1] .. ".__tostring", function() return tostring(dead) end,
                 "tostring(closed " .. o[1] .. ")")
    end
  end
end

io.stdout:write(("WALKED %d %d %d\n"):format(calls, functions, bad))
os.exit(bad == 0 and 0 or 1, true)
