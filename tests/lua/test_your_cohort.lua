-- test_your_cohort.lua - a second cohort with another design runs from a
-- spec and its encodings alone (docs/your-cohort.md): a registry export of
-- R's survival::rotterdam with long column names, words and codes for
-- values, missing-value codes, a binary outcome derived from four columns,
-- two "centres" cut from one file by row filters (one encoding extending
-- the other), and a task that cannot run. The counts are R's
-- (tests/oracle/export_registry.R -> tests/fixtures/your_cohort/counts.csv).
local T = require "testing"
local sv = require "sylva"

local out = T.tmp .. "/your_cohort"
os.execute(("rm -rf %q"):format(out))
local res = sv.study.run(T.root .. "/examples/your-cohort/study.lua",
  {out = out, threads = 2, quick = true, log = false})
local by = {}
for _, t in ipairs(res.tasks) do by[t.id] = t end

local oracle = {}
for _, row in ipairs(T.read_fixture_rows(T.root .. "/tests/fixtures/your_cohort/counts.csv")) do oracle[row.period] = row end

T.test("the 5-year task runs; its counts by period equal R's", function()
  T.eq(by.event5.status, "done", tostring(by.event5.reason))
  for _, c in ipairs(by.event5.counts) do
    local o = oracle[c.centre]
    T.ok(o ~= nil, "period " .. c.centre)
    T.eq(c.n, o.n, c.centre .. " patients kept by the row filter")
    T.eq(c.filtered, 2982 - o.n, c.centre .. " rows filtered out")
    T.eq(c.missing, o.missing, c.centre .. " without a 5-year label")
    T.eq(c.positive, o.positive, c.centre .. " events within 5 years")
    T.eq(c.used - c.positive, o.negative, c.centre .. " event-free beyond 5 years")
  end
end)

T.test("registry codes 'Unknown', 'n.d.', 'not assessed' are missing values, counted", function()
  local dev, ext = by.event5.ctx.dev, by.event5.ctx.externals[1]
  T.eq(dev.d.missing.postmenopausal, oracle["1978-1988"].unknown_menopause)
  T.eq(ext.d.missing.postmenopausal, oracle["1989-1993"].unknown_menopause)
end)

T.test("the HER2 task the registry never recorded is skipped, and the report says so", function()
  T.eq(by.her2.status, "skipped")
  T.ok(by.her2.reason:find("no patients", 1, true) ~= nil, by.her2.reason)
  local md = T.read_file(out .. "/report.md")
  T.ok(md:find("| her2 | HER2-positive vs HER2-negative | skipped |", 1, true) ~= nil, "tasks table")
  T.ok(md:find("Kaplan-Meier curves of EFS", 1, true) ~= nil, "the finished task's survival figure")
end)

T.test("survival: every later patient with a follow-up; blank recurrence fields left out and counted", function()
  local s, o = by.event5.ctx.survival, oracle["1989-1993"]
  T.eq(s.missing, o.blank_recurrence)
  T.eq(s.n, o.n - o.blank_recurrence)
  local md = T.read_file(out .. "/report.md")
  T.ok(md:find(("Note: %d patients with missing 'efs_years' or 'efs_event' left out"):format(o.blank_recurrence), 1, true),
       "the report counts them")
end)

T.test("the model discriminates in the later period as such models do", function()
  -- prognostic models on these variables reach C ~ 0.65-0.72 (Royston &
  -- Altman 2013); outside [0.6, 0.85] something is broken
  for _, s in ipairs(by.event5.sets) do
    T.ok(s.auc > 0.6 and s.auc < 0.85, ("%s AUC %.3f"):format(s.name, s.auc))
  end
  T.ok(by.event5.hr > 1.5, "high score, higher hazard")
end)

T.done()
