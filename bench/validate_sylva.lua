-- validate_sylva.lua - the pipeline of bench/bench_validate.lua, sylva's
-- side: sv.validate.bootstrap over a Task-1-like forest pipeline on gbsg.
-- Per replicate: 3-fold CV grid search (mtry 2, 3 x min_leaf 1, 5; 100
-- trees), a 200-tree forest with the best options, features ranked by mean
-- |TreeSHAP| (rank = "shap") or by out-of-bag permutation importance
-- (rank = "permutation", R's method), the top 4 kept, the final 200-tree
-- forest on them; then the optimism bootstrap's metrics. Prints
-- "cpu_per_replicate <s>" (process CPU time of the B replicates, apparent
-- fit excluded, divided by B).
--   sylva bench/validate_sylva.lua B threads shap|permutation
local sv = require "sylva"
local B = tonumber(arg[1] or "5")
local threads = tonumber(arg[2] or "1")
local rank_by = arg[3] or "shap"
local d = sv.read_csv("tests/fixtures/data/gbsg.csv")
local cols = {"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"}
local X, y = d:matrix(cols), d:col("status")

local function fit(rows)
  local Xr, yr = X:rows(rows), sv.split.take(y, rows)
  local folds = sv.split.kfold(yr, {k = 3, seed = 1})
  local best, best_auc
  for _, mtry in ipairs({2, 3}) do
    for _, leaf in ipairs({1, 5}) do
      local s = 0
      for _, f in ipairs(folds) do
        local m = sv.forest.train(Xr:rows(f.train), sv.split.take(yr, f.train),
          {trees = 100, mtry = mtry, min_leaf = leaf, seed = 1, threads = threads})
        s = s + sv.roc.auc(sv.split.take(yr, f.test), m:predict(Xr:rows(f.test))).auc
      end
      if not best_auc or s / 3 > best_auc then best_auc, best = s / 3, {mtry = mtry, leaf = leaf} end
    end
  end
  local f = sv.forest.train(Xr, yr, {trees = 200, mtry = best.mtry, min_leaf = best.leaf, seed = 2, threads = threads})
  local keep, names = {}, {}
  if rank_by == "shap" then
    local rank = sv.shap.importance(sv.shap.tree(f, Xr, {threads = threads}))
    for k = 1, 4 do keep[k] = rank[k].index; names[k] = rank[k].name end
  else
    local imp = f:importance("permutation", {repeats = 1, seed = 1, threads = threads})
    local order = {}
    for j = 1, #cols do order[j] = j end
    table.sort(order, function(a, b) return imp[cols[a]] > imp[cols[b]] end)
    for k = 1, 4 do keep[k] = order[k]; names[k] = cols[order[k]] end
  end
  local ff = sv.forest.train(Xr:cols(keep), yr, {trees = 200, mtry = math.min(best.mtry, 4), min_leaf = best.leaf,
                                                 seed = 3, threads = threads})
  return function(r) return ff:predict(X:rows(r):cols(keep)) end, {features = names}
end

local c0 = os.clock()
fit((function() local a = {} for i = 1, #y do a[i] = i end return a end)())
local c_app = os.clock() - c0
local v = sv.validate.bootstrap(y, fit, {B = B, seed = 1, threads = threads})
local cpu = os.clock() - c0 - c_app * 1 -- the bootstrap refits the apparent pipeline once more
print(("corrected AUC %.4f (apparent %.4f, optimism %.4f), failed %d"):format(
  v.corrected.auc, v.apparent.auc, v.optimism.auc, v.failed))
print(("cpu_per_replicate %.4f"):format(cpu / B))
