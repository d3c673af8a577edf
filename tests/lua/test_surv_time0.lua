-- test_surv_time0.lua - time 0 (a patient censored or dying on the day of
-- diagnosis) in Kaplan-Meier, RMST, the log-rank test and Cox, against
-- R's survival (tests/oracle/surv_time0_r.R -> tests/fixtures/surv/
-- time0_*.csv: 40 patients, 4 deaths and 2 censorings at time 0).
-- Regression: every sv.surv.* refused time 0, which R accepts.
local T = require "testing"
local sv = require "sylva"

local fix = T.root .. "/tests/fixtures/surv/"
local R = {}
for line in io.lines(fix .. "time0_scalars.csv") do
  local k, v = line:match("^([^,]+),(.*)$")
  if k ~= "key" then R[k] = v == "NA" and 0 / 0 or assert(tonumber(v), line) end
end
local d = sv.read_csv(fix .. "time0_data.csv")
local time, status, group = d:col("time"), d:col("status"), d:col("group")

local function near(a, b, what)
  if b ~= b then T.ok(a ~= a, what .. ": NaN expected, got " .. tostring(a)); return end
  T.near(a, b, 1e-10 * math.max(1, math.abs(b)), what)
end

T.test("Kaplan-Meier with deaths and censorings at time 0 equals survfit", function()
  local km = sv.surv.km(time, status)
  T.eq(#km.time, R["km.nrow"])
  T.eq(km.time[1], 0)
  for k = 1, #km.time do
    for _, f in ipairs{"time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"} do
      near(km[f][k], R["km." .. f .. "." .. k], "km." .. f .. "." .. k)
    end
  end
  near(km.median, R["km.median"], "median")
  near(km.median_lo, R["km.median_lo"], "median_lo")
  near(km.median_hi, R["km.median_hi"], "median_hi")
  near(sv.surv.rmst(time, status, 10).rmst, R["km.rmst10"], "rmst to 10")
end)

T.test("log-rank test with time-0 events equals survdiff", function()
  local lr = sv.surv.logrank(time, status, group)
  near(lr.chisq, R["lr.chisq"], "chisq")
  for g = 1, 2 do
    near(lr.observed[g], R["lr.obs." .. g], "observed")
    near(lr.expected[g], R["lr.exp." .. g], "expected")
  end
end)

T.test("Cox with time-0 events equals coxph (Efron and Breslow)", function()
  local X = d:matrix({"x", "group"})
  for _, ties in ipairs{"efron", "breslow"} do
    local fit = sv.surv.cox(time, status, X, {ties = ties})
    for j = 1, 2 do
      near(fit.coef[j], R["cox." .. ties .. ".coef." .. j], ties .. " coef")
      near(fit.se[j], R["cox." .. ties .. ".se." .. j], ties .. " se")
    end
    near(fit.loglik[1], R["cox." .. ties .. ".loglik.1"], ties .. " loglik 1")
    near(fit.loglik[2], R["cox." .. ties .. ".loglik.2"], ties .. " loglik 2")
  end
end)

T.done()
