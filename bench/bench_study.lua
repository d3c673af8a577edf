-- bench_study.lua - the whole HER2 study (examples/her2/study.lua) against
-- the same analysis written with R's ranger + pROC + survival
-- (bench/study_r.R: same data, encoding, split rule, grid, 5-fold CV, trees,
-- evaluation and survival analysis; no SHAP, so it selects features by
-- ranger's permutation importance). Both are timed as whole processes, start
-- to finish, on the same machine in the same run; the ratio is what to read.
--   make bench BENCH=study
local sv = require "sylva"

local bin = arg[-1] or "sylva"
local threads = tonumber(os.getenv("SYLVA_THREADS") or "2")
local out = os.getenv("SYLVA_TMP") or "/tmp"

local function run(cmd)
  local t0 = sv.clock()
  local ok = os.execute(cmd)
  return ok and (sv.clock() - t0) or nil
end

local t_sylva = run(("SYLVA_THREADS=%d SYLVA_OUT=%q %q examples/her2/study.lua > %q 2>&1")
  :format(threads, out .. "/bench_study_her2", bin, out .. "/bench_study_sylva.log"))
if not t_sylva then
  print("sylva study failed; see " .. out .. "/bench_study_sylva.log")
  os.exit(1)
end
print(("sylva  examples/her2/study.lua (with SHAP)     %7.2f s"):format(t_sylva))

local have_r = os.execute("Rscript -e 'suppressMessages({library(ranger); library(pROC); library(survival)})' > /dev/null 2>&1")
if not have_r then
  print("R with ranger, pROC and survival not installed: peer skipped")
  return
end
local t_r = run(("Rscript bench/study_r.R examples/her2/data 500 %d > %q 2>&1")
  :format(threads, out .. "/bench_study_r.log"))
if not t_r then
  print("R study failed; see " .. out .. "/bench_study_r.log")
  os.exit(1)
end
print(("R      bench/study_r.R (no SHAP)               %7.2f s"):format(t_r))
print(("ratio  R / sylva                                %7.1fx"):format(t_r / t_sylva))
