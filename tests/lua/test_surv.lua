-- sv.surv against R's survival package (fixtures written by
-- tests/oracle/surv_r.R from the same CSV data), plus the API's errors.
-- Tolerance: 1e-9 relative everywhere R's numbers are compared (the
-- algorithms are the same; what differs is only the order of floating
-- point operations, worth ~1e-13 on these data).
local T = require "testing"
local sv = require "sylva"

local TOL = 1e-9
local fix = T.root .. "/tests/fixtures/surv/"

-- A minimal reader for the two cohort files (plain comma-separated, quoted
-- names and labels, no embedded commas), so that this test depends only
-- on sv.surv: d:col(name) is a Vector (numbers) or an array of strings.
local function load(path)
  local names, cols, nrow = nil, {}, 0
  for line in io.lines(path) do
    local fields = {}
    for f in (line .. ","):gmatch("([^,]*),") do fields[#fields + 1] = f:gsub('^"(.*)"$', "%1") end
    if not names then
      names = fields
      for _, nm in ipairs(names) do cols[nm] = {} end
    else
      nrow = nrow + 1
      for i, nm in ipairs(names) do cols[nm][nrow] = tonumber(fields[i]) or fields[i] end
    end
  end
  local d = {}
  function d:nrow() return nrow end
  function d:col(nm)
    local c = assert(cols[nm], nm)
    return type(c[1]) == "number" and sv.vector(c) or c
  end
  function d:matrix(list)
    local rows = {}
    for i = 1, nrow do
      local r = {}
      for j, nm in ipairs(list) do r[j] = cols[nm][i] end
      rows[i] = r
    end
    return sv.matrix(rows, list)
  end
  return d
end
local gbsg = load(T.root .. "/tests/fixtures/data/gbsg.csv")
local rott = load(T.root .. "/tests/fixtures/data/rotterdam.csv")

-- key -> number (NaN for NA) from scalars.csv
local S = {}
for line in io.lines(fix .. "scalars.csv") do
  local k, v = line:match("^([^,]+),(.*)$")
  if k ~= "key" then S[k] = v == "NA" and 0 / 0 or assert(tonumber(v), line) end
end
local function R(key)
  local v = S[key]
  assert(v ~= nil, "no fixture value " .. key)
  return v
end

-- The largest relative error seen per statistic, printed at the end.
local maxerr = {}
local function rel(a, b, stat, msg)
  if b ~= b then
    T.ok(a ~= a, ("%s: expected NA, got %s"):format(msg or stat, tostring(a)))
    return
  end
  T.rel(a, b, TOL, msg or stat)
  local e = b == 0 and math.abs(a) or math.abs(a - b) / math.abs(b)
  if e == e then maxerr[stat] = math.max(maxerr[stat] or 0, e) end
end

local cohorts = {
  gbsg = {t = gbsg:col("rfstime"), e = gbsg:col("status")},
  rott = {t = rott:col("rtime"), e = rott:col("recur")},
}
local ctypes = {log = "log", loglog = "log-log", plain = "plain"}
local columns = {"time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"}

T.test("Kaplan-Meier tables agree with survfit, every column, three CI types, two levels", function()
  for cn, co in pairs(cohorts) do
    for tag, ct in pairs(ctypes) do
      for _, lev in ipairs{95, 90} do
        local name = ("%s_%s_%d"):format(cn, tag, lev)
        local ref = T.read_fixture(fix .. "km_" .. name .. ".csv")
        local k = sv.surv.km(co.t, co.e, {conf_type = ct, conf_level = lev / 100})
        T.eq(#k.time, #ref.time, name .. " rows")
        for _, c in ipairs(columns) do
          for i = 1, #ref.time do rel(k[c][i], ref[c][i], "km." .. c, name .. " " .. c .. "[" .. i .. "]") end
        end
        rel(k.median, R("km." .. name .. ".median"), "km.median", name)
        rel(k.median_lo, R("km." .. name .. ".median_lo"), "km.median_lo", name)
        rel(k.median_hi, R("km." .. name .. ".median_hi"), "km.median_hi", name)
        -- survival at given times, as summary(fit, times = ...)
        local a = sv.surv.at(k, {1, 365, 730.5, 1000, 1825})
        for _, c in ipairs{"surv", "se_surv", "lower", "upper", "n_risk", "n_event"} do
          for i = 1, 5 do rel(a[c][i], R(("at.%s.%s.%d"):format(name, c, i)), "at." .. c, name .. " " .. c) end
        end
        for i = 1, 5 do T.eq(a.se_surv[i], a.surv[i] * a.std_err[i]) end
      end
    end
  end
end)

T.test("the median takes the midpoint where S = 0.5 over an interval; NA when never reached", function()
  -- t = 1..6, events 1 1 1 0 1 0: S = 5/6, 4/6, 3/6 (t = 3), 3/6, then
  -- 3/6 * 1/2 = 1/4 at t = 5: S = 0.5 exactly on [3, 5) -> median (3 + 5) / 2 = 4.
  local k = sv.surv.km({1, 2, 3, 4, 5, 6}, {1, 1, 1, 0, 1, 0})
  T.eq(k.median, 4)
  rel(k.median, R("km.half.median"), "km.median")
  rel(k.median_lo, R("km.half.median_lo"), "km.median_lo")
  rel(k.median_hi, R("km.half.median_hi"), "km.median_hi")
  local h = sv.surv.km({1, 2, 3, 4}, {1, 0, 0, 0})
  T.ok(h.median ~= h.median, "median NA when S stays above 0.5")
  T.ok(R("km.high.median") ~= R("km.high.median"))
end)

T.test("KM by group: one curve per grade, sorted, each as survfit's stratum", function()
  local ref = T.read_fixture(fix .. "km_gbsg_bygrade.csv")
  local res = sv.surv.km(gbsg:col("rfstime"), gbsg:col("status"), {group = gbsg:col("grade")})
  T.eq(#res.groups, 3)
  local row = 0
  for g = 1, 3 do
    T.eq(res.groups[g], g)
    local k = res.curves[g]
    T.eq(k.group, g)
    for i = 1, #k.time do
      row = row + 1
      T.eq(ref.group[row], g)
      for _, c in ipairs(columns) do rel(k[c][i], ref[c][row], "km." .. c, "grade " .. g .. " " .. c) end
    end
    rel(k.median, R("kmg." .. g .. ".median"), "km.median")
    rel(k.median_lo, R("kmg." .. g .. ".median_lo"), "km.median_lo")
    rel(k.median_hi, R("kmg." .. g .. ".median_hi"), "km.median_hi")
  end
  T.eq(row, #ref.time)
  -- numbers at risk under a plot, per group
  local rt = sv.surv.risk_table(res, {0.5, 500, 1000, 2000})
  T.eq(rt.curves[2].group, 2)
  T.eq(rt.curves[1].n_risk[1], 81)
  local n2 = 0
  for i = 1, gbsg:nrow() do
    if gbsg:col("grade")[i] == 2 and gbsg:col("rfstime")[i] >= 1000 then n2 = n2 + 1 end
  end
  T.eq(rt.curves[2].n_risk[3], n2)
end)

T.test("restricted mean and its SE agree with print(survfit, rmean = tau)", function()
  for cn, co in pairs(cohorts) do
    for _, tau in ipairs{365, 1825, 2000.5, 10000} do
      local r = sv.surv.rmst(co.t, co.e, tau)
      rel(r.rmst, R(("rmst.%s.%g.rmst"):format(cn, tau)), "rmst", cn .. " " .. tau)
      rel(r.se, R(("rmst.%s.%g.se"):format(cn, tau)), "rmst.se", cn .. " " .. tau)
      local k = sv.surv.km(co.t, co.e)
      local r2 = sv.surv.rmst(k, tau)
      T.eq(r2.rmst, r.rmst)
    end
  end
end)

local function check_lr(key, r, ngroups)
  rel(r.chisq, R(key .. ".chisq"), "logrank.chisq", key)
  T.eq(r.df, R(key .. ".df"), key .. " df")
  rel(r.p, R(key .. ".p"), "logrank.p", key)
  for g = 1, ngroups do
    rel(r.observed[g], R(key .. ".observed." .. g), "logrank.observed", key)
    rel(r.expected[g], R(key .. ".expected." .. g), "logrank.expected", key)
  end
end

T.test("log-rank and Peto-Peto agree with survdiff: 2 and 3 groups, string labels, strata", function()
  local t, e = gbsg:col("rfstime"), gbsg:col("status")
  local rt, re = rott:col("rtime"), rott:col("recur")
  for _, rho in ipairs{0, 1} do
    check_lr("lr.gbsg.hormon." .. rho, sv.surv.logrank(t, e, gbsg:col("hormon"), {rho = rho}), 2)
    check_lr("lr.gbsg.grade." .. rho, sv.surv.logrank(t, e, gbsg:col("grade"), {rho = rho}), 3)
    check_lr("lr.gbsg.grade_meno." .. rho,
      sv.surv.logrank(t, e, gbsg:col("grade"), {rho = rho, strata = gbsg:col("meno")}), 3)
    local r = sv.surv.logrank(rt, re, rott:col("size"), {rho = rho})
    T.eq(r.groups[1], "20-50"); T.eq(r.groups[2], "<=20"); T.eq(r.groups[3], ">50")
    check_lr("lr.rott.size." .. rho, r, 3)
    check_lr("lr.rott.hormon_grade." .. rho,
      sv.surv.logrank(rt, re, rott:col("hormon"), {rho = rho, strata = rott:col("grade")}), 2)
  end
  check_lr("lr.rott.size.0.5", sv.surv.logrank(rt, re, rott:col("size"), {rho = 0.5}), 3)
end)

T.test("pairwise log-rank with Holm and BH agrees with survdiff + p.adjust", function()
  local t, e, g = gbsg:col("rfstime"), gbsg:col("status"), gbsg:col("grade")
  for _, m in ipairs{"holm", "BH"} do
    local pw = sv.surv.pairwise(t, e, g, {adjust = m})
    T.eq(#pw.pairs, 3)
    T.eq(pw.pairs[2].group1, 1); T.eq(pw.pairs[2].group2, 3)
    for i = 1, 3 do
      rel(pw.pairs[i].p, R("pw.gbsg.grade.p." .. i), "pairwise.p")
      rel(pw.pairs[i].p_adj, R("pw.gbsg.grade." .. m .. "." .. i), "pairwise.p_adj")
    end
    T.eq(pw.p:get(3, 1), pw.pairs[2].p_adj)
  end
end)

local function cox_check(key, fit)
  local p = #fit.coef
  for j = 1, p do
    rel(fit.coef[j], R(key .. ".coef." .. j), "cox.coef", key)
    rel(fit.se[j], R(key .. ".se." .. j), "cox.se", key)
    rel(fit.hr_lo[j], R(key .. ".hr_lo." .. j), "cox.hr_ci", key)
    rel(fit.hr_hi[j], R(key .. ".hr_hi." .. j), "cox.hr_ci", key)
    rel(fit.z[j], R(key .. ".z." .. j), "cox.z", key)
    rel(fit.p[j], R(key .. ".p." .. j), "cox.p", key)
  end
  rel(fit.loglik[1], R(key .. ".loglik.1"), "cox.loglik", key)
  rel(fit.loglik[2], R(key .. ".loglik.2"), "cox.loglik", key)
  rel(fit.wald, R(key .. ".wald"), "cox.wald", key)
  rel(fit.score, R(key .. ".score"), "cox.score", key)
  rel(fit.lrt, R(key .. ".lrt"), "cox.lrt", key)
  rel(fit.wald_p, R(key .. ".wald_p"), "cox.test_p", key)
  rel(fit.score_p, R(key .. ".score_p"), "cox.test_p", key)
  rel(fit.lrt_p, R(key .. ".lrt_p"), "cox.test_p", key)
  rel(fit.concordance, R(key .. ".concordance"), "cox.concordance", key)
  rel(fit.concordance_se, R(key .. ".concordance_se"), "cox.concordance_se", key)
  T.eq(#fit.warnings, 0, key .. " warnings")
end

T.test("Cox agrees with coxph: Efron and Breslow, 8 covariates, strata, one covariate", function()
  local gX = gbsg:matrix({"age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"})
  local rX = rott:matrix({"age", "meno", "grade", "nodes", "pgr", "er", "hormon", "chemo"})
  local sX = gbsg:matrix({"age", "size", "nodes", "pgr", "hormon"})
  local t, e = gbsg:col("rfstime"), gbsg:col("status")
  for _, ties in ipairs{"efron", "breslow"} do
    local f = sv.surv.cox(t, e, gX, {ties = ties})
    T.eq(f.names[5], "nodes")
    T.eq(f.n, 686)
    T.eq(f.events, 299)
    cox_check("cox.gbsg." .. ties, f)
    cox_check("cox.rott." .. ties, sv.surv.cox(rott:col("rtime"), rott:col("recur"), rX, {ties = ties}))
    cox_check("cox.gbsg_strata." .. ties, sv.surv.cox(t, e, sX, {ties = ties, strata = gbsg:col("grade")}))
    cox_check("cox.gbsg1." .. ties, sv.surv.cox(t, e, gbsg:matrix({"hormon"}), {ties = ties}))
  end
end)

T.test("collinear covariates: NA (NaN) coefficient and a warning, the others as coxph", function()
  local rows = {}
  local age, size, nodes = gbsg:col("age"), gbsg:col("size"), gbsg:col("nodes")
  for i = 1, gbsg:nrow() do rows[i] = {age[i], size[i], age[i] + size[i], nodes[i]} end
  local X = sv.matrix(rows, {"age", "size", "agesize", "nodes"})
  local f = sv.surv.cox(gbsg:col("rfstime"), gbsg:col("status"), X)
  T.ok(f.coef[3] ~= f.coef[3], "aliased coefficient is NaN")
  T.ok(R("cox.alias.coef.3") ~= R("cox.alias.coef.3"), "R gives NA")
  for _, j in ipairs{1, 2, 4} do rel(f.coef[j], R("cox.alias.coef." .. j), "cox.coef") end
  rel(f.loglik[2], R("cox.alias.loglik.2"), "cox.loglik")
  T.eq(f.df, 3)
  T.ok(f.warnings[1]:find("agesize", 1, true), f.warnings[1])
end)

T.test("monotone likelihood: finishes, flags the infinite coefficient as R does", function()
  local X = {{1, 0.5}, {1, -1}, {1, 2}, {1, 0.1}, {0, 0.3}, {0, -0.7}, {0, 1.2}, {0, 0.4}}
  local f = sv.surv.cox({1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 1, 1, 0, 1, 0, 1}, X)
  -- The first coefficient is on its way to infinity: where the likelihood
  -- stops changing, it is determined only to ~1e-8 (rounding in the
  -- nearly singular information decides the last step), so 1e-6 here.
  T.rel(f.coef[1], R("cox.mono.coef.1"), 1e-6)
  T.rel(f.coef[2], R("cox.mono.coef.2"), 1e-6)
  rel(f.loglik[2], R("cox.mono.loglik.2"), "cox.loglik")
  local w = T.read_file(fix .. "cox_mono_warning.txt")
  T.ok(w:find("Loglik converged before variable  1", 1, true), w)
  T.eq(#f.warnings, 1)
  T.ok(f.warnings[1]:find("Loglik converged before variable 1 (x1); coefficient may be infinite", 1, true),
    f.warnings[1])
end)

T.test("concordance agrees with concordance(reverse = TRUE): ties in risk and time, strata", function()
  local t, e = gbsg:col("rfstime"), gbsg:col("status")
  local function check(key, c, counts)
    rel(c, R(key .. ".c"), "concordance", key)
    rel(counts.var, R(key .. ".var"), "concordance.var", key)
    T.eq(counts.se, math.sqrt(counts.var))
    rel(counts.concordant, R(key .. ".counts.1"), "concordance.counts", key)
    rel(counts.discordant, R(key .. ".counts.2"), "concordance.counts", key)
    rel(counts.tied_risk, R(key .. ".counts.3"), "concordance.counts", key)
    rel(counts.tied_time, R(key .. ".counts.4"), "concordance.counts", key)
    rel(counts.tied_both, R(key .. ".counts.5"), "concordance.counts", key)
  end
  check("conc.gbsg.nodes", sv.surv.concordance(t, e, gbsg:col("nodes")))
  check("conc.gbsg.size", sv.surv.concordance(t, e, gbsg:col("size")))
  check("conc.gbsg.nodes_meno", sv.surv.concordance(t, e, gbsg:col("nodes"), {strata = gbsg:col("meno")}))
  check("conc.rott.nodes", sv.surv.concordance(rott:col("rtime"), rott:col("recur"), rott:col("nodes")))
end)

T.test("invariants: permuting subjects changes nothing; group labels as strings or numbers", function()
  local t, e, g = gbsg:col("rfstime"), gbsg:col("status"), gbsg:col("grade")
  local n = #t
  local pt, pe, pg, sg = {}, {}, {}, {}
  for i = 1, n do
    local j = (i * 7919) % n + 1 -- 7919 is prime and does not divide 686
    pt[i], pe[i], pg[i] = t[j], e[j], g[j]
    sg[i] = "grade " .. math.tointeger(g[j])
  end
  local a = sv.surv.logrank(t, e, g)
  local b = sv.surv.logrank(pt, pe, pg)
  local c = sv.surv.logrank(pt, pe, sg)
  T.near(a.chisq, b.chisq, 1e-12 * a.chisq)
  T.near(a.chisq, c.chisq, 1e-12 * a.chisq)
  T.eq(c.groups[1], "grade 1")
  local k1, k2 = sv.surv.km(t, e), sv.surv.km(pt, pe)
  for i = 1, #k1.surv do T.eq(k1.surv[i], k2.surv[i]) end
end)

T.test("bad input raises errors naming the function and argument", function()
  local km = sv.surv.km
  T.raises(function() km({1, -2, 2}, {1, 1, 0}) end, "time[2]")
  T.raises(function() km({1, 0 / 0, 2}, {1, 1, 0}) end, "bad argument #1 to 'km'")
  T.raises(function() km({1, -1}, {1, 1}) end, "times must be finite and >= 0")
  -- R: survfit errors ("data set has no non-missing observations"); was NaN
  T.raises(function() km({}, {}) end, "bad argument #1 to 'km' (no observations")
  T.raises(function() km({1, 2}, {1, 2}) end, "event[2]")
  T.raises(function() km({1, 2, 3}, {1, 1}) end, "event has 2 values, time has 3")
  T.raises(function() km({1, 2}, {1, 1}, {conf_typ = "log"}) end, "unknown option 'conf_typ' to surv.km")
  T.raises(function() km({1, 2}, {1, 1}, {conf_type = "logit"}) end, "conf_type")
  T.raises(function() km({1, 2}, {1, 1}, {conf_level = 1}) end, "conf_level")
  T.raises(function() km({1, 2}, {1, 1}, {group = {1}}) end, "group has 1 values")
  T.raises(function() km({1, 2}, {1, 1}, {group = {1, "a"}}) end, "mixes numbers and strings")
  T.raises(function() sv.surv.logrank({1, 2, 3}, {1, 1, 0}, {1, 1, 1}) end, "only 1 group")
  T.raises(function() sv.surv.logrank({1, 2}, {1, 1}, {1, 2}, {rho = -1}) end, "rho")
  local many, ones, lab = {}, {}, {}
  for i = 1, 1001 do many[i], ones[i], lab[i] = i, 1, i / 7 end
  T.raises(function() sv.surv.logrank(many, ones, lab) end, "is group a continuous variable?")
  T.raises(function() sv.surv.pairwise(many, ones, lab) end, "at most 100 for pairwise")
  T.raises(function() sv.surv.cox({1, 2}, {1, 1}, {{1}, {2}, {3}}) end, "X has 3 rows, time has 2")
  T.raises(function() sv.surv.cox({1, 2}, {1, 1}, {{1}, {0 / 0}}) end, "X[2, 1] is not finite")
  T.raises(function() sv.surv.cox({1, 2}, {1, 1}, {{1}, {2}}, {ties = "exact"}) end, "ties")
  T.raises(function() sv.surv.concordance({1, 2}, {1, 1}, {1}) end, "risk has 1 values")
  T.raises(function() sv.surv.at(sv.surv.km({1, 2}, {1, 1}), {2, 1}) end, "ascending")
  T.raises(function() sv.surv.at({}, {1}) end, "not a curve from surv.km")
  T.raises(function() sv.surv.rmst({1, 2}, {1, 1}, -1) end, "tau")
end)

T.test("no events: KM stays at 1, log-rank has no test, Cox has no coefficient (as R)", function()
  local t, e = {1, 2, 3, 4, 5, 6}, {0, 0, 0, 0, 0, 0}
  local k = sv.surv.km(t, e)
  for i = 1, 6 do T.eq(k.surv[i], 1); T.eq(k.std_err[i], 0) end
  T.ok(k.median ~= k.median)
  T.eq(k.events, 0)
  local r = sv.surv.logrank(t, e, {1, 1, 1, 2, 2, 2})
  T.eq(r.chisq, 0)
  T.eq(r.df, 0)
  T.ok(r.p ~= r.p, "p is NaN (R: NA)")
  local f = sv.surv.cox(t, e, {{1}, {1}, {1}, {2}, {2}, {2}})
  T.ok(f.coef[1] ~= f.coef[1])
  T.eq(f.lrt, 0)
  T.eq(f.df, 0)
  T.ok(f.warnings[1]:find("no events", 1, true))
  local c = sv.surv.concordance(t, e, {1, 2, 3, 4, 5, 6})
  T.ok(c ~= c, "no comparable pairs: NaN (R: NaN)")
end)

T.test("S = 0 at the last time: std_err Inf and log / log-log limits NaN, as R", function()
  local k = sv.surv.km({1, 2, 3}, {1, 1, 1})
  T.eq(k.surv[3], 0)
  T.eq(k.std_err[3], math.huge)
  T.ok(k.lower[3] ~= k.lower[3] and k.upper[3] ~= k.upper[3])
  local a = sv.surv.at(k, {0.5, 3, 4})
  T.eq(a.surv[1], 1)
  T.eq(a.surv[2], 0)
  T.ok(a.surv[3] ~= a.surv[3], "past the last time: NaN")
  T.eq(a.n_risk[3], 0)
end)

T.done_hook = function()
  local names = {}
  for k in pairs(maxerr) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do print(("max rel err %-22s %.3g"):format(k, maxerr[k])) end
end
T.done_hook()
T.done()
