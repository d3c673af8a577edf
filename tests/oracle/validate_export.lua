-- validate_export.lua - step 1 of the optimism-bootstrap oracle: runs the
-- logistic pipeline of tests/lua/test_validate.lua through
-- sv.validate.bootstrap with record = true and writes each replicate's
-- bootstrap rows, one replicate per line, to
-- tests/fixtures/validate/boot_rows.txt. Step 2, tests/oracle/validate_r.R,
-- recomputes everything from these rows in R. Run from the repository root:
--   build/sylva tests/oracle/validate_export.lua && Rscript tests/oracle/validate_r.R
local sv = require "sylva"
local d = sv.read_csv("tests/fixtures/data/gbsg.csv")
local cols = {"age", "size", "nodes", "pgr", "er", "hormon"}
local X, y = d:matrix(cols), d:col("status")
local function fit(rows)
  local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows))
  return function(r) return m:predict(X:rows(r)) end
end
local r = sv.validate.bootstrap(y, fit, {B = 40, seed = 2024, record = true})
local f = assert(io.open("tests/fixtures/validate/boot_rows.txt", "w"))
for _, rows in ipairs(r.rows) do f:write(table.concat(rows, " "), "\n") end
f:close()
