-- sv.encode: per-centre encodings, every error path, imputation without leakage.
local T = require "testing"
local sv = require "sylva"
local enc_mod = sv.encode

local FIX = T.root .. "/tests/fixtures/encode/"
local NaN = 0 / 0
local function isnan(x) return x ~= x end

-- A Frame-like object over a small CSV (no quoting), with read_csv's
-- conventions: a column whose non-missing cells all parse is a Vector,
-- else an array of strings with false for missing ("" and "NA").
local function fake_frame(path)
  local header, rows = nil, {}
  for line in io.lines(path) do
    local f = {}
    for x in (line .. ","):gmatch("([^,]*),") do f[#f + 1] = x end
    if not header then header = f else rows[#rows + 1] = f end
  end
  local cols = {}
  for j, name in ipairs(header) do
    local numeric, vals = true, {}
    for i, r in ipairs(rows) do
      local x = r[j]
      if x == "" or x == "NA" then vals[i] = false
      else
        vals[i] = x
        if not tonumber(x) then numeric = false end
      end
    end
    if numeric then
      local t = {}
      for i = 1, #rows do t[i] = vals[i] and tonumber(vals[i]) or NaN end
      cols[name] = sv.vector(t)
    else
      cols[name] = vals
    end
  end
  return {
    names = function() return header end,
    nrow = function() return #rows end,
    col = function(_, name) return cols[name] end,
  }
end

local function load_frame(path)
  if sv.read_csv then return sv.read_csv(path) end
  return fake_frame(path)
end

local enc = enc_mod.load(FIX .. "centre_a.lua")
local d = enc_mod.apply(enc, load_frame(FIX .. "centre_a.csv"))

T.test("output names follow the spec order; one-hot expands to name_level", function()
  local want = {"age", "size_mm", "fgt", "edema", "shape_oval", "shape_round", "shape_irregular", "ratio"}
  T.eq(#d.names, #want)
  for j, n in ipairs(want) do T.eq(d.names[j], n) end
  T.eq(d.X:ncol(), 8)
  T.eq(d.X:nrow(), 5)
  T.eq(d.X:names()[5], "shape_oval")
  T.eq(d.centre, "Centre A")
end)

T.test("numeric cells are converted by scale (cm -> mm) and missing is NaN", function()
  T.eq(d.X:get(1, "size_mm"), 25)   -- 2.5 cm * 10
  T.eq(d.X:get(2, "size_mm"), 10)
  T.ok(isnan(d.X:get(4, "size_mm")), "empty cell is missing")
  T.ok(isnan(d.X:get(3, "age")), "NA is missing")
  T.eq(d.missing.age, 1)
  T.eq(d.missing.size_mm, 1)
end)

T.test("ordinal synonyms map to level numbers, case and spaces ignored", function()
  -- a -> 1, "2" -> 2, " FATTY " -> 1 (synonym of a), d -> 4, n/a -> missing
  T.eq(d.X:get(1, "fgt"), 1)
  T.eq(d.X:get(2, "fgt"), 2)
  T.eq(d.X:get(3, "fgt"), 1)
  T.eq(d.X:get(4, "fgt"), 4)
  T.ok(isnan(d.X:get(5, "fgt")))
end)

T.test("binary synonyms give 1/0 and one-hot gives indicator columns", function()
  T.eq(d.X:get(1, "edema"), 1)  -- yes
  T.eq(d.X:get(2, "edema"), 0)  -- No
  T.eq(d.X:get(3, "edema"), 0)  -- n
  T.ok(isnan(d.X:get(4, "edema")))
  T.eq(d.X:get(5, "edema"), 1)  -- y
  T.eq(d.X:get(2, "shape_round"), 1) -- "Round"
  T.eq(d.X:get(2, "shape_oval"), 0)
  T.eq(d.X:get(3, "shape_irregular"), 1)
  T.ok(isnan(d.X:get(5, "shape_oval")), "missing shape -> all indicators NaN")
  T.eq(d.missing.shape, 1)
end)

T.test("a derived feature is computed from the encoded row, NaN when an input is missing", function()
  T.near(d.X:get(1, "ratio"), 25 / 50, 1e-15)
  T.near(d.X:get(2, "ratio"), 10 / 60, 1e-15)
  T.ok(isnan(d.X:get(3, "ratio")), "age missing")
  T.ok(isnan(d.X:get(4, "ratio")), "size missing")
end)

T.test("outcomes: category level names, numeric Vector, binary 0/1", function()
  local h = d.outcomes.her2
  T.eq(h[1], "positive"); T.eq(h[2], "low"); T.eq(h[3], "zero"); T.eq(h[4], "low"); T.eq(h[5], "positive")
  T.eq(d.outcomes.dfs_months[2], 24.5)
  T.ok(isnan(d.outcomes.dfs_months[3]))
  local e = d.outcomes.dfs_event
  T.eq(e[1], 0); T.eq(e[2], 1); T.eq(e[3], 0); T.eq(e[4], 1); T.eq(e[5], 1)
  local pos = enc_mod.indicator(h, "positive")
  T.eq(pos[1], 1); T.eq(pos[2], 0); T.eq(pos[5], 1)
  T.eq(d.levels.her2[1], "low") -- sorted level names when no order is given
end)

T.test("a plain table of columns is accepted as data", function()
  local d2 = enc_mod.apply(enc, {
    Age = {50}, Size_cm = {"2,5" == "" and 0 or 2.5}, FGT = {"b"}, Peritumoral_edema = {"0"},
    Shape = {"oval"}, HER2 = {"zero"}, DFS = {10}, Recurrence = {"no"}})
  T.eq(d2.X:get(1, "fgt"), 2)
  T.eq(d2.X:get(1, "size_mm"), 25)
end)

-- Every error path names the centre, the file, the column, the value and the row.
local function data_with(overrides)
  local cols = {Age = {50, 60}, Size_cm = {2.5, 1}, FGT = {"a", "b"}, Peritumoral_edema = {"yes", "no"},
                Shape = {"oval", "round"}, HER2 = {"pos", "low"}, DFS = {10, 20}, Recurrence = {"no", "yes"}}
  for k, v in pairs(overrides) do cols[k] = v end
  return cols
end

T.test("an unknown category names centre, file, column, value and row", function()
  local err = T.raises(function() enc_mod.apply(enc, data_with({FGT = {"a", "e"}})) end, "Centre A")
  T.ok(err:find("centre_a.lua", 1, true), err)
  T.ok(err:find("centre 'Centre A' (row 2): column 'FGT': value 'e' is not a level of feature 'fgt'", 1, true), err)
  -- the caller may say how many header lines precede row 1
  err = T.raises(function() enc_mod.apply(enc, data_with({FGT = {"a", "e"}}), {header_lines = 1}) end, "(line 3)")
  T.ok(err:find("fatty", 1, true), "lists the accepted spellings: " .. err)
end)

T.test("an out-of-range value is an error, checked after unit conversion", function()
  -- 20 cm -> 200 mm > 150
  local err = T.raises(function() enc_mod.apply(enc, data_with({Size_cm = {2, 20}})) end, "column 'Size_cm'")
  T.ok(err:find("value 20 (200 after conversion)", 1, true), err)
  T.ok(err:find("[1, 150]", 1, true), err)
  T.ok(err:find("(row 2): column 'Size_cm'", 1, true), err)
  T.raises(function() enc_mod.apply(enc, data_with({Age = {17, 60}})) end, "(row 1): column 'Age'")
end)

T.test("a non-number in a numeric column is an error", function()
  T.raises(function() enc_mod.apply(enc, data_with({Age = {"fifty", 60}})) end, "value 'fifty' is not a number")
  T.raises(function() enc_mod.apply(enc, data_with({Age = {"0x20", 60}})) end, "is not a number")
end)

T.test("a missing column is an error naming it and listing the columns present", function()
  local cols = data_with({})
  cols.Peritumoral_edema = nil
  local err = T.raises(function() enc_mod.apply(enc, cols) end, "column 'Peritumoral_edema' (feature 'edema') is not in the data")
  T.ok(err:find("Centre A (" .. FIX .. "centre_a.lua)", 1, true), err)
  T.ok(err:find("columns in the data:", 1, true), err)
  cols = data_with({})
  cols.HER2 = nil
  T.raises(function() enc_mod.apply(enc, cols) end, "column 'HER2' (outcome 'her2')")
end)

T.test("a column matches after trimming and ignoring case when unique", function()
  local cols = data_with({})
  cols[" age "] = cols.Age; cols.Age = nil
  local d2 = enc_mod.apply(enc, cols)
  T.eq(d2.X:get(2, "age"), 60)
end)

T.test("bad binary, one-hot and outcome values are errors with the row", function()
  T.raises(function() enc_mod.apply(enc, data_with({Peritumoral_edema = {"maybe", "no"}})) end,
    "value 'maybe' is not a yes/no spelling of feature 'edema'")
  T.raises(function() enc_mod.apply(enc, data_with({Shape = {"oval", "star"}})) end,
    "(row 2): column 'Shape': value 'star' is not a level of feature 'shape'")
  T.raises(function() enc_mod.apply(enc, data_with({HER2 = {"pos", "4+"}})) end,
    "(row 2): column 'HER2': value '4+' is not a level of outcome 'her2'")
  T.raises(function() enc_mod.apply(enc, data_with({DFS = {10, 500}})) end, "outside the plausible range [0, 200]")
  T.raises(function() enc_mod.apply(enc, data_with({Recurrence = {"no", "dunno"}})) end,
    "value 'dunno' is not a yes/no spelling of outcome 'dfs_event'")
end)

-- Issue 13: a header with quoted line breaks made "row 15 (CSV line 16)"
-- name the wrong line. The reader now records the physical line of each
-- record; errors name the file, that line, the patient and the column.
T.test("data errors name the file's physical line and the patient (quoted line breaks)", function()
  local path = T.tmp .. "/siemens.csv"
  local f = assert(io.open(path, "wb"))
  -- lines 1-4: a header whose names hold three line breaks; line 5: P1;
  -- line 6 blank; lines 7-8: P2 with a line break inside a quoted note;
  -- line 9: P3 with the bad HER2 value.
  f:write('"Patient\nID","HER2\nstatus","Age at\r\ndiagnosis",Note\n',
          "Breast_MRI_001,pos,50,x\n\n",
          'Breast_MRI_002,neg,61,"two\nlines"\n',
          "Breast_MRI_029,3,70,z\n")
  f:close()
  local spec = {centre = "Siemens", id = "Patient\nID", features = {
    {name = "age", column = "Age at\r\ndiagnosis", kind = "numeric", range = {18, 100}}},
    outcomes = {her2 = {column = "HER2\nstatus", kind = "binary", yes = {"pos"}, no = {"neg"}}}}
  local e = enc_mod.check(spec, "enc/siemens.lua")
  local frame = sv.read_csv(path)
  local err = T.raises(function() enc_mod.apply(e, frame) end,
    "centre 'Siemens' (" .. path .. " line 9, patient Breast_MRI_029): column 'HER2\nstatus': value '3' is not a yes/no spelling of outcome 'her2'")
  T.ok(err:find("1 problem in the data", 1, true), err)
  -- the same rows read fine when valid; lines and patients follow subsets
  local dd = enc_mod.apply(e, frame:rows({1, 2}))
  T.eq(dd.file, path)
  T.eq(dd.lines[1], 5); T.eq(dd.lines[2], 7)
  T.eq(dd.ids[2], "Breast_MRI_002")
  local sub = enc_mod.subset(dd, {2})
  T.eq(enc_mod.where(sub, 1), "centre 'Siemens' (" .. path .. " line 7, patient Breast_MRI_002)")
  -- a row filtered from the frame keeps its own line
  T.raises(function() enc_mod.apply(e, frame:rows({3})) end, " line 9, patient Breast_MRI_029)")
  -- the caller may give a shorter file name for messages and the id column
  spec.id = nil
  e = enc_mod.check(spec, "enc/siemens.lua")
  T.raises(function() enc_mod.apply(e, frame, {file = "c2.csv", id = "Patient\nID"}) end,
    "centre 'Siemens' (c2.csv line 9, patient Breast_MRI_029): column 'HER2\nstatus'")
  -- without an id column the row's line alone is named
  T.raises(function() enc_mod.apply(e, frame, {file = "c2.csv"}) end, "centre 'Siemens' (c2.csv line 9): column")
  -- an id column that is not in the data is an error like any column
  T.raises(function() enc_mod.apply(e, frame, {id = "MRN"}) end, "column 'MRN' (the patient identifier, id) is not in the data")
  T.raises(function() enc_mod.apply(e, frame, {id = 3}) end, "bad option 'id' to encode.apply")
  T.raises(function() enc_mod.check({centre = "X", id = 5, features = spec.features}, "x.lua") end, "'id' must name")
end)

-- Issue 13: outcomes derived from several raw columns, row filters, and one
-- encoding extending another.
local function dfs_spec()
  return {centre = "C", id = "ID", features = {{name = "age", column = "Age", kind = "numeric"}},
    outcomes = {
      -- DFS: time to recurrence or death, else to last contact (days -> months)
      dfs_time = {kind = "derived", from = {"Recurrence_days", "Death_days", "Last_contact_days"}, range = {0, 300},
        fn = function(row)
          local t = row.Recurrence_days or row.Death_days or row.Last_contact_days
          return t and t / 30 or nil
        end},
      dfs_event = {kind = "derived", binary = true, from = {"Recurrence_days", "Death_days", "Last_contact_days"},
        fn = function(row)
          if row.Recurrence_days or row.Death_days then return 1 end
          if row.Last_contact_days then return 0 end
        end},
    }}
end
local dfs_data = {ID = {"P1", "P2", "P3", "P4"}, Age = {50, 60, 70, 80},
  Recurrence_days = {300, false, false, false}, Death_days = {false, 600, false, false},
  Last_contact_days = {900, 900, 90, "unknown"}}

T.test("a derived outcome is computed from the row's raw columns", function()
  local spec = dfs_spec()
  spec.na = {"", "NA", "unknown"}
  local dd = enc_mod.apply(enc_mod.check(spec, "enc/dfs.lua"), dfs_data)
  -- hand-worked: P1 recurrence at 300 d, P2 death at 600 d, P3 censored at 90 d, P4 unknown
  T.eq(dd.outcomes.dfs_time[1], 10); T.eq(dd.outcomes.dfs_time[2], 20); T.eq(dd.outcomes.dfs_time[3], 3)
  T.ok(isnan(dd.outcomes.dfs_time[4]))
  T.eq(dd.outcomes.dfs_event[1], 1); T.eq(dd.outcomes.dfs_event[2], 1); T.eq(dd.outcomes.dfs_event[3], 0)
  T.ok(isnan(dd.outcomes.dfs_event[4]))
  T.eq(dd.outcome_missing.dfs_time, 1)
  local cols, vars = enc_mod.columns(dd)
  T.eq(cols.dfs_event[1], "yes"); T.eq(cols.dfs_event[3], "no"); T.eq(cols.dfs_event[4], false)
  for _, v in ipairs(vars) do if v.name == "dfs_event" then T.eq(v.type, "categorical") end end
end)

T.test("derived outcome errors name the row, the patient and the outcome", function()
  local spec = dfs_spec()
  -- "unknown" is not an NA spelling here: fn fails on text / 30
  local err = T.raises(function() enc_mod.apply(enc_mod.check(spec, "enc/dfs.lua"), dfs_data) end,
    "centre 'C' (row 4, patient P4): derived outcome 'dfs_time': fn failed")
  T.ok(err:find("1 problem in", 1, true), err) -- dfs_event gives 0 for P4; only dfs_time fails
  spec = dfs_spec()
  spec.outcomes.dfs_time.range = {0, 15}
  spec.na = {"", "unknown"}
  T.raises(function() enc_mod.apply(enc_mod.check(spec), dfs_data) end,
    "(row 2, patient P2): derived outcome 'dfs_time': value 20 is outside the plausible range [0, 15]")
  spec.outcomes.dfs_event.fn = function() return 2 end
  T.raises(function() enc_mod.apply(enc_mod.check(spec), dfs_data) end, "fn returned 2, 0 or 1 expected")
  spec.outcomes.dfs_event.fn = function(row) return row.Recurrence end
  T.raises(function() enc_mod.apply(enc_mod.check(spec), dfs_data) end, "column 'Recurrence' is not listed in from")
  spec.outcomes.dfs_event.fn = function() return "yes" end
  T.raises(function() enc_mod.apply(enc_mod.check(spec), dfs_data) end, "fn returned string, a number expected")
  spec.outcomes.dfs_event.fn = function() return 1 / 0 end
  spec.outcomes.dfs_event.binary = nil
  T.raises(function() enc_mod.apply(enc_mod.check(spec), dfs_data) end, "fn returned inf")
  spec.outcomes.dfs_event.from = {"Recurrence_days", "Nope"}
  T.raises(function() enc_mod.apply(enc_mod.check(spec), dfs_data) end,
    "column 'Nope' (from of outcome 'dfs_event') is not in the data")
  spec.outcomes.dfs_event.fn = nil
  T.raises(function() enc_mod.check(spec, "x.lua") end, "outcome 'dfs_event': fn must be a function")
  spec.outcomes.dfs_event = {kind = "derived", from = {"A"}, fn = function() end, column = "A"}
  T.raises(function() enc_mod.check(spec, "x.lua") end, "unknown field 'column'")
end)

T.test("keep filters rows on raw columns; the kept and dropped rows are counted", function()
  local spec = {centre = "Siemens only", id = "ID", features = {{name = "age", column = "Age", kind = "numeric"}},
    keep = function(row) return row.Vendor == "Siemens" end,
    outcomes = {y = {column = "Y", kind = "binary", yes = {"1"}, no = {"0"}}}}
  local data = {ID = {"P1", "P2", "P3", "P4"}, Age = {50, 60, 70, 80}, Vendor = {"GE", "Siemens", "GE", "Siemens"},
                Y = {"bad", 1, "bad", 0}}   -- the GE rows' bad cells are never read
  local dd = enc_mod.apply(enc_mod.check(spec, "enc/k.lua"), data)
  T.eq(dd.n, 2); T.eq(dd.X:get(1, "age"), 60); T.eq(dd.X:get(2, "age"), 80)
  T.eq(dd.outcomes.y[1], 1); T.eq(dd.outcomes.y[2], 0)
  T.eq(dd.rows[1], 2); T.eq(dd.rows[2], 4)
  T.eq(dd.ids[2], "P4")
  T.eq(dd.filter.rows, 4); T.eq(dd.filter.kept, 2); T.eq(dd.filter.dropped, 2)
  T.eq(enc_mod.where(dd, 2), "centre 'Siemens only' (row 4, patient P4)")
  -- a typo in keep's column is an error, not an empty cohort
  spec.keep = function(row) return row.Vendr == "Siemens" end
  T.raises(function() enc_mod.apply(enc_mod.check(spec), data) end,
    "centre 'Siemens only' (row 1, patient P1): keep failed:")
  T.raises(function() enc_mod.apply(enc_mod.check(spec), data) end, "column 'Vendr' is not in the data")
  spec.keep = "Siemens"
  T.raises(function() enc_mod.check(spec, "x.lua") end, "'keep' must be a function")
  -- keeping nothing is allowed (the runner skips such a task) and counted
  spec.keep = function() return false end
  dd = enc_mod.apply(enc_mod.check(spec), data)
  T.eq(dd.n, 0); T.eq(dd.filter.dropped, 4)
end)

T.test("base: an encoding extends another and overrides only what differs", function()
  local b = enc_mod.load(FIX .. "centre_b.lua")
  T.eq(b.centre, "Centre B")
  local want = {"age", "size_mm", "fgt", "edema", "shape_oval", "shape_round", "shape_irregular", "ratio", "bmi"}
  T.eq(table.concat(b.names, ","), table.concat(want, ","))
  T.eq(b.by_name.age.column, "AGE")
  T.eq(b.by_name.age.range[2], 100)            -- kept from the base
  T.eq(b.by_name.size_mm.scale, 1)              -- scale = false removed the base's 10
  T.eq(b.by_name.size_mm.range[2], 200)
  T.eq(b.by_name.fgt.level_names[1], "a")       -- untouched feature
  T.eq(b.impute.fgt, nil); T.eq(b.impute.size_mm, "median")
  T.eq(b.outcomes.dfs_months, nil); T.ok(b.outcomes.her2)
  T.eq(type(b.keep), "function")
  local data = {AGE = {50, 60}, Size_mm = {25, 180}, FGT = {"a", "b"}, Peritumoral_edema = {"yes", "no"},
    Shape = {"oval", "round"}, HER2 = {"pos", "low"}, Recurrence = {"no", "yes"}, BMI = {20, 30},
    Vendor = {"GE", "Siemens"}}
  local dd = enc_mod.apply(b, data)
  T.eq(dd.n, 1); T.eq(dd.X:get(1, "size_mm"), 180); T.eq(dd.X:get(1, "bmi"), 30)
  -- two levels, relative to the child's folder; keep = false drops the filter
  local c = enc_mod.load(FIX .. "sub/centre_c.lua")
  T.eq(c.centre, "Centre C"); T.eq(c.keep, nil); T.eq(#c.names, 9)
  T.eq(enc_mod.apply(c, data).n, 2)
  -- cycles and missing bases are errors naming the files
  local err = T.raises(function() enc_mod.load(FIX .. "cycle_1.lua") end, "'base' makes a cycle")
  T.ok(err:find("cycle_1.lua -> " .. FIX .. "cycle_2.lua -> " .. FIX .. "cycle_1.lua", 1, true), err)
  T.raises(function() enc_mod.check({base = FIX .. "nope.lua", centre = "X"}, "x.lua") end, "nope.lua: cannot open")
  T.raises(function() enc_mod.check({base = 5, centre = "X"}, "x.lua") end, "'base' must be the path")
  -- a base runs in the same sandbox: no io, os or require
  T.raises(function() enc_mod.check({base = "uses_io.lua", centre = "X"}, FIX .. "inline.lua") end,
    "uses_io.lua: error while running the file")
  -- a spec table may name a base too (relative to its path argument)
  local d2 = enc_mod.check({base = "centre_a.lua", centre = "Inline"}, FIX .. "inline.lua")
  T.eq(d2.centre, "Inline"); T.eq(#d2.names, 8)
  -- a child feature of another kind replaces the base's entry whole
  local d3 = enc_mod.check({base = "centre_a.lua", features = {{name = "fgt", column = "FGT", kind = "numeric"}}},
    FIX .. "inline.lua")
  T.eq(d3.by_name.fgt.kind, "numeric"); T.eq(d3.by_name.fgt.level_names, nil)
end)

-- Issue 13: patients with a missing outcome or follow-up are left out of a
-- task and counted (R's na.omit); an impossible follow-up is an error
-- naming the patient, not "time[136] is -nan".
T.test("complete_cases leaves out rows with a missing outcome and counts them per reason", function()
  local spec = dfs_spec()
  spec.na = {"", "NA", "unknown"}
  spec.outcomes.grp = {column = "G", kind = "category", levels = {a = {"a"}, b = {"b"}}}
  local data = {}
  for k, v in pairs(dfs_data) do data[k] = v end
  data.G = {"a", false, "b", "b"}
  local dd = enc_mod.apply(enc_mod.check(spec, "enc/dfs.lua"), data)
  local idx, info = enc_mod.complete_cases(dd, {time = "dfs_time", event = "dfs_event"})
  -- hand-worked: P4 has neither time nor event
  T.eq(#idx, 3); T.eq(idx[3], 3)
  T.eq(info.n, 4); T.eq(info.kept, 3); T.eq(info.dropped, 1); T.eq(info.rows[1], 4)
  T.eq(#info.reasons, 2)
  T.eq(info.reasons[1].reason, "missing follow-up time 'dfs_time'"); T.eq(info.reasons[1].n, 1)
  T.eq(info.reasons[2].reason, "missing event 'dfs_event'")
  T.eq(info.text, "1 of 4 patients left out: missing follow-up time 'dfs_time' (1), missing event 'dfs_event' (1)")
  -- a category outcome and features: P2 lacks grp
  idx, info = enc_mod.complete_cases(dd, {outcomes = {"grp", "dfs_time"}, features = true})
  T.eq(#idx, 2); T.eq(idx[1], 1); T.eq(idx[2], 3)
  T.eq(info.reasons[1].n, 1); T.eq(info.reasons[2].n, 1)
  idx, info = enc_mod.complete_cases(dd)
  T.eq(#idx, 4); T.eq(info.text, "all 4 patients used")
  -- follow-up time 0 (censored on the day of diagnosis) is kept, as R's Surv does
  dd.outcomes.dfs_time = sv.vector({0, 20, 3, NaN})
  T.eq(#enc_mod.complete_cases(dd, {time = "dfs_time", event = "dfs_event"}), 3)
  -- argument errors
  T.raises(function() enc_mod.complete_cases(dd, {time = "os"}) end, "no outcome 'os'")
  T.raises(function() enc_mod.complete_cases(dd, {tme = "dfs_time"}) end, "unknown option 'tme'")
  T.raises(function() enc_mod.complete_cases(dd, {features = {"zz"}}) end, "no column 'zz'")
  T.raises(function() enc_mod.complete_cases({}) end, "bad argument #1 to 'encode.complete_cases'")
end)

T.test("an impossible follow-up or event names centre, file line and patient", function()
  local path = T.tmp .. "/fu.csv"
  local f = assert(io.open(path, "wb"))
  f:write('ID,"Follow-up\n(days)",Event\nP1,30,1\nP2,-5,0\nP3,40,2\n')
  f:close()
  local e = enc_mod.check({centre = "GE", id = "ID", features = {{name = "ev", column = "Event", kind = "numeric"}},
    outcomes = {t = {column = "Follow-up\n(days)", kind = "numeric"}, e = {column = "Event", kind = "numeric"}}})
  local dd = enc_mod.apply(e, sv.read_csv(path))
  local err = T.raises(function() enc_mod.complete_cases(dd, {time = "t", event = "e"}) end, "2 invalid values")
  T.ok(err:find("centre 'GE' (" .. path .. " line 4, patient P2): follow-up time 't' is -5; times must be finite and >= 0", 1, true), err)
  T.ok(err:find("(" .. path .. " line 5, patient P3): event 'e' is 2; events must be 0 (censored) or 1", 1, true), err)
  dd.outcomes.t = sv.vector({30, 1 / 0, 40})
  dd.outcomes.e = sv.vector({1, 0, 1})
  T.raises(function() enc_mod.complete_cases(dd, {time = "t", event = "e"}) end, "follow-up time 't' is inf")
end)

T.test("bind stacks centres; each row keeps its centre, file line and patient", function()
  local spec = {centre = "A", id = "ID", features = {{name = "x", column = "X", kind = "numeric"}},
    outcomes = {t = {column = "T", kind = "numeric"}, g = {column = "G", kind = "category", levels = {u = {"u"}, v = {"v"}}}}}
  local da = enc_mod.apply(enc_mod.check(spec), {ID = {"A1", "A2"}, X = {1, 2}, T = {10, 20}, G = {"u", "v"}})
  spec.centre = "B"
  local db = enc_mod.apply(enc_mod.check(spec), {ID = {"B1"}, X = {3}, T = {-1}, G = {false}}, {file = "b.csv", header_lines = 2})
  local all = enc_mod.bind({da, db})
  T.eq(all.n, 3); T.eq(all.X:get(3, "x"), 3)
  T.eq(all.outcomes.t[3], -1); T.eq(all.outcomes.g[2], "v"); T.eq(all.outcomes.g[3], false)
  T.eq(all.outcome_missing.g, 1)
  T.eq(enc_mod.where(all, 1), "centre 'A' (row 1, patient A1)")
  T.eq(enc_mod.where(all, 3), "centre 'B' (b.csv line 3, patient B1)")
  -- the index that used to be reported (time[3]) is now the patient
  T.raises(function() enc_mod.complete_cases(all, {time = "t"}) end,
    "centre 'B' (b.csv line 3, patient B1): follow-up time 't' is -1")
  T.eq(enc_mod.where(enc_mod.subset(all, {3}), 1), "centre 'B' (b.csv line 3, patient B1)")
  T.raises(function() enc_mod.bind({da, {n = 1}}) end, "element 2 is not an encoded data set")
  local other = enc_mod.apply(enc_mod.check({centre = "C", features = {{name = "y", column = "X", kind = "numeric"}}}), {X = {1}})
  T.raises(function() enc_mod.bind({da, other}) end, "has other columns")
end)

T.test("several problems are reported together with a count", function()
  local err = T.raises(function() enc_mod.apply(enc, data_with({FGT = {"x", "y"}, Age = {5, 60}})) end, "3 problems")
  T.ok(err:find("'x'", 1, true) and err:find("'y'", 1, true) and err:find("value 5", 1, true), err)
end)

T.test("a failing derived function is an error naming the feature and row", function()
  local spec = {centre = "C", features = {
    {name = "a", column = "A", kind = "numeric"},
    {name = "b", kind = "derived", from = {"a"}, fn = function(r) if r.a > 1 then error("boom") end return r.a end}}}
  local e2 = enc_mod.check(spec, "inline.lua")
  T.raises(function() enc_mod.apply(e2, {A = {1, 2}}) end, "centre 'C' (row 2): derived feature 'b': fn failed")
  spec.features[2].fn = function() return "x" end
  T.raises(function() enc_mod.apply(enc_mod.check(spec), {A = {1}}) end, "returned string")
end)

-- Spec validation: mistakes in the encoding file are reported with the file.
T.test("spec mistakes are errors naming the file", function()
  local function bad(spec, pattern)
    local err = T.raises(function() enc_mod.check(spec, "enc/x.lua") end, pattern)
    T.ok(err:find("enc/x.lua", 1, true), err)
  end
  local base = function() return {centre = "X", features = {{name = "a", column = "A", kind = "numeric"}}} end
  bad(42, "must be a table")
  bad({features = base().features}, "'centre' must name the centre")
  bad({centre = "X"}, "'features' must be a non-empty array")
  local s = base(); s.features[1].kind = "numberic"; bad(s, "kind must be numeric")
  s = base(); s.features[1].rnage = {1, 2}; bad(s, "unknown field 'rnage' in feature 'a'")
  s = base(); s.features[1].range = {5, 1}; bad(s, "low <= high")
  s = base(); s.features[1].scale = 0; bad(s, "scale must be a non-zero number")
  s = base(); s.features[1].column = nil; bad(s, "column must be a non-empty string")
  s = base(); s.features[2] = {name = "a", column = "B", kind = "numeric"}; bad(s, "defined twice")
  s = base(); s.features[2] = {name = "o", column = "O", kind = "ordinal", levels = {{"x", "1"}, {"1"}}}
  bad(s, "spelling '1' belongs to two levels")
  s = base(); s.features[2] = {name = "b", column = "B", kind = "binary", yes = {"y"}}; bad(s, "no must be a non-empty array")
  s = base(); s.features[2] = {name = "d", kind = "derived", from = {"zz"}, fn = function() return 1 end}
  bad(s, "from names 'zz'")
  s = base(); s.features[2] = {name = "d", kind = "derived", from = {"a"}}; bad(s, "fn must be a function")
  s = base(); s.impute = {b = "median"}; bad(s, "impute: 'b' is not a feature")
  s = base(); s.impute = {a = "average"}; bad(s, "rule must be")
  s = base(); s.outcomes = {y = {column = "Y", kind = "survival"}}; bad(s, "kind must be numeric, binary, category or derived")
  s = base(); s.outcomes = {y = {column = "Y", kind = "category", levels = {p = {"1"}, q = {"1"}}}}
  bad(s, "belongs to two levels")
  s = base(); s.whatever = 1; bad(s, "unknown field 'whatever' in the spec")
end)

T.test("load: a syntax error, a missing file and I/O in the file are errors naming the path", function()
  T.raises(function() enc_mod.load(FIX .. "bad_syntax.lua") end, FIX .. "bad_syntax.lua: syntax error")
  T.raises(function() enc_mod.load(FIX .. "nope.lua") end, "nope.lua: cannot open")
  -- The file runs in a sandbox without io/os/require.
  T.raises(function() enc_mod.load(FIX .. "uses_io.lua") end, "uses_io.lua: error while running the file")
end)

-- Imputation: statistics come from the training rows only.
T.test("imputation fits median/mode/mean/constant on training rows", function()
  local imp = enc_mod.fit_imputer(d)
  -- size_mm observed 25, 10, 30, 40 -> median (25 + 30) / 2 = 27.5
  T.eq(imp.stats.size_mm.value, 27.5)
  -- fgt observed 1, 2, 1, 4 -> mode 1
  T.eq(imp.stats.fgt.value, 1)
  -- age observed 50, 60, 45, 70 -> mean 56.25
  T.eq(imp.stats.age.value, 56.25)
  T.eq(imp.stats.edema.value, 0)
  -- shape: oval 2, round 1, irregular 1 -> oval
  T.eq(imp.stats.shape.level, "oval")
  local di = imp:apply(d)
  T.eq(di.X:get(4, "size_mm"), 27.5)
  T.eq(di.X:get(3, "age"), 56.25)
  T.eq(di.X:get(5, "fgt"), 1)
  T.eq(di.X:get(4, "edema"), 0)
  T.eq(di.X:get(5, "shape_oval"), 1)
  T.eq(di.X:get(5, "shape_round"), 0)
  -- the derived ratio is recomputed from the imputed inputs
  T.near(di.X:get(3, "ratio"), 30 / 56.25, 1e-15)
  T.near(di.X:get(4, "ratio"), 27.5 / 45, 1e-15)
  T.eq(di.missing.size_mm, 0)
  T.eq(di.imputed.size_mm, 1)
  -- the input is unchanged
  T.ok(isnan(d.X:get(4, "size_mm")))
end)

-- Issue 12: a derived feature recomputed after imputation used to skip its
-- range check and swallow errors of fn, leaving -90, inf or the rule's
-- value silently in X.
T.test("a derived feature's range holds after imputation of its inputs", function()
  local spec = {centre = "C", features = {
    {name = "a", column = "A", kind = "numeric"},
    {name = "b", column = "B", kind = "numeric"},
    {name = "diff", kind = "derived", from = {"a", "b"}, fn = function(r) return r.a - r.b end, range = {0, 100}}},
    impute = {b = "median"}}
  local e = enc_mod.check(spec, "enc/diff.lua")
  -- rows 1-3 are fine; row 4's b is missing and imputed by the median 100
  local dd = enc_mod.apply(e, {A = {10, 200, 150, 10}, B = {0, 100, 120, NaN}})
  local err = T.raises(function() enc_mod.fit_imputer(dd):apply(dd) end, "value -90 is outside the plausible range [0, 100]")
  T.ok(err:find("centre 'C' (row 4)", 1, true), err)
  T.ok(err:find("derived feature 'diff'", 1, true), err)
  T.ok(err:find("after imputation", 1, true), err)
  -- 1 / b with b imputed by the constant 0: inf is an error, not a value
  spec.features[3] = {name = "inv", kind = "derived", from = {"b"}, fn = function(r) return 1 / r.b end, range = {0, 1}}
  spec.impute = {b = {constant = 0}}
  e = enc_mod.check(spec, "enc/inv.lua")
  dd = enc_mod.apply(e, {A = {1, 2}, B = {2, NaN}})
  err = T.raises(function() enc_mod.fit_imputer(dd):apply(dd) end, "derived feature 'inv'")
  T.ok(err:find("inf", 1, true) and err:find("row 2", 1, true), err)
  -- without a range an infinite value is still refused (when encoding too)
  spec.features[3].range = nil
  e = enc_mod.check(spec, "enc/inv.lua")
  T.raises(function() enc_mod.apply(e, {A = {1}, B = {0}}) end, "an infinite value")
  dd = enc_mod.apply(e, {A = {1, 2}, B = {2, NaN}})
  T.raises(function() enc_mod.fit_imputer(dd):apply(dd) end, "an infinite value")
end)

T.test("an error raised by a derived function after imputation is reported with the row", function()
  local spec = {centre = "C", features = {
    {name = "b", column = "B", kind = "numeric"},
    {name = "g", kind = "derived", from = {"b"}, fn = function(r) if r.b > 5 then error("b too big") end return r.b end}},
    impute = {b = {constant = 9}}}
  local e = enc_mod.check(spec, "enc/g.lua")
  local dd = enc_mod.apply(e, {B = {1, NaN, 2}})
  local err = T.raises(function() enc_mod.fit_imputer(dd):apply(dd) end, "fn failed")
  T.ok(err:find("b too big", 1, true) and err:find("(row 2)", 1, true), err)
  -- a derived value that is legitimately undefined (0/0) stays missing
  spec.features[2].fn = function() return 0 / 0 end
  dd = enc_mod.apply(enc_mod.check(spec), {B = {1, NaN}})
  local di = enc_mod.fit_imputer(dd):apply(dd)
  T.ok(isnan(di.X:get(2, "g")))
end)

T.test("leakage: test rows are imputed with training statistics, never their own", function()
  local train = enc_mod.subset(d, {1, 2, 3})  -- size 25, 10, 30: median 25
  local test = enc_mod.subset(d, {4, 5})      -- size NaN, 40: its own median would be 40
  local imp = enc_mod.fit_imputer(enc, train)
  T.eq(imp.stats.size_mm.value, 25)
  local ti = imp:apply(test)
  T.eq(ti.X:get(1, "size_mm"), 25, "training median, not the test set's 40")
  -- Changing the test data does not change the fitted statistics.
  local imp2 = enc_mod.fit_imputer(enc, train)
  T.eq(imp2.stats.size_mm.value, imp.stats.size_mm.value)
  -- Fitting on train+test would have given a different value: the check can fail.
  T.ok(enc_mod.fit_imputer(d).stats.size_mm.value ~= 25)
  T.eq(test.rows[1], 4)
end)

T.test("imputing with no observed training value is an error", function()
  local train = enc_mod.subset(d, {4})
  T.raises(function() enc_mod.fit_imputer(train, {size_mm = "median"}) end, "no observed value")
end)

T.test("the default rule '*' covers every feature without its own rule", function()
  local imp = enc_mod.fit_imputer(d, {["*"] = "median", shape = "mode"})
  T.eq(imp.stats.fgt.value, 1.5) -- median of 1, 1, 2, 4
  local di = imp:apply(d)
  T.eq(#enc_mod.complete(di), 5)
  T.eq(#enc_mod.complete(d), 2) -- rows 1 and 2 are complete before imputation
end)

T.test("a column's own NA spelling marks numeric cells missing too (-99)", function()
  local spec = {centre = "C", features = {{name = "a", column = "A", kind = "numeric", na = {"-99"}, range = {0, 10}}}}
  local e2 = enc_mod.check(spec)
  local d2 = enc_mod.apply(e2, {A = sv.vector({1, -99, 3})})
  T.ok(isnan(d2.X:get(2, "a")), "-99 as a number is missing, not out of range")
  d2 = enc_mod.apply(e2, {A = {"1", "-99", "3"}})
  T.ok(isnan(d2.X:get(2, "a")), "-99 as text is missing")
  T.eq(d2.missing.a, 1)
end)

T.test("columns: the encoded data as the analyst reads it, with table1 variables", function()
  local cols, vars = enc_mod.columns(d)
  -- ordinal by its level name (first spelling), binary yes/no, one-hot folded
  T.eq(cols.fgt[1], "a"); T.eq(cols.fgt[4], "d"); T.eq(cols.fgt[5], false)
  T.eq(cols.edema[1], "yes"); T.eq(cols.edema[2], "no"); T.eq(cols.edema[4], false)
  T.eq(cols.shape[2], "round"); T.eq(cols.shape[5], false)
  T.eq(cols.size_mm[1], 25); T.ok(isnan(cols.size_mm[4]))
  T.eq(cols.her2[1], "positive"); T.eq(cols.dfs_event[2], "yes")
  T.eq(vars[3].name, "fgt"); T.eq(vars[3].type, "categorical"); T.eq(vars[3].levels[2], "b")
  T.eq(vars[5].name, "shape"); T.eq(vars[5].levels[3], "irregular")
  T.eq(#vars, 6 + 3)
end)

-- drop: one level coded as all zeros (scikit-learn's OneHotEncoder(drop=)),
-- e.g. "not applicable" so that two blocks do not repeat one indicator.
local function drop_spec(extra)
  local spec = {
    centre = "Centre D",
    features = {
      {name = "shape", column = "Shape", kind = "onehot", levels = {"oval", "round", {"nme", "non-mass"}}, drop = "nme"},
      {name = "is_nme", kind = "derived", from = {"shape"}, fn = function(r) return r.shape == "nme" and 1 or 0 end},
    },
  }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return spec
end

T.test("one-hot drop: the dropped level is all zeros, decoded back by name", function()
  local e = enc_mod.check(drop_spec(), "enc/d.lua")
  T.eq(#e.names, 3)
  T.eq(e.names[1], "shape_oval"); T.eq(e.names[2], "shape_round"); T.eq(e.names[3], "is_nme")
  local dd = enc_mod.apply(e, {Shape = {"oval", "Non-Mass", "round", "NA", "nme"}})
  -- row 2 and 5: all zeros; row 4 missing: NaN in every output
  T.eq(dd.X:get(1, "shape_oval"), 1); T.eq(dd.X:get(1, "shape_round"), 0)
  T.eq(dd.X:get(2, "shape_oval"), 0); T.eq(dd.X:get(2, "shape_round"), 0)
  T.ok(isnan(dd.X:get(4, "shape_oval")) and isnan(dd.X:get(4, "shape_round")))
  T.eq(dd.missing.shape, 1)
  -- the derived feature sees the level name of the dropped level
  T.eq(dd.X:get(2, "is_nme"), 1); T.eq(dd.X:get(3, "is_nme"), 0)
  local cols = enc_mod.columns(dd)
  T.eq(cols.shape[1], "oval"); T.eq(cols.shape[2], "nme"); T.eq(cols.shape[3], "round")
  T.eq(cols.shape[4], false); T.eq(cols.shape[5], "nme")
end)

T.test("one-hot drop: imputation counts and fills the dropped level", function()
  local e = enc_mod.check(drop_spec({impute = {shape = "mode"}}), "enc/d.lua")
  -- nme 3 times, oval once: the mode is the dropped level
  local dd = enc_mod.apply(e, {Shape = {"nme", "oval", "nme", "NA", "non-mass"}})
  local imp = enc_mod.fit_imputer(dd)
  T.eq(imp.stats.shape.level, "nme")
  local di = imp:apply(dd)
  T.eq(di.X:get(4, "shape_oval"), 0); T.eq(di.X:get(4, "shape_round"), 0)
  T.eq(di.X:get(4, "is_nme"), 1) -- recomputed from the imputed level
  e = enc_mod.check(drop_spec({impute = {shape = {constant = "round"}}}), "enc/d.lua")
  di = enc_mod.fit_imputer(enc_mod.apply(e, {Shape = {"nme", "NA"}})):apply(enc_mod.apply(e, {Shape = {"nme", "NA"}}))
  T.eq(di.X:get(2, "shape_round"), 1); T.eq(di.X:get(2, "shape_oval"), 0)
end)

T.test("one-hot drop: a name that is not a level, or a single level, is a spec error", function()
  local s = drop_spec(); s.features[1].drop = "non-mass" -- a spelling, not the level's name
  local err = T.raises(function() enc_mod.check(s, "enc/d.lua") end, "drop = non-mass is not one of the levels' names (oval, round, nme)")
  T.ok(err:find("enc/d.lua", 1, true), err)
  s = drop_spec(); s.features[1].levels = {"nme"}
  T.raises(function() enc_mod.check(s, "enc/d.lua") end, "drop needs at least two levels")
end)

T.test("columns(d, enc): another centre's level names, refused when the outputs differ", function()
  local e1 = enc_mod.check({centre = "One", features = {
    {name = "fgt", column = "FGT", kind = "ordinal", levels = {"a", "b"}}}}, "enc/one.lua")
  local e2 = enc_mod.check({centre = "Two", features = {
    {name = "fgt", column = "Density", kind = "ordinal", levels = {"1", "2"}}}}, "enc/two.lua")
  local d2 = enc_mod.apply(e2, {Density = {"2", "1"}})
  T.eq(enc_mod.columns(d2).fgt[1], "2")
  T.eq(enc_mod.columns(d2, e1).fgt[1], "b")
  T.eq(enc_mod.columns(d2, e1).fgt[2], "a")
  T.raises(function() enc_mod.columns(d2, enc) end, "Centre A's encoding gives other output columns than Two's")
  T.raises(function() enc_mod.columns(d2, 5) end, "an encoding from sv.encode.load expected")
end)

T.test("an unknown option to apply is an error", function()
  T.raises(function() enc_mod.apply(enc, data_with({}), {hedaer = 1}) end, "unknown option 'hedaer' to encode.apply")
end)

T.done()
