-- encode.lua - declarative per-centre feature encodings (sv.encode).
--
-- A centre's encoding file (encodings/centre2.lua) returns a spec table that
-- says, for every model feature, which column of that centre's export holds
-- it and how its cells are spelled. Applying the spec to the centre's data
-- gives a Matrix whose columns have the same names in every centre, plus the
-- outcomes. Every problem in the data (a missing column, an unknown
-- category, an implausible value) is an error naming the centre, its file,
-- the column, the value and the row, because a silently mis-coded centre is
-- the worst bug an external validation can have. See docs/encodings.md.

local sv = require "sylva"
local M = {}

local FEATURE_KINDS = {numeric = true, ordinal = true, binary = true, onehot = true, derived = true}
local OUTCOME_KINDS = {numeric = true, binary = true, category = true, derived = true}
local DEFAULT_NA = {"", "NA"}
local MAX_REPORTED = 10 -- data errors listed in one message

-- Fields allowed per kind (anything else is a typo worth an error).
local FEATURE_FIELDS = {
  numeric = {name = 1, column = 1, kind = 1, na = 1, scale = 1, offset = 1, range = 1, label = 1},
  ordinal = {name = 1, column = 1, kind = 1, na = 1, levels = 1, label = 1},
  binary = {name = 1, column = 1, kind = 1, na = 1, yes = 1, no = 1, label = 1},
  onehot = {name = 1, column = 1, kind = 1, na = 1, levels = 1, drop = 1, label = 1},
  derived = {name = 1, kind = 1, from = 1, fn = 1, range = 1, label = 1},
}
local OUTCOME_FIELDS = {
  numeric = {column = 1, kind = 1, na = 1, scale = 1, offset = 1, range = 1, optional = 1, label = 1},
  binary = {column = 1, kind = 1, na = 1, yes = 1, no = 1, optional = 1, label = 1},
  category = {column = 1, kind = 1, na = 1, levels = 1, order = 1, optional = 1, label = 1},
  derived = {kind = 1, from = 1, fn = 1, range = 1, binary = 1, label = 1},
}
local SPEC_FIELDS = {centre = 1, center = 1, id = 1, na = 1, features = 1, impute = 1, outcomes = 1, notes = 1,
                     keep = 1, base = 1}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function norm(s) return trim(s):lower() end
local function isnan(x) return x ~= x end

