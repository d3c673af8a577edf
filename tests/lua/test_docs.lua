-- Every public function is documented: help() finds a section for it in
-- docs/ (the pages are embedded in the binary). Walks the whole sv table,
-- the Lua-level modules included, so a function added without docs fails
-- here.
local T = require "testing"
local sv = require "sylva"
local docs = require "sylva.docs"

-- Modules that serve the executable itself, not analysts.
local INTERNAL = {repl = true, help = true, docs = true}

local headings = {}
for _, page in ipairs(docs) do
  for line in (page.text .. "\n"):gmatch("(.-)\n") do
    local h = line:match("^#+%s+(.*)$")
    if h then headings[#headings + 1] = (h:gsub("`", "")) end
  end
end

-- A heading documents `name` when it starts with it (followed by "(", a
-- space or the end) or lists it among others ("sv.a(x), sv.b(y)").
local function documented(name)
  for _, h in ipairs(headings) do
    if h == name or h:sub(1, #name + 1) == name .. "(" or h:sub(1, #name + 1) == name .. " "
       or h:find(", " .. name .. "(", 1, true) then
      return true
    end
  end
  return false
end

local function public_functions()
  local out = {}
  local function scan(prefix, t)
    for k, v in pairs(t) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then
        out[#out + 1] = prefix .. "." .. k
      end
    end
  end
  scan("sv", sv)
  local mods = {}
  for k, v in pairs(sv) do
    if type(k) == "string" and type(v) == "table" and k:sub(1, 1) ~= "_" then mods[k] = v end
  end
  for _, name in ipairs(sv._scripts) do
    if not INTERNAL[name] then mods[name] = sv[name] end
  end
  for name, m in pairs(mods) do
    if not INTERNAL[name] and type(m) == "table" then scan("sv." .. name, m) end
  end
  table.sort(out)
  return out
end

T.test("every public function has a docs section that help() prints", function()
  local fns = public_functions()
  T.ok(#fns > 100, "the walk found the modules (" .. #fns .. " functions)")
  local missing = {}
  for _, name in ipairs(fns) do
    if not documented(name) then missing[#missing + 1] = name end
  end
  T.ok(#missing == 0, "undocumented: " .. table.concat(missing, ", "))
end)

-- The other direction: every `sv.a.b(` a docs page or the README shows in
-- a Lua code block or an inline `code` span names a function that exists,
-- so an example never calls something renamed or removed.
local function resolve(path)
  local v = sv
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function calls_in(text)
  local found = {}
  local function scan(code)
    for name in code:gmatch("sv%.([%w_%.]+)%s*%(") do found[#found + 1] = name end
  end
  local inblock = false
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if line:match("^```") then
      inblock = not inblock and line:match("^```lua") ~= nil
    elseif inblock then
      scan(line)
    else
      for span in line:gmatch("`([^`]+)`") do scan(span) end
    end
  end
  return found
end

T.test("every sv function the docs call exists", function()
  local pages = {}
  for _, page in ipairs(docs) do pages[#pages + 1] = {name = page.name or "?", text = page.text} end
  local f = io.open(T.root .. "/README.md", "rb")
  pages[#pages + 1] = {name = "README.md", text = f:read("a")}
  f:close()
  local bad, n = {}, 0
  for _, page in ipairs(pages) do
    for _, name in ipairs(calls_in(page.text)) do
      n = n + 1
      if type(resolve(name)) ~= "function" and not (getmetatable(resolve(name)) or {}).__call then
        bad[#bad + 1] = page.name .. ": sv." .. name
      end
    end
  end
  T.ok(n > 200, "the scan found the examples (" .. n .. " calls)")
  T.ok(#bad == 0, "calls to functions that do not exist: " .. table.concat(bad, ", "))
  -- the scanner finds a bad name
  T.eq(#calls_in("```lua\nsv.no_such.thing(1)\n```\n"), 1)
  T.ok(resolve("no_such.thing") == nil)
end)

T.test("the checker itself rejects an undocumented name", function()
  T.ok(not documented("sv.no_such_function"))
  T.ok(documented("sv.read_csv"))
end)

T.done()
