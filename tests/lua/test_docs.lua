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

T.test("the checker itself rejects an undocumented name", function()
  T.ok(not documented("sv.no_such_function"))
  T.ok(documented("sv.read_csv"))
end)

T.done()
