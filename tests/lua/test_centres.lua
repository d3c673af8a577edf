-- sv.centres against R on the Rotterdam tumour bank with the years of
-- surgery grouped into six pseudo-centres (tests/oracle/centres_r.R):
-- standardised mean differences, internal-external cross-validation of a
-- logistic model (glm, pROC, metafor), and model updating for a new centre
-- (glm with an offset, Vergouwe et al. 2017's closed test).
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/centres/"
local rot = T.read_cohort("rotterdam.csv")
local n = #rot.year
local cuts = {1984, 1986, 1988, 1990, 1991, 1993}
local centre = {}
for i = 1, n do
  local c = 1
  while rot.year[i] > cuts[c] do c = c + 1 end
  centre[i] = c
end
local FEAT = {"age", "nodes", "grade", "pgr"}
local X = {}
for i = 1, n do X[i] = {rot.age[i], rot.nodes[i], rot.grade[i], rot.pgr[i]} end
X = sv.matrix(X, FEAT)
local y = rot.recur

T.test("SMD between every pair of centres agrees with Austin's formula in R", function()
  local cols = {"age", "nodes", "pgr", "er", "meno", "hormon"}
  local rows = {}
  for i = 1, n do local r = {} for j, c in ipairs(cols) do r[j] = rot[c][i] end rows[i] = r end
  local res = sv.centres.smd(sv.matrix(rows, cols), centre)
  local byname = {}
  for _, r in ipairs(res) do byname[r.feature] = r end
  local count = 0
  for _, f in ipairs(T.read_fixture_rows(FIX .. "smd.csv")) do
    local r = byname[f.feature]
    T.eq(r.binary, f.binary == 1, f.feature)
    local found
    for _, pr in ipairs(r.pairs) do if pr.a == f.a and pr.b == f.b then found = pr.smd end end
    T.near(found, f.smd, 1e-12, f.feature .. " " .. f.a .. "-" .. f.b, true)
    count = count + 1
  end
  T.eq(count, 6 * 15)
  -- the reported SMD is the largest in absolute value
  for _, r in ipairs(res) do
    for _, pr in ipairs(r.pairs) do T.ok(math.abs(pr.smd) <= math.abs(r.smd), r.feature) end
  end
end)

T.test("membership model: centres of shuffled rows cannot be told apart, shifted ones can", function()
  -- half the rows of gbsg as centre A, half as B: OOB AUC about 0.5;
  -- with B's tumour size shifted by 25 mm (about 1.7 SD): well above
  local g = T.read_cohort("gbsg.csv")
  local rows, lab, shifted = {}, {}, {}
  for i = 1, #g.age do
    rows[i] = {g.age[i], g.size[i], g.nodes[i]}
    lab[i] = i % 2 == 0 and "A" or "B"
    shifted[i] = {g.age[i], g.size[i] + (lab[i] == "B" and 25 or 0), g.nodes[i]}
  end
  local m = sv.centres.membership(rows, lab, {forest = {trees = 100, threads = 1}})
  T.ok(m.auc[1] > 0.4 and m.auc[1] < 0.6, "no shift: AUC " .. m.auc[1])
  T.eq(#m.auc, 1, "two centres: one forest")
  local s = sv.centres.membership(shifted, lab, {forest = {trees = 100, threads = 1}, names = {"age", "size", "nodes"}})
  T.ok(s.auc[1] > 0.7, "shifted size: AUC " .. s.auc[1])
  T.ok(s.importance[1].size > s.importance[1].age, "the shifted feature is the one used")
end)

-- the pipeline of the oracle: glm(recur ~ age + nodes + grade + pgr)
local function fit(rows)
  local m = sv.glm.logistic(X:rows(rows), sv.split.take(y, rows))
  return function(r) return m:predict(X:rows(r)) end
end

T.test("IECV: per-centre AUC, O/E, slope, CITL and their pooling agree with R", function()
  local res = sv.centres.iecv(y, centre, fit)
  local per = T.read_fixture_rows(FIX .. "iecv_centres.csv")
  T.eq(#res.groups, 6)
  for k, r in ipairs(per) do
    local g = res.groups[k]
    T.eq(g.group, r.centre); T.eq(g.n, r.n); T.eq(g.events, r.events)
    for _, f in ipairs({"expected", "oe", "auc", "auc_lo", "auc_hi", "auc_se", "slope", "slope_se", "citl", "citl_se"}) do
      T.near(g[f], r[f], 1e-8, ("centre %d %s"):format(k, f), true)
    end
  end
  local names = {auc = "auc", oe = "oe", slope = "estimate", citl = "estimate"}
  for _, r in ipairs(T.read_fixture_rows(FIX .. "iecv_pooled.csv")) do
    local p = res.pooled[r.measure]
    local fit_ = p.fit or p
    T.near(p[names[r.measure]], r.est, 1e-8, r.measure .. " estimate", true)
    for _, f in ipairs({"lo", "hi", "pi_lo", "pi_hi"}) do T.near(p[f], r[f], 1e-8, r.measure .. " " .. f, true) end
    T.near(fit_.tau2, r.tau2, 1e-8, r.measure .. " tau2")
    T.near(fit_.i2, r.i2, 1e-6, r.measure .. " i2")
  end
  T.eq(#res.predictions, n)
  -- the forest plot of the pooled AUC draws the per-centre numbers
  local svg = sv.centres.forest_plot(res)
  -- (each centre's interval is the Wald interval on the logit scale that
  -- is pooled, transformed back, as metafor's forest() draws it)
  local f = res.pooled.auc.fit
  local function ex(x) return 1 / (1 + math.exp(-x)) end
  T.ok(svg:find(("%.2f [%.2f, %.2f]"):format(res.groups[1].auc, ex(f.ci_lo[1]), ex(f.ci_hi[1])), 1, true))
  T.ok(svg:find(("%.2f [%.2f, %.2f]"):format(res.pooled.auc.auc, res.pooled.auc.lo, res.pooled.auc.hi), 1, true))
  T.ok(sv.centres.forest_plot(res, {measure = "slope"}):find("Calibration slope", 1, true))
end)

T.test("subgroups: the same table for any grouping column", function()
  local res = sv.centres.iecv(y, centre, fit)
  local sub = sv.centres.subgroups(y, res.predictions, rot.meno)
  T.eq(#sub.groups, 2)
  local total = 0
  for _, g in ipairs(sub.groups) do total = total + g.n end
  T.eq(total, n)
  -- a subgroup's AUC is the AUC of its rows
  local yy, pp = {}, {}
  for i = 1, n do if rot.meno[i] == sub.groups[1].group then yy[#yy + 1] = y[i]; pp[#pp + 1] = res.predictions[i] end end
  T.eq(sub.groups[1].auc, sv.roc.auc(yy, pp).auc)
end)

T.test("updating for a new centre: glm with offset, LR tests and the closed-test choice as in R", function()
  local dev_rows = {}
  for i = 1, n do if centre[i] <= 3 then dev_rows[#dev_rows + 1] = i end end
  local dev = sv.glm.logistic(X:rows(dev_rows), sv.split.take(y, dev_rows))
  for _, r in ipairs(T.read_fixture_rows(FIX .. "update.csv")) do
    local rows = {}
    for i = 1, n do if (r.centre == 0 and centre[i] <= 3) or centre[i] == r.centre then rows[#rows + 1] = i end end
    local lp = dev:predict(X:rows(rows), {type = "link"})
    local p = {}
    for i = 1, #lp do p[i] = 1 / (1 + math.exp(-r.factor * lp[i])) end
    local u = sv.centres.update(sv.split.take(y, rows), p)
    local what = ("centre %d x%d"):format(r.centre, r.factor)
    T.eq(u.choice, r.choice, what)
    T.near(u.loglik.none, r.ll0, 1e-9, what .. " ll0", true)
    T.near(u.loglik.intercept, r.ll1, 1e-9, what .. " ll1", true)
    T.near(u.loglik.recalibration, r.ll2, 1e-9, what .. " ll2", true)
    T.near(u.intercept.a, r.a1, 1e-8, what .. " a1", true)
    T.near(u.recalibration.a, r.a2, 1e-8, what .. " a2", true)
    T.near(u.recalibration.b, r.b2, 1e-8, what .. " b2", true)
    T.near(u.tests[1].p, r.p2, 1e-6, what .. " p2", true)
    T.near(u.tests[2].p, r.p21, 1e-6, what .. " p21", true)
    -- the updated predictions: intercept update shifts the logit by a1
    local q = u.apply({p[1]}, "intercept")
    T.near(q[1], 1 / (1 + math.exp(-(r.a1 + r.factor * lp[1]))), 1e-9)
  end
  T.raises(function() sv.centres.update({0, 0, 0}, {0.2, 0.3, 0.4}) end, "y holds only class 0")
  T.raises(function() sv.centres.update({0, 1}, {0.2, 1}) end, "bad argument #2 to 'centres.update' (element 2 is 1")
  T.raises(function() sv.centres.update({0, 1}, {0.2, 0.3}, {alpha = 2}) end, "bad option 'alpha'")
end)

T.test("the study runner's IECV step: each centre scored by a model of the others", function()
  local dir = T.root .. "/examples/her2"
  local spec = dofile(dir .. "/study.lua")
  spec.base, spec.survival, spec.dependence = dir, nil, 0
  spec.validation = {method = "iecv", refit = "model"}
  spec.subgroups = {"postmenopausal"}
  spec.tasks = {spec.tasks[1]}
  local r = sv.study.run(spec, {quick = true, threads = 1, log = false, write = false})
  local t = r.tasks[1]
  T.eq(t.status, "done", t.reason)
  local ctx, perf = t.ctx, t.ctx.iecv
  T.eq(#perf.groups, 2)
  -- centre 2 left out: imputation and forest refitted on centre 1's task
  -- patients alone, with the tuned options and features; its AUC is the
  -- AUC of that model on centre 2
  local imp = sv.encode.fit_imputer(ctx.dev_task.d)
  local o = {trees = ctx.spec.model.trees, seed = ctx.spec.seed, threads = 1}
  for k, v in pairs(ctx.forest) do o[k] = v end
  if math.type(o.mtry) == "integer" and o.mtry > #ctx.selected then o.mtry = #ctx.selected end
  local f = sv.forest.train(imp:apply(ctx.dev_task.d).X:cols(ctx.selected), ctx.dev_task.y, o)
  local e = ctx.ext_task[1]
  local p = f:predict(imp:apply(e.d).X:cols(ctx.selected))
  local g2 = perf.groups[1].group == e.centre.name and perf.groups[1] or perf.groups[2]
  T.eq(g2.n, #e.y)
  T.near(g2.auc, sv.roc.auc(e.y, p).auc, 1e-12)
  T.ok(perf.pooled.auc and perf.pooled.auc.auc > 0.5, "pooled AUC")
  local found = false
  for _, b in ipairs(r.report.blocks) do if b.name == "task1_iecv_forest" then found = true end end
  T.ok(found, "the forest plot is in the report")
  -- the shift step: an SMD row per feature and the membership AUC
  local sh = ctx.shift
  T.eq(#sh.smd, #ctx.dev_task.d.names + 1)
  T.eq(sh.smd[#sh.smd].measure, "OOB AUC")
  -- feature 1's SMD by Austin's formula on the observed values
  local f1 = ctx.dev_task.d.names[1]
  local function moments(col)
    local v = {}
    for i = 1, #col do if col[i] == col[i] then v[#v + 1] = col[i] end end
    local m = 0 for i = 1, #v do m = m + v[i] end m = m / #v
    local s2 = 0 for i = 1, #v do s2 = s2 + (v[i] - m) ^ 2 end
    return m, s2 / (#v - 1)
  end
  local m1, v1 = moments(ctx.dev_task.d.X:col(f1))
  local m2, v2 = moments(ctx.ext_task[1].d.X:col(f1))
  T.eq(sh.smd[1].feature, f1)
  T.near(sh.smd[1].value, (m1 - m2) / math.sqrt((v1 + v2) / 2), 1e-12)
  -- the update step: the external centre's closed test on the final scores
  local e1 = ctx.sets[3]
  local u = ctx.updates[e1.centre]
  local eps = 1 / (2 * ctx.spec.model.trees)
  local p = {}
  for i = 1, #e1.y do p[i] = math.min(math.max(e1.score[i], eps), 1 - eps) end
  T.eq(u.choice, sv.centres.update(e1.y, p).choice)
  -- subgroups: every test-set patient with the feature observed, by its value
  local sg = ctx.subgroups.postmenopausal
  T.eq(#sg.groups, 2)
  local total, expect = 0, 0
  for _, g in ipairs(sg.groups) do total = total + g.n end
  for _, set in ipairs(ctx.sets) do
    if set ~= ctx.train then
      local col = set.raw.X:col("postmenopausal")
      for i = 1, #set.y do if col[i] == col[i] then expect = expect + 1 end end
    end
  end
  T.eq(total, expect)
  -- centres = {...}: the first develops, the others are external
  local cs = sv.study.spec({base = dir, centres = {spec.development, spec.external[1]}, tasks = spec.tasks})
  T.eq(cs.development.name, spec.development.name)
  T.eq(#cs.external, 1); T.eq(cs.external[1].name, spec.external[1].name)
  T.raises(function() sv.study.spec({base = dir, centres = {spec.development}, development = spec.development, tasks = spec.tasks}) end,
           "give either centres = {...} or development/external, not both")
  T.raises(function() sv.study.spec({development = spec.development, tasks = spec.tasks, validation = {method = "loo"}}) end,
           "validation.method must be \"iecv\"")
end)

T.test("bad input names the argument", function()
  T.raises(function() sv.centres.smd({{1}, {2}}, {"a", "a"}) end, "there is only 1 centre")
  T.raises(function() sv.centres.smd({{1}, {2}}, {"a"}) end, "has 1 labels, there are 2 rows")
  T.raises(function() sv.centres.iecv({0, 1}, {"a", "a"}, fit) end, "there is only 1 centre")
  T.raises(function() sv.centres.iecv({0, 1}, {"a", "b"}, 3) end, "a pipeline function")
  T.raises(function() sv.centres.performance({0, 1}, {0.5}, {"a", "b"}) end, "has 1 values, y has 2")
end)

T.done()
