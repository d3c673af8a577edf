-- validate.lua - internal validation of a whole prediction pipeline
-- (docs/validation.md): Harrell's optimism bootstrap, Efron's .632 and
-- Efron & Tibshirani's .632+, repeated k-fold cross-validation, and the
-- stability of the pipeline across resamples (Riley & Collins 2023).
--
-- A pipeline is a Lua function fit(rows) that trains everything (encoding
-- statistics, imputation, tuning, selection, model) on the listed rows
-- (1-based, repeats allowed) and returns score, a function score(rows) ->
-- predicted probabilities of those rows, and optionally a table info
-- ({features = {names selected}}). Every number the pipelines are judged
-- by (metrics, resamples, combination, instability) comes from the engine
-- (engine/validate.c) through sv._validate.

local sv = require "sylva"
local args = require "sylva.args"
local C = sv._validate
local M = {}

-- in the engine's order (sv_validate.h)
local METRICS = {"auc", "brier", "slope", "intercept", "emax", "e90", "ici"}
M.METRICS = METRICS

local function flat(t)
  local out = {}
  for k, m in ipairs(METRICS) do out[k] = t[m] end
  return out
end

local function nan_metrics()
  local out = {}
  for _, m in ipairs(METRICS) do out[m] = 0 / 0 end
  return out
end

local function is_interrupt(msg)
  msg = tostring(msg)
  return msg:find("interrupted", 1, true) ~= nil
end

-- y as a Vector of 0/1 with both classes
local function outcome(y, fname)
  if type(y) ~= "table" and type(y) ~= "userdata" then
    error(("bad argument #1 to '%s' (Vector or array of 0/1 expected, got %s)"):format(fname, type(y)), 3)
  end
  y = args.vector(y)
  local n1 = 0
  for i = 1, #y do
    local v = y[i]
    if v ~= 0 and v ~= 1 then
      error(("bad argument #1 to '%s' (y must hold 0 or 1, element %d is %s)"):format(fname, i, tostring(v)), 3)
    end
    n1 = n1 + v
  end
  if n1 == 0 or n1 == #y then
    error(("bad argument #1 to '%s' (y holds only class %d: both classes are needed)"):format(fname, n1 == 0 and 0 or 1), 3)
  end
  return y
end

-- Runs the pipeline on rows and scores all n rows: p (Vector), info.
local function run(fit, rows, all, n)
  local score, info = fit(rows)
  if type(score) ~= "function" then
    error(("fit returned %s, expected a function score(rows)"):format(type(score)), 0)
  end
  local p = score(all)
  if type(p) ~= "userdata" then
    if type(p) ~= "table" then error(("score returned %s, expected probabilities"):format(type(p)), 0) end
    p = sv.vector(p)
  end
  if #p ~= n then error(("score returned %d values for %d rows"):format(#p, n), 0) end
  for i = 1, n do
    local v = p[i]
    if not (v >= 0 and v <= 1) then
      error(("score returned %s for row %d, not a probability"):format(tostring(v), i), 0)
    end
  end
  if info ~= nil and type(info) ~= "table" then info = nil end
  return p, info
end

--- sv.validate.metrics(y, p [, rows]) -> {auc, brier, slope, intercept, dropped}
M.metrics = C.metrics

local function check_fit(fit, fname)
  if type(fit) ~= "function" then
    error(("bad argument #2 to '%s' (function fit(rows) expected, got %s)"):format(fname, type(fit)), 3)
  end
end

local function count_features(sel, features)
  for _, f in ipairs(features or {}) do sel[f] = (sel[f] or 0) + 1 end
end

