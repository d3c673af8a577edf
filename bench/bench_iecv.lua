-- bench_iecv.lua - internal-external cross-validation of the HER2 pipeline
-- over 5 centres (issue 17: under a minute on 2 cores). The bundled cohort
-- (examples/her2) is cut into 5 centres: centre 1 into 3 by row order,
-- centre 2 into 2. Each fold refits the whole pipeline (imputation, grid
-- search, SHAP ranking, forward selection, final forest) on the other 4
-- centres: sv.centres.study_iecv, the step `validation = {method = "iecv"}`
-- runs. Printed beside one development fit of the same study, in the same
-- run (the ratio is what to compare across machines).
--   make bench BENCH=iecv              (IECV_THREADS, default 2)
local sv = require "sylva"
local threads = tonumber(os.getenv("IECV_THREADS") or "2")
local root = os.getenv("SYLVA_ROOT") or "."
local dir = root .. "/examples/her2"
local spec = dofile(dir .. "/study.lua")
spec.base, spec.survival, spec.dependence = dir, nil, 0
spec.tasks = {spec.tasks[1]}

local t0 = sv.clock()
local r = sv.study.run(spec, {threads = threads, log = false, write = false})
local t_study = sv.clock() - t0
local ctx = r.tasks[1].ctx
assert(r.tasks[1].status == "done", r.tasks[1].reason)

-- five centres from the task's patients
local function cut(d, y, parts)
  local out, n = {}, d.n
  for k = 1, parts do
    local rows = {}
    for i = math.floor((k - 1) * n / parts) + 1, math.floor(k * n / parts) do rows[#rows + 1] = i end
    out[k] = {d = sv.encode.subset(d, rows), y = sv.split.take(y, rows)}
  end
  return out
end
local c1 = cut(ctx.dev_task.d, ctx.dev_task.y, 3)
local c2 = cut(ctx.ext_task[1].d, ctx.ext_task[1].y, 2)
local five = {}
for k, v in pairs(ctx) do five[k] = v end
five.report = sv.report.new({title = "bench"})
five.notes = {}
five.dev = {name = "C1a", d = ctx.dev.d, enc = ctx.dev.enc}
for k, v in pairs(ctx.dev) do if five.dev[k] == nil then five.dev[k] = v end end
five.dev.name = "C1a"
five.dev_task = {d = c1[1].d, y = c1[1].y}
five.ext_task = {}
local names = {"C1b", "C1c", "C2a", "C2b"}
for k, part in ipairs({c1[2], c1[3], c2[1], c2[2]}) do
  five.ext_task[k] = {centre = {name = names[k]}, d = part.d, y = part.y}
end
five.spec = {}
for k, v in pairs(ctx.spec) do five.spec[k] = v end
five.spec.validation = {method = "iecv", refit = "pipeline"}

t0 = sv.clock()
sv.centres.study_iecv(five, sv.study)
local t_iecv = sv.clock() - t0
local p = five.iecv
for _, g in ipairs(p.groups) do
  print(("  %-4s n %3d  AUC %.3f [%.3f, %.3f]  O/E %.2f  slope %.2f"):format(g.group, g.n, g.auc or 0 / 0,
    g.auc_lo or 0 / 0, g.auc_hi or 0 / 0, g.oe, g.slope or 0 / 0))
end
print(("  pooled AUC %.3f [%.3f, %.3f], 95%% PI %.3f to %.3f"):format(p.pooled.auc.auc, p.pooled.auc.lo,
  p.pooled.auc.hi, p.pooled.auc.pi_lo, p.pooled.auc.pi_hi))
print(("sylva  IECV over 5 centres, whole pipeline refitted 5 times: %.1f s wall on %d threads " ..
  "(issue 17's budget: 60 s on 2 cores)"):format(t_iecv, threads))
print(("ratio  IECV / one development fit of the same study (%.1f s): %.1fx"):format(t_study, t_iecv / t_study))
