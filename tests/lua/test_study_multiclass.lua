-- test_study_multiclass.lua - the study runner's "multiclass" task kind: one
-- K-class forest per task. A synthetic 3-class cohort whose class is set by
-- tumour size alone (known structure: the model must find size, and M must
-- be high), a class too small to model (skipped, naming it), a class level
-- the outcome lacks (failed), and a real one: gbsg tumour grade.
local T = require "testing"
local sv = require "sylva"

local dir = T.tmp .. "/study_mc_test"
os.execute(("rm -rf %q && mkdir -p %q"):format(dir, dir))

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- class: size < 20 -> "small", < 40 -> "medium", else "large" (10% flipped
-- at random); "rare" marks 5 patients; age and noise carry no signal.
local function cohort(path, n, seed)
  local r = sv.rng(seed)
  local lines = {"id,age,size,noise,klass,rare"}
  for i = 1, n do
    local age, size, noise = r:integer(30, 80), r:integer(1, 60), r:uniform()
    local k = size < 20 and "small" or size < 40 and "medium" or "large"
    if r:uniform() < 0.1 then k = ({"small", "medium", "large"})[r:integer(1, 3)] end
    local rare = i <= 5 and "r" or k
    lines[#lines + 1] = ("P%03d,%d,%d,%.4f,%s,%s"):format(i, age, size, noise, i == 7 and "" or k, rare)
  end
  write(path, table.concat(lines, "\n") .. "\n")
end
cohort(dir .. "/dev.csv", 240, 1)
cohort(dir .. "/ext.csv", 120, 2)
write(dir .. "/enc.lua", [[
return {
  centre = "Synthetic",
  features = {
    {name = "age", column = "age", kind = "numeric", range = {18, 100}, label = "Age (years)"},
    {name = "size", column = "size", kind = "numeric", range = {0, 200}, label = "Size (mm)"},
    {name = "noise", column = "noise", kind = "numeric", range = {0, 1}},
  },
  impute = {["*"] = "median"},
  outcomes = {
    klass = {column = "klass", kind = "category", levels = {small = {"small"}, medium = {"medium"}, large = {"large"}},
             order = {"small", "medium", "large"}},
    rare = {column = "rare", kind = "category", levels = {small = {"small"}, medium = {"medium"}, large = {"large"}, r = {"r"}},
            order = {"small", "medium", "large", "r"}},
  },
}
]])
write(dir .. "/spec.lua", [[
return {
  title = "Multiclass study", seed = 3, id = "id",
  development = {name = "Dev", data = "dev.csv", encoding = "enc.lua"},
  external = {{name = "Ext", data = "ext.csv", encoding = "enc.lua"}},
  tasks = {
    {id = "size3", title = "Size class", kind = "multiclass", outcome = "klass", classes = {"small", "medium", "large"}},
    {id = "rare", title = "With a rare class", kind = "multiclass", outcome = "rare", classes = {"small", "medium", "r"}},
    {id = "bad", title = "Unknown class", kind = "multiclass", outcome = "klass", classes = {"small", "medium", "huge"}},
  },
  model = {trees = 60, grid = {mtry = {1, 2}, min_leaf = {5}}, folds = 3},
  selection = {repeats = 1, max_features = 3},
}
]])

local res = sv.study.run(dir .. "/spec.lua", {out = dir .. "/out", log = false, threads = 1})
local by = {}
for _, r in ipairs(res.tasks) do by[r.id] = r end

T.test("a multiclass task runs: M with its bootstrap CI per set, high where the class is set by size", function()
  local r = by.size3
  T.eq(r.status, "done", r.reason)
  T.eq(r.kind, "multiclass")
  T.eq(table.concat(r.classes, ","), "small,medium,large")
  T.eq(#r.sets, 3)
  T.eq(r.sets[1].name, "training"); T.eq(r.sets[2].name, "internal"); T.eq(r.sets[3].name, "external")
  for _, s in ipairs(r.sets) do
    -- 10% of labels are random: M well above chance (1/2), below 1
    T.ok(s.auc > 0.85 and s.auc < 1, ("%s M = %g"):format(s.name, s.auc))
    T.ok(s.lo < s.auc and s.auc < s.hi, s.name .. ": M inside its CI")
  end
  -- counts: patient 7 has no outcome; the others in their class
  local c = r.counts[1]
  T.eq(c.n, 240); T.eq(c.missing, 1); T.eq(c.used, 239)
  T.eq(c.small + c.medium + c.large, 239)
  T.eq(r.sets[1].n + r.sets[2].n, 239)
  T.eq(r.sets[3].n, 119)
end)

T.test("selection finds size, and size leads the per-class SHAP of every class", function()
  local r = by.size3
  T.eq(r.features[1], "size")
  local top = {}
  for _, row in ipairs(r.ctx.importance) do
    if not top[row.class] then top[row.class] = row.feature end
  end
  for _, c in ipairs({"small", "medium", "large"}) do T.eq(top[c], "size", c) end
end)

T.test("confusion matrices and per-class metrics agree with counts made here from the predictions", function()
  local r = by.size3
  local ctx = r.ctx
  for _, set in ipairs(ctx.sets) do
    -- argmax by hand, first column on ties
    local tp, n_true, n_pred = {0, 0, 0}, {0, 0, 0}, {0, 0, 0}
    for i = 1, #set.y do
      local best = 1
      for k = 2, 3 do if set.score:get(i, k) > set.score:get(i, best) then best = k end end
      n_true[set.y[i]] = n_true[set.y[i]] + 1
      n_pred[best] = n_pred[best] + 1
      if best == set.y[i] then tp[best] = tp[best] + 1 end
    end
    for _, pc in ipairs(ctx.per_class) do
      if pc.set == set.name then
        local k = ({small = 1, medium = 2, large = 3})[pc.class]
        T.near(pc.sensitivity, tp[k] / n_true[k], 1e-12, set.name .. " sens " .. pc.class)
        local tn = #set.y - n_true[k] - n_pred[k] + tp[k]
        T.near(pc.specificity, tn / (#set.y - n_true[k]), 1e-12, set.name .. " spec " .. pc.class)
      end
    end
  end
  -- the one-vs-rest rows: 3 classes x 3 sets, each with its DeLong CI
  T.eq(#ctx.ovr, 9)
  for _, o in ipairs(ctx.ovr) do T.ok(o.lo <= o.auc and o.auc <= o.hi, o.set .. " " .. o.class) end
end)

T.test("the report holds the tables and figures of a multiclass task; predictions hold one column per class", function()
  local md = assert(io.open(dir .. "/out/report.md")):read("a")
  for _, name in ipairs({"size3_discrimination", "size3_ovr", "size3_per_class", "size3_confusion_internal",
                         "size3_calibration", "size3_shap"}) do
    T.ok(io.open(dir .. "/out/tables/" .. name .. ".csv"), name)
  end
  for _, name in ipairs({"size3_roc_training", "size3_roc_internal", "size3_roc_external",
                         "size3_calibration_external", "size3_shap_beeswarm_small", "size3_shap_beeswarm_large"}) do
    T.ok(io.open(dir .. "/out/figures/" .. name .. ".svg"), name)
  end
  T.ok(md:find("Hand and Till", 1, true))
  -- a multiclass task gets its bundle too (test_bundle.lua scores with one), and no note says otherwise
  T.ok(io.open(dir .. "/out/models/size3.svm"), "a bundle for a multiclass task")
  T.ok(not md:find("no model bundle", 1, true))
  local pred = assert(io.open(dir .. "/out/tables/size3_predictions.csv")):read("a")
  T.ok(pred:find("set,id,p_small,p_medium,p_large", 1, true), pred:sub(1, 80))
  -- M recomputed from the written predictions of the external set equals the report's
  local y, rows = {}, {}
  local lab = {}
  for line in io.lines(dir .. "/ext.csv") do
    local id, k = line:match("^(P%d+),[^,]*,[^,]*,[^,]*,([^,]*),")
    if id then lab[id] = k end
  end
  for line in pred:gmatch("[^\n]+") do
    local set, id, a, b, c = line:match("^([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)$")
    if set == "external" then
      y[#y + 1] = lab[id]; rows[#rows + 1] = {tonumber(a), tonumber(b), tonumber(c)}
    end
  end
  T.eq(#y, 119)
  local m = sv.roc.multiclass(y, sv.matrix(rows, {"small", "medium", "large"}), {ci = "none"})
  T.near(m.auc, by.size3.sets[3].auc, 1e-6)
end)

T.test("E-STUDY-ONE-CLASS: a class with fewer than min_per_class patients skips the task, naming the class", function()
  T.eq(by.rare.status, "skipped")
  T.ok(by.rare.reason:find("class 'r'", 1, true), by.rare.reason)
  T.ok(by.rare.reason:find("5 r", 1, true), by.rare.reason)
end)

T.test("E-STUDY-LEVEL: a class the outcome does not have fails the task, naming it", function()
  T.eq(by.bad.status, "failed")
  T.ok(by.bad.reason:find("class 'huge' is not a level of 'klass'", 1, true), by.bad.reason)
end)

T.test("E-STUDY-SPEC-FIELD: classes are checked in the spec", function()
  local base = {development = {data = "d.csv", encoding = "e.lua"}}
  local function spec(task)
    local s = {tasks = {task}}
    for k, v in pairs(base) do s[k] = v end
    return s
  end
  T.raises(function() sv.study.spec(spec({id = "a", outcome = "x", kind = "multiclass", classes = {"a", "b"}})) end,
    "classes must list at least 3 level names")
  T.raises(function() sv.study.spec(spec({id = "a", outcome = "x", classes = {"a", "b", "c"}})) end,
    "classes is for kind = \"multiclass\"")
end)

-- a real cohort: gbsg tumour grade (1/2/3) from the other variables
local gdir = dir .. "/gbsg"
os.execute(("mkdir -p %q"):format(gdir))
write(gdir .. "/enc.lua", [[
return {
  centre = "GBSG",
  features = {
    {name = "age", column = "age", kind = "numeric", range = {18, 100}},
    {name = "meno", column = "meno", kind = "binary", yes = {"1"}, no = {"0"}},
    {name = "size", column = "size", kind = "numeric", range = {0, 200}},
    {name = "nodes", column = "nodes", kind = "numeric", range = {0, 100}},
    {name = "pgr", column = "pgr", kind = "numeric", range = {0, 10000}},
    {name = "er", column = "er", kind = "numeric", range = {0, 10000}},
    {name = "hormon", column = "hormon", kind = "binary", yes = {"1"}, no = {"0"}},
  },
  impute = {["*"] = "median"},
  outcomes = {
    grade = {column = "grade", kind = "category", levels = {g1 = {"1"}, g2 = {"2"}, g3 = {"3"}}, order = {"g1", "g2", "g3"}},
  },
}
]])

T.test("gbsg grade: one 3-class forest, M between chance and the nnet benchmark's range", function()
  local spec = {title = "gbsg grade", seed = 1, id = "pid",
    development = {name = "GBSG", data = T.root .. "/tests/fixtures/data/gbsg.csv", encoding = gdir .. "/enc.lua"},
    tasks = {{id = "grade", kind = "multiclass", outcome = "grade", classes = {"g1", "g2", "g3"}}},
    model = {trees = 60, grid = {mtry = {2}, min_leaf = {10}}, folds = 3}, selection = false}
  local r = sv.study.run(spec, {out = gdir .. "/out", log = false, threads = 1, write = false}).tasks[1]
  T.eq(r.status, "done", r.reason)
  local c = r.counts[1]
  -- R: table(gbsg$grade) = 81, 444, 161
  T.eq(c.g1, 81); T.eq(c.g2, 444); T.eq(c.g3, 161)
  T.eq(#r.features, 7)
  for _, s in ipairs(r.sets) do
    -- grade is weakly predictable from these variables (multinom M = 0.66 in
    -- tests/fixtures/multiclass): a forest lands between chance and 0.8
    T.ok(s.auc > 0.55 and s.auc < 0.85, ("%s M = %g"):format(s.name, s.auc))
  end
end)

T.test("a bundle that cannot be written is reported (r.bundle_error, on the terminal); the task stays done", function()
  -- the runner calls sv.bundle.from_study per task: make it fail for one
  local from_study = sv.bundle.from_study
  sv.bundle.from_study = function(ctx)
    if ctx.task.id == "size3" then error("bundle.from_study: cannot read the development encoding gone.lua", 0) end
    return from_study(ctx)
  end
  local ok, r2 = pcall(sv.study.run, dir .. "/spec.lua", {out = dir .. "/out_nobundle", log = false, threads = 1})
  sv.bundle.from_study = from_study
  T.ok(ok, tostring(r2))
  local r = r2.tasks[1]
  T.eq(r.id, "size3")
  T.eq(r.status, "done")
  T.ok(tostring(r.bundle_error):find("cannot read the development encoding gone.lua", 1, true), tostring(r.bundle_error))
  T.ok(not io.open(dir .. "/out_nobundle/models/size3.svm"), "no bundle file")
  T.ok(io.open(dir .. "/out_nobundle/report.html"), "the report is written")
  -- with the bundle written, the multiclass bundle scores the external centre as the study's predictions
  local b = sv.bundle.load(dir .. "/out/models/size3.svm")
  local res3 = b:score(dir .. "/ext.csv", {encoding = dir .. "/enc.lua", id = "id"})
  local want = {}
  for line in io.lines(dir .. "/out/tables/size3_predictions.csv") do
    local set, id, a, bb, c = line:match("^([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)$")
    if set == "external" then want[id] = {tonumber(a), tonumber(bb), tonumber(c)} end
  end
  local n = 0
  for i = 1, res3.n do
    local w = want[res3.ids[i]]
    if w then
      n = n + 1
      for k = 1, 3 do T.near(res3.probs:get(i, k), w[k], 1e-12) end
    end
  end
  T.eq(n, 119)
  T.eq(table.concat(res3.classes, ","), "small,medium,large")
end)

T.done()
