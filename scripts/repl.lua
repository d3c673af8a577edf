-- repl.lua - the Lua side of the sylva REPL: how values are shown and how
-- names are completed. Called by the executable (bindings/sylva_main.c).

local M = {}

local MAX_DEPTH = 2      -- nested tables shown this deep
local MAX_ITEMS = 20     -- entries shown per table

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function key_repr(k)
  if is_identifier(k) then return k end
  if type(k) == "string" then return string.format("[%q]", k) end
  return "[" .. tostring(k) .. "]"
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

-- Pretty-prints a value: tables with a depth and length limit, userdata
-- (Vector, Matrix, Frame, models) through their __tostring.
function M.format(v, depth, seen, indent)
  depth = depth or 0
  indent = indent or ""
  seen = seen or {}
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  if seen[v] then return "<cycle>" end
  if depth >= MAX_DEPTH then return "{...}" end
  seen[v] = true
  local n = #v
  local parts, count = {}, 0
  local inner = indent .. "  "
  for i = 1, n do
    count = count + 1
    if count > MAX_ITEMS then break end
    parts[#parts + 1] = M.format(v[i], depth + 1, seen, inner)
  end
  for _, k in ipairs(sorted_keys(v)) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      count = count + 1
      if count > MAX_ITEMS then break end
      parts[#parts + 1] = key_repr(k) .. " = " .. M.format(v[k], depth + 1, seen, inner)
    end
  end
  seen[v] = nil
  local total = n
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then total = total + 1 end
  end
  if total > MAX_ITEMS then
    parts[#parts + 1] = string.format("... (%d more)", total - MAX_ITEMS)
  end
  local flat = "{" .. table.concat(parts, ", ") .. "}"
  if #flat <= 78 then return flat end
  return "{\n" .. inner .. table.concat(parts, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- Prints the n results of an expression typed at the prompt.
function M.show(results, n)
  local out = {}
  for i = 1, n do out[i] = M.format(results[i]) end
  print(table.concat(out, "\t"))
end

-- Names visible in a table, including the Lua-level modules of sv.
local function fields(t)
  local names = {}
  if type(t) == "table" then
    for k in pairs(t) do
      if type(k) == "string" then names[#names + 1] = k end
    end
    if rawget(t, "_scripts") then
      for _, s in ipairs(t._scripts) do names[#names + 1] = s end
    end
  end
  local mt = getmetatable(t)
  -- Methods of userdata: a table __index (Frame, Matrix, models) or the
  -- __methods table behind a function __index (Vector).
  local methods = type(mt) == "table" and (type(mt.__index) == "table" and mt.__index or mt.__methods)
  if type(methods) == "table" then
    for k in pairs(methods) do
      if type(k) == "string" then names[#names + 1] = k end
    end
  end
  return names
end

local KEYWORDS = {"and", "break", "do", "else", "elseif", "end", "false", "for",
  "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
  "return", "then", "true", "until", "while"}

-- What to append to a completed name: "(" after a function, "." after a
-- table (so that TAB again lists its fields), nothing otherwise.
local function suffix(value, sep)
  if type(value) == "function" then return "(" end
  if type(value) == "table" and sep ~= ":" then
    local mt = getmetatable(value)
    if not (mt and mt.__call) then return "." end
  end
  return ""
end

-- Completes `text` (a.b.c or a:b): returns the matches, preceded by their
-- longest common prefix when there are several (readline's convention).
function M.complete(text)
  local prefix, sep, partial = text:match("^(.-)([%.:])([%w_]*)$")
  if prefix and prefix:find("[%.:]$") then return {} end -- "a..b": not a name
  local scope
  if prefix and prefix ~= "" then
    local ok, value = pcall(function()
      local v = _G
      for part in prefix:gmatch("[^%.:]+") do
        if type(v) ~= "table" and type(v) ~= "userdata" then return nil end
        v = v[part]
      end
      return v
    end)
    if not ok then return {} end
    scope = value
  else
    prefix, sep, partial, scope = "", "", text, _G
  end
  local seen, matches = {}, {}
  local names = fields(scope)
  if scope == _G then
    for _, k in ipairs(KEYWORDS) do names[#names + 1] = k end
  end
  for _, name in ipairs(names) do
    if not seen[name] and name:sub(1, #partial) == partial and is_identifier(name) then
      seen[name] = true
      local ok, value = pcall(function() return scope[name] end)
      matches[#matches + 1] = prefix .. sep .. name .. (ok and suffix(value, sep) or "")
    end
  end
  table.sort(matches)
  if #matches <= 1 then return matches end
  local lcp = matches[1]
  for i = 2, #matches do
    local m = matches[i]
    local j = 0
    while j < #lcp and j < #m and lcp:sub(j + 1, j + 1) == m:sub(j + 1, j + 1) do j = j + 1 end
    lcp = lcp:sub(1, j)
  end
  table.insert(matches, 1, lcp)
  return matches
end

return M
