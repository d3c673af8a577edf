-- test_breast_recurrence.lua - the real-data study (Rotterdam -> GBSG) runs
-- end to end in quick mode; its cohort counts equal those computed
-- independently in R, and its AUCs and hazard ratio are in the range the
-- literature reports for these cohorts.
local T = require "testing"

local root, tmp = T.root, T.tmp
local bin = os.getenv("SYLVA_BIN") or "sylva"

local json_decode = T.json_decode

local out = tmp .. "/breast_recurrence"
os.execute(("rm -rf %q"):format(out))
local ok = os.execute(("cd %q && SOURCE_DATE_EPOCH=0 SYLVA_QUICK=1 SYLVA_THREADS=2 SYLVA_OUT=%q %q examples/breast-recurrence/study.lua > %q 2>&1")
  :format(root, out, bin, out .. ".log"))

T.test("the study runs and writes its report", function()
  T.ok(ok, "study failed, see " .. out .. ".log")
  for _, f in ipairs({"report.html", "report.md", "report.json", "tables/cohorts.csv", "tables/table1.csv",
                      "tables/discrimination.csv", "tables/survival.csv", "tables/shap_ranking.csv"}) do
    local h = io.open(out .. "/" .. f, "rb")
    T.ok(h ~= nil, f .. " exists")
    if h then h:close() end
  end
end)

T.test("cohort counts equal R's (node-positive Rotterdam, conservative RFS, 5-year label)", function()
  local r = json_decode(T.read_file(out .. "/report.json"))
  local c = {}
  for _, row in ipairs(r.values.cohorts) do c[row.cohort] = row end
  -- Rscript: r <- subset(rotterdam, nodes > 0); ignore <- recur == 0 & death == 1 & rtime < dtime;
  -- rfs <- ifelse(recur == 1 | ignore, recur, death); t <- ifelse(recur == 1 | ignore, rtime, dtime);
  -- h <- 5 * 365.25: sum(rfs == 0 & t <= h) = 67, sum(rfs == 1 & t <= h) = 853, sum(t > h) = 626;
  -- gbsg: 280 excluded, 285 events, 121 event-free beyond 5 years
  T.eq(c.Rotterdam.patients, 1546)
  T.eq(c.Rotterdam.censored_before_5y_excluded, 67)
  T.eq(c.Rotterdam.events_by_5y, 853)
  T.eq(c.Rotterdam.event_free_beyond_5y, 626)
  T.eq(c.GBSG.patients, 686)
  T.eq(c.GBSG.censored_before_5y_excluded, 280)
  T.eq(c.GBSG.events_by_5y, 285)
  T.eq(c.GBSG.event_free_beyond_5y, 121)
end)

T.test("discrimination and risk groups are where these cohorts put them", function()
  local r = json_decode(T.read_file(out .. "/report.json"))
  for _, d in ipairs(r.values.discrimination) do
    -- Prognostic models on these variables reach C ~ 0.65-0.72 in GBSG
    -- (Royston & Altman 2013); a forest outside [0.6, 0.85] is broken.
    T.ok(d.auc > 0.6 and d.auc < 0.85, ("%s AUC %.3f"):format(d.set, d.auc))
    T.ok(d.auc_lo < d.auc and d.auc < d.auc_hi, d.set .. " CI brackets the AUC")
  end
  local s = r.values.survival
  T.eq(s.n, 686, "every GBSG patient in the survival analysis")
  T.ok(s.hr > 1.5 and s.logrank_p < 1e-6, ("high risk, higher hazard: HR %.2f, p %.2g"):format(s.hr, s.logrank_p))
  T.eq(r.values.shap_ranking[1].feature, "nodes", "positive nodes rank first")
end)

T.done()