-- {feature, count, frequency} sorted by frequency then name
local function frequencies(sel, ok)
  local out = {}
  for f, c in pairs(sel) do out[#out + 1] = {feature = f, count = c, frequency = ok > 0 and c / ok or 0 / 0} end
  table.sort(out, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return tostring(a.feature) < tostring(b.feature)
  end)
  return out
end

local METHODS = {optimism = true, [".632"] = true, [".632+"] = true}

-- The threads option: an integer >= 0 (0 = every core), default 0.
local function threads_opt(opts, fname)
  local t = opts.threads or 0
  if math.type(t) ~= "integer" or t < 0 then
    error(("bad option 'threads' to %s (an integer >= 0 expected, 0 = every core)"):format(fname), 3)
  end
  return t
end

-- results[j] = job(j) for j = 1..count: in worker processes when there
-- are several (bindings/lworkers.c; each runs jobs in its own copy of the
-- Lua state and sends back the result table), else one after the other
-- here. Either way results[j] is job j's, so everything computed from the
-- results is the same bit for bit.
local function map(count, threads, job, fname, show)
  local workers = C.workers(threads, count)
  if workers > 1 then return C.map(count, workers, job, fname, show) end
  local out = {}
  for j = 1, count do
    out[j] = job(j)
    if show then io.stderr:write(("\r%s: %d/%d"):format(fname, j, count)) end
  end
  if show then io.stderr:write("\n") end
  return out
end

-- One resample's pipeline: {p = Vector, features =} or {error = message};
-- an interrupt is raised, not returned.
local function attempt(fit, rows, all, n)
  local ok, p, info = pcall(run, fit, rows, all, n)
  if not ok then
    if is_interrupt(p) then error(p, 0) end
    return {error = tostring(p)}
  end
  local features
  if info and type(info.features) == "table" then
    features = {}
    for i, f in ipairs(info.features) do features[i] = f end
  end
  return {p = p, features = features}
end

--- sv.validate.bootstrap(y, fit [, {B = 200, seed = 1, method = "optimism", record = false, threads = 0}])
function M.bootstrap(y, fit, opts)
  local fname = "validate.bootstrap"
  opts = args.opts(opts, {B = true, seed = true, method = true, record = true, progress = true, threads = true},
    fname, 3)
  y = outcome(y, fname)
  check_fit(fit, fname)
  local seed = args.seed(opts, fname)
  local B = opts.B or 200
  if math.type(B) ~= "integer" or B < 1 or B > 1000000 then
    error(("bad option 'B' to %s (an integer in [1, 1000000] expected)"):format(fname), 2)
  end
  local method = opts.method or "optimism"
  if not METHODS[method] then
    error(("bad option 'method' to %s (\"optimism\", \".632\" or \".632+\" expected, got %s)"):format(
      fname, tostring(method)), 2)
  end
  local threads = threads_opt(opts, fname)
  local n = #y
  local all = {}
  for i = 1, n do all[i] = i end

  local ok0, p0, info0 = pcall(run, fit, all, all, n)
  if not ok0 then
    if is_interrupt(p0) then error(p0, 0) end
    error(("%s: the pipeline failed on all rows: %s"):format(fname, tostring(p0)), 2)
  end
  local app = C.metrics(y, p0)

  local results = map(B, threads, function(b)
    return attempt(fit, C.resample(n, seed, b), all, n)
  end, fname, opts.progress)

  local train, test, oob = {}, {}, {}
  local preds, rows_rec, reps, failures = {}, {}, {}, {}
  local sel = {}
  local failed = 0
  for b = 1, B do
    local rows = C.resample(n, seed, b)
    local r = results[b]
    local rec = {replicate = b}
    if r.error then
      failed = failed + 1
      failures[#failures + 1] = {replicate = b, error = r.error}
      rec.error = r.error
      rec.train, rec.test, rec.oob = nan_metrics(), nan_metrics(), nan_metrics()
      preds[b] = false
    else
      local p = r.p
      local inbag = {}
      for _, i in ipairs(rows) do inbag[i] = true end
      local out = {}
      for i = 1, n do if not inbag[i] then out[#out + 1] = i end end
      rec.train = C.metrics(y, p, rows)
      rec.test = C.metrics(y, p)
      rec.oob = #out > 0 and C.metrics(y, p, out) or nan_metrics()
      preds[b] = p
      if r.features then
        count_features(sel, r.features)
        rec.features = r.features
      end
    end
    local f1, f2, f3 = flat(rec.train), flat(rec.test), flat(rec.oob)
    for k = 1, #METRICS do
      train[#train + 1] = f1[k]; test[#test + 1] = f2[k]; oob[#oob + 1] = f3[k]
    end
    reps[b] = rec
    if opts.record then rows_rec[b] = rows end
  end

  local gamma = C.gamma_brier(y, p0)
  local optimism, corrected, nvalid = C.combine(method, flat(app), train, test, oob, B, gamma)
  app.dropped = nil
  local res = {
    method = method, B = B, failed = failed, failures = failures, seed = seed,
    apparent = app, optimism = optimism, corrected = corrected, n = nvalid,
  }
  if failed > 0 then
    io.stderr:write(("%s: %d of %d replicates failed (first: replicate %d: %s)\n"):format(
      fname, failed, B, failures[1].replicate, failures[1].error))
  end
  -- stability (Riley & Collins 2023)
  res.instability = C.instability(preds, p0)
  res.instability.p = p0
  res.predictions = preds
  if info0 and info0.features then
    res.selected = info0.features
    res.selection = frequencies(sel, B - failed)
  end
  if opts.record then
    res.rows = rows_rec
    res.replicates = reps
  end
  return res
end

--- sv.validate.cv(y, fit [, {k = 5, repeats = 10, seed = 1, stratify = true, record = false, threads = 0}])
function M.cv(y, fit, opts)
  local fname = "validate.cv"
  opts = args.opts(opts, {k = true, repeats = true, seed = true, stratify = true, record = true, threads = true,
                          progress = true}, fname, 3)
  y = outcome(y, fname)
  check_fit(fit, fname)
  local seed = args.seed(opts, fname)
  local threads = threads_opt(opts, fname)
  local folds = sv.split.repeated_kfold(y, {k = opts.k or 5, repeats = opts.repeats or 10,
                                           seed = seed, stratify = opts.stratify})
  local n = #y
  local all = {}
  for i = 1, n do all[i] = i end
  local ok0, p0 = pcall(run, fit, all, all, n)
  if not ok0 then
    if is_interrupt(p0) then error(p0, 0) end
    error(("%s: the pipeline failed on all rows: %s"):format(fname, tostring(p0)), 2)
  end
  local app = C.metrics(y, p0)
  app.dropped = nil
  local results = map(#folds, threads, function(fi)
    local f = folds[fi]
    return attempt(fit, f.train, f.test, #f.test)
  end, fname, opts.progress)
  local sum, cnt = {}, {}
  for _, m in ipairs(METRICS) do sum[m], cnt[m] = 0, 0 end
  local failed, failures, per = 0, {}, {}
  -- pooled out-of-fold predictions of each repetition
  local pooled = {}
  for fi, f in ipairs(folds) do
    local r = results[fi]
    local rec = {fold = f.fold, rep = f.rep}
    if r.error then
      failed = failed + 1
      failures[#failures + 1] = {fold = f.fold, rep = f.rep, error = r.error}
      rec.error = r.error
    else
      local p = r.p
      local yt = {}
      for i, row in ipairs(f.test) do yt[i] = y[row] end
      local one = true
      for i = 2, #yt do if yt[i] ~= yt[1] then one = false end end
      rec.test = one and nan_metrics() or C.metrics(yt, p)
      for _, m in ipairs(METRICS) do
        local v = rec.test[m]
        if v == v then sum[m] = sum[m] + v; cnt[m] = cnt[m] + 1 end
      end
      pooled[f.rep] = pooled[f.rep] or {}
      for i, row in ipairs(f.test) do pooled[f.rep][row] = p[i] end
    end
    per[fi] = rec
  end
  local cvm = {}
  for _, m in ipairs(METRICS) do cvm[m] = cnt[m] > 0 and sum[m] / cnt[m] or 0 / 0 end
  local res = {apparent = app, cv = cvm, n = cnt, folds = #folds, failed = failed, failures = failures,
               k = opts.k or 5, repeats = opts.repeats or 10, seed = seed}
  if opts.record then res.fold_results = per; res.pooled = pooled end
  return res
end

--- sv.validate.sample_size(opts): Riley et al. (2020) minimum sample size
M.sample_size = C.sample_size

--- sv.validate.cstat_to_r2(c, prevalence): the exact Cox-Snell R^2 of a C-statistic
M.cstat_to_r2 = C.cstat_to_r2

return M
