-- sv.validate.sample_size: the worked examples of Riley et al. (2020) and
-- pmsampsize 1.1.3 (the numbers ../shared/reference-notes-v2.md section 9
-- records from running that code), and the C-statistic conversion against
-- an independent integration (tests/oracle/sampsize_r2.py) and a
-- simulation fitted with sv.glm.
local T = require "testing"
local sv = require "sylva"

T.test("binary, R2_CS = 0.288, 24 parameters, prevalence 0.174: n = 662 (pmsampsize)", function()
  local r = sv.validate.sample_size{outcome = "binary", parameters = 24, prevalence = 0.174, r2_cs = 0.288}
  T.eq(r.n1, 623); T.eq(r.n2, 662); T.eq(r.n3, 221); T.eq(r.n, 662)
  T.near(r.s2, 0.905, 5e-4)
  T.near(r.max_r2, 0.603208667767, 1e-12)
  T.near(r.r2_nagelkerke, 0.477, 5e-4)
  T.near(r.epp, 4.80, 5e-3)
end)

T.test("survival, R2_CS = 0.051, 30 parameters, rate 0.065, follow-up 2.07, t = 2: n = 5143 (BMJ 2020)", function()
  local r = sv.validate.sample_size{outcome = "survival", parameters = 30, rate = 0.065, mean_followup = 2.07,
                                    timepoint = 2, r2_cs = 0.051}
  T.eq(r.n1, 5143); T.eq(r.n2, 1039); T.eq(r.n3, 5143); T.eq(r.n, 5143)
  T.near(r.s2, 0.648, 5e-4)
  T.near(r.max_r2, 0.554726493553, 1e-12)
  T.near(r.r2_nagelkerke, 0.092, 5e-4)
  T.near(r.epp, 23.07, 5e-3)
  T.near(r.cuminc, 0.122, 5e-4); T.near(r.cuminc_lo, 0.113, 5e-4); T.near(r.cuminc_hi, 0.130, 5e-4)
end)

T.test("binary from Nagelkerke's R2 = 0.15, 20 parameters, prevalence 0.1: n = 2399", function()
  local r = sv.validate.sample_size{outcome = "binary", parameters = 20, prevalence = 0.1, r2_nagelkerke = 0.15}
  T.eq(r.r2_cs, 0.072)
  T.near(r.max_r2, 0.478, 5e-4)
  T.eq(r.n1, 2399); T.eq(r.n2, 796); T.eq(r.n3, 139); T.eq(r.n, 2399)
end)

T.test("C-statistic 0.89 at prevalence 0.174: the exact R2_CS, and pmsampsize's simulated one", function()
  -- independent integration (Python, another quadrature grid)
  for _, r in ipairs(T.read_fixture_rows(T.root .. "/tests/fixtures/sampsize/cstat_r2.csv")) do
    T.rel(sv.validate.cstat_to_r2(r.c, r.phi), r.r2, 1e-9, "c " .. r.c)
  end
  -- pmsampsize simulates 10^6 patients and gets 0.290171932787 (rounded
  -- 0.2902); the exact value is 0.29095, within that simulation's Monte
  -- Carlo error (about 7e-4 for n = 10^6)
  T.near(sv.validate.cstat_to_r2(0.89, 0.174), 0.290171932787, 2e-3)
  local r = sv.validate.sample_size{outcome = "binary", parameters = 24, prevalence = 0.174, c_statistic = 0.89}
  T.eq(r.r2_cs, 0.291)
  T.eq(r.n, 660)
  -- with pmsampsize's simulated R2 the criteria give its n = 661
  local q = sv.validate.sample_size{outcome = "binary", parameters = 24, prevalence = 0.174, r2_cs = 0.2902}
  T.eq(q.n1, 617); T.eq(q.n2, 661); T.eq(q.n, 661)
end)

T.test("the exact R2_CS agrees with a simulated cohort fitted by sv.glm", function()
  -- 100000 patients of the conversion's model; R2_CS = 1 - exp(-(null
  -- deviance - deviance)/n); its Monte Carlo SD is about 1e-3 here
  local rng = sv.rng(7)
  local n, phi, c = 100000, 0.3, 0.75
  local mu = math.sqrt(2) * sv.stats.qnorm(c)
  local X, y = {}, {}
  for i = 1, n do
    local ev = i <= n * phi
    y[i] = ev and 1 or 0
    X[i] = {rng:normal() + (ev and mu or 0)}
  end
  local m = sv.glm.logistic(X, y)
  local r2 = 1 - math.exp(-(m.null_deviance - m.deviance) / n)
  T.near(r2, sv.validate.cstat_to_r2(c, phi), 5e-3)
end)

T.test("misuse names the option", function()
  T.raises(function() sv.validate.sample_size{outcome = "binary", parameters = 10, r2_cs = 0.1} end,
    "bad option 'prevalence' to validate.sample_size (required")
  T.raises(function() sv.validate.sample_size{outcome = "binary", parameters = 10, prevalence = 0.1} end,
    "give exactly one of r2_cs, r2_nagelkerke, c_statistic")
  T.raises(function() sv.validate.sample_size{outcome = "binary", parameters = 10, prevalence = 0.1, r2_cs = 0.6} end,
    "outside (0, 0.")
  T.raises(function() sv.validate.sample_size{outcome = "survival", parameters = 10, rate = 0.1, r2_cs = 0.1} end,
    "bad option 'mean_followup' to validate.sample_size")
  T.raises(function() sv.validate.sample_size{parameters = 10, prevalence = 0.1, r2_cs = 0.1, epp = 3} end,
    "unknown option 'epp' to validate.sample_size")
end)

T.done()
