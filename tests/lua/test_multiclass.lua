-- Several-class diagnostics against R (pROC 1.18 multiclass.roc, roc,
-- ci.auc; base R) and scikit-learn (roc_auc_score ovo/ovr,
-- confusion_matrix, recall_score) on multinomial predictions of real data:
-- fixtures from tests/oracle/multiclass_r.R and multiclass_sklearn.py.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/multiclass/"

local function keyed(file)
  local out = {}
  for _, r in ipairs(T.read_fixture_rows(FIX .. file)) do out[r.key] = r.value end
  return out
end
local R, SK = keyed("r.csv"), keyed("sklearn.csv")
local function want(t, key) return assert(t[key], "fixture key " .. key) end

-- y (labels as R wrote them) and P (n x K Matrix named by the labels)
local function load(name)
  local d = sv.read_csv(FIX .. "pred_" .. name .. ".csv")
  local names = d:names()
  local cls = {}
  for k = 2, #names do cls[#cls + 1] = names[k] end
  return d:col("y"), d:matrix(cls), cls
end

local SETS = {"gbsg", "rott", "iris"}

T.test("Hand and Till's M and its pairs equal pROC's multiclass.roc (1e-12) and sklearn's ovo", function()
  for _, name in ipairs(SETS) do
    local y, P, cls = load(name)
    local r = sv.roc.multiclass(y, P, {ci = "none"})
    T.near(r.auc, want(R, "mc." .. name .. ".M"), 1e-12, name)
    T.near(r.auc, want(SK, "sk." .. name .. ".ovo"), 1e-12, name .. " sklearn")
    T.eq(#r.pairs, 3)
    local q = 0
    for i = 1, #cls - 1 do
      for j = i + 1, #cls do
        q = q + 1
        local p = r.pairs[q]
        T.eq(p.a, cls[i]); T.eq(p.b, cls[j])
        T.near(p.auc_ab, want(R, ("mc.%s.A.%d.%d"):format(name, i, j)), 1e-12)
        T.near(p.auc_ba, want(R, ("mc.%s.A.%d.%d"):format(name, j, i)), 1e-12)
        T.near(p.auc, (p.auc_ab + p.auc_ba) / 2, 1e-15)
      end
    end
    T.eq(r.n_classes, 3)
    T.eq(table.concat(r.classes, "|"), table.concat(cls, "|"))
  end
end)

T.test("bootstrap CI of M: agrees with R's bootstrap by the same method within Monte-Carlo error", function()
  local y, P = load("gbsg")
  local r = sv.roc.multiclass(y, P, {boot = 2000, seed = 7})
  -- the 2.5% and 97.5% quantiles of 2000 replicates differ between two
  -- generators by about 0.003 (sd of M 0.017); 0.01 is three times that
  T.near(r.lo, want(R, "boot.gbsg.lo"), 0.01, "lo")
  T.near(r.hi, want(R, "boot.gbsg.hi"), 0.01, "hi")
  T.rel(r.se, want(R, "boot.gbsg.sd"), 0.15, "se")
  T.ok(r.lo < r.auc and r.auc < r.hi)
  T.eq(r.boot, 2000); T.eq(r.method, "bootstrap")
  -- the same seed gives the same interval with any number of threads
  local a = sv.roc.multiclass(y, P, {boot = 300, seed = 3, threads = 1})
  local b = sv.roc.multiclass(y, P, {boot = 300, seed = 3, threads = 2})
  T.eq(a.lo, b.lo); T.eq(a.hi, b.hi); T.eq(a.se, b.se)
end)

T.test("one-vs-rest AUCs with DeLong intervals equal pROC's ci.auc and sklearn's ovr", function()
  for _, name in ipairs(SETS) do
    local y, P = load(name)
    for k, o in ipairs(sv.roc.ovr(y, P)) do
      local key = ("ovr.%s.%d."):format(name, k)
      T.near(o.auc, want(R, key .. "auc"), 1e-12, key)
      T.near(o.auc, want(SK, ("sk.%s.ovr.%d"):format(name, k)), 1e-12, key .. " sklearn")
      T.near(o.var, want(R, key .. "var"), 1e-12, key)
      T.near(o.lo, want(R, key .. "lo"), 1e-9, key)
      T.near(o.hi, want(R, key .. "hi"), 1e-9, key)
      T.eq(o.n_case + o.n_control, P:nrow())
    end
  end
end)

T.test("confusion matrix and per-class sensitivity, specificity, PPV equal R and sklearn", function()
  for _, name in ipairs(SETS) do
    local y, P, cls = load(name)
    local c = sv.metrics.confusion(y, P)
    for t = 1, #cls do
      for p = 1, #cls do
        T.eq(c.matrix:get(t, p), want(R, ("conf.%s.%d.%d"):format(name, t, p)))
        T.eq(c.matrix:get(t, p), want(SK, ("sk.%s.conf.%d.%d"):format(name, t, p)))
      end
      local pc = c.per_class[t]
      T.eq(pc.class, cls[t])
      T.near(pc.sens, want(R, ("conf.%s.%d.sens"):format(name, t)), 1e-15)
      T.near(pc.sens, want(SK, ("sk.%s.recall.%d"):format(name, t)), 1e-15)
      T.near(pc.spec, want(R, ("conf.%s.%d.spec"):format(name, t)), 1e-15)
      T.near(pc.ppv, want(R, ("conf.%s.%d.ppv"):format(name, t)), 1e-15)
    end
    T.near(c.accuracy, want(R, ("conf.%s.accuracy"):format(name)), 1e-15)
    T.eq(table.concat(c.matrix:names(), "|"), table.concat(cls, "|"))
  end
end)

T.test("multiclass Brier score and per-class calibration equal R", function()
  for _, name in ipairs(SETS) do
    local y, P, cls = load(name)
    T.near(sv.calib.brier_multiclass(y, P), want(R, "brier." .. name), 1e-12, name)
    for k, c in ipairs(sv.calib.per_class(y, P)) do
      local key = ("calib.%s.%d."):format(name, k)
      T.eq(c.class, cls[k])
      T.near(c.brier, want(R, key .. "brier"), 1e-12, key)
      T.eq(#c.n, want(R, key .. "bins"), key .. "bins")
      for b = 1, #c.n do
        T.near(c.mean_predicted[b], want(R, key .. b .. ".mean_predicted"), 1e-12)
        T.near(c.observed[b], want(R, key .. b .. ".observed"), 1e-12)
        T.eq(c.n[b], want(R, key .. b .. ".n"))
      end
    end
  end
end)

T.test("a small case by hand; labels without column names; classes without rows", function()
  -- classes a, b, c; two rows each. Column a: a-rows .9 .6, b-rows .3 .6
  -- -> A(a|b) = (1 + 1 + 1 + 0.5) / 4 = 0.875
  local y = {"a", "a", "b", "b", "c", "c"}
  local P = sv.matrix({{0.9, 0.05, 0.05}, {0.6, 0.2, 0.2}, {0.3, 0.5, 0.2},
                       {0.6, 0.3, 0.1}, {0.1, 0.1, 0.8}, {0.2, 0.5, 0.3}}, {"a", "b", "c"})
  local r = sv.roc.multiclass(y, P, {ci = "none"})
  T.near(r.pairs[1].auc_ab, 0.875, 1e-15)
  -- column b: b-rows .5 .3 vs a-rows .05 .2 -> 1
  T.near(r.pairs[1].auc_ba, 1, 1e-15)
  -- unnamed columns are the sorted labels of y
  local U = sv.matrix({{0.9, 0.05, 0.05}, {0.6, 0.2, 0.2}, {0.3, 0.5, 0.2},
                       {0.6, 0.3, 0.1}, {0.1, 0.1, 0.8}, {0.2, 0.5, 0.3}})
  T.eq(sv.roc.multiclass(y, U, {ci = "none"}).auc, r.auc)
  -- numeric labels match names written as integers
  local Pn = sv.matrix({{0.9, 0.1}, {0.2, 0.8}}, {"1", "2"})
  T.eq(sv.roc.multiclass({1, 2.0}, Pn, {ci = "none"}).auc, 1)
  -- a class without rows is left out of M, as pROC drops it
  local r2 = sv.roc.multiclass({"a", "a", "b", "b"}, sv.matrix({{0.9, 0.05, 0.05}, {0.6, 0.2, 0.2},
    {0.3, 0.5, 0.2}, {0.6, 0.3, 0.1}}, {"a", "b", "c"}), {ci = "none"})
  T.eq(r2.n_classes, 2); T.eq(#r2.pairs, 1)
  T.near(r2.auc, (0.875 + 1) / 2, 1e-15)
  -- confusion: the most probable classes are a a b a c b -> a: 2 of 2;
  -- b: 1 of 2 (one called a); c: 1 of 2 (one called b)
  local c = sv.metrics.confusion(y, P)
  T.eq(c.matrix:get(1, 1), 2); T.eq(c.matrix:get(2, 1), 1); T.eq(c.matrix:get(2, 2), 1)
  T.eq(c.matrix:get(3, 2), 1); T.eq(c.matrix:get(3, 3), 1)
  T.eq(c.per_class[2].sens, 0.5); T.near(c.accuracy, 4 / 6, 1e-15)
  -- spec of a: 4 non-a rows, 1 called a -> 3/4; ppv of a: 2 of the 3 called a
  T.eq(c.per_class[1].spec, 0.75); T.near(c.per_class[1].ppv, 2 / 3, 1e-15)
  -- Brier: row 1 (0.01 + 0.0025 + 0.0025) ... checked against the formula
  local s = 0
  local Y = {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 1}}
  for i = 1, 6 do for k = 1, 3 do s = s + (P:get(i, k) - Y[i][k]) ^ 2 end end
  T.near(sv.calib.brier_multiclass(y, P), s / 6, 1e-15)
end)

T.test("one-vs-rest ROC figure: the curves and legend numbers of sv.roc.ovr", function()
  local y, P, cls = load("gbsg")
  local ovr = sv.roc.ovr(y, P, {curves = true})
  for k, o in ipairs(ovr) do
    -- the curve of class k is sv.roc.curve of its rows against the rest
    local yk = {}
    for i = 1, #y do
      local lab = type(y[i]) == "number" and ("%d"):format(y[i]) or y[i]  -- grades read as numbers
      yk[i] = (lab == cls[k]) and 1 or 0
    end
    local c = sv.roc.curve(yk, P:col(k))
    T.eq(#o.fpr, #c.fpr)
    for i = 1, #c.fpr, 37 do T.eq(o.fpr[i], c.fpr[i]); T.eq(o.tpr[i], c.tpr[i]) end
  end
  local svg = sv.plot.roc_ovr(y, P)
  local n = 0
  for _ in svg:gmatch('class="curve"') do n = n + 1 end
  T.eq(n, 3, "one curve per class")
  for k, o in ipairs(ovr) do
    local label = ("%s vs rest: AUC %.3f (95%% CI %.3f\u{2013}%.3f)"):format(cls[k], o.auc, o.lo, o.hi)
    T.ok(svg:find(label, 1, true), label)
  end
end)

T.test("bad input names the argument", function()
  local P = sv.matrix({{0.9, 0.1}, {0.2, 0.8}}, {"x", "y"})
  T.raises(function() sv.roc.multiclass({"x", "z"}, P) end, "y[2] is 'z', which is not a column name of P")
  T.raises(function() sv.roc.multiclass({1, 2, 3}, sv.matrix({{1, 0}, {0, 1}, {1, 0}})) end,
           "P has 2 columns but y has 3 classes")
  T.raises(function() sv.roc.multiclass({1, 2}, sv.matrix({{1}, {0}})) end, "at least 2")
  T.raises(function() sv.roc.ovr({1, 0 / 0}, sv.matrix({{1, 0}, {0, 1}})) end, "y[2] is NaN")
  T.raises(function() sv.roc.multiclass({"x", "x"}, P, {ci = "none"}) end, "fewer than 2 classes have rows")
  T.raises(function() sv.calib.brier_multiclass({"x", "y"}, sv.matrix({{1.5, 0}, {0, 1}}, {"x", "y"})) end,
           "not a probability")
  T.raises(function() sv.roc.multiclass({"x", "y"}, P, {ci = "jackknife"}) end, "ci")
end)

T.done()
