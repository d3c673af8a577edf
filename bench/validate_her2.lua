-- validate_her2.lua - the issue's timing of the HER2 demo's Task 1 under
-- the optimism bootstrap: the whole pipeline (imputation, grid search,
-- SHAP ranking, forward selection, final forest) redone in B replicates,
-- in worker processes on `threads` cores, with the demo spec's settings
-- (500 trees everywhere) or with model.cv_trees = CVT (the forests inside
-- cross-validation get CVT trees; docs/study.md). Prints the wall time and
-- the corrected AUC; run it under /usr/bin/time for the CPU time of the
-- workers too (os.clock sees the parent only).
--   sylva bench/validate_her2.lua B threads [CVT] [task]
-- (CVT 0: the spec's trees; task: the index of a binary task, 1 or 2)
local sv = require "sylva"
local B = math.tointeger(tonumber(arg[1] or "200"))
local threads = math.tointeger(tonumber(arg[2] or "2"))
local cvt = arg[3] and math.tointeger(tonumber(arg[3]))
if cvt == 0 then cvt = nil end
local ti = math.tointeger(tonumber(arg[4] or "1"))
local spec = sv.study.spec("examples/her2/study.lua")
local s = {}
for k, v in pairs(spec) do s[k] = v end
s.tasks = {spec.tasks[ti]}
if cvt then
  s.model = {}
  for k, v in pairs(spec.model) do s.model[k] = v end
  s.model.cv_trees = cvt
end
local out = (os.getenv("SYLVA_TMP") or "/tmp") .. "/validate_her2"
local t0 = sv.clock()
local res = sv.study.run(s, {bootstrap = B, threads = threads, out = out, log = false})
local wall = sv.clock() - t0
local v = res.tasks[1].validation
print(("%s B = %d threads = %d cv_trees = %s: wall %.1f s; AUC apparent %.3f optimism %.3f corrected %.3f; " ..
  "ICI corrected %.3f; %d failed"):format(spec.tasks[ti].id, B, threads, tostring(cvt or spec.model.trees), wall, v.apparent.auc,
  v.optimism.auc, v.corrected.auc, v.corrected.ici, v.failed))
