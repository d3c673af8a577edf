-- repl.lua - the Lua side of the sylva REPL: how values are shown and how
-- names are completed. Called by the executable (bindings/sylva_main.c).

local M = {}

local MAX_DEPTH = 2      -- nested tables shown this deep
local MAX_ITEMS = 20     -- entries shown per table

local is_flat_list

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

-- A sequence of strings and nothing else (d:names(), d:types()).
is_flat_list = function(v, n)
  if n == 0 or n > 100000 then return false end
  for i = 1, n do
    if type(v[i]) ~= "string" then return false end
  end
  local count = 0
  for _ in pairs(v) do
    count = count + 1
    if count > n then return false end
  end
  return true
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
  if is_flat_list(v, n) then
    -- a list of names (d:names(), d:types()): every item,
    -- wrapped, so a table of a hundred columns can be read in full
    seen[v] = nil
    local lines, line = {}, {}
    local width = #indent + 1
    for i = 1, n do
      local item = M.format(v[i]) .. (i < n and "," or "")
      if width + #item + 1 > 78 and #line > 0 then
        lines[#lines + 1] = table.concat(line, " ")
        line, width = {}, #indent + 2
      end
      line[#line + 1] = item
      width = width + #item + 1
    end
    lines[#lines + 1] = table.concat(line, " ")
    if #lines == 1 then return "{" .. lines[1] .. "}" end
    return "{" .. table.concat(lines, "\n" .. indent .. " ") .. "}"
  end
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

local function is_frame(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "sylva.Frame"
end

-- The Frame a string argument belongs to: `before` is the line up to the
-- opening quote of the string being typed; a call d:method( or
-- sv.x(d, ... whose arguments so far are strings, commas, spaces and an
-- opening brace. Returns the Frame, or nil.
local function frame_of_call(before)
  before = before:gsub("[\"']$", "")
  local last
  for pos, obj in before:gmatch("()([%a_][%w_%.]*)%s*:%s*[%a_][%w_]*%s*%(") do last = {pos, obj} end
  if not last then return nil end
  local rest = before:sub(last[1]):match("%(%s*(.*)$") or ""
  rest = rest:gsub('"[^"]*"', ""):gsub("'[^']*'", "")
  if not rest:match("^[%s,{]*$") then return nil end
  local ok, v = pcall(function()
    local x = _G
    for part in last[2]:gmatch("[^%.]+") do
      if type(x) ~= "table" then return nil end
      x = x[part]
    end
    return x
  end)
  if ok and is_frame(v) then return v end
  return nil
end

-- Column names for a string being typed: those of the Frame the call is
-- on, else those of every Frame held in a global variable.
local function complete_column(text, before)
  local frames = {}
  local f = frame_of_call(before or "")
  if f then
    frames[1] = f
  else
    for k, v in pairs(_G) do
      if type(k) == "string" and is_frame(v) then frames[#frames + 1] = v end
    end
  end
  local seen, matches = {}, {}
  for _, fr in ipairs(frames) do
    local ok, names = pcall(fr.names, fr)
    if ok then
      for _, name in ipairs(names) do
        if not seen[name] and name:sub(1, #text) == text then
          seen[name] = true
          matches[#matches + 1] = name
        end
      end
    end
  end
  return matches
end

-- Completes `text` (a.b.c or a:b): returns the matches, preceded by their
-- longest common prefix when there are several (readline's convention).
-- Inside a string (`quote` is the opening quote; `before` the line up to
-- it) the matches are column names: d:col("Multi<TAB>.
function M.complete(text, before, quote)
  if quote and quote ~= "" then
    local matches = complete_column(text, before)
    table.sort(matches)
    return M._with_prefix(matches)
  end
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
  return M._with_prefix(matches)
end

-- readline's convention: several matches are preceded by their longest
-- common prefix.
function M._with_prefix(matches)
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
