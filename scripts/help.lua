-- help.lua - help(f): prints the documentation of a sylva function, taken
-- from the docs/ pages embedded at build time (one source of truth).

local sv = require "sylva"
local M = {}

-- Qualified name of a value reachable from sv ("sv.forest.train").
local function find_name(target)
  if target == sv then return "sv" end
  local seen = {}
  local function walk(t, path, depth)
    if depth > 3 or seen[t] then return nil end
    seen[t] = true
    for k, v in pairs(t) do
      if type(k) == "string" then
        local p = path .. "." .. k
        if v == target then return p end
        if type(v) == "table" then
          local r = walk(v, p, depth + 1)
          if r then return r end
        end
      end
    end
    return nil
  end
  return walk(sv, "sv", 0)
end

-- The section of the docs whose heading names `name` (e.g. "sv.read_csv").
local function find_section(name)
  local ok, docs = pcall(require, "sylva.docs")
  if not ok then return nil end
  for _, page in ipairs(docs) do
    local lines, start, level = {}, nil, nil
    for line in (page.text .. "\n"):gmatch("(.-)\n") do
      local hashes, title = line:match("^(#+)%s+(.*)$")
      if start then
        if hashes and #hashes <= level then break end
        lines[#lines + 1] = line
      elseif hashes then
        local t = title:gsub("`", "")
        if t == name or t:sub(1, #name + 1) == name .. "(" or t:sub(1, #name + 1) == name .. " " then
          start, level = true, #hashes
          lines[#lines + 1] = line
        end
      end
    end
    if start then return table.concat(lines, "\n"), page.name end
  end
  return nil
end

-- The docs section of each userdata type (by its metatable's __name).
local TYPE_SECTIONS = {
  ["sylva.Frame"] = "Frames",
  ["sylva.Vector"] = "sv.vector",
  ["sylva.Matrix"] = "sv.matrix",
  ["sylva.Rng"] = "sv.rng",
}

function M.help(x)
  if x == nil then
    print([[sylva - interpretable machine learning and survival statistics.
  help(sv.read_csv)   documentation of a function (or a name: help "sv.surv.km")
  sv.<TAB>            list the modules; sv.forest.<TAB> their functions
The full documentation is in docs/ (start with docs/README.md).]])
    return
  end
  -- Objects (a Frame, a Vector, a model) are documented under their type.
  if type(x) == "userdata" then
    local mt = getmetatable(x)
    local tname = type(mt) == "table" and mt.__name
    if type(tname) == "string" then x = TYPE_SECTIONS[tname] or tname:gsub("^sylva%.", "") end
  end
  local name = type(x) == "string" and x or find_name(x)
  if not name then
    print("help: no documentation for this value (not part of sylva)")
    return
  end
  -- A name as written ("d:col", "Frames") first, then under sv.
  local text, page = find_section(name)
  if not text and name:sub(1, 3) ~= "sv." and name ~= "sv" then
    name = "sv." .. name
    text, page = find_section(name)
  end
  if text then
    print(text)
    print(("\n(from docs/%s)"):format(page))
  else
    print("help: " .. name .. " is not documented yet")
  end
end

return M
