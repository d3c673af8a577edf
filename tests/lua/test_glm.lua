-- sv.glm.logistic against R's glm(family = binomial) on the real cohorts
-- (fixtures from tests/oracle/glm_r.R), hand cases, and the refusals of
-- separation and non-convergence that R only warns about.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/glm/"
local gbsg, wdbc = T.read_cohort("gbsg.csv"), T.read_cohort("wdbc.csv")
-- the weight and offset columns of glm_r.R
gbsg.w, gbsg.off = {}, {}
for i, pid in ipairs(gbsg.pid) do
  gbsg.w[i] = pid % 3 + 1
  gbsg.off[i] = (gbsg.rfstime[i] - 1000) / 2000
end

local function matrix(d, cols, rows)
  local X = {}
  for i = 1, rows or #d[cols[1]] do
    local r = {}
    for j, c in ipairs(cols) do r[j] = d[c][i] end
    X[i] = r
  end
  return X
end

-- the cases of glm_r.R: data, outcome, columns, options
local cases = {
  gbsg_full = {gbsg, "status", {"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"}, {}},
  gbsg_weights = {gbsg, "status", {"age", "size", "nodes", "pgr"}, {weights = gbsg.w}},
  gbsg_offset = {gbsg, "status", {"age", "size", "nodes", "hormon"}, {offset = gbsg.off}},
  gbsg_offset_weights = {gbsg, "status", {"size", "nodes"}, {offset = gbsg.off, weights = gbsg.w}},
  gbsg_nointercept = {gbsg, "status", {"age", "size", "hormon"}, {intercept = false}},
  wdbc_mean5 = {wdbc, "malignant", {"mean_radius", "mean_texture", "mean_smoothness",
                                    "mean_concave_points", "mean_symmetry"}, {}},
  wdbc_worst3 = {wdbc, "malignant", {"worst_radius", "worst_texture", "worst_concave_points"}, {}},
}

local fx = T.read_fixture_rows(FIX .. "glm.csv")
local px = T.read_fixture_rows(FIX .. "glm_predict.csv")

T.test("coefficients, SE, z, p, deviances and AIC equal R's glm to 1e-9", function()
  local seen = 0
  local models = {}
  for _, r in ipairs(fx) do
    local c = cases[r.case]
    assert(c, "fixture case " .. r.case .. " has no counterpart here")
    local m = models[r.case]
    if not m then
      m = sv.glm.logistic(matrix(c[1], c[3]), c[1][c[2]], c[4])
      models[r.case] = m
      m.k = 0
    end
    m.k = m.k + 1
    local k = m.k
    local term = r.term == "(Intercept)" and "(Intercept)" or ("x" .. (k - (m.intercept and 1 or 0)))
    T.eq(m.names[k], term)
    -- 1e-9 relative: the fits take the same IRLS path as R (same start,
    -- same stopping rule); what remains is the rounding of two different
    -- QR implementations, about 1e-13
    T.rel(m.coef[k], r.coef, 1e-9, r.case .. " coef " .. r.term)
    T.rel(m.se[k], r.se, 1e-9, r.case .. " se " .. r.term)
    T.rel(m.z[k], r.z, 1e-9, r.case .. " z " .. r.term)
    T.rel(m.p[k], r.p, 1e-9, r.case .. " p " .. r.term)
    T.rel(m.deviance, r.deviance, 1e-9, r.case .. " deviance")
    T.rel(m.null_deviance, r.null_deviance, 1e-9, r.case .. " null deviance")
    T.rel(m.aic, r.aic, 1e-9, r.case .. " aic")
    T.eq(m.df_residual, r.df_residual)
    T.eq(m.df_null, r.df_null)
    T.eq(m.iter, r.iter, r.case .. " iterations")
    T.eq(m.converged, r.converged == "TRUE")
    seen = seen + 1
  end
  T.eq(seen, 35)
  -- predictions on the first 20 rows, link and response
  local np = 0
  for _, r in ipairs(px) do
    local c = cases[r.case]
    local m = models[r.case]
    local X = matrix(c[1], c[3], 20)
    local off
    if c[4].offset then off = {table.unpack(c[4].offset, 1, 20)} end
    local lp = m:predict(X, {type = "link", offset = off})
    local pr = m:predict(X, {offset = off})
    T.rel(lp[r.row], r.link, 1e-9, r.case .. " link")
    T.rel(pr[r.row], r.response, 1e-9, r.case .. " response")
    np = np + 1
  end
  T.eq(np, 140)
end)

