-- test_study_validation.lua - validation = {method = "bootstrap"} in a
-- study spec: the runner validates the whole pipeline with
-- sv.validate.bootstrap (every step refitted per replicate), writes the
-- apparent / optimism / corrected table, the instability and
-- selection-frequency figures and the TRIPOD+AI checklist; the numbers are
-- those of sv.validate.bootstrap over sv.study.pipeline with the same seed.
local T = require "testing"
local sv = require "sylva"

local dir = T.tmp .. "/study_validation"
os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))
local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- a cohort whose outcome depends on size and nodes
local r = sv.rng(3)
local lines = {"id,age,size,grade,nodes,response"}
for i = 1, 160 do
  local size, nodes, grade = r:integer(5, 60), r:uniform() < 0.4 and 1 or 0, r:integer(1, 3)
  local lp = -2 + 0.05 * size + nodes + 0.3 * (grade - 2)
  local y = r:uniform() < 1 / (1 + math.exp(-lp)) and "yes" or "no"
  lines[#lines + 1] = ("P%03d,%d,%d,%d,%d,%s"):format(i, r:integer(30, 80), size, grade, nodes, y)
end
write(dir .. "/dev.csv", table.concat(lines, "\n") .. "\n")
write(dir .. "/enc.lua", [[
return {
  centre = "Synthetic",
  features = {
    {name = "age", column = "age", kind = "numeric", range = {18, 100}},
    {name = "size", column = "size", kind = "numeric", range = {1, 200}},
    {name = "grade", column = "grade", kind = "numeric", range = {1, 3}},
    {name = "nodes", column = "nodes", kind = "numeric", range = {0, 1}},
  },
  impute = {["*"] = "median"},
  outcomes = {response = {column = "response", kind = "binary", yes = {"yes"}, no = {"no"}}},
}
]])
local SPEC = [[
return {
  title = "Validated study", seed = 5, id = "id",
  development = {name = "Dev", data = "dev.csv", encoding = "enc.lua"},
  tasks = {{id = "main", title = "Response", outcome = "response", positive = {"yes"}}},
  model = {trees = 30, grid = {mtry = {2}, min_leaf = {5, 10}}, folds = 3},
  selection = {repeats = 1, max_features = 3},
  validation = %s,
}
]]
write(dir .. "/spec.lua", SPEC:format('{method = "bootstrap", B = 4}'))

local out = dir .. "/out"
local res = sv.study.run(dir .. "/spec.lua", {out = out, threads = 1, log = false})
local task = res.tasks[1]

T.test("the bootstrap validation runs inside the study and reports its numbers", function()
  T.eq(task.status, "done", task.reason)
  local v = task.validation
  T.ok(v, "validation in the result")
  T.eq(v.B, 4)
  T.eq(v.failed, 0)
  for _, m in ipairs({"auc", "brier", "slope", "intercept"}) do
    T.near(v.corrected[m], v.apparent[m] - v.optimism[m], 1e-12, m)
  end
  -- the same numbers as sv.validate.bootstrap over the task's pipeline
  local again = sv.validate.bootstrap(task.ctx.dev_task.y, sv.study.pipeline(task.ctx), {B = 4, seed = 5})
  for _, m in ipairs({"auc", "brier"}) do T.eq(again.corrected[m], v.corrected[m]) end
end)

T.test("the report has the table, both figures, the methods sentence and the TRIPOD+AI checklist", function()
  local tab = T.read_file(out .. "/tables/main_validation.csv")
  T.ok(tab:find("AUC", 1, true) and tab:find("calibration slope", 1, true), tab)
  T.ok(io.open(out .. "/figures/main_instability.svg"), "instability figure")
  T.ok(io.open(out .. "/figures/main_selection_frequency.svg"), "selection-frequency figure")
  local md = T.read_file(out .. "/report.md")
  T.ok(md:find("optimism bootstrap with 4 bootstrap replicates", 1, true), "methods sentence")
  local tripod = T.read_file(out .. "/tables/tripod_ai.csv")
  T.ok(tripod:find("Internal validation of all model-building steps", 1, true), tripod)
  T.ok(tripod:find("bootstrap (B = 4)", 1, true), tripod)
  T.ok(tripod:find("not addressed", 1, true), tripod)
end)

T.test("the logistic-regression baseline: same features, DeLong's test against the forest", function()
  local ctx = task.ctx
  local b = ctx.baseline
  T.ok(b and #b.sets == 1, "one test set")
  local set = ctx.sets[2]
  local m = sv.glm.logistic(ctx.train.d.X:cols(ctx.selected), ctx.train.y)
  local t = sv.roc.test(set.y, set.score, m:predict(set.d.X:cols(ctx.selected)))
  T.eq(b.sets[1].auc_logistic, t.auc2)
  T.eq(b.sets[1].p, t.p)
  T.ok(T.read_file(out .. "/tables/main_baseline.csv"):find("auc_logistic", 1, true))
  T.ok(T.read_file(out .. "/tables/main_logistic.csv"):find("(Intercept)", 1, true))
  T.ok(io.open(out .. "/figures/main_baseline_calibration.svg"), "calibration figure")
  T.ok(T.read_file(out .. "/tables/tripod_ai.csv"):find("main_baseline", 1, true))
end)

T.test("--quick caps B; a bad validation field is a spec error naming it", function()
  write(dir .. "/spec_big.lua", SPEC:format('{method = "bootstrap", B = 500}'))
  local q = sv.study.run(dir .. "/spec_big.lua", {quick = true, write = false, log = false, threads = 1})
  T.eq(q.tasks[1].validation.B, 10)
  write(dir .. "/spec_bad.lua", SPEC:format('{method = "boot"}'))
  T.raises(function() sv.study.spec(dir .. "/spec_bad.lua") end, "validation.method must be \"iecv\" or \"bootstrap\"")
  write(dir .. "/spec_b0.lua", SPEC:format('{method = "bootstrap", B = 0}'))
  T.raises(function() sv.study.spec(dir .. "/spec_b0.lua") end, "validation.B must be an integer >= 1")
end)

T.test("the bootstrap option of study.run (sylva study --bootstrap B) adds the validation to any spec", function()
  write(dir .. "/spec_none.lua", SPEC:gsub("  validation = %%s,\n", ""))
  local plain = sv.study.run(dir .. "/spec_none.lua", {write = false, log = false, threads = 1})
  T.eq(plain.tasks[1].validation, nil)
  local b = sv.study.run(dir .. "/spec_none.lua", {write = false, log = false, threads = 1, bootstrap = 3})
  T.eq(b.tasks[1].validation.B, 3)
  T.raises(function() sv.study.run(dir .. "/spec_none.lua", {bootstrap = 0}) end, "bad option 'bootstrap' to study.run")
end)

T.test("model.cv_trees: the forests inside cross-validation get fewer trees, the model keeps its own", function()
  write(dir .. "/spec_cvt.lua", SPEC:format('{method = "bootstrap", B = 2}'):gsub("folds = 3}", "folds = 3, cv_trees = 7}"))
  local trees, train = {}, sv.forest.train
  sv.forest.train = function(X, yy, o)
    trees[#trees + 1] = o.trees
    return train(X, yy, o)
  end
  local ok, res2 = pcall(sv.study.run, dir .. "/spec_cvt.lua", {write = false, log = false, threads = 1})
  sv.forest.train = train
  T.ok(ok, tostring(res2))
  local ctx = res2.tasks[1].ctx
  T.eq(ctx.model:ntrees(), 30, "the final model")
  T.eq(ctx.full:ntrees(), 30, "the all-feature ranking model")
  local seven, thirty = 0, 0
  for _, t in ipairs(trees) do
    if t == 7 then seven = seven + 1 elseif t == 30 then thirty = thirty + 1 end
  end
  -- main run, apparent pipeline and 2 replicates: 2 grid settings x 3 folds
  -- plus the forward selection's 3 folds per size, each at 7 trees
  T.ok(seven >= 4 * (6 + 3), ("forests of 7 trees: %d"):format(seven))
  T.ok(thirty >= 4 * 2, ("forests of 30 trees: %d"):format(thirty))
  T.eq(seven + thirty, #trees, "no forest of another size")
  write(dir .. "/spec_cvt_bad.lua", SPEC:format("nil"):gsub("folds = 3}", "folds = 3, cv_trees = 0}"))
  T.raises(function() sv.study.spec(dir .. "/spec_cvt_bad.lua") end, "model.cv_trees must be an integer >= 1")
end)

T.done()
