-- testing.lua - the small test harness of the Lua tests (run through the
-- sylva binary by ctest). Each file:
--   local T = require "testing"
--   T.test("what property is checked", function() T.near(a, b, 1e-12) end)
--   T.done()   -- prints "N passed, N failed" and sets the exit status
local T = {}

local passed, failed = 0, 0
local current = nil

T.root = os.getenv("SYLVA_ROOT") or "."
T.tmp = os.getenv("SYLVA_TMP") or "/tmp"

local function fail(msg, level)
  error(msg, (level or 1) + 1)
end

function T.test(name, fn)
  current = name
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write(("FAIL %s\n  %s\n"):format(name, tostring(err)))
  end
  current = nil
end

function T.ok(cond, msg)
  if not cond then fail("assertion failed: " .. (msg or "?"), 2) end
end

function T.eq(a, b, msg)
  if a ~= b then
    fail(("expected %s, got %s%s"):format(tostring(b), tostring(a), msg and (" (" .. msg .. ")") or ""), 2)
  end
end

-- |a - b| <= tol * max(1, |b|) when rel, else |a - b| <= tol.
function T.near(a, b, tol, msg, rel)
  local d = math.abs(a - b)
  local bound = rel and tol * math.max(1, math.abs(b)) or tol
  if not (d <= bound) then
    fail(("expected %.17g, got %.17g (diff %.3g > %.3g)%s"):format(
      b, a, d, bound, msg and (" (" .. msg .. ")") or ""), 2)
  end
end

-- Relative agreement: |a - b| <= tol * |b| (or <= tol when b == 0).
function T.rel(a, b, tol, msg)
  local d = math.abs(a - b)
  local bound = b == 0 and tol or tol * math.abs(b)
  if not (d <= bound) and not (a ~= a and b ~= b) then
    fail(("expected %.17g, got %.17g (rel diff %.3g > %.3g)%s"):format(
      b, a, b == 0 and d or d / math.abs(b), tol, msg and (" (" .. msg .. ")") or ""), 2)
  end
end

-- fn must raise an error whose message contains `pattern` (plain text).
function T.raises(fn, pattern, msg)
  local ok, err = pcall(fn)
  if ok then fail("expected an error" .. (msg and (" (" .. msg .. ")") or ""), 2) end
  err = tostring(err)
  if pattern and not err:find(pattern, 1, true) then
    fail(("error %q does not contain %q"):format(err, pattern), 2)
  end
  return err
end

function T.read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Reads a fixture CSV of numbers with a header into {name = {values}}.
-- A fixture without data rows is an error: the tests loop over the rows,
-- and a truncated fixture would otherwise make such a loop assert nothing.
function T.read_fixture(path)
  local cols, names = {}, nil
  for line in io.lines(path) do
    local fields = {}
    for f in (line .. ","):gmatch("([^,]*),") do fields[#fields + 1] = f end
    if not names then
      names = fields
      for _, n in ipairs(names) do cols[n] = {} end
    else
      for i, n in ipairs(names) do
        local v = fields[i]
        cols[n][#cols[n] + 1] = tonumber(v) or (v == "NA" and 0/0) or v
      end
    end
  end
  if not names or #cols[names[1]] == 0 then error("fixture " .. path .. " has no data rows", 2) end
  return cols, names
end

-- A cohort of tests/fixtures/data as {column name = array of numbers},
-- header quotes dropped (the files R wrote quote their names).
function T.read_cohort(file)
  local cols, names = T.read_fixture(T.root .. "/tests/fixtures/data/" .. file)
  local out = {}
  for _, n in ipairs(names) do out[n:gsub('"', "")] = cols[n] end
  return out
end

-- The same fixture as an array of rows, each a table keyed by the header.
function T.read_fixture_rows(path)
  local cols, names = T.read_fixture(path)
  local out = {}
  for i = 1, #cols[names[1]] do
    local r = {}
    for _, n in ipairs(names) do r[n] = cols[n][i] end
    out[i] = r
  end
  return out
end

-- A small JSON reader written for the tests (objects, arrays, strings with
-- escapes, numbers, true/false/null), independent of sylva's own writers,
-- so that a test can check what sylva wrote.
function T.json_decode(s)
  local pos = 1
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c == "" then error("unterminated string") end
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        local map = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}
        if e == "u" then out[#out + 1] = utf8.char(tonumber(s:sub(pos + 2, pos + 5), 16)); pos = pos + 6
        elseif map[e] then out[#out + 1] = map[e]; pos = pos + 2
        else error("bad escape at " .. pos) end
      else out[#out + 1] = c; pos = pos + 1 end
    end
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        ws()
        if s:sub(pos, pos) ~= '"' then error("key expected at " .. pos) end
        local k = str(); ws()
        if s:sub(pos, pos) ~= ":" then error("':' expected at " .. pos) end
        pos = pos + 1
        t[k] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "}" then return t elseif d ~= "," then error("',' expected at " .. pos) end
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "]" then return t elseif d ~= "," then error("',' expected at " .. pos) end
      end
    elseif c == '"' then return str()
    elseif s:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif s:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif s:sub(pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" then error("unexpected character at " .. pos) end
      pos = pos + #num
      return assert(tonumber(num), "bad number " .. num)
    end
  end
  local v = value(); ws()
  if pos <= #s then error("trailing characters at " .. pos) end
  return v
end

function T.done()
  print(("%d passed, %d failed"):format(passed, failed))
  -- close = true: lua_close runs every finaliser, so the sanitized build's
  -- LeakSanitizer sees any memory a binding failed to free.
  os.exit(failed == 0 and 0 or 1, true)
end

return T
