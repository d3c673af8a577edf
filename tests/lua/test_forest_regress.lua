-- test_forest_regress.lua - sv.forest.regress against scikit-learn's
-- RandomForestRegressor (fixtures and the script that made them:
-- tests/oracle/forest_regression_sklearn.py) on the diabetes data and gbsg
-- positive nodes; a hand-worked stump; invariants and errors.
local T = require "testing"
local sv = require "sylva"

local FX = T.root .. "/tests/fixtures/forest/"

local function load(file, feats, label)
  local cols = T.read_cohort(file)
  local tr, trY, te, teY = {}, {}, {}, {}
  for i = 1, #cols[label] do
    local r = {}
    for j, nm in ipairs(feats) do r[j] = cols[nm][i] end
    if i % 3 == 0 then te[#te + 1], teY[#teY + 1] = r, cols[label][i]
    else tr[#tr + 1], trY[#trY + 1] = r, cols[label][i] end
  end
  return sv.matrix(tr, feats), trY, sv.matrix(te, feats), teY
end

local sets = {
  diabetes = {load("diabetes.csv", {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"}, "progression")},
  gbsg = {load("gbsg.csv", {"age", "meno", "size", "grade", "pgr", "er", "hormon"}, "nodes")},
}

-- R^2 written here
local function r2(y, p)
  local m = 0
  for i = 1, #y do m = m + y[i] / #y end
  local sse, sst = 0, 0
  for i = 1, #y do sse, sst = sse + (y[i] - p[i]) ^ 2, sst + (y[i] - m) ^ 2 end
  return 1 - sse / sst
end

T.test("hand-worked stump: mean leaves, squared-error split, impurity", function()
  -- x = 1..6, y = 1 2 3 10 11 12: the best split is 3.5 (S_l^2/3 +
  -- S_r^2/3 = 12 + 363 = 375 beats every other boundary); leaves 2 and 11,
  -- impurity 2/3 each; root mean 6.5, impurity mean(y^2) - 6.5^2 = 20.25.
  local f = sv.forest.regress({{1}, {2}, {3}, {4}, {5}, {6}}, {1, 2, 3, 10, 11, 12},
                              {trees = 1, bootstrap = false, max_depth = 1})
  T.eq(f:kind(), "regression")
  local t = f:tree(1)
  T.eq(t.threshold[1], 3.5)
  T.eq(t.value[1], 6.5); T.near(t.impurity[1], 379 / 6 - 6.5 ^ 2, 1e-12)
  T.eq(t.value[2], 2); T.eq(t.value[3], 11)
  T.near(t.impurity[2], 2 / 3, 1e-12); T.eq(t.cover[2], 3)
  local p = f:predict({{0}, {3.5}, {3.6}})
  T.eq(p[1], 2); T.eq(p[2], 2); T.eq(p[3], 11)
  T.raises(function() f:classes() end, "a regression forest has no classes")
end)

for _, name in ipairs({"diabetes", "gbsg"}) do
  local Xtr, ytr, Xte, yte = table.unpack(sets[name])

  T.test(name .. ": bootstrap=false, mtry=p, max_depth 6 grows scikit-learn's tree", function()
    local sk = T.read_fixture(FX .. "sklearn_" .. name .. "_regress_tree.csv")
    local t = sv.forest.regress(Xtr, ytr, {trees = 1, bootstrap = false, max_depth = 6}):tree(1)
    local splits = 0
    local function walk(a, b)
      T.near(t.value[a + 1], sk.value[b + 1], 1e-9, "value at node " .. b, true)
      T.near(t.cover[a + 1], sk.cover[b + 1], 1e-13, "cover at node " .. b, true)
      T.near(t.impurity[a + 1], sk.impurity[b + 1], 1e-7, "impurity at node " .. b, true)
      if sk.left[b + 1] == -1 then
        T.eq(t.left[a + 1], -1, "leaf at node " .. b)
        return
      end
      if sk.tie[b + 1] == 1 then return end
      splits = splits + 1
      T.eq(t.feature[a + 1], sk.feature[b + 1], "feature at node " .. b)
      T.near(t.threshold[a + 1], sk.threshold[b + 1], 2 ^ -23 * math.abs(sk.threshold[b + 1]),
             "threshold at node " .. b)
      walk(t.left[a + 1], sk.left[b + 1])
      walk(t.right[a + 1], sk.right[b + 1])
    end
    walk(0, 0)
    T.ok(splits >= 10, "at least 10 untied splits compared, got " .. splits)
  end)

  T.test(name .. ": mean test R^2 over 10 seeds as scikit-learn's, within noise", function()
    local sk = T.read_fixture(FX .. "sklearn_" .. name .. "_regress_r2.csv")
    local skm, sks = 0, 0
    for _, a in ipairs(sk.r2) do skm = skm + a / #sk.r2 end
    for _, a in ipairs(sk.r2) do sks = sks + (a - skm) ^ 2 / (#sk.r2 - 1) end
    local mean = 0
    for seed = 1, 10 do
      local f = sv.forest.regress(Xtr, ytr, {trees = 200, seed = seed})
      local m = r2(yte, f:predict(Xte))
      if seed == 1 then
        local _, _, base = f:importance("permutation", {X = Xte, y = yte, repeats = 1})
        T.near(base, m, 1e-12, "engine R^2")
      end
      mean = mean + m / 10
    end
    local tol = 4 * math.sqrt(sks) * math.sqrt(0.2) + 0.003
    T.near(mean, skm, tol, ("mean R^2 %.4f vs scikit-learn %.4f"):format(mean, skm))
  end)
end

T.test("OOB, importance, save/load and JSON of a regression forest", function()
  local Xtr, ytr, Xte = table.unpack(sets.diabetes)
  local f = sv.forest.regress(Xtr, ytr, {trees = 40, seed = 3, mtry = "sqrt"})
  local o = f:oob_predict()
  T.eq(#o, #ytr)
  T.ok(r2(ytr, o) > 0.2, "OOB R^2")
  local imp, tot = f:importance("impurity"), 0
  for _, v in pairs(imp) do tot = tot + v end
  T.near(tot, 1, 1e-12)
  T.ok(imp.bmi > imp.sex, "bmi matters more than sex")
  local mean, _, base = f:importance("permutation", {repeats = 2, seed = 1})
  T.ok(base > 0.2 and mean.bmi > 0, "OOB permutation R^2 drop")
  local path = T.tmp .. "/regress.svf"
  f:save(path)
  local g = sv.forest.load(path)
  T.eq(g:kind(), "regression")
  local p, q = f:predict(Xte), g:predict(Xte)
  for i = 1, #p do T.eq(p[i], q[i]) end
  local o2 = g:oob_predict()
  for i = 1, #o do T.ok(o[i] == o2[i] or (o[i] ~= o[i] and o2[i] ~= o2[i])) end
  local jp = T.tmp .. "/regress.json"
  f:export_json(jp)
  local j = T.json_decode(T.read_file(jp))
  T.eq(j.version, 2); T.eq(j.kind, "regression"); T.eq(j.classes, nil)
  local phi, b = sv.shap.tree(f, Xte:rows({1, 2, 3}))
  for i = 1, 3 do
    local s = b
    for k = 1, Xte:ncol() do s = s + phi:get(i, k) end
    T.near(s, p[i], 1e-9 * math.abs(p[i]), "SHAP adds up to the prediction")
  end
  T.raises(function() sv.forest.regress(Xtr, {1, 2}) end, "y has 2 values")
  T.raises(function() sv.forest.regress({{1}, {2}}, {1, 0 / 0}) end, "y element 2 is not a finite number")
  T.raises(function() sv.forest.regress({{1}, {2}}, {1, 2}, {class_weight = "balanced"}) end,
           "unknown option 'class_weight' to forest.regress")
end)

T.done()
