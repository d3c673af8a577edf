-- select.lua - feature selection along a SHAP ranking (sv.select).
--
-- The method of the HER2 study: train a forest on the training data, rank
-- the features by mean |SHAP| (TreeSHAP on the training rows), then add
-- features in that order and score each prefix by cross-validated AUC on
-- the training data. Stop rule: keep adding while the CV AUC improves by
-- more than `tol` ("tol"), or take the smallest prefix whose CV AUC is
-- within one standard error of the best ("1se", Breiman et al. 1984's
-- rule as used by glmnet's lambda.1se).

local sv = require "sylva"
local M = {}
local args = require "sylva.args"
local check_opts = args.opts
local copy = args.copy
local as_matrix = args.matrix

--- sv.select.shap_rank(X, y [, {forest = {...}, seed = 1}]) -> ranking, phi, base, forest
-- ranking: array of {name=, value=, index=} by mean |SHAP|, largest first.
function M.shap_rank(X, y, opts)
  opts = check_opts(opts, {forest = 1, seed = 1, threads = 1}, "select.shap_rank")
  X = as_matrix(X, "select.shap_rank")
  if not X:names() then error("bad argument #1 to 'select.shap_rank' (the matrix needs column names)", 2) end
  local fo = copy(opts.forest)
  if fo.seed == nil then fo.seed = opts.seed or 1 end
  local f = sv.forest.train(X, y, fo)
  local phi, base = sv.shap.tree(f, X, {threads = opts.threads})
  local ranking = sv.shap.importance(phi)
  return ranking, phi, base, f
end

--- sv.select.choose(curve, rule, tol) -> k
-- curve: array of {mean=, se=} for 1, 2, ... features.
-- "tol": the last size before the first step that improves by <= tol
-- (all sizes when every step improves by more). "1se": the smallest size
-- whose mean is >= best mean - SE of the best.
function M.choose(curve, rule, tol)
  if #curve == 0 then return 0 end
  if rule == "tol" then
    for k = 2, #curve do
      if curve[k].mean - curve[k - 1].mean <= tol then return k - 1 end
    end
    return #curve
  end
  local best = 1
  for k = 2, #curve do if curve[k].mean > curve[best].mean then best = k end end
  local bound = curve[best].mean - curve[best].se
  for k = 1, best do
    if curve[k].mean >= bound then return k end
  end
  return best
end

local FORWARD_OPTS = {ranking = 1, forest = 1, k = 1, repeats = 1, seed = 1, tol = 1, rule = 1,
                      max_features = 1, metric = 1, progress = 1, stop_early = 1, folds = 1}

--- sv.select.forward(X, y [, opts]) -> {selected=, ranking=, curve=, k=, rule=}
function M.forward(X, y, opts)
  opts = check_opts(opts, FORWARD_OPTS, "select.forward")
  X = as_matrix(X, "select.forward")
  if type(y) == "table" then y = sv.vector(y) end
  local names = X:names()
  if not names then error("bad argument #1 to 'select.forward' (the matrix needs column names)", 2) end
  local rule = opts.rule or "tol"
  if rule ~= "tol" and rule ~= "1se" then
    error("bad option 'rule' to select.forward (\"tol\" or \"1se\" expected)", 2)
  end
  local tol = opts.tol or 0.005
  if type(tol) ~= "number" or tol < 0 then error("bad option 'tol' to select.forward (number >= 0 expected)", 2) end
  local seed = opts.seed or 1
  local ranking = opts.ranking
  if not ranking then ranking = M.shap_rank(X, y, {forest = opts.forest, seed = seed}) end
  -- ranking may be an array of names or of {name=} records
  local order = {}
  local known = {}
  for _, n in ipairs(names) do known[n] = true end
  for i, r in ipairs(ranking) do
    local n = type(r) == "table" and r.name or r
    if not known[n] then error(("bad option 'ranking' to select.forward (entry %d '%s' is not a column of X)"):format(i, tostring(n)), 2) end
    order[i] = n
  end
  local pmax = math.min(#order, opts.max_features or #order)
  local folds = sv.tune._folds_for(y, opts, seed)
  local fo = copy(opts.forest)
  if fo.seed == nil then fo.seed = seed end
  local curve = {}
  local progress = opts.progress ~= false
  local stop_early = opts.stop_early and rule == "tol"
  local t0 = sv.clock()
  for k = 1, pmax do
    local feats = {}
    for a = 1, k do feats[a] = order[a] end
    local Xk = X:cols(feats)
    local fk = copy(fo)
    -- an integer mtry larger than the number of features would be an error
    if math.type(fk.mtry) == "integer" and fk.mtry > k then fk.mtry = k end
    local r = sv.tune.cv(Xk, y, fk, {folds = folds, metric = opts.metric})
    curve[k] = {k = k, added = order[k], features = feats, mean = r.mean, sd = r.sd, se = r.se, scores = r.scores}
    if progress then
      io.stderr:write(("select.forward: %d/%d  + %s  CV %s %.4f (SE %.4f)  [%.1f s]\n"):format(
        k, pmax, order[k], type(opts.metric) == "string" and opts.metric or "AUC", r.mean, r.se, sv.clock() - t0))
    end
    if stop_early and k > 1 and curve[k].mean - curve[k - 1].mean <= tol then break end
  end
  local chosen = M.choose(curve, rule, tol)
  local selected = {}
  for a = 1, chosen do selected[a] = order[a] end
  -- a table for sv.report
  local rows = {}
  for k, c in ipairs(curve) do
    rows[k] = {k, c.added, c.mean, c.sd, c.se, k == chosen and "selected" or ""}
  end
  return {
    selected = selected, k = chosen, ranking = ranking, order = order, curve = curve, rule = rule, tol = tol,
    folds = #folds,
    table = {columns = {"Features", "Added", "CV AUC mean", "SD", "SE", ""}, rows = rows},
  }
end

return M
