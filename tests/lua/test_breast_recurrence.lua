-- test_breast_recurrence.lua - the real-data study (Rotterdam -> GBSG), a
-- spec and two encodings run by `sylva study` in quick mode: no prep script.
-- Its cohort counts (row filter, derived 5-year label, patients left out for
-- a missing label) equal those computed independently in R, and its AUCs
-- and hazard ratio are in the range the literature reports for these cohorts.
local T = require "testing"

local root, tmp = T.root, T.tmp
local bin = os.getenv("SYLVA_BIN") or "sylva"

local json_decode = T.json_decode

local out = tmp .. "/breast_recurrence"
os.execute(("rm -rf %q"):format(out))
local ok = os.execute(("cd %q && SOURCE_DATE_EPOCH=0 %q study examples/breast-recurrence/study.lua --quick --threads 2 --out %q > %q 2>&1")
  :format(root, bin, out, out .. ".log"))

T.test("the study runs from its spec and writes its report", function()
  T.ok(ok, "study failed, see " .. out .. ".log")
  for _, f in ipairs({"report.html", "report.md", "report.json", "tables/recur5_patients.csv", "tables/recur5_table1.csv",
                      "tables/recur5_discrimination.csv", "tables/recur5_survival.csv", "tables/recur5_predictions.csv"}) do
    local h = io.open(out .. "/" .. f, "rb")
    T.ok(h ~= nil, f .. " exists")
    if h then h:close() end
  end
end)

T.test("cohort counts equal R's (node-positive Rotterdam, conservative RFS, 5-year label)", function()
  local r = json_decode(T.read_file(out .. "/report.json"))
  local c = {}
  for _, row in ipairs(r.values.recur5.patients) do c[row.centre] = row end
  -- Rscript: r <- subset(rotterdam, nodes > 0); ignore <- recur == 0 & death == 1 & rtime < dtime;
  -- rfs <- ifelse(recur == 1 | ignore, recur, death); t <- ifelse(recur == 1 | ignore, rtime, dtime);
  -- h <- 5 * 365.25: sum(rfs == 0 & t <= h) = 67, sum(rfs == 1 & t <= h) = 853, sum(t > h) = 626;
  -- nrow(rotterdam) - nrow(r) = 2982 - 1546 = 1436 node-negative rows filtered;
  -- gbsg: 280 excluded, 285 events, 121 event-free beyond 5 years
  T.eq(c.Rotterdam.filtered, 1436)
  T.eq(c.Rotterdam.n, 1546)
  T.eq(c.Rotterdam.missing, 67)
  T.eq(c.Rotterdam.positive, 853)
  T.eq(c.Rotterdam.used - c.Rotterdam.positive, 626)
  T.eq(c.GBSG.n, 686)
  T.eq(c.GBSG.missing, 280)
  T.eq(c.GBSG.positive, 285)
  T.eq(c.GBSG.used - c.GBSG.positive, 121)
end)

T.test("discrimination and risk groups are where these cohorts put them", function()
  local r = json_decode(T.read_file(out .. "/report.json"))
  for _, d in ipairs(r.values.recur5.discrimination) do
    -- Prognostic models on these variables reach C ~ 0.65-0.72 in GBSG
    -- (Royston & Altman 2013); a forest outside [0.6, 0.85] is broken.
    T.ok(d.auc > 0.6 and d.auc < 0.85, ("%s AUC %.3f"):format(d.set, d.auc))
    T.ok(d.auc_lo < d.auc and d.auc < d.auc_hi, d.set .. " CI brackets the AUC")
  end
  local s = r.values.recur5.survival
  T.eq(s.n, 686, "every GBSG patient in the survival analysis")
  T.ok(s.hr > 1.5 and s.logrank_p < 1e-6, ("high risk, higher hazard: HR %.2f, p %.2g"):format(s.hr, s.logrank_p))
  T.eq(r.values.recur5.shap_ranking[1].feature, "nodes", "positive nodes rank first")
end)

T.done()
