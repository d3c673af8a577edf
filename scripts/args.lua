-- args.lua - argument checking shared by the Lua-level library (sv.split,
-- sv.tune, sv.select, sv.table1, sv.plot), so that every module reports
-- misuse with the same words as the C modules: "unknown option 'x' to
-- split.kfold", "bad argument #1 to 'tune.grid' (...)".
--
-- Errors are raised at level 3: the caller of the public function that
-- called these helpers, which is where the user's mistake is. The few
-- small helpers the modules share (isnan, copy, sorted_keys, xml_escape)
-- live here too.

local sv = require "sylva"
local M = {}

function M.isnan(x) return x ~= x end

-- Text for XML/HTML content and attribute values (SVG figures, report.html).
function M.xml_escape(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end

-- The options table of `fname` (nil = none), checked against `allowed`
-- (a set: {name = true, ...}); returns a table. `argn`, when given, is the
-- options' argument number for the message.
function M.opts(opts, allowed, fname, argn)
  opts = opts or {}
  if type(opts) ~= "table" then
    error(("bad argument %sto '%s' (options table expected, got %s)"):format(
      argn and ("#" .. argn .. " ") or "", fname, type(opts)), 3)
  end
  for k in pairs(opts) do
    if not allowed[k] then error(("unknown option '%s' to %s"):format(tostring(k), fname), 3) end
  end
  return opts
end

-- The `seed` option (default 1); any Lua integer.
function M.seed(opts, fname)
  local s = opts.seed or 1
  if math.type(s) ~= "integer" then
    error(("bad option 'seed' to %s (integer expected)"):format(fname), 3)
  end
  return s
end

-- X as a Matrix (api.md: a Matrix or a Lua array of rows).
function M.matrix(X, fname)
  if type(X) == "table" then return sv.matrix(X) end
  if type(X) ~= "userdata" or not X.nrow then
    error(("bad argument #1 to '%s' (Matrix or array of rows expected, got %s)"):format(fname, type(X)), 3)
  end
  return X
end

-- y as a Vector (a Vector or a Lua array of numbers).
function M.vector(y)
  if type(y) == "userdata" then return y end
  return sv.vector(y)
end

-- A shallow copy of t (nil gives an empty table).
function M.copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- The keys of t, sorted.
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

return M
