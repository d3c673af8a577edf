-- sv.roc against pROC 1.18 (fixtures from tests/oracle/diag_r.R), tiny
-- cases worked by hand, and invariants.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/diag/"
local cohort = T.read_cohort
local data = {wdbc = cohort("wdbc.csv"), gbsg = cohort("gbsg.csv")}
local function col(d, name) return (assert(data[d][name], name)) end

-- Rows of a fixture CSV as tables keyed by the header.
local function rows(file) return T.read_fixture_rows(FIX .. file) end

-- Agreement with pROC: both compute the same sums of counts; 1e-9
-- relative leaves room only for rounding.
local TOL = 1e-9

T.test("4 cases / 4 controls with a tie: AUC and DeLong variance by hand", function()
  -- cases 0.8 0.6 0.6 0.3, controls 0.7 0.6 0.2 0.1
  -- V10 (controls below, tie 1/2, /4): 1, 2.5/4, 2.5/4, 2/4 -> mean 0.6875
  -- V01 (cases above, tie 1/2, /4): 1/4, 2/4, 1, 1          -> mean 0.6875
  -- S10 = (.3125^2 + 2*.0625^2 + .1875^2)/3 = .140625/3 = .046875
  -- S01 = (.4375^2 + .1875^2 + 2*.3125^2)/3 = .421875/3 = .140625
  -- var = S10/4 + S01/4 = .046875, se = .2165063509
  local y = {1, 1, 1, 1, 0, 0, 0, 0}
  local s = {0.8, 0.6, 0.6, 0.3, 0.7, 0.6, 0.2, 0.1}
  local r = sv.roc.auc(y, s)
  T.near(r.auc, 0.6875, 1e-15)
  T.near(r.se, math.sqrt(0.046875), 1e-15)
  -- CI: 0.6875 -/+ 1.959963984540054 * 0.2165063509 -> hi clipped at 1
  T.near(r.lo, 0.6875 - 1.959963984540054 * math.sqrt(0.046875), 1e-12)
  T.eq(r.hi, 1)
  T.eq(r.n_case, 4)
  T.eq(r.n_control, 4)
end)