T.test("a hand case: one binary predictor gives the log odds ratio of its 2x2 table", function()
  -- x = 0: 3 events of 8; x = 1: 6 of 8. Intercept log(3/5), slope
  -- log(6/2) - log(3/5); SE of the slope sqrt(1/3 + 1/5 + 1/6 + 1/2)
  local X, y = {}, {}
  local function add(x, ev, n) for i = 1, n do X[#X + 1] = {x}; y[#y + 1] = i <= ev and 1 or 0 end end
  add(0, 3, 8); add(1, 6, 8)
  local m = sv.glm.logistic(X, y, {epsilon = 1e-14})
  T.rel(m.coef[1], math.log(3 / 5), 1e-12)
  T.rel(m.coef[2], math.log(3) - math.log(3 / 5), 1e-12)
  T.rel(m.se[2], math.sqrt(1 / 3 + 1 / 5 + 1 / 6 + 1 / 2), 1e-12)
  -- fitted values are the group rates, and the model predicts them
  T.rel(m:predict({{0}, {1}})[2], 6 / 8, 1e-12)
  -- integer weights equal repeated rows
  local Xw, yw, w = {{0}, {0}, {1}, {1}}, {1, 0, 1, 0}, {3, 5, 6, 2}
  local mw = sv.glm.logistic(Xw, yw, {weights = w, epsilon = 1e-14})
  T.rel(mw.coef[2], m.coef[2], 1e-12)
  T.rel(mw.se[2], m.se[2], 1e-12)
  T.rel(mw.deviance, m.deviance, 1e-12)
end)

T.test("separation and non-convergence are errors, or warnings with strict = false", function()
  -- all 30 wdbc features: R warns "fitted probabilities numerically 0 or 1
  -- occurred" and "algorithm did not converge" (fixtures/glm/glm_warnings.txt)
  local all = {}
  for _, n in ipairs({"mean_radius", "mean_texture", "mean_perimeter", "mean_area",
      "mean_smoothness", "mean_compactness", "mean_concavity", "mean_concave_points",
      "mean_symmetry", "mean_fractal_dimension", "radius_error", "texture_error",
      "perimeter_error", "area_error", "smoothness_error", "compactness_error",
      "concavity_error", "concave_points_error", "symmetry_error", "fractal_dimension_error",
      "worst_radius", "worst_texture", "worst_perimeter", "worst_area", "worst_smoothness",
      "worst_compactness", "worst_concavity", "worst_concave_points", "worst_symmetry",
      "worst_fractal_dimension"}) do all[#all + 1] = n end
  local X = matrix(wdbc, all)
  T.raises(function() sv.glm.logistic(X, wdbc.malignant) end, "glm.logistic: the fit did not converge")
  -- complete separation by one predictor, converging to numerically 0/1
  local Xs, ys = {}, {}
  for i = 1, 20 do Xs[i] = {i}; ys[i] = i > 10 and 1 or 0 end
  T.raises(function() sv.glm.logistic(Xs, ys, {max_iter = 100}) end, "fitted probabilities numerically 0 or 1")
  local m = sv.glm.logistic(Xs, ys, {strict = false, max_iter = 100})
  T.eq(m.separation, true)
  T.ok(#m.warnings >= 1)
  -- maxit = 2 on gbsg: R says "algorithm did not converge"
  local X2 = matrix(gbsg, {"age", "size"})
  T.raises(function() sv.glm.logistic(X2, gbsg.status, {max_iter = 2}) end, "did not converge in 2 iterations")
  local m2 = sv.glm.logistic(X2, gbsg.status, {max_iter = 2, strict = false})
  T.eq(m2.converged, false)
  T.ok(m2.warnings[1]:find("did not converge", 1, true))
end)

T.test("bad input names the argument", function()
  T.raises(function() sv.glm.logistic({{1}, {2}}, {0, 2}) end, "bad argument #2 to 'logistic' (y must hold 0 or 1, element 2")
  T.raises(function() sv.glm.logistic({{1}, {0 / 0}}, {0, 1}) end, "NaN at row 2, column 1")
  T.raises(function() sv.glm.logistic({{1}, {2}}, {1, 1}) end, "only class 1")
  T.raises(function() sv.glm.logistic({{1, 2}, {2, 4}, {3, 6}, {4, 8.5}}, {0, 1, 0, 1}, {foo = 1}) end, "unknown option 'foo' to glm.logistic")
  T.raises(function() sv.glm.logistic({{1, 2}, {2, 4}, {3, 6}, {4, 8}}, {0, 1, 0, 1}) end,
    "column 2 of X is a linear combination")
  T.raises(function() sv.glm.logistic({{1}, {2}}, {0, 1}, {weights = {1, -1}}) end, "bad option 'weights' to glm.logistic")
  local m = sv.glm.logistic({{1}, {2}, {3}, {4}}, {0, 1, 0, 1})
  T.raises(function() m:predict({{1, 2}}) end, "X has 2 columns, the model was fitted on 1")
end)

T.done()
