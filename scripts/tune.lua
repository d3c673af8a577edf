-- tune.lua - hyper-parameter search for random forests by cross-validation
-- (sv.tune): grid search and random search over sv.forest.train options,
-- scored by stratified k-fold CV (AUC by default). Every configuration is
-- scored on the same folds, so configurations are compared on the same
-- patients (a paired comparison), and the whole search is a function of
-- the seed.

local sv = require "sylva"
local M = {}
local args = require "sylva.args"
local isnan = args.isnan
local check_opts = args.opts
local sorted_keys = args.sorted_keys
local as_vector = args.vector
local as_matrix = args.matrix
local copy = args.copy

local function value_str(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  if math.type(v) == "float" then return string.format("%g", v) end
  return tostring(v)
end

local function describe(cfg, keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. value_str(cfg[k]) end
  return table.concat(parts, " ")
end

-- Outcomes and predictions of a metric: equal-length, non-empty numbers.
local function check_yp(y, p, fname)
  for a, v in ipairs({y, p}) do
    if type(v) ~= "table" and not (type(v) == "userdata" and v.totable) then
      error(("bad argument #%d to '%s' (array or Vector of numbers expected, got %s)"):format(a, fname, type(v)), 3)
    end
  end
  if #y == 0 or #y ~= #p then
    error(("bad argument #2 to '%s' (%d predictions for %d outcomes)"):format(fname, #p, #y), 3)
  end
  for i = 1, #y do
    if type(y[i]) ~= "number" or type(p[i]) ~= "number" then
      error(("bad argument #%d to '%s' (element %d is not a number)"):format(
        type(y[i]) ~= "number" and 1 or 2, fname, i), 3)
    end
    if y[i] ~= 0 and y[i] ~= 1 then
      error(("bad argument #1 to '%s' (element %d is %s, expected 0 or 1)"):format(fname, i, tostring(y[i])), 3)
    end
    if not (p[i] >= 0 and p[i] <= 1) then
      error(("bad argument #2 to '%s' (element %d is %s, a probability expected)"):format(fname, i, tostring(p[i])), 3)
    end
  end
end

-- Built-in metrics: higher is better.
local METRICS = {
  auc = function(y, p) return sv.roc.auc(y, p, {ci = "none"}).auc end,
  brier = function(y, p) -- negated so that higher is better
    check_yp(y, p, "tune.metrics.brier")
    local s = 0
    for i = 1, #y do s = s + (p[i] - y[i]) ^ 2 end
    return -s / #y
  end,
  logloss = function(y, p)
    check_yp(y, p, "tune.metrics.logloss")
    local s, eps = 0, 1e-15
    for i = 1, #y do
      local q = math.min(1 - eps, math.max(eps, p[i]))
      s = s + (y[i] == 1 and -math.log(q) or -math.log(1 - q))
    end
    return -s / #y
  end,
}
M.metrics = METRICS

local function mean_sd(v)
  local n, s = #v, 0
  for _, x in ipairs(v) do s = s + x end
  local m = s / n
  local ss = 0
  for _, x in ipairs(v) do ss = ss + (x - m) ^ 2 end
  local sd = n > 1 and math.sqrt(ss / (n - 1)) or 0 / 0
  return m, sd, sd / math.sqrt(n)
end
M._mean_sd = mean_sd

-- The CV folds an options table asks for: opts.folds as given, else
-- stratified k-fold (repeated when opts.repeats > 1), seeded by seed.
local function folds_for(y, opts, seed)
  if opts.folds then return opts.folds end
  if (opts.repeats or 1) > 1 then
    return sv.split.repeated_kfold(y, {k = opts.k or 5, repeats = opts.repeats, seed = seed})
  end
  return sv.split.kfold(y, {k = opts.k or 5, seed = seed})
end
M._folds_for = folds_for

--- sv.tune.cv(X, y, forest_opts [, opts]) -> {mean=, sd=, se=, scores=}
-- Cross-validated score of one forest configuration.
function M.cv(X, y, forest_opts, opts)
  opts = check_opts(opts, {k = 1, repeats = 1, seed = 1, metric = 1, folds = 1}, "tune.cv")
  X = as_matrix(X, "tune.cv")
  y = as_vector(y)
  local folds = folds_for(y, opts, opts.seed or 1)
  local metric = opts.metric or "auc"
  local mfun = type(metric) == "function" and metric or METRICS[metric]
  if not mfun then error(("bad option 'metric' to tune.cv (unknown metric '%s')"):format(tostring(metric)), 2) end
  local scores = {}
  for f, fold in ipairs(folds) do
    local Xtr, Xte = X:rows(fold.train), X:rows(fold.test)
    local ytr, yte = sv.split.take(y, fold.train), sv.split.take(y, fold.test)
    -- A fold whose rows hold one class cannot train a forest (training
    -- rows) or give an AUC (test rows): say which fold, and what to do.
    for _, part in ipairs({{"training", ytr, true}, {"test", yte, metric == "auc"}}) do
      if part[3] then
        local pos = 0
        for i = 1, #part[2] do if part[2][i] == 1 then pos = pos + 1 end end
        if pos == 0 or pos == #part[2] then
          error(("tune.cv: fold %d's %s rows hold only class %d (%d rows); the smaller class has too few rows for %d folds: use fewer folds"):format(
            f, part[1], pos == 0 and 0 or 1, #part[2], #folds), 2)
        end
      end
    end
    local fo = copy(forest_opts)
    local forest = sv.forest.train(Xtr, ytr, fo)
    local p = forest:predict(Xte)
    scores[f] = mfun(yte, p)
    if forest.close then forest:close() end
  end
  local m, sd, se = mean_sd(scores)
  return {mean = m, sd = sd, se = se, scores = scores, folds = #folds}
end

-- Cartesian product of a grid {opt = {values...}} in a stable order: keys
-- sorted, the last key varying fastest.
local function expand(grid)
  local keys = sorted_keys(grid)
  local out = {{}}
  for _, k in ipairs(keys) do
    local vals = grid[k]
    if type(vals) ~= "table" or #vals == 0 then
      error(("bad argument #3 to 'tune.grid' (grid.%s must be a non-empty array of values)"):format(k), 3)
    end
    local nxt = {}
    for _, cfg in ipairs(out) do
      for _, v in ipairs(vals) do
        local c = copy(cfg)
        c[k] = v
        nxt[#nxt + 1] = c
      end
    end
    out = nxt
  end
  return out, keys
end
M._expand = expand

local SEARCH_OPTS = {k = 1, repeats = 1, seed = 1, metric = 1, forest = 1, progress = 1, folds = 1, n_iter = 1}

local function search(X, y, configs, keys, opts, fname)
  y = as_vector(y)
  if type(X) == "table" then X = sv.matrix(X) end
  local seed = opts.seed or 1
  if math.type(seed) ~= "integer" then error(("bad option 'seed' to %s (integer expected)"):format(fname), 3) end
  local folds = folds_for(y, opts, seed)
  local metric = opts.metric or "auc"
  local progress = opts.progress ~= false
  local results = {}
  local best
  local t0 = sv.clock()
  for i, cfg in ipairs(configs) do
    local fo = copy(opts.forest)
    for k, v in pairs(cfg) do fo[k] = v end
    if fo.seed == nil then fo.seed = seed end
    local ok, r = pcall(M.cv, X, y, fo, {folds = folds, metric = metric})
    if not ok then
      error(("%s: configuration %d (%s) failed: %s"):format(fname, i, describe(cfg, keys), tostring(r)), 3)
    end
    r.options = cfg
    r.index = i
    results[i] = r
    if not best or r.mean > best.mean then best = r end
    if progress then
      io.stderr:write(("%s: %d/%d  %s  %s %.4f (SD %.4f)  [%.1f s]\n"):format(
        fname, i, #configs, describe(cfg, keys), type(metric) == "string" and metric or "score",
        r.mean, r.sd, sv.clock() - t0))
    end
  end
  -- ranks: 1 = best mean; ties share the smaller rank
  local order = {}
  for i = 1, #results do order[i] = i end
  table.sort(order, function(a, b)
    if results[a].mean ~= results[b].mean then return results[a].mean > results[b].mean end
    return a < b
  end)
  for r, i in ipairs(order) do results[i].rank = r end
  local best_options = copy(opts.forest)
  for k, v in pairs(best.options) do best_options[k] = v end
  if best_options.seed == nil then best_options.seed = seed end
  -- a table for sv.report: one row per configuration, in search order
  local columns = {}
  for _, k in ipairs(keys) do columns[#columns + 1] = k end
  local mname = type(metric) == "string" and metric:upper() or "score"
  for _, c in ipairs({mname .. " mean", "SD", "SE", "rank"}) do columns[#columns + 1] = c end
  local rows = {}
  for i, r in ipairs(results) do
    local row = {}
    for _, k in ipairs(keys) do row[#row + 1] = value_str(r.options[k]) end
    row[#row + 1] = r.mean; row[#row + 1] = r.sd; row[#row + 1] = r.se; row[#row + 1] = r.rank
    rows[i] = row
  end
  return {
    results = results, best = best, best_options = best_options, best_index = best.index,
    metric = metric, folds = #folds, keys = keys,
    table = {columns = columns, rows = rows},
  }
end

--- sv.tune.grid(X, y, grid [, opts]) -> {results=, best=, best_options=, table=}
function M.grid(X, y, grid, opts)
  opts = check_opts(opts, SEARCH_OPTS, "tune.grid")
  if type(grid) ~= "table" then error("bad argument #3 to 'tune.grid' (table option = {values} expected)", 2) end
  X = as_matrix(X, "tune.grid")
  local configs, keys = expand(grid)
  return search(X, y, configs, keys, opts, "tune.grid")
end

-- One draw from a search-space entry: an array of values (uniform choice)
-- or a range {min=, max=, integer=true, log=true}.
local function draw(r, spec, key)
  if spec[1] ~= nil then return spec[r:integer(1, #spec)] end
  local lo, hi = spec.min, spec.max
  if type(lo) ~= "number" or type(hi) ~= "number" or not (lo <= hi) then
    error(("bad argument #3 to 'tune.random' (space.%s needs values or {min=, max=})"):format(key), 4)
  end
  local u = r:uniform()
  local x
  if spec.log then
    if lo <= 0 then error(("bad argument #3 to 'tune.random' (space.%s: log range needs min > 0)"):format(key), 4) end
    x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
  else
    x = lo + u * (hi - lo)
  end
  if spec.integer then
    x = math.floor(x + 0.5)
    if x < lo then x = math.ceil(lo) end
    if x > hi then x = math.floor(hi) end
    return math.tointeger(x)
  end
  return x
end

--- sv.tune.random(X, y, space [, opts]) -> as sv.tune.grid, n_iter configurations
function M.random(X, y, space, opts)
  opts = check_opts(opts, SEARCH_OPTS, "tune.random")
  if type(space) ~= "table" then error("bad argument #3 to 'tune.random' (table option = spec expected)", 2) end
  X = as_matrix(X, "tune.random")
  local n_iter = opts.n_iter or 20
  if math.type(n_iter) ~= "integer" or n_iter < 1 then error("bad option 'n_iter' to tune.random (integer >= 1 expected)", 2) end
  local keys = sorted_keys(space)
  -- stream 1 of the seed: the configurations do not depend on the folds
  local r = sv.rng(opts.seed or 1, 1)
  local configs = {}
  for i = 1, n_iter do
    local cfg = {}
    for _, k in ipairs(keys) do cfg[k] = draw(r, space[k], k) end
    configs[i] = cfg
  end
  return search(X, y, configs, keys, opts, "tune.random")
end

return M
