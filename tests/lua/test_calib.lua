-- sv.metrics and sv.calib against R (binom.test, prop.test, glm, rms's
-- val.prob, the Hosmer-Lemeshow and net-benefit definitions written out in
-- tests/oracle/diag_r.R), hand cases and invariants.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/diag/"
local function rows(file) return T.read_fixture_rows(FIX .. file) end
local cohort = T.read_cohort
local pred = {}
for _, d in ipairs({"wdbc", "gbsg"}) do
  local c = T.read_fixture(FIX .. "calib_pred_" .. d .. ".csv")
  pred[d] = c
end
local wdbc, gbsg = cohort("wdbc.csv"), cohort("gbsg.csv")

T.test("metrics at a cut-off by hand", function()
  -- positive when score >= .5: rows .9 .8 (cases) and .7 (control):
  -- tp 2, fn 1, fp 1, tn 3; sens 2/3, spec 3/4, ppv 2/3, npv 3/4,
  -- accuracy 5/7, F1 = 2*2/(2*2 + 1 + 1) = 2/3
  local y = {1, 1, 1, 0, 0, 0, 0}
  local s = {0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.05}
  local m = sv.metrics.at(y, s, 0.5)
  T.eq(m.tp, 2); T.eq(m.fn, 1); T.eq(m.fp, 1); T.eq(m.tn, 3)
  T.rel(m.sens, 2 / 3, 1e-15); T.rel(m.spec, 3 / 4, 1e-15)
  T.rel(m.ppv, 2 / 3, 1e-15); T.rel(m.npv, 3 / 4, 1e-15)
  T.rel(m.accuracy, 5 / 7, 1e-15); T.rel(m.f1, 2 / 3, 1e-15)
  T.ok(m.f1_lo ~= m.f1_lo, "F1 has no closed-form interval")
  -- the cut-off itself is positive
  T.eq(sv.metrics.at({1, 0}, {0.5, 0.2}, 0.5).tp, 1)
  -- Clopper-Pearson at x = 0 of n = 4: [0, 1 - 0.025^(1/4)]
  local lo, hi = sv.metrics.ci_proportion(0, 4)
  T.eq(lo, 0)
  T.rel(hi, 1 - 0.025 ^ 0.25, 1e-13)
  -- and x = n: [0.025^(1/4), 1]
  lo, hi = sv.metrics.ci_proportion(4, 4)
  T.rel(lo, 0.025 ^ 0.25, 1e-13)
  T.eq(hi, 1)
end)

T.test("metrics and their Clopper-Pearson and Wilson intervals agree with R", function()
  local inputs = {
    wdbc_pred = {pred.wdbc.y, pred.wdbc.p},
    gbsg_pred = {pred.gbsg.y, pred.gbsg.p},
    wdbc_concave = {wdbc.malignant, wdbc.mean_concave_points},
    gbsg_nodes = {gbsg.status, gbsg.nodes},
  }
  local n = 0
  for _, f in ipairs(rows("metrics.csv")) do
    local y, s = inputs[f.case][1], inputs[f.case][2]
    local cp = sv.metrics.at(y, s, f.cutoff)
    local wi = sv.metrics.at(y, s, f.cutoff, {ci = "wilson"})
    local k = f.metric
    T.eq(cp.tp, f.tp); T.eq(cp.fp, f.fp); T.eq(cp.tn, f.tn); T.eq(cp.fn, f.fn)
    T.rel(cp[k], f.estimate, 1e-15, f.case .. " " .. k)
    T.rel(cp.f1, f.f1, 1e-15)
    -- qbeta by Newton on the exact incomplete beta: 1e-10 relative
    T.rel(cp[k .. "_lo"], f.cp_lo, 1e-10, f.case .. " " .. k .. " CP lo")
    T.rel(cp[k .. "_hi"], f.cp_hi, 1e-10, f.case .. " " .. k .. " CP hi")
    T.rel(wi[k .. "_lo"], f.wilson_lo, 1e-12, f.case .. " " .. k .. " Wilson lo")
    T.rel(wi[k .. "_hi"], f.wilson_hi, 1e-12, f.case .. " " .. k .. " Wilson hi")
    n = n + 1
  end
  T.eq(n, 20)
end)

