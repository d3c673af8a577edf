-- shap_fixture.lua - builds the forest and rows that xgboost explains for
-- tests/lua/test_shap.lua. Run from the repository root:
--   build/sylva tests/oracle/shap_fixture.lua
--   /usr/bin/python3 tests/oracle/shap_xgboost.py tests/fixtures/shap/forest.json \
--       tests/fixtures/shap/X.csv tests/fixtures/shap
-- Writes tests/fixtures/shap/{forest.svf, forest.json, X.csv}. The forest is
-- stored in sylva's binary format so that the test explains exactly these
-- trees even if the trainer changes later (the test also checks that the
-- loaded forest exports to the same JSON).
local sv = require "sylva"

-- gbsg.csv is all numbers with a quoted header: a few lines read it
local names = {"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"}
local header, rows, y = nil, {}, {}
for line in io.lines("tests/fixtures/data/gbsg.csv") do
  local fields = {}
  for v in (line .. ","):gmatch("([^,]*),") do fields[#fields + 1] = v:gsub('"', "") end
  if not header then
    header = {}
    for j, n in ipairs(fields) do header[n] = j end
  else
    local r = {}
    for j, n in ipairs(names) do r[j] = assert(tonumber(fields[header[n]])) end
    rows[#rows + 1] = r
    y[#y + 1] = assert(tonumber(fields[header.status]))
  end
end
local X = sv.matrix(rows, names)
-- unlimited depth, as random forests are used in the study
local f = sv.forest.train(X, y, {trees = 40, seed = 20240501})
local out = "tests/fixtures/shap/"
f:save(out .. "forest.svf")
f:export_json(out .. "forest.json")
-- the first 80 rows of gbsg (the data are integers: float32-exact, so
-- xgboost's float32 comparisons route every row as sylva does)
local fh = assert(io.open(out .. "X.csv", "w"))
fh:write(table.concat(names, ","), "\n")
for i = 1, 80 do
  local r = {}
  for j = 1, #names do r[j] = ("%.17g"):format(X:get(i, j)) end
  fh:write(table.concat(r, ","), "\n")
end
fh:close()
local depth = 0
for k = 1, f:ntrees() do
  local t = f:tree(k)
  -- depth from the arrays (0-based child ids)
  local dep = {[0] = 0}
  for n = 0, #t.feature - 1 do
    if t.left[n + 1] >= 0 then
      dep[t.left[n + 1]] = dep[n] + 1
      dep[t.right[n + 1]] = dep[n] + 1
      if dep[n] + 1 > depth then depth = dep[n] + 1 end
    end
  end
end
print(("forest: %d trees, max depth %d"):format(f:ntrees(), depth))