T.test("the curve of the hand case: thresholds are midpoints plus -Inf/+Inf", function()
  local y = {1, 1, 1, 1, 0, 0, 0, 0}
  local s = {0.8, 0.6, 0.6, 0.3, 0.7, 0.6, 0.2, 0.1}
  local c = sv.roc.curve(y, s)
  -- distinct scores .1 .2 .3 .6 .7 .8 -> 7 thresholds
  local thr = {-math.huge, 0.15, 0.25, 0.45, 0.65, 0.75, math.huge}
  -- positives at score >= t: cases 4,4,4,3,1,1,0 ; controls 4,3,2,2,1,0,0
  local tp = {4, 4, 4, 3, 1, 1, 0}
  local fp = {4, 3, 2, 2, 1, 0, 0}
  T.eq(#c.threshold, 7)
  for i = 1, 7 do
    if math.abs(thr[i]) == math.huge then T.eq(c.threshold[i], thr[i])
    else T.near(c.threshold[i], thr[i], 1e-15) end
    T.eq(c.tpr[i], tp[i] / 4)
    T.eq(c.fpr[i], fp[i] / 4)
  end
  -- Youden: sens + spec - 1 = (tp - fp)/4 = 0, .25, .5, .25, 0, .25, 0:
  -- the maximum 0.5 at threshold 0.25 (pROC's coords "best" agrees)
  local yd = sv.roc.youden(y, s)
  T.near(yd.threshold, 0.25, 1e-15)
  T.eq(yd.j, 0.5)
  T.eq(yd.sens, 1)
  T.eq(yd.spec, 0.5)
  T.eq(yd.ties, 1)
  -- y 1 0 1 0 on scores 1 2 3 4: J = 0, -.5, 0, -.5, 0 at -Inf, 1.5, 2.5,
  -- 3.5, Inf: three ties; pROC lists -Inf, 2.5, Inf and we report the first
  local t3 = sv.roc.youden({1, 0, 1, 0}, {1, 2, 3, 4})
  T.eq(t3.threshold, -math.huge)
  T.eq(t3.j, 0)
  T.eq(t3.ties, 3)
end)

T.test("all-equal scores give AUC 1/2 with zero variance", function()
  local r = sv.roc.auc({0, 1, 0, 1, 1}, {3, 3, 3, 3, 3})
  T.eq(r.auc, 0.5)
  T.eq(r.se, 0)
  T.eq(r.lo, 0.5)
  T.eq(r.hi, 0.5)
  local c = sv.roc.curve({0, 1, 0, 1, 1}, {3, 3, 3, 3, 3})
  T.eq(#c.threshold, 2)
end)

T.test("one case: the AUC exists, DeLong's variance does not (NaN, as pROC's NA)", function()
  local r = sv.roc.auc({1, 0, 0}, {3, 1, 2})
  T.eq(r.auc, 1)
  T.ok(r.se ~= r.se and r.lo ~= r.lo and r.hi ~= r.hi, "NaN se and interval")
  local b = sv.roc.auc({1, 0, 0}, {3, 1, 2}, {ci = "bootstrap", boot = 1})
  T.eq(b.lo, 1)
  T.ok(b.se ~= b.se, "the SD of one replicate is NaN")
end)

T.test("a single class, a bad label, NaN, a length mismatch and a bad option are errors", function()
  T.raises(function() sv.roc.auc({1, 1, 1}, {1, 2, 3}) end, "single class")
  T.raises(function() sv.roc.auc({0, 0}, {1, 2}) end, "single class")
  T.raises(function() sv.roc.auc({0, 2}, {1, 2}) end, "expected 0 or 1")
  T.raises(function() sv.roc.auc({0, 1}, {1, 0/0}) end, "finite number expected")
  T.raises(function() sv.roc.auc({0, 1}, {1, 2, 3}) end, "has 3 values, y has 2")
  T.raises(function() sv.roc.auc({0, 1}, {1, 2}, {ci = "exact"}) end, "bad option 'ci'")
  T.raises(function() sv.roc.auc({0, 1}, {1, 2}, {boots = 10}) end, "unknown option 'boots' to roc.auc")
  T.raises(function() sv.roc.test({1, 1}, {1, 2}, {2, 1}) end, "single class")
  T.raises(function() sv.roc.test({0, 1}, {1, 2}, {2, 1}) end, "at least 2 cases")
end)

T.test("AUC, DeLong SE and CI (95%, 90%) and Youden agree with pROC", function()
  for _, f in ipairs(rows("roc_auc.csv")) do
    local y, s = col(f.data, f.y), col(f.data, f.score)
    local what = f.data .. "/" .. f.score
    local r = sv.roc.auc(y, s)
    T.rel(r.auc, f.auc, TOL, what)
    T.rel(r.se, f.se, TOL, what)
    T.rel(r.lo, f.lo, TOL, what)
    T.rel(r.hi, f.hi, TOL, what)
    local r90 = sv.roc.auc(y, s, {level = 0.90})
    T.rel(r90.lo, f.lo90, TOL, what)
    T.rel(r90.hi, f.hi90, TOL, what)
    local yd = sv.roc.youden(y, s)
    T.eq(yd.threshold, f.youden_threshold, what)
    T.rel(yd.sens, f.youden_sens, TOL, what)
    T.rel(yd.spec, f.youden_spec, TOL, what)
    T.rel(yd.j, f.youden_j, TOL, what)
    T.eq(yd.ties, f.youden_ties, what)
  end
end)

T.test("full curves agree with pROC's thresholds, sensitivities and specificities", function()
  for _, c in ipairs({{"gbsg", "status", "nodes"}, {"wdbc", "malignant", "mean_radius"}}) do
    local ref = rows(("roc_curve_%s_%s.csv"):format(c[1], c[3]))
    local r = sv.roc.curve(col(c[1], c[2]), col(c[1], c[3]))
    T.eq(#r.threshold, #ref)
    for i, f in ipairs(ref) do
      T.eq(r.threshold[i], f.threshold, c[3] .. " threshold " .. i)
      T.rel(r.tpr[i], f.tpr, 1e-15)
      T.near(r.fpr[i], f.fpr, 1e-15)
    end
  end
end)

T.test("paired DeLong tests agree with pROC's roc.test", function()
  for _, f in ipairs(rows("roc_paired.csv")) do
    local y = col(f.data, f.y)
    local r = sv.roc.test(y, col(f.data, f.s1), col(f.data, f.s2))
    T.rel(r.auc1, f.auc1, TOL)
    T.rel(r.auc2, f.auc2, TOL)
    T.rel(r.z, f.z, TOL, f.s1 .. " vs " .. f.s2)
    T.rel(r.p, f.p, TOL, f.s1 .. " vs " .. f.s2)
    T.rel(r.conf_int[1], f.lo, TOL, "CI of the difference")
    T.rel(r.conf_int[2], f.hi, TOL, "CI of the difference")
    local r90 = sv.roc.test(y, col(f.data, f.s1), col(f.data, f.s2), {level = 0.9})
    T.rel(r90.conf_int[1], f.lo90, TOL, "90% CI of the difference")
    T.rel(r90.conf_int[2], f.hi90, TOL, "90% CI of the difference")
    local rl = sv.roc.test(y, col(f.data, f.s1), col(f.data, f.s2), {alternative = "less"})
    local rg = sv.roc.test(y, col(f.data, f.s1), col(f.data, f.s2), {alternative = "greater"})
    T.rel(rl.p, f.p_less, TOL, "less")
    T.rel(rg.p, f.p_greater, TOL, "greater")
  end
end)

T.test("unpaired DeLong tests agree with pROC's roc.test(paired = FALSE)", function()
  for _, f in ipairs(rows("roc_unpaired.csv")) do
    local y, s = col(f.data, f.y), col(f.data, f.score)
    local meno = f.split == "meno" and col(f.data, "meno") or nil
    local y1, s1, y2, s2 = {}, {}, {}, {}
    for i = 1, #y do
      local first
      if meno then first = meno[i] == 0 else first = i <= 284 end
      if first then y1[#y1 + 1], s1[#s1 + 1] = y[i], s[i]
      else y2[#y2 + 1], s2[#s2 + 1] = y[i], s[i] end
    end
    local r = sv.roc.test_unpaired(y1, s1, y2, s2)
    T.rel(r.auc1, f.auc1, TOL)
    T.rel(r.auc2, f.auc2, TOL)
    T.rel(r.statistic, f.d, TOL)
    T.rel(r.df, f.df, TOL)
    T.rel(r.p, f.p, TOL)
    T.rel(sv.roc.test_unpaired(y1, s1, y2, s2, {alternative = "less"}).p, f.p_less, TOL, "less")
    T.rel(sv.roc.test_unpaired(y1, s1, y2, s2, {alternative = "greater"}).p, f.p_greater, TOL, "greater")
  end
end)

T.test("invariants: monotone transforms keep the AUC, reversing the score gives 1 - AUC", function()
  local y, s = col("wdbc", "malignant"), col("wdbc", "mean_area")
  local a = sv.roc.auc(y, s)
  local s2, s3 = {}, {}
  for i, v in ipairs(s) do s2[i] = math.log(v) * 3 + 7; s3[i] = -v end
  local b = sv.roc.auc(y, s2)
  T.eq(b.auc, a.auc)
  T.near(b.se, a.se, 1e-15)
  T.near(sv.roc.auc(y, s3).auc, 1 - a.auc, 1e-15)
  -- a curve compared with itself: z = 0, p = 1
  local t = sv.roc.test(y, s, s2)
  T.eq(t.z, 0)
  T.eq(t.p, 1)
end)

T.test("bootstrap CI: same seed is bitwise identical for 1 and 2 threads", function()
  local y, s = col("gbsg", "status"), col("gbsg", "nodes")
  local a = sv.roc.auc(y, s, {ci = "bootstrap", boot = 500, seed = 7, threads = 1})
  local b = sv.roc.auc(y, s, {ci = "bootstrap", boot = 500, seed = 7, threads = 2})
  T.eq(a.lo, b.lo)
  T.eq(a.hi, b.hi)
  T.eq(a.se, b.se)
  local c = sv.roc.auc(y, s, {ci = "bootstrap", boot = 500, seed = 8, threads = 2})
  T.ok(c.lo ~= a.lo or c.hi ~= a.hi, "another seed gives another interval")
  T.eq(a.method, "bootstrap")
end)

T.test("bootstrap CI agrees with pROC's in distribution", function()
  -- Each percentile endpoint of B = 2000 replicates has Monte Carlo SE
  -- about sqrt(.025 * .975 / B) / phi(1.96) * sd = 0.06 sd; the difference
  -- of two independent runs about 0.085 sd. 0.4 sd is 4.7 of those SEs.
  -- The replicate SD itself has relative SE 1/sqrt(2B) = 1.6%: allow 10%.
  for _, f in ipairs(rows("roc_boot.csv")) do
    local r = sv.roc.auc(col(f.data, f.y), col(f.data, f.score),
                         {ci = "bootstrap", boot = f.boot, seed = 1})
    T.near(r.lo, f.lo, 0.4 * f.sd, f.score .. " lo")
    T.near(r.hi, f.hi, 0.4 * f.sd, f.score .. " hi")
    T.rel(r.se, f.sd, 0.10, f.score .. " sd")
  end
end)

T.done()