T.test("bootstrap intervals of the metrics: seeded, identical for 1 and 2 threads", function()
  local y, s = pred.wdbc.y, pred.wdbc.p
  local a = sv.metrics.at(y, s, 0.5, {boot = 300, seed = 3, threads = 1})
  local b = sv.metrics.at(y, s, 0.5, {boot = 300, seed = 3, threads = 2})
  for _, k in ipairs({"sens", "spec", "ppv", "npv", "accuracy", "f1"}) do
    T.eq(a.boot_ci[k][1], b.boot_ci[k][1], k)
    T.eq(a.boot_ci[k][2], b.boot_ci[k][2], k)
    T.ok(a.boot_ci[k][1] <= a[k] and a[k] <= a.boot_ci[k][2], k .. " estimate inside its interval")
  end
  -- the bootstrap interval of the sensitivity is close to the exact one
  -- (n = 100 cases: both have width ~0.14; 0.04 allows for the Monte Carlo
  -- error of 300 replicates and the discreteness)
  T.near(a.boot_ci.sens[1], a.sens_lo, 0.04)
  T.near(a.boot_ci.sens[2], a.sens_hi, 0.04)
end)

T.test("Brier score, recalibration intercept and slope, calibration-in-the-large agree with R", function()
  for _, f in ipairs(rows("calib.csv")) do
    local y, p = pred[f.data].y, pred[f.data].p
    T.rel(sv.calib.brier(y, p), f.brier, 1e-14, f.data .. " brier")
    T.rel(sv.calib.brier(y, p), f.brier_rms, 1e-14, f.data .. " brier (rms)")
    local r = sv.calib.slope(y, p)
    -- both fits iterated to convergence (R with glm.control(epsilon = 1e-15))
    T.rel(r.intercept, f.intercept, 1e-9, f.data .. " intercept")
    T.rel(r.slope, f.slope, 1e-9, f.data .. " slope")
    T.rel(r.se_intercept, f.se_intercept, 1e-9, f.data .. " se intercept")
    T.rel(r.se_slope, f.se_slope, 1e-9, f.data .. " se slope")
    T.rel(r.citl, f.citl, 1e-9, f.data .. " citl")
    T.rel(r.se_citl, f.se_citl, 1e-9, f.data .. " se citl")
    -- rms::val.prob stops its lrm fit earlier: agreement to 1e-6
    T.rel(r.intercept, f.intercept_rms, 1e-6, f.data .. " intercept (val.prob)")
    T.rel(r.slope, f.slope_rms, 1e-6, f.data .. " slope (val.prob)")
  end
end)

T.test("Brier by hand; perfectly calibrated predictions recalibrate to (0, 1)", function()
  -- ((0.8 - 1)^2 + (0.4 - 0)^2)/2 = (.04 + .16)/2 = .1
  T.rel(sv.calib.brier({1, 0}, {0.8, 0.4}), 0.1, 1e-15)
  -- p = 1/4 with 1 event in 4 rows and p = 3/4 with 3 in 4: the logistic
  -- fit on logit(p) reproduces p exactly, so a = 0 and b = 1
  local y = {1, 0, 0, 0, 1, 1, 1, 0}
  local p = {0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75}
  local r = sv.calib.slope(y, p)
  T.near(r.intercept, 0, 1e-12)
  T.near(r.slope, 1, 1e-12)
  T.near(r.citl, 0, 1e-12)
end)

T.test("Hosmer-Lemeshow agrees with its definition in R (deciles and quintiles of risk)", function()
  for _, f in ipairs(rows("hosmer_lemeshow.csv")) do
    local r = sv.calib.hosmer_lemeshow(pred[f.data].y, pred[f.data].p, {g = f.g})
    T.rel(r.statistic, f.statistic, 1e-10, f.data)
    T.eq(r.df, f.df)
    T.rel(r.p_value, f.p, 1e-9, f.data)
  end
  T.raises(function() sv.calib.hosmer_lemeshow({0, 1, 1}, {0.5, 0.5, 0.5}) end, "at least 3 distinct")
end)

