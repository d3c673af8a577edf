-- centres.lua - sv.centres: a model across several centres. Case-mix
-- shift before modelling (standardised mean differences, a membership
-- model), performance by centre or subgroup pooled by random-effects
-- meta-analysis, internal-external cross-validation (leave one centre
-- out) and the updating of a model for a new centre (Vergouwe et al.
-- 2017's closed test). Every statistic comes from the engine (sv.roc,
-- sv.calib, sv.glm, sv.meta, sv._centres.smd); this file arranges them.
-- docs/centres.md.
local sv = require "sylva"
local C = sv._centres

local M = {}

local function isnan(x) return x ~= x end

local function fail(fname, argn, msg)
  error(("bad argument #%d to '%s' (%s)"):format(argn, fname, msg), 3)
end

-- Plain Lua array of the values of a Vector or array.
local function tolist(v, fname, argn, what)
  if type(v) == "userdata" and v.totable then return v:totable() end
  if type(v) ~= "table" then fail(fname, argn, (what or "array") .. " expected, got " .. type(v)) end
  return v
end

-- Groups in order of first appearance: labels, and the rows of each.
local function groups_of(group, n, fname, argn)
  group = tolist(group, fname, argn, "array of group labels")
  if #group ~= n then fail(fname, argn, ("has %d labels, there are %d rows"):format(#group, n)) end
  local labels, rows, index = {}, {}, {}
  for i = 1, n do
    local g = group[i]
    if g == nil or (type(g) ~= "string" and type(g) ~= "number") or isnan(g) then
      fail(fname, argn, ("element %d is %s, expected a label (string or number)"):format(i, tostring(g)))
    end
    local k = index[g]
    if not k then
      k = #labels + 1
      labels[k], rows[k], index[g] = g, {}, k
    end
    rows[k][#rows[k] + 1] = i
  end
  -- tables read in label order: numbers ascending, then strings
  local order = {}
  for k = 1, #labels do order[k] = k end
  table.sort(order, function(a, b)
    local x, y = labels[a], labels[b]
    if type(x) ~= type(y) then return type(x) == "number" end
    return x < y
  end)
  local l2, r2 = {}, {}
  for a, k in ipairs(order) do l2[a], r2[a] = labels[k], rows[k] end
  return l2, r2
end

local function matrix_of(X, fname)
  if type(X) == "table" then
    local ok, m = pcall(sv.matrix, X)
    if not ok then fail(fname, 1, "a Matrix or an array of rows expected") end
    return m
  end
  if type(X) ~= "userdata" or not X.ncol then fail(fname, 1, "a Matrix or an array of rows expected") end
  return X
end

local function names_of(X, opts)
  local names = opts.names or (X.names and X:names()) or {}
  local out = {}
  for j = 1, X:ncol() do out[j] = names[j] or ("x" .. j) end
  return out
end

local function check_opts(opts, allowed, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(("bad argument to '%s' (options table expected)"):format(fname), 3) end
  for k in pairs(opts) do
    if not allowed[k] then error(("unknown option '%s' to %s"):format(tostring(k), fname), 3) end
  end
  return opts
end

local function take(v, rows)
  local out = {}
  for a, i in ipairs(rows) do out[a] = v[i] end
  return out
end

---------------------------------------------------------------------------
-- Case-mix shift between centres
---------------------------------------------------------------------------

--- sv.centres.smd(X, centre [, opts]) -> one row per feature:
--- {feature, binary, smd (the largest |SMD| over pairs of centres),
--- pair = {a, b}, pairs = {{a =, b =, smd =}, ...}}
function M.smd(X, centre, opts)
  opts = check_opts(opts, {names = 1}, "centres.smd")
  X = matrix_of(X, "centres.smd")
  local labels, rows = groups_of(centre, X:nrow(), "centres.smd", 2)
  if #labels < 2 then fail("centres.smd", 2, "there is only 1 centre") end
  local names = names_of(X, opts)
  local out = {}
  for j = 1, X:ncol() do
    local col = X:col(j):totable()
    local binary = true
    for i = 1, #col do
      if isnan(col[i]) then
        error(("centres.smd: feature '%s', row %d is NaN; impute first"):format(names[j], i), 2)
      end
      if col[i] ~= 0 and col[i] ~= 1 then binary = false end
    end
    local r = {feature = names[j], binary = binary, pairs = {}, smd = 0}
    for a = 1, #labels - 1 do
      for b = a + 1, #labels do
        local ok, d = pcall(C.smd, take(col, rows[a]), take(col, rows[b]), binary)
        if not ok then
          error(("centres.smd: feature '%s', centres '%s' and '%s': %s"):format(
            names[j], tostring(labels[a]), tostring(labels[b]), tostring(d):gsub("^centres%.smd: ", "")), 2)
        end
        r.pairs[#r.pairs + 1] = {a = labels[a], b = labels[b], smd = d}
        if math.abs(d) > math.abs(r.smd) or r.pair == nil then r.smd, r.pair = d, {labels[a], labels[b]} end
      end
    end
    out[j] = r
  end
  return out
end

--- sv.centres.membership(X, centre [, opts]) -> can a forest tell the
--- centres apart? One forest per centre (that centre against the others;
--- one forest for two centres), its out-of-bag AUC with DeLong CI and the
--- features it uses most.
function M.membership(X, centre, opts)
  opts = check_opts(opts, {forest = 1, names = 1, level = 1}, "centres.membership")
  X = matrix_of(X, "centres.membership")
  local labels, rows = groups_of(centre, X:nrow(), "centres.membership", 2)
  if #labels < 2 then fail("centres.membership", 2, "there is only 1 centre") end
  local fopts = {trees = 300, seed = 1}
  for k, v in pairs(opts.forest or {}) do fopts[k] = v end
  local names = names_of(X, opts)
  if not X.names or not X:names() then X = sv.matrix(X:totable(), names) end
  local out = {centres = {}, auc = {}, lo = {}, hi = {}, importance = {}}
  local n = X:nrow()
  for k = 1, (#labels == 2 and 1 or #labels) do
    local y = {}
    for i = 1, n do y[i] = 0 end
    for _, i in ipairs(rows[k]) do y[i] = 1 end
    local f = sv.forest.train(X, y, fopts)
    local a = sv.roc.auc(y, f:oob_predict(), {level = opts.level})
    out.centres[k], out.auc[k], out.lo[k], out.hi[k] = labels[k], a.auc, a.lo, a.hi
    out.importance[k] = f:importance("impurity")
  end
  return out
end

---------------------------------------------------------------------------
-- Performance by centre or subgroup, pooled
---------------------------------------------------------------------------

-- Calibration slope (R: glm(y ~ logit(p))) and calibration-in-the-large
-- (glm(y ~ 1 + offset(logit(p)))), by sv.glm so that they agree with R's
-- glm to its own convergence (docs/validation.md).
local function calibration(y, p)
  local lp, X, empty = {}, {}, {}
  for i = 1, #p do lp[i] = math.log(p[i] / (1 - p[i])); X[i] = {lp[i]}; empty[i] = {} end
  local m = sv.glm.logistic(X, y)
  local c = sv.glm.logistic(empty, y, {offset = lp})
  return {slope = m.coef[2], slope_se = m.se[2], citl = c.coef[1], citl_se = c.se[1]}
end

local PERF_OPTS = {method = 1, test = 1, level = 1, names = 1}

--- sv.centres.performance(y, p, group [, opts]) -> per group: n, events,
--- auc (DeLong CI), O/E, calibration intercept (CITL) and slope; pooled
--- by sv.meta (AUC on the logit scale, O/E on the log scale)
function M.performance(y, p, group, opts)
  opts = check_opts(opts, PERF_OPTS, "centres.performance")
  y = tolist(y, "centres.performance", 1, "array of 0/1 outcomes")
  p = tolist(p, "centres.performance", 2, "array of predicted probabilities")
  if #p ~= #y then fail("centres.performance", 2, ("has %d values, y has %d"):format(#p, #y)) end
  for i = 1, #y do
    if y[i] ~= 0 and y[i] ~= 1 then fail("centres.performance", 1, ("element %d is %s, expected 0 or 1"):format(i, tostring(y[i]))) end
    if type(p[i]) ~= "number" or not (p[i] > 0 and p[i] < 1) then
      fail("centres.performance", 2, ("element %d is %s, expected a probability in (0, 1)"):format(i, tostring(p[i])))
    end
  end
  local labels, rows = groups_of(group, #y, "centres.performance", 3)
  local level = opts.level or 0.95
  local res = {groups = {}, level = level}
  local ok_auc, ok_cal = {}, {}
  for k, g in ipairs(labels) do
    local yy, pp = take(y, rows[k]), take(p, rows[k])
    local r = {group = g, n = #yy, events = 0, expected = 0}
    for i = 1, #yy do r.events = r.events + yy[i]; r.expected = r.expected + pp[i] end
    r.oe = r.events / r.expected
    if r.events == 0 or r.events == r.n then
      r.status = ("only class %d: no AUC or calibration slope"):format(yy[1])
    else
      local a = sv.roc.auc(yy, pp, {level = level})
      r.auc, r.auc_lo, r.auc_hi, r.auc_se = a.auc, a.lo, a.hi, a.se
      local ok, c = pcall(calibration, yy, pp)
      if ok then
        r.slope, r.slope_se, r.citl, r.citl_se = c.slope, c.slope_se, c.citl, c.citl_se
        ok_cal[#ok_cal + 1] = k
      else
        r.status = "calibration: " .. tostring(c)
      end
      if r.auc > 0 and r.auc < 1 and r.auc_se > 0 then ok_auc[#ok_auc + 1] = k end
    end
    res.groups[k] = r
  end
  local mopts = {method = opts.method, test = opts.test or "knha", level = level}
  local function col(ks, f) local t = {} for a, k in ipairs(ks) do t[a] = res.groups[k][f] end return t end
  res.pooled = {}
  if #ok_auc >= 2 then
    res.pooled.auc = sv.meta.pool_auc(col(ok_auc, "auc"), col(ok_auc, "auc_se"), mopts)
    res.pooled.auc.groups = col(ok_auc, "group")
  end
  local ok_oe = {}
  for k, r in ipairs(res.groups) do if r.events > 0 and r.events < r.n then ok_oe[#ok_oe + 1] = k end end
  if #ok_oe >= 2 then
    local oe_opts = {method = mopts.method, test = mopts.test, level = level, n = col(ok_oe, "n")}
    res.pooled.oe = sv.meta.pool_oe(col(ok_oe, "events"), col(ok_oe, "expected"), oe_opts)
    res.pooled.oe.groups = col(ok_oe, "group")
  end
  if #ok_cal >= 2 then
    for _, f in ipairs({"slope", "citl"}) do
      local se = col(ok_cal, f .. "_se")
      local v = {}
      for a = 1, #se do v[a] = se[a] ^ 2 end
      res.pooled[f] = sv.meta.rma(col(ok_cal, f), v, mopts)
      res.pooled[f].groups = col(ok_cal, "group")
    end
  end
  return res
end

--- sv.centres.subgroups(y, p, group [, opts]): the same table for any
--- grouping column (age group, menopause, field strength)
M.subgroups = M.performance

--- sv.centres.forest_plot(perf [, opts]) -> SVG: the forest plot of one
--- pooled measure of sv.centres.performance or .iecv (opts.measure =
--- "auc" (default), "oe", "slope" or "citl")
function M.forest_plot(perf, opts)
  opts = opts or {}
  if type(perf) ~= "table" or type(perf.pooled) ~= "table" then
    error("bad argument #1 to 'centres.forest_plot' (a result of sv.centres.performance or iecv expected)", 2)
  end
  local measure = opts.measure or "auc"
  local pooled = perf.pooled[measure]
  if not pooled then
    error(("centres.forest_plot: no pooled '%s' (fewer than 2 groups have one)"):format(tostring(measure)), 2)
  end
  local fit = pooled.fit or pooled
  local labels = {}
  for k, g in ipairs(pooled.groups) do labels[k] = tostring(g) end
  local transform = ({auc = "expit", oe = "exp"})[measure] or "identity"
  local ref = measure == "slope" and 1 or nil
  local xlab = ({auc = "AUC", oe = "O/E ratio", slope = "Calibration slope", citl = "Calibration-in-the-large"})[measure]
  local po = {labels = labels, transform = transform, ref = ref, xlab = opts.xlab or xlab,
              title = opts.title, study_label = opts.study_label or "Centre"}
  return sv.plot.meta_forest(fit, po)
end

---------------------------------------------------------------------------
-- Internal-external cross-validation
---------------------------------------------------------------------------

--- sv.centres.iecv(y, centre, fit [, opts]) -> leave each centre out in
--- turn: fit(rows) trains the whole pipeline on the other centres and
--- returns score(rows); the left-out centre's predictions give its
--- performance; pooled as sv.centres.performance.
function M.iecv(y, centre, fit, opts)
  opts = check_opts(opts, PERF_OPTS, "centres.iecv")
  y = tolist(y, "centres.iecv", 1, "array of 0/1 outcomes")
  if type(fit) ~= "function" then fail("centres.iecv", 3, "a pipeline function fit(rows) -> score expected") end
  local labels, rows = groups_of(centre, #y, "centres.iecv", 2)
  if #labels < 2 then fail("centres.iecv", 2, "there is only 1 centre; internal-external validation needs 2 or more") end
  local pred = {}
  for k, g in ipairs(labels) do
    local train = {}
    local mine = {}
    for _, i in ipairs(rows[k]) do mine[i] = true end
    for i = 1, #y do if not mine[i] then train[#train + 1] = i end end
    local ok, score = pcall(fit, train)
    if not ok then error(("centres.iecv: fitting without centre '%s' failed: %s"):format(tostring(g), tostring(score)), 2) end
    if type(score) ~= "function" then
      error(("centres.iecv: fit(rows) must return a function score(rows), got %s"):format(type(score)), 2)
    end
    local p = tolist(score(rows[k]), "centres.iecv", 3)
    if #p ~= #rows[k] then
      error(("centres.iecv: score gave %d values for the %d rows of centre '%s'"):format(#p, #rows[k], tostring(g)), 2)
    end
    for a, i in ipairs(rows[k]) do pred[i] = p[a] end
  end
  local res = M.performance(y, pred, centre, opts)
  res.predictions = sv.vector(pred)
  return res
end

---------------------------------------------------------------------------
-- Updating a model for a new centre
---------------------------------------------------------------------------

local function logit(p) return math.log(p / (1 - p)) end
local function expit(x) return 1 / (1 + math.exp(-x)) end

--- sv.centres.update(y, p [, opts]) -> the closed test of Vergouwe et al.
--- (2017) between no update, an intercept update and logistic
--- recalibration, on the new centre's outcomes y and the model's
--- predictions p; `apply(p)` updates new predictions by the choice.
function M.update(y, p, opts)
  opts = check_opts(opts, {alpha = 1}, "centres.update")
  y = tolist(y, "centres.update", 1, "array of 0/1 outcomes")
  p = tolist(p, "centres.update", 2, "array of predicted probabilities")
  if #p ~= #y then fail("centres.update", 2, ("has %d values, y has %d"):format(#p, #y)) end
  local alpha = opts.alpha or 0.05
  if type(alpha) ~= "number" or not (alpha > 0 and alpha < 1) then
    error(("bad option 'alpha' to centres.update (%s is out of range: must be in (0, 1))"):format(tostring(alpha)), 2)
  end
  local lp, ll0, empty, X = {}, 0, {}, {}
  local events = 0
  for i = 1, #y do
    if y[i] ~= 0 and y[i] ~= 1 then fail("centres.update", 1, ("element %d is %s, expected 0 or 1"):format(i, tostring(y[i]))) end
    if type(p[i]) ~= "number" or not (p[i] > 0 and p[i] < 1) then
      fail("centres.update", 2, ("element %d is %s, expected a probability in (0, 1)"):format(i, tostring(p[i])))
    end
    lp[i] = logit(p[i])
    events = events + y[i]
    empty[i], X[i] = {}, {lp[i]}
  end
  if events == 0 or events == #y then fail("centres.update", 1, ("y holds only class %d: both classes are needed"):format(y[1])) end
  -- log-likelihood of the original model: glm with the linear predictor
  -- as an offset and nothing to fit is sum y log p + (1 - y) log(1 - p)
  for i = 1, #y do ll0 = ll0 + (y[i] == 1 and math.log(p[i]) or math.log(1 - p[i])) end
  local m1 = sv.glm.logistic(empty, y, {offset = lp})
  local m2 = sv.glm.logistic(X, y)
  local a1 = m1.coef[1]
  local a2, b2 = m2.coef[1], m2.coef[2]
  local lr_recal = 2 * (m2.loglik - ll0)
  local lr_slope = 2 * (m2.loglik - m1.loglik)
  local lr_int = 2 * (m1.loglik - ll0)
  local p_recal = sv.stats.pchisq(lr_recal, 2, false)
  local p_slope = sv.stats.pchisq(lr_slope, 1, false)
  local p_int = sv.stats.pchisq(lr_int, 1, false)
  local choice
  if p_recal >= alpha then choice = "none"
  elseif p_slope < alpha then choice = "recalibration"
  else choice = "intercept" end
  local res = {
    choice = choice, alpha = alpha, n = #y, events = events,
    loglik = {none = ll0, intercept = m1.loglik, recalibration = m2.loglik},
    intercept = {a = a1, se = m1.se[1]},
    recalibration = {a = a2, b = b2, se_a = m2.se[1], se_b = m2.se[2]},
    tests = {
      {name = "recalibration vs none", lr = lr_recal, df = 2, p = p_recal},
      {name = "recalibration vs intercept", lr = lr_slope, df = 1, p = p_slope},
      {name = "intercept vs none", lr = lr_int, df = 1, p = p_int},
    },
  }
  --- res.apply(p_new [, which]) -> updated probabilities (which = the
  --- choice, or "none", "intercept", "recalibration")
  function res.apply(pn, which)
    which = which or choice
    pn = tolist(pn, "apply", 1, "array of predicted probabilities")
    local out = {}
    for i = 1, #pn do
      local x = pn[i]
      if type(x) ~= "number" or not (x > 0 and x < 1) then
        fail("apply", 1, ("element %d is %s, expected a probability in (0, 1)"):format(i, tostring(x)))
      end
      if which == "none" then out[i] = x
      elseif which == "intercept" then out[i] = expit(a1 + logit(x))
      elseif which == "recalibration" then out[i] = expit(a2 + b2 * logit(x))
      else fail("apply", 2, "expected \"none\", \"intercept\" or \"recalibration\"") end
    end
    return sv.vector(out)
  end
  return res
end


---------------------------------------------------------------------------
-- Internal-external cross-validation inside a study (sv.study.iecv)
---------------------------------------------------------------------------

-- Encoded data of several centres stacked into one (the first's output
-- columns, by name), for the imputation and the model of a fold.
local function stack(ds)
  local names = ds[1].names
  local out = {}
  for k, v in pairs(ds[1]) do out[k] = v end
  local rows, src = {}, {}
  for _, d in ipairs(ds) do
    if d.n > 0 then
      local t = d.X:cols(names):totable()
      for i = 1, d.n do rows[#rows + 1] = t[i]; src[#src + 1] = #src + 1 end
    end
  end
  out.X = #rows > 0 and sv.matrix(rows, names) or nil
  out.n, out.rows, out.lines, out.ids = #rows, src, nil, nil
  out.outcomes, out.centre = {}, "the other centres"
  return out
end

-- A report that keeps nothing: the steps of a fold write no tables.
local quiet = setmetatable({}, {__index = function() return function() end end})

--- sv.centres.study_iecv(ctx, study): the IECV step of sv.study: leave
--- each centre out, refit imputation and model (refit = "model") or also
--- the grid search and the feature selection (refit = "pipeline", the
--- default) on the others, score the left-out centre; per-centre table,
--- pooled results and the forest plot in the report.
function M.study_iecv(ctx, study)
  local v = ctx.spec.validation or {}
  local refit = v.refit or "pipeline"
  local centres = {{name = ctx.dev.name, d = ctx.dev_task.d, y = ctx.dev_task.y}}
  for _, e in ipairs(ctx.ext_task or {}) do
    if e.d.n > 0 then centres[#centres + 1] = {name = e.centre.name, d = e.d, y = e.y} end
  end
  if #centres < 2 then
    ctx.notes[#ctx.notes + 1] = "internal-external cross-validation needs at least 2 centres with patients in this task"
    return
  end
  local trees = (ctx.spec.model and ctx.spec.model.trees) or 500
  local eps = 1 / (2 * trees)
  local y_all, p_all, group, clipped = {}, {}, {}, 0
  for k, c in ipairs(centres) do
    local others, y_train = {}, {}
    for j, o in ipairs(centres) do
      if j ~= k then
        others[#others + 1] = o.d
        for i = 1, #o.y do y_train[#y_train + 1] = o.y[i] end
      end
    end
    local raw = stack(others)
    local imputer = sv.encode.fit_imputer(raw)
    local train = {name = "training", d = imputer:apply(raw), y = y_train}
    local test = {name = c.name, d = imputer:apply(c.d), y = c.y}
    local sub = {spec = ctx.spec, task = ctx.task, report = quiet, dev = ctx.dev, threads = ctx.threads,
                 notes = {}, train = train, sets = {train, test}}
    if refit == "pipeline" then
      study.tune(sub)
      study.select(sub)
    else
      sub.forest, sub.selected = ctx.forest, ctx.selected
    end
    study.final(sub)
    for i = 1, #c.y do
      local p = test.score[i]
      -- a forest's vote fraction can be 0 or 1; half a tree's vote keeps
      -- the logit (O/E, calibration slope) finite
      if p < eps then p, clipped = eps, clipped + 1 elseif p > 1 - eps then p, clipped = 1 - eps, clipped + 1 end
      y_all[#y_all + 1], p_all[#p_all + 1], group[#group + 1] = c.y[i], p, c.name
    end
    if ctx.log then ctx.log(("%s: IECV: centre '%s' scored by a model of the other %d"):format(
      ctx.task.id, c.name, #centres - 1)) end
  end
  local perf = M.performance(y_all, p_all, group, {test = v.test})
  perf.refit, perf.clipped = refit, clipped
  local rows = {}
  for _, g in ipairs(perf.groups) do
    rows[#rows + 1] = {centre = g.group, n = g.n, events = g.events, auc = g.auc, auc_lo = g.auc_lo,
      auc_hi = g.auc_hi, oe = g.oe, slope = g.slope, citl = g.citl, note = g.status or ""}
  end
  local labels = {auc = "AUC", oe = "O/E", slope = "slope", citl = "CITL"}
  for _, m in ipairs({"auc", "oe", "slope", "citl"}) do
    local pm = perf.pooled[m]
    if pm then
      local r = {centre = "pooled (random effects)", note = ("%s: tau2 %.3g, I2 %.0f%%, %d%% PI %.3f to %.3f"):format(
        labels[m], pm.tau2, pm.i2, math.floor(perf.level * 100 + 0.5), pm.pi_lo, pm.pi_hi)}
      r[m] = pm.auc or pm.oe or pm.estimate
      if m == "auc" then r.auc_lo, r.auc_hi = pm.lo, pm.hi end
      rows[#rows + 1] = r
    end
  end
  ctx.report:table(rows, {name = ctx.task.id .. "_iecv",
    columns = {"centre", "n", "events", "auc", "auc_lo", "auc_hi", "oe", "slope", "citl", "note"},
    caption = ("Internal-external cross-validation: each centre scored by the %s refitted on the other " ..
               "centres; pooled by random-effects meta-analysis (REML, %s)"):format(
               refit == "pipeline" and "whole pipeline (imputation, grid search, selection, forest)" or
               "imputation and forest (grid and selection of the development centre)",
               (v.test or "knha") == "knha" and "Knapp-Hartung" or "z")})
  if perf.pooled.auc then
    ctx.report:figure(M.forest_plot(perf, {title = "Internal-external cross-validation: AUC by centre"}),
      {name = ctx.task.id .. "_iecv_forest", caption = "AUC of each left-out centre and the pooled AUC with its prediction interval"})
  end
  if clipped > 0 then
    ctx.notes[#ctx.notes + 1] = ("IECV: %d forest score%s of exactly 0 or 1 moved by half a tree's vote (%g) " ..
      "so that O/E and calibration are defined"):format(clipped, clipped == 1 and "" or "s", eps)
  end
  ctx.iecv = perf
end


--- sv.centres.study_shift(ctx): the `shift` step of sv.study: before
--- modelling, the largest |SMD| of each feature between the centres (task
--- patients, before imputation: complete values of the feature) and the
--- membership forest's out-of-bag AUC on the imputed training-style data
function M.study_shift(ctx)
  local centres = {{name = ctx.dev.name, d = ctx.dev_task.d}}
  for _, e in ipairs(ctx.ext_task or {}) do
    if e.d.n > 0 then centres[#centres + 1] = {name = e.centre.name, d = e.d} end
  end
  if #centres < 2 then return end
  local names = ctx.dev_task.d.names
  local rows = {}
  for _, name in ipairs(names) do
    local vals, lab = {}, {}
    for _, c in ipairs(centres) do
      local col = c.d.X:col(name)
      for i = 1, c.d.n do
        if not isnan(col[i]) then vals[#vals + 1] = {col[i]}; lab[#lab + 1] = c.name end
      end
    end
    local ok, r = pcall(M.smd, vals, lab, {names = {name}})
    if ok then
      local t = r[1]
      rows[#rows + 1] = {feature = name, measure = "SMD", value = t.smd,
        between = tostring(t.pair[1]) .. " / " .. tostring(t.pair[2]),
        flag = math.abs(t.smd) > 0.1 and "> 0.1" or ""}
    else
      rows[#rows + 1] = {feature = name, flag = "not computed (a centre has too few values)"}
    end
  end
  -- membership: complete rows imputed by the development centre's medians
  local imp = sv.encode.fit_imputer(ctx.dev_task.d)
  local X, lab = {}, {}
  for _, c in ipairs(centres) do
    local d = imp:apply(c.d)
    local t = d.X:cols(names):totable()
    for i = 1, d.n do X[#X + 1] = t[i]; lab[#lab + 1] = c.name end
  end
  local m = M.membership(sv.matrix(X, names), lab,
    {forest = {trees = 300, seed = ctx.spec.seed, threads = ctx.threads}})
  for k, c in ipairs(m.centres) do
    rows[#rows + 1] = {feature = ("membership forest: %s vs the other centre%s"):format(c, #centres > 2 and "s" or ""),
      measure = "OOB AUC", value = m.auc[k], between = ("[%.3f, %.3f]"):format(m.lo[k], m.hi[k]),
      flag = m.auc[k] > 0.7 and "> 0.7" or ""}
  end
  ctx.report:table(rows, {name = ctx.task.id .. "_shift", columns = {"feature", "measure", "value", "between", "flag"},
    caption = "Case-mix shift between centres before modelling: the largest standardised mean difference " ..
      "of each feature over pairs of centres (task patients, observed values), and the out-of-bag AUC of a " ..
      "forest telling the centres apart (0.5: indistinguishable)"})
  ctx.shift = {smd = rows, membership = m}
end


--- sv.centres.study_update(ctx): the `update` step of sv.study: for each
--- external centre, the closed test between no update, an intercept update
--- and recalibration of the final model's scores (sv.centres.update)
function M.study_update(ctx)
  local trees = (ctx.spec.model and ctx.spec.model.trees) or 500
  local eps = 1 / (2 * trees)
  local rows, out = {}, {}
  for _, set in ipairs(ctx.sets or {}) do
    if set.external and set.two_classes and set.score then
      local p = {}
      for i = 1, #set.y do
        local x = set.score[i]
        p[i] = x < eps and eps or (x > 1 - eps and 1 - eps or x)
      end
      local ok, u = pcall(M.update, set.y, p)
      if ok then
        out[set.centre] = u
        rows[#rows + 1] = {centre = set.centre, n = u.n, events = u.events, choice = u.choice,
          intercept_a = u.intercept.a, recal_a = u.recalibration.a, recal_b = u.recalibration.b,
          p_recal_vs_none = u.tests[1].p, p_recal_vs_intercept = u.tests[2].p}
      else
        rows[#rows + 1] = {centre = set.centre, choice = "not computed: " .. tostring(u)}
      end
    end
  end
  if #rows == 0 then return end
  ctx.report:table(rows, {name = ctx.task.id .. "_update",
    columns = {"centre", "n", "events", "choice", "intercept_a", "recal_a", "recal_b", "p_recal_vs_none",
               "p_recal_vs_intercept"},
    caption = "Updating the model for each external centre (Vergouwe et al. 2017's closed test at 0.05): " ..
      "no update, intercept update logit(p') = a + logit(p), or recalibration logit(p') = a + b logit(p); " ..
      "forest scores of 0 or 1 moved by half a tree's vote"})
  ctx.updates = out
end


--- sv.centres.study_subgroups(ctx): the `subgroups` step of sv.study: for
--- each column of spec.subgroups (an encoded feature with few values), the
--- performance of the final model on the test sets (internal and
--- external together) by the column's value, and its forest plot
function M.study_subgroups(ctx)
  local cols = ctx.spec.subgroups
  if not cols or #cols == 0 then return end
  local trees = (ctx.spec.model and ctx.spec.model.trees) or 500
  local eps = 1 / (2 * trees)
  ctx.subgroups = {}
  for _, name in ipairs(cols) do
    local y, p, g = {}, {}, {}
    for _, set in ipairs(ctx.sets or {}) do
      if set ~= ctx.train and set.score then
        local ok, col = pcall(function() return set.raw.X:col(name) end)
        if not ok then
          error(("study: subgroups: '%s' is not an encoded feature column of set '%s'"):format(name, set.name), 0)
        end
        for i = 1, #set.y do
          local v = col[i]
          if v == v then
            local x = set.score[i]
            y[#y + 1], p[#p + 1] = set.y[i], x < eps and eps or (x > 1 - eps and 1 - eps or x)
            g[#g + 1] = ("%s = %s"):format(name, math.tointeger(v) or v)
          end
        end
      end
    end
    local res = M.subgroups(y, p, g)
    local rows = {}
    for _, r in ipairs(res.groups) do
      rows[#rows + 1] = {subgroup = r.group, n = r.n, events = r.events, auc = r.auc, auc_lo = r.auc_lo,
        auc_hi = r.auc_hi, oe = r.oe, slope = r.slope, note = r.status or ""}
    end
    if res.pooled.auc then
      rows[#rows + 1] = {subgroup = "heterogeneity between subgroups",
        note = ("AUC: Q = %.2f (df %d, p = %.3g), I2 %.0f%%"):format(res.pooled.auc.fit.q, res.pooled.auc.fit.q_df,
          res.pooled.auc.fit.q_p, res.pooled.auc.i2)}
    end
    ctx.report:table(rows, {name = ctx.task.id .. "_subgroups_" .. name,
      columns = {"subgroup", "n", "events", "auc", "auc_lo", "auc_hi", "oe", "slope", "note"},
      caption = ("Performance of the final model on the test sets by %s (observed values before imputation)"):format(name)})
    if res.pooled.auc then
      ctx.report:figure(M.forest_plot(res, {title = "AUC by " .. name, study_label = "Subgroup"}),
        {name = ctx.task.id .. "_subgroups_" .. name .. "_forest", caption = "AUC by " .. name .. " on the test sets"})
    end
    ctx.subgroups[name] = res
  end
end

return M
