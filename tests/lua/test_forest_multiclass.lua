-- test_forest_multiclass.lua - sv.forest with K > 2 classes against
-- scikit-learn's RandomForestClassifier (fixtures and the script that made
-- them: tests/oracle/forest_multiclass_sklearn.py): gbsg tumour grade
-- (K = 3) and the digits 0-3 (K = 4); labels, predictions as an n x K
-- Matrix, OOB, importance, save/load and the JSON export.
local T = require "testing"
local sv = require "sylva"

local FX = T.root .. "/tests/fixtures/forest/"

-- A data set through the harness's CSV reader: training and test rows
-- (rows i % 3 == 0 are the test set), as arrays of rows.
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

local gbsg_feats = {"age", "meno", "size", "nodes", "pgr", "er", "hormon"}
local digit_feats = {}
for j = 0, 63 do digit_feats[#digit_feats + 1] = "px" .. j end
local sets = {
  gbsg = {load("gbsg.csv", gbsg_feats, "grade")},
  digits4 = {load("digits4.csv", digit_feats, "digit")},
}

-- Hand and Till's M written here (independent of the engine): for each
-- pair of classes, the mean of the two one-vs-one Mann-Whitney AUCs.
local function mw(pos, neg)
  local s = 0
  for _, a in ipairs(pos) do
    for _, b in ipairs(neg) do s = s + (a > b and 1 or a == b and 0.5 or 0) end
  end
  return s / (#pos * #neg)
end
local function hand_till(y, P, classes)
  local K, sum, pairs = #classes, 0, 0
  for a = 1, K do
    for b = a + 1, K do
      local pa, pb, qa, qb = {}, {}, {}, {}
      for i = 1, #y do
        if y[i] == classes[a] then pa[#pa + 1], qa[#qa + 1] = P:get(i, a), P:get(i, b) end
        if y[i] == classes[b] then pb[#pb + 1], qb[#qb + 1] = P:get(i, a), P:get(i, b) end
      end
      sum = sum + (mw(pa, pb) + mw(qb, qa)) / 2
      pairs = pairs + 1
    end
  end
  return sum / pairs
end

for _, case in ipairs({{"gbsg", {1, 2, 3}}, {"digits4", {0, 1, 2, 3}}}) do
  local name, classes = case[1], case[2]
  local Xtr, ytr, Xte, yte = table.unpack(sets[name])
  local K = #classes

  T.test(name .. ": bootstrap=false, mtry=p grows scikit-learn's tree split for split", function()
    local sk = T.read_fixture(FX .. "sklearn_" .. name .. "_multiclass_tree.csv")
    local f = sv.forest.train(Xtr, ytr, {trees = 1, bootstrap = false, mtry = "all", seed = 1})
    T.eq(f:kind(), "classification")
    local cl = f:classes()
    T.eq(#cl, K)
    for k = 1, K do T.eq(cl[k], classes[k]) end
    local t = f:tree(1)
    local splits = 0
    local function walk(a, b)
      for k = 1, K do
        T.near(t.value[a + 1][k], sk["p" .. k][b + 1], 1e-13, ("class %d at node %d"):format(k, b))
      end
      T.near(t.cover[a + 1], sk.cover[b + 1], 1e-13, "cover at node " .. b, true)
      T.near(t.impurity[a + 1], sk.impurity[b + 1], 1e-13, "impurity at node " .. b)
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
    T.ok(splits >= 5, "at least 5 untied splits compared, got " .. splits)
  end)

  T.test(name .. ": mean test Hand-Till AUC over 10 seeds as scikit-learn's, within noise", function()
    local sk = T.read_fixture(FX .. "sklearn_" .. name .. "_multiclass_auc.csv")
    local skm, sks = 0, 0
    for _, a in ipairs(sk.auc) do skm = skm + a / #sk.auc end
    for _, a in ipairs(sk.auc) do sks = sks + (a - skm) ^ 2 / (#sk.auc - 1) end
    local mean = 0
    for seed = 1, 10 do
      local f = sv.forest.train(Xtr, ytr, {trees = 200, mtry = "sqrt", seed = seed})
      local P = f:predict(Xte)
      T.eq(P:nrow(), #yte); T.eq(P:ncol(), K)
      local m = hand_till(yte, P, classes)
      if seed == 1 then
        -- the engine's M (the base of permutation importance) agrees
        local _, _, base = f:importance("permutation", {X = Xte, y = yte, repeats = 1})
        T.near(base, m, 1e-12, "engine Hand-Till M")
      end
      mean = mean + m / 10
    end
    -- two means of 10 seeds: SD of the difference sd * sqrt(2/10); 4 SDs,
    -- plus 0.002 for the forests' shared data
    local tol = 4 * math.sqrt(sks) * math.sqrt(0.2) + 0.002
    T.near(mean, skm, tol, ("mean AUC %.4f vs scikit-learn %.4f"):format(mean, skm))
  end)
end

T.test("string labels: classes sorted byte-wise, probabilities as a named Matrix", function()
  local Xtr, ytr, Xte = table.unpack(sets.gbsg)
  local names = {"low", "mid", "high"}
  local ys = {}
  for i, g in ipairs(ytr) do ys[i] = names[g] end
  local f = sv.forest.train(Xtr, ys, {trees = 30, seed = 5})
  local cl = f:classes()
  T.eq(#cl, 3); T.eq(cl[1], "high"); T.eq(cl[2], "low"); T.eq(cl[3], "mid")
  local P = f:predict(Xte)
  local cn = P:names()
  T.eq(cn[1], "high"); T.eq(cn[2], "low"); T.eq(cn[3], "mid")
  for i = 1, P:nrow() do
    T.near(P:get(i, 1) + P:get(i, 2) + P:get(i, 3), 1, 1e-12, "row sums to 1")
  end
  -- the same forest as from the numeric labels (1 = low -> class 2 ...)
  local g = sv.forest.train(Xtr, ytr, {trees = 30, seed = 5})
  local Q = g:predict(Xte)
  local perm = {3, 1, 2} -- high = 3, low = 1, mid = 2
  for i = 1, P:nrow() do
    for k = 1, 3 do T.eq(P:get(i, k), Q:get(i, perm[k])) end
  end
  -- OOB: n x K, rows sum to 1 where the row was out of bag
  local O = f:oob_predict()
  T.eq(O:nrow(), Xtr:nrow()); T.eq(O:ncol(), 3)
  local seen = 0
  for i = 1, O:nrow() do
    local s = O:get(i, 1) + O:get(i, 2) + O:get(i, 3)
    if s == s then seen = seen + 1; T.near(s, 1, 1e-12) end
  end
  T.ok(seen > 0.9 * O:nrow(), "most rows out of bag at least once")
  -- impurity importance sums to 1; OOB permutation importance runs
  local imp, tot = f:importance("impurity"), 0
  for _, v in pairs(imp) do tot = tot + v end
  T.near(tot, 1, 1e-12)
  local mean, sd, base = f:importance("permutation", {repeats = 2, seed = 3})
  T.ok(base > 0.5 and base <= 1, "OOB Hand-Till M")
  T.ok(mean.nodes ~= nil and sd.nodes ~= nil)
  T.raises(function() f:importance("permutation", {X = Xte, y = {}}) end, "y has 0 values")
  T.raises(function()
    local bad = {}
    for i = 1, Xte:nrow() do bad[i] = "low" end
    bad[2] = "none"
    f:importance("permutation", {X = Xte, y = bad})
  end, "y element 2 (none) is not one of the forest's classes")
  -- save / load: bit for bit, labels kept; a version-2 file
  local path = T.tmp .. "/multiclass.svf"
  f:save(path)
  T.eq(T.read_file(path):sub(9, 9), "\2")
  local h = sv.forest.load(path)
  T.eq(h:classes()[1], "high")
  local R = h:predict(Xte)
  for i = 1, P:nrow() do
    for k = 1, 3 do T.eq(R:get(i, k), P:get(i, k)) end
  end
  local O2 = h:oob_predict()
  for i = 1, O:nrow() do
    local a, b = O:get(i, 2), O2:get(i, 2)
    T.ok(a == b or (a ~= a and b ~= b), "OOB kept")
  end
  -- JSON version 2, read back and evaluated here
  local jp = T.tmp .. "/multiclass.json"
  f:export_json(jp)
  local j = T.json_decode(T.read_file(jp))
  T.eq(j.version, 2); T.eq(j.kind, "classification")
  T.eq(j.classes[1], "high"); T.eq(j.classes[3], "mid")
  for i = 1, 5 do
    local s = {0, 0, 0}
    for _, t in ipairs(j.trees) do
      local k = 0
      while t.left[k + 1] ~= -1 do
        k = Xte:get(i, t.feature[k + 1] + 1) <= t.threshold[k + 1] and t.left[k + 1] or t.right[k + 1]
      end
      for c = 1, 3 do s[c] = s[c] + t.value[k + 1][c] end
    end
    for c = 1, 3 do T.near(s[c] / #j.trees, P:get(i, c), 1e-12) end
  end
end)

T.test("two classes with labels other than 0/1 give the binary forest", function()
  local Xtr, ytr, Xte = table.unpack(sets.gbsg)
  local yb, y01 = {}, {}
  for i, g in ipairs(ytr) do yb[i] = g == 3 and "G3" or "G12"; y01[i] = g == 3 and 1 or 0 end
  local f = sv.forest.train(Xtr, yb, {trees = 20, seed = 2})
  local g = sv.forest.train(Xtr, y01, {trees = 20, seed = 2})
  local cl = f:classes()
  T.eq(cl[1], "G12"); T.eq(cl[2], "G3")
  T.eq(g:classes()[1], 0); T.eq(g:classes()[2], 1)
  local p, q = f:predict(Xte), g:predict(Xte)
  for i = 1, #p do T.eq(p[i], q[i]) end
  -- class weights: one per class
  T.raises(function() sv.forest.train(Xtr, ytr, {class_weight = {1, 2}}) end,
           "expected 3 weights, one per class")
  local w = sv.forest.train(Xtr, ytr, {trees = 1, bootstrap = false, max_depth = 1,
                                       class_weight = {1, 2, 4}})
  local n = {0, 0, 0}
  for _, v in ipairs(ytr) do n[v] = n[v] + 1 end
  local W = n[1] + 2 * n[2] + 4 * n[3]
  T.eq(w:tree(1).cover[1], W)
  T.near(w:tree(1).value[1][3], 4 * n[3] / W, 1e-15)
end)

T.done()