T.test("binned calibration curves agree with R's cut (uniform and quantile bins)", function()
  local ref = {}
  for _, f in ipairs(rows("calib_curve.csv")) do
    local key = f.data .. "/" .. f.strategy
    ref[key] = ref[key] or {}
    table.insert(ref[key], f)
  end
  for key, list in pairs(ref) do
    local d, strategy = key:match("(%w+)/(%w+)")
    local c = sv.calib.curve(pred[d].y, pred[d].p, {bins = 10, strategy = strategy})
    T.eq(#c.n, #list, key)
    for i, f in ipairs(list) do
      T.rel(c.mean_predicted[i], f.mean_predicted, 1e-13, key)
      T.rel(c.observed[i], f.observed, 1e-13, key)
      T.eq(c.n[i], f.n, key)
      -- the bin's Wilson interval is that of its events out of its count
      local lo, hi = sv.metrics.ci_proportion(math.floor(f.observed * f.n + 0.5), f.n, "wilson")
      T.eq(c.lo[i], lo, key)
      T.eq(c.hi[i], hi, key)
    end
  end
end)

T.test("decision curves: hand case and agreement with the net-benefit formula in R", function()
  -- y 1 0 1 0, p .9 .6 .4 .1. t = .5: treated rows 1, 2: TP 1, FP 1:
  -- NB = 1/4 - 1/4 * 1 = 0; all: .5 - .5 * 1 = 0. t = .2: treated 1..3:
  -- NB = 2/4 - 1/4 * .25 = .4375; all: .5 - .5 * .25 = .375
  local d = sv.calib.dca({1, 0, 1, 0}, {0.9, 0.6, 0.4, 0.1}, {thresholds = {0.5, 0.2}})
  T.near(d.model[1], 0, 1e-15); T.near(d.all[1], 0, 1e-15)
  T.rel(d.model[2], 0.4375, 1e-15); T.rel(d.all[2], 0.375, 1e-15)
  T.eq(d.none[2], 0)
  local ref = {}
  for _, f in ipairs(rows("dca.csv")) do
    ref[f.data] = ref[f.data] or {}
    table.insert(ref[f.data], f)
  end
  for name, list in pairs(ref) do
    local r = sv.calib.dca(pred[name].y, pred[name].p)   -- default grid .01 .. .99 by .01
    T.eq(#r.threshold, #list)
    for i, f in ipairs(list) do
      T.rel(r.threshold[i], f.threshold, 1e-15)
      T.near(r.model[i], f.model, 1e-14, name .. " model " .. i)
      T.near(r.all[i], f.all, 1e-13, name .. " all " .. i)
    end
  end
  T.raises(function() sv.calib.dca({1, 0}, {0.2, 0.3}, {thresholds = {1, 0.5}}) end, "thresholds must be in [0, 1)")
end)

T.test("misuse: probabilities outside [0, 1], 0 or 1 for the logit, bad options", function()
  T.raises(function() sv.calib.brier({1, 0}, {1.2, 0}) end, "expected a probability")
  T.raises(function() sv.calib.slope({1, 0, 1}, {1, 0.2, 0.5}) end, "in (0, 1)")
  T.raises(function() sv.calib.curve({1, 0}, {0.3, 0.4}, {strategy = "kmeans"}) end, "bad option 'strategy'")
  T.raises(function() sv.metrics.at({1, 0}, {0.3, 0.4}, 0.5, {ci = "exact"}) end, "bad option 'ci'")
  T.raises(function() sv.metrics.at({1, 2}, {0.3, 0.4}, 0.5) end, "expected 0 or 1")
  T.raises(function() sv.calib.slope({1, 1, 1}, {0.2, 0.3, 0.4}) end, "single class")
  -- perfectly separated: the slope runs off to infinity
  T.raises(function() sv.calib.slope({0, 0, 1, 1}, {0.1, 0.2, 0.8, 0.9}) end, "did not converge")
end)

T.done()
