-- sv.meta against metafor 3.8-1 (rma.uni, confint's Q-profile interval,
-- predict's prediction interval) on nine real meta-analytic data sets that
-- ship with metafor, and the pooling of per-centre AUCs and O/E ratios on
-- the Rotterdam cohort against the same computation written out in R
-- (tests/oracle/meta_r.R); hand cases and invariants.
local T = require "testing"
local sv = require "sylva"

local FIX = T.root .. "/tests/fixtures/meta/"

-- 1e-9 relative: metafor's REML path is replicated step by step, so the
-- agreement is to rounding (about 1e-14 in practice), not to the 1e-5
-- convergence threshold; the Q-profile bounds were solved with
-- uniroot(tol = 1e-14) in R and by bisection to adjacent doubles here.
local TOL = 1e-9

local function close(a, b, what)
  if b == 1 / 0 then T.eq(a, b, what) return end
  T.near(a, b, TOL, what, true)
end

T.test("rma agrees with metafor on nine data sets, REML and DL, z and knha, two levels", function()
  local data = {}
  local n = 0
  for _, r in ipairs(T.read_fixture_rows(FIX .. "rma.csv")) do
    local d = data[r.case]
    if not d then
      d = T.read_fixture(FIX .. "data_" .. r.case .. ".csv")
      data[r.case] = d
    end
    local res = sv.meta.rma(d.yi, d.vi, {method = r.method, test = r.test, level = r.level})
    local what = ("%s %s %s %.2f"):format(r.case, r.method, r.test, r.level)
    T.eq(res.k, r.k, what)
    for _, f in ipairs({"estimate", "se", "p", "lo", "hi", "pi_lo", "pi_hi", "tau2", "se_tau2",
                        "tau2_lo", "tau2_hi", "i2", "i2_lo", "i2_hi", "h2", "h2_lo", "h2_hi",
                        "q", "q_p", "df"}) do
      close(res[f], r[f], what .. " " .. f)
    end
    close(res[r.test == "z" and "z" or "t"], r.stat, what .. " stat")
    close(res.weights[1], r.w1, what .. " weight 1")
    close(res.weights[r.k], r.wk, what .. " weight k")
    n = n + 1
  end
  T.eq(n, 9 * 2 * 2 * 2)
end)

T.test("BCG golden values of reference-notes-v2 (REML)", function()
  local d = T.read_fixture(FIX .. "data_bcg.csv")
  local z = sv.meta.rma(d.yi, d.vi)
  T.rel(z.tau2, 0.313243325980895, 1e-12)
  T.rel(z.estimate, -0.714532348365101, 1e-12)
  T.rel(z.se, 0.179781531780361, 1e-12)
  T.rel(z.i2, 92.221386074965551, 1e-12)
  T.rel(z.q, 152.233008082373289, 1e-12)
  T.rel(z.pi_lo, -1.86669234660707, 1e-12)
  T.eq(z.iterations, 3)
  local k = sv.meta.rma(d.yi, d.vi, {test = "knha"})
  T.rel(k.se, 0.180791745519100, 1e-12)
  T.rel(k.pi_lo, -1.99601696702229, 1e-12)
  T.rel(k.lo, -1.108443723000050, 1e-12)
end)

T.test("hand case: equal variances, DL tau2 = (Q - (k-1)) / (S1 - S2/S1)", function()
  -- y = 0, 1, 2, v = 0.25 each: w = 4, Q = 4 * 2 = 8, S1 = 12, S2 = 48,
  -- tau2 = (8 - 2) / (12 - 4) = 0.75; RE weights 1/(1) each: mu = 1,
  -- se = sqrt(1/3); vt = 2/8 = 0.25, I2 = 100 * 0.75 / 1 = 75
  local r = sv.meta.rma({0, 1, 2}, {0.25, 0.25, 0.25}, {method = "DL"})
  T.rel(r.tau2, 0.75, 1e-14)
  T.rel(r.q, 8, 1e-14)
  T.rel(r.estimate, 1, 1e-14)
  T.rel(r.se, math.sqrt(1 / 3), 1e-14)
  T.rel(r.i2, 75, 1e-13)
  T.rel(r.h2, 4, 1e-13)
  -- with equal variances REML is the same moment equation: tau2 = s^2 - v
  local q = sv.meta.rma({0, 1, 2}, {0.25, 0.25, 0.25})
  T.rel(q.tau2, 0.75, 1e-12)
  -- identical estimates: tau2 = 0, Q = 0, I2 = 0, PI = CI
  local h = sv.meta.rma({0.3, 0.3, 0.3}, {0.1, 0.2, 0.3})
  T.eq(h.tau2, 0); T.eq(h.q, 0); T.eq(h.i2, 0)
  T.rel(h.pi_lo, h.lo, 1e-15)
end)

T.test("invariants: order of studies, shift of all estimates", function()
  local d = T.read_fixture(FIX .. "data_pritz1997.csv")
  local a = sv.meta.rma(d.yi, d.vi)
  local ry, rv, sy = {}, {}, {}
  for i = #d.yi, 1, -1 do ry[#ry + 1] = d.yi[i]; rv[#rv + 1] = d.vi[i] end
  for i = 1, #d.yi do sy[i] = d.yi[i] + 10 end
  local b = sv.meta.rma(ry, rv)
  T.rel(b.estimate, a.estimate, 1e-12); T.rel(b.tau2, a.tau2, 1e-12)
  local c = sv.meta.rma(sy, d.vi)
  T.rel(c.estimate, a.estimate + 10, 1e-12); T.rel(c.tau2, a.tau2, 1e-10)
  T.rel(c.tau2_hi, a.tau2_hi, 1e-10)
end)

T.test("pool_auc and pool_oe agree with rma + predict(transf) in R", function()
  local per = T.read_fixture(FIX .. "centres_rotterdam.csv")
  for _, r in ipairs(T.read_fixture_rows(FIX .. "pool.csv")) do
    local a = sv.meta.pool_auc(per.auc, per.se, {test = r.test})
    for _, f in ipairs({"lo", "hi", "pi_lo", "pi_hi"}) do close(a[f], r["auc_" .. f], "auc " .. f) end
    close(a.auc, r.auc, "auc"); close(a.tau2, r.auc_tau2, "auc tau2"); close(a.i2, r.auc_i2, "auc i2")
    T.eq(a.scale, "logit"); T.ok(a.fit.estimate < 1, "fit on the logit scale")
    local o = sv.meta.pool_oe(per.o, per.e, {test = r.test, n = r.with_n == 1 and per.n or nil})
    for _, f in ipairs({"lo", "hi", "pi_lo", "pi_hi"}) do close(o[f], r["oe_" .. f], "oe " .. f) end
    close(o.oe, r.oe, "oe"); close(o.tau2, r.oe_tau2, "oe tau2"); close(o.i2, r.oe_i2, "oe i2")
  end
end)

T.test("per-centre AUCs from sv.roc.auc are the ones pooled in R", function()
  local rot = T.read_cohort("rotterdam.csv")
  local cuts = {1984, 1986, 1988, 1990, 1991, 1993}
  local ys, ss = {}, {}
  for c = 1, #cuts do ys[c] = {}; ss[c] = {} end
  for i = 1, #rot.year do
    local c = 1
    while rot.year[i] > cuts[c] do c = c + 1 end
    ys[c][#ys[c] + 1] = rot.recur[i]; ss[c][#ss[c] + 1] = rot.nodes[i]
  end
  local per = T.read_fixture(FIX .. "centres_rotterdam.csv")
  for c = 1, #cuts do
    local a = sv.roc.auc(ys[c], ss[c])
    T.rel(a.auc, per.auc[c], 1e-12); T.rel(a.se, per.se[c], 1e-9)
  end
end)

T.test("the forest plot draws the fit's own numbers", function()
  local d = T.read_fixture(FIX .. "data_bcg.csv")
  local fit = sv.meta.rma(d.yi, d.vi, {test = "knha"})
  local svg = sv.plot.meta_forest(fit, {transform = "exp", labels = {"Aronson"}})
  local function has(s) T.ok(svg:find(s, 1, true), s) end
  has(("%.2f [%.2f, %.2f]"):format(math.exp(fit.estimate), math.exp(fit.lo), math.exp(fit.hi)))
  has(("PI %.2f to %.2f"):format(math.exp(fit.pi_lo), math.exp(fit.pi_hi)))
  has(("%.1f%%"):format(fit.weights[13]))
  has("Aronson"); has("Study 2")
  local _, n = svg:gsub('class="study"', "")
  T.eq(n, 13)
  T.raises(function() sv.plot.meta_forest({}) end, "a result of sv.meta.rma expected")
  T.raises(function() sv.plot.meta_forest(fit, {transform = "log"}) end, "bad option 'transform'")
end)

T.test("bad input names the argument", function()
  T.raises(function() sv.meta.rma({1}, {1}) end, "bad argument #1 to 'rma' (needs at least 2 estimates)")
  T.raises(function() sv.meta.rma({1, 2}, {1}) end, "bad argument #2 to 'rma' (has 1 values, yi has 2)")
  T.raises(function() sv.meta.rma({1, 2}, {1, 0}) end, "bad argument #2 to 'rma' (element 2 is 0.0")
  T.raises(function() sv.meta.rma({1, 0 / 0}, {1, 1}) end, "bad argument #1 to 'rma' (element 2 is")
  T.raises(function() sv.meta.rma({1, 2}, {1, 1}, {method = "ML"}) end, "bad option 'method' to meta.rma")
  T.raises(function() sv.meta.rma({1, 2}, {1, 1}, {test = "t"}) end, "bad option 'test' to meta.rma")
  T.raises(function() sv.meta.rma({1, 2}, {1, 1}, {level = 95}) end, "bad option 'level' to meta.rma")
  T.raises(function() sv.meta.pool_auc({0.7, 1}, {0.02, 0.03}) end, "bad argument #1 to 'pool_auc' (centre 2: AUC 1")
  T.raises(function() sv.meta.pool_auc({0.7, 0.8}, {0.02, 0}) end, "bad argument #2 to 'pool_auc' (centre 2:")
  T.raises(function() sv.meta.pool_oe({10, 0}, {8, 9}) end, "bad argument #1 to 'pool_oe' (centre 2: observed")
  T.raises(function() sv.meta.pool_oe({10, 5}, {8, 9}, {n = {100, 5}}) end, "bad option 'n' to meta.pool_oe (centre 2:")
end)

T.done()
