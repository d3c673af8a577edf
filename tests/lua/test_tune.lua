-- sv.tune: grid and random search by stratified k-fold CV.
local T = require "testing"
local sv = require "sylva"

local d = sv.read_csv(T.root .. "/tests/fixtures/data/wdbc.csv")
local feats = {"mean_radius", "mean_texture", "mean_smoothness", "mean_symmetry"}
local X = d:matrix(feats)
local y = d:col("malignant")
local n = X:nrow()

T.test("the grid is the Cartesian product, keys sorted, last key fastest", function()
  local cfgs, keys = sv.tune._expand({mtry = {1, 2}, min_leaf = {1, 5, 10}})
  T.eq(#cfgs, 6)
  T.eq(keys[1], "min_leaf"); T.eq(keys[2], "mtry")
  T.eq(cfgs[1].min_leaf, 1); T.eq(cfgs[1].mtry, 1)
  T.eq(cfgs[2].min_leaf, 1); T.eq(cfgs[2].mtry, 2)
  T.eq(cfgs[6].min_leaf, 10); T.eq(cfgs[6].mtry, 2)
end)

T.test("mean, SD and SE of fold scores by hand", function()
  -- {1, 2, 3, 4}: mean 2.5, SD sqrt(5/3) = 1.290994, SE = SD / 2
  local m, sd, se = sv.tune._mean_sd({1, 2, 3, 4})
  T.eq(m, 2.5); T.near(sd, math.sqrt(5 / 3), 1e-15); T.near(se, math.sqrt(5 / 3) / 2, 1e-15)
end)

T.test("CV scores every row exactly once (a metric that counts the test rows)", function()
  local seen = 0
  local r = sv.tune.cv(X, y, {trees = 5, seed = 1}, {k = 4, seed = 3,
    metric = function(yy, p) seen = seen + #yy; T.eq(#p, #yy); return #yy end})
  T.eq(seen, n)
  T.near(r.mean, n / 4, 1e-12)  -- 569 rows in 4 folds: mean fold size 142.25
  T.eq(#r.scores, 4)
end)

local res = sv.tune.grid(X, y, {trees = {1, 60}, min_leaf = {1, 20}},
  {k = 3, seed = 7, forest = {seed = 11}, progress = false})

T.test("grid search: every configuration scored on the same folds; best is the largest mean", function()
  T.eq(#res.results, 4)
  local best = -1
  for _, r in ipairs(res.results) do
    T.eq(#r.scores, 3)
    best = math.max(best, r.mean)
    T.ok(r.mean > 0.5 and r.mean <= 1, "AUC in range")
  end
  T.eq(res.best.mean, best)
  T.eq(res.results[res.best_index].rank, 1)
  T.eq(res.best_options.seed, 11)
  T.eq(res.best_options.trees, res.best.options.trees)
  -- 60 trees beat a single tree: a single tree's scores take few distinct
  -- values, so its AUC is visibly lower on this data.
  T.eq(res.best.options.trees, 60)
  -- the report table: option columns, metric, SD, SE, rank
  T.eq(res.table.columns[1], "min_leaf"); T.eq(res.table.columns[3], "AUC mean")
  T.eq(#res.table.rows, 4)
end)

T.test("the search is reproducible from the seed", function()
  local again = sv.tune.grid(X, y, {trees = {1, 60}, min_leaf = {1, 20}},
    {k = 3, seed = 7, forest = {seed = 11}, progress = false})
  for i = 1, 4 do T.eq(again.results[i].mean, res.results[i].mean) end
end)

T.test("the CV score equals a hand-assembled CV with the same folds", function()
  local folds = sv.split.kfold(y, {k = 3, seed = 7})
  local cfg = res.results[2].options
  local scores = {}
  for f, fold in ipairs(folds) do
    local forest = sv.forest.train(X:rows(fold.train), sv.split.take(y, fold.train),
      {trees = cfg.trees, min_leaf = cfg.min_leaf, seed = 11})
    scores[f] = sv.roc.auc(sv.split.take(y, fold.test), forest:predict(X:rows(fold.test)), {ci = "none"}).auc
  end
  for f = 1, 3 do T.eq(res.results[2].scores[f], scores[f]) end
end)

T.test("random search draws from lists and ranges, reproducibly", function()
  local space = {min_leaf = {min = 1, max = 30, integer = true}, mtry = {1, 2, 3}, sample_fraction = {min = 0.5, max = 1}}
  local r1 = sv.tune.random(X, y, space, {n_iter = 4, k = 3, seed = 5, forest = {trees = 10}, progress = false})
  local r2 = sv.tune.random(X, y, space, {n_iter = 4, k = 3, seed = 5, forest = {trees = 10}, progress = false})
  T.eq(#r1.results, 4)
  for i, r in ipairs(r1.results) do
    local o = r.options
    T.eq(math.type(o.min_leaf), "integer")
    T.ok(o.min_leaf >= 1 and o.min_leaf <= 30)
    T.ok(o.mtry == 1 or o.mtry == 2 or o.mtry == 3)
    T.ok(o.sample_fraction >= 0.5 and o.sample_fraction <= 1)
    T.eq(r.mean, r2.results[i].mean)
    T.eq(o.min_leaf, r2.results[i].options.min_leaf)
  end
end)

T.test("repeated k-fold: k x repeats scores, the first k those of plain k-fold", function()
  local r2 = sv.tune.cv(X, y, {trees = 10, seed = 2}, {k = 3, repeats = 2, seed = 4})
  T.eq(#r2.scores, 6)
  local r1 = sv.tune.cv(X, y, {trees = 10, seed = 2}, {k = 3, seed = 4})
  for f = 1, 3 do T.eq(r2.scores[f], r1.scores[f]) end
end)

T.test("bad options are errors naming the function", function()
  T.raises(function() sv.tune.grid(X, y, {trees = {10}}, {folds_k = 3}) end, "unknown option 'folds_k' to tune.grid")
  T.raises(function() sv.tune.grid(X, y, {trees = {}}, {progress = false}) end, "grid.trees must be a non-empty array")
  T.raises(function() sv.tune.grid(X, y, {treees = {10}}, {k = 3, progress = false}) end, "unknown option 'treees'")
  T.raises(function() sv.tune.random(X, y, {min_leaf = {min = 5}}, {progress = false}) end, "space.min_leaf")
  T.raises(function() sv.tune.cv(X, y, {trees = 5}, {metric = "accuracy"}) end, "unknown metric 'accuracy'")
end)

T.done()