-- A one-hot feature has one output column per level, except the level
-- named by `drop` (scikit-learn's OneHotEncoder(drop=...)), which is coded
-- as all zeros. out_level[k] is the level index of output k.
local function onehot_code(f, v, k)
  if v == nil then return nil end
  return f.out_level[k] == v and 1 or 0
end

-- The level index of a one-hot block (get(output name) -> 0, 1 or NaN),
-- or nil when the row is missing.
local function onehot_level(f, get)
  local level = f.drop_index
  for k, o in ipairs(f.outputs) do
    local x = get(o)
    if x == nil or isnan(x) then return nil end
    if x == 1 then level = f.out_level[k] end
  end
  return level
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- "%g" but integers without a decimal point, for messages and matching.
local function numstr(x)
  if x == math.floor(x) and math.abs(x) < 2^53 then return string.format("%d", x) end
  return string.format("%.10g", x)
end

---------------------------------------------------------------------------
-- Validation of a spec
---------------------------------------------------------------------------

local function where(path, centre)
  if centre and path then return ("%s (%s)"):format(centre, path) end
  return centre or path or "encoding"
end

local resolve_base -- (spec, path [, seen]) -> spec with its `base` merged in; below

local function spec_error(ctx, fmt, ...)
  error(("encode: %s: " .. fmt):format(ctx, ...), 0)
end

local function check_strings(ctx, what, t)
  if type(t) ~= "table" or #t == 0 then spec_error(ctx, "%s must be a non-empty array of strings", what) end
  for i, s in ipairs(t) do
    if type(s) ~= "string" and type(s) ~= "number" then
      spec_error(ctx, "%s[%d] must be a string", what, i)
    end
  end
end

local function check_fields(ctx, what, t, allowed)
  for _, k in ipairs(sorted_keys(t)) do
    if not allowed[k] then spec_error(ctx, "unknown field '%s' in %s", tostring(k), what) end
  end
end

-- A table spelling -> code built from synonyms, refusing a spelling that
-- would mean two things.
local function spelling_map(ctx, what, groups)
  local map = {}
  for code, group in ipairs(groups) do
    for _, s in ipairs(group.spellings) do
      local key = norm(tostring(s))
      if map[key] and map[key] ~= code then
        spec_error(ctx, "%s: spelling '%s' belongs to two levels", what, tostring(s))
      end
      map[key] = code
    end
  end
  return map
end

local function check_range(ctx, what, r)
  if r == nil then return end
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or not (r[1] <= r[2]) then
    spec_error(ctx, "%s: range must be {low, high} with low <= high", what)
  end
end

local function check_na(ctx, what, na)
  if na == nil then return end
  if type(na) ~= "table" then spec_error(ctx, "%s: na must be an array of strings", what) end
  for i, s in ipairs(na) do
    if type(s) ~= "string" then spec_error(ctx, "%s: na[%d] must be a string", what, i) end
  end
end

-- Compiles one feature or outcome entry into a coder: {name, kind, column,
-- na (set), map (spelling -> code) ...}.
local function compile_column(ctx, what, e, spec_na)
  local c = {name = e.name, kind = e.kind, column = e.column, label = e.label, what = what}
  if type(e.column) ~= "string" or e.column == "" then
    spec_error(ctx, "%s: column must be a non-empty string", what)
  end
  check_na(ctx, what, e.na)
  c.na = {}
  for _, s in ipairs(spec_na) do c.na[norm(s)] = true end
  for _, s in ipairs(e.na or {}) do c.na[norm(s)] = true end
  if e.kind == "numeric" then
    if e.scale ~= nil and (type(e.scale) ~= "number" or e.scale == 0 or isnan(e.scale)) then
      spec_error(ctx, "%s: scale must be a non-zero number", what)
    end
    if e.offset ~= nil and type(e.offset) ~= "number" then
      spec_error(ctx, "%s: offset must be a number", what)
    end
    check_range(ctx, what, e.range)
    c.scale, c.offset, c.range = e.scale or 1, e.offset or 0, e.range
  elseif e.kind == "binary" then
    check_strings(ctx, what .. ": yes", e.yes)
    check_strings(ctx, what .. ": no", e.no)
    c.map = spelling_map(ctx, what, {{spellings = e.no}, {spellings = e.yes}})
    for k, v in pairs(c.map) do c.map[k] = v - 1 end -- no -> 0, yes -> 1
    c.expected = {}
    for _, s in ipairs(e.yes) do c.expected[#c.expected + 1] = tostring(s) end
    for _, s in ipairs(e.no) do c.expected[#c.expected + 1] = tostring(s) end
  elseif e.kind == "ordinal" or e.kind == "onehot" then
    if type(e.levels) ~= "table" or #e.levels == 0 then
      spec_error(ctx, "%s: levels must be a non-empty array", what)
    end
    local groups = {}
    c.level_names = {}
    for k, lv in ipairs(e.levels) do
      local sp = type(lv) == "table" and lv or {lv}
      check_strings(ctx, ("%s: levels[%d]"):format(what, k), sp)
      groups[k] = {spellings = sp}
      c.level_names[k] = tostring(sp[1])
    end
    c.map = spelling_map(ctx, what, groups)
    c.expected = {}
    for _, g in ipairs(groups) do
      for _, s in ipairs(g.spellings) do c.expected[#c.expected + 1] = tostring(s) end
    end
  elseif e.kind == "category" then
    if type(e.levels) ~= "table" or next(e.levels) == nil then
      spec_error(ctx, "%s: levels must be a table level = {spellings}", what)
    end
    local names = {}
    if e.order ~= nil then
      check_strings(ctx, what .. ": order", e.order)
      for _, s in ipairs(e.order) do
        if e.levels[s] == nil then spec_error(ctx, "%s: order names unknown level '%s'", what, s) end
        names[#names + 1] = s
      end
      if #names ~= #sorted_keys(e.levels) then
        spec_error(ctx, "%s: order must list every level once", what)
      end
    else
      names = sorted_keys(e.levels)
    end
    local groups = {}
    for k, name in ipairs(names) do
      if type(name) ~= "string" then spec_error(ctx, "%s: level names must be strings", what) end
      local sp = e.levels[name]
      if type(sp) ~= "table" then sp = {sp} end
      check_strings(ctx, ("%s: levels.%s"):format(what, name), sp)
      -- The level's own name is always a valid spelling.
      local all = {name}
      for _, s in ipairs(sp) do all[#all + 1] = s end
      groups[k] = {spellings = all}
    end
    c.map = spelling_map(ctx, what, groups)
    c.level_names = names
    c.expected = {}
    for _, g in ipairs(groups) do
      for _, s in ipairs(g.spellings) do c.expected[#c.expected + 1] = tostring(s) end
    end
  end
  return c
end

--- sv.encode.check(spec [, path]) -> enc: validates a spec table.
function M.check(spec, path)
  local ctx = where(path, type(spec) == "table" and (spec.centre or spec.center) or nil)
  if type(spec) ~= "table" then spec_error(ctx, "the encoding must be a table (got %s)", type(spec)) end
  if spec.base ~= nil then
    spec = resolve_base(spec, path)
    ctx = where(path, spec.centre or spec.center)
  end
  check_fields(ctx, "the spec", spec, SPEC_FIELDS)
  local centre = spec.centre or spec.center
  if type(centre) ~= "string" or centre == "" then
    spec_error(ctx, "'centre' must name the centre (a non-empty string)")
  end
  check_na(ctx, "spec", spec.na)
  if spec.keep ~= nil and type(spec.keep) ~= "function" then
    spec_error(ctx, "'keep' must be a function(row) returning true for the rows to keep")
  end
  if spec.id ~= nil and (type(spec.id) ~= "string" or spec.id == "") then
    spec_error(ctx, "'id' must name the patient identifier column (a non-empty string)")
  end
  local spec_na = spec.na or DEFAULT_NA
  if type(spec.features) ~= "table" or #spec.features == 0 then
    spec_error(ctx, "'features' must be a non-empty array")
  end

  local na_set = {}
  for _, s in ipairs(spec_na) do na_set[norm(s)] = true end
  local enc = {centre = centre, path = path, spec = spec, id = spec.id, keep = spec.keep, na = na_set,
               features = {}, outcomes = {},
               names = {}, impute = {}, outcome_names = {}}
  local by_name, outputs = {}, {}
  for i, f in ipairs(spec.features) do
    local what = ("features[%d]"):format(i)
    if type(f) ~= "table" then spec_error(ctx, "%s must be a table", what) end
    if type(f.name) ~= "string" or not f.name:match("^[%a_][%w_.]*$") then
      spec_error(ctx, "%s: name must be an identifier-like string (got %s)", what, tostring(f.name))
    end
    what = ("feature '%s'"):format(f.name)
    if by_name[f.name] then spec_error(ctx, "%s is defined twice", what) end
    if not FEATURE_KINDS[f.kind] then
      spec_error(ctx, "%s: kind must be numeric, ordinal, binary, onehot or derived (got %s)", what, tostring(f.kind))
    end
    check_fields(ctx, what, f, FEATURE_FIELDS[f.kind])
    local c
    if f.kind == "derived" then
      if type(f.fn) ~= "function" then spec_error(ctx, "%s: fn must be a function", what) end
      check_strings(ctx, what .. ": from", f.from)
      for _, src in ipairs(f.from) do
        if not by_name[src] then
          spec_error(ctx, "%s: from names '%s', which is not a feature defined before it", what, src)
        end
      end
      check_range(ctx, what, f.range)
      c = {name = f.name, kind = "derived", from = f.from, fn = f.fn, range = f.range, label = f.label}
    else
      c = compile_column(ctx, what, f, spec_na)
    end
    c.index = i
    c.outputs = {}
    if f.kind == "onehot" then
      if f.drop ~= nil then
        for k, lv in ipairs(c.level_names) do
          if lv == f.drop then c.drop_index = k end
        end
        if not c.drop_index then
          spec_error(ctx, "%s: drop = %s is not one of the levels' names (%s)", what, tostring(f.drop),
            table.concat(c.level_names, ", "))
        end
        if #c.level_names < 2 then spec_error(ctx, "%s: drop needs at least two levels", what) end
      end
      c.out_level = {}
      for k, lv in ipairs(c.level_names) do
        if k ~= c.drop_index then
          c.outputs[#c.outputs + 1] = f.name .. "_" .. lv
          c.out_level[#c.outputs] = k
        end
      end
    else
      c.outputs[1] = f.name
    end
    for _, o in ipairs(c.outputs) do
      if outputs[o] then spec_error(ctx, "%s: output column '%s' is produced twice", what, o) end
      outputs[o] = true
      enc.names[#enc.names + 1] = o
    end
    by_name[f.name] = c
    enc.features[i] = c
  end
  enc.by_name = by_name

  if spec.impute ~= nil then
    if type(spec.impute) ~= "table" then spec_error(ctx, "'impute' must be a table feature = rule") end
    for _, name in ipairs(sorted_keys(spec.impute)) do
      local rule = spec.impute[name]
      if name ~= "*" and not by_name[name] then
        spec_error(ctx, "impute: '%s' is not a feature", tostring(name))
      end
      M._check_rule(ctx, name, rule, by_name[name])
      enc.impute[name] = rule
    end
  end

  if spec.outcomes ~= nil then
    if type(spec.outcomes) ~= "table" then spec_error(ctx, "'outcomes' must be a table name = {...}") end
    for _, name in ipairs(sorted_keys(spec.outcomes)) do
      local o = spec.outcomes[name]
      local what = ("outcome '%s'"):format(tostring(name))
      if type(name) ~= "string" then spec_error(ctx, "outcome names must be strings") end
      if type(o) ~= "table" then spec_error(ctx, "%s must be a table", what) end
      if not OUTCOME_KINDS[o.kind] then
        spec_error(ctx, "%s: kind must be numeric, binary, category or derived (got %s)", what, tostring(o.kind))
      end
      check_fields(ctx, what, o, OUTCOME_FIELDS[o.kind])
      local c
      if o.kind == "derived" then
        -- Computed from the row's raw columns (`from`) by fn.
        if type(o.fn) ~= "function" then spec_error(ctx, "%s: fn must be a function(row)", what) end
        check_strings(ctx, what .. ": from", o.from)
        check_range(ctx, what, o.range)
        if o.binary ~= nil and type(o.binary) ~= "boolean" then spec_error(ctx, "%s: binary must be true or false", what) end
        c = {kind = "derived", from = {}, fn = o.fn, range = o.range, binary = o.binary or false,
             label = o.label, what = what, na = na_set}
        for k, col in ipairs(o.from) do c.from[k] = tostring(col) end
      else
        c = compile_column(ctx, what, o, spec_na)
      end
      c.name, c.optional = name, o.optional and true or false
      enc.outcomes[name] = c
      enc.outcome_names[#enc.outcome_names + 1] = name
    end
  end
  return enc
end

function M._check_rule(ctx, name, rule, feature)
  local what = ("impute.%s"):format(name)
  if rule == "median" or rule == "mean" or rule == "mode" then
    if feature and feature.kind == "onehot" and rule ~= "mode" then
      spec_error(ctx, "%s: a one-hot feature is imputed by \"mode\" or a constant level", what)
    end
    return
  end
  if type(rule) == "table" and rule.constant ~= nil then
    if feature and feature.kind == "onehot" then
      local ok = false
      for _, lv in ipairs(feature.level_names) do ok = ok or lv == rule.constant end
      if not ok then spec_error(ctx, "%s: constant must be one of the levels", what) end
    elseif type(rule.constant) ~= "number" or isnan(rule.constant) then
      spec_error(ctx, "%s: constant must be a number", what)
    end
    return
  end
  spec_error(ctx, "%s: rule must be \"median\", \"mean\", \"mode\" or {constant = x}", what)
end

-- The functions an encoding file may use: pure computation, no I/O.
local function sandbox()
  local env = {}
  for _, k in ipairs({"assert", "error", "ipairs", "next", "pairs", "pcall", "select",
                      "tonumber", "tostring", "type", "unpack", "rawequal", "rawget", "rawlen"}) do
    env[k] = _G[k]
  end
  for _, lib in ipairs({"math", "string", "table", "utf8"}) do
    local copy = {}
    for k, v in pairs(_G[lib]) do copy[k] = v end
    env[lib] = copy
  end
  return env
end

-- Runs an encoding file in the sandbox and returns the table it returns.
local function run_file(path)
  local chunk, err = loadfile(path, "t", sandbox())
  if not chunk then
    local f = io.open(path, "r")
    if not f then error(("encode: %s: cannot open the encoding file"):format(path), 0) end
    f:close()
    error(("encode: %s: syntax error: %s"):format(path, err), 0)
  end
  local ok, spec = pcall(chunk)
  if not ok then error(("encode: %s: error while running the file: %s"):format(path, tostring(spec)), 0) end
  return spec
end

-- A copy of entry `b` with the fields of `c` laid over it; `false` in c
-- removes a field. A different kind replaces the entry whole.
local function overlay(b, c)
  if c.kind ~= nil and b.kind ~= nil and c.kind ~= b.kind then return c end
  local t = {}
  for k, v in pairs(b) do t[k] = v end
  for k, v in pairs(c) do
    if v == false and k ~= "optional" and k ~= "binary" then t[k] = nil else t[k] = v end
  end
  return t
end

-- The spec `child` with its `base` (a file, relative to `path`'s folder)
-- merged under it, recursively; `seen` lists the files on the way (a
-- cycle is an error).
function resolve_base(child, path, seen)
  if type(child) ~= "table" or child.base == nil then return child end
  local ctx = path or "encoding"
  if type(child.base) ~= "string" or child.base == "" then
    spec_error(ctx, "'base' must be the path of another encoding file")
  end
  local base_path = child.base
  if not base_path:match("^/") then
    local dir = path and path:match("^(.*)/[^/]*$")
    if dir then base_path = dir .. "/" .. base_path end
  end
  base_path = base_path:gsub("/%./", "/")
  seen = seen or {}
  local chain = {}
  for _, p in ipairs(seen) do chain[#chain + 1] = p end
  chain[#chain + 1] = path or "(spec)"
  for _, p in ipairs(chain) do
    if p == base_path then
      chain[#chain + 1] = base_path
      spec_error(ctx, "'base' makes a cycle: %s", table.concat(chain, " -> "))
    end
  end
  if #chain > 32 then spec_error(ctx, "'base' chain deeper than 32 files") end
  local base = run_file(base_path)
  if type(base) ~= "table" then
    spec_error(base_path, "the encoding must be a table (got %s)", type(base))
  end
  base = resolve_base(base, base_path, chain)
  local spec = {}
  for k, v in pairs(base) do spec[k] = v end
  for k, v in pairs(child) do
    if k ~= "features" and k ~= "outcomes" and k ~= "impute" then
      if v == false then spec[k] = nil else spec[k] = v end -- false removes the base's
    end
  end
  spec.base = nil
  -- features: by name, overlaid in place; new names appended
  if child.features ~= nil then
    if type(child.features) ~= "table" then spec_error(ctx, "'features' must be an array") end
    local feats, at = {}, {}
    for i, f in ipairs(base.features or {}) do
      feats[i] = f
      if type(f) == "table" and f.name then at[f.name] = i end
    end
    for i, f in ipairs(child.features) do
      if type(f) ~= "table" then spec_error(ctx, "features[%d] must be a table", i) end
      if f.name ~= nil and at[f.name] then
        feats[at[f.name]] = overlay(feats[at[f.name]], f)
      else
        feats[#feats + 1] = f
        if f.name then at[f.name] = #feats end
      end
    end
    spec.features = feats
  end
  -- outcomes and impute: by name; false removes the base's entry
  for _, key in ipairs({"outcomes", "impute"}) do
    if child[key] ~= nil then
      if type(child[key]) ~= "table" then spec_error(ctx, "'%s' must be a table", key) end
      local t = {}
      for k, v in pairs(base[key] or {}) do t[k] = v end
      for k, v in pairs(child[key]) do
        if v == false then t[k] = nil
        elseif key == "outcomes" and type(v) == "table" and type(t[k]) == "table" then t[k] = overlay(t[k], v)
        else t[k] = v end
      end
      spec[key] = t
    end
  end
  return spec
end
M._resolve_base = resolve_base

--- sv.encode.read(path) -> Frame: a centre's data file, an Excel workbook
--- (.xlsx, its first sheet) by sv.read_xlsx, anything else by sv.read_csv
function M.read(path)
  if type(path) ~= "string" then error("bad argument #1 to 'encode.read' (file path expected)", 2) end
  if path:lower():match("%.xlsx$") then return (sv.read_xlsx(path)) end
  return sv.read_csv(path)
end
-- the environment encoding and study spec files run in (no I/O)
M._sandbox = sandbox

--- sv.encode.load(path) -> enc
function M.load(path)
  if type(path) ~= "string" then error("bad argument #1 to 'encode.load' (path expected)", 2) end
  return M.check(run_file(path), path)
end

---------------------------------------------------------------------------
-- Reading cells
---------------------------------------------------------------------------

-- A column accessor over a Frame column, a Vector, or a Lua array: get(i)
-- returns a number, a string, or nil when the cell is missing.
local function accessor(col)
  if type(col) == "userdata" then
    return function(i)
      local x = col[i]
      if x == nil or isnan(x) then return nil end
      return x
    end
  end
  return function(i)
    local x = col[i]
    if x == false or x == nil then return nil end
    if type(x) == "number" and isnan(x) then return nil end
    return x
  end
end

-- A data source: {nrow, names, get(column) -> accessor or nil}.
local function source(data)
  if type(data) == "userdata" or (type(data) == "table" and type(data.col) == "function") then
    local names = data:names()
    local set = {}
    for _, n in ipairs(names) do set[n] = true end
    local file, lines
    if type(data.origin) == "function" then file, lines = data:origin() end
    return {
      nrow = data:nrow(), names = names, file = file, lines = lines,
      get = function(name) if set[name] then return accessor(data:col(name)) end end,
    }
  end
  if type(data) ~= "table" then
    error("bad argument #2 to 'encode.apply' (Frame or table of columns expected)", 3)
  end
  local names, n = sorted_keys(data), nil
  for _, name in ipairs(names) do
    local col = data[name]
    local len = type(col) == "userdata" and #col or (type(col) == "table" and #col)
    if not len then
      error(("bad argument #2 to 'encode.apply' (column '%s' is not an array)"):format(tostring(name)), 3)
    end
    if n and len ~= n then
      error(("bad argument #2 to 'encode.apply' (column '%s' has %d rows, others %d)"):format(name, len, n), 3)
    end
    n = len
  end
  return {nrow = n or 0, names = names,
          get = function(name) if data[name] ~= nil then return accessor(data[name]) end end}
end

-- The data's column for `name`: exact, else the unique one equal after
-- trimming and ignoring case.
local function find_column(src, name)
  local acc = src.get(name)
  if acc then return acc, name end
  local found
  for _, n in ipairs(src.names) do
    if type(n) == "string" and norm(n) == norm(name) then
      if found then return nil end
      found = n
    end
  end
  if found then return src.get(found), found end
  return nil
end

-- Parses a numeric cell (number or text); nil when it is not a number.
local function parse_number(x)
  if type(x) == "number" then return x end
  local s = trim(x)
  if s:match("^[+-]?0[xX]") then return nil end
  local v = tonumber(s)
  if v and (isnan(v) or v == math.huge or v == -math.huge) then return nil end
  return v
end

local function show(x)
  if type(x) == "number" then return numstr(x) end
  return ("'%s'"):format(x)
end

local function expected_list(c)
  local t = {}
  for i, s in ipairs(c.expected) do
    if i > 12 then t[#t + 1] = "..."; break end
    t[#t + 1] = s
  end
  return table.concat(t, ", ")
end

-- Encodes one cell of coder c. Returns value (number, or level name for
-- category), or nil for missing; or false, message for a bad value.
local function encode_cell(c, x)
  if x == nil then return nil end
  -- An NA spelling matches text cells and numeric cells alike ("-99" is
  -- missing whether the CSV reader kept it as text or parsed it).
  if type(x) == "string" then
    if c.na[norm(x)] then return nil end
  elseif c.na[numstr(x)] then
    return nil
  end
  if c.kind == "numeric" then
    local v = parse_number(x)
    if v == nil then return false, ("value %s is not a number"):format(show(x)) end
    local y = v * c.scale + c.offset
    if c.range and (y < c.range[1] or y > c.range[2]) then
      local conv = (c.scale ~= 1 or c.offset ~= 0) and (" (%s after conversion)"):format(numstr(y)) or ""
      return false, ("value %s%s is outside the plausible range [%s, %s]"):format(
        show(x), conv, numstr(c.range[1]), numstr(c.range[2]))
    end
    return y
  end
  -- Categorical kinds: by spelling; a number cell matches its integer text
  -- or any spelling that is numerically equal ("1.0" vs 1).
  local code
  if type(x) == "number" then
    code = c.map[numstr(x):lower()]
    if code == nil then
      for s, k in pairs(c.map) do
        if tonumber(s) == x then code = k; break end
      end
    end
  else
    code = c.map[norm(x)]
  end
  if code == nil then
    return false, ("value %s is not %s of %s (expected one of: %s)"):format(show(x),
      c.kind == "binary" and "a yes/no spelling" or "a level", c.what, expected_list(c))
  end
  if c.kind == "category" then return c.level_names[code] end
  return code
end

---------------------------------------------------------------------------
-- Applying a spec
---------------------------------------------------------------------------

local function data_error(enc, errors, n_errors, when)
  local lines = {}
  for i = 1, math.min(#errors, MAX_REPORTED) do lines[i] = "  " .. errors[i] end
  local more = n_errors > MAX_REPORTED and ("\n  ... and %d more"):format(n_errors - MAX_REPORTED) or ""
  error(("encode: %s: %d problem%s in the data%s:\n%s%s"):format(
    where(enc.path, enc.centre), n_errors, n_errors == 1 and "" or "s",
    when and (" " .. when) or "", table.concat(lines, "\n"), more), 0)
end

-- The value of derived feature f on the encoded row r: a number, nil when
-- fn marks it undefined (NaN), or nil, message when fn fails, returns a
-- non-number, an infinity, or a value outside the declared range.
local function derived_value(f, r)
  local ok, y = pcall(f.fn, r)
  if not ok then return nil, ("fn failed: %s"):format(tostring(y)) end
  if type(y) ~= "number" then return nil, ("fn returned %s, a number expected"):format(type(y)) end
  if y ~= y then return nil end
  if y == math.huge or y == -math.huge then
    return nil, ("fn returned %s (an infinite value; return 0/0 for an undefined one)"):format(
      y > 0 and "inf" or "-inf")
  end
  if f.range and (y < f.range[1] or y > f.range[2]) then
    return nil, ("value %s is outside the plausible range [%s, %s]"):format(
      numstr(y), numstr(f.range[1]), numstr(f.range[2]))
  end
  return y
end

-- The value of derived outcome c on row i: fn(row) where row holds the
-- raw cells of c.from (acc[column](i)); nil for missing (nil or NaN), or
-- nil, message.
local function derived_outcome(c, acc, i, raw_cell)
  local row = setmetatable({}, {__index = function(_, name)
    local a = acc[name]
    if a == nil then
      error(("column '%s' is not listed in from"):format(tostring(name)), 2)
    end
    return raw_cell(a(i))
  end})
  local ok, y = pcall(c.fn, row)
  if not ok then return nil, ("fn failed: %s"):format(tostring(y)) end
  if y == nil then return nil end
  if type(y) == "boolean" and c.binary then y = y and 1 or 0 end
  if type(y) ~= "number" then return nil, ("fn returned %s, a number expected"):format(type(y)) end
  if y ~= y then return nil end
  if y == math.huge or y == -math.huge then
    return nil, ("fn returned %s (an infinite value)"):format(y > 0 and "inf" or "-inf")
  end
  if c.binary and y ~= 0 and y ~= 1 then return nil, ("fn returned %s, 0 or 1 expected"):format(numstr(y)) end
  if c.range and (y < c.range[1] or y > c.range[2]) then
    return nil, ("value %s is outside the plausible range [%s, %s]"):format(
      numstr(y), numstr(c.range[1]), numstr(c.range[2]))
  end
  return y
end

--- sv.encode.where(d, i) -> text naming row i of encoded data d: the
-- centre, the data file and its physical line, the row, the patient.
function M.where(d, i)
  local parts = {}
  local line = d.lines and d.lines[i]
  local file = (d.files and d.files[i]) or d.file
  if file and line then parts[#parts + 1] = ("%s line %d"):format(file, line)
  elseif line then parts[#parts + 1] = ("line %d"):format(line) end
  if not line then parts[#parts + 1] = ("row %d"):format(d.rows and d.rows[i] or i) end
  local id = d.ids and d.ids[i]
  if id then parts[#parts + 1] = ("patient %s"):format(id) end
  local centre = (d.centres and d.centres[i]) or d.centre or (d.enc and d.enc.centre)
  return ("centre '%s' (%s)"):format(tostring(centre), table.concat(parts, ", "))
end

local OPTS_APPLY = {header_lines = true, rows = true, id = true, file = true}

--- sv.encode.apply(enc, data [, opts]) -> d
function M.apply(enc, data, opts)
  if type(enc) ~= "table" or not enc.features then
    error("bad argument #1 to 'encode.apply' (an encoding from sv.encode.load or sv.encode.check expected)", 2)
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not OPTS_APPLY[k] then error(("unknown option '%s' to encode.apply"):format(tostring(k)), 2) end
  end
  if opts.header_lines ~= nil and math.type(opts.header_lines) ~= "integer" then
    error("bad option 'header_lines' to encode.apply (integer expected)", 2)
  end
  if opts.id ~= nil and type(opts.id) ~= "string" then
    error("bad option 'id' to encode.apply (column name expected)", 2)
  end
  if opts.file ~= nil and type(opts.file) ~= "string" then
    error("bad option 'file' to encode.apply (file name expected)", 2)
  end
  local src = source(data)
  local n = src.nrow
  local ctx = where(enc.path, enc.centre)

  -- Where each row came from: the data file and the physical line of the
  -- record (a Frame read from CSV knows it), else the row number plus the
  -- caller's header_lines, else just the row; and the patient.
  local lines = src.lines
  if not lines and opts.header_lines then
    lines = {}
    for i = 1, n do lines[i] = i + opts.header_lines end
  end
  local loc = {centre = enc.centre, file = opts.file or src.file, lines = lines, enc = enc}

  local errors, n_errors = {}, 0
  local function report(msg)
    n_errors = n_errors + 1
    if #errors < MAX_REPORTED then errors[#errors + 1] = msg end
  end
  local function cell_where(col, i)
    return ("%s: column '%s'"):format(M.where(loc, i), col)
  end

  -- Columns first: all missing ones are reported together.
  local acc = {}
  for _, c in ipairs(enc.features) do
    if c.kind ~= "derived" then
      local a, found = find_column(src, c.column)
      if not a then
        report(("column '%s' (feature '%s') is not in the data"):format(c.column, c.name))
      end
      acc[c.name], c.found = a, found
    end
  end
  local id_col = opts.id or enc.id
  if id_col then
    local a, found = find_column(src, id_col)
    if not a then
      report(("column '%s' (the patient identifier, id) is not in the data"):format(id_col))
    else
      loc.ids = {}
      for i = 1, n do
        local x = a(i)
        loc.ids[i] = x ~= nil and (type(x) == "number" and numstr(x) or tostring(x)) or nil
      end
      loc.id_column = found
    end
  end
  local out_acc = {}
  for _, name in ipairs(enc.outcome_names) do
    local c = enc.outcomes[name]
    if c.kind == "derived" then
      local a = {}
      for _, col in ipairs(c.from) do
        local ac = find_column(src, col)
        if not ac then
          if not c.optional then
            report(("column '%s' (from of outcome '%s') is not in the data"):format(col, name))
          end
          a = nil
          break
        end
        a[col] = ac
      end
      out_acc[name] = a -- nil: an optional outcome whose columns are absent
    else
      local a = find_column(src, c.column)
      if not a and not c.optional then
        report(("column '%s' (outcome '%s') is not in the data"):format(c.column, name))
      end
      out_acc[name] = a
    end
  end
  if n_errors > 0 then
    local have = {}
    for i, nm in ipairs(src.names) do
      if i > 30 then have[#have + 1] = "..."; break end
      have[#have + 1] = tostring(nm)
    end
    errors[#errors + 1] = "columns in the data: " .. table.concat(have, ", ")
    data_error(enc, errors, n_errors)
  end

  -- A raw cell as an encoding function sees it: a number or a string, nil
  -- when missing or spelled as missing (the spec's na).
  local function raw_cell(x)
    if x == nil then return nil end
    if type(x) == "string" then
      if enc.na[norm(x)] then return nil end
    elseif enc.na[numstr(x)] then
      return nil
    end
    return x
  end

  -- Row filter: keep(row) sees every raw column by name; an unknown name
  -- is an error (a typo must not keep or drop everything silently).
  local n_source = n
  local srows = {}
  if enc.keep then
    local raw = {}
    local function column(name)
      if raw[name] == nil then
        raw[name] = (type(name) == "string" and find_column(src, name)) or false
      end
      return raw[name]
    end
    for si = 1, n do
      local row = setmetatable({}, {__index = function(_, name)
        local a = column(name)
        if not a then error(("column '%s' is not in the data"):format(tostring(name)), 2) end
        return raw_cell(a(si))
      end})
      local ok, keep = pcall(enc.keep, row)
      if not ok then
        report(("%s: keep failed: %s"):format(M.where(loc, si), tostring(keep)))
      elseif keep then
        srows[#srows + 1] = si
      end
    end
    if n_errors > 0 then data_error(enc, errors, n_errors) end
    n = #srows
    local function remap(t)
      if not t then return nil end
      local out = {}
      for i, si in ipairs(srows) do out[i] = t[si] end
      return out
    end
    loc.lines, loc.ids, lines = remap(loc.lines), remap(loc.ids), remap(lines)
    local function mapped(a) return a and function(i) return a(srows[i]) end end
    for name, a in pairs(acc) do acc[name] = mapped(a) end
    for name, a in pairs(out_acc) do
      if type(a) == "table" then
        for col, ac in pairs(a) do a[col] = mapped(ac) end
      else
        out_acc[name] = mapped(a)
      end
    end
  else
    for i = 1, n do srows[i] = i end
  end

  local p = #enc.names
  local cols = {}           -- output name -> array of n numbers
  for _, o in ipairs(enc.names) do cols[o] = {} end
  local missing = {}
  for _, c in ipairs(enc.features) do missing[c.name] = 0 end
  local NaN = 0 / 0

  for i = 1, n do
    local r = {} -- encoded features of this row, by feature name
    for _, c in ipairs(enc.features) do
      local v
      if c.kind == "derived" then
        local complete = true
        for _, s in ipairs(c.from) do
          if r[s] == nil then complete = false end
        end
        if complete then
          local y, msg = derived_value(c, r)
          if msg then
            report(("%s: derived feature '%s': %s"):format(M.where(loc, i), c.name, msg))
          end
          v = y
        end
      else
        local x = acc[c.name](i)
        local y, msg = encode_cell(c, x)
        if y == false then
          report(cell_where(c.found, i) .. ": " .. msg)
        else
          v = y
        end
      end
      if c.kind == "onehot" then
        for k, o in ipairs(c.outputs) do
          r[o] = onehot_code(c, v, k)
          cols[o][i] = r[o] or NaN
        end
        if v then r[c.name] = c.level_names[v] end
      else
        cols[c.name][i] = v or NaN
        r[c.name] = v
      end
      if v == nil then missing[c.name] = missing[c.name] + 1 end
    end
  end

  local outcomes = {}
  local outcome_missing = {}
  for _, name in ipairs(enc.outcome_names) do
    local c, a = enc.outcomes[name], out_acc[name]
    local vals, miss = {}, 0
    for i = 1, n do
      local y, msg
      if c.kind == "derived" then
        if a then y, msg = derived_outcome(c, a, i, raw_cell) end
        if msg then
          report(("%s: derived outcome '%s': %s"):format(M.where(loc, i), name, msg))
          y = nil
        end
      elseif a then
        y, msg = encode_cell(c, a(i))
      end
      if y == false then
        report(cell_where(c.column, i) .. ": " .. msg)
        y = nil
      end
      if y == nil then miss = miss + 1 end
      if c.kind == "category" then vals[i] = y or false else vals[i] = y or NaN end
    end
    outcomes[name] = c.kind == "category" and vals or sv.vector(vals)
    outcome_missing[name] = miss
  end
  if n_errors > 0 then data_error(enc, errors, n_errors) end

  local rows = {}
  for i = 1, n do
    local row = {}
    for j, o in ipairs(enc.names) do row[j] = cols[o][i] end
    rows[i] = row
  end
  local X = n > 0 and sv.matrix(rows, enc.names) or nil
  local levels = {}
  for _, name in ipairs(enc.outcome_names) do
    local c = enc.outcomes[name]
    if c.kind == "category" then levels[name] = c.level_names end
  end
  local row_index = {}
  for i = 1, n do row_index[i] = opts.rows and opts.rows[srows[i]] or srows[i] end
  return {
    X = X, names = enc.names, n = n, p = p, outcomes = outcomes, levels = levels,
    missing = missing, outcome_missing = outcome_missing, centre = enc.centre,
    path = enc.path, enc = enc, rows = row_index, header_lines = opts.header_lines,
    file = loc.file, lines = lines, ids = loc.ids, id_column = loc.id_column,
    filter = enc.keep and {rows = n_source, kept = n, dropped = n_source - n} or nil,
  }
end

---------------------------------------------------------------------------
-- Helpers on encoded data
---------------------------------------------------------------------------

--- sv.encode.subset(d, idx) -> d restricted to the rows idx (1-based).
function M.subset(d, idx)
  if type(idx) ~= "table" then error("bad argument #2 to 'encode.subset' (array of row indices expected)", 2) end
  local out = {}
  for k, v in pairs(d) do out[k] = v end
  out.X = #idx > 0 and d.X:rows(idx) or nil
  out.n = #idx
  out.outcomes = {}
  for name, v in pairs(d.outcomes) do
    local t = {}
    for a, i in ipairs(idx) do t[a] = v[i] end
    out.outcomes[name] = type(v) == "userdata" and sv.vector(t) or t
  end
  out.rows = {}
  for a, i in ipairs(idx) do out.rows[a] = d.rows[i] end
  for _, key in ipairs({"lines", "ids", "centres", "files"}) do
    if d[key] then
      local t = {}
      for a, i in ipairs(idx) do t[a] = d[key][i] end
      out[key] = t
    end
  end
  out.missing = {}
  for _, c in ipairs(d.enc.features) do
    local cnt = 0
    local col = out.X and out.X:col(c.outputs[1])
    for a = 1, out.n do if isnan(col[a]) then cnt = cnt + 1 end end
    out.missing[c.name] = cnt
  end
  return out
end

local function is_missing_value(v)
  return v == nil or v == false or (type(v) == "number" and v ~= v)
end

local CC_OPTS = {outcomes = true, features = true, time = true, event = true}

--- sv.encode.complete_cases(d [, opts]) -> idx, info
-- The rows usable for one task: every listed outcome (and feature)
-- present, as R's na.omit / na.action; the others are left out and
-- counted per reason. A survival outcome (time, event) is also checked:
-- a present time must be finite and >= 0 and a present event 0 or 1,
-- else an error naming the centre, file line and patient.
function M.complete_cases(d, opts)
  if type(d) ~= "table" or math.type(d.n) ~= "integer" or type(d.outcomes) ~= "table" then
    error("bad argument #1 to 'encode.complete_cases' (an encoded data set from sv.encode.apply expected)", 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #2 to 'encode.complete_cases' (options table expected)", 2) end
  for k in pairs(opts) do
    if not CC_OPTS[k] then error(("unknown option '%s' to encode.complete_cases"):format(tostring(k)), 2) end
  end
  local checks = {} -- {kind = "outcome"|"feature", name =, get = function(i)}
  local function outcome(name, what)
    if type(name) ~= "string" then
      error(("bad option '%s' to encode.complete_cases (outcome name expected)"):format(what), 3)
    end
    local v = d.outcomes[name]
    if v == nil then
      local have = {}
      for k in pairs(d.outcomes) do have[#have + 1] = k end
      table.sort(have)
      error(("bad option '%s' to encode.complete_cases (no outcome '%s'; outcomes: %s)"):format(
        what, name, table.concat(have, ", ")), 3)
    end
    return v
  end
  local seen = {}
  local function add(kind, name, get)
    if seen[kind .. "/" .. name] then return end
    seen[kind .. "/" .. name] = true
    checks[#checks + 1] = {kind = kind, name = name, get = get}
  end
  local time_v = opts.time and outcome(opts.time, "time")
  local event_v = opts.event and outcome(opts.event, "event")
  if opts.time then add("follow-up time", opts.time, function(i) return time_v[i] end) end
  if opts.event then add("event", opts.event, function(i) return event_v[i] end) end
  if opts.outcomes ~= nil then
    if type(opts.outcomes) ~= "table" then
      error("bad option 'outcomes' to encode.complete_cases (array of outcome names expected)", 2)
    end
    for _, name in ipairs(opts.outcomes) do
      local v = outcome(name, "outcomes")
      add("outcome", name, function(i) return v[i] end)
    end
  end
  if opts.features ~= nil and opts.features ~= false then
    local names = opts.features == true and d.names or opts.features
    if type(names) ~= "table" then
      error("bad option 'features' to encode.complete_cases (true or an array of column names expected)", 2)
    end
    for _, name in ipairs(names) do
      local ok, col = pcall(function() return d.X and d.X:col(name) end)
      if not ok then
        error(("bad option 'features' to encode.complete_cases (no column '%s')"):format(tostring(name)), 2)
      end
      add("feature", name, function(i) return col and col[i] end)
    end
  end

  -- invalid (present but impossible) survival values are errors, not drops
  local bad, n_bad = {}, 0
  for i = 1, d.n do
    local t = time_v and time_v[i]
    if t and t == t and not (t >= 0 and t < math.huge) then
      n_bad = n_bad + 1
      if #bad < MAX_REPORTED then
        bad[#bad + 1] = ("%s: follow-up time '%s' is %s; times must be finite and >= 0"):format(
          M.where(d, i), opts.time, numstr(t))
      end
    end
    local e = event_v and event_v[i]
    if e and e == e and e ~= 0 and e ~= 1 then
      n_bad = n_bad + 1
      if #bad < MAX_REPORTED then
        bad[#bad + 1] = ("%s: event '%s' is %s; events must be 0 (censored) or 1"):format(
          M.where(d, i), opts.event, numstr(e))
      end
    end
  end
  if n_bad > 0 then
    local more = n_bad > MAX_REPORTED and ("\n  ... and %d more"):format(n_bad - MAX_REPORTED) or ""
    error(("encode.complete_cases: %d invalid value%s:\n  %s%s"):format(n_bad, n_bad == 1 and "" or "s",
      table.concat(bad, "\n  "), more), 2)
  end

  local idx, dropped = {}, {}
  local counts = {}
  for a = 1, #checks do counts[a] = 0 end
  for i = 1, d.n do
    local ok = true
    for a, c in ipairs(checks) do
      if is_missing_value(c.get(i)) then counts[a] = counts[a] + 1; ok = false end
    end
    if ok then idx[#idx + 1] = i else dropped[#dropped + 1] = i end
  end
  local reasons, parts = {}, {}
  for a, c in ipairs(checks) do
    if counts[a] > 0 then
      local reason = ("missing %s '%s'"):format(c.kind, c.name)
      reasons[#reasons + 1] = {reason = reason, kind = c.kind, name = c.name, n = counts[a]}
      parts[#parts + 1] = ("%s (%d)"):format(reason, counts[a])
    end
  end
  local text
  if #dropped == 0 then
    text = ("all %d patients used"):format(d.n)
  else
    text = ("%d of %d patient%s left out: %s"):format(#dropped, d.n, d.n == 1 and "" or "s",
      table.concat(parts, ", "))
  end
  return idx, {n = d.n, kept = #idx, dropped = #dropped, reasons = reasons, rows = dropped, text = text}
end

--- sv.encode.bind(list) -> one encoded data set: the rows of several
-- (centres, or sets of one centre) one after another, each row keeping
-- its centre, file, line and patient for messages.
function M.bind(list)
  if type(list) ~= "table" or #list == 0 then
    error("bad argument #1 to 'encode.bind' (a non-empty array of encoded data sets expected)", 2)
  end
  local first = list[1]
  for k, d in ipairs(list) do
    if type(d) ~= "table" or math.type(d.n) ~= "integer" or type(d.names) ~= "table" or type(d.outcomes) ~= "table" then
      error(("bad argument #1 to 'encode.bind' (element %d is not an encoded data set)"):format(k), 2)
    end
    local same = #d.names == #first.names
    for j = 1, #first.names do same = same and d.names[j] == first.names[j] end
    if not same then
      error(("bad argument #1 to 'encode.bind' (element %d (centre '%s') has other columns than element 1 (centre '%s'))"):format(
        k, tostring(d.centre), tostring(first.centre)), 2)
    end
    for name in pairs(first.outcomes) do
      if d.outcomes[name] == nil then
        error(("bad argument #1 to 'encode.bind' (element %d (centre '%s') has no outcome '%s')"):format(
          k, tostring(d.centre), name), 2)
      end
    end
  end
  local out = {}
  for k, v in pairs(first) do out[k] = v end
  local rows, outcomes = {}, {}
  local per = {rows = {}, lines = {}, ids = {}, centres = {}, files = {}}
  for name in pairs(first.outcomes) do outcomes[name] = {} end
  local n = 0
  for _, d in ipairs(list) do
    local t = d.n > 0 and d.X and d.X:totable() or {}
    for i = 1, d.n do
      n = n + 1
      rows[n] = t[i]
      per.rows[n] = d.rows and d.rows[i] or i
      per.lines[n] = d.lines and d.lines[i] or nil
      per.ids[n] = d.ids and d.ids[i] or nil
      per.centres[n] = (d.centres and d.centres[i]) or d.centre
      per.files[n] = (d.files and d.files[i]) or d.file
      for name, o in pairs(outcomes) do o[n] = d.outcomes[name][i] end
    end
  end
  out.n = n
  out.X = n > 0 and sv.matrix(rows, first.names) or nil
  for name, o in pairs(outcomes) do
    -- category outcomes stay arrays (false = missing), others Vectors
    local v = first.outcomes[name]
    if type(v) == "userdata" then
      for i = 1, n do if o[i] == nil or o[i] == false then o[i] = 0 / 0 end end
      outcomes[name] = sv.vector(o)
    else
      for i = 1, n do if o[i] == nil then o[i] = false end end
    end
  end
  out.outcomes = outcomes
  for k, v in pairs(per) do out[k] = v end
  out.file, out.header_lines, out.filter, out.imputed = nil, nil, nil, nil
  out.missing, out.outcome_missing = {}, {}
  for _, f in ipairs(first.enc.features) do
    local cnt = 0
    local col = out.X and out.X:col(f.outputs[1])
    for i = 1, n do if isnan(col[i]) then cnt = cnt + 1 end end
    out.missing[f.name] = cnt
  end
  for name, o in pairs(outcomes) do
    local cnt = 0
    for i = 1, n do if is_missing_value(o[i]) then cnt = cnt + 1 end end
    out.outcome_missing[name] = cnt
  end
  return out
end

--- sv.encode.indicator(values, level) -> Vector of 1/0 (NaN where missing)
function M.indicator(values, level)
  local t = {}
  for i = 1, #values do
    local v = values[i]
    if v == false or v == nil or (type(v) == "number" and isnan(v)) then t[i] = 0 / 0
    else t[i] = (v == level) and 1 or 0 end
  end
  return sv.vector(t)
end

--- sv.encode.complete(d [, names]) -> indices of rows with no missing feature
function M.complete(d, names)
  if type(d) ~= "table" or type(d.X) ~= "userdata" or math.type(d.n) ~= "integer" then
    error("bad argument #1 to 'encode.complete' (an encoded data set from sv.encode.apply expected)", 2)
  end
  if names ~= nil and type(names) ~= "table" then
    error("bad argument #2 to 'encode.complete' (array of feature names expected)", 2)
  end
  names = names or d.names
  local idx = {}
  local cols = {}
  for j, o in ipairs(names) do cols[j] = d.X:col(o) end
  for i = 1, d.n do
    local ok = true
    for j = 1, #cols do if isnan(cols[j][i]) then ok = false; break end end
    if ok then idx[#idx + 1] = i end
  end
  return idx
end

--- sv.encode.columns(d) -> cols, vars
-- The encoded data as the analyst reads it, for tables: one column per
-- feature (one-hot folded back into one variable; ordinal levels, yes/no
-- and one-hot levels by name; numbers as numbers; missing false/NaN) and
-- per outcome, plus `vars`, the matching variable list for sv.table1
-- (feature order, then outcomes; label, type and levels from the spec).
function M.columns(d, enc)
  if enc ~= nil then
    if type(enc) ~= "table" or type(enc.features) ~= "table" then
      error("bad argument #2 to 'encode.columns' (an encoding from sv.encode.load expected)", 2)
    end
    local same = #enc.names == #d.names
    for j = 1, #d.names do same = same and enc.names[j] == d.names[j] end
    if not same then
      error(("bad argument #2 to 'encode.columns' (%s's encoding gives other output columns than %s's)"):format(
        tostring(enc.centre), tostring(d.enc.centre)), 2)
    end
  else
    enc = d.enc
  end
  local cols, vars = {}, {}
  for _, f in ipairs(enc.features) do
    local out = {}
    if f.kind == "onehot" then
      local blocks = {}
      for _, o in ipairs(f.outputs) do blocks[o] = d.X and d.X:col(o) end
      for i = 1, d.n do
        local v = onehot_level(f, function(o) return blocks[o][i] end)
        out[i] = v and f.level_names[v] or false
      end
      vars[#vars + 1] = {name = f.name, label = f.label, type = "categorical", levels = f.level_names}
    else
      local col = d.X and d.X:col(f.name)
      for i = 1, d.n do
        local x = col[i]
        if f.kind ~= "binary" and f.kind ~= "ordinal" then out[i] = x
        elseif isnan(x) then out[i] = false
        elseif f.kind == "binary" then out[i] = (x == 1) and "yes" or "no"
        else out[i] = f.level_names[math.tointeger(x)] end
      end
      if f.kind == "binary" then
        vars[#vars + 1] = {name = f.name, label = f.label, type = "categorical", levels = {"no", "yes"}}
      elseif f.kind == "ordinal" then
        vars[#vars + 1] = {name = f.name, label = f.label, type = "categorical", levels = f.level_names}
      else
        vars[#vars + 1] = {name = f.name, label = f.label}
      end
    end
    cols[f.name] = out
  end
  for _, name in ipairs(enc.outcome_names) do
    local c = enc.outcomes[name]
    local v = d.outcomes[name]
    local out = {}
    local binary = c.kind == "binary" or (c.kind == "derived" and c.binary)
    for i = 1, d.n do
      local x = v[i]
      if not binary then out[i] = x
      elseif isnan(x) then out[i] = false
      else out[i] = (x == 1) and "yes" or "no" end
    end
    cols[name] = out
    if c.kind == "category" then
      vars[#vars + 1] = {name = name, label = c.label, type = "categorical", levels = c.level_names}
    elseif binary then
      vars[#vars + 1] = {name = name, label = c.label, type = "categorical", levels = {"no", "yes"}}
    else
      vars[#vars + 1] = {name = name, label = c.label}
    end
  end
  return cols, vars
end

---------------------------------------------------------------------------
-- Imputation: statistics from training rows only
---------------------------------------------------------------------------

local function median(vals)
  table.sort(vals)
  local m = #vals
  if m == 0 then return nil end
  if m % 2 == 1 then return vals[(m + 1) // 2] end
  return (vals[m // 2] + vals[m // 2 + 1]) / 2
end

-- Most frequent value; ties go to the smallest (a documented, stable rule).
local function mode(vals)
  local count, best, best_n = {}, nil, 0
  for _, v in ipairs(vals) do count[v] = (count[v] or 0) + 1 end
  for v, k in pairs(count) do
    if k > best_n or (k == best_n and v < best) then best, best_n = v, k end
  end
  return best
end

local Imputer = {}
Imputer.__index = Imputer

--- sv.encode.fit_imputer(d_train [, rules]) -> imp
function M.fit_imputer(a, b, c)
  -- Accepts (d_train [, rules]) or (enc, d_train [, rules]).
  local d_train, rules
  if type(a) == "table" and a.features and not a.X then d_train, rules = b, c or a.impute
  else d_train, rules = a, b end
  if type(d_train) ~= "table" or not d_train.enc then
    error("bad argument #1 to 'encode.fit_imputer' (encoded data from sv.encode.apply expected)", 2)
  end
  local enc = d_train.enc
  rules = rules or enc.impute
  local ctx = where(enc.path, enc.centre)
  local stats, order = {}, {}
  for _, f in ipairs(enc.features) do
    local rule = rules[f.name] or rules["*"]
    if rule ~= nil then
      M._check_rule(ctx, f.name, rule, f)
      local s = {rule = type(rule) == "table" and "constant" or rule}
      if f.kind == "onehot" then
        -- The level index over the one-hot block.
        if s.rule == "constant" then
          for k, lv in ipairs(f.level_names) do if lv == rule.constant then s.value = k end end
        else
          local codes = {}
          for i = 1, d_train.n do
            codes[#codes + 1] = onehot_level(f, function(o) return d_train.X:get(i, o) end)
          end
          s.value = mode(codes)
        end
        if s.value then s.level = f.level_names[s.value] end
      elseif s.rule == "constant" then
        s.value = rule.constant
      else
        local vals = {}
        local col = d_train.X and d_train.X:col(f.name)
        for i = 1, d_train.n do
          local x = col[i]
          if not isnan(x) then vals[#vals + 1] = x end
        end
        if s.rule == "median" then s.value = median(vals)
        elseif s.rule == "mode" then s.value = mode(vals)
        else
          local sum = 0
          for _, x in ipairs(vals) do sum = sum + x end
          s.value = #vals > 0 and sum / #vals or nil
        end
        s.n = #vals
      end
      if s.value == nil then
        error(("encode: %s: cannot impute '%s' by %s: no observed value in the training rows"):format(
          ctx, f.name, s.rule), 2)
      end
      stats[f.name] = s
      order[#order + 1] = f.name
    end
  end
  return setmetatable({stats = stats, order = order, enc = enc, n_train = d_train.n}, Imputer)
end

--- imp:apply(d) -> a copy of d with missing values replaced
function Imputer:apply(d)
  return M.impute(d, self.stats)
end

--- sv.encode.impute(d, stats) -> a copy of d with missing values replaced
function M.impute(d, stats)
  local enc = d.enc
  if d.n == 0 then return d end
  local rows = d.X:totable()
  local col_of = {}
  for j, o in ipairs(d.names) do col_of[o] = j end
  local imputed, was = {}, {}
  local errors, n_errors = {}, 0
  local function report(msg)
    n_errors = n_errors + 1
    if #errors < MAX_REPORTED then errors[#errors + 1] = msg end
  end
  for _, f in ipairs(enc.features) do
    imputed[f.name] = 0
    local s = stats[f.name]
    local j = col_of[f.outputs[1]]
    for i = 1, d.n do
      local row = rows[i]
      if isnan(row[j]) then
        if f.kind == "derived" then
          -- Recomputed from imputed inputs when they are all present now.
          local r, complete = {}, true
          for _, src in ipairs(f.from) do
            local fs = enc.by_name[src]
            if fs.kind == "onehot" then
              local v = onehot_level(fs, function(o) return row[col_of[o]] end)
              for _, o in ipairs(fs.outputs) do r[o] = row[col_of[o]] end
              if v then r[src] = fs.level_names[v] else complete = false end
            else
              r[src] = row[col_of[src]]
              if isnan(r[src]) then complete = false end
            end
          end
          if complete then
            -- The same checks as when the row was encoded: an error in fn
            -- or a value outside the declared range is an error naming the
            -- row, never a silently wrong (or dropped) number.
            local y, msg = derived_value(f, r)
            if msg then
              report(("%s: derived feature '%s' recomputed from imputed inputs: %s"):format(
                M.where(d, i), f.name, msg))
            elseif y then
              row[j] = y
            end
          end
          if isnan(row[j]) and s then row[j] = s.value end
          if not isnan(row[j]) then imputed[f.name] = imputed[f.name] + 1 end
        elseif s then
          if f.kind == "onehot" then
            for k, o in ipairs(f.outputs) do row[col_of[o]] = onehot_code(f, s.value, k) end
          else
            row[j] = s.value
          end
          imputed[f.name] = imputed[f.name] + 1
        end
      end
    end
    was[f.name] = s
  end
  if n_errors > 0 then data_error(enc, errors, n_errors, "after imputation") end
  local out = {}
  for k, v in pairs(d) do out[k] = v end
  out.X = sv.matrix(rows, d.names)
  out.imputed = imputed
  out.impute_stats = stats
  out.missing = {}
  for _, f in ipairs(enc.features) do
    local j = col_of[f.outputs[1]]
    local cnt = 0
    for i = 1, d.n do if isnan(rows[i][j]) then cnt = cnt + 1 end end
    out.missing[f.name] = cnt
  end
  return out
end

-- The columns `names` of encoded data d (before imputation) with missing
-- values: {{feature = name, n = rows}, ...} in the order of names.
function M._missing_counts(d, names)
  local out = {}
  if d.n == 0 then return out end
  for _, nm in ipairs(names) do
    local col, m = d.X:col(nm), 0
    for i = 1, d.n do if isnan(col[i]) then m = m + 1 end end
    if m > 0 then out[#out + 1] = {feature = nm, n = m} end
  end
  return out
end

-- The warning for an entry of _missing_counts over n patients when the
-- model feature is missing for more than half of them (their scores rest
-- on the value imputed from training; all alike when all lack it), else nil.
function M._missing_note(m, n)
  if 2 * m.n <= n then return nil end
  return ("model feature '%s' is missing for %d of %d patients, who are scored with the value imputed " ..
          "from training"):format(m.feature, m.n, n)
end

function Imputer:__tostring()
  local parts = {}
  for _, name in ipairs(self.order) do
    local s = self.stats[name]
    parts[#parts + 1] = ("%s: %s = %s"):format(name, s.rule, s.level or numstr(s.value))
  end
  return ("Imputer (fitted on %d rows)\n  %s"):format(self.n_train, table.concat(parts, "\n  "))
end


---------------------------------------------------------------------------
-- ComBat harmonisation as an encoding step (sv.harmonise.combat)
---------------------------------------------------------------------------

local Harmoniser = {}
Harmoniser.__index = Harmoniser

-- The rows of the columns `names` of encoded data d as a Matrix, with the
-- batch of each row; a missing value is an error naming the row.
local function harmonise_block(fname, d, names, batch)
  if type(d) ~= "table" or not d.enc then
    error(("bad argument #1 to '%s' (encoded data from sv.encode.apply expected)"):format(fname), 3)
  end
  local cols, col_of = {}, {}
  for j, o in ipairs(d.names) do col_of[o] = j end
  for k, name in ipairs(names) do
    if not col_of[name] then
      error(("%s: centre '%s': no feature column '%s'"):format(fname, tostring(d.centre), name), 3)
    end
    cols[k] = d.n > 0 and d.X:col(name) or {}
  end
  local rows, labels = {}, {}
  for i = 1, d.n do
    local r = {}
    for k, name in ipairs(names) do
      local x = cols[k][i]
      if isnan(x) then
        error(("%s: %s: feature '%s' is missing; impute first (sv.encode.fit_imputer)"):format(
          fname, M.where(d, i), name), 3)
      end
      r[k] = x
    end
    rows[i] = r
    local b = batch and batch[i] or d.centre
    if b == nil then error(("%s: row %d has no batch (no centre and no batch given)"):format(fname, i), 3) end
    labels[i] = b
  end
  return rows, labels
end

--- sv.encode.fit_harmoniser(ds [, opts]) -> harmoniser: ComBat fitted on
--- the training rows of one or more encoded data sets; opts.features
--- (columns, default every numeric feature), opts.batch (labels per row,
--- for a single data set; default each data set's centre), ref, mean_only.
function M.fit_harmoniser(ds, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("bad argument #2 to 'encode.fit_harmoniser' (table of options expected)", 2) end
  for k in pairs(opts) do
    if k ~= "features" and k ~= "batch" and k ~= "ref" and k ~= "mean_only" then
      error(("unknown option '%s' to encode.fit_harmoniser"):format(tostring(k)), 2)
    end
  end
  if type(ds) == "table" and ds.enc then ds = {ds} end
  if type(ds) ~= "table" or #ds == 0 then
    error("bad argument #1 to 'encode.fit_harmoniser' (encoded data, or an array of them, expected)", 2)
  end
  if opts.batch ~= nil and (#ds ~= 1 or type(opts.batch) ~= "table") then
    error("bad option 'batch' to encode.fit_harmoniser (an array of labels for one data set expected)", 2)
  end
  local names = opts.features
  if names == nil then
    names = {}
    for _, f in ipairs(ds[1].enc.features) do
      if f.kind == "numeric" then names[#names + 1] = f.outputs[1] end
    end
  elseif type(names) ~= "table" then
    error("bad option 'features' to encode.fit_harmoniser (array of column names expected)", 2)
  end
  local X, batch = {}, {}
  for _, d in ipairs(ds) do
    local rows, labels = harmonise_block("encode.fit_harmoniser", d, names, opts.batch)
    for i = 1, #rows do X[#X + 1] = rows[i]; batch[#batch + 1] = labels[i] end
  end
  local h = sv.harmonise.combat(sv.matrix(X, names), batch, {ref = opts.ref, mean_only = opts.mean_only})
  return setmetatable({combat = h, features = names, n_train = #X}, Harmoniser)
end

--- h:apply(d [, batch]) -> a copy of d with the features harmonised by
--- the training fit (batch per row, default d's centre)
function Harmoniser:apply(d, batch)
  local rows, labels = harmonise_block("harmoniser.apply", d, self.features, batch)
  if d.n == 0 then return d end
  local A = self.combat:apply(sv.matrix(rows, self.features), labels)
  local out = {}
  for k, v in pairs(d) do out[k] = v end
  local all = d.X:totable()
  local col_of = {}
  for j, o in ipairs(d.names) do col_of[o] = j end
  for i = 1, d.n do
    for k, name in ipairs(self.features) do all[i][col_of[name]] = A:get(i, k) end
  end
  out.X = sv.matrix(all, d.names)
  out.harmonised = self.features
  return out
end

function Harmoniser:__tostring()
  return ("Harmoniser (ComBat on %d training rows: %s)"):format(self.n_train, table.concat(self.features, ", "))
end

return M
