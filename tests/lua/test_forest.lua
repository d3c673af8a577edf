-- test_forest.lua - sv.forest: a stump worked by hand, agreement with
-- scikit-learn (fixtures from tests/oracle/forest_sklearn.py), invariants
-- (thread count, save/load, JSON export read back by an evaluator written
-- here) and the errors of bad input.
local T = require "testing"
local sv = require "sylva"

-- The Wisconsin data through the harness's own CSV reader (independent of
-- sv.read_csv): X as an array of rows, y, and the feature names.
local cols, names = T.read_fixture(T.root .. "/tests/fixtures/data/wdbc.csv")
local feats = {}
for i = 1, #names - 1 do feats[i] = names[i] end
local n = #cols.malignant
local function rows_of(idx)
  local X, y = {}, {}
  for k, i in ipairs(idx) do
    local r = {}
    for j, nm in ipairs(feats) do r[j] = cols[nm][i] end
    X[k], y[k] = r, cols.malignant[i]
  end
  return sv.matrix(X, feats), y
end
local all = {}
for i = 1, n do all[i] = i end
local X, y = rows_of(all)

local function same_bits(a, b, what)
  T.eq(#a, #b, what)
  for i = 1, #a do
    if string.pack("<d", a[i]) ~= string.pack("<d", b[i]) then
      error(("%s: element %d differs: %.17g vs %.17g"):format(what, i, a[i], b[i]), 2)
    end
  end
end

T.test("hand-worked stump: threshold, impurity decrease and leaf values", function()
  -- x = 1..7, y = 0 0 1 0 1 1 1, all rows once (bootstrap = false), one
  -- feature, max_depth = 1. Root: 4 of 7 positive, value 4/7,
  -- gini 1 - (3/7)^2 - (4/7)^2 = 24/49, cover 7. Weighted child impurity
  -- (n_l gini_l + n_r gini_r) of each boundary:
  --   1.5: 0 + 6*(1-(2/6)^2-(4/6)^2) = 8/3      2.5: 0 + 5*0.32 = 1.6
  --   3.5: 3*(4/9) + 4*0.375 = 17/6           4.5: 4*0.375 + 0 = 1.5
  --   5.5: 5*0.48 + 0 = 2.4                   6.5: 6*0.5 + 0 = 3
  -- best is 4.5: left {0,0,1,0} value 1/4, gini 0.375, cover 4; right
  -- {1,1,1} value 1, gini 0, cover 3; decrease 7*24/49 - 1.5 = 27/14.
  local Xs = {{1}, {2}, {3}, {4}, {5}, {6}, {7}}
  local ys = {0, 0, 1, 0, 1, 1, 1}
  local f = sv.forest.train(Xs, ys, {trees = 1, bootstrap = false, max_depth = 1, seed = 3})
  local t = f:tree(1)
  T.eq(#t.feature, 3)
  T.eq(t.feature[1], 0)
  T.eq(t.threshold[1], 4.5)
  T.eq(t.left[1], 1); T.eq(t.right[1], 2)
  T.near(t.value[1], 4 / 7, 1e-15); T.eq(t.cover[1], 7)
  T.near(t.impurity[1], 24 / 49, 1e-15)
  T.eq(t.value[2], 0.25); T.eq(t.cover[2], 4); T.near(t.impurity[2], 0.375, 1e-15)
  T.eq(t.value[3], 1); T.eq(t.cover[3], 3); T.eq(t.impurity[3], 0)
  T.near(t.cover[1] * t.impurity[1] - 4 * 0.375, 27 / 14, 1e-14)
  T.eq(t.feature[2], -1); T.eq(t.left[2], -1); T.eq(t.right[3], -1)
  -- min_leaf = 4: no boundary leaves 4 rows on both sides -> one leaf.
  local g = sv.forest.train(Xs, ys, {trees = 1, bootstrap = false, min_leaf = 4})
  T.eq(#g:tree(1).feature, 1)
  -- class_weight {1, 2}: root weights 3 and 8 -> value 8/11, cover 11.
  local h = sv.forest.train(Xs, ys, {trees = 1, bootstrap = false, max_depth = 1,
                                    class_weight = {1, 2}})
  T.near(h:tree(1).value[1], 8 / 11, 1e-15)
  T.eq(h:tree(1).cover[1], 11)
  local p = f:predict({{4.5}, {4.6}, {0}})
  T.eq(p[1], 0.25); T.eq(p[2], 1); T.eq(p[3], 0.25)
end)

T.test("children have larger ids than parents; leaves are -1", function()
  local f = sv.forest.train(X, y, {trees = 5, seed = 9})
  for k = 1, f:ntrees() do
    local t = f:tree(k)
    for i = 1, #t.feature do
      if t.left[i] >= 0 then
        T.ok(t.left[i] > i - 1 and t.right[i] > i - 1, "child id > parent id")
        T.ok(t.feature[i] >= 0 and t.feature[i] < #feats, "feature in range")
      else
        T.eq(t.right[i], -1); T.eq(t.feature[i], -1)
      end
    end
  end
end)

T.test("threads 1, 2 and 7 give bitwise identical forests", function()
  local p1 = sv.forest.train(X, y, {trees = 60, seed = 11, threads = 1}):predict(X)
  for _, th in ipairs({2, 7}) do
    local f = sv.forest.train(X, y, {trees = 60, seed = 11, threads = th})
    same_bits(f:predict(X, {threads = th}), p1, "threads " .. th)
  end
  local o1 = sv.forest.train(X, y, {trees = 60, seed = 11, threads = 1}):oob_predict()
  same_bits(sv.forest.train(X, y, {trees = 60, seed = 11, threads = 7}):oob_predict(), o1, "oob")
  -- another seed gives another forest
  local p2 = sv.forest.train(X, y, {trees = 60, seed = 12}):predict(X)
  local differ = false
  for i = 1, #p1 do differ = differ or p1[i] ~= p2[i] end
  T.ok(differ, "seed changes the forest")
end)

T.test("OOB predictions: NaN only for rows always in bag, else a mean of leaf values", function()
  local f = sv.forest.train(X, y, {trees = 3, seed = 5})
  local o = f:oob_predict()
  local nan, num = 0, 0
  for i = 1, #o do
    if o[i] ~= o[i] then nan = nan + 1 else
      num = num + 1
      T.ok(o[i] >= 0 and o[i] <= 1)
    end
  end
  -- with 3 trees a row is in bag of all three with probability ~0.40^... > 0
  T.ok(nan > 0 and num > 0, "both NaN and values with 3 trees")
  local f2 = sv.forest.train(X, y, {trees = 200, seed = 5})
  local o2 = f2:oob_predict()
  for i = 1, #o2 do T.ok(o2[i] == o2[i], "every row out of bag at least once in 200 trees") end
end)

T.test("subsampling without replacement: sample_fraction rows, each once", function()
  -- 0.5 x 569 = 284.5 rounds half to even (Python's round, as
  -- scikit-learn's max_samples): 284 rows, each of weight 1, so the root's
  -- cover is 284 and the OOB rows are the other 285 in a 1-tree forest.
  local f = sv.forest.train(X, y, {trees = 1, bootstrap = false, sample_fraction = 0.5, seed = 8})
  T.eq(f:tree(1).cover[1], 284)
  local o, k = f:oob_predict(), 0
  for i = 1, #o do if o[i] == o[i] then k = k + 1 end end
  T.eq(k, 285)
  -- 0.3 x 569 = 170.7 -> 171 with replacement: the counts add up to 171
  local g = sv.forest.train(X, y, {trees = 1, sample_fraction = 0.3, seed = 8})
  T.eq(g:tree(1).cover[1], 171)
end)

T.test("training data changed in place after training: OOB results refused", function()
  local Xm = sv.matrix({{1}, {2}, {3}, {4}, {5}, {6}})
  local f = sv.forest.train(Xm, {0, 0, 1, 0, 1, 1}, {trees = 20, seed = 1})
  Xm:set(1, 1, 10)
  T.raises(function() f:oob_predict() end, "changed after training")
  T.raises(function() f:importance("permutation") end, "changed after training")
  Xm:set(1, 1, 1)
  T.eq(#f:oob_predict(), 6)
end)

T.test("save / load / predict is bitwise identical; damaged files are refused", function()
  local f = sv.forest.train(X, y, {trees = 40, seed = 2})
  local path = T.tmp .. "/forest_test.svf"
  f:save(path)
  local g = sv.forest.load(path)
  same_bits(g:predict(X), f:predict(X), "loaded predict")
  same_bits(g:oob_predict(), f:oob_predict(), "loaded oob")
  T.eq(tostring(g), tostring(f))
  local imp_f, imp_g = f:importance("impurity"), g:importance("impurity")
  for k, v in pairs(imp_f) do T.eq(imp_g[k], v) end
  -- the in-bag record is not saved: OOB permutation importance needs X, y
  T.raises(function() g:importance("permutation") end, "pass {X = ..., y = ...}")
  local m1 = f:importance("permutation", {X = X, y = y, repeats = 2, seed = 3})
  local m2 = g:importance("permutation", {X = X, y = y, repeats = 2, seed = 3})
  for k, v in pairs(m1) do T.eq(m2[k], v) end
  local bytes = T.read_file(path)
  local function write(p, s)
    local fh = assert(io.open(p, "wb")); fh:write(s); fh:close()
  end
  local bad = T.tmp .. "/forest_bad.svf"
  write(bad, bytes:sub(1, #bytes - 100))
  local e = T.raises(function() sv.forest.load(bad) end, "forest_bad.svf")
  T.ok(e:find("truncated"), e)
  for _, pos in ipairs({9, 30, #bytes // 2, #bytes - 3}) do
    local b = string.char(bytes:byte(pos) ~ 0x10)
    write(bad, bytes:sub(1, pos - 1) .. b .. bytes:sub(pos + 1))
    T.raises(function() sv.forest.load(bad) end, "forest_bad.svf")
  end
  write(bad, "")
  T.raises(function() sv.forest.load(bad) end, "not a sylva forest file")
  T.raises(function() sv.forest.load(T.tmp .. "/no/such/file.svf") end, "cannot open")
end)

local json_decode = T.json_decode

T.test("export_json read back by an independent evaluator reproduces predict", function()
  local f = sv.forest.train(X, y, {trees = 25, seed = 4, mtry = 0.3})
  local path = T.tmp .. "/forest_test.json"
  f:export_json(path)
  local j = json_decode(T.read_file(path))
  T.eq(j.format, "sylva-forest"); T.eq(j.version, 2); T.eq(j.kind, "classification")
  T.eq(#j.classes, 2); T.eq(j.classes[1], 0); T.eq(j.classes[2], 1)
  T.eq(#j.feature_names, #feats); T.eq(j.feature_names[3], feats[3])
  T.eq(#j.trees, 25)
  local p = f:predict(X)
  for i = 1, n do
    local s = 0
    for _, t in ipairs(j.trees) do
      local k = 0
      while t.left[k + 1] ~= -1 do
        local x = cols[feats[t.feature[k + 1] + 1]][i]
        k = x <= t.threshold[k + 1] and t.left[k + 1] or t.right[k + 1]
      end
      s = s + t.value[k + 1]
    end
    T.near(s / #j.trees, p[i], 1e-12)
  end
  -- covers add up: parent = left + right
  local t = j.trees[1]
  for k = 1, #t.left do
    if t.left[k] >= 0 then
      T.near(t.cover[t.left[k] + 1] + t.cover[t.right[k] + 1], t.cover[k], 1e-9)
    end
  end
end)

T.test("impurity importance sums to 1 and names every feature", function()
  local f = sv.forest.train(X, y, {trees = 50, seed = 1})
  local imp, s, k = f:importance("impurity"), 0, 0
  for _, nm in ipairs(feats) do
    T.ok(imp[nm] >= 0, nm); s = s + imp[nm]; k = k + 1
  end
  T.near(s, 1, 1e-12)
end)

T.test("permutation importance: seeded, thread-independent, OOB or on given data", function()
  local f = sv.forest.train(X, y, {trees = 50, seed = 1})
  local m1, sd1, base = f:importance("permutation", {repeats = 3, seed = 7, threads = 1})
  local m2, sd2 = f:importance("permutation", {repeats = 3, seed = 7, threads = 2})
  for _, nm in ipairs(feats) do
    T.eq(m1[nm], m2[nm]); T.eq(sd1[nm], sd2[nm]); T.ok(sd1[nm] >= 0)
  end
  T.ok(base > 0.95 and base <= 1, "OOB AUC of the forest")
  local m3 = f:importance("permutation", {X = X, y = y, repeats = 2, seed = 1})
  T.ok(m3[feats[1]] ~= nil)
  -- only V1 carries the outcome: permuting it costs a lot of AUC,
  -- permuting the noise features V2, V3 next to nothing
  local r = sv.rng(42)
  local Xs, ys = {}, {}
  for i = 1, 400 do
    Xs[i] = {r:uniform(), r:uniform(), r:uniform()}
    ys[i] = (Xs[i][1] + 0.3 * r:normal() > 0.5) and 1 or 0
  end
  local g = sv.forest.train(Xs, ys, {trees = 100, seed = 2, min_leaf = 5})
  local m, sd = g:importance("permutation", {repeats = 5, seed = 1})
  T.ok(m.V1 > 0.1, "V1 drop " .. m.V1)
  T.ok(math.abs(m.V2) < 0.02 and math.abs(m.V3) < 0.02, "noise drops " .. m.V2 .. ", " .. m.V3)
  T.ok(sd.V1 > 0 and sd.V1 < m.V1, "SD of V1's drop")
  local imp = g:importance("impurity")
  T.ok(imp.V1 > imp.V2 and imp.V1 > imp.V3, "impurity importance ranks V1 first")
end)


-- ---- against scikit-learn (tests/oracle/forest_sklearn.py) ----------------
-- Split of the oracle: rows i % 3 == 0 are the test set.
local tr_idx, te_idx = {}, {}
for i = 1, n do
  if i % 3 == 0 then te_idx[#te_idx + 1] = i else tr_idx[#tr_idx + 1] = i end
end
local Xtr, ytr = rows_of(tr_idx)
local Xte, yte = rows_of(te_idx)

-- Mann-Whitney AUC with mid-ranks, written here (independent of sylva).
local function auc(yy, s)
  local idx = {}
  for i = 1, #yy do idx[i] = i end
  table.sort(idx, function(a, b) return s[a] < s[b] end)
  local r, i, n1 = 0, 1, 0
  while i <= #idx do
    local j = i
    while j < #idx and s[idx[j + 1]] == s[idx[i]] do j = j + 1 end
    local mid = (i + j) / 2
    for k = i, j do
      if yy[idx[k]] == 1 then r, n1 = r + mid, n1 + 1 end
    end
    i = j + 1
  end
  local n0 = #yy - n1
  return (r - n1 * (n1 + 1) / 2) / (n1 * n0)
end

T.test("scikit-learn: mean test AUC over 10 seeds within 0.005, importances close", function()
  local sk_auc = T.read_fixture(T.root .. "/tests/fixtures/forest/sklearn_wdbc_auc.csv")
  local sk_imp = T.read_fixture(T.root .. "/tests/fixtures/forest/sklearn_wdbc_importance.csv")
  local sk_mean = 0
  for _, a in ipairs(sk_auc.auc) do sk_mean = sk_mean + a / #sk_auc.auc end
  local mean, imp = 0, {}
  for seed = 1, 10 do
    local f = sv.forest.train(Xtr, ytr, {trees = 500, mtry = "sqrt", min_leaf = 1, seed = seed})
    mean = mean + auc(yte, f:predict(Xte)) / 10
    for k, v in pairs(f:importance("impurity")) do imp[k] = (imp[k] or 0) + v / 10 end
  end
  T.near(mean, sk_mean, 0.005, "mean test AUC vs scikit-learn")
  -- Importances: both sides are means of 10 independent forests of 500
  -- trees, so their difference has SD ~ sd_seed * sqrt(2/10), sd_seed the
  -- SD over scikit-learn's seeds. With 30 features, an SD itself estimated
  -- from 10 seeds, and importances of one forest correlated across trees
  -- through the shared data (comparing sylva with itself over two sets of
  -- seeds gave |z| up to 2.3), we allow 5 such SDs per feature; a
  -- systematic difference (another mtry rule, another weighting) moves the
  -- small features by 10 SDs or more. The five most important features
  -- must also be the same set.
  local function top5(get)
    local order = {}
    for j, nm in ipairs(sk_imp.feature) do order[j] = nm end
    table.sort(order, function(a, b) return get(a) > get(b) end)
    local set = {}
    for k = 1, 5 do set[order[k]] = true end
    return set
  end
  for j, nm in ipairs(sk_imp.feature) do
    local tol = 5 * sk_imp.sd[j] * math.sqrt(2 / 10)
    T.near(imp[nm], sk_imp.mean[j], tol, "impurity importance of " .. nm)
  end
  local sk_by = {}
  for j, nm in ipairs(sk_imp.feature) do sk_by[nm] = sk_imp.mean[j] end
  local a, b = top5(function(nm) return imp[nm] end), top5(function(nm) return sk_by[nm] end)
  for nm in pairs(b) do T.ok(a[nm], "top-5 feature " .. nm) end
end)

for _, case in ipairs({
  {"sklearn_wdbc_tree.csv", {}},
  {"sklearn_wdbc_tree_entropy.csv", {criterion = "entropy", min_leaf = 3}},
  {"sklearn_wdbc_tree_balanced.csv", {class_weight = "balanced"}},
}) do
  T.test("scikit-learn: bootstrap=false, mtry=p grows the same tree split for split: " .. case[1], function()
    -- The fixture marks nodes whose best gain is tied between candidate
    -- splits (found by brute force in the oracle); there either side may
    -- choose another split, so we compare such a node's value, cover and
    -- impurity but not its split or subtree.
    local sk = T.read_fixture(T.root .. "/tests/fixtures/forest/" .. case[1])
    local opts = {trees = 1, bootstrap = false, mtry = "all", seed = 1}
    for k, v in pairs(case[2]) do opts[k] = v end
    local t = sv.forest.train(Xtr, ytr, opts):tree(1)
    local splits = 0
    local function walk(a, b) -- a: sylva node id, b: sklearn node id (0-based)
      -- With non-integer class weights the weighted sums are accumulated
      -- in another order than scikit-learn's (children as parent minus
      -- left, per level counts): a few ulps of the sums, hence 1e-13.
      T.near(t.value[a + 1], sk.value[b + 1], 1e-13, "value at node " .. b)
      T.near(t.cover[a + 1], sk.cover[b + 1], 1e-13, "cover at node " .. b, true)
      T.near(t.impurity[a + 1], sk.impurity[b + 1], 1e-13, "impurity at node " .. b)
      if sk.left[b + 1] == -1 then
        T.eq(t.left[a + 1], -1, "leaf at node " .. b)
        return
      end
      if sk.tie[b + 1] == 1 then return end
      splits = splits + 1
      T.eq(t.feature[a + 1], sk.feature[b + 1], "feature at node " .. b)
      -- scikit-learn's threshold is a midpoint of float32 values
      T.near(t.threshold[a + 1], sk.threshold[b + 1], 2 ^ -23 * math.abs(sk.threshold[b + 1]),
             "threshold at node " .. b)
      walk(t.left[a + 1], sk.left[b + 1])
      walk(t.right[a + 1], sk.right[b + 1])
    end
    walk(0, 0)
    T.ok(splits >= 5, "at least 5 untied splits compared, got " .. splits)
  end)
end

T.test("bad input raises clear errors", function()
  T.raises(function() sv.forest.train({{1}, {0 / 0}}, {0, 1}) end, "NaN at row 2, column 1")
  T.raises(function() sv.forest.train({{1}, {1 / 0}}, {0, 1}) end, "infinite value at row 2")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 0 / 0}) end, "y element 2 is not a finite number")
  T.raises(function() sv.forest.train({{1}, {2}}, {2, 2}) end, "only one class (2)")
  T.raises(function() sv.forest.train({{1}, {2}}, {1, 1}) end, "only class 1")
  T.raises(function() sv.forest.train({}, {}) end, "no rows")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1, 1}) end, "y has 3 values, X has 2 rows")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {mtry = 2}) end, "mtry")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {mtry = 0}) end, "mtry")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {treees = 3}) end,
           "unknown option 'treees' to forest.train")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {trees = 0}) end, "trees")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {criterion = "mse"}) end, "criterion")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {class_weight = {1, -1}}) end, "class_weight")
  T.raises(function() sv.forest.train({{1}, {2}}, {0, 1}, {sample_fraction = 0}) end, "sample_fraction")
  T.raises(function() sv.forest.train(sv.matrix({{1, 2}, {2, 1}}, {"a", "a"}), {0, 1}) end,
           "feature name 'a' appears twice")
  local f = sv.forest.train({{1}, {2}, {3}}, {0, 1, 1}, {trees = 2})
  T.raises(function() f:predict({{1, 2}}) end, "X has 2 columns, the forest was trained on 1")
  T.raises(function() f:predict({{0 / 0}}) end, "NaN")
  T.raises(function() f:importance("gain") end, "invalid option 'gain'")
  T.raises(function() f:importance("impurity", {repeats = 2}) end, "unknown option 'repeats'")
  T.raises(function() f:save(T.tmp .. "/no/such/dir/f.svf") end, "no/such/dir/f.svf")
end)

T.done()
